//! Benchmark workloads shared by the criterion benchmarks (native) and the `js` timing export
//! (wasm), so both measure exactly the same computation.

use crate::earth::GeoPoint;
use crate::engine::TICK_S;
use crate::flight::{Flight, Guidance, PhysicsParams};
use crate::missile::MissileKind;

/// A swarm of SCUD-C flights fanned out in azimuth from a grid of launch points, with fixed
/// (unsolved) guidance, on the default physics (WGS84, J2, rotation, drag).
#[derive(Debug, Clone)]
pub struct Swarm {
    /// Physics used.
    pub physics: PhysicsParams,
    /// The flights.
    pub flights: Vec<Flight>,
}

impl Swarm {
    /// `n` flights.
    pub fn new(n: usize) -> Self {
        let physics = PhysicsParams::default();
        let kind = MissileKind::ScudC;
        let t = kind.params();
        let flights = (0..n)
            .map(|i| {
                let from = GeoPoint::new(-40.0 + (i % 80) as f64, -170.0 + (i / 80 % 340) as f64);
                let az = (i * 37 % 360) as f64;
                let g = Guidance::toward_azimuth(&physics, &from, az, t.max_range_pitch_deg, 1e9);
                Flight::launch(kind, from, g, &physics)
            })
            .collect();
        Self { physics, flights }
    }

    /// Advances every flight by `ticks` ticks; returns the missile-ticks flown (flights still in
    /// the air at each tick).
    pub fn fly(&mut self, ticks: u32) -> u64 {
        let mut events = Vec::new();
        let mut flown = 0;
        for _ in 0..ticks {
            for f in &mut self.flights {
                if f.phase != crate::flight::Phase::Impacted {
                    f.advance(TICK_S, &self.physics, &mut events);
                    flown += 1;
                }
            }
            events.clear();
        }
        flown
    }
}
