//! Tests of the atlas decoder against the committed TopoJSON, read here by a small
//! independent JSON reader (not build.rs's serde_json path), so that an encoder bug cannot
//! hide behind the same code on both sides.

use super::*;

const JSON_110M: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/data/world-atlas/countries-110m.json"
));
const JSON_50M_PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/data/world-atlas/countries-50m.json"
);
/// Produced by build.rs but not embedded in the app; read at test time only.
const BIN_50M_PATH: &str = concat!(env!("OUT_DIR"), "/countries-50m.bin");

fn atlas_50m() -> (Vec<u8>, String) {
    let bin = std::fs::read(BIN_50M_PATH).expect("build.rs writes countries-50m.bin");
    let json = std::fs::read_to_string(JSON_50M_PATH).expect("committed 50m TopoJSON");
    (bin, json)
}

// --- A minimal JSON reader, enough for TopoJSON -------------------------------------

#[derive(Debug)]
enum Json {
    Null,
    Bool,
    Num(f64),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

impl Json {
    fn parse(text: &str) -> Json {
        let mut p = JsonParser {
            s: text.as_bytes(),
            i: 0,
        };
        let v = p.value();
        p.ws();
        assert_eq!(p.i, p.s.len(), "trailing JSON");
        v
    }
    fn get(&self, key: &str) -> &Json {
        match self {
            Json::Obj(members) => members
                .iter()
                .find(|(k, _)| k == key)
                .map_or(&Json::Null, |(_, v)| v),
            _ => &Json::Null,
        }
    }
    fn arr(&self) -> &[Json] {
        match self {
            Json::Arr(items) => items,
            other => panic!("expected an array, got {other:?}"),
        }
    }
    fn num(&self) -> f64 {
        match self {
            Json::Num(n) => *n,
            other => panic!("expected a number, got {other:?}"),
        }
    }
    fn str_or_empty(&self) -> &str {
        match self {
            Json::Str(s) => s,
            _ => "",
        }
    }
}

struct JsonParser<'a> {
    s: &'a [u8],
    i: usize,
}

impl JsonParser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }
    fn eat(&mut self, c: u8) -> bool {
        self.ws();
        if self.s.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn value(&mut self) -> Json {
        self.ws();
        match self.s[self.i] {
            b'{' => {
                self.i += 1;
                let mut members = Vec::new();
                if !self.eat(b'}') {
                    loop {
                        self.ws();
                        let Json::Str(k) = self.value() else {
                            panic!("object key")
                        };
                        assert!(self.eat(b':'));
                        members.push((k, self.value()));
                        if self.eat(b'}') {
                            break;
                        }
                        assert!(self.eat(b','));
                    }
                }
                Json::Obj(members)
            }
            b'[' => {
                self.i += 1;
                let mut items = Vec::new();
                if !self.eat(b']') {
                    loop {
                        items.push(self.value());
                        if self.eat(b']') {
                            break;
                        }
                        assert!(self.eat(b','));
                    }
                }
                Json::Arr(items)
            }
            b'"' => {
                self.i += 1;
                let start = self.i;
                while self.s[self.i] != b'"' {
                    // world-atlas names are plain UTF-8 without escapes.
                    assert_ne!(self.s[self.i], b'\\', "escapes are not supported");
                    self.i += 1;
                }
                self.i += 1;
                Json::Str(String::from_utf8(self.s[start..self.i - 1].to_vec()).unwrap())
            }
            b't' => {
                self.i += 4;
                Json::Bool
            }
            b'f' => {
                self.i += 5;
                Json::Bool
            }
            b'n' => {
                self.i += 4;
                Json::Null
            }
            _ => {
                let start = self.i;
                while self.i < self.s.len()
                    && matches!(
                        self.s[self.i],
                        b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9'
                    )
                {
                    self.i += 1;
                }
                Json::Num(
                    std::str::from_utf8(&self.s[start..self.i])
                        .unwrap()
                        .parse()
                        .unwrap(),
                )
            }
        }
    }
}

/// The TopoJSON's arcs dequantized to degrees, and the quantum size.
fn json_arcs(topo: &Json) -> (Vec<Vec<[f64; 2]>>, [f64; 2]) {
    let t = topo.get("transform");
    let scale = [t.get("scale").arr()[0].num(), t.get("scale").arr()[1].num()];
    let translate = [
        t.get("translate").arr()[0].num(),
        t.get("translate").arr()[1].num(),
    ];
    let arcs = topo
        .get("arcs")
        .arr()
        .iter()
        .map(|arc| {
            let (mut x, mut y) = (0.0, 0.0);
            arc.arr()
                .iter()
                .map(|p| {
                    x += p.arr()[0].num();
                    y += p.arr()[1].num();
                    [translate[0] + x * scale[0], translate[1] + y * scale[1]]
                })
                .collect()
        })
        .collect();
    (arcs, scale)
}

// --- Tests ------------------------------------------------------------------------

fn name_at(atlas: &Atlas, lat_deg: f64, lon_deg: f64) -> Option<&str> {
    atlas.country_at(lon_deg, lat_deg).map(|c| c.name.as_str())
}

#[test]
fn embedded_110m_has_the_177_natural_earth_countries() {
    let atlas = Atlas::embedded_110m();
    assert_eq!(atlas.countries().len(), 177);
    let mut names: Vec<&str> = atlas.countries().iter().map(|c| c.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), 177, "country names are unique");
    let usa = atlas
        .countries()
        .iter()
        .find(|c| c.name == "United States of America")
        .unwrap();
    assert_eq!(usa.id, "840");
    assert!(usa.polygons.len() >= 5, "mainland, Alaska, Hawaii...");
    for c in atlas.countries() {
        assert!(!c.polygons.is_empty(), "{} has a shape", c.name);
        assert!(
            c.bbox[0] <= c.bbox[2] && c.bbox[1] <= c.bbox[3],
            "{} bbox",
            c.name
        );
    }
}

#[test]
fn country_at_known_cities() {
    let atlas = Atlas::embedded_110m();
    assert_eq!(
        name_at(&atlas, 34.05, -118.25),
        Some("United States of America")
    ); // Los Angeles
    assert_eq!(name_at(&atlas, 48.8566, 2.3522), Some("France")); // Paris
    assert_eq!(name_at(&atlas, 35.68, 139.69), Some("Japan")); // Tokyo
    assert_eq!(name_at(&atlas, -23.55, -46.63), Some("Brazil")); // São Paulo
    assert_eq!(name_at(&atlas, 55.75, 37.62), Some("Russia")); // Moscow
    assert_eq!(name_at(&atlas, -26.2, 28.05), Some("South Africa")); // Johannesburg
    assert_eq!(name_at(&atlas, 0.0, -150.0), None); // mid-Pacific
    assert_eq!(name_at(&atlas, 30.0, -40.0), None); // mid-Atlantic
    // Wrapped longitude: 241.75°E is Los Angeles.
    assert_eq!(
        name_at(&atlas, 34.05, 241.75),
        Some("United States of America")
    );
}

#[test]
fn country_at_respects_holes_lesotho_is_not_south_africa() {
    let atlas = Atlas::embedded_110m();
    let south_africa = atlas
        .countries()
        .iter()
        .find(|c| c.name == "South Africa")
        .unwrap();
    assert!(
        south_africa.polygons.iter().any(|p| p.rings.len() > 1),
        "South Africa's polygon has Lesotho as a hole"
    );
    // Maseru, and the middle of Lesotho.
    assert_eq!(name_at(&atlas, -29.31, 27.48), Some("Lesotho"));
    assert_eq!(name_at(&atlas, -29.6, 28.2), Some("Lesotho"));
    assert!(
        !south_africa
            .polygons
            .iter()
            .any(|p| p.contains(28.2, -29.6))
    );
}

#[test]
fn country_at_across_the_antimeridian() {
    let atlas = Atlas::embedded_110m();
    // Chukotka, east of 180° (the Russian ring crosses twice).
    assert_eq!(name_at(&atlas, 66.0, -175.0), Some("Russia"));
    assert_eq!(name_at(&atlas, 66.0, 175.0), Some("Russia"));
    // Vanua Levu (Fiji), which straddles 180°, on both sides.
    assert_eq!(name_at(&atlas, -16.6, 179.5), Some("Fiji"));
    assert_eq!(name_at(&atlas, -16.2, -179.95), Some("Fiji"));
    // Antarctica encircles the pole: closed along 90°S, not along its coast's chord.
    for lon in [-179.0, -90.0, 0.0, 90.0, 179.0] {
        assert_eq!(name_at(&atlas, -85.0, lon), Some("Antarctica"), "lon {lon}");
        assert_eq!(name_at(&atlas, -89.9, lon), Some("Antarctica"), "lon {lon}");
    }
    assert_eq!(name_at(&atlas, -60.0, 0.0), None); // Southern Ocean
    assert_eq!(name_at(&atlas, 80.0, 0.0), None); // Arctic Ocean
}

/// Every decoded ring and arc is ready for a flat map: longitudes in [-180, 180], no step
/// across the antimeridian (except along a pole), rings closed.
fn assert_flat_map_invariants(atlas: &Atlas) {
    let in_range = |p: &[f32; 2]| p[0].abs() <= 180.0 && p[1].abs() <= 90.0;
    for arc in atlas.arcs() {
        assert!(arc.points.len() >= 2);
        assert!(arc.points.iter().all(in_range));
        assert!(
            arc.points
                .windows(2)
                .all(|e| (e[1][0] - e[0][0]).abs() <= 180.0)
        );
    }
    for c in atlas.countries() {
        for polygon in &c.polygons {
            for ring in &polygon.rings {
                assert!(ring.len() >= 4, "{}", c.name);
                assert_eq!(ring.first(), ring.last(), "{} ring closed", c.name);
                assert!(ring.iter().all(in_range), "{}", c.name);
                // Only a ring closed along a pole may run from one edge of the map to the other.
                let on_pole = |e: &[[f32; 2]]| e[0][1] == e[1][1] && e[0][1].abs() == 90.0;
                assert!(
                    ring.windows(2)
                        .all(|e| (e[1][0] - e[0][0]).abs() <= 180.0 || on_pole(e)),
                    "{}",
                    c.name
                );
            }
        }
    }
}

#[test]
fn decoded_geometry_is_flat_map_ready() {
    assert_flat_map_invariants(&Atlas::embedded_110m());
    let (bin, _) = atlas_50m();
    assert_flat_map_invariants(&Atlas::decode(&bin).unwrap());
}

#[test]
fn arcs_have_both_kinds_and_a_sane_point_count() {
    let atlas = Atlas::embedded_110m();
    let count = |kind| atlas.arcs().iter().filter(|a| a.kind == kind).count();
    let (coast, border) = (count(ArcKind::Coastline), count(ArcKind::Border));
    // 268 coastline and 327 border arcs in the TopoJSON, give or take pieces cut at ±180°
    // (one border arc, near 130.78°E 42.22°N, has two identical points and is dropped).
    assert!((268..280).contains(&coast), "{coast} coastline arcs");
    assert!((326..335).contains(&border), "{border} border arcs");
    let points: usize = atlas.arcs().iter().map(|a| a.points.len()).sum();
    assert!((8_246..8_300).contains(&points), "{points} points");
}

#[test]
fn binary_is_much_smaller_than_the_json() {
    let (bin_50m, json_50m) = atlas_50m();
    for (name, bin, json) in [
        ("110m", Atlas::embedded_110m_bytes().len(), JSON_110M.len()),
        ("50m", bin_50m.len(), json_50m.len()),
    ] {
        println!(
            "{name}: JSON {json} B, binary {bin} B ({:.1}%)",
            100.0 * bin as f64 / json as f64
        );
        assert!(
            bin * 100 < json * 40,
            "{name}: {bin} B is not < 40% of {json} B"
        );
    }
}

/// Decoded stored arcs equal the TopoJSON's dequantized arcs within half a quantum, and
/// every country keeps its name, id and ring structure.
fn assert_round_trip(bin: &[u8], json: &str) {
    let topo_json = Json::parse(json);
    let (expected_arcs, scale) = json_arcs(&topo_json);
    let topology = Topology::decode(bin).unwrap();
    assert_eq!(topology.arcs.len(), expected_arcs.len());
    let half = [scale[0] / 2.0, scale[1] / 2.0];
    for (i, ((_, got), want)) in topology.arcs.iter().zip(&expected_arcs).enumerate() {
        assert_eq!(got.len(), want.len(), "arc {i}");
        for (q, w) in got.iter().zip(want) {
            let d = topology.dequantize(*q);
            assert!(
                (d[0] - w[0]).abs() <= half[0] && (d[1] - w[1]).abs() <= half[1],
                "arc {i}"
            );
        }
    }
    // The f32 arcs handed out match point for point too, except where cut at ±180° (then
    // into several pieces) or dropped (the artificial polar ring); they come in order.
    let polar = |arc: &Vec<[f64; 2]>| arc.iter().all(|p| p[1].abs() as f32 > POLAR_ARC_LAT_DEG);
    let atlas = topology.into_atlas();
    let mut handed_out = atlas.arcs().iter();
    let mut intact = 0;
    for want in &expected_arcs {
        if polar(want) {
            continue;
        }
        let pieces = split_at_antimeridian(want).len();
        let crossing = want.windows(2).any(|e| crosses(e[0][0], e[1][0]));
        if pieces == 0 {
            continue; // Only a zero-length step along the antimeridian.
        }
        let first = handed_out.next().expect("an arc for every stored arc");
        if !crossing {
            assert_eq!(first.points.len(), want.len());
            for (g, w) in first.points.iter().zip(want) {
                assert!((f64::from(g[0]) - w[0]).abs() <= half[0]);
                assert!((f64::from(g[1]) - w[1]).abs() <= half[1]);
            }
            intact += 1;
        } else {
            for _ in 1..pieces {
                handed_out.next();
            }
        }
    }
    assert!(handed_out.next().is_none());
    assert!(
        intact + 10 >= expected_arcs.len(),
        "{intact} of {} arcs intact",
        expected_arcs.len()
    );

    let geometries = topo_json
        .get("objects")
        .get("countries")
        .get("geometries")
        .arr();
    assert_eq!(atlas.countries().len(), geometries.len());
    for (c, g) in atlas.countries().iter().zip(geometries) {
        assert_eq!(c.name, g.get("properties").get("name").str_or_empty());
        assert_eq!(c.id, g.get("id").str_or_empty());
    }
    let raw_rings: usize = Topology::decode(bin)
        .unwrap()
        .countries
        .iter()
        .flat_map(|c| &c.polygons)
        .map(Vec::len)
        .sum();
    let json_rings: usize = geometries
        .iter()
        .map(|g| match g.get("type").str_or_empty() {
            "Polygon" => g.get("arcs").arr().len(),
            _ => g.get("arcs").arr().iter().map(|p| p.arr().len()).sum(),
        })
        .sum();
    assert_eq!(raw_rings, json_rings);
}

#[test]
fn round_trip_110m_matches_topojson_within_half_a_quantum() {
    assert_round_trip(Atlas::embedded_110m_bytes(), JSON_110M);
}

#[test]
fn round_trip_50m_matches_topojson_within_half_a_quantum() {
    let (bin, json) = atlas_50m();
    assert_round_trip(&bin, &json);
    let atlas = Atlas::decode(&bin).unwrap();
    assert_eq!(atlas.countries().len(), 241);
    assert_eq!(name_at(&atlas, -29.31, 27.48), Some("Lesotho"));
    assert_eq!(
        name_at(&atlas, 34.05, -118.25),
        Some("United States of America")
    );
    assert_eq!(name_at(&atlas, -85.0, 45.0), Some("Antarctica"));
    // 50m Antarctica's TopoJSON outer ring runs along 89.999°S; the pole is still land.
    assert_eq!(name_at(&atlas, -89.9995, 45.0), Some("Antarctica"));
    let antarctica = atlas
        .countries()
        .iter()
        .find(|c| c.name == "Antarctica")
        .unwrap();
    assert!(
        antarctica.polygons.iter().all(|p| p.rings.len() == 1),
        "no polar hole"
    );
    assert!(
        atlas
            .arcs()
            .iter()
            .all(|a| a.points.iter().any(|p| p[1].abs() <= POLAR_ARC_LAT_DEG)),
        "the artificial ring along 89.999°S is not stroked"
    );
}

#[test]
fn antimeridian_splitting_interpolates_the_crossing() {
    let pieces = split_at_antimeridian(&[[170.0, 0.0], [-170.0, 10.0], [-160.0, 10.0]]);
    assert_eq!(
        pieces,
        vec![
            vec![[170.0, 0.0], [180.0, 5.0]],
            vec![[-180.0, 5.0], [-170.0, 10.0], [-160.0, 10.0]]
        ]
    );
    // A square straddling 180° becomes two closed squares.
    let ring = [
        [170.0, 0.0],
        [-170.0, 0.0],
        [-170.0, 10.0],
        [170.0, 10.0],
        [170.0, 0.0],
    ];
    let polygons = cut_polygon(&[ring.to_vec()]);
    assert_eq!(polygons.len(), 2);
    let mut areas: Vec<f64> = polygons
        .iter()
        .map(|p| ring_area(&p.rings[0]).abs())
        .collect();
    areas.sort_by(f64::total_cmp);
    assert_eq!(areas, vec![100.0, 100.0]);
}

#[test]
fn truncated_input_is_an_error() {
    let bytes = Atlas::embedded_110m_bytes();
    let n = bytes.len();
    for len in (0..64).chain((64..n).step_by(97)).chain(n - 64..n) {
        assert!(
            Atlas::decode(&bytes[..len]).is_err(),
            "prefix of {len} bytes"
        );
    }
    assert!(matches!(
        Atlas::decode(&bytes[..n - 1]),
        Err(AtlasError::Truncated { .. })
    ));
    let mut longer = bytes.to_vec();
    longer.push(0);
    assert_eq!(
        Atlas::decode(&longer).unwrap_err(),
        AtlasError::TrailingBytes { offset: n }
    );
}

#[test]
fn header_errors_are_specific() {
    let bytes = Atlas::embedded_110m_bytes();
    assert_eq!(Atlas::decode(b"").unwrap_err(), AtlasError::BadMagic);
    assert_eq!(
        Atlas::decode(b"{\"type\":\"Topology\"}").unwrap_err(),
        AtlasError::BadMagic
    );
    let mut v2 = bytes.to_vec();
    v2[4] = 2;
    assert_eq!(
        Atlas::decode(&v2).unwrap_err(),
        AtlasError::UnsupportedVersion(2)
    );
}

/// A small deterministic generator (xorshift64*) so failures reproduce.
struct XorShift(u64);
impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

#[test]
fn random_and_corrupted_input_never_panics() {
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let valid = Atlas::embedded_110m_bytes();
    for round in 0..3_000 {
        let len = (rng.next() % 400) as usize;
        let mut bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        if round % 2 == 0 {
            // Behind a valid header, so the body parser is exercised too.
            let keep = 37.min(bytes.len());
            bytes[..keep].copy_from_slice(&valid[..keep]);
        }
        let _ = Atlas::decode(&bytes);
    }
    // Flipped bytes inside the valid atlas: must decode or fail, never panic or hang.
    for _ in 0..150 {
        let mut bytes = valid.to_vec();
        for _ in 0..(1 + rng.next() % 3) {
            let i = (rng.next() % bytes.len() as u64) as usize;
            bytes[i] ^= 1 << (rng.next() % 8);
        }
        if let Ok(atlas) = Atlas::decode(&bytes) {
            let _ = atlas.country_at(2.35, 48.86);
        }
    }
}

/// The 1:50m atlas is served as a static file (`public/countries-50m.bin`, copied into the
/// site by Trunk and fetched by the app when zoomed in). Trunk cannot copy from `OUT_DIR`,
/// so the file is committed; this test keeps it identical to what build.rs makes from the
/// committed TopoJSON (to update it: copy `$OUT_DIR/countries-50m.bin` over it).
#[test]
fn the_served_50m_atlas_is_the_one_build_rs_makes() {
    let served = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../public/countries-50m.bin"
    ))
    .expect("public/countries-50m.bin is committed");
    let (built, _) = atlas_50m();
    assert!(
        served == built,
        "public/countries-50m.bin is stale: copy {BIN_50M_PATH} over it"
    );
    let atlas = Atlas::decode(&served).expect("valid");
    assert!(atlas.countries().len() > 200);
}
