//! A synthetic many-object scene for the tracker benchmark (native and wasm alike).
//!
//! `n` objects coast on ballistic arcs (the tracker's own vacuum model) over a 10 x 10 degree
//! box, 20 km or more apart, 200-400 km up, at 2-4 km/s; ten radar sites ring the box and see
//! every object (no coverage or detection draw: the benchmark measures the tracker, not the
//! radar). Each radar scans once a second, the ten staggered by 0.1 s. Plots carry Gaussian
//! noise of 20 m in range and 0.2 mrad in angle from a seeded ChaCha8 generator.

use nalgebra::Vector3;
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;

use super::measurement::SiteFrame;
use super::motion::{BallisticModel, State, position};
use crate::earth::{EarthParams, EarthShape, GeoPoint};
use crate::flight::PhysicsParams;
use crate::radar::random::{standard_normal, uniform};
use crate::radar::{Detection, MeasurementSigmas, RadarId, RadarKind, RadarSite};

/// One radar scan of the scene.
#[derive(Debug, Clone, PartialEq)]
pub struct Scan {
    /// Index of the site in [`Scene::sites`].
    pub site: usize,
    /// Simulation time (s).
    pub time_s: f64,
    /// Its plots, one per object, in object order.
    pub detections: Vec<Detection>,
}

/// The scene: physics, sites and the objects' states.
#[derive(Debug, Clone)]
pub struct Scene {
    /// Vacuum, rotating WGS84 Earth.
    pub physics: PhysicsParams,
    /// Ten all-round sites.
    pub sites: Vec<RadarSite>,
    objects: Vec<State>,
    time_s: f64,
    rng: ChaCha8Rng,
}

impl Scene {
    /// `n` objects and ten radars, from a seed.
    pub fn new(n: usize, seed: u64) -> Self {
        let physics = PhysicsParams {
            earth: EarthParams {
                shape: EarthShape::Wgs84,
                rotation: true,
            },
            atmosphere: false,
        };
        let ell = physics.earth.ellipsoid();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let side = libm::ceil(crate::earth::sqrt(n as f64)).max(1.0) as usize;
        let objects = (0..n)
            .map(|i| {
                let (row, col) = ((i / side) as f64, (i % side) as f64);
                let lat = 30.0 + 10.0 * row / side as f64;
                let lon = 130.0 + 10.0 * col / side as f64;
                let alt = 200_000.0 + 200_000.0 * uniform(&mut rng);
                let g = GeoPoint::new(lat, lon).to_geodetic(alt);
                let r = ell.geodetic_to_ecef(&g);
                let [e, nn, u] = crate::earth::Ellipsoid::enu_basis(g.lat_rad, g.lon_rad);
                let speed = 2_000.0 + 2_000.0 * uniform(&mut rng);
                let az = 2.0 * core::f64::consts::PI * uniform(&mut rng);
                let (s, c) = libm::sincos(az);
                let v: Vector3<f64> = (e * s + nn * c) * speed + u * (500.0 * uniform(&mut rng));
                State::from_column_slice(&[r.x, r.y, r.z, v.x, v.y, v.z, 0.0])
            })
            .collect();
        let sites = (0..10u32)
            .map(|k| {
                let a = f64::from(k) * 36.0f64.to_radians();
                let (s, c) = libm::sincos(a);
                RadarSite {
                    sector_half_width_deg: 180.0,
                    min_el_deg: -5.0,
                    ..RadarKind::AnTpy2.site(
                        RadarId(k + 1),
                        "bench",
                        GeoPoint::new(35.0 + 9.0 * s, 135.0 + 11.0 * c),
                        10.0,
                        0.0,
                    )
                }
            })
            .collect();
        Self {
            physics,
            sites,
            objects,
            time_s: 0.0,
            rng,
        }
    }

    /// The next second: ten scans, one per radar, 0.1 s apart; objects move between them.
    pub fn next_round(&mut self) -> Vec<Scan> {
        let model = BallisticModel::new(&self.physics);
        let ell = self.physics.earth.ellipsoid();
        let sigmas = MeasurementSigmas {
            range_m: 20.0,
            azimuth_rad: 2e-4,
            elevation_rad: 2e-4,
        };
        let mut scans = Vec::with_capacity(self.sites.len());
        for k in 0..self.sites.len() {
            for o in &mut self.objects {
                *o = model.rk4(o, 0.1);
            }
            self.time_s += 0.1;
            let frame = SiteFrame::new(&self.sites[k], &ell);
            let detections = self
                .objects
                .iter()
                .map(|o| {
                    let (z, _) = frame.measure(&position(o));
                    let range_m = z.x + sigmas.range_m * standard_normal(&mut self.rng);
                    let azimuth_rad = z.y + sigmas.azimuth_rad * standard_normal(&mut self.rng);
                    let elevation_rad = z.z + sigmas.elevation_rad * standard_normal(&mut self.rng);
                    Detection {
                        range_m,
                        azimuth_rad,
                        elevation_rad,
                        snr_db: 20.0,
                        lat_deg: 0.0,
                        lon_deg: 0.0,
                        alt_m: 0.0,
                        sigmas,
                    }
                })
                .collect();
            scans.push(Scan {
                site: k,
                time_s: self.time_s,
                detections,
            });
        }
        scans
    }
}

/// A warmed-up tracker on a [`Scene`], for timing one second of scans at a time (the
/// criterion benchmark natively; a `wasm-bindgen` export can drive the same in wasm).
#[derive(Debug, Clone)]
pub struct TrackerBench {
    /// The scene.
    pub scene: Scene,
    /// The tracker, after the warm-up.
    pub tracker: super::Tracker,
    /// Scans generated by [`TrackerBench::prepare`], not yet processed.
    pub prepared: Vec<Scan>,
}

impl TrackerBench {
    /// `n` objects, ten radars, default tracker parameters (with `impact_refresh_s` replaced
    /// when given), warmed up for `warm_rounds` seconds of scans.
    pub fn new(n: usize, impact_refresh_s: Option<f64>, warm_rounds: u32) -> Self {
        let params = super::TrackerParams {
            impact_refresh_s: impact_refresh_s
                .unwrap_or(super::TrackerParams::default().impact_refresh_s),
            ..super::TrackerParams::default()
        };
        let mut b = Self {
            scene: Scene::new(n, 1),
            tracker: super::Tracker::new(params),
            prepared: Vec::new(),
        };
        for _ in 0..warm_rounds {
            let round = b.scene.next_round();
            Self::process(&mut b.tracker, &b.scene, &round);
        }
        b
    }

    /// Feeds one round of scans to a tracker; returns the number of plots processed.
    pub fn process(tracker: &mut super::Tracker, scene: &Scene, round: &[Scan]) -> u64 {
        let mut events = Vec::new();
        let mut plots = 0u64;
        for scan in round {
            tracker.process_scan(
                &scene.physics,
                &scene.sites[scan.site],
                scan.time_s,
                &scan.detections,
                &mut events,
            );
            plots += scan.detections.len() as u64;
        }
        plots
    }

    /// The next second of scans, processed; returns the number of plots.
    pub fn round(&mut self) -> u64 {
        let round = self.scene.next_round();
        Self::process(&mut self.tracker, &self.scene, &round)
    }

    /// Generates the next second of scans without processing them (so a caller can time
    /// [`TrackerBench::process_prepared`] alone).
    pub fn prepare(&mut self) {
        self.prepared = self.scene.next_round();
    }

    /// Processes the scans of the last [`TrackerBench::prepare`]; returns the plots processed.
    pub fn process_prepared(&mut self) -> u64 {
        let round = core::mem::take(&mut self.prepared);
        Self::process(&mut self.tracker, &self.scene, &round)
    }
}
