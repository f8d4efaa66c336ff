"""Guards for each role, and the caller of a request (tokens themselves: service.domain.access)."""

from __future__ import annotations

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from starosta.service.domain.access import ANONYMOUS, RANKS, Principal

__all__ = ["ANONYMOUS", "RANKS", "Principal", "admin", "contributor", "drain", "principal_of",
           "requires", "reviewer"]


def principal_of(connection: ASGIConnection) -> Principal:
    """Return the principal resolved for this request by the app's before_request hook."""
    return connection.scope.get("state", {}).get("principal", ANONYMOUS)


async def drain(connection: ASGIConnection) -> None:
    """Read a request's body before refusing it. Answering first and closing while the client
    still sends makes its socket fail (EPIPE), and a reverse proxy then answers 502 instead of
    our 401 or 403. The body is bounded by the app's limit (past it, the 413 stands instead)."""
    if isinstance(connection, Request) and connection.method in ("POST", "PUT", "PATCH"):
        try:
            await connection.body()
        except Exception:  # noqa: BLE001  (too large, or the client left: the refusal stands)
            pass


def requires(role: str):
    """Return a guard admitting `role` and above: 401 without a token, 403 below the role."""

    async def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:  # async: no thread hop
        who = principal_of(connection)
        if who.role is None or not who.has(role):
            await drain(connection)  # the refusal reads the body first
        if who.role is None:
            raise NotAuthorizedException(f"this needs a bearer token with the {role} role")
        if not who.has(role):
            raise PermissionDeniedException(f"this needs the {role} role; {who.name} is a {who.role}")

    guard.__name__ = f"requires_{role}"
    guard.role = role  # type: ignore[attr-defined]  # read by service.api.openapi
    return guard


contributor = requires("contributor")
reviewer = requires("reviewer")
admin = requires("admin")
