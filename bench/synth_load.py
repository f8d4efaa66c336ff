"""Generate a synthetic archive and import it, against the raw SQLite ceiling, in one run.

    python bench/synth_load.py --persons 2000
    python bench/synth_load.py --persons 100000 --dir /var/tmp   # several million events

Phases, each timed (files in a fresh temporary directory, --dir to choose its parent):

  vocabulary  parse every date string of the synthetic vocabulary once (edtf is slow)
  generate    service.tools.synth.generate into a JSON Lines export file
  import      service.tools.transfer.import_log into a new database: verify every line and the
              chain, insert into `events`, build every projection (rebuild from the log),
              checkpoint and move into place; the sub-phases are timed by wrapping
              verify_lines, Runner.ensure and Runner.rebuild (nothing in the project is
              changed), each printed as it ends, rebuilds reporting progress every 30 s
  ceiling     the same rows, decoded from the same file, inserted with executemany in
              batches of 10,000 into a bare table (no indexes, no triggers) with the pragmas
              import_log uses (WAL, synchronous=OFF, 64 MB cache): what SQLite alone can do

Rates are events per second. Peak RSS is the process's high-water mark after each phase
(resource.getrusage). Ratios are printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import msgspec

from starosta.events.chain import HASHED_COLUMNS
from starosta.events.store import StoredRow
from starosta.projections.runner import Runner
from starosta.service.tools import synth, transfer


def peak_rss_mib() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def timed_import(path: str, db: str, events: int) -> dict[str, float]:
    """Run the real import_log, timing its phases by wrapping two of its callees.

    Each phase is printed as it ends, and a rebuild reports its progress every 30 s, so a
    run stopped early still shows where the time went.
    """
    phases: dict[str, float] = {}
    verify, rebuild, ensure = transfer.verify_lines, Runner.rebuild, Runner.ensure
    marks: dict[str, float] = {}

    def done(name: str, seconds: float) -> None:
        phases[name] = seconds
        print(f"    {name:<42} {seconds:8.1f} s  {events / max(seconds, 1e-9):>12,.0f} events/s", flush=True)

    def timed_verify(*args, **kwargs):
        started = time.perf_counter()
        try:
            return verify(*args, **kwargs)
        finally:
            marks["verified"] = time.perf_counter()
            done("verify lines and chain", marks["verified"] - started)

    def timed_ensure(self, *args, **kwargs):
        done("migrate and insert into events", time.perf_counter() - marks["verified"])
        started = time.perf_counter()
        try:
            return ensure(self, *args, **kwargs)
        finally:
            marks["ensured"] = time.perf_counter()
            done("projections (runner.ensure)", marks["ensured"] - started)

    def timed_rebuild(self, store, name, progress=None, *args, **kwargs):
        started = time.perf_counter()
        last = [started, 0]

        def report(name: str, position: int, head: int) -> None:
            now = time.perf_counter()
            if now - last[0] >= 30:
                rate = (position - last[1]) / (now - last[0])
                print(f"      rebuild {name}: {position:,}/{head:,} after {now - started:.0f} s, "
                      f"now {rate:,.0f} events/s, peak RSS {peak_rss_mib():.0f} MiB", flush=True)
                last[:] = [now, position]
            if progress:
                progress(name, position, head)

        try:
            return rebuild(self, store, name, report, *args, **kwargs)
        finally:
            done(f"rebuild {name}", time.perf_counter() - started)

    transfer.verify_lines, Runner.rebuild, Runner.ensure = timed_verify, timed_rebuild, timed_ensure
    started = time.perf_counter()
    try:
        transfer.import_log(path, db)
    finally:
        transfer.verify_lines, Runner.rebuild, Runner.ensure = verify, rebuild, ensure
    total = time.perf_counter() - started
    done("checkpoint, fsync, move", time.perf_counter() - marks["ensured"])
    phases["import total"] = total
    return phases


def ceiling(path: str, db: str) -> tuple[float, float]:
    """Insert the file's rows into a bare table; return (seconds in executemany, seconds in all)."""
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -65536")
    columns = (*HASHED_COLUMNS, "hash")
    conn.execute(f"CREATE TABLE bare ({', '.join(columns)})")
    sql = f"INSERT INTO bare VALUES ({','.join('?' * len(columns))})"
    decode = msgspec.json.Decoder(StoredRow).decode
    inserting = 0.0
    started = time.perf_counter()
    conn.execute("BEGIN")
    batch: list[tuple] = []
    with open(path, "rb") as f:
        for line in f:
            row = decode(line)
            batch.append(tuple(getattr(row, c) for c in columns))
            if len(batch) >= 10_000:
                t = time.perf_counter()
                conn.executemany(sql, batch)
                inserting += time.perf_counter() - t
                batch.clear()
    t = time.perf_counter()
    conn.executemany(sql, batch)
    conn.execute("COMMIT")
    inserting += time.perf_counter() - t
    total = time.perf_counter() - started
    conn.close()
    return inserting, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--dir", default=None, help="parent directory of the temporary files")
    parser.add_argument("--keep", action="store_true", help="keep the export file and database")
    parser.add_argument("--skip-ceiling", action="store_true")
    args = parser.parse_args()

    print(f"python {platform.python_version()}, sqlite {sqlite3.sqlite_version}, "
          f"{os.cpu_count()} cpus, persons={args.persons}, seed={args.seed}")
    work = tempfile.mkdtemp(prefix="synth-load-", dir=args.dir)
    path, db = os.path.join(work, "synthetic.jsonl"), os.path.join(work, "imported.db")

    started = time.perf_counter()
    strings = synth.preparse()
    print(f"vocabulary  {strings:,} date strings parsed once in {time.perf_counter() - started:.1f} s")

    started = time.perf_counter()
    last = [started]

    def progress(done: int, total: int) -> None:
        now = time.perf_counter()
        if now - last[0] >= 30:
            last[0] = now
            print(f"  generated {done:,}/{total:,} persons ({now - started:.0f} s, "
                  f"peak RSS {peak_rss_mib():.0f} MiB)", flush=True)

    with open(path, "wb", buffering=1 << 20) as f:
        counts = synth.generate(f, args.persons, args.seed, progress)
    gen_seconds = time.perf_counter() - started
    events = sum(counts.values())
    size = os.path.getsize(path)
    print(f"generate    {events:,} events in {gen_seconds:.1f} s = {events / gen_seconds:,.0f} events/s; "
          f"{size / 2**20:,.1f} MiB ({size / events:.0f} bytes/event); peak RSS {peak_rss_mib():.0f} MiB")
    for tag, n in counts.items():
        print(f"    {tag:<24} {n:>10,}")
    sys.stdout.flush()

    print("import      (phases as they end)", flush=True)
    phases = timed_import(path, db, events)
    total = phases["import total"]
    print(f"import      {events:,} events in {total:.1f} s = {events / total:,.0f} events/s "
          f"(verify + insert + projections); peak RSS {peak_rss_mib():.0f} MiB; "
          f"database {os.path.getsize(db) / 2**20:,.1f} MiB")

    if not args.skip_ceiling:
        inserting, with_decode = ceiling(path, os.path.join(work, "bare.db"))
        insert_phase = phases["migrate and insert into events"]
        print(f"ceiling     bare executemany {events / inserting:,.0f} rows/s "
              f"({events / with_decode:,.0f} rows/s with decoding the file)")
        print(f"ratios      import/ceiling {events / total / (events / with_decode):.2f}; "
              f"events-table insert phase/ceiling {events / insert_phase / (events / with_decode):.2f}; "
              f"generate/ceiling {events / gen_seconds / (events / with_decode):.2f}")
        os.unlink(os.path.join(work, "bare.db"))
    print(f"peak RSS    {peak_rss_mib():.0f} MiB")
    if args.keep:
        print(f"kept        {work}")
    else:
        for name in os.listdir(work):
            os.unlink(os.path.join(work, name))
        os.rmdir(work)


if __name__ == "__main__":
    main()
