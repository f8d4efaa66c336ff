"""The lean path (service/api/lean.py, issue 25): GET /health and an anonymous GET of a stored
biography answered in front of Litestar give the very status, headers and bytes Litestar gives
(compared with the lean path switched off), and every request it must not answer (a token,
good or bad, a session cookie, a browser, a query string, an unknown or merged id, a stale
/health) reaches Litestar and is answered as before."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from starosta.service.api import lean
from tests.api.conftest import Api, assert_problem


@pytest.fixture
def answered(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[bool]]:
    """What the lean path said to each request since (True: it answered)."""
    said: list[bool] = []
    real = lean.answer

    async def spy(app, scope, send) -> bool:
        said.append(await real(app, scope, send))
        return said[-1]

    monkeypatch.setattr(lean, "answer", spy)
    yield said


def without_lean(monkeypatch: pytest.MonkeyPatch) -> None:
    async def never(app, scope, send) -> bool:
        return False

    monkeypatch.setattr(lean, "answer", never)


def seen(r) -> tuple[int, list[tuple[str, str]], bytes]:
    return r.status_code, sorted(r.headers.multi_items()), r.content


def person(api: Api) -> str:
    return api.person("Vicente Monclús Guallar", api.source())


def test_the_lean_answers_are_litestars(api: Api, answered: list[bool],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    who = person(api)
    path = f"/persons/{who}/biography"
    etag = api.client.get(path).headers["etag"]
    asked = [("/health", {}), (path, {}), (path, {"If-None-Match": etag}),
             (path, {"If-None-Match": f'"other", W/{etag}'}), (path, {"If-None-Match": "*"}),
             (path, {"If-None-Match": '"other"'}), (path, {"Accept": "application/json"}),
             (path, {"X-Request-Id": "abc-1"}), (path, {"Accept": "*/*"})]
    answered.clear()
    lean_answers = [seen(api.client.get(p, headers=h)) for p, h in asked]
    assert answered == [True] * len(asked)
    assert [a[0] for a in lean_answers] == [200, 200, 304, 304, 304, 200, 200, 200, 200]
    without_lean(monkeypatch)
    assert [seen(api.client.get(p, headers=h)) for p, h in asked] == lean_answers


def test_what_the_lean_path_leaves_to_litestar(api: Api, answered: list[bool],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    who = person(api)
    path = f"/persons/{who}/biography"
    answered.clear()

    r = api.get(path, "alice")  # a good token: checked, then the same document
    assert r.status_code == 200 and r.json()["id"] == who
    assert_problem(api.client.get(path, headers={"Authorization": "Bearer nope"}), 401)
    assert_problem(api.client.get("/health", headers={"Authorization": "Bearer nope"}), 401)
    # a browser: the pages' negotiation (the biography has no page of its own: its JSON)
    r = api.client.get(path, headers={"Accept": "text/html,application/xhtml+xml"})
    assert r.status_code == 200 and r.json()["id"] == who
    r = api.client.get(path, headers={"Cookie": "starosta_session=nonsense"})
    assert r.status_code == 200 and r.json()["id"] == who
    assert_problem(api.client.get(path, params={"nope": "1"}), 422, "nope")
    r = api.client.get(path, params={"format": "json"})
    assert r.status_code == 200 and r.json()["id"] == who
    assert_problem(api.client.get("/persons/P-nobody/biography"), 404, "P-nobody")
    assert_problem(api.client.get(path, headers={"If-None-Match": '"' + "x" * 1000 + '"'}), 422)
    r = api.client.get(path + "/")
    assert r.status_code in (200, 404)
    assert answered == [False] * len(answered) and len(answered) == 10

    # a merged record: Litestar's longer way, the survivor's document with `requested`
    other = api.person("Moncluś (in a Memorial list)", api.source("Memorial"))
    assert api.post(f"/persons/{other}/merge", {"into": who, "reason": "same man"}, "bob").status_code == 200
    answered.clear()
    body = api.client.get(f"/persons/{other}/biography").json()
    assert body["id"] == who and body["requested"] == other and answered == [False]

    # a stale /health: Litestar's 503 with its problem document and Retry-After
    archive = api.client.app.state.archive
    monkeypatch.setattr(archive.health, "stale_after", -1.0)
    r = api.client.get("/health")
    assert_problem(r, 503)
    assert r.headers["retry-after"] == "5" and answered[-1] is False


def test_failed_tokens_still_count_to_429(api: Api, answered: list[bool]) -> None:
    who = person(api)
    settings = api.client.app.state.settings
    statuses = [api.client.get(f"/persons/{who}/biography",
                               headers={"Authorization": "Bearer nope"}).status_code
                for _ in range(settings.auth_failures_max + 1)]
    assert statuses[:-1] == [401] * settings.auth_failures_max and statuses[-1] == 429
    assert not any(answered)


BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def test_an_anonymous_person_page_is_answered_from_the_kept_bytes(
        api: Api, answered: list[bool], monkeypatch: pytest.MonkeyPatch) -> None:
    """A person's page asked for by an anonymous browser: the first is rendered by Litestar
    (and kept), the next ones are the lean path's, with the very status, headers and bytes
    Litestar gives; a program's Accept, a cookie, a query or a new document version are
    Litestar's."""
    who = person(api)
    path = f"/persons/{who}"
    answered.clear()
    first = api.client.get(path, headers={"Accept": BROWSER})
    assert first.status_code == 200 and first.headers["content-type"].startswith("text/html")
    assert answered == [False]  # not kept yet: rendered by the page's handler
    etag = first.headers["etag"]
    asked = [{"Accept": BROWSER}, {"Accept": BROWSER, "If-None-Match": etag},
             {"Accept": BROWSER, "If-None-Match": '"other"'}, {"Accept": "text/html"}]
    answered.clear()
    lean_answers = [seen(api.client.get(path, headers=h)) for h in asked]
    assert answered == [True] * len(asked)
    assert [a[0] for a in lean_answers] == [200, 304, 200, 200]
    assert lean_answers[0][2] == first.content
    without_lean(monkeypatch)
    assert [seen(api.client.get(path, headers=h)) for h in asked] == lean_answers


def test_what_the_lean_page_leaves_to_litestar(api: Api, answered: list[bool]) -> None:
    who = person(api)
    path = f"/persons/{who}"
    api.client.get(path, headers={"Accept": BROWSER})  # kept
    answered.clear()
    r = api.client.get(path, headers={"Accept": "application/json, text/html;q=0.5"})
    assert r.status_code == 200 and r.json()["id"] == who  # a program prefers JSON: the record
    r = api.client.get(path, params={"format": "html"}, headers={"Accept": BROWSER})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    r = api.client.get(path, headers={"Accept": BROWSER, "Cookie": "starosta_session=nonsense"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    r = api.client.get(path, headers={"Accept": BROWSER, "Authorization": "Bearer nope"})
    assert r.status_code == 401
    r = api.client.get("/persons/P-00000000", headers={"Accept": BROWSER})
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert True not in answered
    # a new version of the document: rendered again by Litestar, then lean again
    before = api.client.get(path, headers={"Accept": BROWSER})
    claim = api.claim({"kind": "occupation", "person": who, "occupation": "typesetter",
                       "citation": {"source": api.source()}})
    assert api.post(f"/claims/{claim}/approve", {}, "bob").status_code == 200
    answered.clear()
    after = api.client.get(path, headers={"Accept": BROWSER})
    assert answered == [False] and after.headers["etag"] != before.headers["etag"]
    assert b"typesetter" in after.content
    answered.clear()
    assert api.client.get(path, headers={"Accept": BROWSER}).content == after.content
    assert answered == [True]
