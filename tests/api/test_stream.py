"""The live feed, GET /events/stream, over `starosta serve` with httpx streaming: the log in
order as Server-Sent Events, the same items and redaction as GET /events, Last-Event-ID to
resume, the close after `timeout`, 503 past STAROSTA_MAX_STREAMS, and the client's `follow()`
across a server restart on the same database and port, with no gap and no duplicate."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import msgspec
import pytest

from starosta.client import Client, Retry
from starosta.events.kinds import Citation, DeathClaim
from tests.api.conftest import PROBLEM, make_tokens
from tests.conftest import start_server, stop

pytestmark = pytest.mark.slow


@dataclass
class Served:
    db: str
    base: str
    tokens: dict[str, str]
    proc: object

    def auth(self, who: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}

    def client(self, who: str | None = None, **kwargs) -> Client:
        return Client(self.base, token=self.tokens[who] if who else "", **kwargs)


def seed(served: Served) -> tuple[str, str]:
    """A source, a person, an approved claim and a pending one; return (approved, pending)."""
    with served.client("alice") as alice, served.client("bob") as bob:
        source = alice.register_source({"type": "book", "title": "Stream"}).id
        person = alice.register_person("Streamed Person", Citation(source=source)).id
        shown = alice.submit(DeathClaim(person=person, date="1937", citation=Citation(source=source))).id
        bob.approve(shown)
        hidden = alice.submit(DeathClaim(person=person, date="1938", citation=Citation(source=source))).id
    return shown, hidden


@pytest.fixture
def served(tmp_path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    monkeypatch.setenv("STAROSTA_MAX_STREAMS", "2")  # read by the served app
    db = str(tmp_path / "archive.db")
    tokens = make_tokens(db)
    proc, base = start_server(db)
    served = Served(db, base, tokens, proc)
    try:
        yield served
    finally:
        stop(served.proc)  # type: ignore[arg-type]


def read_stream(base: str, headers: dict[str, str] | None = None, opened=None,
                **params) -> tuple[list[dict], list[str], float]:
    """Read a whole stream: its events ({id, event, data}), its comment lines, its duration;
    `opened()` is called once the stream has answered, before its lines are read."""
    events, comments, block = [], [], {}
    started = time.monotonic()
    with httpx.stream("GET", f"{base}/events/stream", params=params, headers=headers or {},
                      timeout=30) as r:
        assert r.status_code == 200, r.read()
        assert r.headers["content-type"].startswith("text/event-stream")
        if opened is not None:
            opened()
        for line in r.iter_lines():
            if line == "":
                if "data" in block:
                    events.append(block)
                block = {}
            elif line.startswith(":"):
                comments.append(line[1:].strip())
            else:
                name, _, value = line.partition(": ")
                block[name] = value
    return events, comments, time.monotonic() - started


def test_events_in_order_with_the_redaction_of_get_events(served: Served) -> None:
    shown, hidden = seed(served)
    for who in (None, "alice", "bob"):  # anonymous, the contributor, a reviewer
        events, _, _ = read_stream(served.base, served.auth(who), timeout=1)
        page = httpx.get(f"{served.base}/events", params={"limit": 1000}, headers=served.auth(who)).json()
        assert [msgspec.json.decode(e["data"]) for e in events] == page["items"]
        assert [int(e["id"]) for e in events] == list(range(1, len(page["items"]) + 1))
        assert [e["event"] for e in events] == [item["type"] or "redacted" for item in page["items"]]
    anonymous, _, _ = read_stream(served.base, timeout=1)
    items = [msgspec.json.decode(e["data"]) for e in anonymous]
    hidden_at = {msgspec.json.decode(e["data"])["position"] for e in read_stream(
        served.base, served.auth("alice"), timeout=1)[0]
        if msgspec.json.decode(e["data"])["stream_id"] == hidden}
    assert hidden_at and all(i["redacted"] and i["data"] is None and i["stream_id"] is None
                             for i in items if i["position"] in hidden_at)
    assert all(e["event"] == "redacted" for e in anonymous
               if int(e["id"]) in hidden_at)  # the SSE event tells no type either
    assert not any(i["redacted"] for i in items if i["stream_id"] == shown)
    assert any(i["stream_id"] == hidden and not i["redacted"]
               for i in (msgspec.json.decode(e["data"]) for e in read_stream(
                   served.base, served.auth("alice"), timeout=1)[0]))


def test_last_event_id_resumes_after_it_and_wins_over_after(served: Served) -> None:
    seed(served)
    head = httpx.get(f"{served.base}/events/head").json()["position"]
    events, _, _ = read_stream(served.base, {"Last-Event-ID": "3"}, after=1, timeout=1)
    assert [int(e["id"]) for e in events] == list(range(4, head + 1))
    events, _, _ = read_stream(served.base, after=head - 1, timeout=1)
    assert [int(e["id"]) for e in events] == [head]
    bad = httpx.get(f"{served.base}/events/stream", headers={"Last-Event-ID": "three"})
    assert bad.status_code == 422 and bad.headers["content-type"].startswith(PROBLEM)
    assert bad.json()["errors"][0] == {"field": "Last-Event-ID", "in": "header",
                                       "value": "three", "message": bad.json()["errors"][0]["message"]}
    for timeout in ("0", "301", "soon"):
        refused = httpx.get(f"{served.base}/events/stream", params={"timeout": timeout})
        assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "timeout"


def test_new_events_arrive_live_and_the_stream_closes_after_its_timeout(served: Served) -> None:
    seed(served)
    head = httpx.get(f"{served.base}/events/head").json()["position"]

    def append_now() -> None:  # the stream is open: the event arrives while it runs
        with served.client("alice") as alice:
            alice.register_source({"type": "book", "title": "Appended while streaming"})
    events, comments, took = read_stream(served.base, opened=append_now, after=head, timeout=2)
    assert [int(e["id"]) for e in events] == [head + 1]
    assert events[0]["event"] == "source.registered"
    assert took >= 2, took  # never closed before its timeout
    assert comments[-1] == f"timeout: reconnect with Last-Event-ID: {head + 1}"


def test_503_past_the_stream_limit_and_slots_come_back(served: Served) -> None:
    with httpx.Client(base_url=served.base, timeout=10) as http:
        with http.stream("GET", "/events/stream", params={"timeout": 30}) as first, \
                http.stream("GET", "/events/stream", params={"timeout": 2}) as second:
            assert first.status_code == second.status_code == 200
            third = http.get("/events/stream", params={"timeout": 1})
            assert third.status_code == 503
            assert third.headers["content-type"].startswith(PROBLEM)
            assert int(third.headers["retry-after"]) > 0
            assert "STAROSTA_MAX_STREAMS" in third.json()["detail"]
            for _ in second.iter_lines():  # the second closes after its 2 s
                pass
            again = http.get("/events/stream", params={"timeout": 1})
            assert again.status_code == 200  # its slot was given back
        # the first was closed by the client, 28 s early: its slot comes back too
        deadline = time.monotonic() + 5
        while True:
            with http.stream("GET", "/events/stream", params={"timeout": 1}) as one, \
                    http.stream("GET", "/events/stream", params={"timeout": 1}) as two:
                if one.status_code == two.status_code == 200:
                    break
            assert time.monotonic() < deadline, "a disconnected stream kept its slot"
            time.sleep(0.2)


def test_follow_resumes_across_a_timeout_and_a_server_restart(served: Served) -> None:
    seed(served)
    port = int(served.base.rsplit(":", 1)[1])
    patient = Retry(attempts=30, backoff=0.2, max_backoff=1.0, budget=60)
    with served.client("root", retry=patient) as root:
        head = root.head().position
        feed = root.follow(after=0, timeout=2)
        seen = [next(feed).position for _ in range(head)]
        time.sleep(2.5)  # the server closes the stream meanwhile: follow reconnects
        with served.client("alice") as alice:
            alice.register_source({"type": "book", "title": "After a timeout"})
        seen.append(next(feed).position)

        stop(served.proc)  # type: ignore[arg-type]  # by its pid: the stream drops
        served.proc, base = start_server(served.db, port)
        assert base == served.base
        with served.client("alice") as alice:
            for i in range(3):
                alice.register_source({"type": "book", "title": f"After a restart {i}"})
        last = root.head().position
        while seen[-1] < last:
            seen.append(next(feed).position)
        feed.close()
    assert seen == list(range(1, last + 1))  # no gap, no duplicate
