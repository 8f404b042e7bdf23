//! `cargo xtask`: the project's automation, in Rust, with one dependency (`serde_json`, to read
//! the benchmark tools' JSON).
//!
//! - `cargo xtask serve [--port N] [--bind ADDR]`: installs what the build needs, builds the web
//!   app in release mode with Trunk and serves it with the relay (default `127.0.0.1:8080`).
//! - `cargo xtask test`: installs what the tests need, then runs every check and test of the
//!   project: formatting, clippy on the host and wasm targets, unit and integration tests,
//!   the wasm tests, the release build and the browser tests.
//! - `cargo xtask build`: the release build of the web app only (into `dist/`).
//! - `cargo xtask soak [--minutes N] [--no-kill-relay] [--seed N] [--release]`: the relay's soak
//!   in full (see [`soak`]); `cargo xtask test` runs its 75-second form.
//! - `cargo xtask setup [--browser]`: installs the tools and nothing else.
//! - `cargo xtask bench [--quick] [--only PART]`: runs the benchmark suite and prints one table
//!   of current figures against their goals (see [`bench`]).
//!
//! Invariants: every install is idempotent and pinned (Trunk [`TRUNK_VERSION`], the
//! `wasm-bindgen` CLI at exactly the version in `Cargo.lock`, Playwright from the committed
//! `package-lock.json`); nothing is ever downloaded from anywhere but the package registries;
//! a missing tool or a failed step ends with one sentence that says what to do.

mod bench;
mod soak;
mod tools;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

/// Result of an xtask step: the error is the one sentence shown to the user.
type Result<T = ()> = std::result::Result<T, String>;

const USAGE: &str = "\
Usage: cargo xtask <command> [options]

Commands:
  serve [--port N] [--bind ADDR]   build the web app (release) and serve it with the relay
                                   (default 127.0.0.1:8080; MDSIM_PORT also sets the port)
  test                             run every check and test of the project
  build                            build the web app in release mode into dist/
  bench [--quick] [--only PART]    run the benchmarks (release builds, bounded times) and print
                                   one table of figures against the goals; parts: criterion,
                                   kill-chain, montecarlo, wasm, chromium, rest, browser (repeat
                                   --only or separate with commas); --quick tests the harness only
  soak [--minutes N] [--no-kill-relay] [--seed N] [--release]
                                   the relay soak in full (default 30 minutes): two relays on
                                   NATS and PostgreSQL under load while nats-server, PostgreSQL,
                                   a durable consumer and a relay (unless --no-kill-relay) are
                                   killed and restarted; asserts nothing is lost, prints the report
  setup [--browser]                install the tools (and, for the tests: Chromium, nats-server, PostgreSQL + PostGIS, Prometheus)
  help                             show this message
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = match args.first().map(String::as_str) {
        Some("serve") => serve(&args[1..]),
        Some("test") => test(&args[1..]),
        Some("bench") => bench::bench(&args[1..]),
        Some("soak") => soak::soak(&args[1..]),
        Some("build") => tools::Toolchain::ensure(false).and_then(|t| build_web(&t)),
        Some("setup") => tools::Toolchain::ensure(args.iter().any(|a| a == "--browser")).map(drop),
        Some("help" | "--help" | "-h") | None => {
            print!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(format!("unknown command `{other}`; run `cargo xtask help`")),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root (the parent of this crate's directory).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}

/// The cargo target directory in use (`CARGO_TARGET_DIR` or `target/`).
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), PathBuf::from)
}

fn serve(args: &[String]) -> Result {
    let mut port: u16 = match std::env::var("MDSIM_PORT") {
        Ok(p) => p
            .parse()
            .map_err(|_| format!("MDSIM_PORT={p} is not a port number"))?,
        Err(_) => 8080,
    };
    let mut bind = "127.0.0.1".to_string();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--port" => {
                let value = it.next().ok_or("--port needs a value, e.g. --port 8080")?;
                port = value
                    .parse()
                    .map_err(|_| format!("--port {value} is not a port number"))?;
            }
            "--bind" => {
                bind = it
                    .next()
                    .ok_or("--bind needs an address, e.g. 127.0.0.1")?
                    .clone()
            }
            other => {
                return Err(format!(
                    "unknown option `{other}` for serve; run `cargo xtask help`"
                ));
            }
        }
    }
    // Fail before minutes of building, not after.
    check_port_free(&bind, port)?;

    let tools = tools::Toolchain::ensure(false)?;
    build_web(&tools)?;
    tools.cargo(&["build", "--release", "--locked", "-p", "relay-server"])?;
    let relay = target_dir().join("release").join("relay-server");
    let dist = root().join("dist");
    println!("serving the app on http://{bind}:{port} (Ctrl-C stops)");
    let mut cmd = Command::new(&relay);
    cmd.arg("--bind")
        .arg(&bind)
        .arg("--port")
        .arg(port.to_string())
        .arg("--dist-dir")
        .arg(&dist);
    exec(cmd)
}

fn check_port_free(bind: &str, port: u16) -> Result {
    match TcpListener::bind((bind, port)) {
        Ok(listener) => {
            drop(listener);
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => Err(format!(
            "port {port} on {bind} is already in use; stop the other process or pass --port N"
        )),
        Err(e) => Err(format!(
            "cannot listen on {bind}:{port} ({e}); pass --bind or --port"
        )),
    }
}

/// Replaces this process with `cmd` (so Ctrl-C and SIGTERM reach the relay directly).
#[cfg(unix)]
fn exec(mut cmd: Command) -> Result {
    use std::os::unix::process::CommandExt;
    let err = cmd.exec();
    Err(format!("cannot start {:?}: {err}", cmd.get_program()))
}

#[cfg(not(unix))]
fn exec(mut cmd: Command) -> Result {
    let status = cmd
        .status()
        .map_err(|e| format!("cannot start {:?}: {e}", cmd.get_program()))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("the relay exited with {status}"))
    }
}

/// `trunk build --release` into `dist/` (wasm-opt from `xtask/binaryen` on the `PATH`), then
/// the precompressed `.gz` and `.br` siblings the relay serves as they are
/// (`xtask/precompress.mjs`), so no request waits for the wasm to be compressed.
fn build_web(tools: &tools::Toolchain) -> Result {
    tools.run(
        Command::new(&tools.trunk)
            .current_dir(root())
            .args(["build", "--release"]),
    )?;
    tools.run(
        Command::new(&tools.node)
            .current_dir(root())
            .arg(root().join("xtask/precompress.mjs"))
            .arg(root().join("dist")),
    )
}

/// The sim-core integration tests that run under wasm (those using `wasm_bindgen_test`):
/// only these are compiled for wasm32, since the others would build and run nothing there.
fn wasm_test_targets() -> Result<Vec<String>> {
    let dir = root().join("sim-core/tests");
    let entries =
        std::fs::read_dir(&dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
    let mut names = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.extension().is_some_and(|e| e == "rs")
            && std::fs::read_to_string(&path).is_ok_and(|text| text.contains("wasm_bindgen_test"))
            && let Some(stem) = path.file_stem()
        {
            names.push(stem.to_string_lossy().into_owned());
        }
    }
    names.sort();
    if names.is_empty() {
        return Err("no wasm tests found in sim-core/tests (expected golden.rs)".to_string());
    }
    Ok(names)
}

/// One named step of the test command, timed.
struct Step {
    name: &'static str,
    elapsed: Duration,
}

fn test(args: &[String]) -> Result {
    if let Some(other) = args.first() {
        return Err(format!(
            "unknown option `{other}` for test; run `cargo xtask help`"
        ));
    }
    let started = Instant::now();
    let mut steps = Vec::new();
    let mut timed = |name: &'static str, f: &mut dyn FnMut() -> Result| -> Result {
        println!("\n==> {name}");
        let t = Instant::now();
        f().map_err(|e| format!("{name} failed: {e}"))?;
        steps.push(Step {
            name,
            elapsed: t.elapsed(),
        });
        Ok(())
    };

    let mut tools = None;
    timed("install tools", &mut || {
        tools = Some(tools::Toolchain::ensure(true)?);
        Ok(())
    })?;
    let tools = tools.expect("set by the step above");

    timed("cargo fmt --check", &mut || {
        tools.cargo(&["fmt", "--all", "--", "--check"])
    })?;
    timed("clippy (host)", &mut || {
        tools.cargo(&[
            "clippy",
            "--workspace",
            "--all-targets",
            "--locked",
            "--",
            "-D",
            "warnings",
        ])
    })?;
    timed("clippy (wasm32)", &mut || {
        tools.cargo(&[
            "clippy",
            "--locked",
            "--target",
            "wasm32-unknown-unknown",
            "-p",
            "sim-core",
            "-p",
            "web-app",
            "--no-default-features",
            "--",
            "-D",
            "warnings",
        ])
    })?;
    timed("tests (host)", &mut || {
        tools.cargo(&["test", "--workspace", "--locked"])
    })?;
    timed("tests (wasm32, Node)", &mut || {
        let mut args = vec![
            "test",
            "--locked",
            "-p",
            "sim-core",
            "--target",
            "wasm32-unknown-unknown",
            "--no-default-features",
        ];
        let wasm_tests = wasm_test_targets()?;
        args.extend(wasm_tests.iter().flat_map(|t| ["--test", t.as_str()]));
        tools.cargo(&args)
    })?;
    timed("sim-core wasm package vs native (Node)", &mut || {
        tools.run(
            Command::new("sh")
                .current_dir(root())
                .arg("sim-core/tests/node/run.sh"),
        )
    })?;
    timed("release build of the web app (trunk)", &mut || {
        build_web(&tools)
    })?;
    timed("browser tests (Chromium)", &mut || {
        // Built by `cargo test` above: the relay for its own integration tests, the
        // kill-chain example as every example (the native reference of
        // kill-chain.test.mjs).
        let relay = target_dir().join("debug").join("relay-server");
        let kill_chain = target_dir().join("debug/examples/kill_chain");
        for built in [&relay, &kill_chain] {
            if !built.is_file() {
                return Err(format!(
                    "{} is missing; the host tests build it",
                    built.display()
                ));
            }
        }
        tools.run(
            Command::new(&tools.node)
                .current_dir(root().join("tests/browser"))
                .args(["--test", "--test-reporter=spec", "--test-concurrency=1"])
                .env("MDSIM_RELAY_BIN", relay)
                .env("MDSIM_DIST_DIR", root().join("dist"))
                .env("MDSIM_RESULTS", target_dir().join("browser-results.json"))
                // The package `run.sh` built in the step before the release build.
                .env("MDSIM_SIM_CORE_PKG", target_dir().join("sim-core-pkg"))
                .env("MDSIM_KILL_CHAIN_BIN", kill_chain),
        )
    })?;

    println!("\nStep timings:");
    for step in &steps {
        println!("  {:>7.1} s  {}", step.elapsed.as_secs_f64(), step.name);
    }
    println!("  {:>7.1} s  total", started.elapsed().as_secs_f64());
    println!("steps: {} passed, 0 failed", steps.len());
    Ok(())
}
