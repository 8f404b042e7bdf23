// The globe and the polish, end to end: switch to the globe and see it drawn (land, ocean, the
// horizon, space around it), turn it by dragging, launch an ICBM by clicking on the globe and see
// it fly along its great circle to the target, a battery's footprint across the horizon filled
// up to the limb, the 1:50m atlas fetched only when zoomed in, the
// tile layer silent until switched on, the help overlay (`?`, the button, Esc), the speed keys,
// and a phone-sized screen with no horizontal overflow and every button labelled. No page error
// and no request outside 127.0.0.1.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { openPage, distanceM, recordResults, gotoApp, startApp, stopApp, greatCircleMid } from './harness.mjs';

// Colours of the base map (web-app/src/render.rs, `palette`).
const LAND = [0x1f, 0x33, 0x47];
const OCEAN = [0x0d, 0x1b, 0x2a];
const SPACE = [0x05, 0x09, 0x0d];
const MOSCOW = { lat: 55.75, lon: 37.62 };
const NEW_YORK = { lat: 40.71, lon: -74.01 };
// Screenshots for the docs are written only when asked (MDSIM_SCREENSHOTS=dir).
const SHOTS = process.env.MDSIM_SCREENSHOTS;

let relay;
let chrome;
let session;

before(async () => {
  ({ relay, chrome, session } = await startApp());
});

after(() => stopApp({ relay, chrome, session }));

/** The map's view: centre, scale (px/deg), projection and box. */
async function viewOf(page) {
  const raw = await page.getAttribute('#map', 'data-view');
  const [lon, lat, scale] = raw.split(',').map(Number);
  const projection = await page.getAttribute('#map', 'data-projection');
  const box = await page.locator('#map').boundingBox();
  return { lon, lat, scale, projection, box };
}

const RAD = Math.PI / 180;

/** Orthographic projection (Snyder 1987, eqs. 20-3, 20-4, 5-3), independent of the app's. */
function projectGlobe(v, lat, lon) {
  const r = v.scale / RAD;
  const [p, l, p0, l0] = [lat * RAD, lon * RAD, v.lat * RAD, v.lon * RAD];
  const cosc = Math.sin(p0) * Math.sin(p) + Math.cos(p0) * Math.cos(p) * Math.cos(l - l0);
  return {
    x: v.box.x + v.box.width / 2 + r * Math.cos(p) * Math.sin(l - l0),
    y: v.box.y + v.box.height / 2
      - r * (Math.cos(p0) * Math.sin(p) - Math.sin(p0) * Math.cos(p) * Math.cos(l - l0)),
    visible: cosc >= 0,
  };
}

/** RGBA of the pixels at page points on a canvas of the map. */
async function pixels(page, selector, points) {
  return page.evaluate(({ selector, points }) => {
    const c = document.querySelector(selector);
    const r = c.getBoundingClientRect();
    const ctx = c.getContext('2d');
    const k = c.width / r.width;
    return points.map((p) => Array.from(
      ctx.getImageData(Math.round((p.x - r.left) * k), Math.round((p.y - r.top) * k), 1, 1).data));
  }, { selector, points });
}

function near(rgb, want, tol = 6) {
  return rgb.slice(0, 3).every((c, i) => Math.abs(c - want[i]) <= tol);
}

async function changedView(page, before) {
  await page.waitForFunction((b) => document.querySelector('#map').dataset.view !== b, before);
  // The base map is drawn on the next animation frame.
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
}

/** Turns the globe by dragging until `at` is at the centre (within a pixel or two). */
async function turnTo(page, at) {
  for (let i = 0; i < 8; i++) {
    const v = await viewOf(page);
    const p = projectGlobe(v, at.lat, at.lon);
    const c = { x: v.box.x + v.box.width / 2, y: v.box.y + v.box.height / 2 };
    if (p.visible && Math.hypot(p.x - c.x, p.y - c.y) < 2) return v;
    // Drag from the centre by the offset (the app turns the globe so that the point at the
    // centre follows the pointer), in steps no longer than a third of the radius.
    const r = v.scale / RAD;
    const d = p.visible ? { x: c.x - p.x, y: c.y - p.y } : { x: -r / 3, y: 0 };
    const len = Math.hypot(d.x, d.y);
    const k = Math.min(1, (r / 3) / len);
    const before = await page.getAttribute('#map', 'data-view');
    await page.mouse.move(c.x, c.y);
    await page.mouse.down();
    await page.mouse.move(c.x + d.x * k, c.y + d.y * k, { steps: 6 });
    await page.mouse.up();
    await changedView(page, before);
  }
  return viewOf(page);
}

/** Drags the map from its centre in `n` small moves, one per frame; asserts that every move
 * changes the view; returns the frame intervals' median and 95th percentile (ms). */
async function dragFrames(page, n) {
  const v = await viewOf(page);
  const c = { x: v.box.x + v.box.width / 2, y: v.box.y + v.box.height / 2 };
  await page.evaluate(() => {
    window.__frames = [];
    const tick = (t) => { window.__frames.push(t); if (window.__frames.length < 10_000) requestAnimationFrame(tick); };
    requestAnimationFrame(tick);
  });
  await page.mouse.move(c.x, c.y);
  await page.mouse.down();
  const views = new Set();
  const t0 = await page.evaluate(() => performance.now());
  for (let i = 1; i <= n; i++) {
    await page.mouse.move(c.x + 3 * i, c.y + Math.sin(i / 6) * 20);
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(r)));
    views.add(await page.getAttribute('#map', 'data-view'));
  }
  const perMove = ((await page.evaluate(() => performance.now())) - t0) / n;
  await page.mouse.up();
  assert.equal(views.size, n, 'every step of the drag moves the map');
  const intervals = await page.evaluate(() => {
    const f = window.__frames;
    window.__frames.length = 10_000; // stop the loop
    return f.slice(1).map((t, i) => t - f[i]).filter((d) => d > 0).sort((a, b) => a - b);
  });
  const q = (p) => intervals[Math.min(intervals.length - 1, Math.floor(p * intervals.length))];
  return { p50: q(0.5), p95: q(0.95), perMove };
}

test('the globe toggle draws the globe: land, ocean, horizon and space around it', async () => {
  const { page } = session;
  assert.equal(await page.getAttribute('#map', 'data-projection'), 'flat');
  const before = await page.getAttribute('#map', 'data-view');
  await page.click('#globe-toggle');
  await page.waitForFunction(() => document.querySelector('#map').dataset.projection === 'globe');
  await changedView(page, before).catch(() => {});
  assert.equal(await page.getAttribute('#globe-toggle', 'aria-pressed'), 'true');
  const v = await viewOf(page);
  const r = v.scale / RAD;
  assert.ok(Math.abs(r - 0.45 * Math.min(v.box.width, v.box.height)) < 1, `radius ${r}`);
  // Centred on 0N 0E: Chad is land, the South Atlantic sea, the corner is space.
  const probes = [projectGlobe(v, 12, 18), projectGlobe(v, -22, -8), { x: v.box.x + 4, y: v.box.y + 4 }];
  const [land, sea, space] = await pixels(page, '#map canvas', probes);
  assert.ok(near(land, LAND), `land ${land}`);
  assert.ok(near(sea, OCEAN), `sea ${sea}`);
  assert.ok(near(space, SPACE), `space ${space}`);
  // Just outside the horizon is space, just inside is globe.
  const c = { x: v.box.x + v.box.width / 2, y: v.box.y + v.box.height / 2 };
  const [outside] = await pixels(page, '#map canvas', [{ x: c.x, y: c.y - r - 4 }]);
  assert.ok(near(outside, SPACE), `outside ${outside}`);
});

test('dragging turns the globe and a click reports the point under it', async () => {
  const { page } = session;
  const v = await turnTo(page, { lat: 50, lon: -20 });
  assert.ok(Math.abs(v.lat - 50) < 1 && Math.abs(v.lon + 20) < 1, `centre ${v.lat} ${v.lon}`);
  const p = projectGlobe(v, MOSCOW.lat, MOSCOW.lon);
  await page.mouse.click(p.x, p.y);
  const marker = page.locator('#marker-readout');
  await marker.waitFor();
  const at = { lat: Number(await marker.getAttribute('data-lat')), lon: Number(await marker.getAttribute('data-lon')) };
  const pixelM = 111_195 / v.scale;
  assert.ok(distanceM(at, MOSCOW) < 2 * pixelM, `clicked ${JSON.stringify(at)}`);
  assert.match(await marker.textContent(), /Russia/);
  await page.click('#marker-readout button');

  // Frame intervals while the globe turns (each move redraws the 1:110m globe), recorded
  // for docs/benchmarks.md.
  const q = await dragFrames(page, 40);
  recordResults({ globe_drag_frame_p50_ms: q.p50, globe_drag_frame_p95_ms: q.p95, globe_drag_ms_per_move: q.perMove });
  console.log(`globe drag (1:110m): frame interval p50 ${q.p50.toFixed(1)} ms, p95 ${q.p95.toFixed(1)} ms, ${q.perMove.toFixed(1)} ms per move`);
});

test('an ICBM launched by clicking on the globe flies its great circle to the target', async () => {
  const { page } = session;
  // Both ends in view, the centre off their great circle (a great circle through the centre
  // of an orthographic view is a straight line).
  const gcMid = greatCircleMid(MOSCOW, NEW_YORK);
  let v = await turnTo(page, { lat: gcMid.lat - 20, lon: gcMid.lon });
  await page.selectOption('#missile-type', 'ICBM');
  await page.selectOption('#profile', 'min-energy');
  if ((await page.getAttribute('#launch-mode', 'aria-pressed')) !== 'true') await page.click('#launch-mode');
  v = await viewOf(page);
  const site = projectGlobe(v, MOSCOW.lat, MOSCOW.lon);
  const target = projectGlobe(v, NEW_YORK.lat, NEW_YORK.lon);
  assert.ok(site.visible && target.visible);
  await page.mouse.click(site.x, site.y);
  await page.mouse.move(target.x, target.y, { steps: 4 });
  // The range ring is drawn on the globe (clipped at the horizon) and the target is in range.
  await page.locator('#range-ring').waitFor();
  assert.ok((await page.getAttribute('#range-ring', 'd')).length > 20);
  assert.equal(await page.getAttribute('#cursor-hint', 'data-refused'), 'false');
  await page.mouse.click(target.x, target.y);
  await page.waitForFunction(() => document.querySelector('#counters').dataset.launches === '1');
  await page.keyboard.press('Escape'); // back to choosing a site
  await page.keyboard.press('Escape'); // tool off
  await page.selectOption('#speed', '128');
  if ((await page.getAttribute('#play', 'aria-label')) === 'Play') await page.click('#play');
  const impact = page.locator('.log-line[data-kind="impact"]');
  await impact.waitFor({ timeout: 180_000 });
  const at = { lat: Number(await impact.getAttribute('data-lat')), lon: Number(await impact.getAttribute('data-lon')) };
  const pixelM = 111_195 / v.scale;
  assert.ok(distanceM(at, NEW_YORK) < 2 * pixelM + 1000, `impact at ${JSON.stringify(at)}`);

  // The ground track curves as it should on the globe: near the great circle's midpoint (the
  // Earth turning under the flight shifts the ground track off the great circle by a few
  // hundred kilometres at most), and nowhere near the straight screen chord's midpoint.
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  if (SHOTS) {
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: `${SHOTS}/screenshot-globe.png` });
  }
  const mid = projectGlobe(v, gcMid.lat, gcMid.lon);
  const chordMid = { x: (site.x + target.x) / 2, y: (site.y + target.y) / 2 };
  const apart = Math.hypot(mid.x - chordMid.x, mid.y - chordMid.y);
  assert.ok(apart > 12, `the curve's midpoint is only ${apart} px from the chord's`);
  // Sample along the line from the chord's midpoint through the curve's midpoint and beyond.
  const samples = [];
  for (let t = -0.5; t <= 1.5; t += 1 / 64) {
    samples.push({ t, x: chordMid.x + (mid.x - chordMid.x) * t, y: chordMid.y + (mid.y - chordMid.y) * t });
  }
  const alphas = (await pixels(page, '#map canvas.sim-tracks', samples)).map((px) => px[3]);
  const hits = samples.filter((_, i) => alphas[i] > 60).map((p) => p.t);
  assert.ok(hits.length > 0, 'no track crossing the line through the midpoints');
  // Hits are near t = 1 (the curve: within 300 km), none near t = 0 (the chord).
  const kmPerPx = 111.195 / v.scale;
  const offKm = Math.min(...hits.map((t) => Math.abs(t - 1) * apart * kmPerPx));
  assert.ok(offKm < 300, `the track crosses ${offKm.toFixed(0)} km from the great circle (hits at t=${hits})`);
  assert.ok(hits.every((t) => Math.abs(t) > 0.25), `track pixels near the chord (hits at t=${hits})`);
});

test('a footprint across the horizon is filled up to the limb, not cut by a chord', async () => {
  const { page } = session;
  await page.selectOption('#preset', 'gbi-icbm');
  await page.waitForFunction(() => document.querySelector('#defense-layer').dataset.batteries === '1');
  if ((await page.getAttribute('#sim-time', 'data-playing')) === 'true') await page.click('#play');
  const battery = page.locator('#defense-layer g.battery');
  const site = { lat: Number(await battery.getAttribute('data-lat')), lon: Number(await battery.getAttribute('data-lon')) };
  const engageKm = Number(await battery.getAttribute('data-engage-km'));
  // Fort Greely's GBI footprint (thousands of km) seen from 79 degrees away: it crosses the
  // horizon.
  const v = await turnTo(page, { lat: 10, lon: site.lon + 85 });
  const r = v.scale / RAD;
  const c = { x: v.box.x + v.box.width / 2, y: v.box.y + v.box.height / 2 };
  const s = projectGlobe(v, site.lat, site.lon);
  assert.ok(s.visible, 'the battery is on the near side');
  const toSite = Math.hypot(s.x - c.x, s.y - c.y);
  assert.ok(toSite > 0.9 * r, `the battery is near the limb (${toSite} of ${r} px)`);
  const fill = battery.locator('path.engagement-fill');
  const d = await fill.getAttribute('d');
  const pts = [...d.matchAll(/[ML](-?[\d.]+) (-?[\d.]+)/g)].map((m) => ({ x: v.box.x + Number(m[1]), y: v.box.y + Number(m[2]) }));
  assert.ok(d.trim().endsWith('Z') && pts.length > 20, d.slice(0, 200));
  // On or inside the disc, its hidden part along the limb in short steps (5 degrees).
  const onLimb = (p) => Math.abs(Math.hypot(p.x - c.x, p.y - c.y) - r) < 0.5;
  assert.ok(pts.every((p) => Math.hypot(p.x - c.x, p.y - c.y) < r + 0.5));
  assert.ok(pts.filter(onLimb).length >= 5, `${pts.filter(onLimb).length} points on the limb`);
  const step = 2 * r * Math.sin(2.5 * RAD) + 1;
  for (let i = 0; i < pts.length; i++) {
    const [a, b] = [pts[i], pts[(i + 1) % pts.length]];
    if (onLimb(a) && onLimb(b)) assert.ok(Math.hypot(b.x - a.x, b.y - a.y) <= step, 'a chord along the limb');
  }
  // Just inside the limb towards the battery (11 degrees, about 1,250 km from it, inside its
  // footprint) the area is filled; a chord between the two horizon crossings would leave it
  // out. The centre of the view (79 degrees away) is not.
  assert.ok(engageKm > 2000, `footprint ${engageKm} km`);
  const limbward = { x: c.x + (s.x - c.x) / toSite * (r - 3), y: c.y + (s.y - c.y) / toSite * (r - 3) };
  const inFill = (path, p) => path.evaluate((el, p) => {
    const box = el.ownerSVGElement.getBoundingClientRect();
    return el.isPointInFill(new DOMPoint(p.x - box.left, p.y - box.top));
  }, p);
  assert.equal(await inFill(fill, limbward), true);
  assert.equal(await inFill(fill, c), false);
  // The outline (traced up to the horizon), if it were filled, would miss that point.
  assert.equal(await inFill(battery.locator('path.engagement'), limbward), false);
  await page.selectOption('#preset', 'empty');
});

test('the 1:50m atlas is fetched from the origin only when zoomed in', async () => {
  const { page, requests } = session;
  const detailRequests = () => requests.filter((u) => u.endsWith('/countries-50m.bin'));
  assert.equal(detailRequests().length, 0, 'fetched before zooming in');
  assert.equal(await page.getAttribute('#map', 'data-detail'), '110m');
  const v = await viewOf(page);
  const c = { x: v.box.x + v.box.width / 2, y: v.box.y + v.box.height / 2 };
  await page.mouse.move(c.x, c.y);
  for (let i = 0; i < 10 && (await viewOf(page)).scale < 14; i++) {
    const before = await page.getAttribute('#map', 'data-view');
    await page.mouse.wheel(0, -400);
    await changedView(page, before);
  }
  await page.waitForFunction(() => document.querySelector('#map').dataset.detail === '50m', null, { timeout: 20_000 });
  assert.equal(detailRequests().length, 1);
  // Turning the zoomed-in globe with the 1:50m coastlines (only shapes near the screen are
  // projected).
  const q = await dragFrames(page, 30);
  recordResults({ globe_50m_drag_frame_p50_ms: q.p50, globe_50m_drag_frame_p95_ms: q.p95, globe_50m_drag_ms_per_move: q.perMove });
  console.log(`globe drag (1:50m, ${(await viewOf(page)).scale.toFixed(1)} px/deg): frame interval p50 ${q.p50.toFixed(1)} ms, p95 ${q.p95.toFixed(1)} ms, ${q.perMove.toFixed(1)} ms per move`);
  // The same zoom on the flat map (the 1:50m paths are built once, in degrees).
  await page.keyboard.press('g');
  await page.waitForFunction(() => document.querySelector('#map').dataset.projection === 'flat');
  const f = await dragFrames(page, 30);
  recordResults({ flat_50m_drag_frame_p50_ms: f.p50, flat_50m_drag_frame_p95_ms: f.p95, flat_50m_drag_ms_per_move: f.perMove });
  console.log(`flat drag (1:50m): frame interval p50 ${f.p50.toFixed(1)} ms, p95 ${f.p95.toFixed(1)} ms, ${f.perMove.toFixed(1)} ms per move`);
  // Back to the whole world.
  await page.keyboard.press('0');
});

test('the tile layer is off by default and asks for tiles only once switched on', async () => {
  const { page, requests } = session;
  const tileRequests = () => requests.filter((u) => u.includes('/test-tiles/'));
  // A 1x1 PNG served locally stands for the tile server (no request leaves the machine).
  const png = Buffer.from(
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
    'base64');
  await page.route('**/test-tiles/**', (route) => route.fulfill({ status: 200, contentType: 'image/png', body: png }));
  await page.waitForTimeout(300);
  assert.equal(tileRequests().length, 0);
  await page.click('#layers-toggle');
  await page.fill('#tiles-template', `${relay.url}/test-tiles/{z}/{x}/{y}.png`);
  await page.press('#tiles-template', 'Tab');
  assert.equal(tileRequests().length, 0, 'editing the URL alone asks for nothing');
  await page.check('#tiles-on');
  await page.waitForFunction(() => true);
  for (let i = 0; i < 50 && tileRequests().length === 0; i++) await page.waitForTimeout(100);
  assert.ok(tileRequests().length > 0, 'no tile requested with the layer on');
  assert.ok(tileRequests().every((u) => /\/test-tiles\/\d+\/\d+\/\d+\.png$/.test(u)));
  await page.uncheck('#tiles-on');
  await page.click('#layers-toggle');
  assert.ok(await page.locator('#layers-panel').isHidden());
  await page.unroute('**/test-tiles/**');
});

test('help opens with ? and the button, closes with Esc; ] and [ change the speed, + and - zoom', async () => {
  const { page } = session;
  const overlay = page.locator('#help-overlay');
  assert.ok(await overlay.isHidden());
  await page.keyboard.press('?');
  await overlay.waitFor({ state: 'visible' });
  const text = await overlay.textContent();
  for (const k of ['Space', 'Esc', 'Globe', 'Faster', 'Zoom']) assert.ok(text.includes(k), `help lacks ${k}`);
  await page.keyboard.press('Escape');
  await overlay.waitFor({ state: 'hidden' });
  await page.click('#help-button');
  await overlay.waitFor({ state: 'visible' });
  await page.click('#help-close');
  await overlay.waitFor({ state: 'hidden' });

  await page.selectOption('#speed', '4');
  await page.keyboard.press(']');
  assert.equal(await page.inputValue('#speed'), '8');
  await page.keyboard.press('[');
  await page.keyboard.press('[');
  assert.equal(await page.inputValue('#speed'), '2');
  // One meaning per key: + and - zoom (as the + and − buttons do) and leave the speed alone;
  // PgUp and PgDn zoom too.
  const scale = (v) => Number(v.split(',')[2]);
  const zoomed = async (key) => {
    const before = await page.getAttribute('#map', 'data-view');
    await page.keyboard.press(key);
    await page.waitForFunction((b) => document.querySelector('#map').dataset.view !== b, before);
    return scale(await page.getAttribute('#map', 'data-view')) / scale(before);
  };
  assert.ok(await zoomed('+') > 1, '+ did not zoom in');
  assert.ok(await zoomed('-') < 1, '- did not zoom out');
  assert.equal(await page.inputValue('#speed'), '2');
  assert.ok(await zoomed('PageUp') > 1, 'PgUp did not zoom in');
});

test('a phone-sized screen: no horizontal overflow, a usable map, labelled buttons', async () => {
  const phone = await openPage(chrome.browser, {
    viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2,
  });
  try {
    const { page } = phone;
    await gotoApp(page, relay.url);
    const sizes = await page.evaluate(() => ({
      scroll: document.documentElement.scrollWidth, body: document.body.scrollWidth, inner: window.innerWidth,
    }));
    assert.ok(sizes.scroll <= sizes.inner && sizes.body <= sizes.inner, JSON.stringify(sizes));
    // Every panel and control lies within the screen's width.
    const outside = await page.evaluate(() => [...document.querySelectorAll('.panel, nav, button, footer, header')]
      .filter((el) => el.offsetParent !== null)
      .map((el) => ({ el: el.id || el.className, r: el.getBoundingClientRect() }))
      .filter(({ r }) => r.left < -1 || r.right > window.innerWidth + 1)
      .map(({ el }) => el));
    assert.deepEqual(outside, []);
    // Every button has an accessible name (text or aria-label).
    const unnamed = await page.evaluate(() => [...document.querySelectorAll('button')]
      .filter((b) => !(b.getAttribute('aria-label') || b.textContent.trim()))
      .map((b) => b.outerHTML));
    assert.deepEqual(unnamed, []);
    const v = await viewOf(page);
    assert.ok(v.box.width === 390 && v.box.height > 700);
    // The map still takes a tap: the marker shows where.
    await page.tap('#map', { position: { x: 195, y: 420 } });
    await page.locator('#marker-readout').waitFor();
    await page.click('#marker-readout button');
    await page.click('#globe-toggle');
    await page.waitForFunction(() => document.querySelector('#map').dataset.projection === 'globe');
    if (SHOTS) {
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
      await page.screenshot({ path: `${SHOTS}/screenshot-phone.png` });
    }
    assert.deepEqual(phone.errors, []);
    assert.deepEqual(phone.requests.filter((u) => !u.startsWith('http://127.0.0.1:')), []);
  } finally {
    await phone.context.close();
  }
});

test('no page errors and no request outside 127.0.0.1', async () => {
  assert.deepEqual(session.errors, []);
  assert.deepEqual(session.requests.filter((u) => !u.startsWith('http://127.0.0.1:')), []);
});
