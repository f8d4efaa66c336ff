"""GET /persons/{id}/biography: the projected biography, now or as of a log position or time."""

from __future__ import annotations

import datetime as dt
import sqlite3
from typing import Annotated, Literal

import msgspec
from litestar import Controller, Request, get
from litestar.params import FromPath, Parameter

from starosta.events.dates import DateValue
from starosta.events.review import ClaimState, ClaimSubmitted, evolve
from starosta.events.store import SQLiteEventStore
from starosta.projections.biography import Biography, ClaimView, assemble
from starosta.service.api.common import archive_of, who
from starosta.projections.registry import merged_records as merged_into, survivor
from starosta.service.auth import Principal
from starosta.service.errors import ApiError

_dates = msgspec.json.Decoder(dict[str, DateValue])


def resolve_as_of(store: SQLiteEventStore, value: str) -> tuple[int, str | None]:
    """Return (position, recorded_at) for `as_of`: a position, or an RFC 3339 timestamp
    (the last event recorded at or before it). Raises ApiError 422 naming as_of."""
    conn = store.reader()
    if value.isdigit():
        position = int(value)
        row = conn.execute("SELECT position, recorded_at FROM events WHERE position <= ? "
                           "ORDER BY position DESC LIMIT 1", (position,)).fetchone()
        return (position, row[1] if row else None)
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ApiError(422, "Invalid request", f"as_of={value!r}: give a log position (e.g. 42) or an "
                       "RFC 3339 timestamp (e.g. 2026-03-01T00:00:00Z)",
                       [{"field": "as_of", "in": "query", "value": value,
                         "message": "not a position or an RFC 3339 timestamp"}]) from None
    if moment.tzinfo is None:
        raise ApiError(422, "Invalid request", f"as_of={value!r}: a timestamp needs its offset (Z or +01:00)",
                       [{"field": "as_of", "in": "query", "value": value, "message": "no UTC offset"}])
    stamp = moment.astimezone(dt.timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")
    row = conn.execute("SELECT position, recorded_at FROM events WHERE recorded_at <= ? "
                       "ORDER BY position DESC LIMIT 1", (stamp,)).fetchone()
    return (row[0], row[1]) if row else (0, None)


def _merged_as_of(conn: sqlite3.Connection, person_id: str, position: int) -> str | None:
    """Return whom `person_id` was merged into after `position`, or None."""
    row = conn.execute("SELECT judgement, other FROM person_judgements WHERE person_id = ? AND "
                       "judgement IN ('merged', 'unmerged') AND position <= ? "
                       "ORDER BY position DESC LIMIT 1", (person_id, position)).fetchone()
    return row[1] if row and row[0] == "merged" else None


def group_as_of(conn: sqlite3.Connection, person_id: str, position: int) -> tuple[str, list[str]]:
    """Return (survivor, merged records) as they stood after `position`."""
    alive, seen = person_id, {person_id}
    while (into := _merged_as_of(conn, alive, position)) and into not in seen:
        alive = into
        seen.add(alive)
    merged, frontier = [], [alive]
    while frontier:
        candidates = [r[0] for f in frontier for r in conn.execute(
            "SELECT DISTINCT person_id FROM person_judgements WHERE other = ? AND judgement = 'merged' "
            "AND position <= ?", (f, position))]
        frontier = [c for c in candidates if c not in merged and c != alive
                    and _merged_as_of(conn, c, position) in (alive, *merged)]
        merged += frontier
    return alive, sorted(merged)


def may_see(principal: Principal, status: str, contributor: str, include_pending: bool) -> bool:
    if status == "approved":
        return True
    if not include_pending or status not in ("pending", "contested"):
        return False
    return principal.has("reviewer") or principal.name == contributor


def current_views(conn: sqlite3.Connection, group: list[str], principal: Principal,
                  include_pending: bool) -> list[ClaimView]:
    """The group's claims as the projection holds them now, filtered for the reader."""
    marks = ",".join("?" * len(group))
    rows = conn.execute(
        f"SELECT id, kind, status, contributor, version, submitted_position, superseded_by, data "
        f"FROM claims WHERE id IN (SELECT claim_id FROM claim_refs WHERE entity_id IN ({marks})) "
        f"AND superseded_by IS NULL ORDER BY submitted_position", group).fetchall()
    views = []
    for cid, kind, status, contributor, version, position, superseded, data in rows:
        if may_see(principal, status, contributor, include_pending):
            decoded = msgspec.json.decode(data)
            views.append(ClaimView(id=cid, kind=kind, status=status, contributor=contributor,
                                   version=version, position=position, claim=decoded["claim"],
                                   dates=msgspec.convert(decoded["dates"], dict[str, DateValue]),
                                   superseded_by=superseded))
    return views


def views_as_of(store: SQLiteEventStore, group: list[str], position: int, principal: Principal,
                include_pending: bool) -> list[ClaimView]:
    """The group's claims after `position`, replayed from their own streams (never the log)."""
    conn = store.reader()
    marks = ",".join("?" * len(group))
    ids = [r[0] for r in conn.execute(
        f"SELECT id FROM claims WHERE submitted_position <= ? AND id IN "
        f"(SELECT claim_id FROM claim_refs WHERE entity_id IN ({marks})) ORDER BY submitted_position",
        (position, *group))]
    views, superseded = [], set()
    # corrections of these claims may name other persons: their streams are replayed too
    if ids:
        marks_ids = ",".join("?" * len(ids))
        for (successor,) in conn.execute(
                f"SELECT id FROM claims WHERE submitted_position <= ? AND supersedes IN ({marks_ids})",
                (position, *ids)):
            stream = store.read_stream(successor, up_to_position=position)
            state = None
            for envelope in stream:
                state = evolve(state, envelope.event)
            if state is not None and state.status == "approved":
                superseded.add(stream[0].event.claim.supersedes)  # type: ignore[attr-defined]
    for claim_id in ids:
        state: ClaimState | None = None
        submitted: ClaimSubmitted | None = None
        first = 0
        for envelope in store.read_stream(claim_id, up_to_position=position):
            state = evolve(state, envelope.event)
            if isinstance(envelope.event, ClaimSubmitted):
                submitted, first = envelope.event, envelope.position
        if state is None or submitted is None:
            continue
        if state.status == "approved" and submitted.claim.supersedes:
            superseded.add(submitted.claim.supersedes)
        claim = msgspec.to_builtins(submitted.claim)
        views.append(ClaimView(id=claim_id, kind=claim["kind"], status=state.status,
                               contributor=state.contributor, version=state.version, position=first,
                               claim=claim, dates=dict(submitted.dates)))
    return [v for v in views if v.id not in superseded
            and may_see(principal, v.status, v.contributor, include_pending)]


def source_labels(conn: sqlite3.Connection, views: list[ClaimView]) -> dict[str, str]:
    ids = sorted({v.claim["citation"]["source"] for v in views})
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    return dict(conn.execute(f"SELECT id, label FROM sources WHERE id IN ({marks})", ids).fetchall())


class BiographyController(Controller):
    path = "/persons"
    tags = ["biographies"]

    @get("/{person_id:str}/biography", summary="The projected biography of a person")
    async def biography(
        self, request: Request, person_id: FromPath[str],
        as_of: Annotated[str | None, Parameter(max_length=40, description=(
            "A log position, or an RFC 3339 timestamp: the archive as it stood then"))] = None,
        include: Annotated[Literal["pending"] | None, Parameter(description=(
            "'pending': also pending and contested claims the caller may see (flagged)"))] = None,
    ) -> Biography:
        """Names, birth and death, affiliations, a timeline by earliest possible day with
        citations and review state, conflicts side by side, custody totals with their
        uncertainty beside the totals sources state. A merged id answers with the survivor."""
        archive, principal = archive_of(request), who(request)
        conn = archive.read()
        if include == "pending" and principal.role is None:
            raise ApiError(401, "Unauthorized", "include=pending needs a token: pending claims are "
                           "visible to reviewers and to their contributors")
        row = conn.execute("SELECT data, position FROM persons WHERE id = ?", (person_id,)).fetchone()
        position, stamp = resolve_as_of(archive.store, as_of) if as_of is not None else (None, None)
        if row is None or (position is not None and row[1] > position):
            raise ApiError(404, "Not found", f"person_id={person_id!r}: no person with that id"
                           + (f" at position {position}" if position is not None else ""))
        if position is None:
            alive = survivor(conn, person_id)
            merged = merged_into(conn, alive)
            views = current_views(conn, [alive, *merged], principal, include == "pending")
        else:
            alive, merged = group_as_of(conn, person_id, position)
            views = views_as_of(archive.store, [alive, *merged], position, principal, include == "pending")
        person = msgspec.json.decode(conn.execute("SELECT data FROM persons WHERE id = ?", (alive,)).fetchone()[0])
        return assemble(person, views, source_labels(conn, views), merged,
                        person_id if person_id != alive else None,
                        {"position": position, "recorded_at": stamp} if position is not None else None)

