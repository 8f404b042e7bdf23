// Shared harness of the browser tests: starts the relay on an ephemeral loopback port serving
// the release build, launches Debian's Chromium headless with a fresh profile, records every
// request the page makes, and cleans everything up afterwards.
import { spawn } from 'node:child_process';
import { rmSync, readdirSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const RELAY_BIN = process.env.MDSIM_RELAY_BIN ?? '../../target/debug/relay-server';
const DIST_DIR = process.env.MDSIM_DIST_DIR ?? '../../dist';
const CHROMIUM = process.env.MDSIM_CHROMIUM ?? '/usr/bin/chromium';

/** Starts the relay on 127.0.0.1 with an OS-chosen port; resolves with its base URL. */
export async function startRelay() {
  if (!existsSync(join(DIST_DIR, 'index.html'))) {
    throw new Error(`no release build in ${DIST_DIR}: run \`cargo xtask build\` first`);
  }
  const child = spawn(RELAY_BIN, ['--bind', '127.0.0.1', '--port', '0', '--dist-dir', DIST_DIR], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, RUST_LOG: 'warn' },
  });
  let output = '';
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`relay did not start in 20 s:\n${output}`)), 20_000);
    const onData = (chunk) => {
      output += chunk;
      const m = output.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (c) => { output += c; });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`relay exited (${code}):\n${output}`)); });
  });
  return {
    url,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Launches headless Chromium with flags that work as root on a closed network. */
export async function launchBrowser() {
  // Playwright gives each launch a fresh temporary profile (it refuses --user-data-dir).
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
  return {
    browser,
    async close() {
      await browser.close();
      // Chromium leaves 10-50 MB folders in /tmp per session.
      for (const name of readdirSync(tmpdir())) {
        if (name.startsWith('org.chromium.Chromium.')) {
          rmSync(join(tmpdir(), name), { recursive: true, force: true });
        }
      }
    },
  };
}

/** Opens a page that records its requests, console errors and uncaught exceptions. */
export async function openPage(browser, options = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 }, ...options });
  const page = await context.newPage();
  const requests = [];
  const errors = [];
  page.on('request', (r) => requests.push(r.url()));
  page.on('websocket', (ws) => requests.push(ws.url()));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  return { context, page, requests, errors };
}

/** Merges figures into the results file that `docs/benchmarks.md` quotes. */
export function recordResults(figures) {
  const file = process.env.MDSIM_RESULTS;
  if (!file) return;
  let current = {};
  try { current = JSON.parse(readFileSync(file, 'utf8')); } catch { /* first write */ }
  writeFileSync(file, JSON.stringify({ ...current, ...figures }, null, 2));
}

export { DIST_DIR };

/** The map's viewport as the app reports it: centre and scale in pixels per degree. */
export async function viewOf(page) {
  const raw = await page.getAttribute('#map', 'data-view');
  const [lon, lat, scale] = raw.split(',').map(Number);
  const box = await page.locator('#map').boundingBox();
  return { lon, lat, scale, box };
}

/** Page coordinates of a geographic point (equirectangular, nearest world copy). */
export function project(view, lat, lon) {
  let dlon = lon - view.lon;
  dlon = ((dlon + 180) % 360 + 360) % 360 - 180;
  return {
    x: view.box.x + view.box.width / 2 + dlon * view.scale,
    y: view.box.y + view.box.height / 2 - (lat - view.lat) * view.scale,
  };
}

/** Geographic point under page coordinates. */
export function unproject(view, x, y) {
  const lon = view.lon + (x - view.box.x - view.box.width / 2) / view.scale;
  return {
    lat: view.lat - (y - view.box.y - view.box.height / 2) / view.scale,
    lon: ((lon + 180) % 360 + 360) % 360 - 180,
  };
}

/** Zooms (wheel) around a geographic point until the scale reaches `minScale` px/deg. */
export async function zoomTo(page, at, minScale) {
  for (let i = 0; i < 12; i++) {
    const view = await viewOf(page);
    if (view.scale >= minScale) return view;
    const p = project(view, at.lat, at.lon);
    await page.mouse.move(p.x, p.y);
    const before = await page.getAttribute('#map', 'data-view');
    await page.mouse.wheel(0, -400);
    await page.waitForFunction((b) => document.querySelector('#map').dataset.view !== b, before);
    await page.waitForTimeout(50);
  }
  return viewOf(page);
}

/** The intervals (ms) between the page's animation frames over `ms` of its time. */
export async function frameIntervals(page, ms) {
  return page.evaluate((ms) => new Promise((resolve) => {
    const out = [];
    let last = null;
    const start = performance.now();
    const tick = (ts) => {
      if (last !== null) out.push(ts - last);
      last = ts;
      if (ts - start < ms) requestAnimationFrame(tick); else resolve(out);
    };
    requestAnimationFrame(tick);
  }), ms);
}

/** The midpoint of the great circle between two points (normalised vector sum). */
export function greatCircleMid(a, b) {
  const rad = Math.PI / 180;
  const vec = (q) => [Math.cos(q.lat * rad) * Math.cos(q.lon * rad),
    Math.cos(q.lat * rad) * Math.sin(q.lon * rad), Math.sin(q.lat * rad)];
  const [x, y, z] = vec(a).map((c, i) => c + vec(b)[i]);
  return { lat: Math.atan2(z, Math.hypot(x, y)) / rad, lon: Math.atan2(y, x) / rad };
}

/** Great-circle distance (m) on the mean Earth sphere (haversine). */
export function distanceM(a, b) {
  const r = 6_371_008.8;
  const rad = Math.PI / 180;
  const dlat = (b.lat - a.lat) * rad;
  const dlon = (b.lon - a.lon) * rad;
  const h = Math.sin(dlat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dlon / 2) ** 2;
  return 2 * r * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** Opens the app at `url` in `page` and waits for the first drawn map (the app's
 * `mdsim:first-map` performance mark). */
export async function gotoApp(page, url) {
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForFunction(
    () => performance.getEntriesByName('mdsim:first-map').length > 0, null, { timeout: 30_000 });
}

/** The relay serving the built app, a browser, and one page opened on the app with its first
 * map drawn: what most test files start with. Close it all with [`stopApp`]. */
export async function startApp() {
  const relay = await startRelay();
  const chrome = await launchBrowser();
  const session = await openPage(chrome.browser);
  await gotoApp(session.page, relay.url);
  return { relay, chrome, session };
}

/** Closes what [`startApp`] opened (any part may be missing if starting failed). */
export async function stopApp({ relay, chrome, session }) {
  await session?.context.close();
  await chrome?.close();
  await relay?.stop();
}
