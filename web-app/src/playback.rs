//! Playback of a simulation: the fixed-step clock that turns wall-clock frames into ticks, and
//! the [`Player`] that owns the [`Simulation`], the log of every command with the tick it
//! applied at, periodic snapshots, the event log and the missiles' ground tracks.
//!
//! Replay is deterministic: the state at tick `t` is a function of the starting simulation and
//! the commands logged before `t`, so seeking anywhere is "restore the latest snapshot at or
//! before `t`, then step forward applying the logged commands" ([`Player::seek`]). Snapshots
//! are taken every [`Player::snapshot_every`] ticks (10 s of simulation time at first); when
//! there are more than [`MAX_SNAPSHOTS`], every other one is dropped and the spacing doubles,
//! so memory stays bounded on long runs and a seek replays at most one spacing of ticks.
//!
//! Invariants: nothing here touches the DOM, a clock or Leptos (tested natively). The event
//! log and the ground tracks are recorded once, when a tick is first simulated, for the whole
//! timeline up to the horizon; what is shown is their part before the current tick. Replaying
//! a tick cannot change them (determinism), and a new command truncates them at its tick,
//! where the timeline forks.

use std::collections::BTreeMap;

use sim_core::engine::{Command, Event, EventKind, TICK_HZ};
use sim_core::radar::RadarId;
use sim_core::{MissileId, Simulation};

use crate::event_log::LogLine;

/// Simulation time per tick (s).
pub const TICK_S: f64 = sim_core::engine::TICK_S;
/// The speeds offered (simulation seconds per wall-clock second).
pub const SPEEDS: [f64; 8] = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0];
/// Most ticks run in one animation frame: beyond this the simulation falls behind the asked
/// speed instead of making frames longer and longer (no "spiral of death").
pub const MAX_TICKS_PER_FRAME: u32 = 32;
/// Longest wall-clock gap a frame accounts for (s): a tab in the background comes back
/// without a burst of catch-up work.
pub const MAX_FRAME_GAP_S: f64 = 0.25;
/// Most snapshots kept; beyond this the spacing doubles.
pub const MAX_SNAPSHOTS: usize = 128;
/// Initial snapshot spacing: 10 s of simulation time.
pub const SNAPSHOT_EVERY_TICKS: u64 = 10 * TICK_HZ as u64;
/// A ground-track point is recorded every this many ticks (2 s of simulation time).
pub const TRAIL_EVERY_TICKS: u64 = 2 * TICK_HZ as u64;

/// How long a radar plot stays on the map (ticks: 3 s of simulation time).
pub const PLOT_FADE_TICKS: u64 = 3 * TICK_HZ as u64;
/// Most radar plots kept for drawing (the newest).
pub const MAX_PLOTS: usize = 20_000;

/// A radar plot, kept a few seconds for drawing.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Plot {
    /// Tick of the scan.
    pub tick: u64,
    /// Measured latitude (deg).
    pub lat_deg: f64,
    /// Measured longitude (deg).
    pub lon_deg: f64,
    /// Whether it is a false alarm (no missile behind it).
    pub false_alarm: bool,
}

/// A built-in scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Preset {
    /// Identifier (the `<select>` value).
    pub id: &'static str,
    /// Name shown.
    pub name: &'static str,
    /// The scenario file, compiled in; `None` for the empty map.
    pub json: Option<&'static str>,
}

/// The built-in scenarios, the empty map first.
pub const PRESETS: [Preset; 8] = [
    Preset {
        id: "empty",
        name: "Empty map",
        json: None,
    },
    Preset {
        id: "socal-scud-c",
        name: "Southern California SCUD-C",
        json: Some(include_str!("../../scenarios/socal-scud-c.json")),
    },
    Preset {
        id: "socal-salvo",
        name: "Southern California salvo",
        json: Some(include_str!("../../scenarios/socal-salvo.json")),
    },
    Preset {
        id: "socal-three-radars",
        name: "Southern California, three radars",
        json: Some(include_str!("../../scenarios/socal-three-radars.json")),
    },
    Preset {
        id: "horizon-masking",
        name: "Horizon masking",
        json: Some(include_str!("../../scenarios/horizon-masking.json")),
    },
    Preset {
        id: "layered-mrbm",
        name: "Layered defence of Tokyo (THAAD, PAC-3)",
        json: Some(include_str!("../../scenarios/layered-mrbm.json")),
    },
    Preset {
        id: "gbi-icbm",
        name: "GBI against an ICBM (Seattle)",
        json: Some(include_str!("../../scenarios/gbi-icbm.json")),
    },
    Preset {
        id: "catalog-tour",
        name: "Catalog tour",
        json: Some(include_str!("../../scenarios/catalog-tour.json")),
    },
];

impl Preset {
    /// Finds a preset by id.
    pub fn by_id(id: &str) -> Option<Preset> {
        PRESETS.iter().copied().find(|p| p.id == id)
    }

    /// A player at the start of this scenario.
    pub fn player(&self) -> Result<Player, String> {
        let sim = match self.json {
            None => Simulation::new(Default::default(), 0),
            Some(text) => Simulation::from_scenario(
                &sim_core::engine::Scenario::from_json(text).map_err(|e| e.to_string())?,
            ),
        };
        Ok(Player::new(sim))
    }
}

/// The fixed-step accumulator (after bevy's `Time<Fixed>`): wall-clock time times the speed
/// accumulates, and every whole [`TICK_S`] of it is one tick to run.
#[derive(Clone, Debug, PartialEq)]
pub struct Clock {
    /// Simulation seconds per wall-clock second.
    pub speed: f64,
    /// Ticks owed but not yet run (fraction of a tick, between frames).
    owed_ticks: f64,
}

impl Default for Clock {
    fn default() -> Self {
        Clock {
            speed: 1.0,
            owed_ticks: 0.0,
        }
    }
}

impl Clock {
    /// A clock at the given speed (clamped to the offered range; nonsense gives 1x).
    pub fn new(speed: f64) -> Clock {
        let mut c = Clock::default();
        c.set_speed(speed);
        c
    }

    /// Changes the speed, keeping it within [`SPEEDS`]' range.
    pub fn set_speed(&mut self, speed: f64) {
        self.speed = if speed.is_finite() {
            speed.clamp(SPEEDS[0], SPEEDS[SPEEDS.len() - 1])
        } else {
            1.0
        };
    }

    /// Accounts for `wall_dt_s` seconds of wall-clock time and returns how many ticks to run
    /// now, at most `max_ticks`. Work beyond the cap is dropped, not carried over: the
    /// simulation then runs slower than asked rather than ever-longer frames.
    pub fn advance(&mut self, wall_dt_s: f64, max_ticks: u32) -> u32 {
        let dt = if wall_dt_s.is_finite() {
            wall_dt_s.clamp(0.0, MAX_FRAME_GAP_S)
        } else {
            0.0
        };
        self.owed_ticks += dt * self.speed / TICK_S;
        let whole = self.owed_ticks.floor();
        if whole >= f64::from(max_ticks) {
            self.owed_ticks = 0.0;
            max_ticks
        } else {
            self.owed_ticks -= whole;
            whole as u32
        }
    }

    /// Forgets owed work (after a frame stopped early on its time budget, or a pause).
    pub fn drop_debt(&mut self) {
        self.owed_ticks = 0.0;
    }
}

/// A command with the tick at whose start it applies.
#[derive(Clone, Debug, PartialEq)]
pub struct LoggedCommand {
    /// The tick.
    pub tick: u64,
    /// The command.
    pub command: Command,
}

/// One point of a ground track.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TrailPoint {
    /// The simulation tick of the sample (the state after that many ticks).
    pub tick: u64,
    /// Latitude (deg).
    pub lat_deg: f64,
    /// Longitude (deg), unwrapped: continuous along the track, so it may leave `[-180, 180)`
    /// (drawing then needs no seam handling).
    pub lon_deg: f64,
    /// Height above the ellipsoid (m), for the selection's plots.
    pub alt_m: f64,
    /// Earth-relative speed (m/s), for the selection's plots.
    pub speed_m_s: f64,
}

/// The ground track of one missile.
#[derive(Clone, Debug, PartialEq)]
pub struct Trail {
    /// The missile.
    pub missile: MissileId,
    /// Its samples over the whole recorded timeline, oldest first.
    pub points: Vec<TrailPoint>,
}

impl Trail {
    /// The samples up to and including `tick`.
    pub fn upto(&self, tick: u64) -> &[TrailPoint] {
        &self.points[..self.points.partition_point(|p| p.tick <= tick)]
    }
}

/// The simulation with its history; see the module documentation.
#[derive(Clone, Debug)]
pub struct Player {
    sim: Simulation,
    log: Vec<LoggedCommand>,
    snapshots: Vec<Simulation>,
    snapshot_every: u64,
    horizon: u64,
    lines: Vec<LogLine>,
    trails: Vec<Trail>,
    /// Radar plots counted up to the end of each tick that had some: (tick, cumulative count).
    detections: Vec<(u64, u64)>,
    /// The tick of the first plot of each (radar, missile) pair: only that one is logged.
    first_seen: BTreeMap<(RadarId, MissileId), u64>,
    /// Plots of the last few seconds before the current tick (for drawing).
    plots: Vec<Plot>,
    /// The SNR of every radar's looks at every missile (for the selection's plots).
    snr: crate::plots::SnrHistory,
    /// Bumped whenever history is rewritten (seek back, new command): lets a renderer know
    /// that cached drawings of the tracks are stale.
    generation: u64,
    /// Interceptor fly-outs and engagement explanations of the whole recorded timeline.
    defense: crate::defense_view::DefenseRecord,
    /// Set while a relay drives this player (a shared room, see [`crate::room`]).
    relay: Option<Relay>,
}

/// What a relay-driven player keeps: the commands the UI gave, waiting to be sent to the relay
/// instead of being applied, and the tick the relay's clock allows stepping to.
#[derive(Clone, Debug, Default)]
struct Relay {
    outbox: Vec<LoggedCommand>,
    limit: u64,
}

impl Player {
    /// A player starting from `start` (a fresh simulation, usually at tick 0).
    pub fn new(start: Simulation) -> Player {
        let tick = start.tick();
        Player {
            snapshots: vec![start.clone()],
            sim: start,
            log: Vec::new(),
            snapshot_every: SNAPSHOT_EVERY_TICKS,
            horizon: tick,
            lines: Vec::new(),
            trails: Vec::new(),
            detections: Vec::new(),
            first_seen: BTreeMap::new(),
            plots: Vec::new(),
            snr: Default::default(),
            generation: 0,
            defense: Default::default(),
            relay: None,
        }
    }

    /// A player driven by a relay (a shared room), starting from the room's state: commands
    /// the UI gives go to an outbox ([`Player::take_outbox`]) instead of the log, only the
    /// relay's stamped commands are applied ([`Player::apply_stamped`]), it never steps past
    /// [`Player::set_step_limit`], and seeking does nothing.
    pub fn relayed(start: Simulation) -> Player {
        let mut p = Player::new(start);
        p.relay = Some(Relay {
            outbox: Vec::new(),
            limit: p.tick(),
        });
        p
    }

    /// Whether a relay drives this player.
    pub fn is_relayed(&self) -> bool {
        self.relay.is_some()
    }

    /// Stops being driven by the relay (leaving the room): the timeline so far stays, commands
    /// apply locally again, and commands not yet sent are dropped.
    pub fn leave_relay(&mut self) {
        self.relay = None;
    }

    /// The commands the UI gave since the last call, with the tick each was meant for.
    pub fn take_outbox(&mut self) -> Vec<LoggedCommand> {
        self.relay
            .as_mut()
            .map(|r| std::mem::take(&mut r.outbox))
            .unwrap_or_default()
    }

    /// Lets a relay-driven player step up to `limit` (the tick it may reach, not run).
    pub fn set_step_limit(&mut self, limit: u64) {
        if let Some(r) = &mut self.relay {
            r.limit = limit;
        }
    }

    /// Logs a command the relay stamped for `tick`; `false` (and nothing logged) when that tick
    /// has already run here, which means this player must get the room's state again.
    pub fn apply_stamped(&mut self, tick: u64, command: Command) -> bool {
        if tick < self.sim.tick() {
            return false;
        }
        self.log_command(tick, command);
        true
    }

    /// Starts again from the relay's state `sim` (a resync, or the welcome after a reconnect):
    /// what was recorded before its tick stays, everything from its tick on is forgotten (the
    /// relay resends the commands stamped for later ticks).
    pub fn rebase(&mut self, sim: Simulation) {
        let tick = sim.tick();
        self.log.retain(|c| c.tick < tick);
        self.forget_from(tick);
        self.snapshots = vec![sim.clone()];
        self.snapshot_every = SNAPSHOT_EVERY_TICKS;
        self.sim = sim;
        self.horizon = tick;
        self.plots.clear();
        if let Some(r) = &mut self.relay {
            r.limit = tick;
        }
    }

    /// The simulation at the current tick.
    pub fn sim(&self) -> &Simulation {
        &self.sim
    }

    /// The current tick.
    pub fn tick(&self) -> u64 {
        self.sim.tick()
    }

    /// The furthest tick simulated so far: the end of the timeline.
    pub fn horizon(&self) -> u64 {
        self.horizon
    }

    /// Whether the engagement is over at the current tick: something was launched, and no
    /// missile or interceptor flies and nothing is left to happen (no launch scheduled by the
    /// scenario, no command logged for this tick or later). Playing stops there, and Play then
    /// replays from the start.
    pub fn finished(&self) -> bool {
        !self.sim.missiles().is_empty()
            && self.sim.is_idle()
            && self.log.last().is_none_or(|c| c.tick < self.sim.tick())
    }

    /// What a view of this timeline should show ([`crate::view::Viewport::framing`]): every
    /// radar, battery and defended asset now, the places of the commands scheduled by the
    /// scenario or logged (launch points and targets, radars, batteries and assets placed or
    /// moved), and the targets of the missiles launched.
    pub fn scene_points(&self) -> Vec<sim_core::earth::GeoPoint> {
        let sim = &self.sim;
        let d = sim.defense();
        let mut out: Vec<_> = sim.radars().iter().map(|r| r.site.position).collect();
        out.extend(d.batteries.iter().map(|b| b.battery.position));
        out.extend(d.assets.iter().map(|a| a.asset.position));
        out.extend(sim.missiles().iter().map(|m| m.target));
        let commands = sim
            .state()
            .scheduled
            .iter()
            .map(|c| &c.command)
            .chain(self.log.iter().map(|c| &c.command));
        for c in commands {
            match c {
                Command::Launch(l) => out.extend([l.from, l.to]),
                Command::PlaceRadar(r) => out.push(r.position),
                Command::MoveRadar { position, .. } => out.push(*position),
                Command::PlaceBattery(b) => out.push(b.position),
                Command::PlaceAsset(a) => out.push(a.position),
                Command::RemoveRadar { .. }
                | Command::RemoveBattery { .. }
                | Command::RemoveAsset { .. }
                | Command::SetDoctrine(_) => {}
            }
        }
        out
    }

    /// Every command given, sorted by tick.
    pub fn commands(&self) -> &[LoggedCommand] {
        &self.log
    }

    /// The event log up to the current tick, oldest first.
    pub fn lines(&self) -> &[LogLine] {
        let tick = self.sim.tick();
        &self.lines[..self.lines.partition_point(|l| l.tick < tick)]
    }

    /// Radar plots made before the current tick (every plot, false alarms included).
    pub fn detections(&self) -> u64 {
        let tick = self.sim.tick();
        let i = self.detections.partition_point(|d| d.0 < tick);
        i.checked_sub(1).map_or(0, |i| self.detections[i].1)
    }

    /// Radar plots of the last [`PLOT_FADE_TICKS`] before the current tick, oldest first
    /// (after a seek, only those replayed since the snapshot it started from).
    pub fn plots(&self) -> &[Plot] {
        &self.plots
    }

    /// The SNR history of the whole recorded timeline (see [`crate::plots::SnrHistory`]).
    pub fn snr(&self) -> &crate::plots::SnrHistory {
        &self.snr
    }

    /// The radar drawn nearest to screen point `at`, within `radius_px`.
    pub fn radar_near(
        &self,
        view: &crate::view::Viewport,
        at: crate::view::ScreenPoint,
        radius_px: f64,
    ) -> Option<RadarId> {
        let mut best: Option<(f64, RadarId)> = None;
        for r in self.sim.radars() {
            let Some(s) = view.project_visible(r.site.position) else {
                continue; // Behind the globe.
            };
            let d2 = (s.x - at.x).powi(2) + (s.y - at.y).powi(2);
            if d2 <= radius_px * radius_px && best.is_none_or(|(b, _)| d2 < b) {
                best = Some((d2, r.site.id));
            }
        }
        best.map(|(_, id)| id)
    }

    /// The ground tracks of the whole recorded timeline, by missile id (see [`Trail::upto`]
    /// for the part before the current tick).
    pub fn trails(&self) -> &[Trail] {
        &self.trails
    }

    /// Interceptor fly-outs and engagement explanations of the whole recorded timeline (see
    /// [`crate::defense_view::DefenseRecord`]; what is shown is their part before the current
    /// tick).
    pub fn defense(&self) -> &crate::defense_view::DefenseRecord {
        &self.defense
    }

    /// Changes whenever history is rewritten.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Ticks of the snapshots kept (for tests and diagnostics).
    pub fn snapshot_ticks(&self) -> Vec<u64> {
        self.snapshots.iter().map(Simulation::tick).collect()
    }

    /// Current snapshot spacing (ticks).
    pub fn snapshot_every(&self) -> u64 {
        self.snapshot_every
    }

    /// The missile drawn nearest to screen point `at`, within `radius_px` (killed ones are
    /// not drawn).
    pub fn missile_near(
        &self,
        view: &crate::view::Viewport,
        at: crate::view::ScreenPoint,
        radius_px: f64,
    ) -> Option<MissileId> {
        let mut best: Option<(f64, MissileId)> = None;
        // A killed missile is not drawn (the defence marks its kill): it cannot be picked.
        for v in self.sim.missile_views().filter(|v| !v.killed) {
            let Some(s) = view.project_visible(crate::view::GeoPoint::new(v.lat_deg, v.lon_deg))
            else {
                continue; // Behind the globe.
            };
            let d2 = (s.x - at.x).powi(2) + (s.y - at.y).powi(2);
            if d2 <= radius_px * radius_px && best.is_none_or(|(b, _)| d2 < b) {
                best = Some((d2, v.id));
            }
        }
        best.map(|(_, id)| id)
    }

    /// Logs `command` to apply at the start of `tick` (the current tick or later; an earlier
    /// tick is moved to the current one, since the past is not rewritten by a new command).
    /// Commands on the same tick keep the order they were given in.
    ///
    /// A relay-driven player puts the command in its outbox instead (see [`Player::relayed`]).
    pub fn schedule(&mut self, tick: u64, command: Command) {
        let tick = tick.max(self.sim.tick());
        if let Some(r) = &mut self.relay {
            r.outbox.push(LoggedCommand { tick, command });
            return;
        }
        self.log_command(tick, command);
    }

    fn log_command(&mut self, tick: u64, command: Command) {
        let at = self.log.partition_point(|c| c.tick <= tick);
        self.log.insert(at, LoggedCommand { tick, command });
        // Snapshots, events and track points after this tick no longer describe the timeline.
        // The snapshot *at* this tick still does (commands apply during the tick's step), and
        // so do the track points sampled at it (they are the state before that step).
        self.snapshots.retain(|s| s.tick() <= tick);
        self.forget_from(tick);
        self.horizon = self.horizon.min(tick);
    }

    /// Forgets what was recorded of the timeline from `tick` on (log lines, detections, SNR
    /// history, track points after it, the defence record): a command forked the timeline
    /// there, or the relay's state replaced it. The track points sampled *at* `tick` stay:
    /// they are the state before that tick's step.
    fn forget_from(&mut self, tick: u64) {
        self.lines
            .truncate(self.lines.partition_point(|l| l.tick < tick));
        self.detections
            .truncate(self.detections.partition_point(|d| d.0 < tick));
        self.first_seen.retain(|_, t| *t < tick);
        self.snr.truncate_from(tick);
        for trail in &mut self.trails {
            trail.points.retain(|p| p.tick <= tick);
        }
        self.trails.retain(|t| !t.points.is_empty());
        self.defense.truncate(tick);
        self.generation += 1;
    }

    /// Runs one tick with the commands logged for it; returns how many events it produced.
    /// A relay-driven player does nothing at its step limit.
    pub fn step(&mut self) -> usize {
        let tick = self.sim.tick();
        if self.relay.as_ref().is_some_and(|r| tick >= r.limit) {
            return 0;
        }
        let from = self.log.partition_point(|c| c.tick < tick);
        let to = self.log.partition_point(|c| c.tick <= tick);
        let commands: Vec<Command> = self.log[from..to]
            .iter()
            .map(|c| c.command.clone())
            .collect();
        let events = self.sim.step(&commands);
        let n = events.len();
        self.keep_plots(tick, &events);
        // Ticks before the horizon were recorded when first simulated, with the same result.
        if tick >= self.horizon {
            self.record(events);
        }
        let now = self.sim.tick();
        self.horizon = self.horizon.max(now);
        if now.is_multiple_of(self.snapshot_every)
            && self.snapshots.last().is_none_or(|s| s.tick() < now)
        {
            self.snapshots.push(self.sim.clone());
            if self.snapshots.len() > MAX_SNAPSHOTS {
                self.snapshot_every *= 2;
                let every = self.snapshot_every;
                self.snapshots.retain(|s| s.tick().is_multiple_of(every));
            }
        }
        n
    }

    /// Moves to `target` (clamped to `[0, horizon]`) by replaying from the nearest snapshot
    /// at or before it, or from the current state when that is nearer.
    /// A relay-driven player does not seek (the room's clock drives it).
    pub fn seek(&mut self, target: u64) {
        if self.relay.is_some() {
            return;
        }
        let target = target.min(self.horizon);
        let current = self.sim.tick();
        if target == current {
            return;
        }
        let i = self.snapshots.partition_point(|s| s.tick() <= target);
        // snapshots[0] is the start, so i >= 1 whenever target >= the start tick.
        let best = i.checked_sub(1).map(|i| &self.snapshots[i]);
        let from_current = current <= target && best.is_none_or(|s| s.tick() <= current);
        if !from_current {
            let Some(snap) = best.cloned() else {
                return;
            };
            self.rewind_to(snap);
        }
        while self.sim.tick() < target {
            self.step();
        }
    }

    /// Back to the start of the timeline (commands are kept: playing again replays them).
    pub fn restart(&mut self) {
        if self.relay.is_some() {
            return;
        }
        if let Some(start) = self.snapshots.first().cloned() {
            self.rewind_to(start);
        }
    }

    fn rewind_to(&mut self, snap: Simulation) {
        self.sim = snap;
        self.plots.clear();
    }

    /// Adds the plots of tick `tick` and forgets those older than [`PLOT_FADE_TICKS`].
    fn keep_plots(&mut self, tick: u64, events: &[Event]) {
        // Kept while `plot.tick + PLOT_FADE_TICKS > now`, now = tick + 1 after this step.
        let oldest = (tick + 2).saturating_sub(PLOT_FADE_TICKS);
        let stale = self.plots.partition_point(|p| p.tick < oldest);
        let excess = (self.plots.len() - stale).saturating_sub(MAX_PLOTS);
        self.plots.drain(..stale + excess);
        for e in events {
            if let EventKind::Detection {
                lat, lon, truth, ..
            } = &e.kind
            {
                self.plots.push(Plot {
                    tick,
                    lat_deg: *lat,
                    lon_deg: *lon,
                    false_alarm: truth.is_none(),
                });
            }
        }
    }

    fn record(&mut self, events: Vec<Event>) {
        // Plots are far too many to log one by one (thousands a second in a raid): they are
        // counted, and only the first of each radar on each missile gets a line.
        // Likewise the tentative tracks that false alarms start and drop every few seconds:
        // only confirmed tracks' deletions are logged.
        self.defense.record(&events, &self.sim);
        let mut plots = 0_u64;
        self.snr.record(&events);
        for e in &events {
            if let EventKind::TrackDeleted {
                was_confirmed: false,
                ..
            } = &e.kind
            {
                continue;
            }
            if let EventKind::Detection { radar, truth, .. } = &e.kind {
                plots += 1;
                let Some(m) = truth else { continue };
                if self.first_seen.contains_key(&(*radar, *m)) {
                    continue;
                }
                self.first_seen.insert((*radar, *m), e.tick);
            }
            self.lines.push(LogLine::from_event(e, &self.sim));
        }
        if plots > 0 {
            let before = self.detections.last().map_or(0, |d| d.1);
            self.detections.push((self.sim.tick() - 1, before + plots));
        }
        let now = self.sim.tick();
        let sample_all = now.is_multiple_of(TRAIL_EVERY_TICKS);
        let launched: Vec<MissileId> = events
            .iter()
            .filter_map(|e| match e.kind {
                EventKind::Launch { missile, .. } => Some(missile),
                _ => None,
            })
            .collect();
        let ended: Vec<MissileId> = events
            .iter()
            .filter_map(|e| match e.kind {
                EventKind::Impact { missile, .. } => Some(missile),
                _ => None,
            })
            .collect();
        if !(sample_all || !launched.is_empty() || !ended.is_empty()) {
            return;
        }
        for v in self.sim.missile_views() {
            let fresh = launched.contains(&v.id);
            let landed = ended.contains(&v.id);
            let flying = v.phase != sim_core::flight::Phase::Impacted;
            if !(fresh || landed || (sample_all && flying)) {
                continue;
            }
            let i = match self.trails.binary_search_by_key(&v.id, |t| t.missile) {
                Ok(i) => i,
                Err(i) => {
                    self.trails.insert(
                        i,
                        Trail {
                            missile: v.id,
                            points: Vec::new(),
                        },
                    );
                    i
                }
            };
            let trail = &mut self.trails[i];
            let lon_deg = match trail.points.last() {
                Some(p) => p.lon_deg + crate::view::wrap_lon(v.lon_deg - p.lon_deg),
                None => v.lon_deg,
            };
            trail.points.push(TrailPoint {
                tick: now,
                lat_deg: v.lat_deg,
                lon_deg,
                alt_m: v.alt_m,
                speed_m_s: v.speed_m_s,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::earth::GeoPoint;
    use sim_core::engine::LaunchCommand;
    use sim_core::targeting::Profile;

    /// A SCUD-B from off Big Sur towards Ventura County, the command the tests add to SoCal.
    fn scud_b_launch() -> Command {
        Command::Launch(LaunchCommand {
            missile: sim_core::MissileKind::ScudB,
            from: GeoPoint::new(36.0, -121.0),
            to: GeoPoint::new(34.5, -119.0),
            profile: Profile::MinEnergy,
            label: None,
            guidance: None,
        })
    }

    fn socal() -> Player {
        Preset::by_id("socal-scud-c")
            .expect("preset")
            .player()
            .expect("valid preset")
    }

    #[test]
    fn the_scene_holds_every_site_launch_point_and_target() {
        let p = socal();
        let pts = p.scene_points();
        for want in [
            GeoPoint::new(36.5, -123.1),
            GeoPoint::new(34.05, -118.25),
            GeoPoint::new(34.73, -120.57),
            GeoPoint::new(32.71, -117.15),
        ] {
            assert!(pts.contains(&want), "{want:?} not in {pts:?}");
        }
        let mut empty = Preset::by_id("empty")
            .expect("preset")
            .player()
            .expect("empty");
        assert!(empty.scene_points().is_empty());
        empty.schedule(0, scud_b_launch());
        assert_eq!(
            empty.scene_points(),
            vec![GeoPoint::new(36.0, -121.0), GeoPoint::new(34.5, -119.0)]
        );
    }

    #[test]
    fn finished_at_the_end_of_the_engagement_and_not_before() {
        let mut p = Preset::by_id("empty")
            .expect("preset")
            .player()
            .expect("empty");
        assert!(!p.finished(), "nothing launched yet");
        p.schedule(5, scud_b_launch());
        assert!(!p.finished(), "a launch is coming");
        while !p.finished() && p.tick() < 10_000 {
            p.step();
        }
        assert!(p.finished());
        let end = p.tick();
        assert!(end > 100 && p.sim().is_idle(), "finished at {end}");
        // Any earlier tick is not the end (the missile is in flight or not yet launched).
        p.seek(end / 2);
        assert!(!p.finished());
        p.seek(end);
        assert!(p.finished());
        // A command at the end opens the timeline again until it has been applied.
        p.schedule(end, scud_b_launch());
        assert!(!p.finished());
        p.step();
        assert!(!p.finished(), "the second missile flies");
    }

    #[test]
    fn radar_plots_are_counted_and_logged_once_per_radar_and_missile() {
        let mut p = Preset::by_id("socal-three-radars")
            .expect("preset")
            .player()
            .expect("valid preset");
        assert_eq!(p.sim().radars().len(), 3);
        for _ in 0..1500 {
            p.step();
        }
        let c = crate::event_log::Counters::of(p.lines(), p.detections());
        let firsts = p.lines().iter().filter(|l| l.kind == "detection").count();
        assert!(c.detections > 100, "{c:?}");
        assert!((4..=3 * 4).contains(&firsts), "{firsts}");
        assert!(c.confirmed >= 4, "{c:?}");
        // Tentative tracks dropped (false alarms) are not logged.
        assert!(
            !p.lines()
                .iter()
                .any(|l| l.kind == "track-deleted" && l.text.starts_with("tentative"))
        );
        let latency = c.mean_latency_s().expect("tracks confirmed");
        assert!(latency > 0.0 && latency < 30.0, "{latency}");
        assert!(!p.plots().is_empty());
        assert!(
            p.plots()
                .iter()
                .all(|pl| pl.tick + PLOT_FADE_TICKS > p.tick())
        );
        // Seeking back and forth gives the same counts, log and state.
        let (hash, lines, dets) = (p.sim().state_hash(), p.lines().to_vec(), p.detections());
        p.seek(700);
        assert!(p.detections() < dets);
        p.seek(1500);
        assert_eq!(p.sim().state_hash(), hash);
        assert_eq!(p.lines(), &lines[..]);
        assert_eq!(p.detections(), dets);
        // A radar command forks the timeline: later counts are dropped, then re-recorded.
        p.seek(600);
        p.schedule(
            600,
            Command::RemoveRadar {
                radar: p.sim().radars()[0].site.id,
            },
        );
        assert_eq!(p.horizon(), 600);
        p.step();
        assert_eq!(p.sim().radars().len(), 2);
        assert!(p.lines().iter().any(|l| l.kind == "radar-removed"));
    }

    #[test]
    fn horizon_masking_first_detection_is_inside_the_drawn_footprint() {
        let mut p = Preset::by_id("horizon-masking")
            .expect("preset")
            .player()
            .expect("valid preset");
        let site = p.sim().radars()[0].site.clone();
        let earth = p.sim().physics().earth;
        // The first plot of the missile (false alarms are counted, not logged).
        while !p.lines().iter().any(|l| l.kind == "detection") && p.tick() < 3000 {
            p.step();
        }
        let first = p
            .lines()
            .iter()
            .find(|l| l.kind == "detection")
            .expect("the radar detects the missile");
        assert!(
            first.text.starts_with("RAD_SNI first detection of #"),
            "{}",
            first.text
        );
        let v = p.sim().missile_views().next().expect("one missile");
        let at = GeoPoint::new(v.lat_deg, v.lon_deg);
        let d = sim_core::earth::frames::great_circle_distance_m(
            &site.position,
            &at,
            earth.range_radius_m(),
        );
        // Hidden by the curvature until well above 10 km, as the scenario describes.
        assert!(v.alt_m > 10_000.0, "first seen at {} m", v.alt_m);
        let f = crate::radar_view::footprint(&site, &earth, v.alt_m);
        assert!(d <= f.outer_m + 2_000.0, "{d} m beyond {f:?}");
        // 2 km lower (a few seconds of climb earlier) it would still have been outside: the
        // missile is seen as it enters the drawn coverage (14.0 km high, 484 km away, edge
        // at 488 km; 451 km at 12 km).
        let lower = crate::radar_view::footprint(&site, &earth, v.alt_m - 2_000.0);
        assert!(d > lower.outer_m, "{d} m, {} m", lower.outer_m);
    }

    #[test]
    fn every_preset_loads() {
        for p in PRESETS {
            let player = p.player().unwrap_or_else(|e| panic!("{}: {e}", p.id));
            assert_eq!(player.tick(), 0);
            assert_eq!(Preset::by_id(p.id), Some(p));
        }
        assert_eq!(Preset::by_id("nope"), None);
    }

    #[test]
    fn clock_runs_speed_times_wall_time_in_whole_ticks() {
        let mut c = Clock::new(1.0);
        // 60 frames of 1/60 s at 1x: 10 ticks in total (the last may still be owed by a
        // rounding error), most frames run none.
        let total: u32 = (0..60).map(|_| c.advance(1.0 / 60.0, 100)).sum();
        assert!((9..=10).contains(&total), "{total}");
        let mut c = Clock::new(64.0);
        let total: u32 = (0..60).map(|_| c.advance(1.0 / 60.0, 100)).sum();
        assert!((639..=640).contains(&total), "{total}");
    }

    #[test]
    fn clock_caps_work_per_frame_and_drops_the_debt() {
        let mut c = Clock::new(128.0);
        // A 0.25 s frame at 128x owes 320 ticks: capped, and the rest is forgotten.
        assert_eq!(c.advance(0.25, 32), 32);
        assert_eq!(c.advance(0.0, 32), 0);
        // Gaps longer than MAX_FRAME_GAP_S count as MAX_FRAME_GAP_S; nonsense counts as 0.
        let mut c = Clock::new(1.0);
        assert_eq!(c.advance(100.0, 1000), 2);
        assert_eq!(c.advance(f64::NAN, 1000), 0);
        assert_eq!(c.advance(-1.0, 1000), 0);
        c.set_speed(f64::INFINITY);
        assert_eq!(c.speed, 1.0);
        c.set_speed(1e9);
        assert_eq!(c.speed, 128.0);
    }

    #[test]
    fn seeking_back_and_forth_reproduces_the_state_bit_for_bit() {
        let mut straight = socal();
        for _ in 0..1500 {
            straight.step();
        }
        let hash_1500 = straight.sim().state_hash();
        let lines_1500 = straight.lines().to_vec();
        let shown = |p: &Player| -> Vec<Vec<TrailPoint>> {
            p.trails()
                .iter()
                .map(|t| t.upto(p.tick()).to_vec())
                .filter(|v| !v.is_empty())
                .collect()
        };
        let trails_1500 = shown(&straight);
        let mut at_737 = socal();
        for _ in 0..737 {
            at_737.step();
        }
        for _ in 0..500 {
            straight.step();
        }
        let hash_2000 = straight.sim().state_hash();

        let mut p = straight.clone();
        p.seek(0);
        assert_eq!(p.tick(), 0);
        assert!(p.lines().is_empty() && shown(&p).is_empty());
        // Forward from the start to past a snapshot: the log and tracks before it are shown.
        p.seek(737);
        assert_eq!(p.sim().state_hash(), at_737.sim().state_hash());
        assert_eq!(p.lines(), at_737.lines());
        assert_eq!(shown(&p), shown(&at_737));
        p.seek(1500);
        assert_eq!(p.sim().state_hash(), hash_1500);
        assert_eq!(p.lines(), &lines_1500[..]);
        assert_eq!(shown(&p), trails_1500);
        p.seek(733);
        p.seek(2000);
        assert_eq!(p.sim().state_hash(), hash_2000);
        // Beyond the horizon: clamped.
        p.seek(10_000);
        assert_eq!(p.tick(), 2000);
    }

    #[test]
    fn the_socal_flight_launches_and_impacts_near_los_angeles() {
        // The preset defends Los Angeles; without its batteries the SCUD-C must land there.
        let mut scenario = sim_core::engine::Scenario::from_json(include_str!(
            "../../scenarios/socal-scud-c.json"
        ))
        .expect("valid preset");
        scenario.batteries.clear();
        let mut p = Player::new(Simulation::from_scenario(&scenario));
        while p.tick() < 6000 && !p.lines().iter().any(|l| l.kind == "impact") {
            p.step();
        }
        let impact = p
            .lines()
            .iter()
            .find(|l| l.kind == "impact")
            .expect("the SCUD-C lands within 600 s");
        let at = impact.place.expect("an impact has a place");
        let la = GeoPoint::new(34.05, -118.25);
        let d = sim_core::earth::frames::great_circle_distance_m(&at, &la, 6_371_008.8);
        assert!(d < 2_000.0, "impact {d:.0} m from Los Angeles");
        // Undefended, it is a leaker: it hits the preset's asset, logged where it landed.
        let hit = p
            .lines()
            .iter()
            .find(|l| l.kind == "asset-hit")
            .expect("Los Angeles is hit");
        assert!(hit.text.contains("hit Los Angeles"), "{}", hit.text);
        assert_eq!(hit.place, Some(at));
        let c = crate::event_log::Counters::of(p.lines(), p.detections());
        assert_eq!((c.leakers, c.engagements, c.battery_fires), (1, 0, 0));
        // The ground track runs from the launch point to the impact.
        let trail = &p.trails()[0];
        assert!(trail.points.len() > 10);
        let first = trail.points[0];
        assert!((first.lat_deg - 36.5).abs() < 0.01 && (first.lon_deg + 123.1).abs() < 0.01);
        let last = trail.points[trail.points.len() - 1];
        assert!(
            (last.lat_deg - at.lat_deg).abs() < 0.01,
            "{last:?} vs {at:?}"
        );
    }

    #[test]
    fn the_missile_under_the_pointer_is_found() {
        let mut p = socal();
        let view = crate::view::Viewport::whole_world(1440.0, 720.0).centered_on(
            crate::view::GeoPoint {
                lat_deg: 35.0,
                lon_deg: -120.0,
            },
            100.0,
        );
        for _ in 0..300 {
            p.step();
        }
        let v = p.sim().missile_views().next().expect("one missile");
        let s = view.project(crate::view::GeoPoint::new(v.lat_deg, v.lon_deg));
        let near = crate::view::ScreenPoint {
            x: s.x + 3.0,
            y: s.y - 4.0,
        };
        assert_eq!(p.missile_near(&view, near, 8.0), Some(v.id));
        let far = crate::view::ScreenPoint {
            x: s.x + 30.0,
            y: s.y,
        };
        assert_eq!(p.missile_near(&view, far, 8.0), None);
    }

    #[test]
    fn a_new_command_invalidates_later_snapshots_and_replays_with_it() {
        let mut p = socal();
        for _ in 0..400 {
            p.step();
        }
        assert_eq!(p.snapshot_ticks(), vec![0, 100, 200, 300, 400]);
        p.seek(150);
        let launch = scud_b_launch();
        p.schedule(150, launch.clone());
        assert_eq!(p.snapshot_ticks(), vec![0, 100]);
        assert_eq!(p.horizon(), 150);
        for _ in 0..100 {
            p.step();
        }
        let hash_250 = p.sim().state_hash();
        assert_eq!(p.sim().missiles().len(), 2);
        // A second player given the same command log from the start agrees.
        let mut q = socal();
        q.schedule(150, launch);
        for _ in 0..250 {
            q.step();
        }
        assert_eq!(q.sim().state_hash(), hash_250);
        // And seeking across the new command from a snapshot agrees too.
        p.seek(120);
        p.seek(250);
        assert_eq!(p.sim().state_hash(), hash_250);
    }

    #[test]
    fn a_relayed_player_sends_commands_out_and_steps_only_to_its_limit() {
        let mut p = Player::relayed(Simulation::new(Default::default(), 1));
        let launch = scud_b_launch();
        // The UI's command waits in the outbox; nothing is logged or applied.
        p.schedule(0, launch.clone());
        assert!(p.commands().is_empty());
        let out = p.take_outbox();
        assert_eq!(out.len(), 1);
        assert!(p.take_outbox().is_empty());
        // No stepping past the limit, whoever asks; no seeking, no restart.
        assert_eq!(p.step(), 0);
        p.set_step_limit(5);
        for _ in 0..10 {
            p.step();
        }
        assert_eq!(p.tick(), 5);
        p.seek(0);
        p.restart();
        assert_eq!(p.tick(), 5);
        // A stamped command for a tick already run is refused; a later one is applied there.
        assert!(!p.apply_stamped(4, launch.clone()));
        assert!(p.apply_stamped(6, launch.clone()));
        p.set_step_limit(8);
        while p.tick() < 8 {
            p.step();
        }
        assert_eq!(p.sim().missiles().len(), 1);
        assert_eq!(p.lines()[0].tick, 6);
        // Rebased on an earlier state, the history from its tick on is forgotten.
        let mut reference = Simulation::new(Default::default(), 1);
        for _ in 0..6 {
            reference.step(&[]);
        }
        p.rebase(reference.clone());
        assert_eq!(p.tick(), 6);
        assert!(p.lines().is_empty() && p.commands().is_empty());
        assert_eq!(p.sim().state_hash(), reference.state_hash());
        // Leaving: commands apply locally again.
        p.leave_relay();
        p.schedule(6, launch);
        assert_eq!(p.commands().len(), 1);
        p.step();
        assert_eq!(p.sim().missiles().len(), 1);
    }

    #[test]
    fn snapshots_stay_bounded_on_long_runs() {
        let mut p = Player::new(Simulation::new(Default::default(), 0));
        let ticks = SNAPSHOT_EVERY_TICKS * (MAX_SNAPSHOTS as u64) * 3;
        for _ in 0..ticks {
            p.step();
        }
        assert!(p.snapshot_ticks().len() <= MAX_SNAPSHOTS);
        assert!(p.snapshot_every() >= 2 * SNAPSHOT_EVERY_TICKS);
        // Evenly spaced from the start, and seeking still lands exactly.
        let every = p.snapshot_every();
        assert!(p.snapshot_ticks().iter().all(|t| t.is_multiple_of(every)));
        p.seek(12_345);
        assert_eq!(p.tick(), 12_345);
    }
}
