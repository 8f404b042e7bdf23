//! The task owning one room: its members, its referee simulation and its command order.
//!
//! Every 100 ms of wall time (a Tokio interval, catching up in bursts after a stall) the
//! referee runs `speed` ticks with the commands stamped for them, or none while the room's
//! clock is paused. Members who may command set the clock (pause, resume, speed); the new
//! clock applies from the referee's next tick and is broadcast to every member. The speed is
//! one of [`ALLOWED_SPEEDS`], at most 16 ticks per period, so one room's work per period stays
//! bounded and it cannot hog the runtime. A command from a member is stamped
//! with the referee's current tick plus [`LEAD_TICKS`] and broadcast to every member at once;
//! every client applies it at that tick, as the referee does. After each tick the referee
//! records its state hash; a client hash for the same tick that differs is counted, logged and
//! answered with a resync (snapshot + pending commands). A member whose outbound queue is full
//! is evicted on the spot: the room never waits for anyone.
//!
//! Invariants: stamped ticks never decrease (the referee's tick only grows), so pending
//! commands stay in order in a queue; the `k`-th launch outcome event of a tick (`launch` or
//! `launch-rejected`) belongs to the `k`-th launch command applied in that tick (the engine
//! applies scheduled commands first, then the given ones, in order), which is how a REST
//! launch learns its missile id.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use axum::extract::ws::Utf8Bytes;
use sim_core::engine::TICK_S;
use sim_core::flight::PhysicsParams;
use sim_core::protocol::{ALLOWED_SPEEDS, ClockState, Member, Role, ServerMessage, StampedCommand};
use sim_core::{Command, Event, EventKind, MissileId, Simulation};
use tokio::sync::{mpsc, oneshot};
use tokio::time::{Instant, MissedTickBehavior};

use super::{LEAD_TICKS, MAX_MEMBERS, RoomSettings, pack_clock};
use crate::bus::EventBus;
use crate::metrics::RoomMetrics;

/// Ticks of referee hashes kept for comparison with late client hashes (one minute).
const HASH_HISTORY: usize = 600;
/// Client hashes for ticks the referee has not reached yet, kept per room.
const MAX_PENDING_HASHES: usize = 256;
/// Seed of every room's simulation. Rooms need no secret randomness, and a fixed seed lets a
/// room be replayed from its command log.
const ROOM_SEED: u64 = 1;

/// The member a REST launch is attributed to.
pub fn rest_member() -> Member {
    Member {
        id: 0,
        name: "REST API".into(),
        role: Role::Attacker,
        can_command: true,
    }
}

/// What a REST launch became once the referee applied it.
#[derive(Debug, Clone, PartialEq)]
pub enum LaunchOutcome {
    /// Launched with this id at this tick.
    Launched {
        /// The new missile.
        missile: MissileId,
        /// The tick it was applied at.
        tick: u64,
    },
    /// The referee refused it; one sentence.
    Rejected(String),
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
        /// The command.
        command: Command,
    },
    /// A member set the room's clock (validated speed; ignored unless it may command).
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
    /// A launch from the REST API, answered once the referee applied it.
    Launch {
        /// The launch command (with solved guidance).
        command: Command,
        /// The outcome, after the tick ran.
        outcome: oneshot::Sender<LaunchOutcome>,
    },
}

struct Connected {
    member: Member,
    outbound: mpsc::Sender<Utf8Bytes>,
}

/// A REST launch waiting for its tick.
struct Waiter {
    tick: u64,
    /// Index among the stamped launch commands of that tick.
    launch_index: usize,
    reply: oneshot::Sender<LaunchOutcome>,
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
    pending: VecDeque<StampedCommand>,
    waiters: Vec<Waiter>,
    hashes: VecDeque<(u64, u64)>,
    client_hashes: BTreeMap<u64, Vec<(u32, u64)>>,
    empty_since: Option<Instant>,
    settings: RoomSettings,
    metrics: RoomMetrics,
    bus: EventBus,
    /// This run of the room: part of every event id (see [`crate::bus`]).
    run: String,
    /// Flown paths of the missiles in flight: `[lat, lon, alt_m]` once per second.
    trails: BTreeMap<MissileId, Vec<[f64; 3]>>,
}

/// Ticks between two trail points (one second).
const TRAIL_EVERY: u64 = 10;
/// Most points kept per trail (an ICBM's half hour at one per second, with margin).
const MAX_TRAIL_POINTS: usize = 2_400;
/// Most trails kept per room; the oldest missile's is dropped beyond.
const MAX_TRAILS: usize = 1_000;

impl Room {
    /// A room at tick 0 with an empty referee.
    pub fn new(
        id: String,
        private: bool,
        tick: Arc<AtomicU64>,
        clock: Arc<AtomicU32>,
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
            pending: VecDeque::new(),
            waiters: Vec::new(),
            hashes,
            client_hashes: BTreeMap::new(),
            empty_since: Some(Instant::now()),
            settings,
            metrics,
            bus,
            run: crate::bus::random_run(),
            trails: BTreeMap::new(),
        }
    }

    /// Runs the room until it has been empty for the grace period (the public room also
    /// waits until its simulation is idle, since REST launches fly there unwatched).
    pub async fn run(mut self, mut requests: mpsc::Receiver<RoomRequest>) {
        let mut interval = tokio::time::interval(std::time::Duration::from_secs_f64(TICK_S));
        interval.set_missed_tick_behavior(MissedTickBehavior::Burst);
        loop {
            tokio::select! {
                _ = interval.tick() => {
                    self.period();
                    if self.should_close() {
                        break;
                    }
                }
                request = requests.recv() => match request {
                    Some(request) => self.handle(request),
                    None => break,
                },
            }
        }
        tracing::info!(room = %self.id, tick = self.sim.tick(), "room closed");
    }

    /// One 100 ms period: `speed` referee ticks, none while paused.
    fn period(&mut self) {
        if self.clock.paused {
            return;
        }
        for _ in 0..self
            .clock
            .speed
            .min(ALLOWED_SPEEDS[ALLOWED_SPEEDS.len() - 1])
        {
            self.step();
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
        empty_long && (self.private || self.sim.is_idle()) && self.waiters.is_empty()
    }

    fn handle(&mut self, request: RoomRequest) {
        match request {
            RoomRequest::Join {
                name,
                role,
                can_command,
                outbound,
                reply,
            } => self.join(name, role, can_command, outbound, reply),
            RoomRequest::Leave { member } => {
                if self.remove(member) {
                    self.broadcast_presence();
                }
            }
            RoomRequest::Command { member, command } => {
                let Some(by) = self
                    .members
                    .iter()
                    .find(|c| c.member.id == member)
                    .map(|c| c.member.clone())
                else {
                    return;
                };
                if by.can_command {
                    self.order(by, command);
                }
            }
            RoomRequest::Clock {
                member,
                paused,
                speed,
            } => {
                if let Some(by) = self
                    .members
                    .iter()
                    .find(|c| c.member.id == member && c.member.can_command)
                    .map(|c| c.member.clone())
                {
                    self.set_clock(by, paused, speed);
                }
            }
            RoomRequest::Hash { member, tick, hash } => self.check_hash(member, tick, hash),
            RoomRequest::Sync { member } => {
                if let Some(i) = self.members.iter().position(|c| c.member.id == member) {
                    let welcome = self.welcome(self.members[i].member.clone());
                    self.send_or_evict(vec![i], &welcome.to_json().into());
                }
            }
            RoomRequest::Launch { command, outcome } => {
                let tick = self.order(rest_member(), command);
                let launch_index = self
                    .pending
                    .iter()
                    .filter(|c| c.tick == tick && is_launch(&c.command))
                    .count()
                    - 1;
                self.waiters.push(Waiter {
                    tick,
                    launch_index,
                    reply: outcome,
                });
            }
        }
    }

    fn join(
        &mut self,
        name: String,
        role: Role,
        can_command: bool,
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
        let welcome = self.welcome(member.clone());
        // The queue is fresh, so the welcome fits unless the queue has no room at all.
        if outbound.try_send(welcome.to_json().into()).is_err() {
            let _ = reply.send(Err("cannot queue the welcome message".into()));
            return;
        }
        self.metrics.messages_out.inc();
        tracing::info!(room = %self.id, member = member.id, name = %member.name, role = ?member.role, "member joined");
        self.members.push(Connected {
            member: member.clone(),
            outbound,
        });
        self.empty_since = None;
        let _ = reply.send(Ok(member));
        self.broadcast_presence();
    }

    /// The room's current state for `member`: the referee's snapshot and pending commands.
    fn welcome(&self, member: Member) -> ServerMessage {
        ServerMessage::Welcome {
            room: self.id.clone(),
            you: member,
            tick: self.sim.tick(),
            snapshot: Box::new(self.sim.snapshot()),
            commands: self.pending.iter().cloned().collect(),
            clock: self.clock.clone(),
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

    /// Stamps a command, queues it for the referee and sends it to every member; returns the
    /// tick it applies at.
    fn order(&mut self, by: Member, command: Command) -> u64 {
        let stamped = StampedCommand {
            tick: self.sim.tick() + LEAD_TICKS,
            by,
            command,
        };
        let tick = stamped.tick;
        let message = ServerMessage::Command(stamped.clone());
        self.pending.push_back(stamped);
        self.broadcast(&message);
        tick
    }

    /// Runs one referee tick with the commands stamped for it.
    fn step(&mut self) {
        let tick = self.sim.tick();
        let mut commands = Vec::new();
        while self.pending.front().is_some_and(|c| c.tick <= tick) {
            if let Some(c) = self.pending.pop_front() {
                commands.push(c.command);
            }
        }
        let scheduled_launches = self
            .sim
            .state()
            .scheduled
            .iter()
            .take_while(|c| c.tick <= tick)
            .filter(|c| is_launch(&c.command))
            .count();
        let events = self.sim.step(&commands);
        self.tick.store(self.sim.tick(), Ordering::Relaxed);
        self.record(tick, scheduled_launches, &events);
        self.bus.publish_tick(&self.id, &self.run, &events);
        self.record_trails(&events);
        let hash = self.sim.state_hash();
        self.hashes.push_back((self.sim.tick(), hash));
        if self.hashes.len() > HASH_HISTORY {
            self.hashes.pop_front();
        }
        if let Some(waiting) = self.client_hashes.remove(&self.sim.tick()) {
            for (member, client_hash) in waiting {
                self.compare(member, self.sim.tick(), hash, client_hash);
            }
        }
        // Client hashes for ticks now in the past will never be compared.
        let now = self.sim.tick();
        self.client_hashes.retain(|&t, _| t > now);
    }

    /// Counts launches and answers REST waiters from the tick's events.
    fn record(&mut self, tick: u64, scheduled_launches: usize, events: &[Event]) {
        let outcomes: Vec<&Event> = events.iter().filter(|e| is_launch_outcome(e)).collect();
        for e in &outcomes {
            if matches!(e.kind, EventKind::Launch { .. }) {
                self.metrics.launches.inc();
            }
        }
        let (ready, later): (Vec<Waiter>, Vec<Waiter>) =
            self.waiters.drain(..).partition(|w| w.tick <= tick);
        self.waiters = later;
        for w in ready {
            #[allow(
                unreachable_patterns,
                reason = "EventKind gains variants as the engine grows"
            )]
            let outcome = match outcomes
                .get(scheduled_launches + w.launch_index)
                .map(|e| &e.kind)
            {
                Some(EventKind::Launch { missile, .. }) => LaunchOutcome::Launched {
                    missile: *missile,
                    tick,
                },
                Some(EventKind::LaunchRejected { reason, .. }) => {
                    LaunchOutcome::Rejected(reason.clone())
                }
                _ => {
                    LaunchOutcome::Rejected("the referee reported no outcome for the launch".into())
                }
            };
            let _ = w.reply.send(outcome);
        }
    }

    /// Samples the missiles in flight once per second and, when one impacts, publishes its
    /// flown path as a relay-derived `trajectory` event (`{missile, points: [[lat, lon,
    /// alt_m], ...]}`), numbered after the tick's referee events so its id stays
    /// deterministic.
    fn record_trails(&mut self, events: &[Event]) {
        if self.sim.tick().is_multiple_of(TRAIL_EVERY) {
            for view in self.sim.missile_views() {
                if matches!(view.phase, sim_core::flight::Phase::Impacted) {
                    continue;
                }
                let trail = self.trails.entry(view.id).or_default();
                if trail.len() < MAX_TRAIL_POINTS {
                    trail.push([view.lat_deg, view.lon_deg, view.alt_m]);
                }
            }
            while self.trails.len() > MAX_TRAILS {
                self.trails.pop_first();
            }
        }
        let mut index = events.len();
        for event in events {
            let EventKind::Impact { missile, at, .. } = &event.kind else {
                continue;
            };
            let mut points = self.trails.remove(missile).unwrap_or_default();
            points.push([at.lat_deg, at.lon_deg, 0.0]);
            let payload = serde_json::json!({
                "type": "trajectory",
                "tick": event.tick,
                "time_s": event.time_s,
                "missile": missile,
                "points": points,
            });
            let index_u32 = u32::try_from(index).unwrap_or(u32::MAX);
            self.bus.publish(crate::bus::BusEvent::from_payload(
                &self.id, &self.run, event.tick, index_u32, payload,
            ));
            index += 1;
        }
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
        let message = ServerMessage::Resync {
            mismatch_tick: tick,
            expected,
            got,
            tick: self.sim.tick(),
            snapshot: Box::new(self.sim.snapshot()),
            commands: self.pending.iter().cloned().collect(),
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

fn is_launch(command: &Command) -> bool {
    matches!(command, Command::Launch(_))
}

fn is_launch_outcome(event: &Event) -> bool {
    matches!(
        event.kind,
        EventKind::Launch { .. } | EventKind::LaunchRejected { .. }
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::earth::GeoPoint;
    use sim_core::engine::LaunchCommand;
    use sim_core::protocol::decode_server;
    use std::time::Duration;

    fn settings() -> RoomSettings {
        RoomSettings {
            grace: Duration::from_secs(60),
            max_rooms: 10,
            heartbeat: Duration::from_secs(15),
            rate_per_s: 20.0,
            burst: 40.0,
            queue: 8,
            allowed_origins: vec![],
        }
    }

    fn room() -> Room {
        Room::new(
            "test".into(),
            true,
            Arc::default(),
            Arc::new(AtomicU32::new(pack_clock(false, 1))),
            settings(),
            RoomMetrics::default(),
            EventBus::new(Default::default()),
        )
    }

    fn launch() -> Command {
        Command::Launch(LaunchCommand {
            missile: sim_core::MissileKind::ScudB,
            from: GeoPoint::new(35.0, 45.0),
            to: GeoPoint::new(33.0, 44.0),
            profile: Default::default(),
            label: None,
            guidance: None,
        })
    }

    fn join(room: &mut Room, queue: usize) -> (Member, mpsc::Receiver<Utf8Bytes>) {
        let (tx, rx) = mpsc::channel(queue);
        let (reply, mut answer) = oneshot::channel();
        room.handle(RoomRequest::Join {
            name: "a".into(),
            role: Role::Attacker,
            can_command: true,
            outbound: tx,
            reply,
        });
        (answer.try_recv().unwrap().unwrap(), rx)
    }

    fn drain(rx: &mut mpsc::Receiver<Utf8Bytes>) -> Vec<ServerMessage> {
        std::iter::from_fn(|| rx.try_recv().ok())
            .map(|t| decode_server(t.as_str()).unwrap())
            .collect()
    }

    #[test]
    fn commands_are_stamped_ahead_and_applied_at_their_tick() {
        let mut room = room();
        let (member, mut rx) = join(&mut room, 64);
        room.step();
        room.step();
        room.handle(RoomRequest::Command {
            member: member.id,
            command: launch(),
        });
        let stamped = drain(&mut rx)
            .into_iter()
            .find_map(|m| match m {
                ServerMessage::Command(c) => Some(c),
                _ => None,
            })
            .unwrap();
        assert_eq!(stamped.tick, 2 + LEAD_TICKS);
        assert_eq!(stamped.by, member);
        for _ in 0..LEAD_TICKS {
            room.step();
            assert!(room.sim.missiles().is_empty());
        }
        room.step();
        assert_eq!(room.sim.missiles().len(), 1);
        assert_eq!(room.sim.missiles()[0].launch_tick, stamped.tick);
        assert_eq!(room.metrics.launches.get(), 1);
    }

    #[test]
    fn the_clock_pauses_and_speeds_the_referee_and_is_broadcast() {
        let mut room = room();
        let (member, mut rx) = join(&mut room, 64);
        room.period();
        assert_eq!(room.sim.tick(), 1);
        room.handle(RoomRequest::Clock {
            member: member.id,
            paused: true,
            speed: 1,
        });
        for _ in 0..5 {
            room.period();
        }
        assert_eq!(room.sim.tick(), 1);
        room.handle(RoomRequest::Clock {
            member: member.id,
            paused: false,
            speed: 4,
        });
        room.period();
        room.period();
        assert_eq!(room.sim.tick(), 9);
        let clocks: Vec<ClockState> = drain(&mut rx)
            .into_iter()
            .filter_map(|m| match m {
                ServerMessage::Clock(c) => Some(c),
                _ => None,
            })
            .collect();
        assert_eq!(clocks.len(), 2);
        assert_eq!((clocks[0].tick, clocks[0].paused), (1, true));
        assert_eq!((clocks[1].tick, clocks[1].speed), (1, 4));
        assert_eq!(clocks[1].by.as_ref(), Some(&member));
        assert_eq!(
            super::super::unpack_clock(room.clock_shared.load(Ordering::Relaxed)),
            (false, 4)
        );
        // A speed outside the allowed set, or a member who may not command, changes nothing.
        room.handle(RoomRequest::Clock {
            member: member.id,
            paused: true,
            speed: 1000,
        });
        let (tx, _watcher_rx) = mpsc::channel(64);
        let (reply, mut answer) = oneshot::channel();
        room.handle(RoomRequest::Join {
            name: "w".into(),
            role: Role::Observer,
            can_command: false,
            outbound: tx,
            reply,
        });
        let watcher = answer.try_recv().unwrap().unwrap();
        room.handle(RoomRequest::Clock {
            member: watcher.id,
            paused: true,
            speed: 1,
        });
        assert!(!room.clock.paused);
        assert_eq!(room.clock.speed, 4);
    }

    #[test]
    fn a_member_whose_queue_is_full_is_evicted_not_waited_for() {
        let mut room = room();
        let (fast, mut fast_rx) = join(&mut room, 1024);
        // A queue of 3 that is never read: welcome + presence fill two slots.
        let (slow, _slow_rx) = join(&mut room, 3);
        for _ in 0..5 {
            room.handle(RoomRequest::Command {
                member: fast.id,
                command: launch(),
            });
        }
        assert!(room.members.iter().all(|c| c.member.id != slow.id));
        assert_eq!(room.metrics.evictions.get(), 1);
        let presence = drain(&mut fast_rx)
            .into_iter()
            .filter_map(|m| match m {
                ServerMessage::Presence { members } => Some(members),
                _ => None,
            })
            .next_back()
            .unwrap();
        assert_eq!(presence, vec![fast]);
    }

    #[test]
    fn a_wrong_hash_gets_a_resync_and_is_counted() {
        let mut room = room();
        let (member, mut rx) = join(&mut room, 64);
        room.step();
        let (tick, good) = *room.hashes.back().unwrap();
        room.handle(RoomRequest::Hash {
            member: member.id,
            tick,
            hash: good,
        });
        assert_eq!(room.metrics.desyncs.get(), 0);
        room.handle(RoomRequest::Hash {
            member: member.id,
            tick,
            hash: good ^ 1,
        });
        assert_eq!(room.metrics.desyncs.get(), 1);
        let resync = drain(&mut rx).pop().unwrap();
        let ServerMessage::Resync {
            mismatch_tick,
            expected,
            snapshot,
            ..
        } = resync
        else {
            panic!("expected a resync, got {resync:?}");
        };
        assert_eq!((mismatch_tick, expected), (tick, good));
        assert_eq!(
            Simulation::restore(*snapshot).state_hash(),
            room.sim.state_hash()
        );
        // A hash for a future tick is compared when the referee gets there.
        room.handle(RoomRequest::Hash {
            member: member.id,
            tick: room.sim.tick() + 2,
            hash: 0,
        });
        room.step();
        assert_eq!(room.metrics.desyncs.get(), 1);
        room.step();
        assert_eq!(room.metrics.desyncs.get(), 2);
    }

    /// The old system's setup (scenarios/socal-scud-c.json): the real referee's plots reach
    /// the bus with the old `radar.detection` fields, ids and the room, and feed the metrics.
    #[test]
    fn radar_plots_reach_the_bus_with_the_old_fields() {
        let metrics = crate::metrics::Metrics::new();
        let bus = EventBus::new(metrics.events().clone());
        let mut events = bus.subscribe();
        let mut room = Room::new(
            "socal".into(),
            true,
            Arc::default(),
            Arc::new(AtomicU32::new(pack_clock(false, 1))),
            settings(),
            RoomMetrics::default(),
            bus,
        );
        let radar: Command = serde_json::from_value(serde_json::json!({
            "type": "place-radar", "call_sign": "RAD_VBG", "kind": "AN/TPY-2",
            "position": {"lat_deg": 34.73, "lon_deg": -120.57}, "height_m": 100.0,
            "boresight_az_deg": 315.0
        }))
        .unwrap();
        let scud = Command::Launch(LaunchCommand {
            missile: sim_core::MissileKind::ScudC,
            from: GeoPoint::new(36.5, -123.1),
            to: GeoPoint::new(34.05, -118.25),
            profile: Default::default(),
            label: None,
            guidance: None,
        });
        let member = rest_member();
        room.order(member.clone(), radar);
        room.order(member, scud);
        let mut plot = None;
        for _ in 0..3000 {
            room.step();
            while let Ok(e) = events.try_recv() {
                // A true echo (false alarms may start tentative tracks anywhere).
                if e.kind == "detection"
                    && e.payload["missile_id"].is_number()
                    && e.payload["truth"].is_number()
                {
                    plot.get_or_insert(e);
                }
            }
            if plot.is_some() {
                break;
            }
        }
        let plot = plot.expect("RAD_VBG tracks the SCUD-C within 300 s");
        assert_eq!(plot.room, "socal");
        assert_eq!(
            plot.event_id,
            format!("socal:{}:{}:{}", room.run, plot.tick, plot.index)
        );
        let (_, flat) = crate::nats::messages(&plot).pop().unwrap();
        let flat: serde_json::Value = serde_json::from_slice(&flat).unwrap();
        assert_eq!(flat["radar_id"], "RAD_VBG");
        for key in ["missile_id", "ts", "snr", "lat", "lon"] {
            assert!(flat[key].is_number(), "{key} in {flat}");
        }
        let lat = flat["lat"].as_f64().unwrap();
        assert!((33.0..37.5).contains(&lat), "{lat}");
        let text = metrics.encode().unwrap();
        assert!(
            text.contains(r#"radar_detections_total{radar="RAD_VBG"}"#),
            "{text}"
        );
        assert!(!text.contains("track_updates_total 0"), "{text}");
    }

    #[test]
    fn an_impact_publishes_the_flown_trajectory() {
        let bus = EventBus::new(Default::default());
        let mut events = bus.subscribe();
        let mut room = Room::new(
            "t".into(),
            true,
            Arc::default(),
            Arc::new(AtomicU32::new(pack_clock(false, 1))),
            settings(),
            RoomMetrics::default(),
            bus,
        );
        room.order(rest_member(), launch());
        let mut impact = None;
        let mut path = None;
        for _ in 0..6000 {
            room.step();
            while let Ok(e) = events.try_recv() {
                match e.kind.as_str() {
                    "impact" => impact = Some(e),
                    "trajectory" => path = Some(e),
                    _ => {}
                }
            }
            if path.is_some() {
                break;
            }
        }
        let (impact, path) = (impact.unwrap(), path.expect("a trajectory at impact"));
        assert_eq!(path.tick, impact.tick);
        assert!(path.index > impact.index);
        assert_eq!(path.payload["missile"], impact.payload["missile"]);
        let points = path.payload["points"].as_array().unwrap();
        let flight_s = impact.payload["flight_time_s"].as_f64().unwrap();
        // One point per second of flight, plus the impact point.
        assert!(
            (points.len() as f64 - flight_s).abs() <= 2.0,
            "{} points for {flight_s} s",
            points.len()
        );
        let first = points[0].as_array().unwrap();
        assert!(
            (first[0].as_f64().unwrap() - 35.0).abs() < 0.05,
            "{first:?}"
        );
        assert!(
            (first[1].as_f64().unwrap() - 45.0).abs() < 0.05,
            "{first:?}"
        );
        let apogee = points
            .iter()
            .map(|p| p[2].as_f64().unwrap())
            .fold(0.0, f64::max);
        assert!(apogee > 40_000.0, "{apogee}");
        let last = points.last().unwrap();
        assert_eq!(last[0], impact.payload["at"]["lat_deg"]);
        assert!(room.trails.is_empty());
    }

    #[test]
    fn rest_launches_learn_their_missile_id() {
        let mut room = room();
        let (out_a, mut res_a) = oneshot::channel();
        let (out_b, mut res_b) = oneshot::channel();
        let bad = Command::Launch(LaunchCommand {
            missile: sim_core::MissileKind::ScudB,
            from: GeoPoint::new(35.0, 45.0),
            to: GeoPoint::new(-35.0, 45.0),
            profile: Default::default(),
            label: None,
            guidance: None,
        });
        room.handle(RoomRequest::Launch {
            command: bad,
            outcome: out_a,
        });
        room.handle(RoomRequest::Launch {
            command: launch(),
            outcome: out_b,
        });
        for _ in 0..=LEAD_TICKS {
            room.step();
        }
        assert!(
            matches!(res_a.try_recv(), Ok(LaunchOutcome::Rejected(r)) if r.contains("maximum range"))
        );
        assert_eq!(
            res_b.try_recv(),
            Ok(LaunchOutcome::Launched {
                missile: MissileId(1),
                tick: LEAD_TICKS
            })
        );
    }
}
