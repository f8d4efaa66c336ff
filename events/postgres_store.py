"""The event store on PostgreSQL: the `EventStore` of `events/store.py` over one PostgreSQL
database (psycopg 3), for an archive that outgrows one process and one machine.

Every write transaction (an append, a group commit, a maintenance write, a load) first takes
`pg_advisory_xact_lock` on the `events` table's key, then reads the head and the database's
clock in a statement of its own: positions, hashes and `recorded_at` are computed under that
lock, so they run 1, 2, 3... in commit order however many processes or servers append. (A
sequence would not do: it hands out numbers when a row is inserted, not when it commits, so a
later number can commit first and a reader tailing the log skips the earlier one, and a rolled
back transaction burns its numbers. `LOCK TABLE ... IN EXCLUSIVE MODE`, pyeventsourcing's way,
would need UPDATE, DELETE or TRUNCATE privilege, which the service's role must not have.) The
transaction runs at READ COMMITTED, so the head read after the lock sees every earlier commit.

The canonical bytes and hashes are those of `events/chain.py`, the columns and their values
those of the SQLite store, so a log moves between the two backends with the same head hash.
Append-only is enforced by the schema (migrations/postgres: triggers refusing UPDATE, DELETE
and TRUNCATE for every client, and a service role with only INSERT and SELECT on `events`).

psycopg's errors are translated here, at one place (`translate`), into the store's own. Every
dialect difference of the event store lives in this module.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, NamedTuple

import msgspec
import psycopg
from psycopg import errors as pg_errors
from psycopg import pq
from psycopg.adapt import Dumper, PyFormat, Transformer
from psycopg.pq import ConnStatus, ExecStatus, TransactionStatus
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
_ROW_FIELDS = STORED_COLUMNS
assert StoredRow.__struct_fields__ == _ROW_FIELDS, "StoredRow's fields are the stored columns, in order"
_SELECT = f"SELECT {_COLUMNS}, hash, nonce FROM events"
_INSERT = f"INSERT INTO events ({_COLUMNS}, hash, nonce) VALUES ({', '.join(['%s'] * len(_ROW_FIELDS))})"
_COPY = f"COPY events ({_COLUMNS}, hash, nonce) FROM STDIN"
_as_tuple = msgspec.structs.astuple

# The one lock every writer of this log takes first, in its transaction (released at its end).
# Keyed by the table's oid: each `events` table (one per database or schema) has its own.
APPEND_LOCK = "SELECT pg_advisory_xact_lock('events'::regclass::oid::bigint)"
# A write transaction's first round trip: BEGIN and the lock, as one simple query (no
# parameters). READ COMMITTED whatever the database's default: each later statement's snapshot
# is taken when it starts, after the lock, so it sees every earlier commit.
_BEGIN_LOCKED = f"BEGIN ISOLATION LEVEL READ COMMITTED; {APPEND_LOCK}"
# Its second: everything a batch needs to decide its jobs, in one statement after the lock's.
# The head, the database's clock (not each server's: several servers share one), the stored
# rows of the batch's event ids, and the version of each of its streams (one index probe each).
_BATCH_STATE = (
    "SELECT head.position, head.hash, head.recorded_at,"
    " to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),"
    " (SELECT COALESCE(json_agg(json_build_array(e.event_id, e.stream_id, e.position)), '[]')"
    "  FROM events AS e WHERE e.event_id = ANY(%s::text[])),"
    " (SELECT COALESCE(json_object_agg(s, (SELECT MAX(version) FROM events WHERE stream_id = s)),"
    "  '{}') FROM unnest(%s::text[]) AS s)"
    " FROM (SELECT 1) AS one LEFT JOIN"
    " (SELECT position, hash, recorded_at FROM events ORDER BY position DESC LIMIT 1) AS head"
    " ON true")
_HEAD = "SELECT position, hash, recorded_at FROM events ORDER BY position DESC LIMIT 1"
_VERSION = "SELECT COALESCE(MAX(version), 0) FROM events WHERE stream_id = %s"
# recorded_at never decreases (and compares bytewise: COLLATE "C"), so its index is in log order.
POSITION_AT = ("SELECT position, recorded_at FROM events WHERE recorded_at <= %s "
               "ORDER BY recorded_at DESC, position DESC LIMIT 1")


# The rebuild lock's key: the append lock's, moved past every oid (oids are 32-bit).
_REBUILD_KEY = "'events'::regclass::oid::bigint + 4294967296"


def _lock_holder(conn: psycopg.Connection) -> str:
    """Describe the session holding the rebuild lock: its backend pid and client address."""
    row = conn.execute(
        "SELECT a.pid, a.application_name, a.client_addr::text FROM pg_locks AS l "
        "JOIN pg_stat_activity AS a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted "
        f"AND (l.classid::bigint << 32) + l.objid::bigint = {_REBUILD_KEY} LIMIT 1").fetchone()
    if row is None:
        return "another session"
    return f"backend pid {row[0]} ({row[1] or 'no name'}, {row[2] or 'local'})"


# -- errors ------------------------------------------------------------------------------------


def translate(exc: BaseException) -> BaseException:
    """Return the store's exception for a psycopg error (`exc` itself when it has none).

    A unique key already stored is DuplicateKey; a database that cannot be reached or written
    right now (connection lost, server shutting down, disk full, out of connections, a lock
    not granted within the lock timeout, a read-only standby) is StoreUnavailable. Anything
    else (a syntax error, a missing table, a privilege the role lacks) is a bug or a
    misconfiguration, and is left as it is.
    """
    if isinstance(exc, pg_errors.UniqueViolation):
        new: BaseException = DuplicateKey(f"already stored: {exc}")
    elif isinstance(exc, (psycopg.OperationalError, pg_errors.ReadOnlySqlTransaction)):
        new = StoreUnavailable(f"the database could not be written: {exc}")
    else:
        return exc
    new.__cause__ = exc
    return new


@contextlib.contextmanager
def translated_errors() -> Iterator[None]:
    """Raise the store's own exception for a psycopg error raised inside (see `translate`)."""
    try:
        yield
    except psycopg.Error as exc:
        new = translate(exc)
        if new is exc:
            raise
        raise new from exc


# -- the transaction a hook or a maintenance write receives -----------------------------------


@functools.lru_cache(maxsize=4096)
def qmark(sql: str) -> str:
    """Return `sql`, written with SQLite's `?` placeholders, in psycopg's: `?` becomes `%s` and
    a literal `%` is doubled. The read models write their statements once, in `?` style, for
    both backends. Limit: a `?` inside a string literal would be taken for a placeholder (no
    statement of ours has one)."""
    return sql.replace("%", "%%").replace("?", "%s")


class _BytesAsText(Dumper):
    """Send Python bytes as text: the read models store msgspec's JSON bytes in TEXT columns
    (SQLite takes them as they are; PostgreSQL would refuse a bytea for a text column). Every
    such value is UTF-8 JSON, and no table of ours has a bytea column (BLOB maps to TEXT)."""

    oid = psycopg.adapters.types["text"].oid

    def dump(self, obj: bytes) -> bytes:
        return bytes(obj)


class PostgresTransaction:
    """A connection as the read models and the `Transaction` protocol see it: `execute` and
    `executemany` with SQLite's `?` placeholders (`qmark`), rows as tuples. An `after` hook and
    `write_transaction` get the write connection inside its open transaction; `reader()` gives
    a read connection (autocommit: each statement one snapshot). `connection` is the psycopg
    connection itself (for COPY and psycopg's own placeholders); `dialect` tells the read
    models which SQL to speak (`projections/sql.py`)."""

    __slots__ = ("connection",)
    dialect = "postgres"

    def __init__(self, connection: psycopg.Connection) -> None:
        self.connection = connection

    def close(self) -> None:
        """Close the connection (one opened for this wrapper alone, e.g. by the CLI)."""
        self.connection.close()

    @property
    def in_transaction(self) -> bool:
        """Whether a transaction is open (sqlite3.Connection's attribute of the same name)."""
        return self.connection.info.transaction_status != TransactionStatus.IDLE

    def execute(self, sql: str, parameters: Any = None, /) -> psycopg.Cursor:
        if parameters is None:
            return self.connection.execute(sql)
        return self.connection.execute(qmark(sql), parameters)

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> psycopg.Cursor:
        cursor = self.connection.cursor()
        cursor.executemany(qmark(sql), parameters)
        return cursor


# -- the reader's short path (issue 25, item 6) --------------------------------------------------
#
# A GET on PostgreSQL is one query on the reader thread's connection, and a psycopg cursor
# spends in Python (building the cursor, converting the query, its generators and waits) about
# three times what the round trip itself costs the server; one server's cores went to that,
# not to waiting. A read model's query on a reader connection (a SELECT or WITH, with
# parameters) is therefore sent through libpq directly: its `?` placeholders written as `$1,
# $2...` once, the parameters dumped and the rows loaded by psycopg's own Transformer (the
# connection's adapters: the same Python values as a cursor gives), and the statement prepared
# on the connection from its second use (a bounded cache per connection, like psycopg's
# `prepare_threshold` and `prepared_max`), so a biography read is one round trip whose server
# side is an index probe. Everything else (no parameters, another kind of statement) goes
# through psycopg's cursor as before.

READER_PREPARED_MAX = 256  # prepared statements kept per reader connection (psycopg's default: 100)
_SHORT_PATH = ("SELECT", "WITH")


@functools.lru_cache(maxsize=4096)
def dollar(sql: str) -> tuple[bytes, int]:
    """Return `sql`, written with `?` placeholders, with PostgreSQL's own `$1, $2...` (as
    bytes), and the number of its placeholders. Same limit as `qmark`: a `?` inside a string
    literal would be taken for a placeholder."""
    parts = sql.split("?")
    out = [parts[0]]
    for number, part in enumerate(parts[1:], 1):
        out.append(f"${number}")
        out.append(part)
    return "".join(out).encode(), len(parts) - 1


class Rows:
    """A statement's rows as the read models use a cursor's: `fetchone`, `fetchall`,
    `fetchmany` and iteration (each row a tuple), and `rowcount`."""

    __slots__ = ("_rows", "_at", "rowcount")

    def __init__(self, rows: list[tuple], rowcount: int) -> None:
        self._rows, self._at, self.rowcount = rows, 0, rowcount

    def fetchone(self) -> tuple | None:
        if self._at >= len(self._rows):
            return None
        self._at += 1
        return self._rows[self._at - 1]

    def fetchall(self) -> list[tuple]:
        rows = self._rows[self._at:] if self._at else self._rows
        self._at = len(self._rows)
        return rows

    def fetchmany(self, size: int = 1) -> list[tuple]:
        rows = self._rows[self._at:self._at + size]
        self._at += len(rows)
        return rows

    def __iter__(self) -> Iterator[tuple]:
        while self._at < len(self._rows):
            self._at += 1
            yield self._rows[self._at - 1]

    def close(self) -> None:
        self._at = len(self._rows)


class _ReadSession:
    """A reader connection's state for the short path: its Transformer and its prepared
    statements, most recently used last (each key's statement name, or how often it ran)."""

    __slots__ = ("connection", "transformer", "prepared", "names")

    def __init__(self, connection: psycopg.Connection) -> None:
        self.connection = connection
        self.transformer = Transformer(connection)
        self.prepared: OrderedDict[tuple, bytes | int] = OrderedDict()
        self.names = 0

    def query(self, sql: str, parameters: Sequence[Any]) -> Rows | None:
        """Run one query and return its rows, or None when it is not for this path (the
        caller sends it through a psycopg cursor). Raises psycopg's errors as a cursor would."""
        text, count = dollar(sql)
        if count != len(parameters):
            return None  # psycopg's cursor says what is wrong
        tx = self.transformer
        # None is sent as NULL (libpq takes it; the stubs say otherwise)
        params: Any = tx.dump_sequence(parameters, [PyFormat.AUTO] * count) if count else []
        types, formats = tx.types or (), tx.formats
        pgconn = self.connection.pgconn
        key = (text, types)
        seen = self.prepared.get(key)
        if isinstance(seen, bytes):
            self.prepared.move_to_end(key)
            result = pgconn.exec_prepared(seen, params, formats, pq.Format.TEXT)
        elif seen is None or not self._room():
            if seen is None and self._room():
                self.prepared[key] = 1
            result = pgconn.exec_params(text, params, types, formats, pq.Format.TEXT)
        else:  # its second run: prepared, then run
            self.names += 1
            name = f"starosta_{self.names}".encode()
            self._check(pgconn.prepare(name, text, types))
            self.prepared[key] = name
            result = pgconn.exec_prepared(name, params, formats, pq.Format.TEXT)
        self._check(result)
        if result.status != ExecStatus.TUPLES_OK:
            tx.set_pgresult(None)
            return Rows([], int(result.command_tuples or 0))
        tx.set_pgresult(result)
        rows = tx.load_rows(0, result.ntuples, tuple)
        tx.set_pgresult(None)
        return Rows(rows, len(rows))

    def _room(self) -> bool:
        """Whether one more statement fits in the cache, deallocating the least recently used
        prepared one (or forgetting a counted one) when it is full; False when none could go
        (a transaction in error refuses DEALLOCATE: it waits for the next statement)."""
        if len(self.prepared) < READER_PREPARED_MAX:
            return True
        key, seen = next(iter(self.prepared.items()))
        if isinstance(seen, bytes):
            if self.connection.pgconn.transaction_status != TransactionStatus.IDLE:
                return False
            self._check(self.connection.pgconn.exec_(b"DEALLOCATE " + seen))
        del self.prepared[key]
        return True

    def _check(self, result: pq.abc.PGresult) -> None:
        """Raise psycopg's error for a failed result (OperationalError when the connection
        was lost: the thread opens a new one on its next read)."""
        if result.status in (ExecStatus.TUPLES_OK, ExecStatus.COMMAND_OK):
            return
        pgconn = self.connection.pgconn
        if pgconn.status == ConnStatus.BAD:
            raise psycopg.OperationalError(
                "the connection to the database was lost: "
                + pgconn.error_message.decode(errors="replace").strip())
        raise pg_errors.error_from_result(result, encoding=self.connection.info.encoding)


class PostgresReader(PostgresTransaction):
    """A reader thread's connection (`PostgresEventStore.reader()`): a read model's query goes
    the short path (`_ReadSession.query`), anything else through psycopg as in
    PostgresTransaction."""

    __slots__ = ("session",)

    def __init__(self, session: _ReadSession) -> None:
        super().__init__(session.connection)
        self.session = session

    def execute(self, sql: str, parameters: Any = None, /) -> Any:
        if (parameters is not None and isinstance(parameters, (tuple, list))
                and sql.lstrip()[:6].upper().startswith(_SHORT_PATH)):
            rows = self.session.query(sql, parameters)
            if rows is not None:
                return rows
        return super().execute(sql, parameters)


class _HookSwallowedError(StoreError):
    """An `after` hook caught a database error and returned: its job is rolled back."""


# -- the store ---------------------------------------------------------------------------------


class PostgresEventStore(StoreBase):
    """The append-only log in one PostgreSQL database (or schema: the URL's search_path) whose
    schema `starosta.migrations.postgres` has created. `url` is a libpq URL or conninfo string;
    the service connects with its own role (INSERT and SELECT on `events`)."""

    def __init__(self, url: str, catalog: EventTypes, *, lock_timeout_ms: int = 10_000,
                 connect_timeout_s: int = 10, writer: bool = True) -> None:
        self.url = url
        self.catalog = catalog
        self.lock_timeout_ms = int(lock_timeout_ms)
        self.connect_timeout_s = int(connect_timeout_s)
        self._write_lock = threading.Lock()
        self._local = threading.local()
        self._readers: list[psycopg.Connection] = []
        self._readers_lock = threading.Lock()
        self._closed = False
        self._writer: psycopg.Connection | None = None
        if writer:  # opened at once, so that a wrong URL fails here; a replica's store has none
            with translated_errors():
                self._writer = self._connect(writer=True)

    def _connect(self, *, writer: bool) -> psycopg.Connection:
        conn = psycopg.connect(self.url, autocommit=True, connect_timeout=self.connect_timeout_s,
                               application_name="starosta")
        conn.adapters.register_dumper(bytes, _BytesAsText)
        if writer:
            # Waiting for the append lock longer than this answers StoreUnavailable (as SQLite's
            # busy timeout does), instead of piling requests up behind a stuck transaction.
            conn.execute(f"SET lock_timeout = {self.lock_timeout_ms}")
        return conn

    def _writer_connection(self) -> psycopg.Connection:
        """Return the write connection, opening a new one if the last was lost."""
        if self._closed:
            raise StoreError("the store is closed")
        if self._writer is None or self._writer.closed or self._writer.broken:
            if self._writer is not None:
                self._writer.close()
            self._writer = self._connect(writer=True)
        return self._writer

    # -- writing -------------------------------------------------------------------------

    def commit_jobs(self, jobs: Sequence[Job]) -> list[list[list[int]] | BaseException]:
        """Commit several jobs in one transaction under the append lock: a failing job is
        rolled back alone and its (translated) exception returned in its slot. If the
        transaction itself fails, raise StoreUnavailable; nothing is written.

        Four round trips whatever the batch (BEGIN with the lock; one statement reading the
        head, the clock, and the stored ids and stream versions the batch touches; the rows;
        COMMIT): every job is decided in Python (versions, retries, positions, hashes) and the
        rows of the jobs without a hook are written by one executemany before the COMMIT. A
        job with an `after` hook is written in a SAVEPOINT of its own (none for a lone job),
        so that its hook's failure undoes it alone.
        """
        if not jobs:
            return []
        results: list[list[list[int]] | BaseException] = []
        savepoints = len(jobs) > 1
        ids = list({new.event_id for job in jobs for r in job.requests for new in r.events})
        streams = list({r.stream_id for job in jobs for r in job.requests}
                       | {s for job in jobs for s in job.expects})
        with self._write_lock, translated_errors():
            conn = self._writer_connection()
            try:
                _begin(conn)
                state = conn.execute(_BATCH_STATE, (ids, streams)).fetchone()
                assert state is not None  # FROM (SELECT 1) LEFT JOIN ...: always one row
                position, previous, last_time, now, stored, versions = state
                batch = _Batch(
                    head=(position or 0, previous or GENESIS),
                    recorded_at=max(now, last_time or ""),
                    stored={event_id: (stream_id, pos) for event_id, stream_id, pos in stored},
                    versions=versions,
                )
                tx = PostgresTransaction(conn)
                done: list[tuple[Job, list[Envelope]]] = []  # the jobs written, for `finish`
                for job in jobs:
                    try:
                        plan = batch.plan(job, self.catalog)
                    except Exception as exc:  # refused (or not encodable) before any write
                        results.append(exc)
                        continue
                    if job.after is None or not plan.envelopes:
                        batch.accept(plan)
                        results.append(plan.positions)
                        done.append((job, plan.envelopes))
                        continue
                    _insert(conn, batch.take_pending())  # what the hook may read is written
                    if savepoints:
                        conn.execute("SAVEPOINT job")
                    try:
                        _insert(conn, plan.rows)
                        job.after(tx, plan.envelopes)
                        if conn.info.transaction_status == TransactionStatus.INERROR:
                            raise _HookSwallowedError(
                                "a database error inside the append's transaction was caught by "
                                "its after hook: the job is rolled back")
                    except Exception as exc:  # the job fails alone; its neighbours go on
                        if not savepoints:
                            _rollback(conn)
                            return [translate(exc)]
                        conn.execute("ROLLBACK TO SAVEPOINT job")
                        conn.execute("RELEASE SAVEPOINT job")
                        results.append(translate(exc))
                        continue
                    if savepoints:
                        conn.execute("RELEASE SAVEPOINT job")
                    batch.accept(plan, written=True)
                    results.append(plan.positions)
                    done.append((job, plan.envelopes))
                if conn.info.transaction_status == TransactionStatus.INERROR:
                    raise StoreUnavailable("the transaction failed inside and was rolled back")
                _insert(conn, batch.take_pending())
                finish_batch(tx, done)  # once per batch, the failed jobs left out
                if conn.info.transaction_status == TransactionStatus.INERROR:
                    raise StoreUnavailable("the transaction failed inside and was rolled back")
                conn.execute("COMMIT")
            except BaseException:
                _rollback(conn)
                raise
        return results

    @contextlib.contextmanager
    def write_transaction(self) -> Iterator[PostgresTransaction]:
        """Hold the writer (and the append lock, so no process appends meanwhile) in one
        transaction; commit on success, roll back and re-raise (translated) on any error
        (see EventStore)."""
        with self._write_lock, translated_errors():
            conn = self._writer_connection()
            _begin(conn)
            try:
                yield PostgresTransaction(conn)
                _commit(conn)
            except BaseException:
                _rollback(conn)
                raise

    @contextlib.contextmanager
    def rebuild_guard(self) -> Iterator[str | None]:
        """Hold this log's rebuild lock while the block runs, on a connection of its own (a
        session-level advisory lock, keyed apart from the append lock: the database releases
        it when that connection ends, so a killed rebuild leaves nothing behind). Yields None
        when taken, or, when another session holds it, a sentence naming the holder (nothing is
        held then: the caller refuses). Taken again by the thread that holds it, it is a no-op.
        """
        depth = getattr(self._local, "guard_depth", 0)
        if depth:
            self._local.guard_depth = depth + 1
            try:
                yield None
            finally:
                self._local.guard_depth = depth
            return
        with translated_errors():
            conn = self._connect(writer=False)
        try:
            with translated_errors():
                row = conn.execute(f"SELECT pg_try_advisory_lock({_REBUILD_KEY})").fetchone()
                assert row is not None  # a SELECT without FROM: always one row
                taken = row[0]
                holder = None if taken else (f"another rebuild of this database is running "
                                             f"({_lock_holder(conn)})")
            if not taken:
                yield holder
                return
            self._local.guard_depth = 1
            try:
                yield None
            finally:
                self._local.guard_depth = 0
                # released explicitly: a closed connection's lock is freed by the server a
                # moment after the client returns, and a rebuild started at once would find
                # it still held
                with contextlib.suppress(psycopg.Error):
                    conn.execute(f"SELECT pg_advisory_unlock({_REBUILD_KEY})")
        finally:
            conn.close()

    def load_rows(self, rows: Iterable[StoredRow]) -> int:
        """Write verified exported rows as stored into an empty log with COPY, in one
        transaction under the append lock; return how many. Raises LogNotEmpty, or StoreError
        when positions do not run 1, 2, 3...; nothing is written then."""
        with self.write_transaction() as tx:
            conn = tx.connection
            if conn.execute("SELECT 1 FROM events LIMIT 1").fetchone():
                raise LogNotEmpty(f"database {conn.info.dbname!r} already holds events: load "
                                  "into a new database")
            count = 0
            with conn.cursor() as cursor, cursor.copy(_COPY) as copy:
                for row in rows:
                    count += 1
                    if row.position != count:
                        raise StoreError(f"row {count} has position {row.position}: positions "
                                         "must run 1, 2, 3...")
                    copy.write_row(_as_tuple(row))
        return count

    # -- reading -------------------------------------------------------------------------

    def reader(self) -> PostgresTransaction:
        """Return this thread's read connection (autocommit: each statement one snapshot),
        opened on first use and again after it was lost, as the read models use it (`?`
        placeholders; their queries take the short path, `PostgresReader`)."""
        conn = self._reader()
        session = getattr(self._local, "session", None)
        if session is None or session.connection is not conn:
            session = self._local.session = PostgresReader(_ReadSession(conn))
        return session

    def _reader(self) -> psycopg.Connection:
        if self._closed:
            raise StoreError("the store is closed")
        conn = getattr(self._local, "conn", None)
        if conn is None or conn.closed or conn.broken:
            lost = conn
            with translated_errors():
                conn = self._connect(writer=False)
            self._local.conn = conn
            with self._readers_lock:
                if lost is not None and lost in self._readers:  # closed and forgotten
                    self._readers.remove(lost)
                    lost.close()
                self._readers.append(conn)
        return conn

    def _all(self, sql: str, parameters: tuple = ()) -> list[tuple]:
        with translated_errors():
            return self._reader().execute(sql, parameters).fetchall()

    def _one(self, sql: str, parameters: tuple = ()) -> tuple | None:
        with translated_errors():
            return self._reader().execute(sql, parameters).fetchone()

    def head(self) -> Head:
        """Return the last position, its hash and record time (see EventStore)."""
        row = self._one(_HEAD)
        return Head(*row) if row else Head(0, GENESIS, None)

    def stream_version(self, stream_id: str) -> int:
        """Return the number of events in a stream (0 when it does not exist)."""
        row = self._one(_VERSION, (stream_id,))
        assert row is not None
        return row[0]

    def position_at(self, stamp: str) -> tuple[int, str | None]:
        """Return the last position recorded at or before `stamp` and its record time, or
        (0, None); raise ValueError for a malformed stamp (see EventStore)."""
        row = self._one(POSITION_AT, (utc_stamp(stamp),))
        return (row[0], row[1]) if row else (0, None)

    def recorded_at(self, position: int) -> str | None:
        """Return the record time of the last event at or before `position`, or None."""
        row = self._one("SELECT recorded_at FROM events WHERE position <= %s "
                        "ORDER BY position DESC LIMIT 1", (position,))
        return row[0] if row else None

    def read_stream(self, stream_id: str, from_version: int = 1,
                    up_to_position: int | None = None) -> list[Envelope]:
        """Return a stream's events from `from_version`, as typed, upcasted envelopes."""
        rows = self._all(
            f"{_SELECT} WHERE stream_id = %s AND version >= %s AND position <= %s ORDER BY version",
            (stream_id, from_version, up_to_position if up_to_position is not None else 2**62))
        return [self._decode_row(stored_row(r)) for r in rows]

    def read_rows(self, after: int = 0, limit: int | None = None) -> Iterator[StoredRow]:
        """Yield stored rows after `after` in log order, paged (memory stays flat)."""
        remaining = limit if limit is not None else 2**62
        while remaining > 0:
            page = self._all(f"{_SELECT} WHERE position > %s ORDER BY position LIMIT %s",
                             (after, min(remaining, 1000)))
            if not page:
                return
            for r in page:
                yield stored_row(r)
            after, remaining = page[-1][0], remaining - len(page)

    def verify(self, expect_head: str | None = None) -> Verdict:
        """Walk the chain through one server-side cursor (one statement: one snapshot; fetched
        in batches: flat memory); see EventStore."""
        with translated_errors():
            conn = self._reader()
            # a schema not yet migrated to 0005 (no nonce column: its rows have none) verifies too
            has_nonce = conn.execute(
                "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() "
                "AND table_name = 'events' AND column_name = 'nonce'").fetchone() is not None
            select = _SELECT if has_nonce else f"SELECT {_COLUMNS}, hash, NULL FROM events"
            with conn.transaction(), conn.cursor(name="starosta_verify") as cursor:
                cursor.itersize = 2000
                cursor.execute(f"{select} ORDER BY position")
                return verify_rows(cursor, expect_head)

    def close(self) -> None:
        """Close every connection this store opened."""
        self._closed = True
        with self._write_lock:
            if self._writer is not None:
                self._writer.close()
                self._writer = None
        with self._readers_lock:
            for conn in self._readers:
                conn.close()
            self._readers.clear()
        self._local = threading.local()


# -- helpers -----------------------------------------------------------------------------------


def _begin(conn: psycopg.Connection) -> None:
    """Start the writer's transaction and take the append lock (see `_BEGIN_LOCKED`). A
    transaction left open by an earlier failure is rolled back first."""
    if conn.info.transaction_status != TransactionStatus.IDLE:
        conn.execute("ROLLBACK")
    conn.execute(_BEGIN_LOCKED)


def _commit(conn: psycopg.Connection) -> None:
    """Commit the writer's transaction. A transaction in error (a statement failed and nothing
    rolled it back) would only roll back on COMMIT: refuse it as unavailable instead of
    reporting a write that did not happen."""
    if conn.info.transaction_status == TransactionStatus.INERROR:
        raise StoreUnavailable("the transaction failed inside and was rolled back")
    conn.execute("COMMIT")


def _rollback(conn: psycopg.Connection) -> None:
    """Roll the writer's transaction back if one is open; an error of the ROLLBACK itself is
    dropped (the error that caused it is the one to report; a lost connection is reopened on
    the next write)."""
    if not conn.closed and conn.info.transaction_status != TransactionStatus.IDLE:
        with contextlib.suppress(psycopg.Error):
            conn.execute("ROLLBACK")


def _insert(conn: psycopg.Connection, rows: list[tuple]) -> None:
    """Insert event rows (one statement, or one pipelined executemany)."""
    if len(rows) == 1:
        conn.execute(_INSERT, rows[0])
    elif rows:
        with conn.cursor() as cursor:
            cursor.executemany(_INSERT, rows)


class _Plan(NamedTuple):
    """One job decided: its positions per request, rows, envelopes and what it changes."""

    positions: list[list[int]]
    rows: list[tuple]
    envelopes: list[Envelope]
    head: tuple[int, str]
    versions: dict[str, int]
    ids: dict[str, tuple[str, int]]


class _Batch:
    """What one write transaction knows of the log under the append lock: the head, the record
    time, and the stored ids and stream versions its jobs touch (read once, then kept current
    as jobs are accepted); and the rows accepted but not yet inserted."""

    def __init__(self, head: tuple[int, str], recorded_at: str,
                 stored: dict[str, tuple[str, int]], versions: dict[str, int | None]) -> None:
        self.head = head
        self.recorded_at = recorded_at
        self.stored = stored
        self.versions = {stream: version or 0 for stream, version in versions.items()}
        self.pending: list[tuple] = []

    def plan(self, job: Job, catalog: EventTypes) -> _Plan:
        """Decide a job against the log as it stands; raise ConcurrencyError or
        IdempotencyConflict (nothing changes then)."""
        refuse_repeated_ids(job.requests)
        position, previous = self.head
        meta, recorded_at = job.meta, self.recorded_at
        versions: dict[str, int] = {}
        ids: dict[str, tuple[str, int]] = {}
        positions: list[list[int]] = []
        rows: list[tuple] = []
        envelopes: list[Envelope] = []
        for request in job.requests:
            stored = self._stored_positions(request)
            if stored is not None:
                positions.append(stored)
                continue
            if not envelopes and job.expects:  # before the job's first new event
                check_expected(job.expects, lambda s: self.versions.get(s, 0))
            stream = request.stream_id
            version = versions.get(stream, self.versions.get(stream, 0))
            if request.expected_version is not None and version != request.expected_version:
                raise ConcurrencyError(stream, request.expected_version, version)
            mine_rows, mine_envelopes = new_rows(request, catalog, meta, recorded_at,
                                                 (position, previous), version)
            for e in mine_envelopes:
                ids[e.event_id] = (stream, e.position)
            if mine_envelopes:
                position, previous = mine_envelopes[-1].position, mine_envelopes[-1].hash
                version = mine_envelopes[-1].version
            rows.extend(mine_rows)
            envelopes.extend(mine_envelopes)
            mine = [e.position for e in mine_envelopes]
            versions[stream] = version
            positions.append(mine)
        return _Plan(positions, rows, envelopes, (position, previous), versions, ids)

    def _stored_positions(self, request: AppendRequest) -> list[int] | None:
        """Return the stored positions if this request is a retry, None if it is new
        (events.store.retry_positions, over the ids this batch read)."""
        return retry_positions(request, {new.event_id: self.stored[new.event_id]
                                         for new in request.events if new.event_id in self.stored})

    def accept(self, plan: _Plan, *, written: bool = False) -> None:
        """Make a decided job part of the log (its rows pending unless `written`)."""
        self.head = plan.head
        self.versions.update(plan.versions)
        self.stored.update(plan.ids)
        if not written:
            self.pending.extend(plan.rows)

    def take_pending(self) -> list[tuple]:
        rows, self.pending = self.pending, []
        return rows

