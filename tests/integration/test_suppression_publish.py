"""Take-downs outside the HTTP API (issue 18, finding 5): `starosta publish` (the real CLI, in a
subprocess) leaves suppressed content out of the snapshot, `starosta verify` still passes on the
log that keeps it, and every read model rebuilt from that log equals the live one."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from litestar.testing import TestClient
from starosta.projections.runner import content_hash
from starosta.service.api.app import create_app
from starosta.service.db import open_archive
from starosta.service.settings import Settings

from tests.api.conftest import Api, make_tokens
from tests.conftest import run_cli

SECRET = "Zarnitsyn-the-informer"  # the words taken down: no seed text holds them


def snapshot_text(path: Path) -> str:
    """Every value of every table of a published snapshot, as one string."""
    conn = sqlite3.connect(path)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return "\n".join(repr(row) for t in tables for row in conn.execute(f'SELECT * FROM "{t}"'))
    finally:
        conn.close()


def publish(db: str, out: Path) -> str:
    done = run_cli("publish", str(out), "--db", db, "--force", timeout=120)
    assert done.returncode == 0, done.stderr
    return snapshot_text(out)


def test_publish_verify_and_rebuild_with_take_downs(tmp_path: Path) -> None:
    db = str(tmp_path / "archive.db")
    tokens = make_tokens(db)
    with TestClient(create_app(Settings(db=db))) as client:
        api = Api(client, tokens)
        source = api.source("The camp register")
        place = api.place("Butyrka", source)
        person = api.person("Olga Taratuta", source)
        r = api.post("/persons", {"name": SECRET, "citation": {"source": source}})
        other, name_claim = r.json()["id"], r.json()["name_claim"]
        stay = api.claim({"kind": "custody", "person": person, "place": place, "custody": "prison",
                          "start": "1940", "end": "1941", "said": SECRET,
                          "citation": {"source": source, "quote": SECRET}})
        for claim in (stay, name_claim):
            assert api.post(f"/claims/{claim}/approve", None, "bob").status_code == 200
        assert SECRET in publish(db, tmp_path / "before.db")  # published while not taken down

        for path in (f"/claims/{stay}", f"/persons/{other}"):
            r = api.post(f"{path}/suppress", {"reason": "a take-down"}, "root")
            assert r.status_code == 200, r.text
        text = publish(db, tmp_path / "after.db")
        assert SECRET not in text
        snapshot = sqlite3.connect(tmp_path / "after.db")
        try:
            assert snapshot.execute("SELECT label FROM persons WHERE id = ?", (other,)).fetchone() == (
                "[suppressed]",)
            assert snapshot.execute("SELECT 1 FROM claims WHERE id = ?", (stay,)).fetchone() is None
            assert snapshot.execute("SELECT count(*) FROM custody_episodes").fetchone() == (0,)
        finally:
            snapshot.close()

    verified = run_cli("verify", "--db", db, timeout=60)  # the log keeps the content, unchanged
    assert verified.returncode == 0, verified.stderr + verified.stdout

    archive = open_archive(db)
    try:
        for projection in archive.runner.projections:
            live = content_hash(archive.store.reader(), list(projection.ddl))
            assert archive.runner.rebuild(archive.store, projection.name) == live, projection.name
    finally:
        archive.store.close()

    with TestClient(create_app(Settings(db=db))) as client:  # after the rebuilds: still taken down
        api = Api(client, tokens)
        assert SECRET not in api.get(f"/claims/{stay}").text
        assert SECRET not in api.get(f"/persons/{other}").text
        assert api.post(f"/claims/{stay}/unsuppress", {"reason": "withdrawn"}, "root").status_code == 200
    assert SECRET in publish(db, tmp_path / "again.db")
