//! Short links to scenarios, kept in memory and, when the relay has a database, stored there
//! too (so links survive restarts).
//!
//! - `POST /api/scenarios` with a scenario file as the body: validated by
//!   [`Scenario::from_json`]; answers 201 `{id, link: "/s/{id}", scenario: "/api/scenarios/{id}"}`.
//! - `GET /api/scenarios/{id}`: the scenario JSON as it was posted.
//! - `GET /s/{id}`: a redirect (303) to the app with `?scenario={id}`, which the app loads from
//!   `/api/scenarios/{id}`.
//!
//! Invariants: only valid scenarios are stored; ids are 64 random bits from the operating
//! system (16 hex digits), so links cannot be enumerated; the store is bounded in count and
//! bytes, dropping the oldest links first; with a database every link is also written there
//! (before the answer) and a link missing from memory is looked up there, so links survive a
//! restart. Without a database (`--no-database`, or tests) links live until the relay stops.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use sim_core::engine::{MAX_SCENARIO_BYTES, Scenario};

use crate::AppState;
use crate::error::ApiError;

/// Most scenarios kept.
pub const MAX_STORED: usize = 1_000;
/// Most bytes of scenario text kept.
pub const MAX_STORED_BYTES: usize = 64 << 20;

/// The in-memory store of posted scenarios.
#[derive(Debug, Clone, Default)]
pub struct ScenarioStore {
    inner: Arc<Mutex<Store>>,
}

#[derive(Debug, Default)]
struct Store {
    by_id: HashMap<String, Arc<str>>,
    order: VecDeque<String>,
    bytes: usize,
}

impl ScenarioStore {
    /// Stores validated scenario text; returns its id.
    pub fn insert(&self, text: &str) -> Result<String, String> {
        let mut bytes = [0u8; 8];
        getrandom::fill(&mut bytes).map_err(|e| e.to_string())?;
        let id: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let mut store = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        while store.order.len() >= MAX_STORED || store.bytes + text.len() > MAX_STORED_BYTES {
            let Some(oldest) = store.order.pop_front() else {
                break;
            };
            if let Some(old) = store.by_id.remove(&oldest) {
                store.bytes -= old.len();
            }
        }
        store.bytes += text.len();
        store.order.push_back(id.clone());
        store.by_id.insert(id.clone(), Arc::from(text));
        Ok(id)
    }

    /// The scenario text stored under `id`.
    pub fn get(&self, id: &str) -> Option<Arc<str>> {
        let store = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        store.by_id.get(id).cloned()
    }
}

/// Body of `POST /api/scenarios`.
#[derive(Debug, Serialize)]
pub struct Created {
    /// The scenario's id.
    pub id: String,
    /// The short link that opens the app with the scenario.
    pub link: String,
    /// Where the scenario itself is fetched.
    pub scenario: String,
}

/// `POST /api/scenarios`, `GET /api/scenarios/{id}`, `GET /s/{id}`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/scenarios",
            post(create).layer(DefaultBodyLimit::max(MAX_SCENARIO_BYTES)),
        )
        .route("/api/scenarios/{id}", get(fetch))
        .route("/s/{id}", get(open))
}

async fn create(State(state): State<AppState>, body: String) -> Result<Response, ApiError> {
    Scenario::from_json(&body).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let id = state
        .scenarios()
        .insert(&body)
        .map_err(ApiError::Internal)?;
    if let Some(store) = state.store()
        && let Err(err) = store.save_scenario(&id, &body).await
    {
        // The link still works until the relay restarts.
        state.metrics().db().error("scenario");
        tracing::warn!("{err}; the short link {id} lives in memory only");
    }
    Ok((
        StatusCode::CREATED,
        Json(Created {
            link: format!("/s/{id}"),
            scenario: format!("/api/scenarios/{id}"),
            id,
        }),
    )
        .into_response())
}

fn not_found(id: &str) -> ApiError {
    let id: String = id.chars().take(40).collect();
    ApiError::NotFound(format!("no scenario {id:?}: the link is wrong or expired"))
}

/// The scenario text of `id`, from memory or the database.
async fn lookup(state: &AppState, id: &str) -> Result<Arc<str>, ApiError> {
    if let Some(text) = state.scenarios().get(id) {
        return Ok(text);
    }
    // Ids are 16 hex digits; anything else cannot be stored.
    if id.len() != 16 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(not_found(id));
    }
    let Some(store) = state.store() else {
        return Err(not_found(id));
    };
    match store.load_scenario(id).await {
        Ok(Some(text)) => Ok(Arc::from(text)),
        Ok(None) => Err(not_found(id)),
        Err(err) => {
            state.metrics().db().error("scenario");
            Err(ApiError::NotReady(format!(
                "the scenario store is unreachable ({err}); try again"
            )))
        }
    }
}

async fn fetch(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let text = lookup(&state, &id).await?;
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        text.to_string(),
    )
        .into_response())
}

async fn open(State(state): State<AppState>, Path(id): Path<String>) -> Result<Redirect, ApiError> {
    lookup(&state, &id).await?;
    Ok(Redirect::to(&format!("/?scenario={id}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_store_drops_the_oldest_beyond_its_count() {
        let store = ScenarioStore::default();
        let first = store.insert("a").unwrap();
        let mut last = String::new();
        for _ in 0..MAX_STORED {
            last = store.insert("b").unwrap();
        }
        assert!(store.get(&first).is_none());
        assert_eq!(store.get(&last).as_deref(), Some("b"));
        let inner = store.inner.lock().unwrap();
        assert_eq!(inner.by_id.len(), MAX_STORED);
        assert_eq!(inner.bytes, MAX_STORED);
    }
}
