//! The range of every number and the rules of every text a user can hand the simulation: one
//! table, in one place.
//!
//! Scenario files ([`crate::engine::Scenario::validate`]), commands from the map, a room or the
//! REST API ([`crate::Command::validate`], which [`crate::protocol::validate_command`] and the
//! engine's own `apply` call), share links ([`crate::link::Session::validate`]) and the relay
//! all check their fields through the [`Range`]s and [`Text`]s below, so one field has one
//! range wherever it comes from. `docs/ranges.md` is the same table for people; a unit test
//! keeps the two equal.
//!
//! A range is physical, not just a sign: a radar revisit of 1e-300 s is positive and would
//! have the scan schedule add it to the next scan time forever; a cut-off of 1e300 s is
//! positive and meaningless. Each bound says what it stands for. Non-finite numbers (NaN,
//! infinities) are outside every range. Invariant: a value inside its range can never make
//! a loop of the engine run long (every loop is bounded by construction besides; see the
//! `every_loop_states_its_bound` test).

use crate::engine::TICK_HZ;

/// The closed interval a numeric field must lie in, with its unit and the reason for the
/// bounds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Range {
    /// The field as it is named in JSON (scenario, command or link).
    pub field: &'static str,
    /// Unit of the bounds ("" for a pure number).
    pub unit: &'static str,
    /// Smallest value accepted.
    pub min: f64,
    /// Largest value accepted.
    pub max: f64,
    /// Why these bounds: what a value beyond them would mean.
    pub why: &'static str,
}

impl Range {
    /// Whether `value` is finite and within the bounds.
    pub fn contains(&self, value: f64) -> bool {
        value.is_finite() && value >= self.min && value <= self.max
    }

    /// `value` if [`Range::contains`] it, otherwise one sentence naming the field, the bounds
    /// and the value.
    pub fn check(&self, value: f64) -> Result<f64, String> {
        if self.contains(value) {
            Ok(value)
        } else {
            Err(format!(
                "{} must be within {} to {}{}, got {}",
                self.field,
                self.min,
                self.max,
                self.unit_suffix(),
                shown(value)
            ))
        }
    }

    /// [`Range::check`] for a count or another integer.
    pub fn check_count(&self, value: u64) -> Result<u64, String> {
        // Every integer bound here is below 2^53, so the comparison is exact.
        let ok = value as f64 >= self.min && value as f64 <= self.max;
        if ok {
            Ok(value)
        } else {
            Err(format!(
                "{} must be within {} to {}{}, got {value}",
                self.field,
                self.min,
                self.max,
                self.unit_suffix()
            ))
        }
    }

    fn unit_suffix(&self) -> String {
        match self.unit {
            "" => String::new(),
            "deg" => " degrees".into(),
            unit => format!(" {unit}"),
        }
    }
}

/// A value as a person reads it: 1e-300 rather than three hundred digits of zeros.
pub fn shown(value: f64) -> String {
    let a = value.abs();
    if value.is_finite() && a != 0.0 && !(1e-3..1e15).contains(&a) {
        format!("{value:e}")
    } else {
        format!("{value}")
    }
}

/// The rules of a text field: at most `max_chars` characters and no control character (NUL
/// included; a multi-line text may hold line feeds and tabs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Text {
    /// The field as it is named in JSON.
    pub field: &'static str,
    /// Most characters (Unicode scalar values).
    pub max_chars: usize,
    /// Whether it may be empty.
    pub may_be_empty: bool,
    /// Whether line feeds and tabs are allowed.
    pub multiline: bool,
}

impl Text {
    /// The same rules under another field name (e.g. "asset name" for [`CALL_SIGN`]).
    pub const fn named(self, field: &'static str) -> Text {
        Text { field, ..self }
    }

    /// `text` if it follows the rules, otherwise one sentence saying which rule it breaks.
    pub fn check<'a>(&self, text: &'a str) -> Result<&'a str, String> {
        if !self.may_be_empty && text.trim().is_empty() {
            return Err(format!("{} must not be empty", self.field));
        }
        if text.chars().count() > self.max_chars {
            return Err(format!(
                "{} must be at most {} characters",
                self.field, self.max_chars
            ));
        }
        let allowed = |c: char| self.multiline && (c == '\n' || c == '\t');
        if let Some(c) = text.chars().find(|&c| c.is_control() && !allowed(c)) {
            return Err(format!(
                "{} must not contain control characters (found U+{:04X})",
                self.field, c as u32
            ));
        }
        Ok(text)
    }
}

const fn range(
    field: &'static str,
    unit: &'static str,
    min: f64,
    max: f64,
    why: &'static str,
) -> Range {
    Range {
        field,
        unit,
        min,
        max,
        why,
    }
}

// --- Places ---------------------------------------------------------------------------------

/// Geodetic latitude.
pub const LATITUDE: Range = range("lat_deg", "deg", -90.0, 90.0, "the poles");
/// Longitude, east positive.
pub const LONGITUDE: Range = range("lon_deg", "deg", -180.0, 180.0, "the antimeridian");

// --- Launches -------------------------------------------------------------------------------

/// A scenario launch's time from the start.
pub const LAUNCH_TIME: Range = range(
    "launches[].time_s",
    "s",
    0.0,
    86_400.0,
    "a scenario covers at most one day",
);
/// Final pitch of a solved guidance program (from the local horizontal).
pub const GUIDANCE_PITCH: Range = range(
    "guidance.pitch_final_deg",
    "deg",
    0.0,
    90.0,
    "horizontal to vertical",
);
/// Thrust cut-off time of a solved guidance program, from launch.
pub const GUIDANCE_CUTOFF: Range = range(
    "guidance.cutoff_s",
    "s",
    0.0,
    10_000.0,
    "the longest catalog burn is a few hundred seconds; later means burn to depletion",
);
/// Length of a guidance plane normal (a unit vector, with room for rounding in transit).
pub const GUIDANCE_NORMAL_LENGTH: Range = range(
    "guidance.plane_normal_ecef (length)",
    "",
    0.99,
    1.01,
    "a unit vector",
);

// --- Radars ---------------------------------------------------------------------------------

/// Height of a radar's antenna above the ellipsoid.
pub const RADAR_HEIGHT: Range = range(
    "radars[].height_m",
    "m",
    -500.0,
    30_000.0,
    "from the Dead Sea shore (-430 m) to a high-altitude aircraft",
);
/// Azimuth of a radar's boresight, clockwise from north.
pub const RADAR_BORESIGHT: Range = range(
    "radars[].boresight_az_deg",
    "deg",
    -360.0,
    360.0,
    "one turn either way",
);
/// Half-width of a radar's azimuth sector.
pub const RADAR_SECTOR_HALF_WIDTH: Range = range(
    "radars[].sector_half_width_deg",
    "deg",
    0.0,
    180.0,
    "nothing to all round",
);
/// Lowest and highest elevation a radar searches (the lowest below the highest).
pub const RADAR_ELEVATION: Range = range(
    "radars[].min_el_deg, max_el_deg",
    "deg",
    -90.0,
    90.0,
    "nadir to zenith",
);
/// Time between two looks at the same target.
pub const RADAR_REVISIT: Range = range(
    "radars[].revisit_s",
    "s",
    0.01,
    3_600.0,
    "the engine scans at most once per 0.1 s tick; an hour is no longer a radar",
);

// --- Interceptor batteries ------------------------------------------------------------------

/// Rounds of a battery (loaded plus reloads).
pub const BATTERY_ROUNDS: Range = range(
    "batteries[].rounds",
    "",
    0.0,
    10_000.0,
    "a magazine, not an arsenal",
);
/// Launchers of a battery.
pub const BATTERY_LAUNCHERS: Range = range(
    "batteries[].launchers",
    "",
    1.0,
    10_000.0,
    "at least one launcher",
);
/// Time to reload one launcher.
pub const BATTERY_RELOAD: Range = range(
    "batteries[].reload_s",
    "s",
    0.0,
    86_400.0,
    "instant to one day",
);

// --- Defended assets ------------------------------------------------------------------------

/// Value of a defended asset (the assignment's weight).
pub const ASSET_VALUE: Range = range(
    "assets[].value",
    "",
    0.0,
    1.0e6,
    "relative weights; a million to one is the widest ratio that means anything",
);
/// Radius within which an impact hits an asset.
pub const ASSET_RADIUS: Range = range(
    "assets[].radius_m",
    "m",
    1.0,
    1.0e6,
    "a building to a region a thousand kilometres across",
);

// --- Doctrine -------------------------------------------------------------------------------

/// Rounds per salvo.
pub const SALVO_SIZE: Range = range(
    "doctrine.salvo_size",
    "",
    1.0,
    8.0,
    "doctrine fires one to a few rounds per threat",
);
/// Smallest single-shot Pk worth a round.
pub const MIN_PK: Range = range("doctrine.min_pk", "", 0.0, 1.0, "a probability");
/// Rounds a battery keeps back.
pub const RESERVE_ROUNDS: Range = range(
    "doctrine.reserve_rounds",
    "",
    0.0,
    10_000.0,
    "at most a battery's rounds",
);
/// Time between an intercept and its kill assessment.
pub const LOOK_TIME: Range = range(
    "doctrine.look_s",
    "s",
    0.0,
    3_600.0,
    "a look longer than an hour never leaves time for a second shot",
);
/// Engagements (orders) per threat.
pub const ENGAGEMENTS_PER_THREAT: Range = range(
    "doctrine.max_engagements_per_threat",
    "",
    1.0,
    100.0,
    "at least one; more than a hundred orders against one threat is no doctrine",
);

// --- Tracker --------------------------------------------------------------------------------

/// Probability that a true plot falls inside a track's gate.
pub const GATE_PROBABILITY: Range = range(
    "tracker.gate_probability",
    "",
    0.5,
    0.999_999_999,
    "a gate that holds at least half the true plots and is still finite",
);
/// M and N of the M-of-N confirmation (M at most N).
pub const CONFIRM_WINDOW: Range = range(
    "tracker.confirm_m, confirm_n",
    "",
    1.0,
    32.0,
    "the confirmation window's bit set",
);
/// Consecutive misses before a track is deleted.
pub const MAX_MISSES: Range = range("tracker.max_misses", "", 1.0, 1_000.0, "at least one look");
/// Longest coast without a plot before a track is deleted.
pub const MAX_COAST: Range = range(
    "tracker.max_coast_s",
    "s",
    0.1,
    3_600.0,
    "one tick to an hour",
);
/// Process noise of the filter's acceleration (power spectral density).
pub const ACCEL_NOISE: Range = range(
    "tracker.accel_noise_m2_s3",
    "m^2/s^3",
    0.0,
    1.0e6,
    "none to a 30 g random walk",
);
/// Factor on the process noise while a track is in boost.
pub const MANEUVER_NOISE_SCALE: Range = range(
    "tracker.maneuver_noise_scale",
    "",
    1.0,
    1.0e8,
    "boost is never quieter than ballistic flight",
);
/// Initial velocity sigma of a new track.
pub const INITIAL_VELOCITY_SIGMA: Range = range(
    "tracker.initial_velocity_sigma_m_s",
    "m/s",
    1.0,
    1.0e5,
    "above orbital speed is no information",
);
/// Prior ballistic coefficient of a new track.
pub const BALLISTIC_COEFF: Range = range(
    "tracker.ballistic_coeff_kg_m2",
    "kg/m^2",
    1.0,
    1.0e6,
    "a balloon to a dense re-entry vehicle, with margin",
);
/// Relative prior sigma of the ballistic coefficient.
pub const BALLISTIC_COEFF_REL_SIGMA: Range = range(
    "tracker.ballistic_coeff_rel_sigma",
    "",
    0.001,
    100.0,
    "0.1% to a hundredfold",
);
/// Relative random walk of the ballistic coefficient.
pub const BALLISTIC_NOISE: Range = range(
    "tracker.ballistic_noise_rel_per_sqrt_s",
    "1/sqrt(s)",
    0.0,
    10.0,
    "none to a tenfold change in a second",
);
/// Periods of the impact-point refresh (shortest and longest).
pub const IMPACT_REFRESH: Range = range(
    "tracker.impact_refresh_s, impact_refresh_max_s",
    "s",
    0.1,
    3_600.0,
    "one tick to an hour",
);
/// Most live tracks.
pub const MAX_TRACKS: Range = range("tracker.max_tracks", "", 1.0, 1.0e6, "the tracker's arrays");
/// Position sigma at which the covariance part of a track's quality is one half.
pub const QUALITY_REFERENCE: Range = range(
    "tracker.quality_reference_m",
    "m",
    0.1,
    1.0e6,
    "a decimetre to a thousand kilometres",
);

// --- Counts ---------------------------------------------------------------------------------

/// Scheduled launches in a scenario.
pub const SCENARIO_LAUNCHES: Range = range("launches", "", 0.0, 10_000.0, "a raid, not a war");
/// Radars in a simulation.
pub const RADARS: Range = range("radars", "", 0.0, 256.0, "the engine's radar table");
/// Batteries in a simulation.
pub const BATTERIES: Range = range("batteries", "", 0.0, 256.0, "the engine's battery table");
/// Defended assets in a simulation.
pub const ASSETS: Range = range("assets", "", 0.0, 256.0, "the engine's asset table");
/// Commands in a share link.
pub const LINK_COMMANDS: Range = range("commands", "", 0.0, 10_000.0, "a link's size");
/// Tick of a command in a share link.
pub const LINK_TICK: Range = range(
    "commands[].tick",
    "",
    0.0,
    86_400.0 * TICK_HZ as f64,
    "one day of ticks",
);
/// Runs of a Monte Carlo study.
pub const MONTE_CARLO_RUNS: Range = range(
    "runs",
    "",
    1.0,
    1.0e6,
    "a million runs is hours of CPU already",
);

// --- Texts ----------------------------------------------------------------------------------

/// A scenario's name.
pub const SCENARIO_NAME: Text = Text {
    field: "name",
    max_chars: 200,
    may_be_empty: true,
    multiline: false,
};
/// A scenario's description.
pub const SCENARIO_DESCRIPTION: Text = Text {
    field: "description",
    max_chars: 10_000,
    may_be_empty: true,
    multiline: true,
};
/// A launch's label, shown with the missile.
pub const LABEL: Text = Text {
    field: "label",
    max_chars: 80,
    may_be_empty: true,
    multiline: false,
};
/// A radar's or a battery's call sign, or a defended asset's name.
pub const CALL_SIGN: Text = Text {
    field: "call sign",
    max_chars: 64,
    may_be_empty: false,
    multiline: false,
};

/// Every range, in the order of `docs/ranges.md`.
pub const ALL: &[Range] = &[
    LATITUDE,
    LONGITUDE,
    LAUNCH_TIME,
    GUIDANCE_PITCH,
    GUIDANCE_CUTOFF,
    GUIDANCE_NORMAL_LENGTH,
    RADAR_HEIGHT,
    RADAR_BORESIGHT,
    RADAR_SECTOR_HALF_WIDTH,
    RADAR_ELEVATION,
    RADAR_REVISIT,
    BATTERY_ROUNDS,
    BATTERY_LAUNCHERS,
    BATTERY_RELOAD,
    ASSET_VALUE,
    ASSET_RADIUS,
    SALVO_SIZE,
    MIN_PK,
    RESERVE_ROUNDS,
    LOOK_TIME,
    ENGAGEMENTS_PER_THREAT,
    GATE_PROBABILITY,
    CONFIRM_WINDOW,
    MAX_MISSES,
    MAX_COAST,
    ACCEL_NOISE,
    MANEUVER_NOISE_SCALE,
    INITIAL_VELOCITY_SIGMA,
    BALLISTIC_COEFF,
    BALLISTIC_COEFF_REL_SIGMA,
    BALLISTIC_NOISE,
    IMPACT_REFRESH,
    MAX_TRACKS,
    QUALITY_REFERENCE,
    SCENARIO_LAUNCHES,
    RADARS,
    BATTERIES,
    ASSETS,
    LINK_COMMANDS,
    LINK_TICK,
    MONTE_CARLO_RUNS,
];

/// A room member's display name.
pub const MEMBER_NAME: Text = Text {
    field: "hello.name",
    max_chars: 32,
    may_be_empty: false,
    multiline: false,
};

/// Every text rule, in the order of `docs/ranges.md`.
pub const TEXTS: &[Text] = &[
    SCENARIO_NAME,
    SCENARIO_DESCRIPTION,
    LABEL,
    CALL_SIGN,
    MEMBER_NAME,
];

/// The table of `docs/ranges.md`: one Markdown row per range, then one per text rule.
pub fn markdown_rows() -> String {
    let mut out = String::new();
    for r in ALL {
        let unit = if r.unit.is_empty() { "-" } else { r.unit };
        out.push_str(&format!(
            "| `{}` | {} | {} | {unit} | {} |\n",
            r.field, r.min, r.max, r.why
        ));
    }
    out.push('\n');
    for t in TEXTS {
        out.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            t.field,
            t.max_chars,
            if t.may_be_empty { "yes" } else { "no" },
            if t.multiline {
                "line feed and tab only"
            } else {
                "none"
            }
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_refuse_non_finite_and_out_of_range_values_and_name_the_field() {
        assert_eq!(RADAR_REVISIT.check(1.0), Ok(1.0));
        for bad in [1e-300, 0.0, -1.0, 3_600.5, f64::NAN, f64::INFINITY] {
            let e = RADAR_REVISIT.check(bad).unwrap_err();
            assert!(
                e.starts_with("radars[].revisit_s must be within 0.01 to 3600 s"),
                "{e}"
            );
        }
        assert!(LATITUDE.check(-90.0).is_ok() && LATITUDE.check(90.0).is_ok());
        assert!(LATITUDE.check(90.000_001).unwrap_err().contains("degrees"));
        assert_eq!(SALVO_SIZE.check_count(8), Ok(8));
        assert!(SALVO_SIZE.check_count(0).is_err() && SALVO_SIZE.check_count(9).is_err());
    }

    #[test]
    fn every_range_is_an_interval_of_finite_bounds() {
        for r in ALL {
            assert!(
                r.min.is_finite() && r.max.is_finite() && r.min < r.max,
                "{r:?}"
            );
            assert!(!r.why.is_empty() && !r.field.is_empty());
        }
        let mut fields: Vec<&str> = ALL.iter().map(|r| r.field).collect();
        fields.sort_unstable();
        let n = fields.len();
        fields.dedup();
        assert_eq!(fields.len(), n, "a field listed twice");
    }

    #[test]
    fn texts_refuse_control_characters_and_length() {
        assert_eq!(CALL_SIGN.check("BAT_LA"), Ok("BAT_LA"));
        for bad in [
            "A\u{0}B",
            "A\nB",
            "A\u{1b}[31m",
            "A\u{7f}",
            "A\u{85}",
            " ",
            "",
        ] {
            assert!(CALL_SIGN.check(bad).is_err(), "{bad:?}");
        }
        assert!(CALL_SIGN.check(&"x".repeat(64)).is_ok());
        assert!(CALL_SIGN.check(&"é".repeat(65)).is_err());
        assert!(SCENARIO_DESCRIPTION.check("two\nlines\tand a tab").is_ok());
        assert!(
            SCENARIO_DESCRIPTION
                .check("nul \u{0}")
                .unwrap_err()
                .contains("U+0000")
        );
        assert!(LABEL.check("").is_ok());
    }

    #[test]
    fn docs_ranges_md_is_this_table() {
        let doc = include_str!("../../docs/ranges.md");
        let rows = markdown_rows();
        for line in rows.lines().filter(|l| !l.is_empty()) {
            assert!(
                doc.contains(line),
                "docs/ranges.md lacks the row\n{line}\n(run `cargo run -p sim-core --bin mdsim -- limits` and paste its rows)"
            );
        }
    }
}
