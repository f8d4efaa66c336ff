"""The hash chain over the log: canonical row bytes, row digests, chain hashes, verification
(of rows from any store: no database here).

hash(n) = sha256(hash(n-1) + digest(n)), digest(n) = sha256(canonical bytes of row n),
hash(0) = 64 zeros. Chaining the row's digest rather than its bytes lets a reader who
may not see an event's data (a claim that is not public) still check every link: the
log publishes the digest of a redacted row, and anyone with the data can check that
digest too.

The nonce: rows appended since migration 0006 carry 16 random bytes (hex) in a `nonce`
column, hashed after the other columns, so that the digest of a redacted row cannot be
matched offline against guessed content (a likely claim, a reviewer's name): only a reader
shown the row (nonce included) can check its digest. Rows without a nonce (older rows) keep
their canonical bytes exactly, so an old log verifies as before.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

import msgspec

GENESIS = "0" * 64

# The hashed columns, in canonical order; `hash` itself is not hashed.
HASHED_COLUMNS = (
    "position",
    "event_id",
    "stream_id",
    "version",
    "type",
    "schema_version",
    "data",
    "actor",
    "request_id",
    "causation_id",
    "recorded_at",
)

# The columns of a stored row, in the order the stores select and insert them: the hashed
# ones, the chain hash, and the nonce (hashed too when present, see row_digest).
STORED_COLUMNS = (*HASHED_COLUMNS, "hash", "nonce")

_encode = msgspec.json.Encoder().encode


def new_nonce() -> str:
    """Return a fresh row nonce: 16 random bytes as 32 lowercase hex digits."""
    return secrets.token_hex(16)


def row_digest(row: tuple, nonce: str | None = None) -> str:
    """Return the hex sha256 of a row's canonical bytes: a JSON array of HASHED_COLUMNS, with
    the row's nonce appended when it has one (a row without one keeps its old bytes)."""
    return hashlib.sha256(_encode(row if nonce is None else (*row, nonce))).hexdigest()


def chain_hash(previous: str, digest: str) -> str:
    """Return the chain hash of a row from the previous row's hash and its own digest."""
    return hashlib.sha256(bytes.fromhex(previous) + bytes.fromhex(digest)).hexdigest()


@dataclass(frozen=True)
class Verdict:
    """The outcome of walking the chain."""

    ok: bool
    count: int
    head_position: int
    head_hash: str
    broken_at: int | None = None
    reason: str | None = None


def verify_rows(rows: Iterable[tuple], expect_head: str | None = None) -> Verdict:
    """Walk rows (STORED_COLUMNS, or HASHED_COLUMNS + hash for a log without nonces, in
    position order) and report the first break.

    Detects a changed byte (digest mismatch), a deleted row (a gap in positions),
    reordered rows (a position no longer matching its canonical bytes or its place) and,
    given `expect_head` (a published head hash), a truncated or rewritten tail.
    """
    previous, count, position = GENESIS, 0, 0
    seen_expected = expect_head is None
    for row in rows:
        if len(row) == len(STORED_COLUMNS):
            *hashed, stored_hash, nonce = row
        else:
            *hashed, stored_hash = row
            nonce = None
        expected_position = position + 1
        position = hashed[0]
        if position != expected_position:
            return Verdict(False, count, position, previous, expected_position,
                           f"position {expected_position} is missing (found {position} next): "
                           "a row was deleted or rows were reordered")
        computed = chain_hash(previous, row_digest(tuple(hashed), nonce))
        if computed != stored_hash:
            return Verdict(False, count, position, previous, position,
                           f"hash mismatch at position {position}: the row was changed, "
                           "or an earlier row was changed and the chain rewritten")
        previous, count = computed, count + 1
        if not seen_expected and computed == expect_head:
            seen_expected = True
    if not seen_expected:  # every link holds, but the published head is not among them
        return Verdict(False, count, position, previous, None,
                       f"the expected head {expect_head} is not in the log, whose {count} links "
                       f"all hold up to head {position} {previous}: the hash was mistyped or "
                       "comes from another archive, rows after it were deleted, or the whole "
                       "chain was rewritten")
    return Verdict(True, count, position, previous)
