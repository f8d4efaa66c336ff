"""Settings set through the environment, as the README documents them, reach the running
server typed: `STAROSTA_MIN_POSITION_WAIT` once made every GET with `min_position` answer 500
(the wait stayed text). The real `starosta serve` in a subprocess."""

from __future__ import annotations

import httpx
import pytest

from tests.api.conftest import make_tokens
from tests.conftest import run_cli, start_server, stop


@pytest.mark.slow
def test_min_position_wait_from_the_environment_is_seconds(db_path: str) -> None:
    tokens = make_tokens(db_path)
    proc, base = start_server(db_path, env={"STAROSTA_MIN_POSITION_WAIT": "0.5"})
    try:
        alice = {"Authorization": f"Bearer {tokens['alice']}"}
        made = httpx.post(f"{base}/sources", json={"csl": {"type": "book", "title": "t"}},
                          headers=alice, timeout=10)
        assert made.status_code == 201, made.text
        position = made.json()["position"]
        read = httpx.get(f"{base}/sources/{made.json()['id']}",
                         params={"min_position": position}, timeout=10)
        assert read.status_code == 200, read.text
        log = httpx.get(f"{base}/events", params={"min_position": position}, timeout=10)
        assert log.status_code == 200 and log.json()["items"][-1]["position"] == position
        # a position the log has not reached is still the client's error, not the server's
        ahead = httpx.get(f"{base}/events", params={"min_position": position + 5}, timeout=10)
        assert ahead.status_code == 422 and "min_position" in ahead.text
    finally:
        stop(proc)


@pytest.mark.slow
@pytest.mark.parametrize(("variable", "value"), [("STAROSTA_MIN_POSITION_WAIT", "soon"),
                                                 ("STAROSTA_READER_THREADS", "0")])
def test_serve_refuses_a_bad_setting_in_one_line(db_path: str, variable: str, value: str) -> None:
    assert run_cli("migrate", "--db", db_path).returncode == 0
    done = run_cli("serve", "--db", db_path, **{variable: value})
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and f"{variable}={value!r}" in lines[0], done.stderr
    assert "Traceback" not in done.stderr
