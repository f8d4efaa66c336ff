-- A per-row nonce (issue 18): 16 random bytes as 32 lowercase hex digits, hashed after the other
-- columns (events/chain.py), so that the digest a redacted row shows cannot be matched offline
-- against guessed content; shown only with the row itself. Rows stored before keep none (NULL)
-- and keep their old canonical bytes: the chain verifies as before. Adding a column fires no
-- trigger: the stored rows are not changed.
ALTER TABLE events ADD COLUMN nonce TEXT
    CHECK (nonce IS NULL OR (length(nonce) = 32 AND nonce NOT GLOB '*[^0-9a-f]*'));
