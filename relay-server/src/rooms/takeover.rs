//! Finding a room across relays, and taking over a room whose owner stopped.
//!
//! [`Rooms::find`]: a room this relay runs; else, with NATS, the relay that answers for it
//! (through a proxy); else, with JetStream, the room is taken over here once its lease has
//! expired ([`super::roomlog`]): restored from its last snapshot and the commands logged
//! after it. The cluster's public room is found the same way, and started by the first relay
//! that needs it. A proxy whose owner went silent starts a takeover attempt itself, so the room
//! runs again even before its members reconnect; and every [`ORPHAN_SWEEP`] each relay takes
//! over the rooms nobody runs nor asks for ([`Rooms::sweep_orphans`]): the replay publishes
//! again the events their dead owner held, and the room then closes as any empty room does.

use std::sync::Arc;
use std::time::Duration;

use super::{
    EventBus, PUBLIC_ROOM, RoomError, RoomHandle, Rooms, Start, cluster, room, roomlog, truncate_id,
};

/// How often a relay looks for rooms whose owner died and that nobody asked for since.
pub const ORPHAN_SWEEP: Duration = Duration::from_secs(5);

impl Rooms {
    /// Every [`ORPHAN_SWEEP`], takes over here the rooms recorded in JetStream whose lease
    /// expired and that no member or request brought back: a room whose owner died with
    /// events it had not delivered (NATS or the database down) would otherwise keep them
    /// lost until someone asked for it. Relays race for each lease; one wins.
    pub fn sweep_orphans(&self) {
        let rooms = self.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(ORPHAN_SWEEP);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            loop {
                every.tick().await;
                let Some(cluster) = rooms.cluster() else {
                    return;
                };
                let Some(journal) = cluster.journal().cloned() else {
                    if cluster.durable() {
                        // Not set up yet: the next sweep looks again.
                        continue;
                    }
                    return;
                };
                let orphans = match journal.orphans().await {
                    Ok(orphans) => orphans,
                    Err(err) => {
                        tracing::debug!("cannot list the rooms kept in JetStream: {err}");
                        continue;
                    }
                };
                for id in orphans {
                    if rooms.get(&id).is_ok() {
                        continue;
                    }
                    match rooms.find(&id).await {
                        Ok(_) => {
                            tracing::info!(room = %truncate_id(&id), "took over a room nobody ran")
                        }
                        Err(err) => tracing::debug!(room = %truncate_id(&id), "{err}"),
                    }
                }
            }
        });
    }

    /// The room with this id: [`Rooms::get`], and with NATS, a room another relay owns
    /// (reached through a proxy). With JetStream, a room whose owner stopped is taken over
    /// here once its lease expired: restored from its last snapshot and its logged commands
    /// (while another relay holds the lease, this waits, up to the lease's lifetime).
    pub async fn find(&self, id: &str) -> Result<Arc<RoomHandle>, RoomError> {
        let not_here = match self.get(id) {
            Ok(handle) => return Ok(handle),
            Err(err) => err,
        };
        let Some(cluster) = self.cluster.get() else {
            return Err(not_here);
        };
        let public = id == PUBLIC_ROOM;
        if !public && !cluster::valid_room_id(id) {
            return Err(not_here);
        }
        let deadline = tokio::time::Instant::now() + roomlog::LEASE_TTL + Duration::from_secs(3);
        loop {
            match cluster.lookup(id).await {
                Ok(tick) => return self.open_proxy(cluster, id, tick),
                Err(RoomError::NotFound(_)) => {}
                Err(err) => return Err(err),
            }
            let Some(journal) = cluster.journal() else {
                // The public room always exists: when it cannot be reached, it is
                // unavailable (503, try again), never "no such room".
                return Err(if public {
                    RoomError::Unreachable(
                        "the public room cannot be reached while NATS is unavailable; try again \
                         in a few seconds"
                            .into(),
                    )
                } else {
                    not_here
                });
            };
            let acquired = if public {
                let meta = roomlog::Meta {
                    token: None,
                    run: crate::bus::random_run(),
                };
                journal.register_public(id, &meta).await
            } else {
                journal.acquire(id).await
            };
            match acquired {
                Ok(roomlog::Acquired::Won(revision)) => {
                    return self.take_over(cluster, journal, id, revision).await;
                }
                // The public room's record went away between two reads (it closed, idle,
                // on its owner): register it again on the next pass.
                Ok(roomlog::Acquired::NoRoom) if public => {}
                Ok(roomlog::Acquired::NoRoom) => return Err(not_here),
                Ok(roomlog::Acquired::Held) => {}
                Err(err) => {
                    return Err(RoomError::Unreachable(format!(
                        "room {} cannot be looked up in JetStream: {err}",
                        truncate_id(id)
                    )));
                }
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(RoomError::Unreachable(format!(
                    "room {} is moving to another relay; try again in a few seconds",
                    truncate_id(id)
                )));
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }

    /// Restores room `id`, whose lease this relay just took (at `revision`), and owns it.
    async fn take_over(
        &self,
        cluster: &Arc<cluster::Cluster>,
        journal: &Arc<roomlog::Journal>,
        id: &str,
        revision: u64,
    ) -> Result<Arc<RoomHandle>, RoomError> {
        let failed = |why: String| {
            RoomError::Unreachable(format!(
                "room {} cannot be restored here: {why}",
                truncate_id(id)
            ))
        };
        // The lease is refreshed while the log is read and replayed (which may take longer
        // than the lease lives).
        let holding = journal.hold(id, revision);
        let restored = async {
            journal.mark(id, revision).await?;
            let restore = journal.read(id).await?;
            let (bus, room, run) = (self.bus.clone(), id.to_string(), restore.meta.run.clone());
            let commands = restore.commands.len();
            let saved = restore.saved;
            let logged = restore.commands;
            // Not before the ticks the last owner may have run: see `roomlog::Progress`.
            let past = restore.progress.map_or(0, |p| p.bound(roomlog::now_ms()));
            let resumed = tokio::task::spawn_blocking(move || {
                roomlog_replay(saved, &logged, past, &bus, (&room, &run))
            })
            .await
            .map_err(|_| "its replay failed".to_string())?;
            Ok::<_, String>((restore.meta, resumed, commands))
        }
        .await;
        let revision = holding.finish().await;
        let ((meta, (sim, clock, trails), commands), revision) = match (restored, revision) {
            (Ok(restored), Some(revision)) => (restored, revision),
            (Err(err), _) => {
                journal.release(id).await;
                return Err(failed(err));
            }
            (Ok(_), None) => {
                return Err(failed("another relay took it meanwhile".into()));
            }
        };
        let tick = sim.tick();
        let start = Start {
            run: Some(meta.run),
            durable: Some((journal.clone(), revision)),
            resume: Some((sim, clock, trails)),
        };
        let handle = match self.insert(id.to_string(), meta.token, start) {
            Ok(handle) => handle,
            Err(err) => {
                journal.release(id).await;
                return Err(err);
            }
        };
        if let Err(err) = cluster.own(handle.clone()).await {
            tracing::warn!(room = %id, "{err}");
        }
        if tick > 0 || commands > 0 {
            self.metrics.takeovers.inc();
            tracing::warn!(room = %id, tick, commands, "took the room over from a relay that stopped");
        } else {
            tracing::info!(room = %id, "running the room for the relays on this NATS");
        }
        Ok(handle)
    }

    fn open_proxy(
        &self,
        cluster: &Arc<cluster::Cluster>,
        id: &str,
        tick: u64,
    ) -> Result<Arc<RoomHandle>, RoomError> {
        let mut map = self.lock();
        if let Some(handle) = map.get(id)
            && !handle.requests.is_closed()
        {
            return Ok(handle.clone());
        }
        if map.len() >= self.settings.max_rooms {
            return Err(RoomError::Full(self.settings.max_rooms));
        }
        let (handle, task) = cluster.proxy(
            id.to_string(),
            tick,
            (self.settings.grace, self.settings.launch_waiting),
        );
        map.insert(id.to_string(), handle.clone());
        let map = self.map.clone();
        let me = handle.clone();
        let rooms = self.clone();
        tokio::spawn(async move {
            let owner_silent = task.await;
            {
                let mut map = map.lock().unwrap_or_else(|poison| poison.into_inner());
                if map
                    .get(me.id())
                    .is_some_and(|h| h.requests.same_channel(&me.requests))
                {
                    map.remove(me.id());
                }
            }
            if owner_silent && rooms.cluster().is_some_and(|c| c.durable()) {
                // The room goes on: here, or at whichever relay takes it first.
                if let Err(err) = rooms.find(me.id()).await {
                    tracing::warn!(room = %me.id(), "{err}");
                }
            }
        });
        Ok(handle)
    }
}

/// Replays a room for a takeover: from `saved` (or tick 0), every logged command at its
/// stamped tick, up to the tick after the last, and at least to `past` (the first tick the
/// last owner cannot have run: new commands are stamped after it, so none gives an event id
/// the last owner used); the events of the replayed ticks, and the `trajectory` events of
/// their impacts (sampled from the snapshot's trails on), are published again under the
/// room's run (same ids: consumers drop them as duplicates).
fn roomlog_replay(
    saved: Option<roomlog::Saved>,
    logged: &[sim_core::protocol::StampedCommand],
    past: u64,
    bus: &EventBus,
    (room, run): (&str, &str),
) -> (
    sim_core::Simulation,
    sim_core::protocol::ClockState,
    super::trails::Trails,
) {
    let (mut sim, clock, mut trails) = match saved {
        Some(saved) => (
            sim_core::Simulation::restore(saved.snapshot),
            saved.clock,
            saved.trails,
        ),
        None => (
            sim_core::Simulation::new(sim_core::flight::PhysicsParams::default(), room::ROOM_SEED),
            Default::default(),
            Default::default(),
        ),
    };
    let end = logged
        .last()
        .map_or(0, |c| c.tick + 1)
        .max(sim.tick())
        .max(past);
    let mut next = 0;
    while sim.tick() < end {
        let tick = sim.tick();
        let mut due = Vec::new();
        while let Some(c) = logged.get(next)
            && c.tick <= tick
        {
            if c.tick == tick {
                due.push(c.command.clone());
            }
            next += 1;
        }
        let events = sim.step(&due);
        bus.publish_tick(room, run, &events);
        trails.step(&sim, &events, bus, (room, run));
    }
    (sim, clock, trails)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::earth::GeoPoint;
    use sim_core::engine::LaunchCommand;
    use sim_core::flight::PhysicsParams;
    use sim_core::protocol::{Member, Role, StampedCommand};
    use sim_core::targeting::{self, TargetingRequest};

    /// Every `trajectory` event published on `bus` so far, by event id.
    fn trajectories(
        rx: &mut tokio::sync::broadcast::Receiver<Arc<crate::bus::BusEvent>>,
    ) -> Vec<(String, serde_json::Value)> {
        let mut out = Vec::new();
        while let Ok(event) = rx.try_recv() {
            if event.kind == "trajectory" {
                out.push((event.event_id.clone(), event.payload.clone()));
            }
        }
        out
    }

    /// A replay from a snapshot taken mid-flight publishes the missile's `trajectory` at its
    /// impact exactly as the room did (same id, same points), from the snapshot's trails: a
    /// relay killed before a sink took it loses nothing.
    #[test]
    fn a_replay_publishes_the_trajectories_the_room_published() {
        let request = TargetingRequest {
            kind: sim_core::MissileKind::ScudB,
            from: GeoPoint::new(35.5, 45.0),
            to: GeoPoint::new(33.0, 44.0),
            profile: Default::default(),
        };
        let guidance = targeting::solve(&request, &PhysicsParams::default())
            .ok()
            .map(|s| s.guidance);
        let launch = StampedCommand {
            tick: 3,
            by: Member {
                id: 1,
                name: "Ada".into(),
                role: Role::Attacker,
                can_command: true,
            },
            command: sim_core::Command::Launch(LaunchCommand {
                missile: request.kind,
                from: request.from,
                to: request.to,
                profile: request.profile,
                label: None,
                guidance,
            }),
        };

        // The room: from tick 0, a snapshot (with its trails) taken at tick 1000.
        let bus = EventBus::new(Default::default());
        let mut rx = bus.subscribe();
        let mut sim = sim_core::Simulation::new(PhysicsParams::default(), room::ROOM_SEED);
        let mut trails = crate::rooms::trails::Trails::default();
        let mut saved = None;
        // bounded: a SCUD-B flies about 3,050 ticks.
        for _ in 0..5_000 {
            let due: Vec<_> = [&launch]
                .iter()
                .filter(|c| c.tick == sim.tick())
                .map(|c| c.command.clone())
                .collect();
            let events = sim.step(&due);
            bus.publish_tick("r", "00000000", &events);
            trails.step(&sim, &events, &bus, ("r", "00000000"));
            if sim.tick() == 1_000 {
                assert!(!trails.is_empty(), "the missile is sampled in flight");
                saved = Some(roomlog::Saved {
                    clock: Default::default(),
                    snapshot: sim.snapshot(),
                    trails: trails.clone(),
                    applied: 0,
                    delivered: Default::default(),
                });
            }
        }
        let original = trajectories(&mut rx);
        assert_eq!(original.len(), 1, "one impact, one trajectory");
        let points = original[0].1["points"].as_array().unwrap().len();
        assert!(points > 250, "the whole flight is sampled: {points} points");

        // A takeover from that snapshot, through a serialised copy as JetStream keeps it.
        let json = serde_json::to_vec(&saved.unwrap()).unwrap();
        let restored: roomlog::Saved = serde_json::from_slice(&json).unwrap();
        let bus = EventBus::new(Default::default());
        let mut rx = bus.subscribe();
        let (sim, _, _) = roomlog_replay(Some(restored), &[], 5_000, &bus, ("r", "00000000"));
        assert_eq!(sim.tick(), 5_000);
        assert_eq!(trajectories(&mut rx), original);
    }
}
