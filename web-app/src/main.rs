//! Entry point of the browser app: mounts [`web_app::App`] on the page body.

#[cfg(target_arch = "wasm32")]
fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(web_app::App);
}

/// The app only runs in a browser; the native binary exists so that `cargo build --workspace`
/// works on the host, and it says so.
#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!(
        "web-app runs in the browser: build it with `cargo xtask build` or serve it with `cargo xtask serve`"
    );
    std::process::exit(2);
}
