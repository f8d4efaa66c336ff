"""The search read model: every public name of persons, places, organisations and funds,
normalised (one transliteration scheme, casefolded, accents dropped) in an FTS5 index.

Indexed: registration labels and place aliases (public at once), and name claims while they
are approved and not superseded (the rule of `projections.rules`); `name_claims` keeps every name
claim with its status, so a name comes back when the claim superseding it loses its approval.
"""

from __future__ import annotations

import sqlite3

import msgspec

from starosta.events.kinds import NameClaim
from starosta.events.registry import (
    FundRegistered,
    OrganizationRegistered,
    PersonRegistered,
    PlaceRegistered,
)
from starosta.events.review import ClaimApproved, ClaimContested, ClaimRejected, ClaimRetracted, ClaimSubmitted
from starosta.events.store import Envelope
from starosta.projections import names, registry
from starosta.projections.claim_index import STATUS
from starosta.projections.rules import Supersession
from starosta.projections.runner import Tables


class SearchProjection:
    """Names -> entities, searchable by any variant in any script."""

    name = "search"
    version = 3
    ddl = {
        "name_index": ["""CREATE VIRTUAL TABLE {name} USING fts5(
            normal, entity_kind UNINDEXED, entity_id UNINDEXED, name UNINDEXED,
            claim_id UNINDEXED, tokenize = 'unicode61', prefix = '2 3 4')"""],
        # every name claim with its review status: indexed while approved and not superseded
        "name_claims": ["""CREATE TABLE {name} (
            claim_id TEXT PRIMARY KEY, entity_kind TEXT NOT NULL, entity_id TEXT NOT NULL,
            name TEXT NOT NULL, status TEXT NOT NULL)"""],
        # FTS5 cannot index claim_id: this maps a name claim to its row, so that removing a
        # name is a lookup, not a scan of the whole index
        "name_index_claims": ["""CREATE TABLE {name} (
            claim_id TEXT NOT NULL, fts_rowid INTEGER NOT NULL, PRIMARY KEY (claim_id, fts_rowid))"""],
        "search_supersession": Supersession.ddl(),
    }

    def apply(self, conn: sqlite3.Connection, envelope: Envelope, t: Tables) -> None:
        e = envelope.event
        match e:
            case PersonRegistered():
                self._index(conn, t, "person", e.person_id, e.label, None)
            case PlaceRegistered():
                for label in (e.label, *e.aliases):
                    self._index(conn, t, "place", e.place_id, label, None)
                if e.identification is not None:
                    self._index(conn, t, "place", e.place_id, e.identification.said, None)
            case OrganizationRegistered():
                self._index(conn, t, "organization", e.organization_id, e.label, None)
            case FundRegistered():
                self._index(conn, t, "fund", e.fund_id, e.label, None)
            case ClaimSubmitted(claim=claim):
                Supersession.submitted(conn, t["search_supersession"], e.claim_id, claim.supersedes,
                                       envelope.position)
                if isinstance(claim, NameClaim):
                    kind, entity = next((k, getattr(claim, k)) for k in
                                        ("person", "place", "organization", "fund")
                                        if getattr(claim, k) is not None)
                    conn.execute(f"INSERT INTO {t['name_claims']} VALUES (?, ?, ?, ?, 'pending')",
                                 (e.claim_id, kind, entity, claim.name))
            case ClaimApproved() | ClaimRejected() | ClaimContested() | ClaimRetracted():
                conn.execute(f"UPDATE {t['name_claims']} SET status = ? WHERE claim_id = ?",
                             (STATUS[type(e)], e.claim_id))
                self._sync(conn, t, e.claim_id)
                changed = Supersession.reviewed(conn, t["search_supersession"], e.claim_id,
                                                STATUS[type(e)])
                if changed is not None:
                    self._sync(conn, t, changed[0])

    def _sync(self, conn, t, claim_id: str) -> None:
        """Index a name claim while it is approved and not superseded; unindex it otherwise."""
        row = conn.execute(f"SELECT entity_kind, entity_id, name, status FROM {t['name_claims']} "
                           "WHERE claim_id = ?", (claim_id,)).fetchone()
        if row is None:
            return
        wanted = row[3] == "approved" and Supersession.successor(
            conn, t["search_supersession"], claim_id) is None
        indexed = conn.execute(f"SELECT 1 FROM {t['name_index_claims']} WHERE claim_id = ?",
                               (claim_id,)).fetchone() is not None
        if wanted and not indexed:
            self._index(conn, t, row[0], row[1], row[2], claim_id)
        elif indexed and not wanted:
            self._unindex(conn, t, claim_id)

    @staticmethod
    def _index(conn, t, kind: str, entity: str, name: str, claim_id: str | None) -> None:
        normal = names.normalise(name)
        if normal:
            cursor = conn.execute(f"INSERT INTO {t['name_index']} (normal, entity_kind, entity_id, name, "
                                  f"claim_id) VALUES (?, ?, ?, ?, ?)", (normal, kind, entity, name, claim_id))
            if claim_id is not None:
                conn.execute(f"INSERT INTO {t['name_index_claims']} VALUES (?, ?)",
                             (claim_id, cursor.lastrowid))

    @staticmethod
    def _unindex(conn, t, claim_id: str) -> None:
        rows = conn.execute(f"SELECT fts_rowid FROM {t['name_index_claims']} WHERE claim_id = ?",
                            (claim_id,)).fetchall()
        if rows:
            conn.executemany(f"DELETE FROM {t['name_index']} WHERE rowid = ?", rows)
            conn.execute(f"DELETE FROM {t['name_index_claims']} WHERE claim_id = ?", (claim_id,))


def search(conn: sqlite3.Connection, entity_kind: str, q: str, limit: int, offset: int = 0) -> list[tuple[str, str]]:
    """Return (entity id, matched name) for entities of a kind whose names match `q`.

    Every word of `q` must match a word prefix of one name; best matches first (FTS5 rank),
    each entity once.
    """
    expression = names.fts_query(q)
    if expression is None:
        return []
    rows = conn.execute(
        "SELECT entity_id, name, min(rank) AS best FROM name_index WHERE name_index MATCH ? "
        "AND entity_kind = ? GROUP BY entity_id ORDER BY best, entity_id LIMIT ? OFFSET ?",
        (expression, entity_kind, limit, offset)).fetchall()
    return [(r[0], r[1]) for r in rows]


class SearchHit(msgspec.Struct, kw_only=True):
    id: str
    label: str
    matched: str | None


class SearchPage(msgspec.Struct):
    items: list[SearchHit]
    next: str | None


SEARCH_CAP = 1000  # entities a search ranks before paging (merged records fold into survivors)


def find(conn: sqlite3.Connection, kind: str, q: str | None, offset: int, limit: int) -> SearchPage:
    """Search (or list, without q) entities of a kind, best first; merged persons answer as
    their survivors, each once across all pages."""
    if q:
        ranked: dict[str, str | None] = {}
        found = search(conn, kind, q, SEARCH_CAP)
        alive = registry.survivors(conn, [f[0] for f in found]) if kind == "person" else {}
        for entity_id, matched in found:
            ranked.setdefault(alive.get(entity_id, entity_id), matched)
        hits = list(ranked.items())[offset:offset + limit + 1]
    else:
        hits = [(i, None) for i in registry.list_page(conn, kind, limit + 1, offset)]
    labels = registry.labels(conn, [h[0] for h in hits[:limit]])
    items = [SearchHit(id=entity_id, label=labels.get(entity_id, entity_id), matched=matched)
             for entity_id, matched in hits[:limit]]
    return SearchPage(items, str(offset + limit) if len(hits) > limit else None)
