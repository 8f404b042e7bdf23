//! The event log: one readable line per simulation event, with the place it happened (so a
//! click can centre the map on it), and the counters shown above the log.
//!
//! Every `sim_core::EventKind` is named in [`LogLine::from_event`] and in [`Tally::of`], with no
//! wildcard arm: a new event kind does not compile until it has its sentence and a decision on
//! which counter it feeds.

use serde_json::Value;
use sim_core::earth::GeoPoint;
use sim_core::engine::defense::{self, KillAssessment};
use sim_core::engine::{Event, EventKind};
use sim_core::tracking::TrackId;
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
                    "{} track {track} dropped ({}) after {lifetime_s:.0} s{}",
                    if *was_confirmed {
                        "confirmed"
                    } else {
                        "tentative"
                    },
                    json.get("reason")
                        .and_then(Value::as_str)
                        .map_or_else(|| format!("{reason:?}"), |r| r.replace('-', " ")),
                    threat_file_note(sim, *track, event.time_s),
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
            kind @ EventKind::EngagementOrdered {
                impact_at,
                missile_id,
                ..
            } => line(
                format!(
                    "{}{}",
                    crate::defense_view::order_text(kind).unwrap_or_default(),
                    track_state_note(sim, *missile_id, event.time_s),
                ),
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

/// A track without a plot for this long (s) is said to be coasting when it is engaged.
pub const COASTING_NOTE_S: f64 = 5.0;

/// Why a dropped track may still be engaged: command and control flies interceptors already
/// fired at it on its last estimate, and keeps its threat file (the last confirmed estimate and
/// impact prediction) until the predicted impact, so it may order an engagement later (see
/// `sim_core::engine::defense`). Empty when it holds nothing on the track, or nothing that
/// threatens a defended asset.
fn threat_file_note(sim: &Simulation, track: TrackId, time_s: f64) -> String {
    let d = sim.defense();
    let Ok(i) = d.engagements.binary_search_by_key(&track, |e| e.track) else {
        return String::new();
    };
    let file = &d.engagements[i];
    if file.killed {
        return String::new();
    }
    if let Some(since) = file.assessing_since_s {
        return format!("; under kill assessment since its intercept at T+{since:.0} s");
    }
    let flying = d.interceptors.iter().filter(|i| i.track == track).count();
    if flying > 0 {
        return format!(
            "; {flying} interceptor{} in flight at it fl{} on its last estimate",
            if flying == 1 { "" } else { "s" },
            if flying == 1 { "ies" } else { "y" },
        );
    }
    let Some(ip) = file.impact.filter(|ip| ip.time_s > time_s) else {
        return String::new();
    };
    let ell = sim.physics().earth.ellipsoid();
    match defense::asset_at(&d.assets, &ell, &ip.at) {
        Some((a, _)) if a.asset.value > 0.0 => format!(
            "; command and control keeps its threat file and may still engage it before its predicted impact on {} at T+{:.0} s",
            a.asset.name, ip.time_s
        ),
        _ => String::new(),
    }
}

/// How the engaged track stands when an engagement is ordered on it: dropped by the tracker
/// (the order is made on its threat file) or coasting (no plot for [`COASTING_NOTE_S`] or
/// more); empty for a track being updated.
fn track_state_note(sim: &Simulation, track: TrackId, time_s: f64) -> String {
    match sim.tracker().tracks().iter().find(|t| t.id == track) {
        None => {
            let last = sim
                .defense()
                .engagements
                .iter()
                .find(|e| e.track == track)
                .and_then(|e| e.last_plot_s)
                .map(|s| format!(", last plot at T+{s:.0} s"))
                .unwrap_or_default();
            format!(
                "; the track was dropped, so the order is made on its threat file (coasting on its last estimate{last})"
            )
        }
        Some(t) if time_s - t.last_update_s >= COASTING_NOTE_S => format!(
            "; the track is coasting: no plot for {:.0} s, engaged on its predicted path",
            time_s - t.last_update_s
        ),
        Some(_) => String::new(),
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
    /// Missiles killed (each once, however many interceptors were fired at it): no longer in
    /// flight, and never on the ground.
    pub killed: usize,
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
        let mut killed = std::collections::BTreeSet::new();
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
                Tally::Kill => {
                    c.kills += 1;
                    killed.extend(l.missile);
                }
                Tally::Miss => c.misses += 1,
                Tally::Leaker => c.leakers += 1,
                Tally::None => {}
            }
        }
        c.killed = killed.len();
        c
    }

    /// Mean correlation latency (first plot to confirmation) over the confirmed tracks (s).
    pub fn mean_latency_s(&self) -> Option<f64> {
        (self.confirmed > 0).then(|| self.latency_sum_s / self.confirmed as f64)
    }

    /// Missiles still flying: launched, neither on the ground nor killed.
    pub fn in_flight(&self) -> usize {
        self.launches.saturating_sub(self.impacts + self.killed)
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

    /// The log of a whole preset, as the player records it (first plots only, confirmed
    /// tracks' deletions only).
    fn preset_log(json: &str) -> crate::playback::Player {
        let mut player = crate::playback::Player::new(Simulation::from_scenario(
            &Scenario::from_json(json).expect("preset"),
        ));
        while player.tick() < 20_000 && !player.finished() {
            player.step();
        }
        player
    }

    #[test]
    fn a_killed_missile_is_not_in_flight_and_a_coasting_engaged_track_says_so() {
        let player = preset_log(include_str!("../../scenarios/socal-scud-c.json"));
        let lines = player.lines();
        let text = lines
            .iter()
            .map(|l| format!("{:>6.1} {}", l.time_s, l.text))
            .collect::<Vec<_>>()
            .join("\n");
        let c = Counters::of(lines, 0);
        assert_eq!(
            (c.launches, c.impacts, c.kills, c.killed),
            (1, 0, 1, 1),
            "{text}"
        );
        assert_eq!(c.in_flight(), 0, "{text}");
        // Mid-flight, before the kill, the missile is in flight.
        let kill = lines
            .iter()
            .position(|l| l.tally == Tally::Kill)
            .expect("kill");
        assert_eq!(Counters::of(&lines[..kill], 0).in_flight(), 1);
        // The radar looks away from the SCUD's descent: its track is dropped while coasting,
        // and both the drop and the later order say why it is still engaged.
        let dropped = lines
            .iter()
            .find(|l| l.kind == "track-deleted" && l.text.contains("coasting"))
            .unwrap_or_else(|| panic!("no coasting deletion in\n{text}"));
        assert!(
            dropped
                .text
                .contains("command and control keeps its threat file")
                || dropped.text.contains("in flight at it"),
            "{text}"
        );
        let order = lines
            .iter()
            .find(|l| l.kind == "engagement-ordered" && l.tick > dropped.tick)
            .unwrap_or_else(|| panic!("no order after the drop in\n{text}"));
        assert!(
            order
                .text
                .contains("the track was dropped, so the order is made on its threat file"),
            "{text}"
        );
        // The line still opens its explanation.
        assert!(
            player
                .defense()
                .order_of_line(order.tick, &order.text)
                .is_some()
        );
    }

    #[test]
    fn kills_count_each_missile_once() {
        let at = |kind: &str, tally, missile: Option<u32>| LogLine {
            tick: 0,
            time_s: 0.0,
            kind: kind.into(),
            text: String::new(),
            place: None,
            missile: missile.map(MissileId),
            value: None,
            tally,
        };
        let lines = [
            at("launch", Tally::Launch, Some(1)),
            at("launch", Tally::Launch, Some(2)),
            at("launch", Tally::Launch, Some(3)),
            at("intercept", Tally::Kill, Some(1)),
            at("intercept", Tally::Kill, Some(1)),
            at("intercept", Tally::Miss, Some(2)),
            at("impact", Tally::Impact, Some(3)),
        ];
        let c = Counters::of(&lines, 0);
        assert_eq!((c.kills, c.killed, c.misses, c.impacts), (2, 1, 1, 1));
        assert_eq!(c.in_flight(), 1);
    }
}
