//! Forces on a missile in the flight's inertial frame: gravity, aerodynamic drag and thrust.
//!
//! Drag: a = -1/2 rho |v_rel| v_rel Cd(M) A / m, with the air co-rotating with the Earth
//! (v_rel = v - omega x r) and the density and speed of sound of the 1976 standard atmosphere at
//! the geodetic altitude (Zarchan, "Tactical and Strategic Missile Guidance", ch. 6; no lift,
//! no wind). Thrust: constant magnitude along the pitch program's attitude in the launch plane.
//! Invariants: the acceleration is a pure function of (t, r, v) and the [`ForceModel`]; every
//! transcendental goes through `libm`.

use nalgebra::Vector3;

use crate::atmosphere::{self, TOP_OF_ATMOSPHERE_M};
use crate::earth::Length;
use crate::earth::{Ellipsoid, Gravity, rotate_z};
use crate::flight::PhysicsParams;
use crate::missile::{DragTable, PitchProgramParams};

/// Thrust during one burn segment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ThrustParams {
    /// Thrust magnitude (N).
    pub thrust_n: f64,
    /// Mass at `ignition_s` (kg).
    pub ignition_mass_kg: f64,
    /// Flight time of ignition (s).
    pub ignition_s: f64,
    /// Mass flow (kg/s).
    pub mass_flow_kg_s: f64,
    /// Pitch program timing.
    pub pitch: PitchProgramParams,
    /// Final pitch above the local horizontal (rad).
    pub pitch_final_rad: f64,
    /// Unit normal of the launch plane in ECEF at launch (the flight's inertial frame).
    pub plane_normal: Vector3<f64>,
}

impl ThrustParams {
    /// Commanded pitch above the local horizontal at flight time `t_s` (rad): vertical, then a
    /// constant pitch rate to the final attitude, then hold.
    pub fn pitch_rad(&self, t_s: f64) -> f64 {
        let p = &self.pitch;
        let vertical = core::f64::consts::FRAC_PI_2;
        if t_s <= p.vertical_rise_s {
            vertical
        } else if t_s >= p.pitch_over_end_s {
            self.pitch_final_rad
        } else {
            let w = (t_s - p.vertical_rise_s) / (p.pitch_over_end_s - p.vertical_rise_s);
            vertical + w * (self.pitch_final_rad - vertical)
        }
    }
}

/// The time-dependent terms of the thrust direction at one flight time
/// ([`ForceModel::thrust_frame`]): the launch plane's normal turned with the Earth, and the
/// sine and cosine of the commanded pitch. An RK4 step evaluates the acceleration twice at its
/// mid-step time; the propagator computes these terms once per distinct time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ThrustFrame {
    /// The launch plane's normal in the flight's inertial frame.
    normal: Vector3<f64>,
    /// Sine and cosine of the commanded pitch.
    pitch_sin_cos: (f64, f64),
}

/// Everything the acceleration needs besides (t, r, v).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ForceModel {
    /// Gravity model.
    pub gravity: Gravity,
    /// Reference surface, for the altitude of the air.
    pub ellipsoid: Ellipsoid,
    /// Earth rotation rate (rad/s).
    pub omega_rad_s: f64,
    /// Whether drag applies.
    pub atmosphere: bool,
    /// Mass when not thrusting (kg).
    pub coast_mass_kg: f64,
    /// Drag reference area (m^2).
    pub area_m2: f64,
    /// Drag coefficient table.
    pub drag: DragTable,
    /// Thrust, when burning.
    pub thrust: Option<ThrustParams>,
}

impl ForceModel {
    /// A model with the Earth of `physics` and the given body.
    pub fn new(physics: &PhysicsParams, coast_mass_kg: f64, area_m2: f64, drag: DragTable) -> Self {
        Self {
            gravity: physics.earth.gravity(),
            ellipsoid: physics.earth.ellipsoid(),
            omega_rad_s: physics.earth.omega_rad_s(),
            atmosphere: physics.atmosphere,
            coast_mass_kg,
            area_m2,
            drag,
            thrust: None,
        }
    }

    /// Mass at flight time `t_s` (kg).
    pub fn mass_kg(&self, t_s: f64) -> f64 {
        match &self.thrust {
            Some(th) => th.ignition_mass_kg - th.mass_flow_kg_s * (t_s - th.ignition_s),
            None => self.coast_mass_kg,
        }
    }

    /// The thrust direction's time-dependent terms at flight time `t_s` (`None` unpowered).
    pub fn thrust_frame(&self, t_s: f64) -> Option<ThrustFrame> {
        self.thrust.as_ref().map(|th| ThrustFrame {
            normal: rotate_z(&th.plane_normal, self.omega_rad_s * t_s),
            pitch_sin_cos: libm::sincos(th.pitch_rad(t_s)),
        })
    }

    /// Acceleration (m/s^2) in the flight's inertial frame.
    pub fn acceleration(&self, t_s: f64, r: &Vector3<f64>, v: &Vector3<f64>) -> Vector3<f64> {
        self.acceleration_in(t_s, r, v, self.thrust_frame(t_s).as_ref())
    }

    /// [`ForceModel::acceleration`] with the thrust terms given: `frame` must be
    /// [`ForceModel::thrust_frame`] at `t_s` (then the result is the same, bit for bit).
    #[inline]
    pub fn acceleration_in(
        &self,
        t_s: f64,
        r: &Vector3<f64>,
        v: &Vector3<f64>,
        frame: Option<&ThrustFrame>,
    ) -> Vector3<f64> {
        let mut a = self.gravity.acceleration(r);
        let mass = self.mass_kg(t_s);
        if self.atmosphere && r.norm_squared() < sq(self.ellipsoid.a_m + TOP_OF_ATMOSPHERE_M) {
            let alt = self.ellipsoid.altitude_m(r);
            if alt < TOP_OF_ATMOSPHERE_M {
                let air = atmosphere::us1976(alt);
                let v_rel = v - Vector3::new(-self.omega_rad_s * r.y, self.omega_rad_s * r.x, 0.0);
                let speed = v_rel.length();
                if speed > 0.0 {
                    let cd = self.drag.cd(speed / air.speed_of_sound_m_s);
                    let k = -0.5 * air.density_kg_m3 * speed * cd * self.area_m2 / mass;
                    a += v_rel * k;
                }
            }
        }
        if let (Some(th), Some(frame)) = (&self.thrust, frame) {
            let up = r / r.length();
            let horizontal = frame.normal.cross(&up);
            let horizontal = horizontal / horizontal.length();
            let (s, c) = frame.pitch_sin_cos;
            a += (up * s + horizontal * c) * (th.thrust_n / mass);
        }
        a
    }
}

fn sq(x: f64) -> f64 {
    x * x
}
