//! Measurement noise in range, azimuth and elevation, shrinking with SNR.
//!
//! Sources: Richards, "Fundamentals of Radar Signal Processing" (2nd ed.), sec. 7.1 (the
//! Cramér-Rao-type accuracy of a measurement is its resolution divided by sqrt(2 SNR));
//! Skolnik, "Introduction to Radar Systems" (3rd ed.), sec. 4.2 (monopulse) and 6.3 (range
//! accuracy); Barton, "Radar System Analysis and Modeling" (2005), ch. 4 (bias floors).
//!
//! ```text
//! sigma_R     = dR / sqrt(2 SNR),            dR = c / (2 B)          (m)
//! sigma_angle = theta_3dB / (k_m sqrt(2 SNR)),  k_m ~ 1.6 monopulse  (rad)
//! ```
//!
//! each root-sum-squared with a floor (the residual of bias, quantisation and calibration
//! errors that no SNR removes): sigma = sqrt(sigma_snr^2 + floor^2). The same beamwidth is
//! used in azimuth and elevation (a square aperture). Errors are drawn as independent
//! Gaussians by Box-Muller ([`super::random::standard_normal`]) from the seeded generator.
//!
//! The measurement lives in the radar's own AER frame, geometric (the radar is assumed to
//! correct refraction), so a tracker uses [`crate::earth::frames::aer_to_enu`] as its
//! measurement model. Invariant: transcendentals via `libm`.

use rand_core::RngCore;
use serde::{Deserialize, Serialize};

use super::equation::SPEED_OF_LIGHT_M_S;
use super::random::standard_normal;
use super::site::RadarParams;
use crate::earth::Aer;

/// Standard deviations of one measurement.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MeasurementSigmas {
    /// Range standard deviation (m).
    pub range_m: f64,
    /// Azimuth standard deviation (rad).
    pub azimuth_rad: f64,
    /// Elevation standard deviation (rad).
    pub elevation_rad: f64,
}

/// Range resolution dR = c / (2 B) (m) for a bandwidth in Hz.
pub fn range_resolution_m(bandwidth_hz: f64) -> f64 {
    SPEED_OF_LIGHT_M_S / (2.0 * bandwidth_hz)
}

/// The sigmas at a linear SNR (clamped to at least 1, where the formulas stop meaning much):
/// dR / sqrt(2 SNR) and theta_3dB / (k_m sqrt(2 SNR)), each root-sum-squared with its floor.
pub fn sigmas(params: &RadarParams, snr: f64) -> MeasurementSigmas {
    let root = crate::earth::sqrt(2.0 * snr.max(1.0));
    let range = range_resolution_m(params.bandwidth_hz) / root;
    let angle = params.beamwidth_deg.to_radians() / (params.monopulse_slope * root);
    let angle_floor = params.angle_floor_deg.to_radians();
    MeasurementSigmas {
        range_m: crate::earth::sqrt(range * range + params.range_floor_m * params.range_floor_m),
        azimuth_rad: crate::earth::sqrt(angle * angle + angle_floor * angle_floor),
        elevation_rad: crate::earth::sqrt(angle * angle + angle_floor * angle_floor),
    }
}

/// A noisy copy of the true AER: each coordinate plus a zero-mean Gaussian of its sigma (three
/// normal draws, in the order range, azimuth, elevation). Azimuth is wrapped to [0, 2 pi),
/// elevation clamped to [-pi/2, pi/2], range kept positive.
pub fn noisy_aer(truth: &Aer, s: &MeasurementSigmas, rng: &mut impl RngCore) -> Aer {
    let two_pi = 2.0 * core::f64::consts::PI;
    let half_pi = 0.5 * core::f64::consts::PI;
    let range_m = (truth.range_m + s.range_m * standard_normal(rng)).max(0.0);
    let mut azimuth_rad = libm::fmod(
        truth.azimuth_rad + s.azimuth_rad * standard_normal(rng),
        two_pi,
    );
    if azimuth_rad < 0.0 {
        azimuth_rad += two_pi;
    }
    let elevation_rad =
        (truth.elevation_rad + s.elevation_rad * standard_normal(rng)).clamp(-half_pi, half_pi);
    Aer {
        azimuth_rad,
        elevation_rad,
        range_m,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::radar::catalog::RadarKind;
    use rand_chacha::ChaCha8Rng;
    use rand_core::SeedableRng;

    fn no_floors() -> RadarParams {
        RadarParams {
            range_floor_m: 0.0,
            angle_floor_deg: 0.0,
            ..*RadarKind::AnTpy2.params()
        }
    }

    #[test]
    fn sigmas_shrink_as_one_over_root_snr() {
        let p = no_floors();
        let base = sigmas(&p, 10.0);
        for k in [4.0, 16.0, 100.0, 1e4] {
            let s = sigmas(&p, 10.0 * k);
            let f = 1.0 / crate::earth::sqrt(k);
            assert!((s.range_m / base.range_m - f).abs() < 1e-12);
            assert!((s.azimuth_rad / base.azimuth_rad - f).abs() < 1e-12);
            assert!((s.elevation_rad / base.elevation_rad - f).abs() < 1e-12);
        }
        // Closed form at SNR 50 (17 dB): c / (2B) / 10 and theta / (1.6 * 10).
        let s = sigmas(&p, 50.0);
        assert!((s.range_m - range_resolution_m(p.bandwidth_hz) / 10.0).abs() < 1e-9);
        let theta = p.beamwidth_deg.to_radians();
        assert!((s.azimuth_rad - theta / (p.monopulse_slope * 10.0)).abs() < 1e-15);
        assert!((range_resolution_m(1.0e6) - 149.896_229).abs() < 1e-6);
    }

    #[test]
    fn floors_bound_the_sigmas_from_below() {
        let p = RadarParams {
            range_floor_m: 5.0,
            angle_floor_deg: 0.01,
            ..no_floors()
        };
        let s = sigmas(&p, 1e12);
        assert!((s.range_m - 5.0).abs() < 1e-3);
        assert!((s.azimuth_rad - 0.01f64.to_radians()).abs() < 1e-7);
    }

    #[test]
    fn sample_statistics_match_the_sigmas() {
        let mut rng = ChaCha8Rng::seed_from_u64(2026);
        let truth = Aer {
            azimuth_rad: 1.0,
            elevation_rad: 0.2,
            range_m: 500_000.0,
        };
        let s = MeasurementSigmas {
            range_m: 30.0,
            azimuth_rad: 1e-3,
            elevation_rad: 2e-3,
        };
        let n = 50_000;
        let mut sums = [0.0; 3];
        let mut squares = [0.0; 3];
        for _ in 0..n {
            let m = noisy_aer(&truth, &s, &mut rng);
            let d = [
                m.range_m - truth.range_m,
                m.azimuth_rad - truth.azimuth_rad,
                m.elevation_rad - truth.elevation_rad,
            ];
            for i in 0..3 {
                sums[i] += d[i];
                squares[i] += d[i] * d[i];
            }
        }
        let want = [s.range_m, s.azimuth_rad, s.elevation_rad];
        for i in 0..3 {
            let mean = sums[i] / f64::from(n);
            let sd = crate::earth::sqrt(squares[i] / f64::from(n) - mean * mean);
            assert!(
                (sd / want[i] - 1.0).abs() < 0.02,
                "axis {i}: {sd} vs {}",
                want[i]
            );
            assert!(mean.abs() < 0.02 * want[i], "axis {i}: bias {mean}");
        }
        // Same seed, same draws.
        let a = noisy_aer(&truth, &s, &mut ChaCha8Rng::seed_from_u64(1));
        let b = noisy_aer(&truth, &s, &mut ChaCha8Rng::seed_from_u64(1));
        assert_eq!(a, b);
    }

    #[test]
    fn azimuth_wraps_around_north() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let truth = Aer {
            azimuth_rad: 1e-6,
            elevation_rad: 0.0,
            range_m: 1000.0,
        };
        let s = MeasurementSigmas {
            range_m: 1.0,
            azimuth_rad: 0.01,
            elevation_rad: 0.01,
        };
        for _ in 0..1000 {
            let m = noisy_aer(&truth, &s, &mut rng);
            assert!((0.0..2.0 * core::f64::consts::PI).contains(&m.azimuth_rad));
        }
    }
}
