//! Rooms that survive their relay: each shared room's stamped commands, snapshots and
//! ownership kept in NATS JetStream, so another relay on the same NATS can take a room over.
//!
//! - **Log**: the owner appends every stamped command ([`StampedCommand`] as JSON: tick,
//!   member, command with its solved guidance, everything the referee needs to apply it
//!   identically), with its epoch (the revision of the lease it took), to [`LOG_STREAM`] on
//!   `mdsim.roomlog.{id}`, in stamping order. A new owner first appends a marker with its
//!   epoch; a replay skips whatever an earlier owner appended after a later owner's entries
//!   (fencing on the log, for an owner that has not yet noticed it lost the lease). A command is
//!   broadcast, answered (REST 200) and applied only once the stream acknowledged it. An
//!   append that is not acknowledged ([`LOG_ACK_TIMEOUT`]; counted in
//!   `relay_room_log_failures_total`) is sent again, deduplicated by its `Nats-Msg-Id`, until
//!   it is; meanwhile the room holds at that command's tick and refuses new commands (REST
//!   503): no command is applied that a relay taking the room over would not know. See
//!   [`super::orders`] for how the book holds commands back.
//! - **Snapshots**: every [`SNAPSHOT_TICKS`] referee ticks the owner saves the referee's
//!   snapshot and the room's clock in [`STATE_BUCKET`]: gzipped JSON cut into chunks that fit
//!   the server's `max_payload` (`{id}.snap.{slot}.{k}`), written into the slot the manifest
//!   `{id}.snap` does not name, then the manifest, so a relay dying mid-write leaves the
//!   previous snapshot whole. A snapshot is written only once every event sink delivered the
//!   events published before it ([`crate::bus::EventBus::delivered_mark`]; held in memory
//!   meanwhile, see `roomlog/snapshots.rs`), so a takeover replays, and publishes again under
//!   the same ids, every event the dead owner may not have delivered. The key `{id}.meta`
//!   holds what a new owner needs besides: the room's write token and its run id (event ids stay the same, so the events
//!   a new owner publishes again are dropped as duplicates by JetStream's `Nats-Msg-Id` and
//!   by the database's unique keys).
//! - **Lease**: the key `{id}` of [`OWNERS_BUCKET`] (entries expire [`LEASE_TTL`] after their
//!   last write) names the owner. The owner rewrites it every [`LEASE_REFRESH`] with a
//!   revision-checked update; when the update fails because the revision moved (another relay
//!   took the room), the owner stops its room at once (fencing: its members are told to
//!   reconnect, and it appends nothing more). A relay takes a room over by creating the key,
//!   which only succeeds once the old entry expired.
//!
//! Restoring ([`Journal::read`]): the last snapshot (tick `T`: the referee has run ticks
//! `0..T`), then every logged command stamped for tick `T` or later (read from the stream
//! sequence after the last command the snapshot covers, which its manifest records), applied
//! at its tick; the lease is refreshed meanwhile ([`Journal::hold`]); the
//! new referee runs to the tick after the last logged command. Ticks are a pure function of
//! the commands, so the state hash at every tick is the uninterrupted room's.
//!
//! Invariants: relays on one NATS trust each other (the token is in the bucket; NATS is the
//! trust boundary, as for the rest of the cluster); room ids reaching a subject or key are hex
//! ([`super::cluster::valid_room_id`]) or `public`; a room that ends by itself (grace period,
//! overrun) deletes its lease, log and state, so it is not taken over, while one dropped with
//! a relay that shuts down is left to be taken over; nothing here runs on a referee thread
//! except a `try_send` of a snapshot with its mark of the sinks' queues.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream;
use async_nats::jetstream::consumer::DeliverPolicy;
use async_nats::jetstream::kv;
use async_nats::jetstream::stream::{Config as StreamConfig, DiscardPolicy, StorageType};
use bytes::Bytes;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use sim_core::engine::Snapshot;
use sim_core::protocol::{ClockState, StampedCommand};
use tokio::sync::mpsc;

use super::orders::Orders;
use super::referees::Vitals;
use crate::metrics::RoomMetrics;

mod append;
mod snapshots;

use append::append;
use snapshots::save;

/// The stream of every shared room's stamped commands.
pub const LOG_STREAM: &str = "MDSIM_ROOMLOG";
/// The bucket of room leases: key = room id, value = `{node, tick}` of the owner.
pub const OWNERS_BUCKET: &str = "MDSIM_ROOM_OWNERS";
/// The bucket of room metadata and snapshots: `{id}.meta`, `{id}.snap`.
pub const STATE_BUCKET: &str = "MDSIM_ROOM_STATE";
/// A lease not refreshed for this long expires; another relay may then take the room.
pub const LEASE_TTL: Duration = Duration::from_secs(5);
/// How often the owner refreshes its leases.
pub const LEASE_REFRESH: Duration = Duration::from_secs(1);
/// How long a command's append may take before it is sent again (and the room refuses new
/// commands until it is logged).
pub const LOG_ACK_TIMEOUT: Duration = Duration::from_secs(1);
/// How long one try of the appends may take while they are failing, and the least time
/// between two tries.
const DEGRADED_WAIT: Duration = Duration::from_millis(500);
/// Referee ticks between two snapshots (10 s at 1x).
pub const SNAPSHOT_TICKS: u64 = 100;
/// How long logs and snapshots of a room never closed normally are kept.
const KEEP: Duration = Duration::from_secs(24 * 3600);
/// The reason a fenced room's members read (a websocket close reason: short).
pub const MOVED: &str = "the room moved to another relay; reconnect";

fn log_subject(room: &str) -> String {
    format!("mdsim.roomlog.{room}")
}

/// One message of a room's log.
#[derive(Debug, Serialize, Deserialize)]
struct Entry {
    /// The appending owner's epoch: the revision of the lease it took (leases' revisions only
    /// grow, so a later owner's epoch is higher).
    epoch: u64,
    /// The stamped command; absent in the marker a new owner appends when it takes the room
    /// over, before it reads the log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    command: Option<StampedCommand>,
}

/// What a new owner needs besides the log and the snapshot.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Meta {
    /// The room's write token (`None`: everyone may command).
    pub token: Option<String>,
    /// The room's run id, kept across owners.
    pub run: String,
}

/// The value of a lease.
#[derive(Debug, Serialize, Deserialize)]
struct Lease {
    node: String,
    tick: u64,
}

/// A room's snapshot as saved.
#[derive(Debug, Serialize, Deserialize)]
pub struct Saved {
    /// The room's clock when it was taken.
    pub clock: ClockState,
    /// The referee's state (its tick is the next tick to run).
    pub snapshot: Snapshot,
    /// The sampled paths of its missiles in flight, for the `trajectory` events of a replay
    /// (absent from snapshots saved before they were kept).
    #[serde(default)]
    pub trails: super::trails::Trails,
    /// The commands it covers: ordinals `1..=applied` of this owner's book (not saved: the
    /// manifest records the log position instead).
    #[serde(skip)]
    pub applied: u64,
    /// Where the event sinks stood when it was taken: it becomes the base of a takeover only
    /// once they delivered every event published before it (not saved).
    #[serde(skip)]
    pub delivered: crate::bus::Delivered,
}

/// The log's stream sequence of each acknowledged command, by ordinal, since the last
/// snapshot: where a snapshot's replay starts.
type Sequences = Arc<std::sync::Mutex<std::collections::BTreeMap<u64, u64>>>;

/// What a new owner restores a room from.
#[derive(Debug)]
pub struct Restore {
    /// The room's token and run.
    pub meta: Meta,
    /// The last snapshot, if one was saved.
    pub saved: Option<Saved>,
    /// The logged commands stamped for the snapshot's tick or later, in order.
    pub commands: Vec<StampedCommand>,
    /// How far the last owner may have run the room (see [`Progress`]).
    pub progress: Option<Progress>,
}

/// The owner's progress, written with every lease refresh under `{id}.tick` of
/// [`STATE_BUCKET`] (no expiry): its referee's tick and clock, and when (wall clock, ms since
/// the Unix epoch). A relay taking the room over resumes it no earlier than
/// [`Progress::bound`]: the dead owner may have run, and published events for, ticks past its
/// last snapshot and its last logged command; a new command stamped for one of those ticks
/// would give the same event ids as the events it published there, and one of the two would
/// be dropped as a duplicate by the stream or the database.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Progress {
    /// The referee's next tick when written.
    pub tick: u64,
    /// Ticks per 100 ms (0 while paused).
    pub speed: u32,
    /// When it was written, ms since the Unix epoch (the writing relay's clock).
    pub at_ms: u64,
}

/// Room time the bound adds beyond the wall time elapsed since the progress was written: the
/// next write's interval, a referee catching up after a stall, and clock skew between relays.
const PROGRESS_MARGIN: Duration = Duration::from_secs(3);
/// Most wall time a bound accounts for (a room whose owner died more than this before its
/// takeover and ran alone all that time is not covered; its ticks are then replayed at most
/// this far).
const PROGRESS_HORIZON: Duration = Duration::from_secs(3600);

/// Milliseconds since the Unix epoch, now.
pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl Progress {
    /// The first tick no owner can have run as of `now_ms`: the written tick plus what the
    /// room's clock could run since, with [`PROGRESS_MARGIN`].
    pub fn bound(&self, now_ms: u64) -> u64 {
        if self.speed == 0 {
            // Paused when written; a resume after that is covered by the margin.
            return self.tick
                + u64::from(sim_core::protocol::ALLOWED_SPEEDS[0])
                    * PROGRESS_MARGIN.as_millis() as u64
                    / 100;
        }
        let elapsed = Duration::from_millis(now_ms.saturating_sub(self.at_ms))
            .min(PROGRESS_HORIZON)
            + PROGRESS_MARGIN;
        // `speed` ticks every 100 ms.
        self.tick + u64::from(self.speed) * (elapsed.as_millis() as u64).div_ceil(100)
    }
}

/// What a lease attempt found.
#[derive(Debug)]
pub enum Acquired {
    /// This relay owns the room now (the lease's revision).
    Won(u64),
    /// Another relay's lease is alive.
    Held,
    /// No room with this id was ever shared (or it closed normally).
    NoRoom,
}

/// The JetStream side of shared rooms on one NATS.
#[derive(Debug)]
pub struct Journal {
    js: jetstream::Context,
    stream: jetstream::stream::Stream,
    owners: kv::Store,
    state: kv::Store,
    /// The stream behind [`STATE_BUCKET`] (to purge a room's keys at once).
    state_stream: jetstream::stream::Stream,
    /// When the stream and buckets were last created (see [`Journal::ensure`]).
    last_setup: std::sync::Mutex<std::time::Instant>,
    node: String,
    max_payload: usize,
}

impl Journal {
    /// Creates (or finds) the stream and buckets. [`Unready::NoJetStream`] when the server
    /// has no JetStream (rooms then die with their owner, as before);
    /// [`Unready::NotYet`] when it could not be reached or did not answer in time (the
    /// caller tries again: see [`super::cluster::Cluster::start`]).
    pub async fn start(client: &async_nats::Client, node: &str) -> Result<Arc<Self>, Unready> {
        let js = jetstream::ContextBuilder::new()
            .timeout(LOG_ACK_TIMEOUT)
            .build(client.clone());
        let started = async {
            setup(&js).await?;
            let not_yet = |e: String| Unready::NotYet(e);
            let stream = js
                .get_stream(LOG_STREAM)
                .await
                .map_err(|e| not_yet(e.to_string()))?;
            let owners = js
                .get_key_value(OWNERS_BUCKET)
                .await
                .map_err(|e| not_yet(e.to_string()))?;
            let state = js
                .get_key_value(STATE_BUCKET)
                .await
                .map_err(|e| not_yet(e.to_string()))?;
            let state_stream = js
                .get_stream(format!("KV_{STATE_BUCKET}"))
                .await
                .map_err(|e| not_yet(e.to_string()))?;
            Ok::<_, Unready>((stream, owners, (state, state_stream)))
        };
        match tokio::time::timeout(Duration::from_secs(10), started).await {
            Ok(Ok((stream, owners, (state, state_stream)))) => Ok(Arc::new(Self {
                state_stream,
                last_setup: std::sync::Mutex::new(std::time::Instant::now()),
                max_payload: client.server_info().max_payload,
                js,
                stream,
                owners,
                state,
                node: node.to_string(),
            })),
            Ok(Err(unready)) => Err(unready),
            Err(_) => Err(Unready::NotYet("JetStream did not answer".into())),
        }
    }

    /// After a failure: creates the stream and buckets again (a nats-server that lost its
    /// store loses them), at most every [`LEASE_TTL`].
    async fn ensure(&self) {
        {
            let mut last = self.last_setup.lock().unwrap_or_else(|p| p.into_inner());
            if last.elapsed() < LEASE_TTL {
                return;
            }
            *last = std::time::Instant::now();
        }
        if let Err(err) = setup(&self.js).await {
            tracing::warn!("cannot create the rooms' JetStream log again: {err}");
        }
    }

    fn lease(&self, tick: u64) -> Bytes {
        Bytes::from(
            serde_json::to_vec(&Lease {
                node: self.node.clone(),
                tick,
            })
            .unwrap_or_default(),
        )
    }

    /// Records a new room (its metadata) and takes its lease; returns the lease's revision.
    pub async fn register(&self, room: &str, meta: &Meta) -> Result<u64, String> {
        let body = Bytes::from(serde_json::to_vec(meta).unwrap_or_default());
        self.state
            .put(format!("{room}.meta"), body)
            .await
            .map_err(|e| format!("cannot record room {room}: {e}"))?;
        self.owners
            .create(room, self.lease(0))
            .await
            .map_err(|e| format!("cannot take the lease of room {room}: {e}"))
    }

    /// Records the cluster's public room unless it is recorded already (a relay running it
    /// then died: it is restored instead), and takes its lease; `Held` when another relay
    /// holds it.
    pub async fn register_public(&self, room: &str, meta: &Meta) -> Result<Acquired, String> {
        let body = Bytes::from(serde_json::to_vec(meta).unwrap_or_default());
        match self.state.create(format!("{room}.meta"), body).await {
            Ok(_) => {}
            Err(err) if err.kind() == kv::CreateErrorKind::AlreadyExists => {
                return self.acquire(room).await;
            }
            Err(err) => return Err(err.to_string()),
        }
        match self.owners.create(room, self.lease(0)).await {
            Ok(revision) => Ok(Acquired::Won(revision)),
            Err(err) if err.kind() == kv::CreateErrorKind::AlreadyExists => Ok(Acquired::Held),
            Err(err) => Err(err.to_string()),
        }
    }

    /// Rooms recorded here (their `{id}.meta`) whose lease has expired: no relay runs them.
    pub async fn orphans(&self) -> Result<Vec<String>, String> {
        use futures_util::TryStreamExt;
        let keys: Vec<String> = self
            .state
            .keys()
            .await
            .map_err(|e| e.to_string())?
            .try_collect()
            .await
            .map_err(|e| e.to_string())?;
        let mut out = Vec::new();
        for room in keys.iter().filter_map(|k| k.strip_suffix(".meta")) {
            if let Ok(None) = self.owners.get(room).await {
                out.push(room.to_string());
            }
        }
        Ok(out)
    }

    /// Tries to take the lease of `room`, a room no relay answers for.
    pub async fn acquire(&self, room: &str) -> Result<Acquired, String> {
        match self.state.get(format!("{room}.meta")).await {
            Ok(Some(_)) => {}
            Ok(None) => return Ok(Acquired::NoRoom),
            Err(err) => return Err(err.to_string()),
        }
        match self.owners.create(room, self.lease(0)).await {
            Ok(revision) => Ok(Acquired::Won(revision)),
            Err(err) if err.kind() == kv::CreateErrorKind::AlreadyExists => Ok(Acquired::Held),
            Err(err) => Err(err.to_string()),
        }
    }

    /// Keeps refreshing the lease of `room` (held at `revision`) while a takeover restores
    /// it, however long the replay takes; [`Holding::finish`] gives the revision to continue
    /// from, or `None` when the lease was lost meanwhile.
    pub fn hold(self: &Arc<Self>, room: &str, revision: u64) -> Holding {
        let current = Arc::new(std::sync::atomic::AtomicU64::new(revision));
        let journal = self.clone();
        let (room, held) = (room.to_string(), current.clone());
        let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
        // The epoch of the marker this takeover appends.
        let epoch = revision;
        let task = tokio::spawn(async move {
            loop {
                // Stopped only between updates, so the revision kept is the server's.
                tokio::select! {
                    () = tokio::time::sleep(LEASE_REFRESH) => {}
                    _ = &mut stopped => return,
                }
                let revision = held.load(std::sync::atomic::Ordering::Acquire);
                match journal
                    .owners
                    .update(&room, journal.lease(0), revision)
                    .await
                {
                    Ok(r) => held.store(r, std::sync::atomic::Ordering::Release),
                    Err(err) if err.kind() == kv::UpdateErrorKind::WrongLastRevision => {
                        match journal.reclaim(&room, journal.lease(0), epoch).await {
                            Reclaim::Mine(r) => held.store(r, std::sync::atomic::Ordering::Release),
                            Reclaim::Unknown => {}
                            Reclaim::Taken => {
                                held.store(0, std::sync::atomic::Ordering::Release);
                                return;
                            }
                        }
                    }
                    Err(err) => tracing::warn!(room, "cannot refresh the room's lease: {err}"),
                }
            }
        });
        Holding {
            current,
            stop,
            task,
        }
    }

    /// After a refresh of `room`'s lease (taken at `epoch`) failed on its revision: whose the
    /// lease is now. Ours when the entry names this relay (an update that timed out here was
    /// applied later, as the client sends what it buffered once reconnected) or when the entry
    /// expired, no later owner appended to the room's log meanwhile ([`Journal::superseded`]),
    /// and this relay creates it again; taken when it names another relay or a later owner
    /// came and went.
    async fn reclaim(&self, room: &str, lease: Bytes, epoch: u64) -> Reclaim {
        match self.owners.entry(room).await {
            Ok(Some(entry)) if entry.operation == kv::Operation::Put => {
                return match serde_json::from_slice::<Lease>(&entry.value) {
                    Ok(held) if held.node == self.node => Reclaim::Mine(entry.revision),
                    _ => Reclaim::Taken,
                };
            }
            // Checked before the lease is created again: a relay that took the room over
            // (its lease expired since, with it or with NATS) left a marker of a later epoch,
            // after which this relay's appends are skipped by every replay; the room is then
            // not this relay's to go on with. A takeover after the check has to create the
            // lease first, which fails while this relay's lease lives.
            Ok(_) => match self.superseded(room, epoch).await {
                Ok(false) => {}
                Ok(true) => return Reclaim::Taken,
                Err(err) => {
                    tracing::warn!(room, "cannot read the room's log: {err}");
                    return Reclaim::Unknown;
                }
            },
            Err(err) => {
                tracing::warn!(room, "cannot read the room's lease: {err}");
                return Reclaim::Unknown;
            }
        }
        match self.owners.create(room, lease).await {
            Ok(revision) => Reclaim::Mine(revision),
            Err(err) => {
                tracing::warn!(room, "cannot take the room's lease again: {err}");
                Reclaim::Unknown
            }
        }
    }

    /// Whether `room`'s log holds an entry of an epoch later than `epoch`: another relay took
    /// the room over after the owner of `epoch` did.
    async fn superseded(&self, room: &str, epoch: u64) -> Result<bool, String> {
        let mut later = false;
        self.scan(room, 0, |entry, _| later |= entry.epoch > epoch)
            .await?;
        Ok(later)
    }

    /// Calls `visit` with every entry of `room`'s log after stream sequence `after`, in order,
    /// with its sequence (entries that do not parse are skipped); bounded in time.
    async fn scan(
        &self,
        room: &str,
        after: u64,
        mut visit: impl FnMut(Entry, u64),
    ) -> Result<(), String> {
        let subject = log_subject(room);
        let last = match self.stream.get_last_raw_message_by_subject(&subject).await {
            Ok(message) => message.sequence,
            Err(err)
                if err.kind() == jetstream::stream::LastRawMessageErrorKind::NoMessageFound =>
            {
                0
            }
            Err(err) => return Err(format!("cannot read the log of room {room}: {err}")),
        };
        if last <= after {
            return Ok(());
        }
        let deliver_policy = if after == 0 {
            DeliverPolicy::All
        } else {
            DeliverPolicy::ByStartSequence {
                start_sequence: after + 1,
            }
        };
        let consumer = self
            .stream
            .create_consumer(jetstream::consumer::pull::OrderedConfig {
                filter_subject: subject,
                deliver_policy,
                ..Default::default()
            })
            .await
            .map_err(|e| e.to_string())?;
        let mut messages = consumer.messages().await.map_err(|e| e.to_string())?;
        let reading = async {
            // bounded: the stream holds a finite log and the read ends at its last sequence
            // as of the start (or at the time limit below).
            while let Some(message) = messages.next().await {
                let message = message.map_err(|e| e.to_string())?;
                let sequence = message.info().map_or(last, |i| i.stream_sequence);
                if let Ok(entry) = serde_json::from_slice::<Entry>(&message.payload) {
                    visit(entry, sequence);
                }
                if sequence >= last {
                    break;
                }
            }
            Ok::<_, String>(())
        };
        tokio::time::timeout(Duration::from_secs(30), reading)
            .await
            .map_err(|_| format!("reading the log of room {room} timed out"))?
    }

    /// Records the owner's progress (see [`Progress`]); a failure is left to the next
    /// refresh (the margin of [`Progress::bound`] covers a second).
    async fn progress(&self, room: &str, progress: Progress) {
        let body = Bytes::from(serde_json::to_vec(&progress).unwrap_or_default());
        if let Err(err) = self.state.put(format!("{room}.tick"), body).await {
            tracing::debug!(room, "cannot record the room's progress: {err}");
        }
    }

    /// Whose the lease of `room` is now ([`append`] confirms its acknowledged commands with
    /// it).
    async fn owner(&self, room: &str) -> Owner {
        match self.owners.entry(room).await {
            Ok(Some(entry)) if entry.operation == kv::Operation::Put => {
                match serde_json::from_slice::<Lease>(&entry.value) {
                    Ok(held) if held.node == self.node => Owner::Me,
                    _ => Owner::Other,
                }
            }
            Ok(_) => Owner::Unknown("the lease expired".into()),
            Err(err) => Owner::Unknown(err.to_string()),
        }
    }

    /// Appends the marker of a new owner of `room` (its lease's revision `epoch`), before it
    /// reads the log: whatever the previous owner appends after it is ignored.
    pub async fn mark(&self, room: &str, epoch: u64) -> Result<(), String> {
        let body = serde_json::to_vec(&Entry {
            epoch,
            command: None,
        })
        .unwrap_or_default();
        let ack = self
            .js
            .publish(log_subject(room), Bytes::from(body))
            .await
            .map_err(|e| e.to_string())?;
        ack.await.map(|_| ()).map_err(|e| e.to_string())
    }

    /// Gives a lease up (a takeover that found nothing to restore).
    pub async fn release(&self, room: &str) {
        let _ = self.owners.delete(room).await;
    }

    /// Reads what `room` is restored from.
    pub async fn read(&self, room: &str) -> Result<Restore, String> {
        let meta: Meta = match self.state.get(format!("{room}.meta")).await {
            Ok(Some(body)) => serde_json::from_slice(&body).map_err(|e| e.to_string())?,
            Ok(None) => return Err(format!("room {room} has no record")),
            Err(err) => return Err(err.to_string()),
        };
        let (saved, log_from, mut epoch) = match self.snapshot(room).await? {
            Some((saved, log_from, epoch)) => (Some(saved), log_from, epoch),
            None => (None, 0, 0),
        };
        let progress = match self.state.get(format!("{room}.tick")).await {
            Ok(Some(body)) => serde_json::from_slice::<Progress>(&body).ok(),
            Ok(None) => None,
            Err(err) => return Err(err.to_string()),
        };
        let from = saved.as_ref().map_or(0, |s| s.snapshot.tick);
        let mut commands = Vec::new();
        self.scan(room, log_from, |entry, _| {
            // What an owner appended after a later owner's marker (it had not noticed yet
            // that it lost the room) is not the room's: skipped.
            if entry.epoch >= epoch {
                epoch = entry.epoch;
                if let Some(stamped) = entry.command
                    && stamped.tick >= from
                {
                    commands.push(stamped);
                }
            }
        })
        .await?;
        Ok(Restore {
            meta,
            saved,
            commands,
            progress,
        })
    }

    /// Deletes a room that closed normally: its lease, log and state (metadata, snapshot
    /// manifest and chunks).
    async fn forget(&self, room: &str) {
        let _ = self.owners.delete(room).await;
        let _ = self.stream.purge().filter(log_subject(room)).await;
        let _ = self
            .state_stream
            .purge()
            .filter(format!("$KV.{STATE_BUCKET}.{room}.>"))
            .await;
    }
}

/// Creates (or updates) the log stream and the two buckets; idempotent, safe for several
/// relays at once.
async fn setup(js: &jetstream::Context) -> Result<(), Unready> {
    use async_nats::jetstream::ErrorCode;
    use async_nats::jetstream::context::CreateStreamErrorKind;
    js.create_or_update_stream(StreamConfig {
        name: LOG_STREAM.into(),
        description: Some("mdsim shared rooms' stamped commands".into()),
        subjects: vec!["mdsim.roomlog.*".into()],
        storage: StorageType::File,
        discard: DiscardPolicy::Old,
        max_age: KEEP,
        max_bytes: 1 << 30,
        ..Default::default()
    })
    .await
    .map_err(|e| match e.kind() {
        CreateStreamErrorKind::JetStreamUnavailable => Unready::NoJetStream,
        CreateStreamErrorKind::JetStream(api)
            if api.error_code() == ErrorCode::JETSTREAM_NOT_ENABLED
                || api.error_code() == ErrorCode::JETSTREAM_NOT_ENABLED_FOR_ACCOUNT =>
        {
            Unready::NoJetStream
        }
        _ => Unready::NotYet(e.to_string()),
    })?;
    bucket(js, OWNERS_BUCKET, LEASE_TTL, 1)
        .await
        .map_err(Unready::NotYet)?;
    bucket(js, STATE_BUCKET, KEEP, 1)
        .await
        .map_err(Unready::NotYet)?;
    Ok(())
}

/// Why the journal is not set up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unready {
    /// The server has no JetStream (started without `-js`, or not for this account).
    NoJetStream,
    /// NATS or JetStream could not be reached, or did not answer in time; why.
    NotYet(String),
}

impl std::fmt::Display for Unready {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unready::NoJetStream => f.write_str("NATS has no JetStream"),
            Unready::NotYet(why) => f.write_str(why),
        }
    }
}

/// Creates (or updates) the stream behind a key-value bucket as the KV layer does, then opens
/// the bucket. Not `create_key_value`: it first asks for the account's info, which this
/// client cannot parse from some nats-server versions.
async fn bucket(
    js: &jetstream::Context,
    name: &str,
    max_age: Duration,
    history: i64,
) -> Result<kv::Store, String> {
    js.create_or_update_stream(StreamConfig {
        name: format!("KV_{name}"),
        subjects: vec![format!("$KV.{name}.>")],
        max_messages_per_subject: history,
        max_age,
        // NATS refuses a duplicate window longer than the maximum age.
        duplicate_window: max_age.min(Duration::from_secs(120)),
        storage: StorageType::File,
        discard: DiscardPolicy::New,
        allow_rollup: true,
        deny_delete: true,
        allow_direct: true,
        num_replicas: 1,
        ..Default::default()
    })
    .await
    .map_err(|e| format!("bucket {name}: {e}"))?;
    js.get_key_value(name)
        .await
        .map_err(|e| format!("bucket {name}: {e}"))
}

/// Whose a room's lease is, as read now.
#[derive(Debug)]
enum Owner {
    /// This relay's.
    Me,
    /// Another relay's.
    Other,
    /// No lease (expired, NATS restarted without it) or unreadable: not known now.
    Unknown(String),
}

/// Whose a lease is after a refresh failed on its revision.
enum Reclaim {
    /// This relay's, at this revision.
    Mine(u64),
    /// Another relay's.
    Taken,
    /// Not known now (NATS unreachable): the next refresh decides.
    Unknown,
}

/// A lease refreshed while a room is restored.
pub struct Holding {
    current: Arc<std::sync::atomic::AtomicU64>,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl Holding {
    /// Stops refreshing; the lease's revision, or `None` when another relay took it.
    pub async fn finish(self) -> Option<u64> {
        let _ = self.stop.send(());
        let _ = self.task.await;
        match self.current.load(std::sync::atomic::Ordering::Acquire) {
            0 => None,
            revision => Some(revision),
        }
    }
}

/// What keeps one owned room durable: its log appender, its snapshot writer, its lease.
pub struct Keeper {
    /// Where the room's book sends each stamped command (with its ordinal).
    pub commands: mpsc::UnboundedSender<(u64, StampedCommand)>,
    /// Where the room task sends its snapshots.
    pub snapshots: mpsc::Sender<Saved>,
}

/// Starts keeping `room` durable: the lease (held at `revision`) is refreshed until the room
/// ends (then, unless it was fenced, everything is deleted); commands are appended in order
/// and marked logged in `orders`; snapshots are saved.
pub fn keep(
    journal: Arc<Journal>,
    room: String,
    revision: u64,
    (orders, vitals, tick, clock): (
        Arc<Orders>,
        Arc<Vitals>,
        Arc<std::sync::atomic::AtomicU64>,
        Arc<std::sync::atomic::AtomicU32>,
    ),
    closed: impl Fn() -> bool + Send + 'static,
    metrics: RoomMetrics,
) -> Keeper {
    let (commands, log_rx) = mpsc::unbounded_channel();
    let (snapshots, snap_rx) = mpsc::channel(1);
    let sequences = Sequences::default();
    tokio::spawn(append(
        journal.clone(),
        (room.clone(), revision),
        (log_rx, sequences.clone()),
        (orders, vitals.clone()),
        metrics.clone(),
    ));
    tokio::spawn(save(
        journal.clone(),
        (room.clone(), revision),
        snap_rx,
        (sequences, metrics.clone()),
    ));
    tokio::spawn(async move {
        // The epoch of the room's appends: the revision it was taken at.
        let (epoch, mut revision) = (revision, revision);
        let mut every = tokio::time::interval(LEASE_REFRESH);
        loop {
            every.tick().await;
            if closed() {
                // Ended by itself: forgotten. Fenced, or dropped with a relay that shuts
                // down: left for the relay that takes it over.
                if vitals.ended() {
                    journal.forget(&room).await;
                }
                return;
            }
            let now_tick = tick.load(std::sync::atomic::Ordering::Relaxed);
            let lease = journal.lease(now_tick);
            match journal.owners.update(&room, lease.clone(), revision).await {
                Ok(r) => {
                    revision = r;
                    let (paused, speed) =
                        super::unpack_clock(clock.load(std::sync::atomic::Ordering::Relaxed));
                    journal
                        .progress(
                            &room,
                            Progress {
                                tick: now_tick,
                                speed: if paused { 0 } else { speed },
                                at_ms: now_ms(),
                            },
                        )
                        .await;
                }
                Err(err) if err.kind() == kv::UpdateErrorKind::WrongLastRevision => {
                    match journal.reclaim(&room, lease, epoch).await {
                        Reclaim::Mine(r) => revision = r,
                        Reclaim::Unknown => {}
                        Reclaim::Taken => {
                            metrics.lease_losses.inc();
                            tracing::warn!(
                                room,
                                "another relay took the room over; stopping it here"
                            );
                            vitals.stop(MOVED);
                            return;
                        }
                    }
                }
                Err(err) => {
                    tracing::warn!(room, "cannot refresh the room's lease: {err}");
                    journal.ensure().await;
                }
            }
        }
    });
    Keeper {
        commands,
        snapshots,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_progress_bound_covers_what_the_clock_could_run_since() {
        let written = Progress {
            tick: 1_000,
            speed: 4,
            at_ms: 50_000,
        };
        // 7 s later at 4 ticks per 100 ms, plus the 3 s margin: 10 s = 400 ticks.
        assert_eq!(written.bound(57_000), 1_400);
        // A clock behind the writer's counts no time, only the margin.
        assert_eq!(written.bound(40_000), 1_120);
        // A day later: at most the horizon (an hour) plus the margin.
        assert_eq!(written.bound(50_000 + 86_400_000), 1_000 + 4 * 36_030);
        // Paused when written: the margin at the slowest speed.
        let paused = Progress {
            speed: 0,
            ..written
        };
        assert_eq!(paused.bound(57_000), 1_030);
    }
}
