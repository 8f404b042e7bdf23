//! The NATS bridge against a real `nats-server` started on a free loopback port: events on
//! the old and new subjects with their ids, launches injected on `command.launch`, and NATS
//! killed and restarted mid-run with no lost launch and no relay crash.

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
use common::services::Nats;

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
    let message = tokio::time::timeout(Duration::from_secs(15), sub.next())
        .await
        .expect("a message in time")
        .expect("the subscription is open");
    serde_json::from_slice(&message.payload).unwrap()
}

async fn relay(nats: &Nats) -> (AppState, Router, common::TempDir) {
    let dist = dist_fixture();
    let mut config = Config::with_dist_dir(dist.path());
    config.nats_url = Some(nats.url());
    config.no_database = true;
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
    let Some(mut nats) = Nats::start() else {
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
