"""Migrations: ordered, one transaction each, idempotent, safe when processes race."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import pytest

from starosta import migrations
from starosta.events.catalog import CATALOG
from starosta.events.registry import PersonRegistered
from starosta.events.chain import GENESIS, HASHED_COLUMNS, chain_hash, row_digest
from starosta.events.sqlite_store import SQLiteEventStore, connect
from starosta.events.store import Head
from tests.conftest import ROOT, run_cli


def tables(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table','trigger')")}


def test_steps_are_numbered_in_order() -> None:
    names = [s.name for s in migrations.steps()]
    assert names == sorted(names) and names[0] == "0001_event_log"
    assert len({n[:4] for n in names}) == len(names), "two steps share a number"


def test_upgrade_from_the_first_migration_keeps_the_log(db_path: str) -> None:
    conn = connect(db_path)
    assert migrations.apply(conn, stop_after="0001_event_log") == ["0001_event_log"]
    # a row as the code of that time wrote it (no nonce column yet)
    tag, version, data = CATALOG.encode(PersonRegistered(person_id="P1", label="Aron Baron"))
    row = (1, "e1", "person-1", 1, tag, version, data.decode(), None, None, None,
           "2024-01-01T00:00:00.000000Z")
    before = Head(1, chain_hash(GENESIS, row_digest(row)), row[-1])
    conn.execute(f"INSERT INTO events ({', '.join(HASHED_COLUMNS)}, hash) VALUES "
                 f"({','.join('?' * 12)})", (*row, before.hash))

    later = migrations.apply(conn)
    assert later == [s.name for s in migrations.steps()][1:]
    assert migrations.applied(conn) == [s.name for s in migrations.steps()]
    assert {"events_no_update", "events_no_delete", "events_no_replace",
            "projection_checkpoints"} <= tables(conn)
    store = SQLiteEventStore(db_path, CATALOG)
    assert store.head() == before
    assert store.verify().ok
    store.close()
    conn.close()


def test_applying_twice_changes_nothing(db_path: str) -> None:
    conn = connect(db_path)
    migrations.apply(conn)
    schema = conn.execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall()
    assert migrations.apply(conn) == []
    assert conn.execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall() == schema
    assert conn.execute("SELECT count(*) FROM schema_migrations").fetchone()[0] == len(migrations.steps())


def test_a_failing_step_leaves_nothing_half_applied(db_path: str) -> None:
    conn = connect(db_path)
    migrations.apply(conn)
    broken = migrations.Step("9999_broken", "CREATE TABLE half (x);\nTHIS IS NOT SQL;")
    conn.execute("BEGIN IMMEDIATE")
    with pytest.raises(sqlite3.OperationalError):
        for statement in migrations.statements(broken.sql):
            conn.execute(statement)
    conn.execute("ROLLBACK")
    assert "half" not in tables(conn)


def test_statements_keep_trigger_bodies_whole() -> None:
    sql = migrations.steps()[0].sql
    parts = migrations.statements(sql)
    triggers = [p for p in parts if p.startswith("CREATE TRIGGER")]
    assert len(triggers) == 3 and all(p.rstrip().endswith("END;") for p in triggers)


def test_cli_migrate_reports_then_is_up_to_date(db_path: str) -> None:
    first = run_cli("migrate", "--db", db_path)
    assert first.returncode == 0 and "0001_event_log" in first.stdout
    again = run_cli("migrate", "--db", db_path)
    assert again.returncode == 0 and "up to date" in again.stdout


@pytest.mark.slow
def test_processes_starting_at_once_apply_each_step_once(db_path: str) -> None:
    code = ("import sys; from service.db import migrate; print(len(migrate(sys.argv[1])))")
    procs = [subprocess.Popen([sys.executable, "-c", code, db_path], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(4)]
    outputs = [p.communicate(timeout=60) for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    assert sum(int(out) for out, _ in outputs) == len(migrations.steps())
    conn = connect(db_path)
    assert migrations.applied(conn) == [s.name for s in migrations.steps()]
