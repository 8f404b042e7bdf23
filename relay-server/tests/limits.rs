//! The relay's HTTP limits against a real server on loopback: slow and idle clients are cut
//! off at the configured timeouts, every error answer (the framework's own included) is the
//! documented JSON, over-long paths are 404 or 414 and never logged as errors, invalid UTF-8
//! in a query is refused, and an oversized websocket frame is closed with 1009.

mod common;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use futures_util::{SinkExt, StreamExt};
use http_body_util::BodyExt;
use relay_server::{AppState, Config, app, server};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tower::ServiceExt;

use common::{TempDir, dist_fixture};

/// The head and body timeouts of the served relay (s).
const HEADER_TIMEOUT_S: u64 = 3;
const BODY_TIMEOUT_S: u64 = 2;

fn config(dist: &TempDir) -> Config {
    let mut config = Config::with_dist_dir(dist.path());
    config.no_database = true;
    config.header_timeout = HEADER_TIMEOUT_S;
    config.body_timeout = BODY_TIMEOUT_S;
    config
}

async fn serve(dist: &TempDir) -> SocketAddr {
    serve_with(config(dist)).await
}

async fn serve_with(config: Config) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let state = AppState::new(config);
    tokio::spawn(async move { server::serve(listener, state, std::future::pending()).await });
    addr
}

/// Reads until the server closes the connection (or `limit` passes); returns what it sent
/// and when it closed, measured from `since`.
async fn read_until_closed(
    stream: &mut TcpStream,
    since: Instant,
    limit: Duration,
) -> (Vec<u8>, Option<Duration>) {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while since.elapsed() < limit {
        match tokio::time::timeout(Duration::from_millis(200), stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (got, Some(since.elapsed())),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Err(_) => {}
        }
    }
    (got, None)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slowloris_clients_are_cut_off_at_the_head_timeout() {
    let dist = dist_fixture();
    let addr = serve(&dist).await;
    let head = Duration::from_secs(HEADER_TIMEOUT_S);
    // Twenty clients sending their request head one byte every 2 s.
    let clients: Vec<_> = (0..20)
        .map(|_| {
            tokio::spawn(async move {
                let mut stream = TcpStream::connect(addr).await.unwrap();
                let started = Instant::now();
                let head = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: aaaaaaaa\r\n\r\n";
                let mut buf = [0u8; 256];
                for byte in head {
                    if stream.write_all(&[*byte]).await.is_err() {
                        return Some(started.elapsed());
                    }
                    match tokio::time::timeout(Duration::from_secs(2), stream.read(&mut buf)).await
                    {
                        // Closed (with or without a status line first).
                        Ok(Ok(0)) | Ok(Err(_)) => return Some(started.elapsed()),
                        Ok(Ok(_)) => {
                            let (_, closed) =
                                read_until_closed(&mut stream, started, Duration::from_secs(15))
                                    .await;
                            return closed;
                        }
                        Err(_) => {}
                    }
                    if started.elapsed() > Duration::from_secs(15) {
                        break;
                    }
                }
                None
            })
        })
        .collect();
    // Meanwhile the relay answers others.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let (answer, _) = read_until_closed(&mut stream, Instant::now(), Duration::from_secs(5)).await;
    assert!(
        answer.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    for client in clients {
        let closed = client
            .await
            .unwrap()
            .expect("a slowloris client was never cut off");
        assert!(
            closed >= head - Duration::from_millis(300)
                && closed <= head + Duration::from_millis(2_500),
            "cut off after {closed:?}, the head timeout is {head:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_are_closed_at_the_head_timeout() {
    let dist = dist_fixture();
    let addr = serve(&dist).await;
    let head = Duration::from_secs(HEADER_TIMEOUT_S);
    // A connection that never sends anything.
    let mut silent = TcpStream::connect(addr).await.unwrap();
    let (_, closed) = read_until_closed(&mut silent, Instant::now(), head * 4).await;
    let closed = closed.expect("a silent connection stayed open");
    assert!(closed <= head + Duration::from_secs(2), "{closed:?}");
    // A kept-alive connection idle after its request.
    let mut kept = TcpStream::connect(addr).await.unwrap();
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    let (answer, closed) = read_until_closed(&mut kept, started, head * 4).await;
    assert!(
        answer.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    let closed = closed.expect("an idle kept-alive connection stayed open");
    assert!(closed <= head + Duration::from_secs(2), "{closed:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_past_the_limit_wait_until_one_closes() {
    let dist = dist_fixture();
    let mut config = config(&dist);
    config.max_connections = 2;
    let addr = serve_with(config).await;
    // Two silent connections take both slots until the head timeout closes them.
    let _first = TcpStream::connect(addr).await.unwrap();
    let _second = TcpStream::connect(addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut third = TcpStream::connect(addr).await.unwrap();
    let started = Instant::now();
    third
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let (answer, _) = read_until_closed(&mut third, started, Duration::from_secs(10)).await;
    assert!(
        answer.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    let waited = started.elapsed();
    let head = Duration::from_secs(HEADER_TIMEOUT_S);
    assert!(
        waited >= head - Duration::from_millis(700) && waited <= head + Duration::from_secs(3),
        "answered after {waited:?}; the slots free up at the head timeout, {head:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_never_arrives_gets_408_json_at_the_body_timeout() {
    let dist = dist_fixture();
    let addr = serve(&dist).await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    // Content-Length 100, eight bytes sent.
    stream
        .write_all(
            b"POST /launch HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
              Content-Length: 100\r\n\r\n{\"lat\":1",
        )
        .await
        .unwrap();
    let started = Instant::now();
    let (answer, closed) = read_until_closed(&mut stream, started, Duration::from_secs(10)).await;
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(
        text.to_ascii_lowercase().contains("connection: close"),
        "{text}"
    );
    let closed = closed.expect("the connection stayed open");
    let body = text.split("\r\n\r\n").nth(1).unwrap_or_default();
    let json: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert!(
        json["error"].as_str().unwrap().contains("did not arrive"),
        "{json}"
    );
    let body_timeout = Duration::from_secs(BODY_TIMEOUT_S);
    assert!(
        closed >= body_timeout - Duration::from_millis(300)
            && closed <= body_timeout + Duration::from_secs(2),
        "{closed:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_websocket_frame_is_closed_with_1009() {
    let dist = dist_fixture();
    let addr = serve(&dist).await;
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws/rooms/public"))
        .await
        .unwrap();
    let big = format!(
        r#"{{"v":1,"type":"hello","name":"{}"}}"#,
        "x".repeat(70 * 1024)
    );
    ws.send(Message::Text(big.into())).await.unwrap();
    let close = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(message) = ws.next().await {
            match message {
                Ok(Message::Close(frame)) => return frame,
                Ok(_) => {}
                Err(err) => panic!("the connection failed without a close frame: {err}"),
            }
        }
        panic!("the connection ended without a close frame");
    })
    .await
    .expect("a close frame");
    let frame = close.expect("a close code");
    assert_eq!(frame.code, CloseCode::Size, "{frame:?}");
    assert_eq!(frame.reason.as_str(), "message too big");
}

/// A log sink: what the relay logs at WARN and above while a test runs.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// Status, headers and JSON body of a request through the router; panics unless the body is
/// the documented error JSON, one clear sentence.
async fn json_error(
    router: &axum::Router,
    request: Request<Body>,
) -> (StatusCode, header::HeaderMap, String) {
    let what = format!("{} {:.60}", request.method(), request.uri());
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    assert!(
        content_type.starts_with("application/json"),
        "{what}: {status} {content_type:?} {:?}",
        String::from_utf8_lossy(&bytes)
    );
    let body: Value = serde_json::from_slice(&bytes).unwrap();
    let message = body["error"].as_str().unwrap_or_default().to_owned();
    assert!(
        !message.is_empty() && !message.contains('\n') && message.len() <= 400,
        "{what}: {body}"
    );
    (status, headers, message)
}

#[tokio::test]
async fn every_error_answer_is_the_documented_json() {
    let logs = Logs::default();
    let sink = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::WARN)
        .with_ansi(false)
        .with_writer(move || sink.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let dist = dist_fixture();
    let router = app(AppState::new(config(&dist)));
    let get = |uri: &str| Request::get(uri).body(Body::empty()).unwrap();

    // 405, from axum's method router, with its Allow header.
    let (status, headers, message) = json_error(
        &router,
        Request::builder()
            .method(Method::DELETE)
            .uri("/healthz")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(headers.contains_key(header::ALLOW));
    assert!(message.contains("DELETE"), "{message}");
    let (status, _, _) = json_error(
        &router,
        Request::post("/index.html").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);

    // 413, from the body limit of POST /launch.
    let big = format!(r#"{{"pad":"{}"}}"#, "z".repeat(20_000));
    let (status, _, _) = json_error(
        &router,
        Request::post("/launch")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(big))
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);

    // 414 past 8 KiB of URI; a 5,000-character path segment is a 404, GET or HEAD, with or
    // without an extension, on any route; never a 500 and never an ERROR in the log.
    let (status, _, _) = json_error(&router, get(&format!("/{}", "a".repeat(10_000)))).await;
    assert_eq!(status, StatusCode::URI_TOO_LONG);
    let (status, _, _) = json_error(&router, get(&format!("/?q={}", "a".repeat(10_000)))).await;
    assert_eq!(status, StatusCode::URI_TOO_LONG);
    let long = "a".repeat(5_000);
    for uri in [
        format!("/{long}"),
        format!("/{long}.js"),
        format!("/assets/{long}/x"),
        format!("/s/{long}"),
    ] {
        let (status, _, _) = json_error(&router, get(&uri)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{uri:.40}");
        let response = router
            .clone()
            .oneshot(Request::head(&uri).body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "HEAD {uri:.40}");
    }

    // 404 of a missing file, and of a route's missing thing.
    let (status, _, _) = json_error(&router, get("/missing.js")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // 400: invalid UTF-8 in a query value is refused, not replaced.
    let (status, _, message) = json_error(
        &router,
        Request::post("/launch?lat=34.7&lon=-120.6&targetLat=34.05&targetLon=-118.25&label=%ff%fe")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        message.contains("UTF-8") && message.contains("label"),
        "{message}"
    );

    // Websocket upgrades refused by axum (no upgrade headers; not a GET).
    let (status, _, _) = json_error(&router, get("/ws/rooms/public")).await;
    assert!(status.is_client_error(), "{status}");
    let (status, _, _) = json_error(
        &router,
        Request::post("/ws/rooms/public")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    // A path parameter axum cannot decode.
    let (status, _, _) = json_error(&router, get("/ws/rooms/%ff")).await;
    assert!(status.is_client_error(), "{status}");

    let logged = logs.text();
    assert!(
        !logged.contains("ERROR"),
        "logged at ERROR:\n{logged:.2000}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_path_over_the_wire_is_404_json() {
    let dist = dist_fixture();
    let addr = serve(&dist).await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "GET /{} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
        "a".repeat(5_000)
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let (answer, _) = read_until_closed(&mut stream, Instant::now(), Duration::from_secs(5)).await;
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 404"), "{text:.300}");
    assert!(
        text.to_ascii_lowercase()
            .contains("content-type: application/json"),
        "{text:.300}"
    );
}
