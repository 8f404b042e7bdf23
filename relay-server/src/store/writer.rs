//! The database writer: one task that drains the queue of launches and the outbox of events
//! into the database, in batches.
//!
//! Invariants: a batch leaves its queue only once it is stored or its refused events were set
//! aside ([`super::dead_letter`]); while the database is unavailable the same batch is retried
//! with backoff (up to [`MAX_RETRY_DELAY`]) and the events behind it wait in their bounded
//! queues; an event the database refuses never holds up another one.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use prometheus_client::metrics::counter::Counter;
use tokio::sync::mpsc;

use super::Store;
use super::dead_letter::Refusals;
use crate::bus::{BusEvent, Outbox};
use crate::metrics::ServiceMetrics;

/// Events written per transaction.
const BATCH: usize = 512;
/// Most ids of durably written launches remembered, so their referee copies are skipped.
const MAX_SKIPPED_IDS: usize = 1_000_000;
/// Longest wait between attempts while the database is down.
const MAX_RETRY_DELAY: Duration = Duration::from_secs(2);

impl Store {
    /// Starts the task that writes events until the process ends: the launches of the
    /// durable queue first (REST answers reserved their place there, and a launch's row must
    /// exist before its flight's later events update it), then the outbox's events. Events
    /// the database refuses are set aside in `dead_letters` and counted in `dead_letters`
    /// (`relay_dead_letters_total{sink="database"}`); the rest waits while the database is
    /// unavailable.
    pub fn spawn_writer(
        &self,
        outbox: Arc<Outbox>,
        mut durable: mpsc::Receiver<Arc<BusEvent>>,
        metrics: ServiceMetrics,
        dead_letters: Counter,
    ) {
        let store = self.clone();
        tokio::spawn(async move {
            let mut backoff = Duration::from_millis(50);
            let mut launches: Vec<Arc<BusEvent>> = Vec::new();
            let mut durable_open = true;
            // Ids of launch events written from the durable queue whose referee copy has not
            // come through the outbox yet: that copy is skipped (it would change nothing).
            let mut written: HashSet<String> = HashSet::new();
            let mut refusals = Refusals::new(dead_letters);
            loop {
                while durable_open && launches.len() < BATCH {
                    match durable.try_recv() {
                        Ok(e) => launches.push(e),
                        Err(mpsc::error::TryRecvError::Empty) => break,
                        Err(mpsc::error::TryRecvError::Disconnected) => durable_open = false,
                    }
                }
                let (last, batch) = if launches.is_empty() {
                    tokio::select! {
                        biased;
                        n = durable.recv_many(&mut launches, BATCH), if durable_open => {
                            durable_open = n > 0;
                            continue;
                        }
                        (last, batch) = outbox.peek(BATCH) => (Some(last), batch),
                    }
                } else {
                    (None, std::mem::take(&mut launches))
                };
                let started = Instant::now();
                let fresh: Vec<Arc<BusEvent>> = match last {
                    None => batch.clone(),
                    Some(_) => batch
                        .iter()
                        .filter(|e| e.kind != "launch" || !written.contains(&e.event_id))
                        .cloned()
                        .collect(),
                };
                match store
                    .write_or_set_aside(&fresh, &metrics, &mut refusals)
                    .await
                {
                    Ok(set_aside) => {
                        metrics.latency.observe(started.elapsed().as_secs_f64());
                        metrics
                            .delivered
                            .inc_by(batch.len().saturating_sub(set_aside) as u64);
                        match last {
                            Some(last) => {
                                outbox.ack(last);
                                for e in batch.iter().filter(|e| e.kind == "launch") {
                                    written.remove(&e.event_id);
                                }
                            }
                            None => {
                                if written.len() > MAX_SKIPPED_IDS {
                                    // Referee copies that never came (the room closed): forget.
                                    written.clear();
                                }
                                written.extend(batch.iter().map(|e| e.event_id.clone()));
                            }
                        }
                        backoff = Duration::from_millis(50);
                    }
                    Err(err) => {
                        metrics.error("write");
                        tracing::warn!(
                            "{err}; {} events and {} launches wait, retrying",
                            outbox.len(),
                            batch.len() * usize::from(last.is_none()) + durable.len()
                        );
                        if last.is_none() {
                            // The launches are kept (never dropped) and written first.
                            launches = batch;
                        }
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(MAX_RETRY_DELAY);
                    }
                }
            }
        });
    }
}
