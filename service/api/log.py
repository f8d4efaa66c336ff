"""The log itself: paged reading, its head, and the service's health."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.params import Parameter

from starosta.events.store import SQLiteEventStore
from starosta.projections import claims as claims_model
from starosta.projections.rules import Viewer
from starosta.service.api.common import archive_of, off_loop, viewer


MAX_POSITION = 2**62  # positions are SQLite integers: larger values answer 422, never overflow


class LogEvent(msgspec.Struct, kw_only=True):
    """A row of the log as stored: every hashed field, its digest and its chain hash.

    `data` is the stored JSON object; re-encoded compactly (msgspec, key order kept) it
    gives the exact stored text that the digest covers. `digest` is sha256 of the
    canonical row; `hash` = sha256(previous hash + digest). For a claim the caller may not
    see (pending, rejected, contested, retracted: see GET /claims/{id}), `redacted` is true
    and data, actor, request_id and causation_id are null: digest and hash still let the
    chain be verified link by link.
    """

    position: int
    event_id: str
    stream_id: str
    version: int
    type: str
    schema_version: int
    data: dict[str, Any] | None = msgspec.field(default=None)
    actor: str | None
    request_id: str | None
    causation_id: str | None
    recorded_at: str
    digest: str
    hash: str
    redacted: bool = False


class LogPage(msgspec.Struct):
    """A page of the log; `next` is the cursor (a position) for the next page, or null."""

    items: list[LogEvent]
    next: str | None


class HeadOut(msgspec.Struct):
    """The last position of the log and its chain hash: publish it, verify copies against it."""

    position: int
    hash: str
    recorded_at: str | None


class HealthOut(msgspec.Struct):
    status: str
    head: int


class LogController(Controller):
    """GET /events, /events/head."""

    path = "/events"
    tags = ["log"]

    @get("/", summary="Read the log in order, paged")
    async def read(
        self,
        request: Request,
        store: NamedDependency[SQLiteEventStore],
        after: Annotated[int, Parameter(ge=0, le=MAX_POSITION, description="Return events after this position")] = 0,
        limit: Annotated[int, Parameter(ge=1, le=1000, description="Page size (1-1000)")] = 100,
    ) -> LogPage:
        """Every position in order; `next` is the position to pass as `after` for more.
        Events of claims the caller may not see are redacted (admins see everything)."""
        return await off_loop(request, log_page, store, after, limit, viewer(request))

    @get("/head", summary="The last position and its hash")
    async def head(self, store: NamedDependency[SQLiteEventStore]) -> HeadOut:
        """Publish this hash; `starosta verify --expect-head HASH` checks a copy against it."""
        h = store.head()
        return HeadOut(h.position, h.hash, h.recorded_at)


@get("/health", tags=["operations"], summary="200 when the database answers")
async def health(request: Request) -> HealthOut:
    """Answers 200 with the log's head position when the database answers."""
    return HealthOut("ok", archive_of(request).store.head().position)


def log_page(conn, store: SQLiteEventStore, after: int, limit: int, reader: Viewer) -> LogPage:
    """A page of the log with the events of claims `reader` may not see redacted (runs in a
    reader thread: up to 1000 rows decoded and digested)."""
    rows = list(store.read_rows(after, limit))
    claim_streams = {r.stream_id for r in rows if r.type.startswith("claim.")}
    hidden = claims_model.hidden(conn, claim_streams, reader)
    items = []
    for r in rows:
        redact = r.stream_id in hidden
        items.append(LogEvent(
            position=r.position, event_id=r.event_id, stream_id=r.stream_id, version=r.version,
            type=r.type, schema_version=r.schema_version,
            data=None if redact else msgspec.json.decode(r.data),
            actor=None if redact else r.actor, request_id=None if redact else r.request_id,
            causation_id=None if redact else r.causation_id, recorded_at=r.recorded_at,
            digest=r.digest(), hash=r.hash, redacted=redact))
    more = len(items) == limit and store.head().position > items[-1].position
    return LogPage(items, str(items[-1].position) if more else None)
