//! A room's snapshots in [`super::STATE_BUCKET`]: gzipped JSON cut into chunks that fit a
//! NATS message, written into the slot the manifest does not name, then the manifest, so a
//! relay that dies mid-write leaves the previous snapshot whole.

use std::sync::Arc;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use super::{Journal, Saved, Sequences};

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

/// Saves the room's snapshots as they come, gzipped JSON cut into chunks that fit a NATS
/// message, written into the slot the manifest does not name, then the manifest: a relay that
/// dies mid-write leaves the previous snapshot whole.
pub(super) async fn save(
    journal: Arc<Journal>,
    (room, epoch): (String, u64),
    mut snapshots: mpsc::Receiver<Saved>,
    sequences: Sequences,
) {
    let manifest = journal
        .state
        .get(format!("{room}.snap"))
        .await
        .ok()
        .flatten();
    let mut slot = match manifest.and_then(|m| serde_json::from_slice::<Manifest>(&m).ok()) {
        Some(m) => 1 - m.slot.min(1),
        None => 0,
    };
    // Room for the headers of a KV put (a server that told no limit: NATS's default, 1 MiB).
    let max = if journal.max_payload == 0 {
        1 << 20
    } else {
        journal.max_payload
    };
    let chunk = max.max(8192) - 4096;
    while let Some(saved) = snapshots.recv().await {
        let tick = saved.snapshot.tick;
        // The newest acknowledged command the snapshot covers (commands after it in the log
        // are stamped for its tick or later; failed appends in between are not in the log).
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
        let encoded = tokio::task::spawn_blocking(move || {
            use std::io::Write;
            let json = serde_json::to_vec(&saved).ok()?;
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            gz.write_all(&json).ok()?;
            gz.finish().ok()
        })
        .await
        .ok()
        .flatten();
        let Some(compressed) = encoded else { continue };
        if compressed.len() > MAX_SNAPSHOT_BYTES {
            tracing::warn!(
                room,
                bytes = compressed.len(),
                "the room's snapshot is too large to keep; a takeover replays from an older one"
            );
            continue;
        }
        let parts: Vec<&[u8]> = compressed.chunks(chunk).collect();
        let mut written = true;
        for (k, part) in parts.iter().enumerate() {
            let key = format!("{room}.snap.{slot}.{k}");
            if let Err(err) = journal.state.put(key, Bytes::copy_from_slice(part)).await {
                tracing::warn!(room, "cannot save the room's snapshot: {err}");
                written = false;
                break;
            }
        }
        if !written {
            continue;
        }
        let manifest = Manifest {
            slot,
            chunks: u32::try_from(parts.len()).unwrap_or(u32::MAX),
            bytes: compressed.len(),
            tick,
            log_from,
            epoch,
        };
        let body = Bytes::from(serde_json::to_vec(&manifest).unwrap_or_default());
        match journal.state.put(format!("{room}.snap"), body).await {
            Ok(_) => slot = 1 - slot,
            Err(err) => tracing::warn!(room, "cannot save the room's snapshot: {err}"),
        }
    }
}
