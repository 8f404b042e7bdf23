//! `mdsim`: the missile defense simulator on the command line.
//!
//! Output is a readable table, or JSON with `--json` (fields documented in `docs/cli.md`).
//! Errors are one line on stderr and a non-zero exit: 2 for bad input, 3 for a target the
//! missile cannot reach, 4 for a flight that cannot be followed, 1 for I/O failures.

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use serde::Serialize;
use serde_json::json;
use sim_core::Simulation;
use sim_core::earth::{EarthParams, EarthShape, GeoPoint};
use sim_core::engine::{EventKind, Scenario, TICK_HZ, TICK_S};
use sim_core::flight::{Flight, FlightSample, Guidance, PhysicsParams};
use sim_core::missile::MissileKind;
use sim_core::scoring::{ScoreReport, Scorer, ScoringParams};
use sim_core::targeting::{self, Profile, TargetingRequest};

/// The missile defense simulator on the command line.
#[derive(Debug, Parser)]
#[command(name = "mdsim", version = sim_core::VERSION, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print the version of the simulation core.
    Version,
    /// Print the range of every number and the rules of every text a scenario, a command or a
    /// link may hold (the table of docs/ranges.md).
    Limits,
    /// List the missile catalog (or recompute each type's maximum range with --compute).
    Catalog {
        /// Recompute maximum range, its pitch, apogee and flight time with the flight model.
        #[arg(long)]
        compute: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Solve a click-to-launch flight (--missile --from --to) or fly free from a burnout state
    /// (--burnout-speed --angle).
    Trajectory(TrajectoryArgs),
    /// Run a scenario file to the end and print each missile's fate.
    Run {
        /// Scenario file (JSON, see docs/scenario.md).
        scenario: std::path::PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Print the event stream as NDJSON (one event per line) instead of the summary.
        #[arg(long)]
        events: bool,
        /// Stop after this much simulation time (s).
        #[arg(long, value_parser = parse_duration, default_value = "20000")]
        max_time_s: f64,
    },
    /// Run a scenario over many seeds in parallel and print leak probability, interceptors
    /// spent, kills per interceptor, asset hits and intercept altitudes.
    Montecarlo {
        /// Scenario file (JSON, see docs/scenario.md).
        scenario: std::path::PathBuf,
        /// Number of runs (seeds base, base + 1, ...).
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
        runs: u32,
        /// Worker threads (default: available parallelism); the report does not depend on it.
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=256))]
        threads: Option<u32>,
        /// Base seed (default: the scenario's seed).
        #[arg(long)]
        seed: Option<u64>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Share links: encode a scenario (or a session with commands) as a link, or decode one.
    #[command(subcommand)]
    Link(LinkCommand),
}

#[derive(Debug, Subcommand)]
enum LinkCommand {
    /// Print the link of a scenario file or session document (JSON, see docs/scenario.md).
    Encode {
        /// Scenario file or session document; `-` reads standard input.
        scenario: std::path::PathBuf,
        /// Print a full URL, BASE followed by `#s=<link>` (e.g. https://host/).
        #[arg(long, value_name = "URL")]
        base: Option<String>,
    },
    /// Print the scenario (or session) a link carries, as JSON.
    Decode {
        /// The link (`1.…`), the fragment (`#s=1.…`) or the whole URL.
        link: String,
    },
}

#[derive(Debug, Args)]
struct TrajectoryArgs {
    /// Missile type (SCUD-B, SCUD-C, NODONG, IRBM, ICBM). In free flight: the body whose drag
    /// applies (default SCUD-C).
    #[arg(long, value_parser = MissileKind::parse)]
    missile: Option<MissileKind>,
    /// Launch point LAT,LON in degrees (free flight: the start point, default 0,0).
    #[arg(long, value_name = "LAT,LON", value_parser = parse_point, allow_hyphen_values = true)]
    from: Option<GeoPoint>,
    /// Target LAT,LON in degrees.
    #[arg(long, value_name = "LAT,LON", value_parser = parse_point, allow_hyphen_values = true)]
    to: Option<GeoPoint>,
    /// Trajectory shape: min-energy (default), lofted or depressed.
    #[arg(long, value_parser = Profile::parse)]
    profile: Option<Profile>,
    /// Free flight: Earth-relative burnout speed (m/s).
    #[arg(long, value_parser = parse_speed, allow_hyphen_values = true)]
    burnout_speed: Option<f64>,
    /// Free flight: flight-path angle above the local horizontal (deg).
    #[arg(long, value_parser = parse_angle, allow_hyphen_values = true)]
    angle: Option<f64>,
    /// Free flight: burnout altitude (m), default 0.
    #[arg(long, value_parser = parse_altitude, allow_hyphen_values = true)]
    altitude: Option<f64>,
    /// Free flight: azimuth, clockwise from north (deg), default 0 (north).
    #[arg(long, value_parser = parse_azimuth, allow_hyphen_values = true)]
    azimuth: Option<f64>,
    /// No atmosphere (no drag).
    #[arg(long)]
    vacuum: bool,
    /// The Earth does not rotate.
    #[arg(long)]
    no_rotation: bool,
    /// Spherical Earth of radius 6,371.0 km with point-mass gravity (no ellipsoid, no J2).
    #[arg(long)]
    spherical: bool,
    /// Include about N evenly spaced samples of the path.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    samples: Option<u32>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

fn finite(s: &str, what: &str) -> Result<f64, String> {
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("{what} '{s}' is not a number"))?;
    if !v.is_finite() {
        return Err(format!("{what} must be a finite number, got {s}"));
    }
    Ok(v)
}

fn parse_point(s: &str) -> Result<GeoPoint, String> {
    let (lat, lon) = s
        .split_once(',')
        .ok_or_else(|| format!("expected LAT,LON in degrees, got '{s}'"))?;
    let p = GeoPoint::new(finite(lat, "latitude")?, finite(lon, "longitude")?);
    p.validate()?;
    Ok(p)
}

fn parse_speed(s: &str) -> Result<f64, String> {
    let v = finite(s, "speed")?;
    if v <= 0.0 || v >= 11_000.0 {
        return Err(format!(
            "burnout speed must be positive and below escape speed (11,000 m/s), got {v}"
        ));
    }
    Ok(v)
}

fn parse_angle(s: &str) -> Result<f64, String> {
    let v = finite(s, "angle")?;
    if !(-90.0..=90.0).contains(&v) {
        return Err(format!(
            "flight-path angle must be within ±90 degrees, got {v}"
        ));
    }
    Ok(v)
}

fn parse_azimuth(s: &str) -> Result<f64, String> {
    let v = finite(s, "azimuth")?;
    if !(-360.0..=360.0).contains(&v) {
        return Err(format!("azimuth must be within ±360 degrees, got {v}"));
    }
    Ok(v)
}

fn parse_altitude(s: &str) -> Result<f64, String> {
    let v = finite(s, "altitude")?;
    if !(0.0..=5_000_000.0).contains(&v) {
        return Err(format!(
            "altitude must be between 0 and 5,000,000 m, got {v}"
        ));
    }
    Ok(v)
}

fn parse_duration(s: &str) -> Result<f64, String> {
    let v = finite(s, "time")?;
    if !(0.0..=1.0e6).contains(&v) {
        return Err(format!("time must be between 0 and 1,000,000 s, got {v}"));
    }
    Ok(v)
}

/// A failure: one line for stderr and an exit code.
struct Failure(u8, String);

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion)
                || matches!(
                    e.kind(),
                    ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
                )
            {
                let _ = e.print();
                return if e.exit_code() == 0 {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(2)
                };
            }
            let text = e.to_string();
            let line = text.lines().next().unwrap_or("error: invalid arguments");
            eprintln!("mdsim: {}", line.trim_start_matches("error: "));
            return ExitCode::from(2);
        }
    };
    let result = match cli.command {
        Command::Version => {
            println!("mdsim {}", sim_core::VERSION);
            Ok(())
        }
        Command::Limits => {
            print!("{}", sim_core::limits::markdown_rows());
            Ok(())
        }
        Command::Catalog { compute, json } => catalog(compute, json),
        Command::Trajectory(a) => trajectory(a),
        Command::Run {
            scenario,
            json,
            events,
            max_time_s,
        } => run(&scenario, json, events, max_time_s),
        Command::Montecarlo {
            scenario,
            runs,
            threads,
            seed,
            json,
        } => montecarlo(&scenario, runs, threads, seed, json),
        Command::Link(LinkCommand::Encode { scenario, base }) => link_encode(&scenario, base),
        Command::Link(LinkCommand::Decode { link }) => link_decode(&link),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(code, line)) => {
            eprintln!("mdsim: {line}");
            ExitCode::from(code)
        }
    }
}

fn print_json<T: Serialize>(v: &T) {
    println!(
        "{}",
        serde_json::to_string_pretty(v).expect("output is always serialisable")
    );
}

fn catalog(compute: bool, json: bool) -> Result<(), Failure> {
    let mut rows = Vec::new();
    for t in sim_core::missile::catalog::catalog() {
        let mut row = json!({
            "missile": t.kind,
            "description": t.description,
            "stages": t.stages.len(),
            "launch_mass_kg": t.launch_mass_kg(),
            "burn_time_s": t.total_burn_time_s(),
            "max_range_m": t.max_range_m,
            "min_range_m": t.min_range_m,
            "max_range_pitch_deg": t.max_range_pitch_deg,
            "rcs_m2": t.rcs_m2,
            "public_range": t.public.range,
            "public_apogee_and_time": t.public.apogee_and_time,
            "sources": t.public.sources,
        });
        if compute {
            let (pitch, s) = targeting::max_range(t.kind);
            row["computed"] = json!({
                "max_range_pitch_deg": pitch,
                "max_range_m": s.range_m,
                "apogee_alt_m": s.apogee_alt_m,
                "flight_time_s": s.flight_time_s,
                "burnout_speed_m_s": s.burnout.map(|b| b.speed_m_s),
                "burnout_alt_m": s.burnout.map(|b| b.alt_m),
                "burnout_angle_deg": s.burnout.map(|b| b.flight_path_angle_deg),
                "impact_speed_m_s": s.impact_speed_m_s,
            });
        }
        rows.push(row);
    }
    if json {
        print_json(&rows);
        return Ok(());
    }
    for r in &rows {
        println!(
            "{:<7} {:>5.0} kg  max range {:>6.0} km  min {:>5.0} km  pitch {:>5.2} deg  public: {}",
            r["missile"].as_str().unwrap_or(""),
            r["launch_mass_kg"].as_f64().unwrap_or(0.0),
            r["max_range_m"].as_f64().unwrap_or(0.0) / 1000.0,
            r["min_range_m"].as_f64().unwrap_or(0.0) / 1000.0,
            r["max_range_pitch_deg"].as_f64().unwrap_or(0.0),
            r["public_range"].as_str().unwrap_or(""),
        );
        if let Some(c) = r.get("computed") {
            println!(
                "        computed: max range {:.1} km at pitch {:.2} deg, apogee {:.1} km, flight {:.1} s, burnout {:.0} m/s",
                c["max_range_m"].as_f64().unwrap_or(0.0) / 1000.0,
                c["max_range_pitch_deg"].as_f64().unwrap_or(0.0),
                c["apogee_alt_m"].as_f64().unwrap_or(0.0) / 1000.0,
                c["flight_time_s"].as_f64().unwrap_or(0.0),
                c["burnout_speed_m_s"].as_f64().unwrap_or(0.0),
            );
        }
    }
    Ok(())
}

fn physics_of(a: &TrajectoryArgs) -> PhysicsParams {
    PhysicsParams {
        earth: EarthParams {
            shape: if a.spherical {
                EarthShape::Sphere
            } else {
                EarthShape::Wgs84
            },
            rotation: !a.no_rotation,
        },
        atmosphere: !a.vacuum,
    }
}

/// Re-flies a flight with about `n` samples; the first flight tells how long it lasts.
fn samples_of(
    start: &Flight,
    physics: &PhysicsParams,
    flight_time_s: f64,
    n: u32,
) -> Vec<FlightSample> {
    let ticks = (flight_time_s / TICK_S).ceil().max(1.0) as u64;
    let every = ticks.div_ceil(u64::from(n)).max(1) as u32;
    let mut f = start.clone();
    f.fly_to_impact(physics, Some(every))
        .map(|(_, s)| s)
        .unwrap_or_default()
}

fn trajectory(a: TrajectoryArgs) -> Result<(), Failure> {
    let physics = physics_of(&a);
    let bad = |m: &str| Err(Failure(2, m.to_string()));
    if let Some(speed) = a.burnout_speed {
        let Some(angle) = a.angle else {
            return bad("free flight needs --angle DEG with --burnout-speed");
        };
        if a.to.is_some() || a.profile.is_some() {
            return bad("--to and --profile apply to targeted flights, not to --burnout-speed");
        }
        let kind = a.missile.unwrap_or(MissileKind::ScudC);
        let from = a.from.unwrap_or(GeoPoint::new(0.0, 0.0));
        let altitude = a.altitude.unwrap_or(0.0);
        let azimuth = a.azimuth.unwrap_or(0.0);
        let start = Flight::free(kind, from, altitude, speed, angle, azimuth, &physics);
        let mut f = start.clone();
        let (s, _) = f
            .fly_to_impact(&physics, None)
            .map_err(|e| Failure(4, e.to_string()))?;
        let kepler = (a.spherical && a.vacuum && a.no_rotation && altitude == 0.0 && angle > 0.0)
            .then(|| {
                let r = sim_core::earth::SPHERE_RADIUS_M;
                let k = sim_core::flight::kepler::free_flight(
                    sim_core::earth::WGS84_MU_M3_S2,
                    r,
                    speed,
                    angle.to_radians(),
                );
                json!({
                    "range_m": k.range_angle_rad * r,
                    "apogee_alt_m": k.apogee_radius_m - r,
                    "flight_time_s": k.time_of_flight_s,
                })
            });
        let samples = a
            .samples
            .map(|n| samples_of(&start, &physics, s.flight_time_s, n));
        let out = json!({
            "mode": "free-flight",
            "body": kind,
            "physics": physics,
            "from": from,
            "altitude_m": altitude,
            "azimuth_deg": azimuth,
            "burnout_speed_m_s": speed,
            "burnout_angle_deg": angle,
            "range_m": s.range_m,
            "apogee_alt_m": s.apogee_alt_m,
            "apogee_time_s": s.apogee_time_s,
            "flight_time_s": s.flight_time_s,
            "impact": s.impact,
            "impact_speed_m_s": s.impact_speed_m_s,
            "impact_angle_deg": s.impact_angle_deg,
            "kepler": kepler,
            "samples": samples,
        });
        if a.json {
            print_json(&out);
        } else {
            println!(
                "free flight of a {kind} body from {:.4},{:.4} at {altitude:.0} m, azimuth {azimuth:.1} deg",
                from.lat_deg, from.lon_deg
            );
            println!("burnout speed      {speed:.1} m/s at {angle:.2} deg");
            println!("range              {:.3} km", s.range_m / 1000.0);
            println!(
                "apogee             {:.3} km at {:.1} s",
                s.apogee_alt_m / 1000.0,
                s.apogee_time_s
            );
            println!("time of flight     {:.2} s", s.flight_time_s);
            println!(
                "impact             {:.5},{:.5} at {:.0} m/s, {:.1} deg",
                s.impact.lat_deg, s.impact.lon_deg, s.impact_speed_m_s, s.impact_angle_deg
            );
            if let Some(k) = &kepler {
                println!(
                    "kepler (closed form) range {:.3} km, apogee {:.3} km, time {:.2} s",
                    k["range_m"].as_f64().unwrap_or(0.0) / 1000.0,
                    k["apogee_alt_m"].as_f64().unwrap_or(0.0) / 1000.0,
                    k["flight_time_s"].as_f64().unwrap_or(0.0)
                );
            }
            print_samples(samples.as_deref());
        }
        return Ok(());
    }
    if a.angle.is_some() || a.altitude.is_some() || a.azimuth.is_some() {
        return bad("--angle, --altitude and --azimuth need --burnout-speed");
    }
    let (Some(kind), Some(from), Some(to)) = (a.missile, a.from, a.to) else {
        return bad(
            "give --missile TYPE --from LAT,LON --to LAT,LON (or --burnout-speed and --angle)",
        );
    };
    let profile = a.profile.unwrap_or_default();
    let req = TargetingRequest {
        kind,
        from,
        to,
        profile,
    };
    let sol = targeting::solve(&req, &physics).map_err(|e| {
        let code = match e {
            targeting::TargetingError::InvalidInput { .. } => 2,
            targeting::TargetingError::NotConverged { .. } => 4,
            _ => 3,
        };
        Failure(code, e.to_string())
    })?;
    let s = sol.summary;
    let samples = a.samples.map(|n| {
        samples_of(
            &Flight::launch(kind, from, sol.guidance, &physics),
            &physics,
            s.flight_time_s,
            n,
        )
    });
    let out = json!({
        "mode": "targeted",
        "missile": kind,
        "profile": profile,
        "physics": physics,
        "from": from,
        "to": to,
        "distance_m": sol.distance_m,
        "azimuth_deg": sol.azimuth_deg,
        "range_m": s.range_m,
        "apogee_alt_m": s.apogee_alt_m,
        "apogee_time_s": s.apogee_time_s,
        "flight_time_s": s.flight_time_s,
        "burnout": s.burnout,
        "impact": s.impact,
        "impact_speed_m_s": s.impact_speed_m_s,
        "impact_angle_deg": s.impact_angle_deg,
        "miss_m": sol.miss_m,
        "guidance": sol.guidance,
        "flights_flown": sol.flights_flown,
        "coarse_flights_flown": sol.coarse_flights_flown,
        "samples": samples,
    });
    if a.json {
        print_json(&out);
        return Ok(());
    }
    println!(
        "{kind} {} flight from {:.4},{:.4} to {:.4},{:.4}",
        profile.name(),
        from.lat_deg,
        from.lon_deg,
        to.lat_deg,
        to.lon_deg
    );
    println!(
        "distance           {:.3} km, launch azimuth {:.3} deg",
        sol.distance_m / 1000.0,
        sol.azimuth_deg
    );
    println!("range              {:.3} km", s.range_m / 1000.0);
    println!(
        "apogee             {:.3} km at {:.1} s",
        s.apogee_alt_m / 1000.0,
        s.apogee_time_s
    );
    println!("time of flight     {:.2} s", s.flight_time_s);
    if let Some(b) = s.burnout {
        println!(
            "burnout            {:.1} m/s at {:.2} deg, {:.1} km, {:.2} s",
            b.speed_m_s,
            b.flight_path_angle_deg,
            b.alt_m / 1000.0,
            b.time_s
        );
    }
    println!(
        "impact             {:.5},{:.5} at {:.0} m/s, {:.1} deg",
        s.impact.lat_deg, s.impact.lon_deg, s.impact_speed_m_s, s.impact_angle_deg
    );
    println!(
        "miss distance      {:.2} m ({} engine and {} coarse flights solved)",
        sol.miss_m, sol.flights_flown, sol.coarse_flights_flown
    );
    print_samples(samples.as_deref());
    Ok(())
}

fn print_samples(samples: Option<&[FlightSample]>) {
    if let Some(samples) = samples {
        println!(
            "{:>9} {:>10} {:>11} {:>10} {:>9}  phase",
            "time_s", "lat_deg", "lon_deg", "alt_km", "speed"
        );
        for p in samples {
            println!(
                "{:>9.1} {:>10.5} {:>11.5} {:>10.3} {:>9.1}  {:?}",
                p.time_s,
                p.lat_deg,
                p.lon_deg,
                p.alt_m / 1000.0,
                p.speed_m_s,
                p.phase
            );
        }
    }
}

/// The readable sensing and tracking part of `mdsim run`.
fn print_sensing(score: &ScoreReport) {
    let opt = |v: Option<f64>, unit: &str| v.map_or("-".to_string(), |x| format!("{x:.1}{unit}"));
    if !score.radars.is_empty() {
        println!("radars:");
    }
    for r in &score.radars {
        let firsts: Vec<String> = r
            .first_detection_after_launch_s
            .iter()
            .map(|(m, t)| format!("{m} +{t:.1} s"))
            .collect();
        println!(
            "  {:<12} {:>6} plots {:>5} false  first detection: {}",
            r.call_sign,
            r.detections,
            r.false_alarms,
            if firsts.is_empty() {
                "none".to_string()
            } else {
                firsts.join(", ")
            }
        );
    }
    if score.radars.is_empty() {
        return;
    }
    println!("tracking:");
    for m in &score.missiles {
        let tracks: Vec<String> = m.tracks.iter().map(ToString::to_string).collect();
        let impact: Vec<String> = m
            .impact_errors
            .iter()
            .map(|e| format!("T-{:.0}s {}", e.before_impact_s, opt(e.error_m, " m")))
            .collect();
        println!(
            "  {}  detected +{}  confirmed +{}  tracks [{}]  RMSE {} / {} (after burnout {} / {})  impact error {}",
            m.missile,
            opt(m.first_detection_after_launch_s, " s"),
            opt(m.confirmed_after_launch_s, " s"),
            tracks.join(" "),
            opt(m.position_rmse_m, " m"),
            opt(m.velocity_rmse_m_s, " m/s"),
            opt(m.ballistic_position_rmse_m, " m"),
            opt(m.ballistic_velocity_rmse_m_s, " m/s"),
            if impact.is_empty() {
                "-".to_string()
            } else {
                impact.join(", ")
            }
        );
    }
    println!(
        "  {} confirmed tracks, {} false ({:.1}%, longest {:.1} s), {} never confirmed; min purity {:.1}%; OSPA mean {} (once all detected {})",
        score.confirmed_tracks,
        score.false_tracks,
        100.0 * score.false_track_ratio,
        score.max_false_track_lifetime_s,
        score.unconfirmed_tracks,
        100.0 * score.min_purity,
        opt(score.ospa_mean_m, " m"),
        opt(score.ospa_tracked_mean_m, " m"),
    );
}

fn load_scenario(path: &std::path::Path) -> Result<Scenario, Failure> {
    let meta = std::fs::metadata(path)
        .map_err(|e| Failure(1, format!("cannot read {}: {e}", path.display())))?;
    if meta.len() > sim_core::engine::MAX_SCENARIO_BYTES as u64 {
        return Err(Failure(
            2,
            format!("{} is larger than the scenario size limit", path.display()),
        ));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure(1, format!("cannot read {}: {e}", path.display())))?;
    Scenario::from_json(&text).map_err(|e| Failure(2, format!("{}: {e}", path.display())))
}

/// Reads a file (or standard input for `-`) of at most the scenario size limit.
fn read_limited(path: &std::path::Path) -> Result<String, Failure> {
    use std::io::Read as _;
    let limit = sim_core::engine::MAX_SCENARIO_BYTES as u64;
    let name = path.display();
    let mut text = String::new();
    let read = if path.as_os_str() == "-" {
        std::io::stdin().take(limit + 1).read_to_string(&mut text)
    } else {
        std::fs::File::open(path).and_then(|f| f.take(limit + 1).read_to_string(&mut text))
    };
    read.map_err(|e| Failure(1, format!("cannot read {name}: {e}")))?;
    if text.len() as u64 > limit {
        return Err(Failure(
            2,
            format!("{name} is larger than the scenario size limit"),
        ));
    }
    Ok(text)
}

fn link_encode(path: &std::path::Path, base: Option<String>) -> Result<(), Failure> {
    let text = read_limited(path)?;
    let session = sim_core::link::Session::from_json(&text)
        .map_err(|e| Failure(2, format!("{}: {e}", path.display())))?;
    let link = session.to_link();
    match base {
        None => println!("{link}"),
        Some(base) => {
            // Whatever fragment the base had is replaced by the link's.
            let base = base.split('#').next().unwrap_or_default();
            println!("{base}#{}", sim_core::link::fragment(&link));
        }
    }
    Ok(())
}

fn link_decode(link: &str) -> Result<(), Failure> {
    let session =
        sim_core::link::Session::from_link(link).map_err(|e| Failure(2, e.to_string()))?;
    println!("{}", session.to_json_pretty());
    Ok(())
}

/// Runs `runs` seeds on `threads` std threads: each thread takes every k-th seed, the outcomes
/// are put back in seed order before aggregation, so the report is the same for any thread
/// count.
fn montecarlo(
    path: &std::path::Path,
    runs: u32,
    threads: Option<u32>,
    seed: Option<u64>,
    json_out: bool,
) -> Result<(), Failure> {
    use sim_core::montecarlo;
    let scenario = load_scenario(path)?;
    let base = seed.unwrap_or(scenario.seed);
    let k = threads
        .map(|t| t as usize)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .clamp(1, runs as usize);
    let started = std::time::Instant::now();
    let mut outcomes: Vec<montecarlo::RunOutcome> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..k)
            .map(|w| {
                let scenario = &scenario;
                s.spawn(move || {
                    (w..runs as usize)
                        .step_by(k)
                        .map(|i| montecarlo::run_one(scenario, base.wrapping_add(i as u64)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a Monte Carlo worker panicked"))
            .collect()
    });
    let wall_s = started.elapsed().as_secs_f64();
    let index = |o: &montecarlo::RunOutcome| o.seed.wrapping_sub(base);
    outcomes.sort_by_key(index);
    let report = montecarlo::aggregate(&outcomes).map_err(|e| Failure(2, e))?;
    if json_out {
        print_json(&json!({
            "scenario": scenario.name, "base_seed": base, "threads": k,
            "wall_s": wall_s, "runs_per_s": f64::from(runs) / wall_s, "report": report,
        }));
        return Ok(());
    }
    println!(
        "scenario '{}': {} runs (seeds {}..{}), {} threads, {:.1} s, {:.1} runs/s",
        scenario.name,
        runs,
        base,
        base.wrapping_add(u64::from(runs) - 1),
        k,
        wall_s,
        f64::from(runs) / wall_s
    );
    match &report.leak {
        Some(l) => println!(
            "leak probability {:.3} (95% CI {:.3}-{:.3}): {} of {} threatening missiles",
            l.estimate, l.low, l.high, l.successes, l.trials
        ),
        None => println!("no missile threatened a defended asset"),
    }
    println!(
        "interceptors per run {:.2} (95% CI {:.2}-{:.2}), kills per interceptor {:.3}, open-country impacts {}",
        report.interceptors_mean,
        report.interceptors_ci95.0,
        report.interceptors_ci95.1,
        report.kills_per_interceptor,
        report.open_country
    );
    for a in &report.asset_hits {
        println!(
            "asset '{}': {} hits ({:.3} per run)",
            a.name, a.hits, a.per_run
        );
    }
    if let Some(a) = &report.intercept_altitude_m {
        println!(
            "intercept altitude: mean {:.1} km, 5% {:.1}, median {:.1}, 95% {:.1} km ({} kills)",
            a.mean / 1000.0,
            a.p05 / 1000.0,
            a.median / 1000.0,
            a.p95 / 1000.0,
            a.count
        );
    }
    if let Some(h) = &report.handover_error_m {
        println!(
            "track error at seeker handover: mean {:.0} m, median {:.0}, 95% {:.0} m ({} interceptors)",
            h.mean, h.median, h.p95, h.count
        );
    }
    Ok(())
}

fn run(
    path: &std::path::Path,
    json_out: bool,
    events_out: bool,
    max_time_s: f64,
) -> Result<(), Failure> {
    let scenario = load_scenario(path)?;
    let mut sim = Simulation::from_scenario(&scenario);
    let max_ticks = (max_time_s * f64::from(TICK_HZ)).ceil() as u64;
    let mut all = Vec::new();
    let mut scorer = Scorer::new(ScoringParams::default());
    // bounded: max_ticks, from the --until time or the scenario's limit.
    while !sim.is_idle() && sim.tick() < max_ticks {
        let ev = sim.step(&[]);
        if events_out {
            for e in &ev {
                println!("{}", serde_json::to_string(e).expect("events serialise"));
            }
        }
        scorer.observe(&sim, &ev);
        // Plots are many; the summary only needs the scorer's tally of them.
        all.extend(
            ev.into_iter()
                .filter(|e| !matches!(e.kind, EventKind::Detection { .. })),
        );
    }
    let score = scorer.report(sim.time_s());
    if events_out {
        return Ok(());
    }
    let mut missiles = Vec::new();
    let mut rejected = Vec::new();
    let mut engagements = Vec::new();
    for e in &all {
        match &e.kind {
            EventKind::Launch {
                missile,
                missile_type,
                label,
                from,
                to,
                profile,
                predicted,
                predicted_miss_m,
            } => {
                missiles.push(json!({
                    "id": missile, "missile_type": missile_type, "label": label,
                    "launch_time_s": e.time_s, "from": from, "to": to, "profile": profile,
                    "predicted_range_m": predicted.range_m, "predicted_miss_m": predicted_miss_m,
                    "apogee_alt_m": null, "fate": "in-flight", "impact": null,
                }));
            }
            EventKind::LaunchRejected {
                missile_type,
                from,
                to,
                reason,
                ..
            } => {
                rejected.push(json!({
                    "time_s": e.time_s, "missile_type": missile_type, "from": from, "to": to, "reason": reason,
                }));
            }
            EventKind::Apogee { missile, alt_m, .. } => {
                if let Some(m) = missiles.iter_mut().find(|m| m["id"] == json!(missile)) {
                    m["apogee_alt_m"] = json!(alt_m);
                }
            }
            EventKind::Intercept {
                kill: true,
                target: Some(target),
                alt_m,
                battery_call_sign,
                ..
            } => {
                if let Some(m) = missiles.iter_mut().find(|m| m["id"] == json!(target)) {
                    m["fate"] = json!("intercepted");
                    m["intercept"] = json!({
                        "time_s": e.time_s, "alt_m": alt_m, "battery": battery_call_sign,
                    });
                }
            }
            EventKind::AssetHit { missile, name, .. } => {
                if let Some(m) = missiles.iter_mut().find(|m| m["id"] == json!(missile)) {
                    m["fate"] = json!("leaked");
                    m["asset_hit"] = json!(name);
                }
            }
            EventKind::EngagementOrdered {
                missile_id,
                battery_call_sign,
                rounds,
                mode,
                pk_engagement,
                intercept_s,
                asset,
                alternatives,
                unused,
                ..
            } => engagements.push(json!({
                "time_s": e.time_s, "track": missile_id, "battery": battery_call_sign,
                "rounds": rounds, "mode": mode, "pk_engagement": pk_engagement,
                "intercept_s": intercept_s, "asset": asset, "alternatives": alternatives,
                "unused": unused,
            })),
            EventKind::Impact {
                missile,
                at,
                miss_m,
                flight_time_s,
                speed_m_s,
            } => {
                if let Some(m) = missiles.iter_mut().find(|m| m["id"] == json!(missile)) {
                    m["fate"] = json!("impact-open-country");
                    m["impact"] = json!({
                        "time_s": e.time_s, "at": at, "miss_m": miss_m,
                        "flight_time_s": flight_time_s, "speed_m_s": speed_m_s,
                    });
                }
            }
            _ => {}
        }
    }
    let batteries: Vec<serde_json::Value> = sim
        .defense()
        .batteries
        .iter()
        .map(|u| {
            json!({
                "call_sign": u.battery.call_sign, "kind": u.battery.kind,
                "rounds_fired": u.rounds_fired, "rounds_left": u.battery.rounds,
            })
        })
        .collect();
    let out = json!({
        "scenario": scenario.name,
        "ticks": sim.tick(),
        "time_s": sim.time_s(),
        "state_hash": format!("{:016x}", sim.state_hash()),
        "missiles": missiles,
        "rejected": rejected,
        "batteries": batteries,
        "engagements": engagements,
        "radars": score.radars,
        "tracking": {
            "missiles": score.missiles,
            "tracks": score.tracks,
            "confirmed_tracks": score.confirmed_tracks,
            "false_tracks": score.false_tracks,
            "false_track_ratio": score.false_track_ratio,
            "max_false_track_lifetime_s": score.max_false_track_lifetime_s,
            "unconfirmed_tracks": score.unconfirmed_tracks,
            "min_purity": score.min_purity,
            "ospa_mean_m": score.ospa_mean_m,
            "ospa_tracked_mean_m": score.ospa_tracked_mean_m,
        },
    });
    if json_out {
        print_json(&out);
        return Ok(());
    }
    println!(
        "scenario '{}': {} ticks ({:.1} s), state hash {:016x}",
        scenario.name,
        sim.tick(),
        sim.time_s(),
        sim.state_hash()
    );
    for m in &missiles {
        let imp = &m["impact"];
        println!(
            "M{:<4} {:<7} launched {:>7.1} s  {}  {}",
            m["id"],
            m["missile_type"].as_str().unwrap_or(""),
            m["launch_time_s"].as_f64().unwrap_or(0.0),
            m["fate"].as_str().unwrap_or(""),
            if imp.is_null() {
                String::new()
            } else {
                format!(
                    "at {:.4},{:.4} t={:.1} s, miss {:.1} m, apogee {:.1} km",
                    imp["at"]["lat_deg"].as_f64().unwrap_or(0.0),
                    imp["at"]["lon_deg"].as_f64().unwrap_or(0.0),
                    imp["time_s"].as_f64().unwrap_or(0.0),
                    imp["miss_m"].as_f64().unwrap_or(0.0),
                    m["apogee_alt_m"].as_f64().unwrap_or(0.0) / 1000.0
                )
            }
        );
    }
    for b in &batteries {
        println!(
            "battery {:<10} {:<6} fired {:>4}, left {:>4}",
            b["call_sign"].as_str().unwrap_or(""),
            b["kind"].as_str().unwrap_or(""),
            b["rounds_fired"],
            b["rounds_left"]
        );
    }
    for g in &engagements {
        println!(
            "engagement at {:.1} s: track {} by {} ({} round(s), {}, Pk {:.2}, intercept at {:.1} s, defending {})",
            g["time_s"].as_f64().unwrap_or(0.0),
            g["track"],
            g["battery"].as_str().unwrap_or(""),
            g["rounds"],
            g["mode"].as_str().unwrap_or(""),
            g["pk_engagement"].as_f64().unwrap_or(0.0),
            g["intercept_s"].as_f64().unwrap_or(0.0),
            g["asset"].as_str().unwrap_or("-"),
        );
    }
    for r in &rejected {
        println!(
            "rejected at {:.1} s: {}",
            r["time_s"].as_f64().unwrap_or(0.0),
            r["reason"].as_str().unwrap_or("")
        );
    }
    print_sensing(&score);
    let _ = Guidance::toward_azimuth;
    Ok(())
}
