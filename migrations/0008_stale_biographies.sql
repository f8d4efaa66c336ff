-- Stale biography documents (issue 25): the serving writer does not assemble a person's stored
-- biography in its transaction; it marks the document stale here, in the same transaction as
-- the events that changed it (so the mark is as durable and exact as they are), and a settler
-- thread assembles it from a read snapshot and stores it with a small compare-and-set write
-- (projections/biographies.py: `mark_stale`, `settle_stale`). One row per survivor whose stored
-- document is older than the log: `since` the first position it does not show yet, `upto` the
-- last one that marked it. Bookkeeping of the read model, beside it like the checkpoints (not
-- one of its tables: a rebuild neither swaps nor compares it).
CREATE TABLE stale_biographies (
    person_id TEXT PRIMARY KEY,
    since     INTEGER NOT NULL,
    upto      INTEGER NOT NULL
);
