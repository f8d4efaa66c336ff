"""The stored-row sample (tests/samples/log_rows.jsonl, never edited): rows written before
nonces and accounts (names, no nonce) and rows written since (account ids, nonces) keep
verifying, through the real `starosta import` and `starosta verify`, on SQLite and on
PostgreSQL; the accounts of the old rows' names are made by the import."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import msgspec
from starosta.events.store import StoredRow
from starosta.service.tools.transfer import verify_lines

from tests.conftest import run_cli

SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "log_rows.jsonl"
HEAD = "eeced66324c9aa5dd81f06d30e10710597b4d5da4b02404499806abf51727b27"


def test_the_sample_holds_old_and_new_rows_and_its_chain_holds() -> None:
    lines = SAMPLE.read_bytes().splitlines()
    rows = [msgspec.json.decode(line, type=StoredRow) for line in lines]
    assert [r.nonce is None for r in rows] == [True] * 4 + [False] * 2
    assert all(b'"nonce"' not in line for line in lines[:4])  # the export format of that time
    assert verify_lines(iter(lines)) == (6, HEAD)


def test_the_sample_imports_and_verifies(tmp_path: Path) -> None:
    db = str(tmp_path / "archive.db")
    done = run_cli("import", "--db", db, "--expect-head", HEAD, str(SAMPLE))
    assert done.returncode == 0, done.stderr
    verified = run_cli("verify", "--db", db, "--expect-head", HEAD)
    assert verified.returncode == 0, verified.stderr
    conn = sqlite3.connect(db)
    names = {r[0] for r in conn.execute("SELECT name FROM accounts")}
    conn.close()
    assert names == {"Olga Archivist", "Pavel Reviewer"}


def test_the_sample_imports_and_verifies_on_postgres(postgres_cluster) -> None:
    from tests.postgres import new_archive

    _, owner = new_archive(postgres_cluster)
    done = run_cli("import", "--db", owner, "--expect-head", HEAD, str(SAMPLE))
    assert done.returncode == 0, done.stderr
    verified = run_cli("verify", "--db", owner, "--expect-head", HEAD)
    assert verified.returncode == 0, verified.stderr
