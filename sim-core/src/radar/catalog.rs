//! The radar catalog: three real-world classes with public, documented figures.
//!
//! Public sources give frequency band, array size, module counts and quoted detection ranges;
//! they do not give waveform, losses or dwell. Those are modelling assumptions, stated next to
//! each figure and chosen within plausible bounds so that the modelled detection range
//! ([`detection_range_m`], Pd 0.5 at the radar's Pfa, non-fluctuating target, no horizon)
//! lands near the publicly quoted one; a test checks it within a factor of 1.5, and
//! `docs/radars.md` sets the two side by side. The product "pulse width x pulses integrated"
//! stands for the energy of one look (a dwell).
//!
//! Sources:
//! - [MDA] Missile Defense Agency fact sheets, "AN/TPY-2" and "Upgraded Early Warning
//!   Radars"; US Army fact files "Patriot".
//! - [FAS] Federation of American Scientists, "AN/FPS-115 PAVE PAWS", "AN/TPY-2 (THAAD
//!   radar)", "AN/MPQ-53/65".
//! - [Sankaran] J. Sankaran, "Missile defenses and strategic stability in Asia" (2017) and
//!   "The United States' European Phased Adaptive Approach" (RAND, 2015), after Lewis and
//!   Postol's published estimates of the TPY-2: about 1,000 km against a 0.01 m^2 warhead
//!   (estimates range roughly 870-1,200 km with the operating mode).
//! - [Skolnik] Skolnik, "Introduction to Radar Systems" 3rd ed.: aperture gain
//!   G = 4 pi eta A / lambda^2, beamwidth ~ lambda / D.

use serde::{Deserialize, Serialize};

use super::detection::{Swerling, snr_required_north, snr_required_swerling1};
use super::equation::{linear_to_db, range_for_snr_m};
use super::site::{RadarId, RadarParams, RadarSite};
use crate::earth::GeoPoint;

/// A radar class of the catalog; serialises as its public name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum RadarKind {
    /// AN/TPY-2: X-band, transportable, solid-state phased array (THAAD and forward-based
    /// mode). The old system's only radar type: keep this exact name.
    #[serde(rename = "AN/TPY-2")]
    AnTpy2,
    /// AN/FPS-132 Upgraded Early Warning Radar (PAVE PAWS class): UHF, fixed, two or three
    /// faces of about 22 m.
    #[serde(rename = "AN/FPS-132")]
    AnFps132,
    /// AN/MPQ-65 (Patriot class): C-band engagement radar, phased array.
    #[serde(rename = "AN/MPQ-65")]
    AnMpq65,
}

/// A publicly quoted detection range with the target size it refers to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PublicFigure {
    /// Quoted detection range (m).
    pub range_m: f64,
    /// Radar cross-section the figure refers to (m^2), stated or assumed as said in `source`.
    pub rcs_m2: f64,
    /// Where the figure comes from.
    pub source: &'static str,
}

/// Typical coverage of a class, used by [`RadarKind::site`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Coverage {
    /// Half-width of the azimuth sector (deg).
    pub sector_half_width_deg: f64,
    /// Lowest elevation (deg).
    pub min_el_deg: f64,
    /// Highest elevation (deg).
    pub max_el_deg: f64,
    /// Revisit period (s).
    pub revisit_s: f64,
}

/// AN/TPY-2. Public [MDA, FAS]: X-band (about 9.5 GHz), 25,344 T/R modules, a 9.2 m^2 array.
/// Assumed: about 10 W peak per module (253 kW); aperture efficiency 0.7 gives
/// G = 4 pi 0.7 9.2 / lambda^2 = 49.1 dBi; beamwidth lambda / sqrt(9.2 m^2) = 0.6 deg;
/// a 20 MHz tracking waveform (7.5 m resolution) of 1 ms pulses, 100 integrated per look;
/// noise figure 4 dB, losses 8 dB; 3,000 km instrumented range (forward-based mode).
static AN_TPY_2: RadarParams = RadarParams {
    peak_power_w: 253_000.0,
    antenna_gain_db: 49.1,
    frequency_hz: 9.5e9,
    bandwidth_hz: 20.0e6,
    pulse_width_s: 1.0e-3,
    noise_figure_db: 4.0,
    losses_db: 8.0,
    pulses_integrated: 100,
    pfa: 1e-6,
    beamwidth_deg: 0.6,
    monopulse_slope: 1.6,
    range_floor_m: 2.0,
    angle_floor_deg: 0.01,
    max_instrumented_range_m: 3_000_000.0,
    false_alarms_per_s: 0.1,
};

/// AN/FPS-132 UEWR. Public [MDA, FAS]: 420-450 MHz, faces of 22.1 m with 2,560 active
/// elements of about 340 W (870 kW peak per face), range about 3,000 nmi (5,556 km) with a
/// 2.2 deg beam. Assumed: aperture efficiency 0.55 (37.5 dBi at 435 MHz); one 8 ms
/// long-range pulse per look (PAVE PAWS pulses run 0.25-16 ms), 1 MHz bandwidth (150 m
/// resolution), noise figure 3 dB, losses 6 dB; the public range taken against 10 m^2.
static AN_FPS_132: RadarParams = RadarParams {
    peak_power_w: 870_000.0,
    antenna_gain_db: 37.5,
    frequency_hz: 435.0e6,
    bandwidth_hz: 1.0e6,
    pulse_width_s: 8.0e-3,
    noise_figure_db: 3.0,
    losses_db: 6.0,
    pulses_integrated: 1,
    pfa: 1e-6,
    beamwidth_deg: 2.2,
    monopulse_slope: 1.6,
    range_floor_m: 10.0,
    angle_floor_deg: 0.05,
    max_instrumented_range_m: 5_556_000.0,
    false_alarms_per_s: 0.2,
};

/// AN/MPQ-65 (Patriot). Public [FAS, US Army]: C-band (G/H, about 5.5 GHz), about 5,000
/// elements on an array of about 2.4 m, detection range quoted up to about 170 km.
/// Assumed: 150 kW peak, 39 dBi (efficiency ~0.5), 1.3 deg beam (lambda / D), 5 MHz
/// waveform (30 m resolution) of 40 us pulses, 2 per look; noise figure 5 dB, losses 8 dB;
/// the public range taken against 1 m^2 (a small aircraft); 180 km instrumented.
static AN_MPQ_65: RadarParams = RadarParams {
    peak_power_w: 150_000.0,
    antenna_gain_db: 39.0,
    frequency_hz: 5.5e9,
    bandwidth_hz: 5.0e6,
    pulse_width_s: 40.0e-6,
    noise_figure_db: 5.0,
    losses_db: 8.0,
    pulses_integrated: 2,
    pfa: 1e-6,
    beamwidth_deg: 1.3,
    monopulse_slope: 1.6,
    range_floor_m: 5.0,
    angle_floor_deg: 0.02,
    max_instrumented_range_m: 180_000.0,
    false_alarms_per_s: 0.1,
};

impl RadarKind {
    /// Every kind, in catalog order.
    pub const ALL: [RadarKind; 3] = [RadarKind::AnTpy2, RadarKind::AnFps132, RadarKind::AnMpq65];

    /// The public identifier, as in scenario files.
    pub fn name(self) -> &'static str {
        match self {
            RadarKind::AnTpy2 => "AN/TPY-2",
            RadarKind::AnFps132 => "AN/FPS-132",
            RadarKind::AnMpq65 => "AN/MPQ-65",
        }
    }

    /// Parses a class name, ignoring case; the error lists the known names.
    pub fn parse(name: &str) -> Result<RadarKind, String> {
        RadarKind::ALL
            .into_iter()
            .find(|k| k.name().eq_ignore_ascii_case(name.trim()))
            .ok_or_else(|| {
                let known: Vec<&str> = RadarKind::ALL.iter().map(|k| k.name()).collect();
                format!("unknown radar type {name:?}; known: {}", known.join(", "))
            })
    }

    /// The class's parameters.
    pub fn params(self) -> &'static RadarParams {
        match self {
            RadarKind::AnTpy2 => &AN_TPY_2,
            RadarKind::AnFps132 => &AN_FPS_132,
            RadarKind::AnMpq65 => &AN_MPQ_65,
        }
    }

    /// The publicly quoted detection range this class is modelled after.
    pub fn public_figure(self) -> PublicFigure {
        match self {
            RadarKind::AnTpy2 => PublicFigure {
                range_m: 1_000_000.0,
                rcs_m2: 0.01,
                source: "Sankaran (RAND 2015) after Lewis & Postol: ~1,000 km on a 0.01 m^2 RV",
            },
            RadarKind::AnFps132 => PublicFigure {
                range_m: 5_556_000.0,
                rcs_m2: 10.0,
                source: "MDA/FAS: 3,000 nmi (5,556 km); target size assumed 10 m^2",
            },
            RadarKind::AnMpq65 => PublicFigure {
                range_m: 170_000.0,
                rcs_m2: 1.0,
                source: "FAS/US Army: ~170 km; target size assumed 1 m^2",
            },
        }
    }

    /// Typical coverage: TPY-2 +-60 deg sector, 0-90 deg, 1 s revisit; the UEWR face +-60 deg,
    /// 3-80 deg (PAVE PAWS), 2 s; the MPQ-65 +-45 deg, 0-80 deg, 0.5 s.
    pub fn coverage(self) -> Coverage {
        let (sector_half_width_deg, min_el_deg, max_el_deg, revisit_s) = match self {
            RadarKind::AnTpy2 => (60.0, 0.0, 90.0, 1.0),
            RadarKind::AnFps132 => (60.0, 3.0, 80.0, 2.0),
            RadarKind::AnMpq65 => (45.0, 0.0, 80.0, 0.5),
        };
        Coverage {
            sector_half_width_deg,
            min_el_deg,
            max_el_deg,
            revisit_s,
        }
    }

    /// A site of this class with its typical [`Coverage`].
    pub fn site(
        self,
        id: RadarId,
        call_sign: &str,
        position: GeoPoint,
        height_m: f64,
        boresight_az_deg: f64,
    ) -> RadarSite {
        let c = self.coverage();
        RadarSite {
            id,
            call_sign: call_sign.to_string(),
            kind: self,
            position,
            height_m,
            boresight_az_deg,
            sector_half_width_deg: c.sector_half_width_deg,
            min_el_deg: c.min_el_deg,
            max_el_deg: c.max_el_deg,
            revisit_s: c.revisit_s,
        }
    }
}

/// Range (m) at which a target of mean RCS `rcs_m2` is detected with probability `pd` per
/// look at the radar's Pfa, from the range equation alone (no horizon, no instrumented-range
/// cut): the SNR the [`Swerling`] model needs (North's inverse, or the exact Swerling 1 form)
/// put into the range equation solved for R.
pub fn detection_range_m(params: &RadarParams, rcs_m2: f64, pd: f64, swerling: Swerling) -> f64 {
    let snr = match swerling {
        Swerling::Swerling0 => snr_required_north(pd, params.pfa),
        Swerling::Swerling1 => snr_required_swerling1(pd, params.pfa),
    };
    range_for_snr_m(params, linear_to_db(snr), rcs_m2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::radar::detection::pd_north;
    use crate::radar::equation::integrated_snr;

    #[test]
    fn modelled_ranges_are_near_the_public_figures() {
        for kind in RadarKind::ALL {
            let public = kind.public_figure();
            let r = detection_range_m(kind.params(), public.rcs_m2, 0.5, Swerling::Swerling0);
            let ratio = r / public.range_m;
            assert!(
                (1.0 / 1.5..=1.5).contains(&ratio),
                "{}: modelled {:.0} km, public {:.0} km",
                kind.name(),
                r / 1e3,
                public.range_m / 1e3
            );
            // At that range, Pd is 0.5.
            let pd = pd_north(
                integrated_snr(kind.params(), r, public.rcs_m2),
                kind.params().pfa,
            );
            assert!((pd - 0.5).abs() < 1e-6, "{pd}");
        }
    }

    #[test]
    fn names_round_trip() {
        for kind in RadarKind::ALL {
            assert_eq!(RadarKind::parse(kind.name()), Ok(kind));
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.name()));
            assert_eq!(serde_json::from_str::<RadarKind>(&json).unwrap(), kind);
            let site = kind.site(RadarId(1), "x", GeoPoint::new(10.0, 20.0), 15.0, 90.0);
            assert_eq!(site.validate(), Ok(()));
        }
        assert_eq!(RadarKind::parse("an/tpy-2"), Ok(RadarKind::AnTpy2));
        assert!(RadarKind::parse("SPY-1").unwrap_err().contains("AN/TPY-2"));
    }

    /// Prints the table of `docs/radars.md`:
    /// `cargo test -p sim-core --lib radar::catalog -- --nocapture`.
    #[test]
    fn print_catalog_table() {
        for kind in RadarKind::ALL {
            let p = kind.params();
            let f = kind.public_figure();
            let r0 = detection_range_m(p, f.rcs_m2, 0.5, Swerling::Swerling0);
            let r1 = detection_range_m(p, f.rcs_m2, 0.5, Swerling::Swerling1);
            let r90 = detection_range_m(p, f.rcs_m2, 0.9, Swerling::Swerling1);
            let rv = detection_range_m(p, 0.01, 0.5, Swerling::Swerling0);
            println!(
                "| `{}` | {:.2} m^2 | {:.0} km | {:.0} km | {:.2} | {:.0} km | {:.0} km | {:.0} km |",
                kind.name(),
                f.rcs_m2,
                f.range_m / 1e3,
                r0 / 1e3,
                r0 / f.range_m,
                r1 / 1e3,
                r90 / 1e3,
                rv / 1e3
            );
        }
    }
}
