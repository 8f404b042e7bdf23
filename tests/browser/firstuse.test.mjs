// A first-time user, by what they see (text, roles and names, not the page's classes): the
// counters agree with the log after a kill and the log says why a dropped track is still
// engaged; the end of the engagement is a visible "Finished" state that Play replays from the
// start; a refused click-to-launch is logged; + and - zoom (as the buttons and their tooltips
// say) while ] and [ change the speed, and the help says the same; a preset and an opened link
// frame their scenario clear of the panels, name themselves and say that they play.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { viewOf, project, startApp, stopApp, openPage, gotoApp } from './harness.mjs';

const LAUNCH = { lat: 36.5, lon: -123.1 };
const ATLANTA = { lat: 33.749, lon: -84.388 };

let relay;
let chrome;
let session;

before(async () => {
  ({ relay, chrome, session } = await startApp());
});

after(() => stopApp({ relay, chrome, session }));

const scenario = (page) => page.getByRole('combobox', { name: 'Scenario' });
const speed = (page) => page.getByRole('combobox', { name: 'Speed' });
const eventLog = (page) => page.getByRole('region', { name: 'Event log' });
const timeline = (page) => page.getByRole('slider', { name: 'Timeline' });
const finished = (page) => page.getByRole('status').filter({ hasText: /^Finished$/ });

/** Presses a key on the page itself, as a user does after clicking the map (not into the
 * control that had the focus). */
async function key(page, k) {
  await page.evaluate(() => document.activeElement?.blur());
  await page.keyboard.press(k);
}

test('after the only missile is killed the counters say killed, and the end is a finished state', async () => {
  const { page } = session;
  await scenario(page).selectOption({ label: 'Southern California SCUD-C' });
  await speed(page).selectOption('64');
  // The engagement plays to its end and stops there, saying so.
  await finished(page).waitFor({ timeout: 120_000 });
  const log = eventLog(page);
  await log.getByRole('button', { name: /killed #1 at [\d.]+ km/ }).waitFor();
  // Killed is not in flight, and not an impact.
  await log.getByText(/Launches 1 · in flight 0 · killed 1 · impacts 0 · refused 0/).waitFor();
  await page.getByText(/successful intercepts 1 · misses \d+ · leakers 0/).waitFor();

  // The radar (facing the launch area) loses the SCUD on its way down: the log says the
  // dropped track stays in command and control's threat file, and the order that follows says
  // it is made on that file.
  const drop = log.getByRole('button', { name: /confirmed track T\d+ dropped \(coasting\) after \d+ s; / });
  assert.ok(await drop.count() >= 1, 'no coasting drop in the log');
  assert.match(await drop.first().textContent(),
    /command and control keeps its threat file and may still engage it before its predicted impact on Los Angeles|interceptors? in flight at it/);
  const onFile = log.getByRole('button', { name: /ordered to engage track T\d+.*the track was dropped, so the order is made on its threat file/ });
  assert.ok(await onFile.count() >= 1, 'no order explained as made on the threat file');

  // Paused at the end: Play is Replay, and it replays from the start instead of stepping
  // past the end.
  const end = Number(await timeline(page).inputValue());
  assert.ok(end > 1000, `ended at tick ${end}`);
  await speed(page).selectOption('1');
  const replay = page.getByRole('button', { name: 'Replay from the start' });
  assert.equal(await replay.textContent(), 'Replay');
  await replay.click();
  await page.getByRole('button', { name: 'Pause' }).waitFor();
  assert.equal(await finished(page).count(), 0, 'still finished while replaying');
  // From the start the missile is in flight again once launched, and nothing is killed yet.
  await log.getByText(/Launches 1 · in flight 1 · killed 0 · impacts 0/).waitFor();
  await page.getByRole('button', { name: 'Pause' }).click();
  await page.getByRole('button', { name: 'Play', exact: true }).waitFor();
  const replayed = Number(await timeline(page).inputValue());
  assert.ok(replayed < 200, `Replay went to tick ${replayed}, not back to the start (end ${end})`);

  // Played again, it ends at the same tick; the space bar there replays too.
  await speed(page).selectOption('128');
  await page.getByRole('button', { name: 'Play', exact: true }).click();
  await finished(page).waitFor({ timeout: 120_000 });
  assert.equal(Number(await timeline(page).inputValue()), end, 'the end moved');
  await speed(page).selectOption('1');
  await key(page, 'Space');
  await page.getByRole('button', { name: 'Pause' }).waitFor();
  await key(page, 'Space');
  await page.getByRole('button', { name: 'Play', exact: true }).waitFor();
  assert.ok(Number(await timeline(page).inputValue()) < 200, 'space at the end did not replay');
});

test('a refused click-to-launch is logged, as a preset\'s refused launch is', async () => {
  const { page } = session;
  await scenario(page).selectOption({ label: 'Empty map' });
  await key(page, '0');
  const tool = page.getByRole('button', { name: /^Launch tool: / });
  if ((await tool.textContent()) !== 'Launch tool: on') await tool.click();
  const view = await viewOf(page);
  const site = project(view, LAUNCH.lat, LAUNCH.lon);
  const far = project(view, ATLANTA.lat, ATLANTA.lon);
  await page.mouse.click(site.x, site.y);
  await page.mouse.move(far.x, far.y, { steps: 3 });
  await page.mouse.click(far.x, far.y);
  const refused = eventLog(page).getByRole('button',
    { name: /SCUD-C launch refused: target is \d+ km away, beyond the SCUD-C maximum range of 527 km/ });
  await refused.waitFor();
  await eventLog(page).getByText(/Launches 0 · in flight 0 · killed 0 · impacts 0 · refused 1/).waitFor();
  // The reason stays at the cursor too.
  assert.match(await page.getByRole('status').filter({ hasText: /beyond the SCUD-C maximum range/ }).textContent(),
    /^target is \d+ km away/);
  await key(page, 'Escape');
  await key(page, 'Escape');
  assert.equal(await tool.textContent(), 'Launch tool: off');
});

test('one meaning per key: + and - zoom as the buttons say, ] and [ change the speed', async () => {
  const { page } = session;
  const zoomIn = page.getByRole('button', { name: 'Zoom in' });
  const zoomOut = page.getByRole('button', { name: 'Zoom out' });
  assert.equal(await zoomIn.getAttribute('title'), 'Zoom in (+)');
  assert.equal(await zoomOut.getAttribute('title'), 'Zoom out (−)');
  assert.match(await speed(page).getAttribute('title'), /\] faster, \[ slower/);
  await speed(page).selectOption('4');
  await key(page, '0');
  const scale = async () => (await viewOf(page)).scale;
  const s0 = await scale();
  await key(page, '+');
  await page.waitForFunction((s) => Number(document.querySelector('#map').dataset.view.split(',')[2]) !== s, s0);
  const s1 = await scale();
  assert.ok(Math.abs(s1 / s0 - 2) < 1e-6, `+ zoomed ${s1 / s0}x`);
  await zoomIn.click();
  await page.waitForFunction((s) => Number(document.querySelector('#map').dataset.view.split(',')[2]) !== s, s1);
  const s2 = await scale();
  assert.ok(Math.abs(s2 / s1 - 2) < 1e-6, `the + button zoomed ${s2 / s1}x, the key ${s1 / s0}x`);
  await key(page, '-');
  await page.waitForFunction((s) => Number(document.querySelector('#map').dataset.view.split(',')[2]) !== s, s2);
  assert.ok(Math.abs((await scale()) / s1 - 1) < 1e-6, '- did not zoom out');
  assert.equal(await speed(page).inputValue(), '4', '+ or - changed the speed');
  await key(page, ']');
  assert.equal(await speed(page).inputValue(), '8');
  await key(page, '[');
  await key(page, '[');
  assert.equal(await speed(page).inputValue(), '2');

  // The help says the same.
  await key(page, '?');
  const help = page.getByRole('dialog', { name: 'Controls' });
  await help.waitFor();
  const row = (key) => help.getByRole('row').filter({ has: page.getByRole('rowheader', { name: key, exact: true }) });
  assert.match(await row('+ / −, PgUp / PgDn').textContent(), /Zoom in \/ out/);
  assert.match(await row('] or >').textContent(), /Faster/);
  assert.match(await row('[ or <').textContent(), /Slower/);
  await key(page, 'Escape');
  await help.waitFor({ state: 'hidden' });
  assert.deepEqual(session.errors, []);
});

/** Every label is drawn on the map, inside it and under no panel. */
async function assertFramed(page, labels) {
  const map = await page.locator('#map').boundingBox();
  for (const label of labels) {
    const box = await page.locator('#map').getByText(label, { exact: true }).first().boundingBox();
    assert.ok(box, `${label} is not drawn`);
    const x = box.x + box.width / 2;
    const y = box.y + box.height / 2;
    assert.ok(x > map.x && x < map.x + map.width && y > map.y && y < map.y + map.height,
      `${label} at ${x},${y} is off the map`);
    const clear = await page.evaluate(([x, y]) => {
      const e = document.elementFromPoint(x, y);
      return !!e && !!e.closest('#map') && !e.closest('section, nav, header, aside, footer');
    }, [x, y]);
    assert.ok(clear, `${label} at ${x},${y} is under a panel`);
  }
}

test('a preset and an opened link frame their scenario, name themselves and say they play', async () => {
  const { page } = session;
  await scenario(page).selectOption({ label: 'Empty map' });
  await key(page, '0');
  const world = (await viewOf(page)).scale;
  await scenario(page).selectOption({ label: 'Southern California SCUD-C' });
  await page.getByRole('status').filter({ hasText: 'Southern California SCUD-C · playing' }).waitFor();
  await page.getByRole('button', { name: 'Pause' }).click();
  await page.getByRole('status').filter({ hasText: 'Southern California SCUD-C · paused' }).waitFor();
  await page.waitForFunction((w) => Number(document.querySelector('#map').dataset.view.split(',')[2]) > 5 * w, world);
  await assertFramed(page, ['RAD_VBG', /^BAT_LA \d+\/\d+$/, /^BAT_SD \d+\/\d+$/, 'Los Angeles']);

  // The golden share link, opened in a new page from the whole world.
  const link = readFileSync(new URL('../../sim-core/tests/fixtures/link-v1.txt', import.meta.url), 'utf8').trim();
  const other = await openPage(chrome.browser);
  try {
    const p = other.page;
    await gotoApp(p, `${relay.url}/#s=${link}`);
    await p.getByRole('status').filter({ hasText: 'Golden link v1 · playing' }).waitFor();
    assert.equal(await scenario(p).evaluate((s) => s.selectedOptions[0]?.textContent), 'Golden link v1 (opened)');
    await p.getByRole('button', { name: 'Pause' }).click();
    await p.waitForFunction(() => Number(document.querySelector('#map').dataset.view.split(',')[2]) > 20);
    await assertFramed(p, ['RAD_VBG', /^BAT_LA \d+\/\d+$/, 'Los Angeles']);
    assert.deepEqual(other.errors, []);
  } finally {
    await other.context.close();
  }
});
