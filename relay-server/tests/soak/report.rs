//! The soak's report: Markdown rows (to paste into docs/benchmarks.md) and the list of what
//! was lost or duplicated, which must be empty.

use std::collections::{BTreeMap, BTreeSet};

use crate::Launches;
use crate::chaos::Done;
use crate::consumer::Seen;
use crate::procs::WsTotals;

pub struct Report {
    pub load_secs: f64,
    pub drain_secs: f64,
    pub seed: u64,
    pub kill_relay: bool,
    pub done: Done,
    pub launches: Launches,
    /// Every event id in PostgreSQL.
    pub db_ids: BTreeSet<String>,
    /// The stored ids every one of which the consumer had to see.
    pub db_cut: BTreeSet<String>,
    /// The consumed ids every one of which PostgreSQL had to store.
    pub consumed_cut: BTreeSet<String>,
    /// Launch label -> ids of the stored launch events carrying it.
    pub db_labels: BTreeMap<String, Vec<String>>,
    pub seen: Seen,
    /// Every id in the stream at the end, read from its start (or why it could not be read).
    pub in_stream: Result<BTreeSet<String>, String>,
    /// `nats_buffer_events`, `db_buffer_events` of relay A, then of relay B, at the end.
    pub buffers: Vec<Option<f64>>,
    pub ws: WsTotals,
    /// Events the relays' buffers dropped (counters of the processes running at the end).
    pub dropped: f64,
    pub rss_start: Vec<Option<u64>>,
    pub rss_end: Vec<Option<u64>>,
    pub relay_starts: Vec<u32>,
}

fn first<'a>(items: impl Iterator<Item = &'a String>) -> Vec<&'a String> {
    items.take(3).collect()
}

impl Report {
    fn accepted_not_stored(&self) -> Vec<&String> {
        self.launches
            .accepted
            .keys()
            .filter(|l| !self.db_labels.contains_key(*l))
            .collect()
    }

    fn accepted_not_consumed(&self) -> Vec<&String> {
        self.launches
            .accepted
            .keys()
            .filter(|l| !self.seen.labels.contains_key(*l))
            .collect()
    }

    fn stored_not_consumed(&self) -> Vec<&String> {
        self.db_cut
            .iter()
            .filter(|id| !self.seen.positions.contains_key(*id))
            .collect()
    }

    fn consumed_not_stored(&self) -> Vec<&String> {
        self.consumed_cut
            .iter()
            .filter(|id| !self.db_ids.contains(*id))
            .collect()
    }

    fn stream_duplicates(&self) -> Vec<&String> {
        self.seen
            .positions
            .iter()
            .filter(|(_, at)| at.len() > 1)
            .map(|(id, _)| id)
            .collect()
    }

    fn launch_duplicates(&self) -> Vec<&String> {
        self.db_labels
            .iter()
            .filter(|(_, ids)| ids.len() > 1)
            .map(|(l, _)| l)
            .chain(
                self.seen
                    .labels
                    .iter()
                    .filter(|(_, ids)| ids.len() > 1)
                    .map(|(l, _)| l),
            )
            .collect()
    }

    /// What was lost or duplicated, one sentence each with examples; empty when all is well.
    pub fn lost(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut check = |what: &str, items: Vec<&String>| {
            if !items.is_empty() {
                out.push(format!(
                    "{} {what}, such as {:?}",
                    items.len(),
                    first(items.into_iter())
                ));
            }
        };
        check(
            "accepted launches without a stored launch event",
            self.accepted_not_stored(),
        );
        check(
            "accepted launches the durable consumer never saw",
            self.accepted_not_consumed(),
        );
        check(
            "stored events the durable consumer never saw",
            self.stored_not_consumed(),
        );
        check(
            "events the consumer saw that PostgreSQL never stored",
            self.consumed_not_stored(),
        );
        check(
            "event ids stored at two stream positions",
            self.stream_duplicates(),
        );
        check(
            "launch labels in two launch events",
            self.launch_duplicates(),
        );
        if self.dropped > 0.0 {
            out.push(format!("{} events dropped by full buffers", self.dropped));
        }
        // The public room always exists: while it moves or NATS is down a launch may be
        // refused for now (409, 503), never answered "no such room" (404) or with a failure.
        for (status, n) in &self.launches.refused {
            if *status == 404 || *status >= 500 && *status != 503 {
                out.push(format!(
                    "{n} launches into the public room answered {status}"
                ));
            }
        }
        out
    }

    /// The report as Markdown rows.
    pub fn markdown(&self) -> String {
        let l = &self.launches;
        let mib = |v: Option<u64>| v.map_or("-".into(), |k| format!("{:.1}", k as f64 / 1024.0));
        let refused: Vec<String> = l.refused.iter().map(|(s, n)| format!("{n}x{s}")).collect();
        let accepted_stored = l
            .accepted
            .keys()
            .filter(|k| self.db_labels.contains_key(*k))
            .count();
        let unanswered = self
            .db_labels
            .keys()
            .filter(|k| !l.accepted.contains_key(*k))
            .count();
        let count = |v: Option<f64>| v.map_or("?".into(), |n| format!("{n}"));
        let d = &self.done;
        let lost = self.lost();
        let rows: Vec<(&str, String)> = vec![
            (
                "length",
                format!(
                    "{:.0} s of load, {:.0} s of drain",
                    self.load_secs, self.drain_secs
                ),
            ),
            (
                "chaos (seed)",
                format!(
                    "seed {}: {} nats-server kill -9, {} PostgreSQL kill -9, {} consumer restarts, {} relay kill -9 (relay kill {})",
                    self.seed,
                    d.nats_kills,
                    d.pg_kills,
                    d.consumer_restarts,
                    d.relay_kills,
                    if self.kill_relay { "on" } else { "off" }
                ),
            ),
            (
                "REST launches",
                format!(
                    "{} attempts, **{} accepted**, refused {}, {} connection errors (retried)",
                    l.attempts,
                    l.accepted.len(),
                    if refused.is_empty() {
                        "none".into()
                    } else {
                        refused.join(" ")
                    },
                    l.connection_errors
                ),
            ),
            (
                "launch events stored for accepted launches",
                format!(
                    "**{accepted_stored} of {}** (+{unanswered} stored whose answer was lost or refused)",
                    l.accepted.len()
                ),
            ),
            (
                "events stored (PostgreSQL)",
                format!("{}", self.db_ids.len()),
            ),
            (
                "events seen by the durable consumer",
                format!(
                    "{} distinct, {} deliveries, {} redelivered, {} sessions",
                    self.seen.positions.len(),
                    self.seen.deliveries,
                    self.seen.redelivered,
                    self.seen.sessions
                ),
            ),
            (
                "duplicates",
                format!(
                    "{} ids at two stream positions, {} launch labels in two events",
                    self.stream_duplicates().len(),
                    self.launch_duplicates().len()
                ),
            ),
            (
                "gaps",
                format!(
                    "{} accepted not stored, {} accepted not consumed, {} of {} stored not consumed, {} of {} consumed not stored, {} dropped by buffers",
                    self.accepted_not_stored().len(),
                    self.accepted_not_consumed().len(),
                    self.stored_not_consumed().len(),
                    self.db_cut.len(),
                    self.consumed_not_stored().len(),
                    self.consumed_cut.len(),
                    self.dropped
                ),
            ),
            (
                "at the end",
                format!(
                    "stream: {}; events in the buffers (NATS, database): A {}, {}; B {}, {}",
                    match &self.in_stream {
                        Ok(ids) => format!(
                            "{} events, of which {} stored but not consumed",
                            ids.len(),
                            self.stored_not_consumed()
                                .iter()
                                .filter(|id| ids.contains(**id))
                                .count()
                        ),
                        Err(e) => format!("unreadable ({e})"),
                    },
                    count(self.buffers[0]),
                    count(self.buffers[1]),
                    count(self.buffers[2]),
                    count(self.buffers[3])
                ),
            ),
            (
                "ws-load rounds",
                format!(
                    "{} rounds ({} could not start), {} commands, {} deliveries, {} missing, {} errors (informative: members are cut off by the outages)",
                    self.ws.rounds,
                    self.ws.failed_starts,
                    self.ws.commands,
                    self.ws.deliveries,
                    self.ws.missing,
                    self.ws.errors
                ),
            ),
            (
                "relay RSS (MiB) start -> end",
                format!(
                    "A {} -> {}, B {} -> {} (starts: A {}, B {})",
                    mib(self.rss_start[0]),
                    mib(self.rss_end[0]),
                    mib(self.rss_start[1]),
                    mib(self.rss_end[1]),
                    self.relay_starts[0],
                    self.relay_starts[1]
                ),
            ),
            (
                "lost",
                if lost.is_empty() {
                    "**0**".into()
                } else {
                    format!("**{}**", lost.join("; "))
                },
            ),
        ];
        let mut text = String::from("| soak | result |\n|---|---|\n");
        for (k, v) in rows {
            text.push_str(&format!("| {k} | {v} |\n"));
        }
        text
    }
}
