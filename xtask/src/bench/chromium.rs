//! The `chromium` part of `cargo xtask bench`: the 500/30/20 kill chain in headless Chromium.
//!
//! It builds the sim-core wasm package as the Node part does (`sim-core/tests/node/run.sh
//! --bench --build-only`: release, `--target web`, feature `js`), then runs
//! `tests/browser/kill-chain-bench.mjs`, which serves that package to a page in the project's
//! Chromium and runs there the loop Node runs (`sim-core/tests/node/kill_chain.mjs`): the same
//! workload, parameters and figures (whole run, slowest 50 s window). A figure counts only if
//! the run was the real workload: the state hash and rounds fired at the end of every window
//! must equal the native example's (`examples/kill_chain.rs`), taken from the `kill-chain`
//! part when it ran that far, else run here up to where Chromium stopped; the Node run's
//! windows, when the `wasm` part ran, are compared too.

use std::process::Command;
use std::time::Duration;

use super::parts::fill_kill_chain;
use super::run::run_logged;
use super::{Ctx, Goal, Row, fail_all, parse};
use crate::{Result, root, target_dir, tools};

pub(super) fn chromium(ctx: &mut Ctx) -> Vec<Row> {
    // As for Node: the whole engagement, stopped after the first window past 300 wall s (a
    // run still going then is below 2,000 / 300 = 6.7x and cannot meet the goal anyway).
    let (until, max_wall) = if ctx.quick { (100, 30) } else { (2000, 300) };
    let pkg = target_dir().join("sim-core-pkg");
    let cmd_text = format!(
        "sim-core/tests/node/run.sh --bench --build-only && node \
         tests/browser/kill-chain-bench.mjs --pkg $CARGO_TARGET_DIR/sim-core-pkg --until {until} \
         --max-wall {max_wall} (state checked against `examples/kill_chain`)"
    );
    let mut rows = vec![
        Row::new(
            "kill chain 500/30/20, launch to last impact (wasm, Chromium)",
            "sim s/wall s",
            Goal::AtLeast(30.0),
            &cmd_text,
        ),
        Row::new(
            "kill chain 500/30/20, slowest 50 s window (wasm, Chromium)",
            "sim s/wall s",
            Goal::AtLeast(20.0),
            &cmd_text,
        ),
    ];
    let tools = match tools::Toolchain::ensure_chromium_runner() {
        Ok(t) => t,
        Err(e) => {
            fail_all(&mut rows, &e);
            return rows;
        }
    };
    let mut build = Command::new("sh");
    build
        .current_dir(root())
        .args(["sim-core/tests/node/run.sh", "--bench", "--build-only"])
        .env("PATH", tools.path());
    if let Err(e) = run_logged(
        &mut build,
        &ctx.logs.join("chromium-build.log"),
        Duration::from_secs(3600),
    ) {
        fail_all(&mut rows, &e);
        return rows;
    }
    let mut cmd = Command::new(&tools.node);
    cmd.current_dir(root())
        .arg("tests/browser/kill-chain-bench.mjs")
        .arg("--pkg")
        .arg(&pkg)
        .args(["--until", &until.to_string()])
        .args(["--max-wall", &max_wall.to_string()])
        .env("PATH", tools.path());
    // The loop stops after the first window past max_wall; a window of the slowest phase
    // takes minutes at worst, and Chromium starts in seconds.
    let limit = Duration::from_secs(max_wall + 900);
    let result = run_logged(&mut cmd, &ctx.logs.join("chromium.log"), limit)
        .and_then(|r| parse::kill_chain(&r.output, "bench chromium kill_chain result "))
        .and_then(|k| {
            let checked = same_as_references(ctx, &k)?;
            Ok((k, checked))
        });
    match result {
        Ok((k, checked)) => {
            fill_kill_chain(&mut rows, Ok(k));
            for row in &mut rows {
                row.note.push_str("; ");
                row.note.push_str(&checked);
            }
        }
        Err(e) => fill_kill_chain(&mut rows, Err(e)),
    }
    rows
}

/// Checks the Chromium run's states against native (required: run here when the `kill-chain`
/// part did not reach as far) and Node (when the `wasm` part ran); says what was compared.
fn same_as_references(ctx: &mut Ctx, chromium: &parse::KillChain) -> Result<String> {
    if chromium.windows.is_empty() {
        return Err("the Chromium run recorded no window state to check".to_string());
    }
    let native = match ctx
        .kill_chain_native
        .clone()
        .filter(|n| chromium.covered_by(n))
    {
        Some(n) => n,
        None => native_reference(ctx, chromium)?,
    };
    let n = chromium
        .same_state_as(&native)
        .map_err(|e| format!("not the native workload's state: {e}"))?;
    if n != chromium.windows.len() {
        return Err(format!(
            "the native run reached only {n} of the Chromium run's {} windows",
            chromium.windows.len()
        ));
    }
    let mut said = format!("state identical to native at all {n} windows");
    if let Some(node) = &ctx.kill_chain_node {
        let m = chromium
            .same_state_as(node)
            .map_err(|e| format!("not the Node run's state: {e}"))?;
        if m > 0 {
            said.push_str(&format!(" and to Node at {m}"));
        }
    }
    Ok(said)
}

/// Runs the native example up to where the Chromium run stopped (the end of its last window,
/// or until idle when it reached the last impact).
fn native_reference(ctx: &mut Ctx, chromium: &parse::KillChain) -> Result<parse::KillChain> {
    ctx.native_build()?;
    let last = chromium.windows.last().map_or(0.0, |w| w.to_s);
    let until = if chromium.ended == "idle" {
        2000.0
    } else {
        last
    };
    let mut cmd = Command::new(ctx.release("examples/kill_chain"));
    cmd.current_dir(root())
        .args(["500", "30", "20", &until.to_string()]);
    // Native is faster than wasm; twice the Chromium run's time bounds it generously.
    let limit = Duration::from_secs_f64(2.0 * chromium.wall_s + 600.0);
    let ran = run_logged(
        &mut cmd,
        &ctx.logs.join("chromium-native-reference.log"),
        limit,
    )?;
    parse::kill_chain(&ran.output, "result ")
}
