//! What the map draws of radars and tracks: each radar's coverage footprint against a target at
//! a chosen altitude, the 95% ground ellipse of a predicted impact, and destination points on
//! the sphere.
//!
//! **Footprint.** The ground distance out to which a radar at height `h_r` sees a target at
//! height `h_t` is the smallest of:
//! - the radar horizon over the 4/3 effective Earth: `k R (theta_r + theta_t)` with
//!   `theta_h = atan(sqrt(2 k R h + h^2) / (k R))` (Skolnik, *Introduction to Radar Systems*,
//!   3rd ed., sec. 8; the same test as [`sim_core::radar::HorizonParams::line_of_sight`]);
//! - the detection range of a 1 m^2 target at Pd = 0.5 per look (steady target, North's
//!   approximation: [`sim_core::radar::catalog::detection_range_m`]) and the instrumented
//!   range, both slant ranges turned into ground distance on the sphere of radius `R` by the
//!   law of cosines: `cos(d / R) = ((R+h_r)^2 + (R+h_t)^2 - s^2) / (2 (R+h_r)(R+h_t))`;
//! - the lowest elevation searched: the largest `d` whose refracted elevation
//!   ([`sim_core::radar::HorizonParams::effective_elevation_rad`]) is still above it.
//!
//! The highest elevation searched leaves a hole near the radar (inner radius). Over the smooth
//! Earth these distances do not depend on azimuth, so the footprint is an annular sector
//! between the sector edges `boresight +- half-width` (a full ring at 180 degrees).
//!
//! Invariants: pure functions, no DOM (tested natively); bad input gives an empty outline,
//! never a panic.

use sim_core::earth::{EarthParams, GeoPoint};
use sim_core::radar::catalog::detection_range_m;
use sim_core::radar::{RadarSite, Swerling, horizon_params};

/// RCS of the reference target of the drawn coverage (m^2).
pub const COVERAGE_RCS_M2: f64 = 1.0;
/// Per-look detection probability at the edge of the drawn coverage.
pub const COVERAGE_PD: f64 = 0.5;
/// Target altitude of the drawn coverage when none is chosen (m).
pub const DEFAULT_COVERAGE_ALT_M: f64 = 30_000.0;
/// Highest target altitude accepted for the drawn coverage (m).
pub const MAX_COVERAGE_ALT_M: f64 = 2_000_000.0;
/// Points along a full circle of the outline.
const CIRCLE_POINTS: usize = 180;

/// What limits a footprint's outer edge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    /// The Earth's curvature (4/3 effective radius).
    Horizon,
    /// The range equation for a 1 m^2 target.
    Detection,
    /// The instrumented range.
    Instrumented,
    /// The lowest elevation searched.
    Elevation,
}

impl Limit {
    /// Short name (shown and used as a `data-` attribute).
    pub fn name(self) -> &'static str {
        match self {
            Limit::Horizon => "horizon",
            Limit::Detection => "detection",
            Limit::Instrumented => "instrumented",
            Limit::Elevation => "elevation",
        }
    }
}

/// A radar's coverage on the ground against a target at one altitude.
#[derive(Clone, Debug, PartialEq)]
pub struct Footprint {
    /// Outer ground distance (m).
    pub outer_m: f64,
    /// Inner ground distance, from the highest elevation searched (m).
    pub inner_m: f64,
    /// What sets the outer distance.
    pub limit: Limit,
    /// Closed outline (longitudes unwrapped along it); empty when nothing is covered.
    pub outline: Vec<GeoPoint>,
    /// The two sector edges (site to outer edge), empty for all-round coverage.
    pub edges: Vec<[GeoPoint; 2]>,
    /// Radius of the sphere the distances are measured on (m).
    pub sphere_radius_m: f64,
}

impl Footprint {
    /// Whether `p` is inside this footprint of `site`: its ground distance from the site
    /// between the inner and outer distances and its bearing within the sector. Tells a
    /// filled area on the globe which side of its outline is inside
    /// ([`crate::launch::svg_area`]).
    pub fn covers(&self, site: &RadarSite, p: &GeoPoint) -> bool {
        use sim_core::earth::frames::{great_circle_distance_m, initial_bearing_rad};
        if self.outline.is_empty() || p.validate().is_err() {
            return false;
        }
        let d = great_circle_distance_m(&site.position, p, self.sphere_radius_m);
        if !(d > self.inner_m && d < self.outer_m) {
            return false;
        }
        if site.sector_half_width_deg >= 180.0 {
            return true;
        }
        let bearing = initial_bearing_rad(&site.position, p).to_degrees();
        crate::view::wrap_lon(bearing - site.boresight_az_deg).abs() <= site.sector_half_width_deg
    }
}

/// Ground distance (m, on a sphere of radius `r_m`) between points at heights `h1_m`, `h2_m`
/// whose straight-line distance is `slant_m` (law of cosines); `None` when no such geometry.
pub fn slant_to_ground_m(slant_m: f64, h1_m: f64, h2_m: f64, r_m: f64) -> Option<f64> {
    let (a, b) = (r_m + h1_m, r_m + h2_m);
    if !(slant_m.is_finite() && a > 0.0 && b > 0.0) || slant_m < (a - b).abs() {
        return None;
    }
    let c = ((a * a + b * b - slant_m * slant_m) / (2.0 * a * b)).clamp(-1.0, 1.0);
    Some(r_m * c.acos())
}

/// The point `dist_m` from `from` along initial bearing `bearing_rad` (clockwise from north)
/// on a sphere of radius `r_m` (the direct great-circle problem).
pub fn destination(from: &GeoPoint, bearing_rad: f64, dist_m: f64, r_m: f64) -> GeoPoint {
    let d = dist_m / r_m;
    let lat1 = from.lat_deg.to_radians();
    let (sin_lat1, cos_lat1) = lat1.sin_cos();
    let (sin_d, cos_d) = d.sin_cos();
    let sin_lat2 = (sin_lat1 * cos_d + cos_lat1 * sin_d * bearing_rad.cos()).clamp(-1.0, 1.0);
    let dlon = (bearing_rad.sin() * sin_d * cos_lat1).atan2(cos_d - sin_lat1 * sin_lat2);
    GeoPoint::new(
        sin_lat2.asin().to_degrees(),
        from.lon_deg + dlon.to_degrees(),
    )
}

/// Largest `x` in `[lo, hi]` with `ok(x)`, given `ok(lo)` and `ok` true then false (bisection
/// to a metre).
fn last_true(mut lo: f64, mut hi: f64, ok: impl Fn(f64) -> bool) -> f64 {
    if ok(hi) {
        return hi;
    }
    while hi - lo > 1.0 {
        let mid = 0.5 * (lo + hi);
        if ok(mid) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    lo
}

/// The coverage of `site` against a target at `target_alt_m` (see the module documentation).
pub fn footprint(site: &RadarSite, earth: &EarthParams, target_alt_m: f64) -> Footprint {
    let empty = |limit| Footprint {
        outer_m: 0.0,
        inner_m: 0.0,
        limit,
        outline: Vec::new(),
        edges: Vec::new(),
        sphere_radius_m: earth.range_radius_m(),
    };
    if site.validate().is_err() || !target_alt_m.is_finite() || target_alt_m < 0.0 {
        return empty(Limit::Horizon);
    }
    let alt = target_alt_m.min(MAX_COVERAGE_ALT_M);
    let h = horizon_params(earth);
    let r = h.earth_radius_m;
    let hr = site.height_m;
    let params = site.params();
    let mut limits = vec![(
        h.effective_radius_m() * (h.horizon_angle_rad(hr) + h.horizon_angle_rad(alt)),
        Limit::Horizon,
    )];
    let det = detection_range_m(params, COVERAGE_RCS_M2, COVERAGE_PD, Swerling::Swerling0);
    for (slant, limit) in [
        (det, Limit::Detection),
        (params.max_instrumented_range_m, Limit::Instrumented),
    ] {
        match slant_to_ground_m(slant, hr, alt, r) {
            Some(d) => limits.push((d, limit)),
            None => return empty(limit),
        }
    }
    let (mut outer, mut limit) =
        limits
            .iter()
            .copied()
            .fold((f64::INFINITY, Limit::Horizon), |a, b| {
                if b.0 < a.0 { b } else { a }
            });
    outer = outer.min(std::f64::consts::PI * r * 0.999);
    let el_deg = |d: f64| h.effective_elevation_rad(hr, alt, d).to_degrees();
    // Elevation falls with distance: the lowest elevation cuts the far edge, the highest
    // leaves a hole near the radar.
    if el_deg(1.0) < site.min_el_deg {
        return empty(Limit::Elevation);
    }
    let el_edge = last_true(1.0, outer, |d| el_deg(d) >= site.min_el_deg);
    if el_edge < outer {
        outer = el_edge;
        limit = Limit::Elevation;
    }
    let inner = if el_deg(1.0) <= site.max_el_deg {
        0.0
    } else {
        last_true(1.0, outer, |d| el_deg(d) > site.max_el_deg)
    };
    if inner >= outer {
        return empty(limit);
    }
    let half = site.sector_half_width_deg;
    let full = half >= 180.0;
    let (a0, a1) = if full {
        (0.0, 360.0)
    } else {
        (site.boresight_az_deg - half, site.boresight_az_deg + half)
    };
    let n = ((CIRCLE_POINTS as f64 * (a1 - a0) / 360.0).ceil() as usize).max(2);
    let at = |az_deg: f64, d: f64| destination(&site.position, az_deg.to_radians(), d, r);
    let mut outline: Vec<GeoPoint> = (0..=n)
        .map(|i| at(a0 + (a1 - a0) * i as f64 / n as f64, outer))
        .collect();
    if inner > 0.0 {
        outline.extend(
            (0..=n)
                .rev()
                .map(|i| at(a0 + (a1 - a0) * i as f64 / n as f64, inner)),
        );
    } else if !full {
        outline.push(site.position);
    }
    if let Some(first) = outline.first().copied() {
        outline.push(first);
    }
    unwrap_lons(&mut outline, site.position.lon_deg);
    let edges = if full {
        Vec::new()
    } else {
        [a0, a1]
            .iter()
            .map(|&az| {
                let mut e = [at(az, inner), at(az, outer)];
                let mut v = e.to_vec();
                unwrap_lons(&mut v, site.position.lon_deg);
                e.copy_from_slice(&v);
                e
            })
            .collect()
    };
    Footprint {
        outer_m: outer,
        inner_m: inner,
        limit,
        outline,
        edges,
        sphere_radius_m: r,
    }
}

/// Makes longitudes continuous along `points`, the first one nearest `reference_lon_deg`.
fn unwrap_lons(points: &mut [GeoPoint], reference_lon_deg: f64) {
    let mut prev = reference_lon_deg;
    for p in points.iter_mut() {
        p.lon_deg = prev + crate::view::wrap_lon(p.lon_deg - prev);
        prev = p.lon_deg;
    }
}

/// A closed outline of `n` points of the ground ellipse centred on `at` with semi-axes
/// `semi_major_m`, `semi_minor_m` (m), the major axis `orientation_deg` clockwise from north:
/// each point `(a cos t, b sin t)` in the ellipse's axes is turned into a bearing and distance
/// from the centre and placed with [`destination`] on the sphere of radius `r_m`.
pub fn ellipse(
    at: &GeoPoint,
    semi_major_m: f64,
    semi_minor_m: f64,
    orientation_deg: f64,
    r_m: f64,
    n: usize,
) -> Vec<GeoPoint> {
    let ok = |x: f64| x.is_finite() && x >= 0.0;
    if !(ok(semi_major_m) && ok(semi_minor_m) && orientation_deg.is_finite() && r_m > 0.0)
        || at.validate().is_err()
    {
        return Vec::new();
    }
    let n = n.clamp(8, 720);
    let th = orientation_deg.to_radians();
    let (s, c) = th.sin_cos();
    let mut pts: Vec<GeoPoint> = (0..=n)
        .map(|i| {
            let t = std::f64::consts::TAU * (i % n) as f64 / n as f64;
            let (u, v) = (semi_major_m * t.cos(), semi_minor_m * t.sin());
            // Major axis along the bearing th, minor axis 90 degrees clockwise of it.
            let north = u * c - v * s;
            let east = u * s + v * c;
            destination(at, east.atan2(north), north.hypot(east), r_m)
        })
        .collect();
    unwrap_lons(&mut pts, at.lon_deg);
    pts
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::earth::frames::{great_circle_distance_m, initial_bearing_rad};
    use sim_core::radar::{RadarId, RadarKind};

    fn site(kind: RadarKind, height_m: f64, half: f64) -> RadarSite {
        let mut s = kind.site(
            RadarId(1),
            "T",
            GeoPoint::new(34.0, -120.0),
            height_m,
            300.0,
        );
        s.sector_half_width_deg = half;
        s
    }

    #[test]
    fn a_low_target_is_limited_by_the_four_thirds_horizon() {
        let earth = EarthParams::default();
        let mut s = site(RadarKind::AnTpy2, 10.0, 60.0);
        // With the class's 0 degree floor, the elevation limit cuts just inside the horizon
        // (the grazing ray dips below the radar's horizontal).
        let floored = footprint(&s, &earth, 10_000.0);
        assert_eq!(floored.limit, Limit::Elevation);
        s.min_el_deg = -5.0;
        let f = footprint(&s, &earth, 10_000.0);
        assert!(floored.outer_m < f.outer_m && floored.outer_m > 0.95 * f.outer_m);
        // 4.12 km (sqrt(10) + sqrt(10,000)) = 425 km (Skolnik's rule of thumb).
        assert_eq!(f.limit, Limit::Horizon);
        assert!((f.outer_m - 425_000.0).abs() < 3_000.0, "{}", f.outer_m);
        // The engine's own test agrees just inside and just outside.
        let h = horizon_params(&earth);
        assert!(h.line_of_sight(10.0, 10_000.0, f.outer_m - 10.0));
        assert!(!h.line_of_sight(10.0, 10_000.0, f.outer_m + 10.0));
        // Every outline point is within the sector or at the site.
        for p in &f.outline {
            let d = great_circle_distance_m(&s.position, p, earth.range_radius_m());
            if d < 1.0 {
                continue;
            }
            assert!((d - f.outer_m).abs() < 1.0, "{d}");
            let az = initial_bearing_rad(&s.position, p).to_degrees();
            let off = (az - 300.0 + 540.0).rem_euclid(360.0) - 180.0;
            assert!(off.abs() <= 60.0 + 1e-6, "{off}");
        }
        assert_eq!(f.edges.len(), 2);
    }

    #[test]
    fn a_high_target_is_limited_by_the_detection_range() {
        let earth = EarthParams::default();
        let s = site(RadarKind::AnMpq65, 10.0, 180.0);
        let f = footprint(&s, &earth, 20_000.0);
        let det = detection_range_m(s.params(), 1.0, 0.5, Swerling::Swerling0);
        let ground = slant_to_ground_m(det, 10.0, 20_000.0, earth.range_radius_m()).unwrap();
        assert!(f.outer_m <= ground + 1.0, "{} {ground}", f.outer_m);
        assert_ne!(f.limit, Limit::Horizon, "{f:?}");
        // All-round: no edges, a closed ring.
        assert!(f.edges.is_empty());
        assert_eq!(f.outline.first(), f.outline.last());
    }

    #[test]
    fn slant_to_ground_matches_flat_earth_for_short_distances() {
        let d = slant_to_ground_m(50_000.0, 0.0, 0.0, 6_371_000.0).unwrap();
        assert!((d - 50_000.0).abs() < 1.0, "{d}");
        assert!(slant_to_ground_m(5_000.0, 0.0, 10_000.0, 6_371_000.0).is_none());
        assert!(slant_to_ground_m(f64::NAN, 0.0, 0.0, 6_371_000.0).is_none());
    }

    #[test]
    fn bad_input_gives_an_empty_footprint() {
        let earth = EarthParams::default();
        let mut s = site(RadarKind::AnTpy2, 10.0, 60.0);
        assert!(footprint(&s, &earth, f64::NAN).outline.is_empty());
        assert!(footprint(&s, &earth, -5.0).outline.is_empty());
        s.position = GeoPoint::new(f64::NAN, 0.0);
        assert!(footprint(&s, &earth, 10_000.0).outline.is_empty());
    }

    #[test]
    fn ellipse_axes_point_where_asked() {
        let at = GeoPoint::new(34.0, -118.0);
        let r = 6_371_008.8;
        let pts = ellipse(&at, 20_000.0, 5_000.0, 30.0, r, 72);
        assert_eq!(pts.len(), 73);
        // t = 0 is the end of the major axis, on bearing 30 deg.
        let d0 = great_circle_distance_m(&at, &pts[0], r);
        assert!((d0 - 20_000.0).abs() < 1.0, "{d0}");
        let b0 = initial_bearing_rad(&at, &pts[0]).to_degrees();
        assert!((b0 - 30.0).abs() < 1e-6, "{b0}");
        // t = 90 deg is the end of the minor axis, 90 degrees clockwise.
        let d1 = great_circle_distance_m(&at, &pts[18], r);
        assert!((d1 - 5_000.0).abs() < 1.0, "{d1}");
        let b1 = initial_bearing_rad(&at, &pts[18]).to_degrees();
        assert!((b1 - 120.0).abs() < 1e-6, "{b1}");
        assert!(ellipse(&at, f64::NAN, 1.0, 0.0, r, 10).is_empty());
    }
}
