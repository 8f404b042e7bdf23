//! A room's order book: where every command is stamped with its tick, and every launch gets
//! its missile id, before the referee steps to it.
//!
//! The book is shared by the room task and the room's handle behind one short lock, so a REST
//! launch is ordered by the request itself (`POST /launch` never waits for the room task,
//! which may be busy stepping thousands of missiles) and websocket commands by the room task;
//! both go through [`Orders::order`], so there is one order. The room task broadcasts what was
//! ordered ([`Orders::take_unsent`]) and hands the referee each tick's commands
//! ([`Orders::due`]).
//!
//! Ids are fixed at order time because a launch's outcome is known then: every launch
//! reaching a room carries guidance and the result of flying it ([`sim_core::targeting::Flown`],
//! made by flying it or by the solve that found it), which is exactly what the referee computes
//! when it applies the launch (a pure function of the command), so the room knows it will fly.
//! The book hands that result to the referee with the launch ([`Orders::due`], then
//! [`sim_core::Simulation::remember_launch`]), so the referee does not fly it again. The
//! referee numbers missiles in the order it applies launches, and it applies the commands of a
//! tick in stamped order, each giving exactly one event (`launch`, or the placement or
//! refusal of the other commands) before anything moves. So the `k`-th command stamped for
//! tick `t` produces event `k` of tick `t`, and the launch's event (id, payload) is known at
//! order time: [`Ordered::event`]. After each step the room compares the referee's launch
//! events with the ones predicted ([`Orders::verify`]); a difference is counted in
//! `relay_launch_mispredictions_total` and logged, and the book re-derives its next id.
//!
//! Capacity: a launch is refused ([`Refusal::Full`]) when the missiles in flight (as of the
//! referee's last step) plus the launches pending reach the room's capacity, and
//! ([`Refusal::Backlog`]) when the launches pending alone reach `--launch-waiting`: a room
//! whose referee falls behind (or a paused room its members keep launching into) does not
//! pile up launches. Persistence: when
//! the relay has a database, a launch first reserves a place in the bounded queue of launches
//! to write ([`crate::bus::EventBus::reserve_durable`]); with the queue full it is refused
//! ([`Refusal::Busy`]), so an answered launch is always written.
//!
//! Log: with JetStream ([`super::roomlog`]) every stamped command is also sent, under the
//! lock and so in order, with its ordinal, to the room's log appender, and is held back until
//! [`Orders::logged`] reaches it: [`Orders::take_unsent`] hands out (and welcomes show) only
//! logged commands, [`Orders::ready`] keeps the referee from a tick with an unlogged command,
//! and a REST launch's answer waits for [`Orders::wait_logged`]. While the log fails, the
//! appender retries what it holds and the book refuses new commands ([`Refusal::Unlogged`]):
//! no command is applied that the log does not hold. Without a log, every command counts as
//! logged at once.
//!
//! Invariants: stamped ticks never decrease, so `pending` stays sorted by tick; every command
//! in `pending` that was never broadcast is in `unsent`, in the same order (the newest
//! ordinals, a tail of `pending`); the lock is never
//! held across an await or a referee step.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard};

use sim_core::engine::TICK_S;
use sim_core::protocol::{Member, StampedCommand};
use sim_core::targeting::Flown;
use sim_core::{Command, Event, EventKind, MissileId};
use tokio::sync::Notify;

use super::LEAD_TICKS;

/// A launch the room accepted: its missile, the tick it flies from, and the referee event
/// that will announce it (with its index among the tick's events).
#[derive(Debug, Clone, PartialEq)]
pub struct Ordered {
    /// The missile's id.
    pub missile: MissileId,
    /// The tick the referee applies it at.
    pub tick: u64,
    /// Its index among the events of that tick.
    pub index: u32,
    /// Its place among the room's commands (see [`Orders::logged`]).
    pub ordinal: u64,
    /// The referee's `launch` event, as it will be.
    pub event: Event,
}

/// Why a room did not order a launch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The room holds its capacity of missiles in flight (with the pending launches).
    Full {
        /// The capacity.
        capacity: usize,
    },
    /// The queue of launches waiting to be written to the database is full.
    Busy,
    /// So many launches wait for the referee's tick (it is behind, or paused).
    Backlog {
        /// The most launches that may wait.
        limit: usize,
    },
    /// The room's log (NATS JetStream) does not take commands now: none is ordered until it
    /// does, so none is applied that a relay taking the room over would not know.
    Unlogged,
    /// The referee would refuse it; one sentence.
    Rejected(String),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Full { capacity } => write!(
                f,
                "the room holds {capacity} missiles in flight, its capacity; try again when some \
                 have landed"
            ),
            Refusal::Busy => f.write_str(
                "the relay is writing launches to its database as fast as it can; try again in a \
                 second",
            ),
            Refusal::Backlog { limit } => write!(
                f,
                "{limit} launches already wait for the room's referee to reach their tick, its \
                 limit; try again in a second"
            ),
            Refusal::Unlogged => f.write_str(
                "the room's log (NATS JetStream) cannot be reached, and the room takes no command \
                 it cannot log; try again in a few seconds",
            ),
            Refusal::Rejected(why) => f.write_str(why),
        }
    }
}

/// A launch's outcome as the referee will compute it (`fly_guidance` on its command), or why
/// the referee would refuse it.
pub type Applied = Result<Flown, String>;

#[derive(Debug)]
struct Book {
    /// The referee's next tick.
    tick: u64,
    /// The id the next accepted launch gets.
    next_missile: u32,
    /// Missiles in flight after the referee's last step.
    in_flight: usize,
    /// Commands stamped and not yet applied, by tick.
    pending: VecDeque<StampedCommand>,
    /// Launches among `pending`.
    pending_launches: usize,
    /// The flown outcome of each launch in `pending`, in the same order.
    flown: VecDeque<Flown>,
    /// Commands ordered but not yet broadcast to the members, in order.
    unsent: Vec<StampedCommand>,
    /// The `launch` events the referee owes, in order.
    expected: VecDeque<Ordered>,
    /// Commands ordered so far (the last one's ordinal).
    issued: u64,
    /// Commands handed to the referee so far: ordinals `1..=applied` (in ordinal order).
    applied: u64,
    /// Where stamped commands go to be logged ([`super::roomlog`]), once the room is shared
    /// with JetStream.
    log: Option<tokio::sync::mpsc::UnboundedSender<(u64, StampedCommand)>>,
}

/// The shared order book of one room.
#[derive(Debug)]
pub struct Orders {
    book: Mutex<Book>,
    /// Most missiles in flight (with pending launches).
    capacity: usize,
    /// Most launches pending.
    max_pending: usize,
    /// Wakes the room task when something was ordered from outside it (or logged).
    wake: Notify,
    /// The ordinal up to which every command is logged.
    logged: tokio::sync::watch::Sender<u64>,
    /// Whether the log's appender is failing: new commands are refused meanwhile.
    log_down: std::sync::atomic::AtomicBool,
    /// What waits for a command to be logged (a launch's place in the durable queue), by
    /// ordinal; dropped unrun if the room ends first.
    deferred: Mutex<Vec<(u64, Deferred)>>,
}

/// Work run once a command is logged.
pub struct Deferred(pub Box<dyn FnOnce() + Send>);

impl std::fmt::Debug for Deferred {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Deferred")
    }
}

impl Orders {
    /// An empty book for a referee at tick 0 that has launched nothing, holding at most
    /// `capacity` missiles in flight and `max_pending` launches waiting for their tick.
    pub fn new(capacity: usize, max_pending: usize) -> Self {
        Self {
            book: Mutex::new(Book {
                tick: 0,
                next_missile: 1,
                in_flight: 0,
                pending: VecDeque::new(),
                pending_launches: 0,
                flown: VecDeque::new(),
                unsent: Vec::new(),
                expected: VecDeque::new(),
                issued: 0,
                applied: 0,
                log: None,
            }),
            capacity,
            max_pending,
            wake: Notify::new(),
            logged: tokio::sync::watch::Sender::new(0),
            log_down: std::sync::atomic::AtomicBool::new(false),
            deferred: Mutex::new(Vec::new()),
        }
    }

    /// A book for a referee restored at `tick` whose next missile is `next_missile`, with
    /// `in_flight` missiles flying.
    pub fn resumed(
        capacity: usize,
        max_pending: usize,
        (tick, next_missile, in_flight): (u64, u32, usize),
    ) -> Self {
        let orders = Self::new(capacity, max_pending);
        {
            let mut book = orders.lock();
            book.tick = tick;
            book.next_missile = next_missile;
            book.in_flight = in_flight;
        }
        orders
    }

    /// From now on every stamped command is sent to `log` with its ordinal and held back
    /// (not broadcast, not applied) until [`Orders::logged`] reaches it.
    pub fn set_log(&self, log: tokio::sync::mpsc::UnboundedSender<(u64, StampedCommand)>) {
        self.lock().log = Some(log);
    }

    /// Whether the log takes commands (the appender says so); while it does not, new commands
    /// are refused ([`Refusal::Unlogged`]) and those already stamped wait for their append.
    pub fn set_log_down(&self, down: bool) {
        self.log_down
            .store(down, std::sync::atomic::Ordering::Relaxed);
    }

    /// Every command up to `ordinal` is logged: they may be broadcast, applied and answered.
    pub fn logged(&self, ordinal: u64) {
        self.logged.send_if_modified(|l| {
            let newer = ordinal > *l;
            *l = (*l).max(ordinal);
            newer
        });
        self.run_deferred();
        self.wake.notify_one();
    }

    /// Runs `work` once the command numbered `ordinal` is logged (at once if it is); never if
    /// the room ends before.
    pub fn after_logged(&self, ordinal: u64, work: Deferred) {
        let mut deferred = self.deferred.lock().unwrap_or_else(|p| p.into_inner());
        // Checked under the lock `logged` takes after moving the mark: no work is missed.
        if *self.logged.borrow() >= ordinal {
            drop(deferred);
            (work.0)();
        } else {
            deferred.push((ordinal, work));
        }
    }

    fn run_deferred(&self) {
        let mark = *self.logged.borrow();
        let due: Vec<Deferred> = {
            let mut deferred = self.deferred.lock().unwrap_or_else(|p| p.into_inner());
            let (due, wait): (Vec<_>, Vec<_>) = deferred
                .drain(..)
                .partition(|(ordinal, _)| *ordinal <= mark);
            *deferred = wait;
            due.into_iter().map(|(_, work)| work).collect()
        };
        for work in due {
            (work.0)();
        }
    }

    /// Waits until the command numbered `ordinal` is logged, at most `timeout`; whether it
    /// is.
    pub async fn wait_logged(&self, ordinal: u64, timeout: std::time::Duration) -> bool {
        let mut logged = self.logged.subscribe();
        tokio::time::timeout(timeout, logged.wait_for(|&l| l >= ordinal))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// How many commands the referee was handed (ordinals `1..=applied`): a snapshot taken
    /// now covers exactly those.
    pub fn applied(&self) -> u64 {
        self.lock().applied
    }

    /// Whether the referee may run `tick`: every command stamped for it is logged.
    pub fn ready(&self, tick: u64) -> bool {
        self.lock().unsent.first().is_none_or(|c| c.tick > tick)
    }

    fn lock(&self) -> MutexGuard<'_, Book> {
        // Every update below leaves the book consistent before it can panic.
        self.book.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The room's capacity of missiles in flight.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Missiles in flight after the referee's last step plus launches pending.
    pub fn load(&self) -> usize {
        let book = self.lock();
        book.in_flight + book.pending_launches
    }

    /// Whether one more launch fits (a cheap check before solving; [`Orders::order`] checks
    /// again).
    pub fn has_room(&self) -> bool {
        self.load() < self.capacity
    }

    /// Stamps `command` for the referee's tick plus [`LEAD_TICKS`] and queues it for the
    /// referee and the members. A launch needs `applied`, the outcome of flying its guidance
    /// (see the module documentation): a launch the referee would refuse is not ordered, and
    /// one that fits gets its id. `durable` is called, under the book's lock, for a launch
    /// about to be accepted: it reserves the launch's place in the database queue (`Err` when
    /// full) and returns what stores the event once ordered.
    pub fn order<D, E>(
        &self,
        by: Member,
        command: Command,
        applied: Option<&Applied>,
        durable: impl FnOnce() -> Result<D, E>,
    ) -> Result<(u64, Option<(Ordered, D)>), Refusal> {
        if self.log_down.load(std::sync::atomic::Ordering::Relaxed) {
            return Err(Refusal::Unlogged);
        }
        let mut book = self.lock();
        let tick = book.tick + LEAD_TICKS;
        let launch = match &command {
            Command::Launch(launch) => Some(launch.clone()),
            _ => None,
        };
        let mut accepted = None;
        if let Some(launch) = launch {
            let flown = match applied {
                Some(Ok(flown)) => flown,
                Some(Err(why)) => return Err(Refusal::Rejected(why.clone())),
                None => {
                    return Err(Refusal::Rejected(
                        "internal: a launch reached the room unchecked".into(),
                    ));
                }
            };
            if book.in_flight + book.pending_launches >= self.capacity {
                return Err(Refusal::Full {
                    capacity: self.capacity,
                });
            }
            if book.pending_launches >= self.max_pending {
                return Err(Refusal::Backlog {
                    limit: self.max_pending,
                });
            }
            let durable = durable().map_err(|_| Refusal::Busy)?;
            let index = book
                .pending
                .iter()
                .rev()
                .take_while(|c| c.tick == tick)
                .count();
            let missile = MissileId(book.next_missile);
            book.next_missile += 1;
            let ordinal = book.issued + 1;
            book.pending_launches += 1;
            book.flown.push_back(flown.clone());
            let solution = flown.solution();
            let ordered = Ordered {
                missile,
                tick,
                index: u32::try_from(index).unwrap_or(u32::MAX),
                ordinal,
                event: Event {
                    tick,
                    time_s: tick as f64 * TICK_S,
                    kind: EventKind::Launch {
                        missile,
                        missile_type: launch.missile,
                        label: launch.label.clone(),
                        from: launch.from,
                        to: launch.to,
                        profile: launch.profile,
                        predicted: solution.summary,
                        predicted_miss_m: solution.miss_m,
                    },
                },
            };
            book.expected.push_back(ordered.clone());
            accepted = Some((ordered, durable));
        }
        let stamped = StampedCommand { tick, by, command };
        book.issued += 1;
        let ordinal = book.issued;
        let unlogged = match &book.log {
            Some(log) => log.send((ordinal, stamped.clone())).is_err(),
            None => true,
        };
        book.unsent.push(stamped.clone());
        book.pending.push_back(stamped);
        drop(book);
        if unlogged {
            // Nowhere to log it (no JetStream, or the appender stopped): free at once.
            self.logged.send_modify(|l| *l = (*l).max(ordinal));
            self.run_deferred();
        }
        self.wake.notify_one();
        Ok((tick, accepted))
    }

    /// Waits until something was ordered since the last [`Orders::take_unsent`].
    pub async fn ordered(&self) {
        self.wake.notified().await;
    }

    /// The commands ordered since the last call, in order, for the room to broadcast; and,
    /// taken at the same instant, every command pending (for a welcome or a resync, which
    /// must not repeat what the broadcast will carry).
    pub fn take_unsent(&self, with_pending: bool) -> (Vec<StampedCommand>, Vec<StampedCommand>) {
        let logged = *self.logged.borrow();
        let mut book = self.lock();
        // The unsent commands are the newest ordinals, `issued - unsent.len() + 1 ..= issued`:
        // those up to `logged` go out now, the rest wait for their acknowledgement.
        let first = book.issued + 1 - book.unsent.len() as u64;
        let ready = usize::try_from((logged + 1).saturating_sub(first))
            .unwrap_or(usize::MAX)
            .min(book.unsent.len());
        let unsent: Vec<StampedCommand> = book.unsent.drain(..ready).collect();
        let pending = if with_pending {
            // Pending minus what is still held back (its tail), which later broadcasts carry.
            let shown = book.pending.len().saturating_sub(book.unsent.len());
            book.pending.iter().take(shown).cloned().collect()
        } else {
            Vec::new()
        };
        (unsent, pending)
    }

    /// Removes and returns the commands due at `tick` (the referee's next tick), in order, and
    /// the flown outcome of each launch among them, for
    /// [`sim_core::Simulation::remember_launch`].
    pub fn due(&self, tick: u64) -> (Vec<Command>, Vec<Flown>) {
        let mut book = self.lock();
        let mut commands = Vec::new();
        let mut flown = Vec::new();
        while book.pending.front().is_some_and(|c| c.tick <= tick) {
            if let Some(c) = book.pending.pop_front() {
                if matches!(c.command, Command::Launch(_)) {
                    // In flight from now on, for the capacity check, until the step's count.
                    book.pending_launches -= 1;
                    book.in_flight += 1;
                    flown.extend(book.flown.pop_front());
                }
                book.applied += 1;
                commands.push(c.command);
            }
        }
        (commands, flown)
    }

    /// After the referee ran `tick`: records its next tick, its missiles in flight and its
    /// next missile id, and compares the tick's launch events with those predicted. Returns
    /// the number of launch events that differed (0 when all is well).
    pub fn verify(
        &self,
        tick: u64,
        next_tick: u64,
        in_flight: usize,
        next_missile: u32,
        events: &[Event],
    ) -> usize {
        let mut book = self.lock();
        book.tick = next_tick;
        book.in_flight = in_flight;
        let mut wrong = 0;
        for (index, event) in events.iter().enumerate() {
            if !matches!(
                event.kind,
                EventKind::Launch { .. } | EventKind::LaunchRejected { .. }
            ) {
                continue;
            }
            let expected = match book.expected.front() {
                Some(e) if e.tick <= tick => book.expected.pop_front(),
                _ => None,
            };
            let right = expected
                .as_ref()
                .is_some_and(|e| e.index as usize == index && e.event == *event);
            if !right {
                wrong += 1;
                tracing::error!(
                    tick,
                    index,
                    ?expected,
                    ?event,
                    "the referee's launch differs from the one the room ordered"
                );
            }
        }
        // Predictions for this tick that the referee did not confirm.
        while book.expected.front().is_some_and(|e| e.tick <= tick) {
            wrong += 1;
            let missing = book.expected.pop_front();
            tracing::error!(
                tick,
                ?missing,
                "the referee did not launch an ordered missile"
            );
        }
        if wrong > 0 {
            // Re-derive the next id from the referee, so later launches are right again.
            let pending = u32::try_from(book.pending_launches).unwrap_or(u32::MAX);
            book.next_missile = next_missile.saturating_add(pending);
        }
        wrong
    }

    /// Whether no command waits for the referee.
    pub fn is_idle(&self) -> bool {
        self.lock().pending.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use sim_core::radar::RadarId;

    use super::*;

    fn remove(radar: u32) -> Command {
        Command::RemoveRadar {
            radar: RadarId(radar),
        }
    }

    fn ok(orders: &Orders, command: Command) -> u64 {
        let by = super::super::room::rest_member();
        orders
            .order(by, command, None, || Ok::<(), ()>(()))
            .expect("ordered")
            .0
    }

    /// With a log, a command is not broadcast, not shown to joiners and not applied until it
    /// is logged; without one, at once.
    #[test]
    fn commands_wait_for_their_log() {
        let free = Orders::new(10, 10);
        ok(&free, remove(1));
        assert_eq!(free.take_unsent(false).0.len(), 1);

        let orders = Orders::new(10, 10);
        let (log, mut logged) = tokio::sync::mpsc::unbounded_channel();
        orders.set_log(log);
        let tick = ok(&orders, remove(1));
        ok(&orders, remove(2));
        assert_eq!(logged.try_recv().unwrap().0, 1);
        assert_eq!(logged.try_recv().unwrap().0, 2);
        let (unsent, pending) = orders.take_unsent(true);
        assert!(unsent.is_empty() && pending.is_empty());
        assert!(orders.ready(tick - 1));
        assert!(!orders.ready(tick), "the referee waits for the log");

        orders.logged(1);
        let (unsent, pending) = orders.take_unsent(true);
        assert_eq!(unsent.len(), 1);
        assert_eq!(unsent[0].command, remove(1));
        assert_eq!(pending, unsent, "the second is still held back");
        assert!(!orders.ready(tick));
        orders.logged(2);
        assert_eq!(orders.take_unsent(false).0[0].command, remove(2));
        assert!(orders.ready(tick));
        assert_eq!(orders.due(tick).0, [remove(1), remove(2)]);
    }

    #[test]
    fn work_waits_for_its_command_to_be_logged_and_new_commands_wait_for_the_log() {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicU32, Ordering};
        let ran = Arc::new(AtomicU32::new(0));
        let count = |ran: &Arc<AtomicU32>| {
            let ran = ran.clone();
            Deferred(Box::new(move || {
                ran.fetch_add(1, Ordering::Relaxed);
            }))
        };
        // Without a log: at once.
        let free = Orders::new(10, 10);
        ok(&free, remove(1));
        free.after_logged(1, count(&ran));
        assert_eq!(ran.load(Ordering::Relaxed), 1);

        let orders = Orders::new(10, 10);
        let (log, _logged) = tokio::sync::mpsc::unbounded_channel();
        orders.set_log(log);
        ok(&orders, remove(1));
        ok(&orders, remove(2));
        orders.after_logged(1, count(&ran));
        orders.after_logged(2, count(&ran));
        assert_eq!(
            ran.load(Ordering::Relaxed),
            1,
            "nothing runs before its command is logged"
        );
        orders.logged(1);
        assert_eq!(ran.load(Ordering::Relaxed), 2);
        // The log fails: new commands are refused, the held one waits; then it is logged.
        orders.set_log_down(true);
        let refused = orders.order(super::super::room::rest_member(), remove(3), None, || {
            Ok::<(), ()>(())
        });
        assert_eq!(refused.unwrap_err(), Refusal::Unlogged);
        orders.set_log_down(false);
        orders.logged(2);
        assert_eq!(ran.load(Ordering::Relaxed), 3);
        // A room that ends first never runs what waits.
        ok(&orders, remove(4));
        orders.after_logged(3, count(&ran));
        drop(orders);
        assert_eq!(ran.load(Ordering::Relaxed), 3);
    }
}
