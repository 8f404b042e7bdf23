// The kill-chain benchmark loop of the wasm package, one copy for every JavaScript engine: Node
// (`compare_events.mjs --bench`) and headless Chromium (`tests/browser/kill-chain-bench.mjs`,
// which serves this file to its page) run this same function on the same package, so their
// figures are defined alike. It is the loop of `examples/kill_chain.rs`: the workload
// `KillChainBenchJs(missiles, radars, batteries)` (seed 1), stepped to 50, 100, ... simulated
// seconds (capped at `untilS`) until idle, stopping after the first window that ends past
// `maxWallS` wall seconds; setup is timed apart and excluded from the rates.
//
// The result has the example's JSON fields (`simulated_s`, `wall_s`, `sim_s_per_wall_s`,
// `min_window_sim_s_per_wall_s`, `windows`, `ended`). Each window also records the state at its
// end, `state_hash` (16 hexadecimal digits) and `rounds_fired`, the same fields the native
// example prints: `sameWindows` compares two runs on the windows both reached, so a figure is
// known to be of the real workload, bit for bit. No Node or browser API is used here besides
// `performance.now()` and `setTimeout`.

/**
 * Runs the kill chain on the wasm package `wasm` (its exports, initialised) and returns the
 * result object. `log` receives the readable lines, prefixed `bench <label> kill_chain`.
 */
export async function runKillChain(wasm, {
  missiles = 500, radars = 30, batteries = 20, untilS = 150, maxWallS = Infinity, label = 'wasm',
  log = () => {},
} = {}) {
  const maxWall = maxWallS ?? Infinity;
  const prefix = `bench ${label} kill_chain`;
  let t0 = performance.now();
  const b = new wasm.KillChainBenchJs(missiles, radars, batteries);
  const setupS = (performance.now() - t0) / 1000;
  log(`${prefix} setup (reference solve, placements): ${(setupS * 1000).toFixed(0)} ms`);
  let simulated = 0;
  const windows = [];
  let ended = 'until';
  const t1 = performance.now();
  try {
    for (let w = 50; w <= untilS + 49.9; w += 50) {
      const from = b.time_s();
      t0 = performance.now();
      const s = b.run_until(Math.min(w, untilS));
      simulated += s;
      const wall = (performance.now() - t0) / 1000;
      const rounds = b.rounds_fired();
      log(`${prefix} ${from.toFixed(0)}-${b.time_s().toFixed(0)} s: ${(s / wall).toFixed(2)} simulated s per wall s (${rounds} rounds fired so far)`);
      if (s > 0) {
        windows.push({
          from_s: from, to_s: b.time_s(), sim_s_per_wall_s: s / wall,
          state_hash: b.state_hash(), rounds_fired: rounds,
        });
      }
      if (s < 49.9 && w <= untilS) { ended = 'idle'; break; }
      if ((performance.now() - t1) / 1000 > maxWall && w < untilS) { ended = 'wall_budget'; break; }
      // Lets a page deliver its console lines and stay scriptable between windows (well under
      // a millisecond against windows of seconds; Node waits the same way).
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    const wall = (performance.now() - t1) / 1000;
    log(`bench ${label} kill_chain_${missiles}_${radars}_${batteries}: ${simulated.toFixed(1)} simulated s in ${wall.toFixed(1)} s: ${(simulated / wall).toFixed(2)} simulated s per wall s (${ended})`);
    const rates = windows.map((x) => x.sim_s_per_wall_s);
    return {
      missiles, radars, batteries, setup_s: setupS, simulated_s: simulated, wall_s: wall,
      sim_s_per_wall_s: simulated / wall, min_window_sim_s_per_wall_s: rates.length ? Math.min(...rates) : null,
      windows, ended, state_hash: b.state_hash(), rounds_fired: b.rounds_fired(),
    };
  } finally {
    b.free();
  }
}

/**
 * The differences between two results' windows that end at the same simulated time (state
 * hash, rounds fired), and how many such windows there were: `{ compared, diffs }`.
 */
export function sameWindows(a, b) {
  const byEnd = new Map(b.windows.map((w) => [w.to_s, w]));
  const diffs = [];
  let compared = 0;
  for (const w of a.windows) {
    const other = byEnd.get(w.to_s);
    if (!other) continue;
    compared++;
    if (w.state_hash !== other.state_hash) diffs.push(`at ${w.to_s} s: state hash ${w.state_hash} != ${other.state_hash}`);
    if (w.rounds_fired !== other.rounds_fired) diffs.push(`at ${w.to_s} s: rounds fired ${w.rounds_fired} != ${other.rounds_fired}`);
  }
  return { compared, diffs };
}
