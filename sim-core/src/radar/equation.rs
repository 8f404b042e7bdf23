//! The monostatic radar range equation: signal-to-noise ratio of a point target.
//!
//! Source: Richards, "Fundamentals of Radar Signal Processing" (2nd ed., McGraw-Hill 2014),
//! eq. 2.43 and sec. 2.3; Skolnik, "Introduction to Radar Systems" (3rd ed., 2001), eq. 2.37
//! with the effective aperture written as G lambda^2 / (4 pi). Single pulse, after the matched
//! filter:
//!
//! ```text
//!            Pt G^2 lambda^2 sigma (tau B)
//! SNR_1 = -----------------------------------        (dimensionless, linear)
//!          (4 pi)^3 R^4 k T0 F B L
//! ```
//!
//! with Pt the peak power (W), G the antenna gain (transmit = receive), lambda the wavelength
//! (m), sigma the radar cross-section (m^2), tau the pulse width (s), B the noise (receiver)
//! bandwidth (Hz), tau B >= 1 the pulse-compression gain, R the range (m), k Boltzmann's
//! constant (J/K), T0 = 290 K the reference temperature, F the noise figure and L the system
//! losses (both >= 1). The B cancels: SNR depends on the pulse energy Pt tau, and B only sets
//! the range resolution c / (2B) (see [`super::measurement`]). Coherent integration of n
//! pulses multiplies SNR by n (Richards sec. 2.4).
//!
//! dB helpers: x_dB = 10 log10(x). Invariant: transcendentals through `libm`.

use super::site::RadarParams;

/// Boltzmann's constant k = 1.380649e-23 J/K (exact since the 2019 SI).
pub const BOLTZMANN_J_K: f64 = 1.380_649e-23;
/// Reference noise temperature T0 = 290 K (IEEE Std 145 / the noise-figure definition).
pub const T0_K: f64 = 290.0;
/// Speed of light in vacuum c = 299,792,458 m/s (exact).
pub const SPEED_OF_LIGHT_M_S: f64 = 299_792_458.0;

/// dB -> linear power ratio: 10^(dB / 10).
pub fn db_to_linear(db: f64) -> f64 {
    libm::pow(10.0, db / 10.0)
}

/// Linear power ratio -> dB: 10 log10(x) (minus infinity for 0).
pub fn linear_to_db(x: f64) -> f64 {
    10.0 * libm::log10(x)
}

/// Wavelength lambda = c / f (m) of a carrier frequency (Hz).
pub fn wavelength_m(frequency_hz: f64) -> f64 {
    SPEED_OF_LIGHT_M_S / frequency_hz
}

/// The range equation of one radar with its decibel figures turned into ratios once (three
/// `pow` calls), for the many looks of a scan: the same products in the same order as
/// [`single_pulse_snr`], so the same bits.
#[derive(Debug, Clone, Copy)]
pub struct RangeEquation<'a> {
    params: &'a RadarParams,
    gain: f64,
    noise_figure: f64,
    losses: f64,
}

impl<'a> RangeEquation<'a> {
    /// The equation of `params`.
    pub fn new(params: &'a RadarParams) -> Self {
        Self {
            params,
            gain: db_to_linear(params.antenna_gain_db),
            noise_figure: db_to_linear(params.noise_figure_db),
            losses: db_to_linear(params.losses_db),
        }
    }

    /// The radar's parameters.
    pub fn params(&self) -> &'a RadarParams {
        self.params
    }

    /// [`single_pulse_snr`].
    pub fn single_pulse_snr(&self, range_m: f64, rcs_m2: f64) -> f64 {
        let params = self.params;
        let pi4 = 4.0 * core::f64::consts::PI;
        let g = self.gain;
        let lambda = params.wavelength_m();
        let compression = (params.pulse_width_s * params.bandwidth_hz).max(1.0);
        let r2 = range_m * range_m;
        let numerator = params.peak_power_w * g * g * lambda * lambda * rcs_m2 * compression;
        let denominator = pi4
            * pi4
            * pi4
            * r2
            * r2
            * BOLTZMANN_J_K
            * T0_K
            * self.noise_figure
            * params.bandwidth_hz
            * self.losses;
        numerator / denominator
    }

    /// [`integrated_snr`].
    pub fn integrated_snr(&self, range_m: f64, rcs_m2: f64) -> f64 {
        f64::from(self.params.pulses_integrated.max(1)) * self.single_pulse_snr(range_m, rcs_m2)
    }
}

/// Single-pulse SNR (linear) from the range equation above, for a target of RCS `rcs_m2` at
/// slant range `range_m`. The pulse-compression gain tau B is taken as at least 1.
pub fn single_pulse_snr(params: &RadarParams, range_m: f64, rcs_m2: f64) -> f64 {
    RangeEquation::new(params).single_pulse_snr(range_m, rcs_m2)
}

/// SNR (linear) after coherent integration of `params.pulses_integrated` pulses: n SNR_1.
pub fn integrated_snr(params: &RadarParams, range_m: f64, rcs_m2: f64) -> f64 {
    RangeEquation::new(params).integrated_snr(range_m, rcs_m2)
}

/// [`integrated_snr`] in dB.
pub fn integrated_snr_db(params: &RadarParams, range_m: f64, rcs_m2: f64) -> f64 {
    linear_to_db(integrated_snr(params, range_m, rcs_m2))
}

/// The range (m) at which the integrated SNR equals `snr_db` for a target of RCS `rcs_m2`:
/// the range equation solved for R, R = (n SNR_1(1 m) / SNR)^(1/4).
pub fn range_for_snr_m(params: &RadarParams, snr_db: f64, rcs_m2: f64) -> f64 {
    let at_one_metre = integrated_snr(params, 1.0, rcs_m2);
    crate::earth::sqrt(crate::earth::sqrt(at_one_metre / db_to_linear(snr_db)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::radar::catalog::RadarKind;

    fn textbook() -> RadarParams {
        RadarParams {
            peak_power_w: 1.0e6,
            antenna_gain_db: 40.0,
            frequency_hz: 3.0e9,
            bandwidth_hz: 1.0e6,
            pulse_width_s: 1.0e-6,
            noise_figure_db: 3.0,
            losses_db: 6.0,
            pulses_integrated: 1,
            ..*RadarKind::AnTpy2.params()
        }
    }

    #[test]
    fn snr_matches_a_hand_computation() {
        // Pt 1 MW, G 40 dB, f 3 GHz, tau B = 1, B 1 MHz, F 3 dB, L 6 dB, sigma 1 m^2, R 100 km,
        // summed term by term in dB, independently of the implementation.
        let lambda: f64 = 299_792_458.0 / 3.0e9;
        let db = 60.0 + 2.0 * 40.0 + 20.0 * lambda.log10() + 0.0
            - 30.0 * (4.0 * std::f64::consts::PI).log10()
            - 40.0 * 1.0e5f64.log10()
            - 10.0 * (1.380_649e-23 * 290.0f64).log10()
            - 3.0
            - 60.0
            - 6.0;
        // Numerically: 60 + 80 - 20.006 - 32.976 - 200 + 203.975 - 3 - 60 - 6 = 21.993 dB.
        assert!((db - 21.993).abs() < 0.01, "{db}");
        let p = textbook();
        let got = integrated_snr_db(&p, 1.0e5, 1.0);
        assert!((got - db).abs() < 0.01, "{got} vs {db}");
        // Pulse compression and coherent integration add 10 log10(tau B) and 10 log10(n).
        let p2 = RadarParams {
            pulse_width_s: 100.0e-6,
            pulses_integrated: 10,
            ..p
        };
        let got2 = integrated_snr_db(&p2, 1.0e5, 1.0);
        assert!((got2 - (db + 20.0 + 10.0)).abs() < 0.01, "{got2}");
    }

    #[test]
    fn fourth_power_law_and_linear_rcs() {
        let p = textbook();
        for r in [1.0e3, 3.3e4, 1.0e5, 7.7e5, 4.0e6] {
            let d = integrated_snr_db(&p, r, 0.1) - integrated_snr_db(&p, 2.0 * r, 0.1);
            assert!((d - 12.041).abs() < 0.001, "doubling {r}: {d}");
            let s = integrated_snr_db(&p, r, 10.0) - integrated_snr_db(&p, r, 1.0);
            assert!((s - 10.0).abs() < 1e-9);
        }
    }

    #[test]
    fn range_for_snr_inverts_the_equation() {
        let p = textbook();
        for snr_db in [-5.0, 0.0, 13.2, 30.0] {
            let r = range_for_snr_m(&p, snr_db, 0.5);
            assert!((integrated_snr_db(&p, r, 0.5) - snr_db).abs() < 1e-9);
        }
        assert!((db_to_linear(linear_to_db(123.4)) - 123.4).abs() < 1e-9);
        assert!((wavelength_m(9.5e9) - 0.031_557).abs() < 1e-6);
    }
}
