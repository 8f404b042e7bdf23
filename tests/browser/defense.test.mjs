// The defence in the browser, end to end: place a radar, a battery and a defended asset by
// clicking, launch a SCUD-C by clicking, play at 64x, and see the kill chain in the log
// (detection, engagement ordered, interceptor launched, intercept), the interceptor on the map
// with its fly-out and hover label, the explanation of the engagement (the battery with its Pk)
// from the log, from the interceptor and from its kill marker, and the defence counters. Then
// the Southern California preset: its two batteries and Los Angeles are on the map, the SCUD-C
// is killed, a battery is dragged, the doctrine changed and a battery deleted. Set
// MDSIM_SCREENSHOTS=<dir> to save docs/screenshot-defense.png's picture there.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { viewOf, project, startApp, stopApp } from './harness.mjs';

const LAUNCH = { lat: 36.5, lon: -123.1 };
const LA = { lat: 34.05, lon: -118.25 };
const VANDENBERG = { lat: 34.73, lon: -120.57 };
const CENTRE = { lat: 35.3, lon: -120.9 };

let relay;
let chrome;
let session;

before(async () => {
  ({ relay, chrome, session } = await startApp());
});

after(() => stopApp({ relay, chrome, session }));

/** Pans `at` to about the middle of the map, then zooms around it to `minScale` px/deg. */
async function centreOn(page, at, minScale) {
  // The map's keys are ignored while a form field has the focus.
  await page.evaluate(() => document.activeElement?.blur());
  let view = await viewOf(page);
  const p0 = project(view, at.lat, at.lon);
  const dx = view.box.x + view.box.width / 2 - p0.x;
  const dy = view.box.y + view.box.height / 2 - p0.y;
  for (let i = 0; i < Math.round(Math.abs(dx) / 100); i++) {
    await page.keyboard.press(dx > 0 ? 'ArrowLeft' : 'ArrowRight');
  }
  for (let i = 0; i < Math.round(Math.abs(dy) / 100); i++) {
    await page.keyboard.press(dy > 0 ? 'ArrowUp' : 'ArrowDown');
  }
  await page.waitForTimeout(100);
  for (let i = 0; i < 40; i++) {
    view = await viewOf(page);
    if (view.scale >= minScale) return view;
    const p = project(view, at.lat, at.lon);
    await page.mouse.move(p.x, p.y);
    const before = await page.getAttribute('#map', 'data-view');
    // Coarse steps first, then fine ones so as not to overshoot.
    await page.mouse.wheel(0, view.scale * 1.8 < minScale ? -300 : -60);
    await page.waitForFunction((b) => document.querySelector('#map').dataset.view !== b, before);
    await page.waitForTimeout(30);
  }
  return viewOf(page);
}

async function scrub(page, tick) {
  await page.evaluate((t) => {
    const el = document.querySelector('#timeline');
    el.value = String(t);
    el.dispatchEvent(new Event('input', { bubbles: true }));
  }, tick);
  await page.waitForFunction((t) => Number(document.querySelector('#sim-time').dataset.tick) === t, tick);
}

async function defenseCounters(page) {
  return page.evaluate(() => {
    const d = document.querySelector('#defense-counters')?.dataset ?? {};
    return {
      ordered: Number(d.interceptsOrdered ?? 0), fires: Number(d.batteryFires ?? 0),
      kills: Number(d.successfulIntercepts ?? 0), misses: Number(d.misses ?? 0),
      leakers: Number(d.leakers ?? 0), roundsLeft: Number(d.roundsLeft ?? -1),
    };
  });
}

async function setFolded(page, panel, folded) {
  const open = (await page.getAttribute(`${panel} .fold`, 'aria-expanded')) === 'true';
  if (open === folded) await page.click(`${panel} .fold`);
}

test('a radar, a battery and an asset placed by clicking engage a SCUD-C, and the engagement is explained', async () => {
  const { page } = session;
  const view = await centreOn(page, CENTRE, 45);
  const at = (p) => project(view, p.lat, p.lon);
  const map = await page.locator('#map').boundingBox();
  for (const [name, p] of [['launch', LAUNCH], ['radar', VANDENBERG], ['LA', LA]]) {
    const s = at(p);
    // Clear of the left panels (folded) and of the event log on the right.
    assert.ok(s.x > map.x + 300 && s.x < map.x + map.width - 390 && s.y > map.y + 140 && s.y < map.y + map.height - 140,
      `${name} at ${JSON.stringify(s)} in ${JSON.stringify(map)} (view ${JSON.stringify(view)})`);
  }

  // A TPY-2 at Vandenberg facing the launch area.
  await setFolded(page, '#radar-panel', false);
  await page.click('#radar-mode');
  await page.selectOption('#radar-type', 'AN/TPY-2');
  await page.fill('#radar-call-sign', 'RAD_TEST');
  await page.press('#radar-call-sign', 'Tab');
  await page.fill('#radar-boresight', '315');
  await page.press('#radar-boresight', 'Tab');
  await page.mouse.click(at(VANDENBERG).x, at(VANDENBERG).y);
  await page.locator('#radar-layer g.radar').first().waitFor();

  // An SM-6 battery at Los Angeles.
  await setFolded(page, '#defense-panel', false);
  await page.click('#battery-mode');
  assert.equal(await page.getAttribute('#battery-mode', 'aria-pressed'), 'true');
  assert.equal(await page.getAttribute('#radar-mode', 'aria-pressed'), 'false');
  await page.selectOption('#battery-type', 'SM-6');
  await page.fill('#battery-call-sign', 'BAT_TEST');
  await page.press('#battery-call-sign', 'Tab');
  await page.fill('#battery-rounds', '8');
  await page.press('#battery-rounds', 'Tab');
  await page.mouse.click(at(LA).x, at(LA).y);
  const battery = page.locator('#defense-layer g.battery');
  await battery.first().waitFor();
  assert.equal(await battery.getAttribute('data-call-sign'), 'BAT_TEST');
  assert.equal(await battery.getAttribute('data-kind'), 'SM-6');
  assert.equal(await battery.getAttribute('data-rounds'), '8');
  // The engagement footprint: the SM-6's planned fly-out (150 s) reaches about 135 km on the
  // ground, inside its 240 km envelope.
  const engageKm = Number(await battery.getAttribute('data-engage-km'));
  assert.ok(engageKm > 100 && engageKm < 170, `footprint ${engageKm} km`);
  assert.equal(await battery.getAttribute('data-envelope-km'), '240');
  assert.ok((await battery.locator('path.engagement').getAttribute('d')).length > 100);
  await page.locator('.log-line[data-kind="battery-placed"]').waitFor();
  await page.locator('#battery-editor[data-call-sign="BAT_TEST"]').waitFor();

  // Los Angeles as the defended asset (30 km).
  await page.click('#asset-mode');
  await page.fill('#asset-name', 'Los Angeles');
  await page.press('#asset-name', 'Tab');
  await page.fill('#asset-radius', '30');
  await page.press('#asset-radius', 'Tab');
  await page.mouse.click(at(LA).x, at(LA).y);
  const asset = page.locator('#defense-layer g.asset');
  await asset.first().waitFor();
  assert.equal(await asset.getAttribute('data-name'), 'Los Angeles');
  assert.equal(await asset.getAttribute('data-radius-km'), '30.0');
  await page.click('#asset-mode'); // tool off
  await setFolded(page, '#defense-panel', true);

  // Launch a SCUD-C from off Big Sur at Los Angeles, by clicking, and play at 64x.
  await page.selectOption('#missile-type', 'SCUD-C');
  await page.click('#launch-mode');
  assert.equal(await page.getAttribute('#defense-panel #battery-mode', 'aria-pressed'), 'false');
  await page.mouse.click(at(LAUNCH).x, at(LAUNCH).y);
  await page.mouse.click(at(LA).x, at(LA).y);
  await page.click('#launch-mode');
  await page.selectOption('#speed', '64');
  for (const kind of ['launch', 'detection', 'track-confirmed', 'engagement-ordered', 'interceptor-launched', 'intercept']) {
    await page.locator(`.log-line[data-kind="${kind}"]`).first().waitFor({ timeout: 90_000 });
  }
  // The flight ends (killed or landed): the player stops by itself.
  await page.waitForFunction(() => document.querySelector('#sim-time').dataset.playing === 'false',
    null, { timeout: 90_000 });
  const c = await defenseCounters(page);
  console.log(`defence counters: ${JSON.stringify(c)}`);
  assert.ok(c.ordered >= 1 && c.fires >= 1 && c.kills + c.misses >= 1, JSON.stringify(c));
  assert.equal(c.roundsLeft, 8 - c.fires);
  assert.equal(await battery.getAttribute('data-rounds'), String(8 - c.fires));
  const ended = await page.locator('#defense-layer path.intercept-kill, #defense-layer path.intercept-miss').count();
  assert.equal(ended, c.kills + c.misses);

  // The log line of the order opens the explanation: the battery with its Pk and intercept time.
  await page.locator('.log-line[data-kind="engagement-ordered"] button').first().click();
  const explanation = page.locator('#explanation');
  await explanation.waitFor();
  assert.equal(await explanation.getAttribute('data-battery'), 'BAT_TEST');
  const row = explanation.locator('tr.alternative[data-battery="BAT_TEST"]');
  assert.equal(await row.getAttribute('data-status'), 'Chosen');
  const pk = Number(await row.getAttribute('data-pk'));
  assert.ok(pk > 0.3 && pk <= 1, `Pk ${pk}`);
  assert.match(await explanation.textContent(), /threatens Los Angeles/);
  assert.match(await row.textContent(), /BAT_TEST\s*T\+\d+ s\s*0\.\d\d\s*chosen/);
  await explanation.locator('button[aria-label="Close the explanation"]').click();
  assert.equal(await explanation.count(), 0);

  // Back in time while the first interceptor flies: it is on the map with its fly-out; the
  // hover label names it and a click selects it and explains why it was fired.
  const launched = Number(await page.getAttribute('.log-line[data-kind="interceptor-launched"]', 'data-tick'));
  const endTick = Number(await page.getAttribute('.log-line[data-kind="intercept"]', 'data-tick'));
  const mid = Math.round((launched + endTick) / 2);
  await scrub(page, mid);
  const icpt = page.locator('#defense-layer circle.interceptor').first();
  await icpt.waitFor();
  assert.ok((await page.locator('#defense-layer path.fly-out-path').first().getAttribute('d')).length > 10);
  const box = await icpt.boundingBox();
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  await page.mouse.move(cx + 1, cy + 1);
  const hover = page.locator('#defense-hover');
  await hover.waitFor();
  assert.match(await hover.textContent(), /I\d+ SM-6 from BAT_TEST/);
  await page.mouse.click(cx + 1, cy + 1);
  await explanation.waitFor();
  assert.equal(await explanation.getAttribute('data-battery'), 'BAT_TEST');
  assert.ok(await explanation.locator('.fired li.selected').count() === 1);
  assert.match(await explanation.locator('.fired li.selected').textContent(), /in flight/);

  // The click also selected it like a missile: ringed on the map, its readout, and its
  // altitude and speed against time (no SNR: radars track missiles, not interceptors).
  const icptId = await icpt.getAttribute('data-interceptor');
  await page.locator(`#selection[data-interceptor="${icptId}"]`).waitFor();
  assert.match(await page.textContent('#selection'), new RegExp(`I${icptId} SM-6 from BAT_TEST`));
  assert.equal(await page.locator(`#defense-layer g.fly-out.selected[data-interceptor="${icptId}"] circle.selection-ring`).count(), 1);
  const plots = page.locator(`#plots[data-interceptor="${icptId}"]`);
  await plots.waitFor();
  assert.equal(await page.getAttribute('#plots', 'data-missile'), null);
  const altPoints = Number(await page.getAttribute('#plot-altitude', 'data-points'));
  assert.ok(altPoints > 2, `${altPoints} altitude points`);
  assert.ok((await page.getAttribute('#plot-altitude path.plot-line', 'd')).length > 20);
  const altKm = Number(await page.getAttribute('#plot-altitude', 'data-last'));
  assert.ok(Math.abs(altKm - Number(await page.getAttribute('#selection', 'data-alt')) / 1000) < 0.01, `${altKm} km`);
  assert.ok(Number(await page.getAttribute('#plot-speed', 'data-points')) > 2);
  assert.equal(await page.locator('#plot-snr').count(), 0);
  assert.match(await page.textContent('#plot-snr-none'), /not interceptors/);
  // Esc clears the selection.
  await page.keyboard.press('Escape');
  await page.waitForFunction(() => !document.querySelector('#plots') && !document.querySelector('#selection'));
  assert.equal(await page.locator('#defense-layer circle.selection-ring').count(), 0);

  // After the end: the kill marker, hovered and clicked, explains the engagement too.
  await explanation.locator('button[aria-label="Close the explanation"]').click();
  await scrub(page, Number(await page.getAttribute('#sim-time', 'data-horizon')));
  await setFolded(page, '#radar-panel', true);
  await centreOn(page, LA, 110);
  const kill = page.locator('#defense-layer path.intercept-kill').first();
  await kill.waitFor();
  const kb = await kill.boundingBox();
  await page.mouse.move(kb.x + kb.width / 2 + 1, kb.y + kb.height / 2 + 1);
  await hover.waitFor();
  // A two-round salvo ends both rounds within a few hundred metres: the marker under the
  // pointer may be the other round's miss, drawn over the kill.
  const ended_label = await hover.textContent();
  assert.match(ended_label, /I\d+ SM-6 from BAT_TEST: (kill|miss)/);
  await page.mouse.click(kb.x + kb.width / 2 + 1, kb.y + kb.height / 2 + 1);
  await explanation.waitFor();
  assert.match(await explanation.locator('.fired li.selected').textContent(),
    /kill/.test(ended_label.split(':')[1]) ? /killed its target/ : /miss/);

  // Its fly-out line is a target too (zoomed in, the line is long): a click on it selects the
  // interceptor with its whole flight plotted; a click on empty map clears the selection.
  // (The explanation is closed first: it covers the middle of the map.)
  await explanation.locator('button[aria-label="Close the explanation"]').click();
  await page.keyboard.press('Escape');
  await page.waitForFunction(() => !document.querySelector('#plots') && !document.querySelector('#selection'));
  const killAt = { x: kb.x + kb.width / 2, y: kb.y + kb.height / 2 };
  const icptEnded = await kill.getAttribute('data-interceptor');
  const line = await page.getAttribute(`#defense-layer g.fly-out[data-interceptor="${icptEnded}"] path.fly-out-path`, 'd');
  const vertices = [...line.matchAll(/[ML](-?[\d.]+) (-?[\d.]+)/g)].map((m) => ({ x: Number(m[1]), y: Number(m[2]) }));
  assert.ok(vertices.length >= 4, line);
  const mapBox = await page.locator('#map').boundingBox();
  // The middle of a segment as far as can be from both ends of the line: the battery (a press
  // there is the battery's) and the kill marker.
  const onPage = (v) => ({ x: mapBox.x + v.x, y: mapBox.y + v.y });
  const start = onPage(vertices[0]);
  const clear = (p) => Math.min(Math.hypot(p.x - killAt.x, p.y - killAt.y), Math.hypot(p.x - start.x, p.y - start.y));
  let onLine = null;
  for (let i = 1; i < vertices.length; i++) {
    const m = onPage({ x: (vertices[i - 1].x + vertices[i].x) / 2, y: (vertices[i - 1].y + vertices[i].y) / 2 });
    if (!onLine || clear(m) > clear(onLine)) onLine = m;
  }
  assert.ok(clear(onLine) > 15, `the line, not its ends: ${line}`);
  const onMap = ({ x, y }) => document.elementFromPoint(x, y)?.closest('#map') !== null
    && !document.elementFromPoint(x, y)?.closest('.panel');
  assert.equal(await page.evaluate(onMap, onLine), true);
  await page.mouse.click(onLine.x, onLine.y);
  await page.locator('#plots[data-interceptor]').waitFor();
  // A two-round salvo flies both rounds along nearly the same line: either is picked.
  const picked = await page.getAttribute('#plots', 'data-interceptor');
  assert.equal(await page.locator(`#explanation .fired li[data-interceptor="${picked}"]`).count(), 1, picked);
  assert.ok(Number(await page.getAttribute('#plot-altitude', 'data-points')) > 2);
  assert.equal(await page.locator(`#defense-layer g.fly-out.selected[data-interceptor="${picked}"]`).count(), 1);
  // Open sea south-east of Los Angeles, clear of the panels (the plots are on the left).
  await explanation.locator('button[aria-label="Close the explanation"]').click();
  const away = { x: mapBox.x + mapBox.width / 2 + 120, y: mapBox.y + mapBox.height / 2 + 200 };
  assert.equal(await page.evaluate(onMap, away), true);
  await page.mouse.click(away.x, away.y);
  await page.waitForFunction(() => !document.querySelector('#plots') && !document.querySelector('#selection'));

  if (process.env.MDSIM_SCREENSHOTS) {
    // Los Angeles left of the explanation (the log line centres the map on the predicted
    // impact), the radar panel folded.
    await page.locator('.log-line[data-kind="engagement-ordered"] button').first().click();
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    await page.mouse.move(map.x + map.width / 2, map.y + 20);
    await page.waitForTimeout(300);
    await page.screenshot({ path: join(process.env.MDSIM_SCREENSHOTS, 'screenshot-defense.png') });
  }

  assert.deepEqual(session.errors, []);
  assert.ok(session.requests.every((u) => u.startsWith(relay.url)), session.requests.join('\n'));
});

test('the Southern California preset shows its batteries and Los Angeles, and engages the SCUD-C', async () => {
  const { page } = session;
  await page.selectOption('#preset', 'socal-scud-c');
  await page.waitForFunction(() => document.querySelector('#defense-layer').dataset.batteries === '2');
  const names = await page.$$eval('#defense-layer g.battery', (els) => els.map((e) => e.dataset.callSign).sort());
  assert.deepEqual(names, ['BAT_LA', 'BAT_SD']);
  assert.equal(await page.getAttribute('#defense-layer g.asset', 'data-name'), 'Los Angeles');
  await page.selectOption('#speed', '64');
  await page.locator('.log-line[data-kind="intercept"]').first().waitFor({ timeout: 90_000 });
  await page.waitForFunction(() => document.querySelector('#sim-time').dataset.playing === 'false',
    null, { timeout: 90_000 });
  const c = await defenseCounters(page);
  assert.ok(c.fires >= 1 && c.kills === 1 && c.leakers === 0, JSON.stringify(c));
  assert.equal(await page.locator('.log-line[data-kind="impact"]').count(), 0, 'the SCUD-C was killed');
  // The explanation: BAT_LA chosen, BAT_SD out of reach and why.
  await page.locator('.log-line[data-kind="engagement-ordered"] button').first().click();
  await page.locator('#explanation[data-battery="BAT_LA"]').waitFor();
  assert.match(await page.locator('#explanation ul.out-of-reach li[data-battery="BAT_SD"]').textContent(),
    /BAT_SD: its interceptor cannot get there in time \(the predicted impact is \d+ km away/);
  await page.click('#explanation button[aria-label="Close the explanation"]');

  // Edit while paused: drag BAT_SD 40 px north (a removal and a placement), change the
  // doctrine, then delete it from its editor.
  const view = await centreOn(page, { lat: 33.4, lon: -117.7 }, 40);
  const sd = page.locator('#defense-layer g.battery[data-call-sign="BAT_SD"]');
  const lat0 = Number(await sd.getAttribute('data-lat'));
  const p = project(view, lat0, Number(await sd.getAttribute('data-lon')));
  await page.mouse.move(p.x, p.y);
  await page.mouse.down();
  await page.mouse.move(p.x, p.y - 20, { steps: 3 });
  await page.mouse.move(p.x, p.y - 40, { steps: 3 });
  await page.mouse.up();
  await page.locator('.log-line[data-kind="battery-removed"]').waitFor();
  await page.locator('.log-line[data-kind="battery-placed"]').waitFor();
  await page.waitForFunction((l) => Number(document.querySelector('#defense-layer g.battery[data-call-sign="BAT_SD"]').dataset.lat) !== l, lat0);
  const lat1 = Number(await sd.getAttribute('data-lat'));
  assert.ok(Math.abs(lat1 - lat0 - 40 / view.scale) < 2 / view.scale, `moved from ${lat0} to ${lat1}`);
  assert.equal(await sd.getAttribute('data-rounds'), '16', 'a moved battery keeps its rounds');
  await page.locator('#battery-editor[data-call-sign="BAT_SD"]').waitFor();
  await page.selectOption('#doctrine-mode', 'salvo');
  await page.locator('.log-line[data-kind="doctrine-set"]').waitFor();
  assert.match(await page.locator('.log-line[data-kind="doctrine-set"]').textContent(), /salvo of 2/);
  await page.click('#battery-delete');
  await page.waitForFunction(() => document.querySelector('#defense-layer').dataset.batteries === '1');

  // The other defended presets load their batteries (a GBI's footprint spans a continent).
  await page.selectOption('#preset', 'layered-mrbm');
  await page.waitForFunction(() => document.querySelector('#defense-layer').dataset.batteries === '2');
  await page.selectOption('#preset', 'gbi-icbm');
  await page.waitForFunction(() => document.querySelector('#defense-layer').dataset.batteries === '1');
  assert.equal(await page.getAttribute('#defense-layer g.battery', 'data-kind'), 'GBI');
  assert.ok(Number(await page.getAttribute('#defense-layer g.battery', 'data-envelope-km')) > 5000);
  await page.click('#play'); // pause
  assert.deepEqual(session.errors, []);
  assert.ok(session.requests.every((u) => u.startsWith(relay.url)), session.requests.join('\n'));
});
