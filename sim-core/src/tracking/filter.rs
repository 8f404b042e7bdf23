//! The filter's arithmetic for one plot: a track predicted to the scan's time with its
//! predicted measurement ([`predict`]), the Mahalanobis distance of a plot from it
//! ([`distance2`]), and the iterated EKF update with the Joseph form ([`ekf_update`]).
//!
//! The measurement (range, azimuth, elevation) depends on the position alone, so its Jacobian
//! is H = [Hp 0] with Hp 3 x 3 ([`super::measurement::SiteFrame::measure`]); S, the gain and
//! the Joseph form are computed from that block (the same algebra as with the full 3 x 7 H,
//! fewer products). Sources: BLK (see [`super`]) sec. 5.2 and 10.5.2.

use nalgebra::{Matrix3, SMatrix, Vector3};

use super::Track;
use super::linalg;
use super::measurement::{self, SiteFrame};
use super::motion::{self, BallisticModel, Mat7, State, process_noise};
use crate::earth::Length;
use crate::radar::Detection;

/// A track predicted to the scan time.
#[derive(Clone, Copy)]
pub(super) struct Predicted {
    pub(super) x: State,
    pub(super) p: Mat7,
    pub(super) z: Vector3<f64>,
    /// The measurement's Jacobian with respect to position (the rest of the 7-state's is 0).
    pub(super) h: Matrix3<f64>,
}

/// The track predicted to `time_s` with white-acceleration density `q` (and its measurement).
pub(super) fn predict(
    model: &BallisticModel,
    frame: &SiteFrame,
    t: &Track,
    time_s: f64,
    q: f64,
    q_kappa: f64,
) -> Predicted {
    let dt = time_s - t.time_s;
    // Radars sharing a revisit scan in the same tick: after the first one's update the next
    // ones find the estimate already at their time (Phi = I; the same numbers without the
    // two products).
    let (x, pp) = if dt == 0.0 {
        (t.state(), t.covariance + process_noise(dt, q, q_kappa))
    } else {
        let (x, phi) = model.propagate(&t.state(), dt);
        (
            x,
            linalg::sandwich(&phi, &t.covariance) + process_noise(dt, q, q_kappa),
        )
    };
    let pp = (pp + pp.transpose()) * 0.5;
    let (z, h) = frame.measure(&motion::position(&x));
    Predicted { x, p: pp, z, h }
}

/// The position block of a covariance.
pub(super) fn position_block(p: &Mat7) -> Matrix3<f64> {
    p.fixed_view::<3, 3>(0, 0).into_owned()
}

/// The squared Mahalanobis distance of a plot from a prediction, if S is invertible.
pub(super) fn distance2(pr: &Predicted, d: &Detection) -> Option<f64> {
    let s = linalg::sandwich(&pr.h, &position_block(&pr.p)) + measurement::noise(d);
    let s_inv = s.try_inverse()?;
    let nu = measurement::innovation(&measurement::measured(d), &pr.z);
    let d2 = (nu.transpose() * s_inv * nu)[(0, 0)];
    d2.is_finite().then_some(d2)
}
/// Most iterations of the iterated EKF update.
pub(super) const IEKF_ITERATIONS: usize = 5;
/// The iterated update stops when the next iterate would move the position less than this
/// (m): when the last move did, or when the measurement's curvature over the last move,
/// moved^2 / range (the second-order term of h over the correction, which is what
/// re-linearising changes), is below it.
pub(super) const IEKF_TOLERANCE_M: f64 = 0.01;

/// The iterated EKF update of a predicted track with one plot (BLK sec. 10.5.2: the
/// Gauss-Newton iteration x_{i+1} = x + K_i (z - h(x_i) - H_i (x - x_i)), re-linearising h at
/// each iterate; then the Joseph form of the covariance, BLK eq. 5.2.3-18). The iteration
/// matters at initiation, when the prior velocity is zero and the predicted position can be
/// kilometres off: the range's curvature d^2 / 2R over that offset is many range sigmas and a
/// single linearisation would give a wrong, over-confident velocity. Returns the normalised
/// innovation squared at the prediction, or `None` if S is singular.
pub(super) fn ekf_update(
    t: &mut Track,
    pr: &Predicted,
    frame: &SiteFrame,
    d: &Detection,
    time_s: f64,
) -> Option<f64> {
    let r: Matrix3<f64> = measurement::noise(d);
    let z = measurement::measured(d);
    let nu0 = measurement::innovation(&z, &pr.z);
    // H = [Hp 0]: H P H^T = Hp Ppp Hp^T and P H^T = P[:, 0..3] Hp^T.
    let ppp = position_block(&pr.p);
    let p_cols: SMatrix<f64, 7, 3> = pr.p.fixed_columns::<3>(0).into_owned();
    let s0_inv = (linalg::sandwich(&pr.h, &ppp) + r).try_inverse()?;
    let nis = (nu0.transpose() * s0_inv * nu0)[(0, 0)];
    let (mut xi, mut zi, mut hi) = (pr.x, pr.z, pr.h);
    let mut k: SMatrix<f64, 7, 3>;
    let mut iteration = 0;
    let range_m = d.range_m.max(1.0);
    // bounded: IEKF_ITERATIONS iterations at most.
    loop {
        // The first iterate linearises at the prediction, whose S was inverted for the NIS.
        let s_inv = if iteration == 0 {
            s0_inv
        } else {
            (linalg::sandwich(&hi, &ppp) + r).try_inverse()?
        };
        k = linalg::mul(&linalg::mul_t(&p_cols, &hi), &s_inv);
        let nu = measurement::innovation(&z, &zi)
            - hi * (motion::position(&pr.x) - motion::position(&xi));
        let next = pr.x + k * nu;
        let moved = (motion::position(&next) - motion::position(&xi)).length();
        xi = next;
        iteration += 1;
        if moved < IEKF_TOLERANCE_M
            || moved * moved < IEKF_TOLERANCE_M * range_m
            || iteration >= IEKF_ITERATIONS
        {
            break;
        }
        (zi, hi) = frame.measure(&motion::position(&xi));
    }
    let x = xi;
    // Joseph form (I - K H) P (I - K H)^T + K R K^T with I - K H = I - [G 0], G = K Hp:
    // A = (I - K H) P = P - G P[0..3, :], then A (I - K H)^T + K R K^T
    // = A - (A[:, 0..3] Hp^T - K R) K^T (R is diagonal). The bracket is A H^T - K R =
    // P H^T - K S, the gain's own residual: the Joseph form's correction of a gain that is
    // not exactly optimal, here taken as one product.
    let g = linalg::mul(&k, &hi);
    let p_rows: SMatrix<f64, 3, 7> = pr.p.fixed_rows::<3>(0).into_owned();
    let a = pr.p - linalg::mul(&g, &p_rows);
    let a_cols: SMatrix<f64, 7, 3> = a.fixed_columns::<3>(0).into_owned();
    let mut residual = linalg::mul_t(&a_cols, &hi);
    for m in 0..3 {
        let rm = r[(m, m)];
        for i in 0..7 {
            residual[(i, m)] -= k[(i, m)] * rm;
        }
    }
    let p = a - linalg::mul_t(&residual, &k);
    t.set_state(&x);
    t.covariance = (p + p.transpose()) * 0.5;
    t.time_s = time_s;
    Some(nis)
}
