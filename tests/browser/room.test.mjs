// A shared room, end to end in three browsers: page A creates a room, page B joins by its
// link, A launches by clicking on the map and both see the launch and the missile; later page
// C opens the read-only link, catches up from the relay's snapshot, and all three compute the
// same state hashes at the same ticks (the relay's referee agrees: no resync); C cannot
// launch; B's connection is cut and B reconnects and agrees again; B leaves; a wrong token is
// refused; no page logs an error and nothing leaves 127.0.0.1.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startRelay, launchBrowser, openPage, viewOf, project, gotoApp, zoomTo } from './harness.mjs';

const SITE = { lat: 36.5, lon: -123.1 };
// About 290 km away: well inside the SCUD-C's 527 km, whatever pixel the click lands on.
const TARGET = { lat: 35.3, lon: -120.4 };

let relay;
let chrome;
const sessions = [];

before(async () => {
  relay = await startRelay();
  chrome = await launchBrowser();
});

after(async () => {
  for (const s of sessions) await s.context.close();
  await chrome?.close();
  await relay?.stop();
});

async function open(url) {
  const s = await openPage(chrome.browser);
  sessions.push(s);
  await gotoApp(s.page, url);
  return s;
}

async function connected(page) {
  await page.waitForFunction(
    () => document.querySelector('#room-panel')?.dataset.state === 'connected', null, { timeout: 20_000 });
}

async function room(page) {
  return page.evaluate(() => {
    const d = document.querySelector('#room-panel').dataset;
    const hashes = (d.hashes || '').split(' ').filter(Boolean).map((w) => w.split(':'));
    return {
      hashes, resyncs: Number(d.resyncs), welcomes: Number(d.welcomes),
      canCommand: d.canCommand === 'true', members: Number(d.members),
      tick: Number(document.querySelector('#sim-time').dataset.tick),
      missiles: Number(document.querySelector('#sim-time').dataset.missiles),
    };
  }).then((r) => ({ ...r, hashes: new Map(r.hashes) }));
}
/** Clicks a launch from SITE at TARGET with the launch tool. */
async function clickLaunch(page) {
  // Fold the room panel: it floats over the middle of the map.
  if ((await page.getAttribute('#room-panel .fold', 'aria-expanded')) === 'true') {
    await page.click('#room-panel .fold');
  }
  await page.selectOption('#missile-type', 'SCUD-C');
  if ((await page.getAttribute('#launch-mode', 'aria-pressed')) !== 'true') await page.click('#launch-mode');
  const mid = { lat: (SITE.lat + TARGET.lat) / 2, lon: (SITE.lon + TARGET.lon) / 2 };
  const view = await zoomTo(page, mid, 30);
  const a = project(view, SITE.lat, SITE.lon);
  const b = project(view, TARGET.lat, TARGET.lon);
  await page.mouse.click(a.x, a.y);
  await page.mouse.move(b.x, b.y, { steps: 3 });
  await page.mouse.click(b.x, b.y);
  await page.keyboard.press('Escape');
  await page.keyboard.press('Escape');
  await page.click('#room-panel .fold');
}

test('two pages share a room, a late joiner catches up, an observer cannot launch', async () => {
  // A creates the room.
  const a = await open(relay.url);
  // The room panel starts folded on a page without a room link.
  assert.equal(await a.page.getAttribute('#room-panel .fold', 'aria-expanded'), 'false');
  await a.page.click('#room-panel .fold');
  await a.page.fill('#room-title', 'Drill');
  await a.page.fill('#room-name', 'Ada');
  await a.page.selectOption('#room-role', 'attacker');
  await a.page.click('#room-create');
  await connected(a.page);
  const playerLink = await a.page.inputValue('#room-link');
  const watchLink = await a.page.inputValue('#room-watch-link');
  assert.match(playerLink, /^http:\/\/127\.0\.0\.1:\d+\/\?room=[0-9a-f]{32}&title=Drill#token=[0-9a-f]+$/);
  assert.equal(watchLink, playerLink.split('#')[0]);
  // A's timeline is the room's: the timeline is off; play/pause and the speed, on for a
  // player, pause or speed up the room for everyone.
  assert.equal(await a.page.isDisabled('#timeline'), true);
  assert.equal(await a.page.isDisabled('#play'), false);
  assert.equal(await a.page.isDisabled('#speed'), false);

  // B joins by opening the link (its room websockets pass through the test, which cuts one
  // later).
  const b = await open(playerLink);
  const routes = [];
  await b.page.routeWebSocket(/\/ws\/rooms\//, (ws) => {
    ws.connectToServer();
    routes.push(ws);
  });
  await b.page.waitForSelector('#room-join');
  assert.match(await b.page.textContent('#room-panel'), /Invited to room Drill/);
  await b.page.fill('#room-name', 'Bo');
  await b.page.selectOption('#room-role', 'defender');
  await b.page.click('#room-join');
  await connected(b.page);
  await a.page.waitForFunction(() => document.querySelector('#room-panel').dataset.members === '2');
  assert.match(await a.page.textContent('#room-members'), /Ada · attacker \(you\).*Bo · defender/s);
  assert.match(await a.page.textContent('#room-feed'), /Bo joined as defender/);

  // A launches by clicking on the map; both pages see the launch and the missile.
  await clickLaunch(a.page);
  for (const { page } of [a, b]) {
    await page.locator('.log-line[data-kind="launch"]').first().waitFor({ timeout: 10_000 });
    await page.waitForFunction(() => document.querySelector('#sim-time').dataset.missiles === '1');
    assert.match(await page.textContent('#room-feed'), /Ada \(attacker\) launched a SCUD-C from 36\.\d\d°N/);
  }
  const launchA = await a.page.getAttribute('.log-line[data-kind="launch"]', 'data-tick');
  const launchB = await b.page.getAttribute('.log-line[data-kind="launch"]', 'data-tick');
  assert.equal(launchA, launchB, 'the launch applied at the same tick on both pages');

  // Some simulated time later, C opens the watch link and catches up.
  await a.page.waitForTimeout(4_000);
  const c = await open(watchLink);
  await c.page.waitForSelector('#room-join');
  assert.match(await c.page.textContent('#room-panel'), /watch link/);
  assert.equal(await c.page.inputValue('#room-role'), 'observer');
  await c.page.fill('#room-name', 'Cy');
  await c.page.click('#room-join');
  await connected(c.page);
  const joined = await room(c.page);
  assert.equal(joined.canCommand, false);
  assert.ok(joined.tick > Number(launchA) + 30, `C started at tick ${joined.tick}, after the launch at ${launchA}`);
  await c.page.waitForFunction(() => document.querySelector('#sim-time').dataset.missiles === '1');
  assert.equal(await c.page.isHidden('#room-link'), true, 'a watch link shows no player link');
  // An observer cannot pause the room or change its speed.
  assert.equal(await c.page.isDisabled('#play'), true);
  assert.equal(await c.page.isDisabled('#speed'), true);

  // The three pages' state hashes agree at the same ticks (and the referee agreed with each:
  // a mismatch would have been answered with a resync).
  let common = [];
  for (let i = 0; i < 40 && common.length < 3; i++) {
    await c.page.waitForTimeout(250);
    const [ra, rb, rc] = await Promise.all([a, b, c].map((s) => room(s.page)));
    common = [...rc.hashes.keys()].filter((t) => ra.hashes.has(t) && rb.hashes.has(t));
    for (const t of common) {
      assert.equal(ra.hashes.get(t), rc.hashes.get(t), `A and C differ at tick ${t}`);
      assert.equal(rb.hashes.get(t), rc.hashes.get(t), `B and C differ at tick ${t}`);
    }
  }
  assert.ok(common.length >= 3, `only ${common.length} common hash ticks`);
  console.log(`hashes equal on three pages at ticks ${common.join(', ')}`);
  for (const s of [a, b, c]) {
    const r = await room(s.page);
    assert.equal(r.resyncs, 0, 'a page was resynced');
    assert.equal(r.welcomes, 1);
    assert.equal(r.members, 3);
  }
  // Lockstep: every page is within a second of the others.
  const ticks = await Promise.all([a, b, c].map(async (s) => (await room(s.page)).tick));
  assert.ok(Math.max(...ticks) - Math.min(...ticks) <= 10, `ticks apart: ${ticks}`);

  // Nothing was refused so far (a client that floods the relay gets rate-limit errors).
  for (const s of [a, b, c]) {
    assert.deepEqual(await s.page.$$eval('.feed-line[data-kind="error"]', (els) => els.map((e) => e.textContent)), []);
  }

  // The observer cannot launch: refused with the reason, nothing launched anywhere.
  await clickLaunch(c.page);
  await c.page.waitForFunction(() => !document.querySelector('#room-error').classList.contains('hidden'));
  assert.match(await c.page.textContent('#room-error'), /^observers cannot give commands/);
  await a.page.waitForTimeout(1_000);
  for (const s of [a, b, c]) {
    assert.equal((await room(s.page)).missiles, 1);
    assert.equal(await s.page.locator('.feed-line[data-kind="command"]').count(), s === c ? 0 : 1);
  }

  // B's connection drops: B says so, reconnects by itself, catches up and agrees again.
  assert.equal(routes.length, 1);
  await routes[0].close({ code: 4000, reason: 'cut by the test' });
  await b.page.waitForFunction(() => document.querySelector('#room-panel').dataset.state === 'reconnecting');
  assert.match(await b.page.textContent('#room-feed'),
    /connection lost \(code 4000: cut by the test\); reconnecting in 1 s/);
  assert.match(await b.page.textContent('#room-conn'), /reconnecting/);
  await connected(b.page);
  assert.equal(routes.length, 2);
  assert.equal((await room(b.page)).welcomes, 2);
  let again = [];
  for (let i = 0; i < 40 && again.length < 2; i++) {
    await b.page.waitForTimeout(250);
    const [ra, rb] = await Promise.all([a, b].map((s) => room(s.page)));
    again = [...rb.hashes.keys()].filter((t) => ra.hashes.has(t));
    for (const t of again) assert.equal(ra.hashes.get(t), rb.hashes.get(t), `A and B differ at tick ${t}`);
  }
  assert.ok(again.length >= 2, 'no common hashes after the reconnection');
  assert.equal((await room(b.page)).missiles, 1);

  if (process.env.MDSIM_SCREENSHOT_DIR) {
    await a.page.screenshot({ path: `${process.env.MDSIM_SCREENSHOT_DIR}/screenshot-room.png` });
  }

  // B leaves: A sees it; B's map keeps the room's timeline as its own.
  await b.page.click('#room-leave');
  await a.page.waitForFunction(() => document.querySelector('#room-panel').dataset.members === '2');
  assert.match(await a.page.textContent('#room-feed'), /Bo left/);
  assert.equal(await b.page.isDisabled('#timeline'), false);
  assert.equal(new URL(b.page.url()).search, '');

  // A player link with a wrong token is refused by the relay, with its reason, for good.
  await b.page.goto(playerLink.replace(/#token=.*/, '#token=0badc0ffee'), { waitUntil: 'load' });
  await b.page.click('#room-join');
  await b.page.waitForFunction(() => document.querySelector('#room-panel').dataset.state === 'failed');
  assert.match(await b.page.textContent('#room-conn'), /not connected: relay: wrong room token/);

  for (const s of [a, b, c]) {
    assert.deepEqual(s.errors, [], 'page errors');
    const foreign = s.requests.filter((u) => !/^(https?|wss?):\/\/127\.0\.0\.1:\d+\//.test(u));
    assert.deepEqual(foreign, [], 'requests outside the relay');
  }
});
