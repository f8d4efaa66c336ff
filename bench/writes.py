"""Issue 25, item 1: a write costs the same however long its subject's history. Standalone;
writes its own section of bench/RESULTS.md (between the markers below). Never asserted.

Two measures:

1. The writer's time per job, by size of subject (in process, the service's own append path:
   `Archive.commit_sync`, the append and every read model in one transaction, synchronous=FULL):
   a person the bench creates with N approved custody claims (a chronology of two-day stays at
   20 places, a quarter of them open-ended); then one job at a time, approving one more claim
   (median and p90 of `--jobs` jobs) and submitting one (pending) custody claim; with the time
   per read model (apply + finish) of the approval jobs.
2. `POST /claims` through the real server (`starosta serve`, granian) with wrk at 16
   connections: open-ended custody claims about one person, in rounds of `--seconds`; each
   round's req/s and p99, and the last round's rate against the first's.

    python bench/writes.py                       # sizes 2,000 and 10,000; 5 rounds of 8 s
    python bench/writes.py --sizes 2000 --rounds 3 --seconds 4 --no-write
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import defaultdict
from pathlib import Path

if str(Path(__file__).resolve().parent) not in sys.path:  # bench/ is no package
    sys.path.insert(0, str(Path(__file__).resolve().parent))
import sections  # noqa: E402  (bench/sections.py: the report's sections)

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
STAROSTA = str(BIN / "starosta")
BEGIN, END = "<!-- writes.py: begin -->", "<!-- writes.py: end -->"

from starosta.events.kinds import Citation, CustodyClaim
from starosta.events.registry import PersonRegistered, PlaceRegistered, SourceRegistered
from starosta.events.review import ClaimApproved
from starosta.events.store import AppendRequest, Job, Metadata, NewEvent
from starosta.projections.biographies import settle_stale
from starosta.service.db import open_archive
from starosta.service.domain.access import Principal
from starosta.service.domain.commands import submission

WHO = Principal("T1", "alice", "contributor")


def custody(i: int, person: str) -> CustodyClaim:
    """Stay i: two days from 1900-01-01 + 2i at one of 20 places (a chronology, no stay surely
    overlapping another), every fourth open-ended (bounded by the next stay elsewhere)."""
    start = dt.date(1900, 1, 1) + dt.timedelta(days=2 * i)
    end = None if i % 4 == 0 else (start + dt.timedelta(days=1)).isoformat()
    return CustodyClaim(person=person, place=f"PL{i % 20}", custody="prison", start=start.isoformat(),
                        end=end, citation=Citation(source="S1", locator=f"p. {i}"))


class Timed:
    """Wraps each read model's apply and finish to add up their time per model."""

    def __init__(self, runner) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        for p in runner.projections:
            for method in ("apply", "finish"):
                if hasattr(p, method):
                    setattr(p, method, self.wrap(p.name, getattr(p, method)))

    def wrap(self, name: str, f):
        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return f(*args, **kwargs)
            finally:
                self.seconds[name] += time.perf_counter() - started
        return timed


def writer_times(size: int, jobs: int, work: Path) -> dict:
    archive = open_archive(str(work / f"writes-{size}.db"))
    try:
        def commit(requests) -> None:
            archive.commit_sync(requests, Metadata(actor="alice"))

        commit([AppendRequest("S1", [NewEvent(SourceRegistered(source_id="S1", csl={"type": "book", "title": "t"}))], 0),
                AppendRequest("P1", [NewEvent(PersonRegistered(person_id="P1", label="Bench Person (synthetic)"))], 0),
                *[AppendRequest(f"PL{k}", [NewEvent(PlaceRegistered(place_id=f"PL{k}", label=f"Place {k}", kind="prison"))], 0)
                  for k in range(20)]])
        started = time.perf_counter()
        made = 0
        while made < size + 2 * jobs:  # the person's claims, submitted then approved, 500 a job
            n = min(500, size + 2 * jobs - made)
            conn = archive.read()
            commit([submission(conn, f"C{i}", custody(i, "P1"), WHO) for i in range(made, made + n)])
            if made < size:
                commit([AppendRequest(f"C{i}", [NewEvent(ClaimApproved(claim_id=f"C{i}", reviewer="bob"))], 1)
                        for i in range(made, min(made + n, size))])
            made += n
        setup = time.perf_counter() - started
        timed = Timed(archive.runner)
        approve = []  # before (issue 25's first half): the document assembled in the writer
        for i in range(size, size + jobs):  # one approval per job, as POST .../approve does
            t0 = time.perf_counter()
            commit([AppendRequest(f"C{i}", [NewEvent(ClaimApproved(claim_id=f"C{i}", reviewer="bob"))], 1)])
            approve.append(time.perf_counter() - t0)
        per_model = {k: v / jobs for k, v in timed.seconds.items()}
        # after: as the serving writer commits (Archive.commit): `finish` once per batch
        # (Job.finish), the document only marked stale; the settler's assembly timed apart
        runner, store = archive.runner, archive.store
        bio = runner.get("biographies")
        bio.deferred = True
        tables = runner.tables(store.reader(), bio)

        def served(requests) -> float:
            job = Job(requests, Metadata(actor="alice"), runner.apply_events, finish=runner.finish_batch)
            t0 = time.perf_counter()
            result = store.commit_jobs([job])[0]
            took = time.perf_counter() - t0
            assert not isinstance(result, BaseException), result
            return took

        timed_after = Timed(runner)
        approve_served, settle = [], []
        for i in range(size + jobs, size + 2 * jobs):
            approve_served.append(served([AppendRequest(
                f"C{i}", [NewEvent(ClaimApproved(claim_id=f"C{i}", reviewer="bob"))], 1)]))
            t0 = time.perf_counter()
            while settle_stale(store, tables):
                pass
            settle.append(time.perf_counter() - t0)
        per_model_served = {k: v / jobs for k, v in timed_after.seconds.items()}
        submit, submit_served = [], []
        for i in range(size + 2 * jobs, size + 4 * jobs):
            conn = archive.read()
            request = submission(conn, f"C{i}", custody(i, "P1"), WHO)
            if i < size + 3 * jobs:
                bio.deferred = False
                t0 = time.perf_counter()
                commit([request])
                submit.append(time.perf_counter() - t0)
            else:
                bio.deferred = True
                submit_served.append(served([request]))
        bio.deferred = False
        return {"size": size, "setup_s": setup, "approve": approve, "submit": submit, "per_model": per_model,
                "approve_served": approve_served, "settle": settle, "submit_served": submit_served,
                "per_model_served": per_model_served}
    finally:
        archive.close()


# -- through the server -------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(method: str, url: str, body=None, token: str | None = None) -> dict:
    req = urllib.request.Request(url, data=None if body is None else json.dumps(body).encode(), method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read() or b"{}")


def to_ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    assert m, text
    return float(m[1]) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[m[2]]


def worker_pid(pgid: int) -> int:
    """The server's worker: the process of its group (granian's) that has used the most CPU."""
    best, best_ticks = pgid, -1
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and int(fields[11]) + int(fields[12]) > best_ticks:
            best, best_ticks = int(stat.parent.name), int(fields[11]) + int(fields[12])
    return best


def rounds(args, work: Path) -> dict:
    db = work / "rounds.db"
    subprocess.run([STAROSTA, "migrate", "--db", str(db)], capture_output=True, timeout=300, check=True)
    out = subprocess.run([STAROSTA, "token", "create", "--db", str(db), "--name", "Bench Contributor",
                          "--role", "contributor"], capture_output=True, text=True, timeout=300, check=True)
    token = out.stdout.strip().splitlines()[-1].strip()
    port = free_port()
    log = open(work / "server.log", "wb")  # noqa: SIM115 - closed when the server stops
    proc = subprocess.Popen([STAROSTA, "serve", "--db", str(db), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(base + "/health", timeout=2).read()
                break
            except OSError:
                time.sleep(0.2)
        source = call("POST", base + "/sources", {"csl": {"type": "document",
                      "title": "Benchmark notes (synthetic, not historical)"}}, token)["id"]
        person = call("POST", base + "/persons", {"name": "Benchmark Person (synthetic, not historical)",
                                                  "citation": {"source": source}}, token)["id"]
        body = {"kind": "custody", "person": person, "custody": "prison", "start": "1937-05",
                "citation": {"source": source, "locator": "p. 1"}}  # open-ended: its bound is computed
        env = {**os.environ, "WRK_BODY": json.dumps(body), "WRK_TOKEN": token}
        results, total = [], 0
        for n in range(args.rounds + (1 if args.profile else 0)):
            spy = None
            if n == args.rounds:  # one more round, not counted, sampled from outside
                spy = subprocess.Popen(["py-spy" if not (BIN / "py-spy").exists() else str(BIN / "py-spy"), "record",
                                        "--pid", str(worker_pid(proc.pid)), "--duration", str(max(2, args.seconds - 2)),
                                        "--rate", "100", "--format", "raw", "--threads", "--nonblocking",
                                        "-o", args.profile], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            run = subprocess.run(["wrk", "-t2", f"-c{args.connections}", f"-d{args.seconds}s", "--timeout", "30s",
                                  "--latency", "-s", str(ROOT / "bench" / "post_claim.lua"), base + "/claims"],
                                 capture_output=True, text=True, env=env, timeout=args.seconds + 120, check=False)
            rps = float(re.search(r"Requests/sec:\s*([\d.]+)", run.stdout)[1])
            p99 = to_ms(re.search(r"99%\s+(\S+)", run.stdout)[1])
            bad = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", run.stdout)
            done = int(re.search(r"(\d+) requests in", run.stdout)[1])
            total += done
            if spy is not None:  # the profiled round is not counted: py-spy's sampling costs the worker a little
                spy.wait(timeout=120)
                continue
            results.append({"rps": rps, "p99_ms": p99, "claims_after": total, "non2xx": int(bad[1]) if bad else 0})
        return {"rounds": results}
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)
        log.close()


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"


def report(args, sizes: list[dict], served: dict | None) -> list[str]:
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, check=False,
                          text=True).stdout.strip()
    lines = [BEGIN, "", (f"## Writes by size of subject (bench/writes.py, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, "
             f"commit {head}, {os.cpu_count()} cores)"), "",
             (f"Load average before {args.load_before:.1f}, after {os.getloadavg()[0]:.1f} (on a busy machine the "
              "absolute figures are slower; compare the ratios measured in the same run)."), "",
             ("The writer's time per job as the service's writer commits it (in process, `commit_jobs` with the "
             "hooks `Archive.commit` gives: append, every read model's apply, their `finish` once per batch, the "
             "person's document only marked stale, COMMIT with synchronous=FULL; target <= 5 ms), for a person the "
             "bench creates with N approved custody claims:"), "",
             ("| claims about the person | approve one claim: median (p90) | submit one custody claim: median (p90) | "
             "approval's time by read model (mean) | every read model, in the transaction (mean; the rest is the "
             "append and COMMIT's fsync, shared by a group commit's jobs) |"), "| --- | --- | --- | --- | --- |"]

    def mp(xs: list[float]) -> str:
        xs = sorted(xs)
        return f"{ms(statistics.median(xs))} ({ms(xs[int(len(xs) * 0.9)])})"

    def top(per: dict) -> str:
        return ", ".join(f"{k} {ms(v)}" for k, v in sorted(per.items(), key=lambda kv: -kv[1])[:4])

    lines += [f"| {s['size']:,} | {mp(s['approve_served'])} | {mp(s['submit_served'])} | "
              f"{top(s['per_model_served'])} | {ms(sum(s['per_model_served'].values()))} |" for s in sizes]
    lines += ["", ("The same person, the same run, before: the document assembled in the writer's transaction "
              "(`finish` per job, as `commit_sync` and the CLI still do), and the settler's time per approval "
              "(`biographies.settle_stale`: the document assembled from a read snapshot and stored by compare-and-set, "
              "outside the writer; what the approval's answer waits for, not what it holds the writer for):"), "",
              ("| claims about the person | approve, assembled in the writer: median (p90) | submit, in the writer: "
               "median (p90) | approval's time by read model (mean) | settler per approval: median (p90) | "
               "writer time, after / before (approve) |"), "| --- | --- | --- | --- | --- | --- |"]
    for s in sizes:
        ratio = statistics.median(s["approve_served"]) / statistics.median(s["approve"])
        lines.append(f"| {s['size']:,} | {mp(s['approve'])} | {mp(s['submit'])} | {top(s['per_model'])} | "
                     f"{mp(s['settle'])} | {ratio:.3f}x |")
    if served:
        r = served["rounds"]
        lines += ["", (f"`POST /claims`, open-ended custody claims about one person, wrk {args.connections} connections, "
                  f"{len(r)} rounds of {args.seconds} s (granian, `starosta serve`, SQLite FULL):"), "",
                  "| round | req/s | p99 | claims about the person after it | non-2xx |", "| --- | --- | --- | --- | --- |"]
        lines += [f"| {i + 1} | {x['rps']:,.0f} | {x['p99_ms']:,.1f} ms | {x['claims_after']:,} | {x['non2xx']} |"
                  for i, x in enumerate(r)]
        lines += ["", f"Last round / first: **{r[-1]['rps'] / r[0]['rps']:.2f}x** (target >= 0.9x)."]
    return lines + ["", END]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="2000,10000", help="claims about the person, comma-separated")
    ap.add_argument("--jobs", type=int, default=30, help="approval (and submission) jobs timed per size")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=int, default=8)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--no-server", action="store_true", help="skip the rounds through the server")
    ap.add_argument("--no-write", action="store_true", help="print, do not write bench/RESULTS.md")
    ap.add_argument("--json", help="also write the raw figures here")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "RESULTS.md", help="the report")
    ap.add_argument("--profile", help="py-spy (raw stacks) of the server's worker during one more round, "
                                          "after the measured ones and not counted, here")
    args = ap.parse_args()
    args.load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="starosta-writes-") as tmp:
        work = Path(tmp)
        sizes = []
        for n in (int(x) for x in args.sizes.split(",") if x):
            print(f"writer time, person with {n:,} claims ...", flush=True)
            sizes.append(writer_times(n, args.jobs, work))
        if args.json:
            Path(args.json).write_text(json.dumps({"sizes": sizes}, indent=1))
        served = None if args.no_server else rounds(args, work)
    lines = report(args, sizes, served)
    print("\n".join(lines))
    if args.json:
        Path(args.json).write_text(json.dumps({"sizes": sizes, "served": served}, indent=1))
    if not args.no_write:
        sections.replace(args.out, lines, BEGIN, END)
    return 0


if __name__ == "__main__":
    sys.exit(main())
