//! One look at a target, end to end: coverage and its reasons, the 4/3-Earth horizon, Pd
//! statistics against the closed forms, measurement noise on the globe, false alarms and
//! determinism. Native only (the wasm determinism check is `tests/golden.rs`).
#![cfg(not(target_arch = "wasm32"))]

use nalgebra::Vector3;
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;
use sim_core::earth::{EarthParams, GeoPoint, Geodetic};
use sim_core::radar::detection::{pd_north, pd_swerling1};
use sim_core::radar::equation::integrated_snr;
use sim_core::radar::{
    CoverageGap, Observation, RadarId, RadarKind, RadarParams, RadarSite, Swerling, false_alarms,
    horizon_params, observe,
};

const EARTH: EarthParams = EarthParams {
    shape: sim_core::earth::EarthShape::Wgs84,
    rotation: true,
};

/// A TPY-2 at 0N 0E, 10 m up, looking east, all elevations from -5 deg.
fn site() -> RadarSite {
    RadarSite {
        min_el_deg: -5.0,
        ..RadarKind::AnTpy2.site(RadarId(1), "test", GeoPoint::new(0.0, 0.0), 10.0, 90.0)
    }
}

/// The point on the equator `ground_m` east of 0E (mean-sphere arc) at height `alt_m`.
fn east_of_origin(ground_m: f64, alt_m: f64) -> Vector3<f64> {
    let lon_rad = ground_m / EARTH.range_radius_m();
    EARTH.ellipsoid().geodetic_to_ecef(&Geodetic {
        lat_rad: 0.0,
        lon_rad,
        alt_m,
    })
}

fn detected(o: &Observation) -> bool {
    matches!(o, Observation::Detected(_))
}

#[test]
fn just_below_the_horizon_is_never_seen_just_above_always() {
    let s = site();
    let h = horizon_params(&EARTH);
    let alt = 10_000.0;
    let arc = h.effective_radius_m() * (h.horizon_angle_rad(10.0) + h.horizon_angle_rad(alt));
    // A big target, so that Pd ~ 1 wherever it is in coverage.
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    for i in 0..200 {
        let above = observe(
            &s,
            s.params(),
            &EARTH,
            &east_of_origin(arc - 200.0, alt),
            100.0,
            Swerling::Swerling0,
            &mut rng,
        );
        assert!(detected(&above), "{i}: {above:?}");
        let below = observe(
            &s,
            s.params(),
            &EARTH,
            &east_of_origin(arc + 200.0, alt),
            100.0,
            Swerling::Swerling0,
            &mut rng,
        );
        assert_eq!(
            below,
            Observation::NotInCoverage {
                reason: CoverageGap::BelowHorizon
            }
        );
    }
    assert!((arc - 425_000.0).abs() < 3_000.0, "{arc}");
}

#[test]
fn a_missile_hidden_low_is_seen_once_it_climbs() {
    let s = site();
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let mut reasons = Vec::new();
    for alt in [500.0, 2_000.0, 4_000.0, 6_000.0, 20_000.0, 80_000.0] {
        let o = observe(
            &s,
            s.params(),
            &EARTH,
            &east_of_origin(300_000.0, alt),
            1.0,
            Swerling::Swerling0,
            &mut rng,
        );
        reasons.push((alt, detected(&o)));
        if alt < 4_500.0 {
            assert_eq!(
                o,
                Observation::NotInCoverage {
                    reason: CoverageGap::BelowHorizon
                },
                "{alt}"
            );
        } else {
            assert!(detected(&o), "{alt}: {o:?}");
        }
    }
}

#[test]
fn coverage_reasons() {
    let s = site();
    let p = s.params();
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let ell = EARTH.ellipsoid();
    let origin = s.position.to_geodetic(s.height_m);
    let at = |az_deg: f64, el_deg: f64, r: f64| {
        let enu = sim_core::earth::frames::aer_to_enu(&sim_core::earth::Aer {
            azimuth_rad: az_deg.to_radians(),
            elevation_rad: el_deg.to_radians(),
            range_m: r,
        });
        ell.enu_to_ecef(&origin, &enu)
    };
    let reason = |o: Observation| match o {
        Observation::NotInCoverage { reason } => Some(reason),
        _ => None,
    };
    let mut look = |target: Vector3<f64>| {
        reason(observe(
            &s,
            p,
            &EARTH,
            &target,
            1.0,
            Swerling::Swerling0,
            &mut rng,
        ))
    };
    assert_eq!(look(at(90.0, 30.0, 100_000.0)), None);
    assert_eq!(look(at(149.0, 30.0, 100_000.0)), None);
    assert_eq!(
        look(at(151.0, 30.0, 100_000.0)),
        Some(CoverageGap::OutsideSector)
    );
    assert_eq!(
        look(at(270.0, 30.0, 100_000.0)),
        Some(CoverageGap::OutsideSector)
    );
    assert_eq!(
        look(at(90.0, 30.0, 3_100_000.0)),
        Some(CoverageGap::BeyondInstrumentedRange)
    );
    // Near north, the sector test wraps: a sector centred on 10 deg contains 350 deg.
    let north = RadarSite {
        boresight_az_deg: 10.0,
        ..site()
    };
    let o = observe(
        &north,
        p,
        &EARTH,
        &at(350.0, 30.0, 100_000.0),
        1.0,
        Swerling::Swerling0,
        &mut rng,
    );
    assert!(reason(o).is_none(), "{o:?}");
    // Elevation limits apply to the refracted elevation.
    let high = RadarSite {
        min_el_deg: 10.0,
        max_el_deg: 60.0,
        ..site()
    };
    for (el, want) in [
        (5.0, Some(CoverageGap::OutsideElevation)),
        (30.0, None),
        (70.0, Some(CoverageGap::OutsideElevation)),
    ] {
        let o = observe(
            &high,
            p,
            &EARTH,
            &at(90.0, el, 100_000.0),
            1.0,
            Swerling::Swerling0,
            &mut rng,
        );
        assert_eq!(reason(o), want, "{el}");
    }
}

/// Detection frequency over many looks against Pd from the closed forms.
fn detection_rate(params: &RadarParams, range_m: f64, rcs: f64, model: Swerling) -> f64 {
    let s = site();
    let target = east_of_origin(range_m, 200_000.0);
    let mut rng = ChaCha8Rng::seed_from_u64(77);
    let n = 20_000;
    let hits = (0..n)
        .filter(|_| detected(&observe(&s, params, &EARTH, &target, rcs, model, &mut rng)))
        .count();
    hits as f64 / n as f64
}

#[test]
fn detection_frequency_matches_pd() {
    let s = site();
    let p = s.params();
    for ground in [700_000.0, 950_000.0, 1_150_000.0] {
        let target = east_of_origin(ground, 200_000.0);
        let g = sim_core::radar::geometry(&s, &EARTH, &target);
        let snr = integrated_snr(p, g.aer.range_m, 0.01);
        let rate0 = detection_rate(p, ground, 0.01, Swerling::Swerling0);
        let pd0 = pd_north(snr, p.pfa);
        assert!(
            (rate0 - pd0).abs() < 0.015,
            "{ground}: SW0 {rate0} vs {pd0}"
        );
        let rate1 = detection_rate(p, ground, 0.01, Swerling::Swerling1);
        let pd1 = pd_swerling1(snr, p.pfa);
        assert!((rate1 - pd1).abs() < 0.03, "{ground}: SW1 {rate1} vs {pd1}");
    }
}

#[test]
fn detections_land_near_the_truth_on_the_globe() {
    let s = site();
    let truth = east_of_origin(600_000.0, 150_000.0);
    let g_truth = EARTH.ellipsoid().ecef_to_geodetic(&truth);
    let mut rng = ChaCha8Rng::seed_from_u64(123);
    let mut n = 0;
    for _ in 0..500 {
        if let Observation::Detected(d) = observe(
            &s,
            s.params(),
            &EARTH,
            &truth,
            0.05,
            Swerling::Swerling1,
            &mut rng,
        ) {
            n += 1;
            // Cross-range error ~ range x angle sigma; allow 5 sigma.
            let cross = 600_000.0 * d.sigmas.azimuth_rad.max(d.sigmas.elevation_rad);
            let tol_m = 5.0 * (cross + d.sigmas.range_m);
            let p = EARTH.ellipsoid().geodetic_to_ecef(&Geodetic {
                lat_rad: d.lat_deg.to_radians(),
                lon_rad: d.lon_deg.to_radians(),
                alt_m: d.alt_m,
            });
            assert!(
                (p - truth).norm() < tol_m,
                "{} m > {tol_m}",
                (p - truth).norm()
            );
            assert!((d.alt_m - g_truth.alt_m).abs() < tol_m);
            assert!(d.snr_db.is_finite() && d.range_m > 0.0);
        }
    }
    assert!(n > 300, "{n} detections");
}

#[test]
fn false_alarm_count_and_placement() {
    let s = site();
    let p = RadarParams {
        false_alarms_per_s: 0.5,
        ..*s.params()
    };
    let mut rng = ChaCha8Rng::seed_from_u64(31);
    let draws = 4_000;
    let dt = 8.0;
    let mut total = 0usize;
    for _ in 0..draws {
        let plots = false_alarms(&s, &p, &EARTH, dt, &mut rng);
        total += plots.len();
        for d in &plots {
            assert!(d.range_m <= p.max_instrumented_range_m);
            let off = (d.azimuth_rad.to_degrees() - s.boresight_az_deg).abs();
            assert!(off <= s.sector_half_width_deg + 1e-9, "{off}");
            let el = d.elevation_rad.to_degrees();
            assert!(el >= s.min_el_deg - 1e-9 && el <= s.max_el_deg + 1e-9);
        }
    }
    let mean = total as f64 / draws as f64;
    // Mean 4 per interval; the standard error over 4,000 draws is 0.032.
    assert!((mean - 4.0).abs() < 0.1, "{mean}");
    let none = RadarParams {
        false_alarms_per_s: 0.0,
        ..p
    };
    assert!(false_alarms(&s, &none, &EARTH, dt, &mut rng).is_empty());
}

#[test]
fn same_seed_same_looks() {
    let s = site();
    let run = |seed: u64| {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut out = Vec::new();
        for k in 0..50 {
            let t = east_of_origin(500_000.0 + 10_000.0 * f64::from(k), 120_000.0);
            out.push(observe(
                &s,
                s.params(),
                &EARTH,
                &t,
                0.02,
                Swerling::Swerling1,
                &mut rng,
            ));
            out.extend(
                false_alarms(&s, s.params(), &EARTH, 1.0, &mut rng)
                    .into_iter()
                    .map(Observation::Detected),
            );
        }
        serde_json::to_string(&out).unwrap()
    };
    assert_eq!(run(4), run(4));
    assert_ne!(run(4), run(5));
}

#[test]
fn the_coverage_cull_only_skips_targets_out_of_coverage() {
    // Targets all around a sectored TPY-2 and an all-round MPQ-65, near and far, low and high:
    // whatever the cull skips, `observe` finds out of coverage; and it does skip the far ones
    // and those behind the antenna.
    use rand_core::RngCore;
    use sim_core::radar::CoverageCull;
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let mut draws = ChaCha8Rng::seed_from_u64(12);
    let unit = |rng: &mut ChaCha8Rng| (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    for site in [
        site(),
        RadarKind::AnMpq65.site(RadarId(2), "pac", GeoPoint::new(10.0, 20.0), 5.0, 300.0),
    ] {
        let params = site.params();
        let cull = CoverageCull::new(&site, params, &EARTH);
        let (mut skipped, mut far) = (0, 0);
        for _ in 0..20_000 {
            let lat = site.position.lat_deg + 40.0 * (unit(&mut rng) - 0.5);
            let lon = site.position.lon_deg + 40.0 * (unit(&mut rng) - 0.5);
            let alt = 1_000_000.0 * unit(&mut rng) * unit(&mut rng);
            let target = EARTH
                .ellipsoid()
                .geodetic_to_ecef(&GeoPoint::new(lat, lon).to_geodetic(alt));
            let o = observe(
                &site,
                params,
                &EARTH,
                &target,
                1.0,
                Swerling::Swerling1,
                &mut draws,
            );
            if cull.certainly_outside(&target) {
                skipped += 1;
                assert!(
                    matches!(o, Observation::NotInCoverage { .. }),
                    "culled but {o:?} at {lat}, {lon}, {alt}"
                );
            }
            if (target
                - EARTH
                    .ellipsoid()
                    .geodetic_to_ecef(&site.position.to_geodetic(0.0)))
            .norm()
                > 1.01 * params.max_instrumented_range_m
            {
                far += 1;
            }
        }
        assert!(
            skipped >= far && skipped > 1_000,
            "{skipped} skipped, {far} far"
        );
    }
}
