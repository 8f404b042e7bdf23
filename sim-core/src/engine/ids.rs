//! Entity ids: small `Copy` handles, allocated in increasing order and never reused, so an id
//! names the same entity in every snapshot, event and message for the life of a simulation.

use serde::{Deserialize, Serialize};

/// The id of a missile (a threat object) in a [`crate::engine::Simulation`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MissileId(pub u32);

impl core::fmt::Display for MissileId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "M{}", self.0)
    }
}
