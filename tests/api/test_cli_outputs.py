"""Files the CLI writes are never the database it reads, nothing is overwritten without
--force, and missing directories are created (issue 9, items 8 and 11), through the real
`starosta` command in a subprocess."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.conftest import ROOT, STAROSTA


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([STAROSTA, *args], capture_output=True, text=True, timeout=120, cwd=ROOT)


def _archive(tmp_path: Path) -> str:
    db = str(tmp_path / "v2.db")
    assert run("demo", "--db", db).returncode == 0
    return db


def test_export_refuses_to_write_over_the_database_it_reads(tmp_path: Path) -> None:
    db = _archive(tmp_path)
    size = Path(db).stat().st_size
    for out in (db, db + "-wal"):
        r = run("export", "log", "--db", db, "--out", out, "--force")
        assert r.returncode != 0 and "Traceback" not in r.stderr
        assert "it is the database" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert Path(db).stat().st_size == size
    assert run("verify", "--db", db).returncode == 0


def test_nothing_is_overwritten_without_force(tmp_path: Path) -> None:
    db = _archive(tmp_path)
    out = tmp_path / "log.jsonl"
    out.write_text("keep me\n")
    r = run("export", "log", "--db", db, "--out", str(out))
    assert r.returncode != 0 and "--force" in r.stderr and out.read_text() == "keep me\n"
    assert run("export", "log", "--db", db, "--out", str(out), "--force").returncode == 0
    assert out.read_text() != "keep me\n"
    r = run("synth", "--persons", "2", "--out", str(out))
    assert r.returncode != 0 and "--force" in r.stderr


def test_backup_creates_its_directory_and_never_replaces_a_file(tmp_path: Path) -> None:
    db = _archive(tmp_path)
    target = tmp_path / "backups" / "2026-11-24.db"
    r = run("backup", str(target), "--db", db)
    assert r.returncode == 0, r.stderr
    assert run("verify", "--db", str(target)).returncode == 0
    again = run("backup", str(target), "--db", db)
    assert again.returncode != 0 and "Traceback" not in again.stderr
