//! Statistics for Monte Carlo runs: the binomial proportion and its confidence interval, and
//! summaries (mean, standard deviation, percentiles) of sampled values.
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
    let half = z / (1.0 + z2n) * crate::earth::sqrt(p * (1.0 - p) / n + z * z / (4.0 * n * n));
    Ok(Proportion {
        successes,
        trials,
        estimate: p,
        low: (centre - half).max(0.0),
        high: (centre + half).min(1.0),
    })
}

/// Most values [`Summary::of`] accepts.
pub const MAX_VALUES: usize = 10_000_000;

/// Summary statistics of a sample (for example intercept altitudes over Monte Carlo runs).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Number of values.
    pub count: usize,
    /// Arithmetic mean.
    pub mean: f64,
    /// Sample standard deviation (n - 1 denominator); 0 for one value.
    pub std_dev: f64,
    /// Smallest value.
    pub min: f64,
    /// 5th percentile.
    pub p05: f64,
    /// Median.
    pub median: f64,
    /// 95th percentile.
    pub p95: f64,
    /// Largest value.
    pub max: f64,
}

impl Summary {
    /// Summarises `values` (finite, 1 to [`MAX_VALUES`] of them). Percentiles interpolate
    /// linearly between order statistics (Hyndman & Fan, "Sample quantiles in statistical
    /// packages", The American Statistician 50(4) (1996), definition 7); the variance uses
    /// Welford's one-pass update (Knuth, TAOCP vol. 2, 3rd ed., sec. 4.2.2).
    pub fn of(values: &[f64]) -> Result<Self, String> {
        if values.is_empty() || values.len() > MAX_VALUES {
            return Err(format!(
                "a summary needs 1 to {MAX_VALUES} values, got {}",
                values.len()
            ));
        }
        if values.iter().any(|v| !v.is_finite()) {
            return Err("summary values must be finite numbers".into());
        }
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let (mut mean, mut m2) = (0.0, 0.0);
        for (k, &x) in values.iter().enumerate() {
            let d = x - mean;
            mean += d / (k + 1) as f64;
            m2 += d * (x - mean);
        }
        let n = values.len();
        let std_dev = if n > 1 {
            crate::earth::sqrt(m2 / (n - 1) as f64)
        } else {
            0.0
        };
        Ok(Self {
            count: n,
            mean,
            std_dev,
            min: sorted[0],
            p05: quantile_sorted(&sorted, 0.05),
            median: quantile_sorted(&sorted, 0.5),
            p95: quantile_sorted(&sorted, 0.95),
            max: sorted[n - 1],
        })
    }
}

/// Quantile `q` in [0, 1] of ascending `sorted` values (Hyndman & Fan definition 7):
/// h = (n - 1) q, x[floor h] + (h - floor h) (x[floor h + 1] - x[floor h]).
fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * q;
    let lo = libm::floor(h) as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
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

    #[test]
    fn summary_of_a_known_sample() {
        // 1..=100: mean 50.5, sample standard deviation sqrt(100 x 101 / 12) = 29.0115,
        // definition-7 percentiles 5.95, 50.5, 95.05 (as R's default quantile()).
        let v: Vec<f64> = (1..=100).rev().map(f64::from).collect();
        let s = Summary::of(&v).unwrap();
        assert_eq!((s.count, s.min, s.max), (100, 1.0, 100.0));
        assert!((s.mean - 50.5).abs() < 1e-12);
        assert!((s.std_dev - crate::earth::sqrt(100.0 * 101.0 / 12.0)).abs() < 1e-9);
        assert!((s.p05 - 5.95).abs() < 1e-12 && (s.median - 50.5).abs() < 1e-12);
        assert!((s.p95 - 95.05).abs() < 1e-12);
        let one = Summary::of(&[3.0]).unwrap();
        assert_eq!((one.std_dev, one.median, one.p95), (0.0, 3.0, 3.0));
        assert!(Summary::of(&[]).is_err());
        assert!(Summary::of(&[1.0, f64::NAN]).is_err());
    }
}
