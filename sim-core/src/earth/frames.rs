//! Coordinate frames: WGS84 geodetic <-> ECEF <-> local ENU <-> AER, and great-circle measures.
//!
//! Conventions: ECEF is Earth-centred, Earth-fixed (X through 0N 0E, Z through the north pole);
//! ENU is east-north-up at a geodetic origin; AER is azimuth (clockwise from north), elevation
//! (above the local horizontal plane) and slant range. Angles inside the crate are radians unless
//! a name says `_deg`. Invariant: every transcendental goes through `libm`.
//!
//! Sources: NIMA TR8350.2 (WGS84 constants); the closed-form ECEF -> geodetic conversion of
//! Heikkinen (1982) as given by Zhu (1994), "Conversion of Earth-centered Earth-fixed
//! coordinates to geodetic coordinates", IEEE Trans. AES 30(3).

use nalgebra::Vector3;
use serde::{Deserialize, Serialize};

/// A point on the Earth's surface in degrees, as scenarios and commands carry it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GeoPoint {
    /// Geodetic latitude in degrees, north positive, within [-90, 90].
    pub lat_deg: f64,
    /// Longitude in degrees, east positive, within [-180, 180].
    pub lon_deg: f64,
}

impl GeoPoint {
    /// Builds a point from degrees (not validated; see [`GeoPoint::validate`]).
    pub const fn new(lat_deg: f64, lon_deg: f64) -> Self {
        Self { lat_deg, lon_deg }
    }

    /// Checks that both coordinates are finite and within range; the error is one sentence.
    pub fn validate(&self) -> Result<(), String> {
        crate::limits::LATITUDE.check(self.lat_deg)?;
        crate::limits::LONGITUDE.check(self.lon_deg)?;
        Ok(())
    }

    /// The point at zero height as a [`Geodetic`] in radians.
    pub fn to_geodetic(&self, alt_m: f64) -> Geodetic {
        Geodetic {
            lat_rad: self.lat_deg.to_radians(),
            lon_rad: self.lon_deg.to_radians(),
            alt_m,
        }
    }
}

/// Geodetic coordinates: latitude and longitude in radians, height above the ellipsoid in m.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Geodetic {
    /// Geodetic latitude (rad).
    pub lat_rad: f64,
    /// Longitude (rad), in (-pi, pi].
    pub lon_rad: f64,
    /// Height above the reference ellipsoid (m).
    pub alt_m: f64,
}

impl Geodetic {
    /// Latitude and longitude in degrees.
    pub fn to_point(&self) -> GeoPoint {
        GeoPoint {
            lat_deg: self.lat_rad.to_degrees(),
            lon_deg: self.lon_rad.to_degrees(),
        }
    }
}

/// Azimuth, elevation and slant range of a point seen from a local origin.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Aer {
    /// Azimuth clockwise from north (rad), in [0, 2 pi).
    pub azimuth_rad: f64,
    /// Elevation above the local horizontal plane (rad).
    pub elevation_rad: f64,
    /// Slant range (m).
    pub range_m: f64,
}

/// A reference ellipsoid of revolution (a sphere when the flattening is zero).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ellipsoid {
    /// Semi-major (equatorial) axis a (m).
    pub a_m: f64,
    /// Flattening f = (a - b) / a.
    pub f: f64,
}

impl Ellipsoid {
    /// WGS84: a = 6,378,137 m, 1/f = 298.257223563 (NIMA TR8350.2, table 3.1).
    pub const WGS84: Ellipsoid = Ellipsoid {
        a_m: 6_378_137.0,
        f: 1.0 / 298.257_223_563,
    };

    /// A sphere of the given radius.
    pub const fn sphere(radius_m: f64) -> Self {
        Ellipsoid {
            a_m: radius_m,
            f: 0.0,
        }
    }

    /// Semi-minor (polar) axis b = a (1 - f) (m).
    pub fn b_m(&self) -> f64 {
        self.a_m * (1.0 - self.f)
    }

    /// First eccentricity squared e^2 = f (2 - f).
    pub fn e2(&self) -> f64 {
        self.f * (2.0 - self.f)
    }

    /// Geodetic -> ECEF: x = (N + h) cos(lat) cos(lon), y = (N + h) cos(lat) sin(lon),
    /// z = (N (1 - e^2) + h) sin(lat), with N = a / sqrt(1 - e^2 sin^2(lat)).
    pub fn geodetic_to_ecef(&self, g: &Geodetic) -> Vector3<f64> {
        let (slat, clat) = libm::sincos(g.lat_rad);
        let (slon, clon) = libm::sincos(g.lon_rad);
        let e2 = self.e2();
        let n = self.a_m / crate::earth::sqrt(1.0 - e2 * slat * slat);
        Vector3::new(
            (n + g.alt_m) * clat * clon,
            (n + g.alt_m) * clat * slon,
            (n * (1.0 - e2) + g.alt_m) * slat,
        )
    }

    /// ECEF -> geodetic by Heikkinen's closed form (Zhu 1994), exact to well under a millimetre
    /// from the centre of the Earth outwards of a few km; on a sphere, plain spherical coordinates.
    pub fn ecef_to_geodetic(&self, r: &Vector3<f64>) -> Geodetic {
        let lon_rad = libm::atan2(r.y, r.x);
        let p = crate::earth::sqrt(r.x * r.x + r.y * r.y);
        if self.f == 0.0 {
            let norm = crate::earth::sqrt(p * p + r.z * r.z);
            return Geodetic {
                lat_rad: libm::atan2(r.z, p),
                lon_rad,
                alt_m: norm - self.a_m,
            };
        }
        let (alt_m, lat_rad) = self.height_and_latitude(p, r.z);
        Geodetic {
            lat_rad,
            lon_rad,
            alt_m,
        }
    }

    /// Height above the ellipsoid only (m); depends on the distance from the axis `p` and `z`
    /// alone, so it is the same in ECEF and in any frame rotated about Z.
    ///
    /// One step of Bowring's method (Bowring 1976, "Transformation from spatial to geographical
    /// coordinates", Survey Review 23(181)), written with square roots only: the parametric
    /// latitude beta of the start, tan(beta) = a z / (b p); then the geodetic latitude
    /// tan(phi) = (z + e'^2 b sin^3(beta)) / (p - e^2 a cos^3(beta)); then the height
    /// h = p cos(phi) + z sin(phi) - a sqrt(1 - e^2 sin^2(phi)).
    /// The height along the normal is stationary in phi (its derivative vanishes at the true
    /// latitude), so the latitude error of the single step (under 1e-9 rad up to thousands of
    /// km) enters the height squared: the test `bowring_height_matches_heikkinen` finds 7.5 nm
    /// at worst against [`Ellipsoid::ecef_to_geodetic`] from -5 km to 10,000 km. It costs
    /// three (correctly rounded) square roots instead of the closed form's cube root, five roots
    /// and arctangent.
    pub fn altitude_m(&self, r: &Vector3<f64>) -> f64 {
        use crate::earth::sqrt;
        let p2 = r.x * r.x + r.y * r.y;
        if self.f == 0.0 {
            return sqrt(p2 + r.z * r.z) - self.a_m;
        }
        let p = sqrt(p2);
        let z = r.z;
        let a = self.a_m;
        let b = self.b_m();
        let e2 = self.e2();
        let ep2 = e2 / (1.0 - e2);
        let (bx, by) = (b * p, a * z);
        let nb2 = bx * bx + by * by;
        if nb2 == 0.0 {
            // The centre of the Earth: every direction is a normal; the nearest surface point
            // is a pole.
            return -b;
        }
        let inv = 1.0 / sqrt(nb2);
        let (cb, sb) = (bx * inv, by * inv);
        let x = p - e2 * a * cb * cb * cb;
        let y = z + ep2 * b * sb * sb * sb;
        let inv = 1.0 / sqrt(x * x + y * y);
        let (cphi, sphi) = (x * inv, y * inv);
        p * cphi + z * sphi - a * sqrt(1.0 - e2 * sphi * sphi)
    }

    /// Heikkinen's closed form: (height, geodetic latitude) from (p, z).
    fn height_and_latitude(&self, p: f64, z: f64) -> (f64, f64) {
        let a = self.a_m;
        let b = self.b_m();
        let e2 = self.e2();
        let ep2 = (a * a - b * b) / (b * b);
        let ff = 54.0 * b * b * z * z;
        let g = p * p + (1.0 - e2) * z * z - e2 * (a * a - b * b);
        let c = e2 * e2 * ff * p * p / (g * g * g);
        let s = libm::cbrt(1.0 + c + crate::earth::sqrt(c * c + 2.0 * c));
        let k = s + 1.0 + 1.0 / s;
        let pp = ff / (3.0 * k * k * g * g);
        let q = crate::earth::sqrt(1.0 + 2.0 * e2 * e2 * pp);
        let r0_sq = 0.5 * a * a * (1.0 + 1.0 / q)
            - pp * (1.0 - e2) * z * z / (q * (1.0 + q))
            - 0.5 * pp * p * p;
        let r0 = -pp * e2 * p / (1.0 + q) + crate::earth::sqrt(r0_sq.max(0.0));
        let t = p - e2 * r0;
        let u = crate::earth::sqrt(t * t + z * z);
        let v = crate::earth::sqrt(t * t + (1.0 - e2) * z * z);
        let z0 = b * b * z / (a * v);
        let h = u * (1.0 - b * b / (a * v));
        let lat = libm::atan2(z + ep2 * z0, p);
        (h, lat)
    }

    /// The local east, north and up unit vectors (in ECEF) at a geodetic latitude/longitude.
    pub fn enu_basis(lat_rad: f64, lon_rad: f64) -> [Vector3<f64>; 3] {
        let (slat, clat) = libm::sincos(lat_rad);
        let (slon, clon) = libm::sincos(lon_rad);
        [
            Vector3::new(-slon, clon, 0.0),
            Vector3::new(-slat * clon, -slat * slon, clat),
            Vector3::new(clat * clon, clat * slon, slat),
        ]
    }

    /// ECEF point -> ENU coordinates (m) relative to a geodetic origin.
    pub fn ecef_to_enu(&self, origin: &Geodetic, r: &Vector3<f64>) -> Vector3<f64> {
        let o = self.geodetic_to_ecef(origin);
        let [e, n, u] = Self::enu_basis(origin.lat_rad, origin.lon_rad);
        let d = r - o;
        Vector3::new(e.dot(&d), n.dot(&d), u.dot(&d))
    }

    /// ENU coordinates (m) relative to a geodetic origin -> ECEF point.
    pub fn enu_to_ecef(&self, origin: &Geodetic, enu: &Vector3<f64>) -> Vector3<f64> {
        let o = self.geodetic_to_ecef(origin);
        let [e, n, u] = Self::enu_basis(origin.lat_rad, origin.lon_rad);
        o + e * enu.x + n * enu.y + u * enu.z
    }
}

/// ENU -> AER: azimuth = atan2(e, n) wrapped to [0, 2 pi), elevation = atan2(u, hypot(e, n)).
pub fn enu_to_aer(enu: &Vector3<f64>) -> Aer {
    let horizontal = crate::earth::sqrt(enu.x * enu.x + enu.y * enu.y);
    let mut azimuth_rad = libm::atan2(enu.x, enu.y);
    if azimuth_rad < 0.0 {
        azimuth_rad += 2.0 * core::f64::consts::PI;
    }
    Aer {
        azimuth_rad,
        elevation_rad: libm::atan2(enu.z, horizontal),
        range_m: crate::earth::sqrt(horizontal * horizontal + enu.z * enu.z),
    }
}

/// AER -> ENU, the inverse of [`enu_to_aer`].
pub fn aer_to_enu(aer: &Aer) -> Vector3<f64> {
    let (se, ce) = libm::sincos(aer.elevation_rad);
    let (sa, ca) = libm::sincos(aer.azimuth_rad);
    Vector3::new(
        aer.range_m * ce * sa,
        aer.range_m * ce * ca,
        aer.range_m * se,
    )
}

/// Central angle between two points on a sphere (rad), by the haversine formula
/// (Sinnott 1984, "Virtues of the haversine", Sky & Telescope 68(2)).
pub fn central_angle_rad(a: &GeoPoint, b: &GeoPoint) -> f64 {
    let (lat1, lat2) = (a.lat_deg.to_radians(), b.lat_deg.to_radians());
    haversine_rad(
        lat1,
        libm::cos(lat1),
        a.lon_deg,
        lat2,
        libm::cos(lat2),
        b.lon_deg,
    )
}

/// [`central_angle_rad`] from latitudes (rad) with their cosines already taken and longitudes
/// (deg): a point looked at many times pays its cosine once.
pub fn haversine_rad(
    lat1_rad: f64,
    cos_lat1: f64,
    lon1_deg: f64,
    lat2_rad: f64,
    cos_lat2: f64,
    lon2_deg: f64,
) -> f64 {
    let dlat = lat2_rad - lat1_rad;
    let dlon = (lon2_deg - lon1_deg).to_radians();
    let s1 = libm::sin(dlat / 2.0);
    let s2 = libm::sin(dlon / 2.0);
    let h = s1 * s1 + cos_lat1 * cos_lat2 * s2 * s2;
    2.0 * libm::asin(crate::earth::sqrt(h.clamp(0.0, 1.0)))
}

/// Great-circle distance (m) on a sphere of the given radius (haversine; display accuracy,
/// about 0.5% from the ellipsoidal geodesic).
pub fn great_circle_distance_m(a: &GeoPoint, b: &GeoPoint, radius_m: f64) -> f64 {
    central_angle_rad(a, b) * radius_m
}

/// Initial great-circle bearing from `a` to `b` (rad, clockwise from north, in [0, 2 pi)).
pub fn initial_bearing_rad(a: &GeoPoint, b: &GeoPoint) -> f64 {
    let (lat1, lat2) = (a.lat_deg.to_radians(), b.lat_deg.to_radians());
    let dlon = (b.lon_deg - a.lon_deg).to_radians();
    let y = libm::sin(dlon) * libm::cos(lat2);
    let x = libm::cos(lat1) * libm::sin(lat2) - libm::sin(lat1) * libm::cos(lat2) * libm::cos(dlon);
    let mut t = libm::atan2(y, x);
    if t < 0.0 {
        t += 2.0 * core::f64::consts::PI;
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::earth::Length;

    #[test]
    fn geodetic_ecef_round_trip_is_sub_millimetre() {
        let e = Ellipsoid::WGS84;
        for lat in (-90..=90).step_by(5) {
            for lon in (-180..=180).step_by(30) {
                for alt in [-1000.0, 0.0, 10_000.0, 400_000.0, 3_000_000.0] {
                    let g = Geodetic {
                        lat_rad: (lat as f64).to_radians(),
                        lon_rad: (lon as f64).to_radians(),
                        alt_m: alt,
                    };
                    let r = e.geodetic_to_ecef(&g);
                    let back = e.ecef_to_geodetic(&r);
                    assert!(
                        (back.alt_m - alt).abs() < 1e-3,
                        "alt {lat} {lon} {alt}: {back:?}"
                    );
                    assert!(
                        (back.lat_rad - g.lat_rad).abs() < 1e-10,
                        "lat {lat} {lon} {alt}"
                    );
                    let r2 = e.geodetic_to_ecef(&back);
                    assert!((r2 - r).length() < 1e-3);
                }
            }
        }
    }

    #[test]
    fn bowring_height_matches_heikkinen() {
        // A grid over latitude and height, from below the surface to beyond the highest ICBM
        // apogee; both conversions are independent formulas.
        let e = Ellipsoid::WGS84;
        let mut worst: f64 = 0.0;
        for lat10 in -900..=900 {
            let lat = f64::from(lat10) / 10.0;
            for alt in [
                -5_000.0,
                0.0,
                1_000.0,
                30_000.0,
                86_000.0,
                120_000.0,
                500_000.0,
                1_500_000.0,
                10_000_000.0,
            ] {
                let g = Geodetic {
                    lat_rad: lat.to_radians(),
                    lon_rad: (lat * 3.0).to_radians(),
                    alt_m: alt,
                };
                let r = e.geodetic_to_ecef(&g);
                let exact = e.ecef_to_geodetic(&r).alt_m;
                let d = (e.altitude_m(&r) - exact).abs();
                worst = worst.max(d);
                assert!(
                    d < 1e-6,
                    "lat {lat} alt {alt}: {} vs {exact}",
                    e.altitude_m(&r)
                );
                assert!((e.altitude_m(&r) - alt).abs() < 1e-3);
            }
        }
        eprintln!("Bowring vs Heikkinen: worst height difference {worst:e} m");
        assert_eq!(e.altitude_m(&Vector3::zeros()), -e.b_m());
    }

    #[test]
    fn ecef_of_known_points() {
        let e = Ellipsoid::WGS84;
        let eq = e.geodetic_to_ecef(&GeoPoint::new(0.0, 0.0).to_geodetic(0.0));
        assert!((eq - Vector3::new(6_378_137.0, 0.0, 0.0)).length() < 1e-6);
        let pole = e.geodetic_to_ecef(&GeoPoint::new(90.0, 0.0).to_geodetic(0.0));
        assert!((pole.z - 6_356_752.314_245).abs() < 1e-3);
    }

    #[test]
    fn enu_aer_round_trip_and_zenith() {
        let e = Ellipsoid::WGS84;
        let origin = GeoPoint::new(34.73, -120.57).to_geodetic(100.0);
        let up = Geodetic {
            alt_m: 1100.0,
            ..origin
        };
        let enu = e.ecef_to_enu(&origin, &e.geodetic_to_ecef(&up));
        assert!((enu - Vector3::new(0.0, 0.0, 1000.0)).length() < 1e-6);
        let aer = Aer {
            azimuth_rad: 1.0,
            elevation_rad: 0.3,
            range_m: 12_345.0,
        };
        let back = enu_to_aer(&aer_to_enu(&aer));
        assert!((back.azimuth_rad - 1.0).abs() < 1e-12 && (back.range_m - 12_345.0).abs() < 1e-6);
        let p = e.enu_to_ecef(&origin, &aer_to_enu(&aer));
        assert!((e.ecef_to_enu(&origin, &p) - aer_to_enu(&aer)).length() < 1e-6);
    }

    #[test]
    fn great_circle_la_to_atlanta() {
        // Los Angeles -> Atlanta is about 3,100 km (great-circle, mean radius).
        let d = great_circle_distance_m(
            &GeoPoint::new(34.05, -118.25),
            &GeoPoint::new(33.749, -84.388),
            crate::earth::MEAN_RADIUS_M,
        );
        assert!((d - 3_110_000.0).abs() < 30_000.0, "{d}");
        let b = initial_bearing_rad(&GeoPoint::new(0.0, 0.0), &GeoPoint::new(0.0, 10.0));
        assert!((b.to_degrees() - 90.0).abs() < 1e-9);
    }
}
