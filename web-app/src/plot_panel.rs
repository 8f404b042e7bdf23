//! The selection's plots: altitude and speed against time for a missile or an interceptor,
//! and for a missile the SNR of each radar's looks at it (an interceptor gets a note instead:
//! radars track missiles), as small SVG charts laid out by [`crate::plots::Chart`] from
//! [`crate::plots::selection_series`].
//!
//! Reactive choices: the charts are computed from the player (its recorded ground tracks and
//! fly-outs with altitude and speed, its SNR history, the object now) into one signal, at most
//! [`REFRESH_MS`] apart while playing and at once on a seek, a pause or a new selection; the
//! data is what the player recorded up to the current tick, so scrubbing shows the same
//! curves every time.

use leptos::prelude::*;

use crate::panels::SimCtx;
use crate::playback::Player;
use crate::plots::{Chart, FRAME, Selected, selection_series};

/// Shortest interval between two chart refreshes while playing (ms).
pub const REFRESH_MS: f64 = 200.0;

/// The charts of a selection.
#[derive(Clone, Debug, PartialEq)]
struct Charts {
    selected: Selected,
    /// Its name in the heading ("#3", "I2 SM-6").
    name: String,
    altitude: Option<Chart>,
    speed: Option<Chart>,
    /// `None` for an interceptor (no SNR), else the chart if there is any sample.
    snr: Option<Option<Chart>>,
}

fn charts_of(p: &Player, selected: Selected) -> Charts {
    let s = selection_series(p, selected);
    let name = match selected {
        Selected::Missile(id) => format!("#{}", id.0),
        Selected::Interceptor(id) => match p.defense().fly_out(id) {
            Some(f) => format!("{id} {}", f.kind),
            None => id.to_string(),
        },
    };
    Charts {
        selected,
        name,
        altitude: Chart::new(FRAME, &[(String::new(), s.altitude)]),
        speed: Chart::new(FRAME, &[(String::new(), s.speed)]),
        snr: s.snr.map(|snr| Chart::new(FRAME, &snr)),
    }
}

/// The plots of the selected missile or interceptor.
#[component]
pub fn PlotPanel(
    /// Shared simulation handles.
    ctx: SimCtx,
) -> impl IntoView {
    let charts = RwSignal::new(None::<Charts>);
    // (time of the last refresh, its tick, its selection)
    let last = StoredValue::new_local((f64::NEG_INFINITY, u64::MAX, None::<Selected>));
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
        charts.set(selected.map(|s| ctx.read(|p| charts_of(p, s))));
    });
    move || {
        charts.with(|c| {
            c.as_ref().map(|c| {
                let snr = match c.snr.clone() {
                    Some(chart) => chart_view("plot-snr", "SNR per radar (dB)", chart).into_any(),
                    None => view! {
                        <p id="plot-snr-none" class="hint">
                            "No SNR: radars detect and track missiles, not interceptors."
                        </p>
                    }
                    .into_any(),
                };
                view! {
                    <section
                        id="plots"
                        class="panel plots-panel"
                        aria-label="Plots of the selection"
                        data-missile=c.selected.missile().map(|m| m.0.to_string())
                        data-interceptor=c.selected.interceptor().map(|i| i.0.to_string())
                    >
                        <h2>{format!("{} against time", c.name)}</h2>
                        {chart_view("plot-altitude", "Altitude (km)", c.altitude.clone())}
                        {chart_view("plot-speed", "Speed (m/s)", c.speed.clone())}
                        {snr}
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
