//! Free flight against closed forms: vacuum, spherical Earth, point-mass gravity.
//!
//! Without rotation the flight must match the two-body Kepler solution; with rotation the
//! eastward gain and westward loss at the equator must match the Kepler solution in the
//! inertial frame (launch velocity plus the Earth's surface speed, then the Earth turning
//! under the flight), an independent closed form for the same physics.
#![cfg(not(target_arch = "wasm32"))]

use sim_core::earth::{
    EarthParams, EarthShape, GeoPoint, SPHERE_RADIUS_M, WGS84_MU_M3_S2, WGS84_OMEGA_RAD_S,
};
use sim_core::flight::kepler::free_flight;
use sim_core::flight::{Flight, FlightSummary, PhysicsParams};
use sim_core::missile::MissileKind;

fn physics(rotation: bool) -> PhysicsParams {
    PhysicsParams {
        earth: EarthParams {
            shape: EarthShape::Sphere,
            rotation,
        },
        atmosphere: false,
    }
}

fn fly(speed: f64, angle_deg: f64, azimuth_deg: f64, rotation: bool) -> FlightSummary {
    let p = physics(rotation);
    let mut f = Flight::free(
        MissileKind::ScudC,
        GeoPoint::new(0.0, 0.0),
        0.0,
        speed,
        angle_deg,
        azimuth_deg,
        &p,
    );
    f.fly_to_impact(&p, None).expect("comes down").0
}

fn rel(a: f64, b: f64) -> f64 {
    ((a - b) / b).abs()
}

#[test]
fn vacuum_spherical_free_flight_matches_kepler_over_a_grid() {
    let r = SPHERE_RADIUS_M;
    let mut worst = (0.0f64, 0.0f64, 0.0f64);
    let mut cases = 0;
    // 14 speeds x 13 angles = 182 flights: 1 to 7.5 km/s by 0.5, 15 to 75 degrees by 5.
    let speeds: Vec<f64> = (0..14).map(|i| 1000.0 + 500.0 * f64::from(i)).collect();
    for &v in &speeds {
        for angle in (15..=75).step_by(5) {
            let angle = f64::from(angle);
            // Alternate headings: with no rotation and a sphere the direction must not matter.
            let az = f64::from(cases % 4) * 90.0;
            let s = fly(v, angle, az, false);
            let k = free_flight(WGS84_MU_M3_S2, r, v, angle.to_radians());
            let e_range = rel(s.range_m, k.range_angle_rad * r);
            let e_apogee = rel(s.apogee_alt_m, k.apogee_radius_m - r);
            let e_time = rel(s.flight_time_s, k.time_of_flight_s);
            assert!(
                e_range < 5e-4 && e_apogee < 5e-4 && e_time < 5e-4,
                "v {v} angle {angle}: range {} vs {}, apogee {} vs {}, time {} vs {}",
                s.range_m,
                k.range_angle_rad * r,
                s.apogee_alt_m,
                k.apogee_radius_m - r,
                s.flight_time_s,
                k.time_of_flight_s
            );
            worst = (
                worst.0.max(e_range),
                worst.1.max(e_apogee),
                worst.2.max(e_time),
            );
            cases += 1;
        }
    }
    assert!(cases >= 180);
    println!(
        "worst relative errors over {cases} flights: range {:.2e}, apogee {:.2e}, time {:.2e}",
        worst.0, worst.1, worst.2
    );
    // The integrator is far better than the requirement: keep it that way.
    assert!(
        worst.0 < 1e-6 && worst.1 < 1e-6 && worst.2 < 1e-5,
        "{worst:?}"
    );
}

/// Ground range at the equator with rotation, by Kepler in the inertial frame: the inertial
/// horizontal speed is the Earth-relative one plus (east) or minus (west) omega R; the flight
/// covers the inertial central angle while the Earth turns by omega * time under it.
fn rotating_equator_range(v: f64, angle_deg: f64, east: bool) -> f64 {
    let r = SPHERE_RADIUS_M;
    let w = WGS84_OMEGA_RAD_S;
    let (s, c) = (angle_deg.to_radians().sin(), angle_deg.to_radians().cos());
    let horizontal = if east { v * c } else { -v * c } + w * r;
    let vertical = v * s;
    let vi = (horizontal * horizontal + vertical * vertical).sqrt();
    let gamma = vertical.atan2(horizontal.abs());
    let k = free_flight(WGS84_MU_M3_S2, r, vi, gamma);
    let east_angle = horizontal.signum() * k.range_angle_rad - w * k.time_of_flight_s;
    (if east { east_angle } else { -east_angle }) * r
}

#[test]
fn rotation_gains_eastward_and_loses_westward_as_the_inertial_solution_says() {
    let mut checked = 0;
    for v in [1000.0, 2000.0, 3000.0, 4500.0, 6000.0, 7000.0] {
        for angle in [20.0, 35.0, 45.0, 60.0] {
            let still = fly(v, angle, 90.0, false).range_m;
            let east = fly(v, angle, 90.0, true);
            let west = fly(v, angle, 270.0, true);
            let e_ref = rotating_equator_range(v, angle, true);
            let w_ref = rotating_equator_range(v, angle, false);
            // The gain and the loss themselves (not just the ranges) match the closed form.
            let still_ref = free_flight(WGS84_MU_M3_S2, SPHERE_RADIUS_M, v, angle.to_radians())
                .range_angle_rad
                * SPHERE_RADIUS_M;
            let (gain, gain_ref) = (east.range_m - still, e_ref - still_ref);
            let (loss, loss_ref) = (still - west.range_m, still_ref - w_ref);
            assert!(
                (gain - gain_ref).abs() < 1e-3 * gain_ref.abs() + 5.0,
                "gain v {v} angle {angle}: {gain} vs {gain_ref}"
            );
            assert!(
                (loss - loss_ref).abs() < 1e-3 * loss_ref.abs() + 5.0,
                "loss v {v} angle {angle}: {loss} vs {loss_ref}"
            );
            if angle <= 45.0 {
                assert!(
                    gain > 0.0 && loss > 0.0,
                    "v {v} angle {angle}: {gain} {loss}"
                );
            }
            assert!(
                rel(east.range_m, e_ref) < 5e-4,
                "east v {v} angle {angle}: {} vs {e_ref}",
                east.range_m
            );
            assert!(
                rel(west.range_m, w_ref) < 5e-4,
                "west v {v} angle {angle}: {} vs {w_ref}",
                west.range_m
            );
            // The impact stays on the equator.
            assert!(east.impact.lat_deg.abs() < 1e-6 && west.impact.lat_deg.abs() < 1e-6);
            checked += 1;
        }
    }
    assert_eq!(checked, 24);
}
