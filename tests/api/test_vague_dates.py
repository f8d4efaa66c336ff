"""Vague dates in their place, over HTTP on SQLite and PostgreSQL (issue 22, item 4): an
approximate date reaches the archive's margins (D5: "around 1925" may be 1924), "before 1923"
sorts by its latest day in a biography's timeline, undated counts about a place come back as
`undated` in its population answers, and a duration without dates narrows nothing."""

from __future__ import annotations

import pytest

from tests.api.conftest import Api
from tests.api.test_population import World, check_consistent


@pytest.fixture
def world(api: Api) -> World:
    return World(api, api.source("10 Años en la URSS"))


def who(body: dict) -> tuple[list[str], list[str]]:
    return [h["id"] for h in body["certain"]], [h["id"] for h in body["possible"]]


def test_around_1925_is_possible_in_1924_and_1925_is_not(world: World) -> None:
    x = world.place("Solovki", "camp")
    around, exact, unsure = (world.person(n) for n in ("Around", "Exact", "Unsure"))
    world.custody(around, x, "1925~", "1925~", custody="camp")
    world.custody(exact, x, "1925", "1925", custody="camp")
    world.custody(unsure, x, "1925?", "1925?", custody="camp")  # ? is not widened
    assert who(world.population(x, "1924")) == ([], [around])
    assert who(world.population(x, "1926-12")) == ([], [around])
    assert who(world.population(x, "1927")) == ([], [])
    certain, possible = who(world.population(x, "1925"))
    assert set(certain) == {exact, unsure} and possible == [around]
    body = world.api.get(f"/places/{x}/population/timeline", None, step="year").json()
    years = {p["period"]: (p["count_min"], p["count_max"]) for p in body["items"]}
    assert years == {"1924": (0, 1), "1925": (2, 3), "1926": (0, 1)}


def test_about_a_month_and_percent_double_the_margin(world: World) -> None:
    x = world.place("Butyrka")
    month, doubled = world.person("Month"), world.person("Doubled")
    world.custody(month, x, "1931-04~", "1931-04~")
    world.custody(doubled, x, "1931-04%", "1931-04%")
    certain, possible = who(world.population(x, "1931-03"))
    assert certain == [] and sorted(possible) == sorted([month, doubled])
    assert who(world.population(x, "1931-02")) == ([], [doubled])
    assert who(world.population(x, "1931-01")) == ([], [])


def test_an_approximate_count_reaches_the_year_before(world: World) -> None:
    x = world.place("Huesca jail")
    agg = world.claim({"kind": "aggregate", "place": x, "date": "1937~", "count": 60,
                       "qualifier": "about", "group": "residents"})
    assert [r["claim"] for r in world.population(x, "1936-06")["reported"]] == [agg]
    assert world.population(x, "1935-06")["reported"] == []


def test_undated_counts_come_back_as_undated_whatever_the_span(world: World) -> None:
    x = world.place("Huesca jail")
    citation = {"source": world.source, "locator": "p. 3", "quote": "upwards of 60 passed through"}
    undated = world.claim({"kind": "aggregate", "place": x, "count": 60, "qualifier": "at_least",
                           "group": "residents who passed through", "citation": citation})
    dated = world.claim({"kind": "aggregate", "place": x, "date": "1937", "count": 12,
                         "qualifier": "exact", "group": "women"})
    world.claim({"kind": "aggregate", "place": x, "count": 70, "qualifier": "about",
                 "group": "a pending count"}, approved=False)
    for at in ("1800", "1937", "1936/1940"):
        body = world.population(x, at)
        assert [r["claim"] for r in body["undated"]] == [undated], at
        (u,) = body["undated"]
        assert (u["count"], u["qualifier"], u["citation"]["source"]) == (
            60, "at_least", {"id": world.source, "label": "10 Años en la URSS"})
        assert undated not in [r["claim"] for r in body["reported"]]
        assert (body["count_min"], body["count_max"]) == (0, 0)
    assert [r["claim"] for r in world.population(x, "1937")["reported"]] == [dated]
    timeline = world.api.get(f"/places/{x}/population/timeline", None, step="year").json()
    assert [r["claim"] for r in timeline["undated"]] == [undated]
    assert [p["period"] for p in timeline["items"]] == ["1937"]  # the undated count adds no period
    # the pending count shows to a reviewer asking for pending claims
    pending = world.population(x, "1937", "bob", include="pending")
    assert len(pending["undated"]) == 2


def test_a_duration_without_dates_is_not_bounded_by_an_unrelated_stay(world: World) -> None:
    # Monclús: "a further five years" in a secret location, undated; an unrelated later stay
    # elsewhere (from 1939) must not close it at 1939
    p = world.person("Vicente Monclús Guallar")
    secret, camp = world.place("a secret location", "other"), world.place("Karaganda", "camp")
    world.custody(p, camp, "1939-01-01", "1940-06-30", custody="camp")
    stay = world.custody(p, secret, custody="other", duration="P5Y")
    # before the fix the undated stay took 1939-01-01 (the camp's start) as its bound and
    # showed as possible in every year up to 1939; undated and unbounded, it is in no span
    for at in ("1938", "1936/1939", "1952"):
        assert who(world.population(secret, at)) == ([], []), at
    assert world.api.get(f"/claims/{stay}").json()["dates"] == {}  # nothing narrowed
    # a death still bounds it
    world.claim({"kind": "death", "person": p, "date": "1950"})
    assert who(world.population(secret, "1952")) == ([], [])
    assert who(world.population(secret, "1949")) == ([], [p])


def test_before_1923_sorts_by_its_latest_day_in_the_timeline(world: World) -> None:
    p = world.person("Maria Spiridonova")
    x, y, z = world.place("Butyrka"), world.place("Ufa", "exile"), world.place("Tashkent", "exile")
    later = world.custody(p, x, "1925", "1926")
    before = world.custody(p, y, "../1922")  # "before 1923"
    undated = world.custody(p, z)
    around = world.custody(p, x, "1924~")  # may be 1923: before "1925", after "before 1923"
    r = world.api.get(f"/persons/{p}/biography")
    assert r.status_code == 200, r.text
    timeline = [e["claim"] for e in r.json()["timeline"] if e["kind"] == "custody"]
    assert timeline == [before, around, later, undated]
    entry = next(e for e in r.json()["timeline"] if e["claim"] == around)
    assert (entry["earliest"], entry["latest"]) == ("1923-01-01", "1925-12-31")  # a year each way
    assert entry["dates"]["start"]["edtf"] == "1924~"  # the dates as given stay as given


def test_a_groups_own_timeline_sorts_before_x_by_its_latest_day(world: World) -> None:
    r = world.api.post("/organizations", {"name": "Pilots (not historical)", "kind": "group",
                                          "citation": {"source": world.source}})
    assert r.status_code == 201, r.text
    group = r.json()["id"]
    x, y = world.place("Butyrka"), world.place("Lefortovo")
    later = world.claim({"kind": "custody", "group": group, "place": x, "custody": "prison",
                         "start": "1925"})
    undated = world.claim({"kind": "custody", "group": group, "place": y, "custody": "prison"})
    before = world.claim({"kind": "custody", "group": group, "place": y, "custody": "prison",
                          "end": "../1922"})
    around = world.claim({"kind": "custody", "group": group, "place": x, "custody": "prison",
                          "start": "1924~"})
    steps = world.api.get(f"/organizations/{group}").json()["timeline"]
    assert [s["claim"] for s in steps] == [before, around, later, undated]
    step = next(s for s in steps if s["claim"] == around)
    assert step["earliest"] == "1923-01-01"  # widened by a year (D5)
