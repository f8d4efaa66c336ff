"""The CLI refuses what it must, in one line, never hanging, never creating or replacing what is
not its own (the real `starosta` in a subprocess):

- another application's non-empty SQLite database is never adopted (`migrate`, `serve`,
  `demo`), and the refusal names what it found;
- a file is written only to a regular file or a new path: never a device, a FIFO or a
  directory (`backup`, `export log`, `publish`, with or without --force);
- a path that holds no archive (nothing, a FIFO, a directory, a device, an empty, truncated or
  foreign file) is refused by every command that reads one, creating nothing.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
from pathlib import Path

import pytest

from tests.conftest import free_port, run_cli

pytestmark = pytest.mark.slow


def refused(done: subprocess.CompletedProcess, *needles: str) -> str:
    """Assert one line of error, no traceback, a non-zero exit; return the line."""
    output = (done.stdout + done.stderr).strip()
    assert done.returncode != 0, output
    assert "Traceback" not in output, output
    assert len(output.splitlines()) == 1, output
    for needle in needles:
        assert needle in output, (needle, output)
    return output


@pytest.fixture()
def archive(tmp_path: Path) -> str:
    db = str(tmp_path / "archive.db")
    assert run_cli("migrate", "--db", db).returncode == 0
    return db


@pytest.fixture()
def paths(tmp_path: Path, archive: str) -> dict[str, str]:
    """What a --db may wrongly name: a FIFO, a directory, devices, an empty file, a file cut
    short after its header, another application's database, a file of another format."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    (tmp_path / "dir").mkdir()
    (tmp_path / "empty.db").write_bytes(b"")
    data = Path(archive).read_bytes()
    (tmp_path / "truncated.db").write_bytes(data[:len(data) // 3])
    (tmp_path / "header.db").write_bytes(data[:10])
    (tmp_path / "text.db").write_text("not a database\n")
    other = sqlite3.connect(tmp_path / "other.db")
    other.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
    other.commit()
    other.close()
    return {"fifo": str(fifo), "dir": str(tmp_path / "dir"), "null": "/dev/null",
            "zero": "/dev/zero", "empty": str(tmp_path / "empty.db"),
            "truncated": str(tmp_path / "truncated.db"), "header": str(tmp_path / "header.db"),
            "text": str(tmp_path / "text.db"), "other": str(tmp_path / "other.db")}


def _snapshot(tmp_path: Path) -> set[str]:
    """The paths under `tmp_path`, but SQLite's -wal and -shm (a read-only reader of a file in
    WAL mode makes them beside it, as it does for a sound archive)."""
    return {str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")
            if not p.name.endswith(("-wal", "-shm"))}


# -- another application's database ------------------------------------------------------------

def test_another_applications_database_is_never_adopted(paths: dict[str, str]) -> None:
    other = paths["other"]
    before = Path(other).read_bytes()
    refused(run_cli("migrate", "--db", other, timeout=30), "not a starosta archive", "users")
    refused(run_cli("serve", "--db", other, "--port", str(free_port()), timeout=30),
            "not a starosta archive", "users")
    refused(run_cli("demo", "--db", other, timeout=60), "another application", "users")
    refused(run_cli("token", "create", "--name", "A", "--role", "admin", "--db", other, timeout=30),
            "not a starosta archive", "users")
    assert Path(other).read_bytes() == before  # not a table added
    tables = sqlite3.connect(other).execute("SELECT name FROM sqlite_master").fetchall()
    assert tables == [("users",)]


# -- what is not an archive ------------------------------------------------------------------

READERS = [
    ("verify",),
    ("rebuild",),
    ("token", "list"),
    ("token", "create", "--name", "A", "--role", "admin"),
    ("identity", "conflicts"),
    ("export", "log"),
    ("export", "ledger", "F-1"),
    ("backup", "NEW"),
    ("publish", "NEW"),
]


@pytest.mark.parametrize("args", READERS, ids=lambda a: " ".join(a))
def test_every_reading_command_refuses_a_path_that_holds_no_archive(
        args: tuple[str, ...], paths: dict[str, str], tmp_path: Path) -> None:
    """A FIFO, a directory, /dev/null, /dev/zero, an empty, truncated, foreign or non-SQLite
    file: one line, at once (a FIFO is never opened: no hang), nothing written anywhere."""
    for kind, path in paths.items():
        if kind == "truncated" and args[0] not in ("verify", "rebuild", "token"):
            continue  # a cut file whose first pages read is caught when it is read further
        before = _snapshot(tmp_path)
        argv = [str(tmp_path / f"new-{kind}.out") if a == "NEW" else a for a in args]
        done = run_cli(*argv, "--db", path, timeout=30)
        refused(done, path)
        assert _snapshot(tmp_path) == before, (kind, args)


def test_a_reading_command_creates_nothing_at_a_path_that_does_not_exist(tmp_path: Path) -> None:
    missing = tmp_path / "typo" / "path" / "x.db"
    for args in (("token", "list"), ("verify",), ("rebuild",), ("serve", "--port", str(free_port()))):
        refused(run_cli(*args, "--db", str(missing), timeout=30), f"no database at {missing}")
    assert not (tmp_path / "typo").exists()


@pytest.mark.parametrize("kind", ["fifo", "dir", "zero", "null", "truncated", "header", "text"])
def test_migrate_refuses_what_is_not_a_database_file(kind: str, paths: dict[str, str]) -> None:
    path = paths[kind]
    mode = os.stat(path).st_mode
    refused(run_cli("migrate", "--db", path, timeout=30), path)
    assert os.stat(path).st_mode == mode  # a device, a FIFO, a directory: still what it was


def test_import_refuses_a_directory_or_a_device(paths: dict[str, str], archive: str,
                                                tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    assert run_cli("export", "log", "--db", archive, "--out", str(log)).returncode == 0
    for kind in ("dir", "fifo", "null", "other"):
        refused(run_cli("import", str(log), "--db", paths[kind], timeout=30), paths[kind])
    assert not list(Path(paths["dir"]).iterdir())


# -- what may be written ----------------------------------------------------------------------

@pytest.mark.parametrize("target", ["/dev/full", "/dev/null", "fifo", "dir"])
def test_files_are_written_only_to_regular_files_or_new_paths(
        target: str, archive: str, paths: dict[str, str], tmp_path: Path) -> None:
    """backup, export log and publish refuse a device, a FIFO or a directory even with --force,
    and leave it what it was (a device node is never replaced by a regular file)."""
    where = paths.get(target, target)
    mode = os.stat(where).st_mode
    for args in (("backup", where, "--force"), ("export", "log", "--out", where, "--force"),
                 ("publish", where, "--force"),
                 ("publish", str(tmp_path / "p.db"), "--metadata", where, "--force")):
        refused(run_cli(*args, "--db", archive, timeout=30), where)
        assert os.stat(where).st_mode == mode, args
    assert not stat.S_ISREG(os.stat(where).st_mode)
    assert not (tmp_path / "p.db").exists()


def test_a_regular_file_is_replaced_only_with_force(archive: str, tmp_path: Path) -> None:
    target = tmp_path / "backup.db"
    target.write_bytes(b"old")
    refused(run_cli("backup", str(target), "--db", archive), "exists: pass --force")
    assert target.read_bytes() == b"old"
    done = run_cli("backup", str(target), "--force", "--db", archive)
    assert done.returncode == 0, done.stderr
    assert run_cli("verify", "--db", str(target)).returncode == 0
