//! Flight benchmarks: missile-ticks per second for one missile and for 1000 at once, and the
//! cost of one targeting solve. Results are recorded in `docs/benchmarks.md` (## sim-core
//! flight). Run: `cargo bench -p sim-core --bench flight`.

use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use sim_core::earth::GeoPoint;
use sim_core::flight::PhysicsParams;
use sim_core::flight::workload::{Raid, Swarm};
use sim_core::missile::MissileKind;
use sim_core::targeting::{self, Profile, TargetingRequest};

fn flight(c: &mut Criterion) {
    let mut g = c.benchmark_group("flight");
    g.sample_size(10);
    for n in [1usize, 1000] {
        // 100 ticks (10 s) of boost-phase flight: the most expensive regime per tick.
        let ticks = 100u32;
        g.throughput(Throughput::Elements(n as u64 * u64::from(ticks)));
        let swarm = Swarm::new(n);
        g.bench_function(format!("missile_ticks_boost_{n}"), |b| {
            b.iter(|| {
                let mut s = swarm.clone();
                black_box(s.fly(ticks))
            })
        });
    }
    // Whole SCUD-C flights (boost, coast, re-entry) for 100 missiles: the average cost per
    // missile-tick over a flight.
    let swarm = Swarm::new(100);
    let flown = swarm.clone().fly(5000);
    g.throughput(Throughput::Elements(flown));
    g.bench_function("missile_ticks_full_flight_100", |b| {
        b.iter(|| {
            let mut s = swarm.clone();
            black_box(s.fly(5000))
        })
    });
    g.finish();

    // One engine tick (`Simulation::step`) with 500 SCUD-Cs in flight: the web app's raid.
    let mut g = c.benchmark_group("engine");
    g.sample_size(10);
    let raid = Raid::new(500);
    g.throughput(Throughput::Elements(500));
    g.bench_function("one_tick_500_scud_c_in_flight", |b| {
        b.iter_batched(
            || raid.clone(),
            |mut r| black_box(r.step(1)),
            BatchSize::LargeInput,
        )
    });
    g.finish();

    let mut g = c.benchmark_group("targeting");
    g.sample_size(10);
    for (kind, to) in [
        (MissileKind::ScudC, GeoPoint::new(34.05, -118.25)),
        (MissileKind::Icbm, GeoPoint::new(55.0, 40.0)),
    ] {
        let req = TargetingRequest {
            kind,
            from: if kind == MissileKind::Icbm {
                GeoPoint::new(47.5, -111.2)
            } else {
                GeoPoint::new(36.5, -123.1)
            },
            to,
            profile: Profile::MinEnergy,
        };
        g.bench_function(format!("solve_{kind}"), |b| {
            b.iter(|| black_box(targeting::solve(&req, &PhysicsParams::default()).unwrap()))
        });
    }
    g.finish();
}

criterion_group!(benches, flight);
criterion_main!(benches);
