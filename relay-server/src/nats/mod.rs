//! The NATS bridge (`--nats-url`): referee events out, launches in.
//!
//! Outbound, every event on the [`EventBus`] is published twice:
//! - on `mdsim.events.{room}.{type}` as the whole [`BusEvent`] envelope (JSON);
//! - on the old system's subject when it has one, as a flat JSON object that keeps the old
//!   field names next to `event_id`, `room` and `tick`: `radar.detection` (`radar_id`,
//!   `missile_id`, `ts`, `snr`, `lat`, `lon`), `command.intercept` (from
//!   `engagement-ordered`: `missile_id`, `battery_call_sign`, `fire_ts`, `blast_radius` where
//!   the event has them), `interceptor.detonation` (from `intercept`: `missile_id`,
//!   `blast_ts`, `blast_radius`); and on the new flat subjects `missile.launch`,
//!   `missile.impact`, `track.confirmed`, `track.deleted`. `ts`, `fire_ts` and `blast_ts` are
//!   the simulation time in seconds (the old system used wall-clock seconds).
//!
//! Inbound, a JSON object of the `POST /launch` fields published on [`INBOUND_LAUNCH`]
//! launches into its room (the public one by default) after exactly the REST validation; a
//! request (with a reply subject) is answered with the REST body, or `{"error": ...}`; at
//! most 64 are handled at once, more are refused as busy.
//!
//! Where the server has JetStream, the envelopes are also stored in the stream
//! [`jetstream::EVENTS_STREAM`] (created or updated by each relay on start and after each
//! reconnection, with limits from the configuration), published with `Nats-Msg-Id` = the event
//! id and an awaited acknowledgement; see [`publish`] for the publisher and its dead letters.
//!
//! Invariants: delivery into the stream is at least once and, within its duplicate window,
//! exactly once by event id (a batch not acknowledged, flushed or timed out is published
//! again); delivery on the core subjects is at most once per connection of a subscriber (core
//! NATS keeps nothing); a message NATS refuses (too large, invalid) is set aside and counted,
//! never retried; the client reconnects forever with a backoff capped at
//! [`MAX_RECONNECT_DELAY`], and the subscription is renewed by the client on reconnection;
//! while NATS is unreachable, events wait in the bounded [`Outbox`] (`nats_buffer_events`), and
//! nothing in a room waits for NATS. Without JetStream on the server the relay runs on core
//! subjects only and says so once.

pub mod jetstream;
mod publish;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use serde_json::{Map, Value, json};

use crate::AppState;
use crate::bus::{BusEvent, Outbox};
use crate::metrics::{OpLabels, ServiceMetrics};

/// The subject outside programs publish launches on.
pub const INBOUND_LAUNCH: &str = "command.launch";
/// The queue group of the relays' [`INBOUND_LAUNCH`] subscriptions.
pub const INBOUND_QUEUE_GROUP: &str = "mdsim-relays";
/// Longest wait between reconnection attempts.
pub const MAX_RECONNECT_DELAY: Duration = Duration::from_secs(2);
/// Inbound launches handled at once; more are answered "busy" at once.
const MAX_INBOUND_IN_FLIGHT: usize = 64;

/// Connects to `url` (returning at once: the first connection is retried in the background)
/// and starts the outbound publisher and the inbound launch subscriber.
pub async fn start(
    url: &str,
    state: &AppState,
    outbox: Arc<Outbox>,
) -> Result<async_nats::Client, String> {
    let metrics = state.metrics().nats().clone();
    let events_metrics = metrics.clone();
    let connections = Arc::new(publish::Connections::default());
    let counted = connections.clone();
    let client = async_nats::ConnectOptions::new()
        .name("mdsim-relay")
        .retry_on_initial_connect()
        .max_reconnects(None)
        .reconnect_delay_callback(|attempts| {
            let ms = 50u64.saturating_mul(1 << attempts.min(10));
            Duration::from_millis(ms).min(MAX_RECONNECT_DELAY)
        })
        .event_callback(move |event| {
            let metrics = events_metrics.clone();
            if matches!(event, async_nats::Event::Connected) {
                counted.connected();
            }
            async move {
                match event {
                    async_nats::Event::Connected => tracing::info!("NATS connected"),
                    async_nats::Event::Disconnected => {
                        metrics.error("disconnect");
                        tracing::warn!("NATS disconnected; events wait in the buffer");
                    }
                    other => tracing::debug!("NATS event: {other}"),
                }
            }
        })
        .connect(url)
        .await
        .map_err(|e| format!("cannot connect to NATS at {url}: {e}"))?;
    let publisher = publish::Publisher::new(
        client.clone(),
        outbox,
        metrics.clone(),
        state.metrics().dead_letters("nats"),
        jetstream::StreamLimits::from_config(state.config()),
        connections,
    );
    tokio::spawn(publisher.run());
    // A queue group: with several relays on one NATS, each launch is handled by one of them
    // (which forwards it to the room's owner when another relay owns the room).
    let subscriber = client
        .queue_subscribe(INBOUND_LAUNCH, INBOUND_QUEUE_GROUP.into())
        .await
        .map_err(|e| format!("cannot subscribe to {INBOUND_LAUNCH}: {e}"))?;
    tokio::spawn(inbound_loop(
        client.clone(),
        subscriber,
        state.clone(),
        metrics,
    ));
    Ok(client)
}

/// A NATS subject token: anything outside `[A-Za-z0-9_-]` becomes `_` (room ids and event
/// types are already of that form).
fn token(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The `(subject, body)` pairs published for one event.
pub fn messages(event: &BusEvent) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::with_capacity(2);
    let envelope = serde_json::to_vec(event).unwrap_or_default();
    out.push((
        format!("mdsim.events.{}.{}", token(&event.room), token(&event.kind)),
        envelope,
    ));
    if let Some((subject, body)) = legacy(event) {
        out.push((subject.to_string(), body));
    }
    out
}

/// The old-style subject and flat body of an event, if it has one.
fn legacy(event: &BusEvent) -> Option<(&'static str, Vec<u8>)> {
    let (subject, time_field) = match event.kind.as_str() {
        "detection" => ("radar.detection", "ts"),
        "engagement-ordered" => ("command.intercept", "fire_ts"),
        "intercept" => ("interceptor.detonation", "blast_ts"),
        "launch" => ("missile.launch", "ts"),
        "impact" => ("missile.impact", "ts"),
        "track-confirmed" => ("track.confirmed", "ts"),
        "track-deleted" => ("track.deleted", "ts"),
        _ => return None,
    };
    let mut flat = match &event.payload {
        Value::Object(map) => map.clone(),
        _ => Map::new(),
    };
    flat.insert("event_id".into(), json!(event.event_id));
    flat.insert("room".into(), json!(event.room));
    flat.insert("tick".into(), json!(event.tick));
    flat.entry(time_field).or_insert(json!(event.time_s));
    // Old names where the new event spells them differently.
    if !flat.contains_key("missile_id")
        && let Some(m) = flat
            .get("missile")
            .or_else(|| flat.get("target"))
            .or_else(|| flat.get("track"))
            .cloned()
    {
        flat.insert("missile_id".into(), m);
    }
    if let Some(b) = flat.get("call_sign").cloned() {
        flat.entry("battery_call_sign").or_insert(b);
    }
    if let Some(r) = flat.get("blast_radius_m").cloned() {
        flat.entry("blast_radius").or_insert(r);
    }
    Some((subject, serde_json::to_vec(&Value::Object(flat)).ok()?))
}

/// Launches each inbound message; answers requests.
async fn inbound_loop(
    client: async_nats::Client,
    mut subscriber: async_nats::Subscriber,
    state: AppState,
    metrics: ServiceMetrics,
) {
    let in_flight = Arc::new(tokio::sync::Semaphore::new(MAX_INBOUND_IN_FLIGHT));
    while let Some(message) = subscriber.next().await {
        let Ok(permit) = in_flight.clone().try_acquire_owned() else {
            metrics
                .inbound
                .get_or_create(&OpLabels { op: "busy" })
                .inc();
            if let Some(reply) = message.reply {
                let body = json!({ "error": "the relay is busy with other launches; try again" });
                let _ = client.publish(reply, Bytes::from(body.to_string())).await;
            }
            continue;
        };
        let state = state.clone();
        let client = client.clone();
        let metrics = metrics.clone();
        // Each launch waits for its referee tick; handle them concurrently.
        tokio::spawn(async move {
            let _permit = permit;
            let answer = if message.payload.len() > crate::rest::MAX_LAUNCH_BODY_BYTES {
                Err(crate::ApiError::bad_request(format!(
                    "the message is larger than {} bytes",
                    crate::rest::MAX_LAUNCH_BODY_BYTES
                )))
            } else {
                crate::rest::launch_json(&state, &message.payload).await
            };
            let (result, body) = match answer {
                Ok(launched) => (
                    "launched",
                    serde_json::to_value(launched).unwrap_or_default(),
                ),
                Err(err) => {
                    tracing::info!("inbound NATS launch refused: {err}");
                    ("refused", json!({ "error": err.to_string() }))
                }
            };
            metrics
                .inbound
                .get_or_create(&OpLabels { op: result })
                .inc();
            if let Some(reply) = message.reply {
                let bytes = serde_json::to_vec(&body).unwrap_or_default();
                if client.publish(reply, Bytes::from(bytes)).await.is_err() {
                    metrics.error("reply");
                }
            }
        });
    }
    tracing::warn!("the inbound NATS subscription ended");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detections_keep_the_old_subject_and_fields() {
        let event = BusEvent::from_payload(
            "public",
            "0badcafe",
            7,
            2,
            json!({"type": "detection", "tick": 7, "time_s": 0.75, "radar_id": "RAD_VBG",
                   "missile_id": 4, "snr": 21.5, "lat": 34.1, "lon": -118.2}),
        );
        let out = messages(&event);
        assert_eq!(out[0].0, "mdsim.events.public.detection");
        assert_eq!(out[1].0, "radar.detection");
        let flat: Value = serde_json::from_slice(&out[1].1).unwrap();
        for (key, value) in [
            ("radar_id", json!("RAD_VBG")),
            ("missile_id", json!(4)),
            ("ts", json!(0.75)),
            ("snr", json!(21.5)),
            ("lat", json!(34.1)),
            ("lon", json!(-118.2)),
            ("event_id", json!("public:0badcafe:7:2")),
            ("room", json!("public")),
        ] {
            assert_eq!(flat[key], value, "{key}");
        }
        let back: BusEvent = serde_json::from_slice(&out[0].1).unwrap();
        assert_eq!(back, event);
    }

    #[test]
    fn engagement_events_map_to_the_old_command_subjects() {
        let ordered = BusEvent::from_payload(
            "r",
            "0",
            1,
            0,
            json!({"type": "engagement-ordered", "time_s": 1.0, "target": 5, "call_sign": "BAT_LA"}),
        );
        let out = messages(&ordered);
        assert_eq!(out[1].0, "command.intercept");
        let flat: Value = serde_json::from_slice(&out[1].1).unwrap();
        assert_eq!(flat["missile_id"], json!(5));
        assert_eq!(flat["battery_call_sign"], json!("BAT_LA"));
        assert_eq!(flat["fire_ts"], json!(1.0));
        let hit =
            BusEvent::from_payload("r", "0", 1, 1, json!({"type": "intercept", "kill": true}));
        assert_eq!(messages(&hit)[1].0, "interceptor.detonation");
        let other = BusEvent::from_payload("r", "0", 1, 2, json!({"type": "apogee"}));
        assert_eq!(messages(&other).len(), 1);
    }
}
