"""Cheap reads never queue behind expensive ones (issue 23, item 3), through the real app over
HTTP on a real SQLite file: with the expensive-read lane full (one thread, held by a read the
test submits through the real archive, `Archive.run_expensive`), a claim page of 5, a search and
/health are served; the same client's third expensive read (a page of more than 100 rows, an
as_of biography) is refused 429 with Retry-After; another client's expensive read is queued and
served once the lane frees; past the lane's queue a read is refused 503 (server capacity)."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator

import httpx
import pytest
from litestar.testing import TestClient

from starosta.service.api.app import create_app
from starosta.service.settings import Settings
from tests.api.conftest import PROBLEM, Template

ME = "testclient"  # the test client's address, as common.client_key counts it


@pytest.fixture
def lane(sqlite_template: Template, tmp_path) -> Iterator[TestClient]:
    db = str(tmp_path / "archive.db")
    shutil.copyfile(sqlite_template.db, db)
    settings = Settings(db=db, expensive_threads=1, expensive_per_client=2, expensive_queue=2)
    with TestClient(create_app(settings)) as client:
        client.headers["Authorization"] = f"Bearer {sqlite_template.tokens['alice']}"
        r = client.post("/sources", json={"csl": {"type": "book", "title": "Lista"}})
        assert r.status_code == 201, r.text
        source = r.json()["id"]
        r = client.post("/persons", json={"name": "Juan Monclús", "citation": {"source": source}})
        assert r.status_code == 201, r.text
        client.app.state.person = r.json()["id"]
        client.app.state.alice = dict(client.headers)
        del client.headers["Authorization"]
        yield client


def until(condition, what: str) -> None:
    """Wait for `condition()` (a state of the lane, not a time: the bound only ends a hang)."""
    done = threading.Event()
    for _ in range(2000):
        if condition():
            return
        done.wait(0.01)
    raise AssertionError(f"never: {what}")


def test_a_cheap_read_is_served_while_the_expensive_lane_is_full(lane: TestClient) -> None:
    archive = lane.app.state.archive
    portal = lane.blocking_portal
    assert portal is not None
    release = threading.Event()

    def held(_conn) -> str:  # an expensive read that lasts until the test lets it go
        release.wait(60)
        return "done"

    async def get(path: str, client: str):
        transport = httpx.ASGITransport(app=lane.app, client=(client, 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            return await c.get(path)

    person = lane.app.state.person
    running = portal.start_task_soon(archive.run_expensive, ME, held)
    queued = portal.start_task_soon(archive.run_expensive, ME, held)
    try:
        until(lambda: archive.expensive.held(ME) == 2, "two expensive reads admitted")
        # the lane's one thread is taken and this client's share is full: cheap reads go on
        for path in ("/claims?limit=5", "/persons?q=monclus", "/health", f"/persons/{person}/biography",
                     "/events?limit=100"):
            r = lane.get(path)
            assert r.status_code == 200, (path, r.text)
        assert lane.get("/persons", params={"q": "monclus"}).json()["items"][0]["id"] == person
        # the same client's third expensive read: 429, saying which limit and when to retry
        for path in ("/claims?limit=500", "/events?limit=101", f"/persons/{person}/biography?as_of=1",
                     "/persons?q=monclus&limit=1000"):
            r = lane.get(path)
            assert r.status_code == 429, (path, r.text)
            assert r.headers["content-type"].startswith(PROBLEM)
            assert int(r.headers["retry-after"]) >= 1
            assert "STAROSTA_EXPENSIVE_PER_CLIENT=2" in r.json()["detail"]
        # a document assembled for its reader (include=pending) is expensive too
        r = lane.get(f"/persons/{person}/biography", params={"include": "pending"},
                     headers=lane.app.state.alice)
        assert r.status_code == 429, r.text
        # another client's expensive read is admitted: queued behind the held one
        other = portal.start_task_soon(get, "/claims?limit=500", "203.0.113.9")
        until(lambda: archive.expensive.held("203.0.113.9") == 1, "the other client's read queued")
        assert not other.done()
        # the lane's queue (2) is full now: a third client's is refused for capacity, 503
        r = portal.call(get, "/claims?limit=500", "198.51.100.4")
        assert r.status_code == 503, r.text
        assert int(r.headers["retry-after"]) >= 1 and "STAROSTA_EXPENSIVE_QUEUE" in r.json()["detail"]
    finally:
        release.set()
    assert running.result(timeout=60) == "done" and queued.result(timeout=60) == "done"
    served = other.result(timeout=60)
    assert served.status_code == 200, served.text
    assert "items" in served.json()
    until(lambda: archive.expensive.admitted == 0, "every share given back")
    # and once its reads are done, the first client's expensive reads are served again
    r = lane.get(f"/persons/{person}/biography", params={"as_of": "1"})
    assert r.status_code in (200, 404), r.text  # position 1: before the person was registered
    assert lane.get("/claims?limit=500").status_code == 200
