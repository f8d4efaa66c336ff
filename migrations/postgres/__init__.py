"""Ordered, append-only schema migrations for PostgreSQL: numbered .sql files beside this module,
applied by the owner's role (the one that migrates, rebuilds and imports), never the service's.

The rules of the SQLite runner (`starosta.migrations`) hold here too: each step runs with its
bookkeeping row in one transaction, and the list of applied steps is read inside a lock
(`pg_advisory_xact_lock`, so two processes starting at once cannot both apply a step); applying
twice changes nothing; a landed file is never edited. Tables land in the connection's current
schema (its search_path), so one database can hold several archives in several schemas.

This package knows nothing of the rest of the project: it takes a psycopg 3 connection in
autocommit mode (anything with psycopg's `execute` and `transaction`).
"""

from __future__ import annotations

import datetime as _dt
import re
from importlib import resources
from typing import Any

from starosta.migrations import BOOKKEEPING, MigrationError, Step, foreign_message

_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
# The advisory lock key migrations hold (per database): a constant of our own, "starosta"
# in ASCII read as a number, unlikely to meet another program's key.
MIGRATION_LOCK = int.from_bytes(b"starosta", "big") >> 1


def steps() -> list[Step]:
    """Return every PostgreSQL migration step shipped with the package, in order."""
    found = [Step(entry.name.removesuffix(".sql"), entry.read_text("utf-8"))
             for entry in resources.files(__name__).iterdir() if _NAME.match(entry.name)]
    found.sort(key=lambda s: s.name)
    return found


def applied(conn: Any) -> list[str]:
    """Return the names of the steps applied in the connection's current schema, in order."""
    exists = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (BOOKKEEPING,)).fetchone()[0]
    if not exists:
        return []
    return [r[0] for r in conn.execute(f"SELECT name FROM {BOOKKEEPING} ORDER BY name")]


def apply(conn: Any, *, stop_after: str | None = None) -> list[str]:
    """Apply every pending step (up to and including `stop_after`); return those applied.

    The connection must be in autocommit mode and connected as the owner's role. Raises
    MigrationError naming the step when one fails; earlier steps stay applied.
    """
    import psycopg  # only here: the package itself needs nothing but a connection

    # One migrating session at a time, for the whole run: the check that the schema is ours (or
    # empty) and every step see the schema as the previous migrator left it (a check outside
    # the lock could see a concurrent migrator's first tables without its bookkeeping yet, and
    # call the schema another application's), and one migrator applies every pending step.
    try:
        conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
    except psycopg.Error as exc:
        raise MigrationError(f"the database cannot be read: {exc}") from exc
    try:
        return _apply_locked(conn, psycopg, stop_after)
    finally:
        try:
            conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))
        except psycopg.Error:
            pass  # a broken connection: the server released the session's lock with it


def _apply_locked(conn: Any, psycopg: Any, stop_after: str | None) -> list[str]:
    """`apply`'s work, under the migration lock held by `conn`'s session."""
    try:
        if not applied(conn):
            tables = [r[0] for r in conn.execute(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'f') "
                "ORDER BY c.relname").fetchall()]
            if tables:
                raise MigrationError(foreign_message(tables))
    except psycopg.Error as exc:
        raise MigrationError(f"the database cannot be read: {exc}") from exc
    done: list[str] = []
    for step in steps():
        fresh = False
        try:
            with conn.transaction():
                conn.execute(f"CREATE TABLE IF NOT EXISTS {BOOKKEEPING} "
                             "(name text PRIMARY KEY, applied_at text NOT NULL)")
                if step.name not in applied(conn):
                    conn.execute(step.sql)  # a whole script: no parameters, several statements
                    conn.execute(f"INSERT INTO {BOOKKEEPING} (name, applied_at) VALUES (%s, %s)",
                                 (step.name, _dt.datetime.now(_dt.UTC).isoformat()))
                    fresh = True
        except psycopg.Error as exc:
            raise MigrationError(f"migration postgres/{step.name} failed: {exc}") from exc
        if fresh:
            done.append(step.name)
        if stop_after is not None and step.name == stop_after:
            break
    return done
