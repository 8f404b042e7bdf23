//! The predicted impact point of a track and its ground uncertainty ellipse.
//!
//! The mean state is flown with the tracker's own ballistic model ([`super::motion`]) by the
//! fast predictor ([`super::predictor`]: adaptive Dormand-Prince steps) until the ellipsoidal
//! height crosses zero. The covariance rides along step by step, P <- Phi P Phi^T + Q, with
//! the process noise Q only over steps in the air (above it the model is the truth's own
//! equations, so the ellipse of a vacuum coast grows by the dynamics alone). A position
//! error dr at that fixed time moves the impact point along the velocity v to the surface
//! plane (normal u, the geodetic up): dr_imp = (I - v u^T / (u . v)) dr, the first-order
//! impact-point sensitivity (Li & Jilkov, IEEE Trans. AES 46(1), 2010, sec. on impact point
//! prediction; the same linearisation as the "IPP" covariance of Farrell, "Integrated
//! Aircraft Navigation", 1976). Projected on the local east/north plane this gives a 2x2
//! covariance whose 95% ellipse has semi-axes sqrt(5.991 lambda_i) (lambda the eigenvalues;
//! 5.991 = -2 ln 0.05, the 2-dof chi-square quantile). Invariant: deterministic, `libm` only.

use nalgebra::{Matrix2, SMatrix};
use serde::{Deserialize, Serialize};

use super::gate::chi2_2dof_quantile;
use super::motion::{BallisticModel, Mat7, State, position, velocity};
use super::predictor;
use crate::earth::Length;
use crate::earth::{Ellipsoid, GeoPoint};

/// Probability mass inside the reported ground ellipse.
pub const ELLIPSE_PROBABILITY: f64 = 0.95;
/// Longest flight predicted (s); beyond it the track is taken as orbital (no impact).
pub const MAX_PREDICTION_S: f64 = 4.0 * 3600.0;

/// Where and when a track is predicted to hit the ground, with its 95% ground ellipse.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ImpactPrediction {
    /// Predicted impact point (height zero on the reference surface).
    pub at: GeoPoint,
    /// Predicted impact time (simulation time, s).
    pub time_s: f64,
    /// Semi-major axis of the 95% ground ellipse (m).
    pub semi_major_m: f64,
    /// Semi-minor axis of the 95% ground ellipse (m).
    pub semi_minor_m: f64,
    /// Direction of the major axis, clockwise from north (deg, in [0, 180)).
    pub orientation_deg: f64,
    /// Simulation time of the track estimate the prediction was made from (s).
    pub from_estimate_s: f64,
}

/// Predicts the impact of the estimate `x` (covariance `p`, time `t0_s`), or `None` when it
/// is already at or below the surface or does not come down within [`MAX_PREDICTION_S`].
/// The flight and the covariance go through the fast predictor ([`super::predictor`]):
/// adaptive steps, and process noise only where the ballistic model meets the air.
pub fn predict(
    model: &BallisticModel,
    x: &State,
    p: &Mat7,
    t0_s: f64,
    q_m2_s3: f64,
    q_kappa: f64,
) -> Option<ImpactPrediction> {
    let (s_imp, cov, t_imp) =
        predictor::to_impact(model, x, p, MAX_PREDICTION_S, q_m2_s3, q_kappa)?;
    Some(ellipse(&model.ellipsoid, &s_imp, &cov, t0_s + t_imp, t0_s))
}

/// The ground point and 95% ellipse of an impact state and its covariance.
fn ellipse(ell: &Ellipsoid, s: &State, cov: &Mat7, time_s: f64, from_s: f64) -> ImpactPrediction {
    let r = position(s);
    let v = velocity(s);
    let mut g = ell.ecef_to_geodetic(&r);
    g.alt_m = 0.0;
    let [e, n, u] = Ellipsoid::enu_basis(g.lat_rad, g.lon_rad);
    let uv = u.dot(&v);
    // Guard a grazing trajectory (u . v ~ 0): cap the stretch along v at 1e3.
    let uv = if uv.abs() < 1e-3 * v.length().max(1e-9) {
        -1e-3 * v.length().max(1e-9)
    } else {
        uv
    };
    let proj = nalgebra::Matrix3::identity() - (v * u.transpose()) / uv;
    let en = SMatrix::<f64, 2, 3>::from_rows(&[e.transpose(), n.transpose()]) * proj;
    let prr = cov.fixed_view::<3, 3>(0, 0).into_owned();
    let c: Matrix2<f64> = en * prr * en.transpose();
    let (a, b, d) = (c[(0, 0)], 0.5 * (c[(0, 1)] + c[(1, 0)]), c[(1, 1)]);
    let mean = 0.5 * (a + d);
    let rad = crate::earth::sqrt(0.25 * (a - d) * (a - d) + b * b);
    let (l1, l2) = ((mean + rad).max(0.0), (mean - rad).max(0.0));
    // Major axis angle from east, counter-clockwise; as an azimuth from north, clockwise.
    let theta = 0.5 * libm::atan2(2.0 * b, a - d);
    let mut az = 90.0 - theta.to_degrees();
    az = libm::fmod(az, 180.0);
    if az < 0.0 {
        az += 180.0;
    }
    let k2 = chi2_2dof_quantile(ELLIPSE_PROBABILITY);
    ImpactPrediction {
        at: g.to_point(),
        time_s,
        semi_major_m: crate::earth::sqrt(k2 * l1),
        semi_minor_m: crate::earth::sqrt(k2 * l2),
        orientation_deg: az,
        from_estimate_s: from_s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::earth::GeoPoint;
    use crate::flight::{Flight, PhysicsParams};
    use crate::missile::MissileKind;

    #[test]
    fn mean_impact_matches_the_flight_propagator_and_the_ellipse_is_oriented() {
        let physics = PhysicsParams {
            atmosphere: false,
            ..PhysicsParams::default()
        };
        let mut f = Flight::free(
            MissileKind::ScudC,
            GeoPoint::new(30.0, 40.0),
            100_000.0,
            2_500.0,
            35.0,
            90.0,
            &physics,
        );
        let x = State::from_column_slice(&{
            let r = f.position_ecef(&physics);
            let v = f.velocity_ecef(&physics);
            [r.x, r.y, r.z, v.x, v.y, v.z, 0.0]
        });
        let model = BallisticModel::new(&physics);
        // Position uncertainty of 100 m along east only: the ellipse's major axis runs
        // east-west (the trajectory heads east), of 95% half-length about 2.45 x 100 m
        // stretched by the projection along the velocity.
        let g = physics
            .earth
            .ellipsoid()
            .ecef_to_geodetic(&crate::tracking::motion::position(&x));
        let [e, _, _] = Ellipsoid::enu_basis(g.lat_rad, g.lon_rad);
        let mut p = Mat7::zeros();
        p.fixed_view_mut::<3, 3>(0, 0)
            .copy_from(&(e * e.transpose() * 1e4));
        p[(3, 3)] = 1e-12;
        let ip = predict(&model, &x, &p, 10.0, 0.0, 0.0).expect("comes down");
        let (summary, _) = f.fly_to_impact(&physics, None).expect("impacts");
        let d = crate::earth::frames::great_circle_distance_m(&ip.at, &summary.impact, 6_371_000.0);
        assert!(d < 20.0, "impact {d} m off");
        assert!((ip.time_s - 10.0 - summary.flight_time_s).abs() < 0.05);
        assert!((ip.orientation_deg - 90.0).abs() < 5.0, "{ip:?}");
        assert!(
            ip.semi_major_m > 245.0 && ip.semi_major_m < 2_000.0,
            "{ip:?}"
        );
        assert!(ip.semi_minor_m < 0.2 * ip.semi_major_m, "{ip:?}");
        // Already on the ground: nothing to predict.
        let mut low = x;
        let r = crate::tracking::motion::position(&x) * 0.5;
        low[0] = r.x;
        low[1] = r.y;
        low[2] = r.z;
        assert!(predict(&model, &low, &p, 0.0, 0.0, 0.0).is_none());
    }
}
