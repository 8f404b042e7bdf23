//! Engagement determinism golden test: the digest of interceptor flights (boost, track
//! guidance, seeker noise), their end games and an assignment, committed as a constant and
//! checked natively and in wasm (`cargo test -p sim-core --target wasm32-unknown-unknown
//! --no-default-features --test engagement_golden`), like `tests/golden.rs` for the engine. A
//! deliberate change to an interceptor or engagement model updates the constant in the same
//! commit and says why; a change on one platform only is a determinism bug.
//!
//! The digest is FNV-1a over the JSON text of every state (serde_json prints floats with the
//! shortest round-trip representation, so equal bits give equal text on every platform); it
//! does not depend on the engine's hasher, which is being reworked.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test;

use nalgebra::Vector3;
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;
use sim_core::earth::{Ellipsoid, GeoPoint};
use sim_core::engagement::wta::{self, BatteryState, Doctrine, Threat};
use sim_core::engagement::{Battery, ThreatPrediction, engagement_options};
use sim_core::flight::{PhysicsParams, PosVel};
use sim_core::interceptor::InterceptorKind;
use sim_core::interceptor::endgame;
use sim_core::interceptor::flight::InterceptorFlight;
use sim_core::interceptor::guidance::PnLaw;

/// FNV-1a of the JSON text of everything [`run`] records.
const ENGAGEMENT_GOLDEN_HASH: u64 = 0x059c_1310_ce04_14dd;

fn fnv1a(text: &str, mut h: u64) -> u64 {
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Two engagements against a re-entry vehicle diving west at 2.5 km/s from 130 km altitude
/// 100 km east of 33N 118W (a PAC-3 with a 200 m track error, a THAAD with a perfect track),
/// then one assignment pass over the predicted path. Returns the digest, the number of
/// records hashed and the end-game outcomes.
fn run() -> (u64, usize, Vec<endgame::EndgameOutcome>) {
    let physics = PhysicsParams::default();
    let ell = physics.earth.ellipsoid();
    let g = GeoPoint::new(33.0, -118.0).to_geodetic(0.0);
    let [e, _, u] = Ellipsoid::enu_basis(g.lat_rad, g.lon_rad);
    let site = ell.geodetic_to_ecef(&g);
    let (s, c) = libm::sincos(50f64.to_radians());
    let start = PosVel {
        r_m: site + e * 100_000.0 + u * 130_000.0,
        v_m_s: (-e * c - u * s) * 2_500.0,
    };
    // The predicted path: straight flight with constant gravity (a stand-in for a track
    // prediction), sampled every 0.5 s.
    let path = |t: f64| start.r_m + start.v_m_s * t - u * (0.5 * 9.8 * t * t);
    let samples: Vec<(f64, Vector3<f64>)> = (0..140)
        .map(|i| (f64::from(i) * 0.5, path(f64::from(i) * 0.5)))
        .collect();
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    let mut records = 0usize;
    let mut outcomes = Vec::new();
    let mut rng = ChaCha8Rng::seed_from_u64(2026);
    for (kind, bias) in [
        (InterceptorKind::Pac3, 200.0),
        (InterceptorKind::Thaad, 0.0),
    ] {
        let bat = Battery {
            id: 1,
            call_sign: "B1".into(),
            position: GeoPoint::new(33.0, -118.0),
            kind,
            rounds: 4,
            launchers: 4,
            reload_s: 0.0,
            ready: true,
        };
        let preds = [ThreatPrediction {
            threat: 1,
            samples: &samples,
            altitudes_m: None,
        }];
        let (opts, _) = engagement_options(&[bat], &preds, &ell, 0.0);
        let opt = opts[0];
        let fly = opt.intercept_s - opt.launch_s;
        let point = path(opt.intercept_s);
        let dir = sim_core::engagement::envelope::launch_direction(&site, &point, fly);
        let mut f = InterceptorFlight::launch(kind, PnLaw::Augmented, site, dir).unwrap();
        let dt = 0.1;
        let mut t = opt.launch_s;
        while !f.is_over() && t < opt.launch_s + 200.0 {
            let truth = PosVel {
                r_m: path(t),
                v_m_s: start.v_m_s - u * (9.8 * t),
            };
            let est = PosVel {
                r_m: truth.r_m + e * bias,
                v_m_s: truth.v_m_s,
            };
            let m0 = f.state.r_m;
            let events = f.step(dt, &physics, Some(&est), &truth, &mut rng).unwrap();
            h = fnv1a(&serde_json::to_string(&(&f, &events)).unwrap(), h);
            records += 1;
            let next = path(t + dt);
            if let Some(o) = endgame::resolve(
                kind,
                t,
                dt,
                (&m0, &f.state.r_m),
                (&truth.r_m, &next),
                &ell,
                &mut rng,
            )
            .filter(|o| o.miss_m < 1_000.0)
            {
                h = fnv1a(&serde_json::to_string(&o).unwrap(), h);
                records += 1;
                outcomes.push(o);
                f.end();
            }
            t += dt;
        }
        let threats = [Threat {
            id: 1,
            value: 10.0,
            time_to_go_s: 60.0,
            survival: 1.0,
        }];
        let bats = [BatteryState {
            id: 1,
            rounds: 4,
            launchers_ready: 4,
            ready_s: 0.0,
        }];
        let a = wta::assign(&Doctrine::default(), &threats, &bats, &opts).unwrap();
        h = fnv1a(&serde_json::to_string(&a).unwrap(), h);
        records += 1;
    }
    (h, records, outcomes)
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn engagement_digest() {
    let (hash, records, outcomes) = run();
    assert!(records > 100, "{records} records");
    // Both interceptors reach their end game close to the target.
    assert_eq!(outcomes.len(), 2, "{outcomes:?}");
    assert!(outcomes.iter().all(|o| o.miss_m < 10.0), "{outcomes:?}");
    assert_eq!(
        hash, ENGAGEMENT_GOLDEN_HASH,
        "engagement digest {hash:#018x}"
    );
}
