//! Looks prepared once: what a look's geometry needs from the site alone ([`SiteView`]) and
//! from the target alone ([`TargetView`]).
//!
//! A scan looks at every target, and in a raid every target is looked at by every radar in
//! the same instant; [`super::geometry`] on its own converts the antenna to ECEF, builds its
//! east-north-up basis, converts the target to geodetic, and takes both horizon angles, for
//! every pair. Here the site's part is paid once per scan and the target's once per tick.
//! [`super::geometry`] is [`SiteView::geometry`] of the two views, so both ways give the same
//! numbers bit for bit (the same operations in the same order).
//!
//! Formulas: ECEF/ENU/geodetic conversions in [`crate::earth::frames`] (Heikkinen for the
//! geodetic height and latitude), the great-circle angle by the haversine formula
//! ([`crate::earth::frames::central_angle_rad`]), line of sight and refracted elevation over
//! the 4/3 Earth ([`super::horizon`]).

use nalgebra::Vector3;

use super::{Geometry, HorizonParams, RadarSite};
use crate::earth::frames::{enu_to_aer, haversine_rad};
use crate::earth::{EarthParams, Ellipsoid};

/// A radar site prepared for many looks in one scan.
#[derive(Debug, Clone, Copy)]
pub struct SiteView {
    ellipsoid: Ellipsoid,
    horizon: HorizonParams,
    /// The antenna (ECEF, m).
    origin: Vector3<f64>,
    /// East, north and up at the antenna (ECEF unit vectors).
    basis: [Vector3<f64>; 3],
    lat_rad: f64,
    cos_lat: f64,
    lon_deg: f64,
    height_m: f64,
    /// The antenna's horizon angle on the effective sphere (rad).
    horizon_rad: f64,
}

impl SiteView {
    /// The view of `site` on `earth`.
    pub fn new(site: &RadarSite, earth: &EarthParams) -> Self {
        let ellipsoid = earth.ellipsoid();
        let antenna = super::antenna(site);
        let horizon = super::horizon_params(earth);
        let lat_rad = site.position.lat_deg.to_radians();
        Self {
            ellipsoid,
            horizon,
            origin: ellipsoid.geodetic_to_ecef(&antenna),
            basis: Ellipsoid::enu_basis(antenna.lat_rad, antenna.lon_rad),
            lat_rad,
            cos_lat: libm::cos(lat_rad),
            lon_deg: site.position.lon_deg,
            height_m: site.height_m,
            horizon_rad: horizon.horizon_angle_rad(site.height_m),
        }
    }

    /// The ellipsoid the site stands on.
    pub fn ellipsoid(&self) -> &Ellipsoid {
        &self.ellipsoid
    }

    /// East-north-up coordinates (m) of an ECEF point seen from the antenna.
    pub fn ecef_to_enu(&self, r: &Vector3<f64>) -> Vector3<f64> {
        let [e, n, u] = &self.basis;
        let d = r - self.origin;
        Vector3::new(e.dot(&d), n.dot(&d), u.dot(&d))
    }

    /// The ECEF point (m) at east-north-up coordinates `enu` from the antenna.
    pub fn enu_to_ecef(&self, enu: &Vector3<f64>) -> Vector3<f64> {
        let [e, n, u] = &self.basis;
        self.origin + e * enu.x + n * enu.y + u * enu.z
    }

    /// Where the target is seen from the site: geometric AER, refracted elevation, ground
    /// distance on the mean sphere and line of sight over the 4/3 Earth.
    pub fn geometry(&self, target: &TargetView) -> Geometry {
        let aer = enu_to_aer(&self.ecef_to_enu(&target.ecef));
        let angle = haversine_rad(
            self.lat_rad,
            self.cos_lat,
            self.lon_deg,
            target.lat_rad,
            target.cos_lat,
            target.lon_deg,
        );
        let ground_m = angle * self.horizon.earth_radius_m;
        let line_of_sight = if target.alt_m < 0.0 {
            ground_m <= 0.0
        } else {
            self.horizon
                .within_horizons(self.horizon_rad, target.horizon_rad, ground_m)
        };
        Geometry {
            aer,
            effective_elevation_rad: self.horizon.effective_elevation_rad(
                self.height_m,
                target.alt_m,
                ground_m,
            ),
            target_alt_m: target.alt_m,
            ground_m,
            line_of_sight,
        }
    }
}

/// A target prepared for looks by many radars at one instant.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TargetView {
    /// Position (ECEF, m).
    pub ecef: Vector3<f64>,
    /// Height above the ellipsoid (m).
    pub alt_m: f64,
    lat_rad: f64,
    cos_lat: f64,
    lon_deg: f64,
    /// The target's horizon angle on the effective sphere (rad).
    horizon_rad: f64,
}

impl TargetView {
    /// The view of a target at `ecef` (m) on `earth`.
    pub fn new(earth: &EarthParams, ecef: &Vector3<f64>) -> Self {
        let g = earth.ellipsoid().ecef_to_geodetic(ecef);
        let point = g.to_point();
        let lat_rad = point.lat_deg.to_radians();
        Self {
            ecef: *ecef,
            alt_m: g.alt_m,
            lat_rad,
            cos_lat: libm::cos(lat_rad),
            lon_deg: point.lon_deg,
            horizon_rad: super::horizon_params(earth).horizon_angle_rad(g.alt_m),
        }
    }
}
