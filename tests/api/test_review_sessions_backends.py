"""Sessions on both backends (SQLite and PostgreSQL, where the service's role opens, touches and
closes sessions): sign in, a cookie-signed write with and without its CSRF token, a bearer
write unaffected, the approve form answered with HTML and the JSON approve unchanged, sign-out."""

from __future__ import annotations

import re

from tests.api.conftest import Api

HTML = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"


def _signed_in(api: Api, who: str) -> str:
    """Sign `who` in on the test client (it keeps the cookie); return the page's CSRF token."""
    r = api.client.post("/sign-in", data={"token": api.tokens[who]}, follow_redirects=False)
    assert r.status_code == 303, r.text
    assert "starosta_session" in api.client.cookies
    page = api.client.get("/claims/new", headers={"Accept": HTML})
    assert page.status_code == 200, page.text
    return re.search(r'name="_csrf_token" value="([0-9a-f]{64})"', page.text).group(1)


def test_sessions_csrf_and_forms_on_each_backend(api: Api) -> None:
    source = api.source("Sessions <i>test</i>")
    person = api.person("Sessiya Testova", source)
    body = {"kind": "death", "person": person, "date": "1937", "citation": {"source": source}}
    # a bearer-token write needs no CSRF token
    bearer = api.post("/claims", body, "dave")
    assert bearer.status_code == 201, bearer.text
    token = _signed_in(api, "alice")
    refused = api.client.post("/claims", json=body)
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    # the form, posted to POST /claims itself
    posted = api.client.post("/claims", data={"_csrf_token": token, "kind": "death",
                                              "person": person, "date": "1937",
                                              "citation.source": source},
                             headers={"Accept": HTML}, follow_redirects=False)
    assert posted.status_code == 303, posted.text
    claim_id = posted.headers["location"].rsplit("submitted=", 1)[1]
    mine = api.client.get("/claims/new", headers={"Accept": HTML}).text
    assert claim_id in mine and bearer.json()["id"] not in mine  # dave's is not alice's
    # the form's errors beside their fields: 422 with the page
    wrong = api.client.post("/claims", data={"_csrf_token": token, "kind": "death",
                                             "person": person, "date": "soon",
                                             "citation.source": source},
                            headers={"Accept": HTML})
    assert wrong.status_code == 422
    assert 'id="f-date-error"' in wrong.text
    # an entity written as its label: the one record with it (case and accents folded)
    labelled = api.client.post("/claims", data={"_csrf_token": token, "kind": "death",
                                                "person": "sessiya  TESTOVA", "date": "1939",
                                                "citation.source": source},
                               headers={"Accept": HTML}, follow_redirects=False)
    assert labelled.status_code == 303, labelled.text
    labelled_id = labelled.headers["location"].rsplit("submitted=", 1)[1]
    assert api.get(f"/claims/{labelled_id}", "alice").json()["claim"]["person"] == person
    unknown = api.client.post("/claims", data={"_csrf_token": token, "kind": "death",
                                               "person": "Sessiya Testo", "date": "1939",
                                               "citation.source": source},
                              headers={"Accept": HTML})
    assert unknown.status_code == 422
    error = re.search(r'id="f-person-error" class="field-error">([^<]*)<', unknown.text).group(1)
    assert "did you mean" in error and person in error
    # a reviewer's form approval answers with the row, in HTML; the JSON approve is unchanged
    api.client.cookies.clear()
    token = _signed_in(api, "bob")
    row = api.client.post(f"/claims/{claim_id}/approve",
                          data={"_csrf_token": token, "reason": "<b>checked</b>"},
                          headers={"Accept": HTML, "HX-Request": "true"})
    assert row.status_code == 200, row.text
    assert row.headers["content-type"].startswith("text/html")
    assert f'id="claim-{claim_id}"' in row.text and "You approved this claim" in row.text
    # a decision against a version the reviewer did not see is refused, shown in the row
    other = api.post("/claims", {**body, "date": "1938"}, "dave").json()["id"]
    stale = api.client.post(f"/claims/{other}/approve",
                            data={"_csrf_token": token, "version": "7"}, headers={"Accept": HTML})
    assert stale.status_code in (409, 412), stale.text
    assert 'class="field-error"' in stale.text
    assert api.get(f"/claims/{other}", "bob").json()["status"] == "pending"
    json_approve = api.post(f"/claims/{bearer.json()['id']}/approve", {"reason": "ok"}, "carol")
    assert json_approve.status_code == 200 and json_approve.json()["status"] == "approved"
    assert api.get(f"/claims/{claim_id}").json()["status"] == "approved"
    # contested from the row, with a counter-citation: disputed, the contest's citation kept
    version = api.get(f"/claims/{claim_id}", "bob").json()["version"]
    contested = api.client.post(f"/claims/{claim_id}/contest", data={
        "_csrf_token": token, "version": str(version), "reason": "another date",
        "citation.source": source, "citation.locator": "p. 2"},
        headers={"Accept": HTML, "HX-Request": "true"})
    assert contested.status_code == 200, contested.text
    assert "You contested this claim" in contested.text
    dispute = api.get(f"/claims/{claim_id}").json()
    assert dispute["status"] == "disputed"
    assert dispute["dispute"]["citation"]["locator"] == "p. 2"
    # sign-out closes the session on the server: the old cookie signs nobody in
    old = api.client.cookies["starosta_session"]
    out = api.client.post("/sign-out", data={"_csrf_token": token}, follow_redirects=False)
    assert out.status_code == 303
    api.client.cookies.clear()
    api.client.cookies.set("starosta_session", old)
    assert api.client.get("/claims", params={"status": "pending"}).status_code == 401


def test_nothing_for_me_to_review_when_empty_or_only_my_own(api: Api) -> None:
    _signed_in(api, "bob")
    empty = api.client.get("/review", headers={"Accept": HTML})
    assert empty.status_code == 200
    assert "Nothing for me to review" in empty.text
    assert empty.headers["cache-control"] == "private, no-store"
    # everything waiting is bob's own: the source, the person's name claim, a death
    source = api.post("/sources", {"csl": {"type": "book", "title": "Queue test"}}, "bob").json()["id"]
    person = api.post("/persons", {"name": "Ocheredi Testov", "citation": {"source": source}},
                      "bob").json()["id"]
    mine = api.post("/claims", {"kind": "death", "person": person, "date": "1937",
                                "citation": {"source": source}}, "bob").json()["id"]
    own = api.client.get("/review", headers={"Accept": HTML}).text
    assert "Nothing for me to review: the claims waiting are your own" in own
    assert f'id="claim-{mine}"' in own and f'action="/claims/{mine}/approve"' not in own
    api.client.cookies.clear()
    _signed_in(api, "carol")
    theirs = api.client.get("/review", headers={"Accept": HTML}).text
    assert "Nothing for me to review" not in theirs
    assert f'action="/claims/{mine}/approve"' in theirs
    # a program at the same URL is told where the queue's JSON is
    assert api.client.get("/review", headers={"Accept": "application/json"}).json()["pending"] \
        == "/claims?status=pending"


def test_a_program_posting_a_form_with_its_token_gets_the_apis_answer(api: Api) -> None:
    r = api.client.post("/claims", data={"kind": "death", "person": "P-00000000"},
                        headers={**api.auth("alice"), "Accept": "application/json"})
    assert r.status_code == 400  # the API's JSON answer to a body that is no JSON, as before
    assert r.headers["content-type"].startswith("application/problem+json")


def test_bulk_approval_from_the_queue(api: Api) -> None:
    source = api.source("Bulk test")
    person = api.person("Massovy Testov", source)
    first = api.claim({"kind": "death", "person": person, "date": "1937", "citation": {"source": source}})
    second = api.claim({"kind": "birth", "person": person, "date": "1900", "citation": {"source": source}})
    token = _signed_in(api, "carol")
    queue = api.client.get("/review", headers={"Accept": HTML}).text
    assert f'name="ids" value="{first}" form="bulk"' in queue
    r = api.client.post("/claims/approve", data={"_csrf_token": token, "ids": [first, second, "C-NOTHERE"],
                                                 "reason": "checked <b>both</b>"},
                        headers={"Accept": HTML})
    assert r.status_code == 200
    assert f"{first}: approved" in r.text and f"{second}: approved" in r.text
    assert "C-NOTHERE: not approved" in r.text
    assert "checked <b>" not in r.text
    for claim_id in (first, second):
        approved = api.get(f"/claims/{claim_id}").json()
        assert approved["status"] == "approved"
        assert approved["history"][-1]["reason"] == "checked <b>both</b>"
