"""Export, import and backup of the archive.

The export format is JSON Lines, one stored log row per line, exactly as stored (`data` is the
stored JSON text, so digests and hashes can be recomputed byte for byte). An import is verified
whole before anything is written: every line must decode, positions must run 1, 2, 3... and the
hash chain must hold; it is then written to a new file beside the target, projections are built,
and the file is moved into place, so a refused import writes nothing.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import msgspec

from starosta.events.catalog import CATALOG
from starosta.events.chain import GENESIS, HASHED_COLUMNS, chain_hash, row_digest
from starosta.events.store import StoredRow, connect

_encode_row = msgspec.json.Encoder().encode
_decode_row = msgspec.json.Decoder(StoredRow).decode
Progress = Callable[[int], None]


class ImportRefused(Exception):
    """The file cannot be imported; nothing was written. The message names the line."""


def export_log(store_rows: Iterator[StoredRow], out: IO[bytes], progress: Progress | None = None) -> int:
    """Write rows as JSON Lines (streamed); return how many."""
    n = 0
    for row in store_rows:
        out.write(_encode_row(row))
        out.write(b"\n")
        n += 1
        if progress and n % 10_000 == 0:
            progress(n)
    return n


def verify_lines(lines: Iterator[bytes], progress: Progress | None = None) -> tuple[int, str]:
    """Check every line of an export; return (count, head hash). Raise ImportRefused."""
    previous, position = GENESIS, 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = _decode_row(line)
        except msgspec.DecodeError as exc:
            raise ImportRefused(f"line {number}: not a stored event row: {exc}") from None
        if row.position != position + 1:
            raise ImportRefused(f"line {number}: position {row.position} where {position + 1} was expected")
        try:
            CATALOG.decode(row.type, row.schema_version, row.data)
        except Exception as exc:  # unknown type, bad data: refuse, naming the line
            raise ImportRefused(f"line {number} (position {row.position}): event does not decode: {exc}") from None
        previous = chain_hash(previous, row_digest(tuple(getattr(row, c) for c in HASHED_COLUMNS)))
        if previous != row.hash:
            raise ImportRefused(f"line {number} (position {row.position}): hash chain broken: the row "
                                "was changed, or rows are missing or out of order")
        position = row.position
        if progress and position % 10_000 == 0:
            progress(position)
    return position, previous


def import_log(path: str, db: str, progress: Progress | None = None) -> tuple[int, str]:
    """Import an export file into a new database at `db`; return (count, head hash).

    Refuses (ImportRefused, nothing written) when `db` already holds events or any line is bad.
    The work happens in `DB.importing` beside the target; an interrupted import leaves that
    file behind, and the next import replaces it.
    """
    from starosta.service.archive import default_runner
    from starosta.service.db import migrate
    from starosta.events.store import SQLiteEventStore

    if os.path.exists(db):
        conn = sqlite3.connect(db)
        try:
            has = conn.execute("SELECT name FROM sqlite_master WHERE name = 'events'").fetchone()
            if has and conn.execute("SELECT 1 FROM events LIMIT 1").fetchone():
                raise ImportRefused(f"{db} already holds events: import into a new database")
        finally:
            conn.close()
    with open(path, "rb") as f:
        count, head = verify_lines(iter(f), progress)
    staging = f"{db}.importing"
    for suffix in ("", "-wal", "-shm"):
        Path(staging + suffix).unlink(missing_ok=True)
    migrate(staging)
    conn = connect(staging, synchronous="OFF")  # a staging file: durability comes from the final move
    conn.execute("PRAGMA cache_size = -65536")
    columns = ", ".join((*HASHED_COLUMNS, "hash"))
    marks = ",".join("?" * (len(HASHED_COLUMNS) + 1))
    # The file was checked whole above and the staging file is private: the insert-time guard
    # against replacing rows (3 lookups a row) is dropped for the bulk load and put back after.
    guard = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'events_no_replace'").fetchone()
    with open(path, "rb") as f:
        conn.execute("BEGIN IMMEDIATE")
        if guard:
            conn.execute("DROP TRIGGER events_no_replace")
        batch = []
        for line in f:
            if line.strip():
                row = _decode_row(line)
                batch.append(tuple(getattr(row, c) for c in (*HASHED_COLUMNS, "hash")))
            if len(batch) >= 10_000:
                conn.executemany(f"INSERT INTO events ({columns}) VALUES ({marks})", batch)
                batch.clear()
        conn.executemany(f"INSERT INTO events ({columns}) VALUES ({marks})", batch)
        if guard:
            conn.execute(guard[0])
        conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    store = SQLiteEventStore(staging, CATALOG, synchronous="OFF")  # durability: fsync + move below
    default_runner().ensure(store)
    store.close()
    checkpoint = sqlite3.connect(staging)
    checkpoint.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    checkpoint.execute("PRAGMA journal_mode = DELETE")  # one self-contained file to move
    checkpoint.close()
    with open(staging, "rb") as f:
        os.fsync(f.fileno())
    for suffix in ("-wal", "-shm"):
        Path(db + suffix).unlink(missing_ok=True)
    os.makedirs(os.path.dirname(os.path.abspath(db)), exist_ok=True)
    os.replace(staging, db)
    return count, head


def backup(db: str, target: str, progress: Callable[[int, int], None] | None = None) -> None:
    """Copy `db` to `target` with SQLite's online backup API (the service keeps serving)."""
    if os.path.exists(target):
        raise FileExistsError(f"{target} exists: back up to a new file")
    source = sqlite3.connect(f"file:{os.path.abspath(db)}?mode=ro", uri=True)
    dest = sqlite3.connect(target)
    try:
        source.backup(dest, pages=1024,
                      progress=(lambda status, remaining, total: progress(total - remaining, total))
                      if progress else None)
        dest.execute("PRAGMA journal_mode = WAL")
    finally:
        dest.close()
        source.close()
