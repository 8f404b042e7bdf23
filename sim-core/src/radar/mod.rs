//! Radars: what a sensor can see of a target, by physics, and how badly it measures it.
//!
//! One file per concern, each citing its formula:
//! - [`equation`]: the radar range equation (SNR from power, gain, wavelength, RCS, range).
//! - [`detection`]: Pd from SNR and Pfa (North's approximation; exact Swerling 1), RCS draws.
//! - [`horizon`]: line of sight over the 4/3 effective Earth.
//! - [`measurement`]: range/azimuth/elevation noise shrinking with SNR.
//! - [`site`], [`catalog`]: where a radar stands, its parameters, the public catalog.
//! - [`random`]: Gaussian, exponential and Poisson draws from the seeded generator.
//!
//! The entry points are [`observe`] (one look at one target) and [`false_alarms`] (noise plots
//! over an interval). Both are pure functions of their arguments and the generator: the engine
//! calls them for each radar whose revisit falls in a tick, targets in id order, so a seed
//! gives the same detections natively and in wasm. A look consumes a fixed number of draws
//! when the target is in coverage (one RCS draw for Swerling 1, one detection draw, three
//! noise draws when detected) and none when it is not.
//!
//! Invariant: no truth id enters a [`Detection`]; the caller may keep one beside it for
//! scoring only.

pub mod catalog;
pub mod detection;
pub mod equation;
pub mod horizon;
pub mod measurement;
pub mod random;
pub mod site;
pub mod view;

use nalgebra::Vector3;
use rand_core::RngCore;
use serde::{Deserialize, Serialize};

pub use catalog::RadarKind;
pub use detection::Swerling;
pub use horizon::HorizonParams;
pub use measurement::MeasurementSigmas;
pub use site::{RadarId, RadarParams, RadarSite};
pub use view::{SiteView, TargetView};

use crate::earth::frames::aer_to_enu;
use crate::earth::{Aer, EarthParams, Geodetic};

/// Why a target is outside a radar's coverage, for the UI to explain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CoverageGap {
    /// Hidden by the Earth's curvature (4/3 effective radius).
    BelowHorizon,
    /// Outside the azimuth sector.
    OutsideSector,
    /// Below the lowest or above the highest elevation searched.
    OutsideElevation,
    /// Farther than the radar processes.
    BeyondInstrumentedRange,
}

/// One plot: a measured position in the radar's own frame, and what it means on the globe.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Detection {
    /// Measured slant range (m).
    pub range_m: f64,
    /// Measured azimuth, clockwise from north (rad, [0, 2 pi)).
    pub azimuth_rad: f64,
    /// Measured (geometric) elevation (rad).
    pub elevation_rad: f64,
    /// SNR of this look (dB), after the RCS fluctuation draw.
    pub snr_db: f64,
    /// Latitude of the measured point (deg).
    pub lat_deg: f64,
    /// Longitude of the measured point (deg).
    pub lon_deg: f64,
    /// Height of the measured point above the ellipsoid (m).
    pub alt_m: f64,
    /// Standard deviations of this measurement (the tracker's R matrix).
    pub sigmas: MeasurementSigmas,
}

/// The outcome of one look at one target.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum Observation {
    /// The radar cannot see the target at all.
    NotInCoverage {
        /// Why.
        reason: CoverageGap,
    },
    /// In coverage, but the echo did not cross the threshold this time.
    Missed {
        /// SNR of this look (dB), after the RCS fluctuation draw.
        snr_db: f64,
        /// Probability of detection of this look at that SNR.
        pd: f64,
    },
    /// Detected: a noisy plot.
    Detected(Detection),
}

/// Geometry of a target seen from a site.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Geometry {
    /// Geometric azimuth, elevation and slant range.
    pub aer: Aer,
    /// Elevation over the 4/3 Earth (refracted, rad): what the elevation limits apply to.
    pub effective_elevation_rad: f64,
    /// Height of the target above the ellipsoid (m).
    pub target_alt_m: f64,
    /// Ground distance from the site (m, on the mean sphere).
    pub ground_m: f64,
    /// Whether the straight ray over the 4/3 Earth clears the horizon
    /// ([`HorizonParams::line_of_sight`]).
    pub line_of_sight: bool,
}

/// The site's antenna as a geodetic point.
fn antenna(site: &RadarSite) -> Geodetic {
    site.position.to_geodetic(site.height_m)
}

/// Where a target (ECEF, m) is seen from a site ([`SiteView::geometry`] of the two views; a
/// scan prepares the views once instead).
pub fn geometry(site: &RadarSite, earth: &EarthParams, target_ecef: &Vector3<f64>) -> Geometry {
    SiteView::new(site, earth).geometry(&TargetView::new(earth, target_ecef))
}

/// The refraction model on this Earth: k = 4/3 over its range radius.
pub fn horizon_params(earth: &EarthParams) -> HorizonParams {
    HorizonParams {
        earth_radius_m: earth.range_radius_m(),
        ..HorizonParams::default()
    }
}

/// Whether the target is in coverage, and if not why: instrumented range, then the horizon,
/// then the azimuth sector, then the elevation limits (refracted elevation).
pub fn coverage(site: &RadarSite, params: &RadarParams, g: &Geometry) -> Option<CoverageGap> {
    if g.aer.range_m > params.max_instrumented_range_m {
        return Some(CoverageGap::BeyondInstrumentedRange);
    }
    if !g.line_of_sight {
        return Some(CoverageGap::BelowHorizon);
    }
    if azimuth_offset_deg(site, g.aer.azimuth_rad).abs() > site.sector_half_width_deg {
        return Some(CoverageGap::OutsideSector);
    }
    let el_deg = g.effective_elevation_rad.to_degrees();
    if el_deg < site.min_el_deg || el_deg > site.max_el_deg {
        return Some(CoverageGap::OutsideElevation);
    }
    None
}

/// Signed angle (deg, in [-180, 180)) from the site's boresight to an azimuth (rad).
fn azimuth_offset_deg(site: &RadarSite, azimuth_rad: f64) -> f64 {
    let d = libm::fmod(
        azimuth_rad.to_degrees() - site.boresight_az_deg + 180.0,
        360.0,
    );
    (if d < 0.0 { d + 360.0 } else { d }) - 180.0
}

/// A cheap, conservative test that a target cannot be in a site's coverage: beyond the
/// instrumented range, or outside the azimuth sector, each by a margin far above rounding
/// (1e-9 of the range, 1e-6 degrees). `false` says nothing; `true` means [`coverage`] would
/// refuse it too, so [`observe`] would return `NotInCoverage` without drawing a random number.
/// One square root-free distance and at most one arctangent, against [`geometry`]'s geodetic
/// conversion, great-circle angle and refraction: a scan skips most of a raid's far targets.
#[derive(Debug, Clone, Copy)]
pub struct CoverageCull {
    origin: Vector3<f64>,
    east: Vector3<f64>,
    north: Vector3<f64>,
    max_range2_m2: f64,
    sector: Option<(f64, f64)>,
}

impl CoverageCull {
    /// The cull of one site.
    pub fn new(site: &RadarSite, params: &RadarParams, earth: &EarthParams) -> Self {
        let g = antenna(site);
        let origin = earth.ellipsoid().geodetic_to_ecef(&g);
        let [east, north, _] = crate::earth::Ellipsoid::enu_basis(g.lat_rad, g.lon_rad);
        let r = params.max_instrumented_range_m * (1.0 + 1e-9);
        Self {
            origin,
            east,
            north,
            max_range2_m2: r * r,
            sector: (site.sector_half_width_deg < 180.0)
                .then_some((site.boresight_az_deg, site.sector_half_width_deg + 1e-6)),
        }
    }

    /// Whether the target (ECEF, m) is certainly out of coverage.
    pub fn certainly_outside(&self, target_ecef: &Vector3<f64>) -> bool {
        let d = target_ecef - self.origin;
        if d.norm_squared() > self.max_range2_m2 {
            return true;
        }
        let Some((boresight_deg, half_deg)) = self.sector else {
            return false;
        };
        let az_deg = libm::atan2(self.east.dot(&d), self.north.dot(&d)).to_degrees();
        let off = libm::fmod(az_deg - boresight_deg + 540.0, 360.0);
        let off = (if off < 0.0 { off + 360.0 } else { off }) - 180.0;
        off.abs() > half_deg
    }
}

/// The measured AER turned into a [`Detection`] with its geodetic position.
fn plot(view: &SiteView, measured: &Aer, snr_db: f64, sigmas: MeasurementSigmas) -> Detection {
    let ecef = view.enu_to_ecef(&aer_to_enu(measured));
    let g = view.ellipsoid().ecef_to_geodetic(&ecef);
    Detection {
        range_m: measured.range_m,
        azimuth_rad: measured.azimuth_rad,
        elevation_rad: measured.elevation_rad,
        snr_db,
        lat_deg: g.lat_rad.to_degrees(),
        lon_deg: g.lon_rad.to_degrees(),
        alt_m: g.alt_m,
        sigmas,
    }
}

/// One look by a radar at a target of mean RCS `rcs_m2` at `target_ecef` (ECEF, m).
///
/// Coverage first ([`coverage`]; no draw when out of it). Then the RCS of this look is drawn
/// ([`Swerling::draw_rcs_m2`]), the integrated SNR follows from the range equation, Pd from
/// North's approximation at that SNR, and a uniform draw decides detection; a detection
/// carries the true geometric AER plus Gaussian noise of [`measurement::sigmas`] at that SNR.
pub fn observe(
    site: &RadarSite,
    params: &RadarParams,
    earth: &EarthParams,
    target_ecef: &Vector3<f64>,
    rcs_m2: f64,
    swerling: Swerling,
    rng: &mut impl RngCore,
) -> Observation {
    let equation = equation::RangeEquation::new(params);
    let view = SiteView::new(site, earth);
    let target = TargetView::new(earth, target_ecef);
    observe_with(site, &view, &equation, &target, rcs_m2, swerling, rng)
}

/// [`observe`] with the site's view and range equation prepared once for a whole scan, and
/// the target's view once for every radar looking at it in this instant: the same draws and
/// the same numbers.
pub fn observe_with(
    site: &RadarSite,
    view: &SiteView,
    equation: &equation::RangeEquation<'_>,
    target: &TargetView,
    rcs_m2: f64,
    swerling: Swerling,
    rng: &mut impl RngCore,
) -> Observation {
    let params = equation.params();
    let g = view.geometry(target);
    if let Some(reason) = coverage(site, params, &g) {
        return Observation::NotInCoverage { reason };
    }
    let look_rcs_m2 = swerling.draw_rcs_m2(rcs_m2, rng);
    let snr = equation.integrated_snr(g.aer.range_m, look_rcs_m2);
    let snr_db = equation::linear_to_db(snr);
    let pd = detection::pd_north(snr, params.pfa);
    if random::uniform(rng) >= pd {
        return Observation::Missed { snr_db, pd };
    }
    let sigmas = measurement::sigmas(params, snr);
    let measured = measurement::noisy_aer(&g.aer, &sigmas, rng);
    Observation::Detected(plot(view, &measured, snr_db, sigmas))
}

/// False plots of one radar over `dt_s` seconds: a Poisson number of mean
/// `params.false_alarms_per_s * dt_s`, each uniform over the coverage volume (range r with
/// density ~ r^2 up to the instrumented range: r = R_max cbrt(u); azimuth uniform in the
/// sector; sin(elevation) uniform between the limits), with the SNR of a threshold crossing,
/// ln(1/Pfa) (the square-law threshold over the noise power), and the sigmas at that SNR.
/// Draws: the Poisson count, then three uniforms per plot. Plots are not clipped by the
/// horizon or the ground: they are noise.
pub fn false_alarms(
    site: &RadarSite,
    params: &RadarParams,
    earth: &EarthParams,
    dt_s: f64,
    rng: &mut impl RngCore,
) -> Vec<Detection> {
    let count = random::poisson(rng, params.false_alarms_per_s * dt_s);
    let snr = -libm::log(params.pfa);
    let snr_db = equation::linear_to_db(snr);
    let sigmas = measurement::sigmas(params, snr);
    let (sin_lo, sin_hi) = (
        libm::sin(site.min_el_deg.to_radians()),
        libm::sin(site.max_el_deg.to_radians()),
    );
    let two_pi = 2.0 * core::f64::consts::PI;
    let view = SiteView::new(site, earth);
    (0..count)
        .map(|_| {
            let range_m = params.max_instrumented_range_m * libm::cbrt(random::uniform(rng));
            let offset_deg = site.sector_half_width_deg * (2.0 * random::uniform(rng) - 1.0);
            let mut azimuth_rad =
                libm::fmod((site.boresight_az_deg + offset_deg).to_radians(), two_pi);
            if azimuth_rad < 0.0 {
                azimuth_rad += two_pi;
            }
            let elevation_rad = libm::asin(sin_lo + (sin_hi - sin_lo) * random::uniform(rng));
            let aer = Aer {
                azimuth_rad,
                elevation_rad,
                range_m,
            };
            plot(&view, &aer, snr_db, sigmas)
        })
        .collect()
}
