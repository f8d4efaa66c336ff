"""The load section of bench/RESULTS.md (issue 23, "One client cannot hurt the rest"): the p99 of
`GET /health` and of a search (`GET /persons?q=monclus`) read by a second client every 15 ms, idle
and while ONE client floods the server, 10 s per flood:

  feeds   40 connections holding `GET /events/stream?timeout=300` (anonymous), and whether a
          second client then still opens a feed
  csl     4 connections posting `POST /sources` with a 1 MB body whose `csl.author` holds
          ~520,000 invalid entries (the demo contributor's token)
  as_of   16 connections reading `GET /persons/{id}/biography?as_of=<mid position>` of a person
          the bench gives 2,000 approved claims
  pages   32 connections reading `GET /claims?limit=1000`

One row per flood: probe p99 under load beside the idle p99 measured just before it on the same
server, the ceiling max(3x idle p99, 50 ms), the verdict, and the status codes the flood got.

    python bench/run.py --only load      # rewrites only this section of RESULTS.md
    python bench/load.py                 # the same

The server is `starosta serve` on a `starosta demo` archive (plus the 2,000-claim person), started
afresh for each flood (a flood may leave work queued behind it) with STAROSTA_TRUSTED_PROXIES=127.0.0.1,
so that X-Forwarded-For makes two clients on one machine: the flood is 203.0.113.1, the probes and
the second feed client 203.0.113.2. The flood runs in a child process (a bounded asyncio client, one
request at a time per connection), the probes in threads of this one; every server and flood process
is stopped by its process-group id. The whole section takes about 3 minutes. Timings are reported,
never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import http.client
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if str(Path(__file__).resolve().parent) not in sys.path:  # bench/ is no package
    sys.path.insert(0, str(Path(__file__).resolve().parent))
import sections  # noqa: E402  (bench/sections.py: the report's sections)

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent

BEGIN = ("<!-- bench/load.py: begin (`python bench/run.py --only load` rewrites only "
         "what lies between these two lines) -->")
END = "<!-- bench/load.py: end -->"
TITLE = "## One client cannot hurt the rest: /health and search under one client's flood (issue 23)"
CONTRIBUTOR = "demo-contributor-token"  # service/tools/demo/load.py DEMO_TOKENS
REVIEWER = "demo-reviewer-token"
FLOODER = "203.0.113.1"  # X-Forwarded-For of the flooding client (TEST-NET-3)
OTHER = "203.0.113.2"  # ... of the probes and the second feed client
PROBE_INTERVAL = 0.015
CLAIMS = 2_000
AUTHORS = 520_000
FLOOR_MS = 50.0




# ---------------------------------------------------------------------------------------------
# the flood: a child process, N connections of a bounded asyncio HTTP/1.1 client


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        parts = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            parts.append(await reader.readexactly(size + 2))
            if size == 0:
                break
        body = b"".join(parts)
    else:
        body = b""
    return status, headers, body


def _request_bytes(method: str, path: str, port: int, xff: str, token: str | None, body: bytes | None) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", f"X-Forwarded-For: {xff}",
             "Accept: */*"]
    if token:
        lines.append(f"Authorization: Bearer {token}")
    if body is not None:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b"")


async def _flood(spec: dict[str, Any]) -> dict[str, Any]:
    port, seconds, xff = spec["port"], spec["seconds"], spec["xff"]
    body = Path(spec["body"]).read_bytes() if spec.get("body") else None
    payload = _request_bytes(spec["method"], spec["path"], port, xff, spec.get("token"), body)
    statuses: Counter[str] = Counter()
    latencies: list[float] = []
    held = {"now": 0, "max": 0}
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds

    async def one_connection() -> None:
        while loop.time() < deadline:
            writer = None
            try:
                reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port),
                                                        deadline - loop.time())
                while loop.time() < deadline:
                    started = loop.time()
                    writer.write(payload)
                    await writer.drain()
                    if spec["stream"]:
                        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), deadline - loop.time())
                        status = int(head.split()[1])
                        statuses[str(status)] += 1
                        if status == 200:  # hold the feed, reading its comments, to the flood's end
                            held["now"] += 1
                            held["max"] = max(held["max"], held["now"])
                            try:
                                while loop.time() < deadline:
                                    if not await asyncio.wait_for(reader.read(65536), deadline - loop.time()):
                                        statuses["200 closed by the server before the flood's end"] += 1
                                        break
                            except asyncio.TimeoutError:
                                pass  # held to the flood's end
                            finally:
                                held["now"] -= 1
                        else:
                            await asyncio.sleep(0.2)  # a refused feed: ask again, 5 times a second
                        break  # a new connection for the next feed
                    status, headers, _ = await asyncio.wait_for(_read_response(reader), deadline - loop.time())
                    statuses[str(status)] += 1
                    latencies.append((loop.time() - started) * 1000)
                    if headers.get("connection", "").lower() == "close":
                        break
            except asyncio.TimeoutError:
                statuses["in flight at the flood's end"] += 1
            except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
                statuses["connection error"] += 1
                await asyncio.sleep(0.05)
            finally:
                if writer is not None:
                    writer.close()

    await asyncio.gather(*(one_connection() for _ in range(spec["connections"])))
    latencies.sort()
    return {"statuses": dict(statuses), "answers": len(latencies), "held_max": held["max"],
            "p50": latencies[len(latencies) // 2] if latencies else None,
            "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] if latencies else None}


def flood_child(spec_path: str, out_path: str) -> int:
    spec = json.loads(Path(spec_path).read_text())
    result = asyncio.run(_flood(spec))
    Path(out_path).write_text(json.dumps(result))
    return 0


# ---------------------------------------------------------------------------------------------
# the probes: a second client, threads of this process


class Probe:
    """GET `path` every 15 ms on one keep-alive connection as another client; latencies kept."""

    def __init__(self, port: int, path: str) -> None:
        self.port, self.path = port, path
        self.latencies: list[float] = []
        self.errors: Counter[str] = Counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> "Probe":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=40)

    def _connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def _run(self) -> None:
        conn = self._connect()
        headers = {"X-Forwarded-For": OTHER}
        try:
            while not self._stop.is_set():
                started = time.perf_counter()
                try:
                    conn.request("GET", self.path, headers=headers)
                    r = conn.getresponse()
                    r.read()
                    self.latencies.append((time.perf_counter() - started) * 1000)
                    if r.status != 200:
                        self.errors[str(r.status)] += 1
                except (OSError, http.client.HTTPException) as exc:
                    self.latencies.append((time.perf_counter() - started) * 1000)
                    self.errors[type(exc).__name__] += 1
                    conn.close()
                    conn = self._connect()
                self._stop.wait(PROBE_INTERVAL)
        finally:
            conn.close()

    def summary(self) -> dict[str, Any]:
        lat = sorted(self.latencies)
        if not lat:
            return {"n": 0, "p50": None, "p99": None, "max": None, "errors": dict(self.errors)}
        return {"n": len(lat), "p50": lat[len(lat) // 2], "p99": lat[min(len(lat) - 1, int(len(lat) * 0.99))],
                "max": lat[-1], "errors": dict(self.errors)}


def probe_for(port: int, seconds: float) -> dict[str, dict[str, Any]]:
    probes = {"health": Probe(port, "/health").start(), "search": Probe(port, "/persons?q=monclus").start()}
    time.sleep(seconds)
    for p in probes.values():
        p.stop()
    return {k: p.summary() for k, p in probes.items()}


# ---------------------------------------------------------------------------------------------
# the section


@dataclass
class Flood:
    name: str
    what: str
    method: str
    path: str
    connections: int
    token: str | None = None
    body: str | None = None
    stream: bool = False


@dataclass
class Section:
    facts: dict[str, Any] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    load_before: tuple = ()
    load_after: tuple = ()
    seconds: float = 0.0


def _json(status_body: tuple[int, bytes], what: str) -> Any:
    status, body = status_body
    if status // 100 != 2:
        raise RuntimeError(f"{what}: {status} {body[:400]!r}")
    return json.loads(body)


class LoadBench:
    def __init__(self, args: argparse.Namespace, section: Section, work: Path) -> None:
        self.run = sections.bench_run()
        self.args, self.section, self.work = args, section, work
        self.db = work / "load.db"
        self.env = self.run.clean_env(STAROSTA_TRUSTED_PROXIES="127.0.0.1")

    def serve(self, name: str) -> Any:
        port = self.run.free_port()
        return self.run.start_server(name, [self.run.STAROSTA, "serve", "--db", str(self.db), "--host", "127.0.0.1",
                                            "--port", str(port)], port, self.work, timeout=self.args.start_timeout,
                                     env=self.env)

    def prepare(self) -> dict[str, Any]:
        """The demo archive plus a person with 2,000 approved claims; the as_of position."""
        run = self.run
        out = run.run_bounded([run.STAROSTA, "demo", "--db", str(self.db)], timeout=300)
        if out["rc"] != 0:
            raise RuntimeError(f"starosta demo failed: {(out['stderr'] + out['stdout'])[-1500:]}")
        server = self.serve("load-setup")
        try:
            req = run.request
            source = _json(req("POST", server.url("/sources"), {"csl": {
                "type": "document", "title": "Benchmark notes (synthetic, not historical)"}}, CONTRIBUTOR),
                "POST /sources")["id"]
            person = _json(req("POST", server.url("/persons"), {
                "name": "Benchmark Person With Many Claims (synthetic, not historical)",
                "citation": {"source": source}}, CONTRIBUTOR), "POST /persons")["id"]
            ids = self.submit(server.port, person, source)
            approved, mid = 0, 0
            for i in range(0, len(ids), 500):
                answer = _json(req("POST", server.url("/claims/approve"),
                                   {"ids": ids[i:i + 500], "reason": "benchmark (synthetic)"}, REVIEWER),
                               "POST /claims/approve")
                items = answer.get("items") or answer.get("results") or []
                approved += sum(1 for it in items if 200 <= int(it.get("status", 0)) < 300) if items else 0
                if i + 500 >= len(ids) // 2 and not mid:
                    mid = int(_json(req("GET", server.url("/events/head")), "GET /events/head")["position"])
            head = int(_json(req("GET", server.url("/events/head")), "GET /events/head")["position"])
            bio = f"/persons/{person}/biography"
            sizes = {}
            for label, path in (("as_of", f"{bio}?as_of={mid}"), ("page", "/claims?limit=1000")):
                started = time.perf_counter()
                status, body = req("GET", server.url(path))
                sizes[label] = (status, len(body), (time.perf_counter() - started) * 1000)
        finally:
            server.stop()
        body = self.work / "csl-1mb.json"
        authors = ",".join(["1"] * AUTHORS)
        body.write_text('{"csl":{"type":"document","title":"Benchmark (synthetic)","author":[' + authors + "]}}")
        return {"person": person, "claims": len(ids), "approved": approved, "mid": mid, "head": head,
                "bio": bio, "csl_body": str(body), "csl_bytes": body.stat().st_size, "sizes": sizes}

    def submit(self, port: int, person: str, source: str) -> list[str]:
        ids: list[str] = []
        lock = threading.Lock()
        counter = iter(range(CLAIMS))
        deadline = time.monotonic() + 120
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {CONTRIBUTOR}"}
        errors: Counter[str] = Counter()

        def worker() -> None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            try:
                while time.monotonic() < deadline:
                    with lock:
                        i = next(counter, None)
                    if i is None:
                        return
                    body = json.dumps({"kind": "occupation", "person": person,
                                       "occupation": f"benchmark occupation {i} (synthetic, not historical)",
                                       "citation": {"source": source}})
                    try:
                        conn.request("POST", "/claims", body, headers)
                        r = conn.getresponse()
                        data = r.read()
                        if r.status == 201:
                            with lock:
                                ids.append(json.loads(data)["id"])
                        else:
                            errors[str(r.status)] += 1
                    except (OSError, http.client.HTTPException) as exc:
                        errors[type(exc).__name__] += 1
                        conn.close()
                        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            finally:
                conn.close()

        threads = [threading.Thread(target=worker, daemon=True) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=180)
        if len(ids) < CLAIMS:
            raise RuntimeError(f"only {len(ids)} of {CLAIMS} claims were accepted: {dict(errors)}")
        return ids

    def floods(self, prep: dict[str, Any]) -> list[Flood]:
        return [
            Flood("feeds", "40 live feeds `GET /events/stream?timeout=300` (anonymous)", "GET",
                  "/events/stream?timeout=300", 40, stream=True),
            Flood("csl", f"4 connections `POST /sources`, {prep['csl_bytes'] / 1e6:.2f} MB, `csl.author` of "
                         f"{AUTHORS:,} invalid entries (contributor token)", "POST", "/sources", 4,
                  token=CONTRIBUTOR, body=prep["csl_body"]),
            Flood("as_of", f"16 connections `GET biography?as_of={prep['mid']}` of the {prep['claims']:,}-claim "
                           "person (anonymous)", "GET", f"{prep['bio']}?as_of={prep['mid']}", 16),
            Flood("pages", "32 connections `GET /claims?limit=1000` (anonymous)", "GET", "/claims?limit=1000", 32),
        ]

    def measure_flood(self, flood: Flood) -> dict[str, Any]:
        run, seconds = self.run, self.args.flood_seconds
        server = self.serve(f"load-{flood.name}")
        flood_proc = None
        try:
            time.sleep(0.5)
            idle = probe_for(server.port, self.args.idle_seconds)
            spec = {"port": server.port, "seconds": seconds, "xff": FLOODER, "method": flood.method,
                    "path": flood.path, "connections": flood.connections, "token": flood.token,
                    "body": flood.body, "stream": flood.stream}
            spec_path, out_path = self.work / f"flood-{flood.name}.json", self.work / f"flood-{flood.name}.out.json"
            spec_path.write_text(json.dumps(spec))
            flood_proc = run.CHILDREN.spawn([sys.executable, str(BENCH / "load.py"), "--flood-child",
                                             str(spec_path), str(out_path)],
                                            stdout=subprocess.DEVNULL, stderr=open(self.work / f"flood-{flood.name}.err", "wb"))
            probes = {"health": Probe(server.port, "/health"), "search": Probe(server.port, "/persons?q=monclus")}
            time.sleep(min(2.0, seconds / 4))  # the flood under way
            for p in probes.values():
                p.start()
            second = None
            if flood.stream:  # does another client still get a feed?
                second = self.second_feed(server.port)
            flood_proc.wait(timeout=seconds + 60)
            for p in probes.values():
                p.stop()
            loaded = {k: p.summary() for k, p in probes.items()}
            try:
                result = json.loads(out_path.read_text())
            except (OSError, ValueError):
                err = (self.work / f"flood-{flood.name}.err").read_text(errors="replace")[-800:]
                raise RuntimeError(f"the flood child left no result: {err}")
            return {"flood": flood, "idle": idle, "loaded": loaded, "result": result, "second": second}
        finally:
            if flood_proc is not None:
                run.CHILDREN.stop(flood_proc)
            server.stop()

    def second_feed(self, port: int) -> str:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            conn.request("GET", "/events/stream?timeout=2", headers={"X-Forwarded-For": OTHER})
            r = conn.getresponse()
            return f"{r.status}" + (f" (Retry-After {r.getheader('Retry-After')})" if r.getheader("Retry-After") else "")
        except (OSError, http.client.HTTPException) as exc:
            return f"no answer ({type(exc).__name__})"
        finally:
            conn.close()

    def measure(self) -> None:
        prep = self.prepare()
        self.section.facts["prep"] = prep
        print(f"  archive ready: {prep['claims']:,} claims, {prep['approved']:,} approved, as_of={prep['mid']} "
              f"of head {prep['head']:,}", flush=True)
        for flood in self.floods(prep):
            if self.args.load_floods and flood.name not in self.args.load_floods:
                continue
            print(f"  flood: {flood.name}", flush=True)
            try:
                self.section.rows.append(self.measure_flood(flood))
            except KeyboardInterrupt:
                raise
            except Exception as exc:  # noqa: BLE001 - record it, go on with the next flood
                self.section.failures.append(f"{flood.name}: {type(exc).__name__}: {str(exc)[-600:]}")


# ---------------------------------------------------------------------------------------------
# the section's text


def _ms(x: float | None) -> str:
    if x is None:
        return "-"
    return f"{x:,.0f} ms" if x >= 10 else f"{x:.2f} ms"


def _statuses(d: dict[str, int]) -> str:
    if not d:
        return "none"
    return ", ".join(f"{k}: {v:,}" for k, v in sorted(d.items(), key=lambda kv: (-kv[1], kv[0])))


def verdict(loaded: dict[str, Any], idle: dict[str, Any]) -> tuple[float | None, str]:
    if loaded["p99"] is None or idle["p99"] is None:
        return None, "not measured"
    ceiling = max(3 * idle["p99"], FLOOR_MS)
    if loaded["p99"] <= ceiling:
        return ceiling, "met"
    return ceiling, f"missed ({loaded['p99'] / ceiling:.1f}x the ceiling)"


def machine() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    def v(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "-"

    model = "?"
    try:
        model = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                     if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True,
                           cwd=ROOT).stdout.strip()
    return {"nproc": str(os.cpu_count()), "cpu": model, "python": platform.python_version(),
            "versions": ", ".join(f"{n} {v(n)}" for n in ("granian", "litestar", "msgspec")),
            "commit": commit + (" (with uncommitted changes in the tree)" if dirty else "")}


def render(section: Section, args: argparse.Namespace, info: dict[str, str], command: str) -> list[str]:
    prep = section.facts.get("prep") or {}
    lines = [BEGIN, TITLE, "",
             f"Measured by `bench/load.py` on {dt.datetime.now().strftime('%Y-%m-%d %H:%M')}, in "
             f"{section.seconds / 60:.1f} minutes (`{command}`); commit {info['commit']}.", "",
             f"- Machine: **{info['nproc']} cores**, {info['cpu']}; load average {section.load_before[0]:.2f} before, "
             f"{section.load_after[0]:.2f} after. Server, flood and probes share these cores (loopback). "
             f"Python {info['python']}, {info['versions']}.",
             f"- Archive: `starosta demo` plus a person with {prep.get('claims', CLAIMS):,} occupation claims "
             f"({prep.get('approved', 0):,} approved through `POST /claims/approve`, 500 at a time); as_of "
             f"position {prep.get('mid', '?')} (after half the approvals) of head {prep.get('head', '?')}. "
             + (f"Alone, the as_of read answered {prep['sizes']['as_of'][0]} with {prep['sizes']['as_of'][1]:,} B in "
                f"{_ms(prep['sizes']['as_of'][2])}, `/claims?limit=1000` {prep['sizes']['page'][0]} with "
                f"{prep['sizes']['page'][1]:,} B in {_ms(prep['sizes']['page'][2])} (first reads)." if prep.get("sizes") else ""),
             f"- Each flood: a fresh `starosta serve` (one granian worker) on that archive with "
             f"STAROSTA_TRUSTED_PROXIES=127.0.0.1; idle probes for {args.idle_seconds:g} s, then the flood for "
             f"{args.flood_seconds:g} s from ONE client (X-Forwarded-For {FLOODER}; a child process, an asyncio "
             f"client sending one request at a time per connection: an answered request is sent again at once, "
             f"whatever its status (the flood ignores Retry-After); a refused feed is asked again after 0.2 s), the "
             f"probes running from {min(2.0, args.flood_seconds / 4):g} s into it to its end. Probes: another "
             f"client ({OTHER}), `GET /health` and `GET /persons?q=monclus` each every {PROBE_INTERVAL * 1000:.0f} "
             "ms on its own keep-alive connection (a probe waits for its answer: a stalled server shows as few "
             "slow reads, not many; a read unanswered after 30 s counts as 30 s and an error).",
             f"- Target (issue 23): probe p99 under the flood <= max(3x its idle p99, {FLOOR_MS:.0f} ms), both "
             "measured on the same server minutes apart at most.",
             "",
             "| flood (one client) | probe | idle p99 | p99 under the flood | ceiling | verdict | probe reads (errors) | the flood's answers |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for row in section.rows:
        flood, result = row["flood"], row["result"]
        answers = _statuses(result["statuses"])
        if result.get("p99") is not None:
            answers += (f"; {result['answers'] / args.flood_seconds:,.0f} answers/s, its p50 {_ms(result['p50'])}, "
                        f"p99 {_ms(result['p99'])}")
        if flood.stream:
            answers += f"; feeds held at once: {result['held_max']}; a second client's feed: {row['second']}"
        for probe in ("health", "search"):
            idle, loaded = row["idle"][probe], row["loaded"][probe]
            ceiling, say = verdict(loaded, idle)
            errors = _statuses(loaded["errors"]) if loaded["errors"] else "0"
            lines.append(f"| {flood.what if probe == 'health' else '(the same flood)'} | `{'GET /health' if probe == 'health' else 'GET /persons?q=monclus'}` "
                         f"| {_ms(idle['p99'])} | {_ms(loaded['p99'])} (max {_ms(loaded['max'])}) | {_ms(ceiling)} "
                         f"| {say} | {loaded['n']:,} ({errors}) | {answers if probe == 'health' else '(above)'} |")
    if section.failures:
        lines += ["", "Not measured in this run:", ""] + [f"- {f}" for f in section.failures]
    missed = [r["flood"].name for r in section.rows
              if any(verdict(r["loaded"][p], r["idle"][p])[1].startswith("missed") for p in ("health", "search"))]
    busy = section.load_before and section.load_before[0] > 0.75 * (os.cpu_count() or 1)
    if busy:
        lines += ["", f"The load average before this section ({section.load_before[0]:.2f} on {os.cpu_count()} cores) "
                  "says other work was running on the machine: idle p99s, and so the ceilings, carry its noise; "
                  "a stalled server (seconds, a handful of probe reads) stands far above it."]
    lines += ["", f"Floods measured: {len(section.rows)}; a probe over its ceiling under: "
              f"{', '.join(missed) if missed else 'none'}.", END]
    return lines


# ---------------------------------------------------------------------------------------------
# the file: only this section is rewritten


def existing_section(path: Path) -> list[str] | None:
    """This section of an existing RESULTS.md, as lines, or None (bench/sections.py)."""
    return sections.existing(path, BEGIN, END)


def replace_section(path: Path, lines: list[str]) -> None:
    """Rewrite this section of the report only (bench/sections.py)."""
    sections.replace(path, lines, BEGIN, END)


def measure(args: argparse.Namespace, work: Path) -> Section:
    section = Section(load_before=os.getloadavg())
    started = time.perf_counter()
    try:
        LoadBench(args, section, work).measure()
    except KeyboardInterrupt as exc:
        section.failures.append(f"interrupted ({exc}); the table holds what was measured before")
    except Exception as exc:  # noqa: BLE001
        section.failures.append(f"the load section: {type(exc).__name__}: {str(exc)[-800:]}")
    section.load_after = os.getloadavg()
    section.seconds = time.perf_counter() - started
    return section


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--flood-seconds", type=float, default=10, help="each flood's length (default 10 s)")
    parser.add_argument("--idle-seconds", type=float, default=4, help="idle probes before each flood (default 4 s)")
    parser.add_argument("--load-flood", dest="load_floods", action="append", default=[],
                        choices=["feeds", "csl", "as_of", "pages"], help="only these floods (repeatable)")


def run_alone(args: argparse.Namespace, command: str) -> int:
    """Measure the section and rewrite only it in args.out."""
    run = sections.bench_run()
    run.stop_on_sigterm()
    info = machine()
    args.cache.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="load-run-", dir=args.cache))
    print(f"bench (load section): {info['nproc']} cores, {info['cpu']}; load {os.getloadavg()[0]:.2f}; "
          f"work files in {work}", flush=True)
    try:
        section = measure(args, work)
    finally:
        run.CHILDREN.stop_all()
        shutil.rmtree(work, ignore_errors=True)
    replace_section(args.out, render(section, args, info, command))
    print(f"wrote the load section of {args.out} ({section.seconds / 60:.1f} min)", flush=True)
    for f in section.failures:
        print(f"  not measured: {f}", file=sys.stderr)
    return 1 if section.failures else 0


def main() -> int:
    if len(sys.argv) == 4 and sys.argv[1] == "--flood-child":
        return flood_child(sys.argv[2], sys.argv[3])
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    parser.add_argument("--start-timeout", type=float, default=300, help="time bound on a server's start")
    parser.add_argument("--cache", type=Path, default=ROOT / "var" / "bench", help="where work files go")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "RESULTS.md", help="the report")
    args = parser.parse_args()
    return run_alone(args, " ".join(["python bench/load.py", *sys.argv[1:]]))


if __name__ == "__main__":
    sys.exit(main())
