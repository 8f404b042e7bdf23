//! The tracker end to end: a ballistic truth (`Flight::free`, full physics) seen by one to three
//! radars through `radar::observe` with a seeded ChaCha8, with and without false alarms.
//! Checks confirmation, accuracy against the single-plot noise, the gain of fusion, false
//! tracks, impact-point convergence, determinism and serde. Native only.
#![cfg(not(target_arch = "wasm32"))]

use std::collections::BTreeMap;

use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;
use sim_core::earth::GeoPoint;
use sim_core::earth::frames::great_circle_distance_m;
use sim_core::engine::TICK_S;
use sim_core::flight::{Flight, PhysicsParams};
use sim_core::missile::MissileKind;
use sim_core::radar::{
    Observation, RadarId, RadarKind, RadarParams, RadarSite, Swerling, false_alarms, observe,
};
use sim_core::tracking::{
    DeletionReason, ImpactPrediction, TrackEvent, TrackId, TrackStatus, Tracker, TrackerParams,
};

/// Three AN/TPY-2 sites around a 900 km west-to-east flight at 33N, all-round coverage.
fn sites(n: usize) -> Vec<RadarSite> {
    [(31.5, 37.0, 30.0), (35.0, 41.0, 180.0), (31.0, 44.0, 300.0)]
        .iter()
        .take(n)
        .enumerate()
        .map(|(i, &(lat, lon, az))| RadarSite {
            sector_half_width_deg: 180.0,
            ..RadarKind::AnTpy2.site(
                RadarId(i as u32 + 1),
                "test",
                GeoPoint::new(lat, lon),
                10.0,
                az,
            )
        })
        .collect()
}

fn truth(physics: &PhysicsParams) -> Flight {
    Flight::free(
        MissileKind::ScudC,
        GeoPoint::new(33.0, 36.0),
        60_000.0,
        3_000.0,
        40.0,
        90.0,
        physics,
    )
}

struct Run {
    tracker: Tracker,
    events: Vec<TrackEvent>,
    /// The track the true plots went to most often.
    truth_track: TrackId,
    /// (time, 3-D position error, single-plot cross-range sigma) after convergence.
    errors: Vec<(f64, f64, f64)>,
    /// (time, the truth track's impact prediction) once a second.
    impacts: Vec<(f64, ImpactPrediction)>,
    false_plots: usize,
    /// Track ids that received true plots, with counts.
    true_tracks: BTreeMap<TrackId, u32>,
    impact_point: GeoPoint,
    impact_time_s: f64,
}

fn run(n_radars: usize, false_alarms_per_s: f64, seed: u64) -> Run {
    let physics = PhysicsParams::default();
    let sites = sites(n_radars);
    let mut flight = truth(&physics);
    let (summary, _) = truth(&physics)
        .fly_to_impact(&physics, None)
        .expect("comes down");
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut tracker = Tracker::new(TrackerParams::default());
    let mut events = Vec::new();
    let mut flight_events = Vec::new();
    let mut true_tracks: BTreeMap<TrackId, u32> = BTreeMap::new();
    let mut samples: Vec<(f64, TrackId, f64, f64)> = Vec::new();
    let mut impacts = Vec::new();
    let mut false_plots = 0;
    let mut tick: u64 = 0;
    while flight.impact.is_none() {
        tick += 1;
        flight.advance(TICK_S, &physics, &mut flight_events);
        if flight.impact.is_some() {
            break;
        }
        let t = tick as f64 * TICK_S;
        let pos = flight.position_ecef(&physics);
        for (i, site) in sites.iter().enumerate() {
            // Revisit 1 s, radars staggered by one tick.
            if !(tick + i as u64).is_multiple_of(10) {
                continue;
            }
            let params = RadarParams {
                false_alarms_per_s,
                ..*site.params()
            };
            let mut dets = Vec::new();
            let truth_plot = match observe(
                site,
                &params,
                &physics.earth,
                &pos,
                0.5,
                Swerling::Swerling1,
                &mut rng,
            ) {
                Observation::Detected(d) => {
                    dets.push(d);
                    true
                }
                _ => false,
            };
            let noise = false_alarms(site, &params, &physics.earth, site.revisit_s, &mut rng);
            false_plots += noise.len();
            dets.extend(noise);
            let ids = tracker.process_scan(&physics, site, t, &dets, &mut events);
            assert_eq!(ids.len(), dets.len());
            if truth_plot && let Some(id) = ids[0] {
                *true_tracks.entry(id).or_default() += 1;
                let tr = tracker.track(id).expect("live");
                if tr.status == TrackStatus::Confirmed {
                    let err = (tr.position_m - pos).norm();
                    samples.push((t, id, err, dets[0].range_m * dets[0].sigmas.azimuth_rad));
                }
            }
        }
        if tick.is_multiple_of(10) {
            tracker.maintain(&physics, t, &mut events);
            if let Some((&id, _)) = true_tracks.iter().max_by_key(|(_, n)| **n)
                && let Some(ip) = tracker.track(id).and_then(|t| t.impact)
            {
                impacts.push((t, ip));
            }
        }
    }
    let truth_track = *true_tracks
        .iter()
        .max_by_key(|(_, n)| **n)
        .expect("some track got true plots")
        .0;
    let confirmed_at = tracker_confirm_time(&events, truth_track).expect("confirmed");
    let errors = samples
        .into_iter()
        .filter(|s| s.1 == truth_track && s.0 > confirmed_at + 30.0)
        .map(|s| (s.0, s.2, s.3))
        .collect();
    Run {
        tracker,
        events,
        truth_track,
        errors,
        impacts,
        false_plots,
        true_tracks,
        impact_point: summary.impact,
        impact_time_s: summary.flight_time_s,
    }
}

fn tracker_confirm_time(events: &[TrackEvent], id: TrackId) -> Option<f64> {
    events.iter().find_map(|e| match e {
        TrackEvent::Confirmed { track, time_s, .. } if *track == id => Some(*time_s),
        _ => None,
    })
}

fn rms(xs: impl Iterator<Item = f64>) -> f64 {
    let (s, n) = xs.fold((0.0, 0usize), |(s, n), x| (s + x * x, n + 1));
    libm::sqrt(s / n.max(1) as f64)
}

#[test]
fn one_radar_confirms_and_beats_the_single_plot_noise() {
    let r = run(1, 0.0, 1);
    let latency = r
        .events
        .iter()
        .find_map(|e| match e {
            TrackEvent::Confirmed {
                track, latency_s, ..
            } if *track == r.truth_track => Some(*latency_s),
            _ => None,
        })
        .expect("confirmed");
    assert!(latency <= 5.0, "latency {latency}");
    assert!(r.errors.len() > 100, "{} samples", r.errors.len());
    let rmse = rms(r.errors.iter().map(|e| e.1));
    let cross = rms(r.errors.iter().map(|e| e.2));
    println!(
        "1 radar: latency {latency:.1} s, RMSE {rmse:.1} m, single-plot cross-range sigma \
         {cross:.1} m, ratio {:.3}",
        rmse / cross
    );
    assert!(rmse < 0.5 * cross, "RMSE {rmse} vs cross-range {cross}");
    // One truth, one track: every true plot went to the same track.
    assert_eq!(r.true_tracks.len(), 1, "{:?}", r.true_tracks);
}

#[test]
fn three_radars_fuse_better_than_one() {
    let one = run(1, 0.0, 7);
    let three = run(3, 0.0, 7);
    let rmse1 = rms(one.errors.iter().map(|e| e.1));
    let rmse3 = rms(three.errors.iter().map(|e| e.1));
    let cross3 = rms(three.errors.iter().map(|e| e.2));
    println!(
        "RMSE 1 radar {rmse1:.1} m, 3 radars {rmse3:.1} m (gain {:.2}x); 3-radar ratio to \
         cross-range sigma {:.3}",
        rmse1 / rmse3,
        rmse3 / cross3
    );
    assert!(rmse3 < 0.8 * rmse1, "{rmse3} vs {rmse1}");
    let t = three.tracker.track(three.truth_track);
    if let Some(t) = t {
        assert_eq!(t.radars, vec![RadarId(1), RadarId(2), RadarId(3)]);
    }
    assert_eq!(three.true_tracks.len(), 1, "{:?}", three.true_tracks);
    let latency = three
        .events
        .iter()
        .find_map(|e| match e {
            TrackEvent::Confirmed { latency_s, .. } => Some(*latency_s),
            _ => None,
        })
        .expect("confirmed");
    assert!(latency <= 2.0, "3-radar latency {latency}");
}

#[test]
fn impact_prediction_converges_on_the_true_impact() {
    let r = run(3, 0.0, 3);
    let mut report = Vec::new();
    for before in [240.0, 120.0, 60.0, 30.0, 10.0] {
        let at = r.impact_time_s - before;
        let Some((t, ip)) = r
            .impacts
            .iter()
            .filter(|(t, _)| *t <= at)
            .max_by(|a, b| a.0.total_cmp(&b.0))
        else {
            continue;
        };
        let miss = great_circle_distance_m(&ip.at, &r.impact_point, 6_371_000.0);
        report.push((
            before,
            *t,
            miss,
            ip.time_s - r.impact_time_s,
            ip.semi_major_m,
        ));
    }
    for (before, t, miss, dt, a) in &report {
        println!(
            "{before:.0} s before impact (t = {t:.0} s): predicted impact {miss:.0} m off, \
             time {dt:+.1} s, 95% semi-major {a:.0} m"
        );
    }
    assert_eq!(report.len(), 5, "a prediction at each time");
    for (before, _, miss, dt, semi_major) in &report {
        // Inside its own 95% ellipse (the drag is unobservable above the atmosphere, so the
        // ellipse is long early on), and within 3 km and 20 s from 4 minutes out.
        assert!(
            miss < semi_major,
            "{before} s before: {miss} m off, ellipse {semi_major} m"
        );
        assert!(
            *miss < 3_000.0 && dt.abs() < 20.0,
            "{before} s before: {miss} m, {dt} s"
        );
    }
    // Once drag has been measured in re-entry the prediction closes in.
    let last = report.last().expect("10 s before");
    assert!(last.2 < 500.0 && last.3.abs() < 2.0, "{last:?}");
}

#[test]
fn false_alarms_make_few_short_false_tracks() {
    let r = run(3, 5.0, 11);
    let mut false_tracks = 0;
    let mut longest_false = 0.0f64;
    let mut confirmed_false = 0;
    for e in &r.events {
        if let TrackEvent::Deleted {
            track,
            lifetime_s,
            was_confirmed,
            reason,
            ..
        } = e
            && !r.true_tracks.contains_key(track)
        {
            false_tracks += 1;
            longest_false = longest_false.max(*lifetime_s);
            if *was_confirmed {
                confirmed_false += 1;
                assert_ne!(*reason, DeletionReason::Impacted);
            }
        }
    }
    let live_false = r
        .tracker
        .tracks()
        .iter()
        .filter(|t| !r.true_tracks.contains_key(&t.id))
        .count();
    println!(
        "{} false plots -> {false_tracks} false tracks ({:.3} per plot), {confirmed_false} \
         confirmed, longest lived {longest_false:.1} s, {live_false} alive at the end",
        r.false_plots,
        false_tracks as f64 / r.false_plots as f64
    );
    assert!(r.false_plots > 3000);
    assert_eq!(confirmed_false, 0);
    assert!(longest_false <= 5.0, "{longest_false}");
    // The true target is still tracked as one track with clutter around.
    assert!(r.errors.len() > 100);
    assert_eq!(r.true_tracks.len(), 1, "{:?}", r.true_tracks);
}

#[test]
fn same_seed_same_tracker_and_serde_round_trip() {
    let a = run(2, 1.0, 5);
    let b = run(2, 1.0, 5);
    assert_eq!(a.tracker, b.tracker);
    assert_eq!(a.events, b.events);
    let json = serde_json::to_string(&a.tracker).expect("serialises");
    let back: Tracker = serde_json::from_str(&json).expect("parses");
    assert_eq!(back, a.tracker);
    let ev = serde_json::to_string(&a.events[0]).expect("serialises");
    assert!(ev.starts_with("{\"type\":\"initiated\""), "{ev}");
    let p: TrackerParams = serde_json::from_str("{\"confirm_m\": 2}").expect("defaults fill in");
    assert_eq!(p.confirm_m, 2);
    assert!(serde_json::from_str::<TrackerParams>("{\"bogus\": 1}").is_err());
}

#[test]
fn bad_plots_and_times_are_ignored_without_panicking() {
    let physics = PhysicsParams::default();
    let site = &sites(1)[0];
    let mut t = Tracker::new(TrackerParams::default());
    let mut events = Vec::new();
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let mut d = false_alarms(
        site,
        &RadarParams {
            false_alarms_per_s: 50.0,
            ..*site.params()
        },
        &physics.earth,
        1.0,
        &mut rng,
    );
    assert!(d.len() > 2);
    d[0].range_m = f64::NAN;
    d[1].sigmas.azimuth_rad = 0.0;
    let ids = t.process_scan(&physics, site, 1.0, &d, &mut events);
    assert_eq!(ids[0], None);
    assert_eq!(ids[1], None);
    assert!(ids[2].is_some());
    assert!(
        t.process_scan(&physics, site, f64::NAN, &d, &mut events)
            .iter()
            .all(Option::is_none)
    );
    t.maintain(&physics, f64::INFINITY, &mut events);
    // A tracker limited to 3 tracks holds at most 3.
    let mut small = Tracker::new(TrackerParams {
        max_tracks: 3,
        ..TrackerParams::default()
    });
    small.process_scan(&physics, site, 1.0, &d, &mut events);
    assert_eq!(small.tracks().len(), 3);
}

#[test]
fn many_objects_many_radars_one_confirmed_track_each() {
    use sim_core::tracking::workload::Scene;
    let mut scene = Scene::new(200, 3);
    let mut tracker = Tracker::new(TrackerParams::default());
    let mut events = Vec::new();
    let (mut plots, mut unused) = (0, 0);
    for _ in 0..4 {
        for scan in scene.next_round() {
            let ids = tracker.process_scan(
                &scene.physics,
                &scene.sites[scan.site],
                scan.time_s,
                &scan.detections,
                &mut events,
            );
            plots += ids.len();
            unused += ids.iter().filter(|i| i.is_none()).count();
        }
    }
    let confirmed = tracker
        .tracks()
        .iter()
        .filter(|t| t.status == TrackStatus::Confirmed && t.radars.len() == 10)
        .count();
    // Only true plots outside the 0.999 gate (but near their track) stay unused.
    println!("{unused} of {plots} plots unused");
    assert!(unused * 500 < plots, "{unused} of {plots}");
    assert_eq!(tracker.tracks().len(), 200);
    assert_eq!(confirmed, 200);
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, TrackEvent::Deleted { .. }))
    );
}

/// A SCUD-C launched (boost with pitch-over and staging accelerations of 10-40 m/s^2 that the
/// ballistic model does not know) is seen by `n` radars from its first detection to impact:
/// how many tracks took its plots, and when the main one was confirmed.
/// Per track: (plots of the missile, first, last time).
type PlotsByTrack = BTreeMap<TrackId, (u32, f64, f64)>;

fn launched(n: usize) -> (PlotsByTrack, Vec<TrackEvent>, f64) {
    let physics = PhysicsParams::default();
    let kind = MissileKind::ScudC;
    let from = GeoPoint::new(33.0, 36.0);
    let guidance = sim_core::flight::Guidance::toward_azimuth(
        &physics,
        &from,
        90.0,
        kind.params().max_range_pitch_deg,
        1e9,
    );
    let mut flight = Flight::launch(kind, from, guidance, &physics);
    let sites = sites(n);
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut tracker = Tracker::new(TrackerParams::default());
    let mut events = Vec::new();
    let mut flight_events = Vec::new();
    let mut tracks = PlotsByTrack::new();
    let mut tick = 0u64;
    while flight.impact.is_none() {
        tick += 1;
        flight.advance(TICK_S, &physics, &mut flight_events);
        if flight.impact.is_some() {
            break;
        }
        let t = tick as f64 * TICK_S;
        let pos = flight.position_ecef(&physics);
        for (i, site) in sites.iter().enumerate() {
            if !(tick + i as u64).is_multiple_of(10) {
                continue;
            }
            if let Observation::Detected(d) = observe(
                site,
                site.params(),
                &physics.earth,
                &pos,
                1.0,
                Swerling::Swerling1,
                &mut rng,
            ) {
                let ids = tracker.process_scan(&physics, site, t, &[d], &mut events);
                if let Some(id) = ids[0] {
                    let e = tracks.entry(id).or_insert((0, t, t));
                    e.0 += 1;
                    e.2 = t;
                }
            }
        }
    }
    let burnout_s = flight.burnout.expect("burnt out").time_s;
    (tracks, events, burnout_s)
}

#[test]
fn one_track_holds_a_missile_through_boost() {
    for n in [1, 3] {
        let (tracks, events, burnout_s) = launched(n);
        let (main, (plots, first, last)) = tracks
            .iter()
            .max_by_key(|(_, v)| v.0)
            .map(|(k, v)| (*k, *v))
            .expect("tracked");
        let confirmed = tracker_confirm_time(&events, main).expect("confirmed");
        let stray: u32 = tracks.values().map(|v| v.0).sum::<u32>() - plots;
        println!(
            "{n} radar(s): {} track(s) took the missile's plots, the main one {plots} plots \
             from {first:.1} s to {last:.1} s, confirmed at {confirmed:.1} s (burnout \
             {burnout_s:.1} s); {stray} plots elsewhere",
            tracks.len()
        );
        assert!(confirmed < burnout_s, "confirmed at {confirmed} s");
        assert!(first < 20.0, "first plot at {first} s");
        assert!(stray <= 3, "{stray} plots went to other tracks: {tracks:?}");
    }
}

/// A salvo: four SCUD-Cs launched 5 s apart from points 2.2 km apart, all east, three radars.
/// Every missile gets its own confirmed track before burnout and every track takes the plots
/// of one missile only (purity), through boost, coast and re-entry.
#[test]
fn salvo_one_pure_track_per_missile() {
    let physics = PhysicsParams::default();
    let kind = MissileKind::ScudC;
    let mut flights: Vec<(f64, Flight)> = (0..4)
        .map(|k| {
            let from = GeoPoint::new(33.0 + 0.02 * f64::from(k), 36.0);
            let g = sim_core::flight::Guidance::toward_azimuth(
                &physics,
                &from,
                90.0,
                kind.params().max_range_pitch_deg,
                1e9,
            );
            (5.0 * f64::from(k), Flight::launch(kind, from, g, &physics))
        })
        .collect();
    let sites = sites(3);
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let mut tracker = Tracker::new(TrackerParams::default());
    let mut events = Vec::new();
    let mut flight_events = Vec::new();
    // (missile, track) -> plots
    let mut pairs: BTreeMap<(usize, TrackId), u32> = BTreeMap::new();
    let mut first_plot = [f64::INFINITY; 4];
    let mut tick = 0u64;
    while flights.iter().any(|(_, f)| f.impact.is_none()) {
        tick += 1;
        let t = tick as f64 * TICK_S;
        for (start, f) in &mut flights {
            if t > *start + 1e-9 && f.impact.is_none() {
                f.advance(TICK_S, &physics, &mut flight_events);
            }
        }
        for (i, site) in sites.iter().enumerate() {
            if !(tick + i as u64).is_multiple_of(10) {
                continue;
            }
            let mut plots = Vec::new();
            let mut truth = Vec::new();
            for (m, (_, f)) in flights.iter().enumerate() {
                if f.impact.is_some() {
                    continue;
                }
                if let Observation::Detected(d) = observe(
                    site,
                    site.params(),
                    &physics.earth,
                    &f.position_ecef(&physics),
                    1.0,
                    Swerling::Swerling1,
                    &mut rng,
                ) {
                    plots.push(d);
                    truth.push(m);
                    first_plot[m] = first_plot[m].min(t);
                }
            }
            let ids = tracker.process_scan(&physics, site, t, &plots, &mut events);
            for (m, id) in truth.iter().zip(ids) {
                if let Some(id) = id {
                    *pairs.entry((*m, id)).or_default() += 1;
                }
            }
        }
    }
    let burnout: Vec<f64> = flights
        .iter()
        .map(|(s, f)| s + f.burnout.expect("burnt out").time_s)
        .collect();
    for m in 0..4 {
        // The missile's main track: the one with most of its plots.
        let (&(_, main), &n) = pairs
            .iter()
            .filter(|((mm, _), _)| *mm == m)
            .max_by_key(|(_, n)| **n)
            .expect("tracked");
        let confirmed = tracker_confirm_time(&events, main).expect("confirmed");
        let total: u32 = pairs
            .iter()
            .filter(|((mm, _), _)| *mm == m)
            .map(|(_, n)| n)
            .sum();
        println!(
            "missile {m}: first plot {:.1} s, track {main} confirmed {confirmed:.1} s \
             (burnout {:.1} s), {n} of its {total} plots",
            first_plot[m], burnout[m]
        );
        assert!(confirmed < burnout[m]);
        assert!(n * 100 >= total * 99, "{n} of {total}: {pairs:?}");
    }
    // After the last impact the tracks go, as impacted.
    let end = tick as f64 * TICK_S;
    tracker.maintain(&physics, end + 2.0, &mut events);
    assert!(tracker.tracks().is_empty(), "{:?}", tracker.tracks());
    let impacted = events
        .iter()
        .filter(|e| {
            matches!(
                e,
                TrackEvent::Deleted {
                    reason: DeletionReason::Impacted,
                    was_confirmed: true,
                    ..
                }
            )
        })
        .count();
    assert_eq!(impacted, 4);
    // Purity: no track took plots of two missiles.
    let mut owner: BTreeMap<TrackId, usize> = BTreeMap::new();
    for &(m, id) in pairs.keys() {
        assert_eq!(
            *owner.entry(id).or_insert(m),
            m,
            "{id} mixes missiles: {pairs:?}"
        );
    }
}

#[test]
fn a_hand_built_refresh_period_above_the_maximum_switches_the_refresh_off_without_a_panic() {
    // The tracker benchmark switches the impact refresh off with a minimum period of 1e9 s,
    // above the default maximum of 10 s (parameters that `validate` would refuse): the
    // refresh clamp must not panic, and no track is re-predicted after its first prediction.
    use sim_core::tracking::workload::TrackerBench;
    let bench = TrackerBench::new(20, Some(1e9), 3);
    let confirmed: Vec<_> = bench
        .tracker
        .tracks()
        .iter()
        .filter(|t| t.status == sim_core::tracking::TrackStatus::Confirmed)
        .collect();
    assert_eq!(confirmed.len(), 20);
    assert!(confirmed.iter().all(|t| t.next_impact_s > 1e8));
}
