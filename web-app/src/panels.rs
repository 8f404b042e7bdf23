//! The simulation's side of the UI: the launch tool panel, the playback bar with its timeline,
//! the event log with counters, the hover label and selection readout, the map overlay of the
//! launch tool (range ring, launch site, the reason a target is refused), and the
//! animation-frame loop that advances and draws the simulation.
//!
//! Reactive choices: the [`Player`] (simulation, command log, snapshots) lives outside the
//! reactive graph in a local `StoredValue` (a `Copy` handle, usable from view closures and
//! from the frame loop alike, never tracked); the frame loop steps it with a fixed-step
//! [`Clock`] and publishes a small [`Status`] signal only when the tick changes, and bumps
//! `log_rev` (throttled) when the event log changes. Panels read the player when those
//! signals tell them to, so the DOM work per frame stays small whatever the missile count.
//! Maths lives in the pure modules (`playback`, `launch`, `event_log`, `view`).

use std::cell::RefCell;
use std::rc::Rc;

use leptos::ev;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;

use sim_core::protocol::ALLOWED_SPEEDS;
use sim_core::{MissileId, MissileKind};

use crate::defense_view::{interceptor_pick, interceptor_views};
use crate::event_log::{Counters, LogLine};
use crate::launch::{self, LaunchSettings, LaunchStage, PROFILES};
use crate::playback::{Clock, MAX_TICKS_PER_FRAME, PRESETS, Player, Preset, SPEEDS, TICK_S};
use crate::plots::Selected;
use crate::sim_layer::SimLayer;
use crate::view::{GeoPoint, ScreenPoint, Viewport, format_geo};

/// Wall-clock time a frame may spend stepping the simulation (ms): the rest of a 16.7 ms
/// frame is left to drawing and the browser.
pub const STEP_BUDGET_MS: f64 = 8.0;
/// Most lines shown in the event log (the newest) when paused.
pub const LOG_LINES_SHOWN: usize = 200;
/// Most lines shown while playing: a raid's impacts replace the whole list at each refresh,
/// and building 200 rows took 10-13 ms of script and 8 ms of style and layout (40-50 ms frames
/// in the 500-missile raid, `docs/benchmarks.md`); the panel shows about 25 at a time anyway.
pub const LOG_LINES_PLAYING: usize = 50;
/// Shortest interval between two refreshes of the event log while playing at up to
/// [`FAST_SPEED`] (ms).
const LOG_REFRESH_MS: f64 = 150.0;
/// The same above [`FAST_SPEED`], where 150 ms are 10 simulated seconds or more (ms).
const LOG_REFRESH_FAST_MS: f64 = 500.0;
/// Speeds above this refresh the log every [`LOG_REFRESH_FAST_MS`].
const FAST_SPEED: f64 = 8.0;
/// Segments of the maximum-range ring.
const RING_SEGMENTS: usize = 180;
/// Pointer distance (px) within which a missile is hovered or picked.
const PICK_RADIUS_PX: f64 = 10.0;

/// What the frame loop publishes to the panels.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Status {
    /// The current tick.
    pub tick: u64,
    /// The end of the timeline (furthest tick simulated).
    pub horizon: u64,
    /// Missiles in the simulation.
    pub missiles: usize,
    /// The state hash, computed while paused (`None` while playing).
    pub hash: Option<u64>,
    /// Wall-clock time per frame spent stepping the simulation (ms, moving average).
    pub step_ms: f64,
    /// Wall-clock time per frame spent drawing the simulation layer (ms, moving average).
    pub draw_ms: f64,
    /// Radars on the map.
    pub radars: usize,
    /// Confirmed tracks.
    pub tracks_confirmed: usize,
    /// Tentative tracks.
    pub tracks_tentative: usize,
    /// The engagement is over at this tick ([`Player::finished`]).
    pub finished: bool,
}

/// The launch tool's state.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tool {
    /// Whether map clicks launch (otherwise they inspect).
    pub active: bool,
    /// What is launched.
    pub settings: LaunchSettings,
    /// Which click comes next.
    pub stage: LaunchStage,
}

/// A launch that was refused on click, shown at the cursor until the pointer moves away.
#[derive(Clone, Debug, PartialEq)]
pub struct Refusal {
    /// The reason, one sentence.
    pub text: String,
    /// Where the click was.
    pub at: ScreenPoint,
}

/// Handles shared by the simulation panels and the map (all `Copy`).
#[derive(Clone, Copy)]
pub struct SimCtx {
    /// The simulation and its history (outside the reactive graph).
    pub player: StoredValue<Player, LocalStorage>,
    /// The fixed-step clock.
    pub clock: StoredValue<Clock, LocalStorage>,
    /// Published by the frame loop.
    pub status: RwSignal<Status>,
    /// Bumped when the event log changed.
    pub log_rev: RwSignal<u64>,
    /// Playing or paused.
    pub playing: RwSignal<bool>,
    /// Speed (simulation seconds per second).
    pub speed: RwSignal<f64>,
    /// The launch tool.
    pub tool: RwSignal<Tool>,
    /// Missile or interceptor under the pointer.
    pub hover: RwSignal<Option<Selected>>,
    /// Selected missile or interceptor (whose readout and plots are shown).
    pub selected: RwSignal<Option<Selected>>,
    /// Pointer position on the map.
    pub cursor_px: RwSignal<Option<ScreenPoint>>,
    /// A refused launch.
    pub refusal: RwSignal<Option<Refusal>>,
    /// The preset loaded (`share::SHARED_PRESET` for a file or a link).
    pub preset: RwSignal<&'static str>,
    /// The scenario the player started from, whatever its origin (a preset, an imported file,
    /// an opened link): what Share, Export and Monte Carlo build on, with the player's command
    /// log. `None` for a room's timeline, which starts from the relay's snapshot.
    pub scenario: StoredValue<Option<sim_core::engine::Scenario>, LocalStorage>,
    /// Set to force a redraw of the simulation layer on the next frame.
    pub redraw: StoredValue<bool, LocalStorage>,
    /// Bumped when a new scenario is loaded (a preset, an opened link or file): the map then
    /// frames its scene ([`Player::scene_points`], in `app.rs`).
    pub frame: RwSignal<u64>,
    /// The radar tool and the radar selection (see [`crate::radar_panel`]).
    pub radar: crate::radar_panel::RadarUi,
    /// The defence tools, selection and explanation (see [`crate::defense_panel`]).
    pub defense: crate::defense_panel::DefenseUi,
    /// The shared room, when in one (see [`crate::room_panel`]).
    pub room: crate::room_panel::RoomUi,
}

impl SimCtx {
    /// A context on the empty map, paused.
    pub fn new() -> SimCtx {
        let player = PRESETS[0]
            .player()
            .expect("the empty preset needs no parsing");
        SimCtx {
            player: StoredValue::new_local(player),
            clock: StoredValue::new_local(Clock::new(1.0)),
            status: RwSignal::new(Status::default()),
            log_rev: RwSignal::new(0),
            playing: RwSignal::new(false),
            speed: RwSignal::new(1.0),
            tool: RwSignal::new(Tool {
                active: false,
                settings: LaunchSettings::default(),
                stage: LaunchStage::PickSite,
            }),
            hover: RwSignal::new(None),
            selected: RwSignal::new(None),
            cursor_px: RwSignal::new(None),
            refusal: RwSignal::new(None),
            preset: RwSignal::new(PRESETS[0].id),
            scenario: StoredValue::new_local(Some(crate::share::empty_scenario())),
            redraw: StoredValue::new_local(true),
            frame: RwSignal::new(0),
            radar: crate::radar_panel::RadarUi::new(),
            defense: crate::defense_panel::DefenseUi::new(),
            room: crate::room_panel::RoomUi::new(),
        }
    }

    /// Reads the player.
    pub fn read<U>(&self, f: impl FnOnce(&Player) -> U) -> U {
        self.player.with_value(f)
    }

    /// Changes the player.
    pub fn write(&self, f: impl FnOnce(&mut Player)) {
        self.player.update_value(f);
    }

    pub(crate) fn changed(&self) {
        self.redraw.set_value(true);
        self.clock.update_value(Clock::drop_debt);
    }

    /// Loads a built-in scenario and plays it if it launches anything.
    pub fn load_preset(&self, id: &str) {
        let Some(preset) = Preset::by_id(id) else {
            return;
        };
        // A room's timeline is the room's: leave it first.
        if self.room.active.get_untracked() {
            return;
        }
        match preset.player() {
            Ok(p) => {
                let has_launches = preset
                    .json
                    .is_some_and(|_| !p.sim().state().scheduled.is_empty());
                self.player.set_value(p);
                self.scenario
                    .set_value(crate::share::preset_scenario(preset.id).ok());
                self.preset.set(preset.id);
                self.selected.set(None);
                self.hover.set(None);
                self.radar.selected.set(None);
                self.defense.clear();
                self.playing.set(has_launches);
                self.log_rev.update(|r| *r += 1);
                self.frame.update(|f| *f += 1);
                self.changed();
            }
            Err(e) => leptos::logging::error!("preset {id}: {e}"),
        }
    }

    /// The name of the scenario the player started from (reactive: changes with each load).
    pub fn scenario_name(&self) -> Option<String> {
        self.frame.track();
        self.preset.track();
        self.scenario
            .with_value(|s| s.as_ref().map(|s| s.name.trim().to_string()))
            .filter(|n| !n.is_empty())
    }

    /// Moves the timeline to `tick`.
    pub fn seek(&self, tick: u64) {
        self.write(|p| p.seek(tick));
        self.log_rev.update(|r| *r += 1);
        self.changed();
    }

    /// Runs exactly one tick and pauses.
    pub fn step_once(&self) {
        self.playing.set(false);
        self.write(|p| {
            p.step();
        });
        self.log_rev.update(|r| *r += 1);
        self.changed();
    }

    /// Play or pause (the Play button and the space bar); at the end of the engagement Play
    /// replays it from the start rather than stepping past the end. A room's clock is the
    /// relay's: nothing happens here in a room.
    pub fn toggle_play(&self) {
        if self.room.active.get_untracked() {
            return;
        }
        if !self.playing.get_untracked() && self.read(Player::finished) {
            self.restart();
        }
        self.playing.update(|p| *p = !*p);
        self.clock.update_value(Clock::drop_debt);
    }

    /// Back to the start (the command log is kept, so playing again replays it).
    pub fn restart(&self) {
        self.write(Player::restart);
        self.log_rev.update(|r| *r += 1);
        self.changed();
    }

    /// A click on the map while the launch tool is active.
    pub fn launch_click(&self, at: GeoPoint, screen: ScreenPoint) {
        let mut tool = self.tool.get_untracked();
        // Rounded to 0.1 m, which keeps share links short (see `crate::share::click_point`).
        let point = crate::share::click_point(at.lat_deg, at.lon_deg);
        match tool.stage {
            LaunchStage::PickSite => {
                tool.stage = LaunchStage::PickTarget { site: point };
                self.tool.set(tool);
                self.refusal.set(None);
            }
            LaunchStage::PickTarget { site } => {
                let result = self.read(|player| {
                    let physics = *player.sim().physics();
                    launch::salvo(&tool.settings, site, point, &physics, player.tick())
                });
                match result {
                    Ok(commands) => {
                        self.write(|player| {
                            for (tick, c) in commands {
                                player.schedule(tick, c);
                            }
                        });
                        self.refusal.set(None);
                        self.playing.set(true);
                        self.changed();
                    }
                    Err(text) => {
                        // Logged as a scenario's refused launch is: the engine refuses the
                        // unguided launch with the same reason (a `launch-rejected` event, in
                        // the counters and in shared links). Paused, one tick shows it now.
                        if tool.settings.validate().is_ok() {
                            let command = launch::refused_launch(&tool.settings, site, point);
                            self.write(|player| {
                                let tick = player.tick();
                                player.schedule(tick, command);
                            });
                            if !self.playing.get_untracked() && !self.room.active.get_untracked() {
                                self.step_once();
                            } else {
                                self.log_rev.update(|r| *r += 1);
                                self.changed();
                            }
                        }
                        self.refusal.set(Some(Refusal { text, at: screen }));
                    }
                }
            }
        }
    }

    /// The missile or interceptor under screen point `at`: a missile first, then an
    /// interceptor in flight, its kill or miss marker, or its fly-out line (see
    /// [`interceptor_pick`]).
    fn object_near(&self, view: &Viewport, at: ScreenPoint) -> Option<Selected> {
        self.read(|p| {
            p.missile_near(view, at, PICK_RADIUS_PX)
                .map(Selected::Missile)
                .or_else(|| {
                    interceptor_pick(p.defense(), p.sim(), p.tick(), view, at, PICK_RADIUS_PX)
                        .map(Selected::Interceptor)
                })
        })
    }

    /// A click on the map while inspecting: selects the missile or interceptor under it, if
    /// any (an interceptor also opens the explanation of the order it was fired for);
    /// otherwise clears the selection.
    pub fn pick(&self, view: &Viewport, at: ScreenPoint) -> bool {
        let hit = self.object_near(view, at);
        if let Some(Selected::Interceptor(id)) = hit {
            self.explain_interceptor(id);
        }
        if self.selected.get_untracked() != hit {
            self.selected.set(hit);
            self.redraw.set_value(true);
        }
        hit.is_some()
    }

    /// The pointer moved over the map.
    pub fn pointer_moved(&self, view: &Viewport, at: Option<ScreenPoint>) {
        self.cursor_px.set(at);
        let hit = at.and_then(|a| self.object_near(view, a));
        if self.hover.get_untracked() != hit {
            self.hover.set(hit);
            self.redraw.set_value(true);
        }
        if let (Some(r), Some(a)) = (self.refusal.get_untracked(), at)
            && (r.at.x - a.x).hypot(r.at.y - a.y) > 8.0
        {
            self.refusal.set(None);
        }
    }
}

impl Default for SimCtx {
    fn default() -> Self {
        SimCtx::new()
    }
}

/// What the simulation layer was last drawn for: tick, history generation, view, hovered and
/// selected missiles. The layer is redrawn only when this changes (or on request).
type DrawKey = (u64, u64, Viewport, Option<MissileId>, Option<MissileId>);

/// Starts the animation-frame loop that steps the simulation and draws its layer.
pub fn start_loop(ctx: SimCtx, view: RwSignal<Viewport>, mut layer: SimLayer) {
    type Frame = Closure<dyn FnMut(f64)>;
    let slot: Rc<RefCell<Option<Frame>>> = Rc::default();
    let again = slot.clone();
    let mut last_ts: Option<f64> = None;
    let mut last_drawn: Option<DrawKey> = None;
    let mut last_log: (usize, u64, u64) = (0, u64::MAX, 0);
    let mut last_log_at = 0.0;
    // Moving averages of the frame's work (weight of the newest frame).
    const AVG: f64 = 0.1;
    let (mut step_avg, mut draw_avg) = (0.0_f64, 0.0_f64);
    let perf = window().performance();
    let now = move || perf.as_ref().map_or(0.0, web_sys::Performance::now);
    *slot.borrow_mut() = Some(Closure::new(move |ts: f64| {
        let dt_s = last_ts.map_or(0.0, |l| (ts - l) / 1000.0);
        last_ts = Some(ts);
        let playing = ctx.playing.get_untracked();
        let mut stop = false;
        let mut step_ms = 0.0;
        if ctx.room.active.get_untracked() {
            // In a room the relay's clock drives the simulation, whatever `playing` says.
            let start = now();
            crate::room_panel::frame(ctx);
            step_ms = now() - start;
        } else if playing {
            let start = now();
            let mut n = 0;
            ctx.clock
                .update_value(|c| n = c.advance(dt_s, MAX_TICKS_PER_FRAME));
            let mut out_of_time = false;
            ctx.write(|player| {
                // The engagement over (nothing flying, nothing left to launch): stop at that
                // very tick, so the end of the timeline does not depend on the frame rate.
                stop = player.finished();
                for _ in 0..n {
                    if stop {
                        break;
                    }
                    player.step();
                    stop = player.finished();
                    if now() - start > STEP_BUDGET_MS {
                        out_of_time = true;
                        break;
                    }
                }
            });
            if out_of_time {
                ctx.clock.update_value(Clock::drop_debt);
            }
            step_ms = now() - start;
        }
        step_avg += AVG * (step_ms - step_avg);
        if stop {
            ctx.playing.set(false);
        }

        let redraw = ctx.redraw.get_value();
        ctx.redraw.set_value(false);
        let v = view.get_untracked();
        let playing = ctx.playing.get_untracked();
        let old = ctx.status.get_untracked();
        // The canvas draws missiles; interceptors are drawn (and highlighted) in the SVG.
        let hover = ctx.hover.get_untracked().and_then(Selected::missile);
        let selected = ctx.selected.get_untracked().and_then(Selected::missile);
        let (status, log_now) = ctx.read(|player| {
            let key = (player.tick(), player.generation(), v, hover, selected);
            let mut draw_ms = 0.0;
            if redraw || last_drawn != Some(key) {
                let dpr = window().device_pixel_ratio().clamp(1.0, 4.0);
                let start = now();
                if let Err(e) = layer.draw(&v, dpr, player, hover, selected) {
                    leptos::logging::error!("simulation drawing failed: {e:?}");
                }
                draw_ms = now() - start;
                last_drawn = Some(key);
            }
            draw_avg += AVG * (draw_ms - draw_avg);
            let status = Status {
                tick: player.tick(),
                horizon: player.horizon(),
                missiles: player.sim().missiles().len(),
                hash: if playing {
                    None
                } else if old.hash.is_some() && old.tick == player.tick() {
                    old.hash
                } else {
                    Some(player.sim().state_hash())
                },
                // Rounded, so that an idle page does not publish a new status every frame.
                step_ms: (step_avg * 10.0).round() / 10.0,
                draw_ms: (draw_avg * 10.0).round() / 10.0,
                radars: player.sim().radars().len(),
                tracks_confirmed: player
                    .sim()
                    .tracker()
                    .tracks()
                    .iter()
                    .filter(|t| t.status == sim_core::tracking::TrackStatus::Confirmed)
                    .count(),
                tracks_tentative: player
                    .sim()
                    .tracker()
                    .tracks()
                    .iter()
                    .filter(|t| t.status == sim_core::tracking::TrackStatus::Tentative)
                    .count(),
                finished: !player.is_relayed() && player.finished(),
            };
            (
                status,
                (
                    player.lines().len(),
                    player.generation(),
                    player.detections(),
                ),
            )
        });
        let t = now();
        let every = if ctx.speed.get_untracked() > FAST_SPEED {
            LOG_REFRESH_FAST_MS
        } else {
            LOG_REFRESH_MS
        };
        let log_due = log_now != last_log && (!playing || t - last_log_at > every);
        if status != old {
            ctx.status.set(status);
        }
        if log_due {
            last_log = log_now;
            last_log_at = t;
            ctx.log_rev.update(|r| *r += 1);
        }
        if let Some(f) = again.borrow().as_ref() {
            let _ = window().request_animation_frame(f.as_ref().unchecked_ref());
        }
    }));
    if let Some(f) = slot.borrow().as_ref() {
        let _ = window().request_animation_frame(f.as_ref().unchecked_ref());
    }
    // The loop runs as long as the page: the closure keeps itself alive through `slot`.
    std::mem::forget(slot);
}

/// Space plays or pauses; Esc steps the launch tool back (new site, then tool off), or clears
/// the selection when that tool is off.
pub fn install_sim_keys(ctx: SimCtx) {
    let handle = window_event_listener(ev::keydown, move |ev| {
        if ev.ctrl_key() || ev.meta_key() || ev.alt_key() {
            return;
        }
        let tag = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .map(|el| el.tag_name());
        if matches!(tag.as_deref(), Some("INPUT" | "TEXTAREA" | "SELECT")) {
            return;
        }
        match ev.key().as_str() {
            // A focused button takes the space bar itself.
            // In a room the relay's clock runs the simulation: nothing to play or pause.
            " " if tag.as_deref() != Some("BUTTON") && !ctx.room.active.get_untracked() => {
                ev.prevent_default();
                ctx.toggle_play();
            }
            "Escape" => {
                // With no launch tool to step back, Esc clears the selection.
                if !ctx.tool.get_untracked().active {
                    ctx.selected.set(None);
                    ctx.redraw.set_value(true);
                }
                ctx.refusal.set(None);
                ctx.radar.tool.set(false);
                ctx.tool.update(|t| match t.stage {
                    LaunchStage::PickTarget { .. } => t.stage = LaunchStage::PickSite,
                    LaunchStage::PickSite => t.active = false,
                });
            }
            _ => {}
        }
    });
    std::mem::forget(handle);
}

fn label_of(kind: MissileKind) -> String {
    let t = kind.params();
    format!("{} ({:.0} km)", kind.name(), t.max_range_m / 1000.0)
}

/// The launch tool: missile class, profile, salvo, and the preset picker.
#[component]
pub fn LaunchPanel(
    /// Shared simulation handles.
    ctx: SimCtx,
) -> impl IntoView {
    let tool = ctx.tool;
    let open = RwSignal::new(
        window()
            .inner_width()
            .ok()
            .and_then(|w| w.as_f64())
            .is_none_or(|w| w > 600.0),
    );
    let set = move |f: &dyn Fn(&mut LaunchSettings)| tool.update(|t| f(&mut t.settings));
    let instructions = move || {
        let t = tool.get();
        match (t.active, t.stage) {
            (false, _) => "Turn the tool on, then click a launch site and a target.".to_string(),
            (true, LaunchStage::PickSite) => "Click the launch site.".to_string(),
            (true, LaunchStage::PickTarget { site }) => format!(
                "From {}: click the target (Esc: new site).",
                format_geo(site, 2)
            ),
        }
    };
    let preset = ctx.preset;
    view! {
        <section id="launch-panel" class="panel launch-panel" aria-label="Launch tool">
            <header class="panel-head">
                <h2>"Launch"</h2>
                <button
                    type="button"
                    class="fold"
                    aria-expanded=move || open.get().to_string()
                    aria-label="Show or hide the launch tool"
                    on:click=move |_| open.update(|o| *o = !*o)
                >
                    {move || if open.get() { "−" } else { "+" }}
                </button>
            </header>
            <div class="panel-body" class:hidden=move || !open.get()>
                <label class="row">
                    "Scenario "
                    <select
                        id="preset"
                        disabled=move || ctx.room.active.get()
                        on:change=move |ev| ctx.load_preset(&event_target_value(&ev))
                        prop:value=move || preset.get()
                    >
                        {PRESETS
                            .iter()
                            .map(|p| view! { <option value=p.id>{p.name}</option> })
                            .collect_view()}
                        // An opened link or file names itself here (always in the list, so
                        // that the select can show it, hidden otherwise).
                        <option
                            value=crate::share::SHARED_PRESET
                            hidden=move || preset.get() != crate::share::SHARED_PRESET
                        >
                            {move || format!("{} (opened)", ctx.scenario_name().unwrap_or_else(|| "Shared scenario".into()))}
                        </option>
                    </select>
                </label>
                <button
                    id="launch-mode"
                    type="button"
                    class="tool-toggle"
                    class:active=move || tool.get().active
                    aria-pressed=move || tool.get().active.to_string()
                    on:click=move |_| {
                        tool.update(|t| {
                            t.active = !t.active;
                            t.stage = LaunchStage::PickSite;
                        });
                        if tool.get_untracked().active {
                            ctx.radar.tool.set(false);
                        }
                    }
                >
                    {move || if tool.get().active { "Launch tool: on" } else { "Launch tool: off" }}
                </button>
                <label class="row">
                    "Missile "
                    <select
                        id="missile-type"
                        on:change=move |ev| {
                            if let Ok(k) = MissileKind::parse(&event_target_value(&ev)) {
                                set(&|s| s.kind = k);
                            }
                        }
                        prop:value=move || tool.get().settings.kind.name()
                    >
                        {MissileKind::ALL
                            .iter()
                            .map(|k| view! { <option value=k.name()>{label_of(*k)}</option> })
                            .collect_view()}
                    </select>
                </label>
                <label class="row">
                    "Profile "
                    <select
                        id="profile"
                        on:change=move |ev| {
                            if let Ok(p) = sim_core::targeting::Profile::parse(&event_target_value(&ev)) {
                                set(&|s| s.profile = p);
                            }
                        }
                        prop:value=move || tool.get().settings.profile.name()
                    >
                        {PROFILES
                            .iter()
                            .map(|p| view! { <option value=p.name()>{p.name()}</option> })
                            .collect_view()}
                    </select>
                </label>
                <div class="row salvo">
                    <label>
                        "Salvo "
                        <input
                            id="salvo-count"
                            type="number"
                            min="1"
                            max=launch::MAX_SALVO
                            step="1"
                            prop:value=move || tool.get().settings.count.to_string()
                            on:change=move |ev| {
                                let n = event_target_value(&ev)
                                    .trim()
                                    .parse::<u32>()
                                    .unwrap_or(1)
                                    .clamp(1, launch::MAX_SALVO);
                                set(&|s| s.count = n);
                            }
                        />
                    </label>
                    <label>
                        " every "
                        <input
                            id="salvo-spacing"
                            type="number"
                            min="0"
                            max=launch::MAX_SPACING_S
                            step="0.1"
                            prop:value=move || tool.get().settings.spacing_s.to_string()
                            on:change=move |ev| {
                                let s_ = event_target_value(&ev)
                                    .trim()
                                    .parse::<f64>()
                                    .ok()
                                    .filter(|x| x.is_finite())
                                    .unwrap_or(0.0)
                                    .clamp(0.0, launch::MAX_SPACING_S);
                                set(&|s| s.spacing_s = s_);
                            }
                        />
                        " s"
                    </label>
                </div>
                <p id="launch-instructions" class="hint">{instructions}</p>
            </div>
        </section>
    }
}

/// Play, pause, step, restart, speed and the timeline.
#[component]
pub fn PlaybackBar(
    /// Shared simulation handles.
    ctx: SimCtx,
) -> impl IntoView {
    let status = ctx.status;
    let playing = ctx.playing;
    // Playing, or in a room: the room's clock running.
    let running = move || {
        if ctx.room.active.get() {
            ctx.room.clock().is_some_and(|(paused, _)| !paused)
        } else {
            playing.get()
        }
    };
    let time = move || {
        let s = status.get();
        format!(
            "T+{:.1} s / {:.1} s",
            s.tick as f64 * TICK_S,
            s.horizon as f64 * TICK_S
        )
    };
    // The end of the engagement, paused there (never in a room, whose clock is the relay's).
    let finished = move || !running() && status.get().finished && !ctx.room.active.get();
    view! {
        <section id="playback" class="panel playback" aria-label="Playback">
            <button
                id="play"
                type="button"
                aria-label=move || {
                    if running() {
                        "Pause"
                    } else if finished() {
                        "Replay from the start"
                    } else {
                        "Play"
                    }
                }
                title=move || {
                    if ctx.room.active.get() && !ctx.room.can_set_clock() {
                        if ctx.room.can_command() {
                            "Only the room's operators can pause it or change its speed"
                        } else {
                            "Only players with the room token can pause or change the speed"
                        }
                    } else if finished() {
                        "The engagement is over: replay it from the start (space)"
                    } else {
                        "Play or pause (space); in a room, pauses or resumes it for everyone"
                    }
                }
                // In a room the relay's clock runs: players ask it to pause, observers watch.
                disabled=move || ctx.room.active.get() && !ctx.room.can_set_clock()
                on:click=move |_| {
                    if ctx.room.active.get_untracked() {
                        let (paused, speed) = ctx.room.clock().unwrap_or((false, 1));
                        crate::room_panel::set_clock(ctx, !paused, speed);
                        return;
                    }
                    ctx.toggle_play();
                }
            >
                // Plain words: headless and minimal systems lack the media-control glyphs.
                {move || {
                    if running() {
                        "Pause"
                    } else if finished() {
                        "Replay"
                    } else {
                        "Play"
                    }
                }}
            </button>
            <button id="step" type="button" aria-label="Step one tick" title="Step 0.1 s" disabled=move || ctx.room.active.get() on:click=move |_| ctx.step_once()>
                "Step"
            </button>
            <button id="restart" type="button" aria-label="Restart" title="Back to the start" disabled=move || ctx.room.active.get() on:click=move |_| ctx.restart()>
                "Restart"
            </button>
            <label class="speed">
                <span class="visually-hidden">"Speed"</span>
                <select
                    id="speed"
                    aria-label="Speed"
                    title="Speed (] faster, [ slower)"
                    disabled=move || ctx.room.active.get() && !ctx.room.can_set_clock()
                    prop:value=move || {
                        if ctx.room.active.get() {
                            format!("{}", ctx.room.clock().map_or(1, |(_, s)| s))
                        } else {
                            format!("{}", ctx.speed.get())
                        }
                    }
                    on:change=move |ev| {
                        if ctx.room.active.get_untracked() {
                            let paused = ctx.room.clock().is_some_and(|(p, _)| p);
                            let s = event_target_value(&ev).parse::<u32>().unwrap_or(1);
                            crate::room_panel::set_clock(ctx, paused, s);
                            return;
                        }
                        let s = event_target_value(&ev).parse::<f64>().unwrap_or(1.0);
                        let mut speed = 1.0;
                        ctx.clock.update_value(|c| {
                            c.set_speed(s);
                            speed = c.speed;
                        });
                        ctx.speed.set(speed);
                    }
                >
                    // A room runs at the relay's speeds only.
                    {move || {
                        let speeds: Vec<f64> = if ctx.room.active.get() {
                            ALLOWED_SPEEDS.iter().map(|&s| f64::from(s)).collect()
                        } else {
                            SPEEDS.to_vec()
                        };
                        speeds
                            .into_iter()
                            .map(|s| view! { <option value=format!("{s}")>{format!("{s}x")}</option> })
                            .collect_view()
                    }}
                </select>
            </label>
            <input
                id="timeline"
                type="range"
                min="0"
                step="1"
                aria-label="Timeline"
                disabled=move || ctx.room.active.get()
                prop:max=move || status.get().horizon.to_string()
                prop:value=move || status.get().tick.to_string()
                on:input=move |ev| {
                    if let Ok(t) = event_target_value(&ev).parse::<u64>() {
                        ctx.seek(t);
                    }
                }
            />
            <span
                id="sim-time"
                class="sim-time"
                data-tick=move || status.get().tick.to_string()
                data-horizon=move || status.get().horizon.to_string()
                data-missiles=move || status.get().missiles.to_string()
                data-playing=move || playing.get().to_string()
                data-hash=move || status.get().hash.map(|h| format!("{h:016x}")).unwrap_or_default()
                data-step-ms=move || format!("{:.1}", status.get().step_ms)
                data-draw-ms=move || format!("{:.1}", status.get().draw_ms)
                data-radars=move || status.get().radars.to_string()
                data-tracks-confirmed=move || status.get().tracks_confirmed.to_string()
                data-tracks-tentative=move || status.get().tracks_tentative.to_string()
                data-finished=move || finished().to_string()
            >
                {time}
            </span>
            // What is loaded, and whether it plays: a preset or a link plays as it opens.
            <span id="scenario-name" class="scenario-name" role="status" aria-live="polite">
                {move || {
                    if ctx.room.active.get() {
                        return None;
                    }
                    let name = ctx.scenario_name()?;
                    Some(format!("{name} · {}", if running() { "playing" } else { "paused" }))
                }}
            </span>
            <span id="finished" class="finished-note" role="status" aria-live="polite">
                {move || finished().then_some("Finished")}
            </span>
        </section>
    }
}

/// Counters and the event log; a click on an entry centres the map on its place.
#[component]
pub fn EventLog(
    /// Shared simulation handles.
    ctx: SimCtx,
    /// The map's viewport, to centre on an event.
    view: RwSignal<Viewport>,
) -> impl IntoView {
    let open = RwSignal::new(
        window()
            .inner_width()
            .ok()
            .and_then(|w| w.as_f64())
            .is_none_or(|w| w > 600.0),
    );
    let lines = move || {
        ctx.log_rev.track();
        let shown = if ctx.playing.get() {
            LOG_LINES_PLAYING
        } else {
            LOG_LINES_SHOWN
        };
        ctx.read(|p| {
            let all = p.lines();
            let c = Counters::of(all, p.detections());
            // Keyed by their place in the whole log (and the history's generation, since a new
            // command rewrites the log after it): a refresh then adds only the new rows.
            let generation = p.generation();
            let newest: Vec<((u64, usize), LogLine)> = all
                .iter()
                .cloned()
                .enumerate()
                .rev()
                .take(shown)
                .map(|(i, l)| ((generation, i), l))
                .collect();
            (c, newest)
        })
    };
    let data = Memo::new(move |_| lines());
    view! {
        <section id="event-log" class="panel event-log" aria-label="Event log">
            <header class="panel-head">
                <h2>"Events"</h2>
                <button
                    type="button"
                    class="fold"
                    aria-expanded=move || open.get().to_string()
                    aria-label="Show or hide the event log"
                    on:click=move |_| open.update(|o| *o = !*o)
                >
                    {move || if open.get() { "−" } else { "+" }}
                </button>
            </header>
            {move || {
                let c = data.with(|d| d.0);
                view! {
                    <p
                        id="counters"
                        class="counters"
                        data-launches=c.launches.to_string()
                        data-impacts=c.impacts.to_string()
                        data-rejected=c.rejected.to_string()
                        data-in-flight=c.in_flight().to_string()
                        data-killed=c.killed.to_string()
                        data-detections=c.detections.to_string()
                        data-confirmed=c.confirmed.to_string()
                        data-deleted=c.deleted.to_string()
                        data-latency=c.mean_latency_s().map(|l| format!("{l:.2}")).unwrap_or_default()
                    >
                        {format!(
                            "Launches {} · in flight {} · killed {} · impacts {} · refused {}",
                            c.launches,
                            c.in_flight(),
                            c.killed,
                            c.impacts,
                            c.rejected,
                        )}
                        <br />
                        {format!(
                            "Detections {} · tracks confirmed {} · dropped {} · correlation latency {}",
                            c.detections,
                            c.confirmed,
                            c.deleted,
                            c.mean_latency_s().map_or_else(|| "—".to_string(), |l| format!("{l:.1} s")),
                        )}
                    </p>
                }
            }}
            <crate::defense_panel::DefenseCounters ctx />
            <ol class="log-lines" class:hidden=move || !open.get()>
                <For
                    each=move || data.with(|d| d.1.clone())
                    key=|(i, _)| *i
                    children=move |(_, l)| log_row(l, view, ctx)
                />
            </ol>
        </section>
    }
}

/// One row of the event log; an engagement order also opens its explanation.
fn log_row(l: LogLine, view: RwSignal<Viewport>, ctx: SimCtx) -> impl IntoView {
    let place = l.place;
    let (lat, lon) = place
        .map(|p| (format!("{:.6}", p.lat_deg), format!("{:.6}", p.lon_deg)))
        .unwrap_or_default();
    let text = format!("T+{:.1} s  {}", l.time_s, l.text);
    let explains = l.kind == "engagement-ordered";
    let line = l.clone();
    view! {
        <li
            class="log-line"
            data-kind=l.kind.clone()
            data-tick=l.tick.to_string()
            data-lat=lat
            data-lon=lon
            data-missile=l.missile.map(|m| m.0.to_string()).unwrap_or_default()
        >
            <button
                type="button"
                class=format!("log-entry kind-{}", l.kind)
                disabled=place.is_none() && !explains
                title=if explains { "Explain this engagement" } else { "Show on the map" }
                on:click=move |_| {
                    ctx.explain_line(&line);
                    if let Some(p) = place {
                        let at = p;
                        view.update(|v| *v = v.centered_on(at, 6.0));
                    }
                }
            >
                {text}
            </button>
        </li>
    }
}

/// A selection's title and readout (lat, lon, altitude m, speed m/s, phase) now; `None`
/// when it does not exist at the current tick.
fn describe(player: &Player, sel: Selected) -> Option<(String, [String; 5])> {
    match sel {
        Selected::Missile(id) => describe_missile(player, id),
        Selected::Interceptor(id) => describe_interceptor(player, id),
    }
}

/// An interceptor in flight (its state) or ended (where, and kill or miss; no speed).
fn describe_interceptor(
    player: &Player,
    id: sim_core::engine::defense::InterceptorId,
) -> Option<(String, [String; 5])> {
    let tick = player.tick();
    let f = player
        .defense()
        .fly_out(id)
        .filter(|f| f.launch_tick < tick)?;
    let title = format!("{id} {} from {}", f.kind, f.battery_call_sign);
    if let Some(e) = f.ended_before(tick) {
        return Some((
            title,
            [
                format!("{:.6}", e.at.lat_deg),
                format!("{:.6}", e.at.lon_deg),
                format!("{:.0}", e.alt_m),
                String::new(),
                if e.kill { "kill" } else { "miss" }.to_string(),
            ],
        ));
    }
    let v = interceptor_views(player.sim())
        .into_iter()
        .find(|v| v.id == id)?;
    Some((
        title,
        fields(v.lat_deg, v.lon_deg, v.alt_m, v.speed_m_s, &v.phase),
    ))
}

/// The selection readout's fields: latitude, longitude, altitude (m), speed (m/s) and the
/// phase by its serde name.
fn fields(
    lat: f64,
    lon: f64,
    alt_m: f64,
    speed_m_s: f64,
    phase: &impl serde::Serialize,
) -> [String; 5] {
    let phase = serde_json::to_value(phase)
        .ok()
        .and_then(|j| j.as_str().map(str::to_string))
        .unwrap_or_default();
    [
        format!("{lat:.6}"),
        format!("{lon:.6}"),
        format!("{alt_m:.0}"),
        format!("{speed_m_s:.0}"),
        phase,
    ]
}

/// "12.3 km · 1500 m/s · coast" (the speed left out when unknown).
fn readout(alt_m: &str, speed: &str, phase: &str) -> String {
    let km = alt_m.parse::<f64>().unwrap_or(0.0) / 1000.0;
    if speed.is_empty() {
        format!("{km:.1} km · {phase}")
    } else {
        format!("{km:.1} km · {speed} m/s · {phase}")
    }
}

fn describe_missile(player: &Player, id: MissileId) -> Option<(String, [String; 5])> {
    let sim = player.sim();
    let v = sim.missile_view(id)?;
    let m = sim.missiles().iter().find(|m| m.id == id)?;
    let title = format!(
        "#{} {}{}",
        id.0,
        v.missile_type,
        m.label
            .as_ref()
            .map(|l| format!(" · {l}"))
            .unwrap_or_default()
    );
    Some((
        title,
        fields(v.lat_deg, v.lon_deg, v.alt_m, v.speed_m_s, &v.phase),
    ))
}

/// The label that follows the pointer over a missile (an interceptor's is
/// [`crate::defense_panel::DefenseHover`]).
#[component]
pub fn HoverLabel(
    /// Shared simulation handles.
    ctx: SimCtx,
) -> impl IntoView {
    let content = move || {
        ctx.status.track();
        let id = ctx.hover.get()?.missile()?;
        let at = ctx.cursor_px.get()?;
        let (title, [_, _, alt, speed, phase]) = ctx.read(|p| describe_missile(p, id))?;
        Some(view! {
            <div
                id="hover-label"
                class="hover-label"
                style:left=format!("{:.0}px", at.x + 14.0)
                style:top=format!("{:.0}px", at.y + 14.0)
            >
                <strong>{title}</strong>
                <span>{readout(&alt, &speed, &phase)}</span>
            </div>
        })
    };
    view! { {content} }
}

/// The selected missile's or interceptor's readout.
#[component]
pub fn SelectionPanel(
    /// Shared simulation handles.
    ctx: SimCtx,
) -> impl IntoView {
    let selected = ctx.selected;
    let content = move || {
        ctx.status.track();
        let sel = selected.get()?;
        let (title, [lat, lon, alt, speed, phase]) = ctx.read(|p| describe(p, sel))?;
        let line = readout(&alt, &speed, &phase);
        Some(view! {
            <section
                id="selection"
                class="panel selection-panel"
                aria-live="polite"
                data-missile=sel.missile().map(|m| m.0.to_string())
                data-interceptor=sel.interceptor().map(|i| i.0.to_string())
                data-lat=lat.clone()
                data-lon=lon.clone()
                data-alt=alt
                data-phase=phase.clone()
            >
                <h2>{title}</h2>
                <p>{format!("{lat}, {lon}")}</p>
                <p>{line}</p>
                <button type="button" aria-label="Clear the selection" on:click=move |_| selected.set(None)>
                    "Clear"
                </button>
            </section>
        })
    };
    view! { {content} }
}

/// The launch tool's map overlay (inside the map's SVG): the launch site and the maximum-range
/// ring while a target is being chosen.
#[component]
pub fn LaunchOverlay(
    /// Shared simulation handles.
    ctx: SimCtx,
    /// The map's viewport.
    view: RwSignal<Viewport>,
) -> impl IntoView {
    let tool = ctx.tool;
    // The ring's points change only with the site and the class: a memo spares recomputing
    // them on every pan.
    let ring = Memo::new(move |_| {
        let t = tool.get();
        match (t.active, t.stage) {
            (true, LaunchStage::PickTarget { site }) => {
                let radius = ctx.read(|p| p.sim().physics().earth.range_radius_m());
                let max = t.settings.kind.params().max_range_m;
                Some((
                    site,
                    max,
                    launch::range_ring(&site, max, radius, RING_SEGMENTS),
                    radius,
                ))
            }
            _ => None,
        }
    });
    move || {
        let v = view.get();
        ring.with(|r| {
            r.as_ref().map(|(site, max, pts, radius)| {
                // Behind the globe the site marker is moved far off screen.
                let s = v
                    .project_visible(*site)
                    .unwrap_or(ScreenPoint { x: -1e4, y: -1e4 });
                view! {
                    <g class="launch-overlay">
                        // Filled with the points closing it over a pole (when it holds one) on
                        // the flat map, along the limb on the globe; stroked along the circle
                        // only.
                        <path
                            class="range-ring-fill"
                            d=launch::svg_area(&v, pts, |p| launch::within(site, *max, *radius, p))
                        ></path>
                        <path
                            id="range-ring"
                            class="range-ring"
                            d=launch::svg_path(&v, &pts[..pts.len().min(RING_SEGMENTS + 1)])
                            data-range-km=format!("{:.0}", max / 1000.0)
                        ></path>
                        <circle
                            class="launch-site"
                            cx=format!("{:.1}", s.x)
                            cy=format!("{:.1}", s.y)
                            r="5"
                        ></circle>
                    </g>
                }
            })
        })
    }
}

/// The note at the cursor while choosing a target: the distance, or why it is refused.
#[component]
pub fn CursorHint(
    /// Shared simulation handles.
    ctx: SimCtx,
    /// The map's viewport.
    view: RwSignal<Viewport>,
) -> impl IntoView {
    move || {
        let t = ctx.tool.get();
        let LaunchStage::PickTarget { site } = t.stage else {
            return None;
        };
        if !t.active {
            return None;
        }
        let at = ctx.cursor_px.get()?;
        let (text, refused) = if let Some(r) = ctx.refusal.get() {
            (r.text, true)
        } else {
            let g = view.get().unproject(at)?;
            let physics = ctx.read(|p| *p.sim().physics());
            match launch::precheck(t.settings.kind, &site, &g, &physics) {
                Ok(d) => (
                    format!(
                        "{:.0} km · click to launch {}{}",
                        d / 1000.0,
                        t.settings.kind,
                        if t.settings.count > 1 {
                            format!(" ×{}", t.settings.count)
                        } else {
                            String::new()
                        }
                    ),
                    false,
                ),
                Err(e) => (e.to_string(), true),
            }
        };
        Some(view! {
            <div
                id="cursor-hint"
                class="cursor-hint"
                class:refused=refused
                data-refused=refused.to_string()
                role="status"
                style:left=format!("{:.0}px", at.x + 16.0)
                style:top=format!("{:.0}px", at.y - 10.0)
            >
                {text}
            </div>
        })
    }
}
