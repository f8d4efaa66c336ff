"""Operator commands (backup, verify, token create, serve) do what they say, through the real
`starosta` command in a subprocess (and the real app where the service is concerned):

1. `backup --force` replaces an existing copy, as the refusal without it says to do; never the
   database it reads, even with --force (nor a hard link to it); the copy passes `verify`.
2. `verify --expect-head` takes the 64 zeros `GET /events/head` publishes for an empty archive,
   for an empty archive only: a non-empty one with that head is a mismatch, in one line.
3. `token create` on a database that fails the write, so that SQLite undoes the transaction
   itself (a trigger's RAISE(ROLLBACK), a disk that refuses to grow the file): the real error in
   one line, no traceback, no token stored.
4. The service's start-up build of its read models takes the rebuild lock that `starosta
   rebuild` takes (tests/reliability/test_rebuild.py runs two rebuilds at once): `serve` and the
   app refuse to start, in one line naming the holder's pid, while another rebuild runs.
"""

from __future__ import annotations

import os
import resource
import sqlite3
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from litestar.testing import TestClient

from starosta.events.chain import GENESIS
from starosta.events.sqlite_store import LOCK_SUFFIX, rebuild_lock
from starosta.events.store import RebuildRunning
from starosta.service.api.app import create_app
from starosta.service.settings import Settings
from tests.conftest import free_port, run_cli

pytestmark = pytest.mark.slow


def one_line_error(done, *needles: str) -> str:
    """Assert the command failed with one line on stderr holding every needle; return it."""
    assert done.returncode != 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def head(db: str) -> tuple[int, str]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        row = conn.execute("SELECT position, hash FROM events ORDER BY position DESC LIMIT 1").fetchone()
        return (row[0], row[1]) if row else (0, GENESIS)
    finally:
        conn.close()


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    db = str(tmp_path_factory.mktemp("demo") / "demo.db")
    done = run_cli("demo", "--db", db, timeout=120)
    assert done.returncode == 0, done.stderr
    return db


# -- 1. backup --force ---------------------------------------------------------------------------

def test_backup_force_replaces_an_existing_copy_and_never_the_database(demo_db: str,
                                                                        tmp_path: Path) -> None:
    target = tmp_path / "nightly.db"
    target.write_bytes(b"an older copy\n")
    refused = run_cli("backup", str(target), "--db", demo_db)
    one_line_error(refused, str(target), "pass --force to replace it")
    assert target.read_bytes() == b"an older copy\n"

    done = run_cli("backup", str(target), "--db", demo_db, "--force")
    assert done.returncode == 0, done.stderr
    # the copy was built beside the target and moved into place: nothing of it is left over
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nightly.db"]
    verified = run_cli("verify", "--db", str(target), "--expect-head", head(demo_db)[1])
    assert verified.returncode == 0, verified.stderr
    assert head(str(target)) == head(demo_db)

    # --force never reaches the database backed up, by its path or a hard link to it
    before = Path(demo_db).read_bytes()
    link = tmp_path / "linked.db"
    os.link(demo_db, link)
    for out in (demo_db, str(link)):
        one_line_error(run_cli("backup", out, "--db", demo_db, "--force"), "it is the database")
    assert Path(demo_db).read_bytes() == before


# -- 2. verify --expect-head of an empty archive -------------------------------------------------

def test_verify_takes_the_empty_archives_published_head_only_for_an_empty_archive(
        demo_db: str, tmp_path: Path) -> None:
    empty = str(tmp_path / "empty.db")
    assert run_cli("migrate", "--db", empty).returncode == 0
    with TestClient(create_app(Settings(db=empty))) as client:
        published = client.get("/events/head").json()["hash"]
    assert published == "0" * 64

    done = run_cli("verify", "--db", empty, "--expect-head", published)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok: 0 events, chain intact"), done.stdout

    position, _ = head(demo_db)
    line = one_line_error(run_cli("verify", "--db", demo_db, "--expect-head", published),
                          "BROKEN", "empty archive", f"{position} events")
    assert line.count(published) == 1, line


# -- 3. token create on a database SQLite rolls back ---------------------------------------------

def test_token_create_reports_the_error_of_a_transaction_sqlite_undid(tmp_path: Path) -> None:
    db = str(tmp_path / "archive.db")
    assert run_cli("migrate", "--db", db).returncode == 0
    conn = sqlite3.connect(db)
    conn.execute("CREATE TRIGGER refuse BEFORE INSERT ON tokens BEGIN "
                 "SELECT RAISE(ROLLBACK, 'database or disk is full (simulated)'); END")
    conn.commit()
    conn.close()
    done = run_cli("token", "create", "--name", "Ada Reviewer", "--role", "reviewer", "--db", db)
    one_line_error(done, "database or disk is full (simulated)")
    assert "cannot rollback" not in done.stderr
    assert done.stdout == ""  # no token printed: none was stored
    assert tokens(db) == 0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_FSIZE and EFBIG as on Linux")
def test_token_create_on_a_disk_that_refuses_to_grow_the_file(tmp_path: Path) -> None:
    import subprocess

    from tests.conftest import ROOT, STAROSTA

    db = str(tmp_path / "archive.db")
    assert run_cli("migrate", "--db", db).returncode == 0
    assert not os.path.exists(db + "-wal")

    def cap() -> None:  # the -shm (32 KiB) may be made; the log of a 60 KB name may not
        resource.setrlimit(resource.RLIMIT_FSIZE, (40_000, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))

    done = subprocess.run([STAROSTA, "token", "create", "--name", "A" * 60_000, "--role", "admin",
                           "--db", db], capture_output=True, text=True, timeout=60, cwd=ROOT,
                          preexec_fn=cap)
    one_line_error(done, "no token created, nothing written", "disk I/O error")
    assert tokens(db) == 0
    assert run_cli("token", "create", "--name", "Ada", "--role", "admin", "--db", db).returncode == 0
    assert tokens(db) == 1


def tokens(db: str) -> int:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT count(*) FROM tokens").fetchone()[0]
    finally:
        conn.close()


# -- 4. the service's start-up build takes the rebuild lock --------------------------------------

@contextmanager
def held_elsewhere(db: str) -> Iterator[None]:
    """Hold the rebuild lock of `db` in another thread (as another rebuild would) meanwhile."""
    taken, release = threading.Event(), threading.Event()

    def hold() -> None:
        with rebuild_lock(db):
            taken.set()
            release.wait(60)

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    assert taken.wait(10)
    try:
        yield
    finally:
        release.set()
        holder.join(10)


def test_serve_and_the_app_refuse_to_build_read_models_while_another_rebuild_runs(
        tmp_path: Path) -> None:
    db = str(tmp_path / "fresh.db")
    assert run_cli("migrate", "--db", db).returncode == 0  # no read model built yet
    with held_elsewhere(db):
        done = run_cli("serve", "--db", db, "--port", str(free_port()), timeout=60)
        one_line_error(done, f"another rebuild of {db} is running (pid {os.getpid()})")
        with pytest.raises(BaseException) as refused:  # the lifespan's error, in a group
            with TestClient(create_app(Settings(db=db))):
                pass
        if isinstance(refused.value, BaseExceptionGroup):
            assert refused.group_contains(RebuildRunning, match=f"pid {os.getpid()}")
        else:
            assert isinstance(refused.value, RebuildRunning), refused.value
    # once the other rebuild is done, the service builds them and serves
    with TestClient(create_app(Settings(db=db))) as client:
        assert client.get("/health").status_code == 200
    assert not os.path.exists(db + LOCK_SUFFIX)
