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
use crate::engine::defense::{self, BatteryId, BatteryPlacement};
use crate::engine::sensing::RadarPlacement;
use crate::flight::PhysicsParams;
use crate::limits;
use crate::missile::MissileKind;
use crate::radar::RadarId;
use crate::targeting::Profile;
use crate::tracking::TrackerParams;

/// The scenario format version this build reads and writes.
pub const SCENARIO_VERSION: u32 = 1;
/// Largest scenario accepted (bytes).
pub const MAX_SCENARIO_BYTES: usize = 1 << 20;

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
        let invalid = |m: String| ScenarioError::Invalid(m);
        limits::SCENARIO_NAME.check(&self.name).map_err(invalid)?;
        limits::SCENARIO_DESCRIPTION
            .check(&self.description)
            .map_err(invalid)?;
        for (range, n) in [
            (&limits::SCENARIO_LAUNCHES, self.launches.len()),
            (&limits::RADARS, self.radars.len()),
            (&limits::BATTERIES, self.batteries.len()),
            (&limits::ASSETS, self.assets.len()),
        ] {
            range.check_count(n as u64).map_err(invalid)?;
        }
        if let Err(m) = self.tracker.validate() {
            return bad(format!("tracker: {m}"));
        }
        for (i, r) in self.radars.iter().enumerate() {
            if let Err(m) = r.to_site(RadarId(i as u32 + 1)) {
                return bad(format!("radars[{i}]: {m}"));
            }
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
            if let Err(m) = limits::LAUNCH_TIME.check(l.time_s) {
                return bad(format!("launches[{i}]: {m}"));
            }
            for (what, p) in [("from", &l.from), ("to", &l.to)] {
                if let Err(m) = p.validate() {
                    return bad(format!("launches[{i}].{what}: {m}"));
                }
            }
            if let Some(Err(m)) = l.label.as_deref().map(|t| limits::LABEL.check(t)) {
                return bad(format!("launches[{i}]: {m}"));
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
