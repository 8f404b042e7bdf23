//! The kill-chain benchmark workload, the same natively (`examples/kill_chain.rs`) and in wasm
//! (`js::bench_kill_chain`): a raid of SCUD-Cs from a box off Big Sur (36-37N, 123.6-122.6W)
//! at ten assets along the Southern California coast, seen by a ring of radars and engaged by
//! SM-6 and PAC-3 batteries, through the whole engine (flight, sensing, tracking, command and
//! control, interceptors).
//!
//! Launches carry guidance computed here, without a targeting search: one solve of the
//! reference shot (36.5N 123.1W to Los Angeles) gives the pitch program and cut-off, and each
//! missile flies them towards its own aim point's azimuth ([`Guidance::toward_azimuth`]); the
//! engine then flies each launch once to check it, as for any pre-solved launch. Everything is
//! a function of the three sizes: no randomness here (the simulation's seed drives the rest).

use crate::earth::GeoPoint;
use crate::engagement::assets::DefendedAsset;
use crate::engine::defense::BatteryPlacement;
use crate::engine::sensing::RadarPlacement;
use crate::engine::{Command, LaunchCommand, Simulation, TICK_HZ};
use crate::flight::{Guidance, PhysicsParams};
use crate::interceptor::InterceptorKind;
use crate::missile::MissileKind;
use crate::radar::RadarKind;
use crate::targeting::{self, Profile, TargetingRequest};

/// Most missiles, radars or batteries the workload builds.
pub const MAX_SIZE: u32 = 5_000;

/// Ten defended places on the Southern California coast (name, lat, lon).
const ASSETS: [(&str, f64, f64); 10] = [
    ("Los Angeles", 34.05, -118.25),
    ("Long Beach", 33.77, -118.19),
    ("Santa Monica", 34.02, -118.49),
    ("Oxnard", 34.2, -119.18),
    ("Ventura", 34.28, -119.29),
    ("Santa Barbara", 34.42, -119.7),
    ("Irvine", 33.68, -117.83),
    ("Torrance", 33.84, -118.34),
    ("Pasadena", 34.15, -118.14),
    ("Thousand Oaks", 34.17, -118.84),
];

/// The raid: a simulation with the radars, assets and batteries placed, and the launch
/// commands by tick (sorted), to be given to [`Simulation::step`].
pub struct KillChainWorkload {
    /// The simulation, defence set up, no missile yet.
    pub sim: Simulation,
    /// Launch commands and the tick to give each at, in tick order.
    pub launches: Vec<(u64, Command)>,
}

impl KillChainWorkload {
    /// `missiles` SCUD-Cs launched five per second, `radars` radars (TPY-2s facing the launch
    /// box along the coast, every third an MPQ-65 at an asset facing the raid), `batteries`
    /// batteries (alternately SM-6 with 24 rounds and PAC-3 with 16, at the assets in turn),
    /// seed `seed`. Sizes are capped at [`MAX_SIZE`]; the error is the reference solve's.
    pub fn new(missiles: u32, radars: u32, batteries: u32, seed: u64) -> Result<Self, String> {
        let (missiles, radars, batteries) = (
            missiles.min(MAX_SIZE),
            radars.min(MAX_SIZE),
            batteries.min(MAX_SIZE),
        );
        let physics = PhysicsParams::default();
        let mut sim = Simulation::new(physics, seed);
        let mut setup = Vec::new();
        for (name, lat, lon) in ASSETS {
            setup.push(Command::PlaceAsset(DefendedAsset {
                name: name.into(),
                position: GeoPoint::new(lat, lon),
                value: 100.0,
                radius_m: 20_000.0,
            }));
        }
        for k in 0..radars {
            let f = f64::from(k) / f64::from(radars.max(1));
            let (kind, position, boresight) = if k % 3 == 2 {
                let (_, lat, lon) = ASSETS[(k as usize / 3) % ASSETS.len()];
                (RadarKind::AnMpq65, GeoPoint::new(lat, lon), 290.0)
            } else {
                // Along the coast from Point Conception to San Diego.
                let pos = GeoPoint::new(34.6 - 1.9 * f, -120.6 + 3.4 * f);
                (RadarKind::AnTpy2, pos, 300.0)
            };
            setup.push(Command::PlaceRadar(RadarPlacement {
                call_sign: format!("R{k}"),
                kind,
                position,
                height_m: 50.0,
                boresight_az_deg: boresight,
                sector_half_width_deg: None,
                min_el_deg: None,
                max_el_deg: None,
                revisit_s: None,
            }));
        }
        for k in 0..batteries {
            let (_, lat, lon) = ASSETS[k as usize % ASSETS.len()];
            let (kind, rounds) = if k % 2 == 0 {
                (InterceptorKind::Sm6, 24)
            } else {
                (InterceptorKind::Pac3, 16)
            };
            setup.push(Command::PlaceBattery(BatteryPlacement {
                call_sign: format!("B{k}"),
                kind,
                position: GeoPoint::new(lat - 0.02, lon + 0.02),
                rounds,
                launchers: 8,
                reload_s: 600.0,
                ready: true,
            }));
        }
        sim.step(&setup);
        let reference = targeting::solve(
            &TargetingRequest {
                kind: MissileKind::ScudC,
                from: GeoPoint::new(36.5, -123.1),
                to: GeoPoint::new(34.05, -118.25),
                profile: Profile::MinEnergy,
            },
            &physics,
        )
        .map_err(|e| e.to_string())?;
        let g = reference.guidance;
        let first_tick = sim.tick();
        let launches = (0..missiles)
            .map(|k| {
                // A 10 x 10 grid of launch points 0.1 degree apart, aim points in turn.
                let from = GeoPoint::new(
                    36.0 + 0.1 * f64::from(k % 10),
                    -123.6 + 0.1 * f64::from((k / 10) % 10),
                );
                let (_, lat, lon) = ASSETS[k as usize % ASSETS.len()];
                let to = GeoPoint::new(lat, lon);
                let az = crate::earth::frames::initial_bearing_rad(&from, &to).to_degrees();
                let guidance =
                    Guidance::toward_azimuth(&physics, &from, az, g.pitch_final_deg, g.cutoff_s);
                let tick = first_tick + u64::from(k) * u64::from(TICK_HZ) / 5;
                let launch = LaunchCommand {
                    missile: MissileKind::ScudC,
                    from,
                    to,
                    profile: Profile::MinEnergy,
                    label: None,
                    guidance: Some(guidance),
                };
                (tick, Command::Launch(launch))
            })
            .collect();
        Ok(Self { sim, launches })
    }

    /// Steps until simulation time `until_s` or until idle after the last launch, giving the
    /// launch commands at their ticks; returns the simulated seconds stepped.
    pub fn run_until(&mut self, until_s: f64) -> f64 {
        let start = self.sim.time_s();
        let mut next = self.launches.partition_point(|l| l.0 < self.sim.tick());
        // bounded: every step advances the time by one tick towards the finite until_s.
        while self.sim.time_s() < until_s {
            let tick = self.sim.tick();
            let end = next + self.launches[next..].partition_point(|l| l.0 <= tick);
            let commands: Vec<Command> = self.launches[next..end]
                .iter()
                .map(|l| l.1.clone())
                .collect();
            next = end;
            self.sim.step(&commands);
            if next == self.launches.len() && self.sim.is_idle() {
                break;
            }
        }
        self.sim.time_s() - start
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_workload_places_everything_and_launches_on_schedule() {
        let mut w = KillChainWorkload::new(4, 3, 2, 1).unwrap();
        let d = w.sim.defense();
        assert_eq!((d.batteries.len(), d.assets.len()), (2, 10));
        assert_eq!(w.launches.len(), 4);
        assert_eq!(w.launches[1].0 - w.launches[0].0, 2);
        let stepped = w.run_until(5.0);
        assert!((stepped - 4.9).abs() < 1e-9, "{stepped}");
        assert_eq!(w.sim.missiles().len(), 4);
    }
}
