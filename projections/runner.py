"""Projections: checkpoints, same-transaction apply, catch-up and rebuild-and-swap.

A projection owns tables (declared as DDL templates naming each table `{name}`), a version,
and `apply(conn, envelope, tables)`. The runner applies every new event to every projection
inside the transaction that appends it, and advances the checkpoints there too, so a read
right after a write sees it and a projection is always a pure function of the log prefix it
records. A projection whose code version changed is rebuilt: fresh tables of the next
generation are filled from the log in batches beside the live ones (readers keep the old
tables), caught up to the head, then swapped in under `BEGIN IMMEDIATE`. One rebuild of a
database runs at a time (`store_rebuild_lock`): two would build the same next-generation tables.
"""

from __future__ import annotations

import contextlib
import hashlib
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from starosta.events.store import Connection, Envelope, EventStore, RebuildRunning
from starosta.projections import sql

Tables = dict[str, str]  # logical table name -> physical table name


class Projection(Protocol):
    """A read model, as the runner uses it: every member it may have is declared here.

    `name`, `version`, `ddl` and `apply` are required. The rest are optional hooks whose
    defaults do nothing; a read model subclasses this protocol to inherit them, and overrides
    those it needs:

    - `ddl_postgres`: its DDL on PostgreSQL, when a table cannot be declared once for both
      (a full-text index); None: `ddl` serves both;
    - `reads`: the read models whose tables it reads while applying (the runner applies it
      after them and rebuilds it with them);
    - `finish(conn, tables, envelopes, rebuilding=...)`: called once after every batch of
      events is applied (a committed append, a rebuild batch), so that work derived from
      several events (a document recomputed once per touched person) is done once per batch.
      While rebuilding it may defer that work to `pending`/`settle`;
    - `pending(tables)`: how much deferred work waits; `settle(conn, tables, limit)`: do up to
      `limit` items of it (all when None);
    - `apply_batch(conn, envelopes, tables)`: fold a batch of events, in log order, as `apply`
      would one at a time (default: exactly that loop). A rebuild (`fill_shadows`,
      `catch_up_shadows`) calls it; the live append path calls `apply`. An override must
      leave exactly the rows the loop leaves (tests/integration/test_rebuild_batched.py).
    """

    name: str
    version: int
    ddl: dict[str, list[str]]  # logical table -> statements creating it and its indexes
    ddl_postgres: dict[str, list[str]] | None = None
    reads: tuple[str, ...] = ()

    def apply(self, conn: Connection, envelope: Envelope, tables: Tables) -> None:
        """Fold one event into the projection's tables."""

    def apply_batch(self, conn: Connection, envelopes: Sequence[Envelope], tables: Tables) -> None:
        """Fold a batch of events into the projection's tables, as `apply` one at a time."""
        for envelope in envelopes:
            self.apply(conn, envelope, tables)

    def finish(self, conn: Connection, tables: Tables, envelopes: Sequence[Envelope], *,
               rebuilding: bool = False) -> None:
        """Do the work derived from a whole batch of applied events (none by default)."""
        return None

    def pending(self, tables: Tables) -> int:
        """Return how many items of work `finish` deferred during a rebuild (none by default)."""
        return 0

    def settle(self, conn: Connection, tables: Tables, limit: int | None) -> None:
        """Do up to `limit` items of the deferred work (all when None)."""
        return None


def finish(p: Projection, conn: Connection, tables: Tables,
           envelopes: Sequence[Envelope], *, rebuilding: bool = False) -> None:
    """Run `p.finish` after a non-empty batch of events (see Projection)."""
    if envelopes:
        p.finish(conn, tables, envelopes, rebuilding=rebuilding)


def apply_batch(p: Projection, conn: Connection, envelopes: Sequence[Envelope],
                tables: Tables) -> None:
    """Fold `envelopes` into `p`'s tables with its `apply_batch` (a read model that does not
    subclass Projection and has no such method: its `apply`, one event at a time)."""
    if not envelopes:
        return
    batched = getattr(p, "apply_batch", None)
    if batched is None:
        for envelope in envelopes:
            p.apply(conn, envelope, tables)
    else:
        batched(conn, envelopes, tables)


def drain(p: Projection, store: EventStore, tables: Tables, chunk: int = 500) -> None:
    """Do the work a projection deferred during a rebuild (`p.pending`, `p.settle`), `chunk`
    items per write transaction."""
    while p.pending(tables):
        with store.write_transaction() as conn:
            p.settle(conn, tables, chunk)


def shadow_name(name: str, generation: int) -> str:
    """Return the name a table is built under during a rebuild to `generation`.

    Index DDL names its indexes after `{name}`, so indexes built under a shadow name keep
    it after the swap renames the table; the generation keeps those names unique.
    """
    return f"{name}__g{generation}"


@contextlib.contextmanager
def store_rebuild_lock(store: EventStore) -> Iterator[None]:
    """Hold the rebuild lock of `store`'s database (`EventStore.rebuild_guard`: the lock file
    beside a SQLite file, a session advisory lock on PostgreSQL). Raises RebuildRunning,
    naming the holder, when another rebuild holds it."""
    with store.rebuild_guard() as holder:
        if holder is not None:
            raise RebuildRunning(f"{holder}; wait for it to finish")
        yield


@dataclass
class Runner:
    """Keeps a set of projections current with the log; live tables have their bare names."""

    projections: Sequence[Projection]
    _live: dict[str, Tables] = field(default_factory=dict, init=False, repr=False)

    def names(self) -> list[str]:
        return [p.name for p in self.projections]

    def get(self, name: str) -> Projection:
        for p in self.projections:
            if p.name == name:
                return p
        raise KeyError(f"no projection named {name!r}; known: {', '.join(self.names())}")

    # -- in the append's transaction ----------------------------------------------------

    def apply(self, conn: Connection, envelopes: Sequence[Envelope]) -> None:
        """Apply new events to every projection and advance checkpoints (caller's transaction),
        then do each one's `finish`: one job that is its own batch (`apply_events` and
        `finish_batch` in one)."""
        self.apply_events(conn, envelopes)
        self.finish_batch(conn, envelopes)

    def apply_events(self, conn: Connection, envelopes: Sequence[Envelope]) -> None:
        """Apply one job's new events to every projection, without `finish` nor the
        checkpoints: the group-committing writer calls `finish_batch` once per committed batch
        (a job's `Job.finish`), with the envelopes of the jobs that were written."""
        for p in self.projections:
            tables = self.tables(conn, p)
            for envelope in envelopes:
                p.apply(conn, envelope, tables)

    def finish_batch(self, conn: Connection, envelopes: Sequence[Envelope]) -> None:
        """Do every projection's `finish` once for a batch of applied events (in apply order)
        and advance the checkpoints to its last event (once per batch, not per job)."""
        if not envelopes:
            return
        for p in self.projections:
            finish(p, conn, self.tables(conn, p), envelopes)
        conn.execute("UPDATE projection_checkpoints SET position = ? WHERE name IN (%s)"
                     % ",".join("?" * len(self.projections)),
                     (envelopes[-1].position, *self.names()))

    def tables(self, conn: Connection, p: Projection) -> Tables:
        """Return the live table names of `p` and of the projections it reads (bare names)."""
        if (found := self._live.get(p.name)) is None:  # the same for every job: kept
            found = self._live[p.name] = {t: t for q in p.reads for t in self.get(q).ddl}
            found.update({t: t for t in p.ddl})
        return dict(found)

    def with_dependencies(self, names: Sequence[str]) -> list[Projection]:
        """Return the projections named, those they read and those that read them (closed
        both ways, so a rebuild never leaves a reader behind what it reads), in apply order."""
        wanted = set(names)
        while True:
            more = {q for p in self.projections if p.name in wanted for q in p.reads}
            more |= {p.name for p in self.projections if wanted & set(p.reads)}
            if more <= wanted:
                break
            wanted |= more
        return [p for p in self.projections if p.name in wanted]

    # -- start-up ------------------------------------------------------------------------

    def ensure(self, store: EventStore,
               progress: Callable[[str, int, int], None] | None = None,
               builder: EventStore | None = None) -> list[str]:
        """Create missing projections, rebuild those whose version changed, catch up the rest.

        `builder` is the store to (re)build with when it is not `store` itself: on PostgreSQL,
        the owner's (who may create tables), while the service's role only changes rows.
        Returns the names of the projections that were (re)built.
        """
        built = self.outdated(store)
        if built:
            self.rebuild_many(builder or store, built, progress, digest=False)
        self.catch_up(store)
        return built

    def outdated(self, store: EventStore) -> list[str]:
        """Return the names of the projections missing or built by another version."""
        conn = store.reader()
        versions = dict(conn.execute("SELECT name, version FROM projection_checkpoints").fetchall())
        return [p.name for p in self.projections if versions.get(p.name) != p.version]

    def catch_up(self, store: EventStore) -> int:
        """Apply events appended without the runner (none, normally); return how many."""
        applied = 0
        while True:
            with store.write_transaction() as conn:
                low = min(self._position(conn, p.name) for p in self.projections)
                batch = list(store.read_log(after=low, limit=1000))
                if not batch:
                    return applied
                for p in self.projections:
                    mine = [e for e in batch if e.position > self._position(conn, p.name)]
                    tables = self.tables(conn, p)
                    for envelope in mine:
                        p.apply(conn, envelope, tables)
                    finish(p, conn, tables, mine)
                    conn.execute("UPDATE projection_checkpoints SET position = ? WHERE name = ?",
                                 (batch[-1].position, p.name))
                applied += len(batch)

    @staticmethod
    def applied(conn: Connection) -> int:
        """Return the log position every read model has applied (the lowest checkpoint)."""
        row = conn.execute("SELECT min(position) FROM projection_checkpoints").fetchone()
        return (row[0] if row else None) or 0

    @staticmethod
    def _position(conn: Connection, name: str) -> int:
        row = conn.execute("SELECT position FROM projection_checkpoints WHERE name = ?",
                           (name,)).fetchone()
        return row[0] if row else 0

    # -- rebuild -------------------------------------------------------------------------

    def rebuild(self, store: EventStore, name: str,
                progress: Callable[[str, int, int], None] | None = None,
                batch_size: int = 5000, digest: bool = True) -> str | None:
        """Rebuild one projection (see `rebuild_many`); return its content hash or None."""
        return self.rebuild_many(store, [name], progress, batch_size, digest)[name]

    def rebuild_many(self, store: EventStore, names: Sequence[str],
                     progress: Callable[[str, int, int], None] | None = None,
                     batch_size: int = 5000, digest: bool = True) -> dict[str, str | None]:
        """Replay the log once into next-generation tables of every named projection, swap them
        in; return each one's content hash (None when `digest` is false: start-up and imports
        do not need it).

        Each batch of the log is read and decoded once for all of them. Writers are held only
        per batch and for the final catch-up and swap, so the service keeps answering (its
        readers see the old tables until the swap). Holds the database's `rebuild_lock`
        throughout: raises RebuildRunning, having touched nothing, while another rebuild runs.
        """
        with store_rebuild_lock(store):
            return self._rebuild_locked(store, names, progress, batch_size, digest)

    def _rebuild_locked(self, store: EventStore, names: Sequence[str],
                        progress: Callable[[str, int, int], None] | None,
                        batch_size: int, digest: bool) -> dict[str, str | None]:
        """`rebuild_many`, under the rebuild lock."""
        chosen, shadows, generations = self.plan_shadows(store, names)
        try:
            return self._build_and_swap(store, chosen, shadows, generations, progress,
                                        batch_size, digest)
        except BaseException:
            # The live tables and checkpoints are as they were (the swap is one transaction).
            # A process killed here leaves the shadows behind: readers never see them, and the
            # next rebuild of these projections drops and rebuilds them.
            self.drop_shadows(store, chosen, shadows)
            raise

    def plan_shadows(self, store: EventStore, names: Sequence[str]
                     ) -> tuple[list[Projection], dict[str, Tables], dict[str, int]]:
        """Return the projections a rebuild of `names` builds (`with_dependencies`), the
        shadow tables each is built into (its own and those it reads, of the next generation)
        and that generation of each. Creates nothing."""
        chosen = self.with_dependencies(names)
        shadows: dict[str, Tables] = {}
        generations: dict[str, int] = {}
        with store.write_transaction() as conn:
            for p in chosen:
                row = conn.execute("SELECT generation FROM projection_checkpoints WHERE name = ?",
                                   (p.name,)).fetchone()
                generations[p.name] = (row[0] if row else 0) + 1
                shadows[p.name] = {t: shadow_name(t, generations[p.name]) for t in p.ddl}
        for p in chosen:  # what a projection reads: the shadows being built beside it
            for q in p.reads:
                shadows[p.name] = {**shadows[q], **shadows[p.name]}
        return chosen, shadows, generations

    def _build_and_swap(self, store: EventStore, chosen: Sequence[Projection],
                        shadows: dict[str, Tables], generations: dict[str, int],
                        progress: Callable[[str, int, int], None] | None,
                        batch_size: int, digest: bool) -> dict[str, str | None]:
        """Fill the shadow tables from the log, catch them up and swap them in (rebuild_many)."""
        position = self.fill_shadows(store, chosen, shadows, progress, batch_size)
        digests: dict[str, str | None] = {}
        with store.write_transaction() as conn:  # final catch-up and swap, under the lock
            position = self.catch_up_shadows(conn, store, chosen, shadows, position)
            for p in chosen:
                for t in p.ddl:
                    self._drop(conn, t)
                    conn.execute(f'ALTER TABLE "{shadows[p.name][t]}" RENAME TO "{t}"')
                conn.execute(
                    "INSERT INTO projection_checkpoints (name, version, position, generation) "
                    "VALUES (?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET version = excluded.version, "
                    "position = excluded.position, generation = excluded.generation",
                    (p.name, p.version, position, generations[p.name]))
                digests[p.name] = content_hash(conn, list(p.ddl)) if digest else None
        return digests

    def fill_shadows(self, store: EventStore, chosen: Sequence[Projection],
                     shadows: dict[str, Tables],
                     progress: Callable[[str, int, int], None] | None = None,
                     batch_size: int = 5000) -> int:
        """Create the shadow tables of `chosen` (dropping any a killed rebuild left), fill
        them from the log in batches (the writer is held per batch only) and do the work they
        deferred; return the log position they hold. Readers never see them: they read the
        live tables, by their bare names."""
        with store.write_transaction() as conn:
            dialect = sql.dialect(conn)
            for p in chosen:
                for t in p.ddl:
                    self._drop(conn, shadows[p.name][t])
                for t, statements in ddl_of(p, dialect).items():
                    for statement in statements:
                        conn.execute(sql.ddl(statement.format(name=shadows[p.name][t]), dialect))
                    sql.grant_to_service(conn, shadows[p.name][t])
        position = 0
        while True:  # batches: the writer lock is released between them
            with store.write_transaction() as conn:
                head = store.head().position
                batch = list(store.read_log(after=position, limit=batch_size))
                for p in chosen:
                    apply_batch(p, conn, batch, shadows[p.name])
                    finish(p, conn, shadows[p.name], batch, rebuilding=True)
            if batch:
                position = batch[-1].position
                if progress:
                    for p in chosen:
                        progress(p.name, position, head)
            if not batch or position >= head:
                break
        for p in chosen:
            drain(p, store, shadows[p.name])
        return position

    def catch_up_shadows(self, conn: Connection, store: EventStore,
                         chosen: Sequence[Projection], shadows: dict[str, Tables],
                         position: int) -> int:
        """Apply the events after `position` to the shadow tables, in the caller's write
        transaction (which holds the writer: no event arrives meanwhile); return the head."""
        rest = list(store.read_log(after=position))
        for p in chosen:
            apply_batch(p, conn, rest, shadows[p.name])
            finish(p, conn, shadows[p.name], rest)
        return rest[-1].position if rest else position

    def drop_shadows(self, store: EventStore, chosen: Sequence[Projection],
                      shadows: dict[str, Tables]) -> None:
        """Drop a failed rebuild's shadow tables, if the database lets us (on a full disk it
        may not: then they wait for the next rebuild, harmless meanwhile)."""
        try:
            with store.write_transaction() as conn:
                for p in chosen:
                    for t in p.ddl:
                        self._drop(conn, shadows[p.name][t])
        except Exception:  # noqa: BLE001 - the rebuild's own error is the one to report
            pass

    @staticmethod
    def _drop(conn: Connection, table: str) -> None:
        if sql.table_exists(conn, table):
            conn.execute(f'DROP TABLE "{table}"')  # names come from code, never from input


def ddl_of(p: Projection, dialect: str) -> dict[str, list[str]]:
    """A projection's DDL for `dialect`: its `ddl_postgres` on PostgreSQL when it has one (a
    table that cannot be declared once, e.g. a full-text index), else its `ddl`."""
    if dialect == sql.POSTGRES and p.ddl_postgres is not None:
        return p.ddl_postgres
    return p.ddl


# Tables a read model fills on read, each row a cache of what its other tables give (the stored
# population documents of issue 25, with the marks that invalidate them): not content (a
# rebuild starts them empty), so left out of content hashes. A read model adds its own.
CACHE_TABLES: set[str] = set()


def content_hash(conn: Connection, tables: Iterable[str]) -> str:
    """Return a sha256 over every row of `tables`, in a stable order (rowid-free), the same on
    both backends for the same rows (bytes count as the text they hold)."""
    h = hashlib.sha256()
    for table in tables:
        _feed(h, conn, table, table)
    return h.hexdigest()


def table_hash(conn: Connection, table: str, named: str) -> str:
    """Return the sha256 of the rows of `table` as `content_hash` counts them for a table
    named `named` (a shadow's rows hashed under its live table's name hash alike)."""
    h = hashlib.sha256()
    _feed(h, conn, table, named)
    return h.hexdigest()


def _feed(h, conn: Connection, table: str, named: str) -> None:
    """Feed `h` the column names of `table` (as `named`) and its rows, sorted by every
    column: the order rows were written in does not count."""
    if named in CACHE_TABLES:
        return
    columns = sql.columns(conn, table)
    h.update(f"{named}:{','.join(columns)}\n".encode())
    order = ", ".join(str(i + 1) for i in range(len(columns)))
    for row in conn.execute(f'SELECT {", ".join(columns)} FROM "{table}" ORDER BY {order}'):
        h.update(repr(tuple(_text(v) if isinstance(v, bytes) else v for v in row)).encode())
        h.update(b"\n")


def _text(value: bytes) -> str:
    """The text a stored blob holds: its JSON, also when stored zlib-compressed (SQLite's stored
    biographies, biographies.packed; PostgreSQL's TEXT column holds the JSON itself). JSON
    never begins with "x" (0x78), which every zlib stream of ours does."""
    if value[:1] == b"x":
        try:
            return zlib.decompress(value).decode()
        except zlib.error:
            pass
    return value.decode()
