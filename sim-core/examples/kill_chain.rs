//! Whole-kill-chain speed: a raid of SCUD-Cs through flight, sensing, tracking, command and
//! control and interceptors ([`sim_core::engagement::workload::KillChainWorkload`], the same
//! code as the wasm benchmark in `tests/node/compare_events.mjs --bench`), timed in windows of
//! 50 simulated seconds. Results in `docs/benchmarks.md`.
//!
//! `cargo run --release -p sim-core --example kill_chain -- [MISSILES RADARS BATTERIES UNTIL_S]`
//! (default 500 30 20 and until idle, at most 2,000 s).

use std::time::Instant;

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
    let t = Instant::now();
    let mut w = match KillChainWorkload::new(m, r, b, 1) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("cannot build the workload: {e}");
            std::process::exit(1);
        }
    };
    println!(
        "{m} missiles, {r} radars, {b} batteries: setup {:.2} s",
        t.elapsed().as_secs_f64()
    );
    let start = Instant::now();
    let mut simulated = 0.0;
    let mut window = 50.0;
    while window <= until + 49.9 {
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
        println!(
            "{:>5.0}-{:>4.0} s: {:6.2} simulated s per wall s; {flying} missiles flying, {} tracks, \
             {rounds} rounds fired, predictions reused/computed {:?}",
            window - 50.0,
            window.min(until),
            s / wall,
            w.sim.tracker().tracks().len(),
            d.predictions.hits_misses
        );
        if s < 49.9 {
            break;
        }
        window += 50.0;
    }
    let wall = start.elapsed().as_secs_f64();
    println!(
        "total: {simulated:.1} simulated s in {wall:.1} wall s: {:.2} simulated s per wall s",
        simulated / wall
    );
}
