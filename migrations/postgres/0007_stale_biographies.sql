-- Stale biography documents, as ../0008_stale_biographies.sql: a row per survivor whose stored
-- document is older than the log (`since` the first position it does not show, `upto` the last
-- that marked it), written by the writer in the events' transaction and cleared by a settler.
-- The service's role marks and settles.
CREATE TABLE stale_biographies (
    person_id text COLLATE "C" PRIMARY KEY,
    since     bigint NOT NULL,
    upto      bigint NOT NULL
);

REVOKE ALL ON stale_biographies FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON stale_biographies TO starosta_service;
