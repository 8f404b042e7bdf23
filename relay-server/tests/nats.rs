//! The NATS bridge against a real `nats-server` started on a free loopback port: events on
//! the old and new subjects with their ids and in the JetStream stream (created once for
//! several relays, an event published again stored once), launches injected on
//! `command.launch`, NATS killed and restarted mid-run with no lost launch and no relay crash,
//! a server without JetStream (core subjects only), and an event larger than the server's
//! `max_payload` set aside while the events around it go out.

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{Request, StatusCode};
use futures_util::StreamExt;
use http_body_util::BodyExt;
use relay_server::{AppState, Config, app};
use serde_json::{Value, json};
use tower::ServiceExt;

use common::dist_fixture;
use common::services::{Nats, NatsOptions};
use common::stream;
use relay_server::bus::BusEvent;

const LAUNCH: &str = "/launch?lat=34.7&lon=-120.6&targetLat=34.05&targetLon=-118.25";

async fn send(router: &Router, request: Request<Body>) -> (StatusCode, Value) {
    let response = router.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let bytes: Bytes = response.into_body().collect().await.unwrap().to_bytes();
    let json = serde_json::from_slice(&bytes)
        .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, json)
}

async fn launch(router: &Router) -> String {
    let (status, body) = send(router, Request::post(LAUNCH).body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["missile_id"].as_str().unwrap().to_string()
}

async fn metric(router: &Router, name: &str) -> f64 {
    let (_, body) = send(
        router,
        Request::get("/metrics").body(Body::empty()).unwrap(),
    )
    .await;
    let text = body.as_str().unwrap().to_string();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {name} in\n{text}"))
}

async fn next_json(sub: &mut async_nats::Subscriber) -> Value {
    let message = tokio::time::timeout(Duration::from_secs(60), sub.next())
        .await
        .expect("a message in time")
        .expect("the subscription is open");
    serde_json::from_slice(&message.payload).unwrap()
}

async fn relay(nats: &Nats) -> (AppState, Router, common::TempDir) {
    relay_with(nats, |_| {}).await
}

async fn relay_with(
    nats: &Nats,
    configure: impl FnOnce(&mut Config),
) -> (AppState, Router, common::TempDir) {
    let dist = dist_fixture();
    let mut config = Config::with_dist_dir(dist.path());
    config.nats_url = Some(nats.url());
    config.no_database = true;
    configure(&mut config);
    let state = AppState::start(config).await.unwrap();
    let router = app(state.clone());
    (state, router, dist)
}

#[tokio::test]
async fn events_go_out_on_old_and_new_subjects_and_launches_come_in() {
    let Some(nats) = Nats::start() else {
        return;
    };
    let (_state, router, _) = relay(&nats).await;
    let client = async_nats::connect(nats.url()).await.unwrap();
    let mut flat = client.subscribe("missile.launch").await.unwrap();
    let mut envelopes = client
        .subscribe("mdsim.events.public.launch")
        .await
        .unwrap();
    client.flush().await.unwrap();

    let missile = launch(&router).await;
    let message = next_json(&mut flat).await;
    assert_eq!(format!("M{}", message["missile"]), missile);
    assert_eq!(message["missile_id"], message["missile"]);
    assert_eq!(message["room"], "public");
    assert_eq!(message["from"]["lat_deg"], 34.7);
    let id = message["event_id"].as_str().unwrap().to_string();
    assert!(id.starts_with("public:"), "{id}");
    let envelope = next_json(&mut envelopes).await;
    assert_eq!(envelope["event_id"], id.as_str());
    assert_eq!(envelope["type"], "launch");
    assert_eq!(envelope["payload"]["missile_type"], "SCUD-C");
    // And in the stream, keyed by its id, for consumers that come later.
    let launches = stream::consumer(&client, "launches", "mdsim.events.public.launch").await;
    let stored = stream::fetch(&client, &launches, 10, Duration::from_secs(5)).await;
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert_eq!(stored[0].event_id(), id);
    assert_eq!(stored[0].msg_id.as_deref(), Some(id.as_str()));

    // An outside program launches with a request on command.launch.
    let reply = client
        .request(
            "command.launch",
            serde_json::to_vec(&json!({"lat": 34.7, "lon": -120.6, "targetLat": 34.05,
                                       "targetLon": -118.25, "missileType": "SCUD-B"}))
            .unwrap()
            .into(),
        )
        .await
        .unwrap();
    let answer: Value = serde_json::from_slice(&reply.payload).unwrap();
    assert_eq!(answer["status"], "launched", "{answer}");
    let injected = next_json(&mut flat).await;
    assert_eq!(
        format!("M{}", injected["missile"]),
        answer["missile_id"].as_str().unwrap()
    );
    assert_eq!(injected["missile_type"], "SCUD-B");

    // Validated like REST: each bad message gets a clear error, and the relay goes on.
    for bad in [
        json!({"lat": 34.7}),
        json!({"lat": "NaN", "lon": 0, "targetLat": 0, "targetLon": 1}),
        json!({"lat": 34.7, "lon": -120.6, "targetLat": 33.75, "targetLon": -84.39}),
        json!({"lat": 0, "lon": 0, "targetLat": 0, "targetLon": 1, "room": "nope"}),
        json!([1, 2]),
    ] {
        let reply = client
            .request("command.launch", serde_json::to_vec(&bad).unwrap().into())
            .await
            .unwrap();
        let answer: Value = serde_json::from_slice(&reply.payload).unwrap();
        let error = answer["error"]
            .as_str()
            .unwrap_or_else(|| panic!("{bad}: {answer}"));
        assert!(!error.is_empty() && error.len() < 300, "{error}");
    }
    let reply = client
        .request("command.launch", "not json".into())
        .await
        .unwrap();
    let answer: Value = serde_json::from_slice(&reply.payload).unwrap();
    assert!(
        answer["error"].as_str().unwrap().contains("JSON"),
        "{answer}"
    );
    assert!(metric(&router, "nats_published_total").await >= 2.0);
}

#[tokio::test]
async fn nats_down_and_back_loses_no_launch() {
    // Without JetStream (an old deployment): the public room is this relay's own and takes
    // launches through the outage; their events wait in the buffer. With JetStream the room's
    // log must take a command before it applies (below, and tests/durable.rs).
    let Some(mut nats) = Nats::start_with(NatsOptions {
        no_jetstream: true,
        ..NatsOptions::default()
    }) else {
        return;
    };
    let (_state, router, _) = relay(&nats).await;
    launch(&router).await;
    // Let the first events out, then take NATS away.
    tokio::time::sleep(Duration::from_millis(300)).await;
    nats.stop();
    let mut launched = BTreeSet::new();
    for _ in 0..3 {
        launched.insert(launch(&router).await);
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while metric(&router, "nats_buffer_events").await < 3.0 {
        assert!(Instant::now() < deadline, "events were not buffered");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Down long enough for the relay's reconnection delay to grow, so the test's subscriber
    // (a fresh connection) is in place before the relay flushes its buffer.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    nats.restart();
    let client = async_nats::connect(nats.url()).await.unwrap();
    let mut flat = client.subscribe("missile.launch").await.unwrap();
    client.flush().await.unwrap();
    let mut seen = BTreeSet::new();
    let mut ids = BTreeSet::new();
    while !launched.is_subset(&seen) {
        let message = next_json(&mut flat).await;
        ids.insert(message["event_id"].as_str().unwrap().to_string());
        seen.insert(format!("M{}", message["missile"]));
    }
    assert!(ids.len() >= 3);
    let deadline = Instant::now() + Duration::from_secs(10);
    while metric(&router, "nats_buffer_events").await > 0.0 {
        assert!(Instant::now() < deadline, "the buffer did not drain");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(metric(&router, "nats_buffer_dropped_total").await == 0.0);
    // Still serving.
    launch(&router).await;
}

/// With JetStream the public room is the cluster's and logged: while NATS is down a launch is
/// never answered 200 unlogged (503, try again), and once NATS is back launches fly again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_jetstream_no_launch_is_answered_unlogged_while_nats_is_down() {
    let Some(mut nats) = Nats::start() else {
        return;
    };
    let (_state, router, _) = relay(&nats).await;
    launch(&router).await;
    nats.stop();
    for _ in 0..3 {
        let (status, body) =
            send(&router, Request::post(LAUNCH).body(Body::empty()).unwrap()).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    }
    assert!(metric(&router, "relay_room_log_failures_total").await >= 1.0);
    nats.restart();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, body) =
            send(&router, Request::post(LAUNCH).body(Body::empty()).unwrap()).await;
        if status == StatusCode::OK {
            break;
        }
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert!(
            Instant::now() < deadline,
            "launches were still refused: {body}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// An event whose publish is retried (here: published twice by one relay, once by another on
/// the same NATS) is stored once; the stream is created once and its limits updated by the
/// last relay to start.
#[tokio::test]
async fn the_stream_is_shared_and_keeps_an_event_once_however_often_it_is_published() {
    let Some(nats) = Nats::start() else {
        return;
    };
    let (first, _, _) = relay(&nats).await;
    let client = async_nats::connect(nats.url()).await.unwrap();
    let js = stream::context(&client);
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut events = loop {
        if let Ok(s) = js.get_stream(stream::EVENTS_STREAM).await {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "the relay did not create the stream"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let config = events.info().await.unwrap().config.clone();
    assert_eq!(config.subjects, ["mdsim.events.>"]);
    assert_eq!(config.max_age, Duration::from_secs(24 * 3600));
    assert_eq!(config.max_bytes, 1024 * 1024 * 1024);
    assert_eq!(config.max_messages, 10_000_000);
    assert_eq!(config.duplicate_window, Duration::from_secs(300));
    assert_eq!(
        config.discard,
        async_nats::jetstream::stream::DiscardPolicy::Old
    );

    let (second, _, _) = relay_with(&nats, |c| c.nats_stream_max_age = 2).await;
    let probe = BusEvent::from_payload(
        "dedup",
        "00000000",
        1,
        0,
        json!({"type": "probe", "time_s": 0.5}),
    );
    first.bus().publish(probe.clone());
    first.bus().publish(probe.clone());
    second.bus().publish(probe.clone());
    let other = BusEvent::from_payload("dedup", "00000000", 1, 1, json!({"type": "probe"}));
    second.bus().publish(other);
    for state in [&first, &second] {
        assert_eq!(state.bus().drain(Duration::from_secs(15)).await, 0);
    }
    let consumer = stream::consumer(&client, "dedup", "mdsim.events.dedup.probe").await;
    let stored = stream::fetch(&client, &consumer, 10, Duration::from_secs(2)).await;
    let ids: Vec<&str> = stored.iter().map(|s| s.event_id()).collect();
    assert_eq!(
        ids,
        ["dedup:00000000:1:0", "dedup:00000000:1:1"],
        "{stored:?}"
    );
    // The second relay's limits are the stream's now.
    let info = events.info().await.unwrap();
    assert_eq!(info.config.max_age, Duration::from_secs(2 * 3600));

    // A stream that goes missing (deleted, or a server that lost its store) is created again
    // by the next publish that finds it missing, and that publish is not lost.
    js.delete_stream(stream::EVENTS_STREAM).await.unwrap();
    let after = BusEvent::from_payload("dedup", "00000000", 2, 0, json!({"type": "probe"}));
    first.bus().publish(after);
    assert_eq!(first.bus().drain(Duration::from_secs(15)).await, 0);
    let consumer = stream::consumer(&client, "again", "mdsim.events.dedup.probe").await;
    let stored = stream::fetch(&client, &consumer, 10, Duration::from_secs(2)).await;
    let ids: Vec<&str> = stored.iter().map(|s| s.event_id()).collect();
    assert_eq!(ids, ["dedup:00000000:2:0"]);
    assert!(metric_of(&first, "nats_errors_total{op=\"stream-missing\"}") >= 1.0);
}

fn metric_of(state: &AppState, name: &str) -> f64 {
    let text = state.metrics().encode().unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {name} in\n{text}"))
}

/// Waits (at most 15 s) until the relay has created the events stream.
async fn wait_for_stream(client: &async_nats::Client) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while stream::context(client)
        .get_stream(stream::EVENTS_STREAM)
        .await
        .is_err()
    {
        assert!(
            Instant::now() < deadline,
            "the relay did not create the stream"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Events flow steadily while nats-server is killed (SIGKILL) and restarted on its store; a
/// durable consumer of the stream, away from before the outage until after the relay caught
/// up, sees every event, each at exactly one stream position (publishes retried across the
/// kill were dropped by the duplicate window).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_durable_consumer_away_during_a_nats_kill_sees_every_event_once() {
    const EVENTS: u32 = 20_000;
    let Some(mut nats) = Nats::start() else {
        return;
    };
    let (state, router, _) = relay(&nats).await;
    let client = async_nats::connect(nats.url()).await.unwrap();
    wait_for_stream(&client).await;
    let away = stream::consumer(&client, "away", "mdsim.events.load.>").await;
    // 20,000 events at about 5,000 a second.
    let bus = state.bus().clone();
    let producer = tokio::spawn(async move {
        for i in 0..EVENTS {
            bus.publish(BusEvent::from_payload(
                "load",
                "00000000",
                u64::from(i / 10),
                i % 10,
                json!({"type": "probe", "n": i}),
            ));
            if i % 10 == 9 {
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }
    });
    tokio::time::sleep(Duration::from_millis(800)).await;
    let mut consumed = stream::fetch(&client, &away, 1000, Duration::from_secs(1)).await;
    assert!(
        !consumed.is_empty(),
        "the consumer read nothing before the outage"
    );
    drop(away);
    drop(client);
    nats.stop();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    nats.restart();
    producer.await.unwrap();
    assert_eq!(state.bus().drain(Duration::from_secs(60)).await, 0);
    assert_eq!(metric(&router, "nats_buffer_dropped_total").await, 0.0);
    let (_, text) = send(
        &router,
        Request::get("/metrics").body(Body::empty()).unwrap(),
    )
    .await;
    let errors: Vec<&str> = text
        .as_str()
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("nats_errors_total"))
        .collect();
    eprintln!("through the kill: {errors:?}");

    let client = async_nats::connect(nats.url()).await.unwrap();
    let away = stream::durable(&client, "away").await;
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut positions = std::collections::BTreeMap::new();
    loop {
        for s in &consumed {
            let at = positions
                .entry(s.event_id().to_string())
                .or_insert(s.sequence);
            assert_eq!(*at, s.sequence, "{} is stored twice", s.event_id());
            assert_eq!(s.msg_id.as_deref(), Some(s.event_id()));
        }
        if positions.len() == EVENTS as usize {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the durable consumer has {} of {EVENTS} events",
            positions.len()
        );
        consumed = stream::fetch(&client, &away, 1000, Duration::from_secs(1)).await;
    }
    for i in 0..EVENTS {
        let id = format!("load:00000000:{}:{}", i / 10, i % 10);
        assert!(positions.contains_key(&id), "{id} is missing");
    }
}

/// A relay that has used the stream never falls back to core subjects when JetStream stops
/// answering (a nats-server restarted without it, or still recovering its store): the events
/// wait in its buffer, and reach the stream once JetStream is back. Published on core
/// subjects, they would count as delivered while no durable consumer could ever see them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_wait_for_a_jetstream_that_went_away_rather_than_go_core() {
    const EVENTS: u32 = 50;
    let Some(mut nats) = Nats::start() else {
        return;
    };
    let (state, router, _) = relay(&nats).await;
    let client = async_nats::connect(nats.url()).await.unwrap();
    wait_for_stream(&client).await;
    drop(client);

    nats.restart_with_jetstream(false);
    let client = async_nats::connect(nats.url()).await.unwrap();
    let mut core = client.subscribe("mdsim.events.gone.>").await.unwrap();
    client.flush().await.unwrap();
    for i in 0..EVENTS {
        state.bus().publish(BusEvent::from_payload(
            "gone",
            "00000000",
            u64::from(i),
            0,
            json!({"type": "probe", "n": i}),
        ));
    }
    // Reconnected, without JetStream: the events stay in the buffer, none goes core.
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(
        metric(&router, "nats_buffer_events").await,
        f64::from(EVENTS),
        "the events left the buffer while the stream was away"
    );
    assert!(
        tokio::time::timeout(Duration::from_millis(200), core.next())
            .await
            .is_err(),
        "an event went out on core subjects only"
    );
    drop(core);
    drop(client);

    nats.restart_with_jetstream(true);
    assert_eq!(state.bus().drain(Duration::from_secs(60)).await, 0);
    let client = async_nats::connect(nats.url()).await.unwrap();
    let reader = stream::consumer(&client, "after", "mdsim.events.gone.>").await;
    let mut seen = std::collections::BTreeSet::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while seen.len() < EVENTS as usize {
        assert!(
            Instant::now() < deadline,
            "the stream has {} of {EVENTS} events",
            seen.len()
        );
        for s in stream::fetch(&client, &reader, 100, Duration::from_secs(1)).await {
            seen.insert(s.event_id().to_string());
        }
    }
}

/// An old deployment's nats-server without JetStream: the relay runs and publishes on the
/// core subjects.
#[tokio::test]
async fn without_jetstream_events_go_on_core_subjects() {
    let Some(nats) = Nats::start_with(NatsOptions {
        no_jetstream: true,
        ..NatsOptions::default()
    }) else {
        return;
    };
    let (_state, router, _) = relay(&nats).await;
    let client = async_nats::connect(nats.url()).await.unwrap();
    let mut flat = client.subscribe("missile.launch").await.unwrap();
    let mut envelopes = client.subscribe("mdsim.events.>").await.unwrap();
    client.flush().await.unwrap();
    let missile = launch(&router).await;
    assert_eq!(
        format!("M{}", next_json(&mut flat).await["missile"]),
        missile
    );
    let envelope = loop {
        let e = next_json(&mut envelopes).await;
        if e["type"] == "launch" {
            break e;
        }
    };
    assert_eq!(format!("M{}", envelope["payload"]["missile"]), missile);
    assert!(
        stream::context(&client)
            .get_stream(stream::EVENTS_STREAM)
            .await
            .is_err()
    );
    assert_eq!(
        metric(&router, "relay_dead_letters_total{sink=\"nats\"}").await,
        0.0
    );
}

/// An event NATS refuses (larger than the server's `max_payload`) between good ones: it is
/// counted as a dead letter, the good ones reach the core subjects and the stream, and
/// publishing goes on.
#[tokio::test]
async fn an_event_nats_refuses_is_set_aside_and_publishing_goes_on() {
    let Some(nats) = Nats::start_with(NatsOptions {
        max_payload: Some(16 * 1024),
        ..NatsOptions::default()
    }) else {
        return;
    };
    let (state, router, _) = relay(&nats).await;
    let client = async_nats::connect(nats.url()).await.unwrap();
    let mut probes = client.subscribe("mdsim.events.poison.>").await.unwrap();
    client.flush().await.unwrap();
    let event = |index: u32, text: String| {
        BusEvent::from_payload(
            "poison",
            "00000000",
            1,
            index,
            json!({"type": "probe", "text": text}),
        )
    };
    state.bus().publish(event(0, "good".into()));
    state.bus().publish(event(1, "x".repeat(40 * 1024)));
    state.bus().publish(event(2, "good too".into()));
    let mut seen = BTreeSet::new();
    while seen.len() < 2 {
        seen.insert(
            next_json(&mut probes).await["event_id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    assert_eq!(
        seen,
        BTreeSet::from(["poison:00000000:1:0".into(), "poison:00000000:1:2".into()])
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while metric(&router, "nats_buffer_events").await > 0.0 {
        assert!(Instant::now() < deadline, "the buffer did not drain");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        metric(&router, "relay_dead_letters_total{sink=\"nats\"}").await,
        1.0
    );
    // Publishing goes on: a launch after it gets out.
    let mut flat = client.subscribe("missile.launch").await.unwrap();
    client.flush().await.unwrap();
    let missile = launch(&router).await;
    assert_eq!(
        format!("M{}", next_json(&mut flat).await["missile"]),
        missile
    );
    let consumer = stream::consumer(&client, "poison", "mdsim.events.poison.>").await;
    let stored = stream::fetch(&client, &consumer, 10, Duration::from_secs(2)).await;
    let ids: Vec<&str> = stored.iter().map(|s| s.event_id()).collect();
    assert_eq!(ids, ["poison:00000000:1:0", "poison:00000000:1:2"]);
    assert_eq!(
        metric(&router, "relay_dead_letters_total{sink=\"nats\"}").await,
        1.0
    );
}

/// A launch is visible on NATS (above) and in a real Prometheus scraping the relay's /metrics.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_launch_is_counted_by_a_real_prometheus() {
    let dist = dist_fixture();
    let state = AppState::new(Config::with_dist_dir(dist.path()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(relay_server::server::serve(
        listener,
        state.clone(),
        std::future::pending(),
    ));
    let Some(prometheus) = common::services::Prometheus::start(&addr.to_string()) else {
        return;
    };
    let router = app(state);
    launch(&router).await;
    launch(&router).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let p = &prometheus;
        let value = tokio::task::block_in_place(|| p.query("missile_launches_total"));
        if value == Some(2.0) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "Prometheus never saw 2 launches (last: {value:?})"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
