//! Every input bounded by its range (`sim-core/src/limits.rs`, `docs/ranges.md`), tested as
//! properties: commands are generated with every numeric field inside, on and beyond its range
//! (NaN, infinities, 1e-300, subnormals, just past each bound, any bit pattern) and every text
//! with and without control characters. For each:
//!
//! - the command is accepted exactly when every field is in its documented range (the oracle
//!   here reads only the table of `limits`, not the validation code);
//! - the room path (`protocol::validate_command`), the scenario path (the same radar, battery,
//!   asset or doctrine in a scenario) and the link path (`Session::validate`) give the same
//!   verdict;
//! - an accepted command is applied to a simulation with a missile in flight and radars
//!   scanning, and the simulation steps on for 30 s of simulated time within a wall-time bound
//!   (a value that passes a sign check and starves a loop fails here, whatever the loop);
//! - a refused command, given to the engine anyway, is refused by the engine with an event and
//!   leaves the state as it was.
#![cfg(not(target_arch = "wasm32"))]

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use sim_core::earth::GeoPoint;
use sim_core::engagement::DefendedAsset;
use sim_core::engagement::wta::{Doctrine, FireMode};
use sim_core::engine::defense::BatteryPlacement;
use sim_core::engine::sensing::RadarPlacement;
use sim_core::engine::{Command, EventKind, LaunchCommand, Scenario};
use sim_core::flight::Guidance;
use sim_core::interceptor::InterceptorKind;
use sim_core::limits::{self, Range};
use sim_core::link::{Session, SessionCommand};
use sim_core::missile::MissileKind;
use sim_core::radar::{RadarId, RadarKind};
use sim_core::targeting::Profile;
use sim_core::{Simulation, protocol};

/// Longest wall time one generated case may take to step 30 s of simulated time (300 ticks) in
/// a debug build. Not a performance goal: a bound far above the few hundred milliseconds such a
/// run takes, so that only a loop that does not end trips it.
const STEP_BOUND: Duration = Duration::from_secs(60);
/// Ticks stepped after an accepted command.
const TICKS_AFTER: u64 = 300;

/// Values inside, on and beyond `r`, and the values that pass a sign check but not a range.
fn around(r: Range) -> BoxedStrategy<f64> {
    let eps = |b: f64| (b.abs() * 1e-9).max(1e-9);
    prop_oneof![
        4 => r.min..=r.max,
        1 => Just(r.min),
        1 => Just(r.max),
        1 => Just(r.min - eps(r.min)),
        1 => Just(r.max + eps(r.max)),
        1 => prop::sample::select(vec![
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            0.0,
            -0.0,
            1e-300,
            -1e-300,
            5e-324,
            f64::MIN_POSITIVE,
            1e-17,
            1e-9,
            1e300,
            -1e300,
            f64::MAX,
        ]),
        1 => any::<f64>(),
    ]
    .boxed()
}

/// Integers inside, on and beyond `r`, and the extremes of `u32`.
fn around_count(r: Range) -> BoxedStrategy<u32> {
    let (min, max) = (r.min as u32, r.max as u32);
    prop_oneof![
        4 => min..=max,
        1 => Just(min),
        1 => Just(max),
        1 => Just(min.saturating_sub(1)),
        1 => Just(max.saturating_add(1)),
        1 => prop::sample::select(vec![0, 1, u32::MAX]),
    ]
    .boxed()
}

/// Names with and without control characters, empty, blank and over-long.
fn text(max_chars: usize) -> BoxedStrategy<String> {
    prop_oneof![
        4 => "[A-Za-z0-9_ ]{1,20}".prop_filter("not blank", |s| !s.trim().is_empty()),
        1 => Just(String::new()),
        1 => Just("   ".to_string()),
        1 => Just("x".repeat(max_chars)),
        1 => Just("é".repeat(max_chars + 1)),
        1 => prop::sample::select(vec!['\u{0}', '\n', '\t', '\u{1b}', '\u{7f}', '\u{85}'])
            .prop_map(|c| format!("RAD{c}VBG")),
    ]
    .boxed()
}

fn point() -> impl Strategy<Value = GeoPoint> {
    (around(limits::LATITUDE), around(limits::LONGITUDE)).prop_map(|(a, b)| GeoPoint::new(a, b))
}

fn radar() -> impl Strategy<Value = RadarPlacement> {
    (
        (
            prop::sample::select(RadarKind::ALL.to_vec()),
            text(limits::CALL_SIGN.max_chars),
            point(),
            around(limits::RADAR_HEIGHT),
            around(limits::RADAR_BORESIGHT),
        ),
        (
            prop::option::of(around(limits::RADAR_SECTOR_HALF_WIDTH)),
            prop::option::of(around(limits::RADAR_ELEVATION)),
            prop::option::of(around(limits::RADAR_ELEVATION)),
            prop::option::of(around(limits::RADAR_REVISIT)),
        ),
    )
        .prop_map(
            |(
                (kind, call_sign, position, height_m, boresight_az_deg),
                (sector, lo, hi, revisit),
            )| {
                RadarPlacement {
                    call_sign,
                    kind,
                    position,
                    height_m,
                    boresight_az_deg,
                    sector_half_width_deg: sector,
                    min_el_deg: lo,
                    max_el_deg: hi,
                    revisit_s: revisit,
                }
            },
        )
}

fn battery() -> impl Strategy<Value = BatteryPlacement> {
    (
        prop::sample::select(InterceptorKind::ALL.to_vec()),
        text(limits::CALL_SIGN.max_chars),
        point(),
        around_count(limits::BATTERY_ROUNDS),
        around_count(limits::BATTERY_LAUNCHERS),
        around(limits::BATTERY_RELOAD),
        any::<bool>(),
    )
        .prop_map(
            |(kind, call_sign, position, rounds, launchers, reload_s, ready)| BatteryPlacement {
                call_sign,
                kind,
                position,
                rounds,
                launchers,
                reload_s,
                ready,
            },
        )
}

fn asset() -> impl Strategy<Value = DefendedAsset> {
    (
        text(limits::CALL_SIGN.max_chars),
        point(),
        around(limits::ASSET_VALUE),
        around(limits::ASSET_RADIUS),
    )
        .prop_map(|(name, position, value, radius_m)| DefendedAsset {
            name,
            position,
            value,
            radius_m,
        })
}

fn doctrine() -> impl Strategy<Value = Doctrine> {
    (
        around_count(limits::SALVO_SIZE),
        prop::sample::select(vec![FireMode::Salvo, FireMode::ShootLookShoot]),
        around(limits::MIN_PK),
        around_count(limits::RESERVE_ROUNDS),
        around(limits::LOOK_TIME),
        around_count(limits::ENGAGEMENTS_PER_THREAT),
    )
        .prop_map(
            |(salvo_size, mode, min_pk, reserve_rounds, look_s, max_engagements_per_threat)| {
                Doctrine {
                    salvo_size,
                    mode,
                    min_pk,
                    reserve_rounds,
                    look_s,
                    max_engagements_per_threat,
                }
            },
        )
}

/// Guidance around a solved one (Vandenberg towards Los Angeles, SCUD-C) with its fields
/// across and beyond their ranges; the plane normal scaled around unit length.
fn guidance() -> impl Strategy<Value = Guidance> {
    (
        around(limits::GUIDANCE_NORMAL_LENGTH),
        around(limits::GUIDANCE_PITCH),
        around(limits::GUIDANCE_CUTOFF),
    )
        .prop_map(|(length, pitch, cutoff)| {
            let n = solved_normal();
            Guidance {
                plane_normal_ecef: [n[0] * length, n[1] * length, n[2] * length],
                pitch_final_deg: pitch,
                cutoff_s: cutoff,
            }
        })
}

fn launch() -> impl Strategy<Value = LaunchCommand> {
    (
        prop::sample::select(vec![MissileKind::ScudB, MissileKind::ScudC]),
        prop::option::of(text(limits::LABEL.max_chars)),
        prop::option::of(guidance()),
        // Launches solved at step time only between valid points: the solver's own
        // refusals are tested elsewhere, and a solve per case would be slow in debug.
        prop_oneof![3 => Just(None), 1 => point().prop_map(Some)],
    )
        .prop_map(|(missile, label, guidance, to)| LaunchCommand {
            missile,
            from: GeoPoint::new(36.5, -123.1),
            to: to.unwrap_or(GeoPoint::new(34.05, -118.25)),
            profile: Profile::MinEnergy,
            label,
            guidance,
        })
        .prop_filter("unguided launches only between valid points", |l| {
            l.guidance.is_some() || in_range_point(&l.to)
        })
}

fn command() -> impl Strategy<Value = Command> {
    prop_oneof![
        3 => radar().prop_map(Command::PlaceRadar),
        2 => (point(), prop::option::of(around(limits::RADAR_BORESIGHT))).prop_map(
            |(position, boresight_az_deg)| Command::MoveRadar {
                radar: RadarId(1),
                position,
                boresight_az_deg,
            }
        ),
        2 => battery().prop_map(Command::PlaceBattery),
        2 => asset().prop_map(Command::PlaceAsset),
        2 => doctrine().prop_map(Command::SetDoctrine),
        2 => launch().prop_map(Command::Launch),
    ]
}

// --- The oracle: the documented table, nothing else -----------------------------------------

fn in_range_point(p: &GeoPoint) -> bool {
    limits::LATITUDE.contains(p.lat_deg) && limits::LONGITUDE.contains(p.lon_deg)
}

fn count_ok(r: Range, v: u32) -> bool {
    f64::from(v) >= r.min && f64::from(v) <= r.max
}

fn text_ok(t: limits::Text, s: &str) -> bool {
    (t.may_be_empty || !s.trim().is_empty())
        && s.chars().count() <= t.max_chars
        && !s
            .chars()
            .any(|c| c.is_control() && !(t.multiline && (c == '\n' || c == '\t')))
}

/// Whether the documented ranges accept `command`.
fn documented_ok(command: &Command) -> bool {
    use limits::*;
    match command {
        Command::PlaceRadar(p) => {
            let c = p.kind.coverage();
            let lo = p.min_el_deg.unwrap_or(c.min_el_deg);
            let hi = p.max_el_deg.unwrap_or(c.max_el_deg);
            text_ok(CALL_SIGN, &p.call_sign)
                && in_range_point(&p.position)
                && RADAR_HEIGHT.contains(p.height_m)
                && RADAR_BORESIGHT.contains(p.boresight_az_deg)
                && RADAR_SECTOR_HALF_WIDTH
                    .contains(p.sector_half_width_deg.unwrap_or(c.sector_half_width_deg))
                && RADAR_ELEVATION.contains(lo)
                && RADAR_ELEVATION.contains(hi)
                && lo < hi
                && RADAR_REVISIT.contains(p.revisit_s.unwrap_or(c.revisit_s))
        }
        Command::MoveRadar {
            position,
            boresight_az_deg,
            ..
        } => {
            in_range_point(position) && boresight_az_deg.is_none_or(|a| RADAR_BORESIGHT.contains(a))
        }
        Command::PlaceBattery(b) => {
            text_ok(CALL_SIGN, &b.call_sign)
                && in_range_point(&b.position)
                && count_ok(BATTERY_ROUNDS, b.rounds)
                && count_ok(BATTERY_LAUNCHERS, b.launchers)
                && BATTERY_RELOAD.contains(b.reload_s)
        }
        Command::PlaceAsset(a) => {
            text_ok(CALL_SIGN, &a.name)
                && in_range_point(&a.position)
                && ASSET_VALUE.contains(a.value)
                && ASSET_RADIUS.contains(a.radius_m)
        }
        Command::SetDoctrine(d) => {
            count_ok(SALVO_SIZE, d.salvo_size)
                && MIN_PK.contains(d.min_pk)
                && count_ok(RESERVE_ROUNDS, d.reserve_rounds)
                && LOOK_TIME.contains(d.look_s)
                && count_ok(ENGAGEMENTS_PER_THREAT, d.max_engagements_per_threat)
        }
        Command::Launch(l) => {
            in_range_point(&l.from)
                && in_range_point(&l.to)
                && l.label.as_deref().is_none_or(|s| text_ok(LABEL, s))
                && l.guidance.is_none_or(|g| {
                    let n = g.plane_normal_ecef;
                    let len = (n[0] * n[0] + n[1] * n[1] + n[2] * n[2]).sqrt();
                    n.iter().all(|x| x.is_finite())
                        && GUIDANCE_NORMAL_LENGTH.contains(len)
                        && GUIDANCE_PITCH.contains(g.pitch_final_deg)
                        && GUIDANCE_CUTOFF.contains(g.cutoff_s)
                })
        }
        Command::RemoveRadar { .. }
        | Command::RemoveBattery { .. }
        | Command::RemoveAsset { .. } => true,
    }
}

// --- The other paths ------------------------------------------------------------------------

/// The verdict of a scenario holding the command's entity, where a scenario can hold it.
fn scenario_verdict(command: &Command) -> Option<bool> {
    let mut s = Scenario::single_launch(
        "limits",
        MissileKind::ScudC,
        GeoPoint::new(36.5, -123.1),
        GeoPoint::new(34.05, -118.25),
    );
    match command {
        Command::PlaceRadar(p) => s.radars.push(p.clone()),
        Command::PlaceBattery(b) => s.batteries.push(b.clone()),
        Command::PlaceAsset(a) => s.assets.push(a.clone()),
        Command::SetDoctrine(d) => s.doctrine = *d,
        Command::Launch(_)
        | Command::MoveRadar { .. }
        | Command::RemoveRadar { .. }
        | Command::RemoveBattery { .. }
        | Command::RemoveAsset { .. } => return None,
    }
    Some(s.validate().is_ok())
}

fn link_verdict(command: &Command) -> bool {
    let session = Session {
        scenario: base_scenario(),
        commands: vec![SessionCommand {
            tick: 10,
            command: command.clone(),
        }],
    };
    session.validate().is_ok()
}

// --- The simulation the commands are applied to ---------------------------------------------

fn base_scenario() -> Scenario {
    let mut s = Scenario::single_launch(
        "limits",
        MissileKind::ScudC,
        GeoPoint::new(36.5, -123.1),
        GeoPoint::new(34.05, -118.25),
    );
    s.radars.push(RadarPlacement {
        call_sign: "RAD_VBG".into(),
        kind: RadarKind::AnTpy2,
        position: GeoPoint::new(34.7, -120.6),
        height_m: 100.0,
        boresight_az_deg: 300.0,
        sector_half_width_deg: None,
        min_el_deg: None,
        max_el_deg: None,
        revisit_s: None,
    });
    s
}

/// The base scenario 60 s after launch: the missile in flight, the radar scanning.
fn in_flight() -> &'static Simulation {
    static SIM: OnceLock<Simulation> = OnceLock::new();
    SIM.get_or_init(|| {
        let mut sim = Simulation::from_scenario(&base_scenario());
        for _ in 0..600 {
            sim.step(&[]);
        }
        sim
    })
}

fn solved_normal() -> [f64; 3] {
    static N: OnceLock<[f64; 3]> = OnceLock::new();
    *N.get_or_init(|| {
        let req = sim_core::targeting::TargetingRequest {
            kind: MissileKind::ScudC,
            from: GeoPoint::new(36.5, -123.1),
            to: GeoPoint::new(34.05, -118.25),
            profile: Profile::MinEnergy,
        };
        sim_core::targeting::solve(&req, &Default::default())
            .expect("the base launch solves")
            .guidance
            .plane_normal_ecef
    })
}

/// Applies `command` to the simulation in flight and steps [`TICKS_AFTER`] ticks on another
/// thread; fails if that takes longer than [`STEP_BOUND`]. Returns the first step's events and
/// the state hashes before and after the first step.
fn step_bounded(command: &Command) -> (Vec<EventKind>, u64, u64) {
    let sim = in_flight().clone();
    let command = command.clone();
    let (tx, rx) = mpsc::channel();
    let shown = format!("{command:?}");
    std::thread::spawn(move || {
        let mut sim = sim;
        let before = sim.state_hash();
        let first: Vec<EventKind> = sim.step(&[command]).into_iter().map(|e| e.kind).collect();
        let after = sim.state_hash();
        for _ in 0..TICKS_AFTER {
            sim.step(&[]);
        }
        let _ = tx.send((first, before, after));
    });
    match rx.recv_timeout(STEP_BOUND) {
        Ok(r) => r,
        Err(_) => panic!("stepping {TICKS_AFTER} ticks after {shown} took over {STEP_BOUND:?}"),
    }
}

/// Commands checked, and of those accepted (stepped with their effect).
static CHECKED: AtomicUsize = AtomicUsize::new(0);
static ACCEPTED: AtomicUsize = AtomicUsize::new(0);

fn check(command: &Command) -> Result<(), TestCaseError> {
    let verdict = command.validate();
    let documented = documented_ok(command);
    CHECKED.fetch_add(1, Ordering::Relaxed);
    if documented {
        ACCEPTED.fetch_add(1, Ordering::Relaxed);
    }
    prop_assert_eq!(
        verdict.is_ok(),
        documented,
        "validate said {:?} for {:?}",
        verdict,
        command
    );
    if let Err(message) = &verdict {
        prop_assert!(
            !message.is_empty() && !message.contains('\n') && message.chars().count() <= 240,
            "one short sentence: {:?}",
            message
        );
    }
    prop_assert_eq!(protocol::validate_command(command).is_ok(), documented);
    if let Some(ok) = scenario_verdict(command) {
        prop_assert_eq!(ok, documented, "scenario verdict for {:?}", command);
    }
    prop_assert_eq!(link_verdict(command), documented, "link verdict");
    let (events, before, after) = step_bounded(command);
    if !documented {
        let refused = events.iter().any(|k| {
            matches!(
                k,
                EventKind::Rejected { .. } | EventKind::LaunchRejected { .. }
            )
        });
        prop_assert!(refused, "the engine applied {:?}: {:?}", command, events);
        // Refused: the state moved on by one tick exactly as with no command at all.
        let mut plain = in_flight().clone();
        plain.step(&[]);
        prop_assert_eq!(before, in_flight().state_hash());
        prop_assert_eq!(
            after,
            plain.state_hash(),
            "a refused command changed the state"
        );
    }
    Ok(())
}

#[test]
fn commands_are_accepted_exactly_in_their_ranges_and_never_stall_the_engine() {
    let mut runner = TestRunner::new(Config {
        cases: 300,
        failure_persistence: None,
        ..Config::default()
    });
    let (checked0, accepted0) = (
        CHECKED.load(Ordering::Relaxed),
        ACCEPTED.load(Ordering::Relaxed),
    );
    runner
        .run(&command(), |c| check(&c))
        .expect("every generated command");
    // Both sides of every range were exercised, not only one (other tests may run `check`
    // at the same time: the counts are at least this test's own).
    let checked = CHECKED.load(Ordering::Relaxed) - checked0;
    let accepted = ACCEPTED.load(Ordering::Relaxed) - accepted0;
    assert!(checked >= 300, "{checked} cases");
    assert!(
        accepted >= checked / 10 && checked - accepted >= checked / 10,
        "{accepted} of {checked} commands accepted: the generator is lopsided"
    );
}

/// The held-out class of issue 17, by hand: values that pass a sign check but not a range.
#[test]
fn positive_but_absurd_values_are_refused_everywhere() {
    let base = base_scenario().radars[0].clone();
    for revisit in [1e-300, 1e-17, 1e-9, 5e-324, 1e300] {
        let c = Command::PlaceRadar(RadarPlacement {
            revisit_s: Some(revisit),
            ..base.clone()
        });
        let e = c.validate().unwrap_err();
        assert!(e.contains("revisit_s must be within 0.01 to 3600 s"), "{e}");
        check(&c).unwrap();
    }
    let look = Command::SetDoctrine(Doctrine {
        look_s: 1e300,
        ..Doctrine::default()
    });
    assert!(look.validate().unwrap_err().contains("doctrine.look_s"));
    check(&look).unwrap();
    // A check across two fields shows its numbers as people read them too (the property
    // test found 1e-300 written out as three hundred digits).
    let elevations = Command::PlaceRadar(RadarPlacement {
        min_el_deg: Some(1e-300),
        max_el_deg: Some(0.0),
        ..base.clone()
    });
    let e = elevations.validate().unwrap_err();
    assert!(
        e.contains("the lowest elevation 1e-300 must be below"),
        "{e}"
    );
    check(&elevations).unwrap();
}

/// Every `while` and `loop` of the engine's code states its bound in a `// bounded:` comment
/// on the line before it, so a new loop cannot come in without someone saying why it ends
/// (test modules, after `#[cfg(test)]`, are exempt).
#[test]
fn every_loop_states_its_bound() {
    fn visit(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("read sim-core/src") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                visit(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    visit(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    files.sort();
    let mut unbounded = Vec::new();
    let mut loops = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).expect("read a source file");
        let lines: Vec<&str> = text.lines().collect();
        let end = lines
            .iter()
            .position(|l| l.starts_with("#[cfg(test)]"))
            .unwrap_or(lines.len());
        for (i, line) in lines[..end].iter().enumerate() {
            let code = line.trim_start();
            let is_loop = code.starts_with("while ")
                || code.starts_with("loop {")
                || code.contains("= loop {");
            if !is_loop {
                continue;
            }
            loops += 1;
            let stated = i > 0 && lines[i - 1].trim_start().starts_with("// bounded:");
            if !stated {
                unbounded.push(format!("{}:{}: {code}", file.display(), i + 1));
            }
        }
    }
    assert!(
        loops >= 20,
        "found only {loops} loops: is the scan looking in the right place?"
    );
    assert!(
        unbounded.is_empty(),
        "loops without a `// bounded:` comment on the line before:\n{}",
        unbounded.join("\n")
    );
}

fn tracker_params() -> impl Strategy<Value = sim_core::tracking::TrackerParams> {
    use limits::*;
    (
        (
            around(GATE_PROBABILITY),
            around_count(CONFIRM_WINDOW),
            around_count(CONFIRM_WINDOW),
            around_count(MAX_MISSES),
            around(MAX_COAST),
            around(ACCEL_NOISE),
            around(MANEUVER_NOISE_SCALE),
            around(INITIAL_VELOCITY_SIGMA),
        ),
        (
            around(BALLISTIC_COEFF),
            around(BALLISTIC_COEFF_REL_SIGMA),
            around(BALLISTIC_NOISE),
            around(IMPACT_REFRESH),
            around(IMPACT_REFRESH),
            around_count(MAX_TRACKS),
            around(QUALITY_REFERENCE),
        ),
    )
        .prop_map(
            |((g, m, n, miss, coast, acc, man, v0), (b, bs, bn, r0, r1, mt, q))| {
                sim_core::tracking::TrackerParams {
                    gate_probability: g,
                    confirm_m: m,
                    confirm_n: n,
                    max_misses: miss,
                    max_coast_s: coast,
                    accel_noise_m2_s3: acc,
                    maneuver_noise_scale: man,
                    initial_velocity_sigma_m_s: v0,
                    ballistic_coeff_kg_m2: b,
                    ballistic_coeff_rel_sigma: bs,
                    ballistic_noise_rel_per_sqrt_s: bn,
                    impact_refresh_s: r0,
                    impact_refresh_max_s: r1,
                    max_tracks: mt,
                    quality_reference_m: q,
                }
            },
        )
}

/// The tracker's settings come from scenario files only: the same property through
/// `Scenario::validate`, and an accepted scenario runs its first minute within the bound.
#[test]
fn tracker_settings_are_accepted_exactly_in_their_ranges_and_never_stall_the_engine() {
    use limits::*;
    let mut runner = TestRunner::new(Config {
        cases: 120,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&tracker_params(), |t| {
            let floats = [
                (GATE_PROBABILITY, t.gate_probability),
                (MAX_COAST, t.max_coast_s),
                (ACCEL_NOISE, t.accel_noise_m2_s3),
                (MANEUVER_NOISE_SCALE, t.maneuver_noise_scale),
                (INITIAL_VELOCITY_SIGMA, t.initial_velocity_sigma_m_s),
                (BALLISTIC_COEFF, t.ballistic_coeff_kg_m2),
                (BALLISTIC_COEFF_REL_SIGMA, t.ballistic_coeff_rel_sigma),
                (BALLISTIC_NOISE, t.ballistic_noise_rel_per_sqrt_s),
                (IMPACT_REFRESH, t.impact_refresh_s),
                (IMPACT_REFRESH, t.impact_refresh_max_s),
                (QUALITY_REFERENCE, t.quality_reference_m),
            ];
            let counts = [
                (CONFIRM_WINDOW, t.confirm_m),
                (CONFIRM_WINDOW, t.confirm_n),
                (MAX_MISSES, t.max_misses),
                (MAX_TRACKS, t.max_tracks),
            ];
            let documented = floats.iter().all(|(r, v)| r.contains(*v))
                && counts.iter().all(|(r, v)| count_ok(*r, *v))
                && t.confirm_m <= t.confirm_n
                && t.impact_refresh_s <= t.impact_refresh_max_s;
            let mut s = base_scenario();
            s.tracker = t;
            let verdict = s.validate();
            prop_assert_eq!(verdict.is_ok(), documented, "{:?} for {:?}", verdict, t);
            if documented {
                let (tx, rx) = mpsc::channel();
                std::thread::spawn(move || {
                    let mut sim = Simulation::from_scenario(&s);
                    for _ in 0..600 {
                        sim.step(&[]);
                    }
                    let _ = tx.send(());
                });
                prop_assert!(
                    rx.recv_timeout(STEP_BOUND).is_ok(),
                    "a minute with tracker {:?} took over {:?}",
                    t,
                    STEP_BOUND
                );
            }
            Ok(())
        })
        .expect("every generated tracker setting");
}
