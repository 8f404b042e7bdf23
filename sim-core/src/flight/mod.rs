//! Flight: forces, the fixed-step integrator, the staged flight propagator and closed forms.
//!
//! Frames: a flight integrates position and velocity in an inertial frame that coincides with
//! ECEF at its own launch instant (time zero of the flight), so a flight's trajectory relative to
//! the Earth does not depend on when it was launched, bit for bit: the targeting solver and the
//! engine fly exactly the same numbers. ECEF at flight time t is the inertial frame rotated by
//! -omega t about Z.

pub mod dynamics;
pub mod illinois;
pub mod integrator;
pub mod kepler;
pub mod propagator;
pub mod workload;

use serde::{Deserialize, Serialize};

use crate::earth::EarthParams;

pub use integrator::PosVel;
pub use propagator::{
    BurnoutInfo, Flight, FlightError, FlightEvent, FlightSample, FlightSummary, Guidance, Phase,
};

/// The physics switches of a simulation or a single flight.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhysicsParams {
    /// The Earth model.
    #[serde(default)]
    pub earth: EarthParams,
    /// Whether the atmosphere (drag) is modelled; `false` is the `--vacuum` switch.
    #[serde(default = "default_true")]
    pub atmosphere: bool,
}

fn default_true() -> bool {
    true
}

impl Default for PhysicsParams {
    fn default() -> Self {
        Self {
            earth: EarthParams::default(),
            atmosphere: true,
        }
    }
}

/// Integration step sizes by flight regime, in seconds. Each engine tick is split into whole
/// sub-steps of these sizes, and steps are cut exactly at staging and thrust cut-off.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepParams {
    /// Sub-step while thrusting (s): staging transients and the pitch program are fast.
    pub boost_s: f64,
    /// Sub-step in the atmosphere (below 120 km) without thrust (s).
    pub atmosphere_s: f64,
    /// Sub-step in vacuum (s).
    pub vacuum_s: f64,
}

/// The step sizes used everywhere: 0.02 s in boost, 0.05 s in the air, 0.1 s (one tick) above.
pub const STEPS: StepParams = StepParams {
    boost_s: 0.02,
    atmosphere_s: 0.05,
    vacuum_s: 0.1,
};
