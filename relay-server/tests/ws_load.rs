//! The `ws-load` tool against a relay on an ephemeral loopback port: a short run (4 clients in
//! 2 rooms, 2 s) whose JSON report parses and shows every echo delivered and no error; and its
//! refusal of a host that is not this machine.

mod common;

use std::process::Command;

use relay_server::{AppState, Config, server};
use serde_json::Value;
use tokio::net::TcpListener;

use common::dist_fixture;

const BIN: &str = env!("CARGO_BIN_EXE_ws-load");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_run_reports_latencies_and_no_error() {
    let dist = dist_fixture();
    let mut config = Config::with_dist_dir(dist.path());
    config.no_database = true;
    let state = AppState::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let serving = state.clone();
    tokio::spawn(async move { server::serve(listener, serving, std::future::pending()).await });

    let url = format!("http://{addr}");
    let output = tokio::task::spawn_blocking(move || {
        Command::new(BIN)
            .args(["--url", &url, "--clients", "4", "--rooms", "2"])
            .args(["--rate", "10", "--duration", "2", "--json"])
            .output()
            .expect("run ws-load")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_str(stdout.trim()).expect("one JSON report");
    assert_eq!(report["errors"], 0, "{report}");
    assert_eq!(report["clients"], 4);
    assert_eq!(report["rooms"], 2);
    // 10 per second for 2 s, give or take the last interval.
    let sent = report["commands_sent"].as_u64().unwrap();
    assert!((18..=22).contains(&sent), "{report}");
    // Every command reaches both members of its room.
    assert_eq!(report["deliveries"].as_u64().unwrap(), 2 * sent, "{report}");
    assert_eq!(report["expected_deliveries"], report["deliveries"]);
    let latency = &report["latency_ms"];
    let (p50, p99, max) = (
        latency["p50"].as_f64().unwrap(),
        latency["p99"].as_f64().unwrap(),
        latency["max"].as_f64().unwrap(),
    );
    assert!(0.0 < p50 && p50 <= p99 && p99 <= max, "{report}");
    // Loopback echoes through a room take milliseconds, not seconds.
    assert!(max < 2_000.0, "{report}");
    // Nobody was evicted.
    assert_eq!(state.metrics().rooms().evictions.get(), 0);
}

#[test]
fn hosts_other_than_this_machine_are_refused() {
    let output = Command::new(BIN)
        .args(["--url", "http://example.com:80", "--duration", "1"])
        .output()
        .expect("run ws-load");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("only targets 127.0.0.1"), "{stderr}");
    let output = Command::new(BIN)
        .args([
            "--url",
            "http://127.0.0.1:9",
            "--rooms",
            "5",
            "--clients",
            "2",
        ])
        .output()
        .expect("run ws-load");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("every room needs a member"));
}
