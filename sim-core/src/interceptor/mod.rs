//! Interceptors: the catalog of classes ([`catalog`]) and the pure models of their flight
//! and end game. These are building blocks: the engine calls them, they hold no global state.
//!
//! Invariants: every model is a pure function of its inputs and of the random generator
//! passed in; transcendentals go through `libm`; state that lives in the simulation is plain
//! serde data.

pub mod catalog;
pub mod endgame;
pub mod flight;
pub mod guidance;

pub use catalog::{InterceptorKind, InterceptorType, KillMechanism};
