//! The room protocol: the JSON messages a client (the web app) and the relay exchange over a
//! room's websocket. The types live here, next to [`Command`] and [`Snapshot`], so the app
//! (wasm) and the relay (native) compile the very same definitions and cannot disagree.
//!
//! Wire format: one JSON object per websocket text message, `{"v": 1, "type": "...", ...}`,
//! where `v` is [`PROTOCOL_VERSION`] and `type` names the variant in kebab-case. Client
//! messages are at most [`MAX_CLIENT_MESSAGE_BYTES`] bytes. State hashes travel as 16
//! lowercase hexadecimal digits, because JSON numbers above 2^53 lose precision in JavaScript.
//! `docs/protocol.md` describes the exchange (hello, welcome, stamped commands, hash checks,
//! resync, room clock) for people writing clients.
//!
//! Versioning: `v` changes only when a message an existing peer relies on changes meaning or
//! loses a field. Additions that old peers can ignore or default (a new message type, a new
//! field with a default) keep the version: the room clock (`clock` messages, the `clock` field
//! of the welcome, `paused`/`speed` in the pong) was added that way within version 1.
//!
//! Invariants: [`decode`] never panics, whatever the input (it is fed straight from the
//! network), and a message it accepts has passed [`ClientMessage::validate`]: finite
//! coordinates in range, names and labels short and free of control characters. This module
//! does no I/O and reads no clock; ids and tokens are made by the relay, not here.

use serde::{Deserialize, Serialize};

use crate::engine::{Command, Snapshot};

/// Version of the message format; every message carries it as `v`.
pub const PROTOCOL_VERSION: u32 = 1;
/// Largest client message accepted, in bytes of JSON text (a launch with solved guidance is
/// about 400 bytes; the cap leaves room for later commands while bounding what one message
/// can cost the relay).
pub const MAX_CLIENT_MESSAGE_BYTES: usize = 16 * 1024;
/// Longest member name, in characters: [`crate::limits::MEMBER_NAME`].
pub const MAX_NAME_CHARS: usize = crate::limits::MEMBER_NAME.max_chars;
/// Longest room token, in characters.
pub const MAX_TOKEN_CHARS: usize = 64;
/// Longest missile label carried by a command, in characters: [`crate::limits::LABEL`].
pub const MAX_LABEL_CHARS: usize = crate::limits::LABEL.max_chars;
/// Room clock speeds a member may choose: simulation ticks run per 100 ms of wall time. The
/// largest bounds the referee's work per period (16 ticks), so a room cannot hog the relay.
pub const ALLOWED_SPEEDS: [u32; 5] = [1, 2, 4, 8, 16];

/// The room's clock: whether the referee advances and how fast. Set by a member's
/// [`ClientMessage::Clock`], broadcast as [`ServerMessage::Clock`] and included in every
/// welcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockState {
    /// The referee's tick when the setting took effect: the next tick it runs (paused, the
    /// referee stays at this tick until resumed).
    pub tick: u64,
    /// Whether the referee is stopped.
    pub paused: bool,
    /// Ticks per 100 ms while running, one of [`ALLOWED_SPEEDS`].
    pub speed: u32,
    /// Who set it; absent for the initial clock (running at 1x).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<Member>,
}

impl Default for ClockState {
    fn default() -> Self {
        Self {
            tick: 0,
            paused: false,
            speed: 1,
            by: None,
        }
    }
}

fn default_speed() -> u32 {
    1
}

/// What a member does in a room. Observers only watch; the other roles may send commands when
/// they joined with the room's token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Launches threats.
    Attacker,
    /// Places sensors and interceptors.
    Defender,
    /// Watches only.
    Observer,
}

/// A message from a client to the relay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum ClientMessage {
    /// First message of every connection: who joins, in what role, with which token.
    Hello {
        /// Display name, 1 to [`MAX_NAME_CHARS`] characters.
        name: String,
        /// Role in the room.
        role: Role,
        /// The room's write token; absent for a read-only (observer) link.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        token: Option<String>,
    },
    /// A command for the room's simulation; the relay stamps it with the tick at which every
    /// participant applies it.
    Command {
        /// The command.
        command: Command,
    },
    /// The client's state hash at the start of `tick` (after `tick` ticks have run).
    Hash {
        /// The tick the hash belongs to.
        tick: u64,
        /// [`crate::Simulation::state_hash`] at that tick.
        #[serde(with = "hex_u64")]
        hash: u64,
    },
    /// Asks for the room's state again (after falling behind, or on receiving a command for a
    /// tick already run); answered by a fresh [`ServerMessage::Welcome`].
    Sync {},
    /// Pauses, resumes or changes the speed of the room's clock (members who may command
    /// only); answered by a [`ServerMessage::Clock`] to every member.
    Clock {
        /// Whether the referee should stop.
        paused: bool,
        /// Ticks per 100 ms while running, one of [`ALLOWED_SPEEDS`].
        speed: u32,
    },
    /// Keep-alive and clock probe; answered by [`ServerMessage::Pong`].
    Ping {
        /// Echoed back in the pong, to match answers with requests.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        nonce: Option<u64>,
    },
}

/// A member of a room, as shown in the presence list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// Unique within the room for its life; `0` is the relay's REST API.
    pub id: u32,
    /// Display name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Whether the member may send commands (joined with the token, not an observer).
    pub can_command: bool,
}

/// A command with the tick at which it applies and who gave it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StampedCommand {
    /// Tick at whose start the command applies (passed to `step` when the simulation's next
    /// tick is this one).
    pub tick: u64,
    /// Who gave it.
    pub by: Member,
    /// The command.
    pub command: Command,
}

/// A message from the relay to a client. Decode it with [`decode_server`] (snapshots hold a
/// 128-bit generator position, which serde cannot buffer, so there is no `Deserialize` impl
/// that goes through an internally tagged enum).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum ServerMessage {
    /// Answer to `hello` (and to `sync`): the room's state to start from. Restore `snapshot` (whose own `tick`
    /// is the referee's next tick), then apply `commands` at their ticks.
    Welcome {
        /// Room id.
        room: String,
        /// The joining member.
        you: Member,
        /// The referee's current tick (the snapshot's tick).
        tick: u64,
        /// The referee's state.
        snapshot: Box<Snapshot>,
        /// Commands stamped for `tick` or later, in order.
        commands: Vec<StampedCommand>,
        /// The room's clock (absent from older relays: running at 1x).
        clock: ClockState,
        /// Whether the joining member may pause the room or change its speed: in a private
        /// room a member who may command, in the public room only its operators. Absent from
        /// older relays, where it was the same as `you.can_command`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        clock_rights: Option<bool>,
    },
    /// The room's clock changed (pause, resume or speed), for every member.
    Clock(ClockState),
    /// Who is in the room, sent to everyone whenever it changes.
    Presence {
        /// Members in join order.
        members: Vec<Member>,
    },
    /// A command every participant applies at `tick`.
    Command(StampedCommand),
    /// The client's hash at `tick` differed from the referee's: start again from `snapshot`
    /// and apply `commands`, exactly as after a welcome.
    Resync {
        /// The tick whose hashes differed.
        mismatch_tick: u64,
        /// The referee's hash at that tick.
        #[serde(with = "hex_u64")]
        expected: u64,
        /// The client's hash at that tick.
        #[serde(with = "hex_u64")]
        got: u64,
        /// The referee's current tick.
        tick: u64,
        /// The referee's state.
        snapshot: Box<Snapshot>,
        /// Commands stamped for `tick` or later, in order.
        commands: Vec<StampedCommand>,
    },
    /// Something the client sent was refused; one sentence.
    Error {
        /// What was wrong.
        message: String,
    },
    /// Answer to a ping, with the referee's current tick for clock alignment.
    Pong {
        /// The ping's nonce.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        nonce: Option<u64>,
        /// The referee's current tick.
        tick: u64,
        /// Whether the room's clock is paused.
        paused: bool,
        /// The room's clock speed, ticks per 100 ms.
        speed: u32,
    },
}

/// Why a client message was refused. Each displays as one sentence fit to send back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    /// The message is longer than [`MAX_CLIENT_MESSAGE_BYTES`].
    #[error("message of {bytes} bytes exceeds the limit of {max} bytes")]
    TooLarge {
        /// Its length.
        bytes: usize,
        /// The limit.
        max: usize,
    },
    /// Not JSON, or not one of the message shapes.
    #[error("malformed message: {0}")]
    Malformed(String),
    /// The `v` field is missing or names another version.
    #[error("unsupported protocol version {got}; this relay speaks version {supported}")]
    UnsupportedVersion {
        /// What the message said (`missing` when absent).
        got: String,
        /// [`PROTOCOL_VERSION`].
        supported: u32,
    },
    /// Well-formed but with a value out of bounds.
    #[error("invalid message: {0}")]
    Invalid(String),
}

/// Parses, version-checks and validates one client message. Never panics.
pub fn decode(text: &str) -> Result<ClientMessage, ProtocolError> {
    decode_versioned(text, MAX_CLIENT_MESSAGE_BYTES).and_then(|m: ClientMessage| {
        m.validate()?;
        Ok(m)
    })
}

/// Parses and version-checks one relay message (for clients; no size cap beyond memory, since
/// snapshots can be large and the relay is trusted). Never panics.
pub fn decode_server(text: &str) -> Result<ServerMessage, ProtocolError> {
    let malformed = |e: serde_json::Error| ProtocolError::Malformed(first_sentence(&e.to_string()));
    // Each shape is parsed straight from the text into a plain struct: no intermediate value,
    // which could not hold the snapshot's 128-bit numbers.
    let probe: wire::Probe = serde_json::from_str(text).map_err(malformed)?;
    check_version(probe.v)?;
    Ok(match probe.kind.as_deref() {
        Some("welcome") => {
            let w: wire::Welcome = serde_json::from_str(text).map_err(malformed)?;
            ServerMessage::Welcome {
                room: w.room,
                you: w.you,
                tick: w.tick,
                snapshot: w.snapshot,
                commands: w.commands,
                clock: w.clock,
                clock_rights: w.clock_rights,
            }
        }
        Some("resync") => {
            let r: wire::Resync = serde_json::from_str(text).map_err(malformed)?;
            ServerMessage::Resync {
                mismatch_tick: r.mismatch_tick,
                expected: r.expected,
                got: r.got,
                tick: r.tick,
                snapshot: r.snapshot,
                commands: r.commands,
            }
        }
        _ => match serde_json::from_str(text).map_err(malformed)? {
            wire::Light::Presence { members } => ServerMessage::Presence { members },
            wire::Light::Command(c) => ServerMessage::Command(c),
            wire::Light::Error { message } => ServerMessage::Error { message },
            wire::Light::Clock(c) => ServerMessage::Clock(c),
            wire::Light::Pong {
                nonce,
                tick,
                paused,
                speed,
            } => ServerMessage::Pong {
                nonce,
                tick,
                paused,
                speed,
            },
        },
    })
}

/// Mirrors of the server messages for decoding.
mod wire {
    use super::{ClockState, Member, Snapshot, StampedCommand, default_speed, hex_u64};
    use serde::Deserialize;

    #[derive(Deserialize)]
    pub struct Probe {
        pub v: Option<serde_json::Value>,
        #[serde(rename = "type")]
        pub kind: Option<String>,
    }

    #[derive(Deserialize)]
    pub struct Welcome {
        pub room: String,
        pub you: Member,
        pub tick: u64,
        pub snapshot: Box<Snapshot>,
        pub commands: Vec<StampedCommand>,
        #[serde(default)]
        pub clock: ClockState,
        #[serde(default)]
        pub clock_rights: Option<bool>,
    }

    #[derive(Deserialize)]
    pub struct Resync {
        pub mismatch_tick: u64,
        #[serde(with = "hex_u64")]
        pub expected: u64,
        #[serde(with = "hex_u64")]
        pub got: u64,
        pub tick: u64,
        pub snapshot: Box<Snapshot>,
        pub commands: Vec<StampedCommand>,
    }

    #[derive(Deserialize)]
    #[serde(tag = "type", rename_all = "kebab-case")]
    pub enum Light {
        Presence {
            members: Vec<Member>,
        },
        Command(StampedCommand),
        Clock(ClockState),
        Error {
            message: String,
        },
        Pong {
            #[serde(default)]
            nonce: Option<u64>,
            tick: u64,
            #[serde(default)]
            paused: bool,
            #[serde(default = "default_speed")]
            speed: u32,
        },
    }
}

/// Accepts only `v` equal to [`PROTOCOL_VERSION`].
fn check_version(v: Option<serde_json::Value>) -> Result<(), ProtocolError> {
    match v {
        Some(serde_json::Value::Number(n)) if n.as_u64() == Some(u64::from(PROTOCOL_VERSION)) => {
            Ok(())
        }
        other => Err(ProtocolError::UnsupportedVersion {
            got: match other {
                None => "missing".to_string(),
                Some(v) => truncate(&v.to_string(), 20),
            },
            supported: PROTOCOL_VERSION,
        }),
    }
}

fn decode_versioned<T: for<'de> Deserialize<'de>>(
    text: &str,
    max_bytes: usize,
) -> Result<T, ProtocolError> {
    if text.len() > max_bytes {
        return Err(ProtocolError::TooLarge {
            bytes: text.len(),
            max: max_bytes,
        });
    }
    // Parsing into a value first lets the version be checked before the shape, so an old or
    // new client gets the version error rather than a confusing field error. serde_json
    // limits nesting depth, so deeply nested input is an error, not a stack overflow.
    let mut value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| ProtocolError::Malformed(first_sentence(&e.to_string())))?;
    let Some(object) = value.as_object_mut() else {
        return Err(ProtocolError::Malformed("expected a JSON object".into()));
    };
    check_version(object.remove("v"))?;
    serde_json::from_value(value)
        .map_err(|e| ProtocolError::Malformed(first_sentence(&e.to_string())))
}

/// Serialises a message with its version: `{"v":1,"type":...}`.
fn encode_versioned<T: Serialize>(message: &T) -> String {
    #[derive(Serialize)]
    struct Versioned<'a, T> {
        v: u32,
        #[serde(flatten)]
        message: &'a T,
    }
    // Every message type here serialises to a JSON object with string keys and finite-or-null
    // numbers, which serde_json cannot fail on.
    serde_json::to_string(&Versioned {
        v: PROTOCOL_VERSION,
        message,
    })
    .unwrap_or_else(|e| {
        format!(
            r#"{{"v":{PROTOCOL_VERSION},"type":"error","message":"cannot encode message: {e}"}}"#
        )
    })
}

impl ClientMessage {
    /// The message as JSON text, with its version.
    pub fn to_json(&self) -> String {
        encode_versioned(self)
    }

    /// Checks every field against its bounds; the error is one sentence.
    pub fn validate(&self) -> Result<(), ProtocolError> {
        let invalid = |m: String| Err(ProtocolError::Invalid(m));
        match self {
            ClientMessage::Hello { name, token, .. } => {
                crate::limits::MEMBER_NAME
                    .check(name)
                    .map_err(ProtocolError::Invalid)?;
                if let Some(token) = token
                    && (token.is_empty()
                        || token.len() > MAX_TOKEN_CHARS
                        || !token.bytes().all(|b| b.is_ascii_alphanumeric()))
                {
                    return invalid(format!(
                        "token must be 1 to {MAX_TOKEN_CHARS} ASCII letters or digits"
                    ));
                }
                Ok(())
            }
            ClientMessage::Command { command } => {
                validate_command(command).map_err(ProtocolError::Invalid)
            }
            ClientMessage::Clock { speed, .. } => {
                if ALLOWED_SPEEDS.contains(speed) {
                    Ok(())
                } else {
                    invalid(format!(
                        "speed {speed} is not allowed; choose one of {ALLOWED_SPEEDS:?}"
                    ))
                }
            }
            ClientMessage::Hash { .. } | ClientMessage::Sync {} | ClientMessage::Ping { .. } => {
                Ok(())
            }
        }
    }
}

impl ServerMessage {
    /// The message as JSON text, with its version.
    pub fn to_json(&self) -> String {
        encode_versioned(self)
    }
}

/// Checks a command's fields before it is ordered and sent to every participant:
/// [`Command::validate`], the same check the engine makes when it applies the command; the
/// error is one sentence.
pub fn validate_command(command: &Command) -> Result<(), String> {
    command.validate()
}

/// serde_json errors may quote long input; keep the first line, bounded.
fn first_sentence(s: &str) -> String {
    truncate(s.lines().next().unwrap_or_default(), 160)
}

fn truncate(s: &str, max_chars: usize) -> String {
    if s.chars().count() <= max_chars {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(max_chars).collect();
        out.push_str("...");
        out
    }
}

/// A `u64` as exactly 16 lowercase hexadecimal digits.
mod hex_u64 {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(value: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{value:016x}"))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        if text.len() != 16 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(D::Error::custom(
                "a hash must be 16 hexadecimal digits, e.g. \"00ff00ff00ff00ff\"",
            ));
        }
        u64::from_str_radix(&text, 16).map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::earth::GeoPoint;
    use crate::engine::LaunchCommand;
    use crate::flight::PhysicsParams;
    use crate::{MissileKind, Simulation};
    use rand_chacha::ChaCha8Rng;
    use rand_core::{RngCore, SeedableRng};

    fn launch() -> Command {
        Command::Launch(LaunchCommand {
            missile: MissileKind::ScudB,
            from: GeoPoint::new(35.0, 45.0),
            to: GeoPoint::new(33.0, 44.0),
            profile: Default::default(),
            label: Some("first".into()),
            guidance: None,
        })
    }

    fn samples() -> Vec<ClientMessage> {
        vec![
            ClientMessage::Hello {
                name: "Ada".into(),
                role: Role::Attacker,
                token: Some("0123456789abcdef0123456789abcdef".into()),
            },
            ClientMessage::Hello {
                name: "Watcher".into(),
                role: Role::Observer,
                token: None,
            },
            ClientMessage::Command { command: launch() },
            ClientMessage::Hash {
                tick: 42,
                hash: 0xfedc_ba98_7654_3210,
            },
            ClientMessage::Sync {},
            ClientMessage::Clock {
                paused: true,
                speed: 4,
            },
            ClientMessage::Ping { nonce: Some(7) },
        ]
    }

    #[test]
    fn client_messages_round_trip_with_version() {
        for m in samples() {
            let text = m.to_json();
            assert!(text.starts_with(r#"{"v":1,"type":""#), "{text}");
            assert_eq!(decode(&text), Ok(m));
        }
    }

    #[test]
    fn documented_wire_forms_decode() {
        let hello = decode(r#"{"v":1,"type":"hello","name":"Ada","role":"defender"}"#).unwrap();
        assert_eq!(
            hello,
            ClientMessage::Hello {
                name: "Ada".into(),
                role: Role::Defender,
                token: None
            }
        );
        let hash = decode(r#"{"v":1,"type":"hash","tick":10,"hash":"00000000000000ff"}"#);
        assert_eq!(
            hash,
            Ok(ClientMessage::Hash {
                tick: 10,
                hash: 255
            })
        );
        let cmd = decode(
            r#"{"v":1,"type":"command","command":{"type":"launch","missile":"SCUD-C",
                "from":{"lat_deg":34.0,"lon_deg":-118.0},"to":{"lat_deg":36.0,"lon_deg":-115.0}}}"#,
        )
        .unwrap();
        assert!(matches!(cmd, ClientMessage::Command { .. }));
    }

    #[test]
    fn server_messages_round_trip_and_hashes_are_hex() {
        let sim = Simulation::new(PhysicsParams::default(), 3);
        let member = Member {
            id: 2,
            name: "Ada".into(),
            role: Role::Attacker,
            can_command: true,
        };
        let stamped = StampedCommand {
            tick: 5,
            by: member.clone(),
            command: launch(),
        };
        let messages = [
            ServerMessage::Welcome {
                room: "r".into(),
                you: member.clone(),
                tick: 0,
                snapshot: Box::new(sim.snapshot()),
                commands: vec![stamped.clone()],
                clock: ClockState {
                    tick: 0,
                    paused: true,
                    speed: 8,
                    by: Some(member.clone()),
                },
                clock_rights: Some(false),
            },
            ServerMessage::Clock(ClockState {
                tick: 7,
                paused: false,
                speed: 2,
                by: Some(member.clone()),
            }),
            ServerMessage::Presence {
                members: vec![member],
            },
            ServerMessage::Command(stamped),
            ServerMessage::Resync {
                mismatch_tick: 3,
                expected: 1,
                got: u64::MAX,
                tick: 4,
                snapshot: Box::new(sim.snapshot()),
                commands: vec![],
            },
            ServerMessage::Error {
                message: "no".into(),
            },
            ServerMessage::Pong {
                nonce: None,
                tick: 9,
                paused: true,
                speed: 16,
            },
        ];
        for m in messages {
            let text = m.to_json();
            assert!(text.starts_with(r#"{"v":1,"type":""#), "{text}");
            assert_eq!(decode_server(&text), Ok(m));
        }
        let resync = ServerMessage::Resync {
            mismatch_tick: 3,
            expected: 1,
            got: u64::MAX,
            tick: 4,
            snapshot: Box::new(sim.snapshot()),
            commands: vec![],
        }
        .to_json();
        assert!(
            resync.contains(r#""expected":"0000000000000001""#),
            "{resync}"
        );
        assert!(resync.contains(r#""got":"ffffffffffffffff""#), "{resync}");
    }

    /// Messages from a relay before the room clock existed still decode, as a clock running
    /// at 1x.
    #[test]
    fn pongs_and_welcomes_without_a_clock_default_to_running_at_1x() {
        let pong = decode_server(r#"{"v":1,"type":"pong","tick":5}"#).unwrap();
        assert_eq!(
            pong,
            ServerMessage::Pong {
                nonce: None,
                tick: 5,
                paused: false,
                speed: 1
            }
        );
        let sim = Simulation::new(PhysicsParams::default(), 3);
        let text = ServerMessage::Welcome {
            room: "r".into(),
            you: Member {
                id: 1,
                name: "a".into(),
                role: Role::Observer,
                can_command: false,
            },
            tick: 0,
            snapshot: Box::new(sim.snapshot()),
            commands: vec![],
            clock: ClockState {
                tick: 0,
                paused: true,
                speed: 2,
                by: None,
            },
            clock_rights: None,
        }
        .to_json();
        let clock = r#","clock":{"tick":0,"paused":true,"speed":2}"#;
        assert!(text.contains(clock), "{text}");
        assert!(!text.contains("clock_rights"), "{text}");
        let old = text.replace(clock, "");
        let Ok(ServerMessage::Welcome {
            clock,
            clock_rights,
            ..
        }) = decode_server(&old)
        else {
            panic!("a welcome without a clock did not decode");
        };
        assert_eq!((clock, clock_rights), (ClockState::default(), None));
    }

    #[test]
    fn restored_snapshot_from_json_keeps_the_state_hash() {
        let mut sim = Simulation::new(PhysicsParams::default(), 11);
        sim.step(&[launch()]);
        for _ in 0..20 {
            sim.step(&[]);
        }
        let text = ServerMessage::Welcome {
            room: "r".into(),
            you: Member {
                id: 1,
                name: "a".into(),
                role: Role::Observer,
                can_command: false,
            },
            tick: sim.tick(),
            snapshot: Box::new(sim.snapshot()),
            commands: vec![],
            clock: ClockState::default(),
            clock_rights: None,
        }
        .to_json();
        let Ok(ServerMessage::Welcome { snapshot, .. }) = decode_server(&text) else {
            panic!("welcome did not decode");
        };
        assert_eq!(
            Simulation::restore(*snapshot).state_hash(),
            sim.state_hash()
        );
    }

    #[test]
    fn each_malformed_input_gets_its_own_error() {
        let cases: &[(&str, &str)] = &[
            ("", "malformed"),
            ("not json", "malformed"),
            ("[1,2]", "expected a JSON object"),
            (r#"{"type":"ping"}"#, "version missing"),
            (r#"{"v":2,"type":"ping"}"#, "version 2"),
            (r#"{"v":"1","type":"ping"}"#, "version \"1\""),
            (r#"{"v":1}"#, "missing field `type`"),
            (r#"{"v":1,"type":"launch"}"#, "unknown variant `launch`"),
            (
                r#"{"v":1,"type":"hello","name":"","role":"attacker"}"#,
                "name must not be empty",
            ),
            (
                r#"{"v":1,"type":"hello","name":"a","role":"king"}"#,
                "unknown variant `king`",
            ),
            (
                r#"{"v":1,"type":"hello","name":"a\u0007b","role":"observer"}"#,
                "control characters",
            ),
            (
                r#"{"v":1,"type":"hello","name":"a","role":"observer","token":"../x"}"#,
                "token must be",
            ),
            (
                r#"{"v":1,"type":"hello","name":"a","role":"observer","admin":true}"#,
                "unknown field `admin`",
            ),
            (r#"{"v":1,"type":"hash","tick":1,"hash":12}"#, "malformed"),
            (
                r#"{"v":1,"type":"hash","tick":1,"hash":"xyz"}"#,
                "16 hexadecimal digits",
            ),
            (
                r#"{"v":1,"type":"hash","tick":-1,"hash":"0000000000000000"}"#,
                "malformed",
            ),
            (
                r#"{"v":1,"type":"command","command":{"type":"launch","missile":"SCUD-C",
                   "from":{"lat_deg":95.0,"lon_deg":0.0},"to":{"lat_deg":1.0,"lon_deg":1.0}}}"#,
                "launch point",
            ),
            (
                r#"{"v":1,"type":"command","command":{"type":"launch","missile":"V-2",
                   "from":{"lat_deg":5.0,"lon_deg":0.0},"to":{"lat_deg":1.0,"lon_deg":1.0}}}"#,
                "unknown variant `V-2`",
            ),
            (
                r#"{"v":1,"type":"command","command":{"type":"launch","missile":"SCUD-C",
                   "from":{"lat_deg":5.0,"lon_deg":0.0},"to":{"lat_deg":1.0,"lon_deg":1.0},
                   "guidance":{"plane_normal_ecef":[0,0,3],"pitch_final_deg":40,"cutoff_s":10}}}"#,
                "unit vector",
            ),
            (
                r#"{"v":1,"type":"clock","paused":false,"speed":3}"#,
                "speed 3 is not allowed; choose one of [1, 2, 4, 8, 16]",
            ),
            (
                r#"{"v":1,"type":"clock","paused":false,"speed":-1}"#,
                "malformed",
            ),
            (
                r#"{"v":1,"type":"clock","speed":2}"#,
                "missing field `paused`",
            ),
        ];
        for (input, needle) in cases {
            let err = decode(input).expect_err(input).to_string();
            assert!(err.contains(needle), "{input}: {err}");
            assert!(!err.contains('\n'), "{input}: {err}");
        }
        let long = format!(
            r#"{{"v":1,"type":"hello","name":"{}","role":"observer"}}"#,
            "x".repeat(MAX_NAME_CHARS + 1)
        );
        assert!(
            decode(&long)
                .unwrap_err()
                .to_string()
                .contains("at most 32")
        );
        let label = format!(
            r#"{{"v":1,"type":"command","command":{{"type":"launch","missile":"SCUD-C",
               "from":{{"lat_deg":5.0,"lon_deg":0.0}},"to":{{"lat_deg":1.0,"lon_deg":1.0}},
               "label":"{}"}}}}"#,
            "y".repeat(MAX_LABEL_CHARS + 1)
        );
        assert!(decode(&label).unwrap_err().to_string().contains("label"));
    }

    #[test]
    fn oversize_and_deeply_nested_input_is_refused() {
        let big = format!(
            r#"{{"v":1,"type":"ping","pad":"{}"}}"#,
            "x".repeat(MAX_CLIENT_MESSAGE_BYTES)
        );
        assert!(matches!(decode(&big), Err(ProtocolError::TooLarge { .. })));
        let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
        assert!(matches!(decode(&deep), Err(ProtocolError::Malformed(_))));
    }

    /// Property: for thousands of random corruptions (byte flips, truncations, insertions,
    /// splices of valid messages), `decode` returns instead of panicking, and whatever it
    /// accepts passes validation and encodes back to something it accepts again.
    #[test]
    fn decode_survives_random_corruption() {
        let mut rng = ChaCha8Rng::seed_from_u64(0x5eed);
        let valid: Vec<String> = samples().iter().map(ClientMessage::to_json).collect();
        let alphabet = br#"{}[]":,-.0123456789eEvtypeaxnul \"\\u"#;
        let mut accepted = 0;
        for i in 0..20_000 {
            let mut bytes = valid[i % valid.len()].clone().into_bytes();
            for _ in 0..=(rng.next_u32() % 4) {
                let len = bytes.len().max(1);
                let at = rng.next_u32() as usize % len;
                match rng.next_u32() % 5 {
                    0 if !bytes.is_empty() => {
                        bytes[at] = alphabet[rng.next_u32() as usize % alphabet.len()]
                    }
                    1 => bytes.truncate(at),
                    2 => bytes.insert(
                        at.min(bytes.len()),
                        alphabet[rng.next_u32() as usize % alphabet.len()],
                    ),
                    3 if !bytes.is_empty() => {
                        bytes.remove(at);
                    }
                    _ => {
                        let other = valid[rng.next_u32() as usize % valid.len()].as_bytes();
                        let from = rng.next_u32() as usize % other.len();
                        bytes.splice(
                            at.min(bytes.len())..at.min(bytes.len()),
                            other[from..].iter().copied(),
                        );
                    }
                }
            }
            let text = String::from_utf8_lossy(&bytes);
            if let Ok(m) = decode(&text) {
                accepted += 1;
                assert_eq!(m.validate(), Ok(()));
                assert_eq!(decode(&m.to_json()), Ok(m), "{text}");
            }
        }
        // Some corruptions leave a valid message (a changed digit), most do not.
        assert!(accepted > 0 && accepted < 20_000, "accepted {accepted}");
    }
}
