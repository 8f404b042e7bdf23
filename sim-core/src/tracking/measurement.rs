//! The measurement model: range, azimuth and elevation of the track's ECEF position seen from
//! one radar's antenna, and its Jacobian.
//!
//! With d = M (r - o) the ENU offset of the target from the antenna o (M's rows: east, north,
//! up at the antenna's geodetic latitude/longitude, [`crate::earth::Ellipsoid::enu_basis`]),
//! rho = sqrt(e^2 + n^2), R = |d|:
//!
//! ```text
//! h(x) = (R, atan2(e, n), atan2(u, rho))
//! dR/dd  = d^T / R
//! daz/dd = (n, -e, 0) / rho^2
//! del/dd = (-e u, -n u, rho^2) / (R^2 rho)
//! H = [dh/dd M, 0 (3x4)]
//! ```
//!
//! (Bar-Shalom, Li & Kirubarajan 2001, sec. 10.3.3, the polar-measurement EKF; Blackman &
//! Popoli, "Design and Analysis of Modern Tracking Systems", 1999, sec. 3.x.) The measurement
//! covariance is diag(sigma_R^2, sigma_az^2, sigma_el^2) from the plot's own
//! [`crate::radar::MeasurementSigmas`]. The measurement is geometric (the radar corrects
//! refraction), as [`crate::radar::observe`] produces it. Invariant: transcendentals via
//! `libm`.

use nalgebra::{Matrix3, Vector3};

use crate::earth::Ellipsoid;
use crate::radar::{Detection, RadarSite};

/// A radar's antenna as a local frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SiteFrame {
    /// Antenna position (ECEF, m).
    pub origin: Vector3<f64>,
    /// Rows: the east, north and up unit vectors (ECEF -> ENU rotation).
    pub rot: Matrix3<f64>,
}

impl SiteFrame {
    /// The frame of a site's antenna on a reference surface.
    pub fn new(site: &RadarSite, ellipsoid: &Ellipsoid) -> Self {
        let g = site.position.to_geodetic(site.height_m);
        let [e, n, u] = Ellipsoid::enu_basis(g.lat_rad, g.lon_rad);
        Self {
            origin: ellipsoid.geodetic_to_ecef(&g),
            rot: Matrix3::from_rows(&[e.transpose(), n.transpose(), u.transpose()]),
        }
    }

    /// Predicted measurement (range m, azimuth rad in [0, 2 pi), elevation rad) of an ECEF
    /// position, and its Jacobian with respect to that position: the 7-state's Jacobian is
    /// this 3 x 3 block followed by zeros (the measurement depends on neither the velocity nor
    /// kappa), which the filter exploits.
    pub fn measure(&self, r: &Vector3<f64>) -> (Vector3<f64>, Matrix3<f64>) {
        let d = self.rot * (r - self.origin);
        let (e, n, u) = (d.x, d.y, d.z);
        let rho2 = e * e + n * n;
        let rho = crate::earth::sqrt(rho2).max(1e-9);
        let range = crate::earth::sqrt(rho2 + u * u).max(1e-9);
        let mut az = libm::atan2(e, n);
        if az < 0.0 {
            az += 2.0 * core::f64::consts::PI;
        }
        let el = libm::atan2(u, rho);
        let rho2 = rho * rho;
        let dd = Matrix3::new(
            e / range,
            n / range,
            u / range,
            n / rho2,
            -e / rho2,
            0.0,
            -e * u / (range * range * rho),
            -n * u / (range * range * rho),
            rho2 / (range * range * rho),
        );
        (Vector3::new(range, az, el), dd * self.rot)
    }

    /// A plot as an ECEF point and its Cartesian covariance J R J^T (J the Jacobian of
    /// AER -> ENU at the measured point, rotated to ECEF): the first-order "converted
    /// measurement" (Bar-Shalom, Li & Kirubarajan 2001, sec. 10.4.3), used to initiate tracks
    /// and to bound gates.
    pub fn plot_ecef(&self, det: &Detection) -> (Vector3<f64>, Matrix3<f64>) {
        let t = PlotTrig::of(det);
        let rg = det.range_m;
        // Columns: d/dR, d/daz, d/del of (e, n, u).
        let j = Matrix3::new(
            t.ce * t.sa,
            rg * t.ce * t.ca,
            -rg * t.se * t.sa,
            t.ce * t.ca,
            -rg * t.ce * t.sa,
            -rg * t.se * t.ca,
            t.se,
            0.0,
            rg * t.ce,
        );
        let s = &det.sigmas;
        let r = Matrix3::from_diagonal(&Vector3::new(
            s.range_m * s.range_m,
            s.azimuth_rad * s.azimuth_rad,
            s.elevation_rad * s.elevation_rad,
        ));
        let jt = self.rot.transpose() * j;
        (self.point(det, &t), jt * r * jt.transpose())
    }

    /// A plot as an ECEF point and the trace of its [`SiteFrame::plot_ecef`] covariance, for
    /// gate bounds: the columns of J are orthogonal with lengths 1, R cos(el) and R, and the
    /// rotation to ECEF keeps lengths, so trace(J R J^T) = sR^2 + (R cos(el) s_az)^2 +
    /// (R s_el)^2 without forming the matrix.
    pub fn plot_position(&self, det: &Detection) -> (Vector3<f64>, f64) {
        let t = PlotTrig::of(det);
        let s = &det.sigmas;
        let across = det.range_m * t.ce * s.azimuth_rad;
        let up = det.range_m * s.elevation_rad;
        (
            self.point(det, &t),
            s.range_m * s.range_m + across * across + up * up,
        )
    }

    /// The plot's ECEF point: its AER as east-north-up (the products of
    /// [`crate::earth::frames::aer_to_enu`], in its order), rotated and moved to the antenna.
    fn point(&self, det: &Detection, t: &PlotTrig) -> Vector3<f64> {
        let rg = det.range_m;
        let enu = Vector3::new(rg * t.ce * t.sa, rg * t.ce * t.ca, rg * t.se);
        self.origin + self.rot.transpose() * enu
    }
}

/// Sines and cosines of a plot's elevation and azimuth, taken once per plot.
struct PlotTrig {
    se: f64,
    ce: f64,
    sa: f64,
    ca: f64,
}

impl PlotTrig {
    fn of(det: &Detection) -> Self {
        let (se, ce) = libm::sincos(det.elevation_rad);
        let (sa, ca) = libm::sincos(det.azimuth_rad);
        Self { se, ce, sa, ca }
    }
}

/// The measurement vector (range, azimuth, elevation) of a detection.
pub fn measured(det: &Detection) -> Vector3<f64> {
    Vector3::new(det.range_m, det.azimuth_rad, det.elevation_rad)
}

/// The measurement covariance R of a detection.
pub fn noise(det: &Detection) -> Matrix3<f64> {
    let s = &det.sigmas;
    Matrix3::from_diagonal(&Vector3::new(
        s.range_m * s.range_m,
        s.azimuth_rad * s.azimuth_rad,
        s.elevation_rad * s.elevation_rad,
    ))
}

/// Innovation z - h with the azimuth difference wrapped to (-pi, pi].
pub fn innovation(z: &Vector3<f64>, h: &Vector3<f64>) -> Vector3<f64> {
    let two_pi = 2.0 * core::f64::consts::PI;
    let mut daz = libm::fmod(z.y - h.y, two_pi);
    if daz > core::f64::consts::PI {
        daz -= two_pi;
    } else if daz <= -core::f64::consts::PI {
        daz += two_pi;
    }
    Vector3::new(z.x - h.x, daz, z.z - h.z)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::earth::Length;
    use crate::earth::{EarthParams, GeoPoint};
    use crate::radar::{MeasurementSigmas, RadarId, RadarKind, geometry};

    #[test]
    fn matches_radar_geometry_and_its_finite_difference_jacobian() {
        let earth = EarthParams::default();
        let site =
            RadarKind::AnTpy2.site(RadarId(1), "t", GeoPoint::new(35.0, -120.0), 50.0, 270.0);
        let f = SiteFrame::new(&site, &earth.ellipsoid());
        let target = earth
            .ellipsoid()
            .geodetic_to_ecef(&GeoPoint::new(34.0, -124.0).to_geodetic(200_000.0));
        let (z, h) = f.measure(&target);
        let g = geometry(&site, &earth, &target);
        assert!((z.x - g.aer.range_m).abs() < 1e-6);
        assert!((z.y - g.aer.azimuth_rad).abs() < 1e-12);
        assert!((z.z - g.aer.elevation_rad).abs() < 1e-12);
        for j in 0..3 {
            let mut d = Vector3::zeros();
            d[j] = 1.0;
            let num = (f.measure(&(target + d)).0 - f.measure(&(target - d)).0) / 2.0;
            for i in 0..3 {
                assert!(
                    (h[(i, j)] - num[i]).abs() < 1e-9 * (1.0 + num[i].abs()),
                    "{i}{j}"
                );
            }
        }
        // Plot back to ECEF: the same point.
        let det = Detection {
            range_m: z.x,
            azimuth_rad: z.y,
            elevation_rad: z.z,
            snr_db: 20.0,
            lat_deg: 0.0,
            lon_deg: 0.0,
            alt_m: 0.0,
            sigmas: MeasurementSigmas {
                range_m: 10.0,
                azimuth_rad: 1e-3,
                elevation_rad: 1e-3,
            },
        };
        let (p, cov) = f.plot_ecef(&det);
        assert!((p - target).length() < 1e-6);
        // Trace: sigma_R^2 + (R sigma_az cos el)^2 + (R sigma_el)^2.
        let want = 100.0 + (z.x * 1e-3 * libm::cos(z.z)).powi(2) + (z.x * 1e-3).powi(2);
        assert!((cov.trace() / want - 1.0).abs() < 1e-9);
        // The gate bound's shortcut: the same point and trace.
        let (q, trace) = f.plot_position(&det);
        assert_eq!(q, p);
        assert!((trace / cov.trace() - 1.0).abs() < 1e-12);
        let w = innovation(&Vector3::new(0.0, 0.01, 0.0), &Vector3::new(0.0, 6.27, 0.0));
        assert!((w.y - (0.01 - 6.27 + 2.0 * core::f64::consts::PI)).abs() < 1e-12);
    }
}
