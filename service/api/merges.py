"""Reviewers' identity judgements: merge, undo a merge, record 'not the same', on persons,
places and organisations; identify ('possibly the same as') and unidentify on all three."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import msgspec
from litestar import Controller, Request, Response, post
from litestar.openapi.spec import Example
from litestar.params import Body, FromPath
from msgspec import Meta

from starosta.events.registry import IdentificationCertainty

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


class IdentifyIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True,
                 rename={"with_": "with"}):
    """'Possibly the same as' (Wikidata's P460), without merging: `certainty` probable or possible."""

    with_: PersonId
    certainty: IdentificationCertainty
    reason: Reason
    citation: Citation | None = None


class UnidentifyIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True,
                   rename={"with_": "with"}):
    with_: PersonId
    reason: Reason


IDENTIFY_DOC = """A reviewer's judgement that this record is possibly the same as `with` (a record
of the same kind), `certainty` "probable" or "possible", with a reason and optionally a citation:
recorded without merging (each record keeps its content), shown on both records
(`identified_with`), in biographies and in search answers. 409 when the two are one record now,
were judged distinct, or are identified already; undone by `unidentify`. It is ordered with
every other identity judgement on the two records (merge, unmerge, distinct): of two sent at
once that contradict each other one is recorded and the other answers 409."""
UNIDENTIFY_DOC = """Withdraws the identification in force between this record and `with` (sent on
either record); 409 when there is none."""


def _identify_examples(other: str, reason: str) -> list[Example]:
    return [Example(summary="identify", value={"with": other, "certainty": "probable", "reason": reason,
                                               "citation": {"source": "S-00000001", "locator": "p. 12"}})]


def _unidentify_examples(other: str) -> list[Example]:
    return [Example(summary="unidentify", value={"with": other,
                                                 "reason": "a later source names both apart"})]


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

    @post("/{person_id:str}/identify", status_code=200, description=IDENTIFY_DOC,
          summary="Record: possibly the same person as another (not merged)")
    async def identify(self, request: Request, person_id: FromPath[str], data: Annotated[IdentifyIn, Body(examples=_identify_examples("P-00000002", "S.– K.– of the memoir is probably this person: same prison, same months"))]) -> Response[Judged]:
        return await judge(request, lambda: commands.identify(
            archive_of(request).store, "person", person_id, data.with_, data.certainty,
            data.reason, data.citation, who(request)), person_id)

    @post("/{person_id:str}/unidentify", status_code=200, description=UNIDENTIFY_DOC,
          summary="Withdraw an identification of this person")
    async def unidentify(self, request: Request, person_id: FromPath[str], data: Annotated[UnidentifyIn, Body(examples=_unidentify_examples("P-00000002"))]) -> Response[Judged]:
        return await judge(request, lambda: commands.unidentify(
            archive_of(request).store, "person", person_id, data.with_, data.reason,
            who(request)), person_id)


MERGE_DOC = """The record answers from then on with the survivor's content (`merged_from` lists the
records merged into it), as a merged person does; 409 when the two were judged distinct, when
this record is merged already, or when it would make a cycle."""


class PlaceJudgementController(Controller):
    path = "/places"
    tags = ["registry"]
    guards = [auth.reviewer]

    @post("/{place_id:str}/merge", status_code=200, summary="Merge this place record into another",
          description=MERGE_DOC)
    async def merge(self, request: Request, place_id: FromPath[str], data: Annotated[MergeIn, Body(examples=[Example(summary="merge", value={"into": "PL-00000002", "reason": "Butyrki and Butyrka: one prison", "citation": {"source": "S-00000001"}})])]) -> Response[Judged]:
        return await judge(request, lambda: commands.merge_record(
            archive_of(request).store, "place", place_id, data.into, data.reason, data.citation,
            who(request)), place_id)

    @post("/{place_id:str}/unmerge", status_code=200, summary="Undo this place record's merge")
    async def unmerge(self, request: Request, place_id: FromPath[str], data: Annotated[UnmergeIn, Body(examples=[Example(summary="unmerge", value={"reason": "two prisons of one town"})])]) -> Response[Judged]:
        return await judge(request, lambda: commands.unmerge_record(
            archive_of(request).store, "place", place_id, data.reason, who(request)), place_id)

    @post("/{place_id:str}/distinct", status_code=200, summary="Record: not the same place")
    async def distinct(self, request: Request, place_id: FromPath[str], data: Annotated[DistinctIn, Body(examples=[Example(summary="distinct", value={"from": "PL-00000003", "reason": "the isolator and the town's prison"})])]) -> Response[Judged]:
        """A later merge or identification of the two answers 409."""
        return await judge(request, lambda: commands.distinct_record(
            archive_of(request).store, "place", place_id, data.from_, data.reason, data.citation,
            who(request)), place_id)

    @post("/{place_id:str}/identify", status_code=200, description=IDENTIFY_DOC,
          summary="Record: possibly the same place as another (not merged)")
    async def identify(self, request: Request, place_id: FromPath[str], data: Annotated[IdentifyIn, Body(examples=_identify_examples("PL-00000002", "Kizobabad of the letter is presumably Kirovabad"))]) -> Response[Judged]:
        return await judge(request, lambda: commands.identify(
            archive_of(request).store, "place", place_id, data.with_, data.certainty,
            data.reason, data.citation, who(request)), place_id)

    @post("/{place_id:str}/unidentify", status_code=200, description=UNIDENTIFY_DOC,
          summary="Withdraw an identification of this place")
    async def unidentify(self, request: Request, place_id: FromPath[str], data: Annotated[UnidentifyIn, Body(examples=_unidentify_examples("PL-00000002"))]) -> Response[Judged]:
        return await judge(request, lambda: commands.unidentify(
            archive_of(request).store, "place", place_id, data.with_, data.reason,
            who(request)), place_id)


class OrganizationJudgementController(Controller):
    path = "/organizations"
    tags = ["registry"]
    guards = [auth.reviewer]

    @post("/{organization_id:str}/merge", status_code=200, description=MERGE_DOC,
          summary="Merge this organisation record into another")
    async def merge(self, request: Request, organization_id: FromPath[str], data: Annotated[MergeIn, Body(examples=[Example(summary="merge", value={"into": "O-00000002", "reason": "the same committee under its English and Russian names", "citation": {"source": "S-00000001"}})])]) -> Response[Judged]:
        return await judge(request, lambda: commands.merge_record(
            archive_of(request).store, "organization", organization_id, data.into, data.reason,
            data.citation, who(request)), organization_id)

    @post("/{organization_id:str}/unmerge", status_code=200,
          summary="Undo this organisation record's merge")
    async def unmerge(self, request: Request, organization_id: FromPath[str], data: Annotated[UnmergeIn, Body(examples=[Example(summary="unmerge", value={"reason": "two groups of one name"})])]) -> Response[Judged]:
        return await judge(request, lambda: commands.unmerge_record(
            archive_of(request).store, "organization", organization_id, data.reason,
            who(request)), organization_id)

    @post("/{organization_id:str}/distinct", status_code=200,
          summary="Record: not the same organisation")
    async def distinct(self, request: Request, organization_id: FromPath[str], data: Annotated[DistinctIn, Body(examples=[Example(summary="distinct", value={"from": "O-00000003", "reason": "the Moscow group, not the Petrograd one"})])]) -> Response[Judged]:
        """A later merge or identification of the two answers 409."""
        return await judge(request, lambda: commands.distinct_record(
            archive_of(request).store, "organization", organization_id, data.from_, data.reason,
            data.citation, who(request)), organization_id)

    @post("/{organization_id:str}/identify", status_code=200, description=IDENTIFY_DOC,
          summary="Record: possibly the same organisation as another (not merged)")
    async def identify(self, request: Request, organization_id: FromPath[str], data: Annotated[IdentifyIn, Body(examples=_identify_examples("O-00000002", "possibly a sighting of the 'Wildcat' anarchists"))]) -> Response[Judged]:
        return await judge(request, lambda: commands.identify(
            archive_of(request).store, "organization", organization_id, data.with_,
            data.certainty, data.reason, data.citation, who(request)), organization_id)

    @post("/{organization_id:str}/unidentify", status_code=200, description=UNIDENTIFY_DOC,
          summary="Withdraw an identification of this organisation")
    async def unidentify(self, request: Request, organization_id: FromPath[str], data: Annotated[UnidentifyIn, Body(examples=_unidentify_examples("O-00000002"))]) -> Response[Judged]:
        return await judge(request, lambda: commands.unidentify(
            archive_of(request).store, "organization", organization_id, data.with_, data.reason,
            who(request)), organization_id)
