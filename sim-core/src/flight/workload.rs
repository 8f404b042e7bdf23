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
    /// The salvo's request: SCUD-C from 36.5N 123.1W at Los Angeles, minimum energy.
    fn request() -> crate::targeting::TargetingRequest {
        crate::targeting::TargetingRequest {
            kind: MissileKind::ScudC,
            from: GeoPoint::new(36.5, -123.1),
            to: GeoPoint::new(34.05, -118.25),
            profile: crate::targeting::Profile::MinEnergy,
        }
    }

    /// A raid of `n` rounds, all launched.
    pub fn new(n: usize) -> Self {
        use crate::engine::{Command, LaunchCommand};
        use crate::targeting;
        let physics = PhysicsParams::default();
        let req = Self::request();
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

    /// A raid of `n` rounds at the same aim (flight time T, 5.5 minutes), launched evenly
    /// over 0.85 T (several per tick for thousands), then stepped 0.1 T on: the rounds are
    /// 0.1 T to 0.95 T into their flights, about a tenth in boost, most in coast, a fifth in
    /// re-entry (the scale goal of issue 13 is 5,000 of them stepped in 10 ms).
    pub fn spread(n: usize) -> Self {
        use crate::engine::{Command, LaunchCommand};
        let mut sim = crate::Simulation::new(PhysicsParams::default(), 1);
        let req = Self::request();
        let solution = crate::targeting::solve(&req, sim.physics())
            .expect("Los Angeles is within SCUD-C range");
        let flight_ticks = (solution.summary.flight_time_s / TICK_S) as usize;
        let launch_ticks = flight_ticks * 85 / 100;
        let mut launched = 0;
        for tick in 0..launch_ticks + flight_ticks / 10 {
            let due = if tick < launch_ticks {
                (tick + 1) * n / launch_ticks
            } else {
                n
            };
            let commands: Vec<Command> = (launched..due)
                .map(|i| {
                    Command::Launch(LaunchCommand {
                        missile: req.kind,
                        from: req.from,
                        to: req.to,
                        profile: req.profile,
                        label: Some(format!("raid {}/{n}", i + 1)),
                        guidance: Some(solution.guidance),
                    })
                })
                .collect();
            launched = due;
            sim.step(&commands);
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

/// The targeting benchmark's requests, one per class, minimum energy on the default physics
/// (criterion `targeting/solve_<CLASS>` and the wasm `bench_solve_requests`): SCUD-B and SCUD-C
/// from the Californian coast (217 km, and Los Angeles at 518 km), NODONG from Pyongyang to
/// Osaka (994 km), IRBM across the Himalaya (2,224 km), ICBM from Montana to Moscow
/// (8,303 km).
pub fn solve_requests() -> [crate::targeting::TargetingRequest; 5] {
    use crate::targeting::{Profile, TargetingRequest};
    let request = |kind, from, to| TargetingRequest {
        kind,
        from,
        to,
        profile: Profile::MinEnergy,
    };
    let coast = GeoPoint::new(36.5, -123.1);
    [
        request(MissileKind::ScudB, coast, GeoPoint::new(35.3, -121.2)),
        request(MissileKind::ScudC, coast, GeoPoint::new(34.05, -118.25)),
        request(
            MissileKind::Nodong,
            GeoPoint::new(39.0, 125.7),
            GeoPoint::new(34.7, 135.5),
        ),
        request(
            MissileKind::Irbm,
            GeoPoint::new(20.0, 70.0),
            GeoPoint::new(35.0, 85.0),
        ),
        request(
            MissileKind::Icbm,
            GeoPoint::new(47.5, -111.2),
            GeoPoint::new(55.0, 40.0),
        ),
    ]
}
