//! Monte Carlo in the browser: the job the page sends to its Web Worker, the messages the
//! worker answers with, the loop the worker runs, and the histograms the panel draws. Plain
//! Rust tested natively; `mc_worker` (the worker's side) and `mc_panel` (the page's side) only
//! move these messages through `postMessage`.
//!
//! The runs are [`sim_core::montecarlo::run_one_with`] for seeds `s, s + 1, ...` where `s` is
//! the scenario's own seed, exactly as `mdsim montecarlo SCENARIO --runs N` runs them, and the
//! report is [`sim_core::montecarlo::aggregate`] of the outcomes in seed order: the page and
//! the command line give the same numbers (a native test below and the browser test
//! `tests/browser/montecarlo.test.mjs` check it against `tests/browser/montecarlo-socal.json`).
//!
//! The scenario is the one the map started from ([`crate::panels::SimCtx::scenario`]),
//! whatever its origin: a preset, an imported file, an opened link, with the defence editor's
//! changes among the commands. Messages are JSON text. The scenario and the commands travel
//! as serde JSON: numbers are written in their shortest round-trip form and read back
//! correctly rounded (sim-core builds `serde_json` with `float_roundtrip`), so they arrive
//! bit for bit (tested below on every preset and on a clicked raid).

use serde::{Deserialize, Serialize};

use sim_core::engine::{Command, Scenario};
use sim_core::montecarlo::{self, Fate, Report, RunOutcome};

use crate::playback::LoggedCommand;
use crate::plots::Axis;

/// Most runs one job may ask for.
pub const MAX_BROWSER_RUNS: u32 = 10_000;
/// Largest job message accepted (bytes): a scenario plus its command log.
pub const MAX_JOB_BYTES: usize = 4 << 20;
/// The scenario the empty map starts from.
pub const EMPTY_SCENARIO: &str = r#"{"version": 1, "name": "Empty map"}"#;

/// What the page asks the worker to run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Job {
    /// The starting scenario, as JSON text.
    pub scenario: String,
    /// Commands given since the start, each with its tick, sorted by tick.
    pub commands: Vec<(u64, Command)>,
    /// Number of runs (seeds: the scenario's seed and the next `runs - 1`).
    pub runs: u32,
}

impl Job {
    /// A job for the scenario `scenario_json` with the player's command log.
    pub fn new(scenario_json: &str, log: &[LoggedCommand], runs: u32) -> Job {
        Job {
            scenario: scenario_json.to_string(),
            commands: log.iter().map(|c| (c.tick, c.command.clone())).collect(),
            runs,
        }
    }

    /// A job for the starting scenario `scenario` (encoded here) with the player's command log.
    pub fn for_scenario(scenario: &Scenario, log: &[LoggedCommand], runs: u32) -> Job {
        Job::new(
            &serde_json::to_string(scenario).expect("scenarios always serialise"),
            log,
            runs,
        )
    }

    /// Checks the job and decodes its scenario.
    pub fn validate(&self) -> Result<Scenario, String> {
        if self.runs == 0 || self.runs > MAX_BROWSER_RUNS {
            return Err(format!("choose 1 to {MAX_BROWSER_RUNS} runs"));
        }
        if !self.commands.is_sorted_by_key(|c| c.0) {
            return Err("the command log is not in tick order".to_string());
        }
        Scenario::from_json(&self.scenario).map_err(|e| e.to_string())
    }
}

/// What the worker says.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum FromWorker {
    /// Loaded and listening: the job may be sent.
    Ready,
    /// One more run finished (runs finish in seed order).
    Progress {
        /// Runs finished so far.
        done: u32,
        /// Runs asked for.
        runs: u32,
        /// The run's outcome.
        outcome: RunOutcome,
    },
    /// The job was refused (one sentence).
    Failed {
        /// Why.
        message: String,
    },
}

impl FromWorker {
    /// As a message.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("worker messages always serialise")
    }

    /// From a message.
    pub fn from_json(text: &str) -> Result<FromWorker, String> {
        serde_json::from_str(text).map_err(|e| format!("bad message from the worker: {e}"))
    }
}

/// The worker's loop: decodes the job, runs every seed in order, emitting one
/// [`FromWorker::Progress`] per run, or one [`FromWorker::Failed`].
pub fn run_job(job_json: &str, mut emit: impl FnMut(FromWorker)) {
    let job = if job_json.len() > MAX_JOB_BYTES {
        Err(format!("the job is larger than {} MB", MAX_JOB_BYTES >> 20))
    } else {
        serde_json::from_str::<Job>(job_json).map_err(|e| format!("bad job: {e}"))
    };
    let (job, scenario) = match job.and_then(|j| j.validate().map(|s| (j, s))) {
        Ok(x) => x,
        Err(message) => return emit(FromWorker::Failed { message }),
    };
    for i in 0..job.runs {
        let seed = scenario.seed.wrapping_add(u64::from(i));
        let outcome = montecarlo::run_one_with(&scenario, &job.commands, seed);
        emit(FromWorker::Progress {
            done: i + 1,
            runs: job.runs,
            outcome,
        });
    }
}

/// Counts of values in equal bins.
#[derive(Clone, Debug, PartialEq)]
pub struct Histogram {
    /// Low edge of the first bin.
    pub lo: f64,
    /// Width of a bin.
    pub width: f64,
    /// Values per bin.
    pub counts: Vec<u64>,
}

impl Histogram {
    /// Bins `values` (non-finite ones are skipped) into at most about `max_bins` bins of a
    /// round width; `None` without a finite value.
    pub fn of(values: &[f64], max_bins: usize) -> Option<Histogram> {
        let finite = values.iter().copied().filter(|v| v.is_finite());
        let (lo, hi) = finite
            .clone()
            .fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(v), b.max(v)));
        if lo > hi {
            return None;
        }
        let axis = Axis::nice(lo, hi, max_bins.max(1));
        let n = (((axis.max - axis.min) / axis.step).round() as usize).max(1);
        let mut counts = vec![0_u64; n];
        for v in finite {
            let i = ((v - axis.min) / axis.step).floor() as usize;
            counts[i.min(n - 1)] += 1;
        }
        Some(Histogram {
            lo: axis.min,
            width: axis.step,
            counts,
        })
    }

    /// Runs by their number of leakers: `counts[k]` runs had `k` missiles hit an asset.
    pub fn leakers_per_run(outcomes: &[RunOutcome]) -> Histogram {
        let per_run: Vec<usize> = outcomes
            .iter()
            .map(|o| o.fates.iter().filter(|f| f.1 == Fate::Leaked).count())
            .collect();
        let mut counts = vec![0_u64; per_run.iter().max().map_or(1, |m| m + 1)];
        for k in per_run {
            counts[k] += 1;
        }
        Histogram {
            lo: -0.5,
            width: 1.0,
            counts,
        }
    }
}

/// A label under a histogram: where it goes (a fraction of the axis, 0 at the left end, 1 at
/// the right) and what it says.
#[derive(Clone, Debug, PartialEq)]
pub struct AxisLabel {
    /// Position along the axis, 0 to 1.
    pub at: f64,
    /// The text.
    pub text: String,
}

impl Histogram {
    /// The labels of the axis: at bin edges (`centred` false) or bin centres (`centred` true,
    /// for bins of whole numbers such as leakers per run), only at multiples of a round step
    /// (1, 2 or 5 times a power of ten bins) so that at most `max_labels` show, each with the
    /// decimals its step needs and no more: no two labels read the same (not "30 30 30 31").
    /// The last label carries `unit`.
    pub fn axis_labels(&self, max_labels: usize, unit: &str, centred: bool) -> Vec<AxisLabel> {
        let n = self.counts.len();
        if n == 0 || !(self.width.is_finite() && self.width > 0.0 && self.lo.is_finite()) {
            return Vec::new();
        }
        let offset = if centred { 0.5 } else { 0.0 };
        // Positions (in bins from the low edge) that may carry a label.
        let m = if centred { n } else { n + 1 };
        let max_labels = max_labels.max(1);
        // Bins per label: the first of 1, 2, 5, 10, 20, 50, ... that leaves at most
        // `max_labels` (bounded: reaches `m`, a vector's length, within 60 tries).
        let every = (0..60_u32)
            .map(|i| {
                [1_usize, 2, 5][(i % 3) as usize].saturating_mul(10_usize.saturating_pow(i / 3))
            })
            .find(|&e| m.div_ceil(e) <= max_labels || e >= m)
            .unwrap_or(m);
        let step = self.width * every as f64;
        let decimals = (0..=6)
            .find(|d| {
                let scaled = step * 10f64.powi(*d);
                (scaled - scaled.round()).abs() < 1e-6 * scaled.max(1.0)
            })
            .unwrap_or(6) as usize;
        let mut out: Vec<AxisLabel> = (0..m)
            .filter_map(|j| {
                let v = self.lo + (offset + j as f64) * self.width;
                let q = v / step;
                ((q - q.round()).abs() < 1e-6).then(|| {
                    // No "-0".
                    let v = if v.abs() < step * 1e-9 { 0.0 } else { v };
                    AxisLabel {
                        at: (offset + j as f64) / n as f64,
                        text: format!("{v:.decimals$}"),
                    }
                })
            })
            .collect();
        if out.is_empty() {
            // Fewer positions than bins per label and none on a multiple: the low end alone.
            out.push(AxisLabel {
                at: offset / n as f64,
                text: format!("{:.decimals$}", self.lo + offset * self.width),
            });
        }
        if let Some(last) = out.last_mut()
            && !unit.is_empty()
        {
            last.text = format!("{} {unit}", last.text);
        }
        out
    }
}

/// The intercept altitudes (km) of every kill over all runs.
pub fn kill_altitudes_km(outcomes: &[RunOutcome]) -> Vec<f64> {
    outcomes
        .iter()
        .flat_map(|o| o.kill_altitudes_m.iter().map(|a| a / 1000.0))
        .collect()
}

/// The report of the runs received so far (in seed order, as the worker sends them).
pub fn report(outcomes: &[RunOutcome]) -> Result<Report, String> {
    montecarlo::aggregate(outcomes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::earth::GeoPoint;
    use sim_core::engine::LaunchCommand;

    #[test]
    fn histograms_bin_values_in_round_widths() {
        let h = Histogram::of(&[1.0, 2.0, 2.5, 9.9, f64::NAN], 5).unwrap();
        assert_eq!((h.lo, h.width), (0.0, 2.0));
        assert_eq!(h.counts, vec![1, 2, 0, 0, 1]);
        assert_eq!(h.counts.iter().sum::<u64>(), 4);
        assert!(Histogram::of(&[f64::NAN], 5).is_none());
        let one = Histogram::of(&[30.0], 5).unwrap();
        assert_eq!(one.counts.iter().sum::<u64>(), 1);
    }

    fn outcome(seed: u64, fates: &[Fate]) -> RunOutcome {
        RunOutcome {
            seed,
            fates: fates
                .iter()
                .enumerate()
                .map(|(i, f)| (sim_core::MissileId(i as u32 + 1), *f))
                .collect(),
            interceptors: 0,
            kills: 0,
            kill_altitudes_m: vec![],
            handover_errors_m: vec![],
            asset_hits: vec![],
        }
    }

    /// The value a label reads, without its unit.
    fn value_of(l: &AxisLabel) -> f64 {
        l.text
            .split(' ')
            .next()
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("label {l:?}"))
    }

    #[test]
    fn histogram_axes_have_round_distinct_labels_with_units() {
        // Intercept altitudes between 30 and 31 km: bins of 0.2 km, whose labels once read
        // "30 30 30 31 31 31".
        let h = Histogram::of(&[30.1, 30.3, 30.5, 30.6, 30.9, 31.1], 8).unwrap();
        assert!(h.width < 1.0, "{h:?}");
        let labels = h.axis_labels(5, "km", false);
        let texts: Vec<&str> = labels.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(texts, vec!["30.0", "30.4", "30.8", "31.2 km"], "{h:?}");
        for l in &labels {
            // Each label sits where its value is on the axis.
            let x = h.lo + l.at * h.width * h.counts.len() as f64;
            assert!((x - value_of(l)).abs() < 1e-9, "{l:?} at {x}");
        }
        // Many cases: never two labels alike, never more than asked, in order, unit last.
        for (values, max_bins) in [
            (vec![0.0, 1000.0], 8),
            (vec![12.3, 12.31, 12.35], 8),
            (vec![30.0], 8),
            (vec![-3.0, 250.0, 77.0], 20),
            (vec![99.9, 100.1], 3),
        ] {
            let h = Histogram::of(&values, max_bins).unwrap();
            for max in [2, 4, 6] {
                let labels = h.axis_labels(max, "km", false);
                assert!(
                    !labels.is_empty() && labels.len() <= max,
                    "{h:?} {labels:?}"
                );
                let mut texts: Vec<&str> = labels.iter().map(|l| l.text.as_str()).collect();
                assert!(texts.last().unwrap().ends_with(" km"));
                texts.dedup();
                assert_eq!(texts.len(), labels.len(), "{labels:?}");
                assert!(labels.windows(2).all(|w| value_of(&w[0]) < value_of(&w[1])));
                assert!(labels.iter().all(|l| (0.0..=1.0).contains(&l.at)));
            }
        }
        // Whole-number bins are labelled at their centres: 0, 1, 2 leakers.
        let o: Vec<RunOutcome> = (0..3)
            .map(|k| outcome(k, &vec![Fate::Leaked; k as usize]))
            .collect();
        let h = Histogram::leakers_per_run(&o);
        let texts: Vec<String> = h
            .axis_labels(6, "leakers", true)
            .into_iter()
            .map(|l| l.text)
            .collect();
        assert_eq!(texts, vec!["0", "1", "2 leakers"]);
        let many = Histogram {
            lo: -0.5,
            width: 1.0,
            counts: vec![1; 40],
        };
        let texts: Vec<String> = many
            .axis_labels(5, "", true)
            .into_iter()
            .map(|l| l.text)
            .collect();
        assert_eq!(texts, vec!["0", "10", "20", "30"]);
    }

    #[test]
    fn leakers_per_run_counts_runs() {
        use Fate::*;
        let o = [
            outcome(1, &[Leaked, Leaked, Intercepted]),
            outcome(2, &[Intercepted]),
            outcome(3, &[Leaked, OpenCountry]),
        ];
        assert_eq!(Histogram::leakers_per_run(&o).counts, vec![1, 1, 1]);
        assert_eq!(Histogram::leakers_per_run(&[]).counts, vec![0]);
    }

    #[test]
    fn bad_jobs_are_refused_in_one_message() {
        let mut got = Vec::new();
        run_job("{", |m| got.push(m));
        run_job(
            &serde_json::to_string(&Job {
                scenario: EMPTY_SCENARIO.into(),
                commands: vec![],
                runs: 0,
            })
            .unwrap(),
            |m| got.push(m),
        );
        run_job(
            &serde_json::to_string(&Job {
                scenario: "{}".into(),
                commands: vec![],
                runs: 3,
            })
            .unwrap(),
            |m| got.push(m),
        );
        assert_eq!(got.len(), 3);
        assert!(
            got.iter().all(|m| matches!(m, FromWorker::Failed { .. })),
            "{got:?}"
        );
        let FromWorker::Failed { message } = &got[1] else {
            unreachable!()
        };
        assert!(message.contains("1 to 10000 runs"), "{message}");
    }

    #[test]
    fn commands_cross_the_worker_boundary_unchanged() {
        // Coordinates as a click gives them: full-precision doubles.
        let log: Vec<LoggedCommand> = (0..200_u32)
            .map(|i| {
                let x = f64::from(i) * 0.123_456_789_012_345_67 + 1e-13 * f64::from(i * i);
                LoggedCommand {
                    tick: u64::from(i),
                    command: Command::Launch(LaunchCommand {
                        missile: sim_core::MissileKind::ScudC,
                        from: GeoPoint::new(36.5 - x / 97.0, -123.1 + x / 13.0),
                        to: GeoPoint::new(34.05 + x / 1e3, -118.25 - x * std::f64::consts::PI),
                        profile: Default::default(),
                        label: Some(format!("#{i}")),
                        guidance: None,
                    }),
                }
            })
            .collect();
        let job = Job::new(EMPTY_SCENARIO, &log, 3);
        let back: Job = serde_json::from_str(&serde_json::to_string(&job).unwrap()).unwrap();
        assert_eq!(back, job);
        for (a, b) in back.commands.iter().zip(&job.commands) {
            let (Command::Launch(a), Command::Launch(b)) = (&a.1, &b.1) else {
                unreachable!()
            };
            assert_eq!(a.from.lat_deg.to_bits(), b.from.lat_deg.to_bits());
            assert_eq!(a.to.lon_deg.to_bits(), b.to.lon_deg.to_bits());
        }
    }

    /// The browser test's expected figures: the SoCal preset, 20 runs. Set
    /// `MDSIM_UPDATE_FIXTURES=1` to rewrite the file after a change to the simulation.
    const FIXTURE: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/browser/montecarlo-socal.json"
    );

    #[test]
    fn the_worker_loop_agrees_with_mdsim_and_the_browser_fixture() {
        let preset = crate::playback::Preset::by_id("socal-scud-c").unwrap();
        let text = preset.json.unwrap();
        let runs = 20;
        let job = serde_json::to_string(&Job::new(text, &[], runs)).unwrap();
        let mut outcomes = Vec::new();
        let mut last_done = 0;
        run_job(&job, |m| match m {
            FromWorker::Progress {
                done,
                runs: r,
                outcome,
            } => {
                assert_eq!((done, r), (last_done + 1, runs));
                last_done = done;
                // Through the message format, as in the browser.
                let back = FromWorker::from_json(
                    &FromWorker::Progress {
                        done,
                        runs: r,
                        outcome,
                    }
                    .to_json(),
                )
                .unwrap();
                let FromWorker::Progress { outcome, .. } = back else {
                    unreachable!()
                };
                outcomes.push(outcome);
            }
            other => panic!("{other:?}"),
        });
        // What `mdsim montecarlo scenarios/socal-scud-c.json --runs 20` computes: the same
        // runs (checked on the first two seeds: each SoCal run costs seconds in a debug
        // build) aggregated by the same function.
        let scenario = Scenario::from_json(text).unwrap();
        for o in &outcomes[..2] {
            assert_eq!(*o, montecarlo::run_one(&scenario, o.seed));
        }
        let seeds: Vec<u64> = outcomes.iter().map(|o| o.seed).collect();
        assert_eq!(
            seeds,
            (scenario.seed..scenario.seed + u64::from(runs)).collect::<Vec<_>>()
        );
        assert_eq!(
            report(&outcomes).unwrap(),
            montecarlo::aggregate(&outcomes).unwrap()
        );
        let expected = figures(("preset", "socal-scud-c"), runs, scenario.seed, &outcomes);
        check_fixture(FIXTURE, &expected);
    }

    /// The figures a browser test compares with the worker's: the runs, the leak with its
    /// interval, and the rounds and kills, under `key` naming the scenario.
    fn figures(
        key: (&str, &str),
        runs: u32,
        base_seed: u64,
        outcomes: &[montecarlo::RunOutcome],
    ) -> serde_json::Value {
        let native = montecarlo::aggregate(outcomes).unwrap();
        let leak = native.leak.expect("the missiles threaten a defended asset");
        let interceptors: u32 = outcomes.iter().map(|o| o.interceptors).sum();
        let kills: u32 = outcomes.iter().map(|o| o.kills).sum();
        serde_json::json!({
            key.0: key.1,
            "runs": runs,
            "base_seed": base_seed,
            "leaked": leak.successes,
            "trials": leak.trials,
            "leak_estimate": format!("{:.3}", leak.estimate),
            "leak_low": format!("{:.3}", leak.low),
            "leak_high": format!("{:.3}", leak.high),
            "interceptors": interceptors,
            "kills": kills,
        })
    }

    /// Compares `expected` with the fixture at `path` (rewriting it first under
    /// `MDSIM_UPDATE_FIXTURES`).
    fn check_fixture(path: &str, expected: &serde_json::Value) {
        if std::env::var_os("MDSIM_UPDATE_FIXTURES").is_some() {
            let text = serde_json::to_string_pretty(expected).unwrap() + "\n";
            std::fs::write(path, text).expect("fixture written");
        }
        let fixture: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).expect("fixture present"))
                .expect("fixture is JSON");
        assert_eq!(
            &fixture, expected,
            "the simulation changed: rerun with MDSIM_UPDATE_FIXTURES=1 to refresh {path}"
        );
    }

    #[test]
    fn every_preset_crosses_to_the_worker_unchanged() {
        for preset in crate::playback::PRESETS {
            let scenario = crate::share::preset_scenario(preset.id).unwrap();
            let job = Job::for_scenario(&scenario, &[], 1);
            let back: Job = serde_json::from_str(&serde_json::to_string(&job).unwrap()).unwrap();
            let decoded = back.validate().unwrap();
            assert_eq!(decoded, scenario, "{}", preset.id);
            // Bit for bit: encoding the decoded scenario gives the same text.
            assert_eq!(
                serde_json::to_string(&decoded).unwrap(),
                job.scenario,
                "{}",
                preset.id
            );
            // And from the preset's original text, the same scenario as the map's.
            if let Some(text) = preset.json {
                assert_eq!(Scenario::from_json(text).unwrap(), decoded);
            }
        }
    }

    /// The browser test's expected figures for an imported scenario that is no preset. Set
    /// `MDSIM_UPDATE_FIXTURES=1` to rewrite them after a change to the simulation.
    const IMPORT_SCENARIO: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/browser/montecarlo-import.scenario.json"
    );
    const IMPORT_FIXTURE: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/browser/montecarlo-import.json"
    );

    #[test]
    fn an_imported_scenario_runs_in_the_worker_as_mdsim_runs_the_file() {
        let text = std::fs::read_to_string(IMPORT_SCENARIO).expect("scenario present");
        // As the page imports it: a session from the file, a player restored from it; the
        // job is built from that session's scenario and the player's command log.
        let session = sim_core::link::Session::from_json(&text).unwrap();
        for preset in crate::playback::PRESETS {
            let other = crate::share::preset_scenario(preset.id).unwrap();
            assert_ne!(other, session.scenario, "{} is a preset", preset.id);
        }
        let player = crate::share::restore(&session);
        let runs = 8;
        let job = Job::for_scenario(&session.scenario, player.commands(), runs);
        let mut outcomes = Vec::new();
        run_job(&serde_json::to_string(&job).unwrap(), |m| match m {
            FromWorker::Progress { outcome, .. } => outcomes.push(outcome),
            other => panic!("{other:?}"),
        });
        assert_eq!(outcomes.len(), runs as usize);
        // `mdsim montecarlo FILE --runs 8` runs `run_one` on the file's scenario for seeds
        // s..s+8 and aggregates them in seed order.
        let file = Scenario::from_json(&text).unwrap();
        for o in &outcomes {
            assert_eq!(*o, montecarlo::run_one(&file, o.seed));
        }
        let seeds: Vec<u64> = outcomes.iter().map(|o| o.seed).collect();
        assert_eq!(
            seeds,
            (file.seed..file.seed + u64::from(runs)).collect::<Vec<_>>()
        );
        let expected = figures(("scenario", &file.name), runs, file.seed, &outcomes);
        assert!(
            expected["interceptors"].as_u64() > Some(0),
            "the battery engages"
        );
        check_fixture(IMPORT_FIXTURE, &expected);
    }
}
