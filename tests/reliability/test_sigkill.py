"""Crash safety: a writer killed with SIGKILL mid-stream loses no acknowledged append.

A writer subprocess appends with synchronous=FULL and prints "ACK <position> <event_id>"
only after append() (or its GroupCommitter future) has returned. The test lets it run
to a few hundred acks, kills it with SIGKILL (no cleanup, no checkpoint, WAL left
behind), then checks the file: every acknowledged event is stored at its acknowledged
position, positions run 1..head without a gap, and `starosta verify` (the real CLI,
opening the crashed file read-only) exits 0.

SIGKILL tests process death, not power loss: the OS still holds whatever the process
had written. Power loss is what synchronous=FULL is for, and cannot be simulated here.
"""

from __future__ import annotations

import os
import queue
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from starosta.service.db import migrate

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
APPENDER = HERE / "_appender.py"
STAROSTA = Path(sys.executable).parent / "starosta"
MIN_ACKS = 200
TIMEOUT = 30  # seconds: the bound on every wait in this module
ACK = re.compile(r"ACK (\d+) ([0-9a-f]{32})")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(90),
    pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL"),
]


def _pump(stream, lines: queue.Queue) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)  # EOF


def _parse(line: str, acks: dict[str, int]) -> None:
    if not line.endswith("\n"):
        return  # a line cut by the kill mid-write acknowledges nothing
    m = ACK.fullmatch(line.rstrip("\n"))
    assert m, f"unexpected output from the writer: {line!r}"
    position, event_id = int(m.group(1)), m.group(2)
    assert event_id not in acks, f"event {event_id} acknowledged twice"
    acks[event_id] = position


def _run_and_kill(tmp_path: Path, mode_args: list[str]) -> tuple[str, dict[str, int]]:
    """Run the writer until MIN_ACKS acks, SIGKILL it; return the db path and every ack."""
    db = str(tmp_path / "crash.db")
    migrate(db)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "STAROSTA_TEST_DEADLINE": str(TIMEOUT * 2)}
    stderr = open(tmp_path / "writer.stderr", "w+")  # noqa: SIM115 - closed in finally
    proc = subprocess.Popen([sys.executable, str(APPENDER), mode_args[0], db, *mode_args[1:]],
                            stdout=subprocess.PIPE, stderr=stderr, text=True, cwd=ROOT, env=env)
    lines: queue.Queue = queue.Queue()
    pump = threading.Thread(target=_pump, args=(proc.stdout, lines), daemon=True)
    pump.start()
    acks: dict[str, int] = {}
    try:
        deadline = time.monotonic() + TIMEOUT
        first = lines.get(timeout=TIMEOUT)
        assert first == "READY synchronous=2\n", (first, _tail(stderr))  # 2 = FULL
        while len(acks) < MIN_ACKS:
            try:
                line = lines.get(timeout=max(deadline - time.monotonic(), 0.01))
            except queue.Empty:
                raise AssertionError(f"only {len(acks)} acks within {TIMEOUT}s") from None
            assert line is not None, f"the writer died early: {_tail(stderr)}"
            _parse(line, acks)
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(TIMEOUT) == -signal.SIGKILL
        # Lines already in the pipe were written after their append returned: acks too.
        pump.join(TIMEOUT)
        assert not pump.is_alive()
        while (line := lines.get_nowait()) is not None:
            _parse(line, acks)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(TIMEOUT)
        proc.stdout.close()
        stderr.close()
    return db, acks


def _tail(f) -> str:
    f.flush()
    f.seek(0)
    return f.read()[-2000:]


def _check_crashed_db(db: str, acks: dict[str, int]) -> None:
    assert len(acks) >= MIN_ACKS
    assert len(set(acks.values())) == len(acks), "two events acknowledged at one position"
    # First the real CLI, opening the crashed file (WAL and all) read-only.
    verify = subprocess.run([str(STAROSTA), "verify", "--db", db], capture_output=True,
                            text=True, timeout=TIMEOUT, cwd=ROOT)
    assert verify.returncode == 0, verify.stderr
    conn = sqlite3.connect(db)
    try:
        stored = dict(conn.execute("SELECT event_id, position FROM events"))
        positions = [r[0] for r in conn.execute("SELECT position FROM events ORDER BY position")]
    finally:
        conn.close()
    missing = {e: p for e, p in acks.items() if stored.get(e) != p}
    assert not missing, f"{len(missing)} acknowledged events lost or moved: {list(missing.items())[:5]}"
    head = len(positions)
    assert positions == list(range(1, head + 1)), "the log has a gap"
    assert head >= max(acks.values())  # commits not yet acknowledged may be there too
    assert verify.stdout.startswith(f"ok: {head} events, chain intact; head {head} "), verify.stdout


def test_sigkill_single_writer_loses_no_acknowledged_append(tmp_path):
    db, acks = _run_and_kill(tmp_path, ["writer"])
    _check_crashed_db(db, acks)


def test_sigkill_group_committer_loses_no_acknowledged_append(tmp_path):
    db, acks = _run_and_kill(tmp_path, ["group", "8"])
    _check_crashed_db(db, acks)
