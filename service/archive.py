"""The archive as the service sees it: the store, its one writer, the projections, and the
commit path every write takes (projections and Idempotency-Key answers in the append's
own transaction)."""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

import msgspec
from litestar import Request, Response

from starosta.events.store import AppendRequest, Envelope, GroupCommitter, Job, Metadata, SQLiteEventStore
from starosta.projections.biographies import BiographiesProjection
from starosta.projections.claims import ClaimsProjection
from starosta.projections.ledger import LedgerProjection
from starosta.projections.population import PopulationProjection
from starosta.projections.registry import RegistryProjection
from starosta.projections.runner import Runner
from starosta.projections.search import SearchProjection
from starosta.service.auth import Principal
from starosta.service.errors import ApiError

IDEMPOTENCY_HEADER = "Idempotency-Key"
# render(conn, envelopes) -> (status, content) or (status, content, headers)
Render = Callable[[sqlite3.Connection, list[Envelope]], tuple]


def default_runner() -> Runner:
    """Return the runner of every projection the service keeps current."""
    return Runner([RegistryProjection(), SearchProjection(), ClaimsProjection(),
                   PopulationProjection(), LedgerProjection(), BiographiesProjection()])


class Archive:
    """The store, its writer and its projections, opened together."""

    def __init__(self, store: SQLiteEventStore, writer: GroupCommitter | None, runner: Runner) -> None:
        self.store, self.writer, self.runner = store, writer, runner

    def read(self) -> sqlite3.Connection:
        """Return this thread's read connection."""
        return self.store.reader()

    def commit_sync(self, requests: Sequence[AppendRequest], meta: Metadata,
                    after: Callable[[sqlite3.Connection, list[Envelope]], None] | None = None) -> list[list[int]]:
        """Append with projections in the same transaction, from a thread (the CLI, the demo)."""
        return self.store.append_atomic(requests, meta, after=self._after(after))

    async def commit(self, request: Request, who: Principal, requests: Sequence[AppendRequest],
                     render: Render) -> Response:
        """Append `requests` atomically, keep projections current, answer with `render`.

        With an Idempotency-Key header, the first answer is stored in the same transaction
        and a replay of the same key and body returns it without appending anything.
        """
        key = request.headers.get(IDEMPOTENCY_HEADER)
        body_hash = hashlib.sha256(await request.body()).hexdigest()
        record = (who.token_id, request.url.path, key, body_hash) if key is not None else None
        try:
            return await self._commit(who, requests, render, record,
                                      request.headers.get("X-Request-Id"))
        except sqlite3.IntegrityError:
            if key is not None:  # the same key won a race in another request: answer as it did
                replay = self.replayed(request, who, body_hash)
                if replay is not None:
                    return replay
            raise

    async def commit_unkeyed(self, who: Principal, requests: Sequence[AppendRequest],
                             render: Render) -> Response:
        """Append like `commit`, storing no Idempotency-Key answer (a part of a bulk request)."""
        return await self._commit(who, requests, render, None, None)

    async def _commit(self, who: Principal, requests: Sequence[AppendRequest], render: Render,
                      record: tuple | None, request_id: str | None) -> Response:
        answer: list[tuple[int, bytes, dict[str, str]]] = []

        def after(conn: sqlite3.Connection, envelopes: list[Envelope]) -> None:
            status, content, *rest = render(conn, envelopes)
            headers = rest[0] if rest else {}
            encoded = msgspec.json.encode(content)
            answer.append((status, encoded, headers))
            if record is not None:
                conn.execute("INSERT INTO idempotency_keys (token_id, path, key, body_sha256, status, "
                             "response, created_at, headers) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                             (*record, status, encoded, dt.datetime.now(dt.timezone.utc).isoformat(),
                              msgspec.json.encode(headers).decode()))

        assert self.writer is not None, "the service's archive has a writer"
        await self.writer.append(Job(requests, Metadata(actor=who.name, request_id=request_id),
                                     self._after(after)))
        if not answer:  # every event id was stored already: nothing new was written
            raise ApiError(409, "Conflict", "this request was already applied")
        status, encoded, headers = answer[0]
        return Response(encoded, status_code=status, media_type="application/json", headers=headers)

    def replayed(self, request: Request, who: Principal, body_hash: str) -> Response | None:
        """Return the stored first answer for this request's Idempotency-Key, if any.

        Raises ApiError 422 when the key was used with another body.
        """
        key = request.headers.get(IDEMPOTENCY_HEADER)
        if key is None or who.token_id is None:
            return None
        if not 1 <= len(key) <= 200:
            raise ApiError(422, "Invalid request", f"{IDEMPOTENCY_HEADER} must be 1-200 characters",
                           [{"field": IDEMPOTENCY_HEADER, "in": "header", "value": key[:200],
                             "message": "1-200 characters"}])
        row = self.read().execute(
            "SELECT body_sha256, status, response, headers FROM idempotency_keys "
            "WHERE token_id = ? AND path = ? AND key = ?", (who.token_id, request.url.path, key),
        ).fetchone()
        if row is None:
            return None
        if row[0] != body_hash:
            raise ApiError(422, "Idempotency-Key reused",
                           f"{IDEMPOTENCY_HEADER} {key!r} was first used on {request.url.path} "
                           "with another body: use a new key for a new request",
                           [{"field": IDEMPOTENCY_HEADER, "in": "header", "value": key,
                             "message": "reused with another body"}])
        return Response(row[2], status_code=row[1], media_type="application/json",
                        headers={**msgspec.json.decode(row[3]), "Idempotent-Replayed": "true"})

    def remember(self, request: Request, who: Principal, body_hash: str, status: int,
                 content: Any) -> None:
        """Store an answer composed of several commits (bulk review) under its key."""
        key = request.headers.get(IDEMPOTENCY_HEADER)
        if key is None or who.token_id is None:
            return
        with self.store.write_transaction() as conn:
            conn.execute("INSERT OR IGNORE INTO idempotency_keys (token_id, path, key, body_sha256, "
                         "status, response, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                         (who.token_id, request.url.path, key, body_hash, status,
                          msgspec.json.encode(content), dt.datetime.now(dt.timezone.utc).isoformat()))

    def _after(self, extra):
        def after(conn: sqlite3.Connection, envelopes: list[Envelope]) -> None:
            self.runner.apply(conn, envelopes)
            if extra is not None:
                extra(conn, envelopes)
        return after
