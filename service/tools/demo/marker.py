"""What kind of archive a database is, read without creating or migrating anything: a new one
(a missing or empty file, or a PostgreSQL schema holding nothing), the demo (its `archive_meta`
row `kind = 'demo'`, or the demo's public tokens live in it), or a real archive. This module owns
the SQL on `archive_meta` (migrations/0004_archive_meta.sql, postgres/0003_archive_meta.sql)."""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
from typing import Any

from starosta import migrations

DEMO = "demo"
LOADING, LOADED = "loading", "loaded"
# The demo's fixed tokens (load.DEMO_TOKENS, SECOND_REVIEWER) are public: README, --help.
PUBLIC_TOKENS = ("demo-contributor-token", "demo-reviewer-token", "demo-admin-token",
                 "demo-reviewer-2-token")


class NotNew(Exception):
    """The database is not new: it holds events, tokens or the tables of another run, and the
    demo (with its public tokens) never goes into it. `held` says what it holds."""

    def __init__(self, held: str) -> None:
        super().__init__(f"it holds {held}")
        self.held = held


class AlreadyDemo(Exception):
    """The database is the demo archive already: `state` is LOADED, or LOADING for a load that
    did not finish (or still runs)."""

    def __init__(self, state: str) -> None:
        super().__init__(f"it is the demo archive already ({state})")
        self.state = state


def is_loopback(host: str) -> bool:
    """Return True when `host` (an address or `localhost`, IPv6 bracketed or not) is reached
    only from this machine; a name that is not `localhost` is never taken for loopback."""
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def what_is_there(db: str) -> str | None:
    """Return None when `db` is new (a SQLite file that does not exist or holds no table, a
    PostgreSQL schema holding no table, read as the owner), else what it holds, in words:
    events, tokens, or the tables of a migration run. Raises the backend's error (or
    ArchiveError) when it cannot be read (a file that is not SQLite's is not new)."""
    from starosta.service.backends import backend_for

    backend = backend_for(db)
    with backend.read_only(owner=True) as conn:
        if conn is None:
            return None
        tables = backend.table_names(conn)
        if not tables:
            return None
        held = []
        if "events" in tables:
            events = conn.execute("SELECT count(*) FROM events").fetchone()[0]
            if events:
                held.append(_count(events, "event"))
        if "tokens" in tables:
            tokens = conn.execute("SELECT count(*) FROM tokens").fetchone()[0]
            if tokens:
                held.append(_count(tokens, "token"))
        if not held and migrations.BOOKKEEPING not in tables:  # another application's
            return migrations.foreign_tables(sorted(tables)).removeprefix("it holds ")
        return ", ".join(held) or f"{_count(len(tables), 'table')} of an earlier run"


def demo_state(db: str, *, owner: bool = False) -> str | None:
    """Return LOADING or LOADED when `db` carries the demo marker, LOADED when the demo's public
    tokens are live in it without one (loaded by a starosta older than the marker), None for
    any other archive (or none at all). Read as the URL's role on PostgreSQL (the owner's with
    `owner`)."""
    from starosta.service.backends import backend_for

    backend = backend_for(db)
    with backend.read_only(owner=owner) as conn:
        if conn is None:
            return None
        tables = backend.table_names(conn)
        if "archive_meta" in tables:
            row = conn.execute("SELECT value FROM archive_meta WHERE kind = ?", (DEMO,)).fetchone()
            if row is not None:
                return row[0]
        if "tokens" in tables and public_tokens_live(conn):
            return LOADED
        return None


def public_tokens_live(conn: Any) -> bool:
    """Return True when a live token of `conn`'s archive is one of the demo's public ones."""
    digests = [hashlib.sha256(t.encode("utf-8")).hexdigest() for t in PUBLIC_TOKENS]
    marks = ", ".join("?" * len(digests))
    return conn.execute(f"SELECT count(*) FROM tokens WHERE revoked_at IS NULL "
                        f"AND token_hash IN ({marks})", digests).fetchone()[0] > 0


def mark(tx: Any, state: str) -> None:
    """Write the demo marker in state `state` inside the open write transaction `tx` (the
    owner's, on PostgreSQL)."""
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    if state == LOADING:
        tx.execute("INSERT INTO archive_meta (kind, value, recorded_at) VALUES (?, ?, ?)",
                   (DEMO, state, now))
    else:
        tx.execute("UPDATE archive_meta SET value = ?, recorded_at = ? WHERE kind = ?",
                   (state, now, DEMO))


def claim(tx: Any) -> None:
    """Write the demo marker (LOADING) inside the open write transaction `tx` of a migrated
    archive that holds nothing: no events, no tokens, no marker. Raises AlreadyDemo when
    another load marked it first, NotNew when it holds anything else."""
    if tx.execute("SELECT value FROM archive_meta WHERE kind = ?", (DEMO,)).fetchone():
        raise AlreadyDemo(LOADING)
    held = holdings(tx)
    if held is not None:
        raise NotNew(held)
    mark(tx, LOADING)


def holdings(tx: Any) -> str | None:
    """What the migrated archive of the open transaction `tx` holds that a new one does not
    (events, tokens, a marker), in words; None when it holds nothing."""
    held = []
    for table, what in (("events", "event"), ("tokens", "token"), ("archive_meta", "mark")):
        count = tx.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # our own names only
        if count:
            held.append(_count(count, what))
    return ", ".join(held) or None


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")
