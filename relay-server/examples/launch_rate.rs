//! REST launch throughput, in process:
//! `cargo run --release -p relay-server --example launch_rate -- [CONCURRENCY] [SECONDS] [NATS_URL]`.
//!
//! Drives `POST /launch` (Vandenberg to Los Angeles, SCUD-C: every request is validated, its
//! solve shared through the solver's cache, and ordered in the public room; past the room's
//! capacity the answers are 503s, counted as errors) through the relay's router without
//! sockets, CONCURRENCY requests at a time for SECONDS, and reports launches per second and
//! the p50/p99 request latency. With NATS_URL (a server on 127.0.0.1 only) every event also
//! goes out on NATS; no database is used either way, so the figure is the relay's own.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use relay_server::{AppState, Config, app};
use tower::ServiceExt;

const LAUNCH: &str =
    "/launch?lat=34.7&lon=-120.6&targetLat=34.05&targetLon=-118.25&missileType=SCUD-C";

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let concurrency: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(32);
    let seconds: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(10);
    let nats = args.next();
    if !(1..=1024).contains(&concurrency) || !(1..=600).contains(&seconds) {
        eprintln!(
            "usage: launch_rate [CONCURRENCY 1-1024] [SECONDS 1-600] [nats://127.0.0.1:PORT]"
        );
        std::process::exit(2);
    }
    if let Some(url) = &nats
        && !url.starts_with("nats://127.0.0.1:")
    {
        eprintln!("the NATS URL must be nats://127.0.0.1:PORT (loopback only)");
        std::process::exit(2);
    }
    let mut config = Config::with_dist_dir("/nonexistent");
    config.no_database = true;
    config.nats_url = nats.clone();
    let state = AppState::start(config).await.expect("relay state");
    let router = app(state.clone());

    let end = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let router = router.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0u64;
            while Instant::now() < end {
                let started = Instant::now();
                let response = router
                    .clone()
                    .oneshot(Request::post(LAUNCH).body(Body::empty()).unwrap())
                    .await
                    .unwrap();
                if response.status() == StatusCode::OK {
                    latencies.push(started.elapsed());
                } else {
                    errors += 1;
                }
            }
            (latencies, errors)
        }));
    }
    let started = Instant::now();
    let mut latencies = Vec::new();
    let mut errors = 0;
    for task in tasks {
        let (l, e) = task.await.unwrap();
        latencies.extend(l);
        errors += e;
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 - 1.0) * p).round() as usize)
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    let pending = state.bus().drain(Duration::from_secs(10)).await;
    println!(
        "{} launches in {elapsed:.1} s: {:.0} launches/s, p50 {:.0} ms, p99 {:.0} ms, {errors} errors, NATS {}, {pending} events undelivered",
        latencies.len(),
        latencies.len() as f64 / elapsed,
        pct(0.5),
        pct(0.99),
        if nats.is_some() { "on" } else { "off" },
    );
}
