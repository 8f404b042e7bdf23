//! The task owning one room: its members, its referee simulation and its command order.
//!
//! Every 100 ms of wall time (a Tokio interval, catching up in bursts after a stall) the
//! referee runs `speed` ticks with the commands stamped for them, or none while the room's
//! clock is paused. Members who may command set the clock (pause, resume, speed), in the
//! public room only its operators (see [`super`]); the new clock applies from the referee's
//! next tick and is broadcast to every member. The speed is one of [`ALLOWED_SPEEDS`], at most
//! 16 ticks per period. Each period is timed against the room's [`Budget`]: a room that
//! overruns it too often is stopped (its members get one `error` saying why, and it closes),
//! so no room takes the referee threads from the others ([`super::referees`]). A command from
//! a member is stamped with the referee's current tick plus [`LEAD_TICKS`] and broadcast to
//! every member at once; every client applies it at that tick, as the referee does. After
//! each tick the referee records its state hash; a client hash for the same tick that differs
//! is counted, logged and answered with a resync (snapshot + pending commands). A member whose
//! outbound queue is full is evicted on the spot: the room never waits for anyone.
//!
//! Commands are stamped in the room's [`Orders`] book, shared with the room's handle: REST
//! launches are ordered there by the request itself, websocket commands by this task, and this
//! task broadcasts what was ordered as soon as it is woken, before the commands' tick. The
//! book fixes each launch's missile id at order time; after every step the referee's launch
//! events are compared with the book's (see [`super::orders`]).
//!
//! The referee's state hash is computed after a tick only while the room has members (only
//! members send hashes to compare), so a public room flying thousands of REST launches
//! unwatched does not hash its whole state ten times a second.
//!
//! Invariants: stamped ticks never decrease (the referee's tick only grows), so pending
//! commands stay in order; a command is broadcast before the referee applies it.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use axum::extract::ws::Utf8Bytes;
use sim_core::engine::TICK_S;
use sim_core::flight::{Phase, PhysicsParams};
use sim_core::protocol::{ALLOWED_SPEEDS, ClockState, Member, Role, ServerMessage, StampedCommand};
use sim_core::targeting::{self, TargetingRequest};
use sim_core::{Command, EventKind, MissileId, Simulation};
use tokio::sync::{mpsc, oneshot};
use tokio::time::{Instant, MissedTickBehavior};

use super::orders::{Applied, Orders, Refusal};
use super::referees::{Budget, Verdict, Vitals};
use super::{MAX_MEMBERS, PUBLIC_ROOM, RoomSettings, pack_clock};
use crate::bus::{BusEvent, EventBus};
use crate::metrics::RoomMetrics;

/// Ticks of referee hashes kept for comparison with late client hashes (one minute).
const HASH_HISTORY: usize = 600;
/// Client hashes for ticks the referee has not reached yet, kept per room.
const MAX_PENDING_HASHES: usize = 256;
/// Seed of every room's simulation. Rooms need no secret randomness, and a fixed seed lets a
/// room be replayed from its command log.
pub const ROOM_SEED: u64 = 1;

/// The answer to a member of the public room who is not one of its operators and tries to
/// set its clock.
pub const PUBLIC_CLOCK_REFUSED: &str = "the public room's clock belongs to its operators: only \
     a member who joined with the relay's operator token may pause it or change its speed; \
     create a room of your own (POST /api/rooms) to control its clock";

/// The member a REST launch is attributed to.
pub fn rest_member() -> Member {
    Member {
        id: 0,
        name: "REST API".into(),
        role: Role::Attacker,
        can_command: true,
    }
}

/// What became of a REST launch sent to a room: ordered (its id and tick fixed), or refused.
#[derive(Debug, Clone, PartialEq)]
pub enum LaunchOutcome {
    /// Ordered with this id for this tick.
    Launched {
        /// The new missile.
        missile: MissileId,
        /// The tick it is applied at.
        tick: u64,
    },
    /// The referee would refuse it; one sentence.
    Rejected(String),
    /// The room holds its capacity of missiles in flight; one sentence. Worth retrying once
    /// some have landed.
    Full(String),
    /// The relay is at a limit (the database queue); one sentence. Worth retrying shortly.
    Busy(String),
    /// Too many launches wait for the room's referee; one sentence. Worth retrying shortly.
    Backlog(String),
    /// The room is not ticking (or has just closed); one sentence. Worth retrying shortly.
    Stalled(String),
    /// The room's clock is paused; one sentence. Launches wait for whoever paused it.
    Paused(String),
}

impl From<Refusal> for LaunchOutcome {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::Rejected(why) => LaunchOutcome::Rejected(why),
            Refusal::Full { .. } => LaunchOutcome::Full(refusal.to_string()),
            Refusal::Busy | Refusal::Unlogged => LaunchOutcome::Busy(refusal.to_string()),
            Refusal::Backlog { .. } => LaunchOutcome::Backlog(refusal.to_string()),
        }
    }
}

/// The outcome of flying a launch command's guidance, as the referee will: the room computes
/// it itself (on its own task) for a launch that arrives without it, such as one relayed from
/// another relay; `None` for other commands.
pub fn applied_of(command: &Command) -> Option<Applied> {
    let Command::Launch(launch) = command else {
        return None;
    };
    let request = TargetingRequest {
        kind: launch.missile,
        from: launch.from,
        to: launch.to,
        profile: launch.profile,
    };
    let physics = PhysicsParams::default();
    Some(match &launch.guidance {
        Some(guidance) => {
            targeting::Flown::fly(&request, guidance, &physics).map_err(|e| e.to_string())
        }
        // The referee solves a launch without guidance; ordering it with the solved guidance
        // is what websocket connections and REST do before sending.
        None => Err("a launch must reach a room with its guidance solved".into()),
    })
}

/// Orders `command` in `orders` (the book of room `room`, run `run`) for `by`; a launch's
/// referee event goes to the database queue when the relay has one. Returns the stamped tick
/// and, for a launch, its order.
pub(crate) fn order_in(
    orders: &Orders,
    bus: &EventBus,
    (room, run): (&str, &str),
    by: Member,
    command: Command,
    applied: Option<&Applied>,
) -> Result<(u64, Option<super::orders::Ordered>), Refusal> {
    let (tick, accepted) = orders.order(by, command, applied, || bus.reserve_durable())?;
    let Some((ordered, permit)) = accepted else {
        return Ok((tick, None));
    };
    tracing::debug!(
        room,
        run,
        tick = ordered.tick,
        index = ordered.index,
        ordinal = ordered.ordinal,
        missile = %ordered.missile,
        "launch ordered"
    );
    if let Some(permit) = permit {
        let event = Arc::new(BusEvent::new(room, run, ordered.index, &ordered.event));
        // Into the durable queue once the command is in the room's log (at once without one):
        // a launch the log never takes never flies, and is never stored.
        let store = move || {
            permit.send(event);
        };
        orders.after_logged(ordered.ordinal, super::orders::Deferred(Box::new(store)));
    }
    Ok((tick, Some(ordered)))
}

/// A request to a room task.
#[derive(Debug)]
pub enum RoomRequest {
    /// A connection said hello: add a member whose messages go to `outbound`. The reply is
    /// the member, or why it could not join. The welcome is the first message queued.
    Join {
        /// Display name (validated).
        name: String,
        /// Role.
        role: Role,
        /// Whether it may send commands.
        can_command: bool,
        /// Whether it joined with the public room's operator token (may set its clock).
        operator: bool,
        /// Its outbound queue.
        outbound: mpsc::Sender<Utf8Bytes>,
        /// The answer.
        reply: oneshot::Sender<Result<Member, String>>,
    },
    /// A member's connection ended.
    Leave {
        /// Its id.
        member: u32,
    },
    /// A member's (validated) command.
    Command {
        /// Its id.
        member: u32,
        /// The command (a launch with its guidance).
        command: Command,
        /// For a launch: the outcome of flying its guidance, when the sender computed it
        /// (otherwise the room does).
        applied: Option<Applied>,
    },
    /// A member set the room's clock (validated speed; refused unless it may: see
    /// [`super`]).
    Clock {
        /// Its id.
        member: u32,
        /// Whether the referee stops.
        paused: bool,
        /// Ticks per period while running.
        speed: u32,
    },
    /// A member asked for the room's state again: it gets a fresh welcome.
    Sync {
        /// Its id.
        member: u32,
    },
    /// A member's state hash at a tick.
    Hash {
        /// Its id.
        member: u32,
        /// The tick.
        tick: u64,
        /// The hash.
        hash: u64,
    },
    /// A launch from the REST API (made on another relay, or through a proxy), answered as
    /// soon as it is ordered.
    Launch {
        /// The launch command (with solved guidance).
        command: Command,
        /// The outcome of flying its guidance, when the sender computed it.
        applied: Option<Applied>,
        /// The outcome.
        outcome: oneshot::Sender<LaunchOutcome>,
    },
}

struct Connected {
    member: Member,
    /// Joined with the public room's operator token.
    operator: bool,
    outbound: mpsc::Sender<Utf8Bytes>,
}

/// The state of one room, owned by its task.
pub struct Room {
    id: String,
    private: bool,
    sim: Simulation,
    tick: Arc<AtomicU64>,
    /// The room's clock, and its packed copy for the handle's pongs.
    clock: ClockState,
    clock_shared: Arc<AtomicU32>,
    members: Vec<Connected>,
    next_member: u32,
    orders: Arc<Orders>,
    hashes: VecDeque<(u64, u64)>,
    client_hashes: BTreeMap<u64, Vec<(u32, u64)>>,
    empty_since: Option<Instant>,
    settings: RoomSettings,
    metrics: RoomMetrics,
    bus: EventBus,
    /// This run of the room: part of every event id (see [`crate::bus`]).
    run: String,
    /// Flown paths of the newest missiles in flight, for `trajectory` events.
    trails: super::trails::Trails,
    /// The time budget of a period, and the recent overruns.
    budget: Budget,
    /// The task's health, shared with the handle.
    vitals: Arc<Vitals>,
    /// Where snapshots go when the room is kept in JetStream ([`super::roomlog`]).
    snapshots: Option<mpsc::Sender<super::roomlog::Saved>>,
}

impl Room {
    /// A room at tick 0 with an empty referee, ordering in `orders` (shared with its handle)
    /// under run id `run`.
    #[allow(clippy::too_many_arguments, reason = "the room's shared parts, named")]
    pub fn new(
        id: String,
        private: bool,
        tick: Arc<AtomicU64>,
        clock: Arc<AtomicU32>,
        orders: Arc<Orders>,
        run: String,
        vitals: Arc<Vitals>,
        settings: RoomSettings,
        metrics: RoomMetrics,
        bus: EventBus,
    ) -> Self {
        let sim = Simulation::new(PhysicsParams::default(), ROOM_SEED);
        let hashes = VecDeque::from([(sim.tick(), sim.state_hash())]);
        Self {
            id,
            private,
            sim,
            tick,
            clock: ClockState::default(),
            clock_shared: clock,
            members: Vec::new(),
            next_member: 1,
            orders,
            hashes,
            client_hashes: BTreeMap::new(),
            empty_since: Some(Instant::now()),
            budget: Budget::new(settings.budget, settings.overruns),
            vitals,
            settings,
            metrics,
            bus,
            run,
            trails: super::trails::Trails::default(),
            snapshots: None,
        }
    }

    /// The room restored by another relay's takeover: its referee, clock and trails as
    /// restored.
    pub fn resumed(
        mut self,
        sim: Simulation,
        clock: ClockState,
        trails: super::trails::Trails,
    ) -> Self {
        self.trails = trails;
        self.hashes = VecDeque::from([(sim.tick(), sim.state_hash())]);
        self.tick.store(sim.tick(), Ordering::Relaxed);
        self.clock_shared
            .store(pack_clock(clock.paused, clock.speed), Ordering::Relaxed);
        self.sim = sim;
        self.clock = clock;
        self
    }

    /// Sends a snapshot to `snapshots` every [`super::roomlog::SNAPSHOT_TICKS`] ticks.
    pub fn saving(mut self, snapshots: Option<mpsc::Sender<super::roomlog::Saved>>) -> Self {
        self.snapshots = snapshots;
        self
    }

    /// Runs the room until it has been empty for the grace period (the public room also
    /// waits until its simulation is idle, since REST launches fly there unwatched), or until
    /// it overruns its budget too often.
    pub async fn run(mut self, mut requests: mpsc::Receiver<RoomRequest>) {
        let mut interval = tokio::time::interval(std::time::Duration::from_secs_f64(TICK_S));
        interval.set_missed_tick_behavior(MissedTickBehavior::Burst);
        let orders = self.orders.clone();
        loop {
            tokio::select! {
                _ = interval.tick() => {
                    let started = std::time::Instant::now();
                    self.period();
                    let took = started.elapsed();
                    self.vitals.beat();
                    match self.budget.record(took) {
                        Verdict::Within => {}
                        Verdict::Overran => {
                            self.metrics.overruns.inc();
                            // Other rooms queued on this thread get their turn first.
                            tokio::task::yield_now().await;
                        }
                        Verdict::Stop => {
                            self.metrics.overruns.inc();
                            self.stop_overrun(took, &mut requests);
                            return;
                        }
                    }
                    if self.vitals.stopped() == Some(super::roomlog::MOVED) {
                        self.moved(&mut requests);
                        return;
                    }
                    if self.should_close() {
                        // A normal end: a room kept in JetStream is forgotten there.
                        self.vitals.end();
                        break;
                    }
                }
                () = orders.ordered() => self.flush(),
                request = requests.recv() => match request {
                    Some(request) => self.handle(request),
                    None => break,
                },
            }
        }
        tracing::info!(room = %self.id, tick = self.sim.tick(), "room closed");
    }

    /// Stops the room for overrunning its budget: every member gets one `error` saying why
    /// and is dropped (its connection closes), the room takes no more requests, and the stop
    /// is counted and logged once.
    fn stop_overrun(
        &mut self,
        took: std::time::Duration,
        requests: &mut mpsc::Receiver<RoomRequest>,
    ) {
        // Closed first, so connections see a closed room (not an eviction) when their queue
        // ends, and launches are refused.
        requests.close();
        self.vitals
            .stop("stopped: its referee overran its time budget");
        self.metrics.stop("overrun");
        self.vitals.end();
        let (overruns, window) = self.budget.rule();
        let why = format!(
            "room {} was stopped at tick {}: its referee took longer than its budget of {} ms per \
             100 ms period in {overruns} of its last {window} periods (the last took {} ms at \
             speed {} with {} missiles), and would slow every other room; start again with \
             fewer missiles or a slower clock",
            super::truncate_id(&self.id),
            self.sim.tick(),
            self.budget.limit().as_millis(),
            took.as_millis(),
            self.clock.speed,
            self.sim.missiles().len(),
        );
        tracing::warn!(room = %self.id, members = self.members.len(), "{why}");
        let text: Utf8Bytes = ServerMessage::Error { message: why }.to_json().into();
        for c in self.members.drain(..) {
            if c.outbound.try_send(text.clone()).is_ok() {
                self.metrics.messages_out.inc();
            }
        }
    }

    /// Stops a room another relay took over (fencing): every member is told to reconnect,
    /// which finds the room at its new owner; nothing more is stamped here.
    fn moved(&mut self, requests: &mut mpsc::Receiver<RoomRequest>) {
        requests.close();
        let text: Utf8Bytes = ServerMessage::Error {
            message: format!(
                "room {} moved to another relay at tick {}; reconnect to follow it",
                super::truncate_id(&self.id),
                self.sim.tick()
            ),
        }
        .to_json()
        .into();
        for c in self.members.drain(..) {
            let _ = c.outbound.try_send(text.clone());
        }
    }

    /// One 100 ms period: `speed` referee ticks, none while paused; fewer when a command
    /// due is not logged yet.
    fn period(&mut self) {
        if self.clock.paused {
            return;
        }
        for _ in 0..self
            .clock
            .speed
            .min(ALLOWED_SPEEDS[ALLOWED_SPEEDS.len() - 1])
        {
            if !self.step() {
                return;
            }
        }
    }

    /// Sets the room's clock from the referee's next tick and tells every member.
    fn set_clock(&mut self, by: Member, paused: bool, speed: u32) {
        if !ALLOWED_SPEEDS.contains(&speed) {
            return;
        }
        self.clock = ClockState {
            tick: self.sim.tick(),
            paused,
            speed,
            by: Some(by.clone()),
        };
        self.clock_shared
            .store(pack_clock(paused, speed), Ordering::Relaxed);
        tracing::info!(room = %self.id, member = by.id, paused, speed, tick = self.clock.tick, "room clock set");
        self.broadcast(&ServerMessage::Clock(self.clock.clone()));
    }

    fn should_close(&self) -> bool {
        let empty_long = self
            .empty_since
            .is_some_and(|since| since.elapsed() >= self.settings.grace);
        empty_long && (self.private || self.sim.is_idle()) && self.orders.is_idle()
    }

    fn handle(&mut self, request: RoomRequest) {
        match request {
            RoomRequest::Join {
                name,
                role,
                can_command,
                operator,
                outbound,
                reply,
            } => self.join(name, role, can_command, operator, outbound, reply),
            RoomRequest::Leave { member } => {
                if self.remove(member) {
                    self.broadcast_presence();
                }
            }
            RoomRequest::Command {
                member,
                command,
                applied,
            } => {
                let Some(by) = self
                    .members
                    .iter()
                    .find(|c| c.member.id == member)
                    .map(|c| c.member.clone())
                else {
                    return;
                };
                if !by.can_command {
                    return;
                }
                let applied = applied.or_else(|| applied_of(&command));
                if let Err(refusal) = self.order(by, command, applied.as_ref()) {
                    // Ordered nowhere: only the sender hears why.
                    if let Some(i) = self.members.iter().position(|c| c.member.id == member) {
                        let message = ServerMessage::Error {
                            message: format!("launch refused: {refusal}"),
                        };
                        self.send_or_evict(vec![i], &message.to_json().into());
                    }
                }
            }
            RoomRequest::Clock {
                member,
                paused,
                speed,
            } => {
                let Some(i) = self.members.iter().position(|c| c.member.id == member) else {
                    return;
                };
                let c = &self.members[i];
                if self.may_set_clock(&c.member, c.operator) {
                    self.set_clock(c.member.clone(), paused, speed);
                } else if !self.private {
                    let message = ServerMessage::Error {
                        message: PUBLIC_CLOCK_REFUSED.into(),
                    };
                    self.send_or_evict(vec![i], &message.to_json().into());
                }
            }
            RoomRequest::Hash { member, tick, hash } => self.check_hash(member, tick, hash),
            RoomRequest::Sync { member } => {
                if let Some(i) = self.members.iter().position(|c| c.member.id == member) {
                    let c = &self.members[i];
                    let welcome = self.welcome(c.member.clone(), c.operator);
                    // The broadcast in `welcome` may have evicted someone: find it again.
                    if let Some(i) = self.members.iter().position(|c| c.member.id == member) {
                        self.send_or_evict(vec![i], &welcome.to_json().into());
                    }
                }
            }
            RoomRequest::Launch {
                command,
                applied,
                outcome,
            } => {
                let applied = applied.or_else(|| applied_of(&command));
                let answer = match self.order(rest_member(), command, applied.as_ref()) {
                    Ok((tick, Some(ordered))) => LaunchOutcome::Launched {
                        missile: ordered.missile,
                        tick,
                    },
                    Ok((_, None)) => LaunchOutcome::Rejected("not a launch".into()),
                    Err(refusal) => refusal.into(),
                };
                let _ = outcome.send(answer);
            }
        }
    }

    fn join(
        &mut self,
        name: String,
        role: Role,
        can_command: bool,
        operator: bool,
        outbound: mpsc::Sender<Utf8Bytes>,
        reply: oneshot::Sender<Result<Member, String>>,
    ) {
        if self.members.len() >= MAX_MEMBERS {
            let _ = reply.send(Err(format!(
                "the room is full ({MAX_MEMBERS} members); try again later"
            )));
            return;
        }
        let member = Member {
            id: self.next_member,
            name,
            role,
            can_command,
        };
        self.next_member += 1;
        // Hashes are kept only while someone may compare them: the new member's first one
        // may be for the welcome's tick.
        let now = self.sim.tick();
        if self.hashes.back().is_none_or(|&(t, _)| t != now) {
            self.push_hash(now);
        }
        let welcome = self.welcome(member.clone(), operator);
        // The queue is fresh, so the welcome fits unless the queue has no room at all.
        if outbound.try_send(welcome.to_json().into()).is_err() {
            let _ = reply.send(Err("cannot queue the welcome message".into()));
            return;
        }
        self.metrics.messages_out.inc();
        tracing::info!(room = %self.id, member = member.id, name = %member.name, role = ?member.role, "member joined");
        self.members.push(Connected {
            member: member.clone(),
            operator,
            outbound,
        });
        self.empty_since = None;
        let _ = reply.send(Ok(member));
        self.broadcast_presence();
    }

    /// The room's current state for `member`: the referee's snapshot and pending commands.
    /// What was ordered and not yet broadcast goes to the current members first, so the
    /// welcome's pending commands and later broadcasts never overlap.
    /// Whether a member may pause the room or change its speed: the public room's clock is
    /// its operators', a private room's its players'.
    fn may_set_clock(&self, member: &Member, operator: bool) -> bool {
        if self.private {
            member.can_command
        } else {
            operator
        }
    }

    fn welcome(&mut self, member: Member, operator: bool) -> ServerMessage {
        let commands = self.flush_with_pending();
        let clock_rights = self.may_set_clock(&member, operator);
        ServerMessage::Welcome {
            room: self.id.clone(),
            you: member,
            tick: self.sim.tick(),
            snapshot: Box::new(self.sim.snapshot()),
            commands,
            clock: self.clock.clone(),
            clock_rights: Some(clock_rights),
        }
    }

    /// Removes a member; `true` if it was there.
    fn remove(&mut self, member: u32) -> bool {
        let before = self.members.len();
        self.members.retain(|c| c.member.id != member);
        if self.members.is_empty() && self.empty_since.is_none() {
            self.empty_since = Some(Instant::now());
        }
        before != self.members.len()
    }

    /// Stamps a command in the book and broadcasts it at once; returns the tick it applies
    /// at and, for a launch, its order.
    fn order(
        &mut self,
        by: Member,
        command: Command,
        applied: Option<&Applied>,
    ) -> Result<(u64, Option<super::orders::Ordered>), Refusal> {
        let ordered = order_in(
            &self.orders,
            &self.bus,
            (&self.id, &self.run),
            by,
            command,
            applied,
        );
        self.flush();
        ordered
    }

    /// Broadcasts what was ordered since the last flush, in order.
    fn flush(&mut self) {
        let (unsent, _) = self.orders.take_unsent(false);
        self.broadcast_commands(unsent);
    }

    /// [`Room::flush`], returning every pending command as of the same instant.
    fn flush_with_pending(&mut self) -> Vec<StampedCommand> {
        let (unsent, pending) = self.orders.take_unsent(true);
        self.broadcast_commands(unsent);
        pending
    }

    fn broadcast_commands(&mut self, commands: Vec<StampedCommand>) {
        // Nobody to tell (the public room under REST load): nothing to encode.
        if self.members.is_empty() {
            return;
        }
        for stamped in commands {
            self.broadcast(&ServerMessage::Command(stamped));
        }
    }

    /// Runs one referee tick with the commands stamped for it. What was ordered until now is
    /// broadcast first: a command ordered after this flush is stamped at least
    /// [`super::LEAD_TICKS`] ahead, so none is applied before its broadcast, whatever the
    /// room's speed.
    fn step(&mut self) -> bool {
        self.flush();
        let tick = self.sim.tick();
        if !self.orders.ready(tick) {
            // A command for this tick waits for its log's acknowledgement (at most
            // `roomlog::LOG_ACK_TIMEOUT`): the referee waits with it.
            return false;
        }
        let (commands, flown) = self.orders.due(tick);
        // Each launch's flight was flown when it was checked: the referee reuses it.
        for f in flown {
            self.sim.remember_launch(f);
        }
        let events = self.sim.step(&commands);
        self.tick.store(self.sim.tick(), Ordering::Relaxed);
        let in_flight = self
            .sim
            .missiles()
            .iter()
            .filter(|m| m.flight.phase != Phase::Impacted && m.killed_at.is_none())
            .count();
        if self.id == PUBLIC_ROOM {
            self.metrics
                .public_in_flight
                .set(i64::try_from(in_flight).unwrap_or(i64::MAX));
        }
        let wrong = self.orders.verify(
            tick,
            self.sim.tick(),
            in_flight,
            self.sim.state().next_missile_id,
            &events,
        );
        if wrong > 0 {
            self.metrics.mispredictions.inc_by(wrong as u64);
        }
        self.metrics.launches.inc_by(
            events
                .iter()
                .filter(|e| matches!(e.kind, EventKind::Launch { .. }))
                .count() as u64,
        );
        self.bus.publish_tick(&self.id, &self.run, &events);
        self.trails
            .step(&self.sim, &events, &self.bus, (&self.id, &self.run));
        if let Some(snapshots) = &self.snapshots
            && self
                .sim
                .tick()
                .is_multiple_of(super::roomlog::SNAPSHOT_TICKS)
        {
            // The writer still busy with the last one: this one is skipped.
            let _ = snapshots.try_send(super::roomlog::Saved {
                clock: self.clock.clone(),
                snapshot: self.sim.snapshot(),
                trails: self.trails.clone(),
                applied: self.orders.applied(),
                delivered: self.bus.delivered_mark(),
            });
        }
        if self.members.is_empty() {
            // Nobody sends hashes: none to keep (a joining member gets one for its tick).
            self.hashes.clear();
            self.client_hashes.clear();
            return true;
        }
        let now = self.sim.tick();
        let hash = self.push_hash(now);
        if let Some(waiting) = self.client_hashes.remove(&now) {
            for (member, client_hash) in waiting {
                self.compare(member, now, hash, client_hash);
            }
        }
        // Client hashes for ticks now in the past will never be compared.
        self.client_hashes.retain(|&t, _| t > now);
        true
    }

    /// Records the referee's state hash at `tick` (its current tick) and returns it.
    fn push_hash(&mut self, tick: u64) -> u64 {
        let hash = self.sim.state_hash();
        self.hashes.push_back((tick, hash));
        if self.hashes.len() > HASH_HISTORY {
            self.hashes.pop_front();
        }
        hash
    }

    fn check_hash(&mut self, member: u32, tick: u64, hash: u64) {
        if tick > self.sim.tick() {
            let queued: usize = self.client_hashes.values().map(Vec::len).sum();
            if queued < MAX_PENDING_HASHES && tick <= self.sim.tick() + HASH_HISTORY as u64 {
                self.client_hashes
                    .entry(tick)
                    .or_default()
                    .push((member, hash));
            }
            return;
        }
        if let Some(&(_, expected)) = self.hashes.iter().find(|(t, _)| *t == tick) {
            self.compare(member, tick, expected, hash);
        }
    }

    fn compare(&mut self, member: u32, tick: u64, expected: u64, got: u64) {
        self.metrics.hash_checks.inc();
        if expected == got {
            return;
        }
        self.metrics.desyncs.inc();
        tracing::warn!(room = %self.id, member, tick, expected = format!("{expected:016x}"), got = format!("{got:016x}"), "client state hash differs from the referee's; resyncing");
        let commands = self.flush_with_pending();
        let message = ServerMessage::Resync {
            mismatch_tick: tick,
            expected,
            got,
            tick: self.sim.tick(),
            snapshot: Box::new(self.sim.snapshot()),
            commands,
        };
        let text: Utf8Bytes = message.to_json().into();
        if let Some(i) = self.members.iter().position(|c| c.member.id == member) {
            self.send_or_evict(vec![i], &text);
        }
    }

    fn broadcast_presence(&mut self) {
        let members = self.members.iter().map(|c| c.member.clone()).collect();
        self.broadcast(&ServerMessage::Presence { members });
    }

    /// Queues a message for every member, evicting those whose queue is full or closed.
    fn broadcast(&mut self, message: &ServerMessage) {
        let text: Utf8Bytes = message.to_json().into();
        let all = (0..self.members.len()).collect();
        self.send_or_evict(all, &text);
    }

    fn send_or_evict(&mut self, indices: Vec<usize>, text: &Utf8Bytes) {
        let mut gone = Vec::new();
        for i in indices {
            let c = &self.members[i];
            match c.outbound.try_send(text.clone()) {
                Ok(()) => {
                    self.metrics.messages_out.inc();
                }
                Err(mpsc::error::TrySendError::Full(_)) => {
                    self.metrics.evictions.inc();
                    tracing::warn!(room = %self.id, member = c.member.id, "member evicted: its outbound queue is full");
                    gone.push(c.member.id);
                }
                Err(mpsc::error::TrySendError::Closed(_)) => gone.push(c.member.id),
            }
        }
        if gone.is_empty() {
            return;
        }
        // Dropping a member's sender ends its connection task's queue: it closes the socket.
        for id in gone {
            self.remove(id);
        }
        self.broadcast_presence();
    }
}

#[cfg(test)]
mod tests;
