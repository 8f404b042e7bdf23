//! `sim-core`: the deterministic heart of the missile defense simulator.
//!
//! Invariants: this crate does no I/O, reads no clock and draws no unseeded random number.
//! Every floating-point transcendental goes through [`libm`], so a scenario and a seed give
//! bit-identical results natively and in WebAssembly.
//!
//! Layout (one file per model):
//! - [`earth`]: WGS84 frames ([`earth::frames`]), gravity ([`earth::gravity`]), rotation.
//! - [`atmosphere`]: US Standard Atmosphere 1976.
//! - [`missile`]: the catalog of missile classes with their public sources.
//! - [`flight`]: forces, the RK4 integrator, the staged flight propagator, Kepler closed forms.
//! - [`targeting`]: the click-to-launch solver.
//! - [`radar`]: the radar equation, detection, horizon, measurement noise, the radar catalog.
//! - [`tracking`]: the multi-radar tracker (EKF, gating, GNN, M-of-N, impact prediction).
//! - [`scoring`]: track accuracy against truth (RMSE, OSPA, purity), outside the tracker.
//! - [`interceptor`]: the interceptor catalog, proportional navigation, interceptor flight and
//!   the end game (pure building blocks).
//! - [`engagement`]: defended assets, batteries, engagement envelopes and weapon-target
//!   assignment (pure building blocks).
//! - [`stats`]: binomial proportions with Wilson score intervals for Monte Carlo runs.
//! - [`engine`]: the [`engine::Simulation`] with fixed ticks, commands, events, snapshots and
//!   the state hash.
//! - [`protocol`]: the room messages exchanged by the web app and the relay.
//! - [`limits`]: the range of every number and the rules of every text a user can give, in
//!   one table.
//! - [`link`]: share links, a whole session (scenario and commands) in a URL fragment.
#![warn(missing_docs)]

pub mod atmosphere;
pub mod earth;
pub mod engagement;
pub mod engine;
pub mod flight;
pub mod interceptor;
#[cfg(feature = "js")]
pub mod js;
pub mod limits;
pub mod link;
pub mod missile;
pub mod montecarlo;
pub mod protocol;
pub mod radar;
pub mod scoring;
pub mod stats;
pub mod targeting;
pub mod tracking;

pub use engine::{Command, Event, EventKind, MissileId, Simulation};
pub use missile::MissileKind;

/// The crate's version, as shown by `mdsim version`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Standard gravity g0 = 9.80665 m/s^2 (CGPM 1901, used for specific impulse).
pub const G0_M_S2: f64 = 9.806_65;
