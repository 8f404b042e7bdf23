//! What the writer does when a write fails: tell a database that refused the data from one
//! that could not be reached, and set refused events aside so that they never stop the rest.
//!
//! - [`WriteError::classify`] sorts a sqlx error. **Refused** is a verdict on the data, the
//!   same whenever it is retried: in PostgreSQL the SQLSTATE classes `22` (data exception,
//!   such as `22P05`, a NUL character in a jsonb string, or `22021`, a NUL byte in text), `23`
//!   (integrity constraint) and `54` (program limit exceeded, such as a value too large); in
//!   SQLite a constraint (`SQLITE_CONSTRAINT*`, such as the NOT NULL that a NaN, stored as
//!   NULL, breaks), `SQLITE_TOOBIG`, `SQLITE_MISMATCH` or `SQLITE_RANGE`; and a value sqlx
//!   could not encode. Everything else (connection and I/O errors, pool timeouts, a server
//!   shutting down, deadlocks and serialization failures, disk full, a failed migration) is
//!   **unavailable**: the writer keeps the batch and retries it with backoff, nothing lost.
//! - [`Store::write_or_set_aside`] writes a batch; when it is refused, it halves the batch
//!   until every refused event stands alone (each half is its own transaction, written in the
//!   batch's order, so the good events are stored), then records each refused event in the
//!   `dead_letters` table (event id, room, type, the envelope as JSON text, the database's
//!   code and message, the time), counts it in `relay_dead_letters_total{sink="database"}`
//!   and logs the first refusal of each error code (later ones are only counted).
//! - A dead letter the database refuses too (it should not: its text is escaped JSON) is
//!   counted in `db_errors_total{op="dead-letter"}`, logged once, and dropped; the writer
//!   never waits on it.
//!
//! Invariant: only refused events are set aside; a database that goes away in the middle of
//! this makes the whole batch wait and be written again later (writes and dead letters are
//! idempotent by event id).

use std::borrow::Cow;
use std::collections::HashSet;
use std::ops::Range;
use std::sync::Arc;

use prometheus_client::metrics::counter::Counter;

use super::{Pool, Store};
use crate::bus::BusEvent;
use crate::metrics::ServiceMetrics;

/// Longest database message kept in a dead letter or a log line (characters).
const MAX_ERROR_CHARS: usize = 2_000;
/// Longest id, room or type kept in a dead letter (characters): at most 2 KiB of UTF-8, under
/// PostgreSQL's limit on a B-tree index entry, so even an over-long id can be set aside.
const MAX_NAME_CHARS: usize = 512;
/// Most distinct error codes remembered so each is logged once.
const MAX_LOGGED_CODES: usize = 256;

/// Why a write failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WriteError {
    /// The database could not be reached or failed for a reason of its own: the same write
    /// may succeed later.
    #[error("{0}")]
    Unavailable(String),
    /// The database refused the data: the same write will always fail.
    #[error("{message}")]
    Refused {
        /// The database's error code (SQLSTATE, or SQLite's extended result code).
        code: Option<String>,
        /// What the database said.
        message: String,
    },
}

impl WriteError {
    /// Sorts a failure of the given backend (`postgres`, else SQLite); `context` starts the
    /// message.
    pub fn classify(err: &sqlx::Error, postgres: bool, context: &str) -> Self {
        let message = format!("{context}: {err}");
        match err {
            sqlx::Error::Database(db) => {
                let code = db.code().map(Cow::into_owned);
                let refused = code.as_deref().is_some_and(|code| {
                    if postgres {
                        refused_sqlstate(code)
                    } else {
                        refused_sqlite_code(code)
                    }
                });
                if refused {
                    Self::Refused { code, message }
                } else {
                    Self::Unavailable(message)
                }
            }
            sqlx::Error::Encode(_) => Self::Refused {
                code: None,
                message,
            },
            _ => Self::Unavailable(message),
        }
    }
}

/// Whether a PostgreSQL SQLSTATE is a verdict on the data: classes 22, 23 and 54.
fn refused_sqlstate(code: &str) -> bool {
    matches!(code.get(..2), Some("22" | "23" | "54"))
}

/// Whether a SQLite extended result code is a verdict on the data: `SQLITE_TOOBIG` (18),
/// `SQLITE_CONSTRAINT` (19) and its extended codes, `SQLITE_MISMATCH` (20), `SQLITE_RANGE`
/// (25).
fn refused_sqlite_code(code: &str) -> bool {
    code.parse::<i32>()
        .is_ok_and(|c| matches!(c & 0xff, 18 | 19 | 20 | 25))
}

/// Text the database can always store: NUL (refused by PostgreSQL in text) is written as the
/// JSON escape `\u0000`, then the text is cut to `max` characters.
fn storable(text: &str, max: usize) -> String {
    text.replace('\0', "\\u0000").chars().take(max).collect()
}

/// One refused event, as kept in `dead_letters`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// The event's id (NULs escaped).
    pub event_id: String,
    /// Its room.
    pub room: String,
    /// Its type.
    pub kind: String,
    /// The whole envelope as JSON text.
    pub event: String,
    /// The database's error code.
    pub code: Option<String>,
    /// What the database said.
    pub error: String,
}

impl DeadLetter {
    fn new(event: &BusEvent, code: Option<&str>, error: &str) -> Self {
        let json = serde_json::to_string(event)
            .unwrap_or_else(|e| format!("{{\"unserializable\": \"{e}\"}}"));
        Self {
            event_id: storable(&event.event_id, MAX_NAME_CHARS),
            room: storable(&event.room, MAX_NAME_CHARS),
            kind: storable(&event.kind, MAX_NAME_CHARS),
            event: storable(&json, usize::MAX),
            code: code.map(|c| storable(c, 16)),
            error: storable(error, MAX_ERROR_CHARS),
        }
    }
}

/// What the writer keeps about refusals: their counter and the error codes already logged,
/// so each kind of refusal is logged once.
#[derive(Debug)]
pub struct Refusals {
    /// `relay_dead_letters_total{sink="database"}`.
    counter: Counter,
    seen: HashSet<String>,
}

impl Refusals {
    /// Refusals counted in `counter`, none logged yet.
    pub fn new(counter: Counter) -> Self {
        Self {
            counter,
            seen: HashSet::new(),
        }
    }

    /// Whether `key` is seen for the first time (then it is remembered, up to a bound).
    fn first(&mut self, key: &str) -> bool {
        if self.seen.contains(key) || self.seen.len() >= MAX_LOGGED_CODES {
            return false;
        }
        self.seen.insert(key.to_owned());
        true
    }
}

impl Store {
    /// Writes `batch`; if the database refuses it, stores every event it accepts and sets
    /// the refused ones aside in `dead_letters`. Returns how many were set aside, or why the
    /// database is unavailable (then the whole batch must be written again later).
    pub async fn write_or_set_aside(
        &self,
        batch: &[Arc<BusEvent>],
        metrics: &ServiceMetrics,
        refusals: &mut Refusals,
    ) -> Result<usize, String> {
        let refused = match self.write_batch(batch).await {
            Ok(()) => return Ok(0),
            Err(WriteError::Unavailable(why)) => return Err(why),
            Err(refused @ WriteError::Refused { .. }) => refused,
        };
        // Depth first, first half on top: the accepted events are written in batch order.
        let mut pending: Vec<(Range<usize>, Option<WriteError>)> =
            vec![(0..batch.len(), Some(refused))];
        let mut set_aside: Vec<(usize, WriteError)> = Vec::new();
        while let Some((range, known)) = pending.pop() {
            let refusal = match known {
                Some(refusal) => refusal,
                None => match self.write_batch(&batch[range.clone()]).await {
                    Ok(()) => continue,
                    Err(WriteError::Unavailable(why)) => return Err(why),
                    Err(refusal) => refusal,
                },
            };
            if range.len() <= 1 {
                set_aside.push((range.start, refusal));
                continue;
            }
            let mid = range.start + range.len() / 2;
            pending.push((mid..range.end, None));
            pending.push((range.start..mid, None));
        }
        for (index, refusal) in &set_aside {
            let WriteError::Refused { code, message } = refusal else {
                continue;
            };
            let letter = DeadLetter::new(&batch[*index], code.as_deref(), message);
            self.set_aside(letter, metrics, refusals).await?;
        }
        Ok(set_aside.len())
    }

    /// Records one refused event, counts it and logs the first of its kind.
    async fn set_aside(
        &self,
        letter: DeadLetter,
        metrics: &ServiceMetrics,
        refusals: &mut Refusals,
    ) -> Result<(), String> {
        refusals.counter.inc();
        let code = letter.code.clone().unwrap_or_else(|| "encode".into());
        match self.insert_dead_letter(&letter).await {
            Ok(()) => {
                if refusals.first(&code) {
                    tracing::warn!(
                        event_id = %letter.event_id,
                        code = %code,
                        "the database refused event {} ({}); it is kept in the dead_letters \
                         table and the writer goes on (later refusals with code {code} are only \
                         counted in relay_dead_letters_total)",
                        letter.event_id,
                        letter.error
                    );
                }
                Ok(())
            }
            Err(WriteError::Unavailable(why)) => Err(why),
            Err(WriteError::Refused { message, .. }) => {
                metrics.error("dead-letter");
                if refusals.first(&format!("dead-letter {code}")) {
                    tracing::error!(
                        event_id = %letter.event_id,
                        "the database refused event {} ({}) and refused to keep it in \
                         dead_letters too ({message}); it is dropped (counted in \
                         db_errors_total{{op=\"dead-letter\"}}); the event: {}",
                        letter.event_id,
                        letter.error,
                        storable(&letter.event, MAX_ERROR_CHARS)
                    );
                }
                Ok(())
            }
        }
    }

    async fn insert_dead_letter(&self, letter: &DeadLetter) -> Result<(), WriteError> {
        let result = match &self.pool {
            Pool::Sqlite(pool) => sqlx::query(
                "INSERT INTO dead_letters (event_id, room, kind, event, code, error) \
                 VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING",
            )
            .bind(&letter.event_id)
            .bind(&letter.room)
            .bind(&letter.kind)
            .bind(&letter.event)
            .bind(&letter.code)
            .bind(&letter.error)
            .execute(pool)
            .await
            .map(drop),
            Pool::Postgres(pool) => sqlx::query(
                "INSERT INTO dead_letters (event_id, room, kind, event, code, error) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (event_id) DO NOTHING",
            )
            .bind(&letter.event_id)
            .bind(&letter.room)
            .bind(&letter.kind)
            .bind(&letter.event)
            .bind(&letter.code)
            .bind(&letter.error)
            .execute(pool)
            .await
            .map(drop),
        };
        result.map_err(|e| {
            WriteError::classify(&e, self.is_postgres(), "keeping a dead letter failed")
        })
    }

    /// The dead letters, oldest first (for tests and tools).
    pub async fn dead_letters(&self) -> Result<Vec<DeadLetter>, String> {
        self.ensure_ready().await?;
        let sql = "SELECT event_id, room, kind, event, code, error FROM dead_letters ORDER BY id";
        type Row = (String, String, String, String, Option<String>, String);
        let rows: Result<Vec<Row>, sqlx::Error> = match &self.pool {
            Pool::Sqlite(pool) => sqlx::query_as(sql).fetch_all(pool).await,
            Pool::Postgres(pool) => sqlx::query_as(sql).fetch_all(pool).await,
        };
        let rows = rows.map_err(|e| format!("reading the dead letters failed: {e}"))?;
        Ok(rows
            .into_iter()
            .map(|(event_id, room, kind, event, code, error)| DeadLetter {
                event_id,
                room,
                kind,
                event,
                code,
                error,
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_errors_are_refusals_and_the_rest_is_unavailability() {
        for code in ["22P05", "22021", "23505", "23503", "54000"] {
            assert!(refused_sqlstate(code), "{code}");
        }
        for code in [
            "08006", "57P01", "53100", "40001", "40P01", "42P01", "XX000", "2",
        ] {
            assert!(!refused_sqlstate(code), "{code}");
        }
        // NOT NULL, UNIQUE, FOREIGN KEY, plain CONSTRAINT, TOOBIG, MISMATCH.
        for code in ["1299", "2067", "787", "19", "18", "20"] {
            assert!(refused_sqlite_code(code), "{code}");
        }
        // BUSY, LOCKED, IOERR_WRITE, FULL, CANTOPEN, "nonsense".
        for code in ["5", "6", "778", "13", "14", "nonsense"] {
            assert!(!refused_sqlite_code(code), "{code}");
        }
        let io = sqlx::Error::Io(std::io::ErrorKind::ConnectionRefused.into());
        assert!(matches!(
            WriteError::classify(&io, true, "x"),
            WriteError::Unavailable(_)
        ));
        assert!(matches!(
            WriteError::classify(&sqlx::Error::PoolTimedOut, false, "x"),
            WriteError::Unavailable(_)
        ));
    }

    #[test]
    fn dead_letters_are_always_storable_text() {
        let event = BusEvent::from_payload(
            "r\0oom",
            "00000000",
            1,
            0,
            serde_json::json!({"type": "radar-placed", "time_s": 0.0, "call_sign": "A\u{0}B"}),
        );
        let letter = DeadLetter::new(&event, Some("22P05"), "bad \0 text");
        for text in [&letter.event_id, &letter.room, &letter.event, &letter.error] {
            assert!(!text.contains('\0'), "{text:?}");
        }
        assert!(letter.event.contains(r"A\u0000B"), "{}", letter.event);
        assert_eq!(letter.room, r"r\u0000oom");
        // Even an id of NULs stays within a PostgreSQL index entry.
        let mut long = event.clone();
        long.event_id = "\0".repeat(10_000);
        let letter = DeadLetter::new(&long, None, "x");
        assert!(letter.event_id.len() <= 2048, "{}", letter.event_id.len());
        let back: serde_json::Value = serde_json::from_str(&letter.event).unwrap();
        assert_eq!(back["payload"]["call_sign"], "A\u{0}B");
    }

    #[test]
    fn each_code_is_logged_once() {
        let mut refusals = Refusals::new(Counter::default());
        assert!(refusals.first("22P05"));
        assert!(!refusals.first("22P05"));
        assert!(refusals.first("1299"));
    }
}
