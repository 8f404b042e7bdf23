//! Where a frame's stepping time goes with a 500-missile raid, natively (for `perf record`):
//! the browser benchmark's salvo (500 SCUD-Cs from 36.5N 123.1W, 0.1 s apart, one pre-solved
//! guidance), all launched, then `Simulation::step` alone against `Player::step` (the app's
//! event log, ground tracks, plots and snapshots on top).
//!
//! `cargo run --release -p web-app --example step_cost -- [sim|player] [ticks]`; profile with
//! `perf record -D <ms after the launch phase> -g target/release/examples/step_cost sim 1500`.

use std::time::Instant;

use sim_core::earth::GeoPoint;
use web_app::launch::{LaunchSettings, salvo};
use web_app::playback::Preset;

fn main() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "player".to_string());
    let ticks: u32 = args
        .next()
        .map_or(Ok(200), |s| s.parse())
        .map_err(|e| format!("ticks: {e}"))?;
    let mut p = Preset::by_id("empty").ok_or("no empty preset")?.player()?;
    let settings = LaunchSettings {
        count: 500,
        spacing_s: 0.1,
        ..LaunchSettings::default()
    };
    let physics = *p.sim().physics();
    let from = GeoPoint::new(36.5, -123.1);
    let to = GeoPoint::new(34.05, -119.0);
    for (tick, c) in salvo(&settings, from, to, &physics, 0)? {
        p.schedule(tick, c);
    }
    let t0 = Instant::now();
    while p.tick() < 505 {
        p.step();
    }
    eprintln!(
        "launch phase (505 ticks): {:.1} s, {} missiles",
        t0.elapsed().as_secs_f64(),
        p.sim().missiles().len()
    );
    let per_tick = |t: Instant| t.elapsed().as_secs_f64() * 1e3 / f64::from(ticks);
    if mode == "sim" {
        let mut sim = p.sim().clone();
        let t = Instant::now();
        for _ in 0..ticks {
            sim.step(&[]);
        }
        eprintln!("Simulation::step: {:.2} ms per tick", per_tick(t));
    } else {
        let t = Instant::now();
        for _ in 0..ticks {
            p.step();
        }
        eprintln!("Player::step: {:.2} ms per tick", per_tick(t));
    }
    Ok(())
}
