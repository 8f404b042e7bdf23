//! The defence inside the engine: defended assets, batteries, interceptors in flight, and the
//! command and control loop that closes the kill chain.
//!
//! Command and control runs at the end of every [`C2_PERIOD_TICKS`]-th tick, after sensing (a
//! pass predicts every threat's trajectory, about a millisecond per threat, and keeps each
//! prediction until its track's estimate changes; once a second is well inside the tracker's
//! own update rate):
//! 0. Kill assessment (see below) of the tracks whose interceptors have all ended.
//! 1. Threat evaluation, from CONFIRMED tracks only: the track's impact prediction
//!    ([`crate::tracking::ImpactPrediction`]) gives the impact point and time; the threatened
//!    asset is the most valuable one whose radius contains the predicted impact point
//!    (chord distance on the ellipsoid surface); a track falling in open country has value 0
//!    and doctrine ignores it ([`crate::engagement::wta::UnengagedReason::NoValue`]). Tracks with
//!    an interceptor in flight, under kill assessment, or assessed killed, are not
//!    re-evaluated.
//! 2. Envelopes: the track estimate is propagated with the filter's own motion model
//!    ([`BallisticModel`]) to sample its predicted trajectory (cached until the estimate
//!    changes, [`PredictionCache`]); every ready battery's earliest feasible intercept on it
//!    inside the type's planning band ([`envelope::engagement_options_in`],
//!    [`envelope::planning_band`]: the altitude band less a margin, so that the real end game,
//!    which may come earlier or later than planned, stays inside the band where a kill is
//!    possible).
//! 3. Assignment: greedy maximum marginal return under the doctrine ([`wta::assign`]), over
//!    the options whose launch time has come (launch no later than the next C2 pass): a battery
//!    fires at its earliest opportunity, a later and maybe better option is taken only if no
//!    earlier one exists.
//! 4. Orders and launches: each decision becomes an `engagement-ordered` event (with its
//!    alternatives, the explanation) and its rounds are launched at once (`interceptor-launched`,
//!    rounds and launchers spent at launch; a launcher reloads in the battery's reload time).
//!
//! Interceptors fly ([`InterceptorFlight`]) guided by their track's estimate propagated to the
//! start of each tick (never truth) until the seeker acquires: of the real missiles within its
//! acquisition range ahead of the interceptor (positive closing speed) and within the handover
//! basket around the track's estimate ([`SEEKER_CUE_HALF_ANGLE_DEG`]), the seeker, cued by the
//! track, locks on to the one nearest the estimate. The end game
//! ([`endgame::resolve`]) checks the closest approach between the start and the end of each
//! tick once locked, and draws the kill from the simulation's generator. A killed missile stops ([`crate::engine::Missile::killed_at`]). An interceptor
//! that has not acquired its target [`SELF_DESTRUCT_MARGIN_S`] (or a quarter of its planned
//! fly-out, if longer) after its planned intercept time self-destructs.
//!
//! Kill assessment: command and control does not know from truth whether an intercept killed.
//! When every interceptor fired at a track has ended (kill, miss, or no end game), the track is
//! under assessment for the doctrine's look time `look_s`, then assessed from the sensors
//! (`docs/interceptors.md`, after Wilkening, "A simple model for calculating ballistic missile
//! defense effectiveness", Science & Global Security 8(2), 1999, on shoot-look-shoot and kill
//! assessment):
//! - the track was updated by a plot after the intercept: the target survived
//!   ([`KillAssessment::Survivor`]), the track is free to be engaged again;
//! - it was updated within the look time before the intercept (the sensors were watching) and
//!   not since, or was deleted: [`KillAssessment::Killed`], never engaged again;
//! - it was not updated in the look time before the intercept (no sensor sees it: it coasts
//!   out of coverage), so silence proves nothing: [`KillAssessment::Unassessed`], treated as a
//!   survivor, as a defence that cannot confirm a kill must (it may then fire at a target that
//!   is already dead: the seeker finds nothing and the round self-destructs).
//!
//! Each assessment is a `kill-assessment` event.

use nalgebra::Vector3;
use serde::{Deserialize, Serialize};

use crate::earth::{Ellipsoid, GeoPoint};
use crate::engagement::assets::{Battery, DefendedAsset};
use crate::engagement::envelope::{self, NoIntercept, ThreatPrediction};
use crate::engagement::wta::{self, BatteryState, Doctrine, Threat};
use crate::engine::{
    AlternativeView, Command, Event, EventKind, MissileId, SimState, TICK_S, Unused, UnusedBattery,
};
use crate::flight::{Phase, PosVel};
use crate::interceptor::InterceptorKind;
use crate::interceptor::endgame;
use crate::interceptor::flight::{InterceptorFlight, InterceptorPhase};
use crate::interceptor::guidance::PnLaw;
use crate::tracking::motion::{self, BallisticModel};
use crate::tracking::predictor;
use crate::tracking::{ImpactPrediction, TrackId, TrackStatus};

use super::prediction_cache::Samples;
pub use super::prediction_cache::{PredictionCache, predict_samples};

/// Command and control runs at the end of every this many ticks (1 s at 10 Hz).
pub const C2_PERIOD_TICKS: u64 = 10;
/// Longest planned fly-out, as a fraction of the type's maximum flight time: a battery waits
/// until the earliest feasible intercept is at most this far away in time.
pub const PLANNED_FLYOUT_FRACTION: f64 = 0.5;
/// Lowest launch elevation (deg), see `launch_dir`.
pub const MIN_LAUNCH_ELEVATION_DEG: f64 = 30.0;
/// Most batteries in one simulation.
pub const MAX_BATTERIES: usize = crate::limits::BATTERIES.max as usize;
/// Most defended assets in one simulation.
pub const MAX_ASSETS: usize = crate::limits::ASSETS.max as usize;
/// Most interceptors in flight at once.
pub const MAX_INTERCEPTORS: usize = 10_000;
/// Longest predicted trajectory sampled for planning (samples).
pub const MAX_PREDICTION_SAMPLES: usize = 2_000;
/// How far past the tracker's predicted impact time a threat's trajectory is sampled (s): the
/// samples stop at the first one below the ground, and the tracker's prediction may be a few
/// refreshes older than the estimate the samples start from.
pub const PREDICTION_PAST_IMPACT_S: f64 = 30.0;
/// The handover basket of a cued seeker: it acquires only a missile within acquisition range x
/// sin(this angle) of the track's estimate (deg), assumed: seekers have an instantaneous field
/// of view of a few degrees and search a basket around the predicted target (PAC-3 1.4 km,
/// SM-6 4.3 km, THAAD 6.9 km); a missile outside it (another track's, in a raid, possibly on
/// the same line of sight) is not acquired.
pub const SEEKER_CUE_HALF_ANGLE_DEG: f64 = 10.0;
/// An interceptor without seeker lock self-destructs this long after its planned intercept
/// time (or a quarter of its planned fly-out, if longer) (s): the fly-out model errs by up to
/// 15% (`docs/interceptors.md`), so a later acquisition is not an intercept any more.
pub const SELF_DESTRUCT_MARGIN_S: f64 = 10.0;

/// The id of a battery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BatteryId(pub u32);

impl core::fmt::Display for BatteryId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "B{}", self.0)
    }
}

/// The id of a defended asset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AssetId(pub u32);

impl core::fmt::Display for AssetId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "A{}", self.0)
    }
}

/// The id of an interceptor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct InterceptorId(pub u32);

impl core::fmt::Display for InterceptorId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "I{}", self.0)
    }
}

fn default_launchers() -> u32 {
    4
}

fn default_reload_s() -> f64 {
    300.0
}

fn yes() -> bool {
    true
}

/// Where to put a battery: the fields of a [`Battery`] without its id (the engine allocates
/// it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatteryPlacement {
    /// Call sign (e.g. `"BAT_LA"`).
    pub call_sign: String,
    /// Interceptor type, by public name (e.g. `"SM-6"`).
    pub kind: InterceptorKind,
    /// Position of the launchers.
    pub position: GeoPoint,
    /// Rounds available (loaded plus reloads).
    pub rounds: u32,
    /// Launchers (rounds that can be fired without reloading); 4 when absent.
    #[serde(default = "default_launchers")]
    pub launchers: u32,
    /// Time to reload one launcher (s); 300 when absent.
    #[serde(default = "default_reload_s")]
    pub reload_s: f64,
    /// Whether the battery is ready to engage; true when absent.
    #[serde(default = "yes")]
    pub ready: bool,
}

impl BatteryPlacement {
    /// The battery this placement describes, with id `id`, validated.
    pub fn to_battery(&self, id: BatteryId) -> Result<Battery, String> {
        let b = Battery {
            id: id.0,
            call_sign: self.call_sign.clone(),
            position: self.position,
            kind: self.kind,
            rounds: self.rounds,
            launchers: self.launchers,
            reload_s: self.reload_s,
            ready: self.ready,
        };
        b.validate()?;
        Ok(b)
    }
}

/// A battery in a simulation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatteryUnit {
    /// The battery (its `id` is the [`BatteryId`]; `rounds` are the rounds left).
    pub battery: Battery,
    /// Simulation time at which each launcher is loaded again (s); at most `launchers` entries,
    /// sorted; a launcher not listed is loaded.
    pub reloading_until_s: Vec<f64>,
    /// Rounds launched so far.
    pub rounds_fired: u32,
}

impl BatteryUnit {
    /// Its id.
    pub fn id(&self) -> BatteryId {
        BatteryId(self.battery.id)
    }

    /// Loaded launchers at `t_s`, capped by the rounds left.
    pub fn launchers_ready(&self, t_s: f64) -> u32 {
        let busy = self
            .reloading_until_s
            .iter()
            .filter(|&&u| u > t_s + 1e-9)
            .count() as u32;
        self.battery
            .launchers
            .saturating_sub(busy)
            .min(self.battery.rounds)
    }
}

/// A defended asset in a simulation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Asset {
    /// Its id.
    pub id: AssetId,
    /// The asset.
    pub asset: DefendedAsset,
}

/// An interceptor in flight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Interceptor {
    /// Its id.
    pub id: InterceptorId,
    /// The battery that launched it.
    pub battery: BatteryId,
    /// The track it was fired at.
    pub track: TrackId,
    /// Simulation time of launch (s).
    pub launch_s: f64,
    /// Planned intercept time (s).
    pub planned_intercept_s: f64,
    /// The last estimate of its track (time s, ECEF 7-state [r, v, kappa]): guidance
    /// propagates it when the track is updated no more (coasting out of radar coverage, or
    /// deleted), as a command center flies an interceptor on the last predicted trajectory.
    pub last_estimate: Option<(f64, [f64; 7])>,
    /// The missile its seeker locked on to, once acquired.
    pub seeker_lock: Option<crate::engine::MissileId>,
    /// At seeker lock: the distance between the track estimate that guided it and the true
    /// missile (m), for scoring (the track's error at handover).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handover_error_m: Option<f64>,
    /// Smallest true range to any live missile seen so far (m), for the miss report of a
    /// flight that never acquired.
    pub closest_m: f64,
    /// The flight.
    pub flight: InterceptorFlight,
}

/// How an interceptor's flight ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InterceptOutcome {
    /// The end game killed the target.
    Kill,
    /// The end game was a miss (the draw, or too large a miss distance).
    Miss,
    /// The locked target was destroyed by another interceptor or hit the ground first.
    TargetGone,
    /// The flight ended without an end game (self-destruct or ground impact).
    NoEndgame,
}

/// The result of a kill assessment (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KillAssessment {
    /// The sensors saw the track until the intercept and not since: killed.
    Killed,
    /// The track was updated after the intercept: the target survived.
    Survivor,
    /// No sensor saw the track around the intercept: treated as a survivor.
    Unassessed,
}

/// The engine's record of a track's engagements.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackEngagement {
    /// The track.
    pub track: TrackId,
    /// Rounds fired at it.
    pub rounds: u32,
    /// Engagements (orders) against it.
    pub engagements: u32,
    /// Whether a kill was assessed (the track is not engaged again).
    pub killed: bool,
    /// The threat file: the last confirmed estimate (time s, ECEF 7-state) and its impact
    /// prediction. Command and control keeps planning on it after the track stops being
    /// updated (out of radar coverage, deleted) until the predicted impact.
    pub estimate: Option<(f64, [f64; 7])>,
    /// The last impact prediction of the track.
    pub impact: Option<ImpactPrediction>,
    /// Time of the track's last plot (s) seen by command and control, kept after the track is
    /// deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_plot_s: Option<f64>,
    /// Under kill assessment: the time of the last intercept (end of an interceptor's flight)
    /// against it (s); assessed `look_s` later.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assessing_since_s: Option<f64>,
}

/// Checks a doctrine with the assignment's own validation; the error is one sentence.
pub fn validate_doctrine(d: &Doctrine) -> Result<(), String> {
    wta::assign(d, &[], &[], &[]).map(|_| ())
}

/// The asset an impact at `at` hits (the most valuable one whose radius contains it, then the
/// lowest id), with the distance (m): chord distance between the points on the ellipsoid
/// surface, within 0.1% of the great-circle distance below 300 km.
pub fn asset_at<'a>(
    assets: &'a [Asset],
    ell: &Ellipsoid,
    at: &GeoPoint,
) -> Option<(&'a Asset, f64)> {
    let p = ell.geodetic_to_ecef(&at.to_geodetic(0.0));
    let mut best: Option<(&Asset, f64)> = None;
    for a in assets {
        let c = ell.geodetic_to_ecef(&a.asset.position.to_geodetic(0.0));
        let d = crate::earth::sqrt((p - c).norm_squared());
        if d <= a.asset.radius_m && best.is_none_or(|(b, _)| a.asset.value > b.asset.value) {
            best = Some((a, d));
        }
    }
    best
}

/// The defence part of [`SimState`]: empty (and then left out of snapshots and of the state
/// hash, so a simulation without defence hashes as before) until a battery, an asset or a
/// doctrine is set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DefenseState {
    /// Fire doctrine.
    pub doctrine: Doctrine,
    /// Next battery id to allocate.
    pub next_battery_id: u32,
    /// Batteries, sorted by id.
    pub batteries: Vec<BatteryUnit>,
    /// Next asset id to allocate.
    pub next_asset_id: u32,
    /// Defended assets, sorted by id.
    pub assets: Vec<Asset>,
    /// Next interceptor id to allocate.
    pub next_interceptor_id: u32,
    /// Interceptors in flight, sorted by id.
    pub interceptors: Vec<Interceptor>,
    /// Engagement record per track, sorted by track id.
    pub engagements: Vec<TrackEngagement>,
    /// Predicted trajectories of the last command and control pass: derived data, not part of
    /// the state (not serialised, hashed or compared).
    #[serde(skip)]
    pub predictions: PredictionCache,
}

impl Default for DefenseState {
    fn default() -> Self {
        Self {
            doctrine: Doctrine::default(),
            next_battery_id: 1,
            batteries: Vec::new(),
            next_asset_id: 1,
            assets: Vec::new(),
            next_interceptor_id: 1,
            interceptors: Vec::new(),
            engagements: Vec::new(),
            predictions: PredictionCache::default(),
        }
    }
}

impl DefenseState {
    /// Whether nothing was ever set (the state is then omitted from snapshots).
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// The battery with id `id`.
    pub fn battery(&self, id: BatteryId) -> Option<&BatteryUnit> {
        let i = self.batteries.binary_search_by_key(&id, |b| b.id()).ok()?;
        Some(&self.batteries[i])
    }

    fn engagement_mut(&mut self, track: TrackId) -> &mut TrackEngagement {
        let i = match self.engagements.binary_search_by_key(&track, |e| e.track) {
            Ok(i) => i,
            Err(i) => {
                self.engagements.insert(
                    i,
                    TrackEngagement {
                        track,
                        rounds: 0,
                        engagements: 0,
                        killed: false,
                        estimate: None,
                        impact: None,
                        last_plot_s: None,
                        assessing_since_s: None,
                    },
                );
                i
            }
        };
        &mut self.engagements[i]
    }
}

fn event(tick: u64, time_s: f64, kind: EventKind) -> Event {
    Event { tick, time_s, kind }
}

fn reject(events: &mut Vec<Event>, tick: u64, t0: f64, command: &str, reason: String) {
    events.push(event(
        tick,
        t0,
        EventKind::Rejected {
            command: command.into(),
            reason,
        },
    ));
}

/// Applies a defence command (other commands are ignored); a bad one is `rejected`.
pub(crate) fn apply(
    d: &mut DefenseState,
    command: &Command,
    tick: u64,
    t0: f64,
    events: &mut Vec<Event>,
) {
    match command {
        Command::PlaceBattery(p) => {
            let id = BatteryId(d.next_battery_id);
            let b = if d.batteries.len() >= MAX_BATTERIES {
                Err(format!(
                    "a simulation holds at most {MAX_BATTERIES} batteries"
                ))
            } else {
                p.to_battery(id)
            };
            match b {
                Ok(battery) => {
                    d.next_battery_id += 1;
                    events.push(event(
                        tick,
                        t0,
                        EventKind::BatteryPlaced {
                            battery: id,
                            call_sign: battery.call_sign.clone(),
                            kind: battery.kind,
                            position: battery.position,
                            rounds: battery.rounds,
                        },
                    ));
                    d.batteries.push(BatteryUnit {
                        battery,
                        reloading_until_s: Vec::new(),
                        rounds_fired: 0,
                    });
                }
                Err(m) => reject(events, tick, t0, "place-battery", m),
            }
        }
        Command::RemoveBattery { battery } => {
            match d.batteries.binary_search_by_key(battery, |b| b.id()) {
                Ok(i) => {
                    d.batteries.remove(i);
                    events.push(event(
                        tick,
                        t0,
                        EventKind::BatteryRemoved { battery: *battery },
                    ));
                }
                Err(_) => reject(
                    events,
                    tick,
                    t0,
                    "remove-battery",
                    format!("there is no battery {battery}"),
                ),
            }
        }
        Command::PlaceAsset(a) => {
            let ok = if d.assets.len() >= MAX_ASSETS {
                Err(format!("a simulation holds at most {MAX_ASSETS} assets"))
            } else {
                a.validate()
            };
            match ok {
                Ok(()) => {
                    let id = AssetId(d.next_asset_id);
                    d.next_asset_id += 1;
                    events.push(event(
                        tick,
                        t0,
                        EventKind::AssetPlaced {
                            asset: id,
                            name: a.name.clone(),
                            position: a.position,
                            value: a.value,
                            radius_m: a.radius_m,
                        },
                    ));
                    d.assets.push(Asset {
                        id,
                        asset: a.clone(),
                    });
                }
                Err(m) => reject(events, tick, t0, "place-asset", m),
            }
        }
        Command::RemoveAsset { asset } => match d.assets.binary_search_by_key(asset, |a| a.id) {
            Ok(i) => {
                d.assets.remove(i);
                events.push(event(tick, t0, EventKind::AssetRemoved { asset: *asset }));
            }
            Err(_) => reject(
                events,
                tick,
                t0,
                "remove-asset",
                format!("there is no asset {asset}"),
            ),
        },
        Command::SetDoctrine(doc) => match validate_doctrine(doc) {
            Ok(()) => {
                d.doctrine = *doc;
                events.push(event(tick, t0, EventKind::DoctrineSet { doctrine: *doc }));
            }
            Err(m) => reject(events, tick, t0, "set-doctrine", m),
        },
        _ => {}
    }
}

/// The true state of every live missile at the start of a tick (empty when no interceptor
/// flies, which is all the end game needs).
pub(crate) fn truth_at_tick_start(state: &SimState) -> Vec<(MissileId, PosVel)> {
    if state.defense.interceptors.is_empty() {
        return Vec::new();
    }
    state
        .missiles
        .iter()
        .filter(|m| m.flight.phase != Phase::Impacted && m.killed_at.is_none())
        .map(|m| {
            (
                m.id,
                PosVel {
                    r_m: m.flight.position_ecef(&state.physics),
                    v_m_s: m.flight.velocity_ecef(&state.physics),
                },
            )
        })
        .collect()
}

/// Flies every interceptor over the tick `[t0, t0 + TICK_S]` (the missiles have already moved):
/// guidance on the track estimate, seeker lock, end game, kill. See the module doc.
pub(crate) fn fly_interceptors(
    state: &mut SimState,
    tick: u64,
    t0: f64,
    truth0: &[(MissileId, PosVel)],
    events: &mut Vec<Event>,
) {
    if state.defense.interceptors.is_empty() {
        return;
    }
    let physics = state.physics;
    let ell = physics.earth.ellipsoid();
    let model = BallisticModel::new(&physics);
    let interceptors = core::mem::take(&mut state.defense.interceptors);
    let mut kept = Vec::with_capacity(interceptors.len());
    let first_event = events.len();
    for mut ic in interceptors {
        if let Some(t) = state.tracker.track(ic.track) {
            let x = t.state();
            ic.last_estimate = Some((t.time_s, [x[0], x[1], x[2], x[3], x[4], x[5], x[6]]));
        }
        // The estimate flown to the tick's start by the fast predictor (one adaptive step for
        // the usual fraction of a second since the last plot, a few for a coasting track).
        let estimate = ic.last_estimate.map(|(t_s, x)| {
            let x = motion::State::from_column_slice(&x);
            let x = if t0 > t_s {
                predictor::propagate_state(&model, &x, t0 - t_s)
            } else {
                model.propagate_state(&x, t0 - t_s)
            };
            PosVel {
                r_m: motion::position(&x),
                v_m_s: motion::velocity(&x),
            }
        });
        let (r0, v0) = (ic.flight.state.r_m, ic.flight.state.v_m_s);
        let live = |id: MissileId| {
            state
                .missiles
                .binary_search_by_key(&id, |m| m.id)
                .ok()
                .map(|i| &state.missiles[i])
                .filter(|m| m.killed_at.is_none())
        };
        let acq = ic.flight.params().seeker_acquisition_m;
        // The seeker is cued by the track: of the missiles it can see (within acquisition
        // range, closing), it acquires the one nearest the track's estimate (nearest the
        // interceptor without an estimate), not merely the nearest to itself, which in a raid
        // may be another track's missile.
        let mut nearest: Option<(MissileId, PosVel, f64)> = None;
        // Squared distances first: a missile farther than the closest so far and out of the
        // seeker's reach (by a margin above rounding) changes nothing, whatever else it is.
        let reach2 = acq * acq * (1.0 + 1e-9);
        let mut closest2 = f64::INFINITY;
        for (id, pv) in truth0 {
            let rel = pv.r_m - r0;
            let d2 = rel.norm_squared();
            let may_lock = match ic.seeker_lock {
                Some(l) => l == *id,
                None => d2 <= reach2,
            };
            if (d2 >= closest2 && !may_lock) || live(*id).is_none() {
                continue;
            }
            closest2 = closest2.min(d2);
            if !may_lock {
                continue;
            }
            let range = crate::earth::sqrt(d2);
            let closing = -rel.dot(&(pv.v_m_s - v0)) > 0.0;
            let basket_m = acq * libm::sin(SEEKER_CUE_HALF_ANGLE_DEG.to_radians());
            let cued = estimate
                .as_ref()
                .is_none_or(|e| crate::earth::sqrt((pv.r_m - e.r_m).norm_squared()) <= basket_m);
            let eligible = match ic.seeker_lock {
                Some(l) => l == *id,
                None => range <= acq && closing && cued,
            };
            let rank = match (&estimate, ic.seeker_lock) {
                (Some(e), None) => crate::earth::sqrt((pv.r_m - e.r_m).norm_squared()),
                _ => range,
            };
            if eligible && nearest.is_none_or(|n| rank < n.2) {
                nearest = Some((*id, *pv, rank));
            }
        }
        ic.closest_m = ic.closest_m.min(crate::earth::sqrt(closest2));
        let kind = ic.flight.kind;
        let blast_radius = kind.params().lethal_radius_m;
        let call_sign = state
            .defense
            .battery(ic.battery)
            .map(|b| b.battery.call_sign.clone())
            .unwrap_or_default();
        let end = |ic: &Interceptor,
                   outcome: InterceptOutcome,
                   miss_m: f64,
                   pk: f64,
                   time_s: f64,
                   r: &Vector3<f64>| {
            let g = ell.ecef_to_geodetic(r);
            event(
                tick,
                time_s,
                EventKind::Intercept {
                    interceptor: ic.id,
                    battery: ic.battery,
                    battery_call_sign: call_sign.clone(),
                    missile_id: ic.track,
                    target: ic.seeker_lock,
                    kill: outcome == InterceptOutcome::Kill,
                    outcome,
                    handover_error_m: ic.handover_error_m,
                    miss_m,
                    pk,
                    alt_m: g.alt_m,
                    at: g.to_point(),
                    blast_ts: time_s,
                    blast_radius,
                },
            )
        };
        if ic.seeker_lock.is_some() && nearest.is_none() {
            events.push(end(
                &ic,
                InterceptOutcome::TargetGone,
                ic.closest_m,
                0.0,
                t0,
                &r0,
            ));
            continue;
        }
        // Far away (never acquired) when no missile is in the seeker's reach.
        let far = PosVel {
            r_m: r0 * 3.0,
            v_m_s: Vector3::zeros(),
        };
        let truth = nearest.map_or(far, |n| n.1);
        let stepped = ic
            .flight
            .step(TICK_S, &physics, estimate.as_ref(), &truth, &mut state.rng);
        if stepped.is_err() {
            events.push(end(
                &ic,
                InterceptOutcome::NoEndgame,
                ic.closest_m,
                0.0,
                t0,
                &r0,
            ));
            continue;
        }
        if ic.seeker_lock.is_none() && ic.flight.phase == InterceptorPhase::Terminal {
            ic.seeker_lock = nearest.map(|n| n.0);
            ic.handover_error_m = nearest
                .zip(estimate.as_ref())
                .map(|(n, e)| crate::earth::sqrt((e.r_m - n.1.r_m).norm_squared()));
        }
        let r1 = ic.flight.state.r_m;
        if let Some(target) = ic.seeker_lock
            && let Some(m) = live(target)
        {
            let m_r1 = m.flight.position_ecef(&physics);
            if let Some(o) = endgame::resolve(
                kind,
                t0,
                TICK_S,
                (&r0, &r1),
                (&truth.r_m, &m_r1),
                &ell,
                &mut state.rng,
            ) {
                let w = (o.time_s - t0) / TICK_S;
                let at = r0 + (r1 - r0) * w;
                if o.kill
                    && let Ok(i) = state.missiles.binary_search_by_key(&target, |m| m.id)
                {
                    state.missiles[i].killed_at = Some(o.time_s);
                }
                let outcome = if o.kill {
                    InterceptOutcome::Kill
                } else {
                    InterceptOutcome::Miss
                };
                events.push(end(&ic, outcome, o.miss_m, o.pk, o.time_s, &at));
                continue;
            }
        }
        let flyout_s = ic.planned_intercept_s - ic.launch_s;
        let give_up_s = ic.planned_intercept_s + SELF_DESTRUCT_MARGIN_S.max(0.25 * flyout_s);
        if ic.seeker_lock.is_none() && t0 + TICK_S >= give_up_s {
            ic.flight.end();
        }
        if ic.flight.is_over() {
            events.push(end(
                &ic,
                InterceptOutcome::NoEndgame,
                ic.closest_m,
                0.0,
                t0 + TICK_S,
                &r1,
            ));
            continue;
        }
        kept.push(ic);
    }
    state.defense.interceptors = kept;
    // Every ended flight puts its track under kill assessment (command and control learns the
    // outcome from the sensors, not from this event).
    for e in &events[first_event..] {
        if let EventKind::Intercept {
            missile_id,
            blast_ts,
            ..
        } = e.kind
        {
            let f = state.defense.engagement_mut(missile_id);
            f.assessing_since_s = Some(f.assessing_since_s.map_or(blast_ts, |s| s.max(blast_ts)));
        }
    }
}

/// Kill assessment at `t1_s` of every track under assessment whose interceptors have all ended
/// and whose look time has passed (see the module doc).
fn assess_kills(state: &mut SimState, tick: u64, t1_s: f64, events: &mut Vec<Event>) {
    let look_s = state.defense.doctrine.look_s;
    let mut busy: Vec<TrackId> = state.defense.interceptors.iter().map(|i| i.track).collect();
    busy.sort_unstable();
    for k in 0..state.defense.engagements.len() {
        let f = &state.defense.engagements[k];
        let Some(since_s) = f.assessing_since_s else {
            continue;
        };
        if f.killed || t1_s < since_s + look_s || busy.binary_search(&f.track).is_ok() {
            continue;
        }
        let track = state.tracker.track(f.track);
        let last_plot_s = track.map(|t| t.last_update_s).or(f.last_plot_s);
        let assessment = match (track, last_plot_s) {
            (Some(t), _) if t.last_update_s > since_s => KillAssessment::Survivor,
            (_, Some(p)) if p >= since_s - look_s => KillAssessment::Killed,
            _ => KillAssessment::Unassessed,
        };
        let f = &mut state.defense.engagements[k];
        f.assessing_since_s = None;
        f.killed = assessment == KillAssessment::Killed;
        events.push(event(
            tick,
            t1_s,
            EventKind::KillAssessment {
                missile_id: f.track,
                intercept_s: since_s,
                assessment,
            },
        ));
    }
}

/// One command and control pass at `t1_s` (the end of tick `tick`): threat evaluation,
/// envelopes, assignment, orders and launches. See the module doc.
pub(crate) fn command_and_control(
    state: &mut SimState,
    tick: u64,
    t1_s: f64,
    events: &mut Vec<Event>,
) {
    if state.defense.batteries.is_empty() {
        return;
    }
    assess_kills(state, tick, t1_s, events);
    // Threat files: refreshed from every confirmed track with an impact prediction.
    for t in state.tracker.tracks() {
        if t.status != TrackStatus::Confirmed {
            continue;
        }
        let Some(ip) = t.impact else { continue };
        let x = t.state();
        let e = state.defense.engagement_mut(t.id);
        // The planned trajectory follows the tracker's impact refreshes (adaptive in time to
        // go, `tracking::IMPACT_REFRESH_TIME_TO_GO_FRACTION`): re-predicted from the estimate
        // of the first pass after each, kept in the threat file (so a restored snapshot plans
        // from the same estimate) and cached by its exact bits.
        let refreshed = e
            .impact
            .is_none_or(|old| old.from_estimate_s != ip.from_estimate_s);
        if refreshed || e.estimate.is_none() {
            e.estimate = Some((t.time_s, [x[0], x[1], x[2], x[3], x[4], x[5], x[6]]));
        }
        e.impact = Some(ip);
        e.last_plot_s = Some(t.last_update_s);
    }
    let mut cache = core::mem::take(&mut state.defense.predictions);
    let mut keep = Vec::new();
    let d = &state.defense;
    let physics = state.physics;
    let ell = physics.earth.ellipsoid();
    let model = BallisticModel::new(&physics);
    let mut busy: Vec<TrackId> = d.interceptors.iter().map(|i| i.track).collect();
    busy.sort_unstable();
    struct Candidate {
        track: TrackId,
        impact: ImpactPrediction,
        asset: Option<String>,
        estimate: Option<(f64, [f64; 7])>,
        samples: Samples,
    }
    let mut cands = Vec::new();
    let mut threats = Vec::new();
    for f in &d.engagements {
        if f.killed || f.assessing_since_s.is_some() || busy.binary_search(&f.track).is_ok() {
            continue;
        }
        let (Some(ip), Some((t_s, x))) = (f.impact, f.estimate) else {
            continue;
        };
        if ip.time_s.is_nan() || ip.time_s <= t1_s {
            continue;
        }
        // Open country has no value: doctrine ignores it, so its envelopes are not computed.
        let Some((asset, _)) = asset_at(&d.assets, &ell, &ip.at) else {
            continue;
        };
        if asset.asset.value <= 0.0 {
            continue;
        }
        threats.push(Threat {
            id: f.track.0,
            value: asset.asset.value,
            time_to_go_s: ip.time_s - t1_s,
            survival: 1.0,
        });
        cands.push(Candidate {
            track: f.track,
            impact: ip,
            asset: Some(asset.asset.name.clone()),
            estimate: f.estimate,
            samples: cache.get(
                &mut keep,
                &model,
                f.track,
                &x,
                t_s,
                ip.time_s + PREDICTION_PAST_IMPACT_S,
            ),
        });
    }
    cache.entries = keep;
    state.defense.predictions = cache;
    let d = &state.defense;
    if threats.is_empty() {
        return;
    }
    let ready: Vec<Battery> = d
        .batteries
        .iter()
        .filter(|u| u.battery.ready && u.battery.rounds > 0 && u.launchers_ready(t1_s) > 0)
        .map(|u| u.battery.clone())
        .collect();
    if ready.is_empty() {
        return;
    }
    let preds: Vec<ThreatPrediction<'_>> = cands
        .iter()
        .map(|c| ThreatPrediction {
            threat: c.track.0,
            samples: &c.samples.samples,
            altitudes_m: Some(&c.samples.altitudes_m),
        })
        .collect();
    let (all_opts, none) =
        envelope::engagement_options_in(&ready, &preds, &ell, t1_s, envelope::planning_band);
    // Fire at the earliest opportunity: only options whose launch time has come.
    let horizon = t1_s + C2_PERIOD_TICKS as f64 * TICK_S;
    // and whose fly-out is short enough for the interceptor to arrive with energy to steer
    // (the seeker-less mid-course of a long coast cannot follow a target that is still
    // climbing or at apogee). Why each battery had no option is kept for the explanation.
    // (threat, battery, reason), in option order.
    let mut unused: Vec<(u32, u32, Unused)> = none
        .iter()
        .map(|(threat, battery, e)| {
            let why = match e {
                NoIntercept::OutsideAltitudeBand => Unused::OutsideAltitudeBand,
                NoIntercept::OutOfRange => Unused::OutOfRange,
                NoIntercept::TooLate => Unused::TooLate,
                NoIntercept::NoPrediction | NoIntercept::InvalidPrediction(_) => {
                    Unused::NoPrediction
                }
            };
            (*threat, *battery, why)
        })
        .collect();
    let mut opts = Vec::with_capacity(all_opts.len());
    for o in all_opts {
        let max_s = PLANNED_FLYOUT_FRACTION
            * d.battery(BatteryId(o.battery))
                .map_or(0.0, |u| u.battery.kind.params().max_flight_time_s);
        let flyout_s = o.intercept_s - o.launch_s;
        if o.launch_s > horizon {
            unused.push((
                o.threat,
                o.battery,
                Unused::NotYet {
                    launch_s: o.launch_s,
                },
            ));
        } else if flyout_s > max_s {
            unused.push((
                o.threat,
                o.battery,
                Unused::FlyOutTooLong { flyout_s, max_s },
            ));
        } else {
            opts.push(o);
        }
    }
    if opts.is_empty() {
        return;
    }
    let states: Vec<BatteryState> = d
        .batteries
        .iter()
        .map(|u| BatteryState {
            id: u.battery.id,
            rounds: u.battery.rounds,
            launchers_ready: u.launchers_ready(t1_s),
            ready_s: t1_s,
        })
        .collect();
    let Ok(assignment) = wta::assign(&d.doctrine, &threats, &states, &opts) else {
        return;
    };
    for dec in assignment.decisions {
        let Some(c) = cands.iter().find(|c| c.track.0 == dec.threat) else {
            continue;
        };
        let Ok(bi) = state
            .defense
            .batteries
            .binary_search_by_key(&BatteryId(dec.battery), |b| b.id())
        else {
            continue;
        };
        let b = state.defense.batteries[bi].battery.clone();
        let site = ell.geodetic_to_ecef(&b.position.to_geodetic(0.0));
        let band = envelope::planning_band(b.kind);
        let Ok(plan) =
            envelope::earliest_intercept_in(b.kind, band, &site, &ell, &c.samples.samples, t1_s)
        else {
            continue;
        };
        // Every other battery, with why it had no option: not ready, no rounds or reloading
        // (left out of `ready`), or the envelope and firing rules above.
        let unused: Vec<UnusedBattery> = state
            .defense
            .batteries
            .iter()
            .filter(|u| !dec.alternatives.iter().any(|a| a.battery == u.battery.id))
            .filter_map(|u| {
                let reason = if !u.battery.ready {
                    Unused::NotReady
                } else if u.battery.rounds == 0 {
                    Unused::NoRounds
                } else if u.launchers_ready(t1_s) == 0 {
                    Unused::Reloading
                } else {
                    unused
                        .iter()
                        .find(|(t, b, _)| *t == dec.threat && *b == u.battery.id)?
                        .2
                };
                Some(UnusedBattery {
                    battery: u.id(),
                    battery_call_sign: u.battery.call_sign.clone(),
                    reason,
                })
            })
            .collect();
        let alternatives = dec
            .alternatives
            .iter()
            .map(|a| AlternativeView {
                battery: BatteryId(a.battery),
                battery_call_sign: state
                    .defense
                    .battery(BatteryId(a.battery))
                    .map(|u| u.battery.call_sign.clone())
                    .unwrap_or_default(),
                intercept_s: a.intercept_s,
                pk: a.pk,
                status: a.status,
            })
            .collect();
        events.push(event(
            tick,
            t1_s,
            EventKind::EngagementOrdered {
                missile_id: c.track,
                battery: BatteryId(b.id),
                battery_call_sign: b.call_sign.clone(),
                fire_ts: t1_s,
                blast_radius: b.kind.params().lethal_radius_m,
                rounds: dec.rounds,
                mode: dec.mode,
                pk: dec.pk,
                pk_engagement: dec.pk_engagement,
                intercept_s: plan.intercept_s,
                impact_s: c.impact.time_s,
                impact_at: c.impact.at,
                asset: c.asset.clone(),
                alternatives,
                unused,
            },
        ));
        // Raised for the gravity drop over the boost only: after burnout proportional
        // navigation flies the rest (a drop over a 200 s fly-out would point it straight up).
        let boost_s = plan.flyout_s.min(b.kind.params().total_burn_time_s());
        let dir = launch_dir(
            &site,
            &envelope::launch_direction(&site, &plan.point_ecef, boost_s),
        );
        let mut fired = 0;
        for _ in 0..dec.rounds {
            let unit = &mut state.defense.batteries[bi];
            if unit.launchers_ready(t1_s) == 0
                || state.defense.interceptors.len() >= MAX_INTERCEPTORS
            {
                break;
            }
            let Ok(flight) = InterceptorFlight::launch(b.kind, PnLaw::Augmented, site, dir) else {
                break;
            };
            unit.battery.rounds -= 1;
            unit.rounds_fired += 1;
            unit.reloading_until_s.retain(|&u| u > t1_s + 1e-9);
            unit.reloading_until_s.push(t1_s + unit.battery.reload_s);
            let rounds_left = unit.battery.rounds;
            let id = InterceptorId(state.defense.next_interceptor_id);
            state.defense.next_interceptor_id += 1;
            state.defense.interceptors.push(Interceptor {
                id,
                battery: BatteryId(b.id),
                track: c.track,
                launch_s: t1_s,
                planned_intercept_s: plan.intercept_s,
                last_estimate: c.estimate,
                seeker_lock: None,
                handover_error_m: None,
                closest_m: f64::INFINITY,
                flight,
            });
            fired += 1;
            events.push(event(
                tick,
                t1_s,
                EventKind::InterceptorLaunched {
                    interceptor: id,
                    battery: BatteryId(b.id),
                    battery_call_sign: b.call_sign.clone(),
                    kind: b.kind,
                    missile_id: c.track,
                    rounds_left,
                },
            ));
        }
        let e = state.defense.engagement_mut(c.track);
        e.rounds += fired;
        e.engagements += 1;
    }
}

/// The launch direction, raised to at least 30 degrees above the local horizontal: a slow
/// booster (GBI, thrust-to-weight 2.8) launched flatter sinks below the pad during the first
/// second, before guidance acts (1 s at 2.8 g along 30 degrees climbs 6.9 m against a 4.9 m
/// gravity drop).
fn launch_dir(site: &Vector3<f64>, dir: &Vector3<f64>) -> Vector3<f64> {
    let up = site / crate::earth::sqrt(site.norm_squared());
    let min = libm::sin(MIN_LAUNCH_ELEVATION_DEG.to_radians());
    if dir.dot(&up) >= min {
        return *dir;
    }
    let horiz = dir - up * dir.dot(&up);
    let hn = crate::earth::sqrt(horiz.norm_squared());
    if hn <= 0.0 {
        return up;
    }
    horiz / hn * libm::cos(MIN_LAUNCH_ELEVATION_DEG.to_radians()) + up * min
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_most_valuable_asset_containing_the_impact_is_hit() {
        let ell = Ellipsoid::WGS84;
        let a = |id, lat, value, radius_m| Asset {
            id: AssetId(id),
            asset: DefendedAsset {
                name: format!("A{id}"),
                position: GeoPoint::new(lat, -118.0),
                value,
                radius_m,
            },
        };
        let assets = [a(1, 34.0, 10.0, 30_000.0), a(2, 34.1, 50.0, 30_000.0)];
        // 0.05 deg of latitude is 5.55 km: inside both, the more valuable wins.
        let (hit, d) = asset_at(&assets, &ell, &GeoPoint::new(34.05, -118.0)).unwrap();
        assert_eq!(hit.id, AssetId(2));
        assert!((d - 5_548.0).abs() < 20.0, "{d}");
        let (hit, _) = asset_at(&assets, &ell, &GeoPoint::new(33.8, -118.0)).unwrap();
        assert_eq!(hit.id, AssetId(1));
        assert!(asset_at(&assets, &ell, &GeoPoint::new(36.0, -118.0)).is_none());
    }

    #[test]
    fn launchers_reload_and_rounds_cap_what_is_ready() {
        let p = BatteryPlacement {
            call_sign: "B".into(),
            kind: InterceptorKind::Sm6,
            position: GeoPoint::new(34.0, -118.0),
            rounds: 3,
            launchers: 4,
            reload_s: 300.0,
            ready: true,
        };
        let mut u = BatteryUnit {
            battery: p.to_battery(BatteryId(1)).unwrap(),
            reloading_until_s: vec![],
            rounds_fired: 0,
        };
        assert_eq!(u.launchers_ready(0.0), 3);
        u.battery.rounds = 10;
        u.reloading_until_s = vec![100.0, 200.0];
        assert_eq!(u.launchers_ready(50.0), 2);
        assert_eq!(u.launchers_ready(150.0), 3);
        assert_eq!(u.launchers_ready(250.0), 4);
        assert!(
            BatteryPlacement {
                reload_s: f64::NAN,
                ..p
            }
            .to_battery(BatteryId(2))
            .is_err()
        );
        assert!(validate_doctrine(&Doctrine::default()).is_ok());
        let bad = Doctrine {
            salvo_size: 0,
            ..Doctrine::default()
        };
        assert!(validate_doctrine(&bad).unwrap_err().contains("salvo"));
    }
}
