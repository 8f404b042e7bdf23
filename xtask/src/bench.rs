//! `cargo xtask bench [--quick] [--only PART]`: runs the benchmark suite and prints one
//! markdown table of current figures, each next to its goal and whether it is met.
//!
//! Parts (`--only` takes these names, repeated or comma-separated): `criterion` (the native
//! criterion cases of `sim-core/benches`), `kill-chain` (`examples/kill_chain.rs`, native),
//! `montecarlo` (`mdsim montecarlo`, native, one thread), `wasm` (`sim-core/tests/node/run.sh
//! --bench`: the same workloads in the wasm package under Node), `chromium` (the kill chain of
//! the same package in headless Chromium, `tests/browser/kill-chain-bench.mjs`, its state
//! checked against native), `rest` (the release relay on a free loopback port under `wrk`) and
//! `browser` (not re-run: the figures the browser tests of `cargo xtask test` wrote to
//! `target/browser-results.json`).
//!
//! Invariants: every command runs with a time bound and its output goes to a log under
//! `target/bench-logs/`; a part that fails shows `failed: reason` in its rows and the others
//! still run; the exit status is non-zero only for a usage error. The load average is read at
//! the start and the end, and when it is above [`LOAD_LIMIT`] at the start the table says that
//! its figures are indicative, not results. `--quick` shortens every part (smaller runs,
//! shorter criterion and wrk times) to test the harness; its figures are never compared with
//! the goals. The table is also written to `target/bench-results.md`.

mod chromium;
mod parse;
mod parts;
mod run;

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::{Result, target_dir};
use run::{cargo, commit, read_load, run_logged, uptime};

/// Above this 1-minute load average at the start (on this 2-core machine: more than one other
/// busy process), the figures are marked indicative.
pub const LOAD_LIMIT: f64 = 1.5;

/// The parts, in the order they run and appear.
const PARTS: [&str; 7] = [
    "criterion",
    "kill-chain",
    "montecarlo",
    "wasm",
    "chromium",
    "rest",
    "browser",
];

/// How a row that was deliberately not measured starts its reason (shown without "failed").
const NOT_MEASURED: &str = "not measured here";

/// The targeting solver's goals per missile kind: median milliseconds per solve.
const SOLVER_GOALS_MS: [(&str, f64); 5] = [
    ("SCUD-B", 2.0),
    ("SCUD-C", 2.0),
    ("NODONG", 2.0),
    ("IRBM", 5.0),
    ("ICBM", 5.0),
];

struct Options {
    quick: bool,
    only: Vec<String>,
}

impl Options {
    fn parse(args: &[String]) -> Result<Options> {
        let mut options = Options {
            quick: false,
            only: Vec::new(),
        };
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            match arg.as_str() {
                "--quick" => options.quick = true,
                "--only" => {
                    let names = it.next().ok_or(format!(
                        "--only needs a part name, one of: {}",
                        PARTS.join(", ")
                    ))?;
                    for name in names.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                        if !PARTS.contains(&name) {
                            return Err(format!(
                                "unknown part `{name}` for --only; the parts are: {}",
                                PARTS.join(", ")
                            ));
                        }
                        options.only.push(name.to_string());
                    }
                }
                other => {
                    return Err(format!(
                        "unknown option `{other}` for bench; run `cargo xtask help`"
                    ));
                }
            }
        }
        Ok(options)
    }

    fn wants(&self, part: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|p| p == part)
    }
}

/// A goal: the figure must be at least or at most this.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Goal {
    AtLeast(f64),
    AtMost(f64),
    None,
}

/// One row of the table.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    figure: String,
    /// The figure, or why there is none.
    value: std::result::Result<f64, String>,
    unit: &'static str,
    goal: Goal,
    /// Said after the value (run size, how the run ended, where a figure comes from).
    note: String,
    /// Set when the figure cannot meet its goal whatever the value says (e.g. requests
    /// timed out and are missing from a percentile).
    spoiled: Option<String>,
    command: String,
}

impl Row {
    fn new(figure: impl Into<String>, unit: &'static str, goal: Goal, command: &str) -> Row {
        Row {
            figure: figure.into(),
            value: Err("not run".to_string()),
            unit,
            goal,
            note: String::new(),
            spoiled: None,
            command: command.to_string(),
        }
    }

    fn set(&mut self, value: Result<f64>) -> &mut Row {
        self.value = value;
        self
    }

    fn met(&self, quick: bool) -> &'static str {
        let Ok(v) = self.value else { return "-" };
        if quick {
            return "(quick run)";
        }
        let ok = match self.goal {
            Goal::AtLeast(g) => v >= g,
            Goal::AtMost(g) => v <= g,
            Goal::None => return "-",
        };
        if ok && self.spoiled.is_none() {
            "yes"
        } else {
            "**no**"
        }
    }

    fn markdown(&self, quick: bool) -> String {
        let measured = match &self.value {
            Ok(v) => {
                let mut s = format!("{} {}", number(*v), self.unit);
                if !self.note.is_empty() {
                    let _ = write!(s, " ({})", self.note);
                }
                if let Some(why) = &self.spoiled {
                    let _ = write!(s, "; {why}");
                }
                s
            }
            // A part that was not run on purpose says so; anything else failed.
            Err(e) if e.starts_with(NOT_MEASURED) => e.clone(),
            Err(e) => format!("failed: {e}"),
        };
        let goal = match self.goal {
            Goal::AtLeast(g) => format!(">= {} {}", number(g), self.unit),
            Goal::AtMost(g) => format!("<= {} {}", number(g), self.unit),
            Goal::None => "-".to_string(),
        };
        let cell = |s: &str| s.replace('|', "\\|").replace('\n', " ");
        format!(
            "| {} | {} | {} | {} | {} |",
            cell(&self.figure),
            cell(&measured),
            goal,
            self.met(quick),
            cell(&self.command)
        )
    }
}

/// A figure with three significant digits, thousands separated: 0.0123, 1.23, 45.6, 3,210.
fn number(v: f64) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    let a = v.abs();
    if a >= 1000.0 {
        let digits = format!("{:.0}", a);
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(c);
        }
        return if v < 0.0 { format!("-{out}") } else { out };
    }
    let decimals = if a >= 100.0 {
        0
    } else if a >= 10.0 {
        1
    } else if a >= 1.0 || a == 0.0 {
        2
    } else {
        (2.0 - a.log10().floor()) as usize
    };
    format!("{v:.decimals$}")
}

/// Where logs go and how long the parts run.
struct Ctx {
    quick: bool,
    logs: PathBuf,
    /// The result of building `mdsim` and `examples/kill_chain` in release, once.
    native: Option<Result>,
    /// The kill chain as the `kill-chain` part ran it natively, when it did: the reference
    /// whose states the Chromium run must match.
    kill_chain_native: Option<parse::KillChain>,
    /// The kill chain as the `wasm` part ran it in Node, when it did.
    kill_chain_node: Option<parse::KillChain>,
}

impl Ctx {
    fn release(&self, name: &str) -> PathBuf {
        target_dir().join("release").join(name)
    }

    /// Builds the native release binaries (once) for the kill chain and Monte Carlo parts.
    fn native_build(&mut self) -> Result {
        if self.native.is_none() {
            let mut cmd = cargo();
            cmd.args([
                "build",
                "--release",
                "-p",
                "sim-core",
                "--bin",
                "mdsim",
                "--example",
                "kill_chain",
            ]);
            self.native = Some(
                run_logged(
                    &mut cmd,
                    &self.logs.join("build-native.log"),
                    Duration::from_secs(3600),
                )
                .map(drop),
            );
        }
        self.native.clone().expect("set above")
    }
}

pub fn bench(args: &[String]) -> Result {
    let options = Options::parse(args)?;
    let logs = target_dir().join("bench-logs");
    std::fs::create_dir_all(&logs).map_err(|e| format!("cannot create {}: {e}", logs.display()))?;
    let load_start = read_load();
    let uptime_start = uptime();
    println!("load at start: {uptime_start}");
    let started = Instant::now();
    // The code measured is the code at the start.
    let commit = commit();
    let mut ctx = Ctx {
        quick: options.quick,
        logs,
        native: None,
        kill_chain_native: None,
        kill_chain_node: None,
    };
    let mut rows = Vec::new();
    for part in PARTS.into_iter().filter(|p| options.wants(p)) {
        println!("\n==> {part}");
        let t = Instant::now();
        let part_rows = match part {
            "criterion" => parts::criterion(&ctx),
            "kill-chain" => parts::kill_chain(&mut ctx),
            "montecarlo" => parts::montecarlo(&mut ctx),
            "wasm" => parts::wasm(&mut ctx),
            "chromium" => chromium::chromium(&mut ctx),
            "rest" => parts::rest(&ctx),
            _ => parts::browser(),
        };
        for row in &part_rows {
            if let Err(e) = &row.value {
                println!("    {}: failed: {e}", row.figure);
            }
        }
        println!("    {part} took {:.0} s", t.elapsed().as_secs_f64());
        rows.extend(part_rows);
    }
    let uptime_end = uptime();
    let table = table(&TableHead {
        quick: options.quick,
        load_start,
        uptime_start: &uptime_start,
        uptime_end: &uptime_end,
        minutes: started.elapsed().as_secs_f64() / 60.0,
        commit,
        rows: &rows,
    });
    println!("\n{table}");
    let out = target_dir().join("bench-results.md");
    match std::fs::write(&out, &table) {
        Ok(()) => println!("(also written to {})", out.display()),
        Err(e) => println!("(could not write {}: {e})", out.display()),
    }
    Ok(())
}

struct TableHead<'a> {
    quick: bool,
    load_start: Option<f64>,
    uptime_start: &'a str,
    uptime_end: &'a str,
    minutes: f64,
    commit: String,
    rows: &'a [Row],
}

fn table(h: &TableHead<'_>) -> String {
    let mut s = String::new();
    let mode = if h.quick { " --quick" } else { "" };
    let _ = writeln!(
        s,
        "`cargo xtask bench{mode}` at {}, {:.0} min.\n",
        h.commit, h.minutes
    );
    let _ = writeln!(s, "- load at start: `{}`", h.uptime_start.trim());
    let _ = writeln!(s, "- load at end: `{}`", h.uptime_end.trim());
    match h.load_start {
        Some(load) if load > LOAD_LIMIT => {
            let _ = writeln!(
                s,
                "\n**Warning: load average {load:.2} at the start (above {LOAD_LIMIT}): \
                 these figures are indicative, taken under load, not results.**"
            );
        }
        Some(_) => {}
        None => {
            let _ = writeln!(
                s,
                "\n**Warning: the load average could not be read: these figures are \
                 indicative, not results.**"
            );
        }
    }
    if h.quick {
        let _ = writeln!(
            s,
            "\n**Quick run (`--quick`): shortened runs that test the harness; the figures \
             are not compared with the goals.**"
        );
    }
    let _ = writeln!(s, "\n| figure | measured | goal | met? | command |");
    let _ = writeln!(s, "|---|---|---|---|---|");
    for row in h.rows {
        let _ = writeln!(s, "{}", row.markdown(h.quick));
    }
    s
}

/// Sets every row to `Err(reason)`.
fn fail_all(rows: &mut [Row], reason: &str) {
    for row in rows {
        row.value = Err(reason.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_take_quick_and_parts() {
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let o = Options::parse(&args(&[
            "--quick",
            "--only",
            "rest,wasm",
            "--only",
            "criterion",
        ]))
        .unwrap();
        assert!(o.quick);
        assert!(o.wants("rest") && o.wants("wasm") && o.wants("criterion"));
        assert!(!o.wants("kill-chain"));
        let all = Options::parse(&[]).unwrap();
        assert!(PARTS.iter().all(|p| all.wants(p)));
        assert!(Options::parse(&args(&["--only", "nope"])).is_err());
        assert!(Options::parse(&args(&["--only"])).is_err());
        assert!(Options::parse(&args(&["--fast"])).is_err());
    }

    #[test]
    fn rows_say_whether_the_goal_is_met() {
        let mut r = Row::new("x", "ms", Goal::AtMost(10.0), "cmd");
        assert_eq!(r.met(false), "-", "not run");
        r.set(Ok(9.5));
        assert_eq!(r.met(false), "yes");
        assert_eq!(r.met(true), "(quick run)");
        r.set(Ok(10.5));
        assert_eq!(r.met(false), "**no**");
        let mut r = Row::new("y", "runs/s", Goal::AtLeast(20.0), "a | b");
        r.set(Ok(25.0)).spoiled = Some("timeouts".into());
        assert_eq!(r.met(false), "**no**");
        assert_eq!(
            r.markdown(false),
            "| y | 25.0 runs/s; timeouts | >= 20.0 runs/s | **no** | a \\| b |"
        );
        r.set(Err("boom".into()));
        assert_eq!(
            r.markdown(false),
            "| y | failed: boom | >= 20.0 runs/s | - | a \\| b |"
        );
        r.set(Err(format!("{NOT_MEASURED}: see the browser tests")));
        assert!(
            r.markdown(false)
                .starts_with("| y | not measured here: see the browser tests |")
        );
    }

    #[test]
    fn numbers_keep_three_significant_digits() {
        assert_eq!(number(3210.4), "3,210");
        assert_eq!(number(1_234_567.0), "1,234,567");
        assert_eq!(number(45.61), "45.6");
        assert_eq!(number(123.4), "123");
        assert_eq!(number(1.234), "1.23");
        assert_eq!(number(0.01234), "0.0123");
        assert_eq!(number(0.0), "0.00");
        assert_eq!(number(-2500.0), "-2,500");
    }

    #[test]
    fn the_table_warns_under_load_and_in_quick_runs() {
        let mut row = Row::new("kill chain", "sim s/wall s", Goal::AtLeast(60.0), "cmd");
        row.set(Ok(75.0));
        let head = |load, quick| TableHead {
            quick,
            load_start: load,
            uptime_start: "up 1 min, load average: 0.10, 0.20, 0.30",
            uptime_end: "up 9 min, load average: 1.10, 0.90, 0.50",
            minutes: 8.0,
            commit: "commit `abc1234`".into(),
            rows: std::slice::from_ref(&row),
        };
        let idle = table(&head(Some(0.1), false));
        assert!(!idle.contains("Warning"), "{idle}");
        assert!(
            idle.contains("| kill chain | 75.0 sim s/wall s | >= 60.0 sim s/wall s | yes | cmd |")
        );
        assert!(idle.contains("load at start: `up 1 min, load average: 0.10"));
        let loaded = table(&head(Some(3.2), false));
        assert!(
            loaded.contains("load average 3.20 at the start"),
            "{loaded}"
        );
        assert!(table(&head(None, false)).contains("could not be read"));
        let quick = table(&head(Some(0.1), true));
        assert!(
            quick.contains("Quick run") && quick.contains("| (quick run) |"),
            "{quick}"
        );
    }
}
