"""Who the client is, behind a reverse proxy (issue 18, finding 12), and the service's log
lines escaped (finding 13), with the real `starosta serve` on 127.0.0.1: a refused token is
logged with the client as the server sees it, which is the X-Forwarded-For client only when
the connection comes from STAROSTA_TRUSTED_PROXIES."""

from __future__ import annotations

import subprocess

import httpx
import pytest

from tests.conftest import ROOT, STAROSTA, start_server, stop

BAD_TOKEN = {"Authorization": "Bearer sta_not-a-token-of-this-archive"}
# (X-Forwarded-For as nginx sends it, the client a trusting server logs)
FORWARDED = [
    ("203.0.113.7", "203.0.113.7"),
    # a client's own X-Forwarded-For, then the address nginx appended: the right-most
    # address no trusted proxy added is the client
    ("198.51.100.9, 203.0.113.8", "203.0.113.8"),
    ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),  # IPv6 counted per /64
    ("::ffff:203.0.113.9", "203.0.113.9"),
    ("not-an-address", "127.0.0.1"),  # garbage from a trusted proxy: the proxy itself
]


def served_log(db: str, env: dict[str, str]) -> str:
    """Serve `db`, send each X-Forwarded-For with a bad token on a path holding a newline,
    stop the server and return everything it printed."""
    proc, base = start_server(db, env=env)
    try:
        for forwarded, _ in FORWARDED:
            r = httpx.get(f"{base}/claims/C-0000000%0aFORGED%20line",
                          headers={**BAD_TOKEN, "X-Forwarded-For": forwarded}, timeout=10)
            assert r.status_code == 401, r.text
    finally:
        stop(proc)
    assert proc.stdout is not None
    return proc.stdout.read()


def refusals(output: str) -> list[str]:
    return [line for line in output.splitlines() if "refused the Authorization header" in line]


@pytest.mark.slow
def test_behind_trusted_proxies_the_forwarded_client_is_logged(tmp_path) -> None:
    output = served_log(str(tmp_path / "a.db"), {"STAROSTA_TRUSTED_PROXIES": "127.0.0.1,::1"})
    lines = refusals(output)
    assert len(lines) == len(FORWARDED), output
    for line, (_, client) in zip(lines, FORWARDED):
        assert line.split(" from ")[1].startswith(f"{client}:"), line
    # the newline of the path is escaped: no line of the log starts where the request chose
    assert all("/claims/C-0000000\\nFORGED line" in line for line in lines), lines
    assert not any(line.startswith("FORGED") for line in output.splitlines()), output
    assert "STAROSTA_TRUSTED_PROXIES=127.0.0.1,::1" in output  # said at start-up


@pytest.mark.slow
def test_without_trusted_proxies_x_forwarded_for_is_ignored(tmp_path) -> None:
    output = served_log(str(tmp_path / "a.db"), {"STAROSTA_TRUSTED_PROXIES": ""})
    lines = refusals(output)
    assert len(lines) == len(FORWARDED), output
    assert all(line.split(" from ")[1].startswith("127.0.0.1:") for line in lines), lines


@pytest.mark.slow
def test_a_trusted_proxy_setting_that_is_no_address_is_refused_at_start(tmp_path) -> None:
    import os

    made = subprocess.run([STAROSTA, "migrate", "--db", str(tmp_path / "a.db")],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert made.returncode == 0, made.stderr
    for value in ("localhost", "*", "10.0.0.0/33"):
        result = subprocess.run([STAROSTA, "serve", "--db", str(tmp_path / "a.db")],
                                capture_output=True, text=True, timeout=60, cwd=ROOT,
                                env={**os.environ, "STAROSTA_TRUSTED_PROXIES": value})
        assert result.returncode != 0
        assert "STAROSTA_TRUSTED_PROXIES" in result.stderr and "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert "serving" not in result.stdout  # refused before serving


@pytest.mark.slow
def test_a_flood_of_wrong_tokens_logs_at_most_twenty_lines_a_minute(tmp_path) -> None:
    """Each refused token was one log line: 2,000 of them made 5 MB of log, and a server whose
    output nobody read fast enough stalled on a full pipe. Now at most 20 lines a minute are
    logged; the server answers every request meanwhile."""
    proc, base = start_server(str(tmp_path / "a.db"), env={"STAROSTA_REFUSAL_DELAY": "0"})
    try:
        with httpx.Client(timeout=10) as http:
            answers = [http.get(f"{base}/health", headers=BAD_TOKEN).status_code
                       for _ in range(200)]
            # past 20 failures in 60 s from one client, 429 (issue 23: tests/api/test_client_limits.py)
            assert answers == [401] * 20 + [429] * 180
            assert http.get(f"{base}/health").status_code == 200
    finally:
        stop(proc)
    assert proc.stdout is not None
    assert len(refusals(proc.stdout.read())) == 20
