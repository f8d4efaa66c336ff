"""A base for read models that index some claims by what they are about, keeping each row's
review status and supersession current from the claim events alone.

Each indexed table has the columns `claim_id`, `status`, `superseded_by` first. Each such
projection keeps its own record of which claim supersedes which, so it can be rebuilt alone,
from the log, without reading another projection's tables.

A deprecated claim leaves what these read models count: while it is approved and ranked
deprecated, its rows' `status` is 'deprecated' (never among the statuses a query counts), and
it becomes 'approved' again when the rank is lifted. Each projection keeps the deprecated claims
in its own '<name>_ranks' table, so a rank outlives a contest that is dismissed.

A suppressed claim (an admin's take-down) leaves them too, for every reader: while it is
suppressed its rows' `status` is 'suppressed', and the status it would have is kept in
'<name>_suppressed' (reviews and ranks while suppressed update that), to come back on unsuppress.
"""

from __future__ import annotations


from starosta.events.claim_rules import (
    DEPRECATED,
    SUPPRESSED,
    indexed_status,
    status_after,
)
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


def ranks_ddl() -> list[str]:
    """The DDL of a projection's record of its deprecated claims (a table named `{name}`)."""
    return ["CREATE TABLE {name} (claim_id TEXT PRIMARY KEY)"]


class ClaimIndex(Projection):
    """Subclasses set `name`, `version`, `indexed` (their claim tables), `ddl` (those tables
    plus a '<name>_supersession' table) and `rows(event, envelope) -> {table: [row, ...]}`."""

    name: str
    version: int
    indexed: tuple[str, ...]
    ddl: dict[str, list[str]]

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__:
            cls.ddl = {**cls.ddl, f"{cls.name}_ranks": ranks_ddl(),
                       f"{cls.name}_suppressed": ["CREATE TABLE {name} (claim_id TEXT PRIMARY KEY, "
                                                  "status TEXT NOT NULL)"]}

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
        ranks, suppressed = t[f"{self.name}_ranks"], t[f"{self.name}_suppressed"]
        if isinstance(e, (ContentSuppressed, ContentUnsuppressed)):
            if e.target_kind == "claim":
                self._suppression(conn, t, e.target, isinstance(e, ContentSuppressed))
            return
        if not isinstance(e, CHANGES):
            return
        held = conn.execute(f"SELECT status FROM {suppressed} WHERE claim_id = ?",
                            (e.claim_id,)).fetchone()
        if isinstance(e, ClaimRanked):
            deprecated = e.rank == DEPRECATED
            if deprecated:
                conn.execute(f"INSERT INTO {ranks} VALUES (?) ON CONFLICT DO NOTHING", (e.claim_id,))
            else:
                conn.execute(f"DELETE FROM {ranks} WHERE claim_id = ?", (e.claim_id,))
            # an approved claim's rows move between the two statuses an approved claim is indexed with
            old, new = indexed_status("approved", not deprecated), indexed_status("approved", deprecated)
            if held is not None:  # suppressed: the status it comes back with changes
                conn.execute(f"UPDATE {suppressed} SET status = ? WHERE claim_id = ? AND status = ?",
                             (new, e.claim_id, old))
                return
            for table in self.indexed:
                conn.execute(f"UPDATE {t[table]} SET status = ? WHERE claim_id = ? AND status = ?",
                             (new, e.claim_id, old))
            return
        claim_id = e.claim_id
        before = held[0] if held else self._status_of(conn, t, claim_id)
        status = status_after(before, e)
        changed = Supersession.reviewed(conn, supersession, claim_id, status)
        shown = indexed_status(status, conn.execute(f"SELECT 1 FROM {ranks} WHERE claim_id = ?",
                                                    (claim_id,)).fetchone() is not None)
        if held is not None:  # suppressed: keep the status it comes back with, rows stay out
            conn.execute(f"UPDATE {suppressed} SET status = ? WHERE claim_id = ?", (shown, claim_id))
            shown = SUPPRESSED
        for table in self.indexed:
            conn.execute(f"UPDATE {t[table]} SET status = ? WHERE claim_id = ?", (shown, claim_id))
            if changed is not None:
                conn.execute(f"UPDATE {t[table]} SET superseded_by = ? WHERE claim_id = ?",
                             (changed[1], changed[0]))
