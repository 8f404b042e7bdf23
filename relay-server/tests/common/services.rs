//! Real services for the tests, started on loopback on free ports and stopped on drop:
//! `nats-server` and PostgreSQL 15 with PostGIS (Debian packages, installed by
//! `cargo xtask setup`/`cargo xtask test`). When a binary is absent the constructor returns
//! `None` and the test prints why it is skipped.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::TempDir;

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind an ephemeral port")
        .port()
}

fn wait_for_port(port: u16, up: bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() == up {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!(
        "port {port} did not become {}",
        if up { "open" } else { "closed" }
    );
}

fn find(program: &str, extra: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .chain(extra.iter().map(PathBuf::from))
        .find(|p| p.is_file())
}

/// How a [`Nats`] server is configured.
#[derive(Debug, Clone, Copy, Default)]
pub struct NatsOptions {
    /// Start without JetStream (as an old deployment would).
    pub no_jetstream: bool,
    /// The server's `max_payload` in bytes (NATS's default is 1 MiB).
    pub max_payload: Option<u32>,
}

/// A `nats-server` child process, with JetStream (its store in a temporary directory kept
/// across [`Nats::stop`] and [`Nats::restart`], as a real server's disk would be) unless told
/// otherwise.
pub struct Nats {
    bin: PathBuf,
    /// Its port on 127.0.0.1.
    pub port: u16,
    child: Option<Child>,
    options: NatsOptions,
    dir: TempDir,
}

impl Nats {
    /// Starts `nats-server` with JetStream on a free port, or `None` when it is not installed.
    pub fn start() -> Option<Self> {
        Self::start_with(NatsOptions::default())
    }

    /// Starts `nats-server` configured by `options`, or `None` when it is not installed.
    pub fn start_with(options: NatsOptions) -> Option<Self> {
        let Some(bin) = find(
            "nats-server",
            &["/usr/sbin/nats-server", "/usr/bin/nats-server"],
        ) else {
            eprintln!(
                "SKIPPED: nats-server is not installed (`cargo xtask setup` installs it: apt-get install nats-server)"
            );
            return None;
        };
        let dir = TempDir::new("nats");
        if let Some(bytes) = options.max_payload {
            dir.write("nats.conf", format!("max_payload: {bytes}\n"));
        }
        let mut nats = Self {
            bin,
            port: free_port(),
            child: None,
            options,
            dir,
        };
        nats.restart();
        Some(nats)
    }

    /// `nats://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Kills the server and waits until its port is closed.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        wait_for_port(self.port, false);
    }

    /// Restarts the server on the same port and store, with JetStream or without it (as an
    /// operator who turns it off and on again would).
    pub fn restart_with_jetstream(&mut self, jetstream: bool) {
        self.stop();
        self.options.no_jetstream = !jetstream;
        self.restart();
    }

    /// (Re)starts the server on the same port (and JetStream store) and waits until it
    /// accepts connections.
    pub fn restart(&mut self) {
        let mut command = Command::new(&self.bin);
        command.args(["-a", "127.0.0.1", "-p", &self.port.to_string()]);
        if !self.options.no_jetstream {
            command
                .arg("-js")
                .arg("-sd")
                .arg(self.dir.path().join("store"));
        }
        if self.options.max_payload.is_some() {
            command.arg("-c").arg(self.dir.path().join("nats.conf"));
        }
        let child = command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start nats-server");
        self.child = Some(child);
        wait_for_port(self.port, true);
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A PostgreSQL 15 cluster with PostGIS in a temporary directory.
pub struct Postgres {
    bin: PathBuf,
    dir: TempDir,
    /// Its port on 127.0.0.1.
    pub port: u16,
    as_postgres: bool,
}

const PG_BIN: &str = "/usr/lib/postgresql/15/bin";
const POSTGIS_CONTROL: &str = "/usr/share/postgresql/15/extension/postgis.control";

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

impl Postgres {
    /// Creates and starts a cluster, or `None` when PostgreSQL 15 or PostGIS is missing.
    pub fn start() -> Option<Self> {
        let bin = PathBuf::from(PG_BIN);
        if !bin.join("initdb").is_file() || !Path::new(POSTGIS_CONTROL).is_file() {
            eprintln!(
                "SKIPPED: PostgreSQL 15 with PostGIS is not installed (`cargo xtask setup` installs postgresql-15-postgis-3)"
            );
            return None;
        }
        let dir = TempDir::new("pg");
        let as_postgres = is_root();
        if as_postgres {
            // PostgreSQL refuses to run as root: the cluster belongs to the postgres user.
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .expect("chown");
            assert!(status.success());
        }
        let pg = Self {
            bin,
            dir,
            port: free_port(),
            as_postgres,
        };
        let data = pg.data();
        pg.run(
            pg.bin.join("initdb"),
            &["-D", &data, "-U", "postgres", "-A", "trust"],
        );
        pg.restart();
        Some(pg)
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn run(&self, program: PathBuf, args: &[&str]) {
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(program);
            c
        } else {
            Command::new(program)
        };
        let out = cmd
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run a PostgreSQL tool");
        assert!(
            out.status.success(),
            "{args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// `postgres://postgres@127.0.0.1:PORT/postgres`.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Starts the server and waits until it is up.
    pub fn restart(&self) {
        let data = self.data();
        let opts = format!(
            "-c listen_addresses=127.0.0.1 -p {} -k {}",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("log").display().to_string();
        self.run(
            self.bin.join("pg_ctl"),
            &["-D", &data, "-l", &log, "-w", "-o", &opts, "start"],
        );
        wait_for_port(self.port, true);
    }

    /// Kills the server as a crash would (SIGKILL to the postmaster, whose children then
    /// exit by themselves) and waits until its port is closed. The next start recovers from
    /// the write-ahead log.
    pub fn kill(&self) {
        let pid_file = self.dir.path().join("data").join("postmaster.pid");
        if let Some(pid) = std::fs::read_to_string(pid_file)
            .ok()
            .and_then(|s| s.lines().next().map(str::to_owned))
        {
            let _ = Command::new("kill")
                .args(["-KILL", pid.trim()])
                .stderr(Stdio::null())
                .status();
        }
        wait_for_port(self.port, false);
    }

    /// Starts the server after a [`Postgres::kill`]: the postmaster's children may still hold
    /// its shared memory for a moment, so the start is retried for up to 30 s.
    pub fn restart_after_kill(&self) {
        let data = self.data();
        let opts = format!(
            "-c listen_addresses=127.0.0.1 -p {} -k {}",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("log").display().to_string();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let mut cmd = if self.as_postgres {
                let mut c = Command::new("runuser");
                c.args(["-u", "postgres", "--"])
                    .arg(self.bin.join("pg_ctl"));
                c
            } else {
                Command::new(self.bin.join("pg_ctl"))
            };
            let started = cmd
                .args(["-D", &data, "-l", &log, "-w", "-o", &opts, "start"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if started {
                wait_for_port(self.port, true);
                return;
            }
            assert!(
                Instant::now() < deadline,
                "PostgreSQL did not start again after a kill; see {log}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Stops the server (fast shutdown) and waits until it is down.
    pub fn stop(&self) {
        let data = self.data();
        self.run(
            self.bin.join("pg_ctl"),
            &["-D", &data, "-w", "-m", "fast", "stop"],
        );
        wait_for_port(self.port, false);
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let data = self.data();
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"])
                .arg(self.bin.join("pg_ctl"));
            c
        } else {
            Command::new(self.bin.join("pg_ctl"))
        };
        let _ = cmd
            .args(["-D", &data, "-w", "-m", "immediate", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// A Prometheus server scraping one target every second, with its storage in a temp dir.
pub struct Prometheus {
    /// Its port on 127.0.0.1 (web UI and HTTP API).
    pub port: u16,
    child: Child,
    _dir: TempDir,
}

impl Prometheus {
    /// Starts Prometheus scraping `target` (`host:port`), or `None` when it is not installed.
    pub fn start(target: &str) -> Option<Self> {
        let Some(bin) = find("prometheus", &["/usr/bin/prometheus"]) else {
            eprintln!(
                "SKIPPED: prometheus is not installed (`cargo xtask setup` installs it: apt-get install prometheus)"
            );
            return None;
        };
        let dir = TempDir::new("prometheus");
        dir.write(
            "prometheus.yml",
            format!(
                "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: relay\n    static_configs:\n      - targets: [\"{target}\"]\n"
            ),
        );
        let port = free_port();
        let child = Command::new(bin)
            .arg(format!(
                "--config.file={}",
                dir.path().join("prometheus.yml").display()
            ))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start prometheus");
        wait_for_port(port, true);
        Some(Self {
            port,
            child,
            _dir: dir,
        })
    }

    /// The value of an instant query's first sample, if any (HTTP API `/api/v1/query`).
    pub fn query(&self, promql: &str) -> Option<f64> {
        use std::io::{Read, Write};
        let encoded: String = promql
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b == b'_' {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        write!(
            stream,
            "GET /api/v1/query?query={encoded} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n"
        )
        .ok()?;
        let mut raw = String::new();
        stream.read_to_string(&mut raw).ok()?;
        let body = &raw[raw.find("\r\n\r\n")? + 4..];
        let json: serde_json::Value = serde_json::from_str(body).ok()?;
        json["data"]["result"][0]["value"][1].as_str()?.parse().ok()
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
