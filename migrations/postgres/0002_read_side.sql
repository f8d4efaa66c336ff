-- Beside the log, as on SQLite (../0002_projection_checkpoints.sql, ../0003_access.sql): each
-- read model's checkpoint, the access tokens (a sha256 of each) and the Idempotency-Key
-- answers, in PostgreSQL's words. Text compares bytewise (COLLATE "C") as SQLite's does, so
-- that ORDER BY agrees on both backends. The read models' own tables are created by the
-- owner's rebuild (projections/runner.py), which grants the service's role their rows.
CREATE TABLE projection_checkpoints (
    name       text COLLATE "C" PRIMARY KEY,
    version    bigint NOT NULL,
    position   bigint NOT NULL DEFAULT 0 CHECK (position >= 0),
    generation bigint NOT NULL DEFAULT 0
);

CREATE TABLE tokens (
    id         text COLLATE "C" PRIMARY KEY,
    name       text COLLATE "C" NOT NULL,   -- the person using it: the actor of what it writes
    role       text COLLATE "C" NOT NULL CHECK (role IN ('contributor', 'reviewer', 'admin')),
    token_hash text COLLATE "C" NOT NULL UNIQUE,
    created_at text COLLATE "C" NOT NULL,
    revoked_at text COLLATE "C"
);

-- Written in the same transaction as the events the first answer appended. `response` is the
-- answer's JSON (text: SQLite keeps it as a blob of the same UTF-8 bytes).
CREATE TABLE idempotency_keys (
    token_id     text COLLATE "C" NOT NULL,
    path         text COLLATE "C" NOT NULL,
    key          text COLLATE "C" NOT NULL,
    body_sha256  text COLLATE "C" NOT NULL,
    status       bigint NOT NULL,
    response     text COLLATE "C" NOT NULL,
    headers      text COLLATE "C" NOT NULL DEFAULT '{}',
    created_at   text COLLATE "C" NOT NULL,
    PRIMARY KEY (token_id, path, key)
);

-- The service's role advances checkpoints (rebuilds, which insert them, run as the owner),
-- reads tokens (the owner's `starosta token` commands write them) and stores answers.
REVOKE ALL ON projection_checkpoints, tokens, idempotency_keys FROM PUBLIC;
GRANT SELECT, UPDATE ON projection_checkpoints TO starosta_service;
GRANT SELECT ON tokens TO starosta_service;
GRANT SELECT, INSERT ON idempotency_keys TO starosta_service;
