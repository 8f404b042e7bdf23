//! Canvas drawing of the base map: ocean, land, coastlines, borders and the graticule.
//!
//! The geometry is turned into three `Path2D` objects once, in degrees; each frame only sets
//! the canvas transform from the [`Viewport`] and fills or strokes those paths, once per visible
//! copy of the world. That keeps a redraw to a handful of calls across the wasm/JS boundary,
//! whatever the number of vertices.
//!
//! The globe has no affine transform: each redraw projects the near hemisphere's points
//! ([`Viewport::globe_ring`] for land, [`Viewport::trace`] for lines) into fresh paths in
//! pixels. Far-side rings cost no JS call; a redraw of the 1:110m globe is a few milliseconds.

use std::collections::HashMap;

use wasm_bindgen::JsValue;
use web_sys::{CanvasRenderingContext2d, CanvasWindingRule, HtmlImageElement, Path2d};

use crate::atlas::{ArcKind, Atlas, Polygon};
use crate::view::{GeoPoint, PenOp, Projection, ScreenPoint, SphereCap, Viewport};

/// Colours of the base map (dark theme, chosen for contrast with the bright tracks drawn above).
pub mod palette {
    /// Outside the globe (beyond the poles).
    pub const SPACE: &str = "#05090d";
    /// Sea.
    pub const OCEAN: &str = "#0d1b2a";
    /// Land fill.
    pub const LAND: &str = "#1f3347";
    /// Coastlines.
    pub const COAST: &str = "#6f93b8";
    /// Land borders between countries.
    pub const BORDER: &str = "#46627f";
    /// Graticule lines.
    pub const GRATICULE: &str = "rgba(120, 150, 180, 0.18)";
    /// Graticule labels.
    pub const LABEL: &str = "rgba(160, 185, 210, 0.75)";
}

/// The atlas as canvas paths, built once.
pub struct MapLayers {
    land: Path2d,
    coast: Path2d,
    borders: Path2d,
    /// Number of countries in the land layer (exposed to tests through a data attribute).
    pub country_count: usize,
    /// The polygons as geographic rings with the cap round their outer ring, for the globe.
    globe_polygons: Vec<(Polygon, Vec<Vec<GeoPoint>>, Option<SphereCap>)>,
    /// The arcs as geographic polylines with their kind and cap, for the globe.
    globe_arcs: Vec<(ArcKind, Vec<GeoPoint>, Option<SphereCap>)>,
}

fn geo_points(points: &[[f32; 2]]) -> Vec<GeoPoint> {
    points
        .iter()
        .map(|p| GeoPoint {
            lat_deg: f64::from(p[1]),
            lon_deg: f64::from(p[0]),
        })
        .collect()
}

impl MapLayers {
    /// Builds the paths from the atlas (coordinates in degrees: x = longitude, y = latitude).
    pub fn build(atlas: &Atlas) -> Result<MapLayers, JsValue> {
        let land = Path2d::new()?;
        for country in atlas.countries() {
            for polygon in &country.polygons {
                for ring in &polygon.rings {
                    add_polyline(&land, ring, true);
                }
            }
        }
        let coast = Path2d::new()?;
        let borders = Path2d::new()?;
        for arc in atlas.arcs() {
            let target = match arc.kind {
                ArcKind::Coastline => &coast,
                ArcKind::Border => &borders,
            };
            add_polyline(target, &arc.points, false);
        }
        let globe_polygons = atlas
            .countries()
            .iter()
            .flat_map(|c| &c.polygons)
            .map(|p| {
                let rings: Vec<Vec<GeoPoint>> = p.rings.iter().map(|r| geo_points(r)).collect();
                let cap = rings.first().and_then(|r| SphereCap::around(r));
                (p.clone(), rings, cap)
            })
            .collect();
        let globe_arcs = atlas
            .arcs()
            .iter()
            .map(|a| {
                let points = geo_points(&a.points);
                let cap = SphereCap::around(&points);
                (a.kind, points, cap)
            })
            .collect();
        Ok(MapLayers {
            land,
            coast,
            borders,
            country_count: atlas.countries().len(),
            globe_polygons,
            globe_arcs,
        })
    }
}

fn add_polyline(path: &Path2d, points: &[[f32; 2]], close: bool) {
    let mut iter = points.iter();
    if let Some(first) = iter.next() {
        path.move_to(f64::from(first[0]), f64::from(first[1]));
        for p in iter {
            path.line_to(f64::from(p[0]), f64::from(p[1]));
        }
        if close {
            path.close_path();
        }
    }
}

/// The optional online tile layer's images, by URL, and the callback that redraws the map
/// when one arrives. Images are created (and so requested) only by [`draw_base_map`] when it
/// is given a template, i.e. when the user switched the layer on.
pub struct TileCache {
    images: HashMap<String, HtmlImageElement>,
    on_load: js_sys::Function,
}

/// Most tile images kept; beyond, the cache starts again (the browser's HTTP cache remains).
const MAX_CACHED_TILES: usize = 384;
/// Horizontal strips per tile: each is placed linearly between its own top and bottom
/// latitudes, which keeps the Mercator-to-equirectangular error under a pixel at tile zoom 3
/// and above.
const TILE_STRIPS: u32 = 8;

impl TileCache {
    /// An empty cache calling `on_load` whenever an image has loaded.
    pub fn new(on_load: js_sys::Function) -> TileCache {
        TileCache {
            images: HashMap::new(),
            on_load,
        }
    }

    fn image(&mut self, url: String) -> Option<HtmlImageElement> {
        if let Some(img) = self.images.get(&url) {
            return Some(img.clone());
        }
        if self.images.len() >= MAX_CACHED_TILES {
            self.images.clear();
        }
        let img = HtmlImageElement::new().ok()?;
        img.set_onload(Some(&self.on_load));
        img.set_src(&url);
        self.images.insert(url, img.clone());
        Some(img)
    }
}

/// Draws the tiles of a flat view (Web Mercator rows placed strip by strip on the
/// equirectangular map, see [`crate::tiles`]).
fn draw_tiles(
    ctx: &CanvasRenderingContext2d,
    view: &Viewport,
    cache: &mut TileCache,
    template: &str,
) -> Result<(), JsValue> {
    use crate::tiles::{tile_lat_deg, tile_url, visible_tiles};
    for slot in visible_tiles(view) {
        let Some(img) = cache.image(tile_url(template, &slot)) else {
            continue;
        };
        if !img.complete() || img.natural_width() == 0 {
            continue;
        }
        let (w, h) = (
            f64::from(img.natural_width()),
            f64::from(img.natural_height()),
        );
        let x0 = view.width_px / 2.0 + (slot.west_deg - view.center_lon_deg) * view.px_per_deg;
        let x1 = view.width_px / 2.0 + (slot.east_deg - view.center_lon_deg) * view.px_per_deg;
        for i in 0..TILE_STRIPS {
            let (f0, f1) = (
                f64::from(i) / f64::from(TILE_STRIPS),
                f64::from(i + 1) / f64::from(TILE_STRIPS),
            );
            let y_of = |f: f64| {
                let lat = tile_lat_deg(f64::from(slot.y) + f, slot.z);
                view.height_px / 2.0 - (lat - view.center_lat_deg) * view.px_per_deg
            };
            let (y0, y1) = (y_of(f0), y_of(f1));
            if y1 < 0.0 || y0 > view.height_px {
                continue;
            }
            // Half a pixel of overlap hides the seams between strips and tiles.
            ctx.draw_image_with_html_image_element_and_sw_and_sh_and_dx_and_dy_and_dw_and_dh(
                &img,
                0.0,
                h * f0,
                w,
                h * (f1 - f0),
                x0,
                y0,
                x1 - x0 + 0.5,
                y1 - y0 + 0.5,
            )?;
        }
    }
    Ok(())
}

/// Draws the base map for `view` on a canvas whose backing store is `dpr` device pixels per
/// CSS pixel; with `tiles` (the layer switched on: its cache and URL template), online tiles
/// replace the land fill on the flat map.
pub fn draw_base_map(
    ctx: &CanvasRenderingContext2d,
    layers: &MapLayers,
    view: &Viewport,
    dpr: f64,
    tiles: Option<(&mut TileCache, &str)>,
) -> Result<(), JsValue> {
    ctx.set_transform(dpr, 0.0, 0.0, dpr, 0.0, 0.0)?;
    ctx.set_fill_style_str(palette::SPACE);
    ctx.fill_rect(0.0, 0.0, view.width_px, view.height_px);
    if view.projection == Projection::Globe {
        return draw_globe(ctx, layers, view);
    }

    // The globe's band between the poles.
    let north = view
        .project(GeoPoint {
            lat_deg: 90.0,
            lon_deg: 0.0,
        })
        .y
        .max(0.0);
    let south = view
        .project(GeoPoint {
            lat_deg: -90.0,
            lon_deg: 0.0,
        })
        .y
        .min(view.height_px);
    ctx.set_fill_style_str(palette::OCEAN);
    ctx.fill_rect(0.0, north, view.width_px, south - north);
    let tiled = tiles.is_some();
    if let Some((cache, template)) = tiles {
        draw_tiles(ctx, view, cache, template)?;
    }

    for k in view.world_copies() {
        let [a, d, e, f] = view.copy_transform(k);
        ctx.set_transform(a * dpr, 0.0, 0.0, d * dpr, e * dpr, f * dpr)?;
        if !tiled {
            ctx.set_fill_style_str(palette::LAND);
            ctx.fill_with_path_2d_and_winding(&layers.land, CanvasWindingRule::Evenodd);
        }
        // Line widths are in degrees under this transform: divide by the scale for pixels.
        ctx.set_line_join("round");
        ctx.set_stroke_style_str(palette::BORDER);
        ctx.set_line_width(0.8 / a);
        ctx.stroke_with_path(&layers.borders);
        ctx.set_stroke_style_str(palette::COAST);
        ctx.set_line_width(1.0 / a);
        ctx.stroke_with_path(&layers.coast);
    }

    ctx.set_transform(dpr, 0.0, 0.0, dpr, 0.0, 0.0)?;
    draw_graticule(ctx, view)
}

/// Appends the pen operations of [`Viewport::trace`] to a path.
pub fn add_trace(path: &Path2d, view: &Viewport, points: &[GeoPoint]) {
    view.trace(points, &mut |op| match op {
        PenOp::MoveTo(s) => path.move_to(s.x, s.y),
        PenOp::LineTo(s) => path.line_to(s.x, s.y),
    });
}

/// The base map on the globe: space, the ocean disc, land (closed along the horizon),
/// borders and coasts clipped at the horizon, the graticule and the horizon circle.
fn draw_globe(
    ctx: &CanvasRenderingContext2d,
    layers: &MapLayers,
    view: &Viewport,
) -> Result<(), JsValue> {
    use std::f64::consts::TAU;
    let (cx, cy, r) = (
        view.width_px / 2.0,
        view.height_px / 2.0,
        view.globe_radius_px(),
    );
    ctx.set_fill_style_str(palette::OCEAN);
    ctx.begin_path();
    ctx.arc(cx, cy, r, 0.0, TAU)?;
    ctx.fill();

    let land = Path2d::new()?;
    let mut buf = Vec::new();
    let add_ring = |path: &Path2d, pts: &[ScreenPoint]| {
        if let Some((first, rest)) = pts.split_first() {
            path.move_to(first.x, first.y);
            for p in rest {
                path.line_to(p.x, p.y);
            }
            path.close_path();
        }
    };
    // Shapes wholly outside the part of the sphere the map can show are skipped without
    // projecting a point (at city zoom, nearly all of them).
    let sight = view.globe_view_cap();
    let out_of_sight =
        |cap: &Option<SphereCap>| matches!((sight, cap), (Some(s), Some(c)) if s.disjoint(c));
    ctx.set_fill_style_str(palette::LAND);
    for (polygon, rings, cap) in &layers.globe_polygons {
        if out_of_sight(cap) {
            continue;
        }
        let Some(winding) = rings
            .first()
            .and_then(|outer| view.globe_ring(outer, &mut buf))
        else {
            continue;
        };
        // A ring that winds round the disc's centre without containing the view's centre
        // contains the point opposite it: its land is everything on the disc outside the
        // ring, so it is filled on its own with the whole disc added.
        let inverted = winding != 0 && !polygon.contains(view.center_lon_deg, view.center_lat_deg);
        let target = if inverted {
            Path2d::new()?
        } else {
            land.clone()
        };
        add_ring(&target, &buf);
        for hole in &rings[1..] {
            if view.globe_ring(hole, &mut buf).is_some() {
                add_ring(&target, &buf);
            }
        }
        if inverted {
            target.move_to(cx + r, cy);
            target.arc(cx, cy, r, 0.0, TAU)?;
            ctx.fill_with_path_2d_and_winding(&target, CanvasWindingRule::Evenodd);
        }
    }
    ctx.fill_with_path_2d_and_winding(&land, CanvasWindingRule::Evenodd);

    let borders = Path2d::new()?;
    let coast = Path2d::new()?;
    for (kind, points, cap) in &layers.globe_arcs {
        if out_of_sight(cap) {
            continue;
        }
        let target = match kind {
            ArcKind::Coastline => &coast,
            ArcKind::Border => &borders,
        };
        add_trace(target, view, points);
    }
    ctx.set_line_join("round");
    ctx.set_stroke_style_str(palette::BORDER);
    ctx.set_line_width(0.8);
    ctx.stroke_with_path(&borders);
    ctx.set_stroke_style_str(palette::COAST);
    ctx.set_line_width(1.0);
    ctx.stroke_with_path(&coast);

    // Graticule: meridians and parallels in sight, followed along the sphere.
    let step = view.graticule_step_deg(80.0);
    let (lat_lo, lat_hi, lon_lo, lon_hi) = globe_bounds(view);
    let graticule = Path2d::new()?;
    let mut lon = (lon_lo / step).floor() * step;
    let mut lines = 0;
    while lon <= lon_hi && lines < 200 {
        let meridian: Vec<GeoPoint> = [lat_lo, (lat_lo + lat_hi) / 2.0, lat_hi]
            .into_iter()
            .map(|lat_deg| GeoPoint {
                lat_deg,
                lon_deg: lon,
            })
            .collect();
        add_trace(&graticule, view, &meridian);
        lon += step;
        lines += 1;
    }
    let mut lat = (lat_lo / step).ceil() * step;
    while lat <= lat_hi && lines < 400 {
        let n = (((lon_hi - lon_lo) / 2.0).ceil() as usize).clamp(2, 180);
        let parallel: Vec<GeoPoint> = (0..=n)
            .map(|i| GeoPoint {
                lat_deg: lat,
                lon_deg: lon_lo + (lon_hi - lon_lo) * i as f64 / n as f64,
            })
            .collect();
        add_trace(&graticule, view, &parallel);
        lat += step;
        lines += 1;
    }
    ctx.set_stroke_style_str(palette::GRATICULE);
    ctx.set_line_width(1.0);
    ctx.stroke_with_path(&graticule);

    // The horizon.
    ctx.set_stroke_style_str(palette::COAST);
    ctx.set_line_width(1.5);
    ctx.begin_path();
    ctx.arc(cx, cy, r, 0.0, TAU)?;
    ctx.stroke();
    Ok(())
}

/// Latitude and (unwrapped) longitude bounds of what the globe shows on screen, from the
/// points under a grid over the map plus the poles when they are in sight.
fn globe_bounds(view: &Viewport) -> (f64, f64, f64, f64) {
    let (mut lat_lo, mut lat_hi) = (90.0_f64, -90.0_f64);
    let mut dlon_max = 0.0_f64;
    const N: u32 = 12;
    for i in 0..=N {
        for j in 0..=N {
            let s = ScreenPoint {
                x: view.width_px * f64::from(i) / f64::from(N),
                y: view.height_px * f64::from(j) / f64::from(N),
            };
            if let Some(g) = view.unproject(s) {
                lat_lo = lat_lo.min(g.lat_deg);
                lat_hi = lat_hi.max(g.lat_deg);
                dlon_max =
                    dlon_max.max(crate::view::wrap_lon(g.lon_deg - view.center_lon_deg).abs());
            }
        }
    }
    // The limb itself (when the disc is smaller than the map, the grid misses its edge).
    let r = view.globe_radius_px();
    for k in 0..72 {
        let a = f64::from(k) * 5f64.to_radians();
        let s = ScreenPoint {
            x: view.width_px / 2.0 + 0.999 * r * a.cos(),
            y: view.height_px / 2.0 + 0.999 * r * a.sin(),
        };
        if s.x >= 0.0
            && s.y >= 0.0
            && s.x <= view.width_px
            && s.y <= view.height_px
            && let Some(g) = view.unproject(s)
        {
            lat_lo = lat_lo.min(g.lat_deg);
            lat_hi = lat_hi.max(g.lat_deg);
            dlon_max = dlon_max.max(crate::view::wrap_lon(g.lon_deg - view.center_lon_deg).abs());
        }
    }
    let mut full_lon = dlon_max > 170.0;
    for pole in [90.0, -90.0] {
        if let Some(s) = view.project_visible(GeoPoint {
            lat_deg: pole,
            lon_deg: 0.0,
        }) && s.x >= 0.0
            && s.y >= 0.0
            && s.x <= view.width_px
            && s.y <= view.height_px
        {
            full_lon = true;
            lat_lo = lat_lo.min(pole);
            lat_hi = lat_hi.max(pole);
        }
    }
    if lat_lo > lat_hi {
        return (0.0, 0.0, view.center_lon_deg, view.center_lon_deg);
    }
    let pad = view.graticule_step_deg(80.0);
    let (lon_lo, lon_hi) = if full_lon {
        (-180.0, 180.0)
    } else {
        (
            view.center_lon_deg - dlon_max - pad,
            view.center_lon_deg + dlon_max + pad,
        )
    };
    (
        (lat_lo - pad).max(-90.0),
        (lat_hi + pad).min(90.0),
        lon_lo,
        lon_hi,
    )
}

fn draw_graticule(ctx: &CanvasRenderingContext2d, view: &Viewport) -> Result<(), JsValue> {
    let step = view.graticule_step_deg(80.0);
    ctx.set_stroke_style_str(palette::GRATICULE);
    ctx.set_line_width(1.0);
    ctx.set_fill_style_str(palette::LABEL);
    ctx.set_font("11px system-ui, sans-serif");
    ctx.begin_path();

    // Meridians: walk the raw (unwrapped) longitudes on screen.
    let left = view.raw_lon_at(0.0);
    let right = view.raw_lon_at(view.width_px);
    let top = view
        .project(GeoPoint {
            lat_deg: 90.0,
            lon_deg: 0.0,
        })
        .y
        .max(0.0);
    let bottom = view
        .project(GeoPoint {
            lat_deg: -90.0,
            lon_deg: 0.0,
        })
        .y
        .min(view.height_px);
    let mut lon = (left / step).ceil() * step;
    let mut labels = Vec::new();
    while lon <= right && labels.len() < 400 {
        let x = view.width_px / 2.0 + (lon - view.center_lon_deg) * view.px_per_deg;
        ctx.move_to(x.round() + 0.5, top);
        ctx.line_to(x.round() + 0.5, bottom);
        labels.push((x, label_lon(crate::view::wrap_lon(lon), step)));
        lon += step;
    }
    // Parallels.
    let lat_top = view
        .unproject(ScreenPoint { x: 0.0, y: top })
        .map_or(90.0, |g| g.lat_deg);
    let lat_bottom = view
        .unproject(ScreenPoint { x: 0.0, y: bottom })
        .map_or(-90.0, |g| g.lat_deg);
    let mut lat = (lat_bottom / step).ceil() * step;
    let mut lat_labels = Vec::new();
    while lat <= lat_top && lat_labels.len() < 400 {
        let y = view
            .project(GeoPoint {
                lat_deg: lat,
                lon_deg: 0.0,
            })
            .y;
        ctx.move_to(0.0, y.round() + 0.5);
        ctx.line_to(view.width_px, y.round() + 0.5);
        lat_labels.push((y, label_lat(lat, step)));
        lat += step;
    }
    ctx.stroke();

    for (x, text) in labels {
        ctx.fill_text(&text, x + 3.0, top + 12.0)?;
    }
    for (y, text) in lat_labels {
        ctx.fill_text(&text, 4.0, y - 3.0)?;
    }
    Ok(())
}

fn decimals_for(step: f64) -> usize {
    if step >= 1.0 {
        0
    } else if step >= 0.1 {
        1
    } else {
        2
    }
}

fn label_lon(lon: f64, step: f64) -> String {
    let d = decimals_for(step);
    if lon.abs() < 1e-9 || (lon.abs() - 180.0).abs() < 1e-9 {
        format!("{:.*}°", d, lon.abs())
    } else {
        format!("{:.*}°{}", d, lon.abs(), if lon < 0.0 { 'W' } else { 'E' })
    }
}

fn label_lat(lat: f64, step: f64) -> String {
    let d = decimals_for(step);
    if lat.abs() < 1e-9 {
        "0°".to_string()
    } else {
        format!("{:.*}°{}", d, lat.abs(), if lat < 0.0 { 'S' } else { 'N' })
    }
}
