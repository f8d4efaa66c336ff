"""Signing in with a token for a session cookie, over HTTP against the real server on the demo
archive: the cookie's attributes, rotation, revocation, bad cookies, CSRF on cookie-signed
writes only (bearer-token writes unaffected), sign-out, and the signed-in pages' headers."""

from __future__ import annotations

import re

import httpx

from tests.browser.conftest import BROWSER_HTML
from tests.conftest import run_cli

CONTRIBUTOR, REVIEWER = "demo-contributor-token", "demo-reviewer-token"
COOKIE = "starosta_session"


def sign_in(site: str, token: str) -> httpx.Client:
    """A client holding the session cookie of `token` (as a browser would after the form)."""
    client = httpx.Client(base_url=site, headers={"Accept": BROWSER_HTML})
    r = client.post("/sign-in", data={"token": token, "next": "/"})
    assert r.status_code == 303, r.text
    assert r.headers["location"] == "/"
    return client


def csrf(client: httpx.Client) -> str:
    """The CSRF token a signed-in page puts in its forms."""
    page = client.get("/", headers={"Accept": BROWSER_HTML}).text
    found = re.search(r'name="_csrf_token" value="([0-9a-f]{64})"', page)
    assert found, page
    return found.group(1)


def test_sign_in_sets_a_strict_http_only_cookie_and_rotates_it(site: str) -> None:
    client = httpx.Client(base_url=site)
    r = client.post("/sign-in", data={"token": CONTRIBUTOR, "next": "/claims/new"})
    assert r.status_code == 303
    assert r.headers["location"] == "/claims/new"
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    attributes = [a.strip().lower() for a in cookie.split(";")]
    assert "httponly" in attributes
    assert "samesite=strict" in attributes
    assert "path=/" in attributes
    assert "secure" not in attributes  # plain http here; https through a trusted proxy: Secure
    first = client.cookies[COOKIE]
    # signing in again makes a new session id, and the old one signs nobody in any more
    again = client.post("/sign-in", data={"token": CONTRIBUTOR, "_csrf_token": csrf(client)})
    assert again.status_code == 303
    second = client.cookies[COOKIE]
    assert second != first
    old = httpx.get(site + "/", cookies={COOKIE: first}, headers={"Accept": BROWSER_HTML})
    assert "Sign in" in old.text and "Sign out" not in old.text
    now = httpx.get(site + "/", cookies={COOKIE: second}, headers={"Accept": BROWSER_HTML})
    assert "Sign out" in now.text and "Demo Contributor" in now.text


def test_a_wrong_token_is_refused_with_the_form_again(site: str) -> None:
    r = httpx.post(site + "/sign-in", data={"token": "sta_not-a-token"},
                   headers={"Accept": BROWSER_HTML})
    assert r.status_code == 401
    assert "set-cookie" not in r.headers
    assert "not accepted" in r.text
    assert r.headers["content-type"].startswith("text/html")


def test_a_sign_in_posted_from_another_site_is_refused(site: str) -> None:
    r = httpx.post(site + "/sign-in", data={"token": CONTRIBUTOR},
                   headers={"Origin": "https://evil.example"})
    assert r.status_code == 401
    assert "set-cookie" not in r.headers


def test_a_bad_cookie_is_anonymous_never_an_error(site: str) -> None:
    for value in ("garbage", "x" * 43, "", "é" * 10, "a" * 5000, '"quoted"'):
        cookie = f"{COOKIE}={value}".encode()
        r = httpx.get(site + "/", headers={"Accept": BROWSER_HTML, "Cookie": cookie})
        assert r.status_code == 200, value
        assert "Sign in" in r.text
        assert httpx.get(site + "/persons", headers={"Cookie": cookie}).status_code == 200


def test_signed_in_pages_are_private_and_vary_on_the_cookie(site: str) -> None:
    client = sign_in(site, REVIEWER)
    r = client.get("/")
    assert r.headers["cache-control"] == "private, no-store"
    assert [v.strip() for v in r.headers["vary"].split(",")] == ["Accept", "Cookie"]
    assert "Demo Reviewer" in r.text and "Sign out" in r.text
    anonymous = httpx.get(site + "/", headers={"Accept": BROWSER_HTML})
    assert "private" not in anonymous.headers.get("cache-control", "")
    assert "Sign in" in anonymous.text and "Demo Reviewer" not in anonymous.text


def test_the_cookie_signs_in_the_api_too(site: str) -> None:
    client = sign_in(site, REVIEWER)
    # pending claims are listed for reviewers only
    r = client.get("/claims", params={"status": "pending"}, headers={"Accept": "application/json"})
    assert r.status_code == 200, r.text
    # what a signed-in person reads is kept by no shared cache
    assert r.headers["cache-control"] == "private, no-store"
    assert "Cookie" in r.headers["vary"]
    anonymous = httpx.get(site + "/claims", params={"status": "pending"})
    assert anonymous.status_code in (401, 403)


def _custody(site: str) -> dict:
    persons = httpx.get(site + "/persons", params={"q": "Monclús"}).json()["items"]
    places = httpx.get(site + "/places", params={"q": "Butyrka"}).json()["items"]
    cited = httpx.get(site + "/claims", params={"person": persons[0]["id"], "limit": 1}).json()
    return {"kind": "custody", "person": persons[0]["id"], "place": places[0]["id"],
            "custody": "prison", "start": "1941",
            "citation": {"source": cited["items"][0]["claim"]["citation"]["source"]}}


def test_a_cookie_signed_write_needs_the_csrf_token(site: str) -> None:
    client = sign_in(site, CONTRIBUTOR)
    body = _custody(site)
    refused = client.post("/claims", json=body, headers={"Accept": "application/json"})
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert "CSRF" in refused.json()["detail"]
    wrong = client.post("/claims", json=body, headers={"Accept": "application/json",
                                                       "x-csrftoken": "0" * 64})
    assert wrong.status_code == 403
    # a browser's form without the token: a page saying so
    page = client.post("/sign-out", data={})
    assert page.status_code == 403
    assert page.headers["content-type"].startswith("text/html")
    assert "CSRF" in page.text
    assert "Sign out" in client.get("/", headers={"Accept": BROWSER_HTML}).text  # still in
    accepted = client.post("/claims", json=body, headers={"Accept": "application/json",
                                                          "x-csrftoken": csrf(client)})
    assert accepted.status_code == 201, accepted.text


def test_a_bearer_token_write_needs_no_csrf_token(site: str) -> None:
    r = httpx.post(site + "/claims", json=_custody(site),
                   headers={"Authorization": f"Bearer {CONTRIBUTOR}"})
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "pending"


def test_sign_out_ends_the_session(site: str) -> None:
    client = sign_in(site, CONTRIBUTOR)
    old = client.cookies[COOKIE]
    r = client.post("/sign-out", data={"_csrf_token": csrf(client)})
    assert r.status_code == 303
    assert COOKIE not in client.cookies
    stale = httpx.get(site + "/", cookies={COOKIE: old}, headers={"Accept": BROWSER_HTML})
    assert "Sign in" in stale.text and "Sign out" not in stale.text


def test_a_revoked_tokens_session_is_anonymous_on_the_next_request(site: str, demo_db: str) -> None:
    made = run_cli("token", "create", "--name", "Session Tester", "--role", "reviewer",
                   "--db", demo_db)
    assert made.returncode == 0, made.stderr
    token = re.search(r"sta_[A-Za-z0-9_-]+", made.stdout).group(0)
    token_id = re.search(r"T-[0-9a-f]{8}", made.stdout + made.stderr).group(0)
    client = sign_in(site, token)
    assert "Session Tester" in client.get("/", headers={"Accept": BROWSER_HTML}).text
    revoked = run_cli("token", "revoke", token_id, "--db", demo_db)
    assert revoked.returncode == 0, revoked.stderr
    r = client.get("/")
    assert r.status_code == 200
    assert "Sign in" in r.text and "Session Tester" not in r.text
    assert client.get("/claims", params={"status": "pending"},
                      headers={"Accept": "application/json"}).status_code in (401, 403)


def test_the_cookie_is_secure_when_the_trusted_proxy_says_https(demo_db: str) -> None:
    from tests.conftest import start_server, stop

    proc, base = start_server(demo_db, env={"STAROSTA_TRUSTED_PROXIES": "127.0.0.1,::1"})
    try:
        https = httpx.post(base + "/sign-in", data={"token": CONTRIBUTOR},
                           headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"})
        assert https.status_code == 303
        assert "secure" in [a.strip().lower() for a in https.headers["set-cookie"].split(";")]
        plain = httpx.post(base + "/sign-in", data={"token": CONTRIBUTOR},
                           headers={"X-Forwarded-Proto": "http", "X-Forwarded-For": "203.0.113.9"})
        assert "secure" not in [a.strip().lower() for a in plain.headers["set-cookie"].split(";")]
    finally:
        stop(proc)


def test_failed_sign_ins_share_the_failed_authentication_throttle(demo_db: str) -> None:
    """Issue 23: a failed sign-in is a failed authentication, counted per client with wrong
    bearer tokens; past STAROSTA_AUTH_FAILURES_MAX the form answers 429 with Retry-After,
    while a valid token still signs in and another client is still only refused (401)."""
    from tests.conftest import start_server, stop

    proc, base = start_server(demo_db, env={"STAROSTA_TRUSTED_PROXIES": "127.0.0.1,::1",
                                            "STAROSTA_AUTH_FAILURES_MAX": "3",
                                            "STAROSTA_REFUSAL_DELAY": "0"})
    one = {"X-Forwarded-For": "203.0.113.7", "Accept": BROWSER_HTML}
    other = {"X-Forwarded-For": "203.0.113.8", "Accept": BROWSER_HTML}
    try:
        with httpx.Client(base_url=base, timeout=10) as http:
            # two wrong bearer tokens and one wrong sign-in: three failures of one client
            for _ in range(2):
                assert http.get("/health", headers={**one, "Authorization": "Bearer sta_x"}) \
                    .status_code == 401
            assert http.post("/sign-in", data={"token": "sta_wrong"}, headers=one).status_code == 401
            refused = http.post("/sign-in", data={"token": "sta_wrong"}, headers=one)
            assert refused.status_code == 429
            assert int(refused.headers["retry-after"]) >= 1
            assert refused.headers["content-type"].startswith("text/html")
            assert "Too many tokens were refused" in refused.text
            assert http.get("/health", headers={**one, "Authorization": "Bearer sta_x"}) \
                .status_code == 429  # the same counter, whichever way the token came
            assert http.post("/sign-in", data={"token": "sta_wrong"}, headers=other) \
                .status_code == 401
            assert http.post("/sign-in", data={"token": CONTRIBUTOR}, headers=one) \
                .status_code == 303  # a valid token is always served
    finally:
        stop(proc)
