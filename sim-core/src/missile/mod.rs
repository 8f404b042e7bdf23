//! Missiles: the catalog of classes ([`catalog`]) and the aerodynamic helpers they share.
//!
//! Invariant: catalog data is `'static` and immutable; a flying missile refers to its class by
//! [`MissileKind`], which serialises as the class's public name (for example `"SCUD-C"`).

pub mod catalog;

pub use catalog::{DragTable, MissileKind, MissileType, PitchProgramParams, RvParams, StageParams};
