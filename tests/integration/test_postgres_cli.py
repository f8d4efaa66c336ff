"""The store-level commands on PostgreSQL, through the real `starosta` CLI in subprocesses, on the
throwaway cluster of tests/postgres.py: migrate, import a log exported from a SQLite demo, verify
it against the SQLite head, export it back into a new SQLite file with the same head, back up
with pg_dump; rebuild, export documents, publish and manage tokens on PostgreSQL with the same
results as on SQLite; and every command fails in one line when the database cannot be reached.

Each test gets a database of its own, owned by `starosta_owner` (the owner's URL, given as
STAROSTA_OWNER_DB); `--db` is the service's login role `starosta_app`.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.postgres import APP, OWNER, SERVICE_ROLE, Cluster

STAROSTA = str(Path(sys.executable).with_name("starosta"))
HEAD = re.compile(r"head \d+ ([0-9a-f]{64})")


def starosta(*args: str, env: dict[str, str] | None = None,
             timeout: float = 300) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("STAROSTA_")}
    environment.update(env or {})
    return subprocess.run([STAROSTA, *args], capture_output=True, text=True, timeout=timeout,
                          env=environment, check=False)


def ok(*args: str, env: dict[str, str] | None = None) -> str:
    done = starosta(*args, env=env)
    assert done.returncode == 0, f"starosta {' '.join(args)}: {done.stdout}{done.stderr}"
    return done.stdout + done.stderr


class Database:
    """A fresh database of the cluster: the service's URL and the owner's."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.name = f"cli_{uuid.uuid4().hex[:12]}"
        cluster.execute(f"CREATE DATABASE {self.name} OWNER {OWNER}")
        self.url = cluster.url(APP, self.name)
        self.owner = cluster.url(OWNER, self.name)
        self.env = {"STAROSTA_OWNER_DB": self.owner}

    def migrate(self) -> str:
        out = ok("migrate", "--db", self.url, env=self.env)
        self.cluster.execute(f"GRANT {SERVICE_ROLE} TO {APP}")  # an operator's step, once
        return out


@pytest.fixture
def database(postgres_cluster: Cluster) -> Database:
    return Database(postgres_cluster)


@pytest.fixture(scope="module")
def demo_log(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str, int]]:
    """The demo archive in SQLite, exported: (the export file, its head hash, its count); the
    database is `demo.db` beside the file."""
    directory = tmp_path_factory.mktemp("demo")
    db, log = directory / "demo.db", directory / "demo.jsonl"
    ok("demo", "--db", str(db))
    head = HEAD.search(ok("verify", "--db", str(db)))
    assert head
    ok("export", "log", "--db", str(db), "--out", str(log))
    count = sum(1 for line in log.read_bytes().splitlines() if line.strip())
    yield log, head.group(1), count


def test_a_sqlite_log_moves_to_postgres_and_back_with_the_same_head(
        database: Database, demo_log: tuple[Path, str, int], tmp_path: Path) -> None:
    log, head, count = demo_log
    assert "applied: 0001_event_log" in database.migrate()
    assert "up to date" in ok("migrate", "--db", database.url, env=database.env)

    assert f"imported {count} events; head {head}" in ok(
        "import", str(log), "--db", database.url, "--expect-head", head, env=database.env)
    verified = ok("verify", "--db", database.url, "--expect-head", head)
    assert f"ok: {count} events, chain intact; head {count} {head}" in verified

    back = tmp_path / "back.jsonl"
    ok("export", "log", "--db", database.url, "--out", str(back))
    assert back.read_bytes() == log.read_bytes()  # the same rows, byte for byte
    returned = tmp_path / "returned.db"
    assert f"head {head}" in ok("import", str(back), "--db", str(returned))
    assert f"head {count} {head}" in ok("verify", "--db", str(returned), "--expect-head", head)


def test_import_refuses_a_log_that_holds_events_and_verify_a_foreign_head(
        database: Database, demo_log: tuple[Path, str, int]) -> None:
    log, _, count = demo_log
    database.migrate()
    ok("import", str(log), "--db", database.url, env=database.env)
    again = starosta("import", str(log), "--db", database.url, env=database.env)
    assert again.returncode != 0
    assert "import refused, nothing written" in again.stderr and "already holds events" in again.stderr
    assert "Traceback" not in again.stderr
    assert f"ok: {count} events" in ok("verify", "--db", database.url)

    foreign = starosta("verify", "--db", database.url, "--expect-head", "ab" * 32)
    assert foreign.returncode == 1 and "BROKEN" in foreign.stderr


def test_import_into_postgres_refuses_a_wrong_expected_head(
        database: Database, demo_log: tuple[Path, str, int]) -> None:
    log, _, _ = demo_log
    database.migrate()
    refused = starosta("import", str(log), "--db", database.url, "--expect-head", "cd" * 32,
                       env=database.env)
    assert refused.returncode != 0 and "not the expected" in refused.stderr
    assert "ok: 0 events" in ok("verify", "--db", database.url)  # nothing written


def test_backup_uses_pg_dump_or_is_refused_naming_what_to_install(
        database: Database, demo_log: tuple[Path, str, int], tmp_path: Path) -> None:
    log, _, _ = demo_log
    database.migrate()
    ok("import", str(log), "--db", database.url, env=database.env)
    target = tmp_path / "backup.dump"
    without = starosta("backup", str(target), "--db", database.url,
                       env={**database.env, "PATH": str(tmp_path / "empty")})
    assert without.returncode != 0 and not target.exists()
    assert "needs pg_dump on PATH" in without.stderr and "postgresql-client" in without.stderr
    assert "Traceback" not in without.stderr
    if not any(os.access(os.path.join(d, "pg_dump"), os.X_OK)
               for d in os.environ.get("PATH", "").split(os.pathsep)):
        pytest.skip("pg_dump is not on PATH")
    assert "backed up" in ok("backup", str(target), "--db", database.url, env=database.env)
    assert target.read_bytes()[:5] == b"PGDMP"  # pg_dump's custom format
    exists = starosta("backup", str(target), "--db", database.url, env=database.env)
    assert exists.returncode != 0 and "pass --force" in exists.stderr


def test_an_unreachable_database_is_one_line(postgres_cluster: Cluster) -> None:
    url = postgres_cluster.url(APP, "no_such_database")
    for args in (("verify",), ("migrate",), ("export", "log")):
        done = starosta(*args, "--db", url)
        assert done.returncode != 0, args
        assert "Traceback" not in done.stderr and "no_such_database" in done.stderr, done.stderr


@pytest.mark.parametrize("args", [
    ("serve", "--port", "1"),
    ("rebuild",),
    ("demo",),
    ("export", "biography", "P-4G7K2M9Q"),
    ("export", "population", "PL-4G7K2M9Q"),
    ("export", "ledger", "F-4G7K2M9Q"),
    ("publish", "OUT"),
    ("token", "list"),
    ("token", "create", "--name", "Ada", "--role", "reviewer"),
])
def test_every_command_on_an_unreachable_postgres_url_is_one_line(args: tuple[str, ...],
                                                                  tmp_path: Path) -> None:
    """No cluster: nothing listens on port 1."""
    args = tuple(str(tmp_path / "out.db") if a == "OUT" else a for a in args)
    for how in ("flag", "env"):
        url = "postgresql://starosta_app@127.0.0.1:1/starosta"
        done = (starosta(*args, "--db", url) if how == "flag"
                else starosta(*args, env={"STAROSTA_DB": url}))
        assert done.returncode != 0, (args, how)
        assert "Traceback" not in done.stderr, done.stderr
        assert "127.0.0.1" in done.stderr, (args, how, done.stderr)
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert not (tmp_path / "out.db").exists()


CONTENT = re.compile(r"^(\w+) content hash ([0-9a-f]{64})$", re.MULTILINE)


def test_read_models_documents_and_snapshot_are_the_same_on_both_backends(
        database: Database, demo_log: tuple[Path, str, int], tmp_path: Path) -> None:
    """The demo's log imported into PostgreSQL (read models built by the owner on import)
    gives the same documents, byte for byte, the same read-model content hashes (search
    aside: FTS5 against a tsvector index) and the same public snapshot as the SQLite archive
    it came from; tokens are created, listed and revoked there too."""
    log, head, _ = demo_log
    sqlite_db = str(log.with_name("demo.db"))
    database.migrate()
    ok("import", str(log), "--db", database.url, env=database.env)

    streams: dict[str, set[str]] = {}
    for line in log.read_text().splitlines():
        row = json.loads(line)
        streams.setdefault(row["type"], set()).add(row["stream_id"])
    ids, places, funds = (streams[f"{kind}.registered"] for kind in ("person", "place", "fund"))
    assert ids and places and funds
    for kind, chosen in (("biography", sorted(ids)[:3]), ("population", sorted(places)[:2]),
                         ("ledger", sorted(funds))):
        for entity in chosen:
            outputs = [starosta("export", kind, entity, "--db", db, env=env)
                       for db, env in ((sqlite_db, {}), (database.url, database.env))]
            assert all(o.returncode == 0 for o in outputs), outputs
            assert outputs[0].stdout == outputs[1].stdout and outputs[0].stdout, (kind, entity)

    hashes = []
    for db, env in ((sqlite_db, {}), (database.url, database.env)):
        hashes.append(dict(CONTENT.findall(ok("rebuild", "--db", db, env=env))))
    assert set(hashes[0]) == set(hashes[1]) and "biographies" in hashes[0]
    assert {k: v for k, v in hashes[0].items() if k != "search"} == \
        {k: v for k, v in hashes[1].items() if k != "search"}
    again = dict(CONTENT.findall(ok("rebuild", "--db", database.url, env=database.env)))
    assert again == hashes[1]  # a rebuild of one log prints the same hashes, search included

    published = []
    for n, (db, env) in enumerate(((sqlite_db, {}), (database.url, database.env))):
        out = tmp_path / f"public-{n}.db"
        done = ok("publish", str(out), "--db", db, env=env)
        published.append(re.search(r"content hash ([0-9a-f]{64})", done).group(1))
    assert published[0] == published[1]

    created = ok("token", "create", "--name", "Ada Reviewer", "--role", "reviewer",
                 "--db", database.url, env=database.env)
    token_id = re.search(r"token (T-[0-9a-f]{8})", created).group(1)
    assert token_id in ok("token", "list", "--db", database.url, env=database.env)
    assert f"revoked {token_id}" in ok("token", "revoke", token_id, "--db", database.url,
                                       env=database.env)


SEARCHES = [("persons", "monclus"), ("persons", "Monclús Guall"), ("persons", "mar"),
            ("persons", "Спиридонова"), ("persons", "martsinkevi"), ("persons", "a"),
            ("persons", "s k"), ("places", "kem"), ("places", "so"), ("places", "USSR"),
            ("organizations", "an"), ("funds", "relief"), ("persons", "zzzz")]


def test_search_answers_the_same_on_both_backends(
        database: Database, demo_log: tuple[Path, str, int],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """FTS5 on SQLite, a GIN tsvector index on PostgreSQL: the same entities in the same
    order (exact words, then prefixes, then by name, then id) for the demo's names."""
    from litestar.testing import TestClient

    from starosta.service.api.app import create_app
    from starosta.service.settings import Settings

    log, _, _ = demo_log
    database.migrate()
    ok("import", str(log), "--db", database.url, env=database.env)
    monkeypatch.setenv("STAROSTA_OWNER_DB", database.owner)
    answers = []
    for db in (str(log.with_name("demo.db")), database.url):
        with TestClient(create_app(Settings(db=db))) as client:
            answers.append([client.get(f"/{kind}", params={"q": q, "limit": 100}).json()
                            for kind, q in SEARCHES])
    assert answers[0] == answers[1]
    found = {q: [hit["label"] for hit in answer["items"]] for (_, q), answer in zip(SEARCHES, answers[0])}
    assert found["zzzz"] == [] and len(found["a"]) > 3
    assert found["Monclús Guall"][:2] == ["Joaquín Monclús Guallar", "Vicente Monclús Guallar"]
