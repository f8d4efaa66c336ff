"""What only the SQLite store does, on real files: its errors translated at one place, the
write connection its hooks receive, the replace guard around a bulk load, its file
operations. What every store does is in `tests/contract/` (run for SQLite by
`tests/contract/test_sqlite_store.py`)."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from starosta.events.catalog import CATALOG
from starosta.events.registry import PersonRegistered
from starosta.events.sqlite_store import POSITION_AT, SQLiteEventStore, holds_events, seal_file
from starosta.events.store import (
    AppendRequest,
    DuplicateKey,
    GroupCommitter,
    Job,
    NewEvent,
    StoreUnavailable,
)
from starosta.migrations import MigrationError
from starosta.service.db import migrate, open_store


def person(n: int, label: str = "Vicente Monclús Guallar") -> PersonRegistered:
    return PersonRegistered(person_id=f"P{n}", label=label)


def one(stream: str, n: int) -> AppendRequest:
    return AppendRequest(stream, [NewEvent(person(n))], 0)


def test_the_backend_names_are_not_reexported_by_the_shared_modules() -> None:
    """The shims are gone: shared modules do not hand out a backend's names."""
    from starosta.events import chain, store

    for module, name in ((store, "SQLiteEventStore"), (store, "connect"),
                         (store, "translated_errors"), (chain, "verify_connection")):
        assert not hasattr(module, name), f"{module.__name__}.{name}"


def test_a_hook_gets_the_write_connection(store: SQLiteEventStore) -> None:
    with store.write_transaction() as conn:
        conn.execute("CREATE TABLE seen (position INTEGER, stream TEXT)")

    def project(conn, envelopes) -> None:
        assert isinstance(conn, sqlite3.Connection) and conn.in_transaction
        conn.executemany("INSERT INTO seen VALUES (?, ?)", [(e.position, e.stream_id) for e in envelopes])

    store.append_atomic([one("P-1", 1)], after=project)
    assert store.reader().execute("SELECT * FROM seen").fetchall() == [(1, "P-1")]


def test_a_locked_database_is_unavailable_and_writes_nothing(db_path: str) -> None:
    migrate(db_path)
    store = SQLiteEventStore(db_path, CATALOG, busy_timeout_ms=100)
    other = sqlite3.connect(db_path, isolation_level=None)
    writer = GroupCommitter(store)
    try:
        store.append("P-0", [person(0)], 0)
        other.execute("BEGIN EXCLUSIVE")
        with pytest.raises(StoreUnavailable, match="could not be written"):
            store.append("P-1", [person(1)], 0)
        futures = [writer.submit(Job([one(f"P-{n}", n)])) for n in range(1, 4)]
        for f in futures:
            with pytest.raises(StoreUnavailable):
                f.result(timeout=30)
        with pytest.raises(StoreUnavailable):
            with store.write_transaction():
                pass
        assert store.head().position == 1  # WAL: readers go on
        other.execute("ROLLBACK")
        assert writer.submit(Job([one("P-1", 1)])).result(timeout=30) == [[2]]
    finally:
        writer.close()
        other.close()
        store.close()


def test_a_duplicate_key_is_still_an_sqlite_integrity_error(store: SQLiteEventStore) -> None:
    # `service/archive.py` catches sqlite3.IntegrityError for a racing Idempotency-Key.
    with store.write_transaction() as conn:
        conn.execute("CREATE TABLE keys (key TEXT PRIMARY KEY)")

    def remember(conn, envelopes) -> None:
        conn.execute("INSERT INTO keys VALUES ('k')")

    store.append_atomic([one("P-1", 1)], after=remember)
    with pytest.raises(DuplicateKey) as info:
        store.append_atomic([one("P-2", 2)], after=remember)
    assert isinstance(info.value, sqlite3.IntegrityError)
    assert isinstance(info.value.__cause__, sqlite3.IntegrityError)
    with pytest.raises(DuplicateKey):
        with store.write_transaction() as conn:
            conn.execute("INSERT INTO keys VALUES ('k')")


def test_a_bug_in_a_hook_is_not_reported_as_unavailability(store: SQLiteEventStore) -> None:
    def broken(conn, envelopes) -> None:
        conn.execute("INSERT INTO no_such_table VALUES (1)")

    with pytest.raises(sqlite3.OperationalError, match="no such table") as info:
        store.append_atomic([one("P-1", 1)], after=broken)
    assert not isinstance(info.value, StoreUnavailable)
    assert store.head().position == 0


def test_a_bulk_load_puts_the_replace_guard_back(store: SQLiteEventStore, tmp_path: Path) -> None:
    for n in range(5):
        store.append(f"P-{n}", [person(n)], 0)
    rows = list(store.read_rows())
    copy = open_store(str(tmp_path / "copy.db"))
    try:
        with pytest.raises(Exception):
            copy.load_rows(rows[:2] + rows[3:])  # refused half-way: the guard is back too
        assert _triggers(copy) == {"events_no_update", "events_no_delete", "events_no_replace"}
        assert copy.load_rows(iter(rows)) == 5
        assert _triggers(copy) == {"events_no_update", "events_no_delete", "events_no_replace"}
        forged = (*[getattr(rows[1], c) for c in rows[1].__struct_fields__],)
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            copy.reader().execute(f"INSERT OR REPLACE INTO events VALUES ({','.join('?' * len(forged))})", forged)
    finally:
        copy.close()


def _triggers(store: SQLiteEventStore) -> set[str]:
    return {r[0] for r in store.reader().execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}


def test_verify_walks_one_snapshot_and_works_read_only(store: SQLiteEventStore, db_path: str) -> None:
    from starosta.events.sqlite_store import verify_connection

    for n in range(10):
        store.append(f"P-{n}", [person(n)], 0)
    readonly = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        assert verify_connection(readonly) == store.verify()
    finally:
        readonly.close()


def test_position_at_is_one_index_step(store: SQLiteEventStore) -> None:
    plan = store.reader().execute(f"EXPLAIN QUERY PLAN {POSITION_AT}", ("x",)).fetchall()
    text = " ".join(str(r[-1]) for r in plan)
    assert "events_recorded_at" in text and "TEMP B-TREE" not in text, text


def test_each_thread_reads_on_its_own_connection(store: SQLiteEventStore) -> None:
    store.append("P-1", [person(1)], 0)
    seen: list[sqlite3.Connection] = []
    thread = threading.Thread(target=lambda: seen.append(store.reader()))
    thread.start()
    thread.join()
    assert seen[0] is not store.reader() and store.reader() is store.reader()
    assert store.head().position == 1


def test_holds_events(tmp_path: Path) -> None:
    path = str(tmp_path / "a.db")
    assert not holds_events(path)
    other = sqlite3.connect(path)
    other.execute("CREATE TABLE notes (x)")
    other.close()
    assert not holds_events(path)  # an SQLite file, not a log
    with pytest.raises(MigrationError, match=r"not a starosta archive: it holds 1 table .*\(notes\)"):
        open_store(path)  # another application's database is never adopted
    path = str(tmp_path / "b.db")
    empty = open_store(path)
    assert not holds_events(path)
    empty.append("P-1", [person(1)], 0)
    empty.close()
    assert holds_events(path)


def test_seal_file_leaves_one_self_contained_file(store: SQLiteEventStore, db_path: str) -> None:
    store.append("P-1", [person(1)], 0)
    store.close()
    seal_file(db_path)
    assert not Path(f"{db_path}-wal").exists()
    conn = sqlite3.connect(db_path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == 1
    finally:
        conn.close()
