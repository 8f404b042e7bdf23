//! The soak's chaos loop: at seeded random intervals it kills (SIGKILL) and restarts
//! nats-server (on its JetStream store), PostgreSQL (crash recovery from its WAL), the durable
//! consumer, and, when asked, one of the two relays (restarted on the same port). Every
//! action is drawn from a shuffled cycle of the enabled ones, so a short run does each of
//! them; the seed is printed so a failing run can be repeated.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::services::{Nats, Postgres};
use crate::consumer::Control;
use crate::procs::Relay;

/// xorshift64*: enough to draw intervals, no dependency.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [lo, hi).
    pub fn between(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// Uniform in 0..n.
    pub fn below(&mut self, n: usize) -> usize {
        ((self.unit() * n as f64) as usize).min(n.saturating_sub(1))
    }
}

/// What the chaos loop can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    KillNats,
    KillPostgres,
    RestartConsumer,
    KillRelay,
}

/// The services the loop acts on (returned to the test when it ends).
pub struct Services {
    pub nats: Nats,
    pub pg: Postgres,
    pub relays: Arc<Mutex<Vec<Relay>>>,
}

/// Counts of what was done, and the timeline.
#[derive(Debug, Default)]
pub struct Done {
    pub nats_kills: u32,
    pub pg_kills: u32,
    pub consumer_restarts: u32,
    pub relay_kills: u32,
    /// `t+SECONDS action (down MS)` lines.
    pub timeline: Vec<String>,
}

/// How the loop is set.
pub struct Plan {
    pub seed: u64,
    /// Least and most seconds between two actions.
    pub gap_s: (f64, f64),
    pub kill_relay: bool,
}

fn sleep_unless(stop: &AtomicBool, d: Duration) -> bool {
    let end = Instant::now() + d;
    while Instant::now() < end {
        if stop.load(Ordering::Relaxed) {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50).min(end - Instant::now()));
    }
    true
}

/// Runs until `stop`; every service is up when it returns.
pub fn run(services: &mut Services, control: &Control, plan: &Plan, stop: &AtomicBool) -> Done {
    let mut rng = Rng::new(plan.seed);
    let mut enabled = vec![
        Action::KillNats,
        Action::KillPostgres,
        Action::RestartConsumer,
    ];
    if plan.kill_relay {
        enabled.push(Action::KillRelay);
    }
    let mut cycle: Vec<Action> = Vec::new();
    let mut done = Done::default();
    let start = Instant::now();
    loop {
        let gap = rng.between(plan.gap_s.0, plan.gap_s.1);
        if !sleep_unless(stop, Duration::from_secs_f64(gap)) {
            return done;
        }
        if cycle.is_empty() {
            cycle = enabled.clone();
            // Fisher-Yates with the seeded generator.
            for i in (1..cycle.len()).rev() {
                cycle.swap(i, rng.below(i + 1));
            }
        }
        let action = cycle.pop().expect("refilled above");
        // Down for 0.5 to 5 s: long enough for reconnection backoffs to grow and buffers to fill.
        let down = Duration::from_secs_f64(rng.between(0.5, 5.0));
        let victim = rng.below(2);
        // With relay kills on, half the outages also kill a relay while its buffers hold what
        // the dead service has not taken yet: the hardest case for a relay that keeps them in
        // memory.
        let overlap = plan.kill_relay && rng.unit() < 0.5;
        let at = start.elapsed().as_secs_f64();
        let kill_during = |services: &mut Services, done: &mut Done| {
            if overlap {
                std::thread::sleep(down / 2);
                let mut relays = services.relays.lock().unwrap_or_else(|p| p.into_inner());
                relays[victim].kill();
                std::thread::sleep(down / 2);
                relays[victim].restart();
                done.relay_kills += 1;
            } else {
                std::thread::sleep(down);
            }
        };
        match action {
            Action::KillNats => {
                services.nats.stop();
                kill_during(services, &mut done);
                services.nats.restart();
                done.nats_kills += 1;
            }
            Action::KillPostgres => {
                services.pg.kill();
                kill_during(services, &mut done);
                services.pg.restart_after_kill();
                done.pg_kills += 1;
            }
            Action::RestartConsumer => {
                control
                    .away_ms
                    .store(down.as_millis() as u64, Ordering::Relaxed);
                control.restart.store(true, Ordering::Relaxed);
                done.consumer_restarts += 1;
            }
            Action::KillRelay => {
                let mut relays = services.relays.lock().unwrap_or_else(|p| p.into_inner());
                relays[victim].kill();
                std::thread::sleep(down);
                relays[victim].restart();
                done.relay_kills += 1;
            }
        }
        let relay = ["A", "B"][victim];
        let what = match action {
            Action::KillRelay => format!("kill -9 relay {relay}"),
            other if overlap && other != Action::RestartConsumer => {
                format!("{other:?} and kill -9 relay {relay} during the outage")
            }
            other => format!("{other:?}"),
        };
        let line = format!("t+{at:.1}s {what}, down {} ms", down.as_millis());
        eprintln!("soak chaos: {line}");
        done.timeline.push(line);
    }
}
