//! `web-app`: the browser front end of the missile defense simulator.
//!
//! The map maths ([`view`]), the embedded world atlas ([`atlas`]), the playback of the
//! simulation ([`playback`]), the launch tool ([`launch`]), radar coverage and track geometry
//! ([`radar_view`]), the defence's footprints, fly-outs and explanations ([`defense_view`]),
//! the optional tile layer's maths ([`tiles`]), the event log ([`event_log`]), the selection's
//! plots ([`plots`]), the Monte Carlo job and its messages ([`montecarlo`]) and share links
//! ([`share`], its panel only in the browser) are plain Rust
//! over `sim-core`, built and unit-tested natively; `render` and `sim_layer` draw on canvases,
//! `app`, `panels`, `radar_panel`, `defense_panel`, `room_panel`, `plot_panel` and `mc_panel`
//! hold the Leptos components and `mc_worker` the Monte Carlo Web Worker (binary
//! `mc-worker`), and those exist only when compiling for `wasm32` (the browser). Nothing in
//! this crate needs a network: the atlas is compiled into the wasm binary.

#[cfg(target_arch = "wasm32")]
pub mod app;
pub mod atlas;
#[cfg(target_arch = "wasm32")]
pub mod defense_panel;
pub mod defense_view;
pub mod event_log;
pub mod launch;
#[cfg(target_arch = "wasm32")]
pub mod map_extras;
#[cfg(target_arch = "wasm32")]
pub mod mc_panel;
#[cfg(target_arch = "wasm32")]
pub mod mc_worker;
pub mod montecarlo;
#[cfg(target_arch = "wasm32")]
pub mod panels;
pub mod playback;
#[cfg(target_arch = "wasm32")]
pub mod plot_panel;
pub mod plots;
#[cfg(target_arch = "wasm32")]
pub mod radar_panel;
pub mod radar_view;
#[cfg(target_arch = "wasm32")]
pub mod render;
pub mod room;
#[cfg(target_arch = "wasm32")]
pub mod room_panel;
pub mod share;
#[cfg(target_arch = "wasm32")]
pub mod sim_layer;
pub mod tiles;
pub mod view;

#[cfg(target_arch = "wasm32")]
pub use app::App;
