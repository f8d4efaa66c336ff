"""The PostgreSQL section of bench/RESULTS.md (issue 12, "Bench"): POST /claims and GET biography
on PostgreSQL with one and with two `starosta serve` processes on one database, beside SQLite
measured in the same run.

    python bench/postgres.py                    # alone: rewrites only this section of RESULTS.md
    python bench/run.py --only postgres         # the same through run.py
    make bench                                  # the full run includes it (when PostgreSQL's
                                                # server binaries are installed)

What runs: a throwaway PostgreSQL cluster (tests/postgres.py: Debian's initdb and pg_ctl, on a
free port of 127.0.0.1, stopped and removed at the end), one fresh migrated archive in it and
one SQLite file, each loaded by `starosta demo`; one `starosta serve` on the SQLite file and two
on the PostgreSQL database. Rows, each measured in alternating rounds (SQLite, PostgreSQL one
server, PostgreSQL two servers, again ...; the best round of each kept, every round shown):

  GET /persons/{Monclús}/biography, then POST /claims (bench/post_claim.lua: one occupation
  claim per request about a person registered for the purpose, the demo contributor's token)

  one server   wrk -t2 -c16 on it (the second PostgreSQL server idle)
  two servers  two wrk processes at once, one per server (-t1 -c8 each): req/s summed, every
               latency the worse of the two, non-2xx and socket errors summed

After the POST rounds: `starosta verify` on each database (the chain intact, its event count),
both PostgreSQL servers asked for their head, and the events added compared with the 2xx
answers wrk counted (an acknowledged write that is missing would show as fewer events).
CPU time of the servers, the PostgreSQL processes, wrk and the whole machine is sampled around
every measured run from /proc: on 2 cores they all share, it says where the cores went.

Every server runs in its own process group under `timeout` (bounded even if this process is
killed), and is stopped by that group's id in a finally block; the cluster is stopped after it.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime as dt
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if str(Path(__file__).resolve().parent) not in sys.path:  # bench/ is no package
    sys.path.insert(0, str(Path(__file__).resolve().parent))
import sections  # noqa: E402  (bench/sections.py: the report's sections)

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
if str(ROOT) not in sys.path:  # tests/postgres.py, the throwaway cluster
    sys.path.insert(0, str(ROOT))




run = sections.bench_run()

BEGIN = ("<!-- bench/postgres.py: begin (`python bench/run.py --only postgres` rewrites only "
         "what lies between these two lines) -->")
END = "<!-- bench/postgres.py: end -->"
TITLE = "## PostgreSQL: one and two servers on one database, beside SQLite (issue 12)"
TOKEN = "demo-contributor-token"  # service/tools/demo/load.py DEMO_TOKENS
CLK_TCK = os.sysconf("SC_CLK_TCK")
CONFIGS = (("sqlite", "SQLite, one server"), ("pg1", "PostgreSQL, one server"),
           ("pg2", "PostgreSQL, two servers"))


def binaries_present() -> tuple[bool, str]:
    """Whether the section can run here: psycopg and PostgreSQL's server binaries."""
    try:
        from tests.postgres import INSTALL_HINT, server_binaries
    except ImportError as exc:
        return False, f"tests/postgres.py could not be imported ({exc})"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return False, "psycopg is not installed (pip install -e '.[test]')"
    if server_binaries() is None:
        return False, INSTALL_HINT
    return True, ""


# ---------------------------------------------------------------------------------------------
# CPU time, from /proc, around each measured run


def _stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _ticks(fields: list[str]) -> int:
    return int(fields[11]) + int(fields[12])  # utime + stime (fields 14 and 15 of stat)


def group_ticks(pgid: int) -> int:
    """CPU ticks of the live processes of a process group."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        fields = _stat(int(stat.parent.name))
        if fields and fields[2] == str(pgid):
            total += _ticks(fields)
    return total


def cluster_ticks(postmaster: int) -> int:
    """CPU ticks of a PostgreSQL cluster: the postmaster and its children (backends, the WAL
    writer, the checkpointer, ...)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        pid = int(stat.parent.name)
        fields = _stat(pid)
        if fields and (pid == postmaster or fields[1] == str(postmaster)):
            total += _ticks(fields)
    return total


def machine_busy_ticks() -> int:
    """Non-idle ticks of every core (the first line of /proc/stat, idle and iowait left out)."""
    values = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(values) - values[3] - (values[4] if len(values) > 4 else 0)


@dataclass
class Cpu:
    """Cores busy during one measured run (1.0 = one core), by who."""

    servers: float = 0.0
    postgres: float = 0.0
    wrk: float = 0.0
    machine: float = 0.0

    def short(self, with_postgres: bool) -> str:
        parts = [f"servers {self.servers:.0%}"]
        if with_postgres:
            parts.append(f"PostgreSQL {self.postgres:.0%}")
        parts.append(f"wrk {self.wrk:.0%}")
        other = self.machine - self.servers - self.postgres - self.wrk
        parts.append(f"anything else {max(0.0, other):.0%}")
        return ", ".join(parts) + f" (machine {self.machine:.0%} of {100 * (os.cpu_count() or 2)}%)"


class CpuMeter:
    def __init__(self, server_groups: list[int], postmaster: int | None) -> None:
        self.groups, self.postmaster = server_groups, postmaster

    def snapshot(self) -> tuple[float, int, int, float, int]:
        children = resource.getrusage(resource.RUSAGE_CHILDREN)  # wrk, once reaped
        return (time.perf_counter(), sum(group_ticks(g) for g in self.groups),
                cluster_ticks(self.postmaster) if self.postmaster else 0,
                children.ru_utime + children.ru_stime, machine_busy_ticks())

    @staticmethod
    def between(a: tuple, b: tuple) -> Cpu:
        wall = max(1e-6, b[0] - a[0])
        return Cpu(servers=(b[1] - a[1]) / CLK_TCK / wall, postgres=(b[2] - a[2]) / CLK_TCK / wall,
                   wrk=(b[3] - a[3]) / wall, machine=(b[4] - a[4]) / CLK_TCK / wall)


# ---------------------------------------------------------------------------------------------
# the measurements


@dataclass
class Measured:
    """The best round of one configuration, every round's req/s, and sums over all rounds."""

    load: Any  # run.Load: the best round (its non2xx, socket_errors, requests summed over rounds)
    cpu: Cpu
    rounds: list[float]
    per_server: list[float]  # req/s of each server in the best round
    span: tuple[int, int, float] | None = None  # POSTs: head before and after its measured run, seconds
    transactions: int | None = None  # PostgreSQL write transactions in that span (distinct recorded_at)
    events: int | None = None  # events in that span


@dataclass
class Section:
    started: float = field(default_factory=time.perf_counter)
    when: str = field(default_factory=lambda: dt.datetime.now().strftime("%Y-%m-%d %H:%M"))
    load_before: tuple = field(default_factory=os.getloadavg)
    load_after: tuple = ()
    facts: dict[str, Any] = field(default_factory=dict)
    results: dict[tuple[str, str], Measured] = field(default_factory=dict)  # (endpoint, config)
    checks: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    accepted: dict[str, int] = field(default_factory=dict)  # 2xx POST answers counted, per backend

    def fail(self, what: str, exc: BaseException) -> None:
        text = f"{what}: {type(exc).__name__}: {run.last_lines(str(exc), 3)}"
        self.failures.append(text)
        print(f"  FAILED {text}", flush=True)
        traceback.print_exc()


def _combine(loads: list[Any]) -> Any:
    """Loads run at once on several servers: req/s and counts summed, latencies the worst."""
    if len(loads) == 1:
        return loads[0]
    return run.Load(rps=sum(x.rps for x in loads), p50=max(x.p50 for x in loads),
                    p99=max(x.p99 for x in loads), max=max(x.max for x in loads),
                    requests=sum(x.requests for x in loads), non2xx=sum(x.non2xx for x in loads),
                    socket_errors=sum(x.socket_errors for x in loads), seconds=loads[0].seconds)


class PostgresBench:
    def __init__(self, args: argparse.Namespace, section: Section, work: Path) -> None:
        self.args, self.section, self.work = args, section, work
        self.servers: dict[str, list[Any]] = {}  # config -> run.Server list
        self.meter: CpuMeter | None = None

    # -- one round of one configuration ------------------------------------------------------

    def _wrk_all(self, servers: list[Any], path: str, seconds: float, **kwargs: Any) -> list[Any]:
        """One wrk per server, all at once; connections and threads split evenly among them."""
        n = len(servers)
        connections = max(1, self.args.connections // n)
        threads = max(1, min(connections, 2 // n))
        if n == 1:
            return [run.wrk(servers[0].url(path), seconds, connections, threads=threads, warmup=0, **kwargs)]
        with concurrent.futures.ThreadPoolExecutor(max_workers=n) as pool:
            futures = [pool.submit(run.wrk, s.url(path), seconds, connections, threads=threads, warmup=0,
                                   **kwargs) for s in servers]
            return [f.result() for f in futures]

    def one_round(self, config: str, path: str, backend: str, **kwargs: Any) -> tuple[Any, Cpu, list[float], Any]:
        servers = self.servers[config]
        warm: list[Any] = []
        if self.args.warmup > 0:
            warm = self._wrk_all(servers, path, self.args.warmup, **kwargs)
        assert self.meter is not None
        posting = bool(kwargs.get("script"))
        first = head(servers[0])[0] if posting else 0
        started = time.perf_counter()
        before = self.meter.snapshot()
        loads = self._wrk_all(servers, path, self.args.seconds, **kwargs)
        cpu = CpuMeter.between(before, self.meter.snapshot())
        span = (first, head(servers[0])[0], time.perf_counter() - started) if posting else None
        if kwargs.get("script"):  # POSTs: every 2xx answer wrk counted, warm-up included
            self.section.accepted[backend] = self.section.accepted.get(backend, 0) + sum(
                x.requests - x.non2xx for x in warm + loads)
            # at most one request per connection is in flight when a wrk run stops
            bound = self.section.facts.setdefault("in_flight_bound", {})
            bound[backend] = bound.get(backend, 0) + (len(warm) + len(loads)) * max(1, self.args.connections // len(servers))
        return _combine(loads), cpu, [x.rps for x in loads], span

    def compare(self, endpoint: str, paths: dict[str, str], envs: dict[str, dict[str, str]] | None = None,
                script: str | None = None) -> None:
        """Alternating rounds: sqlite, pg1, pg2, sqlite, pg1, pg2, ...; the best round of each kept."""
        rounds: dict[str, list[tuple[Any, Cpu, list[float], Any]]] = {c: [] for c, _ in CONFIGS}
        for number in range(max(1, self.args.rounds)):
            for config, label in CONFIGS:
                if config not in self.servers:
                    continue
                backend = "sqlite" if config == "sqlite" else "postgres"
                kwargs: dict[str, Any] = {}
                if script:
                    kwargs = {"script": script, "env": (envs or {})[backend]}
                try:
                    got = self.one_round(config, paths[backend], backend, **kwargs)
                except Exception as exc:  # noqa: BLE001 - the other configurations go on
                    self.section.fail(f"{endpoint}, {label}, round {number + 1}", exc)
                    continue
                rounds[config].append(got)
                print(f"  {endpoint}, {label}, round {number + 1}: {got[0].rps:,.0f} req/s, "
                      f"p99 {run.fmt_ms(got[0].p99)}, {got[0].non2xx} non-2xx; {got[1].short(backend != 'sqlite')}",
                      flush=True)
        for config, done in rounds.items():
            if not done:
                continue
            best, cpu, per_server, span = max(done, key=lambda x: x[0].rps)
            best.non2xx = sum(x[0].non2xx for x in done)
            best.socket_errors = sum(x[0].socket_errors for x in done)
            best.requests = sum(x[0].requests for x in done)
            best.rounds = [x[0].rps for x in done]
            self.section.results[(endpoint, config)] = Measured(best, cpu, best.rounds, per_server, span)

    # -- the whole section ---------------------------------------------------------------------

    def start_server(self, name: str, db: str, env: dict[str, str]) -> Any:
        """`starosta serve` on 127.0.0.1 in its own process group, under `timeout` (a bound on its
        life even if this process dies: every measurement of the section and a margin)."""
        per_round = 2 * (self.args.seconds + self.args.warmup + 5) * len(CONFIGS)
        bound = round(self.args.start_timeout + max(1, self.args.rounds) * per_round + 900)
        port = run.free_port()
        cmd = ["timeout", "-k", "10", str(bound), run.STAROSTA, "serve", "--db", db, "--host", "127.0.0.1",
               "--port", str(port)]
        return run.start_server(name, cmd, port, self.work, timeout=self.args.start_timeout, env=env)

    def demo(self, db: str, env: dict[str, str], label: str) -> None:
        out = run.run_bounded([run.STAROSTA, "demo", "--db", db], timeout=600, env=env)
        if out["rc"] != 0:
            raise RuntimeError(f"starosta demo ({label}) failed: {(out['stderr'] + out['stdout'])[-1500:]}")

    def verify(self, db: str, env: dict[str, str]) -> tuple[bool, int | None, str]:
        out = run.run_bounded([run.STAROSTA, "verify", "--db", db], timeout=600, env=env)
        text = (out["stdout"] + out["stderr"]).strip()
        m = re.search(r"([\d,]+) events", text)
        return out["rc"] == 0, int(m.group(1).replace(",", "")) if m else None, run.last_lines(text, 1)

    def measure(self) -> None:
        from tests.postgres import empty_schema, start_cluster, stop_cluster

        s = self.section
        sqlite_db = str(self.work / "postgres-demo.db")  # its own: bench/run.py's demo phase has demo.db
        sqlite_env = run.clean_env()
        print("postgres: starting a throwaway cluster (tests/postgres.py)", flush=True)
        cluster = start_cluster()
        started: list[Any] = []
        try:
            s.facts["postgres"] = postgres_facts(cluster)
            s.facts["filesystems"] = filesystems([self.work, cluster.data])
            service_url, owner_url = empty_schema(cluster)  # `demo` loads only into nothing
            pg_env = run.clean_env(STAROSTA_OWNER_DB=owner_url)
            print("postgres: starosta demo into SQLite and into PostgreSQL", flush=True)
            self.demo(sqlite_db, sqlite_env, "SQLite")
            self.demo(service_url, pg_env, "PostgreSQL")

            sqlite = self.start_server("pg-bench-sqlite", sqlite_db, sqlite_env)
            started.append(sqlite)
            pg_a = self.start_server("pg-bench-postgres-a", service_url, pg_env)
            started.append(pg_a)
            pg_b = self.start_server("pg-bench-postgres-b", service_url, pg_env)
            started.append(pg_b)
            self.servers = {"sqlite": [sqlite], "pg1": [pg_a], "pg2": [pg_a, pg_b]}
            postmaster = postmaster_pid(cluster)
            self.meter = CpuMeter([x.proc.pid for x in started], postmaster)
            s.facts["postmaster"] = postmaster is not None

            # Monclús, and a person registered to receive the POSTed claims, on each backend
            front = {"sqlite": sqlite, "postgres": pg_a}
            paths, envs, heads = {}, {}, {}
            for backend, server in front.items():
                found = json.loads(run.get_ok(server.url("/persons?q=monclus")))["items"]
                person = next((i["id"] for i in found if "vicente" in json.dumps(i).lower()), found[0]["id"])
                paths[backend] = f"/persons/{person}/biography"
                s.facts.setdefault("biography", {})[backend] = (person, len(run.get_ok(server.url(paths[backend]))))
                s.facts.setdefault("demo_events", {})[backend] = head(server)[0]
            if run.get_ok(pg_b.url(paths["postgres"])) != run.get_ok(pg_a.url(paths["postgres"])):
                s.checks.append("the two PostgreSQL servers answered the biography with different bytes")

            print("postgres: GET biography (Monclús)", flush=True)
            self.compare("GET biography", paths)

            for backend, server in front.items():
                source = run.post_ok(server.url("/sources"), {"csl": {"type": "document",
                                     "title": "Benchmark notes (synthetic, not historical)"}}, TOKEN)["id"]
                person = run.post_ok(server.url("/persons"), {"name": "Benchmark Person (synthetic, not historical)",
                                                              "citation": {"source": source}}, TOKEN)["id"]
                body = {"kind": "occupation", "person": person, "occupation": "benchmark (synthetic, not historical)",
                        "citation": {"source": source}}
                before = head(server)[0]
                run.post_ok(server.url("/claims"), body, TOKEN)  # one claim: how many events it writes
                heads[backend] = head(server)[0]
                s.facts.setdefault("events_per_claim", {})[backend] = heads[backend] - before
                envs[backend] = {"WRK_BODY": json.dumps(body), "WRK_TOKEN": TOKEN}

            print("postgres: POST /claims", flush=True)
            self.compare("POST /claims", {"sqlite": "/claims", "postgres": "/claims"}, envs=envs,
                         script="bench/post_claim.lua")

            # PostgreSQL's write transactions in each best POST round: one record time each
            for config in ("pg1", "pg2"):
                m = s.results.get(("POST /claims", config))
                if m is not None and m.span is not None:
                    m.events, m.transactions = transactions(owner_url, m.span[0], m.span[1])

            # correctness after the writes: the chain, the count, both servers' heads
            time.sleep(1)  # the last requests wrk left in flight are answered
            tails = {"sqlite": [head(sqlite)], "postgres": [head(pg_a), head(pg_b)]}
            for backend, db, env in (("sqlite", sqlite_db, sqlite_env), ("postgres", service_url, pg_env)):
                intact, events, line = self.verify(db, env)
                s.facts.setdefault("verify", {})[backend] = (intact, events, line)
                end = tails[backend][0][0]
                per = s.facts["events_per_claim"][backend] or 1
                added = (end - heads[backend]) / per
                counted = s.accepted.get(backend, 0)
                s.facts.setdefault("writes", {})[backend] = {
                    "end": end, "added": added, "counted": counted,
                    "in_flight_bound": s.facts.get("in_flight_bound", {}).get(backend, 0)}
                if not intact:
                    s.checks.append(f"{backend}: starosta verify failed: {line}")
                if events is not None and events != end:
                    s.checks.append(f"{backend}: verify counted {events:,} events, the server's head is {end:,}")
                if added < counted:
                    s.checks.append(f"{backend}: {counted:,} claims acknowledged (2xx) but only {added:,.0f} "
                                    "added to the log: acknowledged writes are missing")
            if tails["postgres"][0] != tails["postgres"][1]:
                s.checks.append(f"the two PostgreSQL servers report different heads: {tails['postgres']}")
            s.facts["pg_heads_equal"] = tails["postgres"][0] == tails["postgres"][1]
        finally:
            for server in reversed(started):
                try:
                    server.stop()  # by its process group's id
                except Exception:  # noqa: BLE001 - stop the others and the cluster all the same
                    traceback.print_exc()
            stop_cluster(cluster)
            print("postgres: servers and cluster stopped", flush=True)


def head(server: Any) -> tuple[int, str]:
    answer = json.loads(run.get_ok(server.url("/events/head")))
    return int(answer.get("position") or 0), str(answer.get("hash"))


def transactions(url: str, after: int, upto: int) -> tuple[int, int]:
    """Events, and write transactions, at positions after..upto of a PostgreSQL log: the store
    reads the record time once per transaction (under the append lock), so each transaction
    has one `recorded_at` of its own (it never decreases)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        events, distinct = conn.execute("SELECT count(*), count(DISTINCT recorded_at) FROM events "
                                        "WHERE position > %s AND position <= %s", (after, upto)).fetchone()
    return int(events), int(distinct)


def postmaster_pid(cluster: Any) -> int | None:
    try:
        return int((cluster.data / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return None


def postgres_facts(cluster: Any) -> dict[str, str]:
    import psycopg

    names = ("server_version", "fsync", "synchronous_commit", "shared_buffers", "wal_level", "max_connections")
    with psycopg.connect(cluster.url(), autocommit=True) as conn:
        facts = {n: str(conn.execute(f"SHOW {n}").fetchone()[0]) for n in names}
    facts["bin"] = str(cluster.bin)
    return facts


def filesystems(paths: list[Path]) -> str:
    """Where the files live: 'ext4 on /dev/vda' when all on one filesystem, else each."""
    seen = []
    for path in paths:
        out = subprocess.run(["df", "--output=source,fstype", str(path)], capture_output=True, text=True,
                             check=False)
        lines = out.stdout.strip().splitlines()
        seen.append(" on ".join(reversed(lines[-1].split())) if len(lines) > 1 else "?")
    if len(set(seen)) == 1:
        return f"on the same filesystem ({seen[0]})"
    return "on " + ", ".join(f"{p}: {fs}" for p, fs in zip(paths, seen))


# ---------------------------------------------------------------------------------------------
# the section's text


def _cell(m: Measured | None) -> str:
    if m is None:
        return "not measured"
    return m.load.short()


def _ratio(a: Measured | None, b: Measured | None) -> float | None:
    return a.load.rps / b.load.rps if a and b and b.load.rps else None


def per_request(m: Measured | None) -> tuple[float, float] | None:
    """CPU time per answered request in the best round, in ms: the servers', PostgreSQL's.
    Unlike req/s, it holds when other work on the machine takes cores (issue 25: the cores are
    shared), so the section reports it beside the rates."""
    if m is None or not m.load.rps:
        return None
    return 1000 * m.cpu.servers / m.load.rps, 1000 * m.cpu.postgres / m.load.rps


def _cpu_cell(m: Measured | None, with_postgres: bool) -> str:
    got = per_request(m)
    if got is None:
        return "-"
    return f"{got[0]:.3f} ms" + (f" + PostgreSQL {got[1]:.3f} ms" if with_postgres else "")


def render(section: Section, args: argparse.Namespace, info: dict[str, str], command: str) -> list[str]:
    s, f = section, section.facts
    r = s.results
    pg = f.get("postgres", {})
    minutes = (time.perf_counter() - s.started) / 60
    after = s.load_after or os.getloadavg()
    lines = [BEGIN, TITLE, "",
             (f"Measured by `bench/postgres.py` on {s.when}, in {minutes:.1f} minutes (`{command}`); "
              f"commit {info['commit']}."), ""]
    lines.append(
        f"- Machine: **{info['nproc']} cores** (nproc), {info['cpu']}{info['mem']}; load average "
        f"{s.load_before[0]:.2f} before, {after[0]:.2f} after. The `starosta serve` processes, wrk and "
        "PostgreSQL all run on these same 2 cores (loopback, no separate client or database machine): "
        "every figure is what is left after the others took their share, and the CPU column below "
        "shows how the cores were shared.")
    if pg:
        lines.append(
            f"- PostgreSQL {pg.get('server_version', '?')}, binaries from {pg.get('bin', '?')}, a throwaway "
            f"cluster from tests/postgres.py on 127.0.0.1: fsync {pg.get('fsync')}, synchronous_commit "
            f"{pg.get('synchronous_commit')} (an acknowledged append is on disk, as with SQLite's "
            f"synchronous=FULL, the `starosta serve` default), shared_buffers {pg.get('shared_buffers')}, "
            f"wal_level {pg.get('wal_level')}; SQLite {info['sqlite']} (WAL). The SQLite file and the "
            f"cluster's data directory {f.get('filesystems', '?')}.")
    if f.get("demo_events"):
        bio = f.get("biography", {})
        lines.append(
            "- Archive: `starosta demo` loaded into a new SQLite file and into a new, empty schema "
            f"({f['demo_events'].get('sqlite', '?'):,} and {f['demo_events'].get('postgres', '?'):,} events); "
            "GET biography is Monclús's (" + ", ".join(
                f"{'SQLite' if b == 'sqlite' else 'PostgreSQL'} {p}, {run.fmt_bytes(n)}" for b, (p, n) in bio.items())
            + "); POST /claims posts one occupation claim per request about a person registered for the "
            "purpose (bench/post_claim.lua, the demo contributor's token).")
    lines.append(
        f"- HTTP: wrk -t2 -c{args.connections} in total, {args.seconds:g} s per measurement after a "
        f"{args.warmup:g} s warm-up, {args.rounds} alternating rounds (SQLite, PostgreSQL one server, "
        "PostgreSQL two servers, again), the best round of each kept, every round shown. One server: one "
        "wrk on it (the second PostgreSQL server running, idle). Two servers: two wrk processes at once, "
        f"one per server, -t1 -c{max(1, args.connections // 2)} each: req/s summed, p99 the worse of the two; "
        "non-2xx answers and socket errors summed over every round.")
    lines.append(
        "- **Two servers measure availability and correctness, not write speed**: every append on "
        "PostgreSQL takes one advisory lock (`pg_advisory_xact_lock` on the `events` table) before it "
        "reads the head, so appends from both servers serialise on that lock, one transaction (and one "
        "WAL flush) at a time. A second server is there so that one can stop or restart while the other "
        "answers, and the rows check that two writers keep one intact chain.")
    lines += ["", ("| measure | SQLite, one server | PostgreSQL, one server | PostgreSQL, two servers | "
                   "PostgreSQL / SQLite (one server) | two servers / one (PostgreSQL) |"),
              "| --- | --- | --- | --- | --- | --- |"]
    for endpoint in ("GET biography", "POST /claims"):
        sq, p1, p2 = (r.get((endpoint, c)) for c, _ in CONFIGS)
        label = "GET biography, Monclús, demo archive" if endpoint == "GET biography" else \
            "POST /claims, durable, demo archive"
        lines.append(f"| {label} | {run.cell(_cell(sq))} | {run.cell(_cell(p1))} | {run.cell(_cell(p2))} | "
                     f"{run.fmt_ratio(_ratio(p1, sq))} | {run.fmt_ratio(_ratio(p2, p1))} |")
    if r:
        lines += ["", ("Every row in detail (the best round; requests, errors summed over its rounds; CPU: cores "
                       "busy during the best round's measurement, 100% = one core, from /proc):"), "",
                  ("| measure | setup | req/s | p50 | p99 | max | requests | non-2xx | socket errors | CPU | "
                   "CPU per request (servers + PostgreSQL) |"),
                  "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
        for (endpoint, config), m in r.items():
            label = dict(CONFIGS)[config]
            per = (" (" + " + ".join(f"{x:,.0f}" for x in m.per_server) + ")") if len(m.per_server) > 1 else ""
            lines.append(f"| {endpoint} | {label} | {m.load.rps:,.0f}{per} | {run.fmt_ms(m.load.p50)} | "
                         f"{run.fmt_ms(m.load.p99)} | {run.fmt_ms(m.load.max)} | {m.load.requests:,} | "
                         f"{m.load.non2xx:,} | {m.load.socket_errors:,} | "
                         f"{run.cell(m.cpu.short(config != 'sqlite'))} | {_cpu_cell(m, config != 'sqlite')} |")
        errors = sum(m.load.non2xx + m.load.socket_errors for m in r.values())
        lines += ["", f"Non-2xx answers and socket errors in all rows: **{errors:,}** (target: zero)."]
    verify = f.get("verify", {})
    if verify:
        lines += ["", "After the POST rounds:", ""]
        for backend, (intact, events, line) in verify.items():
            w = f.get("writes", {}).get(backend, {})
            name = "SQLite" if backend == "sqlite" else "PostgreSQL"
            lines.append(
                f"- {name}: `starosta verify` {'exit 0' if intact else 'FAILED'}: {run.cell(line)}"
                + (f"; {w['added']:,.0f} claims added during the POST rounds, {w['counted']:,} 2xx answers counted "
                   f"by wrk (warm-ups included; the difference, {w['added'] - w['counted']:,.0f}, is requests still "
                   f"in flight when a wrk run stopped: at most {w['in_flight_bound']:,}), "
                   f"{f['events_per_claim'][backend]} event per claim" if w else "")
                + (f"; both servers report the same head ({w.get('end', 0):,})" if backend == "postgres"
                   and f.get("pg_heads_equal") else "") + ".")
    tx = [(dict(CONFIGS)[c], m) for c in ("pg1", "pg2") if (m := r.get(("POST /claims", c))) and m.transactions]
    if tx:
        lines.append("- PostgreSQL's write transactions during the best POST round (one `recorded_at` each, "
                     "counted in the log): " + "; ".join(
                         f"{label}: {m.transactions / m.span[2]:,.0f} transactions/s, {m.events / m.transactions:.1f} "
                         f"claims each ({m.events:,} events in {m.transactions:,} transactions)" for label, m in tx) + ".")
    if s.checks:
        lines += ["", "**Checks that failed**:", ""] + [f"- {run.cell(c)}" for c in s.checks]
    lines += ["", "### What the figures say", ""] + [" ".join(say(section))]
    if s.failures:
        lines += ["", "Not measured:", ""] + [f"- {run.cell(x)}" for x in s.failures]
    lines.append(END)
    return lines


def say(section: Section) -> list[str]:
    """The short reading of the table, from the ratios and CPU shares of this run."""
    r = section.results
    cores = os.cpu_count() or 2
    out: list[str] = []
    gained = False
    for endpoint, what in (("GET biography", "the biography read"), ("POST /claims", "a durable POST /claims")):
        sq, p1, p2 = (r.get((endpoint, c)) for c, _ in CONFIGS)
        pg_vs_sqlite, two_vs_one = _ratio(p1, sq), _ratio(p2, p1)
        if pg_vs_sqlite is None:
            continue
        sentence = (f"On one server, {what} on PostgreSQL runs at **{pg_vs_sqlite:.2f}x** SQLite's req/s "
                    f"({p1.load.rps:,.0f} against {sq.load.rps:,.0f}; p99 {run.fmt_ms(p1.load.p99)} against "
                    f"{run.fmt_ms(sq.load.p99)}); the SQLite server used {sq.cpu.servers:.0%} of a core, the "
                    f"PostgreSQL one {p1.cpu.servers:.0%} and PostgreSQL itself {p1.cpu.postgres:.0%}, the whole "
                    f"machine {p1.cpu.machine:.0%} of {100 * cores}%")
        if p1.cpu.machine < 0.8 * cores:
            sentence += (": one server on PostgreSQL left cores idle, waiting on round trips to the database "
                         + ("in its reader threads" if endpoint == "GET biography" else "in its one writer"))
        sq_cpu, p1_cpu = per_request(sq), per_request(p1)
        if sq_cpu and p1_cpu and p1_cpu[0]:
            sentence += (f". CPU per request: the PostgreSQL server {p1_cpu[0]:.3f} ms and PostgreSQL itself "
                         f"{p1_cpu[1]:.3f} ms, against {sq_cpu[0]:.3f} ms for the SQLite server: per core-second "
                         f"the PostgreSQL server answers **{sq_cpu[0] / p1_cpu[0]:.2f}x** what the SQLite one does "
                         "(a figure that holds when other work takes cores, as req/s does not)")
        out.append(sentence + ".")
        if two_vs_one is None:
            continue
        sentence = (f"Two servers give **{two_vs_one:.2f}x** one server's req/s ({p2.load.rps:,.0f} summed, p99 "
                    f"{run.fmt_ms(p2.load.p99)}; servers {p2.cpu.servers:.0%}, PostgreSQL {p2.cpu.postgres:.0%}, "
                    f"the machine {p2.cpu.machine:.0%})")
        if two_vs_one >= 1.15:
            idle = p1.cpu.machine < 0.8 * cores
            gained = gained or idle
            sentence += (": the second server used cores the first left idle" if idle else
                         f": more, although the machine was already busy with one server ({p1.cpu.machine:.0%})")
            if endpoint == "POST /claims":
                sentence += ("; appends still serialise on the lock, but the lock orders the transactions, not the "
                             "servers' work around them (HTTP, decoding and checking the request, answering), "
                             "which overlaps with the other server's transaction")
                if p1.transactions and p2.transactions:
                    sentence += (f"; PostgreSQL committed {p1.transactions / p1.span[2]:,.0f} write transactions/s "
                                 f"of {p1.events / p1.transactions:.1f} claims each with one server, "
                                 f"{p2.transactions / p2.span[2]:,.0f}/s of {p2.events / p2.transactions:.1f} "
                                 "with two")
        elif endpoint == "POST /claims":
            sentence += (": every append, from either server, waits for the one advisory lock and its WAL "
                         "flush, so a second server adds no writes")
        else:
            sentence += ": the cores were already busy with one server"
        out.append(sentence + ".")
    if out:
        other = max((m.cpu.machine - m.cpu.servers - m.cpu.postgres - m.cpu.wrk for m in r.values()), default=0.0)
        if other > 0.2:
            out.append(f"Other work on the machine took up to {other:.0%} of a core during the best rounds (the "
                       "CPU column): absolute figures are low by that much; read the ratios.")
        closing = (f"Servers, wrk and PostgreSQL share the same {cores} cores here. Two servers are there for "
                   "availability (one can restart while the other answers) and are checked here for correctness "
                   "(one intact chain, both servers at the same head, no acknowledged write missing), not for "
                   "write speed: appends serialise on one lock")
        if gained:
            closing += (", and what a second server gained in this run came from cores one server left idle "
                        "while it waited on PostgreSQL, a gain that ends once the lock or the cores are busy")
        out.append(closing + ".")
    return out or ["Nothing was measured in this run (see below)."]


# ---------------------------------------------------------------------------------------------
# the file: only this section is rewritten


def existing_section(path: Path) -> list[str] | None:
    """This section of an existing RESULTS.md, as lines, or None (bench/sections.py)."""
    return sections.existing(path, BEGIN, END)


def replace_section(path: Path, lines: list[str]) -> None:
    """Rewrite this section of the report only (bench/sections.py)."""
    sections.replace(path, lines, BEGIN, END)


def measure(args: argparse.Namespace, work: Path) -> Section:
    """Measure the section (servers and cluster stopped before it returns); never raises for a
    failed measurement: it is recorded in the section."""
    section = Section()
    bench = PostgresBench(args, section, work)
    try:
        bench.measure()
    except KeyboardInterrupt as exc:
        section.failures.append(f"interrupted ({exc}); the tables hold what was measured before")
    except Exception as exc:  # noqa: BLE001
        section.fail("the PostgreSQL section", exc)
    section.load_after = os.getloadavg()
    return section


def run_alone(args: argparse.Namespace, command: str) -> int:
    """Measure the section and rewrite only it in args.out."""
    if not run.have_wrk():
        return 2
    ok, why = binaries_present()
    if not ok:
        print(f"the PostgreSQL section cannot run here: {why}", file=sys.stderr)
        return 2
    run.stop_on_sigterm()
    info = run.machine()
    args.cache.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="pg-run-", dir=args.cache))
    print(f"bench (PostgreSQL section): {info['nproc']} cores, {info['cpu']}; load {os.getloadavg()[0]:.2f}; "
          f"work files in {work}", flush=True)
    try:
        section = measure(args, work)
    finally:
        run.CHILDREN.stop_all()
        shutil.rmtree(work, ignore_errors=True)
    replace_section(args.out, render(section, args, info, command))
    print(f"wrote the PostgreSQL section of {args.out}", flush=True)
    return 1 if section.failures or section.checks else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5, help="wrk duration per measurement (default 5)")
    parser.add_argument("--warmup", type=float, default=1, help="wrk warm-up before each (default 1 s; 0: none)")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds, the best of each kept (default 2)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections in total (default 16)")
    parser.add_argument("--start-timeout", type=float, default=300, help="time bound on a server's start")
    parser.add_argument("--cache", type=Path, default=ROOT / "var" / "bench", help="where work files go")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "RESULTS.md", help="the report")
    args = parser.parse_args()
    return run_alone(args, " ".join(["python bench/postgres.py", *sys.argv[1:]]))


if __name__ == "__main__":
    sys.exit(main())
