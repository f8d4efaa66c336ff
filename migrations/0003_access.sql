-- Access tokens: only a sha256 of each token is stored; a token is shown once, at creation.
-- These are operational records, not archive facts, so they live beside the log, not in it.
CREATE TABLE tokens (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,               -- the person using it: the actor of what it writes
    role       TEXT NOT NULL CHECK (role IN ('contributor', 'reviewer', 'admin')),
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);

-- Idempotency-Key answers, scoped to the token and the path; written in the same
-- transaction as the events the first answer appended.
CREATE TABLE idempotency_keys (
    token_id     TEXT NOT NULL,
    path         TEXT NOT NULL,
    key          TEXT NOT NULL,
    body_sha256  TEXT NOT NULL,
    status       INTEGER NOT NULL,
    response     BLOB NOT NULL,
    headers      TEXT NOT NULL DEFAULT '{}',   -- JSON: the first answer's headers (ETag)
    created_at   TEXT NOT NULL,
    PRIMARY KEY (token_id, path, key)
);
