//! The relay's JetStream stream read as an outside consumer would: pull consumers on
//! `MDSIM_EVENTS`, each stored event with its stream sequence, `Nats-Msg-Id` and delivery count.

use std::time::Duration;

use async_nats::jetstream::consumer::{AckPolicy, Consumer, DeliverPolicy, pull};
use serde_json::Value;

pub use relay_server::nats::jetstream::EVENTS_STREAM;

/// One event as a consumer received it.
#[derive(Debug, Clone)]
pub struct Stored {
    /// Its position in the stream.
    pub sequence: u64,
    /// Delivery attempts so far (more than 1 when redelivered).
    pub delivered: i64,
    /// Its subject, `mdsim.events.{room}.{type}`.
    pub subject: String,
    /// Its `Nats-Msg-Id` header.
    pub msg_id: Option<String>,
    /// The envelope.
    pub envelope: Value,
}

impl Stored {
    /// The envelope's `event_id`.
    pub fn event_id(&self) -> &str {
        self.envelope["event_id"].as_str().unwrap_or_default()
    }
}

/// A JetStream context on `client`.
pub fn context(client: &async_nats::Client) -> async_nats::jetstream::Context {
    async_nats::jetstream::new(client.clone())
}

/// The durable pull consumer `name` of the events stream, from the stream's first event,
/// restricted to `filter` (`""` for every subject), with explicit acks.
pub async fn consumer(
    client: &async_nats::Client,
    name: &str,
    filter: &str,
) -> Consumer<pull::Config> {
    let stream = context(client)
        .get_stream(EVENTS_STREAM)
        .await
        .expect("the relay created the events stream");
    let config = pull::Config {
        durable_name: Some(name.to_string()),
        deliver_policy: DeliverPolicy::All,
        ack_policy: AckPolicy::Explicit,
        filter_subject: filter.to_string(),
        ..Default::default()
    };
    stream
        .get_or_create_consumer(name, config)
        .await
        .expect("create the consumer")
}

/// The durable consumer `name` as it was left (after a restart of the consumer or of NATS).
pub async fn durable(client: &async_nats::Client, name: &str) -> Consumer<pull::Config> {
    context(client)
        .get_stream(EVENTS_STREAM)
        .await
        .expect("the events stream survived")
        .get_consumer(name)
        .await
        .expect("the durable consumer survived")
}

/// Fetches and acknowledges what the consumer has now, up to `max` events, waiting at most
/// `wait` for the first; the acknowledgements are flushed before returning.
pub async fn fetch(
    client: &async_nats::Client,
    consumer: &Consumer<pull::Config>,
    max: usize,
    wait: Duration,
) -> Vec<Stored> {
    use futures_util::StreamExt;
    let mut out = Vec::new();
    let Ok(mut batch) = consumer
        .batch()
        .max_messages(max)
        .expires(wait)
        .messages()
        .await
    else {
        return out;
    };
    while let Some(Ok(message)) = batch.next().await {
        let (sequence, delivered) = message
            .info()
            .map(|i| (i.stream_sequence, i.delivered))
            .expect("a JetStream message has its info");
        let msg_id = message
            .headers
            .as_ref()
            .and_then(|h| h.get("Nats-Msg-Id"))
            .map(|v| v.as_str().to_string());
        let envelope = serde_json::from_slice(&message.payload).unwrap_or(Value::Null);
        out.push(Stored {
            sequence,
            delivered,
            subject: message.subject.to_string(),
            msg_id,
            envelope,
        });
        message.ack().await.expect("ack");
    }
    client.flush().await.expect("flush the acks");
    out
}
