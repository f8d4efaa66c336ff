"""The per-client counters of service/limits.py as pure functions (issue 23, items 1 and 4): a
client's share of the live feeds, and failed authentications in a sliding window, with a
clock the test moves (no sleeping, no HTTP, no database)."""

from __future__ import annotations

import pytest
from litestar import Request

from starosta.service.api.common import client_key
from starosta.service.limits import FAILURE_KEYS_MAX, FailureWindow, Shares


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# -- Shares ----------------------------------------------------------------------------------------

def test_a_key_holds_at_most_its_share_and_others_are_not_touched() -> None:
    shares = Shares(4)
    held = [shares.take("203.0.113.7") for _ in range(4)]
    assert all(held)
    assert shares.take("203.0.113.7") is None  # the fifth
    assert shares.take("203.0.113.8") is not None  # another client still gets one


def test_a_released_share_comes_back_once_and_an_idle_key_is_forgotten() -> None:
    shares = Shares(1)
    release = shares.take("a")
    assert release is not None and shares.take("a") is None
    release()
    release()  # twice is harmless: it gives back one share, not two
    again = shares.take("a")
    assert again is not None and shares.take("a") is None
    again()
    assert shares.held == {}  # no key kept for a client holding nothing: bounded by open feeds


def test_a_share_of_zero_refuses_everyone() -> None:
    assert Shares(0).take("a") is None


# -- FailureWindow ---------------------------------------------------------------------------------

def test_past_the_limit_a_failure_is_refused_until_the_window_slides() -> None:
    clock = Clock()
    window = FailureWindow(limit=20, window=60, clock=clock)
    for _ in range(20):
        assert window.failed("c") == 0.0
        clock.now += 1  # failures at t = 0 .. 19
    # the 21st, at t = 20: refused; the oldest (t = 0) leaves the window at t = 60
    assert window.failed("c") == pytest.approx(40)
    clock.now = 1000 + 59.5
    assert window.failed("c") == pytest.approx(0.5)  # refused failures are not counted
    clock.now = 1000 + 60  # the first failure left the window: one more is let through
    assert window.failed("c") == 0.0
    assert window.failed("c") == pytest.approx(1)  # then the next waits for t = 1's to leave
    clock.now = 1000 + 200  # all old: the whole budget is back
    assert all(window.failed("c") == 0.0 for _ in range(20))
    assert window.failed("c") > 0


def test_one_clients_failures_do_not_count_against_another() -> None:
    window = FailureWindow(limit=2, window=60, clock=Clock())
    assert window.failed("a") == window.failed("a") == 0.0
    assert window.failed("a") > 0
    assert window.failed("b") == 0.0


def test_the_keys_tracked_are_bounded_and_the_oldest_is_dropped() -> None:
    clock = Clock()
    window = FailureWindow(limit=1, window=60, max_keys=3, clock=clock)
    for key in ("a", "b", "c"):
        assert window.failed(key) == 0.0
    assert window.failed("a") > 0  # refused, and "a" becomes the latest touched
    assert window.failed("d") == 0.0  # a fourth key drops the one touched longest ago: "b"
    assert len(window) == 3
    assert window.failed("b") == 0.0  # "b" was forgotten: its budget is back
    assert window.failed("a") > 0 and window.failed("d") > 0  # the others were kept
    assert FAILURE_KEYS_MAX == 10_000


def request_from(host: str) -> Request:
    return Request({"type": "http", "method": "GET", "path": "/", "headers": [],  # type: ignore[arg-type]
                    "query_string": b"", "client": (host, 0)})


def test_an_ipv6_slash_64_is_one_client() -> None:
    window = FailureWindow(limit=2, window=60, clock=Clock())
    assert window.failed(client_key(request_from("2001:db8:1:2::1"))) == 0.0
    assert window.failed(client_key(request_from("2001:db8:1:2:ffff:ffff:ffff:ffff"))) == 0.0
    assert window.failed(client_key(request_from("2001:db8:1:2:aaaa::7"))) > 0  # the same /64
    assert window.failed(client_key(request_from("2001:db8:1:3::1"))) == 0.0  # the next /64
    shares = Shares(1)
    assert shares.take(client_key(request_from("2001:db8:1:2::1"))) is not None
    assert shares.take(client_key(request_from("2001:db8:1:2::2"))) is None


# -- a malformed Authorization header fails without the database -----------------------------------

@pytest.mark.parametrize("header", ["Basic eHh4", "Bearer", "Bearer   ", "bearer", "Token abc", ""])
def test_a_malformed_header_is_a_failure(header: str) -> None:
    from starosta.events.errors import Unauthenticated
    from starosta.service.domain.access import bearer_token

    with pytest.raises(Unauthenticated, match="Bearer <token>"):
        bearer_token(header)


def test_a_bearer_header_gives_its_token() -> None:
    from starosta.service.domain.access import bearer_token

    assert bearer_token("Bearer sta_abc ") == bearer_token("bearer sta_abc") == "sta_abc"
