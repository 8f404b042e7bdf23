//! Share links: a whole session (a [`Scenario`] plus the commands a user gave, each with the
//! tick it applied at) in a short string that fits in a URL fragment (`/#s=<link>`), so that
//! opening the link replays the same engagement event for event. The web app, `mdsim link` and
//! the relay's short links all use this module.
//!
//! Format, version 1: `1.` followed by the base64url encoding (RFC 4648 §5, no padding) of
//! `deflate(json) ++ fnv1a32("1" ++ deflate(json))` (little endian), where `deflate` is raw
//! DEFLATE (RFC 1951) primed with the preset dictionary [`DICTIONARY_V1`] (the technique of
//! zlib's `deflateSetDictionary`: back-references may reach into it, so the key names and
//! type names every scenario repeats cost a few bits instead of being spelt out once) and
//! `json` is the session as compact JSON: `{"commands": [{"command": {...}, "tick": 12}, ...],
//! "scenario": {...}}`, with the scenario's `physics`, `sensing`, `tracker` and `doctrine`
//! left out when they equal their defaults (their absence means the default, so nothing is
//! lost). See `docs/scenario.md`.
//!
//! Invariants: decoding never panics and never allocates more than [`MAX_INFLATED_BYTES`]
//! (the input is capped at [`MAX_LINK_CHARS`] before anything else); the checksum is verified
//! before inflating, so an altered or truncated link is reported as damaged in one sentence;
//! a decoded session is validated like a scenario file ([`Scenario::validate`]) and its
//! commands are sorted by tick, at most [`MAX_COMMANDS`], none later than [`MAX_TICK`].
//! Commands are not checked further: a command the engine refuses is part of the session
//! (it produced a `rejected` event) and must replay as such. Every version ever written keeps
//! decoding: a new format gets a new prefix and this module keeps the old decoder.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::engine::{Command, Event, MAX_SCENARIO_BYTES, Scenario, ScenarioError, Simulation};
use crate::limits;

/// The link format this build writes.
pub const LINK_VERSION: u32 = 1;
/// Longest link accepted (characters, after any URL around it is removed).
pub const MAX_LINK_CHARS: usize = 16 * 1024;
/// Largest session JSON a link may inflate to (bytes); the scenario file limit.
pub const MAX_INFLATED_BYTES: usize = MAX_SCENARIO_BYTES;
/// Most commands in a session.
pub const MAX_COMMANDS: usize = limits::LINK_COMMANDS.max as usize;
/// Latest tick a command may apply at: one day of simulation time.
pub const MAX_TICK: u64 = limits::LINK_TICK.max as u64;
/// The key of the link in a URL fragment: `#s=<link>`.
pub const FRAGMENT_KEY: &str = "s";
/// DEFLATE effort (miniz levels 0-10; 9 is zlib's best, 10 slower still for a few bytes).
const DEFLATE_LEVEL: u8 = 9;
/// Bytes of checksum after the compressed data.
const CHECKSUM_BYTES: usize = 4;
/// The preset DEFLATE dictionary of version 1: a sample session in the compact JSON form
/// (keys sorted, as `serde_json::Value` writes them), the most common strings last (nearest).
/// Part of the format: it must never change, or every version-1 link breaks (the golden link
/// test catches it). At most 32 KiB, the DEFLATE window.
pub const DICTIONARY_V1: &[u8] = include_bytes!("link_dict_v1.json");

/// A command with the tick at whose start it applied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionCommand {
    /// The tick ([`crate::engine::TICK_S`] each).
    pub tick: u64,
    /// The command.
    pub command: Command,
}

/// What a link carries: a scenario and the commands given while it ran.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Session {
    /// The scenario the session started from (radars, batteries, assets, doctrine, scheduled
    /// launches, seed, settings).
    pub scenario: Scenario,
    /// Commands given during the session, sorted by tick (same-tick commands in the order
    /// given). On a tick, the scenario's own launches apply first, then these.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub commands: Vec<SessionCommand>,
}

/// Why a link was refused; every message is one sentence.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    /// Nothing to decode.
    #[error("the link is empty")]
    Empty,
    /// Over [`MAX_LINK_CHARS`].
    #[error("the link is {0} characters long, more than the limit of {MAX_LINK_CHARS}")]
    TooLong(usize),
    /// No `N.` prefix.
    #[error("this is not a scenario link: it should start with a version number such as `1.`")]
    NoVersion,
    /// A version this build does not know.
    #[error(
        "the link is of format version {0}, which this build cannot read (it reads version {LINK_VERSION}); a newer version of the app may open it"
    )]
    UnknownVersion(String),
    /// Not base64url, or an impossible length.
    #[error(
        "the link is damaged: it contains characters that cannot be in a link, or it was cut short"
    )]
    Base64,
    /// The checksum does not match.
    #[error("the link is damaged: it was altered or cut short (its checksum does not match)")]
    Checksum,
    /// The compressed data is corrupt.
    #[error("the link is damaged: its compressed data is corrupt")]
    Inflate,
    /// It inflates beyond [`MAX_INFLATED_BYTES`].
    #[error("the link expands to more than {MAX_INFLATED_BYTES} bytes, the limit")]
    TooLarge,
    /// The session inside is not valid.
    #[error("the link's scenario is invalid: {0}")]
    Invalid(String),
}

impl From<ScenarioError> for LinkError {
    fn from(e: ScenarioError) -> Self {
        let (ScenarioError::Parse(m) | ScenarioError::Invalid(m)) = e;
        LinkError::Invalid(m)
    }
}

impl Session {
    /// A session with no commands.
    pub fn new(scenario: Scenario) -> Self {
        Session {
            scenario,
            commands: Vec::new(),
        }
    }

    /// Decodes and validates a session document, or a plain scenario file (a session
    /// without commands); the error is one sentence.
    pub fn from_json(text: &str) -> Result<Self, ScenarioError> {
        if text.len() > MAX_SCENARIO_BYTES {
            return Err(ScenarioError::Invalid(format!(
                "{} bytes is larger than the {MAX_SCENARIO_BYTES}-byte limit",
                text.len()
            )));
        }
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| ScenarioError::Parse(e.to_string()))?;
        let session = if value.get("scenario").is_some() {
            serde_json::from_value(value).map_err(|e| ScenarioError::Parse(e.to_string()))?
        } else {
            Session::new(
                serde_json::from_value(value).map_err(|e| ScenarioError::Parse(e.to_string()))?,
            )
        };
        session.validate()?;
        Ok(session)
    }

    /// Pretty JSON: the scenario file alone when there are no commands (so it can be run or
    /// edited as a scenario), the session document otherwise.
    pub fn to_json_pretty(&self) -> String {
        if self.commands.is_empty() {
            self.scenario.to_json_pretty()
        } else {
            serde_json::to_string_pretty(self).expect("sessions always serialise")
        }
    }

    /// Checks the scenario ([`Scenario::validate`]) and the commands' count, ticks and order.
    pub fn validate(&self) -> Result<(), ScenarioError> {
        self.scenario.validate()?;
        let bad = |m: String| Err(ScenarioError::Invalid(m));
        if let Err(m) = limits::LINK_COMMANDS.check_count(self.commands.len() as u64) {
            return bad(m);
        }
        let mut last = 0;
        for (i, c) in self.commands.iter().enumerate() {
            if let Err(m) = limits::LINK_TICK.check_count(c.tick) {
                return bad(format!("commands[{i}]: {m}"));
            }
            if c.tick < last {
                return bad(format!(
                    "commands[{i}].tick {} comes before the tick {last} of the command before it",
                    c.tick
                ));
            }
            last = c.tick;
            // The engine would refuse it when it applies it; a link refuses it at once.
            if let Err(m) = c.command.validate() {
                return bad(format!("commands[{i}] ({}): {m}", c.command.name()));
            }
        }
        Ok(())
    }

    /// The simulation at tick 0 (the scenario's, see [`Simulation::from_scenario`]).
    pub fn simulation(&self) -> Simulation {
        Simulation::from_scenario(&self.scenario)
    }

    /// The commands that apply at the start of `tick`, in order.
    pub fn commands_at(&self, tick: u64) -> impl Iterator<Item = &Command> + '_ {
        let from = self.commands.partition_point(|c| c.tick < tick);
        let to = self.commands.partition_point(|c| c.tick <= tick);
        self.commands[from..to].iter().map(|c| &c.command)
    }

    /// Replays the session from the start for `ticks` ticks and returns every event, as the
    /// session that was shared produced them.
    pub fn replay(&self, ticks: u64) -> Vec<Event> {
        let mut sim = self.simulation();
        let mut events = Vec::new();
        for tick in 0..ticks {
            let commands: Vec<Command> = self.commands_at(tick).cloned().collect();
            events.extend(sim.step(&commands));
        }
        events
    }

    /// Encodes the session as a link (`1.` then base64url), see the module documentation.
    pub fn to_link(&self) -> String {
        let json = compact_json(self);
        let mut bytes = deflate_with_dictionary(json.as_bytes(), DICTIONARY_V1);
        let sum = checksum(LINK_VERSION, &bytes);
        bytes.extend_from_slice(&sum.to_le_bytes());
        format!("{LINK_VERSION}.{}", URL_SAFE_NO_PAD.encode(&bytes))
    }

    /// Decodes a link, or a URL or fragment carrying one (`https://host/#s=1.xyz`, `#s=1.xyz`,
    /// `s=1.xyz`), and validates the session; the error is one sentence.
    pub fn from_link(text: &str) -> Result<Self, LinkError> {
        let link = link_in(text);
        if link.is_empty() {
            return Err(LinkError::Empty);
        }
        if link.len() > MAX_LINK_CHARS {
            return Err(LinkError::TooLong(link.chars().count()));
        }
        let Some((version, body)) = link.split_once('.') else {
            return Err(LinkError::NoVersion);
        };
        if version.is_empty() || !version.bytes().all(|b| b.is_ascii_digit()) {
            return Err(LinkError::NoVersion);
        }
        match version {
            "1" => decode_v1(body),
            other => Err(LinkError::UnknownVersion(other.chars().take(12).collect())),
        }
    }
}

/// The link inside `text`: the value of `s=` in a URL's fragment (or in `text` itself when it
/// starts with `#` or `s=`), else `text` trimmed.
pub fn link_in(text: &str) -> &str {
    let text = text.trim();
    let fragment = match text.split_once('#') {
        Some((_, f)) => f,
        None => text,
    };
    for part in fragment.split('&') {
        if let Some(v) = part
            .strip_prefix(FRAGMENT_KEY)
            .and_then(|r| r.strip_prefix('='))
        {
            return v;
        }
    }
    fragment
}

/// The fragment that carries `link` (`s=<link>`, without the `#`).
pub fn fragment(link: &str) -> String {
    format!("{FRAGMENT_KEY}={link}")
}

/// Version 1: base64url(deflate(json) ++ fnv1a32("1" ++ deflate(json))).
fn decode_v1(body: &str) -> Result<Session, LinkError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(body.as_bytes())
        .map_err(|_| LinkError::Base64)?;
    if bytes.len() <= CHECKSUM_BYTES {
        return Err(LinkError::Base64);
    }
    let (data, sum) = bytes.split_at(bytes.len() - CHECKSUM_BYTES);
    let sum = u32::from_le_bytes([sum[0], sum[1], sum[2], sum[3]]);
    if sum != checksum(1, data) {
        return Err(LinkError::Checksum);
    }
    let json = inflate_with_dictionary(data, DICTIONARY_V1, MAX_INFLATED_BYTES)?;
    let text = std::str::from_utf8(&json)
        .map_err(|_| LinkError::Invalid("it is not UTF-8 text".into()))?;
    let session: Session =
        serde_json::from_str(text).map_err(|e| LinkError::Invalid(e.to_string()))?;
    session.validate()?;
    Ok(session)
}

/// Raw DEFLATE of `data`, the compressor first fed `dictionary` and flushed (a sync flush ends
/// on a byte boundary), its output up to there dropped: the rest is a stream that decodes
/// once the decoder's window holds the dictionary.
pub fn deflate_with_dictionary(data: &[u8], dictionary: &[u8]) -> Vec<u8> {
    use miniz_oxide::deflate::core::{
        CompressorOxide, TDEFLFlush, TDEFLStatus, compress, create_comp_flags_from_zip_params,
    };
    // Negative window bits: raw DEFLATE, no zlib header.
    let mut c = CompressorOxide::new(create_comp_flags_from_zip_params(
        i32::from(DEFLATE_LEVEL),
        -15,
        0,
    ));
    let mut scratch = vec![0u8; dictionary.len() + 1024];
    let (status, used, _) = compress(&mut c, dictionary, &mut scratch, TDEFLFlush::Sync);
    debug_assert!(status == TDEFLStatus::Okay && used == dictionary.len());
    let mut out = Vec::new();
    let mut buf = vec![0u8; 16 * 1024];
    let mut input = data;
    // bounded: each pass consumes input or fills the output buffer, which grows at most to the limit.
    loop {
        let (status, used, written) = compress(&mut c, input, &mut buf, TDEFLFlush::Finish);
        out.extend_from_slice(&buf[..written]);
        input = &input[used..];
        match status {
            TDEFLStatus::Done => return out,
            // The output buffer filled: go on with the same flush.
            TDEFLStatus::Okay => {}
            // Only reachable with bad parameters, which are constants here.
            other => unreachable!("DEFLATE failed: {other:?}"),
        }
    }
}

/// Inverse of [`deflate_with_dictionary`]: inflates into a buffer that starts with the
/// dictionary (back-references may reach into it) and returns what follows it, at most
/// `limit` bytes.
pub fn inflate_with_dictionary(
    data: &[u8],
    dictionary: &[u8],
    limit: usize,
) -> Result<Vec<u8>, LinkError> {
    use miniz_oxide::inflate::TINFLStatus;
    use miniz_oxide::inflate::core::{DecompressorOxide, decompress, inflate_flags};
    let flags = inflate_flags::TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF;
    let start = dictionary.len();
    let mut out = dictionary.to_vec();
    out.resize(start + data.len().saturating_mul(4).clamp(64, limit), 0);
    let mut r = DecompressorOxide::new();
    let mut pos = start;
    let mut input = data;
    // bounded: each pass consumes input or fills the output buffer, which grows at most to the limit.
    loop {
        let (status, used, written) = decompress(&mut r, input, &mut out, pos, flags);
        pos += written;
        input = input.get(used..).unwrap_or_default();
        match status {
            // Bytes after the end of the stream: not a link this module wrote.
            TINFLStatus::Done if !input.is_empty() => return Err(LinkError::Inflate),
            TINFLStatus::Done => {
                out.truncate(pos);
                return Ok(out.split_off(start));
            }
            TINFLStatus::HasMoreOutput => {
                if out.len() - start >= limit {
                    return Err(LinkError::TooLarge);
                }
                let grown = (out.len() - start).saturating_mul(2).min(limit);
                out.resize(start + grown, 0);
            }
            // Truncated input (NeedsMoreInput) or corrupt data.
            _ => return Err(LinkError::Inflate),
        }
    }
}

/// FNV-1a (32 bits) over the version number's decimal digits and then `data`: catches
/// accidental damage (a changed or lost character), not deliberate forgery.
fn checksum(version: u32, data: &[u8]) -> u32 {
    const OFFSET: u32 = 0x811c_9dc5;
    const PRIME: u32 = 0x0100_0193;
    version
        .to_string()
        .as_bytes()
        .iter()
        .chain(data)
        .fold(OFFSET, |h, &b| (h ^ u32::from(b)).wrapping_mul(PRIME))
}

/// The session as compact JSON with the scenario's default-valued settings left out.
fn compact_json(session: &Session) -> String {
    let mut value = serde_json::to_value(session).expect("sessions always serialise");
    let defaults = serde_json::to_value(Scenario::single_launch(
        "",
        crate::MissileKind::ScudB,
        crate::earth::GeoPoint::new(0.0, 0.0),
        crate::earth::GeoPoint::new(0.0, 0.0),
    ))
    .expect("scenarios always serialise");
    if let Some(scenario) = value.get_mut("scenario").and_then(|s| s.as_object_mut()) {
        // Every one of these fields is `#[serde(default)]` in `Scenario`, and the single-launch
        // scenario holds their defaults: leaving out an equal value decodes to the same one.
        for key in ["physics", "sensing", "tracker", "doctrine"] {
            if scenario.get(key).is_some() && scenario.get(key) == defaults.get(key) {
                scenario.remove(key);
            }
        }
    }
    value.to_string()
}
