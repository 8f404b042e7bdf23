//! Scenario entities of the defence: defended assets and interceptor batteries.

use serde::{Deserialize, Serialize};

use crate::earth::GeoPoint;
use crate::interceptor::InterceptorKind;
use crate::limits;

/// Longest name or call sign accepted (characters): [`limits::CALL_SIGN`].
pub const MAX_NAME_LEN: usize = limits::CALL_SIGN.max_chars;
/// Most rounds or launchers a battery may hold: [`limits::BATTERY_ROUNDS`].
pub const MAX_ROUNDS: u32 = limits::BATTERY_ROUNDS.max as u32;

/// A place worth defending (a city, a base). Impacts within `radius_m` of it hit it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DefendedAsset {
    /// Display name.
    pub name: String,
    /// Centre.
    pub position: GeoPoint,
    /// Value in arbitrary units (weight of the assignment's objective), >= 0.
    pub value: f64,
    /// Radius within which an impact hits the asset (m), > 0.
    pub radius_m: f64,
}

impl DefendedAsset {
    /// Checks every field; the error is one sentence naming the asset.
    pub fn validate(&self) -> Result<(), String> {
        limits::CALL_SIGN.named("asset name").check(&self.name)?;
        let who = &self.name;
        let within =
            |r: &limits::Range, v: f64| r.check(v).map_err(|e| format!("asset '{who}': {e}"));
        self.position
            .validate()
            .map_err(|e| format!("asset '{who}': {e}"))?;
        within(&limits::ASSET_VALUE, self.value)?;
        within(&limits::ASSET_RADIUS, self.radius_m)?;
        Ok(())
    }
}

/// An interceptor battery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Battery {
    /// Identifier, unique in a scenario.
    pub id: u32,
    /// Call sign shown to the user (for example "BAT_LA").
    pub call_sign: String,
    /// Position of the launchers.
    pub position: GeoPoint,
    /// Interceptor type.
    pub kind: InterceptorKind,
    /// Rounds available (loaded plus reloads).
    pub rounds: u32,
    /// Launchers (rounds that can be fired without reloading), >= 1.
    pub launchers: u32,
    /// Time to reload one launcher (s), >= 0.
    pub reload_s: f64,
    /// Whether the battery is ready to engage.
    pub ready: bool,
}

impl Battery {
    /// Checks every field; the error is one sentence naming the battery.
    pub fn validate(&self) -> Result<(), String> {
        limits::CALL_SIGN
            .named("battery call sign")
            .check(&self.call_sign)?;
        let who = &self.call_sign;
        let err = |e: String| format!("battery '{who}': {e}");
        self.position.validate().map_err(err)?;
        limits::BATTERY_ROUNDS
            .check_count(self.rounds.into())
            .map_err(err)?;
        limits::BATTERY_LAUNCHERS
            .check_count(self.launchers.into())
            .map_err(err)?;
        limits::BATTERY_RELOAD.check(self.reload_s).map_err(err)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bat() -> Battery {
        Battery {
            id: 1,
            call_sign: "BAT_LA".into(),
            position: GeoPoint::new(34.05, -118.25),
            kind: InterceptorKind::Sm6,
            rounds: 32,
            launchers: 8,
            reload_s: 600.0,
            ready: true,
        }
    }

    #[test]
    fn validation_accepts_good_and_rejects_bad_entities() {
        assert_eq!(bat().validate(), Ok(()));
        let json = serde_json::to_string(&bat()).unwrap();
        assert!(json.contains("\"kind\":\"SM-6\""), "{json}");
        assert_eq!(serde_json::from_str::<Battery>(&json).unwrap(), bat());
        let bad = [
            Battery {
                launchers: 0,
                ..bat()
            },
            Battery {
                reload_s: f64::NAN,
                ..bat()
            },
            Battery {
                call_sign: " ".into(),
                ..bat()
            },
            // A NUL, which PostgreSQL's jsonb refuses, and other control characters.
            Battery {
                call_sign: "BAT\u{0}LA".into(),
                ..bat()
            },
            Battery {
                call_sign: "BAT\nLA".into(),
                ..bat()
            },
            Battery {
                position: GeoPoint::new(95.0, 0.0),
                ..bat()
            },
            Battery {
                rounds: MAX_ROUNDS + 1,
                ..bat()
            },
        ];
        for b in bad {
            let e = b.validate().unwrap_err();
            assert!(!e.is_empty() && !e.contains('\n'), "{e}");
        }
        let a = DefendedAsset {
            name: "Los Angeles".into(),
            position: GeoPoint::new(34.05, -118.25),
            value: 100.0,
            radius_m: 20_000.0,
        };
        assert_eq!(a.validate(), Ok(()));
        assert!(
            DefendedAsset {
                value: -1.0,
                ..a.clone()
            }
            .validate()
            .is_err()
        );
        assert!(
            DefendedAsset {
                radius_m: 0.0,
                ..a.clone()
            }
            .validate()
            .is_err()
        );
        assert!(
            DefendedAsset {
                value: f64::INFINITY,
                ..a
            }
            .validate()
            .is_err()
        );
    }
}
