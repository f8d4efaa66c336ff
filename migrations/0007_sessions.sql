-- Browser sessions (issue 24): a contributor or reviewer signs in once with their token and gets
-- a session cookie. Operational, like tokens: beside the log, never published nor exported.
-- Only a sha256 of each session id is stored (a copy of this table signs nobody in); each row
-- names the token it was opened with, which is checked again on every request (a revoked token's
-- sessions are anonymous at once). A table, not a process's memory, so that several servers
-- share the sessions.
CREATE TABLE sessions (
    id_hash    TEXT PRIMARY KEY,              -- sha256 of the session id the cookie carries
    token_id   TEXT NOT NULL,                 -- the token signed in with (tokens.id)
    created_at TEXT NOT NULL,
    seen_at    TEXT NOT NULL,
    expires_at TEXT NOT NULL                  -- past it, the cookie signs nobody in
);
CREATE INDEX sessions_by_token ON sessions (token_id);
