"""The claims read model: every claim with its review state and history, indexed by the
entities and source it refers to: the review queue and `GET /claims/{id}` read it."""

from __future__ import annotations

import sqlite3

import msgspec

from starosta.events.dates import sort_key
from starosta.events.kinds import kind_of, refs_of
from starosta.events.review import (
    ClaimApproved,
    ClaimContested,
    ClaimRejected,
    ClaimRetracted,
    ClaimSubmitted,
)
from starosta.events.store import Envelope
from starosta.projections.rules import Supersession
from starosta.projections.runner import Tables

_encode = msgspec.json.Encoder().encode


class ClaimsProjection:
    """One row per claim, its references, and one row per review decision."""

    name = "claims"
    version = 3
    ddl = {
        "claims_supersession": Supersession.ddl(),
        "claims": ["""CREATE TABLE {name} (
            id TEXT PRIMARY KEY, kind TEXT NOT NULL, status TEXT NOT NULL,
            contributor TEXT NOT NULL, source_id TEXT NOT NULL, version INTEGER NOT NULL,
            submitted_position INTEGER NOT NULL, updated_position INTEGER NOT NULL,
            submitted_at TEXT NOT NULL, contested_by TEXT, supersedes TEXT, superseded_by TEXT,
            earliest TEXT, data TEXT NOT NULL)""",
            "CREATE INDEX {name}_status ON {name} (status, submitted_position)",
            "CREATE INDEX {name}_source ON {name} (source_id, submitted_position)",
            "CREATE INDEX {name}_contributor ON {name} (contributor, submitted_position)",
            "CREATE INDEX {name}_supersedes ON {name} (supersedes)"],
        "claim_refs": ["""CREATE TABLE {name} (
            claim_id TEXT NOT NULL, entity_id TEXT NOT NULL, field TEXT NOT NULL,
            PRIMARY KEY (entity_id, claim_id, field))"""],
        "claim_reviews": ["""CREATE TABLE {name} (
            claim_id TEXT NOT NULL, version INTEGER NOT NULL, position INTEGER NOT NULL,
            action TEXT NOT NULL, actor TEXT NOT NULL, reason TEXT, citation TEXT,
            resolves_contest INTEGER NOT NULL, recorded_at TEXT NOT NULL,
            PRIMARY KEY (claim_id, version))"""],
    }

    def apply(self, conn: sqlite3.Connection, envelope: Envelope, t: Tables) -> None:
        e, pos = envelope.event, envelope.position
        match e:
            case ClaimSubmitted():
                claim = e.claim
                dates = sorted(e.dates.values(), key=sort_key)
                earliest = dates[0].earliest.isoformat() if dates and dates[0].earliest else None
                conn.execute(
                    f"INSERT INTO {t['claims']} VALUES (?,?,?,?,?,?,?,?,?,NULL,?,NULL,?,?)",
                    (e.claim_id, kind_of(claim), "pending", e.contributor, claim.citation.source,
                     envelope.version, pos, pos, envelope.recorded_at, claim.supersedes, earliest,
                     _encode({"claim": claim, "dates": e.dates})))
                conn.executemany(f"INSERT OR IGNORE INTO {t['claim_refs']} VALUES (?, ?, ?)",
                                 [(e.claim_id, ref, field) for field, _, ref in refs_of(claim)])
                Supersession.submitted(conn, t["claims_supersession"], e.claim_id, claim.supersedes, pos)
                self._review(conn, t, envelope, "submit", e.contributor, None, None, False)
            case ClaimApproved():
                self._status(conn, t, envelope, "approved", None)
                self._review(conn, t, envelope, "approve", e.reviewer, e.reason, None,
                             e.resolves_contest)
            case ClaimRejected():
                self._status(conn, t, envelope, "rejected", None)
                self._review(conn, t, envelope, "reject", e.reviewer, e.reason, None,
                             e.resolves_contest)
            case ClaimContested():
                self._status(conn, t, envelope, "contested", e.reviewer)
                self._review(conn, t, envelope, "contest", e.reviewer, e.reason,
                             _encode(e.citation) if e.citation else None, False)
            case ClaimRetracted():
                self._status(conn, t, envelope, "retracted", None)
                self._review(conn, t, envelope, "retract", e.contributor, e.reason, None, False)

    @staticmethod
    def _status(conn, t, envelope: Envelope, status: str, contested_by: str | None) -> None:
        claim_id = envelope.event.claim_id  # type: ignore[attr-defined]
        conn.execute(f"UPDATE {t['claims']} SET status = ?, contested_by = ?, version = ?, "
                     f"updated_position = ? WHERE id = ?",
                     (status, contested_by, envelope.version, envelope.position, claim_id))
        changed = Supersession.reviewed(conn, t["claims_supersession"], claim_id, status)
        if changed is not None:
            conn.execute(f"UPDATE {t['claims']} SET superseded_by = ? WHERE id = ?",
                         (changed[1], changed[0]))

    @staticmethod
    def _review(conn, t, envelope: Envelope, action, actor, reason, citation, resolves) -> None:
        conn.execute(f"INSERT INTO {t['claim_reviews']} VALUES (?,?,?,?,?,?,?,?,?)",
                     (envelope.event.claim_id, envelope.version, envelope.position,  # type: ignore[attr-defined]
                      action, actor, reason, citation, int(resolves), envelope.recorded_at))
