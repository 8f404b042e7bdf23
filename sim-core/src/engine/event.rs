//! Events: what happened during a tick, for logs, displays, relays and statistics. Each carries
//! its tick and the exact simulation time, and enough data to be drawn without querying the
//! simulation (positions as latitude/longitude/altitude).

use serde::{Deserialize, Serialize};

use crate::earth::GeoPoint;
use crate::engagement::wta::{AlternativeStatus, Doctrine, FireMode};
use crate::engine::MissileId;
use crate::engine::defense::{AssetId, BatteryId, InterceptOutcome, InterceptorId, KillAssessment};
use crate::flight::FlightSummary;
use crate::interceptor::InterceptorKind;
use crate::missile::MissileKind;
use crate::radar::{RadarId, RadarKind};
use crate::targeting::{Profile, TargetingError};
use crate::tracking::{DeletionReason, TrackId};

/// One event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// The tick during which it happened.
    pub tick: u64,
    /// Simulation time at which it happened (s): within `[tick, tick + 1) * TICK_S`, except an
    /// apogee, stamped with its highest sample, which may end the previous tick.
    pub time_s: f64,
    /// What happened.
    #[serde(flatten)]
    pub kind: EventKind,
}

/// The kinds of event. JSON: the variant name in kebab-case under `"type"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum EventKind {
    /// A missile left its launcher; `predicted` is the solved flight it will fly.
    Launch {
        /// New missile's id.
        missile: MissileId,
        /// Its class.
        missile_type: MissileKind,
        /// Its label, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        label: Option<String>,
        /// Launch point.
        from: GeoPoint,
        /// Target.
        to: GeoPoint,
        /// Trajectory shape.
        profile: Profile,
        /// The solved flight.
        predicted: FlightSummary,
        /// Solved miss distance (m).
        predicted_miss_m: f64,
    },
    /// A launch command could not be carried out.
    LaunchRejected {
        /// Class asked for.
        missile_type: MissileKind,
        /// Launch point asked for.
        from: GeoPoint,
        /// Target asked for.
        to: GeoPoint,
        /// One sentence, e.g. the distance and the maximum range.
        reason: String,
        /// The structured error.
        error: TargetingError,
    },
    /// A stage burnt out and separated (also emitted for the last stage before `burnout`).
    StageBurnout {
        /// Missile.
        missile: MissileId,
        /// Stage index, 0 = first.
        stage: u8,
        /// Altitude (m).
        alt_m: f64,
        /// Earth-relative speed (m/s).
        speed_m_s: f64,
    },
    /// Powered flight ended (burnout or thrust cut-off); the RV separated where it does.
    Burnout {
        /// Missile.
        missile: MissileId,
        /// Altitude (m).
        alt_m: f64,
        /// Earth-relative speed (m/s).
        speed_m_s: f64,
        /// Flight-path angle above the horizontal (deg).
        flight_path_angle_deg: f64,
        /// Position.
        at: GeoPoint,
    },
    /// The missile passed its apogee.
    Apogee {
        /// Missile.
        missile: MissileId,
        /// Apogee altitude (m).
        alt_m: f64,
        /// Position.
        at: GeoPoint,
    },
    /// The missile hit the ground.
    Impact {
        /// Missile.
        missile: MissileId,
        /// Impact point.
        at: GeoPoint,
        /// Distance from the aim point (m).
        miss_m: f64,
        /// Time since launch (s).
        flight_time_s: f64,
        /// Earth-relative impact speed (m/s).
        speed_m_s: f64,
    },
    /// A command was refused (bad values, unknown entity, a limit reached); nothing changed.
    Rejected {
        /// The command's type, e.g. `"place-radar"`.
        command: String,
        /// One sentence.
        reason: String,
    },
    /// A radar was placed.
    RadarPlaced {
        /// Its new id.
        radar: RadarId,
        /// Its call sign.
        call_sign: String,
        /// Its class.
        kind: RadarKind,
        /// Antenna position.
        position: GeoPoint,
    },
    /// A radar was moved or turned.
    RadarMoved {
        /// Which radar.
        radar: RadarId,
        /// New antenna position.
        position: GeoPoint,
        /// Boresight azimuth (deg).
        boresight_az_deg: f64,
    },
    /// A radar was removed.
    RadarRemoved {
        /// Which radar.
        radar: RadarId,
    },
    /// A radar plot: a true echo or a false alarm, as the radar measured it. Carries the old
    /// `radar.detection` fields (`radar_id`, `snr`, `lat`, `lon`; `ts` is the event time).
    Detection {
        /// The radar.
        radar: RadarId,
        /// The radar's call sign (the old `radar_id`).
        radar_id: String,
        /// The track this plot updated or started (the command center's id for the object;
        /// the old `missile_id`), `None` when the tracker used it for nothing.
        missile_id: Option<TrackId>,
        /// The missile that caused the echo, `None` for a false alarm. Truth, kept for scoring
        /// and display only: the tracker never sees it.
        truth: Option<MissileId>,
        /// Signal-to-noise ratio of the look (dB).
        snr: f64,
        /// Latitude of the measured point (deg).
        lat: f64,
        /// Longitude of the measured point (deg).
        lon: f64,
        /// Height of the measured point (m).
        alt_m: f64,
        /// Measured slant range (m).
        range_m: f64,
        /// Measured azimuth (deg clockwise from north).
        azimuth_deg: f64,
        /// Measured elevation (deg).
        elevation_deg: f64,
    },
    /// A track reached M-of-N confirmation: the command center now believes in an object.
    TrackConfirmed {
        /// The track.
        track: TrackId,
        /// Time of its first plot (s).
        first_detection_s: f64,
        /// First plot to confirmation (s): the old `correlation_latency_seconds`.
        latency_s: f64,
        /// Radars that had updated it.
        radars: Vec<RadarId>,
        /// Estimated position at confirmation.
        at: Option<GeoPoint>,
        /// Estimated height at confirmation (m).
        alt_m: Option<f64>,
    },
    /// A track was dropped.
    TrackDeleted {
        /// The track.
        track: TrackId,
        /// Why.
        reason: DeletionReason,
        /// Whether it had been confirmed.
        was_confirmed: bool,
        /// From its first plot to now (s).
        lifetime_s: f64,
    },
    /// A battery was placed.
    BatteryPlaced {
        /// Its new id.
        battery: BatteryId,
        /// Its call sign.
        call_sign: String,
        /// Interceptor type.
        kind: InterceptorKind,
        /// Position.
        position: GeoPoint,
        /// Rounds.
        rounds: u32,
    },
    /// A battery was removed (its interceptors in flight fly on).
    BatteryRemoved {
        /// Which battery.
        battery: BatteryId,
    },
    /// A defended asset was placed.
    AssetPlaced {
        /// Its new id.
        asset: AssetId,
        /// Its name.
        name: String,
        /// Centre.
        position: GeoPoint,
        /// Value.
        value: f64,
        /// Radius (m).
        radius_m: f64,
    },
    /// A defended asset was removed.
    AssetRemoved {
        /// Which asset.
        asset: AssetId,
    },
    /// The fire doctrine changed.
    DoctrineSet {
        /// The new doctrine.
        doctrine: Doctrine,
    },
    /// Command and control ordered an engagement: the decision and its explanation. Carries
    /// the old `command.intercept` fields (`missile_id`, `battery_call_sign`, `fire_ts`,
    /// `blast_radius`).
    EngagementOrdered {
        /// The track engaged (the old `missile_id`: the command center's id for the object).
        missile_id: TrackId,
        /// The chosen battery.
        battery: BatteryId,
        /// Its call sign.
        battery_call_sign: String,
        /// Launch time (s).
        fire_ts: f64,
        /// Lethal radius of the interceptor (m).
        blast_radius: f64,
        /// Rounds ordered.
        rounds: u32,
        /// Salvo, or the first shot of shoot-look-shoot.
        mode: FireMode,
        /// Estimated single-shot Pk.
        pk: f64,
        /// Estimated kill probability of the engagement.
        pk_engagement: f64,
        /// Planned intercept time (s).
        intercept_s: f64,
        /// Predicted impact time of the threat (s).
        impact_s: f64,
        /// Predicted impact point of the threat.
        impact_at: GeoPoint,
        /// The asset threatened, by name.
        asset: Option<String>,
        /// Every battery considered, with intercept time, Pk and why it was not chosen.
        alternatives: Vec<AlternativeView>,
        /// Every other battery on the map, with the command center's reason for having no
        /// option on this threat (absent from events written before it existed).
        #[serde(default)]
        unused: Vec<UnusedBattery>,
    },
    /// An interceptor left its launcher; the battery's round is spent now.
    InterceptorLaunched {
        /// The interceptor.
        interceptor: InterceptorId,
        /// Its battery.
        battery: BatteryId,
        /// The battery's call sign.
        battery_call_sign: String,
        /// Interceptor type.
        kind: InterceptorKind,
        /// The track it is fired at.
        missile_id: TrackId,
        /// Rounds left in the battery after this launch.
        rounds_left: u32,
    },
    /// An interceptor's flight ended: kill or miss. Carries the old `interceptor.detonation`
    /// fields (`missile_id`, `blast_ts`, `blast_radius`).
    Intercept {
        /// The interceptor.
        interceptor: InterceptorId,
        /// Its battery.
        battery: BatteryId,
        /// The battery's call sign.
        battery_call_sign: String,
        /// The track it was fired at (the old `missile_id`).
        missile_id: TrackId,
        /// The missile its seeker locked on to (truth, for scoring and display).
        target: Option<MissileId>,
        /// Whether the target was killed.
        kill: bool,
        /// How the flight ended.
        outcome: InterceptOutcome,
        /// The track's error when the seeker took over: distance between the track estimate
        /// guiding the interceptor and the true missile at seeker lock (m; truth, for scoring);
        /// absent when the seeker never acquired.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        handover_error_m: Option<f64>,
        /// Miss distance (m): closest approach to the target, or to any missile when there
        /// was no end game.
        miss_m: f64,
        /// Kill probability the draw was compared with (0 without an end game).
        pk: f64,
        /// Altitude of the interceptor at the end (m).
        alt_m: f64,
        /// Position of the interceptor at the end.
        at: GeoPoint,
        /// Time of detonation or closest approach (s).
        blast_ts: f64,
        /// Lethal radius (m).
        blast_radius: f64,
    },
    /// Command and control assessed, from the sensors, whether the interceptors fired at a
    /// track killed it (`engine::defense` module doc); a survivor may be engaged again.
    KillAssessment {
        /// The track (the old `missile_id`).
        missile_id: TrackId,
        /// Time of the last intercept assessed (s).
        intercept_s: f64,
        /// The assessment.
        assessment: KillAssessment,
    },
    /// A leaker hit a defended asset (follows its `impact` event).
    AssetHit {
        /// The missile.
        missile: MissileId,
        /// The asset.
        asset: AssetId,
        /// Its name.
        name: String,
        /// Distance from the asset's centre (m).
        distance_m: f64,
    },
}

/// A battery that offered no engagement option for a threat, and the command center's reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnusedBattery {
    /// Battery.
    pub battery: BatteryId,
    /// Its call sign.
    pub battery_call_sign: String,
    /// Why it had no option.
    pub reason: Unused,
}

/// Why a battery had no engagement option for a threat, in the order the command center tests:
/// readiness, then the envelope on the threat's predicted path, then the firing rules.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "why", rename_all = "kebab-case")]
pub enum Unused {
    /// Switched off (not ready).
    NotReady,
    /// No rounds left.
    NoRounds,
    /// Every launcher is reloading.
    Reloading,
    /// The threat's predicted path never enters the type's planning altitude band.
    OutsideAltitudeBand,
    /// Inside the band, the predicted path stays beyond the type's range.
    OutOfRange,
    /// The interceptor cannot reach any point of the envelope in time.
    TooLate,
    /// The prediction was unusable for this battery.
    NoPrediction,
    /// Its earliest launch is after this command and control pass: it may engage later.
    NotYet {
        /// The earliest launch time (s).
        launch_s: f64,
    },
    /// The fly-out to its earliest intercept is longer than the command center plans with.
    FlyOutTooLong {
        /// The fly-out (s).
        flyout_s: f64,
        /// The longest planned fly-out for the type (s).
        max_s: f64,
    },
}

impl std::fmt::Display for Unused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unused::NotReady => write!(f, "not ready"),
            Unused::NoRounds => write!(f, "no rounds left"),
            Unused::Reloading => write!(f, "every launcher reloading"),
            Unused::OutsideAltitudeBand => {
                write!(f, "the predicted path never enters its altitude band")
            }
            Unused::OutOfRange => write!(f, "the predicted path stays out of its range"),
            Unused::TooLate => write!(f, "its interceptor cannot get there in time"),
            Unused::NoPrediction => write!(f, "no usable prediction of the threat"),
            Unused::NotYet { launch_s } => {
                write!(f, "its launch window opens later, at T+{launch_s:.1} s")
            }
            Unused::FlyOutTooLong { flyout_s, max_s } => write!(
                f,
                "a {flyout_s:.0} s fly-out, longer than the {max_s:.0} s it plans with"
            ),
        }
    }
}

/// One alternative of an engagement decision, as shown to the user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlternativeView {
    /// Battery.
    pub battery: BatteryId,
    /// Its call sign.
    pub battery_call_sign: String,
    /// Earliest intercept time (s).
    pub intercept_s: f64,
    /// Single-shot Pk.
    pub pk: f64,
    /// Chosen, or why not.
    pub status: AlternativeStatus,
}
