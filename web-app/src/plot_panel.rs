//! The selected missile's plots: altitude and speed against time, and the SNR of each radar's
//! looks at it, as small SVG charts laid out by [`crate::plots::Chart`].
//!
//! Reactive choices: the charts are computed from the player (its recorded ground track with
//! altitude and speed, its SNR history, the missile now) into one signal, at most
//! [`REFRESH_MS`] apart while playing and at once on a seek, a pause or a new selection; the
//! data is what the player recorded up to the current tick, so scrubbing shows the same
//! curves every time.

use leptos::prelude::*;

use sim_core::MissileId;
use sim_core::flight::Phase;

use crate::panels::SimCtx;
use crate::playback::Player;
use crate::plots::{Chart, FRAME, Point, flight_series, snr_series};

/// Shortest interval between two chart refreshes while playing (ms).
pub const REFRESH_MS: f64 = 200.0;

/// The three charts of a missile.
#[derive(Clone, Debug, PartialEq)]
struct Charts {
    missile: MissileId,
    altitude: Option<Chart>,
    speed: Option<Chart>,
    snr: Option<Chart>,
}

fn charts_of(p: &Player, id: MissileId) -> Charts {
    let tick = p.tick();
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
    let (alt, speed) = flight_series(trail, live);
    let snr: Vec<(String, Vec<Point>)> = p
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
    Charts {
        missile: id,
        altitude: Chart::new(FRAME, &[(String::new(), alt)]),
        speed: Chart::new(FRAME, &[(String::new(), speed)]),
        snr: Chart::new(FRAME, &snr),
    }
}

/// The plots of the selected missile.
#[component]
pub fn PlotPanel(
    /// Shared simulation handles.
    ctx: SimCtx,
) -> impl IntoView {
    let charts = RwSignal::new(None::<Charts>);
    // (time of the last refresh, its tick, its selection)
    let last = StoredValue::new_local((f64::NEG_INFINITY, u64::MAX, None::<MissileId>));
    Effect::new(move |_| {
        let status = ctx.status.get();
        let selected = ctx.selected.get();
        let playing = ctx.playing.get();
        let t = window().performance().map_or(0.0, |p| p.now());
        let (at, tick, sel) = last.get_value();
        if sel == selected && tick == status.tick {
            return;
        }
        // While playing forward, a few refreshes a second are enough.
        if playing && sel == selected && status.tick > tick && t - at < REFRESH_MS {
            return;
        }
        last.set_value((t, status.tick, selected));
        charts.set(selected.map(|id| ctx.read(|p| charts_of(p, id))));
    });
    move || {
        charts.with(|c| {
            c.as_ref().map(|c| {
                view! {
                    <section id="plots" class="panel plots-panel" aria-label="Plots of the selected missile" data-missile=c.missile.0.to_string()>
                        <h2>{format!("#{} against time", c.missile.0)}</h2>
                        {chart_view("plot-altitude", "Altitude (km)", c.altitude.clone())}
                        {chart_view("plot-speed", "Speed (m/s)", c.speed.clone())}
                        {chart_view("plot-snr", "SNR per radar (dB)", c.snr.clone())}
                    </section>
                }
            })
        })
    }
}

/// One chart, or a note when it has no data yet.
fn chart_view(id: &'static str, title: &'static str, chart: Option<Chart>) -> impl IntoView {
    let Some(c) = chart else {
        return view! {
            <figure class="plot" id=id data-points="0">
                <figcaption>{title}</figcaption>
                <p class="hint">"No data yet"</p>
            </figure>
        }
        .into_any();
    };
    let f = c.frame;
    let (x0, x1, y0, y1) = (f.left, f.width - f.pad, f.pad, f.height - f.bottom);
    let points: usize = c.lines.iter().map(|l| l.points).sum();
    let last = c
        .lines
        .first()
        .and_then(|l| l.last)
        .map(|v| format!("{v:.3}"))
        .unwrap_or_default();
    let names: Vec<String> = c
        .lines
        .iter()
        .map(|l| l.name.clone())
        .filter(|n| !n.is_empty())
        .collect();
    view! {
        <figure class="plot" id=id data-points=points.to_string() data-last=last data-series=c.lines.len().to_string()>
            <figcaption>{title}</figcaption>
            <svg viewBox=format!("0 0 {} {}", f.width, f.height) width=f.width height=f.height role="img" aria-label=title>
                {c.y_ticks.iter().map(|(y, label)| view! {
                    <line class="plot-grid" x1=format!("{x0:.1}") x2=format!("{x1:.1}") y1=format!("{y:.1}") y2=format!("{y:.1}")></line>
                    <text class="plot-tick" x=format!("{:.1}", x0 - 4.0) y=format!("{:.1}", y + 3.0) text-anchor="end">{label.clone()}</text>
                }).collect_view()}
                {c.x_ticks.iter().map(|(x, label)| view! {
                    <line class="plot-grid" x1=format!("{x:.1}") x2=format!("{x:.1}") y1=format!("{y0:.1}") y2=format!("{y1:.1}")></line>
                    <text class="plot-tick" x=format!("{x:.1}") y=format!("{:.1}", y1 + 11.0) text-anchor="middle">{label.clone()}</text>
                }).collect_view()}
                <rect class="plot-frame" x=format!("{x0:.1}") y=format!("{y0:.1}") width=format!("{:.1}", x1 - x0) height=format!("{:.1}", y1 - y0)></rect>
                <text class="plot-axis-title" x=format!("{:.1}", (x0 + x1) / 2.0) y=format!("{:.1}", f.height - 2.0) text-anchor="middle">"time (s)"</text>
                {c.lines.iter().enumerate().map(|(i, l)| view! {
                    <path class=format!("plot-line series-{}", i % 4) d=l.d.clone()></path>
                }).collect_view()}
            </svg>
            {(!names.is_empty()).then(|| view! {
                <p class="plot-legend">
                    {names.into_iter().enumerate().map(|(i, n)| view! {
                        <span class=format!("series-{}", i % 4)>{n}</span>
                    }).collect_view()}
                </p>
            })}
        </figure>
    }
    .into_any()
}
