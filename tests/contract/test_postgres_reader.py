"""The reader's short path on PostgreSQL (events/postgres_store.py, `PostgresReader`, issue 25):
a read model's query on a reader connection, sent through libpq with its statement prepared
from its second use, gives exactly the rows a psycopg cursor gives (the same Python values),
raises psycopg's own errors, keeps a bounded number of prepared statements, and a lost
connection is replaced on the next read."""

from __future__ import annotations

import psycopg
import pytest
from psycopg import errors as pg_errors
from starosta.events import postgres_store
from starosta.events.catalog import CATALOG
from starosta.events.postgres_store import PostgresEventStore, PostgresReader, PostgresTransaction, Rows
from starosta.events.store import StoreUnavailable

from tests.postgres import Cluster, new_archive

QUERIES = [
    ("SELECT ?::int, ?, NULL, 1.5::real, 2.25::float8, true, 'a%b', ? || 'x', 10::numeric / 4",
     (7, "Monclús ñ ?", "y")),
    ("SELECT ?::bigint, ?::int, ?::smallint", (2**40, -3, 0)),
    ("SELECT ?::bigint, ?::int, ?::smallint", (1, 2**20, -2**15)),  # other int dumps: other statement
    ("SELECT ?::text IS NULL, coalesce(?::int, 3)", (None, None)),
    ("SELECT ?::text, length(?::text)", (b'{"a": 1}', b"xyz")),  # bytes go as text (_BytesAsText)
    ("WITH t(a) AS (VALUES (1), (2), (3)) SELECT a, a * ? FROM t WHERE a >= ? ORDER BY a", (10, 2)),
    ("SELECT position, hash FROM events WHERE position > ? ORDER BY position", (0,)),
    ("SELECT '{\"a\": [1, 2]}'::jsonb, ARRAY[1, 2], ?::date", ("1938-07-01",)),
    ("  select ? as lower_case", ("x",)),
]


@pytest.fixture
def store(postgres_cluster: Cluster):
    url, _owner = new_archive(postgres_cluster)
    store = PostgresEventStore(url, CATALOG)
    yield store
    store.close()


def test_the_short_path_gives_a_cursors_rows(store: PostgresEventStore) -> None:
    reader = store.reader()
    assert isinstance(reader, PostgresReader)
    plain = PostgresTransaction(reader.connection)  # psycopg's cursor, on the same connection
    for _ in range(3):  # once unprepared, then prepared, then prepared again
        for sql, parameters in QUERIES:
            got = reader.execute(sql, parameters)
            assert isinstance(got, Rows)
            wanted = plain.execute(sql, parameters).fetchall()
            assert got.fetchall() == wanted, sql
            assert [type(v) for row in wanted for v in row] == \
                [type(v) for row in reader.execute(sql, parameters) for v in row]
    names = {r[0] for r in reader.connection.execute("SELECT name FROM pg_prepared_statements")}
    assert {n.decode() for n in reader.session.prepared.values() if isinstance(n, bytes)} <= names


def test_cursor_methods(store: PostgresEventStore) -> None:
    rows = store.reader().execute("SELECT g FROM generate_series(1, ?) AS g", (5,))
    assert rows.rowcount == 5
    assert rows.fetchone() == (1,)
    assert rows.fetchmany(2) == [(2,), (3,)]
    assert list(rows) == [(4,), (5,)]
    assert rows.fetchone() is None and rows.fetchall() == []
    empty = store.reader().execute("SELECT 1 WHERE 1 = ?", (2,))
    assert empty.fetchone() is None and empty.rowcount == 0


def test_other_statements_go_through_psycopg(store: PostgresEventStore) -> None:
    reader = store.reader()
    assert not isinstance(reader.execute("SELECT 1"), Rows)  # no parameters
    assert reader.execute("SELECT 1").fetchone() == (1,)
    with pytest.raises(psycopg.ProgrammingError):  # a wrong count: psycopg says what is wrong
        reader.execute("SELECT ?, ?", (1,))


def test_errors_are_psycopgs_and_the_connection_goes_on(store: PostgresEventStore) -> None:
    reader = store.reader()
    for _ in range(3):  # unprepared, then at preparation
        with pytest.raises(pg_errors.UndefinedTable):
            reader.execute("SELECT x FROM no_such_table WHERE x = ?", (1,))
        with pytest.raises(pg_errors.InvalidTextRepresentation):
            reader.execute("SELECT ?::int", ("not a number",))
    assert reader.execute("SELECT ?::int + 1", (1,)).fetchone() == (2,)


def test_prepared_statements_are_bounded(store: PostgresEventStore,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(postgres_store, "READER_PREPARED_MAX", 8)
    reader = store.reader()
    for n in range(40):
        sql = "SELECT " + ", ".join(["?::int"] * (1 + n % 20))
        for _ in range(3):
            assert reader.execute(sql, tuple(range(1 + n % 20))).fetchone() == tuple(range(1 + n % 20))
        assert len(reader.session.prepared) <= 8
        count = reader.connection.execute("SELECT count(*) FROM pg_prepared_statements "
                                          "WHERE name LIKE 'starosta_%'").fetchone()[0]
        assert count <= 8


def test_a_lost_connection_is_replaced(store: PostgresEventStore, postgres_cluster: Cluster) -> None:
    reader = store.reader()
    for _ in range(3):
        assert reader.execute("SELECT ?::int", (1,)).fetchone() == (1,)
    postgres_cluster.execute(f"SELECT pg_terminate_backend({reader.connection.info.backend_pid})")
    with pytest.raises(psycopg.OperationalError):
        reader.execute("SELECT ?::int", (1,))
    with pytest.raises(StoreUnavailable):  # the store's own reads translate it
        with postgres_store.translated_errors():
            reader.execute("SELECT ?::int", (1,))
    again = store.reader()  # a new connection, a new session
    assert again.connection is not reader.connection
    assert again.execute("SELECT ?::int", (2,)).fetchone() == (2,)
    assert store.head().position == 0
    assert reader.connection not in store._readers
