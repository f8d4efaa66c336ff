"""A base for read models that index some claims by what they are about, keeping each row's
review status, rank and supersession current from the claim events alone.

Each indexed table has the columns `claim_id`, `status`, `superseded_by`, `rank` first. Each
such projection keeps its own record of which claim supersedes which, so it can be rebuilt
alone, from the log, without reading another projection's tables.

The rank is stored one way, as the claims read model stores it: `rank` holds the claim's
('normal' | 'preferred' | 'deprecated'; 'normal' until a reviewer ranks it) and `status` its
review status. A claim ranked deprecated leaves what these read models count (the predicate,
`counts_sql` in projections/rules.py, reads `rank`); a review changes no rank, so a rank
outlives a contest that is dismissed.

A suppressed claim (an admin's take-down) leaves them too, for every reader: while it is
suppressed its rows' `status` is 'suppressed', and the status it would have is kept in
'<name>_suppressed' (reviews while suppressed update that), to come back on unsuppress. Ranks
while suppressed update `rank` as ever.
"""

from __future__ import annotations


from starosta.events.claim_rules import SUPPRESSED, status_after
from starosta.events.review import (
    ClaimApproved,
    ClaimContested,
    ClaimRanked,
    ClaimRejected,
    ClaimRetracted,
    ClaimSubmitted,
    ContentSuppressed,
    ContentUnsuppressed,
)
from starosta.events.store import Connection, Envelope
from starosta.projections.rules import Supersession
from starosta.projections.runner import Projection, Tables

# The events after which a claim may count differently: its review, and its rank
REVIEWS = (ClaimApproved, ClaimRejected, ClaimContested, ClaimRetracted)
CHANGES = (*REVIEWS, ClaimRanked)


def changed_claim(event: object) -> str | None:
    """Return the claim whose rows an event may make count or stop counting (a review, a rank,
    a claim's suppression or unsuppression), else None."""
    if type(event) in CHANGES:
        return event.claim_id  # type: ignore[attr-defined]
    if isinstance(event, (ContentSuppressed, ContentUnsuppressed)) and event.target_kind == "claim":
        return event.target
    return None


class ClaimIndex(Projection):
    """Subclasses set `name`, `version`, `indexed` (their claim tables), `ddl` (those tables
    plus a '<name>_supersession' table) and `rows(event, envelope) -> {table: [row, ...]}`
    (each row starting (claim_id, 'pending', None, 'normal'))."""

    name: str
    version: int
    indexed: tuple[str, ...]
    ddl: dict[str, list[str]]

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__:
            cls.ddl = {**cls.ddl, f"{cls.name}_suppressed": [
                "CREATE TABLE {name} (claim_id TEXT PRIMARY KEY, status TEXT NOT NULL)"]}

    def rows(self, submitted: ClaimSubmitted, envelope: Envelope) -> dict[str, list[tuple]]:
        raise NotImplementedError

    def _suppression(self, conn: Connection, t: Tables, claim_id: str, on: bool) -> None:
        """Take a claim's rows out of every count (on), or give them back their status (off)."""
        suppressed = t[f"{self.name}_suppressed"]
        held = conn.execute(f"SELECT status FROM {suppressed} WHERE claim_id = ?",
                            (claim_id,)).fetchone()
        if on and held is None:
            status = self._status_of(conn, t, claim_id)
            if not status:
                return  # none of its rows here
            conn.execute(f"INSERT INTO {suppressed} VALUES (?, ?)", (claim_id, status))
            new = SUPPRESSED
        elif not on and held is not None:
            conn.execute(f"DELETE FROM {suppressed} WHERE claim_id = ?", (claim_id,))
            new = held[0]
        else:
            return
        for table in self.indexed:
            conn.execute(f"UPDATE {t[table]} SET status = ? WHERE claim_id = ?", (new, claim_id))

    def _status_of(self, conn: Connection, t: Tables, claim_id: str) -> str:
        """Return the status this projection's rows of a claim hold ('' when it has none)."""
        for table in self.indexed:
            row = conn.execute(f"SELECT status FROM {t[table]} WHERE claim_id = ? LIMIT 1",
                               (claim_id,)).fetchone()
            if row:
                return row[0]
        return ""

    def apply(self, conn: Connection, envelope: Envelope, t: Tables) -> None:
        e = envelope.event
        supersession = t[f"{self.name}_supersession"]
        if isinstance(e, ClaimSubmitted):
            Supersession.submitted(conn, supersession, e.claim_id, e.claim.supersedes, envelope.position)
            for table, rows in self.rows(e, envelope).items():
                if rows:
                    marks = ",".join("?" * len(rows[0]))
                    conn.executemany(f"INSERT INTO {t[table]} VALUES ({marks})", rows)
            return
        suppressed = t[f"{self.name}_suppressed"]
        if isinstance(e, (ContentSuppressed, ContentUnsuppressed)):
            if e.target_kind == "claim":
                self._suppression(conn, t, e.target, isinstance(e, ContentSuppressed))
            return
        if not isinstance(e, CHANGES):
            return
        if isinstance(e, ClaimRanked):  # suppressed or not: the rank changes no status
            for table in self.indexed:
                conn.execute(f"UPDATE {t[table]} SET rank = ? WHERE claim_id = ?",
                             (e.rank, e.claim_id))
            return
        claim_id = e.claim_id
        held = conn.execute(f"SELECT status FROM {suppressed} WHERE claim_id = ?",
                            (claim_id,)).fetchone()
        before = held[0] if held else self._status_of(conn, t, claim_id)
        shown = status_after(before, e)
        changed = Supersession.reviewed(conn, supersession, claim_id, shown)
        if held is not None:  # suppressed: keep the status it comes back with, rows stay out
            conn.execute(f"UPDATE {suppressed} SET status = ? WHERE claim_id = ?", (shown, claim_id))
            shown = SUPPRESSED
        for table in self.indexed:
            conn.execute(f"UPDATE {t[table]} SET status = ? WHERE claim_id = ?", (shown, claim_id))
            if changed is not None:
                conn.execute(f"UPDATE {t[table]} SET superseded_by = ? WHERE claim_id = ?",
                             (changed[1], changed[0]))
