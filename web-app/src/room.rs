//! The room client's pure parts: room links, the lockstep clock that follows the relay's tick,
//! and the [`Session`] that turns relay messages into changes of a relay-driven
//! [`Player`] and turns the player's outbox, its state hashes and pings into client messages.
//!
//! How a room runs (`docs/protocol.md`): the relay's referee steps the room's simulation at
//! 10 Hz of wall time and stamps every command with the tick at which everyone applies it.
//! Here the player starts from the welcome's snapshot, applies the stamped commands at their
//! ticks, and steps no further than the referee is estimated to be, minus
//! [`SAFETY_TICKS`], so that a command (stamped [`LEAD_TICKS`] ahead) always arrives before
//! its tick runs here. Every [`HASH_EVERY_TICKS`] ticks it sends its state hash; a resync from
//! the relay restarts it from the referee's state. The room's clock (pause, speed 1-16x) is the
//! relay's: members who may command ask for a change with [`Session::set_room_clock`], and the
//! [`TickClock`] follows the `clock` messages, the welcome and the pongs.
//!
//! Invariants: nothing here touches the DOM, a socket or a clock (times are passed in as
//! milliseconds), so the whole exchange is tested natively against a simulated referee; the
//! session never steps the player past the referee's tick estimate.

use std::collections::VecDeque;

use sim_core::Simulation;
use sim_core::engagement::wta::FireMode;
use sim_core::engine::{Command, TICK_S};
use sim_core::protocol::{
    ALLOWED_SPEEDS, ClientMessage, ClockState, Member, Role, ServerMessage, StampedCommand,
};

use crate::playback::{LoggedCommand, Player};
use crate::view::{GeoPoint, format_geo};

/// Ticks between the referee's tick and the tick a command is stamped for (the relay's
/// `LEAD_TICKS`: 300 ms at 10 Hz).
pub const LEAD_TICKS: u64 = 3;
/// Ticks this client stays behind its estimate of the referee's tick, per unit of room speed
/// (100 ms of wall time whatever the speed): covers the estimate's error (a pong's tick is up
/// to one period old when it is sent).
pub const SAFETY_TICKS: u64 = 1;
/// A state hash is sent every this many ticks (once a second).
pub const HASH_EVERY_TICKS: u64 = 10;
/// Interval of clock probes (ms).
pub const PING_EVERY_MS: f64 = 2_000.0;
/// Most ticks run in one frame while catching up (a minute of simulation at most per second
/// at 60 frames per second).
pub const MAX_TICKS_PER_FRAME: u64 = 60;
/// Further behind than this (ticks), the client asks for the room's state instead of
/// replaying the gap (a tab that slept in the background).
pub const MAX_LAG_TICKS: u64 = 600;
/// Lines kept in the room feed (the newest).
pub const MAX_FEED: usize = 200;
/// State hashes kept for display (the newest).
pub const HASHES_KEPT: usize = 64;
/// The relay's always-open room, where no token is needed.
pub const PUBLIC_ROOM: &str = "public";
/// Longest room id accepted from a link (the relay's ids are 32 hex digits).
const MAX_ROOM_CHARS: usize = 64;

/// A room link as the relay gives it (`/?room=ID#token=TOKEN`, the token in the fragment so
/// browsers never send it to a server); `title` is a name for the room, carried in the query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoomLink {
    /// The room id.
    pub room: String,
    /// The write token; `None` for a read-only (watch) link.
    pub token: Option<String>,
    /// The room's name, if the link gives one.
    pub title: Option<String>,
}

/// `key=value` pairs of a query string or fragment (`?`/`#` prefix optional), decoded.
fn pairs(text: &str) -> Vec<(String, String)> {
    text.trim_start_matches(['?', '#'])
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (percent_decode(k), percent_decode(v)),
            None => (percent_decode(p), String::new()),
        })
        .collect()
}

fn get(pairs: &[(String, String)], key: &str) -> Option<String> {
    pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
}

fn is_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= MAX_ROOM_CHARS && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

impl RoomLink {
    /// The room link in a page's location (`search` is `?...`, `hash` is `#...`); `None` when
    /// the page names no room or a malformed one. Other fragment keys (such as a shared
    /// scenario's `s=`) are left alone.
    pub fn from_location(search: &str, hash: &str) -> Option<RoomLink> {
        let q = pairs(search);
        let room = get(&q, "room").filter(|r| is_id(r))?;
        let token = get(&pairs(hash), "token").filter(|t| is_id(t));
        let title = get(&q, "title")
            .map(|t| clean_title(&t))
            .filter(|t| !t.is_empty());
        Some(RoomLink { room, token, title })
    }

    /// The link's path, query and fragment (prefix it with the page's origin).
    pub fn to_href(&self) -> String {
        let mut href = format!("/?room={}", percent_encode(&self.room));
        if let Some(t) = &self.title {
            href.push_str("&title=");
            href.push_str(&percent_encode(t));
        }
        if let Some(t) = &self.token {
            href.push_str("#token=");
            href.push_str(&percent_encode(t));
        }
        href
    }

    /// Whether joining by this link may give commands: it carries the token, or it is the
    /// relay's public room, open to everyone.
    pub fn can_act(&self) -> bool {
        self.token.is_some() || self.room == PUBLIC_ROOM
    }

    /// The read-only link to the same room.
    pub fn watch(&self) -> RoomLink {
        RoomLink {
            token: None,
            ..self.clone()
        }
    }
}

/// A room name as shown: at most 40 characters, no control characters, trimmed.
pub fn clean_title(t: &str) -> String {
    t.chars()
        .filter(|c| !c.is_control())
        .take(40)
        .collect::<String>()
        .trim()
        .to_string()
}

/// Percent-encodes everything but unreserved URL characters (RFC 3986, section 2.3).
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes `%XX` escapes and `+` (as a space); malformed escapes stay as they are.
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The relay's tick as a function of wall time: the last tick heard of, advanced `speed`
/// ticks per 100 ms (the relay's period), or not at all while the room is paused.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TickClock {
    anchor_tick: f64,
    anchor_ms: f64,
    paused: bool,
    speed: u32,
}

impl TickClock {
    /// The referee was at `tick` at `now_ms`, running at 1x.
    pub fn new(tick: u64, now_ms: f64) -> TickClock {
        TickClock {
            anchor_tick: tick as f64,
            anchor_ms: now_ms,
            paused: false,
            speed: 1,
        }
    }

    /// The same anchor with the room's clock `paused`/`speed` (a speed outside
    /// [`ALLOWED_SPEEDS`] counts as 1x).
    pub fn with_rate(self, paused: bool, speed: u32) -> TickClock {
        TickClock {
            paused,
            speed: if ALLOWED_SPEEDS.contains(&speed) {
                speed
            } else {
                1
            },
            ..self
        }
    }

    /// Whether the room is paused.
    pub fn paused(&self) -> bool {
        self.paused
    }

    /// Ticks per 100 ms while running.
    pub fn speed(&self) -> u32 {
        self.speed
    }

    /// The referee's tick estimated at `now_ms` (never before the anchor): `anchor + speed x
    /// elapsed / TICK_S`, the anchor itself while paused.
    pub fn estimate(&self, now_ms: f64) -> f64 {
        if self.paused {
            return self.anchor_tick;
        }
        let dt_s = ((now_ms - self.anchor_ms) / 1000.0).max(0.0);
        self.anchor_tick + f64::from(self.speed) * dt_s / TICK_S
    }

    /// The tick this client may reach at `now_ms`: [`SAFETY_TICKS`] x speed behind the
    /// estimate (the same wall-time margin at every speed).
    pub fn target(&self, now_ms: f64) -> u64 {
        let e = self.estimate(now_ms);
        if e.is_finite() && e >= 0.0 {
            // 0.6 s / 0.1 s is 5.999...: a millionth of a tick of slack rounds it up.
            ((e + 1e-6).floor() as u64).saturating_sub(SAFETY_TICKS * u64::from(self.speed))
        } else {
            0
        }
    }

    /// A pong said the referee was at `tick` with this clock; it left the relay about half a
    /// round trip ago.
    pub fn observe(
        &mut self,
        tick: u64,
        now_ms: f64,
        round_trip_ms: f64,
        paused: bool,
        speed: u32,
    ) {
        let half = if round_trip_ms.is_finite() {
            (round_trip_ms / 2.0).clamp(0.0, 5_000.0)
        } else {
            0.0
        };
        *self = TickClock::new(tick, now_ms - half).with_rate(paused, speed);
    }
}

/// A room clock change in a few words, for the room feed: "paused", "resumed at 4x", "set
/// the speed to 8x".
pub fn describe_clock(before: Option<&TickClock>, clock: &ClockState) -> String {
    if clock.paused {
        return "paused".into();
    }
    match before {
        Some(b) if b.paused() => format!("resumed at {}x", clock.speed),
        _ => format!("set the speed to {}x", clock.speed),
    }
}

/// What kind of line the room feed shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FeedKind {
    /// A member's command, as ordered by the relay.
    Command,
    /// Someone joined or left.
    Presence,
    /// The relay refused something, or the connection had trouble.
    Error,
    /// The state was restored from the relay (welcome after a reconnect, resync).
    Sync,
    /// A member paused, resumed or changed the speed of the room.
    Clock,
}

impl FeedKind {
    /// A short name for styling and tests (`data-kind`).
    pub fn as_str(self) -> &'static str {
        match self {
            FeedKind::Command => "command",
            FeedKind::Presence => "presence",
            FeedKind::Error => "error",
            FeedKind::Sync => "sync",
            FeedKind::Clock => "clock",
        }
    }
}

/// One line of the room feed.
#[derive(Clone, Debug, PartialEq)]
pub struct FeedLine {
    /// The simulation tick it concerns.
    pub tick: u64,
    /// What kind of line.
    pub kind: FeedKind,
    /// Who (a member's name), when it was a member's doing.
    pub who: Option<String>,
    /// The text.
    pub text: String,
}

/// A role as shown.
pub fn role_name(role: Role) -> &'static str {
    match role {
        Role::Attacker => "attacker",
        Role::Defender => "defender",
        Role::Observer => "observer",
    }
}

/// A command in a few words, for the room feed.
pub fn describe_command(command: &Command) -> String {
    let at = |p: &GeoPoint| format_geo(*p, 2);
    match command {
        Command::Launch(l) => {
            let label = l
                .label
                .as_ref()
                .map(|s| format!(" ({s})"))
                .unwrap_or_default();
            format!(
                "launched a {}{label} from {} at {}",
                l.missile.name(),
                at(&l.from),
                at(&l.to)
            )
        }
        Command::PlaceRadar(r) => format!("placed radar {} at {}", r.call_sign, at(&r.position)),
        Command::MoveRadar {
            radar, position, ..
        } => format!("moved radar #{} to {}", radar.0, at(position)),
        Command::RemoveRadar { radar } => format!("removed radar #{}", radar.0),
        Command::PlaceBattery(b) => {
            format!("placed battery {} at {}", b.call_sign, at(&b.position))
        }
        Command::RemoveBattery { battery } => format!("removed battery #{}", battery.0),
        Command::PlaceAsset(a) => format!("placed asset {} at {}", a.name, at(&a.position)),
        Command::RemoveAsset { asset } => format!("removed asset #{}", asset.0),
        Command::SetDoctrine(d) => format!(
            "set the doctrine to {} {}",
            d.salvo_size,
            match d.mode {
                FireMode::Salvo => "round salvo",
                FireMode::ShootLookShoot => "round shoot-look-shoot",
            }
        ),
    }
}

/// One member's view of a room: who is in it, what happened, the clock; see the module
/// documentation.
#[derive(Clone, Debug)]
pub struct Session {
    /// The room id.
    pub room: String,
    /// This member, once welcomed.
    pub you: Option<Member>,
    /// Whether this member may pause the room or change its speed (the welcome's
    /// `clock_rights`; as `can_command` from relays that do not say).
    pub clock_rights: bool,
    /// Who is in the room (join order).
    pub members: Vec<Member>,
    /// The room feed, oldest first.
    pub feed: VecDeque<FeedLine>,
    /// This client's state hashes (tick, hash), oldest first.
    pub hashes: VecDeque<(u64, u64)>,
    /// Resyncs received (hash mismatches the relay answered).
    pub resyncs: u32,
    /// Welcomes received (the first one, and one per reconnect or sync).
    pub welcomes: u32,
    /// The relay's tick clock (with the room's pause and speed), once welcomed.
    pub clock: Option<TickClock>,
    /// Commands the UI gave for a later tick (a salvo's later rounds), sent when due.
    delayed: Vec<LoggedCommand>,
    /// When the unanswered ping was sent (ms) and its nonce.
    ping: Option<(f64, u64)>,
    /// When the last ping was sent (ms).
    last_ping_ms: Option<f64>,
    next_nonce: u64,
    /// A sync was asked for and not answered yet.
    syncing: bool,
    /// Bumped whenever something shown changed (members, feed, errors).
    pub rev: u64,
    /// The last refusal or trouble, for a banner.
    pub last_error: Option<String>,
}

impl Session {
    /// A session for `room`, not yet welcomed.
    pub fn new(room: &str) -> Session {
        Session {
            room: room.to_string(),
            you: None,
            clock_rights: false,
            members: Vec::new(),
            feed: VecDeque::new(),
            hashes: VecDeque::new(),
            resyncs: 0,
            welcomes: 0,
            clock: None,
            delayed: Vec::new(),
            ping: None,
            last_ping_ms: None,
            next_nonce: 1,
            syncing: false,
            rev: 0,
            last_error: None,
        }
    }

    /// Whether this member may send commands (welcomed with the token, not an observer).
    pub fn can_command(&self) -> bool {
        self.you.as_ref().is_some_and(|m| m.can_command)
    }

    /// Whether this member may pause the room or change its speed: a private room's players,
    /// the public room's operators (as the relay said in its welcome).
    pub fn can_set_clock(&self) -> bool {
        self.you.is_some() && self.clock_rights
    }

    /// The room's clock as `(paused, speed)`, once welcomed.
    pub fn room_clock(&self) -> Option<(bool, u32)> {
        self.clock.map(|c| (c.paused(), c.speed()))
    }

    /// The message asking the relay to pause, resume or change the room's speed; `None`
    /// (with the reason in the feed) when this member may not, or the speed is not one of
    /// [`ALLOWED_SPEEDS`]. Nothing changes here until the relay's `clock` message.
    pub fn set_room_clock(&mut self, paused: bool, speed: u32, tick: u64) -> Option<ClientMessage> {
        if !self.can_set_clock() {
            let why = if self.can_command() {
                "only the room's operators can pause it or change its speed"
            } else {
                "only players with the room token can pause or change the speed"
            };
            self.error(tick, why.into());
            return None;
        }
        if !ALLOWED_SPEEDS.contains(&speed) {
            self.error(
                tick,
                format!("a room runs at one of {ALLOWED_SPEEDS:?}x, not {speed}x"),
            );
            return None;
        }
        Some(ClientMessage::Clock { paused, speed })
    }

    fn push_feed(&mut self, line: FeedLine) {
        self.feed.push_back(line);
        while self.feed.len() > MAX_FEED {
            self.feed.pop_front();
        }
        self.rev += 1;
    }

    /// Records a refusal or a connection problem in the feed and the banner.
    pub fn error(&mut self, tick: u64, text: String) {
        self.last_error = Some(text.clone());
        self.push_feed(FeedLine {
            tick,
            kind: FeedKind::Error,
            who: None,
            text,
        });
    }

    /// Applies one relay message to `player`. A welcome replaces a player that no relay
    /// drives yet (the local one, before joining) with a fresh relay-driven one, and rebases a
    /// relay-driven one. Returns the messages to send.
    pub fn on_message(
        &mut self,
        player: &mut Player,
        message: ServerMessage,
        now_ms: f64,
    ) -> Vec<ClientMessage> {
        let mut out = Vec::new();
        match message {
            ServerMessage::Welcome {
                you,
                tick,
                snapshot,
                commands,
                clock,
                clock_rights,
                ..
            } => {
                self.start_from(player, Simulation::restore(*snapshot), commands, now_ms);
                self.clock = self.clock.map(|c| c.with_rate(clock.paused, clock.speed));
                if self.welcomes > 0 {
                    self.push_feed(FeedLine {
                        tick,
                        kind: FeedKind::Sync,
                        who: None,
                        text: "caught up with the room's state".into(),
                    });
                }
                self.welcomes += 1;
                self.clock_rights = clock_rights.unwrap_or(you.can_command);
                self.you = Some(you);
                self.last_error = None;
                self.rev += 1;
            }
            ServerMessage::Resync {
                mismatch_tick,
                tick,
                snapshot,
                commands,
                ..
            } => {
                self.start_from(player, Simulation::restore(*snapshot), commands, now_ms);
                self.resyncs += 1;
                self.push_feed(FeedLine {
                    tick,
                    kind: FeedKind::Sync,
                    who: None,
                    text: format!(
                        "state differed from the relay's at T+{:.1} s: restored it",
                        mismatch_tick as f64 * TICK_S
                    ),
                });
            }
            ServerMessage::Presence { members } => {
                let tick = player.tick();
                let mine = self.you.as_ref().map(|m| m.id);
                for m in &members {
                    if Some(m.id) != mine && !self.members.iter().any(|o| o.id == m.id) {
                        self.push_feed(FeedLine {
                            tick,
                            kind: FeedKind::Presence,
                            who: Some(m.name.clone()),
                            text: format!("joined as {}", role_name(m.role)),
                        });
                    }
                }
                let gone: Vec<Member> = self
                    .members
                    .iter()
                    .filter(|o| !members.iter().any(|m| m.id == o.id) && Some(o.id) != mine)
                    .cloned()
                    .collect();
                for m in gone {
                    self.push_feed(FeedLine {
                        tick,
                        kind: FeedKind::Presence,
                        who: Some(m.name),
                        text: "left".into(),
                    });
                }
                self.members = members;
                self.rev += 1;
            }
            ServerMessage::Command(stamped) => {
                if let Some(clock) = &mut self.clock {
                    // The referee was at least at tick - LEAD when it sent this.
                    let at_least = stamped.tick.saturating_sub(LEAD_TICKS);
                    if clock.estimate(now_ms) < at_least as f64 {
                        *clock = TickClock::new(at_least, now_ms)
                            .with_rate(clock.paused(), clock.speed());
                    }
                }
                let applied = player.is_relayed()
                    && player.apply_stamped(stamped.tick, stamped.command.clone());
                self.feed_command(&stamped);
                if !applied && !self.syncing {
                    // Its tick already ran here: only the room's state can repair that.
                    self.syncing = true;
                    out.push(ClientMessage::Sync {});
                }
            }
            ServerMessage::Error { message } => {
                let tick = player.tick();
                self.error(tick, format!("relay: {message}"));
            }
            ServerMessage::Clock(clock) => self.on_clock(clock, now_ms),
            ServerMessage::Pong {
                nonce,
                tick,
                paused,
                speed,
            } => {
                if let (Some((sent, n)), Some(clock)) = (self.ping, &mut self.clock)
                    && nonce == Some(n)
                {
                    clock.observe(tick, now_ms, now_ms - sent, paused, speed);
                    self.ping = None;
                }
            }
        }
        out
    }

    fn feed_command(&mut self, stamped: &StampedCommand) {
        self.push_feed(FeedLine {
            tick: stamped.tick,
            kind: FeedKind::Command,
            who: Some(format!(
                "{} ({})",
                stamped.by.name,
                role_name(stamped.by.role)
            )),
            text: describe_command(&stamped.command),
        });
    }

    fn on_clock(&mut self, clock: ClockState, now_ms: f64) {
        let text = describe_clock(self.clock.as_ref(), &clock);
        // The referee's next tick was `clock.tick` when the relay sent this.
        self.clock = Some(TickClock::new(clock.tick, now_ms).with_rate(clock.paused, clock.speed));
        self.push_feed(FeedLine {
            tick: clock.tick,
            kind: FeedKind::Clock,
            who: clock
                .by
                .map(|by| format!("{} ({})", by.name, role_name(by.role))),
            text,
        });
    }

    fn start_from(
        &mut self,
        player: &mut Player,
        sim: Simulation,
        commands: Vec<StampedCommand>,
        now_ms: f64,
    ) {
        let tick = sim.tick();
        if player.is_relayed() {
            player.rebase(sim);
        } else {
            *player = Player::relayed(sim);
        }
        for c in commands {
            player.apply_stamped(c.tick, c.command);
        }
        // A resync keeps the room's pause and speed (a welcome then sets its own).
        let (paused, speed) = self.room_clock().unwrap_or((false, 1));
        self.clock = Some(TickClock::new(tick, now_ms).with_rate(paused, speed));
        self.syncing = false;
        self.hashes.clear();
    }

    /// One animation frame: steps `player` towards the relay's clock, sends the commands the
    /// UI gave (or refuses them when this member may not command), the state hashes, and a
    /// ping now and then. `budget` says whether there is time left for another tick. Returns
    /// the messages to send and the ticks run.
    pub fn frame(
        &mut self,
        player: &mut Player,
        now_ms: f64,
        mut budget: impl FnMut() -> bool,
    ) -> (Vec<ClientMessage>, u64) {
        let mut out = Vec::new();
        let Some(clock) = self.clock else {
            return (out, 0);
        };
        let target = clock.target(now_ms);
        let mut ran = 0;
        if target > player.tick() + MAX_LAG_TICKS {
            if !self.syncing {
                self.syncing = true;
                out.push(ClientMessage::Sync {});
            }
        } else if !self.syncing {
            let limit = target.min(player.tick() + MAX_TICKS_PER_FRAME);
            player.set_step_limit(limit);
            while player.tick() < limit && budget() {
                player.step();
                ran += 1;
                let t = player.tick();
                if t.is_multiple_of(HASH_EVERY_TICKS) {
                    let hash = player.sim().state_hash();
                    self.hashes.push_back((t, hash));
                    while self.hashes.len() > HASHES_KEPT {
                        self.hashes.pop_front();
                    }
                    self.rev += 1;
                    out.push(ClientMessage::Hash { tick: t, hash });
                }
            }
        }

        let given = player.take_outbox();
        if !given.is_empty() && !self.can_command() {
            let why = match &self.you {
                None => "not connected to the room yet: the command was not sent",
                Some(m) if m.role == Role::Observer => {
                    "observers cannot give commands: join with the player link and another role"
                }
                Some(_) => {
                    "this link has no room token: commands need the player link (with #token=)"
                }
            };
            self.error(player.tick(), why.into());
        } else {
            self.delayed.extend(given);
        }
        let now_tick = player.tick();
        let (due, later): (Vec<_>, Vec<_>) = std::mem::take(&mut self.delayed)
            .into_iter()
            .partition(|c| c.tick <= now_tick);
        self.delayed = later;
        out.extend(
            due.into_iter()
                .map(|c| ClientMessage::Command { command: c.command }),
        );

        // One ping per interval, answered or not (a lost pong must not stop the probes, and
        // an answered one must not start the next at once).
        if self
            .last_ping_ms
            .is_none_or(|sent| now_ms - sent >= PING_EVERY_MS)
        {
            let n = self.next_nonce;
            self.next_nonce += 1;
            self.ping = Some((now_ms, n));
            self.last_ping_ms = Some(now_ms);
            out.push(ClientMessage::Ping { nonce: Some(n) });
        }
        (out, ran)
    }

    /// The last hashes as `tick:hash` words (published for tests and diagnostics).
    pub fn hashes_text(&self) -> String {
        self.hashes
            .iter()
            .map(|(t, h)| format!("{t}:{h:016x}"))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::MissileKind;
    use sim_core::engine::LaunchCommand;
    use sim_core::flight::PhysicsParams;

    fn member(id: u32, name: &str, role: Role, can_command: bool) -> Member {
        Member {
            id,
            name: name.into(),
            role,
            can_command,
        }
    }

    /// The page's own player before joining a room.
    fn local() -> Player {
        Player::new(Simulation::new(PhysicsParams::default(), 0))
    }

    fn launch() -> Command {
        Command::Launch(LaunchCommand {
            missile: MissileKind::ScudC,
            from: GeoPoint::new(36.5, -123.1),
            to: GeoPoint::new(34.05, -118.25),
            profile: Default::default(),
            label: None,
            guidance: None,
        })
    }

    fn welcome(referee: &Simulation, you: Member, commands: Vec<StampedCommand>) -> ServerMessage {
        ServerMessage::Welcome {
            room: "r".into(),
            you,
            tick: referee.tick(),
            snapshot: Box::new(referee.snapshot()),
            commands,
            clock: ClockState::default(),
            clock_rights: None,
        }
    }

    #[test]
    fn links_round_trip_and_keep_other_fragment_keys_apart() {
        let link = RoomLink {
            room: "0123abcd".into(),
            token: Some("ff00".into()),
            title: Some("Drill 2 & co".into()),
        };
        let href = link.to_href();
        assert_eq!(
            href,
            "/?room=0123abcd&title=Drill%202%20%26%20co#token=ff00"
        );
        let (search, hash) = href[1..].split_once('#').unwrap();
        assert_eq!(
            RoomLink::from_location(search, &format!("#{hash}")),
            Some(link.clone())
        );
        assert_eq!(
            link.watch().to_href(),
            "/?room=0123abcd&title=Drill%202%20%26%20co"
        );
        // The relay's own join link, and a shared-scenario fragment next to the token.
        assert_eq!(
            RoomLink::from_location("?room=ab12", "#s=xyz&token=cd34"),
            Some(RoomLink {
                room: "ab12".into(),
                token: Some("cd34".into()),
                title: None
            })
        );
        assert!(!link.watch().can_act());
        assert!(
            RoomLink::from_location("?room=public", "")
                .unwrap()
                .can_act()
        );
        assert_eq!(RoomLink::from_location("?s=1", ""), None);
        assert_eq!(RoomLink::from_location("?room=../etc", ""), None);
        assert_eq!(RoomLink::from_location("?room=", "#token=x"), None);
        let bad_token = RoomLink::from_location("?room=ab", "#token=%3Cscript%3E").unwrap();
        assert_eq!(bad_token.token, None);
        assert_eq!(percent_decode("a%2"), "a%2");
        assert_eq!(percent_decode("%zz+b"), "%zz b");
    }

    #[test]
    fn the_clock_runs_at_ten_hertz_and_stays_behind_the_estimate() {
        let mut c = TickClock::new(100, 1_000.0);
        assert_eq!(c.target(1_000.0), 99);
        assert_eq!(c.target(1_950.0), 108);
        assert_eq!(c.target(2_000.0), 109);
        // A pong after a 200 ms round trip: the tick was current 100 ms ago.
        c.observe(120, 3_000.0, 200.0, false, 1);
        assert_eq!(c.estimate(3_000.0), 121.0);
        assert_eq!(c.target(f64::NAN), 120 - SAFETY_TICKS);
    }

    #[test]
    fn the_clock_stops_while_paused_and_runs_speed_times_faster() {
        let paused = TickClock::new(100, 1_000.0).with_rate(true, 4);
        assert_eq!(paused.estimate(60_000.0), 100.0);
        assert_eq!(paused.target(60_000.0), 100 - 4 * SAFETY_TICKS);
        let fast = TickClock::new(100, 1_000.0).with_rate(false, 4);
        // 4 ticks per 100 ms: 40 ticks a second, 4 ticks (100 ms) of margin.
        assert_eq!(fast.estimate(2_000.0), 140.0);
        assert_eq!(fast.target(2_000.0), 136);
        let sixteen = TickClock::new(0, 0.0).with_rate(false, 16);
        assert_eq!(sixteen.estimate(250.0), 40.0);
        // A speed the relay would never send counts as 1x.
        assert_eq!(TickClock::new(0, 0.0).with_rate(false, 3).speed(), 1);
        // A pong carries the clock: paused at 130 after a 100 ms round trip.
        let mut c = fast;
        c.observe(130, 5_000.0, 100.0, true, 4);
        assert_eq!(c.estimate(9_000.0), 130.0);
        c.observe(130, 9_000.0, 0.0, false, 2);
        assert_eq!(c.estimate(9_500.0), 140.0);
    }

    #[test]
    fn the_public_rooms_clock_is_its_operators_as_the_welcome_says() {
        let referee = Simulation::new(PhysicsParams::default(), 1);
        let ada = member(1, "Ada", Role::Attacker, true);
        let with_rights = |rights| match welcome(&referee, ada.clone(), vec![]) {
            ServerMessage::Welcome {
                room,
                you,
                tick,
                snapshot,
                commands,
                clock,
                ..
            } => ServerMessage::Welcome {
                room,
                you,
                tick,
                snapshot,
                commands,
                clock,
                clock_rights: rights,
            },
            other => other,
        };
        // A visitor of the public room: may launch, may not pause.
        let mut s = Session::new("public");
        s.on_message(&mut local(), with_rights(Some(false)), 0.0);
        assert!(s.can_command() && !s.can_set_clock());
        assert_eq!(s.set_room_clock(true, 1, 0), None);
        assert!(s.last_error.as_deref().unwrap().contains("operators"));
        // An operator, and a relay that does not say (its players may).
        for rights in [Some(true), None] {
            let mut s = Session::new("public");
            s.on_message(&mut local(), with_rights(rights), 0.0);
            assert!(s.can_set_clock(), "{rights:?}");
            assert!(s.set_room_clock(true, 1, 0).is_some());
        }
    }

    #[test]
    fn clock_messages_set_the_pace_name_who_and_only_players_may_ask() {
        let referee = Simulation::new(PhysicsParams::default(), 1);
        let ada = member(1, "Ada", Role::Attacker, true);
        let mut s = Session::new("r");
        let mut p = local();
        s.on_message(&mut p, welcome(&referee, ada.clone(), vec![]), 0.0);
        assert_eq!(s.room_clock(), Some((false, 1)));
        assert_eq!(
            s.set_room_clock(true, 1, 0),
            Some(ClientMessage::Clock {
                paused: true,
                speed: 1
            })
        );
        assert_eq!(s.set_room_clock(false, 32, 0), None);
        assert!(s.last_error.as_deref().unwrap().contains("not 32x"));
        let set = |paused, speed, tick| {
            ServerMessage::Clock(ClockState {
                tick,
                paused,
                speed,
                by: Some(ada.clone()),
            })
        };
        s.on_message(&mut p, set(true, 1, 20), 2_000.0);
        assert_eq!(s.room_clock(), Some((true, 1)));
        let line = s.feed.back().unwrap();
        assert_eq!(
            (line.kind, line.who.as_deref(), line.text.as_str()),
            (FeedKind::Clock, Some("Ada (attacker)"), "paused")
        );
        // Paused: the player never passes the referee's tick, however long the wait.
        for f in 0..100 {
            s.frame(&mut p, 2_000.0 + f64::from(f) * 100.0, || true);
        }
        assert!(p.tick() <= 20, "{}", p.tick());
        s.on_message(&mut p, set(false, 8, 20), 20_000.0);
        assert_eq!(s.feed.back().unwrap().text, "resumed at 8x");
        s.frame(&mut p, 21_000.0, || true);
        s.frame(&mut p, 21_000.0, || true);
        // One second at 8x: 80 ticks, 8 behind for safety.
        assert_eq!(p.tick(), 20 + 80 - 8);
        s.on_message(&mut p, set(false, 2, 100), 21_000.0);
        assert_eq!(s.feed.back().unwrap().text, "set the speed to 2x");
        // A command that moves the clock forward, and a resync, keep the room's speed.
        s.on_message(
            &mut p,
            ServerMessage::Command(StampedCommand {
                tick: 200,
                by: ada.clone(),
                command: launch(),
            }),
            21_000.0,
        );
        assert_eq!(s.clock.unwrap().estimate(21_000.0), 197.0);
        assert_eq!(s.room_clock(), Some((false, 2)));
        s.on_message(
            &mut p,
            ServerMessage::Resync {
                mismatch_tick: 90,
                expected: 1,
                got: 2,
                tick: referee.tick(),
                snapshot: Box::new(referee.snapshot()),
                commands: vec![],
            },
            22_000.0,
        );
        assert_eq!(s.room_clock(), Some((false, 2)));

        // An observer is told why and nothing is sent.
        let mut w = Session::new("r");
        let mut q = local();
        w.on_message(
            &mut q,
            welcome(&referee, member(2, "Eve", Role::Observer, false), vec![]),
            0.0,
        );
        assert_eq!(w.set_room_clock(true, 1, 0), None);
        assert!(w.last_error.as_deref().unwrap().contains("room token"));
    }

    /// Two members and a late joiner against a referee stepped like the relay's: everyone
    /// ends on the referee's state hash, and commands are attributed to their sender.
    #[test]
    fn members_and_a_late_joiner_follow_the_referee_bit_for_bit() {
        let mut referee = Simulation::new(PhysicsParams::default(), 1);
        let ada = member(1, "Ada", Role::Attacker, true);
        let mut a = Session::new("r");
        let mut pa = local();
        a.on_message(&mut pa, welcome(&referee, ada.clone(), vec![]), 0.0);
        let mut b = Session::new("r");
        let mut pb = local();
        b.on_message(
            &mut pb,
            welcome(&referee, member(2, "Bo", Role::Defender, true), vec![]),
            0.0,
        );

        // Ada's UI launches: it goes to the outbox, out as a command, not applied locally.
        pa.schedule(0, launch());
        let (sent, _) = a.frame(&mut pa, 0.0, || true);
        let cmd = sent
            .iter()
            .find_map(|m| match m {
                ClientMessage::Command { command } => Some(command.clone()),
                _ => None,
            })
            .expect("the launch is sent to the relay");
        assert!(&pa.commands().is_empty());
        // The relay stamps it and everyone gets it.
        let stamped = StampedCommand {
            tick: referee.tick() + LEAD_TICKS,
            by: ada.clone(),
            command: cmd,
        };
        let mut pending = vec![stamped.clone()];
        for (s, p) in [(&mut a, &mut pa), (&mut b, &mut pb)] {
            let out = s.on_message(p, ServerMessage::Command(stamped.clone()), 0.0);
            assert!(out.is_empty());
        }
        assert_eq!(
            a.feed.back().unwrap().who.as_deref(),
            Some("Ada (attacker)")
        );
        assert!(
            b.feed
                .back()
                .unwrap()
                .text
                .starts_with("launched a SCUD-C from 36.50°N")
        );

        // Five seconds of wall time, in 50 ms frames; the referee steps every 100 ms.
        let mut c = Session::new("r");
        let mut pc = local();
        for frame in 1..=100 {
            let now = f64::from(frame) * 50.0;
            if frame % 2 == 0 {
                let t = referee.tick();
                let cmds: Vec<Command> = pending
                    .iter()
                    .filter(|c| c.tick == t)
                    .map(|c| c.command.clone())
                    .collect();
                pending.retain(|c| c.tick > t);
                referee.step(&cmds);
            }
            if frame == 60 {
                // Carol joins late, read-only.
                c.on_message(
                    &mut pc,
                    welcome(
                        &referee,
                        member(3, "Cy", Role::Observer, false),
                        pending.clone(),
                    ),
                    now,
                );
            }
            for (s, p) in [(&mut a, &mut pa), (&mut b, &mut pb), (&mut c, &mut pc)] {
                if p.is_relayed() {
                    let (out, _) = s.frame(p, now, || true);
                    assert!(!out.iter().any(|m| matches!(m, ClientMessage::Sync {})));
                    assert!(
                        p.tick() <= referee.tick(),
                        "a client ran ahead of the referee"
                    );
                }
            }
        }
        // Everyone is a tick or two behind the referee; run the rest and compare.
        let target = referee.tick();
        for p in [&mut pa, &mut pb, &mut pc] {
            p.set_step_limit(target);
            while p.tick() < target {
                p.step();
            }
            assert_eq!(p.sim().state_hash(), referee.state_hash());
            assert_eq!(p.sim().missiles().len(), 1);
        }
        assert_eq!(pa.lines()[0].kind, "launch");
        // Hashes went out at the same ticks with the same values on A and B.
        let common: Vec<_> = a.hashes.iter().filter(|h| c.hashes.contains(h)).collect();
        assert!(!common.is_empty(), "{:?} / {:?}", a.hashes, c.hashes);
        assert_eq!(a.hashes, b.hashes);
    }

    #[test]
    fn pings_go_out_once_per_interval_and_pongs_set_the_clock() {
        let referee = Simulation::new(PhysicsParams::default(), 1);
        let mut s = Session::new("r");
        let mut p = local();
        s.on_message(
            &mut p,
            welcome(&referee, member(1, "Ada", Role::Attacker, true), vec![]),
            0.0,
        );
        let pings = |out: &[ClientMessage]| {
            out.iter()
                .filter_map(|m| match m {
                    ClientMessage::Ping { nonce } => *nonce,
                    _ => None,
                })
                .collect::<Vec<_>>()
        };
        let mut sent = Vec::new();
        // 10 s of 60 Hz frames, every ping answered 20 ms later with the referee 50 ticks on.
        for frame in 0..600 {
            let now = f64::from(frame) * 1000.0 / 60.0;
            let (out, _) = s.frame(&mut p, now, || true);
            for n in pings(&out) {
                sent.push(n);
                s.on_message(
                    &mut p,
                    ServerMessage::Pong {
                        nonce: Some(n),
                        tick: 50 + (now / 100.0) as u64,
                        paused: false,
                        speed: 1,
                    },
                    now + 20.0,
                );
            }
        }
        assert_eq!(sent.len(), 5, "{sent:?}");
        // The last pong moved the clock 50 ticks ahead of wall time.
        let c = s.clock.unwrap();
        assert!((c.estimate(10_000.0) - 150.0).abs() < 1.5, "{c:?}");
    }

    #[test]
    fn a_salvo_goes_out_round_by_round_and_a_sleeping_tab_asks_for_the_state() {
        let referee = Simulation::new(PhysicsParams::default(), 1);
        let mut s = Session::new("r");
        let mut p = local();
        s.on_message(
            &mut p,
            welcome(&referee, member(1, "Ada", Role::Attacker, true), vec![]),
            0.0,
        );
        // Three rounds 5 ticks apart, given at tick 0.
        for k in 0..3 {
            p.schedule(5 * k, launch());
        }
        let commands = |out: &[ClientMessage]| {
            out.iter()
                .filter(|m| matches!(m, ClientMessage::Command { .. }))
                .count()
        };
        let mut sent = Vec::new();
        for frame in 0..=20 {
            let now = f64::from(frame) * 100.0;
            let (out, _) = s.frame(&mut p, now, || true);
            for _ in 0..commands(&out) {
                sent.push(p.tick());
            }
        }
        // Each round leaves when this page reaches its tick (the relay stamps it 3 ticks on).
        assert_eq!(sent, vec![0, 5, 10]);
        // A minute without frames (a hidden tab): no replay of the gap, a sync instead, once.
        let (out, ran) = s.frame(&mut p, 70_000.0, || true);
        assert_eq!((out.contains(&ClientMessage::Sync {}), ran), (true, 0));
        let (out, _) = s.frame(&mut p, 70_100.0, || true);
        assert!(!out.contains(&ClientMessage::Sync {}));
    }

    #[test]
    fn observers_are_refused_locally_with_a_reason() {
        let referee = Simulation::new(PhysicsParams::default(), 1);
        let mut s = Session::new("r");
        let mut p = local();
        s.on_message(
            &mut p,
            welcome(&referee, member(3, "Cy", Role::Observer, false), vec![]),
            0.0,
        );
        p.schedule(0, launch());
        let (out, _) = s.frame(&mut p, 0.0, || true);
        assert!(
            !out.iter()
                .any(|m| matches!(m, ClientMessage::Command { .. }))
        );
        assert!(
            s.last_error
                .as_deref()
                .unwrap()
                .starts_with("observers cannot give commands")
        );
        assert_eq!(s.feed.back().unwrap().kind, FeedKind::Error);
    }

    #[test]
    fn a_command_for_a_tick_already_run_asks_for_a_sync_and_the_welcome_rebases() {
        let mut referee = Simulation::new(PhysicsParams::default(), 1);
        let ada = member(1, "Ada", Role::Attacker, true);
        let mut s = Session::new("r");
        let mut p = local();
        s.on_message(&mut p, welcome(&referee, ada.clone(), vec![]), 0.0);
        // Run five ticks here.
        s.frame(&mut p, 650.0, || true);
        assert_eq!(p.tick(), 5);
        let late = StampedCommand {
            tick: 2,
            by: ada.clone(),
            command: launch(),
        };
        let out = s.on_message(&mut p, ServerMessage::Command(late.clone()), 600.0);
        assert_eq!(out, vec![ClientMessage::Sync {}]);
        // No stepping until the state comes back.
        let (_, ran) = s.frame(&mut p, 2_000.0, || true);
        assert_eq!(ran, 0);
        // The relay's state: the launch applied at tick 2, now at tick 4.
        for _ in 0..2 {
            referee.step(&[]);
        }
        referee.step(std::slice::from_ref(&late.command));
        referee.step(&[]);
        s.on_message(&mut p, welcome(&referee, ada, vec![]), 2_000.0);
        assert_eq!(p.tick(), 4);
        assert_eq!(p.sim().state_hash(), referee.state_hash());
        assert_eq!(s.feed.back().unwrap().kind, FeedKind::Sync);
    }

    #[test]
    fn a_resync_restores_the_referee_state_and_is_counted() {
        let mut referee = Simulation::new(PhysicsParams::default(), 1);
        referee.step(&[launch()]);
        let mut s = Session::new("r");
        let mut p = Player::relayed(Simulation::new(PhysicsParams::default(), 1));
        s.on_message(
            &mut p,
            ServerMessage::Resync {
                mismatch_tick: 1,
                expected: 1,
                got: 2,
                tick: referee.tick(),
                snapshot: Box::new(referee.snapshot()),
                commands: vec![],
            },
            0.0,
        );
        assert_eq!(s.resyncs, 1);
        assert_eq!(p.sim().state_hash(), referee.state_hash());
    }

    #[test]
    fn presence_changes_are_announced_with_names_and_roles() {
        let mut s = Session::new("r");
        let mut p = local();
        let bo = member(2, "Bo", Role::Defender, true);
        s.on_message(
            &mut p,
            ServerMessage::Presence {
                members: vec![bo.clone()],
            },
            0.0,
        );
        assert_eq!(s.feed.back().unwrap().text, "joined as defender");
        s.on_message(&mut p, ServerMessage::Presence { members: vec![] }, 0.0);
        let last = s.feed.back().unwrap();
        assert_eq!(
            (last.who.as_deref(), last.text.as_str()),
            (Some("Bo"), "left")
        );
        s.on_message(
            &mut p,
            ServerMessage::Error {
                message: "rate limit".into(),
            },
            0.0,
        );
        assert_eq!(s.last_error.as_deref(), Some("relay: rate limit"));
    }
}
