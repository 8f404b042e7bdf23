//! Engagement planning: defended assets and batteries ([`assets`]), the engagement envelope
//! of a battery against a predicted trajectory ([`envelope`]) and weapon-target assignment
//! ([`wta`]); the kill-chain benchmark's raid ([`workload`]).
//!
//! Invariants: pure functions over plain serde data; no randomness; ties are broken by ids so
//! the same inputs always give the same decisions; every decision records its alternatives.

pub mod assets;
pub mod envelope;
pub mod workload;
pub mod wta;

pub use assets::{Battery, DefendedAsset};
pub use envelope::{
    Intercept, NoIntercept, ThreatPrediction, earliest_intercept, engagement_options,
};
