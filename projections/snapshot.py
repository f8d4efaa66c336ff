"""What the public snapshot (`starosta publish`) reads from the read models: their public rows,
in a stable order, on the caller's connection and inside its one read transaction.

Public is what an anonymous reader of the API sees, by the rules the read models already keep:
registered entities and sources (public at once), and approved claims that are neither
superseded nor ranked deprecated (`projections.rules.COUNTED`, `events.claim_rules.counts`):
a disputed claim (approved, then contested) stays out until its contest is resolved.
Population figures and ledgers come from those read models' own query functions, so the
snapshot counts exactly as `GET /places/{id}/population/timeline` and `GET /funds/{id}/ledger`
do. Nothing here writes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import msgspec

from starosta.events.claim_rules import counts, effective_rank
from starosta.events.errors import Invalid
from starosta.events.store import Connection
from starosta.projections import ledger, population, registry
from starosta.projections.claims import all_suppressed
from starosta.projections.rules import COUNTED as PUBLIC  # claims that stand: disputed ones wait
from starosta.projections.rules import counts_sql

_PUBLIC_MARKS = ",".join("?" * len(PUBLIC))
_COUNTED, _COUNTED_ARGS = counts_sql(PUBLIC)  # a claim index's rows in the snapshot


def checkpoints(conn: Connection) -> dict[str, tuple[int, int]]:
    """Return projection name -> (code version, last log position applied), as recorded."""
    return {name: (version, position) for name, version, position in conn.execute(
        "SELECT name, version, position FROM projection_checkpoints")}


def registered(conn: Connection, kind: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Yield (id, label, registration event as a dict) of every registered entity of `kind`
    (person, place, organization, fund or source), by id; merged persons included. A
    suppressed entity is its id only: label "[suppressed]", no registration data."""
    table = registry.ENTITY_TABLES[kind]  # a table name from code, never input
    taken = registry.suppressed_entities(conn, kind)
    for entity_id, label, data in conn.execute(f"SELECT id, label, data FROM {table} ORDER BY id"):
        if entity_id in taken:
            yield entity_id, registry.SUPPRESSED_LABEL, {"csl": {}} if kind == "source" else {}
        else:
            yield entity_id, label, msgspec.json.decode(data)


def is_public(status: str, superseded_by: str | None, rank: str) -> bool:
    """Return True when a claim is in the public snapshot: approved, not superseded, and its
    effective rank not deprecated."""
    return counts(status, superseded_by, rank, statuses=PUBLIC)


class PublicClaim(msgspec.Struct, kw_only=True):
    """A public claim as the claims read model keeps it: the claim as submitted, its dates'
    bounds (field -> {edtf, earliest, latest, ...}) and its duration's length, if any."""

    id: str
    kind: str
    rank: str
    rank_reason: str | None
    position: int
    supersedes: str | None
    claim: dict[str, Any]
    dates: dict[str, dict[str, Any]]
    length: dict[str, Any] | None = None


class _Data(msgspec.Struct):
    claim: dict[str, Any]
    dates: dict[str, dict[str, Any]] = {}
    length: dict[str, Any] | None = None


_data = msgspec.json.Decoder(_Data)


def public_claims(conn: Connection) -> Iterator[PublicClaim]:
    """Yield every public claim (`is_public`), by id; suppressed ones never."""
    taken = all_suppressed(conn)
    rows = conn.execute(
        f"SELECT id, kind, status, superseded_by, rank, rank_reason, submitted_position, supersedes, "
        f"data FROM claims WHERE status IN ({_PUBLIC_MARKS}) ORDER BY id", PUBLIC)
    for claim_id, kind, status, by, rank, reason, position, supersedes, data in rows:
        if is_public(status, by, rank) and claim_id not in taken:
            stored = _data.decode(data)
            yield PublicClaim(id=claim_id, kind=kind, rank=effective_rank(rank, by), rank_reason=reason,
                              position=position, supersedes=supersedes, claim=stored.claim,
                              dates=stored.dates, length=stored.length)


def claim_refs(conn: Connection, published: set[str]) -> Iterator[tuple[str, str, str]]:
    """Yield (claim id, field, entity id) for every entity a claim among `published` refers
    to (the citation's source aside), by claim, field and entity."""
    for claim_id, field, entity_id in conn.execute(
            "SELECT claim_id, field, entity_id FROM claim_refs ORDER BY claim_id, field, entity_id"):
        if claim_id in published:
            yield claim_id, field, entity_id


def source_links(conn: Connection,
                 published: set[str]) -> Iterator[tuple[str, str, str, str]]:
    """Yield (claim id, source, the source it derives from, relation) for the `via` links of
    the citations of claims among `published`, in that order."""
    for row in conn.execute("SELECT claim_id, source_id, derives_from, relation FROM source_links "
                            "ORDER BY claim_id, source_id, derives_from, relation"):
        if row[0] in published:
            yield row


class Episode(msgspec.Struct, kw_only=True):
    """One person's custody episode as the population read model counts it: the claim, the
    person it names (`role` person, or a companion: with), the place (None when the source
    names none), the custody kind, the bounds of start and end, and `open_bound`, the latest
    day an unknown end can be (their next dated custody elsewhere or death; None: unbounded)."""

    claim_id: str
    person_id: str
    role: str
    place_id: str | None
    custody: str
    start_earliest: str | None
    start_latest: str | None
    end_earliest: str | None
    end_latest: str | None
    open_bound: str | None


def custody_episodes(conn: Connection) -> Iterator[Episode]:
    """Yield the episodes populations count (approved, not superseded, not ranked deprecated:
    projections.rules.counts_sql), by claim and person."""
    for row in conn.execute(
            f"SELECT claim_id, person_id, role, place_id, custody, start_earliest, start_latest, "
            f"end_earliest, end_latest, open_bound FROM custody_episodes WHERE {_COUNTED} "
            f"ORDER BY claim_id, person_id", _COUNTED_ARGS):
        yield Episode(claim_id=row[0], person_id=row[1], role=row[2], place_id=row[3], custody=row[4],
                      start_earliest=row[5], start_latest=row[6], end_earliest=row[7],
                      end_latest=row[8], open_bound=row[9])


def _span(year: int, first: bool) -> population.Span:
    day = dt.date(year, 1, 1) if first else dt.date(year, 12, 31)
    return population.Span(f"{year:04d}", day, day)


def yearly_population(conn: Connection, place_id: str) -> list[population.Period]:
    """Return the place's public population figures per year, as `population.timeline` gives
    them (from its earliest to its latest dated episode, stay or count; none when it has none).

    A place whose dates span more than `population.MAX_PERIODS` years (old data a past version
    accepted, year 9999) is read in runs of that many years over years 1-9999, and the years
    before the first and after the last with anyone possibly held or a count reported are cut."""
    try:
        return population.timeline(conn, place_id, "year", None, None, PUBLIC).items
    except Invalid:
        pass
    items: list[population.Period] = []
    step = population.MAX_PERIODS
    for first in range(1, 10000, step):
        last = min(first + step - 1, 9999)
        items += population.timeline(conn, place_id, "year", _span(first, True), _span(last, False),
                                     PUBLIC).items
    held = [i for i, p in enumerate(items) if p.count_max or p.reported]
    return items[held[0]:held[-1] + 1] if held else []


def fund_ledger(conn: Connection,
                fund_id: str) -> tuple[ledger.Ledger, list[ledger.LedgerEntry]]:
    """Return a fund's public ledger (its totals and first page) and every entry of it, in
    ledger order (date, then claim; undated last), read page by page with `ledger.ledger`."""
    first = page = ledger.ledger(conn, fund_id, PUBLIC, None, ledger.MAX_PAGE)
    entries = list(page.entries)
    while page.next is not None:
        page = ledger.ledger(conn, fund_id, PUBLIC, page.next, ledger.MAX_PAGE)
        entries += page.entries
    return first, entries


def identifications(conn: Connection) -> Iterator[tuple[str, str, str, str, str, str | None, int]]:
    """Yield the identifications in force (kind, record, other, certainty, reason, citation
    JSON, position), by record and other; those naming a suppressed record left out."""
    rows = registry.identifications(conn)
    taken = registry.suppressions(conn, {r[1] for r in rows} | {r[2] for r in rows})
    for row in sorted(rows, key=lambda r: (r[1], r[2])):
        if row[1] not in taken and row[2] not in taken:
            yield row
