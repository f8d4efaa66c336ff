"""`certain` in populations: a stay surely meets a span when every reading of its dates within
their bounds holds the person there on at least one day of it (events.dates.surely_meets).

The rule is checked against brute force over every reading at day granularity, then through the
real app on the demo archive: Monclús at Vorkuta from "1940-09" (end unknown) and Vera
Martsinkevitch at Kem until "1925-04" (start unknown), and every timeline against /population."""

from __future__ import annotations

import datetime
import sqlite3
from collections.abc import Iterator

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from litestar.testing import TestClient
from starosta.events.dates import may_meet, sure_days, sure_meet_bounds, surely_meets
from starosta.projections.population import _Episode, _figures, periods

D = datetime.date
ORIGIN = D(1940, 1, 1)
WIDTH = 24  # days 0..WIDTH-1 after ORIGIN: small enough to try every reading


def day(n: int) -> D:
    return ORIGIN + datetime.timedelta(days=n)


def readings(s1: int | None, s2: int | None, e1: int | None, e2: int | None) -> Iterator[tuple[int, int]]:
    """Every stay (first day, last day) the bounds allow, None meaning unknown. An unknown start
    is at most the end, an unknown end at least the start; days outside the window stand for
    any earlier or later day (a span inside it cannot tell them apart)."""
    lo, hi = -1, WIDTH  # one day either side of the window
    for s in range(s1 if s1 is not None else lo, (s2 if s2 is not None else hi) + 1):
        for e in range(max(s, e1 if e1 is not None else lo), (e2 if e2 is not None else hi) + 1):
            yield s, e


def brute_surely_meets(bounds: tuple, a: int, b: int) -> bool | None:
    """True when every reading meets a..b, False when one misses it, None when none exists."""
    stays = list(readings(*bounds))
    if not stays:
        return None
    return all(s <= b and e >= a for s, e in stays)


def pair(lo: int, hi: int) -> st.SearchStrategy[tuple[int | None, int | None]]:
    """Bounds of one date: both known (x <= y), one of them open, or unknown."""
    known = st.tuples(st.integers(lo, hi), st.integers(lo, hi)).map(sorted).map(tuple)
    return st.one_of(known, known.map(lambda t: (t[0], None)), known.map(lambda t: (None, t[1])),
                     st.just((None, None)))


@given(start=pair(0, WIDTH - 1), end=pair(0, WIDTH - 1),
       span=st.tuples(st.integers(0, WIDTH - 1), st.integers(0, WIDTH - 1)).map(sorted))
@example(start=(0, 20), end=(None, None), span=[0, 20])  # a "month", end unknown
@example(start=(None, None), end=(3, 10), span=[3, 10])  # start unknown, the end month
@example(start=(0, 20), end=(2, 5), span=[2, 5])  # narrowed: the end bounds the start
def test_surely_meets_is_true_exactly_when_every_reading_meets_the_span(start, end, span) -> None:
    bounds = (*start, *end)
    a, b = span
    truth = brute_surely_meets(bounds, a, b)
    if truth is None:
        return  # no reading at all: contradictory bounds, which the service refuses
    as_days = tuple(day(n) if n is not None else None for n in bounds)
    got = surely_meets(sure_meet_bounds(*as_days), day(a), day(b))
    assert got == truth, (bounds, span)
    if got:  # certain implies possible, whatever bounds the possible reading
        assert may_meet(as_days[0], as_days[3], day(a), day(b))


@given(start=pair(0, WIDTH - 1), end=pair(0, WIDTH - 1),
       span=st.tuples(st.integers(0, WIDTH - 1), st.integers(0, WIDTH - 1)).map(sorted))
def test_a_surely_covered_day_in_the_span_makes_it_surely_met(start, end, span) -> None:
    """Custody totals count surely covered days (sure_days); whatever they count surely meets."""
    as_days = tuple(day(n) if n is not None else None for n in (*start, *end))
    covered = sure_days(*as_days)
    if covered is not None and may_meet(covered[0], covered[1], day(span[0]), day(span[1])):
        assert surely_meets(sure_meet_bounds(*as_days), day(span[0]), day(span[1]))


def test_the_cases_of_the_definition() -> None:
    sep1, sep30 = D(1940, 9, 1), D(1940, 9, 30)
    from_september = sure_meet_bounds(sep1, sep30, None, None)  # "1940-09", end unknown
    assert surely_meets(from_september, sep1, sep30)
    assert surely_meets(from_september, D(1940, 1, 1), D(1940, 12, 31))
    assert not surely_meets(from_september, D(1941, 1, 1), D(1941, 12, 31))
    assert not surely_meets(from_september, D(1940, 9, 15), D(1940, 9, 15))
    assert sure_days(sep1, sep30, None, None) is None  # yet no day of it is surely covered
    until_april = sure_meet_bounds(None, None, D(1925, 4, 1), D(1925, 4, 30))  # start unknown
    assert surely_meets(until_april, D(1925, 4, 1), D(1925, 4, 30))
    assert not surely_meets(until_april, D(1925, 3, 1), D(1925, 3, 31))
    assert sure_meet_bounds(None, None, None, None) is None
    assert sure_meet_bounds(sep1, None, None, None) is None  # "1940-09/..": any later start


def _day_or_none(offset: int | None) -> D | None:
    return D(1940, 1, 1) + datetime.timedelta(days=offset) if offset is not None else None


_stay = st.tuples(st.sampled_from("pqr"), pair(0, 150), pair(0, 150), st.none() | st.integers(0, 150))


@given(stays=st.lists(_stay, max_size=6), step=st.sampled_from(["month", "year"]))
def test_the_timeline_counts_by_the_same_rule_as_population(stays, step) -> None:
    """The timeline finds the periods an episode surely meets by bisection: per period, its
    count_min is the number of persons with an episode `surely_meets` that period, and its
    count_max adds those with one that possibly meets it."""
    conn = sqlite3.connect(":memory:")  # no merged persons: survivors finds none
    conn.execute("CREATE TABLE persons (id TEXT PRIMARY KEY, merged_into TEXT)")
    as_day = _day_or_none
    episodes = [_Episode(f"C-{i}", person, as_day(start[0]), as_day(start[1]), as_day(end[0]),
                         as_day(end[1]), as_day(bound))
                for i, (person, start, end, bound) in enumerate(stays)]
    spans = periods(step, D(1939, 12, 1), D(1940, 6, 30))
    count_min, count_max, _ = _figures(conn, spans, episodes, [])
    for i, (label, a, b) in enumerate(spans):
        sure = {e.person for e in episodes if surely_meets(e.sure(), a, b)}
        maybe = {e.person for e in episodes
                 if (p := e.possible()) is not None and may_meet(p[0], p[1], a, b)}
        assert count_min[i] == len(sure), label
        assert count_max[i] == len(sure | maybe), label


# -- the demo archive through the real app --------------------------------------------------

@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Iterator[TestClient]:
    from starosta.service.api.app import create_app
    from starosta.service.tools.demo.load import load
    from starosta.service.settings import Settings

    db = str(tmp_path_factory.mktemp("demo") / "demo.db")
    load(db)
    with TestClient(create_app(Settings(db=db))) as client:
        yield client


def found(client: TestClient, what: str, q: str, label: str) -> str:
    r = client.get(f"/{what}", params={"q": q})
    assert r.status_code == 200, r.text
    hits = [h["id"] for h in r.json()["items"] if h["label"] == label]
    assert len(hits) == 1, r.json()
    return hits[0]


def population(client: TestClient, place: str, at: str) -> dict:
    r = client.get(f"/places/{place}/population", params={"at": at})
    assert r.status_code == 200, r.text
    return r.json()


def names(held: list[dict]) -> set[str]:
    return {h["name"] for h in held}


def test_monclus_is_certain_at_vorkuta_in_september_1940(demo: TestClient) -> None:
    vorkuta = found(demo, "places", "vorkuta", "Vorkuta")
    monclus = found(demo, "persons", "monclus", "Vicente Monclús Guallar")
    for at in ("1940-09", "1940"):
        body = population(demo, vorkuta, at)
        assert monclus in [h["id"] for h in body["certain"]], at
        assert monclus not in [h["id"] for h in body["possible"]], at
        assert not body["open"], at  # what is certain is never listed as open
    # from "1940-09", end unknown: he may have left in September 1940, so 1941 is only possible
    body = population(demo, vorkuta, "1941")
    assert monclus in [h["id"] for h in body["possible"]]
    assert monclus not in [h["id"] for h in body["certain"]]
    assert "Vicente Monclús Guallar" not in names(population(demo, vorkuta, "1940-08")["possible"])


def test_martsinkevitch_is_certain_at_kem_in_the_month_she_died(demo: TestClient) -> None:
    kem = found(demo, "places", "kem", "Kem")
    vera = found(demo, "persons", "martsinkevitch", "Vera Alexandrovna Martsinkevitch")
    for at in ("1925-04", "1925"):
        assert vera in [h["id"] for h in population(demo, kem, at)["certain"]], at
    body = population(demo, kem, "1925-03")  # start unknown: before April only possible
    assert vera in [h["id"] for h in body["possible"]]
    assert vera not in [h["id"] for h in body["certain"]]


@pytest.mark.parametrize(("step", "first", "last"), [("year", "1920", "1960"),
                                                     ("month", "1940-01", "1941-12")])
def test_every_timeline_of_the_demo_agrees_with_population(demo: TestClient, step: str,
                                                           first: str, last: str) -> None:
    places = demo.get("/places", params={"limit": 500}).json()
    assert places["next"] is None
    compared, certain = 0, 0
    for place in places["items"]:
        r = demo.get(f"/places/{place['id']}/population/timeline",
                     params={"step": step, "from": first, "to": last})
        assert r.status_code == 200, r.text
        for item in r.json()["items"]:
            same = population(demo, place["id"], item["period"])
            assert (item["count_min"], item["count_max"]) == (same["count_min"], same["count_max"]), \
                (place["label"], item["period"])
            compared, certain = compared + 1, certain + item["count_min"]
    assert compared > 1000 and certain > 0


# -- issue 25: a biography's two-place custody conflicts found by a sweep, not every pair ------

_day = st.integers(0, 60).map(lambda n: datetime.date(1940, 1, 1) + datetime.timedelta(days=n))
_stay = st.tuples(st.one_of(st.none(), st.tuples(_day, _day)), st.one_of(st.none(), st.tuples(_day, _day)),
                  st.sampled_from(["PL1", "PL2", "PL3"]))


@given(st.lists(_stay, max_size=25))
def test_sure_overlaps_are_every_pair_that_meets_in_pair_order(stays) -> None:
    from itertools import combinations

    from starosta.events.dates import DateValue
    from starosta.projections.biographies import _sure, _sure_overlaps
    from starosta.projections.claims import ClaimView

    def value(bounds):
        return None if bounds is None else DateValue(edtf="x", earliest=min(bounds), latest=max(bounds))

    views = [ClaimView(id=f"C{i}", kind="custody", status="approved", contributor="a", version=2,
                       position=i, claim={"place": place},
                       dates={k: d for k, d in (("start", value(s)), ("end", value(e))) if d})
             for i, (s, e, place) in enumerate(stays)]
    brute = [(a.id, b.id) for a, b in combinations(views, 2)
             if (sa := _sure(a)) and (sb := _sure(b)) and sa[0] <= sb[1] and sb[0] <= sa[1]]
    assert [(a.id, b.id) for a, b, _, _ in _sure_overlaps(views)] == brute
