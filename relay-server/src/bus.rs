//! The event bus: every referee event leaves its room here, with an event id and the room.
//!
//! - [`BusEvent`] is the envelope: `event_id` (`{room}:{run}:{tick}:{index}`, see below), the
//!   room, the tick, the event's index among the tick's events, its serde `type` and the
//!   sim-core event as JSON (`payload`).
//! - [`EventBus`] is the in-process implementation and the only one rooms know: publishing a
//!   tick's sim-core events feeds the old-name metrics from the typed events
//!   ([`crate::metrics::EventMetrics`]), and every envelope fans out to in-process
//!   subscribers (a Tokio broadcast channel) and queues the event in every registered
//!   [`Outbox`] (the NATS bridge, the database writer), none of which can block a room.
//! - [`Outbox`]: a bounded queue with a size gauge. A writer peeks a batch, tries to deliver
//!   it and acknowledges it only once delivered, so while NATS or the database is down the
//!   events wait here; when the queue is full the oldest is dropped and counted.
//! - The sinks' watermark ([`EventBus::delivered_mark`]): where every outbox stands; a shared
//!   room's snapshot becomes the base of a takeover only once every event published before it
//!   left every outbox ([`crate::rooms::roomlog`]).
//! - The durable queue ([`EventBus::reserve_durable`]): a bounded channel to the database
//!   writer for the `launch` events that rooms predict when they order a launch. A place is
//!   reserved before the launch is accepted and nothing in it is ever dropped, so every
//!   answered launch is written; when it is full, launches are refused (503) instead.
//!
//! Invariants: an event id is a pure function of the room, the room's run (8 hex digits drawn
//! from the operating system when the room task starts, so a room that restarts at tick 0,
//! such as the public room after a relay restart, never reuses an id) and the event's
//! position in the referee's output; publishing the same event twice gives the same id, so
//! consumers and the database deduplicate by it. Publishing never awaits.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sim_core::Event;
use tokio::sync::{Notify, broadcast, mpsc};

use crate::metrics::EventMetrics;

/// Events kept for an in-process subscriber that falls behind (it then skips ahead).
const BROADCAST_CAPACITY: usize = 4096;

/// One referee event, as it leaves the room.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BusEvent {
    /// `{room}:{run}:{tick}:{index}`: unique and deterministic.
    pub event_id: String,
    /// The room whose referee produced it.
    pub room: String,
    /// The tick during which it happened.
    pub tick: u64,
    /// Its index among the events of that tick.
    pub index: u32,
    /// The sim-core event's serde `type` (`launch`, `detection`, `impact`, ...).
    #[serde(rename = "type")]
    pub kind: String,
    /// Simulation time (s).
    pub time_s: f64,
    /// The sim-core event as JSON (with `tick`, `time_s` and `type`).
    pub payload: Value,
}

impl BusEvent {
    /// The envelope of the `index`-th event of a tick in room `room`, run `run`.
    pub fn new(room: &str, run: &str, index: u32, event: &Event) -> Self {
        let payload = serde_json::to_value(event).unwrap_or(Value::Null);
        Self::from_payload(room, run, event.tick, index, payload)
    }

    /// The envelope of an event already in JSON form (its `type` and `time_s` are read from
    /// it); used for events the relay does not know as Rust types.
    pub fn from_payload(room: &str, run: &str, tick: u64, index: u32, payload: Value) -> Self {
        let kind = payload
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("unknown")
            .to_string();
        let time_s = payload.get("time_s").and_then(Value::as_f64).unwrap_or(0.0);
        Self {
            event_id: format!("{room}:{run}:{tick}:{index}"),
            room: room.to_string(),
            tick,
            index,
            kind,
            time_s,
            payload,
        }
    }

    /// Where the event happened, when it has a place: `(lat, lon)` in degrees.
    pub fn place(&self) -> Option<(f64, f64)> {
        let p = &self.payload;
        let pair = |v: &Value| {
            let lat = v.get("lat").or_else(|| v.get("lat_deg"))?.as_f64()?;
            let lon = v.get("lon").or_else(|| v.get("lon_deg"))?.as_f64()?;
            Some((lat, lon))
        };
        pair(p)
            .or_else(|| p.get("at").and_then(pair))
            .or_else(|| p.get("from").and_then(pair))
            .filter(|(lat, lon)| lat.is_finite() && lon.is_finite())
    }
}

/// A bounded queue of events waiting for one external writer (NATS, the database).
#[derive(Debug)]
pub struct Outbox {
    queue: Mutex<Queue>,
    capacity: usize,
    notify: Notify,
    size: Gauge,
    dropped: Counter,
}

#[derive(Debug, Default)]
struct Queue {
    /// `(sequence number, event)`, oldest first.
    items: VecDeque<(u64, Arc<BusEvent>)>,
    next_seq: u64,
}

impl Outbox {
    /// An empty outbox of `capacity` events whose size is reported in `size` and whose
    /// overflow is counted in `dropped`.
    pub fn new(capacity: usize, size: Gauge, dropped: Counter) -> Self {
        Self {
            queue: Mutex::default(),
            capacity: capacity.max(1),
            notify: Notify::new(),
            size,
            dropped,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues an event, dropping (and counting) the oldest when full; never waits.
    pub fn push(&self, event: Arc<BusEvent>) {
        let mut q = self.lock();
        while q.items.len() >= self.capacity {
            q.items.pop_front();
            self.dropped.inc();
        }
        let seq = q.next_seq;
        q.next_seq += 1;
        q.items.push_back((seq, event));
        self.size.set(q.items.len() as i64);
        drop(q);
        self.notify.notify_one();
    }

    /// The sequence number the next event will get: every event queued so far is below it.
    fn mark(&self) -> u64 {
        self.lock().next_seq
    }

    /// Whether every event queued before [`Outbox::mark`] returned `mark` has left the queue:
    /// delivered (or set aside as a dead letter, or dropped at overflow and counted).
    fn passed(&self, mark: u64) -> bool {
        self.lock()
            .items
            .front()
            .is_none_or(|&(seq, _)| seq >= mark)
    }

    /// Events waiting.
    pub fn len(&self) -> usize {
        self.lock().items.len()
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Waits until at least one event is queued, then returns up to `max` of the oldest
    /// (still queued: call [`Outbox::ack`] once they are delivered) and the sequence number
    /// of the last one.
    pub async fn peek(&self, max: usize) -> (u64, Vec<Arc<BusEvent>>) {
        loop {
            let notified = self.notify.notified();
            {
                let q = self.lock();
                let n = q.items.len().min(max.max(1));
                if let Some(&(last, _)) = q.items.get(n.wrapping_sub(1)) {
                    let batch = q.items.iter().take(n).map(|(_, e)| e.clone());
                    return (last, batch.collect());
                }
            }
            notified.await;
        }
    }

    /// Removes the delivered events: every one up to sequence number `last`.
    pub fn ack(&self, last: u64) {
        let mut q = self.lock();
        while q.items.front().is_some_and(|(seq, _)| *seq <= last) {
            q.items.pop_front();
        }
        self.size.set(q.items.len() as i64);
    }
}

/// The in-process event bus; cheap to clone.
#[derive(Debug, Clone)]
pub struct EventBus {
    tx: broadcast::Sender<Arc<BusEvent>>,
    outboxes: Arc<Mutex<Vec<Arc<Outbox>>>>,
    metrics: EventMetrics,
    durable: Arc<std::sync::OnceLock<mpsc::Sender<Arc<BusEvent>>>>,
}

/// Where every outbox of a bus stood at one moment: [`Delivered::all`] tells once every
/// event published before that moment has left every outbox (the sinks' watermark).
#[derive(Debug, Clone, Default)]
pub struct Delivered(Vec<(Arc<Outbox>, u64)>);

impl Delivered {
    /// Whether every event published before the mark was delivered by every sink.
    pub fn all(&self) -> bool {
        self.0.iter().all(|(outbox, mark)| outbox.passed(*mark))
    }
}

/// A reserved place in the durable queue: sending through it cannot fail or wait.
pub type DurablePermit = mpsc::OwnedPermit<Arc<BusEvent>>;

/// The durable queue is full (or its writer is gone).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the queue of launches to write to the database is full")]
pub struct DurableFull;

impl EventBus {
    /// A bus feeding `metrics`, with no outbox yet.
    pub fn new(metrics: EventMetrics) -> Self {
        Self {
            tx: broadcast::Sender::new(BROADCAST_CAPACITY),
            outboxes: Arc::default(),
            metrics,
            durable: Arc::default(),
        }
    }

    /// Sets the durable queue (once, at start, when the relay has a database).
    pub fn set_durable(&self, queue: mpsc::Sender<Arc<BusEvent>>) {
        let _ = self.durable.set(queue);
    }

    /// Reserves a place in the durable queue: `Ok(None)` without a database. Never waits.
    pub fn reserve_durable(&self) -> Result<Option<DurablePermit>, DurableFull> {
        match self.durable.get() {
            None => Ok(None),
            Some(queue) => queue
                .clone()
                .try_reserve_owned()
                .map(Some)
                .map_err(|_| DurableFull),
        }
    }

    /// Launch events waiting in the durable queue.
    pub fn durable_pending(&self) -> usize {
        self.durable
            .get()
            .map_or(0, |q| q.max_capacity() - q.capacity())
    }

    /// Registers an outbox: every event published from now on is queued in it too.
    pub fn add_outbox(&self, outbox: Arc<Outbox>) {
        self.outboxes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(outbox);
    }

    /// Marks where every outbox stands now: once [`Delivered::all`], every event published
    /// before this call has been delivered (or set aside) by every sink. Outboxes are FIFO and
    /// acknowledged in order, so this is each room's watermark too: a room's events published
    /// before the mark are delivered once the mark is.
    pub fn delivered_mark(&self) -> Delivered {
        let outboxes = self.outboxes.lock().unwrap_or_else(|p| p.into_inner());
        Delivered(outboxes.iter().map(|o| (o.clone(), o.mark())).collect())
    }

    /// Receives every event published from now on (a subscriber that falls more than 4096
    /// events behind misses the oldest ones).
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<BusEvent>> {
        self.tx.subscribe()
    }

    /// Events waiting in all outboxes and the durable queue.
    pub fn pending(&self) -> usize {
        self.outboxes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|o| o.len())
            .sum::<usize>()
            + self.durable_pending()
    }

    /// Waits until every outbox is empty, or `timeout` passed; returns what still waits.
    pub async fn drain(&self, timeout: std::time::Duration) -> usize {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let pending = self.pending();
            if pending == 0 || tokio::time::Instant::now() >= deadline {
                return pending;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// Publishes the events of one referee tick of `room` (run `run`): each feeds the
    /// old-name metrics from its typed form, then goes out as [`EventBus::publish`] sends it.
    pub fn publish_tick(&self, room: &str, run: &str, events: &[Event]) {
        for (index, event) in events.iter().enumerate() {
            let index = u32::try_from(index).unwrap_or(u32::MAX);
            self.metrics.observe(event);
            self.publish(BusEvent::new(room, run, index, event));
        }
    }

    /// Publishes one envelope to in-process subscribers and outboxes. The metrics count
    /// sim-core events only, in [`EventBus::publish_tick`]; an envelope published here alone
    /// (a `trajectory`) counts in none of them.
    pub fn publish(&self, event: BusEvent) {
        let event = Arc::new(event);
        let outboxes = self
            .outboxes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        for outbox in outboxes {
            outbox.push(event.clone());
        }
        // No subscriber is not an error.
        let _ = self.tx.send(event);
    }
}

/// 32 random bits from the operating system as 8 hex digits: a room run's id.
pub fn random_run() -> String {
    let mut bytes = [0u8; 4];
    if getrandom::fill(&mut bytes).is_err() {
        // Without the OS generator, the wall clock still separates runs.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        bytes = nanos.to_le_bytes();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(i: u32) -> Arc<BusEvent> {
        Arc::new(BusEvent::from_payload(
            "r",
            "00000000",
            1,
            i,
            json!({"type": "impact", "time_s": 0.1, "at": {"lat_deg": 1.0, "lon_deg": 2.0}}),
        ))
    }

    #[test]
    fn ids_are_deterministic_and_places_found() {
        let e = event(3);
        assert_eq!(e.event_id, "r:00000000:1:3");
        assert_eq!(e.kind, "impact");
        assert_eq!(e.place(), Some((1.0, 2.0)));
        assert_eq!(*event(3), *e);
    }

    #[tokio::test]
    async fn drain_waits_for_the_outboxes_and_reports_what_is_left() {
        let bus = EventBus::new(EventMetrics::default());
        let outbox = Arc::new(Outbox::new(10, Gauge::default(), Counter::default()));
        bus.add_outbox(outbox.clone());
        bus.publish((*event(0)).clone());
        bus.publish((*event(1)).clone());
        assert_eq!(bus.pending(), 2);
        assert_eq!(bus.drain(std::time::Duration::from_millis(50)).await, 2);
        let writer = outbox.clone();
        tokio::spawn(async move {
            let (last, _) = writer.peek(10).await;
            writer.ack(last);
        });
        assert_eq!(bus.drain(std::time::Duration::from_secs(5)).await, 0);
    }

    #[tokio::test]
    async fn the_outbox_keeps_events_until_acknowledged_and_drops_the_oldest() {
        let size = Gauge::default();
        let dropped = Counter::default();
        let outbox = Outbox::new(3, size.clone(), dropped.clone());
        for i in 0..5 {
            outbox.push(event(i));
        }
        assert_eq!((size.get(), dropped.get()), (3, 2));
        let (last, batch) = outbox.peek(2).await;
        assert_eq!(batch.iter().map(|e| e.index).collect::<Vec<_>>(), [2, 3]);
        // Not acknowledged: the same batch again.
        let (_, again) = outbox.peek(2).await;
        assert_eq!(again, batch);
        outbox.ack(last);
        assert_eq!(size.get(), 1);
        let (_, rest) = outbox.peek(10).await;
        assert_eq!(rest[0].index, 4);
    }

    #[tokio::test]
    async fn a_mark_is_delivered_once_every_outbox_acknowledged_what_came_before() {
        let bus = EventBus::new(EventMetrics::default());
        assert!(bus.delivered_mark().all(), "no sink holds anything back");
        let nats = Arc::new(Outbox::new(10, Gauge::default(), Counter::default()));
        let database = Arc::new(Outbox::new(10, Gauge::default(), Counter::default()));
        bus.add_outbox(nats.clone());
        bus.add_outbox(database.clone());
        bus.publish((*event(0)).clone());
        bus.publish((*event(1)).clone());
        let mark = bus.delivered_mark();
        bus.publish((*event(2)).clone());
        assert!(!mark.all());
        let (_, batch) = nats.peek(2).await;
        let (last, _) = nats.peek(3).await;
        assert_eq!(batch.len(), 2);
        nats.ack(last);
        assert!(!mark.all(), "the database has not delivered them");
        let (last, _) = database.peek(1).await;
        database.ack(last);
        assert!(!mark.all(), "one event before the mark still waits");
        let (last, _) = database.peek(1).await;
        database.ack(last);
        assert!(mark.all(), "an event after the mark does not hold it back");
        assert!(!bus.delivered_mark().all());
    }
}
