//! Rooms across relays: two relays on one real `nats-server` (started on a free loopback port)
//! share a room owned by the relay that created it. A client on each relay sees the same
//! stamped commands; hashes sent on either relay are checked by the owner's referee; a late
//! joiner on the other relay catches up; REST launches and tokens work on both; and when the
//! owner relay is killed on a NATS without JetStream (where rooms cannot be kept), clients on
//! the other relay get one clear error and it goes on.

mod common;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use relay_server::{AppState, Config, server};
use sim_core::earth::GeoPoint;
use sim_core::engine::LaunchCommand;
use sim_core::protocol::{ClientMessage, Role, ServerMessage};
use sim_core::{Command as SimCommand, MissileKind, Simulation};
use tokio::net::TcpListener;

use common::services::{Nats, NatsOptions};
use common::ws::{Client, http, replay};
use common::{TempDir, dist_fixture};

struct Relay {
    state: AppState,
    addr: SocketAddr,
    _dist: TempDir,
}

impl Relay {
    async fn start(nats: &Nats) -> Self {
        let dist = dist_fixture();
        let mut config = Config::with_dist_dir(dist.path());
        config.nats_url = Some(nats.url());
        config.no_database = true;
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

    fn url(&self, room: &str) -> String {
        format!("ws://{}/ws/rooms/{room}", self.addr)
    }

    fn hash_checks(&self) -> u64 {
        self.state.metrics().rooms().hash_checks.get()
    }

    fn desyncs(&self) -> u64 {
        self.state.metrics().rooms().desyncs.get()
    }

    async fn wait_for_hash_checks(&self, n: u64) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while self.hash_checks() < n {
            assert!(
                tokio::time::Instant::now() < deadline,
                "only {} hash checks",
                self.hash_checks()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn launch(label: &str) -> SimCommand {
    SimCommand::Launch(LaunchCommand {
        missile: MissileKind::ScudB,
        from: GeoPoint::new(35.0, 45.0),
        to: GeoPoint::new(33.0, 44.0),
        profile: Default::default(),
        label: Some(label.into()),
        guidance: None,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_spans_two_relays_on_one_nats() {
    let Some(nats) = Nats::start() else {
        return;
    };
    let owner = Relay::start(&nats).await;
    let other = Relay::start(&nats).await;
    // Created over HTTP on the owner, as the web app does.
    let (status, body) = http(owner.addr, "POST", "/api/rooms").await;
    assert_eq!(status, 201, "{body}");
    let created: serde_json::Value = serde_json::from_str(&body).unwrap();
    let room = created["room"].as_str().unwrap().to_string();
    let token = created["token"].as_str().unwrap().to_string();

    let (mut a, wa) = Client::join(&owner.url(&room), "Ada", Role::Attacker, Some(&token)).await;
    let (mut b, wb) = Client::join(&other.url(&room), "Bo", Role::Defender, Some(&token)).await;
    assert!(
        wa.you.can_command && wb.you.can_command,
        "the token works on both relays"
    );
    assert_ne!(wa.you.id, wb.you.id, "one owner numbers every member");
    let bo = wb.you.clone();
    // Both see both.
    a.presence_of(2).await;
    let seen = b.presence_of(2).await;
    assert_eq!(
        seen.iter().map(|m| m.name.as_str()).collect::<Vec<_>>(),
        ["Ada", "Bo"]
    );
    // The other relay has no referee of its own for the room: a proxy.
    assert!(other.state.rooms().get(&room).unwrap().is_remote());
    assert_eq!(other.state.metrics().rooms().rooms.get(), 0);

    // A launch from the client on the other relay reaches both with the same stamp.
    b.send(&ClientMessage::Command {
        command: launch("from B"),
    })
    .await;
    let on_a = a.next_command().await;
    let on_b = b.next_command().await;
    assert_eq!(on_a, on_b);
    assert_eq!(on_a.by, wb.you);
    assert!(on_a.tick > wb.tick);
    // Each replays from its own welcome; the owner's referee checks both hashes (the other
    // relay's through NATS).
    let check = on_a.tick + 5;
    let before = owner.hash_checks();
    for (client, welcome) in [(&mut a, wa), (&mut b, wb)] {
        let sim = replay(welcome, std::slice::from_ref(&on_a), check);
        assert_eq!(sim.missiles().len(), 1);
        client.send_hash(&sim).await;
    }
    owner.wait_for_hash_checks(before + 2).await;
    assert_eq!(owner.desyncs(), 0);
    // The proxy's pong tick follows the owner's referee.
    let tick_b = b.ping(1).await;
    let tick_a = a.ping(2).await;
    assert!(tick_a.abs_diff(tick_b) <= 10, "{tick_a} vs {tick_b}");

    // A late joiner on the other relay catches up from the owner's snapshot.
    b.wait_for_tick(on_a.tick + 10).await;
    let (mut late, welcome) = Client::join(&other.url(&room), "Late", Role::Observer, None).await;
    assert!(!welcome.you.can_command);
    assert!(welcome.tick > on_a.tick);
    assert_eq!(
        welcome.sim.missiles().len(),
        1,
        "the snapshot holds the missile"
    );
    let check = welcome.tick + 3;
    let sim = replay(welcome, &[], check);
    let before = owner.hash_checks();
    late.send_hash(&sim).await;
    owner.wait_for_hash_checks(before + 1).await;
    assert_eq!(owner.desyncs(), 0);
    // A wrong hash there is answered with a resync through NATS.
    late.send(&ClientMessage::Hash {
        tick: sim.tick(),
        hash: sim.state_hash() ^ 1,
    })
    .await;
    match late.next_not_presence().await {
        ServerMessage::Resync {
            mismatch_tick,
            snapshot,
            ..
        } => {
            assert_eq!(mismatch_tick, sim.tick());
            assert_eq!(Simulation::restore(*snapshot).missiles().len(), 1);
        }
        other => panic!("expected a resync, got {other:?}"),
    }
    assert_eq!(owner.desyncs(), 1);
    // The observer cannot command on the other relay either.
    late.send(&ClientMessage::Command {
        command: launch("no"),
    })
    .await;
    assert!(late.next_error().await.contains("observers"));

    // REST on the other relay: the token is checked by the owner, the launch ordered there.
    let path =
        format!("/launch?lat=35&lon=45&targetLat=33&targetLon=44&missileType=SCUD-B&room={room}");
    let (status, body) = http(other.addr, "POST", &path).await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("needs its token"), "{body}");
    let (status, body) = http(
        other.addr,
        "POST",
        &format!("{path}&token={}", "0".repeat(32)),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = http(other.addr, "POST", &format!("{path}&token={token}")).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#""missile_id":"M2""#), "{body}");
    let rest = a.next_command().await;
    assert_eq!(rest.by.name, "REST API");
    assert_eq!(b.next_command().await, rest);

    // A wrong token on the other relay is refused there, as on the owner.
    let mut guesser = Client::connect(&other.url(&room)).await;
    guesser
        .send(&ClientMessage::Hello {
            name: "Guess".into(),
            role: Role::Attacker,
            token: Some("0".repeat(32)),
        })
        .await;
    assert_eq!(guesser.next_error().await, "wrong room token");
    // A room no relay owns is a 404 on either relay, and the public room stays per relay.
    let (status, _) = http(
        other.addr,
        "POST",
        "/launch?lat=35&lon=45&targetLat=33&targetLon=44&missileType=SCUD-B&room=0123abcd",
    )
    .await;
    assert_eq!(status, 404);
    assert!(
        other
            .state
            .rooms()
            .find("public")
            .await
            .is_ok_and(|h| !h.is_remote())
    );

    // A pause from the other relay reaches the owner's referee; both members hear who paused,
    // and the proxy's pongs follow the owner's clock (carried by its beats).
    b.send(&ClientMessage::Clock {
        paused: true,
        speed: 4,
    })
    .await;
    let mut clocks = Vec::new();
    for client in [&mut a, &mut b] {
        clocks.push(match client.next_not_presence().await {
            ServerMessage::Clock(c) => c,
            other => panic!("expected a clock, got {other:?}"),
        });
    }
    assert_eq!(clocks[0], clocks[1]);
    assert!(clocks[0].paused);
    assert_eq!(clocks[0].by.as_ref(), Some(&bo));
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let paused_at = b.ping(20).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(b.ping(21).await, paused_at);
    assert_eq!(paused_at, clocks[0].tick);

    // Leaving on the other relay reaches the owner's presence list.
    late.ws.close(None).await.unwrap();
    b.ws.close(None).await.unwrap();
    a.presence_of(1).await;
}

/// The owner relay as a real process, so the test can kill it.
struct OwnerProcess {
    child: Child,
    addr: SocketAddr,
    _dist: TempDir,
}

impl OwnerProcess {
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

impl Drop for OwnerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_the_owner_relay_dies_its_members_elsewhere_get_a_clear_error() {
    // Without JetStream rooms are not kept (with it they survive: tests/failover.rs).
    let Some(nats) = Nats::start_with(NatsOptions {
        no_jetstream: true,
        ..Default::default()
    }) else {
        return;
    };
    let mut owner = OwnerProcess::start(&nats);
    let other = Relay::start(&nats).await;
    let (status, body) = http(owner.addr, "POST", "/api/rooms").await;
    assert_eq!(status, 201, "{body}");
    let created: serde_json::Value = serde_json::from_str(&body).unwrap();
    let room = created["room"].as_str().unwrap().to_string();
    let token = created["token"].as_str().unwrap().to_string();
    let (mut b, _) = Client::join(&other.url(&room), "Bo", Role::Attacker, Some(&token)).await;
    b.send(&ClientMessage::Command {
        command: launch("before"),
    })
    .await;
    b.next_command().await;

    owner.child.kill().unwrap();
    owner.child.wait().unwrap();
    let error = b.next_error().await;
    assert!(error.contains("stopped answering"), "{error}");
    assert!(error.contains(&room), "{error}");
    assert_eq!(b.closed().await.as_deref(), Some("the room closed"));

    // The other relay goes on: the room is gone (404), its own public room works.
    match tokio_tungstenite::connect_async(other.url(&room)).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 404)
        }
        other => panic!("expected a 404, got {:?}", other.map(|_| ())),
    }
    let (mut public, _) = Client::join(&other.url("public"), "Eve", Role::Attacker, None).await;
    public
        .send(&ClientMessage::Command {
            command: launch("after"),
        })
        .await;
    assert_eq!(public.next_command().await.by.name, "Eve");
}
