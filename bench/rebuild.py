"""Issue 25, item 2: rebuilds at replay speed. Standalone; writes its own section of
bench/RESULTS.md (between the markers below). Never asserted.

For each archive given (a SQLite file, copied first: the original is never written), each
rebuild runs in a fresh process (`Runner.rebuild_many`, what `starosta rebuild` runs, without
the content hashes) and reports:

* events/s: the log's events over the rebuild's wall time (read, decode, apply, deferred
  work, catch-up and swap);
* rows/s: the rows the rebuilt tables hold over the same time, beside raw `executemany` of
  as many rows (shaped like a read model's: a random text key, two short columns, a ~100-byte
  text, one secondary index) into a fresh table in one transaction, in the same run;
* peak RSS of the process (wait4).

Each of: every read model together (one pass over the log, as `starosta rebuild`), and each
read model alone (with what it reads, `Runner.with_dependencies`), with `--mode batched` (the
code as it is: `Projection.apply_batch`) and `--mode plain` (the same code applying one event
at a time: the before, measured in the same run).

    python bench/rebuild.py --archive /work/bench-cache/synth-100k.db --archive /work/bench-cache/synth-1m.db
    python bench/rebuild.py --archive var/small.db --models all --modes batched --no-write
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if str(Path(__file__).resolve().parent) not in sys.path:  # bench/ is no package
    sys.path.insert(0, str(Path(__file__).resolve().parent))
import sections  # noqa: E402  (bench/sections.py: the report's sections)

ROOT = Path(__file__).resolve().parent.parent
BEGIN, END = "<!-- rebuild.py: begin -->", "<!-- rebuild.py: end -->"
TARGET_EVENTS, TARGET_ROWS = 40_000, 0.5  # the issue's: >= 40,000 events/s at 1M, rows/s >= 0.5x raw


# -- the child: one rebuild ----------------------------------------------------------------------

def child(db: str, models: str, mode: str, batch_size: int) -> dict[str, Any]:
    from starosta.projections import runner as runner_module
    from starosta.projections import sql
    from starosta.projections.read_models import default_runner
    from starosta.service.backends import backend_for

    if mode == "plain":  # the before: every read model applies one event at a time
        def one_at_a_time(p, conn, envelopes, tables) -> None:
            for envelope in envelopes:
                p.apply(conn, envelope, tables)
        runner_module.apply_batch = one_at_a_time
    runner = default_runner()
    names = runner.names() if models == "all" else models.split(",")
    store = backend_for(db).open_builder_store()
    try:
        chosen = [p.name for p in runner.with_dependencies(names)]
        events = store.head().position
        started, cpu = time.perf_counter(), time.process_time()
        runner.rebuild_many(store, chosen, batch_size=batch_size, digest=False)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        conn = store.reader()
        with sql.snapshot(conn):
            rows = {p.name: sum(conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in p.ddl)
                    for p in runner.projections if p.name in chosen}
    finally:
        store.close()
    return {"seconds": seconds, "cpu": cpu, "events": events, "rows": rows, "chosen": chosen}


def raw_rows(n: int):
    """`n` rows shaped like a read model's, in random key order (streamed: memory flat)."""
    filler = "x" * 100
    for i in range(n):
        key = hashlib.blake2b(i.to_bytes(8, "little"), digest_size=8).hexdigest()
        yield (f"C-{key}", "approved", i, f"{filler}{i}")


def raw_child(path: str, n: int) -> dict[str, Any]:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("CREATE TABLE t (id TEXT PRIMARY KEY, status TEXT NOT NULL, position INTEGER NOT NULL, "
                 "data TEXT NOT NULL)")
    conn.execute("CREATE INDEX t_status ON t (status, position)")
    started, cpu = time.perf_counter(), time.process_time()
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany("INSERT INTO t VALUES (?, ?, ?, ?)", raw_rows(n))
    conn.execute("COMMIT")
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    conn.close()
    return {"seconds": seconds, "cpu": cpu, "rows": n}


# -- the parent ----------------------------------------------------------------------------------

def spawn(args: list[str], timeout: float, code: Path | None = None) -> dict[str, Any]:
    """Run this script as a child with `args` (with the starosta package of the checkout
    `code` when given); return its JSON answer with peak RSS (MiB)."""
    env = {**os.environ, "PYTHONPATH": str(code)} if code else None
    proc = subprocess.Popen([sys.executable, __file__, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True, env=env)
    deadline = time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            os.killpg(proc.pid, 9)
            os.wait4(proc.pid, 0)
            raise TimeoutError(f"{' '.join(args)}: stopped after {timeout:.0f} s")
        time.sleep(0.2)
    out, err = proc.stdout.read(), proc.stderr.read()  # type: ignore[union-attr]
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(args)} failed: {err.decode()[-1500:]}")
    answer = json.loads(out.decode().strip().splitlines()[-1])
    answer["rss_mib"] = usage.ru_maxrss / 1024
    return answer


def copy_archive(source: Path, work: Path) -> Path:
    """A copy of a SQLite archive (its WAL folded in first, read-only: the original unchanged)."""
    target = work / source.name
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dest = sqlite3.connect(target)
    src.backup(dest)
    dest.close()
    src.close()
    return target


def measure(archive: Path, work: Path, models: list[str], modes: list[str], batch_size: int,
            timeout: float, baseline: Path | None) -> list[dict[str, Any]]:
    out = []
    for model in models:
        for mode in modes:
            db = copy_archive(archive, work)
            print(f"  {archive.name}: {model} ({mode})", flush=True)
            try:
                got = spawn(["--child-db", str(db), "--models", model,
                             "--mode", "plain" if mode == "plain" else "batched",
                             "--batch-size", str(batch_size)], timeout,
                            baseline if mode == "baseline" else None)
            except (TimeoutError, RuntimeError) as exc:
                print(f"    {exc}", flush=True)
                got = {"error": str(exc)}
            finally:
                for suffix in ("", "-wal", "-shm", ".rebuild-lock"):
                    Path(f"{db}{suffix}").unlink(missing_ok=True)
            got.update(model=model, mode=mode, archive=archive.name)
            if "rows" in got:
                rows = sum(got["rows"].values())
                raw = spawn(["--raw-db", str(work / "raw.db"), "--raw-rows", str(rows)], timeout)
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{work / 'raw.db'}{suffix}").unlink(missing_ok=True)
                got["raw_rows_per_s"] = raw["rows"] / raw["seconds"]
                got["raw_rows_per_cpu_s"] = raw["rows"] / max(raw["cpu"], 1e-6)
                got["rows_total"] = rows
                print(f"    {got['events'] / got['seconds']:,.0f} events/s "
                      f"({got['events'] / max(got['cpu'], 1e-6):,.0f} per CPU-s), "
                      f"{rows / got['seconds']:,.0f} rows/s (raw {got['raw_rows_per_s']:,.0f}), "
                      f"{got['seconds']:.1f} s, peak RSS {got['rss_mib']:.0f} MiB", flush=True)
            out.append(got)
    return out


def report(results: list[dict[str, Any]], args: argparse.Namespace) -> list[str]:
    lines = [BEGIN, "", f"## Rebuilds (bench/rebuild.py, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC)", "",
             "Each rebuild in a fresh process on a copy of the archive (`Runner.rebuild_many`, no "
             "content hashes); `batched` is the code as it is (`Projection.apply_batch`), `plain` the "
             "same code applying one event at a time, `baseline` the code of main before this work "
             "(`--baseline`), each the before in the same run. rows/s: rows the rebuilt "
             "tables hold over the wall time, beside raw `executemany` of as many read-model-shaped rows "
             "in one transaction, measured right after it. The machine is shared (2 cores, other "
             "work running): wall-time rates swing with the load, so each is also given per CPU-second "
             f"of the process (time.process_time), the steadier figure to compare. Targets: >= {TARGET_EVENTS:,} events/s at 1M "
             f"events, rows/s >= {TARGET_ROWS}x raw, memory flat. Batch size {args.batch_size:,}. "
             "2 shared cores, other work running: compare within a row group.", "",
             "| archive | read model | mode | events | s (CPU s) | events/s (per CPU-s) | rows | rows/s (per CPU-s) "
             "| raw executemany rows/s (per CPU-s) | ratio (CPU) | peak RSS MiB |",
             "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in results:
        if "error" in r:
            lines.append(f"| {r['archive']} | {r['model']} | {r['mode']} | | | {r['error'][:120]} | | | | | |")
            continue
        rate, rows_rate = r["events"] / r["seconds"], r["rows_total"] / r["seconds"]
        cpu = max(r["cpu"], 1e-6)
        raw, raw_cpu = r["raw_rows_per_s"], r["raw_rows_per_cpu_s"]
        lines.append(f"| {r['archive']} | {r['model']}{' (+' + ', '.join(c for c in r['chosen'] if c != r['model']) + ')' if r['model'] != 'all' and len(r['chosen']) > 1 else ''} "
                     f"| {r['mode']} | {r['events']:,} | {r['seconds']:.1f} ({cpu:.1f}) "
                     f"| {rate:,.0f} ({r['events'] / cpu:,.0f}) | {r['rows_total']:,} "
                     f"| {rows_rate:,.0f} ({r['rows_total'] / cpu:,.0f}) | {raw:,.0f} ({raw_cpu:,.0f}) "
                     f"| {rows_rate / raw:.2f}x ({r['rows_total'] / cpu / raw_cpu:.2f}x) | {r['rss_mib']:.0f} |")
    by = {(r["archive"], r["model"], r["mode"]): r for r in results if "error" not in r}
    speedups = []
    for (archive, model, mode), r in by.items():
        for other in ("plain", "baseline"):
            before = by.get((archive, model, other))
            if mode == "batched" and before:
                speedups.append(f"{archive} {model} vs {other}: {before['seconds'] / r['seconds']:.2f}x wall, "
                                f"{before['cpu'] / max(r['cpu'], 1e-6):.2f}x CPU")
    if speedups:
        lines += ["", "batched vs the before (its time / batched's, same run): " + "; ".join(speedups) + "."]
    lines += [*(["", *args.note] if args.note else []), "", END]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--archive", action="append", type=Path, default=[],
                        help="a SQLite archive to rebuild (copied first); repeat for several sizes")
    parser.add_argument("--models", default="all,registry,search,claims,population,ledger,biographies",
                        help="comma-separated: 'all' (every read model in one pass) and/or read models")
    parser.add_argument("--modes", default="batched,plain",
                        help="batched, plain and/or baseline (the code of --baseline)")
    parser.add_argument("--baseline", type=Path, default=None,
                        help="a checkout whose code `baseline` runs (e.g. `git archive main | tar -x -C DIR`)")
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--timeout", type=float, default=1800, help="time bound per rebuild (s)")
    parser.add_argument("--note", action="append", default=[],
                        help="a line to add under the table (figures of another run, say)")
    parser.add_argument("--no-write", action="store_true", help="print the section, leave RESULTS.md")
    parser.add_argument("--child-db", help=argparse.SUPPRESS)
    parser.add_argument("--mode", default="batched", help=argparse.SUPPRESS)
    parser.add_argument("--raw-db", help=argparse.SUPPRESS)
    parser.add_argument("--raw-rows", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_db:
        print(json.dumps(child(args.child_db, args.models, args.mode, args.batch_size)))
        return
    if args.raw_db:
        print(json.dumps(raw_child(args.raw_db, args.raw_rows)))
        return
    if not args.archive:
        parser.error("give at least one --archive")
    models, modes = args.models.split(","), args.modes.split(",")
    results: list[dict[str, Any]] = []
    work = Path(tempfile.mkdtemp(prefix="rebuild-bench-"))
    try:
        for archive in args.archive:
            results += measure(archive, work, models, modes, args.batch_size, args.timeout,
                               args.baseline)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    lines = report(results, args)
    print("\n".join(lines))
    if not args.no_write:
        sections.replace(ROOT / "bench" / "RESULTS.md", lines, BEGIN, END)


if __name__ == "__main__":
    main()
