//! The event log: one readable line per simulation event, with the place it happened (so a
//! click can centre the map on it), and the counters shown above the log.
//!
//! Every `sim_core::EventKind` is named in [`LogLine::from_event`] and in [`Tally::of`], with no
//! wildcard arm: a new event kind does not compile until it has its sentence and a decision on
//! which counter it feeds.

use serde_json::Value;
use sim_core::earth::GeoPoint;
use sim_core::engine::defense::KillAssessment;
use sim_core::engine::{Event, EventKind};
use sim_core::{MissileId, Simulation};

/// One line of the event log.
#[derive(Clone, Debug, PartialEq)]
pub struct LogLine {
    /// Tick during which the event happened.
    pub tick: u64,
    /// Simulation time of the event (s).
    pub time_s: f64,
    /// The event's serde `type` (`launch`, `impact`, ...).
    pub kind: String,
    /// One readable sentence.
    pub text: String,
    /// Where it happened, when it has a place.
    pub place: Option<GeoPoint>,
    /// The missile concerned, if any.
    pub missile: Option<MissileId>,
    /// A figure the counters add up: the correlation latency of a confirmed track (s); for an
    /// intercept, 1 for a kill and 0 for a miss.
    pub value: Option<f64>,
    /// The counter it feeds.
    pub tally: Tally,
}

/// Which of the [`Counters`] an event feeds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tally {
    /// None: the event is logged, not counted.
    None,
    /// A missile launched.
    Launch,
    /// A launch command refused.
    LaunchRejected,
    /// A missile on the ground.
    Impact,
    /// A track confirmed (with its latency as the line's value).
    TrackConfirmed,
    /// A track dropped.
    TrackDeleted,
    /// An engagement ordered.
    Engagement,
    /// An interceptor launched.
    BatteryFire,
    /// An interceptor killed its target.
    Kill,
    /// An interceptor ended without a kill.
    Miss,
    /// A leaker hit a defended asset.
    Leaker,
}

impl Tally {
    /// The counter `kind` feeds.
    pub fn of(kind: &EventKind) -> Tally {
        match kind {
            EventKind::Launch { .. } => Tally::Launch,
            EventKind::LaunchRejected { .. } => Tally::LaunchRejected,
            EventKind::Impact { .. } => Tally::Impact,
            EventKind::TrackConfirmed { .. } => Tally::TrackConfirmed,
            EventKind::TrackDeleted { .. } => Tally::TrackDeleted,
            EventKind::EngagementOrdered { .. } => Tally::Engagement,
            EventKind::InterceptorLaunched { .. } => Tally::BatteryFire,
            EventKind::Intercept { kill: true, .. } => Tally::Kill,
            EventKind::Intercept { kill: false, .. } => Tally::Miss,
            EventKind::AssetHit { .. } => Tally::Leaker,
            EventKind::StageBurnout { .. }
            | EventKind::Burnout { .. }
            | EventKind::Apogee { .. }
            | EventKind::Detection { .. }
            | EventKind::Rejected { .. }
            | EventKind::RadarPlaced { .. }
            | EventKind::RadarMoved { .. }
            | EventKind::RadarRemoved { .. }
            | EventKind::BatteryPlaced { .. }
            | EventKind::BatteryRemoved { .. }
            | EventKind::AssetPlaced { .. }
            | EventKind::AssetRemoved { .. }
            | EventKind::DoctrineSet { .. }
            | EventKind::KillAssessment { .. } => Tally::None,
        }
    }
}

impl LogLine {
    /// Describes `event`; `sim` is the state right after the event's tick, used to place
    /// events that carry no position of their own (a stage burnout: where its missile is).
    pub fn from_event(event: &Event, sim: &Simulation) -> LogLine {
        let json = serde_json::to_value(&event.kind).unwrap_or(Value::Null);
        let kind = json
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("event")
            .to_string();
        let where_is = |id: MissileId| {
            sim.missile_view(id)
                .map(|v| GeoPoint::new(v.lat_deg, v.lon_deg))
        };
        let line = |text: String, place: Option<GeoPoint>, missile: Option<MissileId>| LogLine {
            tick: event.tick,
            time_s: event.time_s,
            kind: kind.clone(),
            text,
            place,
            missile,
            value: None,
            tally: Tally::of(&event.kind),
        };
        match &event.kind {
            EventKind::Launch {
                missile,
                missile_type,
                label,
                from,
                to,
                profile,
                predicted,
                ..
            } => line(
                format!(
                    "{missile_type} #{} launched{} ({}): {} km to the target, apogee {} km, flight {:.0} s",
                    missile.0,
                    label
                        .as_ref()
                        .map(|l| format!(" \u{201c}{l}\u{201d}"))
                        .unwrap_or_default(),
                    profile.name(),
                    km(sim_core::earth::frames::great_circle_distance_m(
                        from,
                        to,
                        sim.physics().earth.range_radius_m()
                    )),
                    km(predicted.apogee_alt_m),
                    predicted.flight_time_s,
                ),
                Some(*from),
                Some(*missile),
            ),
            EventKind::LaunchRejected {
                missile_type,
                from,
                reason,
                ..
            } => line(
                format!("{missile_type} launch refused: {reason}"),
                Some(*from),
                None,
            ),
            EventKind::StageBurnout {
                missile,
                stage,
                alt_m,
                speed_m_s,
            } => line(
                format!(
                    "#{} stage {} burnout at {} km, {speed_m_s:.0} m/s",
                    missile.0,
                    stage + 1,
                    km(*alt_m)
                ),
                where_is(*missile),
                Some(*missile),
            ),
            EventKind::Burnout {
                missile,
                alt_m,
                speed_m_s,
                flight_path_angle_deg,
                at,
            } => line(
                format!(
                    "#{} burnout at {} km, {speed_m_s:.0} m/s, {flight_path_angle_deg:.1}\u{b0} above the horizon",
                    missile.0,
                    km(*alt_m)
                ),
                Some(*at),
                Some(*missile),
            ),
            EventKind::Apogee { missile, alt_m, at } => line(
                format!("#{} apogee {} km", missile.0, km(*alt_m)),
                Some(*at),
                Some(*missile),
            ),
            EventKind::Impact {
                missile,
                at,
                miss_m,
                flight_time_s,
                speed_m_s,
            } => line(
                format!(
                    "#{} impact {miss_m:.0} m from the aim point after {flight_time_s:.0} s, {speed_m_s:.0} m/s",
                    missile.0
                ),
                Some(*at),
                Some(*missile),
            ),
            EventKind::Detection {
                radar_id,
                truth,
                missile_id,
                snr,
                lat,
                lon,
                alt_m,
                ..
            } => line(
                format!(
                    "{radar_id} first detection of {}: SNR {snr:.1} dB, {} km high{}",
                    truth.map_or_else(|| "a false alarm".to_string(), |m| format!("#{}", m.0)),
                    km(*alt_m),
                    missile_id
                        .map(|t| format!(", track {t}"))
                        .unwrap_or_default(),
                ),
                Some(GeoPoint::new(*lat, *lon)),
                *truth,
            ),
            EventKind::TrackConfirmed {
                track,
                latency_s,
                radars,
                at,
                alt_m,
                ..
            } => {
                let mut l = line(
                    format!(
                        "track {track} confirmed {latency_s:.1} s after its first plot ({} radar{}){}",
                        radars.len(),
                        if radars.len() == 1 { "" } else { "s" },
                        alt_m
                            .map(|a| format!(", {} km high", km(a)))
                            .unwrap_or_default(),
                    ),
                    *at,
                    None,
                );
                l.value = latency_s.is_finite().then_some(*latency_s);
                l
            }
            EventKind::TrackDeleted {
                track,
                reason,
                was_confirmed,
                lifetime_s,
            } => line(
                format!(
                    "{} track {track} dropped ({}) after {lifetime_s:.0} s",
                    if *was_confirmed {
                        "confirmed"
                    } else {
                        "tentative"
                    },
                    json.get("reason")
                        .and_then(Value::as_str)
                        .map_or_else(|| format!("{reason:?}"), |r| r.replace('-', " ")),
                ),
                None,
                None,
            ),
            EventKind::RadarPlaced {
                radar,
                call_sign,
                kind,
                position,
            } => line(
                format!("radar {call_sign} ({}, {radar}) placed", kind.name()),
                Some(*position),
                None,
            ),
            EventKind::RadarMoved {
                radar,
                position,
                boresight_az_deg,
            } => line(
                format!("radar {radar} moved, boresight {boresight_az_deg:.0}\u{b0}"),
                Some(*position),
                None,
            ),
            EventKind::RadarRemoved { radar } => line(format!("radar {radar} removed"), None, None),
            EventKind::Rejected { command, reason } => {
                line(format!("{command} refused: {reason}"), None, None)
            }
            EventKind::BatteryPlaced {
                battery,
                call_sign,
                kind,
                position,
                rounds,
            } => line(
                format!("battery {call_sign} ({kind}, {battery}) placed with {rounds} rounds"),
                Some(*position),
                None,
            ),
            EventKind::BatteryRemoved { battery } => {
                line(format!("battery {battery} removed"), None, None)
            }
            EventKind::AssetPlaced {
                asset,
                name,
                position,
                value,
                radius_m,
            } => line(
                format!(
                    "defended asset {name} ({asset}) placed: value {value}, radius {} km",
                    km(*radius_m)
                ),
                Some(*position),
                None,
            ),
            EventKind::AssetRemoved { asset } => {
                line(format!("defended asset {asset} removed"), None, None)
            }
            EventKind::DoctrineSet { doctrine } => line(
                format!(
                    "doctrine: {} of {}, minimum Pk {:.2}, {} rounds in reserve",
                    crate::defense_view::mode_name(doctrine.mode),
                    doctrine.salvo_size,
                    doctrine.min_pk,
                    doctrine.reserve_rounds
                ),
                None,
                None,
            ),
            kind @ EventKind::EngagementOrdered { impact_at, .. } => line(
                crate::defense_view::order_text(kind).unwrap_or_default(),
                Some(*impact_at),
                None,
            ),
            EventKind::InterceptorLaunched {
                interceptor,
                battery,
                battery_call_sign,
                kind,
                missile_id,
                rounds_left,
            } => line(
                format!(
                    "{battery_call_sign} fired {kind} {interceptor} at track {missile_id} ({rounds_left} rounds left)"
                ),
                sim.defense().battery(*battery).map(|b| b.battery.position),
                None,
            ),
            EventKind::Intercept {
                interceptor,
                battery_call_sign,
                missile_id,
                target,
                kill,
                miss_m,
                pk,
                alt_m,
                at,
                ..
            } => {
                let whom =
                    target.map_or_else(|| format!("track {missile_id}"), |m| format!("#{}", m.0));
                let how = json
                    .get("outcome")
                    .and_then(Value::as_str)
                    .unwrap_or("miss")
                    .replace('-', " ");
                let mut l = line(
                    if *kill {
                        format!(
                            "{interceptor} ({battery_call_sign}) killed {whom} at {} km: miss distance {miss_m:.1} m, Pk {pk:.2}",
                            km(*alt_m)
                        )
                    } else {
                        format!(
                            "{interceptor} ({battery_call_sign}) missed {whom} at {} km ({how}): miss distance {miss_m:.0} m",
                            km(*alt_m)
                        )
                    },
                    Some(*at),
                    *target,
                );
                l.value = Some(if *kill { 1.0 } else { 0.0 });
                l
            }
            EventKind::AssetHit {
                missile,
                name,
                distance_m,
                ..
            } => line(
                format!(
                    "leaker #{} hit {name}, {} km from its centre",
                    missile.0,
                    km(*distance_m)
                ),
                where_is(*missile),
                Some(*missile),
            ),
            EventKind::KillAssessment {
                missile_id,
                intercept_s,
                assessment,
            } => line(
                format!(
                    "kill assessment of track {missile_id} (intercept at {intercept_s:.0} s): {}",
                    match assessment {
                        KillAssessment::Killed => "killed",
                        KillAssessment::Survivor => "survived, may be engaged again",
                        KillAssessment::Unassessed =>
                            "not seen by any sensor, treated as a survivor",
                    }
                ),
                None,
                None,
            ),
        }
    }
}

/// Kilometres with one decimal below 100 km, none above.
fn km(m: f64) -> String {
    let k = m / 1000.0;
    if k.abs() < 100.0 {
        format!("{k:.1}")
    } else {
        format!("{k:.0}")
    }
}

/// The counters shown above the log.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Counters {
    /// Missiles launched.
    pub launches: usize,
    /// Launch commands refused.
    pub rejected: usize,
    /// Missiles on the ground.
    pub impacts: usize,
    /// Radar plots (every one, not only the first per radar and missile logged).
    pub detections: u64,
    /// Tracks confirmed.
    pub confirmed: usize,
    /// Sum of the confirmation latencies (s), for their mean.
    pub latency_sum_s: f64,
    /// Tracks dropped (the log holds only confirmed ones' deletions).
    pub deleted: usize,
    /// Engagements ordered by command and control (the old "intercepts ordered").
    pub engagements: usize,
    /// Interceptors launched (the old "battery fires").
    pub battery_fires: usize,
    /// Interceptors that killed their target (the old "successful intercepts").
    pub kills: usize,
    /// Interceptors that ended without a kill.
    pub misses: usize,
    /// Missiles that hit a defended asset.
    pub leakers: usize,
}

impl Counters {
    /// Counts the lines of a log; `detections` is the number of radar plots over the same
    /// time (the log holds only the first per radar and missile).
    pub fn of(lines: &[LogLine], detections: u64) -> Counters {
        let mut c = Counters {
            detections,
            ..Counters::default()
        };
        for l in lines {
            match l.tally {
                Tally::Launch => c.launches += 1,
                Tally::LaunchRejected => c.rejected += 1,
                Tally::Impact => c.impacts += 1,
                Tally::TrackConfirmed => {
                    c.confirmed += 1;
                    c.latency_sum_s += l.value.unwrap_or(0.0);
                }
                Tally::TrackDeleted => c.deleted += 1,
                Tally::Engagement => c.engagements += 1,
                Tally::BatteryFire => c.battery_fires += 1,
                Tally::Kill => c.kills += 1,
                Tally::Miss => c.misses += 1,
                Tally::Leaker => c.leakers += 1,
                Tally::None => {}
            }
        }
        c
    }

    /// Mean correlation latency (first plot to confirmation) over the confirmed tracks (s).
    pub fn mean_latency_s(&self) -> Option<f64> {
        (self.confirmed > 0).then(|| self.latency_sum_s / self.confirmed as f64)
    }

    /// Missiles still flying.
    pub fn in_flight(&self) -> usize {
        self.launches.saturating_sub(self.impacts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::engine::Scenario;

    #[test]
    fn a_flight_logs_launch_burnout_apogee_impact_with_places() {
        let salvo = include_str!("../../scenarios/socal-salvo.json");
        let mut sim = Simulation::from_scenario(&Scenario::from_json(salvo).expect("preset"));
        let mut lines = Vec::new();
        while lines.len() < 200 && sim.tick() < 10_000 && !sim.is_idle() {
            for e in sim.step(&[]) {
                lines.push(LogLine::from_event(&e, &sim));
            }
        }
        let kinds: Vec<&str> = lines.iter().map(|l| l.kind.as_str()).collect();
        for k in [
            "launch",
            "stage-burnout",
            "burnout",
            "apogee",
            "impact",
            "launch-rejected",
        ] {
            assert!(kinds.contains(&k), "no {k} in {kinds:?}");
        }
        assert!(lines.iter().all(|l| l.place.is_some()), "{lines:#?}");
        let refused = lines
            .iter()
            .find(|l| l.kind == "launch-rejected")
            .expect("refused");
        assert!(
            refused
                .text
                .contains("beyond the SCUD-C maximum range of 527 km"),
            "{}",
            refused.text
        );
        let c = Counters::of(&lines, 0);
        assert_eq!((c.launches, c.rejected, c.impacts), (3, 1, 3));
        assert_eq!(c.in_flight(), 0);
    }
}
