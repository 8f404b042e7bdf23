//! Where rooms' referees run, and how long they may take.
//!
//! - [`Referees`]: a Tokio runtime of its own (`--referee-threads` worker threads, named
//!   `referee`) that runs every room task this relay owns, so a referee step, which is
//!   synchronous CPU work, never runs on the workers serving HTTP and websockets: `/healthz`,
//!   REST and the websocket connections keep their own threads whatever the rooms cost. The
//!   room tasks keep talking to the rest of the relay through Tokio channels, which work across
//!   runtimes. A multi-thread runtime rather than a thread per room: rooms are many (up to
//!   `--max-rooms`) and mostly idle, the pool is sized to the CPUs, and work stealing lets the
//!   other threads take over the rooms queued behind a slow one.
//! - [`Budget`]: each period of a room (its `speed` referee ticks, every 100 ms) is timed in
//!   wall time against `--room-budget-ms`; a period over it is an overrun
//!   (`relay_room_overruns_total`), and `--room-overruns` overruns among the room's last 2 x
//!   that many periods stop the room (`relay_rooms_stopped_total{reason="overrun"}`; the room
//!   tells its members why in an `error` message and closes). M of the last 2M, not M in a
//!   row, so a room that overruns every other period is stopped too, and a single slow period
//!   (a burst of launches, the machine busy elsewhere) is not.
//! - [`Vitals`]: what the room task shows the rest of the relay about its health: when it last
//!   completed a period (a room that has not for [`STALL_AFTER`] is stalled, and REST launches
//!   into it are refused at once) and why it was stopped.
//!
//! Invariant: the referee runtime is dropped without blocking (its threads are detached), so
//! the relay's state may be dropped inside an async context, as tests do.

use std::future::Future;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A room whose task has not completed a period for this long is stalled: REST launches into
/// it are answered 503 at once.
pub const STALL_AFTER: Duration = Duration::from_secs(1);

/// The runtime that runs the rooms' tasks, started on first use.
#[derive(Debug)]
pub struct Referees {
    threads: usize,
    runtime: OnceLock<Option<tokio::runtime::Runtime>>,
}

impl Referees {
    /// A pool of `threads` referee threads (0: one per CPU), started when the first room is.
    pub fn new(threads: usize) -> Self {
        let threads = if threads == 0 {
            std::thread::available_parallelism().map_or(1, usize::from)
        } else {
            threads
        };
        Self {
            threads,
            runtime: OnceLock::new(),
        }
    }

    /// Runs `task` on the referee threads. If they cannot be started (the operating system
    /// refuses threads), on the current runtime, with an error logged once.
    pub fn spawn<F>(&self, task: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let runtime = self.runtime.get_or_init(
            || match tokio::runtime::Builder::new_multi_thread()
                .worker_threads(self.threads)
                .thread_name("referee")
                .enable_time()
                .build()
            {
                Ok(runtime) => Some(runtime),
                Err(err) => {
                    tracing::error!(
                        "cannot start the referee threads ({err}); rooms run on the relay's own \
                         workers"
                    );
                    None
                }
            },
        );
        match runtime {
            Some(runtime) => {
                runtime.spawn(task);
            }
            None => {
                tokio::spawn(task);
            }
        }
    }
}

impl Drop for Referees {
    fn drop(&mut self) {
        if let Some(Some(runtime)) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// What one period's timing means for the room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Within the budget.
    Within,
    /// Over it.
    Overran,
    /// Over it, and the room has overrun too often: stop it.
    Stop,
}

/// The time budget of one room's periods and its recent overruns.
#[derive(Debug, Clone)]
pub struct Budget {
    limit: Duration,
    overruns: u32,
    window: u32,
    /// Bit `i`: whether the period `i` periods ago overran.
    recent: u128,
}

impl Budget {
    /// A budget of `limit` per period; `overruns` (1 to 64) among the last 2 x `overruns`
    /// periods stop the room.
    pub fn new(limit: Duration, overruns: u32) -> Self {
        let overruns = overruns.clamp(1, 64);
        Self {
            limit,
            overruns,
            window: 2 * overruns,
            recent: 0,
        }
    }

    /// The time allowed per period.
    pub fn limit(&self) -> Duration {
        self.limit
    }

    /// Overruns that stop the room, and the number of periods they are counted over.
    pub fn rule(&self) -> (u32, u32) {
        (self.overruns, self.window)
    }

    /// Records a period that took `took`.
    pub fn record(&mut self, took: Duration) -> Verdict {
        let over = took > self.limit;
        let mask = if self.window >= 128 {
            u128::MAX
        } else {
            (1u128 << self.window) - 1
        };
        self.recent = ((self.recent << 1) | u128::from(over)) & mask;
        match (over, self.recent.count_ones() >= self.overruns) {
            (false, _) => Verdict::Within,
            (true, false) => Verdict::Overran,
            (true, true) => Verdict::Stop,
        }
    }
}

/// Milliseconds since the first call, on the monotonic clock.
fn now_ms() -> u64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    let epoch = *EPOCH.get_or_init(Instant::now);
    u64::try_from(epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// The health of a room task, shared with its handle.
#[derive(Debug)]
pub struct Vitals {
    /// When the task last completed a period ([`now_ms`]).
    last_period_ms: AtomicU64,
    /// Why the relay stopped the room, once it did (a websocket close reason: short).
    stopped: OnceLock<&'static str>,
    /// Whether the room ended by itself (empty for its grace period, or stopped for
    /// overrunning), as opposed to being dropped with the relay or fenced.
    ended: std::sync::atomic::AtomicBool,
}

impl Default for Vitals {
    fn default() -> Self {
        Self {
            last_period_ms: AtomicU64::new(now_ms()),
            stopped: OnceLock::new(),
            ended: std::sync::atomic::AtomicBool::new(false),
        }
    }
}

impl Vitals {
    /// The task completed a period (paused or not).
    pub fn beat(&self) {
        self.last_period_ms.store(now_ms(), Ordering::Relaxed);
    }

    /// How long since the task last completed a period, when that is [`STALL_AFTER`] or more.
    pub fn stalled(&self) -> Option<Duration> {
        self.stalled_at(now_ms())
    }

    fn stalled_at(&self, now_ms: u64) -> Option<Duration> {
        let last = self.last_period_ms.load(Ordering::Relaxed);
        let since = Duration::from_millis(now_ms.saturating_sub(last));
        (since >= STALL_AFTER).then_some(since)
    }

    /// Records why the room was stopped.
    pub fn stop(&self, reason: &'static str) {
        let _ = self.stopped.set(reason);
    }

    /// The room ended by itself (see [`Vitals::ended`]).
    pub fn end(&self) {
        self.ended.store(true, Ordering::Release);
    }

    /// Whether the room ended by itself: a room kept in JetStream is then forgotten there;
    /// one that stopped any other way (the relay shutting down) is left for a takeover.
    pub fn ended(&self) -> bool {
        self.ended.load(Ordering::Acquire)
    }

    /// Why the room was stopped, if it was.
    pub fn stopped(&self) -> Option<&'static str> {
        self.stopped.get().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn a_room_is_stopped_after_m_overruns_among_the_last_2m_periods() {
        let mut budget = Budget::new(10 * MS, 3);
        assert_eq!(budget.rule(), (3, 6));
        assert_eq!(budget.record(10 * MS), Verdict::Within);
        assert_eq!(budget.record(11 * MS), Verdict::Overran);
        assert_eq!(budget.record(MS), Verdict::Within);
        assert_eq!(budget.record(50 * MS), Verdict::Overran);
        assert_eq!(budget.record(MS), Verdict::Within);
        // Every other period over: the third overrun within six periods stops it.
        assert_eq!(budget.record(50 * MS), Verdict::Stop);
    }

    #[test]
    fn old_overruns_are_forgotten() {
        let mut budget = Budget::new(10 * MS, 2);
        assert_eq!(budget.record(20 * MS), Verdict::Overran);
        for _ in 0..4 {
            assert_eq!(budget.record(MS), Verdict::Within);
        }
        // The first overrun is five periods ago, out of the window of four.
        assert_eq!(budget.record(20 * MS), Verdict::Overran);
        assert_eq!(budget.record(20 * MS), Verdict::Stop);
        // The widest window.
        let mut wide = Budget::new(MS, 64);
        for _ in 0..63 {
            assert_eq!(wide.record(2 * MS), Verdict::Overran);
        }
        assert_eq!(wide.record(2 * MS), Verdict::Stop);
    }

    #[test]
    fn vitals_tell_a_stalled_room_and_why_it_stopped() {
        let vitals = Vitals::default();
        assert_eq!(vitals.stalled(), None);
        let last = vitals.last_period_ms.load(Ordering::Relaxed);
        assert_eq!(vitals.stalled_at(last + 999), None);
        assert_eq!(
            vitals.stalled_at(last + 1_500),
            Some(Duration::from_millis(1_500))
        );
        vitals.beat();
        assert_eq!(vitals.stalled(), None);
        vitals.stop("overrun");
        vitals.stop("other");
        assert_eq!(vitals.stopped(), Some("overrun"));
    }
}
