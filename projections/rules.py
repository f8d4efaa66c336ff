"""The rules every read model shares, each written once: who may see a claim, and which claim
supersedes which.

Visibility: an approved claim is public, and so is a disputed one (approved, then contested:
shown marked `disputed`, with the contest, but counted in no figure until the contest is
resolved); any other claim is seen by reviewers (and admins) and by the contributor who
submitted it. Pending and contested claims enter documents only when the reader asks for them
(`include=pending`); rejected and retracted ones never do.

Supersession: a claim is superseded while an approved claim superseding it exists; among several
approved successors, the one submitted last (the highest submission position) wins. Every read
model that needs it keeps its own record (so that it can be rebuilt alone from the log) through
`Supersession`, so the rule's code exists once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import msgspec
from starosta.events.store import Connection

# Statuses anyone may read (VISIBLE), a document shows by default (PUBLIC), figures count by
# default (COUNTED: populations, totals, ledgers, conflicts, agreements), and with include=pending.
VISIBLE: tuple[str, ...] = ("approved", "disputed")
PUBLIC: tuple[str, ...] = VISIBLE
COUNTED: tuple[str, ...] = ("approved",)
WITH_PENDING: tuple[str, ...] = ("approved", "disputed", "pending", "contested")


class Viewer(msgspec.Struct, frozen=True):
    """Who reads: a name and an account id (None when anonymous) and whether they review
    (reviewers and admins)."""

    name: str | None = None
    reviewer: bool = False
    admin: bool = False
    account: str | None = None

    @property
    def aliases(self) -> tuple[str, ...]:
        """The values that denote this reader as a claim's contributor: the account id (new
        rows) and the name (rows written before accounts)."""
        return tuple(v for v in (self.account, self.name) if v)


def is_own(viewer: Viewer, contributor: str) -> bool:
    """Return True when `contributor` (an account id, or a name in older rows) is `viewer`."""
    return contributor in viewer.aliases


def may_see(viewer: Viewer, status: str, contributor: str) -> bool:
    """Return True when `viewer` may read a claim in `status` submitted by `contributor`."""
    return status in VISIBLE or viewer.reviewer or is_own(viewer, contributor)


def sees_suppressed(viewer: Viewer) -> bool:
    """Return True when `viewer` reads the content of a suppressed claim or entity (marked
    suppressed): reviewers and admins. Everyone else sees only that it was suppressed, when and
    why, in every read (documents, figures, search, the log, the feed, snapshots, as_of)."""
    return viewer.reviewer


def may_see_sql(viewer: Viewer, status: str = "status",
                contributor: str = "contributor") -> tuple[str, tuple]:
    """Return `may_see` as an SQL condition on the named columns, with its parameters."""
    if viewer.reviewer:
        return "TRUE", ()
    marks = ", ".join(f"'{s}'" for s in VISIBLE)  # constants of this module, never input
    own = viewer.aliases or ("",)  # no token has an empty name
    return (f"({status} IN ({marks}) OR {contributor} IN ({','.join('?' * len(own))}))",
            own)


def shown(viewer: Viewer, status: str, contributor: str, statuses: Sequence[str]) -> bool:
    """Return True when a claim enters a document read with `statuses` (PUBLIC or
    WITH_PENDING): its status is among them and the viewer may see it."""
    return status in statuses and may_see(viewer, status, contributor)


def counted_statuses(viewer: Viewer, include: str | None, what: str) -> tuple[str, ...]:
    """Return the statuses a population or ledger counts: COUNTED, or with include=pending
    WITH_PENDING, which only reviewers may ask for (Unauthenticated without a token, Forbidden
    below reviewer)."""
    from starosta.events.errors import Forbidden, Unauthenticated

    if include != "pending":
        return COUNTED
    if viewer.name is None:
        raise Unauthenticated(f"include=pending on {what} needs a reviewer's token")
    if not viewer.reviewer:
        raise Forbidden(f"include=pending on {what} needs the reviewer role")
    return WITH_PENDING


def successors(successions: Iterable[tuple[str, str, int, str]]) -> dict[str, str]:
    """Return claim superseded -> the claim superseding it, given (claim superseded, status,
    submission position, id) of every superseding claim: of the approved ones, the one
    submitted last (the rule of `Supersession`, for replays held in memory)."""
    best: dict[str, tuple[int, str]] = {}
    for target, status, position, claim_id in successions:
        if status == "approved" and (target not in best or position > best[target][0]):
            best[target] = (position, claim_id)
    return {target: claim_id for target, (_, claim_id) in best.items()}


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
