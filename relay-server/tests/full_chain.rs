//! The whole distributed chain on real services, in one relay configured with all of them:
//! `POST /launch` (the old Locust launch, over a real socket) -> the event on NATS (a test
//! subscriber) -> rows in PostGIS with the right geography -> the counters in a real
//! Prometheus scraping `/metrics`. Then NATS and PostgreSQL are both stopped mid-run while a
//! radar keeps the referee emitting events, and restarted: every event id the referee emitted
//! is stored exactly once and was published on NATS, and the relay never stopped serving.
//! NATS is killed (SIGKILL) and restarted on its JetStream store: a durable consumer of the
//! stream, away from before the outage until after it, catches up from its position and sees
//! every event the referee emitted and the database stored, each stored once in the stream.

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use relay_server::{AppState, Config, server};
use serde_json::Value;
use sim_core::protocol::{ClientMessage, Role};
use tokio::net::TcpListener;

use common::services::{Nats, Postgres, Prometheus};
use common::stream::{self, Stored};
use common::ws::{Client, http};
use common::{TempDir, dist_fixture};

/// The old locustfile's launch: 36.5N 123.1W at Los Angeles.
const LAUNCH: &str =
    "/launch?lat=36.5&lon=-123.1&targetLat=34.05&targetLon=-118.25&missileType=SCUD-C";

/// Collects the `event_id` of every message on a subscription, in the background.
fn collect(mut sub: async_nats::Subscriber) -> std::sync::Arc<std::sync::Mutex<BTreeSet<String>>> {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(BTreeSet::new()));
    let out = seen.clone();
    tokio::spawn(async move {
        while let Some(message) = sub.next().await {
            if let Ok(v) = serde_json::from_slice::<Value>(&message.payload)
                && let Some(id) = v["event_id"].as_str()
            {
                out.lock().unwrap().insert(id.to_string());
            }
        }
    });
    seen
}

async fn eventually<F, Fut>(what: &str, secs: u64, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn metric(state: &AppState, name: &str) -> f64 {
    let text = state.metrics().encode().unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {name} in\n{text}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn launch_to_nats_to_postgis_to_prometheus_and_nothing_lost_when_both_restart() {
    let (Some(mut nats), Some(pg)) = (Nats::start(), Postgres::start()) else {
        return;
    };
    let dist = dist_fixture();
    let data = TempDir::new("chain-data");
    let mut config = Config::with_dist_dir(dist.path());
    config.data_dir = data.path().to_path_buf();
    config.nats_url = Some(nats.url());
    config.database_url = Some(pg.url());
    let state = AppState::start(config).await.expect("relay starts");
    let pool = state.store().unwrap().postgres().unwrap().clone();
    let mut emitted_rx = state.bus().subscribe();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let serving = state.clone();
    tokio::spawn(async move { server::serve(listener, serving, std::future::pending()).await });
    let Some(prometheus) = Prometheus::start(&addr.to_string()) else {
        return;
    };
    let client = async_nats::connect(nats.url()).await.unwrap();
    let mut launches = client.subscribe("missile.launch").await.unwrap();
    let before_outage = collect(client.subscribe("mdsim.events.>").await.unwrap());
    client.flush().await.unwrap();
    // A durable consumer of the stream, on its own connection (a separate program).
    let consumer_client = async_nats::connect(nats.url()).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    while stream::context(&consumer_client)
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
    let away = stream::consumer(&consumer_client, "away", "").await;
    let mut consumed: Vec<Stored> = Vec::new();

    // A radar on the coast, placed first: its plots and tracks join the events that have to
    // get through the outage.
    let (mut ws, _) = Client::join(
        &format!("ws://{addr}/ws/rooms/public"),
        "Radar",
        Role::Defender,
        None,
    )
    .await;
    let radar = serde_json::from_value(serde_json::json!({
        "type": "place-radar", "call_sign": "RAD_VBG", "kind": "AN/TPY-2",
        "position": {"lat_deg": 34.73, "lon_deg": -120.57}, "height_m": 100.0,
        "boresight_az_deg": 315.0
    }))
    .unwrap();
    ws.send(&ClientMessage::Command { command: radar }).await;
    ws.next_command().await;
    // 1. The old launch over HTTP.
    let (status, body) = http(addr, "POST", LAUNCH).await;
    assert_eq!(status, 200, "{body}");
    let answer: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["status"], "launched");
    let missile = answer["missile_id"].as_str().unwrap().to_string();

    // 2. On NATS, with its event id and the old field names.
    let message = tokio::time::timeout(Duration::from_secs(15), launches.next())
        .await
        .expect("a launch on NATS")
        .unwrap();
    let flat: Value = serde_json::from_slice(&message.payload).unwrap();
    assert_eq!(format!("M{}", flat["missile_id"]), missile);
    assert_eq!(flat["room"], "public");
    let event_id = flat["event_id"].as_str().unwrap().to_string();

    // 3. In PostGIS: the event with its place, and the flight with launch and target points.
    let stored = || {
        let pool = pool.clone();
        let id = event_id.clone();
        async move {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM missile_flight WHERE event_id = $1")
                .bind(id)
                .fetch_one(&pool)
                .await
                .is_ok_and(|n| n == 1)
        }
    };
    eventually("the flight row", 15, stored).await;
    let (lat, lon): (f64, f64) = sqlx::query_as(
        "SELECT ST_Y(geom::geometry), ST_X(geom::geometry) FROM event WHERE event_id = $1",
    )
    .bind(&event_id)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(
        (lat - 36.5).abs() < 1e-9 && (lon + 123.1).abs() < 1e-9,
        "{lat} {lon}"
    );
    let (missile_row, km, tlat, tlon): (String, f64, f64, f64) = sqlx::query_as(
        "SELECT missile_id, ST_Distance(launch_geom, target_geom) / 1000, \
         ST_Y(target_geom::geometry), ST_X(target_geom::geometry) \
         FROM missile_flight WHERE event_id = $1",
    )
    .bind(&event_id)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(missile_row, missile);
    assert!((tlat - 34.05).abs() < 1e-9 && (tlon + 118.25).abs() < 1e-9);
    // 36.5N 123.1W to Los Angeles on the WGS 84 spheroid: about 518 km (the solver's 517.6).
    assert!((510.0..525.0).contains(&km), "{km} km");

    // 4. In a real Prometheus scraping the relay.
    eventually("Prometheus to count the launch", 30, || {
        let p = &prometheus;
        let seen = tokio::task::block_in_place(|| {
            (
                p.query("missile_launches_total"),
                p.query("nats_published_total"),
                p.query("db_written_total"),
            )
        });
        async move {
            seen.0 == Some(1.0)
                && seen.1.is_some_and(|n| n >= 1.0)
                && seen.2.is_some_and(|n| n >= 1.0)
        }
    })
    .await;

    // Everything so far has left the buffers.
    eventually("the buffers to empty", 15, || {
        let state = state.clone();
        async move {
            metric(&state, "nats_buffer_events") == 0.0 && metric(&state, "db_buffer_events") == 0.0
        }
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    // The consumer reads what is there, acknowledges it, and goes away before the outage.
    consumed.extend(stream::fetch(&consumer_client, &away, 1000, Duration::from_secs(2)).await);
    assert!(
        consumed.iter().any(|s| s.event_id() == event_id),
        "the launch before the outage is in the stream: {consumed:?}"
    );
    drop(away);
    drop(consumer_client);

    // Three more launches, then both services go: the missiles in flight and the radar go on
    // producing events, which wait in both buffers. (A launch itself waits for NATS while it
    // is down, since the room's log must take it first: tests/nats.rs, tests/durable.rs.)
    for _ in 0..3 {
        let (status, body) = http(addr, "POST", LAUNCH).await;
        assert_eq!(status, 200, "{body}");
    }
    nats.stop();
    pg.stop();
    eventually("events to wait in both buffers", 15, || {
        let state = state.clone();
        async move {
            metric(&state, "nats_buffer_events") >= 3.0 && metric(&state, "db_buffer_events") >= 3.0
        }
    })
    .await;
    // Down for a few seconds, so the relay's reconnection delay has grown to its cap and the
    // test's fresh subscriber is in place before the relay flushes its buffer.
    tokio::time::sleep(Duration::from_secs(4)).await;
    pg.restart();
    nats.restart();
    let client = async_nats::connect(nats.url()).await.unwrap();
    let after_outage = collect(client.subscribe("mdsim.events.>").await.unwrap());
    client.flush().await.unwrap();
    eventually("both buffers to drain", 30, || {
        let state = state.clone();
        async move {
            metric(&state, "nats_buffer_events") == 0.0 && metric(&state, "db_buffer_events") == 0.0
        }
    })
    .await;

    // Every event the referee emitted up to now.
    let mut emitted = BTreeSet::new();
    let mut kinds = Vec::new();
    loop {
        match emitted_rx.try_recv() {
            Ok(event) => {
                kinds.push(event.kind.clone());
                emitted.insert(event.event_id.clone());
            }
            Err(tokio::sync::broadcast::error::TryRecvError::Empty) => break,
            Err(err) => panic!("the test's bus subscriber fell behind: {err}"),
        }
    }
    // The radar, four launches, and whatever the radar saw.
    assert!(
        emitted.len() >= 5,
        "only {} events: {kinds:?}",
        emitted.len()
    );
    // Stored exactly once each.
    eventually("every emitted event stored", 30, || {
        let pool = pool.clone();
        let emitted = emitted.clone();
        async move {
            let ids: Vec<String> = sqlx::query_scalar("SELECT event_id FROM event")
                .fetch_all(&pool)
                .await
                .unwrap_or_default();
            let ids: BTreeSet<String> = ids.into_iter().collect();
            emitted.is_subset(&ids)
        }
    })
    .await;
    let (total, distinct): (i64, i64) =
        sqlx::query_as("SELECT COUNT(*), COUNT(DISTINCT event_id) FROM event")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(total, distinct);
    // Published on NATS: seen by the subscriber before the outage or by the one after it.
    eventually("every emitted event on NATS", 30, || {
        let seen: BTreeSet<String> = before_outage
            .lock()
            .unwrap()
            .union(&after_outage.lock().unwrap())
            .cloned()
            .collect();
        let missing = emitted.difference(&seen).count();
        async move { missing == 0 }
    })
    .await;
    // The consumer comes back after the outage and catches up from its durable position: every
    // event the referee emitted and the database stored, each at one stream position.
    let stored_ids: BTreeSet<String> =
        sqlx::query_scalar::<_, String>("SELECT event_id FROM event")
            .fetch_all(&pool)
            .await
            .unwrap()
            .into_iter()
            .collect();
    let consumer_client = async_nats::connect(nats.url()).await.unwrap();
    let away = stream::durable(&consumer_client, "away").await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let seen: BTreeSet<&str> = consumed.iter().map(Stored::event_id).collect();
        let missing: Vec<&String> = emitted
            .union(&stored_ids)
            .filter(|id| !seen.contains(id.as_str()))
            .collect();
        if missing.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the durable consumer misses {} events, such as {:?}",
            missing.len(),
            &missing[..missing.len().min(5)]
        );
        consumed.extend(stream::fetch(&consumer_client, &away, 1000, Duration::from_secs(1)).await);
    }
    // Exactly once by id: redeliveries (an acknowledgement lost with the server) repeat a stream
    // position; no event id is stored at two positions.
    let mut positions = std::collections::BTreeMap::new();
    for s in &consumed {
        assert_eq!(s.msg_id.as_deref(), Some(s.event_id()), "{s:?}");
        let at = positions
            .entry(s.event_id().to_string())
            .or_insert(s.sequence);
        assert_eq!(*at, s.sequence, "{} is stored twice", s.event_id());
    }
    let redelivered = consumed.iter().filter(|s| s.delivered > 1).count();
    eprintln!(
        "durable consumer: {} deliveries, {} distinct events, {redelivered} redelivered",
        consumed.len(),
        positions.len()
    );
    for name in ["nats_buffer_dropped_total", "db_buffer_dropped_total"] {
        assert_eq!(metric(&state, name), 0.0, "{name}");
    }
    // 4 flights in the database, 4 launches in Prometheus, and the relay still serves.
    let flights: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM missile_flight")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(flights, 4);
    eventually("Prometheus to count 4 launches", 30, || {
        let p = &prometheus;
        let n = tokio::task::block_in_place(|| p.query("missile_launches_total"));
        async move { n == Some(4.0) }
    })
    .await;
    assert_eq!(http(addr, "GET", "/healthz").await.0, 200);
    // The websocket stayed up through the outage and saw every launch.
    for _ in 0..4 {
        assert_eq!(ws.next_command().await.by.name, "REST API");
    }
    ws.ping(1).await;
}
