//! Whole-kill-chain speed: a raid of SCUD-Cs through flight, sensing, tracking, command and
//! control and interceptors ([`sim_core::engagement::workload::KillChainWorkload`], the same
//! code as the wasm benchmark in `tests/node/compare_events.mjs --bench`), timed in windows of
//! 50 simulated seconds. Results in `docs/benchmarks.md`; `cargo xtask bench` runs it.
//!
//! `cargo run --release -p sim-core --example kill_chain -- [MISSILES RADARS BATTERIES UNTIL_S MAX_WALL_S]`
//! (default 500 30 20, until idle at most 2,000 s simulated, no wall-clock limit). With
//! `MAX_WALL_S` the run stops after the first window that ends past that many wall seconds.
//!
//! Output: one readable line per window, then the last line, machine-readable, starts with
//! `result ` followed by one JSON object: `simulated_s`, `wall_s`, `sim_s_per_wall_s` (the
//! whole run, setup excluded), `min_window_sim_s_per_wall_s`, `windows` (`from_s`, `to_s`,
//! `sim_s_per_wall_s`, and the state at its end: `state_hash` in 16 hexadecimal digits and
//! `rounds_fired`, which the wasm runs in Node and Chromium must match bit for bit), and
//! `ended`: `"idle"` (launch to last impact: the whole engagement), `"until"` (`UNTIL_S`
//! reached first) or `"wall_budget"` (`MAX_WALL_S` reached first).

use std::time::Instant;

use serde_json::json;
use sim_core::engagement::workload::KillChainWorkload;

fn main() {
    let args: Vec<f64> = std::env::args()
        .skip(1)
        .map(|a| a.parse().unwrap_or(f64::NAN))
        .collect();
    let arg = |i: usize, default: f64| {
        args.get(i)
            .copied()
            .filter(|v| v.is_finite() && *v >= 0.0)
            .unwrap_or(default)
    };
    let (m, r, b) = (
        arg(0, 500.0) as u32,
        arg(1, 30.0) as u32,
        arg(2, 20.0) as u32,
    );
    let until = arg(3, 2_000.0);
    let max_wall = arg(4, f64::INFINITY);
    let t = Instant::now();
    let mut w = match KillChainWorkload::new(m, r, b, 1) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("cannot build the workload: {e}");
            std::process::exit(1);
        }
    };
    let setup_s = t.elapsed().as_secs_f64();
    println!("{m} missiles, {r} radars, {b} batteries: setup {setup_s:.2} s");
    let start = Instant::now();
    let mut simulated = 0.0;
    let mut window = 50.0;
    let mut windows = Vec::new();
    let mut ended = "until";
    while window <= until + 49.9 {
        let from = w.sim.time_s();
        let t = Instant::now();
        let s = w.run_until(window.min(until));
        simulated += s;
        let wall = t.elapsed().as_secs_f64();
        let d = w.sim.defense();
        let rounds: u32 = d.batteries.iter().map(|b| b.rounds_fired).sum();
        let flying = w
            .sim
            .missiles()
            .iter()
            .filter(|m| {
                m.killed_at.is_none() && m.flight.phase != sim_core::flight::Phase::Impacted
            })
            .count();
        let rate = s / wall;
        println!(
            "{:>5.0}-{:>4.0} s: {rate:6.2} simulated s per wall s; {flying} missiles flying, {} tracks, \
             {rounds} rounds fired, predictions reused/computed {:?}",
            from,
            w.sim.time_s(),
            w.sim.tracker().tracks().len(),
            d.predictions.hits_misses
        );
        if s > 0.0 {
            windows.push(json!({
                "from_s": from, "to_s": w.sim.time_s(), "sim_s_per_wall_s": rate,
                "state_hash": format!("{:016x}", w.sim.state_hash()), "rounds_fired": rounds,
            }));
        }
        if s < 49.9 && window <= until {
            ended = "idle";
            break;
        }
        if start.elapsed().as_secs_f64() > max_wall && window < until {
            ended = "wall_budget";
            break;
        }
        window += 50.0;
    }
    let wall = start.elapsed().as_secs_f64();
    println!(
        "total: {simulated:.1} simulated s in {wall:.1} wall s: {:.2} simulated s per wall s ({ended})",
        simulated / wall
    );
    let min_window = windows
        .iter()
        .filter_map(|w| w["sim_s_per_wall_s"].as_f64())
        .fold(f64::INFINITY, f64::min);
    let result = json!({
        "missiles": m, "radars": r, "batteries": b, "setup_s": setup_s,
        "simulated_s": simulated, "wall_s": wall, "sim_s_per_wall_s": simulated / wall,
        "min_window_sim_s_per_wall_s": if min_window.is_finite() { Some(min_window) } else { None },
        "windows": windows, "ended": ended,
    });
    println!("result {result}");
}
