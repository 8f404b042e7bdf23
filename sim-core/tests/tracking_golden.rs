//! Tracker determinism golden test: the digest of the tracker's state and events after a
//! fixed sequence of scans (a free-flying SCUD-C body seen by three catalog radars through
//! `radar::observe`, plus false alarms), committed as a constant and checked natively and in
//! wasm (`cargo test -p sim-core --target wasm32-unknown-unknown --no-default-features --test
//! tracking_golden`), like `tests/radar_golden.rs`. A deliberate change to the tracker
//! updates the constant in the same commit and says why; a change on one platform only is a
//! determinism bug.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test;

use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;
use sim_core::earth::GeoPoint;
use sim_core::engine::TICK_S;
use sim_core::engine::state_hash::hash_of;
use sim_core::flight::{Flight, PhysicsParams};
use sim_core::missile::MissileKind;
use sim_core::radar::{
    Observation, RadarId, RadarKind, RadarParams, Swerling, false_alarms, observe,
};
use sim_core::tracking::{TrackStatus, Tracker, TrackerParams};

/// FNV-1a of the canonical encoding of the tracker and its events after [`run`].
const TRACKER_GOLDEN_HASH: u64 = 0x65cc_060b_cfaa_3764;

/// 150 s of a SCUD-C body's free flight from 33N 36E, three radars with one look a second
/// each (staggered by a tick) and two false plots a second each.
fn run() -> (Tracker, Vec<sim_core::tracking::TrackEvent>) {
    let physics = PhysicsParams::default();
    let sites = [
        RadarKind::AnTpy2.site(RadarId(1), "tpy2", GeoPoint::new(31.5, 37.0), 10.0, 60.0),
        RadarKind::AnFps132.site(RadarId(2), "uewr", GeoPoint::new(36.0, 34.0), 50.0, 110.0),
        RadarKind::AnTpy2.site(RadarId(3), "tpy2-b", GeoPoint::new(31.0, 44.0), 10.0, 290.0),
    ];
    let mut flight = Flight::free(
        MissileKind::ScudC,
        GeoPoint::new(33.0, 36.0),
        60_000.0,
        3_000.0,
        40.0,
        90.0,
        &physics,
    );
    let mut rng = ChaCha8Rng::seed_from_u64(2026);
    let mut tracker = Tracker::new(TrackerParams::default());
    let mut events = Vec::new();
    let mut flight_events = Vec::new();
    for tick in 1..=1500u64 {
        flight.advance(TICK_S, &physics, &mut flight_events);
        let t = tick as f64 * TICK_S;
        let pos = flight.position_ecef(&physics);
        for (i, site) in sites.iter().enumerate() {
            if !(tick + i as u64).is_multiple_of(10) {
                continue;
            }
            let params = RadarParams {
                false_alarms_per_s: 2.0,
                ..*site.params()
            };
            let mut plots = Vec::new();
            if let Observation::Detected(d) = observe(
                site,
                &params,
                &physics.earth,
                &pos,
                0.5,
                Swerling::Swerling1,
                &mut rng,
            ) {
                plots.push(d);
            }
            plots.extend(false_alarms(site, &params, &physics.earth, 1.0, &mut rng));
            tracker.process_scan(&physics, site, t, &plots, &mut events);
        }
        if tick.is_multiple_of(10) {
            tracker.maintain(&physics, t, &mut events);
        }
    }
    (tracker, events)
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn tracker_digest() {
    let (tracker, events) = run();
    let confirmed: Vec<_> = tracker
        .tracks()
        .iter()
        .filter(|t| t.status == TrackStatus::Confirmed)
        .collect();
    assert_eq!(confirmed.len(), 1, "one confirmed track: the missile");
    assert!(confirmed[0].impact.is_some());
    assert!(events.len() > 100, "{} events", events.len());
    let hash = hash_of(&(&tracker, &events));
    assert_eq!(hash, TRACKER_GOLDEN_HASH, "tracker digest {hash:#018x}");
}
