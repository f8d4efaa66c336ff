-- The append-only, hash-chained event log: the only truth of the archive.
CREATE TABLE events (
    position       INTEGER PRIMARY KEY,            -- gap-free, equal to commit order (no deletes, no AUTOINCREMENT gaps)
    event_id       TEXT    NOT NULL UNIQUE,        -- idempotency: a retried append of a stored id writes nothing
    stream_id      TEXT    NOT NULL,
    version        INTEGER NOT NULL CHECK (version >= 1),
    type           TEXT    NOT NULL,               -- the event's stable tag, e.g. 'source.registered'
    schema_version INTEGER NOT NULL CHECK (schema_version >= 1),
    data           TEXT    NOT NULL,               -- the event as msgspec JSON, exactly as hashed
    actor          TEXT,
    request_id     TEXT,
    causation_id   TEXT,
    recorded_at    TEXT    NOT NULL,               -- UTC, RFC 3339 with microseconds, never decreasing
    hash           TEXT    NOT NULL,               -- sha256(previous hash + sha256(canonical row)), hex
    UNIQUE (stream_id, version)
);

CREATE INDEX events_recorded_at ON events (recorded_at);

-- Append-only is enforced by the database itself, for every client (also a plain sqlite3 shell).
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only: UPDATE is refused');
END;

CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only: DELETE is refused');
END;

-- INSERT OR REPLACE deletes the clashing row without firing DELETE triggers (unless a
-- connection sets recursive_triggers): refuse any insert that would clash instead.
CREATE TRIGGER events_no_replace BEFORE INSERT ON events
WHEN EXISTS (SELECT 1 FROM events WHERE position = NEW.position OR event_id = NEW.event_id
             OR (stream_id = NEW.stream_id AND version = NEW.version))
BEGIN
    SELECT RAISE(ABORT, 'events are append-only: an insert may not replace a stored event');
END;
