//! The targeting solver over random pairs: flights flown, misses and time per solve for each
//! class, the same pairs as `tests/targeting.rs` draws (between 1.2x the minimum and 0.75x the
//! maximum range, launch points within 60 degrees of the equator). Prints one line per class.
//!
//! `cargo run --release -p sim-core --example solve_sweep -- [PAIRS [CLASS]]` (default 40 pairs
//! of every class); `-- bench [CLASS]` solves the benchmark's requests once each (for
//! `valgrind --tool=callgrind`: instruction counts of one solve).

use std::time::Instant;

use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use sim_core::earth::{GeoPoint, MEAN_RADIUS_M};
use sim_core::flight::PhysicsParams;
use sim_core::flight::workload::solve_requests;
use sim_core::missile::MissileKind;
use sim_core::targeting::{self, Profile, TargetingRequest};

fn uniform(rng: &mut ChaCha8Rng, lo: f64, hi: f64) -> f64 {
    lo + (hi - lo) * ((rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64)
}

/// The point at `distance_m` and `bearing_deg` from `from` on the mean sphere.
fn destination(from: GeoPoint, distance_m: f64, bearing_deg: f64) -> GeoPoint {
    let d = distance_m / MEAN_RADIUS_M;
    let (lat1, lon1, th) = (
        from.lat_deg.to_radians(),
        from.lon_deg.to_radians(),
        bearing_deg.to_radians(),
    );
    let lat2 =
        libm::asin(libm::sin(lat1) * libm::cos(d) + libm::cos(lat1) * libm::sin(d) * libm::cos(th));
    let lon2 = lon1
        + libm::atan2(
            libm::sin(th) * libm::sin(d) * libm::cos(lat1),
            libm::cos(d) - libm::sin(lat1) * libm::sin(lat2),
        );
    let lon = (lon2.to_degrees() + 540.0).rem_euclid(360.0) - 180.0;
    GeoPoint::new(lat2.to_degrees(), lon)
}

fn percentile(v: &[f64], q: f64) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * q).round() as usize]
}

/// `bench [CLASS]`: the benchmark's requests ([`solve_requests`]), one solve each.
fn bench(only: Option<&str>) {
    let physics = PhysicsParams::default();
    for req in solve_requests() {
        if only.is_some_and(|o| o != req.kind.to_string()) {
            continue;
        }
        let start = Instant::now();
        let sol = targeting::solve(&req, &physics).expect("the benchmark's requests solve");
        println!(
            "solve_{}: {:.0} km, miss {:.3} m, {} engine and {} coarse flights, {:.2} ms (wall \
             clock)",
            req.kind,
            sol.distance_m / 1e3,
            sol.miss_m,
            sol.flights_flown,
            sol.coarse_flights_flown,
            start.elapsed().as_secs_f64() * 1e3
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("bench") {
        let only = args.get(1).map(|a| a.to_ascii_uppercase());
        return bench(only.as_deref());
    }
    let pairs: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(40);
    let only = args.get(1).map(|a| a.to_ascii_uppercase());
    let physics = PhysicsParams::default();
    for (i, kind) in MissileKind::ALL.into_iter().enumerate() {
        if only.as_deref().is_some_and(|o| o != kind.to_string()) {
            continue;
        }
        let t = kind.params();
        let mut rng = ChaCha8Rng::seed_from_u64(1000 + i as u64);
        let (mut misses, mut flights, mut ms) = (Vec::new(), Vec::new(), Vec::new());
        let mut coarse = Vec::new();
        let mut failures = 0;
        for _ in 0..pairs {
            let from = GeoPoint::new(
                uniform(&mut rng, -60.0, 60.0),
                uniform(&mut rng, -180.0, 180.0),
            );
            let d = uniform(&mut rng, 1.2 * t.min_range_m, 0.75 * t.max_range_m);
            let to = destination(from, d, uniform(&mut rng, 0.0, 360.0));
            let req = TargetingRequest {
                kind,
                from,
                to,
                profile: Profile::MinEnergy,
            };
            let start = Instant::now();
            let result = targeting::solve(&req, &physics);
            ms.push(start.elapsed().as_secs_f64() * 1e3);
            match result {
                Ok(sol) => {
                    misses.push(sol.miss_m);
                    flights.push(f64::from(sol.flights_flown));
                    coarse.push(f64::from(sol.coarse_flights_flown));
                }
                Err(e) => {
                    failures += 1;
                    eprintln!("{kind} {from:?} -> {to:?} ({d:.0} m): {e}");
                }
            }
        }
        if misses.is_empty() {
            println!("{kind}: every one of {pairs} pairs failed");
            continue;
        }
        println!(
            "{kind}: {pairs} pairs, {failures} failed; miss median {:.3} m, worst {:.3} m; \
             engine flights median {:.0}, worst {:.0}; coarse flights median {:.0}, worst {:.0}; time median {:.2} ms, worst {:.2} ms (wall clock)",
            percentile(&misses, 0.5),
            percentile(&misses, 1.0),
            percentile(&flights, 0.5),
            percentile(&flights, 1.0),
            percentile(&coarse, 0.5),
            percentile(&coarse, 1.0),
            percentile(&ms, 0.5),
            percentile(&ms, 1.0),
        );
    }
}
