//! Determinism golden test: a fixed scenario's state hash and event digest after a fixed
//! number of ticks, committed as constants and checked natively and in wasm
//! (`cargo test -p sim-core --target wasm32-unknown-unknown --no-default-features`).
//!
//! If a deliberate model change moves these numbers, update the constants in the same commit
//! and say why; an unexplained change on one platform only is a determinism bug.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test;

use sim_core::Simulation;
use sim_core::engine::state_hash::hash_of;
use sim_core::engine::{Scenario, Snapshot};

/// Three launches of three types and profiles on the default physics (WGS84, J2, rotation,
/// drag), one of them refused as out of range.
const GOLDEN_SCENARIO: &str = r#"{
  "version": 1,
  "name": "golden",
  "seed": 7,
  "launches": [
    {"time_s": 0.0, "missile": "SCUD-C", "from": {"lat_deg": 36.5, "lon_deg": -123.1},
     "to": {"lat_deg": 34.05, "lon_deg": -118.25}},
    {"time_s": 2.5, "missile": "SCUD-B", "from": {"lat_deg": 36.0, "lon_deg": -122.0},
     "to": {"lat_deg": 34.5, "lon_deg": -119.8}, "profile": "lofted"},
    {"time_s": 3.0, "missile": "NODONG", "from": {"lat_deg": 40.0, "lon_deg": 127.0},
     "to": {"lat_deg": 35.0, "lon_deg": 137.0}, "profile": "depressed"},
    {"time_s": 4.0, "missile": "SCUD-C", "from": {"lat_deg": 34.05, "lon_deg": -118.25},
     "to": {"lat_deg": 33.749, "lon_deg": -84.388}}
  ]
}"#;

/// Ticks to run: 150 s, through boost, staging and coast.
const GOLDEN_TICKS: u64 = 1500;
/// State hash after [`GOLDEN_TICKS`].
const GOLDEN_STATE_HASH: u64 = 0xc265_7245_f1d2_7cd0;
/// FNV-1a of the canonical encoding of every event of the run.
const GOLDEN_EVENTS_HASH: u64 = 0xacf8_7af1_c080_133c;

fn run(ticks: u64) -> (Simulation, u64) {
    let scenario = Scenario::from_json(GOLDEN_SCENARIO).expect("valid");
    let mut sim = Simulation::from_scenario(&scenario);
    let mut events = Vec::new();
    for _ in 0..ticks {
        events.extend(sim.step(&[]));
    }
    (sim, hash_of(&events))
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn golden_state_hash_after_n_ticks() {
    let (sim, events_hash) = run(GOLDEN_TICKS);
    assert_eq!(sim.tick(), GOLDEN_TICKS);
    assert_eq!(
        (sim.state_hash(), events_hash),
        (GOLDEN_STATE_HASH, GOLDEN_EVENTS_HASH),
        "state {:#018x}, events {:#018x}",
        sim.state_hash(),
        events_hash
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn snapshot_json_round_trip_resumes_identically() {
    let (mut a, _) = run(700);
    let json = serde_json::to_string(&a.snapshot()).expect("serialise");
    let snap: Snapshot = serde_json::from_str(&json).expect("deserialise");
    let mut b = Simulation::restore(snap);
    assert_eq!(a.state_hash(), b.state_hash());
    for _ in 700..GOLDEN_TICKS {
        assert_eq!(a.step(&[]), b.step(&[]));
    }
    assert_eq!(a.state_hash(), b.state_hash());
    assert_eq!(a.state_hash(), GOLDEN_STATE_HASH);
}

/// The sensing chain: the Southern California raid with three radars, false alarms on, for
/// [`SENSING_TICKS`]: detections (with their noise and false alarms), the tracker's tracks,
/// covariances and impact predictions all enter the state and event hashes.
const SENSING_SCENARIO: &str = include_str!("../../scenarios/socal-three-radars.json");
/// Ticks to run: 150 s, from the first detections through boost into mid-course.
const SENSING_TICKS: u64 = 1500;
/// State hash after [`SENSING_TICKS`].
const SENSING_STATE_HASH: u64 = 0x402c_be4d_13fb_14d5;
/// FNV-1a of every event of the sensing run.
const SENSING_EVENTS_HASH: u64 = 0x1eba_177d_c9c4_a17d;

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn golden_sensing_hashes_after_n_ticks() {
    let scenario = Scenario::from_json(SENSING_SCENARIO).expect("valid");
    let mut sim = Simulation::from_scenario(&scenario);
    let mut events = Vec::new();
    for _ in 0..SENSING_TICKS {
        events.extend(sim.step(&[]));
    }
    let detections = events
        .iter()
        .filter(|e| matches!(e.kind, sim_core::EventKind::Detection { .. }))
        .count();
    assert!(detections > 1000, "{detections} detections");
    assert!(!sim.tracker().tracks().is_empty());
    assert_eq!(
        (sim.state_hash(), hash_of(&events)),
        (SENSING_STATE_HASH, SENSING_EVENTS_HASH),
        "state {:#018x}, events {:#018x}",
        sim.state_hash(),
        hash_of(&events)
    );
}
