"""Requests' small parts over the real HTTP API, on SQLite and PostgreSQL: numbers from
queries and headers (one parser), as_of out of range, asset names, X-Request-Id, the one 404
of a claim the caller may not see, and a bulk approval racing its own Idempotency-Key."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.api.conftest import Api, assert_problem

UNICODE_DIGITS = ["²", "٣", "１"]  # each isdigit(); int() refuses the first, takes the others
LONG = "1" * 5000  # past Python's 4,300-digit int() limit


def head(api: Api) -> int:
    return api.get("/events/head").json()["position"]


def shown_short(problem: dict, field: str) -> None:
    """The problem names `field`, and shows the value it was sent cut short."""
    [error] = [e for e in problem["errors"] if e["field"] == field]
    assert len(str(error.get("value", ""))) < 100 and len(problem["detail"]) < 300, problem


# -- 13, 14: numbers and times from queries and headers -----------------------------------------

@pytest.mark.parametrize("as_of", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"])
def test_as_of_outside_the_years_1_9999_in_utc_is_422(api: Api, as_of: str) -> None:
    person = api.person("Aron Baron", api.source())
    body = assert_problem(api.get(f"/persons/{person}/biography", as_of=as_of), 422, "as_of",
                          "1-9999")
    assert body["errors"][0]["field"] == "as_of" and body["errors"][0]["in"] == "query"


def integer_parameters(api: Api) -> list[tuple[str, str]]:
    """(path, parameter) of every integer query parameter the OpenAPI document lists on a GET,
    plus min_position (every GET) and as_of (a position or a time)."""
    schema = api.get("/schema/openapi.json").json()
    found = []
    for path, operations in schema["paths"].items():
        for parameter in operations.get("get", {}).get("parameters", []):
            if parameter["in"] == "query" and parameter.get("schema", {}).get("type") == "integer":
                found.append((path, parameter["name"]))
    return found


def test_every_number_in_a_query_refuses_unicode_digits_and_long_numbers(api: Api) -> None:
    source = api.source()
    person = api.person("Aron Baron", source)
    place = api.place("Butyrka", source)
    fund = api.post("/funds", {"name": "Relief Fund", "citation": {"source": source}}).json()["id"]
    ids = {"person_id": person, "place_id": place, "fund_id": fund, "source_id": source,
           "id": person}
    targets = integer_parameters(api)
    assert {("/events", "after"), ("/events", "limit"), ("/events/stream", "timeout")} <= set(targets)
    targets += [("/events", "min_position"), ("/persons/{person_id}/biography", "as_of"),
                ("/claims", "after")]
    for template, name in targets:
        path = template
        for key, value in ids.items():
            path = path.replace("{" + key + "}", value)
        for bad in [*UNICODE_DIGITS, LONG, "1e2", "-0", " 1"]:
            r = api.client.get(path, params={name: bad})
            body = assert_problem(r, 422, name)
            shown_short(body, name)


def test_if_match_and_last_event_id_refuse_unicode_digits_and_long_numbers(api: Api) -> None:
    source = api.source()
    person = api.person("Aron Baron", source)
    claim = api.claim({"kind": "death", "person": person, "date": "1938",
                       "citation": {"source": source}})
    before = head(api)
    for bad in [*UNICODE_DIGITS, LONG]:
        r = api.client.post(f"/claims/{claim}/approve", json={},
                            headers={**api.auth("bob"), "If-Match": f'"{bad}"'.encode()})
        shown_short(assert_problem(r, 422, "If-Match"), "If-Match")
        r = api.client.get("/events/stream", headers={"Last-Event-ID": bad.encode()})
        assert_problem(r, 422, "Last-Event-ID")
    assert head(api) == before
    ok = api.client.post(f"/claims/{claim}/approve", json={},
                         headers={**api.auth("bob"), "If-Match": '"1"'})
    assert ok.status_code == 200, ok.text


@pytest.mark.parametrize("name", ["%00", "a" * 300, "..%2F..%2Fpyproject.toml", "%0aFAKE"])
def test_only_the_documentation_pages_own_files_are_served(api: Api, name: str) -> None:
    r = api.client.get(f"/schema/assets/{name}")
    assert_problem(r, 404)
    assert len(r.json()["detail"]) < 200
    assert api.client.get("/schema/assets/swagger-ui-bundle.js").status_code == 200


# -- 16: X-Request-Id -----------------------------------------------------------------------------

def stored_request_ids(api: Api, after: int) -> list[str | None]:
    items = api.get("/events", "root", after=after).json()["items"]
    return [item["request_id"] for item in items]


@pytest.mark.parametrize("sent", ["x" * 60_000, "a" * 65, "two words", "tab\there", "é-accent"])
def test_a_request_id_that_is_no_short_token_is_replaced_by_the_servers(api: Api, sent: str) -> None:
    before = head(api)
    r = api.client.post("/sources", json={"csl": {"type": "book", "title": "Letters"}},
                        headers={**api.auth("alice"), "X-Request-Id": sent.encode()})
    assert r.status_code == 201, r.text
    ours = r.headers["x-request-id"]
    assert len(ours) == 32 and all(c in "0123456789abcdef" for c in ours)
    assert stored_request_ids(api, before) == [ours]


def test_a_short_request_id_is_stored_as_sent(api: Api) -> None:
    before = head(api)
    sent = "nginx-0123456789abcdef:worker.7_" + "z" * 32  # 64 characters
    r = api.client.post("/sources", json={"csl": {"type": "book", "title": "Letters"}},
                        headers={**api.auth("alice"), "X-Request-Id": sent})
    assert r.status_code == 201 and r.headers["x-request-id"] == sent
    assert stored_request_ids(api, before) == [sent]


# -- 6: one 404 for a hidden claim and an unknown one ----------------------------------------------

def same_but_the_id(hidden: httpx.Response, unknown: httpx.Response, hidden_id: str,
                    unknown_id: str) -> None:
    assert hidden.status_code == unknown.status_code == 404, (hidden.text, unknown.text)
    assert hidden.text.replace(hidden_id, "ID") == unknown.text.replace(unknown_id, "ID")


def test_a_hidden_claim_and_an_unknown_one_answer_the_same_404(api: Api) -> None:
    source = api.source()
    person = api.person("Aron Baron", source)
    hidden = api.claim({"kind": "death", "person": person, "date": "1938",
                        "citation": {"source": source}}, who="alice")  # pending: dave may not see it
    unknown = "C-ZZZZZZZZ"
    body = {"reason": "a duplicate"}
    same_but_the_id(api.post(f"/claims/{hidden}/retract", body, "dave"),
                    api.post(f"/claims/{unknown}/retract", body, "dave"), hidden, unknown)
    same_but_the_id(api.get(f"/claims/{hidden}", "dave"), api.get(f"/claims/{unknown}", "dave"),
                    hidden, unknown)
    same_but_the_id(api.get(f"/claims/{hidden}"), api.get(f"/claims/{unknown}"), hidden, unknown)

    def superseding(old: str) -> httpx.Response:
        return api.post("/claims", {"kind": "death", "person": person, "date": "1939",
                                    "supersedes": old, "citation": {"source": source}}, "dave")
    same_but_the_id(superseding(hidden), superseding(unknown), hidden, unknown)
    assert_problem(superseding(hidden), 404, "supersedes")


# -- 8: a bulk approval and its Idempotency-Key, raced ---------------------------------------------

def race(api: Api, calls: list[tuple[str, dict, str, dict]]) -> list[httpx.Response]:
    """POST every (path, body, who, headers) from its own thread, released by a barrier."""
    barrier = threading.Barrier(len(calls), timeout=10)

    def run(call: tuple[str, dict, str, dict]) -> httpx.Response:
        path, body, who, headers = call
        barrier.wait()
        return api.post(path, body, who, **headers)

    with ThreadPoolExecutor(len(calls)) as pool:
        return [f.result(timeout=60) for f in [pool.submit(run, c) for c in calls]]


def pending_claims(api: Api, source: str, person: str, n: int) -> list[str]:
    return [api.claim({"kind": "death", "person": person, "date": str(1930 + i),
                       "citation": {"source": source}}) for i in range(n)]


def status_of(api: Api, claim: str) -> str:
    return api.get(f"/claims/{claim}", "bob").json()["status"]


def test_one_key_with_two_bodies_at_once_applies_one(api: Api) -> None:
    source = api.source()
    person = api.person("Aron Baron", source)
    for round_ in range(8):
        first, second = pending_claims(api, source, person, 2)
        key = {"Idempotency-Key": f"bulk-race-{round_}"}
        before = head(api)
        answers = race(api, [("/claims/approve", {"ids": [first]}, "bob", key),
                             ("/claims/approve", {"ids": [second]}, "bob", key)])
        codes = sorted(a.status_code for a in answers)
        assert codes == [200, 422], [a.text for a in answers]
        loser = next(a for a in answers if a.status_code == 422)
        assert_problem(loser, 422, "Idempotency-Key", "another body")
        winner = next(a for a in answers if a.status_code == 200).json()["items"]
        [item] = winner
        assert item["status"] == 200
        won, lost = (first, second) if item["id"] == first else (second, first)
        assert status_of(api, won) == "approved" and status_of(api, lost) == "pending"
        assert head(api) == before + 1


def test_one_key_with_one_body_twice_at_once_applies_it_once(api: Api) -> None:
    source = api.source()
    person = api.person("Aron Baron", source)
    for round_ in range(8):
        claims = pending_claims(api, source, person, 2)
        key = {"Idempotency-Key": f"bulk-twins-{round_}"}
        before = head(api)
        answers = race(api, [("/claims/approve", {"ids": claims}, "bob", key)] * 2)
        assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
        assert answers[0].json() == answers[1].json()
        assert sorted(a.headers.get("idempotent-replayed", "") for a in answers) == ["", "true"]
        assert head(api) == before + 2
        assert [status_of(api, c) for c in claims] == ["approved", "approved"]


def test_a_bulk_approval_that_refuses_every_claim_is_replayed_with_its_key(api: Api) -> None:
    key = {"Idempotency-Key": "bulk-nothing"}
    before = head(api)
    first = api.post("/claims/approve", {"ids": ["C-ZZZZZZZZ"]}, "bob", **key)
    assert first.status_code == 200 and first.json()["items"][0]["status"] == 404
    again = api.post("/claims/approve", {"ids": ["C-ZZZZZZZZ"]}, "bob", **key)
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    assert_problem(api.post("/claims/approve", {"ids": ["C-YYYYYYYY"]}, "bob", **key), 422,
                   "Idempotency-Key")
    assert head(api) == before


# -- 13: the 500 handler's log line ------------------------------------------------------------------

def test_a_500_is_logged_as_one_escaped_line_with_the_client(caplog) -> None:
    """A bug's 500 (a handler of a small real app, with the service's exception handlers and
    log filter) is logged with its path and message escaped: a %0a cannot forge a line."""
    from litestar import Litestar, get
    from litestar.params import FromPath
    from litestar.testing import TestClient

    from starosta.service.api.errors import EXCEPTION_HANDLERS, install_safe_log

    @get("/boom/{what:str}")
    async def boom(what: FromPath[str]) -> None:
        raise ValueError(f"cannot handle {what}")

    install_safe_log()
    app = Litestar([boom], exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
                   logging_config=None)  # caplog keeps the root logger's handlers
    with TestClient(app) as client, caplog.at_level(logging.ERROR, logger="starosta"):
        r = client.get("/boom/x%0aFORGED%20line%0d%0a")
    assert_problem(r, 500)
    assert "cannot handle" not in r.text  # the answer leaks nothing of the bug
    text = caplog.text
    assert "unhandled error on GET /boom/x\\nFORGED line\\r\\n from testclient" in text, text
    assert "ValueError: cannot handle x\\nFORGED line\\r\\n" in text, text
    assert not any(line.startswith("FORGED") for line in text.splitlines()), text
