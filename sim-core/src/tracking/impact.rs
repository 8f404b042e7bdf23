//! The predicted impact point of a track and its ground uncertainty ellipse.
//!
//! The mean state is flown with the tracker's own ballistic model ([`super::motion`], RK4,
//! steps of [`step_s`]: up to 20 s in vacuum, 0.5 s in the air) until the ellipsoidal height
//! crosses zero; the crossing is located by the Illinois method on the last step's length. The covariance rides along,
//! P(t) = Phi P0 Phi^T + Q(t - t0) (the filter's prediction to the impact time). A position
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
use super::motion::{BallisticModel, Mat7, State, position, process_noise, velocity};
use crate::earth::{Ellipsoid, GeoPoint};
use crate::flight::illinois::Illinois;

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

/// Longest step of the impact flight in vacuum (s). RK4's local error at 20 s on a ~90 min
/// orbit is (omega h)^5 r ~ 5 cm, far below the filter's own uncertainty.
pub const MAX_STEP_S: f64 = 20.0;
/// Step inside (or within 10 km of) the atmosphere, and the shortest step (s).
pub const AIR_STEP_S: f64 = 0.5;

/// The step of the impact flight (s) at height `alt_m` with radial speed `climb_m_s`
/// (positive up): the time to fall to the boundary (the top of the atmosphere, or the ground
/// in vacuum), clamped to [AIR_STEP_S, MAX_STEP_S]; [`AIR_STEP_S`] within 10 km of it.
pub fn step_s(model: &BallisticModel, alt_m: f64, climb_m_s: f64) -> f64 {
    let boundary = if model.atmosphere {
        crate::atmosphere::TOP_OF_ATMOSPHERE_M
    } else {
        0.0
    };
    if alt_m < boundary + 10_000.0 {
        return AIR_STEP_S;
    }
    ((alt_m - boundary) / (-climb_m_s).max(100.0)).clamp(AIR_STEP_S, MAX_STEP_S)
}

/// Predicts the impact of the estimate `x` (covariance `p`, time `t0_s`), or `None` when it
/// is already at or below the surface or does not come down within [`MAX_PREDICTION_S`].
pub fn predict(
    model: &BallisticModel,
    x: &State,
    p: &Mat7,
    t0_s: f64,
    q_m2_s3: f64,
    q_kappa: f64,
) -> Option<ImpactPrediction> {
    let ell = model.ellipsoid;
    let mut alt = ell.altitude_m(&position(x));
    if alt.is_nan() || alt <= 0.0 {
        return None;
    }
    let mut s = *x;
    let mut phi = Mat7::identity();
    let mut t = 0.0;
    while t < MAX_PREDICTION_S {
        let r = position(&s);
        let climb = velocity(&s).dot(&r) / r.norm();
        let h = step_s(model, alt, climb);
        let (next, step_phi) = model.propagate_with(&s, h, h);
        let next_alt = ell.altitude_m(&position(&next));
        if next_alt <= 0.0 {
            // Locate the crossing on the step length.
            let mut b = Illinois {
                a: 0.0,
                fa: alt,
                b: h,
                fb: next_alt,
            };
            let mut best = (h, next, step_phi);
            for _ in 0..40 {
                let c = b.next();
                let (sc, pc) = model.propagate_with(&s, c, h);
                let fc = ell.altitude_m(&position(&sc));
                best = (c, sc, pc);
                if fc.abs() < 0.01 || (b.b - b.a).abs() < 1e-6 {
                    break;
                }
                b.update(c, fc);
            }
            let (dt, s_imp, phi_last) = best;
            let phi = phi_last * phi;
            let t_imp = t + dt;
            let cov = phi * p * phi.transpose() + process_noise(t_imp, q_m2_s3, q_kappa);
            return Some(ellipse(&ell, &s_imp, &cov, t0_s + t_imp, t0_s));
        }
        phi = step_phi * phi;
        s = next;
        alt = next_alt;
        t += h;
    }
    None
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
    let uv = if uv.abs() < 1e-3 * v.norm().max(1e-9) {
        -1e-3 * v.norm().max(1e-9)
    } else {
        uv
    };
    let proj = nalgebra::Matrix3::identity() - (v * u.transpose()) / uv;
    let en = SMatrix::<f64, 2, 3>::from_rows(&[e.transpose(), n.transpose()]) * proj;
    let prr = cov.fixed_view::<3, 3>(0, 0).into_owned();
    let c: Matrix2<f64> = en * prr * en.transpose();
    let (a, b, d) = (c[(0, 0)], 0.5 * (c[(0, 1)] + c[(1, 0)]), c[(1, 1)]);
    let mean = 0.5 * (a + d);
    let rad = libm::sqrt(0.25 * (a - d) * (a - d) + b * b);
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
        semi_major_m: libm::sqrt(k2 * l1),
        semi_minor_m: libm::sqrt(k2 * l2),
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
