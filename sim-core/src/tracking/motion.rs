//! The ballistic motion model of a track, in the Earth-fixed frame.
//!
//! State (7): ECEF position r (m), Earth-relative velocity v (m/s) and the inverse ballistic
//! coefficient kappa = Cd A / m (m^2/kg), the form in which drag is linear in the state
//! (Li & Jilkov, "Survey of maneuvering target tracking. Part II: motion models of ballistic
//! and space targets", IEEE Trans. AES 46(1), 2010, sec. IV; Zarchan, "Tactical and Strategic
//! Missile Guidance", ch. on ballistic target tracking, uses beta = 1 / kappa). In ECEF
//! (Vallado, "Fundamentals of Astrodynamics and Applications", 4th ed., sec. 3.7):
//!
//! ```text
//! r' = v
//! v' = g(r) - 2 w x v - w x (w x r) - 1/2 rho(h) kappa |v| v
//! kappa' = 0   (plus a random walk)
//! ```
//!
//! with g the gravity of [`crate::flight::PhysicsParams`] (J2 on WGS84, point mass on the
//! sphere: the same field as the truth, symmetric about Z so identical in ECEF), w = (0, 0,
//! omega) when rotation is on, rho the US Standard Atmosphere 1976 density at the ellipsoidal
//! height h (zero above 120 km or with the atmosphere off; the air co-rotates, so v is the
//! air-relative velocity). The drag coefficient's Mach dependence of the truth is absorbed
//! by the random walk of kappa.
//!
//! Prediction: the state by classical RK4 in sub-steps ([`SUBSTEP_AIR_S`], [`SUBSTEP_VACUUM_S`]);
//! the transition matrix Phi as the product over sub-steps of the second-order expansion
//! I + A h + (A h)^2 / 2 of exp(A h), A the analytic Jacobian at the sub-step's midpoint
//! (an Euler half step) (point-mass
//! gravity gradient mu / r^3 (3 r r^T / r^2 - I); the J2 part of the gradient, 0.1% of it, is
//! left out). Process noise: continuous white acceleration of spectral density q (m^2/s^3) on
//! each axis, Q_rr = q dt^3 / 3, Q_rv = q dt^2 / 2, Q_vv = q dt (Bar-Shalom, Li & Kirubarajan,
//! "Estimation with Applications to Tracking and Navigation", 2001, sec. 6.2.2), and a random
//! walk q_kappa dt on kappa. Invariants: pure functions; transcendentals via `libm`.

use nalgebra::{Matrix3, SMatrix, SVector, Vector3};

use super::linalg;
use crate::atmosphere::{self, TOP_OF_ATMOSPHERE_M};
use crate::earth::Length;
use crate::earth::{Ellipsoid, Gravity};
use crate::flight::PhysicsParams;

/// The 7-element state [r, v, kappa].
pub type State = SVector<f64, 7>;
/// A 7x7 covariance or transition matrix.
pub type Mat7 = SMatrix<f64, 7, 7>;

/// Prediction sub-step inside (or near) the atmosphere (s).
pub const SUBSTEP_AIR_S: f64 = 0.25;
/// Prediction sub-step in vacuum (s).
pub const SUBSTEP_VACUUM_S: f64 = 1.0;
/// Largest kappa kept (m^2/kg): a ballistic coefficient of 50 kg/m^2, lighter than any
/// missile body; bounds the drag of a poorly estimated track.
pub const KAPPA_MAX_M2_KG: f64 = 0.02;

/// Position part of a state.
pub fn position(x: &State) -> Vector3<f64> {
    Vector3::new(x[0], x[1], x[2])
}

/// Velocity part of a state.
pub fn velocity(x: &State) -> Vector3<f64> {
    Vector3::new(x[3], x[4], x[5])
}

/// The Earth-fixed ballistic model of one physics setting.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BallisticModel {
    /// Gravity field.
    pub gravity: Gravity,
    /// Reference surface (altitude for the air).
    pub ellipsoid: Ellipsoid,
    /// Earth rotation rate (rad/s), zero when rotation is off.
    pub omega_rad_s: f64,
    /// Whether drag applies.
    pub atmosphere: bool,
}

impl BallisticModel {
    /// The model consistent with a simulation's physics switches.
    pub fn new(physics: &PhysicsParams) -> Self {
        Self {
            gravity: physics.earth.gravity(),
            ellipsoid: physics.earth.ellipsoid(),
            omega_rad_s: physics.earth.omega_rad_s(),
            atmosphere: physics.atmosphere,
        }
    }

    /// Whether a position is in (or within 5 km of) the modelled atmosphere.
    pub(crate) fn in_air(&self, r: &Vector3<f64>) -> bool {
        let top = self.air_edge_radius_m();
        self.atmosphere && r.norm_squared() < top * top
    }

    /// The geocentric radius (m) below which [`BallisticModel::in_air`] holds.
    pub(crate) fn air_edge_radius_m(&self) -> f64 {
        self.ellipsoid.a_m + TOP_OF_ATMOSPHERE_M + 5_000.0
    }

    /// Air density (kg/m^3) at a position; zero above the atmosphere or with it off.
    fn density(&self, r: &Vector3<f64>) -> f64 {
        if !self.in_air(r) {
            return 0.0;
        }
        atmosphere::density_kg_m3(self.ellipsoid.altitude_m(r))
    }

    /// Acceleration (m/s^2) in ECEF: gravity, Coriolis, centrifugal and drag.
    pub fn acceleration(&self, r: &Vector3<f64>, v: &Vector3<f64>, kappa: f64) -> Vector3<f64> {
        let w = self.omega_rad_s;
        let mut a = self.gravity.acceleration(r);
        a += Vector3::new(
            2.0 * w * v.y + w * w * r.x,
            -2.0 * w * v.x + w * w * r.y,
            0.0,
        );
        let rho = self.density(r);
        if rho > 0.0 {
            a -= v * (0.5 * rho * kappa * v.length());
        }
        a
    }

    /// The state derivative.
    pub fn derivative(&self, x: &State) -> State {
        let (r, v) = (position(x), velocity(x));
        let a = self.acceleration(&r, &v, x[6]);
        State::from_column_slice(&[v.x, v.y, v.z, a.x, a.y, a.z, 0.0])
    }

    /// The Jacobian A = d(x')/dx at a state (see the module doc).
    pub fn jacobian(&self, x: &State) -> Mat7 {
        let (r, v, kappa) = (position(x), velocity(x), x[6]);
        let w = self.omega_rad_s;
        let mut a = Mat7::zeros();
        for i in 0..3 {
            a[(i, i + 3)] = 1.0;
        }
        let mu = match self.gravity {
            Gravity::PointMass { mu_m3_s2 } | Gravity::J2 { mu_m3_s2, .. } => mu_m3_s2,
        };
        let r2 = r.norm_squared();
        let rn = crate::earth::sqrt(r2);
        let k = mu / (r2 * rn);
        let mut dadr = (r * r.transpose()) * (3.0 * k / r2) - Matrix3::identity() * k;
        dadr[(0, 0)] += w * w;
        dadr[(1, 1)] += w * w;
        let mut dadv = Matrix3::new(0.0, 2.0 * w, 0.0, -2.0 * w, 0.0, 0.0, 0.0, 0.0, 0.0);
        let mut dadk = Vector3::zeros();
        // The height once, for the density and its gradient (as `density` would take it).
        let h = if self.in_air(&r) {
            self.ellipsoid.altitude_m(&r)
        } else {
            f64::NAN
        };
        let rho = if h.is_nan() {
            0.0
        } else {
            atmosphere::density_kg_m3(h)
        };
        let speed = v.length();
        if rho > 0.0 && speed > 0.0 {
            // d/dv of -1/2 rho kappa |v| v = -1/2 rho kappa (|v| I + v v^T / |v|).
            dadv -=
                (Matrix3::identity() * speed + (v * v.transpose()) / speed) * (0.5 * rho * kappa);
            dadk = -v * (0.5 * rho * speed);
            // Density gradient along the (geocentric) vertical, by a central difference.
            let dh = 50.0;
            let drho = (atmosphere::density_kg_m3(h + dh) - atmosphere::density_kg_m3(h - dh))
                / (2.0 * dh);
            let up = r / rn;
            dadr -= (v * up.transpose()) * (0.5 * kappa * speed * drho);
        }
        a.fixed_view_mut::<3, 3>(3, 0).copy_from(&dadr);
        a.fixed_view_mut::<3, 3>(3, 3).copy_from(&dadv);
        a.fixed_view_mut::<3, 1>(3, 6).copy_from(&dadk);
        a
    }

    /// One RK4 step of the state (Butcher 2016, sec. 23).
    pub fn rk4(&self, x: &State, h: f64) -> State {
        let k1 = self.derivative(x);
        let k2 = self.derivative(&(x + k1 * (0.5 * h)));
        let k3 = self.derivative(&(x + k2 * (0.5 * h)));
        let k4 = self.derivative(&(x + k3 * h));
        x + (k1 + k2 * 2.0 + k3 * 2.0 + k4) * (h / 6.0)
    }

    /// The sub-step for a state: [`SUBSTEP_AIR_S`] in or near the air, else `vacuum_s`.
    pub fn substep_s(&self, x: &State, vacuum_s: f64) -> f64 {
        if self.in_air(&position(x)) {
            SUBSTEP_AIR_S
        } else {
            vacuum_s
        }
    }

    /// [`BallisticModel::propagate`]'s state alone (the same sub-steps, so the same bits),
    /// without the transition matrix it would compute and throw away.
    pub fn propagate_state(&self, x: &State, dt_s: f64) -> State {
        if dt_s == 0.0 || !dt_s.is_finite() {
            return *x;
        }
        let n = libm::ceil(dt_s.abs() / self.substep_s(x, SUBSTEP_VACUUM_S)).max(1.0);
        let h = dt_s / n;
        let mut s = *x;
        for _ in 0..n as u64 {
            s = self.rk4(&s, h);
        }
        s[6] = s[6].clamp(0.0, KAPPA_MAX_M2_KG);
        s
    }

    /// Propagates a state by `dt_s` (either sign) and returns it with the transition matrix.
    /// Sub-steps are equal, at most [`SUBSTEP_VACUUM_S`] long in vacuum and
    /// [`SUBSTEP_AIR_S`] in the air (chosen at the start).
    pub fn propagate(&self, x: &State, dt_s: f64) -> (State, Mat7) {
        self.propagate_with(x, dt_s, SUBSTEP_VACUUM_S)
    }

    /// [`BallisticModel::propagate`] with another vacuum sub-step (the impact prediction's
    /// long coasts use its whole step).
    pub fn propagate_with(&self, x: &State, dt_s: f64, vacuum_s: f64) -> (State, Mat7) {
        if dt_s == 0.0 || !dt_s.is_finite() {
            return (*x, Mat7::identity());
        }
        let n = libm::ceil(dt_s.abs() / self.substep_s(x, vacuum_s)).max(1.0);
        let h = dt_s / n;
        let mut phi = Mat7::identity();
        let mut s = *x;
        for i in 0..n as u64 {
            // A at the sub-step's midpoint (Euler half step): second-order accurate Phi.
            let mid = s + self.derivative(&s) * (0.5 * h);
            let ah = self.jacobian(&mid) * h;
            let step = Mat7::identity() + ah + linalg::mul(&ah, &ah) * 0.5;
            // The first step's product with the identity is the step itself.
            phi = if i == 0 {
                step
            } else {
                linalg::mul(&step, &phi)
            };
            s = self.rk4(&s, h);
        }
        s[6] = s[6].clamp(0.0, KAPPA_MAX_M2_KG);
        (s, phi)
    }
}

/// Process noise over `dt_s` (its magnitude is used): white acceleration of density
/// `q_m2_s3` per axis and a random walk of density `q_kappa` on kappa.
pub fn process_noise(dt_s: f64, q_m2_s3: f64, q_kappa: f64) -> Mat7 {
    let t = dt_s.abs();
    let mut q = Mat7::zeros();
    for i in 0..3 {
        q[(i, i)] = q_m2_s3 * t * t * t / 3.0;
        q[(i, i + 3)] = q_m2_s3 * t * t / 2.0;
        q[(i + 3, i)] = q_m2_s3 * t * t / 2.0;
        q[(i + 3, i + 3)] = q_m2_s3 * t;
    }
    q[(6, 6)] = q_kappa * t;
    q
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::earth::{EarthParams, EarthShape, GeoPoint};
    use crate::flight::Flight;
    use crate::missile::MissileKind;

    fn state(r: Vector3<f64>, v: Vector3<f64>, kappa: f64) -> State {
        State::from_column_slice(&[r.x, r.y, r.z, v.x, v.y, v.z, kappa])
    }

    #[test]
    fn vacuum_prediction_follows_the_flight_propagator() {
        // The truth integrates in an inertial frame; the tracker in ECEF with Coriolis and
        // centrifugal terms. Same physics, so they must agree to well under a metre.
        let physics = PhysicsParams {
            atmosphere: false,
            ..PhysicsParams::default()
        };
        let mut f = Flight::free(
            MissileKind::ScudC,
            GeoPoint::new(30.0, 40.0),
            150_000.0,
            3_000.0,
            30.0,
            70.0,
            &physics,
        );
        let x0 = state(f.position_ecef(&physics), f.velocity_ecef(&physics), 0.0);
        let model = BallisticModel::new(&physics);
        let mut events = Vec::new();
        f.advance(200.0, &physics, &mut events);
        let (x1, _) = model.propagate(&x0, 200.0);
        let dr = (position(&x1) - f.position_ecef(&physics)).length();
        let dv = (velocity(&x1) - f.velocity_ecef(&physics)).length();
        assert!(dr < 0.5 && dv < 0.01, "{dr} m, {dv} m/s");
    }

    #[test]
    fn transition_matrix_matches_finite_differences() {
        let physics = PhysicsParams::default();
        let model = BallisticModel::new(&physics);
        let g = physics
            .earth
            .ellipsoid()
            .geodetic_to_ecef(&GeoPoint::new(20.0, 30.0).to_geodetic(40_000.0));
        let up = g / g.length();
        let east = Vector3::new(0.0, 0.0, 1.0).cross(&up).normalize();
        let x = state(g, east * 2_000.0 - up * 1_500.0, 1.0 / 2_000.0);
        let dt = 2.0;
        let (_, phi) = model.propagate(&x, dt);
        let steps = [10.0, 10.0, 10.0, 0.1, 0.1, 0.1, 1e-6];
        for j in 0..7 {
            let mut xp = x;
            let mut xm = x;
            xp[j] += steps[j];
            xm[j] -= steps[j];
            let d = (model.propagate(&xp, dt).0 - model.propagate(&xm, dt).0) / (2.0 * steps[j]);
            for i in 0..6 {
                let scale = if j < 3 {
                    1.0
                } else if j < 6 {
                    dt
                } else {
                    1e3
                };
                assert!(
                    (phi[(i, j)] - d[i]).abs() < 2e-3 * scale + 5e-3 * d[i].abs(),
                    "phi[{i},{j}] = {} vs {}",
                    phi[(i, j)],
                    d[i]
                );
            }
        }
    }

    #[test]
    fn no_rotation_no_coriolis() {
        let physics = PhysicsParams {
            earth: EarthParams {
                shape: EarthShape::Sphere,
                rotation: false,
            },
            atmosphere: false,
        };
        let m = BallisticModel::new(&physics);
        let r = Vector3::new(7_000_000.0, 0.0, 0.0);
        let a = m.acceleration(&r, &Vector3::new(0.0, 1000.0, 0.0), 0.0);
        let mu = crate::earth::WGS84_MU_M3_S2;
        assert!((a.x + mu / 49e12).abs() < 1e-12 && a.y == 0.0 && a.z == 0.0);
        let q = process_noise(-2.0, 3.0, 0.5);
        assert!((q[(0, 0)] - 8.0).abs() < 1e-12 && (q[(0, 3)] - 6.0).abs() < 1e-12);
        assert!((q[(6, 6)] - 1.0).abs() < 1e-12);
    }
}
