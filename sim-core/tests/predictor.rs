//! The fast predictor ([`sim_core::tracking::predictor`]) against the fine flights it
//! replaces, for every catalog class on a maximum-range, a lofted and a depressed trajectory:
//!
//! - in vacuum the track's ballistic model and the truth are the same equations, so the
//!   predicted impact from the true state at T-60 s and T-300 s is compared with the truth's
//!   own fine flight (0.1 s ticks, the engine's integrator): the bounds are 50 m and
//!   0.1 s from T-60 s, 500 m from T-300 s;
//! - in the air the truth's drag coefficient depends on Mach while the model's ballistic
//!   coefficient is one estimated number, so the predictor is compared with the same model
//!   flown by fixed RK4 steps of 0.05 s (the numerical error alone, within a metre), and its
//!   distance from the truth's impact (the model error, which the tracker's ballistic
//!   coefficient estimate absorbs while it tracks) is printed, not bounded;
//! - the impact covariance: with a known initial covariance the 95% ellipse agrees with the
//!   scatter of impacts of sampled initial states, and in vacuum it grows by the dynamics alone.
#![cfg(not(target_arch = "wasm32"))]

use nalgebra::Vector3;
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;
use sim_core::earth::{Ellipsoid, GeoPoint};
use sim_core::engine::TICK_S;
use sim_core::flight::{Flight, Guidance, Phase, PhysicsParams};
use sim_core::missile::MissileKind;
use sim_core::radar::random::standard_normal;
use sim_core::tracking::impact;
use sim_core::tracking::motion::{BallisticModel, Mat7, State, position, process_noise};
use sim_core::tracking::predictor;

/// A truth flight: (time, position, velocity) at every tick after thrust has ended, and the
/// impact point (ECEF) and time.
struct Truth {
    ticks: Vec<(f64, Vector3<f64>, Vector3<f64>)>,
    impact_ecef: Vector3<f64>,
    impact_s: f64,
}

fn truth(kind: MissileKind, pitch_offset_deg: f64, physics: &PhysicsParams) -> Truth {
    let from = GeoPoint::new(36.5, -123.1);
    let pitch = kind.params().max_range_pitch_deg + pitch_offset_deg;
    let g = Guidance::toward_azimuth(physics, &from, 120.0, pitch, 1e9);
    let mut f = Flight::launch(kind, from, g, physics);
    let mut events = Vec::new();
    let mut ticks = Vec::new();
    while f.phase != Phase::Impacted {
        assert!(f.time_s < 10_000.0, "{kind} never came down");
        f.advance(TICK_S, physics, &mut events);
        if matches!(f.phase, Phase::Coast | Phase::Reentry) {
            ticks.push((f.time_s, f.position_ecef(physics), f.velocity_ecef(physics)));
        }
    }
    let i = f.impact.expect("impacted");
    Truth {
        ticks,
        impact_ecef: Vector3::from(i.ecef_m),
        impact_s: i.time_s,
    }
}

fn state(r: Vector3<f64>, v: Vector3<f64>, kappa: f64) -> State {
    State::from_column_slice(&[r.x, r.y, r.z, v.x, v.y, v.z, kappa])
}

/// The coasting truth state closest to `lead_s` before impact, if the flight coasts then.
fn state_before_impact(t: &Truth, lead_s: f64) -> Option<(f64, Vector3<f64>, Vector3<f64>)> {
    let want = t.impact_s - lead_s;
    let first = t.ticks.first()?;
    if want < first.0 {
        return None;
    }
    t.ticks
        .iter()
        .min_by(|a, b| (a.0 - want).abs().total_cmp(&(b.0 - want).abs()))
        .copied()
}

/// The model's impact by fixed RK4 steps of `h` (the crossing by bisection on the last step).
fn fixed_step_impact(model: &BallisticModel, x: &State, h: f64) -> (Vector3<f64>, f64) {
    let ell = model.ellipsoid;
    let mut s = *x;
    let mut t = 0.0;
    loop {
        let next = model.rk4(&s, h);
        if ell.altitude_m(&position(&next)) <= 0.0 {
            let (mut lo, mut hi) = (0.0, h);
            for _ in 0..60 {
                let mid = 0.5 * (lo + hi);
                if ell.altitude_m(&position(&model.rk4(&s, mid))) > 0.0 {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            return (position(&model.rk4(&s, hi)), t + hi);
        }
        s = next;
        t += h;
        assert!(t < 20_000.0, "no impact");
    }
}

const PROFILES: [(&str, f64); 3] = [("min-energy", 0.0), ("lofted", 15.0), ("depressed", -8.0)];

#[test]
fn in_vacuum_the_predicted_impact_is_the_truths_for_every_class_and_profile() {
    let physics = PhysicsParams {
        atmosphere: false,
        ..PhysicsParams::default()
    };
    let model = BallisticModel::new(&physics);
    let mut checked = 0;
    for kind in MissileKind::ALL {
        for (profile, offset) in PROFILES {
            let t = truth(kind, offset, &physics);
            for (lead_s, bound_m) in [(60.0, 50.0f64), (300.0, 500.0)] {
                let Some((t0, r, v)) = state_before_impact(&t, lead_s) else {
                    continue;
                };
                let (s, _, dt) =
                    predictor::to_impact(&model, &state(r, v, 0.0), &Mat7::zeros(), 1e5, 0.0, 0.0)
                        .expect("comes down");
                let miss = (position(&s) - t.impact_ecef).norm();
                let dt_err = t0 + dt - t.impact_s;
                eprintln!(
                    "{kind} {profile} from T-{lead_s}: {miss:.3} m, {dt_err:+.2e} s from the truth"
                );
                // The bounds of the issue, and the predictor's own accuracy (a metre).
                assert!(miss < bound_m.min(1.0), "{kind} {profile}: {miss} m");
                assert!(dt_err.abs() < 0.1, "{kind} {profile}: {dt_err} s");
                checked += 1;
            }
        }
    }
    assert!(
        checked >= 20,
        "only {checked} cases coasted at T-60/T-300 s"
    );
}

#[test]
fn in_the_air_the_predictor_matches_the_fine_flight_of_the_same_model() {
    let physics = PhysicsParams::default();
    let model = BallisticModel::new(&physics);
    for kind in MissileKind::ALL {
        for (profile, offset) in PROFILES {
            let t = truth(kind, offset, &physics);
            for lead_s in [60.0, 300.0] {
                let Some((_, r, v)) = state_before_impact(&t, lead_s) else {
                    continue;
                };
                // A re-entry vehicle's ballistic coefficient, 5,000 kg/m^2.
                let x = state(r, v, 1.0 / 5_000.0);
                let (s, _, dt) =
                    predictor::to_impact(&model, &x, &Mat7::zeros(), 1e5, 0.0, 0.0).unwrap();
                let (fine, fine_dt) = fixed_step_impact(&model, &x, 0.05);
                let miss = (position(&s) - fine).norm();
                let model_error = (position(&s) - t.impact_ecef).norm();
                eprintln!(
                    "{kind} {profile} from T-{lead_s}: {miss:.3} m and {:+.1e} s from the fine \
                     flight of the model; {model_error:.0} m from the truth's impact",
                    dt - fine_dt
                );
                assert!(miss < 1.0, "{kind} {profile} T-{lead_s}: {miss} m");
                assert!(
                    (dt - fine_dt).abs() < 0.01,
                    "{kind} {profile}: {dt} vs {fine_dt}"
                );
            }
        }
    }
}

#[test]
fn samples_follow_the_fine_flight_between_steps() {
    let physics = PhysicsParams::default();
    let model = BallisticModel::new(&physics);
    let t = truth(MissileKind::Nodong, 0.0, &physics);
    let (t0, r, v) = state_before_impact(&t, 400.0).expect("coasting at T-400 s");
    let x = state(r, v, 1.0 / 5_000.0);
    let samples = predictor::samples(&model, &x, t0, t0 + 1_000.0, 1.0, 2_000);
    let ell = model.ellipsoid;
    // One sample a second, the last one below the ground.
    assert!(
        samples.len() > 390 && samples.len() < 410,
        "{}",
        samples.len()
    );
    assert!(ell.altitude_m(&samples.last().unwrap().1) < 0.0);
    assert!(ell.altitude_m(&samples[samples.len() - 2].1) >= 0.0);
    // Against RK4 steps of 0.05 s, second by second.
    let mut s = x;
    let mut worst: f64 = 0.0;
    for (k, (ts, rs)) in samples.iter().enumerate().skip(1) {
        for _ in 0..20 {
            s = model.rk4(&s, 0.05);
        }
        assert!((ts - (t0 + k as f64)).abs() < 1e-9);
        worst = worst.max((position(&s) - rs).norm());
    }
    eprintln!("worst sample error {worst:.4} m");
    assert!(worst < 0.5, "{worst} m");
}

/// The 2x2 east/north covariance of ground points around their mean.
fn ground_scatter(ell: &Ellipsoid, points: &[Vector3<f64>]) -> (f64, f64) {
    let n = points.len() as f64;
    let mean = points.iter().sum::<Vector3<f64>>() / n;
    let g = ell.ecef_to_geodetic(&mean);
    let [e, nn, _] = Ellipsoid::enu_basis(g.lat_rad, g.lon_rad);
    let (mut see, mut snn, mut sen) = (0.0, 0.0, 0.0);
    for p in points {
        let d = p - mean;
        let (de, dn) = (d.dot(&e), d.dot(&nn));
        see += de * de;
        snn += dn * dn;
        sen += de * dn;
    }
    let (a, b, d) = (see / (n - 1.0), sen / (n - 1.0), snn / (n - 1.0));
    let mean_ev = 0.5 * (a + d);
    let rad = libm::sqrt(0.25 * (a - d) * (a - d) + b * b);
    (mean_ev + rad, (mean_ev - rad).max(0.0))
}

#[test]
fn the_impact_ellipse_matches_the_scatter_of_sampled_estimates() {
    // 400 initial states drawn from P0 (30 m, 3 m/s per axis) at T-300 s of an IRBM, flown by
    // the predictor: the spread of their impacts against the linearised ellipse.
    for atmosphere in [false, true] {
        let physics = PhysicsParams {
            atmosphere,
            ..PhysicsParams::default()
        };
        let model = BallisticModel::new(&physics);
        let ell = model.ellipsoid;
        let t = truth(MissileKind::Irbm, 0.0, &physics);
        let (t0, r, v) = state_before_impact(&t, 300.0).expect("coasting");
        let x = state(r, v, 1.0 / 5_000.0);
        let mut p0 = Mat7::zeros();
        for i in 0..3 {
            p0[(i, i)] = 30.0 * 30.0;
            p0[(i + 3, i + 3)] = 3.0 * 3.0;
        }
        let ip = impact::predict(&model, &x, &p0, t0, 0.0, 0.0).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let points: Vec<Vector3<f64>> = (0..400)
            .map(|_| {
                let mut xs = x;
                for i in 0..3 {
                    xs[i] += 30.0 * standard_normal(&mut rng);
                    xs[i + 3] += 3.0 * standard_normal(&mut rng);
                }
                let (s, _, _) =
                    predictor::to_impact(&model, &xs, &Mat7::zeros(), 1e5, 0.0, 0.0).unwrap();
                position(&s)
            })
            .collect();
        let (l1, l2) = ground_scatter(&ell, &points);
        // 95% semi-axes of the sample covariance.
        let k = libm::sqrt(-2.0 * libm::log(0.05));
        let (a, b) = (k * libm::sqrt(l1), k * libm::sqrt(l2));
        eprintln!(
            "atmosphere {atmosphere}: ellipse {:.0} x {:.0} m, sampled {a:.0} x {b:.0} m",
            ip.semi_major_m, ip.semi_minor_m
        );
        // 400 samples estimate a standard deviation to about 3.5% (1 sigma).
        assert!(
            (ip.semi_major_m / a - 1.0).abs() < 0.12,
            "{} vs {a}",
            ip.semi_major_m
        );
        assert!(
            (ip.semi_minor_m / b - 1.0).abs() < 0.12,
            "{} vs {b}",
            ip.semi_minor_m
        );
    }
}

#[test]
fn process_noise_grows_the_ellipse_only_in_the_air() {
    // The same estimate with and without the filter's process noise: in vacuum the ellipse is
    // the same (the model is the truth's equations there); with the air, the noise of the
    // atmospheric part widens it, but by far less than noise over the whole time to go would.
    for atmosphere in [false, true] {
        let physics = PhysicsParams {
            atmosphere,
            ..PhysicsParams::default()
        };
        let model = BallisticModel::new(&physics);
        let t = truth(MissileKind::Icbm, 0.0, &physics);
        let (t0, r, v) = state_before_impact(&t, 1_200.0).expect("coasting");
        let x = state(r, v, 1.0 / 5_000.0);
        let mut p0 = Mat7::zeros();
        for i in 0..3 {
            p0[(i, i)] = 50.0 * 50.0;
            p0[(i + 3, i + 3)] = 0.5 * 0.5;
        }
        p0[(6, 6)] = (0.2 / 5_000.0f64).powi(2);
        let (q, qk) = (0.5, (0.05 / 10_000.0f64).powi(2));
        let quiet = impact::predict(&model, &x, &p0, t0, 0.0, 0.0).unwrap();
        let noisy = impact::predict(&model, &x, &p0, t0, q, qk).unwrap();
        // What white noise over the whole 1,200 s would add alone: sqrt(q t^3 / 3) per axis.
        let whole = libm::sqrt(q * 1_200.0f64.powi(3) / 3.0);
        eprintln!(
            "atmosphere {atmosphere}: {:.0} m quiet, {:.0} m with noise (whole-flight noise \
             alone: {whole:.0} m 1-sigma)",
            quiet.semi_major_m, noisy.semi_major_m
        );
        if atmosphere {
            assert!(noisy.semi_major_m > quiet.semi_major_m);
            assert!(noisy.semi_major_m - quiet.semi_major_m < whole);
        } else {
            assert_eq!(noisy, quiet);
        }
    }
    // And the filter's own noise model is unchanged.
    assert!(process_noise(1.0, 0.5, 0.0)[(0, 0)] > 0.0);
}
