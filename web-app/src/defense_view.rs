//! What the map and the panels show of the defence, as plain Rust over `sim-core`: each
//! battery's engagement footprint, the interceptors in flight, their recorded fly-outs, the
//! command center's explanation of every engagement order, hit-testing, and the forms that
//! turn the panel's fields into engine commands.
//!
//! **Engagement footprint.** The engine's envelope ([`sim_core::engagement::envelope`]) accepts
//! an intercept point when its altitude is inside the type's `[min, max]` intercept altitudes and
//! its slant range from the battery is at most the type's maximum range; command and control
//! then fires only when the planned fly-out takes at most
//! [`PLANNED_FLYOUT_FRACTION`] of the type's maximum flight time
//! ([`sim_core::engine::defense`]). On a sphere of radius `R` a slant range `s` to a point at
//! height `h` above a site at sea level is the ground distance
//! `d = R acos((R^2 + (R+h)^2 - s^2) / (2 R (R+h)))` (law of cosines,
//! [`crate::radar_view::slant_to_ground_m`]); `d` falls as `h` grows, so the widest ground
//! reach is against a threat at the lowest intercept altitude. The drawn footprint is that
//! reach for two slant ranges: the catalog's maximum range (the envelope's edge) and the
//! range the fly-out model ([`FlyoutModel`]) covers in the planned fly-out time (where the
//! command center actually fires), the smaller of the two being the one it fires within.
//!
//! **Records.** Interceptors exist in the state only while they fly; the [`DefenseRecord`]
//! keeps, for the whole recorded timeline, each interceptor's fly-out (sampled once a second,
//! with its launch and its end) and each engagement order's explanation, so the map and the
//! explanation panel can show them after the fact and after a seek, exactly like the missiles'
//! ground tracks of [`crate::playback`]. It is truncated where a new command forks history.
//!
//! Invariants: pure functions, no DOM (tested natively); bad input gives an empty outline or a
//! one-sentence error, never a panic.

use sim_core::Simulation;
use sim_core::engagement::assets::DefendedAsset;
use sim_core::engagement::envelope::FlyoutModel;
use sim_core::engagement::wta::{AlternativeStatus, Doctrine, FireMode};
use sim_core::engine::defense::{
    AssetId, BatteryId, BatteryPlacement, InterceptOutcome, InterceptorId, PLANNED_FLYOUT_FRACTION,
    validate_doctrine,
};
use sim_core::engine::{AlternativeView, Event, EventKind, TICK_HZ, Unused};
use sim_core::interceptor::InterceptorKind;
use sim_core::interceptor::flight::InterceptorPhase;
use sim_core::tracking::TrackId;

use crate::radar_view::slant_to_ground_m;
use crate::view::{GeoPoint, PenOp, ScreenPoint, Viewport};

/// Points of a drawn footprint or asset circle.
pub const CIRCLE_POINTS: usize = 120;
/// A fly-out point is recorded every this many ticks (1 s of simulation time).
pub const FLYOUT_EVERY_TICKS: u64 = TICK_HZ as u64;
/// Most fly-outs and explanations kept (the oldest are dropped beyond).
pub const MAX_RECORDS: usize = 20_000;
/// Most fly-outs drawn (the newest launched before the current tick), and so picked.
pub const MAX_FLYOUTS_DRAWN: usize = 300;

/// What sets the edge of a battery's drawn footprint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FootprintLimit {
    /// The catalog's maximum slant range.
    Range,
    /// The planned fly-out time (a fraction of the maximum flight time).
    Flyout,
}

impl FootprintLimit {
    /// Short name (shown and used as a `data-` attribute).
    pub fn name(self) -> &'static str {
        match self {
            FootprintLimit::Range => "range",
            FootprintLimit::Flyout => "fly-out",
        }
    }
}

/// A battery's engagement footprint on the ground (see the module documentation).
#[derive(Clone, Debug, PartialEq)]
pub struct EngagementFootprint {
    /// Ground reach of the envelope's maximum slant range, against a threat at the lowest
    /// intercept altitude (m); 0 when the band is out of reach.
    pub envelope_m: f64,
    /// Ground reach where command and control fires (m): the smaller of the envelope and
    /// the planned fly-out's reach.
    pub engage_m: f64,
    /// What sets `engage_m`.
    pub limit: FootprintLimit,
    /// The altitude band the ranges refer to (m).
    pub band_m: (f64, f64),
    /// Closed outline of `engage_m` around the battery (longitudes unwrapped).
    pub engage_outline: Vec<GeoPoint>,
    /// Closed outline of `envelope_m` (empty when it equals `engage_m`).
    pub envelope_outline: Vec<GeoPoint>,
}

/// Slant range an interceptor of `kind` covers in `time_s` by the engine's fly-out model (m):
/// the inverse of [`FlyoutModel::time_s`], which rises with the range, by bisection to 1 m.
pub fn flyout_range_m(kind: InterceptorKind, time_s: f64) -> f64 {
    if !(time_s.is_finite() && time_s > 0.0) {
        return 0.0;
    }
    let model = FlyoutModel::of(kind);
    let (mut lo, mut hi) = (0.0_f64, 1.0_f64);
    while model.time_s(hi) < time_s && hi < 1.0e8 {
        hi *= 2.0;
    }
    while hi - lo > 1.0 {
        let mid = 0.5 * (lo + hi);
        if model.time_s(mid) <= time_s {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    lo
}

/// The engagement footprint of a battery of `kind` at `at` on a sphere of radius `r_m`.
pub fn engagement_footprint(kind: InterceptorKind, at: &GeoPoint, r_m: f64) -> EngagementFootprint {
    let p = kind.params();
    let band_m = (p.min_intercept_alt_m, p.max_intercept_alt_m);
    let planned_s = PLANNED_FLYOUT_FRACTION * p.max_flight_time_s;
    let planned = flyout_range_m(kind, planned_s);
    let ground = |slant: f64| slant_to_ground_m(slant, 0.0, band_m.0, r_m).unwrap_or(0.0);
    let envelope_m = ground(p.max_range_m);
    let (engage_m, limit) = if planned < p.max_range_m {
        (ground(planned), FootprintLimit::Flyout)
    } else {
        (envelope_m, FootprintLimit::Range)
    };
    let ring = |radius: f64| {
        if at.validate().is_err() || radius <= 0.0 {
            Vec::new()
        } else {
            crate::launch::range_ring(at, radius, r_m, CIRCLE_POINTS)
        }
    };
    EngagementFootprint {
        envelope_m,
        engage_m,
        limit,
        band_m,
        engage_outline: ring(engage_m),
        envelope_outline: if limit == FootprintLimit::Range {
            Vec::new()
        } else {
            ring(envelope_m)
        },
    }
}

/// An interceptor in flight as the map shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct InterceptorView {
    /// Its id.
    pub id: InterceptorId,
    /// Its battery.
    pub battery: BatteryId,
    /// Its class.
    pub kind: InterceptorKind,
    /// The track it is fired at.
    pub track: TrackId,
    /// Latitude (deg).
    pub lat_deg: f64,
    /// Longitude (deg).
    pub lon_deg: f64,
    /// Altitude (m).
    pub alt_m: f64,
    /// Speed relative to the Earth (m/s).
    pub speed_m_s: f64,
    /// Flight regime.
    pub phase: InterceptorPhase,
    /// Seconds since launch.
    pub flight_s: f64,
}

/// The interceptors in flight in `sim`, in id order.
pub fn interceptor_views(sim: &Simulation) -> Vec<InterceptorView> {
    let ell = sim.physics().earth.ellipsoid();
    sim.defense()
        .interceptors
        .iter()
        .filter(|i| i.flight.state.r_m.iter().all(|v| v.is_finite()))
        .map(|i| {
            let g = ell.ecef_to_geodetic(&i.flight.state.r_m);
            InterceptorView {
                id: i.id,
                battery: i.battery,
                kind: i.flight.kind,
                track: i.track,
                lat_deg: g.lat_rad.to_degrees(),
                lon_deg: g.lon_rad.to_degrees(),
                alt_m: g.alt_m,
                speed_m_s: i.flight.state.v_m_s.norm(),
                phase: i.flight.phase,
                flight_s: i.flight.t_s,
            }
        })
        .collect()
}

/// One recorded point of a fly-out.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FlyPoint {
    /// The state after this many ticks.
    pub tick: u64,
    /// Latitude (deg).
    pub lat_deg: f64,
    /// Longitude (deg), unwrapped along the fly-out.
    pub lon_deg: f64,
    /// Altitude (m).
    pub alt_m: f64,
    /// Speed relative to the Earth (m/s), where known: 0 on the launcher, the state's speed
    /// while flying; unknown at the end, whose `intercept` event carries no speed (the
    /// interceptor is gone from the state by then).
    pub speed_m_s: Option<f64>,
}

/// How a fly-out ended (from the `intercept` event).
#[derive(Clone, Debug, PartialEq)]
pub struct FlyEnd {
    /// Tick of the event.
    pub tick: u64,
    /// Whether the target was killed.
    pub kill: bool,
    /// How the flight ended.
    pub outcome: InterceptOutcome,
    /// Miss distance (m).
    pub miss_m: f64,
    /// Pk of the end game's draw.
    pub pk: f64,
    /// Where (the interceptor at the end).
    pub at: GeoPoint,
    /// Altitude (m).
    pub alt_m: f64,
}

/// One interceptor's flight, recorded.
#[derive(Clone, Debug, PartialEq)]
pub struct FlyOut {
    /// The interceptor.
    pub interceptor: InterceptorId,
    /// Its battery.
    pub battery: BatteryId,
    /// The battery's call sign.
    pub battery_call_sign: String,
    /// Its class.
    pub kind: InterceptorKind,
    /// The track it was fired at.
    pub track: TrackId,
    /// Tick of the `interceptor-launched` event.
    pub launch_tick: u64,
    /// Positions, oldest first (the battery's site first): one a second of flight plus the
    /// launch and the end, so at most the class's maximum flight time in seconds plus a few.
    pub points: Vec<FlyPoint>,
    /// How it ended, once it has.
    pub end: Option<FlyEnd>,
    /// The engagement order it was fired for (its key).
    pub order: Option<OrderKey>,
}

impl FlyOut {
    /// The points recorded up to and including `tick`.
    pub fn upto(&self, tick: u64) -> &[FlyPoint] {
        &self.points[..self.points.partition_point(|p| p.tick <= tick)]
    }

    /// Its end, if it happened before `tick`.
    pub fn ended_before(&self, tick: u64) -> Option<&FlyEnd> {
        self.end.as_ref().filter(|e| e.tick < tick)
    }

    fn push(&mut self, tick: u64, at: GeoPoint, alt_m: f64, speed_m_s: Option<f64>) {
        let lon_deg = match self.points.last() {
            Some(p) => p.lon_deg + crate::view::wrap_lon(at.lon_deg - p.lon_deg),
            None => at.lon_deg,
        };
        self.points.push(FlyPoint {
            tick,
            lat_deg: at.lat_deg,
            lon_deg,
            alt_m,
            speed_m_s,
        });
    }
}

/// Identifies an engagement order: its tick, the track and the chosen battery.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OrderKey {
    /// Tick of the `engagement-ordered` event.
    pub tick: u64,
    /// The track engaged.
    pub track: TrackId,
    /// The chosen battery.
    pub battery: BatteryId,
}

/// The command center's explanation of one engagement order.
#[derive(Clone, Debug, PartialEq)]
pub struct Explanation {
    /// Its key.
    pub key: OrderKey,
    /// Simulation time of the order (s).
    pub time_s: f64,
    /// The chosen battery's call sign.
    pub battery_call_sign: String,
    /// Rounds ordered.
    pub rounds: u32,
    /// Salvo or shoot-look-shoot.
    pub mode: FireMode,
    /// Single-shot Pk of the chosen battery.
    pub pk: f64,
    /// Kill probability of the whole engagement.
    pub pk_engagement: f64,
    /// Planned intercept time (s).
    pub intercept_s: f64,
    /// Predicted impact time of the threat (s).
    pub impact_s: f64,
    /// Predicted impact point.
    pub impact_at: GeoPoint,
    /// The asset threatened.
    pub asset: Option<String>,
    /// Every battery with a feasible intercept, chosen or why not.
    pub alternatives: Vec<AlternativeView>,
    /// Batteries on the map that the command center could not use, with why.
    pub out_of_reach: Vec<OutOfReach>,
    /// The interceptors launched for it.
    pub interceptors: Vec<InterceptorId>,
    /// The log line's sentence (also what identifies it from the log).
    pub text: String,
}

/// A battery that had no engagement option for an order, and why.
#[derive(Clone, Debug, PartialEq)]
pub struct OutOfReach {
    /// Its call sign.
    pub call_sign: String,
    /// Why, one phrase: the command center's reason as the engine recorded it (not ready, no
    /// rounds, reloading, the envelope on the predicted path, the firing rules), with where the
    /// threat's predicted impact is against the battery's footprint when the envelope was why.
    pub reason: String,
}

impl Explanation {
    /// Time to go from the order to the planned intercept (s).
    pub fn time_to_intercept_s(&self) -> f64 {
        self.intercept_s - self.time_s
    }
}

/// Why an alternative was or was not chosen, as a short phrase.
pub fn status_text(status: AlternativeStatus) -> &'static str {
    match status {
        AlternativeStatus::Chosen => "chosen",
        AlternativeStatus::LowerReturn => "lower expected return per round",
        AlternativeStatus::BelowMinPk => "Pk below the doctrine's minimum",
        AlternativeStatus::NotReady => "cannot launch in time",
        AlternativeStatus::NoRounds => "no rounds to spare",
    }
}

/// The name of a fire mode as the doctrine form shows it.
pub fn mode_name(mode: FireMode) -> &'static str {
    match mode {
        FireMode::Salvo => "salvo",
        FireMode::ShootLookShoot => "shoot-look-shoot",
    }
}

/// The log line of an `engagement-ordered` event (`None` for other kinds).
pub fn order_text(kind: &EventKind) -> Option<String> {
    let EventKind::EngagementOrdered {
        missile_id,
        battery_call_sign,
        rounds,
        mode,
        pk,
        pk_engagement,
        intercept_s,
        asset,
        alternatives,
        ..
    } = kind
    else {
        return None;
    };
    Some(format!(
        "{battery_call_sign} ordered to engage track {missile_id}{}: {rounds} round{} ({}), Pk {pk:.2} each, {pk_engagement:.2} overall, intercept at T+{intercept_s:.0} s ({} considered)",
        asset
            .as_ref()
            .map(|a| format!(" threatening {a}"))
            .unwrap_or_default(),
        if *rounds == 1 { "" } else { "s" },
        mode_name(*mode),
        alternatives.len(),
    ))
}

/// The command center's reason why battery `b` offered no engagement (recorded by the engine in
/// the order), with the footprint as a hint when the reason is the envelope.
fn unused_reason(
    b: Option<&sim_core::engine::defense::BatteryUnit>,
    why: Unused,
    impact_at: &GeoPoint,
    r_m: f64,
) -> String {
    let hint = match (why, b) {
        (Unused::OutOfRange | Unused::OutsideAltitudeBand | Unused::TooLate, Some(b)) => {
            let f = engagement_footprint(b.battery.kind, &b.battery.position, r_m);
            let d = sim_core::earth::frames::great_circle_distance_m(
                &b.battery.position,
                impact_at,
                r_m,
            );
            format!(
                " (the predicted impact is {:.0} km away; it engages within {:.0} km, {:.0} to {:.0} km high)",
                d / 1000.0,
                f.engage_m / 1000.0,
                f.band_m.0 / 1000.0,
                f.band_m.1 / 1000.0
            )
        }
        _ => String::new(),
    };
    format!("{why}{hint}")
}

/// Fly-outs and explanations over the whole recorded timeline (see the module documentation).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DefenseRecord {
    /// Every fly-out, by interceptor id (ids only grow, so in launch order).
    pub fly_outs: Vec<FlyOut>,
    /// Every engagement order, in order.
    pub orders: Vec<Explanation>,
}

impl DefenseRecord {
    /// Records one tick's events; `sim` is the state right after that tick.
    pub fn record(&mut self, events: &[Event], sim: &Simulation) {
        let now = sim.tick();
        let d = sim.defense();
        let mut in_flight: Option<Vec<InterceptorView>> = None;
        for e in events {
            match &e.kind {
                kind @ EventKind::EngagementOrdered {
                    missile_id,
                    battery,
                    battery_call_sign,
                    rounds,
                    mode,
                    pk,
                    pk_engagement,
                    intercept_s,
                    impact_s,
                    impact_at,
                    asset,
                    alternatives,
                    unused,
                    ..
                } => {
                    let r_m = sim.physics().earth.range_radius_m();
                    let out_of_reach = unused
                        .iter()
                        .map(|u| OutOfReach {
                            call_sign: u.battery_call_sign.clone(),
                            reason: unused_reason(d.battery(u.battery), u.reason, impact_at, r_m),
                        })
                        .collect();
                    self.orders.push(Explanation {
                        key: OrderKey {
                            tick: e.tick,
                            track: *missile_id,
                            battery: *battery,
                        },
                        time_s: e.time_s,
                        battery_call_sign: battery_call_sign.clone(),
                        rounds: *rounds,
                        mode: *mode,
                        pk: *pk,
                        pk_engagement: *pk_engagement,
                        intercept_s: *intercept_s,
                        impact_s: *impact_s,
                        impact_at: *impact_at,
                        asset: asset.clone(),
                        alternatives: alternatives.clone(),
                        out_of_reach,
                        interceptors: Vec::new(),
                        text: order_text(kind).unwrap_or_default(),
                    });
                }
                EventKind::InterceptorLaunched {
                    interceptor,
                    battery,
                    battery_call_sign,
                    kind,
                    missile_id,
                    ..
                } => {
                    let order = self
                        .orders
                        .iter_mut()
                        .rev()
                        .find(|o| o.key.track == *missile_id && o.key.battery == *battery);
                    let key = order.map(|o| {
                        o.interceptors.push(*interceptor);
                        o.key
                    });
                    let mut f = FlyOut {
                        interceptor: *interceptor,
                        battery: *battery,
                        battery_call_sign: battery_call_sign.clone(),
                        kind: *kind,
                        track: *missile_id,
                        launch_tick: e.tick,
                        points: Vec::new(),
                        end: None,
                        order: key,
                    };
                    if let Some(b) = d.battery(*battery) {
                        f.push(e.tick, b.battery.position, 0.0, Some(0.0));
                    }
                    let views = in_flight.get_or_insert_with(|| interceptor_views(sim));
                    if let Some(v) = views.iter().find(|v| v.id == *interceptor) {
                        f.push(
                            now,
                            GeoPoint::new(v.lat_deg, v.lon_deg),
                            v.alt_m,
                            Some(v.speed_m_s),
                        );
                    }
                    self.fly_outs.push(f);
                }
                EventKind::Intercept {
                    interceptor,
                    kill,
                    outcome,
                    miss_m,
                    pk,
                    alt_m,
                    at,
                    ..
                } => {
                    if let Some(f) = self.fly_out_mut(*interceptor) {
                        f.push(now, *at, *alt_m, None);
                        f.end = Some(FlyEnd {
                            tick: e.tick,
                            kill: *kill,
                            outcome: *outcome,
                            miss_m: *miss_m,
                            pk: *pk,
                            at: *at,
                            alt_m: *alt_m,
                        });
                    }
                }
                // Not part of the fly-outs or the explanations; a new kind is judged here.
                EventKind::Launch { .. }
                | EventKind::LaunchRejected { .. }
                | EventKind::StageBurnout { .. }
                | EventKind::Burnout { .. }
                | EventKind::Apogee { .. }
                | EventKind::Impact { .. }
                | EventKind::Rejected { .. }
                | EventKind::RadarPlaced { .. }
                | EventKind::RadarMoved { .. }
                | EventKind::RadarRemoved { .. }
                | EventKind::Detection { .. }
                | EventKind::TrackConfirmed { .. }
                | EventKind::TrackDeleted { .. }
                | EventKind::BatteryPlaced { .. }
                | EventKind::BatteryRemoved { .. }
                | EventKind::AssetPlaced { .. }
                | EventKind::AssetRemoved { .. }
                | EventKind::DoctrineSet { .. }
                | EventKind::KillAssessment { .. }
                | EventKind::AssetHit { .. } => {}
            }
        }
        if now.is_multiple_of(FLYOUT_EVERY_TICKS) && !d.interceptors.is_empty() {
            let views = in_flight.get_or_insert_with(|| interceptor_views(sim));
            for v in views.iter() {
                if let Some(f) = self.fly_out_mut(v.id)
                    && f.points.last().is_none_or(|p| p.tick < now)
                {
                    f.push(
                        now,
                        GeoPoint::new(v.lat_deg, v.lon_deg),
                        v.alt_m,
                        Some(v.speed_m_s),
                    );
                }
            }
        }
        // Bounded memory on endless raids: the oldest go first.
        if self.fly_outs.len() > MAX_RECORDS {
            let excess = self.fly_outs.len() - MAX_RECORDS;
            self.fly_outs.drain(..excess);
        }
        if self.orders.len() > MAX_RECORDS {
            let excess = self.orders.len() - MAX_RECORDS;
            self.orders.drain(..excess);
        }
    }

    /// Forgets what happened at or after `tick` (a new command forks the timeline there).
    pub fn truncate(&mut self, tick: u64) {
        self.orders.retain(|o| o.key.tick < tick);
        self.fly_outs.retain(|f| f.launch_tick < tick);
        for f in &mut self.fly_outs {
            f.points.retain(|p| p.tick <= tick);
            if f.end.as_ref().is_some_and(|e| e.tick >= tick) {
                f.end = None;
            }
        }
        for o in &mut self.orders {
            let kept = &self.fly_outs;
            o.interceptors
                .retain(|i| kept.iter().any(|f| f.interceptor == *i));
        }
    }

    /// The fly-out of interceptor `id`.
    pub fn fly_out(&self, id: InterceptorId) -> Option<&FlyOut> {
        let i = self
            .fly_outs
            .binary_search_by_key(&id, |f| f.interceptor)
            .ok()?;
        Some(&self.fly_outs[i])
    }

    fn fly_out_mut(&mut self, id: InterceptorId) -> Option<&mut FlyOut> {
        let i = self
            .fly_outs
            .binary_search_by_key(&id, |f| f.interceptor)
            .ok()?;
        Some(&mut self.fly_outs[i])
    }

    /// The explanation of order `key`.
    pub fn order(&self, key: OrderKey) -> Option<&Explanation> {
        self.orders.iter().find(|o| o.key == key)
    }

    /// The order a log line describes: same tick and same sentence (the line may add, after
    /// "; ", how the engaged track stands: see `event_log`).
    pub fn order_of_line(&self, tick: u64, text: &str) -> Option<&Explanation> {
        self.orders.iter().find(|o| {
            o.key.tick == tick
                && text
                    .strip_prefix(o.text.as_str())
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with("; "))
        })
    }

    /// The orders given before `tick`.
    pub fn orders_before(&self, tick: u64) -> &[Explanation] {
        &self.orders[..self.orders.partition_point(|o| o.key.tick < tick)]
    }
}

/// The item among `items` (id, point) drawn nearest to screen point `at` within `radius_px`.
pub fn nearest<T: Copy>(
    view: &Viewport,
    at: ScreenPoint,
    radius_px: f64,
    items: impl IntoIterator<Item = (T, GeoPoint)>,
) -> Option<T> {
    let mut best: Option<(f64, T)> = None;
    for (id, p) in items {
        let Some(s) = view.project_visible(p) else {
            continue; // Behind the globe: not pickable.
        };
        let d2 = (s.x - at.x).powi(2) + (s.y - at.y).powi(2);
        if d2 <= radius_px * radius_px && best.is_none_or(|(b, _)| d2 < b) {
            best = Some((d2, id));
        }
    }
    best.map(|(_, id)| id)
}

/// The battery drawn nearest to `at`, within `radius_px`.
pub fn battery_near(
    sim: &Simulation,
    view: &Viewport,
    at: ScreenPoint,
    radius_px: f64,
) -> Option<BatteryId> {
    let items = sim
        .defense()
        .batteries
        .iter()
        .map(|b| (b.id(), b.battery.position));
    nearest(view, at, radius_px, items)
}

/// The defended asset whose centre is drawn nearest to `at`, within `radius_px`.
pub fn asset_near(
    sim: &Simulation,
    view: &Viewport,
    at: ScreenPoint,
    radius_px: f64,
) -> Option<AssetId> {
    let items = sim
        .defense()
        .assets
        .iter()
        .map(|a| (a.id, a.asset.position));
    nearest(view, at, radius_px, items)
}

/// The interceptor in flight drawn nearest to `at`, within `radius_px`.
pub fn interceptor_near(
    sim: &Simulation,
    view: &Viewport,
    at: ScreenPoint,
    radius_px: f64,
) -> Option<InterceptorId> {
    let items = interceptor_views(sim)
        .into_iter()
        .map(|v| (v.id, GeoPoint::new(v.lat_deg, v.lon_deg)));
    nearest(view, at, radius_px, items)
}

/// The interceptor whose recorded end (kill or miss marker) before `tick` is drawn nearest to
/// `at`, within `radius_px`.
pub fn end_near(
    record: &DefenseRecord,
    tick: u64,
    view: &Viewport,
    at: ScreenPoint,
    radius_px: f64,
) -> Option<InterceptorId> {
    let items = record
        .fly_outs
        .iter()
        .filter_map(|f| Some((f.interceptor, f.ended_before(tick)?.at)));
    nearest(view, at, radius_px, items)
}

/// The interceptor whose recorded fly-out line, as drawn before `tick` (the newest
/// [`MAX_FLYOUTS_DRAWN`] launched before it, each up to `tick`), passes nearest to `at`, within
/// `radius_px`. The line is traced exactly as the map draws it ([`Viewport::trace`]: world
/// copies on the flat map, clipped at the horizon on the globe), and the distance is the
/// shortest from `at` to any of its drawn segments.
pub fn flyout_near(
    record: &DefenseRecord,
    tick: u64,
    view: &Viewport,
    at: ScreenPoint,
    radius_px: f64,
) -> Option<InterceptorId> {
    let shown: Vec<&FlyOut> = record
        .fly_outs
        .iter()
        .filter(|f| f.launch_tick < tick)
        .collect();
    let skip = shown.len().saturating_sub(MAX_FLYOUTS_DRAWN);
    let mut best: Option<(f64, InterceptorId)> = None;
    let mut line: Vec<GeoPoint> = Vec::new();
    for f in &shown[skip..] {
        line.clear();
        line.extend(
            f.upto(tick)
                .iter()
                .map(|q| GeoPoint::new(q.lat_deg, q.lon_deg)),
        );
        let mut pen: Option<ScreenPoint> = None;
        let mut nearest = f64::INFINITY;
        view.trace(&line, &mut |op| {
            let s = match op {
                PenOp::MoveTo(s) => s,
                PenOp::LineTo(s) => {
                    if let Some(a) = pen {
                        nearest = nearest.min(segment_distance_px(at, a, s));
                    }
                    s
                }
            };
            // A lone point (a fly-out of one sample) is a target too.
            nearest = nearest.min((s.x - at.x).hypot(s.y - at.y));
            pen = Some(s);
        });
        if nearest <= radius_px && best.is_none_or(|(b, _)| nearest < b) {
            best = Some((nearest, f.interceptor));
        }
    }
    best.map(|(_, id)| id)
}

/// Distance (px) from `p` to the segment `a`-`b`.
pub fn segment_distance_px(p: ScreenPoint, a: ScreenPoint, b: ScreenPoint) -> f64 {
    let (dx, dy) = (b.x - a.x, b.y - a.y);
    let len2 = dx * dx + dy * dy;
    let t = if len2 > 0.0 {
        (((p.x - a.x) * dx + (p.y - a.y) * dy) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    (p.x - a.x - t * dx).hypot(p.y - a.y - t * dy)
}

/// The interceptor a pointer at `at` designates, within `radius_px`: one in flight, else a
/// recorded end (kill or miss marker), else a fly-out line, unless a battery or an asset is
/// under the pointer (fly-outs start at their battery, which a press there must still reach).
pub fn interceptor_pick(
    record: &DefenseRecord,
    sim: &Simulation,
    tick: u64,
    view: &Viewport,
    at: ScreenPoint,
    radius_px: f64,
) -> Option<InterceptorId> {
    interceptor_near(sim, view, at, radius_px)
        .or_else(|| end_near(record, tick, view, at, radius_px))
        .or_else(|| {
            let site = battery_near(sim, view, at, radius_px).is_some()
                || asset_near(sim, view, at, radius_px).is_some();
            if site {
                None
            } else {
                flyout_near(record, tick, view, at, radius_px)
            }
        })
}

/// The battery form's fields.
#[derive(Clone, Debug, PartialEq)]
pub struct BatteryForm {
    /// Interceptor type.
    pub kind: InterceptorKind,
    /// Call sign.
    pub call_sign: String,
    /// Rounds.
    pub rounds: u32,
    /// Launchers.
    pub launchers: u32,
    /// Reload time of one launcher (s).
    pub reload_s: f64,
}

impl Default for BatteryForm {
    fn default() -> Self {
        BatteryForm {
            kind: InterceptorKind::Sm6,
            call_sign: "BAT_1".to_string(),
            rounds: 16,
            launchers: 8,
            reload_s: 600.0,
        }
    }
}

impl BatteryForm {
    /// The placement at `at`, validated as the engine will (one sentence when refused).
    pub fn placement(&self, at: GeoPoint) -> Result<BatteryPlacement, String> {
        let p = BatteryPlacement {
            call_sign: self.call_sign.trim().to_string(),
            kind: self.kind,
            position: at,
            rounds: self.rounds,
            launchers: self.launchers,
            reload_s: self.reload_s,
            ready: true,
        };
        p.to_battery(BatteryId(0))?;
        Ok(p)
    }
}

/// The asset form's fields.
#[derive(Clone, Debug, PartialEq)]
pub struct AssetForm {
    /// Name.
    pub name: String,
    /// Value (weight in the assignment).
    pub value: f64,
    /// Radius (km).
    pub radius_km: f64,
}

impl Default for AssetForm {
    fn default() -> Self {
        AssetForm {
            name: "ASSET_1".to_string(),
            value: 100.0,
            radius_km: 30.0,
        }
    }
}

impl AssetForm {
    /// The asset at `at`, validated as the engine will (one sentence when refused).
    pub fn asset(&self, at: GeoPoint) -> Result<DefendedAsset, String> {
        let a = DefendedAsset {
            name: self.name.trim().to_string(),
            position: at,
            value: self.value,
            radius_m: self.radius_km * 1000.0,
        };
        a.validate()?;
        Ok(a)
    }
}

/// A doctrine from the form's fields, keeping `base`'s other settings; validated with the
/// engine's own check (one sentence when refused).
pub fn doctrine_from_form(
    base: &Doctrine,
    salvo_size: u32,
    mode: &str,
    min_pk: f64,
    reserve_rounds: u32,
) -> Result<Doctrine, String> {
    let mode = match mode {
        "salvo" => FireMode::Salvo,
        "shoot-look-shoot" => FireMode::ShootLookShoot,
        other => return Err(format!("unknown fire mode '{other}'")),
    };
    let d = Doctrine {
        salvo_size,
        mode,
        min_pk,
        reserve_rounds,
        ..*base
    };
    validate_doctrine(&d)?;
    Ok(d)
}

/// Parses a finite number from a form field.
pub fn parse_finite(text: &str) -> Option<f64> {
    text.trim().parse::<f64>().ok().filter(|x| x.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::earth::frames::great_circle_distance_m;
    use sim_core::engine::Scenario;

    const R: f64 = 6_371_008.8;

    #[test]
    fn the_footprint_is_the_ground_reach_at_the_lowest_intercept_altitude() {
        let la = GeoPoint::new(34.05, -118.25);
        for kind in InterceptorKind::ALL {
            let p = kind.params();
            let f = engagement_footprint(kind, &la, R);
            // Law of cosines by hand: the central angle whose chord geometry gives the slant
            // range to a point at the band's floor.
            let h = p.min_intercept_alt_m;
            let angle = |s: f64| ((R * R + (R + h) * (R + h) - s * s) / (2.0 * R * (R + h))).acos();
            assert!(
                (f.envelope_m - R * angle(p.max_range_m)).abs() < 1.0,
                "{kind}: {f:?}"
            );
            assert!(f.engage_m <= f.envelope_m + 1e-9, "{kind}");
            // The planned fly-out reach agrees with the engine's fly-out model.
            let planned = flyout_range_m(kind, PLANNED_FLYOUT_FRACTION * p.max_flight_time_s);
            let model = FlyoutModel::of(kind);
            if planned < p.max_range_m {
                assert_eq!(f.limit, FootprintLimit::Flyout);
                let t = model.time_s(planned);
                assert!(
                    (t - PLANNED_FLYOUT_FRACTION * p.max_flight_time_s).abs() < 0.01,
                    "{kind}: {t}"
                );
                assert!((f.engage_m - R * angle(planned)).abs() < 2.0, "{kind}");
                assert!(!f.envelope_outline.is_empty());
            } else {
                assert_eq!(f.limit, FootprintLimit::Range);
                assert!(f.envelope_outline.is_empty());
            }
            // Every outline point is engage_m away from the battery.
            for q in &f.engage_outline[..CIRCLE_POINTS] {
                let d = great_circle_distance_m(&la, q, R);
                assert!((d - f.engage_m).abs() < 1.0, "{kind}: {d}");
            }
        }
        // Public figures: SM-6 240 km at 2 km gives about 240 km on the ground; its planned
        // fly-out (150 s) reaches about 135 km.
        let sm6 = engagement_footprint(InterceptorKind::Sm6, &la, R);
        assert!((sm6.envelope_m - 239_500.0).abs() < 1_000.0, "{sm6:?}");
        assert!(
            sm6.engage_m > 100_000.0 && sm6.engage_m < 170_000.0,
            "{sm6:?}"
        );
        // THAAD's band starts at 40 km: a 200 km slant range reaches about 196 km.
        let thaad = engagement_footprint(InterceptorKind::Thaad, &la, R);
        assert!(thaad.envelope_m < 200_000.0 && thaad.envelope_m > 190_000.0);
    }

    #[test]
    fn flyout_range_inverts_the_model_and_refuses_nonsense() {
        let m = FlyoutModel::of(InterceptorKind::Pac3);
        for d in [500.0, 5_000.0, 25_000.0] {
            let back = flyout_range_m(InterceptorKind::Pac3, m.time_s(d));
            assert!((back - d).abs() < 1.5, "{d} {back}");
        }
        assert_eq!(flyout_range_m(InterceptorKind::Pac3, f64::NAN), 0.0);
        assert_eq!(flyout_range_m(InterceptorKind::Pac3, -1.0), 0.0);
    }

    #[test]
    fn a_bad_site_gives_an_empty_outline() {
        let f = engagement_footprint(InterceptorKind::Sm6, &GeoPoint::new(f64::NAN, 0.0), R);
        assert!(f.engage_outline.is_empty() && f.envelope_outline.is_empty());
    }

    #[test]
    fn forms_refuse_what_the_engine_refuses() {
        let at = GeoPoint::new(34.0, -118.0);
        assert!(BatteryForm::default().placement(at).is_ok());
        let bad = BatteryForm {
            launchers: 0,
            ..BatteryForm::default()
        };
        assert!(bad.placement(at).unwrap_err().contains("launchers"));
        let blank = BatteryForm {
            call_sign: "  ".into(),
            ..BatteryForm::default()
        };
        assert!(blank.placement(at).is_err());
        assert!(AssetForm::default().asset(at).is_ok());
        let neg = AssetForm {
            radius_km: -1.0,
            ..AssetForm::default()
        };
        assert!(neg.asset(at).unwrap_err().contains("radius"));
        let d = doctrine_from_form(&Doctrine::default(), 3, "salvo", 0.5, 2).unwrap();
        assert_eq!(
            (d.salvo_size, d.mode, d.min_pk, d.reserve_rounds),
            (3, FireMode::Salvo, 0.5, 2)
        );
        assert_eq!(d.look_s, Doctrine::default().look_s);
        assert!(doctrine_from_form(&Doctrine::default(), 0, "salvo", 0.5, 0).is_err());
        assert!(doctrine_from_form(&Doctrine::default(), 2, "salvo", 1.5, 0).is_err());
        assert!(doctrine_from_form(&Doctrine::default(), 2, "pray", 0.5, 0).is_err());
    }

    #[test]
    fn the_nearest_item_under_the_pointer_is_picked() {
        let view = Viewport::whole_world(1440.0, 720.0).centered_on(
            GeoPoint {
                lat_deg: 34.0,
                lon_deg: -118.0,
            },
            100.0,
        );
        let a = GeoPoint::new(34.0, -118.0);
        let b = GeoPoint::new(34.05, -118.0); // 5 px north
        let s = view.project(a);
        let items = [(1, a), (2, b)];
        assert_eq!(nearest(&view, s, 10.0, items), Some(1));
        let above = ScreenPoint {
            x: s.x,
            y: s.y - 6.0,
        };
        assert_eq!(nearest(&view, above, 10.0, items), Some(2));
        let far = ScreenPoint {
            x: s.x + 40.0,
            y: s.y,
        };
        assert_eq!(nearest(&view, far, 10.0, items), None);
    }

    /// The full Southern California preset (radar, two batteries, Los Angeles): the SCUD-C is
    /// engaged, its interceptors fly out and one kills it; the explanation lists both batteries
    /// with their Pk; the record is truncated where history forks. Runs only until the first
    /// kill (about 250 s of simulated time).
    #[test]
    fn the_socal_preset_is_defended_and_explained() {
        let scenario =
            Scenario::from_json(include_str!("../../scenarios/socal-scud-c.json")).unwrap();
        assert_eq!(scenario.batteries.len(), 2);
        assert_eq!(scenario.assets.len(), 1);
        let mut p = crate::playback::Player::new(Simulation::from_scenario(&scenario));
        let killed = |p: &crate::playback::Player| {
            p.defense()
                .fly_outs
                .iter()
                .any(|f| f.end.as_ref().is_some_and(|e| e.kill))
        };
        // Launched at the end of a tick, an interceptor sits on its launcher until the next.
        let mut fastest = 0.0_f64;
        while p.tick() < 4_000 && !killed(&p) {
            p.step();
            for v in interceptor_views(p.sim()) {
                assert!(v.alt_m > -1.0, "{v:?}");
                fastest = fastest.max(v.speed_m_s);
            }
        }
        // One more tick, so that the kill's log line is before the current tick.
        p.step();
        let c = crate::event_log::Counters::of(p.lines(), p.detections());
        let impacts = c.impacts;
        assert!(c.engagements >= 1 && c.battery_fires >= 1, "{c:?}");
        assert_eq!((c.kills, c.leakers), (1, 0), "{c:?}");
        assert!(c.battery_fires >= c.kills + c.misses);
        // (The scenario's batteries and asset are set up before the first tick, unlogged.)
        for kind in ["engagement-ordered", "interceptor-launched", "intercept"] {
            let l = p.lines().iter().find(|l| l.kind == kind).expect(kind);
            assert!(l.place.is_some(), "{l:?}");
        }
        let rec = p.defense().clone();
        let sim = p.sim().clone();
        assert_eq!(impacts, 0, "the SCUD-C landed before being killed");
        assert!(fastest > 500.0, "{fastest}");
        let order = rec.orders.first().expect("an engagement order");
        assert_eq!(order.asset.as_deref(), Some("Los Angeles"));
        assert!(
            order.text.starts_with(&order.battery_call_sign),
            "{}",
            order.text
        );
        assert!(order.intercept_s > order.time_s && order.intercept_s < order.impact_s);
        let chosen: Vec<_> = order
            .alternatives
            .iter()
            .filter(|a| a.status == AlternativeStatus::Chosen)
            .collect();
        assert_eq!(chosen.len(), 1);
        assert_eq!(chosen[0].battery_call_sign, order.battery_call_sign);
        assert!((chosen[0].pk - order.pk).abs() < 1e-12);
        // Every battery is accounted for: considered, or out of reach with a reason.
        assert_eq!(order.alternatives.len() + order.out_of_reach.len(), 2);
        assert!(order.out_of_reach.iter().all(|o| !o.reason.is_empty()));
        // San Diego is 180 km from the predicted impact: its SM-6s cannot reach the path inside
        // their envelope in time (the engine's reason, with the footprint as a hint).
        assert_eq!(order.battery_call_sign, "BAT_LA");
        let sd = &order.out_of_reach[0];
        assert_eq!(sd.call_sign, "BAT_SD");
        assert!(
            sd.reason.starts_with(&Unused::TooLate.to_string())
                && sd.reason.contains("impact is 180 km away")
                && sd.reason.contains("within 132 km"),
            "{}",
            sd.reason
        );
        assert!(!order.interceptors.is_empty());
        let killer = rec
            .fly_outs
            .iter()
            .find(|f| f.end.as_ref().is_some_and(|e| e.kill))
            .unwrap();
        assert!(killer.order.is_some());
        // Recorded from the battery's site to the intercept point.
        let site = sim
            .defense()
            .battery(killer.battery)
            .unwrap()
            .battery
            .position;
        let first = killer.points[0];
        assert!((first.lat_deg - site.lat_deg).abs() < 1e-9);
        let end = killer.end.as_ref().unwrap();
        let last = killer.points.last().unwrap();
        assert!((last.lat_deg - end.at.lat_deg).abs() < 1e-9);
        assert!(killer.points.len() >= 3, "{:?}", killer.points);
        assert!(end.alt_m > 1_000.0 && end.alt_m < 40_000.0, "{end:?}");
        // Its kill marker is picked under the pointer once the kill is in the past.
        let view = Viewport::whole_world(1440.0, 720.0).centered_on(end.at, 200.0);
        let s = view.project(end.at);
        let near = ScreenPoint {
            x: s.x + 3.0,
            y: s.y + 3.0,
        };
        // A two-round salvo ends both rounds at about the same point: either may be picked,
        // and both belong to the killer's engagement.
        let picked = end_near(&rec, end.tick + 1, &view, near, 8.0).expect("an end marker");
        assert_eq!(rec.fly_out(picked).unwrap().order, killer.order);
        assert_eq!(end_near(&rec, end.tick, &view, near, 8.0), None);
        // The order is found from its log line.
        assert_eq!(
            rec.order_of_line(order.key.tick, &order.text)
                .map(|o| o.key),
            Some(order.key)
        );
        // A fork before the kill forgets the end and everything after.
        let mut forked = rec.clone();
        forked.truncate(end.tick);
        assert!(forked.fly_out(killer.interceptor).unwrap().end.is_none());
        forked.truncate(order.key.tick);
        assert!(forked.orders.is_empty() && forked.fly_outs.is_empty());

        // Speeds: none on the launcher, the state's while flying (at most one sample a second
        // of flight, so the record is bounded by the flight time), unknown at the end.
        assert_eq!(first.speed_m_s, Some(0.0));
        assert_eq!(last.speed_m_s, None);
        // (The first sample after the launch is the interceptor still on its launcher.)
        let flying = &killer.points[2..killer.points.len() - 1];
        assert_eq!(killer.points[1].speed_m_s, Some(0.0));
        assert!(flying.iter().all(|q| q.speed_m_s.is_some_and(|v| v > 0.0)));
        let flight_s = (end.tick - killer.launch_tick) as f64 * sim_core::engine::TICK_S;
        assert!(
            killer.points.len() as f64 <= flight_s + 3.0,
            "{}",
            killer.points.len()
        );

        // Selected for its plots: altitude and speed against time, no SNR (radars do not track
        // interceptors); a missile keeps its SNR.
        use crate::plots::{Selected, selection_series};
        let s = selection_series(&p, Selected::Interceptor(killer.interceptor));
        assert!(s.snr.is_none());
        assert_eq!(s.altitude.len(), killer.points.len());
        assert_eq!(s.speed.len(), killer.points.len() - 1);
        assert!((s.altitude.last().unwrap().1 - end.alt_m / 1000.0).abs() < 1e-9);
        assert!(s.speed.iter().any(|q| q.1 > 500.0), "{:?}", s.speed);
        assert!(s.altitude.windows(2).all(|w| w[0].0 < w[1].0));
        let target = p.sim().missiles()[0].id;
        assert!(
            selection_series(&p, Selected::Missile(target))
                .snr
                .is_some_and(|r| !r.is_empty())
        );

        // The fly-out line is a target: the middle of a drawn segment picks its interceptor
        // (or its salvo partner, which flies the same way for the same order)...
        let view = Viewport::whole_world(1440.0, 720.0).centered_on(site, 100.0);
        let k = killer.points.len() / 2;
        let (a, b) = (killer.points[k - 1], killer.points[k]);
        let mid = view.project(GeoPoint {
            lat_deg: (a.lat_deg + b.lat_deg) / 2.0,
            lon_deg: (a.lon_deg + b.lon_deg) / 2.0,
        });
        let tick = p.tick();
        let picked = flyout_near(&rec, tick, &view, mid, 3.0).expect("the fly-out line");
        assert_eq!(rec.fly_out(picked).unwrap().order, killer.order);
        let pick = |at| interceptor_pick(&rec, &sim, tick, &view, at, 10.0);
        assert_eq!(
            pick(mid).map(|i| rec.fly_out(i).unwrap().order),
            Some(killer.order)
        );
        // ... not before its launch, not far from it, and not at its battery, which a press
        // there must still reach.
        assert_eq!(flyout_near(&rec, killer.launch_tick, &view, mid, 3.0), None);
        let away = ScreenPoint {
            x: mid.x + 200.0,
            y: mid.y - 200.0,
        };
        assert_eq!(pick(away), None);
        let at_site = view.project(site);
        assert_eq!(pick(at_site), None);

        // Back while it flies: its state now ends the series, at the current tick.
        let middle = killer.points[k].tick + 3;
        p.seek(middle);
        let s = selection_series(&p, Selected::Interceptor(killer.interceptor));
        let now = interceptor_views(p.sim())
            .into_iter()
            .find(|v| v.id == killer.interceptor)
            .expect("in flight");
        assert_eq!(
            *s.altitude.last().unwrap(),
            (middle as f64 * sim_core::engine::TICK_S, now.alt_m / 1000.0)
        );
        assert_eq!(s.speed.last().unwrap().1, now.speed_m_s);
        assert_eq!(s.altitude.len(), killer.upto(middle).len() + 1);
    }

    #[test]
    fn segment_distance_is_to_the_nearest_point_of_the_segment() {
        let p = |x, y| ScreenPoint { x, y };
        let (a, b) = (p(0.0, 0.0), p(10.0, 0.0));
        assert_eq!(segment_distance_px(p(5.0, 3.0), a, b), 3.0);
        assert_eq!(segment_distance_px(p(-3.0, 4.0), a, b), 5.0);
        assert_eq!(segment_distance_px(p(13.0, 4.0), a, b), 5.0);
        assert_eq!(segment_distance_px(p(3.0, 4.0), a, a), 5.0);
    }
}
