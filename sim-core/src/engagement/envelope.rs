//! The engagement envelope: where and when can a battery's interceptor meet a predicted
//! trajectory?
//!
//! Input: the predicted target trajectory as samples (t, ECEF position) in increasing time
//! (from the track's prediction), the battery's site and interceptor type, and the earliest
//! launch time (now, or when the battery is ready). A sample is a feasible intercept point if
//! (1) its altitude is within the type's [min, max] intercept altitude, (2) its slant range
//! from the site is within the type's maximum range, and (3) an interceptor launched no
//! earlier than the earliest launch time gets there in time: t - t_fly(range) >= t_launch and
//! t_fly <= the type's maximum flight time. The earliest feasible sample is refined between
//! samples by bisection on the time margin of (3), with linear interpolation of the path;
//! band and range boundaries keep the sample resolution.
//!
//! Fly-out model ([`FlyoutModel`], an average-speed model with a boost phase): the interceptor
//! accelerates uniformly to its public burnout speed v_b over the total burn time T_b (covering
//! d_b = v_b T_b / 2), then flies at a constant coast speed v_c chosen so that a full-range
//! fly-out takes max_range / mean_flyout_speed (catalog):
//! t_fly(d) = sqrt(2 d T_b / v_b) for d <= d_b, T_b + (d - d_b) / v_c beyond.
//! Its error against the physical flight of [`crate::interceptor::flight`] (unguided, 45
//! degrees, drag and J2) is measured by a test and listed in `docs/interceptors.md`; it ignores
//! the geometry (a steep intercept costs more than a shallow one) and drag's dependence on
//! altitude, so it is a planning estimate, and the interceptor's guidance absorbs the error.

use std::borrow::Cow;

use nalgebra::Vector3;
use serde::{Deserialize, Serialize};

use crate::earth::Ellipsoid;
use crate::engagement::assets::Battery;
use crate::engagement::wta::EngagementOption;
use crate::interceptor::InterceptorKind;

/// Most samples a prediction may hold.
pub const MAX_SAMPLES: usize = 100_000;

/// The average-speed fly-out model of one interceptor type (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FlyoutModel {
    /// Total burn time T_b (s).
    pub burn_s: f64,
    /// Burnout speed v_b (m/s).
    pub burnout_speed_m_s: f64,
    /// Coast speed v_c (m/s).
    pub coast_speed_m_s: f64,
}

impl FlyoutModel {
    /// The model of a catalog type.
    pub fn of(kind: InterceptorKind) -> Self {
        let p = kind.params();
        let burn = p.total_burn_time_s();
        let vb = p.burnout_speed_m_s;
        let db = 0.5 * vb * burn;
        let full = p.max_range_m / p.mean_flyout_speed_m_s;
        let coast = if full > burn && p.max_range_m > db {
            (p.max_range_m - db) / (full - burn)
        } else {
            vb
        };
        Self {
            burn_s: burn,
            burnout_speed_m_s: vb,
            coast_speed_m_s: coast,
        }
    }

    /// Fly-out time to a slant range `d_m` (s).
    pub fn time_s(&self, d_m: f64) -> f64 {
        let db = 0.5 * self.burnout_speed_m_s * self.burn_s;
        if d_m <= db {
            crate::earth::sqrt(2.0 * d_m.max(0.0) * self.burn_s / self.burnout_speed_m_s)
        } else {
            self.burn_s + (d_m - db) / self.coast_speed_m_s
        }
    }
}

/// A feasible intercept.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Intercept {
    /// Launch time (s).
    pub launch_s: f64,
    /// Intercept time (s).
    pub intercept_s: f64,
    /// Fly-out time (s).
    pub flyout_s: f64,
    /// Intercept point (ECEF, m).
    pub point_ecef: Vector3<f64>,
    /// Altitude of the intercept point (m).
    pub altitude_m: f64,
    /// Slant range from the site (m).
    pub range_m: f64,
    /// Latest feasible intercept time on the same prediction (s).
    pub latest_intercept_s: f64,
    /// Latest launch time that still gives a feasible intercept on the same prediction (s):
    /// a shoot-look-shoot doctrine can look only if a second round launched after the first
    /// intercept and the look is still in time.
    pub latest_launch_s: f64,
}

/// Why there is no feasible intercept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", content = "detail", rename_all = "kebab-case")]
pub enum NoIntercept {
    /// The prediction has no samples.
    NoPrediction,
    /// The prediction is unusable (one sentence).
    InvalidPrediction(String),
    /// The trajectory never enters the type's intercept altitude band.
    OutsideAltitudeBand,
    /// Inside the altitude band the trajectory stays beyond the type's maximum range.
    OutOfRange,
    /// The interceptor cannot reach any in-envelope point in time.
    TooLate,
}

/// Most margin kept inside each edge of a type's altitude band when planning (m); see
/// [`planning_band`].
pub const PLANNING_MARGIN_MAX_M: f64 = 5_000.0;
/// Margin kept inside each edge of a type's altitude band when planning, as a fraction of the
/// band's height; see [`planning_band`].
pub const PLANNING_MARGIN_FRACTION: f64 = 0.15;

/// The altitude band (min, max) (m) the command center plans intercepts in: the type's band
/// shrunk on each side by min([`PLANNING_MARGIN_FRACTION`] x its height,
/// [`PLANNING_MARGIN_MAX_M`]). The interceptor does not arrive exactly when and where the
/// average-speed fly-out model says (up to 15% fly-out time error, measured in
/// `docs/interceptors.md`; and it is launched at the command and control pass, up to one
/// period before the planned launch time), and against a target diving at 1-3 km/s a few
/// seconds early is a few kilometres high: planned at the edge, the real end game would fall
/// outside the band, where no kill is possible ([`crate::interceptor::endgame::resolve`]).
/// SM-6 (2-34 km): 6.8-29.2 km; PAC-3 (0.5-20 km): 3.4-17.1 km; THAAD (40-150 km): 45-145 km.
pub fn planning_band(kind: InterceptorKind) -> (f64, f64) {
    let p = kind.params();
    let margin = (PLANNING_MARGIN_FRACTION * (p.max_intercept_alt_m - p.min_intercept_alt_m))
        .min(PLANNING_MARGIN_MAX_M);
    (
        p.min_intercept_alt_m + margin,
        p.max_intercept_alt_m - margin,
    )
}

/// The earliest feasible intercept of a battery at `site_ecef` with interceptors of `kind`
/// against the predicted `samples` (t s, ECEF m), launching no earlier than `earliest_launch_s`,
/// anywhere in the type's altitude band.
pub fn earliest_intercept(
    kind: InterceptorKind,
    site_ecef: &Vector3<f64>,
    ellipsoid: &Ellipsoid,
    samples: &[(f64, Vector3<f64>)],
    earliest_launch_s: f64,
) -> Result<Intercept, NoIntercept> {
    let p = kind.params();
    let band = (p.min_intercept_alt_m, p.max_intercept_alt_m);
    earliest_intercept_in(kind, band, site_ecef, ellipsoid, samples, earliest_launch_s)
}

/// [`earliest_intercept`] with intercept altitudes restricted to `band` (min, max) (m), for
/// example the [`planning_band`].
pub fn earliest_intercept_in(
    kind: InterceptorKind,
    band: (f64, f64),
    site_ecef: &Vector3<f64>,
    ellipsoid: &Ellipsoid,
    samples: &[(f64, Vector3<f64>)],
    earliest_launch_s: f64,
) -> Result<Intercept, NoIntercept> {
    if samples.is_empty() {
        return Err(NoIntercept::NoPrediction);
    }
    validate(samples, site_ecef, earliest_launch_s).map_err(NoIntercept::InvalidPrediction)?;
    let alts: Vec<f64> = samples
        .iter()
        .map(|(_, r)| ellipsoid.altitude_m(r))
        .collect();
    earliest_validated(
        kind,
        band,
        site_ecef,
        ellipsoid,
        samples,
        &alts,
        0..samples.len(),
        earliest_launch_s,
    )
}

/// [`earliest_intercept_in`] on validated samples whose altitudes `alts` are known, and
/// every sample inside the band among `samples[span]` (the samples outside `span` are skipped:
/// the caller knows them outside the band).
#[allow(clippy::too_many_arguments)]
fn earliest_validated(
    kind: InterceptorKind,
    band: (f64, f64),
    site_ecef: &Vector3<f64>,
    ellipsoid: &Ellipsoid,
    samples: &[(f64, Vector3<f64>)],
    alts: &[f64],
    span: core::ops::Range<usize>,
    earliest_launch_s: f64,
) -> Result<Intercept, NoIntercept> {
    if !(band.0.is_finite() && band.1.is_finite()) {
        return Err(NoIntercept::InvalidPrediction(
            "the altitude band must be finite".into(),
        ));
    }
    let p = kind.params();
    let model = FlyoutModel::of(kind);
    let geometry = |r: &Vector3<f64>| {
        let alt = ellipsoid.altitude_m(r);
        let range = crate::earth::sqrt((r - site_ecef).norm_squared());
        let in_band = alt >= band.0 && alt <= band.1;
        (alt, range, in_band, in_band && range <= p.max_range_m)
    };
    // Time margin of condition (3): >= 0 when the interceptor arrives in time.
    let margin = |t: f64, range: f64| {
        let fly = model.time_s(range);
        if fly > p.max_flight_time_s {
            f64::NEG_INFINITY
        } else {
            t - fly - earliest_launch_s
        }
    };
    let (mut any_band, mut any_range) = (false, false);
    let mut first: Option<usize> = None;
    let mut last: Option<usize> = None;
    let mut latest_launch = f64::NEG_INFINITY;
    let span = span.start.min(samples.len())..span.end.min(samples.len()).min(alts.len());
    let offset = span.start;
    for (j, ((t, r), alt)) in samples[span.clone()].iter().zip(&alts[span]).enumerate() {
        let i = offset + j;
        if !(*alt >= band.0 && *alt <= band.1) {
            continue;
        }
        any_band = true;
        let range = crate::earth::sqrt((r - site_ecef).norm_squared());
        if range > p.max_range_m {
            continue;
        }
        any_range = true;
        let m = margin(*t, range);
        if m >= 0.0 {
            first.get_or_insert(i);
            last = Some(i);
            latest_launch = latest_launch.max(earliest_launch_s + m);
        }
    }
    let Some(i) = first else {
        return Err(if !any_band {
            NoIntercept::OutsideAltitudeBand
        } else if !any_range {
            NoIntercept::OutOfRange
        } else {
            NoIntercept::TooLate
        });
    };
    let latest = samples[last.unwrap_or(i)].0;
    let (mut t, mut r) = samples[i];
    if i > 0 {
        let (t0, r0) = samples[i - 1];
        let (_, range0, _, in_env0) = geometry(&r0);
        if in_env0 && margin(t0, range0) < 0.0 {
            // Bisection on the margin along the linearly interpolated path.
            let (mut lo, mut hi) = (0.0, 1.0);
            for _ in 0..50 {
                let mid = 0.5 * (lo + hi);
                let rm = r0 + (r - r0) * mid;
                let tm = t0 + (t - t0) * mid;
                if margin(tm, crate::earth::sqrt((rm - site_ecef).norm_squared())) >= 0.0 {
                    hi = mid;
                } else {
                    lo = mid;
                }
            }
            r = r0 + (r - r0) * hi;
            t = t0 + (t - t0) * hi;
        }
    }
    let (alt, range, _, _) = geometry(&r);
    let fly = model.time_s(range);
    Ok(Intercept {
        launch_s: t - fly,
        intercept_s: t,
        flyout_s: fly,
        point_ecef: r,
        altitude_m: alt,
        range_m: range,
        latest_intercept_s: latest.max(t),
        latest_launch_s: latest_launch.max(t - fly),
    })
}

fn validate(
    samples: &[(f64, Vector3<f64>)],
    site: &Vector3<f64>,
    earliest_launch_s: f64,
) -> Result<(), String> {
    if samples.len() > MAX_SAMPLES {
        return Err(format!("a prediction holds at most {MAX_SAMPLES} samples"));
    }
    if !earliest_launch_s.is_finite() || !site.iter().all(|x| x.is_finite()) {
        return Err("launch time and site must be finite".into());
    }
    let mut prev = f64::NEG_INFINITY;
    for (t, r) in samples {
        if !t.is_finite() || !r.iter().all(|x| x.is_finite()) {
            return Err("prediction samples must be finite".into());
        }
        if *t <= prev {
            return Err("prediction times must increase strictly".into());
        }
        prev = *t;
    }
    Ok(())
}

/// A launch direction (ECEF unit vector) from `site` towards `point` that a `flyout_s` flight
/// needs, raised by the gravity drop 1/2 g t^2 along the local vertical (g = 9.80665 m/s^2):
/// a first-order aim for [`crate::interceptor::flight::InterceptorFlight::launch`], which
/// proportional navigation corrects in flight.
pub fn launch_direction(site: &Vector3<f64>, point: &Vector3<f64>, flyout_s: f64) -> Vector3<f64> {
    let up = site / crate::earth::sqrt(site.norm_squared());
    let d = point - site + up * (0.5 * crate::G0_M_S2 * flyout_s * flyout_s);
    d / crate::earth::sqrt(d.norm_squared())
}

/// One threat's predicted trajectory, for planning.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ThreatPrediction<'a> {
    /// Threat (track) id.
    pub threat: u32,
    /// Predicted samples (t s, ECEF m), increasing in time.
    pub samples: &'a [(f64, Vector3<f64>)],
    /// The samples' heights above the ellipsoid (m, [`Ellipsoid::altitude_m`]), when the
    /// caller keeps them with the samples (a prediction reused over many passes); `None`:
    /// computed here. Of another length than `samples`: the prediction is invalid.
    pub altitudes_m: Option<&'a [f64]>,
}

/// The Pk matrix of the assignment: for every ready battery and every threat, the earliest
/// feasible intercept as an [`EngagementOption`] with the type's nominal single-shot Pk, or the
/// reason there is none (threat id, battery id, reason). Batteries that are not ready are left
/// out. Launches are no earlier than `now_s`.
pub fn engagement_options(
    batteries: &[Battery],
    predictions: &[ThreatPrediction<'_>],
    ellipsoid: &Ellipsoid,
    now_s: f64,
) -> (Vec<EngagementOption>, Vec<(u32, u32, NoIntercept)>) {
    engagement_options_in(batteries, predictions, ellipsoid, now_s, |k| {
        let p = k.params();
        (p.min_intercept_alt_m, p.max_intercept_alt_m)
    })
}

/// An axis-aligned box (lowest and highest corner, ECEF m) of a prediction's samples inside a
/// band, and the indices from the first to past the last of them.
type Bounds = (Vector3<f64>, Vector3<f64>, core::ops::Range<usize>);

/// [`engagement_options`] with each type's intercept altitudes restricted to `band(kind)`
/// (min, max) (m), for example [`planning_band`].
pub fn engagement_options_in(
    batteries: &[Battery],
    predictions: &[ThreatPrediction<'_>],
    ellipsoid: &Ellipsoid,
    now_s: f64,
    band: impl Fn(InterceptorKind) -> (f64, f64),
) -> (Vec<EngagementOption>, Vec<(u32, u32, NoIntercept)>) {
    let mut options = Vec::new();
    let mut none = Vec::new();
    // Per prediction, once for every battery: its validity and its samples' altitudes.
    let prepared: Vec<Result<Cow<'_, [f64]>, NoIntercept>> = predictions
        .iter()
        .map(|p| {
            if p.samples.is_empty() {
                return Err(NoIntercept::NoPrediction);
            }
            validate(p.samples, &Vector3::zeros(), now_s)
                .map_err(NoIntercept::InvalidPrediction)?;
            match p.altitudes_m {
                Some(alts) if alts.len() == p.samples.len() => Ok(Cow::Borrowed(alts)),
                Some(_) => Err(NoIntercept::InvalidPrediction(
                    "one altitude per sample is needed".into(),
                )),
                None => Ok(Cow::Owned(
                    p.samples
                        .iter()
                        .map(|(_, r)| ellipsoid.altitude_m(r))
                        .collect(),
                )),
            }
        })
        .collect();
    // Per distinct altitude band of the ready types, per prediction: the box bounding its
    // samples inside the band (None: no sample in it). A battery farther from the box than its
    // type's range (by a margin above rounding) has no sample in reach, which is what the full
    // search would conclude (out of range; outside the band without one): most pairs of a
    // wide raid are settled by this.
    let same = |a: &(f64, f64), b: &(f64, f64)| {
        a.0.to_bits() == b.0.to_bits() && a.1.to_bits() == b.1.to_bits()
    };
    let mut bands: Vec<(f64, f64)> = Vec::new();
    for b in batteries.iter().filter(|b| b.ready) {
        let band = band(b.kind);
        if !bands.iter().any(|x| same(x, &band)) {
            bands.push(band);
        }
    }
    let boxes: Vec<Vec<Option<Bounds>>> = bands
        .iter()
        .map(|band| {
            predictions
                .iter()
                .zip(&prepared)
                .map(|(p, alts)| {
                    let alts = alts.as_ref().ok()?;
                    let mut bounds: Option<Bounds> = None;
                    for (i, ((_, r), alt)) in p.samples.iter().zip(alts.iter()).enumerate() {
                        if *alt >= band.0 && *alt <= band.1 {
                            bounds = Some(match bounds {
                                None => (*r, *r, i..i + 1),
                                Some((lo, hi, span)) => (lo.inf(r), hi.sup(r), span.start..i + 1),
                            });
                        }
                    }
                    bounds
                })
                .collect()
        })
        .collect();
    for b in batteries.iter().filter(|b| b.ready) {
        let site = ellipsoid.geodetic_to_ecef(&b.position.to_geodetic(0.0));
        let band = band(b.kind);
        let band_boxes = &boxes[bands.iter().position(|x| same(x, &band)).expect("listed")];
        let reach = b.kind.params().max_range_m * (1.0 + 1e-9);
        let valid_site = site.iter().all(|x| x.is_finite());
        let finite_band = band.0.is_finite() && band.1.is_finite();
        for ((p, alts), bounds) in predictions.iter().zip(&prepared).zip(band_boxes) {
            let found = match alts {
                Err(e) => Err(e.clone()),
                Ok(_) if !valid_site => Err(NoIntercept::InvalidPrediction(
                    "launch time and site must be finite".into(),
                )),
                Ok(_) if finite_band && bounds.is_none() => Err(NoIntercept::OutsideAltitudeBand),
                Ok(_)
                    if finite_band
                        && bounds.as_ref().is_some_and(|(lo, hi, _)| {
                            let nearest = site.sup(lo).inf(hi);
                            (nearest - site).norm_squared() > reach * reach
                        }) =>
                {
                    Err(NoIntercept::OutOfRange)
                }
                Ok(alts) => earliest_validated(
                    b.kind,
                    band,
                    &site,
                    ellipsoid,
                    p.samples,
                    alts,
                    // Only the run of samples that holds those inside the band.
                    bounds
                        .as_ref()
                        .map_or(0..p.samples.len(), |(_, _, span)| span.clone()),
                    now_s,
                ),
            };
            match found {
                Ok(i) => options.push(EngagementOption {
                    threat: p.threat,
                    battery: b.id,
                    pk: b.kind.params().pk_single_shot,
                    launch_s: i.launch_s,
                    intercept_s: i.intercept_s,
                    latest_intercept_s: i.latest_intercept_s,
                    latest_launch_s: i.latest_launch_s,
                }),
                Err(e) => none.push((p.threat, b.id, e)),
            }
        }
    }
    (options, none)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::earth::GeoPoint;
    use crate::earth::Length;
    use crate::flight::{PhysicsParams, PosVel};
    use crate::interceptor::flight::InterceptorFlight;
    use crate::interceptor::guidance::PnLaw;
    use rand_chacha::ChaCha8Rng;
    use rand_core::SeedableRng;

    const ELL: Ellipsoid = Ellipsoid::WGS84;

    fn enu(lat: f64, lon: f64) -> (Vector3<f64>, [Vector3<f64>; 3]) {
        let g = GeoPoint::new(lat, lon).to_geodetic(0.0);
        (
            ELL.geodetic_to_ecef(&g),
            Ellipsoid::enu_basis(g.lat_rad, g.lon_rad),
        )
    }

    /// A straight descending path over the site: from (x0 east, h0 up) at t = 0 towards the
    /// site at `speed` m/s and dive angle `dive_deg`, sampled every 0.5 s for `n` samples.
    fn dive(
        x0: f64,
        h0: f64,
        speed: f64,
        dive_deg: f64,
        n: usize,
    ) -> (Vector3<f64>, Vec<(f64, Vector3<f64>)>) {
        let (site, [e, _, u]) = enu(33.0, -118.0);
        let (s, c) = libm::sincos(dive_deg.to_radians());
        let v = (-e * c - u * s) * speed;
        let p0 = site + e * x0 + u * h0;
        let samples = (0..n).map(|i| {
            let t = i as f64 * 0.5;
            (t, p0 + v * t)
        });
        (site, samples.collect())
    }

    #[test]
    fn earliest_intercept_meets_the_time_condition_exactly() {
        // PAC-3 against a 2 km/s, 40-degree dive starting 60 km east at 50 km.
        let (site, samples) = dive(60_000.0, 50_000.0, 2_000.0, 40.0, 80);
        let i = earliest_intercept(InterceptorKind::Pac3, &site, &ELL, &samples, 0.0).unwrap();
        assert!(
            (i.launch_s - 0.0).abs() < 1e-6,
            "launch at the earliest time: {i:?}"
        );
        assert!(i.altitude_m <= 20_000.0 && i.range_m <= 30_000.0, "{i:?}");
        assert!((i.intercept_s - i.flyout_s - i.launch_s).abs() < 1e-9);
        assert!(i.latest_intercept_s > i.intercept_s);
        // The latest launch: launched then, the interceptor meets a later sample just in time.
        assert!(i.latest_launch_s > i.launch_s && i.latest_launch_s < i.latest_intercept_s);
        let late = earliest_intercept(
            InterceptorKind::Pac3,
            &site,
            &ELL,
            &samples,
            i.latest_launch_s,
        )
        .unwrap();
        assert!((late.launch_s - i.latest_launch_s).abs() < 1e-6, "{late:?}");
        assert!(
            earliest_intercept(
                InterceptorKind::Pac3,
                &site,
                &ELL,
                &samples,
                i.latest_launch_s + 1.0
            )
            .is_err()
        );
        // Launching 5 s later moves the intercept later and closer.
        let j = earliest_intercept(InterceptorKind::Pac3, &site, &ELL, &samples, 5.0).unwrap();
        assert!(j.intercept_s > i.intercept_s && j.range_m < i.range_m);
        assert!((j.launch_s - 5.0).abs() < 1e-6);
    }

    #[test]
    fn the_planning_band_keeps_a_margin_inside_the_envelope() {
        let close =
            |a: (f64, f64), b: (f64, f64)| (a.0 - b.0).abs() < 1e-6 && (a.1 - b.1).abs() < 1e-6;
        // SM-6 2-34 km: 15% of 32 km = 4.8 km; THAAD 40-150 km: 15% is 16.5 km, capped at 5 km.
        assert!(close(
            planning_band(InterceptorKind::Sm6),
            (6_800.0, 29_200.0)
        ));
        assert!(close(
            planning_band(InterceptorKind::Thaad),
            (45_000.0, 145_000.0)
        ));
        // Planned in the narrower band, the PAC-3 intercept of the dive is lower.
        let (site, samples) = dive(60_000.0, 50_000.0, 2_000.0, 40.0, 80);
        let full = earliest_intercept(InterceptorKind::Pac3, &site, &ELL, &samples, 0.0).unwrap();
        let band = planning_band(InterceptorKind::Pac3);
        let planned =
            earliest_intercept_in(InterceptorKind::Pac3, band, &site, &ELL, &samples, 0.0).unwrap();
        assert!(planned.altitude_m <= band.1 + 1e-6 && planned.intercept_s > full.intercept_s);
        let nan = (f64::NAN, 1.0);
        assert!(
            earliest_intercept_in(InterceptorKind::Pac3, nan, &site, &ELL, &samples, 0.0).is_err()
        );
    }

    #[test]
    fn reasons_when_there_is_no_intercept() {
        let (site, samples) = dive(60_000.0, 50_000.0, 2_000.0, 40.0, 80);
        // THAAD's band starts at 40 km: the path is above it only for its first 7.8 s, before
        // any THAAD can get there.
        assert_eq!(
            earliest_intercept(InterceptorKind::Thaad, &site, &ELL, &samples, 0.0),
            Err(NoIntercept::TooLate)
        );
        // GBI's band starts at 100 km.
        assert_eq!(
            earliest_intercept(InterceptorKind::Gbi, &site, &ELL, &samples, 0.0),
            Err(NoIntercept::OutsideAltitudeBand)
        );
        // A site 500 km away: PAC-3 is out of range.
        let (far, _) = enu(38.0, -118.0);
        assert_eq!(
            earliest_intercept(InterceptorKind::Pac3, &far, &ELL, &samples, 0.0),
            Err(NoIntercept::OutOfRange)
        );
        // Launching at 37 s: the target (2.4 km high, 3.5 km away, falling at 1.3 km/s) is
        // below the 500 m floor of PAC-3 before an interceptor can arrive.
        assert_eq!(
            earliest_intercept(InterceptorKind::Pac3, &site, &ELL, &samples, 37.0),
            Err(NoIntercept::TooLate)
        );
        assert_eq!(
            earliest_intercept(InterceptorKind::Pac3, &site, &ELL, &[], 0.0),
            Err(NoIntercept::NoPrediction)
        );
        let mut bad = samples.clone();
        bad[3].0 = bad[2].0;
        assert!(matches!(
            earliest_intercept(InterceptorKind::Pac3, &site, &ELL, &bad, 0.0),
            Err(NoIntercept::InvalidPrediction(_))
        ));
        bad[3] = (1.6, Vector3::new(f64::NAN, 0.0, 0.0));
        assert!(matches!(
            earliest_intercept(InterceptorKind::Pac3, &site, &ELL, &bad, 0.0),
            Err(NoIntercept::InvalidPrediction(_))
        ));
    }

    /// Slant range and time at which an unguided 45-degree flight first reaches `frac` of the
    /// type's maximum range (None if it never does).
    fn flown(kind: InterceptorKind, frac: f64) -> Option<(f64, f64)> {
        let physics = PhysicsParams::default();
        let (site, [e, _, u]) = enu(33.0, -118.0);
        let dir = (e + u) / crate::earth::sqrt(2.0);
        let mut f = InterceptorFlight::launch(kind, PnLaw::True, site, dir).ok()?;
        let far = PosVel {
            r_m: -site,
            v_m_s: Vector3::zeros(),
        };
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let goal = frac * kind.params().max_range_m;
        while !f.is_over() {
            f.step(0.5, &physics, None, &far, &mut rng).ok()?;
            let d = (f.state.r_m - site).length();
            if d >= goal {
                return Some((d, f.t_s));
            }
        }
        None
    }

    #[test]
    fn flyout_model_error_against_the_flight_model() {
        // The figures of docs/interceptors.md: relative error of t_fly at 25% and 50% of the
        // maximum range against an unguided 45-degree flight (0.5 s resolution).
        for kind in InterceptorKind::ALL {
            let m = FlyoutModel::of(kind);
            for frac in [0.25, 0.5] {
                let (d, t) = flown(kind, frac).unwrap();
                let err = (m.time_s(d) - t) / t;
                assert!(err.abs() < 0.15, "{kind} at {frac}: {err}");
            }
        }
        let m = FlyoutModel::of(InterceptorKind::Sm6);
        assert!((m.time_s(240_000.0) - 240_000.0 / 900.0).abs() < 1e-9);
        assert!(m.time_s(0.0) == 0.0 && m.time_s(100.0) > 0.0);
    }

    #[test]
    fn only_batteries_with_the_threat_in_their_envelope_get_an_option_and_fire() {
        use crate::engagement::wta::{self, BatteryState, Doctrine, Threat};
        let (_, samples) = dive(60_000.0, 50_000.0, 2_000.0, 40.0, 80);
        let bat = |id: u32, lat: f64, kind| Battery {
            id,
            call_sign: format!("B{id}"),
            position: GeoPoint::new(lat, -118.0),
            kind,
            rounds: 8,
            launchers: 4,
            reload_s: 600.0,
            ready: true,
        };
        let batteries = [
            bat(1, 33.0, InterceptorKind::Pac3),
            bat(2, 38.0, InterceptorKind::Pac3),
            Battery {
                ready: false,
                ..bat(3, 33.0, InterceptorKind::Sm6)
            },
        ];
        let preds = [ThreatPrediction {
            threat: 7,
            samples: &samples,
            altitudes_m: None,
        }];
        let (opts, none) = engagement_options(&batteries, &preds, &ELL, 0.0);
        assert_eq!(opts.len(), 1);
        assert_eq!((opts[0].battery, opts[0].pk), (1, 0.8));
        assert_eq!(none, vec![(7, 2, NoIntercept::OutOfRange)]);
        // Altitudes kept with the samples give the same answer; a list of another length is
        // refused, not indexed past its end.
        let alts: Vec<f64> = samples.iter().map(|(_, r)| ELL.altitude_m(r)).collect();
        let kept = [ThreatPrediction {
            altitudes_m: Some(&alts),
            ..preds[0]
        }];
        assert_eq!(
            engagement_options(&batteries, &kept, &ELL, 0.0),
            (opts.clone(), none.clone())
        );
        let short = [ThreatPrediction {
            altitudes_m: Some(&alts[1..]),
            ..preds[0]
        }];
        let (opts_short, none_short) = engagement_options(&batteries, &short, &ELL, 0.0);
        assert!(opts_short.is_empty());
        assert!(matches!(
            none_short[0],
            (7, 1, NoIntercept::InvalidPrediction(_))
        ));
        let states: Vec<BatteryState> = batteries
            .iter()
            .map(|b| BatteryState {
                id: b.id,
                rounds: b.rounds,
                launchers_ready: b.launchers,
                ready_s: 0.0,
            })
            .collect();
        let threat = Threat {
            id: 7,
            value: 1.0,
            time_to_go_s: 38.0,
            survival: 1.0,
        };
        let a = wta::assign(&Doctrine::default(), &[threat], &states, &opts).unwrap();
        assert_eq!(a.decisions.len(), 1);
        assert_eq!(a.decisions[0].battery, 1);
    }
}
