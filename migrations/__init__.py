"""Ordered, append-only schema migrations: numbered .sql files beside this module.

Each step runs with its bookkeeping row in one `BEGIN IMMEDIATE` transaction, and the
list of applied steps is read inside that lock, so two processes starting at once
cannot both apply a step (sqlite-utils' `Migrations.apply()` reads its pending list
outside the lock, which is why this runner is our own). Applying twice changes
nothing. A landed file is never edited: a change is a new file with the next number.

This package knows nothing of the rest of the project: it takes a `sqlite3.Connection`.
"""

from __future__ import annotations

import datetime as _dt
import re
import sqlite3
from dataclasses import dataclass
from importlib import resources

BOOKKEEPING = "schema_migrations"
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


@dataclass(frozen=True)
class Step:
    """One migration step: its name (the file name without .sql) and its SQL."""

    name: str
    sql: str


class MigrationError(Exception):
    """A migration step failed; nothing of that step was applied."""


def steps() -> list[Step]:
    """Return every migration step shipped with the package, in order."""
    found = []
    for entry in resources.files(__name__).iterdir():
        if _NAME.match(entry.name):
            found.append(Step(entry.name.removesuffix(".sql"), entry.read_text("utf-8")))
    found.sort(key=lambda s: s.name)
    return found


def statements(sql: str) -> list[str]:
    """Split a script into complete statements (trigger bodies stay whole).

    `executescript` would COMMIT first, breaking the one-transaction guarantee, so
    statements are executed one by one inside our own transaction.
    """
    out, buf = [], ""
    for line in sql.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            lines = buf.strip().splitlines()
            while lines and lines[0].lstrip().startswith("--"):  # a comment before the statement
                lines.pop(0)
            if lines:
                out.append("\n".join(lines))
            buf = ""
    if buf.strip() and not all(
        ln.strip().startswith("--") or not ln.strip() for ln in buf.splitlines()
    ):
        raise MigrationError(f"incomplete SQL statement at the end of a step: {buf.strip()[:80]!r}")
    return out


def applied(conn: sqlite3.Connection) -> list[str]:
    """Return the names of the steps applied to this database, in order."""
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (BOOKKEEPING,)
    ).fetchone()
    if not exists:
        return []
    return [r[0] for r in conn.execute(f"SELECT name FROM {BOOKKEEPING} ORDER BY name")]


def refuse_foreign(conn: sqlite3.Connection) -> None:
    """Raise MigrationError when the database holds tables but no migrations of ours: another
    application's database, which a migration would adopt (its tables left beside ours)."""
    if applied(conn):
        return
    tables = [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') "
        "AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    if tables:
        raise MigrationError(foreign_message(tables))


def foreign_message(tables: list[str]) -> str:
    """The refusal of a database that holds `tables` and is not a starosta archive."""
    return f"not a starosta archive: {foreign_tables(tables)}; choose another --db"


def foreign_tables(tables: list[str]) -> str:
    """What a database that is not a starosta archive holds, in words."""
    shown = ", ".join(tables[:5]) + (f" and {len(tables) - 5} more" if len(tables) > 5 else "")
    return (f"it holds {len(tables)} table{'s' if len(tables) != 1 else ''} of another "
            f"application ({shown})")


def apply(conn: sqlite3.Connection, *, stop_after: str | None = None) -> list[str]:
    """Apply every pending step (up to and including `stop_after`); return those applied.

    The connection must be in autocommit mode (`isolation_level=None`).
    Raises MigrationError naming the step when one fails; earlier steps stay applied.
    """
    try:
        refuse_foreign(conn)
    except sqlite3.DatabaseError as exc:  # a file that is not SQLite's, or a damaged one
        raise MigrationError(f"the database cannot be read: {exc}") from exc
    done: list[str] = []
    for step in steps():
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(
                f"CREATE TABLE IF NOT EXISTS {BOOKKEEPING} "
                "(name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
            )
            if step.name not in applied(conn):
                for statement in statements(step.sql):
                    conn.execute(statement)
                conn.execute(
                    f"INSERT INTO {BOOKKEEPING} (name, applied_at) VALUES (?, ?)",
                    (step.name, _dt.datetime.now(_dt.timezone.utc).isoformat()),
                )
                done.append(step.name)
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            conn.execute("ROLLBACK")
            raise MigrationError(f"migration {step.name} failed: {exc}") from exc
        if stop_after is not None and step.name == stop_after:
            break
    return done
