//! The click-to-launch tool: its settings (missile class, profile, salvo), the quick range
//! check shown while the pointer moves, the maximum-range ring, and the salvo commands built
//! from one targeting solution.
//!
//! The range check repeats `sim_core::targeting::solve`'s own first test (great-circle distance
//! on the same sphere against the catalog's minimum and maximum range) and builds the same
//! [`TargetingError`], so the reason shown at the cursor is word for word the one a launch
//! would give. The full solve (hundreds of milliseconds in wasm) runs once, on the click.
//!
//! Invariants: pure Rust over `sim-core` types (tested natively); every input is validated and
//! a bad one is an error value, never a panic.

use sim_core::MissileKind;
use sim_core::earth::GeoPoint;
use sim_core::earth::frames::great_circle_distance_m;
use sim_core::engine::{Command, LaunchCommand};
use sim_core::flight::PhysicsParams;
use sim_core::targeting::{self, Profile, TargetingError, TargetingRequest};

use crate::playback::TICK_S;

/// Largest salvo.
pub const MAX_SALVO: u32 = 1000;
/// Longest spacing between salvo rounds (s).
pub const MAX_SPACING_S: f64 = 600.0;
/// The profiles offered, in menu order.
pub const PROFILES: [Profile; 3] = [Profile::MinEnergy, Profile::Lofted, Profile::Depressed];

/// What the tool launches.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LaunchSettings {
    /// Missile class.
    pub kind: MissileKind,
    /// Trajectory profile.
    pub profile: Profile,
    /// Rounds in the salvo (1 = a single launch).
    pub count: u32,
    /// Time between rounds (s).
    pub spacing_s: f64,
}

impl Default for LaunchSettings {
    fn default() -> Self {
        LaunchSettings {
            kind: MissileKind::ScudC,
            profile: Profile::MinEnergy,
            count: 1,
            spacing_s: 5.0,
        }
    }
}

impl LaunchSettings {
    /// Checks the salvo figures; the error is one sentence.
    pub fn validate(&self) -> Result<(), String> {
        if !(1..=MAX_SALVO).contains(&self.count) {
            return Err(format!(
                "a salvo has 1 to {MAX_SALVO} rounds, not {}",
                self.count
            ));
        }
        if !(self.spacing_s.is_finite() && (0.0..=MAX_SPACING_S).contains(&self.spacing_s)) {
            return Err(format!(
                "salvo spacing must be between 0 and {MAX_SPACING_S} s, not {}",
                self.spacing_s
            ));
        }
        Ok(())
    }
}

/// Where the tool is in its two clicks.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LaunchStage {
    /// The next click places the launch site.
    PickSite,
    /// The next click chooses the target of a launch from `site`.
    PickTarget {
        /// The launch site.
        site: GeoPoint,
    },
}

/// The quick check of a target while the pointer moves: the distance (m) when it is within
/// the class's reach, otherwise the very error the solver would return.
pub fn precheck(
    kind: MissileKind,
    from: &GeoPoint,
    to: &GeoPoint,
    physics: &PhysicsParams,
) -> Result<f64, TargetingError> {
    for p in [from, to] {
        p.validate()
            .map_err(|message| TargetingError::InvalidInput { message })?;
    }
    let t = kind.params();
    let distance_m = great_circle_distance_m(from, to, physics.earth.range_radius_m());
    if distance_m > t.max_range_m {
        Err(TargetingError::OutOfRange {
            kind,
            distance_m,
            max_range_m: t.max_range_m,
        })
    } else if distance_m < t.min_range_m {
        Err(TargetingError::TooClose {
            kind,
            distance_m,
            min_range_m: t.min_range_m,
        })
    } else {
        Ok(distance_m)
    }
}

/// Solves the launch once and returns the salvo's commands with their ticks: round `i` at
/// `start_tick + round(i * spacing / TICK_S)`, every round flying the same solved guidance
/// (a flight relative to the Earth does not depend on its launch time, see
/// `sim_core::flight`), so the engine flies each instead of solving it again.
pub fn salvo(
    settings: &LaunchSettings,
    from: GeoPoint,
    to: GeoPoint,
    physics: &PhysicsParams,
    start_tick: u64,
) -> Result<Vec<(u64, Command)>, String> {
    settings.validate()?;
    let req = TargetingRequest {
        kind: settings.kind,
        from,
        to,
        profile: settings.profile,
    };
    let solution = targeting::solve(&req, physics).map_err(|e| e.to_string())?;
    let n = settings.count;
    Ok((0..n)
        .map(|i| {
            let offset = (f64::from(i) * settings.spacing_s / TICK_S).round() as u64;
            let label = (n > 1).then(|| format!("salvo {}/{n}", i + 1));
            (
                start_tick + offset,
                Command::Launch(LaunchCommand {
                    missile: settings.kind,
                    from,
                    to,
                    profile: settings.profile,
                    label,
                    guidance: Some(solution.guidance),
                }),
            )
        })
        .collect())
}

/// The command that logs a refused click-to-launch: the launch without guidance, which the
/// engine refuses for the very reason [`salvo`] gave (its `launch-rejected` event, as for a
/// scenario's launch out of reach). One command however large the salvo: one refusal. Only for
/// valid settings (the refusal is the target's, not the salvo's).
pub fn refused_launch(settings: &LaunchSettings, from: GeoPoint, to: GeoPoint) -> Command {
    Command::Launch(LaunchCommand {
        missile: settings.kind,
        from,
        to,
        profile: settings.profile,
        label: None,
        guidance: None,
    })
}

/// Points of the circle of `radius_m` around `centre` on a sphere of `sphere_radius_m`
/// (the destination-point formula of spherical trigonometry: Williams, *Aviation Formulary*;
/// `lat2 = asin(sin lat1 cos d + cos lat1 sin d cos b)`, `lon2 = lon1 + atan2(sin b sin d cos
/// lat1, cos d - sin lat1 sin lat2)`, with `d` the angular radius and `b` the bearing).
/// `n` bearings from north, clockwise, closed (the first point is repeated at the end).
/// Longitudes are unwrapped along the ring, so it draws without a seam; a ring that encloses
/// a pole spans 360 degrees of longitude, and two points on that pole are appended so that
/// the ring, filled, covers the polar cap (on the map, the band up to the pole's edge).
pub fn range_ring(
    centre: &GeoPoint,
    radius_m: f64,
    sphere_radius_m: f64,
    n: usize,
) -> Vec<GeoPoint> {
    let n = n.clamp(8, 4096);
    if !(radius_m.is_finite() && radius_m > 0.0 && sphere_radius_m > 0.0)
        || centre.validate().is_err()
    {
        return Vec::new();
    }
    let d = (radius_m / sphere_radius_m).min(std::f64::consts::PI);
    let lat1 = centre.lat_deg.to_radians();
    let (sin_lat1, cos_lat1) = lat1.sin_cos();
    let (sin_d, cos_d) = d.sin_cos();
    let mut out: Vec<GeoPoint> = Vec::with_capacity(n + 1);
    for i in 0..=n {
        let b = std::f64::consts::TAU * (i % n) as f64 / n as f64;
        let sin_lat2 = (sin_lat1 * cos_d + cos_lat1 * sin_d * b.cos()).clamp(-1.0, 1.0);
        let lat2 = sin_lat2.asin();
        let dlon = (b.sin() * sin_d * cos_lat1).atan2(cos_d - sin_lat1 * sin_lat2);
        let raw = centre.lon_deg + dlon.to_degrees();
        let lon = match out.last() {
            Some(prev) => prev.lon_deg + crate::view::wrap_lon(raw - prev.lon_deg),
            None => raw,
        };
        out.push(GeoPoint::new(lat2.to_degrees(), lon));
    }
    if let (Some(first), Some(last)) = (out.first().copied(), out.last().copied())
        && (last.lon_deg - first.lon_deg).abs() > 180.0
    {
        // The pole inside the circle: the one nearer the centre than the radius.
        let pole = if (90.0 - centre.lat_deg).to_radians() < d {
            90.0
        } else {
            -90.0
        };
        out.push(GeoPoint::new(pole, last.lon_deg));
        out.push(GeoPoint::new(pole, first.lon_deg));
    }
    out
}

/// An SVG path (`d` attribute) of a polyline in unwrapped longitudes: on the flat map drawn
/// once per world copy in sight so that it shows wherever the map is panned; on the globe
/// along great circles, clipped at the horizon (see [`crate::view::Viewport::trace`]).
pub fn svg_path(view: &crate::view::Viewport, points: &[GeoPoint]) -> String {
    use crate::view::PenOp;
    use std::fmt::Write as _;
    let mut d = String::new();
    view.trace(points, &mut |op| {
        let (c, s) = match op {
            PenOp::MoveTo(s) => ('M', s),
            PenOp::LineTo(s) => ('L', s),
        };
        let _ = write!(d, "{c}{:.1} {:.1}", s.x, s.y);
    });
    d
}

/// SVG path data that fills the area inside the closed ring `points` (the ring of a circle,
/// a radar's coverage, ...; `inside` tells whether a point is inside the area). On the flat
/// map that is the ring traced as [`svg_path`] does (each world copy a closed piece). On the
/// globe a line traced up to the horizon and filled would be closed by a chord across the
/// disc; instead the ring goes through [`crate::view::Viewport::globe_ring`], whose hidden
/// part follows the limb, so the fill stops exactly at the horizon. When the area holds the
/// point opposite the view's centre and not the centre itself (or, for an area larger than a
/// hemisphere, the centre with the ring not winding round it), what is seen of it is the disc
/// outside the ring: the whole disc is added as a second piece, filled with the even-odd
/// rule; an area seen whole without its outline (an outline all behind the globe round an
/// area that holds the centre) is the whole disc. Fill with `fill-rule: evenodd`.
pub fn svg_area(
    view: &crate::view::Viewport,
    points: &[GeoPoint],
    inside: impl Fn(&GeoPoint) -> bool,
) -> String {
    use std::fmt::Write as _;
    if view.projection != crate::view::Projection::Globe {
        return svg_path(view, points);
    }
    let ring = points;
    let centre_inside = inside(&GeoPoint::new(view.center_lat_deg, view.center_lon_deg));
    let mut out = Vec::new();
    let mut d = String::new();
    let winding = view.globe_ring(ring, &mut out);
    if let Some((first, rest)) = out.split_first() {
        let _ = write!(d, "M{:.1} {:.1}", first.x, first.y);
        for p in rest {
            let _ = write!(d, "L{:.1} {:.1}", p.x, p.y);
        }
        d.push('Z');
    }
    let whole_disc = match winding {
        Some(w) => centre_inside != (w != 0),
        None => centre_inside && points.len() >= 3,
    };
    if whole_disc {
        let (cx, cy, r) = (
            view.width_px / 2.0,
            view.height_px / 2.0,
            view.globe_radius_px(),
        );
        let _ = write!(
            d,
            "M{:.1} {cy:.1}A{r:.1} {r:.1} 0 1 0 {:.1} {cy:.1}A{r:.1} {r:.1} 0 1 0 {:.1} {cy:.1}Z",
            cx + r,
            cx - r,
            cx + r
        );
    }
    d
}

/// Whether `p` is within `radius_m` of `centre` on a sphere of `sphere_radius_m` (the inside of
/// a [`range_ring`], for [`svg_area`]).
pub fn within(centre: &GeoPoint, radius_m: f64, sphere_radius_m: f64, p: &GeoPoint) -> bool {
    great_circle_distance_m(centre, p, sphere_radius_m) < radius_m
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::earth::frames::initial_bearing_rad;

    const LAUNCH: GeoPoint = GeoPoint::new(36.5, -123.1);
    const LA: GeoPoint = GeoPoint::new(34.05, -118.25);
    const ATLANTA: GeoPoint = GeoPoint::new(33.749, -84.388);

    #[test]
    fn precheck_gives_the_solvers_own_refusal() {
        let physics = PhysicsParams::default();
        let near = GeoPoint::new(36.7, -123.0); // about 24 km: inside the minimum range
        for (kind, to) in [(MissileKind::ScudC, ATLANTA), (MissileKind::Nodong, near)] {
            let quick = precheck(kind, &LAUNCH, &to, &physics).expect_err("refused");
            assert!(matches!(
                quick,
                TargetingError::OutOfRange { .. } | TargetingError::TooClose { .. }
            ));
            let req = TargetingRequest {
                kind,
                from: LAUNCH,
                to,
                profile: Profile::MinEnergy,
            };
            let full = targeting::solve(&req, &physics).expect_err("refused");
            assert_eq!(quick, full);
            assert_eq!(quick.to_string(), full.to_string());
        }
        let d = precheck(MissileKind::ScudC, &LAUNCH, &LA, &physics).expect("in range");
        assert!((d - 510_000.0).abs() < 20_000.0, "{d}");
        let far = precheck(MissileKind::ScudC, &LAUNCH, &ATLANTA, &physics).unwrap_err();
        assert!(
            far.to_string()
                .contains("beyond the SCUD-C maximum range of 527 km")
        );
        let bad = precheck(
            MissileKind::ScudC,
            &LAUNCH,
            &GeoPoint::new(f64::NAN, 0.0),
            &physics,
        );
        assert!(matches!(bad, Err(TargetingError::InvalidInput { .. })));
    }

    #[test]
    fn range_ring_points_are_at_the_radius_and_bearing() {
        let r = 527_000.0;
        let sphere = sim_core::earth::MEAN_RADIUS_M;
        let ring = range_ring(&LAUNCH, r, sphere, 72);
        assert_eq!(ring.len(), 73);
        assert_eq!(ring[0], ring[72]);
        for (i, p) in ring.iter().take(72).enumerate() {
            let wrapped = GeoPoint::new(p.lat_deg, crate::view::wrap_lon(p.lon_deg));
            let d = great_circle_distance_m(&LAUNCH, &wrapped, sphere);
            assert!((d - r).abs() < 0.01, "point {i}: {d}");
            let b = initial_bearing_rad(&LAUNCH, &wrapped).to_degrees();
            let expected = 5.0 * i as f64;
            let diff = (b - expected + 540.0).rem_euclid(360.0) - 180.0;
            assert!(diff.abs() < 1e-6, "point {i}: bearing {b} vs {expected}");
        }
    }

    #[test]
    fn a_ring_around_the_pole_unwraps_through_360_degrees() {
        let ring = range_ring(&LAUNCH, 12_496_600.0, sim_core::earth::MEAN_RADIUS_M, 360);
        assert_eq!(ring.len(), 361 + 2);
        let circle = &ring[..361];
        let span = circle[360].lon_deg - circle[0].lon_deg;
        assert!((span.abs() - 360.0).abs() < 1e-6, "{span}");
        // Consecutive points never jump across the map.
        assert!(
            circle
                .windows(2)
                .all(|w| (w[1].lon_deg - w[0].lon_deg).abs() < 30.0)
        );
        // Closed over the north pole, which lies inside (36.5N: 53.5 deg from the pole).
        assert_eq!(ring[361], GeoPoint::new(90.0, circle[360].lon_deg));
        assert_eq!(ring[362], GeoPoint::new(90.0, circle[0].lon_deg));
        // A ring that holds no pole is only the circle.
        assert_eq!(range_ring(&LAUNCH, 527_000.0, 6_371_000.0, 360).len(), 361);
        assert!(range_ring(&LAUNCH, f64::NAN, 1.0, 10).is_empty());
    }

    #[test]
    fn the_ring_path_goes_through_the_projected_points() {
        let view = crate::view::Viewport::whole_world(1440.0, 720.0);
        let pts = [GeoPoint::new(10.0, 20.0), GeoPoint::new(-5.0, 30.0)];
        let d = svg_path(&view, &pts);
        let s = view.project(crate::view::GeoPoint {
            lat_deg: 10.0,
            lon_deg: 20.0,
        });
        assert!(d.contains(&format!("M{:.1} {:.1}", s.x, s.y)), "{d}");
        assert!(svg_path(&view, &[]).is_empty());
    }

    #[test]
    fn a_salvo_solves_once_and_spaces_its_rounds() {
        let physics = PhysicsParams::default();
        let settings = LaunchSettings {
            count: 3,
            spacing_s: 2.5,
            ..LaunchSettings::default()
        };
        let cmds = salvo(&settings, LAUNCH, LA, &physics, 40).expect("in range");
        let ticks: Vec<u64> = cmds.iter().map(|(t, _)| *t).collect();
        assert_eq!(ticks, vec![40, 65, 90]);
        // Through JSON, so that new command kinds in sim-core do not break this test.
        let guidance: Vec<serde_json::Value> = cmds
            .iter()
            .map(|(_, c)| serde_json::to_value(c).expect("serialises")["guidance"].clone())
            .collect();
        assert!(guidance[0].is_object());
        assert!(guidance.iter().all(|g| *g == guidance[0]));
        let refused = salvo(&settings, LAUNCH, ATLANTA, &physics, 0).unwrap_err();
        assert!(refused.contains("maximum range"), "{refused}");
        // Logged: the engine refuses the unguided launch with the same sentence.
        let mut sim = sim_core::Simulation::new(physics, 1);
        let events = sim.step(&[refused_launch(&settings, LAUNCH, ATLANTA)]);
        let reasons: Vec<&str> = events
            .iter()
            .filter_map(|e| match &e.kind {
                sim_core::engine::EventKind::LaunchRejected { reason, .. } => Some(reason.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(reasons, vec![refused.as_str()]);
        assert!(sim.missiles().is_empty());
        let bad = LaunchSettings {
            count: 0,
            ..settings
        };
        assert!(salvo(&bad, LAUNCH, LA, &physics, 0).is_err());
        let bad = LaunchSettings {
            spacing_s: f64::NAN,
            ..settings
        };
        assert!(bad.validate().is_err());
    }

    /// The pieces of SVG path data as polygons of screen points: a piece drawn with arcs (the
    /// whole disc of [`svg_area`]) becomes the circle of centre `(cx, cy)` and radius `r`.
    fn pieces(d: &str, cx: f64, cy: f64, r: f64) -> Vec<Vec<(f64, f64)>> {
        d.split('M')
            .filter(|p| !p.is_empty())
            .map(|p| {
                if p.contains('A') {
                    return (0..720)
                        .map(|i| {
                            let a = std::f64::consts::TAU * f64::from(i) / 720.0;
                            (cx + r * a.cos(), cy + r * a.sin())
                        })
                        .collect();
                }
                p.trim_end_matches('Z')
                    .split('L')
                    .map(|xy| {
                        let mut it = xy.split(' ').map(|v| v.parse::<f64>().unwrap());
                        (it.next().unwrap(), it.next().unwrap())
                    })
                    .collect()
            })
            .collect()
    }

    /// Even-odd fill: whether `(x, y)` is inside an odd number of the closed pieces' crossings.
    fn filled(pieces: &[Vec<(f64, f64)>], x: f64, y: f64) -> bool {
        let mut odd = false;
        for ring in pieces {
            for (i, &(x1, y1)) in ring.iter().enumerate() {
                let (x0, y0) = ring[(i + ring.len() - 1) % ring.len()];
                if (y0 > y) != (y1 > y) && x < x0 + (y - y0) * (x1 - x0) / (y1 - y0) {
                    odd = !odd;
                }
            }
        }
        odd
    }

    #[test]
    fn filled_areas_on_the_globe_close_along_the_limb() {
        use crate::defense_view::engagement_footprint;
        use crate::radar_view::footprint;
        use crate::view::{Projection, ScreenPoint, Viewport};
        use sim_core::earth::EarthParams;
        use sim_core::interceptor::InterceptorKind;
        use sim_core::radar::{RadarId, RadarKind};

        let earth = EarthParams::default();
        let r_m = earth.range_radius_m();
        let view = Viewport {
            center_lon_deg: 0.0,
            center_lat_deg: 0.0,
            px_per_deg: 2.0,
            width_px: 800.0,
            height_px: 600.0,
            projection: Projection::Globe,
        };
        let (cx, cy, r) = (400.0, 300.0, view.globe_radius_px());
        // The chord between two limb points joined along the limb (5 degree steps), plus the
        // path's 0.1 px rounding.
        let limb_step_px = 2.0 * r * (2.5f64.to_radians()).sin() + 0.3;
        let on_limb = |p: (f64, f64)| ((p.0 - cx).hypot(p.1 - cy) - r).abs() <= 0.15;

        // Near the limb (88E, the limb is at 90E): a GBI battery's engagement footprint
        // (thousands of km) and an early-warning radar's all-round coverage of a target at
        // 500 km, both half behind the globe.
        let gbi_site = GeoPoint::new(10.0, 88.0);
        let gbi = engagement_footprint(InterceptorKind::Gbi, &gbi_site, r_m);
        let mut radar =
            RadarKind::AnFps132.site(RadarId(1), "T", GeoPoint::new(-20.0, 86.0), 30.0, 0.0);
        radar.sector_half_width_deg = 180.0;
        let cover = footprint(&radar, &earth, 500_000.0);
        assert!(cover.outer_m > 2_000_000.0, "{cover:?}");
        type Inside = Box<dyn Fn(&GeoPoint) -> bool>;
        let areas: Vec<(&str, Vec<GeoPoint>, Inside)> = vec![
            (
                "GBI engagement",
                gbi.engage_outline.clone(),
                Box::new(move |p| within(&gbi_site, gbi.engage_m, r_m, p)),
            ),
            (
                "radar coverage",
                cover.outline.clone(),
                Box::new(move |p| cover.covers(&radar, p)),
            ),
        ];
        for (name, ring, inside) in &areas {
            let d = svg_area(&view, ring, inside);
            let ps = pieces(&d, cx, cy, r);
            assert_eq!(ps.len(), 1, "{name}: {d}");
            let pts = &ps[0];
            // Every point on or inside the disc.
            assert!(
                pts.iter().all(|p| (p.0 - cx).hypot(p.1 - cy) <= r + 0.15),
                "{name}"
            );
            // The hidden part follows the limb: many limb points, and no chord between two of
            // them (the closing one included) longer than the limb step.
            let limb = pts.iter().filter(|p| on_limb(**p)).count();
            assert!(limb >= 10, "{name}: {limb} limb points");
            for (i, &b) in pts.iter().enumerate() {
                let a = pts[(i + pts.len() - 1) % pts.len()];
                if on_limb(a) && on_limb(b) {
                    let chord = (b.0 - a.0).hypot(b.1 - a.1);
                    assert!(chord <= limb_step_px, "{name}: chord of {chord} px");
                }
            }
            // What was drawn before: the outline traced to the horizon, whose fill closes each
            // piece with a chord across the disc far longer than that.
            let old = pieces(&svg_path(&view, ring), cx, cy, r);
            let longest = old
                .iter()
                .map(|p| {
                    let (a, b) = (p[0], p[p.len() - 1]);
                    (b.0 - a.0).hypot(b.1 - a.1)
                })
                .fold(0.0, f64::max);
            assert!(longest > 5.0 * limb_step_px, "{name}: {longest}");
        }

        // The fill is the area: on a grid over the disc, a point is filled exactly when its
        // place on the Earth is inside (away from the outline, which the polygon only
        // approximates). Cases: straddling the limb, holding the point opposite the centre
        // (13,000 km around 0N 180E: seen as the disc less a hole), larger than a hemisphere
        // and holding the centre with an outline across the limb (13,000 km around 0N 90E),
        // and holding the whole near side with its outline all behind (11,000 km around the
        // centre: the whole disc).
        let circle = |c: GeoPoint, radius_m: f64| {
            (
                range_ring(&c, radius_m, r_m, 180),
                move |p: &GeoPoint| within(&c, radius_m, r_m, p),
                move |p: &GeoPoint| {
                    (great_circle_distance_m(&c, p, r_m) - radius_m).abs() > 0.02 * r_m
                },
            )
        };
        let cases = [
            circle(GeoPoint::new(10.0, 88.0), 3_000_000.0),
            circle(GeoPoint::new(0.0, 180.0), 13_000_000.0),
            circle(GeoPoint::new(0.0, 90.0), 13_000_000.0),
            circle(GeoPoint::new(0.0, 0.0), 11_000_000.0),
        ];
        for (k, (ring, inside, clear)) in cases.iter().enumerate() {
            let ps = pieces(&svg_area(&view, ring, inside), cx, cy, r);
            let (mut checked, mut filled_n) = (0, 0);
            for i in 0..40 {
                for j in 0..40 {
                    let s = ScreenPoint {
                        x: cx - r + (f64::from(i) + 0.5) * r / 20.0,
                        y: cy - r + (f64::from(j) + 0.5) * r / 20.0,
                    };
                    if (s.x - cx).hypot(s.y - cy) > 0.98 * r {
                        continue;
                    }
                    let g = view.unproject(s).expect("on the disc");
                    if !clear(&g) {
                        continue;
                    }
                    checked += 1;
                    let want = inside(&g);
                    filled_n += usize::from(want);
                    assert_eq!(filled(&ps, s.x, s.y), want, "case {k} at {s:?} ({g:?})");
                }
            }
            assert!(
                checked > 500 && filled_n > 10,
                "case {k}: {checked} {filled_n}"
            );
        }
        // On the flat map the area is the traced ring.
        let flat = Viewport {
            projection: Projection::Flat,
            ..view
        };
        let (ring, inside, _) = circle(GeoPoint::new(10.0, 88.0), 3_000_000.0);
        assert_eq!(svg_area(&flat, &ring, inside), svg_path(&flat, &ring));
    }
}
