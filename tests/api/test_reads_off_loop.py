"""Reads never hold the event loop: they run in the archive's reader threads, each on its own
connection; while every reader thread is held busy, /health and writes still answer."""

from __future__ import annotations

import threading

import anyio
import pytest
from litestar.testing import AsyncTestClient

from starosta.service.app import create_app
from starosta.service.settings import Settings
from tests.api.conftest import make_tokens


@pytest.mark.anyio
async def test_health_and_writes_answer_while_every_reader_thread_is_busy(db_path: str) -> None:
    tokens = make_tokens(db_path)
    app = create_app(Settings(db=db_path, reader_threads=2))
    release = threading.Event()
    started = threading.Semaphore(0)

    def slow(conn):  # a read that holds its reader thread until released
        started.release()
        release.wait(30)
        return conn.execute("SELECT count(*) FROM events").fetchone()[0]

    async with AsyncTestClient(app) as client:
        archive = app.state.archive
        results: list[int] = []
        async with anyio.create_task_group() as tg:
            for _ in range(2):
                tg.start_soon(lambda: _collect(archive.run_read(slow), results))
            for _ in range(2):
                await anyio.to_thread.run_sync(started.acquire)  # both reader threads are held
            health = await client.get("/health")
            assert health.status_code == 200 and health.json()["status"] == "ok"
            source = await client.post("/sources", json={"csl": {"type": "book", "title": "t"}},
                                       headers={"Authorization": f"Bearer {tokens['alice']}"})
            assert source.status_code == 201, source.text
            # a read needing a reader thread waits for one; the readers are still held
            assert results == [] and not release.is_set()
            release.set()
        assert len(results) == 2
        read = await client.get(f"/sources/{source.json()['id']}")
        assert read.status_code == 200


async def _collect(awaitable, into: list) -> None:
    into.append(await awaitable)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
