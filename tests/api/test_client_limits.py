"""One client cannot hurt the rest (issue 23, items 1 and 4), over the real `starosta serve`
behind a trusted proxy (STAROSTA_TRUSTED_PROXIES=127.0.0.1: the test's X-Forwarded-For names
the client, so one test process is several clients):

- live feeds: a client address (and a token) holds a small share of the feeds, past it 429
  with Retry-After while another address still gets one; an anonymous feed's timeout is cut;
- failed authentications: past 20 in 60 s from one client, a wrong token answers 429 with
  Retry-After, while a valid token from that client is still served and another client's
  wrong token still gets 401.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

import httpx
import pytest

from starosta.client import Client, TooManyRequests, Unauthorized
from tests.api.conftest import PROBLEM, make_tokens
from tests.conftest import start_server, stop

pytestmark = pytest.mark.slow

# refusals answered at once here (STAROSTA_REFUSAL_DELAY=0): these tests count many of them
PROXIED = {"STAROSTA_TRUSTED_PROXIES": "127.0.0.1,::1", "STAROSTA_REFUSAL_DELAY": "0"}


def client(address: str, token: str | None = None) -> dict[str, str]:
    """The headers of a request from `address` (as the trusted proxy names it)."""
    headers = {"X-Forwarded-For": address}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return headers


@contextlib.contextmanager
def serving(tmp_path, **env: str) -> Iterator[tuple[str, dict[str, str]]]:
    db = str(tmp_path / "archive.db")
    tokens = make_tokens(db)
    proc, base = start_server(db, env={**PROXIED, **env})
    try:
        yield base, tokens
    finally:
        stop(proc)


def assert_429(r: httpx.Response, setting: str) -> None:
    assert r.status_code == 429, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    assert 1 <= int(r.headers["retry-after"]) <= 60
    assert setting in r.json()["detail"] and "retry after" in r.json()["detail"], r.json()


# -- live feeds --------------------------------------------------------------------------------------

def test_one_address_holds_its_share_of_the_feeds_and_another_still_gets_one(tmp_path) -> None:
    with serving(tmp_path) as (base, tokens), httpx.Client(base_url=base, timeout=10) as http, \
            contextlib.ExitStack() as held:
        # one client asks for 33 feeds: the first 4 open, every other is refused 429 (not
        # 503: the server's 32 slots are not all taken by it)
        statuses = []
        for _ in range(33):
            r = held.enter_context(http.stream("GET", "/events/stream", params={"timeout": 60},
                                               headers=client("203.0.113.7")))
            statuses.append(r.status_code)
            if r.status_code != 200:
                r.read()
                assert_429(r, "STAROSTA_MAX_STREAMS_PER_CLIENT")
        assert statuses == [200] * 4 + [429] * 29, statuses
        # the same /64 is the same client
        sixes = [held.enter_context(http.stream(
            "GET", "/events/stream", params={"timeout": 60},
            headers=client(f"2001:db8::{n}"))).status_code for n in range(1, 5)]
        assert sixes == [200] * 4
        assert_429(http.get("/events/stream", params={"timeout": 1},
                            headers=client("2001:db8::ffff:3")), "STAROSTA_MAX_STREAMS_PER_CLIENT")
        # another address still gets a feed, and reads it to its end
        other = http.get("/events/stream", params={"timeout": 1}, headers=client("203.0.113.8"))
        assert other.status_code == 200 and "timeout: reconnect" in other.text
        # a token holds its own share, from whatever address
        opened = [held.enter_context(http.stream(
            "GET", "/events/stream", params={"timeout": 60},
            headers=client(f"198.51.100.{n}", tokens["alice"]))).status_code for n in range(4)]
        assert opened == [200] * 4
        assert_429(http.get("/events/stream", params={"timeout": 1},
                            headers=client("198.51.100.99", tokens["alice"])),
                   "STAROSTA_MAX_STREAMS_PER_TOKEN")


def test_the_global_cap_stays_503_and_a_client_past_its_share_gets_429(tmp_path) -> None:
    with serving(tmp_path, STAROSTA_MAX_STREAMS="2", STAROSTA_MAX_STREAMS_PER_CLIENT="1") \
            as (base, _), httpx.Client(base_url=base, timeout=10) as http, \
            contextlib.ExitStack() as held:
        for address in ("203.0.113.1", "203.0.113.2"):
            r = held.enter_context(http.stream("GET", "/events/stream", params={"timeout": 60},
                                               headers=client(address)))
            assert r.status_code == 200
        # the server is full: a client holding its share is told so (429, its own limit) ...
        assert_429(http.get("/events/stream", params={"timeout": 1}, headers=client("203.0.113.1")),
                   "STAROSTA_MAX_STREAMS_PER_CLIENT")
        # ... and a client holding nothing gets the server's 503, every time: each refused feed
        # gives its client's share back (else the second try would be 429)
        for _ in range(3):
            third = http.get("/events/stream", params={"timeout": 1}, headers=client("203.0.113.3"))
            assert third.status_code == 503 and "STAROSTA_MAX_STREAMS" in third.json()["detail"]
            assert int(third.headers["retry-after"]) > 0


def read_feed(base: str, headers: dict[str, str], **params) -> list[str]:
    """The comment lines of a whole feed (it must end by itself: the read gives up after 30 s)."""
    comments = []
    with httpx.stream("GET", f"{base}/events/stream", params=params, headers=headers,
                      timeout=30) as r:
        assert r.status_code == 200, r.read()
        for line in r.iter_lines():
            if line.startswith(":"):
                comments.append(line[1:].strip())
    return comments


def test_an_anonymous_feed_is_cut_to_its_cap_and_a_token_keeps_its_timeout(tmp_path) -> None:
    with serving(tmp_path, STAROSTA_ANONYMOUS_STREAM_TIMEOUT="1") as (base, tokens):
        comments = read_feed(base, client("203.0.113.7"), timeout=300)
        assert comments[0] == "events after 0; this stream closes in 1 s", comments
        assert comments[-1].startswith("timeout: reconnect"), comments
        with httpx.stream("GET", f"{base}/events/stream", params={"timeout": 300},
                          headers=client("203.0.113.7", tokens["alice"]), timeout=10) as r:
            assert r.status_code == 200
            first = next(line for line in r.iter_lines() if line.startswith(":"))
        assert first == ": events after 0; this stream closes in 300 s"
        # the operation says so
        stream = httpx.get(f"{base}/schema/openapi.json").json()["paths"]["/events/stream"]["get"]
        timeout = next(p for p in stream["parameters"] if p["name"] == "timeout")
        assert "STAROSTA_ANONYMOUS_STREAM_TIMEOUT" in timeout["description"]
        assert "STAROSTA_MAX_STREAMS_PER_CLIENT" in stream["responses"]["429"]["description"]


# -- failed authentications ----------------------------------------------------------------------------

WRONG = "sta_not-a-token-of-this-archive"


def test_past_20_failures_a_wrong_token_answers_429_and_a_valid_one_is_served(tmp_path) -> None:
    with serving(tmp_path) as (base, tokens), httpx.Client(base_url=base, timeout=10) as http:
        attacker = "203.0.113.66"
        answers = [http.get("/claims", headers=client(attacker, WRONG)).status_code
                   for _ in range(19)]
        # a malformed header is a failure too
        answers.append(http.get("/claims", headers={"X-Forwarded-For": attacker,
                                                    "Authorization": "Basic eHh4"}).status_code)
        assert answers == [401] * 20
        refused = http.get("/claims", headers=client(attacker, WRONG))
        assert_429(refused, "STAROSTA_AUTH_FAILURES_MAX")
        assert "unknown or revoked" in refused.json()["detail"]
        # a POST's body is read before the refusal, and the refusal is the same
        posted = http.post("/sources", json={"csl": {"type": "book", "title": "x"}},
                           headers=client(attacker, WRONG))
        assert_429(posted, "STAROSTA_AUTH_FAILURES_MAX")
        malformed = http.get("/claims", headers={"X-Forwarded-For": attacker,
                                                 "Authorization": "Bearer"})
        assert_429(malformed, "STAROSTA_AUTH_FAILURES_MAX")
        # a valid token from the same client is always served
        assert http.get("/claims", headers=client(attacker, tokens["alice"])).status_code == 200
        made = http.post("/sources", json={"csl": {"type": "book", "title": "Still served"}},
                         headers=client(attacker, tokens["alice"]))
        assert made.status_code == 201, made.text
        # anonymous reads from that client are not refused either (no credential, no failure)
        assert http.get("/claims", headers=client(attacker)).status_code == 200
        # another client's wrong token is still 401
        assert http.get("/claims", headers=client("203.0.113.67", WRONG)).status_code == 401
        # the same /64 is the same client
        sixes = [http.get("/claims", headers=client(f"2001:db8:5:6::{n:x}", WRONG)).status_code
                 for n in range(1, 22)]
        assert sixes == [401] * 20 + [429]


def test_the_window_slides_and_lets_one_more_failure_through(tmp_path) -> None:
    with serving(tmp_path, STAROSTA_AUTH_FAILURES_MAX="2", STAROSTA_AUTH_FAILURE_WINDOW="1") \
            as (base, _), httpx.Client(base_url=base, timeout=10) as http:
        answers = [http.get("/claims", headers=client("203.0.113.9", WRONG)).status_code
                   for _ in range(3)]
        assert answers == [401, 401, 429]
        deadline = time.monotonic() + 10  # the window is 1 s: a failure is let through again
        while http.get("/claims", headers=client("203.0.113.9", WRONG)).status_code == 429:
            assert time.monotonic() < deadline, "the window never let a failure through again"
            time.sleep(0.2)
        # the Python client raises the 429 as TooManyRequests, with its Retry-After
        with Client(base, token=WRONG) as wrong:
            for _ in range(2):
                with pytest.raises(Unauthorized):
                    wrong.health()
            with pytest.raises(TooManyRequests) as raised:
                wrong.health()
        assert raised.value.status == 429 and raised.value.retry_after == 1
        assert "STAROSTA_AUTH_FAILURES_MAX" in raised.value.detail
