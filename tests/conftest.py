"""Shared fixtures: real SQLite files in tmp_path, the real app over HTTP, the real CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient

from starosta.events.sqlite_store import SQLiteEventStore
from starosta.service.api.app import create_app
from starosta.service.db import open_store
from starosta.service.settings import Settings
from tests.postgres import postgres_cluster  # noqa: F401  (one throwaway cluster per session)

ROOT = Path(__file__).resolve().parent.parent
STAROSTA = str(Path(sys.executable).with_name("starosta"))


@pytest.fixture
def db_path(tmp_path: Path) -> str:
    return str(tmp_path / "archive.db")


@pytest.fixture
def store(db_path: str) -> Iterator[SQLiteEventStore]:
    s = open_store(db_path)
    yield s
    s.close()


@pytest.fixture
def settings(db_path: str) -> Settings:
    return Settings(db=db_path)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as c:
        yield c


def free_port() -> int:
    """Return a free TCP port on 127.0.0.1 (servers started by tests bind there only)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(proc: subprocess.Popen) -> None:
    """Stop a process started in its own session: SIGTERM, then SIGKILL after 15 s."""
    import signal

    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)


def run_cli(*args: str, timeout: float = 60, **env: str) -> subprocess.CompletedProcess:
    """Run the real `starosta` command in a subprocess; return the completed process."""
    return subprocess.run([STAROSTA, *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **env}, cwd=ROOT)


from hypothesis import settings as _hypothesis_settings  # noqa: E402

# CI machines are shared and slow: no per-example deadline, same examples every run.
_hypothesis_settings.register_profile("ci", deadline=None, derandomize=True, print_blob=True)
_hypothesis_settings.register_profile("dev", deadline=None)
_hypothesis_settings.load_profile("ci" if os.environ.get("CI") else "dev")


def start_server(db: str, port: int | None = None, env: dict[str, str] | None = None,
                 wait: float = 30) -> tuple[subprocess.Popen, str]:
    """Start the real `starosta serve` on 127.0.0.1 in its own session (with `env` added to
    the environment) and wait (`wait` s at most) until it answers; return the process (stop
    it with `stop`) and its base URL."""
    proc, base = launch_server(db, port, env)
    return wait_until_up(proc, base, wait)


def launch_server(db: str, port: int | None = None,
                  env: dict[str, str] | None = None) -> tuple[subprocess.Popen, str]:
    """Start `starosta serve` on 127.0.0.1 without waiting for it (see wait_until_up). A new
    SQLite path is made first as the README's production path makes one, with `starosta
    migrate` (`serve` creates no database)."""
    port = port or free_port()
    if "://" not in db and not os.path.exists(db):
        made = run_cli("migrate", "--db", db, **(env or {}))
        assert made.returncode == 0, made.stderr
    proc = subprocess.Popen([STAROSTA, "serve", "--db", db, "--port", str(port)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True, env={**os.environ, **(env or {})})
    return proc, f"http://127.0.0.1:{port}"


def wait_until_up(proc: subprocess.Popen, base: str,
                  wait: float = 30) -> tuple[subprocess.Popen, str]:
    """Wait (`wait` s at most) until the server at `base` answers /health; return (proc,
    base). Stops it and fails, with its output, when it exits or the time runs out."""
    import time

    import httpx

    deadline = time.monotonic() + wait
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            httpx.get(f"{base}/health", timeout=2)
            return proc, base
        except httpx.TransportError:
            time.sleep(0.1)  # polling for start-up, bounded by the deadline
    stop(proc)
    raise AssertionError(f"server did not start: {proc.stdout and proc.stdout.read()}")
