//! Websocket fan-out latency of one room, measured in process on loopback:
//! `cargo run --release -p relay-server --example fanout -- [CLIENTS] [COMMANDS]`.
//!
//! Starts the relay on an ephemeral 127.0.0.1 port, joins CLIENTS players to one private room,
//! lets the first send COMMANDS launches (pre-solved, so the relay does not solve them) at
//! 20 per second, and reports the time from sending each command to its arrival at every
//! client: p50, p99 and max, over CLIENTS x COMMANDS deliveries. Only loopback is used.

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use relay_server::{AppState, Config, server};
use sim_core::earth::GeoPoint;
use sim_core::engine::LaunchCommand;
use sim_core::flight::PhysicsParams;
use sim_core::protocol::{ClientMessage, Role, ServerMessage, decode_server};
use sim_core::targeting::{self, TargetingRequest};
use sim_core::{Command, MissileKind};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let clients: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(20);
    let commands: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100);
    if !(1..=60).contains(&clients) || !(1..=10_000).contains(&commands) {
        eprintln!("usage: fanout [CLIENTS 1-60] [COMMANDS 1-10000]");
        std::process::exit(2);
    }

    let mut config = Config::with_dist_dir("/nonexistent");
    config.ws_rate = 1_000;
    config.ws_burst = 1_000;
    let state = AppState::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    let serving = state.clone();
    tokio::spawn(async move { server::serve(listener, serving, std::future::pending()).await });
    let (room, token) = state.rooms().create().expect("room");
    let url = format!("ws://{addr}/ws/rooms/{}", room.id());

    let request = TargetingRequest {
        kind: MissileKind::ScudB,
        from: GeoPoint::new(35.0, 45.0),
        to: GeoPoint::new(33.0, 44.0),
        profile: Default::default(),
    };
    let guidance = targeting::solve(&request, &PhysicsParams::default())
        .expect("solvable")
        .guidance;

    let mut sockets = Vec::new();
    for i in 0..clients {
        let (mut ws, _) = tokio_tungstenite::connect_async(&url)
            .await
            .expect("connect");
        let hello = ClientMessage::Hello {
            name: format!("c{i}"),
            role: Role::Attacker,
            token: Some(token.clone()),
        };
        ws.send(Message::text(hello.to_json()))
            .await
            .expect("hello");
        sockets.push(ws);
    }

    // Each receiver records (label -> arrival instant) for every command it sees.
    let start = Instant::now();
    let mut receivers = Vec::new();
    let mut sender = None;
    for (i, ws) in sockets.into_iter().enumerate() {
        let (sink, mut stream) = ws.split();
        if i == 0 {
            sender = Some(sink);
        }
        receivers.push(tokio::spawn(async move {
            let mut arrivals = vec![None; commands];
            let mut seen = 0;
            while seen < commands {
                let Ok(Some(Ok(frame))) =
                    tokio::time::timeout(Duration::from_secs(30), stream.next()).await
                else {
                    break;
                };
                let Message::Text(text) = frame else { continue };
                if let Ok(ServerMessage::Command(c)) = decode_server(text.as_str())
                    && let Some(n) = label_of(&c.command).and_then(|s| s.parse::<usize>().ok())
                    && n < commands
                {
                    arrivals[n] = Some(start.elapsed());
                    seen += 1;
                }
            }
            arrivals
        }));
    }
    let mut sink = sender.expect("one client");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut sent = Vec::with_capacity(commands);
    let mut pace = tokio::time::interval(Duration::from_millis(50));
    for n in 0..commands {
        pace.tick().await;
        let command = Command::Launch(LaunchCommand {
            missile: request.kind,
            from: request.from,
            to: request.to,
            profile: request.profile,
            label: Some(n.to_string()),
            guidance: Some(guidance),
        });
        sent.push(start.elapsed());
        sink.send(Message::text(ClientMessage::Command { command }.to_json()))
            .await
            .expect("send");
    }

    let mut latencies = Vec::new();
    let mut missing = 0;
    for r in receivers {
        for (n, arrival) in r.await.expect("receiver").into_iter().enumerate() {
            match arrival {
                Some(t) => latencies.push((t - sent[n]).as_secs_f64() * 1e3),
                None => missing += 1,
            }
        }
    }
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| latencies[((latencies.len() - 1) as f64 * p) as usize];
    if latencies.is_empty() {
        println!("no command arrived; {missing} missing");
        return;
    }
    println!(
        "{clients} clients, 1 room, {commands} commands at 20/s: {} deliveries, {missing} missing; \
         latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; evictions {}",
        latencies.len(),
        pct(0.5),
        pct(0.99),
        latencies[latencies.len() - 1],
        state.metrics().rooms().evictions.get()
    );
}

/// The label of a launch (other commands have none).
fn label_of(command: &Command) -> Option<&str> {
    let Command::Launch(l) = command else {
        return None;
    };
    l.label.as_deref()
}
