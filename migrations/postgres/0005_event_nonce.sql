-- A per-row nonce, as ../0006_event_nonce.sql: 16 random bytes as 32 lowercase hex digits,
-- hashed after the other columns; rows stored before keep none (NULL) and their old bytes.
-- ADD COLUMN without a default rewrites no row and fires no trigger.
ALTER TABLE events ADD COLUMN nonce text COLLATE "C"
    CHECK (nonce IS NULL OR nonce ~ '^[0-9a-f]{32}$');
