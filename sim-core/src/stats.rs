//! Statistics for Monte Carlo runs: the binomial proportion and its confidence interval.
//!
//! Wilson score interval (E. B. Wilson, "Probable inference, the law of succession, and
//! statistical inference", JASA 22 (1927) 209-212; recommended over the Wald interval by Brown,
//! Cai & DasGupta, "Interval estimation for a binomial proportion", Statistical Science 16(2)
//! (2001)): with p = k/n and the normal quantile z,
//! centre = (p + z^2/(2n)) / (1 + z^2/n),
//! half-width = z / (1 + z^2/n) sqrt(p(1-p)/n + z^2/(4n^2)).
//! It stays inside [0, 1] and behaves at k = 0 and k = n, where leak probabilities often are.

use serde::{Deserialize, Serialize};

/// The normal quantile of a two-sided 95% interval.
pub const Z_95: f64 = 1.959_963_984_540_054;
/// The normal quantile of a two-sided 99% interval.
pub const Z_99: f64 = 2.575_829_303_548_901;

/// A proportion with its confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Proportion {
    /// Successes.
    pub successes: u64,
    /// Trials.
    pub trials: u64,
    /// Point estimate k/n.
    pub estimate: f64,
    /// Lower bound of the interval.
    pub low: f64,
    /// Upper bound of the interval.
    pub high: f64,
}

impl Proportion {
    /// Whether `p` lies in the interval.
    pub fn contains(&self, p: f64) -> bool {
        self.low <= p && p <= self.high
    }
}

/// The Wilson score interval for `successes` out of `trials` at normal quantile `z` (for
/// example [`Z_95`]). Errors on zero trials, more successes than trials or a bad `z`.
pub fn wilson(successes: u64, trials: u64, z: f64) -> Result<Proportion, String> {
    if trials == 0 {
        return Err("a proportion needs at least one trial".into());
    }
    if successes > trials {
        return Err(format!(
            "{successes} successes out of {trials} trials is impossible"
        ));
    }
    if !(z.is_finite() && z > 0.0) {
        return Err(format!(
            "the normal quantile must be a positive number, got {z}"
        ));
    }
    let n = trials as f64;
    let p = successes as f64 / n;
    let z2n = z * z / n;
    let centre = (p + 0.5 * z2n) / (1.0 + z2n);
    let half = z / (1.0 + z2n) * libm::sqrt(p * (1.0 - p) / n + z * z / (4.0 * n * n));
    Ok(Proportion {
        successes,
        trials,
        estimate: p,
        low: (centre - half).max(0.0),
        high: (centre + half).min(1.0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::radar::random::uniform;
    use rand_chacha::ChaCha8Rng;
    use rand_core::SeedableRng;

    #[test]
    fn wilson_matches_published_values() {
        // Newcombe, "Two-sided confidence intervals for the single proportion", Statistics in
        // Medicine 17 (1998) 857-872, table II: 81/263 -> 0.2553 to 0.3662; 0/10 -> 0 to
        // 0.2775.
        let w = wilson(81, 263, Z_95).unwrap();
        assert!(
            (w.low - 0.2553).abs() < 5e-5 && (w.high - 0.3662).abs() < 5e-5,
            "{w:?}"
        );
        let w = wilson(0, 10, Z_95).unwrap();
        assert!(w.low == 0.0 && (w.high - 0.2775).abs() < 5e-5, "{w:?}");
        assert!(wilson(0, 0, Z_95).is_err());
        assert!(wilson(3, 2, Z_95).is_err());
        assert!(wilson(1, 2, f64::NAN).is_err());
    }

    #[test]
    fn two_round_salvo_kill_rate_converges_to_one_minus_leak_squared() {
        // Each trial fires two rounds with independent draws of single-shot Pk p; the target
        // survives only if both miss: P(kill) = 1 - (1 - p)^2.
        let p = 0.7;
        let expected = 1.0 - (1.0 - p) * (1.0 - p);
        let mut rng = ChaCha8Rng::seed_from_u64(2026);
        let mut widths = Vec::new();
        for n in [1_000u64, 10_000, 100_000] {
            let kills = (0..n)
                .filter(|_| {
                    let a = uniform(&mut rng) < p;
                    let b = uniform(&mut rng) < p;
                    a || b
                })
                .count() as u64;
            let w = wilson(kills, n, Z_99).unwrap();
            assert!(w.contains(expected), "n {n}: {w:?} misses {expected}");
            // A single round would be far outside.
            assert!(!w.contains(p));
            widths.push(w.high - w.low);
        }
        // The interval shrinks as 1/sqrt(n).
        assert!(
            widths[1] < widths[0] / 2.5 && widths[2] < widths[1] / 2.5,
            "{widths:?}"
        );
    }
}
