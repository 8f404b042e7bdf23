//! A room's limits, over real sockets: an expensive room is stopped without slowing the relay
//! or the other rooms (issue 17, item 2), and the public room's clock belongs to its
//! operators, with REST launches refused at once when they would wait (item 4).

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use clap::Parser;
use relay_server::{AppState, Config, server};
use serde_json::Value;
use sim_core::protocol::{ClientMessage, Role, ServerMessage};
use tokio::net::TcpListener;

use common::ws::{Client, http};
use common::{TempDir, dist_fixture};

const OPERATOR: &str = "0123456789abcdefOperatorToken";
const LAUNCH: &str = "/launch?lat=35&lon=45&targetLat=33&targetLon=44&missileType=SCUD-B";

struct Relay {
    state: AppState,
    addr: SocketAddr,
    _dist: TempDir,
}

/// A relay on an ephemeral loopback port, with `args` as on the command line.
async fn start(args: &[&str]) -> Relay {
    let dist = dist_fixture();
    let mut config = Config::try_parse_from(
        ["relay-server", "--no-database"]
            .iter()
            .chain(args)
            .copied(),
    )
    .expect("valid flags");
    config.dist_dir = dist.path().to_path_buf();
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

    /// `POST path`: the status, the JSON body and how long the answer took.
    async fn post(&self, path: &str) -> (u16, Value, Duration) {
        let started = Instant::now();
        let (status, body) = http(self.addr, "POST", path).await;
        let body = serde_json::from_str(&body).unwrap_or_else(|_| panic!("not JSON: {body}"));
        (status, body, started.elapsed())
    }

    /// The value of the metric line starting with `series` (0 when absent).
    fn metric(&self, series: &str) -> f64 {
        let text = self.state.metrics().encode().unwrap();
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
            .unwrap_or(0.0)
    }
}

/// Pings and returns the pong's `(tick, paused, speed)`, skipping other messages.
async fn pong(client: &mut Client, nonce: u64) -> (u64, bool, u32) {
    client
        .send(&ClientMessage::Ping { nonce: Some(nonce) })
        .await;
    loop {
        if let ServerMessage::Pong {
            nonce: Some(n),
            tick,
            paused,
            speed,
        } = client.next().await
            && n == nonce
        {
            return (tick, paused, speed);
        }
    }
}

/// The next error's sentence, skipping other messages.
async fn next_error(client: &mut Client) -> String {
    loop {
        if let ServerMessage::Error { message } = client.next().await {
            return message;
        }
    }
}

/// The public room with hundreds of missiles at 16x overruns a tight budget and is stopped:
/// its member hears why and its connection closes with the reason, the stop is counted, and
/// meanwhile `/healthz` and REST answer at once (the test's runtime has one thread: were a
/// referee stepping on it, they would wait for its periods) and another room keeps ticking.
/// The public room then starts afresh on the next request.
#[tokio::test(flavor = "current_thread")]
async fn an_expensive_room_is_stopped_while_the_relay_and_other_rooms_answer() {
    let relay = start(&[
        "--operator-token",
        OPERATOR,
        "--room-budget-ms",
        "50",
        "--room-overruns",
        "10",
        "--referee-threads",
        "2",
        "--launch-waiting",
        "100000",
    ])
    .await;
    // Another room, ticking at 1x, watched by a member.
    let (other, token) = relay.state.rooms().create().unwrap();
    let (mut watcher, _) =
        Client::join(&relay.url(other.id()), "Bo", Role::Defender, Some(&token)).await;

    // Load: hundreds of missiles into the public room, which runs at 1x within its budget.
    const MISSILES: usize = 8_000;
    let mut launches = tokio::task::JoinSet::new();
    let addr = relay.addr;
    for worker in 0..8 {
        launches.spawn(async move {
            for _ in (worker..MISSILES).step_by(8) {
                let (status, body) = http(addr, "POST", LAUNCH).await;
                assert_eq!(status, 200, "{body}");
            }
        });
    }
    while let Some(done) = launches.join_next().await {
        done.unwrap();
    }
    let loaded_overruns = relay.metric("relay_room_overruns_total");

    // An operator sets the public room to 16x: each period now far exceeds 50 ms.
    let (mut operator, welcome) =
        Client::join(&relay.url("public"), "ops", Role::Observer, Some(OPERATOR)).await;
    assert_eq!(
        welcome.sim.missiles().len() + welcome.commands.len(),
        MISSILES
    );
    operator
        .send(&ClientMessage::Clock {
            paused: false,
            speed: 16,
        })
        .await;
    let (other_tick, ..) = pong(&mut watcher, 1).await;
    let started = Instant::now();
    let stopped = tokio::spawn(async move {
        let message = next_error(&mut operator).await;
        (message, operator.closed().await)
    });

    // Meanwhile the relay answers at once.
    let mut slowest = Duration::ZERO;
    let mut samples = 0;
    while !stopped.is_finished() {
        assert!(started.elapsed() < Duration::from_secs(60), "never stopped");
        for path in ["/healthz", "/api/missile-types"] {
            let asked = Instant::now();
            let (status, _) = http(relay.addr, "GET", path).await;
            assert_eq!(status, 200);
            slowest = slowest.max(asked.elapsed());
        }
        samples += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let running = started.elapsed();
    let (message, close) = stopped.await.unwrap();
    eprintln!(
        "stopped after {running:?}; {samples} samples, slowest answer {slowest:?}; overruns \
         while loading {loaded_overruns}"
    );
    assert!(
        message.contains("room public was stopped")
            && message.contains("budget of 50 ms")
            && message.contains("10 of its last 20 periods"),
        "{message}"
    );
    assert_eq!(
        close.as_deref(),
        Some("stopped: its referee overran its time budget")
    );
    assert!(samples >= 3, "only {samples} samples in {running:?}");
    assert!(
        slowest < Duration::from_millis(100),
        "an answer took {slowest:?}"
    );
    assert_eq!(
        relay.metric(r#"relay_rooms_stopped_total{reason="overrun"}"#),
        1.0
    );
    assert!(relay.metric("relay_room_overruns_total") >= 10.0);

    // The other room went on ticking at 1x all along.
    let (now, ..) = pong(&mut watcher, 2).await;
    let expected = running.as_secs_f64() * 10.0;
    assert!(
        (now - other_tick) as f64 >= expected * 0.5,
        "the other room advanced {} ticks in {running:?}",
        now - other_tick
    );

    // The public room left the registry, and the next request starts it afresh.
    let (status, body, _) = relay.post(LAUNCH).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["missile_id"], "M1", "{body}");
    assert!(body["tick"].as_u64().unwrap() < 100, "{body}");
}

/// The public room's clock is its operators': a visitor's pause is refused and the room keeps
/// ticking; an operator's pause holds after the operator leaves, and REST launches into the
/// paused room are answered 409 at once (not left waiting), until an operator resumes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_operators_pause_the_public_room_and_launches_into_a_paused_room_fail_fast() {
    let relay = start(&["--operator-token", OPERATOR]).await;
    let public = relay.url("public");
    let (mut visitor, welcome) = Client::join(&public, "Eve", Role::Attacker, None).await;
    // The welcome says so, so the page can grey out its pause and speed controls.
    assert_eq!(welcome.clock_rights, Some(false));
    assert!(welcome.you.can_command);
    // A token that is not the operator's makes no operator either.
    let (mut guesser, _) = Client::join(
        &public,
        "Mallory",
        Role::Attacker,
        Some("0123456789abcdefOperatorTokem"),
    )
    .await;
    for client in [&mut visitor, &mut guesser] {
        client
            .send(&ClientMessage::Clock {
                paused: true,
                speed: 1,
            })
            .await;
        let refused = next_error(client).await;
        assert!(
            refused.starts_with("the public room's clock belongs to its operators"),
            "{refused}"
        );
    }
    let (before, paused, speed) = pong(&mut visitor, 1).await;
    assert_eq!((paused, speed), (false, 1));
    visitor.wait_for_tick(before + 3).await;
    assert_eq!(
        relay.metric(r#"relay_refused_messages_total{reason="forbidden"}"#),
        2.0
    );
    let (status, body, _) = relay.post(LAUNCH).await;
    assert_eq!(status, 200, "{body}");

    // The operator pauses (even as an observer); every member hears it.
    let (mut operator, welcome) =
        Client::join(&public, "ops", Role::Observer, Some(OPERATOR)).await;
    assert_eq!(welcome.clock_rights, Some(true));
    operator
        .send(&ClientMessage::Clock {
            paused: true,
            speed: 1,
        })
        .await;
    let clock = loop {
        if let ServerMessage::Clock(clock) = visitor.next().await {
            break clock;
        }
    };
    assert!(clock.paused);
    assert_eq!(clock.by.map(|m| m.name), Some("ops".to_string()));
    drop(operator);

    // Launches into the paused room: 409 with the reason, at once, every time; none waits.
    for _ in 0..5 {
        let (status, body, took) = relay.post(LAUNCH).await;
        assert_eq!(status, 409, "{body}");
        assert_eq!(body["reason"], "room-paused", "{body}");
        assert_eq!(body["room"], "public", "{body}");
        assert!(
            body["error"]
                .as_str()
                .unwrap()
                .contains("room public is paused"),
            "{body}"
        );
        assert!(took < Duration::from_secs(1), "answered in {took:?}");
    }
    // Still paused after the operator left: the operators own the clock.
    let (tick, paused, _) = pong(&mut visitor, 2).await;
    assert!(paused);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(pong(&mut visitor, 3).await.0, tick);

    // An operator resumes it; launches fly again.
    let (mut operator, _) = Client::join(&public, "ops", Role::Attacker, Some(OPERATOR)).await;
    operator
        .send(&ClientMessage::Clock {
            paused: false,
            speed: 2,
        })
        .await;
    let (status, body) = loop {
        let (status, body, _) = relay.post(LAUNCH).await;
        if status != 409 {
            break (status, body);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(status, 200, "{body}");
}

/// Without an operator token nobody may set the public room's clock, whatever token they
/// bring.
#[tokio::test]
async fn without_an_operator_token_nobody_sets_the_public_room_clock() {
    let relay = start(&[]).await;
    let (mut member, _) =
        Client::join(&relay.url("public"), "Ada", Role::Attacker, Some(OPERATOR)).await;
    member
        .send(&ClientMessage::Clock {
            paused: true,
            speed: 1,
        })
        .await;
    assert!(
        next_error(&mut member)
            .await
            .contains("belongs to its operators")
    );
    assert!(!pong(&mut member, 1).await.1);
}

/// Launches that would wait for a referee past `--launch-waiting` are answered 503 with
/// `Retry-After` at once, and counted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn launches_past_the_waiting_bound_answer_503_at_once() {
    let relay = start(&["--launch-waiting", "1"]).await;
    // The first solve, then concurrent launches: each waits three ticks (300 ms) for the
    // referee, so all but about one find the waiting line full.
    let (status, body, _) = relay.post(LAUNCH).await;
    assert_eq!(status, 200, "{body}");
    let mut launches = tokio::task::JoinSet::new();
    let addr = relay.addr;
    for _ in 0..6 {
        launches.spawn(async move {
            let started = Instant::now();
            let (status, body) = http(addr, "POST", LAUNCH).await;
            (status, body, started.elapsed())
        });
    }
    let mut refused = 0;
    while let Some(answer) = launches.join_next().await {
        let (status, body, took) = answer.unwrap();
        let body: Value = serde_json::from_str(&body).unwrap();
        match status {
            200 => {}
            503 => {
                refused += 1;
                assert!(
                    body["error"]
                        .as_str()
                        .unwrap()
                        .contains("1 launches already wait for the room's referee"),
                    "{body}"
                );
                assert_eq!(body["retry_after_s"], 1, "{body}");
                assert!(took < Duration::from_secs(1), "answered in {took:?}");
            }
            other => panic!("{other}: {body}"),
        }
    }
    assert!(refused >= 3, "only {refused} of 6 refused");
    assert_eq!(
        relay.metric(r#"relay_overload_total{reason="room-backlog"}"#),
        f64::from(refused)
    );
}
