"""The archive's properties: the typed vocabulary of statements and qualifiers (listing, reading,
and an admin's registration of a new one, usable at once)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, Response, get, post
from litestar.openapi.spec import Example
from litestar.params import Body, FromPath

from starosta.events.errors import NotFound
from starosta.events.properties import PropertySpec
from starosta.events.store import Connection
from starosta.projections import registry
from starosta.projections.registry import PropertyList, PropertyOut, property_out
from starosta.service.api import auth
from starosta.service.api.common import commit, decided, off_loop
from starosta.service.domain import commands
from starosta.service.domain.replies import Created


def list_properties(conn: Connection) -> PropertyList:
    return PropertyList([property_out(p) for p in registry.properties(conn)])


def read_property(conn: Connection, ref: str) -> PropertyOut:
    found = registry.property_of(conn, ref)
    if found is None:
        raise NotFound("property", ref, "property", "path")
    return property_out(found)


PROPERTY_EXAMPLES = [
    Example(summary="an external identifier", value={
        "key": "gulag_museum_id", "label": "Gulag History Museum record", "datatype": "external_id",
        "description": "A record of the Gulag History Museum's database", "single": True,
        "applies_to": ["person"], "url_pattern": "https://example.org/person/$1",
        "pattern": "[0-9]+"}),
    Example(summary="an entity property", value={
        "key": "place_of_exile", "label": "place of exile", "datatype": "entity",
        "entity_kinds": ["place"], "applies_to": ["person"]}),
    Example(summary="a quantity", value={
        "key": "weight_of_ration", "label": "ration", "datatype": "quantity", "unit": "grams",
        "description": "A daily bread ration as the source gives it"}),
]


class PropertyController(Controller):
    path = "/properties"
    tags = ["properties"]

    @post("/", guards=[auth.admin], summary="Register a property (admin)", status_code=201)
    async def register(self, request: Request,
                       data: Annotated[PropertySpec, Body(examples=PROPERTY_EXAMPLES)]) -> Response[Created]:
        """A new property of the vocabulary, usable at once by statements and qualifiers; its
        `key` is fixed and unique (409 when taken). 422 names a field that does not fit its
        datatype (a URL pattern on a string property, an entity property without kinds)."""
        return await commit(request, await decided(request, commands.register_property, data))

    @get("/", summary="Every property: the seeded vocabulary, then those admins registered")
    async def list(self, request: Request) -> PropertyList:
        return await off_loop(request, list_properties)

    @get("/{ref:str}", summary="A property by id (PR-...) or key")
    async def read(self, request: Request, ref: FromPath[str]) -> PropertyOut:
        return await off_loop(request, read_property, ref)
