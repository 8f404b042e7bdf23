//! Canvas drawing of the simulation, on its own canvas above the base map (so that a frame
//! redraws only the moving things): ground tracks, current positions by flight phase, aim
//! points and predicted impact points, impacts, and the hovered or selected missile.
//!
//! Ground tracks only grow while time runs forward, so they are drawn on a canvas of their own
//! (under the moving things) that keeps its pixels between frames: a frame strokes only the
//! segments added since the last one, in one batched path. Each track is also kept as a
//! `Path2D` extended with the new points, to redraw that canvas whole when the view moves,
//! when history is rewritten ([`Player::generation`]) or when a track would shrink (a seek
//! backwards; the cache is then dropped and rebuilt). Rasterising 500 tracks of 150 points
//! each took 15-20 ms of the main thread per frame in Chromium's software canvas, against
//! well under a millisecond for the new segments (see `docs/benchmarks.md`). The tracks are
//! stroked opaque and the canvas is made translucent by its CSS opacity, so a segment drawn
//! over its neighbour's joint does not darken it and overlapping tracks read as one.
//!
//! On the globe the cached paths are in pixels, followed along great circles and clipped at
//! the horizon ([`Viewport::trace_leg`]); they are kept while the view stays the same and
//! rebuilt when it moves. Markers on the far side are not drawn.

use std::collections::HashSet;

use wasm_bindgen::JsValue;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, Path2d};

use sim_core::MissileId;
use sim_core::engine::MissileView;
use sim_core::flight::Phase;
use sim_core::tracking::{TrackId, TrackStatus};

use crate::playback::Player;
use crate::view::{GeoPoint, PenOp, Projection, ScreenPoint, Viewport};

/// Colours of the simulation layer.
pub mod palette {
    /// Ground tracks (their canvas has the opacity of [`TRACK`]: see `style.css`).
    pub const TRACK_OPAQUE: &str = "rgb(255, 196, 87)";
    /// The live ends of the ground tracks, on the main canvas.
    pub const TRACK: &str = "rgba(255, 196, 87, 0.75)";
    /// Missiles in boost.
    pub const BOOST: &str = "#ff8c42";
    /// Missiles coasting.
    pub const COAST: &str = "#ffd166";
    /// Missiles re-entering.
    pub const REENTRY: &str = "#ff5a5f";
    /// Impacts.
    pub const IMPACT: &str = "#ff5a5f";
    /// Aim points.
    pub const AIM: &str = "rgba(216, 227, 238, 0.85)";
    /// Predicted impact points.
    pub const PREDICTED: &str = "rgba(120, 220, 255, 0.9)";
    /// Hover and selection rings.
    pub const HIGHLIGHT: &str = "#ffffff";
    /// Radar plots of missiles.
    pub const PLOT: &str = "rgba(200, 247, 225, 0.85)";
    /// False alarms.
    pub const FALSE_ALARM: &str = "rgba(200, 247, 225, 0.35)";
    /// Confirmed tracks, their history and impact ellipses.
    pub const TRACK_CONFIRMED: &str = "#59d8ff";
    /// Tentative tracks.
    pub const TRACK_TENTATIVE: &str = "rgba(89, 216, 255, 0.35)";
    /// Predicted impact ellipses of tracks.
    pub const TRACK_IMPACT: &str = "rgba(89, 216, 255, 0.8)";
}

/// A confirmed track's recent estimated positions are kept this long (ticks: 30 s).
const TRACK_HISTORY_TICKS: u64 = 300;
/// One history point per this many ticks (1 s).
const TRACK_HISTORY_EVERY: u64 = 10;
/// A past estimate of a track: (tick, latitude deg, longitude deg).
type HistoryPoint = (u64, f64, f64);
/// Width of the ground tracks (CSS px).
const TRACK_WIDTH_PX: f64 = 1.5;
/// Points of a drawn impact ellipse.
const ELLIPSE_POINTS: usize = 48;

/// One track's path and how much of the track it holds.
struct CachedTrack {
    missile: MissileId,
    path: Path2d,
    points: usize,
    /// Longitude span of the points (deg, unwrapped), to skip world copies out of sight.
    lon_span: (f64, f64),
    /// The last point added (on the globe, the next leg starts there).
    last: Option<GeoPoint>,
}

/// Adds a pen operation to a canvas path.
fn pen(path: &Path2d) -> impl FnMut(PenOp) + '_ {
    move |op| match op {
        PenOp::MoveTo(s) => path.move_to(s.x, s.y),
        PenOp::LineTo(s) => path.line_to(s.x, s.y),
    }
}

/// The kinds of marker, each drawn once per half pixel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Mark {
    Aim,
    Predicted,
    Impact,
    Boost,
    Coast,
    Reentry,
}

/// What the tracks' canvas holds the tracks drawn for: its size in device pixels and the view.
type TrackCanvasKey = (u32, u32, Viewport);

/// The simulation canvas, the tracks' canvas under it, and the cached track paths.
pub struct SimLayer {
    canvas: HtmlCanvasElement,
    ctx: CanvasRenderingContext2d,
    track_canvas: HtmlCanvasElement,
    track_ctx: CanvasRenderingContext2d,
    /// What the tracks' canvas shows (`None`: nothing valid, redraw it whole).
    tracks_drawn: Option<TrackCanvasKey>,
    /// The segments added to the cached tracks by the last [`SimLayer::update_tracks`] (in
    /// degrees on the flat map, pixels on the globe), for the tracks' canvas.
    fresh: Path2d,
    /// Whether `fresh` holds any segment (a canvas left alone costs nothing to composite).
    fresh_any: bool,
    tracks: Vec<CachedTrack>,
    /// The markers of the frame being drawn, by kind and half-pixel position (membership only:
    /// never iterated, so its order does not matter).
    marks: HashSet<(Mark, i32, i32)>,
    generation: u64,
    /// Recent estimated positions of each track (tick, lat, lon), by track id.
    track_history: Vec<(TrackId, Vec<HistoryPoint>)>,
    /// Tick and generation of the last history sample.
    history_at: (u64, u64),
    /// The missiles' views of the frame being drawn (kept to reuse the allocation).
    views: Vec<MissileView>,
    /// The globe view the cached paths were projected for (`None`: in degrees, flat map).
    cached_for: Option<Viewport>,
}

impl SimLayer {
    /// Takes the 2D contexts of the simulation canvas and of the tracks' canvas under it.
    pub fn new(
        canvas: HtmlCanvasElement,
        track_canvas: HtmlCanvasElement,
    ) -> Result<SimLayer, JsValue> {
        use wasm_bindgen::JsCast;
        let context = |c: &HtmlCanvasElement| -> Result<CanvasRenderingContext2d, JsValue> {
            c.get_context("2d")?
                .ok_or_else(|| JsValue::from_str("2d canvas context unavailable"))?
                .dyn_into::<CanvasRenderingContext2d>()
                .map_err(JsValue::from)
        };
        Ok(SimLayer {
            ctx: context(&canvas)?,
            canvas,
            track_ctx: context(&track_canvas)?,
            track_canvas,
            tracks_drawn: None,
            fresh: Path2d::new()?,
            fresh_any: false,
            tracks: Vec::new(),
            marks: HashSet::new(),
            generation: u64::MAX,
            track_history: Vec::new(),
            history_at: (0, u64::MAX),
            views: Vec::new(),
            cached_for: None,
        })
    }

    /// Extends the cached track paths to the current tick (rebuilding them when stale) and
    /// collects the added segments in `fresh`. Returns whether the cache was rebuilt.
    fn update_tracks(&mut self, player: &Player, view: &Viewport) -> Result<bool, JsValue> {
        let trails = player.trails();
        let tick = player.tick();
        let globe = (view.projection == Projection::Globe).then_some(*view);
        let stale = self.generation != player.generation()
            || self.cached_for != globe
            || self.tracks.len() > trails.len()
            || self
                .tracks
                .iter()
                .zip(trails)
                .any(|(c, t)| c.missile != t.missile || c.points > t.upto(tick).len());
        if stale {
            self.tracks.clear();
            self.generation = player.generation();
            self.cached_for = globe;
        }
        self.fresh = Path2d::new()?;
        self.fresh_any = false;
        let fresh = &self.fresh;
        for (i, trail) in trails.iter().enumerate() {
            if i == self.tracks.len() {
                self.tracks.push(CachedTrack {
                    missile: trail.missile,
                    path: Path2d::new()?,
                    points: 0,
                    lon_span: (f64::INFINITY, f64::NEG_INFINITY),
                    last: None,
                });
            }
            let cached = &mut self.tracks[i];
            for p in &trail.upto(tick)[cached.points..] {
                let g = GeoPoint::new(p.lat_deg, p.lon_deg);
                // A segment from the track's last point, if it has one.
                self.fresh_any |= cached.last.is_some();
                if globe.is_some() {
                    view.trace_leg(cached.last, g, &mut pen(&cached.path));
                    if let Some(last) = cached.last {
                        // The pen of `fresh` starts where this track's last leg ended.
                        view.trace_leg(None, last, &mut pen(fresh));
                        view.trace_leg(Some(last), g, &mut pen(fresh));
                    }
                } else if let Some(last) = cached.last {
                    cached.path.line_to(p.lon_deg, p.lat_deg);
                    fresh.move_to(last.lon_deg, last.lat_deg);
                    fresh.line_to(p.lon_deg, p.lat_deg);
                } else {
                    cached.path.move_to(p.lon_deg, p.lat_deg);
                }
                cached.last = Some(g);
                cached.points += 1;
                cached.lon_span.0 = cached.lon_span.0.min(p.lon_deg);
                cached.lon_span.1 = cached.lon_span.1.max(p.lon_deg);
            }
        }
        Ok(stale)
    }

    /// Draws the layer for `view` on a backing store of `dpr` device pixels per CSS pixel.
    pub fn draw(
        &mut self,
        view: &Viewport,
        dpr: f64,
        player: &Player,
        hover: Option<MissileId>,
        selected: Option<MissileId>,
    ) -> Result<(), JsValue> {
        let w = (view.width_px * dpr).round() as u32;
        let h = (view.height_px * dpr).round() as u32;
        if self.canvas.width() != w || self.canvas.height() != h {
            self.canvas.set_width(w);
            self.canvas.set_height(h);
        }
        // Invalid until this frame's segments are on it: after an error half way, the next
        // frame redraws it whole.
        let drawn = self.tracks_drawn.take();
        let rebuilt = self.update_tracks(player, view)?;
        let key = (w, h, *view);
        if rebuilt || drawn != Some(key) {
            self.draw_all_tracks(view, dpr, w, h)?;
        } else {
            self.draw_fresh_tracks(view, dpr)?;
        }
        self.tracks_drawn = Some(key);
        let globe = view.projection == Projection::Globe;
        let ctx = &self.ctx;
        ctx.set_transform(dpr, 0.0, 0.0, dpr, 0.0, 0.0)?;
        ctx.clear_rect(0.0, 0.0, view.width_px, view.height_px);
        let sim = player.sim();

        // The live end of each track: from its last recorded point to the missile now.
        let live = Path2d::new()?;
        let trails = player.trails();
        // Each view costs a geodetic conversion: made once per frame, used twice.
        self.views.clear();
        self.views.extend(sim.missile_views());
        for v in &self.views {
            // A killed missile stops where it was killed (the defence overlay marks the kill).
            if v.phase == Phase::Impacted || v.killed {
                continue;
            }
            let Ok(i) = trails.binary_search_by_key(&v.id, |t| t.missile) else {
                continue;
            };
            if let Some(last) = trails[i].upto(player.tick()).last() {
                if globe {
                    let from = GeoPoint::new(last.lat_deg, last.lon_deg);
                    let to = GeoPoint::new(v.lat_deg, v.lon_deg);
                    view.trace(&[from, to], &mut pen(&live));
                    continue;
                }
                live.move_to(last.lon_deg, last.lat_deg);
                let lon = last.lon_deg + crate::view::wrap_lon(v.lon_deg - last.lon_deg);
                live.line_to(lon, v.lat_deg);
            }
        }
        ctx.set_line_join("round");
        ctx.set_stroke_style_str(palette::TRACK);
        if globe {
            ctx.set_line_width(TRACK_WIDTH_PX);
            ctx.stroke_with_path(&live);
        }
        // The live ends are within a degree of their tracks: drawn under each world copy in
        // sight.
        for k in Self::flat_copies(view) {
            let [a, d, e, f] = view.copy_transform(k);
            ctx.set_transform(a * dpr, 0.0, 0.0, d * dpr, e * dpr, f * dpr)?;
            ctx.set_line_width(TRACK_WIDTH_PX / a);
            ctx.stroke_with_path(&live);
        }
        ctx.set_transform(dpr, 0.0, 0.0, dpr, 0.0, 0.0)?;

        // Markers in pixels, batched by kind.
        let boost = Path2d::new()?;
        let coast = Path2d::new()?;
        let reentry = Path2d::new()?;
        let impacts = Path2d::new()?;
        let aims = Path2d::new()?;
        let predicted = Path2d::new()?;
        let highlight = Path2d::new()?;
        let dot = |path: &Path2d, x: f64, y: f64, r: f64| -> Result<(), JsValue> {
            path.move_to(x + r, y);
            path.arc(x, y, r, 0.0, std::f64::consts::TAU)
        };
        let cross = |path: &Path2d, x: f64, y: f64, r: f64| {
            path.move_to(x - r, y - r);
            path.line_to(x + r, y + r);
            path.move_to(x + r, y - r);
            path.line_to(x - r, y + r);
        };
        // A marker drawn exactly over one of its kind adds nothing but rasterising time (a
        // salvo's 500 aim points are one point): each kind is drawn once per half pixel.
        let marks = &mut self.marks;
        marks.clear();
        let mut first = |kind: Mark, s: ScreenPoint| {
            marks.insert((kind, (s.x * 2.0).round() as i32, (s.y * 2.0).round() as i32))
        };
        for (m, v) in sim.missiles().iter().zip(&self.views) {
            let aim = view.project_visible(m.target);
            let p = view.project_visible(m.predicted.impact);
            let Some(s) = view.project_visible(GeoPoint::new(v.lat_deg, v.lon_deg)) else {
                if let (Some(aim), false) = (aim, v.phase == Phase::Impacted)
                    && first(Mark::Aim, aim)
                {
                    cross(&aims, aim.x, aim.y, 4.0);
                }
                continue;
            };
            if v.phase == Phase::Impacted {
                if first(Mark::Impact, s) {
                    cross(&impacts, s.x, s.y, 5.0);
                }
                continue;
            }
            if v.killed {
                continue;
            }
            if let Some(aim) = aim
                && first(Mark::Aim, aim)
            {
                cross(&aims, aim.x, aim.y, 4.0);
            }
            if let Some(p) = p
                && first(Mark::Predicted, p)
            {
                dot(&predicted, p.x, p.y, 3.0)?;
            }
            let (path, kind) = match v.phase {
                Phase::Boost => (&boost, Mark::Boost),
                Phase::Coast => (&coast, Mark::Coast),
                Phase::Reentry | Phase::Impacted => (&reentry, Mark::Reentry),
            };
            if first(kind, s) {
                dot(path, s.x, s.y, 3.5)?;
            }
            if Some(v.id) == hover || Some(v.id) == selected {
                dot(&highlight, s.x, s.y, 8.0)?;
            }
        }
        ctx.set_line_width(1.5);
        ctx.set_stroke_style_str(palette::AIM);
        ctx.stroke_with_path(&aims);
        ctx.set_stroke_style_str(palette::PREDICTED);
        ctx.stroke_with_path(&predicted);
        ctx.set_line_width(2.0);
        ctx.set_stroke_style_str(palette::IMPACT);
        ctx.stroke_with_path(&impacts);
        for (path, colour) in [
            (&boost, palette::BOOST),
            (&coast, palette::COAST),
            (&reentry, palette::REENTRY),
        ] {
            ctx.set_fill_style_str(colour);
            ctx.fill_with_path_2d(path);
        }
        ctx.set_stroke_style_str(palette::HIGHLIGHT);
        ctx.stroke_with_path(&highlight);
        self.draw_sensing(view, player)
    }

    /// The world copies (flat map) whose transform can put a track in sight; none on the globe,
    /// where paths are in pixels already.
    fn flat_copies(view: &Viewport) -> impl Iterator<Item = i32> {
        let r = view.world_copies();
        let flat = view.projection != Projection::Globe;
        (r.start() - 1..=r.end() + 1).filter(move |_| flat)
    }

    /// Redraws the tracks' canvas whole: every cached track, under each world copy where that
    /// copy is in sight (tracks are unwrapped, so they may reach past +-180 degrees).
    fn draw_all_tracks(&self, view: &Viewport, dpr: f64, w: u32, h: u32) -> Result<(), JsValue> {
        if self.track_canvas.width() != w || self.track_canvas.height() != h {
            self.track_canvas.set_width(w);
            self.track_canvas.set_height(h);
        }
        let ctx = &self.track_ctx;
        ctx.set_transform(dpr, 0.0, 0.0, dpr, 0.0, 0.0)?;
        ctx.clear_rect(0.0, 0.0, view.width_px, view.height_px);
        Self::track_pen(ctx);
        if view.projection == Projection::Globe {
            ctx.set_line_width(TRACK_WIDTH_PX);
            for t in &self.tracks {
                ctx.stroke_with_path(&t.path);
            }
        }
        let (left, right) = (
            view.raw_lon_at(0.0) - 1.0,
            view.raw_lon_at(view.width_px) + 1.0,
        );
        for k in Self::flat_copies(view) {
            let shift = 360.0 * f64::from(k);
            let in_sight = |span: (f64, f64)| span.0 + shift <= right && span.1 + shift >= left;
            let [a, d, e, f] = view.copy_transform(k);
            ctx.set_transform(a * dpr, 0.0, 0.0, d * dpr, e * dpr, f * dpr)?;
            ctx.set_line_width(TRACK_WIDTH_PX / a);
            for t in self.tracks.iter().filter(|t| in_sight(t.lon_span)) {
                ctx.stroke_with_path(&t.path);
            }
        }
        Ok(())
    }

    /// Adds the segments of the last [`SimLayer::update_tracks`] to the tracks' canvas: one
    /// stroke per world copy.
    fn draw_fresh_tracks(&self, view: &Viewport, dpr: f64) -> Result<(), JsValue> {
        if !self.fresh_any {
            return Ok(());
        }
        let ctx = &self.track_ctx;
        Self::track_pen(ctx);
        if view.projection == Projection::Globe {
            ctx.set_transform(dpr, 0.0, 0.0, dpr, 0.0, 0.0)?;
            ctx.set_line_width(TRACK_WIDTH_PX);
            ctx.stroke_with_path(&self.fresh);
        }
        for k in Self::flat_copies(view) {
            let [a, d, e, f] = view.copy_transform(k);
            ctx.set_transform(a * dpr, 0.0, 0.0, d * dpr, e * dpr, f * dpr)?;
            ctx.set_line_width(TRACK_WIDTH_PX / a);
            ctx.stroke_with_path(&self.fresh);
        }
        Ok(())
    }

    /// The tracks' pen: opaque, with round caps and joins so that segments drawn in separate
    /// frames meet without a notch.
    fn track_pen(ctx: &CanvasRenderingContext2d) {
        ctx.set_line_join("round");
        ctx.set_line_cap("round");
        ctx.set_stroke_style_str(palette::TRACK_OPAQUE);
    }

    /// Keeps a short history of each track's estimated position, sampled every
    /// [`TRACK_HISTORY_EVERY`] ticks; forgotten when time goes back or history is rewritten.
    fn update_track_history(&mut self, player: &Player, positions: &[(TrackId, f64, f64)]) {
        let tick = player.tick();
        let (last, generation) = self.history_at;
        if generation != player.generation() || tick < last {
            self.track_history.clear();
        } else if tick < last + TRACK_HISTORY_EVERY {
            return;
        }
        self.history_at = (tick, player.generation());
        let oldest = tick.saturating_sub(TRACK_HISTORY_TICKS);
        self.track_history
            .retain(|(id, _)| positions.binary_search_by_key(id, |p| p.0).is_ok());
        for &(id, lat, lon) in positions {
            let i = match self.track_history.binary_search_by_key(&id, |h| h.0) {
                Ok(i) => i,
                Err(i) => {
                    self.track_history.insert(i, (id, Vec::new()));
                    i
                }
            };
            let h = &mut self.track_history[i].1;
            h.retain(|p| p.0 >= oldest);
            h.push((tick, lat, lon));
        }
    }

    /// Radar plots of the last seconds, tracks (confirmed bright with their recent history and
    /// predicted impact with its 95% ellipse, tentative faint).
    fn draw_sensing(&mut self, view: &Viewport, player: &Player) -> Result<(), JsValue> {
        let sim = player.sim();
        let tracks = sim.tracker().tracks();
        if tracks.is_empty() && player.plots().is_empty() && self.track_history.is_empty() {
            return Ok(());
        }
        let earth = sim.physics().earth;
        let ellipsoid = earth.ellipsoid();
        let radius = earth.range_radius_m();
        let globe = view.projection == Projection::Globe;
        let project = |lat_deg: f64, lon_deg: f64| view.project(GeoPoint { lat_deg, lon_deg });
        let seen = |lat_deg: f64, lon_deg: f64| view.is_visible(GeoPoint { lat_deg, lon_deg });

        let plots = Path2d::new()?;
        let false_alarms = Path2d::new()?;
        for p in player.plots() {
            if !seen(p.lat_deg, p.lon_deg) {
                continue;
            }
            let s = project(p.lat_deg, p.lon_deg);
            let path = if p.false_alarm { &false_alarms } else { &plots };
            path.rect(s.x - 1.5, s.y - 1.5, 3.0, 3.0);
        }
        let ctx = &self.ctx;
        ctx.set_fill_style_str(palette::PLOT);
        ctx.fill_with_path_2d(&plots);
        ctx.set_fill_style_str(palette::FALSE_ALARM);
        ctx.fill_with_path_2d(&false_alarms);

        // Confirmed track positions, sorted by id (the tracker keeps them in id order).
        let mut confirmed: Vec<(TrackId, f64, f64)> = Vec::new();
        let tentative = Path2d::new()?;
        let confirmed_marks = Path2d::new()?;
        let impacts = Path2d::new()?;
        for t in tracks {
            let g = ellipsoid.ecef_to_geodetic(&t.position_m);
            let (lat, lon) = (g.lat_rad.to_degrees(), g.lon_rad.to_degrees());
            let s = project(lat, lon);
            let here = seen(lat, lon);
            if t.status == TrackStatus::Tentative {
                if !here {
                    continue;
                }
                tentative.move_to(s.x + 4.0, s.y);
                tentative.arc(s.x, s.y, 4.0, 0.0, std::f64::consts::TAU)?;
                continue;
            }
            confirmed.push((t.id, lat, lon));
            if here {
                confirmed_marks.rect(s.x - 5.0, s.y - 5.0, 10.0, 10.0);
            }
            if let Some(i) = &t.impact {
                let c = project(i.at.lat_deg, i.at.lon_deg);
                if seen(i.at.lat_deg, i.at.lon_deg) {
                    impacts.move_to(c.x - 4.0, c.y);
                    impacts.line_to(c.x + 4.0, c.y);
                    impacts.move_to(c.x, c.y - 4.0);
                    impacts.line_to(c.x, c.y + 4.0);
                }
                let pts = crate::radar_view::ellipse(
                    &i.at,
                    i.semi_major_m,
                    i.semi_minor_m,
                    i.orientation_deg,
                    radius,
                    ELLIPSE_POINTS,
                );
                if globe {
                    let ring: Vec<GeoPoint> = pts.iter().chain(pts.first()).copied().collect();
                    view.trace(&ring, &mut pen(&impacts));
                    continue;
                }
                for (k, p) in pts.iter().enumerate() {
                    // Longitudes are unwrapped around the centre: placed from the centre's
                    // screen point, the ellipse never splits at the antimeridian.
                    let s = project(p.lat_deg, i.at.lon_deg);
                    let x = c.x + (p.lon_deg - i.at.lon_deg) * view.px_per_deg;
                    if k == 0 {
                        impacts.move_to(x, s.y);
                    } else {
                        impacts.line_to(x, s.y);
                    }
                }
            }
        }
        confirmed.sort_by_key(|c| c.0);
        self.update_track_history(player, &confirmed);
        let history = Path2d::new()?;
        for (id, points) in &self.track_history {
            let Ok(i) = confirmed.binary_search_by_key(id, |c| c.0) else {
                continue;
            };
            let now = confirmed[i];
            if globe {
                let line: Vec<GeoPoint> = points
                    .iter()
                    .map(|&(_, lat_deg, lon_deg)| GeoPoint { lat_deg, lon_deg })
                    .chain(std::iter::once(GeoPoint {
                        lat_deg: now.1,
                        lon_deg: now.2,
                    }))
                    .collect();
                view.trace(&line, &mut pen(&history));
                continue;
            }
            let mut first = true;
            for &(_, lat, lon) in points.iter().chain(std::iter::once(&(0, now.1, now.2))) {
                let s = project(lat, lon);
                if first {
                    history.move_to(s.x, s.y);
                    first = false;
                } else {
                    history.line_to(s.x, s.y);
                }
            }
        }
        let ctx = &self.ctx;
        ctx.set_line_width(1.0);
        ctx.set_stroke_style_str(palette::TRACK_TENTATIVE);
        ctx.stroke_with_path(&tentative);
        ctx.set_line_width(1.5);
        ctx.set_stroke_style_str(palette::TRACK_CONFIRMED);
        ctx.stroke_with_path(&history);
        ctx.set_line_width(2.0);
        ctx.stroke_with_path(&confirmed_marks);
        ctx.set_line_width(1.5);
        ctx.set_stroke_style_str(palette::TRACK_IMPACT);
        ctx.stroke_with_path(&impacts);
        Ok(())
    }
}
