//! Radar determinism golden test: the digest of a fixed sequence of looks and false alarms by
//! the three catalog radars, committed as a constant and checked natively and in wasm
//! (`cargo test -p sim-core --target wasm32-unknown-unknown --no-default-features`), like
//! `tests/golden.rs` for the engine. A deliberate change to a radar model updates the constant
//! in the same commit and says why; a change on one platform only is a determinism bug.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test;

use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;
use sim_core::earth::{EarthParams, GeoPoint, Geodetic};
use sim_core::engine::state_hash::hash_of;
use sim_core::radar::{Observation, RadarId, RadarKind, Swerling, false_alarms, observe};

/// FNV-1a of the canonical encoding of every observation of [`run`].
const RADAR_GOLDEN_HASH: u64 = 0x323d_cf94_3d7b_2c13;

/// Three radars around a target climbing east from 35N 130E to 600 km altitude, one look per
/// radar per second for 400 s, both Swerling models, plus false alarms.
fn run() -> Vec<Observation> {
    let earth = EarthParams::default();
    let sites = [
        RadarKind::AnTpy2.site(RadarId(1), "tpy2", GeoPoint::new(35.5, 128.0), 30.0, 90.0),
        RadarKind::AnFps132.site(RadarId(2), "uewr", GeoPoint::new(40.0, 140.0), 50.0, 250.0),
        RadarKind::AnMpq65.site(RadarId(3), "mpq65", GeoPoint::new(35.0, 131.0), 10.0, 270.0),
    ];
    let mut rng = ChaCha8Rng::seed_from_u64(2026);
    let mut out = Vec::new();
    for t in 0..400 {
        let s = f64::from(t) / 400.0;
        let target = earth.ellipsoid().geodetic_to_ecef(&Geodetic {
            lat_rad: 35.0f64.to_radians(),
            lon_rad: (130.0 + 4.0 * s).to_radians(),
            alt_m: 600_000.0 * s * (2.0 - s),
        });
        for (i, site) in sites.iter().enumerate() {
            let swerling = if i % 2 == 0 {
                Swerling::Swerling1
            } else {
                Swerling::Swerling0
            };
            out.push(observe(
                site,
                site.params(),
                &earth,
                &target,
                0.1,
                swerling,
                &mut rng,
            ));
            out.extend(
                false_alarms(site, site.params(), &earth, 1.0, &mut rng)
                    .into_iter()
                    .map(Observation::Detected),
            );
        }
    }
    out
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn radar_observations_digest() {
    let obs = run();
    let detections = obs
        .iter()
        .filter(|o| matches!(o, Observation::Detected(_)))
        .count();
    assert!(detections > 100, "{detections} detections");
    let hash = hash_of(&obs);
    assert_eq!(hash, RADAR_GOLDEN_HASH, "radar digest {hash:#018x}");
}
