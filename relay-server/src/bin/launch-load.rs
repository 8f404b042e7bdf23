//! `launch-load`: a bounded `POST /launch` load test of the relay, aimed at loopback only.
//!
//! ```sh
//! launch-load --url http://127.0.0.1:8080 --connections 50 --duration 20 \
//!             [--mode locust|random] [--seed N] [--json]
//! ```
//!
//! Opens CONNECTIONS keep-alive HTTP/1.1 connections and, on each, posts launches one after
//! the other for DURATION seconds (with `--rate R`, R launches per second over all
//! connections, each connection keeping its share of the schedule; as fast as answers come
//! otherwise). `--mode locust` (the default) sends the old Locust request
//! every time (SCUD-C from 36.5N 123.1W at Los Angeles); `--mode random` sends distinct random
//! launches within range: a SCUD-B, SCUD-C or Nodong-class missile from a random site between
//! 60S and 60N at a target at a random bearing and a distance between 1.2 times the class's
//! minimum range and 0.8 times its maximum (seeded xorshift, so a run can be repeated).
//!
//! A connection answered 503 waits as `Retry-After` says before its next launch (as a polite
//! client would; `--ignore-retry-after` retries at once, as wrk and Locust do).
//!
//! The report gives the answers by status, launches per second (2xx) and answers per second,
//! the latency p50/p99/max of all answers, the distinct missile ids answered (equal to the 2xx
//! count unless ids were reused), 503s without `Retry-After` (should be 0) and transport
//! errors. Exit status 0 when the run finished, whatever the answers; 2 for bad arguments.
//!
//! Bounds: at most 512 connections and 600 s; only `127.0.0.1`, `localhost` and `[::1]` are
//! accepted as hosts, so it cannot be pointed at someone else's server.

use std::collections::{BTreeMap, BTreeSet};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use serde_json::{Value, json};
use sim_core::MissileKind;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// What to launch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Mode {
    /// The old Locust request, every time.
    Locust,
    /// Distinct random launches within range.
    Random,
}

/// A bounded `POST /launch` load test of the relay (loopback only).
#[derive(Debug, Parser)]
#[command(name = "launch-load", version)]
struct Args {
    /// Relay base URL (http://127.0.0.1:PORT).
    #[arg(long)]
    url: String,
    /// Keep-alive connections, each posting one launch at a time.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=512))]
    connections: u32,
    /// Seconds of posting.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// What to launch.
    #[arg(long, value_enum, default_value_t = Mode::Locust)]
    mode: Mode,
    /// Seed of the random launches.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Launches per second over all connections (0: as fast as the answers come).
    #[arg(long, default_value_t = 0.0)]
    rate: f64,
    /// Retry at once after a 503 instead of waiting as its `Retry-After` says.
    #[arg(long)]
    ignore_retry_after: bool,
    /// Print the report as one JSON object (otherwise one readable line).
    #[arg(long)]
    json: bool,
}

/// `host:port` of an `http://` URL on loopback, or why it is refused.
fn loopback_authority(url: &str) -> Result<String, String> {
    relay_server::loopback::authority(url, &["http://"], "launch-load")
}

/// The old locustfile's launch.
const LOCUST: &str =
    "/launch?lat=36.5&lon=-123.1&targetLat=34.05&targetLon=-118.25&missileType=SCUD-C";

/// Mean Earth radius for placing random targets (m); the 0.8 margin on the reach covers the
/// difference from the solver's own figures.
const EARTH_RADIUS_M: f64 = 6_371_000.0;

/// xorshift64*: enough for spreading launches, no dependency.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    }

    fn between(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }
}

/// A random launch within range: its path and query.
fn random_launch(rng: &mut Rng) -> String {
    let kinds = [MissileKind::ScudB, MissileKind::ScudC, MissileKind::Nodong];
    let kind = kinds[(rng.unit() * kinds.len() as f64) as usize % kinds.len()];
    let s = kind.params();
    let lat1 = rng.between(-60.0, 60.0).to_radians();
    let lon1 = rng.between(-180.0, 180.0).to_radians();
    let bearing = rng.between(0.0, 360.0).to_radians();
    let distance = rng.between(1.2 * s.min_range_m, 0.8 * s.max_range_m);
    // The direct problem on a sphere.
    let d = distance / EARTH_RADIUS_M;
    let lat2 = (lat1.sin() * d.cos() + lat1.cos() * d.sin() * bearing.cos()).asin();
    let lon2 =
        lon1 + (bearing.sin() * d.sin() * lat1.cos()).atan2(d.cos() - lat1.sin() * lat2.sin());
    let wrap = |lon: f64| (lon.to_degrees() + 540.0).rem_euclid(360.0) - 180.0;
    format!(
        "/launch?lat={:.6}&lon={:.6}&targetLat={:.6}&targetLon={:.6}&missileType={}",
        lat1.to_degrees(),
        wrap(lon1),
        lat2.to_degrees(),
        wrap(lon2),
        kind.name()
    )
}

/// One answer: status, its `Retry-After` (seconds) if any, and the body.
struct Answer {
    status: u16,
    retry_after: Option<u64>,
    body: Vec<u8>,
}

/// Posts `path` on `conn` and reads the answer (which must carry a `Content-Length`).
async fn post(
    conn: &mut BufReader<TcpStream>,
    authority: &str,
    path: &str,
) -> Result<Answer, String> {
    let request = format!("POST {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Length: 0\r\n\r\n");
    conn.get_mut()
        .write_all(request.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let mut line = String::new();
    conn.read_line(&mut line).await.map_err(|e| e.to_string())?;
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("bad status line {line:?}"))?;
    let mut length = None;
    let mut retry_after = None;
    loop {
        line.clear();
        conn.read_line(&mut line).await.map_err(|e| e.to_string())?;
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse::<usize>().ok();
            } else if name.eq_ignore_ascii_case("retry-after") {
                retry_after = Some(value.trim().parse::<u64>().unwrap_or(1));
            }
        }
    }
    let length = length.ok_or("an answer without Content-Length")?;
    if length > 1 << 20 {
        return Err(format!("an answer of {length} bytes"));
    }
    let mut body = vec![0; length];
    conn.read_exact(&mut body)
        .await
        .map_err(|e| e.to_string())?;
    Ok(Answer {
        status,
        retry_after,
        body,
    })
}

#[derive(Default)]
struct Tally {
    statuses: BTreeMap<u16, u64>,
    latencies_ms: Vec<f64>,
    missile_ids: BTreeSet<(String, String)>,
    busy_without_retry_after: u64,
    errors: Vec<String>,
}

async fn connection(
    authority: String,
    mode: Mode,
    seed: u64,
    until: Instant,
    polite: bool,
    period: Option<Duration>,
) -> Tally {
    let mut tally = Tally::default();
    let mut rng = Rng::new(seed);
    let mut conn = None;
    let mut next = Instant::now();
    while Instant::now() < until {
        if let Some(period) = period {
            // The schedule, not the answers, sets the pace (late answers do not slow it).
            tokio::time::sleep_until(next.into()).await;
            next += period;
            if Instant::now() >= until {
                break;
            }
        }
        let c = match conn.as_mut() {
            Some(c) => c,
            None => match TcpStream::connect(&authority).await {
                Ok(s) => conn.insert(BufReader::new(s)),
                Err(e) => {
                    tally.errors.push(format!("cannot connect: {e}"));
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let path = match mode {
            Mode::Locust => LOCUST.to_string(),
            Mode::Random => random_launch(&mut rng),
        };
        let started = Instant::now();
        match post(c, &authority, &path).await {
            Ok(answer) => {
                tally
                    .latencies_ms
                    .push(started.elapsed().as_secs_f64() * 1000.0);
                *tally.statuses.entry(answer.status).or_default() += 1;
                if answer.status == 503 {
                    match answer.retry_after {
                        None => tally.busy_without_retry_after += 1,
                        Some(s) if polite => {
                            let wake = Instant::now() + Duration::from_secs(s.min(10));
                            tokio::time::sleep_until(wake.min(until).into()).await;
                        }
                        Some(_) => {}
                    }
                }
                if (200..300).contains(&answer.status) {
                    let body: Value = serde_json::from_slice(&answer.body).unwrap_or(Value::Null);
                    match (body["room"].as_str(), body["missile_id"].as_str()) {
                        (Some(room), Some(id)) => {
                            tally.missile_ids.insert((room.to_string(), id.to_string()));
                        }
                        _ => tally
                            .errors
                            .push("a 2xx answer without a missile id".into()),
                    }
                }
            }
            Err(e) => {
                tally.errors.push(e);
                conn = None;
            }
        }
    }
    tally
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let authority = match loopback_authority(&args.url) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("launch-load: {e}");
            return ExitCode::from(2);
        }
    };
    if !(args.duration.is_finite() && args.duration > 0.0 && args.duration <= 600.0) {
        eprintln!(
            "launch-load: --duration {} must be in (0, 600] seconds",
            args.duration
        );
        return ExitCode::from(2);
    }
    if !(args.rate.is_finite() && (0.0..=100_000.0).contains(&args.rate)) {
        eprintln!("launch-load: --rate {} must be in [0, 100000]", args.rate);
        return ExitCode::from(2);
    }
    let period =
        (args.rate > 0.0).then(|| Duration::from_secs_f64(f64::from(args.connections) / args.rate));
    let started = Instant::now();
    let until = started + Duration::from_secs_f64(args.duration);
    let tasks: Vec<_> = (0..args.connections)
        .map(|i| {
            tokio::spawn(connection(
                authority.clone(),
                args.mode,
                args.seed.wrapping_add(u64::from(i) << 32),
                until,
                !args.ignore_retry_after,
                period,
            ))
        })
        .collect();
    let mut all = Tally::default();
    for task in tasks {
        let Ok(t) = task.await else {
            all.errors.push("a connection task failed".into());
            continue;
        };
        for (status, n) in t.statuses {
            *all.statuses.entry(status).or_default() += n;
        }
        all.latencies_ms.extend(t.latencies_ms);
        all.missile_ids.extend(t.missile_ids);
        all.busy_without_retry_after += t.busy_without_retry_after;
        all.errors.extend(t.errors);
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.latencies_ms.sort_by(f64::total_cmp);
    let answers: u64 = all.statuses.values().sum();
    let launched: u64 = all
        .statuses
        .iter()
        .filter(|(s, _)| (200..300).contains(*s))
        .map(|(_, n)| n)
        .sum();
    let report = json!({
        "mode": format!("{:?}", args.mode).to_lowercase(),
        "connections": args.connections,
        "seconds": elapsed,
        "answers": answers,
        "statuses": all.statuses.iter().map(|(s, n)| (s.to_string(), json!(n))).collect::<serde_json::Map<_, _>>(),
        "launched": launched,
        "launches_per_s": launched as f64 / elapsed,
        "answers_per_s": answers as f64 / elapsed,
        "distinct_missile_ids": all.missile_ids.len(),
        "busy_without_retry_after": all.busy_without_retry_after,
        "latency_ms": {
            "p50": percentile(&all.latencies_ms, 0.5),
            "p99": percentile(&all.latencies_ms, 0.99),
            "max": all.latencies_ms.last().copied().unwrap_or(0.0),
        },
        "errors": all.errors.len(),
        "first_error": all.errors.first(),
    });
    if args.json {
        println!("{report}");
    } else {
        println!(
            "{launched} launches in {elapsed:.1} s: {:.0} launches/s, {:.0} answers/s, \
             p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; statuses {}; {} transport errors",
            launched as f64 / elapsed,
            answers as f64 / elapsed,
            percentile(&all.latencies_ms, 0.5),
            percentile(&all.latencies_ms, 0.99),
            all.latencies_ms.last().copied().unwrap_or(0.0),
            report["statuses"],
            all.errors.len(),
        );
    }
    ExitCode::SUCCESS
}
