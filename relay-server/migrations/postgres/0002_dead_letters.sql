-- Events the database refused (a value it cannot store, such as a NUL character in a JSON
-- string, which jsonb refuses): the writer sets them aside here and goes on, so one bad event
-- never stops the others. `event` is the whole envelope as JSON text (control characters
-- escaped, so the text itself is always storable), `code` the SQLSTATE and `error` the
-- message.
CREATE TABLE IF NOT EXISTS dead_letters (
    id BIGSERIAL PRIMARY KEY,
    event_id TEXT NOT NULL UNIQUE,
    room TEXT NOT NULL,
    kind TEXT NOT NULL,
    event TEXT NOT NULL,
    code TEXT,
    error TEXT NOT NULL,
    stored_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
