// Share links in the browser: load the Southern California preset, launch a second SCUD-C by
// clicking, press Share, open the link in a new page, play both to the same simulated time and
// compare the event logs line for line (and the state hashes); open a tampered link and a
// malformed one and see the message, an empty map and no error; import a scenario file.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startRelay, launchBrowser, openPage, viewOf, project, gotoApp, zoomTo } from './harness.mjs';

const SITE = { lat: 35.9, lon: -121.5 };
const TARGET = { lat: 34.0, lon: -118.4 };
/** The tick both pages are compared at (250 s: detections, tracks and engagements). */
const COMPARE_TICK = 2500;

let relay;
let chrome;
const pages = [];

before(async () => {
  relay = await startRelay();
  chrome = await launchBrowser();
});

after(async () => {
  for (const p of pages) await p.context.close();
  await chrome?.close();
  await relay?.stop();
});

async function open(url) {
  const session = await openPage(chrome.browser);
  pages.push(session);
  await gotoApp(session.page, url);
  return session;
}

const simData = (page) => page.evaluate(() => ({ ...document.querySelector('#sim-time').dataset }));

/** Plays at 64x until the timeline reaches `tick`, pauses, scrubs to it; returns the event log
 * text (every line, oldest first) and the state hash there. */
async function logAt(page, tick) {
  if ((await simData(page)).playing !== 'true') await page.click('#play');
  await page.selectOption('#speed', '64');
  await page.waitForFunction((t) => Number(document.querySelector('#sim-time').dataset.horizon) >= t,
    tick, { timeout: 90_000 });
  await page.click('#play'); // pause
  await page.evaluate((t) => {
    const el = document.querySelector('#timeline');
    el.value = String(t);
    el.dispatchEvent(new Event('input', { bubbles: true }));
  }, tick);
  await page.waitForFunction((t) => {
    const d = document.querySelector('#sim-time').dataset;
    return Number(d.tick) === t && d.playing === 'false' && d.hash !== '';
  }, tick);
  // The log refreshes on a throttle: let it settle.
  await page.waitForTimeout(400);
  const lines = await page.$$eval('.log-line', (els) => els.map((e) => e.textContent).reverse());
  const counters = await page.evaluate(() => ({ ...document.querySelector('#counters').dataset }));
  return { lines, counters, hash: (await simData(page)).hash };
}

test('a shared engagement opens in a new page and replays event for event', async () => {
  const a = await open(relay.url);
  const { page } = a;
  await page.selectOption('#preset', 'socal-scud-c');
  await page.click('#play'); // pause the preset while setting up the click
  await page.selectOption('#missile-type', 'SCUD-C');
  await page.selectOption('#profile', 'min-energy');
  await page.click('#launch-mode');
  const view = await zoomTo(page, { lat: 35, lon: -120 }, 40);
  const site = project(view, SITE.lat, SITE.lon);
  const target = project(view, TARGET.lat, TARGET.lon);
  await page.mouse.click(site.x, site.y);
  await page.mouse.move(target.x, target.y, { steps: 3 });
  await page.mouse.click(target.x, target.y);
  // The click-launch plays; the preset's launch and the clicked one are both logged.
  await page.waitForFunction(() => Number(document.querySelector('#counters').dataset.launches) >= 2,
    null, { timeout: 30_000 });
  await page.click('#launch-mode');

  await page.click('#share');
  const field = page.locator('#share-url');
  await field.waitFor();
  const url = await field.inputValue();
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/#s=1\.[A-Za-z0-9_-]+$/);
  const link = url.split('#s=')[1];
  console.log(`share link: ${link.length} characters`);
  assert.ok(link.length < 1000, `${link.length} characters`);
  assert.equal(new URL(page.url()).hash, `#s=${link}`, 'the address carries the link');

  const b = await open(url);
  assert.equal(await b.page.locator('#share-error').count(), 0);
  const [left, right] = [await logAt(page, COMPARE_TICK), await logAt(b.page, COMPARE_TICK)];
  assert.ok(left.lines.length >= 5, left.lines.join('\n'));
  assert.ok(left.lines.some((l) => l.includes('SCUD-C')), left.lines.join('\n'));
  assert.deepEqual(right.lines, left.lines);
  assert.deepEqual(right.counters, left.counters);
  assert.equal(Number(left.counters.launches), 2);
  assert.equal(right.hash, left.hash);

  for (const s of [a, b]) {
    assert.deepEqual(s.errors, []);
    for (const u of s.requests) assert.equal(new URL(u).hostname, '127.0.0.1', u);
  }
});

test('a tampered or malformed link shows a clear message and an empty map', async () => {
  const good = readFileSync(new URL('../../sim-core/tests/fixtures/link-v1.txt', import.meta.url), 'utf8').trim();
  const i = Math.floor(good.length / 2);
  const tampered = good.slice(0, i) + (good[i] === 'A' ? 'B' : 'A') + good.slice(i + 1);
  for (const [fragment, pattern] of [
    [tampered, /^This link cannot be opened: the link is damaged: .*checksum.*\.$/],
    [good.slice(0, good.length - 10), /^This link cannot be opened: the link is damaged/],
    ['hello', /^This link cannot be opened: this is not a scenario link/],
    ['9.abc', /version 9/],
  ]) {
    const s = await open(`${relay.url}/#s=${fragment}`);
    const message = s.page.locator('#share-error');
    await message.waitFor();
    assert.match(await message.textContent(), pattern);
    assert.equal(await message.getAttribute('role'), 'alert');
    await s.page.waitForTimeout(300);
    const d = await simData(s.page);
    assert.equal(d.missiles, '0');
    assert.equal(d.radars, '0');
    assert.equal(await s.page.locator('.log-line').count(), 0);
    assert.deepEqual(s.errors, []);
    await s.context.close();
    pages.splice(pages.indexOf(s), 1);
  }
  // The golden link itself opens.
  const s = await open(`${relay.url}/#s=${good}`);
  await s.page.waitForFunction(() => document.querySelector('#sim-time').dataset.radars === '1');
  assert.equal(await s.page.locator('#share-error').count(), 0);
  assert.deepEqual(s.errors, []);
});

test('a scenario file is imported and exported', async () => {
  const { page, errors } = await open(relay.url);
  const text = readFileSync(new URL('../../scenarios/socal-raid.json', import.meta.url));
  await page.setInputFiles('#import-scenario', { name: 'socal-raid.json', mimeType: 'application/json', buffer: text });
  await page.waitForFunction(() => document.querySelector('#sim-time').dataset.radars === '3');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-scenario')]);
  assert.equal(download.suggestedFilename(), 'southern-california-raid.json');
  const saved = JSON.parse(readFileSync(await download.path(), 'utf8'));
  assert.equal(saved.name, 'Southern California raid');
  assert.equal(saved.launches.length, 10);
  assert.deepEqual(errors, []);
});
