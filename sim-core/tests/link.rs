//! Share links (`sim_core::link`): size of a typical scenario, exact round trips, event-for-event
//! replay, the golden version-1 link that must decode forever, clear errors, and no panic on
//! any damaged link.
#![cfg(not(target_arch = "wasm32"))]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use sim_core::earth::GeoPoint;
use sim_core::engine::{Command, LaunchCommand, Scenario};
use sim_core::link::{
    LinkError, MAX_INFLATED_BYTES, MAX_LINK_CHARS, Session, SessionCommand, link_in,
};
use sim_core::missile::MissileKind;
use sim_core::radar::RadarId;
use sim_core::targeting::{self, Profile, TargetingRequest};

/// The typical scenario: three radars, three batteries, two assets, a 10-missile raid.
const RAID: &str = include_str!("../../scenarios/socal-raid.json");
/// The golden version-1 link and the session it must decode to, whatever later versions add.
const GOLDEN_V1_LINK: &str = include_str!("fixtures/link-v1.txt");
const GOLDEN_V1_SESSION: &str = include_str!("fixtures/link-v1.json");

fn raid() -> Scenario {
    Scenario::from_json(RAID).expect("the raid scenario is valid")
}

/// A session as the web app makes it: the raid's defence, and ten launches clicked on the map
/// over two minutes, plus a radar moved. The app rounds clicked points to 1e-6 degrees
/// (0.1 m); `decimals: None` keeps full `f64` precision.
fn clicked_session_with(decimals: Option<i32>) -> Session {
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    let scale = decimals.map(|d| 10f64.powi(d));
    let mut unit = move || {
        let x = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        scale.map_or(x, |s| (x * s).round() / s)
    };
    let mut commands = Vec::new();
    for i in 0..10u64 {
        commands.push(SessionCommand {
            tick: 50 + 120 * i,
            command: Command::Launch(LaunchCommand {
                missile: MissileKind::ScudC,
                from: GeoPoint::new(35.0 + unit(), -121.5 + unit()),
                to: GeoPoint::new(33.8 + 0.4 * unit(), -118.5 + 0.4 * unit()),
                profile: Profile::MinEnergy,
                label: None,
                guidance: None,
            }),
        });
    }
    commands.insert(
        2,
        SessionCommand {
            tick: 200,
            command: Command::MoveRadar {
                radar: RadarId(2),
                position: GeoPoint::new(33.3 + unit(), -119.6 + unit()),
                boresight_az_deg: Some(300.0),
            },
        },
    );
    let mut scenario = raid();
    scenario.launches.clear();
    Session { scenario, commands }
}

fn clicked_session() -> Session {
    clicked_session_with(Some(6))
}

#[test]
fn a_typical_scenario_fits_well_under_a_thousand_characters() {
    let link = Session::new(raid()).to_link();
    println!(
        "typical scenario (socal-raid.json) link: {} characters",
        link.len()
    );
    assert!(link.len() < 700, "{} characters", link.len());
    assert!(link.starts_with("1."));
    assert!(
        link.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.'),
        "not fragment-safe: {link}"
    );

    // The same defence with the raid clicked by hand instead, as the app rounds clicks.
    let clicked = clicked_session().to_link();
    println!(
        "raid clicked by hand, 11 commands: {} characters",
        clicked.len()
    );
    assert!(clicked.len() < 900, "{} characters", clicked.len());
    let precise = clicked_session_with(None).to_link();
    println!(
        "the same at full f64 precision: {} characters",
        precise.len()
    );
    assert!(precise.len() < 1_200, "{} characters", precise.len());
}

#[test]
fn links_round_trip_exactly_through_urls_and_fragments() {
    let session = clicked_session();
    let link = session.to_link();
    assert_eq!(Session::from_link(&link).unwrap(), session);
    for wrapped in [
        format!("https://mdsim.example/#s={link}"),
        format!("http://127.0.0.1:8080/index.html?x=1#view=2&s={link}"),
        format!("#s={link}"),
        format!("s={link}"),
        format!("  {link}\n"),
    ] {
        assert_eq!(link_in(&wrapped), link, "{wrapped}");
        assert_eq!(Session::from_link(&wrapped).unwrap(), session, "{wrapped}");
    }
    // Guidance solved beforehand (as the web app sends it) survives bit for bit.
    let physics = session.scenario.physics;
    let solution = targeting::solve(
        &TargetingRequest {
            kind: MissileKind::ScudB,
            from: GeoPoint::new(36.0, -122.0),
            to: GeoPoint::new(34.5, -119.8),
            profile: Profile::Lofted,
        },
        &physics,
    )
    .unwrap();
    let mut guided = session.clone();
    guided.commands.push(SessionCommand {
        tick: 5_000,
        command: Command::Launch(LaunchCommand {
            missile: MissileKind::ScudB,
            from: GeoPoint::new(36.0, -122.0),
            to: GeoPoint::new(34.5, -119.8),
            profile: Profile::Lofted,
            label: Some("guided ✓".into()),
            guidance: Some(solution.guidance),
        }),
    });
    assert_eq!(Session::from_link(&guided.to_link()).unwrap(), guided);
    // Settings that differ from their defaults are kept.
    let mut tuned = Session::new(raid());
    tuned.scenario.physics.atmosphere = false;
    tuned.scenario.sensing.false_alarms = false;
    tuned.scenario.tracker.confirm_m = 2;
    tuned.scenario.doctrine.salvo_size = 3;
    assert_eq!(Session::from_link(&tuned.to_link()).unwrap(), tuned);
}

#[test]
fn a_decoded_link_replays_the_session_event_for_event() {
    // A short engagement: one scheduled SCUD-B, a radar placed and a second launch given
    // during the session, with false alarms drawing from the seeded generator.
    let mut scenario = Scenario::single_launch(
        "replay",
        MissileKind::ScudB,
        GeoPoint::new(36.0, -122.0),
        GeoPoint::new(34.5, -119.8),
    );
    scenario.seed = 9;
    let radar = r#"{"type": "place-radar", "call_sign": "R1", "kind": "AN/TPY-2",
        "position": {"lat_deg": 35.2, "lon_deg": -120.9}, "boresight_az_deg": 315}"#;
    let session = Session {
        scenario,
        commands: vec![
            SessionCommand {
                tick: 3,
                command: serde_json::from_str(radar).unwrap(),
            },
            SessionCommand {
                tick: 40,
                command: Command::Launch(LaunchCommand {
                    missile: MissileKind::ScudB,
                    from: GeoPoint::new(35.912_345_678_9, -121.876_543_21),
                    to: GeoPoint::new(34.4, -119.7),
                    profile: Profile::Depressed,
                    label: None,
                    guidance: None,
                }),
            },
        ],
    };
    let ticks = 1_200;
    let original = serde_json::to_string(&session.replay(ticks)).unwrap();
    let decoded = Session::from_link(&session.to_link()).unwrap();
    let replayed = serde_json::to_string(&decoded.replay(ticks)).unwrap();
    assert!(original.contains("\"detection\""), "the radar saw nothing");
    assert!(
        original.matches("\"launch\"").count() >= 2,
        "{original:.300}"
    );
    assert_eq!(original, replayed);
}

#[test]
fn the_golden_version_1_link_decodes_forever() {
    let expected = Session::from_json(GOLDEN_V1_SESSION).unwrap();
    let decoded = Session::from_link(GOLDEN_V1_LINK).unwrap();
    assert_eq!(decoded, expected);
    assert_eq!(decoded.scenario.name, "Golden link v1");
    assert_eq!(decoded.scenario.seed, 3);
    assert_eq!(decoded.commands.len(), 2);
    assert_eq!(decoded.commands[1].tick, 25);
}

fn decode_err(text: &str) -> LinkError {
    Session::from_link(text).expect_err(text)
}

/// Wraps raw deflate data with a valid version-1 checksum, as an attacker could.
fn forge_v1(deflated: &[u8]) -> String {
    let mut sum: u32 = 0x811c_9dc5;
    for &b in b"1".iter().chain(deflated) {
        sum = (sum ^ u32::from(b)).wrapping_mul(0x0100_0193);
    }
    let mut bytes = deflated.to_vec();
    bytes.extend_from_slice(&sum.to_le_bytes());
    format!("1.{}", URL_SAFE_NO_PAD.encode(bytes))
}

#[test]
fn bad_links_give_one_clear_sentence() {
    let link = Session::new(raid()).to_link();
    assert_eq!(decode_err(""), LinkError::Empty);
    assert_eq!(decode_err("https://x/#s="), LinkError::Empty);
    assert_eq!(decode_err("hello"), LinkError::NoVersion);
    assert_eq!(decode_err(".abc"), LinkError::NoVersion);
    assert_eq!(
        decode_err(&link.replacen("1.", "2.", 1)),
        LinkError::UnknownVersion("2".into())
    );
    assert_eq!(
        decode_err(&"A".repeat(MAX_LINK_CHARS + 1)),
        LinkError::TooLong(MAX_LINK_CHARS + 1)
    );
    assert_eq!(decode_err(&format!("{link}!")), LinkError::Base64);
    assert_eq!(decode_err(&format!("{link}==")), LinkError::Base64);
    assert_eq!(decode_err("1.AAAA"), LinkError::Base64);
    // A changed character, a lost end.
    let mut altered = link.clone().into_bytes();
    let i = altered.len() / 2;
    altered[i] = if altered[i] == b'A' { b'B' } else { b'A' };
    assert_eq!(
        decode_err(std::str::from_utf8(&altered).unwrap()),
        LinkError::Checksum
    );
    assert!(matches!(
        decode_err(&link[..link.len() - 7]),
        LinkError::Checksum | LinkError::Base64
    ));
    // Forged checksums: corrupt data, a bomb, valid data with an invalid scenario.
    assert_eq!(decode_err(&forge_v1(&[0xff; 40])), LinkError::Inflate);
    let bomb = miniz_oxide::deflate::compress_to_vec(&vec![b' '; MAX_INFLATED_BYTES + 1], 9);
    assert_eq!(decode_err(&forge_v1(&bomb)), LinkError::TooLarge);
    let bad = |json: &str| {
        decode_err(&forge_v1(&miniz_oxide::deflate::compress_to_vec(
            json.as_bytes(),
            9,
        )))
    };
    let LinkError::Invalid(m) = bad(
        r#"{"scenario": {"version": 1, "name": "x", "seed": 1, "launches": [{"missile": "SCUD-C", "from": {"lat_deg": 95, "lon_deg": 0}, "to": {"lat_deg": 0, "lon_deg": 0}}]}}"#,
    ) else {
        panic!("not invalid")
    };
    assert!(
        m.contains("lat_deg must be within -90 to 90 degrees, got 95"),
        "{m}"
    );
    let LinkError::Invalid(m) = bad(
        r#"{"scenario": {"version": 1, "name": "x"}, "commands": [{"tick": 5, "command": {"type": "remove-radar", "radar": 1}}, {"tick": 4, "command": {"type": "remove-radar", "radar": 1}}]}"#,
    ) else {
        panic!("not invalid")
    };
    assert!(m.contains("commands[1].tick 4"), "{m}");
    let LinkError::Invalid(m) = bad(
        r#"{"scenario": {"version": 1, "name": "x"}, "commands": [{"tick": 99999999999, "command": {"type": "remove-radar", "radar": 1}}]}"#,
    ) else {
        panic!("not invalid")
    };
    assert!(
        m.contains("commands[].tick must be within 0 to 864000"),
        "{m}"
    );
    assert!(matches!(bad("[1, 2"), LinkError::Invalid(_)));
    assert!(matches!(bad("\u{0}\u{ff}"), LinkError::Invalid(_)));
    // Every message is one sentence on one line.
    for e in [
        LinkError::Empty,
        LinkError::NoVersion,
        LinkError::UnknownVersion("7".into()),
        LinkError::Base64,
        LinkError::Checksum,
        LinkError::Inflate,
        LinkError::TooLarge,
        LinkError::TooLong(20_000),
    ] {
        let m = e.to_string();
        assert!(
            !m.contains('\n') && (m.starts_with("the link") || m.starts_with("this is not")),
            "{m}"
        );
    }
}

/// Never a panic: every truncation, every one-character substitution, every bit flip of the
/// compressed data (with the checksum forged so the inflater and the parser see it), and
/// random strings.
#[test]
fn damaged_links_never_panic() {
    let session = clicked_session();
    let link = session.to_link();
    let alphabet = b"AZaz09-_.=%#";
    let mut decoded_ok = 0;
    for cut in 0..link.len() {
        let _ = Session::from_link(&link[..cut]);
    }
    let bytes = link.as_bytes();
    for i in 0..bytes.len() {
        for &c in alphabet {
            if c != bytes[i] {
                let mut m = bytes.to_vec();
                m[i] = c;
                if Session::from_link(std::str::from_utf8(&m).unwrap()).is_ok() {
                    decoded_ok += 1;
                }
            }
        }
    }
    // The checksum catches every single substitution.
    assert_eq!(decoded_ok, 0);

    let raw = URL_SAFE_NO_PAD.decode(&link[2..]).unwrap();
    let deflated = &raw[..raw.len() - 4];
    let mut reached_parser = 0;
    for i in 0..deflated.len() {
        for bit in 0..8 {
            let mut m = deflated.to_vec();
            m[i] ^= 1 << bit;
            // Any result but a panic is fine (a flip in the padding bits of the last byte
            // even changes nothing); count those that inflated into text the parser saw.
            if let Err(LinkError::Invalid(_)) = Session::from_link(&forge_v1(&m)) {
                reached_parser += 1;
            }
        }
    }
    assert!(reached_parser > 0, "no mutation got past the inflater");

    let mut rng = ChaCha8Rng::seed_from_u64(7);
    for n in 0..2_000usize {
        let len = (rng.next_u32() as usize) % 600;
        let mut junk = vec![0u8; len];
        rng.fill_bytes(&mut junk);
        let text = String::from_utf8_lossy(&junk).into_owned();
        assert!(Session::from_link(&text).is_err());
        let _ = Session::from_link(&format!("1.{text}"));
        let _ = Session::from_link(&format!("1.{}", URL_SAFE_NO_PAD.encode(&junk)));
        if n % 4 == 0 {
            let _ = Session::from_link(&forge_v1(&junk));
        }
    }
}

#[test]
fn scenario_files_and_session_documents_both_read_as_sessions() {
    let plain = Session::from_json(RAID).unwrap();
    assert!(plain.commands.is_empty());
    assert_eq!(plain.scenario, raid());
    // Without commands the pretty form is the scenario file itself.
    assert_eq!(plain.to_json_pretty(), raid().to_json_pretty());
    let session = clicked_session();
    let text = session.to_json_pretty();
    assert!(text.contains("\"commands\""));
    assert_eq!(Session::from_json(&text).unwrap(), session);
    let e = Session::from_json(r#"{"scenario": {"version": 1, "name": "x"}, "extra": 1}"#)
        .unwrap_err()
        .to_string();
    assert!(e.contains("unknown field"), "{e}");
}
