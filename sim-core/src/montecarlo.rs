//! Monte Carlo over seeds: the same scenario run with seeds `s_0, s_1, ...`, and the statistics
//! a defence planner asks for: leak probability (Wilson 95% interval, [`crate::stats::wilson`]),
//! interceptors spent (mean with a normal 95% interval, mean +- 1.96 s / sqrt(n)), kills per
//! interceptor, hits per defended asset, the distribution of intercept altitudes
//! ([`crate::stats::Summary`]).
//!
//! Invariants: pure (no threads, no clock): [`run_one`] is a function of the scenario and the
//! seed, and [`aggregate`] of the outcomes in seed order, so a caller may compute the outcomes
//! in parallel, in any order, and get the same report (the CLI does; the browser runs
//! [`run`] in a worker).

use serde::{Deserialize, Serialize};

use crate::engine::{Command, EventKind, MissileId, Scenario, Simulation, TICK_HZ};
use crate::stats::{self, Proportion, Summary, Z_95};

/// Most runs one report accepts: [`crate::limits::MONTE_CARLO_RUNS`].
pub const MAX_RUNS: usize = crate::limits::MONTE_CARLO_RUNS.max as usize;
/// Longest simulated time of one run (s).
pub const MAX_RUN_TIME_S: f64 = 20_000.0;

/// What happened to one missile in one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Fate {
    /// Killed by an interceptor.
    Intercepted,
    /// Hit a defended asset.
    Leaked,
    /// Fell in open country.
    OpenCountry,
    /// Still flying when the run stopped.
    InFlight,
}

/// The outcome of one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunOutcome {
    /// The seed.
    pub seed: u64,
    /// Fate of every missile, in id order.
    pub fates: Vec<(MissileId, Fate)>,
    /// Interceptors launched.
    pub interceptors: u32,
    /// Kills.
    pub kills: u32,
    /// Altitudes of the kills (m).
    pub kill_altitudes_m: Vec<f64>,
    /// Track error at seeker handover of every interceptor whose seeker acquired (m).
    pub handover_errors_m: Vec<f64>,
    /// Names of the assets hit, one entry per hit.
    pub asset_hits: Vec<String>,
}

/// Runs `scenario` with `seed` until idle (or [`MAX_RUN_TIME_S`]).
pub fn run_one(scenario: &Scenario, seed: u64) -> RunOutcome {
    run_one_with(scenario, &[], seed)
}

/// Like [`run_one`], with `commands` (each with the tick at whose start it applies, sorted by
/// tick) given to the simulation on the way, as a player that edited the scenario after it
/// started (the web app's command log) would. The run does not stop idle while a command is
/// still to come.
pub fn run_one_with(scenario: &Scenario, commands: &[(u64, Command)], seed: u64) -> RunOutcome {
    let mut s = scenario.clone();
    s.seed = seed;
    let mut sim = Simulation::from_scenario(&s);
    let max_ticks = MAX_RUN_TIME_S as u64 * u64::from(TICK_HZ);
    let mut out = RunOutcome {
        seed,
        fates: Vec::new(),
        interceptors: 0,
        kills: 0,
        kill_altitudes_m: Vec::new(),
        handover_errors_m: Vec::new(),
        asset_hits: Vec::new(),
    };
    let set = |fates: &mut Vec<(MissileId, Fate)>, id: MissileId, f: Fate| {
        if let Some(e) = fates.iter_mut().find(|e| e.0 == id) {
            e.1 = f;
        }
    };
    let mut next = 0;
    let mut batch: Vec<Command> = Vec::new();
    // bounded: max_ticks, from MAX_RUN_TIME_S.
    while (!sim.is_idle() || next < commands.len()) && sim.tick() < max_ticks {
        let tick = sim.tick();
        batch.clear();
        // bounded: next rises by one per pass through the finite command list.
        while let Some((t, c)) = commands.get(next) {
            if *t > tick {
                break;
            }
            batch.push(c.clone());
            next += 1;
        }
        for e in sim.step(&batch) {
            if let EventKind::Intercept {
                handover_error_m: Some(h),
                ..
            } = e.kind
            {
                out.handover_errors_m.push(h);
            }
            match e.kind {
                EventKind::Launch { missile, .. } => out.fates.push((missile, Fate::InFlight)),
                EventKind::InterceptorLaunched { .. } => out.interceptors += 1,
                EventKind::Intercept {
                    kill: true,
                    target: Some(m),
                    alt_m,
                    ..
                } => {
                    out.kills += 1;
                    out.kill_altitudes_m.push(alt_m);
                    set(&mut out.fates, m, Fate::Intercepted);
                }
                EventKind::Impact { missile, .. } => {
                    set(&mut out.fates, missile, Fate::OpenCountry)
                }
                EventKind::AssetHit { missile, name, .. } => {
                    set(&mut out.fates, missile, Fate::Leaked);
                    out.asset_hits.push(name);
                }
                _ => {}
            }
        }
    }
    out
}

/// Hits on one asset over all runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssetHits {
    /// Asset name.
    pub name: String,
    /// Hits over all runs.
    pub hits: u64,
    /// Mean hits per run.
    pub per_run: f64,
}

/// The statistics of a set of runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Runs.
    pub runs: usize,
    /// Missiles over all runs.
    pub missiles: u64,
    /// Missiles that hit a defended asset, as a proportion of missiles aimed at assets
    /// (leaked + intercepted), with its Wilson 95% interval; `None` when no missile threatened
    /// an asset.
    pub leak: Option<Proportion>,
    /// Missiles that fell in open country.
    pub open_country: u64,
    /// Interceptors spent per run: mean.
    pub interceptors_mean: f64,
    /// Normal 95% interval of that mean (low, high).
    pub interceptors_ci95: (f64, f64),
    /// Kills per interceptor launched (0 when none was launched).
    pub kills_per_interceptor: f64,
    /// Hits per asset, by name.
    pub asset_hits: Vec<AssetHits>,
    /// Intercept (kill) altitudes (m), `None` without kills.
    pub intercept_altitude_m: Option<Summary>,
    /// Track error at seeker handover (m), over every interceptor whose seeker acquired;
    /// `None` without any.
    pub handover_error_m: Option<Summary>,
}

/// Aggregates run outcomes (their order does not matter for the statistics; pass them in seed
/// order for identical floating-point sums).
pub fn aggregate(outcomes: &[RunOutcome]) -> Result<Report, String> {
    crate::limits::MONTE_CARLO_RUNS.check_count(outcomes.len() as u64)?;
    let n = outcomes.len();
    let count = |f: Fate| -> u64 {
        outcomes
            .iter()
            .map(|o| o.fates.iter().filter(|x| x.1 == f).count() as u64)
            .sum()
    };
    let (leaked, intercepted, open) = (
        count(Fate::Leaked),
        count(Fate::Intercepted),
        count(Fate::OpenCountry),
    );
    let missiles: u64 = outcomes.iter().map(|o| o.fates.len() as u64).sum();
    let leak = if leaked + intercepted > 0 {
        Some(stats::wilson(leaked, leaked + intercepted, Z_95)?)
    } else {
        None
    };
    let spent: Vec<f64> = outcomes.iter().map(|o| f64::from(o.interceptors)).collect();
    let mean = spent.iter().sum::<f64>() / n as f64;
    let var = if n > 1 {
        spent.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1) as f64
    } else {
        0.0
    };
    let half = Z_95 * crate::earth::sqrt(var / n as f64);
    let launched: u64 = outcomes.iter().map(|o| u64::from(o.interceptors)).sum();
    let kills: u64 = outcomes.iter().map(|o| u64::from(o.kills)).sum();
    let mut names: Vec<&String> = outcomes.iter().flat_map(|o| &o.asset_hits).collect();
    names.sort();
    names.dedup();
    let asset_hits = names
        .into_iter()
        .map(|name| {
            let hits = outcomes
                .iter()
                .map(|o| o.asset_hits.iter().filter(|h| *h == name).count() as u64)
                .sum::<u64>();
            AssetHits {
                name: name.clone(),
                hits,
                per_run: hits as f64 / n as f64,
            }
        })
        .collect();
    let alts: Vec<f64> = outcomes
        .iter()
        .flat_map(|o| o.kill_altitudes_m.iter().copied())
        .collect();
    let handover: Vec<f64> = outcomes
        .iter()
        .flat_map(|o| o.handover_errors_m.iter().copied())
        .collect();
    Ok(Report {
        runs: n,
        missiles,
        leak,
        open_country: open,
        interceptors_mean: mean,
        interceptors_ci95: (mean - half, mean + half),
        kills_per_interceptor: if launched > 0 {
            kills as f64 / launched as f64
        } else {
            0.0
        },
        asset_hits,
        intercept_altitude_m: if alts.is_empty() {
            None
        } else {
            Some(Summary::of(&alts)?)
        },
        handover_error_m: if handover.is_empty() {
            None
        } else {
            Some(Summary::of(&handover)?)
        },
    })
}

/// Runs the scenario once per seed, in order, and aggregates.
pub fn run(scenario: &Scenario, seeds: &[u64]) -> Result<Report, String> {
    crate::limits::MONTE_CARLO_RUNS.check_count(seeds.len() as u64)?;
    let outcomes: Vec<RunOutcome> = seeds.iter().map(|&s| run_one(scenario, s)).collect();
    aggregate(&outcomes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(seed: u64, fates: &[Fate], interceptors: u32, alts: &[f64]) -> RunOutcome {
        RunOutcome {
            seed,
            fates: fates
                .iter()
                .enumerate()
                .map(|(i, f)| (MissileId(i as u32 + 1), *f))
                .collect(),
            interceptors,
            kills: alts.len() as u32,
            kill_altitudes_m: alts.to_vec(),
            handover_errors_m: alts.iter().map(|a| a / 1_000.0).collect(),
            asset_hits: fates
                .iter()
                .filter(|f| **f == Fate::Leaked)
                .map(|_| "LA".to_string())
                .collect(),
        }
    }

    #[test]
    fn commands_given_on_the_way_are_applied_at_their_tick() {
        use crate::earth::GeoPoint;
        use crate::engine::LaunchCommand;
        let scenario = Scenario::from_json(r#"{"version": 1, "name": "empty"}"#).unwrap();
        // Without commands an empty scenario is idle at once.
        assert!(run_one(&scenario, 1).fates.is_empty());
        let launch = Command::Launch(LaunchCommand {
            missile: crate::MissileKind::ScudB,
            from: GeoPoint::new(36.0, -121.0),
            to: GeoPoint::new(35.0, -120.0),
            profile: Default::default(),
            label: None,
            guidance: None,
        });
        // A launch logged at tick 30 of an idle run still happens, and the missile lands.
        let o = run_one_with(&scenario, &[(30, launch)], 1);
        assert_eq!(o.fates, vec![(MissileId(1), Fate::OpenCountry)]);
        assert_eq!((o.interceptors, o.kills), (0, 0));
    }

    #[test]
    fn aggregate_counts_leaks_rounds_and_altitudes() {
        let o = [
            outcome(1, &[Fate::Intercepted], 1, &[20_000.0]),
            outcome(2, &[Fate::Leaked], 2, &[]),
            outcome(3, &[Fate::Intercepted, Fate::OpenCountry], 3, &[30_000.0]),
        ];
        let r = aggregate(&o).unwrap();
        assert_eq!((r.runs, r.missiles, r.open_country), (3, 4, 1));
        let leak = r.leak.unwrap();
        assert_eq!((leak.successes, leak.trials), (1, 3));
        assert!((r.interceptors_mean - 2.0).abs() < 1e-12);
        // s = 1, half width 1.96 / sqrt(3).
        assert!((r.interceptors_ci95.1 - (2.0 + Z_95 / crate::earth::sqrt(3.0))).abs() < 1e-12);
        assert!((r.kills_per_interceptor - 2.0 / 6.0).abs() < 1e-12);
        assert_eq!(r.asset_hits.len(), 1);
        assert_eq!(r.asset_hits[0].hits, 1);
        assert_eq!(r.intercept_altitude_m.unwrap().median, 25_000.0);
        assert_eq!(r.handover_error_m.unwrap().mean, 25.0);
        assert!(aggregate(&[]).is_err());
    }
}
