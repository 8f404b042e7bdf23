//! `web-app`: the browser front end of the missile defense simulator.
//!
//! The map maths ([`view`]), the embedded world atlas ([`atlas`]), the playback of the
//! simulation ([`playback`]), the launch tool ([`launch`]), radar coverage and track geometry ([`radar_view`]), the
//! event log ([`event_log`]) and share links ([`share`], its panel only in the browser) are
//! plain Rust over `sim-core`, built and unit-tested natively; `render` and `sim_layer` draw on
//! canvases and `app`, `panels` and `radar_panel` hold the Leptos components, and those exist only when
//! compiling for `wasm32` (the browser). Nothing in this crate needs a
//! network: the atlas is compiled into the wasm binary.

#[cfg(target_arch = "wasm32")]
pub mod app;
pub mod atlas;
pub mod event_log;
pub mod launch;
#[cfg(target_arch = "wasm32")]
pub mod panels;
pub mod playback;
#[cfg(target_arch = "wasm32")]
pub mod radar_panel;
pub mod radar_view;
#[cfg(target_arch = "wasm32")]
pub mod render;
pub mod share;
#[cfg(target_arch = "wasm32")]
pub mod sim_layer;
pub mod view;

#[cfg(target_arch = "wasm32")]
pub use app::App;
