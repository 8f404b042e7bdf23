//! The interceptor catalog: real-world classes with public, documented figures.
//!
//! Public sources give launch mass, dimensions, speed, range and ceiling; they do not give
//! stage masses, specific impulse, lateral acceleration limits, seeker ranges or lethal radii.
//! Those are modelling assumptions, chosen within published bounds and stated next to each
//! figure ("assumed"). Burnout speeds in the table are the public figures; the boost model's
//! ideal velocity (Tsiolkovsky, minus gravity and drag losses) is checked against them by a
//! test in [`crate::interceptor::flight`].
//!
//! Kill probability: `pk_single_shot` is the probability that a round that passes within its
//! lethal radius of a nominal target (a 1 m^2 re-entry vehicle) kills it; it lumps reliability,
//! fuzing and kill given hit. The end game multiplies it by the lethality of the achieved miss
//! distance ([`crate::interceptor::endgame`]); the engagement planner uses it as the expected
//! single-shot Pk.
//!
//! Sources used below:
//! - \[CSIS\] CSIS Missile Defense Project, "Missile Threat", <https://missilethreat.csis.org>
//!   (pages "SM-6", "Patriot", "THAAD", "Ground-based Midcourse Defense (GMD) System").
//! - \[MDA\] US Missile Defense Agency fact sheets ("THAAD", "Ground-based Midcourse Defense").
//! - \[Wiki\] Wikipedia: "RIM-174 Standard ERAM", "MIM-104 Patriot", "Terminal High Altitude
//!   Area Defense", "Ground-Based Midcourse Defense", "Orion (rocket stage)".
//! - \[LM\] Lockheed Martin PAC-3 and THAAD product pages (hit-to-kill, Ka-band seeker, attitude
//!   control motors).
//! - \[Zarchan\] P. Zarchan, "Tactical and Strategic Missile Guidance", 6th ed., AIAA 2012
//!   (effective navigation ratio 3-5, acceleration limits, hit-to-kill miss budgets).

use serde::{Deserialize, Serialize};

use crate::missile::catalog::BODY_DRAG;
use crate::missile::{DragTable, StageParams};

/// How an interceptor kills.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KillMechanism {
    /// Direct body-to-body collision (kinetic kill vehicle); the lethal radius is about the
    /// combined body radii.
    HitToKill,
    /// A proximity-fuzed blast-fragmentation warhead; the lethal radius is the fragment cloud's.
    BlastFragmentation,
}

/// Public figures an entry should resemble, for `docs/interceptors.md`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InterceptorFigures {
    /// Published launch mass, dimensions and speed (text).
    pub airframe: &'static str,
    /// Published range and altitude (text).
    pub envelope: &'static str,
    /// The sources of this entry.
    pub sources: &'static str,
}

/// An interceptor class.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InterceptorType {
    /// The kind, whose name is the class's public identifier.
    pub kind: InterceptorKind,
    /// A one-line description.
    pub description: &'static str,
    /// Boost stages, first to last (masses, thrust and burn times).
    pub stages: &'static [StageParams],
    /// Mass above the last stage, flown after burnout (kill vehicle or warhead section) (kg).
    pub payload_mass_kg: f64,
    /// Body diameter, the drag reference length (m).
    pub diameter_m: f64,
    /// Drag coefficient against Mach.
    pub drag: DragTable,
    /// Public burnout (maximum) speed (m/s).
    pub burnout_speed_m_s: f64,
    /// Maximum lateral (guidance) acceleration (in units of g0).
    pub max_lateral_g: f64,
    /// Effective navigation ratio N' of its proportional navigation (dimensionless).
    pub nav_ratio: f64,
    /// Lowest intercept altitude (m).
    pub min_intercept_alt_m: f64,
    /// Highest intercept altitude (m).
    pub max_intercept_alt_m: f64,
    /// Greatest slant range from the launcher to the intercept point (m).
    pub max_range_m: f64,
    /// Range at which the seeker acquires a nominal target (m).
    pub seeker_acquisition_m: f64,
    /// Seeker angular noise, one sigma (rad): position noise grows as range times this.
    pub seeker_noise_rad: f64,
    /// Seeker position noise floor, one sigma (m).
    pub seeker_noise_floor_m: f64,
    /// Kill mechanism.
    pub kill: KillMechanism,
    /// Lethal radius against a nominal target (m).
    pub lethal_radius_m: f64,
    /// Single-shot kill probability given a pass within the lethal radius (see module doc).
    pub pk_single_shot: f64,
    /// Mean speed over a full-range fly-out (m/s), for the engagement planner's fly-out model.
    pub mean_flyout_speed_m_s: f64,
    /// Maximum flight time before self-destruct (s).
    pub max_flight_time_s: f64,
    /// Public figures to compare with.
    pub public: InterceptorFigures,
}

impl InterceptorType {
    /// Total launch mass (kg).
    pub fn launch_mass_kg(&self) -> f64 {
        self.stages.iter().map(|s| s.gross_mass_kg).sum::<f64>() + self.payload_mass_kg
    }

    /// Total burn time of all stages (s).
    pub fn total_burn_time_s(&self) -> f64 {
        self.stages.iter().map(|s| s.burn_time_s).sum()
    }

    /// Body reference area pi d^2 / 4 (m^2).
    pub fn area_m2(&self) -> f64 {
        core::f64::consts::FRAC_PI_4 * self.diameter_m * self.diameter_m
    }

    /// Maximum lateral acceleration (m/s^2).
    pub fn max_lateral_m_s2(&self) -> f64 {
        self.max_lateral_g * crate::G0_M_S2
    }

    /// Ideal velocity gain of the whole boost, sum of Isp g0 ln(m0/mf) over the stages
    /// (Tsiolkovsky), without gravity or drag losses (m/s).
    pub fn ideal_delta_v_m_s(&self) -> f64 {
        let mut above = self.payload_mass_kg;
        let mut dv = 0.0;
        for s in self.stages.iter().rev() {
            let m0 = above + s.gross_mass_kg;
            let mf = m0 - s.propellant_mass_kg;
            dv += s.isp_s() * crate::G0_M_S2 * libm::log(m0 / mf);
            above = m0;
        }
        dv
    }
}

/// The interceptor classes of the catalog. Serialises as the public class name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum InterceptorKind {
    /// RIM-174 Standard Missile 6 (ERAM), ship- or land-launched area and terminal defence.
    /// The old system's battery type: keep this exact name.
    #[serde(rename = "SM-6")]
    Sm6,
    /// MIM-104F Patriot PAC-3 (CRI class), lower-tier hit-to-kill terminal defence.
    #[serde(rename = "PAC-3")]
    Pac3,
    /// Terminal High Altitude Area Defense, upper-tier hit-to-kill, endo- and exo-atmospheric.
    #[serde(rename = "THAAD")]
    Thaad,
    /// Ground-Based Interceptor of Ground-based Midcourse Defense, exo-atmospheric, vs ICBMs.
    #[serde(rename = "GBI")]
    Gbi,
}

impl InterceptorKind {
    /// Every kind, in catalog order.
    pub const ALL: [InterceptorKind; 4] = [
        InterceptorKind::Sm6,
        InterceptorKind::Pac3,
        InterceptorKind::Thaad,
        InterceptorKind::Gbi,
    ];

    /// The public identifier, as in scenario files and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            InterceptorKind::Sm6 => "SM-6",
            InterceptorKind::Pac3 => "PAC-3",
            InterceptorKind::Thaad => "THAAD",
            InterceptorKind::Gbi => "GBI",
        }
    }

    /// Parses a class name, ignoring case; the error lists the known names.
    pub fn parse(name: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|k| k.name().eq_ignore_ascii_case(name.trim()))
            .ok_or_else(|| {
                let known: Vec<&str> = Self::ALL.iter().map(|k| k.name()).collect();
                format!(
                    "unknown interceptor type '{name}' (known: {})",
                    known.join(", ")
                )
            })
    }

    /// The catalog entry.
    pub fn params(self) -> &'static InterceptorType {
        match self {
            InterceptorKind::Sm6 => &SM6,
            InterceptorKind::Pac3 => &PAC3,
            InterceptorKind::Thaad => &THAAD,
            InterceptorKind::Gbi => &GBI,
        }
    }
}

impl core::fmt::Display for InterceptorKind {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

impl core::str::FromStr for InterceptorKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::parse(s)
    }
}

/// The whole catalog, in order.
pub fn catalog() -> [&'static InterceptorType; 4] {
    InterceptorKind::ALL.map(InterceptorKind::params)
}

/// Thrust that burns `propellant_kg` in `burn_s` at specific impulse `isp_s`: F = mdot Isp g0.
const fn thrust(propellant_kg: f64, burn_s: f64, isp_s: f64) -> f64 {
    propellant_kg / burn_s * isp_s * 9.806_65
}

/// SM-6 Block I (RIM-174). \[Wiki "RIM-174 Standard ERAM"\], \[CSIS "SM-6"\]: launch mass about
/// 1,500 kg, length 6.55 m, diameter 0.34 m (0.53 m Mk 72 booster), speed Mach 3.5, range
/// about 240 km (130 nmi), flight ceiling about 34 km (110,000 ft), 64 kg blast-fragmentation
/// warhead, active radar seeker derived from AMRAAM's (with a 0.34 m antenna). Assumed: Mk 72
/// booster 700 kg (400 kg propellant, 6 s, Isp 240 s); Mk 104 dual-thrust motor lumped as one
/// 15 s burn of 200 kg at Isp 245 s; 300 kg above it; 30 g lateral limit (Standard Missile
/// class); seeker acquisition 25 km on a 1 m^2 target; lethal radius 10 m; Pk 0.7; min
/// intercept altitude 2 km against ballistic targets (debris).
pub const SM6: InterceptorType = InterceptorType {
    kind: InterceptorKind::Sm6,
    description: "Standard Missile 6 (RIM-174), blast-fragmentation, active radar seeker",
    stages: &[
        StageParams {
            gross_mass_kg: 700.0,
            propellant_mass_kg: 400.0,
            thrust_n: thrust(400.0, 6.0, 240.0),
            burn_time_s: 6.0,
        },
        StageParams {
            gross_mass_kg: 500.0,
            propellant_mass_kg: 200.0,
            thrust_n: thrust(200.0, 15.0, 245.0),
            burn_time_s: 15.0,
        },
    ],
    payload_mass_kg: 300.0,
    diameter_m: 0.34,
    drag: BODY_DRAG,
    burnout_speed_m_s: 1_190.0,
    max_lateral_g: 30.0,
    nav_ratio: 4.0,
    min_intercept_alt_m: 2_000.0,
    max_intercept_alt_m: 34_000.0,
    max_range_m: 240_000.0,
    seeker_acquisition_m: 25_000.0,
    seeker_noise_rad: 2.0e-3,
    seeker_noise_floor_m: 1.0,
    kill: KillMechanism::BlastFragmentation,
    lethal_radius_m: 10.0,
    pk_single_shot: 0.7,
    mean_flyout_speed_m_s: 900.0,
    max_flight_time_s: 300.0,
    public: InterceptorFigures {
        airframe: "1,500 kg, 6.55 m, 0.34 m (0.53 m booster), Mach 3.5",
        envelope: "range about 240 km, ceiling about 34 km",
        sources: "Wikipedia 'RIM-174 Standard ERAM'; CSIS Missile Threat 'SM-6'",
    },
};

/// PAC-3 (MIM-104F, Cost Reduction Initiative missile). \[Wiki "MIM-104 Patriot"\], [CSIS
/// "Patriot"], \[LM\]: launch mass 312 kg, length 5.2 m, diameter 0.255 m, single-stage solid
/// motor, Ka-band active seeker, 180 solid attitude control motors, hit-to-kill with a
/// fragment "lethality enhancer", speed about Mach 5 (about 1.5 km/s at altitude), range against ballistic targets about
/// 20-30 km, altitude up to about 20 km. Assumed: 200 kg motor with 155 kg propellant burnt in
/// 11 s at Isp 250 s, 112 kg forebody; 50 g lateral limit (attitude control motors); seeker
/// acquisition 8 km; lethal radius 1 m (body plus enhancer); Pk 0.8; min altitude 500 m.
pub const PAC3: InterceptorType = InterceptorType {
    kind: InterceptorKind::Pac3,
    description: "Patriot PAC-3 (MIM-104F), hit-to-kill, Ka-band active seeker",
    stages: &[StageParams {
        gross_mass_kg: 200.0,
        propellant_mass_kg: 155.0,
        thrust_n: thrust(155.0, 11.0, 250.0),
        burn_time_s: 11.0,
    }],
    payload_mass_kg: 112.0,
    diameter_m: 0.255,
    drag: BODY_DRAG,
    burnout_speed_m_s: 1_500.0,
    max_lateral_g: 50.0,
    nav_ratio: 4.0,
    min_intercept_alt_m: 500.0,
    max_intercept_alt_m: 20_000.0,
    max_range_m: 30_000.0,
    seeker_acquisition_m: 8_000.0,
    seeker_noise_rad: 1.0e-3,
    seeker_noise_floor_m: 0.2,
    kill: KillMechanism::HitToKill,
    lethal_radius_m: 1.0,
    pk_single_shot: 0.8,
    mean_flyout_speed_m_s: 1_100.0,
    max_flight_time_s: 60.0,
    public: InterceptorFigures {
        airframe: "312 kg, 5.2 m, 0.255 m, about Mach 5",
        envelope: "range 20-30 km against ballistic targets, altitude up to about 20 km",
        sources: "Wikipedia 'MIM-104 Patriot'; CSIS Missile Threat 'Patriot'; Lockheed Martin PAC-3",
    },
};

/// THAAD. \[Wiki "Terminal High Altitude Area Defense"\], \[MDA "THAAD"\], \[CSIS "THAAD"\]: launch
/// mass 900 kg, length 6.17 m, diameter 0.34 m, single-stage solid booster, hit-to-kill kill
/// vehicle with an infrared seeker and divert and attitude control, speed about 2.8 km/s
/// (Mach 8.2), range about 200 km, intercept altitude about 40-150 km. Assumed: 830 kg booster
/// with 627 kg propellant, 17 s, Isp 265 s; 70 kg kill vehicle and shroud; 10 g divert;
/// seeker acquisition 40 km; lethal radius 0.5 m; Pk 0.85 (MDA reports every intercept test
/// since 2006 as a success).
pub const THAAD: InterceptorType = InterceptorType {
    kind: InterceptorKind::Thaad,
    description: "THAAD, hit-to-kill kill vehicle, infrared seeker, endo/exo-atmospheric",
    stages: &[StageParams {
        gross_mass_kg: 830.0,
        propellant_mass_kg: 627.0,
        thrust_n: thrust(627.0, 17.0, 265.0),
        burn_time_s: 17.0,
    }],
    payload_mass_kg: 70.0,
    diameter_m: 0.34,
    drag: BODY_DRAG,
    burnout_speed_m_s: 2_800.0,
    max_lateral_g: 10.0,
    nav_ratio: 4.0,
    min_intercept_alt_m: 40_000.0,
    max_intercept_alt_m: 150_000.0,
    max_range_m: 200_000.0,
    seeker_acquisition_m: 40_000.0,
    seeker_noise_rad: 2.0e-4,
    seeker_noise_floor_m: 0.2,
    kill: KillMechanism::HitToKill,
    lethal_radius_m: 0.5,
    pk_single_shot: 0.85,
    mean_flyout_speed_m_s: 2_200.0,
    max_flight_time_s: 200.0,
    public: InterceptorFigures {
        airframe: "900 kg, 6.17 m, 0.34 m, about 2.8 km/s",
        envelope: "range about 200 km, altitude about 40-150 km",
        sources: "Wikipedia 'Terminal High Altitude Area Defense'; MDA THAAD fact sheet; CSIS Missile Threat 'THAAD'",
    },
};

/// Ground-Based Interceptor (GMD). \[Wiki "Ground-Based Midcourse Defense"\], \[MDA\], [CSIS
/// "GMD"]: three-stage solid booster (Orbital Boost Vehicle, Pegasus-derived Orion motors),
/// launch mass about 21,600 kg, length 16.8 m, diameter 1.28 m, Exoatmospheric Kill Vehicle
/// (about 64 kg, infrared seeker, hit-to-kill), burnout speed about 7-8 km/s, intercepts in
/// mid-course above the atmosphere. Stages follow the Orion 50S XL, 50 XL and 38 motors
/// (\[Wiki "Orion (rocket stage)"\]: 69, 70 and 67 s burns); assumed: 400 kg above the third
/// stage (kill vehicle, adapter, shroud), Isp 285/290/287 s; 5 g divert; seeker acquisition
/// 300 km; lethal radius 0.5 m; Pk 0.55 (about half of the intercept tests succeeded, MDA and
/// CSIS test records); intercept altitude 100-2,000 km; range 6,000 km.
pub const GBI: InterceptorType = InterceptorType {
    kind: InterceptorKind::Gbi,
    description: "Ground-Based Interceptor, three-stage booster, exo-atmospheric kill vehicle",
    stages: &[
        StageParams {
            gross_mass_kg: 15_500.0,
            propellant_mass_kg: 14_200.0,
            thrust_n: thrust(14_200.0, 69.0, 285.0),
            burn_time_s: 69.0,
        },
        StageParams {
            gross_mass_kg: 4_306.0,
            propellant_mass_kg: 3_925.0,
            thrust_n: thrust(3_925.0, 70.0, 290.0),
            burn_time_s: 70.0,
        },
        StageParams {
            gross_mass_kg: 891.0,
            propellant_mass_kg: 770.0,
            thrust_n: thrust(770.0, 67.0, 287.0),
            burn_time_s: 67.0,
        },
    ],
    payload_mass_kg: 400.0,
    diameter_m: 1.28,
    drag: BODY_DRAG,
    burnout_speed_m_s: 7_500.0,
    max_lateral_g: 5.0,
    nav_ratio: 4.0,
    min_intercept_alt_m: 100_000.0,
    max_intercept_alt_m: 2_000_000.0,
    max_range_m: 6_000_000.0,
    seeker_acquisition_m: 300_000.0,
    seeker_noise_rad: 1.0e-4,
    seeker_noise_floor_m: 0.2,
    kill: KillMechanism::HitToKill,
    lethal_radius_m: 0.5,
    pk_single_shot: 0.55,
    mean_flyout_speed_m_s: 5_500.0,
    max_flight_time_s: 1_500.0,
    public: InterceptorFigures {
        airframe: "about 21,600 kg, 16.8 m, 1.28 m, burnout about 7-8 km/s",
        envelope: "mid-course, exo-atmospheric, thousands of km",
        sources: "Wikipedia 'Ground-Based Midcourse Defense'; MDA GMD fact sheet; CSIS Missile Threat 'GMD'",
    },
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back_and_sm6_keeps_its_name() {
        for k in InterceptorKind::ALL {
            assert_eq!(InterceptorKind::parse(k.name()), Ok(k));
            assert_eq!(k.params().kind, k);
            let json = serde_json::to_string(&k).unwrap();
            assert_eq!(json, format!("\"{}\"", k.name()));
            assert_eq!(serde_json::from_str::<InterceptorKind>(&json).unwrap(), k);
        }
        assert_eq!(InterceptorKind::parse(" sm-6 "), Ok(InterceptorKind::Sm6));
        assert!(
            InterceptorKind::parse("S-400")
                .unwrap_err()
                .contains("SM-6, PAC-3, THAAD, GBI")
        );
    }

    #[test]
    fn launch_masses_match_public_figures() {
        // Public launch masses (kg): SM-6 1,500, PAC-3 312, THAAD 900, GBI about 21,600.
        let expect = [1_500.0, 312.0, 900.0, 21_600.0];
        for (t, m) in catalog().iter().zip(expect) {
            let rel = (t.launch_mass_kg() - m).abs() / m;
            assert!(rel < 0.05, "{:?}: {} kg", t.kind, t.launch_mass_kg());
        }
    }

    #[test]
    fn ideal_delta_v_exceeds_burnout_speed_by_plausible_losses() {
        // Gravity and drag losses of tactical and strategic boosts are about 10-40% of the
        // ideal velocity (Zarchan ch. 26 on boost losses); the ideal must cover the public
        // burnout speed but not wildly exceed it.
        for t in catalog() {
            let ratio = t.burnout_speed_m_s / t.ideal_delta_v_m_s();
            assert!((0.6..0.95).contains(&ratio), "{:?}: {ratio}", t.kind);
            for s in t.stages {
                assert!((200.0..320.0).contains(&s.isp_s()), "{:?}", t.kind);
            }
        }
    }

    #[test]
    fn envelopes_are_ordered_and_probabilities_valid() {
        for t in catalog() {
            assert!(t.min_intercept_alt_m < t.max_intercept_alt_m);
            assert!((0.0..=1.0).contains(&t.pk_single_shot));
            assert!(t.lethal_radius_m > 0.0 && t.seeker_acquisition_m > 0.0);
            assert!(t.max_range_m / t.mean_flyout_speed_m_s < t.max_flight_time_s);
        }
        assert_eq!(SM6.kill, KillMechanism::BlastFragmentation);
        assert_eq!(GBI.kill, KillMechanism::HitToKill);
    }
}
