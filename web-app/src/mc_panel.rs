//! The Monte Carlo panel: runs N seeds of the scenario on the map (the one the map started from,
//! [`SimCtx::scenario`]: a preset, an imported file or an opened link, and every command given
//! since, the defence editor's included) in a Web Worker, with a progress bar, a cancel button, the leak
//! probability with its Wilson 95% interval, interceptors spent, and two histograms (intercept
//! altitudes, leakers per run).
//!
//! Reactive choices: the outcomes received live in a `StoredValue` (outside the graph); each
//! message bumps one `rev` signal, and a memo turns the outcomes into the report and
//! histograms, so the DOM changes once per finished run, never per simulation step. The page
//! thread only receives small messages: the runs themselves never touch it, which keeps it
//! answering clicks and animation frames while a job runs.

use leptos::prelude::*;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{MessageEvent, Worker};

use sim_core::montecarlo::{Report, RunOutcome};

use crate::montecarlo::{FromWorker, Histogram, Job, MAX_BROWSER_RUNS, kill_altitudes_km, report};
use crate::panels::SimCtx;

/// The worker's loader, written by Trunk next to `index.html` (worker files carry no content
/// hash; the path is absolute like the app's own script, so pages under `/s/...` find it).
pub const WORKER_URL: &str = "/mc-worker_loader.js";
/// Runs asked for by default.
const DEFAULT_RUNS: u32 = 20;

/// Where a job stands.
#[derive(Clone, Debug, PartialEq)]
enum Phase {
    Idle,
    Starting,
    Running,
    Done,
    Cancelled,
    Failed(String),
}

/// The running worker and its handlers (dropped only from click handlers, never from inside
/// one of its own callbacks).
struct Session {
    worker: Worker,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(web_sys::Event)>,
}

impl Drop for Session {
    fn drop(&mut self) {
        self.worker.terminate();
    }
}

fn now_ms() -> f64 {
    window().performance().map_or(0.0, |p| p.now())
}

/// The summary the panel shows.
#[derive(Clone, Debug, PartialEq)]
struct Summary {
    done: u32,
    runs: u32,
    report: Option<Report>,
    altitudes: Option<Histogram>,
    leakers: Histogram,
    wall_s: f64,
}

/// The Monte Carlo tool.
#[component]
pub fn MonteCarloPanel(
    /// Shared simulation handles.
    ctx: SimCtx,
) -> impl IntoView {
    let open = RwSignal::new(false);
    let runs = RwSignal::new(DEFAULT_RUNS);
    let phase = RwSignal::new(Phase::Idle);
    let rev = RwSignal::new(0_u64);
    let asked = RwSignal::new(0_u32);
    let outcomes = StoredValue::new_local(Vec::<RunOutcome>::new());
    let session = StoredValue::new_local(None::<Session>);
    let clock = StoredValue::new_local((0.0_f64, 0.0_f64));
    // The name of the scenario the last job ran.
    let ran = RwSignal::new(None::<String>);

    let cancel = move || {
        session.set_value(None);
        if matches!(phase.get_untracked(), Phase::Starting | Phase::Running) {
            clock.update_value(|c| c.1 = now_ms());
            phase.set(Phase::Cancelled);
        }
    };

    let start = move || {
        session.set_value(None);
        outcomes.set_value(Vec::new());
        let n = runs.get_untracked();
        asked.set(n);
        let Some(scenario) = ctx.scenario.get_value() else {
            ran.set(None);
            return phase.set(Phase::Failed(
                "this timeline started from a room's snapshot, not from a scenario: load a preset, a file or a link"
                    .to_string(),
            ));
        };
        ran.set(Some(scenario.name.clone()));
        let job = ctx.read(|p| Job::for_scenario(&scenario, p.commands(), n));
        let job = match serde_json::to_string(&job) {
            Ok(j) => j,
            Err(e) => return phase.set(Phase::Failed(e.to_string())),
        };
        let worker = match Worker::new(WORKER_URL) {
            Ok(w) => w,
            Err(e) => {
                return phase.set(Phase::Failed(format!(
                    "the browser refused to start the worker: {e:?}"
                )));
            }
        };
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new({
            let worker = worker.clone();
            move |ev: MessageEvent| {
                let msg = ev
                    .data()
                    .as_string()
                    .ok_or_else(|| "the worker sent a non-text message".to_string())
                    .and_then(|t| FromWorker::from_json(&t));
                match msg {
                    Ok(FromWorker::Ready) => {
                        let _ = worker.post_message(&JsValue::from_str(&job));
                        clock.set_value((now_ms(), 0.0));
                        phase.set(Phase::Running);
                    }
                    Ok(FromWorker::Progress {
                        done,
                        runs: total,
                        outcome,
                    }) => {
                        outcomes.update_value(|o| o.push(outcome));
                        clock.update_value(|c| c.1 = now_ms());
                        if done >= total {
                            // Finished: the worker is stopped, its handlers stay until the next job.
                            worker.terminate();
                            phase.set(Phase::Done);
                        }
                        rev.update(|r| *r += 1);
                    }
                    Ok(FromWorker::Failed { message }) | Err(message) => {
                        worker.terminate();
                        phase.set(Phase::Failed(message));
                    }
                }
            }
        });
        let on_error = Closure::<dyn FnMut(web_sys::Event)>::new({
            let worker = worker.clone();
            move |ev: web_sys::Event| {
                worker.terminate();
                let detail = ev
                    .dyn_ref::<web_sys::ErrorEvent>()
                    .map(|e| e.message())
                    .unwrap_or_default();
                phase.set(Phase::Failed(format!(
                    "the worker failed to load or run {detail}"
                )));
            }
        });
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        session.set_value(Some(Session {
            worker,
            _on_message: on_message,
            _on_error: on_error,
        }));
        phase.set(Phase::Starting);
        rev.update(|r| *r += 1);
    };

    let summary = Memo::new(move |_| {
        rev.track();
        let (t0, t1) = clock.get_value();
        outcomes.with_value(|o| Summary {
            done: o.len() as u32,
            runs: asked.get_untracked(),
            report: report(o).ok(),
            altitudes: Histogram::of(&kill_altitudes_km(o), 8),
            leakers: Histogram::leakers_per_run(o),
            wall_s: ((t1 - t0) / 1000.0).max(0.0),
        })
    });

    let busy = move || matches!(phase.get(), Phase::Starting | Phase::Running);
    let status_text = move || {
        let s = summary.get();
        match phase.get() {
            Phase::Idle => {
                "Runs the scenario on the map with seeds s, s+1, … in a background worker."
                    .to_string()
            }
            Phase::Starting => "Starting the worker…".to_string(),
            Phase::Running => format!("Running: {} of {} runs", s.done, s.runs),
            Phase::Done => format!(
                "Done: {} runs in {:.1} s ({:.2} runs/s)",
                s.done,
                s.wall_s,
                if s.wall_s > 0.0 {
                    f64::from(s.done) / s.wall_s
                } else {
                    0.0
                }
            ),
            Phase::Cancelled => format!("Cancelled after {} of {} runs", s.done, s.runs),
            Phase::Failed(m) => format!("Failed: {m}"),
        }
    };
    let phase_name = move || {
        match phase.get() {
            Phase::Idle => "idle",
            Phase::Starting => "starting",
            Phase::Running => "running",
            Phase::Done => "done",
            Phase::Cancelled => "cancelled",
            Phase::Failed(_) => "failed",
        }
        .to_string()
    };

    view! {
        <section id="montecarlo" class="panel mc-panel" aria-label="Monte Carlo">
            <header class="panel-head">
                <h2>"Monte Carlo"</h2>
                <button
                    id="mc-open"
                    type="button"
                    class="fold"
                    aria-expanded=move || open.get().to_string()
                    aria-label="Show or hide the Monte Carlo tool"
                    on:click=move |_| open.update(|o| *o = !*o)
                >
                    {move || if open.get() { "−" } else { "+" }}
                </button>
            </header>
            <div class="panel-body" class:hidden=move || !open.get()>
                <div class="row">
                    <label>
                        "Runs "
                        <input
                            id="mc-runs"
                            type="number"
                            min="1"
                            max=MAX_BROWSER_RUNS
                            step="1"
                            prop:value=move || runs.get().to_string()
                            on:change=move |ev| {
                                let n = event_target_value(&ev)
                                    .trim()
                                    .parse::<u32>()
                                    .unwrap_or(DEFAULT_RUNS)
                                    .clamp(1, MAX_BROWSER_RUNS);
                                runs.set(n);
                            }
                        />
                    </label>
                    <button id="mc-run" type="button" disabled=busy on:click=move |_| start()>
                        "Run"
                    </button>
                    <button id="mc-cancel" type="button" disabled=move || !busy() on:click=move |_| cancel()>
                        "Cancel"
                    </button>
                </div>
                <progress
                    id="mc-progress"
                    aria-label="Monte Carlo progress"
                    max=move || summary.get().runs.max(1).to_string()
                    prop:value=move || summary.get().done.to_string()
                    data-done=move || summary.get().done.to_string()
                    data-runs=move || summary.get().runs.to_string()
                ></progress>
                <p id="mc-status" class="hint" data-phase=phase_name role="status">{status_text}</p>
                {move || {
                    ran.get()
                        .map(|name| {
                            view! {
                                <p id="mc-scenario" class="hint" data-name=name.clone()>
                                    {format!("Scenario: {name}")}
                                </p>
                            }
                        })
                }}
                {move || {
                    let s = summary.get();
                    s.report.clone().map(|r| result_view(s, r))
                }}
            </div>
        </section>
    }
}

/// The figures and histograms of a (possibly partial) set of runs.
fn result_view(s: Summary, r: Report) -> impl IntoView {
    let (leaked, trials, est, low, high) =
        r.leak
            .as_ref()
            .map_or((0, 0, String::new(), String::new(), String::new()), |l| {
                (
                    l.successes,
                    l.trials,
                    format!("{:.3}", l.estimate),
                    format!("{:.3}", l.low),
                    format!("{:.3}", l.high),
                )
            });
    let leak_text = if trials > 0 {
        format!(
            "Leak probability {est} (95% {low}–{high}): {leaked} of {trials} threatening missiles"
        )
    } else {
        "No missile threatened a defended asset".to_string()
    };
    let interceptors: u64 = (r.interceptors_mean * r.runs as f64).round() as u64;
    let runs_per_s = if s.wall_s > 0.0 {
        format!("{:.3}", f64::from(s.done) / s.wall_s)
    } else {
        String::new()
    };
    view! {
        <div
            id="mc-result"
            class="mc-result"
            data-runs=r.runs.to_string()
            data-leaked=leaked.to_string()
            data-trials=trials.to_string()
            data-leak-estimate=est
            data-leak-low=low
            data-leak-high=high
            data-interceptors=interceptors.to_string()
            data-runs-per-s=runs_per_s
        >
            <p>{leak_text}</p>
            <p>
                {format!(
                    "Interceptors per run {:.2} (95% {:.2}–{:.2}) · kills per interceptor {:.2}",
                    r.interceptors_mean,
                    r.interceptors_ci95.0,
                    r.interceptors_ci95.1,
                    r.kills_per_interceptor,
                )}
            </p>
            {s.altitudes
                .map(|h| {
                    histogram_view(
                        "mc-hist-altitude",
                        "Intercept altitude: kills per altitude band",
                        Axes { x_unit: "km", centred: false },
                        h,
                    )
                })}
            {histogram_view(
                "mc-hist-leakers",
                "Leakers per run: runs with that many",
                Axes { x_unit: "leakers", centred: true },
                s.leakers,
            )}
        </div>
    }
}

/// What a histogram's axis says: the unit along it (the counts' unit is in the title), and
/// whether its bins are whole numbers labelled at their centres.
struct Axes {
    x_unit: &'static str,
    centred: bool,
}

/// Most labels under a histogram (260 px wide: room for five "123.4 km").
const MAX_AXIS_LABELS: usize = 5;

/// A small bar chart of a histogram, its count above each bar, round labels under the axis
/// ([`Histogram::axis_labels`]) with the unit on the last.
fn histogram_view(
    id: &'static str,
    title: &'static str,
    axes: Axes,
    h: Histogram,
) -> impl IntoView {
    const W: f64 = 260.0;
    const H: f64 = 70.0;
    const B: f64 = 14.0;
    let max = h.counts.iter().copied().max().unwrap_or(0).max(1) as f64;
    let n = h.counts.len().max(1) as f64;
    let bw = W / n;
    let labels = h
        .axis_labels(MAX_AXIS_LABELS, axes.x_unit, axes.centred)
        .into_iter()
        .enumerate()
        .map(|(i, l)| {
            // The first label starts at the left edge and the last ends at the right one, so
            // neither is cut off.
            let anchor = if l.at <= 0.0 && i == 0 {
                "start"
            } else if l.at >= 1.0 {
                "end"
            } else {
                "middle"
            };
            view! {
                <text
                    class="mc-tick"
                    role="listitem"
                    x=format!("{:.1}", l.at * W)
                    y=format!("{:.1}", H - 2.0)
                    text-anchor=anchor
                >
                    {l.text}
                </text>
            }
        })
        .collect_view();
    let bars = h
        .counts
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            let bh = (H - B - 12.0) * c as f64 / max;
            let x = i as f64 * bw;
            view! {
                <g>
                    <rect
                        class="mc-bar"
                        x=format!("{:.1}", x + 1.0)
                        y=format!("{:.1}", H - B - bh)
                        width=format!("{:.1}", (bw - 2.0).max(1.0))
                        height=format!("{bh:.1}")
                        data-count=c.to_string()
                    ></rect>
                    <text class="mc-count" x=format!("{:.1}", x + bw / 2.0) y=format!("{:.1}", H - B - bh - 2.0) text-anchor="middle">
                        {if c > 0 { c.to_string() } else { String::new() }}
                    </text>
                </g>
            }
        })
        .collect_view();
    let bins = h.counts.len().to_string();
    let total: u64 = h.counts.iter().sum();
    let axis_name = format!("{title}: axis ({})", axes.x_unit);
    view! {
        <figure class="mc-hist" id=id data-bins=bins data-total=total.to_string()>
            <figcaption>{title}</figcaption>
            <svg viewBox=format!("-6 0 {} {H}", W + 12.0) width=W + 12.0 height=H role="group" aria-label=title>
                {bars}
                <line class="mc-axis" x1="0" x2=W y1=H - B y2=H - B></line>
                <g role="list" aria-label=axis_name>{labels}</g>
            </svg>
        </figure>
    }
}
