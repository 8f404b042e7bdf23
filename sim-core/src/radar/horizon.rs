//! Line of sight over a smooth Earth with standard refraction: the 4/3 effective Earth radius.
//!
//! Source: Skolnik, "Introduction to Radar Systems" (3rd ed.), sec. 8.x "Propagation of radar
//! waves" (the effective-Earth-radius model); ITU-R P.453 / P.834 (k = 4/3 for the standard
//! atmosphere, a refractivity gradient of -39 N-units/km). Bending of the rays by the standard
//! atmosphere is modelled by straight rays over a sphere of radius k R, k = 4/3.
//!
//! Geometry (exact on that sphere): a point at height h sees the tangent plane's touch point
//! at the central angle theta_h = atan(sqrt(2 k R h + h^2) / (k R)); two points at heights
//! h_r and h_t, a true central angle theta apart (ground distance d = R theta), see each other
//! iff theta / k <= theta_hr + theta_ht. The horizon distance is sqrt(2 k R h + h^2)
//! ~ sqrt(2 k R h) = 4.12 km sqrt(h / 1 m), and the radar horizon for a target is the sum of
//! the two. The effective (refracted) elevation angle of the target is the elevation of the
//! straight ray on the effective sphere.
//!
//! Heights are above the reference surface (no terrain). Invariant: transcendentals via `libm`.

use serde::{Deserialize, Serialize};

use crate::earth::MEAN_RADIUS_M;

/// Effective Earth radius factor of the standard atmosphere, k = 4/3 (ITU-R P.834).
pub const STANDARD_K: f64 = 4.0 / 3.0;

/// The refraction model: a true Earth radius and an effective-radius factor.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HorizonParams {
    /// True Earth radius R (m); the IUGG mean radius by default.
    pub earth_radius_m: f64,
    /// Effective radius factor k; 4/3 by default, 1 for no refraction.
    pub k_factor: f64,
}

impl Default for HorizonParams {
    fn default() -> Self {
        Self {
            earth_radius_m: MEAN_RADIUS_M,
            k_factor: STANDARD_K,
        }
    }
}

impl HorizonParams {
    /// The effective Earth radius k R (m).
    pub fn effective_radius_m(&self) -> f64 {
        self.k_factor * self.earth_radius_m
    }

    /// Distance (m) from a point at height `h_m` to its horizon over the effective sphere:
    /// sqrt(2 k R h + h^2) (0 at or below the surface).
    pub fn horizon_distance_m(&self, h_m: f64) -> f64 {
        let h = h_m.max(0.0);
        crate::earth::sqrt(2.0 * self.effective_radius_m() * h + h * h)
    }

    /// Radar horizon (m): the largest tangent-ray distance at which a radar at `radar_h_m`
    /// sees a target at `target_h_m`, sqrt(2kR h_r + h_r^2) + sqrt(2kR h_t + h_t^2).
    pub fn radar_horizon_m(&self, radar_h_m: f64, target_h_m: f64) -> f64 {
        self.horizon_distance_m(radar_h_m) + self.horizon_distance_m(target_h_m)
    }

    /// Central angle (rad, on the effective sphere) from a point at height `h_m` to its
    /// horizon: atan(sqrt(2 k R h + h^2) / (k R)).
    pub fn horizon_angle_rad(&self, h_m: f64) -> f64 {
        libm::atan2(self.horizon_distance_m(h_m), self.effective_radius_m())
    }

    /// Whether a radar at height `radar_h_m` sees a target at `target_h_m` a true ground
    /// distance `ground_m` away (along the surface of radius R): theta / k <= theta_hr +
    /// theta_ht. A target below the surface is never seen.
    pub fn line_of_sight(&self, radar_h_m: f64, target_h_m: f64, ground_m: f64) -> bool {
        if target_h_m < 0.0 {
            return ground_m <= 0.0;
        }
        self.within_horizons(
            self.horizon_angle_rad(radar_h_m),
            self.horizon_angle_rad(target_h_m),
            ground_m,
        )
    }

    /// [`HorizonParams::line_of_sight`] of a target above the surface, from the two horizon
    /// angles ([`HorizonParams::horizon_angle_rad`]) taken beforehand: theta / k <= theta_hr +
    /// theta_ht.
    pub fn within_horizons(
        &self,
        radar_angle_rad: f64,
        target_angle_rad: f64,
        ground_m: f64,
    ) -> bool {
        ground_m / self.effective_radius_m() <= radar_angle_rad + target_angle_rad
    }

    /// Effective (refracted) elevation angle (rad) of a target at `target_h_m`, a true ground
    /// distance `ground_m` from a radar at `radar_h_m`: on the sphere of radius a = k R,
    /// el = atan2((a + h_t) cos(phi) - (a + h_r), (a + h_t) sin(phi)) with phi = d / a.
    /// For short ranges this is el ~ (h_t - h_r) / d - d / (2 k R).
    pub fn effective_elevation_rad(&self, radar_h_m: f64, target_h_m: f64, ground_m: f64) -> f64 {
        let a = self.effective_radius_m();
        let phi = ground_m / a;
        let (s, c) = libm::sincos(phi);
        libm::atan2((a + target_h_m) * c - (a + radar_h_m), (a + target_h_m) * s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_metre_radar_sees_ten_kilometres_to_425_km() {
        let h = HorizonParams::default();
        let d = h.radar_horizon_m(10.0, 10_000.0);
        // 4.12 km (sqrt(10) + sqrt(10,000)) = 425 km.
        let rule = 4.12e3 * (10f64.sqrt() + 100.0);
        assert!((d - rule).abs() < 1_500.0, "{d} vs {rule}");
        assert!((h.horizon_distance_m(1.0) - 4_122.0).abs() < 1.0);
        // Over the ground (arc length, a little shorter than the tangent rays): just inside
        // the horizon is visible, just beyond is not.
        let arc = h.effective_radius_m() * (h.horizon_angle_rad(10.0) + h.horizon_angle_rad(1e4));
        assert!((arc / d - 1.0).abs() < 1e-3, "{arc} {d}");
        assert!(h.line_of_sight(10.0, 10_000.0, arc - 10.0));
        assert!(!h.line_of_sight(10.0, 10_000.0, arc + 10.0));
        assert!(h.effective_elevation_rad(10.0, 10_000.0, arc + 10.0) < 0.0);
    }

    #[test]
    fn a_low_missile_appears_when_it_climbs() {
        let h = HorizonParams::default();
        let ground = 300_000.0;
        let mut first_visible = None;
        for alt in (0..=20_000).step_by(100) {
            let visible = h.line_of_sight(20.0, f64::from(alt), ground);
            if visible && first_visible.is_none() {
                first_visible = Some(alt);
            }
            // Once visible, it stays visible as it climbs.
            if first_visible.is_some() {
                assert!(visible, "{alt}");
            }
        }
        // Needs (300 km - 4.12 sqrt(20) km)^2 / (2 k R) ~ 4.67 km.
        let alt = first_visible.unwrap();
        assert!((4_500..=4_800).contains(&alt), "{alt}");
        assert!(!h.line_of_sight(20.0, -1.0, 10.0));
    }

    #[test]
    fn elevation_formula_matches_its_small_angle_form_and_the_horizon() {
        let h = HorizonParams::default();
        for (hr, ht, d) in [(10.0, 1_000.0, 50_000.0), (30.0, 5_000.0, 120_000.0)] {
            let exact = h.effective_elevation_rad(hr, ht, d);
            let approx = (ht - hr) / d - d / (2.0 * h.effective_radius_m());
            assert!((exact - approx).abs() < 2e-4, "{exact} {approx}");
        }
        // At the radar horizon of a target, the ray grazes: the elevation equals the dip
        // angle of the radar's horizon, -theta_hr.
        let (hr, ht) = (50.0, 8_000.0);
        let a = h.effective_radius_m();
        let phi = h.horizon_angle_rad(hr) + h.horizon_angle_rad(ht);
        let el = h.effective_elevation_rad(hr, ht, phi * a);
        assert!((el + h.horizon_angle_rad(hr)).abs() < 1e-9, "{el}");
        // No refraction: k = 1 shortens the horizon by sqrt(4/3).
        let plain = HorizonParams { k_factor: 1.0, ..h };
        let ratio = h.horizon_distance_m(100.0) / plain.horizon_distance_m(100.0);
        assert!((ratio - (4.0f64 / 3.0).sqrt()).abs() < 1e-5);
    }
}
