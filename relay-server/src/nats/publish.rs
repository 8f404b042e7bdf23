//! The outbound publisher: drains the NATS [`Outbox`] in batches.
//!
//! Each event's envelope goes to `mdsim.events.{room}.{type}` with the header `Nats-Msg-Id` =
//! its event id, and its old flat copy (when it has one) to the old subject on core NATS.
//! Where the server has JetStream, the envelope is published into the stream
//! [`EVENTS_STREAM`] and its acknowledgement awaited; without JetStream (or while the stream
//! cannot be created) it is a core publish and the batch ends with a flush.
//!
//! Invariants:
//! - A batch is acknowledged in the outbox only when every message of it was accepted: each
//!   envelope acknowledged by the stream (or flushed, in core mode) and the core messages
//!   flushed. Otherwise (disconnection, timeout, missing stream) the whole batch is published
//!   again after a backoff, so nothing is lost while NATS is away; the stream drops the
//!   envelopes it already has by their `Nats-Msg-Id` within its duplicate window.
//! - A message NATS refuses for what it is (larger than the server's `max_payload`, an
//!   invalid subject, or a refusal in the stream's acknowledgement) is not retried: its event
//!   is set aside, counted once in `relay_dead_letters_total{sink="nats"}`, logged at WARN
//!   once per kind of refusal (then at DEBUG), and the batch goes on without it. The event is
//!   still in the database, which has its own outbox.
//! - The stream is (re)created after every (re)connection, when a publish finds it missing,
//!   and every [`REPROBE`] while the relay publishes on core subjects only; a change between
//!   the stream and core subjects is logged once.
//! - When JetStream stops answering on a server where this relay used the stream (restarted
//!   without it), events wait in the outbox: a core publish there would count as delivered
//!   while the stream never got the event, which its durable consumers would miss for good.
//!   Known gap: a probe that merely times out (a nats-server just restarted, still recovering
//!   its store) still switches to core subjects until the next probe, with that risk.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_nats::connection::State;
use async_nats::jetstream::context::PublishErrorKind as AckErrorKind;
use async_nats::jetstream::message::PublishMessage;
use async_nats::{HeaderMap, PublishErrorKind};
use bytes::Bytes;
use prometheus_client::metrics::counter::Counter;

use super::jetstream::{EVENTS_STREAM, Probe, StreamLimits, ensure_stream};
use super::{MAX_RECONNECT_DELAY, messages};
use crate::bus::{BusEvent, Outbox};
use crate::metrics::ServiceMetrics;

/// Events published per batch.
const BATCH: usize = 256;
/// How long a flush may take before the batch is considered undelivered.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(2);
/// How often the stream is tried again while the relay publishes on core subjects only.
pub const REPROBE: Duration = Duration::from_secs(30);

/// Where envelopes go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Not known yet: at start, after a reconnection, when the stream went missing.
    Unknown,
    /// Into the JetStream stream, acknowledged.
    Stream,
    /// On core subjects only, until `retry` (then the stream is tried again).
    Core { retry: Instant },
}

/// What a refused message is refused for (the `kind` in the log).
type Refusal = (&'static str, String);

/// The publisher's state; runs as one task for the life of the process.
pub struct Publisher {
    client: async_nats::Client,
    js: async_nats::jetstream::Context,
    outbox: Arc<Outbox>,
    metrics: ServiceMetrics,
    dead_letters: Counter,
    limits: StreamLimits,
    /// Connections made so far, and a wake-up for each (from the client's event callback).
    connections: Arc<Connections>,
    /// `connections` when the stream was last ensured.
    probed_at: u64,
    mode: Mode,
    /// Whether the stream was ever ready on this relay's NATS: from then on, a JetStream that
    /// does not answer is waited for, never replaced by core subjects.
    stream_seen: bool,
    /// Whether the wait for the stream was logged (once per wait).
    waiting: bool,
    /// Kinds of refusal already logged at WARN.
    logged: HashSet<&'static str>,
    /// `(event id, message index)` refused in the current batch: skipped when it is retried.
    refused: HashSet<(String, usize)>,
    /// Events of the current batch already counted as dead letters.
    counted: HashSet<String>,
}

impl Publisher {
    /// A publisher of `outbox` on `client`.
    pub fn new(
        client: async_nats::Client,
        outbox: Arc<Outbox>,
        metrics: ServiceMetrics,
        dead_letters: Counter,
        limits: StreamLimits,
        connections: Arc<Connections>,
    ) -> Self {
        let js = async_nats::jetstream::ContextBuilder::new()
            .timeout(super::jetstream::JETSTREAM_TIMEOUT)
            .build(client.clone());
        Self {
            client,
            js,
            outbox,
            metrics,
            dead_letters,
            limits,
            connections,
            probed_at: 0,
            mode: Mode::Unknown,
            stream_seen: false,
            waiting: false,
            logged: HashSet::new(),
            refused: HashSet::new(),
            counted: HashSet::new(),
        }
    }

    /// Publishes queued events until the process ends; never gives up on a batch while NATS
    /// is unreachable.
    pub async fn run(mut self) {
        let mut backoff = Duration::from_millis(50);
        loop {
            // The stream is made ready on each connection, before any event waits for it.
            if self.client.connection_state() == State::Connected {
                self.ensure_mode().await;
            }
            let (last, batch) = tokio::select! {
                next = self.outbox.peek(BATCH) => next,
                () = self.connections.wake.notified() => continue,
            };
            if self.client.connection_state() != State::Connected {
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_RECONNECT_DELAY);
                continue;
            }
            self.ensure_mode().await;
            if self.mode == Mode::Unknown {
                // The stream is not ready yet: the batch waits in the outbox.
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_RECONNECT_DELAY);
                continue;
            }
            let started = Instant::now();
            match self.publish_batch(&batch).await {
                Ok(()) => {
                    self.metrics
                        .latency
                        .observe(started.elapsed().as_secs_f64());
                    let set_aside = batch
                        .iter()
                        .filter(|e| self.counted.contains(&e.event_id))
                        .count();
                    self.metrics
                        .delivered
                        .inc_by((batch.len() - set_aside) as u64);
                    self.outbox.ack(last);
                    self.refused.clear();
                    self.counted.clear();
                    backoff = Duration::from_millis(50);
                }
                Err(op) => {
                    self.metrics.error(op);
                    tracing::warn!(
                        "publishing {} events on NATS failed ({op}); retrying",
                        batch.len()
                    );
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_RECONNECT_DELAY);
                }
            }
        }
    }

    /// Creates the stream when due (first time, after a reconnection, a missing stream, or
    /// [`REPROBE`] after it could not be used) and sets the mode from the answer.
    async fn ensure_mode(&mut self) {
        let connection = self.connections.count.load(Ordering::Relaxed);
        let due = match self.mode {
            Mode::Unknown => true,
            Mode::Stream => connection != self.probed_at,
            Mode::Core { retry } => connection != self.probed_at || Instant::now() >= retry,
        };
        if !due {
            return;
        }
        self.probed_at = connection;
        let core = Mode::Core {
            retry: Instant::now() + REPROBE,
        };
        let was_core = matches!(self.mode, Mode::Core { .. });
        match ensure_stream(&self.js, &self.limits).await {
            Probe::Ready => {
                self.stream_seen = true;
                self.waiting = false;
                if self.mode != Mode::Stream {
                    tracing::info!(
                        "events go to the JetStream stream {EVENTS_STREAM} (acknowledged, kept \
                         for consumers that were away) and on the core subjects"
                    );
                }
                self.mode = Mode::Stream;
            }
            Probe::Unavailable if self.stream_seen => {
                self.metrics.error("stream");
                if !std::mem::replace(&mut self.waiting, true) {
                    tracing::warn!(
                        "JetStream does not answer on NATS, where this relay used the stream \
                         {EVENTS_STREAM}: events wait in the buffer until it does"
                    );
                }
                self.mode = Mode::Unknown;
            }
            Probe::Unavailable => {
                if !was_core {
                    tracing::warn!(
                        "NATS has no JetStream: events go on core subjects only, which keep \
                         nothing for a consumer that is away; the stream is tried again every \
                         {}s and after each reconnection",
                        REPROBE.as_secs()
                    );
                }
                self.mode = core;
            }
            Probe::TimedOut => {
                // Still core subjects for now: waiting here instead made the dead-letter test
                // of tests/nats.rs time out under load (not yet understood); see the module
                // documentation.
                self.metrics.error("stream");
                if !was_core {
                    tracing::warn!(
                        "creating the JetStream stream {EVENTS_STREAM} timed out: events go on \
                         core subjects only until it can be created"
                    );
                }
                self.mode = core;
            }
            Probe::Refused(reason) => {
                self.metrics.error("stream");
                if !was_core {
                    tracing::error!(
                        "NATS refused the JetStream stream {EVENTS_STREAM} ({reason}): events \
                         go on core subjects only until it is accepted"
                    );
                }
                self.mode = core;
            }
        }
    }

    /// Publishes one batch; `Err(op)` when it has to be published again.
    async fn publish_batch(&mut self, batch: &[Arc<BusEvent>]) -> Result<(), &'static str> {
        let stream = self.mode == Mode::Stream;
        let mut acks = Vec::new();
        for event in batch {
            for (index, (subject, body)) in messages(event).into_iter().enumerate() {
                if self.refused.contains(&(event.event_id.clone(), index)) {
                    continue;
                }
                let body = Bytes::from(body);
                // The first message is the envelope, keyed by the event id.
                let refusal = if index == 0 && stream {
                    let message = PublishMessage::build()
                        .payload(body)
                        .message_id(&event.event_id);
                    match self.js.send_publish(subject, message).await {
                        Ok(ack) => {
                            acks.push((event, ack));
                            None
                        }
                        Err(err) if err.kind() == AckErrorKind::MaxPayloadExceeded => {
                            Some(("too-large", err.to_string()))
                        }
                        Err(_) => return Err("publish"),
                    }
                } else {
                    let sent = if index == 0 {
                        // Core mode: the header still lets a stream that captures the subject
                        // drop a retried envelope.
                        let mut headers = HeaderMap::new();
                        headers.insert("Nats-Msg-Id", event.event_id.as_str());
                        self.client
                            .publish_with_headers(subject, headers, body)
                            .await
                    } else {
                        self.client.publish(subject, body).await
                    };
                    match sent {
                        Ok(()) => None,
                        Err(err) => match err.kind() {
                            PublishErrorKind::MaxPayloadExceeded => {
                                Some(("too-large", err.to_string()))
                            }
                            PublishErrorKind::InvalidSubject => {
                                Some(("invalid-subject", err.to_string()))
                            }
                            PublishErrorKind::Send => return Err("publish"),
                        },
                    }
                };
                if let Some(refusal) = refusal {
                    self.dead_letter(event, index, refusal);
                }
            }
        }
        let flushed = tokio::time::timeout(FLUSH_TIMEOUT, self.client.flush()).await;
        // Every acknowledgement at once: their timeouts run together.
        let answers = futures_util::future::join_all(
            acks.into_iter()
                .map(|(event, ack)| async move { (event, ack.await) }),
        )
        .await;
        let mut outage = None;
        for (event, answer) in answers {
            let err = match answer {
                Ok(ack) => {
                    if ack.duplicate {
                        tracing::debug!(event_id = %event.event_id, "the stream had this event already");
                    }
                    continue;
                }
                Err(err) => err,
            };
            match err.kind() {
                AckErrorKind::StreamNotFound => {
                    // Lost with the server's store, or deleted: create it again, then retry.
                    self.mode = Mode::Unknown;
                    outage = Some("stream-missing");
                }
                AckErrorKind::TimedOut | AckErrorKind::BrokenPipe | AckErrorKind::MaxAckPending => {
                    outage = Some("ack");
                }
                _ => match refused_by_stream(&err) {
                    Some(reason) => self.dead_letter(event, 0, ("refused", reason)),
                    None => outage = Some("ack"),
                },
            }
        }
        if let Some(op) = outage {
            return Err(op);
        }
        match flushed {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err("flush"),
            Err(_) => Err("flush-timeout"),
        }
    }

    /// Sets a refused message aside: counted once per event, logged once per kind.
    fn dead_letter(&mut self, event: &BusEvent, index: usize, (kind, reason): Refusal) {
        self.refused.insert((event.event_id.clone(), index));
        if self.counted.insert(event.event_id.clone()) {
            self.dead_letters.inc();
        }
        if self.logged.insert(kind) {
            tracing::warn!(
                event_id = %event.event_id,
                "NATS refused an event ({kind}: {reason}); it is set aside, counted in \
                 relay_dead_letters_total{{sink=\"nats\"}}, and publishing goes on (later \
                 refusals of this kind are logged at debug)"
            );
        } else {
            tracing::debug!(event_id = %event.event_id, "NATS refused an event ({kind}: {reason})");
        }
    }
}

/// The stream's own refusal of a message (a JetStream API error with a 4xx code, such as a
/// message over the stream's size limit), as opposed to a server in trouble (5xx).
fn refused_by_stream(err: &async_nats::jetstream::context::PublishError) -> Option<String> {
    let source = std::error::Error::source(err)?;
    let api = source.downcast_ref::<async_nats::jetstream::Error>()?;
    (400..500).contains(&api.code()).then(|| api.to_string())
}

/// The client's connections, counted by its event callback.
#[derive(Debug, Default)]
pub struct Connections {
    count: AtomicU64,
    wake: tokio::sync::Notify,
}

impl Connections {
    /// Counts a new connection and wakes the publisher (the client's event callback calls
    /// this on every `Connected`).
    pub fn connected(&self) {
        self.count.fetch_add(1, Ordering::Relaxed);
        self.wake.notify_one();
    }
}
