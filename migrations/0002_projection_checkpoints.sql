-- Each projection's checkpoint: the last log position applied to its tables, and the
-- version of the code that built them (a new version is rebuilt from position 0).
CREATE TABLE projection_checkpoints (
    name     TEXT    PRIMARY KEY,
    version  INTEGER NOT NULL,
    position INTEGER NOT NULL DEFAULT 0 CHECK (position >= 0)
);
