//! `cargo xtask soak [--minutes N] [--no-kill-relay] [--seed N] [--release]`: the full form of the
//! relay's soak (`relay-server/tests/soak/`), which `cargo xtask test` runs for 75 s.
//!
//! Two relay processes on one nats-server (JetStream) and one PostgreSQL + PostGIS take
//! labelled REST launches and `ws-load` rounds for N minutes (default 30) while a seeded chaos
//! loop kills -9 and restarts nats-server, PostgreSQL and a durable consumer of
//! `MDSIM_EVENTS`, and one of the relays (unless `--no-kill-relay`). The soak then drains and asserts
//! that nothing accepted or stored was lost or duplicated. The report (Markdown rows for
//! `docs/benchmarks.md`) is printed and written to `target/soak-report.md`, with the load
//! average at the start and the end: the figures of a run on a busy machine are indicative.
//!
//! Invariants: the run is bounded (at most 360 minutes of load, plus a drain of at most
//! 120 s); a failing run prints its seed, and `--seed` repeats its chaos.

use std::process::Command;

use crate::bench::LOAD_LIMIT;
use crate::{Result, root, target_dir, tools};

/// The 1-minute load average.
fn read_load() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

struct Options {
    minutes: f64,
    kill_relay: bool,
    seed: Option<u64>,
    release: bool,
}

fn parse(args: &[String]) -> Result<Options> {
    let mut options = Options {
        minutes: 30.0,
        kill_relay: true,
        seed: None,
        release: false,
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .ok_or_else(|| format!("{name} needs a value; run `cargo xtask help`"))
        };
        match arg.as_str() {
            "--minutes" => {
                let v = value("--minutes")?;
                options.minutes = v
                    .parse()
                    .ok()
                    .filter(|m: &f64| (0.2..=360.0).contains(m))
                    .ok_or_else(|| format!("--minutes {v}: give 0.2 to 360"))?;
            }
            "--seed" => {
                let v = value("--seed")?;
                options.seed = Some(v.parse().map_err(|_| format!("--seed {v}: not a number"))?);
            }
            "--kill-relay" => options.kill_relay = true,
            "--no-kill-relay" => options.kill_relay = false,
            "--release" => options.release = true,
            other => {
                return Err(format!(
                    "unknown option `{other}` for soak; run `cargo xtask help`"
                ));
            }
        }
    }
    Ok(options)
}

pub fn soak(args: &[String]) -> Result {
    let options = parse(args)?;
    let tools = tools::Toolchain::ensure_services()?;
    let report = target_dir().join("soak-report.md");
    let _ = std::fs::remove_file(&report);
    let load_start = read_load();
    let mut cmd = Command::new(&tools.cargo);
    cmd.current_dir(root())
        .args(["test", "--locked", "-p", "relay-server", "--test", "soak"]);
    if options.release {
        cmd.arg("--release");
    }
    cmd.args(["--", "--nocapture"])
        .env("MDSIM_SOAK_SECS", format!("{}", options.minutes * 60.0))
        .env("MDSIM_SOAK_REPORT", &report)
        .env(
            "MDSIM_SOAK_KILL_RELAY",
            if options.kill_relay { "1" } else { "0" },
        );
    if let Some(seed) = options.seed {
        cmd.env("MDSIM_SOAK_SEED", seed.to_string());
    }
    let outcome = tools.run(&mut cmd);
    let load_end = read_load();
    let fmt = |l: Option<f64>| l.map_or("?".to_string(), |l| format!("{l:.2}"));
    if let Ok(text) = std::fs::read_to_string(&report) {
        println!("\n{text}");
        let busy = load_start.is_some_and(|l| l > LOAD_LIMIT);
        println!(
            "load average (1 min) {} at the start, {} at the end{}; report in {}",
            fmt(load_start),
            fmt(load_end),
            if busy {
                ": the machine was busy, figures are indicative"
            } else {
                ""
            },
            report.display()
        );
    }
    outcome.map_err(|e| format!("the soak failed (its seed is printed above): {e}"))
}
