//! A bounded REST load test (not timed): the `launch-load` tool against a relay on an ephemeral
//! loopback port, with SQLite and, where PostgreSQL 15 + PostGIS is installed, PostGIS.
//!
//! - The old Locust request from 16 connections into a public room of capacity 300: every
//!   answer is a 200 or a 503 with `Retry-After`, exactly 300 launches are answered 200 (the
//!   missiles fly for minutes, so none lands meanwhile: 503s come only past the capacity), every
//!   503 is counted in `relay_overload_total{reason="room-capacity"}`, the answered ids are
//!   distinct, the rows stored (`missile_flight`, `launch` events) equal the 200s, and every
//!   answered launch flies in the public room's referee with the id and event the answer
//!   promised (`relay_launch_mispredictions_total` stays 0).
//! - Random launches within range from 4 connections: no 4xx, no 5xx but 503s of the solver
//!   (counted), and rows equal to the 200s.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use relay_server::{AppState, Config, server};
use serde_json::Value;
use tokio::net::TcpListener;

use common::services::Postgres;
use common::{TempDir, dist_fixture};

const BIN: &str = env!("CARGO_BIN_EXE_launch-load");

/// Starts a relay with `config` on an ephemeral loopback port; returns its state and URL.
async fn relay(config: Config) -> (AppState, String) {
    let state = AppState::start(config).await.expect("relay starts");
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let serving = state.clone();
    tokio::spawn(async move { server::serve(listener, serving, std::future::pending()).await });
    (state, format!("http://{addr}"))
}

/// Runs `launch-load` with `args` and returns its JSON report.
async fn load(url: &str, args: &[&str]) -> Value {
    let mut command = Command::new(BIN);
    command.args(["--url", url, "--json"]).args(args);
    let output = tokio::task::spawn_blocking(move || command.output().expect("run launch-load"))
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(stdout.trim()).expect("one JSON report")
}

fn status(report: &Value, code: &str) -> u64 {
    report["statuses"][code].as_u64().unwrap_or(0)
}

fn metric(state: &AppState, line_start: &str) -> f64 {
    let text = state.metrics().encode().unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(line_start))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0.0)
}

/// Rows stored for the public room: `(missile_flight rows, launch events)`.
async fn rows(state: &AppState) -> (i64, i64) {
    let store = state.store().expect("a database");
    let flights = "SELECT COUNT(*) FROM missile_flight WHERE room = 'public'";
    let launches = "SELECT COUNT(*) FROM event WHERE room = 'public' AND type = 'launch'";
    match (store.sqlite(), store.postgres()) {
        (Some(pool), _) => (
            sqlx::query_scalar(flights).fetch_one(pool).await.unwrap(),
            sqlx::query_scalar(launches).fetch_one(pool).await.unwrap(),
        ),
        (None, Some(pool)) => (
            sqlx::query_scalar(flights).fetch_one(pool).await.unwrap(),
            sqlx::query_scalar(launches).fetch_one(pool).await.unwrap(),
        ),
        (None, None) => panic!("no pool"),
    }
}

/// Waits (at most 20 s) until `check` holds.
async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The Locust load past a capacity of 300, checked as the module documentation says.
async fn locust_past_capacity(mut config: Config) {
    config.room_capacity = 300;
    let (state, url) = relay(config).await;
    let report = load(
        &url,
        &["--mode", "locust", "--connections", "16", "--duration", "3"],
    )
    .await;
    let (ok, busy) = (status(&report, "200"), status(&report, "503"));
    assert_eq!(
        report["answers"].as_u64().unwrap(),
        ok + busy,
        "only 200 and 503: {report}"
    );
    assert_eq!(report["errors"], 0, "{report}");
    assert_eq!(ok, 300, "{report}");
    assert!(busy > 0, "the load never reached the capacity: {report}");
    assert_eq!(report["busy_without_retry_after"], 0, "{report}");
    assert_eq!(report["distinct_missile_ids"].as_u64().unwrap(), ok);
    assert_eq!(
        metric(&state, r#"relay_overload_total{reason="room-capacity"} "#),
        busy as f64
    );
    // Every answered launch flies, as answered.
    eventually("the answered launches to fly", || {
        metric(&state, "relay_public_room_missiles ") == ok as f64
    })
    .await;
    assert_eq!(metric(&state, "missile_launches_total "), ok as f64);
    assert_eq!(metric(&state, "relay_launch_mispredictions_total "), 0.0);
    // Every answered launch is stored once.
    assert_eq!(state.bus().drain(Duration::from_secs(20)).await, 0);
    assert_eq!(rows(&state).await, (ok as i64, ok as i64));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_locust_load_past_capacity_gets_503s_and_stores_every_launch() {
    let dist = dist_fixture();
    let data = TempDir::new("rest-load-sqlite");
    let mut config = Config::with_dist_dir(dist.path());
    config.data_dir = data.path().to_path_buf();
    locust_past_capacity(config).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgis_locust_load_past_capacity_gets_503s_and_stores_every_launch() {
    let Some(pg) = Postgres::start() else {
        return;
    };
    let dist = dist_fixture();
    let mut config = Config::with_dist_dir(dist.path());
    config.database_url = Some(pg.url());
    locust_past_capacity(config).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_launches_within_range_are_solved_flown_and_stored() {
    let dist = dist_fixture();
    let data = TempDir::new("rest-load-random");
    let mut config = Config::with_dist_dir(dist.path());
    config.data_dir = data.path().to_path_buf();
    let (state, url) = relay(config).await;
    let report = load(
        &url,
        &["--mode", "random", "--connections", "4", "--duration", "3"],
    )
    .await;
    let (ok, busy) = (status(&report, "200"), status(&report, "503"));
    // Within range: never refused (4xx), never failed (5xx but the solver's 503).
    assert_eq!(
        report["answers"].as_u64().unwrap(),
        ok + busy,
        "only 200 and 503: {report}"
    );
    assert_eq!(report["errors"], 0, "{report}");
    assert!(ok > 0, "{report}");
    assert_eq!(report["busy_without_retry_after"], 0, "{report}");
    assert_eq!(
        metric(&state, r#"relay_overload_total{reason="solver"} "#),
        busy as f64
    );
    assert_eq!(report["distinct_missile_ids"].as_u64().unwrap(), ok);
    eventually("the answered launches to fly", || {
        metric(&state, "missile_launches_total ") == ok as f64
    })
    .await;
    assert_eq!(metric(&state, "relay_launch_mispredictions_total "), 0.0);
    assert_eq!(state.bus().drain(Duration::from_secs(20)).await, 0);
    assert_eq!(rows(&state).await, (ok as i64, ok as i64));
}

#[test]
fn hosts_other_than_this_machine_are_refused() {
    let output = Command::new(BIN)
        .args(["--url", "http://example.com:80", "--duration", "1"])
        .output()
        .expect("run launch-load");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("only targets 127.0.0.1"), "{stderr}");
}
