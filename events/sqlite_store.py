"""The event store on SQLite: the `EventStore` of `events/store.py` over one SQLite file.

One file in WAL mode whose schema `migrations` created. Appends run under
`BEGIN IMMEDIATE` on one write connection; `commit_jobs` takes several jobs into one
transaction (one fsync for the batch), each job inside its own SAVEPOINT so that one job's
failure does not fail its neighbours. Reads use per-thread connections and never wait for
the writer. Append-only is enforced by the schema's triggers, for every client.

SQLite's errors are translated here, at one place (`translated_errors`), into the store's
own: StoreUnavailable, DuplicateKey. The file-level operations the CLI needs (is there a
log, fold the WAL in, online backup) live here too, so no other module speaks SQL to
`events`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence

import msgspec
from starosta.events.base import EventTypes
from starosta.events.chain import (
    GENESIS,
    HASHED_COLUMNS,
    STORED_COLUMNS,
    Verdict,
    verify_rows,
)
from starosta.events.store import (
    AppendRequest,
    ConcurrencyError,
    DuplicateKey,
    Envelope,
    Head,
    Job,
    LogNotEmpty,
    RebuildRunning,
    StoredRow,
    StoreError,
    StoreBase,
    StoreUnavailable,
    check_expected,
    finish_batch,
    new_rows,
    refuse_repeated_ids,
    retry_positions,
    stored_row,
    utc_stamp,
)

_COLUMNS = ", ".join(HASHED_COLUMNS)
_SELECT = f"SELECT {_COLUMNS}, hash, nonce FROM events"
_ROW_FIELDS = STORED_COLUMNS
assert StoredRow.__struct_fields__ == _ROW_FIELDS, "StoredRow's fields are the stored columns, in order"
_INSERT = f"INSERT INTO events ({_COLUMNS}, hash, nonce) VALUES ({','.join('?' * len(_ROW_FIELDS))})"
_as_tuple = msgspec.structs.astuple
# recorded_at never decreases, so its index is in log order too: one index step, no sort.
POSITION_AT = ("SELECT position, recorded_at FROM events WHERE recorded_at <= ? "
               "ORDER BY recorded_at DESC, position DESC LIMIT 1")

# SQLite result codes (by name prefix: extended codes carry suffixes) meaning the database
# cannot be used right now; anything else (a syntax error, a missing table) is a bug, and
# is left as it is.
_UNAVAILABLE = ("SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_FULL", "SQLITE_IOERR", "SQLITE_READONLY",
                "SQLITE_CANTOPEN", "SQLITE_NOMEM", "SQLITE_PROTOCOL")
_DUPLICATE = ("SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY")


class SQLiteDuplicateKey(DuplicateKey, sqlite3.IntegrityError):
    """DuplicateKey from SQLite. Still an `sqlite3.IntegrityError` so that callers written
    before the store had its own exception (`except sqlite3.IntegrityError`) keep working;
    catch DuplicateKey in new code."""


def translate(exc: BaseException) -> BaseException:
    """Return the store's exception for an SQLite error (`exc` itself when it has none)."""
    name = getattr(exc, "sqlite_errorname", None) or ""
    if isinstance(exc, sqlite3.IntegrityError) and name in _DUPLICATE:
        new: BaseException = SQLiteDuplicateKey(f"already stored: {exc}")
    elif isinstance(exc, sqlite3.DatabaseError) and name.startswith(_UNAVAILABLE):
        new = StoreUnavailable(f"the database could not be written: {exc}")
    else:
        return exc
    new.__cause__ = exc
    return new


@contextlib.contextmanager
def translated_errors() -> Iterator[None]:
    """Raise the store's own exception for an SQLite error raised inside (see `translate`)."""
    try:
        yield
    except sqlite3.Error as exc:
        new = translate(exc)
        if new is exc:
            raise
        raise new from exc


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


def _utc_now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


class SQLiteEventStore(StoreBase):
    """The append-only log in one SQLite file whose schema `migrations` has created."""

    def __init__(self, path: str, catalog: EventTypes, *, synchronous: str = "FULL",
                 busy_timeout_ms: int = 10_000) -> None:
        self.path = path
        self.catalog = catalog
        self.synchronous = synchronous
        self.busy_timeout_ms = busy_timeout_ms
        self._writer = connect(path, synchronous=synchronous, busy_timeout_ms=busy_timeout_ms)
        # A larger page cache for the one writer: rebuilds and projection updates insert into
        # big indexes (1.6x faster bulk loads, measured); bounded at 128 MiB.
        self._writer.execute("PRAGMA cache_size = -131072")
        self._max_pages = self._writer.execute("PRAGMA max_page_count").fetchone()[0]
        self._write_lock = threading.Lock()
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()

    # -- writing -----------------------------------------------------------------------

    def commit_jobs(self, jobs: Sequence[Job]) -> list[list[list[int]] | BaseException]:
        """Commit several jobs in one transaction, each in its own SAVEPOINT: a failing job
        is rolled back alone and its (translated) exception returned in its slot. If the
        transaction itself fails, raise StoreUnavailable; nothing is written."""
        results: list[list[list[int]] | BaseException] = []
        with self._write_lock, translated_errors():
            conn = self._writer
            _begin(conn)
            try:
                done: list[tuple[Job, list[Envelope]]] = []  # the jobs written, for `finish`
                for job in jobs:
                    conn.execute("SAVEPOINT job")
                    try:
                        positions, written = self._write_job(conn, job)
                        if job.after is not None and written:
                            job.after(conn, written)
                    except Exception as exc:  # the job fails alone; its neighbours go on
                        if not conn.in_transaction:
                            # SQLite rolled the whole transaction back (a full disk on a
                            # statement without a statement journal, an I/O error, no
                            # memory): the jobs before this one are gone too.
                            raise _transaction_lost(exc) from exc
                        conn.execute("ROLLBACK TO job")
                        conn.execute("RELEASE job")
                        results.append(translate(exc))
                    else:
                        if not conn.in_transaction:  # the same, under a hook that caught it
                            raise StoreUnavailable("the database rolled the write back")
                        conn.execute("RELEASE job")
                        results.append(positions)
                        done.append((job, written))
                finish_batch(conn, done)  # once per batch, the failed jobs left out
                conn.execute("COMMIT")
            except BaseException:
                _rollback(conn)
                raise
        return results

    @contextlib.contextmanager
    def write_transaction(self) -> Iterator[sqlite3.Connection]:
        """Hold the write connection in a `BEGIN IMMEDIATE` transaction; commit on success,
        roll back and re-raise (translated) on any error (see EventStore)."""
        with self._write_lock, translated_errors():
            conn = self._writer
            _begin(conn)
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                _rollback(conn)
                raise

    def limit_pages(self, pages: int | None) -> int:
        """Cap the database at `pages` pages for this store's writer (SQLite's per-connection
        `PRAGMA max_page_count`; never below the pages in use); None lifts the cap. Returns
        the cap now in force. For tests and for operators rehearsing a full disk: a write
        that needs a page past the cap fails as on a full disk (StoreUnavailable)."""
        with self._write_lock, translated_errors():
            limit = self._max_pages if pages is None else max(int(pages), 1)
            return self._writer.execute(f"PRAGMA max_page_count = {limit}").fetchone()[0]

    def load_rows(self, rows: Iterable[StoredRow]) -> int:
        """Write verified exported rows as stored into an empty log; return how many.

        The insert-time guard against replacing rows (three index lookups a row) is dropped
        for the load and put back in the same transaction: the rows were verified whole by
        the caller, and the table's own keys still refuse a clash (DuplicateKey). Raises
        LogNotEmpty, or StoreError when positions do not run 1, 2, 3...; nothing written.
        """
        with self.write_transaction() as conn:
            if conn.execute("SELECT 1 FROM events LIMIT 1").fetchone():
                raise LogNotEmpty(f"{self.path} already holds events: load into a new database")
            guard = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' "
                                 "AND name = 'events_no_replace'").fetchone()
            if guard:
                conn.execute("DROP TRIGGER events_no_replace")
            count, batch = 0, []
            for row in rows:
                count += 1
                if row.position != count:
                    raise StoreError(f"row {count} has position {row.position}: positions must "
                                     "run 1, 2, 3...")
                batch.append(_as_tuple(row))
                if len(batch) >= 10_000:
                    conn.executemany(_INSERT, batch)
                    batch.clear()
            conn.executemany(_INSERT, batch)
            if guard:
                conn.execute(guard[0])
        return count

    def _write_job(self, conn: sqlite3.Connection, job: Job) -> tuple[list[list[int]], list[Envelope]]:
        refuse_repeated_ids(job.requests)
        head = conn.execute(
            "SELECT position, hash, recorded_at FROM events ORDER BY position DESC LIMIT 1"
        ).fetchone() or (0, GENESIS, "")
        position, previous, last_time = head
        # Record time never decreases, so "the archive as of a timestamp" is a prefix of the log.
        recorded_at = max(_utc_now(), last_time)
        positions: list[list[int]] = []
        written: list[Envelope] = []

        def version_of(stream_id: str) -> int:
            return conn.execute("SELECT COALESCE(MAX(version), 0) FROM events WHERE stream_id = ?",
                                (stream_id,)).fetchone()[0]

        for request in job.requests:
            stored = self._stored_positions(conn, request)
            if stored is not None:
                positions.append(stored)
                continue
            if not written and job.expects:  # before the job's first new event
                check_expected(job.expects, version_of)
            version = version_of(request.stream_id)
            if request.expected_version is not None and version != request.expected_version:
                raise ConcurrencyError(request.stream_id, request.expected_version, version)
            rows, envelopes = new_rows(request, self.catalog, job.meta, recorded_at,
                                       (position, previous), version)
            conn.executemany(_INSERT, rows)
            if envelopes:
                position, previous = envelopes[-1].position, envelopes[-1].hash
            mine = [e.position for e in envelopes]
            written.extend(envelopes)
            positions.append(mine)
        return positions, written

    @staticmethod
    def _stored_positions(conn: sqlite3.Connection, request: AppendRequest) -> list[int] | None:
        """Return the stored positions if this request is a retry, None if it is new."""
        ids = [new.event_id for new in request.events]
        placeholders = ",".join("?" * len(ids))  # a count of '?', never input
        stored = {i: (stream, position) for i, stream, position in conn.execute(
            f"SELECT event_id, stream_id, position FROM events WHERE event_id IN ({placeholders})",
            ids).fetchall()} if ids else {}
        return retry_positions(request, stored)

    # -- reading -----------------------------------------------------------------------

    def reader(self) -> sqlite3.Connection:
        """Return this thread's read connection (opened on first use)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            with translated_errors():
                conn = connect(self.path, synchronous=self.synchronous,
                               busy_timeout_ms=self.busy_timeout_ms)
            self._local.conn = conn
            with self._readers_lock:
                self._readers.append(conn)
        return conn

    @contextlib.contextmanager
    def rebuild_guard(self) -> Iterator[str | None]:
        """Hold the rebuild lock of this file (`rebuild_lock`) while the block runs; yield
        None, or the sentence naming the other holder (nothing held then)."""
        with contextlib.ExitStack() as held:
            try:
                held.enter_context(rebuild_lock(self.path))
            except RebuildRunning as exc:
                yield str(exc).removesuffix(_WAIT)
                return
            yield None

    def _one(self, sql: str, parameters: tuple = ()) -> tuple | None:
        with translated_errors():
            return self.reader().execute(sql, parameters).fetchone()

    def head(self) -> Head:
        """Return the last position, its hash and record time (see EventStore)."""
        row = self._one("SELECT position, hash, recorded_at FROM events ORDER BY position DESC LIMIT 1")
        return Head(*row) if row else Head(0, GENESIS, None)

    def stream_version(self, stream_id: str) -> int:
        """Return the number of events in a stream (0 when it does not exist)."""
        row = self._one("SELECT COALESCE(MAX(version), 0) FROM events WHERE stream_id = ?", (stream_id,))
        assert row is not None
        return row[0]

    def position_at(self, stamp: str) -> tuple[int, str | None]:
        """Return the last position recorded at or before `stamp` and its record time, or
        (0, None); raise ValueError for a malformed stamp (see EventStore)."""
        row = self._one(POSITION_AT, (utc_stamp(stamp),))
        return (row[0], row[1]) if row else (0, None)

    def recorded_at(self, position: int) -> str | None:
        """Return the record time of the last event at or before `position`, or None."""
        row = self._one("SELECT recorded_at FROM events WHERE position <= ? "
                        "ORDER BY position DESC LIMIT 1", (position,))
        return row[0] if row else None

    def read_stream(self, stream_id: str, from_version: int = 1,
                    up_to_position: int | None = None) -> list[Envelope]:
        """Return a stream's events from `from_version`, as typed, upcasted envelopes."""
        with translated_errors():
            rows = self.reader().execute(
                f"{_SELECT} WHERE stream_id = ? AND version >= ? AND position <= ? ORDER BY version",
                (stream_id, from_version, up_to_position if up_to_position is not None else 2**62),
            ).fetchall()
        return [self._decode_row(stored_row(r)) for r in rows]

    def read_rows(self, after: int = 0, limit: int | None = None) -> Iterator[StoredRow]:
        """Yield stored rows after `after` in log order, paged (memory stays flat)."""
        remaining = limit if limit is not None else 2**62
        while remaining > 0:
            with translated_errors():
                page = self.reader().execute(f"{_SELECT} WHERE position > ? ORDER BY position LIMIT ?",
                                             (after, min(remaining, 1000))).fetchall()
            if not page:
                return
            for r in page:
                yield stored_row(r)
            after, remaining = page[-1][0], remaining - len(page)

    def verify(self, expect_head: str | None = None) -> Verdict:
        """Walk the chain in one read transaction (one snapshot, flat memory); see EventStore."""
        with translated_errors():
            return verify_connection(self.reader(), expect_head)

    def close(self) -> None:
        """Close every connection this store opened."""
        with self._write_lock:
            self._writer.close()
        with self._readers_lock:
            for conn in self._readers:
                conn.close()
            self._readers.clear()
        self._local = threading.local()


def _begin(conn: sqlite3.Connection) -> None:
    """Start the writer's transaction. A transaction left open by an earlier failure (a
    ROLLBACK that itself failed on a sick disk) is rolled back first, so that one bad moment
    does not refuse every later write with "cannot start a transaction within a transaction"."""
    if conn.in_transaction:
        conn.execute("ROLLBACK")
    conn.execute("BEGIN IMMEDIATE")


def _rollback(conn: sqlite3.Connection) -> None:
    """Roll the writer's transaction back if SQLite has not already done so. An error of the
    ROLLBACK itself is dropped: the error that caused it is the one to report, and `_begin`
    clears what is left before the next write."""
    if conn.in_transaction:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")


def _transaction_lost(exc: BaseException) -> StoreUnavailable:
    """Return the StoreUnavailable of a batch whose transaction SQLite rolled back itself."""
    new = translate(exc)
    if isinstance(new, StoreUnavailable):
        return new
    return StoreUnavailable(f"the database rolled the write back: {exc}")



# -- the SQLite file ---------------------------------------------------------------------------


def verify_connection(conn: sqlite3.Connection, expect_head: str | None = None) -> Verdict:
    """Verify the chain of the `events` table reachable through `conn` (one statement: one
    snapshot; streamed, flat memory). Works on a read-only connection, and on a file written
    before migration 0006 (no nonce column: its rows have none)."""
    has_nonce = any(r[1] == "nonce" for r in conn.execute("PRAGMA table_info(events)"))
    select = _SELECT if has_nonce else f"SELECT {_COLUMNS}, hash, NULL FROM events"
    cursor = conn.execute(f"{select} ORDER BY position")
    cursor.arraysize = 2000

    def rows() -> Iterator[tuple]:
        while batch := cursor.fetchmany():
            yield from batch

    return verify_rows(rows(), expect_head)


def holds_events(path: str) -> bool:
    """Return whether the SQLite file at `path` exists and holds a log with events (read-only)."""
    if not os.path.exists(path):
        return False
    conn = sqlite3.connect(f"file:{os.path.abspath(path)}?mode=ro", uri=True)
    try:
        with translated_errors():
            if not conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' "
                                "AND name = 'events'").fetchone():
                return False
            return conn.execute("SELECT 1 FROM events LIMIT 1").fetchone() is not None
    finally:
        conn.close()


def seal_file(path: str) -> None:
    """Fold the WAL into the file at `path` and switch it to a rollback journal, so that the
    file alone is the whole database (to move it into place). Every store on it must be
    closed."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        with translated_errors():
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.execute("PRAGMA journal_mode = DELETE")
    finally:
        conn.close()


def backup_file(source: str, target: str,
                progress: Callable[[int, int], None] | None = None) -> None:
    """Copy the database at `source` to a new file `target` with SQLite's online backup API
    (writers go on meanwhile; the copy is one consistent snapshot), in WAL mode.
    `progress(pages_done, pages_total)` is called between steps. Raises FileExistsError when
    `target` exists."""
    if os.path.exists(target):
        raise FileExistsError(f"{target} exists: back up to a new file")
    src = sqlite3.connect(f"file:{os.path.abspath(source)}?mode=ro", uri=True)
    dest = sqlite3.connect(target)
    try:
        with translated_errors():
            src.backup(dest, pages=1024,
                       progress=(lambda status, remaining, total: progress(total - remaining, total))
                       if progress else None)
            dest.execute("PRAGMA journal_mode = WAL")
    finally:
        dest.close()
        src.close()


# -- the rebuild lock of a file ----------------------------------------------------------------

_WAIT = "; wait for it to finish"
LOCK_SUFFIX = ".rebuild-lock"  # the lock file beside the database, present while a rebuild runs
_held = threading.local()  # the lock files this thread holds (a rebuild inside a rebuild's lock)


@contextlib.contextmanager
def rebuild_lock(path: str) -> Iterator[None]:
    """Hold the exclusive rebuild lock of the database file `path` while the block runs.

    The lock is an flock on `PATH.rebuild-lock`, which holds the holder's pid and is removed on
    release (a killed holder leaves it behind, unlocked: the next rebuild takes it). Taken
    again by the thread that holds it, it is a no-op. Raises RebuildRunning at once, naming
    the holder's pid, when another process or thread holds it; OSError when the file cannot
    be created.
    """
    if path in ("", ":memory:"):  # a private database: nobody else can rebuild it
        yield
        return
    lock = os.path.realpath(path) + LOCK_SUFFIX
    held: set[str] = getattr(_held, "paths", None) or set()
    _held.paths = held
    if lock in held:
        yield
        return
    fd = _locked(lock, path)
    held.add(lock)
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        held.discard(lock)
        # removed while still locked: a rebuild that opened this file meanwhile finds, once it
        # gets the lock, that the path no longer names it, and takes the path's new file
        with contextlib.suppress(OSError):
            os.unlink(lock)
        os.close(fd)


def _locked(lock: str, path: str) -> int:
    """Open and flock the lock file `lock` (of the database `path`); return its descriptor."""
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            raise RebuildRunning(f"another rebuild of {path} is running (pid {holder})"
                                 f"{_WAIT}") from None
        except BaseException:
            os.close(fd)
            raise
        try:
            if os.fstat(fd).st_ino == os.stat(lock).st_ino:
                return fd
        except FileNotFoundError:
            pass
        os.close(fd)  # the holder released and removed this file after we opened it: again


def _holder(fd: int) -> str:
    """Return the pid written in a held lock file ("unknown" if its holder has not yet)."""
    for _ in range(20):
        pid = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        if pid:
            return pid
        time.sleep(0.01)
    return "unknown"
