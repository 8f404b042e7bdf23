//! Persistence: the SQLite file under `--data-dir` by default, PostgreSQL with PostGIS with
//! `--database-url`.
//!
//! The schema (`relay-server/migrations/{sqlite,postgres}/`, applied by sqlx's migrator when
//! the writer first reaches the database) covers the old system's tables (`missile_type`,
//! `battery_type`, `radar_type`, `battery`, `radar_site`, `missile_flight` with launch and
//! target points as `geography(Point, 4326)` in PostgreSQL, `lat`/`lon` columns in SQLite)
//! and extends them: `room`, `event` (keyed by event id, JSON payload, a point where the event
//! has a place), the flown path of each missile (`missile_flight.trajectory`, a line string
//! written from the relay's `trajectory` event at impact) and `scenario` (the short links, so
//! they survive restarts), and `dead_letters` (events the database refused, see
//! [`dead_letter`]). The missile,
//! radar and interceptor catalogs are written into the type tables at start, with the old
//! seed data, the Southern California preset (RAD_VBG, BAT_LA, BAT_SD), in the site tables.
//!
//! Codemap: this file opens the database, migrates it and holds every query; [`writer`] is
//! the task that drains the event queues into it; [`dead_letter`] tells a refused write from an
//! unreachable database and sets refused events aside.
//!
//! Invariants: every write is idempotent (`INSERT ... ON CONFLICT DO NOTHING` keyed by event
//! id, room id or scenario id), so a batch retried after a failure stores nothing twice; the
//! writer acknowledges a batch only once its transaction committed (or its refused events were
//! set aside), so while the database is down the events wait in the bounded
//! [`crate::bus::Outbox`] (`db_buffer_events`) and are written when it returns; an event the
//! database refuses never blocks the others. The relay starts even when the database is
//! unreachable.

mod dead_letter;
mod writer;

use std::collections::BTreeSet;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::Value;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use sqlx::{QueryBuilder, Row, SqlSafeStr};

use crate::bus::BusEvent;

pub use dead_letter::{DeadLetter, WriteError};

/// Rows per multi-row `INSERT` (9 or 10 parameters each: within SQLite's and PostgreSQL's
/// limits on bound parameters).
const ROWS_PER_INSERT: usize = 256;
/// How long to wait for a connection before an operation counts as failed.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

/// The old system's seed, the Southern California preset (`scenarios/socal-scud-c.json`):
/// the AN/TPY-2 `RAD_VBG` at Vandenberg.
const SOCAL_RADARS: [(&str, &str, LatLon); 1] = [("RAD_VBG", "AN/TPY-2", (34.73, -120.57))];
/// The preset's SM-6 batteries: `BAT_LA` (32 rounds) and `BAT_SD` (16 rounds).
const SOCAL_BATTERIES: [(&str, &str, LatLon, i32); 2] = [
    ("BAT_LA", "SM-6", (34.05, -118.25), 32),
    ("BAT_SD", "SM-6", (32.71, -117.15), 16),
];

/// The migrations, `(version, name, SQL)`, for SQLite and for PostgreSQL.
const SQLITE_MIGRATIONS: [(i64, &str, &str); 2] = [
    (
        1,
        "init",
        include_str!("../migrations/sqlite/0001_init.sql"),
    ),
    (
        2,
        "dead letters",
        include_str!("../migrations/sqlite/0002_dead_letters.sql"),
    ),
];
const POSTGRES_MIGRATIONS: [(i64, &str, &str); 2] = [
    (
        1,
        "init",
        include_str!("../migrations/postgres/0001_init.sql"),
    ),
    (
        2,
        "dead letters",
        include_str!("../migrations/postgres/0002_dead_letters.sql"),
    ),
];

#[derive(Debug, Clone)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// A handle to the database; cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pool: Pool,
    migrated: Arc<AtomicBool>,
    /// Serialises the first migration (the writer and a short link may both try).
    migrating: Arc<tokio::sync::Mutex<()>>,
}

fn migrator(migrations: &[(i64, &'static str, &'static str)]) -> Migrator {
    Migrator::with_migrations(
        migrations
            .iter()
            .map(|&(version, name, sql)| {
                Migration::new(
                    version,
                    name.into(),
                    MigrationType::Simple,
                    sql.into_sql_str(),
                    false,
                )
            })
            .collect(),
    )
}

/// Text of a missile id in a launch event (`M3`, as the REST answer spells it).
fn missile_text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::Number(n) => Some(format!("M{n}")),
        Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

fn point(v: Option<&Value>) -> Option<(f64, f64)> {
    let v = v?;
    let lat = v.get("lat_deg").or_else(|| v.get("lat"))?.as_f64()?;
    let lon = v.get("lon_deg").or_else(|| v.get("lon"))?.as_f64()?;
    (lat.is_finite() && lon.is_finite()).then_some((lat, lon))
}

/// `(lat, lon)` in degrees.
type LatLon = (f64, f64);

/// A flight row's `(missile_id, type, launch, target)`.
type Flight = (String, String, LatLon, LatLon);

/// A launch event's flight row.
fn flight(event: &BusEvent) -> Option<Flight> {
    if event.kind != "launch" {
        return None;
    }
    let p = &event.payload;
    Some((
        missile_text(p.get("missile"))?,
        p.get("missile_type")?.as_str()?.to_string(),
        point(p.get("from"))?,
        point(p.get("to"))?,
    ))
}

/// `{room}:{run}:`, the start of every event id of one run of a room; missile ids repeat
/// across runs, so updates of a flight match it.
fn run_prefix(event_id: &str) -> String {
    let mut parts = event_id.splitn(3, ':');
    format!(
        "{}:{}:",
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default()
    )
}

/// A `trajectory` event's missile and path as WKT `LINESTRING(lon lat, ...)` (at least two
/// valid points).
fn trajectory(event: &BusEvent) -> Option<(String, String)> {
    if event.kind != "trajectory" {
        return None;
    }
    let points: Vec<String> = event
        .payload
        .get("points")?
        .as_array()?
        .iter()
        .filter_map(|p| {
            let lat = p.get(0)?.as_f64()?;
            let lon = p.get(1)?.as_f64()?;
            ((-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon))
                .then(|| format!("{lon} {lat}"))
        })
        .collect();
    if points.len() < 2 {
        return None;
    }
    Some((
        missile_text(event.payload.get("missile"))?,
        format!("LINESTRING({})", points.join(", ")),
    ))
}

/// The missile an `intercept` event killed, if it says so.
fn killed(event: &BusEvent) -> Option<String> {
    if event.kind != "intercept" || event.payload.get("kill")?.as_bool() != Some(true) {
        return None;
    }
    let p = &event.payload;
    missile_text(
        p.get("missile")
            .or_else(|| p.get("target"))
            .or_else(|| p.get("missile_id")),
    )
}

impl Store {
    /// Opens a pool on `url` (`sqlite://PATH?mode=rwc` or `postgres://...`) without waiting
    /// for the database: the first use connects. Fails only on a malformed URL or when the
    /// SQLite file's directory cannot be created.
    pub async fn connect(url: &str) -> Result<Self, String> {
        let pool = if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)
                .map_err(|e| format!("bad SQLite URL {url}: {e}"))?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .busy_timeout(Duration::from_secs(5));
            if let Some(dir) = options.get_filename().parent()
                && !dir.as_os_str().is_empty()
            {
                std::fs::create_dir_all(dir).map_err(|e| {
                    format!("cannot create the data directory {}: {e}", dir.display())
                })?;
            }
            Pool::Sqlite(
                SqlitePoolOptions::new()
                    .max_connections(4)
                    .acquire_timeout(ACQUIRE_TIMEOUT)
                    .connect_lazy_with(options),
            )
        } else {
            Pool::Postgres(
                PgPoolOptions::new()
                    .max_connections(4)
                    .acquire_timeout(ACQUIRE_TIMEOUT)
                    .connect_lazy(url)
                    .map_err(|e| format!("bad database URL: {e}"))?,
            )
        };
        let store = Self {
            pool,
            migrated: Arc::default(),
            migrating: Arc::default(),
        };
        // Ready at once when the database is up; otherwise the writer keeps trying.
        if let Err(err) = store.ensure_ready().await {
            tracing::warn!("the database is not ready yet ({err}); events wait in the buffer");
        }
        Ok(store)
    }

    /// Whether this is PostgreSQL (else SQLite).
    pub fn is_postgres(&self) -> bool {
        matches!(self.pool, Pool::Postgres(_))
    }

    /// Applies the migrations and writes the catalogs, once.
    pub async fn ensure_ready(&self) -> Result<(), String> {
        if self.migrated.load(Ordering::Acquire) {
            return Ok(());
        }
        let _guard = self.migrating.lock().await;
        if self.migrated.load(Ordering::Acquire) {
            return Ok(());
        }
        match &self.pool {
            Pool::Sqlite(pool) => migrator(&SQLITE_MIGRATIONS).run(pool).await,
            Pool::Postgres(pool) => migrator(&POSTGRES_MIGRATIONS).run(pool).await,
        }
        .map_err(|e| format!("migrating the database failed: {e}"))?;
        self.write_catalogs()
            .await
            .map_err(|e| format!("writing the catalogs failed: {e}"))?;
        self.migrated.store(true, Ordering::Release);
        Ok(())
    }

    async fn write_catalogs(&self) -> Result<(), sqlx::Error> {
        let missiles = sim_core::missile::catalog::catalog();
        let radars = sim_core::radar::RadarKind::ALL;
        let interceptors = sim_core::interceptor::catalog::catalog();
        match &self.pool {
            Pool::Sqlite(pool) => {
                let mut tx = pool.begin().await?;
                for i in interceptors {
                    sqlx::query("INSERT INTO battery_type (name, max_range_m, max_speed_mps, blast_m) VALUES (?, ?, ?, ?) ON CONFLICT (name) DO NOTHING")
                        .bind(i.kind.name()).bind(i.max_range_m).bind(i.burnout_speed_m_s).bind(i.lethal_radius_m)
                        .execute(&mut *tx).await?;
                }
                for m in missiles {
                    sqlx::query("INSERT INTO missile_type (name, max_range_m, min_range_m, description) VALUES (?, ?, ?, ?) ON CONFLICT (name) DO NOTHING")
                        .bind(m.kind.name()).bind(m.max_range_m).bind(m.min_range_m).bind(m.description)
                        .execute(&mut *tx).await?;
                }
                for r in radars {
                    sqlx::query("INSERT INTO radar_type (name, max_range_m, revisit_s) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING")
                        .bind(r.name()).bind(r.params().max_instrumented_range_m).bind(r.coverage().revisit_s)
                        .execute(&mut *tx).await?;
                }
                for (call_sign, kind, (lat, lon)) in SOCAL_RADARS {
                    sqlx::query("INSERT INTO radar_site (type, lat, lon, call_sign) VALUES (?, ?, ?, ?) ON CONFLICT (call_sign) DO NOTHING")
                        .bind(kind).bind(lat).bind(lon).bind(call_sign)
                        .execute(&mut *tx).await?;
                }
                for (call_sign, kind, (lat, lon), ammo) in SOCAL_BATTERIES {
                    sqlx::query("INSERT INTO battery (type, lat, lon, ammo_count, call_sign) VALUES (?, ?, ?, ?, ?) ON CONFLICT (call_sign) DO NOTHING")
                        .bind(kind).bind(lat).bind(lon).bind(ammo).bind(call_sign)
                        .execute(&mut *tx).await?;
                }
                tx.commit().await
            }
            Pool::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                for i in interceptors {
                    sqlx::query("INSERT INTO battery_type (name, max_range_m, max_speed_mps, blast_m) VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO NOTHING")
                        .bind(i.kind.name()).bind(i.max_range_m).bind(i.burnout_speed_m_s).bind(i.lethal_radius_m)
                        .execute(&mut *tx).await?;
                }
                for m in missiles {
                    sqlx::query("INSERT INTO missile_type (name, max_range_m, min_range_m, description) VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO NOTHING")
                        .bind(m.kind.name()).bind(m.max_range_m).bind(m.min_range_m).bind(m.description)
                        .execute(&mut *tx).await?;
                }
                for r in radars {
                    sqlx::query("INSERT INTO radar_type (name, max_range_m, revisit_s) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING")
                        .bind(r.name()).bind(r.params().max_instrumented_range_m).bind(r.coverage().revisit_s)
                        .execute(&mut *tx).await?;
                }
                for (call_sign, kind, (lat, lon)) in SOCAL_RADARS {
                    sqlx::query("INSERT INTO radar_site (type, geom, call_sign) VALUES ($1, ST_SetSRID(ST_MakePoint($2, $3), 4326)::geography, $4) ON CONFLICT (call_sign) DO NOTHING")
                        .bind(kind).bind(lon).bind(lat).bind(call_sign)
                        .execute(&mut *tx).await?;
                }
                for (call_sign, kind, (lat, lon), ammo) in SOCAL_BATTERIES {
                    sqlx::query("INSERT INTO battery (type, geom, ammo_count, call_sign) VALUES ($1, ST_SetSRID(ST_MakePoint($2, $3), 4326)::geography, $4, $5) ON CONFLICT (call_sign) DO NOTHING")
                        .bind(kind).bind(lon).bind(lat).bind(ammo).bind(call_sign)
                        .execute(&mut *tx).await?;
                }
                tx.commit().await
            }
        }
    }

    /// Writes a batch of events in one transaction; idempotent by event id.
    pub async fn write_events(&self, batch: &[Arc<BusEvent>]) -> Result<(), String> {
        self.write_batch(batch).await.map_err(|e| e.to_string())
    }

    /// [`Store::write_events`], telling a database that refused the data from one that
    /// could not be reached.
    pub async fn write_batch(&self, batch: &[Arc<BusEvent>]) -> Result<(), WriteError> {
        self.ensure_ready().await.map_err(WriteError::Unavailable)?;
        self.write_events_inner(batch)
            .await
            .map_err(|e| WriteError::classify(&e, self.is_postgres(), "writing events failed"))
    }

    async fn write_events_inner(&self, batch: &[Arc<BusEvent>]) -> Result<(), sqlx::Error> {
        // Rooms first (the events reference them), then the events in multi-row inserts, then
        // the flights (which reference their launch events), then the rare updates.
        let rooms: BTreeSet<&str> = batch.iter().map(|e| e.room.as_str()).collect();
        let flights: Vec<(&BusEvent, Flight)> = batch
            .iter()
            .filter_map(|e| flight(e).map(|f| (&**e, f)))
            .collect();
        match &self.pool {
            Pool::Sqlite(pool) => {
                let mut tx = pool.begin().await?;
                for room in rooms {
                    sqlx::query("INSERT INTO room (id) VALUES (?) ON CONFLICT (id) DO NOTHING")
                        .bind(room)
                        .execute(&mut *tx)
                        .await?;
                }
                for chunk in batch.chunks(ROWS_PER_INSERT) {
                    let mut q = QueryBuilder::<sqlx::Sqlite>::new(
                        "INSERT INTO event (event_id, room, tick, idx, type, time_s, lat, lon, payload) ",
                    );
                    q.push_values(chunk, |mut b, e| {
                        let (lat, lon) = e.place().unzip();
                        b.push_bind(e.event_id.clone())
                            .push_bind(e.room.clone())
                            .push_bind(e.tick as i64)
                            .push_bind(i64::from(e.index))
                            .push_bind(e.kind.clone())
                            .push_bind(e.time_s)
                            .push_bind(lat)
                            .push_bind(lon)
                            .push_bind(e.payload.to_string());
                    });
                    q.push(" ON CONFLICT (event_id) DO NOTHING");
                    q.build().execute(&mut *tx).await?;
                }
                for chunk in flights.chunks(ROWS_PER_INSERT) {
                    let mut q = QueryBuilder::<sqlx::Sqlite>::new(
                        "INSERT INTO missile_flight (event_id, room, missile_id, type, launch_tick, launch_time_s, launch_lat, launch_lon, target_lat, target_lon) ",
                    );
                    q.push_values(chunk, |mut b, (e, (missile, kind, from, to))| {
                        b.push_bind(e.event_id.clone())
                            .push_bind(e.room.clone())
                            .push_bind(missile.clone())
                            .push_bind(kind.clone())
                            .push_bind(e.tick as i64)
                            .push_bind(e.time_s)
                            .push_bind(from.0)
                            .push_bind(from.1)
                            .push_bind(to.0)
                            .push_bind(to.1);
                    });
                    q.push(" ON CONFLICT (event_id) DO NOTHING");
                    q.build().execute(&mut *tx).await?;
                }
                for e in batch {
                    // `room = ?` lets the (room, missile_id) index find the flight.
                    if let Some(missile) = killed(e) {
                        sqlx::query("UPDATE missile_flight SET destroyed = 1 WHERE room = ? AND missile_id = ? AND event_id LIKE ? || '%'")
                            .bind(&e.room).bind(missile).bind(run_prefix(&e.event_id)).execute(&mut *tx).await?;
                    }
                    if let Some((missile, wkt)) = trajectory(e) {
                        sqlx::query("UPDATE missile_flight SET trajectory = ? WHERE room = ? AND missile_id = ? AND event_id LIKE ? || '%'")
                            .bind(wkt).bind(&e.room).bind(missile).bind(run_prefix(&e.event_id)).execute(&mut *tx).await?;
                    }
                }
                tx.commit().await
            }
            Pool::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                for room in rooms {
                    sqlx::query("INSERT INTO room (id) VALUES ($1) ON CONFLICT (id) DO NOTHING")
                        .bind(room)
                        .execute(&mut *tx)
                        .await?;
                }
                for chunk in batch.chunks(ROWS_PER_INSERT) {
                    let mut q = QueryBuilder::<sqlx::Postgres>::new(
                        "INSERT INTO event (event_id, room, tick, idx, type, time_s, geom, payload) ",
                    );
                    q.push_values(chunk, |mut b, e| {
                        let (lat, lon) = e.place().unzip();
                        b.push_bind(e.event_id.clone())
                            .push_bind(e.room.clone())
                            .push_bind(e.tick as i64)
                            .push_bind(e.index as i32)
                            .push_bind(e.kind.clone())
                            .push_bind(e.time_s)
                            .push("ST_SetSRID(ST_MakePoint(")
                            .push_bind_unseparated(lon)
                            .push_unseparated(", ")
                            .push_bind_unseparated(lat)
                            .push_unseparated("), 4326)::geography")
                            .push_bind(e.payload.to_string())
                            .push_unseparated("::jsonb");
                    });
                    q.push(" ON CONFLICT (event_id) DO NOTHING");
                    q.build().execute(&mut *tx).await?;
                }
                for chunk in flights.chunks(ROWS_PER_INSERT) {
                    let mut q = QueryBuilder::<sqlx::Postgres>::new(
                        "INSERT INTO missile_flight (event_id, room, missile_id, type, launch_tick, launch_time_s, launch_geom, target_geom) ",
                    );
                    q.push_values(chunk, |mut b, (e, (missile, kind, from, to))| {
                        b.push_bind(e.event_id.clone())
                            .push_bind(e.room.clone())
                            .push_bind(missile.clone())
                            .push_bind(kind.clone())
                            .push_bind(e.tick as i64)
                            .push_bind(e.time_s)
                            .push("ST_SetSRID(ST_MakePoint(")
                            .push_bind_unseparated(from.1)
                            .push_unseparated(", ")
                            .push_bind_unseparated(from.0)
                            .push_unseparated("), 4326)::geography")
                            .push("ST_SetSRID(ST_MakePoint(")
                            .push_bind_unseparated(to.1)
                            .push_unseparated(", ")
                            .push_bind_unseparated(to.0)
                            .push_unseparated("), 4326)::geography");
                    });
                    q.push(" ON CONFLICT (event_id) DO NOTHING");
                    q.build().execute(&mut *tx).await?;
                }
                for e in batch {
                    if let Some(missile) = killed(e) {
                        sqlx::query("UPDATE missile_flight SET destroyed = true WHERE room = $1 AND missile_id = $2 AND event_id LIKE $3 || '%'")
                            .bind(&e.room).bind(missile).bind(run_prefix(&e.event_id)).execute(&mut *tx).await?;
                    }
                    if let Some((missile, wkt)) = trajectory(e) {
                        sqlx::query("UPDATE missile_flight SET trajectory = ST_GeogFromText('SRID=4326;' || $1) WHERE room = $2 AND missile_id = $3 AND event_id LIKE $4 || '%'")
                            .bind(wkt).bind(&e.room).bind(missile).bind(run_prefix(&e.event_id)).execute(&mut *tx).await?;
                    }
                }
                tx.commit().await
            }
        }
    }

    /// Records a room when it is created (idempotent).
    pub async fn save_room(&self, id: &str, private: bool) -> Result<(), String> {
        self.ensure_ready().await?;
        let result = match &self.pool {
            Pool::Sqlite(pool) => sqlx::query(
                "INSERT INTO room (id, private) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET private = excluded.private",
            )
            .bind(id)
            .bind(private)
            .execute(pool)
            .await
            .map(drop),
            Pool::Postgres(pool) => sqlx::query(
                "INSERT INTO room (id, private) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET private = excluded.private",
            )
            .bind(id)
            .bind(private)
            .execute(pool)
            .await
            .map(drop),
        };
        result.map_err(|e| format!("storing the room failed: {e}"))
    }

    /// Stores a scenario under its short-link id (idempotent).
    pub async fn save_scenario(&self, id: &str, body: &str) -> Result<(), String> {
        self.ensure_ready().await?;
        let result = match &self.pool {
            Pool::Sqlite(pool) => sqlx::query(
                "INSERT INTO scenario (id, body) VALUES (?, ?) ON CONFLICT (id) DO NOTHING",
            )
            .bind(id)
            .bind(body)
            .execute(pool)
            .await
            .map(drop),
            Pool::Postgres(pool) => sqlx::query(
                "INSERT INTO scenario (id, body) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING",
            )
            .bind(id)
            .bind(body)
            .execute(pool)
            .await
            .map(drop),
        };
        result.map_err(|e| format!("storing the scenario failed: {e}"))
    }

    /// The scenario stored under `id`, if any.
    pub async fn load_scenario(&self, id: &str) -> Result<Option<String>, String> {
        self.ensure_ready().await?;
        let row = match &self.pool {
            Pool::Sqlite(pool) => sqlx::query("SELECT body FROM scenario WHERE id = ?")
                .bind(id)
                .fetch_optional(pool)
                .await
                .map(|r| r.map(|r| r.get::<String, _>(0))),
            Pool::Postgres(pool) => sqlx::query("SELECT body FROM scenario WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await
                .map(|r| r.map(|r| r.get::<String, _>(0))),
        };
        row.map_err(|e| format!("reading the scenario failed: {e}"))
    }

    /// Number of stored events (for tests and health checks).
    pub async fn count_events(&self) -> Result<i64, String> {
        self.ensure_ready().await?;
        let n = match &self.pool {
            Pool::Sqlite(pool) => {
                sqlx::query_scalar("SELECT COUNT(*) FROM event")
                    .fetch_one(pool)
                    .await
            }
            Pool::Postgres(pool) => {
                sqlx::query_scalar("SELECT COUNT(*) FROM event")
                    .fetch_one(pool)
                    .await
            }
        };
        n.map_err(|e| format!("counting events failed: {e}"))
    }

    /// The SQLite pool, for tests and tools reading the tables.
    pub fn sqlite(&self) -> Option<&SqlitePool> {
        match &self.pool {
            Pool::Sqlite(pool) => Some(pool),
            Pool::Postgres(_) => None,
        }
    }

    /// The PostgreSQL pool, for tests and tools reading the tables.
    pub fn postgres(&self) -> Option<&PgPool> {
        match &self.pool {
            Pool::Postgres(pool) => Some(pool),
            Pool::Sqlite(_) => None,
        }
    }
}
