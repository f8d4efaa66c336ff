"""The two SQL dialects the read models speak, and what differs between them, in one place.

Read models write their statements once, with SQLite's `?` placeholders, in the SQL both
engines take (upserts are `INSERT ... ON CONFLICT`, sums `COALESCE(SUM(x), 0)`, per-group picks
window functions). On PostgreSQL the connection they get (`events.postgres_store.
PostgresTransaction`) turns `?` into psycopg's placeholders and sends bytes as text. What cannot
be written once is asked of this module by name:

* `dialect(conn)`: "sqlite" or "postgres";
* `ddl(statement, dialect)`: a table's DDL as declared (SQLite's type names) in the dialect's
  words. On PostgreSQL INTEGER is BIGINT (SQLite's integers are 64-bit), BLOB is TEXT (every
  blob of ours is UTF-8 JSON), and TEXT compares bytewise (`COLLATE "C"`, SQLite's BINARY), so
  that ORDER BY gives the same order on both whatever the database's locale;
* `tables(conn, names)`, `columns(conn, table)`: the catalogue (`sqlite_master`, `PRAGMA
  table_info` / `to_regclass`, `information_schema`);
* `string_agg(expression, separator)`: SQLite's `group_concat`, PostgreSQL's `string_agg`;
* `snapshot(conn)`, `begin_snapshot(conn)`: a read transaction whose every statement sees one snapshot
  (SQLite's deferred BEGIN; REPEATABLE READ on PostgreSQL, whose READ COMMITTED would give
  each statement its own);
* `ordered_join(conn)`: the join that makes SQLite's planner keep the written table order
  (`CROSS JOIN ... ON`), a plain `JOIN` on PostgreSQL (which plans by statistics and takes
  no ON after CROSS JOIN).

A read model whose statements differ more (search: FTS5 against a GIN-indexed tsvector) keeps
both versions side by side in its own module, chosen with `dialect(conn)`.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

SQLITE, POSTGRES = "sqlite", "postgres"

_TYPES = re.compile(r"\b(INTEGER|TEXT|BLOB)\b")
_PG_TYPES = {"INTEGER": "BIGINT", "TEXT": 'TEXT COLLATE "C"', "BLOB": 'TEXT COLLATE "C"'}


def dialect(conn: Any) -> str:
    """Return the dialect of a read model's connection: "postgres" or "sqlite"."""
    return getattr(conn, "dialect", SQLITE)


def ddl(statement: str, dialect_name: str) -> str:
    """Return a DDL statement written with SQLite's type names in `dialect_name`'s words."""
    if dialect_name == SQLITE:
        return statement
    return _TYPES.sub(lambda m: _PG_TYPES[m.group(1)], statement)


def table_exists(conn: Any, table: str) -> bool:
    """Whether a table (or view) named `table` exists (in the connection's schema)."""
    if dialect(conn) == SQLITE:
        return conn.execute("SELECT 1 FROM sqlite_master WHERE name = ? AND type IN "
                            "('table', 'view')", (table,)).fetchone() is not None
    return conn.execute("SELECT to_regclass(?) IS NOT NULL", (f'"{table}"',)).fetchone()[0]


def columns(conn: Any, table: str) -> list[str]:
    """The column names of `table`, in order."""
    if dialect(conn) == SQLITE:
        return [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')]
    return [r[0] for r in conn.execute(
        "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(?) AND attnum > 0 "
        "AND NOT attisdropped ORDER BY attnum", (f'"{table}"',))]


def string_agg(expression: str, separator: str, dialect_name: str) -> str:
    """An aggregate joining `expression` with `separator` (a SQL string literal)."""
    if dialect_name == SQLITE:
        return f"group_concat({expression}, {separator})"
    return f"string_agg({expression}, {separator})"


@contextlib.contextmanager
def snapshot(conn: Any) -> Iterator[None]:
    """Run the block's reads in one snapshot (`begin_snapshot`), or in the transaction
    already open on `conn`."""
    if conn.in_transaction:
        yield
        return
    begin_snapshot(conn)
    try:
        yield
    finally:
        conn.execute("COMMIT")


def begin_snapshot(conn: Any) -> None:
    """Begin a read-only transaction in which every statement sees the same snapshot."""
    if dialect(conn) == SQLITE:
        conn.execute("BEGIN")  # deferred: the first read fixes the snapshot every later one sees
    else:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")


def ordered_join(conn: Any) -> str:
    """The join keyword that keeps the tables in the written order (see the module)."""
    return "CROSS JOIN" if dialect(conn) == SQLITE else "JOIN"


def grant_to_service(conn: Any, table: str) -> None:
    """Let the service's role read and write a read model's table (PostgreSQL; the owner
    creates tables, the service's role only changes rows). Nothing to do on SQLite."""
    if dialect(conn) == POSTGRES:
        conn.execute(f'GRANT SELECT, INSERT, UPDATE, DELETE ON "{table}" TO starosta_service')


_CHUNK = 500  # ids per IN (...) list, well under SQLite's variable limit


def chunks(ids: Iterable[str]) -> Iterable[list[str]]:
    """The distinct ids in sorted chunks small enough for one IN (...) list."""
    wanted = sorted(set(ids))
    for start in range(0, len(wanted), _CHUNK):
        yield wanted[start:start + _CHUNK]


def marks(values: Sequence[object]) -> str:
    """The placeholders of an IN (...) list of `values` (never the values themselves)."""
    return ",".join("?" * len(values))


# -- a rebuild's batched writes ------------------------------------------------------------------

_WRITE = re.compile(r'\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.IGNORECASE)
_WORD = re.compile(r"\w+")
_READS = frozenset({"select", "returning", "with"})  # a write that reads runs at once


class _Queued:
    """What a queued write returns in place of a cursor: nothing may be read from it."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError(f"a queued write has no cursor (.{name}): name its table in "
                           "Deferred's `direct` tables")


_QUEUED = _Queued()


class Deferred:
    """A read model's connection for a rebuild's batch: its plain writes (INSERT, UPDATE,
    DELETE of one table, reading no other) are queued per table and sent with `executemany`,
    consecutive rows of one statement in one call; any other statement first sends the queue
    of every table it names, then runs at once. Statements on one table keep their order, and
    a statement on different tables commutes with them (no read model declares triggers or
    foreign keys), so every statement sees exactly the rows it would have seen one event at
    a time, and `flush` leaves exactly those rows.

    `direct`: tables whose writes run at once, for a caller that reads their cursor (a
    `lastrowid`). A queued write returns a stand-in that refuses to be read.
    """

    def __init__(self, conn: Any, direct: Iterable[str] = ()) -> None:
        self._conn = conn
        self._direct = frozenset(t.lower() for t in direct)
        self._queues: dict[str, list[tuple[str, Any]]] = {}
        self._parsed: dict[str, tuple[str | None, frozenset[str]]] = {}

    def __getattr__(self, name: str) -> Any:  # dialect, in_transaction...: the connection's
        return getattr(self._conn, name)

    def _parse(self, statement: str) -> tuple[str | None, frozenset[str]]:
        """Return (the table a plain write writes, else None; the statement's words)."""
        got = self._parsed.get(statement)
        if got is None:
            words = frozenset(w.lower() for w in _WORD.findall(statement))
            m = _WRITE.match(statement)
            target = m.group(1).lower() if m and not (words & _READS) else None
            if target in self._direct:
                target = None
            got = self._parsed[statement] = (target, words)
        return got

    def execute(self, statement: str, parameters: Any = (), /) -> Any:
        target, words = self._parse(statement)
        if target is not None:
            self._queues.setdefault(target, []).append((statement, parameters))
            return _QUEUED
        self._send(words)
        return self._conn.execute(statement, parameters)

    def executemany(self, statement: str, rows: Iterable[Any], /) -> Any:
        target, words = self._parse(statement)
        if target is not None:
            self._queues.setdefault(target, []).extend((statement, row) for row in rows)
            return _QUEUED
        self._send(words)
        return self._conn.executemany(statement, rows)

    def _send(self, words: frozenset[str]) -> None:
        """Send the queues of the tables a statement names (every word it holds)."""
        if self._queues:  # writes to different tables commute: any order of sending will do
            for table in self._queues.keys() & words:
                self._send_table(table)

    def _send_table(self, table: str) -> None:
        queue = self._queues.pop(table)
        start = 0
        while start < len(queue):
            statement = queue[start][0]
            end = start + 1
            while end < len(queue) and queue[end][0] == statement:
                end += 1
            self._conn.executemany(statement, [row for _, row in queue[start:end]])
            start = end

    def flush(self) -> None:
        """Send every queued write (the batch is over)."""
        for table in list(self._queues):
            self._send_table(table)


def deferred_apply(apply: Any, conn: Any, envelopes: Sequence[Any], tables: Any,
                   direct: Iterable[str] = ()) -> None:
    """Run `apply(conn, envelope, tables)` for each envelope through a `Deferred` connection,
    then send what it queued: a read model's `apply_batch` in one line."""
    deferred = Deferred(conn, direct)
    for envelope in envelopes:
        apply(deferred, envelope, tables)
    deferred.flush()
