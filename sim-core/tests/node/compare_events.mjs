// Node test of the `js` package: drive a scenario through the wasm build and compare every
// event, bit for bit, and the final state hash with the native `mdsim run`. This doubles as the
// wasm side of the determinism test. It also times the shared benchmark workload in wasm.
//
// Usage:
//   node sim-core/tests/node/compare_events.mjs --pkg DIR --mdsim PATH SCENARIO.json [...]
// where DIR is the output of
//   wasm-pack build sim-core --target web --mode no-install --out-dir DIR -- --no-default-features --features js
// and PATH is a built `mdsim` binary. Exit status 0 when everything matches.

import { readFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { performance } from "node:perf_hooks";
import { runKillChain } from "./kill_chain.mjs";

function parseArgs(argv) {
  const out = { pkg: null, mdsim: null, scenarios: [], bench: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--pkg") out.pkg = argv[++i];
    else if (a === "--mdsim") out.mdsim = argv[++i];
    else if (a === "--bench") out.bench = true;
    else out.scenarios.push(a);
  }
  if (!out.pkg || !out.mdsim || out.scenarios.length === 0) {
    console.error("usage: compare_events.mjs --pkg DIR --mdsim PATH [--bench] SCENARIO.json...");
    process.exit(2);
  }
  return out;
}

// Deep equality where numbers must be the same double (Object.is: 0 and -0 differ).
function sameValue(a, b, path, diffs) {
  if (typeof a === "number" && typeof b === "number") {
    if (!Object.is(a, b)) diffs.push(`${path}: ${a} != ${b}`);
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) diffs.push(`${path}: length ${a.length} != ${b.length}`);
    for (let i = 0; i < Math.min(a.length, b.length); i++) sameValue(a[i], b[i], `${path}[${i}]`, diffs);
    return;
  }
  if (a && b && typeof a === "object" && typeof b === "object") {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) sameValue(a[k], b[k], `${path}.${k}`, diffs);
    return;
  }
  if (a !== b) diffs.push(`${path}: ${JSON.stringify(a)} != ${JSON.stringify(b)}`);
}

const args = parseArgs(process.argv.slice(2));
const pkgDir = resolve(args.pkg);
const wasm = await import(pathToFileURL(join(pkgDir, "sim_core.js")).href);
wasm.initSync({ module: readFileSync(join(pkgDir, "sim_core_bg.wasm")) });

let failures = 0;
for (const file of args.scenarios) {
  const text = readFileSync(file, "utf8");
  const nativeLines = execFileSync(args.mdsim, ["run", file, "--events"], { encoding: "utf8", maxBuffer: 1 << 28 })
    .split("\n")
    .filter((l) => l.trim() !== "");
  const nativeEvents = nativeLines.map((l) => JSON.parse(l));
  const nativeSummary = JSON.parse(execFileSync(args.mdsim, ["run", file, "--json"], { encoding: "utf8" }));

  const sim = new wasm.WasmSimulation(text);
  const wasmEvents = [];
  const t0 = performance.now();
  // Same stopping rule as `mdsim run`: until idle, at most 20,000 s.
  while (!sim.is_idle() && sim.tick() < 200000) {
    for (const e of JSON.parse(sim.step("[]"))) wasmEvents.push(e);
  }
  const ms = performance.now() - t0;
  const diffs = [];
  sameValue(nativeEvents, wasmEvents, "events", diffs);
  if (sim.state_hash() !== nativeSummary.state_hash) {
    diffs.push(`state hash: wasm ${sim.state_hash()} != native ${nativeSummary.state_hash}`);
  }
  if (sim.tick() !== nativeSummary.ticks) diffs.push(`ticks: wasm ${sim.tick()} != native ${nativeSummary.ticks}`);
  // Snapshot round trip through JSON resumes with the same hash.
  const restored = wasm.WasmSimulation.restore(sim.snapshot());
  if (restored.state_hash() !== sim.state_hash()) diffs.push("snapshot round trip changed the state hash");
  if (diffs.length > 0) {
    failures++;
    console.error(`FAIL ${file}: ${diffs.length} differences, first: ${diffs.slice(0, 5).join("; ")}`);
  } else {
    console.log(`ok   ${file}: ${wasmEvents.length} events identical, state hash ${sim.state_hash()}, ${sim.tick()} ticks in ${ms.toFixed(0)} ms`);
  }
}

// The solver is reachable from JavaScript and refuses with the distance and the limit.
const solved = JSON.parse(wasm.solve_trajectory(JSON.stringify({
  kind: "SCUD-C", from: { lat_deg: 36.5, lon_deg: -123.1 }, to: { lat_deg: 34.05, lon_deg: -118.25 }, profile: "min-energy",
})));
if (!(solved.miss_m < 100)) { failures++; console.error(`FAIL solve_trajectory miss ${solved.miss_m}`); }
try {
  wasm.solve_trajectory(JSON.stringify({
    kind: "SCUD-C", from: { lat_deg: 34.05, lon_deg: -118.25 }, to: { lat_deg: 33.749, lon_deg: -84.388 }, profile: "min-energy",
  }));
  failures++;
  console.error("FAIL Los Angeles -> Atlanta was not refused");
} catch (e) {
  if (!/3111 km/.test(String(e.message)) || !/527 km/.test(String(e.message))) {
    failures++;
    console.error(`FAIL refusal message: ${e.message}`);
  } else {
    console.log(`ok   refusal: ${e.message}`);
  }
}

if (args.bench) {
  // Same workload as the criterion benchmark `flight/missile_ticks_boost_N`.
  for (const [name, n, ticks, reps] of [
    ["missile_ticks_boost_1", 1, 100, 200],
    ["missile_ticks_boost_1000", 1000, 100, 3],
    ["missile_ticks_full_flight_100", 100, 5000, 2],
  ]) {
    wasm.bench_fly_swarm(n, 10); // warm-up
    const t = performance.now();
    let steps = 0;
    for (let r = 0; r < reps; r++) steps += wasm.bench_fly_swarm(n, ticks);
    const s = (performance.now() - t) / 1000;
    console.log(`bench wasm ${name}: ${(steps / s / 1e6).toFixed(3)} M missile-ticks/s`);
  }
  // Same workload as the criterion benchmark `engine/one_tick_500_scud_c_in_flight`: one
  // engine tick with the web app's 500-round salvo in flight, from the same state each time.
  {
    let t = performance.now();
    const raid = new wasm.RaidBenchJs(500);
    console.log(`bench wasm engine raid setup (500 launches): ${(performance.now() - t).toFixed(0)} ms`);
    let ms = 0;
    let flown = 0;
    const rounds = 30;
    for (let r = 0; r < rounds; r++) {
      raid.reset();
      t = performance.now();
      flown += raid.step(1);
      ms += performance.now() - t;
    }
    raid.free();
    console.log(`bench wasm engine one_tick_500_scud_c_in_flight: ${(ms / rounds).toFixed(2)} ms per tick, ${(flown / ms).toFixed(1)} k missile-ticks/s`);
  }
  // Same workload as the criterion benchmark `engine/one_tick_5000_in_flight`: 5,000 SCUD-Cs
  // 10% to 95% into their flights (`Raid::spread`), one engine tick from the same state.
  {
    let t = performance.now();
    const raid = wasm.RaidBenchJs.spread(5000);
    console.log(`bench wasm engine spread raid setup (5000 rounds): ${(performance.now() - t).toFixed(0)} ms`);
    let ms = 0;
    let flown = 0;
    const rounds = 10;
    for (let r = 0; r < rounds; r++) {
      raid.reset();
      t = performance.now();
      flown += raid.step(1);
      ms += performance.now() - t;
    }
    raid.free();
    console.log(`bench wasm engine one_tick_5000_in_flight: ${(ms / rounds).toFixed(2)} ms per tick, ${(flown / ms).toFixed(1)} k missile-ticks/s`);
  }
  // Same workload as the criterion benchmark `tracker/plots_N_objects_10_radars`.
  for (const [n, rounds] of [[10, 200], [100, 20], [1000, 3]]) {
    const b = new wasm.TrackerBenchJs(n);
    let plots = 0;
    let ms = 0;
    for (let r = 0; r < rounds; r++) {
      b.prepare();
      const t0 = performance.now();
      plots += b.process();
      ms += performance.now() - t0;
    }
    b.free();
    console.log(`bench wasm tracker plots_${n}_objects_10_radars: ${(plots / ms).toFixed(1)} k plots/s`);
  }
  // Same workload as `examples/kill_chain.rs`: the whole kill chain, 500 SCUD-Cs, 30 radars,
  // 20 batteries, up to KILL_CHAIN_UNTIL_S simulated seconds (default 150), in 50 s windows,
  // stopping after the first window that ends past KILL_CHAIN_MAX_WALL_S wall seconds (default
  // none); the loop is `kill_chain.mjs`, shared with the Chromium run. The last line, `bench
  // wasm kill_chain result {...}`, has the example's JSON fields, with each window's state hash.
  {
    const result = await runKillChain(wasm, {
      untilS: Number(process.env.KILL_CHAIN_UNTIL_S ?? 150),
      maxWallS: Number(process.env.KILL_CHAIN_MAX_WALL_S ?? Infinity),
      label: "wasm",
      log: (line) => console.log(line),
    });
    console.log(`bench wasm kill_chain result ${JSON.stringify(result)}`);
  }
  // Monte Carlo of the SoCal scenario, MONTECARLO_RUNS seeds (default 5), one thread.
  {
    const runs = Number(process.env.MONTECARLO_RUNS ?? 5);
    const socal = readFileSync("scenarios/socal-scud-c.json", "utf8");
    const t0 = performance.now();
    const report = JSON.parse(wasm.montecarlo_report(socal, runs));
    const s = (performance.now() - t0) / 1000;
    console.log(`bench wasm montecarlo socal-scud-c ${runs} runs: ${(runs / s).toFixed(2)} runs/s (leak ${report.leak?.estimate}, ${report.interceptors_mean} interceptors per run)`);
  }
  // The targeting solver on the same requests as the criterion benchmarks
  // `targeting/solve_<CLASS>` (`flight::workload::solve_requests`): the median of SOLVE_REPS
  // solves (default 5) after one warm-up solve.
  const reps = Number(process.env.SOLVE_REPS ?? 5);
  for (const req of JSON.parse(wasm.bench_solve_requests())) {
    const text = JSON.stringify(req);
    const kind = req.kind;
    try {
      wasm.solve_trajectory(text);
      const times = [];
      for (let r = 0; r < reps; r++) {
        const t = performance.now();
        wasm.solve_trajectory(text);
        times.push(performance.now() - t);
      }
      times.sort((a, b) => a - b);
      const median = times.length % 2 ? times[(times.length - 1) / 2] : (times[times.length / 2 - 1] + times[times.length / 2]) / 2;
      console.log(`bench wasm solve_${kind}: ${median.toFixed(2)} ms median of ${reps} solves`);
    } catch (e) {
      console.log(`bench wasm solve_${kind}: failed: ${e.message}`);
    }
  }
}

process.exit(failures === 0 ? 0 : 1);
