"""Submitting claims, reading them, reviewing them (approve, reject, contest, retract, rank),
and an admin's take-downs of claims and entities (suppress, unsuppress)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.openapi.spec import Example
from litestar.params import Body, FromPath, FromQuery, Parameter
from msgspec import Meta

from starosta.events.claim_rules import Rank, Status
from starosta.events.errors import Conflict, DomainError, Invalid
from starosta.events.kinds import KIND_NAMES, AnyClaim, Citation
from starosta.events.store import ConcurrencyError, Connection
from starosta.projections import registry
from starosta.projections import claims as claims_model
from starosta.projections.claims import ClaimOut, ClaimPage
from starosta.projections.rules import check_listing
from starosta.service.domain import accounts, commands
from starosta.service.api import auth
from starosta.service.domain.replies import BulkItem, BulkOut, BulkReviewed, Decision, Submitted, SuppressionSet
from starosta.service.api.common import (
    Cursor,
    Limit,
    archive_of,
    commit,
    cursor,
    decide_and_commit,
    decided,
    number,
    off_loop,
    paged,
    replayed_after_conflict,
    viewer,
    who,
)
from starosta.service.domain.commands import invalid
from starosta.service.api.errors import http_status

Reason = Annotated[str, Meta(min_length=1, max_length=5000)]
ClaimId = Annotated[str, Meta(max_length=64)]
KindName = Literal[KIND_NAMES]  # type: ignore[valid-type]  # the kinds, an enum in the OpenAPI document

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
    Example(summary="a group held, with a count range", value={
        "kind": "custody", "group": "O-00000005", "count": {"min": 4, "max": 20},
        "custody": "camp", "place": "PL-0000004", "start": "1942", "end": "1948",
        "certainty": "probable", "citation": {"source": "S-00000001"}}),
    Example(summary="a group sentenced and accused (issue 20)", value={
        "kind": "sentence", "group": "O-00000005", "count": 8, "sentence": "penal_servitude",
        "term": "8 years' penal servitude", "term_iso": "P8Y", "date": "1940",
        "said": "they were sentenced to 8 years' penal servitude",
        "citation": {"source": "S-00000001", "locator": "para. 3"}}),
    Example(summary="a group's occupation (issue 20)", value={
        "kind": "occupation", "group": "O-00000006", "occupation": "shepherds",
        "said": "they were all young men, farmers, shepherds and shearers",
        "citation": {"source": "S-00000001"}}),
    Example(summary="an escape with companions", value={
        "kind": "escape", "person": "P-00000001", "with": ["P-00000005", "P-00000006"],
        "outcome": "recaptured", "date": "1940-09/1941-09", "citation": {"source": "S-00000001"}}),
    Example(summary="an encounter, with participants in roles", value={
        "kind": "presence", "person": "P-00000001", "place_said": "a secret location",
        "start": "1937", "participants": [
            {"ref": "P-00000005", "role": "encountered", "said": "Molina"},
            {"ref": "P-00000006", "role": "encountered", "said": "Blasco Cobo"}],
        "citation": {"source": "S-00000001", "quote": "he ran into Molina and Blasco Cobo"}}),
    Example(summary="a regime as an informant relates it", value={
        "kind": "custody", "place": "PL-0000001", "group": "O-00000005", "custody": "prison",
        "participants": [{"ref": "P-00000008", "role": "informant", "said": "Lazarevitch",
                          "certainty": "certain"}],
        "citation": {"source": "S-00000002", "quote": "Lazarevitch relates"}}),
    Example(summary="a stay known by its length", value={
        "kind": "custody", "person": "P-00000001", "custody": "prison", "place": "PL-0000005",
        "start": "1938/1939-06", "duration": "P6M", "said": "six months locked up",
        "citation": {"source": "S-00000002", "via": [
            {"source": "S-00000001", "relation": "translation_of"}, "Translated by Paul Sharkey"]}}),
    Example(summary="an allowance as a range", value={
        "kind": "allowance", "person": "P-00000007", "person_said": "S.– K.–",
        "amount": {"min": "10", "max": "12"}, "currency": "SUR", "period": "month",
        "citation": {"source": "S-00000003"}}),
    Example(summary="a name in parts, as a record card gives it", value={
        "kind": "name", "person": "P-00000008", "name": "Vera Alexandrovna Martsinkevitch",
        "name_kind": "transliteration", "parts": {"surname": "Martsinkevitch", "given": "Vera",
                                                  "patronymic": "Alexandrovna"},
        "citation": {"source": "S-00000002", "locator": "note 9"}}),
    Example(summary="a derivation: one registered source is a translation of another", value={
        "kind": "derivation", "source": "S-00000003", "derives_from": "S-00000002",
        "relation": "translation_of", "citation": {"source": "S-00000003", "locator": "title page"}}),
    Example(summary="a statement: a property's value (GET /properties)", value={
        "kind": "statement", "subject": "P-00000001", "property": "memorial_id",
        "value": "4711", "citation": {"source": "S-00000005", "locator": "record card"}}),
    Example(summary="a statement in monolingual text", value={
        "kind": "statement", "subject": "P-00000002", "property": "conditions",
        "value": {"text": "the regime of the Butyrki prison", "language": "en"},
        "start": "1923", "citation": {"source": "S-00000002"}}),
    Example(summary="an allowance with a stated equivalent (a qualifier)", value={
        "kind": "allowance", "person": "P-00000007", "amount": "6.25", "currency": "SUR",
        "period": "month", "citation": {"source": "S-00000003"},
        "qualifiers": [{"property": "equivalent",
                        "value": {"amount": "3.25", "currency": "USD", "at_most": True}}]}),
    Example(summary="a death with an age as stated (a qualifier)", value={
        "kind": "death", "person": "P-00000002", "date": "1990",
        "citation": {"source": "S-00000002"},
        "qualifiers": [{"property": "stated_age", "value": {"amount": "86", "unit": "years"}}]}),
    Example(summary="an accusation with its article (a qualifier)", value={
        "kind": "accusation", "person": "P-00000001", "accusation": "anti-Soviet agitation",
        "citation": {"source": "S-00000005"},
        "qualifiers": [{"property": "article", "value": "58-10"}]}),
    Example(summary="attributed: what the source says someone else said", value={
        "kind": "presence", "person": "P-00000008", "place": "PL-0000006",
        "purpose": "exile, preferred to freedom in Russia", "attributed_to": "O-00000007",
        "said": "I was very happy to leave Russia, and that I preferred exile in Germany to freedom in Russia",
        "citation": {"source": "S-00000006", "quote": "it has been stated in the American press that I "
                     "was very happy to leave Russia"}}),
    Example(summary="a denial of another claim", value={
        "kind": "presence", "person": "P-00000008", "place": "PL-0000006",
        "purpose": "exile, forced to leave Russia", "denies": "C-00000009",
        "said": "I was deeply grieved when I was forced to leave that country",
        "citation": {"source": "S-00000006", "quote": "This statement attributed to me, is a deliberate lie!"}}),
    Example(summary="aid in kind from a sender known only by the source's words (no fund)", value={
        "kind": "in_kind", "items": "the papers \u201cNoviy Mir\u201d and \u201cRussky Golos\u201d",
        "sender_said": "from Chicago",
        "citation": {"source": "S-00000002", "quote": "Twice we received from Chicago the papers "
                     "\u201cNoviy Mir\u201d and \u201cRussky Golos\u201d. Wonder who sent them."}}),
    Example(summary="a donation given as approximate (kept out of the exact totals)", value={
        "kind": "donation", "fund": "F-00000001", "donor": "Paris group", "amount": "100",
        "about": True, "currency": "FRF", "date": "1926", "citation": {"source": "S-00000003"}}),
    Example(summary="a disbursement given as a range", value={
        "kind": "disbursement", "fund": "F-00000001", "recipient": "O-00000002",
        "amount": {"min": "10", "max": "12"}, "currency": "RUR", "date": "1927",
        "citation": {"source": "S-00000003"}}),
    Example(summary="a committee transfer (credited in the receiving organisation's fund)", value={
        "kind": "committee_transfer", "fund": "F-00000001", "to": "O-00000004",
        "purpose": "for exiled Bulgarians", "amount": "120.00", "currency": "USD", "date": "1926",
        "citation": {"source": "S-00000003"}}),
    Example(summary="the same arrest as another claim tells it (same_event, issue 22)", value={
        "kind": "arrest", "person": "P-00000009", "date": "1937-07", "organ": "O-00000002",
        "same_event": "C-00000002", "citation": {"source": "S-00000002", "locator": "p. 4"}}),
]


class ReasonIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    reason: Reason


class ApproveIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    reason: Reason | None = None


class ContestIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    reason: Reason
    citation: Citation | None = None


class RankIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A rank for an approved claim: preferred among readings, normal, or deprecated (with the
    reason, which a deprecated rank needs)."""

    rank: Rank
    reason: Reason | None = None
    citation: Annotated[Citation, Meta(description=(
        "With `deprecated` only: the source that retracts the claim, kept in its history"))] | None = None


RANK_EXAMPLES = [
    Example(summary="deprecate", value={
        "rank": "deprecated", "reason": "the bulletin corrects this figure in the next issue"}),
    Example(summary="deprecate, citing the retracting source", value={
        "rank": "deprecated", "reason": "the author withdrew this figure in a later letter",
        "citation": {"source": "S-00000005", "locator": "p. 2",
                     "quote": "the figure I gave last month was wrong"}}),
    Example(summary="prefer", value={"rank": "preferred", "reason": "the eyewitness account"}),
]


class SuppressIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Why an admin takes a claim or an entity down from readers (or puts it back): shown to
    everyone, in the public event and in place of the content."""

    reason: Reason


SUPPRESS_EXAMPLES = [Example(summary="a take-down", value={
    "reason": "defamatory: the source confuses him with his namesake"})]
UNSUPPRESS_EXAMPLES = [Example(summary="undo a take-down", value={
    "reason": "the request was withdrawn"})]
SUPPRESS_DOC = ("Admin only. Readers then see the take-down (when and why) in place of the "
                "content, in every read (as_of, the log and the feed included); the log keeps the "
                "content, reviewers and admins still read it, marked. 409 when it is suppressed already.")
UNSUPPRESS_DOC = "Admin only. Readers see the content again. 409 when it is not suppressed."


async def set_suppression(request: Request, kind: str, target: str, data: SuppressIn | None,
                          on: bool) -> Response[SuppressionSet]:
    """Decide and commit a take-down (`on`) or its undoing (service.domain.commands.suppression)."""
    reason = reason_of(data, "suppress" if on else "unsuppress")
    try:
        return await decide_and_commit(request, lambda: commands.suppression(
            archive_of(request).store, kind, target, reason, who(request), on))
    except ConcurrencyError:
        raise Conflict(f"{kind} {target} was suppressed or unsuppressed while you decided: reload "
                       "it and decide again") from None


class BulkApproveIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    ids: Annotated[list[ClaimId], Meta(min_length=1, max_length=500)]
    reason: Reason | None = None


def reason_of(data: ReasonIn | ContestIn | SuppressIn | None, action: str) -> str:
    """Return the body's reason; a missing body is a 422 naming `reason`, like an empty one."""
    if data is None:
        raise invalid("reason", None, f"{action} needs a reason: send a JSON body {{\"reason\": \"...\"}}")
    return data.reason


def if_match(request: Request) -> int | None:
    """Return the claim version the caller's If-Match names (None without the header)."""
    value = request.headers.get("if-match")
    if value is None or value.strip() == "*":
        return None
    text = value.strip().removeprefix("W/").strip('"')
    return number(text, "If-Match", "header", what="an ETag of this API, the claim's version "
                  "in quotes as its ETag gives it (e.g. \"3\")", sent=value)


class ClaimController(Controller):
    path = "/claims"
    tags = ["claims"]

    @post("/", guards=[auth.contributor], summary="Submit a claim", status_code=201,
          opt={"etag": True})
    async def submit(self, request: Request,
                     data: Annotated[AnyClaim, Body(examples=CLAIM_EXAMPLES)]) -> Response[Submitted]:
        """One claim, discriminated by `kind`, with a required citation; answers 201 pending."""
        return await commit(request, await decided(request, commands.submit, data, who(request)))

    @get("/{claim_id:str}", summary="A claim with its review history", opt={"etag": True})
    async def read(self, request: Request, claim_id: FromPath[str]) -> Response[ClaimOut]:
        """Anyone reads approved and disputed claims (a disputed claim carries its contest
        under `dispute`); the ETag is the claim's version, for If-Match."""
        out = await off_loop(request, accounts.read_claim, claim_id, viewer(request))
        if out is None:
            raise commands.unseen_claim("claim_id", claim_id, "path")
        return Response[Any](msgspec.json.encode(out), media_type="application/json",
                        headers={"ETag": claims_model.etag(out.version)})

    @get("/", summary="List claims: the review queue with ?status=pending")
    async def list(self, request: Request,
                   status: FromQuery[Status | None] = None,
                   person: Annotated[str | None, Parameter(max_length=64)] = None,
                   place: Annotated[str | None, Parameter(max_length=64)] = None,
                   organization: Annotated[str | None, Parameter(
                       max_length=64, description="An organisation id: the claims naming it in "
                       "any field (a membership's organisation, a group, a participant, an "
                       "authority...)", examples=[Example(summary="claims about a party",
                                                          value="O-00000001")])] = None,
                   group: Annotated[str | None, Parameter(
                       max_length=64, description="A group or colony (an organisation id): the "
                       "claims whose subject it is (their `group` field)", examples=[
                           Example(summary="the statements about a group", value="O-00000005")])] = None,
                   source: Annotated[str | None, Parameter(max_length=64)] = None,
                   contributor: Annotated[str | None, Parameter(
                       max_length=200, description="The contributor's account id (A- and 8 "
                       "characters, as claims show it); reviewers and admins may also give a name")] = None,
                   kind: Annotated[KindName | None, Parameter(description="One claim kind")] = None,
                   participant: Annotated[str | None, Parameter(
                       max_length=64, description="A person or organisation named as a participant "
                       "(in any role, or in `role`)", examples=[Example(value="P-00000005")])] = None,
                   role: Annotated[str | None, Parameter(
                       pattern=r"^[a-z][a-z0-9_]{1,40}$", description="A participant role: claims with a participant in it (with "
                       "`participant`: that participant in it)",
                       examples=[Example(value="informant")])] = None,
                   property: Annotated[str | None, Parameter(max_length=64, description=(
                       "A property (id or key): the claims holding a value of it, as a "
                       "statement's value or a qualifier's"), examples=[Example(value="memorial_id")])] = None,
                   value: Annotated[str | None, Parameter(max_length=2000, description=(
                       "With `property`: the claims whose value of it equals this one, compared "
                       "by a normalised key (decimals exactly: 86 = 86.0; text case-folded, "
                       "NFC, spaces collapsed; an object value by its amount or its text)"),
                       examples=[Example(value="86")])] = None,
                   denies: Annotated[str | None, Parameter(
                       max_length=64, description="The claims that deny this claim (their `denies`)",
                       examples=[Example(summary="denials of a claim", value="C-00000001")])] = None,
                   attributed_to: Annotated[str | None, Parameter(
                       max_length=64, description="The claims attributed to this person, "
                       "organisation or source (their `attributed_to`)",
                       examples=[Example(summary="attributed to an organisation", value="O-00000007")])] = None,
                   after: Cursor = None, limit: Limit = 50) -> ClaimPage:
        """Oldest first. Anonymous readers list approved and disputed claims (approved, then
        contested: public, marked, until the contest is resolved); a contributor also lists
        their own; reviewers list everything. Filters combine (AND). Who submitted and
        reviewed each claim is shown by account id (`A-...`) to readers below reviewer, by
        name to reviewers and admins."""
        check_listing(viewer(request), status)
        entities = [e for e in (person, place, organization) if e is not None]
        if value is not None and property is None:
            raise Invalid("value", value, "a value filter needs its property (?property=&value=)", "query")

        def listing(conn: Connection) -> ClaimPage:
            prop = None
            if property is not None:
                found = registry.property_of(conn, property)
                if found is None:
                    raise Invalid("property", property, "not a property: GET /properties lists them",
                                  "query")
                prop = (found.id, found.key)
            return accounts.claim_page(
                conn, viewer(request), after=cursor(after), limit=limit, status=status, source=source,
                contributor=contributor, kind=kind, entities=entities, participant=participant,
                role=role, group=group, property=prop, value=value, denies=denies,
                attributed_to=attributed_to)
        return await paged(request, limit, listing)  # past 100 rows: the expensive lane

    @post("/{claim_id:str}/approve", guards=[auth.reviewer], status_code=200, opt={"if_match": True},
          summary="Approve (on a contested or disputed claim: dismiss the contest)")
    async def approve(self, request: Request, claim_id: FromPath[str], data: Annotated[ApproveIn | None, Body(examples=[Example(summary="approve", value={"reason": "faithful reading of p. 12"})])] = None) -> Response[ClaimOut]:
        return await decide(request, claim_id, "approve", data.reason if data else None)

    @post("/{claim_id:str}/reject", guards=[auth.reviewer], status_code=200, opt={"if_match": True},
          summary="Reject (on a contested or disputed claim: uphold the contest)")
    async def reject(self, request: Request, claim_id: FromPath[str], data: Annotated[ReasonIn | None, Body(examples=[Example(summary="reject", value={"reason": "the source says 1941, not 1940"})])] = None) -> Response[ClaimOut]:
        return await decide(request, claim_id, "reject", reason_of(data, "reject"))

    @post("/{claim_id:str}/contest", guards=[auth.reviewer], status_code=200, opt={"if_match": True},
          summary="Contest a pending or approved claim, with a reason and perhaps a counter-citation")
    async def contest(self, request: Request, claim_id: FromPath[str], data: Annotated[ContestIn | None, Body(examples=[Example(summary="contest with a counter-citation", value={"reason": "Monclús's memoir gives another date", "citation": {"source": "S-00000002", "locator": "p. 88"}})])] = None) -> Response[ClaimOut]:
        reason = reason_of(data, "contest")
        return await decide(request, claim_id, "contest", reason, data.citation if data else None)

    @post("/{claim_id:str}/retract", guards=[auth.contributor], status_code=200, opt={"if_match": True},
          summary="Retract your own pending claim")
    async def retract(self, request: Request, claim_id: FromPath[str], data: Annotated[ReasonIn | None, Body(examples=[Example(summary="retract", value={"reason": "duplicate of another claim"})])] = None) -> Response[ClaimOut]:
        return await decide(request, claim_id, "retract", reason_of(data, "retract"))

    @post("/{claim_id:str}/rank", guards=[auth.reviewer], status_code=200,
          opt={"if_match": "required"}, summary="Rank an approved claim (If-Match required)")
    async def rank(self, request: Request, claim_id: FromPath[str], data: Annotated[RankIn, Body(examples=RANK_EXAMPLES)]) -> Response[ClaimOut]:
        """A reviewer (never the claim's contributor) ranks an approved claim against the
        version they read (If-Match): `preferred` marks the reading to prefer in a conflict,
        `deprecated` keeps the claim listed under `deprecated` but out of totals, populations
        and ledgers, `normal` undoes either. A deprecated rank may cite the source that
        retracts the claim (`citation`), kept in the claim's history and shown as
        `rank_citation` and, in biographies, as the entry's `retracted_by`."""
        return await decide(request, claim_id, "rank", data.reason, data.citation, rank=data.rank)

    @post("/{claim_id:str}/suppress", guards=[auth.admin], status_code=200,
          summary="Suppress a claim: take its content down from readers, with a reason",
          description=SUPPRESS_DOC)
    async def suppress(self, request: Request, claim_id: FromPath[str], data: Annotated[SuppressIn | None, Body(examples=SUPPRESS_EXAMPLES)] = None) -> Response[SuppressionSet]:
        return await set_suppression(request, "claim", claim_id, data, True)

    @post("/{claim_id:str}/unsuppress", guards=[auth.admin], status_code=200,
          summary="Unsuppress a claim, with a reason", description=UNSUPPRESS_DOC)
    async def unsuppress(self, request: Request, claim_id: FromPath[str], data: Annotated[SuppressIn | None, Body(examples=UNSUPPRESS_EXAMPLES)] = None) -> Response[SuppressionSet]:
        return await set_suppression(request, "claim", claim_id, data, False)

    @post("/approve", guards=[auth.reviewer], status_code=200,
          summary="Approve many claims; each is checked and reported on its own")
    async def approve_many(self, request: Request, data: Annotated[BulkApproveIn, Body(examples=[Example(summary="bulk approve", value={"ids": ["C-00000001", "C-00000002"], "reason": "checked against the bulletin"})])]) -> Response[BulkOut]:
        """Each claim is checked alone and reported alone (`status` per item is the HTTP
        status a single approve would have answered); the approvals are committed together,
        with the answer stored under the Idempotency-Key in the same transaction, so one key
        never applies two bodies. When a claim changed meanwhile, all are decided again."""
        for _ in range(BULK_ATTEMPTS):
            try:
                return await commit(request, await decided(
                    request, lambda _: bulk_approval(request, data)))
            except ConcurrencyError:  # a claim moved: its twin's answer, or decide again
                replay = await replayed_after_conflict(request)
                if replay is not None:
                    return replay
        raise Conflict(f"the claims changed while they were being decided ({BULK_ATTEMPTS} "
                       "times): send the request again")


BULK_ATTEMPTS = 3  # decisions of a bulk review retried when a claim moved meanwhile


def bulk_approval(request: Request, data: BulkApproveIn) -> Decision:
    """Decide the approval of each claim alone (a refusal is that item's status and detail);
    return one decision holding every approval's append."""
    appends: list = []
    items = []
    for claim_id in dict.fromkeys(data.ids):
        try:
            decision = commands.review(archive_of(request).store, claim_id, "approve",
                                       who(request), data.reason, None, if_match(request))
        except DomainError as exc:
            items.append(BulkItem(id=claim_id, status=http_status(exc), detail=exc.detail))
            continue
        appends.extend(decision.appends)
        items.append(BulkItem(id=claim_id, status=200))
    return Decision(appends, BulkReviewed(items))


async def decide(request: Request, claim_id: str, action: str, reason: str | None,
                 citation: Citation | None = None, idempotent: bool = True,
                 rank: Rank | None = None) -> Response:
    """Decide a review action (service.domain.commands.review) and commit it; a decision that loses
    a race with another answers 409, never both."""
    try:
        return await decide_and_commit(request, lambda: commands.review(
            archive_of(request).store, claim_id, action, who(request), reason, citation,
            if_match(request), rank), keyed=idempotent)
    except ConcurrencyError:
        raise Conflict(f"claim {claim_id} changed while you decided (another review landed "
                       "first): reload it and decide again") from None
