"""The store contract run against SQLite: real files in tmp_path.

A PostgreSQL store joins the same way: a `test_postgres_store.py` with a `PostgresBackend`
(a fresh schema or database per store, tampering as a superuser, its append-only rules as the
forbidden writes) and a `TestPostgresEventStore(EventStoreContract)` whose one fixture,
`backend`, returns it.
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from starosta.events.catalog import CATALOG
from starosta.events.chain import HASHED_COLUMNS, STORED_COLUMNS
from starosta.events.sqlite_store import SQLiteEventStore
from starosta.service.db import open_store
from tests.contract.store_contract import Backend, EventStoreContract


class SQLiteBackend:
    """Stores over SQLite files in one directory; raw SQL for what only an attacker does."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.numbers = itertools.count(1)

    def new_store(self) -> SQLiteEventStore:
        return open_store(str(self.directory / f"store-{next(self.numbers)}.db"))

    def second_handle(self, store: SQLiteEventStore) -> SQLiteEventStore:
        return SQLiteEventStore(store.path, CATALOG)

    def tamper(self, store: SQLiteEventStore, position: int, column: str,
               value: object) -> None:
        assert column in STORED_COLUMNS  # a column name from the suite, never input
        conn = sqlite3.connect(store.path, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            trigger = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'events_no_update'"
                                   ).fetchone()[0]
            conn.execute("DROP TRIGGER events_no_update")
            conn.execute(f"UPDATE events SET {column} = ? WHERE position = ?", (value, position))
            conn.execute(trigger)
            conn.execute("COMMIT")
        finally:
            conn.close()

    def forbidden_writes(self, store: SQLiteEventStore
                         ) -> dict[str, Callable[[], object]]:
        def run(sql: str, *params: object) -> Callable[[], object]:
            def attempt() -> object:
                conn = sqlite3.connect(store.path, isolation_level=None)
                try:
                    return conn.execute(sql, params)
                finally:
                    conn.close()
            return attempt

        row = store.reader().execute("SELECT * FROM events WHERE position = 2").fetchone()
        forged = (*row[:7], "the-forger", *row[8:])
        return {
            "update": run("UPDATE events SET actor = 'x' WHERE position = 2"),
            "update all": run("UPDATE events SET data = data || ' '"),
            "delete one": run("DELETE FROM events WHERE position = 2"),
            "delete the tail": run("DELETE FROM events WHERE position > 3"),
            "delete all": run("DELETE FROM events"),
            "insert or replace": run(
                f"INSERT OR REPLACE INTO events VALUES ({','.join('?' * len(forged))})", *forged),
            "replace by stream version": run(
                f"REPLACE INTO events VALUES ({','.join('?' * len(forged))})",
                99, "f" * 32, *forged[2:]),
        }


class TestSQLiteEventStore(EventStoreContract):
    @pytest.fixture
    def backend(self, tmp_path: Path) -> Backend:
        return SQLiteBackend(tmp_path)
