//! A radar site (where it stands and where it looks) and the parameters of its radar.
//!
//! Angles in these structs are degrees (as scenario files carry them) and say so in their
//! names; the models convert to radians. Invariant: plain serde data, no behaviour beyond
//! small derived quantities.

use serde::{Deserialize, Serialize};

use super::catalog::RadarKind;
use super::equation::wavelength_m;
use crate::earth::GeoPoint;
use crate::limits;

/// The id of a radar in a simulation: a small `Copy` handle, never reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RadarId(pub u32);

impl core::fmt::Display for RadarId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "R{}", self.0)
    }
}

/// Where a radar stands and the volume it searches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RadarSite {
    /// Its id.
    pub id: RadarId,
    /// Call sign shown to the user (e.g. `"Vandenberg TPY-2"`).
    pub call_sign: String,
    /// Radar class; [`RadarKind::params`] gives its [`RadarParams`].
    pub kind: RadarKind,
    /// Position of the antenna.
    pub position: GeoPoint,
    /// Height of the antenna's phase centre above the WGS84 ellipsoid (m): terrain height plus
    /// mast (terrain is not modelled, so this is what the horizon sees from).
    pub height_m: f64,
    /// Azimuth of the sector's centre (deg, clockwise from north).
    pub boresight_az_deg: f64,
    /// Half-width of the azimuth sector (deg); 180 for all-round coverage.
    pub sector_half_width_deg: f64,
    /// Lowest (refracted) elevation searched (deg).
    pub min_el_deg: f64,
    /// Highest elevation searched (deg).
    pub max_el_deg: f64,
    /// Time between two looks at the same target (s): the scan or revisit period, from
    /// [`MIN_REVISIT_S`] to [`MAX_REVISIT_S`].
    pub revisit_s: f64,
}

/// The radar itself: transmitter, antenna, receiver and signal processing.
///
/// The catalog ([`super::catalog`]) documents public figures and the assumptions that fill
/// the gaps; `pulses_integrated` and `pulse_width_s` together stand for the dwell energy.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RadarParams {
    /// Peak transmitted power Pt (W).
    pub peak_power_w: f64,
    /// Antenna gain G, transmit and receive (dBi).
    pub antenna_gain_db: f64,
    /// Carrier frequency f (Hz); wavelength c / f.
    pub frequency_hz: f64,
    /// Receiver (waveform) bandwidth B (Hz); sets the range resolution c / (2B).
    pub bandwidth_hz: f64,
    /// Pulse width tau (s); tau B is the pulse-compression gain.
    pub pulse_width_s: f64,
    /// Receiver noise figure F (dB).
    pub noise_figure_db: f64,
    /// Total system losses L (dB): transmit, receive, atmosphere, beam shape, processing.
    pub losses_db: f64,
    /// Pulses integrated coherently per look, n (SNR gain n).
    pub pulses_integrated: u32,
    /// Probability of false alarm per detection cell, Pfa.
    pub pfa: f64,
    /// Two-way 3 dB beamwidth theta_3dB (deg), the same in azimuth and elevation.
    pub beamwidth_deg: f64,
    /// Monopulse slope k_m (about 1.6 for amplitude-comparison monopulse).
    pub monopulse_slope: f64,
    /// Range error floor (m), root-sum-squared with the SNR-dependent part.
    pub range_floor_m: f64,
    /// Angle error floor (deg), root-sum-squared with the SNR-dependent part.
    pub angle_floor_deg: f64,
    /// Largest range the radar processes (m).
    pub max_instrumented_range_m: f64,
    /// False plots per second over the whole coverage volume after CFAR and plot extraction
    /// (physically Pfa times the detection cells examined per second).
    pub false_alarms_per_s: f64,
}

impl RadarParams {
    /// Wavelength lambda = c / f (m).
    pub fn wavelength_m(&self) -> f64 {
        wavelength_m(self.frequency_hz)
    }
}

/// Shortest revisit period accepted (s): [`crate::limits::RADAR_REVISIT`].
pub const MIN_REVISIT_S: f64 = limits::RADAR_REVISIT.min;
/// Longest revisit period accepted (s): [`crate::limits::RADAR_REVISIT`].
pub const MAX_REVISIT_S: f64 = limits::RADAR_REVISIT.max;

impl RadarSite {
    /// The catalog parameters of this site's radar class.
    pub fn params(&self) -> &'static RadarParams {
        self.kind.params()
    }

    /// Checks every field against its range in [`crate::limits`]; the error is one sentence
    /// naming the radar.
    pub fn validate(&self) -> Result<(), String> {
        limits::CALL_SIGN
            .named("radar call sign")
            .check(&self.call_sign)?;
        let who = &self.call_sign;
        let within =
            |r: &limits::Range, v: f64| r.check(v).map_err(|e| format!("radar {who}: {e}"));
        self.position
            .validate()
            .map_err(|e| format!("radar {who}: {e}"))?;
        within(&limits::RADAR_HEIGHT, self.height_m)?;
        within(&limits::RADAR_BORESIGHT, self.boresight_az_deg)?;
        // A range, not a sign: a revisit of 1e-300 s is positive and would have the scan
        // schedule add it to the next scan time forever.
        within(&limits::RADAR_REVISIT, self.revisit_s)?;
        within(&limits::RADAR_SECTOR_HALF_WIDTH, self.sector_half_width_deg)?;
        within(&limits::RADAR_ELEVATION, self.min_el_deg)?;
        within(&limits::RADAR_ELEVATION, self.max_el_deg)?;
        if self.min_el_deg >= self.max_el_deg {
            return Err(format!(
                "radar {who}: the lowest elevation {} must be below the highest {} degrees",
                limits::shown(self.min_el_deg),
                limits::shown(self.max_el_deg)
            ));
        }
        Ok(())
    }
}
