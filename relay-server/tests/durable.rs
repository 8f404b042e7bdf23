//! Events survive their relay: a relay that owns a shared room is killed with SIGKILL while
//! PostgreSQL (or NATS) is down, with launches answered 200 during the outage and events
//! waiting in its memory. Another relay takes the room over from the last snapshot whose
//! events every sink delivered, and publishes the rest again under the same ids: every event
//! of the uninterrupted room (the logged commands replayed from tick 0 with `sim_core`) and
//! every launch answered 200 is stored once in PostgreSQL and is once in the JetStream stream.

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use futures_util::StreamExt;
use relay_server::{AppState, Config, server};
use sim_core::flight::PhysicsParams;
use sim_core::protocol::{ClientMessage, Role, ServerMessage, StampedCommand};
use sim_core::{Command as SimCommand, Simulation};
use sqlx::PgPool;
use tokio::net::TcpListener;

use common::services::{Nats, Postgres};
use common::ws::{Client, http};
use common::{TempDir, dist_fixture};

/// A relay in this process (it survives), on NATS and PostgreSQL.
async fn relay(nats: &Nats, pg: &Postgres) -> (AppState, SocketAddr, TempDir) {
    let dist = dist_fixture();
    let mut config = Config::with_dist_dir(dist.path());
    config.nats_url = Some(nats.url());
    config.database_url = Some(pg.url());
    let state = AppState::start(config).await.expect("relay starts");
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let serving = state.clone();
    tokio::spawn(async move { server::serve(listener, serving, std::future::pending()).await });
    (state, addr, dist)
}

/// A relay as a real process, so the test can kill it with SIGKILL.
struct Process {
    child: Child,
    addr: SocketAddr,
    _dist: TempDir,
}

impl Process {
    fn start(nats: &Nats, pg: &Postgres) -> Self {
        let dist = dist_fixture();
        let mut child = Command::new(env!("CARGO_BIN_EXE_relay-server"))
            .args(["--port", "0", "--nats-url", &nats.url()])
            .args(["--database-url", &pg.url()])
            .arg("--dist-dir")
            .arg(dist.path())
            .env_remove("MDSIM_PORT")
            .env_remove("MDSIM_BIND")
            .env_remove("MDSIM_DATABASE_URL")
            .env_remove("MDSIM_NO_DATABASE")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn relay-server");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .expect("read the listening line");
        let addr = line
            .trim()
            .strip_prefix("listening on http://")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .parse()
            .unwrap();
        Self {
            child,
            addr,
            _dist: dist,
        }
    }

    fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A REST launch labelled `label`, retried while the room moves (503); the tick it flies at.
async fn launch(addr: SocketAddr, room: &str, token: &str, label: &str, lat: f64) -> u64 {
    let path = format!(
        "/launch?lat={lat}&lon=45&targetLat=33&targetLon=44&missileType=SCUD-B&room={room}&token={token}&label={label}"
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (status, body) = http(addr, "POST", &path).await;
        if status == 200 {
            let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
            return answer["tick"].as_u64().unwrap();
        }
        // A proxy whose owner was just killed answers 404 until it notices (a few seconds).
        assert!(
            (status == 503 || status == 404) && tokio::time::Instant::now() < deadline,
            "{label} on {addr}: {status} {body}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// The room's tick, asked with a ping (skipping whatever else the member is told).
async fn tick(member: &mut Client) -> u64 {
    member.send(&ClientMessage::Ping { nonce: Some(7) }).await;
    loop {
        if let ServerMessage::Pong { tick, .. } = member.next().await {
            return tick;
        }
    }
}

async fn wait_tick(member: &mut Client, past: u64) -> u64 {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let now = tick(member).await;
        if now > past {
            return now;
        }
        assert!(tokio::time::Instant::now() < deadline, "stuck at {now}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The room's logged commands, in order.
async fn logged(nats: &Nats, room: &str) -> Vec<StampedCommand> {
    let client = async_nats::connect(nats.url()).await.unwrap();
    let js = async_nats::jetstream::new(client);
    let stream = js.get_stream("MDSIM_ROOMLOG").await.unwrap();
    let subject = format!("mdsim.roomlog.{room}");
    let last = stream
        .get_last_raw_message_by_subject(&subject)
        .await
        .unwrap()
        .sequence;
    let consumer = stream
        .create_consumer(async_nats::jetstream::consumer::pull::OrderedConfig {
            filter_subject: subject,
            ..Default::default()
        })
        .await
        .unwrap();
    let mut messages = consumer.messages().await.unwrap();
    let mut log = Vec::new();
    while let Some(message) = messages.next().await {
        let message = message.unwrap();
        let entry: serde_json::Value = serde_json::from_slice(&message.payload).unwrap();
        if !entry["command"].is_null() {
            log.push(serde_json::from_value(entry["command"].clone()).unwrap());
        }
        if message.info().unwrap().stream_sequence >= last {
            return log;
        }
    }
    panic!("the log ended early");
}

/// Every event id the uninterrupted room emits before tick `end`: the log replayed from 0.
fn reference(room: &str, run: &str, log: &[StampedCommand], end: u64) -> Vec<String> {
    let mut sim = Simulation::new(
        PhysicsParams::default(),
        relay_server::rooms::room::ROOM_SEED,
    );
    let mut ids = Vec::new();
    while sim.tick() < end {
        let at = sim.tick();
        let due: Vec<SimCommand> = log
            .iter()
            .filter(|c| c.tick == at)
            .map(|c| c.command.clone())
            .collect();
        for (index, event) in sim.step(&due).iter().enumerate() {
            ids.push(format!("{room}:{run}:{}:{index}", event.tick));
        }
    }
    ids
}

/// How many times each event id of `room` is in the events stream.
async fn in_stream(nats: &Nats, room: &str) -> HashMap<String, usize> {
    let client = async_nats::connect(nats.url()).await.unwrap();
    let js = async_nats::jetstream::new(client);
    let stream = js.get_stream("MDSIM_EVENTS").await.unwrap();
    let subject = format!("mdsim.events.{room}.>");
    let mut counts = HashMap::new();
    let Ok(last) = stream.get_last_raw_message_by_subject(&subject).await else {
        return counts;
    };
    let consumer = stream
        .create_consumer(async_nats::jetstream::consumer::pull::OrderedConfig {
            filter_subject: subject,
            ..Default::default()
        })
        .await
        .unwrap();
    let mut messages = consumer.messages().await.unwrap();
    while let Some(message) = messages.next().await {
        let message = message.unwrap();
        let envelope: serde_json::Value = serde_json::from_slice(&message.payload).unwrap();
        let id = envelope["event_id"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        *counts.entry(id).or_default() += 1;
        if message.info().unwrap().stream_sequence >= last.sequence {
            break;
        }
    }
    counts
}

/// How many rows each event id of `room` has in PostgreSQL.
async fn in_database(pool: &PgPool, room: &str) -> HashMap<String, usize> {
    let rows: Vec<(String, i64)> =
        sqlx::query_as("SELECT event_id, COUNT(*) FROM event WHERE room = $1 GROUP BY event_id")
            .bind(room)
            .fetch_all(pool)
            .await
            .unwrap();
    rows.into_iter()
        .map(|(id, n)| (id, usize::try_from(n).unwrap()))
        .collect()
}

/// Which outage the owner is killed in.
#[derive(Clone, Copy, PartialEq)]
enum Outage {
    Database,
    Nats,
}

async fn killed_during(outage: Outage) {
    let Some(mut nats) = Nats::start() else {
        return;
    };
    let Some(pg) = Postgres::start() else {
        return;
    };
    let mut owner = Process::start(&nats, &pg);
    let (b_state, b_addr, _b_dist) = relay(&nats, &pg).await;
    assert!(
        b_state
            .rooms()
            .cluster()
            .is_some_and(|c| c.journal().is_some()),
        "B keeps rooms in JetStream"
    );
    let pool = b_state.store().unwrap().postgres().unwrap().clone();
    let (status, body) = http(owner.addr, "POST", "/api/rooms").await;
    assert_eq!(status, 201, "{body}");
    let created: serde_json::Value = serde_json::from_str(&body).unwrap();
    let room = created["room"].as_str().unwrap().to_string();
    let token = created["token"].as_str().unwrap().to_string();

    // A radar (its detections are events every scan) and launches; past the first snapshot.
    let url = format!("ws://{}/ws/rooms/{room}", b_addr);
    let (mut member, _) = Client::join(&url, "Cy", Role::Defender, Some(&token)).await;
    let radar = serde_json::from_value(serde_json::json!({
        "type": "place-radar", "call_sign": "RAD_1", "kind": "AN/TPY-2",
        "position": {"lat_deg": 34.0, "lon_deg": 44.5}, "height_m": 100.0,
        "boresight_az_deg": 0.0
    }))
    .unwrap();
    member
        .send(&ClientMessage::Command { command: radar })
        .await;
    launch(owner.addr, &room, &token, "before-1", 35.0).await;
    launch(owner.addr, &room, &token, "before-2", 35.2).await;
    wait_tick(&mut member, 105).await;

    // The outage: launches answered 200 on the owner, then past the next snapshot (tick 200),
    // whose events (those launches among them) wait in the owner's memory.
    match outage {
        Outage::Database => pg.stop(),
        Outage::Nats => nats.stop(),
    }
    let mut during = Vec::new();
    if outage == Outage::Database {
        for (k, lat) in [35.1, 35.3, 35.4].into_iter().enumerate() {
            let label = format!("during-{k}");
            during.push((
                label.clone(),
                launch(owner.addr, &room, &token, &label, lat).await,
            ));
        }
    } else {
        // The log cannot take commands: the first launch waits for its append and is not
        // answered 200, later ones are refused at once; nothing is applied that the log does
        // not hold (so none of them may ever be stored: the owner dies before NATS returns).
        for (k, lat) in [35.1, 35.3, 35.4].into_iter().enumerate() {
            let label = format!("refused-{k}");
            let (status, body) = http(
                owner.addr,
                "POST",
                &format!(
                    "/launch?lat={lat}&lon=45&targetLat=33&targetLon=44&missileType=SCUD-B&room={room}&token={token}&label={label}"
                ),
            )
            .await;
            assert_eq!(status, 503, "{label}: {body}");
        }
        let (_, text) = http(owner.addr, "GET", "/metrics").await;
        assert!(
            text.lines()
                .any(|l| l.starts_with("relay_room_log_failures_total") && !l.ends_with(" 0")),
            "the failed appends are counted"
        );
    }
    if outage == Outage::Database {
        wait_tick(&mut member, 205).await;
        // The snapshot of tick 200 waits for the database: the written one is 100 ticks old.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        let series = format!("relay_room_durable_lag_ticks{{room=\"{room}\"}} ");
        loop {
            let (_, text) = http(owner.addr, "GET", "/metrics").await;
            let lag = text
                .lines()
                .find_map(|l| l.strip_prefix(series.as_str()))
                .and_then(|v| v.trim().parse::<f64>().ok());
            if lag == Some(100.0) {
                break;
            }
            assert!(tokio::time::Instant::now() < deadline, "lag {lag:?}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    } else {
        // Events of the ticks the owner ran during the outage reach the database, which is up.
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    drop(member);

    // SIGKILL while the sink is down; then it comes back and B takes the room over.
    owner.kill();
    match outage {
        Outage::Database => pg.restart(),
        Outage::Nats => nats.restart(),
    }
    launch(b_addr, &room, &token, "after-1", 34.8).await;
    assert_eq!(b_state.metrics().rooms().takeovers.get(), 1);
    let (mut member, _) = Client::join(&url, "Cy", Role::Defender, Some(&token)).await;
    let end = wait_tick(&mut member, 260).await;

    let log = logged(&nats, &room).await;
    let run = {
        let any: String = sqlx::query_scalar("SELECT event_id FROM event WHERE room = $1 LIMIT 1")
            .bind(&room)
            .fetch_one(&pool)
            .await
            .unwrap();
        any.split(':').nth(1).unwrap().to_string()
    };
    // No command was applied unlogged, so the restored room is the uninterrupted one, ticks
    // of the outage included: every event it emits is stored once and streamed once.
    let expected = reference(&room, &run, &log, end);
    assert!(expected.len() >= 4, "{expected:?}");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let (stored, streamed) = loop {
        let stored = in_database(&pool, &room).await;
        let streamed = in_stream(&nats, &room).await;
        let complete = expected
            .iter()
            .all(|id| stored.contains_key(id) && streamed.contains_key(id));
        if complete || tokio::time::Instant::now() >= deadline {
            break (stored, streamed);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let missing_db: Vec<&String> = expected
        .iter()
        .filter(|id| stored.get(*id) != Some(&1))
        .collect();
    let missing_stream: Vec<&String> = expected
        .iter()
        .filter(|id| streamed.get(*id) != Some(&1))
        .collect();
    assert!(
        missing_db.is_empty(),
        "{} of {} events not stored once: {missing_db:?}",
        missing_db.len(),
        expected.len()
    );
    assert!(
        missing_stream.is_empty(),
        "{} of {} events not once in the stream: {missing_stream:?}",
        missing_stream.len(),
        expected.len()
    );
    assert!(
        streamed.values().all(|&n| n == 1),
        "an event twice in the stream"
    );
    // Every launch answered 200 has its launch event stored once.
    for label in ["before-1", "before-2", "after-1"]
        .into_iter()
        .map(String::from)
        .chain(during.iter().map(|(l, _)| l.clone()))
    {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM event WHERE room = $1 AND type = 'launch' AND payload->>'label' = $2",
        )
        .bind(&room)
        .bind(&label)
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(n, 1, "launch {label} answered 200 is stored once");
    }
    // A launch not answered 200 flies only if the log took it after all (an append that
    // reached the stream while its acknowledgement was lost, as its 503 says): then it is in
    // the log and in the replayed events above, and stored once; never twice.
    for k in 0..during.len().max(3) {
        let label = format!("refused-{k}");
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM event WHERE room = $1 AND type = 'launch' AND payload->>'label' = $2",
        )
        .bind(&room)
        .bind(&label)
        .fetch_one(&pool)
        .await
        .unwrap();
        let in_log = log.iter().any(|c| {
            matches!(&c.command, sim_core::Command::Launch(l) if l.label.as_deref() == Some(label.as_str()))
        });
        assert_eq!(
            n,
            i64::from(in_log),
            "{label}: stored {n} times, in the log: {in_log}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_survive_a_relay_killed_while_the_database_is_down() {
    killed_during(Outage::Database).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_survive_a_relay_killed_while_nats_is_down() {
    killed_during(Outage::Nats).await;
}
