"""Opening the archive: create the directory, apply migrations, open the event store."""

from __future__ import annotations

import os

import migrations
from events.catalog import CATALOG
from events.store import SQLiteEventStore, connect


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
    """Migrate the database at `path` and return its event store."""
    migrate(path)
    return SQLiteEventStore(path, CATALOG, synchronous=synchronous)
