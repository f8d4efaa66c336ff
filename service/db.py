"""Opening the archive: create the directory, apply migrations, open the store, bring the
projections up to date.

The backend is chosen by the database's name, here only (`backend`): a `postgresql://` (or
`postgres://`) URL is a PostgreSQL database, anything else a SQLite file. On PostgreSQL two URLs
matter (../shared/API.md, "Resolutions"): the service's role (INSERT and SELECT on `events`),
given as the database, and the owner's, which migrates and imports: `STAROSTA_OWNER_DB`, or the
same URL when it is not set. The owner also builds the read models' tables (`open_archive`
builds missing ones with the owner's URL); the service's role only changes their rows.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from starosta import migrations
from starosta.events.catalog import CATALOG
from starosta.events.store import GroupCommitter, SQLiteEventStore, connect

POSTGRES_SCHEMES = ("postgresql://", "postgres://")
POSTGRES_BATCH_MAX = 60  # appends per group commit on PostgreSQL (see open_archive)


def backend(db: str) -> str:
    """Return "postgres" for a PostgreSQL URL, "sqlite" for anything else (a file's path)."""
    return "postgres" if db.strip().lower().startswith(POSTGRES_SCHEMES) else "sqlite"


def is_postgres(db: str) -> bool:
    return backend(db) == "postgres"


def owner_url(db: str) -> str:
    """Return the owner's URL for the PostgreSQL database `db`: STAROSTA_OWNER_DB, or `db`."""
    return os.environ.get("STAROSTA_OWNER_DB") or db


def shown(db: str) -> str:
    """Return `db` fit for a message: a URL's password replaced by ***."""
    if not is_postgres(db):
        return db
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(db)
    if parts.password is None:
        return db
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))


def open_event_store(db: str, *, owner: bool = False, reader: bool = False):
    """Return the event store alone (no migrations, no projections) of `db`: a
    PostgresEventStore for a PostgreSQL URL (as the owner with `owner`; only for reading,
    opening no write connection, with `reader`: a replica), else SQLite's."""
    if is_postgres(db):
        from starosta.events.postgres_store import PostgresEventStore

        return PostgresEventStore(owner_url(db) if owner else db, CATALOG, writer=not reader)
    return SQLiteEventStore(db, CATALOG)


def migrate(path: str) -> list[str]:
    """Apply pending migrations to the database at `path` (a SQLite file, created if absent, or
    a PostgreSQL URL, migrated as its owner: migrations/postgres); return them."""
    if is_postgres(path):
        return _migrate_postgres(owner_url(path))
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    conn = connect(path)
    try:
        return migrations.apply(conn)
    finally:
        conn.close()


def _migrate_postgres(url: str) -> list[str]:
    import psycopg
    from starosta.migrations import postgres as pg_migrations

    with psycopg.connect(url, autocommit=True, connect_timeout=10,
                         application_name="starosta migrate") as conn:
        return pg_migrations.apply(conn)


def open_store(path: str, *, synchronous: str = "FULL"):
    """Migrate the database at `path` (a SQLite file or a PostgreSQL URL) and return its event
    store (no projections): the service's role's on PostgreSQL."""
    migrate(path)
    if is_postgres(path):
        return open_event_store(path)
    return SQLiteEventStore(path, CATALOG, synchronous=synchronous)


@contextlib.contextmanager
def builder_of(path: str, store) -> Iterator:
    """Yield the store that builds read models' tables for `store` (opened at `path`): on
    PostgreSQL the owner's, opened for the block when the owner's URL is another (closed
    after), else `store` itself."""
    if not is_postgres(path) or owner_url(path) == path:
        yield store
        return
    owner = open_event_store(path, owner=True)
    try:
        yield owner
    finally:
        owner.close()


def open_archive(path: str, *, synchronous: str = "FULL", writer: bool = False,
                 group_commit_max: int = 512, reader_threads: int = 4, read_db: str = ""):
    """Migrate, open the store, build or catch up every projection; return an Archive.

    With `writer`, the archive gets the group-committing writer thread the service uses. With
    `read_db` (a streaming replica of the PostgreSQL database `path`), reads go there.
    Raises RebuildRunning when a read model must be built while another rebuild of the
    database runs (`starosta rebuild`): the service cannot start until it is done.
    """
    from starosta.service.archive import Archive, default_runner

    store = open_store(path, synchronous=synchronous)
    runner = default_runner()
    try:
        if runner.outdated(store):
            with builder_of(path, store) as builder:
                runner.ensure(store, builder=builder)  # under the rebuild lock when it builds
        else:
            runner.catch_up(store)
    except BaseException:
        store.close()
        raise
    replica = None
    if read_db:
        if not (is_postgres(path) and is_postgres(read_db)):
            store.close()
            raise ValueError("STAROSTA_READ_DB is a streaming replica of a PostgreSQL database: "
                             "both it and STAROSTA_DB must be postgresql:// URLs")
        replica = open_event_store(read_db, reader=True)
    if is_postgres(path):
        # each job of a batch writes in a SAVEPOINT of its own; more than 64 subtransactions in
        # one transaction overflow PostgreSQL's per-session cache and slow every other
        # session's snapshots until it commits
        group_commit_max = min(group_commit_max, POSTGRES_BATCH_MAX)
    committer = GroupCommitter(store, max_batch=group_commit_max) if writer else None
    return Archive(store, committer, runner, reader_threads, replica)
