//! Rooms survive their relay: three relays on one real `nats-server` with JetStream share a
//! private room created on a relay run as a separate process. Members on each relay send
//! launches and a radar (and REST launches arrive on two relays); mid-engagement the owner
//! process is killed with SIGKILL. Another relay takes the room over from its JetStream
//! snapshot and log; the members on the survivors and the member whose relay died reconnect,
//! and all end on the same state hash at the same tick as a simulation that replays the
//! logged commands without interruption; every command any member saw, and every launch
//! answered 200, is in the log.

mod common;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use futures_util::StreamExt;
use relay_server::{AppState, Config, server};
use sim_core::earth::GeoPoint;
use sim_core::engine::LaunchCommand;
use sim_core::flight::PhysicsParams;
use sim_core::protocol::{ClientMessage, Role, ServerMessage, StampedCommand, decode_server};
use sim_core::{Command as SimCommand, MissileKind, Simulation};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;

use common::services::{Nats, NatsOptions};
use common::ws::{Client, Welcome, catch_up, http, replay};
use common::{TempDir, dist_fixture};

struct Relay {
    state: AppState,
    addr: SocketAddr,
    _dist: TempDir,
}

impl Relay {
    async fn start(nats: &Nats) -> Self {
        Self::start_with_grace(nats, 60).await
    }

    /// A relay whose empty rooms close after `grace` seconds.
    async fn start_with_grace(nats: &Nats, grace: u64) -> Self {
        let dist = dist_fixture();
        let mut config = Config::with_dist_dir(dist.path());
        config.nats_url = Some(nats.url());
        config.no_database = true;
        config.room_grace = grace;
        let state = AppState::start(config).await.expect("relay starts");
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let serving = state.clone();
        tokio::spawn(async move { server::serve(listener, serving, std::future::pending()).await });
        Self {
            state,
            addr,
            _dist: dist,
        }
    }
}

/// A relay as a real process, so the test can kill it with SIGKILL.
struct Process {
    child: Child,
    addr: SocketAddr,
    _dist: TempDir,
}

impl Process {
    fn start(nats: &Nats) -> Self {
        let dist = dist_fixture();
        let mut child = Command::new(env!("CARGO_BIN_EXE_relay-server"))
            .args(["--port", "0", "--no-database", "--nats-url", &nats.url()])
            .arg("--dist-dir")
            .arg(dist.path())
            .env_remove("MDSIM_PORT")
            .env_remove("MDSIM_BIND")
            .env_remove("MDSIM_DATABASE_URL")
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
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn ws_url(addr: SocketAddr, room: &str) -> String {
    format!("ws://{addr}/ws/rooms/{room}")
}

fn launch(label: &str, lat: f64) -> SimCommand {
    SimCommand::Launch(LaunchCommand {
        missile: MissileKind::ScudB,
        from: GeoPoint::new(lat, 45.0),
        to: GeoPoint::new(33.0, 44.0),
        profile: Default::default(),
        label: Some(label.into()),
        guidance: None,
    })
}

/// A member and everything it was told: the last welcome and the commands since.
struct Member {
    client: Client,
    welcome: Welcome,
    later: Vec<StampedCommand>,
    /// Every command seen, in welcomes' pending lists or broadcast.
    seen: Vec<StampedCommand>,
    tick: u64,
}

impl Member {
    fn new(client: Client, welcome: Welcome) -> Self {
        let seen = welcome.commands.clone();
        Self {
            tick: welcome.tick,
            client,
            welcome,
            later: Vec::new(),
            seen,
        }
    }

    /// Reads messages (collecting commands, following pongs) for `wait`, or until the
    /// connection ends; returns the error sentences read.
    async fn read_for(&mut self, wait: Duration) -> Vec<String> {
        let mut errors = Vec::new();
        let deadline = tokio::time::Instant::now() + wait;
        let mut nonce = 0;
        loop {
            nonce += 1;
            self.client
                .send(&ClientMessage::Ping { nonce: Some(nonce) })
                .await;
            let step = tokio::time::Instant::now() + Duration::from_millis(200);
            while let Ok(frame) = tokio::time::timeout_at(step, self.client.ws.next()).await {
                let Some(Ok(frame)) = frame else {
                    return errors;
                };
                let Message::Text(text) = frame else {
                    if matches!(frame, Message::Close(_)) {
                        return errors;
                    }
                    continue;
                };
                match decode_server(text.as_str()).expect("a valid server message") {
                    ServerMessage::Command(c) => {
                        self.later.push(c.clone());
                        self.seen.push(c);
                    }
                    ServerMessage::Pong { tick, .. } => self.tick = tick,
                    ServerMessage::Error { message } => errors.push(message),
                    ServerMessage::Resync { .. } => panic!("no member may be resynced"),
                    _ => {}
                }
            }
            if tokio::time::Instant::now() >= deadline {
                return errors;
            }
        }
    }

    /// Reads until the room's tick passes `tick`.
    async fn until_tick(&mut self, tick: u64) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while self.tick <= tick {
            assert!(
                tokio::time::Instant::now() < deadline,
                "stuck at {}",
                self.tick
            );
            self.read_for(Duration::from_millis(300)).await;
        }
    }

    fn replayed(&self, tick: u64) -> Simulation {
        let welcome = Welcome {
            you: self.welcome.you.clone(),
            tick: self.welcome.tick,
            sim: self.welcome.sim.clone(),
            commands: self.welcome.commands.clone(),
            clock: self.welcome.clock.clone(),
            clock_rights: self.welcome.clock_rights,
        };
        replay(welcome, &self.later, tick)
    }
}

/// Joins `url` again and again (while the room moves, a relay answers 503) for 30 s.
async fn rejoin(url: &str, name: &str, role: Role, token: &str) -> Member {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok((ws, _)) = tokio_tungstenite::connect_async(url).await {
            let mut client = Client { ws };
            client
                .send(&ClientMessage::Hello {
                    name: name.into(),
                    role,
                    token: Some(token.into()),
                })
                .await;
            // While the room moves, a relay may take the connection and answer an error.
            if let Ok(welcome) = client.try_welcome().await {
                return Member::new(client, welcome);
            }
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "cannot rejoin {url}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The room's log as JetStream holds it.
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
        // Entries are `{epoch, command}`; a new owner's marker has no command.
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

/// Creates a room on the relay at `addr`; its id and write token.
async fn create_room(addr: SocketAddr) -> (String, String) {
    let (status, body) = http(addr, "POST", "/api/rooms").await;
    assert_eq!(status, 201, "{body}");
    let created: serde_json::Value = serde_json::from_str(&body).unwrap();
    let field = |name: &str| created[name].as_str().unwrap().to_string();
    (field("room"), field("token"))
}

async fn rest_launch(addr: SocketAddr, room: &str, token: &str, label: &str) {
    let path = format!(
        "/launch?lat=35.5&lon=45&targetLat=33&targetLon=44&missileType=SCUD-B&room={room}&token={token}&label={label}"
    );
    let (status, body) = http(addr, "POST", &path).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_survives_the_kill_of_its_relay() {
    let Some(nats) = Nats::start() else {
        return;
    };
    let mut owner = Process::start(&nats);
    let b_relay = Relay::start(&nats).await;
    let c_relay = Relay::start(&nats).await;
    let (room, token) = create_room(owner.addr).await;

    let join = |addr, name: &'static str, role| {
        let url = ws_url(addr, &room);
        let token = token.clone();
        async move { rejoin(&url, name, role, &token).await }
    };
    let mut a = join(owner.addr, "Ada", Role::Attacker).await;
    let mut b = join(b_relay.addr, "Bo", Role::Attacker).await;
    let mut c = join(c_relay.addr, "Cy", Role::Defender).await;

    // Before the kill: a radar, launches from members on the owner and on a proxy, REST
    // launches on the owner and through a proxy; then past the first snapshot (tick 100),
    // more, so the takeover uses both the snapshot and the log after it.
    let radar = serde_json::from_value(serde_json::json!({
        "type": "place-radar", "call_sign": "RAD_1", "kind": "AN/TPY-2",
        "position": {"lat_deg": 34.0, "lon_deg": 44.5}, "height_m": 100.0,
        "boresight_az_deg": 0.0
    }))
    .unwrap();
    c.client
        .send(&ClientMessage::Command { command: radar })
        .await;
    a.client
        .send(&ClientMessage::Command {
            command: launch("a1", 35.0),
        })
        .await;
    b.client
        .send(&ClientMessage::Command {
            command: launch("b1", 35.2),
        })
        .await;
    rest_launch(owner.addr, &room, &token, "rest-owner-1").await;
    rest_launch(b_relay.addr, &room, &token, "rest-proxy-1").await;
    b.until_tick(110).await;
    a.client
        .send(&ClientMessage::Command {
            command: launch("a2", 35.4),
        })
        .await;
    b.client
        .send(&ClientMessage::Command {
            command: launch("b2", 35.3),
        })
        .await;
    rest_launch(owner.addr, &room, &token, "rest-owner-2").await;
    let mut errors = Vec::new();
    for m in [&mut a, &mut b, &mut c] {
        errors.extend(m.read_for(Duration::from_millis(1000)).await);
    }
    assert_eq!(b.later.len(), 8, "{errors:?} {:?}", b.later);
    assert_eq!(a.later, b.later);
    assert_eq!(c.later, b.later);
    // Mid-engagement: missiles in flight.
    let before = b.tick;
    assert!(b.replayed(before).missiles().len() >= 7, "the launches fly");

    // SIGKILL: no goodbye, no cleanup.
    owner.child.kill().unwrap();
    owner.child.wait().unwrap();
    let mut told = Vec::new();
    for m in [&mut b, &mut c] {
        told.extend(m.read_for(Duration::from_secs(8)).await);
    }
    assert!(
        told.iter()
            .any(|e| e.contains("reconnect") && e.contains(&room)),
        "{told:?}"
    );

    // Everyone reconnects: the proxies' members to their relays, Ada (whose relay died) to C.
    let seen_before: Vec<StampedCommand> =
        [&a, &b, &c].iter().flat_map(|m| m.seen.clone()).collect();
    let mut b2 = join(b_relay.addr, "Bo", Role::Attacker).await;
    let mut c2 = join(c_relay.addr, "Cy", Role::Defender).await;
    let mut a2 = join(c_relay.addr, "Ada", Role::Attacker).await;
    let takeovers = b_relay.state.metrics().rooms().takeovers.get()
        + c_relay.state.metrics().rooms().takeovers.get();
    assert_eq!(takeovers, 1, "one relay took the room over");
    assert_eq!(
        b2.welcome.sim.missiles().len(),
        7,
        "the new owner's state holds every missile"
    );

    // The room goes on: commands after the takeover reach everyone.
    b2.client
        .send(&ClientMessage::Command {
            command: launch("b3", 34.9),
        })
        .await;
    a2.client
        .send(&ClientMessage::Command {
            command: launch("a3", 34.8),
        })
        .await;
    rest_launch(b_relay.addr, &room, &token, "rest-after").await;
    for m in [&mut a2, &mut b2, &mut c2] {
        m.read_for(Duration::from_millis(800)).await;
    }
    assert_eq!(b2.later.len(), 3, "{:?}", b2.later);
    assert_eq!(a2.later, b2.later);
    assert_eq!(c2.later, b2.later);

    // Everyone at one tick: the same hash as the uninterrupted room (the log replayed from
    // tick 0), which the new owner's referee confirms.
    let log = logged(&nats, &room).await;
    assert_eq!(log.len(), 11, "{log:#?}");
    assert!(log.windows(2).all(|w| w[0].tick <= w[1].tick));
    for seen in seen_before.iter().chain(&b2.later).chain(&a2.seen) {
        assert!(log.contains(seen), "a stamped command was lost: {seen:?}");
    }
    for label in ["rest-owner-1", "rest-proxy-1", "rest-owner-2", "rest-after"] {
        assert!(
            log.iter().any(|c| matches!(&c.command,
                SimCommand::Launch(l) if l.label.as_deref() == Some(label))),
            "launch {label} was answered 200 and is logged"
        );
    }
    let at = log.last().unwrap().tick + 20;
    b2.until_tick(at).await;
    let mut reference = Simulation::new(
        PhysicsParams::default(),
        relay_server::rooms::room::ROOM_SEED,
    );
    catch_up(&mut reference, &log, at);
    let checks = |r: &Relay| r.state.metrics().rooms().hash_checks.get();
    let checked = checks(&b_relay) + checks(&c_relay);
    for m in [&mut a2, &mut b2, &mut c2] {
        let sim = m.replayed(at);
        assert_eq!(sim.tick(), at);
        assert_eq!(
            sim.state_hash(),
            reference.state_hash(),
            "{} differs from the uninterrupted room",
            m.welcome.you.name
        );
        m.client.send_hash(&sim).await;
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while checks(&b_relay) + checks(&c_relay) < checked + 3 {
        assert!(tokio::time::Instant::now() < deadline, "hashes not checked");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let desyncs = b_relay.state.metrics().rooms().desyncs.get()
        + c_relay.state.metrics().rooms().desyncs.get();
    assert_eq!(desyncs, 0, "the new owner's referee agrees");
    assert_eq!(reference.missiles().len(), 10);
}

/// With JetStream the public room is the cluster's: the first relay to need it runs it, the
/// others proxy to it, and it survives that relay too: launches answered 200 by the relay
/// that is then killed are still in the room another relay takes over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_public_room_is_shared_and_survives_its_relay() {
    let Some(nats) = Nats::start() else {
        return;
    };
    let mut first = Process::start(&nats);
    let other = Relay::start(&nats).await;
    let rest = |addr, label: &str| {
        let path = format!(
            "/launch?lat=35&lon=45&targetLat=33&targetLon=44&missileType=SCUD-B&label={label}"
        );
        async move { http(addr, "POST", &path).await }
    };
    // The first relay's launch starts the public room there; the other relay proxies to it.
    let (status, body) = rest(first.addr, "on-first").await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = rest(other.addr, "via-other").await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains(r#""missile_id":"M2""#),
        "one room numbers both: {body}"
    );
    assert!(other.state.rooms().get("public").unwrap().is_remote());
    let (mut eve, welcome) =
        Client::join(&ws_url(other.addr, "public"), "Eve", Role::Observer, None).await;
    assert_eq!(labels(&welcome), ["on-first", "via-other"]);

    first.child.kill().unwrap();
    first.child.wait().unwrap();
    let error = eve.next_error().await;
    assert!(error.contains("reconnect"), "{error}");
    // A launch on the survivor: it takes the room over (while the dead relay's lease lives,
    // it answers 503 "moving").
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let (status, body) = rest(other.addr, "after").await;
        if status == 200 {
            assert!(body.contains(r#""missile_id":"M3""#), "{body}");
            break;
        }
        assert_eq!(status, 503, "{body}");
        assert!(tokio::time::Instant::now() < deadline, "{body}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert!(!other.state.rooms().get("public").unwrap().is_remote());
    let (_eve, welcome) =
        Client::join(&ws_url(other.addr, "public"), "Eve", Role::Observer, None).await;
    assert_eq!(labels(&welcome), ["after", "on-first", "via-other"]);
}

/// The labels of a welcome's missiles, flying or pending, sorted.
fn labels(welcome: &Welcome) -> Vec<String> {
    let mut labels: Vec<String> = welcome
        .sim
        .missiles()
        .iter()
        .filter_map(|m| m.label.clone())
        .collect();
    labels.extend(welcome.commands.iter().filter_map(|c| match &c.command {
        SimCommand::Launch(l) => l.label.clone(),
        _ => None,
    }));
    labels.sort();
    labels
}

/// Fencing: when another relay takes a room's lease while its owner still runs (the owner was
/// cut off, or paused, longer than the lease), the owner stops the room at once and its
/// members are told to reconnect; a room that closes normally leaves nothing in JetStream.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owner_whose_lease_was_taken_stops_and_a_closed_room_is_forgotten() {
    let Some(nats) = Nats::start() else {
        return;
    };
    let relay = Relay::start_with_grace(&nats, 1).await;
    let client = async_nats::connect(nats.url()).await.unwrap();
    let js = async_nats::jetstream::new(client);
    let owners = js.get_key_value("MDSIM_ROOM_OWNERS").await.unwrap();
    let state = js.get_key_value("MDSIM_ROOM_STATE").await.unwrap();

    let (room, token) = create_room(relay.addr).await;
    let lease: serde_json::Value =
        serde_json::from_slice(&owners.get(&room).await.unwrap().unwrap()).unwrap();
    assert_eq!(
        lease["node"].as_str(),
        Some(relay.state.rooms().cluster().unwrap().node())
    );
    let meta: serde_json::Value =
        serde_json::from_slice(&state.get(format!("{room}.meta")).await.unwrap().unwrap()).unwrap();
    assert_eq!(meta["token"].as_str(), Some(token.as_str()));

    let (mut member, _) = Client::join(
        &ws_url(relay.addr, &room),
        "Ada",
        Role::Attacker,
        Some(&token),
    )
    .await;
    // Another relay's lease (as a takeover writes it).
    owners
        .put(&room, r#"{"node":"deadbeef","tick":0}"#.into())
        .await
        .unwrap();
    let error = member.next_error().await;
    assert!(error.contains("moved to another relay"), "{error}");
    assert_eq!(
        member.closed().await.as_deref(),
        Some("the room moved to another relay; reconnect")
    );
    assert_eq!(relay.state.metrics().rooms().lease_losses.get(), 1);
    // The fenced owner leaves the room's records for the new owner.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(state.get(format!("{room}.meta")).await.unwrap().is_some());

    // A room that closes after its grace period is forgotten.
    let (room, _) = create_room(relay.addr).await;
    let handle = relay.state.rooms().get(&room).unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(40);
    while !handle.is_closed() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the room did not close"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(owners.get(&room).await.unwrap().is_none());
    assert!(state.get(format!("{room}.meta")).await.unwrap().is_none());
}

/// Fencing on the acknowledgement: a command the log acknowledges after another relay took
/// the room (an append retried through a NATS outage lands after the new owner's marker,
/// which the new owner's replay skips) is never answered, broadcast or applied by the old
/// owner. Here the other relay's lease is written just before the launch, well inside the
/// second between two lease refreshes: the launch must be refused and the room stopped, not
/// answered 200 with a missile the new owner never flies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_logged_after_the_room_moved_is_never_answered_nor_applied() {
    let Some(nats) = Nats::start() else {
        return;
    };
    let relay = Relay::start(&nats).await;
    let client = async_nats::connect(nats.url()).await.unwrap();
    let js = async_nats::jetstream::new(client);
    let owners = js.get_key_value("MDSIM_ROOM_OWNERS").await.unwrap();

    let (room, token) = create_room(relay.addr).await;
    let (mut member, _) = Client::join(
        &ws_url(relay.addr, &room),
        "Ada",
        Role::Attacker,
        Some(&token),
    )
    .await;
    rest_launch(relay.addr, &room, &token, "before").await;

    // Another relay takes the lease, then (before the owner's next refresh) a launch arrives.
    owners
        .put(&room, r#"{"node":"deadbeef","tick":0}"#.into())
        .await
        .unwrap();
    let path = format!(
        "/launch?lat=35.5&lon=45&targetLat=33&targetLon=44&missileType=SCUD-B&room={room}&token={token}&label=late"
    );
    let (status, body) = http(relay.addr, "POST", &path).await;
    assert_ne!(
        status, 200,
        "a launch the new owner never flies was answered: {body}"
    );

    // The members see the first launch, never the late one, and are told the room moved.
    let mut labels = Vec::new();
    let reason = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match member.ws.next().await {
                Some(Ok(Message::Text(text))) => {
                    if let Ok(ServerMessage::Command(stamped)) = decode_server(text.as_str())
                        && let SimCommand::Launch(launch) = stamped.command
                    {
                        labels.push(launch.label.unwrap_or_default());
                    }
                }
                Some(Ok(Message::Close(frame))) => return frame.map(|f| f.reason.to_string()),
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return None,
            }
        }
    })
    .await
    .expect("the room is stopped within 10 s");
    assert_eq!(
        reason.as_deref(),
        Some("the room moved to another relay; reconnect")
    );
    assert_eq!(labels, ["before"]);
    assert!(relay.state.metrics().rooms().lease_losses.get() >= 1);
}

/// A relay that starts while nats-server is down cannot set up the rooms' JetStream log: it
/// must not run a public room of its own meanwhile (a second public room beside the
/// cluster's, whose events die with this relay), nor create rooms that would not survive
/// it. REST launches and room creation answer 503 until NATS is back; then the log is set up
/// by itself, and the public room is the cluster's, leased in JetStream.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_started_without_nats_waits_for_its_room_log() {
    let Some(mut nats) = Nats::start() else {
        return;
    };
    nats.stop();
    let relay = Relay::start(&nats).await;
    let launch = "/launch?lat=35.5&lon=45&targetLat=33&targetLon=44&missileType=SCUD-B&label=early";
    let (status, body) = http(relay.addr, "POST", launch).await;
    assert_eq!(status, 503, "a launch without the room log: {body}");
    let (status, body) = http(relay.addr, "POST", "/api/rooms").await;
    assert_eq!(status, 503, "a room without the room log: {body}");

    nats.restart();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let body = loop {
        let (status, body) = http(relay.addr, "POST", launch).await;
        if status == 200 {
            break body;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the relay never took launches after NATS came back: {status} {body}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["room"], "public");
    let client = async_nats::connect(nats.url()).await.unwrap();
    let owners = async_nats::jetstream::new(client)
        .get_key_value("MDSIM_ROOM_OWNERS")
        .await
        .unwrap();
    let lease: serde_json::Value =
        serde_json::from_slice(&owners.get("public").await.unwrap().expect("a lease")).unwrap();
    assert_eq!(
        lease["node"].as_str(),
        Some(relay.state.rooms().cluster().unwrap().node())
    );
    let (status, body) = http(relay.addr, "POST", "/api/rooms").await;
    assert_eq!(status, 201, "{body}");
}

/// A takeover resumes past every tick its dead owner may have run. The owner runs the room
/// for seconds after its last command, publishing the events of those ticks; if the new owner
/// resumed at the tick after the last command, its first new launch would be stamped for a
/// tick the dead owner already published events for, under the same event ids, and the stream
/// or the database would drop one of the two as a duplicate (a launch answered 200 and never
/// stored). So the welcome of the new owner is at or past the dead owner's last tick, and a
/// launch there is stamped after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_takeover_resumes_past_the_ticks_its_dead_owner_ran() {
    let Some(nats) = Nats::start() else {
        return;
    };
    let mut first = Process::start(&nats);
    let second = Relay::start(&nats).await;
    let (room, token) = create_room(first.addr).await;
    let (mut member, _) = Client::join(
        &ws_url(first.addr, &room),
        "Ada",
        Role::Attacker,
        Some(&token),
    )
    .await;
    rest_launch(first.addr, &room, &token, "only").await;
    member.next_command().await;
    // Seconds of ticks after the last command (and before the first snapshot, at tick 100).
    tokio::time::sleep(Duration::from_millis(3500)).await;
    let ran = member.ping(1).await;
    assert!((20..100).contains(&ran), "tick {ran}");
    first.child.kill().unwrap();
    first.child.wait().unwrap();

    let member = rejoin(&ws_url(second.addr, &room), "Bo", Role::Attacker, &token).await;
    assert!(
        member.tick >= ran,
        "the new owner resumed at tick {}, before tick {ran} the dead owner ran",
        member.tick
    );
    let path = format!(
        "/launch?lat=35.5&lon=45&targetLat=33&targetLon=44&missileType=SCUD-B&room={room}&token={token}&label=after"
    );
    let (status, body) = http(second.addr, "POST", &path).await;
    assert_eq!(status, 200, "{body}");
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(
        answer["tick"].as_u64().unwrap() > ran,
        "a launch stamped for tick {} the dead owner ran: {body}",
        answer["tick"]
    );
}

/// A snapshot larger than a NATS message is kept in chunks and restored whole: on a server
/// whose `max_payload` is 8 KiB, a room with 150 missiles (its compressed snapshot several
/// chunks) is taken over after the SIGKILL of its relay on the uninterrupted state hash,
/// from the snapshot alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_larger_than_a_nats_message_is_restored_from_chunks() {
    let Some(nats) = Nats::start_with(NatsOptions {
        max_payload: Some(8 * 1024),
        ..Default::default()
    }) else {
        return;
    };
    let mut owner = Process::start(&nats);
    let other = Relay::start(&nats).await;
    let (room, token) = create_room(owner.addr).await;
    for i in 0..150 {
        rest_launch(owner.addr, &room, &token, &format!("m{i}")).await;
    }
    let client = async_nats::connect(nats.url()).await.unwrap();
    let state = async_nats::jetstream::new(client)
        .get_key_value("MDSIM_ROOM_STATE")
        .await
        .unwrap();
    // Wait for a snapshot taken after the launches flew (tick 200 or later).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(40);
    let manifest = loop {
        if let Some(body) = state.get(format!("{room}.snap")).await.unwrap() {
            let manifest: serde_json::Value = serde_json::from_slice(&body).unwrap();
            if manifest["tick"].as_u64().unwrap() >= 200 {
                break manifest;
            }
        }
        assert!(tokio::time::Instant::now() < deadline, "no snapshot");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(manifest["chunks"].as_u64().unwrap() >= 2, "{manifest}");
    // The commands the snapshot covers are taken out of the log (as its age limit would):
    // the room can only come back whole from the snapshot's chunks.
    let log = logged(&nats, &room).await;
    assert_eq!(log.len(), 150);
    assert!(log.iter().all(|c| c.tick < 200));
    let client = async_nats::connect(nats.url()).await.unwrap();
    let stream = async_nats::jetstream::new(client)
        .get_stream("MDSIM_ROOMLOG")
        .await
        .unwrap();
    // The manifest says where a replay starts: after the last command the snapshot covers.
    let last = stream
        .get_last_raw_message_by_subject(&format!("mdsim.roomlog.{room}"))
        .await
        .unwrap()
        .sequence;
    assert_eq!(manifest["log_from"].as_u64(), Some(last), "{manifest}");
    stream
        .purge()
        .filter(format!("mdsim.roomlog.{room}"))
        .await
        .unwrap();

    owner.child.kill().unwrap();
    owner.child.wait().unwrap();
    let mut member = rejoin(&ws_url(other.addr, &room), "Bo", Role::Observer, &token).await;
    assert_eq!(other.state.metrics().rooms().takeovers.get(), 1);
    assert_eq!(member.welcome.sim.missiles().len(), 150);
    let at = member.welcome.tick + 5;
    member.until_tick(at).await;
    let mut reference = Simulation::new(
        PhysicsParams::default(),
        relay_server::rooms::room::ROOM_SEED,
    );
    catch_up(&mut reference, &log, at);
    assert_eq!(member.replayed(at).state_hash(), reference.state_hash());
}

/// A log stream that goes missing (a nats-server that lost its store) is created again by the
/// relay: the failed appends are counted and sent again, and the commands are logged again
/// once the stream is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_stream_that_goes_missing_is_created_again() {
    let Some(nats) = Nats::start() else {
        return;
    };
    let relay = Relay::start(&nats).await;
    let (room, token) = create_room(relay.addr).await;
    let (mut member, _) = Client::join(
        &ws_url(relay.addr, &room),
        "Ada",
        Role::Attacker,
        Some(&token),
    )
    .await;
    let client = async_nats::connect(nats.url()).await.unwrap();
    let js = async_nats::jetstream::new(client);
    js.delete_stream("MDSIM_ROOMLOG").await.unwrap();
    // The relay sets the stream up again at most every 5 s.
    tokio::time::sleep(Duration::from_millis(5500)).await;
    let subject = format!("mdsim.roomlog.{room}");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    for i in 0.. {
        member
            .send(&ClientMessage::Command {
                command: launch(&format!("l{i}"), 35.0),
            })
            .await;
        assert_eq!(
            member.next_command().await.by.name,
            "Ada",
            "the room goes on"
        );
        if let Ok(stream) = js.get_stream("MDSIM_ROOMLOG").await
            && stream
                .get_last_raw_message_by_subject(&subject)
                .await
                .is_ok()
        {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "never logged again");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert!(relay.state.metrics().rooms().log_failures.get() >= 1);
}

/// Fencing on the log: what an owner appends after a later owner's marker (it had not yet
/// noticed it lost the room) is skipped by every later takeover. Two owners are killed in
/// turn; the test appends, as the first owner would, a launch after the second owner's marker;
/// the third owner's room does not fly it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_append_of_a_replaced_owner_is_ignored() {
    let Some(nats) = Nats::start() else {
        return;
    };
    let mut first = Process::start(&nats);
    let mut second = Process::start(&nats);
    let third = Relay::start(&nats).await;
    let (room, token) = create_room(first.addr).await;
    rest_launch(first.addr, &room, &token, "one").await;
    first.child.kill().unwrap();
    first.child.wait().unwrap();
    let mut member = rejoin(&ws_url(second.addr, &room), "Bo", Role::Attacker, &token).await;
    rest_launch(second.addr, &room, &token, "two").await;
    member.read_for(Duration::from_millis(500)).await;

    // The first owner's late append, after the second owner's marker.
    let client = async_nats::connect(nats.url()).await.unwrap();
    let js = async_nats::jetstream::new(client);
    let stream = js.get_stream("MDSIM_ROOMLOG").await.unwrap();
    let subject = format!("mdsim.roomlog.{room}");
    let consumer = stream
        .create_consumer(async_nats::jetstream::consumer::pull::OrderedConfig {
            filter_subject: subject.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    let mut messages = consumer.messages().await.unwrap();
    let first_entry: serde_json::Value =
        serde_json::from_slice(&messages.next().await.unwrap().unwrap().payload).unwrap();
    let mut stray = first_entry.clone();
    stray["command"]["tick"] = (member.tick + 5).into();
    assert_eq!(stray["command"]["command"]["label"], "one");
    stray["command"]["command"]["label"] = "stray".into();
    let ack = js
        .publish(subject, serde_json::to_vec(&stray).unwrap().into())
        .await
        .unwrap();
    ack.await.unwrap();

    second.child.kill().unwrap();
    second.child.wait().unwrap();
    let member = rejoin(&ws_url(third.addr, &room), "Cy", Role::Observer, &token).await;
    assert_eq!(labels(&member.welcome), ["one", "two"]);
    let log = logged(&nats, &room).await;
    assert_eq!(log.len(), 3, "the stray is in the stream, not in the room");
}
