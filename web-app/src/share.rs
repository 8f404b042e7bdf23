//! Sharing: the Share button, which puts the whole session (the scenario it started from and
//! every command given since, with its tick) into the page's fragment as a `sim_core::link`
//! link and copies the URL; opening a page with `#s=<link>` restores the same engagement; import
//! and export of scenario files.
//!
//! The pure part (building a [`Session`] from a player, restoring a player from a session) is
//! plain Rust, tested natively: a restored player replays the shared one event for event. The
//! panel exists only in the browser.
//!
//! Launch guidance: the launch tool solves each flight once and sends its guidance with the
//! command (see [`crate::launch::salvo`]). That guidance is a pure function of the missile,
//! the two points, the profile and the physics, so a link leaves it out (five full-precision
//! numbers per launch would double a link's length) and [`restore`] solves it again, once per
//! distinct launch, getting the same bits.

use sim_core::Simulation;
use sim_core::engine::{Command, Scenario};
use sim_core::flight::{Guidance, PhysicsParams};
use sim_core::link::{Session, SessionCommand};
use sim_core::targeting::{self, TargetingRequest};

use crate::playback::{LoggedCommand, Player, Preset};

/// Steps per degree kept of a point clicked on the map: 1e-6 degrees is 0.11 m, far below a
/// pixel at any zoom, and a rounded point is 8 to 10 digits in a link instead of 17 (a raid
/// clicked by hand is then about a quarter shorter).
pub const CLICK_STEPS_PER_DEG: f64 = 1e6;

/// A clicked point as the simulation gets it: rounded to 1e-6 degrees. Rounding and one
/// division are exact IEEE operations, the same on every platform.
pub fn click_point(lat_deg: f64, lon_deg: f64) -> sim_core::earth::GeoPoint {
    let round = |x: f64| (x * CLICK_STEPS_PER_DEG).round() / CLICK_STEPS_PER_DEG;
    sim_core::earth::GeoPoint::new(round(lat_deg), round(lon_deg))
}

/// The value of the preset selection while a shared or imported scenario is loaded.
pub const SHARED_PRESET: &str = "shared";

/// The scenario of a built-in preset (the empty map for `empty` or an unknown id).
pub fn preset_scenario(id: &str) -> Result<Scenario, String> {
    match Preset::by_id(id).and_then(|p| p.json) {
        Some(text) => Scenario::from_json(text).map_err(|e| e.to_string()),
        None => Ok(empty_scenario()),
    }
}

/// The empty map as a scenario: it starts the same simulation as the `empty` preset.
pub fn empty_scenario() -> Scenario {
    let mut s = Scenario::single_launch(
        "Empty map",
        sim_core::MissileKind::ScudB,
        sim_core::earth::GeoPoint::new(0.0, 0.0),
        sim_core::earth::GeoPoint::new(0.0, 0.0),
    );
    s.launches.clear();
    s
}

/// The session a player holds: its starting scenario and its command log, the launch
/// guidance left out (see the module documentation).
pub fn session_of(scenario: Scenario, commands: &[LoggedCommand]) -> Session {
    Session {
        scenario,
        commands: commands
            .iter()
            .map(|c| SessionCommand {
                tick: c.tick,
                command: match &c.command {
                    Command::Launch(l) => {
                        let mut l = l.clone();
                        l.guidance = None;
                        Command::Launch(l)
                    }
                    // Only a launch carries something derived (its guidance) that a link
                    // leaves out; a new command must be judged here.
                    other @ (Command::PlaceRadar(_)
                    | Command::MoveRadar { .. }
                    | Command::RemoveRadar { .. }
                    | Command::PlaceBattery(_)
                    | Command::RemoveBattery { .. }
                    | Command::PlaceAsset(_)
                    | Command::RemoveAsset { .. }
                    | Command::SetDoctrine(_)) => other.clone(),
                },
            })
            .collect(),
    }
}

/// A player at the start of a shared session, its commands logged at their ticks, the
/// guidance of each launch solved again (an unreachable target keeps none: the engine then
/// refuses it with the same `launch-rejected` event as the original).
pub fn restore(session: &Session) -> Player {
    let sim = Simulation::from_scenario(&session.scenario);
    let physics = *sim.physics();
    let mut player = Player::new(sim);
    let mut solved: Vec<(TargetingRequest, Option<Guidance>)> = Vec::new();
    for c in &session.commands {
        let command = match &c.command {
            Command::Launch(l) if l.guidance.is_none() => {
                let req = TargetingRequest {
                    kind: l.missile,
                    from: l.from,
                    to: l.to,
                    profile: l.profile,
                };
                let mut l = l.clone();
                l.guidance = guidance_for(&mut solved, req, &physics);
                Command::Launch(l)
            }
            other @ (Command::Launch(_)
            | Command::PlaceRadar(_)
            | Command::MoveRadar { .. }
            | Command::RemoveRadar { .. }
            | Command::PlaceBattery(_)
            | Command::RemoveBattery { .. }
            | Command::PlaceAsset(_)
            | Command::RemoveAsset { .. }
            | Command::SetDoctrine(_)) => other.clone(),
        };
        player.schedule(c.tick, command);
    }
    player
}

/// The solved guidance of `req`, from `cache` when that launch was solved already (a salvo
/// is one solution for every round).
fn guidance_for(
    cache: &mut Vec<(TargetingRequest, Option<Guidance>)>,
    req: TargetingRequest,
    physics: &PhysicsParams,
) -> Option<Guidance> {
    if let Some((_, g)) = cache.iter().find(|(r, _)| *r == req) {
        return *g;
    }
    let g = targeting::solve(&req, physics).ok().map(|s| s.guidance);
    cache.push((req, g));
    g
}

#[cfg(target_arch = "wasm32")]
pub use ui::SharePanel;

#[cfg(target_arch = "wasm32")]
mod ui {
    use leptos::prelude::*;
    use sim_core::engine::Scenario;
    use sim_core::link::{self, Session};
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::{JsCast, JsValue};

    use super::{SHARED_PRESET, preset_scenario, restore, session_of};
    use crate::panels::SimCtx;

    /// What the panel shows under its buttons.
    #[derive(Clone, Debug, PartialEq)]
    enum Notice {
        None,
        /// The URL to copy, and whether it was copied to the clipboard.
        Link {
            url: String,
            copied: bool,
        },
        /// Something could not be opened or imported (one sentence).
        Error(String),
        /// A file was imported.
        Imported(String),
    }

    /// The scenario the current player started from ([`SimCtx::scenario`]; a room's timeline
    /// has none: the preset chosen before is the best there is).
    fn current_scenario(ctx: SimCtx) -> Scenario {
        ctx.scenario.get_value().unwrap_or_else(|| {
            preset_scenario(ctx.preset.get_untracked()).unwrap_or_else(|_| super::empty_scenario())
        })
    }

    /// Replaces the player with a session's, and plays it.
    fn open(ctx: SimCtx, session: &Session) {
        let player = restore(session);
        ctx.scenario.set_value(Some(session.scenario.clone()));
        ctx.player.set_value(player);
        ctx.preset.set(SHARED_PRESET);
        ctx.selected.set(None);
        ctx.hover.set(None);
        ctx.radar.selected.set(None);
        ctx.playing.set(true);
        ctx.log_rev.update(|r| *r += 1);
        ctx.frame.update(|f| *f += 1);
        ctx.changed();
    }

    /// The link in the page's fragment, if it carries one (`#s=...`).
    fn fragment_link() -> Option<String> {
        let hash = window().location().hash().ok()?;
        let hash = hash.strip_prefix('#').unwrap_or(&hash);
        hash.split('&')
            .any(|p| p.starts_with(&format!("{}=", link::FRAGMENT_KEY)))
            .then(|| hash.to_string())
    }

    /// Copies `text` with the asynchronous clipboard API when the page may; `done(true)` once
    /// copied, `done(false)` when refused or absent (then the text field is the way).
    fn copy_to_clipboard(text: &str, done: impl Fn(bool) + 'static) {
        let done = std::rc::Rc::new(done);
        let clipboard =
            js_sys::Reflect::get(&window().navigator(), &JsValue::from_str("clipboard"))
                .ok()
                .filter(|c| !c.is_undefined() && !c.is_null());
        let write = clipboard.as_ref().and_then(|c| {
            js_sys::Reflect::get(c, &JsValue::from_str("writeText"))
                .ok()?
                .dyn_into::<js_sys::Function>()
                .ok()
        });
        let (Some(clipboard), Some(write)) = (clipboard, write) else {
            done(false);
            return;
        };
        let Some(promise) = write
            .call1(&clipboard, &JsValue::from_str(text))
            .ok()
            .and_then(|p| p.dyn_into::<js_sys::Promise>().ok())
        else {
            done(false);
            return;
        };
        let ok = {
            let done = done.clone();
            Closure::once(move |_: JsValue| done(true))
        };
        let refused = Closure::once(move |_: JsValue| done(false));
        // Both handlers are attached, so a refusal is never an unhandled rejection.
        let _ = promise.then2(&ok, &refused);
        ok.forget();
        refused.forget();
    }

    /// Offers `text` as a file download named `name`.
    fn download(name: &str, text: &str) -> Result<(), JsValue> {
        let document = window().document().ok_or("no document")?;
        let a = document
            .create_element("a")?
            .dyn_into::<web_sys::HtmlElement>()?;
        let href = format!(
            "data:application/json;charset=utf-8,{}",
            String::from(js_sys::encode_uri_component(text))
        );
        a.set_attribute("href", &href)?;
        a.set_attribute("download", name)?;
        a.click();
        Ok(())
    }

    /// A file name from a scenario name: letters, digits and dashes.
    fn file_name(name: &str) -> String {
        let mut out = String::new();
        for c in name.chars() {
            if c.is_ascii_alphanumeric() {
                out.push(c.to_ascii_lowercase());
            } else if !out.ends_with('-') && !out.is_empty() {
                out.push('-');
            }
        }
        let out = out.trim_end_matches('-');
        format!("{}.json", if out.is_empty() { "scenario" } else { out })
    }

    /// Share, export and import, and the message of a link that cannot be opened.
    #[component]
    pub fn SharePanel(
        /// Shared simulation handles.
        ctx: SimCtx,
    ) -> impl IntoView {
        let notice = RwSignal::new(Notice::None);
        // The fragment this page wrote last: the `hashchange` it causes is not a new link.
        let written = StoredValue::new_local(String::new());

        let open_fragment = move |hash: String| match Session::from_link(&hash) {
            Ok(session) => {
                open(ctx, &session);
                notice.set(Notice::None);
            }
            Err(e) => {
                // Nothing is loaded: the map stays as it is (empty when the page opens).
                notice.set(Notice::Error(format!("This link cannot be opened: {e}.")));
            }
        };
        if let Some(hash) = fragment_link() {
            open_fragment(hash);
        }
        // A link pasted into the address bar of an open page.
        let on_hash = Closure::<dyn Fn()>::new(move || {
            if let Some(hash) = fragment_link()
                && hash != written.get_value()
            {
                open_fragment(hash);
            }
        });
        let _ = window()
            .add_event_listener_with_callback("hashchange", on_hash.as_ref().unchecked_ref());
        // The panel lives as long as the page.
        on_hash.forget();

        let share = move |_: leptos::ev::MouseEvent| {
            let session = ctx.read(|p| session_of(current_scenario(ctx), p.commands()));
            let link = session.to_link();
            let fragment = link::fragment(&link);
            written.set_value(fragment.clone());
            let location = window().location();
            let base = location.href().unwrap_or_default();
            let url = format!("{}#{fragment}", base.split('#').next().unwrap_or_default());
            // Replacing the history entry changes the address without a `hashchange`.
            if let Ok(history) = window().history() {
                let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&url));
            }
            notice.set(Notice::Link {
                url: url.clone(),
                copied: false,
            });
            let shown = url.clone();
            copy_to_clipboard(&url, move |copied| {
                if copied {
                    notice.set(Notice::Link {
                        url: shown.clone(),
                        copied: true,
                    });
                }
            });
        };

        let export = move |_: leptos::ev::MouseEvent| {
            let session = ctx.read(|p| session_of(current_scenario(ctx), p.commands()));
            let name = file_name(&session.scenario.name);
            if let Err(e) = download(&name, &session.to_json_pretty()) {
                notice.set(Notice::Error(format!(
                    "The file could not be saved: {e:?}."
                )));
            }
        };

        let import = move |ev: leptos::ev::Event| {
            let Some(input) = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
            else {
                return;
            };
            let Some(file) = input.files().and_then(|f| f.get(0)) else {
                return;
            };
            input.set_value("");
            let name = file.name();
            if file.size() > sim_core::engine::MAX_SCENARIO_BYTES as f64 {
                notice.set(Notice::Error(format!(
                    "{name} is larger than the scenario size limit of 1 MiB."
                )));
                return;
            }
            let loaded_ok = Closure::once(move |text: JsValue| {
                let text = text.as_string().unwrap_or_default();
                match Session::from_json(&text) {
                    Ok(session) => {
                        open(ctx, &session);
                        notice.set(Notice::Imported(format!("Opened {name}.")));
                    }
                    Err(e) => notice.set(Notice::Error(format!("{name} cannot be opened: {e}."))),
                }
            });
            let failed = Closure::once(move |_: JsValue| {
                notice.set(Notice::Error("The file could not be read.".into()));
            });
            let _ = file.text().then2(&loaded_ok, &failed);
            loaded_ok.forget();
            failed.forget();
        };

        let message = move || match notice.get() {
            Notice::None => None,
            Notice::Link { url, copied } => Some(
                view! {
                    <div class="share-link">
                        <label for="share-url">
                            {if copied { "Link copied. " } else { "Copy this link: " }}
                        </label>
                        <input
                            id="share-url"
                            type="text"
                            readonly=true
                            prop:value=url
                            data-copied=copied.to_string()
                            on:focus=move |ev| {
                                if let Some(i) = ev
                                    .target()
                                    .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
                                {
                                    i.select();
                                }
                            }
                        />
                    </div>
                }
                .into_any(),
            ),
            Notice::Error(text) => Some(
                view! { <p id="share-error" class="share-error" role="alert">{text}</p> }
                    .into_any(),
            ),
            Notice::Imported(text) => {
                Some(view! { <p class="share-info" role="status">{text}</p> }.into_any())
            }
        };

        view! {
            <section id="share-panel" class="panel share-panel" aria-label="Share and scenario files">
                <div class="share-buttons">
                    <button
                        id="share"
                        type="button"
                        title="Put this engagement in the page address and copy the link"
                        on:click=share
                    >
                        "Share"
                    </button>
                    <button
                        id="export-scenario"
                        type="button"
                        title="Download the scenario, with what was done so far, as a JSON file"
                        on:click=export
                    >
                        "Export"
                    </button>
                    <label class="import" title="Open a scenario JSON file">
                        "Import"
                        <input
                            id="import-scenario"
                            type="file"
                            accept=".json,application/json"
                            class="visually-hidden"
                            on:change=import
                        />
                    </label>
                    <button
                        type="button"
                        class="fold"
                        aria-label="Close the message"
                        class:hidden=move || notice.get() == Notice::None
                        on:click=move |_| notice.set(Notice::None)
                    >
                        "×"
                    </button>
                </div>
                {message}
            </section>
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::launch::{self, LaunchSettings};
    use sim_core::earth::GeoPoint;

    /// Everything logged over `ticks` ticks from the start, as text.
    fn log_text(player: &mut Player, ticks: u64) -> String {
        player.seek(0);
        while player.tick() < ticks {
            player.step();
        }
        player
            .lines()
            .iter()
            .map(|l| format!("{l:?}"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn a_shared_session_replays_event_for_event() {
        // The Southern California preset, a two-round salvo clicked at T+3 s and a
        // refused launch (out of range) at T+5 s, with full-precision click coordinates.
        let scenario = preset_scenario("socal-scud-c").unwrap();
        let mut player = Player::new(Simulation::from_scenario(&scenario));
        for _ in 0..30 {
            player.step();
        }
        let settings = LaunchSettings {
            count: 2,
            spacing_s: 2.0,
            ..LaunchSettings::default()
        };
        let physics = *player.sim().physics();
        let from = GeoPoint::new(35.912_345_678_901_23, -121.456_789_012_345_6);
        let to = GeoPoint::new(34.001_122_334_455_66, -118.3);
        for (tick, c) in launch::salvo(&settings, from, to, &physics, player.tick()).unwrap() {
            player.schedule(tick, c);
        }
        for _ in 0..20 {
            player.step();
        }
        let atlanta = GeoPoint::new(33.749, -84.388);
        let refused = Command::Launch(sim_core::engine::LaunchCommand {
            missile: sim_core::MissileKind::ScudB,
            from,
            to: atlanta,
            profile: Default::default(),
            label: None,
            guidance: None,
        });
        player.schedule(player.tick(), refused);

        let session = session_of(scenario, player.commands());
        let link = session.to_link();
        assert!(link.len() < 1_000, "{} characters", link.len());
        let mut restored = restore(&Session::from_link(&link).unwrap());
        assert_eq!(
            restored.commands(),
            player.commands(),
            "guidance solved again"
        );
        let ticks = 4_500;
        let original = log_text(&mut player, ticks);
        assert!(
            original.contains("Impact") || original.contains("impact"),
            "{original:.400}"
        );
        assert_eq!(log_text(&mut restored, ticks), original);
        assert_eq!(restored.sim().state_hash(), player.sim().state_hash());
    }

    #[test]
    fn clicks_are_rounded_to_a_tenth_of_a_metre() {
        let p = click_point(35.912_345_678_901_23, -121.456_789_5);
        assert_eq!((p.lat_deg, p.lon_deg), (35.912_346, -121.456_79));
        assert_eq!(
            serde_json::to_string(&p).unwrap(),
            r#"{"lat_deg":35.912346,"lon_deg":-121.45679}"#
        );
        let q = click_point(-0.000_000_4, 179.999_999_9);
        assert_eq!((q.lat_deg, q.lon_deg), (0.0, 180.0));
        assert!(q.validate().is_ok());
    }

    #[test]
    fn the_empty_preset_is_the_empty_scenario() {
        let empty = Preset::by_id("empty").unwrap().player().unwrap();
        let restored = restore(&Session::new(empty_scenario()));
        assert_eq!(
            restored.sim().state_hash(),
            empty.sim().state_hash(),
            "the empty map shared and opened is the empty map"
        );
        assert!(preset_scenario("socal-scud-c").unwrap().launches.len() == 1);
    }
}
