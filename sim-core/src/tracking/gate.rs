//! The chi-square gate of a 3-D measurement.
//!
//! Under the filter's own model the normalised innovation squared d^2 = nu^T S^-1 nu of a
//! correct plot is chi-square with 3 degrees of freedom, so the gate d^2 <= gamma accepts it
//! with probability P_G = F_3(gamma) (Bar-Shalom, Li & Kirubarajan, "Estimation with
//! Applications to Tracking and Navigation", Wiley 2001, sec. 3.7 and 5.4.2; Bar-Shalom,
//! Willett & Tian, "Tracking and Data Fusion", 2011, sec. 2.3.2). The 3-dof distribution
//! function has the closed form (Abramowitz & Stegun, eq. 26.4.5)
//!
//! ```text
//! F_3(x) = erf(sqrt(x / 2)) - sqrt(2 x / pi) exp(-x / 2)
//! ```
//!
//! which [`chi2_3dof_quantile`] inverts by bisection. Tabulated values (A&S table 26.8):
//! F_3^-1(0.95) = 7.815, F_3^-1(0.99) = 11.345, F_3^-1(0.999) = 16.266.

/// The chi-square distribution function with 3 degrees of freedom at `x` (>= 0).
pub fn chi2_3dof_cdf(x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    libm::erf(crate::earth::sqrt(0.5 * x))
        - crate::earth::sqrt(2.0 * x / core::f64::consts::PI) * libm::exp(-0.5 * x)
}

/// The gate gamma with F_3(gamma) = `p`, for `p` in (0, 1): 100 bisection steps on
/// [0, 1000] (well below an ulp of the answer; F_3(1000) = 1 - 1e-215).
pub fn chi2_3dof_quantile(p: f64) -> f64 {
    let (mut lo, mut hi) = (0.0f64, 1000.0f64);
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if chi2_3dof_cdf(mid) < p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// The squared scale k^2 of a 2-D Gaussian's `p` ellipse: k^2 = -2 ln(1 - p) (the chi-square
/// quantile with 2 degrees of freedom; 5.991 for p = 0.95).
pub fn chi2_2dof_quantile(p: f64) -> f64 {
    -2.0 * libm::log(1.0 - p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_match_the_tables() {
        for (p, want) in [(0.95, 7.815), (0.99, 11.345), (0.999, 16.266), (0.5, 2.366)] {
            let g = chi2_3dof_quantile(p);
            assert!((g - want).abs() < 1e-3, "{p}: {g}");
            assert!((chi2_3dof_cdf(g) - p).abs() < 1e-12);
        }
        assert!((chi2_2dof_quantile(0.95) - 5.991).abs() < 1e-3);
        assert_eq!(chi2_3dof_cdf(-1.0), 0.0);
    }
}
