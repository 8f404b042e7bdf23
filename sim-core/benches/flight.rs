//! Flight benchmarks: missile-ticks per second for one missile and for 1000 at once, one engine
//! tick with 500 and with 5,000 missiles in flight, and one targeting solve per class. Results are recorded in `docs/benchmarks.md` (## sim-core
//! flight). Run: `cargo bench -p sim-core --bench flight`.

use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use sim_core::flight::PhysicsParams;
use sim_core::flight::workload::{Raid, Swarm, solve_requests};
use sim_core::missile::MissileKind;
use sim_core::targeting;

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

    // One engine tick with 5,000 SCUD-Cs in flight, 10% to 95% into their flights (mostly
    // coast and re-entry; `Raid::spread`): issue 13's scale goal, at most 10 ms natively.
    let mut g = c.benchmark_group("engine");
    g.sample_size(10);
    let raid = Raid::spread(5_000);
    g.throughput(Throughput::Elements(5_000));
    g.bench_function("one_tick_5000_in_flight", |b| {
        b.iter_batched(
            || raid.clone(),
            |mut r| black_box(r.step(1)),
            BatchSize::LargeInput,
        )
    });
    g.finish();

    // One targeting solve per class (`solve_requests`, the same requests as the wasm timing).
    let mut g = c.benchmark_group("targeting");
    g.sample_size(10);
    for req in solve_requests() {
        g.bench_function(format!("solve_{}", bench_name(req.kind)), |b| {
            b.iter(|| black_box(targeting::solve(&req, &PhysicsParams::default()).unwrap()))
        });
    }
    g.finish();
}

/// The class's benchmark name: its catalog name, `Nodong` for NODONG (as issue 13 names it).
fn bench_name(kind: MissileKind) -> String {
    match kind {
        MissileKind::Nodong => "Nodong".to_string(),
        other => other.to_string(),
    }
}

criterion_group!(benches, flight);
criterion_main!(benches);
