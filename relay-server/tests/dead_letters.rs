//! An event the database refuses never stops the writer: in SQLite and in a real PostgreSQL
//! with PostGIS, a batch of a good event, a poisoned one and a good one stores both good ones,
//! sets the poisoned one aside in `dead_letters` (counted in
//! `relay_dead_letters_total{sink="database"}`), and the writer goes on storing what comes
//! after.

mod common;

use std::sync::Arc;
use std::time::Duration;

use relay_server::Metrics;
use relay_server::bus::{BusEvent, Outbox};
use relay_server::store::Store;
use serde_json::json;
use tokio::sync::mpsc;

use common::TempDir;
use common::services::Postgres;

/// A good event of room `room`.
fn good(room: &str, tick: u64) -> Arc<BusEvent> {
    Arc::new(BusEvent::from_payload(
        room,
        "0000beef",
        tick,
        0,
        json!({"type": "impact", "tick": tick, "time_s": tick as f64 / 10.0,
               "at": {"lat_deg": 33.0, "lon_deg": -118.0}}),
    ))
}

/// An event both databases refuse, made at the store level (sim-core refuses control
/// characters in names, but a store must survive whatever reaches it): a NUL character in a
/// JSON string, which PostgreSQL's jsonb refuses (SQLSTATE 22P05), and a NaN time, which
/// SQLite stores as NULL and `time_s NOT NULL` refuses.
fn poisoned(room: &str, tick: u64) -> Arc<BusEvent> {
    let mut event = BusEvent::from_payload(
        room,
        "0000beef",
        tick,
        0,
        json!({"type": "radar-placed", "tick": tick, "time_s": 0.0, "call_sign": "RAD\u{0}X"}),
    );
    event.time_s = f64::NAN;
    Arc::new(event)
}

async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while tokio::time::Instant::now() < deadline {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

fn metric(metrics: &Metrics, line_start: &str) -> f64 {
    let text = metrics.encode().unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(line_start)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {line_start} in\n{text}"))
}

/// Whether each event id is stored in `event`.
async fn stored(store: &Store, ids: &[&str]) -> Vec<bool> {
    let mut found = Vec::new();
    for id in ids {
        let n: i64 = if let Some(pool) = store.sqlite() {
            sqlx::query_scalar("SELECT COUNT(*) FROM event WHERE event_id = ?")
                .bind(id)
                .fetch_one(pool)
                .await
                .unwrap()
        } else {
            sqlx::query_scalar("SELECT COUNT(*) FROM event WHERE event_id = $1")
                .bind(id)
                .fetch_one(store.postgres().unwrap())
                .await
                .unwrap()
        };
        found.push(n == 1);
    }
    found
}

/// The scenario of both tests; `code` is the error code the database gives the poisoned
/// event.
async fn refused_events_are_set_aside(store: Store, code: &str) {
    let metrics = Metrics::new();
    let m = metrics.db().clone();
    let outbox = Arc::new(Outbox::new(1_000, m.buffer.clone(), m.dropped.clone()));
    // Queued before the writer starts, so the three are one batch.
    let (first, bad, last) = (good("alpha", 1), poisoned("alpha", 2), good("beta", 3));
    for e in [&first, &bad, &last] {
        outbox.push(e.clone());
    }
    let (_launches, durable) = mpsc::channel(16);
    store.spawn_writer(
        outbox.clone(),
        durable,
        m.clone(),
        metrics.dead_letters("database"),
    );

    eventually("the batch written", || {
        let outbox = outbox.clone();
        async move { outbox.is_empty() }
    })
    .await;
    assert_eq!(
        stored(&store, &[&first.event_id, &bad.event_id, &last.event_id]).await,
        [true, false, true]
    );
    let letters = store.dead_letters().await.unwrap();
    assert_eq!(letters.len(), 1, "{letters:?}");
    let letter = &letters[0];
    assert_eq!(letter.event_id, bad.event_id);
    assert_eq!(
        (letter.room.as_str(), letter.kind.as_str()),
        ("alpha", "radar-placed")
    );
    assert_eq!(letter.code.as_deref(), Some(code), "{letter:?}");
    assert!(!letter.error.is_empty());
    // The raw event, NUL escaped, reads back as the event.
    let back: serde_json::Value = serde_json::from_str(&letter.event).unwrap();
    assert_eq!(back["payload"]["call_sign"], "RAD\u{0}X");
    assert_eq!(
        metric(&metrics, r#"relay_dead_letters_total{sink="database"}"#),
        1.0
    );
    assert_eq!(metric(&metrics, "db_written_total"), 2.0);

    // The writer goes on: later events are stored, a later poisoned one is set aside too.
    let (next, bad2, after) = (good("beta", 4), poisoned("gamma", 5), good("gamma", 6));
    for e in [&next, &bad2, &after] {
        outbox.push(e.clone());
    }
    eventually("the later events", || {
        let store = store.clone();
        let ids = [next.event_id.clone(), after.event_id.clone()];
        async move { stored(&store, &[&ids[0], &ids[1]]).await == [true, true] }
    })
    .await;
    eventually("the second dead letter", || {
        let store = store.clone();
        async move { store.dead_letters().await.unwrap().len() == 2 }
    })
    .await;
    assert_eq!(
        metric(&metrics, r#"relay_dead_letters_total{sink="database"}"#),
        2.0
    );
    assert_eq!(metric(&metrics, "db_written_total"), 4.0);
    assert_eq!(metric(&metrics, "db_buffer_events"), 0.0);
    // Nothing was counted as the database being unavailable.
    let text = metrics.encode().unwrap();
    assert!(!text.contains(r#"db_errors_total{op="write"}"#), "{text}");
}

#[tokio::test]
async fn sqlite_sets_refused_events_aside_and_goes_on() {
    let data = TempDir::new("dead-letters");
    let url = format!(
        "sqlite://{}?mode=rwc",
        data.path().join("relay.sqlite").display()
    );
    let store = Store::connect(&url).await.unwrap();
    // SQLITE_CONSTRAINT_NOTNULL: the NaN time became NULL.
    refused_events_are_set_aside(store, "1299").await;
}

#[tokio::test]
async fn postgres_sets_refused_events_aside_and_goes_on() {
    let Some(pg) = Postgres::start() else {
        return;
    };
    let store = Store::connect(&pg.url()).await.unwrap();
    assert!(store.is_postgres());
    // 22P05: jsonb refuses the NUL character.
    refused_events_are_set_aside(store, "22P05").await;
}
