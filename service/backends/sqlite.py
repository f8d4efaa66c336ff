"""The SQLite backend: one archive in one file (WAL mode), its migrations, store and flows."""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec
from starosta.events import sqlite_store
from starosta.events.catalog import CATALOG
from starosta.events.chain import Verdict
from starosta.events.sqlite_store import SQLiteEventStore, connect, translated_errors
from starosta.events.store import (
    Connection,
    EventStore,
    StoredRow,
    StoreError,
    Transaction,
)
from starosta.service.backends.base import (
    ArchiveError,
    NoDatabase,
    Progress,
    readable_file,
)

from starosta import migrations

if TYPE_CHECKING:
    from starosta.projections.runner import Runner

SQLITE_HEADER = b"SQLite format 3\x00"


class SQLiteBackend:
    """The archive in the SQLite file `db`."""

    errors: tuple[type[BaseException], ...] = (sqlite3.Error,)
    group_commit_max = sys.maxsize  # one transaction, one fsync, however many appends

    def __init__(self, db: str) -> None:
        self.db = db

    def where(self) -> str:
        return os.path.abspath(self.db)

    # -- what is at the path -------------------------------------------------------------

    def _sqlite_file(self) -> bool:
        """Return False when nothing is at the path, True for a file that starts as SQLite's
        does (or is empty); raise ArchiveError for anything else (a directory, a FIFO, a
        device, a file of another format or cut shorter than its header)."""
        found = readable_file(self.db)
        if found is None:
            return False
        if found.st_size == 0:
            return True
        try:
            with open(self.db, "rb") as f:
                header = f.read(len(SQLITE_HEADER))
        except OSError as exc:
            raise ArchiveError(f"cannot read {self.db}: {exc.strerror}") from None
        if header != SQLITE_HEADER:
            raise ArchiveError(f"no archive at {self.db}: the file is not a SQLite database"
                               + (" (it is shorter than a SQLite header: truncated?)"
                                  if len(header) < len(SQLITE_HEADER) else ""))
        return True

    def require_archive(self) -> None:
        if not self._sqlite_file():
            raise NoDatabase(f"no database at {self.db}")
        if os.path.getsize(self.db) == 0:
            raise ArchiveError(f"no archive at {self.db}: the file is empty")
        conn = sqlite3.connect(f"file:{os.path.abspath(self.db)}?mode=ro", uri=True)
        try:
            tables = {r[0] for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') "
                "AND name NOT LIKE 'sqlite_%'")}
        except sqlite3.DatabaseError as exc:
            raise ArchiveError(f"cannot read {self.db}: {exc} (a damaged or truncated file?)") from None
        finally:
            conn.close()
        if migrations.BOOKKEEPING not in tables:
            raise ArchiveError(f"{self.db} is not a starosta archive: "
                               + (migrations.foreign_tables(sorted(tables)) if tables
                                  else "it holds no table"))

    # -- schema and store ----------------------------------------------------------------

    def migrate(self) -> list[str]:
        if self._sqlite_file():
            conn = sqlite3.connect(f"file:{os.path.abspath(self.db)}?mode=ro", uri=True)
            try:
                migrations.refuse_foreign(conn)
            except sqlite3.DatabaseError as exc:
                raise migrations.MigrationError(
                    f"cannot read {self.db}: {exc} (a damaged or truncated file?)") from None
            finally:
                conn.close()
        os.makedirs(os.path.dirname(os.path.abspath(self.db)), exist_ok=True)
        conn = connect(self.db)
        try:
            return migrations.apply(conn)
        finally:
            conn.close()

    def open_event_store(self, *, owner: bool = False, reader: bool = False) -> EventStore:
        return SQLiteEventStore(self.db, CATALOG)

    def open_store(self, *, synchronous: str = "FULL") -> EventStore:
        self.migrate()
        return SQLiteEventStore(self.db, CATALOG, synchronous=synchronous)

    @contextlib.contextmanager
    def builder(self, store: EventStore) -> Iterator[EventStore]:
        yield store

    def ensure_read_models(self, runner: Runner, on_wait: Callable[[str], None]) -> list[str]:
        store = self.open_store()
        try:
            return runner.ensure(store, builder=store)
        finally:
            store.close()

    def rebuild_lock(self) -> contextlib.AbstractContextManager[None]:
        # taken before the database is opened: a second rebuild fails at once, touching nothing
        # (not even the migrations' write lock, which the running rebuild may hold)
        return sqlite_store.rebuild_lock(self.db)

    def open_builder_store(self) -> EventStore:
        return self.open_store()

    def open_replica(self, read_db: str) -> EventStore:
        raise ValueError("STAROSTA_READ_DB is a streaming replica of a PostgreSQL database: "
                         "both it and STAROSTA_DB must be postgresql:// URLs")

    # -- flows -----------------------------------------------------------------------------

    def verify(self, expect_head: str | None) -> Verdict:
        self.require_archive()
        conn = sqlite3.connect(f"file:{os.path.abspath(self.db)}?mode=ro", uri=True)
        try:
            return sqlite_store.verify_connection(conn, expect_head)
        except sqlite3.DatabaseError as exc:
            raise ArchiveError(f"the database cannot be read: {exc}") from None
        finally:
            conn.close()

    def import_log(self, path: str, progress: Callable[[int], None] | None,
                   expect_head: str | None) -> tuple[int, str]:
        """Import an export file into a new SQLite file at the path; return (count, head hash).

        Refuses (ImportRefused, nothing written) when `db` exists and is not empty (an archive,
        a migrated database with its tokens, another program's file), when a line is bad or too
        long, when the file's head is not `expect_head`, or when another import into `db` is
        running. The work happens in `DB.importing` beside the target, which only a complete,
        synced database replaces `db` from: a killed import leaves the target as it was and that
        file behind (not an archive anyone opens), which the next import clears; a failed one
        removes it. Raises StoreError (StoreUnavailable on a full disk) or OSError when the
        database cannot be written; nothing is written then either.
        """
        from starosta.service.domain import accounts
        from starosta.projections.read_models import default_runner
        from starosta.service.tools.transfer import (
            COMPANIONS,
            STAGING,
            ImportRefused,
            bounded_lines,
            remove_files,
            sync_directory,
            verify_lines,
        )

        self._refuse_target()
        with open(path, "rb") as f:
            count, head = verify_lines(bounded_lines(f), progress)
        if expect_head is not None and head != expect_head:
            raise ImportRefused(f"the file's head is {head} at position {count}, not the expected "
                                f"{expect_head}: it is another archive, or was cut short")
        directory = os.path.dirname(os.path.abspath(self.db))
        os.makedirs(directory, exist_ok=True)
        staging = self.db + STAGING
        with _claimed(staging, self.db) as fd:
            # A staging file: durability comes from the fsyncs and the move below, not each write.
            store = SQLiteBackend(staging).open_store(synchronous="OFF")
            try:
                with open(path, "rb") as f:  # checked whole above: loaded as stored, one transaction
                    store.load_rows(_decode_row(line) for line in bounded_lines(f) if line.strip())
                with store.write_transaction() as conn:  # the log's names get their accounts
                    accounts.backfill(conn)
                default_runner().ensure(store)
            finally:
                store.close()
            sqlite_store.seal_file(staging)  # one self-contained file to move
            os.fsync(fd)
            self._refuse_target()  # again, just before the move: something may have appeared there
            remove_files(self.db, COMPANIONS)  # a stale -wal or -journal would be replayed into the import
            os.replace(staging, self.db)
            sync_directory(directory)
        return count, head

    def _refuse_target(self) -> None:
        """Raise ImportRefused unless the path is free or an empty file (ArchiveError for a
        directory, a device, a FIFO)."""
        from starosta.service.tools.transfer import ImportRefused

        db = self.db
        if readable_file(db) is None:
            return
        if sqlite_store.holds_events(db):
            raise ImportRefused(f"{db} already holds events: import into a new database")
        if os.path.getsize(db) > 0:
            raise ImportRefused(f"{db} exists and is not empty: import into a new file (nothing "
                                "there is replaced)")

    def backup(self, target: str, force: bool, progress: Progress | None) -> str:
        from starosta.service.tools.transfer import COMPANIONS, remove_files, sync_directory

        self.require_archive()
        partial = f"{target}.{os.getpid()}.partial"  # this run's own name: nobody else writes it
        remove_files(partial, ("", *COMPANIONS))
        try:
            sqlite_store.backup_file(self.db, partial, progress)
            if os.path.lexists(target):  # appeared meanwhile, or replaced by what it may not be
                from starosta.service.backends.base import writable_target

                writable_target(target, force)
            # a -wal or -shm left beside the file replaced would be read as the new copy's
            remove_files(target, COMPANIONS)
            os.replace(partial, target)
            sync_directory(os.path.dirname(os.path.abspath(target)))
        except (StoreError, sqlite3.Error, OSError) as exc:  # a full disk, an unwritable directory
            raise ArchiveError(f"backup failed, {target} is as it was: {exc}") from None
        finally:
            remove_files(partial, ("", *COMPANIONS))
        return f"backed up {self.db} to {target}"

    # -- connections beside the store -------------------------------------------------------

    def admin_connection(self) -> Connection:
        self.migrate()
        return connect(self.db)

    @contextlib.contextmanager
    def admin_transaction(self) -> Iterator[Transaction]:
        with translated_errors():
            conn = connect(self.db)
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield conn
                    conn.execute("COMMIT")
                except BaseException:
                    # SQLite undoes the whole transaction itself after some errors (a full or
                    # failing disk, RAISE(ROLLBACK)); a ROLLBACK then would fail and hide the error
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
            finally:
                conn.close()

    @contextlib.contextmanager
    def read_only(self, *, owner: bool = False) -> Iterator[Connection | None]:
        if not self._sqlite_file() or os.path.getsize(self.db) == 0:
            yield None
            return
        conn = sqlite3.connect(Path(self.db).absolute().as_uri() + "?mode=ro", uri=True)
        try:
            yield conn
        finally:
            conn.close()

    def table_names(self, conn: Connection) -> set[str]:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'")
        return {r[0] for r in rows.fetchall()}


@contextlib.contextmanager
def _claimed(staging: str, db: str) -> Iterator[int]:
    """Hold `staging` for one import: locked (flock) so that two imports into one target never
    share it, emptied of what a killed import left, removed again (with its companions) if the
    import fails before moving it into place. Yields its file descriptor (to fsync)."""
    from starosta.service.tools.transfer import COMPANIONS, ImportRefused, remove_files

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


_decode_row = msgspec.json.Decoder(StoredRow).decode
