"""Commands: requests checked against the read models become decisions (events to append,
with the stream versions they expect, and the typed reply). The domain layer: no HTTP here,
only domain errors (events.errors). Everything is synchronous and quick (dates are parsed once,
through a cache); the store's expected versions settle any race between check and append.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

import msgspec
from starosta.events.dates import (
    DateValue,
    DurationContradiction,
    Length,
    duration_parts,
    lengths,
    narrow,
)
from starosta.events.base import Event
from starosta.events.comparison import same_event_problem
from starosta.events.claim_rules import (
    ATTRIBUTABLE,
    Rank,
    denial_problem,
    participant_refusal,
    parts_refusal,
    rank_citation_problem,
    subject_problem,
)
from starosta.events.errors import Conflict, Invalid, NotFound, PossibleDuplicate, PreconditionRequired
from starosta.events.kinds import (
    AggregateClaim,
    AnyClaim,
    AllowanceClaim,
    AmountRange,
    Citation,
    Claim,
    CountRange,
    CommitteeTransferClaim,
    DisbursementClaim,
    DonationClaim,
    GroupedClaim,
    GroupSubjectClaim,
    InKindClaim,
    NAME_PARTS,
    NameClaim,
    NameParts,
    ProtestClaim,
    ViaLink,
    kind_of,
    refs_of,
)
from starosta.events import participants as participants_rules
from starosta.events.registry import (
    ParticipantRoleAdded,
    PersonMerged,
    PersonsDistinct,
    PersonUnmerged,
    PlaceLocated,
    RecordIdentified,
    RecordMerged,
    RecordsDistinct,
    RecordUnidentified,
    RecordUnmerged,
)
from starosta.events.properties import (
    PropertyDef,
    PropertyRegistered,
    PropertySpec,
    SEEDED_BY_ID,
    ValueRefused,
    check_value,
    check_definition,
)
from starosta.events.kinds import StatementClaim
from starosta.events.kinds import DerivationClaim
from starosta.events.review import (
    CONTESTED,
    ClaimApproved,
    ClaimContested,
    ClaimRanked,
    ClaimRejected,
    ClaimRetracted,
    ClaimState,
    ClaimSubmitted,
    ContentSuppressed,
    ContentUnsuppressed,
    check,
    evolve,
    suppression_stream,
)
from starosta.events.store import AppendRequest, Connection, EventStore, NewEvent
from starosta.projections import claims as claims_model
from starosta.projections import name_keys, names, registry, search
from starosta.projections.rules import may_see
from starosta.service.domain.access import Principal
from starosta.service.domain.edtf_dates import DateError, parse_date
from starosta.service.domain.ids import new_id
from starosta.service.domain.replies import (
    ClaimStateOf,
    Created,
    Decision,
    Judged,
    Submitted,
    SuppressionSet,
)


def invalid(field: str, value: object, message: str) -> Invalid:
    """Return an Invalid naming the body field and the value at fault."""
    shown = msgspec.json.encode(value).decode()[:200]
    return Invalid(field, value, message, "body", f"{field}={shown}: {message}")


def not_found(field: str, value: str, what: str) -> NotFound:
    """Return a NotFound naming the body field and the unknown id."""
    return NotFound(field, value, what, "body")


def unseen_claim(field: str, value: str, where: str = "body") -> NotFound:
    """Return the one 404 of a claim the caller may not see, alike for a hidden claim and for
    an id nobody used (Resolutions D7): the claim read (`claim_id` in the path), a review of
    it, and every field naming another claim (`supersedes`, and `same_event`, `denies`, an
    identification's `with` as they come) answer with it, so its text cannot tell them apart."""
    return NotFound(field, value, "claim", where, f"{field}={value!r}: no claim with that id is "
                    "visible to you (pending claims need a reviewer's or their contributor's "
                    "token)")


def require(conn: Connection, kind: str, entity_id: str, field: str) -> None:
    """Raise NotFound unless the entity exists."""
    if not registry.exists(conn, kind, entity_id):
        raise not_found(field, entity_id, "organisation or person" if kind == "any" else kind)


def check_dates(claim: Claim) -> dict[str, DateValue]:
    """Parse every date of a claim once; return field -> DateValue. Raise 422 naming the field."""
    return checked_dates(claim)[0]


def checked_dates(claim: Claim) -> tuple[dict[str, DateValue], Length | None]:
    """Parse every date of a claim once and apply its `duration`: return field -> DateValue
    (bounds narrowed by the duration; a missing start or end it bounds added as an EDTF set,
    "[1941-02-28..1941-03-29]") and the duration's Length. Raise 422 naming the field."""
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
    duration = getattr(claim, "duration", None)
    if duration is None:
        return out, None
    parts = duration_parts(duration)
    if parts is None or parts == (0, 0, 0):
        raise invalid("duration", duration, "not an ISO 8601 duration of years, months, weeks "
                      "or days of at least one day (P5Y, P6M, P3W, P51D)")
    term = getattr(claim, "term_iso", None)
    if term is not None and duration_parts(term) != parts:
        raise invalid("duration", duration, f"the sentence's term_iso {term!r} says otherwise")
    narrowed: list[str] = []
    if claim.INTERVAL:
        first, second = claim.INTERVAL
        a, b = out.get(first), out.get(second)
        try:
            (s1, s2), (e1, e2) = narrow(parts, (a.earliest, a.latest) if a else (None, None),
                                        (b.earliest, b.latest) if b else (None, None))
        except DurationContradiction as exc:
            raise invalid("duration", duration, f"contradicts the dates: {exc} ({first} "
                          f"{getattr(claim, first)!r}, {second} {getattr(claim, second)!r})") from None
        for field, old, lo, hi in ((first, a, s1, s2), (second, b, e1, e2)):
            if old is not None and (old.earliest, old.latest) != (lo, hi):
                out[field] = msgspec.structs.replace(old, earliest=lo, latest=hi)
                narrowed.append(field)
            elif old is None and (lo is not None or hi is not None):
                out[field] = DateValue(edtf=f"[{lo.isoformat() if lo else ''}.."
                                            f"{hi.isoformat() if hi else ''}]", earliest=lo, latest=hi)
                narrowed.append(field)
        start = out.get(first)
        few, most = lengths(parts, start.earliest if start else None, start.latest if start else None)
    else:
        few, most = lengths(parts, None, None)
    return out, Length(duration=duration, min_days=few, max_days=most, narrowed=tuple(narrowed))


def check_claim(conn: Connection, claim: Claim, who: Principal) -> None:
    """Check references, amounts and kind-specific rules; raise NotFound or Invalid.

    A claim may supersede only a claim its contributor may see (approved, their own, or any
    for reviewers): others answer 404 as if unknown, so hidden claims do not leak."""
    require(conn, "source", claim.citation.source, "citation.source")
    check_participants(conn, claim)
    for field, kind, value in refs_of(claim):
        require(conn, kind, value, field)
    if claim.supersedes is not None:
        found = claims_model.status_of(conn, claim.supersedes)
        if found is None or not may_see(who.viewer(), *found):
            raise unseen_claim("supersedes", claim.supersedes)
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
        refused = parts_refusal(claim.parts, subjects[0])
        if refused is not None:
            raise invalid(refused[0], msgspec.to_builtins(claim.parts), refused[1])
    kind = kind_of(claim)
    if isinstance(claim, GroupedClaim):
        check_group(conn, claim, kind)
    if isinstance(claim, GroupSubjectClaim):
        check_group_subject(conn, claim)
    if isinstance(claim, AggregateClaim) and claim.group_id and not registry.is_group(conn, claim.group_id):
        raise invalid("group_id", claim.group_id, "not a group: an organisation of kind group or colony")
    for i, link in enumerate(claim.citation.via):
        if isinstance(link, ViaLink):
            require(conn, "source", link.source, f"citation.via[{i}].source")
            if link.source == claim.citation.source:
                raise invalid(f"citation.via[{i}].source", link.source, "the cited source itself")
    check_ranges(claim)
    check_statement_links(conn, claim, who)
    check_derivation(claim)
    check_same_event(conn, claim, who)


def check_derivation(claim: Claim) -> None:
    """A derivation claim (issue 22) links two different registered sources (their existence
    is checked with every claim's references)."""
    if isinstance(claim, DerivationClaim) and claim.source == claim.derives_from:
        raise invalid("derives_from", claim.derives_from,
                      "the source itself: a derivation links two different sources")


def check_same_event(conn: Connection, claim: Claim, who: Principal) -> None:
    """A claim's `same_event` names a claim the contributor may see (the one 404 of an unseen
    claim, Resolutions D7) of the same kind, neither superseded nor denied by this one (422
    naming `same_event`: events.comparison.same_event_problem)."""
    if claim.same_event is None:
        return
    found = claims_model.status_of(conn, claim.same_event)
    if found is None or not may_see(who.viewer(), *found):
        raise unseen_claim("same_event", claim.same_event)
    other = claims_model.kind_of_claim(conn, claim.same_event)
    problem = same_event_problem(kind_of(claim), other or "", claim.same_event, claim.supersedes,
                                 claim.denies)
    if problem:
        raise invalid("same_event", claim.same_event, problem)


# -- statements about statements (issue 21): attributed_to, denies, a retraction's citation ------

def check_statement_links(conn: Connection, claim: Claim, who: Principal) -> None:
    """A claim's `attributed_to` names a registered person, organisation or source (404 naming
    the field otherwise); its `denies` names a claim the contributor may see (the one 404 of
    an unseen claim, as `supersedes`), never the claim it supersedes (422)."""
    if claim.attributed_to is not None and not any(
            registry.exists(conn, kind, claim.attributed_to) for kind in ATTRIBUTABLE):
        raise not_found("attributed_to", claim.attributed_to, "person, organisation or source")
    if claim.denies is not None:
        found = claims_model.status_of(conn, claim.denies)
        if found is None or not may_see(who.viewer(), *found):
            raise unseen_claim("denies", claim.denies)
        problem = denial_problem(claim.denies, claim.supersedes)
        if problem:
            raise invalid("denies", claim.denies, problem)


def check_retraction(conn: Connection, rank: str | None, citation: Citation | None) -> None:
    """A rank's citation (the retracting source): only with `deprecated` (422 naming
    `citation`), its source and every source its `via` names registered (404)."""
    if citation is None:
        return
    problem = rank_citation_problem(rank or "normal", True)
    if problem:
        raise invalid("citation", msgspec.to_builtins(citation), problem)
    for i, link in enumerate(citation.via):
        if isinstance(link, ViaLink):
            require(conn, "source", link.source, f"citation.via[{i}].source")


def check_group(conn: Connection, claim: GroupedClaim, kind: str) -> None:
    """A grouped kind names exactly one of person and group (a protest may name neither when
    it names a place); a count only with a group; companions distinct, never the person."""
    if claim.person is not None and claim.group is not None:
        raise invalid("group", claim.group, "a claim names exactly one of person and group")
    if claim.person is None and claim.group is None and not (isinstance(claim, ProtestClaim) and claim.place):
        raise invalid("person", None, "a protest needs a person, a group or a place" if kind == "protest"
                      else "a claim names exactly one of person and group")
    if claim.group is not None and not registry.is_group(conn, claim.group):
        raise invalid("group", claim.group, "not a group: an organisation of kind group or colony")
    if claim.count is not None and claim.group is None:
        raise invalid("count", msgspec.to_builtins(claim.count), "a count goes with a group")
    # companions (`with`) are participants: check_participants checks them


SUBJECTS = ("person", "group")  # the fields naming who a claim is about (never its participant)


def check_participants(conn: Connection, claim: Claim) -> None:
    """Check the claim's participants as sent (`participants`, and the legacy `with`,
    `recipient`, `via` as participants: events.participants.named): each role exists (seeded
    or added), each ref is a registered person or organisation (a companion a person), no
    (ref, role) twice, never the claim's own person or group; a disbursement names its
    recipient. Errors name the field as sent (`participants[2].role`, `with`)."""
    subjects = {value: f for f in SUBJECTS if isinstance(value := getattr(claim, f, None), str)}
    for field, p in participants_rules.named(claim):
        if field.startswith("participants["):
            if not registry.participant_role_exists(conn, p.role):
                raise invalid(f"{field}.role", p.role, "not a participant role: GET "
                              "/participant-roles lists them (an admin adds one with POST "
                              "/participant-roles)")
            if registry.exists(conn, "person", p.ref):
                kind = "person"
            elif registry.exists(conn, "organization", p.ref):
                kind = "organization"
            else:
                raise not_found(f"{field}.ref", p.ref, "organisation or person")
            if p.role in participants_rules.PERSONS_ONLY and kind != "person":
                raise invalid(f"{field}.ref", p.ref, f"a {p.role} is a person (a group takes part "
                              "as the claim's group, or in another role)")
    refused = participant_refusal([(f, p.ref, p.role) for f, p in participants_rules.named(claim)],
                                  subjects)
    if refused is not None:
        raise invalid(*refused)
    if isinstance(claim, DisbursementClaim) and claim.recipient is None and not \
            participants_rules.first_in_role(claim, participants_rules.RECIPIENT):
        raise invalid("recipient", None, "a disbursement names its recipient: `recipient`, or a "
                      "participant in role recipient")
    if isinstance(claim, InKindClaim) and claim.fund is None and claim.sender_said is None:
        raise invalid("fund", None, "aid in kind names its fund, or its sender as the source gives "
                      "it (`sender_said`) when no fund is known")


def add_participant_role(conn: Connection, key: str, label: str, description: str,
                         who: Principal) -> Decision:
    """Decide an admin's new participant role: a key not seeded and not added before (409),
    on its own stream (`participant-role-<key>`, expected new: of two racing adds one wins)."""
    if registry.participant_role_exists(conn, key):
        raise Conflict(f"key={key!r}: the participant role exists already (GET /participant-roles)")
    event = ParticipantRoleAdded(key=key, label=label, description=description, admin=who.actor)
    return Decision([AppendRequest(f"participant-role-{key}", [NewEvent(event)], 0)], Created(id=key))


def locate_place(store: EventStore, place_id: str, latitude: float, longitude: float,
                 coordinates_source: str, who: Principal) -> Decision:
    """Decide a reviewer's coordinates for a place (issue 24: geography, not a claim): on the
    place's own stream, expecting its version (of two racing locations one wins); a merged
    record's go to its survivor. NotFound for an unknown place."""
    conn = store.reader()
    if not registry.exists(conn, "place", place_id):
        raise NotFound("place_id", place_id, "place")
    target = registry.survivor(conn, place_id, "places")
    event = PlaceLocated(place_id=target, latitude=latitude, longitude=longitude,
                         coordinates_source=coordinates_source, reviewer=who.actor)
    return Decision([AppendRequest(target, [NewEvent(event)], store.stream_version(target))],
                    Created(id=target))


def check_group_subject(conn: Connection, claim: GroupSubjectClaim) -> None:
    """A kind that takes a group as its subject (issue 20) names exactly one of person and
    group; the group is an organisation of kind group or colony; a count only with a group."""
    problem = subject_problem(claim.person, claim.group, msgspec.to_builtins(claim.count))
    if problem is not None:
        raise invalid(*problem)
    if claim.group is not None and not registry.is_group(conn, claim.group):
        raise invalid("group", claim.group, "not a group: an organisation of kind group or colony")


def check_ranges(claim: Claim) -> None:
    """A range's min is at most its max (counts, of_whom counts, allowance amounts)."""
    ranges: list[tuple[str, Any]] = [("count", getattr(claim, "count", None))]
    if isinstance(claim, AggregateClaim):
        ranges += [(f"of_whom[{i}].count", s.count) for i, s in enumerate(claim.of_whom)]
    if isinstance(claim, AllowanceClaim):
        ranges.append(("amount", claim.amount))
    if isinstance(claim, (DonationClaim, DisbursementClaim, CommitteeTransferClaim)):
        ranges.append(("amount", claim.amount))  # ledger money given as a range (i22-ledger)
    for field, value in ranges:
        if isinstance(value, (CountRange, AmountRange)) and Decimal(value.min) > Decimal(value.max):
            raise invalid(field, msgspec.to_builtins(value), "the range's min is above its max")


C = TypeVar("C", bound=Claim)


def with_script(claim: C) -> C:
    """Return a name claim with its script guessed when the contributor gave none."""
    if isinstance(claim, NameClaim) and claim.script is None:
        return msgspec.structs.replace(claim, script=names.script_of(claim.name))
    return claim


# -- names: their form and look-alikes (the rules: projections.name_keys) -------------------------

def fit_name(field: str, text: str) -> str:
    """Return a name as stored (name_keys.name_form: NFC, invisible characters dropped, spaces
    collapsed, trimmed), or raise Invalid naming the field, with the value shown escaped
    (every invisible, control or combining character as <U+XXXX>)."""
    try:
        return name_keys.name_form(text)
    except name_keys.UnfitName as exc:
        raise Invalid(field, exc.escaped, exc.message, "body",
                      f"{field}={msgspec.json.encode(exc.escaped).decode()}: {exc.message}") from None


def fit_names(body: Any) -> Any:
    """Return a registration body with its `name` (and a place's `aliases`) as stored (fit_name)."""
    changes: dict[str, Any] = {"name": fit_name("name", body.name)}
    if hasattr(body, "aliases"):
        changes["aliases"] = tuple(fit_name(f"aliases.{i}", alias) for i, alias in enumerate(body.aliases))
    return msgspec.structs.replace(body, **changes)


def fit_claim(claim: C) -> C:
    """Return a claim with a name claim's `name` as stored (fit_name)."""
    if isinstance(claim, NameClaim):
        return msgspec.structs.replace(claim, name=fit_name("name", claim.name),
                                       parts=fit_parts(claim.parts))
    return claim


def fit_parts(parts: NameParts | None) -> NameParts | None:
    """Return a name's parts each as stored (fit_name, the field named `parts.surname`...)."""
    if parts is None:
        return None
    return NameParts(**{part: fit_name(f"parts.{part}", value) for part in NAME_PARTS
                        if (value := getattr(parts, part)) is not None})


def check_not_duplicate(conn: Connection, kind: str, texts: list[str],
                        not_same_as: tuple[str, ...] | list[str]) -> None:
    """Raise PossibleDuplicate (409) when one of `texts` (a new record's name and aliases) looks
    like a public name of an existing record of `kind` (the same TR39 skeleton of its
    case-folded key, or of its cased form: name_keys.confusable_keys), unless `not_same_as`
    names every such record (or a record merged with it). Raise NotFound for an id in
    `not_same_as` that names no record of `kind`."""
    said: set[str] = set()
    for i, other in enumerate(not_same_as):
        require(conn, kind, other, f"not_same_as.{i}")
        said.add(other)
    keys = sorted({k for text in texts for k in name_keys.confusable_keys(text)})
    found = search.confusable(conn, kind, keys)
    if not found:
        return
    if kind == "person":  # a merged record answers as its survivor
        alive = registry.survivors(conn, [f[0] for f in found] + sorted(said))
        said |= {alive.get(other, other) for other in said}
        found = list({alive.get(i, i): (alive.get(i, i), name) for i, name in found}.values())
    open_ = [(i, name) for i, name in found if i not in said]
    if not open_:
        return
    labels = registry.labels(conn, [i for i, _ in found])
    candidates = [{"id": i, "label": labels.get(i, i), "matched": name} for i, name in found]
    shown = ", ".join(f"{i} ({msgspec.json.encode(name_keys.escaped(name)).decode()})" for i, name in open_)
    raise PossibleDuplicate(
        f"name={msgspec.json.encode(name_keys.escaped(texts[0])).decode()}: looks like the name of "
        f"{shown}: if it is another {kind}, send the request again with \"not_same_as\": "
        f"[{', '.join(msgspec.json.encode(i).decode() for i, _ in found)}]", candidates)


def submission(conn: Connection, claim_id: str, claim: AnyClaim, who: Principal) -> AppendRequest:
    """Check a claim and return the append that submits it (a new claim stream)."""
    claim = with_script(fit_claim(claim))
    dates, length = checked_dates(claim)
    check_claim(conn, claim, who)
    dates.update(property_values(conn, claim))
    claim = participants_rules.normalised(claim)  # stored: participants only, never the legacy fields
    event = ClaimSubmitted(claim_id=claim_id, contributor=who.actor, claim=claim, dates=dates,
                           length=length)
    return AppendRequest(claim_id, [NewEvent(event)], expected_version=0)


def submit(conn: Connection, claim: AnyClaim, who: Principal) -> Decision:
    """Decide the submission of a claim: a new claim stream, answered pending."""
    claim_id = new_id("claim")
    return Decision([submission(conn, claim_id, claim, who)], Submitted(id=claim_id))


def review(store: EventStore, claim_id: str, action: str, who: Principal,
           reason: str | None, citation: Citation | None = None,
           expected: int | None = None, rank: Rank | None = None) -> Decision:
    """Decide a review action: fold the claim's stream, check the rules and the version the
    caller saw (If-Match), and expect the stream's version, so that a decision racing another
    loses with a ConcurrencyError, never both win."""
    stream = store.read_stream(claim_id)
    if not stream or stream[0].type != "claim.submitted":
        raise unseen_claim("claim_id", claim_id, "path")
    state: ClaimState | None = None
    for envelope in stream:
        state = evolve(state, envelope.event)
    assert state is not None
    if not may_see(who.viewer(), state.status, state.contributor):
        raise unseen_claim("claim_id", claim_id, "path")
    if expected is not None and expected != state.version:
        raise Conflict(f"If-Match names version {expected} of {claim_id}, but it is at version "
                       f"{state.version} ({state.status}): reload it and decide again")
    actor = who.actor  # the account id: what the decision's event records
    check(state, action, who.aliases, who.has("reviewer"))  # type: ignore[arg-type]
    if citation is not None:
        require(store.reader(), "source", citation.source, "citation.source")
    if action == "rank":
        if expected is None:
            raise PreconditionRequired(f"ranking {claim_id} needs If-Match: the claim's ETag as you "
                                       f"read it (it is at version {state.version})")
        if rank == "deprecated" and not reason:
            raise invalid("reason", reason, "a deprecated rank needs its reason")
        check_retraction(store.reader(), rank, citation)
        ranked = ClaimRanked(claim_id=claim_id, reviewer=actor, rank=rank or "normal", reason=reason,
                             citation=citation)
        return Decision([AppendRequest(claim_id, [NewEvent(ranked)], expected_version=state.version)],
                        ClaimStateOf(claim_id))
    resolves = state.status in CONTESTED
    event: Event = {
        "approve": lambda: ClaimApproved(claim_id=claim_id, reviewer=actor, reason=reason,
                                         resolves_contest=resolves),
        "reject": lambda: ClaimRejected(claim_id=claim_id, reviewer=actor, reason=reason or "",
                                        resolves_contest=resolves),
        "contest": lambda: ClaimContested(claim_id=claim_id, reviewer=actor, reason=reason or "",
                                          citation=citation),
        "retract": lambda: ClaimRetracted(claim_id=claim_id, contributor=actor, reason=reason or ""),
    }[action]()
    return Decision([AppendRequest(claim_id, [NewEvent(event)], expected_version=state.version)],
                    ClaimStateOf(claim_id))


def register(conn: Connection, kind: str, make_event: Callable[[str], Any],
             refs: dict[str, tuple[str, str | None]], who: Principal,
             name: dict[str, Any] | None, aliases: tuple[str, ...] = (),
             not_same_as: tuple[str, ...] = ()) -> Decision:
    """Decide a registration: the entity at once, public, and (for named entities) its name
    submitted as a pending name claim, atomically. `refs` maps body fields to (entity kind,
    id) that must exist; `name` holds the name claim's fields (name, citation, said, note,
    name_kind, script; the name as fit_names left it) or None for a source. A name (or
    alias) that looks like an existing record's is refused (check_not_duplicate) unless
    `not_same_as` names every such record."""
    for field, (ref_kind, value) in refs.items():
        if value is not None:
            require(conn, ref_kind, value, field)
    recheck = None
    if name is not None:
        texts = [name["name"], *aliases]
        check_not_duplicate(conn, kind, texts, not_same_as)
        # again in the append's transaction: a look-alike registered meanwhile is caught there
        recheck = lambda tx: check_not_duplicate(tx, kind, texts, not_same_as)  # noqa: E731
    entity_id = new_id(kind)
    appends = [AppendRequest(entity_id, [NewEvent(make_event(entity_id))], 0)]
    claim_id = None
    if name is not None:
        require(conn, "source", name["citation"].source, "citation.source")
        fields: dict[str, Any] = {**name, kind: entity_id}
        claim = with_script(NameClaim(**fields))
        refused = parts_refusal(claim.parts, kind)
        if refused is not None:
            raise invalid(refused[0], msgspec.to_builtins(claim.parts), refused[1])
        claim_id = new_id("claim")
        event = ClaimSubmitted(claim_id=claim_id, contributor=who.actor, claim=claim,
                               dates=check_dates(claim))
        appends.append(AppendRequest(claim_id, [NewEvent(event)], 0))
    return Decision(appends, Created(id=entity_id, name_claim=claim_id), recheck)


# -- properties: statements, qualifiers and the vocabulary (events.properties) ----------------

def _property(conn: Connection, ref: str, field: str) -> PropertyDef:
    found = registry.property_of(conn, ref)
    if found is None:
        raise invalid(field, ref, "not a property: GET /properties lists them (by id or key)")
    return found


def property_values(conn: Connection, claim: Claim) -> dict[str, DateValue]:
    """Check a statement's value and every qualifier's by their properties' datatypes
    (events.properties.check_value); entity values must be registered, of the kinds the
    property allows; a statement's subject of a kind the property applies to; every property
    named (by id or key: kept as submitted, both name it for ever) known. Return the
    dates among the values, parsed once (field -> DateValue: "value", "qualifiers[0].value")."""
    items: list[tuple[str, str, Any]] = []
    if isinstance(claim, StatementClaim):
        prop = _property(conn, claim.property, "property")
        if prop.applies_to and not any(registry.exists(conn, k, claim.subject) for k in prop.applies_to):
            raise invalid("subject", claim.subject, f"property {prop.key} applies to "
                          f"{' or '.join(prop.applies_to)} records only")
        items.append(("value", claim.property, claim.value))
    items += [(f"qualifiers[{i}].value", q.property, q.value) for i, q in enumerate(claim.qualifiers)]
    dates: dict[str, DateValue] = {}
    for field, ref, value in items:
        prop = _property(conn, ref, field.removesuffix("value") + "property")
        try:
            checked = check_value(prop, value, field)
        except ValueRefused as exc:
            raise invalid(exc.field, exc.value, exc.message) from None
        if checked.entity_kinds and not any(registry.exists(conn, k, value) for k in checked.entity_kinds):
            raise not_found(field, value, " or ".join(checked.entity_kinds))
        if checked.date:
            try:
                dates[field] = parse_date(value, field=field, calendar=claim.calendar)
            except DateError as exc:
                raise invalid(exc.field, exc.value, exc.problem) from None
    return dates


def register_property(conn: Connection, spec: PropertySpec) -> Decision:
    """Decide an admin's registration of a property: checked alone (check_definition), its key
    unused (again in the append's transaction: a twin registered meanwhile is caught there)."""
    property_id = new_id("property")
    while property_id in SEEDED_BY_ID:  # pragma: no cover - one chance in a trillion
        property_id = new_id("property")
    prop = PropertyDef(id=property_id, **msgspec.structs.asdict(spec))
    try:
        check_definition(prop)
    except ValueRefused as exc:
        raise invalid(exc.field, exc.value, exc.message) from None

    def unused(tx: Connection) -> None:
        if registry.property_of(tx, prop.key) is not None:
            raise Conflict(f"key={prop.key!r}: a property has that key already (GET /properties/{prop.key})")

    unused(conn)
    event = PropertyRegistered(property=prop)
    return Decision([AppendRequest(property_id, [NewEvent(event)], 0)], Created(id=property_id), unused)


# -- merge rules --------------------------------------------------------------------------------
# A judgement is checked against the registry by the one rule (registry.judgement_refusal) and
# appended expecting the versions of every stream that check read (registry.judgement_streams),
# read from the store before the check: a judgement committed meanwhile that could contradict
# it moved one of them, and the store refuses this one (ConcurrencyError; the HTTP layer
# decides once more, then answers 409).

def _judged(store: EventStore, records: list[str], event: Any, judgement: str,
            other: str, kind: str = "person",
            also: Callable[[Connection], None] | None = None) -> Decision:
    """Check a judgement on `records` (the first: the record whose stream it is written in)
    and return its append, expecting the versions of the streams the check read. Raises
    Conflict when the rule refuses it, or when the records' groups changed while deciding.
    `also`: a command's own check, run like the rule after the versions are read (so that a
    judgement committed meanwhile is seen, or moves a stream this one expects)."""
    conn = store.reader()
    for _ in range(3):
        streams = registry.judgement_streams(conn, records, kind)
        expects = {stream: store.stream_version(stream) for stream in streams}
        refusal = registry.judgement_refusal(conn, event)
        if refusal is not None:
            raise Conflict(refusal)
        if also is not None:
            also(conn)
        if registry.judgement_streams(conn, records, kind) == streams:  # nothing moved meanwhile
            person_id = records[0]
            return Decision([AppendRequest(person_id, [NewEvent(event)], expects[person_id])],
                            Judged(id=person_id, judgement=judgement, other=other),
                            expects=expects)
    raise Conflict(f"the merge groups of {' and '.join(records)} kept changing while this "
                   "judgement was decided: reload them and decide again")


def merge(store: EventStore, person_id: str, into: str, reason: str,
          citation: Citation | None, who: Principal) -> Decision:
    """Decide a merge of a record into another: refused (Conflict) when the two were judged
    distinct, when the record is merged already, or when it would make a cycle."""
    conn = store.reader()
    require(conn, "person", person_id, "person_id")
    require(conn, "person", into, "into")
    if citation is not None:
        require(conn, "source", citation.source, "citation.source")
    if into == person_id:
        raise invalid("into", into, "a record cannot be merged into itself")
    event = PersonMerged(person_id=person_id, into=into, reason=reason, reviewer=who.actor,
                         citation=citation)
    return _judged(store, [person_id, into], event, "merged", into)


def unmerge(store: EventStore, person_id: str, reason: str, who: Principal) -> Decision:
    """Decide undoing a record's merge (Conflict when it is not merged)."""
    conn = store.reader()
    require(conn, "person", person_id, "person_id")
    into = registry.merge_target(conn, person_id)
    if into is None:
        raise Conflict(f"{person_id} is not merged into another record")
    event = PersonUnmerged(person_id=person_id, from_person=into, reason=reason,
                           reviewer=who.actor)
    return _judged(store, [person_id, into], event, "unmerged", into)


def distinct(store: EventStore, person_id: str, other: str, reason: str,
             citation: Citation | None, who: Principal) -> Decision:
    """Decide 'not the same person' (Conflict when the two are one record now)."""
    conn = store.reader()
    require(conn, "person", person_id, "person_id")
    if not registry.exists(conn, "person", other):
        raise not_found("from", other, "person")
    if citation is not None:
        require(conn, "source", citation.source, "citation.source")
    event = PersonsDistinct(person_id=person_id, other=other, reason=reason,
                            reviewer=who.actor, citation=citation)
    return _judged(store, [person_id, other], event, "distinct", other,
                   also=lambda c: _not_identified(c, "person", person_id, other))


# -- places' and organisations' merges, and identifications of any record (issue 20) ------------
# The persons' rules, for the other kinds of record: the same refusals (registry.judgement_refusal)
# and the same expected versions (registry.judgement_streams, by kind).

def _record(conn: Connection, kind: str, record_id: str, field: str) -> None:
    """Raise NotFound naming `field` unless a record of `kind` is registered under the id."""
    if not registry.exists(conn, kind, record_id):
        raise NotFound(field, record_id, kind, "path" if field.endswith("_id") else "body")


def _not_identified(conn: Connection, kind: str, record_id: str, other: str) -> None:
    """'Not the same' while an identification joins the two records' groups is 409: the
    reviewer withdraws the identification first (unidentify), so that no record is both
    possibly the same as another and judged distinct from it."""
    table = registry.ENTITY_TABLES[kind]
    pair = registry.identified_pair(conn, registry.merge_group(conn, record_id, table),
                                    registry.merge_group(conn, other, table))
    if pair:
        raise Conflict(f"{pair[0]} is identified with {pair[1]} (possibly the same): unidentify "
                       "them before recording them as distinct")


def merge_record(store: EventStore, kind: str, record_id: str, into: str, reason: str,
                 citation: Citation | None, who: Principal) -> Decision:
    """Decide a merge of a place or organisation record into another, by the persons' rules."""
    conn = store.reader()
    _record(conn, kind, record_id, f"{kind}_id")
    _record(conn, kind, into, "into")
    if citation is not None:
        require(conn, "source", citation.source, "citation.source")
    if into == record_id:
        raise invalid("into", into, "a record cannot be merged into itself")
    event = RecordMerged(kind=kind, record_id=record_id, into=into, reason=reason,  # type: ignore[arg-type]
                         reviewer=who.actor, citation=citation)
    return _judged(store, [record_id, into], event, "merged", into, kind)


def unmerge_record(store: EventStore, kind: str, record_id: str, reason: str,
                   who: Principal) -> Decision:
    """Decide undoing a place's or organisation's merge (Conflict when it is not merged)."""
    conn = store.reader()
    _record(conn, kind, record_id, f"{kind}_id")
    into = registry.merge_target(conn, record_id, registry.ENTITY_TABLES[kind])
    if into is None:
        raise Conflict(f"{record_id} is not merged into another record")
    event = RecordUnmerged(kind=kind, record_id=record_id, from_record=into,  # type: ignore[arg-type]
                           reason=reason, reviewer=who.actor)
    return _judged(store, [record_id, into], event, "unmerged", into, kind)


def distinct_record(store: EventStore, kind: str, record_id: str, other: str, reason: str,
                    citation: Citation | None, who: Principal) -> Decision:
    """Decide 'not the same place/organisation' (Conflict when the two are one record now, or
    identified as possibly the same)."""
    conn = store.reader()
    _record(conn, kind, record_id, f"{kind}_id")
    _record(conn, kind, other, "from")
    if citation is not None:
        require(conn, "source", citation.source, "citation.source")
    event = RecordsDistinct(kind=kind, record_id=record_id, other=other,  # type: ignore[arg-type]
                            reason=reason, reviewer=who.actor, citation=citation)
    return _judged(store, [record_id, other], event, "distinct", other, kind,
                   also=lambda c: _not_identified(c, kind, record_id, other))


def identify(store: EventStore, kind: str, record_id: str, other: str, certainty: str,
             reason: str, citation: Citation | None, who: Principal) -> Decision:
    """Decide 'possibly the same as' (probable or possible) between two records of a kind,
    without merging them: 422 for the record itself, 409 when the two are one record now,
    were judged distinct, or are identified already. It reads and expects the streams a
    merge of the two would (registry.judgement_streams), so it is ordered with every other
    identity judgement on them."""
    conn = store.reader()
    _record(conn, kind, record_id, f"{kind}_id")
    _record(conn, kind, other, "with")
    if citation is not None:
        require(conn, "source", citation.source, "citation.source")
    if other == record_id:
        raise invalid("with", other, "a record cannot be identified with itself")
    event = RecordIdentified(kind=kind, record_id=record_id, with_=other,  # type: ignore[arg-type]
                             certainty=certainty, reason=reason,  # type: ignore[arg-type]
                             reviewer=who.actor, citation=citation)
    return _judged(store, [record_id, other], event, "identified", other, kind)


def unidentify(store: EventStore, kind: str, record_id: str, other: str, reason: str,
               who: Principal) -> Decision:
    """Decide withdrawing an identification between two records (409 when none is in force
    between them, in either direction)."""
    conn = store.reader()
    _record(conn, kind, record_id, f"{kind}_id")
    _record(conn, kind, other, "with")
    event = RecordUnidentified(kind=kind, record_id=record_id, with_=other,  # type: ignore[arg-type]
                               reason=reason, reviewer=who.actor)
    return _judged(store, [record_id, other], event, "unidentified", other, kind)


# -- suppression (admin) ------------------------------------------------------------------------

def suppression(store: EventStore, kind: str, target: str, reason: str, who: Principal,
                on: bool) -> Decision:
    """Decide an admin's take-down of a claim or an entity (`on`), or its undoing: NotFound for
    an unknown target, Conflict when it is suppressed already (or not suppressed). The event
    goes on the target's own suppression stream, expecting its version: of two racing
    decisions one wins."""
    conn = store.reader()
    known = (claims_model.status_of(conn, target) is not None if kind == "claim"
             else registry.exists(conn, kind, target))
    if not known:
        raise NotFound(f"{kind}_id", target, kind)
    now = registry.suppression_of(conn, target)
    if on and now is not None:
        raise Conflict(f"{kind} {target} is suppressed already (since {now.at}): unsuppress it "
                       "first to suppress it again with another reason")
    if not on and now is None:
        raise Conflict(f"{kind} {target} is not suppressed")
    stream = suppression_stream(target)
    made = ContentSuppressed if on else ContentUnsuppressed
    event = made(target=target, target_kind=kind, admin=who.actor, reason=reason)  # type: ignore[arg-type]
    return Decision([AppendRequest(stream, [NewEvent(event)], store.stream_version(stream))],
                    SuppressionSet(id=target, kind=kind, suppressed=on, reason=reason))
