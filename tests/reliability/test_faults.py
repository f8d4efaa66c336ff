"""Faults: a SIGKILL during `starosta rebuild` or `starosta import`, a full disk, a failing disk.

1. The real `starosta rebuild` on a synthetic archive, killed with SIGKILL while it replays the
   log into its next-generation tables and again while it swaps them in: the log verifies with
   the same head, the live read models hash as before, the served reads answer as before, a
   write is accepted, and the next rebuild drops what the killed one left and prints the hashes
   of the live tables.
2. The real `starosta import`, killed while it loads and again while it builds projections (a
   second import meanwhile is refused: the staging file is locked): the target never appears
   half-imported; the next import completes, leaves no staging file, and serves the same
   archive as the one exported.
3. A full disk (SQLite's `max_page_count` on the writer, `SQLiteEventStore.limit_pages`),
   through the real HTTP app: writes answer 503 problem+json with Retry-After and append
   nothing, reads answer 200, an Idempotency-Key refused is not "already done", and once space
   returns the next write takes the next position; the read models equal a replay of the log.
   The group committer under a full disk: a job that does not fit fails alone; a failure that
   takes SQLite's whole transaction with it fails that batch (every job, nothing written); the
   writer lives on.
4. A failing disk (SQLITE_IOERR: EFBIG past RLIMIT_FSIZE, in a subprocess): the same answers.
5. A rebuild that runs out of space fails, leaving the live tables and no shadow tables.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import anyio
import httpx
import pytest
from litestar.testing import TestClient

from starosta.events.registry import PersonRegistered, SourceRegistered
from starosta.events.store import AppendRequest, GroupCommitter, Job, NewEvent, StoreUnavailable
from starosta.projections.read_models import default_runner
from starosta.projections.runner import content_hash
from starosta.service.api.app import create_app
from starosta.service.db import open_store
from starosta.service.settings import Settings
from tests.api.conftest import Api, assert_problem, make_tokens

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
STAROSTA = str(Path(sys.executable).with_name("starosta"))
PERSONS = 600  # ~23,000 events: a rebuild or an import takes a second or two
TIMEOUT = 120  # seconds: the bound on every wait in this module
HASH_LINE = re.compile(r"^(\w+) content hash ([0-9a-f]{64})$", re.M)
SHADOW = re.compile(r"^(\w+?)__g(\d+)$")  # a next-generation table (projections.runner.shadow_name)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(300),
    pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL"),
]


# -- helpers -------------------------------------------------------------------------------------

def run_cli(*args: str, timeout: float = TIMEOUT) -> subprocess.CompletedProcess:
    return subprocess.run([STAROSTA, *args], capture_output=True, text=True, timeout=timeout,
                          cwd=ROOT, env={**os.environ, "COLUMNS": "120"})


def start_cli(*args: str) -> subprocess.Popen:
    return subprocess.Popen([STAROSTA, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            cwd=ROOT, start_new_session=True)


def read_only(db: str) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{os.path.abspath(db)}?mode=ro", uri=True, timeout=1)


def live_hashes(db: str) -> dict[str, str]:
    """The content hash of every read model's live tables."""
    conn = read_only(db)
    try:
        return {p.name: content_hash(conn, list(p.ddl)) for p in default_runner().projections}
    finally:
        conn.close()


def checkpoints(db: str) -> dict[str, tuple[int, int, int]]:
    conn = read_only(db)
    try:
        return {r[0]: (r[1], r[2], r[3]) for r in conn.execute(
            "SELECT name, version, position, generation FROM projection_checkpoints")}
    finally:
        conn.close()


def shadow_rows(db: str, watched: tuple[str, ...] = ("persons", "biographies")) -> dict[str, int] | None:
    """The next-generation tables a rebuild is filling, by logical name, with the row counts of
    the `watched` ones (-1 for the others); None while the file cannot be read."""
    try:
        conn = read_only(db)
        try:
            found = {}
            for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
                m = SHADOW.match(name)
                if m:
                    found[m.group(1)] = (conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
                                         if m.group(1) in watched else -1)
            return found
        finally:
            conn.close()
    except sqlite3.Error:
        return None


def verified(db: str) -> str:
    r = run_cli("verify", "--db", db)
    assert r.returncode == 0, r.stderr + r.stdout
    assert r.stdout.startswith("ok: "), r.stdout
    return r.stdout


def wait_then(proc: subprocess.Popen, ready: Callable[[], bool], sig: int) -> None:
    """Poll `ready` every few milliseconds; send `sig` to the process as soon as it holds.
    Fails when the process ends first or nothing happens within TIMEOUT."""
    deadline = time.monotonic() + TIMEOUT
    while not ready():
        assert proc.poll() is None, f"the process ended before the moment to stop it: " \
                                    f"{proc.returncode} {proc.stderr.read().decode()[-500:]}"
        assert time.monotonic() < deadline, "the moment to stop the process never came"
        time.sleep(0.003)
    os.killpg(proc.pid, sig)


def killed(proc: subprocess.Popen) -> None:
    """Wait for a process sent SIGKILL; assert that the kill, not the end of its work, ended it."""
    assert proc.wait(TIMEOUT) == -signal.SIGKILL, proc.returncode
    proc.stderr.close()


def copy_archive(src: str, dst: str) -> str:
    for suffix in ("", "-wal"):
        if os.path.exists(src + suffix):
            shutil.copyfile(src + suffix, dst + suffix)
    return dst


def served_reads(db: str, person: str, place: str, year: str) -> dict[str, object]:
    """Public reads of the served archive: biography, record, population, search, head."""
    paths = [f"/persons/{person}/biography", f"/persons/{person}", f"/places/{place}/population?at={year}",
             "/persons?q=synthetic&limit=20", "/events/head"]
    with TestClient(create_app(Settings(db=db))) as client:
        out = {}
        for path in paths:
            r = client.get(path)
            assert r.status_code == 200, (path, r.text)
            out[path] = r.json()
        return out


def accepts_a_write(db: str, tokens: dict[str, str]) -> int:
    """POST a source to the served archive; assert 201 at the next position; return it."""
    with TestClient(create_app(Settings(db=db))) as client:
        api = Api(client, tokens)
        head = client.get("/events/head").json()["position"]
        r = api.post("/sources", {"csl": {"type": "document", "title": "after the fault (test)"}})
        assert r.status_code == 201, r.text
        assert r.json()["position"] == head + 1
        return head + 1


@dataclass
class Synthetic:
    """A synthetic archive made by the real `starosta synth --load`, and what it answered."""

    jsonl: str
    db: str
    tokens: dict[str, str]
    verify: str
    hashes: dict[str, str]
    checkpoints: dict[str, tuple[int, int, int]]
    reads: dict[str, object]
    read_args: tuple[str, str, str]


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Synthetic:
    folder = tmp_path_factory.mktemp("synthetic")
    jsonl, db = str(folder / "synth.jsonl"), str(folder / "synth.db")
    r = run_cli("synth", "--persons", str(PERSONS), "--out", jsonl, "--load", db)
    assert r.returncode == 0, r.stderr + r.stdout
    tokens = make_tokens(db)
    conn = read_only(db)
    try:
        person = conn.execute("SELECT person_id FROM biographies ORDER BY length(document) DESC, "
                              "person_id LIMIT 1").fetchone()[0]
        place, year = conn.execute(
            "SELECT place_id, substr(min(start_earliest), 1, 4) FROM custody_episodes "
            "WHERE place_id IS NOT NULL GROUP BY place_id ORDER BY count(*) DESC, place_id LIMIT 1"
        ).fetchone()
    finally:
        conn.close()
    reads = served_reads(db, person, place, year)
    assert reads[f"/places/{place}/population?at={year}"]["count_max"] > 0  # type: ignore[index]
    return Synthetic(jsonl, db, tokens, verified(db), live_hashes(db), checkpoints(db), reads,
                     (person, place, year))


# -- 1. SIGKILL during rebuild ------------------------------------------------------------------

REBUILD_MOMENTS: dict[str, Callable[[dict[str, int]], bool]] = {
    # the first batches are committed into the next-generation tables
    "replaying": lambda rows: rows.get("persons", 0) > 0 and rows.get("biographies", 0) == 0,
    # every document is built: what is left is the final catch-up and swap, one transaction
    "swapping": lambda rows: rows.get("biographies", 0) >= PERSONS,
}


@pytest.mark.parametrize("moment", list(REBUILD_MOMENTS))
def test_sigkill_during_rebuild_leaves_the_archive_serving_and_verifying(
        synthetic: Synthetic, tmp_path: Path, moment: str) -> None:
    ready = REBUILD_MOMENTS[moment]
    for attempt in range(3):
        db = copy_archive(synthetic.db, str(tmp_path / f"archive{attempt}.db"))
        proc = start_cli("rebuild", "--db", db)
        wait_then(proc, lambda: ready(shadow_rows(db) or {}), signal.SIGKILL)
        killed(proc)
        if checkpoints(db) == synthetic.checkpoints:
            break
        # the swap committed in the instant between seeing the tables and the kill: try again
    else:
        pytest.fail(f"three kills landed after the swap; none {moment}")

    # nothing of the killed rebuild is live: the next generation's tables are left beside
    leftovers = shadow_rows(db)
    assert leftovers and "persons" in leftovers, leftovers
    assert verified(db) == synthetic.verify
    assert live_hashes(db) == synthetic.hashes
    # served with the leftovers there: the same answers, and a write is accepted
    assert served_reads(db, *synthetic.read_args) == synthetic.reads
    head = accepts_a_write(db, synthetic.tokens)
    hashes = live_hashes(db)

    # the next rebuild drops the leftovers and replays the log to the live tables' content
    done = run_cli("rebuild", "--db", db)
    assert done.returncode == 0, done.stderr + done.stdout
    assert dict(HASH_LINE.findall(done.stdout)) == hashes
    assert shadow_rows(db) == {}
    assert {n: c[2] for n, c in checkpoints(db).items()} == {
        n: c[2] + 1 for n, c in synthetic.checkpoints.items()}
    assert verified(db).startswith(f"ok: {head} events, chain intact; head {head} ")


# -- 2. SIGKILL during import --------------------------------------------------------------------

def test_sigkill_during_import_leaves_no_archive_and_the_next_import_completes(
        synthetic: Synthetic, tmp_path: Path) -> None:
    target = str(tmp_path / "restored" / "archive.db")
    staging = target + ".importing"

    # killed as soon as it starts writing: the staging file exists
    proc = start_cli("import", synthetic.jsonl, "--db", target)
    wait_then(proc, lambda: os.path.exists(staging), signal.SIGKILL)
    killed(proc)
    assert not os.path.exists(target)

    # killed while it builds the projections (events loaded); meanwhile a second import into
    # the same target is refused, in one line, without touching the first one's file
    proc = start_cli("import", synthetic.jsonl, "--db", target)
    try:
        wait_then(proc, lambda: (shadow_rows(staging) or {}).get("persons", 0) > 0, signal.SIGSTOP)
        second = run_cli("import", synthetic.jsonl, "--db", target)
        assert second.returncode == 1, second.stdout + second.stderr
        assert "another import" in second.stderr and second.stderr.count("\n") == 1, second.stderr
        assert "Traceback" not in second.stderr
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
    killed(proc)
    assert not os.path.exists(target), "a killed import left a half-imported archive"
    assert os.path.exists(staging)  # left behind, under a name nobody opens as an archive
    absent = run_cli("verify", "--db", target)
    assert absent.returncode != 0 and "no database" in absent.stderr, absent.stderr

    # the next import clears the leftovers and completes
    done = run_cli("import", synthetic.jsonl, "--db", target)
    assert done.returncode == 0, done.stderr + done.stdout
    head_hash = synthetic.verify.split()[-1]
    assert done.stdout.strip().endswith(f"head {head_hash}"), done.stdout
    assert sorted(os.listdir(os.path.dirname(target))) == ["archive.db"]
    assert verified(target) == synthetic.verify
    assert live_hashes(target) == synthetic.hashes
    assert served_reads(target, *synthetic.read_args) == synthetic.reads
    head = accepts_a_write(target, make_tokens(target))
    assert verified(target).startswith(f"ok: {head} events")
    again = run_cli("import", synthetic.jsonl, "--db", target)
    assert again.returncode == 1 and "already holds events" in again.stderr, again.stderr


# -- 3. a full disk --------------------------------------------------------------------------------

MAX_WRITES = 2000  # a bound, never reached: the disk fills within a few dozen writes


def _head(client: TestClient) -> int:
    r = client.get("/events/head")
    assert r.status_code == 200, r.text
    return r.json()["position"]


def _occupation(person: str, source: str, i: int) -> dict:
    return {"kind": "occupation", "person": person, "occupation": f"occupation {i} " + "x" * 150,
            "citation": {"source": source, "locator": f"p. {i}"}}


def test_full_disk_answers_503_appends_nothing_and_recovers(tmp_path: Path) -> None:
    db = str(tmp_path / "full.db")
    tokens = make_tokens(db)
    with TestClient(create_app(Settings(db=db))) as client:
        api = Api(client, tokens)
        source = api.source("Full disk notes (test)")
        tracked = api.person("Vicente Monclús Guallar", source)
        other = api.person("Aron Baron", source)
        butyrka = api.place("Butyrka", source)
        custody = api.claim({"kind": "custody", "person": tracked, "place": butyrka,
                             "custody": "prison", "start": "1940-01-25", "end": "1940-09",
                             "citation": {"source": source}})
        assert api.post(f"/claims/{custody}/approve", {}, "bob").status_code == 200
        long_quote = api.claim({"kind": "occupation", "person": tracked, "occupation": "typesetter",
                                "citation": {"source": source, "quote": "q" * 19_000}})
        reads = {path: client.get(path).json() for path in (
            f"/persons/{tracked}/biography", f"/places/{butyrka}/population?at=1940")}
        store = client.app.state.archive.store

        # two pages left: the approval's event fits, the biography document it grows does not.
        # SQLite rolls the whole transaction back on that write (it has no statement journal):
        # 503, not 500; the claim is still pending, the document as it was
        store.limit_pages(store.limit_pages(0) + 2)
        head = _head(client)
        r = api.post(f"/claims/{long_quote}/approve", {}, "bob")
        assert_problem(r, 503, "full")
        assert _head(client) == head
        assert api.get(f"/claims/{long_quote}", "bob").json()["status"] == "pending"
        assert client.get(f"/persons/{tracked}/biography").json() == reads[f"/persons/{tracked}/biography"]

        pages = store.limit_pages(0)  # the disk is full: no page beyond those in use
        assert pages > 0

        # writes until one does not fit: 503 problem+json, Retry-After, nothing appended
        pending: list[str] = []
        for i in range(MAX_WRITES):
            head = _head(client)
            body = _occupation(other, source, i)
            r = api.post("/claims", body, "alice", **{"Idempotency-Key": f"fill-{i}"})
            if r.status_code == 503:
                refused = (f"fill-{i}", body)
                break
            assert r.status_code == 201, r.text
            assert r.json()["position"] == head + 1
            pending.append(r.json()["id"])
        else:
            pytest.fail(f"{MAX_WRITES} writes fitted in {pages} pages")
        assert_problem(r, 503, "full")
        assert r.headers["retry-after"].isdigit()
        assert _head(client) == head

        # every kind of write, while full: whole (2xx, the head moved) or 503 (nothing moved)
        writes = {
            "source": lambda i: api.post("/sources", {"csl": {"type": "book", "title": f"full {i}"}}),
            "person": lambda i: api.post("/persons", {"name": f"Full Disk {i}",
                                                      "citation": {"source": source}}),
            "claim": lambda i: api.post("/claims", _occupation(other, source, 10_000 + i)),
            "approval": lambda i: api.post(f"/claims/{pending[i % len(pending)]}/approve", {}, "bob"),
        }
        refused_kinds: set[str] = set()
        for i in range(40):
            kind = list(writes)[i % len(writes)]
            if kind == "approval" and not pending:
                continue
            head = _head(client)
            r = writes[kind](i)
            assert r.status_code in (200, 201, 409, 503), r.text  # 409: approved already
            if r.status_code == 503:
                assert_problem(r, 503)
                assert r.headers["retry-after"].isdigit()
                assert _head(client) == head, "a refused write appended something"
                refused_kinds.add(kind)
            elif r.status_code in (200, 201):
                assert _head(client) > head
        assert refused_kinds >= {"source", "person", "claim"}

        # reads answer, unchanged
        for path, body in reads.items():
            r = client.get(path)
            assert r.status_code == 200 and r.json() == body, path
        for path in ("/health", "/events?after=0&limit=5", "/persons?q=baron", f"/persons/{other}"):
            assert client.get(path).status_code == 200, path
        assert store.verify().ok

        # the refused Idempotency-Key is not "already done": refused again while full...
        key, body = refused
        r = api.post("/claims", body, "alice", **{"Idempotency-Key": key})
        assert_problem(r, 503)
        assert "idempotent-replayed" not in r.headers
        # ...and done once space returns, at the next position; then replayed
        assert store.limit_pages(None) > pages
        head = _head(client)
        r = api.post("/claims", body, "alice", **{"Idempotency-Key": key})
        assert r.status_code == 201, r.text
        assert "idempotent-replayed" not in r.headers
        assert r.json()["position"] == head + 1
        again = api.post("/claims", body, "alice", **{"Idempotency-Key": key})
        assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
        assert again.json() == r.json()
        r = api.post("/sources", {"csl": {"type": "book", "title": "space again"}})
        assert r.status_code == 201 and r.json()["position"] == head + 2
        r = api.post(f"/claims/{long_quote}/approve", {}, "bob")
        assert r.status_code == 200 and r.json()["status"] == "approved", r.text
        assert "typesetter" in client.get(f"/persons/{tracked}/biography").text
        head = head + 3
        assert _head(client) == head
        assert store.verify().ok

    # the read models kept through the failures equal a replay of the log
    assert verified(db).startswith(f"ok: {head} events, chain intact; head {head} ")
    hashes = live_hashes(db)
    done = run_cli("rebuild", "--db", db)
    assert done.returncode == 0, done.stderr
    assert dict(HASH_LINE.findall(done.stdout)) == hashes


def test_full_disk_burst_of_concurrent_writes_through_the_group_committer(tmp_path: Path) -> None:
    """Concurrent requests (httpx over ASGI in one event loop) batched by the one writer while
    the disk is full: every answer is 201 or 503, each 201's event is in the log at its
    position, the head moved by the 201s alone, and the writer answers after."""
    db = str(tmp_path / "burst.db")
    tokens = make_tokens(db)
    app = create_app(Settings(db=db))
    alice = {"Authorization": f"Bearer {tokens['alice']}"}

    async def scenario() -> tuple[list[httpx.Response], int, int, object]:
        transport = httpx.ASGITransport(app=app)
        async with app.lifespan(), httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            source = (await client.post("/sources", json={"csl": {"type": "book", "title": "t"}},
                                        headers=alice)).json()["id"]
            person = (await client.post("/persons", json={"name": "Mollie Steimer", "citation": {
                "source": source}}, headers=alice)).json()["id"]
            archive = app.state.archive
            archive.store.limit_pages(0)
            head = (await client.get("/events/head")).json()["position"]
            answers: list[httpx.Response] = []

            async def post(i: int) -> None:
                body = _occupation(person, source, i)
                if i % 5 == 0:  # a few too big for any page left
                    body["citation"]["quote"] = "q" * 3000
                answers.append(await client.post("/claims", json=body, headers=alice))

            async with anyio.create_task_group() as tg:
                for i in range(60):
                    tg.start_soon(post, i)
            after = (await client.get("/events/head")).json()["position"]
            archive.store.limit_pages(None)
            last = await client.post("/claims", json=_occupation(person, source, 999), headers=alice)
            return answers, head, after, (last.status_code, last.json(), archive.writer)

    answers, head, after, (status, last, writer) = anyio.run(scenario)
    assert sorted({r.status_code for r in answers}) in ([201, 503], [503]), [r.text for r in answers]
    for r in answers:
        if r.status_code == 503:
            assert_problem(r, 503)
            assert r.headers["retry-after"].isdigit()
    accepted = sorted(r.json()["position"] for r in answers if r.status_code == 201)
    assert accepted == list(range(head + 1, after + 1)), "the head moved by the 201s alone"
    assert writer.jobs > writer.batches  # some committed transactions held several requests
    assert status == 201 and last["position"] == after + 1
    store = open_store(db)
    try:
        assert store.verify().ok
        ids = {r.json()["id"] for r in answers if r.status_code == 201}
        stored = {e.event.claim_id for e in store.read_log(after=head) if hasattr(e.event, "claim_id")}
        assert ids <= stored
    finally:
        store.close()


def _person(i: int, label: str = "x", after=None) -> Job:
    return Job([AppendRequest(f"P-FAULT{i}", [NewEvent(PersonRegistered(
        person_id=f"P-FAULT{i}", label=label))], 0)], after=after)


def test_group_committer_fails_only_the_batch_and_lives_on(tmp_path: Path) -> None:
    """Store level, with the batch made certain: a first job holds the writer (inside its own
    transaction, where it also fills the disk: ten pages left) until every other job is
    queued, so that they commit in one transaction."""
    store = open_store(str(tmp_path / "group.db"))
    with store.write_transaction() as conn:
        conn.execute("CREATE TABLE fault_side (data BLOB)")  # no trigger: no statement journal
    writer = GroupCommitter(store, max_batch=64)
    holders = iter(range(100))

    def batch(jobs: list[Job], pages_left: int | None) -> list:
        held, release = threading.Event(), threading.Event()

        def hold(conn, written) -> None:
            if pages_left is not None:
                in_use = conn.execute("PRAGMA page_count").fetchone()[0]
                conn.execute(f"PRAGMA max_page_count = {in_use + pages_left}")
            held.set()
            assert release.wait(TIMEOUT)

        n = next(holders)
        holder = Job([AppendRequest(f"S-HOLD{n}", [NewEvent(SourceRegistered(
            source_id=f"S-HOLD{n}", csl={"type": "book", "title": "hold"}))], 0)], after=hold)
        futures = [writer.submit(holder)]
        assert held.wait(TIMEOUT)
        futures += [writer.submit(job) for job in jobs]
        release.set()
        out = []
        for f in futures[1:]:
            try:
                out.append(f.result(TIMEOUT))
            except Exception as exc:  # noqa: BLE001 - the answer under test
                out.append(exc)
        futures[0].result(TIMEOUT)
        return out

    try:
        # a job too big for the pages left fails alone (SQLite rolls back its statement);
        # its neighbours in the same transaction commit
        head = store.head().position + 1  # after the holder
        batches = writer.batches
        results = batch([_person(10), _person(11, "y" * 50_000), _person(12)], pages_left=10)
        assert writer.batches == batches + 2  # the holder's, then one for the three
        assert isinstance(results[1], StoreUnavailable) and "full" in str(results[1]), results
        assert results[0] == [[head + 1]] and results[2] == [[head + 2]], results
        assert store.read_stream("P-FAULT11") == []

        # a write that makes SQLite roll the whole transaction back (a full disk on a statement
        # without a statement journal): every job of that batch fails, nothing of it is written
        def side(conn, written) -> None:
            conn.execute("INSERT INTO fault_side VALUES (?)", (b"s" * 200_000,))

        head = store.head().position + 1
        results = batch([_person(20), _person(21, after=side), _person(22)], pages_left=10)
        assert all(isinstance(r, StoreUnavailable) for r in results), results
        assert all("full" in str(r) for r in results), results
        assert store.head().position == head
        assert store.read_stream("P-FAULT20") == [] and store.read_stream("P-FAULT22") == []

        # the writer lives on: space returns, the next batch takes the next positions
        assert store.limit_pages(None) > store.limit_pages(0)
        store.limit_pages(None)
        results = batch([_person(30), _person(31, after=side)], pages_left=None)
        assert results == [[[head + 2]], [[head + 3]]], results
        assert store.verify().ok
    finally:
        writer.close()
        store.close()


# -- 4. a failing disk (SQLITE_IOERR) ------------------------------------------------------------

@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_FSIZE and EFBIG as on Linux")
def test_disk_io_error_answers_503_appends_nothing_and_recovers(tmp_path: Path) -> None:
    db = str(tmp_path / "failing.db")
    r = subprocess.run([sys.executable, str(HERE / "_fault_disk.py"), db], capture_output=True,
                       text=True, timeout=TIMEOUT, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-3000:]
    seen = json.loads(r.stdout.strip().splitlines()[-1])
    refused = seen["writes"][-1]
    assert refused["status"] == 503, refused
    assert refused["type"].startswith("application/problem+json")
    assert refused["retry_after"] and "disk I/O error" in refused["body"]["detail"]
    for w in seen["writes"]:  # each accepted write moved the head by one; the refused one not
        assert w["head_after"] == w["head_before"] + (w["status"] == 201), w
    assert seen["retry_while_failing"]["status"] == 503
    assert set(seen["reads"].values()) == {200}, seen["reads"]
    assert seen["biography_unchanged"]
    retry = seen["retry_after_recovery"]
    assert retry["status"] == 201 and retry["replayed"] is None
    assert retry["body"]["position"] == seen["head_while_failing"] + 1
    assert seen["head_after_recovery"] == seen["head_while_failing"] + 1
    assert seen["verify"]
    head = seen["head_after_recovery"]
    assert verified(db).startswith(f"ok: {head} events")
    hashes = live_hashes(db)
    done = run_cli("rebuild", "--db", db)
    assert done.returncode == 0, done.stderr
    assert dict(HASH_LINE.findall(done.stdout)) == hashes


# -- 5. a rebuild out of space -------------------------------------------------------------------

def test_rebuild_that_runs_out_of_space_leaves_the_live_tables(synthetic: Synthetic,
                                                               tmp_path: Path) -> None:
    db = copy_archive(synthetic.db, str(tmp_path / "space.db"))
    store = open_store(db)
    runner = default_runner()
    try:
        store.limit_pages(0)
        with pytest.raises(StoreUnavailable, match="full"):
            runner.rebuild_many(store, runner.names())
        store.limit_pages(None)
    finally:
        store.close()
    assert shadow_rows(db) == {}  # the failed rebuild's tables are dropped
    assert checkpoints(db) == synthetic.checkpoints
    assert live_hashes(db) == synthetic.hashes
    assert verified(db) == synthetic.verify
