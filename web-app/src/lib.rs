//! `web-app`: the browser front end of the missile defense simulator.
//!
//! The map maths ([`view`]) and the embedded world atlas ([`atlas`]) are plain Rust, built and
//! unit-tested natively; `render` draws on a canvas and `app` holds the Leptos components, and
//! both exist only when compiling for `wasm32` (the browser). Nothing in this crate needs a
//! network: the atlas is compiled into the wasm binary.

#[cfg(target_arch = "wasm32")]
pub mod app;
pub mod atlas;
#[cfg(target_arch = "wasm32")]
pub mod render;
pub mod view;

#[cfg(target_arch = "wasm32")]
pub use app::App;
