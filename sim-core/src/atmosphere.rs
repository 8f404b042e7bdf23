//! US Standard Atmosphere 1976 (NOAA/NASA/USAF, NOAA-S/T 76-1562), with a log-linear extension
//! through the standard's tabulated values from 86 to 120 km and vacuum above.
//!
//! Below 86 km the seven layers of constant molecular-scale temperature gradient are evaluated
//! in geopotential height H = r0 z / (r0 + z), r0 = 6,356,766 m (standard eqs. 18, 23, 33a, 33b);
//! density from the ideal gas law (eq. 42) and the speed of sound a = sqrt(gamma R* T / M0)
//! (eq. 50). Above 86 km pressure and density are interpolated log-linearly between the
//! standard's table values at 86, 90, 100, 110 and 120 km; above 120 km the density is zero.
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
pub fn us1976(altitude_m: f64) -> AirSample {
    let z = altitude_m.max(-5_000.0);
    if z >= TOP_OF_ATMOSPHERE_M {
        let t = UPPER[4].1;
        return AirSample {
            temperature_k: t,
            pressure_pa: 0.0,
            density_kg_m3: 0.0,
            speed_of_sound_m_s: speed_of_sound(t),
        };
    }
    if z >= UPPER[0].0 {
        let i = UPPER
            .iter()
            .rposition(|row| row.0 <= z)
            .unwrap_or(0)
            .min(UPPER.len() - 2);
        let (z0, t0, p0, d0) = UPPER[i];
        let (z1, t1, p1, d1) = UPPER[i + 1];
        let w = (z - z0) / (z1 - z0);
        let temperature_k = t0 + w * (t1 - t0);
        return AirSample {
            temperature_k,
            pressure_pa: p0 * libm::pow(p1 / p0, w),
            density_kg_m3: d0 * libm::pow(d1 / d0, w),
            speed_of_sound_m_s: speed_of_sound(temperature_k),
        };
    }
    let h = geopotential_height_m(z);
    let i = LAYERS.iter().rposition(|l| l.0 <= h).unwrap_or(0);
    let (hb, tb, lb, pb) = LAYERS[i];
    let temperature_k = tb + lb * (h - hb);
    let gmr = G0_M_S2 * M0 / R_STAR;
    let pressure_pa = if lb == 0.0 {
        pb * libm::exp(-gmr * (h - hb) / tb)
    } else {
        pb * libm::pow(tb / temperature_k, gmr / lb)
    };
    AirSample {
        temperature_k,
        pressure_pa,
        density_kg_m3: pressure_pa * M0 / (R_STAR * temperature_k),
        speed_of_sound_m_s: speed_of_sound(temperature_k),
    }
}

fn speed_of_sound(temperature_k: f64) -> f64 {
    libm::sqrt(GAMMA * R_STAR * temperature_k / M0)
}

#[cfg(test)]
mod tests {
    use super::*;

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
