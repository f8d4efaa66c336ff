"""The storage seam: one backend object per kind of database, chosen once from its name.

`backend_for(db)` is the one place that asks which kind a database is (a postgresql:// URL is
PostgreSQL, anything else a SQLite file); everything that differs between the kinds is a
method of the object it returns (`Backend`, in base.py). No other module branches on the kind.
"""

from __future__ import annotations

from starosta.service.backends.base import (
    ArchiveError,
    Backend,
    NoDatabase,
    writable_target,
)
from starosta.service.backends.urls import is_postgres_url, owner_url, scrubbed, shown

__all__ = ["ArchiveError", "Backend", "NoDatabase", "backend_for", "driver_error", "owner_url", "scrubbed",
           "shown", "writable_target"]


def backend_for(db: str) -> Backend:
    """Return the backend of the database `db`: PostgreSQL's for a postgresql:// (or
    postgres://) URL, SQLite's for anything else (a file's path)."""
    if is_postgres_url(db):
        from starosta.service.backends.postgres import PostgresBackend

        return PostgresBackend(db)
    from starosta.service.backends.sqlite import SQLiteBackend

    return SQLiteBackend(db)


def driver_error(exc: BaseException) -> BaseException | None:
    """Return `exc` when a database driver (sqlite3, psycopg) raised it, or the first such error
    inside an exception group (the app's lifespan, run by a test client, raises one); None
    otherwise. Lets the CLI report any database error in one line without naming a driver."""
    if type(exc).__module__.split(".")[0] in ("sqlite3", "psycopg"):
        return exc
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            found = driver_error(inner)
            if found is not None:
                return found
    return None
