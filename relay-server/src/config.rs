//! Command-line and environment configuration of the relay.
//!
//! Every setting is a `clap` flag with an `MDSIM_*` environment fallback and a default, so
//! `relay-server` with nothing configured serves `./dist` on `http://127.0.0.1:8080` and needs
//! no other process. Precedence is the usual one: flag, then environment variable, then
//! default. `--help` lists each flag with its variable and default; keep the doc comments
//! below user-facing, because clap prints them verbatim.
//!
//! Invariant: a [`Config`] that parsed is usable as is; values that could fail later (the log
//! filter, for example) are validated here so that mistakes surface as clap's usage errors.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use tracing_subscriber::EnvFilter;

/// Relay server of the missile defense simulator.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "relay-server",
    version,
    about = "Relay server of the missile defense simulator: serves the built web app, the \
             REST API, multiplayer rooms, health checks and Prometheus metrics.",
    long_about = "Relay server of the missile defense simulator.\n\n\
                  Serves the web app built by Trunk (single-page fallback, gzip and brotli, \
                  long-lived caching of hashed assets), POST /launch and the catalogs under \
                  /api, rooms (POST /api/rooms, websockets on /ws/rooms/ID) with a referee \
                  simulation each, liveness and readiness checks on /healthz and /readyz, and \
                  Prometheus metrics on /metrics. The referees' events go to NATS with \
                  --nats-url and to a database: a SQLite file under --data-dir by default, \
                  PostgreSQL with PostGIS with --database-url.\n\n\
                  Every flag can also be set through the environment variable shown with it; \
                  a flag wins over its variable.",
    after_help = "Once listening it prints `listening on http://ADDR:PORT` on stdout (logs go \
                  to stderr). It stops gracefully on Ctrl-C or SIGTERM."
)]
pub struct Config {
    /// IP address to listen on; use 0.0.0.0 to accept connections from other machines.
    #[arg(long, env = "MDSIM_BIND", default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    pub bind: IpAddr,

    /// TCP port to listen on; 0 picks a free port (the chosen one is printed).
    #[arg(long, short = 'p', env = "MDSIM_PORT", default_value_t = 8080)]
    pub port: u16,

    /// Directory holding the built web app (the output of `trunk build --release`), relative
    /// to the working directory unless absolute.
    #[arg(long, env = "MDSIM_DIST_DIR", default_value = "dist")]
    pub dist_dir: PathBuf,

    /// Start even if the dist directory has no index.html (then /readyz answers 503).
    #[arg(long, env = "MDSIM_ALLOW_MISSING_DIST")]
    pub allow_missing_dist: bool,

    /// Log format: human-readable text or one JSON object per line.
    #[arg(long, env = "MDSIM_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Log filter: a level (error, warn, info, debug, trace) or tracing directives such as
    /// `info,tower_http=debug`.
    #[arg(long, env = "MDSIM_LOG_LEVEL", default_value = "info", value_parser = parse_log_filter)]
    pub log_level: String,

    /// Seconds to wait for open connections to finish after Ctrl-C or SIGTERM before exiting.
    #[arg(long, env = "MDSIM_SHUTDOWN_TIMEOUT", default_value_t = 10)]
    pub shutdown_timeout: u64,

    /// Another origin (scheme://host[:port]) whose pages may open room websockets; repeat the
    /// flag or separate with commas. Pages served by the relay itself are always allowed.
    #[arg(
        long = "allowed-origin",
        env = "MDSIM_ALLOWED_ORIGINS",
        value_delimiter = ',',
        value_parser = parse_origin
    )]
    pub allowed_origins: Vec<String>,

    /// Seconds a room with no members is kept before it is dropped.
    #[arg(long, env = "MDSIM_ROOM_GRACE", default_value_t = 60)]
    pub room_grace: u64,

    /// Most rooms open at once; creating one more answers 503.
    #[arg(long, env = "MDSIM_MAX_ROOMS", default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_rooms: u32,

    /// Seconds between websocket pings; a connection silent for three intervals is closed.
    #[arg(long, env = "MDSIM_WS_HEARTBEAT", default_value_t = 15, value_parser = clap::value_parser!(u64).range(1..))]
    pub ws_heartbeat: u64,

    /// Messages per second a websocket connection may send on average (token bucket).
    #[arg(long, env = "MDSIM_WS_RATE", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..))]
    pub ws_rate: u32,

    /// Messages a websocket connection may send in one burst (token bucket size).
    #[arg(long, env = "MDSIM_WS_BURST", default_value_t = 40, value_parser = clap::value_parser!(u32).range(1..))]
    pub ws_burst: u32,

    /// Messages waiting to be sent to one client; a client that lets this many pile up is
    /// evicted rather than waited for.
    #[arg(long, env = "MDSIM_WS_QUEUE", default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..))]
    pub ws_queue: u32,

    /// NATS server URL (nats://host:port); when given, referee events are published there
    /// and launches are accepted on `command.launch`. Without it, events stay in process.
    #[arg(long, env = "MDSIM_NATS_URL")]
    pub nats_url: Option<String>,

    /// Hours an event is kept in the JetStream stream MDSIM_EVENTS (where the server has
    /// JetStream) for consumers that were away; older events are discarded.
    #[arg(long, env = "MDSIM_NATS_STREAM_MAX_AGE", default_value_t = 24, value_parser = clap::value_parser!(u32).range(1..=8760))]
    pub nats_stream_max_age: u32,

    /// Most megabytes (MiB) the JetStream stream MDSIM_EVENTS keeps; past it the oldest events
    /// are discarded.
    #[arg(long, env = "MDSIM_NATS_STREAM_MAX_MB", default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..=1_048_576))]
    pub nats_stream_max_mb: u32,

    /// Most events the JetStream stream MDSIM_EVENTS keeps; past it the oldest are discarded.
    #[arg(long, env = "MDSIM_NATS_STREAM_MAX_EVENTS", default_value_t = 10_000_000, value_parser = clap::value_parser!(u64).range(1..=1_000_000_000_000))]
    pub nats_stream_max_events: u64,

    /// Seconds during which the JetStream stream drops an event published again with the
    /// same id (its Nats-Msg-Id), so a retried publish is stored once.
    #[arg(long, env = "MDSIM_NATS_DEDUP_WINDOW", default_value_t = 300, value_parser = clap::value_parser!(u32).range(1..=86_400))]
    pub nats_dedup_window: u32,

    /// PostgreSQL URL (postgres://user@host:port/db) of a database with PostGIS; when given,
    /// it is used instead of the SQLite file under --data-dir.
    #[arg(long, env = "MDSIM_DATABASE_URL", value_parser = parse_database_url)]
    pub database_url: Option<String>,

    /// Directory of the default SQLite database (relay.sqlite), created if missing.
    #[arg(long, env = "MDSIM_DATA_DIR", default_value = ".data")]
    pub data_dir: PathBuf,

    /// Keep nothing on disk: no SQLite file, no database (short links then live in memory).
    #[arg(long, env = "MDSIM_NO_DATABASE", conflicts_with = "database_url")]
    pub no_database: bool,

    /// Most events waiting for NATS, and for the database, while they are unreachable; beyond
    /// it the oldest are dropped (and counted).
    #[arg(long, env = "MDSIM_BUFFER_EVENTS", default_value_t = 100_000, value_parser = clap::value_parser!(u32).range(1..))]
    pub buffer_events: u32,

    /// Most missiles in flight in one room (launches ordered and not yet flying included);
    /// past it, launches are answered 503 with Retry-After until some have landed.
    #[arg(long, env = "MDSIM_ROOM_CAPACITY", default_value_t = 40_000, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub room_capacity: u32,

    /// Launch solves that may wait for a CPU (one solves per CPU meanwhile); past it, launches
    /// that need a solve are answered 503 with Retry-After at once.
    #[arg(long, env = "MDSIM_SOLVE_QUEUE", default_value_t = 8, value_parser = clap::value_parser!(u32).range(0..=10_000))]
    pub solve_queue: u32,

    /// Launch solutions remembered, so identical requests share one solve.
    #[arg(long, env = "MDSIM_SOLVE_CACHE", default_value_t = 4096, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub solve_cache: u32,

    /// Launches accepted and waiting to be written to the database; past it, launches are
    /// answered 503 with Retry-After (an answered launch is always written).
    #[arg(long, env = "MDSIM_LAUNCH_QUEUE", default_value_t = 20_000, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub launch_queue: u32,

    /// Seconds a client has to send a whole request head; a connection that has not, a new
    /// one or a kept-alive one waiting for its next request, is closed.
    #[arg(long, env = "MDSIM_HEADER_TIMEOUT", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3_600))]
    pub header_timeout: u64,

    /// Seconds a client has to send a whole request body, from the end of its head; a
    /// request whose body is late is answered 408 and its connection closed.
    #[arg(long, env = "MDSIM_BODY_TIMEOUT", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3_600))]
    pub body_timeout: u64,

    /// Most HTTP connections open at once (websockets once upgraded are not counted); further
    /// clients wait in the operating system's queue until one closes.
    #[arg(long, env = "MDSIM_MAX_CONNECTIONS", default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_connections: u32,
    /// Operators' token of the public room: a websocket member of `public` whose hello carries
    /// it may pause the room and change its speed, nobody else may. Unset: nobody may change
    /// the public room's clock. 16 to 64 ASCII letters or digits; keep it secret.
    #[arg(long, env = "MDSIM_OPERATOR_TOKEN", hide_env_values = true, value_parser = parse_operator_token)]
    pub operator_token: Option<Secret>,

    /// Threads that run the rooms' referees, apart from the threads serving HTTP and
    /// websockets; 0: one per CPU.
    #[arg(long, env = "MDSIM_REFEREE_THREADS", default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=1024))]
    pub referee_threads: u32,

    /// Milliseconds of wall time a room's referee may take for one 100 ms period (the ticks
    /// of the room's speed); a period over it is an overrun.
    #[arg(long, env = "MDSIM_ROOM_BUDGET_MS", default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=60_000))]
    pub room_budget_ms: u64,

    /// Overruns among a room's last 2 x N periods that stop the room: its members are told
    /// why and it closes (the public room starts afresh on its next use).
    #[arg(long, env = "MDSIM_ROOM_OVERRUNS", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub room_overruns: u32,

    /// Launches ordered in one room and not yet applied by its referee; past it, launches are
    /// answered 503 with Retry-After at once.
    #[arg(long, env = "MDSIM_LAUNCH_WAITING", default_value_t = 1_000, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub launch_waiting: u32,
}

/// A secret from the configuration: shown as `***` in debug output, compared in constant
/// time.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// The secret itself.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// A secret for unit tests.
    #[cfg(test)]
    pub(crate) fn for_tests(secret: &str) -> Self {
        Self(secret.into())
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// Accepts 16 to 64 ASCII letters or digits (a hello's token is at most 64 of them).
fn parse_operator_token(value: &str) -> Result<Secret, String> {
    let max = sim_core::protocol::MAX_TOKEN_CHARS;
    if !(16..=max).contains(&value.len()) || !value.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(format!(
            "the operator token must be 16 to {max} ASCII letters or digits"
        ));
    }
    Ok(Secret(value.to_string()))
}

fn parse_database_url(url: &str) -> Result<String, String> {
    if url.starts_with("postgres://")
        || url.starts_with("postgresql://")
        || url.starts_with("sqlite:")
    {
        Ok(url.to_string())
    } else {
        Err("expected a postgres://, postgresql:// or sqlite: URL".into())
    }
}

/// How log lines are written to stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

impl Config {
    /// A configuration with every default, serving `dist_dir`; convenient for tests.
    pub fn with_dist_dir(dist_dir: impl Into<PathBuf>) -> Self {
        let mut config = Self::parse_from(["relay-server"]);
        config.dist_dir = dist_dir.into();
        config
    }

    /// The database URL to use: `--database-url`, or the SQLite file under `--data-dir`;
    /// `None` with `--no-database`.
    pub fn database_url(&self) -> Option<String> {
        if self.no_database {
            return None;
        }
        self.database_url.clone().or_else(|| {
            Some(format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("relay.sqlite").display()
            ))
        })
    }

    /// The socket address to listen on.
    pub fn socket_addr(&self) -> SocketAddr {
        SocketAddr::new(self.bind, self.port)
    }

    /// How long graceful shutdown may take before the process exits anyway.
    pub fn shutdown_timeout(&self) -> Duration {
        Duration::from_secs(self.shutdown_timeout)
    }

    /// How long a client may take to send a request head (and a kept-alive connection may stay
    /// idle).
    pub fn header_timeout(&self) -> Duration {
        Duration::from_secs(self.header_timeout)
    }

    /// How long a client may take to send a request body.
    pub fn body_timeout(&self) -> Duration {
        Duration::from_secs(self.body_timeout)
    }

    /// The path of the app's entry page, whose presence means a build is there.
    pub fn index_html(&self) -> PathBuf {
        self.dist_dir.join("index.html")
    }
}

/// Accepts `http(s)://host[:port]` (no path), lower-cased, as browsers send it in `Origin`.
fn parse_origin(value: &str) -> Result<String, String> {
    let origin = value.trim().trim_end_matches('/').to_ascii_lowercase();
    let rest = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
        .ok_or_else(|| format!("origin {value:?} must start with http:// or https://"))?;
    let valid = !rest.is_empty()
        && rest
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b));
    if !valid {
        return Err(format!(
            "origin {value:?} must be scheme://host[:port] with no path"
        ));
    }
    Ok(origin)
}

/// Accepts the value only if `tracing_subscriber` can build a filter from it.
fn parse_log_filter(value: &str) -> Result<String, String> {
    EnvFilter::try_new(value)
        .map(|_| value.to_owned())
        .map_err(|err| format!("not a valid log level or filter: {err}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn clap_definition_is_consistent() {
        Config::command().debug_assert();
    }

    #[test]
    fn defaults_serve_dist_on_loopback_8080() {
        let config = Config::try_parse_from(["relay-server"]).unwrap();
        // The environment of the test process could override defaults; only check when unset.
        if std::env::var_os("MDSIM_PORT").is_none() {
            assert_eq!(config.port, 8080);
        }
        if std::env::var_os("MDSIM_BIND").is_none() {
            assert_eq!(config.bind, IpAddr::V4(Ipv4Addr::LOCALHOST));
        }
        if std::env::var_os("MDSIM_DIST_DIR").is_none() {
            assert_eq!(config.dist_dir, PathBuf::from("dist"));
        }
    }

    #[test]
    fn flags_are_parsed() {
        let config = Config::try_parse_from([
            "relay-server",
            "--bind",
            "0.0.0.0",
            "--port",
            "9000",
            "--dist-dir",
            "/srv/app",
            "--log-format",
            "json",
            "--log-level",
            "debug,hyper=warn",
            "--allow-missing-dist",
        ])
        .unwrap();
        assert_eq!(config.socket_addr(), "0.0.0.0:9000".parse().unwrap());
        assert_eq!(config.index_html(), PathBuf::from("/srv/app/index.html"));
        assert_eq!(config.log_format, LogFormat::Json);
        assert_eq!(config.log_level, "debug,hyper=warn");
        assert!(config.allow_missing_dist);
    }

    #[test]
    fn allowed_origins_are_normalised_and_repeatable() {
        let config = Config::try_parse_from([
            "relay-server",
            "--allowed-origin",
            "HTTPS://App.Example/",
            "--allowed-origin",
            "http://localhost:3000,http://[::1]:8080",
        ])
        .unwrap();
        assert_eq!(
            config.allowed_origins,
            [
                "https://app.example",
                "http://localhost:3000",
                "http://[::1]:8080"
            ]
        );
    }

    #[test]
    fn the_database_defaults_to_sqlite_under_the_data_dir() {
        let config =
            Config::try_parse_from(["relay-server", "--data-dir", "/var/lib/mdsim"]).unwrap();
        assert_eq!(
            config.database_url().as_deref(),
            Some("sqlite:///var/lib/mdsim/relay.sqlite?mode=rwc")
        );
        let pg = "postgres://mdsim@127.0.0.1:5432/mdsim";
        let config = Config::try_parse_from(["relay-server", "--database-url", pg]).unwrap();
        assert_eq!(config.database_url().as_deref(), Some(pg));
        let config = Config::try_parse_from(["relay-server", "--no-database"]).unwrap();
        assert_eq!(config.database_url(), None);
        assert!(
            Config::try_parse_from(["relay-server", "--no-database", "--database-url", pg])
                .is_err()
        );
    }

    #[test]
    fn bad_values_are_usage_errors() {
        for args in [
            ["relay-server", "--port", "70000"],
            ["relay-server", "--bind", "localhost:1"],
            ["relay-server", "--log-format", "xml"],
            ["relay-server", "--log-level", "tower_http=loud"],
            ["relay-server", "--allowed-origin", "example.com"],
            ["relay-server", "--allowed-origin", "https://a.example/path"],
            ["relay-server", "--ws-rate", "0"],
            ["relay-server", "--database-url", "mysql://db"],
            ["relay-server", "--buffer-events", "0"],
            ["relay-server", "--header-timeout", "0"],
            ["relay-server", "--body-timeout", "0"],
            ["relay-server", "--max-connections", "0"],
            ["relay-server", "--operator-token", "short"],
            ["relay-server", "--operator-token", "0123456789abcdef-0123"],
            ["relay-server", "--room-overruns", "0"],
            ["relay-server", "--room-budget-ms", "0"],
        ] {
            let err = Config::try_parse_from(args).unwrap_err();
            assert!(
                matches!(
                    err.kind(),
                    clap::error::ErrorKind::ValueValidation | clap::error::ErrorKind::InvalidValue
                ),
                "{args:?}: {err}"
            );
        }
    }

    #[test]
    fn the_operator_token_is_parsed_and_hidden() {
        let token = "0123456789abcdefOPERATOR";
        let config = Config::try_parse_from(["relay-server", "--operator-token", token]).unwrap();
        assert_eq!(
            config.operator_token.as_ref().map(Secret::expose),
            Some(token)
        );
        assert!(!format!("{config:?}").contains(token));
    }

    #[test]
    fn help_documents_env_vars_and_defaults() {
        let help = Config::command().render_long_help().to_string();
        for needle in [
            "MDSIM_BIND",
            "MDSIM_PORT",
            "MDSIM_DIST_DIR",
            "MDSIM_LOG_FORMAT",
            "MDSIM_LOG_LEVEL",
            "[default: 8080]",
            "[default: 127.0.0.1]",
            "[default: dist]",
        ] {
            assert!(help.contains(needle), "--help lacks {needle}:\n{help}");
        }
    }
}
