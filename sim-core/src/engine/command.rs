//! Commands: the only inputs of [`crate::engine::Simulation::step`]. They are plain serde data
//! (JSON `{"type": "launch", ...}`) so a relay can order them, stamp them with ticks and send
//! them to every client; applying the same commands at the same ticks gives the same state.

use serde::{Deserialize, Serialize};

use crate::earth::GeoPoint;
use crate::engagement::DefendedAsset;
use crate::engagement::wta::Doctrine;
use crate::engine::defense::{AssetId, BatteryId, BatteryPlacement};
use crate::engine::sensing::RadarPlacement;
use crate::limits;
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

impl LaunchCommand {
    /// Checks the launch and aim points, the label and any guidance against
    /// [`crate::limits`]; the error is one sentence.
    pub fn validate(&self) -> Result<(), String> {
        self.from
            .validate()
            .map_err(|e| format!("launch point: {e}"))?;
        self.to.validate().map_err(|e| format!("target: {e}"))?;
        if let Some(label) = &self.label {
            limits::LABEL.check(label)?;
        }
        if let Some(g) = &self.guidance {
            g.validate()?;
        }
        Ok(())
    }
}

impl Command {
    /// The command's name as in JSON (`"place-radar"`), for messages.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Launch(_) => "launch",
            Command::PlaceRadar(_) => "place-radar",
            Command::MoveRadar { .. } => "move-radar",
            Command::RemoveRadar { .. } => "remove-radar",
            Command::PlaceBattery(_) => "place-battery",
            Command::RemoveBattery { .. } => "remove-battery",
            Command::PlaceAsset(_) => "place-asset",
            Command::RemoveAsset { .. } => "remove-asset",
            Command::SetDoctrine(_) => "set-doctrine",
        }
    }

    /// Checks every field against its range in [`crate::limits`] (and the relations between
    /// fields, such as a radar's lowest elevation below its highest); the error is one
    /// sentence. The one check of a command wherever it comes from: the engine before it
    /// applies it, a room before it orders it, a link or the REST API before they accept it.
    /// What depends on the simulation's state (whether a radar id exists, whether a table is
    /// full) is the engine's to refuse when it applies the command.
    pub fn validate(&self) -> Result<(), String> {
        match self {
            Command::Launch(l) => l.validate(),
            Command::PlaceRadar(p) => p.to_site(RadarId(0)).map(drop),
            Command::MoveRadar {
                radar: _,
                position,
                boresight_az_deg,
            } => {
                position.validate()?;
                if let Some(az) = boresight_az_deg {
                    limits::RADAR_BORESIGHT.check(*az)?;
                }
                Ok(())
            }
            Command::PlaceBattery(b) => b.to_battery(BatteryId(0)).map(drop),
            Command::PlaceAsset(a) => a.validate(),
            Command::SetDoctrine(d) => crate::engine::defense::validate_doctrine(d),
            Command::RemoveRadar { radar: _ }
            | Command::RemoveBattery { battery: _ }
            | Command::RemoveAsset { asset: _ } => Ok(()),
        }
    }
}
