"""Long bench commands run beside the measurements, paused while anything is measured.

On a 2-core machine a ten-million-event import (an hour and more) cannot share the cores with
wrk and a server without moving every ratio. So such a command is started through this module:
it runs in its own process group, listed in a registry file (var/bench/background.json); every
HTTP load of bench/run.py and bench/scale.py (each wrk run, each profile's load) and the whole
writes phase of bench/run.py stop the listed groups (SIGSTOP) for their duration and continue
them after (SIGCONT), adding the paused time to the registry. Timed commands (a rebuild, an
import) are not paused for: they share the cores with it. When the command ends, its record is written beside its output:
wall time, the time it was paused, wall time less that, CPU time, peak RSS, exit code and the
last lines of its output. bench/scale.py reads such records (`--export SIZE=PATH`,
`--archive SIZE=DB`) for the steps it did not run itself.

    python bench/background.py --record /data/synth-10m.jsonl.synth.json -- \
        .venv/bin/starosta synth --persons 264550 --seed 1 --out /data/synth-10m.jsonl
    python bench/background.py --record /data/s10m.db.import.json -- \
        .venv/bin/starosta import /data/synth-10m.jsonl --db /data/s10m.db

A paused command is continued first thing when the block ends (an error in the bookkeeping
cannot leave it stopped); a group that is gone is dropped from the registry. If the pausing
bench is killed outright (SIGKILL) while it holds a pause, the command stays stopped until the
next `paused()` block of any bench ends, or `kill -CONT -PGID`. Benches pause one at a time.
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
    """Send `sig` to every registered group but the caller's own; prune groups that are gone."""
    own = os.getpgrp()
    with _locked() as state:
        for key in [k for k in state if not _alive(int(k))]:
            del state[key]
        groups = [int(k) for k in state if int(k) != own]
    sent = []
    for pgid in groups:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, sig)
            sent.append(pgid)
    return sent


_DEPTH = 0  # blocks of this process inside paused(): threads measuring at once (bench/postgres.py)
_GUARD = threading.Lock()
_STOPPED: tuple[float, list[int]] = (0.0, [])


def _continue(groups: list[int]) -> None:
    for pgid in groups:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGCONT)


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """Stop every registered background command for the duration of the block (nested and
    concurrent blocks of one process: from the first one's start to the last one's end). The
    groups are continued before anything else is done on the way out, so an error in the
    bookkeeping cannot leave them stopped. One pausing process at a time: two benches pausing
    at once would continue each other's pauses early (run the benches one after the other)."""
    global _DEPTH, _STOPPED
    with _GUARD:
        if _DEPTH == 0:
            started = time.monotonic()
            try:
                _STOPPED = (started, _signal_all(signal.SIGSTOP))
            except BaseException:
                _continue(_signal_all(signal.SIGCONT))
                raise
        _DEPTH += 1
    try:
        yield
    finally:
        with _GUARD:
            _DEPTH -= 1
            if _DEPTH == 0:
                started, groups = _STOPPED
                _continue(groups)
                with contextlib.suppress(Exception):
                    with _locked() as state:
                        for key in state:
                            if int(key) in groups:
                                state[key]["paused_s"] = state[key].get("paused_s", 0.0) + time.monotonic() - started


def _write(record: Path, data: dict) -> None:
    """The record, whole or not at all (a reader never sees half of it)."""
    tmp = record.with_name(record.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1))
    os.replace(tmp, record)


def run(cmd: list[str], record: Path) -> int:
    """Run `cmd` as a registered background command; write its record; return its exit code.
    Until it ends, the record says only that it runs (a record left by an earlier run is
    replaced at once, so nobody takes it for this one's)."""
    started = time.monotonic()
    record.parent.mkdir(parents=True, exist_ok=True)
    _write(record, {"running": " ".join(cmd), "since": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())})
    log_path = record.with_name(record.name + ".log")
    with open(log_path, "wb") as log, _locked() as state:  # registered before any pause can miss it
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        state[str(proc.pid)] = {"command": " ".join(cmd), "paused_s": 0.0, "started": time.time()}
    try:
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGCONT)
            os.killpg(proc.pid, signal.SIGTERM)
        proc.wait()
        raise
    finally:
        wall = time.monotonic() - started
        with _locked() as state:
            paused_s = state.pop(str(proc.pid), {}).get("paused_s", 0.0)
    tail = log_path.read_text(errors="replace").splitlines()[-5:]
    _write(record, {
        "command": cmd, "rc": proc.returncode, "wall_s": wall, "paused_s": paused_s, "seconds": wall - paused_s,
        "cpu_s": usage.ru_utime + usage.ru_stime, "rss_mib": usage.ru_maxrss / 1024,
        "finished": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()), "tail": tail})
    return proc.returncode


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


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
    signal.signal(signal.SIGTERM, _interrupt)  # the command is stopped with its runner
    try:
        return run(cmd, args.record)
    except KeyboardInterrupt:
        print(f"bench/background.py: stopped; {cmd[0]} was stopped too", file=sys.stderr)
        return 130
    except OSError as exc:
        print(f"bench/background.py: {cmd[0]}: {exc.strerror or exc}", file=sys.stderr)
        return 127


if __name__ == "__main__":
    sys.exit(main())
