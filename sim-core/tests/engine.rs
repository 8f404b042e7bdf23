//! Engine behaviour: commands, events, ids, views, snapshots.
#![cfg(not(target_arch = "wasm32"))]

use sim_core::Simulation;
use sim_core::earth::GeoPoint;
use sim_core::engine::{Command, EventKind, LaunchCommand, MissileId, Scenario, TICK_HZ};
use sim_core::flight::{Phase, PhysicsParams};
use sim_core::missile::MissileKind;
use sim_core::targeting::Profile;

fn launch(missile: MissileKind, from: (f64, f64), to: (f64, f64)) -> Command {
    Command::Launch(LaunchCommand {
        missile,
        from: GeoPoint::new(from.0, from.1),
        to: GeoPoint::new(to.0, to.1),
        profile: Profile::MinEnergy,
        label: Some("test".into()),
        guidance: None,
    })
}

#[test]
fn commands_are_json_and_launches_follow_the_documented_life_cycle() {
    let json = r#"{"type": "launch", "missile": "SCUD-B", "from": {"lat_deg": 36.0, "lon_deg": -122.0},
                   "to": {"lat_deg": 34.5, "lon_deg": -119.8}}"#;
    let cmd: Command = serde_json::from_str(json).unwrap();
    let mut sim = Simulation::new(PhysicsParams::default(), 1);
    let first = sim.step(&[
        cmd.clone(),
        launch(MissileKind::ScudC, (34.05, -118.25), (33.749, -84.388)),
    ]);
    assert!(matches!(
        &first[0].kind,
        EventKind::Launch {
            missile: MissileId(1),
            missile_type: MissileKind::ScudB,
            ..
        }
    ));
    match &first[1].kind {
        EventKind::LaunchRejected { reason, .. } => assert!(reason.contains("maximum range")),
        other => panic!("{other:?}"),
    }
    // The rejected launch consumed no id; the next launch gets 2.
    let second = sim.step(&[cmd]);
    assert!(matches!(
        &second[0].kind,
        EventKind::Launch {
            missile: MissileId(2),
            ..
        }
    ));
    let events = sim.run_until_idle(10_000);
    let of = |id: u32| -> Vec<&str> {
        events
            .iter()
            .filter_map(|e| {
                let (m, name) = match &e.kind {
                    EventKind::StageBurnout { missile, .. } => (missile, "stage-burnout"),
                    EventKind::Burnout { missile, .. } => (missile, "burnout"),
                    EventKind::Apogee { missile, .. } => (missile, "apogee"),
                    EventKind::Impact { missile, .. } => (missile, "impact"),
                    _ => return None,
                };
                (m.0 == id).then_some(name)
            })
            .collect()
    };
    // Minimum-energy flights end powered flight by thrust cut-off, not by a stage burnout.
    assert_eq!(of(1), ["burnout", "apogee", "impact"]);
    assert_eq!(of(2), ["burnout", "apogee", "impact"]);
    // Events are in tick order with times inside their tick.
    for w in events.windows(2) {
        assert!(w[0].tick <= w[1].tick);
    }
    for e in &events {
        let t0 = e.tick as f64 / f64::from(TICK_HZ);
        assert!(
            e.time_s >= t0 - 1e-9 && e.time_s <= t0 + 0.1 + 1e-9,
            "{e:?}"
        );
    }
    assert!(sim.is_idle());
    let views: Vec<_> = sim.missile_views().collect();
    assert_eq!(views.len(), 2);
    assert!(
        views
            .iter()
            .all(|v| v.phase == Phase::Impacted && v.alt_m == 0.0)
    );
}

#[test]
fn views_and_position_buffer_track_the_flight() {
    let mut sim = Simulation::new(PhysicsParams::default(), 1);
    sim.step(&[launch(MissileKind::Icbm, (34.7, -120.6), (9.4, 167.5))]);
    for _ in 0..(120 * TICK_HZ) {
        sim.step(&[]);
    }
    let v = sim.missile_view(MissileId(1)).unwrap();
    assert_eq!(v.phase, Phase::Boost);
    assert!(v.alt_m > 50_000.0 && v.speed_m_s > 2_000.0, "{v:?}");
    let mut buf = Vec::new();
    sim.write_positions(&mut buf);
    assert_eq!(buf, [1.0, v.lat_deg, v.lon_deg, v.alt_m, v.speed_m_s, 0.0]);
    assert!(sim.missile_view(MissileId(7)).is_none());
}

#[test]
fn same_commands_same_state_and_hash_changes_with_state() {
    let scenario = Scenario::single_launch(
        "x",
        MissileKind::ScudC,
        GeoPoint::new(36.5, -123.1),
        GeoPoint::new(34.05, -118.25),
    );
    let mut a = Simulation::from_scenario(&scenario);
    let mut b = Simulation::from_scenario(&scenario);
    let h0 = a.state_hash();
    for _ in 0..50 {
        assert_eq!(a.step(&[]), b.step(&[]));
    }
    assert_eq!(a.state_hash(), b.state_hash());
    assert_ne!(a.state_hash(), h0);
    let mut c = Simulation::restore(a.snapshot());
    assert_eq!(c.step(&[]), a.step(&[]));
    assert_eq!(c.state_hash(), a.state_hash());
}

#[test]
fn a_launch_with_presolved_guidance_flies_the_same_flight_without_solving() {
    use sim_core::targeting::{self, TargetingRequest};
    let physics = PhysicsParams::default();
    let req = TargetingRequest {
        kind: MissileKind::ScudC,
        from: GeoPoint::new(36.5, -123.1),
        to: GeoPoint::new(34.05, -118.25),
        profile: Profile::MinEnergy,
    };
    let sol = targeting::solve(&req, &physics).unwrap();
    let command = |guidance| {
        Command::Launch(LaunchCommand {
            missile: req.kind,
            from: req.from,
            to: req.to,
            profile: req.profile,
            label: None,
            guidance,
        })
    };
    let impacts = |cmd: Command| {
        let json = serde_json::to_string(&cmd).unwrap();
        let cmd: Command = serde_json::from_str(&json).unwrap();
        let mut sim = Simulation::new(physics, 0);
        let mut events = sim.step(&[cmd]);
        events.extend(sim.run_until_idle(10_000));
        events
            .into_iter()
            .filter(|e| {
                matches!(
                    e.kind,
                    EventKind::Impact { .. } | EventKind::LaunchRejected { .. }
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(impacts(command(None)), impacts(command(Some(sol.guidance))));
    let mut bad = sol.guidance;
    bad.pitch_final_deg = 120.0;
    let rejected = impacts(command(Some(bad)));
    assert!(
        matches!(&rejected[0].kind, EventKind::LaunchRejected { reason, .. } if reason.contains("pitch"))
    );
}

#[test]
fn a_salvo_of_identical_rounds_matches_rounds_launched_alone() {
    // The engine checks each distinct launch once and reuses the result for identical rounds
    // (a memo beside the state): every round must still get exactly the events and state a
    // fresh simulation gives it, bad guidance must still be refused every time, and a
    // restored snapshot (empty memo) must continue identically.
    use sim_core::targeting::{self, TargetingRequest};
    let physics = PhysicsParams::default();
    let req = TargetingRequest {
        kind: MissileKind::ScudC,
        from: GeoPoint::new(36.5, -123.1),
        to: GeoPoint::new(34.05, -118.25),
        profile: Profile::MinEnergy,
    };
    let guidance = targeting::solve(&req, &physics).unwrap().guidance;
    let mut bad = guidance;
    bad.cutoff_s = -1.0;
    let command = |g| {
        Command::Launch(LaunchCommand {
            missile: req.kind,
            from: req.from,
            to: req.to,
            profile: req.profile,
            label: None,
            guidance: Some(g),
        })
    };
    let launch_event = |sim: &mut Simulation, g| {
        let e = sim.step(&[command(g)]);
        assert_eq!(e.len(), 1, "{e:?}");
        e.into_iter().next().unwrap().kind
    };
    let mut salvo = Simulation::new(physics, 3);
    for round in 0..4 {
        let e = launch_event(&mut salvo, guidance);
        let alone = launch_event(&mut Simulation::new(physics, 3), guidance);
        match (&e, &alone) {
            (
                EventKind::Launch {
                    missile,
                    predicted,
                    predicted_miss_m,
                    ..
                },
                EventKind::Launch {
                    predicted: p,
                    predicted_miss_m: m,
                    ..
                },
            ) => {
                assert_eq!(*missile, MissileId(round + 1));
                assert_eq!((predicted, predicted_miss_m.to_bits()), (p, m.to_bits()));
            }
            other => panic!("{other:?}"),
        }
        let refused = launch_event(&mut salvo, bad);
        assert!(
            matches!(&refused, EventKind::LaunchRejected { reason, .. } if reason.contains("guidance.cutoff_s")),
            "{refused:?}"
        );
    }
    let mut restored = Simulation::restore(salvo.snapshot());
    assert_eq!(
        restored.step(&[command(guidance)]),
        salvo.step(&[command(guidance)])
    );
    assert_eq!(restored.state_hash(), salvo.state_hash());
    let missiles = salvo.missiles();
    assert_eq!(missiles.len(), 5);
    assert!(missiles.iter().all(|m| m.flight.guidance == guidance));
}
