"""Commands: a request checked against the archive becomes events to append.

Everything here is synchronous and quick (dates are parsed once, through a cache); the
checks read projections, and the store's expected versions settle any race.
"""

from __future__ import annotations

import sqlite3

import msgspec

from starosta.events.dates import DateValue
from starosta.events.kinds import Claim, NameClaim, kind_of, refs_of
from starosta.events.review import ClaimSubmitted
from starosta.events.store import AppendRequest, NewEvent
from starosta.projections import names
from starosta.service.dates import DateError, parse_date
from starosta.service.auth import Principal
from starosta.service.errors import ApiError

ENTITY_TABLES = {"person": "persons", "place": "places", "organization": "organizations",
                 "fund": "funds", "source": "sources"}


def invalid(field: str, value: object, message: str) -> ApiError:
    """Return a 422 naming the field and the value at fault."""
    shown = msgspec.json.encode(value).decode()[:200]
    return ApiError(422, "Invalid request", f"{field}={shown}: {message}",
                    [{"field": field, "in": "body", "value": value, "message": message}])


def not_found(field: str, value: str, what: str) -> ApiError:
    """Return a 404 naming the field and the unknown id."""
    return ApiError(404, "Not found", f"{field}={value!r}: no {what} with that id",
                    [{"field": field, "in": "body", "value": value, "message": f"unknown {what}"}])


def exists(conn: sqlite3.Connection, kind: str, entity_id: str) -> bool:
    """Return True when an entity of `kind` ('any' = person or organisation) is registered."""
    kinds = ("person", "organization") if kind == "any" else (kind,)
    return any(conn.execute(f"SELECT 1 FROM {ENTITY_TABLES[k]} WHERE id = ?",  # table from code
                            (entity_id,)).fetchone() for k in kinds)


def require(conn: sqlite3.Connection, kind: str, entity_id: str, field: str) -> None:
    """Raise a 404 ApiError unless the entity exists."""
    if not exists(conn, kind, entity_id):
        raise not_found(field, entity_id, "organisation or person" if kind == "any" else kind)


def check_dates(claim: Claim) -> dict[str, DateValue]:
    """Parse every date of a claim once; return field -> DateValue. Raise 422 naming the field."""
    out: dict[str, DateValue] = {}
    try:
        for field in claim.DATES:
            text = getattr(claim, field)
            if text is not None:
                out[field] = parse_date(text, field=field, calendar=claim.calendar)
    except DateError as exc:
        raise invalid(exc.field, exc.value, exc.problem) from None
    if claim.INTERVAL:
        first, second = claim.INTERVAL
        a, b = out.get(first), out.get(second)
        if a and b and a.earliest and b.latest and a.earliest > b.latest:
            raise invalid(first, getattr(claim, first),
                          f"{first} {a.edtf!r} (earliest {a.earliest}) is after {second} "
                          f"{b.edtf!r} (latest {b.latest}): the interval is reversed")
    return out


def check_claim(conn: sqlite3.Connection, claim: Claim, who: Principal) -> None:
    """Check references, amounts and kind-specific rules; raise ApiError (404/422).

    A claim may supersede only a claim its contributor may see (approved, their own, or any
    for reviewers): others answer 404 as if unknown, so hidden claims do not leak."""
    require(conn, "source", claim.citation.source, "citation.source")
    for field, kind, value in refs_of(claim):
        require(conn, kind, value, field)
    if claim.supersedes is not None:
        row = conn.execute("SELECT status, contributor FROM claims WHERE id = ?",
                           (claim.supersedes,)).fetchone()
        if row is None or not (row[0] == "approved" or who.has("reviewer") or who.name == row[1]):
            raise not_found("supersedes", claim.supersedes, "claim")
    amount = getattr(claim, "amount", None)
    currency = getattr(claim, "currency", None)
    if (amount is None) != (currency is None):
        field = "currency" if currency is None else "amount"
        raise invalid(field, None, "an amount needs its currency, and a currency its amount")
    if isinstance(claim, NameClaim):
        subjects = [f for f in ("person", "place", "organization", "fund") if getattr(claim, f)]
        if len(subjects) != 1:
            raise invalid("person", claim.person,
                          "a name claim names exactly one of person, place, organization, fund")
    if kind_of(claim) == "protest" and claim.person is None and claim.place is None:  # type: ignore[attr-defined]
        raise invalid("person", None, "a protest needs a person or a place")


def with_script(claim: Claim) -> Claim:
    """Return a name claim with its script guessed when the contributor gave none."""
    if isinstance(claim, NameClaim) and claim.script is None:
        return msgspec.structs.replace(claim, script=names.script_of(claim.name))
    return claim


def submission(conn: sqlite3.Connection, claim_id: str, claim: Claim, who: Principal) -> AppendRequest:
    """Check a claim and return the append that submits it (a new claim stream)."""
    claim = with_script(claim)
    dates = check_dates(claim)
    check_claim(conn, claim, who)
    event = ClaimSubmitted(claim_id=claim_id, contributor=who.name or "", claim=claim, dates=dates)
    return AppendRequest(claim_id, [NewEvent(event)], expected_version=0)
