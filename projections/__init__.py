"""What we know now: read models folded from the log, their checkpoints and rebuilds."""
