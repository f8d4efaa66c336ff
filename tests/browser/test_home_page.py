"""The home page in a real Chromium: the URL `make run` prints answers a page a person can read."""

from __future__ import annotations

import httpx

from tests.browser.conftest import BROWSER_HTML, PHONE, axe_violations, wide_content


def test_the_printed_url_is_a_page_in_a_browser_and_json_for_a_program(site: str, page, shot) -> None:
    page.goto(site + "/")
    assert page.title().endswith("starosta")
    assert page.locator("html").get_attribute("lang") == "en"
    head = httpx.get(site + "/events/head").json()
    assert page.locator("code.hash").inner_text() == head["hash"]  # the full 64-character hash
    assert len(head["hash"]) == 64
    shot("home")
    assert axe_violations(page) == []
    page.set_viewport_size(PHONE)
    assert wide_content(page) == 0
    shot("home-phone")
    # a program at the same URL gets JSON
    program = httpx.get(site + "/")
    assert program.headers["content-type"].startswith("application/json")
    assert program.json()["head"]["hash"] == head["hash"]


def test_pages_carry_the_security_headers_and_vary_on_accept(site: str) -> None:
    r = httpx.get(site + "/", headers={"Accept": BROWSER_HTML})
    assert r.headers["content-type"].startswith("text/html")
    assert r.headers["content-security-policy"] == \
        "default-src 'self'; frame-ancestors 'none'; form-action 'self'"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "same-origin"
    assert "Accept" in r.headers["vary"]
    again = httpx.get(site + "/", headers={"Accept": BROWSER_HTML,
                                           "If-None-Match": r.headers["etag"]})
    assert again.status_code == 304
    assert httpx.get(site + "/?format=json", headers={"Accept": BROWSER_HTML}).json()["name"] \
        == "starosta"
    # no asset from anywhere but the app itself
    assert "https://" not in r.text.split("<body")[0]
