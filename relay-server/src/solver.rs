//! Launch solving for the relay: a bounded pool that refuses rather than queues, and a bounded
//! cache so identical requests share one solve.
//!
//! [`Solver::check`] answers, for a launch request (and the guidance it carries, if any), the
//! [`Checked`] pair: the solver's solution ([`targeting::solve`], or the given guidance) and
//! the outcome of flying that guidance ([`targeting::Flown`]: what
//! [`targeting::fly_guidance`] returns, which is exactly what a room's referee computes when it
//! applies the launch, and which the referee then reuses instead of flying the launch again).
//! A solve's own last flight is that flight ([`targeting::solve_flown`]), so a request without
//! guidance costs one solve and no further flight. Both are pure functions of the
//! request's bits and the (default) physics, so the cache changes only how often they are
//! computed, never what they are: it is keyed by the exact bits of the missile class, profile,
//! launch and target coordinates and the guidance (as the engine's own launch memo is), holds
//! at most [`Solver::new`]'s `entries` results and forgets the oldest first. Concurrent
//! requests for the same key wait for the one computation in flight instead of starting their
//! own. Refusals of the solver (out of range, too close) are remembered too; a refusal of the
//! pool is not.
//!
//! The pool: at most one computation per CPU runs on Tokio's blocking threads; at most
//! `queue` more wait for a turn. Past that, [`SolveError::Busy`] at once (the REST API answers
//! 503 with `Retry-After`), so a request never waits behind seconds of solves. Counted in
//! `relay_solves_total{result}` (`hit`, `shared`, `computed`, `busy`) and the gauge
//! `relay_solves_waiting`.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use sim_core::flight::{Guidance, PhysicsParams};
use sim_core::targeting::{self, Flown, Solution, TargetingError, TargetingRequest};
use tokio::sync::{OnceCell, Semaphore, TryAcquireError};

use crate::metrics::ResultLabels;

/// A launch as the relay and the referee will see it.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    /// The solver's solution (for a launch that came with guidance: its flight).
    pub solution: Solution,
    /// Flying `solution.guidance` as the referee will (`Err`: the referee would refuse it).
    pub applied: Result<Flown, String>,
}

/// Why [`Solver::check`] gave no answer.
#[derive(Debug, Clone, PartialEq)]
pub enum SolveError {
    /// The solver refused the request (out of range, too close, ...).
    Refused(TargetingError),
    /// Every CPU is solving and the waiting line is full: try again shortly.
    Busy,
    /// The relay is shutting down, or a solve failed unexpectedly; one sentence.
    Failed(String),
}

/// The bits of everything a launch's solution depends on (the physics is the rooms' default).
type Key = sim_core::targeting::RequestKey;

fn key(request: &TargetingRequest, guidance: Option<&Guidance>) -> Key {
    sim_core::targeting::request_key(request, guidance)
}

type Answer = Result<Checked, TargetingError>;
type Cell = Arc<OnceCell<Answer>>;

/// The cache: cells by key, and the keys in insertion order for eviction.
#[derive(Debug, Default)]
struct Cache {
    cells: HashMap<Key, Cell>,
    order: VecDeque<Key>,
}

/// Metrics of the solver.
#[derive(Debug, Clone, Default)]
pub struct SolverMetrics {
    /// `relay_solves_total{result}`.
    pub solves: Family<ResultLabels, Counter>,
    /// `relay_solves_waiting`.
    pub waiting: Gauge,
}

impl SolverMetrics {
    fn count(&self, result: &'static str) {
        self.solves.get_or_create(&ResultLabels { result }).inc();
    }
}

#[derive(Debug)]
struct Inner {
    running: Arc<Semaphore>,
    waiting: AtomicUsize,
    queue: usize,
    entries: usize,
    cache: Mutex<Cache>,
    metrics: SolverMetrics,
}

/// The relay's solver; cheap to clone.
#[derive(Debug, Clone)]
pub struct Solver {
    inner: Arc<Inner>,
}

/// Takes a place in the waiting line and gives it back on drop (also when the request is
/// abandoned while it waits).
struct Waiting<'a>(&'a Inner);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        let left = self.0.waiting.fetch_sub(1, Ordering::AcqRel) - 1;
        self.0.metrics.waiting.set(left as i64);
    }
}

impl Solver {
    /// A solver running at most `cpus` computations at once with at most `queue` waiting,
    /// remembering at most `entries` answers.
    pub fn new(cpus: usize, queue: usize, entries: usize, metrics: SolverMetrics) -> Self {
        Self {
            inner: Arc::new(Inner {
                running: Arc::new(Semaphore::new(cpus.max(1))),
                waiting: AtomicUsize::new(0),
                queue,
                entries: entries.max(1),
                cache: Mutex::default(),
                metrics,
            }),
        }
    }

    /// Stops the pool: waiting and later computations fail with [`SolveError::Failed`].
    pub fn close(&self) {
        self.inner.running.close();
    }

    /// The solution of `request` (or the flight of `guidance`) and what the referee will make
    /// of it; see the module documentation.
    pub async fn check(
        &self,
        request: TargetingRequest,
        guidance: Option<Guidance>,
    ) -> Result<Checked, SolveError> {
        let cell = self.cell(key(&request, guidance.as_ref()));
        if let Some(answer) = cell.get() {
            self.inner.metrics.count("hit");
            return answer.clone().map_err(SolveError::Refused);
        }
        let mut computed = false;
        let answer = cell
            .get_or_try_init(|| {
                computed = true;
                self.compute(request, guidance)
            })
            .await?;
        self.inner
            .metrics
            .count(if computed { "computed" } else { "shared" });
        answer.clone().map_err(SolveError::Refused)
    }

    /// The cache's cell for `key`, new (and the oldest forgotten) if absent.
    fn cell(&self, key: Key) -> Cell {
        let mut cache = self.inner.cache.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(cell) = cache.cells.get(&key) {
            return cell.clone();
        }
        while cache.order.len() >= self.inner.entries {
            if let Some(old) = cache.order.pop_front() {
                cache.cells.remove(&old);
            }
        }
        let cell = Cell::default();
        cache.cells.insert(key, cell.clone());
        cache.order.push_back(key);
        cell
    }

    /// Runs the computation on the blocking pool, or refuses when the waiting line is full.
    async fn compute(
        &self,
        request: TargetingRequest,
        guidance: Option<Guidance>,
    ) -> Result<Answer, SolveError> {
        let inner = &*self.inner;
        let shutting = || SolveError::Failed("the relay is shutting down".into());
        let permit = match inner.running.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(TryAcquireError::Closed) => return Err(shutting()),
            Err(TryAcquireError::NoPermits) => {
                let before = inner.waiting.fetch_add(1, Ordering::AcqRel);
                let _place = Waiting(inner);
                if before >= inner.queue {
                    inner.metrics.count("busy");
                    return Err(SolveError::Busy);
                }
                inner.metrics.waiting.set(before as i64 + 1);
                inner
                    .running
                    .clone()
                    .acquire_owned()
                    .await
                    .map_err(|_| shutting())?
            }
        };
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            answer(&request, guidance.as_ref())
        })
        .await
        .map_err(|e| SolveError::Failed(format!("a solve failed: {e}")))
    }
}

/// The uncached computation: solve (or take the given guidance), and the flight of the
/// guidance as the referee will fly it: for a solve, its own last flight (no flight more).
pub fn answer(request: &TargetingRequest, guidance: Option<&Guidance>) -> Answer {
    let physics = PhysicsParams::default();
    let (solution, applied) = match guidance {
        Some(g) => {
            // The referee flies the same guidance: the same answer.
            let flown = Flown::fly(request, g, &physics)?;
            (*flown.solution(), Ok(flown))
        }
        None => {
            let (solution, flown) = targeting::solve_flown(request, &physics)?;
            (solution, flown.map_err(|e| e.to_string()))
        }
    };
    Ok(Checked { solution, applied })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::MissileKind;
    use sim_core::earth::GeoPoint;
    use sim_core::targeting::Profile;

    fn locust() -> TargetingRequest {
        TargetingRequest {
            kind: MissileKind::ScudC,
            from: GeoPoint::new(36.5, -123.1),
            to: GeoPoint::new(34.05, -118.25),
            profile: Profile::MinEnergy,
        }
    }

    fn count(metrics: &SolverMetrics, result: &'static str) -> u64 {
        metrics.solves.get_or_create(&ResultLabels { result }).get()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn identical_requests_share_one_solve_and_answer_bit_for_bit() {
        let metrics = SolverMetrics::default();
        let solver = Solver::new(2, 64, 16, metrics.clone());
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let solver = solver.clone();
                tokio::spawn(async move { solver.check(locust(), None).await })
            })
            .collect();
        let mut answers = Vec::new();
        for t in tasks {
            answers.push(t.await.unwrap().unwrap());
        }
        assert_eq!(count(&metrics, "computed"), 1);
        assert_eq!(count(&metrics, "shared") + count(&metrics, "hit"), 7);
        let direct = answer(&locust(), None).unwrap();
        for a in &answers {
            assert_eq!(*a, direct);
        }
        // What the referee will fly is what the solver found.
        let applied = direct.applied.clone().unwrap();
        assert_eq!(applied.solution().guidance, direct.solution.guidance);
        assert_eq!(applied.solution().summary, direct.solution.summary);
        // Bit for bit what flying the guidance again gives, without flying it again.
        let physics = PhysicsParams::default();
        let again = targeting::fly_guidance(&locust(), &direct.solution.guidance, &physics);
        assert_eq!(Ok(applied.solution()), again.as_ref());
        // The same guidance, checked as a websocket launch: the referee's answer.
        let guided = solver
            .check(locust(), Some(direct.solution.guidance))
            .await
            .unwrap();
        assert_eq!(guided.applied, Ok(applied));
    }

    #[tokio::test]
    async fn refusals_are_remembered_and_the_cache_is_bounded() {
        let metrics = SolverMetrics::default();
        let solver = Solver::new(1, 4, 2, metrics.clone());
        let mut far = locust();
        far.to = GeoPoint::new(33.75, -84.39);
        for _ in 0..2 {
            let err = solver.check(far, None).await.unwrap_err();
            assert!(matches!(
                err,
                SolveError::Refused(TargetingError::OutOfRange { .. })
            ));
        }
        assert_eq!(count(&metrics, "computed"), 1);
        assert_eq!(count(&metrics, "hit"), 1);
        // Two more keys push the first out: it is computed again.
        let mut near = far;
        near.to = GeoPoint::new(36.5, -123.0);
        let _ = solver.check(near, None).await;
        let mut other = far;
        other.to = GeoPoint::new(40.0, -84.39);
        let _ = solver.check(other, None).await;
        let _ = solver.check(far, None).await;
        assert_eq!(count(&metrics, "computed"), 4);
        assert!(solver.inner.cache.lock().unwrap().cells.len() <= 2);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_waiting_line_is_refused_at_once() {
        let metrics = SolverMetrics::default();
        // One CPU, nobody may wait: of many distinct solves started together, those that find
        // the CPU taken are refused at once.
        let solver = Solver::new(1, 0, 64, metrics.clone());
        let tasks: Vec<_> = (0..6)
            .map(|i| {
                let solver = solver.clone();
                let mut request = locust();
                request.to.lat_deg += 0.01 * f64::from(i);
                tokio::spawn(async move { solver.check(request, None).await })
            })
            .collect();
        let mut busy = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(_) => {}
                Err(SolveError::Busy) => busy += 1,
                Err(other) => panic!("{other:?}"),
            }
        }
        assert!(busy >= 1, "no request was refused");
        assert_eq!(count(&metrics, "busy"), busy);
        assert_eq!(metrics.waiting.get(), 0);
    }
}
