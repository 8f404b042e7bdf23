//! Engine ticks with a large raid in flight ([`Raid::spread`]: SCUD-Cs 10% to 95% into their
//! flights, the workload of the criterion benchmark `engine/one_tick_5000_in_flight`): sets the
//! raid up, then times `TICKS` engine ticks and prints the mean per tick.
//!
//! `cargo run --release -p sim-core --example raid_tick -- [MISSILES [TICKS]]` (default 5000 10).
//! For instruction counts of the ticks alone:
//! `valgrind --tool=callgrind --toggle-collect='*Raid*step*' target/release/examples/raid_tick`.

use std::time::Instant;

use sim_core::flight::Phase;
use sim_core::flight::workload::Raid;

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let n = args.first().copied().unwrap_or(5_000);
    let ticks = args.get(1).copied().unwrap_or(10).max(1);
    let t = Instant::now();
    let mut raid = Raid::spread(n);
    let setup = t.elapsed().as_secs_f64();
    let phases = |raid: &Raid, p: Phase| {
        raid.sim
            .missiles()
            .iter()
            .filter(|m| m.flight.phase == p)
            .count()
    };
    println!(
        "{n} rounds set up in {setup:.1} s: {} in boost, {} in coast, {} in re-entry, {} down",
        phases(&raid, Phase::Boost),
        phases(&raid, Phase::Coast),
        phases(&raid, Phase::Reentry),
        phases(&raid, Phase::Impacted),
    );
    let t = Instant::now();
    let flown = raid.step(ticks as u32);
    let s = t.elapsed().as_secs_f64();
    println!(
        "{ticks} ticks, {flown} missile-ticks: {:.3} ms per tick, {:.0} ns per missile-tick \
         (wall clock)",
        s * 1e3 / ticks as f64,
        s * 1e9 / flown as f64
    );
}
