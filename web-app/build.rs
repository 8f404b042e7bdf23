//! Converts the committed Natural Earth TopoJSON (`data/world-atlas/*.json`) into the
//! compact binary atlas decoded by `src/atlas.rs`, so that the app never parses JSON.
//!
//! Outputs, in `$OUT_DIR`:
//! - `countries-110m.bin`: embedded in the app by `Atlas::embedded_110m`;
//! - `countries-50m.bin`: produced for the tests and for a later zoomed-in layer; it is
//!   deliberately not embedded (it would add hundreds of kilobytes to the wasm).
//!
//! The binary layout is documented in `src/atlas.rs`; the primitives both sides share live
//! in `src/atlas/format.rs`.

use std::error::Error;
use std::path::PathBuf;

#[allow(dead_code)] // The decoder half (`unzigzag`) is unused here.
#[path = "src/atlas/format.rs"]
mod format;

use serde_json::Value;

/// The resolutions converted, by file stem (`countries-{res}.json`).
const RESOLUTIONS: [&str; 2] = ["110m", "50m"];

fn main() -> Result<(), Box<dyn Error>> {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed=src/atlas/format.rs");
    for res in RESOLUTIONS {
        let input = manifest_dir.join(format!("data/world-atlas/countries-{res}.json"));
        println!("cargo::rerun-if-changed={}", input.display());
        let json = std::fs::read_to_string(&input)
            .map_err(|e| format!("cannot read {}: {e}", input.display()))?;
        let encoded = encode_topojson(&json)
            .map_err(|e| format!("cannot convert {}: {e}", input.display()))?;
        std::fs::write(out_dir.join(format!("countries-{res}.bin")), encoded)?;
    }
    Ok(())
}

/// Converts a `world-atlas` TopoJSON document (quantized, delta-encoded arcs and an
/// `objects.countries` geometry collection of `Polygon`/`MultiPolygon`) into the binary
/// atlas format. Reusable for any resolution; other objects (such as `land`) are ignored.
fn encode_topojson(json: &str) -> Result<Vec<u8>, String> {
    let topo: Value = serde_json::from_str(json).map_err(|e| e.to_string())?;
    let transform = &topo["transform"];
    let pair = |v: &Value, what: &str| -> Result<[f64; 2], String> {
        match (v[0].as_f64(), v[1].as_f64()) {
            (Some(a), Some(b)) => Ok([a, b]),
            _ => Err(format!("missing or invalid transform.{what}")),
        }
    };
    let scale = pair(&transform["scale"], "scale")?;
    let translate = pair(&transform["translate"], "translate")?;

    // Arcs: TopoJSON stores the first position absolutely and the rest as deltas; we
    // rebuild absolute positions to validate them, and re-emit the same deltas.
    let arcs_json = topo["arcs"].as_array().ok_or("missing arcs")?;
    let mut arcs: Vec<Vec<[i64; 2]>> = Vec::with_capacity(arcs_json.len());
    for (i, arc) in arcs_json.iter().enumerate() {
        let positions = arc
            .as_array()
            .ok_or_else(|| format!("arc {i} is not an array"))?;
        if positions.len() < 2 {
            return Err(format!("arc {i} has fewer than two positions"));
        }
        let mut absolute = Vec::with_capacity(positions.len());
        let (mut x, mut y) = (0i64, 0i64);
        for p in positions {
            let (Some(dx), Some(dy)) = (p[0].as_i64(), p[1].as_i64()) else {
                return Err(format!(
                    "arc {i} has a non-integer position (unquantized TopoJSON?)"
                ));
            };
            x += dx;
            y += dy;
            absolute.push([x, y]);
        }
        arcs.push(absolute);
    }

    // Countries, and how many rings use each arc (1 = coastline, 2+ = land border).
    let geometries = topo["objects"]["countries"]["geometries"]
        .as_array()
        .ok_or("missing objects.countries.geometries")?;
    let mut uses = vec![0u32; arcs.len()];
    let mut countries_bin = Vec::new();
    for (g, geometry) in geometries.iter().enumerate() {
        let name = geometry["properties"]["name"].as_str().unwrap_or("");
        // A few disputed areas (Kosovo, N. Cyprus, Somaliland...) have no ISO numeric id.
        let id = match &geometry["id"] {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => String::new(),
        };
        let polygons: Vec<&Value> = match geometry["type"].as_str() {
            Some("Polygon") => vec![&geometry["arcs"]],
            Some("MultiPolygon") => geometry["arcs"]
                .as_array()
                .ok_or_else(|| format!("geometry {g} has no arcs"))?
                .iter()
                .collect(),
            // Null geometries carry no shape; keep the country so ids stay complete.
            None => Vec::new(),
            Some(other) => return Err(format!("geometry {g} has unsupported type {other}")),
        };
        write_str(&mut countries_bin, name);
        write_str(&mut countries_bin, &id);
        format::write_varint(&mut countries_bin, polygons.len() as u64);
        for polygon in polygons {
            let rings = polygon
                .as_array()
                .ok_or_else(|| format!("geometry {g}: bad polygon"))?;
            format::write_varint(&mut countries_bin, rings.len() as u64);
            for ring in rings {
                let refs = ring
                    .as_array()
                    .ok_or_else(|| format!("geometry {g}: bad ring"))?;
                format::write_varint(&mut countries_bin, refs.len() as u64);
                for r in refs {
                    let r = r
                        .as_i64()
                        .ok_or_else(|| format!("geometry {g}: bad arc index"))?;
                    // `~i` (= -i - 1) means "arc i reversed".
                    let index = if r < 0 { !r } else { r } as usize;
                    *uses
                        .get_mut(index)
                        .ok_or_else(|| format!("geometry {g}: arc {r} out of range"))? += 1;
                    format::write_varint(&mut countries_bin, format::zigzag(r));
                }
            }
        }
    }

    let mut out = Vec::with_capacity(json.len() / 4);
    out.extend_from_slice(&format::MAGIC);
    out.push(format::VERSION);
    for v in [scale[0], scale[1], translate[0], translate[1]] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    format::write_varint(&mut out, arcs.len() as u64);
    format::write_varint(&mut out, geometries.len() as u64);
    for (arc, &used) in arcs.iter().zip(&uses) {
        let border = if used >= 2 { format::ARC_BORDER_BIT } else { 0 };
        format::write_varint(&mut out, ((arc.len() as u64) << 1) | border);
        let mut previous = [0i64, 0];
        for p in arc {
            format::write_varint(&mut out, format::zigzag(p[0] - previous[0]));
            format::write_varint(&mut out, format::zigzag(p[1] - previous[1]));
            previous = *p;
        }
    }
    out.extend_from_slice(&countries_bin);
    Ok(out)
}

/// Writes a length-prefixed UTF-8 string.
fn write_str(out: &mut Vec<u8>, s: &str) {
    format::write_varint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}
