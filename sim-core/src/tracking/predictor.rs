//! The fast predictor: flies a track's estimate (and its covariance) forward with the
//! ballistic model of [`super::motion`], in adaptive steps with error control.
//!
//! Everything that flies an *estimate* far ahead goes through here: the tracker's impact point
//! and ellipse ([`super::impact`]), command and control's predicted trajectories (the samples
//! its envelopes are computed on) and anything else that asks where a track will be minutes
//! from now. The truth keeps its fine fixed-step flight ([`crate::flight`]); the filter's own
//! scan-to-scan prediction keeps [`BallisticModel::propagate`] (steps of a second or less).
//!
//! Integrator: the Dormand-Prince 5(4) embedded Runge-Kutta pair with local extrapolation and
//! the first-same-as-last property (Dormand & Prince, "A family of embedded Runge-Kutta
//! formulae", J. Comp. Appl. Math. 6(1), 1980; Hairer, Norsett & Wanner, "Solving Ordinary
//! Differential Equations I", 2nd ed., 1993, sec. II.4-II.5: the step-size controller
//! h_new = h min(5, max(0.2, 0.9 err^(-1/5)))). The error is measured per component against
//! absolute tolerances ([`POSITION_TOLERANCE_M`], [`VELOCITY_TOLERANCE_M_S`]), so a coast above
//! the atmosphere is crossed in steps of about a minute and the dense air near the ground in
//! steps of a second or two, where the fixed-step flight took 0.25 s throughout the air.
//!
//! Between steps, positions come from the quintic Hermite interpolant on the position,
//! velocity and acceleration at both ends (all known: the acceleration is the FSAL stage),
//! whose error is O(h^6). The ground is crossed where the interpolant's ellipsoidal height is
//! zero (Illinois method), and the final state is one more Dormand-Prince step of exactly that
//! length from the last accepted state.
//!
//! Covariance: P_(k+1) = Phi_k P_k Phi_k^T + Q_k over each accepted step, Phi_k the
//! third-order expansion I + A h + (A h)^2/2 + (A h)^3/6 of exp(A h) with the analytic
//! Jacobian A at the step's midpoint (taken from the interpolant). Q_k is the filter's
//! process noise ([`super::motion::process_noise`]) only for steps that touch the atmosphere:
//! the white-acceleration and ballistic-coefficient noises stand for what the ballistic model
//! does not know (drag's Mach dependence, manoeuvres in the air), and above the atmosphere the
//! model and the truth are the same equations, so the ellipse of an exo-atmospheric coast
//! grows only by the dynamics (Phi), not by noise over the whole time to go.
//!
//! Invariants: pure functions of their inputs; `libm` transcendentals (square roots through
//! [`crate::earth::sqrt`]); every loop is bounded by [`MAX_STEPS`] accepted steps and
//! [`MAX_REJECTIONS`] rejections in a row.

use nalgebra::Vector3;

use super::linalg;
use super::motion::{
    BallisticModel, KAPPA_MAX_M2_KG, Mat7, State, position, process_noise, velocity,
};
use crate::earth::sqrt;
use crate::flight::illinois::Illinois;

/// Absolute tolerance on each position component's local error per step (m).
pub const POSITION_TOLERANCE_M: f64 = 0.03;
/// Absolute tolerance on each velocity component's local error per step (m/s).
pub const VELOCITY_TOLERANCE_M_S: f64 = 3e-4;
/// Longest step (s): an orbit of 90 minutes in about 50 steps.
pub const MAX_STEP_S: f64 = 120.0;
/// Shortest step (s): a step the controller wants shorter is taken anyway at this length.
pub const MIN_STEP_S: f64 = 1e-3;
/// Most accepted steps of one prediction.
pub const MAX_STEPS: usize = 20_000;
/// Most rejected steps in a row before the step is taken at [`MIN_STEP_S`].
pub const MAX_REJECTIONS: usize = 30;

// Dormand-Prince 5(4) coefficients (Hairer, Norsett & Wanner, table 5.2).
const C: [f64; 7] = [0.0, 1.0 / 5.0, 3.0 / 10.0, 4.0 / 5.0, 8.0 / 9.0, 1.0, 1.0];
const A2: [f64; 1] = [1.0 / 5.0];
const A3: [f64; 2] = [3.0 / 40.0, 9.0 / 40.0];
const A4: [f64; 3] = [44.0 / 45.0, -56.0 / 15.0, 32.0 / 9.0];
const A5: [f64; 4] = [
    19_372.0 / 6_561.0,
    -25_360.0 / 2_187.0,
    64_448.0 / 6_561.0,
    -212.0 / 729.0,
];
const A6: [f64; 5] = [
    9_017.0 / 3_168.0,
    -355.0 / 33.0,
    46_732.0 / 5_247.0,
    49.0 / 176.0,
    -5_103.0 / 18_656.0,
];
/// Fifth-order weights (also the seventh stage's row: first same as last).
const B: [f64; 6] = [
    35.0 / 384.0,
    0.0,
    500.0 / 1_113.0,
    125.0 / 192.0,
    -2_187.0 / 6_784.0,
    11.0 / 84.0,
];
/// Fifth minus fourth-order weights: the local error estimate.
const E: [f64; 7] = [
    71.0 / 57_600.0,
    0.0,
    -71.0 / 16_695.0,
    71.0 / 1_920.0,
    -17_253.0 / 339_200.0,
    22.0 / 525.0,
    -1.0 / 40.0,
];

/// One accepted step: the states and derivatives at both ends.
#[derive(Debug, Clone, Copy)]
pub struct Segment {
    /// Time of the start, from the prediction's start (s).
    pub t0_s: f64,
    /// Step length (s).
    pub h_s: f64,
    /// State at the start.
    pub x0: State,
    /// Derivative at the start.
    pub f0: State,
    /// State at the end.
    pub x1: State,
    /// Derivative at the end.
    pub f1: State,
}

impl Segment {
    /// Position at `tau_s` into the step (0 <= tau <= h), by the quintic Hermite interpolant.
    pub fn position_at(&self, tau_s: f64) -> Vector3<f64> {
        let h = self.h_s;
        let s = if h > 0.0 { tau_s / h } else { 0.0 };
        let (s2, s3) = (s * s, s * s * s);
        let (s4, s5) = (s3 * s, s3 * s2);
        let h0 = 1.0 - 10.0 * s3 + 15.0 * s4 - 6.0 * s5;
        let h1 = s - 6.0 * s3 + 8.0 * s4 - 3.0 * s5;
        let h2 = 0.5 * s2 - 1.5 * s3 + 1.5 * s4 - 0.5 * s5;
        let h3 = 0.5 * s3 - s4 + 0.5 * s5;
        let h4 = -4.0 * s3 + 7.0 * s4 - 3.0 * s5;
        let h5 = 10.0 * s3 - 15.0 * s4 + 6.0 * s5;
        let (x0, f0, x1, f1) = (&self.x0, &self.f0, &self.x1, &self.f1);
        Vector3::from_fn(|i, _| {
            h0 * x0[i]
                + h1 * h * f0[i]
                + h2 * h * h * f0[i + 3]
                + h3 * h * h * f1[i + 3]
                + h4 * h * f1[i]
                + h5 * x1[i]
        })
    }

    /// The state at `tau_s` into the step, by the quintic interpolant for the position and
    /// its derivative for the velocity (kappa is constant).
    pub fn state_at(&self, tau_s: f64) -> State {
        let h = self.h_s;
        if h <= 0.0 {
            return self.x0;
        }
        let s = tau_s / h;
        let (s2, s3, s4) = (s * s, s * s * s, s * s * s * s);
        // Derivatives of the basis with respect to s.
        let d0 = -30.0 * s2 + 60.0 * s3 - 30.0 * s4;
        let d1 = 1.0 - 18.0 * s2 + 32.0 * s3 - 15.0 * s4;
        let d2 = s - 4.5 * s2 + 6.0 * s3 - 2.5 * s4;
        let d3 = 1.5 * s2 - 4.0 * s3 + 2.5 * s4;
        let d4 = -12.0 * s2 + 28.0 * s3 - 15.0 * s4;
        let d5 = 30.0 * s2 - 60.0 * s3 + 30.0 * s4;
        let r = self.position_at(tau_s);
        let (x0, f0, x1, f1) = (&self.x0, &self.f0, &self.x1, &self.f1);
        let v = Vector3::from_fn(|i, _| {
            (d0 * x0[i]
                + d1 * h * f0[i]
                + d2 * h * h * f0[i + 3]
                + d3 * h * h * f1[i + 3]
                + d4 * h * f1[i]
                + d5 * x1[i])
                / h
        });
        State::from_column_slice(&[r.x, r.y, r.z, v.x, v.y, v.z, self.x0[6]])
    }
}

/// One Dormand-Prince step of length `h` from `x` (derivative `f0` at `x`): the fifth-order
/// state, its derivative (the next step's first stage) and the error estimate.
fn dopri_step(model: &BallisticModel, x: &State, f0: &State, h: f64) -> (State, State, State) {
    let k1 = *f0;
    let k2 = model.derivative(&(x + k1 * (A2[0] * h)));
    let k3 = model.derivative(&(x + (k1 * A3[0] + k2 * A3[1]) * h));
    let k4 = model.derivative(&(x + (k1 * A4[0] + k2 * A4[1] + k3 * A4[2]) * h));
    let k5 = model.derivative(&(x + (k1 * A5[0] + k2 * A5[1] + k3 * A5[2] + k4 * A5[3]) * h));
    let k6 = model
        .derivative(&(x + (k1 * A6[0] + k2 * A6[1] + k3 * A6[2] + k4 * A6[3] + k5 * A6[4]) * h));
    let x1 = x + (k1 * B[0] + k3 * B[2] + k4 * B[3] + k5 * B[4] + k6 * B[5]) * h;
    let k7 = model.derivative(&x1);
    let err = (k1 * E[0] + k3 * E[2] + k4 * E[3] + k5 * E[4] + k6 * E[5] + k7 * E[6]) * h;
    debug_assert_eq!(C[6], 1.0);
    (x1, k7, err)
}

/// The error of a step relative to the tolerances (accept when <= 1).
fn error_ratio(err: &State) -> f64 {
    let mut m: f64 = 0.0;
    for i in 0..3 {
        m = m.max(err[i].abs() / POSITION_TOLERANCE_M);
        m = m.max(err[i + 3].abs() / VELOCITY_TOLERANCE_M_S);
    }
    if m.is_nan() { f64::INFINITY } else { m }
}

/// The step-size factor of the controller for an error ratio: 0.9 err^(-1/4), between 0.2 and
/// 5 (HNW II.4, eq. 4.13, with the exponent 1/q of the embedded fourth-order error estimate
/// rather than 1/(q+1): a little more cautious in growing the step, and two square roots
/// instead of a `pow` per step).
fn step_factor(ratio: f64) -> f64 {
    if ratio <= 0.0 {
        return 5.0;
    }
    (0.9 / sqrt(sqrt(ratio))).clamp(0.2, 5.0)
}

/// Time (s) for a state above the air, coming down, to reach the air's edge at its present
/// radial speed (an overestimate: gravity only shortens it); infinite in the air, going up or
/// with the atmosphere off.
fn air_entry_s(model: &BallisticModel, x: &State) -> f64 {
    let r = position(x);
    if !model.atmosphere || model.in_air(&r) {
        return f64::INFINITY;
    }
    let rn = sqrt(r.norm_squared());
    let radial = velocity(x).dot(&r) / rn;
    if radial.is_nan() || radial >= 0.0 {
        return f64::INFINITY;
    }
    (rn - model.air_edge_radius_m()) / -radial
}

/// The first step to try from a state: a second in (or near) the air, a minute above it.
fn first_step_s(model: &BallisticModel, x: &State) -> f64 {
    if model.substep_s(x, 2.0) < 1.0 {
        1.0
    } else {
        60.0
    }
}

/// What a caller does after an accepted segment.
pub enum Flow {
    /// Go on.
    Continue,
    /// Stop the flight here.
    Stop,
}

/// Flies `x` forward from time 0 in accepted adaptive segments, handing each to `visit`,
/// until `visit` stops, `span_s` is reached (the last segment ends exactly there), the state
/// stops being finite, or [`MAX_STEPS`] segments were taken. Returns the number of segments.
pub fn fly(
    model: &BallisticModel,
    x: &State,
    span_s: f64,
    mut visit: impl FnMut(&Segment) -> Flow,
) -> usize {
    if span_s.is_nan() || span_s <= 0.0 || !x.iter().all(|v| v.is_finite()) {
        return 0;
    }
    let mut x = *x;
    x[6] = x[6].clamp(0.0, KAPPA_MAX_M2_KG);
    let mut f = model.derivative(&x);
    let mut t = 0.0;
    let mut h = first_step_s(model, &x);
    for n in 0..MAX_STEPS {
        // A coast that comes down does not step deep into the air: the step ends about where
        // the straight-line descent reaches the air's edge, so the controller meets the
        // atmosphere with a step of its own size instead of rejecting a long one several times.
        h = h.min(air_entry_s(model, &x).max(1.0));
        let last = h >= span_s - t;
        if last {
            h = span_s - t;
        }
        let mut rejections = 0;
        // bounded: MAX_REJECTIONS rejections at most.
        let (x1, f1, taken) = loop {
            let (x1, f1, err) = dopri_step(model, &x, &f, h);
            let ratio = error_ratio(&err);
            if ratio <= 1.0 || h <= MIN_STEP_S || rejections >= MAX_REJECTIONS {
                let taken = h;
                // After a rejection the step does not grow at once (HNW II.4, p. 168).
                let factor = if rejections > 0 {
                    step_factor(ratio).min(1.0)
                } else {
                    step_factor(ratio)
                };
                h = (h * factor).clamp(MIN_STEP_S, MAX_STEP_S);
                break (x1, f1, taken);
            }
            rejections += 1;
            h = (h * step_factor(ratio)).max(MIN_STEP_S);
        };
        if !x1.iter().all(|v| v.is_finite()) {
            return n;
        }
        let seg = Segment {
            t0_s: t,
            h_s: taken,
            x0: x,
            f0: f,
            x1,
            f1,
        };
        let flow = visit(&seg);
        let reached = t + taken >= span_s || (last && taken == span_s - t);
        t += taken;
        x = x1;
        f = f1;
        if matches!(flow, Flow::Stop) || reached {
            return n + 1;
        }
    }
    MAX_STEPS
}

/// The state `dt_s` (>= 0) after `x`.
pub fn propagate_state(model: &BallisticModel, x: &State, dt_s: f64) -> State {
    let mut out = *x;
    fly(model, x, dt_s, |seg| {
        out = seg.x1;
        Flow::Continue
    });
    out
}

/// The ground crossing inside a segment whose end is below the surface: the time into the
/// segment (s) where the interpolant's ellipsoidal height is zero (Illinois method on the
/// quintic interpolant; at most 60 iterations).
fn crossing_s(model: &BallisticModel, seg: &Segment, alt0_m: f64, alt1_m: f64) -> f64 {
    let ell = model.ellipsoid;
    let mut b = Illinois {
        a: 0.0,
        fa: alt0_m,
        b: seg.h_s,
        fb: alt1_m,
    };
    let mut c = seg.h_s;
    for _ in 0..60 {
        c = b.next();
        let fc = ell.altitude_m(&seg.position_at(c));
        if fc.abs() < 1e-3 || (b.b - b.a).abs() < 1e-9 {
            break;
        }
        b.update(c, fc);
    }
    c
}

/// Where and when the estimate `x` (covariance `p`) reaches the ground, flying at most
/// `max_s`: the state at impact, its covariance and the time from `x` (s); `None` when it is
/// at or below the surface already, or stays up.
pub fn to_impact(
    model: &BallisticModel,
    x: &State,
    p: &Mat7,
    max_s: f64,
    q_m2_s3: f64,
    q_kappa: f64,
) -> Option<(State, Mat7, f64)> {
    let ell = model.ellipsoid;
    let alt = ell.altitude_m(&position(x));
    if alt.is_nan() || alt <= 0.0 {
        return None;
    }
    let mut cov = *p;
    let mut alt0 = alt;
    let mut found = None;
    fly(model, x, max_s, |seg| {
        let alt1 = ell.altitude_m(&position(&seg.x1));
        if alt1 > 0.0 {
            cov = covariance_step(model, seg, seg.h_s, &cov, q_m2_s3, q_kappa);
            alt0 = alt1;
            return Flow::Continue;
        }
        let c = crossing_s(model, seg, alt0, alt1);
        // The state at the crossing: one exact step of that length from the segment's start.
        let (xc, _, _) = dopri_step(model, &seg.x0, &seg.f0, c);
        cov = covariance_step(model, seg, c, &cov, q_m2_s3, q_kappa);
        found = Some((xc, cov, seg.t0_s + c));
        Flow::Stop
    });
    found
}

/// P after `h_s` of the segment `seg` (from its start): Phi P Phi^T + Q (see the module doc).
fn covariance_step(
    model: &BallisticModel,
    seg: &Segment,
    h_s: f64,
    p: &Mat7,
    q_m2_s3: f64,
    q_kappa: f64,
) -> Mat7 {
    let phi = transition(model, seg, h_s);
    let mut next = linalg::sandwich(&phi, p);
    if model.in_air(&position(&seg.x0)) || model.in_air(&position(&seg.x1)) {
        next += process_noise(h_s, q_m2_s3, q_kappa);
    }
    (next + next.transpose()) * 0.5
}

/// The transition matrix over the first `h_s` of a segment: the third-order expansion of
/// exp(A h), A at the midpoint.
pub fn transition(model: &BallisticModel, seg: &Segment, h_s: f64) -> Mat7 {
    let mid = seg.state_at(0.5 * h_s);
    let ah = model.jacobian(&mid) * h_s;
    let ah2 = linalg::mul(&ah, &ah);
    Mat7::identity() + ah + ah2 * 0.5 + linalg::mul(&ah2, &ah) * (1.0 / 6.0)
}

/// Positions of `x` (taken at `t0_s`) every `step_s` from `t0_s` while they are before
/// `until_s`, stopping after the first one below the surface, at `max_samples` or when the
/// state stops being finite; the first sample is `x`'s own position.
pub fn samples(
    model: &BallisticModel,
    x: &State,
    t0_s: f64,
    until_s: f64,
    step_s: f64,
    max_samples: usize,
) -> Vec<(f64, Vector3<f64>)> {
    let ell = model.ellipsoid;
    let mut out = vec![(t0_s, position(x))];
    let span = until_s - t0_s;
    if span.is_nan() || span <= 0.0 || step_s.is_nan() || step_s <= 0.0 || max_samples < 2 {
        return out;
    }
    // Sample k is at t0 + k step; flown until the last sample time at or past until_s.
    let last_k = libm::ceil(span / step_s).min((max_samples - 1) as f64);
    let mut k = 1.0;
    fly(model, x, last_k * step_s, |seg| {
        let end = seg.t0_s + seg.h_s;
        // bounded: k rises by one per pass up to last_k.
        while k <= last_k && k * step_s <= end {
            let tau = (k * step_s - seg.t0_s).clamp(0.0, seg.h_s);
            let r = seg.position_at(tau);
            if !r.iter().all(|v| v.is_finite()) {
                return Flow::Stop;
            }
            out.push((t0_s + k * step_s, r));
            k += 1.0;
            if ell.altitude_m(&r) < 0.0 {
                return Flow::Stop;
            }
        }
        if k > last_k {
            Flow::Stop
        } else {
            Flow::Continue
        }
    });
    out
}
