//! Room tests over real websockets: the relay listens on an ephemeral loopback port and
//! `tokio-tungstenite` clients join rooms, send commands and hashes, and misbehave.

mod common;

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use relay_server::{AppState, Config, server};
use sim_core::earth::GeoPoint;
use sim_core::engine::LaunchCommand;
use sim_core::protocol::{ClientMessage, ClockState, Role, ServerMessage, decode_server};
use sim_core::{Command, MissileKind, Simulation};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message};

use common::ws::{Client, replay};
use common::{TempDir, dist_fixture};

struct Relay {
    state: AppState,
    addr: std::net::SocketAddr,
    _dist: TempDir,
}

async fn start(configure: impl FnOnce(&mut Config)) -> Relay {
    let dist = dist_fixture();
    let mut config = Config::with_dist_dir(dist.path());
    configure(&mut config);
    let state = AppState::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let serving = state.clone();
    tokio::spawn(async move { server::serve(listener, serving, std::future::pending()).await });
    Relay {
        state,
        addr,
        _dist: dist,
    }
}

impl Relay {
    fn url(&self, room: &str) -> String {
        format!("ws://{}/ws/rooms/{room}", self.addr)
    }

    fn private_room(&self) -> (String, String) {
        let (handle, token) = self.state.rooms().create().unwrap();
        (handle.id().to_string(), token)
    }

    fn desyncs(&self) -> u64 {
        self.state.metrics().rooms().desyncs.get()
    }

    /// Waits until the referees have compared `n` client hashes in all.
    async fn wait_for_hash_checks(&self, n: u64) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while self.state.metrics().rooms().hash_checks.get() < n {
            assert!(
                tokio::time::Instant::now() < deadline,
                "only {} hash checks",
                self.state.metrics().rooms().hash_checks.get()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn launch() -> Command {
    Command::Launch(LaunchCommand {
        missile: MissileKind::ScudB,
        from: GeoPoint::new(35.0, 45.0),
        to: GeoPoint::new(33.0, 44.0),
        profile: Default::default(),
        label: Some("first".into()),
        guidance: None,
    })
}

/// The launch inside a command (these tests send launches).
fn launch_of(command: &Command) -> &LaunchCommand {
    let Command::Launch(l) = command else {
        panic!("not a launch: {command:?}");
    };
    l
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_players_receive_the_same_stamped_command_and_agree_with_the_referee() {
    let relay = start(|_| {}).await;
    let (room, token) = relay.private_room();
    let url = relay.url(&room);
    let (mut a, wa) = Client::join(&url, "Ada", Role::Attacker, Some(&token)).await;
    let (mut b, wb) = Client::join(&url, "Bo", Role::Defender, Some(&token)).await;
    assert!(wa.you.can_command && wb.you.can_command);
    assert_ne!(wa.you.id, wb.you.id);
    // Both see both in the presence list.
    match b.next().await {
        ServerMessage::Presence { members } => assert_eq!(members.len(), 2),
        other => panic!("expected presence, got {other:?}"),
    }

    a.send(&ClientMessage::Command { command: launch() }).await;
    let seen_by_a = a.next_command().await;
    let seen_by_b = b.next_command().await;
    assert_eq!(seen_by_a, seen_by_b);
    assert_eq!(seen_by_a.by, wa.you);
    // The relay solved the launch once and ordered it with the guidance, so nobody else
    // solves it.
    let ordered = launch_of(&seen_by_a.command);
    let sent = launch_of(&launch()).clone();
    assert!(ordered.guidance.is_some());
    assert_eq!(
        (ordered.missile, ordered.from, ordered.to, &ordered.label),
        (sent.missile, sent.from, sent.to, &sent.label)
    );
    assert!(seen_by_a.tick > wa.tick);

    // Each client replays from its own welcome; both hashes match the referee's at a tick
    // after the launch.
    let check = seen_by_a.tick + 5;
    for (client, welcome) in [(&mut a, wa), (&mut b, wb)] {
        let sim = replay(welcome, std::slice::from_ref(&seen_by_a), check);
        assert_eq!(sim.missiles().len(), 1);
        client.send_hash(&sim).await;
    }
    relay.wait_for_hash_checks(2).await;
    assert_eq!(relay.desyncs(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_joiner_catches_up_and_a_wrong_hash_gets_a_resync() {
    let relay = start(|_| {}).await;
    let (room, token) = relay.private_room();
    let url = relay.url(&room);
    let (mut a, _) = Client::join(&url, "Ada", Role::Attacker, Some(&token)).await;
    a.send(&ClientMessage::Command { command: launch() }).await;
    let launched = a.next_command().await;
    a.wait_for_tick(launched.tick + 10).await;

    let (mut late, welcome) = Client::join(&url, "Late", Role::Observer, None).await;
    assert!(welcome.tick > launched.tick);
    assert_eq!(welcome.sim.tick(), welcome.tick);
    assert_eq!(
        welcome.sim.missiles().len(),
        1,
        "the snapshot holds the missile"
    );
    // The snapshot is the referee's state: its hash at the welcome tick matches.
    late.send_hash(&welcome.sim).await;
    // And so does a state stepped on from it.
    let (me, joined_at) = (welcome.you.clone(), welcome.tick);
    let sim = replay(welcome, &[], joined_at + 3);
    late.send_hash(&sim).await;
    relay.wait_for_hash_checks(2).await;
    assert_eq!(relay.desyncs(), 0);

    late.send(&ClientMessage::Hash {
        tick: sim.tick(),
        hash: sim.state_hash() ^ 0xff,
    })
    .await;
    match late.next_not_presence().await {
        ServerMessage::Resync {
            mismatch_tick,
            expected,
            tick,
            snapshot,
            ..
        } => {
            assert_eq!(mismatch_tick, sim.tick());
            assert_eq!(expected, sim.state_hash());
            let resynced = Simulation::restore(*snapshot);
            assert_eq!(resynced.tick(), tick);
            assert_eq!(resynced.missiles().len(), 1);
        }
        other => panic!("expected a resync, got {other:?}"),
    }
    assert_eq!(relay.desyncs(), 1);

    // Asking again gives a fresh welcome at a later tick, for the same member.
    late.send(&ClientMessage::Sync {}).await;
    match late.next_not_presence().await {
        ServerMessage::Welcome { you, tick, .. } => {
            assert_eq!(you, me);
            assert!(tick > joined_at);
        }
        other => panic!("expected a welcome, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_token_holders_who_are_not_observers_may_command() {
    let relay = start(|_| {}).await;
    let (room, token) = relay.private_room();
    let url = relay.url(&room);
    let (mut player, _) = Client::join(&url, "Ada", Role::Attacker, Some(&token)).await;
    let (mut watcher, w) = Client::join(&url, "Eve", Role::Observer, None).await;
    assert!(!w.you.can_command);
    watcher
        .send(&ClientMessage::Command { command: launch() })
        .await;
    assert!(
        watcher
            .next_error()
            .await
            .contains("observers cannot send commands")
    );
    // An observer holding the token still only watches.
    let (mut watcher2, w2) = Client::join(&url, "Obs", Role::Observer, Some(&token)).await;
    assert!(!w2.you.can_command);
    watcher2
        .send(&ClientMessage::Command { command: launch() })
        .await;
    assert!(watcher2.next_error().await.contains("observers"));
    // An attacker without the token watches too.
    let (mut tokenless, t) = Client::join(&url, "Mal", Role::Attacker, None).await;
    assert!(!t.you.can_command);
    tokenless
        .send(&ClientMessage::Command { command: launch() })
        .await;
    assert!(tokenless.next_error().await.contains("room token"));
    // A launch out of reach is refused to its sender and ordered nowhere.
    let mut too_far = launch();
    let Command::Launch(l) = &mut too_far else {
        unreachable!("launch() builds a launch command")
    };
    l.to = GeoPoint::new(-35.0, 45.0);
    player
        .send(&ClientMessage::Command { command: too_far })
        .await;
    let refused = player.next_error().await;
    assert!(
        refused.starts_with("launch refused: target is"),
        "{refused}"
    );
    assert!(
        refused.contains("beyond the SCUD-B maximum range"),
        "{refused}"
    );
    // Nobody received a command: the next thing the player sees after its own is its own.
    player
        .send(&ClientMessage::Command { command: launch() })
        .await;
    assert_eq!(player.next_command().await.by.name, "Ada");
    // A wrong token is refused and the connection closed.
    let mut guesser = Client::connect(&url).await;
    guesser
        .send(&ClientMessage::Hello {
            name: "Guess".into(),
            role: Role::Attacker,
            token: Some("0".repeat(32)),
        })
        .await;
    assert_eq!(guesser.next_error().await, "wrong room token");
    let end = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match guesser.ws.next().await {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => continue,
            }
        }
    })
    .await;
    assert!(end.is_ok(), "the connection was not closed");
}

impl Client {
    async fn next_clock(&mut self) -> ClockState {
        loop {
            match self.next_not_presence().await {
                ServerMessage::Clock(c) => return c,
                ServerMessage::Command(_) => continue,
                other => panic!("expected a clock, got {other:?}"),
            }
        }
    }

    /// Pings and returns the pong's `(tick, paused, speed)`.
    async fn ping_clock(&mut self, nonce: u64) -> (u64, bool, u32) {
        self.send(&ClientMessage::Ping { nonce: Some(nonce) }).await;
        match self.next_not_presence().await {
            ServerMessage::Pong {
                tick,
                paused,
                speed,
                ..
            } => (tick, paused, speed),
            other => panic!("expected a pong, got {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_room_clock_pauses_resumes_and_speeds_up_for_everyone() {
    let relay = start(|_| {}).await;
    let (room, token) = relay.private_room();
    let url = relay.url(&room);
    let (mut a, wa) = Client::join(&url, "Ada", Role::Attacker, Some(&token)).await;
    let (mut b, wb) = Client::join(&url, "Bo", Role::Defender, Some(&token)).await;
    assert_eq!(wa.clock, ClockState::default());

    // Pause: both members hear who paused, and the referee's tick stops.
    a.send(&ClientMessage::Clock {
        paused: true,
        speed: 1,
    })
    .await;
    let paused = a.next_clock().await;
    assert_eq!(b.next_clock().await, paused);
    assert!(paused.paused);
    assert_eq!(paused.by.as_ref(), Some(&wa.you));
    let (t0, p0, _) = a.ping_clock(1).await;
    assert!(p0);
    assert_eq!(t0, paused.tick);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(a.ping_clock(2).await, (paused.tick, true, 1));

    // A late observer gets the paused clock in its welcome, and may not change it.
    let mut watcher = Client::connect(&url).await;
    watcher
        .send(&ClientMessage::Hello {
            name: "Eve".into(),
            role: Role::Observer,
            token: None,
        })
        .await;
    match watcher.next().await {
        ServerMessage::Welcome { clock, tick, .. } => {
            assert_eq!(clock, paused);
            assert_eq!(tick, paused.tick);
        }
        other => panic!("expected a welcome, got {other:?}"),
    }
    watcher
        .send(&ClientMessage::Clock {
            paused: false,
            speed: 16,
        })
        .await;
    let refused = watcher.next_error().await;
    assert!(
        refused.contains("observers cannot pause or change the speed"),
        "{refused}"
    );
    // A speed outside the allowed set is refused with the allowed values.
    a.ws_send_text(r#"{"v":1,"type":"clock","paused":false,"speed":5}"#)
        .await;
    let refused = a.next_error().await;
    assert!(
        refused.contains("choose one of [1, 2, 4, 8, 16]"),
        "{refused}"
    );
    assert_eq!(a.ping_clock(3).await, (paused.tick, true, 1));

    // A launch ordered while paused, then resume at 4x: about 4 ticks per 100 ms.
    a.send(&ClientMessage::Command { command: launch() }).await;
    let launched = a.next_command().await;
    assert_eq!(b.next_command().await, launched);
    a.send(&ClientMessage::Clock {
        paused: false,
        speed: 4,
    })
    .await;
    let fast = a.next_clock().await;
    assert_eq!(b.next_clock().await, fast);
    assert_eq!(
        (fast.tick, fast.paused, fast.speed),
        (paused.tick, false, 4)
    );
    let start = tokio::time::Instant::now();
    let (t1, _, _) = a.ping_clock(4).await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let (t2, p2, s2) = a.ping_clock(5).await;
    let elapsed_periods = start.elapsed().as_secs_f64() / 0.1;
    assert_eq!((p2, s2), (false, 4));
    let rate = (t2 - t1) as f64 / elapsed_periods;
    // 1x would give about 1 tick per period; a loaded machine may lose a little.
    assert!((2.5..=4.5).contains(&rate), "{rate} ticks per period");

    // Slow down to 2x; both clients replay the same commands and agree with the referee.
    a.send(&ClientMessage::Clock {
        paused: false,
        speed: 2,
    })
    .await;
    assert_eq!(a.next_clock().await.speed, 2);
    assert_eq!(b.next_clock().await.speed, 2);
    let check = launched.tick + 20;
    a.wait_for_tick(check).await;
    let mut hashes = Vec::new();
    for (client, welcome) in [(&mut a, wa), (&mut b, wb)] {
        let sim = replay(welcome, std::slice::from_ref(&launched), check);
        assert_eq!(sim.missiles().len(), 1);
        hashes.push(sim.state_hash());
        client.send_hash(&sim).await;
    }
    assert_eq!(hashes[0], hashes[1]);
    relay.wait_for_hash_checks(2).await;
    assert_eq!(relay.desyncs(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_oversize_and_out_of_order_messages_get_errors_not_crashes() {
    let relay = start(|_| {}).await;
    let url = relay.url("public");
    let mut client = Client::connect(&url).await;
    client.send(&ClientMessage::Ping { nonce: Some(1) }).await;
    assert!(client.next_error().await.contains("send hello first"));
    client
        .send(&ClientMessage::Hello {
            name: "Ada".into(),
            role: Role::Attacker,
            token: None,
        })
        .await;
    assert!(matches!(client.next().await, ServerMessage::Welcome { .. }));
    for (text, needle) in [
        ("{".to_string(), "malformed"),
        ("[]".to_string(), "expected a JSON object"),
        (
            r#"{"v":9,"type":"ping"}"#.to_string(),
            "unsupported protocol version 9",
        ),
        (
            r#"{"v":1,"type":"hello","name":"x","role":"observer"}"#.to_string(),
            "already joined",
        ),
        (
            r#"{"v":1,"type":"command","command":{"type":"launch","missile":"SCUD-C",
               "from":{"lat_deg":NaN,"lon_deg":0},"to":{"lat_deg":1,"lon_deg":1}}}"#
                .to_string(),
            "malformed",
        ),
        (
            format!(r#"{{"v":1,"type":"ping","pad":"{}"}}"#, "x".repeat(20_000)),
            "exceeds the limit",
        ),
    ] {
        client.ws_send_text(&text).await;
        let error = client.next_error().await;
        assert!(error.contains(needle), "{text:.60}: {error}");
    }
    client
        .ws
        .send(Message::binary(vec![1, 2, 3]))
        .await
        .unwrap();
    assert!(client.next_error().await.contains("binary"));
    // Still connected and answering.
    client.ping(7).await;

    // A frame far over the cap ends that connection, and the relay goes on serving.
    let mut huge = Client::connect(&url).await;
    let _ = huge.ws.send(Message::text("x".repeat(1 << 20))).await;
    let mut other = Client::connect(&url).await;
    other
        .send(&ClientMessage::Hello {
            name: "Bo".into(),
            role: Role::Observer,
            token: None,
        })
        .await;
    assert!(matches!(other.next().await, ServerMessage::Welcome { .. }));
    client.ping(8).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_over_the_rate_limit_is_dropped_with_one_error() {
    let relay = start(|c| {
        c.ws_rate = 1;
        c.ws_burst = 5;
    })
    .await;
    let (mut client, _) = Client::join(&relay.url("public"), "Ada", Role::Observer, None).await;
    for nonce in 0..20 {
        client
            .send(&ClientMessage::Ping { nonce: Some(nonce) })
            .await;
    }
    let mut pongs = 0;
    let mut errors = Vec::new();
    // Read until the relay has been quiet for half a second.
    while let Ok(Some(Ok(frame))) =
        tokio::time::timeout(Duration::from_millis(500), client.ws.next()).await
    {
        let Message::Text(text) = frame else { continue };
        match decode_server(text.as_str()).unwrap() {
            ServerMessage::Pong { .. } => pongs += 1,
            ServerMessage::Error { message } => errors.push(message),
            ServerMessage::Presence { .. } => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    // The hello took one token of the five: four pongs (five if the machine was so slow that
    // a token refilled), then one error for the whole run of drops.
    assert!((4..=5).contains(&pongs), "{pongs} pongs");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].contains("rate limit"), "{errors:?}");
    let metrics = relay.state.metrics().encode().unwrap();
    let refused = format!(
        r#"relay_refused_messages_total{{reason="rate-limited"}} {}"#,
        20 - pongs
    );
    assert!(metrics.contains(&refused), "{metrics}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foreign_origins_are_refused_and_configured_ones_allowed() {
    let relay = start(|c| c.allowed_origins = vec!["https://app.example".into()]).await;
    let url = relay.url("public");
    let with_origin = |origin: &str| {
        let mut request = url.as_str().into_client_request().unwrap();
        request
            .headers_mut()
            .insert("origin", origin.parse().unwrap());
        request
    };
    match tokio_tungstenite::connect_async(with_origin("http://evil.example")).await {
        Err(tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 403);
        }
        other => panic!("expected a 403, got {other:?}"),
    }
    assert!(
        tokio_tungstenite::connect_async(with_origin("https://app.example"))
            .await
            .is_ok()
    );
    let own = format!("http://{}", relay.addr);
    assert!(
        tokio_tungstenite::connect_async(with_origin(&own))
            .await
            .is_ok()
    );
    // An unknown room is a 404 before any upgrade.
    match tokio_tungstenite::connect_async(relay.url("0123")).await {
        Err(tungstenite::Error::Http(response)) => assert_eq!(response.status(), 404),
        other => panic!("expected a 404, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_launches_reach_websocket_members_of_the_public_room() {
    let relay = start(|_| {}).await;
    let (mut watcher, _) = Client::join(&relay.url("public"), "Eve", Role::Observer, None).await;
    let url = format!(
        "http://{}/launch?lat=35&lon=45&targetLat=33&targetLon=44&missileType=SCUD-B",
        relay.addr
    );
    // A bare HTTP/1.1 request; the test has no HTTP client dependency.
    let launch = tokio::spawn(async move { http_post(&url).await });
    let command = watcher.next_command().await;
    assert_eq!(command.by.id, 0);
    assert_eq!(command.by.name, "REST API");
    assert!(matches!(
        &command.command,
        Command::Launch(l) if l.guidance.is_some() && l.missile == MissileKind::ScudB
    ));
    let response = launch.await.unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains(r#""missile_id":"M1""#), "{response}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_rooms_are_dropped_after_the_grace_period() {
    let relay = start(|c| c.room_grace = 1).await;
    let (room, token) = relay.private_room();
    {
        let (mut client, _) =
            Client::join(&relay.url(&room), "Ada", Role::Attacker, Some(&token)).await;
        client.ping(1).await;
        client.ws.close(None).await.unwrap();
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while relay.state.rooms().get(&room).is_ok() {
        assert!(tokio::time::Instant::now() < deadline, "room still open");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(relay.state.rooms().is_empty());
    match tokio_tungstenite::connect_async(relay.url(&room)).await {
        Err(tungstenite::Error::Http(response)) => assert_eq!(response.status(), 404),
        other => panic!("expected a 404, got {other:?}"),
    }
}

async fn http_post(url: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_at(rest.find('/').unwrap());
    let mut stream = TcpStream::connect(host).await.unwrap();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_connection_is_closed_after_three_heartbeats() {
    let relay = start(|c| c.ws_heartbeat = 1).await;
    let url = relay.url("public");
    let (mut silent, _) = Client::join(&url, "Quiet", Role::Observer, None).await;
    let (mut lively, _) = Client::join(&url, "Lively", Role::Observer, None).await;
    let connections = || relay.state.metrics().rooms().connections.get();
    assert_eq!(connections(), 2);
    // Reading answers the relay's pings (tungstenite replies with pongs as it reads); the
    // silent client reads nothing, so it answers nothing.
    let reader = tokio::spawn(async move { while let Some(Ok(_)) = lively.ws.next().await {} });
    let deadline = tokio::time::Instant::now() + Duration::from_secs(6);
    while connections() != 1 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "silent connection still open"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The lively one is still there a while later.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(connections(), 1);
    assert!(!reader.is_finished());
    // The silent one finds its connection ended (a close frame or a reset).
    let ended = tokio::time::timeout(Duration::from_secs(2), async {
        loop {
            match silent.ws.next().await {
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return,
                Some(Ok(_)) => {}
            }
        }
    })
    .await;
    assert!(ended.is_ok());
    reader.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_closes_room_websockets_at_once() {
    let dist = dist_fixture();
    let state = AppState::new(Config::with_dist_dir(dist.path()));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let serving = state.clone();
    let server = tokio::spawn(async move {
        server::serve(listener, serving, async move {
            let _ = stop_rx.await;
            "test"
        })
        .await
    });
    let url = format!("ws://{addr}/ws/rooms/public");
    let (mut client, _) = Client::join(&url, "Ada", Role::Observer, None).await;
    let _ = stop_tx.send(());
    let reason = tokio::time::timeout(Duration::from_secs(3), async {
        loop {
            match client.ws.next().await {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| f.reason.to_string()),
                Some(Ok(_)) => {}
                _ => return None,
            }
        }
    })
    .await
    .expect("closed within 3 s");
    assert_eq!(reason.as_deref(), Some("the relay is shutting down"));
    // The server stops well before the 10 s shutdown timeout.
    tokio::time::timeout(Duration::from_secs(3), server)
        .await
        .expect("server stopped within 3 s")
        .unwrap()
        .unwrap();
}
