//! The Monte Carlo Web Worker's side: listens for one job at a time, runs it with
//! [`crate::montecarlo::run_job`] and posts each run's outcome back as it finishes. Loaded by
//! the `mc-worker` binary (`src/bin/mc-worker.rs`), which Trunk builds as a worker
//! (`data-type="worker"` in `index.html`: wasm-bindgen's `no-modules` glue and a loader shim,
//! `mc-worker_loader.js`, that the page starts with `new Worker`).
//!
//! The loop is synchronous: a job cannot be interrupted from inside, so the page cancels by
//! terminating the worker (and starts a fresh one for the next job).

use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

use crate::montecarlo::{FromWorker, run_job};

/// Installs the message handler and tells the page the worker is ready.
pub fn start() {
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let post = {
        let scope = scope.clone();
        move |m: FromWorker| {
            let _ = scope.post_message(&JsValue::from_str(&m.to_json()));
        }
    };
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new({
        let post = post.clone();
        move |ev: MessageEvent| match ev.data().as_string() {
            Some(job) => run_job(&job, &post),
            None => post(FromWorker::Failed {
                message: "the job must be JSON text".to_string(),
            }),
        }
    });
    scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    // The handler lives as long as the worker.
    on_message.forget();
    post(FromWorker::Ready);
}
