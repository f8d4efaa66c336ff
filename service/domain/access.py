"""Tokens, roles and Idempotency-Key answers: the access records kept beside the log (tables
of migration 0003), with no HTTP in them. Bearer tokens are stored only as hashes.

Roles are ordered contributor < reviewer < admin; each has what the one before has. A token's
`name` is the person using it; each name has one account (service/domain/accounts.py), whose opaque
id new claims and decisions are recorded under; "nobody reviews their own claim" compares
accounts, so two tokens with one name are one actor. Names that differ only in case, Unicode
form, width or look-alike letters are one name (`same_account_as`).
"""

from __future__ import annotations

from collections.abc import Sequence

import datetime as dt
import hashlib
import hmac
import secrets

import msgspec

from starosta.events.errors import Unauthenticated
from starosta.projections import name_keys
from starosta.projections.rules import Viewer
from starosta.service.domain.accounts import ensure_account, is_account_id
from starosta.events.store import Connection

RANKS: dict[str, int] = {"contributor": 1, "reviewer": 2, "admin": 3}
PREFIX = "sta_"


class Principal(msgspec.Struct, frozen=True):
    """Who is calling: a token's id, name, role and account id (anonymous readers have none).

    New events record the account id (`actor`), never the name; `aliases` are every value the
    log may hold for this caller (the account id, and the name older rows carry), which the
    rules compare against ("nobody reviews their own claim", "who may see a pending claim")."""

    token_id: str | None
    name: str | None
    role: str | None
    account: str | None = None

    def has(self, role: str) -> bool:
        """Return True when this principal's role is `role` or above."""
        return self.role is not None and RANKS[self.role] >= RANKS[role]

    @property
    def actor(self) -> str:
        """What the events this caller writes record as their actor: the account id (a
        principal made without one, in tests and scripts, records its name, as old rows do)."""
        return self.account or self.name or ""

    @property
    def aliases(self) -> tuple[str, ...]:
        """The values that denote this caller in the log: name (shown first, to the caller
        themselves, in a refusal), then account id."""
        return tuple(v for v in (self.name, self.account) if v)

    def viewer(self) -> Viewer:
        """Return this caller as the read models' visibility rule sees them."""
        return Viewer(name=self.name, reviewer=self.has("reviewer"), admin=self.has("admin"),
                      account=self.account)


ANONYMOUS = Principal(None, None, None)


class TokenInfo(msgspec.Struct, frozen=True):
    id: str
    name: str
    role: str
    created_at: str
    revoked_at: str | None
    account: str | None = None  # the name's account id (what readers see for this person)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(conn: Connection, name: str, role: str, token: str | None = None,
                 account: str | None = None) -> tuple[str, str]:
    """Store a new token for `name` with `role`; return (token id, the token itself). The name
    gets its account (a random id, or `account`: the demo's fixed ones) unless it has one.

    `token` may be given (the demo's fixed tokens); otherwise 32 random bytes. Raises
    ValueError for an unknown role, an empty name, or a name that has a live token already
    (a name is one actor: "nobody reviews their own claim" and Idempotency-Keys go by name).
    """
    if role not in RANKS:
        raise ValueError(f"role {role!r} is not one of {', '.join(RANKS)}")
    if not name.strip():
        raise ValueError("a token needs a name (the person who will use it)")
    name = account_name(name)
    existing = same_account_as(conn, name)
    if existing is not None and existing != name:
        raise ValueError(f"{name_keys.escaped(name)!r} is the account name {name_keys.escaped(existing)!r} "
                         "written another way (names are compared ignoring case, Unicode form, "
                         f"width and look-alike letters): use {name_keys.escaped(existing)!r} for "
                         "that person's token, or choose a name of its own")
    if is_account_id(name):  # names and account ids must never be confused
        raise ValueError(f"{name!r} has the form of an account id: choose another name")
    live = conn.execute("SELECT id FROM tokens WHERE name = ? AND revoked_at IS NULL",
                        (name,)).fetchone()
    if live is not None:  # a name is one actor: self-review and Idempotency-Keys go by name
        raise ValueError(f"{name!r} already has a live token ({live[0]}): revoke it first "
                         f"(starosta token revoke {live[0]}) or choose another name")
    token = token or PREFIX + secrets.token_urlsafe(32)
    token_id = "T-" + secrets.token_hex(4)
    now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    conn.execute("INSERT INTO tokens VALUES (?, ?, ?, ?, ?, NULL)",
                 (token_id, name, role, _hash(token), now))
    ensure_account(conn, name, account)  # the same name keeps its account
    return token_id, token


def account_name(name: str) -> str:
    """The form an account's name is stored in (name_keys.name_form: NFC, invisible characters
    dropped, spaces collapsed, trimmed); ValueError for a name that may not be stored."""
    try:
        return name_keys.name_form(name)
    except name_keys.UnfitName as exc:
        raise ValueError(f"the name {exc.escaped!r} {exc.message}") from None


def same_account_as(conn: Connection, name: str) -> str | None:
    """Return the stored account name that `name` is one account with: `name` itself when it
    is stored, else the first stored name that differs from it only in case, Unicode form,
    width or look-alike letters (name_keys.same_account); None for a new account. Reads every
    stored name: accounts are few."""
    stored = sorted({row[0] for row in conn.execute(
        "SELECT name FROM tokens UNION SELECT name FROM accounts").fetchall()})
    if name in stored:
        return name
    return next((other for other in stored if name_keys.same_account(other, name)), None)


def create_tokens(db: str, tokens: Sequence[tuple[str, str, str | None]]
                  | Sequence[tuple[str, str, str | None, str | None]]) -> list[tuple[str, str]]:
    """Create several tokens (name, role, token or None[, account id or None]) in the database
    file `db`, all or none; return their (id, token).

    Raises ValueError (see `create_token`), StoreUnavailable when the database cannot be
    written (locked, full, failing, read-only); nothing is written then.
    """
    from starosta.service.backends import backend_for

    with backend_for(db).admin_transaction() as tx:  # as the owner: the service's role only reads tokens
        return [create_token(tx, *spec) for spec in tokens]


def list_tokens(conn: Connection) -> list[TokenInfo]:
    """Return every token (never the token itself), oldest first."""
    return [TokenInfo(*r) for r in conn.execute(
        "SELECT t.id, t.name, t.role, t.created_at, t.revoked_at, a.id FROM tokens AS t "
        "LEFT JOIN accounts AS a ON a.name = t.name ORDER BY t.created_at, t.id")]


def revoke_token(conn: Connection, token_id: str) -> bool:
    """Revoke a token by id; return False when no live token has that id."""
    now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    cur = conn.execute("UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                       (now, token_id))
    return cur.rowcount == 1


def token_live(conn: Connection, token_id: str) -> bool:
    """Return whether the token `token_id` exists and is not revoked (a live feed asks this
    again while it streams: a revoked token's feed must end)."""
    return conn.execute("SELECT 1 FROM tokens WHERE id = ? AND revoked_at IS NULL",
                        (token_id,)).fetchone() is not None


def bearer_token(authorization: str) -> str:
    """Return the token of an Authorization header ("Bearer <token>"); raises Unauthenticated
    for any other form (checked without the database: service/api/common.py: signed_in)."""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("the Authorization header must be 'Bearer <token>'")
    return token.strip()


def resolve(conn: Connection, authorization: str | None) -> Principal:
    """Return the principal of an Authorization header (ANONYMOUS when absent).

    Raises Unauthenticated for a malformed header or an unknown or revoked
    token, also on public reads: a client sending a wrong token should learn it.
    """
    if authorization is None:
        return ANONYMOUS
    digest = _hash(bearer_token(authorization))
    row = conn.execute("SELECT t.id, t.name, t.role, t.token_hash, a.id FROM tokens AS t "
                       "LEFT JOIN accounts AS a ON a.name = t.name "
                       "WHERE t.token_hash = ? AND t.revoked_at IS NULL", (digest,)).fetchone()
    # The lookup is by hash; compare_digest keeps the final comparison constant-time too.
    if row is None or not hmac.compare_digest(row[3], digest):
        raise Unauthenticated("the bearer token is unknown or revoked")
    if row[4] is None:  # never expected (migration 0005 and token create give one): fail closed
        raise Unauthenticated("the bearer token's account is missing: run starosta migrate")
    return Principal(row[0], row[1], row[2], row[4])




# -- Idempotency-Key answers ---------------------------------------------------------------------

class IdempotencyKey(msgspec.Struct, frozen=True):
    """An Idempotency-Key in its scope (the token's name and the request path, so a rotated
    token keeps its keys), with the sha256 of the request body it was first used with."""

    scope: str
    path: str
    key: str
    body_sha256: str


class StoredReply(msgspec.Struct, frozen=True):
    """A first answer: the body as first answered, its kind (which HTTP maps to a status)
    and its ETag, if any."""

    kind: str
    body: bytes
    etag: str | None = None


class KeyReused(Exception):
    """The key was first used with another body."""


def remember(conn: Connection, key: IdempotencyKey, reply: StoredReply) -> bool:
    """Store the first answer under `key` (in the caller's transaction); return False when
    the key is stored already (another request with it won a race)."""
    headers = msgspec.json.encode({"kind": reply.kind, **({"ETag": reply.etag} if reply.etag else {})})
    cursor = conn.execute(
        "INSERT INTO idempotency_keys (token_id, path, key, body_sha256, status, response, "
        "created_at, headers) VALUES (?, ?, ?, ?, 0, ?, ?, ?) ON CONFLICT DO NOTHING",
        (key.scope, key.path, key.key, key.body_sha256, reply.body,
         dt.datetime.now(dt.timezone.utc).isoformat(), headers.decode()))
    return cursor.rowcount == 1


def replayed(conn: Connection, key: IdempotencyKey) -> StoredReply | None:
    """Return the first answer stored under `key`, or None; raise KeyReused when the key was
    first used with another body. Answers stored by a past version (which kept the HTTP
    status, 200 or 201) come back with kind 'legacy-200' or 'legacy-201'."""
    row = conn.execute("SELECT body_sha256, status, response, headers FROM idempotency_keys "
                       "WHERE token_id = ? AND path = ? AND key = ?",
                       (key.scope, key.path, key.key)).fetchone()
    if row is None:
        return None
    if row[0] != key.body_sha256:
        raise KeyReused(key.key)
    headers = msgspec.json.decode(row[3])
    kind = headers.get("kind") or f"legacy-{row[1]}"
    response = row[2].encode() if isinstance(row[2], str) else bytes(row[2])  # text on PostgreSQL
    return StoredReply(kind, response, headers.get("ETag"))
