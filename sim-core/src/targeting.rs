//! Click-to-launch targeting: find the guidance that puts a missile's impact on a target,
//! on the rotating Earth with drag, by flying the real flight model.
//!
//! Controls: the launch plane's azimuth (through an angle `delta` about the launch vertical)
//! steers crossrange; range is steered by the thrust cut-off time (minimum energy: the pitch
//! program that maximises range, with the engines cut early, as Scud-type missiles do), or by
//! the final pitch with a full burn (lofted above the maximum-range pitch, depressed below it).
//! Method: the search runs on a coarse model of the same flight (the same propagator with the
//! sub-steps [`COARSE_STEPS`], a tenth of the cost, its impact within a metre of the engine's):
//! a bracketed regula falsi (Illinois) on the range in the great-circle plane, then
//! Newton-Broyden on (control, delta) against (range, bearing) about the launch point (polar
//! coordinates, in which turning the plane moves the bearing alone) to 5 cm, its last step
//! from within 10 m handed to the engine flight unflown. Then it shoots
//! against the truth: complete engine flights ([`Flight::fly_to_impact`], the very code the
//! engine flies, so the engine reproduces the solved impact bit for bit), corrected by Newton
//! steps with the coarse model's Jacobian, until the miss is under [`MISS_TOLERANCE_M`]; one
//! engine flight usually suffices. Near a reach limit, for every refusal, and if the coarse
//! search fails, the solver falls back to the same search on engine flights alone (the
//! solver's only method before; ten to sixteen flights), so refusals and their figures are
//! those of engine flights.
//! Invariants: deterministic, no allocation beyond the flights (and copies of one coarse
//! powered flight, about 100 kB for the ICBM), an error value (never a panic)
//! for every unreachable target.

use crate::flight::illinois::Illinois;
use nalgebra::Vector3;
use serde::{Deserialize, Serialize};

use crate::earth::frames::great_circle_distance_m;
use crate::earth::{GeoPoint, Length};
use crate::flight::{COARSE_STEPS, Flight, FlightSummary, Guidance, Phase, PhysicsParams};
use crate::missile::MissileKind;

/// The solver stops once the impact is this close to the target (m).
pub const MISS_TOLERANCE_M: f64 = 1.0;
/// A solution missing by more than this is reported as [`TargetingError::NotConverged`] (m).
pub const MAX_ACCEPTED_MISS_M: f64 = 2_000.0;

/// The shape of the solved trajectory.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "kebab-case")]
pub enum Profile {
    /// Maximum-range pitch program with thrust cut-off: the least energy for the range.
    #[default]
    MinEnergy,
    /// Full burn, steeper than the maximum-range pitch: higher apogee, steeper re-entry.
    Lofted,
    /// Full burn, flatter than the maximum-range pitch: lower apogee, shorter flight.
    Depressed,
}

impl Profile {
    /// The name used on the command line and in JSON.
    pub fn name(self) -> &'static str {
        match self {
            Profile::MinEnergy => "min-energy",
            Profile::Lofted => "lofted",
            Profile::Depressed => "depressed",
        }
    }

    /// Parses `min-energy`, `lofted` or `depressed`.
    pub fn parse(s: &str) -> Result<Self, String> {
        [Profile::MinEnergy, Profile::Lofted, Profile::Depressed]
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| format!("unknown profile '{s}' (known: min-energy, lofted, depressed)"))
    }
}

/// What to hit with what.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TargetingRequest {
    /// Missile class.
    pub kind: MissileKind,
    /// Launch point.
    pub from: GeoPoint,
    /// Target.
    pub to: GeoPoint,
    /// Trajectory shape; minimum energy when absent from JSON.
    #[serde(default)]
    pub profile: Profile,
}

/// The bits of everything a launch's solution depends on, besides the physics: class,
/// profile, launch and aim points, and the guidance when given. Compared bit for bit (so -0.0
/// and 0.0, or two NaNs, are different inputs): the key of the engine's salvo memo and of the
/// relay's solve cache, which reuse a solution exactly when it would be computed again.
pub type RequestKey = (MissileKind, Profile, [u64; 4], Option<[u64; 5]>);

/// The [`RequestKey`] of a request and its optional pre-solved guidance.
pub fn request_key(req: &TargetingRequest, guidance: Option<&Guidance>) -> RequestKey {
    (
        req.kind,
        req.profile,
        [
            req.from.lat_deg.to_bits(),
            req.from.lon_deg.to_bits(),
            req.to.lat_deg.to_bits(),
            req.to.lon_deg.to_bits(),
        ],
        guidance.map(|g| {
            let n = g.plane_normal_ecef;
            [
                n[0].to_bits(),
                n[1].to_bits(),
                n[2].to_bits(),
                g.pitch_final_deg.to_bits(),
                g.cutoff_s.to_bits(),
            ]
        }),
    )
}

/// A solved flight.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Solution {
    /// The request.
    pub request: TargetingRequest,
    /// Guidance to fly.
    pub guidance: Guidance,
    /// The flight this guidance produces.
    pub summary: FlightSummary,
    /// Distance between the solved impact and the target (m).
    pub miss_m: f64,
    /// Great-circle distance from launch to target (m).
    pub distance_m: f64,
    /// Launch azimuth of the solved plane, clockwise from north (deg).
    pub azimuth_deg: f64,
    /// Number of complete engine flights (the engine's sub-steps) the solver flew.
    pub flights_flown: u32,
    /// Number of coarse flights ([`COARSE_STEPS`]) the solver's search flew besides.
    #[serde(default)]
    pub coarse_flights_flown: u32,
}

/// Why no flight was found.
#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "error", rename_all = "kebab-case")]
pub enum TargetingError {
    /// Beyond the missile's reach.
    #[error(
        "target is {:.0} km away, beyond the {kind} maximum range of {:.0} km",
        distance_m / 1000.0,
        max_range_m / 1000.0
    )]
    OutOfRange {
        /// Missile class.
        kind: MissileKind,
        /// Great-circle distance from launch to target (m).
        distance_m: f64,
        /// The maximum range (m): the catalog figure, or the reach actually found in this
        /// direction on the rotating Earth when that is less.
        max_range_m: f64,
    },
    /// Closer than the missile's minimum range.
    #[error(
        "target is {:.0} km away, inside the {kind} minimum range of {:.0} km",
        distance_m / 1000.0,
        min_range_m / 1000.0
    )]
    TooClose {
        /// Missile class.
        kind: MissileKind,
        /// Great-circle distance from launch to target (m).
        distance_m: f64,
        /// The minimum range (m).
        min_range_m: f64,
    },
    /// The requested profile cannot reach this distance.
    #[error(
        "a {} {kind} flight cannot reach {:.0} km: its reach is {:.0} to {:.0} km",
        profile.name(),
        distance_m / 1000.0,
        reach_min_m / 1000.0,
        reach_max_m / 1000.0
    )]
    ProfileUnavailable {
        /// Missile class.
        kind: MissileKind,
        /// The profile asked for.
        profile: Profile,
        /// Great-circle distance from launch to target (m).
        distance_m: f64,
        /// Shortest range of this profile (m).
        reach_min_m: f64,
        /// Longest range of this profile (m).
        reach_max_m: f64,
    },
    /// The solver did not get close enough.
    #[error("no solution found: the best flight misses by {:.0} m", miss_m)]
    NotConverged {
        /// Best miss found (m).
        miss_m: f64,
    },
    /// A field outside its range (coordinates, guidance, label: see [`crate::limits`]).
    #[error("{message}")]
    InvalidInput {
        /// One sentence.
        message: String,
    },
}

/// Longest final pitch tried for lofted flights (deg).
const LOFT_MAX_PITCH_DEG: f64 = 85.0;
/// Shortest final pitch tried for depressed flights (deg).
const DEPRESSED_MIN_PITCH_DEG: f64 = 8.0;

struct Geometry {
    launch_unit: Vector3<f64>,
    plane_normal: Vector3<f64>,
    /// The horizontal direction of the great-circle plane at the launch point, towards the
    /// target: `plane_normal x launch_unit`.
    forward: Vector3<f64>,
    target_ecef: Vector3<f64>,
    target_angle_rad: f64,
    radius_m: f64,
}

impl Geometry {
    fn normal(&self, delta_rad: f64) -> Vector3<f64> {
        let (s, c) = libm::sincos(delta_rad);
        self.plane_normal * c + self.launch_unit.cross(&self.plane_normal) * s
    }

    /// The residual the search drives to zero, in metres on the range sphere, in polar
    /// coordinates about the launch point: (range error, bearing error times the target's
    /// `R sin(range angle)`). Turning the launch plane by `delta` about the launch vertical
    /// turns a symmetric Earth's impact point about that vertical by `delta`: it moves the
    /// bearing alone, by `R sin(range angle)` per radian in these units, so the search's
    /// Jacobian is nearly diagonal and nearly constant (Broyden learns the Earth's rotation
    /// and shape).
    fn residual(&self, impact_ecef: &Vector3<f64>) -> [f64; 2] {
        let p = impact_ecef / impact_ecef.length();
        let (x, y) = (p.dot(&self.forward), p.dot(&self.plane_normal));
        let range = libm::atan2(libm::hypot(x, y), p.dot(&self.launch_unit));
        let bearing = libm::atan2(y, x);
        [
            (range - self.target_angle_rad) * self.radius_m,
            bearing * self.radius_m * libm::sin(self.target_angle_rad),
        ]
    }

    /// The downrange error of an impact point in the great-circle plane (m): the angle of its
    /// projection on the plane, less the target's, on the range sphere. The reach tests use
    /// it, as they always did.
    fn downrange_m(&self, impact_ecef: &Vector3<f64>) -> f64 {
        let p = impact_ecef / impact_ecef.length();
        let down = libm::atan2(
            self.launch_unit.cross(&p).dot(&self.plane_normal),
            self.launch_unit.dot(&p),
        );
        (down - self.target_angle_rad) * self.radius_m
    }
}

#[derive(Clone, Copy)]
struct Trial {
    guidance: Guidance,
    summary: FlightSummary,
    residual: [f64; 2],
    /// [`Geometry::downrange_m`] of the impact.
    downrange_m: f64,
    miss_m: f64,
}

/// The coarse search stops once its impact is this close to the target (m): far inside the
/// coarse model's own difference from the engine's flight, which the engine flights correct.
const COARSE_TOLERANCE_M: f64 = 0.05;
/// The coarse model is trusted to bracket the target only when its flights at both ends of the
/// control's range clear the target by this much (m), far more than its difference from the
/// engine's flight (at most tens of metres). Closer to a reach limit, and for every refusal,
/// the solver flies only engine flights, as it always did, so its refusals and their figures
/// never depend on the coarse model.
const COARSE_BRACKET_MARGIN_M: f64 = 1_000.0;
/// From a coarse flight this close to the target (m), the search's last Newton step is not
/// flown on the coarse model but handed straight to the engine flight: after the Broyden update
/// of the flights before, a step from within 10 m lands within a few centimetres of where the
/// coarse model predicts (in the benchmark's flights, 0.24 m from 16 m for Nodong, 0.05 m from
/// 7 m for SCUD-C), inside the coarse model's own difference from the engine's flight, which
/// the engine flights correct anyway. It spares one coarse flight (with its powered flight, as
/// `delta` changes) per solve.
const COARSE_UNCHECKED_STEP_M: f64 = 10.0;
/// Most engine flights of the correction after the coarse search.
const MAX_CORRECTION_FLIGHTS: u32 = 6;

/// One request's search: its geometry, its control's range and the flights flown so far.
struct Search<'a> {
    req: &'a TargetingRequest,
    physics: &'a PhysicsParams,
    geo: Geometry,
    distance_m: f64,
    /// Final pitch of minimum-energy flights (deg).
    star_deg: f64,
    /// A cut-off time after burnout: a full burn (s).
    full_s: f64,
    /// The control's bracket, and whether range grows with the control.
    lo: f64,
    hi: f64,
    increasing: bool,
    /// Engine flights flown.
    flown: u32,
    /// Coarse flights flown.
    coarse_flown: u32,
    /// The kept coarse powered flight of minimum-energy flights in the great-circle plane (full
    /// burn), one copy per step: see [`Search::coarse`].
    powered: Vec<Flight>,
}

/// A 2x2 Jacobian of (downrange, crossrange) with respect to (control, delta).
type Jacobian = [[f64; 2]; 2];

/// The Newton step `-J^-1 r`, or `None` for a singular Jacobian.
fn newton_step(jac: &Jacobian, r: [f64; 2]) -> Option<[f64; 2]> {
    let det = jac[0][0] * jac[1][1] - jac[0][1] * jac[1][0];
    if det == 0.0 || !det.is_finite() {
        return None;
    }
    Some([
        -(jac[1][1] * r[0] - jac[0][1] * r[1]) / det,
        -(-jac[1][0] * r[0] + jac[0][0] * r[1]) / det,
    ])
}

/// Broyden's rank-one update: J += (dr - J dx) dx^T / |dx|^2; false when `dx` is zero.
fn broyden_update(jac: &mut Jacobian, dx: [f64; 2], dr: [f64; 2]) -> bool {
    let norm2 = dx[0] * dx[0] + dx[1] * dx[1];
    if norm2 == 0.0 {
        return false;
    }
    for (i, row) in jac.iter_mut().enumerate() {
        let jdx = row[0] * dx[0] + row[1] * dx[1];
        let k = (dr[i] - jdx) / norm2;
        row[0] += k * dx[0];
        row[1] += k * dx[1];
    }
    true
}

impl Search<'_> {
    fn guidance(&self, u: f64, delta: f64) -> Guidance {
        let nn = self.geo.normal(delta);
        let (pitch, cutoff) = match self.req.profile {
            Profile::MinEnergy => (self.star_deg, u),
            _ => (u, self.full_s),
        };
        Guidance {
            plane_normal_ecef: [nn.x, nn.y, nn.z],
            pitch_final_deg: pitch,
            cutoff_s: cutoff,
        }
    }

    fn umin(&self) -> f64 {
        self.lo.min(self.hi)
    }

    fn umax(&self) -> f64 {
        self.lo.max(self.hi)
    }

    /// One engine flight ([`Flight::fly_to_impact`]): the truth.
    fn fly(&mut self, u: f64, delta: f64) -> Option<Trial> {
        self.flown += 1;
        let guidance = self.guidance(u, delta);
        let mut f = Flight::launch(self.req.kind, self.req.from, guidance, self.physics);
        let (summary, _) = f.fly_to_impact(self.physics, None).ok()?;
        let impact = f.impact?;
        let p = Vector3::from(impact.ecef_m);
        Some(Trial {
            guidance,
            summary,
            residual: self.geo.residual(&p),
            downrange_m: self.geo.downrange_m(&p),
            miss_m: (p - self.geo.target_ecef).length(),
        })
    }

    /// One coarse flight ([`Flight::coarse_impact`] with [`COARSE_STEPS`]): its residual.
    /// Minimum-energy flights in the great-circle plane (`delta` zero: the whole regula falsi)
    /// differ only in their cut-off, so they resume from the latest step of one kept powered
    /// flight before their cut-off ([`Search::powered`]), bit for bit the flight they would
    /// fly from the launch.
    fn coarse(&mut self, u: f64, delta: f64) -> Option<[f64; 2]> {
        let p = self.coarse_impact(u, delta)?;
        Some(self.geo.residual(&p))
    }

    /// The impact point in ECEF of one coarse flight (see [`Search::coarse`]).
    fn coarse_impact(&mut self, u: f64, delta: f64) -> Option<Vector3<f64>> {
        self.coarse_flown += 1;
        let guidance = self.guidance(u, delta);
        let mut f = if delta == 0.0 && self.req.profile == Profile::MinEnergy {
            self.powered_before(u)
        } else {
            Flight::launch(self.req.kind, self.req.from, guidance, self.physics)
        };
        f.guidance = guidance;
        let impact = f.coarse_impact(self.physics, &COARSE_STEPS).ok()?;
        Some(Vector3::from(impact.ecef_m))
    }

    /// A copy of the kept full-burn powered flight in the great-circle plane at its latest
    /// coarse step more than 1e-6 s before `cutoff_s` (the launch when none is), flying it
    /// further first when needed.
    fn powered_before(&mut self, cutoff_s: f64) -> Flight {
        let before = |f: &Flight| f.phase == Phase::Boost && f.time_s + 1e-6 < cutoff_s;
        if self.powered.is_empty() {
            let g = self.guidance(self.full_s, 0.0);
            let launch = Flight::launch(self.req.kind, self.req.from, g, self.physics);
            self.powered.push(launch);
        }
        // bounded: pops one cached flight per pass.
        while let Some(last) = self.powered.last().filter(|f| before(f)) {
            let mut next = last.clone();
            next.coarse_boost_step(self.physics, &COARSE_STEPS);
            self.powered.push(next);
        }
        let i = self.powered.iter().rposition(before).unwrap_or(0);
        self.powered[i].clone()
    }

    /// The fast search: regula falsi and Broyden on the coarse model to
    /// [`COARSE_TOLERANCE_M`], then Newton-Broyden on engine flights from the coarse
    /// Jacobian (shooting against the truth with the coarse model's sensitivity) until the
    /// engine's impact is within [`MISS_TOLERANCE_M`]. `None` when the coarse model cannot be
    /// trusted here (near a reach limit, a flight that never lands, a singular Jacobian).
    fn coarse_then_fine(&mut self) -> Option<Trial> {
        let (lo, hi) = (self.lo, self.hi);
        let (p_lo, p_hi) = (self.coarse_impact(lo, 0.0)?, self.coarse_impact(hi, 0.0)?);
        let (r_lo, r_hi) = (self.geo.residual(&p_lo), self.geo.residual(&p_hi));
        // The reach test on downrange in the plane, as the engine-flight search's refusals.
        let (d_lo, d_hi) = (self.geo.downrange_m(&p_lo), self.geo.downrange_m(&p_hi));
        let (near, far) = if self.increasing {
            (d_lo, d_hi)
        } else {
            (d_hi, d_lo)
        };
        if far < COARSE_BRACKET_MARGIN_M || near > -COARSE_BRACKET_MARGIN_M {
            return None;
        }
        // Phase 1: regula falsi in the great-circle plane on the square root of the range
        // (which grows about as the square of the burnout speed, so that its root is nearly
        // linear in the control), to within 500 m downrange.
        let target_m = self.geo.target_angle_rad * self.geo.radius_m;
        let root = |r: [f64; 2]| {
            crate::earth::sqrt((r[0] + target_m).max(0.0)) - crate::earth::sqrt(target_m)
        };
        // A minimum-energy cut-off at or after burnout is the full burn, `hi`'s flight: the
        // bracket ends at burnout, so no trial is spent on that flat stretch (and the secant
        // slopes do not cross it).
        let hi = match self.req.profile {
            Profile::MinEnergy => hi.min(self.req.kind.params().total_burn_time_s()),
            Profile::Lofted | Profile::Depressed => hi,
        };
        let mut bracket = Illinois {
            a: lo,
            fa: root(r_lo),
            b: hi,
            fb: root(r_hi),
        };
        // The best trial so far and the latest other one, for the secant slopes.
        let ((mut u, mut r), (mut u2, mut r2)) = if r_lo[0].abs() < r_hi[0].abs() {
            ((lo, r_lo), (hi, r_hi))
        } else {
            ((hi, r_hi), (lo, r_lo))
        };
        for _ in 0..30 {
            if r[0].abs() < 500.0 {
                break;
            }
            let c = bracket.next();
            let rc = self.coarse(c, 0.0)?;
            if rc[0].abs() < r[0].abs() {
                ((u2, r2), (u, r)) = ((u, r), (c, rc));
            } else {
                (u2, r2) = (c, rc);
            }
            bracket.update(c, root(rc));
        }
        // Phase 2: Newton-Broyden on the coarse model. The first Jacobian costs no flight: its
        // control column is the secant through the last two trials; turning the plane by
        // `delta` about the launch vertical turns the impact with it, so the bearing term moves
        // by R sin(range angle) per radian and the range not at all (exactly on a symmetric
        // Earth, see `Geometry::residual`; Broyden learns the rest, the Earth's rotation
        // included).
        let (umin, umax) = (self.umin(), self.umax());
        let hu = u2 - u;
        if hu == 0.0 {
            return None;
        }
        let mut jac = [
            [(r2[0] - r[0]) / hu, 0.0],
            [
                (r2[1] - r[1]) / hu,
                self.geo.radius_m * libm::sin(self.geo.target_angle_rad),
            ],
        ];
        let mut delta = 0.0;
        for _ in 0..20 {
            let miss = libm::hypot(r[0], r[1]);
            if miss < COARSE_TOLERANCE_M {
                break;
            }
            let step = newton_step(&jac, r)?;
            let nu = (u + step[0]).clamp(umin, umax);
            let nd = delta + step[1];
            if miss < COARSE_UNCHECKED_STEP_M {
                // The step is taken without a coarse flight: the engine flight checks it.
                (u, delta) = (nu, nd);
                break;
            }
            let rn = self.coarse(nu, nd)?;
            if !broyden_update(&mut jac, [nu - u, nd - delta], [rn[0] - r[0], rn[1] - r[1]]) {
                break;
            }
            (u, delta, r) = (nu, nd, rn);
        }
        // Phase 3: engine flights, from the coarse solution and the coarse Jacobian.
        let current = self.fly(u, delta)?;
        Some(self.newton_broyden(
            jac,
            (u, delta),
            current,
            current,
            MAX_CORRECTION_FLIGHTS - 1,
        ))
    }

    /// Newton steps on engine flights from `current` at (u, delta) with the Jacobian `jac`,
    /// Broyden-updated after each flight, at most `flights` of them, until the best flight
    /// (starting from `best`) misses by less than [`MISS_TOLERANCE_M`]: the best flight found.
    fn newton_broyden(
        &mut self,
        mut jac: Jacobian,
        (mut u, mut delta): (f64, f64),
        mut current: Trial,
        mut best: Trial,
        flights: u32,
    ) -> Trial {
        let (umin, umax) = (self.umin(), self.umax());
        for _ in 0..flights {
            if best.miss_m < MISS_TOLERANCE_M {
                break;
            }
            let Some(step) = newton_step(&jac, current.residual) else {
                break;
            };
            let nu = (u + step[0]).clamp(umin, umax);
            let nd = delta + step[1];
            let Some(trial) = self.fly(nu, nd) else { break };
            let dr = [
                trial.residual[0] - current.residual[0],
                trial.residual[1] - current.residual[1],
            ];
            if !broyden_update(&mut jac, [nu - u, nd - delta], dr) {
                break;
            }
            (u, delta, current) = (nu, nd, trial);
            if trial.miss_m < best.miss_m {
                best = trial;
            }
        }
        best
    }

    /// The search on engine flights alone (the solver's only method before the coarse model,
    /// and its fallback): bracket and regula falsi on downrange, then Newton-Broyden from a
    /// finite-difference Jacobian. Returns the best flight found, or the refusal.
    fn fine_only(&mut self) -> Result<Trial, TargetingError> {
        let (lo, hi) = (self.lo, self.hi);
        let not_found = |miss_m: f64| TargetingError::NotConverged { miss_m };
        // Phase 1: bracket and regula falsi on downrange in the great-circle plane.
        let t_lo = self.fly(lo, 0.0).ok_or_else(|| not_found(f64::INFINITY))?;
        let t_hi = self.fly(hi, 0.0).ok_or_else(|| not_found(f64::INFINITY))?;
        let (near, far) = if self.increasing {
            (&t_lo, &t_hi)
        } else {
            (&t_hi, &t_lo)
        };
        if far.downrange_m < 0.0 || near.downrange_m > 0.0 {
            let (kind, distance_m) = (self.req.kind, self.distance_m);
            let reach_max_m = far.summary.range_m;
            let reach_min_m = near.summary.range_m;
            return Err(match self.req.profile {
                Profile::MinEnergy if far.downrange_m < 0.0 => TargetingError::OutOfRange {
                    kind,
                    distance_m,
                    max_range_m: reach_max_m.min(kind.params().max_range_m),
                },
                Profile::MinEnergy => TargetingError::TooClose {
                    kind,
                    distance_m,
                    min_range_m: reach_min_m,
                },
                profile => TargetingError::ProfileUnavailable {
                    kind,
                    profile,
                    distance_m,
                    reach_min_m,
                    reach_max_m,
                },
            });
        }
        let mut bracket = Illinois {
            a: lo,
            fa: t_lo.residual[0],
            b: hi,
            fb: t_hi.residual[0],
        };
        let lo_is_best = bracket.fa.abs() < bracket.fb.abs();
        let mut best = if lo_is_best { t_lo } else { t_hi };
        let mut u = if lo_is_best { lo } else { hi };
        for _ in 0..30 {
            if best.residual[0].abs() < 500.0 {
                break;
            }
            let c = bracket.next();
            let trial = self.fly(c, 0.0).ok_or_else(|| not_found(best.miss_m))?;
            let fc = trial.residual[0];
            if fc.abs() < best.residual[0].abs() {
                best = trial;
                u = c;
            }
            bracket.update(c, fc);
        }

        // Phase 2: Newton with a finite-difference Jacobian, then Broyden updates.
        let delta = 0.0;
        let du = match self.req.profile {
            Profile::MinEnergy => 0.01,
            _ => 0.005,
        };
        let dd = 1e-5;
        let umax = self.umax();
        let jac = {
            let pu = self
                .fly((u + du).min(umax), delta)
                .ok_or_else(|| not_found(best.miss_m))?;
            let pd = self
                .fly(u, delta + dd)
                .ok_or_else(|| not_found(best.miss_m))?;
            let hu = (u + du).min(umax) - u;
            let hu = if hu == 0.0 { du } else { hu };
            [
                [
                    (pu.residual[0] - best.residual[0]) / hu,
                    (pd.residual[0] - best.residual[0]) / dd,
                ],
                [
                    (pu.residual[1] - best.residual[1]) / hu,
                    (pd.residual[1] - best.residual[1]) / dd,
                ],
            ]
        };
        Ok(self.newton_broyden(jac, (u, delta), best, best, 20))
    }
}

/// Solves a click-to-launch request on the given physics.
pub fn solve(req: &TargetingRequest, physics: &PhysicsParams) -> Result<Solution, TargetingError> {
    for p in [&req.from, &req.to] {
        p.validate()
            .map_err(|message| TargetingError::InvalidInput { message })?;
    }
    let t = req.kind.params();
    let distance_m = great_circle_distance_m(&req.from, &req.to, physics.earth.range_radius_m());
    if distance_m > t.max_range_m {
        return Err(TargetingError::OutOfRange {
            kind: req.kind,
            distance_m,
            max_range_m: t.max_range_m,
        });
    }
    if distance_m < t.min_range_m {
        return Err(TargetingError::TooClose {
            kind: req.kind,
            distance_m,
            min_range_m: t.min_range_m,
        });
    }
    let ell = physics.earth.ellipsoid();
    let rl = ell.geodetic_to_ecef(&req.from.to_geodetic(0.0));
    let rt = ell.geodetic_to_ecef(&req.to.to_geodetic(0.0));
    let l = rl / rl.length();
    let tu = rt / rt.length();
    let n = l.cross(&tu);
    let plane_normal = n / n.length();
    let geo = Geometry {
        launch_unit: l,
        plane_normal,
        forward: plane_normal.cross(&l),
        target_ecef: rt,
        target_angle_rad: libm::atan2(n.length(), l.dot(&tu)),
        radius_m: physics.earth.range_radius_m(),
    };
    let burn = t.total_burn_time_s();
    let star = t.max_range_pitch_deg;
    // The control u and its bracket; `increasing` says whether range grows with u.
    let (lo, hi, increasing) = match req.profile {
        Profile::MinEnergy => {
            let vr = t.pitch.vertical_rise_s;
            (vr + 0.2 * (burn - vr), burn + 1.0, true)
        }
        Profile::Lofted => (star, LOFT_MAX_PITCH_DEG, false),
        Profile::Depressed => (DEPRESSED_MIN_PITCH_DEG, star, true),
    };
    let mut search = Search {
        req,
        physics,
        geo,
        distance_m,
        star_deg: star,
        full_s: burn + 1.0,
        lo,
        hi,
        increasing,
        flown: 0,
        coarse_flown: 0,
        powered: Vec::new(),
    };
    let best = match search.coarse_then_fine() {
        Some(fast) if fast.miss_m < MISS_TOLERANCE_M => fast,
        fast => {
            let slow = search.fine_only()?;
            match fast {
                Some(f) if f.miss_m < slow.miss_m => f,
                _ => slow,
            }
        }
    };
    if best.miss_m > MAX_ACCEPTED_MISS_M {
        return Err(TargetingError::NotConverged {
            miss_m: best.miss_m,
        });
    }
    let ng = best.guidance.plane_normal_ecef;
    let azimuth_deg = azimuth_of_plane(physics, &req.from, &Vector3::new(ng[0], ng[1], ng[2]));
    Ok(Solution {
        request: *req,
        guidance: best.guidance,
        summary: best.summary,
        miss_m: best.miss_m,
        distance_m,
        azimuth_deg,
        flights_flown: search.flown,
        coarse_flights_flown: search.coarse_flown,
    })
}

/// Flies given guidance once (no search) and reports it like a solution: for a launch solved
/// earlier (for example in a Web Worker with [`solve`]) and sent as a command, so that applying
/// the command costs one flight instead of a solve. The guidance is validated; a flight that
/// does not come down is an error.
pub fn fly_guidance(
    req: &TargetingRequest,
    guidance: &Guidance,
    physics: &PhysicsParams,
) -> Result<Solution, TargetingError> {
    let invalid = |message: String| TargetingError::InvalidInput { message };
    validate_guidance(req, guidance)?;
    let n = Vector3::from(guidance.plane_normal_ecef);
    let mut f = Flight::launch(req.kind, req.from, *guidance, physics);
    let (summary, _) = f
        .fly_to_impact(physics, None)
        .map_err(|e| invalid(format!("this guidance never comes down: {e}")))?;
    let impact = f.impact.ok_or_else(|| invalid("no impact".into()))?;
    let ell = physics.earth.ellipsoid();
    let target = ell.geodetic_to_ecef(&req.to.to_geodetic(0.0));
    Ok(Solution {
        request: *req,
        guidance: *guidance,
        summary,
        miss_m: (Vector3::from(impact.ecef_m) - target).length(),
        distance_m: great_circle_distance_m(&req.from, &req.to, physics.earth.range_radius_m()),
        azimuth_deg: azimuth_of_plane(physics, &req.from, &n),
        flights_flown: 1,
        coarse_flights_flown: 0,
    })
}

/// The checks [`fly_guidance`] makes before it flies: valid coordinates and
/// [`Guidance::validate`].
fn validate_guidance(req: &TargetingRequest, guidance: &Guidance) -> Result<(), TargetingError> {
    let invalid = |message: String| TargetingError::InvalidInput { message };
    for p in [&req.from, &req.to] {
        p.validate().map_err(invalid)?;
    }
    guidance.validate().map_err(invalid)?;
    Ok(())
}

/// A launch's guidance flown as the engine flies it when it applies the launch: what
/// [`fly_guidance`] returns for the request, the guidance and the physics, kept with them.
///
/// Only this module makes one, by flying ([`Flown::fly`]) or from the flight a solve ended
/// with ([`solve_flown`]), and it cannot be deserialised, so handing one to a simulation
/// ([`crate::Simulation::remember_launch`]) can spare the simulation that flight but never
/// change what it computes: a server that checked a launch before ordering it (the relay) need
/// not have its referee fly it again.
#[derive(Debug, Clone, PartialEq)]
pub struct Flown {
    key: RequestKey,
    physics: PhysicsParams,
    solution: Solution,
}

impl Flown {
    /// Flies `guidance` for `req` ([`fly_guidance`]) and keeps the result with its inputs.
    pub fn fly(
        req: &TargetingRequest,
        guidance: &Guidance,
        physics: &PhysicsParams,
    ) -> Result<Self, TargetingError> {
        let solution = fly_guidance(req, guidance, physics)?;
        Ok(Self {
            key: request_key(req, Some(guidance)),
            physics: *physics,
            solution,
        })
    }

    /// What [`fly_guidance`] returned.
    pub fn solution(&self) -> &Solution {
        &self.solution
    }

    /// The [`RequestKey`] of the request with its guidance.
    pub fn key(&self) -> &RequestKey {
        &self.key
    }

    /// The physics it was flown with.
    pub fn physics(&self) -> &PhysicsParams {
        &self.physics
    }
}

/// [`solve`], and the launch of its guidance as [`Flown::fly`] would give it, without flying it
/// again: the solution's flight is a complete engine flight of its guidance
/// ([`Flight::fly_to_impact`], as [`fly_guidance`] flies it), so its summary, miss and azimuth
/// are the very numbers `fly_guidance` computes; only the counts of flights differ (one engine
/// flight, no coarse one). The inner `Err` is [`fly_guidance`]'s refusal of the solved
/// guidance (it checks the guidance before flying; a solve never gives guidance it refuses).
pub fn solve_flown(
    req: &TargetingRequest,
    physics: &PhysicsParams,
) -> Result<(Solution, Result<Flown, TargetingError>), TargetingError> {
    let solution = solve(req, physics)?;
    let flown = validate_guidance(req, &solution.guidance).map(|()| Flown {
        key: request_key(req, Some(&solution.guidance)),
        physics: *physics,
        solution: Solution {
            flights_flown: 1,
            coarse_flights_flown: 0,
            ..solution
        },
    });
    Ok((solution, flown))
}

/// Azimuth (deg, clockwise from north) of the horizontal direction of a launch plane.
fn azimuth_of_plane(physics: &PhysicsParams, from: &GeoPoint, normal: &Vector3<f64>) -> f64 {
    let g = from.to_geodetic(0.0);
    let r = physics.earth.ellipsoid().geodetic_to_ecef(&g);
    let d = normal.cross(&(r / r.length()));
    let [e, n, _] = crate::earth::Ellipsoid::enu_basis(g.lat_rad, g.lon_rad);
    let mut az = libm::atan2(d.dot(&e), d.dot(&n)).to_degrees();
    if az < 0.0 {
        az += 360.0;
    }
    az
}

/// The maximum range of a class on a non-rotating Earth with drag, launching north from 0N 0E,
/// by golden-section search on the final pitch: `(pitch_deg, summary)`. This is how the
/// catalog's `max_range_pitch_deg` and `max_range_m` were produced.
pub fn max_range(kind: MissileKind) -> (f64, FlightSummary) {
    let physics = PhysicsParams {
        earth: crate::earth::EarthParams {
            rotation: false,
            ..Default::default()
        },
        atmosphere: true,
    };
    let from = GeoPoint::new(0.0, 0.0);
    let full = kind.params().total_burn_time_s() + 1.0;
    let range = |pitch: f64| {
        let g = Guidance::toward_azimuth(&physics, &from, 0.0, pitch, full);
        let mut f = Flight::launch(kind, from, g, &physics);
        f.fly_to_impact(&physics, None)
            .map(|(s, _)| s)
            .expect("a full burn at a sane pitch comes down")
    };
    let phi = (crate::earth::sqrt(5.0) - 1.0) / 2.0;
    let (mut a, mut b) = (10.0_f64, 70.0_f64);
    let mut c = b - phi * (b - a);
    let mut d = a + phi * (b - a);
    let (mut fc, mut fd) = (range(c).range_m, range(d).range_m);
    // bounded: golden section from [10, 70] degrees: the interval shrinks by 0.618 per pass, 23 passes.
    while b - a > 0.02 {
        if fc > fd {
            b = d;
            d = c;
            fd = fc;
            c = b - phi * (b - a);
            fc = range(c).range_m;
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + phi * (b - a);
            fd = range(d).range_m;
        }
    }
    let pitch = 0.5 * (a + b);
    let pitch = (pitch * 100.0).round() / 100.0;
    (pitch, range(pitch))
}
