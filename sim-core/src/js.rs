//! JavaScript bindings (feature `js`): the simulation for web pages, Web Workers and Node,
//! built with `wasm-pack build sim-core --target web -- --no-default-features --features js`.
//!
//! Values cross the boundary as JSON strings (the same JSON as scenario files, commands and
//! events in `docs/scenario.md` and `docs/cli.md`), except the per-frame position buffer, which
//! is a `Float64Array`. Invariant: these wrappers add no behaviour; the same inputs give the same
//! events and state hash as the native library.

use wasm_bindgen::prelude::*;

use crate::Simulation;
use crate::engine::{Command, Scenario, Snapshot};
use crate::flight::PhysicsParams;
use crate::targeting::{self, TargetingRequest};

fn js_err(e: impl core::fmt::Display) -> JsError {
    JsError::new(&e.to_string())
}

/// A simulation owned by JavaScript.
#[wasm_bindgen]
pub struct WasmSimulation {
    sim: Simulation,
    positions: Vec<f64>,
}

#[wasm_bindgen]
impl WasmSimulation {
    /// Creates a simulation from scenario JSON (errors are one sentence).
    #[wasm_bindgen(constructor)]
    pub fn new(scenario_json: &str) -> Result<WasmSimulation, JsError> {
        let scenario = Scenario::from_json(scenario_json).map_err(js_err)?;
        Ok(Self {
            sim: Simulation::from_scenario(&scenario),
            positions: Vec::new(),
        })
    }

    /// Restores a simulation from snapshot JSON (as returned by [`WasmSimulation::snapshot`]).
    pub fn restore(snapshot_json: &str) -> Result<WasmSimulation, JsError> {
        let snap: Snapshot = serde_json::from_str(snapshot_json).map_err(js_err)?;
        Ok(Self {
            sim: Simulation::restore(snap),
            positions: Vec::new(),
        })
    }

    /// Runs one tick with the commands in `commands_json` (a JSON array, `[]` for none) and
    /// returns the tick's events as a JSON array.
    pub fn step(&mut self, commands_json: &str) -> Result<String, JsError> {
        let commands: Vec<Command> = serde_json::from_str(commands_json).map_err(js_err)?;
        let events = self.sim.step(&commands);
        serde_json::to_string(&events).map_err(js_err)
    }

    /// Runs until nothing is left to happen (or `max_ticks` ticks) and returns all events.
    pub fn run_until_idle(&mut self, max_ticks: u32) -> Result<String, JsError> {
        let events = self.sim.run_until_idle(u64::from(max_ticks));
        serde_json::to_string(&events).map_err(js_err)
    }

    /// The next tick to run.
    pub fn tick(&self) -> f64 {
        self.sim.tick() as f64
    }

    /// Simulation time (s).
    pub fn time_s(&self) -> f64 {
        self.sim.time_s()
    }

    /// Whether nothing is left to happen.
    pub fn is_idle(&self) -> bool {
        self.sim.is_idle()
    }

    /// The state hash as 16 hexadecimal digits.
    pub fn state_hash(&self) -> String {
        format!("{:016x}", self.sim.state_hash())
    }

    /// The full state as JSON.
    pub fn snapshot(&self) -> Result<String, JsError> {
        serde_json::to_string(&self.sim.snapshot()).map_err(js_err)
    }

    /// Every missile's display view as a JSON array.
    pub fn missiles(&self) -> Result<String, JsError> {
        let views: Vec<_> = self.sim.missile_views().collect();
        serde_json::to_string(&views).map_err(js_err)
    }

    /// `[id, lat_deg, lon_deg, alt_m, speed_m_s, phase]` per missile, flat (phase: 0 boost,
    /// 1 coast, 2 re-entry, 3 impacted).
    pub fn positions(&mut self) -> Vec<f64> {
        self.sim.write_positions(&mut self.positions);
        self.positions.clone()
    }
}

/// Solves a click-to-launch request. Input JSON: `{"kind": "SCUD-C", "from": {...}, "to":
/// {...}, "profile": "min-energy"}` plus an optional `"physics"`; output: the solution JSON, or
/// an error whose message states the distance and the limit.
#[wasm_bindgen]
pub fn solve_trajectory(request_json: &str) -> Result<String, JsError> {
    #[derive(serde::Deserialize)]
    struct Req {
        #[serde(flatten)]
        request: TargetingRequest,
        #[serde(default)]
        physics: PhysicsParams,
    }
    let req: Req = serde_json::from_str(request_json).map_err(js_err)?;
    let sol = targeting::solve(&req.request, &req.physics).map_err(js_err)?;
    serde_json::to_string(&sol).map_err(js_err)
}

/// The targeting benchmark's requests ([`crate::flight::workload::solve_requests`], the same
/// as the criterion benchmarks `targeting/solve_<CLASS>`), as a JSON array of requests for
/// [`solve_trajectory`]; time those from JavaScript.
#[wasm_bindgen]
pub fn bench_solve_requests() -> String {
    serde_json::to_string(&crate::flight::workload::solve_requests()).unwrap_or_default()
}

/// The crate version.
#[wasm_bindgen]
pub fn version() -> String {
    crate::VERSION.to_string()
}

/// Benchmark workload: flies `missiles` SCUD-C flights for `ticks` ticks (the same code as the
/// criterion benchmark) and returns the number of missile-ticks flown; time it from JavaScript.
#[wasm_bindgen]
pub fn bench_fly_swarm(missiles: u32, ticks: u32) -> f64 {
    let mut swarm = crate::flight::workload::Swarm::new(missiles as usize);
    swarm.fly(ticks) as f64
}

/// Engine benchmark workload (the same code as the criterion benchmark
/// `engine/one_tick_500_scud_c_in_flight`): a salvo of `missiles` SCUD-Cs, all in flight; time
/// [`RaidBenchJs::step`] from JavaScript after [`RaidBenchJs::reset`].
#[wasm_bindgen]
pub struct RaidBenchJs {
    start: crate::flight::workload::Raid,
    raid: crate::flight::workload::Raid,
}

#[wasm_bindgen]
impl RaidBenchJs {
    /// The raid with every round launched (at most 2,000).
    #[wasm_bindgen(constructor)]
    pub fn new(missiles: u32) -> RaidBenchJs {
        let start = crate::flight::workload::Raid::new(missiles.min(2_000) as usize);
        RaidBenchJs {
            raid: start.clone(),
            start,
        }
    }

    /// The raid of the criterion benchmark `engine/one_tick_5000_in_flight`
    /// ([`crate::flight::workload::Raid::spread`]): `missiles` rounds (at most 10,000) 10% to
    /// 95% into their flights, mostly in coast and re-entry.
    pub fn spread(missiles: u32) -> RaidBenchJs {
        let start = crate::flight::workload::Raid::spread(missiles.min(10_000) as usize);
        RaidBenchJs {
            raid: start.clone(),
            start,
        }
    }

    /// Goes back to the moment the raid was set up.
    pub fn reset(&mut self) {
        self.raid = self.start.clone();
    }

    /// Runs `ticks` engine ticks; returns the missile-ticks flown.
    pub fn step(&mut self, ticks: u32) -> f64 {
        self.raid.step(ticks) as f64
    }
}

/// Kill-chain benchmark workload ([`crate::engagement::workload::KillChainWorkload`], the same
/// code as `examples/kill_chain.rs`): build it with [`KillChainBenchJs::new`], then time
/// [`KillChainBenchJs::run_until`] from JavaScript.
#[wasm_bindgen]
pub struct KillChainBenchJs {
    inner: crate::engagement::workload::KillChainWorkload,
}

#[wasm_bindgen]
impl KillChainBenchJs {
    /// `missiles` SCUD-Cs, `radars` radars, `batteries` batteries, seed 1.
    #[wasm_bindgen(constructor)]
    pub fn new(missiles: u32, radars: u32, batteries: u32) -> Result<KillChainBenchJs, JsError> {
        crate::engagement::workload::KillChainWorkload::new(missiles, radars, batteries, 1)
            .map(|inner| KillChainBenchJs { inner })
            .map_err(js_err)
    }

    /// Steps until simulation time `until_s` (or idle); returns the simulated seconds stepped.
    pub fn run_until(&mut self, until_s: f64) -> f64 {
        self.inner.run_until(until_s)
    }

    /// Simulation time (s).
    pub fn time_s(&self) -> f64 {
        self.inner.sim.time_s()
    }

    /// The state hash as 16 hexadecimal digits (as [`WasmSimulation::state_hash`]): after the
    /// same `run_until` calls it is the same natively (`examples/kill_chain.rs` prints it per
    /// window), in Node and in a browser, which shows a timed run was the real workload.
    pub fn state_hash(&self) -> String {
        format!("{:016x}", self.inner.sim.state_hash())
    }

    /// Rounds fired so far by all batteries.
    pub fn rounds_fired(&self) -> u32 {
        self.inner
            .sim
            .defense()
            .batteries
            .iter()
            .map(|b| b.rounds_fired)
            .sum()
    }
}

/// Monte Carlo benchmark: runs `scenario_json` with seeds 1..=`runs` and returns the report as
/// JSON ([`crate::montecarlo::run`]); time it from JavaScript.
#[wasm_bindgen]
pub fn montecarlo_report(scenario_json: &str, runs: u32) -> Result<String, JsError> {
    let scenario = crate::engine::Scenario::from_json(scenario_json).map_err(js_err)?;
    let seeds: Vec<u64> = (1..=u64::from(runs)).collect();
    let report = crate::montecarlo::run(&scenario, &seeds).map_err(js_err)?;
    serde_json::to_string(&report).map_err(js_err)
}

/// Tracker benchmark workload (the same code as the criterion benchmark `tracker`): `objects`
/// objects seen by ten radars, warmed up for 5 s; time [`TrackerBenchJs::process`] from
/// JavaScript after each [`TrackerBenchJs::prepare`].
#[wasm_bindgen]
pub struct TrackerBenchJs(crate::tracking::workload::TrackerBench);

#[wasm_bindgen]
impl TrackerBenchJs {
    /// A warmed-up tracker on `objects` objects.
    #[wasm_bindgen(constructor)]
    pub fn new(objects: u32) -> TrackerBenchJs {
        TrackerBenchJs(crate::tracking::workload::TrackerBench::new(
            objects.min(10_000) as usize,
            None,
            5,
        ))
    }

    /// Generates the next second of scans.
    pub fn prepare(&mut self) {
        self.0.prepare();
    }

    /// Processes them; returns the number of plots.
    pub fn process(&mut self) -> f64 {
        self.0.process_prepared() as f64
    }
}
