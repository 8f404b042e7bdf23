//! The offline world map: country borders and coastlines from Natural Earth, decoded from
//! a compact binary made at build time, plus the geometric queries the map needs.
//!
//! # Purpose
//! The app must draw the world without any network and without parsing megabytes of JSON
//! at start. `web-app/build.rs` converts the committed `world-atlas` TopoJSON
//! (`web-app/data/world-atlas/`, Natural Earth, public domain) into the binary format
//! below; [`Atlas::embedded_110m`] decodes the 1:110m atlas that is compiled into the app.
//! This module is plain Rust (no web-sys or Leptos types) and is unit-tested natively.
//!
//! # Binary format (version 1)
//! All integers are unsigned LEB128 varints unless stated; "zigzag" means a signed value
//! mapped 0, -1, 1, -2, ... → 0, 1, 2, 3, ... and then written as a varint. The constants
//! and primitives are shared with `build.rs` through `src/atlas/format.rs`.
//! ```text
//! magic        4 bytes  "MDWA"
//! version      1 byte   1
//! scale_x      f64 LE   degrees of longitude per quantum   (TopoJSON transform.scale)
//! scale_y      f64 LE   degrees of latitude per quantum
//! translate_x  f64 LE   longitude of quantum 0, degrees    (TopoJSON transform.translate)
//! translate_y  f64 LE   latitude of quantum 0, degrees
//! arc_count    varint
//! country_count varint
//! arc × arc_count:
//!   header     varint   (point_count << 1) | is_border      point_count >= 2
//!   point × point_count: dx zigzag, dy zigzag   (the first relative to (0, 0), i.e.
//!                        absolute; the others relative to the previous point)
//! country × country_count:
//!   name       varint length + UTF-8     (TopoJSON properties.name)
//!   id         varint length + UTF-8     (ISO 3166-1 numeric, "" for a few disputed areas)
//!   polygon_count varint
//!   polygon × polygon_count:
//!     ring_count varint                   ring 0 is the outer ring, the others are holes
//!     ring × ring_count:
//!       ref_count varint
//!       ref × ref_count: zigzag arc reference: i = arc i forwards, !i (= -i - 1) = arc i
//!                        backwards (TopoJSON's `~i` convention)
//! ```
//! Nothing may follow the last country. The format keeps TopoJSON's topology: every arc is
//! stored once, shared borders are not duplicated, and each arc carries a flag saying
//! whether it is a coastline (used by one ring) or a land border (used by two or more;
//! one arc in the 110m data is used by three rings).
//!
//! # Invariants checked by the decoder
//! Every count fits in the remaining bytes (so no allocation exceeds the input's size),
//! every quantized coordinate stays within ±2^31 and dequantizes onto the globe
//! (|lon| <= 180°, |lat| <= 90°), every arc reference is in range, consecutive arcs of a
//! ring join exactly (end of one = start of the next, in quantized integers) and every
//! ring closes. Any violation, truncation or trailing byte is an [`AtlasError`]; decoding
//! never panics.
//!
//! # Sizes (world-atlas 2.0.2)
//! | | TopoJSON | binary | gzip -9: TopoJSON / binary |
//! |---|---|---|---|
//! | 110m (embedded) | 107,761 B | 36,570 B (34 %) | 38,495 B / 30,323 B |
//! | 50m (not embedded) | 756,420 B | 200,643 B (27 %) | |
//!
//! The binary keeps TopoJSON's quantization (10^5 steps per axis), so decoded points equal
//! the TopoJSON's to within half a quantum (0.0018° of longitude). Decoding the 110m atlas
//! takes about 0.9 ms natively (release build), 50m about 5 ms.
//!
//! # The antimeridian
//! `world-atlas` v2 keeps its geometry on the sphere for d3-geo, so unlike raw Natural
//! Earth shapefiles it does *not* cut everything at ±180°. Checking every consecutive pair
//! of points for a longitude step of more than 180° finds, in 110m, 7 such steps in 4
//! arcs, in 4 rings: Fiji (Vanua Levu), two Russian rings (Chukotka and Wrangel Island),
//! each crossing twice, and Antarctica, whose coast crosses once because it encircles the
//! South Pole. The 50m data has 8 steps in 5 arcs, in the same places plus an artificial
//! Antarctic ring running along 89.999°S around the pole. Many points lie exactly on
//! ±180°, and some steps are zero-length jumps from +180° to -180°. For a flat map the
//! decoder therefore:
//! - splits stroked [`Arc`]s where they cross, inserting the crossing point at -180° and
//!   +180° (interpolated in latitude); arcs of fewer than two distinct points (one
//!   zero-length border arc in 110m, near 130.78°E 42.22°N) are dropped;
//! - drops arcs and rings lying entirely beyond 89.9° of latitude: 50m Antarctica's outer
//!   ring is such an artificial ring, with the real coast as its "hole" (on the sphere,
//!   the polygon is the band between them). Without it the coast becomes the outer ring
//!   and Antarctica includes the pole, as it should;
//! - unwraps each crossing ring to continuous longitudes; a ring whose longitudes then
//!   span a whole turn (it encircles a pole) is closed along the nearer pole (±90°); the
//!   ring is clipped to each 360° strip it touches and shifted back into [-180°, 180°].
//!   The pieces of a cut outer ring become separate [`Polygon`]s; each piece of a hole is
//!   attached to the first piece whose bounding box contains it.
//!
//! After decoding, every point of every ring and arc has a longitude in [-180°, 180°]
//! and no two consecutive points are more than 180° apart in longitude, except along a
//! pole: Antarctica's ring is closed by an edge along 90°S from +180° to -180° (a Web
//! Mercator projection must clamp its latitude, as it does for all polar points).

// The encoder half of `format` (`zigzag`, `write_varint`) is used by build.rs and the tests.
#[allow(dead_code)]
mod format;

use std::fmt;

/// Quantized coordinates beyond this magnitude are rejected as corrupt (TopoJSON uses
/// at most a few million quanta per axis).
const MAX_QUANTUM: i64 = 1 << 31;

/// Tolerance on the globe's limits (±180° longitude, ±90° latitude) for decoded points,
/// which absorbs the rounding of `translate + q * scale`.
const GLOBE_SLACK_DEG: f64 = 1e-6;

/// Arcs and rings whose every point is closer to a pole than this (degrees of latitude)
/// are artificial edges around the pole, neither stroked nor filled (see the module docs).
const POLAR_ARC_LAT_DEG: f32 = 89.9;

/// The decoded world map: countries for filling and hit-testing, arcs for stroking.
#[derive(Debug, Clone)]
pub struct Atlas {
    countries: Vec<Country>,
    arcs: Vec<Arc>,
}

/// One polyline of the map's topology, in longitude/latitude degrees.
#[derive(Debug, Clone, PartialEq)]
pub struct Arc {
    /// Whether this is a coastline or a land border between two countries.
    pub kind: ArcKind,
    /// `[lon_deg, lat_deg]`, at least two points, longitudes within [-180, 180].
    pub points: Vec<[f32; 2]>,
}

/// What an [`Arc`] separates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArcKind {
    /// Land against sea: the arc belongs to a single country ring.
    Coastline,
    /// Land against land: the arc is shared by two (rarely more) country rings.
    Border,
}

/// One country (or disputed area) of Natural Earth's admin-0 layer.
#[derive(Debug, Clone, PartialEq)]
pub struct Country {
    /// English short name, as in `world-atlas` (`"United States of America"`, `"Japan"`).
    pub name: String,
    /// ISO 3166-1 numeric code as a three-digit string (`"840"`), or `""` for the few
    /// areas without one (Kosovo, N. Cyprus, Somaliland...).
    pub id: String,
    /// The country's polygons (islands, exclaves, pieces cut at the antimeridian).
    pub polygons: Vec<Polygon>,
    /// `[min_lon, min_lat, max_lon, max_lat]` in degrees over all polygons.
    pub bbox: [f32; 4],
}

/// A polygon with holes, in longitude/latitude degrees.
#[derive(Debug, Clone, PartialEq)]
pub struct Polygon {
    /// `rings[0]` is the outer ring and the others are holes (e.g. Lesotho inside South
    /// Africa). Each ring is closed (first point = last point) and has at least four
    /// points. Fill with the even-odd rule.
    pub rings: Vec<Vec<[f32; 2]>>,
}

/// Why a byte string is not a valid atlas.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AtlasError {
    /// The input does not start with the atlas magic bytes.
    BadMagic,
    /// The format version is not one this decoder understands.
    UnsupportedVersion(u8),
    /// The input ended in the middle of a value, at this byte offset.
    Truncated {
        /// Byte offset at which more input was needed.
        offset: usize,
    },
    /// A value is out of range or inconsistent.
    Malformed {
        /// Byte offset just after the offending value.
        offset: usize,
        /// What is wrong.
        what: &'static str,
    },
    /// Bytes remain after the last country.
    TrailingBytes {
        /// Offset of the first unexpected byte.
        offset: usize,
    },
}

impl fmt::Display for AtlasError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadMagic => write!(f, "not a world atlas (bad magic bytes)"),
            Self::UnsupportedVersion(v) => write!(f, "unsupported world atlas version {v}"),
            Self::Truncated { offset } => write!(f, "world atlas truncated at byte {offset}"),
            Self::Malformed { offset, what } => {
                write!(f, "malformed world atlas at byte {offset}: {what}")
            }
            Self::TrailingBytes { offset } => {
                write!(f, "unexpected data after the world atlas at byte {offset}")
            }
        }
    }
}

impl std::error::Error for AtlasError {}

/// The 1:110m atlas produced by `build.rs`.
static EMBEDDED_110M: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/countries-110m.bin"));

impl Atlas {
    /// Decodes an atlas in the binary format described in the module docs.
    ///
    /// # Errors
    /// Any truncated, corrupt or inconsistent input yields an [`AtlasError`]; this
    /// function never panics.
    pub fn decode(bytes: &[u8]) -> Result<Atlas, AtlasError> {
        let topology = Topology::decode(bytes)?;
        Ok(topology.into_atlas())
    }

    /// The 1:110m atlas compiled into the app (37 kB; decodes in about 1 ms natively).
    pub fn embedded_110m() -> Atlas {
        Atlas::decode(EMBEDDED_110M)
            .expect("the 110m atlas produced by build.rs is valid (tested by atlas::tests)")
    }

    /// The encoded bytes behind [`Atlas::embedded_110m`].
    pub fn embedded_110m_bytes() -> &'static [u8] {
        EMBEDDED_110M
    }

    /// All countries, in `world-atlas` order.
    pub fn countries(&self) -> &[Country] {
        &self.countries
    }

    /// Every arc once, for stroking coastlines and borders without drawing shared borders
    /// twice. Arcs crossing the antimeridian come as several pieces.
    pub fn arcs(&self) -> &[Arc] {
        &self.arcs
    }

    /// The country containing the point, if any (even-odd rule, holes respected, bounding
    /// boxes checked first). Longitudes outside [-180, 180] are wrapped; a point exactly on
    /// a border may be attributed to either side.
    pub fn country_at(&self, lon_deg: f64, lat_deg: f64) -> Option<&Country> {
        if !lon_deg.is_finite() || !lat_deg.is_finite() {
            return None;
        }
        let lon = wrap_lon(lon_deg);
        self.countries.iter().find(|c| {
            let [x0, y0, x1, y1] = c.bbox.map(f64::from);
            (x0..=x1).contains(&lon)
                && (y0..=y1).contains(&lat_deg)
                && c.polygons.iter().any(|p| p.contains(lon, lat_deg))
        })
    }
}

impl Polygon {
    /// Whether the point (degrees, longitude already in [-180, 180]) is inside the polygon
    /// by the even-odd rule over all rings.
    pub fn contains(&self, lon_deg: f64, lat_deg: f64) -> bool {
        let mut inside = false;
        for ring in &self.rings {
            for edge in ring.windows(2) {
                let [ax, ay] = edge[0].map(f64::from);
                let [bx, by] = edge[1].map(f64::from);
                if (ay > lat_deg) != (by > lat_deg) {
                    let x = ax + (lat_deg - ay) / (by - ay) * (bx - ax);
                    if lon_deg < x {
                        inside = !inside;
                    }
                }
            }
        }
        inside
    }
}

/// Wraps a longitude into [-180, 180].
fn wrap_lon(lon_deg: f64) -> f64 {
    if (-180.0..=180.0).contains(&lon_deg) {
        lon_deg
    } else {
        (lon_deg + 180.0).rem_euclid(360.0) - 180.0
    }
}

/// The atlas as stored: quantized arcs and rings of arc references.
struct Topology {
    scale: [f64; 2],
    translate: [f64; 2],
    arcs: Vec<(ArcKind, Vec<[i64; 2]>)>,
    countries: Vec<RawCountry>,
}

struct RawCountry {
    name: String,
    id: String,
    /// Polygons → rings → quantized points (closed).
    polygons: Vec<Vec<Vec<[i64; 2]>>>,
}

/// A bounds-checked cursor over the input.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], AtlasError> {
        if self.remaining() < n {
            return Err(AtlasError::Truncated {
                offset: self.bytes.len(),
            });
        }
        let slice = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(slice)
    }

    fn malformed(&self, what: &'static str) -> AtlasError {
        AtlasError::Malformed {
            offset: self.pos,
            what,
        }
    }

    fn f64(&mut self) -> Result<f64, AtlasError> {
        let mut le = [0u8; 8];
        le.copy_from_slice(self.take(8)?);
        let v = f64::from_le_bytes(le);
        if v.is_finite() {
            Ok(v)
        } else {
            Err(self.malformed("non-finite transform"))
        }
    }

    fn varint(&mut self) -> Result<u64, AtlasError> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.take(1)?[0];
            let bits = u64::from(byte & 0x7f);
            if shift == 63 && bits > 1 {
                return Err(self.malformed("varint overflows 64 bits"));
            }
            value |= bits << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(self.malformed("varint longer than 10 bytes"))
    }

    fn signed(&mut self) -> Result<i64, AtlasError> {
        self.varint().map(format::unzigzag)
    }

    /// A count of items each needing at least `min_bytes` bytes; rejecting counts that
    /// cannot fit bounds every allocation by the input size.
    fn count(&mut self, min_bytes: usize) -> Result<usize, AtlasError> {
        let n = self.varint()?;
        match usize::try_from(n) {
            Ok(n) if n.saturating_mul(min_bytes) <= self.remaining() => Ok(n),
            _ => Err(self.malformed("count larger than the remaining input")),
        }
    }

    fn string(&mut self) -> Result<String, AtlasError> {
        let len = self.count(1)?;
        let bytes = self.take(len)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| self.malformed("string is not UTF-8"))
    }
}

impl Topology {
    fn decode(bytes: &[u8]) -> Result<Topology, AtlasError> {
        let mut r = Reader { bytes, pos: 0 };
        if r.take(4).map_err(|_| AtlasError::BadMagic)? != format::MAGIC {
            return Err(AtlasError::BadMagic);
        }
        let version = r.take(1)?[0];
        if version != format::VERSION {
            return Err(AtlasError::UnsupportedVersion(version));
        }
        let scale = [r.f64()?, r.f64()?];
        let translate = [r.f64()?, r.f64()?];
        // An arc needs at least 1 header byte and 2 points of 2 bytes.
        let arc_count = r.count(5)?;
        // A country needs at least 3 bytes (name length, id length, polygon count).
        let country_count = r.count(3)?;

        let mut arcs = Vec::with_capacity(arc_count);
        for _ in 0..arc_count {
            let header = r.varint()?;
            let kind = if header & format::ARC_BORDER_BIT != 0 {
                ArcKind::Border
            } else {
                ArcKind::Coastline
            };
            let point_count = usize::try_from(header >> 1)
                .ok()
                .filter(|&n| n >= 2 && n.saturating_mul(2) <= r.remaining())
                .ok_or_else(|| r.malformed("bad arc point count"))?;
            let mut points = Vec::with_capacity(point_count);
            let mut p = [0i64; 2];
            for _ in 0..point_count {
                for axis in &mut p {
                    *axis = axis
                        .checked_add(r.signed()?)
                        .filter(|v| v.abs() <= MAX_QUANTUM)
                        .ok_or_else(|| r.malformed("coordinate out of range"))?;
                }
                let [lon, lat] = dequantize(scale, translate, p);
                if !(lon.abs() <= 180.0 + GLOBE_SLACK_DEG && lat.abs() <= 90.0 + GLOBE_SLACK_DEG) {
                    return Err(r.malformed("coordinate outside the globe"));
                }
                points.push(p);
            }
            arcs.push((kind, points));
        }

        let mut countries = Vec::with_capacity(country_count);
        for _ in 0..country_count {
            let name = r.string()?;
            let id = r.string()?;
            let polygon_count = r.count(1)?;
            let mut polygons = Vec::with_capacity(polygon_count);
            for _ in 0..polygon_count {
                let ring_count = r.count(1)?;
                let mut rings = Vec::with_capacity(ring_count);
                for _ in 0..ring_count {
                    let ref_count = r.count(1)?;
                    if ref_count == 0 {
                        return Err(r.malformed("empty ring"));
                    }
                    let mut ring: Vec<[i64; 2]> = Vec::new();
                    for _ in 0..ref_count {
                        let reference = r.signed()?;
                        let (index, reversed) = if reference < 0 {
                            (!reference, true)
                        } else {
                            (reference, false)
                        };
                        let arc = usize::try_from(index)
                            .ok()
                            .and_then(|i| arcs.get(i))
                            .ok_or_else(|| r.malformed("arc reference out of range"))?;
                        let points = &arc.1;
                        let mut iter: Box<dyn Iterator<Item = &[i64; 2]>> = if reversed {
                            Box::new(points.iter().rev())
                        } else {
                            Box::new(points.iter())
                        };
                        if let Some(&last) = ring.last() {
                            // Consecutive arcs share their joining point; keep it once.
                            if iter.next() != Some(&last) {
                                return Err(r.malformed("consecutive arcs of a ring do not join"));
                            }
                        }
                        ring.extend(iter);
                    }
                    if ring.len() < 4 || ring.first() != ring.last() {
                        return Err(r.malformed("ring is not closed"));
                    }
                    rings.push(ring);
                }
                polygons.push(rings);
            }
            countries.push(RawCountry { name, id, polygons });
        }
        if r.remaining() != 0 {
            return Err(AtlasError::TrailingBytes { offset: r.pos });
        }
        Ok(Topology {
            scale,
            translate,
            arcs,
            countries,
        })
    }

    /// Quantized position → `[lon_deg, lat_deg]`.
    fn dequantize(&self, q: [i64; 2]) -> [f64; 2] {
        dequantize(self.scale, self.translate, q)
    }

    fn into_atlas(self) -> Atlas {
        let mut arcs = Vec::with_capacity(self.arcs.len());
        for (kind, points) in &self.arcs {
            let points: Vec<[f64; 2]> = points.iter().map(|&q| self.dequantize(q)).collect();
            if points.iter().all(|p| p[1].abs() as f32 > POLAR_ARC_LAT_DEG) {
                continue;
            }
            for piece in split_at_antimeridian(&points) {
                arcs.push(Arc {
                    kind: *kind,
                    points: piece,
                });
            }
        }
        let countries = self
            .countries
            .iter()
            .map(|raw| {
                let mut polygons = Vec::with_capacity(raw.polygons.len());
                for rings in &raw.polygons {
                    let rings: Vec<Vec<[f64; 2]>> = rings
                        .iter()
                        .map(|ring| ring.iter().map(|&q| self.dequantize(q)).collect::<Vec<_>>())
                        .filter(|ring| !ring.iter().all(|p| p[1].abs() as f32 > POLAR_ARC_LAT_DEG))
                        .collect();
                    if !rings.is_empty() {
                        polygons.extend(cut_polygon(&rings));
                    }
                }
                let bbox = bbox_of(&polygons);
                Country {
                    name: raw.name.clone(),
                    id: raw.id.clone(),
                    polygons,
                    bbox,
                }
            })
            .collect();
        Atlas { countries, arcs }
    }
}

/// Quantized position → `[lon_deg, lat_deg]` with TopoJSON's transform.
fn dequantize(scale: [f64; 2], translate: [f64; 2], q: [i64; 2]) -> [f64; 2] {
    [
        translate[0] + q[0] as f64 * scale[0],
        translate[1] + q[1] as f64 * scale[1],
    ]
}

fn to_f32(p: [f64; 2]) -> [f32; 2] {
    [p[0] as f32, p[1] as f32]
}

/// Whether a step between two longitudes crosses the antimeridian (the short way round
/// goes through ±180°).
fn crosses(a_lon: f64, b_lon: f64) -> bool {
    (b_lon - a_lon).abs() > 180.0
}

/// Splits a polyline where it crosses the antimeridian, ending one piece at ±180° and
/// starting the next at ∓180° at the interpolated latitude. Pieces of fewer than two
/// distinct points are dropped.
fn split_at_antimeridian(points: &[[f64; 2]]) -> Vec<Vec<[f32; 2]>> {
    let mut pieces = Vec::new();
    let mut current: Vec<[f32; 2]> = Vec::new();
    let push = |piece: &mut Vec<[f32; 2]>, p: [f32; 2]| {
        if piece.last() != Some(&p) {
            piece.push(p);
        }
    };
    for (i, &p) in points.iter().enumerate() {
        if i > 0 {
            let a = points[i - 1];
            if crosses(a[0], p[0]) {
                // From the east edge of the map to the west one means going east
                // through +180° (and the other way round); unwrap `p` next to `a`.
                let (b_lon, edge) = if p[0] < a[0] {
                    (p[0] + 360.0, 180.0)
                } else {
                    (p[0] - 360.0, -180.0)
                };
                let t = if b_lon == a[0] {
                    0.0
                } else {
                    ((edge - a[0]) / (b_lon - a[0])).clamp(0.0, 1.0)
                };
                let lat = a[1] + t * (p[1] - a[1]);
                push(&mut current, to_f32([edge, lat]));
                if current.len() >= 2 {
                    pieces.push(std::mem::take(&mut current));
                }
                current.clear();
                current.push(to_f32([-edge, lat]));
            }
        }
        push(&mut current, to_f32(p));
    }
    if current.len() >= 2 {
        pieces.push(current);
    }
    pieces
}

/// Cuts a polygon (outer ring + holes, degrees) at the antimeridian as described in the
/// module docs. Polygons that do not cross come back unchanged (converted to f32).
fn cut_polygon(rings: &[Vec<[f64; 2]>]) -> Vec<Polygon> {
    let crossing = rings
        .iter()
        .any(|ring| ring.windows(2).any(|e| crosses(e[0][0], e[1][0])));
    if !crossing {
        let rings = rings
            .iter()
            .map(|ring| ring.iter().map(|&p| to_f32(p)).collect())
            .collect();
        return vec![Polygon { rings }];
    }
    let Some((outer, holes)) = rings.split_first() else {
        return Vec::new();
    };
    let mut polygons: Vec<Polygon> = cut_ring(outer)
        .into_iter()
        .map(|ring| Polygon { rings: vec![ring] })
        .collect();
    for hole in holes {
        for piece in cut_ring(hole) {
            let hole_box = bbox_of_ring(&piece);
            // A hole outside every piece cannot happen with valid data; keep it in the
            // first polygon so that even-odd filling still sees it.
            let host = polygons
                .iter()
                .position(|p| {
                    let b = bbox_of_ring(&p.rings[0]);
                    b[0] <= hole_box[0]
                        && b[1] <= hole_box[1]
                        && hole_box[2] <= b[2]
                        && hole_box[3] <= b[3]
                })
                .unwrap_or(0);
            if let Some(host) = polygons.get_mut(host) {
                host.rings.push(piece);
            }
        }
    }
    polygons
}

/// Unwraps a closed ring to continuous longitudes, closes it along the nearer pole if it
/// encircles one, clips it to each 360° strip it touches and shifts each piece back into
/// [-180°, 180°]. Degenerate (zero-area) pieces are dropped.
fn cut_ring(ring: &[[f64; 2]]) -> Vec<Vec<[f32; 2]>> {
    let mut unwrapped: Vec<[f64; 2]> = Vec::with_capacity(ring.len() + 3);
    for &p in ring {
        let lon = match unwrapped.last() {
            Some(prev) => prev[0] + wrap_lon(p[0] - prev[0]),
            None => p[0],
        };
        unwrapped.push([lon, p[1]]);
    }
    let (Some(&first), Some(&last)) = (unwrapped.first(), unwrapped.last()) else {
        return Vec::new();
    };
    if (last[0] - first[0]).abs() > 180.0 {
        // Encircles a pole: close along the nearer one.
        let mean_lat = unwrapped.iter().map(|p| p[1]).sum::<f64>() / unwrapped.len() as f64;
        let pole = if mean_lat < 0.0 { -90.0 } else { 90.0 };
        unwrapped.push([last[0], pole]);
        unwrapped.push([first[0], pole]);
        unwrapped.push(first);
    }
    let min_lon = unwrapped.iter().map(|p| p[0]).fold(f64::INFINITY, f64::min);
    let max_lon = unwrapped
        .iter()
        .map(|p| p[0])
        .fold(f64::NEG_INFINITY, f64::max);
    let k_lo = ((min_lon + 180.0) / 360.0).floor() as i64;
    let k_hi = ((max_lon + 180.0) / 360.0).ceil() as i64 - 1;
    let mut pieces = Vec::new();
    for k in k_lo..=k_hi.max(k_lo) {
        let shift = 360.0 * k as f64;
        let clipped = clip_half_plane(&unwrapped, shift - 180.0, true);
        let clipped = clip_half_plane(&clipped, shift + 180.0, false);
        let mut piece: Vec<[f32; 2]> = Vec::with_capacity(clipped.len() + 1);
        for p in clipped {
            let q = to_f32([(p[0] - shift).clamp(-180.0, 180.0), p[1]]);
            if piece.last() != Some(&q) {
                piece.push(q);
            }
        }
        close_ring(&mut piece);
        if piece.len() >= 4 && ring_area(&piece).abs() > 1e-9 {
            pieces.push(piece);
        }
    }
    pieces
}

/// Sutherland–Hodgman clipping of a closed ring against the vertical line `lon = x`,
/// keeping the side `lon >= x` (`keep_east`) or `lon <= x`. A concave ring cut into several
/// parts comes back as one ring joined by zero-width edges along the line, which is
/// harmless for even-odd filling and hit-testing.
fn clip_half_plane(ring: &[[f64; 2]], x: f64, keep_east: bool) -> Vec<[f64; 2]> {
    let inside = |p: &[f64; 2]| if keep_east { p[0] >= x } else { p[0] <= x };
    let mut out = Vec::with_capacity(ring.len() + 4);
    for edge in ring.windows(2) {
        let (a, b) = (edge[0], edge[1]);
        match (inside(&a), inside(&b)) {
            (true, true) => out.push(b),
            (true, false) => out.push(intersect(a, b, x)),
            (false, true) => {
                out.push(intersect(a, b, x));
                out.push(b);
            }
            (false, false) => {}
        }
    }
    close_ring(&mut out);
    out
}

/// Appends the first point if the ring does not end with it already.
fn close_ring<T: Copy + PartialEq>(ring: &mut Vec<T>) {
    if let Some(&start) = ring.first()
        && ring.last() != Some(&start)
    {
        ring.push(start);
    }
}

/// The point of segment `a`–`b` at longitude `x` (which lies between them).
fn intersect(a: [f64; 2], b: [f64; 2], x: f64) -> [f64; 2] {
    let t = if b[0] == a[0] {
        0.0
    } else {
        (x - a[0]) / (b[0] - a[0])
    };
    [x, a[1] + t * (b[1] - a[1])]
}

/// Signed planar area (shoelace) in square degrees.
fn ring_area(ring: &[[f32; 2]]) -> f64 {
    ring.windows(2)
        .map(|e| f64::from(e[0][0]) * f64::from(e[1][1]) - f64::from(e[1][0]) * f64::from(e[0][1]))
        .sum::<f64>()
        / 2.0
}

fn bbox_of_ring(ring: &[[f32; 2]]) -> [f32; 4] {
    ring.iter().fold(
        [
            f32::INFINITY,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NEG_INFINITY,
        ],
        |b, p| {
            [
                b[0].min(p[0]),
                b[1].min(p[1]),
                b[2].max(p[0]),
                b[3].max(p[1]),
            ]
        },
    )
}

/// The bounding box of all outer rings (holes lie inside them); all zeros if empty.
fn bbox_of(polygons: &[Polygon]) -> [f32; 4] {
    let b = polygons
        .iter()
        .filter_map(|p| p.rings.first())
        .map(|r| bbox_of_ring(r))
        .fold(
            [
                f32::INFINITY,
                f32::INFINITY,
                f32::NEG_INFINITY,
                f32::NEG_INFINITY,
            ],
            |b, r| {
                [
                    b[0].min(r[0]),
                    b[1].min(r[1]),
                    b[2].max(r[2]),
                    b[3].max(r[3]),
                ]
            },
        );
    if b[0].is_finite() { b } else { [0.0; 4] }
}

#[cfg(test)]
mod tests;
