//! The classical fourth-order Runge-Kutta step for a second-order system r'' = a(t, r, r').
//!
//! Source: Butcher, "Numerical Methods for Ordinary Differential Equations" (2016), sec. 23;
//! local error O(h^5), global O(h^4). Invariant: a step is a pure function of its inputs.

use nalgebra::Vector3;
use serde::{Deserialize, Serialize};

/// Position and velocity in one frame.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PosVel {
    /// Position (m).
    pub r_m: Vector3<f64>,
    /// Velocity (m/s).
    pub v_m_s: Vector3<f64>,
}

/// One RK4 step of size `h_s` from `(t_s, y)` for the acceleration `accel(t, r, v)`.
pub fn rk4_step<F>(accel: F, t_s: f64, y: &PosVel, h_s: f64) -> PosVel
where
    F: Fn(f64, &Vector3<f64>, &Vector3<f64>) -> Vector3<f64>,
{
    let half = 0.5 * h_s;
    let (r0, v0) = (y.r_m, y.v_m_s);
    let a1 = accel(t_s, &r0, &v0);
    let r2 = r0 + v0 * half;
    let v2 = v0 + a1 * half;
    let a2 = accel(t_s + half, &r2, &v2);
    let r3 = r0 + v2 * half;
    let v3 = v0 + a2 * half;
    let a3 = accel(t_s + half, &r3, &v3);
    let r4 = r0 + v3 * h_s;
    let v4 = v0 + a3 * h_s;
    let a4 = accel(t_s + h_s, &r4, &v4);
    let sixth = h_s / 6.0;
    PosVel {
        r_m: r0 + (v0 + v2 * 2.0 + v3 * 2.0 + v4) * sixth,
        v_m_s: v0 + (a1 + a2 * 2.0 + a3 * 2.0 + a4) * sixth,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn harmonic_oscillator_is_fourth_order() {
        // r'' = -r, r(0) = 1: error after t = 1 falls 16x when h halves.
        let err = |h: f64| {
            let mut y = PosVel {
                r_m: Vector3::new(1.0, 0.0, 0.0),
                v_m_s: Vector3::zeros(),
            };
            let n = (1.0 / h).round() as usize;
            for i in 0..n {
                y = rk4_step(|_, r, _| -r, i as f64 * h, &y, h);
            }
            (y.r_m.x - libm::cos(1.0)).abs()
        };
        let ratio = err(0.1) / err(0.05);
        assert!((14.0..18.0).contains(&ratio), "{ratio}");
    }
}
