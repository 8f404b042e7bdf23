//! The [`Simulation`]: state, the `step` transition, snapshots and the state hash.
//!
//! Invariants: see the module documentation of [`crate::engine`]. In short: `step` is the only
//! mutation, entity `Vec`s stay sorted by id, and the state is plain serde data.

use std::collections::{BTreeMap, VecDeque};

use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;
use serde::{Deserialize, Serialize};

use crate::earth::GeoPoint;
use crate::earth::Length;
use crate::engagement::wta::Doctrine;
use crate::engine::defense::{self, C2_PERIOD_TICKS, DefenseState};
use crate::engine::sensing::{self, MAX_RADARS, Radar, RadarPlacement};
use crate::engine::state_hash::hash_of;
use crate::engine::{Command, Event, EventKind, LaunchCommand, MissileId, Scenario, TICK_S};
use crate::flight::{Flight, FlightEvent, FlightSummary, Phase, PhysicsParams};
use crate::missile::MissileKind;
use crate::radar::RadarId;
use crate::targeting::{self, Profile, TargetingError, TargetingRequest};
use crate::tracking::{TrackEvent, Tracker, TrackerParams};

/// Version of the [`SimState`] layout inside snapshots.
pub const STATE_FORMAT_VERSION: u32 = 2;

/// A missile in flight (or on the ground after impact).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Missile {
    /// Its id.
    pub id: MissileId,
    /// Free text from the launch command.
    pub label: Option<String>,
    /// Tick of launch.
    pub launch_tick: u64,
    /// Aim point.
    pub target: GeoPoint,
    /// Trajectory shape.
    pub profile: Profile,
    /// The solved flight, as predicted at launch.
    pub predicted: FlightSummary,
    /// The flight itself.
    pub flight: Flight,
    /// Simulation time at which an interceptor killed it (s); a killed missile no longer
    /// moves, is no longer seen by radars and never impacts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub killed_at: Option<f64>,
}

/// What a display needs of one missile, read cheaply every frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MissileView {
    /// Id.
    pub id: MissileId,
    /// Class.
    pub missile_type: MissileKind,
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
    /// Time since launch (s).
    pub flight_time_s: f64,
    /// Whether an interceptor killed it.
    pub killed: bool,
}

/// A command scheduled for a future tick (from a scenario).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScheduledCommand {
    /// Tick at whose start it applies.
    pub tick: u64,
    /// The command.
    pub command: Command,
}

/// The complete state of a simulation: everything `step` reads or writes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimState {
    /// Layout version, [`STATE_FORMAT_VERSION`].
    pub format_version: u32,
    /// The next tick to run.
    pub tick: u64,
    /// Physics switches.
    pub physics: PhysicsParams,
    /// The seed the generator started from.
    pub seed: u64,
    /// The only source of randomness (ChaCha8, portable and serialisable).
    pub rng: ChaCha8Rng,
    /// Next missile id to allocate.
    pub next_missile_id: u32,
    /// Missiles, sorted by id.
    pub missiles: Vec<Missile>,
    /// Scheduled commands, sorted by tick (stable).
    pub scheduled: Vec<ScheduledCommand>,
    /// Sensor switches.
    pub sensing: SensingParams,
    /// Next radar id to allocate.
    pub next_radar_id: u32,
    /// Radars, sorted by id.
    pub radars: Vec<Radar>,
    /// The command center's tracker, fed by every radar.
    pub tracker: Tracker,
    /// Batteries, assets, doctrine, interceptors in flight; left out of the encoding (and the
    /// state hash) while empty.
    #[serde(default, skip_serializing_if = "DefenseState::is_empty")]
    pub defense: DefenseState,
}

/// Switches of the sensing chain, set by the scenario.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SensingParams {
    /// Whether radars produce false alarms at their catalog rate.
    #[serde(default = "yes")]
    pub false_alarms: bool,
}

fn yes() -> bool {
    true
}

impl Default for SensingParams {
    fn default() -> Self {
        Self { false_alarms: true }
    }
}

/// A snapshot is the full state, as a value.
pub type Snapshot = SimState;

/// The simulation.
#[derive(Debug, Clone)]
pub struct Simulation {
    state: SimState,
    /// Launch solutions already computed; not part of the state (see [`LaunchMemo`]).
    memo: LaunchMemo,
}

/// Two simulations are equal when their states are: the memo is a cache.
impl PartialEq for Simulation {
    fn eq(&self, other: &Self) -> bool {
        self.state == other.state
    }
}

/// Most launch solutions kept by [`LaunchMemo`].
const LAUNCH_MEMO_CAPACITY: usize = 16;
/// Most flown launches handed over by [`Simulation::remember_launch`] and not applied yet (the
/// oldest are forgotten first; a forgotten one is flown again when applied).
const KNOWN_LAUNCHES_CAPACITY: usize = 8192;

/// The last few launch solutions, by the exact bits of their inputs.
///
/// Solving a launch (`targeting::solve`) or checking pre-solved guidance
/// (`targeting::fly_guidance`, one complete flight) is a pure function of the request, the
/// guidance and the physics, and a flight does not depend on its launch time (see
/// [`crate::flight`]), so a salvo of identical rounds needs it once: later rounds reuse the
/// result, bit for bit what they would have computed. Keys compare bit patterns (so -0.0 and
/// 0.0, or two NaNs, are different inputs); rejections are remembered too. Not part of the
/// state: a restored snapshot starts with an empty memo and computes the same results.
/// Launches flown elsewhere ([`targeting::Flown`], handed over by
/// [`Simulation::remember_launch`]) wait in `known` until applied: only sim-core makes a
/// `Flown`, by the same flight, so using one changes nothing but the work.
#[derive(Debug, Clone, Default)]
struct LaunchMemo {
    entries: Vec<(
        LaunchKey,
        Result<targeting::Solution, targeting::TargetingError>,
    )>,
    /// Flown launches handed over, by key, and their keys oldest first.
    known: BTreeMap<LaunchKey, targeting::Solution>,
    known_order: VecDeque<LaunchKey>,
}

type LaunchKey = targeting::RequestKey;

impl LaunchMemo {
    fn key(req: &TargetingRequest, guidance: Option<&crate::flight::Guidance>) -> LaunchKey {
        targeting::request_key(req, guidance)
    }

    /// The solution for a launch, from the memo or computed (and remembered).
    fn solve(
        &mut self,
        req: &TargetingRequest,
        guidance: Option<&crate::flight::Guidance>,
        physics: &PhysicsParams,
    ) -> Result<targeting::Solution, targeting::TargetingError> {
        let key = Self::key(req, guidance);
        if let Some((_, result)) = self.entries.iter().find(|(k, _)| *k == key) {
            return result.clone();
        }
        let result = match (self.known.remove(&key), guidance) {
            (Some(flown), _) => Ok(flown),
            (None, Some(g)) => targeting::fly_guidance(req, g, physics),
            (None, None) => targeting::solve(req, physics),
        };
        if self.entries.len() == LAUNCH_MEMO_CAPACITY {
            drop(self.entries.remove(0));
        }
        self.entries.push((key, result.clone()));
        result
    }

    /// Keeps a launch flown elsewhere until it is applied (see [`Simulation::remember_launch`]).
    fn remember(&mut self, flown: targeting::Flown, physics: &PhysicsParams) {
        if flown.physics() != physics || self.known.contains_key(flown.key()) {
            return;
        }
        // bounded: every pass removes one entry.
        while self.known_order.len() >= KNOWN_LAUNCHES_CAPACITY {
            if let Some(old) = self.known_order.pop_front() {
                self.known.remove(&old);
            }
        }
        self.known_order.push_back(*flown.key());
        self.known.insert(*flown.key(), *flown.solution());
    }
}

impl Simulation {
    /// An empty simulation at tick 0.
    pub fn new(physics: PhysicsParams, seed: u64) -> Self {
        Self {
            state: SimState {
                format_version: STATE_FORMAT_VERSION,
                tick: 0,
                physics,
                seed,
                rng: ChaCha8Rng::seed_from_u64(seed),
                next_missile_id: 1,
                missiles: Vec::new(),
                scheduled: Vec::new(),
                sensing: SensingParams::default(),
                next_radar_id: 1,
                radars: Vec::new(),
                tracker: Tracker::new(TrackerParams::default()),
                defense: DefenseState::default(),
            },
            memo: LaunchMemo::default(),
        }
    }

    /// A simulation at tick 0 with the scenario's launches scheduled (the scenario must be
    /// valid: see [`Scenario::from_json`]).
    pub fn from_scenario(scenario: &Scenario) -> Self {
        let mut sim = Self::new(scenario.physics, scenario.seed);
        sim.state.sensing = scenario.sensing;
        sim.state.tracker = Tracker::new(scenario.tracker);
        for r in &scenario.radars {
            // Validated with the scenario, so placement cannot fail here; a failure would
            // surface as a `rejected` event rather than a panic.
            let mut ignored = Vec::new();
            sim.place_radar(r, 0, 0.0, &mut ignored);
        }
        // The defence is set up by the same commands a user would give, in file order.
        let mut ignored = Vec::new();
        let setup = (scenario.doctrine != Doctrine::default())
            .then_some(Command::SetDoctrine(scenario.doctrine))
            .into_iter()
            .chain(scenario.assets.iter().cloned().map(Command::PlaceAsset))
            .chain(
                scenario
                    .batteries
                    .iter()
                    .cloned()
                    .map(Command::PlaceBattery),
            );
        for command in setup {
            defense::apply(&mut sim.state.defense, &command, 0, 0.0, &mut ignored);
        }
        for l in &scenario.launches {
            let tick = libm::round(l.time_s / TICK_S) as u64;
            sim.state.scheduled.push(ScheduledCommand {
                tick,
                command: Command::Launch(LaunchCommand {
                    missile: l.missile,
                    from: l.from,
                    to: l.to,
                    profile: l.profile,
                    label: l.label.clone(),
                    guidance: None,
                }),
            });
        }
        // A stable sort keeps the file order of launches on the same tick.
        sim.state.scheduled.sort_by_key(|c| c.tick);
        sim
    }

    /// Restores a snapshot.
    pub fn restore(snapshot: Snapshot) -> Self {
        Self {
            state: snapshot,
            memo: LaunchMemo::default(),
        }
    }

    /// Hands over a launch already flown elsewhere ([`targeting::Flown`], for example by a
    /// relay that checked the launch before ordering it): when a launch command with the same
    /// request and guidance is applied, it takes this result instead of flying the guidance
    /// again ([`targeting::fly_guidance`]). Ignored when flown with other physics than this
    /// simulation's. Changes nothing the simulation computes, only the work: a `Flown` is made
    /// only by sim-core, by that very flight. At most 8,192 wait to be applied; the oldest are
    /// forgotten first (and flown when applied).
    pub fn remember_launch(&mut self, flown: targeting::Flown) {
        self.memo.remember(flown, &self.state.physics);
    }

    /// The full state as a value (clone it, serialise it, send it).
    pub fn snapshot(&self) -> Snapshot {
        self.state.clone()
    }

    /// Read-only access to the state.
    pub fn state(&self) -> &SimState {
        &self.state
    }

    /// The next tick to run (ticks run so far).
    pub fn tick(&self) -> u64 {
        self.state.tick
    }

    /// Simulation time at the start of the next tick (s).
    pub fn time_s(&self) -> f64 {
        self.state.tick as f64 * TICK_S
    }

    /// Physics switches.
    pub fn physics(&self) -> &PhysicsParams {
        &self.state.physics
    }

    /// The stable state hash: FNV-1a over the canonical encoding of the whole state.
    pub fn state_hash(&self) -> u64 {
        hash_of(&self.state)
    }

    /// Whether nothing is left to happen: no scheduled command, every missile down or
    /// killed, no interceptor in flight.
    pub fn is_idle(&self) -> bool {
        self.state.scheduled.is_empty()
            && self.state.defense.interceptors.is_empty()
            && self
                .state
                .missiles
                .iter()
                .all(|m| m.flight.phase == Phase::Impacted || m.killed_at.is_some())
    }

    /// The defence: batteries, assets, doctrine, interceptors in flight.
    pub fn defense(&self) -> &DefenseState {
        &self.state.defense
    }

    /// Every missile, in id order.
    pub fn missiles(&self) -> &[Missile] {
        &self.state.missiles
    }

    /// The display view of every missile, in id order.
    pub fn missile_views(&self) -> impl Iterator<Item = MissileView> + '_ {
        self.state.missiles.iter().map(|m| self.view_of(m))
    }

    /// The display view of one missile.
    pub fn missile_view(&self, id: MissileId) -> Option<MissileView> {
        let i = self
            .state
            .missiles
            .binary_search_by_key(&id, |m| m.id)
            .ok()?;
        Some(self.view_of(&self.state.missiles[i]))
    }

    fn view_of(&self, m: &Missile) -> MissileView {
        let s = m.flight.sample(&self.state.physics);
        MissileView {
            id: m.id,
            missile_type: m.flight.kind,
            lat_deg: s.lat_deg,
            lon_deg: s.lon_deg,
            alt_m: s.alt_m,
            speed_m_s: s.speed_m_s,
            phase: s.phase,
            flight_time_s: s.time_s,
            killed: m.killed_at.is_some(),
        }
    }

    /// Runs one tick: applies the tick's scheduled commands, then `commands`, then advances
    /// every missile by [`TICK_S`]; returns the tick's events in order.
    pub fn step(&mut self, commands: &[Command]) -> Vec<Event> {
        let tick = self.state.tick;
        let t0 = self.time_s();
        let mut events = Vec::new();
        let due = self
            .state
            .scheduled
            .iter()
            .take_while(|c| c.tick <= tick)
            .count();
        let scheduled: Vec<ScheduledCommand> = self.state.scheduled.drain(..due).collect();
        for c in scheduled.iter().map(|s| &s.command).chain(commands) {
            self.apply(c, tick, t0, &mut events);
        }
        let physics = self.state.physics;
        let truth0 = defense::truth_at_tick_start(&self.state);
        let mut flight_events = Vec::new();
        for m in &mut self.state.missiles {
            if m.flight.phase == Phase::Impacted || m.killed_at.is_some() {
                continue;
            }
            let launch_time_s = m.launch_tick as f64 * TICK_S;
            m.flight.advance(TICK_S, &physics, &mut flight_events);
            for fe in flight_events.drain(..) {
                let e = Self::convert(m, launch_time_s, tick, &physics, fe);
                let hit = match &e.kind {
                    EventKind::Impact { at, .. } => defense::asset_at(
                        &self.state.defense.assets,
                        &physics.earth.ellipsoid(),
                        at,
                    )
                    .map(|(a, d)| Event {
                        tick,
                        time_s: e.time_s,
                        kind: EventKind::AssetHit {
                            missile: m.id,
                            asset: a.id,
                            name: a.asset.name.clone(),
                            distance_m: d,
                        },
                    }),
                    _ => None,
                };
                events.push(e);
                events.extend(hit);
            }
        }
        defense::fly_interceptors(&mut self.state, tick, t0, &truth0, &mut events);
        self.sense(tick, t0 + TICK_S, &mut events);
        if (tick + 1).is_multiple_of(C2_PERIOD_TICKS) {
            defense::command_and_control(&mut self.state, tick, t0 + TICK_S, &mut events);
        }
        self.state.tick += 1;
        events
    }

    /// The radar scans due at the end of this tick (at `t1_s`), in radar id order, each handed
    /// to the tracker as one scan; then the tracker's housekeeping at `t1_s`.
    fn sense(&mut self, tick: u64, t1_s: f64, events: &mut Vec<Event>) {
        if self.state.radars.is_empty() && self.state.tracker.tracks().is_empty() {
            return;
        }
        let physics = self.state.physics;
        // The targets' views, taken at the first scan of the tick (most ticks have none).
        let mut targets = None;
        let false_alarms = self.state.sensing.false_alarms;
        let mut track_events = Vec::new();
        for radar in &mut self.state.radars {
            if !sensing::scan_due(radar, t1_s) {
                continue;
            }
            let targets = targets.get_or_insert_with(|| {
                sensing::radar_targets(self.state.missiles.iter(), &physics)
            });
            let plots = sensing::scan(
                &radar.site,
                &physics,
                targets,
                false_alarms,
                &mut self.state.rng,
            );
            let detections: Vec<_> = plots.iter().map(|p| p.detection).collect();
            let tracks = self.state.tracker.process_scan(
                &physics,
                &radar.site,
                t1_s,
                &detections,
                &mut track_events,
            );
            for (p, track) in plots.iter().zip(tracks) {
                let d = &p.detection;
                events.push(Event {
                    tick,
                    time_s: t1_s,
                    kind: EventKind::Detection {
                        radar: radar.site.id,
                        radar_id: radar.site.call_sign.clone(),
                        missile_id: track,
                        truth: p.truth,
                        snr: d.snr_db,
                        lat: d.lat_deg,
                        lon: d.lon_deg,
                        alt_m: d.alt_m,
                        range_m: d.range_m,
                        azimuth_deg: d.azimuth_rad.to_degrees(),
                        elevation_deg: d.elevation_rad.to_degrees(),
                    },
                });
            }
            Self::track_events(
                &self.state.tracker,
                &physics,
                tick,
                &mut track_events,
                events,
            );
        }
        self.state
            .tracker
            .maintain(&physics, t1_s, &mut track_events);
        Self::track_events(
            &self.state.tracker,
            &physics,
            tick,
            &mut track_events,
            events,
        );
    }

    /// The tracker's confirmations and deletions as engine events (initiations, one per
    /// unexplained plot, are not reported: they are the tracker's business).
    fn track_events(
        tracker: &Tracker,
        physics: &PhysicsParams,
        tick: u64,
        from: &mut Vec<TrackEvent>,
        events: &mut Vec<Event>,
    ) {
        for te in from.drain(..) {
            match te {
                TrackEvent::Initiated { .. } => {}
                TrackEvent::Confirmed {
                    track,
                    time_s,
                    first_detection_s,
                    latency_s,
                    radars,
                } => {
                    let at = tracker
                        .track(track)
                        .map(|t| physics.earth.ellipsoid().ecef_to_geodetic(&t.position_m));
                    events.push(Event {
                        tick,
                        time_s,
                        kind: EventKind::TrackConfirmed {
                            track,
                            first_detection_s,
                            latency_s,
                            radars,
                            at: at.map(|g| g.to_point()),
                            alt_m: at.map(|g| g.alt_m),
                        },
                    });
                }
                TrackEvent::Deleted {
                    track,
                    time_s,
                    reason,
                    was_confirmed,
                    lifetime_s,
                } => events.push(Event {
                    tick,
                    time_s,
                    kind: EventKind::TrackDeleted {
                        track,
                        reason,
                        was_confirmed,
                        lifetime_s,
                    },
                }),
            }
        }
    }

    /// The tracker (its tracks, in id order, with estimates, covariances and impact
    /// predictions).
    pub fn tracker(&self) -> &Tracker {
        &self.state.tracker
    }

    /// Every radar, in id order.
    pub fn radars(&self) -> &[Radar] {
        &self.state.radars
    }

    fn place_radar(&mut self, p: &RadarPlacement, tick: u64, t0: f64, events: &mut Vec<Event>) {
        let id = RadarId(self.state.next_radar_id);
        let site = if self.state.radars.len() >= MAX_RADARS {
            Err(format!("a simulation holds at most {MAX_RADARS} radars"))
        } else {
            p.to_site(id)
        };
        match site {
            Ok(site) => {
                self.state.next_radar_id += 1;
                events.push(Event {
                    tick,
                    time_s: t0,
                    kind: EventKind::RadarPlaced {
                        radar: id,
                        call_sign: site.call_sign.clone(),
                        kind: site.kind,
                        position: site.position,
                    },
                });
                self.state.radars.push(Radar {
                    site,
                    next_scan_s: t0 + TICK_S,
                    scans: 0,
                });
            }
            Err(reason) => events.push(Event {
                tick,
                time_s: t0,
                kind: EventKind::Rejected {
                    command: "place-radar".into(),
                    reason,
                },
            }),
        }
    }

    fn radar_index(&self, id: RadarId) -> Option<usize> {
        self.state
            .radars
            .binary_search_by_key(&id, |r| r.site.id)
            .ok()
    }

    fn apply(&mut self, command: &Command, tick: u64, t0: f64, events: &mut Vec<Event>) {
        let reject = |events: &mut Vec<Event>, command: &str, reason: String| {
            events.push(Event {
                tick,
                time_s: t0,
                kind: EventKind::Rejected {
                    command: command.into(),
                    reason,
                },
            })
        };
        let launch_rejected = |events: &mut Vec<Event>, l: &LaunchCommand, e: TargetingError| {
            events.push(Event {
                tick,
                time_s: t0,
                kind: EventKind::LaunchRejected {
                    missile_type: l.missile,
                    from: l.from,
                    to: l.to,
                    reason: e.to_string(),
                    error: e,
                },
            })
        };
        // One check of every field against its range, wherever the command came from; what
        // depends on the state (ids, full tables) is refused below.
        if let Err(message) = command.validate() {
            return match command {
                Command::Launch(l) => {
                    launch_rejected(events, l, TargetingError::InvalidInput { message })
                }
                _ => reject(events, command.name(), message),
            };
        }
        match command {
            Command::PlaceBattery(_)
            | Command::RemoveBattery { .. }
            | Command::PlaceAsset(_)
            | Command::RemoveAsset { .. }
            | Command::SetDoctrine(_) => {
                defense::apply(&mut self.state.defense, command, tick, t0, events)
            }
            Command::PlaceRadar(p) => self.place_radar(p, tick, t0, events),
            Command::MoveRadar {
                radar,
                position,
                boresight_az_deg,
            } => {
                let Some(i) = self.radar_index(*radar) else {
                    return reject(events, "move-radar", format!("there is no radar {radar}"));
                };
                let mut site = self.state.radars[i].site.clone();
                site.position = *position;
                if let Some(az) = boresight_az_deg {
                    site.boresight_az_deg = *az;
                }
                if let Err(reason) = site.validate() {
                    return reject(events, "move-radar", reason);
                }
                events.push(Event {
                    tick,
                    time_s: t0,
                    kind: EventKind::RadarMoved {
                        radar: *radar,
                        position: site.position,
                        boresight_az_deg: site.boresight_az_deg,
                    },
                });
                self.state.radars[i].site = site;
            }
            Command::RemoveRadar { radar } => {
                let Some(i) = self.radar_index(*radar) else {
                    return reject(events, "remove-radar", format!("there is no radar {radar}"));
                };
                self.state.radars.remove(i);
                events.push(Event {
                    tick,
                    time_s: t0,
                    kind: EventKind::RadarRemoved { radar: *radar },
                });
            }
            Command::Launch(l) => {
                let req = TargetingRequest {
                    kind: l.missile,
                    from: l.from,
                    to: l.to,
                    profile: l.profile,
                };
                let solved = self
                    .memo
                    .solve(&req, l.guidance.as_ref(), &self.state.physics);
                match solved {
                    Ok(sol) => {
                        let id = MissileId(self.state.next_missile_id);
                        self.state.next_missile_id += 1;
                        let flight =
                            Flight::launch(l.missile, l.from, sol.guidance, &self.state.physics);
                        events.push(Event {
                            tick,
                            time_s: t0,
                            kind: EventKind::Launch {
                                missile: id,
                                missile_type: l.missile,
                                label: l.label.clone(),
                                from: l.from,
                                to: l.to,
                                profile: l.profile,
                                predicted: sol.summary,
                                predicted_miss_m: sol.miss_m,
                            },
                        });
                        self.state.missiles.push(Missile {
                            id,
                            label: l.label.clone(),
                            launch_tick: tick,
                            target: l.to,
                            profile: l.profile,
                            predicted: sol.summary,
                            flight,
                            killed_at: None,
                        });
                    }
                    Err(e) => launch_rejected(events, l, e),
                }
            }
        }
    }

    fn convert(
        m: &Missile,
        launch_time_s: f64,
        tick: u64,
        physics: &PhysicsParams,
        fe: FlightEvent,
    ) -> Event {
        let missile = m.id;
        let (flight_time_s, kind) = match fe {
            FlightEvent::StageBurnout {
                stage,
                time_s,
                alt_m,
                speed_m_s,
            } => (
                time_s,
                EventKind::StageBurnout {
                    missile,
                    stage,
                    alt_m,
                    speed_m_s,
                },
            ),
            FlightEvent::Burnout(b) => (
                b.time_s,
                EventKind::Burnout {
                    missile,
                    alt_m: b.alt_m,
                    speed_m_s: b.speed_m_s,
                    flight_path_angle_deg: b.flight_path_angle_deg,
                    at: b.point,
                },
            ),
            FlightEvent::Apogee {
                time_s,
                alt_m,
                point,
            } => (
                time_s,
                EventKind::Apogee {
                    missile,
                    alt_m,
                    at: point,
                },
            ),
            FlightEvent::Impact(i) => {
                let ell = physics.earth.ellipsoid();
                let aim = ell.geodetic_to_ecef(&m.target.to_geodetic(0.0));
                let hit = nalgebra::Vector3::new(i.ecef_m[0], i.ecef_m[1], i.ecef_m[2]);
                (
                    i.time_s,
                    EventKind::Impact {
                        missile,
                        at: i.point,
                        miss_m: (hit - aim).length(),
                        flight_time_s: i.time_s,
                        speed_m_s: i.speed_m_s,
                    },
                )
            }
        };
        Event {
            tick,
            time_s: launch_time_s + flight_time_s,
            kind,
        }
    }

    /// Steps with no commands until idle or until `max_ticks` more ticks have run; returns
    /// every event.
    pub fn run_until_idle(&mut self, max_ticks: u64) -> Vec<Event> {
        let mut events = Vec::new();
        let end = self.state.tick.saturating_add(max_ticks);
        // bounded: the tick rises by one per pass up to end.
        while !self.is_idle() && self.state.tick < end {
            events.extend(self.step(&[]));
        }
        events
    }

    /// Writes `[id, lat_deg, lon_deg, alt_m, speed_m_s, phase]` per missile into `out` (phase:
    /// 0 boost, 1 coast, 2 re-entry, 3 impacted): a flat buffer for drawing each frame.
    pub fn write_positions(&self, out: &mut Vec<f64>) {
        out.clear();
        for v in self.missile_views() {
            let phase = match v.phase {
                Phase::Boost => 0.0,
                Phase::Coast => 1.0,
                Phase::Reentry => 2.0,
                Phase::Impacted => 3.0,
            };
            out.extend_from_slice(&[
                f64::from(v.id.0),
                v.lat_deg,
                v.lon_deg,
                v.alt_m,
                v.speed_m_s,
                phase,
            ]);
        }
    }
}
