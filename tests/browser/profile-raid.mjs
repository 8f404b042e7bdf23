// Profiles the 500-missile raid at 64x: where the main thread's time goes, frame by frame.
// Not a test: run by hand when the raid's frame times need explaining, e.g.
//   MDSIM_RELAY_BIN=$CARGO_TARGET_DIR/debug/relay-server node profile-raid.mjs [seconds]
// With MDSIM_DRAG=1 the map is dragged (pointer held down, 3 px every 30 ms) all along the
// measured window, as someone panning during the raid.
// It prints the frame intervals and the main thread's time per trace event name (top-level
// events only, so the figures add up), and with MDSIM_TRACE_OUT writes the raw trace that
// chrome://tracing or the Performance panel opens.
import { writeFileSync } from 'node:fs';
import { viewOf, project, startApp, stopApp, frameIntervals, zoomTo } from './harness.mjs';

const seconds = Number(process.argv[2] ?? 3);
const app = await startApp();
try {
  const { page } = app.session;
  await page.selectOption('#preset', 'empty');
  await page.fill('#salvo-count', '500');
  await page.press('#salvo-count', 'Tab');
  await page.fill('#salvo-spacing', '0.1');
  await page.press('#salvo-spacing', 'Tab');
  await page.selectOption('#speed', '64');
  if ((await page.getAttribute('#launch-mode', 'aria-pressed')) !== 'true') await page.click('#launch-mode');
  // Zoomed on Southern California, as the browser test is when it measures.
  await zoomTo(page, { lat: 35.3, lon: -120.7 }, 40);
  const view = await viewOf(page);
  const site = project(view, 36.5, -123.1);
  const target = project(view, 34.5, -119.5);
  await page.mouse.click(site.x, site.y);
  await page.mouse.click(target.x, target.y);
  await page.click('#launch-mode');
  await page.waitForFunction(() => document.querySelector('#counters').dataset.launches === '500',
    null, { timeout: 180_000, polling: 500 });

  const cdp = await page.context().newCDPSession(page);
  if (process.env.MDSIM_CPU_PROFILE) {
    // A sampling profile of the script (wasm functions by name) instead of the trace.
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
    await cdp.send('Profiler.start');
    await page.waitForTimeout(seconds * 1000);
    const { profile } = await cdp.send('Profiler.stop');
    const dt = new Map();
    profile.samples.forEach((id, i) => dt.set(id, (dt.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
    const self = new Map();
    for (const n of profile.nodes) {
      const name = n.callFrame.functionName || `(${n.callFrame.url.split('/').pop() || 'anonymous'})`;
      self.set(name, (self.get(name) ?? 0) + (dt.get(n.id) ?? 0));
    }
    const all = [...self.values()].reduce((a, b) => a + b, 0);
    if (process.env.MDSIM_CALLERS_OF) {
      // Who calls a function: its callers' chains, by time.
      const parent = new Map();
      for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n);
      const chains = new Map();
      for (const n of profile.nodes) {
        if (n.callFrame.functionName !== process.env.MDSIM_CALLERS_OF) continue;
        const chain = [];
        for (let p = parent.get(n.id); p && chain.length < 8; p = parent.get(p.id)) {
          chain.push(p.callFrame.functionName.replace(/::h[0-9a-f]{16}$/, '').slice(-60));
        }
        const k = chain.join(' < ');
        chains.set(k, (chains.get(k) ?? 0) + (dt.get(n.id) ?? 0));
      }
      for (const [k, us] of [...chains.entries()].sort((a, b) => b[1] - a[1]).slice(0, 8)) {
        console.log(`${(100 * us / all).toFixed(2)}%  ${k}`);
      }
    }
    for (const [name, us] of [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 40)) {
      console.log(`  ${(100 * us / all).toFixed(1).padStart(5)}%  ${name.slice(0, 110)}`);
    }
    process.exit(0);
  }
  const events = [];
  cdp.on('Tracing.dataCollected', (d) => events.push(...d.value));
  const done = new Promise((r) => cdp.once('Tracing.tracingComplete', r));
  await cdp.send('Tracing.start', {
    categories: 'devtools.timeline,disabled-by-default-devtools.timeline,v8.execute,blink,cc,gpu,viz',
    transferMode: 'ReportEvents',
  });
  const tick0 = Number(await page.getAttribute('#sim-time', 'data-tick'));
  const sampled = frameIntervals(page, seconds * 1000);
  if (process.env.MDSIM_DRAG) {
    const at = { x: view.box.x + 300, y: view.box.y + 300 };
    await page.mouse.move(at.x, at.y);
    await page.mouse.down();
    const t0 = Date.now();
    for (let i = 0; Date.now() - t0 < seconds * 1000 - 100; i++) {
      await page.mouse.move(at.x + (i % 20) * 3, at.y + (i % 20) * 2);
      await page.waitForTimeout(30);
    }
    await page.mouse.up();
  }
  const frames = await sampled;
  const d = await page.evaluate(() => ({ ...document.querySelector('#sim-time').dataset }));
  await cdp.send('Tracing.end');
  await done;
  if (process.env.MDSIM_TRACE_OUT) writeFileSync(process.env.MDSIM_TRACE_OUT, JSON.stringify(events));

  const sorted = [...frames].sort((a, b) => a - b);
  const q = (f) => sorted[Math.min(sorted.length - 1, Math.floor(f * sorted.length))].toFixed(1);
  console.log(`${frames.length} frames: p50 ${q(0.5)} ms, p95 ${q(0.95)} ms, max ${q(1)} ms`);
  const speed = ((Number(d.tick) - tick0) * 0.1) / (frames.reduce((a, b) => a + b, 0) / 1000);
  console.log(`app: step ${d.stepMs} ms, draw ${d.drawMs} ms per frame; ${speed.toFixed(1)}x achieved`);

  // The renderer's main thread: the thread named CrRendererMain.
  const names = new Map();
  for (const e of events) {
    if (e.ph === 'M' && e.name === 'thread_name') names.set(`${e.pid}:${e.tid}`, e.args.name);
  }
  const main = events.filter((e) => names.get(`${e.pid}:${e.tid}`) === 'CrRendererMain' && e.ph === 'X' && e.dur);
  main.sort((a, b) => a.ts - b.ts || b.dur - a.dur);
  // Self time by name, nesting resolved with a stack of open events.
  const self = new Map();
  const total = new Map();
  const stack = [];
  for (const e of main) {
    while (stack.length && stack[stack.length - 1].ts + stack[stack.length - 1].dur <= e.ts) stack.pop();
    const parent = stack[stack.length - 1];
    if (parent) self.set(parent.name, (self.get(parent.name) ?? 0) - e.dur);
    self.set(e.name, (self.get(e.name) ?? 0) + e.dur);
    total.set(e.name, (total.get(e.name) ?? 0) + e.dur);
    stack.push(e);
  }
  const wall = seconds * 1e6;
  const rows = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 25);
  console.log('main thread, self time (% of wall) / total time:');
  for (const [name, us] of rows) {
    console.log(`  ${(100 * us / wall).toFixed(1).padStart(5)}%  ${(100 * total.get(name) / wall).toFixed(1).padStart(5)}%  ${name}`);
  }
} finally {
  await stopApp(app);
}
