//! The map's extras around the base map: the globe/flat switch, the layers popover (the
//! optional online tile layer), the help overlay, the keyboard shortcuts they add, and the
//! lazy download of the 1:50m atlas when zoomed in.
//!
//! Reactive choices: [`MapExtras`] is a bundle of small `RwSignal`s shared by the map, the
//! controls and the key handler; the base map's redraw effect tracks `tiles`, `detail` and
//! `repaint` besides the viewport, so a tile image or the detailed atlas arriving redraws it.
//!
//! Network: the 50m atlas is one static file from the page's own origin
//! ([`DETAIL_URL`]); if it cannot be fetched or decoded, the 110m atlas simply stays. Tiles are
//! requested only once the user switches the tile layer on.

use leptos::ev;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;

use crate::panels::SimCtx;
use crate::playback::SPEEDS;
use crate::tiles::{OSM_ATTRIBUTION, OSM_TEMPLATE, check_template};
use crate::view::{Projection, Viewport};

/// Where the 1:50m atlas is served (copied into the site by Trunk from `public/`), from the
/// site's root like the app's own files (Trunk's `public_url` is `/`).
pub const DETAIL_URL: &str = "/countries-50m.bin";
/// From this zoom on (pixels per degree; a 1280-pixel map then shows about 100 degrees of
/// longitude) the 1:110m coastlines look coarse and the 1:50m atlas is fetched and drawn.
pub const DETAIL_PX_PER_DEG: f64 = 12.0;

/// Where the detailed atlas stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Detail {
    /// Not asked for yet (never zoomed in far enough).
    NotLoaded,
    /// Being fetched.
    Loading,
    /// Decoded and drawn when zoomed in.
    Loaded,
    /// The fetch or the decoding failed: the 110m atlas stays.
    Failed,
}

impl Detail {
    /// Name for the map's `data-detail` attribute (read by the browser tests).
    pub fn name(self) -> &'static str {
        match self {
            Detail::NotLoaded => "110m",
            Detail::Loading => "loading",
            Detail::Loaded => "50m",
            Detail::Failed => "failed",
        }
    }
}

/// Shared state of the map's extras.
#[derive(Clone, Copy)]
pub struct MapExtras {
    /// The help overlay is open.
    pub help: RwSignal<bool>,
    /// The layers popover is open.
    pub layers_open: RwSignal<bool>,
    /// The tile layer's URL template while the layer is on; `None` (the default) when off.
    pub tiles: RwSignal<Option<String>>,
    /// The 1:50m atlas's state.
    pub detail: RwSignal<Detail>,
    /// Bumped to redraw the base map (a tile arrived).
    pub repaint: RwSignal<u64>,
}

impl MapExtras {
    /// Everything off and closed.
    pub fn new() -> MapExtras {
        MapExtras {
            help: RwSignal::new(false),
            layers_open: RwSignal::new(false),
            tiles: RwSignal::new(None),
            detail: RwSignal::new(Detail::NotLoaded),
            repaint: RwSignal::new(0),
        }
    }
}

impl Default for MapExtras {
    fn default() -> Self {
        MapExtras::new()
    }
}

/// Switches between the flat map and the globe.
pub fn toggle_projection(view: RwSignal<Viewport>) {
    view.update(|v| {
        let next = match v.projection {
            Projection::Flat => Projection::Globe,
            Projection::Globe => Projection::Flat,
        };
        *v = v.with_projection(next);
    });
}

/// Fetches `url` as bytes from the page's origin and calls `done` once with the result.
/// Uses `XMLHttpRequest` callbacks, which need no futures executor.
pub fn fetch_bytes(url: &str, done: impl FnOnce(Result<Vec<u8>, String>) + 'static) {
    let done = std::rc::Rc::new(std::cell::RefCell::new(Some(done)));
    let finish = {
        let done = done.clone();
        move |r: Result<Vec<u8>, String>| {
            if let Some(f) = done.borrow_mut().take() {
                f(r);
            }
        }
    };
    let xhr = match web_sys::XmlHttpRequest::new() {
        Ok(x) => x,
        Err(e) => return finish(Err(format!("{e:?}"))),
    };
    if let Err(e) = xhr.open_with_async("GET", url, true) {
        return finish(Err(format!("{e:?}")));
    }
    xhr.set_response_type(web_sys::XmlHttpRequestResponseType::Arraybuffer);
    let on_load = {
        let xhr = xhr.clone();
        let finish = finish.clone();
        Closure::once_into_js(move || {
            let status = xhr.status().unwrap_or(0);
            if !(200..300).contains(&status) {
                return finish(Err(format!("HTTP status {status}")));
            }
            match xhr.response() {
                Ok(buf) if buf.is_instance_of::<js_sys::ArrayBuffer>() => {
                    finish(Ok(js_sys::Uint8Array::new(&buf).to_vec()))
                }
                _ => finish(Err("no data".to_string())),
            }
        })
    };
    let on_error = Closure::once_into_js(move || finish(Err("network error".to_string())));
    xhr.set_onload(Some(on_load.unchecked_ref()));
    xhr.set_onerror(Some(on_error.unchecked_ref()));
    if let Err(e) = xhr.send() {
        leptos::logging::warn!("cannot request {url}: {e:?}");
    }
}

/// Globe, layers and help buttons (below the zoom buttons), with the layers popover.
#[component]
pub fn MapOptions(
    /// The shared viewport (the globe button switches its projection).
    view: RwSignal<Viewport>,
    /// The extras' state.
    extras: MapExtras,
) -> impl IntoView {
    let globe = move || view.with(|v| v.projection == Projection::Globe);
    let template = RwSignal::new(OSM_TEMPLATE.to_string());
    let error = RwSignal::new(None::<String>);
    view! {
        <nav class="map-options" aria-label="Map options">
            <button
                id="globe-toggle"
                type="button"
                class:active=globe
                aria-pressed=move || globe().to_string()
                aria-label=move || if globe() { "Show the flat map" } else { "Show the globe" }
                title="Globe or flat map (G)"
                on:click=move |_| toggle_projection(view)
            >
                {move || if globe() { "▭" } else { "◍" }}
            </button>
            <button
                id="layers-toggle"
                type="button"
                aria-label="Map layers"
                aria-expanded=move || extras.layers_open.get().to_string()
                aria-controls="layers-panel"
                title="Map layers"
                on:click=move |_| extras.layers_open.update(|o| *o = !*o)
            >
                "≡"
            </button>
            <button
                id="help-button"
                type="button"
                aria-label="Help: controls and shortcuts"
                title="Help (?)"
                on:click=move |_| extras.help.set(true)
            >
                "?"
            </button>
        </nav>
        <section
            id="layers-panel"
            class="panel layers-panel"
            class:hidden=move || !extras.layers_open.get()
            aria-label="Map layers"
        >
            <h2>"Layers"</h2>
            <label class="row">
                <input
                    id="tiles-on"
                    type="checkbox"
                    prop:checked=move || extras.tiles.with(Option::is_some)
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        if !on {
                            extras.tiles.set(None);
                            error.set(None);
                            return;
                        }
                        let t = template.get_untracked();
                        match check_template(&t) {
                            Ok(()) => {
                                error.set(None);
                                extras.tiles.set(Some(t));
                            }
                            Err(e) => {
                                error.set(Some(e));
                                if let Some(input) = ev
                                    .target()
                                    .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
                                {
                                    input.set_checked(false);
                                }
                            }
                        }
                    }
                />
                " Online map tiles (flat map; off by default)"
            </label>
            <label class="row">
                <span>"Tile URL"</span>
                <input
                    id="tiles-template"
                    type="text"
                    spellcheck="false"
                    prop:value=move || template.get()
                    on:change=move |ev| {
                        let t = event_target_value(&ev);
                        template.set(t.clone());
                        if extras.tiles.with_untracked(Option::is_some) {
                            match check_template(&t) {
                                Ok(()) => {
                                    error.set(None);
                                    extras.tiles.set(Some(t));
                                }
                                Err(e) => error.set(Some(e)),
                            }
                        }
                    }
                />
            </label>
            <p class="hint" role="status">
                {move || {
                    error
                        .get()
                        .unwrap_or_else(|| {
                            if extras.tiles.with(Option::is_some) {
                                format!("Tiles: {OSM_ATTRIBUTION} (for OpenStreetMap tiles).")
                            } else {
                                "The map needs no network; tiles are fetched only when this is on."
                                    .to_string()
                            }
                        })
                }}
            </p>
            <p class="hint">
                {move || format!("Coastlines: Natural Earth {}", match extras.detail.get() {
                    Detail::Loaded => "1:50m when zoomed in, 1:110m zoomed out",
                    Detail::Loading => "1:110m (1:50m loading)",
                    Detail::Failed => "1:110m (1:50m unavailable)",
                    Detail::NotLoaded => "1:110m (1:50m loads when zoomed in)",
                })}
            </p>
        </section>
    }
}

/// Every control, listed (the `?` key or the help button opens it; Esc closes it).
#[component]
pub fn HelpOverlay(
    /// The extras' state (its `help` signal).
    extras: MapExtras,
) -> impl IntoView {
    let close = NodeRef::<leptos::html::Button>::new();
    // Focus the close button when the dialog opens, so keyboard users land inside it.
    Effect::new(move |_| {
        if extras.help.get()
            && let Some(b) = close.get()
        {
            let _ = b.focus();
        }
    });
    const ROWS: [(&str, &str); 16] = [
        ("Drag", "Pan the flat map, turn the globe"),
        ("Wheel, pinch", "Zoom around the pointer"),
        (
            "+ / −, PgUp / PgDn",
            "Zoom in / out (as the + and − buttons)",
        ),
        ("Arrow keys", "Pan"),
        ("0", "Whole world"),
        ("G", "Globe or flat map"),
        ("Space", "Play or pause"),
        ("] or >", "Faster (1x to 128x)"),
        ("[ or <", "Slower"),
        (
            "Esc",
            "Cancel the current tool, clear the selection, close this help",
        ),
        ("?", "This help"),
        ("Launch tool", "Click a launch site, then a target"),
        ("Radar tool", "Click the map to place a radar"),
        ("Drag a radar", "Move it; Shift-drag turns it"),
        (
            "Click a missile or an interceptor",
            "Select it (details and plots in the panels)",
        ),
        ("Click an event", "Centre the map on it"),
    ];
    view! {
        <div
            id="help-overlay"
            class="help-backdrop"
            class:hidden=move || !extras.help.get()
            on:click=move |ev| {
                // A click on the backdrop (not inside the dialog) closes it.
                if ev.target() == ev.current_target() {
                    extras.help.set(false);
                }
            }
        >
            <section
                class="panel help-dialog"
                role="dialog"
                aria-modal="true"
                aria-labelledby="help-title"
            >
                <div class="panel-head">
                    <h2 id="help-title">"Controls"</h2>
                    <button
                        id="help-close"
                        type="button"
                        node_ref=close
                        aria-label="Close the help"
                        on:click=move |_| extras.help.set(false)
                    >
                        "Close"
                    </button>
                </div>
                <table class="help-table">
                    <tbody>
                        {ROWS
                            .iter()
                            .map(|(k, what)| {
                                view! {
                                    <tr>
                                        <th scope="row"><kbd>{*k}</kbd></th>
                                        <td>{*what}</td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
                <p class="hint">
                    "One meaning per key: + and − zoom, as the map's + and − buttons do; ] and [ change the speed."
                </p>
            </section>
        </div>
    }
}

/// The extras' shortcuts: `?` help, `G` globe, `]`/`>` faster, `[`/`<` slower (`+`/`-` zoom,
/// as the map's buttons do: see `app::install_keyboard`), Esc closes the help and the layers
/// popover. Ignored while typing in a form field.
pub fn install_extra_keys(view: RwSignal<Viewport>, extras: MapExtras, sim: SimCtx) {
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
        let step_speed = |up: bool| {
            let now = sim.speed.get_untracked();
            let i = SPEEDS.iter().position(|s| *s >= now).unwrap_or(0);
            let j = if up {
                (i + 1).min(SPEEDS.len() - 1)
            } else {
                i.saturating_sub(1)
            };
            let mut speed = SPEEDS[j];
            sim.clock.update_value(|c| {
                c.set_speed(SPEEDS[j]);
                speed = c.speed;
            });
            sim.speed.set(speed);
        };
        match ev.key().as_str() {
            "?" => extras.help.update(|h| *h = !*h),
            "Escape" => {
                extras.help.set(false);
                extras.layers_open.set(false);
                return; // The other handlers cancel tools on Esc too.
            }
            "g" | "G" => toggle_projection(view),
            "]" | ">" => step_speed(true),
            "[" | "<" => step_speed(false),
            _ => return,
        }
        ev.prevent_default();
    });
    std::mem::forget(handle);
}
