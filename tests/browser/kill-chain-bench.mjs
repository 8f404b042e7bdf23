// The kill-chain benchmark in headless Chromium: serves the sim-core wasm package (`--target
// web`, feature `js`, as `sim-core/tests/node/run.sh` builds it) and the shared benchmark loop
// (`sim-core/tests/node/kill_chain.mjs`, the one Node runs) from a loopback server of its own,
// opens a page in the project's Chromium (`harness.mjs`), and runs the loop there on the page's
// main thread. The figures are therefore defined exactly as in Node and natively; each window
// carries the state hash at its end for comparison with them.
//
// Usage (the command `cargo xtask bench --only chromium` runs):
//   node tests/browser/kill-chain-bench.mjs --pkg DIR [--until S] [--max-wall S]
// prints the readable lines, then `bench chromium kill_chain result {...}` (one JSON object, the
// fields of `examples/kill_chain.rs`'s result). Defaults: until 150 simulated s, no wall limit.
// Bounded in time by --max-wall (the loop stops after the first window past it) and by a
// watchdog that ends the process, closing Chromium, at 4 x max-wall + 120 s.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchBrowser, openPage } from './harness.mjs';

const SHARED_LOOP = fileURLToPath(new URL('../../sim-core/tests/node/kill_chain.mjs', import.meta.url));

/** The page: loads the package and the shared loop, then says it is ready. */
const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>kill chain benchmark</title>
<link rel="icon" href="data:,">
<script type="module">
import init, * as wasm from '/pkg/sim_core.js';
import { runKillChain } from '/kill_chain.mjs';
await init();
window.runKillChain = (options) => runKillChain(wasm, { ...options, log: (line) => console.log(line) });
document.title = 'ready';
</script>
`;

const TYPES = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm' };

/**
 * Serves the page, the shared loop and the package's two files on 127.0.0.1 (port chosen by the
 * OS); nothing else is reachable. Resolves with `{ url, close }`.
 */
export async function serveKillChainPage(pkgDir) {
  const files = new Map([
    ['/kill_chain.mjs', SHARED_LOOP],
    ['/pkg/sim_core.js', join(pkgDir, 'sim_core.js')],
    ['/pkg/sim_core_bg.wasm', join(pkgDir, 'sim_core_bg.wasm')],
  ]);
  const server = createServer(async (req, res) => {
    const path = new URL(req.url, 'http://localhost').pathname;
    try {
      if (path === '/') {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end(PAGE);
        return;
      }
      const file = files.get(path);
      if (!file) {
        res.writeHead(404).end();
        return;
      }
      const body = await readFile(file);
      const ext = basename(file).slice(basename(file).lastIndexOf('.'));
      res.writeHead(200, { 'content-type': TYPES[ext] ?? 'application/octet-stream' });
      res.end(body);
    } catch (e) {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(String(e));
    }
  });
  await new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', ok);
  });
  return {
    url: `http://127.0.0.1:${server.address().port}/`,
    close: () => new Promise((ok) => server.close(ok)),
  };
}

/**
 * Runs the kill chain in a fresh headless Chromium page and resolves with the loop's result.
 * `untilS` and `maxWallS` as in `kill_chain.mjs`; `log` receives the page's lines as they come.
 */
export async function runInChromium({ pkg, untilS = 150, maxWallS = null, log = () => {} }) {
  const server = await serveKillChainPage(resolve(pkg));
  let chrome;
  try {
    chrome = await launchBrowser();
    const { context, page, errors } = await openPage(chrome.browser);
    page.on('console', (m) => { if (m.type() === 'log') log(m.text()); });
    await page.goto(server.url, { waitUntil: 'load' });
    await page.waitForFunction(() => document.title === 'ready', null, { timeout: 60_000 })
      .catch((e) => { throw new Error(`the page did not load the package: ${errors.join('; ') || e.message}`); });
    const result = await page.evaluate(
      (o) => window.runKillChain(o),
      { untilS, maxWallS: Number.isFinite(maxWallS) ? maxWallS : null, label: 'chromium' },
    );
    if (errors.length > 0) throw new Error(`page errors: ${errors.join('; ')}`);
    result.browser = chrome.browser.version();
    await context.close();
    return result;
  } finally {
    await chrome?.close();
    await server.close();
  }
}

function parseArgs(argv) {
  const out = { pkg: null, untilS: 150, maxWallS: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = Number(argv[++i]);
      if (!(v >= 0)) throw new Error(`${a} needs a number of seconds`);
      return v;
    };
    if (a === '--pkg') out.pkg = argv[++i];
    else if (a === '--until') out.untilS = value();
    else if (a === '--max-wall') out.maxWallS = value();
    else throw new Error(`unknown argument ${a}`);
  }
  if (!out.pkg) throw new Error('usage: kill-chain-bench.mjs --pkg DIR [--until S] [--max-wall S]');
  return out;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(e.message);
    process.exit(2);
  }
  // The loop stops itself after max-wall; this only catches a hung browser.
  const watchdogS = Number.isFinite(args.maxWallS) ? 4 * args.maxWallS + 120 : null;
  if (watchdogS) {
    setTimeout(() => {
      console.error(`no result after ${watchdogS} s: stopping`);
      process.exitCode = 1;
      process.kill(process.pid, 'SIGTERM');
    }, watchdogS * 1000).unref();
  }
  try {
    const result = await runInChromium({ ...args, log: (line) => console.log(line) });
    console.log(`bench chromium kill_chain result ${JSON.stringify(result)}`);
  } catch (e) {
    console.error(`FAIL kill chain in Chromium: ${e.stack ?? e}`);
    process.exitCode = 1;
  }
}
