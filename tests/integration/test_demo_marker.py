"""The demo's public tokens never reach a real archive (issue 18, finding 2; ../shared/API.md,
Resolutions 13-20, "The demo"), through the real `starosta` CLI in subprocesses, on SQLite and
on PostgreSQL (the throwaway cluster of tests/postgres.py):

- `demo` loads only into a new database (a new SQLite file, a PostgreSQL schema holding
  nothing) and marks it (`archive_meta` row `kind = demo`); `demo --if-empty`, as `make run`
  runs it, loads nothing into any other archive and says how to make a token;
- `serve` prints a banner over the demo and keeps it on loopback unless --allow-demo;
- only `migrate`, `demo`, `import` (and `synth --load`) create a database.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import click
import httpx
import pytest

from starosta.service.cli import _existing_db, main
from starosta.service.tools.demo.marker import is_loopback
from tests.conftest import ROOT, free_port, run_cli, start_server, stop, wait_until_up

pytestmark = pytest.mark.slow

DEMO_ADMIN = {"Authorization": "Bearer demo-admin-token"}
NOT_OURS = "192.0.2.1"  # TEST-NET-1 (RFC 5737): never an address of this machine, never bound


@dataclass
class Archive:
    """A database to try: `db` as --db, with `env` (the owner's URL on PostgreSQL)."""

    db: str
    env: dict[str, str] = field(default_factory=dict)
    backend: str = "sqlite"

    def cli(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        return run_cli(*args, "--db", self.db, timeout=timeout, **self.env)

    def marker(self) -> list[tuple[str, str]]:
        """The rows of archive_meta, read as the owner."""
        if self.backend == "sqlite":
            with sqlite3.connect(self.db) as conn:
                return conn.execute("SELECT kind, value FROM archive_meta").fetchall()
        import psycopg

        with psycopg.connect(self.env["STAROSTA_OWNER_DB"], autocommit=True) as conn:
            return conn.execute("SELECT kind, value FROM archive_meta").fetchall()

    def events(self) -> int:
        done = self.cli("verify")
        assert done.returncode == 0, done.stderr
        return int(done.stdout.split("ok: ", 1)[1].split(" events", 1)[0])


@pytest.fixture(params=["sqlite", "postgres"])
def new(request: pytest.FixtureRequest, tmp_path: Path) -> Archive:
    """A new database: a SQLite path not yet created, or a PostgreSQL schema holding nothing."""
    if request.param == "sqlite":
        return Archive(str(tmp_path / "archive.db"))
    from tests.postgres import empty_schema

    service, owner = empty_schema(request.getfixturevalue("postgres_cluster"))
    return Archive(service, {"STAROSTA_OWNER_DB": owner}, "postgres")


def one_line_error(done: subprocess.CompletedProcess, *words: str) -> None:
    assert done.returncode != 0, done.stdout
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    for word in words:
        assert word in done.stderr, done.stderr


@pytest.fixture
def served() -> Iterator[list[subprocess.Popen]]:
    """Servers started by a test, stopped after it."""
    procs: list[subprocess.Popen] = []
    yield procs
    for proc in procs:
        stop(proc)


# -- demo --if-empty on a real archive ----------------------------------------------------------

def test_a_real_archive_never_gets_the_demo_and_its_admin_token_is_refused(
        new: Archive, served: list[subprocess.Popen]) -> None:
    """The README's production path (migrate, token create), then what `make run` runs:
    nothing is loaded, the output says how to make a token, and demo-admin-token is a 401."""
    assert new.cli("migrate").returncode == 0
    made = new.cli("token", "create", "--name", "Real Admin", "--role", "admin")
    assert made.returncode == 0, made.stderr
    real = {"Authorization": f"Bearer {made.stdout.strip()}"}

    quiet = new.cli("demo", "--if-empty")
    assert quiet.returncode == 0, quiet.stderr
    assert "loading nothing" in quiet.stdout and "1 token" in quiet.stdout
    assert "token create --name" in quiet.stdout and "--role admin" in quiet.stdout
    assert "demo-admin-token" not in quiet.stdout
    one_line_error(new.cli("demo"), "is not a new database", "1 token")
    assert new.events() == 0 and new.marker() == []

    proc, base = start_server(new.db, env=new.env)
    served.append(proc)
    with httpx.Client(base_url=base, timeout=30) as http:
        assert http.get("/claims", params={"status": "pending"}, headers=DEMO_ADMIN).status_code == 401
        assert http.get("/claims", params={"status": "pending"}, headers=real).status_code == 200
    stop(proc)
    assert "DEMO" not in proc.stdout.read()


def test_a_migrated_archive_without_tokens_is_not_new_either(new: Archive) -> None:
    """"No migrations of another run": a schema `starosta migrate` made, empty as it is,
    is an archive someone set up, not the demo's."""
    assert new.cli("migrate").returncode == 0
    one_line_error(new.cli("demo"), "is not a new database", "of an earlier run")
    quiet = new.cli("demo", "--if-empty")
    assert quiet.returncode == 0 and "loading nothing" in quiet.stdout, quiet.stderr
    assert new.marker() == [] and new.events() == 0


# -- the demo: marked, refused twice, served with a banner on loopback only ---------------------

def test_the_demo_is_marked_and_served_with_a_banner_on_loopback_only(
        new: Archive, served: list[subprocess.Popen]) -> None:
    loaded = new.cli("demo")
    assert loaded.returncode == 0, loaded.stderr
    assert "demo-admin-token" in loaded.stdout
    assert new.marker() == [("demo", "loaded")]
    if new.backend == "postgres":
        return  # served on PostgreSQL by tests/integration/test_postgres_servers.py (make run)

    one_line_error(new.cli("demo"), "is the demo archive already")
    again = new.cli("demo", "--if-empty")
    assert again.returncode == 0 and "not loading it again" in again.stdout
    assert "demo-admin-token" in again.stdout  # `make run` on the demo shows its tokens again

    refused = new.cli("serve", "--host", NOT_OURS, "--port", str(free_port()))
    one_line_error(refused, "is the demo archive", "loopback only", NOT_OURS, "--allow-demo")
    # --allow-demo passes the demo's check and gets as far as binding, which fails: the
    # address is not this machine's (nothing is ever bound to a public address here)
    allowed = new.cli("serve", "--host", NOT_OURS, "--port", str(free_port()), "--allow-demo")
    one_line_error(allowed, f"cannot serve on {NOT_OURS}")

    proc, base = start_server(new.db)
    served.append(proc)
    with httpx.Client(base_url=base, timeout=30) as http:
        assert http.get("/claims", params={"status": "pending"}, headers=DEMO_ADMIN).status_code == 200
    stop(proc)
    assert "DEMO ARCHIVE" in proc.stdout.read()


def test_a_demo_loaded_before_the_marker_is_kept_on_loopback(tmp_path: Path) -> None:
    """An archive where the demo's public tokens work is a demo, marker or not (one that an
    older `make run` filled): `serve` keeps it on loopback too."""
    from starosta.service.domain.access import create_tokens

    db = str(tmp_path / "old.db")
    assert run_cli("migrate", "--db", db).returncode == 0
    create_tokens(db, [("Demo Admin", "admin", "demo-admin-token")])
    refused = run_cli("serve", "--db", db, "--host", NOT_OURS, "--port", str(free_port()))
    one_line_error(refused, "is the demo archive", "--allow-demo")


@pytest.mark.parametrize("host, loopback", [
    ("127.0.0.1", True), ("127.8.9.10", True), ("::1", True), ("[::1]", True),
    ("localhost", True), ("LOCALHOST", True),
    ("0.0.0.0", False), ("::", False), (NOT_OURS, False), ("10.0.0.1", False),
    ("records.example.org", False), ("localhost.example.org", False), ("", False),
])
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


# -- only migrate, demo, import and synth --load create a database -----------------------------

CREATORS = {"migrate", "demo", "import"}


def commands_with_db() -> dict[str, click.Command]:
    found = {}
    for name, command in main.commands.items():
        subs = command.commands.items() if isinstance(command, click.Group) else [("", command)]
        for sub, leaf in subs:
            if any(p.name == "db" for p in leaf.params):
                found[f"{name} {sub}".strip()] = leaf
    return found


def test_every_command_but_the_creators_requires_an_existing_database() -> None:
    """By construction: --db of every command is `_db_option`'s (which refuses a missing SQLite
    path before the command runs) but for the commands that create one."""
    found = commands_with_db()
    assert CREATORS < set(found) and {"serve", "token create", "verify"} < set(found)
    for name, command in found.items():
        (db,) = [p for p in command.params if p.name == "db"]
        assert (db.callback is _existing_db) is (name not in CREATORS), name


@pytest.mark.parametrize("args", [
    ("serve", "--port", "0"), ("verify",), ("rebuild",), ("export", "log"),
    ("export", "biography", "P-4G7K2M9Q"), ("export", "population", "PL-4G7K2M9Q"),
    ("export", "ledger", "F-4G7K2M9Q"), ("backup", "OUT"), ("publish", "OUT"),
    ("token", "list"), ("token", "create", "--name", "Ada", "--role", "admin"),
    ("token", "revoke", "T-00000000"),
])
def test_a_missing_database_is_one_line_and_stays_missing(args: tuple[str, ...],
                                                          tmp_path: Path) -> None:
    db = tmp_path / "var" / "nothing.db"
    args = tuple(str(tmp_path / "out.db") if a == "OUT" else a for a in args)
    for done in (run_cli(*args, "--db", str(db)), run_cli(*args, STAROSTA_DB=str(db))):
        one_line_error(done, f"no database at {db}", "migrate --db")
    assert not db.exists() and not db.parent.exists() and not (tmp_path / "out.db").exists()


# -- `make run` on an existing archive ---------------------------------------------------------

def test_make_run_on_an_existing_archive_serves_it_and_says_how_to_get_a_token(
        tmp_path: Path) -> None:
    db = str(tmp_path / "real.db")
    assert run_cli("migrate", "--db", db).returncode == 0
    made = run_cli("token", "create", "--name", "Real Reviewer", "--role", "reviewer", "--db", db)
    assert made.returncode == 0, made.stderr
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("STAROSTA_")}
    proc = subprocess.Popen(["make", "-s", "run", f"DB={db}"], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True, env={**env, "STAROSTA_PORT": str(port)})
    try:
        _, base = wait_until_up(proc, f"http://127.0.0.1:{port}", wait=120)
        with httpx.Client(base_url=base, timeout=30) as http:
            assert http.get("/events/head").json()["position"] == 0  # no demo in it
            assert http.get("/claims", headers=DEMO_ADMIN).status_code == 401
    finally:
        stop(proc)
    said = proc.stdout.read()
    assert f"{db} is an archive (it holds 1 token), not the demo: loading nothing" in said
    assert f"token create --name \"YOUR NAME\" --role admin --db {db}" in said
    assert "DEMO ARCHIVE" not in said


# -- the README's operations section, run ------------------------------------------------------

def test_the_readmes_operations_make_a_real_archive_without_the_demo(
        tmp_path: Path, served: list[subprocess.Popen]) -> None:
    """The three commands of the README's Operations section, run as written (the database's
    path and the port aside): a migrated archive with the admin's token, served, no demo."""
    import re
    import shlex

    from tests.conftest import STAROSTA

    readme = (ROOT / "README.md").read_text("utf-8")
    operations = readme.split("\n## Operations\n", 1)[1].split("\n## ", 1)[0]
    block = re.findall(r"```sh\n(.*?)```", operations, re.S)[0]
    db, port = str(tmp_path / "archive.db"), free_port()
    commands = [shlex.split(line.split(" #", 1)[0].replace("var/archive.db", db))
                for line in block.splitlines() if line.strip()]
    assert [c[:2] for c in commands] == [["starosta", "migrate"], ["starosta", "token"],
                                         ["starosta", "serve"]]
    env = {k: v for k, v in os.environ.items() if not k.startswith("STAROSTA_")}
    outputs = []
    for command in commands[:2]:
        done = subprocess.run([STAROSTA, *command[1:]], capture_output=True, text=True,
                              timeout=60, env=env, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout)
    admin = {"Authorization": f"Bearer {outputs[1].strip()}"}
    proc = subprocess.Popen([STAROSTA, *commands[2][1:], "--port", str(port)], text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True, env=env, cwd=tmp_path)
    served.append(proc)
    _, base = wait_until_up(proc, f"http://127.0.0.1:{port}")
    with httpx.Client(base_url=base, timeout=30) as http:
        assert http.get("/events/head").json()["position"] == 0
        assert http.get("/claims", params={"status": "pending"}, headers=admin).status_code == 200
        assert http.get("/claims", headers=DEMO_ADMIN).status_code == 401
    stop(proc)
    assert "DEMO" not in proc.stdout.read()
