//! `ws-load`: a bounded websocket load test of the relay's rooms, aimed at loopback only.
//!
//! ```sh
//! ws-load --url http://127.0.0.1:8080 [--url http://127.0.0.1:8081] \
//!         --clients 20 --rooms 4 --rate 20 --duration 10 [--json]
//! ```
//!
//! Creates ROOMS private rooms on the first relay (`POST /api/rooms`), joins CLIENTS players to
//! them (client `i` joins room `i % ROOMS` on relay `(i / ROOMS) % URLS`, so with two URLs on
//! one NATS every room has members on both relays), and for DURATION seconds lets the first
//! member of each room send pre-solved launches, RATE per second over all rooms. Each launch
//! carries a unique label; every member records when its stamped echo arrives. The report
//! gives the fan-out latency (from a command sent to its stamped echo at each member of the
//! room): p50, p99 and max over all deliveries, and the errors: refusals and other error
//! messages, connections that failed or ended, and deliveries still missing two seconds after
//! the last command.
//!
//! Bounds: at most 1,000 clients, 200 rooms, 1,000 commands per second, 600 s; only
//! `127.0.0.1`, `localhost` and `[::1]` are accepted as hosts, so it cannot be pointed at
//! someone else's server.

use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use sim_core::earth::GeoPoint;
use sim_core::engine::LaunchCommand;
use sim_core::flight::PhysicsParams;
use sim_core::protocol::{ClientMessage, Role, ServerMessage, decode_server};
use sim_core::targeting::{self, TargetingRequest};
use sim_core::{Command, MissileKind};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

/// A bounded websocket load test of relay rooms (loopback only).
#[derive(Debug, Parser)]
#[command(name = "ws-load", version)]
struct Args {
    /// Relay base URL (http://127.0.0.1:PORT); repeat to spread clients over relays sharing
    /// rooms over NATS. Rooms are created on the first.
    #[arg(long = "url", required = true)]
    urls: Vec<String>,
    /// Websocket clients in all.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=1000))]
    clients: u32,
    /// Rooms the clients are spread over.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=200))]
    rooms: u32,
    /// Commands per second over all rooms.
    #[arg(long, default_value_t = 20.0)]
    rate: f64,
    /// Seconds of sending.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Print the report as one JSON object (otherwise one readable line).
    #[arg(long)]
    json: bool,
}

/// `host:port` of an `http://` or `ws://` URL on loopback, or why it is refused.
fn loopback_authority(url: &str) -> Result<String, String> {
    relay_server::loopback::authority(url, &["http://", "ws://"], "ws-load")
}

fn check(args: &Args) -> Result<Vec<String>, String> {
    if !(args.rate.is_finite() && args.rate > 0.0 && args.rate <= 1000.0) {
        return Err(format!("--rate {} must be in (0, 1000]", args.rate));
    }
    if !(args.duration.is_finite() && args.duration > 0.0 && args.duration <= 600.0) {
        return Err(format!(
            "--duration {} must be in (0, 600] seconds",
            args.duration
        ));
    }
    if args.rooms > args.clients {
        return Err(format!(
            "--rooms {} exceeds --clients {}: every room needs a member",
            args.rooms, args.clients
        ));
    }
    args.urls.iter().map(|u| loopback_authority(u)).collect()
}

/// `POST /api/rooms` over a bare HTTP/1.1 connection: the room id and its token.
async fn create_room(authority: &str) -> Result<(String, String), String> {
    let mut stream = TcpStream::connect(authority)
        .await
        .map_err(|e| format!("cannot connect to {authority}: {e}"))?;
    let request = format!(
        "POST /api/rooms HTTP/1.1\r\nHost: {authority}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .await
        .map_err(|e| e.to_string())?;
    let body = response.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    let created: Value = serde_json::from_str(body)
        .map_err(|_| format!("POST /api/rooms on {authority} answered: {response:.200}"))?;
    match (created["room"].as_str(), created["token"].as_str()) {
        (Some(room), Some(token)) => Ok((room.to_string(), token.to_string())),
        _ => Err(format!(
            "POST /api/rooms on {authority} answered: {body:.200}"
        )),
    }
}

/// What every client task adds to.
#[derive(Default)]
struct Tally {
    /// Label -> when it was sent.
    sent: HashMap<u64, Instant>,
    latencies_ms: Vec<f64>,
    /// Per room: deliveries expected (members at send time x commands).
    expected: u64,
    errors: Vec<String>,
}

type Shared = Arc<Mutex<Tally>>;

fn lock(shared: &Shared) -> std::sync::MutexGuard<'_, Tally> {
    shared.lock().unwrap_or_else(|p| p.into_inner())
}

fn record_error(shared: &Shared, error: String) {
    let mut tally = lock(shared);
    if tally.errors.len() < 1000 {
        tally.errors.push(error);
    }
}

/// The label of a launch (other commands have none).
fn label_of(command: &Command) -> Option<u64> {
    let Command::Launch(l) = command else {
        return None;
    };
    l.label.as_deref()?.strip_prefix("load-")?.parse().ok()
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>;

/// Joins `room` on `authority` with a hello; returns the socket after its welcome.
async fn join(authority: &str, room: &str, token: &str, name: String) -> Result<Socket, String> {
    let url = format!("ws://{authority}/ws/rooms/{room}");
    let (mut ws, _) = tokio_tungstenite::connect_async(&url)
        .await
        .map_err(|e| format!("cannot open {url}: {e}"))?;
    let hello = ClientMessage::Hello {
        name,
        role: Role::Attacker,
        token: Some(token.to_string()),
    };
    ws.send(Message::text(hello.to_json()))
        .await
        .map_err(|e| e.to_string())?;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, ws.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => match decode_server(text.as_str()) {
                Ok(ServerMessage::Welcome { .. }) => return Ok(ws),
                Ok(ServerMessage::Error { message }) => return Err(message),
                _ => {}
            },
            Ok(Some(Ok(_))) => {}
            _ => return Err(format!("no welcome from {url}")),
        }
    }
}

/// Reads a member's messages until `stop`, recording echo latencies and errors.
async fn read(
    mut stream: futures_util::stream::SplitStream<Socket>,
    shared: Shared,
    stop: Instant,
) {
    loop {
        let left = stop.saturating_duration_since(Instant::now());
        let frame = match tokio::time::timeout(left, stream.next()).await {
            Err(_) => return,
            Ok(Some(Ok(frame))) => frame,
            Ok(Some(Err(e))) => return record_error(&shared, format!("connection failed: {e}")),
            Ok(None) => return record_error(&shared, "connection ended".into()),
        };
        let arrived = Instant::now();
        let Message::Text(text) = frame else {
            if let Message::Close(frame) = frame {
                let reason = frame.map(|f| f.reason.to_string()).unwrap_or_default();
                return record_error(&shared, format!("closed by the relay: {reason}"));
            }
            continue;
        };
        match decode_server(text.as_str()) {
            Ok(ServerMessage::Command(c)) => {
                if let Some(label) = label_of(&c.command) {
                    let mut tally = lock(&shared);
                    if let Some(sent) = tally.sent.get(&label).copied() {
                        tally
                            .latencies_ms
                            .push((arrived - sent).as_secs_f64() * 1e3);
                    }
                }
            }
            Ok(ServerMessage::Error { message }) => record_error(&shared, message),
            Ok(_) => {}
            Err(e) => record_error(&shared, format!("undecodable message: {e}")),
        }
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

async fn run(args: Args, authorities: Vec<String>) -> Result<Value, String> {
    let request = TargetingRequest {
        kind: MissileKind::ScudB,
        from: GeoPoint::new(35.0, 45.0),
        to: GeoPoint::new(33.0, 44.0),
        profile: Default::default(),
    };
    let guidance = targeting::solve(&request, &PhysicsParams::default())
        .map_err(|e| e.to_string())?
        .guidance;
    let mut rooms = Vec::new();
    for _ in 0..args.rooms {
        rooms.push(create_room(&authorities[0]).await?);
    }
    // Join everyone first; sockets grouped by room.
    let mut members: Vec<Vec<Socket>> = (0..args.rooms).map(|_| Vec::new()).collect();
    for i in 0..args.clients as usize {
        let r = i % rooms.len();
        let relay = &authorities[(i / rooms.len()) % authorities.len()];
        let (room, token) = &rooms[r];
        members[r].push(join(relay, room, token, format!("load{i}")).await?);
    }
    let shared: Shared = Arc::default();
    let duration = Duration::from_secs_f64(args.duration);
    let start = Instant::now();
    let stop = start + duration + Duration::from_secs(2);
    let per_room_interval = Duration::from_secs_f64(f64::from(args.rooms) / args.rate);
    let mut tasks = Vec::new();
    for (r, sockets) in members.into_iter().enumerate() {
        let size = sockets.len() as u64;
        let mut sender = None;
        for (k, ws) in sockets.into_iter().enumerate() {
            let (sink, stream) = ws.split();
            if k == 0 {
                sender = Some(sink);
            }
            tasks.push(tokio::spawn(read(stream, shared.clone(), stop)));
        }
        let Some(mut sink) = sender else { continue };
        let shared = shared.clone();
        // Labels are unique over rooms: room r uses r, r + rooms, r + 2 rooms, ...
        let stride = u64::from(args.rooms);
        let mut label = r as u64;
        tasks.push(tokio::spawn(async move {
            // Rooms start their sending staggered over one interval.
            let offset = per_room_interval.mul_f64(r as f64 / stride as f64);
            let mut pace =
                tokio::time::interval_at(tokio::time::Instant::now() + offset, per_room_interval);
            loop {
                pace.tick().await;
                if start.elapsed() >= duration {
                    break;
                }
                let command = Command::Launch(LaunchCommand {
                    missile: request.kind,
                    from: request.from,
                    to: request.to,
                    profile: request.profile,
                    label: Some(format!("load-{label}")),
                    guidance: Some(guidance),
                });
                {
                    let mut tally = lock(&shared);
                    tally.sent.insert(label, Instant::now());
                    tally.expected += size;
                }
                if let Err(e) = sink
                    .send(Message::text(ClientMessage::Command { command }.to_json()))
                    .await
                {
                    record_error(&shared, format!("send failed: {e}"));
                    break;
                }
                label += stride;
            }
            // Keep the sender's socket open until its own reader has stopped, so the close
            // is not mistaken for a failure.
            tokio::time::sleep_until((stop + Duration::from_millis(500)).into()).await;
            let _ = sink.close().await;
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
    let tally = lock(&shared);
    let mut latencies = tally.latencies_ms.clone();
    latencies.sort_by(f64::total_cmp);
    let deliveries = latencies.len() as u64;
    let missing = tally.expected.saturating_sub(deliveries);
    let mut errors = tally.errors.clone();
    if missing > 0 {
        errors.push(format!("{missing} deliveries missing"));
    }
    let error_count = tally.errors.len() as u64 + missing;
    Ok(json!({
        "clients": args.clients,
        "rooms": args.rooms,
        "relays": authorities.len(),
        "rate_per_s": args.rate,
        "duration_s": args.duration,
        "commands_sent": tally.sent.len(),
        "expected_deliveries": tally.expected,
        "deliveries": deliveries,
        "missing": missing,
        "errors": error_count,
        "error_samples": errors.iter().take(5).collect::<Vec<_>>(),
        "latency_ms": {
            "p50": percentile(&latencies, 0.50),
            "p99": percentile(&latencies, 0.99),
            "max": latencies.last().copied().unwrap_or(f64::NAN),
        },
    }))
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let authorities = match check(&args) {
        Ok(a) => a,
        Err(message) => {
            eprintln!("ws-load: {message}");
            return ExitCode::from(2);
        }
    };
    let json_out = args.json;
    let report = match run(args, authorities).await {
        Ok(report) => report,
        Err(message) => {
            eprintln!("ws-load: {message}");
            return ExitCode::FAILURE;
        }
    };
    if json_out {
        println!("{report}");
    } else {
        let l = &report["latency_ms"];
        println!(
            "{} clients in {} rooms on {} relay(s), {} commands/s for {} s: {} commands, {} of {} \
             deliveries; fan-out latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; {} errors {}",
            report["clients"],
            report["rooms"],
            report["relays"],
            report["rate_per_s"],
            report["duration_s"],
            report["commands_sent"],
            report["deliveries"],
            report["expected_deliveries"],
            l["p50"].as_f64().unwrap_or(f64::NAN),
            l["p99"].as_f64().unwrap_or(f64::NAN),
            l["max"].as_f64().unwrap_or(f64::NAN),
            report["errors"],
            report["error_samples"],
        );
    }
    if report["errors"].as_u64() == Some(0) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_urls_are_accepted() {
        assert_eq!(
            loopback_authority("http://127.0.0.1:8080").unwrap(),
            "127.0.0.1:8080"
        );
        assert!(loopback_authority("ws://localhost:1/x").is_ok());
        assert!(loopback_authority("http://[::1]:80").is_ok());
        for bad in [
            "http://example.com:80",
            "http://127.0.0.1",
            "http://127.0.0.1.evil.example:80",
            "http://10.0.0.1:8080",
            "ftp://127.0.0.1:21",
            "http://user@127.0.0.1:80",
        ] {
            assert!(loopback_authority(bad).is_err(), "{bad}");
        }
    }
}
