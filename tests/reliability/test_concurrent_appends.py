"""Optimistic concurrency under real contention: of many appends racing for one
expected version, exactly one wins and every other raises ConcurrencyError.

Three kinds of contenders on one real SQLite file: threads each with its own store
(own connections), one GroupCommitter fed concurrently (one transaction, a SAVEPOINT
per job), and separate processes. After each race the chain must verify.
"""

from __future__ import annotations

import asyncio
import os
import queue
import sqlite3
import subprocess
import sys
import threading
import time
from concurrent.futures import Future, wait
from pathlib import Path

import pytest

from starosta.events.catalog import CATALOG
from starosta.events.sqlite_store import SQLiteEventStore, verify_connection
from starosta.events.registry import PersonRegistered
from starosta.events.store import (
    AppendRequest,
    ConcurrencyError,
    GroupCommitter,
    Job,
    Metadata,
    NewEvent,
)
from starosta.service.db import migrate, open_store

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
APPENDER = HERE / "_appender.py"
STREAM = "person-contested"
TIMEOUT = 30  # seconds: the bound on every wait in this module


def _verify(path: str, expected_count: int) -> None:
    conn = sqlite3.connect(path)
    try:
        verdict = verify_connection(conn)
        stored_ids = conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]
    finally:
        conn.close()
    assert verdict.ok, verdict.reason
    assert verdict.count == expected_count == stored_ids


def uuid_hex(rnd: int, i: int) -> str:
    """A deterministic event id (32 hex digits) for contender `i` of round `rnd`."""
    return f"{rnd:08x}{i:024x}"


def _event_ids(path: str, stream: str) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return [r[0] for r in conn.execute(
            "SELECT event_id FROM events WHERE stream_id = ? ORDER BY version", (stream,))]
    finally:
        conn.close()


# -- threads, each with its own store ---------------------------------------------------


@pytest.mark.parametrize("events_per_append", [1, 3])
def test_threads_with_own_stores_exactly_one_wins(tmp_path, events_per_append):
    n_threads, rounds = 8, 4
    db = str(tmp_path / "race.db")
    migrate(db)
    stores = [SQLiteEventStore(db, CATALOG, synchronous="FULL") for _ in range(n_threads)]
    winners_ids: list[str] = []
    try:
        for rnd in range(rounds):
            expected = rnd * events_per_append
            barrier = threading.Barrier(n_threads, timeout=TIMEOUT)
            batches = [[NewEvent(PersonRegistered(person_id=f"p-{rnd}-{i}-{j}", label=f"t{i}"))
                        for j in range(events_per_append)] for i in range(n_threads)]
            outcomes: list[object] = [None] * n_threads

            def contend(i: int) -> None:
                try:
                    barrier.wait()
                    outcomes[i] = stores[i].append(STREAM, batches[i], expected_version=expected,
                                                   meta=Metadata(actor=f"thread-{i}"))
                except BaseException as exc:  # noqa: BLE001 - inspected below
                    outcomes[i] = exc

            threads = [threading.Thread(target=contend, args=(i,)) for i in range(n_threads)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(TIMEOUT)
            assert not any(t.is_alive() for t in threads), "a contender hung"

            wins = [i for i, o in enumerate(outcomes) if isinstance(o, list)]
            conflicts = [o for o in outcomes if isinstance(o, ConcurrencyError)]
            assert len(wins) == 1, f"round {rnd}: {outcomes}"
            assert len(conflicts) == n_threads - 1, f"round {rnd}: {outcomes}"
            for exc in conflicts:
                assert (exc.stream_id, exc.expected, exc.actual) == (
                    STREAM, expected, expected + events_per_append)
            winner = wins[0]
            assert outcomes[winner] == list(range(expected + 1, expected + events_per_append + 1))
            winners_ids += [n.event_id for n in batches[winner]]
            # the stream holds the winner's events only, all of them, in order
            assert stores[0].stream_version(STREAM) == expected + events_per_append
            assert _event_ids(db, STREAM) == winners_ids
        _verify(db, rounds * events_per_append)
    finally:
        for s in stores:
            s.close()


# -- one GroupCommitter, many concurrent submitters --------------------------------------


def test_group_committer_concurrent_submitters_exactly_one_wins(tmp_path):
    n_threads, rounds = 16, 4
    db = str(tmp_path / "group.db")
    store = open_store(db)
    committer = GroupCommitter(store)
    try:
        for rnd in range(rounds):
            barrier = threading.Barrier(n_threads, timeout=TIMEOUT)
            futures: list[Future | None] = [None] * n_threads
            ids = [uuid_hex(rnd, i) for i in range(n_threads)]

            def submit(i: int) -> None:
                barrier.wait()
                event = NewEvent(PersonRegistered(person_id=f"p{i}", label="x"), ids[i])
                futures[i] = committer.submit(Job([AppendRequest(STREAM, [event], rnd)]))

            threads = [threading.Thread(target=submit, args=(i,)) for i in range(n_threads)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(TIMEOUT)
            assert all(f is not None for f in futures)
            done, pending = wait(futures, timeout=TIMEOUT)
            assert not pending
            wins = [i for i, f in enumerate(futures) if f.exception() is None]
            errors = [f.exception() for f in futures if f.exception() is not None]
            assert len(wins) == 1, errors
            assert all(isinstance(e, ConcurrencyError) and e.actual == rnd + 1 for e in errors), errors
            assert futures[wins[0]].result() == [[rnd + 1]]
            assert _event_ids(db, STREAM)[-1] == ids[wins[0]]
        assert store.stream_version(STREAM) == rounds
        _verify(db, rounds)
    finally:
        committer.close()
        store.close()


def test_group_committer_one_batch_conflicts_do_not_fail_neighbours(tmp_path):
    """Jobs queued together (likely one transaction): the racing ones fail alone."""
    n = 32
    db = str(tmp_path / "batch.db")
    store = open_store(db)
    committer = GroupCommitter(store)
    try:
        contested, independent = [], []
        for i in range(n):
            contested.append(committer.submit(Job([AppendRequest(
                STREAM, [NewEvent(PersonRegistered(person_id=f"c{i}", label="c"))], 0)])))
            independent.append(committer.submit(Job([AppendRequest(
                f"person-{i}", [NewEvent(PersonRegistered(person_id=f"i{i}", label="i"))], 0)])))
        _, pending = wait(contested + independent, timeout=TIMEOUT)
        assert not pending
        assert [f.exception() for f in independent] == [None] * n
        wins = [f for f in contested if f.exception() is None]
        assert len(wins) == 1
        assert all(isinstance(f.exception(), ConcurrencyError) for f in contested if f not in wins)
        assert store.stream_version(STREAM) == 1
        _verify(db, n + 1)
    finally:
        committer.close()
        store.close()


# -- separate processes ----------------------------------------------------------------


def _pump(stream, lines: queue.Queue) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)  # EOF


def _expect(lines: queue.Queue, prefix: str, deadline: float) -> str:
    """Return the next line, which must start with `prefix`, waiting until `deadline`."""
    remaining = deadline - time.monotonic()
    try:
        line = lines.get(timeout=max(remaining, 0.01))
    except queue.Empty:
        raise AssertionError(f"no {prefix!r} line before the deadline") from None
    assert line is not None, f"the process ended before printing {prefix!r}"
    assert line.startswith(prefix), f"expected {prefix!r}, got {line!r}"
    return line.strip()


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_processes_exactly_one_wins(tmp_path):
    k, rounds = 4, 3
    db = str(tmp_path / "procs.db")
    migrate(db)
    signal_dir = tmp_path / "signals"
    signal_dir.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "STAROSTA_TEST_DEADLINE": str(TIMEOUT * 2)}
    procs: list[subprocess.Popen] = []
    queues: list[queue.Queue] = []
    try:
        for _ in range(k):
            p = subprocess.Popen(
                [sys.executable, str(APPENDER), "race", db, STREAM, str(rounds), str(signal_dir)],
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT, env=env)
            procs.append(p)
            q: queue.Queue = queue.Queue()
            threading.Thread(target=_pump, args=(p.stdout, q), daemon=True).start()
            queues.append(q)
        for rnd in range(rounds):
            deadline = time.monotonic() + TIMEOUT
            for q in queues:
                assert _expect(q, "READY", deadline) == f"READY {rnd}"
            (signal_dir / f"go-{rnd}").touch()  # every contender is waiting: start them together
            results = [_expect(q, ("WIN", "CONFLICT"), deadline).split() for q in queues]
            assert all(r[1] == str(rnd) for r in results), results
            wins = [r for r in results if r[0] == "WIN"]
            assert len(wins) == 1, results
            assert wins[0][2] == str(rnd + 1)
            assert all(r[2] == str(rnd + 1) for r in results if r[0] == "CONFLICT"), results
        for p in procs:
            assert p.wait(TIMEOUT) == 0
        _verify(db, rounds)
        assert len(_event_ids(db, STREAM)) == rounds
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
            p.wait(TIMEOUT)
            p.stdout.close()


# -- a caller that gives up ------------------------------------------------------------


def test_cancelled_caller_does_not_stop_the_writer(tmp_path):
    store = open_store(str(tmp_path / "cancel.db"))
    committer = GroupCommitter(store)

    def job(i: int) -> Job:
        return Job([AppendRequest(f"person-{i}", [NewEvent(PersonRegistered(person_id=str(i),
                                                                            label="x"))], 0)])

    async def scenario() -> list[list[int]]:
        # Hold the write lock so the first append is still waiting when its caller gives up.
        assert store._write_lock.acquire(timeout=TIMEOUT)
        try:
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(committer.append(job(1)), 0.05)
        finally:
            store._write_lock.release()
        return await asyncio.wait_for(committer.append(job(2)), 3)

    try:
        # The abandoned append may or may not be written (depending on whether the writer
        # had started it); either way the next append is answered and the log is whole.
        assert asyncio.run(scenario()) in ([[1]], [[2]])
        assert committer._thread.is_alive()
        _verify(store.path, store.head().position)
    finally:
        committer.close()
        store.close()
