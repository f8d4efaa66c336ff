"""Export, import and backup of the archive.

The export format is JSON Lines, one stored log row per line, exactly as stored (`data` is the
stored JSON text, so digests and hashes can be recomputed byte for byte). An import is verified
whole before anything is written: every line must decode, positions must run 1, 2, 3... and the
hash chain must hold; it is then written to a new file beside the target (`DB.importing`),
projections are built, the file is synced and moved into place (os.replace, then the directory
synced), so a refused, failed or killed import leaves the target as it was.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO

import msgspec

from starosta.events.catalog import CATALOG
from starosta.events.chain import GENESIS, chain_hash
from starosta.events.sqlite_store import backup_file, holds_events, seal_file
from starosta.events.store import StoredRow
from starosta.service import accounts

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
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            raise ImportRefused(f"line {number}: not a stored event row: {exc}") from None
        if row.position != position + 1:
            raise ImportRefused(f"line {number}: position {row.position} where {position + 1} was expected")
        try:
            CATALOG.decode(row.type, row.schema_version, row.data)
        except Exception as exc:  # unknown type, bad data: refuse, naming the line
            raise ImportRefused(f"line {number} (position {row.position}): event does not decode: {exc}") from None
        previous = chain_hash(previous, row.digest())
        if previous != row.hash:
            raise ImportRefused(f"line {number} (position {row.position}): hash chain broken: the row "
                                "was changed, or rows are missing or out of order")
        position = row.position
        if progress and position % 10_000 == 0:
            progress(position)
    return position, previous


MAX_LINE_BYTES = 8 * 1024 * 1024  # one stored row: far above any event a request can write


def bounded_lines(f: IO[bytes], limit: int = MAX_LINE_BYTES) -> Iterator[bytes]:
    """Yield the lines of a binary file, refusing (ImportRefused, naming the line) one longer
    than `limit` bytes before reading more of it (so /dev/zero cannot fill the memory)."""
    number = 0
    while True:
        line = f.readline(limit + 1)
        if not line:
            return
        number += 1
        if len(line) > limit:
            raise ImportRefused(f"line {number} is longer than {limit:,} bytes: not an export file")
        yield line


STAGING = ".importing"  # the suffix of the file an import is built in, beside its target
COMPANIONS = ("-wal", "-shm", "-journal")  # SQLite's files beside a database


def import_log(path: str, db: str, progress: Progress | None = None,
               expect_head: str | None = None) -> tuple[int, str]:
    """Import an export file into a new database at `db`; return (count, head hash).

    Refuses (ImportRefused, nothing written) when `db` exists and is not empty (an archive,
    a migrated database with its tokens, another program's file), when a line is bad or too
    long, when the file's head is not `expect_head`, or when another import into `db` is
    running. The work happens in `DB.importing` beside the target, which only a complete,
    synced database replaces `db` from: a killed import leaves the target as it was and that
    file behind (not an archive anyone opens), which the next import clears; a failed one
    removes it. Raises StoreError (StoreUnavailable on a full disk) or OSError when the
    database cannot be written; nothing is written then either.
    """
    from starosta.projections.read_models import default_runner
    from starosta.service.db import open_store

    _refuse_target(db)
    with open(path, "rb") as f:
        count, head = verify_lines(bounded_lines(f), progress)
    if expect_head is not None and head != expect_head:
        raise ImportRefused(f"the file's head is {head} at position {count}, not the expected "
                            f"{expect_head}: it is another archive, or was cut short")
    directory = os.path.dirname(os.path.abspath(db))
    os.makedirs(directory, exist_ok=True)
    staging = db + STAGING
    with _claimed(staging, db) as fd:
        # A staging file: durability comes from the fsyncs and the move below, not each write.
        store = open_store(staging, synchronous="OFF")
        try:
            with open(path, "rb") as f:  # checked whole above: loaded as stored, one transaction
                store.load_rows(_decode_row(line) for line in bounded_lines(f) if line.strip())
            with store.write_transaction() as conn:  # the log's names get their accounts
                accounts.backfill(conn)
            default_runner().ensure(store)
        finally:
            store.close()
        seal_file(staging)  # one self-contained file to move
        os.fsync(fd)
        _refuse_target(db)  # again, just before the move: something may have appeared there
        remove_files(db, COMPANIONS)  # a stale -wal or -journal would be replayed into the import
        os.replace(staging, db)
        sync_directory(directory)
    return count, head


def _refuse_target(db: str) -> None:
    """Raise ImportRefused unless `db` is absent or an empty file."""
    if holds_events(db):
        raise ImportRefused(f"{db} already holds events: import into a new database")
    if os.path.exists(db) and (not os.path.isfile(db) or os.path.getsize(db) > 0):
        raise ImportRefused(f"{db} exists and is not empty: import into a new file (nothing "
                            "there is replaced)")


@contextlib.contextmanager
def _claimed(staging: str, db: str) -> Iterator[int]:
    """Hold `staging` for one import: locked (flock) so that two imports into one target never
    share it, emptied of what a killed import left, removed again (with its companions) if the
    import fails before moving it into place. Yields its file descriptor (to fsync)."""
    fd = os.open(staging, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ImportRefused(f"another import into {db} is running ({staging} is in use): "
                                "wait for it to finish") from None
        except OSError:
            pass  # a file system without flock: one import at a time is then the operator's care
        remove_files(staging, COMPANIONS)  # a killed import's leftovers: never reused
        os.ftruncate(fd, 0)
        try:
            yield fd
        except BaseException:
            remove_files(staging, ("", *COMPANIONS))
            raise
    finally:
        os.close(fd)  # releases the lock


def remove_files(path: str, suffixes: Iterable[str]) -> None:
    """Remove `path` + each suffix that exists ("" for the file itself, COMPANIONS for SQLite's)."""
    for suffix in suffixes:
        Path(path + suffix).unlink(missing_ok=True)


def sync_directory(directory: str) -> None:
    """fsync a directory, so that a rename into it survives a power loss."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def backup(db: str, target: str, progress: Callable[[int, int], None] | None = None) -> None:
    """Copy `db` to `target` with SQLite's online backup API (the service keeps serving).

    Raises FileExistsError when `target` exists.
    """
    backup_file(db, target, progress)
