//! Entry point of the Monte Carlo Web Worker (see `web_app::mc_worker`): Trunk builds this
//! binary with `data-type="worker"` and the page starts it with `new Worker`.

#[cfg(target_arch = "wasm32")]
fn main() {
    console_error_panic_hook::set_once();
    web_app::mc_worker::start();
}

/// The worker only runs in a browser; the native binary exists so that `cargo build
/// --workspace` works on the host, and it says so.
#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("mc-worker is the web app's Monte Carlo worker: it runs in the browser");
    std::process::exit(2);
}
