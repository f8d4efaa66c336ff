"""`starosta serve` for real: granian on 127.0.0.1, answered over HTTP, stopped by the test."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import time

import httpx
import pytest

from tests.conftest import ROOT, STAROSTA, free_port, run_cli, start_server, stop




@pytest.mark.slow
def test_serve_answers_over_http_and_stops(db_path: str) -> None:
    port = free_port()
    assert run_cli("migrate", "--db", db_path).returncode == 0  # serve creates no database
    proc = subprocess.Popen([STAROSTA, "serve", "--db", db_path, "--host", "127.0.0.1",
                             "--port", str(port)], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        deadline, health = time.monotonic() + 30, None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.1)  # polling for start-up, bounded by the deadline
        assert health is not None, f"server did not start: {proc.stdout and proc.stdout.read()}"
        assert health.status_code == 200 and health.json()["head"] == 0
        head = httpx.get(f"http://127.0.0.1:{port}/events/head", timeout=5).json()
        assert head["position"] == 0
        bad = httpx.get(f"http://127.0.0.1:{port}/events?limit=0", timeout=5)
        assert bad.status_code == 422
        assert bad.headers["content-type"].startswith("application/problem+json")
        assert os.path.exists(db_path)
    finally:
        stop(proc)




@pytest.mark.slow
def test_a_second_serve_on_a_port_in_use_is_refused(tmp_path) -> None:
    port = free_port()
    assert run_cli("migrate", "--db", str(tmp_path / "one.db")).returncode == 0
    first = subprocess.Popen([STAROSTA, "serve", "--db", str(tmp_path / "one.db"), "--port", str(port)],
                             cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and first.poll() is None:
            try:
                httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.1)  # polling for start-up, bounded by the deadline
        two = str(tmp_path / "two.db")
        assert run_cli("migrate", "--db", two).returncode == 0
        second = subprocess.run([STAROSTA, "serve", "--db", two, "--port",
                                 str(port)], cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert second.returncode != 0
        assert f"cannot serve on 127.0.0.1:{port}" in second.stderr
        assert "Traceback" not in second.stderr and len(second.stderr.strip().splitlines()) == 1
        with sqlite3.connect(two) as conn:  # refused before building anything in its database
            assert conn.execute("SELECT count(*) FROM projection_checkpoints").fetchone() == (0,)
        health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=5)
        assert health.status_code == 200 and health.json()["head"] == 0
    finally:
        stop(first)


def _start(db: str, port: int) -> subprocess.Popen:
    return start_server(db, port)[0]


@pytest.mark.slow
def test_a_restart_on_the_same_port_is_not_refused_by_closed_connections(tmp_path) -> None:
    """The port check refuses a live listener, not the TIME_WAIT connections a server just
    stopped leaves behind (it closed its keep-alive connections first)."""
    port, db = free_port(), str(tmp_path / "one.db")
    first = _start(db, port)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
            assert [client.get("/health").status_code for _ in range(5)] == [200] * 5
            stop(first)  # the server closes the kept-alive connection: TIME_WAIT on its port
    finally:
        stop(first)
    second = _start(db, port)
    try:
        assert httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).status_code == 200
    finally:
        stop(second)


def _post_slowly(port: int, path: str, headers: dict[str, str], body: bytes) -> bytes:
    """Send a POST in 64 KiB pieces after a pause (as a proxy relaying a client does); return
    what the server answered. Raises OSError when the server closed before the body was in."""
    import socket

    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
                     f"Content-Length: {len(body)}\r\n{head}\r\n".encode())
        time.sleep(0.3)  # the server has the headers and may answer before the body comes
        for start in range(0, len(body), 65536):
            sock.sendall(body[start:start + 65536])
        return sock.recv(4096)


@pytest.mark.slow
def test_a_refused_write_is_answered_after_its_body_is_read(tmp_path) -> None:
    """A 401 or 403 decided from the headers alone still reads the body first: closing while the
    client sends breaks its pipe, and nginx in front then answers 502 instead of our refusal."""
    from starosta.service.domain.access import create_tokens

    db = str(tmp_path / "archive.db")
    proc, _ = start_server(db)
    port = int(_.rsplit(":", 1)[1])
    try:
        contributor = create_tokens(db, [("pipe-check", "contributor", None)])[0][1]
        body = b'{"reason": "' + b"x" * 900_000 + b'"}'
        cases = [("/sources", {}, b"401"), ("/sources", {"Authorization": "Bearer wrong"}, b"401"),
                 ("/claims/approve", {"Authorization": f"Bearer {contributor}"}, b"403")]
        for path, headers, status in cases:
            answer = _post_slowly(port, path, headers, body)
            assert answer.startswith(b"HTTP/1.1 " + status), (path, headers, answer[:200])
    finally:
        stop(proc)
