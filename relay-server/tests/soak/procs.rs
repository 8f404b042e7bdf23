//! The soak's processes and probes: relay binaries on fixed ports (killed with SIGKILL and
//! started again on the same port), their memory from `/proc`, HTTP requests that report a
//! refused connection instead of panicking, and rounds of the project's `ws-load` tool.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::TempDir;
use crate::common::services::free_port;

const RELAY_BIN: &str = env!("CARGO_BIN_EXE_relay-server");
const WS_LOAD_BIN: &str = env!("CARGO_BIN_EXE_ws-load");

/// A `relay-server` process on NATS and PostgreSQL, on a port it keeps across restarts.
pub struct Relay {
    /// `A` or `B`, for the report.
    pub name: &'static str,
    /// Its address on loopback.
    pub addr: SocketAddr,
    args: Vec<String>,
    child: Option<Child>,
    /// Its SQLite dir (unused with PostgreSQL, but kept out of the tree) and its log.
    dir: TempDir,
    /// Times it was started.
    pub starts: u32,
}

impl Relay {
    /// Starts the binary on a free port, serving `dist`, on `nats_url` and `database_url`.
    pub fn start(
        name: &'static str,
        dist: &std::path::Path,
        nats_url: &str,
        database_url: &str,
    ) -> Self {
        let port = free_port();
        let dir = TempDir::new(&format!("soak-relay-{name}"));
        // `MDSIM_SOAK_RELAY_LOG` (a `--log-level` filter) to look closer at a failed run.
        let log_level = std::env::var("MDSIM_SOAK_RELAY_LOG").unwrap_or_else(|_| "warn".into());
        let args = [
            "--bind",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--nats-url",
            nats_url,
            "--database-url",
            database_url,
            "--log-level",
            &log_level,
            "--dist-dir",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain([dist.display().to_string()])
        .chain(["--data-dir".to_string(), dir.path().display().to_string()])
        .collect();
        let mut relay = Self {
            name,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            args,
            child: None,
            dir,
            starts: 0,
        };
        relay.restart();
        relay
    }

    /// Its log (stderr of every run, appended).
    pub fn log(&self) -> PathBuf {
        self.dir.path().join("relay.log")
    }

    /// The process id of the running relay.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Kills the relay with SIGKILL, as a crash or the OOM killer would.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the relay on its port and waits for its `listening on` line; retried while the
    /// port is still held by the process just killed.
    pub fn restart(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let log = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(self.log())
                .expect("open the relay log");
            let mut child = Command::new(RELAY_BIN)
                .args(&self.args)
                .env_remove("MDSIM_PORT")
                .env_remove("MDSIM_OPERATOR_TOKEN")
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(log)
                .spawn()
                .expect("spawn relay-server");
            let stdout = child.stdout.take().expect("piped stdout");
            let (tx, rx) = mpsc::channel();
            std::thread::spawn(move || {
                // Reads stdout to its end so the relay never blocks on a full pipe.
                for line in BufReader::new(stdout).lines() {
                    let Ok(line) = line else { break };
                    let _ = tx.send(line);
                }
            });
            match rx.recv_timeout(Duration::from_secs(20)) {
                Ok(line) if line.starts_with("listening on") => {
                    self.child = Some(child);
                    self.starts += 1;
                    return;
                }
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                }
            }
            assert!(
                Instant::now() < deadline,
                "relay {} did not start on {}; see {}",
                self.name,
                self.addr,
                self.log().display()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Its resident memory in KiB (`VmRSS` in `/proc/PID/status`).
    pub fn rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()?)).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One HTTP/1.1 request with `Connection: close`; `Err` on a refused or broken connection or
/// after 10 s, so that load goes on while a relay is down.
pub async fn request(addr: SocketAddr, method: &str, path: &str) -> Result<(u16, String), String> {
    let exchange = async {
        let mut stream = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
        stream
            .write_all(head.as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        let mut raw = Vec::new();
        stream
            .read_to_end(&mut raw)
            .await
            .map_err(|e| e.to_string())?;
        let text = String::from_utf8_lossy(&raw);
        let status = text
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("no status line in {:.80}", text))?;
        let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
        Ok((status, body.to_string()))
    };
    tokio::time::timeout(Duration::from_secs(10), exchange)
        .await
        .map_err(|_| "no answer in 10 s".to_string())?
}

/// The value of an unlabelled metric of the relay at `addr`, if it answers.
pub async fn metric(addr: SocketAddr, name: &str) -> Option<f64> {
    let (status, body) = request(addr, "GET", "/metrics").await.ok()?;
    if status != 200 {
        return None;
    }
    let prefix = format!("{name} ");
    body.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .and_then(|v| v.trim().parse().ok())
}

/// What the `ws-load` rounds added up to.
#[derive(Debug, Default, Clone)]
pub struct WsTotals {
    pub rounds: u64,
    /// Rounds that could not start (a relay down when rooms were created or joined).
    pub failed_starts: u64,
    pub commands: u64,
    pub deliveries: u64,
    pub missing: u64,
    pub errors: u64,
}

/// Runs one bounded `ws-load` round against `urls` (blocking) and adds its JSON report.
pub fn ws_load_round(urls: &[String], seconds: f64, totals: &mut WsTotals) {
    let mut cmd = Command::new(WS_LOAD_BIN);
    for url in urls {
        cmd.arg("--url").arg(url);
    }
    let out = cmd
        .args(["--clients", "8", "--rooms", "2", "--rate", "4", "--json"])
        .arg("--duration")
        .arg(format!("{seconds:.1}"))
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output();
    let report: Option<Value> = out
        .ok()
        .and_then(|o| serde_json::from_slice(&o.stdout).ok());
    let Some(r) = report else {
        totals.failed_starts += 1;
        return;
    };
    let n = |k: &str| r[k].as_u64().unwrap_or(0);
    totals.rounds += 1;
    totals.commands += n("commands_sent");
    totals.deliveries += n("deliveries");
    totals.missing += n("missing");
    totals.errors += n("errors");
}
