-- What the archive is, beside the log: one row per kind. `starosta demo` writes `kind = 'demo'`
-- (value 'loading', then 'loaded') in the transaction that creates the demo's public tokens, and
-- only into a new file; `starosta serve` reads it to print a banner and keep a demo on loopback.
-- An operational record, like the tokens: not an archive fact, so not in the chained log.
CREATE TABLE archive_meta (
    kind        TEXT PRIMARY KEY,
    value       TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
