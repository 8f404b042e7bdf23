//! Canvas drawing of the base map: ocean, land, coastlines, borders and the graticule.
//!
//! The geometry is turned into three `Path2D` objects once, in degrees; each frame only sets
//! the canvas transform from the [`Viewport`] and fills or strokes those paths, once per visible
//! copy of the world. That keeps a redraw to a handful of calls across the wasm/JS boundary,
//! whatever the number of vertices.

use wasm_bindgen::JsValue;
use web_sys::{CanvasRenderingContext2d, CanvasWindingRule, Path2d};

use crate::atlas::{ArcKind, Atlas};
use crate::view::{GeoPoint, ScreenPoint, Viewport};

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
        Ok(MapLayers {
            land,
            coast,
            borders,
            country_count: atlas.countries().len(),
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

/// Draws the base map for `view` on a canvas whose backing store is `dpr` device pixels per
/// CSS pixel.
pub fn draw_base_map(
    ctx: &CanvasRenderingContext2d,
    layers: &MapLayers,
    view: &Viewport,
    dpr: f64,
) -> Result<(), JsValue> {
    ctx.set_transform(dpr, 0.0, 0.0, dpr, 0.0, 0.0)?;
    ctx.set_fill_style_str(palette::SPACE);
    ctx.fill_rect(0.0, 0.0, view.width_px, view.height_px);

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

    for k in view.world_copies() {
        let [a, d, e, f] = view.copy_transform(k);
        ctx.set_transform(a * dpr, 0.0, 0.0, d * dpr, e * dpr, f * dpr)?;
        ctx.set_fill_style_str(palette::LAND);
        ctx.fill_with_path_2d_and_winding(&layers.land, CanvasWindingRule::Evenodd);
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
