//! Plots of the selected object ([`Selected`]: a missile or an interceptor): altitude and speed
//! against time, and for a missile the signal-to-noise ratio of each radar's looks at it
//! (radars detect and track missiles, not the defence's own interceptors, so an interceptor
//! has no SNR). The maths that turns samples into a
//! small SVG chart (nice axis ticks, linear scales, min/max decimation to the pixel columns,
//! path strings) and the bounded SNR history the [`crate::playback::Player`] records are here,
//! plain Rust tested natively; `plot_panel` only renders the [`Chart`] this module builds.
//!
//! Invariants: every buffer is bounded. The SNR history holds at most [`MAX_SNR_PER_PAIR`]
//! samples per (missile, radar) pair and [`MAX_SNR_SAMPLES`] in all: past either, samples are
//! thinned to every other one (so a pair still covers its whole time, at half the
//! resolution). A chart draws at most two points per pixel column whatever the sample count.
//! Like the event log, the history is recorded once per timeline (the first time a tick is
//! simulated) and truncated where a new command forks it, so what a chart shows is a function
//! of the current tick alone: scrubbing back and forth shows the same curves.

use std::collections::BTreeMap;

use sim_core::MissileId;
use sim_core::engine::defense::InterceptorId;
use sim_core::engine::{Event, EventKind};
use sim_core::flight::Phase;
use sim_core::radar::RadarId;

use crate::defense_view::{FlyPoint, interceptor_views};
use crate::playback::{Player, TICK_S, TrailPoint};

/// What the selection (click) or the hover (pointer) designates: one object with a flight to
/// plot. One value for both kinds, so that a single signal holds the selection and selecting
/// one kind drops the other.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Selected {
    /// A missile.
    Missile(MissileId),
    /// An interceptor (in flight, or recorded in the [`crate::defense_view::DefenseRecord`]).
    Interceptor(InterceptorId),
}

impl Selected {
    /// The missile, if it is one.
    pub fn missile(self) -> Option<MissileId> {
        match self {
            Selected::Missile(id) => Some(id),
            Selected::Interceptor(_) => None,
        }
    }

    /// The interceptor, if it is one.
    pub fn interceptor(self) -> Option<InterceptorId> {
        match self {
            Selected::Interceptor(id) => Some(id),
            Selected::Missile(_) => None,
        }
    }
}

/// Most SNR samples kept per (missile, radar) pair before thinning.
pub const MAX_SNR_PER_PAIR: usize = 512;
/// Most SNR samples kept over all pairs before thinning (16 bytes each: 3.2 MB).
pub const MAX_SNR_SAMPLES: usize = 200_000;

/// One radar look at a missile.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SnrSample {
    /// Tick of the scan.
    pub tick: u64,
    /// Signal-to-noise ratio (dB).
    pub snr_db: f64,
}

/// The SNR of every radar's detections of every missile, by (missile, radar).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SnrHistory {
    pairs: BTreeMap<(MissileId, RadarId), Vec<SnrSample>>,
    total: usize,
}

impl SnrHistory {
    /// Records the detections among `events` (false alarms have no missile and are skipped).
    pub fn record(&mut self, events: &[Event]) {
        for e in events {
            let EventKind::Detection {
                radar,
                truth: Some(m),
                snr,
                ..
            } = &e.kind
            else {
                continue;
            };
            if !snr.is_finite() {
                continue;
            }
            let samples = self.pairs.entry((*m, *radar)).or_default();
            samples.push(SnrSample {
                tick: e.tick,
                snr_db: *snr,
            });
            self.total += 1;
            if samples.len() > MAX_SNR_PER_PAIR {
                self.total -= thin(samples);
            }
        }
        if self.total > MAX_SNR_SAMPLES {
            self.total = 0;
            for samples in self.pairs.values_mut() {
                thin(samples);
                self.total += samples.len();
            }
        }
    }

    /// Forgets the samples at or after `tick` (where a new command forks the timeline).
    pub fn truncate_from(&mut self, tick: u64) {
        self.total = 0;
        self.pairs.retain(|_, s| {
            s.truncate(s.partition_point(|x| x.tick < tick));
            !s.is_empty()
        });
        self.total = self.pairs.values().map(Vec::len).sum();
    }

    /// The radars that saw `missile`, each with its samples before `tick`, by radar id.
    pub fn of_missile(
        &self,
        missile: MissileId,
        tick: u64,
    ) -> impl Iterator<Item = (RadarId, &[SnrSample])> {
        self.pairs
            .range((missile, RadarId(0))..=(missile, RadarId(u32::MAX)))
            .map(move |(&(_, r), s)| (r, &s[..s.partition_point(|x| x.tick < tick)]))
            .filter(|(_, s)| !s.is_empty())
    }

    /// Samples held.
    pub fn len(&self) -> usize {
        self.total
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }
}

/// Keeps every other sample (the first, third, ...); returns how many were dropped.
fn thin(samples: &mut Vec<SnrSample>) -> usize {
    let before = samples.len();
    let mut i = 0;
    samples.retain(|_| {
        i += 1;
        i % 2 == 1
    });
    before - samples.len()
}

/// A point of a series: (time s, value).
pub type Point = (f64, f64);

/// Altitude (km) and speed (m/s) against simulation time (s) from a missile's recorded track
/// (see [`crate::playback::Trail::upto`]), plus its current state when it is still flying.
pub fn flight_series(
    points: &[TrailPoint],
    now: Option<(u64, f64, f64)>,
) -> (Vec<Point>, Vec<Point>) {
    let mut alt = Vec::with_capacity(points.len() + 1);
    let mut speed = Vec::with_capacity(points.len() + 1);
    for p in points {
        alt.push((p.tick as f64 * TICK_S, p.alt_m / 1000.0));
        speed.push((p.tick as f64 * TICK_S, p.speed_m_s));
    }
    if let Some((tick, alt_m, speed_m_s)) = now
        && points.last().is_none_or(|p| p.tick < tick)
    {
        alt.push((tick as f64 * TICK_S, alt_m / 1000.0));
        speed.push((tick as f64 * TICK_S, speed_m_s));
    }
    (alt, speed)
}

/// Altitude (km) and speed (m/s) against simulation time (s) from an interceptor's recorded
/// fly-out (see [`crate::defense_view::FlyOut::upto`]), plus its current state while it flies.
/// Points whose speed was not recorded (the end) are left out of the speed series only.
pub fn fly_out_series(
    points: &[FlyPoint],
    now: Option<(u64, f64, f64)>,
) -> (Vec<Point>, Vec<Point>) {
    let mut alt = Vec::with_capacity(points.len() + 1);
    let mut speed = Vec::with_capacity(points.len() + 1);
    for p in points {
        let t = p.tick as f64 * TICK_S;
        alt.push((t, p.alt_m / 1000.0));
        if let Some(v) = p.speed_m_s {
            speed.push((t, v));
        }
    }
    if let Some((tick, alt_m, speed_m_s)) = now
        && points.last().is_none_or(|p| p.tick < tick)
    {
        alt.push((tick as f64 * TICK_S, alt_m / 1000.0));
        speed.push((tick as f64 * TICK_S, speed_m_s));
    }
    (alt, speed)
}

/// The series of a selection at the player's current tick: what the plot panel draws.
#[derive(Clone, Debug, PartialEq)]
pub struct SelectionSeries {
    /// Altitude (km) against time (s).
    pub altitude: Vec<Point>,
    /// Speed (m/s) against time (s).
    pub speed: Vec<Point>,
    /// SNR (dB) against time (s) per radar (call sign) for a missile; `None` for an
    /// interceptor, which radars do not track.
    pub snr: Option<Vec<(String, Vec<Point>)>>,
}

/// The series of `sel` from what `p` recorded before its current tick (so scrubbing shows the
/// same curves every time), plus the object's state now while it flies.
pub fn selection_series(p: &Player, sel: Selected) -> SelectionSeries {
    let tick = p.tick();
    match sel {
        Selected::Missile(id) => {
            let trail = p
                .trails()
                .binary_search_by_key(&id, |t| t.missile)
                .map(|i| p.trails()[i].upto(tick))
                .unwrap_or(&[]);
            let live = p
                .sim()
                .missile_view(id)
                .filter(|v| v.phase != Phase::Impacted && !v.killed)
                .map(|v| (tick, v.alt_m, v.speed_m_s));
            let (altitude, speed) = flight_series(trail, live);
            let snr = p
                .snr()
                .of_missile(id, tick)
                .map(|(r, s)| {
                    let name = p
                        .sim()
                        .radars()
                        .iter()
                        .find(|x| x.site.id == r)
                        .map_or_else(|| format!("radar {}", r.0), |x| x.site.call_sign.clone());
                    (name, snr_series(s))
                })
                .collect();
            SelectionSeries {
                altitude,
                speed,
                snr: Some(snr),
            }
        }
        Selected::Interceptor(id) => {
            let points = p
                .defense()
                .fly_out(id)
                .filter(|f| f.launch_tick < tick)
                .map_or(&[][..], |f| f.upto(tick));
            let live = interceptor_views(p.sim())
                .into_iter()
                .find(|v| v.id == id)
                .map(|v| (tick, v.alt_m, v.speed_m_s));
            let (altitude, speed) = fly_out_series(points, live);
            SelectionSeries {
                altitude,
                speed,
                snr: None,
            }
        }
    }
}

/// SNR (dB) against time (s).
pub fn snr_series(samples: &[SnrSample]) -> Vec<Point> {
    samples
        .iter()
        .map(|s| (s.tick as f64 * TICK_S, s.snr_db))
        .collect()
}

/// The step between axis ticks: 1, 2 or 5 times a power of ten, the smallest giving at most
/// `max_ticks` intervals over `span` (Heckbert, "Nice numbers for graph labels", Graphics
/// Gems, 1990, in its ceiling form).
pub fn nice_step(span: f64, max_ticks: usize) -> f64 {
    let n = max_ticks.max(1) as f64;
    if !(span.is_finite() && span > 0.0) {
        return 1.0;
    }
    let raw = span / n;
    let mag = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw * (1.0 - 1e-12))
        .unwrap_or(10.0 * mag)
}

/// An axis: its range widened to whole steps, and the step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Axis {
    /// Low end (a multiple of `step`).
    pub min: f64,
    /// High end (a multiple of `step`).
    pub max: f64,
    /// Distance between ticks.
    pub step: f64,
}

impl Axis {
    /// The axis for data in `[lo, hi]` with at most `max_ticks` intervals; an empty or
    /// single-valued range is widened around its value, nonsense gives `[0, 1]`.
    pub fn nice(lo: f64, hi: f64, max_ticks: usize) -> Axis {
        let (mut lo, mut hi) = if lo.is_finite() && hi.is_finite() && lo <= hi {
            (lo, hi)
        } else {
            (0.0, 1.0)
        };
        if hi - lo < 1e-9 * hi.abs().max(1.0) {
            let pad = (lo.abs() * 0.1).max(1.0);
            lo -= pad;
            hi += pad;
        }
        // Twice: widening to whole steps may need a larger step.
        let mut step = nice_step(hi - lo, max_ticks);
        for _ in 0..2 {
            let (a, b) = ((lo / step).floor() * step, (hi / step).ceil() * step);
            let s = nice_step(b - a, max_ticks);
            if s == step {
                return Axis {
                    min: a,
                    max: b,
                    step,
                };
            }
            step = s;
        }
        Axis {
            min: (lo / step).floor() * step,
            max: (hi / step).ceil() * step,
            step,
        }
    }

    /// The tick values, low to high.
    pub fn ticks(&self) -> Vec<f64> {
        let n = ((self.max - self.min) / self.step).round().max(0.0) as usize;
        (0..=n.min(100))
            .map(|i| {
                let v = self.min + i as f64 * self.step;
                // No "-0".
                if v.abs() < self.step * 1e-9 { 0.0 } else { v }
            })
            .collect()
    }

    /// A tick's label with as many decimals as the step needs.
    pub fn label(&self, v: f64) -> String {
        let decimals = if self.step >= 1.0 {
            0
        } else {
            (-self.step.log10()).ceil().clamp(0.0, 6.0) as usize
        };
        format!("{v:.decimals$}")
    }
}

/// Reduces a series sorted by time to at most four points per pixel column (the first, lowest,
/// highest and last of each column, in time order): the drawn line looks the same, extremes
/// included, for any number of samples.
pub fn decimate(points: &[Point], x0: f64, x1: f64, columns: usize) -> Vec<Point> {
    if points.len() <= 4 * columns.max(1)
        || x1.partial_cmp(&x0) != Some(std::cmp::Ordering::Greater)
    {
        return points.to_vec();
    }
    let width = (x1 - x0) / columns as f64;
    let col = |x: f64| (((x - x0) / width).floor().max(0.0) as usize).min(columns - 1);
    let mut out = Vec::with_capacity(4 * columns);
    let mut i = 0;
    while i < points.len() {
        let c = col(points[i].0);
        let mut j = i;
        let (mut lo, mut hi) = (i, i);
        while j < points.len() && col(points[j].0) == c {
            if points[j].1 < points[lo].1 {
                lo = j;
            }
            if points[j].1 > points[hi].1 {
                hi = j;
            }
            j += 1;
        }
        let mut keep = [i, lo, hi, j - 1];
        keep.sort_unstable();
        let mut last = usize::MAX;
        for k in keep {
            if k != last {
                out.push(points[k]);
                last = k;
            }
        }
        i = j;
    }
    out
}

/// Size and margins of a chart (CSS px).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Frame {
    /// Whole width.
    pub width: f64,
    /// Whole height.
    pub height: f64,
    /// Left margin (y tick labels).
    pub left: f64,
    /// Bottom margin (x tick labels and the x axis title).
    pub bottom: f64,
    /// Top and right margins.
    pub pad: f64,
}

/// The frame of the selection panel's charts.
pub const FRAME: Frame = Frame {
    width: 280.0,
    height: 110.0,
    left: 42.0,
    bottom: 28.0,
    pad: 8.0,
};

/// A series ready to draw.
#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    /// Its name (a radar's call sign; empty for a single series).
    pub name: String,
    /// SVG path data.
    pub d: String,
    /// Points drawn (after decimation).
    pub points: usize,
    /// The last value (the current one), if any.
    pub last: Option<f64>,
}

/// A chart: axes with tick positions and labels, and the lines, in CSS px.
#[derive(Clone, Debug, PartialEq)]
pub struct Chart {
    /// The frame.
    pub frame: Frame,
    /// Time axis.
    pub x: Axis,
    /// Value axis.
    pub y: Axis,
    /// X ticks: (px, label).
    pub x_ticks: Vec<(f64, String)>,
    /// Y ticks: (px, label).
    pub y_ticks: Vec<(f64, String)>,
    /// The series.
    pub lines: Vec<Line>,
}

impl Chart {
    /// Lays out `series` (name, points sorted by time) in `frame`; `None` without any point.
    pub fn new(frame: Frame, series: &[(String, Vec<Point>)]) -> Option<Chart> {
        let all = || series.iter().flat_map(|(_, p)| p.iter());
        let finite = |v: f64| v.is_finite();
        let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
        for &(x, y) in all() {
            if finite(x) && finite(y) {
                x0 = x0.min(x);
                x1 = x1.max(x);
                y0 = y0.min(y);
                y1 = y1.max(y);
            }
        }
        if x0 > x1 {
            return None;
        }
        let x = Axis::nice(x0, x1, 4);
        let y = Axis::nice(y0, y1, 4);
        let plot_w = frame.width - frame.left - frame.pad;
        let plot_h = frame.height - frame.bottom - frame.pad;
        let px = |v: f64| frame.left + (v - x.min) / (x.max - x.min) * plot_w;
        let py = |v: f64| frame.pad + (1.0 - (v - y.min) / (y.max - y.min)) * plot_h;
        let lines = series
            .iter()
            .map(|(name, points)| {
                let pts: Vec<Point> = points
                    .iter()
                    .copied()
                    .filter(|&(a, b)| finite(a) && finite(b))
                    .collect();
                let kept = decimate(&pts, x.min, x.max, plot_w.max(1.0) as usize);
                let mut d = String::with_capacity(kept.len() * 14);
                for (i, &(a, b)) in kept.iter().enumerate() {
                    d.push_str(if i == 0 { "M" } else { "L" });
                    d.push_str(&format!("{:.1} {:.1}", px(a), py(b)));
                }
                Line {
                    name: name.clone(),
                    d,
                    points: kept.len(),
                    last: pts.last().map(|p| p.1),
                }
            })
            .collect();
        Some(Chart {
            frame,
            x,
            y,
            x_ticks: x.ticks().into_iter().map(|v| (px(v), x.label(v))).collect(),
            y_ticks: y.ticks().into_iter().map(|v| (py(v), y.label(v))).collect(),
            lines,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detection(tick: u64, radar: u32, missile: Option<u32>, snr: f64) -> Event {
        Event {
            tick,
            time_s: tick as f64 * TICK_S,
            kind: EventKind::Detection {
                radar: RadarId(radar),
                radar_id: format!("R{radar}"),
                missile_id: None,
                truth: missile.map(MissileId),
                snr,
                lat: 0.0,
                lon: 0.0,
                alt_m: 0.0,
                range_m: 0.0,
                azimuth_deg: 0.0,
                elevation_deg: 0.0,
            },
        }
    }

    #[test]
    fn nice_steps_are_one_two_five_times_a_power_of_ten() {
        assert_eq!(nice_step(10.0, 5), 2.0);
        assert_eq!(nice_step(10.0, 10), 1.0);
        assert_eq!(nice_step(7.0, 4), 2.0);
        assert_eq!(nice_step(300.0, 4), 100.0);
        assert_eq!(nice_step(0.03, 3), 0.01);
        assert_eq!(nice_step(0.0, 4), 1.0);
        assert_eq!(nice_step(f64::NAN, 4), 1.0);
    }

    #[test]
    fn axes_cover_the_data_in_whole_steps() {
        let a = Axis::nice(3.2, 287.0, 4);
        assert_eq!(
            a,
            Axis {
                min: 0.0,
                max: 300.0,
                step: 100.0
            }
        );
        assert_eq!(a.ticks(), vec![0.0, 100.0, 200.0, 300.0]);
        assert_eq!(a.label(200.0), "200");
        // Negative SNRs and small steps.
        let s = Axis::nice(-3.5, 17.2, 4);
        assert_eq!((s.min, s.max, s.step), (-10.0, 20.0, 10.0));
        let k = Axis::nice(0.12, 0.47, 4);
        assert_eq!(k.step, 0.1);
        assert_eq!(k.label(0.3), "0.3");
        assert!(k.min <= 0.12 && k.max >= 0.47);
        // One value: widened around it. Nonsense: [0, 1].
        let one = Axis::nice(5.0, 5.0, 4);
        assert!(one.min < 5.0 && one.max > 5.0);
        assert_eq!(Axis::nice(f64::NAN, 1.0, 4), Axis::nice(0.0, 1.0, 4));
        assert!(!Axis::nice(-0.0001, 0.0, 4).label(0.0).starts_with('-'));
    }

    #[test]
    fn decimation_keeps_extremes_and_bounds_the_points() {
        // A noisy sine sampled 100,000 times into 50 columns.
        let pts: Vec<Point> = (0..100_000)
            .map(|i| {
                let t = i as f64 * 0.001;
                (t, (t * 0.2).sin() + if i == 31_337 { 5.0 } else { 0.0 })
            })
            .collect();
        let d = decimate(&pts, 0.0, 100.0, 50);
        assert!(d.len() <= 200, "{}", d.len());
        assert_eq!(d[0], pts[0]);
        assert_eq!(*d.last().unwrap(), *pts.last().unwrap());
        // The spike survives and time order is kept.
        assert!(d.iter().any(|p| p.1 > 4.0));
        assert!(d.windows(2).all(|w| w[0].0 <= w[1].0));
        // Few points are left alone.
        assert_eq!(decimate(&pts[..10], 0.0, 100.0, 50), pts[..10].to_vec());
    }

    #[test]
    fn a_chart_maps_data_to_its_frame() {
        let series = vec![(String::new(), vec![(0.0, 0.0), (50.0, 80.0), (100.0, 40.0)])];
        let c = Chart::new(FRAME, &series).unwrap();
        assert_eq!((c.x.min, c.x.max), (0.0, 100.0));
        assert_eq!((c.y.min, c.y.max), (0.0, 80.0));
        // (0, 0) at the bottom left of the plot area, (50, 80) at its top.
        assert!(c.lines[0].d.starts_with(&format!(
            "M{:.1} {:.1}",
            FRAME.left,
            FRAME.height - FRAME.bottom
        )));
        assert!(c.lines[0].d.contains(&format!(
            "L{:.1} {:.1}",
            FRAME.left + (FRAME.width - FRAME.left - FRAME.pad) / 2.0,
            FRAME.pad
        )));
        assert_eq!(c.lines[0].points, 3);
        assert_eq!(c.lines[0].last, Some(40.0));
        assert_eq!(c.x_ticks.first().unwrap().1, "0");
        assert_eq!(c.x_ticks.last().unwrap().0, FRAME.width - FRAME.pad);
        assert!(Chart::new(FRAME, &[(String::new(), vec![])]).is_none());
        assert!(Chart::new(FRAME, &[(String::new(), vec![(f64::NAN, 1.0)])]).is_none());
    }

    #[test]
    fn snr_history_is_per_pair_truncated_at_a_fork_and_bounded() {
        let mut h = SnrHistory::default();
        h.record(&[
            detection(10, 1, Some(1), 12.0),
            detection(10, 2, Some(1), 20.0),
            detection(10, 1, None, 5.0),
            detection(20, 1, Some(1), 14.0),
            detection(20, 1, Some(2), 9.0),
        ]);
        assert_eq!(h.len(), 4);
        let of1: Vec<(RadarId, Vec<f64>)> = h
            .of_missile(MissileId(1), 100)
            .map(|(r, s)| (r, s.iter().map(|x| x.snr_db).collect()))
            .collect();
        assert_eq!(
            of1,
            vec![(RadarId(1), vec![12.0, 14.0]), (RadarId(2), vec![20.0])]
        );
        // Only what precedes the current tick is shown.
        assert_eq!(h.of_missile(MissileId(1), 15).count(), 2);
        assert_eq!(h.of_missile(MissileId(1), 10).count(), 0);
        h.truncate_from(20);
        assert_eq!(h.len(), 2);
        assert_eq!(h.of_missile(MissileId(2), 100).count(), 0);
        // A long look history is thinned, still spanning its whole time.
        let mut h = SnrHistory::default();
        let many: Vec<Event> = (0..10 * MAX_SNR_PER_PAIR as u64)
            .map(|t| detection(t, 1, Some(1), t as f64))
            .collect();
        h.record(&many);
        let (_, s) = h.of_missile(MissileId(1), u64::MAX).next().unwrap();
        assert!(s.len() <= MAX_SNR_PER_PAIR && s.len() > MAX_SNR_PER_PAIR / 4);
        assert_eq!(h.len(), s.len());
        assert_eq!(s[0].tick, 0);
        assert!(s.last().unwrap().tick > 9 * MAX_SNR_PER_PAIR as u64);
        // Many pairs: the total stays under the global cap.
        let mut h = SnrHistory::default();
        for m in 0..(MAX_SNR_SAMPLES / 100 + 10) as u32 {
            let ev: Vec<Event> = (0..200).map(|t| detection(t, 1, Some(m), 1.0)).collect();
            h.record(&ev);
            assert!(h.len() <= MAX_SNR_SAMPLES);
        }
        // NaN SNRs are not recorded.
        let mut h = SnrHistory::default();
        h.record(&[detection(1, 1, Some(1), f64::NAN)]);
        assert!(h.is_empty());
    }

    #[test]
    fn fly_out_series_skip_unknown_speeds_and_add_the_live_point_once() {
        let p = |tick, alt_m, speed_m_s| FlyPoint {
            tick,
            lat_deg: 0.0,
            lon_deg: 0.0,
            alt_m,
            speed_m_s,
        };
        // On the launcher, flying, then the end (no speed in the intercept event).
        let pts = [
            p(0, 0.0, Some(0.0)),
            p(10, 2_000.0, Some(900.0)),
            p(20, 3_000.0, None),
        ];
        let (alt, speed) = fly_out_series(&pts, None);
        assert_eq!(alt, vec![(0.0, 0.0), (1.0, 2.0), (2.0, 3.0)]);
        assert_eq!(speed, vec![(0.0, 0.0), (1.0, 900.0)]);
        // In flight: the state now is added after the last sample, once.
        let (alt, speed) = fly_out_series(&pts[..2], Some((15, 2_500.0, 1_000.0)));
        assert_eq!(alt.last(), Some(&(1.5, 2.5)));
        assert_eq!(speed.last(), Some(&(1.5, 1_000.0)));
        let (alt, _) = fly_out_series(&pts[..2], Some((10, 2_000.0, 900.0)));
        assert_eq!(alt.len(), 2);
        assert_eq!(
            Selected::Interceptor(InterceptorId(3)).interceptor(),
            Some(InterceptorId(3))
        );
        assert_eq!(Selected::Interceptor(InterceptorId(3)).missile(), None);
        assert_eq!(
            Selected::Missile(MissileId(2)).missile(),
            Some(MissileId(2))
        );
    }

    #[test]
    fn flight_series_add_the_live_point_once() {
        let p = |tick, alt_m, speed_m_s| TrailPoint {
            tick,
            lat_deg: 0.0,
            lon_deg: 0.0,
            alt_m,
            speed_m_s,
        };
        let pts = [p(0, 0.0, 0.0), p(20, 5_000.0, 300.0)];
        let (alt, speed) = flight_series(&pts, Some((25, 7_000.0, 400.0)));
        assert_eq!(alt, vec![(0.0, 0.0), (2.0, 5.0), (2.5, 7.0)]);
        assert_eq!(speed[2], (2.5, 400.0));
        // At a recorded tick the live point is not repeated.
        let (alt, _) = flight_series(&pts, Some((20, 5_000.0, 300.0)));
        assert_eq!(alt.len(), 2);
    }
}
