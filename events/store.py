"""The event store on SQLite: atomic, optimistic-concurrency appends with group commit.

One SQLite file in WAL mode. Appends run under `BEGIN IMMEDIATE` on one write
connection; a `GroupCommitter` thread takes every append waiting in its queue into
one transaction (one fsync for the batch), each append inside its own SAVEPOINT so
that one append's conflict does not fail its neighbours. Reads use per-thread
connections and never wait for the writer.

The store's interface (append, append_atomic, read_stream, read_log, head) is what a
second backend (PostgreSQL) would implement; nothing above it sees SQLite.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import datetime as dt
import queue
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence

import msgspec

from starosta.events.base import Event, EventTypes
from starosta.events.chain import GENESIS, HASHED_COLUMNS, chain_hash, row_digest

ANY = None  # expected_version meaning "do not check"


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
    """Some, not all, of an append's event ids are already stored, or under another stream."""


class StoreUnavailable(StoreError):
    """The database could not be written (locked past the busy timeout, disk full, I/O)."""


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

    def digest(self) -> str:
        """Return the sha256 of this row's canonical bytes (what the chain links)."""
        return row_digest(tuple(getattr(self, c) for c in HASHED_COLUMNS))


class Head(msgspec.Struct, frozen=True):
    """The last position of the log and its chain hash (0 and the genesis hash when empty)."""

    position: int
    hash: str
    recorded_at: str | None = None


# A hook run inside the append's transaction with the envelopes it wrote: projections
# use it to stay current in the same transaction (a read after a 201 sees the change).
AfterAppend = Callable[[sqlite3.Connection, list[Envelope]], None]


class Job(msgspec.Struct, frozen=True):
    """One atomic unit for the writer: appends to several streams, all or nothing."""

    requests: Sequence[AppendRequest]
    meta: Metadata = Metadata()
    after: AfterAppend | None = None


_COLUMNS = ", ".join(HASHED_COLUMNS)
_SELECT = f"SELECT {_COLUMNS}, hash FROM events"


def connect(path: str, *, synchronous: str = "FULL", busy_timeout_ms: int = 10_000) -> sqlite3.Connection:
    """Open `path` in WAL mode, autocommit, with our pragmas; return the connection."""
    if synchronous.upper() not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
        raise ValueError(f"synchronous must be OFF, NORMAL, FULL or EXTRA, not {synchronous!r}")
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False,
                           timeout=busy_timeout_ms / 1000)
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(f"PRAGMA synchronous = {synchronous.upper()}")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


@contextlib.contextmanager
def translated_errors() -> Iterator[None]:
    """Translate SQLite's operational errors into StoreUnavailable, at this one place."""
    try:
        yield
    except sqlite3.OperationalError as exc:
        raise StoreUnavailable(f"the database could not be written: {exc}") from exc


def _utc_now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


class SQLiteEventStore:
    """The append-only log in one SQLite file whose schema `migrations` has created."""

    def __init__(self, path: str, catalog: EventTypes, *, synchronous: str = "FULL") -> None:
        self.path = path
        self.catalog = catalog
        self.synchronous = synchronous
        self._writer = connect(path, synchronous=synchronous)
        # A larger page cache for the one writer: rebuilds and projection updates insert into
        # big indexes (PERFORMANCE.md: 1.6x on bulk loads); bounded at 128 MiB.
        self._writer.execute("PRAGMA cache_size = -131072")
        self._write_lock = threading.Lock()
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()

    # -- writing -----------------------------------------------------------------------

    def append(self, stream_id: str, events: Sequence[Event | NewEvent],
               expected_version: int | None = ANY, meta: Metadata = Metadata()) -> list[int]:
        """Append events to one stream atomically; return their positions.

        Raises ConcurrencyError (nothing written) when the stream is not at
        `expected_version`. Appending event ids that are all stored already writes
        nothing and returns their stored positions.
        """
        request = AppendRequest(stream_id, [_as_new(e) for e in events], expected_version)
        return self.append_atomic([request], meta)[0]

    def append_atomic(self, requests: Sequence[AppendRequest], meta: Metadata = Metadata(),
                      after: AfterAppend | None = None) -> list[list[int]]:
        """Append to several streams in one transaction, each with its expected version.

        Return the positions per request; raise the first request's error, writing nothing.
        """
        result = self.commit_jobs([Job(requests, meta, after)])[0]
        if isinstance(result, BaseException):
            raise result
        return result

    def commit_jobs(self, jobs: Sequence[Job]) -> list[list[list[int]] | BaseException]:
        """Commit several independent jobs in one transaction (group commit).

        Each job runs in its own SAVEPOINT: a failing job is rolled back alone and its
        exception returned in its slot. If the COMMIT itself fails, every slot holds
        that error and nothing is written.
        """
        results: list[list[list[int]] | BaseException] = []
        with self._write_lock, translated_errors():
            conn = self._writer
            conn.execute("BEGIN IMMEDIATE")
            try:
                for job in jobs:
                    conn.execute("SAVEPOINT job")
                    try:
                        positions, written = self._write_job(conn, job)
                        if job.after is not None and written:
                            job.after(conn, written)
                    except Exception as exc:  # the job fails alone; its neighbours go on
                        conn.execute("ROLLBACK TO job")
                        conn.execute("RELEASE job")
                        results.append(exc)
                    else:
                        conn.execute("RELEASE job")
                        results.append(positions)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        return results

    @contextlib.contextmanager
    def write_transaction(self) -> Iterator[sqlite3.Connection]:
        """Hold the write connection in a `BEGIN IMMEDIATE` transaction; commit on success.

        For maintenance writes beside the log (projection rebuilds); appends go through
        `commit_jobs`. Rolls back and re-raises on any error.
        """
        with self._write_lock, translated_errors():
            conn = self._writer
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    def _write_job(self, conn: sqlite3.Connection, job: Job) -> tuple[list[list[int]], list[Envelope]]:
        head = conn.execute(
            "SELECT position, hash, recorded_at FROM events ORDER BY position DESC LIMIT 1"
        ).fetchone() or (0, GENESIS, "")
        position, previous, last_time = head
        # Record time never decreases, so "the archive as of a timestamp" is a prefix of the log.
        recorded_at = max(_utc_now(), last_time)
        positions: list[list[int]] = []
        written: list[Envelope] = []
        for request in job.requests:
            stored = self._stored_positions(conn, request)
            if stored is not None:
                positions.append(stored)
                continue
            version = conn.execute(
                "SELECT COALESCE(MAX(version), 0) FROM events WHERE stream_id = ?",
                (request.stream_id,),
            ).fetchone()[0]
            if request.expected_version is not None and version != request.expected_version:
                raise ConcurrencyError(request.stream_id, request.expected_version, version)
            mine = []
            for new in request.events:
                position, version = position + 1, version + 1
                tag, schema_version, data = self.catalog.encode(new.event)
                row = (position, new.event_id, request.stream_id, version, tag, schema_version,
                       data.decode("utf-8"), job.meta.actor, job.meta.request_id,
                       job.meta.causation_id, recorded_at)
                previous = chain_hash(previous, row_digest(row))
                conn.execute(
                    f"INSERT INTO events ({_COLUMNS}, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                    (*row, previous),
                )
                mine.append(position)
                written.append(Envelope(
                    position=position, event_id=new.event_id, stream_id=request.stream_id,
                    version=version, type=tag, schema_version=schema_version,
                    recorded_at=recorded_at, actor=job.meta.actor,
                    request_id=job.meta.request_id, causation_id=job.meta.causation_id,
                    hash=previous, event=new.event,
                ))
            positions.append(mine)
        return positions, written

    @staticmethod
    def _stored_positions(conn: sqlite3.Connection, request: AppendRequest) -> list[int] | None:
        """Return the stored positions if this request is a retry, None if it is new."""
        ids = [new.event_id for new in request.events]
        if not ids:
            return []
        placeholders = ",".join("?" * len(ids))  # a count of '?', never input
        found = dict(conn.execute(
            f"SELECT event_id, position FROM events WHERE event_id IN ({placeholders})"
            " AND stream_id = ?", (*ids, request.stream_id),
        ).fetchall())
        if not found:
            elsewhere = conn.execute(
                f"SELECT event_id FROM events WHERE event_id IN ({placeholders}) LIMIT 1", ids
            ).fetchone()
            if elsewhere:
                raise IdempotencyConflict(
                    f"event id {elsewhere[0]} is already stored in another stream")
            return None
        if len(found) != len(ids):
            raise IdempotencyConflict(
                f"{len(found)} of the {len(ids)} event ids of this append are stored already: "
                "a retry must resend the same events")
        return [found[i] for i in ids]

    # -- reading -----------------------------------------------------------------------

    def reader(self) -> sqlite3.Connection:
        """Return this thread's read connection (opened on first use)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.path, synchronous=self.synchronous)
            self._local.conn = conn
            with self._readers_lock:
                self._readers.append(conn)
        return conn

    def head(self) -> Head:
        """Return the last position and its hash."""
        row = self.reader().execute(
            "SELECT position, hash, recorded_at FROM events ORDER BY position DESC LIMIT 1"
        ).fetchone()
        return Head(*row) if row else Head(0, GENESIS, None)

    def stream_version(self, stream_id: str) -> int:
        """Return the number of events in a stream (0 when it does not exist)."""
        return self.reader().execute(
            "SELECT COALESCE(MAX(version), 0) FROM events WHERE stream_id = ?", (stream_id,)
        ).fetchone()[0]

    def read_stream(self, stream_id: str, from_version: int = 1,
                    up_to_position: int | None = None) -> list[Envelope]:
        """Return a stream's events from `from_version`, as typed, upcasted envelopes."""
        rows = self.reader().execute(
            f"{_SELECT} WHERE stream_id = ? AND version >= ? AND position <= ? ORDER BY version",
            (stream_id, from_version, up_to_position if up_to_position is not None else 2**62),
        ).fetchall()
        return [self._envelope(r) for r in rows]

    def read_rows(self, after: int = 0, limit: int | None = None) -> Iterator[StoredRow]:
        """Yield stored rows after `after` in log order, paged (memory stays flat)."""
        remaining = limit if limit is not None else 2**62
        conn = self.reader()
        while remaining > 0:
            page = conn.execute(f"{_SELECT} WHERE position > ? ORDER BY position LIMIT ?",
                                (after, min(remaining, 1000))).fetchall()
            if not page:
                return
            for r in page:
                yield StoredRow(**dict(zip((*HASHED_COLUMNS, "hash"), r)))
            after, remaining = page[-1][0], remaining - len(page)

    def read_log(self, after: int = 0, limit: int | None = None) -> Iterator[Envelope]:
        """Yield the log after `after` in order as typed, upcasted envelopes, paged."""
        for row in self.read_rows(after, limit):
            yield self._decode_row(row)

    def _envelope(self, r: tuple) -> Envelope:
        return self._decode_row(StoredRow(**dict(zip((*HASHED_COLUMNS, "hash"), r))))

    def _decode_row(self, row: StoredRow) -> Envelope:
        return Envelope(
            position=row.position, event_id=row.event_id, stream_id=row.stream_id,
            version=row.version, type=row.type, schema_version=row.schema_version,
            recorded_at=row.recorded_at, actor=row.actor, request_id=row.request_id,
            causation_id=row.causation_id, hash=row.hash,
            event=self.catalog.decode(row.type, row.schema_version, row.data),
        )

    def close(self) -> None:
        """Close every connection this store opened."""
        with self._write_lock:
            self._writer.close()
        with self._readers_lock:
            for conn in self._readers:
                conn.close()
            self._readers.clear()
        self._local = threading.local()


def _as_new(event: Event | NewEvent) -> NewEvent:
    return event if isinstance(event, NewEvent) else NewEvent(event)


class GroupCommitter:
    """The single writer: batches every waiting job into one transaction, then answers all.

    `submit` may be called from any thread; `append` from the event loop (it never
    blocks the loop while the writer waits on the disk).
    """

    _STOP = object()

    def __init__(self, store: SQLiteEventStore, *, max_batch: int = 512) -> None:
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
            self._commit(batch)
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
        except BaseException as exc:  # the whole transaction failed: every caller learns it
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
