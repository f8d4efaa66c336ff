"""What every controller shares: the caller, the archive, paging, and the write path's hooks."""

from __future__ import annotations

import hashlib
from typing import Annotated

import msgspec
from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.params import Parameter

from service.archive import Archive
from service.auth import ANONYMOUS, Principal, principal_of, resolve

Limit = Annotated[int, Parameter(ge=1, le=1000, description="Page size (1-1000)")]
Cursor = Annotated[str | None, Parameter(description="The `next` of the previous page",
                                         max_length=100, pattern=r"^[0-9]{1,18}$")]


class Created(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A registered entity: its id, the position of its registration, the name claim's id."""

    id: str
    position: int
    name_claim: str | None = None


def archive_of(connection: ASGIConnection) -> Archive:
    return connection.app.state.archive


def authenticate(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """App-wide guard: resolve the bearer token (401 for a wrong one, also on public reads)."""
    conn = archive_of(connection).read()
    connection.scope.setdefault("state", {})["principal"] = resolve(
        conn, connection.headers.get("authorization"))


def who(request: Request) -> Principal:
    """Return the caller (ANONYMOUS without a token)."""
    return principal_of(request) or ANONYMOUS


async def replay_idempotent(request: Request) -> Response | None:
    """before_request: answer a replayed Idempotency-Key before any parsing or state check."""
    if request.method != "POST" or "idempotency-key" not in request.headers:
        return None
    body_hash = hashlib.sha256(await request.body()).hexdigest()
    return archive_of(request).replayed(request, who(request), body_hash)


def cursor(value: str | None) -> int:
    return int(value) if value else 0
