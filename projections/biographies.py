"""The biographies read model: per person (per merge group, under its survivor) the public
biography document, already encoded, kept current in the transaction that changes it.

A document holds names, births and deaths, affiliations, a timeline sorted by its entries' bounds
(approximate dates widened by the archive's margins, events.dates.margin_bounds; "before X"
by its latest day), conflicts side by side, and custody totals with their uncertainty beside the totals the
sources state. Every entity it names comes as `{"id", "label"}`.

What changes a stored document: a claim about the person (or a record merged into them) that
becomes or stops being approved, or is superseded or no longer superseded; a merge or unmerge;
the person's registration. Each touched document is recomputed once per committed batch (in
`finish`), never per event; in the serving archive not by the writer at all: it marks the
document stale (`mark_stale`) and a settler thread assembles it from a read snapshot and
stores it by compare-and-set (`settle_stale`; docs/architecture.md). Pending claims change no public document, so a busy review queue
costs readers nothing. Reads with `include=pending` or `as_of` are computed on demand from the
read models (and, for `as_of`, from the claims read model's review history up to the position).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import zlib
from collections.abc import Sequence
from typing import Annotated, Any

import msgspec
from msgspec import Meta

from starosta.events.claim_rules import Rank, denials, effective_rank, survivor_label
from starosta.events.descent import independent as no_shared_ancestor
from starosta.events.comparison import SAME_EVENT_REFS, Fact, compare, events_of
from starosta.events.dates import (
    DateValue,
    Length,
    bounds_key,
    margin_bounds,
    may_meet,
    surely_covered,
    widened,
)
from starosta.events.kinds import KINDS
from starosta.events.name_spans import NameSpan, name_at
from starosta.events.properties import PropertyDef, names_entity, url_of, value_key
from starosta.events.registry import PersonMerged, PersonRegistered, PersonUnmerged
from starosta.events.registry import RecordIdentified, RecordUnidentified
from starosta.events.review import (
    ClaimApproved,
    ClaimContested,
    ClaimRanked,
    ClaimRejected,
    ClaimRetracted,
    ContentSuppressed,
    ContentUnsuppressed,
)
from starosta.events.store import Connection, Envelope
from starosta.projections import claims as claims_model
from starosta.projections import descent, registry, sql
from starosta.projections.claims import ClaimView, Dispute
from starosta.projections.custody_totals import Total, custody_total
from starosta.projections.registry import Ref, Suppression
from starosta.projections.rules import PUBLIC, Viewer, sees_suppressed, shown, successors
from starosta.projections.runner import Projection, Tables
from starosta.projections.sql import chunks

REFS = claims_model.REFS_BY_KIND
MANY = claims_model.MANY_BY_KIND
INTERVALS = {k.__struct_config__.tag: k.INTERVAL for k in KINDS if k.INTERVAL}  # kind -> (start, end)
# each kind's dates as a span: (first, last) of its interval, or its one date twice
SPANS: dict[str, tuple[str, str] | None] = {
    str(k.__struct_config__.tag): k.INTERVAL or ((k.DATES[0], k.DATES[0]) if k.DATES else None)
    for k in KINDS}


# -- the document -------------------------------------------------------------------------------

class Membership(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A membership claim by which a group's statement is a member's, with its certainty as
    the claim states it (none when it states none)."""

    claim: str
    certainty: str | None = None


class MemberOf(msgspec.Struct, kw_only=True):
    """How a statement about a group is in a member's biography: the group (the claim's
    subject) and the member's membership claims of it whose days may meet the statement's."""

    group: Ref
    memberships: list[Membership]


class Entry(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One claim in a biography, with its citation, its review state and its rank.

    `through` says how the claim is the person's when it does not name them as `person`:
    "participant" when they take part in it (a companion, a witness, an informant...), with
    their roles in `roles` (in the claim's order); "group" for a statement about a group the
    person is a member of (issue 20), with `member_of` saying which group and by which
    memberships; "value" for a record named only as a property's value (a statement's or a
    qualifier's). A deprecated entry carries the reviewer's `reason` or the claim
    that supersedes it (`superseded_by`). A disputed entry (approved, then contested; flagged
    "disputed") carries the contest under `dispute` and counts in no figure of the document."""

    claim: str
    kind: str
    status: str
    rank: Rank
    earliest: dt.date | None
    latest: dt.date | None
    dates: dict[str, DateValue]
    fields: dict[str, Any]
    citation: dict[str, Any]
    flags: list[str] = []
    through: str | None = None
    roles: list[str] = []  # the roles in which the biography's person takes part (participants)
    reason: str | None = None
    superseded_by: str | None = None
    length: Length | None = None
    dispute: Dispute | None = None
    suppressed: Suppression | None = None  # reviewers' view of a suppressed claim (flagged)
    member_of: MemberOf | None = None  # through "group": the group and the memberships
    qualifiers: list[Qualified] = []
    # statements about statements (issue 21, see Beside): whom the source attributes the claim
    # to (flagged "attributed"), the claim it denies (flagged "denial"), the claims denying it
    # (flagged "denied"), and a deprecated rank's retracting source
    attributed_to: Annotated[Ref | None, Meta(
        description="Attributed: whom the cited source says said it (flagged \"attributed\")",
        examples=[{"id": "O-00000007", "label": "American press"}])] = None
    denies: Annotated[Beside | None, Meta(
        description="The claim this entry denies, shown beside it (flagged \"denial\")",
        examples=[{"claim": "C-00000009", "kind": "presence", "status": "approved",
                   "said": "very happy to leave Russia",
                   "attributed_to": {"id": "O-00000007", "label": "American press"}}])] = None
    denied_by: Annotated[list[Beside], Meta(
        description="The claims denying this entry, shown beside it (flagged \"denied\")",
        examples=[[{"claim": "C-0000000A", "kind": "presence", "status": "approved",
                    "said": "I was deeply grieved when I was forced to leave that country"}]])] = []
    retracted_by: Annotated[dict[str, Any] | None, Meta(
        description="A deprecated entry's retracting source (the rank's citation)",
        examples=[{"source": {"id": "S-00000005", "label": "A later letter"}, "locator": "p. 2"}])] = None

class PropertyRef(msgspec.Struct, kw_only=True):
    """A property as documents show it: its id, key, label and datatype."""

    id: str
    key: str
    label: str
    datatype: str


class Qualified(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A property's value as a biography shows it (a qualifier beside its claim, a statement's
    value): the property, the value (an entity as {"id", "label"}), an external id's `url`."""

    property: PropertyRef
    value: Any
    url: str | None = None


class StatementGroup(msgspec.Struct, kw_only=True):
    """The statements about the person of one property (their entries in submission order);
    `single`: the property expects one value per subject."""

    property: PropertyRef
    single: bool
    claims: list[Entry]


class Beside(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A claim shown beside a biography entry it denies or that denies it (both directions
    linked): its id, kind, status, citation (source as {"id", "label"}), the source's words
    (`said`) and whom it is attributed to; a claim the reader may not see is its id alone."""

    claim: str
    kind: str | None = None
    status: str | None = None
    citation: dict[str, Any] | None = None
    said: str | None = None
    attributed_to: Ref | None = None


def beside(linked: claims_model.Linked, labels: Labels) -> Beside:
    """Return a linked claim as a biography shows it, its entities labelled."""
    citation = None
    if linked.citation is not None:
        citation = dict(linked.citation)
        citation["source"] = _labelled(citation["source"], labels)
    return Beside(claim=linked.claim, kind=linked.kind, status=linked.status, citation=citation,
                  said=linked.said,
                  attributed_to=labels.ref(linked.attributed_to) if linked.attributed_to else None)


def statement_links(e: Entry, view: ClaimView, labels: Labels) -> Entry:
    """Set an entry's attribution, denials and retraction (issue 21) from its view, flagged."""
    e.fields.pop("attributed_to", None)
    e.fields.pop("denies", None)
    if isinstance(view.claim.get("attributed_to"), str):
        e.attributed_to = labels.ref(view.claim["attributed_to"])
        e.flags.append("attributed")
    if view.denied is not None:
        e.denies = beside(view.denied, labels)
        e.flags.append("denial")
    if view.denied_by:
        e.denied_by = [beside(linked, labels) for linked in view.denied_by]
        e.flags.append("denied")
    if view.rank_citation is not None and e.rank == "deprecated":
        citation = dict(view.rank_citation)
        citation["source"] = _labelled(citation["source"], labels)
        e.retracted_by = citation
    return e


class Taken(msgspec.Struct, kw_only=True):
    """A claim an admin suppressed, as readers see it in a biography: its id, when and why."""

    claim: str
    suppressed: Suppression


class Conflict(msgspec.Struct, kw_only=True):
    """Approved claims that disagree, listed side by side; the archive does not choose, but a
    reviewer may prefer one reading (`preferred`: the claims ranked preferred among them).
    `independent`: true when no two of the claims' sources share an ancestor through their
    citations' `via` links (a memoir and its translation are one witness). Issue 22: `sources`
    the claims' cited sources (in claim order, each once), `fields` the fields whose values
    cannot both be true (events.comparison), `same_event` true when the claims are linked as
    one event (`same_event`) rather than being facts with one value (birth, death, execution,
    a single-valued property)."""

    kind: str
    detail: str
    claims: list[str]
    preferred: list[str] = []
    independent: bool = True
    sources: Annotated[list[str], Meta(description=(
        "The cited sources of the claims, in claim order, each once"))] = []
    fields: Annotated[list[str], Meta(description=(
        "The fields whose values cannot both be true (date, place, organ, authority...)"))] = []
    same_event: Annotated[bool, Meta(description=(
        "True when the claims are compared because they are linked as one event (same_event)"))] = False


class Agreement(msgspec.Struct, kw_only=True):
    """Approved claims from different citations that say the same (a birth or death on the
    same date at the same place, a stay at the same place with the same dates);
    `independent` as for conflicts: whether they are more than one witness."""

    kind: str
    claims: list[str]
    independent: bool
    sources: Annotated[list[str], Meta(description=(
        "The cited sources of the claims, in claim order, each once"))] = []
    notes: Annotated[list[str], Meta(description=(
        "Precision notes: which claim makes another's date precise (\"C2 makes C1's date "
        "precise\"), which give overlapping dates"))] = []
    same_event: Annotated[bool, Meta(description=(
        "True when the claims are compared because they are linked as one event (same_event)"))] = False


class Stated(msgspec.Struct, kw_only=True, omit_defaults=True):
    claim: str
    total: str
    days: int | None = None
    qualifier: str
    scope: str


class CustodyFigures(msgspec.Struct, kw_only=True):
    """Computed totals (union of intervals, days, both ends counted) beside the sources' own."""

    confinement: Total
    exile: Total
    stated: list[Stated]


class AsOf(msgspec.Struct, kw_only=True):
    position: int
    recorded_at: str | None


class Biography(msgspec.Struct, kw_only=True):
    """A person's biography; `requested` is the id asked for when it was a merged record.

    Disputed claims (approved, then contested) stay in `timeline` and their sections, flagged
    "disputed" with their contest under `dispute`, and count in no total, conflict or agreement.
    `suppressed` lists the claims an admin took down (id, when, why) in place of their entries;
    `suppression` is set, and `label` is "[suppressed]", when the person's record is taken down."""

    id: str
    label: str
    partial: bool = False
    requested: str | None = None
    merged_from: list[Ref] = []
    as_of: AsOf | None = None
    names: list[Entry] = []
    births: list[Entry] = []
    deaths: list[Entry] = []
    affiliations: list[Entry] = []
    timeline: list[Entry] = []
    conflicts: list[Conflict] = []
    agreements: list[Agreement] = []
    deprecated: list[Entry] = []
    statements: list[StatementGroup] = []  # by property key: properties and qualifiers
    custody: CustodyFigures
    suppressed: list[Taken] = []  # claims taken down from readers, in place of their content
    suppression: Suppression | None = None  # the person's record itself is suppressed
    # issue 20: the persons a reviewer judged this one possibly the same as (not merged); the
    # identifications in force now (an `as_of` document leaves them out)
    identified_with: list[registry.Identified] = []


_SUMMARY = {"birth": "births", "death": "deaths", "affiliation": "affiliations", "name": "names"}
_SKIP = {"kind", "citation", "said", "note", "supersedes", "calendar", "qualifiers"}


class Labels(msgspec.Struct):
    """The current label of every entity a document names; merged persons as their
    survivors (id and label)."""

    labels: dict[str, str]
    survivors: dict[str, str]
    properties: dict[str, PropertyDef] = {}  # the properties the claims name, by id or key
    place_names: dict[str, list[NameSpan]] = {}  # places' names with spans (issue 22)

    def ref(self, entity_id: str) -> Ref:
        shown, label = survivor_label(entity_id, self.survivors, self.labels)
        return Ref(shown, label or shown)

    def place_at(self, place_id: str, earliest: dt.date | None, latest: dt.date | None) -> Ref:
        """A place as a statement dated earliest..latest shows it: under the name it bore
        then (name_at), else its current label."""
        named = name_at(self.place_names.get(place_id, []), earliest, latest)
        return Ref(place_id, named) if named is not None else self.ref(place_id)


def labels_of(conn: Connection, ids: set[str], tables: Tables | None = None) -> Labels:
    """Look up the labels of `ids` (two queries per 500 ids)."""
    alive = registry.survivors(conn, ids, tables["persons"] if tables else "persons")
    props = {i: p for i in ids if i.startswith("PR-") or i[:1].islower()  # a property's id or key
             if (p := registry.property_of(conn, i, tables)) is not None}
    return Labels(registry.labels(conn, ids | set(alive.values()), tables), alive, props,
                  claims_model.place_names(conn, {i for i in ids if i.startswith("PL-")}, tables))


def property_ref(prop: PropertyDef) -> PropertyRef:
    return PropertyRef(id=prop.id, key=prop.key, label=prop.label, datatype=prop.datatype)


def qualified(prop_id: str, value: Any, labels: Labels) -> Qualified:
    """A property's value as documents show it (see Qualified)."""
    prop = labels.properties.get(prop_id)
    if prop is None:  # cannot happen: a claim names only properties that exist
        return Qualified(property=PropertyRef(id=prop_id, key=prop_id, label=prop_id,
                                              datatype="string"), value=value)
    if names_entity(prop, value):
        value = labels.ref(value)
    return Qualified(property=property_ref(prop), value=value,
                     url=url_of(prop, value) if isinstance(value, str) else None)


def _values(claim: dict[str, Any]) -> set[str]:
    """The string values of a claim's statement and qualifiers."""
    out = {q["value"] for q in claim.get("qualifiers", ()) if isinstance(q["value"], str)}
    if claim["kind"] == "statement" and isinstance(claim["value"], str):
        out.add(claim["value"])
    return out


def property_ids(view: ClaimView) -> set[str]:
    """The properties a claim names and the entities its property values name."""
    c = view.claim
    pairs = [(q["property"], q["value"]) for q in c.get("qualifiers", ())]
    if view.kind == "statement":
        pairs.append((c["property"], c["value"]))
    out = set()
    for prop, value in pairs:
        out.add(prop)
        if isinstance(value, str):  # perhaps an entity's id (a string's words find no label)
            out.add(value)
    return out


def _labelled(value: Any, labels: Labels) -> Any:
    return labels.ref(value) if isinstance(value, str) else value


def entry(view: ClaimView, labels: Labels, own: set[str] | frozenset[str] = frozenset()) -> Entry:
    """Return a claim's biography entry (its bounds are the widest of its dates); entity
    fields, companions, the citation's source and the sources its `via` names come as
    {"id", "label"}, and each participant's `ref` too. `own`: the biography's person records,
    to mark a claim that is theirs only as a participant (`through: "participant"`, with their
    `roles`)."""
    widest = [margin_bounds(v) for v in view.dates.values()]  # approximate dates widened (D5)
    earliests = [lo for lo, _ in widest if lo is not None]
    earliest = min(earliests) if earliests else None
    latests = [hi for _, hi in widest if hi is not None]
    interval = INTERVALS.get(view.kind)
    if interval is not None:  # a span begins no sooner than its start and ends no later than its end
        first, last = (view.dates.get(f) for f in interval)
        lo = margin_bounds(first)[0] if first is not None else None
        hi = margin_bounds(last)[1] if last is not None else None
        if lo is not None and earliest is not None and earliest < lo:
            earliest = lo
        if hi is not None and latests and max(latests) > hi:
            latests = [hi]
    refs = REFS.get(view.kind, {})
    many = MANY.get(view.kind, {})
    fields = {k: (_labelled(v, labels) if k in refs else
                  [_labelled(x, labels) for x in v] if k in many else v)
              for k, v in view.claim.items() if k not in _SKIP}
    for k in [k for k in fields if refs.get(k) == "place" and isinstance(view.claim[k], str)]:
        fields[k] = labels.place_at(view.claim[k], earliest, max(latests) if latests else None)
    if "participants" in fields:
        fields["participants"] = [dict(p, ref=_labelled(p["ref"], labels)) for p in fields["participants"]]
    for extra in ("said", "note", "calendar"):
        if extra in view.claim:
            fields[extra] = view.claim[extra]
    citation = dict(view.claim["citation"])
    citation["source"] = _labelled(citation["source"], labels)
    if "via" in citation:
        citation["via"] = [dict(link, source=_labelled(link["source"], labels))
                           if isinstance(link, dict) else link for link in citation["via"]]
    through, roles = None, []
    if own and view.claim.get("person") not in own:
        roles = list(dict.fromkeys(p["role"] for p in view.claim.get("participants", ())
                                   if p["ref"] in own))
        through = "participant" if roles else None
    if through is None and own and not own & {view.claim.get(f) for f in refs} \
            and own & _values(view.claim):
        through = "value"  # named only as a property's value (a statement's, a qualifier's)
    if view.kind == "statement":  # the property and value as shown (a qualifier's shape)
        shown_value = qualified(view.claim["property"], view.claim["value"], labels)
        fields["property"] = shown_value.property
        fields["value"] = shown_value.value
        if shown_value.url:
            fields["url"] = shown_value.url
    rank = effective_rank(view.rank, view.superseded_by)
    flags = [view.status] if view.status != "approved" else []
    if view.suppressed is not None:
        flags.append("suppressed")
    return statement_links(Entry(
        claim=view.id, kind=view.kind, status=view.status, rank=rank, earliest=earliest,
        latest=max(latests) if latests else None, dates=view.dates, fields=fields,
        citation=citation, flags=flags, suppressed=view.suppressed,
        through=through, roles=roles, reason=view.rank_reason if rank == "deprecated" else None,
        superseded_by=view.superseded_by, length=view.length, dispute=view.dispute,
        qualifiers=[qualified(q["property"], q["value"], labels)
                    for q in view.claim.get("qualifiers", ())]), view, labels)


# The relation as the other person has it: "A is the brother of B" makes B a sibling of A (the
# claim does not say whether B is a brother or a sister); parent and child swap; the rest hold
# both ways.
CONVERSE = {"brother": "sibling", "sister": "sibling", "sibling": "sibling", "parent": "child",
            "child": "parent", "spouse": "spouse", "comrade": "comrade", "relative": "relative",
            "other": "other"}


def turned_round(fields: dict[str, Any]) -> dict[str, Any]:
    """A relation claim's fields in the biography of its `other`: that person becomes `person`,
    the claim's person becomes `other`, the relation its converse; `as_stated` keeps the
    claim's own words. A group's relation (its subject a `group`) turns round the same way:
    the group becomes `other` (its count stays in `as_stated` only)."""
    subject = "person" if "person" in fields else "group"
    turned = {**fields, "person": fields["other"], "other": fields[subject],
              "relation": CONVERSE.get(fields["relation"], "other"),
              "as_stated": {subject: fields[subject], "relation": fields["relation"],
                            "other": fields["other"]}}
    if subject == "group":
        turned.pop("group")
        if "count" in turned:
            turned["as_stated"]["count"] = turned.pop("count")
    for mine, theirs in (("person_said", "other_said"), ("other_said", "person_said")):
        turned.pop(mine, None)
        if theirs in fields:  # the words naming each person follow that person
            turned[mine] = fields[theirs]
    return turned


def memberships_of(views: list[ClaimView], own: set[str] | frozenset[str]) -> dict[str, list[ClaimView]]:
    """Return organisation -> the membership claims of the person (`own`: their records) among
    `views` that are not deprecated, in submission order: the groups whose statements the
    biography shows through the group."""
    out: dict[str, list[ClaimView]] = {}
    for v in views:
        if v.kind == "membership" and v.claim.get("person") in own and not v.deprecated:
            out.setdefault(v.claim["organization"], []).append(v)
    return out


def days_of(view: ClaimView) -> tuple[dt.date | None, dt.date | None]:
    """The days a claim may be about: from its first date's earliest day to its last date's
    latest (None = unbounded: undated, or an interval open at that end)."""
    span = SPANS.get(view.kind)
    if span is None:
        return None, None
    first, last = widened(view.dates.get(span[0])), widened(view.dates.get(span[1]))
    return first.earliest if first else None, last.latest if last else None


def through_group(view: ClaimView, memberships: dict[str, list[ClaimView]]) -> list[ClaimView]:
    """Return the memberships by which a statement about a group (`view`, its subject the
    group) is a member's: the member's membership claims of that group whose days may meet the
    statement's (an undated membership or statement may meet any day)."""
    days = days_of(view)
    return [m for m in memberships.get(view.claim.get("group", ""), ())
            if may_meet(*days_of(m), *days)]


def member_of(view: ClaimView, memberships: list[ClaimView], labels: Labels) -> MemberOf:
    """The `member_of` of a statement about a group shown in a member's biography."""
    return MemberOf(group=labels.ref(view.claim["group"]),
                    memberships=[Membership(claim=m.id, certainty=m.claim.get("certainty"))
                                 for m in memberships])


def referenced(views: list[ClaimView]) -> set[str]:
    """Return every entity id the claims name (their entity fields, companions, cited sources
    and the sources their `via` names)."""
    ids = set()
    for v in views:
        ids |= ancestors(v)
        ids |= property_ids(v)
        for field in REFS.get(v.kind, {}):
            value = v.claim.get(field)
            if isinstance(value, str):
                ids.add(value)
        for field in MANY.get(v.kind, {}):
            ids.update(v.claim.get(field, ()))
        ids.update(p["ref"] for p in v.claim.get("participants", ()))
        ids |= linked_ids(v)
    return ids


def linked_ids(view: ClaimView) -> set[str]:
    """The entities a claim's statement links name: whom it is attributed to, the sources and
    attributions of the claims it denies or that deny it, its retracting source."""
    ids = set()
    if isinstance(view.claim.get("attributed_to"), str):
        ids.add(view.claim["attributed_to"])
    for linked in [*view.denied_by, *([view.denied] if view.denied else [])]:
        if linked.citation is not None:
            ids.add(linked.citation["source"])
        if linked.attributed_to is not None:
            ids.add(linked.attributed_to)
    if view.rank_citation is not None:
        ids.add(view.rank_citation["source"])
    return ids


def ancestors(view: ClaimView) -> set[str]:
    """The sources a claim's words come from: the cited source and every source its
    citation's `via` chain names (a chain is written in full in each citation)."""
    citation = view.claim["citation"]
    return {citation["source"], *(link["source"] for link in citation.get("via", ())
                                  if isinstance(link, dict))}


def independent(views: list[ClaimView]) -> bool:
    """True when no two of the claims' sources share an ancestor (see `ancestors`) as their
    citations say; `witnessed` reads the approved links between sources (derivation claims)
    when the document is read (issue 22: projections.descent)."""
    return no_shared_ancestor([ancestors(v) for v in views])


class _Witnesses(msgspec.Struct):
    """The parts of a stored biography whose independence is read at question time."""

    conflicts: list[Conflict] = []
    agreements: list[Agreement] = []


# The ETags of stored documents found to have no conflict and no agreement (most): the ETag
# is a hash of the bytes, so a document with one of them needs no decode (a 55 kB one takes
# 55 us) to be answered as it is. Per process, at most UNWITNESSED_KEPT (about 2 MB), then
# emptied; shared by the reader threads (a dict's single operations hold the GIL).
UNWITNESSED_KEPT = 16_384
_UNWITNESSED: dict[str, None] = {}


def witnessed(conn: Connection, document: Document) -> Document:
    """Return the document with each conflict's and agreement's `independent` as the links
    approved now say (descent.reassess): the same bytes when nothing changed, so approving
    a derivation claim rewrites no stored document."""
    if document.etag in _UNWITNESSED:  # its bytes (their hash) already decoded: none
        return document
    found = msgspec.json.decode(document.body, type=_Witnesses)
    groups: list[Conflict | Agreement] = [*found.conflicts, *found.agreements]
    if not groups:
        if len(_UNWITNESSED) >= UNWITNESSED_KEPT:
            _UNWITNESSED.clear()
        _UNWITNESSED[document.etag] = None
        return document
    before = [g.independent for g in groups]
    descent.reassess(conn, groups)
    if before == [g.independent for g in groups]:
        return document
    bio = _decode.decode(document.body)
    bio.conflicts, bio.agreements = found.conflicts, found.agreements
    return _document(bio)


def timeline_key(e: Entry) -> tuple:
    """The timeline's order: by the bounds of its dates as written (events.dates.bounds_key:
    "before 1923" by its latest day, the undated last), then claim id. The margins of
    approximate dates (D5) widen the entry's `earliest` and `latest`, what may have been, but
    not its place in the order: "around 26 April" stays after "20 April"."""
    lows = [d.earliest for d in e.dates.values() if d.earliest is not None]
    highs = [d.latest for d in e.dates.values() if d.latest is not None]
    return (*bounds_key(min(lows) if lows else None, max(highs) if highs else None), e.claim)


# issue 22: the kinds a person has one of (their claims are compared with each other); claims
# of any other kind are compared when linked as the same event (`same_event`)
ONE_VALUE_KINDS: tuple[str, ...] = ("birth", "death", "execution")


def fact_of(view: ClaimView) -> Fact:
    """A claim's values as events.comparison compares them: its dates' bounds (as stored,
    margins included) and its place, organ, authority, destination; a statement's value alone
    (a date by its bounds, any other value by its key: properties.value_key)."""
    if view.kind == "statement":
        told = view.dates.get("value")
        if told is not None:
            return Fact(claim=view.id, dates={"value": margin_bounds(told)})
        return Fact(claim=view.id, refs={"value": value_key(view.claim["value"])})
    return Fact(claim=view.id,  # approximate dates widened by the margins (D5): one rule
                dates={f: margin_bounds(d) for f, d in view.dates.items()
                       if d is not None and (d.earliest is not None or d.latest is not None)},
                refs={f: view.claim[f] for f in SAME_EVENT_REFS if isinstance(view.claim.get(f), str)})


def compared_sets(views: list[ClaimView], own: set[str] | frozenset[str] | None = None,
                  singles: dict[str, str] | None = None
                  ) -> list[tuple[str, bool, list[ClaimView], str]]:
    """The sets of counted claims compared with each other, as (kind, same_event, claims,
    what): the person's births, deaths, executions (`own`: their records; None: every claim of
    the kind), statements of a single-valued property about one subject (`singles`: its id ->
    key), then every group of claims linked as one event by `same_event` (of other kinds)."""
    approved = [v for v in views if v.counted]
    out: list[tuple[str, bool, list[ClaimView], str]] = []
    for kind in ONE_VALUE_KINDS:
        mine = [v for v in approved if v.kind == kind
                and (own is None or v.claim.get("person") in own)]
        if len(mine) > 1:
            out.append((kind, False, mine, f"{kind} claims"))
    singles = singles or {}
    single: dict[tuple[str, str], list[ClaimView]] = {}  # a single-valued property's statements
    for v in approved:
        if v.kind == "statement" and v.claim["property"] in singles:
            single.setdefault((v.claim["subject"], singles[v.claim["property"]]), []).append(v)
    for (_, prop), mine in sorted(single.items()):
        if len(mine) > 1:
            out.append(("statement", False, mine, f"statements of {prop} (one value expected)"))
    by_id = {v.id: v for v in approved if v.kind not in (*ONE_VALUE_KINDS, "statement")
             or (v.kind == "statement" and v.claim["property"] not in singles)}
    links = {v.id: v.claim["same_event"] for v in by_id.values()
             if isinstance(v.claim.get("same_event"), str)}
    for group in events_of(links, list(by_id)):
        kind = by_id[group[0]].kind
        out.append((kind, True, [by_id[i] for i in group], f"{kind} claims told as one event"))
    return out


def sources_of(views: list[ClaimView]) -> list[str]:
    """The claims' cited sources, in claim order, each once."""
    return list(dict.fromkeys(v.claim["citation"]["source"] for v in views))


def conflicts(views: list[ClaimView], singles: dict[str, str] | None = None,
              own: set[str] | frozenset[str] | None = None) -> list[Conflict]:
    """Approved claims that cannot all be true (events.comparison): births, deaths or
    executions, and claims linked as one event (`same_event`), whose dates share no day or
    whose places or authorities differ; deaths with another manner (unknown aside); custody
    surely in two places on one day; statements of a single-valued property (`singles`: its id
    and key -> key) about one subject with values of different keys (properties.value_key)."""
    singles = singles or {}
    out = []
    approved = [v for v in views if v.counted]
    for kind, linked, mine, what in compared_sets(views, own, singles):
        outcome = compare([fact_of(v) for v in mine])
        if outcome.conflicts:
            ids = {c for pairs in outcome.conflicts.values() for pair in pairs for c in pair}
            at_odds = [v for v in mine if v.id in ids]
            fields = sorted(outcome.conflicts)
            conflict = _conflict(kind, f"{len(at_odds)} {what} cannot all be true: they "
                                 f"disagree on {', '.join(fields)}", at_odds)
            conflict.fields, conflict.same_event = fields, linked
            out.append(conflict)
    told = [v for v in approved if v.kind == "death" and v.claim.get("manner") not in (None, "unknown")]
    manners = sorted({v.claim["manner"] for v in told})
    if len(manners) > 1:  # "died" against "murdered": the sources disagree on how
        out.append(_conflict("death_manner", f"{len(told)} death claims disagree on the manner: "
                             f"{', '.join(manners)}", told))
    custody = [v for v in approved if v.kind == "custody" and v.claim.get("place")]
    for a, b, sa, sb in _sure_overlaps(custody):  # in the order of combinations(custody, 2)
        if a.claim["place"] != b.claim["place"]:
            lo, hi = max(sa[0], sb[0]), min(sa[1], sb[1])
            if lo == hi and (sa[1] == sb[0] or sb[1] == sa[0]):
                continue  # one ends the day the other begins: a transfer day, not a conflict
            out.append(_conflict("custody_overlap", f"held surely at two places from {lo} to {hi}",
                                 [a, b]))
    return out


def _conflict(kind: str, detail: str, views: list[ClaimView]) -> Conflict:
    return Conflict(kind=kind, detail=detail, claims=[v.id for v in views],
                    preferred=[v.id for v in views if v.rank == "preferred"],
                    independent=independent(views), sources=sources_of(views))


def _cited_apart(views: list[ClaimView]) -> bool:
    """True when the claims come from more than one citation (source and locator)."""
    return len({(v.claim["citation"]["source"], v.claim["citation"].get("locator"))
                for v in views}) > 1


def _agreement(kind: str, same: list[ClaimView], notes: list[str] = (),  # type: ignore[assignment]
               linked: bool = False) -> Agreement:
    return Agreement(kind=kind, claims=[v.id for v in same], independent=independent(same),
                     sources=sources_of(same), notes=list(notes), same_event=linked)


def agreements(views: list[ClaimView], singles: dict[str, str] | None = None,
               own: set[str] | frozenset[str] | None = None) -> list[Agreement]:
    """Approved claims from different citations that say the same (events.comparison): births,
    deaths, executions and claims linked as one event whose values can all be true and at
    least one of which is the same or refined (the narrower date makes the wider precise: a
    precision note), clustered in claim order (a claim joins the first cluster it agrees with
    whole), statements of a single-valued property (dates by bounds, other values by key);
    stays at the same place with the same dates as written (not linked as one event)."""
    singles = singles or {}
    out = []
    linked_ids: set[str] = set()
    for kind, linked, mine, _ in compared_sets(views, own, singles):
        if linked:
            linked_ids.update(v.id for v in mine)
        clusters: list[list[ClaimView]] = []
        for v in mine:
            for cluster in clusters:
                if compare([fact_of(w) for w in [*cluster, v]]).agree:
                    cluster.append(v)
                    break
            else:
                clusters.append([v])
        for cluster in clusters:
            if len(cluster) > 1 and _cited_apart(cluster):
                out.append(_agreement(kind, cluster, compare([fact_of(w) for w in cluster]).notes,
                                      linked))
    keys: dict[tuple, list[ClaimView]] = {}
    for v in views:
        if not v.counted or v.id in linked_ids:
            continue
        c = v.claim
        if v.kind == "custody" and c.get("place") and (c.get("start") or c.get("end")):
            key: tuple = (v.kind, c.get("place"), c.get("start"), c.get("end"))
        else:
            continue
        keys.setdefault(key, []).append(v)
    for key, same in keys.items():
        if len(same) > 1 and _cited_apart(same):
            out.append(_agreement(key[0], same))
    return out


def _sure_overlaps(custody: list[ClaimView]) -> list[tuple[ClaimView, ClaimView, tuple, tuple]]:
    """Return the pairs (a, b, a's sure days, b's) of stays whose surely covered days meet, in
    the order `itertools.combinations(custody, 2)` gives them: sorted by first sure day, each
    stay is compared only with those that begin before it ends (not every pair: a long
    history costs its overlaps, not its square)."""
    sure = [(s, i) for i, v in enumerate(custody) if (s := _sure(v))]
    sure.sort(key=lambda x: x[0][0])
    pairs = []
    for k, ((lo, hi), i) in enumerate(sure):
        for (other, j) in sure[k + 1:]:
            if other[0] > hi:
                break
            pairs.append((i, j, (lo, hi), other) if i < j else (j, i, other, (lo, hi)))
    pairs.sort(key=lambda p: (p[0], p[1]))
    return [(custody[i], custody[j], sa, sb) for i, j, sa, sb in pairs]


def _sure(v: ClaimView) -> tuple[dt.date, dt.date] | None:
    return surely_covered(widened(v.dates.get("start")), widened(v.dates.get("end")))  # D5


def custody_figures(views: list[ClaimView]) -> CustodyFigures:
    """Totals of approved custody episodes, confinement apart from exile, beside stated totals."""
    approved = [v for v in views if v.counted]
    episodes: dict[str, list] = {"confinement": [], "exile": []}
    for v in approved:
        if v.kind == "custody":
            group = "exile" if v.claim["custody"] == "exile" else "confinement"
            episodes[group].append((v.id, widened(v.dates.get("start")), widened(v.dates.get("end")),
                                    v.length.min_days if v.length else None))
    stated = [Stated(claim=v.id, total=v.claim["total"], days=v.claim.get("days"),
                     qualifier=v.claim.get("qualifier", "about"), scope=v.claim.get("scope", "all"))
              for v in approved if v.kind == "custody_total"]
    return CustodyFigures(confinement=custody_total(episodes["confinement"]),
                          exile=custody_total(episodes["exile"]), stated=stated)


def take_down(views: list[ClaimView], viewer: Viewer) -> tuple[list[ClaimView], list[Taken]]:
    """Split the claims of a document into those `viewer` reads and, for readers who may not
    read suppressed content (rules.sees_suppressed), the take-downs shown in their place."""
    if sees_suppressed(viewer):
        return views, []
    return ([v for v in views if v.suppressed is None],
            [Taken(claim=v.id, suppressed=v.suppressed) for v in views if v.suppressed is not None])


def _singles(labels: Labels) -> dict[str, str]:
    """The single-valued properties the document names: id -> key."""
    return {ref: p.key for ref, p in labels.properties.items() if p.single}


def assemble(person: tuple[str, str, dict, int], views: list[ClaimView], labels: Labels,
             merged_from: list[str], as_of: AsOf | None = None, viewer: Viewer = Viewer(),
             suppression: Suppression | None = None,
             group_views: Sequence[ClaimView] = ()) -> Biography:
    """Return the biography of the survivor `person` (id, label, registration data, position)
    from the claims given, which hold only what the reader may see; superseded claims and
    claims ranked deprecated go to `deprecated` only; suppressed claims, for readers, to
    `suppressed` as take-downs (and a suppressed person's record shows no label).

    `group_views`: the claims whose subject is a group the person has membership claims of
    (issue 20); those the memberships reach (`through_group`) enter the timeline and its
    sections marked `through: "group"`, never the person's figures, conflicts or agreements;
    deprecated ones stay on the group's record."""
    views, taken = take_down(views, viewer)
    group_views, _ = take_down(list(group_views), viewer)  # the group's take-downs: its record's
    label = labels.labels.get(person[0], person[1])
    if suppression is not None and sees_suppressed(viewer):
        label = person[1]  # reviewers read the record, marked suppressed
    bio = Biography(id=person[0], label=label, partial=person[2].get("partial", False),
                    merged_from=[Ref(m, labels.labels.get(m, m)) for m in sorted(merged_from)],
                    as_of=as_of, custody=custody_figures(views),
                    conflicts=conflicts(views, _singles(labels), {person[0], *merged_from}),
                    agreements=agreements(views, _singles(labels), {person[0], *merged_from}),
                    suppressed=taken, suppression=suppression)
    own = {person[0], *merged_from}
    grouped: dict[str, list[Entry]] = {}
    for view in views:
        e = entry(view, labels, own)
        if view.kind == "relation" and view.claim["other"] in own and view.claim.get("person") not in own:
            e.fields = turned_round(e.fields)
        if view.deprecated:  # listed, with its reason or successor, and nowhere else
            bio.deprecated.append(e)
            continue
        section = _SUMMARY.get(view.kind)
        if section:
            getattr(bio, section).append(e)
        if view.kind == "statement" and e.through != "value":  # a statement about the person
            grouped.setdefault(e.fields["property"].id, []).append(e)
            if not view.dates:  # an undated statement has no place in time
                continue
        if view.kind != "name":
            bio.timeline.append(e)
    memberships = memberships_of(views, own)
    mine = {v.id for v in views}
    for view in group_views:
        reached = through_group(view, memberships)
        if view.id in mine or view.deprecated or not reached:
            continue
        e = entry(view, labels)
        e.through, e.member_of = "group", member_of(view, reached, labels)
        if view.kind in _SUMMARY:
            getattr(bio, _SUMMARY[view.kind]).append(e)
        bio.timeline.append(e)
    bio.timeline.sort(key=timeline_key)
    for entries in grouped.values():
        first = entries[0].fields["property"]
        prop = next((p for p in labels.properties.values() if p.id == first.id), None)
        bio.statements.append(StatementGroup(property=first, single=bool(prop and prop.single),
                                             claims=entries))
    bio.statements.sort(key=lambda g: (g.property.key, g.property.id))
    for section in ("births", "deaths", "affiliations"):
        getattr(bio, section).sort(key=timeline_key)
    return bio


_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(Biography)


def etag_of(document: bytes) -> str:
    """Return a strong ETag for encoded document bytes."""
    return '"' + hashlib.blake2b(document, digest_size=12).hexdigest() + '"'


class Document(msgspec.Struct, frozen=True):
    """An encoded biography and its ETag."""

    body: bytes
    etag: str


def _document(bio: Biography) -> Document:
    body = _encode(bio)
    return Document(body, etag_of(body))


def compute(conn: Connection, group: list[str], statuses: Sequence[str], viewer: Viewer,
            tables: Tables | None = None) -> Biography:
    """Assemble the biography of a merge group ([survivor, *merged]) from the read models."""
    persons = tables["persons"] if tables else "persons"
    views = claims_model.views_of(conn, group, statuses, viewer, tables, superseded=True)
    groups = sorted(memberships_of(views, set(group)))  # what the person is a member of
    group_views = claims_model.views_of(conn, groups, statuses, viewer, tables,
                                        field="group") if groups else []
    labels = labels_of(conn, referenced(views) | referenced(group_views) | set(group), tables)
    person = registry.entity(conn, "person", group[0], persons)
    assert person is not None
    suppression = registry.suppressions(conn, [group[0]], tables).get(group[0])
    bio = assemble(person, views, labels, group[1:], viewer=viewer, suppression=suppression,
                   group_views=group_views)
    bio.identified_with = registry.identifications_of(conn, "person", group, tables)
    if tables is None:  # a rebuild's shadow tables: the stored document is corrected when read
        descent.reassess(conn, [*bio.conflicts, *bio.agreements])
    return bio


# -- the read model -----------------------------------------------------------------------------

class BiographiesProjection(Projection):
    """Stored public biographies; reads the claims and registry read models' tables, so the
    runner rebuilds it with them and applies it after them."""

    name = "biographies"
    version = 14  # 2: relations turned round; 3: conflicting death manners; 4: ranks, deprecated,
    # companions, agreements, independence, durations; 5: disputed claims shown, suppressions;
    # 6: participants in roles (`through: "participant"`, `roles`); 7: statements about a
    # member's groups, through the group; 8: identifications (identified_with); 9: statements
    # grouped by property, qualifiers beside their claim, single-valued conflicts; 10:
    # attributions, denials both ways, a retraction's citation; 11 (i22-conflicts): conflicts
    # and agreements by events.comparison (executions, same_event, sources, notes, fields); 12:
    # entries' bounds widened by the date margins (D5), the timeline ordered by bounds ("before
    # X" by its latest day); 13: a place under its name at the entry's date; 14 (issue 25):
    # documents stored zlib-compressed on SQLite
    reads = ("registry", "claims")
    ddl = {"biographies": ["""CREATE TABLE {name} (
        person_id TEXT PRIMARY KEY, etag TEXT NOT NULL, document BLOB NOT NULL)"""]}

    def __init__(self) -> None:
        self._dirty: dict[str, set[str]] = {}  # biographies table -> records waiting (rebuild)
        # biographies table -> event id -> (position, the records it touched), since `finish`:
        # kept by event so that `finish` takes only the events of jobs that were written (a job
        # rolled back to its SAVEPOINT leaves its marks behind: they are dropped)
        self._marks: dict[str, dict[str, tuple[int, set[str]]]] = {}
        self.recomputed = 0  # documents computed, for tests and benchmarks
        # the serving archive's (Archive.start): the writer marks touched documents stale
        # (`mark_stale`) and a settler thread assembles them (`settle_stale`); otherwise (the
        # CLI, tests, start-up) `finish` assembles them in the writer's transaction
        self.deferred = False

    def touched(self, envelopes: Sequence[Envelope]) -> set[str]:
        """Return the person records whose documents `envelopes` (applied, not finished yet,
        to the live tables) changed: what a write's answer waits to see settled."""
        marks = self._marks.get("biographies", {})
        return {r for e in envelopes if e.event_id in marks for r in marks[e.event_id][1]}

    def apply(self, conn: Connection, envelope: Envelope, t: Tables) -> None:
        e = envelope.event
        dirty: set[str] = set()
        self._marks.setdefault(t["biographies"], {})[envelope.event_id] = (envelope.position, dirty)
        match e:
            case PersonRegistered():
                dirty.add(e.person_id)
            case PersonMerged() | PersonUnmerged():
                other = e.into if isinstance(e, PersonMerged) else e.from_person
                dirty.update((e.person_id, other))
                # documents that name a record of the moved group show its survivor: recompute
                records = [e.person_id, *registry.merged_records(conn, e.person_id, t["persons"])]
                dirty.update(claims_model.persons_referring_to(conn, records, t, t["persons"]))
                dirty.update(registry.identified_records(conn, records, t))  # shown as survivors
                dirty.update(claims_model.persons_attributing(conn, records, t, t["persons"]))
            case RecordIdentified(kind="person") | RecordUnidentified(kind="person"):
                dirty.update((e.record_id, e.with_))
            case ClaimApproved() | ClaimRejected() | ClaimContested() | ClaimRetracted() | ClaimRanked():
                # public before: approved, ranked (only approved claims are ranked), or contested
                # (disputed when it was approved; a pending claim's contest costs one recompute)
                before = claims_model.previous_action(conn, e.claim_id, envelope.version - 1, t) or ""
                was_public = before in ("approve", "contest") or before.startswith("rank:")
                if isinstance(e, ClaimApproved) or was_public:
                    dirty.update(claims_model.persons_of_claim(conn, e.claim_id, t, t["persons"]))
                    dirty.update(claims_model.members_of_claim_groups(conn, e.claim_id, t, t["persons"]))
                    dirty.update(claims_model.persons_seeing_place_name(conn, e.claim_id, t, t["persons"]))
            case ContentSuppressed() | ContentUnsuppressed():
                if e.target_kind == "claim":
                    dirty.update(claims_model.persons_of_claim(conn, e.target, t, t["persons"]))
                    dirty.update(claims_model.members_of_claim_groups(conn, e.target, t, t["persons"]))
                else:  # its label, in every document naming it; a person's own names and record
                    if e.target_kind == "person":
                        dirty.add(e.target)
                        dirty.update(registry.identified_records(conn, [e.target], t))
                    dirty.update(claims_model.persons_referring_to(conn, [e.target], t, t["persons"]))
                    dirty.update(claims_model.persons_attributing(conn, [e.target], t, t["persons"]))

    def finish(self, conn: Connection, t: Tables, envelopes: Sequence[Envelope], *,
               rebuilding: bool = False) -> None:
        """Recompute every document this batch touched, once each (a rebuild defers them to
        `settle`, so that a document is computed once per rebuild, not once per batch). In the
        serving archive (`deferred`) only mark them stale: a settler assembles them outside
        the writer (`settle_stale`)."""
        marks = self._marks.pop(t["biographies"], {})
        records: dict[str, int] = {}  # record -> the first position of the batch touching it
        for envelope in envelopes:  # the batch's written events only: a failed job's are left
            if (mark := marks.get(envelope.event_id)) is not None:
                for record in mark[1]:
                    records.setdefault(record, mark[0])
        if self.deferred and not rebuilding and t["biographies"] == "biographies":
            mark_stale(conn, t, records, envelopes[-1].position)
            return
        self._dirty.setdefault(t["biographies"], set()).update(records)
        if not rebuilding:
            self.settle(conn, t, None)

    def pending(self, t: Tables) -> int:
        """Return how many touched person records wait for their documents."""
        return len(self._dirty.get(t["biographies"], ()))

    def settle(self, conn: Connection, t: Tables, limit: int | None) -> None:
        """Recompute the documents of up to `limit` touched records (all when None)."""
        waiting = self._dirty.get(t["biographies"], set())
        if limit is None or len(waiting) <= limit:
            dirty = self._dirty.pop(t["biographies"], set())
        else:
            dirty = {waiting.pop() for _ in range(limit)}
        survivors = set()
        for person_id in dirty:
            alive = registry.survivor(conn, person_id, t["persons"])
            if alive != person_id:  # a merged record answers with its survivor's document
                conn.execute(f"DELETE FROM {t['biographies']} WHERE person_id = ?", (person_id,))
            survivors.add(alive)
        for alive in sorted(survivors):
            group = [alive, *registry.merged_records(conn, alive, t["persons"])]
            document = _document(compute(conn, group, PUBLIC, Viewer(), t))
            self.recomputed += 1
            conn.execute(f"INSERT INTO {t['biographies']} VALUES (?, ?, ?) ON CONFLICT (person_id) "
                         "DO UPDATE SET etag = excluded.etag, document = excluded.document",
                         (alive, document.etag, packed(conn, document.body)))
        if t["biographies"] == "biographies" and (dirty or survivors):
            # assembled here in the writer, at the head: no mark of theirs is older (live only:
            # a rebuild's or an audit's shadows say nothing of the live documents)
            settled = sorted(dirty | survivors)
            for chunk in chunks(settled):
                conn.execute("DELETE FROM stale_biographies WHERE person_id IN (%s)"
                             % ",".join("?" * len(chunk)), chunk)


def mark_stale(conn: Connection, t: Tables, records: dict[str, int], upto: int) -> None:
    """Mark the documents of `records` (record -> the first position that touched it) stale
    as of that position, in the writer's transaction (so the mark is exactly as durable as the
    events): each survivor of theirs, to be assembled by `settle_stale`, and each merged record,
    whose document goes (deleted now too). `since` keeps the first unsettled position, `upto`
    the last."""
    if not records:
        return
    marks: dict[str, int] = {}
    for record, since in records.items():
        alive = registry.survivor(conn, record, t["persons"])
        if alive != record:  # a merged record answers with its survivor's document
            conn.execute(f"DELETE FROM {t['biographies']} WHERE person_id = ?", (record,))
        for person in (record, alive):
            marks[person] = min(since, marks.get(person, since))
    conn.executemany("INSERT INTO stale_biographies (person_id, since, upto) VALUES (?, ?, ?) "
                     "ON CONFLICT (person_id) DO UPDATE SET upto = excluded.upto",
                     [(person, since, upto) for person, since in sorted(marks.items())])


def settle_stale(store: Any, t: Tables, limit: int = 16) -> int:
    """Assemble up to `limit` stale documents (the oldest marks first) from one read snapshot
    of the live tables, outside the writer, then store them in one small write transaction,
    each by compare-and-set on its mark: a document is stored only while its mark is still
    at or before the snapshot's position (no newer settle got there first), and the mark is
    cleared, or moved past the snapshot when newer events marked it meanwhile. Returns how
    many marks it read (0: none waits). `store` is the archive's EventStore."""
    conn = store.reader()
    built: list[tuple[str, Document | None]] = []
    with sql.snapshot(conn):
        rows = conn.execute("SELECT person_id FROM stale_biographies ORDER BY since, person_id "
                            "LIMIT ?", (limit,)).fetchall()
        if not rows:
            return 0
        at = conn.execute("SELECT min(position) FROM projection_checkpoints").fetchone()[0] or 0
        for (person_id,) in rows:
            alive = registry.survivor(conn, person_id, t["persons"])
            if alive != person_id or registry.entity(conn, "person", person_id, t["persons"]) is None:
                built.append((person_id, None))  # merged (or unknown): it has no document
                continue
            group = [alive, *registry.merged_records(conn, alive, t["persons"])]
            built.append((alive, _document(compute(conn, group, PUBLIC, Viewer(), t))))
    with store.write_transaction() as w:
        for person_id, document in built:
            row = w.execute("SELECT since, upto FROM stale_biographies WHERE person_id = ?",
                            (person_id,)).fetchone()
            if row is None or row[0] > at:
                continue  # settled meanwhile from a snapshot at least as new: leave it
            if document is None:
                w.execute(f"DELETE FROM {t['biographies']} WHERE person_id = ?", (person_id,))
            else:
                w.execute(f"INSERT INTO {t['biographies']} VALUES (?, ?, ?) ON CONFLICT (person_id) "
                          "DO UPDATE SET etag = excluded.etag, document = excluded.document",
                          (person_id, document.etag, packed(w, document.body)))
            if row[1] <= at:
                w.execute("DELETE FROM stale_biographies WHERE person_id = ?", (person_id,))
            else:  # marked again after the snapshot: stale from there on
                w.execute("UPDATE stale_biographies SET since = ? WHERE person_id = ?",
                          (at + 1, person_id))
    return len(rows)


def unsettled(conn: Connection, records: set[str] | list[str], position: int) -> bool:
    """Return whether a document of `records` (or of their survivors) may still show the
    archive as it stood before log `position` (a mark at or before it is not settled)."""
    people = set(records) | {registry.survivor(conn, r) for r in records}
    for chunk in chunks(sorted(people)):
        if conn.execute("SELECT 1 FROM stale_biographies WHERE since <= ? AND person_id IN (%s) "
                        "LIMIT 1" % ",".join("?" * len(chunk)), (position, *chunk)).fetchone():
            return True
    return False


def any_unsettled(conn: Connection, position: int) -> bool:
    """Return whether any stored document may still show the archive before `position`."""
    return conn.execute("SELECT 1 FROM stale_biographies WHERE since <= ? LIMIT 1",
                        (position,)).fetchone() is not None


# -- queries ------------------------------------------------------------------------------------

# Stored documents are zlib-compressed on SQLite (issue 25: about a fifth of their bytes; the
# standard library's zlib, so no new dependency, and its output is the same bytes for the same
# document, as content hashes need). PostgreSQL keeps the JSON text (its column is TEXT, and it
# compresses long values itself, TOAST). A row's bytes say which it is: a JSON document begins
# with "{", a zlib stream with 0x78 ("x"). The ETag stays the hash of the JSON bytes served.
# `stored` keeps documents inflated (below), so a document read again costs no decompression.
PACK_LEVEL = 6


def packed(conn: Connection, body: bytes) -> bytes:
    """The stored form of an encoded document on `conn`'s backend."""
    return zlib.compress(body, PACK_LEVEL) if sql.dialect(conn) == sql.SQLITE else body


def inflated(stored: Any) -> Any:
    """The JSON bytes (or, on PostgreSQL, text) of a stored document's column."""
    if isinstance(stored, str) or stored[:1] != b"x":
        return stored  # PostgreSQL's text, or a row stored uncompressed
    return zlib.decompress(stored)


# Stored documents last read, kept per process by person with their ETag (issue 25, item 6):
# a read asks for the row's ETag, and for its document only when the ETag is not the one kept,
# in one statement, so a document read again crosses from the database (on PostgreSQL, out of
# its TOAST storage and over the socket) only when it changed. Exact: the ETag is the hash of
# the document's bytes, read in the same statement. At most KEPT_BYTES of documents, then
# emptied; shared by the reader threads (a dict's single operations hold the GIL).
KEPT_BYTES = 64 * 2**20
_KEPT: dict[str, tuple[str, bytes]] = {}
_kept_bytes = 0


def stored(conn: Connection, person_id: str) -> Document | None:
    """Return the stored public biography of a survivor (its bytes), or None (unknown or
    merged id), its independence read now (`witnessed`)."""
    global _kept_bytes
    kept = _KEPT.get(person_id)
    row = conn.execute("SELECT etag, CASE WHEN etag = ? THEN NULL ELSE document END "
                       "FROM biographies WHERE person_id = ?",
                       (kept[0] if kept else "", person_id)).fetchone()
    if row is None:
        return None
    etag, body = row
    if body is None and kept is not None:
        body = kept[1]
    else:
        body = inflated(body)  # kept inflated: a document read again costs no decompression
        body = body.encode() if isinstance(body, str) else bytes(body)  # PostgreSQL's text
        if _kept_bytes + len(body) > KEPT_BYTES:
            _KEPT.clear()
            _kept_bytes = 0
        _KEPT[person_id] = (etag, body)
        _kept_bytes += len(body)
    return witnessed(conn, Document(body, etag))


def read(conn: Connection, person_id: str, viewer: Viewer,
         statuses: Sequence[str] = PUBLIC) -> Document | None:
    """Return the biography of `person_id` now (None when no such person). The public one is
    the stored bytes; a merged record's answer is its survivor's with `requested`; with
    pending statuses the document is assembled for this viewer."""
    if not registry.exists(conn, "person", person_id):
        return None
    group = registry.merge_group(conn, person_id)
    if tuple(statuses) == PUBLIC:
        document = stored(conn, group[0])
        if document is None:  # not projected yet (cannot happen after start-up's catch-up)
            document = _document(compute(conn, group, PUBLIC, viewer))
        if group[0] == person_id:
            return document
        bio = msgspec.structs.replace(_decode.decode(document.body), requested=person_id)
        return _document(bio)
    bio = compute(conn, group, statuses, viewer)
    if group[0] != person_id:
        bio = msgspec.structs.replace(bio, requested=person_id)
    return _document(bio)


def links_as_of(conn: Connection, views: list[ClaimView], position: int,
                viewer: Viewer, statuses: Sequence[str]) -> None:
    """Set the views' denials as they stood after log `position`: the claims denying them or
    denied by them, submitted by then, as their review history left them by then (shown as the
    document shows claims; take-downs as in force now)."""
    pairs = claims_model.deniers_submitted(conn, [v.id for v in views], position)
    targets = {v.claim["denies"] for v in views if isinstance(v.claim.get("denies"), str)}
    linked: dict[str, claims_model.Linked] = {}
    for claim_id, then in claims_model.claims_as_of(conn, {p[0] for p in pairs} | targets,
                                                    position).items():
        if not shown(viewer, then.status, then.contributor, statuses):
            continue
        linked[claim_id] = claims_model.Linked(
            claim=claim_id, kind=then.kind, status=then.status,
            citation=then.claim["citation"], said=then.claim.get("said"),
            attributed_to=then.claim.get("attributed_to"))
    if not sees_suppressed(viewer):
        for claim_id in claims_model.suppressed_claims(conn, list(linked)):
            del linked[claim_id]
    by_denied = denials(pairs)
    for v in views:
        v.denied_by = [linked[c] for c in by_denied.get(v.id, ()) if c in linked]
        if isinstance(v.claim.get("denies"), str):
            v.denied = linked.get(v.claim["denies"], claims_model.Linked(claim=v.claim["denies"]))


def replayed(conn: Connection, ids: list[str], position: int,
             viewer: Viewer, statuses: Sequence[str]) -> list[ClaimView]:
    """Return the claims `ids` (and corrections of them) as they stood after log `position`,
    from the claims read model (their rows and review history up to it: a few set-based
    queries, no stream read), those `viewer` may see among `statuses`; suppressed as now."""
    then = claims_model.claims_as_of(
        conn, [*ids, *claims_model.successors_of(conn, ids, position)], position)
    successor = successors((c.claim["supersedes"], c.status, c.position, cid)
                           for cid, c in then.items()
                           if c.claim.get("supersedes"))  # the rule as it stood then
    views = []
    for claim_id in ids:
        if (c := then.get(claim_id)) is None:
            continue
        if not shown(viewer, c.status, c.contributor, statuses):
            continue
        views.append(ClaimView(id=claim_id, kind=c.kind, status=c.status,
                               contributor=c.contributor, version=c.version,
                               position=c.position, claim=c.claim, dates=c.dates,
                               superseded_by=successor.get(claim_id), rank=c.rank,
                               rank_reason=c.rank_reason, length=c.length,
                               dispute=c.dispute if c.status == "disputed" else None,
                               rank_citation=c.rank_citation))
    # the suppressions in force now, never those of then: a take-down reaches every replay
    suppressed = claims_model.suppressed_claims(conn, [v.id for v in views])
    for view in views:
        view.suppressed = suppressed.get(view.id)
    return views


def read_as_of(conn: Connection, person_id: str, position: int,
               recorded_at: str | None, viewer: Viewer, statuses: Sequence[str]) -> Document | None:
    """Return the biography as the archive stood after log `position`: the person's claims
    (and corrections of them) as their review history left them by then (`replayed`: the
    claims read model's rows, never a stream nor the whole log), and the statements about the
    groups their memberships of then name. None when the person was not registered then."""
    found = registry.entity(conn, "person", person_id)
    if found is None or found[3] > position:
        return None
    alive, merged = registry.group_as_of(conn, person_id, position)
    group = [alive, *merged]
    ids = claims_model.claim_ids_of(conn, group, position)
    views = replayed(conn, ids, position, viewer, statuses)
    groups = sorted(memberships_of(views, set(group)))  # their groups' statements, as of then
    group_views = [v for v in replayed(conn, claims_model.claim_ids_of(conn, groups, position),
                                       position, viewer, statuses)
                   if v.claim.get("group") in groups] if groups else []
    links_as_of(conn, views, position, viewer, statuses)
    links_as_of(conn, group_views, position, viewer, statuses)
    labels = labels_of(conn, referenced(views) | referenced(group_views) | set(group))
    person = registry.entity(conn, "person", alive)
    assert person is not None
    bio = assemble(person, views, labels, merged, AsOf(position=position, recorded_at=recorded_at),
                   viewer, registry.suppression_of(conn, alive), group_views=group_views)
    if alive != person_id:
        bio = msgspec.structs.replace(bio, requested=person_id)
    return _document(bio)
