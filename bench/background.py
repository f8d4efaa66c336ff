"""Long bench commands run beside the measurements, paused while anything is measured.

On a 2-core machine a ten-million-event import (an hour and more) cannot share the cores with
wrk and a server without moving every ratio. So such a command is started through this module:
it runs in its own process group, listed in a registry file (var/bench/background.json); every
measurement of bench/run.py (each wrk run, the writer-time phase) and of bench/scale.py stops
the listed groups (SIGSTOP) for its duration and continues them after (SIGCONT), adding the
paused time to the registry. When the command ends, its record is written beside its output:
wall time, the time it was paused, wall time less that, CPU time, peak RSS, exit code and the
last lines of its output. bench/scale.py reads such records (`--export SIZE=PATH`,
`--archive SIZE=DB`) for the steps it did not run itself.

    python bench/background.py --record /data/synth-10m.jsonl.synth.json -- \
        .venv/bin/starosta synth --persons 264550 --seed 1 --out /data/synth-10m.jsonl
    python bench/background.py --record /data/s10m.db.import.json -- \
        .venv/bin/starosta import /data/synth-10m.jsonl --db /data/s10m.db

Never used by tests; a paused command is never left stopped: `paused()` continues every group
in a `finally`, and a group whose leader has ended is dropped from the registry.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import resource
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REGISTRY = Path(os.environ.get("STAROSTA_BENCH_BACKGROUND", ROOT / "var" / "bench" / "background.json"))


@contextlib.contextmanager
def _locked() -> Iterator[dict]:
    """The registry, read and written under an exclusive lock: {pgid: {"command", "paused_s"}}."""
    REGISTRY.parent.mkdir(parents=True, exist_ok=True)
    with open(REGISTRY.with_suffix(".lock"), "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            try:
                state = json.loads(REGISTRY.read_text() or "{}")
            except (OSError, ValueError):
                state = {}
            yield state
            REGISTRY.write_text(json.dumps(state, indent=1))
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except (ProcessLookupError, PermissionError):
        return False


def _signal_all(sig: int) -> list[int]:
    with _locked() as state:
        for key in [k for k in state if not _alive(int(k))]:
            del state[key]
        groups = [int(k) for k in state]
    for pgid in groups:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, sig)
    return groups


_DEPTH = 0  # blocks of this process inside paused(): threads measuring at once (bench/postgres.py)
_GUARD = threading.Lock()
_STOPPED: tuple[float, list[int]] = (0.0, [])


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """Stop every registered background command for the duration of the block (nested and
    concurrent blocks of one process: from the first one's start to the last one's end)."""
    global _DEPTH, _STOPPED
    with _GUARD:
        _DEPTH += 1
        if _DEPTH == 1:
            _STOPPED = (time.monotonic(), _signal_all(signal.SIGSTOP))
    try:
        yield
    finally:
        with _GUARD:
            _DEPTH -= 1
            if _DEPTH == 0:
                started, groups = _STOPPED
                with _locked() as state:
                    for key in state:
                        if int(key) in groups:
                            state[key]["paused_s"] = state[key].get("paused_s", 0.0) + time.monotonic() - started
                for pgid in groups:
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        os.killpg(pgid, signal.SIGCONT)


def run(cmd: list[str], record: Path) -> int:
    """Run `cmd` as a registered background command; write its record; return its exit code."""
    started = time.monotonic()
    record.parent.mkdir(parents=True, exist_ok=True)
    with open(record.with_suffix(record.suffix + ".log"), "wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        with _locked() as state:
            state[str(proc.pid)] = {"command": " ".join(cmd), "paused_s": 0.0, "started": time.time()}

        def stop(signum: int, frame: object) -> None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGCONT)
                os.killpg(proc.pid, signal.SIGTERM)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - started
    with _locked() as state:
        paused_s = state.pop(str(proc.pid), {}).get("paused_s", 0.0)
    rc = os.waitstatus_to_exitcode(status)
    tail = record.with_suffix(record.suffix + ".log").read_text(errors="replace").splitlines()[-5:]
    record.write_text(json.dumps({
        "command": cmd, "rc": rc, "wall_s": wall, "paused_s": paused_s, "seconds": wall - paused_s,
        "cpu_s": usage.ru_utime + usage.ru_stime, "rss_mib": usage.ru_maxrss / 1024,
        "finished": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()), "tail": tail}, indent=1))
    return rc


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="bench/background.py", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--record", type=Path, required=True, help="where the command's record (JSON) goes")
    ap.add_argument("cmd", nargs=argparse.REMAINDER, help="-- then the command")
    args = ap.parse_args(argv)
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    if not cmd:
        ap.error("no command given (put it after --)")
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    return run(cmd, args.record)


if __name__ == "__main__":
    sys.exit(main())
