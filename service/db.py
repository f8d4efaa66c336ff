"""Opening the archive: create the directory, apply migrations, open the store, bring the
projections up to date."""

from __future__ import annotations

import os

from starosta import migrations
from starosta.events.catalog import CATALOG
from starosta.events.store import GroupCommitter, SQLiteEventStore, connect


def migrate(path: str) -> list[str]:
    """Apply pending migrations to the database at `path` (created if absent); return them."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    conn = connect(path)
    try:
        return migrations.apply(conn)
    finally:
        conn.close()


def open_store(path: str, *, synchronous: str = "FULL") -> SQLiteEventStore:
    """Migrate the database at `path` and return its event store (no projections)."""
    migrate(path)
    return SQLiteEventStore(path, CATALOG, synchronous=synchronous)


def open_archive(path: str, *, synchronous: str = "FULL", writer: bool = False,
                 group_commit_max: int = 512, reader_threads: int = 4):
    """Migrate, open the store, build or catch up every projection; return an Archive.

    With `writer`, the archive gets the group-committing writer thread the service uses.
    Raises RebuildRunning when a read model must be built while another rebuild of the
    database runs (`starosta rebuild`): the service cannot start until it is done.
    """
    from starosta.service.archive import Archive, default_runner

    store = open_store(path, synchronous=synchronous)
    runner = default_runner()
    try:
        runner.ensure(store)  # under the rebuild lock when it builds (RebuildRunning meanwhile)
    except BaseException:
        store.close()
        raise
    committer = GroupCommitter(store, max_batch=group_commit_max) if writer else None
    return Archive(store, committer, runner, reader_threads)
