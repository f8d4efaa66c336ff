"""The SQL form of the claim's rules (events/claim_rules.py holds them as pure functions, and
this module re-exports them for the read models): who may see a claim, which claims count, and
which claim supersedes which.

Supersession: a claim is superseded while an approved claim superseding it exists; among several
approved successors, the one submitted last (the highest submission position) wins. Every read
model that needs it keeps its own record (so that it can be rebuilt alone from the log) through
`Supersession`, so the rule's code exists once.
"""

from __future__ import annotations

from collections.abc import Sequence

from starosta.events.store import Connection

from starosta.events.claim_rules import (  # noqa: F401  (re-exported for the read models)
    COUNTED,
    DEPRECATED,
    PUBLIC,
    VISIBLE,
    WITH_PENDING,
    Viewer,
    check_listing,
    counted_statuses,
    counts,
    document_statuses,
    is_own,
    may_see,
    sees_suppressed,
    shown,
    successors,
)


def may_see_sql(viewer: Viewer, status: str = "status",
                contributor: str = "contributor") -> tuple[str, tuple]:
    """Return `may_see` as an SQL condition on the named columns, with its parameters."""
    if viewer.reviewer:
        return "TRUE", ()
    marks = ", ".join(f"'{s}'" for s in VISIBLE)  # constants of this module, never input
    own = viewer.aliases or ("",)  # no token has an empty name
    return (f"({status} IN ({marks}) OR {contributor} IN ({','.join('?' * len(own))}))",
            own)


def counts_sql(statuses: Sequence[str], alias: str = "") -> tuple[str, tuple[str, ...]]:
    """Return `claim_rules.counts` as an SQL condition on a claim index's rows (whose `status`
    holds the suppression too: claim_index.py), with its parameters: not superseded, status
    among `statuses`, not ranked deprecated. `alias`: the table's alias ("c"), or none."""
    a = f"{alias}." if alias else ""
    where = (f"{a}superseded_by IS NULL AND {a}status IN ({','.join('?' * len(statuses))}) "
             f"AND {a}rank <> '{DEPRECATED}'")
    return where, tuple(statuses)


# `counts_sql(COUNTED)` written out, for a selected column (one value per row) or a condition
# with no parameters: approved, not superseded, not ranked deprecated
COUNTS_APPROVED = f"status = 'approved' AND superseded_by IS NULL AND rank <> '{DEPRECATED}'"


class Supersession:
    """One read model's record of which claim supersedes which, and the supersession rule."""

    @staticmethod
    def ddl() -> list[str]:
        """The DDL of the record (a table named `{name}`)."""
        return ["CREATE TABLE {name} (claim_id TEXT PRIMARY KEY, supersedes TEXT NOT NULL, "
                "approved INTEGER NOT NULL DEFAULT 0, position INTEGER NOT NULL)",
                "CREATE INDEX {name}_supersedes ON {name} (supersedes, approved, position)"]

    @staticmethod
    def submitted(conn: Connection, table: str, claim_id: str, supersedes: str | None,
                  position: int) -> None:
        """Record a submitted claim that supersedes another (no-op when it supersedes none)."""
        if supersedes:
            conn.execute(f"INSERT INTO {table} VALUES (?, ?, 0, ?)", (claim_id, supersedes, position))

    @staticmethod
    def reviewed(conn: Connection, table: str, claim_id: str,
                 status: str) -> tuple[str, str | None] | None:
        """Record a claim's new review status. When it supersedes a claim, return (that claim,
        its successor now: the rule's winner, or None), else None."""
        row = conn.execute(f"SELECT supersedes FROM {table} WHERE claim_id = ?",
                           (claim_id,)).fetchone()
        if row is None:
            return None
        conn.execute(f"UPDATE {table} SET approved = ? WHERE claim_id = ?",
                     (int(status == "approved"), claim_id))
        return row[0], Supersession.successor(conn, table, row[0])

    @staticmethod
    def successor(conn: Connection, table: str, claim_id: str) -> str | None:
        """Return the claim superseding `claim_id` now: of its approved successors, the one
        submitted last; None when none is approved."""
        row = conn.execute(f"SELECT claim_id FROM {table} WHERE supersedes = ? AND approved = 1 "
                           "ORDER BY position DESC LIMIT 1", (claim_id,)).fetchone()
        return row[0] if row else None
