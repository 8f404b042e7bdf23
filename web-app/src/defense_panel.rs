//! The defence on the map: the battery and asset tools (a click places one), selection, drag to
//! move, the editors (type, call sign, rounds, launchers; name, value, radius; delete), the
//! doctrine settings, the SVG overlay (engagement footprints, batteries with their rounds left,
//! defended assets, interceptors with their fly-outs, kill and miss markers, leakers' hits),
//! the hover label, the explanation panel of engagement orders and the defence counters.
//!
//! Every change goes through the engine's commands (`place-battery`, `remove-battery`,
//! `place-asset`, `remove-asset`, `set-doctrine`) scheduled in the player's command log at the
//! current tick, so the defence replays on a seek exactly like launches and radars. The engine
//! has no move or edit command: moving or editing a battery or an asset is a removal followed
//! by a placement at the same tick (a moved battery keeps its rounds left; its launchers come
//! back loaded). Selections are kept by name, so they follow an item through such a rebuild.
//!
//! Reactive choices: the battery and asset lists are memos over the published status (they
//! change only when a command applies or a round is fired), footprints a memo over that list and
//! the drag; the live part (interceptors, fly-outs, end markers) is a memo over the status that
//! compares equal while paused, so the SVG is rebuilt only while something moves.

use leptos::ev;
use leptos::prelude::*;

use sim_core::MissileId;
use sim_core::engagement::wta::{AlternativeStatus, FireMode};
use sim_core::engine::Command;
use sim_core::engine::defense::{Asset, AssetId, BatteryId, BatteryUnit, InterceptorId};
use sim_core::interceptor::InterceptorKind;

use crate::defense_view::{
    AssetForm, BatteryForm, EngagementFootprint, MAX_FLYOUTS_DRAWN, OrderKey, asset_near,
    battery_near, doctrine_from_form, engagement_footprint, interceptor_near, interceptor_views,
    mode_name, parse_finite, status_text,
};
use crate::event_log::{Counters, LogLine};
use crate::launch::{range_ring, svg_area, svg_path, within};
use crate::panels::SimCtx;
use crate::playback::Player;
use crate::plots::Selected;
use crate::view::{GeoPoint, ScreenPoint, Viewport};

/// Pointer distance (px) within which a battery, an asset or an interceptor is picked.
const PICK_RADIUS_PX: f64 = 10.0;
/// Pointer travel (px) that makes a press a drag rather than a click.
const DRAG_THRESHOLD_PX: f64 = 3.0;
/// Points of an asset's circle.
const ASSET_CIRCLE_POINTS: usize = 72;

/// What a map click places.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DefenseTool {
    /// Nothing: clicks select, presses drag.
    Off,
    /// A battery with the battery form's settings.
    Battery,
    /// A defended asset with the asset form's settings.
    Asset,
}

/// The selected defence item, by name (names survive the remove-and-place of an edit).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DefenseSel {
    /// A battery, by call sign.
    Battery(String),
    /// A defended asset, by name.
    Asset(String),
}

/// A battery or an asset being dragged.
#[derive(Clone, Debug, PartialEq)]
pub struct DefenseDrag {
    /// What is dragged.
    pub item: DefenseSel,
    /// Where it would go now.
    pub to: GeoPoint,
    /// Where the press started (screen).
    pub from_px: ScreenPoint,
    /// Whether the pointer moved beyond the click threshold.
    pub moved: bool,
}

/// The defence tools' state and selection (all `Copy` handles).
#[derive(Clone, Copy)]
pub struct DefenseUi {
    /// What a click places.
    pub tool: RwSignal<DefenseTool>,
    /// The next battery.
    pub battery: RwSignal<BatteryForm>,
    /// The next asset.
    pub asset: RwSignal<AssetForm>,
    /// The selected item.
    pub selected: RwSignal<Option<DefenseSel>>,
    /// The item being dragged.
    pub drag: RwSignal<Option<DefenseDrag>>,
    /// The engagement order whose explanation is shown.
    pub explain: RwSignal<Option<OrderKey>>,
    /// The last refusal of a form (one sentence).
    pub error: RwSignal<Option<String>>,
    placed: RwSignal<(u32, u32)>,
}

impl DefenseUi {
    /// Tools off, an SM-6 battery and a 30 km asset next.
    pub fn new() -> DefenseUi {
        DefenseUi {
            tool: RwSignal::new(DefenseTool::Off),
            battery: RwSignal::new(BatteryForm::default()),
            asset: RwSignal::new(AssetForm::default()),
            selected: RwSignal::new(None),
            drag: RwSignal::new(None),
            explain: RwSignal::new(None),
            error: RwSignal::new(None),
            placed: RwSignal::new((1, 1)),
        }
    }

    /// Forgets the selection, the drag and the explanation (a new scenario).
    pub fn clear(&self) {
        self.selected.set(None);
        self.drag.set(None);
        self.explain.set(None);
        self.error.set(None);
    }
}

impl Default for DefenseUi {
    fn default() -> Self {
        DefenseUi::new()
    }
}

fn battery_named(units: &[BatteryUnit], name: &str) -> Option<BatteryUnit> {
    units
        .iter()
        .rev()
        .find(|b| b.battery.call_sign == name)
        .cloned()
}

fn asset_named(assets: &[Asset], name: &str) -> Option<Asset> {
    assets.iter().rev().find(|a| a.asset.name == name).cloned()
}

impl SimCtx {
    /// Whether a defence placing tool is on.
    pub fn defense_tool_on(&self) -> bool {
        self.defense.tool.get_untracked() != DefenseTool::Off
    }

    /// A click with a defence tool on: places a battery or an asset at `at` and selects it.
    pub fn place_defense(&self, at: GeoPoint) {
        let ui = self.defense;
        let point = at;
        let (nb, na) = ui.placed.get_untracked();
        let result = match ui.tool.get_untracked() {
            DefenseTool::Off => return,
            DefenseTool::Battery => {
                let mut form = ui.battery.get_untracked();
                if form.call_sign.trim().is_empty() {
                    form.call_sign = format!("BAT_{nb}");
                }
                form.placement(point).map(|p| {
                    ui.placed.set((nb + 1, na));
                    ui.battery
                        .update(|f| f.call_sign = format!("BAT_{}", nb + 1));
                    (
                        Command::PlaceBattery(p),
                        DefenseSel::Battery(form.call_sign.trim().to_string()),
                    )
                })
            }
            DefenseTool::Asset => {
                let mut form = ui.asset.get_untracked();
                if form.name.trim().is_empty() {
                    form.name = format!("ASSET_{na}");
                }
                form.asset(point).map(|a| {
                    ui.placed.set((nb, na + 1));
                    ui.asset.update(|f| f.name = format!("ASSET_{}", na + 1));
                    (
                        Command::PlaceAsset(a),
                        DefenseSel::Asset(form.name.trim().to_string()),
                    )
                })
            }
        };
        match result {
            Ok((command, sel)) => {
                ui.error.set(None);
                self.radar_commands(vec![command]);
                ui.selected.set(Some(sel));
            }
            Err(e) => ui.error.set(Some(e)),
        }
    }

    /// A press on the map with no tool on: starts dragging the battery or asset under it (a
    /// missile or an interceptor under the pointer wins: the press is then a click).
    pub fn defense_down(&self, view: &Viewport, at: ScreenPoint) -> bool {
        let hit = self.read(|p| {
            let sim = p.sim();
            if p.missile_near(view, at, PICK_RADIUS_PX).is_some()
                || interceptor_near(sim, view, at, PICK_RADIUS_PX).is_some()
            {
                return None;
            }
            let d = sim.defense();
            if let Some(id) = battery_near(sim, view, at, PICK_RADIUS_PX) {
                let b = d.battery(id)?;
                return Some((
                    DefenseSel::Battery(b.battery.call_sign.clone()),
                    b.battery.position,
                ));
            }
            let id = asset_near(sim, view, at, PICK_RADIUS_PX)?;
            let a = d.assets.iter().find(|a| a.id == id)?;
            Some((DefenseSel::Asset(a.asset.name.clone()), a.asset.position))
        });
        let Some((item, to)) = hit else {
            return false;
        };
        self.defense.selected.set(Some(item.clone()));
        self.defense.drag.set(Some(DefenseDrag {
            item,
            to,
            from_px: at,
            moved: false,
        }));
        true
    }

    /// Whether a battery or an asset is being dragged (or pressed).
    pub fn defense_dragging(&self) -> bool {
        self.defense.drag.with_untracked(Option::is_some)
    }

    /// The pointer moved while a battery or an asset is pressed.
    pub fn defense_drag_to(&self, at: ScreenPoint, g: Option<GeoPoint>) {
        self.defense.drag.update(|d| {
            if let (Some(d), Some(g)) = (d.as_mut(), g) {
                if (at.x - d.from_px.x).hypot(at.y - d.from_px.y) > DRAG_THRESHOLD_PX {
                    d.moved = true;
                }
                if d.moved {
                    d.to = g;
                }
            }
        });
    }

    /// The press ends: a drag moves the item (remove and place), a click only selected it.
    pub fn defense_up(&self) {
        let Some(d) = self.defense.drag.get_untracked() else {
            return;
        };
        self.defense.drag.set(None);
        if !d.moved {
            return;
        }
        match d.item {
            DefenseSel::Battery(name) => self.rebuild_battery(&name, |p| p.position = d.to),
            DefenseSel::Asset(name) => self.rebuild_asset(&name, |a| a.position = d.to),
        }
    }

    /// An interceptor was selected (see [`SimCtx::pick`]): shows why it was fired, and puts
    /// the battery or asset editor away.
    pub fn explain_interceptor(&self, id: InterceptorId) {
        let order = self.read(|p| p.defense().fly_out(id).and_then(|f| f.order));
        self.defense.selected.set(None);
        if order.is_some() {
            self.defense.explain.set(order);
        }
    }

    /// A click on a log line: an engagement order shows its explanation.
    pub fn explain_line(&self, line: &LogLine) {
        if line.kind != "engagement-ordered" {
            return;
        }
        let key = self.read(|p| {
            p.defense()
                .order_of_line(line.tick, &line.text)
                .map(|o| o.key)
        });
        if key.is_some() {
            self.defense.explain.set(key);
        }
    }

    /// Replaces battery `name` by a placement changed by `edit` (same tick: remove, place).
    fn rebuild_battery(
        &self,
        name: &str,
        edit: impl FnOnce(&mut sim_core::engine::defense::BatteryPlacement),
    ) {
        let Some(b) = self.read(|p| battery_named(&p.sim().defense().batteries, name)) else {
            return;
        };
        let mut placement = sim_core::engine::defense::BatteryPlacement {
            call_sign: b.battery.call_sign.clone(),
            kind: b.battery.kind,
            position: b.battery.position,
            rounds: b.battery.rounds,
            launchers: b.battery.launchers,
            reload_s: b.battery.reload_s,
            ready: b.battery.ready,
        };
        edit(&mut placement);
        if let Err(e) = placement.to_battery(b.id()) {
            self.defense.error.set(Some(e));
            return;
        }
        self.defense.error.set(None);
        let sel = DefenseSel::Battery(placement.call_sign.clone());
        self.radar_commands(vec![
            Command::RemoveBattery { battery: b.id() },
            Command::PlaceBattery(placement),
        ]);
        self.defense.selected.set(Some(sel));
    }

    /// Replaces asset `name` by one changed by `edit` (same tick: remove, place).
    fn rebuild_asset(
        &self,
        name: &str,
        edit: impl FnOnce(&mut sim_core::engagement::assets::DefendedAsset),
    ) {
        let Some(a) = self.read(|p| asset_named(&p.sim().defense().assets, name)) else {
            return;
        };
        let mut asset = a.asset.clone();
        edit(&mut asset);
        if let Err(e) = asset.validate() {
            self.defense.error.set(Some(e));
            return;
        }
        self.defense.error.set(None);
        let sel = DefenseSel::Asset(asset.name.clone());
        self.radar_commands(vec![
            Command::RemoveAsset { asset: a.id },
            Command::PlaceAsset(asset),
        ]);
        self.defense.selected.set(Some(sel));
    }

    fn set_doctrine(
        &self,
        salvo: Option<u32>,
        mode: Option<&str>,
        min_pk: Option<f64>,
        reserve: Option<u32>,
    ) {
        let base = self.read(|p| p.sim().defense().doctrine);
        match doctrine_from_form(
            &base,
            salvo.unwrap_or(base.salvo_size),
            mode.unwrap_or(mode_name(base.mode)),
            min_pk.unwrap_or(base.min_pk),
            reserve.unwrap_or(base.reserve_rounds),
        ) {
            Ok(d) => {
                self.defense.error.set(None);
                self.radar_commands(vec![Command::SetDoctrine(d)]);
            }
            Err(e) => self.defense.error.set(Some(e)),
        }
    }
}

/// One labelled number input of the panel: `value` is what it shows (a value, or a closure to
/// follow a signal), `set` gets what is typed.
/// `bounds` are its `min`, `max` and `step` attributes.
fn number_row(
    label: &'static str,
    id: &'static str,
    bounds: (
        Option<&'static str>,
        Option<&'static str>,
        Option<&'static str>,
    ),
    value: impl leptos::tachys::html::property::IntoProperty + 'static,
    set: impl Fn(String) + 'static,
) -> impl IntoView {
    let (min, max, step) = bounds;
    view! {
        <label class="row">
            {label}
            <input
                id=id
                type="number"
                min=min
                max=max
                step=step
                prop:value=value
                on:change=move |ev| set(event_target_value(&ev))
            />
        </label>
    }
}

fn parse_u32(text: &str) -> Option<u32> {
    text.trim().parse::<u32>().ok()
}

fn kind_options() -> impl IntoView {
    InterceptorKind::ALL
        .iter()
        .map(|k| view! { <option value=k.name()>{k.name()}</option> })
        .collect_view()
}

/// The battery and asset tools, the selected item's editor and the doctrine.
#[component]
pub fn DefensePanel(
    /// Shared simulation handles.
    ctx: SimCtx,
) -> impl IntoView {
    let ui = ctx.defense;
    // Folded at first, like the radar panel: unfolded it covers part of the map.
    let open = RwSignal::new(false);
    let batteries = Memo::new(move |_| {
        ctx.status.track();
        ctx.read(|p| p.sim().defense().batteries.clone())
    });
    let assets = Memo::new(move |_| {
        ctx.status.track();
        ctx.read(|p| p.sim().defense().assets.clone())
    });
    let doctrine = Memo::new(move |_| {
        ctx.status.track();
        ctx.read(|p| p.sim().defense().doctrine)
    });
    // Another tool switched on turns these off (one tool at a time).
    Effect::new(move |_| {
        if ctx.tool.with(|t| t.active) || ctx.radar.tool.get() {
            ui.tool.set(DefenseTool::Off);
        }
    });
    Effect::new(move |_| {
        if ui
            .selected
            .with(|s| matches!(s, Some(DefenseSel::Battery(_) | DefenseSel::Asset(_))))
        {
            open.set(true);
        }
    });
    // Esc puts the tool down and drops a drag.
    let esc = window_event_listener(ev::keydown, move |ev| {
        if ev.key() == "Escape" {
            ui.tool.set(DefenseTool::Off);
            ui.drag.set(None);
        }
    });
    // The listener lives as long as the page.
    std::mem::forget(esc);

    let set_tool = move |t: DefenseTool| {
        let next = if ui.tool.get_untracked() == t {
            DefenseTool::Off
        } else {
            t
        };
        if next != DefenseTool::Off {
            ctx.tool.update(|l| l.active = false);
            ctx.radar.tool.set(false);
        }
        ui.tool.set(next);
    };
    let editor = move || {
        let sel = ui.selected.get()?;
        match sel {
            DefenseSel::Battery(name) => {
                let b = batteries.with(|l| battery_named(l, &name))?;
                let initial = b.battery.rounds + b.rounds_fired;
                let call = b.battery.call_sign.clone();
                let (c1, c2, c3, c4, c5) = (
                    call.clone(),
                    call.clone(),
                    call.clone(),
                    call.clone(),
                    call.clone(),
                );
                Some(
                    view! {
                        <div
                            id="battery-editor"
                            class="defense-editor"
                            data-battery=b.id().0.to_string()
                            data-call-sign=call.clone()
                            data-rounds=b.battery.rounds.to_string()
                        >
                            <h3>{format!("{} · {} · {}/{} rounds", call, b.battery.kind, b.battery.rounds, initial)}</h3>
                            <label class="row">
                                "Type "
                                <select
                                    id="sel-battery-type"
                                    prop:value=b.battery.kind.name()
                                    on:change=move |ev| {
                                        if let Ok(k) = InterceptorKind::parse(&event_target_value(&ev)) {
                                            ctx.rebuild_battery(&c1, |p| p.kind = k);
                                        }
                                    }
                                >
                                    {kind_options()}
                                </select>
                            </label>
                            <label class="row">
                                "Call sign "
                                <input
                                    id="sel-battery-call-sign"
                                    type="text"
                                    maxlength="64"
                                    prop:value=call.clone()
                                    on:change=move |ev| {
                                        let v = event_target_value(&ev).trim().to_string();
                                        ctx.rebuild_battery(&c2, |p| p.call_sign = v);
                                    }
                                />
                            </label>
                            {number_row(
                                "Rounds left ",
                                "sel-battery-rounds",
                                (Some("0"), Some("10000"), None),
                                b.battery.rounds.to_string(),
                                move |v: String| {
                                    if let Some(n) = parse_u32(&v) {
                                        ctx.rebuild_battery(&c3, |p| p.rounds = n);
                                    }
                                },
                            )}
                            {number_row(
                                "Launchers ",
                                "sel-battery-launchers",
                                (Some("1"), Some("10000"), None),
                                b.battery.launchers.to_string(),
                                move |v: String| {
                                    if let Some(n) = parse_u32(&v) {
                                        ctx.rebuild_battery(&c4, |p| p.launchers = n);
                                    }
                                },
                            )}
                            <button
                                id="battery-delete"
                                type="button"
                                aria-label="Delete the selected battery"
                                on:click=move |_| {
                                    if let Some(b) = ctx.read(|p| battery_named(&p.sim().defense().batteries, &c5)) {
                                        ui.selected.set(None);
                                        ctx.radar_commands(vec![Command::RemoveBattery { battery: b.id() }]);
                                    }
                                }
                            >
                                "Delete"
                            </button>
                        </div>
                    }
                    .into_any(),
                )
            }
            DefenseSel::Asset(name) => {
                let a = assets.with(|l| asset_named(l, &name))?;
                let n = a.asset.name.clone();
                let (n1, n2, n3, n4) = (n.clone(), n.clone(), n.clone(), n.clone());
                Some(
                    view! {
                        <div id="asset-editor" class="defense-editor" data-asset=a.id.0.to_string() data-name=n.clone()>
                            <h3>{format!("{} · {}", n, a.id)}</h3>
                            <label class="row">
                                "Name "
                                <input
                                    id="sel-asset-name"
                                    type="text"
                                    maxlength="64"
                                    prop:value=n.clone()
                                    on:change=move |ev| {
                                        let v = event_target_value(&ev).trim().to_string();
                                        ctx.rebuild_asset(&n1, |a| a.name = v);
                                    }
                                />
                            </label>
                            {number_row(
                                "Value ",
                                "sel-asset-value",
                                (Some("0"), None, Some("10")),
                                format!("{}", a.asset.value),
                                move |v: String| {
                                    if let Some(v) = parse_finite(&v) {
                                        ctx.rebuild_asset(&n2, |a| a.value = v);
                                    }
                                },
                            )}
                            {number_row(
                                "Radius (km) ",
                                "sel-asset-radius",
                                (Some("1"), None, Some("5")),
                                format!("{}", a.asset.radius_m / 1000.0),
                                move |v: String| {
                                    if let Some(v) = parse_finite(&v) {
                                        ctx.rebuild_asset(&n3, |a| a.radius_m = v * 1000.0);
                                    }
                                },
                            )}
                            <button
                                id="asset-delete"
                                type="button"
                                aria-label="Delete the selected asset"
                                on:click=move |_| {
                                    if let Some(a) = ctx.read(|p| asset_named(&p.sim().defense().assets, &n4)) {
                                        ui.selected.set(None);
                                        ctx.radar_commands(vec![Command::RemoveAsset { asset: a.id }]);
                                    }
                                }
                            >
                                "Delete"
                            </button>
                        </div>
                    }
                    .into_any(),
                )
            }
        }
    };
    view! {
        <section id="defense-panel" class="panel defense-panel" aria-label="Defence">
            <header class="panel-head">
                <h2>"Defence"</h2>
                <button
                    type="button"
                    class="fold"
                    aria-expanded=move || open.get().to_string()
                    aria-label="Show or hide the defence tools"
                    on:click=move |_| open.update(|o| *o = !*o)
                >
                    {move || if open.get() { "−" } else { "+" }}
                </button>
            </header>
            <div class="panel-body" class:hidden=move || !open.get()>
                <div class="row tools">
                    <button
                        id="battery-mode"
                        type="button"
                        class="tool-toggle"
                        class:active=move || ui.tool.get() == DefenseTool::Battery
                        aria-pressed=move || (ui.tool.get() == DefenseTool::Battery).to_string()
                        on:click=move |_| set_tool(DefenseTool::Battery)
                    >
                        "Place battery"
                    </button>
                    <button
                        id="asset-mode"
                        type="button"
                        class="tool-toggle"
                        class:active=move || ui.tool.get() == DefenseTool::Asset
                        aria-pressed=move || (ui.tool.get() == DefenseTool::Asset).to_string()
                        on:click=move |_| set_tool(DefenseTool::Asset)
                    >
                        "Place asset"
                    </button>
                </div>
                <fieldset class="form" class:hidden=move || ui.tool.get() != DefenseTool::Battery>
                    <legend>"Next battery"</legend>
                    <label class="row">
                        "Interceptor "
                        <select
                            id="battery-type"
                            prop:value=move || ui.battery.get().kind.name()
                            on:change=move |ev| {
                                if let Ok(k) = InterceptorKind::parse(&event_target_value(&ev)) {
                                    ui.battery.update(|f| f.kind = k);
                                }
                            }
                        >
                            {kind_options()}
                        </select>
                    </label>
                    <label class="row">
                        "Call sign "
                        <input
                            id="battery-call-sign"
                            type="text"
                            maxlength="64"
                            prop:value=move || ui.battery.get().call_sign
                            on:change=move |ev| ui.battery.update(|f| f.call_sign = event_target_value(&ev))
                        />
                    </label>
                    {number_row(
                        "Rounds ",
                        "battery-rounds",
                        (Some("0"), Some("10000"), None),
                        move || ui.battery.get().rounds.to_string(),
                        move |v: String| {
                            if let Some(n) = parse_u32(&v) {
                                ui.battery.update(|f| f.rounds = n);
                            }
                        },
                    )}
                    {number_row(
                        "Launchers ",
                        "battery-launchers",
                        (Some("1"), Some("10000"), None),
                        move || ui.battery.get().launchers.to_string(),
                        move |v: String| {
                            if let Some(n) = parse_u32(&v) {
                                ui.battery.update(|f| f.launchers = n);
                            }
                        },
                    )}
                </fieldset>
                <fieldset class="form" class:hidden=move || ui.tool.get() != DefenseTool::Asset>
                    <legend>"Next asset"</legend>
                    <label class="row">
                        "Name "
                        <input
                            id="asset-name"
                            type="text"
                            maxlength="64"
                            prop:value=move || ui.asset.get().name
                            on:change=move |ev| ui.asset.update(|f| f.name = event_target_value(&ev))
                        />
                    </label>
                    {number_row(
                        "Value ",
                        "asset-value",
                        (Some("0"), None, Some("10")),
                        move || format!("{}", ui.asset.get().value),
                        move |v: String| {
                            if let Some(v) = parse_finite(&v) {
                                ui.asset.update(|f| f.value = v);
                            }
                        },
                    )}
                    {number_row(
                        "Radius (km) ",
                        "asset-radius",
                        (Some("1"), None, Some("5")),
                        move || format!("{}", ui.asset.get().radius_km),
                        move |v: String| {
                            if let Some(v) = parse_finite(&v) {
                                ui.asset.update(|f| f.radius_km = v);
                            }
                        },
                    )}
                </fieldset>
                {editor}
                <fieldset class="form doctrine" id="doctrine">
                    <legend>"Doctrine"</legend>
                    {number_row(
                        "Rounds per engagement ",
                        "doctrine-salvo",
                        (Some("1"), Some("8"), None),
                        move || doctrine.get().salvo_size.to_string(),
                        move |v: String| ctx.set_doctrine(parse_u32(&v), None, None, None),
                    )}
                    <label class="row">
                        "Fire "
                        <select
                            id="doctrine-mode"
                            prop:value=move || mode_name(doctrine.get().mode)
                            on:change=move |ev| {
                                let m = event_target_value(&ev);
                                ctx.set_doctrine(None, Some(&m), None, None);
                            }
                        >
                            <option value=mode_name(FireMode::ShootLookShoot)>"shoot-look-shoot"</option>
                            <option value=mode_name(FireMode::Salvo)>"salvo"</option>
                        </select>
                    </label>
                    {number_row(
                        "Minimum Pk ",
                        "doctrine-min-pk",
                        (Some("0"), Some("1"), Some("0.05")),
                        move || format!("{}", doctrine.get().min_pk),
                        move |v: String| ctx.set_doctrine(None, None, parse_finite(&v), None),
                    )}
                    {number_row(
                        "Reserve rounds ",
                        "doctrine-reserve",
                        (Some("0"), None, None),
                        move || doctrine.get().reserve_rounds.to_string(),
                        move |v: String| ctx.set_doctrine(None, None, None, parse_u32(&v)),
                    )}
                </fieldset>
                {move || ui.error.get().map(|e| view! { <p id="defense-error" class="error" role="alert">{e}</p> })}
                <p class="hint">
                    {move || match ui.tool.get() {
                        DefenseTool::Battery => "Click the map to place a battery.".to_string(),
                        DefenseTool::Asset => "Click the map to place a defended asset.".to_string(),
                        DefenseTool::Off => {
                            let (nb, na) = (batteries.with(Vec::len), assets.with(Vec::len));
                            if nb > 0 && na == 0 {
                                "Batteries engage only threats to a defended asset: place one.".to_string()
                            } else {
                                "Drag a battery or an asset to move it; click one to edit it.".to_string()
                            }
                        }
                    }}
                </p>
            </div>
        </section>
    }
}

/// A battery as drawn.
#[derive(Clone, Debug, PartialEq)]
struct BatteryDraw {
    id: BatteryId,
    call_sign: String,
    kind: InterceptorKind,
    position: GeoPoint,
    rounds: u32,
    initial: u32,
    footprint: EngagementFootprint,
    /// Radius of the sphere the footprint is measured on (m).
    sphere_m: f64,
}

/// An interceptor's fly-out as drawn.
#[derive(Clone, Debug, PartialEq)]
struct FlyDraw {
    id: InterceptorId,
    call_sign: String,
    path: Vec<GeoPoint>,
    /// Where it is now, if in flight.
    now: Option<GeoPoint>,
    /// How it ended: kill, place, miss distance.
    end: Option<(bool, GeoPoint, f64)>,
}

/// Each battery's footprint and rounds left, each defended asset, the interceptors with their
/// fly-outs, kills, misses and leakers' hits (inside the map's SVG).
#[component]
pub fn DefenseOverlay(
    /// Shared simulation handles.
    ctx: SimCtx,
    /// The map's viewport.
    view: RwSignal<Viewport>,
) -> impl IntoView {
    let ui = ctx.defense;
    let units = Memo::new(move |_| {
        ctx.status.track();
        ctx.read(|p| {
            let d = p.sim().defense();
            (
                d.batteries.clone(),
                d.assets.clone(),
                p.sim().physics().earth.range_radius_m(),
            )
        })
    });
    let batteries = Memo::new(move |_| {
        let drag = ui.drag.get();
        units.with(|(list, _, r)| {
            list.iter()
                .map(|b| {
                    let mut position = b.battery.position;
                    if let Some(d) = drag.as_ref().filter(|d| {
                        d.moved && d.item == DefenseSel::Battery(b.battery.call_sign.clone())
                    }) {
                        position = d.to;
                    }
                    BatteryDraw {
                        id: b.id(),
                        call_sign: b.battery.call_sign.clone(),
                        kind: b.battery.kind,
                        position,
                        rounds: b.battery.rounds,
                        initial: b.battery.rounds + b.rounds_fired,
                        footprint: engagement_footprint(b.battery.kind, &position, *r),
                        sphere_m: *r,
                    }
                })
                .collect::<Vec<_>>()
        })
    });
    let assets = Memo::new(move |_| {
        let drag = ui.drag.get();
        units.with(|(_, list, r)| {
            list.iter()
                .map(|a| {
                    let mut position = a.asset.position;
                    if let Some(d) = drag
                        .as_ref()
                        .filter(|d| d.moved && d.item == DefenseSel::Asset(a.asset.name.clone()))
                    {
                        position = d.to;
                    }
                    let ring = range_ring(&position, a.asset.radius_m, *r, ASSET_CIRCLE_POINTS);
                    (
                        a.id,
                        a.asset.name.clone(),
                        position,
                        a.asset.radius_m,
                        ring,
                        *r,
                    )
                })
                .collect::<Vec<(AssetId, String, GeoPoint, f64, Vec<GeoPoint>, f64)>>()
        })
    });
    let live = Memo::new(move |_| {
        ctx.status.track();
        ctx.read(|p| {
            let tick = p.tick();
            let now = interceptor_views(p.sim());
            let rec = p.defense();
            let shown: Vec<_> = rec
                .fly_outs
                .iter()
                .filter(|f| f.launch_tick < tick)
                .collect();
            let skip = shown.len().saturating_sub(MAX_FLYOUTS_DRAWN);
            let flys: Vec<FlyDraw> = shown[skip..]
                .iter()
                .map(|f| {
                    let mut path: Vec<GeoPoint> = f
                        .upto(tick)
                        .iter()
                        .map(|q| GeoPoint::new(q.lat_deg, q.lon_deg))
                        .collect();
                    let here = now
                        .iter()
                        .find(|v| v.id == f.interceptor)
                        .map(|v| GeoPoint::new(v.lat_deg, v.lon_deg));
                    if let (Some(h), Some(last)) = (here, path.last().copied()) {
                        path.push(GeoPoint::new(
                            h.lat_deg,
                            last.lon_deg + crate::view::wrap_lon(h.lon_deg - last.lon_deg),
                        ));
                    }
                    FlyDraw {
                        id: f.interceptor,
                        call_sign: f.battery_call_sign.clone(),
                        path,
                        now: here,
                        end: f.ended_before(tick).map(|e| (e.kill, e.at, e.miss_m)),
                    }
                })
                .collect();
            let hits: Vec<(MissileId, GeoPoint)> = p
                .lines()
                .iter()
                .filter(|l| l.kind == "asset-hit")
                .filter_map(|l| Some((l.missile?, l.place?)))
                .collect();
            (flys, hits)
        })
    });
    move || {
        let v = view.get();
        let selected = ui.selected.get();
        let px = |p: &GeoPoint| v.project(*p);
        let sel_battery = |name: &str| selected == Some(DefenseSel::Battery(name.to_string()));
        let sel_asset = |name: &str| selected == Some(DefenseSel::Asset(name.to_string()));
        let bats = batteries.with(|list| {
            list.iter()
                .map(|b| {
                    let s = px(&b.position);
                    view! {
                        <g
                            class="battery"
                            class:selected=sel_battery(&b.call_sign)
                            data-battery=b.id.0.to_string()
                            data-call-sign=b.call_sign.clone()
                            data-kind=b.kind.name()
                            data-rounds=b.rounds.to_string()
                            data-engage-km=format!("{:.0}", b.footprint.engage_m / 1000.0)
                            data-envelope-km=format!("{:.0}", b.footprint.envelope_m / 1000.0)
                            data-limit=b.footprint.limit.name()
                            data-lat=format!("{:.6}", b.position.lat_deg)
                            data-lon=format!("{:.6}", b.position.lon_deg)
                        >
                            // Filled as an area (closed along the limb on the globe), stroked
                            // along the outline only.
                            <path
                                class="engagement-fill"
                                d=svg_area(&v, &b.footprint.engage_outline, |p| {
                                    within(&b.position, b.footprint.engage_m, b.sphere_m, p)
                                })
                            ></path>
                            <path class="engagement" d=svg_path(&v, &b.footprint.engage_outline)></path>
                            <path class="envelope" d=svg_path(&v, &b.footprint.envelope_outline)></path>
                            <path
                                class="battery-site"
                                d=format!(
                                    "M{:.1} {:.1}L{:.1} {:.1}L{:.1} {:.1}Z",
                                    s.x, s.y - 7.0, s.x + 6.0, s.y + 5.0, s.x - 6.0, s.y + 5.0
                                )
                            ></path>
                            <text class="battery-label" x=format!("{:.1}", s.x + 9.0) y=format!("{:.1}", s.y + 14.0)>
                                {format!("{} {}/{}", b.call_sign, b.rounds, b.initial)}
                            </text>
                        </g>
                    }
                })
                .collect_view()
        });
        let n_bats = batteries.with(Vec::len);
        let asts = assets.with(|list| {
            list.iter()
                .map(|(id, name, at, radius_m, ring, sphere_m)| {
                    let s = px(at);
                    view! {
                        <g
                            class="asset"
                            class:selected=sel_asset(name)
                            data-asset=id.0.to_string()
                            data-name=name.clone()
                            data-radius-km=format!("{:.1}", radius_m / 1000.0)
                            data-lat=format!("{:.6}", at.lat_deg)
                            data-lon=format!("{:.6}", at.lon_deg)
                        >
                            <path class="asset-fill" d=svg_area(&v, ring, |p| within(at, *radius_m, *sphere_m, p))></path>
                            <path class="asset-area" d=svg_path(&v, ring)></path>
                            <circle class="asset-site" cx=format!("{:.1}", s.x) cy=format!("{:.1}", s.y) r="4"></circle>
                            <text class="asset-label" x=format!("{:.1}", s.x + 8.0) y=format!("{:.1}", s.y - 8.0)>
                                {name.clone()}
                            </text>
                        </g>
                    }
                })
                .collect_view()
        });
        let (flys, hits) = live.get();
        let n_flying = flys.iter().filter(|f| f.now.is_some()).count();
        let kills = flys.iter().filter(|f| f.end.is_some_and(|e| e.0)).count();
        let sel_icpt = ctx.selected.get().and_then(Selected::interceptor);
        let hover_icpt = ctx.hover.get().and_then(Selected::interceptor);
        let fly_views = flys
            .into_iter()
            .map(|f| {
                let now = f.now.map(|p| {
                    let s = px(&p);
                    view! {
                        <circle
                            class="interceptor"
                            data-interceptor=f.id.0.to_string()
                            cx=format!("{:.1}", s.x)
                            cy=format!("{:.1}", s.y)
                            r="3.5"
                        ></circle>
                    }
                });
                let end = f.end.map(|(kill, at, miss_m)| {
                    let s = px(&at);
                    let d = if kill {
                        format!(
                            "M{:.1} {:.1}L{:.1} {:.1}M{:.1} {:.1}L{:.1} {:.1}",
                            s.x - 6.0,
                            s.y - 6.0,
                            s.x + 6.0,
                            s.y + 6.0,
                            s.x + 6.0,
                            s.y - 6.0,
                            s.x - 6.0,
                            s.y + 6.0
                        )
                    } else {
                        format!(
                            "M{:.1} {:.1}a5 5 0 1 0 10 0a5 5 0 1 0 -10 0",
                            s.x - 5.0,
                            s.y
                        )
                    };
                    view! {
                        <path
                            class=if kill { "intercept-kill" } else { "intercept-miss" }
                            data-interceptor=f.id.0.to_string()
                            data-miss-m=format!("{miss_m:.1}")
                            d=d
                        ></path>
                    }
                });
                // The selected or hovered interceptor is ringed like a missile on the canvas,
                // where it is now or where it ended.
                let ring = (sel_icpt == Some(f.id) || hover_icpt == Some(f.id))
                    .then(|| f.now.or(f.end.map(|e| e.1)))
                    .flatten()
                    .map(|p| {
                        let s = px(&p);
                        view! {
                            <circle
                                class="selection-ring"
                                class:selected=sel_icpt == Some(f.id)
                                cx=format!("{:.1}", s.x)
                                cy=format!("{:.1}", s.y)
                                r="8"
                            ></circle>
                        }
                    });
                view! {
                    <g
                        class="fly-out"
                        class:selected=sel_icpt == Some(f.id)
                        class:hovered=hover_icpt == Some(f.id)
                        data-interceptor=f.id.0.to_string()
                        data-battery=f.call_sign.clone()
                    >
                        <path class="fly-out-path" d=svg_path(&v, &f.path)></path>
                        {now}
                        {end}
                        {ring}
                    </g>
                }
            })
            .collect_view();
        let hit_views = hits
            .into_iter()
            .map(|(m, at)| {
                let s = px(&at);
                view! {
                    <circle
                        class="asset-hit"
                        data-missile=m.0.to_string()
                        cx=format!("{:.1}", s.x)
                        cy=format!("{:.1}", s.y)
                        r="9"
                    ></circle>
                }
            })
            .collect_view();
        view! {
            <g
                id="defense-layer"
                data-batteries=n_bats.to_string()
                data-interceptors=n_flying.to_string()
                data-kills=kills.to_string()
            >
                {asts}
                {bats}
                {fly_views}
                {hit_views}
            </g>
        }
    }
}

/// The label that follows the pointer over an interceptor, a battery or an asset.
#[component]
pub fn DefenseHover(
    /// Shared simulation handles.
    ctx: SimCtx,
    /// The map's viewport.
    view: RwSignal<Viewport>,
) -> impl IntoView {
    move || {
        ctx.status.track();
        let hover = ctx.hover.get();
        if hover.is_some_and(|h| h.missile().is_some()) || ctx.defense.drag.with(Option::is_some) {
            return None;
        }
        let at = ctx.cursor_px.get()?;
        let v = view.get();
        let (title, detail) = ctx.read(|p| {
            if let Some(id) = hover.and_then(Selected::interceptor) {
                return interceptor_label(p, id);
            }
            let sim = p.sim();
            let d = sim.defense();
            if let Some(id) = battery_near(sim, &v, at, PICK_RADIUS_PX) {
                let b = d.battery(id)?;
                let f = engagement_footprint(
                    b.battery.kind,
                    &b.battery.position,
                    sim.physics().earth.range_radius_m(),
                );
                return Some((
                    format!("{} · {}", b.battery.call_sign, b.battery.kind),
                    format!(
                        "{}/{} rounds · {} launchers · engages to {:.0} km (envelope {:.0} km)",
                        b.battery.rounds,
                        b.battery.rounds + b.rounds_fired,
                        b.battery.launchers,
                        f.engage_m / 1000.0,
                        f.envelope_m / 1000.0
                    ),
                ));
            }
            let id = asset_near(sim, &v, at, PICK_RADIUS_PX)?;
            let a = d.assets.iter().find(|a| a.id == id)?;
            Some((
                format!("{} · defended asset", a.asset.name),
                format!(
                    "value {} · radius {:.0} km",
                    a.asset.value,
                    a.asset.radius_m / 1000.0
                ),
            ))
        })?;
        Some(view! {
            <div
                id="defense-hover"
                class="hover-label"
                style:left=format!("{:.0}px", at.x + 14.0)
                style:top=format!("{:.0}px", at.y + 14.0)
            >
                <strong>{title}</strong>
                <span>{detail}</span>
            </div>
        })
    }
}

/// The hover label of interceptor `id`: its state in flight, or how it ended.
fn interceptor_label(p: &Player, id: InterceptorId) -> Option<(String, String)> {
    let sim = p.sim();
    if let Some(i) = interceptor_views(sim).into_iter().find(|i| i.id == id) {
        let from = sim
            .defense()
            .battery(i.battery)
            .map(|b| b.battery.call_sign.clone())
            .unwrap_or_else(|| i.battery.to_string());
        let phase = serde_json::to_value(i.phase)
            .ok()
            .and_then(|j| j.as_str().map(str::to_string))
            .unwrap_or_default();
        return Some((
            format!("{} {} from {from}", i.id, i.kind),
            format!(
                "at track {} · {:.1} km · {:.0} m/s · {phase} · T+{:.0} s of flight",
                i.track,
                i.alt_m / 1000.0,
                i.speed_m_s,
                i.flight_s
            ),
        ));
    }
    let f = p.defense().fly_out(id)?;
    let e = f.ended_before(p.tick())?;
    Some((
        format!(
            "{} {} from {}: {}",
            id,
            f.kind,
            f.battery_call_sign,
            if e.kill { "kill" } else { "miss" }
        ),
        format!(
            "at track {} · {:.1} km high · miss distance {:.1} m · Pk {:.2}",
            f.track,
            e.alt_m / 1000.0,
            e.miss_m,
            e.pk
        ),
    ))
}

/// The command center's explanation of the chosen engagement order.
#[component]
pub fn ExplanationPanel(
    /// Shared simulation handles.
    ctx: SimCtx,
) -> impl IntoView {
    let ui = ctx.defense;
    // A memo: while playing the status changes every frame, the explanation only when an
    // interceptor of the order launches or ends.
    let data = Memo::new(move |_| {
        ctx.status.track();
        let key = ui.explain.get()?;
        ctx.read(|p| {
            let o = p.defense().order(key)?.clone();
            let tick = p.tick();
            let outcomes: Vec<(InterceptorId, String)> = o
                .interceptors
                .iter()
                .map(|id| {
                    let what = match p.defense().fly_out(*id) {
                        Some(f) if f.launch_tick >= tick => "not yet launched".to_string(),
                        Some(f) => match f.ended_before(tick) {
                            Some(e) if e.kill => format!(
                                "killed its target at {:.1} km (miss distance {:.1} m)",
                                e.alt_m / 1000.0,
                                e.miss_m
                            ),
                            Some(e) => {
                                format!("missed by {:.0} m at {:.1} km", e.miss_m, e.alt_m / 1000.0)
                            }
                            None => "in flight".to_string(),
                        },
                        None => "unknown".to_string(),
                    };
                    (*id, what)
                })
                .collect();
            Some((o, outcomes))
        })
    });
    move || {
        let (o, outcomes) = data.get()?;
        let mut alternatives = o.alternatives.clone();
        alternatives.sort_by_key(|a| a.status != AlternativeStatus::Chosen);
        let rows = alternatives
            .into_iter()
            .map(|a| {
                view! {
                    <tr
                        class="alternative"
                        class:chosen=a.status == AlternativeStatus::Chosen
                        data-battery=a.battery_call_sign.clone()
                        data-pk=format!("{:.2}", a.pk)
                        data-status=format!("{:?}", a.status)
                    >
                        <td>{a.battery_call_sign.clone()}</td>
                        <td>{format!("T+{:.0} s", a.intercept_s)}</td>
                        <td>{format!("{:.2}", a.pk)}</td>
                        <td>{status_text(a.status)}</td>
                    </tr>
                }
            })
            .collect_view();
        let out = (!o.out_of_reach.is_empty()).then(|| {
            let items = o
                .out_of_reach
                .iter()
                .map(|u| {
                    view! {
                        <li data-battery=u.call_sign.clone()>
                            {format!("{}: {}", u.call_sign, u.reason)}
                        </li>
                    }
                })
                .collect_view();
            view! {
                <p class="out-of-reach">"Not considered:"</p>
                <ul class="out-of-reach">{items}</ul>
            }
        });
        let selected = ctx.selected.get().and_then(Selected::interceptor);
        let fired = outcomes
            .into_iter()
            .map(|(id, what)| {
                view! {
                    <li class:selected=selected == Some(id) data-interceptor=id.0.to_string()>
                        {format!("{id}: {what}")}
                    </li>
                }
            })
            .collect_view();
        Some(view! {
            <section
                id="explanation"
                class="panel explanation-panel"
                aria-live="polite"
                aria-label="Engagement explanation"
                data-battery=o.battery_call_sign.clone()
                data-track=o.key.track.to_string()
                data-pk=format!("{:.2}", o.pk)
            >
                <header class="panel-head">
                    <h2>{format!("Why {} engaged track {}", o.battery_call_sign, o.key.track)}</h2>
                    <button
                        type="button"
                        class="fold"
                        aria-label="Close the explanation"
                        on:click=move |_| ui.explain.set(None)
                    >
                        "×"
                    </button>
                </header>
                <p>
                    {format!(
                        "T+{:.1} s: track {} {} predicted to impact at T+{:.0} s ({:.2}°, {:.2}°).",
                        o.time_s,
                        o.key.track,
                        o.asset
                            .as_ref()
                            .map_or_else(|| "is".to_string(), |a| format!("threatens {a}:")),
                        o.impact_s,
                        o.impact_at.lat_deg,
                        o.impact_at.lon_deg
                    )}
                </p>
                <p>
                    {format!(
                        "Ordered: {} round{} from {} ({}), intercept planned at T+{:.0} s ({:.0} s after the order, {:.0} s before impact); Pk {:.2} per round, {:.2} for the engagement.",
                        o.rounds,
                        if o.rounds == 1 { "" } else { "s" },
                        o.battery_call_sign,
                        mode_name(o.mode),
                        o.intercept_s,
                        o.time_to_intercept_s(),
                        o.impact_s - o.intercept_s,
                        o.pk,
                        o.pk_engagement
                    )}
                </p>
                <table class="alternatives">
                    <thead>
                        <tr>
                            <th scope="col">"Battery"</th>
                            <th scope="col">"Intercept"</th>
                            <th scope="col">"Pk"</th>
                            <th scope="col">"Decision"</th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
                {out}
                <ul class="fired">{fired}</ul>
            </section>
        })
    }
}

/// The defence counters (old names) and each battery's rounds left, under the log counters.
#[component]
pub fn DefenseCounters(
    /// Shared simulation handles.
    ctx: SimCtx,
) -> impl IntoView {
    // Only on log changes: a round fired, a command or a seek always logs or bumps the log
    // revision, and counting the whole log every frame of a raid would be waste.
    let data = Memo::new(move |_| {
        ctx.log_rev.track();
        ctx.read(|p| {
            let c = Counters::of(p.lines(), p.detections());
            let rounds: Vec<(String, u32, u32)> = p
                .sim()
                .defense()
                .batteries
                .iter()
                .map(|b| {
                    (
                        b.battery.call_sign.clone(),
                        b.battery.rounds,
                        b.battery.rounds + b.rounds_fired,
                    )
                })
                .collect();
            (c, rounds)
        })
    });
    move || {
        let (c, rounds) = data.get();
        if rounds.is_empty() && c.engagements == 0 && c.battery_fires == 0 {
            return None;
        }
        let left = rounds
            .iter()
            .map(|(n, r, i)| format!("{n} {r}/{i}"))
            .collect::<Vec<_>>()
            .join(" · ");
        let total_left = rounds.iter().map(|r| r.1).sum::<u32>().to_string();
        Some(view! {
            <p
                id="defense-counters"
                class="counters"
                data-intercepts-ordered=c.engagements.to_string()
                data-battery-fires=c.battery_fires.to_string()
                data-successful-intercepts=c.kills.to_string()
                data-misses=c.misses.to_string()
                data-leakers=c.leakers.to_string()
                data-rounds-left=total_left
            >
                {format!(
                    "Intercepts ordered {} · battery fires {} · successful intercepts {} · misses {} · leakers {}",
                    c.engagements, c.battery_fires, c.kills, c.misses, c.leakers
                )}
                <br />
                {format!("Rounds left: {}", if left.is_empty() { "—".to_string() } else { left })}
            </p>
        })
    }
}
