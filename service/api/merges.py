"""Reviewers' judgements on person records: merge, undo a merge, record 'not the same person'."""

from __future__ import annotations

import sqlite3
from typing import Annotated

import msgspec
from litestar import Controller, Request, Response, post
from litestar.openapi.spec import Example
from litestar.params import Body, FromPath
from msgspec import Meta

from starosta.events.kinds import Citation
from starosta.events.registry import PersonMerged, PersonsDistinct, PersonUnmerged
from starosta.events.store import AppendRequest, NewEvent
from starosta.service import auth
from starosta.service.api.common import archive_of, who
from starosta.projections.registry import merged_records as merged_into, survivor
from starosta.service.commands import invalid, not_found, require
from starosta.service.errors import ApiError

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


class Judged(msgspec.Struct, kw_only=True):
    id: str
    judgement: str
    other: str
    position: int


def _group(conn: sqlite3.Connection, person_id: str) -> set[str]:
    alive = survivor(conn, person_id)
    return {alive, *merged_into(conn, alive)}


def _distinct(conn: sqlite3.Connection, a: set[str], b: set[str]) -> tuple[str, str] | None:
    """Return a pair judged distinct between the two groups of records, if any."""
    for x in a:
        for y in b:
            row = conn.execute("SELECT 1 FROM person_judgements WHERE judgement = 'distinct' AND "
                               "((person_id = ? AND other = ?) OR (person_id = ? AND other = ?))",
                               (x, y, y, x)).fetchone()
            if row:
                return x, y
    return None


class MergeController(Controller):
    path = "/persons"
    tags = ["registry"]
    guards = [auth.reviewer]

    @post("/{person_id:str}/merge", status_code=200, summary="Merge this record into another")
    async def merge(self, request: Request, person_id: FromPath[str], data: Annotated[MergeIn, Body(examples=[Example(summary="merge", value={"into": "P-00000002", "reason": "same birth place and dates in two sources", "citation": {"source": "S-00000001", "locator": "p. 4"}})])]) -> Response:
        """The record answers from then on with the survivor's content; 409 when the two were
        judged distinct, when this record is merged already, or when it would make a cycle."""
        archive = archive_of(request)
        conn = archive.read()
        require(conn, "person", person_id, "person_id")
        require(conn, "person", data.into, "into")
        if data.citation is not None:
            require(conn, "source", data.citation.source, "citation.source")
        if data.into == person_id:
            raise invalid("into", data.into, "a record cannot be merged into itself")
        if conn.execute("SELECT merged_into FROM persons WHERE id = ?", (person_id,)).fetchone()[0]:
            raise ApiError(409, "Conflict", f"{person_id} is merged already: unmerge it first")
        if survivor(conn, data.into) == person_id:
            raise ApiError(409, "Conflict", f"{data.into} is merged into {person_id}: merging back would make a cycle")
        pair = _distinct(conn, _group(conn, person_id), _group(conn, data.into))
        if pair:
            raise ApiError(409, "Conflict", f"{pair[0]} and {pair[1]} were recorded as distinct persons: "
                           "they may not be merged")
        event = PersonMerged(person_id=person_id, into=data.into, reason=data.reason,
                             reviewer=who(request).name or "", citation=data.citation)
        return await self._append(request, person_id, event, "merged", data.into)

    @post("/{person_id:str}/unmerge", status_code=200, summary="Undo this record's merge")
    async def unmerge(self, request: Request, person_id: FromPath[str], data: Annotated[UnmergeIn, Body(examples=[Example(summary="unmerge", value={"reason": "two brothers, not one person"})])]) -> Response:
        conn = archive_of(request).read()
        require(conn, "person", person_id, "person_id")
        into = conn.execute("SELECT merged_into FROM persons WHERE id = ?", (person_id,)).fetchone()[0]
        if into is None:
            raise ApiError(409, "Conflict", f"{person_id} is not merged into another record")
        event = PersonUnmerged(person_id=person_id, from_person=into, reason=data.reason,
                               reviewer=who(request).name or "")
        return await self._append(request, person_id, event, "unmerged", into)

    @post("/{person_id:str}/distinct", status_code=200, summary="Record: not the same person")
    async def distinct(self, request: Request, person_id: FromPath[str], data: Annotated[DistinctIn, Body(examples=[Example(summary="distinct", value={"from": "P-00000003", "reason": "different fathers' names"})])]) -> Response:
        """A later merge of the two answers 409."""
        conn = archive_of(request).read()
        require(conn, "person", person_id, "person_id")
        if not conn.execute("SELECT 1 FROM persons WHERE id = ?", (data.from_,)).fetchone():
            raise not_found("from", data.from_, "person")
        if data.citation is not None:
            require(conn, "source", data.citation.source, "citation.source")
        if data.from_ == person_id or survivor(conn, person_id) == survivor(conn, data.from_):
            raise ApiError(409, "Conflict", f"{person_id} and {data.from_} are one record now: "
                           "unmerge them before recording them as distinct")
        event = PersonsDistinct(person_id=person_id, other=data.from_, reason=data.reason,
                                reviewer=who(request).name or "", citation=data.citation)
        return await self._append(request, person_id, event, "distinct", data.from_)

    @staticmethod
    async def _append(request: Request, person_id: str, event, judgement: str, other: str) -> Response:
        archive = archive_of(request)
        version = archive.store.stream_version(person_id)
        return await archive.commit(
            request, who(request), [AppendRequest(person_id, [NewEvent(event)], version)],
            lambda conn, env: (200, Judged(id=person_id, judgement=judgement, other=other,
                                           position=env[0].position)))

