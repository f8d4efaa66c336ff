"""Opening the archive: apply migrations, open the store, bring the read models up to date.

Every function here takes the database's name (a SQLite file's path or a postgresql:// URL)
and asks its backend (service/backends/, chosen once by `backend_for`) for what differs
between the kinds; nothing here branches on the kind.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from starosta.events.store import EventStore, GroupCommitter
from starosta.service.backends import backend_for


def open_event_store(db: str, *, owner: bool = False, reader: bool = False) -> EventStore:
    """Return the event store alone (no migrations, no read models) of `db`: as the owner
    with `owner`; only for reading, opening no write connection, with `reader` (a replica)."""
    return backend_for(db).open_event_store(owner=owner, reader=reader)


def migrate(db: str) -> list[str]:
    """Apply pending migrations to `db` (a new SQLite file is created, with its directory; a
    PostgreSQL database is migrated as its owner); return them. Raises MigrationError on
    another application's database, naming what it holds."""
    return backend_for(db).migrate()


def open_store(db: str, *, synchronous: str = "FULL") -> EventStore:
    """Migrate `db` and return its event store (no read models): the service's role's on
    PostgreSQL."""
    return backend_for(db).open_store(synchronous=synchronous)


@contextlib.contextmanager
def builder_of(db: str, store: EventStore) -> Iterator[EventStore]:
    """Yield the store that builds read models' tables for `store` (opened at `db`): the
    owner's on PostgreSQL (opened for the block when it is another role), else `store`."""
    with backend_for(db).builder(store) as builder:
        yield builder


def open_archive(db: str, *, synchronous: str = "FULL", writer: bool = False,
                 group_commit_max: int = 512, reader_threads: int = 4, read_db: str = "",
                 expensive: tuple[int, int, int] = (2, 2, 16)):
    """Migrate, open the store, build or catch up every read model; return an Archive.

    With `writer`, the archive gets the group-committing writer thread the service uses. With
    `read_db` (a streaming replica of the PostgreSQL database `db`), reads go there.
    `expensive` is the expensive-read lane's (threads, per client, queue): service/lane.py.
    Raises RebuildRunning when a read model must be built while another rebuild of the
    database runs (`starosta rebuild`): the service cannot start until it is done.
    """
    from starosta.projections.biographies import settle_stale
    from starosta.projections.read_models import default_runner
    from starosta.service.archive import Archive

    backend = backend_for(db)
    store = backend.open_store(synchronous=synchronous)
    runner = default_runner()
    try:
        if runner.outdated(store):
            with backend.builder(store) as builder:
                runner.ensure(store, builder=builder)  # under the rebuild lock when it builds
        else:
            runner.catch_up(store)
        # documents a stopped server marked stale and did not settle (biographies.mark_stale)
        tables = runner.tables(None, runner.get("biographies"))  # type: ignore[arg-type]
        while settle_stale(store, tables, 64):
            pass
        replica = backend.open_replica(read_db) if read_db else None
    except BaseException:
        store.close()
        raise
    batch = min(group_commit_max, backend.group_commit_max)
    committer = GroupCommitter(store, max_batch=batch) if writer else None
    threads, per_client, queue = expensive
    return Archive(store, committer, runner, reader_threads, replica, expensive_threads=threads,
                   expensive_per_client=per_client, expensive_queue=queue)
