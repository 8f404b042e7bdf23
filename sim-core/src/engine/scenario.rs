//! Scenario files: versioned JSON that fully determines a simulation (see `docs/scenario.md`).
//!
//! Invariants: decoding never panics and never allocates beyond [`MAX_SCENARIO_BYTES`] of
//! input; every error is one sentence naming what is wrong; unknown fields are rejected, so a
//! typo is an error rather than a silently ignored setting.

use serde::{Deserialize, Serialize};

use crate::earth::GeoPoint;
use crate::engagement::DefendedAsset;
use crate::engagement::wta::Doctrine;
use crate::engine::SensingParams;
use crate::engine::defense::{self, BatteryId, BatteryPlacement, MAX_ASSETS, MAX_BATTERIES};
use crate::engine::sensing::{MAX_RADARS, RadarPlacement};
use crate::flight::PhysicsParams;
use crate::missile::MissileKind;
use crate::radar::RadarId;
use crate::targeting::Profile;
use crate::tracking::TrackerParams;

/// The scenario format version this build reads and writes.
pub const SCENARIO_VERSION: u32 = 1;
/// Largest scenario accepted (bytes).
pub const MAX_SCENARIO_BYTES: usize = 1 << 20;
/// Most launches in one scenario.
pub const MAX_LAUNCHES: usize = 10_000;
/// Latest launch time accepted (s): one day.
pub const MAX_LAUNCH_TIME_S: f64 = 86_400.0;

/// A scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Format version; must be [`SCENARIO_VERSION`].
    pub version: u32,
    /// Short name.
    pub name: String,
    /// Free text.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Seed of the simulation's random generator.
    #[serde(default)]
    pub seed: u64,
    /// Physics switches (rotation, Earth shape, atmosphere).
    #[serde(default)]
    pub physics: PhysicsParams,
    /// Sensor switches (false alarms).
    #[serde(default)]
    pub sensing: SensingParams,
    /// Tracker settings (gates, confirmation, deletion, filter tuning).
    #[serde(default)]
    pub tracker: TrackerParams,
    /// Radars placed at the start.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub radars: Vec<RadarPlacement>,
    /// Scheduled launches.
    #[serde(default)]
    pub launches: Vec<ScenarioLaunch>,
    /// Defended assets.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assets: Vec<DefendedAsset>,
    /// Interceptor batteries placed at the start.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub batteries: Vec<BatteryPlacement>,
    /// Fire doctrine; every field optional ([`Doctrine::default`]).
    #[serde(default)]
    pub doctrine: Doctrine,
}

/// A launch at a given time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioLaunch {
    /// Launch time (s from the start); rounded to the nearest tick.
    #[serde(default)]
    pub time_s: f64,
    /// Missile class.
    pub missile: MissileKind,
    /// Launch point.
    pub from: GeoPoint,
    /// Target.
    pub to: GeoPoint,
    /// Trajectory shape.
    #[serde(default)]
    pub profile: Profile,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// Why a scenario was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScenarioError {
    /// Not valid scenario JSON (the message says where).
    #[error("invalid scenario: {0}")]
    Parse(String),
    /// Valid JSON with an invalid value.
    #[error("invalid scenario: {0}")]
    Invalid(String),
}

impl Scenario {
    /// Decodes and validates a scenario.
    pub fn from_json(text: &str) -> Result<Self, ScenarioError> {
        if text.len() > MAX_SCENARIO_BYTES {
            return Err(ScenarioError::Invalid(format!(
                "{} bytes is larger than the {MAX_SCENARIO_BYTES}-byte limit",
                text.len()
            )));
        }
        let s: Scenario =
            serde_json::from_str(text).map_err(|e| ScenarioError::Parse(e.to_string()))?;
        s.validate()?;
        Ok(s)
    }

    /// Encodes as pretty JSON.
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).expect("scenarios always serialise")
    }

    /// Checks every value; the error names the first bad one.
    pub fn validate(&self) -> Result<(), ScenarioError> {
        let bad = |m: String| Err(ScenarioError::Invalid(m));
        if self.version != SCENARIO_VERSION {
            return bad(format!(
                "version {} is not supported (this build reads version {SCENARIO_VERSION})",
                self.version
            ));
        }
        if self.name.len() > 200 || self.description.len() > 10_000 {
            return bad("name or description is too long".into());
        }
        if self.launches.len() > MAX_LAUNCHES {
            return bad(format!(
                "{} launches is more than the limit of {MAX_LAUNCHES}",
                self.launches.len()
            ));
        }
        if self.radars.len() > MAX_RADARS {
            return bad(format!(
                "{} radars is more than the limit of {MAX_RADARS}",
                self.radars.len()
            ));
        }
        if let Err(m) = self.tracker.validate() {
            return bad(format!("tracker: {m}"));
        }
        for (i, r) in self.radars.iter().enumerate() {
            if let Err(m) = r.to_site(RadarId(i as u32 + 1)) {
                return bad(format!("radars[{i}]: {m}"));
            }
        }
        if self.batteries.len() > MAX_BATTERIES || self.assets.len() > MAX_ASSETS {
            return bad(format!(
                "at most {MAX_BATTERIES} batteries and {MAX_ASSETS} assets, got {} and {}",
                self.batteries.len(),
                self.assets.len()
            ));
        }
        for (i, b) in self.batteries.iter().enumerate() {
            if let Err(m) = b.to_battery(BatteryId(i as u32 + 1)) {
                return bad(format!("batteries[{i}]: {m}"));
            }
        }
        for (i, a) in self.assets.iter().enumerate() {
            if let Err(m) = a.validate() {
                return bad(format!("assets[{i}]: {m}"));
            }
        }
        if let Err(m) = defense::validate_doctrine(&self.doctrine) {
            return bad(format!("doctrine: {m}"));
        }
        for (i, l) in self.launches.iter().enumerate() {
            if !(l.time_s.is_finite() && (0.0..=MAX_LAUNCH_TIME_S).contains(&l.time_s)) {
                return bad(format!(
                    "launches[{i}].time_s {} must be between 0 and {MAX_LAUNCH_TIME_S}",
                    l.time_s
                ));
            }
            for (what, p) in [("from", &l.from), ("to", &l.to)] {
                if let Err(m) = p.validate() {
                    return bad(format!("launches[{i}].{what}: {m}"));
                }
            }
            if l.label.as_ref().is_some_and(|s| s.len() > 200) {
                return bad(format!("launches[{i}].label is too long"));
            }
        }
        Ok(())
    }

    /// A one-launch scenario.
    pub fn single_launch(name: &str, missile: MissileKind, from: GeoPoint, to: GeoPoint) -> Self {
        Scenario {
            version: SCENARIO_VERSION,
            name: name.into(),
            description: String::new(),
            seed: 0,
            physics: PhysicsParams::default(),
            sensing: SensingParams::default(),
            tracker: TrackerParams::default(),
            radars: Vec::new(),
            launches: vec![ScenarioLaunch {
                time_s: 0.0,
                missile,
                from,
                to,
                profile: Profile::MinEnergy,
                label: None,
            }],
            assets: Vec::new(),
            batteries: Vec::new(),
            doctrine: Doctrine::default(),
        }
    }
}
