//! US Standard Atmosphere 1976 (NOAA/NASA/USAF, NOAA-S/T 76-1562), with a log-linear extension
//! through the standard's tabulated values from 86 to 120 km and vacuum above.
//!
//! Below 86 km the seven layers of constant molecular-scale temperature gradient are evaluated
//! in geopotential height H = r0 z / (r0 + z), r0 = 6,356,766 m (standard eqs. 18, 23, 33a, 33b);
//! density from the ideal gas law (eq. 42) and the speed of sound a = sqrt(gamma R* T / M0)
//! (eq. 50). Above 86 km pressure and density are interpolated log-linearly between the
//! standard's table values at 86, 90, 100, 110 and 120 km; above 120 km the density is zero.
//! The flight evaluates the air several times per missile per tick, so [`us1976`] reads the
//! density from tables of cubic pieces fitted to the closed forms (relative error under 1e-9)
//! instead of calling `pow` each time (below 86 km one per call, above two: in the browser's
//! 500-missile raid those `pow`s were 40% of the step); [`us1976_closed_form`] is the
//! reference.
//! Invariants: pure functions of geometric altitude, continuous, and every `exp`/`pow`/`ln`
//! goes through `libm`.

use crate::G0_M_S2;

/// Gas constant R* = 8.31432 J/(mol K) as used by the 1976 standard (eq. 2 footnote).
const R_STAR: f64 = 8.314_32;
/// Sea-level mean molar mass of air M0 = 0.0289644 kg/mol.
const M0: f64 = 0.028_964_4;
/// Ratio of specific heats for air.
const GAMMA: f64 = 1.4;
/// Effective Earth radius for geopotential height, r0 = 6,356,766 m.
const R0_M: f64 = 6_356_766.0;
/// Altitude above which the model is vacuum (m).
pub const TOP_OF_ATMOSPHERE_M: f64 = 120_000.0;

/// Layer bases: geopotential height (m'), base temperature (K), lapse rate (K/m'), base
/// pressure (Pa). Table 4 of the standard; base pressures computed from the hydrostatic
/// equation as tabulated.
const LAYERS: [(f64, f64, f64, f64); 7] = [
    (0.0, 288.15, -0.0065, 101_325.0),
    (11_000.0, 216.65, 0.0, 22_632.06),
    (20_000.0, 216.65, 0.001, 5_474.889),
    (32_000.0, 228.65, 0.0028, 868.018_7),
    (47_000.0, 270.65, 0.0, 110.906_3),
    (51_000.0, 270.65, -0.0028, 66.938_87),
    (71_000.0, 214.65, -0.002, 3.956_420),
];

/// Tabulated (geometric altitude m, kinetic temperature K, pressure Pa, density kg/m^3) above
/// 86 km from the standard's Table I.
const UPPER: [(f64, f64, f64, f64); 5] = [
    (86_000.0, 186.87, 0.373_38, 6.958e-6),
    (90_000.0, 186.87, 0.183_59, 3.416e-6),
    (100_000.0, 195.08, 0.032_011, 5.604e-7),
    (110_000.0, 240.0, 0.007_104_2, 9.708e-8),
    (120_000.0, 360.0, 0.002_538_2, 2.222e-8),
];

/// The state of the air at one altitude.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AirSample {
    /// Kinetic temperature (K).
    pub temperature_k: f64,
    /// Static pressure (Pa).
    pub pressure_pa: f64,
    /// Density (kg/m^3).
    pub density_kg_m3: f64,
    /// Speed of sound (m/s).
    pub speed_of_sound_m_s: f64,
}

/// Geopotential height (m') of a geometric altitude (m), standard eq. 18.
pub fn geopotential_height_m(altitude_m: f64) -> f64 {
    R0_M * altitude_m / (R0_M + altitude_m)
}

/// The US Standard Atmosphere 1976 at a geometric altitude (m). Altitudes below -5 km are
/// treated as -5 km; above [`TOP_OF_ATMOSPHERE_M`] density and pressure are zero.
///
/// Below 86 km this reads the density from a table of cubic Hermite pieces built once from
/// [`us1976_closed_form`] (the private `DensityTable`; no transcendental function per call,
/// relative error under 1e-9); the temperature is the standard's exact linear law and the pressure
/// follows from the ideal gas law (eq. 42). From 86 to 120 km it interpolates the standard's
/// table log-linearly as [`us1976_closed_form`] does, read from a second table of cubic pieces
/// (100 m of geometric altitude each) fitted to that interpolation, same error bound.
pub fn us1976(altitude_m: f64) -> AirSample {
    let z = altitude_m.max(-5_000.0);
    let table = DensityTable::get();
    if z >= UPPER[0].0 {
        if z >= TOP_OF_ATMOSPHERE_M {
            return upper(z);
        }
        let x = (z - UPPER[0].0) / UPPER_STEP_M;
        let i = (x as usize).min(table.upper.len() - 1);
        let piece = &table.upper[i];
        let s = x - i as f64;
        let cubic = |c: &[f64; 4]| c[0] + s * (c[1] + s * (c[2] + s * c[3]));
        let temperature_k = piece.t0_k + s * piece.dt_k;
        return AirSample {
            temperature_k,
            pressure_pa: cubic(&piece.pressure),
            density_kg_m3: cubic(&piece.density),
            speed_of_sound_m_s: speed_of_sound(temperature_k),
        };
    }
    let h = geopotential_height_m(z);
    let x = (h - TABLE_H0_M) / TABLE_STEP_M;
    let i = (x as usize).min(table.pieces.len() - 1);
    let piece = &table.pieces[i];
    let s = x - i as f64;
    let density_kg_m3 = piece.c[0] + s * (piece.c[1] + s * (piece.c[2] + s * piece.c[3]));
    let temperature_k = piece.t0_k + piece.lapse_k_m * (s * TABLE_STEP_M);
    AirSample {
        temperature_k,
        pressure_pa: density_kg_m3 * R_STAR * temperature_k / M0,
        density_kg_m3,
        speed_of_sound_m_s: speed_of_sound(temperature_k),
    }
}

/// The density of [`us1976`] alone (kg/m^3), bit for bit the same, without the temperature,
/// pressure and speed of sound that a drag model of known ballistic coefficient does not need
/// (the tracker's ballistic model and its predictor evaluate it several times per step).
pub fn density_kg_m3(altitude_m: f64) -> f64 {
    let z = altitude_m.max(-5_000.0);
    if z >= TOP_OF_ATMOSPHERE_M {
        return 0.0;
    }
    let table = DensityTable::get();
    if z >= UPPER[0].0 {
        let x = (z - UPPER[0].0) / UPPER_STEP_M;
        let i = (x as usize).min(table.upper.len() - 1);
        let c = &table.upper[i].density;
        let s = x - i as f64;
        return c[0] + s * (c[1] + s * (c[2] + s * c[3]));
    }
    let h = geopotential_height_m(z);
    let x = (h - TABLE_H0_M) / TABLE_STEP_M;
    let i = (x as usize).min(table.pieces.len() - 1);
    let c = &table.pieces[i].c;
    let s = x - i as f64;
    c[0] + s * (c[1] + s * (c[2] + s * c[3]))
}

/// The standard evaluated from its closed forms at every call: the layer equations below 86 km
/// (a `pow` or an `exp` per call), log-linear interpolation of the tabulated values from 86 to
/// 120 km, vacuum above. The reference that [`us1976`]'s table is built from and tested
/// against.
pub fn us1976_closed_form(altitude_m: f64) -> AirSample {
    let z = altitude_m.max(-5_000.0);
    if z >= UPPER[0].0 {
        return upper(z);
    }
    let h = geopotential_height_m(z);
    let i = LAYERS.iter().rposition(|l| l.0 <= h).unwrap_or(0);
    layer_sample(i, h)
}

/// The closed form of layer `i` at geopotential height `h` (m'): T = Tb + Lb (H - Hb); P from
/// eq. 33a (Lb != 0) or 33b (Lb = 0); rho from eq. 42.
fn layer_sample(i: usize, h: f64) -> AirSample {
    let (hb, tb, lb, pb) = LAYERS[i];
    let temperature_k = tb + lb * (h - hb);
    let pressure_pa = if lb == 0.0 {
        pb * libm::exp(-GMR * (h - hb) / tb)
    } else {
        pb * libm::pow(tb / temperature_k, GMR / lb)
    };
    AirSample {
        temperature_k,
        pressure_pa,
        density_kg_m3: pressure_pa * M0 / (R_STAR * temperature_k),
        speed_of_sound_m_s: speed_of_sound(temperature_k),
    }
}

/// Above 86 km: log-linear interpolation of the standard's Table I, vacuum from 120 km.
fn upper(z: f64) -> AirSample {
    if z >= TOP_OF_ATMOSPHERE_M {
        let t = UPPER[4].1;
        return AirSample {
            temperature_k: t,
            pressure_pa: 0.0,
            density_kg_m3: 0.0,
            speed_of_sound_m_s: speed_of_sound(t),
        };
    }
    let i = UPPER
        .iter()
        .rposition(|row| row.0 <= z)
        .unwrap_or(0)
        .min(UPPER.len() - 2);
    upper_interval(i, z)
}

/// The log-linear interpolation between rows `i` and `i + 1` of [`UPPER`] at `z` (m).
fn upper_interval(i: usize, z: f64) -> AirSample {
    let (z0, t0, p0, d0) = UPPER[i];
    let (z1, t1, p1, d1) = UPPER[i + 1];
    let w = (z - z0) / (z1 - z0);
    let temperature_k = t0 + w * (t1 - t0);
    AirSample {
        temperature_k,
        pressure_pa: p0 * libm::pow(p1 / p0, w),
        density_kg_m3: d0 * libm::pow(d1 / d0, w),
        speed_of_sound_m_s: speed_of_sound(temperature_k),
    }
}

/// g0 M0 / R* (K/m'), the hydrostatic constant of eqs. 33a and 33b.
const GMR: f64 = G0_M_S2 * M0 / R_STAR;
/// First node of the density table (geopotential m'): below the -5 km floor.
const TABLE_H0_M: f64 = -5_100.0;
/// Node spacing of the density table (m'); every layer base (0, 11, 20, 32, 47, 51, 71 km') is
/// a node, so no piece straddles a change of lapse rate.
const TABLE_STEP_M: f64 = 100.0;
/// Pieces up to 84,900 m', past the geopotential height of 86 km (84,852 m').
const TABLE_PIECES: usize = 900;

/// First altitude of the upper table (m): the standard's 86 km, where its Table I takes over.
/// Every row of [`UPPER`] is a node of its 100 m grid.
const UPPER_STEP_M: f64 = 100.0;
/// Pieces from 86 to 120 km.
const UPPER_PIECES: usize = 340;

/// One piece of the upper table: density and pressure as cubics in s in [0, 1] across the
/// piece, and the (linear) temperature.
#[derive(Debug, Clone, Copy)]
struct UpperPiece {
    density: [f64; 4],
    pressure: [f64; 4],
    t0_k: f64,
    dt_k: f64,
}

/// The cubic Hermite coefficients (in s = fraction of the piece) of a function with values
/// `v0`, `v1` and derivatives (per piece) `d0`, `d1` at the piece's ends.
fn hermite(v0: f64, v1: f64, d0: f64, d1: f64) -> [f64; 4] {
    [
        v0,
        d0,
        3.0 * (v1 - v0) - 2.0 * d0 - d1,
        2.0 * (v0 - v1) + d0 + d1,
    ]
}

/// One piece of the density table: rho(s) = c0 + c1 s + c2 s^2 + c3 s^3 for s in [0, 1] across
/// the piece, and the layer's linear temperature law from the piece's start.
#[derive(Debug, Clone, Copy)]
struct Piece {
    c: [f64; 4],
    t0_k: f64,
    lapse_k_m: f64,
}

/// The density below 86 km as cubic Hermite pieces on a 100 m' grid of geopotential height.
///
/// Each piece matches the closed form's density and its exact derivative
/// d(rho)/dH = -rho (g0 M0 / R* + Lb) / T (from eqs. 33 and 42) at both ends, within one
/// layer. The interpolation error is at most h^4/384 times the largest fourth derivative
/// (the Hermite remainder, e.g. Burden and Faires, "Numerical Analysis", thm. 3.9); with
/// h = 100 m' and a density scale height of at least 5.4 km, that is (100/5,400)^4/384 = 3e-10
/// of rho. The test `table_matches_the_closed_form` measures the worst case on a 1 m grid.
/// The table is built once (900 pieces, about 43 KB) from `libm`, so it is the same everywhere.
///
/// Above 86 km the standard's log-linear interpolation v(z) = v0 (v1/v0)^w is an exponential in
/// z within each row interval, with derivative v ln(v1/v0) / (z1 - z0): the upper pieces match
/// it and that derivative at both ends, for density and pressure, with the same h^4/384 bound
/// (the steepest interval, 100 to 110 km, has a scale height of 5.6 km: 2.6e-10 of rho).
#[derive(Debug)]
struct DensityTable {
    pieces: Vec<Piece>,
    upper: Vec<UpperPiece>,
}

impl DensityTable {
    fn get() -> &'static DensityTable {
        static TABLE: std::sync::OnceLock<DensityTable> = std::sync::OnceLock::new();
        TABLE.get_or_init(Self::build)
    }

    fn build() -> DensityTable {
        let pieces = (0..TABLE_PIECES)
            .map(|i| {
                let h0 = TABLE_H0_M + i as f64 * TABLE_STEP_M;
                let h1 = h0 + TABLE_STEP_M;
                let layer = LAYERS.iter().rposition(|l| l.0 <= h0).unwrap_or(0);
                let lapse = LAYERS[layer].2;
                let (a, b) = (layer_sample(layer, h0), layer_sample(layer, h1));
                let slope = |s: &AirSample| -s.density_kg_m3 * (GMR + lapse) / s.temperature_k;
                let (r0, r1) = (a.density_kg_m3, b.density_kg_m3);
                let (d0, d1) = (slope(&a) * TABLE_STEP_M, slope(&b) * TABLE_STEP_M);
                Piece {
                    c: hermite(r0, r1, d0, d1),
                    t0_k: a.temperature_k,
                    lapse_k_m: lapse,
                }
            })
            .collect();
        let upper = (0..UPPER_PIECES)
            .map(|i| {
                let z0 = UPPER[0].0 + i as f64 * UPPER_STEP_M;
                let z1 = z0 + UPPER_STEP_M;
                // The row interval holding the piece (rows are nodes, so it holds all of it).
                let row = UPPER
                    .iter()
                    .rposition(|r| r.0 <= z0)
                    .unwrap_or(0)
                    .min(UPPER.len() - 2);
                let (lo, hi) = (UPPER[row], UPPER[row + 1]);
                let span = hi.0 - lo.0;
                let (kp, kd) = (
                    libm::log(hi.2 / lo.2) / span * UPPER_STEP_M,
                    libm::log(hi.3 / lo.3) / span * UPPER_STEP_M,
                );
                let (a, b) = (upper(z0), upper_interval(row, z1));
                UpperPiece {
                    density: hermite(
                        a.density_kg_m3,
                        b.density_kg_m3,
                        a.density_kg_m3 * kd,
                        b.density_kg_m3 * kd,
                    ),
                    pressure: hermite(
                        a.pressure_pa,
                        b.pressure_pa,
                        a.pressure_pa * kp,
                        b.pressure_pa * kp,
                    ),
                    t0_k: a.temperature_k,
                    dt_k: b.temperature_k - a.temperature_k,
                }
            })
            .collect();
        DensityTable { pieces, upper }
    }
}

fn speed_of_sound(temperature_k: f64) -> f64 {
    crate::earth::sqrt(GAMMA * R_STAR * temperature_k / M0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn density_alone_is_us1976s_density_bit_for_bit() {
        let mut z = -6_000.0;
        while z < 125_000.0 {
            assert_eq!(
                density_kg_m3(z).to_bits(),
                us1976(z).density_kg_m3.to_bits(),
                "at {z} m"
            );
            z += 37.3;
        }
    }

    use super::*;

    #[test]
    fn table_matches_the_closed_form() {
        // Every metre from -5 km to 86 km, which includes every layer base.
        let mut worst: f64 = 0.0;
        let mut z = -5_000.0;
        while z <= 86_000.0 {
            let (t, c) = (us1976(z), us1976_closed_form(z));
            let rel = ((t.density_kg_m3 - c.density_kg_m3) / c.density_kg_m3).abs();
            worst = worst.max(rel);
            assert!(
                rel < 1e-9,
                "rho at {z}: {} vs {}",
                t.density_kg_m3,
                c.density_kg_m3
            );
            assert!((t.temperature_k - c.temperature_k).abs() < 1e-9, "T at {z}");
            let p_rel = ((t.pressure_pa - c.pressure_pa) / c.pressure_pa).abs();
            assert!(p_rel < 1e-9, "P at {z}");
            z += 1.0;
        }
        eprintln!("density table vs closed form: worst relative error {worst:e}");
        // The upper table, every metre from 86 to 120 km (every row is a node).
        let mut worst: f64 = 0.0;
        let mut z = 86_000.0;
        while z < 120_000.0 {
            let (t, c) = (us1976(z), us1976_closed_form(z));
            let rel = |a: f64, b: f64| ((a - b) / b).abs();
            let (rho, p) = (
                rel(t.density_kg_m3, c.density_kg_m3),
                rel(t.pressure_pa, c.pressure_pa),
            );
            worst = worst.max(rho).max(p);
            assert!(rho < 1e-9 && p < 1e-9, "rho {rho:e} P {p:e} at {z}");
            assert!((t.temperature_k - c.temperature_k).abs() < 1e-9, "T at {z}");
            z += 1.0;
        }
        eprintln!("upper table vs closed form: worst relative error {worst:e}");
        for z in [120_000.0, 1e6] {
            assert_eq!(us1976(z), us1976_closed_form(z));
        }
        assert_eq!(us1976(-10_000.0), us1976(-5_000.0));
    }

    /// Table I of the 1976 standard (geometric altitude): z (m), T (K), P (Pa), rho (kg/m^3).
    const TABLE: [(f64, f64, f64, f64); 15] = [
        (0.0, 288.150, 101_325.0, 1.2250),
        (1_000.0, 281.651, 89_876.0, 1.1117),
        (5_000.0, 255.676, 54_048.0, 0.736_43),
        (10_000.0, 223.252, 26_500.0, 0.413_51),
        (11_000.0, 216.774, 22_700.0, 0.364_80),
        (15_000.0, 216.650, 12_111.0, 0.194_76),
        (20_000.0, 216.650, 5_529.3, 0.088_910),
        (25_000.0, 221.552, 2_549.2, 0.040_084),
        (30_000.0, 226.509, 1_197.0, 0.018_410),
        (40_000.0, 250.350, 287.14, 0.003_995_7),
        (50_000.0, 270.650, 79.779, 0.001_026_9),
        (60_000.0, 247.021, 21.958, 3.096_8e-4),
        (70_000.0, 219.585, 5.220_9, 8.282_9e-5),
        (80_000.0, 198.639, 1.052_4, 1.845_8e-5),
        (86_000.0, 186.870, 0.373_38, 6.958e-6),
    ];

    #[test]
    fn matches_the_1976_standard_table() {
        for (z, t, p, rho) in TABLE {
            let s = us1976(z);
            let rel = |a: f64, b: f64| ((a - b) / b).abs();
            // Above 80 km the standard's molecular weight starts to fall; allow 0.1% there.
            let tol = if z > 80_000.0 { 1e-3 } else { 2e-4 };
            assert!(
                rel(s.temperature_k, t) < tol,
                "T at {z}: {} vs {t}",
                s.temperature_k
            );
            assert!(
                rel(s.pressure_pa, p) < tol,
                "P at {z}: {} vs {p}",
                s.pressure_pa
            );
            assert!(
                rel(s.density_kg_m3, rho) < tol.max(3e-4),
                "rho at {z}: {} vs {rho}",
                s.density_kg_m3
            );
        }
        assert!((us1976(0.0).speed_of_sound_m_s - 340.294).abs() < 0.01);
        assert!((us1976(20_000.0).speed_of_sound_m_s - 295.070).abs() < 0.01);
    }

    #[test]
    fn continuous_and_monotone_density_then_vacuum() {
        let mut last = f64::INFINITY;
        let mut z = -1000.0;
        while z < 130_000.0 {
            let d = us1976(z).density_kg_m3;
            assert!(d <= last, "density rises at {z}");
            if z > 0.0 && d > 0.0 {
                assert!(d / last > 0.95, "density jumps at {z}");
            }
            last = d;
            z += 250.0;
        }
        assert_eq!(us1976(120_001.0).density_kg_m3, 0.0);
        assert!((us1976(100_000.0).density_kg_m3 - 5.604e-7).abs() < 1e-10);
    }
}
