//! Proportional navigation in three dimensions: true PN and augmented PN, with an
//! acceleration limit.
//!
//! With the relative position r = r_T - r_M (m) and velocity v = v_T - v_M (m/s) of the target
//! with respect to the interceptor, the line-of-sight (LOS) rotation rate is the vector
//! omega = (r x v) / |r|^2 (rad/s) and the closing speed is Vc = -(r . v) / |r| (m/s).
//!
//! - True PN (Zarchan, "Tactical and Strategic Missile Guidance", 6th ed., AIAA 2012, ch. 2;
//!   Shneydor, "Missile Guidance and Pursuit", Horwood 1998, ch. 5): the commanded acceleration
//!   is perpendicular to the LOS, a_c = N' Vc (omega x r_hat), whose magnitude is the planar
//!   n_c = N' Vc lambda_dot.
//! - Augmented PN (Zarchan ch. 8): a_c = N' Vc (omega x r_hat) + N'/2 a_T_perp, where a_T_perp
//!   is the target acceleration perpendicular to the LOS. Against a step manoeuvre n_T, zero-lag
//!   PN needs n_c/n_T = N'/(N'-2) [1 - (1 - t/t_F)^(N'-2)] (peaking at the end) while APN needs
//!   N'/2 (1 - t/t_F)^(N'-2) (peaking at the start), so for N' = 3 APN's peak is half of PN's.
//!
//! The command is then limited in magnitude to the airframe's maximum lateral acceleration
//! (the direction is kept). Invariants: pure functions; NaN or degenerate geometry (zero range)
//! gives a zero command instead of NaN.

use nalgebra::Vector3;
use serde::{Deserialize, Serialize};

/// The guidance law.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PnLaw {
    /// True proportional navigation (perpendicular to the LOS).
    True,
    /// Augmented proportional navigation (adds N'/2 times the target's lateral acceleration).
    Augmented,
}

/// Parameters of proportional navigation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PnParams {
    /// Effective navigation ratio N' (dimensionless, typically 3-5).
    pub nav_ratio: f64,
    /// The law.
    pub law: PnLaw,
    /// Maximum commanded acceleration magnitude (m/s^2).
    pub max_accel_m_s2: f64,
}

/// Line-of-sight rotation rate omega = (r x v) / |r|^2 (rad/s); zero at zero range.
pub fn los_rate(r_rel: &Vector3<f64>, v_rel: &Vector3<f64>) -> Vector3<f64> {
    let r2 = r_rel.norm_squared();
    if r2 > 0.0 && r2.is_finite() {
        r_rel.cross(v_rel) / r2
    } else {
        Vector3::zeros()
    }
}

/// Closing speed Vc = -(r . v) / |r| (m/s), positive while the range shrinks.
pub fn closing_speed(r_rel: &Vector3<f64>, v_rel: &Vector3<f64>) -> f64 {
    let r = crate::earth::sqrt(r_rel.norm_squared());
    if r > 0.0 { -r_rel.dot(v_rel) / r } else { 0.0 }
}

/// Scales `a` down to magnitude `max` if it is longer; NaN or infinite vectors become zero.
pub fn limit(a: &Vector3<f64>, max_m_s2: f64) -> Vector3<f64> {
    let n = crate::earth::sqrt(a.norm_squared());
    if !n.is_finite() || !max_m_s2.is_finite() || max_m_s2 <= 0.0 {
        return Vector3::zeros();
    }
    if n > max_m_s2 { a * (max_m_s2 / n) } else { *a }
}

/// Removes the component of `a` along `v` (keeps the part perpendicular to the velocity, the
/// only part aerodynamic or divert control can produce).
pub fn lateral_to(a: &Vector3<f64>, v: &Vector3<f64>) -> Vector3<f64> {
    let v2 = v.norm_squared();
    if v2 > 0.0 {
        a - v * (a.dot(v) / v2)
    } else {
        *a
    }
}

/// The commanded acceleration (m/s^2) for the relative state (target minus interceptor) and
/// the target's acceleration estimate (used by augmented PN only), limited in magnitude.
pub fn command(
    p: &PnParams,
    r_rel: &Vector3<f64>,
    v_rel: &Vector3<f64>,
    target_accel: &Vector3<f64>,
) -> Vector3<f64> {
    let r = crate::earth::sqrt(r_rel.norm_squared());
    if r <= 0.0 || !r.is_finite() || !p.nav_ratio.is_finite() {
        return Vector3::zeros();
    }
    let r_hat = r_rel / r;
    let omega = los_rate(r_rel, v_rel);
    let vc = closing_speed(r_rel, v_rel);
    let mut a = omega.cross(&r_hat) * (p.nav_ratio * vc);
    if p.law == PnLaw::Augmented {
        let a_perp = target_accel - r_hat * target_accel.dot(&r_hat);
        a += a_perp * (0.5 * p.nav_ratio);
    }
    limit(&a, p.max_accel_m_s2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::earth::Length;
    use crate::flight::PosVel;
    use crate::flight::integrator::rk4_step;

    /// A planar engagement flown with RK4 at `h` s: the target starts at `(r0, 0)` flying
    /// towards -x at `vt` with a constant lateral acceleration `nt` along +y, the interceptor starts at the origin at speed `vm` heading `he` rad off the
    /// collision course. Returns (time, |commanded accel| signed along +y) samples and the miss.
    fn engage(p: &PnParams, vm: f64, vt: f64, r0: f64, he: f64, nt: f64) -> (Vec<(f64, f64)>, f64) {
        let h = 1e-3;
        let mut m = PosVel {
            r_m: Vector3::zeros(),
            v_m_s: Vector3::new(vm * libm::cos(he), vm * libm::sin(he), 0.0),
        };
        let mut t = PosVel {
            r_m: Vector3::new(r0, 0.0, 0.0),
            v_m_s: Vector3::new(-vt, 0.0, 0.0),
        };
        // A constant +y acceleration: perpendicular to the (nearly x-aligned) LOS throughout,
        // as in Zarchan's linearised engagement.
        let target_acc = |_: &Vector3<f64>| Vector3::new(0.0, nt, 0.0);
        let mut samples = Vec::new();
        let mut time = 0.0;
        loop {
            let at = target_acc(&t.v_m_s);
            let a_now = command(p, &(t.r_m - m.r_m), &(t.v_m_s - m.v_m_s), &at);
            samples.push((time, a_now.y));
            let (tp, mp) = (t, m);
            // Zero lag: the command is re-evaluated inside every RK4 stage from the state
            // of the interceptor and a target extrapolated consistently.
            t = rk4_step(|_, _, v| target_acc(v), time, &tp, h);
            m = rk4_step(
                |s, r, v| {
                    let dt = s - time;
                    let rt = tp.r_m + tp.v_m_s * dt + at * (0.5 * dt * dt);
                    let vt = tp.v_m_s + at * dt;
                    command(p, &(rt - r), &(vt - v), &at)
                },
                time,
                &mp,
                h,
            );
            time += h;
            let (r1, v1) = (t.r_m - m.r_m, t.v_m_s - m.v_m_s);
            if r1.dot(&v1) >= 0.0 || time > 100.0 {
                // Closest approach over the last step, relative motion taken as linear.
                let r0v = tp.r_m - mp.r_m;
                let dv = (r1 - r0v) / h;
                let s = (-r0v.dot(&dv) / dv.norm_squared()).clamp(0.0, h);
                return (samples, (r0v + dv * s).length());
            }
        }
    }

    #[test]
    fn heading_error_response_matches_zarchan_closed_form() {
        // Zarchan ch. 2: zero-lag PN against a non-manoeuvring target with heading error HE:
        // n_c(t) = -V_M HE N' / t_F (1 - t/t_F)^(N'-2). V_M = 900, V_T = 300 m/s head-on,
        // R0 = 12 km: t_F = 10 s; HE = -5 deg; N' = 4.
        let p = PnParams {
            nav_ratio: 4.0,
            law: PnLaw::True,
            max_accel_m_s2: 1e6,
        };
        let he = -5f64.to_radians();
        let (vm, tf) = (900.0, 10.0);
        let (samples, miss) = engage(&p, vm, 300.0, 12_000.0, he, 0.0);
        let peak = -vm * he * 4.0 / tf;
        let mut checked = 0;
        for &(t, a) in samples.iter().filter(|s| s.0 < 0.95 * tf) {
            let closed = -vm * he * 4.0 / tf * libm::pow(1.0 - t / tf, 2.0);
            assert!(
                (a - closed).abs() < 0.03 * peak,
                "t {t}: n_c {a} vs closed form {closed}"
            );
            checked += 1;
        }
        assert!(checked > 9_000);
        assert!(miss < 0.05, "miss {miss} m");
    }

    #[test]
    fn augmented_pn_needs_less_peak_acceleration_against_a_step_manoeuvre() {
        // Zarchan ch. 8, N' = 3, a 3 g step manoeuvre: PN's demand grows to
        // N'/(N'-2) n_T = 3 n_T at intercept, APN's starts at N'/2 n_T = 1.5 n_T and decays.
        let nt = 3.0 * crate::G0_M_S2;
        let run = |law| {
            let p = PnParams {
                nav_ratio: 3.0,
                law,
                max_accel_m_s2: 1e6,
            };
            let (s, miss) = engage(&p, 900.0, 300.0, 12_000.0, 0.0, nt);
            let peak = s
                .iter()
                .filter(|x| x.0 < 9.9)
                .map(|x| x.1.abs())
                .fold(0.0, f64::max);
            let first = s[1].1;
            (peak, first, miss)
        };
        let (pn_peak, pn_first, pn_miss) = run(PnLaw::True);
        let (apn_peak, apn_first, apn_miss) = run(PnLaw::Augmented);
        assert!(
            pn_peak > 2.7 * nt && pn_peak < 3.3 * nt,
            "PN peak {}",
            pn_peak / nt
        );
        assert!(pn_first.abs() < 0.1 * nt, "PN starts at zero: {pn_first}");
        assert!(
            (apn_first / nt - 1.5).abs() < 0.15,
            "APN start {}",
            apn_first / nt
        );
        assert!(apn_peak < 0.6 * pn_peak, "APN {apn_peak} vs PN {pn_peak}");
        assert!(pn_miss < 1.0 && apn_miss < 1.0, "{pn_miss} {apn_miss}");
    }

    #[test]
    fn acceleration_limit_is_respected_and_bad_input_gives_zero() {
        let p = PnParams {
            nav_ratio: 4.0,
            law: PnLaw::Augmented,
            max_accel_m_s2: 50.0,
        };
        let r = Vector3::new(1_000.0, 10.0, -5.0);
        let v = Vector3::new(-2_000.0, 300.0, 100.0);
        let a = command(&p, &r, &v, &Vector3::new(0.0, 200.0, 0.0));
        assert!((a.length() - 50.0).abs() < 1e-9, "{}", a.length());
        // Perpendicular to the LOS for true PN.
        let pt = PnParams {
            law: PnLaw::True,
            ..p
        };
        let a = command(&pt, &r, &v, &Vector3::zeros());
        assert!(a.dot(&r).abs() < 1e-9 * a.length() * r.length());
        // A guided run whose demand exceeds the limit never exceeds it.
        let limited = PnParams {
            nav_ratio: 4.0,
            law: PnLaw::True,
            max_accel_m_s2: 20.0,
        };
        let (s, _) = engage(&limited, 900.0, 300.0, 12_000.0, -20f64.to_radians(), 0.0);
        assert!(s.iter().all(|x| x.1.abs() <= 20.0 + 1e-9));
        assert!(s.iter().any(|x| x.1.abs() > 19.9));
        assert_eq!(
            command(&p, &Vector3::zeros(), &v, &Vector3::zeros()),
            Vector3::zeros()
        );
        let nan = Vector3::new(f64::NAN, 0.0, 0.0);
        assert_eq!(command(&p, &nan, &v, &Vector3::zeros()), Vector3::zeros());
        assert_eq!(limit(&nan, 10.0), Vector3::zeros());
        assert_eq!(
            lateral_to(&Vector3::new(3.0, 4.0, 0.0), &Vector3::new(2.0, 0.0, 0.0)).x,
            0.0
        );
    }
}
