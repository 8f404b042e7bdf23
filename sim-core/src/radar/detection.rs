//! Probability of detection from SNR and the false-alarm probability, with Swerling
//! fluctuation of the radar cross-section.
//!
//! **Non-fluctuating target (Swerling 0/V): North's approximation** (D. O. North, "An analysis
//! of the factors which determine signal/noise discrimination in pulsed-carrier systems", RCA
//! Tech. Rep. PTR-6C, 1943; reprinted Proc. IEEE 51(7), 1963; as quoted in Richards,
//! "Fundamentals of Radar Signal Processing", 2nd ed., sec. 6.2):
//!
//! ```text
//! Pd = 0.5 erfc( sqrt(-ln Pfa) - sqrt(SNR + 0.5) )        (SNR linear, single pulse)
//! ```
//!
//! Why North rather than Albersheim: both are closed forms, but against the exact curves
//! (Marcum's Q, tabulated in the tests) North stays within 0.16 dB over Pd 0.1-0.9 and
//! Pfa 1e-3..1e-7 (at Pfa 1e-6, Pd 0.9: 13.20 dB against the exact 13.18 dB), while
//! Albersheim's equation with one pulse (as implemented here from the published form) falls
//! 0.8 dB (Pfa 1e-6) to 4 dB (Pfa 1e-3) short at Pd 0.1; Albersheim is also
//! fitted only for 0.1 <= Pd <= 0.9, 1e-7 <= Pfa <= 1e-3, whereas North's Gaussian form stays
//! a proper probability, monotone in SNR, from Pd ~ 0 to Pd ~ 1, and a simulated target sweeps
//! the whole curve as it closes.
//! The SNR is the integrated SNR of [`super::equation`] (coherent integration), so the
//! single-pulse form applies. Albersheim's required SNR ([`albersheim_required_snr_db`],
//! W. J. Albersheim, "A closed-form approximation to Robertson's detection characteristics",
//! Proc. IEEE 69(7), 1981) is kept as an independent cross-check.
//!
//! **Swerling 1 (slow, scan-to-scan fluctuation, exponential RCS): exact closed form** for a
//! single pulse and a square-law detector, Pd = Pfa^(1 / (1 + SNR)) (Richards sec. 6.3.1;
//! Skolnik 3rd ed. sec. 2.8), SNR being the mean SNR. In the simulation the fluctuation is
//! drawn instead: each look draws sigma from the exponential law of mean sigma_bar
//! ([`Swerling::draw_rcs_m2`]) and applies the non-fluctuating curve to that look's SNR;
//! averaged over draws this reproduces the Swerling 1 curve (tested).

use rand_core::RngCore;
use serde::{Deserialize, Serialize};

use super::random;

/// The Swerling model of a target's RCS fluctuation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Swerling {
    /// Swerling 0 (also "V"): constant RCS, as for a sphere or a stable RV seen nose-on.
    Swerling0,
    /// Swerling 1: RCS exponentially distributed (chi-square, 2 degrees of freedom), constant
    /// during a look and independent from scan to scan: many comparable scatterers, e.g. a
    /// tumbling booster body. The default, as the conservative choice for detection.
    #[default]
    Swerling1,
}

impl Swerling {
    /// The RCS of one look (m^2): the mean itself for Swerling 0; for Swerling 1 an exponential
    /// draw of mean `mean_rcs_m2` by inverse transform, -sigma_bar ln(u) (one `u64` drawn).
    pub fn draw_rcs_m2(self, mean_rcs_m2: f64, rng: &mut impl RngCore) -> f64 {
        match self {
            Swerling::Swerling0 => mean_rcs_m2,
            Swerling::Swerling1 => random::exponential(rng, mean_rcs_m2),
        }
    }

    /// Single-look probability of detection at the mean SNR (linear) for this model: North's
    /// approximation for Swerling 0, the exact Pfa^(1/(1+SNR)) for Swerling 1.
    pub fn pd(self, mean_snr: f64, pfa: f64) -> f64 {
        match self {
            Swerling::Swerling0 => pd_north(mean_snr, pfa),
            Swerling::Swerling1 => pd_swerling1(mean_snr, pfa),
        }
    }
}

/// North's approximation for a non-fluctuating target: Pd = 0.5 erfc(sqrt(-ln Pfa) -
/// sqrt(SNR + 0.5)), SNR linear (negative SNR is clamped to 0).
pub fn pd_north(snr: f64, pfa: f64) -> f64 {
    let snr = snr.max(0.0);
    0.5 * libm::erfc(crate::earth::sqrt(-libm::log(pfa)) - crate::earth::sqrt(snr + 0.5))
}

/// Swerling 1, single pulse, square-law detector: Pd = Pfa^(1/(1 + SNR)) (exact), SNR the
/// mean SNR (linear).
pub fn pd_swerling1(mean_snr: f64, pfa: f64) -> f64 {
    libm::pow(pfa, 1.0 / (1.0 + mean_snr.max(0.0)))
}

/// SNR (linear) that North's approximation needs for `pd` at `pfa`, its exact inverse:
/// SNR = (sqrt(-ln Pfa) - erfc^-1(2 Pd))^2 - 0.5, the inverse erfc by bisection (monotone).
pub fn snr_required_north(pd: f64, pfa: f64) -> f64 {
    // erfc is decreasing: find x with erfc(x) = 2 pd.
    let target = 2.0 * pd;
    let (mut lo, mut hi) = (-10.0_f64, 10.0_f64);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if libm::erfc(mid) > target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let x = 0.5 * (lo + hi);
    let s = crate::earth::sqrt(-libm::log(pfa)) - x;
    (s * s - 0.5).max(0.0)
}

/// SNR (linear) for `pd` at `pfa` on a Swerling 1 target: SNR = ln Pfa / ln Pd - 1 (exact).
pub fn snr_required_swerling1(pd: f64, pfa: f64) -> f64 {
    libm::log(pfa) / libm::log(pd) - 1.0
}

/// Albersheim's required single-look SNR (dB) for `pd` at `pfa` with `n` non-coherently
/// integrated pulses, non-fluctuating target, linear detector (Albersheim 1981; stated error
/// < 0.2 dB for 0.1 <= Pd <= 0.9, 1e-7 <= Pfa <= 1e-3, 1 <= n <= 8096):
/// SNR_dB = -5 log10 n + (6.2 + 4.54 / sqrt(n + 0.44)) log10(A + 0.12 A B + 1.7 B), with
/// A = ln(0.62 / Pfa), B = ln(Pd / (1 - Pd)).
pub fn albersheim_required_snr_db(pd: f64, pfa: f64, n: u32) -> f64 {
    let n = f64::from(n.max(1));
    let a = libm::log(0.62 / pfa);
    let b = libm::log(pd / (1.0 - pd));
    -5.0 * libm::log10(n)
        + (6.2 + 4.54 / crate::earth::sqrt(n + 0.44)) * libm::log10(a + 0.12 * a * b + 1.7 * b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::radar::equation::{db_to_linear, linear_to_db};
    use rand_chacha::ChaCha8Rng;
    use rand_core::SeedableRng;

    #[test]
    fn published_table_values() {
        // Pfa 1e-6, Pd 0.9: about 13.2 dB non-fluctuating, 21.1 dB Swerling 1 (Richards
        // fig. 6-8 / Skolnik fig. 2.7 and table).
        let north = linear_to_db(snr_required_north(0.9, 1e-6));
        assert!((north - 13.2).abs() < 0.2, "North {north}");
        let alb = albersheim_required_snr_db(0.9, 1e-6, 1);
        assert!((alb - 13.1).abs() < 0.1, "Albersheim {alb}");
        let sw1 = linear_to_db(snr_required_swerling1(0.9, 1e-6));
        assert!((sw1 - 21.14).abs() < 0.02, "Swerling 1 {sw1}");
        // Pd at the SNR the approximation gives for 0.9 is 0.9.
        assert!((pd_north(snr_required_north(0.9, 1e-6), 1e-6) - 0.9).abs() < 1e-9);
        assert!((pd_swerling1(snr_required_swerling1(0.9, 1e-6), 1e-6) - 0.9).abs() < 1e-12);
        // Pd 0.5 at Pfa 1e-6 needs about 11.2 dB non-fluctuating.
        let half = linear_to_db(snr_required_north(0.5, 1e-6));
        assert!((half - 11.2).abs() < 0.2, "{half}");
    }

    /// Exact single-pulse SNR (dB) of a non-fluctuating target, square-law or linear detector:
    /// Pd = Q1(sqrt(2 SNR), sqrt(-2 ln Pfa)) (Marcum's Q; Robertson's curves), computed for
    /// this table by numerical integration of the Rician density. (Pfa, [Pd 0.1, 0.3, 0.5,
    /// 0.7, 0.9]).
    const EXACT_DB: [(f64, [f64; 5]); 3] = [
        (1e-3, [4.08, 6.65, 8.06, 9.27, 10.76]),
        (1e-6, [8.73, 10.30, 11.24, 12.09, 13.18]),
        (1e-7, [9.65, 11.07, 11.94, 12.72, 13.74]),
    ];

    #[test]
    fn north_is_within_a_fifth_of_a_db_of_the_exact_curves() {
        for (pfa, row) in EXACT_DB {
            for (i, exact) in row.into_iter().enumerate() {
                let pd = 0.1 + 0.2 * i as f64;
                let north = linear_to_db(snr_required_north(pd, pfa));
                assert!(
                    (north - exact).abs() < 0.2,
                    "pfa {pfa} pd {pd}: {north} vs {exact}"
                );
                // And the Pd North gives at the exact SNR is within a few hundredths.
                let back = pd_north(db_to_linear(exact), pfa);
                assert!((back - pd).abs() < 0.03, "pfa {pfa} pd {pd}: {back}");
                // Albersheim (n = 1) holds 0.3 dB from Pd 0.3 up, but at Pd 0.1 it falls
                // 0.8-4 dB short: one reason to prefer North.
                let alb = albersheim_required_snr_db(pd, pfa, 1);
                if pd > 0.2 {
                    assert!(
                        (alb - exact).abs() < 0.3,
                        "pfa {pfa} pd {pd}: Albersheim {alb}"
                    );
                } else {
                    assert!(exact - alb > 0.7, "pfa {pfa} pd {pd}: Albersheim {alb}");
                }
            }
        }
    }

    #[test]
    fn monotone_and_limits() {
        for pfa in [1e-3, 1e-6, 1e-9] {
            for model in [Swerling::Swerling0, Swerling::Swerling1] {
                let mut prev = 0.0;
                for i in 0..400 {
                    let snr_db = -20.0 + 0.125 * f64::from(i);
                    let pd = model.pd(db_to_linear(snr_db), pfa);
                    assert!((0.0..=1.0).contains(&pd));
                    assert!(pd >= prev, "{model:?} {pfa} {snr_db}");
                    prev = pd;
                }
                assert!(model.pd(0.0, pfa) < 0.005, "{model:?} {pfa}");
                assert!(model.pd(db_to_linear(60.0), pfa) > 0.99);
            }
            // Fluctuation costs SNR at high Pd and helps at low Pd.
            assert!(pd_swerling1(db_to_linear(15.0), pfa) < pd_north(db_to_linear(15.0), pfa));
        }
        assert_eq!(pd_swerling1(0.0, 1e-6), 1e-6);
    }

    #[test]
    fn drawn_fluctuation_reproduces_the_swerling1_curve() {
        let mut rng = ChaCha8Rng::seed_from_u64(42);
        let pfa = 1e-6;
        for mean_db in [12.0, 16.0, 20.0, 24.0] {
            let mean = db_to_linear(mean_db);
            let n = 40_000;
            let mut pd_sum = 0.0;
            for _ in 0..n {
                // SNR is proportional to RCS: draw the RCS with mean 1 and scale.
                let snr = mean * Swerling::Swerling1.draw_rcs_m2(1.0, &mut rng);
                pd_sum += pd_north(snr, pfa);
            }
            let mc = pd_sum / f64::from(n);
            let exact = pd_swerling1(mean, pfa);
            assert!(
                (mc - exact).abs() < 0.03,
                "{mean_db} dB: drawn {mc}, exact {exact}"
            );
        }
        assert_eq!(Swerling::Swerling0.draw_rcs_m2(0.3, &mut rng), 0.3);
    }
}
