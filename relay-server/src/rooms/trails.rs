//! The relay's own `trajectory` events: each room samples the flown path of its newest
//! missiles in flight, `[lat, lon, alt_m]` once per second of room time, and publishes the
//! path with the impact point when a missile impacts (numbered after that tick's referee
//! events, see [`crate::bus`]).
//!
//! The samples are part of a room's snapshot ([`super::roomlog::Saved`]) and a takeover's
//! replay runs the same sampling from them ([`Trails::step`]), so the trajectories of impacts
//! in replayed ticks are published again, identical and under the same ids, like the referee's
//! events: none is lost with a relay that died before every sink took it.
//!
//! Invariants: the sampling is a pure function of the referee's state and events (it reads
//! nothing else), so the room and a replay from the same snapshot sample the same points; at
//! most [`MAX_TRAILS`] trails of [`MAX_TRAIL_POINTS`] points are kept.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sim_core::engine::{Event, EventKind};
use sim_core::flight::Phase;
use sim_core::{MissileId, Simulation};

use crate::bus::{BusEvent, EventBus};

/// Ticks between two trail points (one second).
const TRAIL_EVERY: u64 = 10;
/// Most points kept per trail (an ICBM's half hour at one per second, with margin).
const MAX_TRAIL_POINTS: usize = 2_400;
/// Most trails kept per room: those of the newest missiles in flight.
const MAX_TRAILS: usize = 1_000;

/// The sampled paths of a room's newest missiles in flight, by missile id.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Trails(BTreeMap<u32, Vec<[f64; 3]>>);

impl Trails {
    /// Whether no missile's path is kept.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// After the referee ran a tick that gave `events` (`sim` is past it): samples the
    /// newest missiles in flight when the tick is a sampling tick, then publishes a
    /// `trajectory` for every impact among `events` on `bus`, as room `room`, run `run`.
    pub fn step(
        &mut self,
        sim: &Simulation,
        events: &[Event],
        bus: &EventBus,
        (room, run): (&str, &str),
    ) {
        if sim.tick().is_multiple_of(TRAIL_EVERY) {
            let newest: Vec<MissileId> = sim
                .missiles()
                .iter()
                .rev()
                .filter(|m| m.flight.phase != Phase::Impacted)
                .take(MAX_TRAILS)
                .map(|m| m.id)
                .collect();
            for id in newest {
                let Some(view) = sim.missile_view(id) else {
                    continue;
                };
                let trail = self.0.entry(id.0).or_default();
                if trail.len() < MAX_TRAIL_POINTS {
                    trail.push([view.lat_deg, view.lon_deg, view.alt_m]);
                }
            }
            // bounded: removes one trail per pass until MAX_TRAILS are left.
            while self.0.len() > MAX_TRAILS {
                self.0.pop_first();
            }
        }
        let mut index = events.len();
        for event in events {
            let EventKind::Impact { missile, at, .. } = &event.kind else {
                continue;
            };
            let mut points = self.0.remove(&missile.0).unwrap_or_default();
            points.push([at.lat_deg, at.lon_deg, 0.0]);
            let payload = serde_json::json!({
                "type": "trajectory",
                "tick": event.tick,
                "time_s": event.time_s,
                "missile": missile,
                "points": points,
            });
            let index_u32 = u32::try_from(index).unwrap_or(u32::MAX);
            bus.publish(BusEvent::from_payload(
                room, run, event.tick, index_u32, payload,
            ));
            index += 1;
        }
    }
}
