-- What the archive is, beside the log (../0004_archive_meta.sql, in PostgreSQL's words): one row
-- per kind; `starosta demo` writes `kind = 'demo'`, as the owner, only into an empty schema. The
-- service's role reads it (`starosta serve` keeps a demo archive on loopback).
CREATE TABLE archive_meta (
    kind        text COLLATE "C" PRIMARY KEY,
    value       text COLLATE "C" NOT NULL,
    recorded_at text COLLATE "C" NOT NULL
);

REVOKE ALL ON archive_meta FROM PUBLIC;
GRANT SELECT ON archive_meta TO starosta_service;
