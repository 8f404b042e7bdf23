//! The soak's durable pull consumer of `MDSIM_EVENTS`, written as an outside program would be:
//! it reconnects after every error, resumes from its durable position, acknowledges what it
//! read, and is itself stopped and started again when the chaos loop says so.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_nats::jetstream::consumer::{AckPolicy, DeliverPolicy, PullConsumer, pull};
use futures_util::StreamExt;
use serde_json::Value;

use relay_server::nats::jetstream::EVENTS_STREAM;

/// The consumer's durable name.
pub const DURABLE: &str = "soak";

/// What the consumer received.
#[derive(Debug, Default)]
pub struct Seen {
    /// Event id -> the stream positions it was delivered from (more than one: stored twice).
    pub positions: BTreeMap<String, BTreeSet<u64>>,
    /// Launch label -> the event ids of launch events carrying it (the soak's REST launches,
    /// labelled `soak-N`; ws-load's labels repeat from one round to the next).
    pub labels: BTreeMap<String, BTreeSet<String>>,
    /// Messages received, redeliveries included.
    pub deliveries: u64,
    /// Messages whose delivery count was above 1 (acknowledgements lost with the server).
    pub redelivered: u64,
    /// Sessions (connection + consumer) it went through.
    pub sessions: u64,
}

/// Shared between the consumer task, the chaos loop and the report.
#[derive(Default)]
pub struct Control {
    pub seen: Mutex<Seen>,
    /// Raised by the chaos loop: drop everything and stay away `away_ms`.
    pub restart: AtomicBool,
    pub away_ms: AtomicU64,
    /// Raised at the end of the run.
    pub stop: AtomicBool,
    /// Messages still pending at the consumer after the last fetch (from its info).
    pub pending: AtomicU64,
}

impl Control {
    /// The seen set, whatever a panicking holder left.
    pub fn seen(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.seen.lock().unwrap_or_else(|p| p.into_inner())
    }
}

const STEP: Duration = Duration::from_secs(5);

async fn open(url: &str) -> Result<(async_nats::Client, PullConsumer), String> {
    let client = tokio::time::timeout(STEP, async_nats::connect(url))
        .await
        .map_err(|_| "connect timed out".to_string())?
        .map_err(|e| e.to_string())?;
    let js = async_nats::jetstream::new(client.clone());
    let stream = tokio::time::timeout(STEP, js.get_stream(EVENTS_STREAM))
        .await
        .map_err(|_| "get_stream timed out".to_string())?
        .map_err(|e| e.to_string())?;
    let config = pull::Config {
        durable_name: Some(DURABLE.to_string()),
        deliver_policy: DeliverPolicy::All,
        ack_policy: AckPolicy::Explicit,
        ..Default::default()
    };
    let consumer = tokio::time::timeout(STEP, stream.get_or_create_consumer(DURABLE, config))
        .await
        .map_err(|_| "get_or_create_consumer timed out".to_string())?
        .map_err(|e| e.to_string())?;
    Ok((client, consumer))
}

fn record(control: &Control, message: &async_nats::jetstream::Message) {
    let Ok(info) = message.info() else { return };
    let envelope: Value = serde_json::from_slice(&message.payload).unwrap_or(Value::Null);
    let id = message
        .headers
        .as_ref()
        .and_then(|h| h.get("Nats-Msg-Id"))
        .map(|v| v.as_str().to_string())
        .or_else(|| envelope["event_id"].as_str().map(str::to_owned))
        .unwrap_or_default();
    let mut seen = control.seen();
    seen.deliveries += 1;
    if info.delivered > 1 {
        seen.redelivered += 1;
    }
    seen.positions
        .entry(id.clone())
        .or_default()
        .insert(info.stream_sequence);
    if envelope["type"] == "launch"
        && let Some(label) = envelope["payload"]["label"].as_str()
        && label.starts_with("soak-")
    {
        seen.labels.entry(label.to_string()).or_default().insert(id);
    }
}

/// One session: fetch, record and acknowledge until an error, a restart or the stop.
async fn session(url: &str, control: &Control) -> Result<(), String> {
    let (client, mut consumer) = open(url).await?;
    control.seen().sessions += 1;
    loop {
        if control.stop.load(Ordering::Relaxed) || control.restart.load(Ordering::Relaxed) {
            return Ok(());
        }
        let mut batch = tokio::time::timeout(
            STEP,
            consumer
                .batch()
                .max_messages(500)
                .expires(Duration::from_secs(1))
                .messages(),
        )
        .await
        .map_err(|_| "batch timed out".to_string())?
        .map_err(|e| e.to_string())?;
        loop {
            match tokio::time::timeout(STEP, batch.next()).await {
                Ok(Some(Ok(message))) => {
                    record(control, &message);
                    // A lost acknowledgement only means a redelivery, which is counted.
                    let _ = message.ack().await;
                }
                Ok(Some(Err(e))) => return Err(e.to_string()),
                Ok(None) => break,
                Err(_) => return Err("no message nor end of batch in 5 s".into()),
            }
        }
        let _ = tokio::time::timeout(STEP, client.flush()).await;
        if let Ok(Ok(info)) = tokio::time::timeout(STEP, consumer.info()).await {
            control.pending.store(info.num_pending, Ordering::Relaxed);
        }
    }
}

/// Runs the consumer until [`Control::stop`], through every outage and restart.
pub async fn run(url: String, control: Arc<Control>) {
    while !control.stop.load(Ordering::Relaxed) {
        let result = session(&url, &control).await;
        if control.restart.swap(false, Ordering::Relaxed) {
            let away = control.away_ms.load(Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(away)).await;
        } else if result.is_err() {
            control.pending.store(u64::MAX, Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }
}

/// Every event id in the stream now, read from its start by an ephemeral consumer (to tell a
/// gap of the durable consumer from an event that never reached the stream).
pub async fn read_all(url: &str) -> Result<BTreeSet<String>, String> {
    let client = tokio::time::timeout(STEP, async_nats::connect(url))
        .await
        .map_err(|_| "connect timed out".to_string())?
        .map_err(|e| e.to_string())?;
    let js = async_nats::jetstream::new(client.clone());
    let stream = js
        .get_stream(EVENTS_STREAM)
        .await
        .map_err(|e| e.to_string())?;
    let mut consumer: PullConsumer = stream
        .create_consumer(pull::Config {
            deliver_policy: DeliverPolicy::All,
            ack_policy: AckPolicy::None,
            inactive_threshold: Duration::from_secs(60),
            ..Default::default()
        })
        .await
        .map_err(|e| e.to_string())?;
    let mut ids = BTreeSet::new();
    loop {
        let mut batch = consumer
            .batch()
            .max_messages(1000)
            .expires(Duration::from_secs(1))
            .messages()
            .await
            .map_err(|e| e.to_string())?;
        while let Some(Ok(message)) = tokio::time::timeout(STEP, batch.next())
            .await
            .map_err(|_| "the stream stalled".to_string())?
        {
            if let Some(id) = message.headers.as_ref().and_then(|h| h.get("Nats-Msg-Id")) {
                ids.insert(id.as_str().to_string());
            }
        }
        let info = consumer.info().await.map_err(|e| e.to_string())?;
        if info.num_pending == 0 {
            return Ok(ids);
        }
    }
}
