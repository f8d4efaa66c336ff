"""The PostgreSQL backend: one archive in one schema, shared by several servers.

Two URLs matter: the service's role (INSERT and SELECT on `events`), given as the database,
and the owner's, which migrates, imports, builds the read models' tables and writes tokens:
`STAROSTA_OWNER_DB`, or the same URL when it is not set.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import msgspec
import psycopg
from starosta.events.catalog import CATALOG
from starosta.events.chain import Verdict
from starosta.events.postgres_store import PostgresEventStore, PostgresTransaction
from starosta.events.store import (
    Connection,
    EventStore,
    LogNotEmpty,
    RebuildRunning,
    StoredRow,
    StoreError,
    Transaction,
)
from starosta.service.backends.base import ArchiveError, Progress, nothing
from starosta.service.backends.urls import owner_url, scrubbed, shown

if TYPE_CHECKING:
    from starosta.projections.runner import Runner

# each job of a batch writes in a SAVEPOINT of its own; more than 64 subtransactions in one
# transaction overflow PostgreSQL's per-session cache and slow every other session's snapshots
# until it commits
POSTGRES_BATCH_MAX = 60
REBUILD_WAIT_S = 300  # how long a server waits for another's rebuild of the read models
PG_DUMP_MISSING = ("backup of a PostgreSQL database needs pg_dump on PATH: install PostgreSQL's "
                   "client tools (apt-get install postgresql-client), of the server's version or newer")


class PostgresBackend:
    """The archive in the PostgreSQL database at the URL `db` (the service's role)."""

    errors: tuple[type[BaseException], ...] = (psycopg.Error,)
    group_commit_max = POSTGRES_BATCH_MAX

    def __init__(self, db: str) -> None:
        self.db = db

    def where(self) -> str:
        return shown(self.db)

    def _failed(self, what: str, exc: BaseException) -> ArchiveError:
        detail = " ".join(str(exc).split()) or type(exc).__name__
        return ArchiveError(f"{what} {shown(self.db)} failed: {scrubbed(detail, self.db)}")

    def require_archive(self) -> None:
        """Nothing to check before connecting: a database that is not there or not reachable
        is named, in one line, by the command's first connection."""

    # -- schema and store ----------------------------------------------------------------

    def migrate(self) -> list[str]:
        from starosta.migrations import postgres as pg_migrations

        with psycopg.connect(owner_url(self.db), autocommit=True, connect_timeout=10,
                             application_name="starosta migrate") as conn:
            return pg_migrations.apply(conn)

    def open_event_store(self, *, owner: bool = False, reader: bool = False) -> EventStore:
        return PostgresEventStore(owner_url(self.db) if owner else self.db, CATALOG,
                                  writer=not reader)

    def open_store(self, *, synchronous: str = "FULL") -> EventStore:
        self.migrate()
        return self.open_event_store()

    @contextlib.contextmanager
    def builder(self, store: EventStore) -> Iterator[EventStore]:
        if owner_url(self.db) == self.db:
            yield store
            return
        owner = self.open_event_store(owner=True)
        try:
            yield owner
        finally:
            owner.close()

    def ensure_read_models(self, runner: Runner, on_wait: Callable[[str], None]) -> list[str]:
        """Several servers share one database and may start together: while another process
        builds the read models, wait for it (up to REBUILD_WAIT_S), then catch up."""
        store = self.open_store()
        try:
            with self.builder(store) as builder:
                deadline = time.monotonic() + REBUILD_WAIT_S
                said = False
                while True:
                    try:
                        return runner.ensure(store, builder=builder)
                    except RebuildRunning as exc:
                        if time.monotonic() > deadline:
                            raise
                        if not said:
                            on_wait(str(exc))
                            said = True
                        time.sleep(0.5)
        finally:
            store.close()

    def rebuild_lock(self) -> contextlib.AbstractContextManager[None]:
        return nothing()  # the database's own lock, taken by the runner (`rebuild_guard`)

    def open_builder_store(self) -> EventStore:
        self.migrate()
        return self.open_event_store(owner=True)  # tables are created, dropped, renamed by the owner

    def open_replica(self, read_db: str) -> EventStore:
        from starosta.service.backends import backend_for

        replica = backend_for(read_db)
        if not isinstance(replica, PostgresBackend):
            raise ValueError("STAROSTA_READ_DB is a streaming replica of a PostgreSQL database: "
                             "both it and STAROSTA_DB must be postgresql:// URLs")
        return replica.open_event_store(reader=True)

    # -- flows -----------------------------------------------------------------------------

    def verify(self, expect_head: str | None) -> Verdict:
        try:
            store = self.open_event_store()
            try:
                return store.verify(expect_head)
            finally:
                store.close()
        except (StoreError, psycopg.Error) as exc:
            detail = scrubbed(" ".join(str(exc).split()), self.db)
            raise ArchiveError(f"the database {shown(self.db)} cannot be read: {detail}") from None

    def import_log(self, path: str, progress: Callable[[int], None] | None,
                   expect_head: str | None) -> tuple[int, str]:
        """Import as the owner: migrated, every line checked and the chain verified first, then
        loaded in one transaction (COPY) under the append lock, which refuses a log holding
        events. Nothing is written on refusal."""
        from starosta.migrations import MigrationError
        from starosta.service.domain import accounts
        from starosta.projections.read_models import default_runner
        from starosta.service.tools.transfer import ImportRefused, bounded_lines, verify_lines

        where = shown(self.db)
        try:
            self.migrate()
            store = self.open_event_store(owner=True)
        except (MigrationError, StoreError, psycopg.Error) as exc:
            raise self._failed("importing into", exc) from None
        try:
            if store.head().position:
                raise ImportRefused(f"{where} already holds events: import into a new database")
            with open(path, "rb") as f:
                count, head = verify_lines(bounded_lines(f), progress)
            if expect_head is not None and head != expect_head:
                raise ImportRefused(f"the file's head is {head} at position {count}, not the "
                                    f"expected {expect_head}: it is another archive, or was cut short")
            with open(path, "rb") as f:  # checked whole above: loaded as stored, one transaction
                store.load_rows(msgspec.json.decode(line, type=StoredRow)
                                for line in bounded_lines(f) if line.strip())
            with store.write_transaction() as tx:  # the log's names get their accounts
                accounts.backfill(tx)
            default_runner().ensure(store)  # the read models, built as the owner (as serve would)
        except LogNotEmpty:  # filled meanwhile: the load's own check, under the append lock
            raise ImportRefused(f"{where} already holds events: import into a new database") from None
        except (StoreError, psycopg.Error, OSError) as exc:
            raise ArchiveError(f"import failed, {where} is as it was: "
                               f"{' '.join(str(exc).split())}") from None
        finally:
            store.close()
        return count, head

    def backup(self, target: str, force: bool, progress: Progress | None) -> str:
        """pg_dump (custom format, as the owner: the service's role cannot read every table),
        written beside `target` and moved into place once complete. Restore with pg_restore
        into a new database, then `starosta verify`."""
        from starosta.service.backends.base import writable_target
        from starosta.service.tools.transfer import remove_files, sync_directory

        pg_dump = shutil.which("pg_dump")
        if pg_dump is None:
            raise ArchiveError(PG_DUMP_MISSING)
        partial = f"{target}.{os.getpid()}.partial"
        remove_files(partial, ("",))
        try:
            # the URL as one argument, never in a shell; --no-password: never wait on a prompt
            done = subprocess.run([pg_dump, "--format=custom", "--no-password", f"--file={partial}",
                                   f"--dbname={owner_url(self.db)}"], capture_output=True,
                                  text=True, check=False)
            if done.returncode != 0:
                detail = " ".join((done.stderr or done.stdout).split()) or f"exit {done.returncode}"
                raise ArchiveError(f"backup failed, {target} is as it was: pg_dump: "
                                   f"{scrubbed(detail, self.db)}")
            if os.path.lexists(target):  # appeared meanwhile: still never replaced unless allowed
                writable_target(target, force)
            with open(partial, "rb") as f:
                os.fsync(f.fileno())
            os.replace(partial, target)
            sync_directory(os.path.dirname(os.path.abspath(target)))
        except OSError as exc:
            raise ArchiveError(f"backup failed, {target} is as it was: {exc}") from None
        finally:
            remove_files(partial, ("",))
        return f"backed up {shown(self.db)} to {target} (pg_dump custom format: restore with pg_restore)"

    # -- connections beside the store -------------------------------------------------------

    def admin_connection(self) -> Connection:
        self.migrate()
        return PostgresTransaction(psycopg.connect(owner_url(self.db), autocommit=True,
                                                   connect_timeout=10))

    @contextlib.contextmanager
    def admin_transaction(self) -> Iterator[Transaction]:
        store = self.open_event_store(owner=True)  # the service's role only reads tokens
        try:
            with store.write_transaction() as tx:
                yield tx
        finally:
            store.close()

    @contextlib.contextmanager
    def read_only(self, *, owner: bool = False) -> Iterator[Connection | None]:
        conn = psycopg.connect(owner_url(self.db) if owner else self.db, autocommit=True,
                               connect_timeout=10, application_name="starosta demo marker")
        try:
            yield PostgresTransaction(conn)
        finally:
            conn.close()

    def table_names(self, conn: Connection) -> set[str]:
        rows = conn.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')")
        return {r[0] for r in rows.fetchall()}
