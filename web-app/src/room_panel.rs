//! The room UI: create a room through the relay's REST API (`POST /api/rooms`), join one by
//! opening its link (`/?room=ID#token=...`; without the token the link only watches), the
//! websocket to the relay, the presence list, the room feed (whose action was what), refusals
//! and connection trouble, and leaving. The exchange itself (lockstep clock, stamped commands,
//! hashes, resyncs) is the pure [`crate::room::Session`].
//!
//! Reactive choices: the [`Session`] and the socket live outside the reactive graph in local
//! `StoredValue`s, like the player; the websocket's handlers and the frame loop change them and
//! publish one counter (`rev`) that the panel reads, so a room costs the DOM nothing per frame.
//! While in a room the player is relay-driven: every command any panel gives lands in its
//! outbox and is sent from the frame loop ([`frame`]); nothing here applies a command locally.

use std::time::Duration;

use leptos::prelude::*;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{CloseEvent, MessageEvent, RequestInit, Response, WebSocket};

use sim_core::Simulation;
use sim_core::flight::PhysicsParams;
use sim_core::protocol::{ClientMessage, Role, decode_server};

use crate::panels::{STEP_BUDGET_MS, SimCtx};
use crate::playback::{Player, TICK_S};
use crate::room::{RoomLink, Session, clean_title, role_name};

/// Reconnection attempts without ever being welcomed before giving up.
const MAX_FIRST_ATTEMPTS: u32 = 3;
/// Longest wait between reconnection attempts (ms).
const MAX_BACKOFF_MS: u64 = 10_000;

/// The state of the connection to the room, as shown.
#[derive(Clone, Debug, PartialEq)]
pub enum Conn {
    /// Not in a room.
    Idle,
    /// Asking the relay for a new room.
    Creating,
    /// Opening the websocket (first time).
    Connecting,
    /// Welcomed, following the room.
    Connected,
    /// The connection dropped; trying again.
    Reconnecting {
        /// Which attempt is next.
        attempt: u32,
    },
    /// Gave up, with the reason.
    Failed(String),
}

impl Conn {
    /// A short name (`data-state`).
    pub fn key(&self) -> &'static str {
        match self {
            Conn::Idle => "idle",
            Conn::Creating => "creating",
            Conn::Connecting => "connecting",
            Conn::Connected => "connected",
            Conn::Reconnecting { .. } => "reconnecting",
            Conn::Failed(_) => "failed",
        }
    }

    fn text(&self) -> String {
        match self {
            Conn::Idle => String::new(),
            Conn::Creating => "creating the room…".into(),
            Conn::Connecting => "connecting…".into(),
            Conn::Connected => "connected".into(),
            Conn::Reconnecting { attempt } => {
                format!("connection lost: reconnecting (attempt {attempt})…")
            }
            Conn::Failed(why) => format!("not connected: {why}"),
        }
    }
}

/// An open websocket with its handlers (dropping it detaches them and closes it).
struct Socket {
    ws: WebSocket,
    _on_open: Closure<dyn FnMut()>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
}

impl Drop for Socket {
    fn drop(&mut self) {
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        let _ = self.ws.close_with_code_and_reason(1000, "left the room");
    }
}

/// The room's handles (all `Copy`), kept in [`SimCtx`].
#[derive(Clone, Copy)]
pub struct RoomUi {
    /// In a room (joined, joining, or failed and not yet left).
    pub active: RwSignal<bool>,
    /// The connection.
    pub conn: RwSignal<Conn>,
    /// The room's link (with the token when this page has it).
    pub link: RwSignal<Option<RoomLink>>,
    /// A room link found in the page's address, not joined yet.
    pub invite: RwSignal<Option<RoomLink>>,
    /// Bumped when the session's shown parts change.
    pub rev: RwSignal<u64>,
    session: StoredValue<Option<Session>, LocalStorage>,
    socket: StoredValue<Option<Socket>, LocalStorage>,
    /// Name and role to join (again) with.
    me: StoredValue<(String, Role), LocalStorage>,
    attempts: StoredValue<u32, LocalStorage>,
    /// Bumped on every join and leave: handlers and timers of an older connection see a
    /// different value and do nothing.
    epoch: StoredValue<u64, LocalStorage>,
}

impl RoomUi {
    /// Not in a room; the page's address may hold an invitation.
    pub fn new() -> RoomUi {
        let invite = window().location().search().ok().and_then(|search| {
            let hash = window().location().hash().unwrap_or_default();
            RoomLink::from_location(&search, &hash)
        });
        RoomUi {
            active: RwSignal::new(false),
            conn: RwSignal::new(Conn::Idle),
            link: RwSignal::new(None),
            invite: RwSignal::new(invite),
            rev: RwSignal::new(0),
            session: StoredValue::new_local(None),
            socket: StoredValue::new_local(None),
            me: StoredValue::new_local((String::new(), Role::Observer)),
            attempts: StoredValue::new_local(0),
            epoch: StoredValue::new_local(0),
        }
    }

    /// The room's clock as `(paused, speed)`, `None` before the welcome (tracks `rev`, which
    /// every `clock` message bumps through the feed).
    pub fn clock(&self) -> Option<(bool, u32)> {
        self.rev.track();
        self.read(Session::room_clock).flatten()
    }

    /// Whether this member may command (tracks `rev`).
    pub fn can_command(&self) -> bool {
        self.rev.track();
        self.read(Session::can_command).unwrap_or(false)
    }

    /// Whether this member may pause the room or change its speed (tracks `rev`).
    pub fn can_set_clock(&self) -> bool {
        self.rev.track();
        self.read(Session::can_set_clock).unwrap_or(false)
    }

    fn read<U>(&self, f: impl FnOnce(&Session) -> U) -> Option<U> {
        self.session.with_value(|s| s.as_ref().map(f))
    }

    fn publish(&self) {
        if let Some(rev) = self.read(|s| s.rev)
            && rev != self.rev.get_untracked()
        {
            self.rev.set(rev);
        }
    }

    fn send(&self, messages: Vec<ClientMessage>) {
        if messages.is_empty() {
            return;
        }
        self.socket.with_value(|s| {
            if let Some(s) = s
                && s.ws.ready_state() == WebSocket::OPEN
            {
                for m in messages {
                    let _ = s.ws.send_with_str(&m.to_json());
                }
            }
        });
    }
}

impl Default for RoomUi {
    fn default() -> Self {
        RoomUi::new()
    }
}

fn now_ms() -> f64 {
    window().performance().map_or(0.0, |p| p.now())
}

fn set_address(href: &str) {
    if let Ok(h) = window().history() {
        let _ = h.replace_state_with_url(&JsValue::NULL, "", Some(href));
    }
}

fn js_text(e: JsValue) -> String {
    e.as_string()
        .or_else(|| {
            e.dyn_ref::<js_sys::Error>()
                .map(|e| String::from(e.message()))
        })
        .unwrap_or_else(|| format!("{e:?}"))
}

/// `POST /api/rooms`: the new room's id and token.
async fn post_room() -> Result<(String, String), String> {
    let init = RequestInit::new();
    init.set_method("POST");
    let response = JsFuture::from(window().fetch_with_str_and_init("/api/rooms", &init))
        .await
        .map_err(|e| format!("cannot reach the relay: {}", js_text(e)))?;
    let response: Response = response
        .dyn_into()
        .map_err(|_| "the relay's answer is not an HTTP response".to_string())?;
    let text = match response.text() {
        Ok(p) => JsFuture::from(p)
            .await
            .ok()
            .and_then(|t| t.as_string())
            .unwrap_or_default(),
        Err(_) => String::new(),
    };
    let body: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    if !response.ok() {
        let why = body
            .get("error")
            .and_then(|e| e.as_str())
            .map_or_else(|| text.chars().take(200).collect(), str::to_string);
        return Err(format!(
            "the relay refused to create a room ({}): {why}",
            response.status()
        ));
    }
    let field = |k: &str| body.get(k).and_then(|v| v.as_str()).map(str::to_string);
    match (field("room"), field("token")) {
        (Some(room), Some(token)) => Ok((room, token)),
        _ => Err("the relay's answer has no room id and token".into()),
    }
}

/// Creates a room and joins it.
pub fn create_room(ctx: SimCtx, title: String, name: String, role: Role) {
    ctx.room.conn.set(Conn::Creating);
    ctx.room.active.set(true);
    leptos::task::spawn_local(async move {
        match post_room().await {
            Ok((room, token)) => {
                let title = Some(clean_title(&title)).filter(|t| !t.is_empty());
                join(
                    ctx,
                    RoomLink {
                        room,
                        token: Some(token),
                        title,
                    },
                    name,
                    role,
                );
            }
            Err(why) => ctx.room.conn.set(Conn::Failed(why)),
        }
    });
}

/// Joins the room of `link` as `name` in `role`: the map's own timeline is replaced by the
/// room's.
pub fn join(ctx: SimCtx, link: RoomLink, name: String, role: Role) {
    let ui = ctx.room;
    ui.socket.set_value(None);
    ui.epoch.update_value(|e| *e += 1);
    ui.session.set_value(Some(Session::new(&link.room)));
    ui.me.set_value((name, role));
    ui.attempts.set_value(0);
    set_address(&link.to_href());
    ui.link.set(Some(link));
    ui.invite.set(None);
    ui.active.set(true);
    // Until the welcome, a relay-driven player at the start: commands given meanwhile are
    // refused with a reason instead of running on a timeline the room does not share.
    ctx.player.set_value(Player::relayed(Simulation::new(
        PhysicsParams::default(),
        1,
    )));
    // The room's timeline starts from the relay's snapshot, not from a scenario file.
    ctx.scenario.set_value(None);
    ctx.selected.set(None);
    ctx.hover.set(None);
    ctx.radar.selected.set(None);
    ctx.playing.set(true);
    ctx.log_rev.update(|r| *r += 1);
    ctx.changed();
    connect(ctx, ui.epoch.get_value());
}

/// Leaves the room: the map keeps the room's timeline so far, as a local one.
pub fn leave(ctx: SimCtx) {
    let ui = ctx.room;
    ui.epoch.update_value(|e| *e += 1);
    ui.socket.set_value(None);
    ui.session.set_value(None);
    ui.active.set(false);
    ui.link.set(None);
    ui.conn.set(Conn::Idle);
    ctx.write(Player::leave_relay);
    ctx.playing.set(false);
    set_address("/");
    ctx.changed();
}

fn connect(ctx: SimCtx, epoch: u64) {
    let ui = ctx.room;
    if ui.epoch.get_value() != epoch {
        return;
    }
    let Some(link) = ui.link.get_untracked() else {
        return;
    };
    let location = window().location();
    let scheme = if location.protocol().ok().as_deref() == Some("https:") {
        "wss"
    } else {
        "ws"
    };
    let host = location.host().unwrap_or_default();
    let url = format!("{scheme}://{host}/ws/rooms/{}", link.room);
    let ws = match WebSocket::new(&url) {
        Ok(ws) => ws,
        Err(e) => {
            ui.conn.set(Conn::Failed(format!(
                "cannot open the room's websocket: {}",
                js_text(e)
            )));
            return;
        }
    };
    let attempts = ui.attempts.get_value();
    ui.conn.set(if attempts == 0 {
        Conn::Connecting
    } else {
        Conn::Reconnecting { attempt: attempts }
    });

    let on_open = Closure::<dyn FnMut()>::new(move || {
        if ui.epoch.get_value() != epoch {
            return;
        }
        let (name, role) = ui.me.get_value();
        let token = ui.link.get_untracked().and_then(|l| l.token);
        ui.send(vec![ClientMessage::Hello { name, role, token }]);
    });
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
        if ui.epoch.get_value() != epoch {
            return;
        }
        let Some(text) = e.data().as_string() else {
            return;
        };
        on_text(ctx, &text);
    });
    let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |e: CloseEvent| {
        if ui.epoch.get_value() != epoch {
            return;
        }
        on_closed(ctx, epoch, e.code(), e.reason());
    });
    ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
    ui.socket.set_value(Some(Socket {
        ws,
        _on_open: on_open,
        _on_message: on_message,
        _on_close: on_close,
    }));
}

fn on_text(ctx: SimCtx, text: &str) {
    let ui = ctx.room;
    let message = match decode_server(text) {
        Ok(m) => m,
        Err(e) => {
            let tick = ctx.read(Player::tick);
            ui.session.update_value(|s| {
                if let Some(s) = s {
                    s.error(tick, format!("unreadable message from the relay: {e}"));
                }
            });
            ui.publish();
            return;
        }
    };
    let restart = matches!(
        message,
        sim_core::protocol::ServerMessage::Welcome { .. }
            | sim_core::protocol::ServerMessage::Resync { .. }
    );
    let now = now_ms();
    let mut out = Vec::new();
    ui.session.update_value(|s| {
        if let Some(s) = s {
            ctx.player
                .update_value(|p| out = s.on_message(p, message, now));
        }
    });
    if restart {
        ui.attempts.set_value(0);
        ui.conn.set(Conn::Connected);
        ctx.playing.set(true);
        ctx.log_rev.update(|r| *r += 1);
        ctx.changed();
    }
    ui.send(out);
    ui.publish();
}

fn on_closed(ctx: SimCtx, epoch: u64, code: u16, reason: String) {
    let ui = ctx.room;
    let (welcomed, refusal) = ui
        .read(|s| (s.welcomes > 0, s.last_error.clone()))
        .unwrap_or((false, None));
    let attempts = ui.attempts.get_value() + 1;
    let tick = ctx.read(Player::tick);
    if !welcomed && (refusal.is_some() || attempts > MAX_FIRST_ATTEMPTS) {
        let why = refusal.unwrap_or_else(|| {
            "cannot reach the room: it may not exist, or it closed after everyone left".into()
        });
        ui.conn.set(Conn::Failed(why));
        return;
    }
    ui.attempts.set_value(attempts);
    let delay_ms = (1000_u64 << (attempts - 1).min(4)).min(MAX_BACKOFF_MS);
    let reason = if reason.is_empty() {
        String::new()
    } else {
        format!(": {reason}")
    };
    ui.session.update_value(|s| {
        if let Some(s) = s {
            s.error(
                tick,
                format!(
                    "connection lost (code {code}{reason}); reconnecting in {} s",
                    delay_ms / 1000
                ),
            );
        }
    });
    ui.publish();
    ui.conn.set(Conn::Reconnecting { attempt: attempts });
    set_timeout(move || connect(ctx, epoch), Duration::from_millis(delay_ms));
}

/// Asks the relay to pause, resume or change the room's speed (the playback bar's play and
/// speed controls in a room). Nothing changes here until the relay's `clock` message; a member
/// who may not is told why in the feed.
pub fn set_clock(ctx: SimCtx, paused: bool, speed: u32) {
    let ui = ctx.room;
    let tick = ctx.read(Player::tick);
    let mut out = None;
    ui.session.update_value(|s| {
        if let Some(s) = s {
            out = s.set_room_clock(paused, speed, tick);
        }
    });
    ui.send(out.into_iter().collect());
    ui.publish();
}

/// One animation frame in a room: steps the player along the relay's clock, sends what the UI
/// gave, hashes and pings. Called by the frame loop instead of the local clock.
pub fn frame(ctx: SimCtx) {
    let ui = ctx.room;
    let start = now_ms();
    let mut out = Vec::new();
    ui.session.update_value(|s| {
        if let Some(s) = s {
            ctx.player.update_value(|p| {
                if p.is_relayed() {
                    out = s.frame(p, start, || now_ms() - start < STEP_BUDGET_MS).0;
                }
            });
        }
    });
    ui.send(out);
    ui.publish();
}

fn role_of(value: &str) -> Role {
    match value {
        "attacker" => Role::Attacker,
        "defender" => Role::Defender,
        _ => Role::Observer,
    }
}

/// The room panel: create or join, then presence, links, feed and leave.
#[component]
pub fn RoomPanel(
    /// Shared simulation handles.
    ctx: SimCtx,
) -> impl IntoView {
    let ui = ctx.room;
    // Folded until needed (it floats over the middle of the map): open with an invitation,
    // and whenever a room is joined.
    let open = RwSignal::new(ui.invite.get_untracked().is_some());
    Effect::new(move |_| {
        if ui.active.get() {
            open.set(true);
        }
    });
    let title = RwSignal::new(String::new());
    let name = RwSignal::new("Player".to_string());
    let role = RwSignal::new("attacker".to_string());
    // An invitation without a token can only watch.
    Effect::new(move |_| {
        if ui.invite.with(|i| i.as_ref().is_some_and(|l| !l.can_act())) {
            role.set("observer".into());
        }
    });

    let session = move |f: fn(&Session) -> String| {
        ui.rev.track();
        ui.read(f).unwrap_or_default()
    };
    let origin = window().location().origin().unwrap_or_default();
    let form = move |joining: bool| {
        let read_only = ui.invite.get_untracked().is_some_and(|l| !l.can_act());
        view! {
            <label class="row">
                "Your name "
                <input
                    id="room-name"
                    type="text"
                    maxlength="32"
                    prop:value=move || name.get()
                    on:input=move |ev| name.set(event_target_value(&ev))
                />
            </label>
            <label class="row">
                "Role "
                <select
                    id="room-role"
                    prop:value=move || role.get()
                    on:change=move |ev| role.set(event_target_value(&ev))
                >
                    <option value="attacker" disabled=read_only>"attacker"</option>
                    <option value="defender" disabled=read_only>"defender"</option>
                    <option value="observer">"observer"</option>
                </select>
            </label>
            {(joining && read_only)
                .then(|| {
                    view! {
                        <p class="hint">"This is a watch link: you can follow the room, not act in it."</p>
                    }
                })}
        }
    };
    let create = move || {
        view! {
            <p class="hint">"Share one engagement with others through the relay."</p>
            <label class="row">
                "Room name "
                <input
                    id="room-title"
                    type="text"
                    maxlength="40"
                    placeholder="optional"
                    prop:value=move || title.get()
                    on:input=move |ev| title.set(event_target_value(&ev))
                />
            </label>
            {form(false)}
            <button
                id="room-create"
                type="button"
                on:click=move |_| {
                    create_room(ctx, title.get_untracked(), name.get_untracked(), role_of(&role.get_untracked()))
                }
            >
                "Create room"
            </button>
        }
    };
    let invitation = move |link: RoomLink| {
        let shown = link.title.clone().unwrap_or_else(|| short(&link.room));
        view! {
            <p class="room-title">"Invited to room " <strong>{shown}</strong></p>
            {form(true)}
            <div class="row">
                <button
                    id="room-join"
                    type="button"
                    on:click=move |_| {
                        if let Some(link) = ui.invite.get_untracked() {
                            join(ctx, link, name.get_untracked(), role_of(&role.get_untracked()));
                        }
                    }
                >
                    "Join room"
                </button>
                <button
                    id="room-dismiss"
                    type="button"
                    on:click=move |_| {
                        ui.invite.set(None);
                        set_address("/");
                    }
                >
                    "Not now"
                </button>
            </div>
        }
    };
    let in_room = move || {
        let link = ui.link.get();
        let shown = link
            .as_ref()
            .map(|l| l.title.clone().unwrap_or_else(|| short(&l.room)))
            .unwrap_or_default();
        let player_link = link
            .as_ref()
            .filter(|l| l.token.is_some())
            .map(|l| format!("{origin}{}", l.to_href()));
        let watch_link = link
            .as_ref()
            .map(|l| format!("{origin}{}", l.watch().to_href()));
        view! {
            <p class="room-title">
                <strong>{shown}</strong>
                " "
                <span id="room-conn" class="room-conn" data-state=move || ui.conn.get().key()>
                    {move || ui.conn.get().text()}
                </span>
            </p>
            {player_link
                .map(|href| {
                    view! {
                        <label class="row link-row">
                            "Player link "
                            <input id="room-link" type="text" readonly prop:value=href on:focus=select_all />
                        </label>
                    }
                })}
            {watch_link
                .map(|href| {
                    view! {
                        <label class="row link-row">
                            "Watch link "
                            <input id="room-watch-link" type="text" readonly prop:value=href on:focus=select_all />
                        </label>
                    }
                })}
            <p id="room-error" class="room-error" class:hidden=move || session(|s| s.last_error.clone().unwrap_or_default()).is_empty()>
                {move || session(|s| s.last_error.clone().unwrap_or_default())}
            </p>
            <h3>"In the room"</h3>
            <ul id="room-members" class="room-members">
                {move || {
                    ui.rev.track();
                    let you = ui.read(|s| s.you.as_ref().map(|m| m.id)).flatten();
                    ui.read(|s| s.members.clone())
                        .unwrap_or_default()
                        .into_iter()
                        .map(|m| {
                            let me = Some(m.id) == you;
                            view! {
                                <li class="member" data-role=role_name(m.role) data-you=me.to_string()>
                                    <span class="member-name">{m.name.clone()}</span>
                                    " · "
                                    {role_name(m.role)}
                                    {(!m.can_command && m.role != Role::Observer).then_some(" (read-only)")}
                                    {me.then_some(" (you)")}
                                </li>
                            }
                        })
                        .collect_view()
                }}
            </ul>
            <h3>"Room feed"</h3>
            <ol id="room-feed" class="room-feed">
                {move || {
                    ui.rev.track();
                    ui.read(|s| s.feed.iter().rev().take(50).cloned().collect::<Vec<_>>())
                        .unwrap_or_default()
                        .into_iter()
                        .map(|l| {
                            let who = l.who.clone().map(|w| format!("{w} ")).unwrap_or_default();
                            view! {
                                <li class=format!("feed-line kind-{}", l.kind.as_str()) data-kind=l.kind.as_str() data-tick=l.tick.to_string()>
                                    <span class="feed-time">{format!("T+{:.1} s ", l.tick as f64 * TICK_S)}</span>
                                    <span class="feed-who">{who}</span>
                                    {l.text.clone()}
                                </li>
                            }
                        })
                        .collect_view()
                }}
            </ol>
            <button id="room-leave" type="button" on:click=move |_| leave(ctx)>
                "Leave room"
            </button>
        }
    };

    view! {
        <section
            id="room-panel"
            class="panel room-panel"
            aria-label="Room"
            data-state=move || ui.conn.get().key()
            data-room=move || ui.link.get().map(|l| l.room).unwrap_or_default()
            data-hashes=move || session(Session::hashes_text)
            data-resyncs=move || session(|s| s.resyncs.to_string())
            data-welcomes=move || session(|s| s.welcomes.to_string())
            data-can-command=move || session(|s| s.can_command().to_string())
            data-members=move || session(|s| s.members.len().to_string())
        >
            <header class="panel-head">
                <h2>"Room"</h2>
                <button
                    class="fold"
                    type="button"
                    aria-label="Show or hide the room panel"
                    aria-expanded=move || open.get().to_string()
                    on:click=move |_| open.update(|o| *o = !*o)
                >
                    {move || if open.get() { "−" } else { "+" }}
                </button>
            </header>
            <div class="panel-body" class:hidden=move || !open.get()>
                {move || {
                    if ui.active.get() {
                        in_room().into_any()
                    } else if let Some(link) = ui.invite.get() {
                        invitation(link).into_any()
                    } else {
                        create().into_any()
                    }
                }}
            </div>
        </section>
    }
}

fn select_all(ev: leptos::ev::FocusEvent) {
    if let Some(input) = ev
        .target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
    {
        input.select();
    }
}

/// The first 8 characters of a room id (ids are 32 hex digits).
fn short(room: &str) -> String {
    let s: String = room.chars().take(8).collect();
    if room.chars().count() > 8 {
        format!("{s}…")
    } else {
        s
    }
}
