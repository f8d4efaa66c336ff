"""GET /persons/{id}/biography: the projected biography, now or as of a log position or time."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from litestar import Controller, Request, Response, get
from litestar.params import FromPath, Parameter, HeaderParameter

from starosta.events.errors import Invalid, NotFound
from starosta.projections import biographies
from starosta.projections.biographies import Biography
from starosta.projections.rules import PUBLIC, document_statuses
from starosta.service.api.common import archive_of, expensive, number, off_loop, viewer
from starosta.service.api.errors import clipped
from starosta.service.feed import MAX_POSITION


def as_of_position(store, value: str) -> tuple[int, str | None]:
    """Return (position, recorded_at) for `as_of`: a log position (ASCII digits, at most 19;
    past the log's range, the head), or an RFC 3339 timestamp with its offset (the last event
    recorded at or before it). Raises Invalid naming as_of."""
    if value.isdigit():  # Unicode's digits too ('²'): number() refuses all but ASCII
        position = min(number(value, "as_of", "query", 0, 10**19 - 1, "a log position"),
                       MAX_POSITION)
        return position, store.recorded_at(min(position, store.head().position))
    try:
        dt.datetime.fromisoformat(value)
    except ValueError:
        raise Invalid("as_of", clipped(value), "not a position or an RFC 3339 timestamp", "query",
                      f"as_of={clipped(value)!r}: give a log position (e.g. 42) or an RFC 3339 "
                      "timestamp (e.g. 2026-03-01T00:00:00Z)") from None
    try:  # the store's rule: an offset is required, and the UTC time must be a datetime
        return store.position_at(value)
    except ValueError as exc:
        raise Invalid("as_of", value, str(exc), "query", f"as_of={value!r}: {exc}") from None


class BiographyController(Controller):
    path = "/persons"
    tags = ["biographies"]

    @get("/{person_id:str}/biography", summary="The projected biography of a person",
         opt={"conditional": True})
    async def biography(
        self, request: Request, person_id: FromPath[str],
        as_of: Annotated[str | None, Parameter(max_length=40, description=(
            "A log position, or an RFC 3339 timestamp: the archive as it stood then. An "
            "expensive read (the expensive-read lane: at most STAROSTA_EXPENSIVE_PER_CLIENT, "
            "default 2, at once per client, past it 429 with Retry-After)"))] = None,
        include: Annotated[Literal["pending"] | None, Parameter(description=(
            "'pending': also pending and contested claims the caller may see (flagged). An "
            "expensive read, like as_of"))] = None,
        if_none_match: Annotated[str | None, HeaderParameter(name="If-None-Match", max_length=1000,
                                                       description=(
            "ETags (weak or strong, a list, or *): 304 when the document still has one of "
            "them"))] = None,
    ) -> Biography:
        """Names, birth and death, affiliations, a timeline by earliest possible day with
        citations and review state, conflicts side by side, custody totals with their
        uncertainty beside the totals sources state. Every entity it names comes as
        {"id", "label"}. A merged id answers with the survivor. The public document is
        stored: its ETag answers `If-None-Match` with 304."""
        reader = viewer(request)
        statuses = document_statuses(reader, include)
        if as_of is None and statuses == PUBLIC:
            # a survivor's stored document: one lookup by primary key; a merged or unknown id
            # goes the longer way; both in one reader thread hop
            document = await off_loop(request, lambda conn: biographies.stored(conn, person_id)
                                      or biographies.read(conn, person_id, reader, statuses))
        elif as_of is None:  # include=pending: assembled on each request, the expensive lane
            document = await expensive(request, biographies.read, person_id, reader, statuses)
        else:
            store = archive_of(request).store
            position, stamp = await off_loop(request, lambda _, v: as_of_position(store, v), as_of)
            document = await expensive(request, biographies.read_as_of, person_id, position,
                                      stamp, reader, statuses)
        if document is None:
            raise NotFound("person_id", person_id, "person", "path",
                           f"person_id={person_id!r}: no person with that id"
                           + (f" at position {position}" if as_of is not None else ""))
        headers = {"ETag": document.etag}
        if _matches(if_none_match, document.etag):
            return Response(b"", status_code=304, headers=headers)  # type: ignore[return-value]
        return Response(document.body, media_type="application/json",  # type: ignore[return-value]
                        headers=headers)


def _matches(if_none_match: str | None, etag: str) -> bool:
    """Return True when If-None-Match names `etag` (weak comparison, lists, `*`: RFC 9110)."""
    if not if_none_match:
        return False
    tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
    return "*" in tags or etag in tags
