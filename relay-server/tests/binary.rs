//! Tests of the real `relay-server` binary: it announces its URL on stdout, answers over a
//! real socket, stops cleanly on SIGTERM and Ctrl-C, and fails with one clear sentence when
//! the port is taken or the build is missing.
//!
//! Every server is started on port 0 (the kernel picks a free one) against its own temp dist
//! directory, and killed on drop if a test fails half-way, so tests run in parallel safely.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{HASHED_WASM, INDEX_HTML, TempDir, dist_fixture};

const BIN: &str = env!("CARGO_BIN_EXE_relay-server");
const START_TIMEOUT: Duration = Duration::from_secs(20);
const STOP_TIMEOUT: Duration = Duration::from_secs(5);

/// A running relay; killed on drop unless it already exited.
struct Relay {
    child: Child,
    addr: SocketAddr,
    /// Its SQLite directory, kept out of the source tree and removed after the relay.
    _data: TempDir,
}

impl Relay {
    /// Starts the binary with `args` and `envs`, and waits for its `listening on` line.
    fn start(args: &[&str], envs: &[(&str, &str)]) -> Self {
        let data = TempDir::new("data");
        let mut command = Command::new(BIN);
        command
            .args(args)
            .env_remove("MDSIM_PORT")
            .env_remove("MDSIM_BIND")
            .env_remove("MDSIM_DIST_DIR")
            .env_remove("MDSIM_DATABASE_URL")
            .env_remove("MDSIM_NATS_URL")
            .env("MDSIM_DATA_DIR", data.path())
            .envs(envs.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = command.spawn().expect("spawn relay-server");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let line = match rx.recv_timeout(START_TIMEOUT) {
            Ok(line) => line,
            Err(err) => {
                let _ = child.kill();
                panic!("no `listening on` line from relay-server: {err}");
            }
        };
        let url = line
            .strip_prefix("listening on http://")
            .unwrap_or_else(|| panic!("unexpected first stdout line: {line:?}"));
        let addr = url.parse().expect("socket address in the URL");
        Self {
            child,
            addr,
            _data: data,
        }
    }

    /// Sends a signal to the relay with the `kill` command.
    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{name} failed");
    }

    /// Waits at most `timeout` for the relay to exit.
    fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "relay-server still running {timeout:?} after the signal"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A minimal HTTP/1.1 GET over a real socket: returns the status line, the head and the body.
fn http_get(addr: SocketAddr, path: &str) -> (String, String, Vec<u8>) {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read response");
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("end of head");
    let head = String::from_utf8(raw[..split].to_vec()).expect("UTF-8 head");
    let body = raw[split + 4..].to_vec();
    let status = head.lines().next().unwrap_or_default().to_owned();
    (status, head.to_ascii_lowercase(), body)
}

/// Runs the binary to completion (it must exit by itself) and returns its output.
fn run_to_exit(args: &[&str]) -> Output {
    let data = TempDir::new("data");
    let mut child = Command::new(BIN)
        .args(args)
        .env_remove("MDSIM_PORT")
        .env_remove("MDSIM_BIND")
        .env_remove("MDSIM_DIST_DIR")
        .env_remove("MDSIM_DATABASE_URL")
        .env_remove("MDSIM_NATS_URL")
        .env("MDSIM_DATA_DIR", data.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn relay-server");
    let deadline = Instant::now() + START_TIMEOUT;
    while child.try_wait().expect("try_wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("relay-server {args:?} did not exit by itself");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("collect output")
}

#[test]
fn announces_its_url_serves_over_a_socket_and_stops_on_sigterm() {
    let dist = dist_fixture();
    let dist_dir = dist.path().to_str().unwrap();
    let mut relay = Relay::start(&["--port", "0", "--dist-dir", dist_dir], &[]);
    assert!(relay.addr.ip().is_loopback(), "default bind is loopback");
    assert_ne!(relay.addr.port(), 0);

    let (status, head, body) = http_get(relay.addr, "/healthz");
    assert_eq!(status, "HTTP/1.1 200 OK");
    let health: serde_json::Value = serde_json::from_slice(&body).expect("JSON health");
    assert_eq!(health["status"], "ok");

    let (status, head_index, body) = http_get(relay.addr, "/");
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(
        head_index.contains("content-type: text/html"),
        "{head_index}"
    );
    assert_eq!(body, INDEX_HTML.as_bytes());

    let (status, head_wasm, _) = http_get(relay.addr, &format!("/{HASHED_WASM}"));
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(
        head_wasm.contains("content-type: application/wasm"),
        "{head_wasm}"
    );

    let (_, _, metrics) = http_get(relay.addr, "/metrics");
    let metrics = String::from_utf8(metrics).unwrap();
    assert!(
        metrics.contains(r#"http_requests_total{method="GET",route="/healthz",status="200"} 1"#),
        "{metrics}\n(healthz head: {head})"
    );

    relay.signal("TERM");
    let exit = relay.wait_exit(STOP_TIMEOUT);
    assert!(exit.success(), "exit status after SIGTERM: {exit}");
    assert!(
        TcpStream::connect_timeout(&relay.addr, Duration::from_millis(500)).is_err(),
        "still accepting connections after exit"
    );
}

#[test]
fn is_configured_by_environment_and_stops_on_ctrl_c() {
    let dist = dist_fixture();
    let dist_dir = dist.path().to_str().unwrap();
    let mut relay = Relay::start(
        &[],
        &[
            ("MDSIM_PORT", "0"),
            ("MDSIM_DIST_DIR", dist_dir),
            ("MDSIM_LOG_FORMAT", "json"),
        ],
    );
    let (status, _, body) = http_get(relay.addr, "/some/client/route");
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert_eq!(body, INDEX_HTML.as_bytes());

    relay.signal("INT");
    let exit = relay.wait_exit(STOP_TIMEOUT);
    assert!(exit.success(), "exit status after SIGINT: {exit}");
}

#[test]
fn a_stuck_connection_delays_shutdown_only_up_to_the_timeout() {
    let dist = dist_fixture();
    let dist_dir = dist.path().to_str().unwrap();
    let mut relay = Relay::start(
        &[
            "--port",
            "0",
            "--dist-dir",
            dist_dir,
            "--shutdown-timeout",
            "1",
        ],
        &[],
    );
    // A request head that never ends keeps the connection busy.
    let mut stuck = TcpStream::connect(relay.addr).expect("connect");
    stuck.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").unwrap();
    std::thread::sleep(Duration::from_millis(200));

    let signalled = Instant::now();
    relay.signal("TERM");
    let exit = relay.wait_exit(STOP_TIMEOUT);
    let took = signalled.elapsed();
    assert!(exit.success(), "exit status: {exit}");
    assert!(
        took >= Duration::from_millis(900),
        "did not wait for the stuck connection: {took:?}"
    );
    drop(stuck);
}

#[test]
fn an_occupied_port_is_one_clear_sentence_and_a_failure() {
    let dist = dist_fixture();
    let occupant = TcpListener::bind("127.0.0.1:0").expect("bind a port to occupy");
    let port = occupant.local_addr().unwrap().port().to_string();

    let output = run_to_exit(&["--port", &port, "--dist-dir", dist.path().to_str().unwrap()]);
    assert!(!output.status.success(), "exit status: {}", output.status);
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        format!(
            "error: port {port} on 127.0.0.1 is already in use; stop the other process or pass \
             --port N\n"
        )
    );
    assert!(output.stdout.is_empty(), "nothing announced on stdout");
}

#[test]
fn a_missing_build_is_one_clear_sentence_and_a_failure() {
    let empty = TempDir::new("nobuild");
    let dir = empty.path().to_str().unwrap();
    let output = run_to_exit(&["--port", "0", "--dist-dir", dir]);
    assert!(!output.status.success(), "exit status: {}", output.status);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with(&format!(
            "error: no built web app in {dir} (index.html missing); run "
        )),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "one line only: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_missing_build_can_be_allowed_and_is_then_not_ready() {
    let empty = TempDir::new("allowed");
    let dir = empty.path().to_str().unwrap();
    let mut relay = Relay::start(
        &["--port", "0", "--dist-dir", dir, "--allow-missing-dist"],
        &[],
    );
    let (status, _, _) = http_get(relay.addr, "/readyz");
    assert_eq!(status, "HTTP/1.1 503 Service Unavailable");
    let (status, _, _) = http_get(relay.addr, "/healthz");
    assert_eq!(status, "HTTP/1.1 200 OK");
    relay.signal("TERM");
    assert!(relay.wait_exit(STOP_TIMEOUT).success());
}

#[test]
fn help_documents_every_flag_with_its_variable() {
    let output = run_to_exit(&["--help"]);
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    for needle in [
        "--bind",
        "--port",
        "--dist-dir",
        "--log-format",
        "--log-level",
        "--allow-missing-dist",
        "MDSIM_PORT",
        "MDSIM_DIST_DIR",
        "[default: 8080]",
    ] {
        assert!(help.contains(needle), "--help lacks {needle}:\n{help}");
    }
}

#[test]
fn bad_flags_are_usage_errors_without_a_backtrace() {
    let output = run_to_exit(&["--port", "not-a-port"]);
    assert_eq!(output.status.code(), Some(2), "clap's usage error status");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with("error: invalid value 'not-a-port'"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}
