//! Closed-form free flight in a point-mass field (two-body Kepler problem) between two points
//! at the same radius: the reference for vacuum, non-rotating, spherical-Earth checks.
//!
//! Source: Bate, Mueller & White, "Fundamentals of Astrodynamics" (1971), ch. 6 (ballistic
//! missile trajectories) and ch. 4 (time of flight from Kepler's equation). With
//! h = r v cos(gamma), p = h^2/mu, a = -mu / (2 (v^2/2 - mu/r)) and e = sqrt(1 - p/a), the
//! burnout true anomaly is nu0 = acos((p/r - 1)/e) in (0, pi) for a rising missile, the range
//! angle is psi = 2 (pi - nu0), the apogee radius a (1 + e), and the time of flight
//! 2 (pi - M0) sqrt(a^3/mu) with M0 = E0 - e sin(E0).

/// The closed-form free flight.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KeplerFlight {
    /// Central angle travelled from burnout to the return to the burnout radius (rad).
    pub range_angle_rad: f64,
    /// Apogee radius from the centre (m).
    pub apogee_radius_m: f64,
    /// Time from burnout back to the burnout radius (s).
    pub time_of_flight_s: f64,
}

/// Free flight from radius `r_m` with inertial speed `v_m_s` and flight-path angle `gamma_rad`
/// (above the local horizontal, > 0) back to the same radius. Requires an elliptic orbit.
pub fn free_flight(mu_m3_s2: f64, r_m: f64, v_m_s: f64, gamma_rad: f64) -> KeplerFlight {
    let h = r_m * v_m_s * libm::cos(gamma_rad);
    let p = h * h / mu_m3_s2;
    let energy = 0.5 * v_m_s * v_m_s - mu_m3_s2 / r_m;
    let a = -mu_m3_s2 / (2.0 * energy);
    let e = crate::earth::sqrt((1.0 - p / a).max(0.0));
    let nu0 = libm::acos(((p / r_m - 1.0) / e).clamp(-1.0, 1.0));
    let cos_e0 = (e + libm::cos(nu0)) / (1.0 + e * libm::cos(nu0));
    let e0 = libm::acos(cos_e0.clamp(-1.0, 1.0));
    let m0 = e0 - e * libm::sin(e0);
    KeplerFlight {
        range_angle_rad: 2.0 * (core::f64::consts::PI - nu0),
        apogee_radius_m: a * (1.0 + e),
        time_of_flight_s: 2.0
            * (core::f64::consts::PI - m0)
            * crate::earth::sqrt(a * a * a / mu_m3_s2),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_earth_limit_and_optimum_angle() {
        // Slow shots approach the flat-Earth range v^2 sin(2 gamma) / g.
        let (mu, r) = (3.986_004_418e14, 6_371_000.0);
        let g = mu / (r * r);
        let k = free_flight(mu, r, 300.0, 45f64.to_radians());
        let flat = 300.0 * 300.0 / g;
        assert!(((k.range_angle_rad * r) - flat).abs() / flat < 1e-3);
        // The optimum angle for range angle psi is 45 - psi/4 (Bate et al. eq. 6.2-22).
        let v = 5000.0;
        let best = (10..80)
            .map(|d| {
                (
                    d,
                    free_flight(mu, r, v, (d as f64).to_radians()).range_angle_rad,
                )
            })
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap();
        let expect = 45.0 - best.1.to_degrees() / 4.0;
        assert!((best.0 as f64 - expect).abs() <= 1.0, "{best:?} {expect}");
    }
}
