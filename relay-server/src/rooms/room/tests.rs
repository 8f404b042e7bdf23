//! Unit tests of the room task: stamping, the clock, eviction, hashes, launches and events.

use super::super::LEAD_TICKS;
use super::*;
use sim_core::earth::GeoPoint;
use sim_core::engine::LaunchCommand;
use sim_core::protocol::decode_server;
use std::time::Duration;

fn settings() -> RoomSettings {
    RoomSettings {
        grace: Duration::from_secs(60),
        max_rooms: 10,
        heartbeat: Duration::from_secs(15),
        rate_per_s: 20.0,
        burst: 40.0,
        queue: 8,
        allowed_origins: vec![],
        capacity: 100,
        launch_waiting: 1_000,
        budget: Duration::from_millis(100),
        overruns: 10,
        referee_threads: 1,
        operator_token: None,
    }
}

fn room_on(id: &str, bus: EventBus) -> Room {
    room_with(id, bus, settings())
}

fn room_with(id: &str, bus: EventBus, settings: RoomSettings) -> Room {
    Room::new(
        id.into(),
        id != PUBLIC_ROOM,
        Arc::default(),
        Arc::new(AtomicU32::new(pack_clock(false, 1))),
        Arc::new(Orders::new(settings.capacity, settings.launch_waiting)),
        "0000abcd".into(),
        Arc::default(),
        settings,
        RoomMetrics::default(),
        bus,
    )
}

fn room() -> Room {
    room_on("test", EventBus::new(Default::default()))
}

/// A launch with its guidance solved, as websocket connections and REST send them.
fn solved(from: GeoPoint, to: GeoPoint) -> Command {
    let request = TargetingRequest {
        kind: sim_core::MissileKind::ScudB,
        from,
        to,
        profile: Default::default(),
    };
    let guidance = targeting::solve(&request, &PhysicsParams::default())
        .ok()
        .map(|s| s.guidance);
    Command::Launch(LaunchCommand {
        missile: request.kind,
        from,
        to,
        profile: request.profile,
        label: None,
        guidance,
    })
}

fn launch() -> Command {
    solved(GeoPoint::new(35.0, 45.0), GeoPoint::new(33.0, 44.0))
}

fn command(member: u32, command: Command) -> RoomRequest {
    RoomRequest::Command {
        member,
        command,
        applied: None,
    }
}

fn join(room: &mut Room, queue: usize) -> (Member, mpsc::Receiver<Utf8Bytes>) {
    join_as(room, queue, false)
}

fn join_as(room: &mut Room, queue: usize, operator: bool) -> (Member, mpsc::Receiver<Utf8Bytes>) {
    let (tx, rx) = mpsc::channel(queue);
    let (reply, mut answer) = oneshot::channel();
    room.handle(RoomRequest::Join {
        name: "a".into(),
        role: Role::Attacker,
        can_command: true,
        operator,
        outbound: tx,
        reply,
    });
    (answer.try_recv().unwrap().unwrap(), rx)
}

fn drain(rx: &mut mpsc::Receiver<Utf8Bytes>) -> Vec<ServerMessage> {
    std::iter::from_fn(|| rx.try_recv().ok())
        .map(|t| decode_server(t.as_str()).unwrap())
        .collect()
}

#[test]
fn commands_are_stamped_ahead_and_applied_at_their_tick() {
    let mut room = room();
    let (member, mut rx) = join(&mut room, 64);
    room.step();
    room.step();
    room.handle(command(member.id, launch()));
    let stamped = drain(&mut rx)
        .into_iter()
        .find_map(|m| match m {
            ServerMessage::Command(c) => Some(c),
            _ => None,
        })
        .unwrap();
    assert_eq!(stamped.tick, 2 + LEAD_TICKS);
    assert_eq!(stamped.by, member);
    for _ in 0..LEAD_TICKS {
        room.step();
        assert!(room.sim.missiles().is_empty());
    }
    room.step();
    assert_eq!(room.sim.missiles().len(), 1);
    assert_eq!(room.sim.missiles()[0].launch_tick, stamped.tick);
    assert_eq!(room.metrics.launches.get(), 1);
}

#[test]
fn the_clock_pauses_and_speeds_the_referee_and_is_broadcast() {
    let mut room = room();
    let (member, mut rx) = join(&mut room, 64);
    room.period();
    assert_eq!(room.sim.tick(), 1);
    room.handle(RoomRequest::Clock {
        member: member.id,
        paused: true,
        speed: 1,
    });
    for _ in 0..5 {
        room.period();
    }
    assert_eq!(room.sim.tick(), 1);
    room.handle(RoomRequest::Clock {
        member: member.id,
        paused: false,
        speed: 4,
    });
    room.period();
    room.period();
    assert_eq!(room.sim.tick(), 9);
    let clocks: Vec<ClockState> = drain(&mut rx)
        .into_iter()
        .filter_map(|m| match m {
            ServerMessage::Clock(c) => Some(c),
            _ => None,
        })
        .collect();
    assert_eq!(clocks.len(), 2);
    assert_eq!((clocks[0].tick, clocks[0].paused), (1, true));
    assert_eq!((clocks[1].tick, clocks[1].speed), (1, 4));
    assert_eq!(clocks[1].by.as_ref(), Some(&member));
    assert_eq!(
        super::super::unpack_clock(room.clock_shared.load(Ordering::Relaxed)),
        (false, 4)
    );
    // A speed outside the allowed set, or a member who may not command, changes nothing.
    room.handle(RoomRequest::Clock {
        member: member.id,
        paused: true,
        speed: 1000,
    });
    let (tx, _watcher_rx) = mpsc::channel(64);
    let (reply, mut answer) = oneshot::channel();
    room.handle(RoomRequest::Join {
        name: "w".into(),
        role: Role::Observer,
        can_command: false,
        operator: false,
        outbound: tx,
        reply,
    });
    let watcher = answer.try_recv().unwrap().unwrap();
    room.handle(RoomRequest::Clock {
        member: watcher.id,
        paused: true,
        speed: 1,
    });
    assert!(!room.clock.paused);
    assert_eq!(room.clock.speed, 4);
}

#[test]
fn a_member_whose_queue_is_full_is_evicted_not_waited_for() {
    let mut room = room();
    let (fast, mut fast_rx) = join(&mut room, 1024);
    // A queue of 3 that is never read: welcome + presence fill two slots.
    let (slow, _slow_rx) = join(&mut room, 3);
    for _ in 0..5 {
        room.handle(command(fast.id, launch()));
    }
    assert!(room.members.iter().all(|c| c.member.id != slow.id));
    assert_eq!(room.metrics.evictions.get(), 1);
    let presence = drain(&mut fast_rx)
        .into_iter()
        .filter_map(|m| match m {
            ServerMessage::Presence { members } => Some(members),
            _ => None,
        })
        .next_back()
        .unwrap();
    assert_eq!(presence, vec![fast]);
}

#[test]
fn a_wrong_hash_gets_a_resync_and_is_counted() {
    let mut room = room();
    let (member, mut rx) = join(&mut room, 64);
    room.step();
    let (tick, good) = *room.hashes.back().unwrap();
    room.handle(RoomRequest::Hash {
        member: member.id,
        tick,
        hash: good,
    });
    assert_eq!(room.metrics.desyncs.get(), 0);
    room.handle(RoomRequest::Hash {
        member: member.id,
        tick,
        hash: good ^ 1,
    });
    assert_eq!(room.metrics.desyncs.get(), 1);
    let resync = drain(&mut rx).pop().unwrap();
    let ServerMessage::Resync {
        mismatch_tick,
        expected,
        snapshot,
        ..
    } = resync
    else {
        panic!("expected a resync, got {resync:?}");
    };
    assert_eq!((mismatch_tick, expected), (tick, good));
    assert_eq!(
        Simulation::restore(*snapshot).state_hash(),
        room.sim.state_hash()
    );
    // A hash for a future tick is compared when the referee gets there.
    room.handle(RoomRequest::Hash {
        member: member.id,
        tick: room.sim.tick() + 2,
        hash: 0,
    });
    room.step();
    assert_eq!(room.metrics.desyncs.get(), 1);
    room.step();
    assert_eq!(room.metrics.desyncs.get(), 2);
}

/// The old system's setup (scenarios/socal-scud-c.json): the real referee's plots reach
/// the bus with the old `radar.detection` fields, ids and the room, and feed the metrics.
#[test]
fn radar_plots_reach_the_bus_with_the_old_fields() {
    let metrics = crate::metrics::Metrics::new();
    let bus = EventBus::new(metrics.events().clone());
    let mut events = bus.subscribe();
    let mut room = room_on("socal", bus);
    let radar: Command = serde_json::from_value(serde_json::json!({
        "type": "place-radar", "call_sign": "RAD_VBG", "kind": "AN/TPY-2",
        "position": {"lat_deg": 34.73, "lon_deg": -120.57}, "height_m": 100.0,
        "boresight_az_deg": 315.0
    }))
    .unwrap();
    let request = TargetingRequest {
        kind: sim_core::MissileKind::ScudC,
        from: GeoPoint::new(36.5, -123.1),
        to: GeoPoint::new(34.05, -118.25),
        profile: Default::default(),
    };
    let guidance = targeting::solve(&request, &PhysicsParams::default())
        .unwrap()
        .guidance;
    let scud = Command::Launch(LaunchCommand {
        missile: request.kind,
        from: request.from,
        to: request.to,
        profile: request.profile,
        label: None,
        guidance: Some(guidance),
    });
    let member = rest_member();
    room.order(member.clone(), radar, None).unwrap();
    let applied = applied_of(&scud);
    room.order(member, scud, applied.as_ref()).unwrap();
    let mut plot = None;
    for _ in 0..3000 {
        room.step();
        while let Ok(e) = events.try_recv() {
            // A true echo (false alarms may start tentative tracks anywhere).
            if e.kind == "detection"
                && e.payload["missile_id"].is_number()
                && e.payload["truth"].is_number()
            {
                plot.get_or_insert(e);
            }
        }
        if plot.is_some() {
            break;
        }
    }
    let plot = plot.expect("RAD_VBG tracks the SCUD-C within 300 s");
    assert_eq!(plot.room, "socal");
    assert_eq!(
        plot.event_id,
        format!("socal:{}:{}:{}", room.run, plot.tick, plot.index)
    );
    let (_, flat) = crate::nats::messages(&plot).pop().unwrap();
    let flat: serde_json::Value = serde_json::from_slice(&flat).unwrap();
    assert_eq!(flat["radar_id"], "RAD_VBG");
    for key in ["missile_id", "ts", "snr", "lat", "lon"] {
        assert!(flat[key].is_number(), "{key} in {flat}");
    }
    let lat = flat["lat"].as_f64().unwrap();
    assert!((33.0..37.5).contains(&lat), "{lat}");
    let text = metrics.encode().unwrap();
    assert!(
        text.contains(r#"radar_detections_total{radar="RAD_VBG"}"#),
        "{text}"
    );
    assert!(!text.contains("track_updates_total 0"), "{text}");
}

#[test]
fn an_impact_publishes_the_flown_trajectory() {
    let bus = EventBus::new(Default::default());
    let mut events = bus.subscribe();
    let mut room = room_on("t", bus);
    let scud = launch();
    let applied = applied_of(&scud);
    room.order(rest_member(), scud, applied.as_ref()).unwrap();
    let mut impact = None;
    let mut path = None;
    for _ in 0..6000 {
        room.step();
        while let Ok(e) = events.try_recv() {
            match e.kind.as_str() {
                "impact" => impact = Some(e),
                "trajectory" => path = Some(e),
                _ => {}
            }
        }
        if path.is_some() {
            break;
        }
    }
    let (impact, path) = (impact.unwrap(), path.expect("a trajectory at impact"));
    assert_eq!(path.tick, impact.tick);
    assert!(path.index > impact.index);
    assert_eq!(path.payload["missile"], impact.payload["missile"]);
    let points = path.payload["points"].as_array().unwrap();
    let flight_s = impact.payload["flight_time_s"].as_f64().unwrap();
    // One point per second of flight, plus the impact point.
    assert!(
        (points.len() as f64 - flight_s).abs() <= 2.0,
        "{} points for {flight_s} s",
        points.len()
    );
    let first = points[0].as_array().unwrap();
    assert!(
        (first[0].as_f64().unwrap() - 35.0).abs() < 0.05,
        "{first:?}"
    );
    assert!(
        (first[1].as_f64().unwrap() - 45.0).abs() < 0.05,
        "{first:?}"
    );
    let apogee = points
        .iter()
        .map(|p| p[2].as_f64().unwrap())
        .fold(0.0, f64::max);
    assert!(apogee > 40_000.0, "{apogee}");
    let last = points.last().unwrap();
    assert_eq!(last[0], impact.payload["at"]["lat_deg"]);
    assert!(room.trails.is_empty());
}

#[test]
fn launches_get_their_id_and_event_when_ordered_and_the_referee_agrees() {
    let bus = EventBus::new(Default::default());
    let mut events = bus.subscribe();
    let mut room = room_on("t", bus);
    let (member, mut rx) = join(&mut room, 64);
    room.step();
    // A websocket launch and a radar placement, then two launches ordered from outside the
    // task (as REST does), all for the same tick.
    room.handle(command(member.id, launch()));
    let radar: Command = serde_json::from_value(serde_json::json!({
        "type": "place-radar", "call_sign": "R1", "kind": "AN/TPY-2",
        "position": {"lat_deg": 34.0, "lon_deg": 44.0}, "height_m": 10.0,
        "boresight_az_deg": 0.0
    }))
    .unwrap();
    room.handle(command(member.id, radar));
    let mut answers = Vec::new();
    for to in [GeoPoint::new(33.5, 44.5), GeoPoint::new(33.0, 44.0)] {
        let scud = solved(GeoPoint::new(35.0, 45.0), to);
        let applied = applied_of(&scud).unwrap();
        let ordered = order_in(
            &room.orders,
            &room.bus,
            ("t", "0000abcd"),
            rest_member(),
            scud,
            Some(&applied),
        )
        .unwrap();
        answers.push(ordered.1.unwrap());
    }
    let tick = 1 + LEAD_TICKS;
    assert_eq!(
        answers
            .iter()
            .map(|o| (o.missile, o.tick, o.index))
            .collect::<Vec<_>>(),
        [(MissileId(2), tick, 2), (MissileId(3), tick, 3)]
    );
    // The room task broadcasts what was ordered outside it, in order, before it applies.
    room.flush();
    let stamped: Vec<StampedCommand> = drain(&mut rx)
        .into_iter()
        .filter_map(|m| match m {
            ServerMessage::Command(c) => Some(c),
            _ => None,
        })
        .collect();
    assert_eq!(stamped.len(), 4);
    assert!(stamped.iter().all(|c| c.tick == tick));
    assert_eq!(stamped[3].by, rest_member());
    while room.sim.tick() <= tick {
        room.step();
    }
    let launched: Vec<_> = std::iter::from_fn(|| events.try_recv().ok())
        .filter(|e| e.kind == "launch")
        .collect();
    assert_eq!(launched.len(), 3);
    for (ordered, e) in answers.iter().zip(&launched[1..]) {
        assert_eq!(e.event_id, format!("t:0000abcd:{tick}:{}", ordered.index));
        assert_eq!(
            **e,
            BusEvent::new("t", "0000abcd", ordered.index, &ordered.event)
        );
    }
    assert_eq!(room.metrics.mispredictions.get(), 0);
    assert_eq!(room.metrics.launches.get(), 3);
    assert!(room.orders.is_idle());
}

#[test]
fn launches_past_capacity_or_refused_by_the_referee_are_not_ordered() {
    let mut room = room();
    let (member, mut rx) = join(&mut room, 256);
    let scud = launch();
    let applied = applied_of(&scud).unwrap();
    for _ in 0..settings().capacity {
        order_in(
            &room.orders,
            &room.bus,
            ("test", "0000abcd"),
            rest_member(),
            scud.clone(),
            Some(&applied),
        )
        .unwrap();
    }
    let full = order_in(
        &room.orders,
        &room.bus,
        ("test", "0000abcd"),
        rest_member(),
        scud.clone(),
        Some(&applied),
    );
    assert_eq!(full.unwrap_err(), Refusal::Full { capacity: 100 });
    // Still full once they fly: they are in flight for minutes.
    for _ in 0..=LEAD_TICKS {
        room.step();
    }
    assert_eq!(room.orders.load(), 100);
    assert!(!room.orders.has_room());
    // Guidance the referee would refuse: the sender hears why, nobody else anything.
    let Command::Launch(mut bad) = scud else {
        panic!("launch() is a launch")
    };
    if let Some(g) = bad.guidance.as_mut() {
        g.pitch_final_deg = 95.0;
    }
    room.flush();
    assert_eq!(
        drain(&mut rx)
            .iter()
            .filter(|m| matches!(m, ServerMessage::Command(_)))
            .count(),
        100
    );
    room.handle(command(member.id, Command::Launch(bad)));
    let answers = drain(&mut rx);
    assert_eq!(answers.len(), 1);
    assert!(
        matches!(&answers[0], ServerMessage::Error { message } if message.contains("pitch")),
        "{:?}",
        answers[0]
    );
    assert_eq!(room.metrics.mispredictions.get(), 0);
}

#[test]
fn commands_ordered_from_outside_are_broadcast_before_they_apply() {
    let mut room = room();
    let (_, mut rx) = join(&mut room, 64);
    drain(&mut rx);
    let scud = launch();
    let applied = applied_of(&scud).unwrap();
    let (tick, _) = order_in(
        &room.orders,
        &room.bus,
        ("test", "0000abcd"),
        rest_member(),
        scud,
        Some(&applied),
    )
    .unwrap();
    // Only steps, as at 16x, with no wake-up of the task in between.
    while room.sim.tick() < tick {
        room.step();
    }
    assert!(room.sim.missiles().is_empty());
    assert!(
        drain(&mut rx)
            .iter()
            .any(|m| matches!(m, ServerMessage::Command(c) if c.tick == tick))
    );
    room.step();
    assert_eq!(room.sim.missiles().len(), 1);
}

#[test]
fn a_member_joining_gets_pending_commands_once() {
    let mut room = room();
    let (first, mut first_rx) = join(&mut room, 64);
    let scud = launch();
    let applied = applied_of(&scud).unwrap();
    order_in(
        &room.orders,
        &room.bus,
        ("test", "0000abcd"),
        rest_member(),
        scud,
        Some(&applied),
    )
    .unwrap();
    // Ordered outside the task and not yet broadcast when the second member joins.
    let (_, mut second_rx) = join(&mut room, 64);
    room.flush();
    let second = drain(&mut second_rx);
    let ServerMessage::Welcome { commands, .. } = &second[0] else {
        panic!("{second:?}")
    };
    assert_eq!(commands.len(), 1);
    assert!(
        !second[1..]
            .iter()
            .any(|m| matches!(m, ServerMessage::Command(_)))
    );
    let first_commands = drain(&mut first_rx)
        .into_iter()
        .filter(|m| matches!(m, ServerMessage::Command(_)))
        .count();
    assert_eq!(first_commands, 1, "{first:?}");
}

#[test]
fn only_operators_set_the_public_room_clock() {
    let mut room = room_on(PUBLIC_ROOM, EventBus::new(Default::default()));
    let (visitor, mut visitor_rx) = join_as(&mut room, 64, false);
    let (operator, mut operator_rx) = join_as(&mut room, 64, true);
    drain(&mut visitor_rx);
    drain(&mut operator_rx);
    room.handle(RoomRequest::Clock {
        member: visitor.id,
        paused: true,
        speed: 16,
    });
    assert!(!room.clock.paused);
    assert_eq!(room.clock.speed, 1);
    let refused = drain(&mut visitor_rx);
    assert!(
        matches!(&refused[..], [ServerMessage::Error { message }] if message == PUBLIC_CLOCK_REFUSED),
        "{refused:?}"
    );
    assert!(drain(&mut operator_rx).is_empty());
    room.period();
    assert_eq!(room.sim.tick(), 1);
    room.handle(RoomRequest::Clock {
        member: operator.id,
        paused: true,
        speed: 1,
    });
    assert!(room.clock.paused);
    assert_eq!(room.clock.by.as_ref(), Some(&operator));
    // The operator leaves: the clock stays as set.
    room.handle(RoomRequest::Leave {
        member: operator.id,
    });
    room.period();
    assert!(room.clock.paused);
    assert_eq!(room.sim.tick(), 1);
}

#[test]
fn launches_waiting_for_the_referee_are_bounded() {
    let mut settings = settings();
    settings.launch_waiting = 3;
    let room = room_with("test", EventBus::new(Default::default()), settings);
    let scud = launch();
    let applied = applied_of(&scud).unwrap();
    let order = || {
        order_in(
            &room.orders,
            &room.bus,
            ("test", "0000abcd"),
            rest_member(),
            scud.clone(),
            Some(&applied),
        )
    };
    for _ in 0..3 {
        order().unwrap();
    }
    assert_eq!(order().unwrap_err(), Refusal::Backlog { limit: 3 });
    assert!(matches!(
        LaunchOutcome::from(Refusal::Backlog { limit: 3 }),
        LaunchOutcome::Backlog(why) if why.starts_with("3 launches already wait")
    ));
}

/// A room whose every period overruns its budget is stopped after `overruns` of them: its
/// members hear why, the stop is counted, the task ends and takes no more requests.
#[tokio::test]
async fn a_room_overrunning_its_budget_is_stopped_and_tells_its_members() {
    let mut settings = settings();
    settings.budget = Duration::from_nanos(1);
    settings.overruns = 3;
    let mut room = room_with("test", EventBus::new(Default::default()), settings);
    let (_, mut rx) = join(&mut room, 64);
    drain(&mut rx);
    let metrics = room.metrics.clone();
    let vitals = room.vitals.clone();
    let (requests, requests_rx) = mpsc::channel(8);
    tokio::time::timeout(Duration::from_secs(10), room.run(requests_rx))
        .await
        .expect("the room stops within 10 s");
    assert!(requests.is_closed());
    assert_eq!(metrics.overruns.get(), 3);
    assert_eq!(
        metrics
            .stopped
            .get_or_create(&crate::metrics::StoppedLabels { reason: "overrun" })
            .get(),
        1
    );
    assert!(vitals.stopped().is_some());
    let messages = drain(&mut rx);
    let Some(ServerMessage::Error { message }) = messages.last() else {
        panic!("{messages:?}");
    };
    assert!(
        message.contains("was stopped") && message.contains("3 of its last 6 periods"),
        "{message}"
    );
    // The member's queue was dropped: its connection closes.
    assert!(rx.recv().await.is_none());
}
