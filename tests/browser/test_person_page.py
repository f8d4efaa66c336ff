"""The home page's search and a person's page in a real Chromium on the demo archive:
Monclús found from "monclus" and from "Монклюс", his timeline chart and claims (Butyrka,
Vorkuta), "cite this page" with the full chain hash of his document's last change, a contested
claim marked disputed, a source titled `<script>` shown as text; axe clean; 390 px wide."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.browser.conftest import BROWSER_HTML, PHONE, axe_violations, wide_content

REVIEWER = {"Authorization": "Bearer demo-reviewer-token"}  # the demo's public tokens
CONTRIBUTOR = {"Authorization": "Bearer demo-contributor-token"}
SCRIPT_TITLE = "<script>alert(1)</script>"


def monclus(site: str) -> str:
    hits = httpx.get(site + "/persons", params={"q": "Vicente Monclús"}).json()["items"]
    return next(h["id"] for h in hits if h["label"] == "Vicente Monclús Guallar")


def hash_at(site: str, position: int) -> str:
    row = httpx.get(site + "/events", params={"after": position - 1, "limit": 1}).json()["items"][0]
    assert row["position"] == position
    return row["hash"]


def cited(page) -> tuple[int, str]:
    """(position, chain hash) the cite box shows."""
    box = page.locator("section.cite")
    return int(box.locator(".position").inner_text()), box.locator("code.chain-hash").inner_text()


@pytest.mark.parametrize("query", ["monclus", "Монклюс"])
def test_the_search_box_finds_monclus_in_any_script(site: str, page, shot, query: str) -> None:
    page.goto(site + "/")
    page.locator("#home-q").fill(query)
    page.locator("#home-q").press("Enter")
    page.wait_for_url(re.compile(r"\?q="))
    found = page.locator("ul.hits-person a", has_text="Vicente Monclús Guallar")
    assert found.count() == 1
    assert page.locator("h1").count() == 1
    shot("results")
    assert axe_violations(page) == []
    page.set_viewport_size(PHONE)
    assert wide_content(page) == 0
    shot("results-phone")
    found.click()
    page.wait_for_url(re.compile(r"/persons/P-"))
    assert page.locator("h1").inner_text() == "Vicente Monclús Guallar"


def test_home_page_shows_the_archives_figures(site: str, page, shot) -> None:
    page.goto(site + "/")
    pending = httpx.get(site + "/claims", params={"status": "pending"}, headers=REVIEWER).json()
    figures = {k: int(page.locator(f"dd.figure-{k}").inner_text())
               for k in ("persons", "claims", "sources", "pending")}
    assert figures["persons"] >= 35 and figures["sources"] >= 15  # the demo's registrations
    assert figures["pending"] >= len(pending["items"]) > 0
    assert page.locator("a[href='/schema']").count() >= 1
    shot("home-figures")


def test_his_page_draws_butyrka_and_vorkuta_and_cites_his_documents_last_change(
        site: str, page, shot) -> None:
    person = monclus(site)
    page.goto(f"{site}/persons/{person}")
    assert page.title().startswith("Vicente Monclús Guallar")
    chart = page.locator("figure.timeline svg.chart")
    assert chart.get_attribute("role") == "img"
    words = chart.text_content()
    assert "Butyrka" in words and "Vorkuta" in words
    assert re.search(r"\b1940\b", words) and "1938–1956" in words  # its years as text
    claims = page.locator("section[aria-labelledby='claims-h']").inner_text()
    assert "Butyrka" in claims and "Vorkuta" in claims
    assert page.locator("table.episodes td", has_text="prison: Butyrka").count() >= 2
    position, chain_hash = cited(page)
    assert len(chain_hash) == 64 and chain_hash == hash_at(site, position)
    # the version cited is the document now: the biography as of that position is today's,
    # and the one before it is not
    now = httpx.get(f"{site}/persons/{person}/biography").json()
    then = httpx.get(f"{site}/persons/{person}/biography", params={"as_of": position}).json()
    before = httpx.get(f"{site}/persons/{person}/biography", params={"as_of": position - 1}).json()
    for doc in (now, then, before):
        doc.pop("as_of")
    assert then == now and before != now
    permanent = page.locator("a.permanent").get_attribute("href")
    assert permanent.endswith(f"/persons/{person}?as_of={position}")
    entries = page.locator("section.cite p.csl-entry")
    assert entries.count() == 2 and f"as_of={position}" in entries.first.inner_text()
    shot("person")
    assert axe_violations(page) == []
    page.set_viewport_size(PHONE)
    assert wide_content(page) == 0
    shot("person-phone")
    # the permanent URL answers the same version
    page.goto(permanent)
    assert cited(page) == (position, chain_hash)
    assert "as it stood after log position" in page.locator("main").inner_text()


def test_a_contested_claim_is_marked_disputed_and_the_cite_box_holds_the_head(
        site: str, page, shot) -> None:
    person = monclus(site)
    bio = httpx.get(f"{site}/persons/{person}/biography").json()
    target = next(e for e in bio["timeline"] if e["kind"] == "custody"
                  and e["fields"].get("place", {}).get("label") == "Lefortovo")
    contested = httpx.post(f"{site}/claims/{target['claim']}/contest", headers=REVIEWER,
                           json={"reason": "Test: the day of the move is not in the seed"})
    assert contested.status_code == 200, contested.text
    page.goto(f"{site}/persons/{person}")
    article = page.locator(f"article#{target['claim']}")
    assert article.locator(".disputed").first.is_visible()
    assert "the day of the move is not in the seed" in article.inner_text()
    head = httpx.get(site + "/events/head").json()
    assert cited(page) == (head["position"], head["hash"])  # his document changed last
    assert page.locator("table.episodes tr", has_text="Lefortovo").locator(".disputed").count() == 1
    shot("disputed")
    assert axe_violations(page) == []


def test_a_script_title_is_text_on_his_page_and_in_the_search(site: str, page, shot) -> None:
    person = monclus(site)
    made = httpx.post(site + "/sources", headers=CONTRIBUTOR, json={
        "csl": {"type": "personal_communication", "title": SCRIPT_TITLE}, "source_type": "letter"})
    assert made.status_code == 201, made.text
    source = made.json()["id"]
    claim = httpx.post(site + "/claims", headers=CONTRIBUTOR, json={
        "kind": "affiliation", "person": person, "affiliation": "test affiliation",
        "citation": {"source": source, "locator": "p. 1", "quote": "<b>bold?</b>"}})
    assert claim.status_code == 201, claim.text
    approved = httpx.post(f"{site}/claims/{claim.json()['id']}/approve", headers=REVIEWER, json={})
    assert approved.status_code == 200, approved.text
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"{site}/persons/{person}")
    assert page.locator(f"a[href='/sources/{source}']", has_text=SCRIPT_TITLE).count() >= 1
    bibliography = page.locator("ul.bibliography").inner_text()
    assert SCRIPT_TITLE in bibliography and bibliography.count(SCRIPT_TITLE) == 1  # once
    assert page.locator(f"article#{claim.json()['id']} blockquote").inner_text() == "<b>bold?</b>"
    assert page.locator("section.cite script, main script, main b").count() == 0
    shot("script-title")
    page.goto(site + "/?q=script")
    assert page.locator("ul.hits-source a", has_text=SCRIPT_TITLE).count() == 1
    shot("script-title-search")
    assert dialogs == []
    raw = httpx.get(f"{site}/persons/{person}", headers={"Accept": BROWSER_HTML}).text
    assert SCRIPT_TITLE not in raw and "&lt;script&gt;alert(1)&lt;/script&gt;" in raw


def test_his_page_is_html_for_a_browser_json_for_a_program_with_304(site: str) -> None:
    person = monclus(site)
    page = httpx.get(f"{site}/persons/{person}", headers={"Accept": BROWSER_HTML})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "Accept" in page.headers["vary"]
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    again = httpx.get(f"{site}/persons/{person}",
                      headers={"Accept": BROWSER_HTML, "If-None-Match": page.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    program = httpx.get(f"{site}/persons/{person}")
    assert program.headers["content-type"].startswith("application/json")
    assert program.json()["id"] == person and "names" in program.json()
    assert httpx.get(f"{site}/persons/{person}?format=json",
                     headers={"Accept": BROWSER_HTML}).json()["id"] == person
    assert "<style" not in page.text and " style=" not in page.text and "<script>" not in page.text


def test_an_unknown_person_is_a_404_page_for_a_browser_and_a_problem_for_a_program(site: str) -> None:
    page = httpx.get(f"{site}/persons/P-NOSUCH00", headers={"Accept": BROWSER_HTML})
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "No such person" in page.text and "P-NOSUCH00" in page.text
    program = httpx.get(f"{site}/persons/P-NOSUCH00")
    assert program.status_code == 404
    assert program.headers["content-type"].startswith("application/problem+json")
    # a person not yet registered at that position
    person = monclus(site)
    early = httpx.get(f"{site}/persons/{person}?as_of=1", headers={"Accept": BROWSER_HTML})
    assert early.status_code == 404 and "at log position 1" in early.text
    bad = httpx.get(f"{site}/persons/{person}?as_of=yesterday", headers={"Accept": BROWSER_HTML})
    assert bad.status_code == 422


def test_the_home_pages_json_carries_the_figures_and_what_a_search_finds(site: str) -> None:
    answer = httpx.get(site + "/", params={"q": "Монклюс"}).json()
    assert answer["name"] == "starosta" and answer["figures"]["persons"] >= 35
    persons = next(g for g in answer["found"] if g["kind"] == "person")
    assert "Vicente Monclús Guallar" in [h["label"] for h in persons["hits"]]
    assert [g["kind"] for g in answer["found"]] == ["person", "place", "organization", "source"]
    assert "found" not in httpx.get(site + "/").json()


def test_a_conflict_is_shown_side_by_side_with_what_differs(site: str, page, shot) -> None:
    hits = httpx.get(site + "/persons", params={"q": "Martsinkevitch"}).json()["items"]
    person = next(h["id"] for h in hits if h["label"].startswith("Vera"))
    page.goto(f"{site}/persons/{person}")
    conflict = page.locator("div.side-by-side.conflict").first
    sides = conflict.locator(".side")
    assert sides.count() == 2
    manners = {sides.nth(n).locator("dt", has_text="manner").locator("xpath=following-sibling::dd[1]")
               .inner_text() for n in range(2)}
    assert manners == {"died_in_camp", "killed"}
    assert "(the sources are not independent)" in conflict.inner_text()
    conflict.scroll_into_view_if_needed()
    shot("conflict")
    assert axe_violations(page) == []
    page.set_viewport_size(PHONE)
    assert wide_content(page) == 0


def test_the_source_search_takes_the_words_literally(site: str) -> None:
    made = httpx.post(site + "/sources", headers=CONTRIBUTOR, json={
        "csl": {"type": "report", "title": "Aid paid out: 100% of_it"}, "source_type": "other"})
    assert made.status_code == 201, made.text
    for q, expected in (("100%", True), ("% OF_", True), ("100_", False), ("%%", False)):
        found = httpx.get(site + "/", params={"q": q}).json()["found"]
        sources = [h["id"] for g in found if g["kind"] == "source" for h in g["hits"]]
        assert (made.json()["id"] in sources) is expected, q
        assert expected or sources == []
