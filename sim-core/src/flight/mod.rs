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
    BurnoutInfo, Flight, FlightError, FlightEvent, FlightSample, FlightSummary, Guidance,
    ImpactInfo, Phase,
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
    /// Sub-step while thrusting (s).
    pub boost_s: f64,
    /// Sub-step in the atmosphere (below 120 km) without thrust (s).
    pub atmosphere_s: f64,
    /// Sub-step in vacuum (s).
    pub vacuum_s: f64,
}

/// The step sizes used everywhere: one RK4 step per 0.1 s tick in every regime.
///
/// Why one step is enough: the forces change on time scales of seconds, not tenths (the
/// fastest is drag in re-entry, whose deceleration changes by e in a density scale height,
/// about 7 km, i.e. 3.5 s at 2 km/s; the pitch program turns at a few degrees per second;
/// its corners, staging and cut-off fall on step boundaries: the pitch program's times are
/// whole seconds and staging and cut-off cut the step), so RK4's error, O(h^4) relative to
/// those time scales, stays tiny. Measured by `tests/flight_steps.rs` against the same flights
/// with steps eight times shorter: the impact point moves by 5 mm (SCUD-B, NODONG) to 18 cm
/// (ICBM, 10,000 km) on the maximum-range trajectories, against 0.1 mm to 11 mm with the
/// earlier 0.02 s boost and 0.05 s atmospheric sub-steps, which cost five and two times more
/// force evaluations. Both are far below the targeting solver's 100 m tolerance and the
/// model's own uncertainty.
pub const STEPS: StepParams = StepParams {
    boost_s: 0.1,
    atmosphere_s: 0.1,
    vacuum_s: 0.1,
};

/// The coarse sub-steps of the targeting solver's search model ([`Flight::coarse_impact`]):
/// RK4 with 0.5 s steps in boost (the pitch program's corners, at whole seconds, stay on step
/// boundaries), 2 s in the atmosphere and 30 s above it: a coarse flight costs about a tenth
/// of an engine flight (SCUD-C; less for longer flights, whose coast is cheap).
///
/// Its impact points lie within 0.04-0.08 m (SCUD-B) to 0.8 m (ICBM, full burn) of the engine's
/// flight with the same guidance, on full burns and early cut-offs of every class (the
/// `coarse_model_tracks_the_engine_flight` test in `tests/flight_steps.rs`), so the solver's
/// first engine flight usually lands within its 1 m tolerance; the boost step is what matters
/// (1 s steps there give 4 m for SCUD-C and 14 m for the ICBM and a second engine flight).
/// The difference is a smooth function of the guidance, which the solver's correction with
/// engine flights relies on (see [`crate::targeting`]). Never used for the truth.
pub const COARSE_STEPS: StepParams = StepParams {
    boost_s: 0.5,
    atmosphere_s: 2.0,
    vacuum_s: 30.0,
};
