"""Queries that say what they do (issue 22, item 6) over HTTP, on both backends: an unknown
query parameter is 422 naming it on every operation of the OpenAPI document;
`GET /claims?organization=` filters; `GET /organizations/{id}` lists its members and
affiliates with spans and certainties, paged; population answers count groups apart
(`groups_count_min`/`groups_count_max`). All names here are invented ("not historical")."""

from __future__ import annotations

import re

import pytest

from starosta.projections.population import GroupHeld, groups_count
from tests.api.conftest import Api, assert_problem
from tests.api.test_groups import World

BOGUS = "no_such_parameter"


@pytest.fixture
def world(api: Api) -> World:
    return World(api, api.source("A test memoir (not historical)"))


def test_an_unknown_query_parameter_is_422_naming_it_on_every_operation(api: Api) -> None:
    document = api.get("/schema/openapi.json").json()
    checked = 0
    for path, item in document["paths"].items():
        for method in ("get", "post", "put", "patch", "delete"):
            if method not in item:
                continue
            url = re.sub(r"\{[^}]+\}", "X-00000001", path)
            r = api.client.request(method.upper(), url, params={BOGUS: "1"}, json={},
                                   headers=api.auth("root"))
            problem = assert_problem(r, 422, BOGUS)
            assert any(e.get("field") == BOGUS or BOGUS in str(e) for e in problem.get("errors", [problem])), problem
            checked += 1
    assert checked > 40


def test_a_known_query_parameter_still_works_and_min_position_is_taken_everywhere(api: Api) -> None:
    assert api.get("/claims", limit=1).status_code == 200
    assert api.get("/persons", q="x", min_position=0).status_code == 200
    r = api.get("/claims", limit=1, Limit=2)  # names are case-sensitive
    assert_problem(r, 422, "Limit")


def test_claims_filtered_by_organization(world: World) -> None:
    party = world.organization("Test Party", "party")
    other = world.organization("Other Party", "party")
    a, b = world.person("Test Member A"), world.person("Test Member B")
    mine = world.member(a, party, "1925", "1930")
    world.member(b, other, "1926")
    r = world.api.get("/claims", organization=party)
    assert r.status_code == 200, r.text
    assert [c["id"] for c in r.json()["items"]] == [mine]
    r = world.api.get("/claims", organization=other, kind="membership")
    assert len(r.json()["items"]) == 1 and r.json()["items"][0]["id"] != mine


def test_an_organization_lists_members_and_affiliates_with_spans_and_certainties(world: World) -> None:
    party = world.organization("Test Party", "party")
    a, b, c = world.person("Test Member A"), world.person("Test Affiliate B"), world.person("Test C")
    member = world.member(a, party, "1925", "1930-05")
    affiliate = world.claim({"kind": "affiliation", "person": b, "organization": party,
                             "affiliation": "anarcho-syndicalist", "start": "1921"})
    pending = world.member(c, party, "1927", approved=False)
    disputed = world.member(c, party, "1928")
    r = world.api.post(f"/claims/{disputed}/contest", {"reason": "another source says 1929"}, "carol")
    assert r.status_code == 200, r.text
    body = world.api.get(f"/organizations/{party}").json()
    people = {p["claim"]: p for p in body["people"]}
    assert pending not in people
    assert people[member] == {"person": {"id": a, "label": "Test Member A (not historical)"},
                              "relation": "member", "claim": member, "certainty": "certain",
                              "start": "1925", "end": "1930-05"}
    assert people[affiliate]["relation"] == "affiliate"
    assert people[affiliate]["affiliation"] == "anarcho-syndicalist"
    assert "end" not in people[affiliate]
    assert people[disputed]["certainty"] == "disputed"
    assert "people_next" not in body  # one page
    # paged, oldest claim first
    first = world.api.get(f"/organizations/{party}", people_limit=2).json()
    assert [p["claim"] for p in first["people"]] == [member, affiliate]
    rest = world.api.get(f"/organizations/{party}", people_limit=2,
                         people_after=first["people_next"]).json()
    assert [p["claim"] for p in rest["people"]] == [disputed] and "people_next" not in rest
    assert_problem(world.api.get(f"/organizations/{party}", people_limit=0), 422, "people_limit")


def test_population_counts_groups_apart(world: World) -> None:
    prison = world.place("Test Prison", "prison")
    pilots = world.organization("Test Pilots")
    crew = world.organization("Test Crew")
    lone = world.person("Test Lone Prisoner")
    world.claim({"kind": "custody", "person": lone, "place": prison, "custody": "prison",
                 "start": "1940-01", "end": "1940-12"})
    world.stay(pilots, prison, "1940-01-25", "1940-06", count=8)
    body = world.population(prison, "1940")
    assert (body["count_min"], body["count_max"]) == (1, 1)
    assert (body["groups_count_min"], body["groups_count_max"]) == (8, 8)
    world.stay(crew, prison, "1939", "1941")  # no count: the most stays unknown
    body = world.population(prison, "1940")
    assert (body["groups_count_min"], body["groups_count_max"]) == (8, None)
    assert (body["count_min"], body["count_max"]) == (1, 1)


def test_groups_count_rule() -> None:
    def g(certain: bool, low: int | None, high: int | None) -> GroupHeld:
        return GroupHeld(id="O-1", name="x", certain=certain, count_min=low, count_max=high, claims=[])
    assert groups_count([]) == (0, 0)
    assert groups_count([g(True, 8, 8), g(False, 3, 5)]) == (8, 13)
    assert groups_count([g(True, 8, 10), g(True, None, None)]) == (8, None)
    assert groups_count([g(False, 2, 2)]) == (0, 2)


def _timeline_place(world: World, person: str, claim: str) -> dict:
    r = world.api.get(f"/persons/{person}/biography")
    assert r.status_code == 200, r.text
    entry = next(e for e in r.json()["timeline"] if e["claim"] == claim)
    return entry["fields"]["place"]


def test_a_place_shows_under_the_name_it_had_at_the_statements_date(world: World) -> None:
    town = world.place("Test Newtown", "settlement")
    person = world.person("Test Native")
    born = world.claim({"kind": "birth", "person": person, "place": town, "date": "1899-05-02"})
    later = world.claim({"kind": "custody", "person": person, "place": town, "custody": "prison",
                         "start": "1930", "end": "1931"})
    assert _timeline_place(world, person, born)["label"] == "Test Newtown (not historical)"
    # the old name, borne until 1924: the approval recomputes the documents naming the town
    world.claim({"kind": "name", "place": town, "name": "Test Oldtown (not historical)",
                 "end": "1924", "name_kind": "official"})
    assert _timeline_place(world, person, born) == {"id": town, "label": "Test Oldtown (not historical)"}
    assert _timeline_place(world, person, later)["label"] == "Test Newtown (not historical)"
    # undated statements and those straddling the change keep today's name
    undated = world.claim({"kind": "custody", "person": person, "place": town, "custody": "prison"})
    straddling = world.claim({"kind": "custody", "person": person, "place": town,
                              "custody": "prison", "start": "1923", "end": "1926"})
    assert _timeline_place(world, person, undated)["label"] == "Test Newtown (not historical)"
    assert _timeline_place(world, person, straddling)["label"] == "Test Newtown (not historical)"


def test_the_person_record_keeps_every_names_span(world: World) -> None:
    person = world.person("Test Maiden")
    married = world.claim({"kind": "name", "person": person, "name": "Test Married (not historical)",
                           "name_kind": "married", "start": "1925"})
    r = world.api.get(f"/persons/{person}")
    assert r.status_code == 200, r.text
    names = {n.get("claim"): n for n in r.json()["names"]}
    assert names[married]["start"] == "1925" and "end" not in names[married]
    assert names[married]["name_kind"] == "married"
