//! The parts of `cargo xtask bench`: each builds what it needs, runs its commands with a
//! bound, and returns its rows of the table, with `failed: reason` in those it could not
//! measure.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, SystemTime};

use super::run::{RelayProcess, cargo, run_logged};
use super::{Ctx, Goal, NOT_MEASURED, Row, SOLVER_GOALS_MS, fail_all, number, parse};
use crate::{Result, root, target_dir, tools};

// ---- criterion -------------------------------------------------------------------------

pub(super) fn criterion(ctx: &Ctx) -> Vec<Row> {
    let cmd_text = "cargo bench -p sim-core --bench flight --bench tracker";
    let mut rows = vec![Row::new(
        "engine tick, 5,000 missiles in flight (native, `engine/one_tick_5000_in_flight`)",
        "ms",
        Goal::AtMost(10.0),
        cmd_text,
    )];
    rows.push(Row::new(
        "tracker: 1,000 objects, 10 radars, impact prediction on (native, one thread, \
         `tracker/plots_1000_objects_10_radars`)",
        "plots/CPU-s",
        Goal::AtLeast(50_000.0),
        cmd_text,
    ));
    for (kind, goal) in SOLVER_GOALS_MS {
        rows.push(Row::new(
            format!("targeting solve {kind}, median (native, `targeting/solve_{kind}`)"),
            "ms",
            Goal::AtMost(goal),
            cmd_text,
        ));
    }
    // Only the cases of the table; criterion matches the regex against `group/function`.
    let filter = "^(engine/one_tick_5000_in_flight|tracker/plots_1000_objects_10_radars\
                  |targeting/solve_.*)$";
    let mut cmd = cargo();
    cmd.args([
        "bench", "-p", "sim-core", "--bench", "flight", "--bench", "tracker", "--",
    ]);
    if ctx.quick {
        cmd.args(["--warm-up-time", "0.5", "--measurement-time", "1"]);
    }
    cmd.arg(filter);
    let since = SystemTime::now();
    let limit = Duration::from_secs(if ctx.quick { 2400 } else { 3600 });
    if let Err(e) = run_logged(&mut cmd, &ctx.logs.join("criterion.log"), limit) {
        fail_all(&mut rows, &e);
        return rows;
    }
    let dir = target_dir().join("criterion");
    rows[0]
        .set(criterion_case(&dir, "engine", "one_tick_5000_in_flight", since).map(|c| c.0 * 1e3));
    rows[1].set(
        criterion_case(&dir, "tracker", "plots_1000_objects_10_radars", since)
            .and_then(|(s, n)| Ok(n.ok_or("no throughput recorded")? / s)),
    );
    for (i, (kind, _)) in SOLVER_GOALS_MS.iter().enumerate() {
        rows[2 + i].set(
            criterion_case(&dir, "targeting", &format!("solve_{kind}"), since).map(|c| c.0 * 1e3),
        );
    }
    rows
}

/// The median (s) and element throughput of one criterion case measured since `since`; the
/// function name is matched without regard to case (`solve_NODONG`, `solve_Nodong`).
fn criterion_case(
    dir: &Path,
    group: &str,
    function: &str,
    since: SystemTime,
) -> Result<(f64, Option<f64>)> {
    let absent = || {
        format!(
            "no criterion case `{group}/{function}` was measured (not in sim-core/benches on \
             this commit?)"
        )
    };
    let found = std::fs::read_dir(dir.join(group))
        .map_err(|_| absent())?
        .flatten()
        .find(|e| {
            e.file_name()
                .to_string_lossy()
                .eq_ignore_ascii_case(function)
        })
        .ok_or_else(absent)?
        .path()
        .join("new");
    let estimates = found.join("estimates.json");
    let fresh = std::fs::metadata(&estimates)
        .and_then(|m| m.modified())
        .is_ok_and(|t| t >= since);
    if !fresh {
        return Err(absent());
    }
    let text = std::fs::read_to_string(&estimates).map_err(|e| e.to_string())?;
    let median = parse::criterion_median_s(&text)?;
    let elements = std::fs::read_to_string(found.join("benchmark.json"))
        .ok()
        .and_then(|t| parse::criterion_elements(&t).ok());
    Ok((median, elements))
}

// ---- kill chain (native) ----------------------------------------------------------------

pub(super) fn kill_chain(ctx: &mut Ctx) -> Vec<Row> {
    // The whole engagement (until idle, at most 2,000 simulated s), stopped after 300 wall s:
    // a run still going then is below 2,000 / 300 = 6.7x, so it cannot meet the goals (60x
    // native, 30x wasm) anyway.
    let (until, max_wall) = if ctx.quick { (100, 30) } else { (2000, 300) };
    let cmd_text = format!(
        "cargo run --release -p sim-core --example kill_chain -- 500 30 20 {until} {max_wall}"
    );
    let mut rows = vec![
        Row::new(
            "kill chain 500/30/20, launch to last impact (native)",
            "sim s/wall s",
            Goal::AtLeast(60.0),
            &cmd_text,
        ),
        Row::new(
            "kill chain 500/30/20, slowest 50 s window (native)",
            "sim s/wall s",
            Goal::AtLeast(20.0),
            &cmd_text,
        ),
    ];
    if let Err(e) = ctx.native_build() {
        fail_all(&mut rows, &e);
        return rows;
    }
    let mut cmd = Command::new(ctx.release("examples/kill_chain"));
    cmd.current_dir(root())
        .args(["500", "30", "20", &until.to_string(), &max_wall.to_string()]);
    let limit = Duration::from_secs(max_wall + 600);
    let ran = run_logged(&mut cmd, &ctx.logs.join("kill-chain.log"), limit);
    let result = ran.and_then(|r| parse::kill_chain(&r.output, "result "));
    if let Ok(k) = &result {
        ctx.kill_chain_native = Some(k.clone());
    }
    fill_kill_chain(&mut rows, result);
    rows
}

/// Fills the two kill-chain rows (whole run, slowest window) from a parsed result.
pub(super) fn fill_kill_chain(rows: &mut [Row], result: Result<parse::KillChain>) {
    match result {
        Err(e) => fail_all(rows, &e),
        Ok(k) => {
            let note = match k.ended.as_str() {
                "idle" => format!("{:.0} simulated s in {:.1} s", k.simulated_s, k.wall_s),
                "wall_budget" => format!(
                    "stopped at {:.0} simulated s after {:.0} wall s, before the last impact",
                    k.simulated_s, k.wall_s
                ),
                other => format!(
                    "{:.0} simulated s in {:.1} s, ended: {other}",
                    k.simulated_s, k.wall_s
                ),
            };
            rows[0].set(Ok(k.rate)).note = note.clone();
            rows[1].set(Ok(k.min_window)).note = note;
            if k.ended != "idle" {
                rows[0].spoiled = Some("not the whole engagement".into());
            }
        }
    }
}

// ---- Monte Carlo (native) ---------------------------------------------------------------

pub(super) fn montecarlo(ctx: &mut Ctx) -> Vec<Row> {
    let runs = if ctx.quick { 2 } else { 20 };
    let cmd_text = format!(
        "cargo run --release -p sim-core --bin mdsim -- montecarlo scenarios/socal-scud-c.json \
         --runs {runs} --threads 1 --json"
    );
    let mut rows = vec![Row::new(
        "Monte Carlo of socal-scud-c.json (native, one thread)",
        "runs/CPU-s",
        Goal::AtLeast(40.0),
        &cmd_text,
    )];
    if let Err(e) = ctx.native_build() {
        fail_all(&mut rows, &e);
        return rows;
    }
    let mut cmd = Command::new(ctx.release("mdsim"));
    cmd.current_dir(root()).args([
        "montecarlo",
        "scenarios/socal-scud-c.json",
        "--runs",
        &runs.to_string(),
        "--threads",
        "1",
        "--json",
    ]);
    let ran = run_logged(
        &mut cmd,
        &ctx.logs.join("montecarlo.log"),
        Duration::from_secs(1800),
    );
    let value = ran.and_then(|r| {
        let (per_wall_s, wall_s) = parse::montecarlo_json(&r.output)?;
        let cpu_s = r.cpu_s.filter(|c| *c > 0.0);
        rows[0].note = match cpu_s {
            Some(c) => format!(
                "{runs} runs, {c:.1} CPU-s, {wall_s:.1} wall s: {} runs/wall s",
                number(per_wall_s)
            ),
            None => format!("{runs} runs in {wall_s:.1} wall s; CPU time unreadable, per wall s"),
        };
        Ok(cpu_s.map_or(per_wall_s, |c| f64::from(runs) / c))
    });
    rows[0].set(value);
    rows
}

// ---- wasm in Node -----------------------------------------------------------------------

pub(super) fn wasm(ctx: &mut Ctx) -> Vec<Row> {
    let (until, max_wall, runs, reps) = if ctx.quick {
        (100, 30, 1, 3)
    } else {
        (2000, 300, 5, 5)
    };
    let cmd_text = format!(
        "KILL_CHAIN_UNTIL_S={until} KILL_CHAIN_MAX_WALL_S={max_wall} MONTECARLO_RUNS={runs} \
         SOLVE_REPS={reps} sim-core/tests/node/run.sh --bench"
    );
    let mut rows = vec![
        Row::new(
            "kill chain 500/30/20, launch to last impact (wasm, Node)",
            "sim s/wall s",
            Goal::AtLeast(30.0),
            &cmd_text,
        ),
        Row::new(
            "kill chain 500/30/20, slowest 50 s window (wasm, Node)",
            "sim s/wall s",
            Goal::AtLeast(20.0),
            &cmd_text,
        ),
        Row::new(
            "Monte Carlo of socal-scud-c.json (wasm in Node, one thread: proxy for the browser \
             worker)",
            "runs/s",
            Goal::AtLeast(20.0),
            &cmd_text,
        ),
    ];
    for (kind, goal) in SOLVER_GOALS_MS {
        rows.push(Row::new(
            format!("targeting solve {kind}, median (wasm, Node)"),
            "ms",
            Goal::AtMost(goal),
            &cmd_text,
        ));
    }
    let tools = match tools::Toolchain::ensure_wasm_package() {
        Ok(t) => t,
        Err(e) => {
            fail_all(&mut rows, &e);
            return rows;
        }
    };
    let mut cmd = Command::new("sh");
    cmd.current_dir(root())
        .args(["sim-core/tests/node/run.sh", "--bench"])
        .env("PATH", tools.path())
        .env("KILL_CHAIN_UNTIL_S", until.to_string())
        .env("KILL_CHAIN_MAX_WALL_S", max_wall.to_string())
        .env("MONTECARLO_RUNS", runs.to_string())
        .env("SOLVE_REPS", reps.to_string());
    // The builds (release mdsim and wasm package), the comparison, then the benchmarks.
    let limit = Duration::from_secs(max_wall + 3600);
    let output = match run_logged(&mut cmd, &ctx.logs.join("wasm.log"), limit) {
        Ok(r) => r.output,
        Err(e) => {
            fail_all(&mut rows, &e);
            return rows;
        }
    };
    let result = parse::kill_chain(&output, "bench wasm kill_chain result ");
    if let Ok(k) = &result {
        ctx.kill_chain_node = Some(k.clone());
    }
    fill_kill_chain(&mut rows[..2], result);
    rows[2].set(parse::number_after(
        &output,
        &format!("bench wasm montecarlo socal-scud-c {runs} runs: "),
    ));
    rows[2].note = format!("{runs} runs");
    for (i, (kind, _)) in SOLVER_GOALS_MS.iter().enumerate() {
        rows[3 + i].set(parse::number_after(
            &output,
            &format!("bench wasm solve_{kind}: "),
        ));
        rows[3 + i].note = format!("{reps} solves");
    }
    rows
}

// ---- REST under wrk ---------------------------------------------------------------------

/// The old Locust launch: a SCUD-C from 36.5N 123.1W at Los Angeles.
const LOCUST_PATH: &str =
    "/launch?lat=36.5&lon=-123.1&targetLat=34.05&targetLon=-118.25&missileType=SCUD-C";

/// wrk script: every request is the URL's `POST`.
const POST_LUA: &str = "wrk.method = \"POST\"\n";

/// wrk script: random SCUD-C launches, sites in a 5 x 5 degree box off California, targets
/// 150-450 km away in any direction (inside the SCUD-C's 80-527 km), seeded per thread.
const RANDOM_LUA: &str = r#"local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("seed", threads)
end
function init(args)
  math.randomseed(1000 + (seed or 0))
end
function request()
  local lat = 33 + 5 * math.random()
  local lon = -124 + 5 * math.random()
  local d = 150 + 300 * math.random()
  local b = 2 * math.pi * math.random()
  local tlat = lat + d * math.cos(b) / 111.2
  local tlon = lon + d * math.sin(b) / (111.2 * math.cos(math.rad(lat)))
  return wrk.format("POST", string.format(
    "/launch?lat=%.4f&lon=%.4f&targetLat=%.4f&targetLon=%.4f&missileType=SCUD-C",
    lat, lon, tlat, tlon))
end
"#;

pub(super) fn rest(ctx: &Ctx) -> Vec<Row> {
    let secs = if ctx.quick { 3 } else { 20 };
    let wrk_args = format!("wrk -t2 -c50 -d{secs}s --timeout 10s --latency");
    let fixed_cmd = format!(
        "{wrk_args} -s post.lua 'http://127.0.0.1:PORT{LOCUST_PATH}' (relay-server --release, \
         defaults, fresh data dir)"
    );
    let random_cmd = format!(
        "{wrk_args} -s random.lua http://127.0.0.1:PORT/ (script in xtask/src/bench/parts.rs)"
    );
    let mut rows = vec![
        Row::new(
            "REST `POST /launch`, the old Locust request: launches per second",
            "launches/s",
            Goal::AtLeast(3000.0),
            &fixed_cmd,
        ),
        Row::new(
            "REST `POST /launch`, the old Locust request: p99 latency",
            "ms",
            Goal::AtMost(50.0),
            &fixed_cmd,
        ),
        Row::new(
            "REST `POST /launch`, random sites and targets: launches per second",
            "launches/s",
            Goal::AtLeast(300.0),
            &random_cmd,
        ),
    ];
    let prepared = tools::ensure_wrk().and_then(|wrk| {
        let mut build = cargo();
        build.args([
            "build",
            "--release",
            "-p",
            "relay-server",
            "--bin",
            "relay-server",
        ]);
        run_logged(
            &mut build,
            &ctx.logs.join("build-relay.log"),
            Duration::from_secs(3600),
        )?;
        for (name, text) in [("post.lua", POST_LUA), ("random.lua", RANDOM_LUA)] {
            std::fs::write(ctx.logs.join(name), text).map_err(|e| e.to_string())?;
        }
        Ok(wrk)
    });
    let wrk = match prepared {
        Ok(w) => w,
        Err(e) => {
            fail_all(&mut rows, &e);
            return rows;
        }
    };
    // One fresh relay per run, so the second does not step the first one's missiles.
    let fixed = wrk_against_relay(ctx, &wrk, secs, "post.lua", LOCUST_PATH, "rest-locust");
    match fixed {
        Ok(w) => {
            let note = wrk_note(&w);
            rows[0].set(Ok(w.ok_per_s())).note = note.clone();
            rows[1].set(Ok(w.p99_s * 1e3)).note = format!("p50 {} ms", number(w.p50_s * 1e3));
            if w.timeouts > 0.0 {
                rows[1].spoiled = Some(format!(
                    "{} requests timed out after 10 s and are not in the percentile",
                    w.timeouts
                ));
            }
        }
        Err(e) => fail_all(&mut rows[..2], &e),
    }
    match wrk_against_relay(ctx, &wrk, secs, "random.lua", "/", "rest-random") {
        Ok(w) => {
            rows[2].set(Ok(w.ok_per_s())).note = format!(
                "{}; p50 {} ms, p99 {} ms",
                wrk_note(&w),
                number(w.p50_s * 1e3),
                number(w.p99_s * 1e3)
            );
        }
        Err(e) => rows[2].value = Err(e),
    }
    rows
}

fn wrk_note(w: &parse::Wrk) -> String {
    let mut s = format!("{} requests in {:.1} s", w.requests, w.seconds);
    if w.non_2xx > 0.0 {
        let _ = write!(s, ", {} not 2xx", w.non_2xx);
    }
    if w.timeouts > 0.0 || w.socket_errors > 0.0 {
        let _ = write!(
            s,
            ", {} timeouts, {} socket errors",
            w.timeouts, w.socket_errors
        );
    }
    s
}

/// Starts a fresh release relay on a free loopback port, runs wrk with `script` against
/// `path` for `secs` seconds, stops the relay.
fn wrk_against_relay(
    ctx: &Ctx,
    wrk: &Path,
    secs: u64,
    script: &str,
    path: &str,
    name: &str,
) -> Result<parse::Wrk> {
    let data = ctx.logs.join(format!("{name}-data"));
    let _ = std::fs::remove_dir_all(&data);
    std::fs::create_dir_all(&data).map_err(|e| e.to_string())?;
    let mut relay = RelayProcess::start(
        &ctx.release("relay-server"),
        &data,
        &ctx.logs.join(format!("{name}-relay.log")),
    )?;
    let mut cmd = Command::new(wrk);
    cmd.args([
        "-t2",
        "-c50",
        &format!("-d{secs}s"),
        "--timeout",
        "10s",
        "--latency",
        "-s",
    ])
    .arg(ctx.logs.join(script))
    .arg(format!("http://{}{path}", relay.addr));
    let ran = run_logged(
        &mut cmd,
        &ctx.logs.join(format!("{name}-wrk.log")),
        Duration::from_secs(secs + 60),
    );
    relay.stop();
    parse::wrk(&ran?.output)
}

// ---- browser (not re-run) ---------------------------------------------------------------

/// The figures the browser tests wrote to `target/browser-results.json` (the kill chain in
/// Chromium is the `chromium` part's, timed there).
pub(super) fn browser() -> Vec<Row> {
    let file = target_dir().join("browser-results.json");
    let source = "`cargo xtask test` (browser tests), target/browser-results.json";
    let mut rows = vec![
        Row::new(
            "web app: first load, gzipped (what the page fetches before its first map)",
            "kB",
            Goal::AtMost(400.0),
            source,
        ),
        Row::new(
            "web app: first drawn map after navigation",
            "ms",
            Goal::AtMost(500.0),
            source,
        ),
        Row::new(
            "web app: 500-missile raid at 64x, frame interval p95",
            "ms",
            Goal::None,
            source,
        ),
        Row::new(
            "Monte Carlo of socal-scud-c.json in the browser worker (Chromium)",
            "runs/s",
            Goal::AtLeast(20.0),
            source,
        ),
    ];
    let text = match std::fs::read_to_string(&file) {
        Ok(t) => t,
        Err(_) => {
            fail_all(
                &mut rows,
                &format!(
                    "{NOT_MEASURED}: no browser-results.json in the target directory (run \
                     `cargo xtask test`)"
                ),
            );
            return rows;
        }
    };
    let when = std::fs::metadata(&file)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| SystemTime::now().duration_since(t).ok())
        .map_or_else(String::new, |age| {
            format!(
                "from the last `cargo xtask test`, {} h ago",
                age.as_secs() / 3600
            )
        });
    let v: serde_json::Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => {
            fail_all(&mut rows, &format!("{} is not JSON: {e}", file.display()));
            return rows;
        }
    };
    let need = |x: Option<f64>, what: &str| x.ok_or(format!("no {what} in browser-results.json"));
    // Every file the page fetched before the first-map mark (map.test.mjs), not the whole
    // dist directory: the Monte Carlo worker and the 1:50m atlas load later, on demand.
    rows[0].set(need(
        v["first_load_gzip"].as_f64().map(|b| b / 1000.0),
        "first_load_gzip",
    ));
    rows[1].set(need(v["first_map_ms"].as_f64(), "first_map_ms"));
    rows[2].set(need(
        v["raid_500_at_64x"]["frame_p95_ms"].as_f64(),
        "raid_500_at_64x.frame_p95_ms",
    ));
    rows[3].set(need(
        v["montecarlo_socal_20"]["runs_per_s"].as_f64(),
        "montecarlo_socal_20.runs_per_s",
    ));
    for row in &mut rows {
        row.note.clone_from(&when);
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kill_chain_rows_flag_an_unfinished_engagement() {
        let mut rows = vec![
            Row::new("whole", "sim s/wall s", Goal::AtLeast(60.0), "c"),
            Row::new("window", "sim s/wall s", Goal::AtLeast(20.0), "c"),
        ];
        let k = parse::KillChain {
            rate: 70.0,
            min_window: 25.0,
            simulated_s: 400.0,
            wall_s: 5.7,
            ended: "wall_budget".into(),
            windows: Vec::new(),
        };
        fill_kill_chain(&mut rows, Ok(k.clone()));
        assert_eq!(rows[0].met(false), "**no**");
        assert_eq!(rows[1].met(false), "yes");
        fill_kill_chain(
            &mut rows,
            Ok(parse::KillChain {
                ended: "idle".into(),
                ..k
            }),
        );
        rows[0].spoiled = None;
        assert_eq!(rows[0].met(false), "yes");
        fill_kill_chain(&mut rows, Err("no result line".into()));
        assert!(rows.iter().all(|r| r.value == Err("no result line".into())));
    }
}
