//! REST tests: `POST /launch`, the catalogs and room creation, driven with `oneshot` (the
//! referee rooms run on the relay's referee threads, beside the test's runtime).

mod common;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use relay_server::{AppState, Config, app};
use serde_json::Value;
use tower::ServiceExt;

use common::{TempDir, dist_fixture};

fn router_for(dist: &TempDir) -> (Router, AppState) {
    let state = AppState::new(Config::with_dist_dir(dist.path()));
    (app(state.clone()), state)
}

async fn send(router: &Router, request: Request<Body>) -> (StatusCode, Value) {
    let response = router.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let bytes: Bytes = response
        .into_body()
        .collect()
        .await
        .expect("read body")
        .to_bytes();
    let json = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&bytes)));
    (status, json)
}

async fn post(router: &Router, uri: &str) -> (StatusCode, Value) {
    send(router, Request::post(uri).body(Body::empty()).unwrap()).await
}

async fn get(router: &Router, uri: &str) -> (StatusCode, Value) {
    send(router, Request::get(uri).body(Body::empty()).unwrap()).await
}

async fn metrics_text(router: &Router) -> String {
    let response = router
        .clone()
        .oneshot(Request::get("/metrics").body(Body::empty()).unwrap())
        .await
        .unwrap();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// Waits (at most 10 s) until the referees have launched `n` missiles.
async fn flies_soon(router: &Router, n: u64) {
    let line = format!("missile_launches_total {n}\n");
    for _ in 0..100 {
        if metrics_text(router).await.contains(&line) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the referee never launched {n} missiles");
}

fn error_of(body: &Value) -> &str {
    body["error"]
        .as_str()
        .unwrap_or_else(|| panic!("no error in {body}"))
}

/// The old system's own test: a SCUD-C from Los Angeles at Atlanta, about 3,100 km away.
#[tokio::test]
async fn los_angeles_to_atlanta_scud_c_is_refused_with_the_distance() {
    let dist = dist_fixture();
    let (router, _) = router_for(&dist);
    let (status, body) = post(
        &router,
        "/launch?lat=34.05&lon=-118.25&targetLat=33.75&targetLon=-84.39&missileType=SCUD-C",
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let message = error_of(&body);
    assert!(
        message.contains("beyond the SCUD-C maximum range of 527 km"),
        "{message}"
    );
    let distance = body["distance_km"].as_f64().unwrap();
    assert!((3_100.0..3_200.0).contains(&distance), "{body}");
    assert_eq!(body["max_range_km"].as_f64().unwrap(), 527.0);
    assert_eq!(body["reason"]["error"], "out-of-range");
    assert!(
        !metrics_text(&router)
            .await
            .contains("missile_launches_total 1")
    );
}

/// The old Locust launch: from 36.5N 123.1W at Los Angeles, SCUD-C by default.
#[tokio::test]
async fn the_old_locust_launch_is_solved_and_flown_by_the_public_referee() {
    let dist = dist_fixture();
    let (router, _) = router_for(&dist);
    let (status, body) = post(
        &router,
        "/launch?lat=36.5&lon=-123.1&targetLat=34.05&targetLon=-118.25",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "launched");
    assert_eq!(body["missile_id"], "M1");
    assert_eq!(body["room"], "public");
    assert_eq!(body["missile_type"], "SCUD-C");
    let flight = &body["flight"];
    let distance_m = flight["distance_m"].as_f64().unwrap();
    assert!((500_000.0..530_000.0).contains(&distance_m), "{body}");
    // The flight lands on the target: range equals distance within the solver's tolerance
    // (the range is measured on the same sphere).
    assert!(flight["miss_m"].as_f64().unwrap() < 2_000.0, "{body}");
    assert!(
        flight["apogee_alt_m"].as_f64().unwrap() > 100_000.0,
        "{body}"
    );
    assert!(flight["flight_time_s"].as_f64().unwrap() > 200.0, "{body}");
    assert!(
        flight["burnout"]["alt_m"].as_f64().unwrap() > 10_000.0,
        "{body}"
    );
    // The answer came once the launch was ordered; the referee flies it a few ticks later.
    let tick = body["tick"].as_u64().unwrap();
    assert!(tick >= 3, "{body}");
    flies_soon(&router, 1).await;
    // A second launch gets the next id, from a JSON body this time.
    let request = Request::post("/launch")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            r#"{"lat":35.0,"lon":45.0,"targetLat":33.0,"targetLon":44.0,"missileType":"scud-b","label":"json"}"#,
        ))
        .unwrap();
    let (status, body) = send(&router, request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["missile_id"], "M2");
    assert_eq!(body["missile_type"], "SCUD-B");
}

#[tokio::test]
async fn bad_input_gets_a_clear_400() {
    let dist = dist_fixture();
    let (router, _) = router_for(&dist);
    let ok = "lon=-118.25&targetLat=34.5&targetLon=-118.0";
    let cases = [
        (format!("/launch?{ok}"), "missing lat"),
        (
            format!("/launch?lat=NaN&{ok}"),
            "lat must be a finite number",
        ),
        (
            format!("/launch?lat=inf&{ok}"),
            "lat must be a finite number",
        ),
        (
            format!("/launch?lat=95&{ok}"),
            "lat must be within -90 to 90",
        ),
        (format!("/launch?lat=north&{ok}"), "lat must be a number"),
        (
            format!("/launch?lat=34&lat=35&{ok}"),
            "given more than once",
        ),
        (
            "/launch?lat=34&lon=-118&targetLat=34.5&targetLon=200".to_string(),
            "targetLon must be within -180 to 180",
        ),
        (
            format!("/launch?lat=34&{ok}&profile=sideways"),
            "unknown profile",
        ),
        (
            format!("/launch?lat=34&{ok}&label=%07bell"),
            "control characters",
        ),
    ];
    for (uri, needle) in cases {
        let (status, body) = post(&router, &uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {body}");
        assert!(error_of(&body).contains(needle), "{uri}: {body}");
    }
    for body in ["[1,2]", "{not json", r#"{"lat":"34"}"#] {
        let request = Request::post("/launch?")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body))
            .unwrap();
        let (status, answer) = send(&router, request).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
    }
}

#[tokio::test]
async fn unknown_missile_type_lists_the_valid_ones() {
    let dist = dist_fixture();
    let (router, _) = router_for(&dist);
    let (status, body) = post(
        &router,
        "/launch?lat=34&lon=-118&targetLat=34.5&targetLon=-118&missileType=V-2",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        error_of(&body).contains("unknown missileType \"V-2\""),
        "{body}"
    );
    assert_eq!(
        body["valid_types"],
        serde_json::json!(["SCUD-B", "SCUD-C", "NODONG", "IRBM", "ICBM"])
    );
}

#[tokio::test]
async fn too_close_is_refused_with_the_minimum_range() {
    let dist = dist_fixture();
    let (router, _) = router_for(&dist);
    let (status, body) = post(
        &router,
        "/launch?lat=34&lon=-118&targetLat=34.01&targetLon=-118&missileType=ICBM",
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(error_of(&body).contains("minimum range"), "{body}");
    assert!(body["min_range_km"].as_f64().unwrap() > 1.0);
}

#[tokio::test]
async fn rooms_are_created_and_private_ones_need_their_token() {
    let dist = dist_fixture();
    let (router, state) = router_for(&dist);
    let (status, body) = post(&router, "/api/rooms").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let room = body["room"].as_str().unwrap().to_string();
    let token = body["token"].as_str().unwrap().to_string();
    assert_eq!(room.len(), 32);
    assert!(room.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_ne!(room, token);
    assert_eq!(body["websocket"], format!("/ws/rooms/{room}"));
    assert_eq!(body["watch_link"], format!("/?room={room}"));
    assert!(!body["watch_link"].as_str().unwrap().contains(&token));
    assert_eq!(state.rooms().len(), 1);
    assert!(metrics_text(&router).await.contains("relay_rooms 1"));

    let launch = "/launch?lat=35&lon=45&targetLat=33&targetLon=44&missileType=SCUD-B";
    let (status, body) = post(&router, &format!("{launch}&room={room}")).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = post(&router, &format!("{launch}&room={room}&token=00ff")).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = post(&router, &format!("{launch}&room={room}&token={token}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["room"], room.as_str());
    assert_eq!(body["missile_id"], "M1");
    // The token as a bearer header, out of the URL (and so out of access logs).
    let request = Request::post(format!("{launch}&room={room}"))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let (status, body) = send(&router, request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["missile_id"], "M2");
    let (status, body) = post(&router, &format!("{launch}&room=0123456789abcdef")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
}

#[tokio::test]
async fn catalogs_list_missiles_and_radars() {
    let dist = dist_fixture();
    let (router, _) = router_for(&dist);
    let (status, missiles) = get(&router, "/api/missile-types").await;
    assert_eq!(status, StatusCode::OK);
    let missiles = missiles.as_array().unwrap();
    assert_eq!(missiles.len(), 5);
    let scud_c = missiles.iter().find(|m| m["name"] == "SCUD-C").unwrap();
    assert_eq!(scud_c["max_range_m"].as_f64().unwrap(), 527_000.0);
    assert!(scud_c["public"]["sources"].as_str().unwrap().len() > 10);
    let (status, radars) = get(&router, "/api/radar-types").await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<&str> = radars
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"AN/TPY-2"), "{names:?}");
}

#[tokio::test]
async fn scenarios_get_short_links() {
    let dist = dist_fixture();
    let (router, _) = router_for(&dist);
    let file =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/socal-scud-c.json");
    let text = std::fs::read_to_string(file).unwrap();
    let request = Request::post("/api/scenarios")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(text.clone()))
        .unwrap();
    let (status, body) = send(&router, request).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["id"].as_str().unwrap();
    assert_eq!(id.len(), 16);
    assert_eq!(body["link"], format!("/s/{id}"));

    let (status, stored) = get(&router, &format!("/api/scenarios/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(stored, serde_json::from_str::<Value>(&text).unwrap());

    let response = router
        .clone()
        .oneshot(
            Request::get(format!("/s/{id}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    // The short link opens the app with the share link of the same scenario in the fragment.
    let session = sim_core::link::Session::from_json(&text).unwrap();
    assert_eq!(
        response.headers()[header::LOCATION],
        format!("/#s={}", session.to_link()).as_str()
    );

    let (status, body) = get(&router, "/s/0000000000000000").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(error_of(&body).contains("no scenario"), "{body}");
    let (status, body) = get(&router, "/api/scenarios/nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");

    for bad in ["", "{}", r#"{"version":1,"name":"x","typo":1}"#, "[1]"] {
        let request = Request::post("/api/scenarios")
            .body(Body::from(bad))
            .unwrap();
        let (status, body) = send(&router, request).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert!(
            error_of(&body).starts_with("invalid scenario"),
            "{bad}: {body}"
        );
    }
}

async fn redirect_of(router: &Router, uri: &str) -> String {
    let response = router
        .clone()
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "{uri}");
    response.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn share_links_and_sessions_get_short_links_too() {
    let dist = dist_fixture();
    let (router, _) = router_for(&dist);
    let file =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/socal-raid.json");
    let scenario =
        sim_core::engine::Scenario::from_json(&std::fs::read_to_string(file).unwrap()).unwrap();
    let mut session = sim_core::link::Session::new(scenario);
    session.commands.push(sim_core::link::SessionCommand {
        tick: 42,
        command: sim_core::Command::RemoveRadar {
            radar: sim_core::radar::RadarId(2),
        },
    });
    let link = session.to_link();
    // A link, the same link in a URL, and the session document all give the same short link
    // target, and the stored scenario reads back as the session.
    for body in [
        link.clone(),
        format!("http://127.0.0.1:1/#s={link}"),
        session.to_json_pretty(),
    ] {
        let (status, created) = send(
            &router,
            Request::post("/api/scenarios")
                .body(Body::from(body.clone()))
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body:.60}: {created}");
        let id = created["id"].as_str().unwrap();
        assert_eq!(
            redirect_of(&router, &format!("/s/{id}")).await,
            format!("/#s={link}")
        );
        let (status, stored) = get(&router, &format!("/api/scenarios/{id}")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            sim_core::link::Session::from_json(&stored.to_string()).unwrap(),
            session
        );
    }
    // Malformed and tampered links are a 400 with one sentence.
    let mut tampered = link.clone().into_bytes();
    let i = tampered.len() / 2;
    tampered[i] = if tampered[i] == b'a' { b'b' } else { b'a' };
    for (bad, needle) in [
        ("hello".to_string(), "not a scenario link"),
        ("7.abc".to_string(), "version 7"),
        (String::from_utf8(tampered).unwrap(), "damaged"),
        (link[..link.len() - 9].to_string(), "damaged"),
    ] {
        let (status, body) = send(
            &router,
            Request::post("/api/scenarios")
                .body(Body::from(bad.clone()))
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad:.40}: {body}");
        let e = error_of(&body);
        assert!(e.starts_with("invalid link: ") && e.contains(needle), "{e}");
        assert!(!e.contains('\n'), "{e}");
    }
}

/// A corpus of hostile `POST /launch` requests (seeded, so a failure reproduces): every one is
/// answered with a 4xx and a one-sentence JSON error, or a launch; never a 5xx, never a panic.
#[tokio::test]
async fn random_hostile_launch_requests_get_clear_answers() {
    let dist = dist_fixture();
    let (router, _) = router_for(&dist);
    let names = [
        "lat",
        "lon",
        "targetLat",
        "targetLon",
        "missileType",
        "profile",
        "room",
        "token",
        "label",
        "",
        "LAT",
        "lat[]",
    ];
    let values = [
        "34",
        "-118",
        "91",
        "-181",
        "NaN",
        "-inf",
        "1e309",
        "0x10",
        "",
        "%00",
        "%FF%FE",
        "SCUD-C",
        "icbm",
        "lofted",
        "public",
        "nope",
        "%E2%80%AE",
        "1,2",
        "%20",
        "33.75",
        "-84.39",
        "9999999999999999999999",
        "🚀",
    ];
    // xorshift64: enough to shuffle a corpus, no dependency.
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut pick = |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    let mut seen = std::collections::BTreeSet::new();
    for case in 0..300 {
        let mut query = String::new();
        for _ in 0..pick(8) {
            let name = names[pick(names.len())];
            let value = values[pick(values.len())];
            query.push_str(&format!("{name}={value}&"));
        }
        let body = match pick(4) {
            0 => r#"{"lat": 1e400}"#.to_string(),
            1 => r#"{"lat": [1], "lon": {"a": null}}"#.to_string(),
            _ => String::new(),
        };
        let uri = format!("/launch?{query}");
        let request = Request::post(uri.as_str())
            .body(Body::from(body.clone()))
            .unwrap();
        let (status, answer) = send(&router, request).await;
        seen.insert(status.as_u16());
        assert!(
            status == StatusCode::OK || status.is_client_error(),
            "case {case}: {uri} {body}: {status} {answer}"
        );
        if status != StatusCode::OK {
            let message = error_of(&answer);
            assert!(
                !message.is_empty() && !message.contains('\n'),
                "{uri}: {message}"
            );
        }
    }
}
