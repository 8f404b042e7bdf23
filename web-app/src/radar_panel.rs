//! Radars on the map: the radar tool (class, call sign, boresight; a click places one), the
//! selection and its editor (class, sector, boresight, delete), dragging a radar to move it
//! (shift-drag turns its boresight towards the pointer),
//! and the SVG overlay with each radar's coverage footprint and sector edges.
//!
//! Every change goes through the engine's commands (`place-radar`, `move-radar`,
//! `remove-radar`) scheduled in the [`crate::playback::Player`]'s command log at the current
//! tick, so radars are replayed by a seek exactly like launches. A class or sector change is
//! a removal followed by a placement at the same tick (the engine has no "edit" command). While
//! paused, a radar command runs one tick at once, so the change shows without pressing play.
//!
//! Reactive choices: the radar list is a memo over the published status (it only changes when a
//! command applies); footprints are a memo over that list, the chosen altitude and the radar
//! being dragged, so panning recomputes only the SVG paths.

use leptos::prelude::*;
use sim_core::engine::Command;
use sim_core::engine::sensing::RadarPlacement;
use sim_core::radar::{RadarId, RadarKind, RadarSite};

use crate::launch::{svg_area, svg_path};
use crate::panels::SimCtx;
use crate::radar_view::{DEFAULT_COVERAGE_ALT_M, Footprint, MAX_COVERAGE_ALT_M, footprint};
use crate::view::{GeoPoint, ScreenPoint, Viewport};

/// Pointer distance (px) within which a radar is picked or dragged.
const PICK_RADIUS_PX: f64 = 10.0;
/// A missile this close to the pointer (px) takes the press instead of a radar.
const MISSILE_PICK_RADIUS_PX: f64 = 10.0;
/// Pointer travel (px) that makes a press on a radar a drag rather than a click.
const DRAG_THRESHOLD_PX: f64 = 3.0;

/// A radar being dragged.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Drag {
    /// Which radar.
    pub radar: RadarId,
    /// Where it would go now.
    pub to: GeoPoint,
    /// Where the press started (screen).
    pub from_px: ScreenPoint,
    /// Whether the pointer has moved beyond the click threshold.
    pub moved: bool,
    /// Shift-drag: turn the radar towards the pointer instead of moving it.
    pub rotate: bool,
    /// The boresight the radar would get (deg clockwise from north).
    pub boresight_deg: f64,
}

/// The radar tool's state and the radar selection (all `Copy` handles).
#[derive(Clone, Copy)]
pub struct RadarUi {
    /// Whether map clicks place radars.
    pub tool: RwSignal<bool>,
    /// Class of the next radar.
    pub kind: RwSignal<RadarKind>,
    /// Call sign of the next radar.
    pub call_sign: RwSignal<String>,
    /// Boresight of the next radar (deg clockwise from north).
    pub boresight_deg: RwSignal<f64>,
    /// Target altitude the coverage is drawn for (km).
    pub coverage_alt_km: RwSignal<f64>,
    /// The selected radar.
    pub selected: RwSignal<Option<RadarId>>,
    /// The radar being dragged.
    pub drag: RwSignal<Option<Drag>>,
    /// Radars placed from this page (for default call signs).
    placed: RwSignal<u32>,
}

impl RadarUi {
    /// Tool off, a TPY-2 next, coverage against a target at 30 km.
    pub fn new() -> RadarUi {
        RadarUi {
            tool: RwSignal::new(false),
            kind: RwSignal::new(RadarKind::AnTpy2),
            call_sign: RwSignal::new("RAD_1".to_string()),
            boresight_deg: RwSignal::new(0.0),
            coverage_alt_km: RwSignal::new(DEFAULT_COVERAGE_ALT_M / 1000.0),
            selected: RwSignal::new(None),
            drag: RwSignal::new(None),
            placed: RwSignal::new(1),
        }
    }
}

impl Default for RadarUi {
    fn default() -> Self {
        RadarUi::new()
    }
}

impl SimCtx {
    /// Logs radar commands at the current tick; while paused, runs that tick so they show.
    pub fn radar_commands(&self, commands: Vec<Command>) {
        let playing = self.playing.get_untracked();
        self.write(|p| {
            let t = p.tick();
            for c in commands {
                p.schedule(t, c);
            }
            if !playing {
                p.step();
            }
        });
        self.log_rev.update(|r| *r += 1);
        self.changed();
    }

    /// Places a radar from the tool's settings at `at` and selects it.
    pub fn place_radar(&self, at: GeoPoint) {
        let ui = self.radar;
        let mut call_sign = ui.call_sign.get_untracked().trim().to_string();
        if call_sign.is_empty() {
            call_sign = format!("RAD_{}", ui.placed.get_untracked());
        }
        let placement = RadarPlacement {
            call_sign: call_sign.clone(),
            kind: ui.kind.get_untracked(),
            position: at,
            height_m: 10.0,
            boresight_az_deg: ui.boresight_deg.get_untracked(),
            sector_half_width_deg: None,
            min_el_deg: None,
            max_el_deg: None,
            revisit_s: None,
        };
        self.radar_commands(vec![Command::PlaceRadar(placement)]);
        ui.placed.update(|n| *n += 1);
        ui.call_sign
            .set(format!("RAD_{}", ui.placed.get_untracked()));
        self.select_radar_named(&call_sign);
    }

    fn select_radar_named(&self, call_sign: &str) {
        let id = self.read(|p| {
            p.sim()
                .radars()
                .iter()
                .rev()
                .find(|r| r.site.call_sign == call_sign)
                .map(|r| r.site.id)
        });
        self.radar.selected.set(id);
    }

    /// A press on the map: starts dragging the radar under it, if any (a missile under the
    /// pointer wins: the press is then a click that selects it).
    pub fn radar_down(&self, view: &Viewport, at: ScreenPoint, rotate: bool) -> bool {
        let hit = self.read(|p| {
            if p.missile_near(view, at, MISSILE_PICK_RADIUS_PX).is_some() {
                return None;
            }
            let id = p.radar_near(view, at, PICK_RADIUS_PX)?;
            let r = p.sim().radars().iter().find(|r| r.site.id == id)?;
            Some((id, r.site.position, r.site.boresight_az_deg))
        });
        let Some((radar, to, boresight_deg)) = hit else {
            return false;
        };
        self.radar.selected.set(Some(radar));
        self.radar.drag.set(Some(Drag {
            radar,
            to,
            from_px: at,
            moved: false,
            rotate,
            boresight_deg,
        }));
        true
    }

    /// Whether a radar is being dragged (or pressed).
    pub fn radar_dragging(&self) -> bool {
        self.radar.drag.with_untracked(Option::is_some)
    }

    /// The pointer moved while a radar is pressed.
    pub fn radar_drag_to(&self, at: ScreenPoint, g: Option<GeoPoint>) {
        self.radar.drag.update(|d| {
            if let (Some(d), Some(g)) = (d.as_mut(), g) {
                if (at.x - d.from_px.x).hypot(at.y - d.from_px.y) > DRAG_THRESHOLD_PX {
                    d.moved = true;
                }
                let pointer = g;
                if d.moved && d.rotate {
                    d.boresight_deg = sim_core::earth::frames::initial_bearing_rad(&d.to, &pointer)
                        .to_degrees()
                        .rem_euclid(360.0);
                } else if d.moved {
                    d.to = pointer;
                }
            }
        });
    }

    /// The press ends: a drag moves the radar, a shift-drag turns it (a `move-radar`
    /// command either way), a click only selects.
    pub fn radar_up(&self) {
        if let Some(d) = self.radar.drag.get_untracked() {
            self.radar.drag.set(None);
            if d.moved {
                self.radar_commands(vec![Command::MoveRadar {
                    radar: d.radar,
                    position: d.to,
                    boresight_az_deg: d.rotate.then_some(d.boresight_deg),
                }]);
            }
        }
    }

    fn site_of(&self, id: RadarId) -> Option<RadarSite> {
        self.read(|p| {
            p.sim()
                .radars()
                .iter()
                .find(|r| r.site.id == id)
                .map(|r| r.site.clone())
        })
    }

    /// Replaces radar `id` by one of class `kind` and sector half-width `half_deg` at the same
    /// place, with the same call sign, height and boresight.
    fn rebuild_radar(&self, id: RadarId, kind: RadarKind, half_deg: Option<f64>) {
        let Some(site) = self.site_of(id) else {
            return;
        };
        let placement = RadarPlacement {
            call_sign: site.call_sign.clone(),
            kind,
            position: site.position,
            height_m: site.height_m,
            boresight_az_deg: site.boresight_az_deg,
            sector_half_width_deg: half_deg,
            min_el_deg: None,
            max_el_deg: None,
            revisit_s: None,
        };
        self.radar_commands(vec![
            Command::RemoveRadar { radar: id },
            Command::PlaceRadar(placement),
        ]);
        self.select_radar_named(&site.call_sign);
    }
}

fn parse_finite(text: &str) -> Option<f64> {
    text.trim().parse::<f64>().ok().filter(|x| x.is_finite())
}

/// The radar tool and the selected radar's editor.
#[component]
pub fn RadarPanel(
    /// Shared simulation handles.
    ctx: SimCtx,
) -> impl IntoView {
    let ui = ctx.radar;
    // Folded at first: unfolded, it would cover part of the map people click first.
    let open = RwSignal::new(false);
    // The selected radar's site, refreshed when the simulation moves on.
    let selected = Memo::new(move |_| {
        ctx.status.track();
        ui.selected.get().and_then(|id| ctx.site_of(id))
    });
    // Selecting a radar on the map unfolds the panel to show its editor.
    Effect::new(move |_| {
        if ui.selected.get().is_some() {
            open.set(true);
        }
    });
    let kinds = move || {
        RadarKind::ALL
            .iter()
            .map(|k| view! { <option value=k.name()>{k.name()}</option> })
            .collect_view()
    };
    view! {
        <section id="radar-panel" class="panel radar-panel" aria-label="Radars">
            <header class="panel-head">
                <h2>"Radars"</h2>
                <button
                    type="button"
                    class="fold"
                    aria-expanded=move || open.get().to_string()
                    aria-label="Show or hide the radar tool"
                    on:click=move |_| open.update(|o| *o = !*o)
                >
                    {move || if open.get() { "−" } else { "+" }}
                </button>
            </header>
            <div class="panel-body" class:hidden=move || !open.get()>
                <button
                    id="radar-mode"
                    type="button"
                    class="tool-toggle"
                    class:active=move || ui.tool.get()
                    aria-pressed=move || ui.tool.get().to_string()
                    on:click=move |_| {
                        ui.tool.update(|t| *t = !*t);
                        if ui.tool.get_untracked() {
                            ctx.tool.update(|t| t.active = false);
                        }
                    }
                >
                    {move || if ui.tool.get() { "Radar tool: on" } else { "Radar tool: off" }}
                </button>
                <label class="row">
                    "Type "
                    <select
                        id="radar-type"
                        prop:value=move || ui.kind.get().name()
                        on:change=move |ev| {
                            if let Ok(k) = RadarKind::parse(&event_target_value(&ev)) {
                                ui.kind.set(k);
                            }
                        }
                    >
                        {kinds}
                    </select>
                </label>
                <label class="row">
                    "Call sign "
                    <input
                        id="radar-call-sign"
                        type="text"
                        maxlength="64"
                        prop:value=move || ui.call_sign.get()
                        on:change=move |ev| ui.call_sign.set(event_target_value(&ev))
                    />
                </label>
                <label class="row">
                    "Boresight (°) "
                    <input
                        id="radar-boresight"
                        type="number"
                        min="0"
                        max="360"
                        step="5"
                        prop:value=move || format!("{}", ui.boresight_deg.get())
                        on:change=move |ev| {
                            if let Some(b) = parse_finite(&event_target_value(&ev)) {
                                ui.boresight_deg.set(b.rem_euclid(360.0));
                            }
                        }
                    />
                </label>
                <label class="row">
                    "Coverage at (km) "
                    <input
                        id="coverage-alt"
                        type="number"
                        min="0"
                        max=format!("{}", MAX_COVERAGE_ALT_M / 1000.0)
                        step="5"
                        prop:value=move || format!("{}", ui.coverage_alt_km.get())
                        on:change=move |ev| {
                            if let Some(a) = parse_finite(&event_target_value(&ev)) {
                                ui.coverage_alt_km.set(a.clamp(0.0, MAX_COVERAGE_ALT_M / 1000.0));
                            }
                        }
                    />
                </label>
                {move || {
                    selected
                        .get()
                        .map(|site| {
                            let id = site.id;
                            let kind = site.kind;
                            view! {
                                <div
                                    id="radar-editor"
                                    class="radar-editor"
                                    data-radar=id.0.to_string()
                                    data-call-sign=site.call_sign.clone()
                                >
                                    <h3>{format!("{} · {}", site.call_sign, id)}</h3>
                                    <label class="row">
                                        "Type "
                                        <select
                                            id="sel-radar-type"
                                            prop:value=kind.name()
                                            on:change=move |ev| {
                                                if let Ok(k) = RadarKind::parse(&event_target_value(&ev)) {
                                                    ctx.rebuild_radar(id, k, None);
                                                }
                                            }
                                        >
                                            {kinds}
                                        </select>
                                    </label>
                                    <label class="row">
                                        "Sector ± (°) "
                                        <input
                                            id="sel-radar-sector"
                                            type="number"
                                            min="1"
                                            max="180"
                                            step="5"
                                            prop:value=format!("{}", site.sector_half_width_deg)
                                            on:change=move |ev| {
                                                if let Some(h) = parse_finite(&event_target_value(&ev)) {
                                                    ctx.rebuild_radar(id, kind, Some(h.clamp(1.0, 180.0)));
                                                }
                                            }
                                        />
                                    </label>
                                    <label class="row">
                                        "Boresight (°) "
                                        <input
                                            id="sel-radar-boresight"
                                            type="number"
                                            step="5"
                                            prop:value=format!("{}", site.boresight_az_deg)
                                            on:change=move |ev| {
                                                if let Some(b) = parse_finite(&event_target_value(&ev)) {
                                                    let at = site.position;
                                                    ctx.radar_commands(vec![Command::MoveRadar {
                                                        radar: id,
                                                        position: at,
                                                        boresight_az_deg: Some(b.rem_euclid(360.0)),
                                                    }]);
                                                }
                                            }
                                        />
                                    </label>
                                    <button
                                        id="radar-delete"
                                        type="button"
                                        aria-label="Delete the selected radar"
                                        on:click=move |_| {
                                            ui.selected.set(None);
                                            ctx.radar_commands(vec![Command::RemoveRadar { radar: id }]);
                                        }
                                    >
                                        "Delete"
                                    </button>
                                </div>
                            }
                        })
                }}
                <p class="hint">
                    {move || {
                        if ui.tool.get() {
                            "Click the map to place a radar."
                        } else {
                            "Drag a radar to move it, shift-drag to turn it; click one to edit it."
                        }
                    }}
                </p>
            </div>
        </section>
    }
}

/// Each radar's coverage footprint, sector edges and marker (inside the map's SVG).
#[component]
pub fn RadarOverlay(
    /// Shared simulation handles.
    ctx: SimCtx,
    /// The map's viewport.
    view: RwSignal<Viewport>,
) -> impl IntoView {
    let ui = ctx.radar;
    let sites = Memo::new(move |_| {
        ctx.status.track();
        ctx.read(|p| {
            p.sim()
                .radars()
                .iter()
                .map(|r| r.site.clone())
                .collect::<Vec<_>>()
        })
    });
    let footprints = Memo::new(move |_| {
        let alt_m = ui.coverage_alt_km.get() * 1000.0;
        let drag = ui.drag.get();
        let earth = ctx.read(|p| p.sim().physics().earth);
        sites.with(|list| {
            list.iter()
                .map(|s| {
                    let mut s = s.clone();
                    if let Some(d) = drag.filter(|d| d.radar == s.id && d.moved) {
                        s.position = d.to;
                        s.boresight_az_deg = d.boresight_deg;
                    }
                    let f = footprint(&s, &earth, alt_m);
                    (s, f)
                })
                .collect::<Vec<(RadarSite, Footprint)>>()
        })
    });
    move || {
        let v = view.get();
        let selected = ui.selected.get();
        footprints.with(|list| {
            let n = list.len();
            let items = list
                .iter()
                .map(|(s, f)| {
                    let site = s.position;
                    // Behind the globe the marker and its label are not drawn (moved far off).
                    let at = v.project_visible(site).unwrap_or(crate::view::ScreenPoint {
                        x: -1e4,
                        y: -1e4,
                    });
                    let edges: String = f.edges.iter().map(|e| svg_path(&v, e)).collect();
                    view! {
                        <g
                            class="radar"
                            class:selected=selected == Some(s.id)
                            data-radar=s.id.0.to_string()
                            data-call-sign=s.call_sign.clone()
                            data-range-km=format!("{:.0}", f.outer_m / 1000.0)
                            data-limit=f.limit.name()
                            data-boresight=format!("{:.1}", s.boresight_az_deg)
                            data-lat=format!("{:.6}", s.position.lat_deg)
                            data-lon=format!("{:.6}", s.position.lon_deg)
                        >
                            // Filled as an area (closed along the limb on the globe), stroked
                            // along the outline only.
                            <path class="coverage-fill" d=svg_area(&v, &f.outline, |p| f.covers(s, p))></path>
                            <path class="coverage" d=svg_path(&v, &f.outline)></path>
                            <path class="sector-edge" d=edges></path>
                            <rect
                                class="radar-site"
                                x=format!("{:.1}", at.x - 5.0)
                                y=format!("{:.1}", at.y - 5.0)
                                width="10"
                                height="10"
                                transform=format!("rotate(45 {:.1} {:.1})", at.x, at.y)
                            ></rect>
                            <text class="radar-label" x=format!("{:.1}", at.x + 9.0) y=format!("{:.1}", at.y - 8.0)>
                                {s.call_sign.clone()}
                            </text>
                        </g>
                    }
                })
                .collect_view();
            view! {
                <g id="radar-layer" data-radars=n.to_string()>
                    {items}
                </g>
            }
        })
    }
}
