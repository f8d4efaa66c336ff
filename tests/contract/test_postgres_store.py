"""The store contract run against PostgreSQL, on the throwaway cluster of tests/postgres.py, and
what only PostgreSQL needs: the service's role and its privileges, a log moved from SQLite to
PostgreSQL and back with the same head hash, and processes appending at once.

Each store gets a fresh schema of one test database, migrated by the owner's role
(starosta.migrations.postgres); the store itself connects as the service's login role
(`starosta_app`, a member of `starosta_service`: INSERT and SELECT on `events`), so the whole
contract passes with the privileges the service will have. The suite's scratch tables (its
`after` hooks write beside the log) need CREATE on the schema, granted to that role here only.
"""

from __future__ import annotations

import io
import multiprocessing
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import msgspec
import psycopg
import pytest
from psycopg import sql
from starosta.events.catalog import CATALOG
from starosta.events.chain import HASHED_COLUMNS, STORED_COLUMNS
from starosta.events.postgres_store import PostgresEventStore
from starosta.events.store import GroupCommitter, Job, Metadata, StoredRow
from starosta.migrations import postgres as pg_migrations
from starosta.service.db import open_store
from starosta.service.tools.transfer import export_log, import_log, verify_lines

from tests.contract.store_contract import (
    TIMEOUT,
    Backend,
    EventStoreContract,
    person,
    place,
    request,
)
from tests.postgres import APP, DATABASE, OWNER, SERVER_USER, SERVICE_ROLE, Cluster


class PostgresBackend:
    """Stores over fresh schemas of the test database; raw SQL for what only an attacker does."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.schemas: dict[str, str] = {}  # a store's URL -> its schema

    def new_schema(self) -> str:
        """Create and migrate a fresh schema as the owner; return its name."""
        schema = f"store_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.cluster.url(OWNER, DATABASE, search_path=schema),
                             autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
            pg_migrations.apply(conn)
            conn.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(SERVICE_ROLE),
                                                          sql.Identifier(APP)))
            conn.execute(sql.SQL("GRANT CREATE ON SCHEMA {} TO {}").format(
                sql.Identifier(schema), sql.Identifier(APP)))
        return schema

    def url(self, schema: str, user: str = APP) -> str:
        return self.cluster.url(user, DATABASE, search_path=schema)

    def new_store(self) -> PostgresEventStore:
        schema = self.new_schema()
        url = self.url(schema)
        self.schemas[url] = schema
        return PostgresEventStore(url, CATALOG)

    def second_handle(self, store: PostgresEventStore) -> PostgresEventStore:
        return PostgresEventStore(store.url, CATALOG)

    def connect_as(self, store: PostgresEventStore, user: str) -> psycopg.Connection:
        return psycopg.connect(self.url(self.schemas[store.url], user), autocommit=True)

    def tamper(self, store: PostgresEventStore, position: int, column: str,
               value: object) -> None:
        assert column in STORED_COLUMNS  # a column name from the suite, never input
        # the superuser switches ordinary triggers off for its session, as an attacker would
        with self.connect_as(store, SERVER_USER) as conn, conn.transaction():
            conn.execute("SET LOCAL session_replication_role = replica")
            conn.execute(sql.SQL("UPDATE events SET {} = %s WHERE position = %s").format(
                sql.Identifier(column)), (value, position))

    def forbidden_writes(self, store: PostgresEventStore) -> dict[str, Callable[[], object]]:
        """Rewrites the owner's role attempts: it holds every privilege on `events`, so only
        the triggers stand in the way."""
        def run(statement: str, *params: object) -> Callable[[], object]:
            def attempt() -> object:
                with self.connect_as(store, OWNER) as conn:
                    return conn.execute(statement, params or None)
            return attempt

        columns = ", ".join((*HASHED_COLUMNS, "hash"))
        with self.connect_as(store, OWNER) as conn:
            row = conn.execute(f"SELECT {columns} FROM events WHERE position = 2").fetchone()
        forged = (*row[:7], "the-forger", *row[8:])
        placeholders = ", ".join(["%s"] * len(forged))
        return {
            "update": run("UPDATE events SET actor = 'x' WHERE position = 2"),
            "update all": run("UPDATE events SET data = data || ' '"),
            "update nothing": run("UPDATE events SET actor = 'x' WHERE position = 999"),
            "delete one": run("DELETE FROM events WHERE position = 2"),
            "delete the tail": run("DELETE FROM events WHERE position > 3"),
            "delete all": run("DELETE FROM events"),
            "truncate": run("TRUNCATE events"),
            "upsert over a stored row": run(
                f"INSERT INTO events ({columns}) VALUES ({placeholders}) "
                "ON CONFLICT (position) DO UPDATE SET actor = excluded.actor", *forged),
            "merge": run("MERGE INTO events e USING (SELECT 2 AS position) s "
                         "ON e.position = s.position WHEN MATCHED THEN DELETE"),
        }


@pytest.fixture
def pg(postgres_cluster: Cluster) -> PostgresBackend:
    return PostgresBackend(postgres_cluster)


class TestPostgresEventStore(EventStoreContract):
    @pytest.fixture
    def backend(self, pg: PostgresBackend) -> Backend:
        return pg


# -- the schema, the roles and their privileges ------------------------------------------------


def test_migrations_apply_once_and_create_the_guards(pg: PostgresBackend) -> None:
    schema = pg.new_schema()
    with psycopg.connect(pg.url(schema, OWNER), autocommit=True) as conn:
        assert pg_migrations.apply(conn) == []  # applied by new_schema already: nothing to do
        assert pg_migrations.applied(conn) == [s.name for s in pg_migrations.steps()]
        triggers = {r[0] for r in conn.execute(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'events'::regclass AND NOT tgisinternal")}
        assert triggers == {"events_no_update", "events_no_delete", "events_no_truncate"}
        privileges = {p: conn.execute("SELECT has_table_privilege(%s, 'events', %s)",
                                      (SERVICE_ROLE, p)).fetchone()[0]
                      for p in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES",
                                "TRIGGER")}
        assert privileges == {"SELECT": True, "INSERT": True, "UPDATE": False, "DELETE": False,
                              "TRUNCATE": False, "REFERENCES": False, "TRIGGER": False}


def test_migrations_started_at_once_apply_each_step_once(pg: PostgresBackend) -> None:
    schema = f"store_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg.url(schema, OWNER), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    outcomes: list[object] = []
    barrier = threading.Barrier(4)

    def migrate() -> None:
        with psycopg.connect(pg.url(schema, OWNER), autocommit=True) as conn:
            barrier.wait(TIMEOUT)
            try:
                outcomes.append(pg_migrations.apply(conn))
            except Exception as exc:  # surfaced below
                outcomes.append(exc)

    threads = [threading.Thread(target=migrate) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT)
    steps = [s.name for s in pg_migrations.steps()]
    assert sorted(outcomes, key=len) == [[], [], [], steps], outcomes


def test_the_service_role_may_only_insert_and_select(pg: PostgresBackend) -> None:
    store = pg.new_store()
    try:
        assert store.append("P-1", [person(1)], 0) == [1]  # the store runs as the service
        with pg.connect_as(store, APP) as conn:
            assert conn.execute("SELECT current_user").fetchone()[0] == APP
            for statement in ("UPDATE events SET actor = 'x'", "DELETE FROM events",
                              "TRUNCATE events", "DROP TABLE events",
                              "ALTER TABLE events DISABLE TRIGGER events_no_update"):
                with pytest.raises((psycopg.errors.InsufficientPrivilege,
                                    psycopg.errors.RaiseException)) as info:
                    conn.execute(statement)
                # refused for the privilege, before any trigger runs
                assert isinstance(info.value, psycopg.errors.InsufficientPrivilege), statement
        assert store.verify().ok and store.head().position == 1
    finally:
        store.close()


def test_a_lost_connection_is_unavailable_then_reopened(pg: PostgresBackend) -> None:
    from starosta.events.store import StoreUnavailable

    store = pg.new_store()
    try:
        store.append("P-1", [person(1)], 0)
        with pg.connect_as(store, SERVER_USER) as conn:  # the server drops the store's sessions
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                         "WHERE usename = %s AND pid <> pg_backend_pid()", (APP,))
        with pytest.raises(StoreUnavailable):
            store.append("P-2", [person(2)], 0)
        assert store.append("P-2", [person(2)], 0) == [2]  # a new connection, nothing lost
        assert store.head().position == 2 and store.verify().ok
    finally:
        store.close()


# -- one log, two backends -------------------------------------------------------------------


def _fill(store, start: int, count: int) -> None:
    """Append events a real archive could hold (the SQLite import builds its read models)."""
    for n in range(start, start + count):
        if n % 3 == 0:
            store.append_atomic([request(f"P-{n}", person(n, "Моллі Штаймер")),
                                 request(f"PL-{n}", place(n, "Соловки"), expected=0)],
                                Metadata(actor=f"archivist-{n % 2}", request_id=f"req-{n}"))
        else:
            store.append(f"P-{n}", [person(n, f"Ñame «{n}» \u0007")], 0,
                         Metadata(causation_id=f"cmd-{n}"))


def test_a_log_moves_from_sqlite_to_postgres_and_back_with_the_same_head(
        pg: PostgresBackend, tmp_path: Path) -> None:
    sqlite = open_store(str(tmp_path / "origin.db"))
    postgres = pg.new_store()
    try:
        _fill(sqlite, 0, 40)
        exported = io.BytesIO()
        assert export_log(sqlite.read_rows(), exported) == sqlite.head().position
        lines = exported.getvalue().splitlines()
        count, head = verify_lines(iter(lines))  # the import's own check
        decode = msgspec.json.Decoder(StoredRow).decode
        assert postgres.load_rows(decode(line) for line in lines) == count
        assert postgres.head() == sqlite.head() and postgres.head().hash == head
        assert list(postgres.read_rows()) == list(sqlite.read_rows())
        assert postgres.verify().ok and postgres.verify(expect_head=head).ok
        # PostgreSQL goes on appending, then the log goes back to a new SQLite file through
        # `starosta import`'s code path: SQLite checks every hash PostgreSQL computed
        _fill(postgres, 40, 25)
        back = tmp_path / "back.jsonl"
        with back.open("wb") as out:
            export_log(postgres.read_rows(), out)
        count, head = import_log(str(back), str(tmp_path / "returned.db"))
        assert (count, head) == (postgres.head().position, postgres.head().hash)
        returned = open_store(str(tmp_path / "returned.db"))
        try:
            assert returned.verify(expect_head=head).ok
            assert list(returned.read_rows()) == list(postgres.read_rows())
            assert [e.event for e in returned.read_log()] == [e.event for e in postgres.read_log()]
        finally:
            returned.close()
    finally:
        sqlite.close()
        postgres.close()


# -- processes appending at once -----------------------------------------------------------------


def _append_in_process(url: str, worker: int, appends: int) -> None:
    """A process of its own (a second server): two threads append, one through group commit."""
    store = PostgresEventStore(url, CATALOG)
    committer = GroupCommitter(store)
    try:
        def direct() -> None:
            for i in range(appends):
                events = [person(worker, f"{worker}/{i}/{k}") for k in range(1 + i % 3)]
                store.append(f"W-{worker}-direct", events, meta=Metadata(actor=f"w{worker}"))

        thread = threading.Thread(target=direct)
        thread.start()
        futures = [committer.submit(Job([request(f"W-{worker}-{i}", person(i), expected=0)]))
                   for i in range(appends)]
        for f in futures:
            f.result(TIMEOUT)
        thread.join(TIMEOUT)
    finally:
        committer.close()
        store.close()


@pytest.mark.slow
def test_processes_appending_at_once_keep_positions_gap_free_in_commit_order(
        pg: PostgresBackend) -> None:
    store = pg.new_store()
    processes, appends = 3, 60
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_append_in_process, args=(store.url, w, appends))
               for w in range(processes)]
    tailed: list[int] = []
    done = threading.Event()

    def tail() -> None:  # a reader following the log: it must never pass over a position
        last = 0
        while True:
            finished = done.is_set()
            for row in store.read_rows(after=last):
                tailed.append(row.position)
                last = row.position
            if finished:
                return
            time.sleep(0.002)

    tailer = threading.Thread(target=tail)
    tailer.start()
    try:
        for w in workers:
            w.start()
        for w in workers:
            w.join(TIMEOUT * 2)
            assert w.exitcode == 0, f"worker exited with {w.exitcode}"
    finally:
        done.set()
        tailer.join(TIMEOUT)
        for w in workers:
            if w.is_alive():
                w.kill()
    try:
        per_process = appends + sum(1 + i % 3 for i in range(appends))
        total = processes * per_process
        log = list(store.read_log())
        assert [e.position for e in log] == list(range(1, total + 1))
        assert tailed == list(range(1, total + 1))  # what a follower saw: no skip, no reorder
        for w in range(processes):
            versions = [e.version for e in log if e.stream_id == f"W-{w}-direct"]
            assert versions == list(range(1, len(versions) + 1))
        stamps = [e.recorded_at for e in log]
        assert stamps == sorted(stamps)
        verdict = store.verify()
        assert verdict.ok and verdict.count == total
    finally:
        store.close()



def test_a_hook_that_swallows_a_database_error_fails_its_job_alone(pg: PostgresBackend) -> None:
    from starosta.events.store import StoreError

    def swallowing(tx, envelopes) -> None:  # leaves PostgreSQL's transaction aborted
        try:
            tx.execute("SELECT * FROM no_such_table")
        except psycopg.Error:
            pass

    store = pg.new_store()
    try:
        with pytest.raises(StoreError, match="caught by its after hook"):
            store.append_atomic([request("P-0", person(0), expected=0)], after=swallowing)
        results = store.commit_jobs([Job([request("P-1", person(1), expected=0)]),
                                     Job([request("P-2", person(2), expected=0)], after=swallowing),
                                     Job([request("P-3", person(3), expected=0)])])
        assert results[0] == [[1]] and results[2] == [[2]] and isinstance(results[1], StoreError)
        assert store.head().position == 2 and store.stream_version("P-2") == 0
        assert store.verify().ok
    finally:
        store.close()


# -- the fixture's own rule: skip on a laptop without PostgreSQL, fail in CI ---------------------


def test_without_postgresql_the_tests_skip_naming_the_package(monkeypatch) -> None:
    import tests.postgres as fixture

    monkeypatch.setattr(fixture, "server_binaries", lambda: None)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install postgresql"):
        fixture.postgres_available_or_skip()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI is set"):
        fixture.postgres_available_or_skip()


def test_the_rebuild_lock_is_one_holder_at_a_time_and_free_as_soon_as_released(
        pg: PostgresBackend) -> None:
    """Another session meets the held lock and is told who holds it; once released it is free
    at once, every time (released explicitly: the server frees a closed session's locks a
    moment after the client has returned)."""
    first = pg.new_store()
    second = pg.second_handle(first)
    try:
        with first.rebuild_guard() as holder:
            assert holder is None
            with first.rebuild_guard() as again:  # the same thread again: a no-op
                assert again is None
            with second.rebuild_guard() as other:
                assert other is not None and "backend pid" in other
        for _ in range(300):
            with second.rebuild_guard() as holder:
                assert holder is None
    finally:
        second.close()
        first.close()
