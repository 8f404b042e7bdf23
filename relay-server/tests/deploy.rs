//! The full-mode files under `deploy/` stay true to the relay: every metric the Grafana
//! dashboard queries is one the relay exports.

use std::collections::BTreeSet;

/// Names in PromQL expressions that look like metric names (`word_word...`), minus
/// functions and label names.
fn metric_names(expr: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut word = String::new();
    let mut in_braces = false;
    for c in expr.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_alphanumeric() || c == '_' {
            word.push(c);
            continue;
        }
        if !in_braces && word.contains('_') && c != '(' && !word.starts_with("histogram_") {
            names.insert(std::mem::take(&mut word));
        }
        word.clear();
        match c {
            '{' => in_braces = true,
            '}' => in_braces = false,
            _ => {}
        }
    }
    names
}

#[test]
fn the_dashboard_queries_only_exported_metrics() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../deploy/grafana/dashboards/mdsim.json");
    let dashboard: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    // Labelled families export nothing until they have a series: give each one.
    let metrics = relay_server::Metrics::new();
    metrics.observe_request(&axum::http::Method::GET, "/healthz", 200, 0.001);
    use sim_core::engine::defense::{BatteryId, InterceptorId};
    use sim_core::engine::{Event, EventKind};
    use sim_core::tracking::TrackId;
    for kind in [
        EventKind::Detection {
            radar: sim_core::radar::RadarId(0),
            radar_id: "RAD_VBG".into(),
            missile_id: Some(TrackId(1)),
            truth: None,
            snr: 20.0,
            lat: 34.0,
            lon: -120.0,
            alt_m: 1e5,
            range_m: 2e5,
            azimuth_deg: 10.0,
            elevation_deg: 20.0,
        },
        EventKind::InterceptorLaunched {
            interceptor: InterceptorId(0),
            battery: BatteryId(0),
            battery_call_sign: "BAT_LA".into(),
            kind: sim_core::interceptor::InterceptorKind::ALL[0],
            missile_id: TrackId(1),
            rounds_left: 3,
        },
    ] {
        metrics.events().observe(&Event {
            tick: 0,
            time_s: 0.0,
            kind,
        });
    }
    metrics.rooms().refuse("malformed");
    metrics.nats().error("publish");
    metrics.db().error("write");
    let text = metrics.encode().unwrap();
    let exported: BTreeSet<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect();
    let mut checked = 0;
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            for name in metric_names(target["expr"].as_str().unwrap()) {
                let base = name
                    .strip_suffix("_bucket")
                    .or_else(|| name.strip_suffix("_total"))
                    .unwrap_or(&name);
                assert!(
                    exported.contains(base) || exported.contains(&name),
                    "panel {:?} queries {name}, which the relay does not export: {exported:?}",
                    panel["title"]
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 20, "only {checked} metric references found");
}

#[test]
fn names_are_found_in_expressions() {
    let names = metric_names(
        "histogram_quantile(0.99, sum by (le, route) (rate(http_request_duration_seconds_bucket{a_b=\"x\"}[5m])))",
    );
    assert_eq!(
        names.into_iter().collect::<Vec<_>>(),
        ["http_request_duration_seconds_bucket"]
    );
}
