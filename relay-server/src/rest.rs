//! The REST API: `POST /launch` (the old system's call, kept compatible) and the catalogs.
//!
//! - `POST /launch?lat=&lon=&targetLat=&targetLon=&missileType=[&profile=][&room=&token=][&label=]`,
//!   or the same fields in a JSON object body (the token also as `Authorization: Bearer`):
//!   validates every field, solves the flight with [`sim_core::targeting::solve`] through the
//!   relay's [`crate::solver`] (identical requests share one solve), orders a launch with the
//!   solved guidance in the room (the public room by default) and answers as soon as the
//!   launch is ordered, with `{missile_id, status: "launched", room, tick, ..., flight:
//!   {range_m, apogee_alt_m, flight_time_s, burnout, ...}}`: its missile id and the tick the
//!   referee applies it at (a few ticks ahead) are fixed, and with a database its row has its
//!   place in the queue of launches to write. The answer does not wait for the referee's tick.
//!   `missileType` defaults to `SCUD-C`, as before.
//! - `GET /api/missile-types`, `GET /api/radar-types`: the sim-core catalogs.
//!
//! Errors are JSON `{"error": "<one sentence>", ...}`: 400 for missing, non-numeric, NaN or
//! out-of-range values and unknown names (with `valid_types`), 403 for a private room without
//! its token, 404 for an unknown room, 422 for a target the missile cannot reach (with the
//! distance and the reach), 503 with `Retry-After` when the relay is at a limit: the room holds
//! its capacity of missiles in flight (`--room-capacity`), `--launch-waiting` launches already
//! wait for its referee, its referee is not ticking (stalled), the solver's waiting line is
//! full (`--solve-queue`) or the database queue is (`--launch-queue`); each is counted in
//! `relay_overload_total{reason}`. A launch into a paused room is answered 409 (`reason:
//! "room-paused"`) at once: it would wait for whoever paused the room.
//!
//! Invariant: a solve never runs on the async workers; it runs on the blocking pool, at most
//! one per CPU at a time, with a bounded waiting line: a request is refused at once rather
//! than queued behind seconds of solves.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{HeaderMap, header};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use serde_json::{Value, json};
use sim_core::earth::GeoPoint;
use sim_core::engine::LaunchCommand;
use sim_core::flight::FlightSummary;
use sim_core::missile::catalog::catalog;
use sim_core::radar::RadarKind;
use sim_core::targeting::{Profile, TargetingError, TargetingRequest};
use sim_core::{Command, MissileKind};

use crate::AppState;
use crate::error::ApiError;
use crate::rooms::{LaunchOutcome, PUBLIC_ROOM};
use crate::solver::SolveError;

/// Largest accepted `POST /launch` body.
pub const MAX_LAUNCH_BODY_BYTES: usize = 16 * 1024;
/// `Retry-After` when the solver or the database queue is full: they drain in well under a
/// second.
const RETRY_SOON_S: u32 = 1;
/// `Retry-After` when a room is at capacity: missiles take minutes to land.
const RETRY_CAPACITY_S: u32 = 10;

/// `POST /launch`, `GET /api/missile-types`, `GET /api/radar-types`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/launch",
            post(launch).layer(DefaultBodyLimit::max(MAX_LAUNCH_BODY_BYTES)),
        )
        .route("/api/missile-types", get(missile_types))
        .route("/api/radar-types", get(radar_types))
}

/// The solved flight in a launch answer: the sim-core flight summary (SI units) plus the
/// solver's figures.
#[derive(Debug, Serialize)]
pub struct FlightReport {
    /// Range, apogee, flight time, burnout, impact point, speed and angle.
    #[serde(flatten)]
    pub summary: FlightSummary,
    /// Great-circle distance from launch to target (m).
    pub distance_m: f64,
    /// Solved miss distance (m).
    pub miss_m: f64,
    /// Launch azimuth, clockwise from north (deg).
    pub azimuth_deg: f64,
}

/// Body of a successful `POST /launch`.
#[derive(Debug, Serialize)]
pub struct LaunchResponse {
    /// The missile's id in the room's simulation, such as `"M3"` (the old system also used
    /// `M` + an identifier).
    pub missile_id: String,
    /// Always `"launched"`.
    pub status: &'static str,
    /// The room it was launched in.
    pub room: String,
    /// The tick it was launched at.
    pub tick: u64,
    /// Missile class.
    pub missile_type: MissileKind,
    /// Launch point.
    pub launch: GeoPoint,
    /// Target.
    pub target: GeoPoint,
    /// Trajectory shape.
    pub profile: Profile,
    /// The solved flight.
    pub flight: FlightReport,
}

/// A field of the request, from the query string (text) or the JSON body (any JSON value).
enum Field {
    Text(String),
    Json(Value),
}

struct Fields(BTreeMap<String, Field>);

impl Fields {
    fn parse(
        query: Result<Query<Vec<(String, String)>>, QueryRejection>,
        body: &Bytes,
    ) -> Result<Self, ApiError> {
        let mut fields = BTreeMap::new();
        let Query(pairs) = query.map_err(|e| {
            ApiError::bad_request(format!("the query string is not valid: {}", e.body_text()))
        })?;
        for (key, value) in pairs {
            if fields.insert(key.clone(), Field::Text(value)).is_some() {
                return Err(ApiError::bad_request(format!(
                    "parameter {} is given more than once",
                    short(&key)
                )));
            }
        }
        if !body.iter().all(u8::is_ascii_whitespace) {
            let value: Value = serde_json::from_slice(body).map_err(|e| {
                ApiError::bad_request(format!(
                    "the body must be a JSON object of launch fields: {e}"
                ))
            })?;
            let Value::Object(object) = value else {
                return Err(ApiError::bad_request(
                    "the body must be a JSON object of launch fields",
                ));
            };
            for (key, value) in object {
                if fields.insert(key.clone(), Field::Json(value)).is_some() {
                    return Err(ApiError::bad_request(format!(
                        "{} is given both in the query string and in the body",
                        short(&key)
                    )));
                }
            }
        }
        Ok(Self(fields))
    }

    /// A number of degrees in `[-limit, limit]`.
    fn degrees(&self, name: &str, what: &str, limit: f64) -> Result<f64, ApiError> {
        let value = match self.0.get(name) {
            None => {
                return Err(ApiError::bad_request(format!(
                    "missing {name} ({what} in degrees)"
                )));
            }
            Some(Field::Text(text)) => text.trim().parse::<f64>().map_err(|_| {
                ApiError::bad_request(format!(
                    "{name} must be a number of degrees, got {:?}",
                    short(text)
                ))
            })?,
            Some(Field::Json(Value::Number(n))) => n.as_f64().unwrap_or(f64::NAN),
            Some(Field::Json(other)) => {
                return Err(ApiError::bad_request(format!(
                    "{name} must be a number of degrees, got {}",
                    short(&other.to_string())
                )));
            }
        };
        if !value.is_finite() {
            return Err(ApiError::bad_request(format!(
                "{name} must be a finite number of degrees, got {value}"
            )));
        }
        if !(-limit..=limit).contains(&value) {
            return Err(ApiError::bad_request(format!(
                "{name} must be within -{limit} to {limit} degrees, got {value}"
            )));
        }
        Ok(value)
    }

    /// An optional string field.
    fn text(&self, name: &str) -> Result<Option<String>, ApiError> {
        match self.0.get(name) {
            None | Some(Field::Json(Value::Null)) => Ok(None),
            Some(Field::Text(t)) | Some(Field::Json(Value::String(t))) => Ok(Some(t.clone())),
            Some(Field::Json(other)) => Err(ApiError::bad_request(format!(
                "{name} must be a string, got {}",
                short(&other.to_string())
            ))),
        }
    }
}

/// Values echoed in errors are cut short.
fn short(s: &str) -> String {
    let mut out: String = s.chars().take(40).collect();
    if s.chars().count() > 40 {
        out.push_str("...");
    }
    out
}

/// The token of an `Authorization: Bearer <token>` header.
fn bearer_token(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let token = value.strip_prefix("Bearer ")?.trim();
    (!token.is_empty()).then(|| token.to_string())
}

async fn launch(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
    body: Bytes,
) -> Result<Json<LaunchResponse>, ApiError> {
    let fields = Fields::parse(query, &body)?;
    launch_fields(&state, &fields, bearer_token(&headers))
        .await
        .map(Json)
}

/// A launch from a JSON object of the `POST /launch` fields (`lat`, `lon`, `targetLat`,
/// `targetLon`, `missileType`, `profile`, `label`, `room`, `token`), validated exactly as the
/// REST call: the inbound NATS subject uses it.
pub async fn launch_json(state: &AppState, body: &[u8]) -> Result<LaunchResponse, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            "the message must be a JSON object of launch fields",
        ));
    }
    let fields = Fields::parse(Ok(Query(Vec::new())), &Bytes::copy_from_slice(body))?;
    launch_fields(state, &fields, None).await
}

async fn launch_fields(
    state: &AppState,
    fields: &Fields,
    header_token: Option<String>,
) -> Result<LaunchResponse, ApiError> {
    let from = GeoPoint::new(
        fields.degrees("lat", "launch latitude", 90.0)?,
        fields.degrees("lon", "launch longitude", 180.0)?,
    );
    let to = GeoPoint::new(
        fields.degrees("targetLat", "target latitude", 90.0)?,
        fields.degrees("targetLon", "target longitude", 180.0)?,
    );
    let kind = match fields.text("missileType")? {
        None => MissileKind::ScudC,
        Some(name) => MissileKind::parse(&name).map_err(|_| ApiError::BadRequest {
            message: format!(
                "unknown missileType {:?}; valid types: {}",
                short(&name),
                valid_types().join(", ")
            ),
            details: Some(json!({ "valid_types": valid_types() })),
        })?,
    };
    let profile = match fields.text("profile")? {
        None => Profile::MinEnergy,
        Some(p) => Profile::parse(&p).map_err(|_| ApiError::BadRequest {
            message: format!(
                "unknown profile {:?}; valid profiles: min-energy, lofted, depressed",
                short(&p)
            ),
            details: Some(json!({ "valid_profiles": ["min-energy", "lofted", "depressed"] })),
        })?,
    };
    let label = fields.text("label")?;
    let room_id = fields.text("room")?.unwrap_or_else(|| PUBLIC_ROOM.into());
    // The token may also come as `Authorization: Bearer <token>`, which stays out of access
    // logs (query strings do not).
    let token = match fields.text("token")? {
        Some(token) => Some(token),
        None => header_token,
    };
    let room = state.rooms().find(&room_id).await?;
    if !room.grants(token.as_deref()).await? {
        return Err(ApiError::Forbidden(format!(
            "launching into room {} needs its token (token=...)",
            short(&room_id)
        )));
    }

    let mut launch = LaunchCommand {
        missile: kind,
        from,
        to,
        profile,
        label,
        guidance: None,
    };
    // The same checks as a websocket command (label length, control characters), before the
    // expensive solve.
    sim_core::protocol::validate_command(&Command::Launch(launch.clone()))
        .map_err(ApiError::bad_request)?;
    let busy = |reason: &'static str, message: String, retry_after_s: u32| {
        state.metrics().rooms().overload(reason);
        ApiError::Busy {
            message,
            retry_after_s,
        }
    };
    // A paused, stalled or full room refuses before any solving.
    if let Err(refused) = room.launchable() {
        return Err(refusal(state, &room_id, refused));
    }
    if !room.has_room() {
        return Err(busy(
            "room-capacity",
            format!(
                "room {} holds {} missiles in flight, its capacity; try again when some have \
                 landed",
                short(room.id()),
                state.config().room_capacity
            ),
            RETRY_CAPACITY_S,
        ));
    }
    let request = TargetingRequest {
        kind,
        from,
        to,
        profile,
    };
    let checked = state
        .solver()
        .check(request, None)
        .await
        .map_err(|e| match e {
            SolveError::Refused(err) => targeting_error(err),
            SolveError::Busy => busy(
                "solver",
                "the relay is solving as many launches as it can; try again in a second".into(),
                RETRY_SOON_S,
            ),
            SolveError::Failed(why) => ApiError::NotReady(why),
        })?;
    let solution = checked.solution;
    let applied = checked.applied.map_err(|message| ApiError::Unprocessable {
        message: format!("the solved flight would be refused by the referee: {message}"),
        details: None,
    })?;
    launch.guidance = Some(solution.guidance);
    let command = Command::Launch(launch);
    match room.launch(command, Ok(applied)).await {
        LaunchOutcome::Launched { missile, tick } => {
            tracing::debug!(room = %room.id(), %missile, %kind, tick, "REST launch");
            Ok(LaunchResponse {
                missile_id: missile.to_string(),
                status: "launched",
                room: room.id().to_string(),
                tick,
                missile_type: kind,
                launch: from,
                target: to,
                profile,
                flight: FlightReport {
                    summary: solution.summary,
                    distance_m: solution.distance_m,
                    miss_m: solution.miss_m,
                    azimuth_deg: solution.azimuth_deg,
                },
            })
        }
        refused => Err(refusal(state, room.id(), refused)),
    }
}

/// The error answer of a launch the room did not order.
fn refusal(state: &AppState, room: &str, outcome: LaunchOutcome) -> ApiError {
    let busy = |reason: &'static str, message: String, retry_after_s: u32| {
        state.metrics().rooms().overload(reason);
        ApiError::Busy {
            message,
            retry_after_s,
        }
    };
    match outcome {
        LaunchOutcome::Launched { .. } => ApiError::Internal("a launch refused as launched".into()),
        LaunchOutcome::Rejected(message) => ApiError::Unprocessable {
            message,
            details: None,
        },
        LaunchOutcome::Full(message) => busy("room-capacity", message, RETRY_CAPACITY_S),
        LaunchOutcome::Busy(message) => busy("database", message, RETRY_SOON_S),
        LaunchOutcome::Backlog(message) => busy("room-backlog", message, RETRY_SOON_S),
        LaunchOutcome::Stalled(message) => busy("room-stalled", message, RETRY_SOON_S),
        LaunchOutcome::Paused(message) => ApiError::Conflict {
            message,
            details: Some(json!({ "reason": "room-paused", "room": short(room) })),
        },
    }
}

/// 400 for bad coordinates, 422 with the figures for a target the missile cannot reach.
fn targeting_error(err: TargetingError) -> ApiError {
    let message = err.to_string();
    let figures = match &err {
        TargetingError::InvalidInput { .. } => {
            return ApiError::BadRequest {
                message,
                details: None,
            };
        }
        TargetingError::OutOfRange {
            distance_m,
            max_range_m,
            ..
        } => json!({ "distance_km": distance_m / 1000.0, "max_range_km": max_range_m / 1000.0 }),
        TargetingError::TooClose {
            distance_m,
            min_range_m,
            ..
        } => json!({ "distance_km": distance_m / 1000.0, "min_range_km": min_range_m / 1000.0 }),
        TargetingError::ProfileUnavailable {
            distance_m,
            reach_min_m,
            reach_max_m,
            ..
        } => json!({
            "distance_km": distance_m / 1000.0,
            "reach_min_km": reach_min_m / 1000.0,
            "reach_max_km": reach_max_m / 1000.0,
        }),
        TargetingError::NotConverged { .. } => json!({}),
    };
    let mut details = figures;
    if let Value::Object(map) = &mut details {
        map.insert(
            "reason".into(),
            serde_json::to_value(&err).unwrap_or(Value::Null),
        );
    }
    ApiError::Unprocessable {
        message,
        details: Some(details),
    }
}

fn valid_types() -> Vec<&'static str> {
    MissileKind::ALL.iter().map(|k| k.name()).collect()
}

/// `GET /api/missile-types`: the missile catalog.
async fn missile_types() -> Json<Value> {
    let types: Vec<Value> = catalog()
        .iter()
        .map(|t| {
            json!({
                "name": t.kind.name(),
                "description": t.description,
                "stages": t.stages.len(),
                "launch_mass_kg": t.launch_mass_kg(),
                "payload_mass_kg": t.payload_mass_kg,
                "burn_time_s": t.total_burn_time_s(),
                "body_diameter_m": t.body_diameter_m,
                "rcs_m2": t.rcs_m2,
                "max_range_m": t.max_range_m,
                "min_range_m": t.min_range_m,
                "separating_rv": t.rv.is_some(),
                "public": {
                    "range": t.public.range,
                    "apogee_and_time": t.public.apogee_and_time,
                    "sources": t.public.sources,
                },
            })
        })
        .collect();
    Json(Value::Array(types))
}

/// `GET /api/radar-types`: the radar catalog.
async fn radar_types() -> Json<Value> {
    let types: Vec<Value> = RadarKind::ALL
        .iter()
        .map(|&k| {
            let p = k.params();
            let public = k.public_figure();
            let c = k.coverage();
            json!({
                "name": k.name(),
                "frequency_hz": p.frequency_hz,
                "peak_power_w": p.peak_power_w,
                "antenna_gain_db": p.antenna_gain_db,
                "beamwidth_deg": p.beamwidth_deg,
                "max_range_m": p.max_instrumented_range_m,
                "public": {
                    "range_m": public.range_m,
                    "rcs_m2": public.rcs_m2,
                    "source": public.source,
                },
                "coverage": {
                    "sector_half_width_deg": c.sector_half_width_deg,
                    "min_el_deg": c.min_el_deg,
                    "max_el_deg": c.max_el_deg,
                    "revisit_s": c.revisit_s,
                },
            })
        })
        .collect();
    Json(Value::Array(types))
}
