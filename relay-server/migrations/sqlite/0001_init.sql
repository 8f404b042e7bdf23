-- The same tables as migrations/postgres/0001_init.sql; points are (lat, lon) columns in
-- degrees (WGS 84) and JSON payloads are text.
CREATE TABLE IF NOT EXISTS missile_type (
    name TEXT PRIMARY KEY,
    speed_mps REAL,
    blast_m REAL,
    max_range_m REAL,
    min_range_m REAL,
    description TEXT
);
CREATE TABLE IF NOT EXISTS battery_type (
    name TEXT PRIMARY KEY,
    max_range_m REAL,
    max_speed_mps REAL,
    blast_m REAL
);
CREATE TABLE IF NOT EXISTS radar_type (
    name TEXT PRIMARY KEY,
    max_range_m REAL,
    sweep_rate_deg REAL,
    revisit_s REAL
);
CREATE TABLE IF NOT EXISTS battery (
    id INTEGER PRIMARY KEY,
    type TEXT NOT NULL REFERENCES battery_type (name),
    lat REAL NOT NULL,
    lon REAL NOT NULL,
    ammo_count INTEGER NOT NULL,
    call_sign TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS radar_site (
    id INTEGER PRIMARY KEY,
    type TEXT NOT NULL REFERENCES radar_type (name),
    lat REAL NOT NULL,
    lon REAL NOT NULL,
    call_sign TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS room (
    id TEXT PRIMARY KEY,
    -- Whether commands need the room's token; NULL when the room was first seen in an event.
    private INTEGER,
    first_seen TEXT NOT NULL DEFAULT (datetime('now'))
);
CREATE TABLE IF NOT EXISTS event (
    event_id TEXT PRIMARY KEY,
    room TEXT NOT NULL REFERENCES room (id),
    tick INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    type TEXT NOT NULL,
    time_s REAL NOT NULL,
    lat REAL,
    lon REAL,
    payload TEXT NOT NULL,
    stored_at TEXT NOT NULL DEFAULT (datetime('now'))
);
CREATE INDEX IF NOT EXISTS event_room_tick ON event (room, tick);
CREATE TABLE IF NOT EXISTS missile_flight (
    event_id TEXT PRIMARY KEY REFERENCES event (event_id),
    room TEXT NOT NULL REFERENCES room (id),
    missile_id TEXT NOT NULL,
    type TEXT NOT NULL,
    launch_tick INTEGER NOT NULL,
    launch_time_s REAL NOT NULL,
    launch_lat REAL NOT NULL,
    launch_lon REAL NOT NULL,
    target_lat REAL NOT NULL,
    target_lon REAL NOT NULL,
    -- The flown path as WKT: LINESTRING(lon lat, ...).
    trajectory TEXT,
    destroyed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS missile_flight_room ON missile_flight (room, missile_id);
CREATE TABLE IF NOT EXISTS scenario (
    id TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (datetime('now'))
);
