//! Canvas drawing of the simulation, on its own canvas above the base map (so that a frame
//! redraws only the moving things): ground tracks, current positions by flight phase, aim
//! points and predicted impact points, impacts, and the hovered or selected missile.
//!
//! Ground tracks only grow while time runs forward, so each track is a `Path2D` kept between
//! frames and extended with the new points; when history is rewritten
//! ([`Player::generation`]) or a track would shrink (a seek backwards) the cache is dropped and
//! rebuilt. A frame then costs a stroke per track per visible world copy plus one batched path
//! per marker kind.

use wasm_bindgen::JsValue;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, Path2d};

use sim_core::MissileId;
use sim_core::flight::Phase;

use crate::playback::Player;
use crate::view::{GeoPoint, Viewport};

/// Colours of the simulation layer.
pub mod palette {
    /// Ground tracks.
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
}

/// One track's path and how much of the track it holds.
struct CachedTrack {
    missile: MissileId,
    path: Path2d,
    points: usize,
    /// Longitude span of the points (deg, unwrapped), to skip world copies out of sight.
    lon_span: (f64, f64),
}

/// The simulation canvas with its cached track paths.
pub struct SimLayer {
    canvas: HtmlCanvasElement,
    ctx: CanvasRenderingContext2d,
    tracks: Vec<CachedTrack>,
    generation: u64,
}

impl SimLayer {
    /// Takes the canvas's 2D context.
    pub fn new(canvas: HtmlCanvasElement) -> Result<SimLayer, JsValue> {
        use wasm_bindgen::JsCast;
        let ctx = canvas
            .get_context("2d")?
            .ok_or_else(|| JsValue::from_str("2d canvas context unavailable"))?
            .dyn_into::<CanvasRenderingContext2d>()?;
        Ok(SimLayer {
            canvas,
            ctx,
            tracks: Vec::new(),
            generation: u64::MAX,
        })
    }

    fn update_tracks(&mut self, player: &Player) -> Result<(), JsValue> {
        let trails = player.trails();
        let tick = player.tick();
        let stale = self.generation != player.generation()
            || self.tracks.len() > trails.len()
            || self
                .tracks
                .iter()
                .zip(trails)
                .any(|(c, t)| c.missile != t.missile || c.points > t.upto(tick).len());
        if stale {
            self.tracks.clear();
            self.generation = player.generation();
        }
        for (i, trail) in trails.iter().enumerate() {
            if i == self.tracks.len() {
                self.tracks.push(CachedTrack {
                    missile: trail.missile,
                    path: Path2d::new()?,
                    points: 0,
                    lon_span: (f64::INFINITY, f64::NEG_INFINITY),
                });
            }
            let cached = &mut self.tracks[i];
            for p in &trail.upto(tick)[cached.points..] {
                if cached.points == 0 {
                    cached.path.move_to(p.lon_deg, p.lat_deg);
                } else {
                    cached.path.line_to(p.lon_deg, p.lat_deg);
                }
                cached.points += 1;
                cached.lon_span.0 = cached.lon_span.0.min(p.lon_deg);
                cached.lon_span.1 = cached.lon_span.1.max(p.lon_deg);
            }
        }
        Ok(())
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
        self.update_tracks(player)?;
        let ctx = &self.ctx;
        ctx.set_transform(dpr, 0.0, 0.0, dpr, 0.0, 0.0)?;
        ctx.clear_rect(0.0, 0.0, view.width_px, view.height_px);
        let sim = player.sim();

        // The live end of each track: from its last recorded point to the missile now.
        let live = Path2d::new()?;
        let trails = player.trails();
        for v in sim.missile_views() {
            if v.phase == Phase::Impacted {
                continue;
            }
            let Ok(i) = trails.binary_search_by_key(&v.id, |t| t.missile) else {
                continue;
            };
            if let Some(last) = trails[i].upto(player.tick()).last() {
                live.move_to(last.lon_deg, last.lat_deg);
                let lon = last.lon_deg + crate::view::wrap_lon(v.lon_deg - last.lon_deg);
                live.line_to(lon, v.lat_deg);
            }
        }
        // Tracks in degrees under each world copy's transform (widths divided by the scale),
        // only where that copy of a track is in sight (tracks are unwrapped, so they may reach
        // past +-180 degrees; the live ends are within a degree of their tracks).
        let (left, right) = (
            view.raw_lon_at(0.0) - 1.0,
            view.raw_lon_at(view.width_px) + 1.0,
        );
        let r = view.world_copies();
        ctx.set_line_join("round");
        ctx.set_stroke_style_str(palette::TRACK);
        for k in r.start() - 1..=r.end() + 1 {
            let shift = 360.0 * f64::from(k);
            let in_sight = |span: (f64, f64)| span.0 + shift <= right && span.1 + shift >= left;
            let [a, d, e, f] = view.copy_transform(k);
            ctx.set_transform(a * dpr, 0.0, 0.0, d * dpr, e * dpr, f * dpr)?;
            ctx.set_line_width(1.5 / a);
            let mut any = false;
            for t in self.tracks.iter().filter(|t| in_sight(t.lon_span)) {
                ctx.stroke_with_path(&t.path);
                any = true;
            }
            if any {
                ctx.stroke_with_path(&live);
            }
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
        for (m, v) in sim.missiles().iter().zip(sim.missile_views()) {
            let s = view.project(GeoPoint {
                lat_deg: v.lat_deg,
                lon_deg: v.lon_deg,
            });
            if v.phase == Phase::Impacted {
                cross(&impacts, s.x, s.y, 5.0);
                continue;
            }
            let aim = view.project(GeoPoint {
                lat_deg: m.target.lat_deg,
                lon_deg: m.target.lon_deg,
            });
            cross(&aims, aim.x, aim.y, 4.0);
            let p = view.project(GeoPoint {
                lat_deg: m.predicted.impact.lat_deg,
                lon_deg: m.predicted.impact.lon_deg,
            });
            dot(&predicted, p.x, p.y, 3.0)?;
            let path = match v.phase {
                Phase::Boost => &boost,
                Phase::Coast => &coast,
                _ => &reentry,
            };
            dot(path, s.x, s.y, 3.5)?;
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
        Ok(())
    }
}
