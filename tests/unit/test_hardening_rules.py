"""The rules behind issue 18's findings 12-16, as functions: the one parser of numbers sent
outside a body, the client key, the stored request id, the trusted-proxy setting, and the
one escape of every log line."""

from __future__ import annotations

import logging

import pytest
from litestar import Request

from starosta.events.errors import Invalid
from starosta.service.api.common import PEER, client_key, number, stored_request_id
from starosta.service.api.errors import SafeLog, log_safe, safe_traceback
from starosta.service.settings import Settings, proxy_list


# -- number ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [("0", 0), ("42", 42), ("007", 7),
                                             ("4611686018427387904", 2**62)])
def test_number_reads_ascii_digits(value: str, expected: int) -> None:
    assert number(value, "after", "query") == expected


@pytest.mark.parametrize("value", ["", "²", "٣", "１", "1e2", "-1", "+1", " 1", "1 ", "1_000",
                                   "0x10", "4611686018427387905", "1" * 20, "1" * 5000])
def test_number_refuses_anything_else_naming_the_parameter(value: str) -> None:
    with pytest.raises(Invalid) as raised:
        number(value, "after", "query")
    [error] = raised.value.errors
    assert error["field"] == "after" and error["in"] == "query"
    assert len(error["value"]) <= 90 and len(raised.value.detail) < 200


def test_number_shows_the_whole_header_it_was_cut_from() -> None:
    with pytest.raises(Invalid) as raised:
        number("²", "If-Match", "header", sent='W/"²"')
    assert raised.value.errors[0]["value"] == 'W/"²"'


# -- client_key ------------------------------------------------------------------------------------

def request_from(host: str | None, peer: str | None = None) -> Request:
    scope = {"type": "http", "method": "GET", "path": "/", "headers": [], "query_string": b"",
             "client": (host, 0) if host is not None else None}
    if peer is not None:
        scope[PEER] = peer
    return Request(scope)  # type: ignore[arg-type]


@pytest.mark.parametrize("host, peer, key", [
    ("203.0.113.7", None, "203.0.113.7"),
    ("2001:db8:1:2:3:4:5:6", None, "2001:db8:1:2::/64"),
    ("2001:db8:1:2:ffff::1", None, "2001:db8:1:2::/64"),  # the same /64: one client
    ("::ffff:198.51.100.1", None, "198.51.100.1"),
    ("not-an-address", "127.0.0.1", "127.0.0.1"),  # garbage a trusted proxy forwarded
    ("testclient", None, "testclient"),
    ("x" * 500, None, "x" * 64 + "… (500 characters)"),
    (None, None, "unknown"),
])
def test_client_key(host: str | None, peer: str | None, key: str) -> None:
    assert client_key(request_from(host, peer)) == key


# -- X-Request-Id ----------------------------------------------------------------------------------

@pytest.mark.parametrize("sent", [None, "a", "0123456789abcdef0123456789abcdef",
                                  "host.example:1234-5_6", "z" * 64])
def test_a_short_token_is_stored_as_sent(sent: str | None) -> None:
    assert stored_request_id(sent) == sent


@pytest.mark.parametrize("sent", ["", "z" * 65, "x" * 60_000, "a b", "a\tb", "é", "a/b", "a;b"])
def test_anything_else_is_replaced_by_the_servers_own_id(sent: str) -> None:
    ours = stored_request_id(sent)
    assert ours != sent and len(ours) == 32 and int(ours, 16) >= 0
    assert stored_request_id(sent) != ours  # fresh each time


# -- STAROSTA_TRUSTED_PROXIES ----------------------------------------------------------------------

def test_trusted_proxies_are_addresses_and_networks() -> None:
    assert proxy_list("") == [] and proxy_list(" , ") == []
    assert proxy_list("127.0.0.1, ::1,10.0.0.0/8") == ["127.0.0.1", "::1", "10.0.0.0/8"]
    assert Settings.from_env({"STAROSTA_TRUSTED_PROXIES": "127.0.0.1,::1"}).trusted_proxies == \
        "127.0.0.1,::1"
    assert Settings().trusted_proxies == ""  # default: trust no X-Forwarded-For


@pytest.mark.parametrize("value", ["localhost", "*", "10.0.0.0/33", "127.0.0.1;::1"])
def test_anything_else_is_refused_naming_the_variable(value: str) -> None:
    with pytest.raises(ValueError, match="STAROSTA_TRUSTED_PROXIES"):
        Settings.from_env({"STAROSTA_TRUSTED_PROXIES": value})


# -- log lines -------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, line", [
    ("GET /a\nFORGED", "GET /a\\nFORGED"),
    ("\r\x00\x1b[31m\x7f\x85\u2028\u2029", "\\r\\x00\\x1b[31m\\x7f\\x85\\u2028\\u2029"),
    ("a\tb", "a\\tb"),
    ("Лев Чёрный", "Лев Чёрный"),  # text is kept, only controls escaped
    ("connecting to postgresql://ada:pw@h/db?password=pw2", "connecting to postgresql://ada:***@h/db?password=***"),
])
def test_log_safe_makes_one_line(text: str, line: str) -> None:
    assert log_safe(text) == line


def test_every_record_of_the_services_logger_is_one_escaped_line() -> None:
    record = logging.LogRecord("starosta", logging.ERROR, __file__, 1,
                               "unhandled error on %s %s", ("GET", "/x\nFORGED line"), None)
    try:
        raise ValueError("bad value\nFORGED traceback line")
    except ValueError as exc:
        record.exc_info = (type(exc), exc, exc.__traceback__)
    assert SafeLog().filter(record)
    text = logging.Formatter("%(message)s").format(record)
    assert record.getMessage() == "unhandled error on GET /x\\nFORGED line"
    assert not any(line.startswith("FORGED") for line in text.splitlines()), text
    assert "ValueError: bad value\\nFORGED traceback line" in text


def test_a_traceback_keeps_its_causes_escaped() -> None:
    try:
        try:
            raise KeyError("inner\nFORGED")
        except KeyError as inner:
            raise RuntimeError("outer\rFORGED") from inner
    except RuntimeError as exc:
        text = safe_traceback(exc)
    assert "KeyError: 'inner\\nFORGED'" in text and "RuntimeError: outer\\rFORGED" in text
    assert text.index("KeyError") < text.index("RuntimeError")
    assert not any(line.startswith("FORGED") for line in text.splitlines())


def test_a_log_budget_allows_its_lines_per_window_and_counts_the_rest() -> None:
    from starosta.service.api.errors import LogBudget

    now = [0.0]
    budget = LogBudget(lines=3, seconds=60.0, clock=lambda: now[0])
    assert [budget.take() for _ in range(5)] == [(True, 0)] * 3 + [(False, 0)] * 2
    now[0] = 59.9
    assert budget.take() == (False, 0)  # still the first window
    now[0] = 60.0
    assert budget.take() == (True, 3)  # a new window: its first line says 3 were left out
    assert budget.take() == (True, 0)
