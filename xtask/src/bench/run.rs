//! Running the benchmark commands: bounded in time, output to a log, CPU time of the
//! children from `/proc`, and the relay binary started and stopped for the REST part.
//! Everything started here is stopped here, by process id.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::parse;
use crate::{Result, root};

pub(super) fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(root());
    cmd
}

/// Removes the variables `cargo run` set for this xtask (`CARGO_MANIFEST_DIR`,
/// `CARGO_PKG_*`, ...) from a child's environment: build scripts that watch them (ring's
/// does) would otherwise see them change between `cargo xtask bench` and a plain `cargo
/// build`, and each would rebuild the release dependencies the other built.
fn without_cargo_run_env(cmd: &mut Command) {
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        if key.starts_with("CARGO_PKG_")
            || key.starts_with("CARGO_MANIFEST_")
            || matches!(
                key.as_ref(),
                "CARGO_CRATE_NAME" | "CARGO_BIN_NAME" | "CARGO_PRIMARY_PACKAGE"
            )
        {
            cmd.env_remove(key.as_ref());
        }
    }
}

/// What a bounded run gives back.
#[derive(Debug)]
pub(super) struct Ran {
    /// Standard output and error, interleaved as written.
    pub(super) output: String,
    /// CPU seconds (user + system) of the command and its waited-for children, when
    /// `/proc/self/stat` is readable.
    pub(super) cpu_s: Option<f64>,
}

/// Runs `cmd` with its output to `log`, for at most `limit`; a non-zero exit or a timeout is
/// an error that names the log.
pub(super) fn run_logged(cmd: &mut Command, log: &Path, limit: Duration) -> Result<Ran> {
    let shown = shown(cmd);
    println!("$ {shown}\n  (output: {})", log.display());
    let file = File::create(log).map_err(|e| format!("cannot create {}: {e}", log.display()))?;
    let err = file.try_clone().map_err(|e| e.to_string())?;
    without_cargo_run_env(cmd);
    let cpu_before = children_cpu_s();
    let t = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(file)
        .stderr(err)
        .spawn()
        .map_err(|e| format!("cannot run `{shown}`: {e}"))?;
    let status = wait_bounded(&mut child, limit)?;
    println!("  ({:.0} s)", t.elapsed().as_secs_f64());
    let cpu_s = match (cpu_before, children_cpu_s()) {
        (Some(a), Some(b)) => Some((b - a) / clock_ticks()),
        _ => None,
    };
    let output = std::fs::read_to_string(log).unwrap_or_default();
    match status {
        Some(s) if s.success() => Ok(Ran { output, cpu_s }),
        Some(s) => Err(format!(
            "`{}` exited with {s}; see {}",
            short(&shown),
            log.display()
        )),
        None => Err(format!(
            "`{}` took more than {} s and was stopped; see {}",
            short(&shown),
            limit.as_secs(),
            log.display()
        )),
    }
}

/// Waits for `child` at most `limit`; past it, kills it and every process it started and
/// returns `None`.
pub(super) fn wait_bounded(
    child: &mut Child,
    limit: Duration,
) -> Result<Option<std::process::ExitStatus>> {
    let t = Instant::now();
    loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            return Ok(Some(status));
        }
        if t.elapsed() > limit {
            kill_tree(child);
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Kills `child` and its descendants (found by parent pid in `/proc`), by pid.
pub(super) fn kill_tree(child: &mut Child) {
    let mut pids = vec![child.id()];
    let mut i = 0;
    while i < pids.len() {
        let parent = pids[i];
        pids.extend(children_of(parent));
        i += 1;
    }
    // Descendants first, so none is re-parented and missed.
    for pid in pids.iter().skip(1).rev() {
        let _ = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .stderr(Stdio::null())
            .status();
    }
    let _ = child.kill();
    let _ = child.wait();
}

pub(super) fn children_of(parent: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|stat| {
                    let after = stat[stat.rfind(')')? + 1..].to_string();
                    after.split_whitespace().nth(1)?.parse::<u32>().ok()
                })
                == Some(parent)
        })
        .collect()
}

pub(super) fn shown(cmd: &Command) -> String {
    let envs: Vec<String> = cmd
        .get_envs()
        .filter_map(|(k, v)| Some(format!("{}={}", k.to_string_lossy(), v?.to_string_lossy())))
        .filter(|e| !e.starts_with("PATH="))
        .collect();
    let mut parts = envs;
    let program = cmd.get_program().to_string_lossy().into_owned();
    parts.push(match program.rsplit_once('/') {
        Some((_, "cargo")) => "cargo".to_string(),
        _ => program,
    });
    parts.extend(cmd.get_args().map(|a| a.to_string_lossy().into_owned()));
    parts.join(" ")
}

/// A command shortened for an error message.
pub(super) fn short(shown: &str) -> String {
    if shown.len() <= 80 {
        shown.to_string()
    } else {
        let cut = (0..=77)
            .rev()
            .find(|&i| shown.is_char_boundary(i))
            .unwrap_or(0);
        format!("{}...", &shown[..cut])
    }
}

pub(super) fn read_load() -> Option<f64> {
    parse::load_average(&std::fs::read_to_string("/proc/loadavg").ok()?)
}

pub(super) fn uptime() -> String {
    Command::new("uptime")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .or_else(|| {
            std::fs::read_to_string("/proc/loadavg")
                .ok()
                .map(|l| format!("load average {}", l.trim()))
        })
        .unwrap_or_else(|| "load average unknown".to_string())
}

pub(super) fn commit() -> String {
    let git = |args: &[&str]| {
        Command::new("git")
            .current_dir(root())
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let head = git(&["rev-parse", "--short", "HEAD"]).unwrap_or_else(|| "unknown".into());
    let dirty =
        git(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
    let date = Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    format!(
        "commit `{head}`{} on {date}",
        if dirty {
            " with uncommitted changes"
        } else {
            ""
        }
    )
}

pub(super) fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

pub(super) fn children_cpu_s() -> Option<f64> {
    parse::children_cpu_ticks(&std::fs::read_to_string("/proc/self/stat").ok()?)
}

/// The relay binary, started like `relay-server/tests/binary.rs` does: port 0 on loopback,
/// its own data directory, no dist needed; stopped with SIGTERM (killed if it lingers).
pub(super) struct RelayProcess {
    child: Child,
    pub(super) addr: String,
}

impl RelayProcess {
    pub(super) fn start(bin: &Path, data: &Path, log: &Path) -> Result<RelayProcess> {
        let err = File::create(log).map_err(|e| format!("cannot create {}: {e}", log.display()))?;
        let mut child = Command::new(bin)
            .current_dir(root())
            .args(["--bind", "127.0.0.1", "--port", "0", "--allow-missing-dist"])
            .arg("--data-dir")
            .arg(data)
            .args(["--log-level", "warn"])
            // Room for 20 s of launches at 10,000/s: the figure is the pace, not the
            // public room's capacity (40,000 missiles by default; 503s past it).
            .args(["--room-capacity", "250000"])
            .env_remove("MDSIM_PORT")
            .env_remove("MDSIM_BIND")
            .env_remove("MDSIM_DATABASE_URL")
            .env_remove("MDSIM_NATS_URL")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(err)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        let stdout = child.stdout.take().expect("piped above");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let line = rx.recv_timeout(Duration::from_secs(60));
        match line
            .ok()
            .as_deref()
            .and_then(|l| l.strip_prefix("listening on http://"))
        {
            Some(addr) => {
                let addr = addr.trim().to_string();
                println!("  relay listening on {addr} (log: {})", log.display());
                Ok(RelayProcess { child, addr })
            }
            None => {
                kill_tree(&mut child);
                Err(format!(
                    "the relay did not say `listening on` within 60 s; see {}",
                    log.display()
                ))
            }
        }
    }

    pub(super) fn stop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        if !matches!(
            wait_bounded(&mut self.child, Duration::from_secs(15)),
            Ok(Some(_))
        ) {
            kill_tree(&mut self.child);
        }
    }
}

impl Drop for RelayProcess {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            kill_tree(&mut self.child);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target_dir;

    #[test]
    fn a_bounded_run_stops_what_it_started() {
        let dir = target_dir().join("bench-logs-test");
        std::fs::create_dir_all(&dir).unwrap();
        let ok = run_logged(
            Command::new("sh").args(["-c", "echo out; echo err >&2"]),
            &dir.join("ok.log"),
            Duration::from_secs(30),
        )
        .unwrap();
        assert!(ok.output.contains("out") && ok.output.contains("err"));
        let failed = run_logged(
            Command::new("sh").args(["-c", "exit 3"]),
            &dir.join("fail.log"),
            Duration::from_secs(30),
        );
        assert!(failed.unwrap_err().contains("exited with"));
        // A shell whose child sleeps: both are stopped at the bound.
        let pid_file = dir.join("sleep.pid");
        let _ = std::fs::remove_file(&pid_file);
        let t = Instant::now();
        let slow = run_logged(
            Command::new("sh")
                .arg("-c")
                .arg(format!("sleep 30 & echo $! > {}; wait", pid_file.display())),
            &dir.join("slow.log"),
            Duration::from_millis(500),
        );
        assert!(slow.unwrap_err().contains("was stopped"));
        assert!(t.elapsed() < Duration::from_secs(10));
        let sleep_pid = std::fs::read_to_string(&pid_file).unwrap();
        // Killed and reaped by init, or at worst a zombie.
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", sleep_pid.trim()));
        assert!(
            stat.as_ref().map_or(true, |s| s.contains(") Z ")),
            "the grandchild still runs: {stat:?}"
        );
    }
}
