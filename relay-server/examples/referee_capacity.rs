//! The public room's referee with many missiles in flight, for instruction counts:
//! `cargo run --release -p relay-server --example referee_capacity -- [MISSILES] [TICKS]`.
//!
//! Fills a referee `Simulation` (as a room runs it: default physics, seed 1) with MISSILES
//! launches of the old Locust request (SCUD-C, 36.5N 123.1W at Los Angeles, with pre-solved
//! guidance, 300 per tick as `POST /launch` at 3,000 launches/s would), then runs TICKS more
//! ticks in [`measured_ticks`] and hashes the state once in [`measured_hash`]. Nothing is
//! timed here: run it under callgrind and read the two functions' inclusive counts,
//!
//! ```text
//! valgrind --tool=callgrind --toggle-collect='*measured_ticks*' \
//!   target/release/examples/referee_capacity 20000 10
//! ```
//!
//! (and `--toggle-collect='*measured_hash*'` for the hash); the per-tick cost at 10 Hz is the
//! first divided by TICKS. The example prints how many missiles were in flight while measured.

use sim_core::earth::GeoPoint;
use sim_core::engine::LaunchCommand;
use sim_core::flight::PhysicsParams;
use sim_core::targeting::{self, Profile, TargetingRequest};
use sim_core::{Command, MissileKind, Simulation};

/// Launches per tick while filling (3,000 launches/s at 10 Hz).
const PER_TICK: usize = 300;

fn main() {
    let mut args = std::env::args().skip(1);
    let missiles: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(20_000);
    let ticks: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(10);
    if !(1..=200_000).contains(&missiles) || !(1..=1_000).contains(&ticks) {
        eprintln!("usage: referee_capacity [MISSILES 1-200000] [TICKS 1-1000]");
        std::process::exit(2);
    }
    let physics = PhysicsParams::default();
    let request = TargetingRequest {
        kind: MissileKind::ScudC,
        from: GeoPoint::new(36.5, -123.1),
        to: GeoPoint::new(34.05, -118.25),
        profile: Profile::MinEnergy,
    };
    let solution = match targeting::solve(&request, &physics) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("the Locust request does not solve: {e}");
            std::process::exit(1);
        }
    };
    let launch = Command::Launch(LaunchCommand {
        missile: request.kind,
        from: request.from,
        to: request.to,
        profile: request.profile,
        label: None,
        guidance: Some(solution.guidance),
    });
    let mut sim = Simulation::new(physics, 1);
    let mut left = missiles;
    while left > 0 {
        let n = left.min(PER_TICK);
        sim.step(&vec![launch.clone(); n]);
        left -= n;
    }
    let in_flight = |sim: &Simulation| {
        sim.missiles()
            .iter()
            .filter(|m| m.flight.phase != sim_core::flight::Phase::Impacted)
            .count()
    };
    let before = in_flight(&sim);
    let events = measured_ticks(&mut sim, ticks);
    let hash = measured_hash(&sim);
    println!(
        "{before} missiles in flight before, {} after {ticks} measured ticks ({events} events); \
         flight time {:.0} s; state hash {hash:016x}",
        in_flight(&sim),
        solution.summary.flight_time_s,
    );
}

/// The measured referee ticks: returns the number of events they produced.
#[inline(never)]
fn measured_ticks(sim: &mut Simulation, ticks: usize) -> usize {
    (0..ticks).map(|_| sim.step(&[]).len()).sum()
}

/// One state hash, as a room computes for clients to compare.
#[inline(never)]
fn measured_hash(sim: &Simulation) -> u64 {
    sim.state_hash()
}
