//! Readers of what the benchmark tools print: criterion's `estimates.json` and
//! `benchmark.json`, the kill chain's `result {...}` line (native example and wasm in Node),
//! `mdsim montecarlo --json`, the Node bench lines, `wrk --latency` and `/proc` figures.
//!
//! Every reader takes the text and returns the figures or one sentence saying what was
//! missing, so a changed output format shows up as "failed: ..." in the table, never as a
//! wrong number. They are tested below on outputs captured from the real tools.

use serde_json::Value;

use crate::Result;

/// The median of a criterion `new/estimates.json`, in seconds (criterion writes nanoseconds).
pub fn criterion_median_s(estimates_json: &str) -> Result<f64> {
    let v: Value = serde_json::from_str(estimates_json)
        .map_err(|e| format!("estimates.json is not JSON: {e}"))?;
    v["median"]["point_estimate"]
        .as_f64()
        .filter(|ns| ns.is_finite() && *ns > 0.0)
        .map(|ns| ns * 1e-9)
        .ok_or_else(|| "estimates.json has no positive median.point_estimate".to_string())
}

/// The element count of a criterion `new/benchmark.json` (`throughput: {"Elements": n}`).
pub fn criterion_elements(benchmark_json: &str) -> Result<f64> {
    let v: Value = serde_json::from_str(benchmark_json)
        .map_err(|e| format!("benchmark.json is not JSON: {e}"))?;
    v["throughput"]["Elements"]
        .as_f64()
        .filter(|n| *n > 0.0)
        .ok_or_else(|| "benchmark.json has no Elements throughput".to_string())
}

/// The kill chain's figures: the whole run and its slowest 50 s window.
#[derive(Debug, Clone, PartialEq)]
pub struct KillChain {
    /// Simulated seconds per wall second over the whole run (setup excluded).
    pub rate: f64,
    /// The slowest window's simulated seconds per wall second.
    pub min_window: f64,
    /// Simulated seconds covered.
    pub simulated_s: f64,
    /// Wall seconds taken.
    pub wall_s: f64,
    /// `idle` (launch to last impact), `until` or `wall_budget`.
    pub ended: String,
    /// The windows that recorded the state at their end (older outputs did not).
    pub windows: Vec<Window>,
}

/// The state at the end of one kill-chain window.
#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    /// Simulation time at the window's end, seconds (the same double in every run).
    pub to_s: f64,
    /// The simulation's state hash, 16 hexadecimal digits.
    pub state_hash: String,
    /// Rounds fired by all batteries so far.
    pub rounds_fired: u64,
}

impl KillChain {
    /// Compares the windows this run and `reference` both reached (same end time): `Ok(n)`
    /// with the number compared, or the first differences. Only windows of this run whose
    /// end the reference reached count; `Ok(0)` means there was nothing to compare.
    pub fn same_state_as(&self, reference: &KillChain) -> Result<usize> {
        let mut compared = 0;
        let mut diffs = Vec::new();
        for w in &self.windows {
            let Some(r) = reference.windows.iter().find(|r| r.to_s == w.to_s) else {
                continue;
            };
            compared += 1;
            if r.state_hash != w.state_hash {
                diffs.push(format!(
                    "state hash at {} s: {} != {}",
                    w.to_s, w.state_hash, r.state_hash
                ));
            }
            if r.rounds_fired != w.rounds_fired {
                diffs.push(format!(
                    "rounds fired at {} s: {} != {}",
                    w.to_s, w.rounds_fired, r.rounds_fired
                ));
            }
        }
        if diffs.is_empty() {
            Ok(compared)
        } else {
            diffs.truncate(3);
            Err(diffs.join("; "))
        }
    }

    /// Whether `reference` reached the end of every window of this run.
    pub fn covered_by(&self, reference: &KillChain) -> bool {
        self.windows
            .iter()
            .all(|w| reference.windows.iter().any(|r| r.to_s == w.to_s))
    }
}

/// Reads the line that starts with `prefix` followed by the kill chain's JSON result.
pub fn kill_chain(output: &str, prefix: &str) -> Result<KillChain> {
    let line = output
        .lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix(prefix))
        .ok_or_else(|| format!("no `{prefix}{{...}}` line in the output"))?;
    let v: Value =
        serde_json::from_str(line).map_err(|e| format!("the result line is not JSON: {e}"))?;
    let num = |key: &str| {
        v[key]
            .as_f64()
            .ok_or_else(|| format!("the result line has no number `{key}`"))
    };
    Ok(KillChain {
        rate: num("sim_s_per_wall_s")?,
        min_window: num("min_window_sim_s_per_wall_s")?,
        simulated_s: num("simulated_s")?,
        wall_s: num("wall_s")?,
        ended: v["ended"].as_str().unwrap_or("unknown").to_string(),
        windows: v["windows"]
            .as_array()
            .map(|ws| {
                ws.iter()
                    .filter_map(|w| {
                        Some(Window {
                            to_s: w["to_s"].as_f64()?,
                            state_hash: w["state_hash"].as_str()?.to_string(),
                            rounds_fired: w["rounds_fired"].as_u64()?,
                        })
                    })
                    .collect()
            })
            .unwrap_or_default(),
    })
}

/// `runs_per_s` and `wall_s` of `mdsim montecarlo --json`.
pub fn montecarlo_json(output: &str) -> Result<(f64, f64)> {
    let v: Value = serde_json::from_str(output.trim())
        .map_err(|e| format!("mdsim's output is not JSON: {e}"))?;
    match (v["runs_per_s"].as_f64(), v["wall_s"].as_f64()) {
        (Some(r), Some(w)) => Ok((r, w)),
        _ => Err("mdsim's JSON has no runs_per_s and wall_s".to_string()),
    }
}

/// The number after `key` on the line of `output` that contains `key`, e.g.
/// `number_after(out, "bench wasm solve_SCUD-C: ")` for
/// `bench wasm solve_SCUD-C: 1.23 ms median of 5 solves`. A line saying `failed: ...` gives
/// that reason.
pub fn number_after(output: &str, key: &str) -> Result<f64> {
    let line = output
        .lines()
        .find(|l| l.contains(key))
        .ok_or_else(|| format!("no `{}` line in the output", key.trim()))?;
    let rest = &line[line.find(key).map_or(0, |i| i + key.len())..];
    if let Some(reason) = line.split_once("failed: ") {
        return Err(reason.1.trim().to_string());
    }
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == 'e'))
        .unwrap_or(rest.len());
    rest[..end]
        .parse()
        .map_err(|_| format!("no number after `{}` in {line:?}", key.trim()))
}

/// What `wrk --latency` reports.
#[derive(Debug, Clone, PartialEq)]
pub struct Wrk {
    /// Completed requests (any status).
    pub requests: f64,
    /// The run's duration, seconds.
    pub seconds: f64,
    /// Responses with a status other than 2xx or 3xx.
    pub non_2xx: f64,
    /// Requests that timed out (not in the latency distribution).
    pub timeouts: f64,
    /// Connect, read and write errors.
    pub socket_errors: f64,
    /// Median latency, seconds.
    pub p50_s: f64,
    /// 99th percentile latency, seconds.
    pub p99_s: f64,
}

impl Wrk {
    /// Successful (2xx or 3xx) requests per second.
    pub fn ok_per_s(&self) -> f64 {
        (self.requests - self.non_2xx).max(0.0) / self.seconds
    }
}

/// Parses `wrk --latency` output.
pub fn wrk(output: &str) -> Result<Wrk> {
    let mut requests = None;
    let mut seconds = None;
    let (mut non_2xx, mut timeouts, mut socket_errors) = (0.0, 0.0, 0.0);
    let (mut p50, mut p99) = (None, None);
    for line in output.lines().map(str::trim) {
        if let Some((count, rest)) = line.split_once(" requests in ") {
            requests = count.trim().parse::<f64>().ok();
            seconds = rest.split(',').next().and_then(wrk_duration_s);
        } else if let Some(rest) = line.strip_prefix("Non-2xx or 3xx responses:") {
            non_2xx = rest.trim().parse().unwrap_or(0.0);
        } else if let Some(rest) = line.strip_prefix("Socket errors:") {
            for part in rest.split(',') {
                let mut words = part.split_whitespace();
                let (Some(kind), Some(n)) = (words.next(), words.next()) else {
                    continue;
                };
                let n: f64 = n.parse().unwrap_or(0.0);
                if kind == "timeout" {
                    timeouts += n;
                } else {
                    socket_errors += n;
                }
            }
        } else if let Some(rest) = line.strip_prefix("50%") {
            p50 = wrk_duration_s(rest.trim());
        } else if let Some(rest) = line.strip_prefix("99%") {
            p99 = wrk_duration_s(rest.trim());
        }
    }
    let (Some(requests), Some(seconds)) = (requests, seconds) else {
        return Err("no `N requests in T` line in wrk's output".to_string());
    };
    if seconds <= 0.0 {
        return Err("wrk ran for no time".to_string());
    }
    Ok(Wrk {
        requests,
        seconds,
        non_2xx,
        timeouts,
        socket_errors,
        // With no completed request wrk prints 0us percentiles.
        p50_s: p50.ok_or("no latency distribution (run wrk with --latency)")?,
        p99_s: p99.ok_or("no latency distribution (run wrk with --latency)")?,
    })
}

/// A wrk duration (`812.00us`, `9.38ms`, `1.02s`, `1.00m`, `20.01s`) in seconds.
fn wrk_duration_s(text: &str) -> Option<f64> {
    let text = text.trim();
    let split = text.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = text.split_at(split);
    let scale = match unit {
        "us" => 1e-6,
        "ms" => 1e-3,
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        _ => return None,
    };
    number.trim().parse::<f64>().ok().map(|n| n * scale)
}

/// The 1-minute load average from `/proc/loadavg` (`0.52 0.58 0.59 1/123 4567`).
pub fn load_average(loadavg: &str) -> Option<f64> {
    loadavg.split_whitespace().next()?.parse().ok()
}

/// User + system CPU clock ticks of the waited-for children, from `/proc/self/stat` (fields
/// 16 `cutime` and 17 `cstime`, counted after the `(comm)` field, which may hold spaces).
pub fn children_cpu_ticks(stat: &str) -> Option<f64> {
    let after = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    // `after` starts at field 3 (state), so field n is at index n - 3.
    let cutime: f64 = fields.get(13)?.parse().ok()?;
    let cstime: f64 = fields.get(14)?.parse().ok()?;
    Some(cutime + cstime)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `target/criterion/tracker/plots_1000_objects_10_radars/new/estimates.json` (criterion 0.8).
    const ESTIMATES: &str = r#"{"mean":{"confidence_interval":{"confidence_level":0.95,"lower_bound":47912345.1,"upper_bound":49012345.2},"point_estimate":48456789.0,"standard_error":280000.5},"median":{"confidence_interval":{"confidence_level":0.95,"lower_bound":47000000.0,"upper_bound":48500000.0},"point_estimate":47123456.0,"standard_error":310000.0},"median_abs_dev":{"confidence_interval":{"confidence_level":0.95,"lower_bound":300000.0,"upper_bound":900000.0},"point_estimate":600000.0,"standard_error":150000.0},"slope":null,"std_dev":{"confidence_interval":{"confidence_level":0.95,"lower_bound":500000.0,"upper_bound":1500000.0},"point_estimate":900000.0,"standard_error":250000.0}}"#;
    const BENCHMARK: &str = r#"{"group_id":"tracker","function_id":"plots_1000_objects_10_radars","value_str":null,"throughput":{"Elements":10000},"full_id":"tracker/plots_1000_objects_10_radars","directory_name":"tracker/plots_1000_objects_10_radars","title":"tracker/plots_1000_objects_10_radars"}"#;

    #[test]
    fn reads_criterion_medians_and_throughput() {
        let median = criterion_median_s(ESTIMATES).unwrap();
        assert!((median - 0.047_123_456).abs() < 1e-12, "{median}");
        assert_eq!(criterion_elements(BENCHMARK).unwrap(), 10_000.0);
        assert!(criterion_median_s("{}").is_err());
        assert!(criterion_median_s("not json").is_err());
        assert!(criterion_elements(r#"{"throughput":null}"#).is_err());
    }

    const KILL_CHAIN: &str = "\
500 missiles, 30 radars, 20 batteries: setup 1.20 s
    0-  50 s:  80.10 simulated s per wall s; 250 missiles flying, 110 tracks, 0 rounds fired, predictions reused/computed (0, 0)
   50- 100 s:  25.00 simulated s per wall s; 500 missiles flying, 363 tracks, 0 rounds fired, predictions reused/computed (0, 1500)
  100- 123 s:  90.00 simulated s per wall s; 0 missiles flying, 3 tracks, 40 rounds fired, predictions reused/computed (10, 1600)
total: 123.0 simulated s in 3.1 wall s: 39.68 simulated s per wall s (idle)
result {\"batteries\":20,\"ended\":\"idle\",\"min_window_sim_s_per_wall_s\":25.0,\"missiles\":500,\"radars\":30,\"setup_s\":1.2,\"sim_s_per_wall_s\":39.68,\"simulated_s\":123.0,\"wall_s\":3.1,\"windows\":[{\"from_s\":0.0,\"sim_s_per_wall_s\":80.1,\"to_s\":50.0},{\"from_s\":50.0,\"sim_s_per_wall_s\":25.0,\"to_s\":100.0}]}
";

    #[test]
    fn reads_the_kill_chain_result_line() {
        let k = kill_chain(KILL_CHAIN, "result ").unwrap();
        assert_eq!(k.rate, 39.68);
        assert_eq!(k.min_window, 25.0);
        assert_eq!((k.simulated_s, k.wall_s), (123.0, 3.1));
        assert_eq!(k.ended, "idle");
        let node = "bench wasm kill_chain 0-50 s: 7.74 simulated s per wall s\n\
            bench wasm kill_chain result {\"missiles\":500,\"sim_s_per_wall_s\":7.5,\
            \"min_window_sim_s_per_wall_s\":1.04,\"simulated_s\":150,\"wall_s\":20,\
            \"windows\":[],\"ended\":\"wall_budget\"}\n";
        let k = kill_chain(node, "bench wasm kill_chain result ").unwrap();
        assert_eq!((k.rate, k.min_window), (7.5, 1.04));
        assert_eq!(k.ended, "wall_budget");
        assert!(kill_chain("total: 1 s", "result ").is_err());
        assert!(k.windows.is_empty());
        // No window at all (the run stopped at once): the minimum is null, which is an error.
        assert!(kill_chain("result {\"sim_s_per_wall_s\":1,\"min_window_sim_s_per_wall_s\":null,\"simulated_s\":0,\"wall_s\":0}", "result ").is_err());
    }

    /// Per-window states as `examples/kill_chain.rs` prints them (serde_json sorts the keys)
    /// and as the JavaScript loop `kill_chain.mjs` does (insertion order, integral times
    /// without a decimal point).
    #[test]
    fn compares_kill_chain_states_window_by_window() {
        let native = "result {\"ended\":\"until\",\"min_window_sim_s_per_wall_s\":55.7,\
            \"sim_s_per_wall_s\":74.8,\"simulated_s\":149.9,\"wall_s\":2.0,\"windows\":[\
            {\"from_s\":0.1,\"rounds_fired\":0,\"sim_s_per_wall_s\":114.4,\"state_hash\":\"568650d90a6c5f32\",\"to_s\":50.0},\
            {\"from_s\":50.0,\"rounds_fired\":0,\"sim_s_per_wall_s\":55.7,\"state_hash\":\"775042ed696e3c9e\",\"to_s\":100.0},\
            {\"from_s\":100.0,\"rounds_fired\":12,\"sim_s_per_wall_s\":60.0,\"state_hash\":\"0123456789abcdef\",\"to_s\":150.0}]}";
        let native = kill_chain(native, "result ").unwrap();
        assert_eq!(native.windows.len(), 3);
        assert_eq!(native.windows[2].rounds_fired, 12);
        let chromium = |second_hash: &str| {
            let line = format!(
                "bench chromium kill_chain result {{\"sim_s_per_wall_s\":36.4,\
                 \"min_window_sim_s_per_wall_s\":28.0,\"simulated_s\":99.9,\"wall_s\":2.7,\
                 \"windows\":[{{\"from_s\":0.1,\"to_s\":50,\"sim_s_per_wall_s\":52.6,\
                 \"state_hash\":\"568650d90a6c5f32\",\"rounds_fired\":0}},{{\"from_s\":50,\
                 \"to_s\":100,\"sim_s_per_wall_s\":28.0,\"state_hash\":\"{second_hash}\",\
                 \"rounds_fired\":0}}],\"ended\":\"wall_budget\"}}"
            );
            kill_chain(&line, "bench chromium kill_chain result ").unwrap()
        };
        let same = chromium("775042ed696e3c9e");
        assert!(same.covered_by(&native));
        assert_eq!(same.same_state_as(&native), Ok(2));
        let err = chromium("775042ed696e3c9f")
            .same_state_as(&native)
            .unwrap_err();
        assert!(err.contains("state hash at 100 s"), "{err}");
        // A reference that stopped earlier covers only part of the run.
        let short = KillChain {
            windows: native.windows[..1].to_vec(),
            ..native.clone()
        };
        assert!(!same.covered_by(&short));
        assert_eq!(same.same_state_as(&short), Ok(1));
        // An output without states compares nothing.
        let old = kill_chain(KILL_CHAIN, "result ").unwrap();
        assert!(old.windows.is_empty());
        assert_eq!(same.same_state_as(&old), Ok(0));
    }

    #[test]
    fn reads_mdsim_montecarlo_json() {
        let out = r#"{"base_seed":1,"report":{"leak":null},"runs_per_s":1.25,"scenario":"SoCal","threads":1,"wall_s":16.0}"#;
        assert_eq!(montecarlo_json(out).unwrap(), (1.25, 16.0));
        assert!(montecarlo_json("scenario 'SoCal': 20 runs").is_err());
    }

    #[test]
    fn reads_node_bench_lines() {
        let out = "ok   scenarios/socal-scud-c.json: 812 events identical\n\
            bench wasm montecarlo socal-scud-c 5 runs: 1.10 runs/s (leak 0.06, 1.7 interceptors per run)\n\
            bench wasm solve_SCUD-C: 310.52 ms median of 5 solves\n\
            bench wasm solve_ICBM: failed: ICBM range 8900 km is beyond 527 km\n";
        assert_eq!(
            number_after(out, "bench wasm montecarlo socal-scud-c 5 runs: ").unwrap(),
            1.10
        );
        assert_eq!(
            number_after(out, "bench wasm solve_SCUD-C: ").unwrap(),
            310.52
        );
        let err = number_after(out, "bench wasm solve_NODONG: ").unwrap_err();
        assert!(err.contains("no `bench wasm solve_NODONG:` line"), "{err}");
        let err = number_after(out, "bench wasm solve_ICBM: ").unwrap_err();
        assert!(err.contains("beyond 527 km"), "{err}");
    }

    /// `wrk -t2 -c50 -d20s --latency -s post.lua http://127.0.0.1:PORT/launch?...` (wrk 4.1.0).
    const WRK: &str = "\
Running 20s test @ http://127.0.0.1:40123/launch?lat=36.5&lon=-123.1&targetLat=34.05&targetLon=-118.25
  2 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    10.27ms    5.55ms  79.64ms   77.21%
    Req/Sec     2.49k   341.90     3.33k    71.00%
  Latency Distribution
     50%    9.38ms
     75%   12.67ms
     90%   16.72ms
     99%   29.78ms
  99226 requests in 20.01s, 30.39MB read
  Socket errors: connect 0, read 2, write 0, timeout 12
  Non-2xx or 3xx responses: 226
Requests/sec:   4958.82
Transfer/sec:      1.52MB
";

    #[test]
    fn reads_wrk_output() {
        let w = wrk(WRK).unwrap();
        assert_eq!(w.requests, 99_226.0);
        assert!((w.seconds - 20.01).abs() < 1e-9);
        assert_eq!((w.non_2xx, w.timeouts, w.socket_errors), (226.0, 12.0, 2.0));
        assert!((w.p50_s - 0.009_38).abs() < 1e-12, "{}", w.p50_s);
        assert!((w.p99_s - 0.029_78).abs() < 1e-12, "{}", w.p99_s);
        assert!((w.ok_per_s() - 99_000.0 / 20.01).abs() < 1e-9);
        // A clean run prints neither the socket errors nor the non-2xx line.
        let clean = WRK
            .lines()
            .filter(|l| !l.contains("Socket errors") && !l.contains("Non-2xx"))
            .collect::<Vec<_>>()
            .join("\n");
        let w = wrk(&clean).unwrap();
        assert_eq!((w.non_2xx, w.timeouts), (0.0, 0.0));
        assert!(wrk("unable to connect to 127.0.0.1:1 Connection refused").is_err());
    }

    #[test]
    fn reads_wrk_durations() {
        assert_eq!(wrk_duration_s("812.00us"), Some(812.00e-6));
        assert_eq!(wrk_duration_s("1.00m"), Some(60.0));
        assert_eq!(wrk_duration_s("2.5s"), Some(2.5));
        assert_eq!(wrk_duration_s("12.00xs"), None);
        assert_eq!(wrk_duration_s(""), None);
    }

    #[test]
    fn reads_proc_figures() {
        assert_eq!(load_average("0.52 0.58 0.59 1/123 4567\n"), Some(0.52));
        assert_eq!(load_average(""), None);
        // The command name may contain spaces and parentheses.
        let stat = "4321 (cargo (x) task) S 1 4321 4321 0 -1 4194560 100 200 0 0 \
            15 7 250 50 20 0 1 0 100 1000 100 18446744073709551615";
        assert_eq!(children_cpu_ticks(stat), Some(300.0));
        assert_eq!(children_cpu_ticks("garbage"), None);
    }
}
