//! An independent check of the rotating-Earth dynamics with everything switched on (WGS84, J2,
//! drag): the library integrates in an inertial frame; this test integrates the same free
//! flights in the Earth-fixed frame, with explicit Coriolis and centrifugal terms, ten times
//! smaller steps and its own initial-state construction, and the two must land together.
#![cfg(not(target_arch = "wasm32"))]

use nalgebra::Vector3;
use sim_core::atmosphere::us1976;
use sim_core::earth::{EarthParams, Ellipsoid, GeoPoint, WGS84_OMEGA_RAD_S};
use sim_core::flight::{Flight, PhysicsParams};
use sim_core::missile::MissileKind;

struct Body {
    mass_kg: f64,
    area_m2: f64,
    kind: MissileKind,
}

/// Earth-fixed acceleration: gravity + Coriolis + centrifugal + drag in still air.
fn accel_ecef(body: &Body, r: &Vector3<f64>, v: &Vector3<f64>) -> Vector3<f64> {
    let w = Vector3::new(0.0, 0.0, WGS84_OMEGA_RAD_S);
    let mut a =
        EarthParams::default().gravity().acceleration(r) - 2.0 * w.cross(v) - w.cross(&w.cross(r));
    let alt = Ellipsoid::WGS84.ecef_to_geodetic(r).alt_m;
    if alt < 120_000.0 {
        let air = us1976(alt);
        let speed = v.norm();
        let t = body.kind.params();
        let drag = t.rv.map_or(t.body_drag, |rv| rv.drag);
        let cd = drag.cd(speed / air.speed_of_sound_m_s);
        a -= v * (0.5 * air.density_kg_m3 * speed * cd * body.area_m2 / body.mass_kg);
    }
    a
}

/// Impact point and time by RK4 in ECEF with step `h`, linear interpolation at the ground.
fn fly_ecef(
    body: &Body,
    start: GeoPoint,
    alt_m: f64,
    speed: f64,
    gamma_deg: f64,
    az_deg: f64,
) -> (GeoPoint, f64) {
    let e = Ellipsoid::WGS84;
    let (lat, lon) = (start.lat_deg.to_radians(), start.lon_deg.to_radians());
    let mut r = e.geodetic_to_ecef(&start.to_geodetic(alt_m));
    let east = Vector3::new(-lon.sin(), lon.cos(), 0.0);
    let north = Vector3::new(-lat.sin() * lon.cos(), -lat.sin() * lon.sin(), lat.cos());
    let up = Vector3::new(lat.cos() * lon.cos(), lat.cos() * lon.sin(), lat.sin());
    let (g, az) = (gamma_deg.to_radians(), az_deg.to_radians());
    let mut v = (east * az.sin() + north * az.cos()) * (speed * g.cos()) + up * (speed * g.sin());
    let h = 0.01;
    let mut t = 0.0;
    let mut alt = alt_m;
    loop {
        let f = |r: &Vector3<f64>, v: &Vector3<f64>| accel_ecef(body, r, v);
        let a1 = f(&r, &v);
        let (r2, v2) = (r + v * (h / 2.0), v + a1 * (h / 2.0));
        let a2 = f(&r2, &v2);
        let (r3, v3) = (r + v2 * (h / 2.0), v + a2 * (h / 2.0));
        let a3 = f(&r3, &v3);
        let (r4, v4) = (r + v3 * h, v + a3 * h);
        let a4 = f(&r4, &v4);
        let rn = r + (v + v2 * 2.0 + v3 * 2.0 + v4) * (h / 6.0);
        let vn = v + (a1 + a2 * 2.0 + a3 * 2.0 + a4) * (h / 6.0);
        let altn = e.ecef_to_geodetic(&rn).alt_m;
        if altn < 0.0 && t > 1.0 {
            let w = alt / (alt - altn);
            let hit = r + (rn - r) * w;
            return (e.ecef_to_geodetic(&hit).to_point(), t + w * h);
        }
        r = rn;
        v = vn;
        alt = altn;
        t += h;
    }
}

#[test]
fn inertial_flight_matches_an_earth_fixed_integration_with_j2_and_drag() {
    let physics = PhysicsParams::default();
    let cases = [
        // (body, start, alt, speed, gamma, azimuth)
        (
            MissileKind::ScudC,
            GeoPoint::new(0.0, 0.0),
            0.0,
            2000.0,
            40.0,
            90.0,
        ),
        (
            MissileKind::ScudC,
            GeoPoint::new(0.0, 0.0),
            0.0,
            2000.0,
            40.0,
            270.0,
        ),
        (
            MissileKind::ScudB,
            GeoPoint::new(36.5, -123.1),
            30_000.0,
            1500.0,
            40.0,
            120.0,
        ),
        (
            MissileKind::Nodong,
            GeoPoint::new(40.0, 127.0),
            80_000.0,
            3200.0,
            38.0,
            110.0,
        ),
        (
            MissileKind::Icbm,
            GeoPoint::new(0.0, -30.0),
            180_000.0,
            7000.0,
            20.0,
            90.0,
        ),
        (
            MissileKind::Icbm,
            GeoPoint::new(0.0, -30.0),
            180_000.0,
            7000.0,
            20.0,
            270.0,
        ),
        (
            MissileKind::Icbm,
            GeoPoint::new(60.0, 10.0),
            180_000.0,
            6500.0,
            25.0,
            0.0,
        ),
    ];
    for (kind, start, alt, speed, gamma, az) in cases {
        let mut f = Flight::free(kind, start, alt, speed, gamma, az, &physics);
        let s = f.fly_to_impact(&physics, None).unwrap().0;
        let t = kind.params();
        let body = match t.rv {
            Some(rv) => Body {
                mass_kg: rv.mass_kg,
                area_m2: core::f64::consts::FRAC_PI_4 * rv.diameter_m * rv.diameter_m,
                kind,
            },
            None => Body {
                mass_kg: t.stages[0].dry_mass_kg() + t.payload_mass_kg,
                area_m2: t.body_area_m2(),
                kind,
            },
        };
        let (impact, time_s) = fly_ecef(&body, start, alt, speed, gamma, az);
        let e = Ellipsoid::WGS84;
        let miss = (e.geodetic_to_ecef(&impact.to_geodetic(0.0))
            - e.geodetic_to_ecef(&s.impact.to_geodetic(0.0)))
        .norm();
        println!(
            "{kind} az {az}: range {:.1} km, impacts {miss:.2} m apart, times {:.3} vs {time_s:.3} s",
            s.range_m / 1000.0,
            s.flight_time_s
        );
        assert!(miss < 1.0, "{kind} az {az}: impacts {miss} m apart");
        assert!(
            (s.flight_time_s - time_s).abs() < 0.01,
            "{kind} az {az}: {} vs {time_s}",
            s.flight_time_s
        );
    }
}
