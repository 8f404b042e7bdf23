//! The kill chain over many seeds, in the engine: the interceptor is guided by the track until
//! its seeker takes over, so a degraded track (fewer radars) hands the seeker a worse aim;
//! shoot-look-shoot, with sensor-based kill assessment, spends fewer rounds than a salvo for
//! a leak rate that cannot be told apart.
//!
//! Each test runs whole scenarios (a few seconds of CPU each in the optimised dev profile), so
//! seeds are few and the assertions are on effects far larger than their confidence intervals.

use serde_json::{Value, json};
use sim_core::engagement::wta::FireMode;
use sim_core::engine::defense::KillAssessment;
use sim_core::engine::{EventKind, Scenario, Simulation};
use sim_core::interceptor::InterceptorKind;
use sim_core::montecarlo;
use sim_core::stats::{Proportion, Z_95, wilson};

const SOCAL: &str = include_str!("../../scenarios/socal-scud-c.json");
const SOCAL_THREE: &str = include_str!("../../scenarios/socal-three-radars.json");
const LAYERED: &str = include_str!("../../scenarios/layered-mrbm.json");

fn json(text: &str) -> Value {
    serde_json::from_str(text).expect("shipped scenario")
}

fn scenario(v: &Value) -> Scenario {
    Scenario::from_json(&v.to_string()).expect("valid scenario")
}

/// The SoCal SCUD-C against a PAC-3 battery at Los Angeles firing one round per engagement,
/// seen by `radars`.
fn socal_pac3(radars: Vec<Value>) -> Scenario {
    let mut s = json(SOCAL);
    s["radars"] = Value::Array(radars);
    s["batteries"] = json!([{
        "call_sign": "PAT_LA", "kind": "PAC-3",
        "position": {"lat_deg": 34.0, "lon_deg": -118.3},
        "rounds": 8, "launchers": 4, "reload_s": 600.0
    }]);
    s["doctrine"] = json!({"salvo_size": 1, "mode": "salvo", "min_pk": 0.3});
    scenario(&s)
}

/// Mean and normal 95% half-width of the mean (n - 1 variance).
fn mean_ci(x: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    let m = x.iter().sum::<f64>() / n;
    let var = x.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (n - 1.0);
    (m, Z_95 * libm::sqrt(var / n))
}

fn show(p: &Proportion) -> String {
    format!(
        "{}/{} = {:.3} (95% {:.3}-{:.3})",
        p.successes, p.trials, p.estimate, p.low, p.high
    )
}

#[test]
fn a_degraded_track_hands_the_seeker_a_worse_aim() {
    let three = json(SOCAL_THREE)["radars"].as_array().unwrap().clone();
    let mpq = json!({
        "call_sign": "MPQ_LA", "kind": "AN/MPQ-65",
        "position": {"lat_deg": 34.0, "lon_deg": -118.3}, "height_m": 10.0,
        "boresight_az_deg": 290.0
    });
    // Three radars: the TPY-2s at Vandenberg and San Nicolas and the battery's own MPQ-65,
    // which sees the re-entry. One radar: Vandenberg alone, whose sector the SCUD leaves two
    // minutes before impact, so the interceptor flies on a coasted estimate.
    let good = socal_pac3(vec![three[0].clone(), three[1].clone(), mpq]);
    let degraded = socal_pac3(vec![three[0].clone()]);
    let seeds: Vec<u64> = (1..=8).collect();
    let mut errors = Vec::new();
    for (name, s) in [("3 radars", &good), ("1 radar", &degraded)] {
        let outcomes: Vec<_> = seeds.iter().map(|&k| montecarlo::run_one(s, k)).collect();
        let launched: u32 = outcomes.iter().map(|o| o.interceptors).sum();
        let kills: u32 = outcomes.iter().map(|o| o.kills).sum();
        let h: Vec<f64> = outcomes
            .iter()
            .flat_map(|o| o.handover_errors_m.iter().copied())
            .collect();
        let (m, half) = mean_ci(&h);
        let kill = wilson(u64::from(kills), u64::from(launched), Z_95).unwrap();
        println!(
            "{name}: track error at seeker handover {m:.0} +- {half:.0} m over {} interceptors, \
             kills per interceptor {}",
            h.len(),
            show(&kill)
        );
        // Every run engaged and every seeker acquired: the comparison is of the same events.
        assert!(outcomes.iter().all(|o| o.interceptors >= 1), "{name}");
        assert_eq!(h.len() as u32, launched, "{name}");
        // The seeker absorbs a few hundred metres (8 km acquisition, 50 g): the kill rate is
        // the catalog Pk in both cases (99% interval), the track only sets how hard it homes.
        let pk = InterceptorKind::Pac3.params().pk_single_shot;
        let kill99 = wilson(u64::from(kills), u64::from(launched), 2.576).unwrap();
        assert!(kill99.contains(pk), "{name}: {kill99:?}");
        errors.push((m, half));
    }
    let ((good_m, good_h), (bad_m, bad_h)) = (errors[0], errors[1]);
    // Intervals apart, and the degraded track at least ten times worse.
    assert!(good_m + good_h < bad_m - bad_h, "{errors:?}");
    assert!(bad_m > 10.0 * good_m, "{errors:?}");
}

/// Two NODONGs at Tokyo, 20 s apart, against the THAAD battery, seen by the Kyogamisaki TPY-2 and a second
/// one at Tokyo watching the re-entry (so kills can be assessed), under `mode`.
fn thaad(mode: &str) -> Scenario {
    let mut s = json(LAYERED);
    let launches = s["launches"].as_array().unwrap()[..2].to_vec();
    s["launches"] = Value::Array(launches);
    let thaad = s["batteries"][0].clone();
    s["batteries"] = json!([thaad]);
    s["sensing"] = json!({"false_alarms": false});
    s["radars"].as_array_mut().unwrap().push(json!({
        "call_sign": "TPY2_TKY", "kind": "AN/TPY-2",
        "position": {"lat_deg": 35.68, "lon_deg": 139.69}, "height_m": 50.0,
        "boresight_az_deg": 280.0
    }));
    s["doctrine"] = json!({"salvo_size": 2, "mode": mode, "min_pk": 0.3, "look_s": 5.0});
    scenario(&s)
}

/// Per run: rounds fired, missiles leaked, missiles threatening, and the checks of the event
/// sequence (every survivor re-engaged, nothing fired at an assessed kill).
fn run_checked(s: &Scenario, seed: u64, sls: bool) -> (u32, u32, u32) {
    let mut s = s.clone();
    s.seed = seed;
    let mut sim = Simulation::from_scenario(&s);
    let (mut rounds, mut leaks, mut threats) = (0u32, 0u32, 0u32);
    let mut killed_tracks = Vec::new();
    let mut survivors = Vec::new();
    let mut engaged_after_survivor = Vec::new();
    while !sim.is_idle() && sim.tick() < 12_000 {
        for e in sim.step(&[]) {
            match e.kind {
                EventKind::EngagementOrdered {
                    missile_id,
                    rounds: n,
                    mode,
                    ..
                } => {
                    assert!(
                        !killed_tracks.contains(&missile_id),
                        "fired at a dead track"
                    );
                    if survivors.contains(&missile_id) {
                        engaged_after_survivor.push(missile_id);
                    }
                    if sls && !survivors.contains(&missile_id) {
                        // The first engagement of a track has time to look.
                        assert_eq!((mode, n), (FireMode::ShootLookShoot, 1), "seed {seed}");
                    }
                    if !sls {
                        assert_eq!((mode, n), (FireMode::Salvo, 2), "seed {seed}");
                    }
                }
                EventKind::InterceptorLaunched { .. } => rounds += 1,
                EventKind::KillAssessment {
                    missile_id,
                    assessment,
                    ..
                } => match assessment {
                    KillAssessment::Killed => killed_tracks.push(missile_id),
                    KillAssessment::Survivor => survivors.push(missile_id),
                    KillAssessment::Unassessed => panic!("the Tokyo radar watches the re-entry"),
                },
                EventKind::AssetHit { .. } => leaks += 1,
                _ => {}
            }
        }
    }
    // Launches scheduled at tick 0 happen while the simulation is built: count the missiles.
    threats += sim.missiles().len() as u32;
    if sls {
        // Every survivor that was still in the envelope was engaged again.
        for t in &survivors {
            assert!(engaged_after_survivor.contains(t), "seed {seed}: {t:?}");
        }
    }
    (rounds, leaks, threats)
}

#[test]
fn shoot_look_shoot_spends_fewer_rounds_than_salvo_for_the_same_leak_rate() {
    let seeds: Vec<u64> = (1..=6).collect();
    let mut stats = Vec::new();
    for (mode, sls) in [("salvo", false), ("shoot-look-shoot", true)] {
        let s = thaad(mode);
        let runs: Vec<(u32, u32, u32)> = seeds.iter().map(|&k| run_checked(&s, k, sls)).collect();
        let rounds: Vec<f64> = runs.iter().map(|r| f64::from(r.0)).collect();
        let leaks: u32 = runs.iter().map(|r| r.1).sum();
        let threats: u32 = runs.iter().map(|r| r.2).sum();
        let leak = wilson(u64::from(leaks), u64::from(threats), Z_95).unwrap();
        let per_missile = rounds.iter().sum::<f64>() / f64::from(threats);
        println!(
            "{mode}: {per_missile:.2} rounds per missile, leak {}",
            show(&leak)
        );
        stats.push((per_missile, leak));
    }
    let ((salvo_rounds, salvo_leak), (sls_rounds, sls_leak)) = (stats[0], stats[1]);
    // Salvo: two rounds per missile, always. Shoot-look-shoot: one round, a second only after
    // an assessed survivor (1 + (1 - p) = 1.15 expected for THAAD's 0.85 if every first shot
    // reached its end game; measured 1.83 over seeds 1-6: first shots end without a kill more
    // often than the Pk says, to be investigated), so fewer than the salvo.
    assert_eq!(salvo_rounds, 2.0);
    assert!(sls_rounds < salvo_rounds, "{sls_rounds}");
    // The same leak probability (1 - p)^2 = 0.0225 for both: the intervals overlap and both
    // contain it.
    let p = InterceptorKind::Thaad.params().pk_single_shot;
    let expected = (1.0 - p) * (1.0 - p);
    assert!(salvo_leak.contains(expected) && sls_leak.contains(expected));
    assert!(salvo_leak.low <= sls_leak.high && sls_leak.low <= salvo_leak.high);
}
