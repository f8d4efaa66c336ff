"""The pages of places, funds, sources and organisations (issue 24, i24-places) in a real
Chromium against the real server on the demo archive; and the same URLs as JSON for programs."""

from __future__ import annotations

import httpx
import pytest

from tests.browser.conftest import BROWSER_HTML, PHONE, axe_violations, wide_content

CONTRIBUTOR = {"Authorization": "Bearer demo-contributor-token"}  # the demo's public token


def one(site: str, path: str, q: str) -> str:
    """The id of the only (first) record a search finds."""
    found = httpx.get(f"{site}{path}", params={"q": q}).json()["items"]
    assert found, (path, q)
    return found[0]["id"]


def checked(page, shot, name: str) -> None:
    """Screenshot, no serious or critical axe violation, and no sideways scroll at 390 px."""
    shot(name)
    assert axe_violations(page) == []
    page.set_viewport_size(PHONE)
    assert wide_content(page) == 0
    shot(f"{name}-phone")


# -- places ---------------------------------------------------------------------------------------

def test_butyrkas_page_charts_1940_with_the_pilots_group(site: str, page, shot) -> None:
    butyrka = one(site, "/places", "Butyrka")
    page.goto(f"{site}/places/{butyrka}")
    assert page.title().startswith("Butyrka")
    assert page.locator("h1").inner_text() == "Butyrka"
    chart = page.locator("svg.chart")
    assert "1940" in (chart.locator("title").first.text_content() or "")
    assert "1940" in chart.locator("text.year").all_text_contents()  # the year as axis text
    assert chart.locator("rect.certain").count() >= 1  # Monclús, surely held in 1940
    assert chart.locator("polygon.band").count() == 1  # the pilots' group
    assert "pilots" in chart.locator("g.reported title").first.text_content()
    row = page.locator("table.figures tr", has=page.locator("th", has_text="1940"))
    assert "The 8 Spanish pilots removed to Butyrka" in row.inner_text()
    # the parent, linked
    assert page.locator("dl.facts a", has_text="Moscow").count() == 1
    # who was held there in 1940: the form
    page.fill("#at", "1940")
    page.click("form.at-form button")
    page.wait_for_url("**at=1940")
    held = page.locator("section[aria-labelledby=held-h]")
    assert "Vicente Monclús Guallar" in held.inner_text()
    assert held.locator("a", has_text="The 8 Spanish pilots removed to Butyrka").count() == 1
    checked(page, shot, "butyrka")


def test_the_locator_map_draws_the_place_over_the_countries(site: str, page, shot) -> None:
    vorkuta = one(site, "/places", "Vorkuta")
    page.goto(f"{site}/places/{vorkuta}")
    svg = page.locator("svg.map-svg")
    assert svg.is_visible()
    box = svg.bounding_box()
    assert box is not None and box["width"] > 200 and box["height"] > 100
    assert len(svg.locator("path").first.get_attribute("d") or "") > 200  # coasts and borders
    marker = svg.locator("circle").bounding_box()
    assert marker is not None  # inside the map, drawn
    assert box["x"] < marker["x"] < box["x"] + box["width"]
    assert box["y"] < marker["y"] < box["y"] + box["height"]
    assert "Vorkuta" in (svg.locator("title").text_content() or "")
    assert "67.5° N" in page.locator("dl.facts").inner_text()
    assert "modern geography" in page.locator("dl.facts").inner_text()
    checked(page, shot, "vorkuta-locator")


def test_a_place_is_json_for_programs_and_a_page_with_headers_and_304_for_browsers(site: str) -> None:
    butyrka = one(site, "/places", "Butyrka")
    program = httpx.get(f"{site}/places/{butyrka}")
    assert program.headers["content-type"].startswith("application/json")
    assert program.json()["data"]["latitude"] == 55.78
    html = httpx.get(f"{site}/places/{butyrka}", headers={"Accept": BROWSER_HTML})
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert "Accept" in html.headers["vary"]
    assert html.headers["content-security-policy"].startswith("default-src 'self'")
    assert " style=" not in html.text and "<style" not in html.text  # the CSP allows no inline style
    again = httpx.get(f"{site}/places/{butyrka}",
                      headers={"Accept": BROWSER_HTML, "If-None-Match": html.headers["etag"]})
    assert again.status_code == 304
    # another date is another page
    other = httpx.get(f"{site}/places/{butyrka}?at=1940",
                      headers={"Accept": BROWSER_HTML, "If-None-Match": html.headers["etag"]})
    assert other.status_code == 200
    assert httpx.get(f"{site}/places/{butyrka}?format=json",
                     headers={"Accept": BROWSER_HTML}).json()["id"] == butyrka
    bad = httpx.get(f"{site}/places/{butyrka}?at=sometime", headers={"Accept": BROWSER_HTML})
    assert bad.status_code == 422 and "sometime" in bad.text and "<h1>Butyrka</h1>" in bad.text
    hostile = httpx.get(f"{site}/places/{butyrka}", params={"at": '"><script>alert(1)</script>'},
                        headers={"Accept": BROWSER_HTML})
    assert hostile.status_code == 422 and "<script>alert" not in hostile.text
    assert "&lt;script&gt;" in hostile.text  # the value, escaped, beside the field


def test_the_itinerary_partial_draws_monclus_stops_in_chromium(site: str, demo_db: str, page,
                                                                shot) -> None:
    """The partial the person's page includes (the lead wires it there), drawn from Monclús's
    stored biography: numbered stops over the countries, then the table of stops."""
    import sqlite3

    from jinja2 import Environment, FileSystemLoader

    from starosta.service.pages import maps
    from starosta.service.pages.render import TEMPLATES

    person = one(site, "/persons", "Vicente Monclus")
    document = httpx.get(f"{site}/persons/{person}/biography").json()
    with sqlite3.connect(f"file:{demo_db}?mode=ro", uri=True) as conn:
        itinerary = maps.person_itinerary(conn, document["timeline"])
    assert itinerary is not None
    labels = [s.label for s in itinerary.stops]
    assert {"Butyrka", "Vorkuta", "Samarkand", "Kirovabad"} <= set(labels)
    assert labels.index("Butyrka") < labels.index("Vorkuta") < labels.index("Samarkand")
    html = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True).get_template(
        "_itinerary.html").render(itinerary=itinerary)
    page.set_content(f'<!doctype html><html lang="en"><head><title>Itinerary</title>'
                     f'<link rel="stylesheet" href="{site}/static/style.css"></head>'
                     f'<body><main><h1>Vicente Monclús Guallar</h1>{html}</main></body></html>')
    svg = page.locator("svg.map-svg")
    assert svg.locator("circle").count() == len(itinerary.markers) > 4
    assert svg.locator("polyline").count() == 1
    assert "Vorkuta" in (svg.locator("title#itinerary-title").text_content() or "")
    assert page.locator("table tbody tr").count() == len(itinerary.stops)
    checked(page, shot, "monclus-itinerary")


# -- funds ----------------------------------------------------------------------------------------

def test_a_funds_page_has_its_ledger_per_currency_and_a_chart_of_money_per_year(site: str, page,
                                                                                 shot) -> None:
    fund = one(site, "/funds", "Demo Fund")
    ledger = httpx.get(f"{site}/funds/{fund}/ledger").json()
    page.goto(f"{site}/funds/{fund}")
    assert page.locator("h1").inner_text() == ledger["fund"]["label"]
    totals = page.locator("section[aria-labelledby=totals-h] table").inner_text()
    for currency, t in ledger["totals"].items():
        assert currency in totals and t["received"] in totals and t["balance"] in totals
    svgs = page.locator("svg.money")
    assert svgs.count() == len(ledger["totals"])  # one chart per currency, never converted
    for i in range(svgs.count()):
        assert "1927" in svgs.nth(i).locator("text.year").all_text_contents()
        assert svgs.nth(i).locator("rect.in").count() == 1
        assert svgs.nth(i).locator("rect.out").count() == 1
    assert page.locator("table.figures").count() == svgs.count()  # each chart's figures
    donors = page.locator("section[aria-labelledby=donors-h]").inner_text()
    assert all(d["donor"]["label"] in donors for d in ledger["per_donor"])
    recipients = page.locator("section[aria-labelledby=recipients-h]")
    assert recipients.locator("a", has_text="Synthetic colony (demo)").count() == 1
    assert page.locator("table.entries tbody tr").count() == ledger["count"]
    checked(page, shot, "demo-fund")
    # a program at the same URL gets the fund's JSON
    assert httpx.get(f"{site}/funds/{fund}").json()["id"] == fund


def test_a_fund_without_money_says_so(site: str, page) -> None:
    fund = one(site, "/funds", "Alexander Berkman Fund")
    page.goto(f"{site}/funds/{fund}")
    assert "No exact sum of money is recorded" in page.locator("main").inner_text()
    assert page.locator("svg.money").count() == 0


# -- sources --------------------------------------------------------------------------------------

SCRIPT_TITLE = "<script>alert(1)</script>"


def test_a_source_titled_with_a_script_renders_as_text_and_runs_nothing(site: str, page,
                                                                        shot) -> None:
    made = httpx.post(f"{site}/sources", headers=CONTRIBUTOR, json={
        "csl": {"type": "book", "title": SCRIPT_TITLE,
                "author": [{"family": "<img src=x onerror=alert(2)>", "given": "A."}],
                "issued": {"date-parts": [[1931]]}},
        "note": "<b onclick=alert(3)>note</b>", "via": ["<svg onload=alert(4)>"]})
    assert made.status_code == 201, made.text
    source = made.json()["id"]
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"{site}/sources/{source}")
    assert page.locator("h1").inner_text() == SCRIPT_TITLE  # the title, as text
    assert SCRIPT_TITLE in page.locator("p.citation").inner_text()
    assert "<img src=x onerror=alert(2)>" in page.locator("p.citation").inner_text()
    assert "<svg onload=alert(4)>" in page.locator("ol.via").inner_text()
    page.locator("details summary").click()
    assert SCRIPT_TITLE in page.locator("pre.csl").inner_text()
    assert page.locator("main script, main img, main b, main ol.via svg").count() == 0
    assert dialogs == []
    html = httpx.get(f"{site}/sources/{source}", headers={"Accept": BROWSER_HTML}).text
    assert SCRIPT_TITLE not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    checked(page, shot, "script-source")
    assert dialogs == []
    # a program gets the source's JSON, the title as given
    assert httpx.get(f"{site}/sources/{source}").json()["data"]["csl"]["title"] == SCRIPT_TITLE


def test_a_sources_page_lists_the_claims_citing_it(site: str, page, shot) -> None:
    butyrka = one(site, "/places", "Butyrka")
    timeline = httpx.get(f"{site}/places/{butyrka}/population/timeline").json()
    source = timeline["items"][0]["reported"][0]["citation"]["source"]
    page.goto(f"{site}/sources/{source['id']}")
    assert page.locator("h1").inner_text() == source["label"]
    answer = httpx.get(f"{site}/sources/{source['id']}").json()
    rows = page.locator("table.claims tbody tr")
    assert rows.count() == len(answer["claims"]) > 0
    assert rows.first.locator("a").inner_text() == answer["claims"][0]["id"]
    checked(page, shot, "source-with-claims")


# -- organisations --------------------------------------------------------------------------------

def test_an_organisations_page_has_its_members_and_the_groups_timeline(site: str, page,
                                                                       shot) -> None:
    group = one(site, "/organizations", "Spanish pilots removed to Butyrka")
    answer = httpx.get(f"{site}/organizations/{group}").json()
    page.goto(f"{site}/organizations/{group}")
    assert page.locator("h1").inner_text() == answer["label"]
    people = page.locator("table.people").inner_text()
    assert "Vicente Monclús Guallar" in people
    steps = page.locator("table.timeline tbody tr")
    assert steps.count() == len(answer["timeline"]) > 1
    assert steps.filter(has_text="transfer").locator("a", has_text="Vorkuta").count() == 1
    checked(page, shot, "pilots-group")
    assert httpx.get(f"{site}/organizations/{group}?format=json").json()["id"] == group


# -- what every page of this slice shares ------------------------------------------------------

def test_a_place_named_with_markup_is_text_in_the_heading_the_map_and_the_names(site: str, page,
                                                                                 shot) -> None:
    source = httpx.post(f"{site}/sources", headers=CONTRIBUTOR,
                        json={"csl": {"type": "book", "title": "A gazetteer"}}).json()["id"]
    name = "<script>alert(1)</script> camp"
    made = httpx.post(f"{site}/places", headers=CONTRIBUTOR, json={
        "name": name, "kind": "camp", "latitude": 60.0, "longitude": 50.0,
        "coordinates_source": "<img src=x onerror=alert(2)>",
        "aliases": ["<svg onload=alert(3)>"], "citation": {"source": source}})
    assert made.status_code == 201, made.text
    place = made.json()["id"]
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"{site}/places/{place}")
    assert page.locator("h1").inner_text() == name
    assert name in (page.locator("svg.map-svg title").text_content() or "")
    assert name in (page.locator("svg.map-svg text").text_content() or "")
    facts = page.locator("dl.facts").inner_text()
    assert "<img src=x onerror=alert(2)>" in facts and "<svg onload=alert(3)>" in facts
    assert page.locator("main script, main img, main dl svg").count() == 0
    assert dialogs == []
    shot("markup-place")


def test_the_places_within_a_place_count_with_it_when_asked(site: str, page) -> None:
    moscow = one(site, "/places", "Moscow")
    page.goto(f"{site}/places/{moscow}")
    children = page.locator("section[aria-labelledby=children-h]")
    assert {"Butyrka", "Lubyanka", "Lefortovo"} <= set(children.locator("li a").all_inner_texts())
    alone = page.locator("table.figures tbody tr").count() if page.locator("table.figures").count() else 0
    children.locator("a", has_text="Count the places within it too").click()
    page.wait_for_url("**within=1")
    rows = page.locator("table.figures tbody tr")
    assert rows.count() > alone  # Butyrka's 1940 to Lefortovo's 1956
    assert rows.filter(has=page.locator("th", has_text="1940")).inner_text().split()[1] == "1"
    page.fill("#at", "1940")
    page.click("form.at-form button")
    page.wait_for_url("**at=1940**")
    assert "within=1" in page.url
    assert "Vicente Monclús Guallar" in page.locator("section[aria-labelledby=held-h]").inner_text()


@pytest.mark.parametrize("path", ["/places/PL-NOSUCH00", "/funds/F-NOSUCH00", "/sources/S-NOSUCH00",
                                  "/organizations/O-NOSUCH00"])
def test_an_unknown_record_is_a_404_page_for_browsers_and_a_problem_for_programs(site: str,
                                                                                 path: str) -> None:
    html = httpx.get(site + path, headers={"Accept": BROWSER_HTML})
    assert html.status_code == 404 and html.headers["content-type"].startswith("text/html")
    assert "NOSUCH00" in html.text and "<h1>No such" in html.text
    program = httpx.get(site + path)
    assert program.status_code == 404
    assert program.headers["content-type"].startswith("application/problem+json")
