"""A rebuild applies the log in batches (`Projection.apply_batch`: by default `apply` one event
at a time; a read model may override it with set-based SQL): every read model's rebuilt tables
hold exactly the rows a rebuild applying one event at a time holds (content hash), and those
the live, append-by-append tables hold, on SQLite and PostgreSQL, for scripted histories with
supersessions, merges, contests, suppressions and retractions, random ones, the demo archive
and a small synthetic one; with batches of 5,000 events and of 7 (cutting every history)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from starosta.projections import runner as runner_module
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


def test_default_runner_projections_all_batch() -> None:
    """Every read model answers apply_batch (the protocol's default loops apply)."""
    for p in default_runner().projections:
        assert callable(getattr(p, "apply_batch", None)), p.name


