//! Radars inside the engine: placement, the scan schedule and one scan's looks.
//!
//! Schedule: a radar scans every `revisit_s` seconds of simulation time, starting at the end of
//! the tick in which it was placed. Scans are quantised to tick ends: the scan due at time `t`
//! happens at the end of the tick that contains `t`, on the positions the missiles have then,
//! and is stamped with that tick-end time. A revisit shorter than a tick scans once per tick.
//!
//! One scan, in a fixed order so that a seed always gives the same draws: every airborne missile
//! in id order is looked at once ([`crate::radar::observe`], with the RCS of what the radar sees
//! at that moment: body with RV or RV alone), then the radar's false alarms over the revisit
//! interval ([`crate::radar::false_alarms`]). The resulting plots form the scan handed to the
//! tracker. The truth id of a plot is kept beside it ([`ScanPlot::truth`]) for scoring and
//! display only; the tracker receives the bare [`Detection`]s.

use serde::{Deserialize, Serialize};

use crate::earth::GeoPoint;
use crate::engine::{MissileId, TICK_S};
use crate::flight::{Phase, PhysicsParams};
use crate::radar::{
    self, Detection, Observation, RadarId, RadarKind, RadarSite, SiteView, Swerling, TargetView,
};

/// Most radars in one simulation: [`crate::limits::RADARS`].
pub const MAX_RADARS: usize = crate::limits::RADARS.max as usize;

/// A radar in a simulation: where it is, and when it next scans.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Radar {
    /// The site (its `id` is the radar's id).
    pub site: RadarSite,
    /// Simulation time of the next scan (s).
    pub next_scan_s: f64,
    /// Scans made so far.
    pub scans: u64,
}

/// Where to put a radar: the fields of a [`RadarSite`] without its id (the engine allocates
/// it), with the class's typical coverage ([`RadarKind::coverage`]) for any field left out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RadarPlacement {
    /// Call sign (e.g. `"RAD_VBG"`), at most [`crate::limits::CALL_SIGN`] characters.
    pub call_sign: String,
    /// Radar class, by public name (e.g. `"AN/TPY-2"`).
    pub kind: RadarKind,
    /// Antenna position.
    pub position: GeoPoint,
    /// Antenna height above the ellipsoid (m); 10 when absent.
    #[serde(default = "default_height_m")]
    pub height_m: f64,
    /// Centre of the azimuth sector (deg clockwise from north).
    #[serde(default)]
    pub boresight_az_deg: f64,
    /// Half-width of the azimuth sector (deg); the class's typical value when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sector_half_width_deg: Option<f64>,
    /// Lowest elevation searched (deg); the class's typical value when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_el_deg: Option<f64>,
    /// Highest elevation searched (deg); the class's typical value when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_el_deg: Option<f64>,
    /// Revisit period (s); the class's typical value when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revisit_s: Option<f64>,
}

fn default_height_m() -> f64 {
    10.0
}

impl RadarPlacement {
    /// The site this placement describes, with id `id`, validated; the error is one sentence.
    pub fn to_site(&self, id: RadarId) -> Result<RadarSite, String> {
        let c = self.kind.coverage();
        let site = RadarSite {
            id,
            call_sign: self.call_sign.clone(),
            kind: self.kind,
            position: self.position,
            height_m: self.height_m,
            boresight_az_deg: self.boresight_az_deg,
            sector_half_width_deg: self
                .sector_half_width_deg
                .unwrap_or(c.sector_half_width_deg),
            min_el_deg: self.min_el_deg.unwrap_or(c.min_el_deg),
            max_el_deg: self.max_el_deg.unwrap_or(c.max_el_deg),
            revisit_s: self.revisit_s.unwrap_or(c.revisit_s),
        };
        site.validate()?;
        Ok(site)
    }
}

/// One plot of a scan, with the truth kept beside it for scoring (never for tracking).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScanPlot {
    /// The measured plot.
    pub detection: Detection,
    /// The missile that caused it; `None` for a false alarm.
    pub truth: Option<MissileId>,
}

/// What one missile looks like to the radars right now: where it is and its mean RCS.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RadarTarget {
    /// Its id.
    pub id: MissileId,
    /// Position (ECEF, m), with what every radar's geometry needs of it taken once.
    pub view: TargetView,
    /// Mean RCS of what is seen (m^2).
    pub rcs_m2: f64,
}

/// The radar targets of a set of missiles (airborne only, in id order).
pub fn radar_targets<'a>(
    missiles: impl Iterator<Item = &'a crate::engine::Missile>,
    physics: &PhysicsParams,
) -> Vec<RadarTarget> {
    missiles
        .filter(|m| m.flight.phase != Phase::Impacted && m.killed_at.is_none())
        .map(|m| RadarTarget {
            id: m.id,
            view: TargetView::new(&physics.earth, &m.flight.position_ecef(physics)),
            rcs_m2: m.flight.kind.params().radar_rcs_m2(m.flight.separated),
        })
        .collect()
}

/// Most additions of the revisit period in one catch-up of [`scan_due`]: a tick over the
/// shortest revisit accepted ([`crate::radar::site::MIN_REVISIT_S`]), and a margin.
const MAX_CATCH_UP_STEPS: usize = 16;

/// Whether `radar` scans at the end of the tick ending at `t1_s`; if so, moves its schedule on.
pub fn scan_due(radar: &mut Radar, t1_s: f64) -> bool {
    // A nanosecond of slack absorbs the rounding of tick times (k * 0.1 is not exact).
    if radar.next_scan_s > t1_s + 1e-9 {
        return false;
    }
    // Bounded by construction: a validated revisit (at least `MIN_REVISIT_S`) catches up a
    // tick in at most ten additions; past that (a site built by hand with a tinier, zero or
    // non-finite period) the next scan is a revisit, and at least a tick, after this one.
    for _ in 0..MAX_CATCH_UP_STEPS {
        if radar.next_scan_s > t1_s + 1e-9 {
            break;
        }
        radar.next_scan_s += radar.site.revisit_s;
    }
    if radar.next_scan_s.is_nan() || radar.next_scan_s <= t1_s + 1e-9 {
        let period = if radar.site.revisit_s.is_finite() {
            radar.site.revisit_s.max(TICK_S)
        } else {
            TICK_S
        };
        radar.next_scan_s = t1_s + period;
    }
    radar.scans += 1;
    true
}

/// One scan of `site`: every target in order, then the false alarms over the revisit interval
/// (or one tick, if the revisit is shorter), when `false_alarms` is on.
pub fn scan(
    site: &RadarSite,
    physics: &PhysicsParams,
    targets: &[RadarTarget],
    false_alarms: bool,
    rng: &mut impl rand_core::RngCore,
) -> Vec<ScanPlot> {
    let params = site.params();
    let mut plots = Vec::new();
    // Targets certainly out of coverage are skipped: `observe` would draw nothing for them.
    let cull = radar::CoverageCull::new(site, params, &physics.earth);
    let view = SiteView::new(site, &physics.earth);
    let equation = radar::equation::RangeEquation::new(params);
    for t in targets {
        if cull.certainly_outside(&t.view.ecef) {
            continue;
        }
        if let Observation::Detected(detection) = radar::observe_with(
            site,
            &view,
            &equation,
            &t.view,
            t.rcs_m2,
            Swerling::Swerling1,
            rng,
        ) {
            plots.push(ScanPlot {
                detection,
                truth: Some(t.id),
            });
        }
    }
    if false_alarms {
        let dt_s = site.revisit_s.max(TICK_S);
        plots.extend(
            radar::false_alarms(site, params, &physics.earth, dt_s, rng)
                .into_iter()
                .map(|detection| ScanPlot {
                    detection,
                    truth: None,
                }),
        );
    }
    plots
}
