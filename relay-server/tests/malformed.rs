//! A corpus of malformed REST and websocket inputs: each is answered with a clear client
//! error (a 4xx status, or an `error` message on the websocket; one sentence), none is
//! answered with a 5xx or crashes anything, and the relay serves normally afterwards.

mod common;

use axum::body::{Body, Bytes};
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use relay_server::{AppState, Config, app, server};
use serde_json::Value;
use sim_core::protocol::{ClientMessage, Role, ServerMessage};
use tokio::net::TcpListener;
use tower::ServiceExt;

use common::dist_fixture;
use common::ws::Client;

/// A sentence fit for a person: not empty, one line, not a dump.
fn assert_clear(what: &str, message: &str) {
    assert!(
        !message.trim().is_empty() && !message.contains('\n') && message.len() <= 400,
        "{what}: unclear error {message:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_rest_requests_get_clear_4xx_answers() {
    let dist = dist_fixture();
    let mut config = Config::with_dist_dir(dist.path());
    config.no_database = true;
    let state = AppState::new(config);
    let router = app(state.clone());
    let (room, _) = state.rooms().create().unwrap();
    let ok = "lon=-118.25&targetLat=34.5&targetLon=-118.0";
    let long = "x".repeat(5_000);
    let deep = format!("{}{}", "[".repeat(5_000), "]".repeat(5_000));
    let json = "application/json";
    // (method, uri, content type, body)
    let corpus: Vec<(&str, String, Option<&str>, Vec<u8>)> = vec![
        ("POST", "/launch".into(), None, vec![]),
        (
            "POST",
            "/launch?lat=&lon=&targetLat=&targetLon=".into(),
            None,
            vec![],
        ),
        ("POST", format!("/launch?lat=1e400&{ok}"), None, vec![]),
        ("POST", format!("/launch?lat=0x10&{ok}"), None, vec![]),
        ("POST", format!("/launch?lat=%FF%FE&{ok}"), None, vec![]),
        (
            "POST",
            format!("/launch?lat=34&{ok}&label=%ff%fe"),
            None,
            vec![],
        ),
        ("POST", format!("/launch?lat=-inf&{ok}"), None, vec![]),
        (
            "POST",
            format!("/launch?lat=34&{ok}&missileType=%00"),
            None,
            vec![],
        ),
        (
            "POST",
            format!("/launch?lat=34&{ok}&missileType={long}"),
            None,
            vec![],
        ),
        (
            "POST",
            format!("/launch?lat=34&{ok}&profile="),
            None,
            vec![],
        ),
        (
            "POST",
            format!("/launch?lat=34&{ok}&label={}", "y".repeat(200)),
            None,
            vec![],
        ),
        (
            "POST",
            format!("/launch?lat=34&{ok}&room=..%2F..%2Fetc"),
            None,
            vec![],
        ),
        (
            "POST",
            format!("/launch?lat=34&{ok}&room={long}"),
            None,
            vec![],
        ),
        (
            "POST",
            format!("/launch?lat=34&{ok}&room={}", room.id()),
            None,
            vec![],
        ),
        (
            "POST",
            format!("/launch?lat=34&{ok}&room={}&token=00", room.id()),
            None,
            vec![],
        ),
        (
            "POST",
            "/launch".into(),
            Some(json),
            br#"{"lat": 1e999}"#.to_vec(),
        ),
        (
            "POST",
            "/launch".into(),
            Some(json),
            deep.clone().into_bytes(),
        ),
        (
            "POST",
            "/launch".into(),
            Some(json),
            br#"{"lat": {"deg": 34}}"#.to_vec(),
        ),
        (
            "POST",
            "/launch".into(),
            Some(json),
            vec![b'{', 0xff, 0xfe, b'}'],
        ),
        (
            "POST",
            "/launch".into(),
            Some(json),
            format!(r#"{{"pad":"{}"}}"#, "z".repeat(20_000)).into_bytes(),
        ),
        (
            "POST",
            format!("/launch?lat=34&{ok}"),
            Some(json),
            br#"{"lat": 34}"#.to_vec(),
        ),
        ("POST", "/launch".into(), Some(json), b"null".to_vec()),
        (
            "POST",
            "/launch".into(),
            Some("text/plain"),
            b"lat=34".to_vec(),
        ),
        ("POST", "/api/scenarios".into(), Some(json), b"{}".to_vec()),
        (
            "POST",
            "/api/scenarios".into(),
            Some(json),
            vec![0, 159, 146, 150],
        ),
        (
            "POST",
            "/api/scenarios".into(),
            Some(json),
            deep.into_bytes(),
        ),
        (
            "POST",
            "/api/scenarios".into(),
            Some(json),
            vec![b' '; 2 << 20],
        ),
        ("GET", "/api/scenarios/zzzz".into(), None, vec![]),
        ("GET", format!("/api/scenarios/{long}"), None, vec![]),
        ("GET", "/ws/rooms/public".into(), None, vec![]),
        ("DELETE", "/launch".into(), None, vec![]),
        ("PUT", "/api/rooms".into(), None, vec![]),
    ];
    for (method, uri, content_type, body) in corpus {
        let mut request = Request::builder().method(method).uri(&uri);
        if let Some(ct) = content_type {
            request = request.header(header::CONTENT_TYPE, ct);
        }
        let response = router
            .clone()
            .oneshot(request.body(Body::from(body)).unwrap())
            .await
            .expect("infallible");
        let status = response.status();
        let is_json = response
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
        let bytes: Bytes = response.into_body().collect().await.unwrap().to_bytes();
        let what = format!("{method} {uri:.80}");
        assert!(status.is_client_error(), "{what}: {status}");
        let text = String::from_utf8_lossy(&bytes);
        // Every answer, axum's own too (body limits, wrong methods, missing upgrade), is the
        // documented JSON error.
        assert!(is_json, "{what}: {status} is not JSON: {text:.200}");
        let body: Value = serde_json::from_slice(&bytes).unwrap();
        assert_clear(&what, body["error"].as_str().unwrap_or_default());
    }
    // Still serving.
    let response = router
        .clone()
        .oneshot(Request::get("/healthz").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_websocket_messages_get_clear_errors_and_the_connection_goes_on() {
    let dist = dist_fixture();
    let mut config = Config::with_dist_dir(dist.path());
    config.no_database = true;
    // The corpus is sent at once: keep the rate limit out of the way.
    config.ws_rate = 1_000;
    config.ws_burst = 1_000;
    let state = AppState::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let serving = state.clone();
    tokio::spawn(async move { server::serve(listener, serving, std::future::pending()).await });
    let url = format!("ws://{addr}/ws/rooms/public");
    let mut client = Client::connect(&url).await;

    let launch = |fields: &str| {
        format!(
            r#"{{"v":1,"type":"command","command":{{"type":"launch","missile":"SCUD-B",
                "from":{{"lat_deg":35,"lon_deg":45}},"to":{{"lat_deg":33,"lon_deg":44}}{fields}}}}}"#
        )
    };
    let before_hello = [
        r#"{"v":1,"type":"ping"}"#.to_string(),
        launch(""),
        r#"{"v":1,"type":"hello","name":"","role":"attacker"}"#.into(),
        format!(
            r#"{{"v":1,"type":"hello","name":"{}","role":"attacker"}}"#,
            "n".repeat(100)
        ),
        r#"{"v":1,"type":"hello","name":"a\u0007b","role":"attacker"}"#.into(),
        r#"{"v":1,"type":"hello","name":"Ada","role":"god"}"#.into(),
        format!(
            r#"{{"v":1,"type":"hello","name":"Ada","role":"attacker","token":"{}"}}"#,
            "t".repeat(1_000)
        ),
    ];
    for text in &before_hello {
        client.ws_send_text(text).await;
        let error = client.next_error().await;
        assert_clear(text, &error);
    }
    client
        .send(&ClientMessage::Hello {
            name: "Ada".into(),
            role: Role::Attacker,
            token: None,
        })
        .await;
    client.next_welcome().await;

    let corpus = [
        String::new(),
        "null".into(),
        "1".into(),
        "\"ping\"".into(),
        "[]".into(),
        "\u{feff}{}".into(),
        r#"{"v":1}"#.into(),
        r#"{"type":"ping"}"#.into(),
        r#"{"v":"1","type":"ping"}"#.into(),
        r#"{"v":1.5,"type":"ping"}"#.into(),
        r#"{"v":1,"type":"teleport"}"#.into(),
        r#"{"v":1,"type":"ping","nonce":-1}"#.into(),
        r#"{"v":1,"type":"ping","nonce":"x"}"#.into(),
        r#"{"v":1,"type":"ping","nonce":1e999}"#.into(),
        r#"{"v":1,"type":"sync","extra":1}"#.into(),
        r#"{"v":1,"type":"hash","tick":1,"hash":"zz"}"#.into(),
        r#"{"v":1,"type":"hash","tick":1,"hash":"00000000000000000000"}"#.into(),
        r#"{"v":1,"type":"hash","tick":-5,"hash":"0000000000000000"}"#.into(),
        r#"{"v":1,"type":"hash","tick":1}"#.into(),
        r#"{"v":1,"type":"command"}"#.into(),
        r#"{"v":1,"type":"command","command":{"type":"warp"}}"#.into(),
        r#"{"v":1,"type":"command","command":null}"#.into(),
        launch(r#","missile":"V-2""#).replacen(r#""missile":"SCUD-B","#, "", 1),
        launch("").replace(r#""lat_deg":35"#, r#""lat_deg":91"#),
        launch("").replace(r#""lon_deg":45"#, r#""lon_deg":1e999"#),
        launch(&format!(r#","label":"{}""#, "l".repeat(1_000))),
        launch(r#","label":"bell\u0007""#),
        launch(r#","profile":"sideways""#),
        r#"{"v":1,"type":"command","command":{"type":"place-radar","call_sign":"X","kind":"NOPE","position":{"lat_deg":0,"lon_deg":0}}}"#.into(),
        format!("{}{}", "[".repeat(5_000), "]".repeat(5_000)),
        format!(r#"{{"v":1,"type":"ping","pad":"{}"}}"#, "p".repeat(20_000)),
        r#"{"v":1,"type":"hello","name":"Ada","role":"attacker"}"#.into(),
    ];
    for text in &corpus {
        client.ws_send_text(text).await;
        match client.next_not_presence().await {
            ServerMessage::Error { message } => assert_clear(&format!("{text:.80}"), &message),
            other => panic!("{text:.80}: expected an error, got {other:?}"),
        }
    }
    // The connection is still up, and the relay serves others.
    client.ping(1).await;
    let (mut other, _) = Client::join(&url, "Bo", Role::Observer, None).await;
    other.ping(2).await;
    assert_eq!(state.metrics().rooms().connections.get(), 2);
}
