"""`starosta verify --read-models`: a read model changed behind the service's back is named.

The hash chain guards the log, not the read models built from it: an `UPDATE claims SET
status = 'approved'` on a rejected claim passes plain `verify`, and the service then serves the
rejected claim as public. `verify --read-models` rebuilds every read model into shadow tables,
compares their rows with the live tables' and drops the shadows. Each case runs the real CLI in
a subprocess, on a real SQLite file and on the throwaway PostgreSQL cluster; one runs the check
(the library function, paused between batches) beside a real `starosta serve`.
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from litestar.testing import TestClient
from starosta.projections.audit import CannotCompare, verify_read_models
from starosta.events.sqlite_store import LOCK_SUFFIX, rebuild_lock
from starosta.events.store import RebuildRunning
from starosta.service.api.app import create_app
from starosta.projections.read_models import default_runner
from starosta.service.db import open_event_store
from starosta.service.settings import Settings

from tests.conftest import run_cli, start_server, stop

REVIEWER = {"Authorization": "Bearer demo-reviewer-token"}  # the demo's public tokens
CONTRIBUTOR = {"Authorization": "Bearer demo-contributor-token"}
CHAIN_OK = re.compile(r"^ok: \d+ events, chain intact; head \d+ [0-9a-f]{64}$")
MODELS_OK = re.compile(r"^ok: 6 read models hold what a rebuild from the log holds at position "
                       r"(\d+) \(\d+\.\d s\)$")
NAMES = default_runner().names()


@dataclass
class Archive:
    """A demo archive with one rejected claim: its --db, the owner's URL on PostgreSQL."""

    db: str
    rejected: str  # the id of a claim a reviewer rejected
    env: dict[str, str] = field(default_factory=dict)

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        environment = {k: v for k, v in os.environ.items() if not k.startswith("STAROSTA_")}
        return subprocess.run([str(Path(sys.executable).with_name("starosta")), *args,
                               "--db", self.db], capture_output=True, text=True, timeout=300,
                              env={**environment, **self.env}, check=False)

    def owner(self):
        """A connection that may change any table (the file itself; PostgreSQL's owner)."""
        if not self.env:
            return sqlite3.connect(self.db, isolation_level=None)
        import psycopg

        return psycopg.connect(self.env["STAROSTA_OWNER_DB"], autocommit=True)

    def rows(self, query: str, *parameters) -> list[tuple]:
        conn = self.owner()
        try:
            q = query if not self.env else query.replace("?", "%s")
            return [tuple(r) for r in conn.execute(q, parameters).fetchall()]
        finally:
            conn.close()

    def tables(self) -> set[str]:
        """Every table of the archive (shadows would show here)."""
        if not self.env:
            return {r[0] for r in self.rows("SELECT name FROM sqlite_master WHERE type = 'table'")}
        return {r[0] for r in self.rows("SELECT tablename FROM pg_tables WHERE schemaname = "
                                        "current_schema()")}

    def checkpoints(self) -> list[tuple]:
        return self.rows("SELECT name, version, position, generation FROM projection_checkpoints "
                         "ORDER BY name")

    def status(self, claim: str) -> str:
        return self.rows("SELECT status FROM claims WHERE id = ?", claim)[0][0]


def reject_a_pending_claim(db: str) -> str:
    """Reject one of the demo's pending claims through the real app; return its id."""
    with TestClient(create_app(Settings(db=db))) as client:
        page = client.get("/claims", params={"status": "pending"}, headers=REVIEWER)
        claim = page.json()["items"][0]["id"]
        done = client.post(f"/claims/{claim}/reject", json={"reason": "the source says 1941"},
                           headers=REVIEWER)
        assert done.status_code == 200 and done.json()["status"] == "rejected", done.text
        assert client.get(f"/claims/{claim}").status_code == 404  # readers do not see it
    return claim


def anonymous_status(db: str, claim: str) -> int:
    """The status a reader without a token gets for GET /claims/{claim} from the real app."""
    with TestClient(create_app(Settings(db=db))) as client:
        return client.get(f"/claims/{claim}").status_code


@contextlib.contextmanager
def held_elsewhere(db: str) -> Iterator[None]:
    """Hold the rebuild lock of `db` in another thread (this thread's own is re-entrant)."""
    taken, done = threading.Event(), threading.Event()

    def hold() -> None:
        with rebuild_lock(db):
            taken.set()
            done.wait(60)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert taken.wait(30)
        yield
    finally:
        done.set()
        holder.join(30)


def one_line(done: subprocess.CompletedProcess, *words: str) -> None:
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    for word in words:
        assert word in done.stderr, done.stderr


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """The demo archive in SQLite with one claim rejected: (its path, that claim's id)."""
    db = str(tmp_path_factory.mktemp("demo") / "demo.db")
    made = run_cli("demo", "--db", db, timeout=180)
    assert made.returncode == 0, made.stderr
    return db, reject_a_pending_claim(db)


@pytest.fixture
def sqlite_archive(demo_file: tuple[str, str], tmp_path: Path) -> Archive:
    """A copy of the module's demo archive for one test."""
    source, rejected = demo_file
    copy = str(tmp_path / "archive.db")
    src, dst = sqlite3.connect(source), sqlite3.connect(copy)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()
    return Archive(copy, rejected)


@pytest.fixture
def postgres_archive(postgres_cluster, monkeypatch: pytest.MonkeyPatch) -> Archive:
    """The demo archive in a new schema of the test cluster, with one claim rejected."""
    from tests.postgres import empty_schema

    service, owner = empty_schema(postgres_cluster)
    archive = Archive(service, "", {"STAROSTA_OWNER_DB": owner})
    made = archive.cli("demo")
    assert made.returncode == 0, made.stderr
    monkeypatch.setenv("STAROSTA_OWNER_DB", owner)
    archive.rejected = reject_a_pending_claim(service)
    return archive


@pytest.fixture(params=["sqlite", "postgres"])
def archive(request: pytest.FixtureRequest) -> Archive:
    return request.getfixturevalue(f"{request.param}_archive")


# -- through the CLI, on both backends -----------------------------------------------------------

@pytest.mark.timeout(300)  # several CLI runs (a demo on PostgreSQL) on a busy machine
def test_an_untouched_archive_passes_and_keeps_its_tables(archive: Archive) -> None:
    tables, checkpoints = archive.tables(), archive.checkpoints()
    done = archive.cli("verify", "--read-models")
    assert done.returncode == 0, done.stderr
    chain, models = done.stdout.strip().splitlines()
    assert CHAIN_OK.match(chain), chain
    position = int(MODELS_OK.match(models).group(1))
    assert position == checkpoints[0][2] and {c[2] for c in checkpoints} == {position}
    # the shadows are gone, the live read models untouched (no swap, no new generation)
    assert archive.tables() == tables and archive.checkpoints() == checkpoints
    assert not any("__g" in t for t in tables)
    assert not os.path.exists(archive.db + LOCK_SUFFIX)


@pytest.mark.timeout(300)  # several CLI runs (a demo on PostgreSQL) on a busy machine
def test_a_rejected_claim_approved_behind_the_service_is_named(archive: Archive) -> None:
    assert archive.status(archive.rejected) == "rejected"
    conn = archive.owner()
    try:
        conn.execute("UPDATE claims SET status = 'approved' WHERE id = " +
                     ("?" if not archive.env else "%s"), (archive.rejected,))
    finally:
        conn.close()
    assert anonymous_status(archive.db, archive.rejected) == 200  # the harm: served as public
    assert archive.cli("verify").returncode == 0  # the chain cannot see it
    tables = archive.tables()

    done = archive.cli("verify", "--read-models")
    assert CHAIN_OK.match(done.stdout.strip()), done.stdout
    one_line(done, "BROKEN: read model claims differs from its rebuild from the log",
             "(table claims)", "starosta rebuild claims")
    assert "also" not in done.stderr  # only the tampered read model is named
    # the check changed nothing: the live row is as the attacker left it, no shadow remains
    assert archive.status(archive.rejected) == "approved" and archive.tables() == tables

    rebuilt = archive.cli("rebuild", "claims")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert archive.status(archive.rejected) == "rejected"
    assert archive.cli("verify", "--read-models").returncode == 0
    assert anonymous_status(archive.db, archive.rejected) == 404


def test_the_first_read_model_in_apply_order_is_named_and_the_others_listed(
        sqlite_archive: Archive) -> None:
    archive = sqlite_archive
    conn = archive.owner()
    try:  # the last read model first, then the first: the report follows the apply order
        # (the document column holds zlib bytes on SQLite: a changed ETag is a changed row)
        conn.execute("UPDATE biographies SET etag = etag || ' '")
        conn.execute("UPDATE claims SET status = 'approved' WHERE id = ?", (archive.rejected,))
        conn.execute("DELETE FROM persons WHERE rowid = (SELECT min(rowid) FROM persons)")
    finally:
        conn.close()
    assert NAMES[0] == "registry" and NAMES[-1] == "biographies"
    one_line(archive.cli("verify", "--read-models"), "read model registry differs",
             "(table persons)", "also claims, biographies")


@pytest.mark.timeout(300)  # several CLI runs (a demo on PostgreSQL) on a busy machine
def test_refused_while_a_rebuild_of_the_archive_runs(archive: Archive) -> None:
    """The check holds the rebuild lock: it never runs beside a rebuild (nor a rebuild
    beside it, see below)."""
    tables = archive.tables()
    if archive.env:
        store = open_event_store(archive.env["STAROSTA_OWNER_DB"])
        try:
            with store.rebuild_guard() as holder:
                assert holder is None
                done = archive.cli("verify", "--read-models")
        finally:
            store.close()
        one_line(done, "cannot check the read models", "another rebuild", "backend pid")
    else:
        with rebuild_lock(archive.db):
            done = archive.cli("verify", "--read-models")
        one_line(done, "cannot check the read models", "another rebuild",
                 f"(pid {os.getpid()})")
    assert CHAIN_OK.match(done.stdout.strip())
    assert archive.tables() == tables


def test_a_read_model_built_by_other_code_is_not_compared(sqlite_archive: Archive) -> None:
    archive = sqlite_archive
    conn = archive.owner()
    try:
        conn.execute("UPDATE projection_checkpoints SET version = version + 100 "
                     "WHERE name = 'ledger'")
    finally:
        conn.close()
    tables = archive.tables()
    one_line(archive.cli("verify", "--read-models"), "read model ledger was built by version",
             "starosta rebuild ledger")
    assert archive.tables() == tables


# -- beside a running server -----------------------------------------------------------------

@pytest.mark.timeout(300)  # several CLI runs (a demo on PostgreSQL) on a busy machine
def test_a_running_server_answers_and_writes_while_the_check_runs(sqlite_archive: Archive) -> None:
    """Paused between two batches of its rebuild (shadow tables half full), the check leaves a
    real `starosta serve` answering reads as before and taking a review; `starosta rebuild`
    refuses meanwhile; the check then compares at the head that includes the review."""
    archive = sqlite_archive
    proc, base = start_server(archive.db)
    paused: list[dict] = []
    try:
        with httpx.Client(base_url=base, timeout=30) as http:
            before = http.get("/claims", params={"limit": 200}).json()
            pending = http.get("/claims", params={"status": "pending"}, headers=REVIEWER)
            other = pending.json()["items"][0]["id"]

            def during(name: str, position: int, head: int) -> None:
                if paused:
                    return
                shadows = {t for t in archive.tables() if "__g" in t}
                assert shadows and "claims" in archive.tables()
                answered = http.get("/claims", params={"limit": 200}).json()
                hidden = http.get(f"/claims/{archive.rejected}").status_code
                review = http.post(f"/claims/{other}/approve", headers=REVIEWER,
                                   json={"reason": "checked against the original"})
                rebuild = run_cli("rebuild", "--db", archive.db)
                paused.append({"shadows": shadows, "answered": answered, "hidden": hidden,
                               "review": review.status_code, "position": review.json(),
                               "rebuild": rebuild, "at": (position, head)})

            store = open_event_store(archive.db)
            try:
                verdict = verify_read_models(default_runner(), store, batch_size=100)
                assert not paused  # without a progress hook: no pause; now with one
                verdict = verify_read_models(default_runner(), store, progress=during,
                                             batch_size=100)
                head = store.head().position
            finally:
                store.close()
    finally:
        stop(proc)
    (seen,) = paused
    assert seen["at"][0] < seen["at"][1]  # paused with the log only partly replayed
    assert seen["answered"] == before and seen["hidden"] == 404
    assert seen["review"] == 200
    one_line(seen["rebuild"], "another rebuild")
    assert verdict.ok and verdict.compared == tuple(NAMES)
    assert verdict.position == head > seen["at"][1]  # the approval made after the pause counts
    assert not any("__g" in t for t in archive.tables())


def test_the_library_names_what_it_cannot_compare(sqlite_archive: Archive) -> None:
    archive = sqlite_archive
    store = open_event_store(archive.db)
    try:
        with held_elsewhere(archive.db), pytest.raises(RebuildRunning):
            verify_read_models(default_runner(), store)
        with store.write_transaction() as conn:  # as if events were appended without the runner
            conn.execute("UPDATE projection_checkpoints SET position = position - 1 "
                         "WHERE name = 'search'")
        with pytest.raises(CannotCompare, match="read model search has applied the log up to"):
            verify_read_models(default_runner(), store)
    finally:
        store.close()
    assert not any("__g" in t for t in archive.tables())


# -- the comparison itself ---------------------------------------------------------------------

def test_a_table_hash_counts_rows_not_their_order() -> None:
    from starosta.projections.audit import ReadModelsVerdict
    from starosta.projections.runner import table_hash

    conn = sqlite3.connect(":memory:")
    rows = [("C-1", "rejected", b"{}"), ("C-2", "approved", None), ("C-3", "pending", b"[1]")]
    for table, order in (("claims", rows), ("claims__g2", rows[::-1]), ("other", rows)):
        conn.execute(f'CREATE TABLE "{table}" (id TEXT PRIMARY KEY, status TEXT, data BLOB)')
        conn.executemany(f'INSERT INTO "{table}" VALUES (?, ?, ?)', order)
    assert table_hash(conn, "claims", "claims") == table_hash(conn, "claims__g2", "claims")
    assert table_hash(conn, "other", "other") != table_hash(conn, "claims", "claims")  # named
    conn.execute("UPDATE claims__g2 SET status = 'approved' WHERE id = 'C-1'")
    assert table_hash(conn, "claims", "claims") != table_hash(conn, "claims__g2", "claims")
    conn.execute('INSERT INTO "claims" VALUES (?, ?, ?)', ("C-4", "approved", None))
    conn.execute('INSERT INTO "claims__g2" VALUES (?, ?, ?)', ("C-4", "approved", None))
    conn.execute("UPDATE claims__g2 SET status = 'rejected' WHERE id = 'C-1'")
    assert table_hash(conn, "claims", "claims") == table_hash(conn, "claims__g2", "claims")

    verdict = ReadModelsVerdict(9, ("registry", "claims"), {"claims": ("claims",)})
    assert not verdict.ok and verdict.first == "claims"
    assert ReadModelsVerdict(9, ("registry",)).ok and ReadModelsVerdict(9, ()).first is None
