//! Router tests: the whole application driven with `oneshot`, no socket, against a dist
//! directory shaped like a Trunk release build.

mod common;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{Method, Request, StatusCode, header};
use axum::response::Response;
use http_body_util::BodyExt;
use relay_server::{AppState, Config, app};
use tower::ServiceExt;

use common::{FAKE_BR, FAKE_GZ, HASHED_JS, HASHED_WASM, INDEX_HTML, TempDir, dist_fixture};

fn router_for(dist: &TempDir) -> Router {
    app(AppState::new(Config::with_dist_dir(dist.path())))
}

async fn send(router: &Router, request: Request<Body>) -> (Response, Bytes) {
    let response = router.clone().oneshot(request).await.expect("infallible");
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await.expect("read body").to_bytes();
    (Response::from_parts(parts, Body::empty()), bytes)
}

async fn get(router: &Router, uri: &str) -> (Response, Bytes) {
    send(router, Request::get(uri).body(Body::empty()).unwrap()).await
}

async fn get_with_encoding(router: &Router, uri: &str, encoding: &str) -> (Response, Bytes) {
    let request = Request::get(uri)
        .header(header::ACCEPT_ENCODING, encoding)
        .body(Body::empty())
        .unwrap();
    send(router, request).await
}

fn header_of(response: &Response, name: header::HeaderName) -> &str {
    response
        .headers()
        .get(&name)
        .unwrap_or_else(|| panic!("no {name} header in {:?}", response.headers()))
        .to_str()
        .unwrap()
}

fn json(bytes: &Bytes) -> serde_json::Value {
    serde_json::from_slice(bytes).expect("JSON body")
}

#[tokio::test]
async fn healthz_reports_ok_and_version() {
    let dist = dist_fixture();
    let (response, body) = get(&router_for(&dist), "/healthz").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(header_of(&response, header::CONTENT_TYPE).starts_with("application/json"));
    assert_eq!(
        json(&body),
        serde_json::json!({"status": "ok", "version": env!("CARGO_PKG_VERSION")})
    );
}

#[tokio::test]
async fn readyz_is_ready_when_the_build_is_there() {
    let dist = dist_fixture();
    let (response, body) = get(&router_for(&dist), "/readyz").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(json(&body)["status"], "ready");
}

#[tokio::test]
async fn readyz_is_503_with_a_reason_without_index_html() {
    let empty = TempDir::new("empty");
    let router = router_for(&empty);
    let (response, body) = get(&router, "/readyz").await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let reason = json(&body)["error"].as_str().unwrap().to_owned();
    assert!(reason.contains("index.html"), "{reason}");
    // Liveness does not depend on the build.
    let (response, _) = get(&router, "/healthz").await;
    assert_eq!(response.status(), StatusCode::OK);
    // Once a build appears the relay is ready, without a restart.
    empty.write("index.html", INDEX_HTML);
    let (response, _) = get(&router, "/readyz").await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn static_files_have_the_right_content_types() {
    let dist = dist_fixture();
    let router = router_for(&dist);
    for (uri, expected) in [
        ("/", "text/html"),
        ("/index.html", "text/html"),
        (&format!("/{HASHED_JS}"), "text/javascript"),
        (&format!("/{HASHED_WASM}"), "application/wasm"),
        ("/style.css", "text/css"),
    ] {
        let (response, _) = get(&router, uri).await;
        assert_eq!(response.status(), StatusCode::OK, "{uri}");
        let content_type = header_of(&response, header::CONTENT_TYPE);
        assert!(content_type.starts_with(expected), "{uri}: {content_type}");
        assert_eq!(
            header_of(&response, header::X_CONTENT_TYPE_OPTIONS),
            "nosniff"
        );
    }
    let (response, _) = get(&router, "/index.html").await;
    assert_eq!(
        header_of(&response, header::CONTENT_TYPE),
        "text/html; charset=utf-8"
    );
    let (_, body) = get(&router, &format!("/{HASHED_WASM}")).await;
    assert_eq!(&body[..], b"\0asm\x01\0\0\0");
}

#[tokio::test]
async fn client_side_routes_fall_back_to_index_html() {
    let dist = dist_fixture();
    let router = router_for(&dist);
    for uri in ["/some/route", "/scenario", "/rooms/abc123/"] {
        let (response, body) = get(&router, uri).await;
        assert_eq!(response.status(), StatusCode::OK, "{uri}");
        assert!(header_of(&response, header::CONTENT_TYPE).starts_with("text/html"));
        assert_eq!(header_of(&response, header::CACHE_CONTROL), "no-cache");
        assert_eq!(body, INDEX_HTML.as_bytes(), "{uri}");
    }
    // HEAD gets the same head without a body.
    let request = Request::head("/some/route").body(Body::empty()).unwrap();
    let (response, body) = send(&router, request).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(body.is_empty());
}

#[tokio::test]
async fn missing_files_with_an_extension_are_404() {
    let dist = dist_fixture();
    let router = router_for(&dist);
    for uri in ["/missing.js", "/some/route/app.wasm", "/favicon.ico"] {
        let (response, body) = get(&router, uri).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{uri}");
        assert_ne!(body, INDEX_HTML.as_bytes(), "{uri}");
    }
}

#[tokio::test]
async fn files_outside_the_dist_dir_are_never_served() {
    let parent = TempDir::new("traversal");
    parent.write("secret.txt", "top secret");
    parent.write("dist/index.html", INDEX_HTML);
    let router = app(AppState::new(Config::with_dist_dir(
        parent.path().join("dist"),
    )));
    for uri in ["/../secret.txt", "/%2e%2e/secret.txt", "/..%2fsecret.txt"] {
        let (response, body) = get(&router, uri).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{uri}");
        assert!(
            !String::from_utf8_lossy(&body).contains("top secret"),
            "{uri}"
        );
    }
}

#[tokio::test]
async fn other_methods_on_static_paths_are_rejected() {
    let dist = dist_fixture();
    let request = Request::builder()
        .method(Method::POST)
        .uri("/index.html")
        .body(Body::empty())
        .unwrap();
    let (response, _) = send(&router_for(&dist), request).await;
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn large_responses_are_compressed_as_negotiated() {
    let dist = dist_fixture();
    let router = router_for(&dist);
    let uri = format!("/{HASHED_JS}");
    let original = common::big_js();

    let (response, body) = get_with_encoding(&router, &uri, "gzip").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header_of(&response, header::CONTENT_ENCODING), "gzip");
    assert!(header_of(&response, header::VARY).contains("accept-encoding"));
    assert_eq!(&body[..2], &[0x1f, 0x8b], "gzip magic number");
    assert!(body.len() < original.len() / 10, "{} bytes", body.len());

    let (response, body) = get_with_encoding(&router, &uri, "gzip;q=0.5, br").await;
    assert_eq!(header_of(&response, header::CONTENT_ENCODING), "br");
    assert!(body.len() < original.len() / 10, "{} bytes", body.len());

    let (response, body) = get(&router, &uri).await;
    assert!(response.headers().get(header::CONTENT_ENCODING).is_none());
    assert_eq!(body, original.as_bytes());
}

#[tokio::test]
async fn precompressed_siblings_are_preferred() {
    let dist = dist_fixture();
    let router = router_for(&dist);

    let (response, body) = get_with_encoding(&router, "/precompressed.js", "br, gzip").await;
    assert_eq!(header_of(&response, header::CONTENT_ENCODING), "br");
    assert!(header_of(&response, header::CONTENT_TYPE).starts_with("text/javascript"));
    assert!(header_of(&response, header::VARY).contains("accept-encoding"));
    assert_eq!(&body[..], FAKE_BR);

    let (response, body) = get_with_encoding(&router, "/precompressed.js", "gzip").await;
    assert_eq!(header_of(&response, header::CONTENT_ENCODING), "gzip");
    assert_eq!(&body[..], FAKE_GZ);
}

#[tokio::test]
async fn hashed_assets_are_immutable_and_the_rest_revalidates() {
    let dist = dist_fixture();
    let router = router_for(&dist);
    for (uri, expected) in [
        (
            format!("/{HASHED_JS}"),
            "public, max-age=31536000, immutable",
        ),
        (
            format!("/{HASHED_WASM}"),
            "public, max-age=31536000, immutable",
        ),
        ("/".to_owned(), "no-cache"),
        ("/index.html".to_owned(), "no-cache"),
        ("/style.css".to_owned(), "no-cache"),
        ("/missing-1a2b3c4d5e6f7a8b.js".to_owned(), "no-cache"),
    ] {
        let (response, _) = get(&router, &uri).await;
        assert_eq!(
            header_of(&response, header::CACHE_CONTROL),
            expected,
            "{uri}"
        );
    }
}

#[tokio::test]
async fn metrics_count_previous_requests_by_route_template() {
    let dist = dist_fixture();
    let router = router_for(&dist);
    get(&router, "/healthz").await;
    get(&router, "/healthz").await;
    get(&router, "/some/route").await;
    get(&router, "/missing.js").await;

    let (response, body) = get(&router, "/metrics").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        header_of(&response, header::CONTENT_TYPE),
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = String::from_utf8(body.to_vec()).unwrap();
    for line in [
        r#"http_requests_total{method="GET",route="/healthz",status="200"} 2"#,
        r#"http_requests_total{method="GET",route="static",status="200"} 1"#,
        r#"http_requests_total{method="GET",route="static",status="404"} 1"#,
        "# TYPE http_request_duration_seconds histogram",
        r#"http_request_duration_seconds_count{method="GET",route="/healthz"} 2"#,
        r#"http_request_duration_seconds_count{method="GET",route="static"} 2"#,
        r#"http_request_duration_seconds_bucket{method="GET",route="/healthz",le="+Inf"} 2"#,
    ] {
        assert!(text.contains(line), "missing `{line}` in:\n{text}");
    }
    let build_info = format!(
        r#"relay_build_info{{version="{}"}} 1"#,
        env!("CARGO_PKG_VERSION")
    );
    assert!(text.contains(&build_info), "{text}");
    // Request paths never become labels.
    assert!(!text.contains("/some/route"), "{text}");
    assert!(!text.contains("missing.js"), "{text}");

    // The scrape itself is counted once it has been answered.
    let (_, body) = get(&router, "/metrics").await;
    let text = String::from_utf8(body.to_vec()).unwrap();
    assert!(text.contains(r#"http_requests_total{method="GET",route="/metrics",status="200"} 1"#));
}

#[tokio::test]
async fn handler_errors_are_json_without_internals() {
    let response = axum::response::IntoResponse::into_response(relay_server::ApiError::Internal(
        "disk /var/secret exploded".into(),
    ));
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(json(&body), serde_json::json!({"error": "internal error"}));
}
