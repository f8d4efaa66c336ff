"""Registering and reading entities: sources, persons, places, organisations, funds, and searching their names."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.openapi.spec import Example
from litestar.params import Body, FromPath, Parameter
from msgspec import Meta

from starosta.events.kinds import Citation, NameKind, NameParts
from starosta.events.registry import (
    ArchiveRef,
    ExternalIds,
    FundRegistered,
    Identification,
    OrganizationKind,
    OrganizationRegistered,
    PersonRegistered,
    PlaceKind,
    PlaceRegistered,
    SourceRegistered,
    SourceType,
)
from starosta.events.errors import Conflict, NotFound
from starosta.projections import claims as claims_model
from starosta.events.descent import DEPTH
from starosta.projections import descent, groups, registry, search
from starosta.projections.descent import Kin
from starosta.projections.claims import CitingClaim, NameOut, OrganizationPerson, SourceLink
from starosta.projections.groups import GroupStep, Member
from starosta.projections.search import SearchPage
from starosta.projections.registry import SUPPRESSED_LABEL, Identified, Suppression
from starosta.projections.rules import Viewer, sees_suppressed
from starosta.service.api import auth, common
from starosta.service.domain import commands
from starosta.service.domain.replies import Created, SuppressionSet
from starosta.service.api.claims import (
    SUPPRESS_DOC,
    SUPPRESS_EXAMPLES,
    UNSUPPRESS_DOC,
    UNSUPPRESS_EXAMPLES,
    SuppressIn,
    set_suppression,
)
from starosta.service.api.common import (Cursor, Limit, archive_of, commit, cursor, decided,
                                         decide_and_commit, number, off_loop, paged, viewer, who)
from starosta.service.domain.commands import invalid
from starosta.service.domain.csl import check_csl, within_bounds
from starosta.events.store import ConcurrencyError, Connection

Name = Annotated[str, Meta(min_length=1, max_length=300)]
Query = Annotated[str | None, Parameter(max_length=256, description="Any name variant, any script, "
                                        "case- and accent-insensitive; words in any order: exact words "
                                        "first, then prefixes, then other transliterations (Монклюс, "
                                        "Marcinkiewicz) and typos; or an external identifier, exactly")]


ORDER_DOC = ("surname: by the surname of the person's preferred, else earliest, approved name "
             "claim with parts (accents and case aside, Cyrillic among Latin by transliteration); "
             "persons without a surname after, by label")


def _example(summary: str, value: dict) -> list[Example]:
    return [Example(summary=summary, value=value)]


# -- request bodies ----------------------------------------------------------------------

class SourceIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A CSL-JSON item (what Zotero and citeproc write; valid by the CSL schema, `id` optional,
    no title needed), with its transmission."""

    csl: Annotated[dict[Annotated[str, Meta(max_length=100)], Any], Meta(max_length=200)]
    note: Annotated[str, Meta(max_length=20000)] | None = None
    source_type: SourceType = "other"
    archive: ArchiveRef | None = None
    via: Annotated[tuple[Annotated[str, Meta(min_length=1, max_length=500)], ...],
                   Meta(max_length=50)] = ()
    synthetic: bool = False


# Ids of existing records the new one is not (an answer to 409 /problems/possible-duplicate)
NotSameAs = Annotated[tuple[Annotated[str, Meta(min_length=1, max_length=64)], ...], Meta(
    max_length=50, description="Ids of existing records of the same kind that this new record is "
    "NOT, although its name looks like theirs: the `candidates` of a 409 "
    "`/problems/possible-duplicate` answer. A registration whose name (or alias) looks like an "
    "existing record's label or public name (the same Unicode TR39 skeleton of its case-folded "
    "form) is refused with that 409 unless every candidate is named here.")]


class _Named(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Name
    citation: Citation
    said: Annotated[str, Meta(max_length=20000)] | None = None
    note: Annotated[str, Meta(max_length=20000)] | None = None
    synthetic: bool = False
    not_same_as: NotSameAs = ()


class PersonIn(_Named, kw_only=True):
    """A person under a name as a source gives it; `partial` for 'N. (Central Russia)'."""

    name_kind: NameKind = "variant"
    script: Annotated[str, Meta(pattern=r"^[A-Z][a-z]{3}$", max_length=4)] | None = None
    parts: NameParts | None = None
    partial: bool = False
    external_ids: ExternalIds = {}


class PlaceIn(_Named, kw_only=True):
    """A place with a kind, aliases, a parent region, coordinates and an identification."""

    kind: PlaceKind
    aliases: Annotated[tuple[Name, ...], Meta(max_length=200)] = ()
    parent: Annotated[str, Meta(max_length=64)] | None = None
    latitude: Annotated[float, Meta(ge=-90, le=90)] | None = None
    longitude: Annotated[float, Meta(ge=-180, le=180)] | None = None
    coordinates_source: Annotated[str, Meta(min_length=1, max_length=500)] | None = None
    identification: Identification | None = None
    external_ids: ExternalIds = {}


class LocationIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A place's coordinates (WGS 84 decimal degrees) and where they come from."""

    latitude: Annotated[float, Meta(ge=-90, le=90)]
    longitude: Annotated[float, Meta(ge=-180, le=180)]
    coordinates_source: Annotated[str, Meta(min_length=1, max_length=500)]


class OrganizationIn(_Named, kw_only=True):
    """An aid body, committee, colony of exiles, movement, union, party or repressive organ."""

    kind: OrganizationKind
    parent: Annotated[str, Meta(max_length=64)] | None = None
    external_ids: ExternalIds = {}


class FundIn(_Named, kw_only=True):
    """An aid fund whose money is tracked as a ledger, perhaps run by an organisation."""

    organization: Annotated[str, Meta(max_length=64)] | None = None


# -- responses ----------------------------------------------------------------------------

class EntityOut(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A registered entity: its label, registration data and its names. `suppressed`: an
    admin's take-down in force (when and why); readers then get the id, the type and the
    take-down only (label "[suppressed]", `data` and `names` empty)."""

    id: str
    type: str
    label: str
    data: dict[str, Any]
    names: list[NameOut] = []
    merged_from: list[str] = []
    requested: str | None = None
    distinct_from: list[str] = []
    identified_with: list[Identified] = []
    suppressed: Suppression | None = None


class OrganizationOut(EntityOut, kw_only=True, omit_defaults=True):
    """An organisation; a group or colony (a group of people) also with its `members`
    (persons with approved membership claims of it) and its own `timeline` (its approved
    custody, presence, transfer, arrest, release, escape and protest claims naming it as
    `group`, in date order)."""

    members: list[Member] | None = None
    timeline: list[GroupStep] | None = None
    people: Annotated[list[OrganizationPerson], Meta(description="Every organisation's members and affiliates (membership and affiliation claims naming it as `organization`), with spans and certainties, oldest claim first; paged by `people_after`/`people_limit`")] = []
    people_next: Annotated[str | None, Meta(description="The `people_after` of the next page of `people`; null on the last")] = None


class SourceOut(msgspec.Struct, kw_only=True):
    """A source and (up to 100 of) the claims citing it; more through GET /claims?source=ID.
    `derives_from`: the sources approved citations say it is a translation of, a quotation
    from, a reprint or an excerpt of (their `via` links); `derived`: those that derive from it."""

    id: str
    label: str
    source_type: str
    data: dict[str, Any]
    claims: list[CitingClaim]
    claims_next: str | None
    derives_from: list[SourceLink] = []
    derived: list[SourceLink] = []
    suppressed: Suppression | None = None  # as for EntityOut: readers get no label and no data
    ancestors: Annotated[list[Kin], Meta(description=(
        "Every source this one derives from through approved links (derivation claims and "
        "citations' `via` links), transitively within `descent_depth` links, nearest first"),
        examples=[[{"source": {"id": "S-00000002", "label": "A reprint (example)"}, "depth": 1,
                    "relation": "translation_of",
                    "through": {"id": "S-00000003", "label": "A translation (example)"}},
                   {"source": {"id": "S-00000001", "label": "A memoir (example)"}, "depth": 2,
                    "relation": "reprint_of",
                    "through": {"id": "S-00000002", "label": "A reprint (example)"}}]])] = []
    descendants: Annotated[list[Kin], Meta(description=(
        "Every source that derives from this one through approved links, transitively within "
        "`descent_depth` links, nearest first"),
        examples=[[{"source": {"id": "S-00000002", "label": "A reprint (example)"}, "depth": 1,
                    "relation": "reprint_of",
                    "through": {"id": "S-00000001", "label": "A memoir (example)"}}]])] = []
    descent_depth: Annotated[int, Meta(description=(
        "How many links `ancestors` and `descendants` follow at most (independence of "
        "witnesses is judged within the same depth)"), examples=[8])] = DEPTH


# -- shared helpers -------------------------------------------------------------------------

def name_fields(body: _Named, **extra: Any) -> dict[str, Any]:
    """The fields of the name claim a registration submits with its entity."""
    return {"name": body.name, "citation": body.citation, "said": body.said, "note": body.note,
            **extra}


async def register(request: Request, kind: str, make_event, refs: dict[str, tuple[str, str | None]],
                   name: dict[str, Any] | None, body: _Named | None = None,
                   check: Callable[[], None] | None = None) -> Response:
    """Decide a registration (service.domain.commands.register) and commit it: 201 {id, position,
    name_claim}. `body` (a named entity's, its names already through commands.fit_names)
    gives the aliases and `not_same_as` the look-alike check reads. `check`, a check of the
    body too costly for the event loop (a source's CSL item: check_csl), runs first, in the
    same decider thread."""
    principal = who(request)

    def decide(conn: Connection):
        if check is not None:
            check()
        return commands.register(conn, kind, make_event, refs, principal, name,
                                 aliases=getattr(body, "aliases", ()),
                                 not_same_as=body.not_same_as if body is not None else ())
    decision = await decided(request, decide)
    return await commit(request, decision)


def shown_record(conn: Connection, found: tuple[str, str, dict, int],
                 reader: Viewer) -> tuple[str, dict[str, Any], Suppression | None]:
    """Return (label, registration data, take-down) of an entity as `reader` sees it: a
    suppressed entity's label and data only for those who may read suppressed content."""
    taken = registry.suppression_of(conn, found[0])
    if taken is not None and not sees_suppressed(reader):
        return SUPPRESSED_LABEL, {}, taken
    return found[1], found[2], taken


def read_entity(conn: Connection, kind: str, entity_id: str, reader: Viewer) -> EntityOut:
    """Return a place, organisation or fund with the names `reader` may see; a merged place or
    organisation answers as a merged person does (read_person)."""
    if kind in ("place", "organization"):
        return read_person(conn, entity_id, reader, kind)
    found = registry.entity(conn, kind, entity_id)
    if found is None:
        raise NotFound(f"{kind}_id", entity_id, kind)
    label, data, taken = shown_record(conn, found, reader)
    return EntityOut(id=found[0], type=kind, label=label, data=data, suppressed=taken,
                     names=claims_model.names_of(conn, kind, [entity_id], reader))


def read_organization(conn: Connection, organization_id: str, reader: Viewer,
                      people_after: int = 0, people_limit: int = 50) -> OrganizationOut:
    """Return an organisation with the names `reader` may see, a page of its members and
    affiliates (claims_model.organization_people: of it and the records merged into it); a
    group's members and timeline (projections.groups.group_answer)."""
    found = read_entity(conn, "organization", organization_id, reader)
    out = OrganizationOut(**msgspec.structs.asdict(found))
    out.people, out.people_next = claims_model.organization_people(
        conn, [found.id, *found.merged_from], after=people_after, limit=people_limit)
    answer = groups.group_answer(conn, found.id)  # a merged id: the survivor's
    if answer is not None:
        out.members, out.timeline = merged_group_answer(
            answer, [groups.group_answer(conn, m) for m in found.merged_from])
    return out


def merged_group_answer(survivor: tuple[list[Member], list[GroupStep]],
                        merged: list[tuple[list[Member], list[GroupStep]] | None]
                        ) -> tuple[list[Member], list[GroupStep]]:
    """Return a merged group's members and timeline: the survivor's with those of every record
    merged into it (issue 20), a member once (their claims together), the steps in date order
    (undated last; ties in the survivor-first order of the records)."""
    if not any(merged):
        return survivor
    members: dict[str, Member] = {}
    steps: list[GroupStep] = []
    for answer in (survivor, *merged):
        if answer is None:
            continue
        for m in answer[0]:
            if m.id in members:
                members[m.id].claims.extend(c for c in m.claims if c not in members[m.id].claims)
            else:
                members[m.id] = Member(id=m.id, label=m.label, claims=list(m.claims))
        steps.extend(answer[1])
    steps.sort(key=lambda s: (s.earliest is None, s.earliest or date.min,
                              s.latest is None, s.latest or date.max))
    return sorted(members.values(), key=lambda m: (m.label, m.id)), steps


def read_person(conn: Connection, person_id: str, reader: Viewer,
                kind: str = "person") -> EntityOut:
    """Return a person (place, organisation) record; a merged id answers with the survivor's
    record, its `id`, and `merged_from`; `identified_with` lists the identifications in force."""
    if not registry.exists(conn, kind, person_id):
        raise NotFound(f"{kind}_id", person_id, kind)
    records, judgements, _ = registry.identity_tables(kind)
    group = registry.merge_group(conn, person_id, records)
    found = registry.entity(conn, kind, group[0])
    assert found is not None
    label, data, taken = shown_record(conn, found, reader)
    return EntityOut(id=found[0], type=kind, label=label, data=data, suppressed=taken,
                     names=claims_model.names_of(conn, kind, group, reader),
                     merged_from=group[1:], requested=person_id if person_id != group[0] else None,
                     distinct_from=registry.distinct_from(conn, group, judgements, kind),
                     identified_with=registry.identifications_of(conn, kind, group))


def read_source(conn: Connection, source_id: str, reader: Viewer) -> SourceOut:
    """Return a source and the first 100 claims citing it that `reader` may see."""
    found = registry.entity(conn, "source", source_id)
    if found is None:
        raise NotFound("source_id", source_id, "source")
    citing, more = claims_model.citing(conn, source_id, reader)
    links = claims_model.derivation(conn, source_id)
    kin = descent.descent(conn, source_id)
    label, data, taken = shown_record(conn, found, reader)
    return SourceOut(id=found[0], label=label, source_type=found[2].get("source_type", "other"),
                     data=data, claims=citing, suppressed=taken,
                     claims_next=f"/claims?source={source_id}" if more else None,
                     derives_from=links.derives_from, derived=links.derived,
                     ancestors=kin.ancestors, descendants=kin.descendants, descent_depth=kin.depth)


# -- controllers -------------------------------------------------------------------------------

class SourceController(Controller):
    path = "/sources"
    tags = ["registry"]

    @post("/", guards=[auth.contributor], summary="Register a source (CSL-JSON)", status_code=201,
          opt={common.BODY_CHECK: lambda data: within_bounds(data.csl)})
    async def register(self, request: Request, data: Annotated[SourceIn, Body(examples=_example(
            "A book cited by the seed texts", {"csl": {"type": "book", "title": "The Guillotine at Work",
                                                        "author": [{"family": "Maximoff", "given": "G. P."}],
                                                        "issued": {"date-parts": [[1940]]}},
                                                "source_type": "secondary_work"}))]) -> Response[Created]:
        """Registers a source at once, public. `csl` is any valid CSL-JSON item (the CSL
        schema; `id` aside, which the archive assigns): titles are not required (letters,
        interviews, archive files). Its label is the title, else the container, the archive
        reference, the authors, and the date. The item is held to bounds (at most 1,000
        names in all its name lists, 100 items in any other list, 200 keys in an object,
        20,000 characters in a string, 6 levels of nesting, 5,000 values in all: 422 naming
        the path and the bound) and checked in a decider thread, never on the event loop."""
        return await register(request, "source", lambda source_id: SourceRegistered(
            source_id=source_id, csl=data.csl, note=data.note, source_type=data.source_type,
            archive=data.archive, via=data.via, synthetic=data.synthetic), {}, None,
            check=lambda: check_csl(data.csl))

    @get("/{source_id:str}", summary="A source and the claims citing it")
    async def read(self, request: Request, source_id: FromPath[str]) -> SourceOut:
        """Anyone sees approved claims; reviewers and contributors also see what they may."""
        return await off_loop(request, read_source, source_id, viewer(request))

    @post("/{source_id:str}/suppress", guards=[auth.admin], status_code=200, description=SUPPRESS_DOC,
          summary="Suppress a source: take its label and names down from readers, with a reason")
    async def suppress(self, request: Request, source_id: FromPath[str], data: Annotated[SuppressIn | None, Body(examples=SUPPRESS_EXAMPLES)] = None) -> Response[SuppressionSet]:
        return await set_suppression(request, "source", source_id, data, True)

    @post("/{source_id:str}/unsuppress", guards=[auth.admin], status_code=200,
          summary="Unsuppress a source, with a reason", description=UNSUPPRESS_DOC)
    async def unsuppress(self, request: Request, source_id: FromPath[str], data: Annotated[SuppressIn | None, Body(examples=UNSUPPRESS_EXAMPLES)] = None) -> Response[SuppressionSet]:
        return await set_suppression(request, "source", source_id, data, False)


class PersonController(Controller):
    path = "/persons"
    tags = ["registry"]

    @post("/", guards=[auth.contributor], summary="Register a person", status_code=201,
          opt={"duplicates": True})
    async def register(self, request: Request, data: Annotated[PersonIn, Body(examples=_example(
            "A person as a source names him", {"name": "Vicente Monclús Guallar", "name_kind": "birth",
                                                "parts": {"given": "Vicente", "surname": "Monclús Guallar"},
                                                "citation": {"source": "S-00000001", "locator": "para. 3"}}))]) -> Response[Created]:
        """Creates the person at once, public, labelled with the name; the name is also
        submitted as a pending name claim (`name_claim` in the answer). The name is stored in
        NFC, spaces collapsed and trimmed; a name with bidi controls, a BOM, more than 3
        combining marks in a row or nothing visible is 422. A name that looks like an existing
        person's is 409 `/problems/possible-duplicate` with the `candidates`, unless
        `not_same_as` names them all."""
        data = commands.fit_names(data)
        return await register(
            request, "person",
            lambda person_id: PersonRegistered(person_id=person_id, label=data.name, partial=data.partial,
                                               external_ids=data.external_ids, synthetic=data.synthetic),
            {}, name_fields(data, name_kind=data.name_kind, script=data.script,
                            parts=commands.fit_parts(data.parts)), data)

    @get("/", summary="Search persons by any name variant, or list them (by surname with order=surname)")
    async def find(self, request: Request, q: Query = None, after: Cursor = None, limit: Limit = 20,
                   order: Annotated[Literal["surname"] | None, Parameter(
                       description=ORDER_DOC, examples=[Example(summary="by surname", value="surname")])] = None,
                   ) -> SearchPage:
        """'Спиридонова', 'Spiridonova' and 'spiridónova' find the same person. `order=surname`
        lists them (or what `q` finds) by the surname of their name claims given in parts,
        each hit with its `surname`; persons without one come after, by label."""
        return await paged(request, limit, search.find, "person", q, cursor(after), limit, order)

    @get("/{person_id:str}", summary="A person record with its names")
    async def read(self, request: Request, person_id: FromPath[str]) -> EntityOut:
        """A merged id answers with the survivor's record, its `id`, and `merged_from`;
        `identified_with`: the records a reviewer judged it possibly the same as."""
        return await off_loop(request, read_person, person_id, viewer(request))

    @post("/{person_id:str}/suppress", guards=[auth.admin], status_code=200, description=SUPPRESS_DOC,
          summary="Suppress a person: take its label and names down from readers, with a reason")
    async def suppress(self, request: Request, person_id: FromPath[str], data: Annotated[SuppressIn | None, Body(examples=SUPPRESS_EXAMPLES)] = None) -> Response[SuppressionSet]:
        return await set_suppression(request, "person", person_id, data, True)

    @post("/{person_id:str}/unsuppress", guards=[auth.admin], status_code=200,
          summary="Unsuppress a person, with a reason", description=UNSUPPRESS_DOC)
    async def unsuppress(self, request: Request, person_id: FromPath[str], data: Annotated[SuppressIn | None, Body(examples=UNSUPPRESS_EXAMPLES)] = None) -> Response[SuppressionSet]:
        return await set_suppression(request, "person", person_id, data, False)


class PlaceController(Controller):
    path = "/places"
    tags = ["registry"]

    @post("/", guards=[auth.contributor], summary="Register a place", status_code=201,
          opt={"duplicates": True})
    async def register(self, request: Request, data: Annotated[PlaceIn, Body(examples=_example(
            "A prison with the seed's spellings", {"name": "Butyrka", "kind": "prison",
                                                   "aliases": ["Butyrki", "Butiskaya [Butyrskaya]"],
                                                   "citation": {"source": "S-00000001"}}))]) -> Response[Created]:
        """Creates the place at once, public; its name is also submitted as a name claim.
        Its name and aliases follow the rules of person names (422 and 409
        `/problems/possible-duplicate`: see `POST /persons`)."""
        data = commands.fit_names(data)
        if (data.latitude is None) != (data.longitude is None):
            raise invalid("latitude", data.latitude, "give both latitude and longitude, or neither")
        if data.coordinates_source is not None and data.latitude is None:
            raise invalid("coordinates_source", data.coordinates_source,
                          "a source of coordinates needs the coordinates (latitude and longitude)")
        return await register(
            request, "place",
            lambda place_id: PlaceRegistered(
                place_id=place_id, label=data.name, kind=data.kind, aliases=data.aliases,
                parent=data.parent, latitude=data.latitude, longitude=data.longitude,
                coordinates_source=data.coordinates_source, identification=data.identification,
                external_ids=data.external_ids, synthetic=data.synthetic),
            {"parent": ("place", data.parent)}, name_fields(data), data)

    @post("/{place_id:str}/location", guards=[auth.reviewer], status_code=201,
          summary="Set a place's coordinates, with where they come from (reviewer)")
    async def locate(self, request: Request, place_id: FromPath[str], data: Annotated[LocationIn, Body(
            examples=_example("The modern prison's coordinates", {
                "latitude": 55.78, "longitude": 37.59,
                "coordinates_source": "GeoNames: the present-day prison"}))]) -> Response[Created]:
        """Reviewers and admins; 201 `{"id", "position"}` (a new location of the place's
        stream). Coordinates are geography (a gazetteer, a map), not a claim
        about the past: they are not reviewed, and the latest set is what GET /places/{id}
        shows in `data` (`latitude`, `longitude`, `coordinates_source`); the place's stream
        keeps every one. A merged record's go to its survivor (the answer's `id`). 409 when
        the place changed while this was decided."""
        try:
            return await decide_and_commit(request, lambda: commands.locate_place(
                archive_of(request).store, place_id, data.latitude, data.longitude,
                data.coordinates_source, who(request)))
        except ConcurrencyError:
            raise Conflict(f"place {place_id} changed while its coordinates were decided: "
                           "reload it and decide again") from None

    @get("/", summary="Search places by name or alias")
    async def find(self, request: Request, q: Query = None, after: Cursor = None, limit: Limit = 20) -> SearchPage:
        """'Butyrki' and 'Butyrka' find the same prison."""
        return await paged(request, limit, search.find, "place", q, cursor(after), limit)

    @get("/{place_id:str}", summary="A place with its names")
    async def read(self, request: Request, place_id: FromPath[str]) -> EntityOut:
        return await off_loop(request, read_entity, "place", place_id, viewer(request))

    @post("/{place_id:str}/suppress", guards=[auth.admin], status_code=200, description=SUPPRESS_DOC,
          summary="Suppress a place: take its label and names down from readers, with a reason")
    async def suppress(self, request: Request, place_id: FromPath[str], data: Annotated[SuppressIn | None, Body(examples=SUPPRESS_EXAMPLES)] = None) -> Response[SuppressionSet]:
        return await set_suppression(request, "place", place_id, data, True)

    @post("/{place_id:str}/unsuppress", guards=[auth.admin], status_code=200,
          summary="Unsuppress a place, with a reason", description=UNSUPPRESS_DOC)
    async def unsuppress(self, request: Request, place_id: FromPath[str], data: Annotated[SuppressIn | None, Body(examples=UNSUPPRESS_EXAMPLES)] = None) -> Response[SuppressionSet]:
        return await set_suppression(request, "place", place_id, data, False)


class OrganizationController(Controller):
    path = "/organizations"
    tags = ["registry"]

    @post("/", guards=[auth.contributor], summary="Register an organisation", status_code=201,
          opt={"duplicates": True})
    async def register(self, request: Request, data: Annotated[OrganizationIn, Body(examples=_example(
            "An aid body", {"name": "Joint Committee for the Defense of Revolutionists Imprisoned in Russia",
                            "kind": "committee", "citation": {"source": "S-00000001"}}))]) -> Response[Created]:
        """Its name follows the rules of person names (422 and 409
        `/problems/possible-duplicate`: see `POST /persons`)."""
        data = commands.fit_names(data)
        return await register(
            request, "organization",
            lambda org_id: OrganizationRegistered(
                organization_id=org_id, label=data.name, kind=data.kind, parent=data.parent,
                external_ids=data.external_ids, synthetic=data.synthetic),
            {"parent": ("organization", data.parent)}, name_fields(data), data)

    @get("/", summary="Search organisations by name")
    async def find(self, request: Request, q: Query = None, after: Cursor = None, limit: Limit = 20) -> SearchPage:
        return await paged(request, limit, search.find, "organization", q, cursor(after), limit)

    @get("/{organization_id:str}", summary="An organisation with its names; a group's members and timeline")
    async def read(self, request: Request, organization_id: FromPath[str],
                   people_after: Annotated[str | None, Parameter(
                       description="The `people_next` of the previous page of `people`",
                       max_length=100, pattern=r"^[0-9]{1,18}$",
                       examples=[Example(summary="the next page", value="412")])] = None,
                   people_limit: Annotated[int, Parameter(
                       ge=1, le=1000, description="Page size of `people` (1-1000)",
                       examples=[Example(summary="ten at a time", value=10)])] = 50) -> OrganizationOut:
        """`people`: its members and affiliates (membership and affiliation claims naming it),
        with spans and certainties, paged. A group or colony also shows `members` (persons with
        approved membership claims of it) and `timeline` (its approved claims naming it as
        `group`, in date order)."""
        return await off_loop(request, read_organization, organization_id, viewer(request),
                              number(people_after, "people_after", "query") if people_after else 0,
                              people_limit)

    @post("/{organization_id:str}/suppress", guards=[auth.admin], status_code=200, description=SUPPRESS_DOC,
          summary="Suppress a organization: take its label and names down from readers, with a reason")
    async def suppress(self, request: Request, organization_id: FromPath[str], data: Annotated[SuppressIn | None, Body(examples=SUPPRESS_EXAMPLES)] = None) -> Response[SuppressionSet]:
        return await set_suppression(request, "organization", organization_id, data, True)

    @post("/{organization_id:str}/unsuppress", guards=[auth.admin], status_code=200,
          summary="Unsuppress a organization, with a reason", description=UNSUPPRESS_DOC)
    async def unsuppress(self, request: Request, organization_id: FromPath[str], data: Annotated[SuppressIn | None, Body(examples=UNSUPPRESS_EXAMPLES)] = None) -> Response[SuppressionSet]:
        return await set_suppression(request, "organization", organization_id, data, False)


class FundController(Controller):
    path = "/funds"
    tags = ["registry"]

    @post("/", guards=[auth.contributor], summary="Register an aid fund", status_code=201,
          opt={"duplicates": True})
    async def register(self, request: Request, data: Annotated[FundIn, Body(examples=_example(
            "A fund", {"name": "Relief Fund of the IWMA", "citation": {"source": "S-00000001"}}))]) -> Response[Created]:
        """Its name follows the rules of person names (422 and 409
        `/problems/possible-duplicate`: see `POST /persons`)."""
        data = commands.fit_names(data)
        return await register(
            request, "fund",
            lambda fund_id: FundRegistered(fund_id=fund_id, label=data.name,
                                           organization=data.organization, synthetic=data.synthetic),
            {"organization": ("organization", data.organization)}, name_fields(data), data)

    @get("/", summary="Search funds by name")
    async def find(self, request: Request, q: Query = None, after: Cursor = None, limit: Limit = 20) -> SearchPage:
        return await paged(request, limit, search.find, "fund", q, cursor(after), limit)

    @get("/{fund_id:str}", summary="A fund with its names")
    async def read(self, request: Request, fund_id: FromPath[str]) -> EntityOut:
        return await off_loop(request, read_entity, "fund", fund_id, viewer(request))

    @post("/{fund_id:str}/suppress", guards=[auth.admin], status_code=200, description=SUPPRESS_DOC,
          summary="Suppress a fund: take its label and names down from readers, with a reason")
    async def suppress(self, request: Request, fund_id: FromPath[str], data: Annotated[SuppressIn | None, Body(examples=SUPPRESS_EXAMPLES)] = None) -> Response[SuppressionSet]:
        return await set_suppression(request, "fund", fund_id, data, True)

    @post("/{fund_id:str}/unsuppress", guards=[auth.admin], status_code=200,
          summary="Unsuppress a fund, with a reason", description=UNSUPPRESS_DOC)
    async def unsuppress(self, request: Request, fund_id: FromPath[str], data: Annotated[SuppressIn | None, Body(examples=UNSUPPRESS_EXAMPLES)] = None) -> Response[SuppressionSet]:
        return await set_suppression(request, "fund", fund_id, data, False)
