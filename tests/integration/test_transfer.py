"""Export, import and backup through the real CLI: byte-exact logs, all-or-nothing imports,
online backups that verify."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from starosta.events.registry import PersonRegistered
from starosta.service.db import open_archive
from tests.conftest import ROOT, run_cli


def filled(db: str, n: int = 60) -> None:
    archive = open_archive(db)
    for i in range(n):
        archive.store.append(f"P-{i}", [PersonRegistered(person_id=f"P-{i}", label=f"Person {i}")], 0)
    archive.store.close()


def test_export_then_import_restores_the_same_chain(tmp_path: Path) -> None:
    db, log, restored = str(tmp_path / "a.db"), str(tmp_path / "log.jsonl"), str(tmp_path / "b.db")
    filled(db)
    assert run_cli("export", "log", "--db", db, "--out", log).returncode == 0
    done = run_cli("import", log, "--db", restored)
    assert done.returncode == 0, done.stderr
    original, copy = run_cli("verify", "--db", db), run_cli("verify", "--db", restored)
    assert copy.returncode == 0 and original.stdout == copy.stdout  # same count and head hash
    conn = sqlite3.connect(restored)
    triggers = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    assert triggers == {"events_no_update", "events_no_delete", "events_no_replace"}
    assert conn.execute("SELECT count(*) FROM persons").fetchone()[0] == 60  # projections built
    assert run_cli("export", "log", "--db", restored).stdout == Path(log).read_text()


def test_a_bad_line_refuses_the_whole_import(tmp_path: Path) -> None:
    db, log = str(tmp_path / "a.db"), tmp_path / "log.jsonl"
    filled(db)
    lines = run_cli("export", "log", "--db", db).stdout.splitlines()
    for name, broken in (("changed", lines[:30] + [lines[30].replace("Person 30", "Person 31")] + lines[31:]),
                         ("missing", lines[:30] + lines[31:]),
                         ("garbage", lines[:30] + ["{not json"] + lines[31:])):
        log.write_text("\n".join(broken) + "\n")
        target = tmp_path / f"{name}.db"
        refused = run_cli("import", str(log), "--db", str(target))
        assert refused.returncode == 1 and "nothing written" in refused.stderr
        assert "line 31" in refused.stderr, refused.stderr
        assert not target.exists() and not Path(f"{target}.importing").exists()


def test_import_refuses_a_database_that_holds_events(tmp_path: Path) -> None:
    db, log = str(tmp_path / "a.db"), str(tmp_path / "log.jsonl")
    filled(db, 5)
    run_cli("export", "log", "--db", db, "--out", log)
    refused = run_cli("import", log, "--db", db)
    assert refused.returncode == 1 and "already holds events" in refused.stderr
    assert "ok: 5 events" in run_cli("verify", "--db", db).stdout


def test_backup_while_a_writer_appends_verifies(tmp_path: Path) -> None:
    db, copy = str(tmp_path / "a.db"), str(tmp_path / "backup.db")
    filled(db, 10)
    archive = open_archive(db)
    stop = threading.Event()

    def write() -> None:
        i = 100
        while not stop.is_set() and i < 5000:
            archive.store.append(f"P-{i}", [PersonRegistered(person_id=f"P-{i}", label="x")], 0)
            i += 1

    writer = threading.Thread(target=write)
    writer.start()
    try:
        done = run_cli("backup", copy, "--db", db)
    finally:
        stop.set()
        writer.join(timeout=30)
        archive.store.close()
    assert done.returncode == 0, done.stderr
    assert run_cli("verify", "--db", copy).returncode == 0
    assert run_cli("backup", copy, "--db", db).returncode == 1  # never overwrites


def test_import_refuses_any_file_that_is_not_empty(tmp_path: Path) -> None:
    """A migrated database holds tokens; another program's file holds its data: an import
    never replaces either (issue 9, item 9)."""
    db, log, target = str(tmp_path / "a.db"), str(tmp_path / "log.jsonl"), str(tmp_path / "b.db")
    filled(db, 5)
    run_cli("export", "log", "--db", db, "--out", log)
    open_archive(target).close()  # migrated, projections built, no events
    size = Path(target).stat().st_size
    refused = run_cli("import", log, "--db", target)
    assert refused.returncode == 1 and "not empty" in refused.stderr
    assert Path(target).stat().st_size == size
    other = tmp_path / "notes.txt"
    other.write_text("another program's data\n")
    refused = run_cli("import", log, "--db", str(other))
    assert refused.returncode == 1 and other.read_text() == "another program's data\n"
    fresh = str(tmp_path / "c.db")
    assert run_cli("import", log, "--db", fresh).returncode == 0
    assert run_cli("verify", "--db", fresh).stdout == run_cli("verify", "--db", db).stdout


def test_import_bounds_lines_names_bad_ones_and_checks_the_head(tmp_path: Path) -> None:
    db, log = str(tmp_path / "a.db"), tmp_path / "log.jsonl"
    filled(db, 3)
    run_cli("export", "log", "--db", db, "--out", str(log))
    head = run_cli("verify", "--db", db).stdout.split()[-1]
    long = tmp_path / "zeros.jsonl"
    long.write_bytes(b"\0" * (9 * 1024 * 1024))  # what /dev/zero gives: no newline, ever
    for bad, words in ((long, "longer than"), ):
        r = run_cli("import", str(bad), "--db", str(tmp_path / "x.db"))
        assert r.returncode == 1 and words in r.stderr and "Traceback" not in r.stderr
    broken = tmp_path / "broken.jsonl"
    lines = log.read_bytes().splitlines(keepends=True)
    broken.write_bytes(lines[0] + b'{"position": 2, "data": "\xc3\x28"}\n')
    r = run_cli("import", str(broken), "--db", str(tmp_path / "y.db"))
    assert r.returncode == 1 and "line 2" in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    wrong = run_cli("import", str(log), "--db", str(tmp_path / "z.db"), "--expect-head", "ab" * 32)
    assert wrong.returncode == 1 and head in wrong.stderr and not (tmp_path / "z.db").exists()
    right = run_cli("import", str(log), "--db", str(tmp_path / "z.db"), "--expect-head", head)
    assert right.returncode == 0, right.stderr


def test_transfer_speaks_no_sql() -> None:
    """Export, import and backup go through the store and its file operations only."""
    source = (ROOT / "service" / "tools" / "transfer.py").read_text()
    assert "import sqlite3" not in source
    for word in ("SELECT ", "INSERT ", "DROP ", "PRAGMA ", "execute("):
        assert word not in source, word
