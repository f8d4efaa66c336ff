"""Registering and reading sources, persons, places, organisations and funds."""

from __future__ import annotations

import sqlite3
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.openapi.spec import Example
from litestar.params import Body, FromPath, Parameter
from msgspec import Meta

from starosta.events.kinds import Citation, NameClaim, NameKind
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
from starosta.events.review import ClaimSubmitted
from starosta.events.store import AppendRequest, NewEvent
from starosta.projections.registry import merged_records as merged_into, survivor
from starosta.projections.search import search
from starosta.service import auth
from starosta.service.api.common import Created, Cursor, Limit, archive_of, cursor, who
from starosta.service.commands import check_dates, invalid, require, with_script
from starosta.service.errors import ApiError
from starosta.service.ids import new_id

Name = Annotated[str, Meta(min_length=1, max_length=300)]
Query = Annotated[str | None, Parameter(max_length=256, description="Any name variant, any script, "
                                        "case- and accent-insensitive; words match as prefixes")]


def _example(summary: str, value: dict) -> list[Example]:
    return [Example(summary=summary, value=value)]


# -- request bodies ----------------------------------------------------------------------

class SourceIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A CSL-JSON item (what Zotero exports: needs `type` and `title`), with its transmission."""

    csl: dict[str, Any]
    note: Annotated[str, Meta(max_length=20000)] | None = None
    source_type: SourceType = "other"
    archive: ArchiveRef | None = None
    via: tuple[Annotated[str, Meta(min_length=1, max_length=500)], ...] = ()
    synthetic: bool = False


class _Named(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Name
    citation: Citation
    said: Annotated[str, Meta(max_length=20000)] | None = None
    note: Annotated[str, Meta(max_length=20000)] | None = None
    synthetic: bool = False


class PersonIn(_Named, kw_only=True):
    """A person under a name as a source gives it; `partial` for 'N. (Central Russia)'."""

    name_kind: NameKind = "variant"
    script: Annotated[str, Meta(pattern=r"^[A-Z][a-z]{3}$")] | None = None
    partial: bool = False
    external_ids: ExternalIds = {}


class PlaceIn(_Named, kw_only=True):
    """A place with a kind, aliases, a parent region, coordinates and an identification."""

    kind: PlaceKind
    aliases: tuple[Name, ...] = ()
    parent: Annotated[str, Meta(max_length=64)] | None = None
    latitude: Annotated[float, Meta(ge=-90, le=90)] | None = None
    longitude: Annotated[float, Meta(ge=-180, le=180)] | None = None
    identification: Identification | None = None
    external_ids: ExternalIds = {}


class OrganizationIn(_Named, kw_only=True):
    """An aid body, committee, colony of exiles, movement, union, party or repressive organ."""

    kind: OrganizationKind
    parent: Annotated[str, Meta(max_length=64)] | None = None
    external_ids: ExternalIds = {}


class FundIn(_Named, kw_only=True):
    """An aid fund whose money is tracked as a ledger, perhaps run by an organisation."""

    organization: Annotated[str, Meta(max_length=64)] | None = None


# -- responses ----------------------------------------------------------------------------

class NameOut(msgspec.Struct, kw_only=True, omit_defaults=True):
    name: str
    script: str | None = None
    name_kind: str | None = None
    claim: str | None = None
    status: str = "approved"


class EntityOut(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A registered entity: its label, registration data and its names."""

    id: str
    type: str
    label: str
    data: dict[str, Any]
    names: list[NameOut] = []
    merged_from: list[str] = []
    requested: str | None = None
    distinct_from: list[str] = []


class ClaimRef(msgspec.Struct, kw_only=True):
    id: str
    kind: str
    status: str
    locator: str | None


class SourceOut(msgspec.Struct, kw_only=True):
    """A source and (up to 100 of) the claims citing it; more through GET /claims?source=ID."""

    id: str
    label: str
    source_type: str
    data: dict[str, Any]
    claims: list[ClaimRef]
    claims_next: str | None


class SearchHit(msgspec.Struct, kw_only=True):
    id: str
    label: str
    matched: str | None


class SearchPage(msgspec.Struct):
    items: list[SearchHit]
    next: str | None


# -- shared helpers -------------------------------------------------------------------------

def name_claim_request(conn: sqlite3.Connection, body: _Named, field: str, entity_id: str,
                       contributor: str, **extra: Any) -> tuple[AppendRequest, str]:
    """Return the append submitting the registration name as a reviewable name claim."""
    require(conn, "source", body.citation.source, "citation.source")
    claim = with_script(NameClaim(name=body.name, citation=body.citation, said=body.said,
                                  note=body.note, **{field: entity_id}, **extra))
    claim_id = new_id("claim")
    event = ClaimSubmitted(claim_id=claim_id, contributor=contributor, claim=claim,
                           dates=check_dates(claim))
    return AppendRequest(claim_id, [NewEvent(event)], 0), claim_id


def names_of(conn: sqlite3.Connection, field: str, ids: list[str], principal: auth.Principal) -> list[NameOut]:
    """Return the name claims of entities, approved ones for all, others for who may see them."""
    placeholders = ",".join("?" * len(ids))
    rows = conn.execute(
        f"SELECT c.id, c.status, c.contributor, c.data FROM claim_refs r JOIN claims c "
        f"ON c.id = r.claim_id WHERE r.entity_id IN ({placeholders}) AND r.field = ? "
        f"AND c.kind = 'name' AND c.superseded_by IS NULL ORDER BY c.submitted_position",
        (*ids, field)).fetchall()
    out = []
    for claim_id, status, contributor, data in rows:
        if status != "approved" and not (principal.has("reviewer") or principal.name == contributor):
            continue
        if status in ("rejected", "retracted"):
            continue
        claim = msgspec.json.decode(data)["claim"]
        out.append(NameOut(name=claim["name"], script=claim.get("script"),
                           name_kind=claim.get("name_kind", "variant"), claim=claim_id, status=status))
    return out


def entity(conn: sqlite3.Connection, table: str, entity_id: str) -> tuple | None:
    return conn.execute(f"SELECT id, label, data FROM {table} WHERE id = ?", (entity_id,)).fetchone()


SEARCH_CAP = 1000  # entities a search ranks before paging (merged records fold into survivors)


def search_page(conn: sqlite3.Connection, kind: str, table: str, q: str | None, after: str | None,
                limit: int) -> SearchPage:
    """Search (or list, without q) entities of a kind, best first; merged persons answer as
    their survivors, each once across all pages."""
    offset = cursor(after)
    if q:
        ranked: dict[str, str | None] = {}
        for entity_id, matched in search(conn, kind, q, SEARCH_CAP):
            alive = survivor(conn, entity_id) if kind == "person" else entity_id
            ranked.setdefault(alive, matched)
        hits = list(ranked.items())[offset:offset + limit + 1]
    else:
        unmerged = " WHERE merged_into IS NULL" if kind == "person" else ""
        hits = [(r[0], None) for r in conn.execute(
            f"SELECT id FROM {table}{unmerged} ORDER BY position LIMIT ? OFFSET ?", (limit + 1, offset))]
    items = [SearchHit(id=entity_id, label=entity(conn, table, entity_id)[1], matched=matched)
             for entity_id, matched in hits[:limit]]
    return SearchPage(items, str(offset + limit) if len(hits) > limit else None)


def created(conn, envelopes, entity_id: str, claim_id: str | None = None) -> tuple[int, Created]:
    return 201, Created(id=entity_id, position=envelopes[0].position, name_claim=claim_id)


async def register_named(request: Request, data: _Named, kind: str, make_event, refs: dict[str, tuple[str, str | None]],
                         **name_fields: Any) -> Response:
    """Register an entity with its name submitted, atomically, as a pending name claim.

    `refs` maps body fields to (entity kind, id) that must exist (404 naming the field)."""
    archive, principal = archive_of(request), who(request)
    conn = archive.read()
    for field, (ref_kind, value) in refs.items():
        if value is not None:
            require(conn, ref_kind, value, field)
    entity_id = new_id(kind)
    claim_request, claim_id = name_claim_request(conn, data, kind, entity_id, principal.name or "",
                                                 **name_fields)
    return await archive.commit(
        request, principal, [AppendRequest(entity_id, [NewEvent(make_event(entity_id))], 0), claim_request],
        lambda conn, env: created(conn, env, entity_id, claim_id))


def read_named(request: Request, kind: str, table: str, entity_id: str) -> EntityOut:
    """Return a place, organisation or fund with the names the caller may see (404 if unknown)."""
    conn = archive_of(request).read()
    row = entity(conn, table, entity_id)
    if row is None:
        raise ApiError(404, "Not found", f"{kind}_id={entity_id!r}: no {kind} with that id")
    return EntityOut(id=row[0], type=kind, label=row[1], data=msgspec.json.decode(row[2]),
                     names=names_of(conn, kind, [entity_id], who(request)))


# -- controllers -------------------------------------------------------------------------------

class SourceController(Controller):
    path = "/sources"
    tags = ["registry"]

    @post("/", guards=[auth.contributor], summary="Register a source (CSL-JSON)", status_code=201)
    async def register(self, request: Request, data: Annotated[SourceIn, Body(examples=_example(
            "A book cited by the seed texts", {"csl": {"type": "book", "title": "The Guillotine at Work",
                                                        "author": [{"family": "Maximoff", "given": "G. P."}],
                                                        "issued": {"date-parts": [[1940]]}},
                                                "source_type": "secondary_work"}))]) -> Response:
        """Registers a source at once, public; its label is the CSL title."""
        for field in ("type", "title"):
            if not isinstance(data.csl.get(field), str) or not data.csl[field].strip():
                raise invalid(f"csl.{field}", data.csl.get(field),
                              f"a CSL-JSON item needs a non-empty string `{field}`")
        source_id = new_id("source")
        event = SourceRegistered(source_id=source_id, csl=data.csl, note=data.note,
                                 source_type=data.source_type, archive=data.archive, via=data.via,
                                 synthetic=data.synthetic)
        return await archive_of(request).commit(
            request, who(request), [AppendRequest(source_id, [NewEvent(event)], 0)],
            lambda conn, env: created(conn, env, source_id))

    @get("/{source_id:str}", summary="A source and the claims citing it")
    async def read(self, request: Request, source_id: FromPath[str]) -> SourceOut:
        """Anyone sees approved claims; reviewers and contributors also see what they may."""
        conn = archive_of(request).read()
        row = conn.execute("SELECT id, label, source_type, data FROM sources WHERE id = ?",
                           (source_id,)).fetchone()
        if row is None:
            raise ApiError(404, "Not found", f"source_id={source_id!r}: no source with that id")
        principal = who(request)
        claims = []
        rows = conn.execute("SELECT id, kind, status, contributor, data FROM claims WHERE source_id = ? "
                            "ORDER BY submitted_position LIMIT 101", (source_id,)).fetchall()
        for claim_id, kind, status, contributor, data in rows[:100]:
            if status == "approved" or principal.has("reviewer") or principal.name == contributor:
                locator = msgspec.json.decode(data)["claim"]["citation"].get("locator")
                claims.append(ClaimRef(id=claim_id, kind=kind, status=status, locator=locator))
        more = f"/claims?source={source_id}" if len(rows) > 100 else None
        return SourceOut(id=row[0], label=row[1], source_type=row[2],
                         data=msgspec.json.decode(row[3]), claims=claims, claims_next=more)


class PersonController(Controller):
    path = "/persons"
    tags = ["registry"]

    @post("/", guards=[auth.contributor], summary="Register a person", status_code=201)
    async def register(self, request: Request, data: Annotated[PersonIn, Body(examples=_example(
            "A person as a source names him", {"name": "Vicente Monclús Guallar", "name_kind": "birth",
                                                "citation": {"source": "S-00000001", "locator": "para. 3"}}))]) -> Response:
        """Creates the person at once, public, labelled with the name; the name is also
        submitted as a pending name claim (`name_claim` in the answer)."""
        return await register_named(
            request, data, "person",
            lambda person_id: PersonRegistered(person_id=person_id, label=data.name, partial=data.partial,
                                               external_ids=data.external_ids, synthetic=data.synthetic),
            {}, name_kind=data.name_kind, script=data.script)

    @get("/", summary="Search persons by any name variant")
    async def find(self, request: Request, q: Query = None, after: Cursor = None, limit: Limit = 20) -> SearchPage:
        """'Спиридонова', 'Spiridonova' and 'spiridónova' find the same person."""
        return search_page(archive_of(request).read(), "person", "persons", q, after, limit)

    @get("/{person_id:str}", summary="A person record with its names")
    async def read(self, request: Request, person_id: FromPath[str]) -> EntityOut:
        """A merged id answers with the survivor's record, its `id`, and `merged_from`."""
        conn = archive_of(request).read()
        if entity(conn, "persons", person_id) is None:
            raise ApiError(404, "Not found", f"person_id={person_id!r}: no person with that id")
        alive = survivor(conn, person_id)
        row = entity(conn, "persons", alive)
        group = [alive, *merged_into(conn, alive)]
        marks = ",".join("?" * len(group))
        distinct = [r[0] for r in conn.execute(
            f"SELECT other FROM person_judgements WHERE person_id IN ({marks}) AND judgement = 'distinct' "
            f"UNION SELECT person_id FROM person_judgements WHERE other IN ({marks}) "
            f"AND judgement = 'distinct'", (*group, *group))]
        return EntityOut(id=alive, type="person", label=row[1], data=msgspec.json.decode(row[2]),
                         names=names_of(conn, "person", group, who(request)),
                         merged_from=group[1:], requested=person_id if person_id != alive else None,
                         distinct_from=sorted(distinct))


class PlaceController(Controller):
    path = "/places"
    tags = ["registry"]

    @post("/", guards=[auth.contributor], summary="Register a place", status_code=201)
    async def register(self, request: Request, data: Annotated[PlaceIn, Body(examples=_example(
            "A prison with the seed's spellings", {"name": "Butyrka", "kind": "prison",
                                                   "aliases": ["Butyrki", "Butiskaya [Butyrskaya]"],
                                                   "citation": {"source": "S-00000001"}}))]) -> Response:
        """Creates the place at once, public; its name is also submitted as a name claim."""
        if (data.latitude is None) != (data.longitude is None):
            raise invalid("latitude", data.latitude, "give both latitude and longitude, or neither")
        return await register_named(
            request, data, "place",
            lambda place_id: PlaceRegistered(
                place_id=place_id, label=data.name, kind=data.kind, aliases=data.aliases,
                parent=data.parent, latitude=data.latitude, longitude=data.longitude,
                identification=data.identification, external_ids=data.external_ids,
                synthetic=data.synthetic),
            {"parent": ("place", data.parent)})

    @get("/", summary="Search places by name or alias")
    async def find(self, request: Request, q: Query = None, after: Cursor = None, limit: Limit = 20) -> SearchPage:
        """'Butyrki' and 'Butyrka' find the same prison."""
        return search_page(archive_of(request).read(), "place", "places", q, after, limit)

    @get("/{place_id:str}", summary="A place with its names")
    async def read(self, request: Request, place_id: FromPath[str]) -> EntityOut:
        return read_named(request, "place", "places", place_id)


class OrganizationController(Controller):
    path = "/organizations"
    tags = ["registry"]

    @post("/", guards=[auth.contributor], summary="Register an organisation", status_code=201)
    async def register(self, request: Request, data: Annotated[OrganizationIn, Body(examples=_example(
            "An aid body", {"name": "Joint Committee for the Defense of Revolutionists Imprisoned in Russia",
                            "kind": "committee", "citation": {"source": "S-00000001"}}))]) -> Response:
        return await register_named(
            request, data, "organization",
            lambda org_id: OrganizationRegistered(
                organization_id=org_id, label=data.name, kind=data.kind, parent=data.parent,
                external_ids=data.external_ids, synthetic=data.synthetic),
            {"parent": ("organization", data.parent)})

    @get("/", summary="Search organisations by name")
    async def find(self, request: Request, q: Query = None, after: Cursor = None, limit: Limit = 20) -> SearchPage:
        return search_page(archive_of(request).read(), "organization", "organizations", q, after, limit)

    @get("/{organization_id:str}", summary="An organisation with its names")
    async def read(self, request: Request, organization_id: FromPath[str]) -> EntityOut:
        return read_named(request, "organization", "organizations", organization_id)


class FundController(Controller):
    path = "/funds"
    tags = ["registry"]

    @post("/", guards=[auth.contributor], summary="Register an aid fund", status_code=201)
    async def register(self, request: Request, data: Annotated[FundIn, Body(examples=_example(
            "A fund", {"name": "Relief Fund of the IWMA", "citation": {"source": "S-00000001"}}))]) -> Response:
        return await register_named(
            request, data, "fund",
            lambda fund_id: FundRegistered(fund_id=fund_id, label=data.name,
                                           organization=data.organization, synthetic=data.synthetic),
            {"organization": ("organization", data.organization)})

    @get("/", summary="Search funds by name")
    async def find(self, request: Request, q: Query = None, after: Cursor = None, limit: Limit = 20) -> SearchPage:
        return search_page(archive_of(request).read(), "fund", "funds", q, after, limit)

    @get("/{fund_id:str}", summary="A fund with its names")
    async def read(self, request: Request, fund_id: FromPath[str]) -> EntityOut:
        return read_named(request, "fund", "funds", fund_id)

