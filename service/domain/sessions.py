"""Browser sessions: a token exchanged once for a session id (the cookie), kept in the `sessions`
table (migration 0007, postgres 0006) so that several servers share them. No HTTP here.

- Only a sha256 of a session id is stored; a session names the token it was opened with, and
  every lookup joins that token again: a revoked token's sessions sign nobody in from the next
  request on.
- A session id unknown, expired, malformed or of a revoked token resolves to nobody (None): the
  caller treats it as anonymous, never as an error.
- Every sign-in makes a new session id (rotation); the caller's old one, if any, is closed.
- The CSRF token of a session is derived from its id (`csrf_token`): bound to the session, known
  to whoever holds the cookie, and revealing nothing of the id it was made from.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets

from starosta.events.store import Connection
from starosta.service.domain.access import Principal, resolve

__all__ = ["LIFETIME", "csrf_token", "csrf_ok", "open_session", "close_session", "principal_of_session",
           "check_token", "well_formed"]

LIFETIME = dt.timedelta(hours=8)  # a session signs in for a working day, then the token again
SEEN_EVERY = dt.timedelta(minutes=5)  # `seen_at` is written at most this often per session
_ID = re.compile(r"[A-Za-z0-9_-]{43}")  # secrets.token_urlsafe(32)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _stamp(when: dt.datetime) -> str:
    return when.isoformat(timespec="seconds")


def _hash(session_id: str) -> str:
    return hashlib.sha256(b"session:" + session_id.encode("ascii")).hexdigest()


def well_formed(session_id: str | None) -> bool:
    """Return whether `session_id` has the form of an id this module makes."""
    return session_id is not None and _ID.fullmatch(session_id) is not None


def csrf_token(session_id: str) -> str:
    """The CSRF token of the session `session_id` (a form's `_csrf_token`, the `x-csrftoken`
    header): derived from the id, so bound to it, and no way back to it."""
    return hashlib.sha256(b"csrf:" + session_id.encode("ascii")).hexdigest()


def csrf_ok(session_id: str, sent: str | None) -> bool:
    """Return whether `sent` is the CSRF token of `session_id` (compared in constant time)."""
    return sent is not None and hmac.compare_digest(csrf_token(session_id), sent.strip())


def check_token(conn: Connection, token: str) -> Principal:
    """The one check of a token a person types into the sign-in form: its principal, or
    Unauthenticated (unknown, revoked, empty). Counted by the caller when it fails."""
    return resolve(conn, f"Bearer {token.strip()}")


def open_session(conn: Connection, principal: Principal, replaces: str | None = None) -> str:
    """Open a new session for `principal`'s token (in the caller's write transaction) and
    return its id, shown once in the cookie; close the session `replaces` (the caller's old
    cookie) and every expired session. A new id at every sign-in (rotation)."""
    assert principal.token_id is not None, "a session is opened for a token"
    now = _now()
    if well_formed(replaces):
        conn.execute("DELETE FROM sessions WHERE id_hash = ?", (_hash(replaces),))  # type: ignore[arg-type]
    conn.execute("DELETE FROM sessions WHERE expires_at < ?", (_stamp(now),))
    session_id = secrets.token_urlsafe(32)
    conn.execute("INSERT INTO sessions (id_hash, token_id, created_at, seen_at, expires_at) "
                 "VALUES (?, ?, ?, ?, ?)",
                 (_hash(session_id), principal.token_id, _stamp(now), _stamp(now),
                  _stamp(now + LIFETIME)))
    return session_id


def close_session(conn: Connection, session_id: str | None) -> bool:
    """Close (delete) a session; return whether there was one."""
    if not well_formed(session_id):
        return False
    return conn.execute("DELETE FROM sessions WHERE id_hash = ?",
                        (_hash(session_id),)).rowcount == 1  # type: ignore[arg-type]


def principal_of_session(conn: Connection, session_id: str | None) -> tuple[Principal, bool] | None:
    """Return the principal a session cookie signs in, and whether its `seen_at` is due to be
    written (`touch`); None for a malformed, unknown or expired id, or one whose token is
    revoked (the token is checked again here, on every request)."""
    if not well_formed(session_id):
        return None
    row = conn.execute(
        "SELECT t.id, t.name, t.role, a.id, s.expires_at, s.seen_at FROM sessions AS s "
        "JOIN tokens AS t ON t.id = s.token_id AND t.revoked_at IS NULL "
        "LEFT JOIN accounts AS a ON a.name = t.name WHERE s.id_hash = ?",
        (_hash(session_id),)).fetchone()  # type: ignore[arg-type]
    if row is None or row[3] is None:
        return None
    now = _now()
    if dt.datetime.fromisoformat(row[4]) <= now:
        return None
    due = dt.datetime.fromisoformat(row[5]) + SEEN_EVERY <= now
    return Principal(row[0], row[1], row[2], row[3]), due


def touch(conn: Connection, session_id: str) -> None:
    """Write when a session was last seen (in the caller's write transaction)."""
    conn.execute("UPDATE sessions SET seen_at = ? WHERE id_hash = ?",
                 (_stamp(_now()), _hash(session_id)))
