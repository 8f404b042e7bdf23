//! The appender of a shared room's log: stamped commands go to [`super::LOG_STREAM`] in
//! order, and count as logged once acknowledged and confirmed by the room's lease (see
//! [`append`]).

use std::sync::Arc;

use bytes::Bytes;
use sim_core::protocol::StampedCommand;
use tokio::sync::mpsc;

use super::{DEGRADED_WAIT, Entry, Journal, LOG_ACK_TIMEOUT, MOVED, Owner, Sequences, log_subject};
use crate::metrics::RoomMetrics;
use crate::rooms::orders::Orders;
use crate::rooms::referees::Vitals;

/// Appends stamped commands in order; each is marked logged once the stream acknowledged
/// it **and** this relay still held the room's lease after the acknowledgement
/// ([`Journal::owner`]). A batch that is not acknowledged whole is sent again from its first
/// unacknowledged command, with the same `Nats-Msg-Id`s (room, epoch, ordinal), so the stream
/// keeps each command once however often it is sent; meanwhile the book refuses new commands
/// and the referee waits at the tick of the first unlogged one. No command is applied
/// unlogged.
///
/// Why the lease check: an append retried through a NATS outage may be stored after another
/// relay took the room over and appended its marker; that relay's replay skips it (see
/// [`Journal::read`]), so the command must not count as logged here either, or the launch
/// would be answered and stored but never flown. A new owner creates the lease before it
/// appends its marker, so an acknowledgement followed by a lease that still names this relay
/// means the command precedes any new owner's marker. When the lease names another relay the
/// room is fenced: stopped with [`MOVED`], every command not confirmed left unlogged.
pub(super) async fn append(
    journal: Arc<Journal>,
    (room, epoch): (String, u64),
    (mut queue, sequences): (mpsc::UnboundedReceiver<(u64, StampedCommand)>, Sequences),
    (orders, vitals): (Arc<Orders>, Arc<Vitals>),
    metrics: RoomMetrics,
) {
    let subject = log_subject(&room);
    // Since when appends fail: while they do, a try gets [`DEGRADED_WAIT`], not the full
    // acknowledgement timeout.
    let mut failing: Option<tokio::time::Instant> = None;
    while let Some(first) = queue.recv().await {
        let mut batch = vec![first];
        while batch.len() < 256 {
            match queue.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        // The stream sequence of each acknowledged command of the batch, in order.
        let mut acked: Vec<u64> = Vec::with_capacity(batch.len());
        // How many of the batch are confirmed (acknowledged, then the lease checked).
        let mut confirmed = 0;
        // bounded: each pass acknowledges or confirms at least one more command of the batch,
        // or waits for NATS (the room holds, it does not spin: a failed pass costs at least
        // DEGRADED_WAIT).
        while confirmed < batch.len() {
            let wait = if failing.is_some() {
                DEGRADED_WAIT
            } else {
                LOG_ACK_TIMEOUT
            };
            let tried_at = tokio::time::Instant::now();
            let mut error = None;
            if acked.len() < batch.len() {
                let start = acked.len();
                // One deadline for the whole try: published back to back (one connection
                // keeps their order), acknowledged in order.
                let deadline = tried_at + wait;
                let mut acks = Vec::with_capacity(batch.len() - start);
                for (ordinal, stamped) in &batch[start..] {
                    let entry = Entry {
                        epoch,
                        command: Some(stamped.clone()),
                    };
                    let body = Bytes::from(serde_json::to_vec(&entry).unwrap_or_default());
                    let mut headers = async_nats::HeaderMap::new();
                    headers.insert("Nats-Msg-Id", format!("{room}.{epoch}.{ordinal}").as_str());
                    let published = tokio::time::timeout_at(
                        deadline,
                        journal
                            .js
                            .publish_with_headers(subject.clone(), headers, body),
                    )
                    .await;
                    acks.push(published);
                }
                for published in acks {
                    let stored = match published {
                        Ok(Ok(ack)) => match tokio::time::timeout_at(deadline, ack).await {
                            Ok(Ok(ack)) => Ok(ack.sequence),
                            Ok(Err(err)) => Err(err.to_string()),
                            Err(_) => Err("no acknowledgement in time".to_string()),
                        },
                        Ok(Err(err)) => Err(err.to_string()),
                        Err(_) => Err("NATS did not take it in time".to_string()),
                    };
                    match stored {
                        // In order: a command counts only after every one before it.
                        Ok(sequence) if error.is_none() => acked.push(sequence),
                        Ok(_) => {}
                        Err(err) => {
                            error.get_or_insert(err);
                        }
                    }
                }
            }
            if confirmed < acked.len() {
                match tokio::time::timeout(wait, journal.owner(&room)).await {
                    Ok(Owner::Me) => {
                        let mut seqs = sequences.lock().unwrap_or_else(|p| p.into_inner());
                        for ((ordinal, _), sequence) in batch[confirmed..acked.len()]
                            .iter()
                            .zip(&acked[confirmed..])
                        {
                            seqs.insert(*ordinal, *sequence);
                        }
                        drop(seqs);
                        confirmed = acked.len();
                        orders.logged(batch[confirmed - 1].0);
                    }
                    Ok(Owner::Other) => {
                        fenced(&room, &orders, &vitals, &metrics, &mut queue).await;
                        return;
                    }
                    Ok(Owner::Unknown(why)) => {
                        error.get_or_insert(format!("cannot check the room's lease: {why}"));
                    }
                    Err(_) => {
                        error.get_or_insert("the room's lease did not answer in time".into());
                    }
                }
            }
            let Some(error) = error else {
                if let Some(since) = failing.take() {
                    orders.set_log_down(false);
                    tracing::info!(
                        room,
                        after_s = since.elapsed().as_secs(),
                        "the room's log takes commands again"
                    );
                }
                continue;
            };
            metrics.log_failures.inc();
            if failing.is_none() {
                orders.set_log_down(true);
                tracing::warn!(
                    room,
                    waiting = batch.len() - confirmed,
                    "the room's log does not acknowledge commands ({error}): the room holds at \
                     the next unlogged command and refuses new ones until it does"
                );
            }
            failing.get_or_insert(tried_at);
            journal.ensure().await;
            tokio::time::sleep_until(tried_at + DEGRADED_WAIT).await;
        }
    }
}

/// The room moved to another relay while commands waited for the log: it is stopped here,
/// and no command still waiting is ever marked logged (the book refuses new ones, and those
/// queued are dropped), so none is answered, stored or applied that the new owner's replay
/// skips.
async fn fenced(
    room: &str,
    orders: &Orders,
    vitals: &Vitals,
    metrics: &RoomMetrics,
    queue: &mut mpsc::UnboundedReceiver<(u64, StampedCommand)>,
) {
    orders.set_log_down(true);
    metrics.lease_losses.inc();
    tracing::warn!(
        room,
        "another relay took the room over before its log confirmed a command; stopping it here"
    );
    vitals.stop(MOVED);
    // Held open until the room drops its book: a closed queue would let the book count new
    // commands as logged at once (as it does without JetStream).
    // bounded: ends when the room's book (the only sender) is dropped with the room.
    while queue.recv().await.is_some() {}
}
