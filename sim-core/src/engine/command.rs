//! Commands: the only inputs of [`crate::engine::Simulation::step`]. They are plain serde data
//! (JSON `{"type": "launch", ...}`) so a relay can order them, stamp them with ticks and send
//! them to every client; applying the same commands at the same ticks gives the same state.

use serde::{Deserialize, Serialize};

use crate::earth::GeoPoint;
use crate::engagement::DefendedAsset;
use crate::engagement::wta::Doctrine;
use crate::engine::defense::{AssetId, BatteryId, BatteryPlacement};
use crate::engine::sensing::RadarPlacement;
use crate::missile::MissileKind;
use crate::radar::RadarId;
use crate::targeting::Profile;

/// An instruction to the simulation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Command {
    /// Launch a missile at a target (the flight is solved by [`crate::targeting::solve`]).
    Launch(LaunchCommand),
    /// Put a radar on the map; the engine allocates its id (see the `radar-placed` event).
    PlaceRadar(RadarPlacement),
    /// Move a radar and optionally turn it.
    MoveRadar {
        /// Which radar.
        radar: RadarId,
        /// New antenna position.
        position: GeoPoint,
        /// New boresight azimuth (deg); unchanged when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        boresight_az_deg: Option<f64>,
    },
    /// Take a radar off the map.
    RemoveRadar {
        /// Which radar.
        radar: RadarId,
    },
    /// Put an interceptor battery on the map; the engine allocates its id.
    PlaceBattery(BatteryPlacement),
    /// Take a battery off the map (its interceptors in flight fly on).
    RemoveBattery {
        /// Which battery.
        battery: BatteryId,
    },
    /// Add a defended asset; the engine allocates its id.
    PlaceAsset(DefendedAsset),
    /// Remove a defended asset.
    RemoveAsset {
        /// Which asset.
        asset: AssetId,
    },
    /// Replace the fire doctrine.
    SetDoctrine(Doctrine),
}

/// Launch one missile from a point at a target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LaunchCommand {
    /// Missile class, by public name (e.g. `"SCUD-C"`).
    pub missile: MissileKind,
    /// Launch point.
    pub from: GeoPoint,
    /// Target (aim point).
    pub to: GeoPoint,
    /// Trajectory shape; minimum energy when absent.
    #[serde(default)]
    pub profile: Profile,
    /// Free text shown with the missile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Guidance solved beforehand (e.g. in a Web Worker with
    /// [`crate::targeting::solve`]): the engine then flies it instead of solving at step time.
    /// Absent: the engine solves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guidance: Option<crate::flight::Guidance>,
}
