"""`starosta token create|list|revoke`, the real command in a subprocess, against a real file;
the tokens it makes are then used (and refused once revoked) over HTTP."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest
from litestar.testing import TestClient

from starosta.service.api.app import create_app
from starosta.service.settings import Settings
from tests.conftest import run_cli

pytestmark = pytest.mark.slow

PROBLEM = "application/problem+json"


def new_archive(path: Path) -> str:
    """A new archive made as the README's production path makes one: `starosta migrate`
    (`token` commands never create a database)."""
    db = str(path / "archive.db")
    done = run_cli("migrate", "--db", db)
    assert done.returncode == 0, done.stderr
    return db


def create(db: str, name: str, role: str) -> tuple[str, str]:
    """Run `token create`; return (the token printed on stdout, stderr)."""
    done = run_cli("token", "create", "--name", name, "--role", role, "--db", db)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 1, done.stdout  # the token and nothing else: scripts can capture it
    return lines[0].strip(), done.stderr


def rows(db: str) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT * FROM tokens").fetchall()
    finally:
        conn.close()


def columns(db: str) -> list[str]:
    conn = sqlite3.connect(db)
    try:
        return [r[1] for r in conn.execute("PRAGMA table_info(tokens)")]
    finally:
        conn.close()


@pytest.fixture(scope="module")
def minted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Three tokens made by the CLI in one fresh, migrated database."""
    db = new_archive(tmp_path_factory.mktemp("tokens"))
    made = {}
    for name, role in (("Ada Contributor", "contributor"), ("Bea Reviewer", "reviewer"),
                       ("Cy Admin", "admin")):
        made[role] = create(db, name, role)
    return {"db": db, "tokens": {role: token for role, (token, _) in made.items()},
            "stderr": {role: err for role, (_, err) in made.items()}}


def test_create_prints_the_token_once_and_stores_only_its_sha256(minted) -> None:
    db, tokens = minted["db"], minted["tokens"]
    assert len(set(tokens.values())) == 3
    for role, token in tokens.items():
        assert len(token) >= 32 and " " not in token
        assert token not in minted["stderr"][role]  # shown once: on stdout only
        assert role in minted["stderr"][role]
    stored = rows(db)
    assert len(stored) == 3
    cols = columns(db)
    assert "token_hash" in cols
    hashes = {r[cols.index("token_hash")] for r in stored}
    assert hashes == {hashlib.sha256(t.encode()).hexdigest() for t in tokens.values()}
    for row in stored:  # the token itself is nowhere in the table
        for value in row:
            for token in tokens.values():
                assert token not in str(value)
    roles = {r[cols.index("name")]: r[cols.index("role")] for r in stored}
    assert roles == {"Ada Contributor": "contributor", "Bea Reviewer": "reviewer", "Cy Admin": "admin"}
    raw = Path(db).read_bytes() + (Path(db + "-wal").read_bytes() if Path(db + "-wal").exists() else b"")
    for token in tokens.values():
        assert token.encode() not in raw


def test_list_shows_id_name_role_and_never_the_token(minted) -> None:
    db, tokens = minted["db"], minted["tokens"]
    done = run_cli("token", "list", "--db", db)
    assert done.returncode == 0, done.stderr
    cols = columns(db)
    for row in rows(db):
        line = next(l for l in done.stdout.splitlines() if row[cols.index("id")] in l)
        assert row[cols.index("name")] in line and row[cols.index("role")] in line
    for token in tokens.values():
        assert token not in done.stdout and token not in done.stderr
        assert hashlib.sha256(token.encode()).hexdigest() not in done.stdout


def test_cli_tokens_work_over_http_and_a_revoked_one_answers_401(tmp_path: Path) -> None:
    db = new_archive(tmp_path)
    contributor, _ = create(db, "Ada Contributor", "contributor")
    reviewer, _ = create(db, "Bea Reviewer", "reviewer")
    cols = columns(db)
    ids = {r[cols.index("name")]: r[cols.index("id")] for r in rows(db)}
    with TestClient(create_app(Settings(db=db))) as client:
        ada = {"Authorization": f"Bearer {contributor}"}
        r = client.post("/sources", json={"csl": {"type": "book", "title": "10 Años en la URSS"}}, headers=ada)
        assert r.status_code == 201, r.text
        source = r.json()["id"]
        assert client.get(f"/sources/{source}", headers=ada).status_code == 200
        r = client.post("/persons/P-1/merge", json={"into": "P-2", "reason": "x"}, headers=ada)
        assert r.status_code == 403  # the role the CLI gave is the role the service enforces

        done = run_cli("token", "revoke", ids["Ada Contributor"], "--db", db)
        assert done.returncode == 0, done.stderr
        assert ids["Ada Contributor"] in done.stdout

        head = client.get("/events/head").json()["position"]
        r = client.post("/sources", json={"csl": {"type": "book", "title": "again"}}, headers=ada)
        assert r.status_code == 401 and r.headers["content-type"].startswith(PROBLEM)
        r = client.get(f"/sources/{source}", headers=ada)  # also on a public read
        assert r.status_code == 401 and r.headers["content-type"].startswith(PROBLEM)
        assert client.get(f"/sources/{source}").status_code == 200  # anonymous is fine
        assert client.get("/events/head").json()["position"] == head
        # Other tokens are untouched.
        r = client.get("/claims", params={"status": "pending"}, headers={"Authorization": f"Bearer {reviewer}"})
        assert r.status_code == 200, r.text

    listing = run_cli("token", "list", "--db", db).stdout
    ada_line = next(l for l in listing.splitlines() if ids["Ada Contributor"] in l)
    bea_line = next(l for l in listing.splitlines() if ids["Bea Reviewer"] in l)
    assert "revoked" in ada_line and "revoked" not in bea_line
    revoked_at = {r[cols.index("id")]: r[cols.index("revoked_at")] for r in rows(db)}
    assert revoked_at[ids["Ada Contributor"]] is not None and revoked_at[ids["Bea Reviewer"]] is None


def test_an_unknown_role_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    db = new_archive(tmp_path)
    done = run_cli("token", "create", "--name", "Eve", "--role", "superuser", "--db", db)
    assert done.returncode != 0
    assert done.stdout.strip() == ""  # no token printed
    message = done.stderr
    assert "superuser" in message and "role" in message
    for role in ("contributor", "reviewer", "admin"):
        assert role in message
    assert rows(db) == []


def test_an_empty_name_is_refused(tmp_path: Path) -> None:
    db = new_archive(tmp_path)
    done = run_cli("token", "create", "--name", "  ", "--role", "admin", "--db", db)
    assert done.returncode != 0 and done.stdout.strip() == ""
    assert "name" in done.stderr


def test_revoking_an_unknown_id_fails_naming_it(tmp_path: Path) -> None:
    db = new_archive(tmp_path)
    create(db, "Ada Contributor", "contributor")
    done = run_cli("token", "revoke", "T-00000000", "--db", db)
    assert done.returncode != 0
    assert "T-00000000" in done.stderr
    # Revoking twice: the second time there is no live token with that id.
    cols = columns(db)
    token_id = rows(db)[0][cols.index("id")]
    assert run_cli("token", "revoke", token_id, "--db", db).returncode == 0
    again = run_cli("token", "revoke", token_id, "--db", db)
    assert again.returncode != 0 and token_id in again.stderr
