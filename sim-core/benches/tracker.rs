//! Tracker benchmark: plots processed per second with 10, 100 and 1000 objects seen by ten
//! radars (`sim_core::tracking::workload`: every radar sees every object, one scan a second
//! each, staggered by 0.1 s). The tracker is first warmed up for 5 s so every object has a
//! confirmed, converged track; then one second of scans (10 x n plots, with the impact-point
//! refresh of every track that falls due) is timed on a clone. The last case switches the
//! periodic impact refresh off to show what filtering and association cost alone. The table
//! of `docs/benchmarks.md` (from `cargo xtask bench`) gives plots per CPU-second of the
//! 1,000-object case against its goal. Run: `cargo bench -p sim-core --bench tracker`.

use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use sim_core::tracking::TrackStatus;
use sim_core::tracking::workload::TrackerBench;

fn tracker(c: &mut Criterion) {
    let mut g = c.benchmark_group("tracker");
    g.sample_size(10);
    for (n, refresh) in [
        (10usize, None),
        (100, None),
        (1000, None),
        (1000, Some(1e9)),
    ] {
        let mut bench = TrackerBench::new(n, refresh, 5);
        let confirmed = bench
            .tracker
            .tracks()
            .iter()
            .filter(|t| t.status == TrackStatus::Confirmed)
            .count();
        assert_eq!(
            confirmed, n,
            "one confirmed track per object after the warm-up"
        );
        let round = bench.scene.next_round();
        let plots: usize = round.iter().map(|s| s.detections.len()).sum();
        g.throughput(Throughput::Elements(plots as u64));
        let name = match refresh {
            None => format!("plots_{n}_objects_10_radars"),
            Some(_) => format!("plots_{n}_objects_10_radars_no_impact_refresh"),
        };
        g.bench_function(name, |b| {
            b.iter_batched(
                || bench.tracker.clone(),
                |mut t| {
                    black_box(TrackerBench::process(&mut t, &bench.scene, &round));
                    t
                },
                BatchSize::LargeInput,
            )
        });
    }
    g.finish();
}

criterion_group!(benches, tracker);
criterion_main!(benches);
