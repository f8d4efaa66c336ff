"""A rebuild applies the log in batches (`Projection.apply_batch`: registry, search, claims
and the claim indexes send their writes per table with executemany through `sql.Deferred`):
every read model's rebuilt tables hold exactly the rows a rebuild applying one event at a time
holds (content hash), and those the live, append-by-append tables hold, on SQLite and
PostgreSQL, for scripted histories with supersessions, merges, contests, suppressions and
retractions, random ones, the demo archive and a small synthetic one."""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from starosta.projections import runner as runner_module
from starosta.projections import sql
from starosta.projections.read_models import default_runner
from starosta.projections.runner import Runner, content_hash
from starosta.service.db import open_archive
from tests.integration.test_projection_determinism import (
    SCRIPTED,
    SUPERSEDING,
    World,
    ops,
)


def _one_at_a_time(p, conn, envelopes, tables) -> None:
    for envelope in envelopes:
        p.apply(conn, envelope, tables)


def rebuilt_hashes(store, runner: Runner, batch_size: int = 5000) -> dict[str, str | None]:
    return runner.rebuild_many(store, runner.names(), batch_size=batch_size)


def batched_equals_one_at_a_time(store, runner: Runner, monkeypatch: pytest.MonkeyPatch,
                                 small_batches: bool = True) -> None:
    """Every read model: live tables == batched rebuild (two batch sizes) == the rebuild that
    applies one event at a time."""
    live = {p.name: content_hash(store.reader(), list(p.ddl)) for p in runner.projections}
    batched = rebuilt_hashes(store, runner)
    # batches of 7 cut through every history (one transaction each: not on PostgreSQL's synth)
    small = rebuilt_hashes(store, runner, batch_size=7) if small_batches else batched
    with monkeypatch.context() as m:
        m.setattr(runner_module, "apply_batch", _one_at_a_time)
        plain = rebuilt_hashes(store, runner)
    for name in runner.names():
        assert batched[name] == plain[name], f"{name}: the batched rebuild differs from one at a time"
        assert small[name] == plain[name], f"{name}: batches of 7 differ from one at a time"
        assert live[name] == plain[name], f"{name}: live tables differ from the rebuild"


def _run(world: World, commands) -> None:
    for op in commands:
        world.run(op)


@pytest.mark.parametrize("commands", [SCRIPTED, SUPERSEDING], ids=["scripted", "superseding"])
def test_batched_rebuild_equals_one_at_a_time(commands, monkeypatch) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        world = World(str(Path(tmp) / "archive.db"))
        try:
            _run(world, commands)
            batched_equals_one_at_a_time(world.archive.store, world.archive.runner, monkeypatch)
        finally:
            world.archive.store.close()


@pytest.mark.timeout(600)
@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(commands=st.lists(ops, min_size=1, max_size=80))
def test_batched_rebuild_equals_one_at_a_time_random(commands, monkeypatch) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        world = World(str(Path(tmp) / "archive.db"))
        try:
            _run(world, commands)
            batched_equals_one_at_a_time(world.archive.store, world.archive.runner, monkeypatch)
        finally:
            world.archive.store.close()


@pytest.mark.timeout(600)
@settings(max_examples=3, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@example(commands=SCRIPTED)
@example(commands=SUPERSEDING)
@given(commands=st.lists(ops, min_size=1, max_size=60))
def test_batched_rebuild_equals_one_at_a_time_on_postgres(postgres_cluster, commands,
                                                         monkeypatch) -> None:
    from tests.postgres import new_archive

    _, owner = new_archive(postgres_cluster)
    world = World(owner)
    try:
        _run(world, commands)
        batched_equals_one_at_a_time(world.archive.store, world.archive.runner, monkeypatch)
    finally:
        world.archive.store.close()


def test_batched_rebuild_of_the_demo_archive(tmp_path, monkeypatch) -> None:
    from starosta.service.tools.demo.load import load

    db = str(tmp_path / "demo.db")
    load(db)
    archive = open_archive(db)
    try:
        batched_equals_one_at_a_time(archive.store, archive.runner, monkeypatch)
    finally:
        archive.store.close()


def _synth_log(tmp_path: Path, persons: int = 40) -> str:
    from starosta.service.tools import synth

    path = tmp_path / "synth.jsonl"
    with open(path, "wb") as out:
        synth.generate(out, persons=persons, seed=3)
    return str(path)


def test_batched_rebuild_of_a_synthetic_archive(tmp_path, monkeypatch) -> None:
    from starosta.service.tools.transfer import import_log

    db = str(tmp_path / "synth.db")
    import_log(_synth_log(tmp_path), db)
    archive = open_archive(db)
    try:
        batched_equals_one_at_a_time(archive.store, archive.runner, monkeypatch)
    finally:
        archive.store.close()


@pytest.mark.timeout(900)  # about 400 events, rebuilt three times, on a shared machine
def test_batched_rebuild_of_a_synthetic_archive_on_postgres(postgres_cluster, tmp_path,
                                                           monkeypatch) -> None:
    from starosta.service.tools.transfer import import_log
    from tests.postgres import new_archive

    _, owner = new_archive(postgres_cluster)
    import_log(_synth_log(tmp_path, persons=10), owner)
    archive = open_archive(owner)
    try:
        batched_equals_one_at_a_time(archive.store, archive.runner, monkeypatch, small_batches=False)
    finally:
        archive.store.close()


# -- sql.Deferred itself -------------------------------------------------------------------------

@pytest.fixture
def conn() -> Iterator[sqlite3.Connection]:
    c = sqlite3.connect(":memory:", isolation_level=None)
    c.execute("CREATE TABLE a (k TEXT PRIMARY KEY, v INTEGER)")
    c.execute("CREATE TABLE a_b (k TEXT PRIMARY KEY, v INTEGER)")
    c.execute("CREATE VIRTUAL TABLE f USING fts5 (t)")
    yield c
    c.close()


def test_deferred_reads_see_every_write_before_them(conn) -> None:
    d = sql.Deferred(conn)
    d.execute("INSERT INTO a VALUES (?, ?)", ("x", 1))
    d.execute("UPDATE a SET v = v + 1 WHERE k = ?", ("x",))
    d.executemany("INSERT INTO a_b VALUES (?, ?)", [("y", 5), ("z", 6)])
    # a_b's queue waits: a read of `a` only sends a's (a_b is another table, not a prefix)
    assert d.execute("SELECT v FROM a WHERE k = ?", ("x",)).fetchone() == (2,)
    assert conn.execute("SELECT count(*) FROM a_b").fetchone() == (0,)
    d.execute("DELETE FROM a_b WHERE k = ?", ("y",))
    # a write that reads another table sends that table's queue first and runs at once
    d.execute("UPDATE a SET v = (SELECT v FROM a_b WHERE k = 'z') WHERE k = ?", ("x",))
    assert conn.execute("SELECT k FROM a_b").fetchall() == [("z",)]
    d.execute("INSERT INTO a VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v", ("x", 9))
    d.flush()
    assert conn.execute("SELECT k, v FROM a").fetchall() == [("x", 9)]


def test_deferred_direct_tables_give_their_cursor(conn) -> None:
    d = sql.Deferred(conn, direct=["f"])
    assert d.execute("INSERT INTO f (t) VALUES (?)", ("hello",)).lastrowid == 1
    queued = d.execute("INSERT INTO a VALUES (?, ?)", ("x", 1))
    with pytest.raises(RuntimeError, match="direct"):
        queued.lastrowid  # noqa: B018 - reading it is the point
    d.flush()
    assert conn.execute("SELECT count(*) FROM a").fetchone() == (1,)


def test_deferred_passes_the_connection_through(conn) -> None:
    d = sql.Deferred(conn)
    assert sql.dialect(d) == sql.SQLITE
    assert d.in_transaction == conn.in_transaction


def test_deferred_keeps_a_failed_write_an_error(conn) -> None:
    d = sql.Deferred(conn)
    d.execute("INSERT INTO a VALUES (?, ?)", ("x", 1))
    d.execute("INSERT INTO a VALUES (?, ?)", ("x", 2))
    with pytest.raises(sqlite3.IntegrityError):
        d.flush()


def test_default_runner_projections_all_batch() -> None:
    """Every read model answers apply_batch (the protocol's default loops apply)."""
    for p in default_runner().projections:
        assert callable(getattr(p, "apply_batch", None)), p.name


