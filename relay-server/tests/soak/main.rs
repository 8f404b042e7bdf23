//! The soak: two relay binaries on one nats-server (JetStream) and one PostgreSQL + PostGIS,
//! under bounded load (REST `POST /launch` on both relays, and rounds of the project's
//! `ws-load` with rooms whose members are on both relays), while a seeded chaos loop kills
//! (SIGKILL) and restarts nats-server, PostgreSQL and a durable pull consumer of
//! `MDSIM_EVENTS` and one of the relays (spared with `MDSIM_SOAK_KILL_RELAY=0`). Then the load
//! stops, the system drains (bounded waits), and the report compares what was accepted, what
//! PostgreSQL stored and what the durable consumer saw: nothing may be lost or duplicated.
//!
//! Short by default (75 s, part of `cargo test`); `cargo xtask soak --minutes 30` runs the
//! full form. Settings (environment): `MDSIM_SOAK_SECS` (length of the load), `MDSIM_SOAK_SEED`
//! (the chaos loop's seed; printed), `MDSIM_SOAK_KILL_RELAY` (`0` to spare the relays),
//! `MDSIM_SOAK_LAUNCH_RATE` (REST launches per second over both relays, default 2),
//! `MDSIM_SOAK_REPORT` (a file to write the Markdown report to), `MDSIM_SOAK_RELAY_LOG` (the
//! relays' `--log-level`, default `warn`; their logs are kept when events are lost). Skipped,
//! with the reason printed, when nats-server or PostgreSQL is not installed.

#[path = "../common/mod.rs"]
mod common;

mod chaos;
mod consumer;
mod procs;
mod report;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use chaos::{Plan, Services};
use common::dist_fixture;
use common::services::{Nats, Postgres};
use consumer::Control;
use procs::{Relay, WsTotals};

/// A launch in range of a SCUD-C (Vandenberg to Los Angeles, about 220 km, 4 minutes of
/// flight), so the missiles in flight stay a few hundred per relay.
const LAUNCH: &str = "/launch?lat=34.7&lon=-120.6&targetLat=34.05&targetLon=-118.25";

/// The soak's settings, from the environment.
struct Settings {
    secs: f64,
    seed: u64,
    kill_relay: bool,
    launch_rate: f64,
}

fn env_parse<T: std::str::FromStr>(name: &str) -> Option<T> {
    let value = std::env::var(name).ok()?;
    match value.trim().parse() {
        Ok(v) => Some(v),
        Err(_) => panic!("{name}={value:?} is not a valid value"),
    }
}

impl Settings {
    fn from_env() -> Self {
        let secs: f64 = env_parse("MDSIM_SOAK_SECS").unwrap_or(75.0);
        assert!(
            (10.0..=6.0 * 3600.0).contains(&secs),
            "MDSIM_SOAK_SECS must be 10 to 21600"
        );
        let launch_rate: f64 = env_parse("MDSIM_SOAK_LAUNCH_RATE").unwrap_or(2.0);
        assert!(
            (0.1..=50.0).contains(&launch_rate),
            "MDSIM_SOAK_LAUNCH_RATE must be within 0.1 to 50 launches per second"
        );
        let seed = env_parse("MDSIM_SOAK_SEED").unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        });
        // On unless spared (`MDSIM_SOAK_KILL_RELAY=0`).
        let kill_relay = std::env::var("MDSIM_SOAK_KILL_RELAY").map_or(true, |v| v != "0");
        Self {
            secs,
            seed,
            kill_relay,
            launch_rate,
        }
    }
}

/// What the REST load saw.
#[derive(Debug, Default)]
pub struct Launches {
    pub attempts: u64,
    /// Label -> (relay, missile id) of every launch answered 2xx with a missile id.
    pub accepted: BTreeMap<String, (String, String)>,
    /// Answers that were not 2xx, by status.
    pub refused: BTreeMap<u16, u64>,
    /// Refused or broken connections and timeouts (retried on the other relay).
    pub connection_errors: u64,
}

/// Posts labelled launches at `rate` per second to `relays[first]` (the next one to the other
/// relay after a connection error), until `stop`.
async fn rest_load(
    relays: Vec<std::net::SocketAddr>,
    first: usize,
    rate: f64,
    next_label: Arc<AtomicU64>,
    out: Arc<Mutex<Launches>>,
    stop: Arc<AtomicBool>,
) {
    let mut pace = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    pace.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut retry_elsewhere = false;
    while !stop.load(Ordering::Relaxed) {
        pace.tick().await;
        // Back to its own relay after one retry on the other, so both keep taking launches.
        let target = if retry_elsewhere { 1 - first } else { first };
        // A new label per attempt: an answer lost with a killed relay may hide a launch that
        // was stored, which must not count as a duplicate of the retry.
        let label = format!("soak-{}", next_label.fetch_add(1, Ordering::Relaxed));
        let path = format!("{LAUNCH}&label={label}");
        let answer = procs::request(relays[target], "POST", &path).await;
        let mut tally = out.lock().unwrap_or_else(|p| p.into_inner());
        tally.attempts += 1;
        retry_elsewhere = answer.is_err();
        match answer {
            Ok((status, body)) if (200..300).contains(&status) => {
                let v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
                match v["missile_id"].as_str() {
                    Some(id) => {
                        let relay = ["A", "B"][target].to_string();
                        tally.accepted.insert(label, (relay, id.to_string()));
                    }
                    None => *tally.refused.entry(status).or_default() += 1,
                }
            }
            Ok((status, _)) => *tally.refused.entry(status).or_default() += 1,
            Err(_) => tally.connection_errors += 1,
        }
    }
}

/// Every stored event id, and launch label -> event ids, read from PostgreSQL.
async fn stored(pool: &sqlx::PgPool) -> Option<(BTreeSet<String>, BTreeMap<String, Vec<String>>)> {
    let ids: Vec<String> = sqlx::query_scalar("SELECT event_id FROM event")
        .fetch_all(pool)
        .await
        .ok()?;
    let launches: Vec<(String, String)> = sqlx::query_as(
        "SELECT payload->>'label', event_id FROM event \
         WHERE type = 'launch' AND payload->>'label' LIKE 'soak-%'",
    )
    .fetch_all(pool)
    .await
    .ok()?;
    let mut labels: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (label, id) in launches {
        labels.entry(label).or_default().push(id);
    }
    Some((ids.into_iter().collect(), labels))
}

/// Waits (at most until `deadline`) for `check` to hold.
async fn until<F, Fut>(deadline: Instant, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    loop {
        if check().await {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn soak_two_relays_under_chaos_lose_nothing() {
    let settings = Settings::from_env();
    let (Some(nats), Some(pg)) = (Nats::start(), Postgres::start()) else {
        return;
    };
    eprintln!(
        "soak: {} s of load, seed {} (MDSIM_SOAK_SEED={1} repeats the chaos), relay kill {}",
        settings.secs,
        settings.seed,
        if settings.kill_relay { "on" } else { "off" }
    );
    let dist = dist_fixture();
    let (nats_url, pg_url) = (nats.url(), pg.url());
    let relays = tokio::task::block_in_place(|| {
        vec![
            Relay::start("A", dist.path(), &nats_url, &pg_url),
            Relay::start("B", dist.path(), &nats_url, &pg_url),
        ]
    });
    let addrs: Vec<_> = relays.iter().map(|r| r.addr).collect();
    let urls: Vec<String> = addrs.iter().map(|a| format!("http://{a}")).collect();
    let relays = Arc::new(Mutex::new(relays));
    let lock_relays = |r: &Arc<Mutex<Vec<Relay>>>| {
        r.lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(Relay::rss_kib)
            .collect::<Vec<_>>()
    };

    // The durable consumer, up before the load (the relays create the stream on start).
    let control = Arc::new(Control::default());
    let consumer_task = tokio::spawn(consumer::run(nats_url.clone(), control.clone()));
    let up = until(Instant::now() + Duration::from_secs(30), || {
        let c = control.clone();
        async move { c.seen().sessions > 0 }
    })
    .await;
    assert!(up, "the durable consumer could not open MDSIM_EVENTS");
    let rss_start = lock_relays(&relays);

    // Load: REST on both relays, ws-load rounds, and the chaos loop.
    let stop_load = Arc::new(AtomicBool::new(false));
    let launches = Arc::new(Mutex::new(Launches::default()));
    let next_label = Arc::new(AtomicU64::new(0));
    let rest: Vec<_> = (0..2)
        .map(|first| {
            tokio::spawn(rest_load(
                addrs.clone(),
                first,
                settings.launch_rate / 2.0,
                next_label.clone(),
                launches.clone(),
                stop_load.clone(),
            ))
        })
        .collect();
    let started = Instant::now();
    let load_end = started + Duration::from_secs_f64(settings.secs);
    let ws_urls = urls.clone();
    let ws = tokio::task::spawn_blocking(move || {
        let mut totals = WsTotals::default();
        loop {
            let left = load_end
                .saturating_duration_since(Instant::now())
                .as_secs_f64();
            if left < 5.0 {
                return totals;
            }
            let before = totals.failed_starts;
            procs::ws_load_round(&ws_urls, left.min(30.0), &mut totals);
            if totals.failed_starts > before {
                std::thread::sleep(Duration::from_secs(1));
            }
        }
    });
    let stop_chaos = Arc::new(AtomicBool::new(false));
    let plan = Plan {
        seed: settings.seed,
        gap_s: {
            let most = (settings.secs / 6.0).clamp(12.0, 60.0);
            (most / 2.0, most)
        },
        kill_relay: settings.kill_relay,
    };
    let mut services = Services {
        nats,
        pg,
        relays: relays.clone(),
    };
    let (chaos_control, chaos_stop) = (control.clone(), stop_chaos.clone());
    let chaos = std::thread::spawn(move || {
        let done = chaos::run(&mut services, &chaos_control, &plan, &chaos_stop);
        (services, done)
    });

    tokio::time::sleep_until(load_end.into()).await;
    stop_chaos.store(true, Ordering::Relaxed);
    stop_load.store(true, Ordering::Relaxed);
    let (services, done) = tokio::task::spawn_blocking(move || chaos.join())
        .await
        .expect("join")
        .expect("the chaos loop panicked");
    for task in rest {
        task.await.expect("REST load task");
    }
    let ws_totals = ws.await.expect("ws-load rounds");
    let load_secs = started.elapsed().as_secs_f64();

    // Drain: buffers empty on both relays, then every accepted launch stored, every stored
    // event seen by the consumer, every consumed event stored (each wait bounded).
    let drain_start = Instant::now();
    let deadline = drain_start + Duration::from_secs(120);
    until(deadline, || {
        let addrs = addrs.clone();
        async move {
            for a in addrs {
                for m in ["nats_buffer_events", "db_buffer_events"] {
                    if procs::metric(a, m).await != Some(0.0) {
                        return false;
                    }
                }
            }
            true
        }
    })
    .await;
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .connect(&services.pg.url())
        .await
        .expect("connect to PostgreSQL for the report");
    let accepted: BTreeSet<String> = launches
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .accepted
        .keys()
        .cloned()
        .collect();
    let mut db = (BTreeSet::new(), BTreeMap::new());
    loop {
        if let Some(now) = stored(&pool).await {
            db = now;
        }
        if accepted.iter().all(|l| db.1.contains_key(l)) || Instant::now() >= deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // The cuts: everything stored by now must reach the consumer, and everything it has seen
    // by then must be stored; both sets only grow, so later events do not blur the check.
    let db_cut = db.0.clone();
    until(deadline, || {
        let (control, ids) = (control.clone(), &db_cut);
        async move {
            let seen = control.seen();
            ids.iter().all(|id| seen.positions.contains_key(id))
        }
    })
    .await;
    let consumed_cut: BTreeSet<String> = control.seen().positions.keys().cloned().collect();
    loop {
        if let Some(now) = stored(&pool).await {
            db = now;
        }
        if consumed_cut.is_subset(&db.0) || Instant::now() >= deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let drain_secs = drain_start.elapsed().as_secs_f64();
    let in_stream = consumer::read_all(&services.nats.url()).await;
    let mut buffers = Vec::new();
    for a in &addrs {
        for m in ["nats_buffer_events", "db_buffer_events"] {
            buffers.push(procs::metric(*a, m).await);
        }
    }
    let rss_end = lock_relays(&relays);
    let mut dropped = 0.0;
    for a in &addrs {
        for m in ["nats_buffer_dropped_total", "db_buffer_dropped_total"] {
            dropped += procs::metric(*a, m).await.unwrap_or(0.0);
        }
    }
    control.stop.store(true, Ordering::Relaxed);
    let _ = tokio::time::timeout(Duration::from_secs(10), consumer_task).await;

    let starts: Vec<u32> = relays
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .map(|r| r.starts)
        .collect();
    let launches = std::mem::take(&mut *launches.lock().unwrap_or_else(|p| p.into_inner()));
    let seen = std::mem::take(&mut *control.seen());
    let report = report::Report {
        load_secs,
        drain_secs,
        seed: settings.seed,
        kill_relay: settings.kill_relay,
        done,
        launches,
        db_ids: db.0,
        db_cut,
        consumed_cut,
        in_stream,
        buffers,
        db_labels: db.1,
        seen,
        ws: ws_totals,
        dropped,
        rss_start,
        rss_end,
        relay_starts: starts,
    };
    let text = report.markdown();
    eprintln!("\n{text}");
    if let Ok(path) = std::env::var("MDSIM_SOAK_REPORT") {
        std::fs::write(&path, &text).expect("write MDSIM_SOAK_REPORT");
    }
    let logs: Vec<String> = relays
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .map(|r| {
            std::env::temp_dir()
                .join(format!("soak-{}-relay-{}.log", settings.seed, r.name))
                .display()
                .to_string()
        })
        .collect();
    let lost = report.lost();
    if !lost.is_empty() {
        // Keep the relays' logs, which their temp dirs would take away.
        for r in relays.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            let kept =
                std::env::temp_dir().join(format!("soak-{}-relay-{}.log", settings.seed, r.name));
            let _ = std::fs::copy(r.log(), &kept);
        }
    }
    assert!(
        lost.is_empty(),
        "the soak lost or duplicated events (seed {}; MDSIM_SOAK_SEED={} repeats it; relay logs kept as {logs:?}): {lost:?}",
        settings.seed,
        settings.seed
    );
    assert!(
        report.launches.accepted.len() as f64 >= settings.secs * settings.launch_rate * 0.3,
        "too few launches accepted for a meaningful soak: {:?}",
        report.launches
    );
    drop(services);
}
