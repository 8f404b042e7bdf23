//! A room's snapshots in [`super::STATE_BUCKET`]: gzipped JSON cut into chunks that fit a
//! NATS message, written into the slot the manifest does not name, then the manifest, so a
//! relay that dies mid-write leaves the previous snapshot whole; and each written only once
//! the event sinks delivered every event published before it ([`save`]).

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use super::{Journal, Saved, Sequences};
use crate::bus::Delivered;
use crate::metrics::{RoomLabels, RoomMetrics};

impl Journal {
    /// The room's last complete snapshot: its manifest, then the manifest's chunks, gunzipped
    /// and parsed; `None` when there is none or it cannot be read back (the takeover then
    /// replays from tick 0).
    pub(super) async fn snapshot(&self, room: &str) -> Result<Option<(Saved, u64, u64)>, String> {
        let manifest: Manifest = match self.state.get(format!("{room}.snap")).await {
            Ok(Some(body)) => match serde_json::from_slice(&body) {
                Ok(manifest) => manifest,
                Err(_) => return Ok(None),
            },
            Ok(None) => return Ok(None),
            Err(err) => return Err(err.to_string()),
        };
        let mut compressed = Vec::with_capacity(manifest.bytes);
        for k in 0..manifest.chunks {
            match self
                .state
                .get(format!("{room}.snap.{}.{k}", manifest.slot))
                .await
            {
                Ok(Some(chunk)) => compressed.extend_from_slice(&chunk),
                Ok(None) => return Ok(None),
                Err(err) => return Err(err.to_string()),
            }
        }
        let decoded = tokio::task::spawn_blocking(move || {
            use std::io::Read;
            let mut json = Vec::new();
            flate2::read::GzDecoder::new(compressed.as_slice())
                .read_to_end(&mut json)
                .ok()?;
            serde_json::from_slice::<Saved>(&json).ok()
        })
        .await
        .ok()
        .flatten();
        if decoded.is_none() {
            tracing::warn!(
                room,
                "the room's snapshot cannot be read; replaying from tick 0"
            );
        }
        Ok(decoded.map(|saved| (saved, manifest.log_from, manifest.epoch)))
    }
}

/// Where the last complete snapshot of a room is: `{room}.snap` in [`super::STATE_BUCKET`].
#[derive(Debug, Serialize, Deserialize)]
struct Manifest {
    /// The slot (0 or 1) of its chunks, `{room}.snap.{slot}.{k}`.
    slot: u8,
    /// How many chunks.
    chunks: u32,
    /// Compressed bytes in all.
    bytes: usize,
    /// The referee's tick it was taken at.
    tick: u64,
    /// The log's stream sequence of the last command it covers (0: none): a replay reads the
    /// log after it.
    #[serde(default)]
    log_from: u64,
    /// The epoch of the owner that took it: a replay skips entries of earlier owners.
    #[serde(default)]
    epoch: u64,
}

/// Most compressed bytes of one snapshot; a larger one is skipped.
const MAX_SNAPSHOT_BYTES: usize = 64 << 20;
/// Most snapshots held back in memory until the sinks delivered their events.
pub(super) const MAX_PENDING: usize = 4;
/// How often held snapshots are checked against the sinks' watermark.
const RECHECK: Duration = Duration::from_millis(200);

/// A snapshot taken, compressed, not yet written: it waits for the sinks.
struct Pending {
    tick: u64,
    log_from: u64,
    compressed: Vec<u8>,
    delivered: Delivered,
}

/// Saves the room's snapshots, each once the event sinks delivered every event published
/// before it (the watermark: [`crate::bus::EventBus::delivered_mark`]), so the snapshot a
/// takeover restores never lies past an event the dead owner may not have delivered.
///
/// Snapshots are compressed when they arrive and held (at most [`MAX_PENDING`]; when full,
/// the newest held one is replaced, so the oldest, which the sinks reach first, stay); the
/// newest held one whose events are delivered is written, gzipped JSON cut into chunks that
/// fit a NATS message, into the slot the manifest does not name, then the manifest: a relay
/// that dies mid-write leaves the previous snapshot whole. The ticks between the newest
/// snapshot taken and the one written are `relay_room_durable_lag_ticks{room}`.
pub(super) async fn save(
    journal: Arc<Journal>,
    (room, epoch): (String, u64),
    mut snapshots: mpsc::Receiver<Saved>,
    (sequences, metrics): (Sequences, RoomMetrics),
) {
    let manifest = journal
        .state
        .get(format!("{room}.snap"))
        .await
        .ok()
        .flatten()
        .and_then(|m| serde_json::from_slice::<Manifest>(&m).ok());
    let mut slot = match &manifest {
        Some(m) => 1 - m.slot.min(1),
        None => 0,
    };
    let mut durable = manifest.map_or(0, |m| m.tick);
    let lag = metrics
        .durable_lag
        .get_or_create(&RoomLabels { room: room.clone() })
        .clone();
    let mut pending: VecDeque<Pending> = VecDeque::new();
    let mut newest = durable;
    loop {
        let saved = if pending.is_empty() {
            snapshots.recv().await
        } else {
            tokio::select! {
                saved = snapshots.recv() => saved,
                () = tokio::time::sleep(RECHECK) => None,
            }
        };
        if let Some(saved) = saved {
            newest = newest.max(saved.snapshot.tick);
            if let Some(held) = hold(&room, saved, &sequences).await {
                if pending.len() >= MAX_PENDING {
                    pending.pop_back();
                }
                pending.push_back(held);
            }
        } else if snapshots.is_closed() {
            // The room ended, was fenced or dropped: what is held is not written (a takeover
            // replays from the last written snapshot, which stays safe).
            break;
        }
        // The newest held snapshot whose events every sink delivered; older ones go with it.
        if let Some(at) = pending.iter().rposition(|p| p.delivered.all())
            && let Some(ready) = pending.drain(..=at).next_back()
            && write(&journal, (&room, epoch), slot, &ready).await
        {
            slot = 1 - slot;
            durable = ready.tick;
        }
        lag.set(i64::try_from(newest.saturating_sub(durable)).unwrap_or(i64::MAX));
    }
    metrics.durable_lag.remove(&RoomLabels { room });
}

/// Compresses a snapshot to hold it; `None` when it cannot be encoded or is too large.
async fn hold(room: &str, saved: Saved, sequences: &Sequences) -> Option<Pending> {
    let tick = saved.snapshot.tick;
    // The newest acknowledged command the snapshot covers (commands after it in the log are
    // stamped for its tick or later; failed appends in between are not in the log).
    let log_from = {
        let mut sequences = sequences.lock().unwrap_or_else(|p| p.into_inner());
        match sequences.range(..=saved.applied).next_back() {
            Some((&ordinal, &sequence)) => {
                *sequences = sequences.split_off(&ordinal);
                sequence
            }
            None => 0,
        }
    };
    let delivered = saved.delivered.clone();
    let compressed = tokio::task::spawn_blocking(move || {
        use std::io::Write;
        let json = serde_json::to_vec(&saved).ok()?;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&json).ok()?;
        gz.finish().ok()
    })
    .await
    .ok()
    .flatten()?;
    if compressed.len() > MAX_SNAPSHOT_BYTES {
        tracing::warn!(
            room,
            bytes = compressed.len(),
            "the room's snapshot is too large to keep; a takeover replays from an older one"
        );
        return None;
    }
    Some(Pending {
        tick,
        log_from,
        compressed,
        delivered,
    })
}

/// Writes a snapshot into `slot`, then the manifest naming it; whether it was written.
async fn write(journal: &Journal, (room, epoch): (&str, u64), slot: u8, snap: &Pending) -> bool {
    // Room for the headers of a KV put (a server that told no limit: NATS's default, 1 MiB).
    let max = if journal.max_payload == 0 {
        1 << 20
    } else {
        journal.max_payload
    };
    let chunk = max.max(8192) - 4096;
    let parts: Vec<&[u8]> = snap.compressed.chunks(chunk).collect();
    for (k, part) in parts.iter().enumerate() {
        let key = format!("{room}.snap.{slot}.{k}");
        if let Err(err) = journal.state.put(key, Bytes::copy_from_slice(part)).await {
            tracing::warn!(room, "cannot save the room's snapshot: {err}");
            return false;
        }
    }
    let manifest = Manifest {
        slot,
        chunks: u32::try_from(parts.len()).unwrap_or(u32::MAX),
        bytes: snap.compressed.len(),
        tick: snap.tick,
        log_from: snap.log_from,
        epoch,
    };
    let body = Bytes::from(serde_json::to_vec(&manifest).unwrap_or_default());
    match journal.state.put(format!("{room}.snap"), body).await {
        Ok(_) => true,
        Err(err) => {
            tracing::warn!(room, "cannot save the room's snapshot: {err}");
            false
        }
    }
}
