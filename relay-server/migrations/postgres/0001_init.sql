-- The old system's schema (missile, battery and radar types; batteries; radar sites; missile
-- flights with launch and target as geography points, SRID 4326), extended with rooms,
-- events keyed by event id (JSON payload, geography where the event has a place) and
-- scenarios behind short links.
CREATE EXTENSION IF NOT EXISTS postgis;

CREATE TABLE IF NOT EXISTS missile_type (
    name TEXT PRIMARY KEY,
    speed_mps DOUBLE PRECISION,
    blast_m DOUBLE PRECISION,
    max_range_m DOUBLE PRECISION,
    min_range_m DOUBLE PRECISION,
    description TEXT
);
CREATE TABLE IF NOT EXISTS battery_type (
    name TEXT PRIMARY KEY,
    max_range_m DOUBLE PRECISION,
    max_speed_mps DOUBLE PRECISION,
    blast_m DOUBLE PRECISION
);
CREATE TABLE IF NOT EXISTS radar_type (
    name TEXT PRIMARY KEY,
    max_range_m DOUBLE PRECISION,
    sweep_rate_deg DOUBLE PRECISION,
    revisit_s DOUBLE PRECISION
);
CREATE TABLE IF NOT EXISTS battery (
    id BIGSERIAL PRIMARY KEY,
    type TEXT NOT NULL REFERENCES battery_type (name),
    geom geography(Point, 4326) NOT NULL,
    ammo_count INTEGER NOT NULL,
    call_sign TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS radar_site (
    id BIGSERIAL PRIMARY KEY,
    type TEXT NOT NULL REFERENCES radar_type (name),
    geom geography(Point, 4326) NOT NULL,
    call_sign TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS room (
    id TEXT PRIMARY KEY,
    -- Whether commands need the room's token; NULL when the room was first seen in an event.
    private BOOLEAN,
    first_seen TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS event (
    event_id TEXT PRIMARY KEY,
    room TEXT NOT NULL REFERENCES room (id),
    tick BIGINT NOT NULL,
    idx INTEGER NOT NULL,
    type TEXT NOT NULL,
    time_s DOUBLE PRECISION NOT NULL,
    geom geography(Point, 4326),
    payload JSONB NOT NULL,
    stored_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS event_room_tick ON event (room, tick);
CREATE TABLE IF NOT EXISTS missile_flight (
    event_id TEXT PRIMARY KEY REFERENCES event (event_id),
    room TEXT NOT NULL REFERENCES room (id),
    missile_id TEXT NOT NULL,
    type TEXT NOT NULL,
    launch_tick BIGINT NOT NULL,
    launch_time_s DOUBLE PRECISION NOT NULL,
    launch_geom geography(Point, 4326) NOT NULL,
    target_geom geography(Point, 4326) NOT NULL,
    trajectory geography(LineString, 4326),
    destroyed BOOLEAN NOT NULL DEFAULT false
);
CREATE INDEX IF NOT EXISTS missile_flight_room ON missile_flight (room, missile_id);
CREATE TABLE IF NOT EXISTS scenario (
    id TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
