"""The event store's interface: what the service asks of any store, its values and its errors.

`EventStore` is the contract every backend implements and `tests/contract/` checks: an
append-only log with gap-free positions in commit order, streams with optimistic
concurrency, idempotent event ids, a hash chain, and atomic group commit with a hook run
inside the append's transaction. `GroupCommitter`, the single writer thread, works on any
`EventStore`. The implementations live in `events/sqlite_store.py` and
`events/postgres_store.py`; nothing outside the storage backends (service/backends/) names them.
`Connection` is what shared code reads and writes through: the one type it knows of a database
connection, on either backend.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import queue
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol, runtime_checkable

import msgspec
from starosta.events.base import Event
from starosta.events.chain import HASHED_COLUMNS, Verdict, chain_hash, new_nonce, row_digest

ANY = None  # expected_version meaning "do not check"


# -- errors --------------------------------------------------------------------------------


class StoreError(Exception):
    """Base of the store's errors."""


class ConcurrencyError(StoreError):
    """A stream's version was not the expected one; nothing was written."""

    def __init__(self, stream_id: str, expected: int, actual: int) -> None:
        super().__init__(
            f"stream {stream_id!r} is at version {actual}, not the expected {expected}"
        )
        self.stream_id, self.expected, self.actual = stream_id, expected, actual


class IdempotencyConflict(StoreError):
    """Some, not all, of an append's event ids are already stored, or under another stream,
    or one id appears twice in one append; nothing was written."""


class StoreUnavailable(StoreError):
    """The database could not be written (locked past the busy timeout, disk full, I/O)."""


class DuplicateKey(StoreError):
    """A write beside the log (an `after` hook, a maintenance transaction) hit a unique key
    that is already stored: e.g. the same Idempotency-Key stored by a racing request."""


class LogNotEmpty(StoreError):
    """`load_rows` was given a store that already holds events; nothing was written."""


class RebuildRunning(Exception):
    """Another process (or thread) is rebuilding the read models of the same database."""


# -- values --------------------------------------------------------------------------------


class Metadata(msgspec.Struct, frozen=True, kw_only=True):
    """Who caused an append and why: stored beside each event it writes."""

    actor: str | None = None
    request_id: str | None = None
    causation_id: str | None = None


class NewEvent(msgspec.Struct, frozen=True):
    """An event to append, with its id (a retry must reuse the id to be idempotent)."""

    event: Event
    event_id: str = msgspec.field(default_factory=lambda: uuid.uuid4().hex)


class AppendRequest(msgspec.Struct, frozen=True):
    """Events for one stream, appended only if the stream is at `expected_version`."""

    stream_id: str
    events: Sequence[NewEvent]
    expected_version: int | None = ANY


class Envelope(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A stored event with its place in the log and its metadata."""

    position: int
    event_id: str
    stream_id: str
    version: int
    type: str
    schema_version: int
    recorded_at: str
    actor: str | None
    request_id: str | None
    causation_id: str | None
    hash: str
    event: Event


class StoredRow(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A row of the log exactly as stored (data undecoded), for export and verification."""

    position: int
    event_id: str
    stream_id: str
    version: int
    type: str
    schema_version: int
    data: str
    actor: str | None
    request_id: str | None
    causation_id: str | None
    recorded_at: str
    hash: str
    nonce: str | None = None  # rows appended before migration 0006 have none

    def digest(self) -> str:
        """Return the sha256 of this row's canonical bytes, nonce included (what the chain
        links)."""
        return row_digest(tuple(getattr(self, c) for c in HASHED_COLUMNS), self.nonce)


class Head(msgspec.Struct, frozen=True):
    """The last position of the log and its chain hash (0 and the genesis hash when empty)."""

    position: int
    hash: str
    recorded_at: str | None = None


# -- the transaction an `after` hook and a maintenance write receive ---------------------


class Cursor(Protocol):
    """What a statement returns: its rows, and how many it changed."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """A connection to the store's database as shared code (projections, the domain, HTTP
    handlers) sees it on either backend: statements with `?` placeholders, rows as tuples.
    A SQLite connection is one; on PostgreSQL the store hands a wrapper that rewrites the
    placeholders (`PostgresTransaction`). Nothing else of a driver's API is used outside the
    backend modules."""

    def execute(self, sql: str, parameters: Any = ..., /) -> Cursor: ...

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> Cursor: ...

    def close(self) -> None: ...  # for the connections a caller opens (sqlite3's, the wrapper's)


class Transaction(Connection, Protocol):
    """An open write transaction of the store's database, opaque beyond running statements.
    Everything executed through it commits or rolls back with the events it accompanies."""


# A hook run inside the append's transaction with the envelopes it wrote: projections
# use it to stay current in the same transaction (a read after a 201 sees the change).
AfterAppend = Callable[[Transaction, list[Envelope]], None]


class Job(msgspec.Struct, frozen=True):
    """One atomic unit for the writer: appends to several streams, all or nothing.

    `expects` maps streams the job's decision read (and may not write) to the versions it
    read them at: the job is refused with ConcurrencyError, writing nothing, when any of them
    stands at another version (see `check_expected`).

    `finish`, when given, is a batch-end hook (issue 25): the store calls it once per committed
    batch, after every job and before the COMMIT, with the envelopes of all the jobs of the
    batch that carry that same hook and were written (a job that failed, rolled back to its
    SAVEPOINT, is not in them). Work derived from several events (the read models' `finish`)
    is thus done once per batch, not once per job. If it raises, the whole batch fails."""

    requests: Sequence[AppendRequest]
    meta: Metadata = Metadata()
    after: AfterAppend | None = None
    expects: Mapping[str, int] = msgspec.field(default_factory=dict)
    finish: AfterAppend | None = None


# -- the interface -------------------------------------------------------------------------


@runtime_checkable
class EventStore(Protocol):
    """An append-only, hash-chained event log: what the service and the projections need.

    Invariants every implementation keeps (checked by `tests/contract/`): positions run
    1, 2, 3... without gaps in commit order; a stream's versions run 1, 2, 3... and are
    unique; an event id is stored once; `recorded_at` (RFC 3339 UTC, microseconds, `Z`)
    never decreases along the log; `hash(n) = sha256(hash(n-1) ‖ digest(n))` from
    `events.chain.GENESIS`; stored events are never updated, deleted or replaced.
    """

    def append(self, stream_id: str, events: Sequence[Event | NewEvent],
               expected_version: int | None = ANY, meta: Metadata = Metadata()) -> list[int]:
        """Append events to one stream atomically; return their positions.

        Raises ConcurrencyError (nothing written) when the stream is not at
        `expected_version` (ANY: no check). A retry (every event id stored already in
        this stream) writes nothing and returns the stored positions, whatever its
        expected version; IdempotencyConflict when only some ids are stored, an id is
        stored in another stream, or an id repeats within the append. StoreUnavailable
        when the database cannot be written.
        """
        ...

    def append_atomic(self, requests: Sequence[AppendRequest], meta: Metadata = Metadata(),
                      after: AfterAppend | None = None,
                      expects: Mapping[str, int] | None = None) -> list[list[int]]:
        """Append to several streams in one transaction, each with its expected version.

        `expects` (stream id -> version) names streams the caller's decision read but need
        not write: ConcurrencyError, nothing written, when one of them is at another version
        in the log as it stands before this append (a pure retry, writing nothing, is not
        checked). A decision that reads several streams and writes one thus conflicts with
        any concurrent write to what it read.

        Returns the positions per request. `after(transaction, envelopes)` runs inside
        the transaction with the envelopes written (not for a pure retry); if it or any
        request fails, nothing is written and the first error is raised (the request
        errors of `append`, or whatever `after` raised; a unique-key clash of its writes
        as DuplicateKey).
        """
        ...

    def commit_jobs(self, jobs: Sequence[Job]) -> list[list[list[int]] | BaseException]:
        """Commit several independent jobs in one transaction (group commit), each with its
        requests' expected versions and its `expects` checked against the log as the jobs
        before it in the batch left it.

        Returns one slot per job: its positions per request, or the exception that
        failed it (as `append_atomic` would raise). A failing job is rolled back alone,
        leaving no gap in positions, and its neighbours commit. If the commit itself
        fails, raises (StoreUnavailable) and nothing is written.
        """
        ...

    def write_transaction(self) -> AbstractContextManager[Transaction]:
        """Hold the writer in one transaction for maintenance writes beside the log
        (projection rebuilds, stored answers); commit on leaving, roll back and re-raise
        on any error. Appends never interleave with it. Raises StoreUnavailable when the
        database cannot be written, DuplicateKey on a unique-key clash."""
        ...

    def load_rows(self, rows: Iterable[StoredRow]) -> int:
        """Write exported rows exactly as stored (hashes included) into an empty log, in
        one transaction; return how many. The caller has verified them (decoding, chain).

        Raises LogNotEmpty when the log holds events, StoreError when positions do not
        run 1, 2, 3...; nothing is written then.
        """
        ...

    def read_stream(self, stream_id: str, from_version: int = 1,
                    up_to_position: int | None = None) -> list[Envelope]:
        """Return a stream's events from `from_version` in version order, typed and
        upcasted, only those at or before `up_to_position` when given; [] for an unknown
        stream."""
        ...

    def read_log(self, after: int = 0, limit: int | None = None) -> Iterator[Envelope]:
        """Yield up to `limit` events after position `after` in log order, typed and
        upcasted, fetched in pages (memory stays flat however long the log)."""
        ...

    def read_rows(self, after: int = 0, limit: int | None = None) -> Iterator[StoredRow]:
        """Yield up to `limit` stored rows after position `after` in log order, exactly as
        stored (for export and verification), fetched in pages."""
        ...

    def head(self) -> Head:
        """Return the last position, its chain hash and record time; `Head(0, GENESIS,
        None)` for an empty log."""
        ...

    def stream_version(self, stream_id: str) -> int:
        """Return the number of events in a stream (0 when it does not exist)."""
        ...

    def position_at(self, stamp: str) -> tuple[int, str | None]:
        """Return the last position recorded at or before the RFC 3339 timestamp `stamp`
        (any offset; compared in UTC to the microsecond) and its `recorded_at`; (0, None)
        when nothing was recorded by then. Raises ValueError for a malformed stamp or one
        without an offset."""
        ...

    def recorded_at(self, position: int) -> str | None:
        """Return the record time of the log as of `position`: that of the last event at
        or before it; None when there is none (position < 1, or an empty log)."""
        ...

    def verify(self, expect_head: str | None = None) -> Verdict:
        """Walk the whole hash chain (flat memory) and return the verdict: ok, the count,
        the head; otherwise the first broken position and why. With `expect_head` (a head
        hash published earlier), also fail when that hash is not in the log."""
        ...

    def reader(self) -> Connection:
        """Return this thread's read connection (opened on first use, kept for the thread):
        reads see committed data only, and never wait for the writer."""
        ...

    def rebuild_guard(self) -> AbstractContextManager[str | None]:
        """Hold this database's rebuild lock while the block runs (one rebuild of the read
        models at a time, across processes): yields None when taken, or, when another holds
        it, a sentence naming the holder ("another rebuild of ... is running (pid 12)";
        nothing held then: the caller refuses). Taken again
        by the thread that holds it, it is a no-op."""
        ...

    def close(self) -> None:
        """Release every connection the store opened; the store is unusable afterwards."""
        ...


def utc_stamp(value: str) -> str:
    """Return an RFC 3339 timestamp in the form `recorded_at` is stored in (UTC, microseconds,
    `Z`), so that stamps compare as strings. Raises ValueError for a malformed stamp or one
    without an offset."""
    moment = dt.datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError(f"timestamp {value!r} has no UTC offset: add Z or +01:00")
    try:
        moment = moment.astimezone(dt.UTC)
    except OverflowError:  # 9999-12-31T23:59:59-14:00 is in the year 10000 in UTC
        raise ValueError(f"timestamp {value!r} falls outside the years 1-9999 in UTC") from None
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def as_new(event: Event | NewEvent) -> NewEvent:
    """Return `event` wrapped as a NewEvent with a fresh id (unchanged if it is one)."""
    return event if isinstance(event, NewEvent) else NewEvent(event)


# -- the single writer ---------------------------------------------------------------------


class StoreBase:
    """What both stores (SQLite's, PostgreSQL's) do the same way, over their own
    `commit_jobs` and `read_rows`: one-stream and atomic appends, decoding stored rows."""

    catalog: Any

    def append(self, stream_id: str, events: Sequence[Event | NewEvent],
               expected_version: int | None = ANY, meta: Metadata = Metadata()) -> list[int]:
        """Append events to one stream atomically; return their positions (see EventStore)."""
        request = AppendRequest(stream_id, [as_new(e) for e in events], expected_version)
        return self.append_atomic([request], meta)[0]

    def append_atomic(self, requests: Sequence[AppendRequest], meta: Metadata = Metadata(),
                      after: AfterAppend | None = None,
                      expects: Mapping[str, int] | None = None) -> list[list[int]]:
        """Append to several streams in one transaction; return positions per request, or
        raise the first error, writing nothing (see EventStore)."""
        job = Job(requests, meta, after, dict(expects or {}))
        result = self.commit_jobs([job])[0]  # type: ignore[attr-defined]
        if isinstance(result, BaseException):
            raise result
        return result

    def read_log(self, after: int = 0, limit: int | None = None) -> Iterator[Envelope]:
        """Yield the log after `after` in order as typed, upcasted envelopes, paged."""
        for row in self.read_rows(after, limit):  # type: ignore[attr-defined]
            yield self._decode_row(row)

    def _decode_row(self, row: StoredRow) -> Envelope:
        return Envelope(
            position=row.position, event_id=row.event_id, stream_id=row.stream_id,
            version=row.version, type=row.type, schema_version=row.schema_version,
            recorded_at=row.recorded_at, actor=row.actor, request_id=row.request_id,
            causation_id=row.causation_id, hash=row.hash,
            event=self.catalog.decode(row.type, row.schema_version, row.data),
        )


def stored_row(r: tuple) -> StoredRow:
    """A row selected as `SELECT <STORED_COLUMNS>` (hashed columns, hash, nonce) as a StoredRow."""
    return StoredRow(position=r[0], event_id=r[1], stream_id=r[2], version=r[3], type=r[4],
                     schema_version=r[5], data=r[6], actor=r[7], request_id=r[8],
                     causation_id=r[9], recorded_at=r[10], hash=r[11], nonce=r[12])


class GroupCommitter:
    """The single writer: batches every waiting job into one transaction, then answers all.

    `submit` may be called from any thread; `append` from the event loop (it never
    blocks the loop while the writer waits on the disk).
    """

    _STOP = object()

    def __init__(self, store: EventStore, *, max_batch: int = 512) -> None:
        self.store = store
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="starosta-writer", daemon=True)
        self._thread.start()
        self.batches = 0
        self.jobs = 0

    def submit(self, job: Job) -> concurrent.futures.Future:
        """Queue a job; the future resolves to its positions or raises its error."""
        future: concurrent.futures.Future = concurrent.futures.Future()
        self._queue.put((job, future))
        return future

    async def append(self, job: Job) -> list[list[int]]:
        """Await a job's commit from the event loop."""
        return await asyncio.wrap_future(self.submit(job))

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is self._STOP:
                return
            batch = [item]
            stop = False
            while len(batch) < self.max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is self._STOP:
                    stop = True
                    break
                batch.append(item)
            try:
                self._commit(batch)
            except BaseException as exc:  # a bug here must not kill the one writer: every
                for _, future in batch:   # caller still unanswered learns it; later batches go on
                    if not future.done():
                        future.set_exception(exc)
            if stop:
                return

    def _commit(self, batch: list) -> None:
        # A caller that gave up (a cancelled request) cancelled its future: its job is dropped
        # before the transaction, and no answer is set on it (that would kill this thread).
        batch = [(job, f) for job, f in batch if f.set_running_or_notify_cancel()]
        if not batch:
            return
        try:
            results = self.store.commit_jobs([job for job, _ in batch])
        except BaseException as exc:  # the whole transaction failed (StoreUnavailable on a full
            # disk or an I/O error: nothing of it was written): every caller of this batch
            # learns it, and the writer waits for the next batch
            for _, future in batch:
                future.set_exception(exc)
            return
        self.batches += 1
        self.jobs += len(batch)
        for (_, future), result in zip(batch, results):
            if isinstance(result, BaseException):
                future.set_exception(result)
            else:
                future.set_result(result)

    def close(self) -> None:
        """Finish every queued job, then stop the writer thread."""
        self._queue.put(self._STOP)
        self._thread.join()


def finish_batch(tx: Transaction, done: Sequence[tuple[Job, list[Envelope]]]) -> None:
    """Call each distinct `Job.finish` hook of the jobs written in a batch once, with the
    envelopes of the jobs carrying it, in log order (both stores call this before COMMIT)."""
    hooks: list[tuple[AfterAppend, list[Envelope]]] = []  # distinct by equality: a bound
    for job, written in done:                              # method is a new object each time
        if job.finish is not None and written:
            for hook, envelopes in hooks:
                if hook == job.finish:
                    envelopes.extend(written)
                    break
            else:
                hooks.append((job.finish, list(written)))
    for hook, envelopes in hooks:
        hook(tx, envelopes)


# -- the write rules every store applies (one copy; each store reads and writes its own way) ----

def refuse_repeated_ids(requests: Sequence[AppendRequest]) -> None:
    """Raise IdempotencyConflict when one event id appears twice in one job."""
    seen: set[str] = set()
    for request in requests:
        for new in request.events:
            if new.event_id in seen:
                raise IdempotencyConflict(f"event id {new.event_id} appears twice in one append")
            seen.add(new.event_id)


def check_expected(expects: Mapping[str, int], version_of: Callable[[str], int]) -> None:
    """Raise ConcurrencyError for the first stream of `expects` (in sorted order, so the
    message is stable) whose version, as `version_of` reads it, is not the expected one.
    Called once per job, before its first new event is written."""
    for stream in sorted(expects):
        actual = version_of(stream)
        if actual != expects[stream]:
            raise ConcurrencyError(stream, expects[stream], actual)


def retry_positions(request: AppendRequest, stored: dict[str, tuple[str, int]]) -> list[int] | None:
    """Return the stored positions if `request` is a retry, None if it is new, given
    event id -> (stream, position) for those of its ids already stored; raise
    IdempotencyConflict when only some of its ids are stored, or one in another stream."""
    ids = [new.event_id for new in request.events]
    if not ids:
        return []
    if not stored:
        return None
    mine = {i: position for i, (stream, position) in stored.items() if stream == request.stream_id}
    if not mine:
        raise IdempotencyConflict(f"event id {next(iter(stored))} is already stored in another stream")
    if len(mine) != len(ids):
        raise IdempotencyConflict(
            f"{len(mine)} of the {len(ids)} event ids of this append are stored already: "
            "a retry must resend the same events")
    return [mine[i] for i in ids]


def new_rows(request: AppendRequest, catalog: Any, meta: Metadata, recorded_at: str,
             head: tuple[int, str], version: int) -> tuple[list[tuple], list[Envelope]]:
    """Return the stored rows (STORED_COLUMNS: hashed columns, the chain hash, a fresh nonce)
    and envelopes of a new request appended after `head` (position, hash) to a stream at
    `version`."""
    position, previous = head
    rows, envelopes = [], []
    for new in request.events:
        position, version = position + 1, version + 1
        tag, schema_version, data = catalog.encode(new.event)
        row = (position, new.event_id, request.stream_id, version, tag, schema_version,
               data.decode("utf-8"), meta.actor, meta.request_id, meta.causation_id, recorded_at)
        nonce = new_nonce()
        previous = chain_hash(previous, row_digest(row, nonce))
        rows.append((*row, previous, nonce))
        envelopes.append(Envelope(
            position=position, event_id=new.event_id, stream_id=request.stream_id,
            version=version, type=tag, schema_version=schema_version, recorded_at=recorded_at,
            actor=meta.actor, request_id=meta.request_id, causation_id=meta.causation_id,
            hash=previous, event=new.event))
    return rows, envelopes
