"""The vocabulary of participant roles: listed for everyone, extended by admins at run time."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.openapi.spec import Example
from litestar.params import Body
from msgspec import Meta

from starosta.events.kinds import RoleKey
from starosta.projections import registry
from starosta.projections.registry import ParticipantRoles
from starosta.service.api import auth
from starosta.service.api.common import commit, decided, off_loop, who
from starosta.service.domain import commands
from starosta.service.domain.replies import Created


class ParticipantRoleIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A new participant role: its key (a slug, what claims' participants name), a label for
    readers and what it means."""

    key: RoleKey
    label: Annotated[str, Meta(min_length=1, max_length=100)]
    description: Annotated[str, Meta(min_length=1, max_length=1000)]


ROLE_EXAMPLES = [Example(summary="a new role", value={
    "key": "cellmate", "label": "cellmate",
    "description": "held in the same cell as the claim's person"})]


class ParticipantRoleController(Controller):
    path = "/participant-roles"
    tags = ["claims"]

    @get("/", summary="The participant roles: seeded ones first, then those admins added")
    async def list(self, request: Request) -> ParticipantRoles:
        """Every role a claim's participant may take (`key`), with its label and description;
        `seeded` for the roles every archive has (companion, witness, informant, author,
        recipient, correspondent, judge, interrogator, co_accused, encountered, other)."""
        return ParticipantRoles(await off_loop(request, registry.participant_roles))

    @post("/", guards=[auth.admin], summary="Add a participant role (admin)", status_code=201)
    async def add(self, request: Request, data: Annotated[ParticipantRoleIn, Body(
            examples=ROLE_EXAMPLES)]) -> Response[Created]:
        """Admin only. Answers 201 `{"id": key, "position"}`; 409 when the key exists already
        (seeded or added). A role is never removed: claims keep naming it."""
        return await commit(request, await decided(
            request, commands.add_participant_role, data.key, data.label, data.description,
            who(request)))
