//! `sim-core`: the deterministic heart of the missile defense simulator.
//!
//! Invariants: this crate does no I/O, reads no clock and draws no unseeded random number.
//! Every floating-point transcendental goes through [`libm`], so a scenario and a seed give
//! bit-identical results natively and in WebAssembly.
#![warn(missing_docs)]

/// The crate's version, as shown by `mdsim version`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
