//! Random variates for the sensor models, drawn only from the generator passed in.
//!
//! Invariant: every draw consumes a fixed, documented number of `u64`s from the
//! [`RngCore`] and uses only `libm` transcendentals, so the same seed gives the same draws
//! natively and in WebAssembly. Sources: the Box-Muller transform (Box & Muller 1958, "A note
//! on the generation of random normal deviates", Ann. Math. Stat. 29(2)); inverse-transform
//! sampling of the exponential law; Knuth's multiplication method for Poisson counts
//! (Knuth, TAOCP vol. 2, 3rd ed., sec. 3.4.1).

use rand_core::RngCore;

/// 2^-53, the spacing of the 53-bit uniform grid.
const TWO_POW_M53: f64 = 1.0 / 9_007_199_254_740_992.0;

/// A uniform draw in [0, 1) on a 53-bit grid (one `u64`).
pub fn uniform(rng: &mut impl RngCore) -> f64 {
    (rng.next_u64() >> 11) as f64 * TWO_POW_M53
}

/// A uniform draw in (0, 1] on a 53-bit grid (one `u64`); safe to take the logarithm of.
pub fn uniform_open0(rng: &mut impl RngCore) -> f64 {
    ((rng.next_u64() >> 11) as f64 + 1.0) * TWO_POW_M53
}

/// A standard normal draw by Box-Muller: z = sqrt(-2 ln u1) cos(2 pi u2), u1 in (0, 1]
/// (two `u64`s; the sine half of the pair is discarded to keep draws independent of call
/// order).
pub fn standard_normal(rng: &mut impl RngCore) -> f64 {
    let u1 = uniform_open0(rng);
    let u2 = uniform(rng);
    crate::earth::sqrt(-2.0 * libm::log(u1)) * libm::cos(2.0 * core::f64::consts::PI * u2)
}

/// An exponential draw of the given mean by inverse transform: x = -mean ln(u), u in (0, 1]
/// (one `u64`).
pub fn exponential(rng: &mut impl RngCore, mean: f64) -> f64 {
    -mean * libm::log(uniform_open0(rng))
}

/// Most uniforms one Knuth draw multiplies: at a mean of 500 (the method's largest), a count
/// this far above the mean (about 100 standard deviations) has a probability below 1e-300, so
/// the cap changes no draw that can happen; it only makes the loop bounded by construction.
const POISSON_MAX_DRAWS: u64 = 3_000;

/// A Poisson count of the given mean (>= 0).
///
/// Knuth's method (multiply uniforms until the product drops below e^-mean; mean + 1 `u64`s
/// on average) up to a mean of 500; beyond, where e^-mean would underflow, the normal
/// approximation N(mean, mean) rounded to the nearest non-negative integer.
pub fn poisson(rng: &mut impl RngCore, mean: f64) -> u64 {
    if mean.is_nan() || mean <= 0.0 {
        return 0;
    }
    if mean > 500.0 {
        let x = mean + crate::earth::sqrt(mean) * standard_normal(rng);
        return libm::round(x).max(0.0) as u64;
    }
    let limit = libm::exp(-mean);
    let mut k = 0u64;
    let mut p = uniform_open0(rng);
    // bounded: at most POISSON_MAX_DRAWS uniforms (see the condition).
    while p > limit && k < POISSON_MAX_DRAWS {
        k += 1;
        p *= uniform_open0(rng);
    }
    k
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha8Rng;
    use rand_core::SeedableRng;

    #[test]
    fn moments_of_the_draws() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let n = 200_000;
        let (mut s, mut s2, mut e) = (0.0, 0.0, 0.0);
        for _ in 0..n {
            let z = standard_normal(&mut rng);
            s += z;
            s2 += z * z;
            e += exponential(&mut rng, 3.0);
        }
        let n = n as f64;
        assert!((s / n).abs() < 0.01, "normal mean {}", s / n);
        assert!((s2 / n - 1.0).abs() < 0.01, "normal variance {}", s2 / n);
        assert!((e / n - 3.0).abs() < 0.03, "exponential mean {}", e / n);
    }

    #[test]
    fn poisson_mean_and_variance() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        for mean in [0.3, 4.0, 40.0, 900.0] {
            let n = 20_000;
            let (mut s, mut s2) = (0.0, 0.0);
            for _ in 0..n {
                let k = poisson(&mut rng, mean) as f64;
                s += k;
                s2 += k * k;
            }
            let m = s / n as f64;
            let v = s2 / n as f64 - m * m;
            assert!((m / mean - 1.0).abs() < 0.03, "mean {mean}: {m}");
            assert!((v / mean - 1.0).abs() < 0.06, "variance {mean}: {v}");
        }
        assert_eq!(poisson(&mut rng, 0.0), 0);
    }
}
