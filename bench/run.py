"""`make bench`: the project beside its ceilings, measured in one run, written to bench/RESULTS.md.

    python bench/run.py                                  # the full run (1,000,000-event archive)
    python bench/run.py --events 100000 --seconds 3      # a quick trial

Every target is a ratio measured in this run (issue 8, "Speed"); nothing is asserted, a missed
target is reported with its size. Phases, each recorded even when another one fails:

  ceilings   a bare Litestar app (bench/ceiling_app.py) served by granian exactly as
             `starosta serve` serves the project (one worker, uvloop, 127.0.0.1): GET of a
             stored JSON document of the same size as each project document compared, and a
             POST decoded into a msgspec Struct; raw SQLite appends (one row per transaction,
             synchronous=FULL) and executemany of the same rows in one transaction; the
             `eventsourcing` library's replay of its SQLite log (bench/es_replay.py)
  demo       `starosta demo` into a fresh file: GET /persons/{id}/biography for Monclús
             (found through GET /persons?q=monclus), GET /health; then 10,000 pending claims
             about him submitted through POST /claims (a token from `starosta token create`)
             and the biography read again; then POST /claims at 16 connections (durable:
             synchronous=FULL, the default), counting non-2xx answers
  synthetic  `starosta synth` archives of about --small-events and --events events, cached
             under var/bench/ (keyed on persons and seed: a re-run reuses them): `starosta
             rebuild` of every read model (events/s from its wall time, peak RSS from wait4),
             the biography of a busy person (the same number of approved claims in both
             archives) and, on the large one, GET /places/{id}/population?at=YEAR for the
             place with the most approved custody claims, at the year most of them overlap,
             while a second client reads /health every 20 ms
  postgres   (when PostgreSQL's server binaries are installed) bench/postgres.py: GET biography
             and POST /claims on SQLite, on PostgreSQL with one server and with two servers on
             one database, in alternating rounds, then `starosta verify`; its own section of
             the report, which `--only postgres` (or `python bench/postgres.py`) rewrites alone
  writes     bench/writes.py (issue 25): the writer's time per approval for a person the bench
             creates with 2,000 and with 10,000 claims, and POST /claims of custody claims about
             one person in five 8 s rounds (against the demo phase's bare POST; the last round
             against the first); its own section, rewritten in this run
  load       bench/load.py (issue 23): p99 of /health and of a search from a second client, idle
             and under four 10 s floods from ONE client (40 live feeds, 1 MB CSL posts, as_of
             biographies of a 2,000-claim person, 1,000-row pages), each against max(3x idle
             p99, 50 ms); its own section, which `--only load` rewrites alone (no wrk needed)

HTTP figures come from wrk (-t2 -c16, --seconds each after a 1 s warm-up) on the same 2
cores as the server: they understate a separate client, so compare the ratios. Every server
started here runs in its own process group and is stopped by that group's id at the end,
also on error or Ctrl-C; every load loop ends after a bounded time.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import http.client
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.error
import urllib.request
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
if str(ROOT / "bench") not in sys.path:  # bench/ is no package
    sys.path.insert(0, str(ROOT / "bench"))
import background  # noqa: E402  (bench/background.py: long commands paused while measuring)

# bench/postgres.py uses this module's helpers and its CHILDREN: the same module object, also when
# this file runs as __main__
sys.modules.setdefault("bench_run", sys.modules[__name__])
STAROSTA = str(BIN / "starosta")
EVENTS_PER_PERSON = 37.8  # what `starosta synth` writes per person (1,020,502 for 27,000)
HEALTH_INTERVAL = 0.02


def load_module(name: str, filename: str) -> Any:
    """A sibling file of bench/ as a module (loaded by path: bench/ is no package)."""
    import importlib.util

    module = sys.modules.get(name)
    if module is None:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).resolve().parent / filename)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return module


def load_load() -> Any:
    """bench/load.py, the section of one client's floods (issue 23)."""
    return load_module("bench_load", "load.py")


def load_postgres() -> Any:
    """bench/postgres.py, the PostgreSQL section (loaded by path: bench/ is no package)."""
    import importlib.util

    module = sys.modules.get("bench_postgres")
    if module is None:
        spec = importlib.util.spec_from_file_location("bench_postgres", Path(__file__).resolve().parent / "postgres.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["bench_postgres"] = module
        spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------------------------------------
# processes: every child in its own process group, stopped by that group's id


class Children:
    """Every process this run starts; `stop_all` ends each by its process group id."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen] = []

    def spawn(self, cmd: list[str], **kwargs: Any) -> subprocess.Popen:
        proc = subprocess.Popen(cmd, cwd=ROOT, start_new_session=True, **kwargs)
        self.procs.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen, grace: float = 10.0) -> None:
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                pass
        try:  # the group may outlive its leader (a granian worker): end it too
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if proc.poll() is None:
            proc.wait(timeout=grace)
        if proc in self.procs:
            self.procs.remove(proc)

    def stop_all(self) -> None:
        for proc in list(self.procs):
            try:
                self.stop(proc)
            except Exception:  # noqa: BLE001 - keep stopping the others
                traceback.print_exc()


CHILDREN = Children()


def have_wrk() -> bool:
    """Whether wrk is on PATH; says what to install when it is not."""
    if shutil.which("wrk"):
        return True
    print("wrk is needed (Debian/Ubuntu: apt-get install wrk)", file=sys.stderr)
    return False


def stop_on_sigterm() -> None:
    """Turn SIGTERM into KeyboardInterrupt, so that `finally` blocks stop servers and clusters."""
    def interrupted(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupted)


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without any STAROSTA_* setting of the caller's shell."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STAROSTA_")}
    env.update(extra)
    return env


# A small parent for measured commands: Linux starts a child's peak RSS (ru_maxrss) at its
# parent's RSS at fork time, so a command forked straight from this (large) process would report
# this process's memory. Forked from this small wrapper it reports its own (plus ~10 MiB at most).
_RUSAGE_WRAPPER = """
import json, os, signal, subprocess, sys
child = subprocess.Popen(sys.argv[2:])
signal.signal(signal.SIGTERM, lambda *a: child.kill())
_, status, usage = os.wait4(child.pid, 0)
with open(sys.argv[1], "w") as f:
    json.dump({"rc": os.waitstatus_to_exitcode(status), "maxrss_kib": usage.ru_maxrss}, f)
sys.exit(0)
"""


def run_bounded(cmd: list[str], timeout: float, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run a command in its own process group, killed after `timeout`; wall time and peak RSS."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile(suffix=".json") as usage_file:
        started = time.perf_counter()
        proc = CHILDREN.spawn([sys.executable, "-c", _RUSAGE_WRAPPER, usage_file.name, *cmd],
                              stdout=out, stderr=err, env=env or clean_env())
        try:
            proc.wait(timeout=timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            timed_out = True
        seconds = time.perf_counter() - started
        hwm = group_hwm_mib(proc.pid) if timed_out else 0.0
        CHILDREN.stop(proc)  # the group: the wrapper and the command
        try:
            usage = json.loads(Path(usage_file.name).read_text() or "{}")
        except (OSError, ValueError):
            usage = {}
        out.seek(0)
        err.seek(0)
        return {"rc": usage.get("rc", proc.returncode if not timed_out else -9), "seconds": seconds,
                "rss_mib": usage.get("maxrss_kib", 0) / 1024 or hwm, "timed_out": timed_out,
                "stdout": out.read().decode(errors="replace"), "stderr": err.read().decode(errors="replace")}


def group_hwm_mib(pgid: int) -> float:
    """The largest VmHWM (peak RSS) among the live processes of a process group, in MiB."""
    best = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[2]) != pgid:
                continue
            m = re.search(r"VmHWM:\s+(\d+) kB", (stat.parent / "status").read_text())
            best = max(best, int(m.group(1)) if m else 0)
        except (OSError, ValueError, IndexError):
            continue
    return best / 1024


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, name: str, proc: subprocess.Popen, port: int, log: Path) -> None:
        self.name, self.proc, self.port, self.log = name, proc, port, log
        self.base = f"http://127.0.0.1:{port}"

    def url(self, path: str) -> str:
        return self.base + path

    def stop(self) -> None:
        CHILDREN.stop(self.proc)


def start_server(name: str, cmd: list[str], port: int, logdir: Path, timeout: float,
                 env: dict[str, str] | None = None) -> Server:
    log = logdir / f"{name}.log"
    with open(log, "wb") as f:
        proc = CHILDREN.spawn(cmd, stdout=f, stderr=subprocess.STDOUT, env=env or clean_env())
    server = Server(name, proc, port, log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            with urllib.request.urlopen(server.url("/health"), timeout=2) as r:
                if r.status == 200:
                    return server
        except (OSError, http.client.HTTPException):
            time.sleep(0.2)
    tail = log.read_text(errors="replace")[-2000:]
    server.stop()
    raise RuntimeError(f"{name} did not answer /health within {timeout:.0f} s:\n{tail}")


def ceiling_server(logdir: Path) -> Server:
    port = free_port()
    return start_server("ceiling", [sys.executable, "bench/ceiling_app.py", "--port", str(port)],
                        port, logdir, timeout=60)


def project_server(name: str, db: Path, logdir: Path, timeout: float) -> Server:
    port = free_port()
    return start_server(name, [STAROSTA, "serve", "--db", str(db), "--host", "127.0.0.1",
                               "--port", str(port)], port, logdir, timeout=timeout)


# ---------------------------------------------------------------------------------------------
# HTTP helpers


def request(method: str, url: str, body: Any = None, token: str | None = None,
         timeout: float = 60) -> tuple[int, bytes]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def get_ok(url: str) -> bytes:
    status, body = request("GET", url)
    if status != 200:
        raise RuntimeError(f"GET {url}: {status} {body[:300]!r}")
    return body


def post_ok(url: str, body: Any, token: str) -> dict:
    status, answer = request("POST", url, body, token)
    if status // 100 != 2:
        raise RuntimeError(f"POST {url}: {status} {answer[:500]!r}")
    return json.loads(answer)


def to_ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not m:
        raise ValueError(f"unknown wrk duration {text!r}")
    value, unit = float(m.group(1)), m.group(2)
    return value * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


@dataclass
class Load:
    """One wrk run: requests/s, latency percentiles (ms), errors."""

    rps: float
    p50: float
    p99: float
    max: float
    requests: int
    non2xx: int
    socket_errors: int
    seconds: float
    rounds: list[float] = field(default_factory=list)

    def short(self) -> str:
        spread = f" (rounds: {', '.join(f'{x:,.0f}' for x in self.rounds)})" if len(self.rounds) > 1 else ""
        return f"{self.rps:,.0f} req/s, p99 {fmt_ms(self.p99)}{spread}"


def wrk(url: str, seconds: float, connections: int, script: str | None = None,
        env: dict[str, str] | None = None, warmup: float = 1.0, threads: int = 2) -> Load:
    def once(duration: float) -> str:
        cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(duration))}s", "--timeout", "30s", "--latency"]
        if script:
            cmd += ["-s", script]
        cmd.append(url)
        proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **(env or {})},
                              timeout=duration + 60, cwd=ROOT)
        if proc.returncode != 0 or "Requests/sec" not in proc.stdout:
            raise RuntimeError(f"wrk failed on {url}: {proc.stdout[-1000:]} {proc.stderr[-1000:]}")
        return proc.stdout

    with background.paused():  # long commands run beside the bench wait while it measures
        if warmup > 0:
            once(warmup)
        out = once(seconds)
    lat = re.search(r"^\s*Latency\s+(\S+)\s+(\S+)\s+(\S+)", out, re.M)
    p50 = re.search(r"^\s*50%\s+(\S+)", out, re.M)
    p99 = re.search(r"^\s*99%\s+(\S+)", out, re.M)
    reqs = re.search(r"(\d+) requests in ([\d.]+)(\w+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return Load(rps=float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
                p50=to_ms(p50.group(1)), p99=to_ms(p99.group(1)), max=to_ms(lat.group(3)),
                requests=int(reqs.group(1)), non2xx=int(non2xx.group(1)) if non2xx else 0,
                socket_errors=sum(map(int, sock.groups())) if sock else 0, seconds=seconds)


class HealthProbe:
    """A second client: GET /health every 20 ms on one keep-alive connection, latencies kept."""

    def __init__(self, server: Server, max_seconds: float) -> None:
        self.server, self.max_seconds = server, max_seconds
        self.latencies: list[float] = []
        self.errors = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "HealthProbe":
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        deadline = time.monotonic() + self.max_seconds
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
        try:
            while not self._stop.is_set() and time.monotonic() < deadline:
                started = time.perf_counter()
                try:
                    conn.request("GET", "/health")
                    r = conn.getresponse()
                    r.read()
                    if r.status != 200:
                        self.errors += 1
                    self.latencies.append((time.perf_counter() - started) * 1000)
                except (OSError, http.client.HTTPException):
                    self.errors += 1
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
                self._stop.wait(HEALTH_INTERVAL)
        finally:
            conn.close()

    @staticmethod
    def combined(probes: list["HealthProbe"]) -> dict[str, float]:
        merged = HealthProbe.__new__(HealthProbe)
        merged.latencies = [x for p in probes for x in p.latencies]
        merged.errors = sum(p.errors for p in probes)
        return merged.summary()

    def summary(self) -> dict[str, float]:
        lat = sorted(self.latencies)
        if not lat:
            return {"n": 0, "p50": float("nan"), "p99": float("nan"), "max": float("nan"), "errors": self.errors}
        return {"n": len(lat), "p50": lat[len(lat) // 2], "p99": lat[min(len(lat) - 1, int(len(lat) * 0.99))],
                "max": lat[-1], "errors": self.errors}


# ---------------------------------------------------------------------------------------------
# profiles of the misses (py-spy, sampling the server's worker from outside)

PROJECT_DIRS = ("service/", "projections/", "events/", "migrations/", "starosta/")
WAITING_FILES = ("(threading.py)", "(queue.py)", "(selectors.py)", "(concurrent/futures/thread.py)")


def py_spy() -> str | None:
    local = BIN / "py-spy"
    return str(local) if local.exists() else shutil.which("py-spy")


def cpu_ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime
    except (OSError, ValueError, IndexError):
        return -1


def group_pids(pgid: int) -> list[int]:
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[2]) == pgid:
                pids.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return pids


def worker_pid(server: "Server") -> int:
    """The granian worker of a server: the busiest process of its group other than the leader."""
    others = [p for p in group_pids(server.proc.pid) if p != server.proc.pid]
    return max(others, key=cpu_ticks) if others else server.proc.pid


@dataclass
class Profile:
    title: str
    samples: int
    seconds: float
    rate: int
    threads: dict[str, int]
    own: list[tuple[str, int]]
    inclusive: list[tuple[str, int]]

    def lines(self) -> list[str]:
        span = self.seconds * self.rate
        out = [f"**{self.title}**: {self.samples:,} samples in {self.seconds:g} s at {self.rate}/s "
               "(sampled only while a thread runs; a share is of the wall time)",
               "",
               "- threads busy: " + ", ".join(f"{name} {n / span:.0%}" for name, n in self.threads.items()),
               "- most time in (own time, any code): "
               + "; ".join(f"`{f}` {n / span:.0%}" for f, n in self.own),
               "- the project's functions (time including what they call): "
               + "; ".join(f"`{f}` {n / span:.0%}" for f, n in self.inclusive),
               ""]
        return out


def summarize_profile(title: str, raw: Path, seconds: float, rate: int, top: int = 8) -> Profile:
    """py-spy's raw (collapsed) stacks: per thread, per leaf frame, per project frame."""
    threads: Counter[str] = Counter()
    tids: defaultdict[str, set[str]] = defaultdict(set)
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    samples = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        head, *frames = stack.split(";")
        frames = [re.sub(r":\d+\)$", ")", f) for f in frames]
        if frames and re.match(r"(\w+\.)?(wait|_wait_for_tstate_lock|get|select|poll|join|_worker)\b", frames[-1]) \
                and frames[-1].endswith(WAITING_FILES):
            continue  # a thread waiting for work (py-spy's idle detection misses some of these)
        samples += n
        tid, _, name = head.partition(": ")
        if not name:  # a thread no Python code named: granian's Rust runtime (HTTP parsing, sockets)
            name = "granian's Rust threads"
        elif name == "MainThread":
            name = "event loop (MainThread)"
        else:
            name = re.sub(r"[ _-]?\d+$", "", name) or head
        threads[name] += n
        tids[name].add(tid)
        if frames:
            leaf = frames[-1]
            if "(granian/server/" in leaf:  # the loop's bottom frame: its own native code runs
                leaf = "native code under the event loop (uvloop, granian's ASGI bridge)"
            own[leaf] += n
        for f in set(frames):
            m = re.search(r"\(([^()]*)\)$", f)
            if m and m.group(1).startswith(PROJECT_DIRS) and "cli.py" not in m.group(1):
                inclusive[f] += n
    names = {name: (f"{name} (x{len(tids[name])}, summed)" if len(tids[name]) > 1 else name) for name in threads}
    return Profile(title, samples, seconds, rate, {names[k]: v for k, v in threads.most_common()},
                   own.most_common(top), inclusive.most_common(top))


# ---------------------------------------------------------------------------------------------
# results


@dataclass
class Row:
    measure: str
    project: str = ""
    ceiling: str = ""
    ratio: float | None = None
    target: str = ""
    verdict: str = ""


@dataclass
class Results:
    rows: list[Row] = field(default_factory=list)
    ceilings: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    profiles: list[Profile] = field(default_factory=list)

    def add(self, measure: str, project: str, ceiling: str, ratio: float | None,
            at_least: float | None = None, at_most: float | None = None, extra: str = "",
            target: str = "", verdict: str = "", errors: int = 0) -> Row:
        if ratio is not None and at_least is not None:
            target = f">= {at_least:g}x"
            verdict = "met" if ratio >= at_least else f"missed by {1 - ratio / at_least:.0%}"
        elif ratio is not None and at_most is not None:
            target = f"<= {at_most:g}x"
            verdict = "met" if ratio <= at_most else f"missed by {ratio / at_most - 1:.0%}"
        if errors:  # a fast error is no answer: any non-2xx or socket error misses the target
            verdict = f"missed: {errors:,} errors" + (f" (ratio alone: {verdict})" if verdict else "")
        if extra:
            verdict = f"{verdict}; {extra}" if verdict else extra
        row = Row(measure, project, ceiling, ratio, target, verdict)
        self.rows.append(row)
        print(f"  {measure}: {project} | {ceiling} | {fmt_ratio(ratio)} {target} {verdict}", flush=True)
        return row

    def fail(self, phase: str, exc: BaseException) -> None:
        text = f"{phase}: {type(exc).__name__}: {last_lines(str(exc))}"
        self.failures.append(text)
        print(f"  FAILED {text}", flush=True)
        traceback.print_exc()


def last_lines(text: str, n: int = 2) -> str:
    """The end of an error (a child's traceback ends with the exception), on one line."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip() and set(line.strip()) != {"^"}]
    return " / ".join(lines[-n:])[-500:] if lines else "(no message)"


def fmt_ms(ms: float) -> str:
    if ms != ms:  # nan
        return "-"
    return f"{ms:.2f} ms" if ms < 10 else f"{ms:,.0f} ms" if ms < 10_000 else f"{ms / 1000:,.1f} s"


def fmt_ratio(ratio: float | None) -> str:
    return "" if ratio is None else f"{ratio:.2f}x"


def fmt_bytes(n: int) -> str:
    return f"{n:,} B" if n < 10_000 else f"{n / 1024:,.1f} KiB"


# ---------------------------------------------------------------------------------------------
# ceilings that need no server


SQL_TABLE = """CREATE TABLE events (
    position INTEGER PRIMARY KEY, event_id TEXT NOT NULL UNIQUE, stream_id TEXT NOT NULL,
    version INTEGER NOT NULL, type TEXT NOT NULL, schema_version INTEGER NOT NULL,
    data TEXT NOT NULL, actor TEXT NOT NULL, request_id TEXT, causation_id TEXT,
    recorded_at TEXT NOT NULL, hash TEXT NOT NULL, UNIQUE (stream_id, version))"""


def raw_rows(n: int) -> list[tuple]:
    """Rows shaped like the project's events (12 columns, a ~450-byte claim as JSON text)."""
    rng = random.Random(1)
    rows = []
    for i in range(1, n + 1):
        claim = {"type": "claim.submitted", "claim_id": f"C-{i:08d}", "contributor": "Synthetic Contributor 1",
                 "claim": {"kind": "custody", "person": f"P-{i % 27000:08d}", "custody": "prison",
                           "place": f"PL-{rng.randrange(400):08d}", "start": "1937-05", "end": "1939~",
                           "citation": {"source": "S-00000001", "locator": f"p. {rng.randrange(500)}"}},
                 "dates": {"start": {"edtf": "1937-05", "earliest": "1937-05-01", "latest": "1937-05-31"},
                           "end": {"edtf": "1939~", "earliest": "1939-01-01", "latest": "1939-12-31"}}}
        rows.append((i, f"{rng.getrandbits(128):032x}", f"C-{i:08d}", 1, "claim.submitted", 1,
                     json.dumps(claim), "Synthetic Contributor 1", f"bench-{i}", None,
                     "2026-01-01T00:00:00.000000Z", f"{rng.getrandbits(256):064x}"))
    return rows


def raw_sqlite(workdir: Path, rows: int, max_seconds: float) -> dict[str, Any]:
    data = raw_rows(rows)
    insert = f"INSERT INTO events VALUES ({','.join('?' * 12)})"

    def fresh(name: str) -> sqlite3.Connection:
        path = workdir / name
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute(SQL_TABLE)
        return conn

    conn = fresh("raw1.db")
    done = 0
    started = time.perf_counter()
    while done < len(data) and time.perf_counter() - started < max_seconds:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(insert, data[done])
        conn.execute("COMMIT")
        done += 1
    one = done / (time.perf_counter() - started)
    conn.close()

    conn = fresh("rawmany.db")
    started = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(insert, data)
    conn.execute("COMMIT")
    many = len(data) / (time.perf_counter() - started)
    conn.close()
    for name in ("raw1.db", "rawmany.db"):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{workdir / name}{suffix}").unlink(missing_ok=True)
    return {"one_per_txn": one, "one_rows": done, "executemany": many, "many_rows": len(data)}


# ---------------------------------------------------------------------------------------------
# synthetic archives, cached under var/bench/


def synth_archive(cache: Path, events: int, seed: int, timeout: float) -> dict[str, Any]:
    """A `starosta synth` archive of about `events` events: (re)used from the cache, or written.

    The cache directory is keyed on (persons, seed); meta.json is written last, so a run
    stopped half-way is redone. The export file is analysed once (busy person, busiest place
    and its year) and then deleted.
    """
    persons = max(1, round(events / EVENTS_PER_PERSON))
    key = f"synth-p{persons}-s{seed}-{synth_fingerprint()}"
    folder = cache / key
    db, meta_path, export = folder / "archive.db", folder / "meta.json", folder / "archive.jsonl"
    if meta_path.exists() and db.exists():
        meta = json.loads(meta_path.read_text())
        meta["cached"], meta["key"] = True, key
        print(f"  reusing {folder} ({meta['events']:,} events)", flush=True)
        return meta
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    print(f"  writing {key}: starosta synth --persons {persons} --seed {seed} (cached for next runs)", flush=True)
    result = run_bounded([STAROSTA, "synth", "--persons", str(persons), "--seed", str(seed),
                          "--out", str(export), "--load", str(db)], timeout)
    if result["rc"] != 0:
        shutil.rmtree(folder, ignore_errors=True)
        raise RuntimeError(f"starosta synth --persons {persons} failed (rc {result['rc']}"
                           f"{f', stopped after {timeout:.0f} s (--synth-timeout)' if result['timed_out'] else ''}): "
                           f"{(result['stderr'] + result['stdout'])[-1500:]}")
    meta = {"persons": persons, "seed": seed, "key": key, "synth_seconds": result["seconds"],
            "synth_rss_mib": result["rss_mib"], **analyse_export(export),
            "written": dt.datetime.now().isoformat(timespec="seconds"), "export_bytes": export.stat().st_size}
    export.unlink()
    meta_path.write_text(json.dumps(meta, indent=1))
    meta["cached"] = False
    print(f"  wrote {meta['events']:,} events in {result['seconds']:.0f} s", flush=True)
    return meta


def synth_fingerprint() -> str:
    """The generator's own version: a changed service/tools/synth.py writes another archive."""
    import hashlib

    return hashlib.sha256((ROOT / "service" / "tools" / "synth.py").read_bytes()).hexdigest()[:10]


def _year(value: dict | None, *keys: str) -> int | None:
    for key in keys:
        text = (value or {}).get(key)
        if text:
            return int(text[:4])
    return None


def analyse_export(path: Path) -> dict[str, Any]:
    """Read the export (one stored log row per line) for the persons and places to measure.

    Counts, per person, the claims naming it as `person` whose last review left them
    approved; per place, the approved custody claims; and for the busiest place, per year,
    how many of its closed episodes cover that year.
    """
    import msgspec

    class Line(msgspec.Struct):
        type: str
        data: str

    decode_line = msgspec.json.Decoder(Line).decode
    decode = msgspec.json.decode
    person_of: dict[str, str] = {}
    custody: dict[str, tuple[str, int | None, int | None]] = {}
    status: dict[str, str] = {}
    events = 0
    final = {"claim.approved": "approved", "claim.rejected": "rejected", "claim.retracted": "retracted",
             "claim.contested": "contested"}
    with open(path, "rb") as f:
        for raw in f:
            events += 1
            line = decode_line(raw)
            if line.type == "claim.submitted":
                data = decode(line.data)
                claim, dates = data.get("claim") or {}, data.get("dates") or {}
                cid = data.get("claim_id")
                if isinstance(claim.get("person"), str):
                    person_of[cid] = claim["person"]
                if claim.get("kind") == "custody" and isinstance(claim.get("place"), str):
                    custody[cid] = (claim["place"],
                                    _year(dates.get("start"), "earliest", "latest"),
                                    _year(dates.get("end"), "latest", "earliest"))
                status[cid] = "pending"
            elif line.type in final:
                cid = decode(line.data).get("claim_id")
                if cid in status:
                    status[cid] = final[line.type]
    per_person = Counter(p for c, p in person_of.items() if status.get(c) == "approved")
    per_place = Counter(pl for c, (pl, _, _) in custody.items() if status.get(c) == "approved")
    by_count: dict[int, str] = {}
    for person, n in per_person.items():
        by_count.setdefault(n, person)
    place, place_claims = per_place.most_common(1)[0]
    years: Counter[int] = Counter()
    for c, (pl, start, end) in custody.items():
        if pl == place and status.get(c) == "approved" and start and end and end >= start:
            years.update(range(start, end + 1))
    if not years:
        years.update(s for c, (pl, s, _) in custody.items() if pl == place and s)
    year, overlapping = max(years.items(), key=lambda kv: (kv[1], -kv[0]))
    return {"events": events, "persons_by_claims": {str(k): v for k, v in sorted(by_count.items())},
            "busiest_person": per_person.most_common(1)[0][0], "busiest_person_claims": per_person.most_common(1)[0][1],
            "busiest_place": place, "busiest_place_custody_claims": place_claims,
            "year": year, "year_closed_episodes": overlapping}


def person_with(meta: dict[str, Any], claims: int) -> tuple[str, int]:
    """The person of this archive whose approved-claim count is nearest `claims` (ties: more)."""
    counts = {int(k): v for k, v in meta["persons_by_claims"].items()}
    best = min(counts, key=lambda n: (abs(n - claims), -n))
    return counts[best], best


def rebuild(db: Path, events: int, timeout: float) -> dict[str, Any]:
    result = run_bounded([STAROSTA, "rebuild", "--db", str(db)], timeout,
                         env=clean_env(COLUMNS="120", TERM="dumb"))
    if result["timed_out"]:  # stopped: the rate is below events / timeout, and that is the figure
        return {"seconds": result["seconds"], "rate": events / result["seconds"], "rss_mib": result["rss_mib"],
                "models": [], "events": events, "shown": None, "timed_out": True}
    if result["rc"] != 0:
        raise RuntimeError(f"starosta rebuild failed (rc {result['rc']}{', timed out' if result['timed_out'] else ''}): "
                           f"{(result['stderr'] + result['stdout'])[-1500:]}")
    models = re.findall(r"^(\S+) content hash", result["stdout"], re.M)
    shown = re.findall(r"([\d,]+) events/s", result["stdout"])  # the command's own progress figure
    return {"seconds": result["seconds"], "rate": events / result["seconds"], "rss_mib": result["rss_mib"],
            "models": models, "events": events, "shown": int(shown[-1].replace(",", "")) if shown else None,
            "rows": read_model_rows(db), "timed_out": False}


def storage(db: Path) -> dict[str, int]:
    """Bytes of a SQLite archive after a WAL checkpoint: the file, the pages in use (the file less
    its free pages, which a rebuild's dropped tables leave for SQLite to reuse), the log with its
    indexes and the read models' tables with theirs (SQLite's dbstat)."""
    sys.path.insert(0, str(ROOT))
    from starosta.projections.read_models import READ_MODELS

    models = {t for model in READ_MODELS for t in model.ddl}
    with contextlib.closing(sqlite3.connect(str(db))) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page = conn.execute("PRAGMA page_size").fetchone()[0]
        free = conn.execute("PRAGMA freelist_count").fetchone()[0] * page
        owner = dict(conn.execute("SELECT name, tbl_name FROM sqlite_master WHERE type IN ('table', 'index')"))
        sizes: dict[str, int] = defaultdict(int)
        for name, size in conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name"):
            table = owner.get(name, name)
            sizes["log" if table == "events" else "read models" if table in models else "other"] += size
    file = db.stat().st_size
    return {"file": file, "in_use": file - free, "free": free, **sizes}


def read_model_rows(db: Path) -> int:
    """How many rows the read models hold after a rebuild: the rows it wrote (a row written and
    later changed counts once, so this understates the work; the log and the checkpoints are
    not counted)."""
    sys.path.insert(0, str(ROOT))
    from starosta.projections.read_models import READ_MODELS

    tables = [t for model in READ_MODELS for t in model.ddl]
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        present = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        return sum(conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]  # names from code, not input
                   for t in tables if t in present)


# ---------------------------------------------------------------------------------------------
# the measurements


class Bench:
    def __init__(self, args: argparse.Namespace, results: Results, work: Path) -> None:
        self.args, self.results, self.work = args, results, work
        self.ceiling: Server | None = None
        self.es_replay: float | None = None
        self.raw: dict[str, Any] | None = None
        self.bare_post: Load | None = None  # the demo phase's bare POST, the ceiling of the writes phase

    def load(self, url: str, **kwargs: Any) -> Load:
        return wrk(url, self.args.seconds, self.args.connections, warmup=self.args.warmup, **kwargs)

    def pair(self, first: str, second: str, during_second: Callable[[], Any] | None = None,
             **kwargs: Any) -> tuple[Load, Load]:
        """Load two URLs in alternating rounds (first, second, first, ...); the best round of each
        (most requests/s) stands for it, so a burst of other work on the machine costs one round,
        not the comparison. `during_second` gives a context manager held around each second load."""
        a: list[Load] = []
        b: list[Load] = []
        for _ in range(max(1, self.args.rounds)):
            a.append(self.load(first, **kwargs))
            if during_second is None:
                b.append(self.load(second, **kwargs))
            else:
                with during_second():
                    b.append(self.load(second, **kwargs))
        best_a, best_b = max(a, key=lambda x: x.rps), max(b, key=lambda x: x.rps)
        best_a.non2xx, best_a.socket_errors = sum(x.non2xx for x in a), sum(x.socket_errors for x in a)
        best_b.non2xx, best_b.socket_errors = sum(x.non2xx for x in b), sum(x.socket_errors for x in b)
        best_a.requests, best_b.requests = sum(x.requests for x in a), sum(x.requests for x in b)
        best_a.rounds, best_b.rounds = [x.rps for x in a], [x.rps for x in b]
        return best_a, best_b

    def compare_get(self, measure: str, server: Server, path: str, at_least: float | None,
                    during: Callable[[], Any] | None = None, extra: str = "") -> tuple[Load, Load, int, Row]:
        """The project's GET beside the bare GET of a document of the same size."""
        assert self.ceiling is not None
        size = len(get_ok(server.url(path)))
        get_ok(self.ceiling.url(f"/doc/{size}"))  # the ceiling's document built now, before the load
        bare, project = self.pair(self.ceiling.url(f"/doc/{size}"), server.url(path), during_second=during)
        errors = project.non2xx + project.socket_errors
        row = self.results.add(f"{measure} ({fmt_bytes(size)})", project.short(),
                               f"bare GET same size: {bare.short()}", project.rps / bare.rps, at_least=at_least,
                               errors=errors, extra=(f"of {project.requests:,} requests; " if errors else "") + extra)
        return project, bare, size, row

    def profile_http(self, title: str, row: Row, server: Server, path: str, **kwargs: Any) -> None:
        """On a miss (and --profile): the same load again, with py-spy on the server's worker."""
        spy = py_spy()
        if not self.args.profile or not row.verdict.startswith("missed") or not spy:
            return
        seconds, rate = max(2.0, min(self.args.seconds, 10.0)), 100
        raw = self.work / f"profile-{len(self.results.profiles)}.txt"
        try:
            pid = worker_pid(server)
            cmd = ["wrk", "-t2", f"-c{self.args.connections}", f"-d{round(seconds) + 2}s", "--timeout", "30s"]
            if kwargs.get("script"):
                cmd += ["-s", kwargs["script"]]
            with background.paused():  # long commands beside the bench wait, as for any measurement
                load = subprocess.Popen(cmd + [server.url(path)], stdout=subprocess.DEVNULL, cwd=ROOT,
                                        env={**os.environ, **kwargs.get("env", {})}, start_new_session=True)
                CHILDREN.procs.append(load)
                try:
                    time.sleep(1)
                    subprocess.run([spy, "record", "--pid", str(pid), "--duration", str(round(seconds)), "--rate",
                                    str(rate), "--format", "raw", "--threads", "--nonblocking", "-o", str(raw)],
                                   capture_output=True, timeout=seconds + 60, check=True)
                finally:
                    CHILDREN.stop(load)
            self.results.profiles.append(summarize_profile(title, raw, round(seconds), rate))
        except Exception as exc:  # noqa: BLE001 - a profile is a bonus
            self.results.notes.append(f"no profile for {title}: {last_lines(str(exc))}")

    def profile_rebuild(self, db: Path, title: str, took: float) -> None:
        """On a miss (and --profile): 30 s from the middle of another rebuild of the archive (a rate
        that falls as the log grows shows there), under py-spy; the rebuild is stopped after."""
        spy = py_spy()
        if not self.args.profile or not spy:
            return
        seconds, rate = 30, 100
        delay = max(1.0, min(took / 2 - seconds / 2, took - seconds - 2))
        raw = self.work / "profile-rebuild.txt"
        proc = CHILDREN.spawn([STAROSTA, "rebuild", "--db", str(db)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, env=clean_env(TERM="dumb"))
        try:
            time.sleep(delay)
            started = time.perf_counter()
            done = subprocess.run([spy, "record", "--pid", str(proc.pid), "--duration", str(seconds), "--rate",
                                   str(rate), "--format", "raw", "--threads", "--nonblocking", "-o", str(raw)],
                                  capture_output=True, timeout=seconds + 60)
            if not raw.exists():
                raise RuntimeError(done.stderr.decode(errors="replace")[-500:])
            ran = min(seconds, max(1, round(time.perf_counter() - started)))  # less if it ended sooner
            title += f" ({ran} s of it, from {delay:.0f} s after its start)"
            self.results.profiles.append(summarize_profile(title, raw, ran, rate))
        except Exception as exc:  # noqa: BLE001 - a profile is a bonus
            self.results.notes.append(f"no profile for {title}: {last_lines(str(exc))}")
        finally:
            CHILDREN.stop(proc)  # stopped before its swap: the tables in use stay as they were

    # -- ceilings -------------------------------------------------------------------------

    def ceilings(self) -> None:
        r = self.results
        print("ceilings: raw SQLite appends", flush=True)
        try:
            self.raw = raw_sqlite(self.work, self.args.raw_rows, self.args.raw_seconds)
            r.ceilings.append(Row("raw SQLite, one row per transaction, synchronous=FULL (WAL)",
                                  f"{self.raw['one_per_txn']:,.0f} rows/s ({self.raw['one_rows']:,} rows)"))
            r.ceilings.append(Row("raw SQLite, executemany of the same rows in one transaction (FULL, WAL)",
                                  f"{self.raw['executemany']:,.0f} rows/s ({self.raw['many_rows']:,} rows)"))
        except Exception as exc:  # noqa: BLE001
            r.fail("raw SQLite ceiling", exc)
        print("ceilings: the eventsourcing library's replay", flush=True)
        try:
            out = run_bounded([sys.executable, "bench/es_replay.py", "--events", str(self.args.es_events),
                               "--dir", str(self.work)], timeout=900)
            if out["rc"] != 0:
                raise RuntimeError(out["stderr"][-1500:])
            es = json.loads(out["stdout"].strip().splitlines()[-1])
            self.es_replay = es["replay_per_s"]
            rates = es["rates"]
            r.ceilings.append(Row(
                f"eventsourcing {es['version']} replay of its SQLite log ({es['events']:,} events; "
                f"{es['replay_mode']}: the faster honest replay)",
                f"{es['replay_per_s']:,.0f} events/s (notification log decoded into domain events "
                f"{rates['notifications']:,.0f}/s; repository.get {rates['repository']:,.0f}/s; "
                f"rows read, not decoded {rates['rows']:,.0f}/s; its save {es['save_per_s']:,.0f}/s)"))
        except Exception as exc:  # noqa: BLE001
            r.fail("eventsourcing replay ceiling", exc)

    # -- the demo archive -------------------------------------------------------------------

    def demo(self) -> None:
        r, args = self.results, self.args
        db, busy_db = self.work / "demo.db", self.work / "demo-pending.db"
        out = run_bounded([STAROSTA, "demo", "--db", str(db)], timeout=600)
        if out["rc"] != 0:
            raise RuntimeError(f"starosta demo failed: {(out['stderr'] + out['stdout'])[-1500:]}")
        token = self.token(db, "Bench Contributor")
        shutil.copyfile(db, busy_db)  # the same archive, to receive the pending claims
        server = project_server("demo", db, self.work, timeout=120)
        busy: Server | None = None
        try:
            found = json.loads(get_ok(server.url("/persons?q=monclus")))["items"]
            person = next((i["id"] for i in found if "vicente" in json.dumps(i).lower()), found[0]["id"])
            bio = f"/persons/{person}/biography"
            _, _, size, row = self.compare_get("GET biography, Monclús, demo archive", server, bio, 0.8)
            self.profile_http("GET biography, Monclús, demo archive", row, server, bio)
            _, _, _, row = self.compare_get("GET /health, demo archive", server, "/health", 0.9)
            self.profile_http("GET /health, demo archive", row, server, "/health")

            # the same archive in a second server, with pending claims about Monclús
            busy = project_server("demo-pending", busy_db, self.work, timeout=120)
            source = post_ok(busy.url("/sources"), {"csl": {"type": "document",
                             "title": "Benchmark notes (synthetic, not historical)"}}, token)["id"]
            print(f"  submitting {args.pending:,} pending claims about Monclús ({person})", flush=True)
            made, seconds, statuses = self.submit_pending(busy, token, person, source, args.pending,
                                                          args.pending_seconds)
            r.facts["pending"] = {"made": made, "seconds": seconds, "statuses": dict(statuses)}
            if made == 0:
                raise RuntimeError(f"no pending claim was accepted: {dict(statuses)}")
            size_after = len(get_ok(busy.url(bio)))
            none, pending = self.pair(server.url(bio), busy.url(bio))
            errors = pending.non2xx + pending.socket_errors
            r.add(f"GET biography, Monclús, with {made:,} pending claims (of {args.pending:,} asked)",
                  pending.short(), f"the same read with none: {none.short()}", none.rps / pending.rps,
                  at_most=1.2, errors=errors,
                  extra=(f"slowdown shown (req/s with none / with pending); p99 {pending.p99 / none.p99:.2f}x; "
                         f"document {size:,} -> {size_after:,} B; submitted at {made / seconds:,.0f}/s; "
                         "two servers on copies of one archive, read in alternating rounds"))
            busy.stop()
            busy = None

            # POST /claims: a person registered for the purpose
            body = {"kind": "occupation", "person": person, "occupation": "benchmark (synthetic, not historical)",
                    "citation": {"source": source}}
            source = post_ok(server.url("/sources"), {"csl": {"type": "document",
                             "title": "Benchmark notes (synthetic, not historical)"}}, token)["id"]
            body["citation"] = {"source": source}
            try:
                other = post_ok(server.url("/persons"), {"name": "Benchmark Person (synthetic, not historical)",
                                                         "citation": {"source": source}}, token)["id"]
                body["person"] = other
            except Exception as exc:  # noqa: BLE001 - Monclús will do
                r.notes.append(f"POST /persons for the POST benchmark failed ({exc}); claims went to Monclús.")
            env = {"WRK_BODY": json.dumps(body), "WRK_TOKEN": token}
            assert self.ceiling is not None
            bare, post = self.pair(self.ceiling.url("/claims"), server.url("/claims"),
                                   script="bench/post_claim.lua", env=env)
            self.bare_post = bare
            errors = post.non2xx + post.socket_errors
            row = r.add("POST /claims, durable (synchronous=FULL), demo archive", post.short(),
                        f"bare POST into a msgspec Struct: {bare.short()}", post.rps / bare.rps, at_least=0.3,
                        errors=errors, extra=f"{post.non2xx} non-2xx, {post.socket_errors} socket errors "
                                             f"of {post.requests:,} requests (target: zero)")
            if self.raw:
                r.add("POST /claims vs raw SQLite one row per transaction (FULL)", post.short(),
                      f"{self.raw['one_per_txn']:,.0f} rows/s", post.rps / self.raw["one_per_txn"],
                      extra="context: above 1x only by committing many claims per fsync")
            self.profile_http("POST /claims, demo archive", row, server, "/claims", script="bench/post_claim.lua",
                              env=env)
        finally:
            server.stop()
            if busy is not None:
                busy.stop()

    def writes(self) -> None:
        """Issue 25, item 1, by bench/writes.py (which rewrites its own section of the report): the
        writer's time per approval for persons the bench creates with 2,000 and 10,000 claims, and
        `POST /claims` of custody claims about one person in 8 s rounds, as rows of the table."""
        r = self.results
        raw_json, spy_raw = self.work / "writes.json", self.work / "profile-writes.txt"
        cmd = [sys.executable, "bench/writes.py", "--json", str(raw_json), "--out", str(self.args.out),
               "--sizes", self.args.writes_sizes, "--rounds", "5", "--seconds", "8"]
        spy = py_spy() if self.args.profile else None
        if spy:
            cmd += ["--profile", str(spy_raw)]
        with background.paused():  # the writer's times are in-process: nothing else runs meanwhile
            out = run_bounded(cmd, self.args.writes_timeout, env=clean_env(COLUMNS="120", TERM="dumb"))
        if out["rc"] != 0 or out["timed_out"]:
            raise RuntimeError(f"bench/writes.py failed (rc {out['rc']}{', timed out' if out['timed_out'] else ''}): "
                               f"{(out['stderr'] + out['stdout'])[-1500:]}")
        data = json.loads(raw_json.read_text())
        commit_ms = 1000 / self.raw["one_per_txn"] if self.raw else None
        for size in data["sizes"]:
            xs = sorted(size["approve_served"])
            median, p90 = statistics.median(xs) * 1000, xs[int(len(xs) * 0.9)] * 1000
            verdict = "met" if median <= 5 else f"missed by {median / 5 - 1:.0%}"
            which = "the larger subject" if size["size"] == max(x["size"] for x in data["sizes"]) else "the smaller subject"
            r.add(f"approving one claim, {which} ({size['size']:,} approved claims about the person): the writer's "
                  f"time (median of {len(xs)} jobs)", f"{median:.1f} ms (p90 {p90:.1f} ms)",
                  f"raw SQLite one row per transaction (FULL): {commit_ms:.2f} ms" if commit_ms else "",
                  median / commit_ms if commit_ms else None, target="<= 5 ms",
                  verdict=f"{verdict}; in process, as the serving writer commits (bench/writes.py); the document "
                          f"is settled apart: {statistics.median(size['settle']) * 1000:,.0f} ms median per approval")
        rounds = (data.get("served") or {}).get("rounds") or []
        if rounds:
            first, last = rounds[0], rounds[-1]
            shown = ", ".join(f"{x['rps']:,.0f}" for x in rounds)
            project = f"{first['rps']:,.0f} req/s, p99 {fmt_ms(first['p99_ms'])} (first round)"
            bad = sum(x["non2xx"] for x in rounds)
            if self.bare_post is not None:
                r.add("POST /claims, open-ended custody claims about one person, first 8 s round", project,
                      f"bare POST into a msgspec Struct: {self.bare_post.short()}", first["rps"] / self.bare_post.rps,
                      at_least=0.3, errors=bad, extra=f"rounds: {shown} req/s")
            row = r.add("POST /claims, custody claims about one person: last 8 s round / first",
                        f"{last['rps']:,.0f} req/s, p99 {fmt_ms(last['p99_ms'])} ({last['claims_after']:,} claims "
                        "about the person after it)", project, last["rps"] / first["rps"], at_least=0.9,
                        errors=bad, extra=f"rounds: {shown} req/s")
            if spy and spy_raw.exists() and row.verdict.startswith("missed"):
                r.profiles.append(summarize_profile("POST /claims, custody claims about one person (one more round after the measured ones)",
                                                    spy_raw, 6, 100))

    def token(self, db: Path, name: str) -> str:
        out = run_bounded([STAROSTA, "token", "create", "--db", str(db), "--name", name, "--role", "contributor"],
                          timeout=120)
        if out["rc"] != 0:
            raise RuntimeError(f"starosta token create failed: {out['stderr'][-800:]}")
        return out["stdout"].strip().splitlines()[-1].strip()

    def submit_pending(self, server: Server, token: str, person: str, source: str, n: int,
                       max_seconds: float) -> tuple[int, float, Counter]:
        """POST n claims about `person` from 16 threads on keep-alive connections, bounded in time."""
        counter = iter(range(n))
        lock = threading.Lock()
        statuses: Counter[int] = Counter()
        deadline = time.monotonic() + max_seconds
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}

        def worker() -> None:
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
            try:
                while time.monotonic() < deadline:
                    with lock:
                        i = next(counter, None)
                    if i is None:
                        return
                    body = json.dumps({"kind": "occupation", "person": person,
                                       "occupation": f"benchmark pending claim {i} (synthetic, not historical)",
                                       "citation": {"source": source}})
                    try:
                        conn.request("POST", "/claims", body, headers)
                        resp = conn.getresponse()
                        resp.read()
                        code = resp.status
                    except (OSError, http.client.HTTPException):
                        code = 0
                        conn.close()
                        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
                    with lock:
                        statuses[code] += 1
            finally:
                conn.close()

        started = time.perf_counter()
        threads = [threading.Thread(target=worker, daemon=True) for _ in range(self.args.connections)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=max_seconds + 120)
        seconds = time.perf_counter() - started
        made = sum(v for k, v in statuses.items() if 200 <= k < 300)
        return made, seconds, statuses

    # -- one client's floods (bench/load.py, issue 23) ----------------------------------------

    def floods(self) -> None:
        module = load_load()
        section = module.measure(self.args, self.work)
        self.results.facts["load_section"] = section
        self.results.failures += [f"load: {x}" for x in section.failures]

    # -- PostgreSQL: one and two servers beside SQLite (bench/postgres.py) -----------------

    def postgres(self) -> None:
        pg = load_postgres()
        ok, why = pg.binaries_present()
        if not ok:
            self.results.facts["postgres_skipped"] = why
            print(f"  skipped: {why}", flush=True)
            return
        section = pg.measure(self.args, self.work)
        self.results.facts["postgres_section"] = section
        sq, p1 = section.results.get(("GET biography", "sqlite")), section.results.get(("GET biography", "pg1"))
        if sq is not None and p1 is not None and sq.load.rps:
            self.results.add("GET biography on PostgreSQL, one server / SQLite, one server (Monclús, demo archive)",
                             p1.load.short(), f"SQLite: {sq.load.short()}", p1.load.rps / sq.load.rps,
                             at_least=0.7, extra="measured in alternating rounds by bench/postgres.py (its section below)")
        self.results.failures += [f"postgres: {x}" for x in section.failures]
        self.results.failures += [f"postgres check: {x}" for x in section.checks]

    # -- synthetic archives -----------------------------------------------------------------

    def synthetic(self) -> None:
        r, args = self.results, self.args
        archives: dict[str, dict[str, Any]] = {}
        sizes = [("small", args.small_events), ("large", args.events)]
        if args.events // 10 >= 2 * args.small_events:  # a third point: is memory flat, is the rate linear
            sizes.insert(1, ("medium", args.events // 10))
        for label, events in sizes:
            print(f"synthetic archive, {label} (~{events:,} events)", flush=True)
            try:
                archives[label] = synth_archive(args.cache, events, args.seed, timeout=args.synth_timeout)
            except Exception as exc:  # noqa: BLE001 - measure what the others allow
                r.fail(f"writing the {label} synthetic archive (~{events:,} events)", exc)
        r.facts["archives"] = archives

        def db_of(meta: dict[str, Any]) -> Path:
            return args.cache / meta["key"] / "archive.db"

        # rebuilds first: they also bring every read model up to the current code's version
        rebuilt: dict[str, dict[str, Any]] = {}
        for label, meta in archives.items():
            try:
                print(f"  starosta rebuild ({meta['events']:,} events)", flush=True)
                rebuilt[label] = rebuild(db_of(meta), meta["events"], timeout=args.rebuild_timeout)
            except Exception as exc:  # noqa: BLE001
                r.fail(f"rebuild of the {label} archive", exc)
        r.facts["rebuilds"] = rebuilt
        order = [label for label in ("small", "medium", "large") if label in rebuilt]
        if len(order) > 1 or order == ["large"]:  # the largest rebuilt archive is the one measured
            top = order[-1]
            below = rebuilt[order[-2]] if len(order) > 1 else None
        # storage before the rows of the rebuild: a miss there profiles another rebuild of the same
        # archive, stopped after 30 s, whose shadow tables would count as pages in use
        if order and archives[order[-1]].get("export_bytes"):
            self.storage_rows(archives[order[-1]], db_of(archives[order[-1]]))
        if len(order) > 1 or order == ["large"]:
            self.rebuild_rows(archives[top], db_of(archives[top]), rebuilt[top], below, rebuilt)
        if len(order) > 1:
            big, ref = rebuilt[order[-1]], rebuilt[order[-2]]
            trend = ", ".join(f"{rb['rss_mib']:,.0f} MiB at {rb['events']:,}" for rb in rebuilt.values())
            r.add(f"rebuild peak RSS at {big['events']:,} vs {ref['events']:,} events",
                  f"{big['rss_mib']:,.0f} MiB", f"{ref['rss_mib']:,.0f} MiB", big["rss_mib"] / ref["rss_mib"],
                  at_most=1.25,
                  extra=f"flat = at most 1.25x for {big['events'] / ref['events']:,.0f}x the events; {trend}"
                        + ("; the larger rebuild was stopped before its end" if big["timed_out"] else ""))

        served = {label: meta for label, meta in archives.items() if label in ("small", "large")}
        if "large" not in archives and "medium" in archives:  # the next best stand-in, named by its size
            served["large"] = archives["medium"]
            r.notes.append(f"The large archive could not be used: its rows are measured on the medium one "
                           f"({archives['medium']['events']:,} events), as each row says.")
        target_claims = min(m["busiest_person_claims"] for m in served.values()) if served else 0
        loads: dict[str, Load] = {}
        for label, meta in served.items():
            person, n = person_with(meta, target_claims)
            try:
                server = project_server(f"synth-{label}", db_of(meta), self.work, timeout=args.start_timeout)
            except Exception as exc:  # noqa: BLE001
                r.fail(f"serving the {label} synthetic archive", exc)
                continue
            try:
                try:
                    title = f"GET biography, busy person ({n} approved claims), {meta['events']:,}-event archive"
                    path = f"/persons/{person}/biography"
                    loads[label], _, _, row = self.compare_get(title, server, path, 0.8 if label == "large" else None)
                    self.profile_http(title, row, server, path)
                except Exception as exc:  # noqa: BLE001
                    r.fail(f"biography on the {label} archive", exc)
                if label == "large":
                    self.population(server, meta)
            finally:
                server.stop()
        if "small" in loads and "large" in loads:
            big, little = served["large"], served["small"]
            r.add(f"biography p99 at {big['events']:,} vs at {little['events']:,} events",
                  fmt_ms(loads["large"].p99), fmt_ms(loads["small"].p99), loads["large"].p99 / loads["small"].p99,
                  at_most=1.5)

    def rebuild_rows(self, large: dict[str, Any], db: Path, rb: dict[str, Any], below: dict[str, Any] | None,
                     every: dict[str, dict[str, Any]]) -> None:
        r = self.results
        models = ", ".join(rb["models"]) or "?"
        # the rate of the replay itself: the extra events of the large archive over the extra time
        # they took (the fixed start-up, the same for both, cancels out)
        rate, how, bound = rb["rate"], "wall time of the command, start-up included", ""
        if rb["timed_out"]:
            bound = "< "
            how = (f"stopped after {rb['seconds']:.0f} s (--rebuild-timeout): the rate is below this bound; "
                   f"peak RSS {rb['rss_mib']:,.0f} MiB when stopped")
        elif below and not below["timed_out"] and rb["seconds"] > below["seconds"]:
            rate = (rb["events"] - below["events"]) / (rb["seconds"] - below["seconds"])
            how = (f"marginal rate: {rb['events'] - below['events']:,} more events in "
                   f"{rb['seconds'] - below['seconds']:.1f} s more than the {below['events']:,}-event rebuild; "
                   f"whole command {rb['rate']:,.0f} events/s in {rb['seconds']:.1f} s, start-up included")
        if len(every) > 1:
            how += "; whole command at each size: " + ", ".join(
                f"{x['events']:,} in {x['seconds']:.1f} s{' (stopped)' if x['timed_out'] else ''}"
                for x in every.values())
        r.facts["rebuild_rate"] = rate
        name = f"starosta rebuild, every read model ({len(rb['models'])}: {models}), {large['events']:,} events"
        row = r.add(name, f"{bound}{rate:,.0f} events/s", f"issue 25's floor: {REBUILD_FLOOR:,} events/s",
                    rate / REBUILD_FLOOR, at_least=1.0, extra=how)
        if row.verdict.startswith("missed"):
            self.profile_rebuild(db, f"starosta rebuild, {large['events']:,}-event archive", rb["seconds"])
        if self.es_replay:
            r.add("starosta rebuild vs the eventsourcing library's replay", f"{bound}{rate:,.0f} events/s",
                  f"eventsourcing replay: {self.es_replay:,.0f} events/s", rate / self.es_replay,
                  extra="context: reading and decoding a log, no read model written")
        if self.raw and rb.get("rows"):
            rows_rate = rb["rows"] / rb["seconds"]
            r.add("starosta rebuild: read-model rows written per second vs raw SQLite executemany (one transaction)",
                  f"{bound}{rows_rate:,.0f} rows/s ({rb['rows']:,} rows in {rb['seconds']:.1f} s, start-up included)",
                  f"{self.raw['executemany']:,.0f} rows/s", rows_rate / self.raw["executemany"], at_least=0.5,
                  extra="rows counted in the read models' tables after the rebuild (a row rewritten counts once)")

    def storage_rows(self, meta: dict[str, Any], db: Path) -> None:
        """Issue 25: the whole SQLite file against the JSONL export of the same archive (<= 1.5x),
        the log with its indexes against it (<= 1.0x); the read models' share as context."""
        r = self.results
        try:
            size, export = storage(db), meta["export_bytes"]
        except Exception as exc:  # noqa: BLE001
            r.fail("storage of the large archive", exc)
            return
        mib = 1024 * 1024
        r.add(f"storage: the SQLite archive / its JSONL export, {meta['events']:,} events",
              f"{size['in_use'] / mib:,.0f} MiB in use (file {size['file'] / mib:,.0f} MiB, of which "
              f"{size['free'] / mib:,.0f} MiB free pages left by the rebuild's dropped tables)",
              f"export {export / mib:,.0f} MiB", size["in_use"] / export, at_most=1.5)
        r.add(f"storage: the log with its indexes / the JSONL export, {meta['events']:,} events",
              f"{size['log'] / mib:,.0f} MiB", f"export {export / mib:,.0f} MiB", size["log"] / export, at_most=1.0)
        r.add(f"storage: the read models with their indexes / the JSONL export, {meta['events']:,} events",
              f"{size['read models'] / mib:,.0f} MiB", f"export {export / mib:,.0f} MiB",
              size["read models"] / export, extra="context: the rest of the file")

    def population(self, server: Server, meta: dict[str, Any]) -> None:
        r = self.results
        place, year = meta["busiest_place"], meta["year"]
        path = f"/places/{place}/population?at={year}"
        try:
            started = time.perf_counter()
            get_ok(server.url(path))
            first = (time.perf_counter() - started) * 1000
            with HealthProbe(server, max_seconds=5) as idle:
                time.sleep(min(3.0, self.args.seconds))
            probes: list[HealthProbe] = []

            def probe() -> HealthProbe:  # a second client, held around each population load
                probes.append(HealthProbe(server, max_seconds=self.args.seconds + self.args.warmup + 30))
                return probes[-1]

            title = (f"GET population at {year}, busiest place ({meta['busiest_place_custody_claims']:,} approved "
                     f"custody claims, {meta['year_closed_episodes']:,} closed episodes cover {year}), "
                     f"{meta['events']:,}-event archive")
            project, _, _, row = self.compare_get(title, server, path, 0.5, during=probe,
                                                  extra=f"first read {fmt_ms(first)}")
            h, i = HealthProbe.combined(probes), idle.summary()
            met = h["n"] > 0 and h["errors"] == 0 and h["p99"] <= project.p99
            r.add("GET /health every 20 ms (a second client) while the population read is under load",
                  f"p50 {fmt_ms(h['p50'])}, p99 {fmt_ms(h['p99'])}, max {fmt_ms(h['max'])} ({h['n']} reads, "
                  f"{h['errors']} errors)",
                  f"population p50 {fmt_ms(project.p50)}, p99 {fmt_ms(project.p99)}; /health idle p99 {fmt_ms(i['p99'])}",
                  h["p99"] / project.p99 if h["n"] and project.p99 else None,
                  target="no request waits behind it: /health p99 <= the population read's p99, no errors",
                  verdict="met" if met else "missed")
            self.profile_http(f"GET population at {year}, {meta['events']:,}-event archive", row, server, path)
        except Exception as exc:  # noqa: BLE001
            r.fail("population on the large archive", exc)


# ---------------------------------------------------------------------------------------------
# the report


def machine() -> dict[str, str]:
    model = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    from importlib.metadata import PackageNotFoundError, version

    def v(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "-"

    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split("\n")[0].strip()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True,
                           cwd=ROOT).stdout.strip()
    mem = ""
    try:
        kib = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        mem = f", {kib / 2**20:.0f} GiB RAM"
    except (OSError, AttributeError):
        pass
    return {"cpus": str(os.cpu_count()), "nproc": subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip(),
            "cpu": model, "mem": mem, "python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
            "kernel": platform.release(),
            "versions": ", ".join(f"{n} {v(n)}" for n in ("granian", "litestar", "msgspec", "eventsourcing")),
            "wrk": wrk_version, "commit": commit + (" (with uncommitted changes in the tree)" if dirty else "")}


def cell(text: str) -> str:
    return text.replace("|", "\\|")


REBUILD_FLOOR = 40_000  # events/s at 1M events (issue 25)


# The regression flag: each row's ratio beside the same row's in the report being replaced.
REGRESSION = 0.20  # worse by more than this share of the previous ratio: flagged (run-to-run noise
#                    on this shared 2-core machine is about 10-15% for req/s ratios)


# What would close a missed target, by the start of its row (first match wins): the reading of the
# profiles of issue 25's runs, kept here so that every report says it beside the miss.
CLOSERS: list[tuple[str, str]] = [
    ("GET biography on PostgreSQL", "the server reads the stored document through `PostgresReader` (libpq, "
     "prepared statements, the document fetched only when its ETag changed); what is left is one round "
     "trip to PostgreSQL per request for the ETag, in a reader thread, with PostgreSQL on the same 2 cores. "
     "Keeping the ETag on the loop, invalidated by the live feed's notifications (LISTEN), would remove it."),
    ("GET biography", "the document is already stored and served by the lean path (no Litestar "
     "machinery); what is left per request is the hop to a reader thread and back "
     "(`archive.run_read(biographies.stored)`) and its SQLite read. A document kept on the event loop, "
     "checked against the log's head and the settler's generation (both in memory), would answer "
     "without leaving the loop."),
    ("GET /health", "the lean path answers it without Litestar; what is left is granian's ASGI bridge "
     "shared with the server's other threads."),
    ("GET population", "the answer is a stored period (a lookup of one row) served by the lean path; what "
     "is left is, as for the biography, the reader-thread hop per request; months are smaller documents "
     "with the same fixed cost, so they sit a little lower."),
    ("POST /claims, durable", "the writer thread shares the GIL with the event loop: per request the access "
     "check (`access.resolve`), the registry's existence checks and the claim's decoding run on the loop, "
     "the append and the read models' `apply` in the writer. Moving the writer (group commit and read "
     "models) into its own process, the expensive lane of issue 23, would give the loop a core."),
    ("POST /claims, open-ended custody", "as for the occupation claim (one writer sharing the GIL with the "
     "loop), plus the open bound of the person's custody episodes kept in population."),
    ("POST /claims, custody claims about one person: last", "the rounds slow as the person's open-ended "
     "episodes grow: population's `update_open_bounds` reads the person's open episodes through the "
     "partial index `_open` on every approval and custody submission; keeping the person's latest open "
     "bound in one row (a running maximum, changed only when a claim moves it) would make it constant."),
    ("starosta rebuild: read-model rows", "claims, its indexes and search write each event's rows with "
     "`executemany`, but one event at a time; registry, ledger and biographies a statement per row. Folding "
     "a batch per claim in memory and writing each table once per batch would approach raw executemany."),
    ("starosta rebuild", "only population applies a batch with set-based SQL (`apply_batch`); the other "
     "read models apply one event at a time through the runner's default `apply_batch`, claims and its "
     "indexes with several statements per event (most of the profile), and the six read models run one "
     "after another in one process. What would close it: a batch folded per claim in memory and written "
     "with `executemany`; a claim-membership table instead of per-event index updates; read models that "
     "do not depend on each other built by separate processes (PostgreSQL; SQLite's one writer in turns)."),
    ("storage: the SQLite archive", "the read models copy what the log holds: claims keeps every claim's "
     "text columns and search's `name_grams` keeps a row per gram and name with two indexes. Keeping "
     "claims to keys and computed bounds (text read from the log by position) and search on a "
     "contentless FTS5 trigram index would bring the file under 1.5x (see the dbstat table of "
     "`make bench-scale`)."),
    ("storage: the log", "the log stores each payload as JSON text beside its hash chain; compressing "
     "payloads (zlib, as the stored biographies) would bring it under 1.0x."),
]


def what_closes(measure: str) -> str:
    """What would close the miss of a row (CLOSERS), or a plain note that nothing is recorded."""
    for start, text in CLOSERS:
        if measure.startswith(start):
            return text
    return "not analysed in this run: see its profile above, if taken."


def row_key(measure: str) -> str:
    """What identifies a row from one run to the next: its measure without the figures that
    vary with the archive (sizes in parentheses, counts, event totals)."""
    text = re.sub(r"\([^)]*\)", "", measure)
    text = re.sub(r"\d[\d,.]*", "N", text)
    return re.sub(r"\s+", " ", text).strip().lower()


def previous_ratios(path: Path) -> dict[str, float]:
    """The ratio of every row of the report at `path` (its Targets table), by `row_key`; empty
    when there is no report."""
    try:
        text = path.read_text()
    except OSError:
        return {}
    out: dict[str, float] = {}
    inside = False
    for line in text.splitlines():
        if line.startswith("## Targets"):
            inside = True
            continue
        if inside and line.startswith("## "):
            break
        if not inside or not line.startswith("| ") or line.startswith("| ---") or line.startswith("| measure"):
            continue
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        if len(cells) >= 4 and cells[3].endswith("x"):
            try:
                out[row_key(cells[0].replace("\\|", "|"))] = float(cells[3][:-1])
            except ValueError:
                continue
    return out


def regression(row: "Row", previous: dict[str, float], share: float = REGRESSION) -> str:
    """The regression flag of `row` against the previous run's ratio of the same row: "" when
    there is none to compare; "regressed" when the ratio moved the wrong way (down for a
    ">= " target, up for a "<= " target; down when the row has no target) by more than `share`."""
    before = previous.get(row_key(row.measure))
    if row.ratio is None or before is None or before == 0:
        return ""
    change = row.ratio / before - 1
    lower_is_better = row.target.startswith("<=")
    worse = change > share if lower_is_better else change < -share
    text = f"{before:.2f}x ({change:+.0%})"
    return f"**regressed**: {text}" if worse else text


def write_report(path: Path, args: argparse.Namespace, results: Results, info: dict[str, str],
                 started: float, load_before: tuple, load_after: tuple) -> None:
    previous = previous_ratios(path)
    found = re.search(r"on (\d{4}-\d\d-\d\d \d\d:\d\d)", path.read_text()[:400]) if path.exists() else None
    previous_date = found.group(1) if found else "none"
    lines = [
        "# Benchmarks: the project beside its ceilings",
        "",
        f"Written by `make bench` (`bench/run.py`) on {dt.datetime.now().strftime('%Y-%m-%d %H:%M')}, "
        f"in {(time.perf_counter() - started) / 60:.1f} minutes.",
        "",
        f"- Machine: {info['nproc']} cores (nproc), {info['cpu']}{info['mem']}, Linux {info['kernel']}; "
        f"load average {load_before[0]:.2f} before, {load_after[0]:.2f} after (other work on the machine "
        "moves every figure: compare ratios, measured minutes apart in one run).",
        f"- Python {info['python']}, SQLite {info['sqlite']}, {info['versions']}, {info['wrk']}; commit {info['commit']}.",
        f"- HTTP: wrk -t2 -c{args.connections}, {args.seconds:g} s per measurement after a {args.warmup:g} s warm-up, "
        f"{args.rounds} alternating rounds per comparison (ceiling, project, ceiling, project, ...), the best round of each "
        "side kept (the others are shown as rounds), "
        "on the same cores as the server; project served by `starosta serve` (granian, one worker, uvloop, "
        "synchronous=FULL), the ceiling by `bench/ceiling_app.py` under the same granian settings. "
        "A ratio is project / ceiling of req/s unless the row says otherwise.",
        f"- Command: `{' '.join(['python bench/run.py', *sys.argv[1:]])}`; synthetic archives written by "
        f"`starosta synth`, cached under var/bench/ keyed on persons, seed and service/tools/synth.py.",
        "",
        "## Targets (issues 8 and 25)",
        "",
        f"The last column is the same row's ratio in the report this one replaced (its date: {previous_date}), "
        f"flagged **regressed** when the ratio moved the wrong way by more than {REGRESSION:.0%}.",
        "",
        "| measure | project | ceiling or reference | ratio | target | verdict | previous run |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in results.rows:
        lines.append(f"| {cell(row.measure)} | {cell(row.project)} | {cell(row.ceiling)} | {fmt_ratio(row.ratio)} | "
                     f"{row.target} | {cell(row.verdict)} | {regression(row, previous) or '-'} |")
    if results.ceilings:
        lines += ["", "## Ceilings without a server", "", "| ceiling | figure |", "| --- | --- |"]
        lines += [f"| {cell(row.measure)} | {cell(row.project)} |" for row in results.ceilings]
    archives = results.facts.get("archives")
    if archives:
        lines += ["", "## Synthetic archives (cached under var/bench/)", ""]
        for label, meta in archives.items():
            lines.append(f"- {label}: `starosta synth --persons {meta['persons']} --seed {meta['seed']}`, "
                         f"{meta['events']:,} events, written in {meta['synth_seconds']:.0f} s "
                         f"(peak RSS {meta['synth_rss_mib']:,.0f} MiB){' (reused from the cache)' if meta.get('cached') else ''}; "
                         f"busiest place {meta['busiest_place']} ({meta['busiest_place_custody_claims']:,} approved custody claims), "
                         f"most approved claims about one person: {meta['busiest_person_claims']}.")
    if results.profiles:
        lines += ["", "## Where the time goes on a miss (py-spy on the server's worker, the same load again)", ""]
        for profile in results.profiles:
            lines += profile.lines()
    missed = [row for row in results.rows if row.verdict.startswith("missed")]
    if missed:
        lines += ["", "## What would close each miss (notes kept in bench/run.py's CLOSERS, read from the profiles)", ""]
        lines += [f"- **{row.measure}**: {what_closes(row.measure)}" for row in missed]
    lines += postgres_lines(path, args, results, info)
    lines += load_lines(path, args, results)
    lines += kept_lines(path)
    lean = load_module("bench_lean", "lean.py").existing_section(path)  # bench/lean.py's, kept
    lines += [""] + lean if lean else []
    if results.failures:
        lines += ["", "## Not measured in this run", ""]
        lines += [f"- {cell(f)}" for f in results.failures]
    lines += ["", "## Notes", ""]
    lines += [f"- {n}" for n in results.notes] or ["- (none)"]
    path.write_text("\n".join(lines) + "\n")


def postgres_lines(path: Path, args: argparse.Namespace, results: Results, info: dict[str, str]) -> list[str]:
    """The PostgreSQL section: this run's, else the one of the report being replaced (it carries its
    own date and commit), with a note saying why."""
    pg = load_postgres()
    section = results.facts.get("postgres_section")
    if section is not None:
        return [""] + pg.render(section, args, info, " ".join(["python bench/run.py", *sys.argv[1:]]))
    why = results.facts.get("postgres_skipped") or "left out with --skip postgres"
    old = pg.existing_section(path)
    if old:
        results.notes.append(f"The PostgreSQL section was not measured in this run ({why}): it is the one of an "
                             "earlier run, dated in its first line.")
        return [""] + old
    results.notes.append(f"The PostgreSQL section was not measured: {why}.")
    return []


def load_lines(path: Path, args: argparse.Namespace, results: Results) -> list[str]:
    """The load section (bench/load.py): this run's, else the one of the report being replaced
    (it carries its own date and commit)."""
    module = load_load()
    section = results.facts.get("load_section")
    if section is not None:
        return [""] + module.render(section, args, module.machine(),
                                    " ".join(["python bench/run.py", *sys.argv[1:]]))
    old = module.existing_section(path)
    if old:
        results.notes.append("The load section (bench/load.py) was not measured in this run: it is the one "
                             "of the previous report, with its own date and commit.")
        return [""] + old
    return []


def kept_lines(path: Path) -> list[str]:
    """The sections of the benches run apart (bench/writes.py, pages.py, rebuild.py,
    population.py, scale.py) in the report
    being replaced, kept as they were (each carries its own date and commit)."""
    import sections

    lines: list[str] = []
    for name, filename in (("bench_writes", "writes.py"), ("bench_pages", "pages.py"),
                           ("bench_rebuild", "rebuild.py"), ("bench_population", "population.py"),
                           ("bench_scale", "scale.py")):
        module = load_module(name, filename)
        old = sections.existing(path, module.BEGIN, module.END)
        if old:
            lines += [""] + old
    return lines


# ---------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5, help="wrk duration per measurement (default 5)")
    parser.add_argument("--warmup", type=float, default=1, help="wrk warm-up before each (default 1 s; 0: none)")
    parser.add_argument("--rounds", type=int, default=2,
                        help="alternating rounds per comparison, the best of each side kept (default 2)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    parser.add_argument("--events", type=int, default=1_000_000, help="size of the large synthetic archive")
    parser.add_argument("--small-events", type=int, default=10_000, help="size of the small synthetic archive")
    parser.add_argument("--seed", type=int, default=1, help="synthetic archive seed (default 1)")
    parser.add_argument("--pending", type=int, default=10_000, help="pending claims about Monclús (default 10000)")
    parser.add_argument("--pending-seconds", type=float, default=300, help="time bound on submitting them")
    parser.add_argument("--es-events", type=int, default=200_000, help="events in the eventsourcing log")
    parser.add_argument("--raw-rows", type=int, default=200_000, help="rows for the executemany ceiling")
    parser.add_argument("--raw-seconds", type=float, default=5, help="time bound on one-row-per-transaction")
    parser.add_argument("--synth-timeout", type=float, default=600,
                        help="time bound on writing an archive (default 600 s; the first run writes them)")
    parser.add_argument("--rebuild-timeout", type=float, default=900,
                        help="time bound on a rebuild (default 900 s; a stopped one reports a rate bound)")
    parser.add_argument("--writes-sizes", default="2000,10000",
                        help="claims about the person whose approvals are timed (default 2000,10000)")
    parser.add_argument("--writes-timeout", type=float, default=1200,
                        help="time bound on bench/writes.py (default 1200 s)")
    parser.add_argument("--start-timeout", type=float, default=300,
                        help="time bound on a server's start (it may rebuild read models whose version changed)")
    parser.add_argument("--cache", type=Path, default=ROOT / "var" / "bench", help="where archives are cached")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "RESULTS.md", help="the report")
    parser.add_argument("--no-profile", dest="profile", action="store_false",
                        help="no py-spy profile of a missed target (profiles run after the measurement)")
    parser.add_argument("--skip", action="append", default=[],
                        choices=["ceilings", "demo", "postgres", "synthetic", "writes", "load"],
                        help="leave a phase out (repeatable)")
    parser.add_argument("--only", choices=["postgres", "load"],
                        help="measure only this phase and rewrite only its section of the report "
                             "(postgres: bench/postgres.py, with the SQLite rows it compares with; "
                             "load: bench/load.py, /health and search under one client's floods)")
    load_load().add_arguments(parser)
    args = parser.parse_args()
    if args.only == "postgres":
        return load_postgres().run_alone(args, " ".join(["python bench/run.py", *sys.argv[1:]]))
    if args.only == "load":
        return load_load().run_alone(args, " ".join(["python bench/run.py", *sys.argv[1:]]))

    if not have_wrk():
        return 2
    if not Path(STAROSTA).exists():
        print(f"{STAROSTA} not found: run `make setup` first", file=sys.stderr)
        return 2
    stop_on_sigterm()
    started = time.perf_counter()
    load_before = os.getloadavg()
    info = machine()
    args.cache.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="run-", dir=args.cache))
    results = Results()
    bench = Bench(args, results, work)
    print(f"bench: {info['nproc']} cores, {info['cpu']}; load {load_before[0]:.2f}; work files in {work}", flush=True)
    try:
        try:
            bench.ceiling = ceiling_server(work)
        except Exception as exc:  # noqa: BLE001 - the phases without HTTP still run
            results.fail("starting the ceiling server", exc)
        phases: list[tuple[str, Callable[[], None]]] = [
            ("ceilings", bench.ceilings), ("demo", bench.demo), ("postgres", bench.postgres),
            ("synthetic", bench.synthetic), ("writes", bench.writes), ("load", bench.floods)]
        for name, phase in phases:
            if name in args.skip:
                continue
            print(f"== {name}", flush=True)
            try:
                phase()
            except KeyboardInterrupt:
                raise
            except Exception as exc:  # noqa: BLE001 - record it, go on with the next phase
                results.fail(name, exc)
    except KeyboardInterrupt as exc:
        results.failures.append(f"interrupted ({exc}); the table holds what was measured before")
    finally:
        CHILDREN.stop_all()
        shutil.rmtree(work, ignore_errors=True)
        results.notes[:0] = notes_for(results)
        write_report(args.out, args, results, info, started, load_before, os.getloadavg())
        print(f"wrote {args.out} ({(time.perf_counter() - started) / 60:.1f} min)", flush=True)
    return 1 if results.failures else 0


def notes_for(results: Results) -> list[str]:
    missed = [r for r in results.rows if r.verdict.startswith("missed")]
    met = [r for r in results.rows if r.verdict.startswith("met")]
    notes = [f"{len(met)} targets met, {len(missed)} missed in this run."
             + (" Missed: " + "; ".join(f"{r.measure} ({fmt_ratio(r.ratio) or r.project}, {r.target or r.verdict})"
                                        for r in missed) + "." if missed else "")]
    if missed and not results.profiles:
        notes.append("No profile was taken (--no-profile, or py-spy missing: it comes with the bench extra).")
    return notes


if __name__ == "__main__":
    sys.exit(main())
