// The kill-chain benchmark's workload in headless Chromium gives the same state as in Node and
// natively: the first 100 simulated seconds of the 500-missile, 30-radar, 20-battery raid run
// by `kill-chain-bench.mjs` (the runner `cargo xtask bench --only chromium` times), by the same
// loop in this Node process on the same package, and by `examples/kill_chain.rs`, with the state
// hash and rounds fired compared at every 50 s window. Correctness only: the speed is a
// benchmark figure (`cargo xtask bench`), never asserted here.
//
// Inputs (set by `cargo xtask test`): MDSIM_SIM_CORE_PKG, the package `sim-core/tests/node/run.sh`
// built (default ../../target/sim-core-pkg), and MDSIM_KILL_CHAIN_BIN, the native example
// `cargo test` built (default ../../target/debug/examples/kill_chain).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runInChromium } from './kill-chain-bench.mjs';
import { runKillChain, sameWindows } from '../../sim-core/tests/node/kill_chain.mjs';

const PKG = resolve(process.env.MDSIM_SIM_CORE_PKG ?? '../../target/sim-core-pkg');
const NATIVE = resolve(process.env.MDSIM_KILL_CHAIN_BIN ?? '../../target/debug/examples/kill_chain');
const UNTIL_S = 100;

test('the first 100 s of the 500/30/20 kill chain: Chromium, Node and native agree bit for bit', async () => {
  for (const [what, path] of [['the wasm package', join(PKG, 'sim_core.js')], ['the native example', NATIVE]]) {
    assert.ok(existsSync(path), `${what} is missing at ${path}: \`cargo xtask test\` builds it`);
  }
  const chromium = await runInChromium({ pkg: PKG, untilS: UNTIL_S, maxWallS: null });

  const wasm = await import(pathToFileURL(join(PKG, 'sim_core.js')).href);
  wasm.initSync({ module: readFileSync(join(PKG, 'sim_core_bg.wasm')) });
  const node = await runKillChain(wasm, { untilS: UNTIL_S, label: 'node' });

  const out = execFileSync(NATIVE, ['500', '30', '20', String(UNTIL_S)], { encoding: 'utf8', maxBuffer: 1 << 24 });
  const line = out.split('\n').find((l) => l.startsWith('result '));
  assert.ok(line, `no result line from ${NATIVE}:\n${out}`);
  const native = JSON.parse(line.slice('result '.length));

  for (const run of [chromium, node, native]) {
    assert.equal(run.ended, 'until');
    assert.deepEqual(run.windows.map((w) => w.to_s), [50, 100]);
    assert.equal(run.simulated_s, chromium.simulated_s);
  }
  // The state moved between the windows (the raid launches five missiles a second).
  assert.notEqual(chromium.windows[0].state_hash, chromium.windows[1].state_hash);
  for (const [name, other] of [['Node', node], ['native', native]]) {
    const { compared, diffs } = sameWindows(chromium, other);
    assert.equal(compared, 2, `windows compared with ${name}`);
    assert.deepEqual(diffs, [], `Chromium against ${name}`);
  }
  assert.equal(chromium.browser.split('.').length, 4, `browser version ${chromium.browser}`);
});
