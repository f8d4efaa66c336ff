"""A population read runs in a reader thread: while one is held busy inside the read model's
query, /health still answers, and the population answer comes once the read is released.

httpx's ASGITransport runs the app in the test's own event loop, so requests really are
concurrent (Litestar's AsyncTestClient answers one request at a time)."""

from __future__ import annotations

import threading

import anyio
import httpx
import pytest

from starosta.service.api import population as population_api
from starosta.service.api.app import create_app
from starosta.service.settings import Settings
from tests.api.conftest import make_tokens


@pytest.mark.anyio
@pytest.mark.parametrize(("query", "path", "params"), [
    ("population_at", "/population", {"at": "1940"}),
    ("timeline", "/population/timeline", {"step": "month"}),
])
async def test_health_answers_while_a_population_read_is_held(
        db_path: str, monkeypatch: pytest.MonkeyPatch, query: str, path: str, params: dict) -> None:
    tokens = make_tokens(db_path)
    app = create_app(Settings(db=db_path))
    entered, release = threading.Event(), threading.Event()
    real = getattr(population_api, query)

    def held(conn, *args):  # the read model's query, held until the test releases it
        entered.set()
        assert release.wait(10), "the read was never released: did it hold the event loop?"
        return real(conn, *args)

    monkeypatch.setattr(population_api, query, held)
    transport = httpx.ASGITransport(app=app)
    async with app.lifespan(), httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        alice = {"Authorization": f"Bearer {tokens['alice']}"}
        source = (await client.post("/sources", json={"csl": {"type": "book", "title": "t"}},
                                    headers=alice)).json()["id"]
        place = (await client.post("/places", json={"name": "Butyrka", "kind": "prison",
                                                     "citation": {"source": source}},
                                   headers=alice)).json()["id"]
        answers: list = []

        async def read() -> None:
            answers.append(await client.get(f"/places/{place}{path}", params=params))

        async with anyio.create_task_group() as tg:
            tg.start_soon(read)
            await anyio.to_thread.run_sync(entered.wait)  # the read is running, and held
            health = await client.get("/health")
            assert health.status_code == 200 and health.json()["status"] == "ok"
            assert answers == [] and not release.is_set()
            release.set()
        assert answers[0].status_code == 200, answers[0].text
        assert answers[0].json()["place"] == {"id": place, "label": "Butyrka"}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
