//! The Earth: its shape, its gravity and its rotation, bundled in [`EarthParams`].
//!
//! Invariant: the simulation integrates in an inertial frame that coincides with ECEF at a
//! missile's launch instant (see [`crate::flight`]); the rotation angle of ECEF relative to that
//! frame is `omega_rad_s * t`. Turning rotation off sets `omega_rad_s` to zero and nothing else.

pub mod frames;
pub mod gravity;

use nalgebra::Vector3;
use serde::{Deserialize, Serialize};

pub use frames::{Aer, Ellipsoid, GeoPoint, Geodetic};
pub use gravity::Gravity;

/// WGS84 Earth rotation rate, 7.292115e-5 rad/s (NIMA TR8350.2, table 3.1).
pub const WGS84_OMEGA_RAD_S: f64 = 7.292_115e-5;
/// Earth gravitational parameter GM including the atmosphere, 3.986004418e14 m^3/s^2
/// (NIMA TR8350.2, table 3.1).
pub const WGS84_MU_M3_S2: f64 = 3.986_004_418e14;
/// Second zonal harmonic J2 of the WGS84 gravity model, 1.082629821e-3
/// (NIMA TR8350.2: C20 = -4.84166774985e-4 normalised, J2 = -sqrt(5) C20).
pub const WGS84_J2: f64 = 1.082_629_821_3e-3;
/// Radius of the textbook spherical Earth, 6,371.0 km (the IUGG mean radius, rounded).
pub const SPHERE_RADIUS_M: f64 = 6_371_000.0;
/// Mean Earth radius used for great-circle display distances, 6,371,008.8 m (IUGG R1).
pub const MEAN_RADIUS_M: f64 = 6_371_008.8;

/// Which figure of the Earth the simulation uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum EarthShape {
    /// The WGS84 ellipsoid with point-mass plus J2 gravity (the default).
    #[default]
    Wgs84,
    /// A sphere of radius [`SPHERE_RADIUS_M`] with point-mass gravity [`WGS84_MU_M3_S2`], for
    /// comparisons with the closed-form Kepler solution.
    Sphere,
}

/// The Earth model: figure, gravity and rotation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EarthParams {
    /// Figure of the Earth (and with it the gravity model).
    #[serde(default)]
    pub shape: EarthShape,
    /// Whether the Earth rotates at [`WGS84_OMEGA_RAD_S`]; `false` for textbook comparisons.
    #[serde(default = "default_true")]
    pub rotation: bool,
}

fn default_true() -> bool {
    true
}

impl Default for EarthParams {
    fn default() -> Self {
        Self {
            shape: EarthShape::Wgs84,
            rotation: true,
        }
    }
}

impl EarthParams {
    /// The reference surface for this shape.
    pub fn ellipsoid(&self) -> Ellipsoid {
        match self.shape {
            EarthShape::Wgs84 => Ellipsoid::WGS84,
            EarthShape::Sphere => Ellipsoid::sphere(SPHERE_RADIUS_M),
        }
    }

    /// The gravity model for this shape: J2 on WGS84, point mass on the sphere.
    pub fn gravity(&self) -> Gravity {
        match self.shape {
            EarthShape::Wgs84 => Gravity::J2 {
                mu_m3_s2: WGS84_MU_M3_S2,
                j2: WGS84_J2,
                radius_m: Ellipsoid::WGS84.a_m,
            },
            EarthShape::Sphere => Gravity::PointMass {
                mu_m3_s2: WGS84_MU_M3_S2,
            },
        }
    }

    /// Rotation rate about +Z (rad/s), zero when rotation is switched off.
    pub fn omega_rad_s(&self) -> f64 {
        if self.rotation {
            WGS84_OMEGA_RAD_S
        } else {
            0.0
        }
    }

    /// Radius used for ground ranges: the sphere's radius, or the mean radius on WGS84.
    pub fn range_radius_m(&self) -> f64 {
        match self.shape {
            EarthShape::Wgs84 => MEAN_RADIUS_M,
            EarthShape::Sphere => SPHERE_RADIUS_M,
        }
    }
}

/// The square root, correctly rounded: the same bits as `libm::sqrt` on every platform, at the
/// cost of one machine instruction everywhere.
///
/// IEEE 754 (sec. 5.4.1) requires `squareRoot` to be correctly rounded, and both the x86-64
/// `sqrtsd` instruction and WebAssembly's `f64.sqrt` (core specification, sec. 4.3.3, "fsqrt":
/// IEEE 754 rounding) are; so is `libm::sqrt`. But on stable Rust `libm` computes it in
/// software on wasm32 (its wasm intrinsic needs the nightly `unstable-intrinsics` feature),
/// several times slower; `f64::sqrt` compiles to the instruction (nalgebra's `norm` already
/// does). Every root in sim-core is taken here (the profile of the wasm kill chain had a
/// third of its time in the software root); the golden tests compare the bits
/// natively and in wasm.
#[inline]
pub fn sqrt(x: f64) -> f64 {
    x.sqrt()
}

/// The Euclidean length of a vector, with the root of [`sqrt`]: bit for bit nalgebra's
/// `norm()`, which is `norm_squared()` then a root, but a root that the workspace's
/// `libm-force` feature (set so that nalgebra's maths is the same everywhere) sends to
/// `libm`'s software square root on wasm32.
pub trait Length {
    /// `sqrt(norm_squared())`.
    fn length(&self) -> f64;
}

impl<const D: usize> Length for nalgebra::SVector<f64, D> {
    #[inline]
    fn length(&self) -> f64 {
        sqrt(self.norm_squared())
    }
}

/// Rotates a vector about +Z by `angle_rad` (right-handed): `Rz(angle) * v`.
///
/// Inertial -> ECEF after time t is `rotate_z(v, -omega * t)`.
pub fn rotate_z(v: &Vector3<f64>, angle_rad: f64) -> Vector3<f64> {
    let (s, c) = libm::sincos(angle_rad);
    Vector3::new(c * v.x - s * v.y, s * v.x + c * v.y, v.z)
}
