"""The claims read model: every claim with its review state and history, indexed by the
entities and source it refers to: the review queue and `GET /claims/{id}` read it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, cast

import msgspec
from msgspec import Meta

from starosta.events.claim_rules import (
    DEPRECATED,
    Rank,
    counts,
    denials,
    effective_rank,
    review_state,
    status_after,
)
from starosta.events.dates import DateValue, Length
from starosta.events.kinds import KINDS, Claim, DerivationClaim, NameParts, StatementClaim, ViaLink, kind_of, refs_of
from starosta.events.name_spans import NameSpan
from starosta.events.properties import looks_like_id, value_key
from starosta.events.review import (
    ClaimApproved,
    ClaimContested,
    ClaimRanked,
    ClaimRejected,
    ClaimRetracted,
    CONTESTED,
    ClaimSubmitted,
)
from starosta.events.store import Connection, Envelope
from starosta.projections import registry, sql
from starosta.projections.registry import Ref, Suppression
from starosta.projections.rules import (
    WITH_PENDING,
    Supersession,
    Viewer,
    may_see,
    may_see_sql,
    sees_suppressed,
)
from starosta.projections.runner import Projection, Tables

_encode = msgspec.json.Encoder().encode


class _Stored(msgspec.Struct, omit_defaults=True):
    """The `data` column: the claim as submitted (kept as JSON), its dates' bounds and its
    duration's length."""

    claim: dict[str, Any]
    dates: dict[str, DateValue]
    length: Length | None = None


class ClaimsProjection(Projection):
    """One row per claim, its references, and one row per review decision."""

    name = "claims"
    version = 10  # 10: derivation claims' links in source_links (issue 22); 5: ranks, durations' lengths, source links; 6: disputed (suppression is read
    # from the registry's table at query time); 7: participants (claim_participants, and
    # claim_refs rows of field "participants"); 8: claim_values (statements and qualifiers);
    # 9: claim_links (attributed_to, denies), a deprecated rank's citation in claim_reviews
    ddl = {
        "claims_supersession": Supersession.ddl(),
        "claims": ["""CREATE TABLE {name} (
            id TEXT PRIMARY KEY, kind TEXT NOT NULL, status TEXT NOT NULL,
            contributor TEXT NOT NULL, source_id TEXT NOT NULL, version INTEGER NOT NULL,
            submitted_position INTEGER NOT NULL, updated_position INTEGER NOT NULL,
            submitted_at TEXT NOT NULL, contested_by TEXT, supersedes TEXT, superseded_by TEXT,
            earliest TEXT, data TEXT NOT NULL, rank TEXT NOT NULL DEFAULT 'normal',
            rank_reason TEXT)""",
            "CREATE INDEX {name}_status ON {name} (status, submitted_position)",
            "CREATE INDEX {name}_source ON {name} (source_id, submitted_position)",
            "CREATE INDEX {name}_contributor ON {name} (contributor, submitted_position)",
            "CREATE INDEX {name}_supersedes ON {name} (supersedes)"],
        "claim_refs": ["""CREATE TABLE {name} (
            claim_id TEXT NOT NULL, entity_id TEXT NOT NULL, field TEXT NOT NULL,
            PRIMARY KEY (entity_id, claim_id, field))""",
            "CREATE INDEX {name}_claim ON {name} (claim_id)"],
        # what a cited source derives from, as the citation's `via` names it: (claim, source,
        # the source it derives from, relation)
        "source_links": ["""CREATE TABLE {name} (
            claim_id TEXT NOT NULL, source_id TEXT NOT NULL, derives_from TEXT NOT NULL,
            relation TEXT NOT NULL, PRIMARY KEY (source_id, derives_from, relation, claim_id))""",
            "CREATE INDEX {name}_from ON {name} (derives_from)"],
        # each claim's participants: (claim, person or organisation, role), for
        # GET /claims?participant=&role=
        "claim_participants": ["""CREATE TABLE {name} (
            claim_id TEXT NOT NULL, entity_id TEXT NOT NULL, role TEXT NOT NULL,
            PRIMARY KEY (entity_id, role, claim_id))""",
            "CREATE INDEX {name}_claim ON {name} (claim_id)",
            "CREATE INDEX {name}_role ON {name} (role, claim_id)"],
        # every property value a claim holds: a statement's (`role` "statement", its subject)
        # and each qualifier's ("qualifiers[i]"), by its normalised key (properties.value_key)
        "claim_values": ["""CREATE TABLE {name} (
            claim_id TEXT NOT NULL, role TEXT NOT NULL, property TEXT NOT NULL,
            value_key TEXT NOT NULL, subject TEXT, PRIMARY KEY (claim_id, role))""",
            "CREATE INDEX {name}_property ON {name} (property, value_key)"],
        # statements about statements: a claim's attribution and the claim it denies (only
        # claims with either have a row)
        "claim_links": ["""CREATE TABLE {name} (
            claim_id TEXT PRIMARY KEY, attributed_to TEXT, denies TEXT)""",
            "CREATE INDEX {name}_denies ON {name} (denies)",
            "CREATE INDEX {name}_attributed ON {name} (attributed_to)"],
        "claim_reviews": ["""CREATE TABLE {name} (
            claim_id TEXT NOT NULL, version INTEGER NOT NULL, position INTEGER NOT NULL,
            action TEXT NOT NULL, actor TEXT NOT NULL, reason TEXT, citation TEXT,
            resolves_contest INTEGER NOT NULL, recorded_at TEXT NOT NULL,
            PRIMARY KEY (claim_id, version))"""],
    }

    def apply(self, conn: Connection, envelope: Envelope, t: Tables) -> None:
        e, pos = envelope.event, envelope.position
        match e:
            case ClaimSubmitted():
                claim = e.claim
                known = [d.earliest for d in e.dates.values() if d.earliest is not None]
                earliest = min(known).isoformat() if known else None
                conn.execute(
                    f"INSERT INTO {t['claims']} VALUES (?,?,?,?,?,?,?,?,?,NULL,?,NULL,?,?,'normal',NULL)",
                    (e.claim_id, kind_of(claim), "pending", e.contributor, claim.citation.source,
                     envelope.version, pos, pos, envelope.recorded_at, claim.supersedes, earliest,
                     _encode(_Stored(claim=msgspec.to_builtins(claim), dates=e.dates, length=e.length))))
                conn.executemany(f"INSERT INTO {t['source_links']} VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                                 [(e.claim_id, claim.citation.source, link.source, link.relation)
                                  for link in claim.citation.via if isinstance(link, ViaLink)])
                if isinstance(claim, DerivationClaim):  # a link between registered sources
                    conn.execute(f"INSERT INTO {t['source_links']} VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                                 (e.claim_id, claim.source, claim.derives_from, claim.relation))
                conn.executemany(f"INSERT INTO {t['claim_refs']} VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                                 [(e.claim_id, ref, field) for field, _, ref in refs_of(claim)]
                                 + [(e.claim_id, ref, field) for field, ref in value_refs(claim)])
                conn.executemany(f"INSERT INTO {t['claim_participants']} VALUES (?, ?, ?) "
                                 "ON CONFLICT DO NOTHING",
                                 [(e.claim_id, p.ref, p.role) for p in claim.participants])
                Supersession.submitted(conn, t["claims_supersession"], e.claim_id, claim.supersedes, pos)
                conn.executemany(f"INSERT INTO {t['claim_values']} VALUES (?, ?, ?, ?, ?)",
                                 [(e.claim_id, *row) for row in value_rows(claim)])
                if claim.attributed_to is not None or claim.denies is not None:
                    conn.execute(f"INSERT INTO {t['claim_links']} VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                                 (e.claim_id, claim.attributed_to, claim.denies))
                self._review(conn, t, envelope, "submit", e.contributor, None, None, False)
            case ClaimApproved():
                self._status(conn, t, envelope, status_after("", e), None)
                self._review(conn, t, envelope, "approve", e.reviewer, e.reason, None,
                             e.resolves_contest)
            case ClaimRejected():
                self._status(conn, t, envelope, status_after("", e), None)
                self._review(conn, t, envelope, "reject", e.reviewer, e.reason, None,
                             e.resolves_contest)
            case ClaimContested():
                before = conn.execute(f"SELECT status FROM {t['claims']} WHERE id = ?",
                                      (e.claim_id,)).fetchone()
                self._status(conn, t, envelope, status_after(before[0] if before else "", e),
                             e.reviewer)
                self._review(conn, t, envelope, "contest", e.reviewer, e.reason,
                             _encode(e.citation) if e.citation else None, False)
            case ClaimRetracted():
                self._status(conn, t, envelope, status_after("", e), None)
                self._review(conn, t, envelope, "retract", e.contributor, e.reason, None, False)
            case ClaimRanked():
                conn.execute(f"UPDATE {t['claims']} SET rank = ?, rank_reason = ?, version = ?, "
                             f"updated_position = ? WHERE id = ?",
                             (e.rank, e.reason, envelope.version, pos, e.claim_id))
                self._review(conn, t, envelope, f"rank:{e.rank}", e.reviewer, e.reason,
                             _encode(e.citation) if e.citation else None, False)

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


def value_rows(claim: Claim) -> list[tuple[str, str, str, str | None]]:
    """Return (role, property, value key, subject) for a claim's statement value and each of
    its qualifiers (the property as submitted: its id or its key, both fixed for ever)."""
    rows: list[tuple[str, str, str, str | None]] = []
    if isinstance(claim, StatementClaim):
        rows.append(("statement", claim.property, value_key(claim.value), claim.subject))
    rows += [(f"qualifiers[{i}]", q.property, value_key(q.value), None)
             for i, q in enumerate(claim.qualifiers)]
    return rows


def value_refs(claim: Claim) -> list[tuple[str, str]]:
    """Return (field, entity id) for the property values that name an entity (a string shaped
    as an id: the exile place a sentence's `place` qualifier names, a statement's residence),
    under "value" and "qualifiers[i].value": `GET /claims?place=` finds them, and the
    biography of a person so named shows the claim (`through: "value"`)."""
    values = [(f"qualifiers[{i}].value", q.value) for i, q in enumerate(claim.qualifiers)]
    if isinstance(claim, StatementClaim):
        values.insert(0, ("value", claim.value))
    return [(field, v) for field, v in values if isinstance(v, str) and looks_like_id(v)]


# -- queries: everything that reads the claims read model's tables ------------------------------

# cast: every claim kind in events/kinds.py is declared with an explicit string tag=
REFS_BY_KIND: dict[str, dict[str, str]] = {cast(str, k.__struct_config__.tag): k.REFS for k in KINDS}
MANY_BY_KIND: dict[str, dict[str, str]] = {cast(str, k.__struct_config__.tag): k.MANY for k in KINDS}


class Dispute(msgspec.Struct, kw_only=True, omit_defaults=True):
    """The contest that makes an approved claim disputed, as documents show it: its reason, its
    counter-citation and when (who contested is the claim's own answer, `GET /claims/{id}`:
    `dispute.actor`, shown as its review history shows accounts)."""

    reason: str
    position: int
    recorded_at: str
    citation: dict[str, Any] | None = None


def disputes_of(conn: Connection, claim_ids: Sequence[str],
                tables: Tables | None = None) -> dict[str, Dispute]:
    """Return claim id -> its last contest, for the claims among `claim_ids` that were contested."""
    if not claim_ids:
        return {}
    table = tables["claim_reviews"] if tables else "claim_reviews"
    marks = ",".join("?" * len(claim_ids))
    out = {}
    for cid, reason, citation, position, at in conn.execute(
            f"SELECT claim_id, reason, citation, position, recorded_at FROM {table} "
            f"WHERE claim_id IN ({marks}) AND action = 'contest' ORDER BY claim_id, version",
            tuple(claim_ids)):
        out[cid] = Dispute(reason=reason or "", position=position, recorded_at=at,
                           citation=msgspec.json.decode(citation) if citation else None)
    return out


NAMED = ("person", "place", "organization", "fund")  # the fields a name claim names its entity by


def suppressed_claims(conn: Connection, claim_ids: Sequence[str] | set[str],
                      tables: Tables | None = None) -> dict[str, Suppression]:
    """Return claim id -> the suppression that hides its content, for the claims among
    `claim_ids` that are suppressed themselves or are names of a suppressed entity (suppressing
    an entity hides its names)."""
    ids = sorted(set(claim_ids))
    if not ids:
        return {}
    out = registry.suppressions(conn, ids, tables)
    t = tables or {"claims": "claims", "claim_refs": "claim_refs"}
    named: dict[str, str] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        named.update(conn.execute(
            f"SELECT r.claim_id, r.entity_id FROM {t['claim_refs']} AS r JOIN {t['claims']} AS c "
            f"ON c.id = r.claim_id WHERE r.claim_id IN ({marks}) AND c.kind = 'name' "
            f"AND r.field IN ({','.join('?' * len(NAMED))})", (*chunk, *NAMED)).fetchall())
    entities = registry.suppressions(conn, set(named.values()), tables)
    for claim_id, entity in named.items():
        if entity in entities and claim_id not in out:
            out[claim_id] = entities[entity]
    return out


def all_suppressed(conn: Connection) -> set[str]:
    """Return every claim whose content is suppressed now (`suppressed_claims` for the whole
    archive: the claims suppressed, and the name claims of suppressed entities)."""
    rows = conn.execute(
        "SELECT target FROM suppressions WHERE target_kind = 'claim' UNION "
        "SELECT r.claim_id FROM suppressions AS s JOIN claim_refs AS r ON r.entity_id = s.target "
        "JOIN claims AS c ON c.id = r.claim_id WHERE s.target_kind <> 'claim' AND c.kind = 'name' "
        f"AND r.field IN ({','.join('?' * len(NAMED))})", NAMED)
    return {r[0] for r in rows}


class ClaimView(msgspec.Struct, kw_only=True):
    """A claim as a reader sees it at some point of the log: as submitted, with its dates'
    bounds and its review state."""

    id: str
    kind: str
    status: str
    contributor: str
    version: int
    position: int
    claim: dict[str, Any]
    dates: dict[str, DateValue]
    superseded_by: str | None = None
    rank: str = "normal"
    rank_reason: str | None = None
    length: Length | None = None
    dispute: Dispute | None = None  # while disputed: the contest
    suppressed: Suppression | None = None  # while suppressed (its own, or its entity's)
    # statements about statements (issue 21): the visible claims denying this one, the claim
    # this one denies (its id alone when the reader may not see it), a retraction's citation
    denied_by: list[Linked] = []
    denied: Linked | None = None
    rank_citation: dict[str, Any] | None = None

    @property
    def deprecated(self) -> bool:
        """Out of timelines, totals and conflicts: superseded, or ranked deprecated."""
        return effective_rank(self.rank, self.superseded_by) == DEPRECATED

    @property
    def counted(self) -> bool:
        """In computed figures (totals, conflicts, agreements): approved (not disputed), not
        deprecated, not suppressed."""
        return counts(self.status, self.superseded_by, self.rank, self.suppressed is not None)


_stored = msgspec.json.Decoder(_Stored)


def views_of(conn: Connection, entity_ids: list[str], statuses: Sequence[str],
             viewer: Viewer, tables: Tables | None = None,
             superseded: bool = False, field: str | None = None) -> list[ClaimView]:
    """Return the claims that refer to any of `entity_ids` in any field (in `field` only,
    when given: "group" for the claims whose subject is a group), not superseded (or
    superseded too, with `superseded`), whose status is among `statuses` and which `viewer`
    may see, in submission order."""
    t = tables or {"claims": "claims", "claim_refs": "claim_refs", "claim_reviews": "claim_reviews"}
    marks = ",".join("?" * len(entity_ids))
    status_marks = ",".join("?" * len(statuses))
    seen, seen_args = may_see_sql(viewer)
    # CROSS JOIN keeps SQLite from walking the whole status index in submission order: start
    # from the entities' references (a few rows), then look each claim up by its key
    current = "TRUE" if superseded else "c.superseded_by IS NULL"
    in_field, field_args = ("r.field = ?", (field,)) if field is not None else ("TRUE", ())
    join = sql.ordered_join(conn)
    rows = conn.execute(
        f"SELECT DISTINCT c.id, c.kind, c.status, c.contributor, c.version, c.submitted_position, "
        f"c.data, c.superseded_by, c.rank, c.rank_reason FROM {t['claim_refs']} AS r "
        f"{join} {t['claims']} AS c ON c.id = r.claim_id "
        f"WHERE r.entity_id IN ({marks}) AND {in_field} AND {current} "
        f"AND c.status IN ({status_marks}) AND {seen} ORDER BY c.submitted_position",
        (*entity_ids, *field_args, *statuses, *seen_args)).fetchall()
    views = []
    for cid, kind, status, contributor, version, position, data, by, rank, reason in rows:
        stored = _stored.decode(data)
        views.append(ClaimView(id=cid, kind=kind, status=status, contributor=contributor,
                               version=version, position=position, claim=stored.claim,
                               dates=stored.dates, superseded_by=by, rank=rank,
                               rank_reason=reason, length=stored.length))
    disputes = disputes_of(conn, [v.id for v in views if v.status == "disputed"], t)
    suppressed = suppressed_claims(conn, [v.id for v in views], tables)
    for v in views:
        v.dispute = disputes.get(v.id)
        v.suppressed = suppressed.get(v.id)
    link_views(conn, views, viewer, statuses, tables)
    return views


def link_views(conn: Connection, views: list[ClaimView], viewer: Viewer,
               statuses: Sequence[str] | None, tables: Tables | None = None) -> None:
    """Set each view's denials (both directions: `denied_by`, `denied`) as `viewer` may see
    them, and a deprecated rank's retracting citation (the last rank review's)."""
    t = tables or {"claims": "claims", "claim_links": "claim_links", "claim_reviews": "claim_reviews"}
    pairs = deniers_of(conn, [v.id for v in views], viewer, statuses, tables)
    targets = {v.claim["denies"] for v in views if isinstance(v.claim.get("denies"), str)}
    linked = linked_claims(conn, {p[0] for p in pairs} | targets, viewer, statuses, tables)
    by_denied = denials(pairs)
    for v in views:
        v.denied_by = [linked[c] for c in by_denied.get(v.id, ()) if c in linked]
        if isinstance(v.claim.get("denies"), str):
            v.denied = linked.get(v.claim["denies"], Linked(claim=v.claim["denies"]))
    ranked = [v.id for v in views if v.rank == DEPRECATED]
    if ranked:
        marks = ",".join("?" * len(ranked))
        for cid, citation in conn.execute(
                f"SELECT claim_id, citation FROM {t['claim_reviews']} WHERE claim_id IN ({marks}) "
                "AND action LIKE 'rank:%' ORDER BY claim_id, version", ranked):
            for v in views:
                if v.id == cid:
                    v.rank_citation = msgspec.json.decode(citation) if citation else None


def persons_of_claim(conn: Connection, claim_id: str, tables: Tables,
                     persons: str = "persons") -> list[str]:
    """Return the person records a claim refers to (any field), and those of the claim it
    supersedes (a correction changes what is shown about them too)."""
    row = conn.execute(f"SELECT supersedes FROM {tables['claims']} WHERE id = ?", (claim_id,)).fetchone()
    ids = [claim_id, row[0]] if row and row[0] else [claim_id]
    if "claim_links" in tables:  # and of the claim it denies: its document shows the denial
        denied = conn.execute(f"SELECT denies FROM {tables['claim_links']} WHERE claim_id = ? "
                              "AND denies IS NOT NULL", (claim_id,)).fetchone()
        ids += [denied[0]] if denied else []
        ids += [r[0] for r in conn.execute(  # and of the claims denying it: theirs show it
            f"SELECT claim_id FROM {tables['claim_links']} WHERE denies = ?", (claim_id,))]
    marks = ",".join("?" * len(ids))
    return [r[0] for r in conn.execute(  # CROSS JOIN: from the claim's few references out
        f"SELECT DISTINCT r.entity_id FROM {tables['claim_refs']} AS r "
        f"{sql.ordered_join(conn)} {persons} AS p "
        f"ON p.id = r.entity_id WHERE r.claim_id IN ({marks}) ORDER BY r.entity_id", ids)]


def members_of_claim_groups(conn: Connection, claim_id: str, tables: Tables,
                            persons: str = "persons") -> list[str]:
    """Return the person records with a membership claim (in any state) of the group a claim
    names as its subject (`group`), or the claim it supersedes names: their biographies show
    the group's statements through the group (issue 20)."""
    row = conn.execute(f"SELECT supersedes FROM {tables['claims']} WHERE id = ?", (claim_id,)).fetchone()
    ids = [claim_id, row[0]] if row and row[0] else [claim_id]
    join = sql.ordered_join(conn)
    return [r[0] for r in conn.execute(  # from the claim's group out to its memberships' persons
        f"SELECT DISTINCT m.entity_id FROM {tables['claim_refs']} AS g "
        f"{join} {tables['claim_refs']} AS o ON o.entity_id = g.entity_id "
        f"{join} {tables['claims']} AS c ON c.id = o.claim_id "
        f"{join} {tables['claim_refs']} AS m ON m.claim_id = o.claim_id "
        f"{join} {persons} AS p ON p.id = m.entity_id "
        f"WHERE g.claim_id IN ({','.join('?' * len(ids))}) AND g.field = 'group' "
        f"AND o.field = 'organization' AND c.kind = 'membership' AND m.field = 'person' "
        f"ORDER BY m.entity_id", ids)]


def persons_referring_to(conn: Connection, records: list[str], tables: Tables,
                         persons: str = "persons") -> list[str]:
    """Return the person records named by claims that also name any of `records` (whose
    documents show those records' labels)."""
    marks = ",".join("?" * len(records))
    join = sql.ordered_join(conn)
    return [r[0] for r in conn.execute(
        f"SELECT DISTINCT r.entity_id FROM {tables['claim_refs']} AS mine "
        f"{join} {tables['claim_refs']} AS r ON r.claim_id = mine.claim_id "
        f"{join} {persons} AS p ON p.id = r.entity_id "
        f"WHERE mine.entity_id IN ({marks}) ORDER BY r.entity_id", records)]


def persons_attributing(conn: Connection, records: list[str], tables: Tables,
                        persons: str = "persons") -> list[str]:
    """Return the person records whose documents show any of `records` as whom a claim is
    attributed to (issue 21): those of the claims attributed to them, and of the claims
    denying those (a denial shows the denied claim's attribution beside it)."""
    if "claim_links" not in tables or not records:
        return []
    marks = ",".join("?" * len(records))
    links, refs = tables["claim_links"], tables["claim_refs"]
    return [r[0] for r in conn.execute(
        f"SELECT DISTINCT r.entity_id FROM {refs} AS r JOIN {persons} AS p ON p.id = r.entity_id "
        f"WHERE r.claim_id IN (SELECT claim_id FROM {links} WHERE attributed_to IN ({marks}) "
        f"UNION SELECT d.claim_id FROM {links} AS d JOIN {links} AS a ON a.claim_id = d.denies "
        f"WHERE a.attributed_to IN ({marks})) ORDER BY r.entity_id", (*records, *records))]


def previous_action(conn: Connection, claim_id: str, version: int,
                    tables: Tables | None = None) -> str | None:
    """Return the review action recorded at `version` of a claim's stream ('submit' at 1)."""
    table = tables["claim_reviews"] if tables else "claim_reviews"
    row = conn.execute(f"SELECT action FROM {table} WHERE claim_id = ? AND version = ?",
                       (claim_id, version)).fetchone()
    return row[0] if row else None


def claim_ids_of(conn: Connection, entity_ids: list[str], up_to: int) -> list[str]:
    """Return the claims submitted at or before log position `up_to` that refer to any of
    `entity_ids`, in submission order (for replays as of a position)."""
    marks = ",".join("?" * len(entity_ids))
    return [r[0] for r in conn.execute(
        f"SELECT DISTINCT c.id, c.submitted_position FROM claim_refs AS r "
        f"{sql.ordered_join(conn)} claims AS c "
        f"ON c.id = r.claim_id WHERE r.entity_id IN ({marks}) AND c.submitted_position <= ? "
        f"ORDER BY c.submitted_position", (*entity_ids, up_to))]


def successors_of(conn: Connection, claim_ids: list[str], up_to: int) -> list[str]:
    """Return the claims submitted at or before `up_to` that supersede any of `claim_ids`."""
    if not claim_ids:
        return []
    marks = ",".join("?" * len(claim_ids))
    return [r[0] for r in conn.execute(
        f"SELECT id FROM claims WHERE submitted_position <= ? AND supersedes IN ({marks}) "
        "ORDER BY submitted_position", (up_to, *claim_ids))]


class ClaimThen(msgspec.Struct, kw_only=True):
    """A claim as it stood after some log position, from the read model's rows (its row as
    submitted and its review history up to that position): what an `as_of` document needs."""

    id: str
    kind: str
    status: str
    contributor: str
    version: int
    position: int  # where it was submitted
    claim: dict[str, Any]
    dates: dict[str, DateValue]
    length: Length | None = None
    rank: str = "normal"
    rank_reason: str | None = None  # the last rank review's, up to the position
    rank_citation: dict[str, Any] | None = None
    dispute: Dispute | None = None  # the last contest up to the position


def claims_as_of(conn: Connection, claim_ids: Sequence[str] | set[str],
                 up_to: int) -> dict[str, ClaimThen]:
    """Return claim id -> the claim as it stood after log position `up_to`, for the claims
    among `claim_ids` submitted by then: two set-based queries per chunk of ids (the claims'
    rows, their review history up to `up_to`), folded by claim_rules.review_state; no claim's
    stream is read. Suppressions are not applied here (as of any position, those in force now
    are: `suppressed_claims`)."""
    out: dict[str, ClaimThen] = {}
    for chunk in sql.chunks(claim_ids):
        marks = sql.marks(chunk)
        rows = conn.execute(
            f"SELECT id, contributor, submitted_position, data FROM claims "
            f"WHERE id IN ({marks}) AND submitted_position <= ?", (*chunk, up_to)).fetchall()
        history: dict[str, list[tuple[str, str | None, str | None, int, str]]] = {}
        for cid, action, reason, citation, position, at in conn.execute(
                f"SELECT claim_id, action, reason, citation, position, recorded_at "
                f"FROM claim_reviews WHERE claim_id IN ({marks}) AND position <= ? "
                f"ORDER BY claim_id, version", (*chunk, up_to)):
            history.setdefault(cid, []).append((action, reason, citation, position, at))
        for cid, contributor, submitted, data in rows:
            stored = _stored.decode(data)
            reviews = history.get(cid, [])
            status, rank, version = review_state(r[0] for r in reviews)
            then = ClaimThen(id=cid, kind=stored.claim["kind"], status=status,
                             contributor=contributor, version=version, position=submitted,
                             claim=stored.claim, dates=stored.dates, length=stored.length,
                             rank=rank)
            for action, reason, citation, position, at in reviews:
                if action.startswith("rank:"):
                    then.rank_reason = reason
                    then.rank_citation = msgspec.json.decode(citation) if citation else None
                elif action == "contest":
                    then.dispute = Dispute(reason=reason or "", position=position, recorded_at=at,
                                           citation=msgspec.json.decode(citation) if citation else None)
            out[cid] = then
    return out


def status_of(conn: Connection, claim_id: str) -> tuple[str, str] | None:
    """Return (status, contributor) of a claim, or None when unknown."""
    row = conn.execute("SELECT status, contributor FROM claims WHERE id = ?", (claim_id,)).fetchone()
    return (row[0], row[1]) if row else None


def kind_of_claim(conn: Connection, claim_id: str) -> str | None:
    """Return a claim's kind, or None when unknown (issue 22: same_event links one kind)."""
    row = conn.execute("SELECT kind FROM claims WHERE id = ?", (claim_id,)).fetchone()
    return row[0] if row else None


class ReviewOut(msgspec.Struct, kw_only=True, omit_defaults=True):
    action: str
    actor: str
    version: int
    position: int
    recorded_at: str
    reason: str | None = None
    citation: dict[str, Any] | None = None
    resolves_contest: bool = False


class ClaimOut(msgspec.Struct, kw_only=True):
    """A claim as submitted, its dates' bounds, its review state and its review history;
    `refs` names every entity the claim refers to, by field, as {"id", "label"} (the claim
    itself stays exactly as submitted). `rank` is the effective rank (deprecated while an
    approved successor exists), `rank_reason` the reviewer's reason for the rank set;
    `length` the fewest and most days its `duration` allows, computed at submission;
    `rank_citation` the source a deprecated rank cites as retracting the claim; `denied_by`
    the claims the reader may see that deny this one (their `denies`).
    `dispute`: while the claim is disputed (approved, then contested) or contested, the
    contest's entry of `history` (who, when, why, and its counter-citation). `suppressed`: an
    admin's take-down in force (when and why); readers then get the claim's id, kind, status
    and the take-down only (`claim`, `dates`, `refs` and `history` empty, `contributor` "")."""

    id: str
    kind: str
    status: str
    version: int
    contributor: str
    position: int
    submitted_at: str
    supersedes: str | None
    superseded_by: str | None
    contested_by: str | None
    claim: dict[str, Any]
    dates: dict[str, Any]
    history: list[ReviewOut]
    refs: dict[str, Ref] = {}
    rank: Rank = "normal"
    rank_reason: str | None = None
    length: Length | None = None
    dispute: ReviewOut | None = None
    suppressed: Suppression | None = None
    # statements about statements (issue 21): the claims (visible to the reader) that deny this
    # one, and a deprecated rank's retracting source (also in `history`)
    denied_by: Annotated[list[str], Meta(
        description="The claims the reader may see that deny this one (their `denies`)",
        examples=[["C-7KD2M4QX"]])] = []
    rank_citation: Annotated[dict[str, Any] | None, Meta(
        description="While ranked deprecated: the source the rank cites as retracting the claim",
        examples=[{"source": "S-00000005", "locator": "p. 2",
                   "quote": "the figure I gave last month was wrong"}])] = None


class ClaimPage(msgspec.Struct):
    items: list[ClaimOut]
    next: str | None


_COLUMNS = ("id, kind, status, version, contributor, submitted_position, submitted_at, supersedes, "
            "superseded_by, contested_by, data, rank, rank_reason")


def etag(version: int) -> str:
    """Return the ETag of a claim at `version` (what If-Match names)."""
    return f'"{version}"'


def _refs(claim: dict[str, Any]) -> dict[str, str]:
    """Return field -> entity id for every entity the submitted claim names (its source as
    'citation.source')."""
    refs = {f: claim[f] for f in REFS_BY_KIND.get(claim["kind"], {}) if isinstance(claim.get(f), str)}
    for field in MANY_BY_KIND.get(claim["kind"], {}):
        refs.update((f"{field}[{i}]", v) for i, v in enumerate(claim.get(field, ())))
    for i, participant in enumerate(claim.get("participants", ())):
        refs[f"participants[{i}].ref"] = participant["ref"]
    if isinstance(claim.get("attributed_to"), str):  # whom the source says said it
        refs["attributed_to"] = claim["attributed_to"]
    refs["citation.source"] = claim["citation"]["source"]
    for i, link in enumerate(claim["citation"].get("via", ())):
        if isinstance(link, dict):
            refs[f"citation.via[{i}].source"] = link["source"]
    return refs


def _out(conn: Connection, row: tuple, labels: dict[str, str] | None = None) -> ClaimOut:
    data = msgspec.json.decode(row[10])
    refs = _refs(data["claim"])
    if labels is None:
        labels = registry.labels(conn, set(refs.values()))
    history = [ReviewOut(action=r[0], actor=r[1], version=r[2], position=r[3], recorded_at=r[4],
                         reason=r[5], citation=msgspec.json.decode(r[6]) if r[6] else None,
                         resolves_contest=bool(r[7]))
               for r in conn.execute("SELECT action, actor, version, position, recorded_at, reason, "
                                     "citation, resolves_contest FROM claim_reviews WHERE claim_id = ? "
                                     "ORDER BY version", (row[0],))]
    return ClaimOut(id=row[0], kind=row[1], status=row[2], version=row[3], contributor=row[4],
                    position=row[5], submitted_at=row[6], supersedes=row[7], superseded_by=row[8],
                    contested_by=row[9], claim=data["claim"], dates=data["dates"], history=history,
                    refs={f: Ref(i, labels.get(i, i)) for f, i in refs.items()},
                    rank=effective_rank(row[11], row[8]), rank_reason=row[12],
                    rank_citation=_rank_citation(row[11], history),
                    length=msgspec.convert(data["length"], Length) if data.get("length") else None,
                    dispute=next((r for r in reversed(history) if r.action == "contest"), None)
                    if row[2] in CONTESTED else None)


def _shown(out: ClaimOut, suppression: Suppression | None, viewer: Viewer) -> ClaimOut:
    """Return a claim as `viewer` reads it: marked suppressed, and for readers who may not read
    suppressed content (rules.sees_suppressed) with its content left out."""
    if suppression is None:
        return out
    if sees_suppressed(viewer):
        return msgspec.structs.replace(out, suppressed=suppression)
    return ClaimOut(id=out.id, kind=out.kind, status=out.status, version=out.version, contributor="",
                    position=out.position, submitted_at=out.submitted_at, supersedes=out.supersedes,
                    superseded_by=out.superseded_by, contested_by=None, claim={}, dates={},
                    history=[], rank=out.rank, suppressed=suppression)


def _rank_citation(rank: str, history: list[ReviewOut]) -> dict[str, Any] | None:
    """Return the retracting source a deprecated rank in force cites (its last rank review's)."""
    if rank != DEPRECATED:
        return None
    return next((r.citation for r in reversed(history) if r.action.startswith("rank:")), None)


def read(conn: Connection, claim_id: str, viewer: Viewer) -> ClaimOut | None:
    """Return a claim with its history, or None when unknown or not visible to `viewer`."""
    row = conn.execute(f"SELECT {_COLUMNS} FROM claims WHERE id = ?", (claim_id,)).fetchone()
    if row is None or not may_see(viewer, row[2], row[4]):
        return None
    out = _shown(_out(conn, row), suppressed_claims(conn, [claim_id]).get(claim_id), viewer)
    return _with_denials(conn, [out], viewer)[0]


def page(conn: Connection, viewer: Viewer, *, after: int = 0, limit: int = 50,
         status: str | None = None, source: str | None = None,
         contributor: str | Sequence[str] | None = None,
         kind: str | None = None, entities: Sequence[str] = (),
         participant: str | None = None, role: str | None = None,
         group: str | None = None,
         property: tuple[str, str] | None = None, value: str | None = None,
         denies: str | None = None, attributed_to: str | None = None) -> ClaimPage:
    """Return claims oldest first after submission position `after`, filtered (AND), only
    those `viewer` may see; `next` is the cursor of the next page. `entities`: claims naming
    each in any field; `group`: claims whose subject is that group (their `group` field).
    `contributor` is one stored value or several (an account's id and name:
    service.domain.accounts.contributor_filter). `participant` keeps the claims naming that
    person or organisation as a participant, `role` those with a participant in that role
    (both: that participant in that role). `property` (its id and key: a claim names it by
    either) keeps the claims holding a value of that property (a statement's or a
    qualifier's), `value` those whose value has the key of `value` (properties.value_key).
    `denies`: the claims denying that claim; `attributed_to`: the claims attributed to that
    person, organisation or source."""
    where = ["submitted_position > ?"]
    args: list[int | str] = [after]
    for column, given in (("status", status), ("source_id", source), ("kind", kind)):
        if given is not None:
            where.append(f"{column} = ?")  # column names from this code, never input
            args.append(given)
    if contributor is not None:
        values = (contributor,) if isinstance(contributor, str) else tuple(contributor)
        where.append(f"contributor IN ({','.join('?' * len(values))})")
        args.extend(values)
    for entity in entities:
        where.append("id IN (SELECT claim_id FROM claim_refs WHERE entity_id = ?)")
        args.append(entity)
    if participant is not None and role is not None:
        where.append("id IN (SELECT claim_id FROM claim_participants WHERE entity_id = ? AND role = ?)")
        args.extend((participant, role))
    elif participant is not None:
        where.append("id IN (SELECT claim_id FROM claim_participants WHERE entity_id = ?)")
        args.append(participant)
    elif role is not None:
        where.append("id IN (SELECT claim_id FROM claim_participants WHERE role = ?)")
        args.append(role)
    if group is not None:
        where.append("id IN (SELECT claim_id FROM claim_refs WHERE entity_id = ? AND field = 'group')")
        args.append(group)
    if property is not None:  # a property's id; a value compared by its key (properties.value_key)
        if value is None:
            where.append("id IN (SELECT claim_id FROM claim_values WHERE property IN (?, ?))")
            args.extend(property)
        else:
            where.append("id IN (SELECT claim_id FROM claim_values WHERE property IN (?, ?) "
                         "AND value_key = ?)")
            args.extend((*property, value_key(value)))
            if not sees_suppressed(viewer):  # a take-down's value finds nothing for readers
                where.append("id NOT IN (SELECT target FROM suppressions)")
    for column, link in (("denies", denies), ("attributed_to", attributed_to)):
        if link is not None:  # column names from this code, never input
            where.append(f"id IN (SELECT claim_id FROM claim_links WHERE {column} = ?)")
            args.append(link)
    seen, seen_args = may_see_sql(viewer)
    where.append(seen)
    args.extend(seen_args)
    rows = conn.execute(f"SELECT {_COLUMNS} FROM claims WHERE {' AND '.join(where)} "
                        "ORDER BY submitted_position LIMIT ?", (*args, limit + 1)).fetchall()
    ids = {i for r in rows[:limit] for i in _refs(msgspec.json.decode(r[10])["claim"]).values()}
    labels = registry.labels(conn, ids)  # one lookup for the page
    suppressed = suppressed_claims(conn, [r[0] for r in rows[:limit]])
    items = [_shown(_out(conn, r, labels), suppressed.get(r[0]), viewer) for r in rows[:limit]]
    items = _with_denials(conn, items, viewer)
    return ClaimPage(items, str(items[-1].position) if len(rows) > limit else None)


# -- statements about statements (issue 21): denials, attributions ------------------------------

def deniers_of(conn: Connection, claim_ids: Sequence[str] | set[str], viewer: Viewer,
               statuses: Sequence[str] | None = None,
               tables: Tables | None = None) -> list[tuple[str, str]]:
    """Return (denying claim, denied claim) for the claims denying any of `claim_ids` that
    `viewer` may see (among `statuses` when given), suppressed ones left out for readers who
    may not read suppressed content."""
    ids = sorted(set(claim_ids))
    if not ids:
        return []
    t = tables or {"claims": "claims", "claim_links": "claim_links"}
    seen, seen_args = may_see_sql(viewer, "c.status", "c.contributor")
    marks = ",".join("?" * len(ids))
    where = [f"l.denies IN ({marks})", seen]
    args: list[str] = [*ids, *seen_args]
    if statuses is not None:
        where.append(f"c.status IN ({','.join('?' * len(statuses))})")
        args.extend(statuses)
    rows = [(r[0], r[1]) for r in conn.execute(
        # from the denials (ordered_join): with many ids SQLite's planner read every claim of
        # the statuses through claims' status index, per document
        f"SELECT l.claim_id, l.denies FROM {t['claim_links']} AS l {sql.ordered_join(conn)} {t['claims']} AS c "
        f"ON c.id = l.claim_id WHERE {' AND '.join(where)} ORDER BY c.submitted_position", args)]
    if not sees_suppressed(viewer):
        hide = suppressed_claims(conn, [r[0] for r in rows], tables)
        rows = [r for r in rows if r[0] not in hide]
    return rows


def deniers_submitted(conn: Connection, claim_ids: Sequence[str], up_to: int) -> list[tuple[str, str]]:
    """Return (denying claim, denied claim) for the claims submitted at or before log position
    `up_to` that deny any of `claim_ids` (for replays as of a position)."""
    if not claim_ids:
        return []
    marks = ",".join("?" * len(claim_ids))
    return [(r[0], r[1]) for r in conn.execute(
        f"SELECT l.claim_id, l.denies FROM claim_links AS l JOIN claims AS c ON c.id = l.claim_id "
        f"WHERE l.denies IN ({marks}) AND c.submitted_position <= ? ORDER BY c.submitted_position",
        (*claim_ids, up_to))]


def _with_denials(conn: Connection, items: list[ClaimOut], viewer: Viewer) -> list[ClaimOut]:
    """Return the claims with `denied_by` set (the denials `viewer` may see); a suppressed
    claim, as readers get it, shows none."""
    shown = [o.id for o in items if o.claim]
    denied = denials(deniers_of(conn, shown, viewer))
    return [msgspec.structs.replace(o, denied_by=denied[o.id]) if o.id in denied and o.claim else o
            for o in items]


class Linked(msgspec.Struct, kw_only=True, omit_defaults=True):
    """The other side of a denial, as a biography shows it beside an entry: the claim, its kind
    and review status, its citation, what it says in the source's words (`said`) and whom it
    is attributed to. A claim the reader may not see is its id alone."""

    claim: str
    kind: str | None = None
    status: str | None = None
    citation: dict[str, Any] | None = None
    said: str | None = None
    attributed_to: str | None = None


def linked_claims(conn: Connection, claim_ids: Sequence[str] | set[str], viewer: Viewer,
                  statuses: Sequence[str] | None = None,
                  tables: Tables | None = None) -> dict[str, Linked]:
    """Return claim id -> its summary (Linked), for the claims among `claim_ids` that `viewer`
    may see (among `statuses` when given; suppressed ones only for who reads them)."""
    ids = sorted(set(claim_ids))
    if not ids:
        return {}
    t = tables or {"claims": "claims"}
    seen, seen_args = may_see_sql(viewer)
    where = [f"id IN ({','.join('?' * len(ids))})", seen]
    args: list[str] = [*ids, *seen_args]
    if statuses is not None:
        where.append(f"status IN ({','.join('?' * len(statuses))})")
        args.extend(statuses)
    out = {}
    for cid, kind, status, data in conn.execute(
            f"SELECT id, kind, status, data FROM {t['claims']} WHERE {' AND '.join(where)}", args):
        claim = _stored.decode(data).claim
        out[cid] = Linked(claim=cid, kind=kind, status=status, citation=claim["citation"],
                          said=claim.get("said"), attributed_to=claim.get("attributed_to"))
    if not sees_suppressed(viewer):
        for cid in suppressed_claims(conn, list(out), tables):
            del out[cid]
    return out


class CitingClaim(msgspec.Struct, kw_only=True):
    id: str
    kind: str
    status: str
    locator: str | None


def citing(conn: Connection, source_id: str, viewer: Viewer,
           limit: int = 100) -> tuple[list[CitingClaim], bool]:
    """Return the first `limit` claims citing a source that `viewer` may see, and whether
    there are more."""
    seen, seen_args = may_see_sql(viewer)
    rows = conn.execute(f"SELECT id, kind, status, data FROM claims WHERE source_id = ? AND {seen} "
                        "ORDER BY submitted_position LIMIT ?", (source_id, *seen_args, limit + 1)).fetchall()
    hide = set() if sees_suppressed(viewer) else set(suppressed_claims(conn, [r[0] for r in rows]))
    out = [CitingClaim(id=r[0], kind=r[1], status=r[2],
                       locator=_stored.decode(r[3]).claim["citation"].get("locator"))
           for r in rows[:limit] if r[0] not in hide]  # a suppressed claim cites nothing for readers
    return out, len(rows) > limit


class NameOut(msgspec.Struct, kw_only=True, omit_defaults=True):
    name: str
    script: str | None = None
    name_kind: str | None = None
    parts: NameParts | None = None  # the name in parts, as the source gives them (issue 20)
    start: Annotated[str, Meta(description="From when the name was borne (EDTF, as the name claim writes it); absent when unknown", examples=["1925"])] | None = None
    end: Annotated[str, Meta(description="Until when the name was borne (EDTF, as the name claim writes it); absent when unknown", examples=["1930"])] | None = None
    claim: str | None = None
    status: str = "approved"
    suppressed: bool = False  # reviewers' view of a suppressed name (readers never get one)


def names_of(conn: Connection, field: str, ids: list[str], viewer: Viewer) -> list[NameOut]:
    """Return the name claims of entities (not superseded): approved ones for all, pending and
    contested ones for who may see them; never rejected or retracted ones."""
    marks = ",".join("?" * len(ids))
    seen, seen_args = may_see_sql(viewer, "c.status", "c.contributor")
    rows = conn.execute(
        f"SELECT c.id, c.status, c.data FROM claim_refs r JOIN claims c ON c.id = r.claim_id "
        f"WHERE r.entity_id IN ({marks}) AND r.field = ? AND c.kind = 'name' "
        f"AND c.superseded_by IS NULL AND c.status IN ({','.join('?' * len(WITH_PENDING))}) "
        f"AND {seen} ORDER BY c.submitted_position", (*ids, field, *WITH_PENDING, *seen_args)).fetchall()
    out = []
    suppressed = suppressed_claims(conn, [r[0] for r in rows])
    for claim_id, status, data in rows:
        if claim_id in suppressed and not sees_suppressed(viewer):
            continue  # a suppressed name, or a name of a suppressed entity
        claim = _stored.decode(data).claim
        out.append(NameOut(name=claim["name"], script=claim.get("script"),
                           name_kind=claim.get("name_kind", "variant"),
                           parts=msgspec.convert(claim["parts"], NameParts) if "parts" in claim else None,
                           start=claim.get("start"), end=claim.get("end"),
                           claim=claim_id, status=status,
                           suppressed=claim_id in suppressed))
    return out


def hidden(conn: Connection, claim_ids: set[str], viewer: Viewer) -> set[str]:
    """Return the claims among `claim_ids` whose events `viewer` may not read in full (admins
    read everything). Fails closed: a claim this read model does not hold (yet: a read
    replica behind the log it reads) is hidden."""
    if not claim_ids or viewer.admin:
        return set()
    marks = ",".join("?" * len(claim_ids))
    rows = conn.execute(f"SELECT id, status, contributor FROM claims WHERE id IN ({marks})",
                        tuple(claim_ids))
    shown = {cid for cid, status, contributor in rows if may_see(viewer, status, contributor)}
    if not sees_suppressed(viewer):
        shown -= set(suppressed_claims(conn, shown))  # a take-down redacts the claim's rows
    return set(claim_ids) - shown  # a claim the read model does not hold yet stays hidden


class SourceLink(msgspec.Struct, kw_only=True):
    """A source another derives from (or that derives from it), with the relation and the
    approved claims whose citations say so."""

    source: Ref
    relation: str
    claims: list[str]


class Derivation(msgspec.Struct, kw_only=True):
    """What a source derives from (`derives_from`: it is a translation of, a quotation from, a
    reprint or an excerpt of those) and what derives from it (`derived`), as the `via` links
    of approved citations say."""

    derives_from: list[SourceLink]
    derived: list[SourceLink]


def derivation(conn: Connection, source_id: str, limit: int = 200) -> Derivation:
    """Return the links of approved citations from and to a source (at most `limit` of each);
    suppressed claims' citations count for nothing."""
    out: dict[str, list[SourceLink]] = {}
    joined = sql.string_agg("l.claim_id", "','", sql.dialect(conn))
    for name, mine, other in (("derives_from", "source_id", "derives_from"),
                              ("derived", "derives_from", "source_id")):
        rows = conn.execute(  # column names from this code, never input
            f"SELECT l.{other}, l.relation, {joined} FROM source_links AS l "
            f"JOIN claims AS c ON c.id = l.claim_id WHERE l.{mine} = ? AND c.status = 'approved' "
            "AND c.id NOT IN (SELECT target FROM suppressions) "  # a take-down says nothing
            f"GROUP BY l.{other}, l.relation ORDER BY l.{other}, l.relation LIMIT ?",
            (source_id, limit)).fetchall()
        labels = registry.labels(conn, {r[0] for r in rows})
        out[name] = [SourceLink(source=Ref(r[0], labels.get(r[0], r[0])), relation=r[1],
                                claims=sorted(r[2].split(","))) for r in rows]
    return Derivation(**out)


def _links(conn: Connection, sources: Sequence[str], near: str,
           far: str) -> dict[str, set[tuple[str, str]]]:
    """Return, for each of `sources` found in the column `near` of source_links, the (source in
    `far`, relation) pairs of approved, unsuppressed claims (columns named by this module)."""
    out: dict[str, set[tuple[str, str]]] = {}
    for chunk in sql.chunks(sources):
        for source, other, relation in conn.execute(
                f"SELECT l.{near}, l.{far}, l.relation FROM source_links AS l "
                f"JOIN claims AS c ON c.id = l.claim_id WHERE l.{near} IN ({sql.marks(chunk)}) "
                "AND c.status = 'approved' AND c.id NOT IN (SELECT target FROM suppressions)",
                chunk).fetchall():
            out.setdefault(source, set()).add((other, relation))
    return out


def parents(conn: Connection, sources: Sequence[str]) -> dict[str, set[tuple[str, str]]]:
    """Return, for each of `sources`, the (source, relation) pairs it derives from as approved
    claims say (derivation claims and citations' `via` links); a suppressed claim's link says
    nothing. Sources without links are absent."""
    return _links(conn, sources, "source_id", "derives_from")


def children(conn: Connection, sources: Sequence[str]) -> dict[str, set[tuple[str, str]]]:
    """Return, for each of `sources`, the (source, relation) pairs that derive from it as
    approved, unsuppressed claims say: `parents` turned round."""
    return _links(conn, sources, "derives_from", "source_id")


def cited_sources(conn: Connection, claim_ids: Sequence[str]) -> dict[str, set[str]]:
    """Return each claim's cited source and the sources its citation's `via` links name."""
    out: dict[str, set[str]] = {}
    for chunk in sql.chunks(claim_ids):
        marks = sql.marks(chunk)
        for claim_id, source in conn.execute(
                f"SELECT id, source_id FROM claims WHERE id IN ({marks})", chunk).fetchall():
            out.setdefault(claim_id, set()).add(source)
        for claim_id, parent in conn.execute(
                f"SELECT claim_id, derives_from FROM source_links WHERE claim_id IN ({marks}) "
                "AND source_id = (SELECT source_id FROM claims WHERE claims.id = claim_id)",
                chunk).fetchall():
            out.setdefault(claim_id, set()).add(parent)
    return out


# -- an organisation's members and affiliates (issue 22) ----------------------------------------

class OrganizationPerson(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A person a membership or affiliation claim ties to an organisation (through its
    `organization` field), with the span the claim gives and how sure it is."""

    person: Annotated[Ref, Meta(description="The person ({id, label}); a merged record as its survivor")]
    relation: Annotated[str, Meta(description='"member" (a membership claim) or "affiliate" (an affiliation claim)', examples=["member"])]
    claim: Annotated[str, Meta(description="The claim that says so", examples=["C-00000001"])]
    certainty: Annotated[str, Meta(description='"certain" (the claim is approved) or "disputed" (approved, then contested: shown marked until the contest is resolved)', examples=["certain"])]
    start: Annotated[str, Meta(description="The span's start as the claim writes it (EDTF); absent when unknown", examples=["1925"])] | None = None
    end: Annotated[str, Meta(description="The span's end as the claim writes it (EDTF); absent when unknown", examples=["1930-05"])] | None = None
    affiliation: Annotated[str, Meta(description="An affiliation claim's current as written (anarchist, CNT...)", examples=["anarcho-syndicalist"])] | None = None


CERTAINTY = {"approved": "certain", "disputed": "disputed"}


def organization_people(conn: Connection, organization_ids: Sequence[str], *, after: int = 0,
                        limit: int = 50) -> tuple[list[OrganizationPerson], str | None]:
    """Return the persons that approved or disputed (approved, then contested), unsuperseded membership and
    affiliation claims tie to any of `organization_ids` (an organisation and the records merged
    into it) through their `organization` field, oldest claim first after submission
    position `after`, at most `limit`, with the cursor of the next page (or None)."""
    if not organization_ids:
        return [], None
    marks = ",".join("?" * len(organization_ids))
    rows = conn.execute(
        "SELECT id, kind, status, submitted_position, data FROM claims "
        "WHERE submitted_position > ? AND kind IN ('membership', 'affiliation') "
        "AND status IN ('approved', 'disputed') AND superseded_by IS NULL "
        "AND id NOT IN (SELECT target FROM suppressions) "
        f"AND id IN (SELECT claim_id FROM claim_refs WHERE field = 'organization' "
        f"AND entity_id IN ({marks})) ORDER BY submitted_position LIMIT ?",
        (after, *organization_ids, limit + 1)).fetchall()
    claims = [(r[0], r[1], r[2], r[3], msgspec.json.decode(r[4])["claim"]) for r in rows[:limit]]
    alive = registry.survivors(conn, {c[4]["person"] for c in claims if c[4].get("person")})
    labels = registry.labels(conn, set(alive.values()) | {c[4]["person"] for c in claims
                                                          if c[4].get("person")})
    out = []
    for claim_id, kind, status, _, claim in claims:
        person = claim.get("person")
        if person is None:  # an affiliation of a group, not of a person
            continue
        shown = alive.get(person, person)
        out.append(OrganizationPerson(
            person=Ref(shown, labels.get(shown, shown)),
            relation="member" if kind == "membership" else "affiliate", claim=claim_id,
            certainty=CERTAINTY[status], start=claim.get("start"), end=claim.get("end"),
            affiliation=claim.get("affiliation")))
    return out, str(rows[limit - 1][3]) if len(rows) > limit else None


# -- a place's names with spans (issue 22): shown under the name at a statement's date --------

def place_names(conn: Connection, place_ids: Sequence[str] | set[str],
                tables: Tables | None = None) -> dict[str, list[NameSpan]]:
    """Return, per place, its approved, unsuperseded name claims that give a span (a start or
    an end), in submission order (events.name_spans.name_at picks one for a date)."""
    ids = sorted(place_ids)
    if not ids:
        return {}
    claims_t, refs_t = (tables["claims"], tables["claim_refs"]) if tables else ("claims", "claim_refs")
    marks = ",".join("?" * len(ids))
    out: dict[str, list[NameSpan]] = {}
    for place, data in conn.execute(
            # from the places' references to their claims (ordered_join): planned from claims
            # (SQLite's status index), it read every approved claim of the archive per document
            f"SELECT r.entity_id, c.data FROM {refs_t} r {sql.ordered_join(conn)} {claims_t} c "
            f"ON c.id = r.claim_id "
            f"WHERE r.entity_id IN ({marks}) AND r.field = 'place' AND c.kind = 'name' "
            f"AND c.status = 'approved' AND c.superseded_by IS NULL "
            f"ORDER BY c.submitted_position", ids):
        stored = _stored.decode(data)
        start, end = stored.dates.get("start"), stored.dates.get("end")
        if start is None and end is None:
            continue
        out.setdefault(place, []).append(NameSpan(
            name=stored.claim["name"], earliest=start.earliest if start else None,
            latest=end.latest if end else None))
    return out


def persons_seeing_place_name(conn: Connection, claim_id: str, tables: Tables,
                              persons: str = "persons") -> list[str]:
    """Return the person records whose documents name the place a name claim with a span
    names (its name at their statements' dates may change); none for any other claim."""
    row = conn.execute(f"SELECT kind, data FROM {tables['claims']} WHERE id = ?",
                       (claim_id,)).fetchone()
    if row is None or row[0] != "name":
        return []
    stored = _stored.decode(row[1])
    place = stored.claim.get("place")
    if not isinstance(place, str) or not ({"start", "end"} & set(stored.dates)):
        return []
    return persons_referring_to(conn, [place], tables, persons)


# -- the pages' reads (issue 24) ------------------------------------------------------------------

def status_counts(conn: Connection) -> dict[str, int]:
    """Return how many claims are in each review status (approved, pending, contested,
    disputed, rejected, retracted...), superseded ones included."""
    return {r[0]: r[1] for r in conn.execute("SELECT status, COUNT(*) FROM claims GROUP BY status")}


def last_change(conn: Connection, group: list[str], claim_ids: Sequence[str]) -> int:
    """Return the log position of the last event that may have changed a person's document:
    the last review action (approval, rejection, contest, rank, retraction) or take-down of
    `claim_ids` (the claims the document shows) and of every claim referring to a
    record of `group`, whatever its state now (a claim rejected after its approval is shown no
    more). Never earlier than the document's last change: the document as of that position is
    the document now (a pending claim's rejection may make it later than needed)."""
    marks = ",".join("?" * len(group))
    ids = set(claim_ids) | {r[0] for r in conn.execute(
        f"SELECT DISTINCT claim_id FROM claim_refs WHERE entity_id IN ({marks})", group)}
    last = 0
    for chunk in sql.chunks(ids):
        m = sql.marks(chunk)
        for query in (f"SELECT MAX(position) FROM claim_reviews WHERE claim_id IN ({m})",
                      f"SELECT MAX(position) FROM suppressions WHERE target IN ({m})"):
            found = conn.execute(query, chunk).fetchone()[0]
            last = max(last, found or 0)
    found = conn.execute(f"SELECT MAX(position) FROM suppressions WHERE target IN ({marks})",
                         group).fetchone()[0]
    return max(last, found or 0)
