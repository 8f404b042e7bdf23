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
//! - `relay_desyncs_total`: client state hashes that differed from the referee's.
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
}

impl RoomMetrics {
    /// Counts one refused client message.
    pub fn refuse(&self, reason: &'static str) {
        self.refused.get_or_create(&RefusedLabels { reason }).inc();
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

        Self {
            registry,
            http_requests,
            http_request_duration,
            rooms,
        }
    }

    /// The handles fed by rooms and websocket connections.
    pub fn rooms(&self) -> &RoomMetrics {
        &self.rooms
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
    fn unknown_methods_share_one_label() {
        let odd = Method::from_bytes(b"BREW").unwrap();
        assert_eq!(method_label(&odd), "OTHER");
        assert_eq!(method_label(&Method::GET), "GET");
    }
}
