//! Convergence of the flight's sub-step policy: every catalog class flown with the simulation's
//! step sizes ([`STEPS`]) against the same flight with sub-steps eight times shorter (RK4's
//! error falls 4,096-fold), on the full physics (WGS84, J2, rotation, drag). The difference is
//! the integration error of the policy the engine uses.
#![cfg(not(target_arch = "wasm32"))]

use sim_core::earth::GeoPoint;
use sim_core::engine::TICK_S;
use sim_core::flight::{COARSE_STEPS, Flight, Guidance, Phase, PhysicsParams, STEPS, StepParams};
use sim_core::missile::MissileKind;

/// Impact point (ECEF, m) and flight time (s) with the given sub-steps, on the maximum-range
/// pitch raised by `loft_deg`.
fn impact(kind: MissileKind, loft_deg: f64, steps: &StepParams) -> ([f64; 3], f64) {
    let physics = PhysicsParams::default();
    let from = GeoPoint::new(36.5, -123.1);
    let pitch = kind.params().max_range_pitch_deg + loft_deg;
    let g = Guidance::toward_azimuth(&physics, &from, 120.0, pitch, 1e9);
    let mut f = Flight::launch(kind, from, g, &physics);
    let mut events = Vec::new();
    while f.phase != Phase::Impacted {
        assert!(f.time_s < 5_000.0, "{kind} never came down");
        f.advance_with_steps(TICK_S, &physics, steps, &mut events);
    }
    let i = f.impact.expect("impacted");
    (i.ecef_m, i.time_s)
}

fn distance(a: [f64; 3], b: [f64; 3]) -> f64 {
    libm::sqrt((0..3).map(|i| (a[i] - b[i]) * (a[i] - b[i])).sum())
}

#[test]
fn the_step_policy_is_within_a_metre_of_the_converged_flight() {
    // Earlier policies, measured the same way (maximum-range pitch): 0.02 s in boost and
    // 0.05 s in the air gave 0.1 mm (NODONG) to 11 mm (ICBM); 0.05 s in boost 0.7 mm to 80 mm.
    let fine = StepParams {
        boost_s: STEPS.boost_s / 8.0,
        atmosphere_s: STEPS.atmosphere_s / 8.0,
        vacuum_s: STEPS.vacuum_s / 8.0,
    };
    // The maximum-range trajectory and a lofted one (steeper, faster re-entry).
    for kind in MissileKind::ALL {
        for loft_deg in [0.0, 15.0] {
            let (reference, t_ref) = impact(kind, loft_deg, &fine);
            let (flown, t) = impact(kind, loft_deg, &STEPS);
            let miss = distance(flown, reference);
            eprintln!(
                "{kind} (pitch +{loft_deg} deg): impact {miss:.4} m and {:.1e} s from the \
                 converged flight",
                t - t_ref
            );
            assert!(miss < 1.0, "{kind}: {miss} m");
            assert!((t - t_ref).abs() < 1e-3, "{kind}: {t} vs {t_ref}");
        }
    }
}

#[test]
fn coarse_model_tracks_the_engine_flight() {
    // The targeting solver searches on COARSE_STEPS and corrects with engine flights; the
    // correction needs the coarse impact near the engine's (measured: 0.04 m for SCUD-B to
    // 0.8 m for the ICBM) on full burns and early cut-offs alike.
    let physics = PhysicsParams::default();
    let from = GeoPoint::new(36.5, -123.1);
    for kind in MissileKind::ALL {
        let t = kind.params();
        for cutoff in [
            1e9,
            0.7 * t.total_burn_time_s(),
            0.83 * t.total_burn_time_s() + 0.37,
        ] {
            let g = Guidance::toward_azimuth(&physics, &from, 120.0, t.max_range_pitch_deg, cutoff);
            let mut fine = Flight::launch(kind, from, g, &physics);
            fine.fly_to_impact(&physics, None).expect("comes down");
            let mut coarse = Flight::launch(kind, from, g, &physics);
            let ci = coarse
                .coarse_impact(&physics, &COARSE_STEPS)
                .expect("comes down");
            let fi = fine.impact.expect("impacted");
            let d = distance(ci.ecef_m, fi.ecef_m);
            eprintln!("{kind} cut-off {cutoff:.1} s: coarse impact {d:.3} m from the engine's");
            assert!(d < 2.0, "{kind} cut-off {cutoff}: {d} m");
            assert!(
                (ci.time_s - fi.time_s).abs() < 0.05,
                "{kind}: {} vs {}",
                ci.time_s,
                fi.time_s
            );
        }
    }
}
