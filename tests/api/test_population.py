"""Populations over HTTP (the real app, a real SQLite file): who was held at a place in a span,
certainly or possibly, with open ends never closed by a guess, reported aggregates, child
places, merged persons, and the timeline in JSON and CSV."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.api.conftest import Api, assert_problem

PROBLEM = "application/problem+json"


# -- helpers ---------------------------------------------------------------------------------



@dataclass
class World:
    api: Api
    source: str
    places: dict[str, str] = field(default_factory=dict)

    def place(self, name: str, kind: str = "prison", **extra: Any) -> str:
        if name not in self.places:
            self.places[name] = self.api.place(name, self.source, kind=kind, **extra)
        return self.places[name]

    def person(self, name: str) -> str:
        return self.api.person(name, self.source)

    def claim(self, body: dict, approved: bool = True, who: str = "alice") -> str:
        claim = self.api.claim({**body, "citation": body.get("citation") or {"source": self.source,
                                                                              "locator": "p. 1"}}, who)
        if approved:
            r = self.api.post(f"/claims/{claim}/approve", {}, "bob")
            assert r.status_code == 200, r.text
        return claim

    def custody(self, person: str, place: str | None, start: str | None = None,
                end: str | None = None, custody: str = "prison", approved: bool = True,
                **extra: Any) -> str:
        body: dict[str, Any] = {"kind": "custody", "person": person, "custody": custody, **extra}
        for key, value in (("place", place), ("start", start), ("end", end)):
            if value is not None:
                body[key] = value
        return self.claim(body, approved)

    def population(self, place: str, at: str, who: str | None = None, **params: Any) -> dict:
        r = self.api.get(f"/places/{place}/population", who, at=at, **params)
        assert r.status_code == 200, r.text
        body = r.json()
        check_consistent(body)
        return body


def check_consistent(body: dict) -> None:
    """The documented invariants of every population answer."""
    certain = [h["id"] for h in body["certain"]]
    possible = [h["id"] for h in body["possible"]]
    assert len(set(certain)) == len(certain) and len(set(possible)) == len(possible)
    assert not set(certain) & set(possible), body
    assert body["count_min"] == len(certain)
    assert body["count_max"] == len(certain) + len(possible)
    assert body["count_min"] <= body["count_max"]
    for held in body["certain"] + body["possible"]:
        assert held["claims"] and held["name"], held
    for held in body["certain"]:
        assert not held.get("open_end", False)
    flagged = {c for h in body["possible"] if h.get("open_end") for c in h["claims"]}
    assert set(body["open"]) <= flagged  # what stays open is flagged open_end


def ids(refs: list[dict]) -> list[str]:
    assert all(set(r) == {"id", "label"} for r in refs), refs
    return [r["id"] for r in refs]


def who_is(body: dict) -> tuple[list[str], list[str]]:
    return [h["id"] for h in body["certain"]], [h["id"] for h in body["possible"]]


@pytest.fixture
def world(api: Api) -> World:
    return World(api, api.source("10 Años en la URSS"))


# -- 1. the uncertainty bounds -------------------------------------------------------------------

def test_certain_possible_and_absent_for_a_custody_from_1940_to_1948(world: World) -> None:
    p = world.person("Francisco Ascaso")
    x = world.place("Vorkuta", "camp")
    claim = world.custody(p, x, "1940", "1948", custody="camp")
    # surely from 1940-12-31 (latest start) to 1948-01-01 (earliest end)
    for at in ("1944", "1941-06-15", "1940-12", "1948-01-01", "1940/1941", "1947-12"):
        body = world.population(x, at)
        assert who_is(body) == ([p], []), at
        assert body["certain"][0]["claims"] == [claim] and body["count_min"] == body["count_max"] == 1
    # possible, not certain, in March 1940 and in 1948-06
    for at in ("1940-03", "1940-01-01", "1948-06", "1948-12-31"):
        body = world.population(x, at)
        assert who_is(body) == ([], [p]), at
        assert (body["count_min"], body["count_max"]) == (0, 1)
        assert body["possible"][0] == {"id": p, "name": "Francisco Ascaso", "claims": [claim]}
        assert body["open"] == []
    # absent before and after
    for at in ("1939", "1939-12-31", "1949", "1960"):
        body = world.population(x, at)
        assert who_is(body) == ([], []), at
        assert (body["count_min"], body["count_max"]) == (0, 0)
    assert body["at"] == {"edtf": "1960", "earliest": "1960-01-01", "latest": "1960-12-31"}
    assert body["place"] == {"id": x, "label": "Vorkuta"}
    assert body["places"] == [{"id": x, "label": "Vorkuta"}]


def test_an_open_end_is_never_closed(world: World) -> None:
    p = world.person("Aron Baron")
    x = world.place("Butyrka")
    claim = world.custody(p, x, "1940")
    assert who_is(world.population(x, "1939")) == ([], [])
    # whatever day of 1940 it began, he was held that day: certain in 1940, and only then
    body = world.population(x, "1940")
    assert who_is(body) == ([p], []) and body["open"] == []
    for at in ("1940-03", "1944", "1960", "1999"):
        body = world.population(x, at)
        assert who_is(body) == ([], [p]), at
        assert body["possible"][0]["open_end"] is True and body["possible"][0]["claims"] == [claim]
        assert body["open"] == [claim]
    # an end given as '..' is as open as no end
    q = world.person("Olga Taratuta")
    other = world.custody(q, x, "1941", "..")
    body = world.population(x, "1970")
    assert who_is(body) == ([], sorted([p, q]))
    assert body["open"] == sorted([claim, other])


def test_an_exactly_dated_start_with_an_open_end_is_certain_on_that_day(world: World) -> None:
    p = world.person("Vicente Monclús Guallar")
    x = world.place("Butyrka")
    claim = world.custody(p, x, "1951-01-02")  # "2-1-1951: Butyrka again", end unknown
    for at in ("1951", "1951-01", "1951-01-02", "1950/1951"):
        body = world.population(x, at)
        assert who_is(body) == ([p], []), at
        assert body["certain"][0]["claims"] == [claim] and body["open"] == []
    for at in ("1951-01-03", "1952", "1970"):
        body = world.population(x, at)
        assert who_is(body) == ([], [p]), at
        assert body["possible"][0]["open_end"] is True and body["open"] == [claim]
    assert who_is(world.population(x, "1951-01-01")) == ([], [])
    # an unknown start with an exactly known end: that end day is sure, the days before possible
    q = world.person("Unknown start")
    world.custody(q, x, "..", "1939-05-01")
    assert who_is(world.population(x, "1939-05-01")) == ([q], [])
    assert who_is(world.population(x, "1920")) == ([], [q])
    assert who_is(world.population(x, "1939-05-02")) == ([], [])


def test_an_open_end_is_bounded_by_the_next_dated_custody_elsewhere(world: World) -> None:
    p = world.person("Efim Yarchuk")
    x, y = world.place("Butyrka"), world.place("Suzdal isolator", "isolator")
    open_claim = world.custody(p, x, "1940")
    world.custody(p, y, "1945-06", "1946", custody="isolator")
    # certain in 1940 (it began then); possible up to that claim's latest possible start,
    # 1945-06-30; not open any more
    assert who_is(world.population(x, "1940")) == ([p], [])
    for at in ("1944", "1945", "1945-06", "1945-06-30"):
        body = world.population(x, at)
        assert who_is(body) == ([], [p]), at
        assert body["possible"][0].get("open_end", False) is False and body["open"] == []
        assert body["possible"][0]["claims"] == [open_claim]
    for at in ("1945-07", "1945-07-01", "1946", "1960"):
        assert who_is(world.population(x, at)) == ([], []), at
    # a pending custody elsewhere bounds nothing
    q = world.person("Mollie Steimer")
    world.custody(q, x, "1940")
    world.custody(q, y, "1942", "1943", custody="isolator", approved=False)
    body = world.population(x, "1960")
    assert who_is(body) == ([], [q])
    assert body["possible"][0]["open_end"] is True


def test_an_open_end_is_bounded_by_death(world: World) -> None:
    p = world.person("Nikolai Rogdaev")
    x = world.place("Tashkent", "exile")
    world.custody(p, x, "1940", custody="exile")
    world.claim({"kind": "death", "person": p, "date": "1950-05-03", "place": x})
    assert who_is(world.population(x, "1950")) == ([], [p])
    assert who_is(world.population(x, "1950-05-03")) == ([], [p])
    assert world.population(x, "1950")["open"] == []
    for at in ("1950-05-04", "1951", "1960"):
        assert who_is(world.population(x, at)) == ([], []), at
    # an execution bounds it too; a pending death does not
    q, r = world.person("Executed"), world.person("Pending death")
    world.custody(q, x, "1930", custody="exile")
    world.claim({"kind": "execution", "person": q, "date": "1937"})
    world.custody(r, x, "1930", custody="exile")
    world.claim({"kind": "death", "person": r, "date": "1931"}, approved=False)
    assert who_is(world.population(x, "1938")) == ([], [r])


def test_an_open_end_is_bounded_by_a_death_recorded_under_the_merge_survivor(world: World) -> None:
    a, b = world.person("Monclús (a list)"), world.person("Vicente Monclús Guallar")
    x = world.place("Butyrka")
    world.custody(a, x, "1951-01-02")
    world.claim({"kind": "death", "person": b, "date": "1960"})
    r = world.api.post(f"/persons/{a}/merge", {"into": b, "reason": "the same man"}, "bob")
    assert r.status_code == 200, r.text
    assert who_is(world.population(x, "1955")) == ([], [b])
    # the survivor died in 1960: no longer possibly at Butyrka in 1970
    assert who_is(world.population(x, "1970")) == ([], [])


# -- 2. counts -------------------------------------------------------------------------------------

def test_counts_are_consistent_and_each_person_counted_once(world: World) -> None:
    x = world.place("Butyrka")
    one, two, three, four = (world.person(n) for n in ("One", "Two", "Three", "Four"))
    # two episodes of one person, one certain in 1944, one only possible: counted once, certain
    world.custody(one, x, "1940", "1948")
    world.custody(one, x, "1944", "1945")
    # two only possible episodes of one person: counted once, possible, both claims listed
    c2a = world.custody(two, x, "1943", "1944")
    c2b = world.custody(two, x, "1944", "1946")
    world.custody(three, x, "1944-05-01", "1944-05-02")
    world.custody(four, x, "1950", "1951")  # absent
    world.custody(four, x, "1944", "1944", approved=False)  # pending: not counted
    body = world.population(x, "1944-06")
    certain, possible = who_is(body)
    assert certain == [one] and possible == [two]
    assert body["possible"][0]["claims"] == [c2a, c2b]
    assert len(body["certain"][0]["claims"]) == 1  # the sure episode
    # over the whole of 1944 all three are certain, each once, with every claim listed
    body = world.population(x, "1944")
    assert who_is(body) == (sorted([one, two, three]), [])
    assert (body["count_min"], body["count_max"]) == (3, 3)
    claims = {h["id"]: h["claims"] for h in body["certain"]}
    assert len(claims[one]) == 2 and claims[two] == [c2a, c2b]
    # a reviewer asking for pending claims counts the pending episode as well
    body = world.population(x, "1944", "bob", include="pending")
    assert four in who_is(body)[0] + who_is(body)[1]
    assert_problem(world.api.get(f"/places/{x}/population", "alice", at="1944", include="pending"), 403)


def test_merged_persons_are_counted_once_under_the_survivor(world: World) -> None:
    x = world.place("Butyrka")
    a, b = world.person("V. Monclús"), world.person("Vicente Monclús Guallar")
    ca = world.custody(a, x, "1951-01-02", "1955-04")
    cb = world.custody(b, x, "1951", "1955")
    body = world.population(x, "1952")
    assert who_is(body) == (sorted([a, b]), []) and body["count_max"] == 2
    r = world.api.post(f"/persons/{a}/merge", {"into": b, "reason": "same man"}, "bob")
    assert r.status_code == 200, r.text
    body = world.population(x, "1952")
    assert who_is(body) == ([b], []) and (body["count_min"], body["count_max"]) == (1, 1)
    assert sorted(body["certain"][0]["claims"]) == sorted([ca, cb])
    assert body["certain"][0]["name"] == "Vicente Monclús Guallar"
    body = world.population(x, "1951")  # a: certain (from 1951-01-02); b: possible: still one
    assert who_is(body) == ([b], [])


def test_superseded_episodes_drop_out(world: World) -> None:
    x = world.place("Butyrka")
    p = world.person("Superseded")
    old = world.custody(p, x, "1930", "1931")
    assert who_is(world.population(x, "1930")) == ([p], [])
    new = world.claim({"kind": "custody", "person": p, "place": x, "custody": "prison",
                       "start": "1932", "end": "1933", "supersedes": old}, who="dave")
    assert who_is(world.population(x, "1930")) == ([], [])
    body = world.population(x, "1932")
    assert body["certain"][0]["claims"] == [new]


# -- 3. reported aggregates and child places ---------------------------------------------------

def test_reported_aggregates_in_the_span_only(world: World) -> None:
    kazakhstan = world.place("Kazakhstan", "other")
    citation = {"source": world.source, "locator": "para. 12", "quote": "out of 66 anti-fascists"}
    agg = world.claim({"kind": "aggregate", "place": kazakhstan, "date": "1943-01-01", "count": 66,
                       "qualifier": "exact", "group": "Spanish anti-fascists in Kazakhstan",
                       "of_whom": [{"count": 11, "what": "died"}], "citation": citation})
    world.claim({"kind": "aggregate", "place": kazakhstan, "date": "1943-01-01", "count": 70,
                 "qualifier": "about", "group": "pending count"}, approved=False)
    for at in ("1943", "1943-01", "1943-01-01", "1940/1950"):
        body = world.population(kazakhstan, at)
        (reported,) = body["reported"]
        of_whom = reported.pop("of_whom")
        assert reported == {"claim": agg, "count": 66, "qualifier": "exact",
                            "group": "Spanish anti-fascists in Kazakhstan", "date": "1943-01-01",
                            "citation": {**citation, "source": {"id": world.source,
                                                               "label": "10 Años en la URSS"}}}, at
        assert [(o["count"], o.get("qualifier", "exact"), o["what"]) for o in of_whom] == [
            (11, "exact", "died")]
        assert (body["count_min"], body["count_max"]) == (0, 0)  # reported beside, not counted
    for at in ("1942", "1943-01-02", "1944", "1942-12-31"):
        assert world.population(kazakhstan, at)["reported"] == [], at
    huesca = world.place("Huesca jail")
    at_least = world.claim({"kind": "aggregate", "place": huesca, "date": "1936/1937", "count": 60,
                            "qualifier": "at_least", "group": "residents",
                            "of_whom": [{"count": 6, "what": "women"}]})
    (reported,) = world.population(huesca, "1937-05")["reported"]
    assert (reported["claim"], reported["qualifier"], reported["count"]) == (at_least, "at_least", 60)
    assert world.population(huesca, "1938")["reported"] == []


def test_an_undated_aggregate_is_not_reported_in_any_span(world: World) -> None:
    x = world.place("Huesca jail")
    world.claim({"kind": "aggregate", "place": x, "count": 60, "qualifier": "at_least",
                 "group": "residents who passed through"})
    assert world.population(x, "1800")["reported"] == []


def test_include_children_rolls_up_child_places(world: World) -> None:
    region = world.place("North of Siberia", "other")
    town = world.place("Tobolsk", "exile", parent=region)
    village = world.place("Village near Tobolsk", "exile", parent=town)
    elsewhere = world.place("Tashkent", "exile")
    p, q, r, s = (world.person(n) for n in ("At region", "At town", "At village", "Elsewhere"))
    world.custody(p, region, "1925-01-01", "1926-12-31", custody="exile")
    world.custody(q, town, "1925-01-01", "1926-12-31", custody="exile")
    # no surely covered day, but surely held on a day of June 1925 (and so of 1925)
    world.custody(r, village, "1925-06", "1925-06", custody="exile")
    world.custody(s, elsewhere, "1925-01-01", "1926-12-31", custody="exile")
    agg = world.claim({"kind": "aggregate", "place": village, "date": "1925", "count": 4,
                       "qualifier": "about", "group": "exiles in the village"})
    body = world.population(region, "1925-06")
    assert who_is(body) == ([p], []) and ids(body["places"]) == [region] and body["reported"] == []
    body = world.population(region, "1925-06", include_children="true")
    assert sorted(ids(body["places"])) == sorted([region, town, village])
    assert {p["label"] for p in body["places"]} == {"North of Siberia", "Tobolsk", "Village near Tobolsk"}
    assert who_is(body) == (sorted([p, q, r]), [])
    assert [a["claim"] for a in body["reported"]] == [agg]
    body = world.population(town, "1925", include_children="true")
    assert sorted(ids(body["places"])) == sorted([town, village])
    assert who_is(body) == (sorted([q, r]), [])
    assert who_is(world.population(town, "1925-06-15", include_children="true")) == ([q], [r])


def test_butyrka_in_1951_includes_monclus(world: World) -> None:
    butyrka = world.place("Butyrka")
    monclus = world.person("Vicente Monclús Guallar")
    world.custody(monclus, world.place("Lubyanka"), "1950-04-20", "1950-05")
    first = world.custody(monclus, butyrka, "1940-01-25", "1940-09")
    second = world.custody(monclus, butyrka, "1951-01-02", "1955-04")
    body = world.population(butyrka, "1951")
    assert body["certain"] == [{"id": monclus, "name": "Vicente Monclús Guallar", "claims": [second]}]
    assert body["possible"] == [] and (body["count_min"], body["count_max"]) == (1, 1)
    assert world.population(butyrka, "1940-05")["certain"][0]["claims"] == [first]
    assert who_is(world.population(butyrka, "1955-04")) == ([monclus], [])  # surely to 1955-04-01
    assert who_is(world.population(butyrka, "1955-04-15")) == ([], [monclus])
    assert who_is(world.population(butyrka, "1955-05")) == ([], [])
    assert who_is(world.population(butyrka, "1948")) == ([], [])


# -- 4. the timeline --------------------------------------------------------------------------------

def timeline(world: World, place: str, **params: Any) -> dict:
    r = world.api.get(f"/places/{place}/population/timeline", **params)
    assert r.status_code == 200, r.text
    return r.json()


def test_timeline_per_year_has_the_figures_of_each_year(world: World) -> None:
    x = world.place("Butyrka")
    a, b, c = world.person("A"), world.person("B"), world.person("C")
    world.custody(a, x, "1940", "1943")
    world.custody(b, x, "1941", "1942")  # surely 1941-12-31..1942-01-01 only
    world.custody(c, x, "1943-05-01", "1945-12-31")
    world.custody(world.person("D"), x, "1944-03", "1944-03")  # surely meets 1944-03 and 1944
    world.claim({"kind": "aggregate", "place": x, "date": "1942", "count": 300,
                 "qualifier": "about", "group": "prisoners"})
    body = timeline(world, x, step="year")
    assert body["step"] == "year" and body["place"] == {"id": x, "label": "Butyrka"}
    assert [i["period"] for i in body["items"]] == ["1940", "1941", "1942", "1943", "1944", "1945"]
    for item in body["items"]:
        same = world.population(x, item["period"])
        assert (item["count_min"], item["count_max"]) == (same["count_min"], same["count_max"])
        assert item["reported"] == same["reported"]
        assert (item["earliest"], item["latest"]) == (f"{item['period']}-01-01", f"{item['period']}-12-31")
    assert [(i["count_min"], i["count_max"]) for i in body["items"]] == [
        (1, 1), (2, 2), (2, 2), (2, 2), (2, 2), (1, 1)]

    # from/to narrow or widen it
    body = timeline(world, x, step="year", **{"from": "1938", "to": "1941"})
    assert [(i["period"], i["count_min"], i["count_max"]) for i in body["items"]] == [
        ("1938", 0, 0), ("1939", 0, 0), ("1940", 1, 1), ("1941", 2, 2)]

    # per month
    body = timeline(world, x, step="month", **{"from": "1941-05", "to": "1942-03"})
    assert [i["period"] for i in body["items"]] == [
        "1941-05", "1941-06", "1941-07", "1941-08", "1941-09", "1941-10", "1941-11", "1941-12",
        "1942-01", "1942-02", "1942-03"]
    for item in body["items"]:
        same = world.population(x, item["period"])
        assert (item["count_min"], item["count_max"]) == (same["count_min"], same["count_max"])
        assert item["earliest"] == same["at"]["earliest"] and item["latest"] == same["at"]["latest"]
    assert body["items"][1]["latest"] == "1941-06-30"
    assert body["items"][9]["latest"] == "1942-02-28"
    by_period = {i["period"]: (i["count_min"], i["count_max"]) for i in body["items"]}
    assert [by_period[m] for m in sorted(by_period)] == [(1, 2)] * 7 + [(2, 2)] * 2 + [(1, 2)] * 2
    # the default month range: from the earliest to the latest dated episode
    body = timeline(world, x, step="month")
    assert body["items"][0]["period"] == "1940-01" and body["items"][-1]["period"] == "1945-12"
    assert len(body["items"]) == 6 * 12


def test_timeline_as_csv(world: World) -> None:
    x = world.place("Butyrka")
    a = world.person("A")
    world.custody(a, x, "1940", "1940")  # surely in 1940 (though on no day surely known)
    world.claim({"kind": "aggregate", "place": x, "date": "1941", "count": 60,
                 "qualifier": "at_least", "group": "residents"})
    as_json = timeline(world, x, step="year")["items"]
    header = ["period", "earliest", "latest", "count_min", "count_max", "reported"]
    for r in (world.api.get(f"/places/{x}/population/timeline", step="year", format="csv"),
              world.api.client.get(f"/places/{x}/population/timeline", params={"step": "year"},
                                   headers={"Accept": "text/csv"})):
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(r.text)))
        assert rows[0] == header
        assert [row[:5] for row in rows[1:]] == [
            [i["period"], i["earliest"], i["latest"], str(i["count_min"]), str(i["count_max"])]
            for i in as_json]
        assert rows[1][:5] == ["1940", "1940-01-01", "1940-12-31", "1", "1"]
        assert rows[2][:5] == ["1941", "1941-01-01", "1941-12-31", "0", "0"]
        assert rows[1][5] == "" and "60" in rows[2][5] and "residents" in rows[2][5]
        assert "at_least" in rows[2][5]
    # format=json wins over Accept
    r = world.api.client.get(f"/places/{x}/population/timeline",
                             params={"step": "year", "format": "json"}, headers={"Accept": "text/csv"})
    assert r.status_code == 200 and r.json()["items"] == as_json


def test_timeline_and_population_refusals(world: World) -> None:
    api = world.api
    x = world.place("Butyrka")
    world.custody(world.person("A"), x, "1940", "1941")
    # too many periods: 422 naming step
    body = assert_problem(api.get(f"/places/{x}/population/timeline", step="month",
                                  **{"from": "1900", "to": "2000"}), 422, "1200")
    assert any(e["field"] == "step" for e in body["errors"])
    assert_problem(api.get(f"/places/{x}/population/timeline", step="year",
                           **{"from": "0001", "to": "9999"}), 422)
    # exactly 1200 months is allowed
    body = timeline(world, x, step="month", **{"from": "1901-01", "to": "2000-12"})
    assert len(body["items"]) == 1200
    # a bad step, from, to
    assert_problem(api.get(f"/places/{x}/population/timeline", step="decade"), 422, "step")
    assert_problem(api.get(f"/places/{x}/population/timeline", **{"from": "soon"}), 422, "from")
    assert_problem(api.get(f"/places/{x}/population/timeline", to="1940/.."), 422, "to")
    # bad at: 422 naming at
    for bad in ("soon", "1940-13", "1940/..", "../1940", "[1940,1942]", "1940-02-30"):
        body = assert_problem(api.get(f"/places/{x}/population", at=bad), 422, "at")
        assert any(e["field"] == "at" for e in body["errors"]), body
    # unknown place: 404
    assert_problem(api.get("/places/PL-ZZZZZZZZ/population", at="1940"), 404, "PL-ZZZZZZZZ")
    assert_problem(api.get("/places/PL-ZZZZZZZZ/population/timeline"), 404, "PL-ZZZZZZZZ")
    # a place without episodes: an empty timeline
    assert timeline(world, world.place("Empty"), step="year")["items"] == []


def test_include_pending_without_a_token_is_401(world: World) -> None:
    x = world.place("Butyrka")
    assert_problem(world.api.get(f"/places/{x}/population", None, at="1940", include="pending"), 401)


def test_a_reversed_timeline_span_is_422(api: Api) -> None:
    source = api.source()
    place = api.place("Lefortovo", source)
    r = api.get(f"/places/{place}/population/timeline", **{"from": "1950", "to": "1940"})
    assert r.status_code == 422 and "from" in r.json()["detail"] and "1950" in r.json()["detail"]
