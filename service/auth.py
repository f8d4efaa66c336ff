"""Tokens and roles: bearer tokens stored only as hashes, and guards for each role.

Roles are ordered contributor < reviewer < admin; each has what the one before has. A token's
`name` is the person using it: claims and decisions are recorded under it, and "nobody reviews
their own claim" compares names, so two tokens with one name are one actor.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import sqlite3
from typing import Literal

import msgspec
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

Role = Literal["contributor", "reviewer", "admin"]
RANKS: dict[str, int] = {"contributor": 1, "reviewer": 2, "admin": 3}
PREFIX = "sta_"


class Principal(msgspec.Struct, frozen=True):
    """Who is calling: a token's id, name and role (anonymous readers have none)."""

    token_id: str | None
    name: str | None
    role: str | None

    def has(self, role: str) -> bool:
        """Return True when this principal's role is `role` or above."""
        return self.role is not None and RANKS[self.role] >= RANKS[role]


ANONYMOUS = Principal(None, None, None)


class TokenInfo(msgspec.Struct, frozen=True):
    id: str
    name: str
    role: str
    created_at: str
    revoked_at: str | None


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(conn: sqlite3.Connection, name: str, role: str, token: str | None = None) -> tuple[str, str]:
    """Store a new token for `name` with `role`; return (token id, the token itself).

    `token` may be given (the demo's fixed tokens); otherwise 32 random bytes. Raises
    ValueError for an unknown role or an empty name.
    """
    if role not in RANKS:
        raise ValueError(f"role {role!r} is not one of {', '.join(RANKS)}")
    if not name.strip():
        raise ValueError("a token needs a name (the person who will use it)")
    token = token or PREFIX + secrets.token_urlsafe(32)
    token_id = "T-" + secrets.token_hex(4)
    now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    conn.execute("INSERT INTO tokens VALUES (?, ?, ?, ?, ?, NULL)",
                 (token_id, name.strip(), role, _hash(token), now))
    return token_id, token


def list_tokens(conn: sqlite3.Connection) -> list[TokenInfo]:
    """Return every token (never the token itself), oldest first."""
    return [TokenInfo(*r) for r in conn.execute(
        "SELECT id, name, role, created_at, revoked_at FROM tokens ORDER BY created_at, id")]


def revoke_token(conn: sqlite3.Connection, token_id: str) -> bool:
    """Revoke a token by id; return False when no live token has that id."""
    now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    cur = conn.execute("UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                       (now, token_id))
    return cur.rowcount == 1


def resolve(conn: sqlite3.Connection, authorization: str | None) -> Principal:
    """Return the principal of an Authorization header (ANONYMOUS when absent).

    Raises NotAuthorizedException (401) for a malformed header or an unknown or revoked
    token, also on public reads: a client sending a wrong token should learn it.
    """
    if authorization is None:
        return ANONYMOUS
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthorizedException("the Authorization header must be 'Bearer <token>'")
    digest = _hash(token.strip())
    row = conn.execute("SELECT id, name, role, token_hash FROM tokens "
                       "WHERE token_hash = ? AND revoked_at IS NULL", (digest,)).fetchone()
    # The lookup is by hash; compare_digest keeps the final comparison constant-time too.
    if row is None or not hmac.compare_digest(row[3], digest):
        raise NotAuthorizedException("the bearer token is unknown or revoked")
    return Principal(row[0], row[1], row[2])


def principal_of(connection: ASGIConnection) -> Principal:
    """Return the principal resolved for this request by the app's before_request hook."""
    return connection.scope.get("state", {}).get("principal", ANONYMOUS)


def requires(role: str):
    """Return a guard admitting `role` and above: 401 without a token, 403 below the role."""

    async def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:  # async: no thread hop
        who = principal_of(connection)
        if who.role is None:
            raise NotAuthorizedException(f"this needs a bearer token with the {role} role")
        if not who.has(role):
            raise PermissionDeniedException(f"this needs the {role} role; {who.name} is a {who.role}")

    guard.__name__ = f"requires_{role}"
    return guard


contributor = requires("contributor")
reviewer = requires("reviewer")
admin = requires("admin")
