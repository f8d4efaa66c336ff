"""A CSL item is held to bounds before the CSL schema runs (issue 23, item 2): one contributor's
1 MB item with 520,000 invalid authors stalled the server for 15 s, the schema collecting an
error for every author on the event loop. Now the item is refused at the length of its author
list, naming `csl.author` and the bound, and the check runs in a decider thread
(tests/unit/test_csl_bounds.py: the walk itself, and that no coroutine runs it)."""

from __future__ import annotations

import msgspec
import pytest

from starosta.service.domain.csl import CSL_MAX_DEPTH, CSL_MAX_NAMES
from tests.api.conftest import Api, assert_problem

SQLITE = pytest.mark.parametrize("backend", ["sqlite"])  # no rule of the database: one backend


@SQLITE
def test_the_issues_1_mb_item_with_520000_invalid_authors_is_422_naming_the_list_and_bound(api: Api) -> None:
    body = msgspec.json.encode({"csl": {"type": "book", "title": "x", "author": [1] * 520_000}})
    assert 1_000_000 < len(body) <= 1_048_576  # under STAROSTA_MAX_BODY_BYTES: decoded, then checked
    head = api.get("/events/head").json()["position"]
    r = api.client.post("/sources", content=body, headers={**api.auth("alice"),
                                                          "Content-Type": "application/json"})
    problem = assert_problem(r, 422, "csl.author", "1,000", "CSL_MAX_NAMES")
    assert problem["errors"][0]["field"] == "csl.author"
    assert problem["errors"][0]["value"] == 520_000  # its size, not the list echoed back
    assert len(r.content) < 2_000
    assert api.get("/events/head").json()["position"] == head  # nothing registered


def names(n: int) -> list[dict[str, str]]:
    return [{"family": f"Tester{i}", "given": "T."} for i in range(n)]


@SQLITE
def test_an_item_at_the_bound_registers_and_one_past_it_is_refused(api: Api) -> None:
    at = {"type": "book", "title": "A collective work (test, not historical)",
          "author": names(CSL_MAX_NAMES - 10), "editor": names(10)}
    r = api.post("/sources", {"csl": at})
    assert r.status_code == 201, r.text[:500]
    assert api.get(f"/sources/{r.json()['id']}").json()["data"]["csl"] == at
    past = {**at, "translator": names(1)}  # one name more, in another name list
    body = assert_problem(api.post("/sources", {"csl": past}), 422, "csl.translator", "1,000")
    assert body["errors"][0]["field"] == "csl.translator"
    alone = {"type": "book", "title": "x", "author": names(CSL_MAX_NAMES + 1)}
    assert_problem(api.post("/sources", {"csl": alone}), 422, "csl.author", "1,000")


@SQLITE
def test_a_deeply_nested_item_is_422_naming_where(api: Api) -> None:
    deep: object = "leaf"
    for _ in range(CSL_MAX_DEPTH):  # the item, custom, and 5 levels more: one too many
        deep = {"k": deep}
    r = api.post("/sources", {"csl": {"type": "book", "title": "x", "custom": deep}})
    body = assert_problem(r, 422, "csl.custom.k.k.k.k", "CSL_MAX_DEPTH")
    assert body["errors"][0]["field"] == "csl.custom.k.k.k.k"
    shallow: object = "leaf"
    for _ in range(CSL_MAX_DEPTH - 2):  # custom and its contents: 6 levels with the item
        shallow = {"k": shallow}
    r = api.post("/sources", {"csl": {"type": "book", "title": "x", "custom": shallow}})
    assert r.status_code == 201, r.text


@SQLITE
def test_within_the_bounds_the_schema_names_its_first_error_past_them_the_bound(api: Api) -> None:
    # 1,000 invalid authors (within the bound): the schema's first error, with its value
    r = api.post("/sources", {"csl": {"type": "book", "title": "x", "author": [1] * 1_000}})
    body = assert_problem(r, 422, "csl.author.0")
    assert body["errors"][0]["value"] == 1
    # 1,001: the bound, before the schema looks at any of them
    r = api.post("/sources", {"csl": {"type": "book", "title": "x", "author": [1] * 1_001}})
    assert_problem(r, 422, "csl.author", "CSL_MAX_NAMES")
    # what the item lacks comes before what is wrong inside it
    r = api.post("/sources", {"csl": {"title": "x", "author": [1] * 1_000}})
    assert_problem(r, 422, "csl.type", "required")


@SQLITE
def test_a_long_string_and_a_long_list_are_422_naming_their_bounds(api: Api) -> None:
    r = api.post("/sources", {"csl": {"type": "book", "title": "x" * 20_001}})
    body = assert_problem(r, 422, "csl.title", "20,000", "CSL_MAX_STRING")
    assert body["errors"][0]["value"] == 20_001
    r = api.post("/sources", {"csl": {"type": "book", "title": "x", "categories": ["c"] * 101}})
    assert_problem(r, 422, "csl.categories", "100", "CSL_MAX_ITEMS")
    r = api.post("/sources", {"csl": {"type": "book", "title": "x" * 20_000, "categories": ["c"] * 100}})
    assert r.status_code == 201, r.text[:300]


@SQLITE
@pytest.mark.parametrize("tail", [b'"\\u0001"', '"é"'.encode()])
def test_a_body_nested_too_deeply_for_the_walks_is_400_not_500(api: Api, tail: bytes) -> None:
    """A text outside ASCII (put in NFC) or a control character (named) makes the server walk
    the body; 900 levels of nesting inside `csl.custom`, which msgspec decodes, was a 500."""
    for levels in (500, 900):
        body = b'{"csl":{"type":"book","title":"x","custom":' + b"[" * levels + tail + \
            b"]" * levels + b"}}"
        r = api.client.post("/sources", content=body, headers={**api.auth("alice"),
                                                              "Content-Type": "application/json"})
        assert_problem(r, 400, "nested too deeply")


def test_a_large_body_is_walked_in_a_decider_thread_a_small_one_on_the_loop(db_path: str) -> None:
    """common.walked, on the real app's archive: the walks of a body over WALK_ON_LOOP_BYTES
    (its texts put in NFC, searched for control characters) run in a decider thread."""
    import threading

    import anyio
    from litestar import Request
    from litestar.testing import TestClient

    from starosta.service.api.app import create_app
    from starosta.service.api.common import WALK_ON_LOOP_BYTES, walked
    from starosta.service.settings import Settings

    app = create_app(Settings(db=db_path))
    with TestClient(app):  # the app started: its archive open
        request = Request({"type": "http", "app": app, "litestar_app": app, "method": "POST", "path": "/sources",
                           "headers": [], "query_string": b""})

        async def where(size: int) -> str:
            return (await walked(request, b" " * size, threading.current_thread)).name

        assert anyio.run(where, WALK_ON_LOOP_BYTES) == threading.current_thread().name
        assert anyio.run(where, WALK_ON_LOOP_BYTES + 1).startswith("starosta-decider")
