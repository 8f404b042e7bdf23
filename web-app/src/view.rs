//! The map's viewport: the pure maths that maps geographic coordinates to screen pixels and
//! back, and the gestures that change it (drag to pan, wheel and pinch to zoom around a point).
//!
//! The projection is equirectangular (plate carrée): `x` grows with longitude and `y` falls with
//! latitude, both at the same scale in pixels per degree. The world repeats horizontally, so the
//! map can be panned past the antimeridian without a seam; longitudes reported to the user are
//! always normalised to `[-180, 180)`.
//!
//! Invariants: nothing here touches the DOM or Leptos, so every function is unit-tested natively;
//! a [`Viewport`] always has a finite centre, a latitude in `[-90, 90]` and a scale inside
//! [`MIN_PX_PER_DEG`, `MAX_PX_PER_DEG`].

/// Smallest zoom: the whole world fits in about 180 pixels.
pub const MIN_PX_PER_DEG: f64 = 0.5;
/// Largest zoom: about 5.6 metres per pixel at the equator (city scale).
pub const MAX_PX_PER_DEG: f64 = 20_000.0;
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

/// A geographic point in degrees (WGS84 latitude and longitude).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GeoPoint {
    /// Latitude in degrees, positive north, in `[-90, 90]`.
    pub lat_deg: f64,
    /// Longitude in degrees, positive east, normalised to `[-180, 180)`.
    pub lon_deg: f64,
}

impl GeoPoint {
    /// Los Angeles city hall, the old system's defended city (34.05N 118.25W).
    pub const LOS_ANGELES: GeoPoint = GeoPoint {
        lat_deg: 34.05,
        lon_deg: -118.25,
    };
}

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
        }
        .clamped()
    }

    /// Screen position of a geographic point, on the copy of the world nearest the centre.
    pub fn project(&self, p: GeoPoint) -> ScreenPoint {
        let dlon = wrap_lon(p.lon_deg - self.center_lon_deg);
        ScreenPoint {
            x: self.width_px / 2.0 + dlon * self.px_per_deg,
            y: self.height_px / 2.0 - (p.lat_deg - self.center_lat_deg) * self.px_per_deg,
        }
    }

    /// Geographic point under a screen position, or `None` above the pole or below the
    /// south pole. Longitudes are normalised, so any copy of the world answers the same.
    pub fn unproject(&self, s: ScreenPoint) -> Option<GeoPoint> {
        let lat_deg = self.center_lat_deg - (s.y - self.height_px / 2.0) / self.px_per_deg;
        if !(-90.0..=90.0).contains(&lat_deg) {
            return None;
        }
        let lon_deg = wrap_lon(self.center_lon_deg + (s.x - self.width_px / 2.0) / self.px_per_deg);
        Some(GeoPoint { lat_deg, lon_deg })
    }

    /// Longitude (not wrapped) at a screen x: used to know which copies of the world are seen.
    pub fn raw_lon_at(&self, x: f64) -> f64 {
        self.center_lon_deg + (x - self.width_px / 2.0) / self.px_per_deg
    }

    /// The integer world copies (`k` in `lon + 360 k`) visible in the viewport, left to right.
    pub fn world_copies(&self) -> std::ops::RangeInclusive<i32> {
        let left = self.raw_lon_at(0.0);
        let right = self.raw_lon_at(self.width_px);
        let first = ((left + 180.0) / 360.0).floor() as i32;
        let last = ((right - 180.0) / 360.0).ceil() as i32;
        first.clamp(-8, 8)..=last.clamp(-8, 8)
    }

    /// The affine transform (canvas `setTransform(a, 0, 0, d, e, f)`) that maps degrees of the
    /// world copy `k` to CSS pixels: `x = a * lon + e`, `y = d * lat + f`.
    pub fn copy_transform(&self, k: i32) -> [f64; 4] {
        let a = self.px_per_deg;
        let e = self.width_px / 2.0 + (360.0 * f64::from(k) - self.center_lon_deg) * a;
        let f = self.height_px / 2.0 + self.center_lat_deg * a;
        [a, -a, e, f]
    }

    /// The same view moved by a drag of `(dx, dy)` CSS pixels (content follows the pointer).
    pub fn panned(&self, dx: f64, dy: f64) -> Viewport {
        if !(dx.is_finite() && dy.is_finite()) {
            return *self;
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

    /// The same view on a map of a new size (the centre and zoom are kept).
    pub fn resized(&self, width_px: f64, height_px: f64) -> Viewport {
        Viewport {
            width_px: sanitize_size(width_px),
            height_px: sanitize_size(height_px),
            ..*self
        }
        .clamped()
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
        }
    }

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn los_angeles_projects_to_known_pixel_and_back() {
        let v = view();
        let s = v.project(GeoPoint::LOS_ANGELES);
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
        let anchor = v.project(GeoPoint::LOS_ANGELES);
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
        let c = v.centered_on(GeoPoint::LOS_ANGELES, 8.0);
        let s = c.project(GeoPoint::LOS_ANGELES);
        assert!(close(s.x, v.width_px / 2.0, 1e-9) && close(s.y, v.height_px / 2.0, 1e-9));
        assert!(c.px_per_deg >= 8.0);
        // Already closer than asked: the zoom is kept.
        let z = v.zoomed_at(100.0, ScreenPoint { x: 0.0, y: 0.0 });
        assert_eq!(
            z.centered_on(GeoPoint::LOS_ANGELES, 8.0).px_per_deg,
            z.px_per_deg
        );
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
        assert_eq!(format_geo(GeoPoint::LOS_ANGELES, 2), "34.05°N 118.25°W");
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
}
