"""No request reads the database on the event loop (docs/architecture.md, "Reads off the event
loop"). Reads run in one of the archive's two pools, each thread on its own connection: the
reader threads (GETs) and the decider threads (token lookups, Idempotency-Key answers, the
reads of a command's decision, on the primary). /health answers from a background ping and
reads nothing itself.

Each test holds every thread of a pool busy and shows which requests still answer (those
that need nothing of it) and which wait, unanswered, until the pool is released: a request
that read on the loop would answer while its pool is held.

httpx's ASGITransport runs the app in the test's own event loop, so requests really are
concurrent (Litestar's AsyncTestClient answers one request at a time)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import AsyncIterator

import anyio
import httpx
import pytest

from starosta.service.api.app import create_app
from starosta.service.settings import Settings
from tests.api.conftest import make_tokens

READERS = 2
WAITING = 0.5  # seconds a held request is given to answer (it must not)


@contextlib.asynccontextmanager
async def held(run, threads: int) -> AsyncIterator[None]:
    """Hold every one of `threads` threads of a pool (`run`: Archive.run_read or run_primary)
    inside a read until the block ends; then release them and wait for their reads."""
    release, started = threading.Event(), threading.Semaphore(0)

    def hold(conn):  # a real read on the thread's own connection, held until released
        started.release()
        assert release.wait(30), "never released"
        return conn.execute("SELECT count(*) FROM events").fetchone()[0]

    async with anyio.create_task_group() as tg:
        for _ in range(threads):
            tg.start_soon(run, hold)
        for _ in range(threads):
            await anyio.to_thread.run_sync(started.acquire)  # every thread of the pool is held
        try:
            yield
        finally:
            release.set()


class Pending:
    """Requests started while a pool is held: none may answer before it is released."""

    def __init__(self, client: httpx.AsyncClient, tg: anyio.abc.TaskGroup) -> None:
        self.client, self.tg, self.answers = client, tg, {}

    def start(self, name: str, method: str, url: str, **kwargs) -> None:
        async def send() -> None:
            self.answers[name] = await self.client.request(method, url, **kwargs)
        self.tg.start_soon(send)


@pytest.fixture
async def world(archive_db: str):
    tokens = make_tokens(archive_db)
    app = create_app(Settings(db=archive_db, reader_threads=READERS))
    transport = httpx.ASGITransport(app=app)
    async with app.lifespan(), httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        alice = {"Authorization": f"Bearer {tokens['alice']}"}
        source = (await client.post("/sources", json={"csl": {"type": "book", "title": "t"}},
                                    headers=alice)).json()["id"]
        person = await client.post("/persons", json={"name": "Maria Spiridonova",
                                                     "citation": {"source": source}},
                                   headers={**alice, "Idempotency-Key": "k1"})
        assert person.status_code == 201, person.text
        yield app, client, alice, source, person


@pytest.mark.anyio
async def test_with_every_reader_busy_health_and_writes_answer_and_gets_wait(world) -> None:
    app, client, alice, source, person = world
    archive = app.state.archive
    person_id = person.json()["id"]
    async with anyio.create_task_group() as tg:
        pending = Pending(client, tg)
        async with held(archive.run_read, archive.reader_threads):
            pending.start("stored biography", "GET", f"/persons/{person_id}/biography")
            pending.start("head", "GET", "/events/head")
            pending.start("source", "GET", f"/sources/{source}")
            # answered while every reader is held: /health, a token's look-up, a command's
            # decision and its commit, an Idempotency-Key replay
            health = await client.get("/health")
            assert health.status_code == 200 and health.json()["status"] == "ok"
            made = await client.post("/persons", json={"name": "Ida Kolesnikova",
                                                       "citation": {"source": source}}, headers=alice)
            assert made.status_code == 201, made.text
            again = await client.post("/persons", json={"name": "Maria Spiridonova",
                                                        "citation": {"source": source}},
                                      headers={**alice, "Idempotency-Key": "k1"})
            assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
            assert again.json() == person.json()
            await anyio.sleep(WAITING)
            assert pending.answers == {}, "a GET answered without a reader thread"
    assert {name: r.status_code for name, r in pending.answers.items()} == {
        "stored biography": 200, "head": 200, "source": 200}
    assert pending.answers["head"].json()["position"] >= made.json()["position"]


@pytest.mark.anyio
async def test_with_every_decider_busy_anonymous_reads_answer_and_tokens_wait(world) -> None:
    app, client, alice, source, person = world
    archive = app.state.archive
    person_id = person.json()["id"]
    async with anyio.create_task_group() as tg:
        pending = Pending(client, tg)
        async with held(archive.run_primary, archive.decider_threads):
            pending.start("read with a token", "GET", f"/sources/{source}", headers=alice)
            pending.start("write", "POST", "/sources", json={"csl": {"type": "book", "title": "u"}},
                          headers=alice)
            # answered while every decider is held: anonymous reads and /health
            for path in ("/health", f"/sources/{source}", f"/persons/{person_id}/biography",
                         "/events/head", "/events?limit=5"):
                assert (await client.get(path)).status_code == 200, path
            await anyio.sleep(WAITING)
            assert pending.answers == {}, "a token was looked up without a decider thread"
    assert pending.answers["read with a token"].status_code == 200
    assert pending.answers["write"].status_code == 201, pending.answers["write"].text


@pytest.mark.anyio
async def test_with_every_thread_busy_health_still_answers(world) -> None:
    app, client, alice, source, person = world
    archive = app.state.archive
    position = person.json()["position"]  # /health's head keeps up with this server's writes
    async with anyio.create_task_group() as tg:
        pending = Pending(client, tg)
        async with held(archive.run_read, archive.reader_threads), \
                held(archive.run_primary, archive.decider_threads):
            pending.start("source", "GET", f"/sources/{source}")
            for _ in range(3):
                health = await client.get("/health")
                assert health.status_code == 200 and health.json()["head"] >= position
            await anyio.sleep(WAITING)
            assert pending.answers == {}
    assert pending.answers["source"].status_code == 200


@pytest.mark.anyio
async def test_health_answers_503_once_the_ping_is_stale_and_200_when_it_answers_again(
        world) -> None:
    app, client, *_ = world
    ping = app.state.archive.health
    ping.close()  # the background ping stops answering, as when the database hangs
    ping.stale_after = 0.2
    await anyio.sleep(0.3)
    stale = await client.get("/health")
    assert stale.status_code == 503 and stale.headers["retry-after"].isdigit()
    assert stale.headers["content-type"].startswith("application/problem+json")
    assert "the database last answered" in stale.json()["detail"]
    ping.start()
    fresh = await client.get("/health")
    assert fresh.status_code == 200 and fresh.json()["status"] == "ok"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
