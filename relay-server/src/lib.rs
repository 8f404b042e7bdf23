//! The relay server of the missile defense simulator, as a library.
//!
//! [`app`] builds the whole HTTP router from an [`AppState`] without touching a socket, so
//! tests drive it with `tower::ServiceExt::oneshot`; [`server::run`] binds, serves and shuts
//! down gracefully; `main.rs` only parses the [`Config`] and turns errors into an exit code.
//!
//! Codemap:
//! - [`config`]: the `clap` configuration, flags with `MDSIM_*` environment fallbacks;
//! - [`static_files`]: the built web app, single-page fallback and cache headers;
//! - [`health`]: `/healthz` and `/readyz`;
//! - [`metrics`]: the Prometheus registry, the request-metrics middleware and `/metrics`;
//! - [`rest`]: `POST /launch` and the catalogs (`/api/missile-types`, `/api/radar-types`);
//! - [`solver`]: launch solving on a bounded pool with a bounded cache of answers;
//! - [`rooms`]: rooms with their referee simulations, `POST /api/rooms`, the room websocket;
//! - [`bus`]: the event bus: referee events with ids, metrics, outboxes for external writers;
//! - [`nats`]: the NATS bridge (`--nats-url`): events out on old and new subjects, launches in;
//! - [`store`]: persistence (SQLite under `--data-dir`, or PostgreSQL + PostGIS with
//!   `--database-url`): migrations, catalogs, rooms, events, flights, short links;
//! - [`scenarios`]: short links to posted scenarios (`POST /api/scenarios`, `GET /s/{id}`);
//! - [`error`]: startup errors (one sentence each) and handler errors (status + JSON);
//! - [`limits`]: request limits (URI length, UTF-8 queries, body deadline) and the JSON shape
//!   of the framework's own error answers;
//! - [`server`]: logging, binding, serving connections (request head timeout, connection
//!   limit) and graceful shutdown.
//!
//! Invariants: each module owns its `router()`, merged in [`app`]; all cross-cutting
//! behaviour (tracing spans, compression, metrics, common headers) is a layer, not per-handler code; the
//! shared state is cheap to clone (one `Arc`).

pub mod bus;
pub mod config;
pub mod error;
pub mod health;
pub mod limits;
pub mod loopback;
pub mod metrics;
pub mod nats;
pub mod rest;
pub mod rooms;
pub mod scenarios;
pub mod server;
pub mod solver;
pub mod static_files;
pub mod store;

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::middleware;
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::{DefaultMakeSpan, DefaultOnFailure, DefaultOnResponse, TraceLayer};
use tracing::Level;

pub use config::Config;
pub use error::{ApiError, StartupError};
pub use metrics::Metrics;
pub use rooms::Rooms;

/// State shared by every handler: the configuration, the metrics registry, the rooms and the
/// solver's concurrency limit.
///
/// Cloning it clones one `Arc`; later subsystems (rooms, message bus, storage) become fields
/// of the inner struct.
#[derive(Debug, Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: Config,
    metrics: Metrics,
    rooms: Rooms,
    bus: bus::EventBus,
    scenarios: scenarios::ScenarioStore,
    store: std::sync::OnceLock<store::Store>,
    nats: std::sync::OnceLock<async_nats::Client>,
    solver: solver::Solver,
    /// Flips to `true` once shutdown begins; websocket connections watch it.
    shutting_down: tokio::sync::watch::Sender<bool>,
}

impl AppState {
    /// State for `config`, with a fresh metrics registry and no room yet (rooms start on
    /// first use, inside the Tokio runtime).
    pub fn new(config: Config) -> Self {
        let metrics = Metrics::new();
        let bus = bus::EventBus::new(metrics.events().clone());
        let rooms = Rooms::new(
            rooms::RoomSettings::from_config(&config),
            metrics.rooms().clone(),
            bus.clone(),
        );
        let cpus = std::thread::available_parallelism().map_or(1, usize::from);
        let solver = solver::Solver::new(
            cpus,
            config.solve_queue as usize,
            config.solve_cache as usize,
            metrics.solver().clone(),
        );
        Self {
            inner: Arc::new(Inner {
                config,
                metrics,
                rooms,
                bus,
                scenarios: scenarios::ScenarioStore::default(),
                store: std::sync::OnceLock::new(),
                nats: std::sync::OnceLock::new(),
                shutting_down: tokio::sync::watch::Sender::new(false),
                solver,
            }),
        }
    }

    /// [`AppState::new`], then the external services the configuration names: the NATS
    /// bridge with `--nats-url`, the database (`--database-url`, or SQLite under
    /// `--data-dir` unless `--no-database`). Must run inside the Tokio runtime.
    pub async fn start(config: Config) -> Result<Self, StartupError> {
        let state = Self::new(config);
        let capacity = state.config().buffer_events as usize;
        if let Some(url) = state.config().database_url() {
            let m = state.metrics().db();
            let outbox = Arc::new(bus::Outbox::new(
                capacity,
                m.buffer.clone(),
                m.dropped.clone(),
            ));
            let store = store::Store::connect(&url)
                .await
                .map_err(StartupError::Service)?;
            let (durable, launches) =
                tokio::sync::mpsc::channel(state.config().launch_queue as usize);
            let dead_letters = state.metrics().dead_letters("database");
            store.spawn_writer(outbox.clone(), launches, m.clone(), dead_letters);
            state.inner.bus.set_durable(durable);
            state.inner.bus.add_outbox(outbox);
            let _ = state.inner.store.set(store);
        }
        if let Some(url) = state.config().nats_url.clone() {
            let m = state.metrics().nats();
            let outbox = Arc::new(bus::Outbox::new(
                capacity,
                m.buffer.clone(),
                m.dropped.clone(),
            ));
            state.inner.bus.add_outbox(outbox.clone());
            let client = nats::start(&url, &state, outbox)
                .await
                .map_err(StartupError::Service)?;
            let cluster = rooms::cluster::Cluster::start(
                client.clone(),
                state.metrics().rooms().clone(),
                state.config().ws_queue as usize,
            )
            .await
            .map_err(StartupError::Service)?;
            state.inner.rooms.set_cluster(cluster);
            let _ = state.inner.nats.set(client);
        }
        Ok(state)
    }

    /// The event bus the rooms' referees publish on.
    pub fn bus(&self) -> &bus::EventBus {
        &self.inner.bus
    }

    /// The database, when one is configured and [`AppState::start`] opened it.
    pub fn store(&self) -> Option<&store::Store> {
        self.inner.store.get()
    }

    /// The NATS client, when `--nats-url` was given.
    pub fn nats(&self) -> Option<&async_nats::Client> {
        self.inner.nats.get()
    }

    /// The configuration the relay started with.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The relay's metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// The open rooms.
    pub fn rooms(&self) -> &Rooms {
        &self.inner.rooms
    }

    /// The short-link store of posted scenarios.
    pub fn scenarios(&self) -> &scenarios::ScenarioStore {
        &self.inner.scenarios
    }

    /// Tells long-lived connections (websockets) to close: HTTP requests finish on their
    /// own, but an upgraded connection would otherwise keep the relay up until the shutdown
    /// timeout.
    pub fn begin_shutdown(&self) {
        self.inner.shutting_down.send_replace(true);
    }

    /// A receiver that sees `true` once [`AppState::begin_shutdown`] was called.
    pub fn shutdown_watch(&self) -> tokio::sync::watch::Receiver<bool> {
        self.inner.shutting_down.subscribe()
    }

    /// The launch solver (bounded pool, shared answers).
    pub fn solver(&self) -> &solver::Solver {
        &self.inner.solver
    }
}

/// The relay's complete HTTP application: every module's routes, the static web app as the
/// fallback, and the request-metrics, compression and tracing layers.
pub fn app(state: AppState) -> Router {
    Router::new()
        .merge(health::router())
        .merge(metrics::router())
        .merge(rest::router())
        .merge(rooms::router())
        .merge(scenarios::router())
        .fallback(static_files::serve)
        // Layers run outside-in in the reverse order of these calls: tracing sees the whole
        // exchange, compression wraps what the metrics middleware let through, the metrics
        // middleware runs after routing, where `MatchedPath` is known, and sees the final
        // status; the request limits run before any handler, and every error answer leaves
        // the handlers as JSON.
        .layer(middleware::from_fn(limits::json_errors))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            limits::check_request,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            metrics::track_requests,
        ))
        .layer(CompressionLayer::new())
        // Content types are set deliberately; browsers must not second-guess them.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_response(DefaultOnResponse::new().level(Level::INFO))
                // A 503 under load is the relay refusing on purpose, thousands a second; a 500
                // is logged at ERROR with its detail where it is answered (`ApiError`).
                .on_failure(DefaultOnFailure::new().level(Level::DEBUG)),
        )
        .with_state(state)
}
