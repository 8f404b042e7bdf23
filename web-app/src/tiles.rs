//! The optional online tile layer's pure maths: which Web Mercator ("slippy map") tiles cover
//! a flat view, where each tile's rows fall on the equirectangular map, and the tile URLs.
//!
//! The layer is off by default and the app never depends on it: nothing here makes a request;
//! `render.rs` asks for images only when the user has switched the layer on and given a URL
//! template. Tiles are drawn on the flat map only (a globe would need every tile reprojected).
//!
//! Tile numbering follows the OpenStreetMap "Slippy map tilenames" convention
//! (<https://wiki.openstreetmap.org/wiki/Slippy_map_tilenames>): at zoom `z` the world is
//! `2^z` tiles on a side, `x = (lon + 180) / 360 * 2^z`,
//! `y = (1 - ln(tan(lat) + sec(lat)) / pi) / 2 * 2^z`, and the inverse
//! `lat = atan(sinh(pi (1 - 2 y / 2^z)))`. Web Mercator stops at +-85.0511 degrees.

use crate::view::{Projection, Viewport};

/// The default template: OpenStreetMap's standard tiles (their tile usage policy applies).
pub const OSM_TEMPLATE: &str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png";
/// Attribution to show whenever OpenStreetMap tiles are drawn.
pub const OSM_ATTRIBUTION: &str = "© OpenStreetMap contributors";
/// Largest tile zoom asked for (OpenStreetMap serves 0 to 19).
pub const MAX_TILE_ZOOM: u8 = 19;
/// Most tiles drawn in one view (a 4K screen needs about 40 at 256 px).
pub const MAX_TILES: usize = 96;
/// Latitude limit of Web Mercator tiles (degrees): `atan(sinh(pi))`.
pub const MERCATOR_MAX_LAT_DEG: f64 = 85.051_128_779_806_59;
/// Longest URL template accepted.
const MAX_TEMPLATE_LEN: usize = 512;

/// One tile to draw: its address and where it goes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TileSlot {
    /// Zoom level.
    pub z: u8,
    /// Column, wrapped into `0..2^z` (for the URL).
    pub x: u32,
    /// Row, `0..2^z`, north to south.
    pub y: u32,
    /// West edge, unwrapped longitude (degrees) on the copy of the world where it is drawn.
    pub west_deg: f64,
    /// East edge, unwrapped longitude (degrees).
    pub east_deg: f64,
}

/// The tile zoom for a flat-map zoom: tiles come out between about 181 and 362 pixels wide
/// (256-pixel tiles drawn at most 1.41x larger or smaller).
pub fn tile_zoom(px_per_deg: f64) -> u8 {
    let z = (360.0 * px_per_deg / 256.0).log2().round();
    if z.is_finite() {
        z.clamp(0.0, f64::from(MAX_TILE_ZOOM)) as u8
    } else {
        0
    }
}

/// Fractional tile row of a latitude at zoom `z` (clamped to the Mercator limits).
pub fn tile_y(lat_deg: f64, z: u8) -> f64 {
    let lat = lat_deg
        .clamp(-MERCATOR_MAX_LAT_DEG, MERCATOR_MAX_LAT_DEG)
        .to_radians();
    let n = f64::from(1u32 << z);
    (1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / std::f64::consts::PI) / 2.0 * n
}

/// Latitude (degrees) of a fractional tile row at zoom `z`.
pub fn tile_lat_deg(y: f64, z: u8) -> f64 {
    let n = f64::from(1u32 << z);
    (std::f64::consts::PI * (1.0 - 2.0 * y / n))
        .sinh()
        .atan()
        .to_degrees()
}

/// The tiles that cover a flat view, west to east then north to south, at most
/// [`MAX_TILES`]; none on the globe.
pub fn visible_tiles(view: &Viewport) -> Vec<TileSlot> {
    if view.projection != Projection::Flat {
        return Vec::new();
    }
    let z = tile_zoom(view.px_per_deg);
    let n = 1u32 << z;
    let deg_per_tile = 360.0 / f64::from(n);
    let (left, right) = (view.raw_lon_at(0.0), view.raw_lon_at(view.width_px));
    let top = view
        .unproject(crate::view::ScreenPoint { x: 0.0, y: 0.0 })
        .map_or(90.0, |g| g.lat_deg);
    let bottom = view
        .unproject(crate::view::ScreenPoint {
            x: 0.0,
            y: view.height_px,
        })
        .map_or(-90.0, |g| g.lat_deg);
    if !(left.is_finite() && right.is_finite()) {
        return Vec::new();
    }
    let first_col = ((left + 180.0) / deg_per_tile).floor() as i64;
    let last_col = ((right + 180.0) / deg_per_tile).floor() as i64;
    let first_row = tile_y(top, z).floor().max(0.0) as u32;
    let last_row = (tile_y(bottom, z).floor() as u32).min(n - 1);
    let mut out = Vec::new();
    for col in first_col..=last_col {
        for row in first_row..=last_row {
            if out.len() >= MAX_TILES {
                return out;
            }
            let west = -180.0 + col as f64 * deg_per_tile;
            out.push(TileSlot {
                z,
                x: col.rem_euclid(i64::from(n)) as u32,
                y: row,
                west_deg: west,
                east_deg: west + deg_per_tile,
            });
        }
    }
    out
}

/// Checks a URL template: `http(s)://`, at most 512 characters, with `{z}`, `{x}` and `{y}`.
///
/// # Errors
/// A one-sentence reason when the template cannot be used.
pub fn check_template(template: &str) -> Result<(), String> {
    let t = template.trim();
    if t.len() > MAX_TEMPLATE_LEN {
        return Err(format!(
            "The tile URL is longer than {MAX_TEMPLATE_LEN} characters."
        ));
    }
    if !(t.starts_with("https://") || t.starts_with("http://")) {
        return Err("The tile URL must start with https:// or http://.".to_string());
    }
    for part in ["{z}", "{x}", "{y}"] {
        if !t.contains(part) {
            return Err(format!("The tile URL must contain {part}."));
        }
    }
    if t.chars()
        .any(|c| c.is_whitespace() || c == '"' || c == '<' || c == '>')
    {
        return Err("The tile URL contains spaces, quotes or angle brackets.".to_string());
    }
    Ok(())
}

/// The URL of a tile from a template with `{z}`, `{x}` and `{y}`.
pub fn tile_url(template: &str, slot: &TileSlot) -> String {
    template
        .trim()
        .replace("{z}", &slot.z.to_string())
        .replace("{x}", &slot.x.to_string())
        .replace("{y}", &slot.y.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_and_latitudes_round_trip_and_match_the_convention() {
        // Row 0 starts at the Mercator limit, the middle row boundary is the equator.
        assert!((tile_lat_deg(0.0, 3) - MERCATOR_MAX_LAT_DEG).abs() < 1e-9);
        assert!(tile_lat_deg(4.0, 3).abs() < 1e-9);
        for z in [0, 5, 12, 19] {
            for lat in [-80.0, -33.87, 0.0, 34.05, 60.0, 85.0] {
                let back = tile_lat_deg(tile_y(lat, z), z);
                assert!((back - lat).abs() < 1e-9, "{z} {lat} {back}");
            }
        }
        // Los Angeles at zoom 10: column 175, row 408 (the wiki's formula, worked by hand:
        // x = 61.75 / 360 * 1024 = 175.6; y = (1 - ln(tan + sec)(34.05 deg) / pi) / 2 * 1024).
        let y = tile_y(34.05, 10);
        assert_eq!(y.floor(), 408.0, "{y}");
    }

    #[test]
    fn zoom_keeps_tiles_near_their_size() {
        for px_per_deg in [0.5, 4.0, 37.0, 1000.0, 20_000.0] {
            let z = tile_zoom(px_per_deg);
            let tile_px = 360.0 / f64::from(1u32 << z) * px_per_deg;
            if z > 0 && z < MAX_TILE_ZOOM {
                assert!(
                    (181.0..=363.0).contains(&tile_px),
                    "{px_per_deg} {z} {tile_px}"
                );
            }
        }
        assert_eq!(tile_zoom(f64::NAN), 0);
        assert_eq!(tile_zoom(1e9), MAX_TILE_ZOOM);
    }

    #[test]
    fn tiles_cover_the_view_and_wrap() {
        // Zoomed in on the antimeridian.
        let v = Viewport::whole_world(1440.0, 720.0).centered_on(
            crate::view::GeoPoint {
                lat_deg: 0.0,
                lon_deg: 180.0,
            },
            32.0,
        );
        let tiles = visible_tiles(&v);
        assert!(!tiles.is_empty() && tiles.len() <= MAX_TILES);
        let n = 1u32 << tiles[0].z;
        assert!(tiles.iter().all(|t| t.x < n && t.y < n));
        // Both sides of the antimeridian: columns near 0 and near n - 1.
        assert!(tiles.iter().any(|t| t.x == 0) && tiles.iter().any(|t| t.x == n - 1));
        let west = tiles
            .iter()
            .map(|t| t.west_deg)
            .fold(f64::INFINITY, f64::min);
        let east = tiles
            .iter()
            .map(|t| t.east_deg)
            .fold(f64::NEG_INFINITY, f64::max);
        assert!(west <= v.raw_lon_at(0.0) && east >= v.raw_lon_at(v.width_px));
        // None on the globe.
        let g = v.with_projection(crate::view::Projection::Globe);
        assert!(visible_tiles(&g).is_empty());
    }

    #[test]
    fn templates_are_checked_and_filled() {
        assert!(check_template(OSM_TEMPLATE).is_ok());
        assert!(check_template("ftp://x/{z}/{x}/{y}").is_err());
        assert!(check_template("https://x/{z}/{x}.png").is_err());
        assert!(check_template("https://x/{z}/{x}/{y}\" onerror=\"").is_err());
        assert!(check_template(&format!("https://{}/{{z}}/{{x}}/{{y}}", "a".repeat(600))).is_err());
        let slot = TileSlot {
            z: 3,
            x: 5,
            y: 2,
            west_deg: 45.0,
            east_deg: 90.0,
        };
        assert_eq!(
            tile_url(OSM_TEMPLATE, &slot),
            "https://tile.openstreetmap.org/3/5/2.png"
        );
    }
}
