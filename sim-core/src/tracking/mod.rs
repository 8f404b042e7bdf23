//! The multi-radar tracker: the command center's correlation of plots into tracks.
//!
//! Every radar scan ([`Tracker::process_scan`]) is one association round against all live
//! tracks, in that radar's own range/azimuth/elevation frame. Several radars therefore update
//! the same track one after the other in time: fusion is sequential extended Kalman
//! filtering (Bar-Shalom, Li & Kirubarajan, "Estimation with Applications to Tracking and
//! Navigation", Wiley 2001 [BLK], sec. 5.2 and 10.3; Blackman & Popoli, "Design and Analysis
//! of Modern Tracking Systems", Artech 1999 [BP], ch. 6 and 9 for the track logic). One file
//! per model:
//! - [`motion`]: the 7-state ballistic model in ECEF (gravity of the physics, Coriolis and
//!   centrifugal terms when the Earth rotates, drag with an estimated inverse ballistic
//!   coefficient), RK4 prediction, transition matrix and process noise.
//! - [`measurement`]: h(x) = AER from the radar's antenna and its analytic Jacobian.
//! - [`gate`]: the chi-square gate (3 dof) from a gate probability.
//! - [`hungarian`]: the optimal assignment with forbidden pairs (global nearest neighbour).
//! - [`predictor`]: the fast predictor (adaptive Dormand-Prince steps, dense output,
//!   covariance per step) that flies an estimate minutes ahead.
//! - [`impact`]: the predicted impact point and its 95% ground ellipse.
//! - [`workload`]: a synthetic many-object scene for the benchmark.
//!
//! One scan: (1) a coarse spatial gate (plots sorted by ECEF x, a sphere per track bounding its
//! chi-square gate) yields candidate pairs without an n x m loop; (2) each candidate track is
//! predicted to the scan time and every candidate plot tested against the Mahalanobis gate
//! d^2 = nu^T S^-1 nu <= gamma; (3) tracks and plots linked by gated pairs form clusters
//! (union-find) and each cluster is solved by the Hungarian algorithm on d^2, with one dummy
//! "no plot" column per track costing gamma (GNN, [BP] sec. 6.3); (4) assigned tracks get an
//! iterated EKF update (the EKF re-linearised at its own estimate, BLK sec. 10.5.2); (5) a
//! track still without a plot is predicted again with its process noise scaled for a
//! manoeuvre ([`TrackerParams::maneuver_noise_scale`], [`Track::q_scale`]) and takes the
//! nearest unused candidate plot inside that gate (boost and staging, which the ballistic
//! model does not know); (6) a track left without a plot by a radar that has already updated
//! it, while its predicted position lies in that radar's coverage
//! ([`crate::radar::coverage`]), counts a miss; (7) plots left over and outside twice the gate
//! of every confirmed track ([`INITIATION_EXCLUSION_FACTOR`]) initiate tentative tracks.
//!
//! Initiation (single-point, [BP] sec. 9.3): position from the plot (its converted
//! Cartesian covariance), velocity zero with a large prior sigma
//! ([`TrackerParams::initial_velocity_sigma_m_s`]), kappa at its prior. Confirmation: M hits
//! in the last N opportunities (a hit from any radar, or a miss as defined above). Deletion:
//! a tentative track as soon as M of N can no longer be reached; a confirmed one after
//! `max_misses` consecutive misses; any track not updated for `max_coast_s`; a track whose
//! predicted impact has passed.
//!
//! Why misses count only for radars that have already updated the track: coverage is
//! geometry (horizon, sector, instrumented range), but a radar covering a small target far
//! beyond its detection range would otherwise charge a miss every scan and kill good tracks
//! that another radar holds; the tracker does not know the target's RCS to compute Pd.
//!
//! Invariants: no truth ever enters; tracks are kept sorted by id; ids are never reused;
//! everything is a pure function of the inputs (no hash-map order, `libm` transcendentals),
//! so the same detections give the same tracks natively and in wasm.

mod association;
mod filter;
pub mod gate;
pub mod hungarian;
pub mod impact;
pub mod linalg;
pub mod measurement;
pub mod motion;
pub mod predictor;
pub mod workload;

use nalgebra::Vector3;
use serde::{Deserialize, Serialize};

pub use hungarian::hungarian;
pub use impact::ImpactPrediction;

use crate::earth::Length;
use crate::flight::PhysicsParams;
use crate::radar::{Detection, RadarId, RadarSite, SiteView, TargetView, coverage};
use association::assign_clusters;
use filter::{Predicted, distance2, ekf_update, predict};
use measurement::SiteFrame;
use motion::{BallisticModel, KAPPA_MAX_M2_KG, Mat7, State};

/// The id of a track: a small `Copy` handle, never reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TrackId(pub u32);

impl core::fmt::Display for TrackId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "T{}", self.0)
    }
}

/// A plot within `INITIATION_EXCLUSION_FACTOR * gamma` (in d^2) of a confirmed track does not
/// initiate a new track even when it is left unassigned: with P_G = 0.999 one true plot in a
/// thousand falls outside the gate, and a tentative twin started from it would then compete
/// with the confirmed track for the next plots. Four times gamma is a gate twice as wide.
pub const INITIATION_EXCLUSION_FACTOR: f64 = 4.0;

/// Largest M-of-N window (the window is a bit set): [`crate::limits::CONFIRM_WINDOW`].
pub const MAX_WINDOW: u32 = crate::limits::CONFIRM_WINDOW.max as u32;
/// Far from impact, a track's impact prediction is refreshed every this fraction of its
/// predicted time to go (within the tracker's refresh periods): a threat five minutes out is
/// re-predicted every 10 s, one a minute out every 2 s, the last 30 s every second. Command
/// and control's decisions on a threat fall in its last minute or two (the batteries' reach),
/// and its trajectory samples follow the same refreshes (`engine/defense.rs`).
pub const IMPACT_REFRESH_TIME_TO_GO_FRACTION: f64 = 1.0 / 30.0;
/// Largest number of live tracks a tracker may be configured to hold:
/// [`crate::limits::MAX_TRACKS`].
pub const MAX_TRACKS_LIMIT: u32 = crate::limits::MAX_TRACKS.max as u32;

/// The tracker's tunables, with units; [`TrackerParams::default`] suits ballistic missiles
/// seen by the catalog radars.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrackerParams {
    /// Probability P_G that a correct plot falls in the gate (chi-square, 3 dof); 0.999 gives
    /// gamma = 16.27.
    pub gate_probability: f64,
    /// Hits needed to confirm (M of M-of-N).
    pub confirm_m: u32,
    /// Window of opportunities for confirmation (N of M-of-N), at most [`MAX_WINDOW`].
    pub confirm_n: u32,
    /// Consecutive misses that delete a confirmed track.
    pub max_misses: u32,
    /// Longest time without an update before any track is deleted (s).
    pub max_coast_s: f64,
    /// Spectral density q of the white acceleration noise per axis (m^2/s^3).
    pub accel_noise_m2_s3: f64,
    /// Factor on `accel_noise_m2_s3` for a manoeuvring track (boost, staging): the
    /// recovery prediction of a track left without a plot uses it, and a track's own factor
    /// rises towards it when its innovations are too large (see [`Track::q_scale`]).
    pub maneuver_noise_scale: f64,
    /// Prior standard deviation of each velocity component at initiation (m/s).
    pub initial_velocity_sigma_m_s: f64,
    /// Prior ballistic coefficient beta0 = m / (Cd A) (kg/m^2); the state holds 1 / beta.
    /// 10,000 sits in the 4,000-15,000 kg/m^2 of re-entry vehicles (Zarchan, "Tactical and
    /// Strategic Missile Guidance", ch. 27) and near a coasting SCUD body.
    pub ballistic_coeff_kg_m2: f64,
    /// Prior standard deviation of 1 / beta, relative to 1 / beta0.
    pub ballistic_coeff_rel_sigma: f64,
    /// Random walk of 1 / beta: standard deviation per square-root second, relative to
    /// 1 / beta0 (absorbs the Mach dependence of Cd).
    pub ballistic_noise_rel_per_sqrt_s: f64,
    /// Shortest period of the impact-point refresh per confirmed track (s of simulation
    /// time): the period near impact.
    pub impact_refresh_s: f64,
    /// Longest period of the impact-point refresh (s): far from impact a track's prediction is
    /// refreshed every [`IMPACT_REFRESH_TIME_TO_GO_FRACTION`] of its time to go, clamped to
    /// [`TrackerParams::impact_refresh_s`, this].
    pub impact_refresh_max_s: f64,
    /// Most live tracks; plots that would initiate more are left unused.
    pub max_tracks: u32,
    /// Position sigma (m) at which the covariance part of the quality is 0.5.
    pub quality_reference_m: f64,
}

impl Default for TrackerParams {
    fn default() -> Self {
        Self {
            gate_probability: 0.999,
            confirm_m: 3,
            confirm_n: 5,
            max_misses: 5,
            max_coast_s: 20.0,
            accel_noise_m2_s3: 0.5,
            maneuver_noise_scale: 10_000.0,
            initial_velocity_sigma_m_s: 4_000.0,
            ballistic_coeff_kg_m2: 10_000.0,
            ballistic_coeff_rel_sigma: 1.0,
            ballistic_noise_rel_per_sqrt_s: 0.05,
            impact_refresh_s: 1.0,
            impact_refresh_max_s: 10.0,
            max_tracks: 20_000,
            quality_reference_m: 100.0,
        }
    }
}

impl TrackerParams {
    /// Checks for values the tracker cannot use; the error is one sentence.
    pub fn validate(&self) -> Result<(), String> {
        use crate::limits as l;
        for (range, v) in [
            (&l::GATE_PROBABILITY, self.gate_probability),
            (&l::MAX_COAST, self.max_coast_s),
            (&l::ACCEL_NOISE, self.accel_noise_m2_s3),
            (&l::MANEUVER_NOISE_SCALE, self.maneuver_noise_scale),
            (&l::INITIAL_VELOCITY_SIGMA, self.initial_velocity_sigma_m_s),
            (&l::BALLISTIC_COEFF, self.ballistic_coeff_kg_m2),
            (
                &l::BALLISTIC_COEFF_REL_SIGMA,
                self.ballistic_coeff_rel_sigma,
            ),
            (&l::BALLISTIC_NOISE, self.ballistic_noise_rel_per_sqrt_s),
            (&l::IMPACT_REFRESH, self.impact_refresh_s),
            (&l::IMPACT_REFRESH, self.impact_refresh_max_s),
            (&l::QUALITY_REFERENCE, self.quality_reference_m),
        ] {
            range.check(v)?;
        }
        for (range, v) in [
            (&l::CONFIRM_WINDOW, self.confirm_m),
            (&l::CONFIRM_WINDOW, self.confirm_n),
            (&l::MAX_MISSES, self.max_misses),
            (&l::MAX_TRACKS, self.max_tracks),
        ] {
            range.check_count(v.into())?;
        }
        if self.confirm_m > self.confirm_n {
            return Err(format!(
                "tracker confirmation {} of {} needs M <= N",
                self.confirm_m, self.confirm_n
            ));
        }
        if self.impact_refresh_max_s < self.impact_refresh_s {
            return Err(format!(
                "tracker impact_refresh_max_s {} s must be at least impact_refresh_s {} s",
                crate::limits::shown(self.impact_refresh_max_s),
                crate::limits::shown(self.impact_refresh_s)
            ));
        }
        Ok(())
    }

    /// The prior of kappa = 1 / beta (m^2/kg).
    fn kappa0(&self) -> f64 {
        1.0 / self.ballistic_coeff_kg_m2
    }

    /// Random-walk density of kappa ((m^2/kg)^2 / s).
    fn kappa_noise(&self) -> f64 {
        let s = self.ballistic_noise_rel_per_sqrt_s * self.kappa0();
        s * s
    }
}

/// Whether a track is confirmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TrackStatus {
    /// Initiated, not yet M of N.
    Tentative,
    /// M of N reached.
    Confirmed,
}

/// Why a track was deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeletionReason {
    /// A tentative track that can no longer reach M hits in N opportunities.
    NotConfirmed,
    /// A confirmed track missed `max_misses` times in a row.
    Missed,
    /// No update for `max_coast_s`.
    Coasting,
    /// Its predicted impact time has passed without a later update.
    Impacted,
}

/// Something the tracker did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum TrackEvent {
    /// A plot started a tentative track.
    Initiated {
        /// The track.
        track: TrackId,
        /// Simulation time (s).
        time_s: f64,
        /// The radar whose plot started it.
        radar: RadarId,
    },
    /// A track reached M of N.
    Confirmed {
        /// The track.
        track: TrackId,
        /// Simulation time of confirmation (s).
        time_s: f64,
        /// Time of its first plot (s).
        first_detection_s: f64,
        /// Confirmation latency, `time_s - first_detection_s` (the old
        /// `correlation_latency_seconds`).
        latency_s: f64,
        /// Radars that had updated it (sorted).
        radars: Vec<RadarId>,
    },
    /// A track was dropped.
    Deleted {
        /// The track.
        track: TrackId,
        /// Simulation time (s).
        time_s: f64,
        /// Why.
        reason: DeletionReason,
        /// Whether it had been confirmed.
        was_confirmed: bool,
        /// Time from its first plot to its deletion (s).
        lifetime_s: f64,
    },
}

/// One track: the filter's estimate and its bookkeeping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Track {
    /// Its id.
    pub id: TrackId,
    /// Tentative or confirmed.
    pub status: TrackStatus,
    /// Simulation time of the estimate (s).
    pub time_s: f64,
    /// Estimated position (ECEF, m).
    pub position_m: Vector3<f64>,
    /// Estimated Earth-relative velocity (ECEF, m/s).
    pub velocity_m_s: Vector3<f64>,
    /// Estimated inverse ballistic coefficient kappa = Cd A / m (m^2/kg).
    pub kappa_m2_kg: f64,
    /// Covariance of [position, velocity, kappa] (SI units).
    pub covariance: Mat7,
    /// Plots assigned to it.
    pub hits: u32,
    /// Misses counted (see the module doc).
    pub misses: u32,
    /// Misses since the last hit.
    pub consecutive_misses: u32,
    /// The last opportunities, newest in bit 0 (1 = hit).
    pub window: u32,
    /// Opportunities in `window` (at most N).
    pub window_len: u32,
    /// Radars that updated it (sorted, no duplicates).
    pub radars: Vec<RadarId>,
    /// Time of its first plot (s).
    pub first_detection_s: f64,
    /// Time of its last plot (s).
    pub last_update_s: f64,
    /// Time of confirmation (s).
    pub confirmed_s: Option<f64>,
    /// Quality in (0, 1]: ref / (ref + sigma_pos) x min(1, 3 / average NIS).
    pub quality: f64,
    /// Exponential average (weight 0.2) of the normalised innovation squared (3 expected).
    pub nis_avg: f64,
    /// Current factor on the process noise (1 for a ballistic track): multiplied by 10 after
    /// an update whose NIS exceeds the 99% point of chi-square(3) (11.34), set to
    /// `maneuver_noise_scale` by a recovery update, and shrunk by 0.8 per update (down to 1)
    /// while the average NIS is at most 3. This is the continuous noise-level adjustment of
    /// BLK sec. 11.2 with the covariance inflation on manoeuvre detection of Bar-Shalom &
    /// Birmiwal, "Variable dimension filter for maneuvering target tracking", IEEE Trans.
    /// AES 18(5), 1982: a ballistic model with enough noise to ride through boost.
    pub q_scale: f64,
    /// The last impact prediction (confirmed tracks).
    pub impact: Option<ImpactPrediction>,
    /// Earliest time of the next impact refresh (s).
    pub next_impact_s: f64,
    /// Whether the estimate changed since the last impact prediction.
    pub impact_stale: bool,
}

impl Track {
    /// The estimate as the filter's 7-state.
    pub fn state(&self) -> State {
        let (r, v) = (self.position_m, self.velocity_m_s);
        State::from_column_slice(&[r.x, r.y, r.z, v.x, v.y, v.z, self.kappa_m2_kg])
    }

    fn set_state(&mut self, x: &State) {
        self.position_m = motion::position(x);
        self.velocity_m_s = motion::velocity(x);
        self.kappa_m2_kg = x[6].clamp(0.0, KAPPA_MAX_M2_KG);
    }

    /// Estimated ballistic coefficient beta = 1 / kappa (kg/m^2; infinite without drag).
    pub fn ballistic_coeff_kg_m2(&self) -> f64 {
        if self.kappa_m2_kg > 0.0 {
            1.0 / self.kappa_m2_kg
        } else {
            f64::INFINITY
        }
    }

    /// Root-mean-square position standard deviation sqrt(trace(P_rr) / 3) (m).
    pub fn position_sigma_m(&self) -> f64 {
        let t = self.covariance[(0, 0)] + self.covariance[(1, 1)] + self.covariance[(2, 2)];
        crate::earth::sqrt((t / 3.0).max(0.0))
    }

    fn hits_in_window(&self, n: u32) -> u32 {
        (u64::from(self.window) & ((1u64 << n) - 1)).count_ones()
    }

    fn record(&mut self, hit: bool, n: u32) {
        self.window = (self.window << 1) | u32::from(hit);
        self.window_len = (self.window_len + 1).min(n);
        if hit {
            self.hits += 1;
            self.consecutive_misses = 0;
        } else {
            self.misses += 1;
            self.consecutive_misses += 1;
        }
    }

    fn update_quality(&mut self, reference_m: f64) {
        let cov = reference_m / (reference_m + self.position_sigma_m());
        let nis = if self.nis_avg > 3.0 {
            3.0 / self.nis_avg
        } else {
            1.0
        };
        self.quality = cov * nis;
    }
}

/// The tracker: all live tracks and the next id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tracker {
    params: TrackerParams,
    /// The gate gamma, derived from `params.gate_probability`.
    gate_chi2: f64,
    next_id: u32,
    tracks: Vec<Track>,
}

/// A plot of this scan in ECEF with its gate radius and its index in the scan.
#[derive(Clone, Copy)]
struct Plot {
    ecef: Vector3<f64>,
    radius_m: f64,
    index: usize,
}

impl Tracker {
    /// An empty tracker. `params` should have passed [`TrackerParams::validate`]; invalid
    /// values do not panic but give a useless tracker.
    pub fn new(params: TrackerParams) -> Self {
        Self {
            params,
            gate_chi2: gate::chi2_3dof_quantile(params.gate_probability),
            next_id: 1,
            tracks: Vec::new(),
        }
    }

    /// The parameters.
    pub fn params(&self) -> &TrackerParams {
        &self.params
    }

    /// The gate gamma on d^2 (chi-square, 3 dof).
    pub fn gate_chi2(&self) -> f64 {
        self.gate_chi2
    }

    /// All live tracks, sorted by id.
    pub fn tracks(&self) -> &[Track] {
        &self.tracks
    }

    /// The live track of an id.
    pub fn track(&self, id: TrackId) -> Option<&Track> {
        self.tracks
            .binary_search_by_key(&id, |t| t.id)
            .ok()
            .map(|i| &self.tracks[i])
    }

    /// One radar's scan: all its plots (true and false, any order) at `time_s`.
    ///
    /// Returns for each plot the track it updated or initiated (`None`: unused, e.g. a
    /// non-finite plot or the track limit reached) and appends what happened to `events`.
    /// Scans should come in non-decreasing time; an older one retrodicts the tracks it
    /// touches.
    pub fn process_scan(
        &mut self,
        physics: &PhysicsParams,
        site: &RadarSite,
        time_s: f64,
        detections: &[Detection],
        events: &mut Vec<TrackEvent>,
    ) -> Vec<Option<TrackId>> {
        let mut result = vec![None; detections.len()];
        if !time_s.is_finite() {
            return result;
        }
        let model = BallisticModel::new(physics);
        let frame = SiteFrame::new(site, &physics.earth.ellipsoid());
        let gamma = self.gate_chi2;
        let exclusion = INITIATION_EXCLUSION_FACTOR * gamma;
        // The coarse gate bounds the larger of the two gates.
        let sqrt_gamma = crate::earth::sqrt(exclusion);
        let p = self.params;
        let q_kappa = p.kappa_noise();

        // Plots: usable ones, in ECEF, sorted by x for the coarse gate.
        let usable = |d: &Detection| {
            [
                d.range_m,
                d.azimuth_rad,
                d.elevation_rad,
                d.sigmas.range_m,
                d.sigmas.azimuth_rad,
                d.sigmas.elevation_rad,
            ]
            .iter()
            .all(|x| x.is_finite())
                && d.range_m > 0.0
                && d.sigmas.range_m > 0.0
                && d.sigmas.azimuth_rad > 0.0
                && d.sigmas.elevation_rad > 0.0
        };
        let usable: Vec<bool> = detections.iter().map(usable).collect();
        // One contiguous array in x order: the coarse gate walks it for every track.
        let mut by_x: Vec<Plot> = detections
            .iter()
            .enumerate()
            .filter(|&(i, _)| usable[i])
            .map(|(index, d)| {
                let (ecef, trace) = frame.plot_position(d);
                Plot {
                    ecef,
                    radius_m: sqrt_gamma * crate::earth::sqrt(trace.max(0.0)),
                    index,
                }
            })
            .collect();
        // A total order (ties by index): the unstable sort gives the one result.
        by_x.sort_unstable_by(|a, b| a.ecef.x.total_cmp(&b.ecef.x).then(a.index.cmp(&b.index)));
        let xs: Vec<f64> = by_x.iter().map(|pl| pl.ecef.x).collect();
        let max_plot_radius = by_x.iter().map(|pl| pl.radius_m).fold(0.0, f64::max);

        // Coarse prediction of every track and its candidate plots.
        let nt = self.tracks.len();
        let mut coarse: Vec<Vector3<f64>> = Vec::with_capacity(nt);
        let mut candidates: Vec<(usize, usize)> = Vec::with_capacity(nt.min(by_x.len()) * 2);
        for (ti, t) in self.tracks.iter().enumerate() {
            let dt = time_s - t.time_s;
            // (No acceleration to take for an estimate already at the scan's time.)
            let a = if dt == 0.0 {
                Vector3::zeros()
            } else {
                model.acceleration(&t.position_m, &t.velocity_m_s, t.kappa_m2_kg)
            };
            let centre = t.position_m + t.velocity_m_s * dt + a * (0.5 * dt * dt);
            coarse.push(centre);
            if xs.is_empty() {
                continue;
            }
            let c = &t.covariance;
            let trace = |r: usize, k: usize| c[(r, k)] + c[(r + 1, k + 1)] + c[(r + 2, k + 2)];
            let var = (trace(0, 0)
                + 2.0 * dt * trace(0, 3)
                + dt * dt * trace(3, 3)
                + p.accel_noise_m2_s3 * t.q_scale.max(p.maneuver_noise_scale) * dt.abs() * dt * dt)
                .max(0.0);
            let radius = 1.2 * sqrt_gamma * crate::earth::sqrt(var)
                + 0.5 * a.length() * dt * dt
                + 1e-3 * t.velocity_m_s.length() * dt.abs()
                + 100.0;
            let reach = radius + max_plot_radius;
            let lo = xs.partition_point(|&x| x < centre.x - reach);
            let x_hi = centre.x + reach;
            for pl in &by_x[lo..] {
                if pl.ecef.x > x_hi {
                    break;
                }
                let d = pl.ecef - centre;
                let bound = radius + pl.radius_m;
                // Most of the x strip is far in y or z: no root for those.
                if d.y.abs() > bound || d.z.abs() > bound {
                    continue;
                }
                if d.length() <= bound {
                    candidates.push((ti, pl.index));
                }
            }
        }

        // Fine gate: predict candidate tracks (slot[ti] is the track's prediction, in the
        // order first needed), Mahalanobis distance to each candidate plot.
        let mut slot = vec![usize::MAX; nt];
        // Candidates come grouped by track: one prediction per group.
        let gated = candidates.chunk_by(|a, b| a.0 == b.0).count();
        let mut predicted: Vec<Predicted> = Vec::with_capacity(gated);
        let mut edges: Vec<(usize, usize, f64)> = Vec::with_capacity(candidates.len());
        let mut near_confirmed = vec![false; detections.len()];
        for &(ti, di) in &candidates {
            if slot[ti] == usize::MAX {
                let t = &self.tracks[ti];
                let q = p.accel_noise_m2_s3 * t.q_scale;
                slot[ti] = predicted.len();
                predicted.push(predict(&model, &frame, t, time_s, q, q_kappa));
            }
            let pr = &predicted[slot[ti]];
            let Some(d2) = distance2(pr, &detections[di]) else {
                continue;
            };
            if d2 <= gamma {
                edges.push((ti, di, d2));
            }
            if d2 <= exclusion && self.tracks[ti].status == TrackStatus::Confirmed {
                near_confirmed[di] = true;
            }
        }

        // Clusters by union-find over tracks [0, nt) and plots [nt, nt + nd).
        let assignment = assign_clusters(nt, detections.len(), &edges, gamma);

        // Updates.
        let mut assigned_track = vec![false; nt];
        for &(ti, di) in &assignment {
            // An edge exists only for a predicted track, and a track is assigned at most once.
            let pr = &predicted[slot[ti]];
            let d = &detections[di];
            let t = &mut self.tracks[ti];
            if let Some(nis) = ekf_update(t, pr, &frame, d, time_s) {
                assigned_track[ti] = true;
                result[di] = Some(t.id);
                if nis > MANEUVER_NIS {
                    t.q_scale = (t.q_scale * 10.0).min(p.maneuver_noise_scale);
                }
                on_hit(t, &p, site.id, time_s, nis, events);
            }
        }

        // Manoeuvre recovery: a track left without a plot tries again, with its process
        // noise scaled by `maneuver_noise_scale`, on the unused candidate plots; the nearest
        // one inside the gate updates it.
        let mut start = 0;
        // bounded: start advances by at least one per pass.
        while start < candidates.len() {
            let ti = candidates[start].0;
            let end = start + candidates[start..].partition_point(|c| c.0 == ti);
            let range = start..end;
            start = end;
            if assigned_track[ti] {
                continue;
            }
            let free: Vec<usize> = candidates[range]
                .iter()
                .map(|c| c.1)
                .filter(|&di| result[di].is_none())
                .collect();
            if free.is_empty() {
                continue;
            }
            let t = &self.tracks[ti];
            let q = p.accel_noise_m2_s3 * p.maneuver_noise_scale.max(t.q_scale);
            let pr = predict(&model, &frame, t, time_s, q, q_kappa);
            let best = free
                .iter()
                .filter_map(|&di| distance2(&pr, &detections[di]).map(|d2| (d2, di)))
                .filter(|&(d2, _)| d2 <= gamma)
                .min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            let Some((_, di)) = best else {
                continue;
            };
            let t = &mut self.tracks[ti];
            if let Some(nis) = ekf_update(t, &pr, &frame, &detections[di], time_s) {
                assigned_track[ti] = true;
                result[di] = Some(t.id);
                t.q_scale = p.maneuver_noise_scale.max(t.q_scale);
                on_hit(t, &p, site.id, time_s, nis, events);
            }
        }

        // Misses: tracks this radar has updated before, predicted inside its coverage.
        let earth = &physics.earth;
        let view = SiteView::new(site, earth);
        let radar = site.params();
        for (ti, t) in self.tracks.iter_mut().enumerate() {
            if assigned_track[ti] || t.radars.binary_search(&site.id).is_err() {
                continue;
            }
            let centre = &coarse[ti];
            if (centre - frame.origin).length() > radar.max_instrumented_range_m {
                continue;
            }
            let g = view.geometry(&TargetView::new(earth, centre));
            if coverage(site, radar, &g).is_none() {
                t.record(false, p.confirm_n);
            }
        }

        // Initiation from plots left over and outside every confirmed track's gate.
        for (di, d) in detections.iter().enumerate() {
            if result[di].is_some() || near_confirmed[di] || !usable[di] {
                continue;
            }
            if self.tracks.len() >= p.max_tracks as usize || self.next_id == u32::MAX {
                break;
            }
            let id = TrackId(self.next_id);
            self.next_id += 1;
            let t = self.initiate(id, &frame, site.id, time_s, d);
            result[di] = Some(id);
            events.push(TrackEvent::Initiated {
                track: id,
                time_s,
                radar: site.id,
            });
            self.tracks.push(t);
            let last = self.tracks.last_mut().expect("just pushed");
            if p.confirm_m <= 1 {
                confirm(last, time_s, events);
            }
        }

        self.delete(time_s, events);
        self.refresh_impacts(&model, time_s);
        result
    }

    /// Advances the bookkeeping to `time_s` without a scan: deletes tracks that coasted too
    /// long or whose predicted impact has passed, and refreshes due impact predictions.
    pub fn maintain(&mut self, physics: &PhysicsParams, time_s: f64, events: &mut Vec<TrackEvent>) {
        if !time_s.is_finite() {
            return;
        }
        self.delete(time_s, events);
        self.refresh_impacts(&BallisticModel::new(physics), time_s);
    }

    fn initiate(
        &self,
        id: TrackId,
        frame: &SiteFrame,
        radar: RadarId,
        time_s: f64,
        d: &Detection,
    ) -> Track {
        let p = &self.params;
        let (r, cov) = frame.plot_ecef(d);
        let mut covariance = Mat7::zeros();
        covariance.fixed_view_mut::<3, 3>(0, 0).copy_from(&cov);
        let sv = p.initial_velocity_sigma_m_s;
        for i in 3..6 {
            covariance[(i, i)] = sv * sv;
        }
        let sk = p.ballistic_coeff_rel_sigma * p.kappa0();
        covariance[(6, 6)] = sk * sk;
        let mut t = Track {
            id,
            status: TrackStatus::Tentative,
            time_s,
            position_m: r,
            velocity_m_s: Vector3::zeros(),
            kappa_m2_kg: p.kappa0(),
            covariance,
            hits: 0,
            misses: 0,
            consecutive_misses: 0,
            window: 0,
            window_len: 0,
            radars: vec![radar],
            first_detection_s: time_s,
            last_update_s: time_s,
            confirmed_s: None,
            quality: 0.0,
            nis_avg: 3.0,
            q_scale: 1.0,
            impact: None,
            next_impact_s: time_s,
            impact_stale: true,
        };
        t.record(true, p.confirm_n);
        t.update_quality(p.quality_reference_m);
        t
    }

    /// Deletes what the track logic says must go, in id order.
    fn delete(&mut self, time_s: f64, events: &mut Vec<TrackEvent>) {
        let p = self.params;
        self.tracks.retain(|t| {
            let reason = if t.status == TrackStatus::Tentative
                && t.hits_in_window(p.confirm_n) + (p.confirm_n - t.window_len) < p.confirm_m
            {
                Some(DeletionReason::NotConfirmed)
            } else if t.status == TrackStatus::Confirmed && t.consecutive_misses >= p.max_misses {
                Some(DeletionReason::Missed)
            } else if t
                .impact
                .is_some_and(|i| i.time_s + 1.0 < time_s && t.last_update_s < i.time_s)
            {
                Some(DeletionReason::Impacted)
            } else if time_s - t.last_update_s > p.max_coast_s {
                Some(DeletionReason::Coasting)
            } else {
                None
            };
            match reason {
                None => true,
                Some(reason) => {
                    events.push(TrackEvent::Deleted {
                        track: t.id,
                        time_s,
                        reason,
                        was_confirmed: t.status == TrackStatus::Confirmed,
                        lifetime_s: time_s - t.first_detection_s,
                    });
                    false
                }
            }
        });
    }

    /// Refreshes the impact prediction of confirmed tracks whose estimate changed, when their
    /// refresh falls due: [`IMPACT_REFRESH_TIME_TO_GO_FRACTION`] of the time to go after the
    /// last, within [`TrackerParams::impact_refresh_s`, `impact_refresh_max_s`].
    fn refresh_impacts(&mut self, model: &BallisticModel, time_s: f64) {
        let p = self.params;
        let q_kappa = p.kappa_noise();
        for t in &mut self.tracks {
            if t.status != TrackStatus::Confirmed || !t.impact_stale || time_s < t.next_impact_s {
                continue;
            }
            t.impact = impact::predict(
                model,
                &t.state(),
                &t.covariance,
                t.time_s,
                p.accel_noise_m2_s3,
                q_kappa,
            );
            t.impact_stale = false;
            let time_to_go = t.impact.map_or(0.0, |ip| ip.time_s - time_s);
            // Validated parameters have min <= max; `max` keeps hand-built ones (a benchmark
            // switching the refresh off with a huge minimum) from making `clamp` panic.
            let (lo, hi) = (
                p.impact_refresh_s,
                p.impact_refresh_max_s.max(p.impact_refresh_s),
            );
            t.next_impact_s =
                time_s + (time_to_go * IMPACT_REFRESH_TIME_TO_GO_FRACTION).clamp(lo, hi);
        }
    }
}

/// NIS above which an update raises a track's noise factor: chi-square(3) at 0.99.
const MANEUVER_NIS: f64 = 11.345;

/// The bookkeeping of a hit: window, radars, NIS average, noise factor decay, quality,
/// confirmation.
fn on_hit(
    t: &mut Track,
    p: &TrackerParams,
    radar: RadarId,
    time_s: f64,
    nis: f64,
    events: &mut Vec<TrackEvent>,
) {
    t.nis_avg = 0.8 * t.nis_avg + 0.2 * nis;
    if nis <= MANEUVER_NIS && t.nis_avg <= 3.0 {
        t.q_scale = (t.q_scale * 0.8).max(1.0);
    }
    t.record(true, p.confirm_n);
    t.last_update_s = time_s;
    if let Err(k) = t.radars.binary_search(&radar) {
        t.radars.insert(k, radar);
    }
    t.impact_stale = true;
    t.update_quality(p.quality_reference_m);
    if t.status == TrackStatus::Tentative && t.hits_in_window(p.confirm_n) >= p.confirm_m {
        confirm(t, time_s, events);
    }
}

/// Marks a track confirmed and emits the event.
fn confirm(t: &mut Track, time_s: f64, events: &mut Vec<TrackEvent>) {
    t.status = TrackStatus::Confirmed;
    t.confirmed_s = Some(time_s);
    t.next_impact_s = time_s;
    events.push(TrackEvent::Confirmed {
        track: t.id,
        time_s,
        first_detection_s: t.first_detection_s,
        latency_s: time_s - t.first_detection_s,
        radars: t.radars.clone(),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validate_rejects_nan_and_bad_logic() {
        assert!(TrackerParams::default().validate().is_ok());
        let nan = TrackerParams {
            accel_noise_m2_s3: f64::NAN,
            ..TrackerParams::default()
        };
        assert!(nan.validate().unwrap_err().contains("got NaN"));
        for bad in [
            TrackerParams {
                confirm_m: 6,
                ..TrackerParams::default()
            },
            TrackerParams {
                confirm_n: 40,
                ..TrackerParams::default()
            },
            TrackerParams {
                gate_probability: 1.0,
                ..TrackerParams::default()
            },
            TrackerParams {
                max_coast_s: 0.0,
                ..TrackerParams::default()
            },
            TrackerParams {
                max_tracks: 0,
                ..TrackerParams::default()
            },
        ] {
            assert!(bad.validate().is_err(), "{bad:?}");
        }
        let t = Tracker::new(TrackerParams::default());
        assert!((t.gate_chi2() - 16.266).abs() < 1e-3);
        assert_eq!(TrackId(7).to_string(), "T7");
    }

    #[test]
    fn clusters_are_solved_globally() {
        // Two tracks, two plots: greedy nearest neighbour would give track 0 plot 0 (1.0) and
        // leave track 1 with nothing; GNN gives 0->1, 1->0 (2 + 3 < 1 + gamma).
        let edges = [(0, 0, 1.0), (0, 1, 2.0), (1, 0, 3.0), (2, 2, 0.5)];
        let mut a = assign_clusters(3, 3, &edges, 16.0);
        a.sort_unstable();
        assert_eq!(a, vec![(0, 1), (1, 0), (2, 2)]);
        // One plot, two tracks: the assignment of least total cost (10 + 11 < 12 + 11).
        let a = assign_clusters(2, 1, &[(0, 0, 10.0), (1, 0, 12.0)], 11.0);
        assert_eq!(a, vec![(0, 0)]);
    }
}
