//! Rooms that span relays: several relays on one NATS share a private room.
//!
//! Scheme (`docs/relay.md`, "Rooms across relays", gives the reasons): the relay that creates a
//! room **owns** it. Its referee is the only one; it alone orders and stamps commands, checks
//! hashes and answers late joiners, exactly as for its own websocket members. Ownership is a
//! NATS subscription: the owner listens on `mdsim.room.{id}.owner` for as long as the room
//! runs, so "who owns room X" is answered by NATS itself (a request finds the owner, or gets
//! "no responders" at once when no relay has the room); nothing is stored and nothing can go
//! stale when an owner dies.
//!
//! Another relay B, asked for a room it does not run, looks it up with an `auth` request on
//! that subject and, if the owner answers, opens a **proxy**: a [`RoomHandle`] like a local
//! room's, whose task turns each [`RoomRequest`] of B's connections into a message to the
//! owner (join, leave, command, hash, sync, launch). On the owner, each member joined through
//! B is an ordinary member of the room whose outbound queue is drained onto NATS
//! (`mdsim.node.{B}.slot.{slot}`, the websocket text unchanged) and delivered by B into that
//! connection's queue. So a member on B receives the very same welcome, stamped commands,
//! presence, resyncs and errors as a member on the owner, in the owner's order.
//!
//! Liveness: the owner publishes `{tick}` on `mdsim.room.{id}.beat` twice a second (B uses it
//! for pongs and to notice the owner's death); a proxy reports its members on the owner
//! subject every second. A proxy that hears no beat for [`OWNER_TIMEOUT`] tells its members
//! in one sentence that the room is gone and closes them; an owner that hears nothing from a
//! relay for [`PEER_TIMEOUT`] removes that relay's members.
//!
//! Failover (with JetStream, [`super::roomlog`]): a room is not gone with its owner. The
//! owner logs every stamped command and saves snapshots, and holds a lease; a proxy whose
//! owner went silent tells its members the room moves ("reconnect") and starts a takeover
//! ([`super::Rooms::find`]): the relay that wins the expired lease restores the room and
//! answers on the owner subject, so the lookup above finds it again. Chosen over keeping
//! members attached through the move (re-joining them at the new owner under new member ids
//! inside the proxy) because a reconnecting client gets a plain welcome from the new owner,
//! which the web app already handles, and members of the dead relay must reconnect anyway.
//! The subscription stays the lookup; the lease only elects who may take a room over.
//!
//! Invariants: relays on one NATS trust each other (NATS is the trust boundary, as for
//! `command.launch`); a token is still only ever checked by the owner. Room ids that reach a
//! subject are hexadecimal (checked by [`valid_room_id`]), so no id can inject subject tokens.
//! Nothing in a room waits for NATS: the owner's room only `try_send`s into the drain queue,
//! as for any member.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::ws::Utf8Bytes;
use bytes::Bytes;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use sim_core::protocol::{Member, Role, ServerMessage};
use sim_core::{Command, MissileId};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::{LaunchOutcome, RoomError, RoomHandle, RoomRequest};
use crate::metrics::RoomMetrics;

/// A proxy that hears no beat from the owner for this long declares the room gone.
pub const OWNER_TIMEOUT: Duration = Duration::from_secs(3);
/// An owner that hears nothing from a relay's proxy for this long removes its members.
pub const PEER_TIMEOUT: Duration = Duration::from_secs(5);
/// Interval of the owner's beats.
const BEAT: Duration = Duration::from_millis(500);
/// Interval of a proxy's reports of its members.
const ALIVE: Duration = Duration::from_secs(1);
/// How long a request to an owner may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(3);
/// How long a REST launch forwarded to an owner may take (the owner orders it at once, or
/// refuses it at once when its room is paused, stalled or backed up).
const LAUNCH_TIMEOUT: Duration = Duration::from_secs(5);

/// Whether `id` can be a shared room: 1 to 64 lowercase hex digits (the relay makes 32).
pub fn valid_room_id(id: &str) -> bool {
    (1..=64).contains(&id.len()) && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn owner_subject(room: &str) -> String {
    format!("mdsim.room.{room}.owner")
}

fn beat_subject(room: &str) -> String {
    format!("mdsim.room.{room}.beat")
}

fn slot_subject(node: &str, slot: u64) -> String {
    format!("mdsim.node.{node}.slot.{slot}")
}

/// What a proxy sends to a room's owner (JSON on `mdsim.room.{id}.owner`).
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "kebab-case")]
enum ToOwner {
    /// Does the room exist, and does `token` grant commands? Answered by [`AuthAnswer`].
    Auth {
        token: Option<String>,
    },
    /// A connection on relay `node` joins; its messages go to `slot` there. Answered by
    /// [`JoinAnswer`].
    Join {
        node: String,
        slot: u64,
        name: String,
        role: Role,
        can_command: bool,
    },
    Leave {
        member: u32,
    },
    Command {
        member: u32,
        command: Command,
    },
    Hash {
        member: u32,
        tick: u64,
        hash: u64,
    },
    Sync {
        member: u32,
    },
    /// A member's room clock setting (pause, speed).
    Clock {
        member: u32,
        paused: bool,
        speed: u32,
    },
    /// A REST (or inbound NATS) launch made on another relay. Answered by [`LaunchAnswer`].
    Launch {
        command: Command,
    },
    /// The proxy on `node` is alive.
    Alive {
        node: String,
    },
}

#[derive(Debug, Serialize, Deserialize)]
struct AuthAnswer {
    grants: bool,
    tick: u64,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum JoinAnswer {
    Joined(Member),
    Refused(String),
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum LaunchAnswer {
    Launched {
        missile: MissileId,
        tick: u64,
    },
    Rejected(String),
    /// The owner's room is at capacity: worth retrying later.
    Full(String),
    /// The owner is at a limit (database queue): worth retrying.
    Busy(String),
    /// Too many launches wait for the owner's referee: worth retrying.
    Backlog(String),
    /// The owner's room is not ticking: worth retrying.
    Stalled(String),
    /// The owner's room is paused.
    Paused(String),
}

impl From<LaunchOutcome> for LaunchAnswer {
    fn from(outcome: LaunchOutcome) -> Self {
        match outcome {
            LaunchOutcome::Launched { missile, tick } => LaunchAnswer::Launched { missile, tick },
            LaunchOutcome::Rejected(why) => LaunchAnswer::Rejected(why),
            LaunchOutcome::Full(why) => LaunchAnswer::Full(why),
            LaunchOutcome::Busy(why) => LaunchAnswer::Busy(why),
            LaunchOutcome::Backlog(why) => LaunchAnswer::Backlog(why),
            LaunchOutcome::Stalled(why) => LaunchAnswer::Stalled(why),
            LaunchOutcome::Paused(why) => LaunchAnswer::Paused(why),
        }
    }
}

impl From<LaunchAnswer> for LaunchOutcome {
    fn from(answer: LaunchAnswer) -> Self {
        match answer {
            LaunchAnswer::Launched { missile, tick } => LaunchOutcome::Launched { missile, tick },
            LaunchAnswer::Rejected(why) => LaunchOutcome::Rejected(why),
            LaunchAnswer::Full(why) => LaunchOutcome::Full(why),
            LaunchAnswer::Busy(why) => LaunchOutcome::Busy(why),
            LaunchAnswer::Backlog(why) => LaunchOutcome::Backlog(why),
            LaunchAnswer::Stalled(why) => LaunchOutcome::Stalled(why),
            LaunchAnswer::Paused(why) => LaunchOutcome::Paused(why),
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Beat {
    tick: u64,
    /// The owner's room clock (absent from relays before the clock: running at 1x).
    #[serde(default)]
    paused: bool,
    #[serde(default = "one")]
    speed: u32,
}

fn one() -> u32 {
    1
}

/// This relay's part in the cluster: its node id, its NATS client and the delivery slots of
/// its connections to rooms owned elsewhere.
#[derive(Debug)]
pub struct Cluster {
    client: async_nats::Client,
    node: String,
    slots: Mutex<HashMap<u64, mpsc::Sender<Utf8Bytes>>>,
    next_slot: AtomicU64,
    metrics: RoomMetrics,
    queue: usize,
    /// Where shared rooms are kept so they survive their owner, when NATS has JetStream.
    journal: std::sync::OnceLock<Arc<super::roomlog::Journal>>,
    /// Whether the journal is expected but not set up yet (JetStream was unreachable when
    /// this relay started; it is tried again until it answers).
    journal_pending: std::sync::atomic::AtomicBool,
}

/// How often a journal that could not be set up at start is tried again.
const JOURNAL_RETRY: Duration = Duration::from_secs(2);

impl Cluster {
    /// Joins the cluster on `client`: draws a node id and starts delivering messages from
    /// owners to this relay's connections.
    pub async fn start(
        client: async_nats::Client,
        metrics: RoomMetrics,
        queue: usize,
    ) -> Result<Arc<Self>, String> {
        let node = crate::bus::random_run();
        let subject = format!("mdsim.node.{node}.slot.*");
        let deliveries = client
            .subscribe(subject.clone())
            .await
            .map_err(|e| format!("cannot subscribe to {subject}: {e}"))?;
        let journal = super::roomlog::Journal::start(&client, &node).await;
        let cluster = Arc::new(Self {
            journal: std::sync::OnceLock::new(),
            journal_pending: std::sync::atomic::AtomicBool::new(false),
            client,
            node,
            slots: Mutex::default(),
            next_slot: AtomicU64::new(1),
            metrics,
            queue,
        });
        match journal {
            Ok(journal) => {
                let _ = cluster.journal.set(journal);
            }
            Err(super::roomlog::Unready::NoJetStream) => tracing::warn!(
                "NATS has no JetStream: rooms will not survive this relay (each room lives and \
                 dies with the relay that runs it)"
            ),
            Err(super::roomlog::Unready::NotYet(why)) => {
                // Not a NATS without JetStream: one that is away or still starting. Until the
                // journal is set up this relay runs no room that should survive it (no local
                // public room, no new shared room): a room run here meanwhile would be lost
                // with this relay, or, for the public room, be a second one beside the
                // cluster's.
                tracing::warn!(
                    "cannot set up the rooms' JetStream log yet ({why}); rooms wait for it, \
                     tried again every {}s",
                    JOURNAL_RETRY.as_secs()
                );
                cluster
                    .journal_pending
                    .store(true, std::sync::atomic::Ordering::Release);
                tokio::spawn(retry_journal(Arc::downgrade(&cluster)));
            }
        }
        tokio::spawn(deliver(Arc::downgrade(&cluster), deliveries));
        tracing::info!(node = %cluster.node, "joined the relay cluster on NATS");
        Ok(cluster)
    }

    /// The JetStream journal of shared rooms, when NATS has JetStream and it is set up.
    pub fn journal(&self) -> Option<&Arc<super::roomlog::Journal>> {
        self.journal.get()
    }

    /// Whether rooms are kept in JetStream on this NATS, or will be once its journal is set
    /// up ([`Cluster::journal`] is `None` meanwhile): then no room that should survive this
    /// relay may run here without it.
    pub fn durable(&self) -> bool {
        self.journal.get().is_some()
            || self
                .journal_pending
                .load(std::sync::atomic::Ordering::Acquire)
    }

    /// This relay's node id (8 hex digits, new at every start).
    pub fn node(&self) -> &str {
        &self.node
    }

    fn slots(&self) -> std::sync::MutexGuard<'_, HashMap<u64, mpsc::Sender<Utf8Bytes>>> {
        self.slots.lock().unwrap_or_else(|p| p.into_inner())
    }

    async fn request<T: serde::de::DeserializeOwned>(
        &self,
        room: &str,
        message: &ToOwner,
        timeout: Duration,
    ) -> Result<T, RoomError> {
        let body = serde_json::to_vec(message).unwrap_or_default();
        let answer = tokio::time::timeout(
            timeout,
            self.client.request(owner_subject(room), Bytes::from(body)),
        )
        .await
        .map_err(|_| unreachable(room, "it did not answer in time"))?;
        let answer = match answer {
            Ok(answer) => answer,
            Err(err) if err.kind() == async_nats::RequestErrorKind::NoResponders => {
                return Err(RoomError::NotFound(super::truncate_id(room)));
            }
            Err(err) => return Err(unreachable(room, &err.to_string())),
        };
        serde_json::from_slice(&answer.payload)
            .map_err(|e| unreachable(room, &format!("its answer is not understood ({e})")))
    }

    async fn publish(&self, room: &str, message: &ToOwner) {
        let body = serde_json::to_vec(message).unwrap_or_default();
        if let Err(err) = self
            .client
            .publish(owner_subject(room), Bytes::from(body))
            .await
        {
            tracing::warn!(room, "cannot reach the room's owner: {err}");
        }
    }

    /// Asks NATS who owns `room`: `Ok(tick)` when a relay does, [`RoomError::NotFound`] when
    /// none does.
    pub async fn lookup(&self, room: &str) -> Result<u64, RoomError> {
        if !valid_room_id(room) && room != super::PUBLIC_ROOM {
            return Err(RoomError::NotFound(super::truncate_id(room)));
        }
        let answer: AuthAnswer = self
            .request(room, &ToOwner::Auth { token: None }, REQUEST_TIMEOUT)
            .await?;
        Ok(answer.tick)
    }

    /// Whether `token` grants commands in `room`, as its owner says.
    pub async fn authorize(&self, room: &str, token: Option<&str>) -> Result<bool, RoomError> {
        let answer: AuthAnswer = self
            .request(
                room,
                &ToOwner::Auth {
                    token: token.map(str::to_string),
                },
                REQUEST_TIMEOUT,
            )
            .await?;
        Ok(answer.grants)
    }

    /// Starts answering for `handle`, a room this relay runs: returns once the owner
    /// subscription is in place, so a lookup from another relay finds the room at once.
    pub async fn own(self: &Arc<Self>, handle: Arc<RoomHandle>) -> Result<(), String> {
        let subject = owner_subject(handle.id());
        let requests = self
            .client
            .subscribe(subject.clone())
            .await
            .map_err(|e| format!("cannot subscribe to {subject}: {e}"))?;
        // The subscription must be known to the server before another relay asks.
        let _ = tokio::time::timeout(REQUEST_TIMEOUT, self.client.flush()).await;
        tokio::spawn(serve_owned(self.clone(), handle, requests));
        Ok(())
    }

    /// Opens a proxy for `room`, owned by another relay: the handle B's connections use, and
    /// the task that forwards their requests (it ends `true` when the owner went silent).
    /// `tick` is the owner's tick from the lookup; at most `max_waiting` REST launches wait
    /// for the owner's answer at once.
    pub fn proxy(
        self: &Arc<Self>,
        room: String,
        tick: u64,
        (settings_grace, max_waiting): (Duration, usize),
    ) -> (
        Arc<RoomHandle>,
        impl std::future::Future<Output = bool> + Send + 'static,
    ) {
        let (tx, rx) = mpsc::channel(256);
        let tick = Arc::new(AtomicU64::new(tick));
        let clock = Arc::new(AtomicU32::new(super::pack_clock(false, 1)));
        let handle = Arc::new(RoomHandle {
            id: room.clone(),
            token: None,
            requests: tx,
            tick: tick.clone(),
            clock: clock.clone(),
            remote: Some(self.clone()),
            local: None,
            waiting: super::Waiting::new(max_waiting),
        });
        let cluster = self.clone();
        let task = async move {
            let beats = match cluster.client.subscribe(beat_subject(&room)).await {
                Ok(beats) => beats,
                Err(err) => {
                    tracing::warn!(room, "cannot follow the owner's beats: {err}");
                    return false;
                }
            };
            Proxy {
                cluster,
                room,
                tick,
                clock,
                members: HashMap::new(),
                grace: settings_grace,
                empty_since: Some(Instant::now()),
            }
            .run(rx, beats)
            .await
        };
        (handle, task)
    }
}

fn unreachable(room: &str, why: &str) -> RoomError {
    RoomError::Unreachable(format!(
        "the relay that owns room {} cannot be reached: {why}",
        super::truncate_id(room)
    ))
}

/// Sets the journal up once JetStream answers (a relay started while NATS was away or still
/// starting), every [`JOURNAL_RETRY`], until it is, the server turns out to have no
/// JetStream, or the cluster is dropped.
async fn retry_journal(cluster: std::sync::Weak<Cluster>) {
    // bounded: ends when the journal is set up, JetStream is found missing, or the relay
    // drops its cluster; each pass waits JOURNAL_RETRY.
    loop {
        tokio::time::sleep(JOURNAL_RETRY).await;
        let Some(this) = cluster.upgrade() else {
            return;
        };
        match super::roomlog::Journal::start(&this.client, &this.node).await {
            Ok(journal) => {
                let _ = this.journal.set(journal);
                this.journal_pending
                    .store(false, std::sync::atomic::Ordering::Release);
                tracing::info!("the rooms' JetStream log is set up: rooms survive this relay");
                return;
            }
            Err(super::roomlog::Unready::NoJetStream) => {
                this.journal_pending
                    .store(false, std::sync::atomic::Ordering::Release);
                tracing::warn!("NATS has no JetStream: rooms will not survive this relay");
                return;
            }
            Err(super::roomlog::Unready::NotYet(why)) => {
                tracing::debug!("the rooms' JetStream log is not set up yet: {why}");
            }
        }
    }
}

/// Delivers what owners send to this relay's connections, by slot.
async fn deliver(cluster: std::sync::Weak<Cluster>, mut deliveries: async_nats::Subscriber) {
    while let Some(message) = deliveries.next().await {
        let Some(cluster) = cluster.upgrade() else {
            return;
        };
        let Some(slot) = message
            .subject
            .rsplit('.')
            .next()
            .and_then(|s| s.parse::<u64>().ok())
        else {
            continue;
        };
        let mut slots = cluster.slots();
        let Some(queue) = slots.get(&slot) else {
            continue;
        };
        // An empty message: the owner removed the member (evicted, or the room closed).
        if message.payload.is_empty() {
            slots.remove(&slot);
            continue;
        }
        let Ok(text) = String::from_utf8(message.payload.to_vec()) else {
            continue;
        };
        match queue.try_send(text.into()) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                // Slow on this relay: evicted like a slow member on the owner. Dropping the
                // queue closes the connection, whose leave reaches the owner.
                cluster.metrics.evictions.inc();
                tracing::warn!(slot, "member evicted: its outbound queue is full");
                slots.remove(&slot);
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                slots.remove(&slot);
            }
        }
    }
}

/// The proxy of a room owned by another relay.
struct Proxy {
    cluster: Arc<Cluster>,
    room: String,
    tick: Arc<AtomicU64>,
    /// The owner's room clock, packed, from its beats.
    clock: Arc<AtomicU32>,
    /// Member id (given by the owner) -> delivery slot.
    members: HashMap<u32, u64>,
    grace: Duration,
    /// Since when the proxy has had no member (it ends after the grace period).
    empty_since: Option<Instant>,
}

impl Proxy {
    /// Runs until the proxy has no member for the grace period (`false`) or the owner went
    /// silent (`true`).
    async fn run(
        mut self,
        mut requests: mpsc::Receiver<RoomRequest>,
        mut beats: async_nats::Subscriber,
    ) -> bool {
        let mut owner_silent = false;
        let (joined_tx, mut joined) = mpsc::channel::<(u32, u64)>(64);
        let mut last_beat = Instant::now();
        let mut ticker = tokio::time::interval(Duration::from_secs_f64(sim_core::engine::TICK_S));
        let mut alive = tokio::time::interval(ALIVE);
        let mut pending_joins = 0usize;
        loop {
            tokio::select! {
                request = requests.recv() => match request {
                    Some(RoomRequest::Join { name, role, can_command, outbound, reply, .. }) => {
                        pending_joins += 1;
                        self.join(name, role, can_command, outbound, reply, joined_tx.clone());
                    }
                    Some(other) => self.forward(other).await,
                    None => break,
                },
                Some((member, slot)) = joined.recv() => {
                    pending_joins -= 1;
                    if slot != 0 {
                        self.members.insert(member, slot);
                    }
                    self.update_empty();
                }
                beat = beats.next() => {
                    if let Some(beat) = beat
                        && let Ok(beat) = serde_json::from_slice::<Beat>(&beat.payload)
                    {
                        last_beat = Instant::now();
                        self.tick.store(beat.tick, Ordering::Relaxed);
                        self.clock.store(
                            super::pack_clock(beat.paused, beat.speed),
                            Ordering::Relaxed,
                        );
                    }
                }
                _ = ticker.tick() => {
                    // Between beats the owner's tick advances `speed` ticks per period, unless
                    // its clock is paused.
                    let (paused, speed) = super::unpack_clock(self.clock.load(Ordering::Relaxed));
                    if !paused {
                        self.tick.fetch_add(u64::from(speed), Ordering::Relaxed);
                    }
                    if last_beat.elapsed() > OWNER_TIMEOUT {
                        self.owner_gone(&mut requests);
                        owner_silent = true;
                        break;
                    }
                    if pending_joins == 0
                        && self.empty_since.is_some_and(|since| since.elapsed() >= self.grace)
                    {
                        break;
                    }
                }
                _ = alive.tick() => {
                    if !self.members.is_empty() {
                        let node = self.cluster.node.clone();
                        self.cluster.publish(&self.room, &ToOwner::Alive { node }).await;
                    }
                }
            }
        }
        let mut slots = self.cluster.slots();
        for slot in self.members.values() {
            slots.remove(slot);
        }
        owner_silent
    }

    fn update_empty(&mut self) {
        if !self.members.is_empty() {
            self.empty_since = None;
        } else if self.empty_since.is_none() {
            self.empty_since = Some(Instant::now());
        }
    }

    fn join(
        &self,
        name: String,
        role: Role,
        can_command: bool,
        outbound: mpsc::Sender<Utf8Bytes>,
        reply: oneshot::Sender<Result<Member, String>>,
        joined: mpsc::Sender<(u32, u64)>,
    ) {
        let cluster = self.cluster.clone();
        let room = self.room.clone();
        let slot = cluster.next_slot.fetch_add(1, Ordering::Relaxed);
        // The slot exists before the owner can send anything to it.
        cluster.slots().insert(slot, outbound);
        tokio::spawn(async move {
            let message = ToOwner::Join {
                node: cluster.node.clone(),
                slot,
                name,
                role,
                can_command,
            };
            let answer = cluster
                .request::<JoinAnswer>(&room, &message, REQUEST_TIMEOUT)
                .await;
            let (result, record) = match answer {
                Ok(JoinAnswer::Joined(member)) => (Ok(member.clone()), (member.id, slot)),
                Ok(JoinAnswer::Refused(why)) => (Err(why), (0, 0)),
                Err(err) => (Err(err.to_string()), (0, 0)),
            };
            if record.1 == 0 {
                cluster.slots().remove(&slot);
            }
            let _ = joined.send(record).await;
            let _ = reply.send(result);
        });
    }

    async fn forward(&mut self, request: RoomRequest) {
        let message = match request {
            RoomRequest::Join { .. } => return,
            RoomRequest::Leave { member } => {
                if let Some(slot) = self.members.remove(&member) {
                    self.cluster.slots().remove(&slot);
                }
                self.update_empty();
                ToOwner::Leave { member }
            }
            // The owner checks the launch's flight itself before ordering it.
            RoomRequest::Command {
                member, command, ..
            } => ToOwner::Command { member, command },
            RoomRequest::Hash { member, tick, hash } => ToOwner::Hash { member, tick, hash },
            RoomRequest::Sync { member } => ToOwner::Sync { member },
            RoomRequest::Clock {
                member,
                paused,
                speed,
            } => ToOwner::Clock {
                member,
                paused,
                speed,
            },
            RoomRequest::Launch {
                command, outcome, ..
            } => {
                let cluster = self.cluster.clone();
                let room = self.room.clone();
                tokio::spawn(async move {
                    let answer = cluster
                        .request::<LaunchAnswer>(
                            &room,
                            &ToOwner::Launch { command },
                            LAUNCH_TIMEOUT,
                        )
                        .await;
                    let _ = outcome.send(match answer {
                        Ok(answer) => answer.into(),
                        Err(err) => LaunchOutcome::Busy(err.to_string()),
                    });
                });
                return;
            }
        };
        self.cluster.publish(&self.room, &message).await;
    }

    /// Tells every member, in one sentence, that the room is gone (or, when it is kept in
    /// JetStream, that it moves to another relay: reconnect), and closes them.
    fn owner_gone(&mut self, requests: &mut mpsc::Receiver<RoomRequest>) {
        tracing::warn!(room = %self.room, "the room's owner stopped answering; closing its members here");
        // Closed first, so connections see a closed room (not an eviction) when their queue ends.
        requests.close();
        let then = if self.cluster.durable() {
            "the room moves to another relay: reconnect to follow it"
        } else {
            "the room is gone"
        };
        let text: Utf8Bytes = ServerMessage::Error {
            message: format!(
                "the relay that owns room {} stopped answering (no heartbeat for {} s); {then}",
                self.room,
                OWNER_TIMEOUT.as_secs()
            ),
        }
        .to_json()
        .into();
        let mut slots = self.cluster.slots();
        for slot in self.members.values() {
            if let Some(queue) = slots.remove(slot) {
                let _ = queue.try_send(text.clone());
            }
        }
        self.members.clear();
    }
}

/// Answers for a room this relay owns until the room ends.
async fn serve_owned(
    cluster: Arc<Cluster>,
    handle: Arc<RoomHandle>,
    mut requests: async_nats::Subscriber,
) {
    let room = handle.id().to_string();
    // Members joined through other relays: member id -> node.
    let mut remote: HashMap<u32, String> = HashMap::new();
    let mut heard: HashMap<String, Instant> = HashMap::new();
    let mut beat = tokio::time::interval(BEAT);
    loop {
        tokio::select! {
            message = requests.next() => {
                let Some(message) = message else { break };
                let Ok(op) = serde_json::from_slice::<ToOwner>(&message.payload) else {
                    tracing::debug!(room, "ignoring a malformed cluster message");
                    continue;
                };
                owner_handle(&cluster, &handle, &mut remote, &mut heard, op, message.reply).await;
            }
            _ = beat.tick() => {
                if handle.requests.is_closed() {
                    break;
                }
                let (paused, speed) = handle.clock();
                let body = serde_json::to_vec(&Beat { tick: handle.tick(), paused, speed })
                    .unwrap_or_default();
                let _ = cluster.client.publish(beat_subject(&room), Bytes::from(body)).await;
                let dead: Vec<String> = heard
                    .iter()
                    .filter(|(_, at)| at.elapsed() > PEER_TIMEOUT)
                    .map(|(node, _)| node.clone())
                    .collect();
                for node in dead {
                    heard.remove(&node);
                    let gone: Vec<u32> = remote.iter().filter(|(_, n)| **n == node).map(|(m, _)| *m).collect();
                    tracing::warn!(room, node, members = gone.len(), "a relay stopped reporting; removing its members");
                    for member in gone {
                        remote.remove(&member);
                        handle.send(RoomRequest::Leave { member }).await;
                    }
                }
            }
        }
    }
    tracing::debug!(room, "no longer answering for the room");
}

fn to_json<T: Serialize>(value: &T) -> Bytes {
    Bytes::from(serde_json::to_vec(value).unwrap_or_default())
}

/// One message to an owned room; answers on `reply` when the message wants an answer.
async fn owner_handle(
    cluster: &Arc<Cluster>,
    handle: &Arc<RoomHandle>,
    remote: &mut HashMap<u32, String>,
    heard: &mut HashMap<String, Instant>,
    op: ToOwner,
    reply: Option<async_nats::Subject>,
) {
    let answer = match op {
        ToOwner::Auth { token } => to_json(&AuthAnswer {
            grants: handle.token_grants_commands(token.as_deref()),
            tick: handle.tick(),
        }),
        ToOwner::Join {
            node,
            slot,
            name,
            role,
            can_command,
        } => {
            heard.insert(node.clone(), Instant::now());
            let (outbound, drain) = mpsc::channel(cluster.queue);
            let (joined, answer) = oneshot::channel();
            let request = RoomRequest::Join {
                name,
                role,
                can_command,
                // Shared rooms are private: no operators.
                operator: false,
                outbound,
                reply: joined,
            };
            let answer = if handle.send(request).await {
                match answer.await {
                    Ok(Ok(member)) => {
                        remote.insert(member.id, node.clone());
                        tokio::spawn(drain_to(
                            cluster.client.clone(),
                            slot_subject(&node, slot),
                            drain,
                        ));
                        JoinAnswer::Joined(member)
                    }
                    Ok(Err(why)) => JoinAnswer::Refused(why),
                    Err(_) => JoinAnswer::Refused("the room closed".into()),
                }
            } else {
                JoinAnswer::Refused("the room closed".into())
            };
            to_json(&answer)
        }
        ToOwner::Alive { node } => {
            heard.insert(node, Instant::now());
            return;
        }
        ToOwner::Leave { member } => {
            if remote.remove(&member).is_some() {
                handle.send(RoomRequest::Leave { member }).await;
            }
            return;
        }
        ToOwner::Command { member, command } => {
            if remote.contains_key(&member) {
                // The launch's flight is checked off the room task, as for local members.
                let applied = match checked(&command).await {
                    Ok(applied) => applied,
                    Err(()) => return,
                };
                handle
                    .send(RoomRequest::Command {
                        member,
                        command,
                        applied,
                    })
                    .await;
            }
            return;
        }
        ToOwner::Hash { member, tick, hash } => {
            if remote.contains_key(&member) {
                handle.send(RoomRequest::Hash { member, tick, hash }).await;
            }
            return;
        }
        ToOwner::Sync { member } => {
            if remote.contains_key(&member) {
                handle.send(RoomRequest::Sync { member }).await;
            }
            return;
        }
        ToOwner::Clock {
            member,
            paused,
            speed,
        } => {
            // The owner's room task checks again that the member may command and that the
            // speed is allowed (the message came over NATS, not through `protocol::decode`).
            if remote.contains_key(&member) {
                handle
                    .send(RoomRequest::Clock {
                        member,
                        paused,
                        speed,
                    })
                    .await;
            }
            return;
        }
        ToOwner::Launch { command } => {
            let Some(reply) = reply else { return };
            // Ordered at once: the answer no longer waits for the referee's tick.
            let answer = match checked(&command).await {
                Ok(applied) => LaunchAnswer::from(
                    handle
                        .launch(
                            command,
                            applied.unwrap_or_else(|| Err("not a launch".into())),
                        )
                        .await,
                ),
                Err(()) => LaunchAnswer::Busy("the relay is shutting down".into()),
            };
            let _ = cluster.client.publish(reply, to_json(&answer)).await;
            return;
        }
    };
    if let Some(reply) = reply {
        let _ = cluster.client.publish(reply, answer).await;
    }
}

/// For a launch: the outcome of flying its guidance (as the referee will), computed on the
/// blocking pool; `Ok(None)` for other commands; `Err` when the pool is gone.
async fn checked(command: &Command) -> Result<Option<super::Applied>, ()> {
    if !matches!(command, Command::Launch(_)) {
        return Ok(None);
    }
    let command = command.clone();
    tokio::task::spawn_blocking(move || super::room::applied_of(&command))
        .await
        .map_err(|_| ())
}

/// Sends what the owner's room queues for a member on another relay to that relay, then an
/// empty message when the room drops the member (left, evicted or closed).
async fn drain_to(
    client: async_nats::Client,
    subject: String,
    mut queue: mpsc::Receiver<Utf8Bytes>,
) {
    let max = client.server_info().max_payload;
    while let Some(text) = queue.recv().await {
        let body = if max > 0 && text.len() > max {
            // A welcome of a very large room: the member gets a clear refusal instead.
            let message = ServerMessage::Error {
                message: format!(
                    "the room's state ({} bytes) exceeds the NATS message limit ({max} bytes); \
                     join on the relay that owns the room",
                    text.len()
                ),
            };
            Bytes::from(message.to_json())
        } else {
            Bytes::copy_from_slice(text.as_bytes())
        };
        if client.publish(subject.clone(), body).await.is_err() {
            tracing::warn!(subject, "cannot deliver a room message over NATS");
        }
    }
    let _ = client.publish(subject, Bytes::new()).await;
}
