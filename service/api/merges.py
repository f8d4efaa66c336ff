"""Reviewers' judgements on person records: merge, undo a merge, record 'not the same person'."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import msgspec
from litestar import Controller, Request, Response, post
from litestar.openapi.spec import Example
from litestar.params import Body, FromPath
from msgspec import Meta

from starosta.events.errors import Conflict
from starosta.events.kinds import Citation
from starosta.events.store import ConcurrencyError
from starosta.service.api import auth
from starosta.service.domain import commands
from starosta.service.api.common import archive_of, decide_and_commit, who
from starosta.service.domain.replies import Decision, Judged

Reason = Annotated[str, Meta(min_length=1, max_length=5000)]
PersonId = Annotated[str, Meta(min_length=1, max_length=64)]


class MergeIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    into: PersonId
    reason: Reason
    citation: Citation | None = None


class UnmergeIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    reason: Reason


class DistinctIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, rename={"from_": "from"}):
    from_: PersonId
    reason: Reason
    citation: Citation | None = None


async def judge(request: Request, decide: Callable[[], Decision], person_id: str) -> Response:
    """Decide a judgement and commit it. When a judgement on the same records committed
    between the decision and its append (the store refused it: a stream it read moved),
    decide once more against the registry as it is now (its rule may now refuse it, 409),
    and answer 409 if the records moved again."""
    try:
        return await decide_and_commit(request, decide)
    except ConcurrencyError:
        pass
    try:
        return await decide_and_commit(request, decide)
    except ConcurrencyError:
        raise Conflict(f"another judgement on {person_id} or the records it names was recorded "
                       "at the same time: reload them and decide again") from None


class MergeController(Controller):
    path = "/persons"
    tags = ["registry"]
    guards = [auth.reviewer]

    @post("/{person_id:str}/merge", status_code=200, summary="Merge this record into another")
    async def merge(self, request: Request, person_id: FromPath[str], data: Annotated[MergeIn, Body(examples=[Example(summary="merge", value={"into": "P-00000002", "reason": "same birth place and dates in two sources", "citation": {"source": "S-00000001", "locator": "p. 4"}})])]) -> Response[Judged]:
        """The record answers from then on with the survivor's content; 409 when the two were
        judged distinct, when this record is merged already, or when it would make a cycle."""
        return await judge(request, lambda: commands.merge(
            archive_of(request).store, person_id, data.into, data.reason, data.citation,
            who(request)), person_id)

    @post("/{person_id:str}/unmerge", status_code=200, summary="Undo this record's merge")
    async def unmerge(self, request: Request, person_id: FromPath[str], data: Annotated[UnmergeIn, Body(examples=[Example(summary="unmerge", value={"reason": "two brothers, not one person"})])]) -> Response[Judged]:
        return await judge(request, lambda: commands.unmerge(
            archive_of(request).store, person_id, data.reason, who(request)), person_id)

    @post("/{person_id:str}/distinct", status_code=200, summary="Record: not the same person")
    async def distinct(self, request: Request, person_id: FromPath[str], data: Annotated[DistinctIn, Body(examples=[Example(summary="distinct", value={"from": "P-00000003", "reason": "different fathers' names"})])]) -> Response[Judged]:
        """A later merge of the two answers 409."""
        return await judge(request, lambda: commands.distinct(
            archive_of(request).store, person_id, data.from_, data.reason, data.citation,
            who(request)), person_id)
