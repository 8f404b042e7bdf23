//! Gravity: a point mass, or a point mass plus the J2 zonal harmonic.
//!
//! J2 acceleration (Vallado, "Fundamentals of Astrodynamics and Applications", 4th ed., eq.
//! 8-30; also Zarchan, "Tactical and Strategic Missile Guidance", ch. on strategic missiles):
//! a_x = -mu x / r^3 [1 + 3/2 J2 (R/r)^2 (1 - 5 z^2/r^2)], same for y,
//! a_z = -mu z / r^3 [1 + 3/2 J2 (R/r)^2 (3 - 5 z^2/r^2)].
//! Both fields are symmetric about the Z axis, so they take the same form in ECEF and in any
//! inertial frame sharing its Z axis. Invariant: no transcendental besides `sqrt` (the correctly
//! rounded [`crate::earth::sqrt`]).

use nalgebra::Vector3;

/// A gravity model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Gravity {
    /// Point mass with gravitational parameter mu (m^3/s^2).
    PointMass {
        /// Gravitational parameter (m^3/s^2).
        mu_m3_s2: f64,
    },
    /// Point mass plus the J2 zonal harmonic.
    J2 {
        /// Gravitational parameter (m^3/s^2).
        mu_m3_s2: f64,
        /// Second zonal harmonic (dimensionless).
        j2: f64,
        /// Reference radius of the harmonic (m).
        radius_m: f64,
    },
}

impl Gravity {
    /// Gravitational acceleration (m/s^2) at position `r` (m) in an Earth-centred frame.
    pub fn acceleration(&self, r: &Vector3<f64>) -> Vector3<f64> {
        let r2 = r.norm_squared();
        let rn = crate::earth::sqrt(r2);
        match *self {
            Gravity::PointMass { mu_m3_s2 } => r * (-mu_m3_s2 / (r2 * rn)),
            Gravity::J2 {
                mu_m3_s2,
                j2,
                radius_m,
            } => {
                let k = -mu_m3_s2 / (r2 * rn);
                let zr2 = r.z * r.z / r2;
                let j = 1.5 * j2 * radius_m * radius_m / r2;
                let fxy = k * (1.0 + j * (1.0 - 5.0 * zr2));
                let fz = k * (1.0 + j * (3.0 - 5.0 * zr2));
                Vector3::new(r.x * fxy, r.y * fxy, r.z * fz)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::earth::Length;
    use crate::earth::{EarthParams, EarthShape};

    #[test]
    fn surface_gravity_matches_normal_gravity() {
        // Somigliana normal gravity (WGS84): 9.7803 at the equator, 9.8322 at the poles. The
        // gravitational part (without centrifugal) at the equator is 9.7803 + omega^2 a = 9.8142.
        let g = EarthParams::default().gravity();
        let eq = g
            .acceleration(&Vector3::new(6_378_137.0, 0.0, 0.0))
            .length();
        assert!((eq - 9.8143).abs() < 2e-3, "{eq}");
        let pole = g
            .acceleration(&Vector3::new(0.0, 0.0, 6_356_752.3))
            .length();
        assert!((pole - 9.8322).abs() < 2e-3, "{pole}");
        let s = EarthParams {
            shape: EarthShape::Sphere,
            rotation: false,
        }
        .gravity()
        .acceleration(&Vector3::new(0.0, 6_371_000.0, 0.0));
        assert!((s.length() - 9.820).abs() < 1e-3 && s.y < 0.0);
    }
}
