"""Export, import and backup of the archive.

The export format is JSON Lines, one stored log row per line, exactly as stored (`data` is the
stored JSON text, so digests and hashes can be recomputed byte for byte). An import is verified
whole before anything is written: every line must decode, positions must run 1, 2, 3... and the
hash chain must hold; it is then written to a new file beside the target (`DB.importing`),
projections are built, the file is synced and moved into place (os.replace, then the directory
synced), so a refused, failed or killed import leaves the target as it was.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO

import msgspec

from starosta.events.catalog import CATALOG
from starosta.events.chain import GENESIS, chain_hash
from starosta.events.store import StoredRow

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
    """Import an export file into the new database `db` (a SQLite file or a PostgreSQL URL);
    return (count, head hash). Every line is checked and the chain verified before anything is
    written; refused (ImportRefused, nothing written) when `db` already holds an archive or
    anything else, when a line is bad or too long, when the file's head is not `expect_head`.
    Raises ArchiveError, StoreError or OSError when the database cannot be written; nothing is
    written then either. The backend's `import_log` says how each kind is written."""
    from starosta.service.backends import backend_for

    return backend_for(db).import_log(path, progress, expect_head)


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
