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

/// The web app's raid, in the engine: a salvo of SCUD-Cs from 36.5N 123.1W at Los Angeles
/// (about 500 km), one round per tick (0.1 s apart) with guidance solved once beforehand, as
/// the click-to-launch salvo sends it. [`Raid::new`] steps until every round is in the air
/// (the first has then flown `n` ticks, so a 500-round raid is mostly in boost, the most
/// expensive regime); [`Raid::step`] runs engine ticks from there.
#[derive(Debug, Clone)]
pub struct Raid {
    /// The simulation with the whole salvo in flight.
    pub sim: crate::Simulation,
}

impl Raid {
    /// A raid of `n` rounds, all launched.
    pub fn new(n: usize) -> Self {
        use crate::engine::{Command, LaunchCommand};
        use crate::targeting::{self, Profile, TargetingRequest};
        let physics = PhysicsParams::default();
        let req = TargetingRequest {
            kind: MissileKind::ScudC,
            from: GeoPoint::new(36.5, -123.1),
            to: GeoPoint::new(34.05, -118.25),
            profile: Profile::MinEnergy,
        };
        let guidance = targeting::solve(&req, &physics)
            .expect("Los Angeles is within SCUD-C range")
            .guidance;
        let mut sim = crate::Simulation::new(physics, 1);
        for i in 0..n {
            let launch = Command::Launch(LaunchCommand {
                missile: req.kind,
                from: req.from,
                to: req.to,
                profile: req.profile,
                label: Some(format!("salvo {}/{n}", i + 1)),
                guidance: Some(guidance),
            });
            sim.step(&[launch]);
        }
        Self { sim }
    }

    /// Runs `ticks` engine ticks; returns the missile-ticks flown (missiles in the air at the
    /// start of each tick).
    pub fn step(&mut self, ticks: u32) -> u64 {
        let mut flown = 0;
        for _ in 0..ticks {
            flown += self
                .sim
                .missiles()
                .iter()
                .filter(|m| m.flight.phase != crate::flight::Phase::Impacted)
                .count() as u64;
            self.sim.step(&[]);
        }
        flown
    }
}
