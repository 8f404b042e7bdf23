//! The event bus and persistence: referee events with ids on the in-process bus, the old
//! metric names on `/metrics`, and rows in SQLite (always) and PostgreSQL + PostGIS (a real
//! server started by the test, when installed), with the database stopped and restarted
//! mid-run.

mod common;

use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use relay_server::{AppState, Config, app};
use serde_json::Value;
use tower::ServiceExt;

use common::services::Postgres;
use common::{TempDir, dist_fixture};

/// Vandenberg to Los Angeles: a SCUD-C reaches it.
const LAUNCH: &str =
    "/launch?lat=34.7&lon=-120.6&targetLat=34.05&targetLon=-118.25&missileType=SCUD-C";

async fn send(router: &Router, request: Request<Body>) -> (StatusCode, Value) {
    let response = router.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let bytes: Bytes = response.into_body().collect().await.unwrap().to_bytes();
    let json = serde_json::from_slice(&bytes)
        .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, json)
}

async fn launch(router: &Router) -> Value {
    let (status, body) = send(router, Request::post(LAUNCH).body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn metrics(router: &Router) -> String {
    let (_, body) = send(
        router,
        Request::get("/metrics").body(Body::empty()).unwrap(),
    )
    .await;
    body.as_str().unwrap().to_string()
}

/// The value of an unlabelled series in a metrics text.
fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {name} in\n{text}"))
}

async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

/// A `trajectory` event for `missile` (`M1`) in the run of the room of `flight_event`.
fn trajectory_of(flight_event: &str, missile: &str) -> std::sync::Arc<relay_server::bus::BusEvent> {
    let mut parts = flight_event.split(':');
    let (room, run) = (parts.next().unwrap(), parts.next().unwrap());
    let n: u32 = missile.trim_start_matches('M').parse().unwrap();
    std::sync::Arc::new(relay_server::bus::BusEvent::from_payload(
        room,
        run,
        99_999,
        7,
        serde_json::json!({"type": "trajectory", "tick": 99_999, "time_s": 9999.9, "missile": n,
                           "points": [[34.7, -120.6, 0.0], [35.2, -119.4, 90000.0],
                                      [34.05, -118.25, 0.0]]}),
    ))
}

fn config(dist: &TempDir, data: &TempDir) -> Config {
    let mut config = Config::with_dist_dir(dist.path());
    config.data_dir = data.path().to_path_buf();
    config
}

#[tokio::test]
async fn rest_launches_reach_the_bus_with_deterministic_ids() {
    let dist = dist_fixture();
    let state = AppState::new(Config::with_dist_dir(dist.path()));
    let mut events = state.bus().subscribe();
    let router = app(state.clone());
    let body = launch(&router).await;
    let tick = body["tick"].as_u64().unwrap();
    let launch = loop {
        let e = tokio::time::timeout(Duration::from_secs(10), events.recv())
            .await
            .expect("an event")
            .unwrap();
        if e.kind == "launch" {
            break e;
        }
    };
    assert_eq!(launch.room, "public");
    assert_eq!(launch.tick, tick);
    let parts: Vec<&str> = launch.event_id.split(':').collect();
    assert_eq!(parts.len(), 4, "{}", launch.event_id);
    assert_eq!(parts[0], "public");
    assert_eq!(parts[1].len(), 8);
    assert_eq!(parts[2], tick.to_string());
    assert_eq!(parts[3], launch.index.to_string());
    assert_eq!(
        format!("M{}", launch.payload["missile"]),
        body["missile_id"].as_str().unwrap()
    );
    assert_eq!(
        metric(&metrics(&router).await, "missile_launches_total"),
        1.0
    );
}

#[tokio::test]
async fn sqlite_keeps_events_flights_and_short_links_across_restarts() {
    let dist = dist_fixture();
    let data = TempDir::new("sqlite");
    let state = AppState::start(config(&dist, &data)).await.unwrap();
    let router = app(state.clone());
    let store = state.store().expect("the default SQLite store").clone();
    assert!(!store.is_postgres());
    let body = launch(&router).await;
    let missile = body["missile_id"].as_str().unwrap().to_string();
    let pool = store.sqlite().unwrap().clone();
    eventually("the flight row", || {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM missile_flight")
                .fetch_one(&pool)
                .await
                .is_ok_and(|n| n == 1)
        }
    })
    .await;
    let (id, kind, lat, lon, tlat, tlon): (String, String, f64, f64, f64, f64) = sqlx::query_as(
        "SELECT missile_id, type, launch_lat, launch_lon, target_lat, target_lon FROM missile_flight",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((id.as_str(), kind.as_str()), (missile.as_str(), "SCUD-C"));
    assert_eq!((lat, lon, tlat, tlon), (34.7, -120.6, 34.05, -118.25));
    // The flown path, from the relay's trajectory event of the same run of the room.
    let flight_event: String = sqlx::query_scalar("SELECT event_id FROM missile_flight")
        .fetch_one(&pool)
        .await
        .unwrap();
    store
        .write_events(&[trajectory_of(&flight_event, &missile)])
        .await
        .unwrap();
    let wkt: String = sqlx::query_scalar("SELECT trajectory FROM missile_flight")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(wkt, "LINESTRING(-120.6 34.7, -119.4 35.2, -118.25 34.05)");

    let types: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM missile_type")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(types >= 3, "{types} missile types");
    let sites: Vec<(String, String, f64, f64, i64)> = sqlx::query_as(
        "SELECT call_sign, type, lat, lon, ammo_count FROM battery ORDER BY call_sign",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        sites,
        [
            ("BAT_LA".into(), "SM-6".into(), 34.05, -118.25, 32),
            ("BAT_SD".into(), "SM-6".into(), 32.71, -117.15, 16)
        ]
    );

    // Writes are idempotent by event id.
    let event = std::sync::Arc::new(relay_server::bus::BusEvent::from_payload(
        "test-room",
        "00000000",
        9,
        0,
        serde_json::json!({"type": "impact", "tick": 9, "time_s": 0.9,
                           "at": {"lat_deg": 33.0, "lon_deg": -118.0}}),
    ));
    store
        .write_events(&[event.clone(), event.clone()])
        .await
        .unwrap();
    store
        .write_events(std::slice::from_ref(&event))
        .await
        .unwrap();
    let same: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM event WHERE event_id = ?")
        .bind(&event.event_id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(same, 1);
    assert!(store.count_events().await.unwrap() >= 2);
    let (lat, lon): (f64, f64) = sqlx::query_as("SELECT lat, lon FROM event WHERE event_id = ?")
        .bind(&event.event_id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!((lat, lon), (33.0, -118.0));

    // Rooms are recorded when created, private.
    let (status, room) = send(
        &router,
        Request::post("/api/rooms").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{room}");
    let private: bool = sqlx::query_scalar("SELECT private FROM room WHERE id = ?")
        .bind(room["room"].as_str().unwrap())
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(private);

    // A short link survives a restart of the relay.
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/socal-scud-c.json"),
    )
    .unwrap();
    let (status, created) = send(
        &router,
        Request::post("/api/scenarios")
            .body(Body::from(text.clone()))
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let link = created["scenario"].as_str().unwrap().to_string();
    let restarted = app(AppState::start(config(&dist, &data)).await.unwrap());
    let (status, stored) = send(&restarted, Request::get(&link).body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{stored}");
    assert_eq!(stored, serde_json::from_str::<Value>(&text).unwrap());
    let text = metrics(&router).await;
    assert!(metric(&text, "db_written_total") >= 1.0, "{text}");
}

#[tokio::test]
async fn postgis_stores_geography_and_loses_nothing_while_down() {
    let Some(pg) = Postgres::start() else {
        return;
    };
    let dist = dist_fixture();
    let data = TempDir::new("pg-unused");
    let mut config = config(&dist, &data);
    config.database_url = Some(pg.url());
    let state = AppState::start(config).await.unwrap();
    let store = state.store().unwrap().clone();
    assert!(store.is_postgres());
    let pool = store.postgres().unwrap().clone();
    let router = app(state.clone());
    launch(&router).await;
    let flights = |n: i64| {
        let pool = pool.clone();
        move || {
            let pool = pool.clone();
            async move {
                sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM missile_flight")
                    .fetch_one(&pool)
                    .await
                    .is_ok_and(|c| c == n)
            }
        }
    };
    eventually("the first flight row", flights(1)).await;
    let (lat, lon, tlat, tlon): (f64, f64, f64, f64) = sqlx::query_as(
        "SELECT ST_Y(launch_geom::geometry), ST_X(launch_geom::geometry), \
         ST_Y(target_geom::geometry), ST_X(target_geom::geometry) FROM missile_flight",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(
        (lat - 34.7).abs() < 1e-9 && (lon + 120.6).abs() < 1e-9,
        "{lat} {lon}"
    );
    assert!((tlat - 34.05).abs() < 1e-9 && (tlon + 118.25).abs() < 1e-9);
    // Vandenberg to Los Angeles on the WGS 84 spheroid: about 229 km.
    let km: f64 = sqlx::query_scalar(
        "SELECT ST_Distance(launch_geom, target_geom) / 1000 FROM missile_flight",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!((200.0..260.0).contains(&km), "{km} km");
    // The flown path as a geography line string.
    let (flight_event, missile): (String, String) =
        sqlx::query_as("SELECT event_id, missile_id FROM missile_flight")
            .fetch_one(&pool)
            .await
            .unwrap();
    store
        .write_events(&[trajectory_of(&flight_event, &missile)])
        .await
        .unwrap();
    let (points, km): (i32, f64) = sqlx::query_as(
        "SELECT ST_NPoints(trajectory::geometry), ST_Length(trajectory) / 1000 FROM missile_flight",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(points, 3);
    // Two legs of about 120 and 165 km on the ground track.
    assert!((250.0..320.0).contains(&km), "{km} km");

    // The preset's sites as geography: Vandenberg's radar to the Los Angeles battery.
    let km: f64 = sqlx::query_scalar(
        "SELECT ST_Distance(r.geom, b.geom) / 1000 FROM radar_site r, battery b \
         WHERE r.call_sign = 'RAD_VBG' AND b.call_sign = 'BAT_LA'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!((200.0..260.0).contains(&km), "{km} km");

    // The database goes away: launches still work, events wait, nothing is lost.
    pg.stop();
    launch(&router).await;
    launch(&router).await;
    eventually("events buffered", || {
        let router = router.clone();
        async move { metric(&metrics(&router).await, "db_buffer_events") >= 1.0 }
    })
    .await;
    pg.restart();
    eventually("all three flights stored", flights(3)).await;
    eventually("the buffer drained", || {
        let router = router.clone();
        async move { metric(&metrics(&router).await, "db_buffer_events") == 0.0 }
    })
    .await;
    let distinct: i64 = sqlx::query_scalar("SELECT COUNT(DISTINCT event_id) FROM event")
        .fetch_one(&pool)
        .await
        .unwrap();
    let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM event")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(distinct, total);
    // Every stored event came through the writer, but the trajectory the test wrote itself.
    assert!(metric(&metrics(&router).await, "db_written_total") >= (total - 1) as f64);
}
