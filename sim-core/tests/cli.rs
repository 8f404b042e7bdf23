//! `mdsim` end to end: good input gives the documented JSON; bad input gives one clear line
//! on stderr and a non-zero exit, never a panic.
#![cfg(all(not(target_arch = "wasm32"), feature = "cli"))]

use std::process::{Command, Output};

fn mdsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mdsim"))
        .args(args)
        .output()
        .expect("mdsim runs")
}

fn scenario_path(name: &str) -> String {
    format!("{}/../scenarios/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// Asserts a refusal: non-zero exit, nothing on stdout, exactly one line on stderr that
/// contains every `needle`, and no panic.
fn refused(args: &[&str], needles: &[&str]) {
    let out = mdsim(args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{args:?} succeeded");
    assert_ne!(out.status.code(), Some(101), "{args:?} panicked: {err}");
    assert!(!err.contains("panicked"), "{args:?}: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err:?}");
    for n in needles {
        assert!(err.contains(n), "{args:?}: {err:?} lacks {n:?}");
    }
    assert!(out.stdout.is_empty(), "{args:?} printed to stdout");
}

#[test]
fn bad_input_is_one_clear_line_and_a_nonzero_exit() {
    let t = ["trajectory", "--missile", "SCUD-C"];
    let with = |extra: &[&'static str]| -> Vec<&'static str> {
        t.iter().copied().chain(extra.iter().copied()).collect()
    };
    refused(
        &with(&["--from", "95,0", "--to", "34,-118"]),
        &["lat_deg must be within -90 to 90 degrees, got 95"],
    );
    refused(
        &with(&["--from", "-91.5,0", "--to", "34,-118"]),
        &["lat_deg must be within -90 to 90 degrees, got -91.5"],
    );
    refused(
        &with(&["--from", "36,200", "--to", "34,-118"]),
        &["lon_deg must be within -180 to 180 degrees, got 200"],
    );
    refused(&with(&["--from", "nan,0", "--to", "34,-118"]), &["finite"]);
    refused(&with(&["--from", "36,-123", "--to", "34,NaN"]), &["finite"]);
    refused(&with(&["--from", "36", "--to", "34,-118"]), &["LAT,LON"]);
    refused(
        &with(&["--from", "abc,1", "--to", "34,-118"]),
        &["not a number"],
    );
    refused(
        &[
            "trajectory",
            "--missile",
            "V-2",
            "--from",
            "36,-123",
            "--to",
            "34,-118",
        ],
        &["unknown missile type 'V-2'", "SCUD-C"],
    );
    refused(
        &["trajectory", "--burnout-speed", "-5", "--angle", "45"],
        &["burnout speed must be positive"],
    );
    refused(
        &["trajectory", "--burnout-speed", "inf", "--angle", "45"],
        &["finite"],
    );
    refused(
        &["trajectory", "--burnout-speed", "3000", "--angle", "120"],
        &["within ±90"],
    );
    refused(&["trajectory", "--burnout-speed", "3000"], &["--angle"]);
    refused(&["trajectory", "--missile", "SCUD-C"], &["--from"]);
    refused(&["trajectory", "--bogus"], &["--bogus"]);
    refused(&["run", "/nonexistent/scenario.json"], &["cannot read"]);
    refused(&["frobnicate"], &["frobnicate"]);
}

#[test]
fn out_of_range_names_the_distance_and_the_maximum() {
    let args = [
        "trajectory",
        "--missile",
        "SCUD-C",
        "--from",
        "34.05,-118.25",
        "--to",
        "33.749,-84.388",
    ];
    refused(&args, &["3111 km", "maximum range of 527 km", "SCUD-C"]);
    assert_eq!(mdsim(&args).status.code(), Some(3));
}

#[test]
fn bad_scenarios_are_refused_with_one_line() {
    let dir = std::env::temp_dir().join(format!("mdsim-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cases = [
        ("not-json.json", "{ this is not json", "invalid scenario"),
        (
            "version.json",
            r#"{"version": 99, "name": "x"}"#,
            "version 99",
        ),
        (
            "typo.json",
            r#"{"version": 1, "name": "x", "lanches": []}"#,
            "unknown field",
        ),
        (
            "lat.json",
            r#"{"version": 1, "name": "x", "launches": [{"missile": "SCUD-C",
               "from": {"lat_deg": 95, "lon_deg": 0}, "to": {"lat_deg": 0, "lon_deg": 0}}]}"#,
            "lat_deg must be within -90 to 90 degrees, got 95",
        ),
        (
            "type.json",
            r#"{"version": 1, "name": "x", "launches": [{"missile": "V-2",
               "from": {"lat_deg": 5, "lon_deg": 0}, "to": {"lat_deg": 0, "lon_deg": 0}}]}"#,
            "V-2",
        ),
    ];
    for (file, text, needle) in cases {
        let path = dir.join(file);
        std::fs::write(&path, text).unwrap();
        refused(&["run", path.to_str().unwrap()], &[needle]);
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn targeted_trajectory_json_has_the_documented_fields() {
    let out = mdsim(&[
        "trajectory",
        "--missile",
        "SCUD-C",
        "--from",
        "36.5,-123.1",
        "--to",
        "34.05,-118.25",
        "--json",
        "--samples",
        "20",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in [
        "mode",
        "missile",
        "profile",
        "from",
        "to",
        "distance_m",
        "azimuth_deg",
        "range_m",
        "apogee_alt_m",
        "flight_time_s",
        "burnout",
        "impact",
        "miss_m",
        "guidance",
        "samples",
    ] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    assert_eq!(v["missile"], "SCUD-C");
    assert!(v["miss_m"].as_f64().unwrap() < 100.0);
    assert!(v["burnout"]["speed_m_s"].as_f64().unwrap() > 1500.0);
    let n = v["samples"].as_array().unwrap().len();
    assert!((15..=25).contains(&n), "{n}");
}

#[test]
fn free_flight_reports_the_kepler_comparison() {
    let out = mdsim(&[
        "trajectory",
        "--burnout-speed",
        "3000",
        "--angle",
        "45",
        "--vacuum",
        "--no-rotation",
        "--spherical",
        "--json",
    ]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let (r, k) = (
        v["range_m"].as_f64().unwrap(),
        v["kepler"]["range_m"].as_f64().unwrap(),
    );
    assert!(((r - k) / k).abs() < 5e-4, "{r} vs {k}");
    // Negative coordinates and an azimuth are accepted.
    let out = mdsim(&[
        "trajectory",
        "--burnout-speed",
        "2000",
        "--angle",
        "30",
        "--from",
        "-33.9,151.2",
        "--azimuth",
        "270",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn run_prints_each_missiles_fate_and_the_event_stream() {
    let path = scenario_path("socal-scud-c.json");
    let out = mdsim(&["run", &path, "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let missiles = v["missiles"].as_array().unwrap();
    assert!(!missiles.is_empty());
    for m in missiles {
        // The SCUD is engaged by the SM-6 batteries: killed, or a leaker on Los Angeles.
        let fate = m["fate"].as_str().unwrap();
        assert!(fate == "intercepted" || fate == "leaked", "{fate}");
        if fate == "leaked" {
            assert!(m["impact"]["miss_m"].as_f64().unwrap() < 100.0);
        }
    }
    let batteries = v["batteries"].as_array().unwrap();
    assert_eq!(batteries.len(), 2);
    assert_eq!(batteries[0]["call_sign"], "BAT_LA");
    let fired: u64 = batteries
        .iter()
        .map(|b| b["rounds_fired"].as_u64().unwrap())
        .sum();
    assert!(fired >= 1, "{v}");
    assert_eq!(
        batteries[0]["rounds_fired"].as_u64().unwrap()
            + batteries[0]["rounds_left"].as_u64().unwrap(),
        32
    );
    assert!(!v["engagements"].as_array().unwrap().is_empty());
    assert_eq!(v["state_hash"].as_str().unwrap().len(), 16);

    // The salvo has full-burn (lofted, depressed) flights, so stages burn out, and a refusal.
    let out = mdsim(&["run", &scenario_path("socal-salvo.json"), "--events"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let kinds: Vec<String> = text
        .lines()
        .map(|l| {
            let e: serde_json::Value = serde_json::from_str(l).expect("one JSON event per line");
            e["type"].as_str().unwrap().to_string()
        })
        .collect();
    for k in [
        "launch",
        "launch-rejected",
        "stage-burnout",
        "burnout",
        "apogee",
        "impact",
    ] {
        assert!(kinds.iter().any(|x| x == k), "no {k} event in {kinds:?}");
    }
}

#[test]
fn every_example_scenario_runs() {
    let dir = format!("{}/../scenarios", env!("CARGO_MANIFEST_DIR"));
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let out = mdsim(&["run", path.to_str().unwrap(), "--json"]);
            assert!(
                out.status.success(),
                "{}: {}",
                path.display(),
                String::from_utf8_lossy(&out.stderr)
            );
            n += 1;
        }
    }
    assert!(n >= 3);
}

#[test]
fn montecarlo_report_does_not_depend_on_the_thread_count() {
    let path = scenario_path("socal-scud-c.json");
    let report = |threads: &str| {
        let out = mdsim(&[
            "montecarlo",
            &path,
            "--runs",
            "2",
            "--threads",
            threads,
            "--seed",
            "5",
            "--json",
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["report"].clone()
    };
    let one = report("1");
    assert_eq!(one["runs"], 2);
    assert!(one["leak"]["trials"].as_u64().unwrap() == 2, "{one}");
    assert_eq!(one, report("2"));
    let bad = mdsim(&["montecarlo", &path, "--runs", "0"]);
    assert!(!bad.status.success());
}

#[test]
fn link_encode_and_decode_round_trip_a_scenario() {
    let path = scenario_path("socal-raid.json");
    let out = mdsim(&["link", "encode", &path]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let link = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(link.starts_with("1.") && link.len() < 1_000, "{link}");

    let url = mdsim(&[
        "link",
        "encode",
        &path,
        "--base",
        "http://127.0.0.1:8080/#old",
    ]);
    let url = String::from_utf8(url.stdout).unwrap().trim().to_string();
    assert_eq!(url, format!("http://127.0.0.1:8080/#s={link}"));

    // Decoding the link or the URL prints the scenario file back, equal to the original.
    let original =
        sim_core::engine::Scenario::from_json(&std::fs::read_to_string(&path).unwrap()).unwrap();
    for arg in [&link, &url] {
        let out = mdsim(&["link", "decode", arg]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        assert_eq!(
            sim_core::engine::Scenario::from_json(&text).unwrap(),
            original
        );
    }
}

#[test]
fn bad_links_are_one_clear_line_and_a_nonzero_exit() {
    refused(&["link", "decode", ""], &["the link is empty"]);
    refused(&["link", "decode", "hello"], &["not a scenario link"]);
    refused(&["link", "decode", "9.abc"], &["version 9"]);
    refused(&["link", "decode", "1.abc$"], &["damaged"]);
    let golden = include_str!("fixtures/link-v1.txt");
    let mut tampered = golden.to_string().into_bytes();
    tampered[100] = if tampered[100] == b'x' { b'y' } else { b'x' };
    refused(
        &["link", "decode", std::str::from_utf8(&tampered).unwrap()],
        &["damaged", "checksum"],
    );
    refused(
        &["link", "decode", &golden[..golden.len() - 5]],
        &["damaged"],
    );
    refused(
        &["link", "encode", "/nonexistent/scenario.json"],
        &["cannot read"],
    );
}
