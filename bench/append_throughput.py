"""Append throughput of the event store against the raw SQLite ceiling, in one run.

    python bench/append_throughput.py --events 20000

Every measurement uses a fresh file in a temporary directory (on the same filesystem,
--dir to choose it), WAL mode and synchronous=FULL, so each commit is an fsync:

  raw-1     raw sqlite3, one INSERT + COMMIT per row, into the events table
            (the same schema, triggers and indexes), rows prepared beforehand
  raw-100   the same, 100 rows per transaction
  append    SQLiteEventStore.append, one event per call (one transaction each)
  group     a GroupCommitter fed by --threads submitters, each waiting for its
            future before submitting the next event (batches form from the queue)

`append` is compared with raw-1 (both commit once per event) and `group` with raw-100
(both amortise the commit over a batch). Each mode stops at --events or after
--max-seconds, whichever comes first, so a slow disk still finishes. Timings are
reported, never asserted.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import os
import platform
import resource
import sqlite3
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from starosta.events.catalog import CATALOG  # noqa: E402
from starosta.events.chain import HASHED_COLUMNS  # noqa: E402
from starosta.events.registry import PersonRegistered  # noqa: E402
from starosta.events.store import (  # noqa: E402
    AppendRequest,
    GroupCommitter,
    Job,
    Metadata,
    NewEvent,
)
from starosta.events.sqlite_store import SQLiteEventStore, connect  # noqa: E402
from starosta.service.db import migrate  # noqa: E402

META = Metadata(actor="bench", request_id="bench")


def peak_rss_mib() -> float:
    """Peak resident set size of this process so far, in MiB (ru_maxrss is KiB on Linux)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def event(i: int) -> PersonRegistered:
    return PersonRegistered(person_id=f"person-{i}", label=f"Ivanov, Ivan Ivanovich ({i})")


def raw_rows(n: int) -> list[tuple]:
    """Rows shaped like the store's, prepared before timing (encoding is not measured)."""
    rows = []
    for i in range(n):
        tag, schema_version, data = CATALOG.encode(event(i))
        rows.append((i + 1, uuid.uuid4().hex, f"person-{i}", 1, tag, schema_version,
                     data.decode(), META.actor, META.request_id, None,
                     "2026-01-01T00:00:00.000000Z", hashlib.sha256(data).hexdigest()))
    return rows


def bench_raw(path: str, rows: list[tuple], per_txn: int, max_seconds: float) -> tuple[int, float]:
    migrate(path)
    conn = connect(path, synchronous="FULL")
    sql = f"INSERT INTO events ({', '.join(HASHED_COLUMNS)}, hash) VALUES ({','.join('?' * 12)})"
    done = 0
    start = time.perf_counter()
    try:
        while done < len(rows) and time.perf_counter() - start < max_seconds:
            chunk = rows[done:done + per_txn]
            conn.execute("BEGIN IMMEDIATE")
            for row in chunk:
                conn.execute(sql, row)
            conn.execute("COMMIT")
            done += len(chunk)
        return done, time.perf_counter() - start
    finally:
        conn.close()


def bench_append(path: str, n: int, max_seconds: float) -> tuple[int, float]:
    migrate(path)
    store = SQLiteEventStore(path, CATALOG, synchronous="FULL")
    events = [event(i) for i in range(n)]
    done = 0
    start = time.perf_counter()
    try:
        for i, e in enumerate(events):
            store.append(f"person-{i}", [e], expected_version=0, meta=META)
            done += 1
            if done % 64 == 0 and time.perf_counter() - start >= max_seconds:
                break
        return done, time.perf_counter() - start
    finally:
        store.close()


def bench_group(path: str, n: int, threads: int, max_seconds: float) -> tuple[int, float, float]:
    migrate(path)
    store = SQLiteEventStore(path, CATALOG, synchronous="FULL")
    committer = GroupCommitter(store)
    jobs = [Job([AppendRequest(f"person-{i}", [NewEvent(event(i))], 0)], META) for i in range(n)]
    counter = itertools.count()
    counter_lock = threading.Lock()
    errors: list[BaseException] = []
    start = time.perf_counter()
    deadline = start + max_seconds

    def submitter() -> None:
        while time.perf_counter() < deadline:
            with counter_lock:
                i = next(counter)
            if i >= n:
                return
            try:
                committer.submit(jobs[i]).result(timeout=60)
            except BaseException as exc:  # noqa: BLE001 - reported after the run
                errors.append(exc)
                return

    workers = [threading.Thread(target=submitter) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - start
    committer.close()
    store.close()
    if errors:
        raise RuntimeError(f"{len(errors)} group-commit appends failed; first: {errors[0]!r}")
    batch = committer.jobs / committer.batches if committer.batches else 0.0
    return committer.jobs, elapsed, batch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=20_000, help="events per mode (default 20000)")
    parser.add_argument("--threads", type=int, default=64, help="group-commit submitters (default 64)")
    parser.add_argument("--max-seconds", type=float, default=12.0,
                        help="stop a mode after this long (default 12)")
    parser.add_argument("--dir", default=None, help="directory for the temporary files")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="starosta-bench-", dir=args.dir) as tmp:
        print(f"starosta append throughput: python {platform.python_version()}, "
              f"SQLite {sqlite3.sqlite_version}, {os.cpu_count()} CPUs, files in {tmp}")
        print(f"synchronous=FULL, WAL; up to {args.events} events or {args.max_seconds:g} s per mode")
        print()
        rows = raw_rows(args.events)
        results: dict[str, tuple[int, float]] = {}
        results["raw-1"] = bench_raw(os.path.join(tmp, "raw1.db"), rows, 1, args.max_seconds)
        results["raw-100"] = bench_raw(os.path.join(tmp, "raw100.db"), rows, 100, args.max_seconds)
        del rows
        results["append"] = bench_append(os.path.join(tmp, "append.db"), args.events, args.max_seconds)
        *group, batch = bench_group(os.path.join(tmp, "group.db"), args.events, args.threads,
                                    args.max_seconds)
        results["group"] = tuple(group)

    rate = {k: n / s if s else float("inf") for k, (n, s) in results.items()}
    labels = {
        "raw-1": "raw sqlite3, 1 row per commit (ceiling)",
        "raw-100": "raw sqlite3, 100 rows per commit (ceiling)",
        "append": "SQLiteEventStore.append, 1 event per call",
        "group": f"GroupCommitter, {args.threads} submitters (avg batch {batch:.1f})",
    }
    versus = {"append": ("raw-1", "of raw-1"), "group": ("raw-100", "of raw-100")}
    width = max(map(len, labels.values()))
    print(f"{'mode':<{width}}  {'events':>7}  {'seconds':>8}  {'events/s':>10}  vs ceiling")
    for key, (n, seconds) in results.items():
        ratio = ""
        if key in versus:
            ceiling, label = versus[key]
            ratio = f"{rate[key] / rate[ceiling]:.2f}x {label}"
        print(f"{labels[key]:<{width}}  {n:>7}  {seconds:>8.2f}  {rate[key]:>10,.0f}  {ratio}")
    print()
    print(f"peak RSS: {peak_rss_mib():.1f} MiB")


if __name__ == "__main__":
    main()
