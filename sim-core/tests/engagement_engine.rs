//! The kill chain inside the engine: the Southern California scenario engaged by its SM-6
//! batteries, rounds spent at launch, bad defence commands refused, determinism, and the Monte
//! Carlo statistics.

use sim_core::engine::defense::{BatteryId, BatteryPlacement};
use sim_core::engine::state_hash::hash_of;
use sim_core::engine::{Command, EventKind, Scenario, Simulation};
use sim_core::montecarlo;

const SOCAL: &str = include_str!("../../scenarios/socal-scud-c.json");

fn socal() -> Scenario {
    Scenario::from_json(SOCAL).expect("the shipped scenario is valid")
}

#[test]
fn socal_scud_is_engaged_and_intercepted_in_most_seeds() {
    let seeds: Vec<u64> = (1..=8).collect();
    let r = montecarlo::run(&socal(), &seeds).unwrap();
    let leak = r.leak.expect("the SCUD threatens Los Angeles");
    println!(
        "SoCal over {} seeds: leak {:.3} ({:.3}-{:.3}), {:.2} interceptors per run, {:.3} kills per interceptor",
        r.runs, leak.estimate, leak.low, leak.high, r.interceptors_mean, r.kills_per_interceptor
    );
    assert_eq!(leak.trials, 8, "every run ends with a kill or a hit");
    assert!(leak.successes <= 2, "{leak:?}");
    assert!(
        r.interceptors_mean >= 1.0 && r.interceptors_mean <= 4.0,
        "{r:?}"
    );
    let alt = r.intercept_altitude_m.expect("kills");
    // No kill outside the SM-6's envelope (2-34 km, catalog): the planner aims inside it with
    // a margin, and an end game outside it cannot kill.
    let sm6 = sim_core::interceptor::InterceptorKind::Sm6.params();
    assert!(
        alt.min >= sm6.min_intercept_alt_m && alt.max <= sm6.max_intercept_alt_m,
        "{alt:?}"
    );
}

#[test]
fn rounds_are_spent_at_launch_within_the_envelope_and_never_from_an_empty_battery() {
    let s = socal();
    let mut sim = Simulation::from_scenario(&s);
    let initial: Vec<u32> = sim
        .defense()
        .batteries
        .iter()
        .map(|b| b.battery.rounds)
        .collect();
    let (mut ordered, mut launched) = (0u32, vec![0u32; initial.len()]);
    while !sim.is_idle() && sim.tick() < 5_000 {
        for e in sim.step(&[]) {
            match e.kind {
                EventKind::EngagementOrdered {
                    rounds,
                    intercept_s,
                    impact_s,
                    alternatives,
                    battery,
                    fire_ts,
                    ..
                } => {
                    ordered += rounds;
                    assert!(fire_ts <= intercept_s && intercept_s <= impact_s);
                    assert!(alternatives.iter().any(|a| a.battery == battery));
                }
                EventKind::InterceptorLaunched {
                    battery,
                    rounds_left,
                    ..
                } => {
                    let i = (battery.0 - 1) as usize;
                    launched[i] += 1;
                    assert_eq!(rounds_left, initial[i] - launched[i]);
                }
                EventKind::Intercept { outcome, .. } => {
                    println!("intercept: {outcome:?}");
                }
                _ => {}
            }
        }
        for (i, b) in sim.defense().batteries.iter().enumerate() {
            assert_eq!(b.battery.rounds, initial[i] - launched[i]);
            assert_eq!(b.rounds_fired, launched[i]);
        }
    }
    assert!(ordered >= 1 && launched.iter().sum::<u32>() == ordered);

    // Empty batteries never fire.
    let mut empty = socal();
    for b in &mut empty.batteries {
        b.rounds = 0;
    }
    let mut sim = Simulation::from_scenario(&empty);
    let events = sim.run_until_idle(5_000);
    assert!(!events.iter().any(|e| matches!(
        e.kind,
        EventKind::InterceptorLaunched { .. } | EventKind::EngagementOrdered { .. }
    )));
    assert!(
        events
            .iter()
            .any(|e| matches!(e.kind, EventKind::AssetHit { .. }))
    );
}

#[test]
fn bad_defence_commands_are_rejected_and_ids_are_never_reused() {
    let mut sim = Simulation::new(Default::default(), 1);
    let good = BatteryPlacement {
        call_sign: "B".into(),
        kind: sim_core::interceptor::InterceptorKind::Pac3,
        position: sim_core::earth::GeoPoint::new(34.0, -118.0),
        rounds: 8,
        launchers: 4,
        reload_s: 60.0,
        ready: true,
    };
    let json = r#"[
        {"type": "place-battery", "call_sign": "X", "kind": "PAC-3",
         "position": {"lat_deg": 34.0, "lon_deg": -118.0}, "rounds": 4, "launchers": 0},
        {"type": "remove-battery", "battery": 9},
        {"type": "place-asset", "name": "A", "position": {"lat_deg": 34.0, "lon_deg": -118.0},
         "value": 1.0, "radius_m": 0.0},
        {"type": "remove-asset", "asset": 3},
        {"type": "set-doctrine", "salvo_size": 0}
    ]"#;
    let bad: Vec<Command> = serde_json::from_str(json).unwrap();
    let events = sim.step(&bad);
    assert_eq!(events.len(), 5);
    for e in &events {
        let EventKind::Rejected { reason, .. } = &e.kind else {
            panic!("{e:?}")
        };
        assert!(!reason.is_empty() && !reason.contains('\n'), "{reason}");
    }
    assert!(sim.defense().is_empty());
    let placed = |events: &[sim_core::Event]| {
        events
            .iter()
            .find_map(|e| match e.kind {
                EventKind::BatteryPlaced { battery, .. } => Some(battery),
                _ => None,
            })
            .unwrap()
    };
    let a = placed(&sim.step(&[Command::PlaceBattery(good.clone())]));
    sim.step(&[Command::RemoveBattery { battery: a }]);
    let b = placed(&sim.step(&[Command::PlaceBattery(good)]));
    assert_eq!((a, b), (BatteryId(1), BatteryId(2)));
    // A doctrine with only some fields takes the defaults for the rest.
    let d: Command = serde_json::from_str(r#"{"type": "set-doctrine", "mode": "salvo"}"#).unwrap();
    let ev = sim.step(&[d]);
    assert!(
        matches!(ev[0].kind, EventKind::DoctrineSet { .. }),
        "{ev:?}"
    );
}

#[test]
fn same_seed_same_engagement_and_monte_carlo_is_order_independent() {
    let s = socal();
    let run = || {
        let mut sim = Simulation::from_scenario(&s);
        let events = sim.run_until_idle(5_000);
        (hash_of(&events), sim.state_hash())
    };
    assert_eq!(run(), run());
    let outcomes: Vec<_> = [3u64, 4]
        .iter()
        .map(|&k| montecarlo::run_one(&s, k))
        .collect();
    assert_eq!(outcomes[0], montecarlo::run_one(&s, 3));
    let a = montecarlo::aggregate(&outcomes).unwrap();
    let reversed: Vec<_> = outcomes.iter().rev().cloned().collect();
    let b = montecarlo::aggregate(&reversed).unwrap();
    assert_eq!(a.leak, b.leak);
    assert_eq!(a.interceptors_mean, b.interceptors_mean);
    assert_eq!(a.runs, 2);
}

#[test]
fn cached_predictions_give_the_same_engagement_as_recomputed_ones() {
    // Restoring a snapshot empties the prediction cache: a run restored before every command
    // and control pass recomputes every prediction, and must match the run that reuses them.
    let s = socal();
    let mut cached = Simulation::from_scenario(&s);
    let a = cached.run_until_idle(5_000);
    let mut fresh = Simulation::from_scenario(&s);
    let mut b = Vec::new();
    while !fresh.is_idle() && fresh.tick() < 5_000 {
        if fresh.tick() % 10 == 9 {
            let json = serde_json::to_string(&fresh.snapshot()).unwrap();
            fresh = Simulation::restore(serde_json::from_str(&json).unwrap());
        }
        b.extend(fresh.step(&[]));
    }
    let (hits, misses) = cached.defense().predictions.hits_misses;
    assert!(hits > 0 && misses > 0, "{hits} reused, {misses} computed");
    assert_eq!(fresh.defense().predictions.hits_misses.0, 0);
    assert_eq!(hash_of(&a), hash_of(&b));
    assert_eq!(cached.state_hash(), fresh.state_hash());
}

#[test]
fn every_battery_is_an_alternative_or_unused_with_the_command_centers_reason() {
    use sim_core::engine::Unused;
    let mut s = socal();
    let base = s.batteries[0].clone();
    let mut far = base.clone();
    far.call_sign = "BAT_NYC".into();
    far.position = sim_core::earth::GeoPoint::new(40.71, -74.0);
    let mut off = base.clone();
    off.call_sign = "BAT_OFF".into();
    off.ready = false;
    let mut empty = base.clone();
    empty.call_sign = "BAT_EMPTY".into();
    empty.rounds = 0;
    s.batteries.extend([far, off, empty]);
    let names: Vec<String> = s.batteries.iter().map(|b| b.call_sign.clone()).collect();
    let mut sim = Simulation::from_scenario(&s);
    let mut orders = 0;
    for e in sim.run_until_idle(5_000) {
        let EventKind::EngagementOrdered {
            alternatives,
            unused,
            ..
        } = e.kind
        else {
            continue;
        };
        orders += 1;
        // Each battery once, either considered or not, with why.
        let mut seen: Vec<String> = alternatives
            .iter()
            .map(|a| a.battery_call_sign.clone())
            .chain(unused.iter().map(|u| u.battery_call_sign.clone()))
            .collect();
        seen.sort();
        let mut all = names.clone();
        all.sort();
        assert_eq!(seen, all, "{alternatives:?} {unused:?}");
        let why = |name: &str| {
            unused
                .iter()
                .find(|u| u.battery_call_sign == name)
                .map(|u| u.reason)
        };
        assert_eq!(why("BAT_OFF"), Some(Unused::NotReady));
        assert_eq!(why("BAT_EMPTY"), Some(Unused::NoRounds));
        // 3,600 km from the threat: the envelope test on the predicted path finds no point
        // in range (or in the band within range).
        assert!(
            matches!(
                why("BAT_NYC"),
                Some(Unused::OutOfRange | Unused::OutsideAltitudeBand)
            ),
            "{:?}",
            why("BAT_NYC")
        );
        for u in &unused {
            assert!(!u.reason.to_string().is_empty());
        }
    }
    assert!(orders >= 1, "the SCUD-C was engaged");
}
