//! The whole sensing chain in the engine: radars -> plots -> tracker -> scoring, on the shipped
//! Southern California raid (four SCUD-Cs, three overlapping radars).
//!
//! Run `cargo test -p sim-core --release --test tracking_engine -- --nocapture` to see the
//! measured figures quoted in `docs/benchmarks.md`.
#![cfg(not(target_arch = "wasm32"))]

use sim_core::Simulation;
use sim_core::earth::GeoPoint;
use sim_core::engine::{EventKind, MissileId, Scenario};
use sim_core::scoring::{ScoreReport, Scorer, ScoringParams};

const RAID: &str = include_str!("../../scenarios/socal-three-radars.json");

struct Run {
    score: ScoreReport,
    /// RMS distance between each plot of a missile and the missile (m): the raw measurement
    /// noise the tracker starts from.
    plot_rms_m: f64,
    apogee_s: Vec<(MissileId, f64)>,
}

fn run(scenario: &Scenario) -> Run {
    let mut sim = Simulation::from_scenario(scenario);
    let physics = *sim.physics();
    let ell = physics.earth.ellipsoid();
    let mut scorer = Scorer::new(ScoringParams::default());
    let (mut sq, mut n) = (0.0, 0u64);
    let mut apogee_s = Vec::new();
    while !sim.is_idle() && sim.tick() < 6000 {
        let events = sim.step(&[]);
        for e in &events {
            match e.kind {
                EventKind::Detection {
                    truth: Some(id),
                    lat,
                    lon,
                    alt_m,
                    ..
                } => {
                    let m = &sim.missiles()[id.0 as usize - 1];
                    let truth = m.flight.position_ecef(&physics);
                    let plot = ell.geodetic_to_ecef(&GeoPoint::new(lat, lon).to_geodetic(alt_m));
                    sq += (truth - plot).norm_squared();
                    n += 1;
                }
                EventKind::Apogee { missile, .. } => apogee_s.push((missile, e.time_s)),
                _ => {}
            }
        }
        scorer.observe(&sim, &events);
    }
    Run {
        score: scorer.report(sim.time_s()),
        plot_rms_m: libm::sqrt(sq / n as f64),
        apogee_s,
    }
}

fn raid() -> Scenario {
    Scenario::from_json(RAID).expect("the shipped scenario is valid")
}

/// Every missile is confirmed before apogee, no track swaps missiles, and the fused tracks are
/// several times more accurate than the plots they are made of.
#[test]
fn three_radars_track_every_missile_before_apogee_with_pure_accurate_tracks() {
    let r = run(&raid());
    let s = &r.score;
    assert_eq!(s.missiles.len(), 4);
    for m in &s.missiles {
        let apogee = r
            .apogee_s
            .iter()
            .find(|(id, _)| *id == m.missile)
            .expect("apogee")
            .1;
        let confirmed = m.launch_s + m.confirmed_after_launch_s.expect("confirmed");
        println!(
            "{}: confirmed at {confirmed:.1} s, apogee {apogee:.1} s, {} tracks, RMSE {:.0} m, {:.1} m/s",
            m.missile,
            m.tracks.len(),
            m.position_rmse_m.unwrap(),
            m.velocity_rmse_m_s.unwrap()
        );
        assert!(confirmed < apogee, "{}", m.missile);
        assert!(
            m.tracks.len() <= 2,
            "{} was followed by {} tracks",
            m.missile,
            m.tracks.len()
        );
        // After burnout, in the regime the ballistic filter models, the fused track is several
        // times more accurate than the plots; in boost it lags the unmodelled thrust.
        let rmse = m.ballistic_position_rmse_m.unwrap();
        println!(
            "   after burnout: RMSE {rmse:.0} m, {:.1} m/s (plot noise {:.0} m)",
            m.ballistic_velocity_rmse_m_s.unwrap(),
            r.plot_rms_m
        );
        assert!(
            rmse < r.plot_rms_m / 3.0,
            "{}: track RMSE {rmse:.0} m vs plot noise {:.0} m",
            m.missile,
            r.plot_rms_m
        );
    }
    assert_eq!(s.min_purity, 1.0, "a track swapped missiles");
    println!(
        "plot noise RMS {:.0} m; OSPA {:.0} m once all detected; {} confirmed, {} false",
        r.plot_rms_m,
        s.ospa_tracked_mean_m.unwrap(),
        s.confirmed_tracks,
        s.false_tracks
    );
}

/// Fusion helps: the same raid seen by RAD_VBG alone gives worse tracks than with all three.
#[test]
fn fusing_three_radars_beats_one() {
    let all = run(&raid());
    let mut one = raid();
    one.radars.truncate(1);
    let single = run(&one);
    let mean_rmse = |s: &ScoreReport| {
        let v: Vec<f64> = s
            .missiles
            .iter()
            .filter_map(|m| m.ballistic_position_rmse_m)
            .collect();
        v.iter().sum::<f64>() / v.len() as f64
    };
    let (a, b) = (mean_rmse(&all.score), mean_rmse(&single.score));
    println!("mean track RMSE after burnout: three radars {a:.0} m, RAD_VBG alone {b:.0} m");
    assert!(a < b, "three radars {a:.0} m, one {b:.0} m");
    let (oa, ob) = (
        all.score.ospa_tracked_mean_m.unwrap(),
        single.score.ospa_tracked_mean_m.unwrap(),
    );
    println!("OSPA once detected: three radars {oa:.0} m, one {ob:.0} m");
    assert!(oa < ob);
}

/// False alarms at the catalog rates: plots on nothing start tentative tracks that
/// die within a few scans; hardly any gets confirmed, and none lives long.
#[test]
fn false_alarms_make_no_lasting_false_tracks() {
    let mut s = raid();
    s.launches.truncate(1);
    let r = run(&s);
    let total_false: u64 = r.score.radars.iter().map(|x| x.false_alarms).sum();
    println!(
        "{total_false} false plots, {} tentative tracks never confirmed, {} false tracks of {} confirmed (ratio {:.3}), longest {:.1} s",
        r.score.unconfirmed_tracks,
        r.score.false_tracks,
        r.score.confirmed_tracks,
        r.score.false_track_ratio,
        r.score.max_false_track_lifetime_s
    );
    assert!(total_false > 100, "{total_false}");
    assert!(r.score.false_track_ratio < 0.2);
    assert!(r.score.max_false_track_lifetime_s < 15.0);
}
