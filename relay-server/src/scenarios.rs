//! Short links to scenarios, kept in memory and, when the relay has a database, stored there
//! too (so links survive restarts).
//!
//! - `POST /api/scenarios` with a scenario file, a session document (a scenario with the
//!   commands given during a session) or a share link (`1.…`, `#s=1.…` or a whole URL) as the
//!   body: validated by `sim_core::link` ([`Session::from_json`] or [`Session::from_link`]);
//!   answers 201 `{id, link: "/s/{id}", scenario: "/api/scenarios/{id}"}`, or 400 with one
//!   sentence.
//! - `GET /api/scenarios/{id}`: the scenario JSON as it was posted (a posted link: the scenario,
//!   or session, it carries).
//! - `GET /s/{id}`: a redirect (303) to the app with the share link in the fragment,
//!   `/#s=<link>`, written by the same encoder as the app's Share button and `mdsim link`.
//!
//! Invariants: only valid scenarios, sessions and links are stored; ids are 64 random bits from the operating
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
use sim_core::engine::MAX_SCENARIO_BYTES;
use sim_core::link::Session;

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

/// Whether a posted body is a share link rather than JSON: JSON starts with `{`, `[` or `"`
/// (an empty body is bad JSON, reported as such).
fn is_link(body: &str) -> bool {
    let t = body.trim_start();
    !t.is_empty() && !t.starts_with(['{', '[', '"'])
}

/// The session a stored or posted text holds: JSON (a scenario or a session) or a link.
fn session_of(text: &str) -> Result<Session, String> {
    if is_link(text) {
        Session::from_link(text).map_err(|e| format!("invalid link: {e}"))
    } else {
        Session::from_json(text).map_err(|e| e.to_string())
    }
}

async fn create(State(state): State<AppState>, body: String) -> Result<Response, ApiError> {
    let session = session_of(&body).map_err(ApiError::bad_request)?;
    // A link is stored in the canonical form this build writes (no URL around it).
    let body = if is_link(&body) {
        session.to_link()
    } else {
        body
    };
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
    let json = if is_link(&text) {
        stored_session(&text)?.to_json_pretty()
    } else {
        text.to_string()
    };
    Ok(([(header::CONTENT_TYPE, "application/json")], json).into_response())
}

/// A stored text as a session; stored texts were validated, so a failure means a newer
/// relay wrote it or the store was edited by hand.
fn stored_session(text: &str) -> Result<Session, ApiError> {
    session_of(text).map_err(|e| {
        tracing::warn!("a stored scenario no longer decodes: {e}");
        ApiError::Internal(format!("the stored scenario cannot be read: {e}"))
    })
}

async fn open(State(state): State<AppState>, Path(id): Path<String>) -> Result<Redirect, ApiError> {
    let text = lookup(&state, &id).await?;
    let link = stored_session(&text)?.to_link();
    Ok(Redirect::to(&format!(
        "/#{}",
        sim_core::link::fragment(&link)
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_and_json_are_told_apart() {
        for json in ["", "  ", "{}", " [1]", "\"x\""] {
            assert!(!is_link(json), "{json:?}");
        }
        for link in ["1.abc", " #s=1.abc", "http://h/#s=1.abc", "hello"] {
            assert!(is_link(link), "{link:?}");
        }
        assert!(
            session_of("hello")
                .unwrap_err()
                .starts_with("invalid link: ")
        );
        assert!(
            session_of("{}")
                .unwrap_err()
                .starts_with("invalid scenario")
        );
    }

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
