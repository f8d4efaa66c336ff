"""Submitting claims, reading them, and reviewing them (approve, reject, contest, retract)."""

from __future__ import annotations

import hashlib
import sqlite3
from typing import Annotated, Any, Literal

import anyio
import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.openapi.spec import Example
from litestar.params import Body, FromPath, FromQuery, Parameter
from msgspec import Meta

from starosta.events.kinds import KIND_NAMES, AnyClaim, Citation
from starosta.events.review import (
    ClaimApproved,
    ClaimContested,
    ClaimRejected,
    ClaimRetracted,
    ClaimState,
    check,
    evolve,
)
from starosta.events.store import AppendRequest, ConcurrencyError, NewEvent
from starosta.service import auth
from starosta.service.api.common import Cursor, Limit, archive_of, cursor, who
from starosta.service.auth import Principal
from starosta.service.commands import invalid, require, submission
from starosta.events.errors import DomainError
from starosta.service.errors import ApiError, status_of
from starosta.service.ids import new_id

Reason = Annotated[str, Meta(min_length=1, max_length=5000)]
ClaimId = Annotated[str, Meta(max_length=64)]

CLAIM_EXAMPLES = [
    Example(summary="custody", value={
        "kind": "custody", "person": "P-00000001", "place": "PL-0000001", "start": "1940-01-25",
        "end": "1940-09", "custody": "prison", "said": "on 25-1-1940",
        "citation": {"source": "S-00000001", "locator": "para. 4"}}),
    Example(summary="death", value={
        "kind": "death", "person": "P-00000002", "date": "1925-04", "place": "PL-0000002",
        "citation": {"source": "S-00000002"}}),
    Example(summary="disbursement", value={
        "kind": "disbursement", "fund": "F-00000001", "recipient": "P-00000003",
        "via": "P-00000004", "amount": "25.00", "currency": "USD", "date": "1926-05",
        "citation": {"source": "S-00000003", "locator": "Bulletin 12"}}),
    Example(summary="aggregate", value={
        "kind": "aggregate", "place": "PL-0000003", "date": "1943-01-01", "count": 66,
        "qualifier": "exact", "group": "Spanish anti-fascists in Kazakhstan",
        "of_whom": [{"count": 11, "what": "died"}], "citation": {"source": "S-00000004"}}),
]


class Submitted(msgspec.Struct):
    id: str
    status: str
    position: int


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
    """A claim as submitted, its dates' bounds, its review state and its review history."""

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


class ClaimPage(msgspec.Struct):
    items: list[ClaimOut]
    next: str | None


class ReasonIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    reason: Reason


class ApproveIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    reason: Reason | None = None


class ContestIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    reason: Reason
    citation: Citation | None = None


class BulkApproveIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    ids: Annotated[list[ClaimId], Meta(min_length=1, max_length=500)]
    reason: Reason | None = None


class BulkItem(msgspec.Struct, kw_only=True, omit_defaults=True):
    id: str
    status: int
    claim: ClaimOut | None = None
    detail: str | None = None


class BulkOut(msgspec.Struct):
    items: list[BulkItem]


_COLUMNS = ("id, kind, status, version, contributor, submitted_position, submitted_at, supersedes, "
            "superseded_by, contested_by, data")


def claim_out(conn: sqlite3.Connection, row: tuple) -> ClaimOut:
    data = msgspec.json.decode(row[10])
    history = [ReviewOut(action=r[0], actor=r[1], version=r[2], position=r[3], recorded_at=r[4],
                         reason=r[5], citation=msgspec.json.decode(r[6]) if r[6] else None,
                         resolves_contest=bool(r[7]))
               for r in conn.execute("SELECT action, actor, version, position, recorded_at, reason, "
                                     "citation, resolves_contest FROM claim_reviews WHERE claim_id = ? "
                                     "ORDER BY version", (row[0],))]
    return ClaimOut(id=row[0], kind=row[1], status=row[2], version=row[3], contributor=row[4],
                    position=row[5], submitted_at=row[6], supersedes=row[7], superseded_by=row[8],
                    contested_by=row[9], claim=data["claim"], dates=data["dates"], history=history)


def visible(principal: Principal, status: str, contributor: str) -> bool:
    """Approved claims are public; others are seen by reviewers and by their contributor."""
    return status == "approved" or principal.has("reviewer") or principal.name == contributor


def load(conn: sqlite3.Connection, claim_id: str, principal: Principal) -> ClaimOut:
    row = conn.execute(f"SELECT {_COLUMNS} FROM claims WHERE id = ?", (claim_id,)).fetchone()
    if row is None or not visible(principal, row[2], row[4]):
        raise ApiError(404, "Not found", f"claim_id={claim_id!r}: no claim with that id is visible "
                                         "to you (pending claims need a reviewer's or their contributor's token)")
    return claim_out(conn, row)


def reason_of(data: ReasonIn | ContestIn | None, action: str) -> str:
    """Return the body's reason; a missing body is a 422 naming `reason`, like an empty one."""
    if data is None:
        raise invalid("reason", None, f"{action} needs a reason: send a JSON body {{\"reason\": \"...\"}}")
    return data.reason


def etag(version: int) -> str:
    return f'"{version}"'


def if_match(request: Request) -> int | None:
    """Return the claim version the caller's If-Match names (None without the header)."""
    value = request.headers.get("if-match")
    if value is None or value.strip() == "*":
        return None
    text = value.strip().removeprefix("W/").strip('"')
    if not text.isdigit():
        raise ApiError(422, "Invalid request", f"If-Match={value!r}: send the claim's ETag, e.g. \"3\"",
                       [{"field": "If-Match", "in": "header", "value": value, "message": "not an ETag of this API"}])
    return int(text)


class ClaimController(Controller):
    path = "/claims"
    tags = ["claims"]

    @post("/", guards=[auth.contributor], summary="Submit a claim", status_code=201)
    async def submit(self, request: Request,
                     data: Annotated[AnyClaim, Body(examples=CLAIM_EXAMPLES)]) -> Response:  # type: ignore[valid-type]
        """One claim, discriminated by `kind`, with a required citation; answers 201 pending."""
        archive, principal = archive_of(request), who(request)
        claim_id = new_id("claim")
        append = submission(archive.read(), claim_id, data, principal)
        return await archive.commit(request, principal, [append], lambda conn, env: (
            201, Submitted(claim_id, "pending", env[0].position)))

    @get("/{claim_id:str}", summary="A claim with its review history")
    async def read(self, request: Request, claim_id: FromPath[str]) -> Response:
        """Anyone reads approved claims; the ETag is the claim's version, for If-Match."""
        out = load(archive_of(request).read(), claim_id, who(request))
        return Response(msgspec.json.encode(out), media_type="application/json",
                        headers={"ETag": etag(out.version)})

    @get("/", summary="List claims: the review queue with ?status=pending")
    async def list(self, request: Request,
                   status: FromQuery[Literal["pending", "approved", "rejected", "contested", "retracted"] | None] = None,
                   person: Annotated[str | None, Parameter(max_length=64)] = None,
                   place: Annotated[str | None, Parameter(max_length=64)] = None,
                   source: Annotated[str | None, Parameter(max_length=64)] = None,
                   contributor: Annotated[str | None, Parameter(max_length=200)] = None,
                   kind: Annotated[str | None, Parameter(max_length=40)] = None,
                   after: Cursor = None, limit: Limit = 50) -> ClaimPage:
        """Oldest first. Anonymous readers list approved claims; a contributor also lists
        their own; reviewers list everything. Filters combine (AND)."""
        principal = who(request)
        if kind is not None and kind not in KIND_NAMES:
            raise ApiError(422, "Invalid request", f"kind={kind!r}: not a claim kind; one of "
                           f"{', '.join(KIND_NAMES)}", [{"field": "kind", "in": "query", "value": kind,
                                                          "message": "unknown claim kind"}])
        if status not in (None, "approved") and principal.role is None:
            raise ApiError(401, "Unauthorized", f"status={status!r}: listing claims that are not "
                           "approved needs a token")
        where, args = ["submitted_position > ?"], [cursor(after)]
        for column, value in (("status", status), ("source_id", source), ("contributor", contributor),
                              ("kind", kind)):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        for entity in (person, place):
            if entity is not None:
                where.append("id IN (SELECT claim_id FROM claim_refs WHERE entity_id = ?)")
                args.append(entity)
        if not principal.has("reviewer"):
            where.append("(status = 'approved' OR contributor = ?)")
            args.append(principal.name or "")
        conn = archive_of(request).read()
        rows = conn.execute(f"SELECT {_COLUMNS} FROM claims WHERE {' AND '.join(where)} "
                            "ORDER BY submitted_position LIMIT ?", (*args, limit + 1)).fetchall()
        items = [claim_out(conn, r) for r in rows[:limit]]
        return ClaimPage(items, str(items[-1].position) if len(rows) > limit else None)

    @post("/{claim_id:str}/approve", guards=[auth.reviewer], status_code=200,
          summary="Approve (on a contested claim: dismiss the contest)")
    async def approve(self, request: Request, claim_id: FromPath[str], data: Annotated[ApproveIn | None, Body(examples=[Example(summary="approve", value={"reason": "faithful reading of p. 12"})])] = None) -> Response:
        return await decide(request, claim_id, "approve", data.reason if data else None)

    @post("/{claim_id:str}/reject", guards=[auth.reviewer], status_code=200,
          summary="Reject (on a contested claim: uphold the contest)")
    async def reject(self, request: Request, claim_id: FromPath[str], data: Annotated[ReasonIn | None, Body(examples=[Example(summary="reject", value={"reason": "the source says 1941, not 1940"})])] = None) -> Response:
        return await decide(request, claim_id, "reject", reason_of(data, "reject"))

    @post("/{claim_id:str}/contest", guards=[auth.reviewer], status_code=200,
          summary="Contest a pending or approved claim, with a reason and perhaps a counter-citation")
    async def contest(self, request: Request, claim_id: FromPath[str], data: Annotated[ContestIn | None, Body(examples=[Example(summary="contest with a counter-citation", value={"reason": "Monclús's memoir gives another date", "citation": {"source": "S-00000002", "locator": "p. 88"}})])] = None) -> Response:
        reason = reason_of(data, "contest")
        if data is not None and data.citation is not None:
            require(archive_of(request).read(), "source", data.citation.source, "citation.source")
        return await decide(request, claim_id, "contest", reason, data.citation if data else None)

    @post("/{claim_id:str}/retract", guards=[auth.contributor], status_code=200,
          summary="Retract your own pending claim")
    async def retract(self, request: Request, claim_id: FromPath[str], data: Annotated[ReasonIn | None, Body(examples=[Example(summary="retract", value={"reason": "duplicate of another claim"})])] = None) -> Response:
        return await decide(request, claim_id, "retract", reason_of(data, "retract"))

    @post("/approve", guards=[auth.reviewer], status_code=200,
          summary="Approve many claims; each is checked and reported on its own")
    async def approve_many(self, request: Request, data: Annotated[BulkApproveIn, Body(examples=[Example(summary="bulk approve", value={"ids": ["C-00000001", "C-00000002"], "reason": "checked against the bulletin"})])]) -> BulkOut:
        """Not atomic: each claim is approved or refused alone (`status` per item is the HTTP
        status a single approve would have answered)."""
        items = []
        for claim_id in dict.fromkeys(data.ids):
            try:
                response = await decide(request, claim_id, "approve", data.reason, idempotent=False)
                items.append(BulkItem(id=claim_id, status=200,
                                      claim=msgspec.json.decode(response.content, type=ClaimOut)))
            except (ApiError, DomainError) as exc:
                items.append(BulkItem(id=claim_id, status=status_of(exc), detail=exc.detail))
        out = BulkOut(items)
        body_hash = hashlib.sha256(await request.body()).hexdigest()
        await anyio.to_thread.run_sync(archive_of(request).remember, request, who(request),
                                       body_hash, 200, out)
        return out


async def decide(request: Request, claim_id: str, action: str, reason: str | None,
                 citation: Citation | None = None, idempotent: bool = True) -> Response:
    """Fold the claim's stream, check the rules and If-Match, append the decision with the
    stream's version expected: a decision racing another answers 409, never both."""
    archive, principal = archive_of(request), who(request)
    stream = archive.store.read_stream(claim_id)
    if not stream or not stream[0].type == "claim.submitted":
        raise ApiError(404, "Not found", f"claim_id={claim_id!r}: no claim with that id")
    state: ClaimState | None = None
    for envelope in stream:
        state = evolve(state, envelope.event)
    assert state is not None
    if not visible(principal, state.status, state.contributor):
        raise ApiError(404, "Not found", f"claim_id={claim_id!r}: no claim with that id is visible to you")
    expected = if_match(request)
    if expected is not None and expected != state.version:
        raise ApiError(409, "Conflict", f"If-Match names version {expected} of {claim_id}, but it is "
                       f"at version {state.version} ({state.status}): reload it and decide again")
    check(state, action, principal.name or "", principal.has("reviewer"))  # type: ignore[arg-type]
    resolves = state.status == "contested"
    who_ = principal.name or ""
    event = {
        "approve": lambda: ClaimApproved(claim_id=claim_id, reviewer=who_, reason=reason,
                                         resolves_contest=resolves),
        "reject": lambda: ClaimRejected(claim_id=claim_id, reviewer=who_, reason=reason or "",
                                        resolves_contest=resolves),
        "contest": lambda: ClaimContested(claim_id=claim_id, reviewer=who_, reason=reason or "",
                                          citation=citation),
        "retract": lambda: ClaimRetracted(claim_id=claim_id, contributor=who_, reason=reason or ""),
    }[action]()
    append = AppendRequest(claim_id, [NewEvent(event)], expected_version=state.version)

    def render(conn: sqlite3.Connection, envelopes) -> tuple[int, ClaimOut, dict[str, str]]:
        row = conn.execute(f"SELECT {_COLUMNS} FROM claims WHERE id = ?", (claim_id,)).fetchone()
        out = claim_out(conn, row)
        return 200, out, {"ETag": etag(out.version)}

    try:
        if idempotent:
            response = await archive.commit(request, principal, [append], render)
        else:
            response = await archive.commit_unkeyed(principal, [append], render)
    except ConcurrencyError:
        raise ApiError(409, "Conflict", f"claim {claim_id} changed while you decided (another "
                       "review landed first): reload it and decide again") from None
    return response

