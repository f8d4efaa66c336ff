-- Each projection's checkpoint: the last log position applied to its tables, the version of
-- the code that built them (another version is rebuilt from position 0), and the generation
-- of its tables (each rebuild builds generation + 1 beside the live tables, then swaps).
CREATE TABLE projection_checkpoints (
    name       TEXT    PRIMARY KEY,
    version    INTEGER NOT NULL,
    position   INTEGER NOT NULL DEFAULT 0 CHECK (position >= 0),
    generation INTEGER NOT NULL DEFAULT 0
);
