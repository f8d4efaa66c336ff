-- The append-only, hash-chained event log on PostgreSQL: the columns, keys and guards of
-- ../0001_event_log.sql (SQLite), in PostgreSQL's words. Run by the owner's role (the one that
-- migrates, rebuilds and imports); the service runs as a member of starosta_service, which may
-- only INSERT and SELECT here. Positions, hashes and recorded_at are computed by the store
-- under pg_advisory_xact_lock (events/postgres_store.py): no sequence, no defaults.
CREATE TABLE events (
    position       bigint  PRIMARY KEY CHECK (position >= 1),  -- gap-free, equal to commit order
    event_id       text    NOT NULL UNIQUE,        -- idempotency: a retried append writes nothing
    stream_id      text    NOT NULL,
    version        integer NOT NULL CHECK (version >= 1),
    type           text    NOT NULL,               -- the event's stable tag
    schema_version integer NOT NULL CHECK (schema_version >= 1),
    data           text    NOT NULL,               -- msgspec JSON exactly as hashed (not jsonb,
                                                   -- which would rewrite the bytes)
    actor          text,
    request_id     text,
    causation_id   text,
    -- UTC, RFC 3339 with microseconds; "C" collation so that stamps compare as the strings
    -- they are on SQLite, whatever the database's locale
    recorded_at    text COLLATE "C" NOT NULL,
    hash           text    NOT NULL,               -- sha256(previous hash + sha256(canonical row))
    UNIQUE (stream_id, version)
);

CREATE INDEX events_recorded_at ON events (recorded_at);

-- Append-only is enforced by the database itself, for every client, the owner included.
-- Statement-level triggers fire even when no row matches, and also for the UPDATE of an
-- INSERT ... ON CONFLICT DO UPDATE and the actions of a MERGE; a TRUNCATE fires no row trigger,
-- so it has its own. (A superuser can still bypass triggers, e.g. with
-- session_replication_role = replica: `starosta verify` against a published head finds that.)
CREATE FUNCTION events_refuse_rewrite() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events are append-only: % is refused', TG_OP
        USING HINT = 'stored events are never changed: append a correcting event instead';
END
$$;

CREATE TRIGGER events_no_update BEFORE UPDATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_refuse_rewrite();

CREATE TRIGGER events_no_delete BEFORE DELETE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_refuse_rewrite();

CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_refuse_rewrite();

-- The service's role: INSERT and SELECT on events, nothing else (no UPDATE, DELETE, TRUNCATE,
-- REFERENCES or TRIGGER). It is a group role without login; an operator gives the service a
-- login of its own in it, once per cluster:
--     CREATE ROLE starosta_app LOGIN PASSWORD '...' IN ROLE starosta_service;
-- Creating it here needs CREATEROLE; a DBA may create it beforehand instead (then the owner
-- needs no CREATEROLE). Roles are cluster-wide: archives in several databases of one cluster
-- share it.
REVOKE ALL ON events FROM PUBLIC;

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'starosta_service') THEN
        BEGIN
            CREATE ROLE starosta_service NOLOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;  -- created meanwhile by a migration of another database
        END;
    END IF;
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO starosta_service', current_schema());
END
$$;

GRANT SELECT, INSERT ON events TO starosta_service;
