"""Biographies over HTTP (the real app, a real SQLite file): Monclús's itinerary, custody totals
computed by hand, conflicts shown side by side, visibility of pending and contested claims,
supersession, merges, and the archive as of a log position or a time."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.api.conftest import Api, assert_problem

PROBLEM = "application/problem+json"
Day = dt.date


# -- helpers ---------------------------------------------------------------------------------



def approve(api: Api, *claims: str, who: str = "bob") -> int:
    """Approve each claim; return the position of the last approval."""
    position = 0
    for claim in claims:
        r = api.post(f"/claims/{claim}/approve", {}, who)
        assert r.status_code == 200, r.text
        position = api.get("/events/head").json()["position"]
    return position


def submit(api: Api, body: dict, who: str = "alice") -> tuple[str, int]:
    """Submit a claim; return (its id, the position of its submission)."""
    r = api.post("/claims", body, who)
    assert r.status_code == 201, r.text
    return r.json()["id"], r.json()["position"]


def bio(api: Api, person: str, who: str | None = None, **params: Any) -> dict:
    r = api.get(f"/persons/{person}/biography", who, **params)
    assert r.status_code == 200, r.text
    return r.json()


def claims_in(body: dict) -> set[str]:
    return {e["claim"] for e in body["timeline"]}


def days(lo: Day, hi: Day) -> int:
    """Days from lo to hi, both counted."""
    return (hi - lo).days + 1


@dataclass
class Ctx:
    api: Api
    source: str
    other_source: str
    places: dict[str, str] = field(default_factory=dict)

    def place(self, name: str, kind: str = "prison") -> str:
        if name not in self.places:
            self.places[name] = self.api.place(name, self.source, kind=kind)
        return self.places[name]

    def custody(self, person: str, place: str | None, start: str | None, end: str | None,
                custody: str = "prison", locator: str = "p. 1", **extra: Any) -> dict:
        body: dict[str, Any] = {"kind": "custody", "person": person, "custody": custody,
                                "citation": {"source": self.source, "locator": locator}, **extra}
        if place is not None:
            body["place"] = place
        if start is not None:
            body["start"] = start
        if end is not None:
            body["end"] = end
        return body

    def death(self, person: str, date: str, source: str | None = None) -> dict:
        return {"kind": "death", "person": person, "date": date,
                "citation": {"source": source or self.source, "locator": "p. 9"}}


@pytest.fixture
def ctx(api: Api) -> Ctx:
    return Ctx(api, api.source("10 Años en la URSS"), api.source("Memorial: Victims of Political Terror"))


# -- 1. Monclús's itinerary -------------------------------------------------------------------

def monclus(ctx: Ctx) -> tuple[str, dict[str, str]]:
    """Enter Vicente Monclús Guallar's itinerary from the worked example; bob approves it all."""
    api, s = ctx.api, ctx.source
    r = api.post("/persons", {"name": "Vicente Monclús Guallar", "citation": {"source": s}})
    assert r.status_code == 201, r.text
    person, name_claim = r.json()["id"], r.json()["name_claim"]
    cite = lambda locator: {"source": s, "locator": locator}  # noqa: E731
    bodies: dict[str, dict] = {
        "birth": {"kind": "birth", "person": person, "place": ctx.place("Abiego", "other"),
                  "citation": cite("p. 1")},
        "la_ribera": {"kind": "presence", "person": person, "place": ctx.place("La Ribera", "other"),
                      "purpose": "air-force school", "start": "1938", "end": "1938",
                      "citation": cite("p. 2")},
        "butyrka_1": ctx.custody(person, ctx.place("Butyrka"), "1940-01-25", "1940-09",
                                 locator="p. 3", said="25-1-1940"),
        "sentence": {"kind": "sentence", "person": person, "sentence": "penal_servitude",
                     "date": "1940-09", "term": "8 years", "term_iso": "P8Y",
                     "authority_said": "a secret tribunal", "citation": cite("p. 3")},
        "vorkuta": ctx.custody(person, ctx.place("Vorkuta", "camp"), "1940-09", "1941-09",
                               custody="camp", locator="p. 4"),
        "escape": {"kind": "escape", "person": person, "outcome": "recaptured",
                   "date": "1940-10", "recaptured": "1941-01", "citation": cite("p. 4")},
        "death_camp": ctx.custody(person, None, "1941-09", "1944", custody="camp",
                                  locator="p. 5", place_said="a death camp"),
        "labour": {"kind": "labour", "person": person, "labour": "felling trees and coal mines",
                   "start": "1942", "end": "1942", "citation": cite("p. 5")},
        "plant": ctx.custody(person, None, "1944", "1948-01-29", custody="camp", locator="p. 6",
                             place_said="a vulcanisation plant"),
        "pardon": {"kind": "release", "person": person, "release": "pardon", "date": "1948-01-29",
                   "destination": ctx.place("Samarkand", "exile"), "citation": cite("p. 7")},
        "samarkand": ctx.custody(person, ctx.place("Samarkand", "exile"), "1948-01-29", "1950-04",
                                 custody="exile", locator="p. 7"),
        "escape_iran": {"kind": "escape", "person": person, "outcome": "failed", "date": "1950-01",
                        "destination_said": "Iran", "citation": cite("p. 8")},
        "lubyanka": ctx.custody(person, ctx.place("Lubyanka"), "1950-04-20", "1950-05", locator="p. 9"),
        "sukhanovka": ctx.custody(person, ctx.place("Sukhanovka"), "1950-05", "1950-06", locator="p. 9",
                                  note="34 days of torture"),
        "butyrka_2": ctx.custody(person, ctx.place("Butyrka"), "1951-01-02", "1955-04", locator="p. 10"),
        "lefortovo": ctx.custody(person, ctx.place("Lefortovo"), "1955-04", "1956-01-06", locator="p. 11"),
        "overturned": {"kind": "release", "person": person, "release": "sentence_overturned",
                       "date": "1956-01-06", "place": ctx.place("Lubyanka"), "citation": cite("p. 12")},
        "total": {"kind": "custody_total", "person": person, "total": "16 years and 51 days",
                  "days": 5895, "qualifier": "about", "scope": "all",
                  "citation": {"source": s, "locator": "p. 12",
                               "quote": "16 years and 51 days as a prisoner of the USSR"}},
    }
    ids = {key: submit(api, body)[0] for key, body in bodies.items()}
    r = api.post("/claims/approve", {"ids": [name_claim, *ids.values()], "reason": "read"}, "bob")
    assert r.status_code == 200, r.text
    assert all(item["status"] == 200 and item["claim"]["status"] == "approved"
               for item in r.json()["items"]), r.text
    ids["name"] = name_claim
    return person, ids


def test_monclus_itinerary_sorted_with_citations_and_totals(api: Api, ctx: Ctx) -> None:
    person, ids = monclus(ctx)
    body = bio(api, person)
    assert body["id"] == person and body["label"] == "Vicente Monclús Guallar"
    assert body["requested"] is None and body["merged_from"] == [] and body["as_of"] is None

    # names, births in their sections; every claim but the name in the timeline
    assert [e["claim"] for e in body["names"]] == [ids["name"]]
    assert [e["claim"] for e in body["births"]] == [ids["birth"]]
    assert body["deaths"] == []
    assert claims_in(body) == {c for k, c in ids.items() if k != "name"}

    # sorted by earliest possible day, undated last (the birth and the stated total)
    timeline = body["timeline"]
    dated = [e for e in timeline if e["earliest"] is not None]
    undated = [e for e in timeline if e["earliest"] is None]
    assert timeline == dated + undated
    assert {e["claim"] for e in undated} == {ids["birth"], ids["total"]}
    earliest = [e["earliest"] for e in dated]
    assert earliest == sorted(earliest)
    # ties on the earliest day go by the latest day (the sentence, 1940-09, before Vorkuta)
    assert [e["claim"] for e in dated] == [ids[k] for k in (
        "la_ribera", "butyrka_1", "sentence", "vorkuta", "escape", "death_camp", "labour", "plant",
        "pardon", "samarkand", "escape_iran", "lubyanka", "sukhanovka", "butyrka_2", "lefortovo",
        "overturned")]

    # every entry carries its citation with the source's label, and its status
    for e in timeline + body["names"]:
        assert e["status"] == "approved" and not e.get("flags"), e
        assert e["citation"]["source"] == {"id": ctx.source, "label": "10 Años en la URSS"}, e
    first = next(e for e in timeline if e["claim"] == ids["butyrka_1"])
    assert first["citation"] == {"source": {"id": ctx.source, "label": "10 Años en la URSS"},
                                 "locator": "p. 3"}
    assert first["fields"]["said"] == "25-1-1940"
    assert first["fields"]["place"] == {"id": ctx.places["Butyrka"], "label": "Butyrka"}
    # the document names every place it references: readable without another request
    places = [e["fields"]["place"]["label"] for e in timeline
              if e["kind"] == "custody" and isinstance(e["fields"].get("place"), dict)]
    assert [p for p in places if p in ("Butyrka", "Vorkuta", "Samarkand", "Lubyanka",
                                        "Sukhanovka", "Lefortovo")] == [
        "Butyrka", "Vorkuta", "Samarkand", "Lubyanka", "Sukhanovka", "Butyrka", "Lefortovo"]
    assert (first["earliest"], first["latest"]) == ("1940-01-25", "1940-09-30")
    assert first["dates"]["end"]["earliest"] == "1940-09-01"
    sukhanovka = next(e for e in timeline if e["claim"] == ids["sukhanovka"])
    assert sukhanovka["fields"]["note"] == "34 days of torture"

    # no conflicts: no two episodes surely overlap in this entry of the itinerary
    assert body["conflicts"] == []

    # custody totals: the union of surely / possibly covered days, exile apart
    sure = [(Day(1940, 1, 25), Day(1940, 9, 1)), (Day(1940, 9, 30), Day(1941, 9, 1)),
            (Day(1941, 9, 30), Day(1944, 1, 1)), (Day(1944, 12, 31), Day(1948, 1, 29)),
            (Day(1950, 4, 20), Day(1950, 5, 1)), (Day(1950, 5, 31), Day(1950, 6, 1)),
            (Day(1951, 1, 2), Day(1955, 4, 1)), (Day(1955, 4, 30), Day(1956, 1, 6))]
    possible = [(Day(1940, 1, 25), Day(1948, 1, 29)), (Day(1950, 4, 20), Day(1950, 6, 30)),
                (Day(1951, 1, 2), Day(1956, 1, 6))]
    confinement = body["custody"]["confinement"]
    assert confinement == {"min_days": sum(days(*s) for s in sure),
                           "max_days": sum(days(*p) for p in possible),
                           "episodes": 8, "open_episodes": []}
    # never more than 25-1-1940 to 6-1-1956, both ends counted
    assert confinement["max_days"] <= days(Day(1940, 1, 25), Day(1956, 1, 6)) == 5826
    assert body["custody"]["exile"] == {"min_days": days(Day(1948, 1, 29), Day(1950, 4, 1)),
                                        "max_days": days(Day(1948, 1, 29), Day(1950, 4, 30)),
                                        "episodes": 1, "open_episodes": []}
    # the source's own figure beside, though it disagrees
    assert body["custody"]["stated"] == [{"claim": ids["total"], "total": "16 years and 51 days",
                                          "days": 5895, "qualifier": "about", "scope": "all"}]


def test_custody_totals_by_hand(api: Api, ctx: Ctx) -> None:
    person = api.person("Francisco Ascaso", ctx.source)
    a, b = ctx.place("Butyrka"), ctx.place("Tobolsk", "exile")
    ids = [
        # one stay at Butyrka told by two sources, overlapping: counted once
        submit(api, ctx.custody(person, a, "1940-01-01", "1940-01-10"))[0],
        submit(api, ctx.custody(person, a, "1940-01-06", "1940-01-20", custody="camp",
                                citation={"source": ctx.other_source}))[0],
        # an uncertain episode: surely 1941-03-31..1941-05-01, possibly 1941-03-01..1941-05-31
        submit(api, ctx.custody(person, a, "1941-03", "1941-05"))[0],
        # exile apart from confinement
        submit(api, ctx.custody(person, b, "1942", "1942", custody="exile"))[0],
        submit(api, ctx.custody(person, b, "1942-01-01", "1942-12-31", custody="exile"))[0],
    ]
    approve(api, *ids)
    custody = bio(api, person)["custody"]
    assert custody["confinement"] == {"min_days": 20 + 32, "max_days": 20 + 92, "episodes": 3,
                                      "open_episodes": []}
    # "1942" to "1942" is surely no day at all; 1942-01-01..1942-12-31 is 365 sure days
    assert custody["exile"] == {"min_days": 365, "max_days": 365, "episodes": 2, "open_episodes": []}
    assert custody["stated"] == []

    # an exile with no known end: the maximum is unbounded (null), the minimum unchanged, since
    # an open episode surely covers only an exactly known start day, and "1943" is none
    open_exile = submit(api, ctx.custody(person, b, "1943", None, custody="exile"))[0]
    # an episode with an unknown start ('..') also leaves the confinement maximum open; its
    # exactly known end day is surely covered: one more day
    open_start = submit(api, ctx.custody(person, a, "..", "1939-05-01"))[0]
    approve(api, open_exile, open_start)
    custody = bio(api, person)["custody"]
    assert custody["exile"] == {"min_days": 365, "max_days": None, "episodes": 3,
                                "open_episodes": [open_exile]}
    assert custody["confinement"] == {"min_days": 52 + 1, "max_days": None, "episodes": 4,
                                      "open_episodes": [open_start]}
    # an exactly dated start with no end ("2-1-1951, Butyrka again"): that one day is sure
    exact_start = submit(api, ctx.custody(person, b, "1944-03-01", None, custody="exile"))[0]
    approve(api, exact_start)
    exile = bio(api, person)["custody"]["exile"]
    assert (exile["min_days"], exile["max_days"]) == (365 + 1, None)
    assert sorted(exile["open_episodes"]) == sorted([open_exile, exact_start])


# -- 2. conflicts -------------------------------------------------------------------------------

def test_two_approved_death_dates_are_both_shown_and_listed_as_a_conflict(api: Api, ctx: Ctx) -> None:
    person = api.person("Nikolai Rogdaev", ctx.source)
    first = submit(api, ctx.death(person, "1932-06"))[0]
    second = submit(api, ctx.death(person, "1934", source=ctx.other_source))[0]
    pending = submit(api, ctx.death(person, "1937"))[0]
    approve(api, first)
    body = bio(api, person)
    assert [e["claim"] for e in body["deaths"]] == [first] and body["conflicts"] == []
    approve(api, second)
    body = bio(api, person)
    assert [e["claim"] for e in body["deaths"]] == [first, second]
    assert {e["citation"]["source"]["id"] for e in body["deaths"]} == {ctx.source, ctx.other_source}
    conflicts = [c for c in body["conflicts"] if c["kind"] == "death"]
    assert len(conflicts) == 1 and sorted(conflicts[0]["claims"]) == sorted([first, second])
    assert {first, second} <= claims_in(body)
    # a pending third date is not part of the conflict, even when shown to a reviewer
    with_pending = bio(api, person, "bob", include="pending")
    assert pending in [e["claim"] for e in with_pending["deaths"]]
    assert sorted(with_pending["conflicts"][0]["claims"]) == sorted([first, second])


def test_custody_surely_at_two_places_on_one_day_is_a_conflict(api: Api, ctx: Ctx) -> None:
    person = api.person("Mollie Steimer", ctx.source)
    a, b = ctx.place("Butyrka"), ctx.place("Solovki", "camp")
    at_a = submit(api, ctx.custody(person, a, "1940-01-01", "1940-07-15"))[0]
    at_b = submit(api, ctx.custody(person, b, "1940-06", "1940-12-31", custody="camp"))[0]
    approve(api, at_a, at_b)
    body = bio(api, person)
    # A surely to 1940-07-15; B surely from 1940-06-30 (latest start): 16 days at both
    assert body["conflicts"] == [{"kind": "custody_overlap", "claims": [at_a, at_b],
                                  "detail": "held surely at two places from 1940-06-30 to 1940-07-15",
                                  "preferred": [], "independent": False,  # one source: one witness
                                  "sources": [ctx.source], "fields": [], "same_event": False}]
    assert {at_a, at_b} <= claims_in(body)


def test_a_transfer_day_is_not_a_conflict(api: Api, ctx: Ctx) -> None:
    """As documented: an episode ending on the day the next one starts, elsewhere, shares only
    the transfer day, which is not a conflict."""
    person = api.person("Transfer Day", ctx.source)
    one = submit(api, ctx.custody(person, ctx.place("Samarkand", "exile"), "1948-01-29",
                                  "1950-04-20", custody="exile"))[0]
    two = submit(api, ctx.custody(person, ctx.place("Lubyanka"), "1950-04-20", "1950-05"))[0]
    approve(api, one, two)
    assert bio(api, person)["conflicts"] == []


def test_uncertain_overlaps_are_not_conflicts(api: Api, ctx: Ctx) -> None:
    person = api.person("Aron Baron", ctx.source)
    a, b, c = ctx.place("Butyrka"), ctx.place("Suzdal isolator", "isolator"), ctx.place("Tobolsk", "exile")
    # "1940" at A and "1940-06" at B: each possibly overlaps the other, neither surely covers a day
    in_1940 = submit(api, ctx.custody(person, a, "1940", "1940"))[0]
    in_june = submit(api, ctx.custody(person, b, "1940-06", "1940-06", custody="isolator"))[0]
    # all of 1940 at C, surely; B has no surely-covered day: by the README's "surely", no conflict
    all_1940 = submit(api, ctx.custody(person, c, "1940-01-01", "1940-12-31", custody="exile"))[0]
    # two episodes at the same place surely overlapping are no conflict either
    again_a = submit(api, ctx.custody(person, a, "1940", "1940", locator="p. 7"))[0]
    approve(api, in_1940, in_june, all_1940, again_a)
    body = bio(api, person)
    assert body["conflicts"] == []
    assert {in_1940, in_june, all_1940, again_a} <= claims_in(body)


# -- 3. visibility ---------------------------------------------------------------------------

def test_pending_and_contested_hidden_by_default_shown_on_request(api: Api, ctx: Ctx) -> None:
    person = api.person("Olga Taratuta", ctx.source)
    a = ctx.place("Butyrka")
    approved = submit(api, ctx.custody(person, a, "1920", "1921"))[0]
    alices_pending = submit(api, ctx.custody(person, a, "1922", "1923"))[0]
    daves_pending = submit(api, ctx.custody(person, a, "1924", "1925"), who="dave")[0]
    contested = submit(api, ctx.custody(person, a, "1926", "1927"))[0]
    daves_contested = submit(api, ctx.custody(person, a, "1928", "1929"), who="dave")[0]
    rejected = submit(api, ctx.custody(person, a, "1930", "1931"))[0]
    retracted = submit(api, ctx.custody(person, a, "1932", "1933"))[0]
    approve(api, approved, contested, daves_contested)
    for claim in (contested, daves_contested):
        assert api.post(f"/claims/{claim}/contest", {"reason": "doubtful"}, "carol").status_code == 200
    assert api.post(f"/claims/{rejected}/reject", {"reason": "misread"}, "bob").status_code == 200
    assert api.post(f"/claims/{retracted}/retract", {"reason": "mine, wrong"}, "alice").status_code == 200

    # by default, for anyone (with a token or not), approved claims, and the disputed ones
    # (approved, then contested) marked with their contest but counted in no figure
    for who in (None, "alice", "dave", "bob", "root"):
        body = bio(api, person, who)
        assert claims_in(body) == {approved, contested, daves_contested}, who
        disputed = {e["claim"]: e for e in body["timeline"] if e["status"] == "disputed"}
        assert set(disputed) == {contested, daves_contested}
        assert all(e["flags"] == ["disputed"] and e["dispute"]["reason"] == "doubtful"
                   for e in disputed.values())
        assert body["custody"]["confinement"]["episodes"] == 1

    def shown(who: str) -> dict[str, dict]:
        return {e["claim"]: e for e in bio(api, person, who, include="pending")["timeline"]}

    # reviewers: every pending and contested claim, flagged; never rejected or retracted ones
    for reviewer in ("bob", "carol", "root"):
        entries = shown(reviewer)
        assert set(entries) == {approved, alices_pending, daves_pending, contested, daves_contested}
        assert entries[approved]["status"] == "approved" and not entries[approved].get("flags")
        for claim in (alices_pending, daves_pending):
            assert (entries[claim]["status"], entries[claim]["flags"]) == ("pending", ["pending"])
        for claim in (contested, daves_contested):
            assert (entries[claim]["status"], entries[claim]["flags"]) == ("disputed", ["disputed"])

    # a contributor: her own pending ones, and the public ones
    entries = shown("alice")
    assert set(entries) == {approved, alices_pending, contested, daves_contested}
    assert entries[alices_pending]["flags"] == ["pending"] and entries[contested]["flags"] == ["disputed"]
    assert set(shown("dave")) == {approved, daves_pending, contested, daves_contested}

    # pending claims are never counted in the custody totals
    with_pending = bio(api, person, "bob", include="pending")
    assert with_pending["custody"]["confinement"]["episodes"] == 1

    # anonymous include=pending: 401; a wrong token: 401
    assert_problem(api.get(f"/persons/{person}/biography", None, include="pending"), 401, "include=pending")
    r = api.client.get(f"/persons/{person}/biography",
                       headers={"Authorization": "Bearer sta_not-a-token"})
    assert_problem(r, 401)
    # an unknown include value: a client error naming it, not a 500
    r = api.get(f"/persons/{person}/biography", "bob", include="everything")
    assert r.status_code in (400, 422) and "include" in r.text, r.text


def test_unknown_person_is_404(api: Api) -> None:
    assert_problem(api.get("/persons/P-ZZZZZZZZ/biography"), 404, "P-ZZZZZZZZ")


# -- 4. supersession ---------------------------------------------------------------------------

def test_superseded_claims_drop_out_once_the_successor_is_approved(api: Api, ctx: Ctx) -> None:
    person = api.person("Efim Yarchuk", ctx.source)
    a = ctx.place("Butyrka")
    old = submit(api, ctx.custody(person, a, "1921-03", "1921-09"))[0]
    approve(api, old)
    new = submit(api, ctx.custody(person, a, "1921-03-08", "1921-09-17", supersedes=old),
                 who="dave")[0]
    # the successor pending: the old claim stays
    assert claims_in(bio(api, person)) == {old}
    entries = {e["claim"]: e for e in bio(api, person, "bob", include="pending")["timeline"]}
    assert set(entries) == {old, new} and entries[new]["flags"] == ["pending"]

    # approved: the old one drops out, everywhere
    approve(api, new, who="carol")
    body = bio(api, person)
    assert claims_in(body) == {new}
    assert body["custody"]["confinement"]["episodes"] == 1
    assert body["custody"]["confinement"]["min_days"] == days(Day(1921, 3, 8), Day(1921, 9, 17))
    assert claims_in(bio(api, person, "bob", include="pending")) == {new}
    # both stay in the log and readable
    assert api.get(f"/claims/{old}").json()["superseded_by"] == new

    # the successor contested: the old one comes back (and counts), the successor stays
    # listed, disputed, counted in nothing
    assert api.post(f"/claims/{new}/contest", {"reason": "which register?"}, "bob").status_code == 200
    body = bio(api, person)
    assert claims_in(body) == {old, new}
    assert body["custody"]["confinement"]["min_days"] == days(Day(1921, 3, 31), Day(1921, 9, 1))
    entries = {e["claim"]: e for e in bio(api, person, "carol", include="pending")["timeline"]}
    assert set(entries) == {old, new} and entries[new]["flags"] == ["disputed"]

    # the contest dismissed: superseded again
    approve(api, new, who="carol")
    assert claims_in(bio(api, person)) == {new}


def test_a_claim_with_two_approved_successors_stays_superseded(api: Api, ctx: Ctx) -> None:
    person = api.person("Two corrections", ctx.source)
    a = ctx.place("Butyrka")
    old = submit(api, ctx.custody(person, a, "1937", "1938"))[0]
    approve(api, old)
    first = submit(api, ctx.custody(person, a, "1937-05", "1938", supersedes=old), who="dave")[0]
    second = submit(api, ctx.custody(person, a, "1937-06", "1938", supersedes=old), who="dave")[0]
    approve(api, first, second)
    assert api.post(f"/claims/{second}/contest", {"reason": "?"}, "carol").status_code == 200
    head = api.get("/events/head").json()["position"]
    assert claims_in(bio(api, person, as_of=str(head))) == {first, second}  # second disputed
    assert claims_in(bio(api, person)) == {first, second}  # never old


def test_as_of_the_head_applies_a_correction_about_another_person(api: Api, ctx: Ctx) -> None:
    person, brother = api.person("Manuel", ctx.source), api.person("His brother", ctx.source)
    arrest = submit(api, {"kind": "arrest", "person": person, "date": "1937",
                          "citation": {"source": ctx.source}})[0]
    approve(api, arrest)
    moved = submit(api, {"kind": "arrest", "person": brother, "date": "1937", "supersedes": arrest,
                         "citation": {"source": ctx.other_source}}, who="dave")[0]
    approve(api, moved)
    assert claims_in(bio(api, person)) == set() and claims_in(bio(api, brother)) == {moved}
    head = api.get("/events/head").json()["position"]
    assert claims_in(bio(api, person, as_of=str(head))) == set()  # fails: {arrest}


# -- 5. merges --------------------------------------------------------------------------------

def test_a_merged_record_answers_with_the_survivor(api: Api, ctx: Ctx) -> None:
    a = api.person("Moncluś (in a Memorial list)", ctx.source)
    b = api.person("Vicente Monclús Guallar", ctx.source)
    about_a = submit(api, ctx.custody(a, ctx.place("Butyrka"), "1951-01-02", "1955-04"))[0]
    death_a = submit(api, ctx.death(a, "1987"))[0]
    about_b = submit(api, ctx.custody(b, ctx.place("Lefortovo"), "1955-04", "1956-01-06"))[0]
    approve(api, about_a, death_a, about_b)
    assert claims_in(bio(api, b)) == {about_b}

    r = api.post(f"/persons/{a}/merge", {"into": b, "reason": "same man, same dates"}, "bob")
    assert r.status_code == 200, r.text

    via_a, via_b = bio(api, a), bio(api, b)
    assert via_a["id"] == b and via_a["requested"] == a and [m["id"] for m in via_a["merged_from"]] == [a]
    assert via_a["label"] == "Vicente Monclús Guallar"
    assert via_b["id"] == b and via_b["requested"] is None and [m["id"] for m in via_b["merged_from"]] == [a]
    for body in (via_a, via_b):
        assert claims_in(body) == {about_a, death_a, about_b}
        assert [e["claim"] for e in body["deaths"]] == [death_a]
        assert body["custody"]["confinement"]["episodes"] == 2
    assert {k: v for k, v in via_a.items() if k != "requested"} == \
        {k: v for k, v in via_b.items() if k != "requested"}

    # undone: each record answers for itself again
    r = api.post(f"/persons/{a}/unmerge", {"reason": "two men after all"}, "carol")
    assert r.status_code == 200, r.text
    via_a = bio(api, a)
    assert via_a["id"] == a and via_a["requested"] is None and via_a["merged_from"] == []
    assert claims_in(via_a) == {about_a, death_a} and claims_in(bio(api, b)) == {about_b}


# -- 6. as_of ----------------------------------------------------------------------------------

def test_as_of_a_position_and_a_timestamp(api: Api, ctx: Ctx) -> None:
    r = api.post("/persons", {"name": "Francisco Ponzán", "citation": {"source": ctx.source}})
    person, registered = r.json()["id"], r.json()["position"]
    twin = api.person("F. Ponzan (a list)", ctx.source)
    a = ctx.place("Butyrka")

    early, _ = submit(api, ctx.custody(person, a, "1940-01-25", "1940-09"))
    approve(api, early)
    superseded_later, _ = submit(api, ctx.custody(person, a, "1941", "1942"))
    contested_later, _ = submit(api, ctx.death(person, "1944-10-17"))
    about_twin, _ = submit(api, ctx.custody(twin, ctx.place("Lefortovo"), "1950", "1951"))
    approve(api, superseded_later, contested_later, about_twin)
    approved_later, n = submit(api, ctx.custody(person, a, "1943", "1944"))  # pending at N
    before = bio(api, person)

    # after N: approvals, a new claim, a supersession, a contest, a merge
    approve(api, approved_later)
    submitted_later, _ = submit(api, ctx.custody(person, a, "1945", "1946"))
    approve(api, submitted_later)
    successor, _ = submit(api, ctx.custody(person, a, "1941-02", "1942-11", supersedes=superseded_later))
    approve(api, successor)
    assert api.post(f"/claims/{contested_later}/contest", {"reason": "?"}, "carol").status_code == 200
    assert api.post(f"/persons/{twin}/merge", {"into": person, "reason": "the same"}, "bob").status_code == 200

    now = bio(api, person)
    assert claims_in(now) == {early, approved_later, submitted_later, successor, about_twin,
                              contested_later}  # disputed: listed, marked
    assert [e["claim"] for e in now["deaths"] if e["status"] == "disputed"] == [contested_later]
    assert [m["id"] for m in now["merged_from"]] == [twin]

    # as of N: as it was
    then = bio(api, person, as_of=str(n))
    assert then["as_of"]["position"] == n and then["as_of"]["recorded_at"]
    assert claims_in(then) == {early, superseded_later, contested_later}
    assert [e["claim"] for e in then["deaths"]] == [contested_later]
    assert then["merged_from"] == [] and then["id"] == person
    assert {k: v for k, v in then.items() if k != "as_of"} == \
        {k: v for k, v in before.items() if k != "as_of"}
    # the claim pending at N shows, flagged, to a reviewer asking for pending claims
    entries = {e["claim"]: e for e in bio(api, person, "bob", as_of=str(n), include="pending")["timeline"]}
    assert entries[approved_later]["flags"] == ["pending"] and submitted_later not in entries
    # the twin as of N: not merged yet
    twin_then = bio(api, twin, as_of=str(n))
    assert twin_then["id"] == twin and twin_then["requested"] is None and twin_then["merged_from"] == []
    assert claims_in(twin_then) == {about_twin}
    twin_now = bio(api, twin)
    assert twin_now["id"] == person and twin_now["requested"] == twin
    twin_at_head = bio(api, twin, as_of=str(api.get("/events/head").json()["position"]))
    assert twin_at_head["id"] == person and twin_at_head["requested"] == twin
    assert [m["id"] for m in twin_at_head["merged_from"]] == [twin] and claims_in(twin_at_head) == claims_in(now)
    # a contributor asking for pending claims as of N sees her own only
    mine = bio(api, person, "dave", as_of=str(n), include="pending")
    assert approved_later not in claims_in(mine)
    assert approved_later in claims_in(bio(api, person, "alice", as_of=str(n), include="pending"))

    # as of a timestamp: the last event recorded at or before it
    events = api.get("/events", after=str(n - 1), limit="2").json()["items"]
    assert [e["position"] for e in events] == [n, n + 1]
    stamp = events[0]["recorded_at"]
    assert events[1]["recorded_at"] > stamp  # else the stamp would name n + 1
    by_time = bio(api, person, as_of=stamp)
    assert by_time["as_of"]["position"] == n
    assert {k: v for k, v in by_time.items() if k != "as_of"} == \
        {k: v for k, v in then.items() if k != "as_of"}
    moment = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    in_paris = moment.astimezone(dt.timezone(dt.timedelta(hours=1))).isoformat()
    assert bio(api, person, as_of=in_paris)["as_of"]["position"] == n

    # the head: as now
    head = api.get("/events/head").json()["position"]
    at_head = bio(api, person, as_of=str(head))
    assert {k: v for k, v in at_head.items() if k != "as_of"} == \
        {k: v for k, v in now.items() if k != "as_of"}

    # before the person existed: 404
    assert_problem(api.get(f"/persons/{person}/biography", as_of=str(registered - 1)), 404, person)
    assert_problem(api.get(f"/persons/{person}/biography", as_of="1999-01-01T00:00:00Z"), 404)
    assert bio(api, person, as_of=str(registered))["timeline"] == []

    # a bad as_of: 422 naming as_of
    for bad in ("yesterday", "2026-03-01T00:00:00", "-3"):
        body = assert_problem(api.get(f"/persons/{person}/biography", as_of=bad), 422, "as_of")
        assert any(e["field"] == "as_of" for e in body.get("errors") or []), body
