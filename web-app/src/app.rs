//! The application's components: the map (a canvas for the base map, a canvas for the
//! simulation, an SVG overlay for the marker and the launch tool), the status bar with the
//! coordinates under the cursor and the scale bar, the marker panel and the zoom controls. The
//! simulation's panels and frame loop are in [`crate::panels`].
//!
//! Reactive choices: the [`Viewport`] is one `RwSignal` that every gesture writes; the canvas is
//! redrawn outside the reactive graph, at most once per animation frame, by an effect that only
//! *schedules* a frame when the view changes. Overlays and readouts derive from the same signal
//! with plain closures, which are cheaper than memos for values this small.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use leptos::ev;
use leptos::html;
use leptos::prelude::*;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{AddEventListenerOptions, CanvasRenderingContext2d, HtmlCanvasElement, WheelEvent};

use crate::atlas::Atlas;
use crate::defense_panel::{DefenseHover, DefenseOverlay, DefensePanel, ExplanationPanel};
use crate::map_extras::{
    DETAIL_PX_PER_DEG, DETAIL_URL, Detail, HelpOverlay, MapExtras, MapOptions, fetch_bytes,
    install_extra_keys,
};
use crate::mc_panel::MonteCarloPanel;
use crate::panels::{
    CursorHint, EventLog, HoverLabel, LaunchOverlay, LaunchPanel, PlaybackBar, SelectionPanel,
    SimCtx, install_sim_keys, start_loop,
};
use crate::plot_panel::PlotPanel;
use crate::radar_panel::{RadarOverlay, RadarPanel};
use crate::render::{MapLayers, TileCache, draw_base_map};
use crate::room_panel::RoomPanel;
use crate::sim_layer::SimLayer;
use crate::view::{
    GeoPoint, GestureOutcome, Gestures, Insets, ScreenPoint, Viewport, coordinate_decimals,
    format_distance, format_geo, wheel_zoom_factor,
};

/// Name of the `performance.mark` set when the map is first drawn (read by the browser test
/// to measure the time from navigation to the first drawn map).
pub const FIRST_MAP_MARK: &str = "mdsim:first-map";

/// A place on the map with the country it lies in, if any.
#[derive(Clone, Debug, PartialEq)]
pub struct Place {
    /// The geographic point.
    pub at: GeoPoint,
    /// Name of the country containing it (Natural Earth 1:110m), `None` at sea.
    pub country: Option<String>,
}

impl Place {
    fn locate(atlas: &Atlas, at: GeoPoint) -> Place {
        Place {
            at,
            country: atlas
                .country_at(at.lon_deg, at.lat_deg)
                .map(|c| c.name.clone()),
        }
    }
}

/// The whole application.
#[component]
pub fn App() -> impl IntoView {
    let atlas = Rc::new(Atlas::embedded_110m());
    let view = RwSignal::new(Viewport::whole_world(1280.0, 720.0));
    let cursor = RwSignal::new(None::<Place>);
    let marker = RwSignal::new(None::<Place>);
    let home = RwSignal::new(view.get_untracked());

    let sim = SimCtx::new();
    let extras = MapExtras::new();

    install_keyboard(view, home, marker);
    install_sim_keys(sim);
    install_extra_keys(view, extras, sim);

    // A scenario just loaded (a preset, an opened link or file) is framed: its sites, launch
    // points and targets fill the part of the map the panels leave free.
    Effect::new(move |_| {
        if sim.frame.get() == 0 {
            return;
        }
        let points = sim.read(crate::playback::Player::scene_points);
        view.update(|v| *v = v.framing(&points, panel_insets(v.width_px)));
    });

    view! {
        <main class="app">
            <MapView atlas view cursor marker home sim extras />
            <header class="title-bar">
                <h1>"Missile Defense Simulator"</h1>
                <p class="hint">
                    "Drag to pan · wheel or pinch to zoom · Launch tool: click a site, then a target · ? for help"
                </p>
            </header>
            <ZoomControls view home />
            <MapOptions view extras />
            <MarkerPanel marker view />
            <LaunchPanel ctx=sim />
            <RadarPanel ctx=sim />
            <DefensePanel ctx=sim />
            <ExplanationPanel ctx=sim />
            <RoomPanel ctx=sim />
            <EventLog ctx=sim view />
            <SelectionPanel ctx=sim />
            <PlotPanel ctx=sim />
            <MonteCarloPanel ctx=sim />
            <PlaybackBar ctx=sim />
            <crate::share::SharePanel ctx=sim />
            <StatusBar cursor view />
            <HelpOverlay extras />
        </main>
    }
}

/// The map's edges that panels cover (CSS pixels) on a map this wide, kept free when a
/// scenario is framed (see `public/style.css`): on a wide screen the launch, radar and
/// defence panels on the left, the event log on the right, the title and share bar above,
/// the playback bar below; on a phone the panels above and the log and playback below.
fn panel_insets(width_px: f64) -> Insets {
    if width_px > 900.0 {
        Insets {
            left: 300.0,
            right: 384.0,
            top: 84.0,
            bottom: 110.0,
        }
    } else {
        Insets {
            left: 12.0,
            right: 60.0,
            top: 160.0,
            bottom: 220.0,
        }
    }
}

/// Canvas and overlay, plus the pointer and wheel gestures that move them.
#[component]
fn MapView(
    /// The world's countries and coastlines.
    atlas: Rc<Atlas>,
    /// The shared viewport, written by every gesture.
    view: RwSignal<Viewport>,
    /// The place under the pointer, for the status bar.
    cursor: RwSignal<Option<Place>>,
    /// The clicked place.
    marker: RwSignal<Option<Place>>,
    /// The initial whole-world view, for the reset button.
    home: RwSignal<Viewport>,
    /// The simulation: its layer is drawn here and map clicks may launch or select.
    sim: SimCtx,
    /// Tile layer, detailed atlas and repaint requests.
    extras: MapExtras,
) -> impl IntoView {
    let container = NodeRef::<html::Div>::new();
    let canvas = NodeRef::<html::Canvas>::new();
    let sim_canvas = NodeRef::<html::Canvas>::new();
    let track_canvas = NodeRef::<html::Canvas>::new();
    let painter: Rc<RefCell<Option<Painter>>> = Rc::default();
    let frame_pending = Rc::new(Cell::new(false));
    let gestures = Rc::new(RefCell::new(Gestures::default()));
    let countries_drawn = RwSignal::new(0_usize);

    // Build the layers once the canvas exists, fit the view to the container, draw.
    canvas.on_load({
        let painter = painter.clone();
        let atlas = atlas.clone();
        move |element: HtmlCanvasElement| match Painter::new(element, &atlas, extras) {
            Ok(p) => {
                countries_drawn.set(p.layers.country_count);
                *painter.borrow_mut() = Some(p);
                if let Some(div) = container.get_untracked() {
                    let rect = div.get_bounding_client_rect();
                    let fitted = Viewport::whole_world(rect.width(), rect.height());
                    home.set(fitted);
                    // A scenario opened before the map had its size (a link in the address)
                    // is framed at this size.
                    view.set(if sim.frame.get_untracked() > 0 {
                        let points = sim.read(crate::playback::Player::scene_points);
                        fitted.framing(&points, panel_insets(fitted.width_px))
                    } else {
                        fitted
                    });
                    install_wheel(&div, view);
                }
            }
            Err(e) => leptos::logging::error!("cannot draw the map: {e:?}"),
        }
    });

    // The simulation layer and its frame loop start once its canvas exists.
    // (The tracks' canvas comes first in the document, so it is there.)
    sim_canvas.on_load(move |element: HtmlCanvasElement| {
        let layer = match track_canvas.get_untracked() {
            Some(tracks) => SimLayer::new(element, tracks),
            None => Err("the tracks' canvas is missing".into()),
        };
        match layer {
            Ok(layer) => start_loop(sim, view, layer),
            Err(e) => leptos::logging::error!("cannot draw the simulation: {e:?}"),
        }
    });

    // Redraw when the view changes, coalesced to one draw per animation frame.
    Effect::new({
        let painter = painter.clone();
        move |_| {
            view.track();
            extras.tiles.track();
            extras.detail.track();
            extras.repaint.track();
            if frame_pending.replace(true) {
                return;
            }
            let painter = painter.clone();
            let frame_pending = frame_pending.clone();
            request_animation_frame(move || {
                frame_pending.set(false);
                let v = view.get_untracked();
                if v.px_per_deg >= DETAIL_PX_PER_DEG
                    && extras.detail.get_untracked() == Detail::NotLoaded
                {
                    load_detail(painter.clone(), extras);
                }
                if let Some(p) = painter.borrow_mut().as_mut() {
                    let tiles = extras.tiles.get_untracked();
                    p.draw(&v, tiles.as_deref());
                }
            });
        }
    });

    // Keep the map the size of its container.
    let _resize = window_event_listener(ev::resize, move |_| {
        if let Some(div) = container.get_untracked() {
            let rect = div.get_bounding_client_rect();
            view.update(|v| *v = v.resized(rect.width(), rect.height()));
        }
    });

    let local_point = move |client_x: i32, client_y: i32| -> ScreenPoint {
        container
            .get_untracked()
            .map_or(ScreenPoint { x: 0.0, y: 0.0 }, |div| {
                let rect = div.get_bounding_client_rect();
                ScreenPoint {
                    x: f64::from(client_x) - rect.left(),
                    y: f64::from(client_y) - rect.top(),
                }
            })
    };

    let on_down = {
        let gestures = gestures.clone();
        move |ev: ev::PointerEvent| {
            if ev.button() > 0 {
                return; // Only the primary button (or a touch) drags.
            }
            if let Some(target) = ev.current_target()
                && let Ok(el) = target.dyn_into::<web_sys::Element>()
            {
                let _ = el.set_pointer_capture(ev.pointer_id());
            }
            // A press on a radar, a battery or an asset (no tool on) drags it instead of the
            // map.
            let at = local_point(ev.client_x(), ev.client_y());
            if !sim.tool.get_untracked().active
                && !sim.radar.tool.get_untracked()
                && !sim.defense_tool_on()
                && (sim.radar_down(&view.get_untracked(), at, ev.shift_key())
                    || sim.defense_down(&view.get_untracked(), at))
            {
                return;
            }
            gestures
                .borrow_mut()
                .down(ev.pointer_id(), local_point(ev.client_x(), ev.client_y()));
        }
    };
    let on_move = {
        let gestures = gestures.clone();
        let atlas = atlas.clone();
        move |ev: ev::PointerEvent| {
            let at = local_point(ev.client_x(), ev.client_y());
            let current = view.get_untracked();
            if sim.radar_dragging() {
                sim.radar_drag_to(at, current.unproject(at));
            } else if sim.defense_dragging() {
                sim.defense_drag_to(at, current.unproject(at));
            } else if let GestureOutcome::View(v) =
                gestures.borrow_mut().moved(ev.pointer_id(), at, &current)
            {
                view.set(v);
            }
            sim.pointer_moved(&view.get_untracked(), Some(at));
            let place = view
                .get_untracked()
                .unproject(at)
                .map(|g| Place::locate(&atlas, g));
            cursor.set(place);
        }
    };
    let on_up = {
        let gestures = gestures.clone();
        let atlas = atlas.clone();
        move |ev: ev::PointerEvent| {
            let at = local_point(ev.client_x(), ev.client_y());
            if sim.radar_dragging() {
                sim.radar_up();
                return;
            }
            if sim.defense_dragging() {
                sim.defense_up();
                return;
            }
            let outcome = gestures.borrow_mut().up(ev.pointer_id(), at);
            if let GestureOutcome::Click(s) = outcome
                && let Some(g) = view.get_untracked().unproject(s)
            {
                // The launch tool takes clicks while it is on; otherwise a click selects the
                // missile or interceptor under it, or clears the selection and places the
                // marker.
                if sim.tool.get_untracked().active {
                    sim.launch_click(g, s);
                } else if sim.radar.tool.get_untracked() {
                    sim.place_radar(g);
                } else if sim.defense_tool_on() {
                    sim.place_defense(g);
                } else if !sim.pick(&view.get_untracked(), s) {
                    marker.set(Some(Place::locate(&atlas, g)));
                }
            }
        }
    };
    let on_cancel = {
        let gestures = gestures.clone();
        move |ev: ev::PointerEvent| {
            sim.radar.drag.set(None);
            sim.defense.drag.set(None);
            gestures.borrow_mut().cancel(ev.pointer_id())
        }
    };
    let on_leave = {
        move |_: ev::PointerEvent| {
            if !gestures.borrow().is_active() {
                cursor.set(None);
                sim.pointer_moved(&view.get_untracked(), None);
            }
        }
    };

    let marker_at = move || {
        let v = view.get();
        marker.get().map(|m| v.project(m.at))
    };

    view! {
        <div
            id="map"
            class="map"
            node_ref=container
            data-view=move || {
                let v = view.get();
                format!("{:.9},{:.9},{:.9}", v.center_lon_deg, v.center_lat_deg, v.px_per_deg)
            }
            data-countries=move || countries_drawn.get()
            data-projection=move || {
                if view.with(|v| v.projection == crate::view::Projection::Globe) { "globe" } else { "flat" }
            }
            data-detail=move || extras.detail.get().name()
            on:pointerdown=on_down
            on:pointermove=on_move
            on:pointerup=on_up
            on:pointercancel=on_cancel
            on:pointerleave=on_leave
        >
            <canvas node_ref=canvas aria-label="World map" role="img"></canvas>
            <canvas node_ref=track_canvas class="sim-layer sim-tracks" aria-hidden="true"></canvas>
            <canvas node_ref=sim_canvas class="sim-layer" aria-label="Missiles" role="img"></canvas>
            <svg class="overlay" aria-hidden="true">
                <RadarOverlay ctx=sim view />
                <DefenseOverlay ctx=sim view />
                <LaunchOverlay ctx=sim view />
                {move || {
                    marker_at()
                        .map(|s| {
                            view! {
                                <g class="marker" transform=format!("translate({:.1} {:.1})", s.x, s.y)>
                                    <circle class="marker-ring" r="11"></circle>
                                    <circle class="marker-dot" r="4.5"></circle>
                                </g>
                            }
                        })
                }}
            </svg>
            <HoverLabel ctx=sim />
            <DefenseHover ctx=sim view />
            <CursorHint ctx=sim view />
        </div>
    }
}

/// Fetches the 1:50m atlas once, decodes it and hands it to the painter; on any failure the
/// 1:110m atlas stays (with a console warning, not an error: the map still works).
fn load_detail(painter: Rc<RefCell<Option<Painter>>>, extras: MapExtras) {
    extras.detail.set(Detail::Loading);
    fetch_bytes(DETAIL_URL, move |result| {
        let layers = result.and_then(|bytes| {
            let atlas = Atlas::decode(&bytes).map_err(|e| e.to_string())?;
            MapLayers::build(&atlas).map_err(|e| format!("{e:?}"))
        });
        match layers {
            Ok(layers) => {
                if let Some(p) = painter.borrow_mut().as_mut() {
                    p.detail = Some(layers);
                }
                extras.detail.set(Detail::Loaded);
            }
            Err(e) => {
                leptos::logging::warn!("the 1:50m atlas is unavailable ({e}); keeping 1:110m");
                extras.detail.set(Detail::Failed);
            }
        }
    });
}

/// Owns the canvas, its context and the prebuilt layers.
struct Painter {
    canvas: HtmlCanvasElement,
    ctx: CanvasRenderingContext2d,
    layers: MapLayers,
    /// The 1:50m layers once downloaded, drawn from [`DETAIL_PX_PER_DEG`] on.
    detail: Option<MapLayers>,
    tiles: TileCache,
    first_draw_done: bool,
}

impl Painter {
    fn new(
        canvas: HtmlCanvasElement,
        atlas: &Atlas,
        extras: MapExtras,
    ) -> Result<Painter, JsValue> {
        let ctx = canvas
            .get_context("2d")?
            .ok_or_else(|| JsValue::from_str("2d canvas context unavailable"))?
            .dyn_into::<CanvasRenderingContext2d>()?;
        let layers = MapLayers::build(atlas)?;
        // A tile image that arrives asks for a redraw (the closure lives as long as the page).
        let on_tile = Closure::<dyn FnMut()>::new(move || extras.repaint.update(|n| *n += 1));
        let tiles = TileCache::new(on_tile.as_ref().unchecked_ref::<js_sys::Function>().clone());
        on_tile.forget();
        Ok(Painter {
            canvas,
            ctx,
            layers,
            detail: None,
            tiles,
            first_draw_done: false,
        })
    }

    fn draw(&mut self, view: &Viewport, tile_template: Option<&str>) {
        let dpr = window().device_pixel_ratio().clamp(1.0, 4.0);
        let w = (view.width_px * dpr).round() as u32;
        let h = (view.height_px * dpr).round() as u32;
        if self.canvas.width() != w || self.canvas.height() != h {
            // Resizing the backing store clears it; it is redrawn just below.
            self.canvas.set_width(w);
            self.canvas.set_height(h);
        }
        let layers = match &self.detail {
            Some(detail) if view.px_per_deg >= DETAIL_PX_PER_DEG => detail,
            _ => &self.layers,
        };
        let tiles = tile_template.map(|t| (&mut self.tiles, t));
        if let Err(e) = draw_base_map(&self.ctx, layers, view, dpr, tiles) {
            leptos::logging::error!("map drawing failed: {e:?}");
            return;
        }
        if !self.first_draw_done {
            self.first_draw_done = true;
            if let Some(perf) = window().performance() {
                let _ = perf.mark(FIRST_MAP_MARK);
            }
        }
    }
}

/// Wheel zoom around the cursor. Registered by hand as a non-passive listener so that
/// `preventDefault` stops the page (and a trackpad's pinch, reported as ctrl+wheel) from
/// zooming the whole document instead of the map.
fn install_wheel(div: &web_sys::HtmlDivElement, view: RwSignal<Viewport>) {
    let target = div.clone();
    let handler = Closure::<dyn FnMut(WheelEvent)>::new(move |ev: WheelEvent| {
        ev.prevent_default();
        let rect = target.get_bounding_client_rect();
        let anchor = ScreenPoint {
            x: f64::from(ev.client_x()) - rect.left(),
            y: f64::from(ev.client_y()) - rect.top(),
        };
        let factor = wheel_zoom_factor(ev.delta_y(), ev.delta_mode());
        view.update(|v| *v = v.zoomed_at(factor, anchor));
    });
    let options = AddEventListenerOptions::new();
    options.set_passive(false);
    let _ = div.add_event_listener_with_callback_and_add_event_listener_options(
        "wheel",
        handler.as_ref().unchecked_ref(),
        &options,
    );
    // The map lives as long as the page: the listener is never removed.
    handler.forget();
}

/// Keyboard shortcuts: `+`/`-` zoom around the centre as the zoom buttons do (PgUp/PgDn by
/// smaller steps), arrows pan, `0` resets, `Esc` clears the marker. Ignored while typing in a
/// form field. (`]`/`[` are the speed: see `map_extras::install_extra_keys`.)
fn install_keyboard(
    view: RwSignal<Viewport>,
    home: RwSignal<Viewport>,
    marker: RwSignal<Option<Place>>,
) {
    let handle = window_event_listener(ev::keydown, move |ev| {
        if ev.ctrl_key() || ev.meta_key() || ev.alt_key() {
            return;
        }
        if let Some(el) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            && matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
        {
            return;
        }
        let v = view.get_untracked();
        let centre = ScreenPoint {
            x: v.width_px / 2.0,
            y: v.height_px / 2.0,
        };
        let next = match ev.key().as_str() {
            "+" | "=" => v.zoomed_at(ZOOM_STEP, centre),
            "-" | "_" => v.zoomed_at(1.0 / ZOOM_STEP, centre),
            "PageUp" => v.zoomed_at(1.5, centre),
            "PageDown" => v.zoomed_at(1.0 / 1.5, centre),
            "ArrowLeft" => v.panned(100.0, 0.0),
            "ArrowRight" => v.panned(-100.0, 0.0),
            "ArrowUp" => v.panned(0.0, 100.0),
            "ArrowDown" => v.panned(0.0, -100.0),
            "0" => home
                .get_untracked()
                .resized(v.width_px, v.height_px)
                .with_projection(v.projection),
            "Escape" => {
                marker.set(None);
                return;
            }
            _ => return,
        };
        ev.prevent_default();
        view.set(next);
    });
    // The listener lives as long as the page.
    std::mem::forget(handle);
}

/// The zoom factor of the + and − buttons and keys.
const ZOOM_STEP: f64 = 2.0;

/// Zoom in, zoom out and reset buttons.
#[component]
fn ZoomControls(
    /// The shared viewport.
    view: RwSignal<Viewport>,
    /// The whole-world view that reset returns to.
    home: RwSignal<Viewport>,
) -> impl IntoView {
    let zoom = move |factor: f64| {
        view.update(|v| {
            let centre = ScreenPoint {
                x: v.width_px / 2.0,
                y: v.height_px / 2.0,
            };
            *v = v.zoomed_at(factor, centre);
        });
    };
    view! {
        <nav class="zoom-controls" aria-label="Map zoom">
            <button type="button" aria-label="Zoom in" title="Zoom in (+)" on:click=move |_| zoom(ZOOM_STEP)>
                "+"
            </button>
            <button type="button" aria-label="Zoom out" title="Zoom out (−)" on:click=move |_| zoom(1.0 / ZOOM_STEP)>
                "−"
            </button>
            <button
                type="button"
                aria-label="Show the whole world"
                title="Whole world (0)"
                on:click=move |_| {
                    view.update(|v| {
                        *v = home
                            .get_untracked()
                            .resized(v.width_px, v.height_px)
                            .with_projection(v.projection)
                    })
                }
            >
                "⌂"
            </button>
        </nav>
    }
}

/// The clicked place, with its coordinates and country.
#[component]
fn MarkerPanel(
    /// The clicked place, if any.
    marker: RwSignal<Option<Place>>,
    /// The shared viewport (for the number of decimals worth showing).
    view: RwSignal<Viewport>,
) -> impl IntoView {
    view! {
        <Show when=move || marker.with(Option::is_some)>
            {move || {
                marker
                    .get()
                    .map(|m| {
                        let decimals = coordinate_decimals(view.get_untracked().px_per_deg).max(2);
                        view! {
                            <section
                                id="marker-readout"
                                class="panel marker-panel"
                                aria-live="polite"
                                data-lat=format!("{:.6}", m.at.lat_deg)
                                data-lon=format!("{:.6}", m.at.lon_deg)
                            >
                                <h2>"Marker"</h2>
                                <p class="coords">{format_geo(m.at, decimals)}</p>
                                <p class="country">
                                    {m.country.clone().unwrap_or_else(|| "Open sea".to_string())}
                                </p>
                                <button
                                    type="button"
                                    aria-label="Remove the marker"
                                    on:click=move |_| marker.set(None)
                                >
                                    "Clear"
                                </button>
                            </section>
                        }
                    })
            }}
        </Show>
    }
}

/// Coordinates and country under the cursor, the scale bar and the zoom.
#[component]
fn StatusBar(
    /// The place under the pointer.
    cursor: RwSignal<Option<Place>>,
    /// The shared viewport.
    view: RwSignal<Viewport>,
) -> impl IntoView {
    let readout = move || match cursor.get() {
        Some(p) => {
            let decimals = coordinate_decimals(view.get().px_per_deg);
            let country = p.country.map(|c| format!(" · {c}")).unwrap_or_default();
            format!("{}{country}", format_geo(p.at, decimals))
        }
        None => "—".to_string(),
    };
    let scale = move || view.get().scale_bar(120.0);
    view! {
        <footer class="status-bar">
            <span id="cursor-readout" class="cursor-readout">{readout}</span>
            <span class="scale" aria-label="Scale bar">
                <span class="scale-line" style:width=move || format!("{:.0}px", scale().1)></span>
                <span class="scale-label">{move || format_distance(scale().0)}</span>
            </span>
        </footer>
    }
}
