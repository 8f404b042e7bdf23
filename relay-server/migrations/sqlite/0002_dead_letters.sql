-- Events the database refused (a value it cannot store, such as a NaN time, which SQLite
-- turns into NULL): the writer sets them aside here and goes on, so one bad event never stops
-- the others. `event` is the whole envelope as JSON text (control characters escaped), `code`
-- the database's error code and `error` its message.
CREATE TABLE IF NOT EXISTS dead_letters (
    id INTEGER PRIMARY KEY,
    event_id TEXT NOT NULL UNIQUE,
    room TEXT NOT NULL,
    kind TEXT NOT NULL,
    event TEXT NOT NULL,
    code TEXT,
    error TEXT NOT NULL,
    stored_at TEXT NOT NULL DEFAULT (datetime('now'))
);
