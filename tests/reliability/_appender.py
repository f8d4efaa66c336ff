"""A subprocess helper for the reliability tests (not a test module itself).

Three modes, each talking to the parent test over stdout, one line per message,
flushed as soon as it is written:

  python _appender.py race DB STREAM ROUNDS SIGNAL_DIR
      Open the store on DB. For each round r: print "READY r", wait until the file
      SIGNAL_DIR/go-r exists, then append one event to STREAM with expected_version=r
      and print "WIN r <position>" or "CONFLICT r <actual version>".

  python _appender.py writer DB
      Append events forever (one per call, or small batches) with synchronous=FULL,
      printing "ACK <position> <event_id>" for each event once append() has returned.

  python _appender.py group DB THREADS
      The same through one GroupCommitter fed by THREADS submitting threads; each
      thread prints its events' ACK lines when its future has resolved.

Every mode gives up by itself after DEADLINE seconds, so a process whose parent died
cannot linger. Any unexpected error is printed as "ERROR ..." and exits non-zero.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import traceback
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from starosta.events.registry import PersonRegistered, PlaceRegistered  # noqa: E402
from starosta.events.store import (  # noqa: E402
    ConcurrencyError,
    GroupCommitter,
    Job,
    Metadata,
    AppendRequest,
    NewEvent,
)
from starosta.service.db import open_store  # noqa: E402

DEADLINE = float(os.environ.get("STAROSTA_TEST_DEADLINE", "60"))
_START = time.monotonic()
_out_lock = threading.Lock()


def say(line: str) -> None:
    """Write one whole line to stdout and flush it (one write, so lines never interleave)."""
    with _out_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def expired() -> bool:
    return time.monotonic() - _START > DEADLINE


def race(db: str, stream: str, rounds: int, signal_dir: str) -> int:
    store = open_store(db, synchronous="FULL")
    try:
        for r in range(rounds):
            say(f"READY {r}")
            go = os.path.join(signal_dir, f"go-{r}")
            while not os.path.exists(go):  # a bounded poll for the start signal
                if expired():
                    say(f"ERROR round {r}: no start signal within {DEADLINE}s")
                    return 2
                time.sleep(0.001)
            event = PersonRegistered(person_id=f"p-{os.getpid()}-{r}", label=f"pid {os.getpid()}")
            try:
                positions = store.append(stream, [event], expected_version=r,
                                         meta=Metadata(actor=f"pid-{os.getpid()}"))
            except ConcurrencyError as exc:
                say(f"CONFLICT {r} {exc.actual}")
            else:
                say(f"WIN {r} {positions[0]}")
    finally:
        store.close()
    return 0


def _event(i: int):
    if i % 3 == 0:
        return PlaceRegistered(place_id=f"pl-{i}", label=f"Place {i}", kind="prison",
                               aliases=(f"alias {i}",))
    return PersonRegistered(person_id=f"p-{i}", label=f"Person {i} " + "x" * (i % 50))


def writer(db: str) -> int:
    store = open_store(db, synchronous="FULL")
    sync = store._writer.execute("PRAGMA synchronous").fetchone()[0]
    say(f"READY synchronous={sync}")
    versions: dict[str, int] = {}
    i = 0
    try:
        while not expired():
            stream = f"writer-{i % 5}"
            size = 1 + (i % 3)  # 1, 2 or 3 events per append, all or nothing
            batch = [NewEvent(_event(i + j)) for j in range(size)]
            positions = store.append(stream, batch, expected_version=versions.get(stream, 0),
                                     meta=Metadata(actor="writer", request_id=f"req-{i}"))
            versions[stream] = versions.get(stream, 0) + size
            # append() has returned: the transaction is committed (and fsynced, FULL).
            say("\n".join(f"ACK {p} {n.event_id}" for p, n in zip(positions, batch)))
            i += size
    finally:
        store.close()
    return 0


def group(db: str, threads: int) -> int:
    store = open_store(db, synchronous="FULL")
    committer = GroupCommitter(store, max_batch=64)
    sync = store._writer.execute("PRAGMA synchronous").fetchone()[0]
    failures: list[str] = []

    def submitter(t: int) -> None:
        version, n = 0, 0
        try:
            while not expired():
                size = 1 + (n % 2)
                own = [NewEvent(_event(t * 1_000_000 + n + j)) for j in range(size)]
                shared = [NewEvent(PersonRegistered(person_id=uuid.uuid4().hex, label="shared"))]
                job = Job([AppendRequest(f"group-{t}", own, version),
                           AppendRequest("group-shared", shared)],  # ANY: never conflicts
                          Metadata(actor=f"thread-{t}"))
                own_positions, shared_positions = committer.submit(job).result(timeout=30)
                version += size
                n += size
                pairs = [*zip(own_positions, own), *zip(shared_positions, shared)]
                say("\n".join(f"ACK {p} {e.event_id}" for p, e in pairs))
        except BaseException:  # noqa: BLE001 - report anything to the parent, then stop
            failures.append(traceback.format_exc())
            say("ERROR " + traceback.format_exc().replace("\n", " | "))

    workers = [threading.Thread(target=submitter, args=(t,), daemon=True) for t in range(threads)]
    say(f"READY synchronous={sync}")
    for w in workers:
        w.start()
    for w in workers:
        w.join(DEADLINE + 5)
    committer.close()
    store.close()
    return 1 if failures else 0


def main(argv: list[str]) -> int:
    mode, *args = argv
    try:
        if mode == "race":
            db, stream, rounds, signal_dir = args
            return race(db, stream, int(rounds), signal_dir)
        if mode == "writer":
            (db,) = args
            return writer(db)
        if mode == "group":
            db, threads = args
            return group(db, int(threads))
    except Exception:  # noqa: BLE001
        say("ERROR " + traceback.format_exc().replace("\n", " | "))
        return 1
    say(f"ERROR unknown mode {mode!r}")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
