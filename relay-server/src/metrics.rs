//! Prometheus metrics: the registry, the HTTP middleware that feeds it, and `GET /metrics`.
//!
//! Exported series:
//! - `http_requests_total{method,route,status}`: requests answered, counted when the response
//!   head is ready;
//! - `http_request_duration_seconds{method,route}`: histogram of the time to the response head;
//! - `relay_build_info{version}`: always 1, carries the relay's version;
//! - `missile_launches_total`: launches carried out by the rooms' referees (the old system's
//!   name; every room, REST and websocket alike);
//! - `relay_rooms`, `relay_connections`: open rooms and websocket connections (gauges);
//! - `relay_messages_in_total`, `relay_messages_out_total`: websocket messages received and
//!   queued for sending;
//! - `relay_refused_messages_total{reason}`: client messages refused (`malformed`, `oversize`,
//!   `rate-limited`, `forbidden`, `order`, `unreachable`);
//! - `relay_evictions_total`: members dropped because their outbound queue was full;
//! - `relay_hash_checks_total`: client state hashes compared with the referee's;
//! - `relay_desyncs_total`: client state hashes that differed from the referee's;
//! - `relay_overload_total{reason}`: launches answered 503 with `Retry-After` because the relay
//!   was at a limit: `room-capacity` (the room's missiles in flight), `solver` (every CPU
//!   solving and the waiting line full), `database` (the queue of launches to write full),
//!   `room-backlog` (`--launch-waiting` launches ordered in the room and not yet applied),
//!   `room-stalled` (the room's referee has not completed a period for a second);
//! - `relay_room_overruns_total`: referee periods that took longer than `--room-budget-ms`;
//! - `relay_room_takeovers_total`, `relay_room_lease_losses_total`,
//!   `relay_room_log_failures_total`: shared rooms taken over from a stopped relay, rooms
//!   stopped here because another relay took their lease, and commands applied without their
//!   JetStream append acknowledged (see `rooms::roomlog`);
//! - `relay_room_durable_lag_ticks{room}`: for each shared room this relay owns, the ticks
//!   between its newest snapshot and the snapshot a takeover would restore (the newest whose
//!   events every sink delivered); it grows while NATS or the database is away;
//! - `relay_rooms_stopped_total{reason}`: rooms the relay stopped, by reason: `overrun`
//!   (`--room-overruns` overruns among the room's last 2 x that many periods);
//! - `relay_solves_total{result}`: launch checks by the relay's solver: `computed`, `hit` (the
//!   cache had the answer), `shared` (waited for the same computation in flight), `busy`
//!   (refused: the waiting line was full); `relay_solves_waiting` (gauge);
//! - `relay_public_room_missiles`: missiles in flight in the public room after its last tick;
//! - `relay_launch_mispredictions_total`: launch events of a referee that differed from the
//!   one its room predicted when it ordered the launch (0 unless something is wrong);
//! - the old system's names, fed by the referee events on the bus ([`EventMetrics`]):
//!   `radar_detections_total{radar}` (every plot, by radar call sign), `track_updates_total`
//!   (plots the tracker used), `correlation_latency_seconds` (histogram of the first plot to
//!   track confirmation), `intercepts_ordered_total` (`engagement-ordered` events),
//!   `battery_fires_total{battery}` (`interceptor-launched`), `intercepts_success_total`
//!   (`intercept` events with `kill: true`);
//! - `nats_published_total`, `nats_errors_total{op}`, `nats_publish_seconds` (histogram of a
//!   batch's publish + flush), `nats_buffer_events` (events waiting for NATS),
//!   `nats_buffer_dropped_total`, `nats_inbound_total{result}`;
//! - `db_written_total`, `db_errors_total`, `db_write_seconds`, `db_buffer_events`,
//!   `db_buffer_dropped_total`;
//! - `relay_dead_letters_total{sink}`: events a sink refused for what they are (not an
//!   outage) and set aside instead of retrying (`nats`: too large, invalid subject, refused by
//!   the stream; `database`: refused data, kept in the `dead_letters` table).
//!
//! Invariants: label cardinality is bounded. `route` is the matched route template (axum's
//! [`MatchedPath`], such as `/healthz`), or [`STATIC_ROUTE`] for everything the static
//! fallback answers, so request paths never become labels; `method` is one of the standard
//! methods or `OTHER`. Every metric is registered once, in [`Metrics::new`]; later subsystems
//! add their own fields there rather than registering at run time.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Router, http::HeaderValue};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::prometheus_text;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use sim_core::engine::{Event, EventKind};

use crate::AppState;
use crate::error::ApiError;

/// The `route` label of requests that no explicit route matched (static files, SPA fallback,
/// 404s).
pub const STATIC_ROUTE: &str = "static";

/// Upper bounds, in seconds, of the request latency histogram buckets: 0.5 ms to 10 s.
const LATENCY_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Labels of `http_requests_total`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct RequestLabels {
    /// HTTP method, or `OTHER` for non-standard ones.
    pub method: &'static str,
    /// Matched route template, or [`STATIC_ROUTE`].
    pub route: String,
    /// Numeric response status.
    pub status: u16,
}

/// Labels of `http_request_duration_seconds`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct RouteLabels {
    /// HTTP method, or `OTHER` for non-standard ones.
    pub method: &'static str,
    /// Matched route template, or [`STATIC_ROUTE`].
    pub route: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct BuildLabels {
    version: &'static str,
}

/// The relay's metrics registry and handles to every metric in it.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    http_requests: Family<RequestLabels, Counter>,
    http_request_duration: Family<RouteLabels, Histogram>,
    rooms: RoomMetrics,
    events: EventMetrics,
    nats: ServiceMetrics,
    db: ServiceMetrics,
    solver: crate::solver::SolverMetrics,
    dead_letters: Family<SinkLabels, Counter>,
}

/// Labels `sink` of `relay_dead_letters_total`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct SinkLabels {
    /// `nats` or `database`.
    pub sink: &'static str,
}

/// Most distinct `radar` / `battery` label values; later names share the label `other`, so
/// user-chosen call signs cannot grow the series without bound.
pub const MAX_NAME_LABELS: usize = 256;

/// Labels `radar` or `battery`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct RadarLabels {
    /// Radar call sign.
    pub radar: String,
}

/// Labels of `battery_fires_total`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct BatteryLabels {
    /// Battery call sign.
    pub battery: String,
}

/// Labels `op` / `result` of the service counters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct OpLabels {
    /// One of a fixed set of operations or outcomes.
    pub op: &'static str,
}

/// Upper bounds, in seconds, of `correlation_latency_seconds`: 0.1 s to 2 min.
const CORRELATION_BUCKETS: [f64; 12] = [
    0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0,
];

/// The old system's metrics, fed by referee events on the bus; cheap to clone.
#[derive(Debug, Clone)]
pub struct EventMetrics {
    /// `radar_detections_total{radar}`.
    pub detections: Family<RadarLabels, Counter>,
    /// `track_updates_total`.
    pub track_updates: Counter,
    /// `correlation_latency_seconds`.
    pub correlation_latency: Histogram,
    /// `intercepts_ordered_total`.
    pub intercepts_ordered: Counter,
    /// `battery_fires_total{battery}`.
    pub battery_fires: Family<BatteryLabels, Counter>,
    /// `intercepts_success_total`.
    pub intercepts_success: Counter,
    names: std::sync::Arc<std::sync::Mutex<std::collections::BTreeSet<String>>>,
}

impl Default for EventMetrics {
    fn default() -> Self {
        Self {
            detections: Family::default(),
            track_updates: Counter::default(),
            correlation_latency: Histogram::new(CORRELATION_BUCKETS),
            intercepts_ordered: Counter::default(),
            battery_fires: Family::default(),
            intercepts_success: Counter::default(),
            names: std::sync::Arc::default(),
        }
    }
}

impl EventMetrics {
    /// A label value from the bounded set: the name itself while fewer than
    /// [`MAX_NAME_LABELS`] names were seen, `other` after.
    fn label(&self, name: &str) -> String {
        let name: String = name.chars().take(64).collect();
        let mut names = self.names.lock().unwrap_or_else(|p| p.into_inner());
        if names.contains(&name) {
            return name;
        }
        if names.len() < MAX_NAME_LABELS {
            names.insert(name.clone());
            return name;
        }
        "other".into()
    }

    /// Counts one referee event, by its type: the match names every [`EventKind`], so a new
    /// kind does not compile until someone decides whether an old-system series counts it.
    pub fn observe(&self, event: &Event) {
        match &event.kind {
            EventKind::Detection {
                radar_id,
                missile_id,
                ..
            } => {
                let radar = self.label(radar_id);
                self.detections.get_or_create(&RadarLabels { radar }).inc();
                if missile_id.is_some() {
                    self.track_updates.inc();
                }
            }
            EventKind::TrackConfirmed { latency_s, .. } => {
                if latency_s.is_finite() && *latency_s >= 0.0 {
                    self.correlation_latency.observe(*latency_s);
                }
            }
            EventKind::EngagementOrdered { .. } => {
                self.intercepts_ordered.inc();
            }
            EventKind::InterceptorLaunched {
                battery_call_sign, ..
            } => {
                let battery = self.label(battery_call_sign);
                self.battery_fires
                    .get_or_create(&BatteryLabels { battery })
                    .inc();
            }
            EventKind::Intercept { kill, .. } => {
                if *kill {
                    self.intercepts_success.inc();
                }
            }
            // `missile_launches_total` is counted by the rooms when they apply a launch.
            EventKind::Launch { .. }
            | EventKind::LaunchRejected { .. }
            | EventKind::StageBurnout { .. }
            | EventKind::Burnout { .. }
            | EventKind::Apogee { .. }
            | EventKind::Impact { .. }
            | EventKind::Rejected { .. }
            | EventKind::RadarPlaced { .. }
            | EventKind::RadarMoved { .. }
            | EventKind::RadarRemoved { .. }
            | EventKind::TrackDeleted { .. }
            | EventKind::BatteryPlaced { .. }
            | EventKind::BatteryRemoved { .. }
            | EventKind::AssetPlaced { .. }
            | EventKind::AssetRemoved { .. }
            | EventKind::DoctrineSet { .. }
            | EventKind::KillAssessment { .. }
            | EventKind::AssetHit { .. } => {}
        }
    }
}

/// Metrics of one external service the relay writes to (NATS, the database).
#[derive(Debug, Clone)]
pub struct ServiceMetrics {
    /// Events delivered.
    pub delivered: Counter,
    /// Failures, by operation.
    pub errors: Family<OpLabels, Counter>,
    /// Histogram of one batch's delivery time (s).
    pub latency: Histogram,
    /// Events waiting in the outbox.
    pub buffer: Gauge,
    /// Events dropped because the outbox was full.
    pub dropped: Counter,
    /// Inbound messages, by result (NATS only).
    pub inbound: Family<OpLabels, Counter>,
}

impl Default for ServiceMetrics {
    fn default() -> Self {
        Self {
            delivered: Counter::default(),
            errors: Family::default(),
            latency: Histogram::new(LATENCY_BUCKETS),
            buffer: Gauge::default(),
            dropped: Counter::default(),
            inbound: Family::default(),
        }
    }
}

impl ServiceMetrics {
    /// Counts one failure of `op`.
    pub fn error(&self, op: &'static str) {
        self.errors.get_or_create(&OpLabels { op }).inc();
    }
}

/// Labels `result` of `relay_solves_total`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct ResultLabels {
    /// One of a fixed set of results.
    pub result: &'static str,
}

/// Labels `reason` of `relay_overload_total`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct OverloadLabels {
    /// `room-capacity`, `solver`, `database`, `room-backlog` or `room-stalled`.
    pub reason: &'static str,
}

/// Labels of `relay_rooms_stopped_total`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct StoppedLabels {
    /// `overrun`.
    pub reason: &'static str,
}

/// Labels of `relay_refused_messages_total`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct RefusedLabels {
    /// One of a fixed set of reasons.
    pub reason: &'static str,
}

/// Handles to the metrics the rooms and websocket connections feed; cheap to clone (each
/// handle is an `Arc`), so room tasks own a copy.
#[derive(Debug, Clone, Default)]
pub struct RoomMetrics {
    /// `missile_launches_total`.
    pub launches: Counter,
    /// `relay_rooms`.
    pub rooms: Gauge,
    /// `relay_connections`.
    pub connections: Gauge,
    /// `relay_messages_in_total`.
    pub messages_in: Counter,
    /// `relay_messages_out_total`.
    pub messages_out: Counter,
    /// `relay_refused_messages_total{reason}`.
    pub refused: Family<RefusedLabels, Counter>,
    /// `relay_evictions_total`.
    pub evictions: Counter,
    /// `relay_hash_checks_total`.
    pub hash_checks: Counter,
    /// `relay_desyncs_total`.
    pub desyncs: Counter,
    /// `relay_overload_total{reason}`.
    pub overload: Family<OverloadLabels, Counter>,
    /// `relay_public_room_missiles`.
    pub public_in_flight: Gauge,
    /// `relay_launch_mispredictions_total`.
    pub mispredictions: Counter,
    /// `relay_room_overruns_total`.
    pub overruns: Counter,
    /// `relay_rooms_stopped_total{reason}`.
    pub stopped: Family<StoppedLabels, Counter>,
    /// `relay_room_takeovers_total`.
    pub takeovers: Counter,
    /// `relay_room_lease_losses_total`.
    pub lease_losses: Counter,
    /// `relay_room_log_failures_total`.
    pub log_failures: Counter,
    /// `relay_room_durable_lag_ticks{room}`.
    pub durable_lag: Family<RoomLabels, Gauge>,
}

/// Label `room`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct RoomLabels {
    /// The room's id.
    pub room: String,
}

impl RoomMetrics {
    /// Counts one refused client message.
    pub fn refuse(&self, reason: &'static str) {
        self.refused.get_or_create(&RefusedLabels { reason }).inc();
    }

    /// Counts one launch answered 503 because of `reason`.
    pub fn overload(&self, reason: &'static str) {
        self.overload
            .get_or_create(&OverloadLabels { reason })
            .inc();
    }

    /// Counts one room stopped for `reason`.
    pub fn stop(&self, reason: &'static str) {
        self.stopped.get_or_create(&StoppedLabels { reason }).inc();
    }
}

impl Metrics {
    /// Creates and registers every metric of the relay.
    pub fn new() -> Self {
        let mut registry = Registry::default();

        let http_requests = Family::<RequestLabels, Counter>::default();
        // The text encoder appends `_total` to counters.
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, matched route and status",
            http_requests.clone(),
        );

        let http_request_duration =
            Family::<RouteLabels, Histogram>::new_with_constructor(new_latency_histogram as _);
        registry.register(
            "http_request_duration_seconds",
            "Time from receiving an HTTP request to sending the response head, in seconds",
            http_request_duration.clone(),
        );

        let build_info = Family::<BuildLabels, Gauge>::default();
        build_info
            .get_or_create(&BuildLabels {
                version: env!("CARGO_PKG_VERSION"),
            })
            .set(1);
        registry.register(
            "relay_build_info",
            "Always 1; the version label carries the relay's version",
            build_info,
        );

        let rooms = RoomMetrics::default();
        registry.register(
            "missile_launches",
            "Missiles launched by the rooms' referee simulations",
            rooms.launches.clone(),
        );
        registry.register("relay_rooms", "Open rooms", rooms.rooms.clone());
        registry.register(
            "relay_connections",
            "Open websocket connections",
            rooms.connections.clone(),
        );
        registry.register(
            "relay_messages_in",
            "Websocket messages received from clients",
            rooms.messages_in.clone(),
        );
        registry.register(
            "relay_messages_out",
            "Websocket messages queued for clients",
            rooms.messages_out.clone(),
        );
        registry.register(
            "relay_refused_messages",
            "Client messages refused, by reason",
            rooms.refused.clone(),
        );
        registry.register(
            "relay_evictions",
            "Room members dropped because they could not keep up with the room",
            rooms.evictions.clone(),
        );
        registry.register(
            "relay_hash_checks",
            "Client state hashes compared with the referee's",
            rooms.hash_checks.clone(),
        );
        registry.register(
            "relay_desyncs",
            "Client state hashes that differed from the referee's",
            rooms.desyncs.clone(),
        );
        registry.register(
            "relay_overload",
            "Launches answered 503 with Retry-After because the relay was at a limit, by limit",
            rooms.overload.clone(),
        );
        registry.register(
            "relay_public_room_missiles",
            "Missiles in flight in the public room after its last tick",
            rooms.public_in_flight.clone(),
        );
        registry.register(
            "relay_launch_mispredictions",
            "Referee launch events that differed from the ones their rooms predicted",
            rooms.mispredictions.clone(),
        );
        registry.register(
            "relay_room_overruns",
            "Referee periods of a room that took longer than the room's time budget",
            rooms.overruns.clone(),
        );
        registry.register(
            "relay_rooms_stopped",
            "Rooms stopped by the relay, by reason (overrun)",
            rooms.stopped.clone(),
        );
        registry.register(
            "relay_room_takeovers",
            "Shared rooms this relay took over from a relay that stopped (restored from JetStream)",
            rooms.takeovers.clone(),
        );
        registry.register(
            "relay_room_lease_losses",
            "Shared rooms this relay stopped because another relay took their lease",
            rooms.lease_losses.clone(),
        );
        registry.register(
            "relay_room_log_failures",
            "Stamped commands applied without JetStream acknowledging their append",
            rooms.log_failures.clone(),
        );
        registry.register(
            "relay_room_durable_lag_ticks",
            "Ticks between a shared room's newest snapshot and the one a takeover would use \
             (the newest whose events every sink delivered), by room",
            rooms.durable_lag.clone(),
        );
        let solver = crate::solver::SolverMetrics::default();
        registry.register(
            "relay_solves",
            "Launch checks by the relay's solver, by result (computed, hit, shared, busy)",
            solver.solves.clone(),
        );
        registry.register(
            "relay_solves_waiting",
            "Launch checks waiting for a CPU",
            solver.waiting.clone(),
        );

        let events = EventMetrics::default();
        registry.register(
            "radar_detections",
            "Radar plots reported by the referees, by radar call sign",
            events.detections.clone(),
        );
        registry.register(
            "track_updates",
            "Radar plots the referees' trackers used to start or update a track",
            events.track_updates.clone(),
        );
        registry.register(
            "correlation_latency_seconds",
            "Time from a track's first plot to its confirmation, in seconds",
            events.correlation_latency.clone(),
        );
        registry.register(
            "intercepts_ordered",
            "Engagements ordered by the referees' command centers",
            events.intercepts_ordered.clone(),
        );
        registry.register(
            "battery_fires",
            "Interceptors launched, by battery call sign",
            events.battery_fires.clone(),
        );
        registry.register(
            "intercepts_success",
            "Intercepts that killed their target",
            events.intercepts_success.clone(),
        );

        let nats = ServiceMetrics::default();
        let db = ServiceMetrics::default();
        for (prefix, service, what) in [("nats", &nats, "NATS"), ("db", &db, "the database")] {
            let verb = if prefix == "nats" {
                "published"
            } else {
                "written"
            };
            registry.register(
                format!("{prefix}_{verb}"),
                format!("Events delivered to {what}"),
                service.delivered.clone(),
            );
            registry.register(
                format!("{prefix}_errors"),
                format!("Failed operations on {what}, by operation"),
                service.errors.clone(),
            );
            registry.register(
                format!(
                    "{prefix}_{}_seconds",
                    if prefix == "nats" { "publish" } else { "write" }
                ),
                format!("Time to deliver one batch of events to {what}, in seconds"),
                service.latency.clone(),
            );
            registry.register(
                format!("{prefix}_buffer_events"),
                format!("Events waiting to be delivered to {what}"),
                service.buffer.clone(),
            );
            registry.register(
                format!("{prefix}_buffer_dropped"),
                format!("Events dropped because the buffer for {what} was full"),
                service.dropped.clone(),
            );
        }
        let dead_letters = Family::<SinkLabels, Counter>::default();
        registry.register(
            "relay_dead_letters",
            "Events a sink refused for what they are (not an outage), set aside and not retried, by sink",
            dead_letters.clone(),
        );
        registry.register(
            "nats_inbound",
            "Messages received on the inbound NATS subjects, by result",
            nats.inbound.clone(),
        );

        Self {
            registry,
            http_requests,
            http_request_duration,
            rooms,
            events,
            nats,
            db,
            solver,
            dead_letters,
        }
    }

    /// The counter of events `sink` set aside (`relay_dead_letters_total{sink}`), created at 0.
    pub fn dead_letters(&self, sink: &'static str) -> Counter {
        self.dead_letters
            .get_or_create(&SinkLabels { sink })
            .clone()
    }

    /// The solver's metrics.
    pub fn solver(&self) -> &crate::solver::SolverMetrics {
        &self.solver
    }

    /// The handles fed by rooms and websocket connections.
    pub fn rooms(&self) -> &RoomMetrics {
        &self.rooms
    }

    /// The old-name metrics fed by referee events.
    pub fn events(&self) -> &EventMetrics {
        &self.events
    }

    /// The NATS bridge's metrics.
    pub fn nats(&self) -> &ServiceMetrics {
        &self.nats
    }

    /// The database writer's metrics.
    pub fn db(&self) -> &ServiceMetrics {
        &self.db
    }

    /// Records one answered request.
    pub fn observe_request(&self, method: &Method, route: &str, status: u16, seconds: f64) {
        let method = method_label(method);
        self.http_requests
            .get_or_create(&RequestLabels {
                method,
                route: route.to_owned(),
                status,
            })
            .inc();
        self.http_request_duration
            .get_or_create(&RouteLabels {
                method,
                route: route.to_owned(),
            })
            .observe(seconds);
    }

    /// Encodes every metric in the Prometheus text exposition format (version 0.0.4).
    pub fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut text = String::new();
        prometheus_text::encode(&mut text, &self.registry)?;
        Ok(text)
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

fn new_latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

/// Maps a method to a label value from a fixed set, so clients cannot mint new series.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "OTHER",
    }
}

/// Middleware recording `http_requests_total` and `http_request_duration_seconds` for every
/// request, routed or not. Install it with `Router::layer` so that it runs after routing and
/// sees [`MatchedPath`].
pub async fn track_requests(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or(STATIC_ROUTE, MatchedPath::as_str)
        .to_owned();
    let response = next.run(request).await;
    state.metrics().observe_request(
        &method,
        &route,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

/// `GET /metrics`.
pub fn router() -> Router<AppState> {
    Router::new().route("/metrics", get(metrics_handler))
}

async fn metrics_handler(State(state): State<AppState>) -> Result<Response, ApiError> {
    let text = state
        .metrics()
        .encode()
        .map_err(|err| ApiError::Internal(format!("encoding metrics: {err}")))?;
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(prometheus_text::CONTENT_TYPE),
        )],
        text,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_counter_histogram_and_build_info() {
        let metrics = Metrics::new();
        metrics.observe_request(&Method::GET, "/healthz", 200, 0.003);
        metrics.observe_request(&Method::GET, "/healthz", 200, 0.2);
        let text = metrics.encode().unwrap();
        assert!(
            text.contains("# TYPE http_requests_total counter"),
            "{text}"
        );
        assert!(
            text.contains(r#"http_requests_total{method="GET",route="/healthz",status="200"} 2"#),
            "{text}"
        );
        assert!(
            text.contains("# TYPE http_request_duration_seconds histogram"),
            "{text}"
        );
        assert!(
            text.contains(
                r#"http_request_duration_seconds_bucket{method="GET",route="/healthz",le="0.005"} 1"#
            ),
            "{text}"
        );
        assert!(
            text.contains(
                r#"http_request_duration_seconds_count{method="GET",route="/healthz"} 2"#
            ),
            "{text}"
        );
        let build = format!(
            r#"relay_build_info{{version="{}"}} 1"#,
            env!("CARGO_PKG_VERSION")
        );
        assert!(text.contains(&build), "{text}");
    }

    #[test]
    fn old_names_are_fed_by_typed_events() {
        use sim_core::earth::GeoPoint;
        use sim_core::engine::defense::{BatteryId, InterceptOutcome, InterceptorId};
        use sim_core::interceptor::InterceptorKind;
        use sim_core::radar::RadarId;
        use sim_core::tracking::TrackId;
        let metrics = Metrics::new();
        let feed = |kind: EventKind| {
            metrics.events().observe(&Event {
                tick: 1,
                time_s: 0.1,
                kind,
            });
        };
        let detection = |track: Option<u32>| EventKind::Detection {
            radar: RadarId(0),
            radar_id: "RAD_VBG".into(),
            missile_id: track.map(TrackId),
            truth: None,
            snr: 20.0,
            lat: 34.0,
            lon: -120.0,
            alt_m: 1e5,
            range_m: 2e5,
            azimuth_deg: 10.0,
            elevation_deg: 20.0,
        };
        let confirmed = |latency_s: f64| EventKind::TrackConfirmed {
            track: TrackId(3),
            first_detection_s: 1.0,
            latency_s,
            radars: vec![RadarId(0)],
            at: None,
            alt_m: None,
        };
        let launched = |call_sign: &str| EventKind::InterceptorLaunched {
            interceptor: InterceptorId(1),
            battery: BatteryId(0),
            battery_call_sign: call_sign.into(),
            kind: InterceptorKind::ALL[0],
            missile_id: TrackId(3),
            rounds_left: 3,
        };
        let intercept = |kill: bool| EventKind::Intercept {
            interceptor: InterceptorId(1),
            battery: BatteryId(0),
            battery_call_sign: "BAT_LA".into(),
            missile_id: TrackId(3),
            target: None,
            kill,
            outcome: if kill {
                InterceptOutcome::Kill
            } else {
                InterceptOutcome::Miss
            },
            handover_error_m: None,
            miss_m: 1.0,
            pk: 0.8,
            alt_m: 2e4,
            at: GeoPoint::new(34.0, -118.0),
            blast_ts: 10.0,
            blast_radius: 10.0,
        };
        feed(detection(Some(3)));
        feed(detection(None));
        feed(confirmed(2.5));
        feed(confirmed(f64::NAN));
        feed(EventKind::EngagementOrdered {
            missile_id: TrackId(3),
            battery: BatteryId(0),
            battery_call_sign: "BAT_LA".into(),
            fire_ts: 5.0,
            blast_radius: 10.0,
            rounds: 2,
            mode: sim_core::engagement::wta::FireMode::Salvo,
            pk: 0.8,
            pk_engagement: 0.96,
            intercept_s: 60.0,
            impact_s: 200.0,
            impact_at: GeoPoint::new(34.0, -118.0),
            asset: None,
            alternatives: Vec::new(),
            unused: Vec::new(),
        });
        feed(launched("BAT_LA"));
        feed(launched("BAT_SD"));
        feed(launched("BAT_SD"));
        feed(intercept(true));
        feed(intercept(false));
        feed(EventKind::RadarRemoved { radar: RadarId(0) });
        let text = metrics.encode().unwrap();
        for line in [
            r#"radar_detections_total{radar="RAD_VBG"} 2"#,
            "track_updates_total 1",
            "correlation_latency_seconds_count 1",
            "correlation_latency_seconds_sum 2.5",
            r#"correlation_latency_seconds_bucket{le="2"} 0"#,
            r#"correlation_latency_seconds_bucket{le="3"} 1"#,
            "intercepts_ordered_total 1",
            r#"battery_fires_total{battery="BAT_LA"} 1"#,
            r#"battery_fires_total{battery="BAT_SD"} 2"#,
            "intercepts_success_total 1",
            "nats_buffer_events 0",
            "db_buffer_events 0",
        ] {
            assert!(text.contains(line), "missing {line}:\n{text}");
        }
    }

    #[test]
    fn name_labels_are_bounded() {
        let events = EventMetrics::default();
        for i in 0..MAX_NAME_LABELS + 10 {
            events.label(&format!("R{i}"));
        }
        assert_eq!(events.label("R0"), "R0");
        assert_eq!(events.label("new"), "other");
    }

    #[test]
    fn unknown_methods_share_one_label() {
        let odd = Method::from_bytes(b"BREW").unwrap();
        assert_eq!(method_label(&odd), "OTHER");
        assert_eq!(method_label(&Method::GET), "GET");
    }
}
