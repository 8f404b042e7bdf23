//! The staged flight of one missile: boost (pitch program, staging, optional thrust cut-off),
//! coast, re-entry and impact on the reference surface.
//!
//! Invariants: [`Flight::advance`] is the only way a flight moves; it splits every interval into
//! fixed sub-steps ([`crate::flight::STEPS`]) and cuts a sub-step exactly at staging and cut-off,
//! so the flown path is a smooth function of the guidance parameters (which the targeting solver
//! relies on) and identical however the caller slices time into ticks of the same size. The
//! impact instant is found by regula falsi (Illinois variant) on the sub-step length, to 0.1 mm
//! in height.

use crate::flight::illinois::Illinois;
use nalgebra::Vector3;
use serde::{Deserialize, Serialize};

use crate::earth::Length;
use crate::earth::frames::great_circle_distance_m;
use crate::earth::{GeoPoint, rotate_z};
use crate::engine::TICK_S;
use crate::flight::dynamics::{ForceModel, ThrustFrame, ThrustParams};
use crate::flight::integrator::{PosVel, rk4_step};
use crate::flight::{PhysicsParams, STEPS, StepParams};
use crate::missile::{MissileKind, MissileType};

/// Altitude below which a descending missile is said to re-enter (m): the Karman line.
pub const REENTRY_ALTITUDE_M: f64 = 100_000.0;
/// Longest flight the propagator follows before giving up (s): four hours.
pub const MAX_FLIGHT_TIME_S: f64 = 4.0 * 3600.0;

/// Guidance of a powered flight: the launch plane, the pitch program's final attitude and the
/// thrust termination time.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Guidance {
    /// Unit normal of the launch plane in ECEF at launch (the launch plane holds the Earth's
    /// centre, the launch point and the aim direction).
    pub plane_normal_ecef: [f64; 3],
    /// Final pitch of the pitch program above the local horizontal (deg).
    pub pitch_final_deg: f64,
    /// Thrust termination, flight time (s); at or beyond the total burn time the missile burns
    /// out normally.
    pub cutoff_s: f64,
}

impl Guidance {
    /// Checks the fields against [`crate::limits`] (a finite unit plane normal, a final pitch
    /// from horizontal to vertical, a cut-off within the limit); the error is one sentence.
    /// Guidance given from outside (a command, a link) is flown only after this check.
    pub fn validate(&self) -> Result<(), String> {
        let n = self.plane_normal_ecef;
        let norm2: f64 = n.iter().map(|x| x * x).sum();
        if !n.iter().all(|x| x.is_finite())
            || !crate::limits::GUIDANCE_NORMAL_LENGTH.contains(crate::earth::sqrt(norm2))
        {
            return Err(format!(
                "guidance plane normal must be a finite unit vector, got {n:?}"
            ));
        }
        crate::limits::GUIDANCE_PITCH.check(self.pitch_final_deg)?;
        crate::limits::GUIDANCE_CUTOFF.check(self.cutoff_s)?;
        Ok(())
    }

    /// Guidance towards a launch azimuth (deg clockwise from north, in the geodetic horizontal
    /// plane at the launch point).
    pub fn toward_azimuth(
        physics: &PhysicsParams,
        launch: &GeoPoint,
        azimuth_deg: f64,
        pitch_final_deg: f64,
        cutoff_s: f64,
    ) -> Self {
        let g = launch.to_geodetic(0.0);
        let r = physics.earth.ellipsoid().geodetic_to_ecef(&g);
        let [e, n, _] = crate::earth::Ellipsoid::enu_basis(g.lat_rad, g.lon_rad);
        let (s, c) = libm::sincos(azimuth_deg.to_radians());
        let d = e * s + n * c;
        let normal = r.cross(&d);
        let normal = normal / normal.length();
        Self {
            plane_normal_ecef: [normal.x, normal.y, normal.z],
            pitch_final_deg,
            cutoff_s,
        }
    }
}

/// The flight regime, for display and for the choice of step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// Engines burning.
    Boost,
    /// Unpowered flight, ascending or above the re-entry altitude.
    Coast,
    /// Descending below [`REENTRY_ALTITUDE_M`].
    Reentry,
    /// On the ground; the flight is over.
    Impacted,
}

/// The state at the end of powered flight.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BurnoutInfo {
    /// Flight time of burnout or cut-off (s).
    pub time_s: f64,
    /// Height above the ellipsoid (m).
    pub alt_m: f64,
    /// Speed relative to the Earth (m/s).
    pub speed_m_s: f64,
    /// Flight-path angle relative to the Earth, above the local horizontal (deg).
    pub flight_path_angle_deg: f64,
    /// Sub-satellite point.
    pub point: GeoPoint,
}

/// The impact on the reference surface.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ImpactInfo {
    /// Flight time at impact (s).
    pub time_s: f64,
    /// Impact point.
    pub point: GeoPoint,
    /// Impact point in ECEF (m).
    pub ecef_m: [f64; 3],
    /// Speed relative to the Earth at impact (m/s).
    pub speed_m_s: f64,
    /// Angle of the Earth-relative velocity below the local horizontal (deg).
    pub angle_deg: f64,
}

/// Something that happened during [`Flight::advance`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FlightEvent {
    /// A stage burnt out and separated; the next one ignites.
    StageBurnout {
        /// Index of the stage that burnt out (0 = first).
        stage: u8,
        /// Flight time (s).
        time_s: f64,
        /// Altitude (m).
        alt_m: f64,
        /// Earth-relative speed (m/s).
        speed_m_s: f64,
    },
    /// Powered flight ended (last stage burnout or cut-off); the RV separated if it does.
    Burnout(BurnoutInfo),
    /// The missile passed its highest point.
    Apogee {
        /// Flight time (s).
        time_s: f64,
        /// Altitude (m).
        alt_m: f64,
        /// Sub-missile point.
        point: GeoPoint,
    },
    /// The missile hit the surface.
    Impact(ImpactInfo),
}

/// What a flight looked like, once it is over.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FlightSummary {
    /// Launch (or free-flight start) point.
    pub launch: GeoPoint,
    /// Impact point.
    pub impact: GeoPoint,
    /// Great-circle ground range from launch to impact (m), on the sphere of
    /// [`crate::earth::EarthParams::range_radius_m`].
    pub range_m: f64,
    /// Highest altitude reached (m).
    pub apogee_alt_m: f64,
    /// Flight time of the apogee (s).
    pub apogee_time_s: f64,
    /// Total flight time (s).
    pub flight_time_s: f64,
    /// End of powered flight, if there was one.
    pub burnout: Option<BurnoutInfo>,
    /// Earth-relative impact speed (m/s).
    pub impact_speed_m_s: f64,
    /// Impact angle below the horizontal (deg).
    pub impact_angle_deg: f64,
}

/// One display sample of a flight.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FlightSample {
    /// Flight time (s).
    pub time_s: f64,
    /// Geodetic latitude (deg).
    pub lat_deg: f64,
    /// Longitude (deg).
    pub lon_deg: f64,
    /// Height above the ellipsoid (m).
    pub alt_m: f64,
    /// Earth-relative speed (m/s).
    pub speed_m_s: f64,
    /// Flight regime.
    pub phase: Phase,
}

/// Why a flight could not be followed to its end.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FlightError {
    /// No impact within [`MAX_FLIGHT_TIME_S`] (orbit or escape).
    #[error("no impact within {time_s:.0} s of flight (orbit or escape)")]
    NoImpact {
        /// Time followed (s).
        time_s: f64,
    },
}

/// The flight of one missile or free-flying body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Flight {
    /// Missile class (its stages, aerodynamics and RV).
    pub kind: MissileKind,
    /// Guidance during boost.
    pub guidance: Guidance,
    /// Launch point (free flight: the point under the start state).
    pub launch: GeoPoint,
    /// Flight time since launch (s).
    pub time_s: f64,
    /// Position and velocity in the flight's inertial frame (ECEF at launch).
    pub state: PosVel,
    /// Current regime.
    pub phase: Phase,
    /// Index of the burning stage (meaningful in boost).
    pub stage: u8,
    /// Ignition time of the burning stage (s).
    pub stage_ignition_s: f64,
    /// Mass at ignition of the burning stage (kg).
    pub stage_ignition_mass_kg: f64,
    /// Mass after powered flight (kg).
    pub coast_mass_kg: f64,
    /// Whether the RV has separated from the body.
    pub separated: bool,
    /// Height above the ellipsoid at the end of the last sub-step (m).
    pub alt_m: f64,
    /// Highest altitude so far (m).
    pub max_alt_m: f64,
    /// Time of the highest altitude (s).
    pub max_alt_time_s: f64,
    /// Whether the apogee event has been emitted.
    pub apogee_passed: bool,
    /// End of powered flight, once it happened.
    pub burnout: Option<BurnoutInfo>,
    /// Impact, once it happened.
    pub impact: Option<ImpactInfo>,
}

impl Flight {
    /// A missile standing on the launch point at flight time zero, engines igniting.
    pub fn launch(
        kind: MissileKind,
        launch: GeoPoint,
        guidance: Guidance,
        physics: &PhysicsParams,
    ) -> Self {
        let t = kind.params();
        let r = physics
            .earth
            .ellipsoid()
            .geodetic_to_ecef(&launch.to_geodetic(0.0));
        let omega = physics.earth.omega_rad_s();
        let v = Vector3::new(-omega * r.y, omega * r.x, 0.0);
        Self {
            kind,
            guidance,
            launch,
            time_s: 0.0,
            state: PosVel { r_m: r, v_m_s: v },
            phase: Phase::Boost,
            stage: 0,
            stage_ignition_s: 0.0,
            stage_ignition_mass_kg: t.launch_mass_kg(),
            coast_mass_kg: t.launch_mass_kg(),
            separated: false,
            alt_m: 0.0,
            max_alt_m: 0.0,
            max_alt_time_s: 0.0,
            apogee_passed: false,
            burnout: None,
            impact: None,
        }
    }

    /// An unpowered body (the final body of `kind`: its RV, or its whole burnt-out airframe)
    /// starting at geodetic `start` (altitude `alt_m`) with an Earth-relative speed, flight-path
    /// angle above the local horizontal and azimuth clockwise from north.
    pub fn free(
        kind: MissileKind,
        start: GeoPoint,
        alt_m: f64,
        speed_m_s: f64,
        flight_path_angle_deg: f64,
        azimuth_deg: f64,
        physics: &PhysicsParams,
    ) -> Self {
        let t = kind.params();
        let g = start.to_geodetic(alt_m);
        let r = physics.earth.ellipsoid().geodetic_to_ecef(&g);
        let [e, n, u] = crate::earth::Ellipsoid::enu_basis(g.lat_rad, g.lon_rad);
        let (sg, cg) = libm::sincos(flight_path_angle_deg.to_radians());
        let (sa, ca) = libm::sincos(azimuth_deg.to_radians());
        let v_rel = (e * sa + n * ca) * (speed_m_s * cg) + u * (speed_m_s * sg);
        let omega = physics.earth.omega_rad_s();
        let v = v_rel + Vector3::new(-omega * r.y, omega * r.x, 0.0);
        let (mass, separated) = match t.rv {
            Some(rv) => (rv.mass_kg, true),
            None => (
                t.stages.last().map_or(0.0, |s| s.dry_mass_kg()) + t.payload_mass_kg,
                false,
            ),
        };
        let mut f = Self {
            kind,
            guidance: Guidance {
                plane_normal_ecef: [0.0, 0.0, 1.0],
                pitch_final_deg: 0.0,
                cutoff_s: 0.0,
            },
            launch: start,
            time_s: 0.0,
            state: PosVel { r_m: r, v_m_s: v },
            phase: Phase::Coast,
            stage: t.stages.len() as u8,
            stage_ignition_s: 0.0,
            stage_ignition_mass_kg: mass,
            coast_mass_kg: mass,
            separated,
            alt_m,
            max_alt_m: alt_m,
            max_alt_time_s: 0.0,
            apogee_passed: false,
            burnout: None,
            impact: None,
        };
        if flight_path_angle_deg <= 0.0 {
            f.apogee_passed = true;
        }
        f
    }

    fn params(&self) -> &'static MissileType {
        self.kind.params()
    }

    /// The force model for the current regime.
    pub fn force_model(&self, physics: &PhysicsParams) -> ForceModel {
        let t = self.params();
        let (area, drag) = match (self.separated, t.rv) {
            (true, Some(rv)) => (
                core::f64::consts::FRAC_PI_4 * rv.diameter_m * rv.diameter_m,
                rv.drag,
            ),
            _ => (t.body_area_m2(), t.body_drag),
        };
        let mut m = ForceModel::new(physics, self.coast_mass_kg, area, drag);
        if self.phase == Phase::Boost {
            let stage = &t.stages[self.stage as usize];
            let n = self.guidance.plane_normal_ecef;
            m.thrust = Some(ThrustParams {
                thrust_n: stage.thrust_n,
                ignition_mass_kg: self.stage_ignition_mass_kg,
                ignition_s: self.stage_ignition_s,
                mass_flow_kg_s: stage.mass_flow_kg_s(),
                pitch: t.pitch,
                pitch_final_rad: self.guidance.pitch_final_deg.to_radians(),
                plane_normal: Vector3::new(n[0], n[1], n[2]),
            });
        }
        m
    }

    /// Flight time at which the current thrust segment ends (stage burnout or cut-off).
    fn thrust_end_s(&self) -> f64 {
        let stage = &self.params().stages[self.stage as usize];
        (self.stage_ignition_s + stage.burn_time_s).min(self.guidance.cutoff_s)
    }

    fn substep_s(&self, physics: &PhysicsParams, steps: &StepParams) -> f64 {
        if self.phase == Phase::Boost {
            return steps.boost_s;
        }
        if physics.atmosphere {
            let ell = physics.earth.ellipsoid();
            let top = ell.a_m + crate::atmosphere::TOP_OF_ATMOSPHERE_M + 5_000.0;
            if self.state.r_m.norm_squared() < top * top {
                return steps.atmosphere_s;
            }
        }
        steps.vacuum_s
    }

    /// Rotation angle of ECEF relative to the flight's inertial frame at time `t_s` (rad).
    fn earth_angle(physics: &PhysicsParams, t_s: f64) -> f64 {
        physics.earth.omega_rad_s() * t_s
    }

    /// Position in ECEF (m).
    pub fn position_ecef(&self, physics: &PhysicsParams) -> Vector3<f64> {
        rotate_z(&self.state.r_m, -Self::earth_angle(physics, self.time_s))
    }

    /// Earth-relative velocity in ECEF (m/s).
    pub fn velocity_ecef(&self, physics: &PhysicsParams) -> Vector3<f64> {
        velocity_ecef(physics, self.time_s, &self.state)
    }

    /// The current display sample.
    pub fn sample(&self, physics: &PhysicsParams) -> FlightSample {
        let g = physics
            .earth
            .ellipsoid()
            .ecef_to_geodetic(&self.position_ecef(physics));
        let p = g.to_point();
        FlightSample {
            time_s: self.time_s,
            lat_deg: p.lat_deg,
            lon_deg: p.lon_deg,
            alt_m: if self.phase == Phase::Impacted {
                0.0
            } else {
                g.alt_m
            },
            speed_m_s: self.velocity_ecef(physics).length(),
            phase: self.phase,
        }
    }

    /// Advances the flight by `dt_s` seconds of flight time, appending what happened to
    /// `events` in order. Does nothing once impacted.
    pub fn advance(&mut self, dt_s: f64, physics: &PhysicsParams, events: &mut Vec<FlightEvent>) {
        self.advance_with_steps(dt_s, physics, &STEPS, events);
    }

    /// [`Flight::advance`] with other sub-step sizes than [`STEPS`]: for convergence studies
    /// (each size should divide the tick). The simulation always uses [`STEPS`].
    pub fn advance_with_steps(
        &mut self,
        dt_s: f64,
        physics: &PhysicsParams,
        steps: &StepParams,
        events: &mut Vec<FlightEvent>,
    ) {
        self.advance_carrying(dt_s, physics, steps, events, &mut None);
    }

    /// [`Flight::advance_with_steps`], carrying the thrust direction's terms at the end of the
    /// last powered step in `carry` from one call to the next (see [`rk4`]): for a caller
    /// that advances one flight, with its guidance unchanged, in many calls.
    fn advance_carrying(
        &mut self,
        dt_s: f64,
        physics: &PhysicsParams,
        steps: &StepParams,
        events: &mut Vec<FlightEvent>,
        carry: &mut Carry,
    ) {
        let ell = physics.earth.ellipsoid();
        let mut remaining = dt_s;
        // bounded: each pass takes a sub-step of at least the smallest StepParams step, or ends a stage (finitely many).
        while remaining > 1e-9 && self.phase != Phase::Impacted {
            let mut h = self.substep_s(physics, steps).min(remaining);
            let mut thrust_end = None;
            if self.phase == Phase::Boost {
                let end = self.thrust_end_s();
                if end - self.time_s <= h + 1e-9 {
                    h = (end - self.time_s).max(0.0);
                    thrust_end = Some(end);
                }
            }
            let model = self.force_model(physics);
            let prev = self.state;
            let prev_t = self.time_s;
            let prev_alt = self.alt_m;
            if h > 0.0 {
                self.state = rk4(&model, prev_t, &prev, h, carry);
            }
            self.time_s = thrust_end.unwrap_or(prev_t + h);
            remaining -= h;
            let alt = ell.altitude_m(&self.state.r_m);
            if alt < 0.0 && self.time_s > 1.0 {
                self.finish_impact(&model, &prev, prev_t, prev_alt, h, alt, physics);
                events.push(FlightEvent::Impact(self.impact.expect("impact just set")));
                return;
            }
            self.alt_m = alt;
            if alt > self.max_alt_m {
                self.max_alt_m = alt;
                self.max_alt_time_s = self.time_s;
            }
            if thrust_end.is_some() {
                self.end_thrust(physics, alt, events);
            }
            // Apogee and re-entry follow the geodetic altitude, the height a display shows.
            let descending = alt < prev_alt;
            if self.phase != Phase::Boost {
                if !self.apogee_passed && descending {
                    self.apogee_passed = true;
                    let g = ell.ecef_to_geodetic(&self.position_ecef(physics));
                    events.push(FlightEvent::Apogee {
                        time_s: self.max_alt_time_s,
                        alt_m: self.max_alt_m,
                        point: g.to_point(),
                    });
                }
                if self.phase == Phase::Coast && descending && alt < REENTRY_ALTITUDE_M {
                    self.phase = Phase::Reentry;
                }
            }
        }
    }

    /// Stage burnout or end of powered flight at the current time.
    fn end_thrust(&mut self, physics: &PhysicsParams, alt_m: f64, events: &mut Vec<FlightEvent>) {
        let t = self.params();
        let stage = &t.stages[self.stage as usize];
        let burnt = self.time_s - self.stage_ignition_s;
        let mass_now = self.stage_ignition_mass_kg - stage.mass_flow_kg_s() * burnt;
        let last = self.stage as usize + 1 == t.stages.len();
        let cut = self.time_s >= self.guidance.cutoff_s - 1e-9;
        let speed = self.velocity_ecef(physics).length();
        if !last && !cut {
            events.push(FlightEvent::StageBurnout {
                stage: self.stage,
                time_s: self.time_s,
                alt_m,
                speed_m_s: speed,
            });
            self.stage += 1;
            self.stage_ignition_s = self.time_s;
            self.stage_ignition_mass_kg = mass_now - stage.dry_mass_kg();
            return;
        }
        if !cut {
            events.push(FlightEvent::StageBurnout {
                stage: self.stage,
                time_s: self.time_s,
                alt_m,
                speed_m_s: speed,
            });
        }
        self.phase = Phase::Coast;
        self.coast_mass_kg = mass_now;
        if let Some(rv) = t.rv {
            self.separated = true;
            self.coast_mass_kg = rv.mass_kg;
        }
        let info = self.burnout_info(physics, alt_m);
        self.burnout = Some(info);
        events.push(FlightEvent::Burnout(info));
    }

    fn burnout_info(&self, physics: &PhysicsParams, alt_m: f64) -> BurnoutInfo {
        let ell = physics.earth.ellipsoid();
        let pos = self.position_ecef(physics);
        let g = ell.ecef_to_geodetic(&pos);
        let v = self.velocity_ecef(physics);
        let [e, n, u] = crate::earth::Ellipsoid::enu_basis(g.lat_rad, g.lon_rad);
        let (ve, vn, vu) = (v.dot(&e), v.dot(&n), v.dot(&u));
        BurnoutInfo {
            time_s: self.time_s,
            alt_m,
            speed_m_s: v.length(),
            flight_path_angle_deg: libm::atan2(vu, crate::earth::sqrt(ve * ve + vn * vn))
                .to_degrees(),
            point: g.to_point(),
        }
    }

    /// Finds the impact inside the last sub-step by regula falsi on the step length and
    /// records it.
    #[allow(clippy::too_many_arguments)]
    fn finish_impact(
        &mut self,
        model: &ForceModel,
        prev: &PosVel,
        prev_t: f64,
        prev_alt: f64,
        h: f64,
        alt: f64,
        physics: &PhysicsParams,
    ) {
        let ell = physics.earth.ellipsoid();
        let step = |dt: f64| rk4(model, prev_t, prev, dt, &mut None);
        let mut bracket = Illinois {
            a: 0.0,
            fa: prev_alt.max(0.0),
            b: h,
            fb: alt,
        };
        let mut best = (bracket.b, self.state);
        // Already on the ground at the start of the step: a launch that never lifted off.
        let grounded = bracket.fa <= 0.0;
        if grounded {
            best = (0.0, *prev);
        }
        for _ in 0..if grounded { 0 } else { 30 } {
            let c = bracket.next();
            let s = step(c);
            let fc = ell.altitude_m(&s.r_m);
            best = (c, s);
            if fc.abs() < 1e-4 || (bracket.b - bracket.a).abs() < 1e-9 {
                break;
            }
            bracket.update(c, fc);
        }
        let (dt, s) = best;
        self.state = s;
        self.time_s = prev_t + dt;
        self.phase = Phase::Impacted;
        let pos = self.position_ecef(physics);
        let mut g = ell.ecef_to_geodetic(&pos);
        g.alt_m = 0.0;
        let on_surface = ell.geodetic_to_ecef(&g);
        let v = self.velocity_ecef(physics);
        let [e, n, u] = crate::earth::Ellipsoid::enu_basis(g.lat_rad, g.lon_rad);
        let (ve, vn, vu) = (v.dot(&e), v.dot(&n), v.dot(&u));
        self.impact = Some(ImpactInfo {
            time_s: self.time_s,
            point: g.to_point(),
            ecef_m: [on_surface.x, on_surface.y, on_surface.z],
            speed_m_s: v.length(),
            angle_deg: libm::atan2(-vu, crate::earth::sqrt(ve * ve + vn * vn)).to_degrees(),
        });
    }

    /// The flight's summary, once impacted.
    pub fn summary(&self, physics: &PhysicsParams) -> Option<FlightSummary> {
        let impact = self.impact?;
        Some(FlightSummary {
            launch: self.launch,
            impact: impact.point,
            range_m: great_circle_distance_m(
                &self.launch,
                &impact.point,
                physics.earth.range_radius_m(),
            ),
            apogee_alt_m: self.max_alt_m,
            apogee_time_s: self.max_alt_time_s,
            flight_time_s: impact.time_s,
            burnout: self.burnout,
            impact_speed_m_s: impact.speed_m_s,
            impact_angle_deg: impact.angle_deg,
        })
    }

    /// Flies to impact with other sub-steps than the engine's (the targeting solver's search
    /// model, [`crate::flight::COARSE_STEPS`]) and returns the impact: powered flight one
    /// sub-step per [`Flight::coarse_boost_step`], then chunks of 60 s. No samples, no summary:
    /// the engine never flies this path.
    pub fn coarse_impact(
        &mut self,
        physics: &PhysicsParams,
        steps: &StepParams,
    ) -> Result<ImpactInfo, FlightError> {
        let mut events = Vec::new();
        let mut carry = None;
        // bounded: each pass burns one boost step; the burn time is finite.
        while self.phase == Phase::Boost {
            self.advance_carrying(steps.boost_s, physics, steps, &mut events, &mut carry);
            events.clear();
        }
        // bounded: MAX_FLIGHT_TIME_S, checked at the top of each pass.
        while self.phase != Phase::Impacted {
            if self.time_s > MAX_FLIGHT_TIME_S {
                return Err(FlightError::NoImpact {
                    time_s: self.time_s,
                });
            }
            self.advance_carrying(60.0, physics, steps, &mut events, &mut carry);
            events.clear();
        }
        Ok(self.impact.expect("impacted"))
    }

    /// One powered sub-step of [`Flight::coarse_impact`] (`steps.boost_s`, or shorter when a
    /// stage burns out or thrust is cut inside it). A flight that reaches this step's end with
    /// its cut-off still ahead (more than 1e-6 s) has flown exactly the steps another flight
    /// with the same launch, plane and pitch and a later cut-off flies: the targeting solver
    /// resumes such flights from copies instead of flying the same powered flight again.
    pub fn coarse_boost_step(&mut self, physics: &PhysicsParams, steps: &StepParams) {
        let mut events = Vec::new();
        self.advance_with_steps(steps.boost_s, physics, steps, &mut events);
    }

    /// Flies to impact tick by tick (ticks of [`TICK_S`], exactly as the engine does) and
    /// returns the summary, with a display sample every `sample_every_ticks` ticks when asked.
    pub fn fly_to_impact(
        &mut self,
        physics: &PhysicsParams,
        sample_every_ticks: Option<u32>,
    ) -> Result<(FlightSummary, Vec<FlightSample>), FlightError> {
        let mut samples = Vec::new();
        let mut events = Vec::new();
        let mut tick: u64 = 0;
        let mut carry = None;
        // bounded: MAX_FLIGHT_TIME_S, checked at the top of each pass.
        while self.phase != Phase::Impacted {
            if let Some(every) = sample_every_ticks
                && tick.is_multiple_of(u64::from(every.max(1)))
            {
                samples.push(self.sample(physics));
            }
            if self.time_s > MAX_FLIGHT_TIME_S {
                return Err(FlightError::NoImpact {
                    time_s: self.time_s,
                });
            }
            self.advance_carrying(TICK_S, physics, &STEPS, &mut events, &mut carry);
            events.clear();
            tick += 1;
        }
        if sample_every_ticks.is_some() {
            samples.push(self.sample(physics));
        }
        Ok((self.summary(physics).expect("impacted"), samples))
    }
}

/// The thrust direction's terms at the end of a flight's last powered step, with the bits of
/// that time: a function of the time and of the flight's guidance alone (its plane and pitch
/// program), so the next step of the same flight, starting at that time, can reuse them.
type Carry = Option<(u64, ThrustFrame)>;

/// One RK4 step of the force model, bit for bit `rk4_step` of [`ForceModel::acceleration`],
/// with the thrust direction's terms computed once for each of the step's three distinct
/// times (start, middle twice, end) instead of at each of its four evaluations, and the
/// start's taken from `carry` when the previous step of the same flight ended at that time
/// (bit for bit); the end's are left in `carry`.
fn rk4(model: &ForceModel, t_s: f64, y: &PosVel, h_s: f64, carry: &mut Carry) -> PosVel {
    if model.thrust.is_none() {
        *carry = None;
        return rk4_step(|t, r, v| model.acceleration_in(t, r, v, None), t_s, y, h_s);
    }
    // The same expressions as `rk4_step`'s evaluation times, so the same bits.
    let (t_mid, t_end) = (t_s + 0.5 * h_s, t_s + h_s);
    let f_start = match *carry {
        Some((bits, frame)) if bits == t_s.to_bits() => Some(frame),
        _ => model.thrust_frame(t_s),
    };
    let (f_mid, f_end) = (model.thrust_frame(t_mid), model.thrust_frame(t_end));
    *carry = f_end.map(|f| (t_end.to_bits(), f));
    rk4_step(
        |t: f64, r, v| {
            let frame = if t.to_bits() == t_mid.to_bits() {
                f_mid
            } else if t.to_bits() == t_s.to_bits() {
                f_start
            } else if t.to_bits() == t_end.to_bits() {
                f_end
            } else {
                model.thrust_frame(t)
            };
            model.acceleration_in(t, r, v, frame.as_ref())
        },
        t_s,
        y,
        h_s,
    )
}

/// Earth-relative velocity in ECEF at flight time `t_s` for an inertial state.
pub fn velocity_ecef(physics: &PhysicsParams, t_s: f64, s: &PosVel) -> Vector3<f64> {
    let omega = physics.earth.omega_rad_s();
    let v_rel = s.v_m_s - Vector3::new(-omega * s.r_m.y, omega * s.r_m.x, 0.0);
    rotate_z(&v_rel, -omega * t_s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rk4_with_shared_thrust_terms_is_rk4_step_bit_for_bit() {
        let physics = PhysicsParams::default();
        let from = GeoPoint::new(39.0, 125.7);
        for kind in MissileKind::ALL {
            let g = Guidance::toward_azimuth(&physics, &from, 120.0, 40.0, 1.0e4);
            let mut f = Flight::launch(kind, from, g, &physics);
            let mut events = Vec::new();
            // Through the vertical rise, the pitch-over and staging, and into the coast.
            for _ in 0..2_000 {
                let model = f.force_model(&physics);
                for h in [0.1, 0.5, 0.0371] {
                    let direct =
                        rk4_step(|t, r, v| model.acceleration(t, r, v), f.time_s, &f.state, h);
                    assert_eq!(
                        rk4(&model, f.time_s, &f.state, h, &mut None),
                        direct,
                        "{kind} {}",
                        f.time_s
                    );
                }
                f.advance(0.1, &physics, &mut events);
            }
            assert!(f.burnout.is_some());
        }
    }

    #[test]
    fn carried_thrust_terms_fly_the_same_flights() {
        // `fly_to_impact` and `coarse_impact` carry the thrust terms from step to step;
        // `advance` starts afresh at each call.
        let physics = PhysicsParams::default();
        let from = GeoPoint::new(36.5, -123.1);
        for kind in MissileKind::ALL {
            let g = Guidance::toward_azimuth(&physics, &from, 100.0, 45.0, 1.0e4);
            let mut carried = Flight::launch(kind, from, g, &physics);
            carried.fly_to_impact(&physics, None).unwrap();
            let mut fresh = Flight::launch(kind, from, g, &physics);
            let mut events = Vec::new();
            while fresh.phase != Phase::Impacted {
                fresh.advance(TICK_S, &physics, &mut events);
            }
            assert_eq!(carried, fresh, "{kind}");
            let steps = crate::flight::COARSE_STEPS;
            let mut carried = Flight::launch(kind, from, g, &physics);
            let impact = carried.coarse_impact(&physics, &steps).unwrap();
            let mut fresh = Flight::launch(kind, from, g, &physics);
            while fresh.phase == Phase::Boost {
                fresh.coarse_boost_step(&physics, &steps);
            }
            while fresh.phase != Phase::Impacted {
                fresh.advance_with_steps(60.0, &physics, &steps, &mut events);
            }
            assert_eq!(Some(impact), fresh.impact, "{kind} coarse");
        }
    }
}
