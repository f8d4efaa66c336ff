"""The read models' list and the `Projection` protocol (projections/read_models.py,
projections/runner.py): the list is in apply order, every read model declares its hooks
through the protocol, and a read model that declares none of the optional hooks is kept
current and rebuilt by the runner on a real SQLite file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from starosta.events.registry import PersonRegistered
from starosta.events.store import AppendRequest, Envelope, Metadata, NewEvent
from starosta.projections.read_models import READ_MODELS, default_runner
from starosta.projections.runner import Projection, Runner, Tables, ddl_of
from starosta.projections.sql import POSTGRES, SQLITE
from starosta.service.db import open_store


def test_every_read_model_comes_after_those_it_reads() -> None:
    names = [model.name for model in READ_MODELS]
    assert len(set(names)) == len(names), names
    for i, model in enumerate(READ_MODELS):
        assert Projection in model.__mro__, model  # its hooks are the protocol's
        assert set(model.reads) <= set(names[:i]), (model.name, model.reads, names[:i])


def test_default_runner_makes_fresh_instances_in_list_order() -> None:
    first, second = default_runner(), default_runner()
    assert first.names() == [model.name for model in READ_MODELS]
    assert all(a is not b for a, b in zip(first.projections, second.projections, strict=True))


def test_postgres_ddl_is_the_override_when_declared_else_the_common_one() -> None:
    for model in READ_MODELS:
        p = model()
        assert ddl_of(p, SQLITE) is p.ddl
        assert ddl_of(p, POSTGRES) is (p.ddl if p.ddl_postgres is None else p.ddl_postgres)
    assert any(model.ddl_postgres is not None for model in READ_MODELS)  # search's name_index


class PersonCount(Projection):
    """A read model with only the required members: the hooks are the protocol's defaults."""

    name = "person_count"
    version = 1
    ddl = {"person_count": ["CREATE TABLE {name} (person_id TEXT PRIMARY KEY)"]}

    def apply(self, conn: sqlite3.Connection, envelope: Envelope, tables: Tables) -> None:
        if isinstance(envelope.event, PersonRegistered):
            conn.execute(f"INSERT INTO {tables['person_count']} VALUES (?)",
                         (envelope.event.person_id,))


def register(person_id: str) -> AppendRequest:
    return AppendRequest(f"person-{person_id}", [NewEvent(PersonRegistered(person_id, "A"))], 0)


def test_a_read_model_without_optional_hooks_is_applied_and_rebuilt(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "a.db"))
    try:
        runner = Runner([PersonCount()])
        assert runner.ensure(store) == ["person_count"]
        store.append_atomic([register("p1"), register("p2")], Metadata(actor="t"),
                            after=runner.apply)
        rows = lambda: sorted(r[0] for r in store.reader().execute(  # noqa: E731
            "SELECT person_id FROM person_count"))
        assert rows() == ["p1", "p2"]
        digest = runner.rebuild(store, "person_count")
        assert digest is not None and rows() == ["p1", "p2"]
    finally:
        store.close()


def test_the_runner_calls_hooks_the_protocol_declares_never_looks_them_up() -> None:
    import inspect

    from starosta.projections import runner

    source = inspect.getsource(runner)
    for hook in ("reads", "finish", "pending", "settle", "ddl_postgres"):
        assert f'"{hook}"' not in source, f"runner.py looks up the hook {hook!r} by name"
        assert hook in Projection.__dict__, f"Projection does not declare {hook!r}"
