//! The map's viewport: the pure maths that maps geographic coordinates to screen pixels and
//! back, and the gestures that change it (drag to pan, wheel and pinch to zoom around a point).
//!
//! Two projections sit behind the same [`Viewport`] API ([`Viewport::project`],
//! [`Viewport::unproject`], [`Viewport::trace`], [`Viewport::panned`], [`Viewport::zoomed_at`]):
//! - [`Projection::Flat`], equirectangular (plate carrée): `x` grows with longitude and `y`
//!   falls with latitude, both at the same scale in pixels per degree. The world repeats
//!   horizontally, so the map can be panned past the antimeridian without a seam.
//! - [`Projection::Globe`], orthographic: the Earth seen from infinitely far away, centred on
//!   the viewport's centre, with a radius of `px_per_deg * 180 / pi` pixels so that the scale at
//!   the centre is the same as the flat map's. Only the near hemisphere is seen: lines are
//!   clipped at the horizon (the limb), polygons are closed along it.
//!
//! Longitudes reported to the user are always normalised to `[-180, 180)`. Overlay code that
//! draws lines should go through [`Viewport::trace`] (or [`Viewport::polyline`]), which clips
//! and densifies on the globe and repeats world copies on the flat map; points through
//! [`Viewport::project_visible`], which hides the far side of the globe.
//!
//! Invariants: nothing here touches the DOM or Leptos, so every function is unit-tested natively;
//! a [`Viewport`] always has a finite centre, a latitude in `[-90, 90]` and a scale inside
//! [`MIN_PX_PER_DEG`, `MAX_PX_PER_DEG`].

/// Smallest zoom: the whole world fits in about 180 pixels.
pub const MIN_PX_PER_DEG: f64 = 0.5;
/// Largest zoom: about 5.6 metres per pixel at the equator (city scale).
pub const MAX_PX_PER_DEG: f64 = 20_000.0;
/// Closest zoom [`Viewport::framing`] goes to (px per degree): a lone site is shown with
/// some 500 km of country around it.
pub const FRAME_MAX_PX_PER_DEG: f64 = 60.0;

/// Room kept free at the map's edges when framing (CSS pixels): where the panels sit.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Insets {
    /// From the left edge.
    pub left: f64,
    /// From the right edge.
    pub right: f64,
    /// From the top edge.
    pub top: f64,
    /// From the bottom edge.
    pub bottom: f64,
}

/// The middle of the shortest arc of longitudes that holds every point (the complement of
/// the widest gap between them), in `[-180, 180)`.
fn lon_arc_middle(points: &[GeoPoint]) -> f64 {
    let mut lons: Vec<f64> = points.iter().map(|p| wrap_lon(p.lon_deg)).collect();
    lons.sort_by(f64::total_cmp);
    let Some(&first) = lons.first() else {
        return 0.0;
    };
    let mut widest = (-1.0, first);
    for (i, &a) in lons.iter().enumerate() {
        let b = lons.get(i + 1).copied().unwrap_or(first + 360.0);
        if b - a > widest.0 {
            widest = (b - a, b);
        }
    }
    let (gap, start) = widest;
    wrap_lon(start + (360.0 - gap) / 2.0)
}

/// Metres per degree of latitude on a sphere of the IUGG mean radius (6,371,008.8 m):
/// `2 * pi * R / 360`. Used only for the scale bar.
pub const METRES_PER_DEG: f64 = 111_195.08;

/// A point on the screen, in CSS pixels from the map's top-left corner.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScreenPoint {
    /// Pixels to the right of the left edge.
    pub x: f64,
    /// Pixels below the top edge.
    pub y: f64,
}

/// A geographic point in degrees (WGS84 latitude and longitude): sim-core's, the one type of
/// the whole app, so the map, the panels and the engine share their points without converting.
pub use sim_core::earth::GeoPoint;

/// Los Angeles city hall, the old system's defended city (34.05N 118.25W).
pub const LOS_ANGELES: GeoPoint = GeoPoint::new(34.05, -118.25);

/// What part of the world the map shows, and how big it is on screen.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Viewport {
    /// Longitude at the centre of the map, degrees, normalised to `[-180, 180)`.
    pub center_lon_deg: f64,
    /// Latitude at the centre of the map, degrees, in `[-90, 90]`.
    pub center_lat_deg: f64,
    /// Zoom: CSS pixels per degree of latitude (and of longitude).
    pub px_per_deg: f64,
    /// Width of the map in CSS pixels.
    pub width_px: f64,
    /// Height of the map in CSS pixels.
    pub height_px: f64,
    /// Flat map or globe.
    pub projection: Projection,
}

/// How the sphere is laid onto the screen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Projection {
    /// Equirectangular, repeating east and west.
    #[default]
    Flat,
    /// Orthographic: a globe showing one hemisphere.
    Globe,
}

/// One step of a screen path, as emitted by [`Viewport::trace`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PenOp {
    /// Lift the pen and start a new piece here.
    MoveTo(ScreenPoint),
    /// Draw a straight line to here.
    LineTo(ScreenPoint),
}

/// On the globe, lines are split into pieces no longer than this (2 degrees of arc), so that a
/// long great-circle leg curves on screen as it should and a horizon crossing is found within
/// a fraction of a pixel at whole-globe zoom.
pub const GLOBE_STEP_RAD: f64 = 2.0 * std::f64::consts::PI / 180.0;
/// Along the horizon, polygons closed behind the globe follow the limb in steps of at most this
/// angle (5 degrees), so the chords stay within 0.1% of the radius of the circle.
const LIMB_STEP_RAD: f64 = 5.0 * std::f64::consts::PI / 180.0;

type Vec3 = [f64; 3];

fn dot(a: Vec3, b: Vec3) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

fn unit(lat_deg: f64, lon_deg: f64) -> Vec3 {
    let (slat, clat) = lat_deg.to_radians().sin_cos();
    let (slon, clon) = lon_deg.to_radians().sin_cos();
    [clat * clon, clat * slon, slat]
}

fn normalised(v: Vec3) -> Option<Vec3> {
    let n = dot(v, v).sqrt();
    (n > 1e-12 && n.is_finite()).then(|| [v[0] / n, v[1] / n, v[2] / n])
}

/// The orthographic camera of a globe view: the unit vectors of the centre (towards the
/// viewer), east and north at the centre, the radius and the centre on screen.
///
/// With `v` the unit vector of a point, `x = R v.e`, `y = R v.n` and the point is on the near
/// side when `v.c >= 0`. Expanded, these are Snyder's orthographic equations (J. P. Snyder,
/// *Map Projections: A Working Manual*, USGS Professional Paper 1395, 1987, p. 149, eqs. 20-3,
/// 20-4 and 5-3): `x = R cos(lat) sin(lon - lon0)`,
/// `y = R (cos(lat0) sin(lat) - sin(lat0) cos(lat) cos(lon - lon0))`,
/// `cos c = sin(lat0) sin(lat) + cos(lat0) cos(lat) cos(lon - lon0)`.
#[derive(Clone, Copy, Debug)]
struct Globe {
    c: Vec3,
    e: Vec3,
    n: Vec3,
    r: f64,
    cx: f64,
    cy: f64,
}

impl Globe {
    fn of(v: &Viewport) -> Globe {
        let (slat, clat) = v.center_lat_deg.to_radians().sin_cos();
        let (slon, clon) = v.center_lon_deg.to_radians().sin_cos();
        Globe {
            c: [clat * clon, clat * slon, slat],
            e: [-slon, clon, 0.0],
            n: [-slat * clon, -slat * slon, clat],
            r: v.globe_radius_px(),
            cx: v.width_px / 2.0,
            cy: v.height_px / 2.0,
        }
    }

    /// Screen point of a unit vector, ignoring which side it is on.
    fn screen(&self, v: Vec3) -> ScreenPoint {
        ScreenPoint {
            x: self.cx + self.r * dot(v, self.e),
            y: self.cy - self.r * dot(v, self.n),
        }
    }

    /// Screen point of a unit vector, pushed out onto the limb when it is on the far side.
    fn screen_or_limb(&self, v: Vec3) -> ScreenPoint {
        if dot(v, self.c) >= 0.0 {
            return self.screen(v);
        }
        let (x, y) = (dot(v, self.e), dot(v, self.n));
        let len = x.hypot(y);
        let (x, y) = if len > 1e-12 {
            (x / len, y / len)
        } else {
            (1.0, 0.0)
        };
        ScreenPoint {
            x: self.cx + self.r * x,
            y: self.cy - self.r * y,
        }
    }

    /// The point where the great-circle arc from `a` (near side) to `b` (far side), or the
    /// reverse, meets the horizon plane `v.c = 0`.
    fn crossing(&self, a: Vec3, b: Vec3) -> ScreenPoint {
        let (da, db) = (dot(a, self.c), dot(b, self.c));
        let t = if (da - db).abs() > 1e-15 {
            (da / (da - db)).clamp(0.0, 1.0)
        } else {
            0.5
        };
        let m = [
            a[0] + t * (b[0] - a[0]),
            a[1] + t * (b[1] - a[1]),
            a[2] + t * (b[2] - a[2]),
        ];
        self.screen_or_limb(normalised(m).unwrap_or(a))
    }

    /// Calls `f` with the points from `a` (excluded) to `b` (included) along their great
    /// circle, at most [`GLOBE_STEP_RAD`] apart.
    fn densify(a: Vec3, b: Vec3, mut f: impl FnMut(Vec3)) {
        let cos = dot(a, b).clamp(-1.0, 1.0);
        let angle = cos.acos();
        let steps = ((angle / GLOBE_STEP_RAD).ceil() as usize).clamp(1, 200);
        if steps == 1 {
            f(b);
            return;
        }
        let sin = angle.sin();
        for i in 1..=steps {
            let t = i as f64 / steps as f64;
            let v = if sin > 1e-9 {
                // Spherical linear interpolation (Shoemake 1985).
                let (wa, wb) = (((1.0 - t) * angle).sin() / sin, (t * angle).sin() / sin);
                [
                    wa * a[0] + wb * b[0],
                    wa * a[1] + wb * b[1],
                    wa * a[2] + wb * b[2],
                ]
            } else {
                b
            };
            f(v);
        }
    }
}

/// Normalises a longitude to `[-180, 180)`. Non-finite input gives 0.
pub fn wrap_lon(lon_deg: f64) -> f64 {
    if !lon_deg.is_finite() {
        return 0.0;
    }
    let wrapped = (lon_deg + 180.0).rem_euclid(360.0) - 180.0;
    // rem_euclid can round up to exactly 360 for tiny negative inputs.
    if wrapped >= 180.0 {
        wrapped - 360.0
    } else {
        wrapped
    }
}

impl Viewport {
    /// A viewport of the given size that shows the whole world, centred on 0N 0E.
    pub fn whole_world(width_px: f64, height_px: f64) -> Viewport {
        let width_px = sanitize_size(width_px);
        let height_px = sanitize_size(height_px);
        let px_per_deg = (width_px / 360.0).min(height_px / 180.0);
        Viewport {
            center_lon_deg: 0.0,
            center_lat_deg: 0.0,
            px_per_deg,
            width_px,
            height_px,
            projection: Projection::Flat,
        }
        .clamped()
    }

    /// Radius of the globe on screen (CSS pixels) at this zoom: one degree of arc at the
    /// centre spans `px_per_deg` pixels, as on the flat map.
    pub fn globe_radius_px(&self) -> f64 {
        self.px_per_deg * 180.0 / std::f64::consts::PI
    }

    /// The same view in another projection. Switching to the globe zooms out, if needed, to
    /// no further than the whole globe with a margin; the centre is kept.
    pub fn with_projection(&self, projection: Projection) -> Viewport {
        let mut v = Viewport {
            projection,
            ..*self
        };
        if projection == Projection::Globe && self.projection == Projection::Flat {
            let fit = Viewport::globe_fit_px_per_deg(self.width_px, self.height_px);
            v.px_per_deg = v.px_per_deg.max(fit);
        }
        v.clamped()
    }

    /// The zoom at which the whole globe fits a map of this size with a 5% margin.
    pub fn globe_fit_px_per_deg(width_px: f64, height_px: f64) -> f64 {
        let r = 0.45 * sanitize_size(width_px).min(sanitize_size(height_px));
        r * std::f64::consts::PI / 180.0
    }

    /// Whether a point can be seen: on the flat map always (within the poles), on the globe
    /// when it is on the near hemisphere (the horizon itself counts as seen).
    pub fn is_visible(&self, p: GeoPoint) -> bool {
        match self.projection {
            Projection::Flat => (-90.0..=90.0).contains(&p.lat_deg),
            Projection::Globe => dot(unit(p.lat_deg, p.lon_deg), Globe::of(self).c) >= -1e-12,
        }
    }

    /// Screen position of a point if it can be seen (see [`Viewport::is_visible`]): what
    /// markers should use, so that nothing on the far side of the globe is drawn.
    pub fn project_visible(&self, p: GeoPoint) -> Option<ScreenPoint> {
        self.is_visible(p).then(|| self.project(p))
    }

    /// Screen position of a geographic point: on the flat map, on the copy of the world
    /// nearest the centre; on the globe, a point of the far side is pushed out onto the
    /// horizon circle in its direction (use [`Viewport::project_visible`] to hide it).
    pub fn project(&self, p: GeoPoint) -> ScreenPoint {
        if self.projection == Projection::Globe {
            return Globe::of(self).screen_or_limb(unit(p.lat_deg, p.lon_deg));
        }
        let dlon = wrap_lon(p.lon_deg - self.center_lon_deg);
        ScreenPoint {
            x: self.width_px / 2.0 + dlon * self.px_per_deg,
            y: self.height_px / 2.0 - (p.lat_deg - self.center_lat_deg) * self.px_per_deg,
        }
    }

    /// Geographic point under a screen position, or `None` above the pole or below the
    /// south pole. Longitudes are normalised, so any copy of the world answers the same.
    pub fn unproject(&self, s: ScreenPoint) -> Option<GeoPoint> {
        if self.projection == Projection::Globe {
            return self.unproject_globe(s);
        }
        let lat_deg = self.center_lat_deg - (s.y - self.height_px / 2.0) / self.px_per_deg;
        if !(-90.0..=90.0).contains(&lat_deg) {
            return None;
        }
        let lon_deg = wrap_lon(self.center_lon_deg + (s.x - self.width_px / 2.0) / self.px_per_deg);
        Some(GeoPoint { lat_deg, lon_deg })
    }

    /// Inverse orthographic projection (Snyder 1987, eqs. 20-14 and 20-15, here in vector
    /// form): `None` off the disc of the globe.
    fn unproject_globe(&self, s: ScreenPoint) -> Option<GeoPoint> {
        let g = Globe::of(self);
        let x = (s.x - g.cx) / g.r;
        let y = (g.cy - s.y) / g.r;
        let rho2 = x * x + y * y;
        if !rho2.is_finite() || rho2 > 1.0 {
            return None;
        }
        let z = (1.0 - rho2).sqrt();
        let v = [
            x * g.e[0] + y * g.n[0] + z * g.c[0],
            x * g.e[1] + y * g.n[1] + z * g.c[1],
            x * g.e[2] + y * g.n[2] + z * g.c[2],
        ];
        Some(GeoPoint {
            lat_deg: v[2].clamp(-1.0, 1.0).asin().to_degrees(),
            lon_deg: wrap_lon(v[1].atan2(v[0]).to_degrees()),
        })
    }

    /// Emits the screen path of a geographic polyline through `emit`. On the flat map the
    /// points are taken as unwrapped longitudes (consecutive points less than 180 degrees
    /// apart) and the line is repeated on every world copy in sight. On the globe each leg is
    /// followed along its great circle in steps of at most [`GLOBE_STEP_RAD`] and clipped at
    /// the horizon: the far side is not drawn, and a line that goes behind the globe and
    /// comes back starts a new piece ([`PenOp::MoveTo`]).
    pub fn trace(&self, points: &[GeoPoint], emit: &mut impl FnMut(PenOp)) {
        if points.is_empty() {
            return;
        }
        match self.projection {
            Projection::Flat => {
                let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
                for p in points {
                    lo = lo.min(p.lon_deg);
                    hi = hi.max(p.lon_deg);
                }
                let (left, right) = (self.raw_lon_at(0.0), self.raw_lon_at(self.width_px));
                let r = self.world_copies();
                for k in r.start() - 1..=r.end() + 1 {
                    let shift = 360.0 * f64::from(k);
                    if lo + shift > right + 1.0 || hi + shift < left - 1.0 {
                        continue;
                    }
                    let [a, d, e, f] = self.copy_transform(k);
                    for (i, p) in points.iter().enumerate() {
                        let s = ScreenPoint {
                            x: a * p.lon_deg + e,
                            y: d * p.lat_deg + f,
                        };
                        emit(if i == 0 {
                            PenOp::MoveTo(s)
                        } else {
                            PenOp::LineTo(s)
                        });
                    }
                }
            }
            Projection::Globe => {
                let g = Globe::of(self);
                let mut last = None;
                for p in points {
                    let v = unit(p.lat_deg, p.lon_deg);
                    trace_globe_leg(&g, last, v, emit);
                    last = Some(v);
                }
            }
        }
    }

    /// The screen pieces of a geographic polyline (see [`Viewport::trace`]).
    pub fn polyline(&self, points: &[GeoPoint]) -> Vec<Vec<ScreenPoint>> {
        let mut out: Vec<Vec<ScreenPoint>> = Vec::new();
        self.trace(points, &mut |op| match op {
            PenOp::MoveTo(s) => out.push(vec![s]),
            PenOp::LineTo(s) => {
                if let Some(piece) = out.last_mut() {
                    piece.push(s);
                } else {
                    out.push(vec![s]);
                }
            }
        });
        out.retain(|piece| piece.len() >= 2);
        out
    }

    /// One leg of a globe path, for callers that extend a path point by point: emits the
    /// path from `from` (where the previous call left the pen; `None` to start) to `to`.
    /// On the flat map it emits the nearest-copy points of the leg.
    pub fn trace_leg(&self, from: Option<GeoPoint>, to: GeoPoint, emit: &mut impl FnMut(PenOp)) {
        match self.projection {
            Projection::Flat => {
                let s = self.project(to);
                match from {
                    Some(f) if (self.project(f).x - s.x).abs() < self.width_px.max(1.0) => {
                        emit(PenOp::LineTo(s))
                    }
                    _ => emit(PenOp::MoveTo(s)),
                }
            }
            Projection::Globe => {
                let g = Globe::of(self);
                trace_globe_leg(
                    &g,
                    from.map(|f| unit(f.lat_deg, f.lon_deg)),
                    unit(to.lat_deg, to.lon_deg),
                    emit,
                );
            }
        }
    }

    /// A closed ring (a polygon's boundary; a repeated closing point does no harm) on the globe, as
    /// screen points ready to fill: the near side projected, the far side replaced by the
    /// horizon between the points where the ring leaves and comes back (pushing every far
    /// point radially onto the limb, which follows the ring's own direction round the globe).
    /// Returns `None` when no part of the ring is on the near side. Also returns the ring's
    /// winding number around the centre of the disc: a ring that encloses the centre of the
    /// view, or the point opposite it, winds once; the caller tells the two apart (only the
    /// second needs the whole disc added, see `render.rs`). On the flat map, returns `None`.
    pub fn globe_ring(&self, ring: &[GeoPoint], out: &mut Vec<ScreenPoint>) -> Option<i32> {
        out.clear();
        if self.projection != Projection::Globe || ring.len() < 3 {
            return None;
        }
        let g = Globe::of(self);
        // The ring closed and followed along great circles.
        let mut dense: Vec<Vec3> = Vec::with_capacity(ring.len() + 8);
        let first = unit(ring[0].lat_deg, ring[0].lon_deg);
        dense.push(first);
        let mut last = first;
        for v in ring[1..]
            .iter()
            .map(|p| unit(p.lat_deg, p.lon_deg))
            .chain(std::iter::once(first))
        {
            Globe::densify(last, v, |q| dense.push(q));
            last = v;
        }
        let mut any_near = false;
        let mut prev: Option<(Vec3, bool)> = None;
        for &q in &dense {
            let q_near = dot(q, g.c) >= 0.0;
            any_near |= q_near;
            if let Some((p, p_near)) = prev
                && p_near != q_near
            {
                let (a, b) = if p_near { (p, q) } else { (q, p) };
                push_limb_aware(&g, out, g.crossing(a, b), true);
            }
            push_limb_aware(&g, out, g.screen_or_limb(q), !q_near);
            prev = Some((q, q_near));
        }
        if !any_near {
            out.clear();
            return None;
        }
        Some(winding_number(out, g.cx, g.cy))
    }

    /// On the globe, the spherical cap that holds everything the map can show: its centre is
    /// the view's centre and its radius (radians) is the angle out to the map's corners,
    /// `asin(half_diagonal / R)` when zoomed in past the corners, a hemisphere otherwise.
    /// `None` on the flat map. Used to skip shapes wholly out of sight ([`SphereCap`]).
    pub fn globe_view_cap(&self) -> Option<SphereCap> {
        if self.projection != Projection::Globe {
            return None;
        }
        let half_diagonal = (self.width_px / 2.0).hypot(self.height_px / 2.0);
        let ratio = half_diagonal / self.globe_radius_px();
        Some(SphereCap {
            centre: unit(self.center_lat_deg, self.center_lon_deg),
            radius_rad: if ratio < 1.0 {
                ratio.asin()
            } else {
                std::f64::consts::FRAC_PI_2
            },
        })
    }

    /// Longitude (not wrapped) at a screen x: used to know which copies of the world are seen.
    pub fn raw_lon_at(&self, x: f64) -> f64 {
        self.center_lon_deg + (x - self.width_px / 2.0) / self.px_per_deg
    }

    /// The integer world copies (`k` in `lon + 360 k`) visible in the viewport, left to right.
    /// On the globe there is one world: `0..=0`.
    pub fn world_copies(&self) -> std::ops::RangeInclusive<i32> {
        if self.projection == Projection::Globe {
            return 0..=0;
        }
        let left = self.raw_lon_at(0.0);
        let right = self.raw_lon_at(self.width_px);
        let first = ((left + 180.0) / 360.0).floor() as i32;
        let last = ((right - 180.0) / 360.0).ceil() as i32;
        first.clamp(-8, 8)..=last.clamp(-8, 8)
    }

    /// The affine transform (canvas `setTransform(a, 0, 0, d, e, f)`) that maps degrees of the
    /// world copy `k` to CSS pixels: `x = a * lon + e`, `y = d * lat + f`. Flat map only: on
    /// the globe no affine transform exists; use [`Viewport::trace`].
    pub fn copy_transform(&self, k: i32) -> [f64; 4] {
        let a = self.px_per_deg;
        let e = self.width_px / 2.0 + (360.0 * f64::from(k) - self.center_lon_deg) * a;
        let f = self.height_px / 2.0 + self.center_lat_deg * a;
        [a, -a, e, f]
    }

    /// The same view moved by a drag of `(dx, dy)` CSS pixels (content follows the pointer).
    /// On the globe this rotates it so that the point at the centre moves by the drag (when
    /// no rotation without roll can do that, as at a pole, longitude and latitude of the centre
    /// change by the drag over `px_per_deg`, as on the flat map).
    pub fn panned(&self, dx: f64, dy: f64) -> Viewport {
        if !(dx.is_finite() && dy.is_finite()) {
            return *self;
        }
        if self.projection == Projection::Globe {
            let centre = GeoPoint {
                lat_deg: self.center_lat_deg,
                lon_deg: self.center_lon_deg,
            };
            let target = ScreenPoint {
                x: self.width_px / 2.0 + dx,
                y: self.height_px / 2.0 + dy,
            };
            if let Some((lat, lon)) = self.globe_centre_for(centre, target) {
                return Viewport {
                    center_lat_deg: lat,
                    center_lon_deg: lon,
                    ..*self
                }
                .clamped();
            }
        }
        Viewport {
            center_lon_deg: wrap_lon(self.center_lon_deg - dx / self.px_per_deg),
            center_lat_deg: self.center_lat_deg + dy / self.px_per_deg,
            ..*self
        }
        .clamped()
    }

    /// The view zoomed by `factor` (> 1 zooms in) so that the geographic point under `anchor`
    /// stays under `anchor`, unless the zoom limits stop it.
    pub fn zoomed_at(&self, factor: f64, anchor: ScreenPoint) -> Viewport {
        if !(factor.is_finite() && factor > 0.0 && anchor.x.is_finite() && anchor.y.is_finite()) {
            return *self;
        }
        let new_scale = (self.px_per_deg * factor).clamp(MIN_PX_PER_DEG, MAX_PX_PER_DEG);
        if self.projection == Projection::Globe {
            let scaled = Viewport {
                px_per_deg: new_scale,
                ..*self
            };
            let centre = self
                .unproject(anchor)
                .and_then(|g| scaled.globe_centre_for(g, anchor));
            return match centre {
                Some((lat, lon)) => Viewport {
                    center_lat_deg: lat,
                    center_lon_deg: lon,
                    ..scaled
                },
                None => scaled,
            }
            .clamped();
        }
        // Degrees between the centre and the anchor, before and after: the anchor's
        // geographic point must stay put, so the centre moves by the difference.
        let ax = anchor.x - self.width_px / 2.0;
        let ay = anchor.y - self.height_px / 2.0;
        let anchor_lon = self.center_lon_deg + ax / self.px_per_deg;
        let anchor_lat = self.center_lat_deg - ay / self.px_per_deg;
        Viewport {
            center_lon_deg: wrap_lon(anchor_lon - ax / new_scale),
            center_lat_deg: anchor_lat + ay / new_scale,
            px_per_deg: new_scale,
            ..*self
        }
        .clamped()
    }

    /// The same view centred on `p`, zoomed in to at least `min_px_per_deg` (to show a place
    /// picked from a list).
    pub fn centered_on(&self, p: GeoPoint, min_px_per_deg: f64) -> Viewport {
        if !(p.lat_deg.is_finite() && p.lon_deg.is_finite()) {
            return *self;
        }
        let scale = if min_px_per_deg.is_finite() {
            self.px_per_deg.max(min_px_per_deg)
        } else {
            self.px_per_deg
        };
        Viewport {
            center_lon_deg: p.lon_deg,
            center_lat_deg: p.lat_deg,
            px_per_deg: scale,
            ..*self
        }
        .clamped()
    }

    /// The view that frames `points` (a scenario's sites, launch points and targets): all of
    /// them inside the map less `insets` (where panels sit), centred in that box, as large as
    /// fits but no closer than [`FRAME_MAX_PX_PER_DEG`]; same projection and size. On the flat
    /// map the centre is the middle of the smallest longitude arc and latitude band holding
    /// them; on the globe their mean direction. Non-finite points are ignored; none leaves
    /// the view as it is.
    pub fn framing(&self, points: &[GeoPoint], insets: Insets) -> Viewport {
        let pts: Vec<GeoPoint> = points
            .iter()
            .copied()
            .filter(|p| p.lat_deg.is_finite() && p.lon_deg.is_finite())
            .map(|p| GeoPoint::new(p.lat_deg.clamp(-90.0, 90.0), wrap_lon(p.lon_deg)))
            .collect();
        if pts.is_empty() {
            return *self;
        }
        // The box: the map less the insets, but never less than a quarter of it each way
        // (then centred).
        let fit = |size: f64, a: f64, b: f64| {
            let inner = size - a.max(0.0) - b.max(0.0);
            if inner >= size / 4.0 {
                (a.max(0.0), inner)
            } else {
                (size * 3.0 / 8.0, size / 4.0)
            }
        };
        let (left, bw) = fit(self.width_px, insets.left, insets.right);
        let (top, bh) = fit(self.height_px, insets.top, insets.bottom);
        let target = ScreenPoint {
            x: left + bw / 2.0,
            y: top + bh / 2.0,
        };
        let flat_centre = || {
            let (lo, hi) = pts.iter().fold((90.0_f64, -90.0_f64), |(a, b), p| {
                (a.min(p.lat_deg), b.max(p.lat_deg))
            });
            GeoPoint::new((lo + hi) / 2.0, lon_arc_middle(&pts))
        };
        let centre = match self.projection {
            Projection::Flat => flat_centre(),
            Projection::Globe => {
                let sum = pts.iter().fold([0.0; 3], |a, p| {
                    let u = unit(p.lat_deg, p.lon_deg);
                    [a[0] + u[0], a[1] + u[1], a[2] + u[2]]
                });
                let n = dot(sum, sum).sqrt();
                if n < 1e-6 * pts.len() as f64 {
                    flat_centre()
                } else {
                    GeoPoint::new(
                        (sum[2] / n).clamp(-1.0, 1.0).asin().to_degrees(),
                        sum[1].atan2(sum[0]).to_degrees(),
                    )
                }
            }
        };
        // Screen offsets at one pixel per degree around the centre (y down): their bounding
        // box, which scales with the zoom.
        let probe = Viewport {
            center_lat_deg: centre.lat_deg,
            center_lon_deg: centre.lon_deg,
            px_per_deg: 1.0,
            ..*self
        }
        .clamped();
        let mid = ScreenPoint {
            x: self.width_px / 2.0,
            y: self.height_px / 2.0,
        };
        let (mut x0, mut x1) = (f64::INFINITY, f64::NEG_INFINITY);
        let (mut y0, mut y1) = (f64::INFINITY, f64::NEG_INFINITY);
        for p in &pts {
            let (dx, dy) = match self.projection {
                Projection::Flat => (
                    wrap_lon(p.lon_deg - probe.center_lon_deg),
                    probe.center_lat_deg - p.lat_deg,
                ),
                Projection::Globe => {
                    let s = probe.project(*p);
                    (s.x - mid.x, s.y - mid.y)
                }
            };
            (x0, x1) = (x0.min(dx), x1.max(dx));
            (y0, y1) = (y0.min(dy), y1.max(dy));
        }
        let along = |room: f64, extent: f64| {
            if extent > 0.0 {
                room / extent
            } else {
                f64::INFINITY
            }
        };
        // A margin of 5% of the box on each side, for the markers and their labels.
        let scale = along(0.9 * bw, x1 - x0)
            .min(along(0.9 * bh, y1 - y0))
            .min(FRAME_MAX_PX_PER_DEG);
        let v = Viewport {
            px_per_deg: scale,
            ..probe
        }
        .clamped();
        let k = v.px_per_deg;
        // The middle of the points' box, on screen at this zoom, goes to the box's centre.
        let (cx, cy) = ((x0 + x1) / 2.0 * k, (y0 + y1) / 2.0 * k);
        match self.projection {
            Projection::Flat => Viewport {
                center_lon_deg: probe.center_lon_deg + (mid.x + cx - target.x) / k,
                center_lat_deg: probe.center_lat_deg + (target.y - mid.y - cy) / k,
                ..v
            }
            .clamped(),
            Projection::Globe => {
                let middle = v
                    .unproject(ScreenPoint {
                        x: mid.x + cx,
                        y: mid.y + cy,
                    })
                    .unwrap_or(centre);
                v.globe_centre_for(middle, target).map_or(v, |(lat, lon)| {
                    Viewport {
                        center_lat_deg: lat,
                        center_lon_deg: lon,
                        ..v
                    }
                    .clamped()
                })
            }
        }
    }

    /// The same view on a map of a new size (the centre and zoom are kept).
    pub fn resized(&self, width_px: f64, height_px: f64) -> Viewport {
        Viewport {
            width_px: sanitize_size(width_px),
            height_px: sanitize_size(height_px),
            ..*self
        }
        .clamped()
    }

    /// The globe centre (latitude, longitude in degrees) that puts `g` at the screen point
    /// `target` at this zoom without roll, the one nearest the current centre; `None` when
    /// `target` is off the disc or no such centre exists.
    ///
    /// From the forward equations (see [`Globe`]) with `x`, `y` the target's offsets over `R`:
    /// `sin(lon - lon0) = x / cos(lat)`, then with `k = cos(lat) cos(lon - lon0)`,
    /// `y = cos(lat0) sin(lat) - sin(lat0) k = A cos(lat0 + d)` where
    /// `A = hypot(sin(lat), k)` and `d = atan2(k, sin(lat))`, so `lat0 = +-acos(y / A) - d`.
    fn globe_centre_for(&self, g: GeoPoint, target: ScreenPoint) -> Option<(f64, f64)> {
        use std::f64::consts::{FRAC_PI_2, PI, TAU};
        let r = self.globe_radius_px();
        let x = (target.x - self.width_px / 2.0) / r;
        let y = (self.height_px / 2.0 - target.y) / r;
        let rho2 = x * x + y * y;
        if !rho2.is_finite() || rho2 > 1.0 {
            return None;
        }
        let (sphi, cphi) = g.lat_deg.to_radians().sin_cos();
        if cphi < 1e-9 || (x / cphi).abs() > 1.0 {
            return None;
        }
        let here = unit(self.center_lat_deg, self.center_lon_deg);
        let d1 = (x / cphi).asin();
        let mut best: Option<(f64, (f64, f64))> = None;
        for dl in [d1, PI - d1] {
            let k = cphi * dl.cos();
            let a = sphi.hypot(k);
            if a < 1e-12 || (y / a).abs() > 1.0 {
                continue;
            }
            let d = k.atan2(sphi);
            let base = (y / a).acos();
            for lat0 in [base - d, -base - d] {
                let lat0 = (lat0 + PI).rem_euclid(TAU) - PI;
                if lat0.abs() > FRAC_PI_2 + 1e-12 {
                    continue;
                }
                let lat0 = lat0.clamp(-FRAC_PI_2, FRAC_PI_2);
                // On the near side: cos c = sin(lat0) sin(lat) + cos(lat0) k >= 0.
                if lat0.sin() * sphi + lat0.cos() * k < -1e-9 {
                    continue;
                }
                let lon0 = wrap_lon(g.lon_deg - dl.to_degrees());
                let c = (lat0.to_degrees(), lon0);
                let dist = 1.0 - dot(here, unit(c.0, c.1));
                if best.is_none_or(|(b, _)| dist < b) {
                    best = Some((dist, c));
                }
            }
        }
        best.map(|(_, c)| c)
    }

    /// Enforces the invariants: finite values, latitude of the centre within the poles,
    /// zoom within limits.
    fn clamped(mut self) -> Viewport {
        if !self.px_per_deg.is_finite() {
            self.px_per_deg = 1.0;
        }
        self.px_per_deg = self.px_per_deg.clamp(MIN_PX_PER_DEG, MAX_PX_PER_DEG);
        self.center_lon_deg = wrap_lon(self.center_lon_deg);
        if !self.center_lat_deg.is_finite() {
            self.center_lat_deg = 0.0;
        }
        self.center_lat_deg = self.center_lat_deg.clamp(-90.0, 90.0);
        self
    }

    /// Graticule spacing in degrees for this zoom: the smallest "nice" step whose lines are
    /// at least `min_gap_px` apart.
    pub fn graticule_step_deg(&self, min_gap_px: f64) -> f64 {
        const STEPS: [f64; 13] = [
            0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 45.0,
        ];
        STEPS
            .into_iter()
            .find(|step| step * self.px_per_deg >= min_gap_px)
            .unwrap_or(90.0)
    }

    /// A scale bar for the map's centre latitude: a round ground distance in metres whose
    /// length on screen is at most `max_px`, and that length in pixels.
    ///
    /// Along a parallel, one degree of longitude spans `METRES_PER_DEG * cos(lat)` metres
    /// (spherical Earth; under 0.5% from WGS84 at any latitude, plenty for a scale bar).
    pub fn scale_bar(&self, max_px: f64) -> (f64, f64) {
        let metres_per_px =
            METRES_PER_DEG * self.center_lat_deg.to_radians().cos().max(0.01) / self.px_per_deg;
        let max_m = metres_per_px * max_px;
        let magnitude = 10f64.powf(max_m.log10().floor());
        let nice = [5.0, 2.0, 1.0]
            .into_iter()
            .map(|m| m * magnitude)
            .find(|&m| m <= max_m)
            .unwrap_or(magnitude);
        (nice, nice / metres_per_px)
    }
}

/// A spherical cap: every point within `radius_rad` of `centre` (a unit vector).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SphereCap {
    /// Unit vector of the centre (x towards 0N 0E, z towards the north pole).
    pub centre: [f64; 3],
    /// Angular radius, radians.
    pub radius_rad: f64,
}

impl SphereCap {
    /// A cap holding every point of a shape (its centre is the normalised mean of the
    /// points' unit vectors); `None` for no points or points that cancel out (a shape round
    /// the whole globe, which is then never skipped).
    pub fn around(points: &[GeoPoint]) -> Option<SphereCap> {
        let units: Vec<Vec3> = points.iter().map(|p| unit(p.lat_deg, p.lon_deg)).collect();
        let mut sum = [0.0; 3];
        for u in &units {
            for k in 0..3 {
                sum[k] += u[k];
            }
        }
        let centre = normalised(sum)?;
        let radius_rad = units
            .iter()
            .map(|u| dot(*u, centre).clamp(-1.0, 1.0).acos())
            .fold(0.0, f64::max);
        // Points are joined by great-circle legs, which stay within the cap when the cap is
        // under a hemisphere; beyond, it cannot be trusted.
        (radius_rad < std::f64::consts::FRAC_PI_2).then_some(SphereCap { centre, radius_rad })
    }

    /// Whether two caps share no point (the angle between the centres exceeds the sum of
    /// the radii), with a margin of 1e-9 rad.
    pub fn disjoint(&self, other: &SphereCap) -> bool {
        dot(self.centre, other.centre).clamp(-1.0, 1.0).acos()
            > self.radius_rad + other.radius_rad + 1e-9
    }
}

/// Emits one leg of a globe path from `from` (the pen is there if it is on the near side) to
/// `to`, densified and clipped at the horizon.
fn trace_globe_leg(g: &Globe, from: Option<Vec3>, to: Vec3, emit: &mut impl FnMut(PenOp)) {
    let Some(a) = from else {
        if dot(to, g.c) >= 0.0 {
            emit(PenOp::MoveTo(g.screen(to)));
        }
        return;
    };
    let mut p = a;
    let mut p_near = dot(a, g.c) >= 0.0;
    Globe::densify(a, to, |q| {
        let q_near = dot(q, g.c) >= 0.0;
        match (p_near, q_near) {
            (true, true) => emit(PenOp::LineTo(g.screen(q))),
            (true, false) => emit(PenOp::LineTo(g.crossing(p, q))),
            (false, true) => {
                emit(PenOp::MoveTo(g.crossing(q, p)));
                emit(PenOp::LineTo(g.screen(q)));
            }
            (false, false) => {}
        }
        p = q;
        p_near = q_near;
    });
}

/// Appends a point of a globe ring; a point on the limb that follows another point on the
/// limb is joined to it along the circle (in steps of [`LIMB_STEP_RAD`], the shorter way),
/// not by a chord that would cut into the disc.
fn push_limb_aware(g: &Globe, out: &mut Vec<ScreenPoint>, s: ScreenPoint, on_limb: bool) {
    use std::f64::consts::{PI, TAU};
    if on_limb && let Some(&last) = out.last() {
        let last_on_limb = ((last.x - g.cx).hypot(last.y - g.cy) - g.r).abs() <= 1e-6 * g.r;
        let a0 = (last.y - g.cy).atan2(last.x - g.cx);
        let a1 = (s.y - g.cy).atan2(s.x - g.cx);
        let da = (a1 - a0 + PI).rem_euclid(TAU) - PI;
        if last_on_limb && da.abs() > LIMB_STEP_RAD {
            let n = (da.abs() / LIMB_STEP_RAD).ceil() as usize;
            for i in 1..n {
                let a = a0 + da * i as f64 / n as f64;
                out.push(ScreenPoint {
                    x: g.cx + g.r * a.cos(),
                    y: g.cy + g.r * a.sin(),
                });
            }
        }
    }
    out.push(s);
}

/// How many times a closed screen ring turns around `(cx, cy)` (sum of the signed angles
/// between consecutive points, divided by a whole turn).
fn winding_number(ring: &[ScreenPoint], cx: f64, cy: f64) -> i32 {
    use std::f64::consts::{PI, TAU};
    let mut total = 0.0;
    for pair in ring.windows(2) {
        let a0 = (pair[0].y - cy).atan2(pair[0].x - cx);
        let a1 = (pair[1].y - cy).atan2(pair[1].x - cx);
        total += (a1 - a0 + PI).rem_euclid(TAU) - PI;
    }
    (total / TAU).round() as i32
}

fn sanitize_size(px: f64) -> f64 {
    if px.is_finite() && px >= 1.0 {
        px.min(100_000.0)
    } else {
        1.0
    }
}

/// Decimal places worth showing for a coordinate at this zoom: enough that one unit of the
/// last digit is no larger than a pixel.
pub fn coordinate_decimals(px_per_deg: f64) -> usize {
    let deg_per_px = 1.0 / px_per_deg.max(f64::MIN_POSITIVE);
    (-deg_per_px.log10()).ceil().clamp(1.0, 6.0) as usize
}

/// Formats a point as `34.05°N 118.25°W` with the given number of decimals.
pub fn format_geo(p: GeoPoint, decimals: usize) -> String {
    let ns = if p.lat_deg < 0.0 { 'S' } else { 'N' };
    let ew = if p.lon_deg < 0.0 { 'W' } else { 'E' };
    format!(
        "{:.*}°{ns} {:.*}°{ew}",
        decimals,
        p.lat_deg.abs(),
        decimals,
        p.lon_deg.abs()
    )
}

/// Formats a distance for the scale bar: metres below 1 km, kilometres above.
pub fn format_distance(metres: f64) -> String {
    if metres >= 1000.0 {
        format!("{} km", metres / 1000.0)
    } else {
        format!("{metres} m")
    }
}

/// How far (CSS pixels) a pointer may move between press and release and still count as a
/// click rather than a drag.
pub const CLICK_SLOP_PX: f64 = 5.0;

/// One pointer held down on the map.
#[derive(Clone, Copy, Debug, PartialEq)]
struct HeldPointer {
    id: i32,
    at: ScreenPoint,
}

/// What a pointer event did to the map, for the caller to apply.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum GestureOutcome {
    /// Nothing visible changed.
    None,
    /// The view changed (pan or pinch zoom).
    View(Viewport),
    /// A click (press and release without moving): the caller places a marker there.
    Click(ScreenPoint),
}

/// Turns pointer events (mouse, pen and touch alike) into pans, pinch zooms and clicks.
///
/// One pointer drags the map; two pointers pinch: the distance between them scales the zoom
/// around their midpoint, and the midpoint's motion pans. A press and release that never moved
/// more than [`CLICK_SLOP_PX`] and never became a pinch is a click.
#[derive(Clone, Debug, Default)]
pub struct Gestures {
    held: Vec<HeldPointer>,
    press_at: Option<ScreenPoint>,
    moved_too_far: bool,
}

impl Gestures {
    /// A pointer went down.
    pub fn down(&mut self, id: i32, at: ScreenPoint) {
        self.held.retain(|p| p.id != id);
        if self.held.len() >= 2 {
            return; // A third finger is ignored.
        }
        self.held.push(HeldPointer { id, at });
        if self.held.len() == 1 {
            self.press_at = Some(at);
            self.moved_too_far = false;
        } else {
            // A second finger: this gesture is a pinch, never a click.
            self.moved_too_far = true;
        }
    }

    /// A pointer moved; returns the new view if the map moved.
    pub fn moved(&mut self, id: i32, at: ScreenPoint, view: &Viewport) -> GestureOutcome {
        let Some(index) = self.held.iter().position(|p| p.id == id) else {
            return GestureOutcome::None;
        };
        if let Some(press) = self.press_at
            && (at.x - press.x).hypot(at.y - press.y) > CLICK_SLOP_PX
        {
            self.moved_too_far = true;
        }
        let before = self.held.clone();
        self.held[index].at = at;
        match (before.as_slice(), self.held.as_slice()) {
            ([old], [new]) => {
                GestureOutcome::View(view.panned(new.at.x - old.at.x, new.at.y - old.at.y))
            }
            ([o0, o1], [n0, n1]) => {
                let old_mid = midpoint(o0.at, o1.at);
                let new_mid = midpoint(n0.at, n1.at);
                let old_dist = distance(o0.at, o1.at);
                let new_dist = distance(n0.at, n1.at);
                if old_dist < 1.0 || new_dist < 1.0 {
                    return GestureOutcome::None;
                }
                let zoomed = view.zoomed_at(new_dist / old_dist, old_mid);
                GestureOutcome::View(zoomed.panned(new_mid.x - old_mid.x, new_mid.y - old_mid.y))
            }
            _ => GestureOutcome::None,
        }
    }

    /// A pointer went up; returns a click if this ended a press that never moved.
    pub fn up(&mut self, id: i32, at: ScreenPoint) -> GestureOutcome {
        let was_held = self.held.iter().any(|p| p.id == id);
        self.held.retain(|p| p.id != id);
        if !was_held {
            return GestureOutcome::None;
        }
        if self.held.is_empty() {
            let clicked = !self.moved_too_far && self.press_at.is_some();
            self.press_at = None;
            if clicked {
                return GestureOutcome::Click(at);
            }
        }
        GestureOutcome::None
    }

    /// A pointer was cancelled by the browser (for example, a touch turned into a scroll).
    pub fn cancel(&mut self, id: i32) {
        self.held.retain(|p| p.id != id);
        if self.held.is_empty() {
            self.press_at = None;
        }
        self.moved_too_far = true;
    }

    /// Whether a drag or pinch is in progress.
    pub fn is_active(&self) -> bool {
        !self.held.is_empty()
    }
}

fn midpoint(a: ScreenPoint, b: ScreenPoint) -> ScreenPoint {
    ScreenPoint {
        x: (a.x + b.x) / 2.0,
        y: (a.y + b.y) / 2.0,
    }
}

fn distance(a: ScreenPoint, b: ScreenPoint) -> f64 {
    (a.x - b.x).hypot(a.y - b.y)
}

/// Zoom factor for one wheel event: scrolling down by one notch (about 100 pixels) zooms out by
/// about 20%. Browsers report lines (`delta_mode` 1) or pages (2) on some devices.
pub fn wheel_zoom_factor(delta_y: f64, delta_mode: u32) -> f64 {
    let pixels = match delta_mode {
        1 => delta_y * 16.0,
        2 => delta_y * 400.0,
        _ => delta_y,
    };
    if !pixels.is_finite() {
        return 1.0;
    }
    (-pixels.clamp(-600.0, 600.0) * 0.002).exp()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view() -> Viewport {
        Viewport {
            center_lon_deg: 0.0,
            center_lat_deg: 0.0,
            px_per_deg: 4.0,
            width_px: 1440.0,
            height_px: 720.0,
            projection: Projection::Flat,
        }
    }

    fn globe(lat: f64, lon: f64, px_per_deg: f64) -> Viewport {
        Viewport {
            center_lon_deg: lon,
            center_lat_deg: lat,
            px_per_deg,
            width_px: 800.0,
            height_px: 600.0,
            projection: Projection::Globe,
        }
    }

    fn angle_deg(a: GeoPoint, b: GeoPoint) -> f64 {
        dot(unit(a.lat_deg, a.lon_deg), unit(b.lat_deg, b.lon_deg))
            .clamp(-1.0, 1.0)
            .acos()
            .to_degrees()
    }

    #[test]
    fn globe_projects_known_points() {
        let v = globe(0.0, 0.0, 4.0);
        let r = v.globe_radius_px();
        assert!(close(r, 4.0 * 180.0 / std::f64::consts::PI, 1e-12));
        let c = v.project(GeoPoint {
            lat_deg: 0.0,
            lon_deg: 0.0,
        });
        assert!(close(c.x, 400.0, 1e-9) && close(c.y, 300.0, 1e-9));
        // 90E on the equator is on the right-hand limb; 45N on the central meridian is
        // R sin 45 above the centre (Snyder's y = R cos(lat0) sin(lat)).
        let east = v.project(GeoPoint {
            lat_deg: 0.0,
            lon_deg: 90.0,
        });
        assert!(close(east.x, 400.0 + r, 1e-9) && close(east.y, 300.0, 1e-9));
        let north = v.project(GeoPoint {
            lat_deg: 45.0,
            lon_deg: 0.0,
        });
        assert!(close(north.y, 300.0 - r * 0.5_f64.sqrt(), 1e-9));
        // Scale at the centre equals the flat map's: one degree is px_per_deg pixels.
        let one = v.project(GeoPoint {
            lat_deg: 0.0,
            lon_deg: 0.001,
        });
        assert!(close((one.x - 400.0) / 0.001, 4.0, 1e-6));
        // Snyder's worked example (p. 311): R = 1, lat0 = 40N, lon0 = 100W, point 30N 110W
        // gives x = -0.1503837, y = -0.1651911.
        let s = Viewport {
            px_per_deg: std::f64::consts::PI / 180.0 * 1e6,
            ..globe(40.0, -100.0, 1.0)
        }
        .project(GeoPoint {
            lat_deg: 30.0,
            lon_deg: -110.0,
        });
        assert!(close((s.x - 400.0) / 1e6, -0.1503837, 1e-7), "{s:?}");
        assert!(close((300.0 - s.y) / 1e6, -0.1651911, 1e-7), "{s:?}");
    }

    #[test]
    fn globe_round_trips_and_hides_the_far_side() {
        for &(lat0, lon0) in &[(0.0, 0.0), (34.0, -118.0), (-60.0, 170.0), (89.0, 45.0)] {
            let v = globe(lat0, lon0, 2.0);
            let centre = GeoPoint {
                lat_deg: lat0,
                lon_deg: lon0,
            };
            for lat in (-90..=90).step_by(10) {
                for lon in (-180..180).step_by(15) {
                    let p = GeoPoint {
                        lat_deg: f64::from(lat),
                        lon_deg: f64::from(lon),
                    };
                    if (angle_deg(p, centre) - 90.0).abs() < 1e-6 {
                        continue; // On the horizon: either answer is right.
                    }
                    let seen = angle_deg(p, centre) <= 90.0;
                    assert_eq!(v.is_visible(p), seen, "{p:?} from {centre:?}");
                    assert_eq!(v.project_visible(p).is_some(), seen);
                    let s = v.project(p);
                    let rho = (s.x - 400.0).hypot(s.y - 300.0);
                    assert!(rho <= v.globe_radius_px() * (1.0 + 1e-12));
                    if !seen {
                        // Pushed onto the limb.
                        assert!(close(rho, v.globe_radius_px(), 1e-6));
                        continue;
                    }
                    if angle_deg(p, centre) > 80.0 {
                        continue; // Near the limb the inverse is ill-conditioned.
                    }
                    let back = v.unproject(s).expect("on the disc");
                    assert!(
                        close(back.lat_deg, p.lat_deg, 1e-9)
                            && (close(back.lon_deg, wrap_lon(p.lon_deg), 1e-9)
                                || p.lat_deg.abs() == 90.0),
                        "{p:?} -> {s:?} -> {back:?}"
                    );
                }
            }
            // Off the disc is not a place; just inside is.
            let r = v.globe_radius_px();
            assert!(
                v.unproject(ScreenPoint {
                    x: 400.0 + r + 1.0,
                    y: 300.0
                })
                .is_none()
            );
            assert!(
                v.unproject(ScreenPoint {
                    x: 400.0 + r - 1.0,
                    y: 300.0
                })
                .is_some()
            );
        }
    }

    #[test]
    fn globe_lines_follow_great_circles_and_stop_at_the_horizon() {
        let v = globe(50.0, -30.0, 2.0);
        let g = Globe::of(&v);
        let new_york = GeoPoint {
            lat_deg: 40.71,
            lon_deg: -74.01,
        };
        let moscow = GeoPoint {
            lat_deg: 55.76,
            lon_deg: 37.62,
        };
        let a = unit(new_york.lat_deg, new_york.lon_deg);
        let b = unit(moscow.lat_deg, moscow.lon_deg);
        let normal = [
            a[1] * b[2] - a[2] * b[1],
            a[2] * b[0] - a[0] * b[2],
            a[0] * b[1] - a[1] * b[0],
        ];
        let pieces = v.polyline(&[new_york, moscow]);
        assert_eq!(pieces.len(), 1);
        // 67 degrees of arc in steps of at most 2 degrees.
        assert!(pieces[0].len() >= 34, "{}", pieces[0].len());
        for s in &pieces[0] {
            let p = v.unproject(*s).expect("on the globe");
            let u = unit(p.lat_deg, p.lon_deg);
            assert!(dot(u, normal).abs() < 1e-9, "off the great circle: {p:?}");
        }
        // The great circle bows north of the straight screen line (it passes near 60N).
        let mid = pieces[0][pieces[0].len() / 2];
        let (s0, s1) = (pieces[0][0], *pieces[0].last().unwrap());
        let chord_y = s0.y + (s1.y - s0.y) * (mid.x - s0.x) / (s1.x - s0.x);
        assert!(mid.y < chord_y - 3.0, "{mid:?} vs chord at {chord_y}");

        // From the near side round the back and out again: two pieces, ending and starting
        // on the horizon, and nothing drawn from the far side.
        let v = globe(0.0, 0.0, 2.0);
        let line = [
            GeoPoint {
                lat_deg: 0.0,
                lon_deg: 60.0,
            },
            GeoPoint {
                lat_deg: 0.0,
                lon_deg: 150.0,
            },
            GeoPoint {
                lat_deg: 0.0,
                lon_deg: -150.0,
            },
            GeoPoint {
                lat_deg: 0.0,
                lon_deg: -60.0,
            },
        ];
        let pieces = v.polyline(&line);
        assert_eq!(pieces.len(), 2, "{pieces:?}");
        let r = v.globe_radius_px();
        assert!(close(pieces[0].last().unwrap().x, 400.0 + r, 1e-6));
        assert!(close(pieces[1][0].x, 400.0 - r, 1e-6));
        for s in pieces.iter().flatten() {
            assert!((s.x - g.cx).hypot(s.y - g.cy) <= r * (1.0 + 1e-9));
        }
        // Wholly behind: nothing.
        assert!(
            v.polyline(&[
                GeoPoint {
                    lat_deg: 10.0,
                    lon_deg: 170.0
                },
                GeoPoint {
                    lat_deg: -10.0,
                    lon_deg: -170.0
                }
            ])
            .is_empty()
        );
        // Leg by leg gives the same path as the whole line.
        let mut whole = Vec::new();
        v.trace(&line, &mut |op| whole.push(op));
        let mut legs = Vec::new();
        let mut from = None;
        for p in line {
            v.trace_leg(from, p, &mut |op| legs.push(op));
            from = Some(p);
        }
        assert_eq!(whole, legs);
    }

    #[test]
    fn flat_trace_repeats_world_copies_like_the_transform() {
        let v = Viewport {
            center_lon_deg: 170.0,
            ..view()
        };
        let line = [
            GeoPoint {
                lat_deg: 0.0,
                lon_deg: 170.0,
            },
            GeoPoint {
                lat_deg: 10.0,
                lon_deg: 190.0,
            },
        ];
        let pieces = v.polyline(&line);
        let s = v.project(line[0]);
        assert!(
            pieces
                .iter()
                .any(|p| close(p[0].x, s.x, 1e-9) && close(p[0].y, s.y, 1e-9))
        );
        assert!(
            pieces
                .iter()
                .all(|p| close(p[1].x - p[0].x, 20.0 * 4.0, 1e-9))
        );
    }

    #[test]
    fn globe_rings_close_along_the_horizon() {
        let v = globe(0.0, 0.0, 2.0);
        let r = v.globe_radius_px();
        let circle = |lat0: f64, lon0: f64, radius_deg: f64| -> Vec<GeoPoint> {
            // Points at a fixed angular distance from a centre (spherical destination formula).
            let (p0, l0) = (lat0.to_radians(), lon0.to_radians());
            let d = radius_deg.to_radians();
            (0..72)
                .map(|i| {
                    let b = f64::from(i) * 5f64.to_radians();
                    let lat = (p0.sin() * d.cos() + p0.cos() * d.sin() * b.cos()).asin();
                    let lon =
                        l0 + (b.sin() * d.sin() * p0.cos()).atan2(d.cos() - p0.sin() * lat.sin());
                    GeoPoint {
                        lat_deg: lat.to_degrees(),
                        lon_deg: wrap_lon(lon.to_degrees()),
                    }
                })
                .collect()
        };
        let mut out = Vec::new();
        // Around the centre of the view: winds once, all on the disc.
        let w = v
            .globe_ring(&circle(0.0, 0.0, 20.0), &mut out)
            .expect("seen");
        assert_eq!(w.abs(), 1);
        // Wholly on the far side: not drawn.
        assert!(v.globe_ring(&circle(0.0, 180.0, 30.0), &mut out).is_none());
        // Straddling the horizon (centred on it): stays on the disc, does not wind, and its
        // hidden half follows the limb.
        let w = v
            .globe_ring(&circle(0.0, 90.0, 30.0), &mut out)
            .expect("half seen");
        assert_eq!(w, 0);
        let on_limb = out
            .iter()
            .filter(|s| close((s.x - 400.0).hypot(s.y - 300.0), r, 1e-6))
            .count();
        assert!(on_limb >= 12, "{on_limb}");
        assert!(
            out.iter()
                .all(|s| (s.x - 400.0).hypot(s.y - 300.0) <= r * (1.0 + 1e-9))
        );
        // Its limb part spans 60 degrees of the limb (from 30N to 30S at 90E), joined along
        // the circle: no chord cuts inside the disc by more than 0.1% of the radius.
        for pair in out.windows(2) {
            let m = midpoint(pair[0], pair[1]);
            let both = [pair[0], pair[1]]
                .iter()
                .all(|s| close((s.x - 400.0).hypot(s.y - 300.0), r, 1e-6));
            if both {
                assert!((m.x - 400.0).hypot(m.y - 300.0) > r * 0.999);
            }
        }
        // A ring that contains the point opposite the centre and shows on the near side: it
        // winds once though it does not contain the centre (render.rs adds the whole disc).
        let w = v
            .globe_ring(&circle(0.0, 180.0, 120.0), &mut out)
            .expect("seen");
        assert_eq!(w.abs(), 1);
        // On the flat map there is no globe ring.
        assert!(
            view()
                .globe_ring(&circle(0.0, 0.0, 20.0), &mut out)
                .is_none()
        );
    }

    #[test]
    fn globe_drag_moves_the_centre_point_with_the_pointer() {
        let v = globe(30.0, 20.0, 3.0);
        let centre = GeoPoint {
            lat_deg: 30.0,
            lon_deg: 20.0,
        };
        for (dx, dy) in [(40.0, 0.0), (0.0, -25.0), (-60.0, 35.0)] {
            let p = v.panned(dx, dy);
            let s = p.project(centre);
            assert!(
                close(s.x, 400.0 + dx, 1e-6) && close(s.y, 300.0 + dy, 1e-6),
                "{s:?}"
            );
        }
        // At the pole no rotation without roll can do it: longitude spins instead.
        let pole = globe(90.0, 0.0, 3.0).panned(30.0, 0.0);
        assert!(close(pole.center_lon_deg, -10.0, 1e-9) && pole.center_lat_deg == 90.0);
        // Through the gesture code, as the app drags.
        let mut g = Gestures::default();
        g.down(1, ScreenPoint { x: 400.0, y: 300.0 });
        let GestureOutcome::View(moved) = g.moved(1, ScreenPoint { x: 450.0, y: 300.0 }, &v) else {
            panic!("a drag moves the globe");
        };
        assert!(moved.center_lon_deg < 20.0);
        assert_eq!(moved.projection, Projection::Globe);
    }

    #[test]
    fn globe_zoom_keeps_the_point_under_the_cursor() {
        let v = globe(10.0, 100.0, 4.0);
        let anchor = ScreenPoint { x: 520.0, y: 230.0 };
        let g0 = v.unproject(anchor).unwrap();
        let mut z = v;
        for factor in [1.5, 3.0, 10.0, 0.7] {
            z = z.zoomed_at(factor, anchor);
            let g = z.unproject(anchor).unwrap();
            assert!(
                close(g.lat_deg, g0.lat_deg, 1e-9) && close(g.lon_deg, g0.lon_deg, 1e-9),
                "{g:?} vs {g0:?}"
            );
        }
        assert!(close(z.px_per_deg, 4.0 * 1.5 * 3.0 * 10.0 * 0.7, 1e-9));
        // Off the globe, the zoom is around the centre.
        let off = v.zoomed_at(2.0, ScreenPoint { x: 1.0, y: 1.0 });
        assert_eq!((off.center_lat_deg, off.center_lon_deg), (10.0, 100.0));
    }

    #[test]
    fn caps_skip_what_is_out_of_sight() {
        let p = |lat_deg: f64, lon_deg: f64| GeoPoint { lat_deg, lon_deg };
        // Whole globe in view: a hemisphere round the centre.
        let v = globe(0.0, 0.0, 2.0);
        let cap = v.globe_view_cap().unwrap();
        assert!(close(cap.radius_rad, std::f64::consts::FRAC_PI_2, 1e-12));
        assert!(view().globe_view_cap().is_none());
        // Zoomed in: 800x600 at R = 100 px per degree * 180 / pi (5730 px): the corners are
        // 500 px from the centre, asin(500 / 5730) = 5.0 degrees.
        let z = globe(34.0, -118.0, 100.0);
        let cap = z.globe_view_cap().unwrap();
        assert!(close(cap.radius_rad.to_degrees(), 5.006, 1e-3), "{cap:?}");
        // Japan is out of sight from Los Angeles up close; Long Beach is in it.
        let japan = SphereCap::around(&[p(31.0, 130.0), p(45.5, 141.9), p(35.0, 140.0)]).unwrap();
        let long_beach = SphereCap::around(&[p(33.75, -118.2), p(33.8, -118.1)]).unwrap();
        assert!(cap.disjoint(&japan));
        assert!(!cap.disjoint(&long_beach));
        // Every point of a shape is inside its own cap.
        let shape = [p(10.0, 20.0), p(15.0, 40.0), p(-5.0, 30.0)];
        let c = SphereCap::around(&shape).unwrap();
        for q in shape {
            let single = SphereCap {
                centre: unit(q.lat_deg, q.lon_deg),
                radius_rad: 0.0,
            };
            assert!(!c.disjoint(&single));
        }
        // A ring round the whole globe has no useful cap.
        assert!(SphereCap::around(&[p(0.0, 0.0), p(0.0, 120.0), p(0.0, -120.0)]).is_none());
        assert!(SphereCap::around(&[]).is_none());
    }

    #[test]
    fn switching_to_the_globe_fits_it() {
        let flat = Viewport::whole_world(800.0, 600.0);
        let g = flat.with_projection(Projection::Globe);
        assert_eq!(g.projection, Projection::Globe);
        assert!(close(g.globe_radius_px(), 0.45 * 600.0, 1e-9));
        assert_eq!(g.world_copies(), 0..=0);
        // Zoomed in further than the fit: the zoom is kept, and back to flat unchanged.
        let near = flat.zoomed_at(50.0, ScreenPoint { x: 400.0, y: 300.0 });
        let g = near.with_projection(Projection::Globe);
        assert_eq!(g.px_per_deg, near.px_per_deg);
        assert_eq!(g.with_projection(Projection::Flat), near);
    }

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn los_angeles_projects_to_known_pixel_and_back() {
        let v = view();
        let s = v.project(LOS_ANGELES);
        // 720 + (-118.25 * 4) = 247; 360 - 34.05 * 4 = 223.8
        assert!(close(s.x, 247.0, 1e-9), "{s:?}");
        assert!(close(s.y, 223.8, 1e-9), "{s:?}");
        let back = v.unproject(s).unwrap();
        assert!(close(back.lat_deg, 34.05, 1e-9) && close(back.lon_deg, -118.25, 1e-9));
    }

    #[test]
    fn round_trip_over_a_grid_of_points_and_views() {
        for &(clon, clat, scale) in &[
            (0.0, 0.0, 4.0),
            (170.0, -30.0, 37.5),
            (-179.9, 60.0, 1000.0),
            (33.3, 89.0, 2.0),
        ] {
            let v = Viewport {
                center_lon_deg: clon,
                center_lat_deg: clat,
                px_per_deg: scale,
                ..view()
            };
            for x in (0..=1440).step_by(90) {
                for y in (0..=720).step_by(45) {
                    let s = ScreenPoint {
                        x: f64::from(x),
                        y: f64::from(y),
                    };
                    if let Some(g) = v.unproject(s) {
                        assert!((-180.0..180.0).contains(&g.lon_deg));
                        let back = v.project(g);
                        // Only the nearest copy of the world is projected back, so x may
                        // differ by a whole world width.
                        let world = 360.0 * scale;
                        let dx = (back.x - s.x).rem_euclid(world);
                        assert!(
                            dx < 1e-6 || world - dx < 1e-6,
                            "x {s:?} -> {g:?} -> {back:?}"
                        );
                        assert!(close(back.y, s.y, 1e-6), "y {s:?} -> {back:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn above_the_pole_is_not_a_place() {
        let v = view();
        assert!(v.unproject(ScreenPoint { x: 100.0, y: -1.0 }).is_none());
        assert!(v.unproject(ScreenPoint { x: 100.0, y: 721.0 }).is_none());
        assert!(v.unproject(ScreenPoint { x: 100.0, y: 0.0 }).is_some());
    }

    #[test]
    fn wrap_lon_normalises_into_half_open_range() {
        assert_eq!(wrap_lon(180.0), -180.0);
        assert_eq!(wrap_lon(-180.0), -180.0);
        assert_eq!(wrap_lon(190.0), -170.0);
        assert_eq!(wrap_lon(-190.0), 170.0);
        assert_eq!(wrap_lon(720.5), 0.5);
        assert_eq!(wrap_lon(f64::NAN), 0.0);
        assert!(wrap_lon(-1e-300) < 180.0);
    }

    #[test]
    fn zoom_keeps_the_point_under_the_cursor() {
        let v = view();
        let anchor = v.project(LOS_ANGELES);
        let mut z = v;
        for factor in [1.5, 3.0, 10.0, 0.7, 100.0] {
            z = z.zoomed_at(factor, anchor);
            let g = z.unproject(anchor).unwrap();
            assert!(close(g.lat_deg, 34.05, 1e-9), "{g:?}");
            assert!(close(g.lon_deg, -118.25, 1e-9), "{g:?}");
        }
        assert!(z.px_per_deg > v.px_per_deg * 100.0);
    }

    #[test]
    fn zoom_is_clamped_and_rejects_nonsense() {
        let v = view();
        assert_eq!(
            v.zoomed_at(1e12, ScreenPoint { x: 0.0, y: 0.0 }).px_per_deg,
            MAX_PX_PER_DEG
        );
        assert_eq!(
            v.zoomed_at(1e-12, ScreenPoint { x: 0.0, y: 0.0 })
                .px_per_deg,
            MIN_PX_PER_DEG
        );
        assert_eq!(v.zoomed_at(f64::NAN, ScreenPoint { x: 0.0, y: 0.0 }), v);
        assert_eq!(v.zoomed_at(-2.0, ScreenPoint { x: 0.0, y: 0.0 }), v);
        assert_eq!(v.panned(f64::INFINITY, 0.0), v);
    }

    #[test]
    fn pan_moves_content_with_the_pointer_and_wraps() {
        let v = view();
        // Dragging right by 40 px (10 degrees at 4 px/deg) brings western places into view.
        let p = v.panned(40.0, 0.0);
        assert!(close(p.center_lon_deg, -10.0, 1e-12));
        let far = v.panned(-4.0 * 200.0, 0.0);
        assert!(close(far.center_lon_deg, -160.0, 1e-12), "{far:?}");
        // The centre never leaves the globe vertically.
        assert_eq!(v.panned(0.0, 1e6).center_lat_deg, 90.0);
    }

    #[test]
    fn copy_transform_agrees_with_project() {
        let v = Viewport {
            center_lon_deg: 150.0,
            center_lat_deg: 20.0,
            px_per_deg: 3.0,
            ..view()
        };
        let p = GeoPoint {
            lat_deg: -33.87,
            lon_deg: 151.21,
        }; // Sydney
        let s = v.project(p);
        let [a, d, e, f] = v.copy_transform(0);
        assert!(close(a * p.lon_deg + e, s.x, 1e-9));
        assert!(close(d * p.lat_deg + f, s.y, 1e-9));
        // Across the antimeridian, the next copy holds the point seen east of the centre.
        let fiji_west = GeoPoint {
            lat_deg: -17.7,
            lon_deg: -178.0,
        };
        let s2 = v.project(fiji_west);
        let [a, _, e1, _] = v.copy_transform(1);
        assert!(close(a * fiji_west.lon_deg + e1, s2.x, 1e-9));
    }

    #[test]
    fn centring_on_a_place_puts_it_in_the_middle() {
        let v = view();
        let c = v.centered_on(LOS_ANGELES, 8.0);
        let s = c.project(LOS_ANGELES);
        assert!(close(s.x, v.width_px / 2.0, 1e-9) && close(s.y, v.height_px / 2.0, 1e-9));
        assert!(c.px_per_deg >= 8.0);
        // Already closer than asked: the zoom is kept.
        let z = v.zoomed_at(100.0, ScreenPoint { x: 0.0, y: 0.0 });
        assert_eq!(z.centered_on(LOS_ANGELES, 8.0).px_per_deg, z.px_per_deg);
        let nonsense = GeoPoint {
            lat_deg: f64::NAN,
            lon_deg: 0.0,
        };
        assert_eq!(v.centered_on(nonsense, 8.0), v);
    }

    #[test]
    fn visible_world_copies() {
        let v = view(); // exactly one world wide
        assert_eq!(v.world_copies(), 0..=0);
        let east = Viewport {
            center_lon_deg: 170.0,
            ..v
        };
        assert_eq!(east.world_copies(), 0..=1);
        let zoomed_out = Viewport {
            px_per_deg: 1.0,
            ..v
        }; // 1440 deg wide
        assert_eq!(zoomed_out.world_copies(), -2..=2);
    }

    #[test]
    fn graticule_step_grows_with_zoom_out() {
        let v = view();
        assert_eq!(v.graticule_step_deg(60.0), 15.0);
        assert_eq!(
            Viewport {
                px_per_deg: 1.0,
                ..v
            }
            .graticule_step_deg(60.0),
            90.0
        );
        assert_eq!(
            Viewport {
                px_per_deg: 100.0,
                ..v
            }
            .graticule_step_deg(60.0),
            1.0
        );
    }

    #[test]
    fn scale_bar_is_round_and_fits() {
        let v = view(); // 4 px/deg at the equator: ~27.8 km per px
        let (m, px) = v.scale_bar(120.0);
        assert_eq!(m, 2_000_000.0);
        assert!(px <= 120.0 && px > 60.0, "{px}");
        let city = Viewport {
            px_per_deg: 10_000.0,
            center_lat_deg: 34.05,
            ..v
        };
        let (m, px) = city.scale_bar(120.0);
        assert!(px <= 120.0 && px > 40.0, "{m} {px}");
        assert_eq!(m, 1000.0); // ~9.2 m per pixel at 34N: 120 px is ~1.1 km
        assert_eq!(format_distance(m), "1 km");
        assert_eq!(format_distance(500.0), "500 m");
        assert_eq!(format_distance(2_000_000.0), "2000 km");
    }

    #[test]
    fn formats_coordinates() {
        assert_eq!(format_geo(LOS_ANGELES, 2), "34.05°N 118.25°W");
        assert_eq!(
            format_geo(
                GeoPoint {
                    lat_deg: -33.87,
                    lon_deg: 151.21
                },
                1
            ),
            "33.9°S 151.2°E"
        );
        assert_eq!(coordinate_decimals(4.0), 1);
        assert_eq!(coordinate_decimals(1000.0), 3);
    }

    #[test]
    fn drag_pans_and_a_still_press_clicks() {
        let v = view();
        let mut g = Gestures::default();
        g.down(1, ScreenPoint { x: 100.0, y: 100.0 });
        let out = g.moved(1, ScreenPoint { x: 140.0, y: 100.0 }, &v);
        assert_eq!(out, GestureOutcome::View(v.panned(40.0, 0.0)));
        assert_eq!(
            g.up(1, ScreenPoint { x: 140.0, y: 100.0 }),
            GestureOutcome::None
        );

        g.down(1, ScreenPoint { x: 10.0, y: 10.0 });
        let _ = g.moved(1, ScreenPoint { x: 12.0, y: 11.0 }, &v);
        assert_eq!(
            g.up(1, ScreenPoint { x: 12.0, y: 11.0 }),
            GestureOutcome::Click(ScreenPoint { x: 12.0, y: 11.0 })
        );
        assert!(!g.is_active());
    }

    #[test]
    fn pinch_zooms_around_the_midpoint() {
        let v = view();
        let mut g = Gestures::default();
        let a = ScreenPoint { x: 600.0, y: 300.0 };
        let b = ScreenPoint { x: 700.0, y: 300.0 };
        let mid_geo = v.unproject(midpoint(a, b)).unwrap();
        g.down(1, a);
        g.down(2, b);
        // Spread the fingers symmetrically to twice the distance.
        let GestureOutcome::View(z) = g.moved(2, ScreenPoint { x: 800.0, y: 300.0 }, &v) else {
            panic!("second finger move must change the view");
        };
        // Distance 100 -> 200 doubles the zoom; the midpoint moved 50 px right.
        assert!(close(z.px_per_deg, 8.0, 1e-12));
        let under_new_mid = z.unproject(ScreenPoint { x: 700.0, y: 300.0 }).unwrap();
        assert!(close(under_new_mid.lon_deg, mid_geo.lon_deg, 1e-9));
        assert!(close(under_new_mid.lat_deg, mid_geo.lat_deg, 1e-9));
        // Lifting the fingers after a pinch is never a click.
        assert_eq!(g.up(2, b), GestureOutcome::None);
        assert_eq!(g.up(1, a), GestureOutcome::None);
    }

    #[test]
    fn cancelled_press_is_not_a_click() {
        let mut g = Gestures::default();
        g.down(7, ScreenPoint { x: 1.0, y: 1.0 });
        g.cancel(7);
        assert_eq!(
            g.up(7, ScreenPoint { x: 1.0, y: 1.0 }),
            GestureOutcome::None
        );
    }

    #[test]
    fn wheel_zoom_direction_and_bounds() {
        assert!(wheel_zoom_factor(100.0, 0) < 1.0);
        assert!(wheel_zoom_factor(-100.0, 0) > 1.0);
        assert!(close(
            wheel_zoom_factor(3.0, 1),
            wheel_zoom_factor(48.0, 0),
            1e-12
        ));
        assert_eq!(wheel_zoom_factor(f64::NAN, 0), 1.0);
        assert!(wheel_zoom_factor(1e9, 0) > 0.2);
    }

    /// Whether every point shows inside the map less `insets` (on the near side of a globe).
    fn inside_box(v: &Viewport, points: &[GeoPoint], i: Insets) -> bool {
        points.iter().all(|p| {
            v.project_visible(*p).is_some_and(|s| {
                s.x >= i.left - 1e-6
                    && s.x <= v.width_px - i.right + 1e-6
                    && s.y >= i.top - 1e-6
                    && s.y <= v.height_px - i.bottom + 1e-6
            })
        })
    }

    #[test]
    fn framing_fits_a_scenario_inside_the_free_part_of_the_map() {
        let insets = Insets {
            left: 300.0,
            right: 384.0,
            top: 84.0,
            bottom: 110.0,
        };
        // The SoCal preset: launch point, radar, batteries, Los Angeles.
        let socal = [
            GeoPoint::new(36.5, -123.1),
            GeoPoint::new(34.73, -120.57),
            LOS_ANGELES,
            GeoPoint::new(32.71, -117.15),
        ];
        for projection in [Projection::Flat, Projection::Globe] {
            let start = Viewport::whole_world(1280.0, 720.0).with_projection(projection);
            let v = start.framing(&socal, insets);
            assert_eq!(v.projection, projection);
            assert!(inside_box(&v, &socal, insets), "{v:?}");
            // Zoomed in from the whole world (3.6 px per degree) as far as the cap allows:
            // six degrees of longitude fill the box at 100.
            assert_eq!(v.px_per_deg, FRAME_MAX_PX_PER_DEG, "{v:?}");
        }
        // Across the date line the short way round (20 degrees, not 340).
        let pacific = [GeoPoint::new(10.0, 170.0), GeoPoint::new(-10.0, -170.0)];
        let v = Viewport::whole_world(1280.0, 720.0).framing(&pacific, Insets::default());
        assert!(inside_box(&v, &pacific, Insets::default()), "{v:?}");
        assert!(v.px_per_deg > 20.0, "{v:?}");
        assert!(v.center_lon_deg.abs() > 179.0, "{v:?}");
        // An ICBM from Moscow to New York on the globe: both on the near side.
        let icbm = [GeoPoint::new(55.75, 37.62), GeoPoint::new(40.71, -74.0)];
        let globe = Viewport::whole_world(1280.0, 720.0).with_projection(Projection::Globe);
        let v = globe.framing(&icbm, insets);
        assert!(inside_box(&v, &icbm, insets), "{v:?}");
        // As large as fits: the two points span most of the box's width.
        let (a, b) = (v.project(icbm[0]), v.project(icbm[1]));
        assert!(
            (a.x - b.x).abs() > 0.8 * (1280.0 - 300.0 - 384.0),
            "{v:?} {a:?} {b:?}"
        );
        // One site: centred, no closer than the cap; nothing to frame: unchanged.
        let one = Viewport::whole_world(1280.0, 720.0).framing(&[LOS_ANGELES], Insets::default());
        assert_eq!(one.px_per_deg, FRAME_MAX_PX_PER_DEG);
        assert!(close(one.center_lat_deg, 34.05, 1e-9) && close(one.center_lon_deg, -118.25, 1e-9));
        let start = Viewport::whole_world(1280.0, 720.0);
        assert_eq!(start.framing(&[], insets), start);
        assert_eq!(
            start.framing(&[GeoPoint::new(f64::NAN, 0.0)], insets),
            start
        );
        // Insets larger than the map leave a centred quarter.
        let huge = Insets {
            left: 2000.0,
            right: 2000.0,
            top: 2000.0,
            bottom: 2000.0,
        };
        let v = start.framing(&socal, huge);
        assert!(inside_box(
            &v,
            &socal,
            Insets {
                left: 480.0,
                right: 480.0,
                top: 270.0,
                bottom: 270.0
            }
        ));
    }
}
