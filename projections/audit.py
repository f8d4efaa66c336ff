"""Checking the live read models against the log: rebuild them beside the live tables, compare.

A read model is a pure function of the log, so a rebuild of it must hold the rows its live
tables hold; rows changed behind the service's back (`UPDATE claims SET status = 'approved'`
on a rejected claim) make the two differ, though the log's hash chain still verifies.
`verify_read_models` fills shadow tables from the log as a rebuild does (`Runner.
fill_shadows`), brings them to the position the live tables hold, compares the two table by
table with an order-independent content hash (`runner.table_hash`: rows sorted by every
column, the same on both backends) and drops the shadows; the live tables are never written.

What a running service sees meanwhile: nothing. It reads the live tables by their bare names,
so the shadows are invisible to it; its appends wait for the writer only while a batch of the
log is applied to the shadows, as during `starosta rebuild`. The comparison reads both sides in
one read snapshot (`sql.snapshot`) once the shadows have caught up with the log, so appends go
on while it hashes; only when appends keep arriving between catching up and that snapshot does
it hash under the writer. It holds the database's rebuild lock throughout: a rebuild and a check
of the same database never run at once (each refuses while the other runs).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from starosta.events.store import EventStore
from starosta.projections import sql
from starosta.projections.runner import (
    Projection,
    Runner,
    Tables,
    store_rebuild_lock,
    table_hash,
)

SNAPSHOT_TRIES = 3  # catch-ups before the comparison is made under the writer (see the module)


class CannotCompare(Exception):
    """The live read models cannot be compared with a rebuild: one is missing, was built by
    another version of the code, or has not applied the whole log."""


@dataclass(frozen=True)
class ReadModelsVerdict:
    """What `verify_read_models` found."""

    position: int  # the log position the live tables and the rebuild were compared at
    compared: tuple[str, ...]  # the read models compared, in apply order
    # read model -> its tables whose rows differ from the rebuild's, in apply order
    differing: dict[str, tuple[str, ...]] = field(default_factory=dict)
    seconds: float = 0.0  # how long the check took

    @property
    def ok(self) -> bool:
        return not self.differing

    @property
    def first(self) -> str | None:
        """The first read model (in apply order) whose live tables differ, or None."""
        return next(iter(self.differing), None)


def verify_read_models(runner: Runner, store: EventStore, names: Sequence[str] = (),
                       progress: Callable[[str, int, int], None] | None = None,
                       batch_size: int = 5000) -> ReadModelsVerdict:
    """Rebuild the read models `names` (all when empty, with those they read and those reading
    them) into shadow tables, compare their rows with the live tables' and drop the shadows.

    `store` must be allowed to create tables (on PostgreSQL, the owner's). Returns the verdict;
    raises CannotCompare (before building anything) when a live read model is missing or was
    built by another version, or (after) when it has not applied the log up to its head;
    RebuildRunning at once while a rebuild or another check of the database runs.
    """
    started = time.monotonic()
    with store_rebuild_lock(store):
        chosen, shadows, _ = runner.plan_shadows(store, list(names or runner.names()))
        _require_current(store, chosen)
        try:
            position = runner.fill_shadows(store, chosen, shadows, progress, batch_size)
            position, differing = _compare(runner, store, chosen, shadows, position)
        finally:
            runner.drop_shadows(store, chosen, shadows)
    return ReadModelsVerdict(position, tuple(p.name for p in chosen), differing,
                             time.monotonic() - started)


def _require_current(store: EventStore, chosen: Sequence[Projection]) -> None:
    """Raise CannotCompare when a live read model of `chosen` is missing or was built by
    another version of its code than this one (a rebuild would differ for that reason)."""
    conn = store.reader()
    versions = dict(conn.execute("SELECT name, version FROM projection_checkpoints").fetchall())
    for p in chosen:
        if p.name not in versions or not all(sql.table_exists(conn, t) for t in p.ddl):
            raise CannotCompare(f"read model {p.name} has not been built (`starosta serve` or "
                                "`starosta rebuild` builds it)")
        if versions[p.name] != p.version:
            raise CannotCompare(
                f"read model {p.name} was built by version {versions[p.name]} of its code, this "
                f"starosta builds version {p.version}: run `starosta rebuild {p.name}` (or start "
                "the service, which rebuilds it) before checking it")


def _compare(runner: Runner, store: EventStore, chosen: Sequence[Projection],
             shadows: dict[str, Tables], position: int) -> tuple[int, dict[str, tuple[str, ...]]]:
    """Catch the shadows up with the log and compare them with the live tables at one
    position; return that position and the differing tables (see `verify_read_models`)."""
    for _ in range(SNAPSHOT_TRIES):
        with store.write_transaction() as conn:
            position = runner.catch_up_shadows(conn, store, chosen, shadows, position)
        reader = store.reader()
        with sql.snapshot(reader):
            if _live_positions(reader, chosen) == {p.name: position for p in chosen}:
                return position, _differing(reader, chosen, shadows)
    # appends keep arriving between the catch-up and the snapshot: compare under the writer
    with store.write_transaction() as conn:
        position = runner.catch_up_shadows(conn, store, chosen, shadows, position)
        behind = {n: at for n, at in _live_positions(conn, chosen).items() if at != position}
        if behind:
            name, at = next(iter(behind.items()))
            raise CannotCompare(f"read model {name} has applied the log up to position {at} of "
                                f"{position} (the service catches it up when it starts)")
        return position, _differing(conn, chosen, shadows)


def _live_positions(conn, chosen: Sequence[Projection]) -> dict[str, int]:
    """The log position each live read model of `chosen` has applied (its checkpoint)."""
    rows = dict(conn.execute("SELECT name, position FROM projection_checkpoints").fetchall())
    return {p.name: rows.get(p.name, 0) for p in chosen}


def _differing(conn, chosen: Sequence[Projection],
               shadows: dict[str, Tables]) -> dict[str, tuple[str, ...]]:
    """The tables of each read model of `chosen` whose live rows differ from its shadow's."""
    found: dict[str, tuple[str, ...]] = {}
    for p in chosen:
        tables = tuple(t for t in p.ddl
                       if table_hash(conn, t, t) != table_hash(conn, shadows[p.name][t], t))
        if tables:
            found[p.name] = tables
    return found
