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
