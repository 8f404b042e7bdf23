//! Rooms: shared engagements, each with a headless referee simulation, joined over websockets.
//!
//! - [`Rooms`] is the registry: it creates rooms (unguessable ids, write tokens), finds them,
//!   and keeps the always-available public room ([`PUBLIC_ROOM`]) that REST launches go to.
//! - [`room`]: the task that owns one room: members, the referee `Simulation` stepped at 10 Hz
//!   of wall time, broadcasting, hash checks, eviction of slow members.
//! - [`referees`]: the referee threads every room task runs on (never the HTTP workers), the
//!   per-period time budget that stops a room overrunning it, and a room's vitals (stalled,
//!   stopped).
//! - [`orders`]: a room's order book, shared by its task and its handle: commands stamped,
//!   launches given their missile id and checked against the room's capacity, before the
//!   referee steps to them.
//! - [`ws`]: one websocket connection: origin check, hello, rate limit, heartbeats, and the
//!   bounded outbound queue the room writes into.
//! - [`rate`]: the token bucket.
//! - [`cluster`]: rooms across relays on one NATS: the creating relay owns a room; other
//!   relays open a proxy to it.
//! - [`roomlog`]: rooms that survive their relay: each shared room's command log, snapshots
//!   and lease in JetStream, and the takeover of a room whose owner stopped
//!   ([`Rooms::find`]).
//!
//! Invariants: room ids and tokens come from the operating system's random generator (128
//! bits each) and are only ever compared in constant time; nothing in a room waits for a
//! client (the room only `try_send`s into bounded queues); a room task owns its simulation
//! alone (the only lock is the order book's, held for a few field updates); room tasks run on
//! the [`referees::Referees`] threads, never on the runtime serving HTTP and websockets.
//!
//! The public room's clock belongs to its operators: only a member whose hello carried
//! `--operator-token` may pause it or change its speed (nobody when it is unset). In a private
//! room every member with the room's token may.

pub mod cluster;
pub mod orders;
pub mod rate;
pub mod referees;
pub mod room;
pub mod roomlog;
mod takeover;
pub mod trails;
pub mod ws;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use sim_core::Command;
use tokio::sync::mpsc;

use crate::AppState;
use crate::bus::EventBus;
use crate::config::{Config, Secret};
use crate::error::ApiError;
use crate::metrics::RoomMetrics;

pub use orders::{Applied, Ordered, Refusal};
pub use room::{LaunchOutcome, RoomRequest};

/// Id of the public room: always available, open to everyone (no token), and where REST
/// launches go when they name no room.
pub const PUBLIC_ROOM: &str = "public";
/// Ticks between the referee's current tick and the tick a new command is stamped for: time
/// for the command to reach every client before it applies (300 ms at 10 Hz).
pub const LEAD_TICKS: u64 = 3;
/// Most members in one room.
pub const MAX_MEMBERS: usize = 64;

/// Tunables of rooms and connections, taken from the [`Config`].
#[derive(Debug, Clone)]
pub struct RoomSettings {
    /// How long a room without members lives on.
    pub grace: Duration,
    /// Most rooms at once.
    pub max_rooms: usize,
    /// Interval of websocket pings; three silent intervals close a connection.
    pub heartbeat: Duration,
    /// Average messages per second per connection.
    pub rate_per_s: f64,
    /// Burst size per connection.
    pub burst: f64,
    /// Outbound queue length per member.
    pub queue: usize,
    /// Origins allowed besides the relay's own.
    pub allowed_origins: Vec<String>,
    /// Most missiles in flight in one room (launches pending included).
    pub capacity: usize,
    /// Most launches ordered in one room and not yet applied by its referee.
    pub launch_waiting: usize,
    /// Wall time a room's referee may take per 100 ms period.
    pub budget: Duration,
    /// Overruns among the last 2 x this many periods that stop a room.
    pub overruns: u32,
    /// Referee threads (0: one per CPU).
    pub referee_threads: usize,
    /// The token of the public room's operators (who alone may set its clock).
    pub operator_token: Option<Secret>,
}

impl RoomSettings {
    /// The settings of `config`.
    pub fn from_config(config: &Config) -> Self {
        Self {
            grace: Duration::from_secs(config.room_grace),
            max_rooms: config.max_rooms as usize,
            heartbeat: Duration::from_secs(config.ws_heartbeat),
            rate_per_s: f64::from(config.ws_rate),
            burst: f64::from(config.ws_burst),
            queue: config.ws_queue as usize,
            allowed_origins: config.allowed_origins.clone(),
            capacity: config.room_capacity as usize,
            launch_waiting: config.launch_waiting as usize,
            budget: Duration::from_millis(config.room_budget_ms),
            overruns: config.room_overruns,
            referee_threads: config.referee_threads as usize,
            operator_token: config.operator_token.clone(),
        }
    }
}

/// A handle to a running room: how to reach its task and what it checks joiners against.
#[derive(Debug)]
pub struct RoomHandle {
    id: String,
    /// `None` for the public room, where everyone may send commands.
    token: Option<String>,
    requests: mpsc::Sender<RoomRequest>,
    tick: Arc<AtomicU64>,
    /// The room's clock (paused, speed), packed by [`pack_clock`], for pongs.
    clock: Arc<AtomicU32>,
    /// For a room owned by another relay: the cluster that reaches its owner.
    remote: Option<Arc<cluster::Cluster>>,
    /// For a room run by this relay: its order book, and what a launch's event needs.
    local: Option<Local>,
    /// REST launches waiting for the owner's answer (a room owned by another relay; in a room
    /// run here, launches wait in the book, which bounds them itself).
    waiting: Waiting,
}

/// A bounded count of launches waiting for an answer.
#[derive(Debug)]
struct Waiting {
    now: std::sync::atomic::AtomicUsize,
    max: usize,
}

impl Waiting {
    fn new(max: usize) -> Self {
        Self {
            now: Default::default(),
            max,
        }
    }

    /// One more waiting launch, or `None` when `max` already wait.
    fn enter(&self) -> Option<WaitingGuard<'_>> {
        self.now
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.max).then_some(n + 1)
            })
            .ok()
            .map(|_| WaitingGuard(&self.now))
    }
}

/// Counts a waiting launch until dropped.
struct WaitingGuard<'a>(&'a std::sync::atomic::AtomicUsize);

impl Drop for WaitingGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// What ordering in a room run by this relay needs besides the book.
#[derive(Debug)]
struct Local {
    orders: Arc<orders::Orders>,
    bus: EventBus,
    /// The room task's run id (see [`crate::bus`]).
    run: String,
    /// The room task's health.
    vitals: Arc<referees::Vitals>,
}

impl RoomHandle {
    /// The room's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The referee's current tick (updated by the room task after every step).
    pub fn tick(&self) -> u64 {
        self.tick.load(Ordering::Relaxed)
    }

    /// The room's clock as `(paused, speed)` (updated by the room task when it changes).
    pub fn clock(&self) -> (bool, u32) {
        unpack_clock(self.clock.load(Ordering::Relaxed))
    }

    /// Whether `token` grants the right to send commands: anything does in the public room;
    /// elsewhere only the room's token, compared in constant time.
    pub fn token_grants_commands(&self, token: Option<&str>) -> bool {
        match (&self.token, token) {
            (None, _) => true,
            (Some(expected), Some(given)) => {
                constant_time_eq(expected.as_bytes(), given.as_bytes())
            }
            (Some(_), None) => false,
        }
    }

    /// Whether the room has a write token (every room but the public one).
    pub fn is_private(&self) -> bool {
        self.token.is_some() || self.remote.is_some()
    }

    /// Whether another relay owns the room (this handle is a proxy to it).
    pub fn is_remote(&self) -> bool {
        self.remote.is_some()
    }

    /// Whether the room's task has ended (closed, or its owner relay is gone).
    pub fn is_closed(&self) -> bool {
        self.requests.is_closed()
    }

    /// Why the relay stopped the room (a websocket close reason), if it did.
    pub fn stopped(&self) -> Option<&'static str> {
        self.local.as_ref().and_then(|l| l.vitals.stopped())
    }

    /// Whether `token` is the public room's operator token `operator` (compared in constant
    /// time): only then may a member of the public room set its clock. Never in a private
    /// room, whose clock every member with the room's token may set.
    pub fn operates(&self, token: Option<&str>, operator: Option<&Secret>) -> bool {
        match (self.is_private(), token, operator) {
            (false, Some(given), Some(expected)) => {
                constant_time_eq(expected.expose().as_bytes(), given.as_bytes())
            }
            _ => false,
        }
    }

    /// Whether a launch may be ordered now; otherwise why not, at once: the room's task has
    /// ended, it is stalled (no period completed for [`referees::STALL_AFTER`]), or its clock
    /// is paused (as its owner's beats say, for a room owned by another relay).
    pub fn launchable(&self) -> Result<(), LaunchOutcome> {
        let id = truncate_id(&self.id);
        if self.is_closed() {
            return Err(LaunchOutcome::Stalled(format!(
                "room {id} closed before the launch; try again"
            )));
        }
        if let Some(since) = self.local.as_ref().and_then(|l| l.vitals.stalled()) {
            return Err(LaunchOutcome::Stalled(format!(
                "room {id} is not ticking (its referee has not completed a period for {:.1} s); \
                 try again shortly",
                since.as_secs_f64()
            )));
        }
        if self.clock().0 {
            let by = if self.is_private() {
                "a member"
            } else {
                "its operators"
            };
            return Err(LaunchOutcome::Paused(format!(
                "room {id} is paused (by {by}) at tick {}; launches are refused until it \
                 resumes",
                self.tick()
            )));
        }
        Ok(())
    }

    /// Whether `token` grants the right to send commands, as [`Self::token_grants_commands`];
    /// for a room owned by another relay, that relay is asked.
    pub async fn grants(&self, token: Option<&str>) -> Result<bool, RoomError> {
        match &self.remote {
            None => Ok(self.token_grants_commands(token)),
            // This relay found the room's owner a moment ago: if no relay answers for it
            // now, the room is moving (its owner died or lost NATS), not gone.
            Some(cluster) => match cluster.authorize(&self.id, token).await {
                Err(RoomError::NotFound(_)) => Err(RoomError::Unreachable(format!(
                    "room {} is moving to another relay; try again in a few seconds",
                    truncate_id(&self.id)
                ))),
                answer => answer,
            },
        }
    }

    /// Sends a request to the room task; `false` when the task has ended.
    pub async fn send(&self, request: RoomRequest) -> bool {
        self.requests.send(request).await.is_ok()
    }

    /// Whether one more launch fits in the room's capacity (always, as far as this relay
    /// knows, for a room owned by another relay): a cheap check before solving.
    pub fn has_room(&self) -> bool {
        self.local.as_ref().is_none_or(|l| l.orders.has_room())
    }

    /// Orders a REST launch (with its solved guidance and `applied`, the outcome of flying
    /// it, as the referee will): in this relay's room at once, in the book, without waiting
    /// for the room task; in a room owned by another relay through the owner. The outcome
    /// comes once the launch has its missile id and tick and, with a database, its place in
    /// the queue of launches to write.
    pub async fn launch(&self, command: Command, applied: Applied) -> LaunchOutcome {
        match &self.local {
            Some(local) => {
                if let Err(refused) = self.launchable() {
                    return refused;
                }
                let ordered = room::order_in(
                    &local.orders,
                    &local.bus,
                    (&self.id, &local.run),
                    room::rest_member(),
                    command,
                    Some(&applied),
                );
                match ordered {
                    Ok((tick, Some(ordered))) => {
                        // Answered once logged (at once without JetStream): a launch
                        // answered 200 survives the relay. One the log has not taken yet is
                        // held, not applied; it is not answered 200.
                        let logged = local
                            .orders
                            .wait_logged(ordered.ordinal, 2 * roomlog::LOG_ACK_TIMEOUT)
                            .await;
                        if logged {
                            LaunchOutcome::Launched {
                                missile: ordered.missile,
                                tick,
                            }
                        } else {
                            LaunchOutcome::Busy(
                                "the room's log (NATS JetStream) has not taken this launch yet: \
                                 it is held, and flies only if the log takes it before this \
                                 relay stops; check the room's events before trying again"
                                    .into(),
                            )
                        }
                    }
                    Ok((_, None)) => LaunchOutcome::Rejected("not a launch".into()),
                    Err(refusal) => refusal.into(),
                }
            }
            None => {
                let Some(_waiting) = self.waiting.enter() else {
                    return LaunchOutcome::Backlog(format!(
                        "{} launches into room {} already wait for the relay that owns it, the \
                         limit; try again in a second",
                        self.waiting.max,
                        truncate_id(&self.id)
                    ));
                };
                let (outcome, answer) = tokio::sync::oneshot::channel();
                let request = RoomRequest::Launch {
                    command,
                    applied: Some(applied),
                    outcome,
                };
                let gone = || LaunchOutcome::Busy("the room closed before the launch".into());
                if !self.send(request).await {
                    return gone();
                }
                answer.await.unwrap_or_else(|_| gone())
            }
        }
    }
}

/// Why a room could not be created or found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoomError {
    /// No room has this id (never existed, or dropped after its grace period).
    #[error("no room {0:?}: it does not exist or was closed after everyone left")]
    NotFound(String),
    /// The room limit is reached.
    #[error("the relay already runs {0} rooms, its limit; try again later")]
    Full(usize),
    /// The operating system's random generator failed.
    #[error("cannot draw a random room id: {0}")]
    Random(String),
    /// Another relay owns the room and does not answer; one sentence.
    #[error("{0}")]
    Unreachable(String),
}

impl From<RoomError> for ApiError {
    fn from(err: RoomError) -> Self {
        match err {
            RoomError::NotFound(_) => ApiError::NotFound(err.to_string()),
            RoomError::Full(_) => ApiError::NotReady(err.to_string()),
            RoomError::Random(detail) => ApiError::Internal(detail),
            RoomError::Unreachable(message) => ApiError::NotReady(message),
        }
    }
}

type RoomMap = Arc<Mutex<HashMap<String, Arc<RoomHandle>>>>;

/// The registry of open rooms.
#[derive(Debug, Clone)]
pub struct Rooms {
    map: RoomMap,
    settings: RoomSettings,
    metrics: RoomMetrics,
    bus: EventBus,
    /// Set once NATS is configured: rooms are then shared with the other relays.
    cluster: Arc<std::sync::OnceLock<Arc<cluster::Cluster>>>,
    /// The threads the room tasks run on.
    referees: Arc<referees::Referees>,
}

impl Rooms {
    /// An empty registry; rooms (the public one included) start on first use, inside the
    /// Tokio runtime.
    pub fn new(settings: RoomSettings, metrics: RoomMetrics, bus: EventBus) -> Self {
        Self {
            referees: Arc::new(referees::Referees::new(settings.referee_threads)),
            map: Arc::default(),
            settings,
            metrics,
            bus,
            cluster: Arc::default(),
        }
    }

    /// Shares this relay's rooms over NATS from now on (called once, at start).
    pub fn set_cluster(&self, cluster: Arc<cluster::Cluster>) {
        let shared = cluster.durable();
        if self.cluster.set(cluster).is_ok() && shared {
            self.sweep_orphans();
        }
    }

    /// The cluster, when NATS is configured.
    pub fn cluster(&self) -> Option<&Arc<cluster::Cluster>> {
        self.cluster.get()
    }

    /// [`Rooms::create`], then, with NATS, the announcement that this relay owns the room
    /// (returns once other relays can find it); with JetStream, the room is recorded and
    /// leased first, so it survives this relay ([`roomlog`]).
    pub async fn create_shared(&self) -> Result<(Arc<RoomHandle>, String), RoomError> {
        let Some(cluster) = self.cluster.get() else {
            return self.create();
        };
        if cluster.durable() && cluster.journal().is_none() {
            return Err(RoomError::Unreachable(
                "rooms are kept in NATS JetStream, which this relay cannot reach yet; try again \
                 in a few seconds"
                    .into(),
            ));
        }
        let handle_token = match cluster.journal() {
            Some(journal) => {
                let id = random_hex().map_err(RoomError::Random)?;
                let token = random_hex().map_err(RoomError::Random)?;
                if self.len() >= self.settings.max_rooms {
                    return Err(RoomError::Full(self.settings.max_rooms));
                }
                let meta = roomlog::Meta {
                    token: Some(token.clone()),
                    run: crate::bus::random_run(),
                };
                match journal.register(&id, &meta).await {
                    Ok(revision) => {
                        let start = Start {
                            run: Some(meta.run),
                            durable: Some((journal.clone(), revision)),
                            resume: None,
                        };
                        (self.insert(id, meta.token, start)?, token)
                    }
                    Err(err) => {
                        // Not started without its record: it would die with this relay.
                        return Err(RoomError::Unreachable(format!(
                            "{err}; try again in a few seconds"
                        )));
                    }
                }
            }
            None => self.create()?,
        };
        if let Err(err) = cluster.own(handle_token.0.clone()).await {
            // The room still works on this relay.
            tracing::warn!(room = %handle_token.0.id(), "{err}");
        }
        Ok(handle_token)
    }

    /// The settings rooms and connections run with.
    pub fn settings(&self) -> &RoomSettings {
        &self.settings
    }

    /// The metrics rooms and connections feed.
    pub fn metrics(&self) -> &RoomMetrics {
        &self.metrics
    }

    /// Number of open rooms.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no room is open.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Creates a private room; returns its handle and its write token.
    pub fn create(&self) -> Result<(Arc<RoomHandle>, String), RoomError> {
        let id = random_hex().map_err(RoomError::Random)?;
        let token = random_hex().map_err(RoomError::Random)?;
        let handle = self.insert(id, Some(token.clone()), Start::default())?;
        Ok((handle, token))
    }

    /// Starts room `id` unless the relay runs its limit of rooms.
    fn insert(
        &self,
        id: String,
        token: Option<String>,
        start: Start,
    ) -> Result<Arc<RoomHandle>, RoomError> {
        let mut map = self.lock();
        // The public room does not count against the limit: REST launches need it.
        if id != PUBLIC_ROOM && map.len() >= self.settings.max_rooms {
            return Err(RoomError::Full(self.settings.max_rooms));
        }
        let handle = self.spawn(id.clone(), token, start);
        map.insert(id, handle.clone());
        Ok(handle)
    }

    /// The room with this id; `public` starts the public room if it is not running (unless
    /// the public room is the cluster's, kept in JetStream: [`Rooms::find`] finds or starts
    /// it).
    pub fn get(&self, id: &str) -> Result<Arc<RoomHandle>, RoomError> {
        let mut map = self.lock();
        if let Some(handle) = map.get(id)
            && !handle.requests.is_closed()
        {
            return Ok(handle.clone());
        }
        // While a journal is expected but not set up, the public room is the cluster's all
        // the same: found through [`Rooms::find`] (or unavailable), never started here alone.
        let shared = self.cluster.get().is_some_and(|c| c.durable());
        if id == PUBLIC_ROOM && !shared {
            // The public room does not count against the limit: REST launches need it.
            let handle = self.spawn(PUBLIC_ROOM.to_string(), None, Start::default());
            map.insert(PUBLIC_ROOM.to_string(), handle.clone());
            return Ok(handle);
        }
        Err(RoomError::NotFound(truncate_id(id)))
    }

    fn spawn(&self, id: String, token: Option<String>, start: Start) -> Arc<RoomHandle> {
        let (tx, rx) = mpsc::channel(256);
        let tick = Arc::new(AtomicU64::new(0));
        let clock = Arc::new(AtomicU32::new(pack_clock(false, 1)));
        let orders = Arc::new(match &start.resume {
            Some((sim, _, _)) => {
                let in_flight = sim
                    .missiles()
                    .iter()
                    .filter(|m| {
                        m.flight.phase != sim_core::flight::Phase::Impacted && m.killed_at.is_none()
                    })
                    .count();
                orders::Orders::resumed(
                    self.settings.capacity,
                    self.settings.launch_waiting,
                    (sim.tick(), sim.state().next_missile_id, in_flight),
                )
            }
            None => orders::Orders::new(self.settings.capacity, self.settings.launch_waiting),
        });
        let run = start.run.unwrap_or_else(crate::bus::random_run);
        let vitals = Arc::new(referees::Vitals::default());
        let snapshots = start.durable.map(|(journal, revision)| {
            let weak = tx.downgrade();
            let keeper = roomlog::keep(
                journal,
                id.clone(),
                revision,
                (orders.clone(), vitals.clone(), tick.clone(), clock.clone()),
                move || weak.upgrade().is_none_or(|s| s.is_closed()),
                self.metrics.clone(),
            );
            orders.set_log(keeper.commands);
            keeper.snapshots
        });
        let handle = Arc::new(RoomHandle {
            id: id.clone(),
            token,
            requests: tx,
            tick: tick.clone(),
            clock: clock.clone(),
            remote: None,
            local: Some(Local {
                orders: orders.clone(),
                bus: self.bus.clone(),
                run: run.clone(),
                vitals: vitals.clone(),
            }),
            waiting: Waiting::new(self.settings.launch_waiting),
        });
        let task = room::Room::new(
            id,
            handle.is_private(),
            tick,
            clock,
            orders,
            run,
            vitals,
            self.settings.clone(),
            self.metrics.clone(),
            self.bus.clone(),
        )
        .saving(snapshots);
        let task = match start.resume {
            Some((sim, clock, trails)) => task.resumed(sim, clock, trails),
            None => task,
        };
        let map = self.map.clone();
        let me = handle.clone();
        self.metrics.rooms.inc();
        let metrics = self.metrics.clone();
        // On the referee threads: the room's steps never hold up the HTTP workers.
        self.referees.spawn(async move {
            task.run(rx).await;
            let mut map = map.lock().unwrap_or_else(|poison| poison.into_inner());
            if map
                .get(me.id())
                .is_some_and(|h| h.requests.same_channel(&me.requests))
            {
                map.remove(me.id());
            }
            metrics.rooms.dec();
        });
        handle
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<RoomHandle>>> {
        // A panic while holding the lock cannot leave the map half-updated (single inserts and
        // removes), so a poisoned lock is still usable.
        self.map.lock().unwrap_or_else(|poison| poison.into_inner())
    }
}

/// How a room starts: a new run, or a room kept in JetStream (its lease's revision), or
/// one restored by a takeover.
#[derive(Default)]
pub(crate) struct Start {
    /// The run id (a new one when `None`).
    pub(crate) run: Option<String>,
    /// Kept in JetStream under a lease of this revision.
    pub(crate) durable: Option<(Arc<roomlog::Journal>, u64)>,
    /// The restored referee and clock.
    pub(crate) resume: Option<(
        sim_core::Simulation,
        sim_core::protocol::ClockState,
        trails::Trails,
    )>,
}

/// 128 bits from the operating system's generator, as 32 lowercase hex digits.
/// Packs a room clock into one atomic word: the speed in the low 16 bits, paused in bit 16.
pub(crate) fn pack_clock(paused: bool, speed: u32) -> u32 {
    (speed & 0xffff) | (u32::from(paused) << 16)
}

/// Inverse of [`pack_clock`].
pub(crate) fn unpack_clock(word: u32) -> (bool, u32) {
    (word & (1 << 16) != 0, word & 0xffff)
}

fn random_hex() -> Result<String, String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| e.to_string())?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Compares without an early exit, so the time taken does not reveal how many leading bytes
/// of a guessed token were right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Ids echoed in errors are cut short, so a client cannot make the relay echo megabytes.
fn truncate_id(id: &str) -> String {
    id.chars().take(64).collect()
}

/// Body of `POST /api/rooms`.
#[derive(Debug, Serialize)]
pub struct CreatedRoom {
    /// The room's id.
    pub room: String,
    /// The write token: whoever has it may send commands.
    pub token: String,
    /// Path of the room's websocket.
    pub websocket: String,
    /// Link for players: the app with the room and the token (in the fragment, which browsers
    /// never send to servers).
    pub join_link: String,
    /// Read-only link for observers: the app with the room, no token.
    pub watch_link: String,
}

/// `POST /api/rooms`, `GET /ws/rooms/{id}`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/rooms", post(create_room))
        .route("/ws/rooms/{id}", get(ws::upgrade))
}

async fn create_room(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    let (handle, token) = state.rooms().create_shared().await?;
    let id = handle.id().to_string();
    tracing::info!(room = %id, "room created");
    if let Some(store) = state.store()
        && let Err(err) = store.save_room(&id, true).await
    {
        // The room works without its row; events record it later.
        state.metrics().db().error("room");
        tracing::warn!(room = %id, "{err}");
    }
    Ok((
        StatusCode::CREATED,
        Json(CreatedRoom {
            websocket: format!("/ws/rooms/{id}"),
            join_link: format!("/?room={id}#token={token}"),
            watch_link: format!("/?room={id}"),
            room: id,
            token,
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_ids_are_128_bit_hex_and_differ() {
        let a = random_hex().unwrap();
        let b = random_hex().unwrap();
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }

    /// A handle to a room run here whose task is not running: what REST checks before a
    /// launch, and the public room's operators.
    #[tokio::test]
    async fn launches_are_refused_at_once_into_a_stalled_or_paused_room() {
        let (requests, _task) = mpsc::channel(1);
        let vitals = Arc::new(referees::Vitals::default());
        let clock = Arc::new(AtomicU32::new(pack_clock(false, 1)));
        let handle = RoomHandle {
            id: PUBLIC_ROOM.into(),
            token: None,
            requests,
            tick: Arc::new(AtomicU64::new(7)),
            clock: clock.clone(),
            remote: None,
            local: Some(Local {
                orders: Arc::new(orders::Orders::new(10, 10)),
                bus: EventBus::new(Default::default()),
                run: "0000abcd".into(),
                vitals: vitals.clone(),
            }),
            waiting: Waiting::new(1),
        };
        assert_eq!(handle.launchable(), Ok(()));
        clock.store(pack_clock(true, 1), Ordering::Relaxed);
        let Err(LaunchOutcome::Paused(why)) = handle.launchable() else {
            panic!("{:?}", handle.launchable())
        };
        assert_eq!(
            why,
            "room public is paused (by its operators) at tick 7; launches are refused until it \
             resumes"
        );
        // No period for a second: stalled, whatever the clock.
        tokio::time::sleep(referees::STALL_AFTER + Duration::from_millis(50)).await;
        let Err(LaunchOutcome::Stalled(why)) = handle.launchable() else {
            panic!("{:?}", handle.launchable())
        };
        assert!(why.starts_with("room public is not ticking"), "{why}");
        vitals.beat();
        assert!(matches!(handle.launchable(), Err(LaunchOutcome::Paused(_))));

        let operator = Secret::for_tests("0123456789abcdef0123");
        assert!(handle.operates(Some("0123456789abcdef0123"), Some(&operator)));
        assert!(!handle.operates(Some("0123456789abcdef0124"), Some(&operator)));
        assert!(!handle.operates(None, Some(&operator)));
        assert!(!handle.operates(Some("0123456789abcdef0123"), None));
    }

    #[test]
    fn token_comparison() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }
}
