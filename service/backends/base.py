"""What every storage backend offers (`Backend`), and what the backends share.

A backend is one kind of database (a SQLite file, a PostgreSQL database) behind one object,
chosen once from the database's name (`service.backends.backend_for`). It owns everything that
differs between the kinds: migrations, the event store (events/sqlite_store.py,
events/postgres_store.py), the store that builds read models' tables, the rebuild lock, backup,
import, verification of the chain, the connections token commands and the demo marker read.
Code outside service/backends/ and the two stores asks the backend and never branches on the
kind itself (tests/unit/test_storage_seam.py keeps it so).
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Protocol

from starosta.events.chain import Verdict
from starosta.events.store import Connection, EventStore, Transaction

if TYPE_CHECKING:
    from starosta.projections.runner import Runner

Progress = Callable[[int, int], None]


class ArchiveError(Exception):
    """The database cannot serve the command: none there, not an archive, unreadable, or a
    file that may not be written. The message is one line for a person."""


class NoDatabase(ArchiveError):
    """Nothing is where the database should be (the CLI adds how to create an archive there)."""


class Backend(Protocol):
    """One kind of database, with the URL (or path) of one database of that kind."""

    db: str  # the database as given: a SQLite file's path or a PostgreSQL URL
    errors: tuple[type[BaseException], ...]  # the driver's own errors, for one-line reports
    group_commit_max: int  # the most appends one group commit may hold on this kind

    def where(self) -> str:
        """The database as a message may name it (an absolute path; a URL without secrets)."""
        ...

    def require_archive(self) -> None:
        """Raise ArchiveError, in one line and creating nothing, unless the database exists
        and can be read as one of ours (never waits on a FIFO, never opens a device)."""
        ...

    def migrate(self) -> list[str]:
        """Apply pending migrations (creating a new SQLite file and its directory); return
        them. Raises MigrationError, naming what it found, on another application's database."""
        ...

    def open_event_store(self, *, owner: bool = False, reader: bool = False) -> EventStore:
        """Open the event store alone (no migrations, no read models): as the owner with
        `owner`, only for reading (no write connection: a replica) with `reader`."""
        ...

    def open_store(self, *, synchronous: str = "FULL") -> EventStore:
        """Migrate, then open the event store the service writes through."""
        ...

    def builder(self, store: EventStore) -> contextlib.AbstractContextManager[EventStore]:
        """Yield the store that builds read models' tables for `store` (the owner's)."""
        ...

    def ensure_read_models(self, runner: Runner, on_wait: Callable[[str], None]) -> list[str]:
        """Build the read models whose code version changed, catch up the rest (as the
        service does on start); return those built. `on_wait(reason)` is called once when
        another process's rebuild is awaited. Raises RebuildRunning, StoreError."""
        ...

    def rebuild_lock(self) -> contextlib.AbstractContextManager[None]:
        """Hold the rebuild lock taken before the database is opened (a SQLite file's lock
        file); a no-op where the store takes it (PostgreSQL). Raises RebuildRunning."""
        ...

    def open_builder_store(self) -> EventStore:
        """Migrate, then open the store that may create, drop and rename read models' tables."""
        ...

    def verify(self, expect_head: str | None) -> Verdict:
        """Walk the hash chain read-only. Raises ArchiveError when it cannot be read."""
        ...

    def import_log(self, path: str, progress: Callable[[int], None] | None,
                   expect_head: str | None) -> tuple[int, str]:
        """Import an export file into the new database; return (count, head). Raises
        ImportRefused (nothing written), ArchiveError."""
        ...

    def backup(self, target: str, force: bool, progress: Progress | None) -> str:
        """Copy the database to the file `target` (checked by `writable_target` first), built
        beside it and moved into place; return what was done, in words. Raises ArchiveError."""
        ...

    def admin_connection(self) -> Connection:
        """Migrate, then return an autocommit connection as the owner (tokens)."""
        ...

    def admin_transaction(self) -> contextlib.AbstractContextManager[Transaction]:
        """Hold one write transaction as the owner (tokens, all or none); commit on leaving.
        Raises StoreUnavailable when the database cannot be written."""
        ...

    def read_only(self, *, owner: bool = False) -> contextlib.AbstractContextManager[Connection | None]:
        """Yield a read-only connection, or None when there is no database (nothing created)."""
        ...

    def table_names(self, conn: Connection) -> set[str]:
        """Return the names of the tables of the database `conn` reads (its schema)."""
        ...

    def open_replica(self, read_db: str) -> EventStore:
        """Open the streaming replica `read_db` for reads. Raises ValueError when this kind
        has none."""
        ...


def writable_target(out: str, force: bool) -> None:
    """Refuse, in one line (ArchiveError), a file the CLI is about to write unless it is new or,
    with `force`, a regular file: never a directory, a device, a FIFO or a socket (writing
    there would hang, fill a device, or replace a device node)."""
    try:
        found = os.stat(out)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise ArchiveError(f"cannot write {out}: {exc.strerror}") from None
    if not stat.S_ISREG(found.st_mode):
        raise ArchiveError(f"refusing to write {out}: it is {_kind_of(found.st_mode)}, not a "
                           "regular file; name a new file")
    if not force:
        raise ArchiveError(f"{out} exists: pass --force to replace it")


def _kind_of(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"),
                       (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device")):
        if test(mode):
            return name
    return "not a regular file"


def readable_file(path: str) -> os.stat_result | None:
    """Return the status of the regular file `path`, None when nothing is there; raise
    ArchiveError, in one line, for a directory, a device, a FIFO or a socket."""
    try:
        found = os.stat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ArchiveError(f"cannot read {path}: {exc.strerror}") from None
    if not stat.S_ISREG(found.st_mode):
        raise ArchiveError(f"no archive at {path}: it is {_kind_of(found.st_mode)}, not a "
                           "database file")
    return found


@contextlib.contextmanager
def nothing() -> Iterator[None]:
    yield
