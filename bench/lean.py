"""Stored documents beside the bare server (issue 25, item 3): GET /persons/{id}/biography and
GET /health of the demo archive, each against the bare Litestar GET of a document of the same
size (bench/ceiling_app.py), in alternating wrk rounds in one run, the best of each side kept;
also a conditional GET (If-None-Match: the document's ETag, answered 304) against the bare GET
of a 64-byte document. Each is also measured through Litestar's full path in the same run (the
same URL with `?format=json`, which the lean path leaves to Litestar: the same answer), the
"before" of service/api/lean.py. Writes its own section of bench/RESULTS.md ("Stored documents, lean path").

    python bench/lean.py                     # 5 s rounds, 2 rounds, 16 connections
    python bench/lean.py --seconds 3 --no-write

Uses bench/run.py's helpers (servers in their own process groups, stopped at the end).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import sys
import tempfile
from pathlib import Path

bench = sys.modules.get("bench_run")  # loaded by bench/run.py (write_report): its module
if bench is None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import run as bench  # noqa: E402  (bench/run.py: its helpers and its CHILDREN)

SECTION = "## Stored documents, lean path (bench/lean.py)"
BEGIN, END = "<!-- lean.py: begin -->", "<!-- lean.py: end -->"
_SECTION = re.compile(re.escape(SECTION) + r".*?(?=^## |\Z)", re.S | re.M)


def existing_section(path: Path) -> list[str]:
    """The lines of this section in the report at `path` (none when it has none): bench/run.py
    keeps it when it rewrites the report."""
    import sections

    return sections.existing(path, BEGIN, END) or []


def write_section(path: Path, text: str) -> None:
    """Replace this section of the report (between its markers), or add it before its Notes."""
    import sections

    if path.exists() and BEGIN not in (report := path.read_text()):
        path.write_text(_SECTION.sub("", report))  # a section written before it had markers
    sections.replace(path, [BEGIN, "", text.rstrip("\n"), "", END], BEGIN, END)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--out", type=Path, default=bench.ROOT / "bench" / "RESULTS.md")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    bench.stop_on_sigterm()
    rows: list[tuple[str, str, str, str, float]] = []
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="starosta-lean-") as tmp:
        work = Path(tmp)
        db = work / "demo.db"
        out = bench.run_bounded([bench.STAROSTA, "demo", "--db", str(db)], timeout=600)
        if out["rc"] != 0:
            raise RuntimeError(out["stderr"][-1500:])
        ceiling = bench.ceiling_server(work)
        server = bench.project_server("demo", db, work, timeout=120)
        try:
            found = json.loads(bench.get_ok(server.url("/persons?q=monclus")))["items"]
            person = next((i["id"] for i in found if "vicente" in json.dumps(i).lower()), found[0]["id"])
            bio = f"/persons/{person}/biography"
            import urllib.request
            with urllib.request.urlopen(server.url(bio)) as r:
                etag = r.headers["ETag"]
            script = work / "inm.lua"
            script.write_text(f'wrk.headers["If-None-Match"] = {json.dumps(etag)}\n')
            for name, path, lua in (("GET biography, Monclús, demo archive", bio, None),
                                    ("GET /health", "/health", None),
                                    ("GET biography with If-None-Match (304)", bio, str(script))):
                size = 64 if lua else len(bench.get_ok(server.url(path)))
                bench.get_ok(ceiling.url(f"/doc/{size}"))
                assert bench.request("GET", server.url(path + "?format=json"))[0] == 200
                bare_loads, project_loads, full_loads = [], [], []
                for _ in range(args.rounds):
                    bare_loads.append(bench.wrk(ceiling.url(f"/doc/{size}"), args.seconds, args.connections))
                    project_loads.append(bench.wrk(server.url(path), args.seconds, args.connections, script=lua))
                    full_loads.append(bench.wrk(server.url(path + "?format=json"), args.seconds,
                                                args.connections, script=lua))
                bare, project, full = (max(loads, key=lambda load: load.rps)
                                       for loads in (bare_loads, project_loads, full_loads))
                ratio = project.rps / bare.rps
                rows.append((f"{name} ({size:,} B)", f"{project.rps:,.0f} req/s, p99 {bench.fmt_ms(project.p99)}",
                             f"{full.rps:,.0f} req/s, p99 {bench.fmt_ms(full.p99)} ({full.rps / bare.rps:.2f}x)",
                             f"{bare.rps:,.0f} req/s, p99 {bench.fmt_ms(bare.p99)}", ratio))
                print(f"{name}: {project.rps:,.0f} req/s (Litestar's path {full.rps:,.0f}) vs bare "
                      f"{bare.rps:,.0f}: {ratio:.2f}x", flush=True)
        finally:
            server.stop()
            ceiling.stop()
            bench.CHILDREN.stop_all()
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [SECTION, "", f"{stamp}; wrk -t2 -c{args.connections}, {args.seconds:g} s rounds, best of "
             f"{args.rounds} alternating rounds per side; {os.cpu_count()} cores, client and server on "
             f"the same machine; load average {load_before:.2f} before, "
             f"{os.getloadavg()[0]:.2f} after (other work on the machine moves every figure: compare "
             "the ratios of one run).", "",
             "| measure | project (lean path) | the same through Litestar (`?format=json`) | bare Litestar "
             "GET, same size | ratio (lean) |", "| --- | --- | --- | --- | --- |"]
    lines += [f"| {m} | {p} | {f} | {b} | {r:.2f}x |" for m, p, f, b, r in rows]
    text = "\n".join(lines) + "\n"
    print(text)
    if not args.no_write:
        write_section(args.out, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
