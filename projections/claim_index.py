"""A base for read models that index some claims by what they are about, keeping each row's
review status and supersession current from the claim events alone.

Each indexed table has the columns `claim_id`, `status`, `superseded_by` first. Each such
projection keeps its own record of which claim supersedes which, so it can be rebuilt alone,
from the log, without reading another projection's tables.
"""

from __future__ import annotations

import sqlite3

from starosta.events.review import ClaimApproved, ClaimContested, ClaimRejected, ClaimRetracted, ClaimSubmitted
from starosta.events.store import Envelope
from starosta.projections.rules import Supersession
from starosta.projections.runner import Tables

STATUS = {ClaimApproved: "approved", ClaimRejected: "rejected", ClaimContested: "contested",
          ClaimRetracted: "retracted"}


class ClaimIndex:
    """Subclasses set `name`, `version`, `indexed` (their claim tables), `ddl` (those tables
    plus a '<name>_supersession' table) and `rows(event, envelope) -> {table: [row, ...]}`."""

    name: str
    version: int
    indexed: tuple[str, ...]
    ddl: dict[str, list[str]]

    def rows(self, submitted: ClaimSubmitted, envelope: Envelope) -> dict[str, list[tuple]]:
        raise NotImplementedError

    def apply(self, conn: sqlite3.Connection, envelope: Envelope, t: Tables) -> None:
        e = envelope.event
        supersession = t[f"{self.name}_supersession"]
        if isinstance(e, ClaimSubmitted):
            Supersession.submitted(conn, supersession, e.claim_id, e.claim.supersedes, envelope.position)
            for table, rows in self.rows(e, envelope).items():
                if rows:
                    marks = ",".join("?" * len(rows[0]))
                    conn.executemany(f"INSERT INTO {t[table]} VALUES ({marks})", rows)
            return
        status = STATUS.get(type(e))
        if status is None:
            return
        claim_id = e.claim_id  # type: ignore[attr-defined]
        changed = Supersession.reviewed(conn, supersession, claim_id, status)
        for table in self.indexed:
            conn.execute(f"UPDATE {t[table]} SET status = ? WHERE claim_id = ?", (status, claim_id))
            if changed is not None:
                conn.execute(f"UPDATE {t[table]} SET superseded_by = ? WHERE claim_id = ?",
                             (changed[1], changed[0]))
