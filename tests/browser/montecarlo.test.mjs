// Browser tests of the Monte Carlo Web Worker and the selection's plots: run 20 seeds of the
// Southern California preset in the worker, watch the progress bar move while the page keeps
// answering frames and clicks, compare the leak probability with the native figures
// (`montecarlo-socal.json`, checked against `sim_core::montecarlo::run`, i.e. `mdsim
// montecarlo`, by a native test in web-app/src/montecarlo.rs); cancel a long job; select the
// missile and see its altitude plot, the same after scrubbing away and back; import a scenario
// that is no preset and get its own native figures.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { recordResults, viewOf, project, startApp, stopApp, frameIntervals } from './harness.mjs';

const NATIVE = JSON.parse(readFileSync(new URL('./montecarlo-socal.json', import.meta.url), 'utf8'));
// A scenario that is no preset, and its native figures (`montecarlo-import.json`, checked
// against `mdsim montecarlo`'s runs by a native test in web-app/src/montecarlo.rs).
const IMPORTED = JSON.parse(readFileSync(new URL('./montecarlo-import.json', import.meta.url), 'utf8'));

let relay;
let chrome;
let session;

before(async () => {
  ({ relay, chrome, session } = await startApp());
});

after(() => stopApp({ relay, chrome, session }));

async function mcState(page) {
  return page.evaluate(() => {
    const p = document.querySelector('#mc-progress').dataset;
    const r = document.querySelector('#mc-result')?.dataset ?? {};
    return {
      phase: document.querySelector('#mc-status').dataset.phase,
      done: Number(p.done), runs: Number(p.runs),
      leaked: r.leaked, trials: r.trials, estimate: r.leakEstimate, low: r.leakLow, high: r.leakHigh,
      interceptors: r.interceptors, runsPerS: Number(r.runsPerS),
    };
  });
}

async function setRuns(page, n) {
  await page.fill('#mc-runs', String(n));
  await page.press('#mc-runs', 'Tab');
}

test('20 seeds of the SoCal preset in the worker: progress, responsive page, native figures', async () => {
  const { page } = session;
  await page.selectOption('#preset', 'socal-scud-c');
  if ((await page.getAttribute('#sim-time', 'data-playing')) === 'true') await page.click('#play');
  await page.click('#mc-open');
  await setRuns(page, NATIVE.runs);
  // Every value the progress bar shows, recorded in the page as it changes: the worker can
  // now finish 20 runs between two of this test's polls.
  await page.evaluate(() => {
    const bar = document.querySelector('#mc-progress');
    window.__mcProgressSeen = [Number(bar.dataset.done)];
    new MutationObserver(() => window.__mcProgressSeen.push(Number(bar.dataset.done)))
      .observe(bar, { attributes: true, attributeFilter: ['data-done'] });
  });
  // The worker (its loader, glue and wasm) is not part of the first load: nothing of it was
  // requested while the page opened, chose a preset and opened the panel.
  const early = session.requests.filter((u) => /mc-worker/.test(new URL(u).pathname));
  assert.deepEqual(early, [], 'the worker was requested before Monte Carlo started');
  await page.click('#mc-run');
  await page.waitForFunction(() => performance.getEntriesByType('resource')
    .some((e) => new URL(e.name).pathname.endsWith('/mc-worker_loader.js')), null, { timeout: 30_000 });

  // While the worker runs: frame intervals in the page, clicks answered, progress values seen.
  const seen = new Set();
  const frames = [];
  const clickDelays = [];
  const t0 = Date.now();
  for (;;) {
    const s = await mcState(page);
    seen.add(s.done);
    if (s.phase === 'done' || s.phase === 'failed') break;
    assert.ok(Date.now() - t0 < 900_000, `the job did not finish: ${JSON.stringify(s)}`);
    if (s.phase === 'running' && s.done < s.runs) {
      // One second of animation frames as the page sees them.
      frames.push(...await frameIntervals(page, 1000));
      // A click on a panel's fold button is answered in the DOM at once.
      const before = await page.getAttribute('#event-log .fold', 'aria-expanded');
      const c0 = Date.now();
      await page.click('#event-log .fold');
      await page.waitForFunction((b) => document.querySelector('#event-log .fold').getAttribute('aria-expanded') !== b,
        before, { timeout: 2_000 });
      clickDelays.push(Date.now() - c0);
    } else {
      await page.waitForTimeout(200);
    }
  }
  const wall = (Date.now() - t0) / 1000;
  // Leave the event log open, as it was.
  if ((await page.getAttribute('#event-log .fold', 'aria-expanded')) === 'false') await page.click('#event-log .fold');
  const s = await mcState(page);
  assert.equal(s.phase, 'done', JSON.stringify(s));
  assert.equal(s.done, NATIVE.runs);
  // The bar moved through intermediate values, not straight from 0 to 20.
  for (const d of await page.evaluate(() => window.__mcProgressSeen)) seen.add(d);
  const middle = [...seen].filter((d) => d > 0 && d < NATIVE.runs);
  assert.ok(middle.length >= 2, `progress values seen: ${[...seen]}`);
  // The same figures as the native Monte Carlo (same scenario, seeds 1-20).
  assert.equal(Number(s.leaked), NATIVE.leaked);
  assert.equal(Number(s.trials), NATIVE.trials);
  assert.equal(s.estimate, NATIVE.leak_estimate);
  assert.equal(s.low, NATIVE.leak_low);
  assert.equal(s.high, NATIVE.leak_high);
  assert.equal(Number(s.interceptors), NATIVE.interceptors);
  // The histograms are drawn.
  assert.equal(Number(await page.getAttribute('#mc-hist-leakers', 'data-total')), NATIVE.runs);
  if (NATIVE.kills > 0) {
    assert.equal(Number(await page.getAttribute('#mc-hist-altitude', 'data-total')), NATIVE.kills);
  }
  // Their axes read as a user reads them: round values, none repeated (not "30 30 30 31 31
  // 31"), in order, the unit on the last.
  const axis = async (figure, unit) => {
    const labels = await page.getByRole('figure', { name: figure })
      .getByRole('list').getByRole('listitem').allTextContents();
    assert.ok(labels.length >= 1 && labels.length <= 5, `${figure}: ${labels}`);
    assert.equal(new Set(labels).size, labels.length, `${figure}: repeated labels ${labels}`);
    assert.ok(labels.at(-1).endsWith(` ${unit}`), `${figure}: no unit in ${labels}`);
    const values = labels.map((l) => Number(l.split(' ')[0]));
    assert.ok(values.every(Number.isFinite) && values.every((v, i) => i === 0 || v > values[i - 1]),
      `${figure}: ${labels}`);
    return labels;
  };
  const leakerLabels = await axis(/^Leakers per run/, 'leakers');
  assert.ok(leakerLabels.every((l) => /^\d+( leakers)?$/.test(l)), `${leakerLabels}`);
  if (NATIVE.kills > 0) {
    console.log('intercept altitude axis:', (await axis(/^Intercept altitude/, 'km')).join(' | '));
  }
  // The page stayed responsive.
  assert.ok(frames.length > 20, `only ${frames.length} frames while the worker ran`);
  const sorted = [...frames].sort((a, b) => a - b);
  const q = (f) => sorted[Math.min(sorted.length - 1, Math.floor(f * sorted.length))];
  assert.ok(clickDelays.length > 0 && Math.max(...clickDelays) < 1_000, `click delays ${clickDelays}`);
  const result = {
    runs: s.done,
    runs_per_s: s.runsPerS,
    wall_s: Number(wall.toFixed(1)),
    leak: `${s.leaked}/${s.trials} = ${s.estimate} (${s.low}-${s.high})`,
    frame_p50_ms_while_running: Number(q(0.5).toFixed(1)),
    frame_p95_ms_while_running: Number(q(0.95).toFixed(1)),
    frame_max_ms_while_running: Number(sorted[sorted.length - 1].toFixed(1)),
    click_delay_max_ms: Math.max(...clickDelays),
  };
  recordResults({ montecarlo_socal_20: result });
  console.log('Monte Carlo in the worker:', JSON.stringify(result));
});

test('a long job can be cancelled', async () => {
  const { page } = session;
  await setRuns(page, 1000);
  await page.click('#mc-run');
  await page.waitForFunction(() => Number(document.querySelector('#mc-progress').dataset.done) >= 1,
    null, { timeout: 120_000 });
  await page.click('#mc-cancel');
  await page.waitForFunction(() => document.querySelector('#mc-status').dataset.phase === 'cancelled');
  const done = (await mcState(page)).done;
  assert.ok(done >= 1 && done < 1000);
  await page.waitForTimeout(3_000);
  assert.equal((await mcState(page)).done, done, 'no run arrives after the cancel');
  assert.match(await page.textContent('#mc-status'), /Cancelled after \d+ of 1000 runs/);
});

test('Monte Carlo runs an imported scenario, not the preset chosen before it', async () => {
  const { page } = session;
  await page.selectOption('#preset', 'socal-scud-c');
  const text = readFileSync(new URL('./montecarlo-import.scenario.json', import.meta.url));
  await page.setInputFiles('#import-scenario', { name: 'mojave.json', mimeType: 'application/json', buffer: text });
  await page.locator('#share-panel .share-info').waitFor();
  assert.match(await page.textContent('#share-panel .share-info'), /Opened mojave\.json/);
  if ((await page.getAttribute('#sim-time', 'data-playing')) === 'true') await page.click('#play');
  if ((await page.getAttribute('#mc-open', 'aria-expanded')) !== 'true') await page.click('#mc-open');
  await setRuns(page, IMPORTED.runs);
  await page.click('#mc-run');
  await page.waitForFunction(() => ['done', 'failed'].includes(document.querySelector('#mc-status').dataset.phase),
    null, { timeout: 300_000 });
  const s = await mcState(page);
  assert.equal(s.phase, 'done', JSON.stringify(s));
  assert.equal(s.done, IMPORTED.runs);
  assert.equal(await page.getAttribute('#mc-scenario', 'data-name'), IMPORTED.scenario);
  // The native figures of the file (seeds 7-14), not the SoCal preset's.
  assert.equal(Number(s.leaked), IMPORTED.leaked);
  assert.equal(Number(s.trials), IMPORTED.trials);
  assert.equal(s.estimate, IMPORTED.leak_estimate);
  assert.equal(s.low, IMPORTED.leak_low);
  assert.equal(s.high, IMPORTED.leak_high);
  assert.equal(Number(s.interceptors), IMPORTED.interceptors);
});

test('the selected missile has altitude, speed and SNR plots that follow the timeline', async () => {
  const { page } = session;
  await page.selectOption('#preset', 'socal-scud-c');
  await page.selectOption('#speed', '64');
  if ((await page.getAttribute('#sim-time', 'data-playing')) !== 'true') await page.click('#play');
  const apogee = page.locator('.log-line[data-kind="apogee"]');
  await apogee.waitFor({ state: 'attached', timeout: 120_000 });
  if ((await page.getAttribute('#sim-time', 'data-playing')) === 'true') await page.click('#play');
  const tick = Number(await apogee.getAttribute('data-tick')) + 1;
  const scrub = async (t) => {
    await page.evaluate((t) => {
      const el = document.querySelector('#timeline');
      el.value = String(t);
      el.dispatchEvent(new Event('input', { bubbles: true }));
    }, t);
    await page.waitForFunction((t) => Number(document.querySelector('#sim-time').dataset.tick) === t, t);
  };
  await scrub(tick);
  await page.keyboard.press('0');
  await page.waitForTimeout(100);
  const view = await viewOf(page);
  const at = project(view, Number(await apogee.getAttribute('data-lat')), Number(await apogee.getAttribute('data-lon')));
  await page.mouse.click(at.x + 2, at.y + 2);
  await page.locator('#selection').waitFor();
  const alt = page.locator('#plots #plot-altitude');
  await alt.waitFor();
  assert.equal(await page.getAttribute('#plots', 'data-missile'), '1');
  // Near the apogee: tens of samples, the last one the current altitude (km).
  const points = Number(await alt.getAttribute('data-points'));
  assert.ok(points > 10, `${points} points`);
  const lastKm = Number(await alt.getAttribute('data-last'));
  const selAltKm = Number(await page.getAttribute('#selection', 'data-alt')) / 1000;
  assert.ok(Math.abs(lastKm - selAltKm) < 0.01, `plot ${lastKm} km, selection ${selAltKm} km`);
  assert.ok(lastKm > 100, `${lastKm} km at the apogee`);
  // Axes labelled with units, and ticks.
  assert.match(await alt.textContent(), /Altitude \(km\)/);
  assert.match(await alt.textContent(), /time \(s\)/);
  assert.ok(await alt.locator('.plot-tick').count() >= 4);
  assert.ok(Number(await page.getAttribute('#plot-speed', 'data-points')) > 10);
  // The radar has looked at the missile by its apogee: one SNR series, named after it.
  assert.equal(await page.getAttribute('#plot-snr', 'data-series'), '1');
  assert.match(await page.textContent('#plot-snr'), /RAD_VBG/);
  const shape = await page.getAttribute('#plot-altitude path.plot-line', 'd');
  // Scrub back: fewer points; forward again: the very same curve.
  await scrub(Math.floor(tick / 2));
  await page.waitForFunction((p) => Number(document.querySelector('#plot-altitude')?.dataset.points) < p, points);
  await scrub(tick);
  await page.waitForFunction((p) => Number(document.querySelector('#plot-altitude')?.dataset.points) === p, points);
  assert.equal(await page.getAttribute('#plot-altitude path.plot-line', 'd'), shape);
  await page.locator('#selection button').click();
  assert.equal(await page.locator('#plots').count(), 0);
});

test('no request leaves 127.0.0.1 and no error is logged', async () => {
  const { requests, errors } = session;
  assert.ok(requests.some((u) => u.endsWith('/mc-worker_loader.js')), 'the worker was loaded');
  for (const url of requests) {
    assert.equal(new URL(url).hostname, '127.0.0.1', `request left loopback: ${url}`);
  }
  assert.deepEqual(errors, []);
});
