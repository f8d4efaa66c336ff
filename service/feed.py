"""The log as readers see it, below HTTP: its rows with the redaction rule, its head, and the
bound on live-feed readers (GET /events, GET /events/stream and `starosta.client` share these).

No Litestar here: the Python client decodes the log with these same structs.
"""

from __future__ import annotations

import threading
from typing import Any

import msgspec

from starosta.projections import claims as claims_model
from starosta.projections import registry
from starosta.projections.rules import Viewer
from starosta.service.domain import accounts
from starosta.service.domain.accounts import is_account_id
from starosta.events.store import EventStore

MAX_POSITION = 2**62  # positions are SQLite integers: larger values answer 422, never overflow


class LogEvent(msgspec.Struct, kw_only=True):
    """A row of the log as stored: every hashed field, its nonce, its digest and its chain hash.

    `data` is the stored JSON object; re-encoded compactly (msgspec, key order kept) it
    gives the exact stored text that the digest covers. `digest` is sha256 of the
    canonical row (its hashed fields, then its `nonce` when it has one: rows appended
    before the nonce existed have none); `hash` = sha256(previous hash + digest).

    A row of a claim the caller may not see (pending, rejected, contested, retracted, suppressed:
    see GET /claims/{id}), or of an entity an admin suppressed, is redacted: `redacted` is true and only `position`, `recorded_at`,
    `digest` and `hash` are given; every other field is null (type, stream and version
    too, so a redacted row tells nothing of the claim it belongs to), and its digest
    cannot be matched against guessed content (the nonce stays hidden). The chain still
    verifies link by link through it.

    Who acted: rows since accounts carry an account id (`A-...`) in `actor` and in the data's
    `contributor`/`reviewer`. Rows written before carry names: readers below reviewer get
    them with each name replaced by its account id and `pseudonymised` true (such a row's
    content no longer checks against its digest; its link in the chain still does).
    Reviewers and admins get every row as stored.
    """

    position: int
    event_id: str | None
    stream_id: str | None
    version: int | None
    type: str | None
    schema_version: int | None
    data: dict[str, Any] | None = msgspec.field(default=None)
    actor: str | None
    request_id: str | None
    causation_id: str | None
    recorded_at: str
    nonce: str | None = None
    digest: str
    hash: str
    redacted: bool = False
    pseudonymised: bool | None = None  # null on a redacted row, which shows no actor


def redacted_row(position: int, recorded_at: str, digest: str, hash: str) -> LogEvent:
    """Return the row a reader who may not see it gets: what the chain needs, nothing else."""
    return LogEvent(position=position, event_id=None, stream_id=None, version=None, type=None,
                    schema_version=None, actor=None, request_id=None, causation_id=None,
                    recorded_at=recorded_at, digest=digest, hash=hash, redacted=True)


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


def log_page(conn, store: EventStore, after: int, limit: int, reader: Viewer) -> LogPage:
    """A page of the log with the events of claims `reader` may not see redacted (runs in a
    reader thread: up to 1000 rows decoded and digested). The one place the log's redaction
    rule is applied: GET /events and the live feed both read through it."""
    rows = list(store.read_rows(after, limit))
    claim_streams = {r.stream_id for r in rows if r.type.startswith("claim.")}
    hidden = claims_model.hidden(conn, claim_streams, reader)
    hidden |= registry.hidden_records(conn, {r.stream_id for r in rows} - claim_streams, reader)
    datas = {r.position: msgspec.json.decode(r.data) for r in rows if r.stream_id not in hidden}
    people = accounts.directory(conn, [] if reader.reviewer else [
        v for r in rows if r.position in datas
        for v in (r.actor, *(datas[r.position].get(f) for f in accounts.ACTOR_FIELDS))
        if isinstance(v, str) and not is_account_id(v)])
    items = []
    for r in rows:
        if r.stream_id in hidden:
            items.append(redacted_row(r.position, r.recorded_at, r.digest(), r.hash))
            continue
        data, actor, renamed = datas[r.position], r.actor, False
        if not reader.reviewer:  # readers see accounts by id only (service/domain/accounts.py)
            data, renamed = accounts.pseudonymised_data(data, people)
            if actor and not is_account_id(actor):
                actor, renamed = people.account_of(actor), True
        items.append(LogEvent(
            position=r.position, event_id=r.event_id, stream_id=r.stream_id, version=r.version,
            type=r.type, schema_version=r.schema_version, data=data,
            actor=actor, request_id=r.request_id, causation_id=r.causation_id,
            recorded_at=r.recorded_at, nonce=r.nonce, digest=r.digest(), hash=r.hash,
            pseudonymised=renamed))
    more = len(items) == limit and store.head().position > items[-1].position
    return LogPage(items, str(items[-1].position) if more else None)


class StreamSlots:
    """At most `limit` live-feed readers at once: each holds a slot while its stream is open.

    `take` returns a release function, or None when every slot is held; releasing twice is
    harmless (a stream's cleanup and its garbage collection may both release)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.open = 0
        self._lock = threading.Lock()

    def take(self):
        with self._lock:
            if self.open >= self.limit:
                return None
            self.open += 1
        released = False

        def release() -> None:
            nonlocal released
            with self._lock:
                if not released:
                    released = True
                    self.open -= 1
        return release
