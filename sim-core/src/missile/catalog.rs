//! The missile catalog: real-world classes with public, documented parameters.
//!
//! Each entry cites where its figures come from. Public sources give launch mass, dimensions,
//! payload, burn time and range; they rarely give structural masses or specific impulse, so
//! those are modelling assumptions chosen within published bounds so that the model's maximum
//! range lands in the public range band (each choice is stated next to the figure). The
//! `max_range_m` and `max_range_pitch_deg` of each entry are outputs of this model (non-rotating
//! WGS84 Earth with drag), regenerated with `mdsim catalog --compute` and checked by a test.
//!
//! Sources used below:
//! - [CSIS] CSIS Missile Defense Project, "Missile Threat", <https://missilethreat.csis.org>
//!   (pages "Scud-B", "Scud-C", "No-dong 1", "Agni-II", "Minuteman III").
//! - [FAS] Federation of American Scientists, WMD/missile pages (Scud, Nodong, Minuteman III).
//! - [Forden] G. Forden, "GUI_Missile_Flyout: A General Program for Simulating Ballistic
//!   Missiles", Science & Global Security 15 (2007), and "The Scud" modelling notes.
//! - [Zarchan] P. Zarchan, "Tactical and Strategic Missile Guidance", 6th ed., AIAA (drag and
//!   ballistic-coefficient ranges for re-entry vehicles, gravity-turn boost).
//! - [Wiki] Wikipedia: "Scud", "Hwasong-6", "Hwasong-7", "Agni-II", "LGM-30 Minuteman".

use serde::{Deserialize, Serialize};

use crate::G0_M_S2;

/// One rocket stage.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StageParams {
    /// Stage mass at ignition, propellant included, upper stages and payload excluded (kg).
    pub gross_mass_kg: f64,
    /// Propellant burnt by the stage (kg).
    pub propellant_mass_kg: f64,
    /// Thrust, taken as constant over the burn (N).
    pub thrust_n: f64,
    /// Burn time (s).
    pub burn_time_s: f64,
}

impl StageParams {
    /// Mass flow rate mdot = propellant / burn time (kg/s).
    pub fn mass_flow_kg_s(&self) -> f64 {
        self.propellant_mass_kg / self.burn_time_s
    }

    /// Effective specific impulse Isp = F / (mdot g0) (s).
    pub fn isp_s(&self) -> f64 {
        self.thrust_n / (self.mass_flow_kg_s() * G0_M_S2)
    }

    /// Dry (structural) mass dropped at separation (kg).
    pub fn dry_mass_kg(&self) -> f64 {
        self.gross_mass_kg - self.propellant_mass_kg
    }
}

/// A drag coefficient against Mach number, linearly interpolated and held constant beyond
/// the ends of the table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DragTable {
    /// Mach numbers, strictly increasing.
    pub mach: &'static [f64],
    /// Zero-lift drag coefficient referred to the reference area, one per Mach number.
    pub cd: &'static [f64],
}

impl DragTable {
    /// Cd at a Mach number (piecewise linear).
    pub fn cd(&self, mach: f64) -> f64 {
        let m = self.mach;
        if mach <= m[0] {
            return self.cd[0];
        }
        for i in 1..m.len() {
            if mach <= m[i] {
                let w = (mach - m[i - 1]) / (m[i] - m[i - 1]);
                return self.cd[i - 1] + w * (self.cd[i] - self.cd[i - 1]);
            }
        }
        self.cd[self.cd.len() - 1]
    }
}

/// Slender-body drag: subsonic 0.2, transonic rise to 0.4 at Mach 1.2, falling to about 0.16
/// hypersonic. The shape of the SCUD curve in [Forden] (fig. 3) and the generic missile body of
/// [Zarchan] ch. 6.
pub const BODY_DRAG: DragTable = DragTable {
    mach: &[0.0, 0.8, 1.0, 1.2, 1.5, 2.0, 3.0, 5.0, 10.0],
    cd: &[0.20, 0.21, 0.35, 0.40, 0.36, 0.30, 0.24, 0.19, 0.16],
};

/// Conical re-entry vehicle drag (referred to the base area): about 0.1 hypersonic, rising
/// through the transonic region; consistent with the ballistic coefficients of 40-150 kPa
/// (4,000-15,000 kg/m^2) that [Zarchan] ch. 27 uses for strategic re-entry vehicles.
pub const RV_DRAG: DragTable = DragTable {
    mach: &[0.0, 0.8, 1.05, 1.5, 2.0, 3.0, 5.0, 8.0, 15.0],
    cd: &[0.28, 0.30, 0.48, 0.40, 0.33, 0.24, 0.16, 0.12, 0.10],
};

/// A separating re-entry vehicle.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RvParams {
    /// RV mass (kg).
    pub mass_kg: f64,
    /// Base diameter, the reference length of its drag coefficient (m).
    pub diameter_m: f64,
    /// Drag coefficient against Mach.
    pub drag: DragTable,
}

/// The open-loop pitch program flown in boost.
///
/// The thrust axis points along the local (geocentric) vertical for `vertical_rise_s`, then
/// tilts in the launch plane at a constant rate to `pitch_final_deg` above the local horizontal
/// at `pitch_over_end_s`, and holds that attitude until burnout. The final pitch is the free
/// parameter of lofted and depressed flights; minimum-energy flights fly `max_range_pitch_deg`
/// and cut the thrust to control range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PitchProgramParams {
    /// Vertical rise before pitch-over (s).
    pub vertical_rise_s: f64,
    /// Time at which the pitch program reaches its final attitude (s).
    pub pitch_over_end_s: f64,
}

/// Public figures a class should resemble, for `docs/missiles.md`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PublicFigures {
    /// Published maximum range (text, with units).
    pub range: &'static str,
    /// Published or commonly quoted apogee and flight time at maximum range (text).
    pub apogee_and_time: &'static str,
    /// The sources of this entry.
    pub sources: &'static str,
}

/// A missile class.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MissileType {
    /// The kind, whose name is the class's public identifier.
    pub kind: MissileKind,
    /// A one-line description.
    pub description: &'static str,
    /// Stages, first to last.
    pub stages: &'static [StageParams],
    /// Mass above the last stage (RV, post-boost hardware, shroud) at launch (kg).
    pub payload_mass_kg: f64,
    /// Body diameter, the reference length of the body's drag coefficient (m).
    pub body_diameter_m: f64,
    /// Body drag against Mach.
    pub body_drag: DragTable,
    /// The separating re-entry vehicle, or `None` when the whole body re-enters (SCUDs).
    pub rv: Option<RvParams>,
    /// Radar cross-section of the threat object in mid-course (m^2): the separated RV, or the
    /// whole body when the warhead does not separate.
    pub rcs_m2: f64,
    /// Radar cross-section of the body while the RV is still attached (boost and, for
    /// non-separating missiles, the whole flight) (m^2). Aspect-averaged assumptions of the
    /// order of the body's silhouette: a metre-class liquid SRBM about 1 m^2, an MRBM/IRBM
    /// booster a few m^2, an ICBM stack about 10 m^2 (after the broad figures in Sessler et
    /// al., "Countermeasures", UCS/MIT 2000, ch. 5 and appendix A; the exact values are not
    /// public). The spent booster is not modelled as a separate radar object.
    pub booster_rcs_m2: f64,
    /// Boost pitch program.
    pub pitch: PitchProgramParams,
    /// Final pitch (deg) that maximises range on a non-rotating Earth (model output).
    pub max_range_pitch_deg: f64,
    /// Maximum ground range of this model on a non-rotating Earth (m) (model output).
    pub max_range_m: f64,
    /// Shortest range the solver accepts (m).
    pub min_range_m: f64,
    /// Public figures to compare with.
    pub public: PublicFigures,
}

impl MissileType {
    /// Total launch mass (kg).
    pub fn launch_mass_kg(&self) -> f64 {
        self.stages.iter().map(|s| s.gross_mass_kg).sum::<f64>() + self.payload_mass_kg
    }

    /// Total burn time of all stages (s).
    pub fn total_burn_time_s(&self) -> f64 {
        self.stages.iter().map(|s| s.burn_time_s).sum()
    }

    /// Body reference area pi d^2 / 4 (m^2).
    pub fn body_area_m2(&self) -> f64 {
        core::f64::consts::FRAC_PI_4 * self.body_diameter_m * self.body_diameter_m
    }

    /// Mean radar cross-section of the object the radars see (m^2): the body with its RV
    /// until separation, then the RV ([`MissileType::booster_rcs_m2`], [`MissileType::rcs_m2`]).
    pub fn radar_rcs_m2(&self, rv_separated: bool) -> f64 {
        if rv_separated || self.rv.is_none() {
            self.rcs_m2
        } else {
            self.booster_rcs_m2
        }
    }
}

/// The missile classes of the catalog. Serialises as the public class name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum MissileKind {
    /// Soviet R-17 Elbrus (SS-1c "Scud-B"), single-stage liquid SRBM, 300 km.
    #[serde(rename = "SCUD-B")]
    ScudB,
    /// Scud-C (Hwasong-6), stretched Scud-B with a lighter warhead, about 500-550 km. The old
    /// system's only type: keep this exact name.
    #[serde(rename = "SCUD-C")]
    ScudC,
    /// Nodong-class (Hwasong-7) single-stage liquid MRBM, about 1,200-1,500 km.
    #[serde(rename = "NODONG")]
    Nodong,
    /// Two-stage solid IRBM of 2,000-3,000 km (Agni-II class).
    #[serde(rename = "IRBM")]
    Irbm,
    /// Three-stage solid ICBM (Minuteman III class), about 13,000 km.
    #[serde(rename = "ICBM")]
    Icbm,
}

impl MissileKind {
    /// Every kind, in catalog order.
    pub const ALL: [MissileKind; 5] = [
        MissileKind::ScudB,
        MissileKind::ScudC,
        MissileKind::Nodong,
        MissileKind::Irbm,
        MissileKind::Icbm,
    ];

    /// The public identifier, as in scenario files and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            MissileKind::ScudB => "SCUD-B",
            MissileKind::ScudC => "SCUD-C",
            MissileKind::Nodong => "NODONG",
            MissileKind::Irbm => "IRBM",
            MissileKind::Icbm => "ICBM",
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
                    "unknown missile type '{name}' (known: {})",
                    known.join(", ")
                )
            })
    }

    /// The catalog entry.
    pub fn params(self) -> &'static MissileType {
        match self {
            MissileKind::ScudB => &SCUD_B,
            MissileKind::ScudC => &SCUD_C,
            MissileKind::Nodong => &NODONG,
            MissileKind::Irbm => &IRBM,
            MissileKind::Icbm => &ICBM,
        }
    }
}

impl core::fmt::Display for MissileKind {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

impl core::str::FromStr for MissileKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::parse(s)
    }
}

/// The whole catalog, in order.
pub fn catalog() -> [&'static MissileType; 5] {
    MissileKind::ALL.map(MissileKind::params)
}

/// SCUD-B. [Wiki "Scud"], [CSIS "Scud-B"], [Forden]: launch mass 5,860 kg, diameter
/// 0.88 m, 985 kg warhead, 3,771 kg of TM-185/AK-27I propellant, 9D21 engine of about 13 tf
/// (130 kN) for about 62 s, range 300 km. Structural mass is what remains (1,104 kg); thrust
/// 134 kN gives Isp 225 s, between the engine's sea-level and vacuum values. The warhead does
/// not separate.
pub const SCUD_B: MissileType = MissileType {
    kind: MissileKind::ScudB,
    description: "Single-stage liquid SRBM (R-17 Elbrus / SS-1c)",
    stages: &[StageParams {
        gross_mass_kg: 4_875.0,
        propellant_mass_kg: 3_771.0,
        thrust_n: 134_000.0,
        burn_time_s: 62.0,
    }],
    payload_mass_kg: 985.0,
    body_diameter_m: 0.88,
    body_drag: BODY_DRAG,
    rv: None,
    rcs_m2: 1.0,
    booster_rcs_m2: 1.0,
    pitch: PitchProgramParams {
        vertical_rise_s: 5.0,
        pitch_over_end_s: 55.0,
    },
    max_range_pitch_deg: 32.94,
    max_range_m: 303_500.0,
    min_range_m: 50_000.0,
    public: PublicFigures {
        range: "300 km",
        apogee_and_time: "about 80-90 km apogee, about 5 min flight",
        sources: "CSIS Missile Threat 'Scud-B'; Wikipedia 'Scud'; Forden 2007",
    },
};

/// SCUD-C (Hwasong-6). [CSIS "Hwasong-6"], [Wiki "Hwasong-6"], [FAS]: launch mass about
/// 6,400 kg, diameter 0.88 m, warhead about 700-770 kg, range 500-550 km, burn about 70 s
/// (tanks stretched for the same 9D21-class engine). Assumed: 4,400 kg propellant at the
/// Scud-B mass flow (about 62 kg/s, 71 s), 1,250 kg structure, 700 kg non-separating warhead.
pub const SCUD_C: MissileType = MissileType {
    kind: MissileKind::ScudC,
    description: "Single-stage liquid SRBM, stretched Scud (Hwasong-6)",
    stages: &[StageParams {
        gross_mass_kg: 5_650.0,
        propellant_mass_kg: 4_500.0,
        thrust_n: 144_000.0,
        burn_time_s: 72.0,
    }],
    payload_mass_kg: 700.0,
    body_diameter_m: 0.88,
    body_drag: BODY_DRAG,
    rv: None,
    rcs_m2: 1.0,
    booster_rcs_m2: 1.0,
    pitch: PitchProgramParams {
        vertical_rise_s: 5.0,
        pitch_over_end_s: 60.0,
    },
    max_range_pitch_deg: 34.64,
    max_range_m: 527_000.0,
    min_range_m: 80_000.0,
    public: PublicFigures {
        range: "500-550 km (CSIS: 500 km)",
        apogee_and_time: "about 150 km apogee, about 7 min flight",
        sources: "CSIS Missile Threat 'Hwasong-6'; Wikipedia 'Hwasong-6'; FAS 'Scud-C'",
    },
};

/// Nodong-class MRBM (Hwasong-7). [CSIS "No-dong 1"], [Wiki "Hwasong-7"]: launch mass
/// 16,250 kg, diameter 1.36 m, length 16 m, payload 1,200 kg, range 1,200-1,500 km, a cluster of
/// four Scud-type chambers (about 26-27 tf). Assumed: 12,900 kg propellant, 115 s burn, Isp
/// 240 s; the 1,200 kg warhead section separates (0.9 m base).
pub const NODONG: MissileType = MissileType {
    kind: MissileKind::Nodong,
    description: "Single-stage liquid MRBM (Nodong / Hwasong-7 class)",
    stages: &[StageParams {
        gross_mass_kg: 15_050.0,
        propellant_mass_kg: 13_400.0,
        thrust_n: 285_500.0,
        burn_time_s: 115.0,
    }],
    payload_mass_kg: 1_200.0,
    body_diameter_m: 1.36,
    body_drag: BODY_DRAG,
    rv: Some(RvParams {
        mass_kg: 1_200.0,
        diameter_m: 0.9,
        drag: RV_DRAG,
    }),
    rcs_m2: 0.5,
    booster_rcs_m2: 3.0,
    pitch: PitchProgramParams {
        vertical_rise_s: 6.0,
        pitch_over_end_s: 90.0,
    },
    max_range_pitch_deg: 36.47,
    max_range_m: 1_325_800.0,
    min_range_m: 200_000.0,
    public: PublicFigures {
        range: "1,200-1,500 km",
        apogee_and_time: "about 350-400 km apogee, about 10-12 min flight",
        sources: "CSIS Missile Threat 'No-dong 1'; Wikipedia 'Hwasong-7'; FAS 'Nodong'",
    },
};

/// Two-stage solid IRBM, Agni-II class. [CSIS "Agni-II"], [Wiki "Agni-II"]: launch mass about
/// 16-18 t, diameter 1.0-1.3 m, length 20 m, payload about 1,000 kg, range 2,000-3,500 km.
/// Assumed split: first stage 10 t (8.7 t propellant, 75 s), second stage 5 t (4.3 t, 70 s),
/// Isp 245 s and 270 s; the 1,000 kg RV separates.
pub const IRBM: MissileType = MissileType {
    kind: MissileKind::Irbm,
    description: "Two-stage solid IRBM (Agni-II class), 2,000-3,000 km",
    stages: &[
        StageParams {
            gross_mass_kg: 10_000.0,
            propellant_mass_kg: 8_700.0,
            thrust_n: 295_800.0,
            burn_time_s: 75.0,
        },
        StageParams {
            gross_mass_kg: 5_000.0,
            propellant_mass_kg: 4_400.0,
            thrust_n: 179_150.0,
            burn_time_s: 70.0,
        },
    ],
    payload_mass_kg: 1_000.0,
    body_diameter_m: 1.2,
    body_drag: BODY_DRAG,
    rv: Some(RvParams {
        mass_kg: 1_000.0,
        diameter_m: 0.8,
        drag: RV_DRAG,
    }),
    rcs_m2: 0.2,
    booster_rcs_m2: 4.0,
    pitch: PitchProgramParams {
        vertical_rise_s: 8.0,
        pitch_over_end_s: 75.0,
    },
    max_range_pitch_deg: 36.88,
    max_range_m: 2_993_300.0,
    min_range_m: 500_000.0,
    public: PublicFigures {
        range: "2,000-3,500 km",
        apogee_and_time: "about 600-700 km apogee, about 15-17 min flight",
        sources: "CSIS Missile Threat 'Agni-II'; Wikipedia 'Agni-II'",
    },
};

/// Three-stage solid ICBM, Minuteman III class. [Wiki "LGM-30 Minuteman"], [FAS], [CSIS
/// "Minuteman III"]: launch mass 36,030 kg, diameter 1.67 m, range about 13,000 km; stages
/// M55A1 (792 kN, 61 s), SR19 (267 kN, 66 s), SR73 (about 150 kN, 61 s). Stage masses follow the
/// published gross/propellant figures (about 23.2/20.8 t, 7.0/6.2 t, 3.7/3.3 t); the thrusts
/// are raised to vacuum-like values (Isp 260/300/300 s) because the model takes thrust as
/// constant; payload is one Mk21-class RV (360 kg, 0.55 m) on a post-boost bus.
pub const ICBM: MissileType = MissileType {
    kind: MissileKind::Icbm,
    description: "Three-stage solid ICBM (Minuteman III class)",
    stages: &[
        StageParams {
            gross_mass_kg: 23_230.0,
            propellant_mass_kg: 20_780.0,
            thrust_n: 868_500.0,
            burn_time_s: 61.0,
        },
        StageParams {
            gross_mass_kg: 7_030.0,
            propellant_mass_kg: 6_240.0,
            thrust_n: 278_200.0,
            burn_time_s: 66.0,
        },
        StageParams {
            gross_mass_kg: 3_710.0,
            propellant_mass_kg: 3_306.0,
            thrust_n: 159_400.0,
            burn_time_s: 61.0,
        },
    ],
    payload_mass_kg: 800.0,
    body_diameter_m: 1.67,
    body_drag: BODY_DRAG,
    rv: Some(RvParams {
        mass_kg: 360.0,
        diameter_m: 0.55,
        drag: RV_DRAG,
    }),
    rcs_m2: 0.05,
    booster_rcs_m2: 10.0,
    pitch: PitchProgramParams {
        vertical_rise_s: 10.0,
        pitch_over_end_s: 61.0,
    },
    max_range_pitch_deg: 15.76,
    max_range_m: 12_496_600.0,
    min_range_m: 2_000_000.0,
    public: PublicFigures {
        range: "about 13,000 km",
        apogee_and_time: "about 1,100-1,300 km apogee, about 30 min flight",
        sources: "Wikipedia 'LGM-30 Minuteman'; FAS 'Minuteman III'; CSIS Missile Threat 'Minuteman III'",
    },
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back_and_scud_c_keeps_its_name() {
        for k in MissileKind::ALL {
            assert_eq!(MissileKind::parse(k.name()), Ok(k));
            assert_eq!(k.params().kind, k);
        }
        assert_eq!(MissileKind::parse("scud-c"), Ok(MissileKind::ScudC));
        assert_eq!(
            serde_json::to_string(&MissileKind::ScudC).unwrap(),
            "\"SCUD-C\""
        );
        assert!(MissileKind::parse("V-2").unwrap_err().contains("SCUD-C"));
    }

    #[test]
    fn masses_are_consistent() {
        for t in catalog() {
            assert!(t.launch_mass_kg() > 0.0);
            for s in t.stages {
                assert!(s.propellant_mass_kg < s.gross_mass_kg);
                assert!(
                    (150.0..330.0).contains(&s.isp_s()),
                    "{:?} isp {}",
                    t.kind,
                    s.isp_s()
                );
            }
            if let Some(rv) = t.rv {
                assert!(rv.mass_kg <= t.payload_mass_kg);
            }
        }
        assert!((SCUD_B.launch_mass_kg() - 5_860.0).abs() < 1.0);
        assert!((ICBM.launch_mass_kg() - 34_770.0).abs() < 1.0);
    }

    #[test]
    fn drag_table_interpolates_and_clamps() {
        assert_eq!(BODY_DRAG.cd(0.0), 0.20);
        assert!((BODY_DRAG.cd(0.9) - 0.28).abs() < 1e-12);
        assert_eq!(BODY_DRAG.cd(30.0), 0.16);
    }
}
