//! The engine: a [`Simulation`] advanced in fixed integer ticks by [`Simulation::step`], the
//! only way its state changes.
//!
//! Time: tick `k` covers simulation time `[k, k+1) * TICK_S`; the rate is [`TICK_HZ`] = 10 Hz,
//! each tick split into physics sub-steps ([`crate::flight::STEPS`]). Commands given to `step`
//! (and commands a scenario scheduled for that tick) apply at the start of the tick, in order;
//! then every live entity advances one tick, in id order; the events of the tick come back in
//! that order, each stamped with its tick and exact time.
//!
//! Invariants: entity ids are never reused; entity collections are `Vec`s sorted by id (no
//! hash-map order anywhere); the whole state ([`SimState`]) is plain serde data, so a snapshot
//! is a value that can be stored, sent and restored; [`Simulation::state_hash`] is FNV-1a over a
//! canonical encoding of that state ([`state_hash`]), identical natively and in wasm.
//!
//! Room to grow: new entity kinds get their own id type and sorted `Vec` in [`SimState`], new
//! commands a variant of [`Command`], new events a variant of [`EventKind`]; the random
//! generator for sensor noise and kill draws is already in the state.

mod command;
pub mod defense;
mod event;
mod ids;
mod prediction_cache;
mod scenario;
pub mod sensing;
mod simulation;
pub mod state_hash;

pub use command::{Command, LaunchCommand};
pub use event::{AlternativeView, Event, EventKind, Unused, UnusedBattery};
pub use ids::MissileId;
pub use scenario::{MAX_SCENARIO_BYTES, SCENARIO_VERSION, Scenario, ScenarioError, ScenarioLaunch};
pub use simulation::{Missile, MissileView, SensingParams, SimState, Simulation, Snapshot};

/// Ticks per second of simulation time.
pub const TICK_HZ: u32 = 10;
/// Length of one tick (s).
pub const TICK_S: f64 = 1.0 / TICK_HZ as f64;
