//! Scoring the sensing chain against truth, outside the tracker.
//!
//! The tracker never sees a truth id; this module does. A [`Scorer`] watches a simulation tick
//! by tick ([`Scorer::observe`]: the events of the tick and the state after it) and builds a
//! [`ScoreReport`]:
//! - per radar: plots, false alarms, and the first detection of each missile;
//! - per missile: time from launch to first detection and to a confirmed track, the tracks that
//!   followed it, position and velocity RMSE of those tracks, and the error of the predicted
//!   impact point at fixed times before the real impact;
//! - per confirmed track: its dominant truth and its purity;
//! - overall: false tracks and their lifetimes, and OSPA over time.
//!
//! Definitions:
//! - A track's *truth* is the missile that caused most of the plots assigned to it (ties go to
//!   the lower id); a confirmed track whose plots are mostly false alarms is a *false track*.
//! - *Purity* of a track: plots from its truth over plots from any missile (false alarms that
//!   slipped into a true track are counted apart, as contamination). 100% means the track never
//!   swapped missiles.
//! - *Errors* are sampled every `sample_period_s` for every confirmed true track whose truth is
//!   airborne, the estimate carried from its own time to the sample time by the tracker's own
//!   motion model (so a coasting track is scored on what it predicts). RMSE is the root mean square over all samples of all tracks of a missile, over
//!   the whole flight and after burnout only (the ballistic regime the tracker models).
//! - *OSPA* (Schuhmacher, Vo & Vo, "A consistent metric for performance evaluation of
//!   multi-object filters", IEEE Trans. Signal Processing 56(8), 2008): between the positions
//!   of the airborne missiles X (|X| = m) and of the confirmed tracks Y (|Y| = n), m <= n,
//!   `d_p^c(X, Y) = ( (1/n) (min_pi sum_i d_c(x_i, y_pi(i))^p + c^p (n - m)) )^(1/p)`, with
//!   `d_c = min(c, d)`, cut-off c and order p from [`ScoringParams`]; zero when both sets are
//!   empty. The optimal assignment is [`crate::tracking::hungarian`].

use std::collections::BTreeMap;

use nalgebra::Vector3;
use serde::{Deserialize, Serialize};

use crate::earth::GeoPoint;
use crate::earth::Length;
use crate::engine::{Event, EventKind, MissileId, Simulation};
use crate::flight::Phase;
use crate::radar::RadarId;
use crate::tracking::motion::{self, BallisticModel};
use crate::tracking::{TrackId, TrackStatus, hungarian};

/// How the scorer samples and measures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoringParams {
    /// Time between error and OSPA samples (s).
    pub sample_period_s: f64,
    /// OSPA cut-off c (m): the price of a missed or false object.
    pub ospa_cutoff_m: f64,
    /// OSPA order p.
    pub ospa_order: f64,
    /// Times before impact at which the predicted impact point is scored (s).
    pub impact_lead_times_s: Vec<f64>,
}

impl Default for ScoringParams {
    fn default() -> Self {
        Self {
            sample_period_s: 1.0,
            ospa_cutoff_m: 10_000.0,
            ospa_order: 2.0,
            impact_lead_times_s: vec![240.0, 120.0, 60.0, 30.0],
        }
    }
}

#[derive(Debug, Clone, Default)]
struct RadarTally {
    call_sign: String,
    plots: u64,
    false_alarms: u64,
    first_detection_s: BTreeMap<MissileId, f64>,
}

#[derive(Debug, Clone, Default)]
struct MissileTally {
    launch_s: f64,
    first_detection_s: Option<f64>,
    impact: Option<(f64, GeoPoint)>,
    pos_sq: f64,
    vel_sq: f64,
    samples: u64,
    ballistic_pos_sq: f64,
    ballistic_vel_sq: f64,
    ballistic_samples: u64,
    /// (sample time, track, predicted impact point, predicted impact time).
    predictions: Vec<(f64, TrackId, GeoPoint, f64)>,
}

#[derive(Debug, Clone, Default)]
struct TrackTally {
    /// Plots by cause (`None`: false alarm).
    plots: BTreeMap<Option<MissileId>, u64>,
    first_s: Option<f64>,
    confirmed_s: Option<f64>,
    latency_s: Option<f64>,
    ended_s: Option<f64>,
    pos_sq: f64,
    samples: u64,
}

impl TrackTally {
    /// The dominant cause of the plots (ties to the lower id, missiles before false alarms).
    fn truth(&self) -> Option<MissileId> {
        let mut best: Option<(u64, Option<MissileId>)> = None;
        for (&cause, &n) in &self.plots {
            let better = match best {
                None => true,
                Some((bn, bcause)) => n > bn || (n == bn && bcause.is_none() && cause.is_some()),
            };
            if better {
                best = Some((n, cause));
            }
        }
        best.and_then(|(_, c)| c)
    }

    /// Plots caused by missiles.
    fn missile_plots(&self) -> u64 {
        self.plots
            .iter()
            .filter(|(c, _)| c.is_some())
            .map(|(_, n)| n)
            .sum()
    }
}

/// Watches a simulation and scores its radars and tracks against truth.
#[derive(Debug, Clone)]
pub struct Scorer {
    params: ScoringParams,
    next_sample_s: f64,
    radars: BTreeMap<RadarId, RadarTally>,
    missiles: BTreeMap<MissileId, MissileTally>,
    tracks: BTreeMap<TrackId, TrackTally>,
    ospa: Vec<(f64, f64)>,
    ospa_tracked: Vec<(f64, f64)>,
}

/// Per-radar figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RadarScore {
    /// The radar.
    pub radar: RadarId,
    /// Its call sign.
    pub call_sign: String,
    /// Plots of missiles.
    pub detections: u64,
    /// False plots.
    pub false_alarms: u64,
    /// First detection of each missile it saw, seconds after that missile's launch.
    pub first_detection_after_launch_s: BTreeMap<MissileId, f64>,
}

/// The predicted impact point's error at a time before impact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImpactErrorAt {
    /// Time before the real impact (s).
    pub before_impact_s: f64,
    /// Distance from the predicted to the real impact point (m), from the latest prediction
    /// made at or before that time; `None` when no track had a prediction then.
    pub error_m: Option<f64>,
    /// Error of the predicted impact time (s).
    pub time_error_s: Option<f64>,
}

/// Per-missile figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MissileScore {
    /// The missile.
    pub missile: MissileId,
    /// Launch time (s).
    pub launch_s: f64,
    /// First detection by any radar, seconds after launch.
    pub first_detection_after_launch_s: Option<f64>,
    /// First confirmed track on it, seconds after launch.
    pub confirmed_after_launch_s: Option<f64>,
    /// From its first detection to its first confirmed track (s).
    pub detection_to_confirmation_s: Option<f64>,
    /// Confirmed tracks whose truth it is.
    pub tracks: Vec<TrackId>,
    /// Position RMSE of those tracks (m).
    pub position_rmse_m: Option<f64>,
    /// Velocity RMSE of those tracks (m/s).
    pub velocity_rmse_m_s: Option<f64>,
    /// Error samples behind the RMSE.
    pub samples: u64,
    /// Position RMSE after burnout only (m): the ballistic model's own regime (in boost the
    /// tracker follows thrust it does not model, with raised process noise).
    pub ballistic_position_rmse_m: Option<f64>,
    /// Velocity RMSE after burnout only (m/s).
    pub ballistic_velocity_rmse_m_s: Option<f64>,
    /// Impact time (s), if it came down.
    pub impact_s: Option<f64>,
    /// Predicted-impact errors at [`ScoringParams::impact_lead_times_s`].
    pub impact_errors: Vec<ImpactErrorAt>,
}

/// Per-confirmed-track figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackScore {
    /// The track.
    pub track: TrackId,
    /// Its dominant truth; `None` for a false track.
    pub truth: Option<MissileId>,
    /// Plots from its truth over plots from any missile (1 when it never swapped).
    pub purity: f64,
    /// Plots assigned to it, false alarms included.
    pub plots: u64,
    /// False alarms among them.
    pub false_plots: u64,
    /// Confirmation time (s).
    pub confirmed_s: Option<f64>,
    /// First plot to confirmation (s).
    pub latency_s: Option<f64>,
    /// From its first plot to its deletion or the end of the run (s).
    pub lifetime_s: f64,
    /// Position RMSE against its truth (m).
    pub position_rmse_m: Option<f64>,
}

/// Everything the scorer measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreReport {
    /// Per radar, in id order.
    pub radars: Vec<RadarScore>,
    /// Per missile, in id order.
    pub missiles: Vec<MissileScore>,
    /// Per confirmed track, in id order.
    pub tracks: Vec<TrackScore>,
    /// Confirmed tracks.
    pub confirmed_tracks: u64,
    /// Confirmed tracks on false alarms.
    pub false_tracks: u64,
    /// False tracks over confirmed tracks.
    pub false_track_ratio: f64,
    /// Longest life of a false track (s).
    pub max_false_track_lifetime_s: f64,
    /// Tracks initiated (tentative included) that never got confirmed.
    pub unconfirmed_tracks: u64,
    /// Lowest purity of a true confirmed track.
    pub min_purity: f64,
    /// Mean OSPA over all samples (m), missiles not yet tracked included.
    pub ospa_mean_m: Option<f64>,
    /// Mean OSPA over the samples after every airborne missile had been detected (m).
    pub ospa_tracked_mean_m: Option<f64>,
    /// OSPA samples (time s, value m).
    pub ospa: Vec<(f64, f64)>,
}

fn rms(sum_sq: f64, n: u64) -> Option<f64> {
    (n > 0).then(|| crate::earth::sqrt(sum_sq / n as f64))
}

impl Scorer {
    /// A scorer with these parameters.
    pub fn new(params: ScoringParams) -> Self {
        Self {
            next_sample_s: 0.0,
            params,
            radars: BTreeMap::new(),
            missiles: BTreeMap::new(),
            tracks: BTreeMap::new(),
            ospa: Vec::new(),
            ospa_tracked: Vec::new(),
        }
    }

    /// Takes in the events of one step and the state after it.
    pub fn observe(&mut self, sim: &Simulation, events: &[Event]) {
        for e in events {
            self.event(sim, e);
        }
        let now = sim.time_s();
        if now + 1e-9 >= self.next_sample_s {
            self.sample(sim, now);
            // bounded: the sample time rises by the fixed sample period per pass up to now.
            while self.next_sample_s <= now + 1e-9 {
                self.next_sample_s += self.params.sample_period_s;
            }
        }
    }

    fn event(&mut self, sim: &Simulation, e: &Event) {
        match &e.kind {
            EventKind::Launch { missile, .. } => {
                self.missiles.insert(
                    *missile,
                    MissileTally {
                        launch_s: e.time_s,
                        ..MissileTally::default()
                    },
                );
            }
            EventKind::RadarPlaced {
                radar, call_sign, ..
            } => {
                self.radars.entry(*radar).or_default().call_sign = call_sign.clone();
            }
            EventKind::Detection {
                radar,
                radar_id,
                truth,
                missile_id,
                ..
            } => {
                let r = self.radars.entry(*radar).or_default();
                r.call_sign.clone_from(radar_id);
                match truth {
                    Some(m) => {
                        r.plots += 1;
                        r.first_detection_s.entry(*m).or_insert(e.time_s);
                        if let Some(t) = self.missiles.get_mut(m) {
                            t.first_detection_s.get_or_insert(e.time_s);
                        }
                    }
                    None => r.false_alarms += 1,
                }
                if let Some(track) = missile_id {
                    let t = self.tracks.entry(*track).or_default();
                    *t.plots.entry(*truth).or_default() += 1;
                    t.first_s.get_or_insert(e.time_s);
                }
            }
            EventKind::TrackConfirmed {
                track, latency_s, ..
            } => {
                let t = self.tracks.entry(*track).or_default();
                t.confirmed_s = Some(e.time_s);
                t.latency_s = Some(*latency_s);
            }
            EventKind::TrackDeleted { track, .. } => {
                self.tracks.entry(*track).or_default().ended_s = Some(e.time_s);
            }
            EventKind::Impact { missile, at, .. } => {
                if let Some(t) = self.missiles.get_mut(missile) {
                    t.impact = Some((e.time_s, *at));
                }
            }
            _ => {}
        }
        let _ = sim;
    }

    fn sample(&mut self, sim: &Simulation, now: f64) {
        let physics = *sim.physics();
        let truths: Vec<(MissileId, Vector3<f64>, Vector3<f64>, bool)> = sim
            .missiles()
            .iter()
            .filter(|m| m.flight.phase != Phase::Impacted)
            .map(|m| {
                (
                    m.id,
                    m.flight.position_ecef(&physics),
                    m.flight.velocity_ecef(&physics),
                    m.flight.phase == Phase::Boost,
                )
            })
            .collect();
        let mut estimates = Vec::new();
        let model = BallisticModel::new(&physics);
        for track in sim.tracker().tracks() {
            if track.status != TrackStatus::Confirmed {
                continue;
            }
            let x = model.propagate_state(&track.state(), now - track.time_s);
            let (r, v) = (motion::position(&x), motion::velocity(&x));
            estimates.push(r);
            let tally = self.tracks.entry(track.id).or_default();
            let Some(truth) = tally.truth() else {
                continue;
            };
            if let Some(imp) = &track.impact
                && let Some(m) = self.missiles.get_mut(&truth)
            {
                m.predictions.push((now, track.id, imp.at, imp.time_s));
            }
            let Some((_, tr, tv, boost)) = truths.iter().find(|t| t.0 == truth) else {
                continue;
            };
            let pos_err = (r - tr).norm_squared();
            let vel_err = (v - tv).norm_squared();
            tally.pos_sq += pos_err;
            tally.samples += 1;
            if let Some(m) = self.missiles.get_mut(&truth) {
                m.pos_sq += pos_err;
                m.vel_sq += vel_err;
                m.samples += 1;
                if !boost {
                    m.ballistic_pos_sq += pos_err;
                    m.ballistic_vel_sq += vel_err;
                    m.ballistic_samples += 1;
                }
            }
        }
        let x: Vec<Vector3<f64>> = truths.iter().map(|t| t.1).collect();
        let d = ospa(
            &x,
            &estimates,
            self.params.ospa_cutoff_m,
            self.params.ospa_order,
        );
        self.ospa.push((now, d));
        let all_detected = truths.iter().all(|(id, ..)| {
            self.missiles
                .get(id)
                .is_some_and(|m| m.first_detection_s.is_some())
        });
        if !truths.is_empty() && all_detected {
            self.ospa_tracked.push((now, d));
        }
    }

    /// The figures so far; `end_s` closes the lifetimes of tracks still alive.
    pub fn report(&self, end_s: f64) -> ScoreReport {
        let radars = self
            .radars
            .iter()
            .map(|(id, r)| RadarScore {
                radar: *id,
                call_sign: r.call_sign.clone(),
                detections: r.plots,
                false_alarms: r.false_alarms,
                first_detection_after_launch_s: r
                    .first_detection_s
                    .iter()
                    .map(|(m, t)| {
                        let launch = self.missiles.get(m).map_or(0.0, |x| x.launch_s);
                        (*m, t - launch)
                    })
                    .collect(),
            })
            .collect();
        let mut tracks = Vec::new();
        let (mut confirmed, mut false_tracks, mut unconfirmed) = (0u64, 0u64, 0u64);
        let mut max_false_life: f64 = 0.0;
        let mut min_purity: f64 = 1.0;
        for (id, t) in &self.tracks {
            let lifetime_s = t.ended_s.unwrap_or(end_s) - t.first_s.unwrap_or(end_s);
            if t.confirmed_s.is_none() {
                unconfirmed += 1;
                continue;
            }
            confirmed += 1;
            let truth = t.truth();
            let missile_plots = t.missile_plots();
            let purity = match truth {
                Some(m) if missile_plots > 0 => {
                    t.plots.get(&Some(m)).copied().unwrap_or(0) as f64 / missile_plots as f64
                }
                _ => 0.0,
            };
            if truth.is_none() {
                false_tracks += 1;
                max_false_life = max_false_life.max(lifetime_s);
            } else {
                min_purity = min_purity.min(purity);
            }
            tracks.push(TrackScore {
                track: *id,
                truth,
                purity,
                plots: t.plots.values().sum(),
                false_plots: t.plots.get(&None).copied().unwrap_or(0),
                confirmed_s: t.confirmed_s,
                latency_s: t.latency_s,
                lifetime_s,
                position_rmse_m: rms(t.pos_sq, t.samples),
            });
        }
        let missiles = self
            .missiles
            .iter()
            .map(|(id, m)| self.missile_score(*id, m, &tracks))
            .collect();
        let mean = |v: &[(f64, f64)]| {
            (!v.is_empty()).then(|| v.iter().map(|s| s.1).sum::<f64>() / v.len() as f64)
        };
        ScoreReport {
            radars,
            missiles,
            confirmed_tracks: confirmed,
            false_tracks,
            false_track_ratio: if confirmed > 0 {
                false_tracks as f64 / confirmed as f64
            } else {
                0.0
            },
            max_false_track_lifetime_s: max_false_life,
            unconfirmed_tracks: unconfirmed,
            min_purity,
            ospa_mean_m: mean(&self.ospa),
            ospa_tracked_mean_m: mean(&self.ospa_tracked),
            ospa: self.ospa.clone(),
            tracks,
        }
    }

    fn missile_score(
        &self,
        id: MissileId,
        m: &MissileTally,
        tracks: &[TrackScore],
    ) -> MissileScore {
        let mine: Vec<&TrackScore> = tracks.iter().filter(|t| t.truth == Some(id)).collect();
        let confirmed_s = mine
            .iter()
            .filter_map(|t| t.confirmed_s)
            .min_by(f64::total_cmp);
        let impact_errors = match m.impact {
            Some((t_impact, at)) => self
                .params
                .impact_lead_times_s
                .iter()
                .map(|&lead| {
                    let latest = m
                        .predictions
                        .iter()
                        .rfind(|p| p.0 <= t_impact - lead + 1e-9);
                    ImpactErrorAt {
                        before_impact_s: lead,
                        error_m: latest.map(|p| {
                            crate::earth::frames::great_circle_distance_m(&p.2, &at, 6_371_008.8)
                        }),
                        time_error_s: latest.map(|p| p.3 - t_impact),
                    }
                })
                .collect(),
            None => Vec::new(),
        };
        MissileScore {
            missile: id,
            launch_s: m.launch_s,
            first_detection_after_launch_s: m.first_detection_s.map(|t| t - m.launch_s),
            confirmed_after_launch_s: confirmed_s.map(|t| t - m.launch_s),
            detection_to_confirmation_s: match (m.first_detection_s, confirmed_s) {
                (Some(d), Some(c)) => Some(c - d),
                _ => None,
            },
            tracks: mine.iter().map(|t| t.track).collect(),
            position_rmse_m: rms(m.pos_sq, m.samples),
            velocity_rmse_m_s: rms(m.vel_sq, m.samples),
            samples: m.samples,
            ballistic_position_rmse_m: rms(m.ballistic_pos_sq, m.ballistic_samples),
            ballistic_velocity_rmse_m_s: rms(m.ballistic_vel_sq, m.ballistic_samples),
            impact_s: m.impact.map(|i| i.0),
            impact_errors,
        }
    }
}

/// OSPA distance between two sets of points (m); see the module documentation.
pub fn ospa(x: &[Vector3<f64>], y: &[Vector3<f64>], cutoff_m: f64, order: f64) -> f64 {
    let (small, large) = if x.len() <= y.len() { (x, y) } else { (y, x) };
    let (m, n) = (small.len(), large.len());
    if n == 0 {
        return 0.0;
    }
    let cp = libm::pow(cutoff_m, order);
    let cost: Vec<f64> = small
        .iter()
        .flat_map(|a| {
            large
                .iter()
                .map(move |b| libm::pow((a - b).length().min(cutoff_m), order))
        })
        .collect();
    let assignment = hungarian(&cost, m, n);
    let matched: f64 = assignment
        .iter()
        .enumerate()
        .map(|(i, j)| j.map_or(cp, |j| cost[i * n + j]))
        .sum();
    libm::pow((matched + cp * (n - m) as f64) / n as f64, 1.0 / order)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(x: f64) -> Vector3<f64> {
        Vector3::new(x, 0.0, 0.0)
    }

    /// Closed forms of the OSPA definition.
    #[test]
    fn ospa_matches_its_definition() {
        assert_eq!(ospa(&[], &[], 100.0, 2.0), 0.0);
        // One object, one estimate 30 m off: the distance itself.
        assert!((ospa(&[p(0.0)], &[p(30.0)], 100.0, 2.0) - 30.0).abs() < 1e-9);
        // Beyond the cut-off: c.
        assert!((ospa(&[p(0.0)], &[p(500.0)], 100.0, 2.0) - 100.0).abs() < 1e-9);
        // One missed object of two, the other exact: sqrt(c^2 / 2).
        let d = ospa(&[p(0.0), p(1000.0)], &[p(0.0)], 100.0, 2.0);
        assert!(
            (d - crate::earth::sqrt(100.0 * 100.0 / 2.0)).abs() < 1e-9,
            "{d}"
        );
        // The assignment is optimal, not in order: swapped lists give the same value.
        let a = ospa(&[p(0.0), p(100.0)], &[p(101.0), p(1.0)], 1e4, 2.0);
        assert!((a - 1.0).abs() < 1e-9, "{a}");
        // Symmetric.
        let b = ospa(&[p(101.0), p(1.0)], &[p(0.0), p(100.0)], 1e4, 2.0);
        assert_eq!(a, b);
        // Nothing tracked: c.
        assert!((ospa(&[p(0.0), p(5.0)], &[], 50.0, 1.0) - 50.0).abs() < 1e-9);
    }

    #[test]
    fn a_track_truth_is_its_dominant_cause() {
        let mut t = TrackTally::default();
        t.plots.insert(None, 5);
        t.plots.insert(Some(MissileId(2)), 5);
        t.plots.insert(Some(MissileId(1)), 1);
        assert_eq!(t.truth(), Some(MissileId(2)));
        assert_eq!(t.missile_plots(), 6);
        t.plots.insert(None, 9);
        assert_eq!(t.truth(), None);
    }
}
