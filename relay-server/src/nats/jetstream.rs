//! The JetStream stream of events, [`EVENTS_STREAM`]: its configuration and its creation.
//!
//! The stream captures the envelope subjects `mdsim.events.>` (not the old flat subjects: the
//! envelope carries every field, and one stream message per event is what lets the stream's
//! duplicate window drop a retried publish by its `Nats-Msg-Id`, the event id). It keeps
//! events within limits (age, bytes, count; the oldest are discarded first) in file storage,
//! so a consumer with a durable position catches up after being away, including across a
//! restart of nats-server that keeps its store directory.
//!
//! Invariants: creating the stream is idempotent and safe for several relays on one NATS
//! (update, else create, else update again when another relay created it meanwhile); the last
//! relay to start sets the limits. A server without JetStream is reported as
//! [`Probe::Unavailable`], never as a failure the relay stops for.

use std::time::Duration;

use async_nats::jetstream;
use async_nats::jetstream::ErrorCode;
use async_nats::jetstream::context::CreateStreamErrorKind;
use async_nats::jetstream::stream::{
    Config as StreamConfig, DiscardPolicy, RetentionPolicy, StorageType,
};

use crate::Config;

/// The stream every relay on a NATS publishes its events to.
pub const EVENTS_STREAM: &str = "MDSIM_EVENTS";
/// The subjects it captures: the envelopes, `mdsim.events.{room}.{type}`.
pub const EVENTS_SUBJECTS: &str = "mdsim.events.>";
/// How long a stream request or a publish acknowledgement may take.
pub const JETSTREAM_TIMEOUT: Duration = Duration::from_secs(5);

/// The stream's limits, from the relay's configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamLimits {
    /// Oldest event kept.
    pub max_age: Duration,
    /// Most bytes kept.
    pub max_bytes: i64,
    /// Most events kept.
    pub max_events: i64,
    /// How long a message id is remembered to drop duplicates (at most `max_age`).
    pub duplicate_window: Duration,
}

impl StreamLimits {
    /// The limits `--nats-stream-*` and `--nats-dedup-window` set.
    pub fn from_config(config: &Config) -> Self {
        let max_age = Duration::from_secs(u64::from(config.nats_stream_max_age) * 3600);
        Self {
            max_age,
            max_bytes: i64::from(config.nats_stream_max_mb) * 1024 * 1024,
            max_events: i64::try_from(config.nats_stream_max_events).unwrap_or(i64::MAX),
            // NATS refuses a duplicate window longer than the stream's maximum age.
            duplicate_window: Duration::from_secs(u64::from(config.nats_dedup_window)).min(max_age),
        }
    }

    /// The stream's configuration.
    pub fn stream_config(&self) -> StreamConfig {
        StreamConfig {
            name: EVENTS_STREAM.to_string(),
            description: Some(
                "mdsim referee events (envelopes of mdsim.events.{room}.{type}), keyed by \
                 Nats-Msg-Id = event_id"
                    .to_string(),
            ),
            subjects: vec![EVENTS_SUBJECTS.to_string()],
            retention: RetentionPolicy::Limits,
            storage: StorageType::File,
            discard: DiscardPolicy::Old,
            max_age: self.max_age,
            max_bytes: self.max_bytes,
            max_messages: self.max_events,
            duplicate_window: self.duplicate_window,
            num_replicas: 1,
            ..Default::default()
        }
    }
}

/// What the server said about the stream.
#[derive(Debug)]
pub enum Probe {
    /// The stream exists with the relay's limits: events are published with acknowledgements.
    Ready,
    /// The server has no JetStream (started without `-js`, or not for this account).
    Unavailable,
    /// The request timed out: try again later.
    TimedOut,
    /// The server refused the stream (another stream captures the subjects, a different
    /// configuration that cannot be updated, ...): the reason.
    Refused(String),
}

/// Creates the stream or updates its limits.
pub async fn ensure_stream(js: &jetstream::Context, limits: &StreamLimits) -> Probe {
    let config = limits.stream_config();
    // Twice: when another relay creates it between this one's update and create, the create
    // fails as already in use, and the second round's update succeeds.
    let mut last = Probe::TimedOut;
    for _ in 0..2 {
        last = match js.create_or_update_stream(config.clone()).await {
            Ok(_) => return Probe::Ready,
            Err(err) => match err.kind() {
                CreateStreamErrorKind::JetStreamUnavailable => return Probe::Unavailable,
                CreateStreamErrorKind::TimedOut => return Probe::TimedOut,
                CreateStreamErrorKind::JetStream(api)
                    if api.error_code() == ErrorCode::JETSTREAM_NOT_ENABLED
                        || api.error_code() == ErrorCode::JETSTREAM_NOT_ENABLED_FOR_ACCOUNT =>
                {
                    return Probe::Unavailable;
                }
                _ => Probe::Refused(err.to_string()),
            },
        };
    }
    last
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_come_from_the_configuration_and_the_window_fits_the_age() {
        let mut config = Config::with_dist_dir("dist");
        config.nats_stream_max_age = 1;
        config.nats_stream_max_mb = 2;
        config.nats_stream_max_events = 3;
        config.nats_dedup_window = 7200;
        let limits = StreamLimits::from_config(&config);
        assert_eq!(limits.max_age, Duration::from_secs(3600));
        assert_eq!(limits.max_bytes, 2 * 1024 * 1024);
        assert_eq!(limits.max_events, 3);
        assert_eq!(limits.duplicate_window, Duration::from_secs(3600));
        let stream = limits.stream_config();
        assert_eq!(stream.name, EVENTS_STREAM);
        assert_eq!(stream.subjects, [EVENTS_SUBJECTS]);
        assert_eq!(stream.discard, DiscardPolicy::Old);
        assert_eq!(stream.max_messages, 3);
    }
}
