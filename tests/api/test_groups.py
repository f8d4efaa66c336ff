"""Groups over HTTP (issue 10, items 2, 4 and 9): a custody claim naming a group (an
organisation of kind group or colony) with a count or a range; the population lists the group
with count_min/count_max beside the named persons, its members through it (possible, or certain
where membership and stay are both sure), never adding group counts in; counts of one group
that disagree as conflicts; GET /organizations/{id} with a group's members and own timeline;
422 for what a grouped claim cannot say. All names here are invented ("not historical")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from starosta.projections.runner import content_hash
from starosta.service.db import open_archive
from tests.api.conftest import Api, assert_problem, rebuild
from tests.api.test_population import check_consistent


@dataclass
class World:
    api: Api
    source: str

    def place(self, name: str, kind: str = "camp") -> str:
        return self.api.place(f"{name} (not historical)", self.source, kind=kind)

    def person(self, name: str) -> str:
        return self.api.person(f"{name} (not historical)", self.source)

    def organization(self, name: str, kind: str = "group") -> str:
        r = self.api.post("/organizations", {"name": f"{name} (not historical)", "kind": kind,
                                             "citation": {"source": self.source}})
        assert r.status_code == 201, r.text
        return r.json()["id"]

    def claim(self, body: dict[str, Any], approved: bool = True) -> str:
        claim = self.api.claim({**body, "citation": {"source": self.source, "locator": "p. 1"}})
        if approved:
            r = self.api.post(f"/claims/{claim}/approve", {}, "bob")
            assert r.status_code == 200, r.text
        return claim

    def stay(self, group: str, place: str, start: str | None = None, end: str | None = None,
             count: Any = None, **extra: Any) -> str:
        body: dict[str, Any] = {"kind": "custody", "group": group, "place": place,
                                "custody": "camp", **extra}
        for key, value in (("start", start), ("end", end), ("count", count)):
            if value is not None:
                body[key] = value
        return self.claim(body)

    def member(self, person: str, group: str, start: str | None = None, end: str | None = None,
               approved: bool = True) -> str:
        body: dict[str, Any] = {"kind": "membership", "person": person, "organization": group}
        for key, value in (("start", start), ("end", end)):
            if value is not None:
                body[key] = value
        return self.claim(body, approved)

    def population(self, place: str, at: str, **params: Any) -> dict:
        r = self.api.get(f"/places/{place}/population", at=at, **params)
        assert r.status_code == 200, r.text
        body = r.json()
        check_consistent(body)
        return body


@pytest.fixture
def world(api: Api) -> World:
    return World(api, api.source("A test memoir (not historical)"))


def held(body: dict, where: str) -> dict[str, dict]:
    return {h["id"]: h for h in body[where]}


# -- the group in a population -------------------------------------------------------------------

def test_a_group_is_listed_with_its_count_and_never_counted_as_persons(world: World) -> None:
    camp = world.place("Test Camp")
    group = world.organization("Test Group of Pilots")
    first = world.stay(group, camp, "1940", "1943", count={"min": 4, "max": 20})
    body = world.population(camp, "1941")
    assert body["groups"] == [{"id": group, "name": "Test Group of Pilots (not historical)",
                               "certain": True, "count_min": 4, "count_max": 20,
                               "claims": [first]}]
    assert (body["count_min"], body["count_max"]) == (0, 0)  # group counts never added in
    assert body["certain"] == body["possible"] == [] and body["conflicts"] == []
    # possible only in 1943 (the end is somewhere in it), absent before and after
    assert world.population(camp, "1943-06")["groups"][0]["certain"] is False
    assert world.population(camp, "1939")["groups"] == []
    assert world.population(camp, "1944")["groups"] == []
    # a second claim of the group in the span: both listed, the widest figure (4 to 30)
    second = world.stay(group, camp, "1942", "1942", count=30)
    both = world.population(camp, "1942")["groups"]
    assert both == [{"id": group, "name": "Test Group of Pilots (not historical)", "certain": True,
                     "count_min": 4, "count_max": 30, "claims": [first, second]}]
    # the two counts overlap (4-20 and 30 do not!): that is a conflict, listed in the answer
    conflicts = world.population(camp, "1942")["conflicts"]
    assert [c["claims"] for c in conflicts] == [sorted([first, second])]
    assert conflicts[0]["kind"] == "group_count" and "30" in conflicts[0]["detail"]


def test_an_uncounted_group_has_null_counts(world: World) -> None:
    camp = world.place("Test Camp")
    group = world.organization("Test Colony", kind="colony")
    claim = world.stay(group, camp, "1930", "1931")
    assert world.population(camp, "1930")["groups"] == [
        {"id": group, "name": "Test Colony (not historical)", "certain": True, "count_min": None,
         "count_max": None, "claims": [claim]}]


def test_an_open_group_stay_is_bounded_by_its_next_stay_elsewhere(world: World) -> None:
    camp, other = world.place("Test Camp"), world.place("Test Prison", "prison")
    group = world.organization("Test Group")
    open_stay = world.stay(group, camp, "1937")  # no end
    listed = world.population(camp, "1950")["groups"]
    assert listed[0]["claims"] == [open_stay] and listed[0]["open_end"] is True
    world.stay(group, other, "1941-03", "1942")
    assert world.population(camp, "1950")["groups"] == []
    bounded = world.population(camp, "1941")["groups"][0]
    assert bounded["certain"] is False and "open_end" not in bounded


# -- members through the group -------------------------------------------------------------------

def test_members_are_listed_through_the_group_possible_or_certain(world: World) -> None:
    camp = world.place("Test Camp")
    group = world.organization("Test Group")
    stay = world.stay(group, camp, "1940-03", "1943", count=40)
    sure = world.person("Sure Member")
    undated = world.person("Undated Member")
    before = world.person("Former Member")
    alone = world.person("Held Alone")
    pending = world.person("Pending Member")
    m_sure = world.member(sure, group, "1935", "1950")
    m_undated = world.member(undated, group)
    world.member(before, group, "1930", "1931")
    world.member(pending, group, "1935", "1950", approved=False)
    m_alone = world.member(alone, group, "1935", "1950")
    own = world.claim({"kind": "custody", "person": alone, "place": camp, "custody": "camp",
                       "start": "1941-01-01", "end": "1941-12-31"})
    body = world.population(camp, "1941")
    certain, possible = held(body, "certain"), held(body, "possible")
    assert set(certain) == {sure, alone} and set(possible) == {undated}
    assert certain[sure] == {"id": sure, "name": "Sure Member (not historical)",
                             "claims": [stay, m_sure], "through": group}
    assert certain[alone] == {"id": alone, "name": "Held Alone (not historical)", "claims": [own]}
    assert possible[undated] == {"id": undated, "name": "Undated Member (not historical)",
                                 "claims": [stay, m_undated], "through": group}
    # named persons only, each once; the group's 40 never added in
    assert (body["count_min"], body["count_max"]) == (2, 3)
    # where the stay is only possible (its end somewhere in 1943), every member is possible;
    # Held Alone too, through the group, since their own claim does not meet the span
    early = world.population(camp, "1943-06")
    assert held(early, "certain") == {} and set(held(early, "possible")) == {sure, undated, alone}
    assert held(early, "possible")[alone] == {
        "id": alone, "name": "Held Alone (not historical)", "claims": [stay, m_alone],
        "through": group}
    # reviewers asking for pending claims see the pending member too
    with_pending = world.api.get(f"/places/{camp}/population", "bob", at="1941", include="pending")
    assert pending in held(with_pending.json(), "certain")


def test_membership_and_stay_must_surely_share_a_day(world: World) -> None:
    camp = world.place("Test Camp")
    group = world.organization("Test Group")
    world.stay(group, camp, "1940-10", "1940-12")
    early = world.person("Early Member")
    world.member(early, group, "1940-01", "1940-03")  # left before the group arrived
    late = world.person("Late Member")
    world.member(late, group, "1940-11", "1941")  # joined while it was there: surely together
    vague = world.person("Vague Member")
    world.member(vague, group, "1940")  # joined some day of 1940, end unknown
    body = world.population(camp, "1940")
    assert set(held(body, "certain")) == {late}
    assert set(held(body, "possible")) == {vague}
    assert (body["count_min"], body["count_max"]) == (1, 2)


def test_the_timeline_counts_members_through_groups(world: World) -> None:
    camp = world.place("Test Camp")
    group = world.organization("Test Group")
    world.stay(group, camp, "1940-03", "1943", count=40)
    sure, undated = world.person("Sure Member"), world.person("Undated Member")
    world.member(sure, group, "1935", "1950")
    world.member(undated, group)
    lone = world.person("Lone Prisoner")
    world.claim({"kind": "custody", "person": lone, "place": camp, "custody": "camp",
                 "start": "1942", "end": "1945"})
    r = world.api.get(f"/places/{camp}/population/timeline", step="year")
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [i["period"] for i in items] == [str(y) for y in range(1940, 1946)]
    for item in items:
        body = world.population(camp, item["period"])
        assert (item["count_min"], item["count_max"]) == (body["count_min"], body["count_max"]), item
    assert [(i["count_min"], i["count_max"]) for i in items] == [
        (1, 2), (1, 2), (2, 3), (2, 3), (1, 1), (1, 1)]
    months = world.api.get(f"/places/{camp}/population/timeline", step="month",
                           **{"from": "1940-02", "to": "1940-04"}).json()["items"]
    assert [(i["count_min"], i["count_max"]) for i in months] == [(0, 0), (1, 2), (1, 2)]


# -- conflicts --------------------------------------------------------------------------------

def test_two_counts_of_one_group_that_disagree_are_a_conflict_whatever_the_place(world: World) -> None:
    camp, school = world.place("Test Camp"), world.place("Test School", "other")
    group = world.organization("Test Pilots")
    stay = world.stay(group, camp, "1939-06", "1939-09", count=40)
    # 38 at another place over overlapping dates: a conflict listed at either place
    team = world.claim({"kind": "aggregate", "count": 38, "group": "a 38-strong team",
                        "group_id": group, "place": school, "date": "1939"})
    # an undated count that agrees (a range holding 40), an "at least" that agrees, a count of
    # another year, and a count of the dead: none disagrees here
    world.claim({"kind": "aggregate", "count": {"min": 35, "max": 45}, "group": "35 to 45",
                 "group_id": group})
    world.claim({"kind": "aggregate", "count": 30, "qualifier": "at_least", "group": "30 or more",
                 "group_id": group, "date": "1939-07"})
    world.claim({"kind": "aggregate", "count": 12, "group": "twelve in 1950", "group_id": group,
                 "date": "1950"})
    world.claim({"kind": "aggregate", "count": 3, "status": "died", "group": "three died",
                 "group_id": group, "place": camp, "date": "1939"})
    at_camp = world.population(camp, "1939-07")
    assert at_camp["conflicts"] == [{
        "kind": "group_count", "claims": sorted([stay, team]), "preferred": [],
        "independent": False,  # one source cites both
        "detail": at_camp["conflicts"][0]["detail"]}]
    assert "Test Pilots" in at_camp["conflicts"][0]["detail"]
    assert "38" in at_camp["conflicts"][0]["detail"] and "40" in at_camp["conflicts"][0]["detail"]
    at_school = world.population(school, "1939")
    assert [c["claims"] for c in at_school["conflicts"]] == [sorted([stay, team])]
    assert [r["group_id"] for r in at_school["reported"]] == [group]
    # neither claim in the answer: no conflict listed
    assert world.population(camp, "1945")["conflicts"] == []


def test_an_undated_count_disagreeing_is_a_conflict(world: World) -> None:
    camp = world.place("Test Camp")
    group = world.organization("Test Group")
    stay = world.stay(group, camp, "1939", "1940", count={"min": 4, "max": 5})
    undated = world.claim({"kind": "aggregate", "count": 20, "group": "twenty", "group_id": group})
    conflicts = world.population(camp, "1939")["conflicts"]
    assert [c["claims"] for c in conflicts] == [sorted([stay, undated])]
    assert "4-5" in conflicts[0]["detail"]


# -- counts as ranges, reported as given -----------------------------------------------------------

def test_reported_counts_keep_their_shape_and_the_csv_writes_ranges(world: World) -> None:
    camp = world.place("Test Camp")
    ranged = world.claim({"kind": "aggregate", "count": {"min": 4, "max": 20}, "place": camp,
                          "group": "4 or 5 or even 20", "date": "1925"})
    exact = world.claim({"kind": "aggregate", "count": 5, "place": camp, "group": "five",
                         "date": "1925"})
    same = world.claim({"kind": "aggregate", "count": {"min": 7, "max": 7}, "place": camp,
                        "group": "seven", "date": "1925"})
    counts = {r["claim"]: r["count"] for r in world.population(camp, "1925")["reported"]}
    assert counts == {ranged: {"min": 4, "max": 20}, exact: 5, same: {"min": 7, "max": 7}}
    r = world.api.get(f"/places/{camp}/population/timeline", format="csv")
    assert r.status_code == 200 and "exact 4-20 4 or 5 or even 20" in r.text, r.text


# -- the organisation read -----------------------------------------------------------------------

def test_a_group_shows_its_members_and_its_own_timeline(world: World) -> None:
    camp, prison = world.place("Test Camp"), world.place("Test Prison", "prison")
    region = world.place("Test Region", "region")
    group = world.organization("Test Group")
    a, b = world.person("Member A"), world.person("Member B")
    ma = world.member(a, group, "1937")
    mb1 = world.member(b, group)
    mb2 = world.member(b, group, "1938")
    world.member(world.person("Unapproved Member"), group, approved=False)
    release = world.claim({"kind": "release", "group": group, "release": "release",
                           "date": "1948", "destination": region, "count": 12})
    stay = world.stay(group, camp, "1941", "1947", count={"min": 20, "max": 25})
    transfer = world.claim({"kind": "transfer", "group": group, "from_place": prison,
                            "to_place": camp, "date": "1941-02"})
    first = world.stay(group, prison, "1939", "1941-01")
    undated = world.claim({"kind": "protest", "group": group, "protest": "hunger_strike",
                           "place": camp})
    world.claim({"kind": "custody", "group": group, "place": camp, "custody": "camp",
                 "start": "1946"}, approved=False)
    r = world.api.get(f"/organizations/{group}")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["id"] == group and body["label"] == "Test Group (not historical)"
    assert body["data"]["kind"] == "group" and body["type"] == "organization"
    assert body["members"] == [
        {"id": a, "label": "Member A (not historical)", "claims": [ma]},
        {"id": b, "label": "Member B (not historical)", "claims": [mb1, mb2]}]
    steps = body["timeline"]
    assert [s["claim"] for s in steps] == [first, stay, transfer, release, undated]
    ref = {"id": camp, "label": "Test Camp (not historical)"}
    assert steps[1] == {"claim": stay, "kind": "custody", "place": ref,
                        "dates": {"start": "1941", "end": "1947"}, "earliest": "1941-01-01",
                        "latest": "1947-12-31", "count": {"min": 20, "max": 25},
                        "fields": {"custody": "camp"}}
    assert steps[2]["from_place"] == {"id": prison, "label": "Test Prison (not historical)"}
    assert steps[2]["to_place"] == ref and steps[2]["count"] is None
    assert steps[3]["destination"]["id"] == region and steps[3]["count"] == 12
    assert steps[4] == {"claim": undated, "kind": "protest", "place": ref, "dates": {},
                        "earliest": None, "latest": None, "count": None,
                        "fields": {"protest": "hunger_strike"}}


def test_an_organisation_that_is_no_group_has_no_members_or_timeline(world: World) -> None:
    committee = world.organization("Test Committee", kind="committee")
    body = world.api.get(f"/organizations/{committee}").json()
    assert "members" not in body and "timeline" not in body and body["data"]["kind"] == "committee"
    empty = world.api.get(f"/organizations/{world.organization('Test Group')}").json()
    assert empty["members"] == [] and empty["timeline"] == []
    assert world.api.get("/organizations/O-NOTFOUND").status_code == 404


# -- what a grouped claim cannot say ----------------------------------------------------------------

def test_a_claim_naming_both_person_and_group_is_422(world: World) -> None:
    camp, group, p = world.place("Test Camp"), world.organization("Test Group"), world.person("P")
    body = {"kind": "custody", "person": p, "group": group, "place": camp, "custody": "camp",
            "citation": {"source": world.source}}
    problem = assert_problem(world.api.post("/claims", body), 422, "group")
    assert problem["errors"][0]["field"] == "group"


def test_a_group_that_is_no_group_organisation_is_422(world: World) -> None:
    camp, committee = world.place("Test Camp"), world.organization("Test Committee", kind="committee")
    body = {"kind": "custody", "group": committee, "place": camp, "custody": "camp",
            "citation": {"source": world.source}}
    problem = assert_problem(world.api.post("/claims", body), 422, "group")
    assert problem["errors"][0]["field"] == "group"
    aggregate = {"kind": "aggregate", "count": 3, "group": "three", "group_id": committee,
                 "citation": {"source": world.source}}
    assert assert_problem(world.api.post("/claims", aggregate), 422, "group_id")["errors"][0]["field"] == "group_id"


def test_a_count_with_a_person_is_422(world: World) -> None:
    camp, p = world.place("Test Camp"), world.person("P")
    body = {"kind": "custody", "person": p, "count": 5, "place": camp, "custody": "camp",
            "citation": {"source": world.source}}
    problem = assert_problem(world.api.post("/claims", body), 422, "count")
    assert problem["errors"][0]["field"] == "count"
    reversed_range = {"kind": "custody", "group": world.organization("Test Group"), "place": camp,
                      "custody": "camp", "count": {"min": 9, "max": 2},
                      "citation": {"source": world.source}}
    assert assert_problem(world.api.post("/claims", reversed_range), 422, "count")["errors"][0]["field"] == "count"


# -- the read model rebuilds alone from the log ---------------------------------------------------

def test_the_population_tables_rebuilt_from_the_log_equal_the_live_ones(world: World, db_path: str) -> None:
    camp, other = world.place("Test Camp"), world.place("Test Prison", "prison")
    group = world.organization("Test Group")
    world.stay(group, camp, "1937", count={"min": 4, "max": 20})
    world.stay(group, other, "1941")
    a, b = world.person("A"), world.person("B")
    world.member(a, group, "1935")
    world.claim({"kind": "custody", "person": a, "place": camp, "custody": "camp",
                 "start": "1940", "with": [b]})
    world.claim({"kind": "aggregate", "count": {"min": 1, "max": 2}, "group": "g", "group_id": group,
                 "place": camp, "date": "1938"})
    before = world.population(camp, "1938")
    archive = open_archive(db_path)
    try:
        projection = next(p for p in archive.runner.projections if p.name == "population")
        live = content_hash(archive.store.reader(), list(projection.ddl))
        assert rebuild(archive, "population") == live
    finally:
        archive.store.close()
    assert world.population(camp, "1938") == before


# -- ranks and transmission in conflicts --------------------------------------------------------

def rank(world: World, claim: str, body: dict) -> None:
    match = world.api.get(f"/claims/{claim}", "bob").headers["etag"]
    r = world.api.post(f"/claims/{claim}/rank", body, "bob", **{"If-Match": match})
    assert r.status_code == 200, r.text


def test_a_count_conflict_marks_the_preferred_reading_and_whether_its_witnesses_are_independent(
        world: World) -> None:
    camp = world.place("Test Camp")
    group = world.organization("Test Pilots")
    stay = world.stay(group, camp, "1939", "1940", count=40)
    translation = world.api.source("A translation of the memoir (not historical)")
    told_again = world.api.claim({
        "kind": "aggregate", "count": 38, "group": "38", "group_id": group, "date": "1939",
        "citation": {"source": translation,
                     "via": [{"source": world.source, "relation": "translation_of"}]}})
    assert world.api.post(f"/claims/{told_again}/approve", {}, "bob").status_code == 200
    other = world.api.source("Another witness (not historical)")
    witness = world.api.claim({"kind": "aggregate", "count": 30, "group": "30", "group_id": group,
                               "citation": {"source": other}})
    assert world.api.post(f"/claims/{witness}/approve", {}, "bob").status_code == 200
    rank(world, stay, {"rank": "preferred", "reason": "the eyewitness"})
    conflicts = {tuple(c["claims"]): c for c in world.population(camp, "1939")["conflicts"]}
    # 38 against 30 disagree too, but neither is in this answer (neither names the camp)
    assert set(conflicts) == {tuple(sorted([stay, told_again])), tuple(sorted([stay, witness]))}
    # the memoir and its translation are one witness; the other source is independent
    assert conflicts[tuple(sorted([stay, told_again]))]["independent"] is False
    assert conflicts[tuple(sorted([stay, witness]))]["independent"] is True
    assert conflicts[tuple(sorted([stay, witness]))]["preferred"] == [stay]


def test_a_count_conflict_s_independence_follows_approved_derivation_links(world: World) -> None:
    """Issue 22: a derivation claim approved after the counts makes two witnesses one."""
    camp = world.place("Test Camp")
    group = world.organization("Test Pilots")
    stay = world.stay(group, camp, "1939", "1940", count=40)
    reprint = world.api.source("A reprint of the memoir (not historical)")
    witness = world.api.claim({"kind": "aggregate", "count": 30, "group": "30", "group_id": group,
                               "place": camp, "citation": {"source": reprint}})
    assert world.api.post(f"/claims/{witness}/approve", {}, "bob").status_code == 200
    (conflict,) = world.population(camp, "1939")["conflicts"]
    assert conflict["claims"] == sorted([stay, witness]) and conflict["independent"] is True
    link = world.api.claim({"kind": "derivation", "source": reprint, "derives_from": world.source,
                            "relation": "reprint_of", "citation": {"source": reprint}})
    assert world.api.post(f"/claims/{link}/approve", {}, "bob").status_code == 200
    (conflict,) = world.population(camp, "1939")["conflicts"]
    assert conflict["independent"] is False


def test_a_deprecated_group_stay_leaves_the_population(world: World) -> None:
    camp = world.place("Test Camp")
    group = world.organization("Test Group")
    stay = world.stay(group, camp, "1939", "1940", count=40)
    member = world.person("Member")
    world.member(member, group, "1930", "1950")
    world.claim({"kind": "aggregate", "count": 12, "group": "12", "group_id": group, "place": camp,
                 "date": "1939"})
    body = world.population(camp, "1939")
    assert body["groups"] and body["conflicts"] and body["count_min"] == 1
    rank(world, stay, {"rank": "deprecated", "reason": "a misreading of the memoir"})
    body = world.population(camp, "1939")
    assert body["groups"] == [] and body["conflicts"] == [] and body["count_max"] == 0
    assert world.api.get(f"/organizations/{group}").json()["timeline"] == []
    rank(world, stay, {"rank": "normal"})
    assert world.population(camp, "1939")["groups"][0]["claims"] == [stay]
