//! Liveness and readiness probes.
//!
//! - `GET /healthz`: the process is up and answering; always 200 with
//!   `{"status":"ok","version":"..."}`. It checks nothing else, so an orchestrator never
//!   restarts a relay for a problem a restart cannot fix.
//! - `GET /readyz`: the relay can do its job, which today means the dist directory holds an
//!   `index.html`; 200 with `{"status":"ready"}`, or 503 with `{"error": "<reason>"}`. Later
//!   subsystems (NATS, database) add their own checks here.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use crate::AppState;
use crate::error::ApiError;

/// Body of `GET /healthz`.
#[derive(Debug, Serialize)]
pub struct Health {
    /// Always `"ok"`.
    pub status: &'static str,
    /// The relay's version.
    pub version: &'static str,
}

/// Body of a successful `GET /readyz`.
#[derive(Debug, Serialize)]
pub struct Ready {
    /// Always `"ready"`.
    pub status: &'static str,
}

/// `GET /healthz` and `GET /readyz`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
}

async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
    })
}

async fn readyz(State(state): State<AppState>) -> Result<Json<Ready>, ApiError> {
    let index = state.config().index_html();
    match tokio::fs::metadata(&index).await {
        Ok(meta) if meta.is_file() => Ok(Json(Ready { status: "ready" })),
        _ => Err(ApiError::NotReady(format!(
            "no built web app: {} is missing",
            index.display()
        ))),
    }
}
