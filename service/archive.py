"""The archive as the service sees it: the store, its one writer, the read models, and the
write path every command takes, in explicit stages:

1. a command (service.domain.commands) checks a request against the read models and returns a
   `Decision` (service.domain.replies): the appends (events with the stream versions they expect)
   and the typed reply;
2. the writer appends them, the read models apply them, and the reply is completed with the
   committed positions and stored under its Idempotency-Key, all in one transaction;
3. the caller gets the completed reply back and renders it (the HTTP layer, outside the writer).

Nothing here knows HTTP: replies are typed values, errors are domain errors.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import msgspec

from starosta.events.errors import Conflict, Invalid
from starosta.events.store import (
    AppendRequest,
    Connection,
    Envelope,
    EventStore,
    GroupCommitter,
    Job,
    Metadata,
    StoreUnavailable,
)
from starosta.projections import biographies
from starosta.projections import claims as claims_model
from starosta.projections.rules import Viewer
from starosta.projections.runner import Runner
from starosta.service.domain import access, accounts
from starosta.service.domain.access import IdempotencyKey, StoredReply
from starosta.service.health import HeadPing
from starosta.service.lane import PerClient
from starosta.service.domain.replies import REPLY_KINDS, BulkOut, BulkReviewed, ClaimStateOf, Decision, Reply

EVERYONE = Viewer(reviewer=True, admin=True)
T = TypeVar("T")
log = logging.getLogger("starosta")
# how long a write's answer waits for the documents it changed to be settled (a settler that
# fails this long is a bug, logged: the write is committed and answered all the same)
SETTLE_WAIT = 60.0


class Settler:
    """The thread that assembles stale stored biographies outside the writer (issue 25).

    The writer marks a document stale in the events' transaction (`biographies.mark_stale`);
    this thread assembles the oldest marks from a read snapshot and stores them by
    compare-and-set (`biographies.settle_stale`), woken by `kick` after a write that marked
    one and at least every `interval` seconds (marks another server or process left). Each
    pass wakes the writes waiting for their documents (`next_pass`)."""

    def __init__(self, store: EventStore, tables: dict[str, str], interval: float = 1.0) -> None:
        self.store, self.tables, self.interval = store, tables, interval
        self._kick = threading.Event()
        self._stopping = False
        self._lock = threading.Lock()
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future]] = []
        self.settled = 0  # marks settled, for tests and benchmarks
        self._kick.set()  # a first pass at once
        self._thread = threading.Thread(target=self._run, name="starosta-settler", daemon=True)
        self._thread.start()

    def kick(self) -> None:
        self._kick.set()

    def waiter(self) -> asyncio.Future:
        """Return a future of the running loop resolved when the next pass ends."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        with self._lock:
            self._waiters.append((loop, future))
        return future

    def _run(self) -> None:
        while not self._stopping:
            self._kick.wait(self.interval)
            self._kick.clear()
            while not self._stopping:
                try:
                    done = biographies.settle_stale(self.store, self.tables)
                except Exception:  # logged; the marks stay and are tried again
                    log.exception("settling stale biographies failed; retrying in a second")
                    done = 0
                self.settled += done
                self._wake()
                if not done:
                    break

    def _wake(self) -> None:
        with self._lock:
            waiters, self._waiters = self._waiters, []
        for loop, future in waiters:
            try:
                loop.call_soon_threadsafe(_resolve, future)
            except RuntimeError:  # its loop is closed
                pass

    def close(self) -> None:
        self._stopping = True
        self._kick.set()
        self._thread.join()
        self._wake()


def _resolve(future: asyncio.Future) -> None:
    if not future.done():
        future.set_result(None)


class Committed(msgspec.Struct, frozen=True):
    """A committed (or replayed) decision's reply: its kind, its value encoded, its ETag."""

    kind: str
    body: bytes
    etag: str | None = None
    replayed: bool = False


class _KeyTaken(Exception):
    """Another request stored an answer under the same Idempotency-Key first."""


def complete(conn: Connection, reply: Reply, written: list[Envelope]) -> Committed:
    """Return the reply filled in from the committed events and the read models (which the
    writer has just brought up to date in the same transaction)."""
    if isinstance(reply, ClaimStateOf):
        # decisions are answered to reviewers, and a retraction to the claim's own contributor
        # (whose pending claim holds no other actor): names, as reviewers read them
        out = accounts.read_claim(conn, reply.claim_id, EVERYONE)
        assert out is not None, "a decided claim exists"
        return Committed("claim", msgspec.json.encode(out), claims_model.etag(out.version))
    if isinstance(reply, BulkReviewed):
        items = [item if item.status != 200 else msgspec.structs.replace(
            item, claim=claims_model.read(conn, item.id, EVERYONE)) for item in reply.items]
        return Committed("bulk", msgspec.json.encode(BulkOut(items)))
    value = msgspec.structs.replace(reply, position=written[0].position)
    return Committed(REPLY_KINDS[type(value)], msgspec.json.encode(value))


class Archive:
    """The store, its writer and its read models, opened together."""

    def __init__(self, store: EventStore, writer: GroupCommitter | None, runner: Runner,
                 reader_threads: int = 4, replica: Any = None, *, expensive_threads: int = 2,
                 expensive_per_client: int = 2, expensive_queue: int = 16) -> None:
        self.store, self.writer, self.runner = store, writer, runner
        self.reader_threads = reader_threads
        # GETs read here: a streaming replica of the store's PostgreSQL database (its read
        # models arrive with its log, by replication), or the store itself
        self.replica = replica
        # Two pools of their own whose threads live as long as the archive: each thread's read
        # connection is opened once (anyio's shared pool retires idle threads, and every new
        # thread would open, and keep, one more connection). `_readers` serve GETs (on the
        # replica when there is one); `_deciders` serve the write path's reads and every token
        # lookup (on the primary: never stale), so slow GETs never hold a write, nor a flood
        # of writes a GET.
        self._readers = concurrent.futures.ThreadPoolExecutor(reader_threads,
                                                              thread_name_prefix="starosta-reader")
        self.decider_threads = max(2, reader_threads // 2)
        self._deciders = concurrent.futures.ThreadPoolExecutor(
            self.decider_threads, thread_name_prefix="starosta-decider")
        # i23-lane: the expensive-read lane (service/lane.py), a pool of its own, bounded per
        # client and in all, so that cheap reads never queue behind expensive ones
        self.expensive_threads = expensive_threads
        self._expensive = concurrent.futures.ThreadPoolExecutor(
            expensive_threads, thread_name_prefix="starosta-expensive")
        self.expensive = PerClient(expensive_per_client, expensive_threads, expensive_queue)
        # /health's answer, from a thread of its own asking the primary for the head
        self.health = HeadPing(lambda: self.store.head().position)
        self.settler: Settler | None = None

    def start(self) -> None:
        """Start the background work a serving archive does (the /health ping; with a writer,
        the settler of stale biographies, which from then on the writer only marks)."""
        self.health.start()
        if self.writer is not None and self.settler is None:
            bio = self.runner.get("biographies")
            tables = self.runner.tables(None, bio)  # type: ignore[arg-type] # names only
            self.settler = Settler(self.store, tables)
            bio.deferred = True  # type: ignore[attr-defined]

    def read(self) -> Connection:
        """Return this thread's read connection: the replica's when one is configured."""
        return (self.replica or self.store).reader()

    @property
    def reading_store(self):
        """The store GETs of the log read (its rows, its head): the replica's when one is
        configured, so that a page and its redaction come from one database."""
        return self.replica or self.store

    def read_primary(self) -> Connection:
        """Return this thread's read connection to the database writes go to (tokens,
        Idempotency-Key answers: never stale)."""
        return self.store.reader()

    async def wait_for(self, position: int, timeout: float) -> int:
        """Wait until the read models GETs read (the replica's, or the store's) have applied
        log position `position`; return the position they have applied. Polls every 20 ms in
        a reader thread; raises StoreUnavailable (answered 503 with Retry-After) when
        `timeout` seconds pass first. On the store itself a committed position is applied at
        once (same transaction). Raises Invalid for a position the log has not reached (no
        write answered it: nothing to wait for)."""
        head = (await self.run_read(lambda _: self.store.head())).position
        if position > head:
            raise Invalid("min_position", position, f"the log ends at position {head}: pass "
                          "the position a write answered", where="query")
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            applied = await self.run_read(self.runner.applied)
            # and the stored documents settled (biographies.mark_stale): none marked stale at
            # or before `position` (a write's answer waits for its own; this, for any)
            if applied >= position and not await self.run_read(biographies.any_unsettled,
                                                                position):
                return applied
            if asyncio.get_running_loop().time() >= deadline:
                where = "the read replica" if self.replica is not None else "the archive"
                raise StoreUnavailable(
                    f"min_position={position}: {where} has applied the log up to position "
                    f"{applied} so far (waited {timeout:g} s); retry")
            await asyncio.sleep(0.02)

    async def run_read(self, read: Callable[..., T], *args: Any) -> T:
        """Run `read(conn, *args)` in a reader thread on that thread's own connection (the
        replica's when one is configured), so that a slow read never holds the event loop; at
        most `reader_threads` at once (more wait for a thread, never the loop)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._readers, lambda: read(self.read(), *args))

    async def run_expensive(self, client: str, read: Callable[..., T], *args: Any) -> T:
        """Run an expensive read, `read(conn, *args)`, for `client` (its client key) in the
        expensive lane's threads (on the connection GETs read, as `run_read`), never on the
        reader pool. Raises lane.ClientBusy when `client` already has `expensive_per_client`
        reads admitted, lane.LaneFull when the lane's threads and queue are all taken. A read
        counts against its client until its thread finishes it (a caller that goes away does
        not free its share while the read still runs; one still queued is dropped)."""
        self.expensive.take(client)
        try:
            future = self._expensive.submit(lambda: read(self.read(), *args))
        except BaseException:
            self.expensive.give(client)
            raise
        future.add_done_callback(lambda _: self.expensive.give(client))
        return await asyncio.wrap_future(future)

    async def run_primary(self, read: Callable[..., T], *args: Any) -> T:
        """Run `read(conn, *args)` in a decider thread, on that thread's own connection to the
        database writes go to: token lookups, Idempotency-Key answers and the reads of a
        command's decision, which must never be stale. At most `decider_threads` at once."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._deciders,
                                          lambda: read(self.read_primary(), *args))

    def close(self) -> None:
        """Finish the writer's queue, stop the reader threads, close every connection."""
        self.health.close()
        if self.writer is not None:
            self.writer.close()
        if self.settler is not None:
            self.settler.close()
            self.runner.get("biographies").deferred = False  # type: ignore[attr-defined]
        self._readers.shutdown(wait=True)
        self._expensive.shutdown(wait=True, cancel_futures=True)
        self._deciders.shutdown(wait=True)
        if self.replica is not None:
            self.replica.close()
        self.store.close()

    def commit_sync(self, requests: Sequence[AppendRequest], meta: Metadata) -> list[list[int]]:
        """Append with the read models in the same transaction, from a thread (CLI, demo)."""
        return self.store.append_atomic(requests, meta, after=self.runner.apply)

    async def commit(self, decision: Decision, actor: str, key: IdempotencyKey | None = None,
                     request_id: str | None = None) -> Committed:
        """Append a decision through the group-committing writer, with the read models and
        the completed reply (stored under `key`) in the same transaction; return the reply.

        Raises the store's ConcurrencyError when a stream moved, Conflict when nothing new
        was written (a retry of an applied decision without a key)."""
        answer: list[Committed] = []
        if not decision.appends:  # nothing to append (a bulk review that refused every claim)
            answered = await self.run_primary(lambda _: self._answer_alone(decision.reply, key))
            if answered is None:
                assert key is not None
                return await self.replay(key)  # type: ignore[return-value]
            return answered

        touched: list[str] = []  # the person records whose stored documents it changed

        def after(conn: Connection, written: list[Envelope]) -> None:
            if decision.recheck is not None:
                decision.recheck(conn)
            self.runner.apply_events(conn, written)  # `finish` once per batch (Job.finish)
            committed = complete(conn, decision.reply, written)
            if key is not None and not access.remember(conn, key, StoredReply(
                    committed.kind, committed.body, committed.etag)):
                raise _KeyTaken(key.key)  # rolls this job back: the first answer stands
            touched.extend(self.runner.get("biographies").touched(written))  # type: ignore[attr-defined]
            answer.append(committed)

        assert self.writer is not None, "the service's archive has a writer"
        try:
            positions = await self.writer.append(Job(
                decision.appends, Metadata(actor=actor, request_id=request_id), after,
                decision.expects, finish=self.runner.finish_batch))
            last = max((p for stream in positions for p in stream), default=0)
            self.health.saw(last)
        except _KeyTaken:
            assert key is not None
            return await self.replay(key)  # type: ignore[return-value]
        if not answer:
            raise Conflict("this request was already applied")
        if touched and self.settler is not None:  # read your writes: the documents it changed
            await self.settled(touched, last)
        return answer[0]

    async def settled(self, records: list[str], position: int) -> None:
        """Wait until the stored documents of `records` show the archive as of `position`
        (the settler has assembled them from a snapshot at or after it): what a write's answer
        waits for, so that its caller's next read of them shows the write."""
        assert self.settler is not None
        self.settler.kick()
        deadline = asyncio.get_running_loop().time() + SETTLE_WAIT
        while True:
            next_pass = self.settler.waiter()  # before the check: no pass is missed
            if not await self.run_primary(biographies.unsettled, records, position):
                return
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                log.error("the documents of %s were not settled at position %d within %g s",
                          ", ".join(sorted(set(records))[:5]), position, SETTLE_WAIT)
                return
            # another process may settle them (PostgreSQL): look again at least every 50 ms
            await asyncio.wait([next_pass], timeout=min(0.05, remaining))

    def _answer_alone(self, reply: Reply, key: IdempotencyKey | None) -> Committed | None:
        """Complete a reply that appends nothing and store it under `key` in one write
        transaction; None when another request stored an answer under the key first."""
        with self.store.write_transaction() as conn:
            committed = complete(conn, reply, [])
            if key is not None and not access.remember(conn, key, StoredReply(
                    committed.kind, committed.body, committed.etag)):
                return None
        return committed

    async def replay(self, key: IdempotencyKey) -> Committed | None:
        """Return the first answer stored under `key`, or None (raises access.KeyReused),
        read in a decider thread."""
        stored = await self.run_primary(access.replayed, key)
        if stored is None:
            return None
        return Committed(stored.kind, stored.body, stored.etag, replayed=True)
