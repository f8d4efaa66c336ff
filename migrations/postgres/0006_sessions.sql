-- Browser sessions, as ../0007_sessions.sql: a sha256 of each session id, the token it was opened
-- with (checked again on every request), when it was opened, last seen and expires. Beside the
-- log, never published nor exported; shared by every server of the archive. The service's role
-- opens, touches and closes sessions.
CREATE TABLE sessions (
    id_hash    text COLLATE "C" PRIMARY KEY,
    token_id   text COLLATE "C" NOT NULL,
    created_at text COLLATE "C" NOT NULL,
    seen_at    text COLLATE "C" NOT NULL,
    expires_at text COLLATE "C" NOT NULL
);
CREATE INDEX sessions_by_token ON sessions (token_id);

REVOKE ALL ON sessions FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON sessions TO starosta_service;
