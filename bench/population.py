"""Populations at scale (issue 25, item 4): GET /places/{id}/population at a year and at a month
of the busiest place of a synthetic archive (the place with the most approved custody claims,
the year the most of its episodes cover), each beside the bare Litestar GET of a document of
the same size (bench/ceiling_app.py), in alternating wrk rounds in one run, the best of each
side kept. Measured in the same run, the three ways an answer is made:

- stored, lean path: `?at=1938` (or `?at=1938-06`), the stored document's bytes answered in
  front of Litestar (service/api/lean.py);
- stored, through Litestar: `?at=1938&include_children=false` (the same document, Litestar's
  routing and handler, a lookup of the stored row);
- the query path, the "before": `?at=1938-01-01/1938-12-31`, the same days as an EDTF
  interval, which is never stored and is computed on every request as before issue 25.

Writes its own section of bench/RESULTS.md (bench/sections.py).

    python bench/population.py --db /work/bench-cache/synth-1m.db    # copied first
    python bench/population.py --events 100000                       # starosta synth first
    python bench/population.py --db x.db --seconds 3 --no-write

The archive is copied into a temporary folder (its read models are brought up to date by the
server there: a changed read model is rebuilt at start); servers run in their own process
groups and are stopped at the end.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

bench = sys.modules.get("bench_run")  # loaded by bench/run.py: its module
if bench is None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import run as bench  # noqa: E402  (bench/run.py: its helpers and its CHILDREN)
import sections  # noqa: E402  (bench/sections.py: the report's sections)

BEGIN, END = "<!-- population.py: begin -->", "<!-- population.py: end -->"


def busiest(db: Path) -> dict:
    """The place with the most approved custody episodes, the year most of them may cover,
    and the archive's size in events, read from the database (read-only)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        events = conn.execute("SELECT max(position) FROM events").fetchone()[0] or 0
        place, claims = conn.execute(
            "SELECT place_id, count(*) FROM custody_episodes WHERE status = 'approved' AND "
            "superseded_by IS NULL AND place_id IS NOT NULL GROUP BY place_id "
            "ORDER BY 2 DESC, 1 LIMIT 1").fetchone()
        years: Counter[int] = Counter()
        for start, end in conn.execute(
                "SELECT start_earliest, COALESCE(end_latest, open_bound) FROM custody_episodes "
                "WHERE place_id = ? AND status = 'approved' AND superseded_by IS NULL", (place,)):
            if start and end and end >= start:
                years.update(range(int(start[:4]), int(end[:4]) + 1))
        year, covering = max(years.items(), key=lambda kv: (kv[1], -kv[0]))
    finally:
        conn.close()
    return {"events": events, "place": place, "claims": claims, "year": year, "covering": covering}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, help="a SQLite archive (copied first)")
    parser.add_argument("--events", type=int, default=100_000,
                        help="without --db: a `starosta synth` archive of about this many events, "
                             "written in the temporary folder")
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--start-timeout", type=float, default=3600,
                        help="seconds the server may take to start (a read model rebuilt)")
    parser.add_argument("--out", type=Path, default=bench.ROOT / "bench" / "RESULTS.md")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    bench.stop_on_sigterm()
    load_before = os.getloadavg()[0]
    rows: list[tuple[str, str, str, float]] = []
    with tempfile.TemporaryDirectory(prefix="starosta-population-") as tmp:
        work = Path(tmp)
        db = work / "archive.db"
        if args.db:
            print(f"copying {args.db} ...", flush=True)
            shutil.copyfile(args.db, db)
        else:
            persons = max(1, round(args.events / bench.EVENTS_PER_PERSON))
            print(f"starosta synth --persons {persons} ...", flush=True)
            out = bench.run_bounded([bench.STAROSTA, "synth", "--persons", str(persons), "--seed", "1",
                                     "--out", str(work / "archive.jsonl"), "--load", str(db)], 3600)
            if out["rc"] != 0:
                raise RuntimeError((out["stderr"] + out["stdout"])[-1500:])
            (work / "archive.jsonl").unlink()
        started = time.perf_counter()
        ceiling = bench.ceiling_server(work)
        server = bench.project_server("population", db, work, timeout=args.start_timeout)
        start_seconds = time.perf_counter() - started
        try:
            found = busiest(db)
            place, year = found["place"], found["year"]
            base = f"/places/{place}/population"
            ways = [(f"at={year}, stored, lean path", f"{base}?at={year}"),
                    (f"at={year}, stored, through Litestar", f"{base}?at={year}&include_children=false"),
                    (f"at={year}-01-01/{year}-12-31, the query path (before)",
                     f"{base}?at={year}-01-01/{year}-12-31"),
                    (f"at={year}-06, stored, lean path", f"{base}?at={year}-06")]
            firsts = {}
            for name, path in ways:
                t0 = time.perf_counter()
                bench.get_ok(server.url(path))  # the first answer computes (and stores) it
                firsts[name] = (time.perf_counter() - t0) * 1000
            for name, path in ways:
                size = len(bench.get_ok(server.url(path)))
                bench.get_ok(ceiling.url(f"/doc/{size}"))
                bare_loads, project_loads = [], []
                for _ in range(args.rounds):
                    bare_loads.append(bench.wrk(ceiling.url(f"/doc/{size}"), args.seconds, args.connections))
                    project_loads.append(bench.wrk(server.url(path), args.seconds, args.connections))
                bare = max(bare_loads, key=lambda load: load.rps)
                project = max(project_loads, key=lambda load: load.rps)
                errors = project.non2xx + project.socket_errors
                ratio = project.rps / bare.rps
                rows.append((f"{name} ({size:,} B; first answer {bench.fmt_ms(firsts[name])})",
                             f"{project.rps:,.0f} req/s, p99 {bench.fmt_ms(project.p99)}"
                             + (f", {errors} errors" if errors else ""),
                             f"{bare.rps:,.0f} req/s, p99 {bench.fmt_ms(bare.p99)}", ratio))
                print(f"{name}: {project.rps:,.0f} req/s vs bare {bare.rps:,.0f}: {ratio:.2f}x", flush=True)
        finally:
            server.stop()
            ceiling.stop()
            bench.CHILDREN.stop_all()
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [BEGIN, "", f"## Populations at scale (bench/population.py, {found['events']:,} events, {stamp})", "",
             f"Busiest place {found['place']} ({found['claims']:,} approved custody claims; "
             f"{found['covering']:,} of its episodes may cover {found['year']}). wrk -t2 "
             f"-c{args.connections}, {args.seconds:g} s rounds, best of {args.rounds} alternating "
             f"rounds per side; {os.cpu_count()} cores, client and server on the same machine; "
             f"server start {start_seconds:.0f} s (read models brought up to date); load average "
             f"{load_before:.2f} before, {os.getloadavg()[0]:.2f} after (other work on the machine "
             "moves every figure: compare the ratios of one run). Target: >= 0.5x the bare GET.", "",
             "| measure | project | bare Litestar GET, same size | ratio |", "| --- | --- | --- | --- |"]
    lines += [f"| {m} | {p} | {b} | {r:.2f}x |" for m, p, b, r in rows]
    lines += ["", END]
    print("\n".join(lines))
    if not args.no_write:
        sections.replace(args.out, lines, BEGIN, END)
    return 0


if __name__ == "__main__":
    sys.exit(main())
