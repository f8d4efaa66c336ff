"""Companions in populations over HTTP (issue 10, item 3): a custody claim's `with` puts its
companions at the place too, as named persons with the certainty of the claim's person, listed
with the claim's id; each companion's open end is bounded by their own next dated custody
elsewhere or death; the timeline counts them. All names here are invented ("not historical")."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import Api
from tests.api.test_groups import World, held


@pytest.fixture
def world(api: Api) -> World:
    return World(api, api.source("A test memoir (not historical)"))


def custody(world: World, place: str, start: str | None = None, end: str | None = None,
            **extra: Any) -> str:
    body: dict[str, Any] = {"kind": "custody", "place": place, "custody": "prison", **extra}
    for key, value in (("start", start), ("end", end)):
        if value is not None:
            body[key] = value
    return world.claim(body)


def test_companions_are_held_with_the_claims_person(world: World) -> None:
    prison = world.place("Test Prison", "prison")
    p, c1, c2 = world.person("Prisoner"), world.person("Companion One"), world.person("Companion Two")
    claim = custody(world, prison, "1940", "1942", person=p, **{"with": [c1, c2]})
    body = world.population(prison, "1941")
    assert held(body, "certain") == {
        p: {"id": p, "name": "Prisoner (not historical)", "claims": [claim]},
        c1: {"id": c1, "name": "Companion One (not historical)", "claims": [claim]},
        c2: {"id": c2, "name": "Companion Two (not historical)", "claims": [claim]}}
    assert (body["count_min"], body["count_max"]) == (3, 3)
    # where the claim's person is possible, so are the companions
    edge = world.population(prison, "1942-06")
    assert set(held(edge, "possible")) == {p, c1, c2} and held(edge, "certain") == {}
    assert world.population(prison, "1943")["count_max"] == 0


def test_a_companion_held_on_their_own_claim_too_is_listed_once(world: World) -> None:
    prison = world.place("Test Prison", "prison")
    p, c = world.person("Prisoner"), world.person("Companion")
    shared = custody(world, prison, "1940", "1942", person=p, **{"with": [c]})
    own = custody(world, prison, "1941-05-01", "1941-06-01", person=c)
    body = world.population(prison, "1941-05")
    assert held(body, "certain")[c]["claims"] == [shared, own]
    assert (body["count_min"], body["count_max"]) == (2, 2)


def test_companions_of_a_group_are_named_persons_beside_the_group(world: World) -> None:
    camp = world.place("Test Camp")
    group = world.organization("Test Group")
    c = world.person("Companion")
    claim = world.stay(group, camp, "1940", "1941", count=12, **{"with": [c]})
    body = world.population(camp, "1940")
    assert held(body, "certain") == {c: {"id": c, "name": "Companion (not historical)",
                                         "claims": [claim]}}
    assert [g["id"] for g in body["groups"]] == [group]
    assert (body["count_min"], body["count_max"]) == (1, 1)  # the group's 12 never added in


def test_each_companions_open_end_is_bounded_by_their_own_next_stay(world: World) -> None:
    prison, camp = world.place("Test Prison", "prison"), world.place("Test Camp")
    p, c = world.person("Prisoner"), world.person("Companion")
    claim = custody(world, prison, "1937", person=p, **{"with": [c]})  # no end
    body = world.population(prison, "1950")
    assert set(held(body, "possible")) == {p, c} and body["open"] == [claim]
    assert all(h["open_end"] for h in body["possible"])
    custody(world, camp, "1945", "1947", person=c)  # the companion's next stay elsewhere
    body = world.population(prison, "1950")
    assert set(held(body, "possible")) == {p}  # the companion is bounded, the person is not
    assert body["open"] == [claim]
    earlier = world.population(prison, "1944")
    assert set(held(earlier, "possible")) == {p, c}
    assert "open_end" not in held(earlier, "possible")[c] and held(earlier, "possible")[p]["open_end"]
    # a death bounds a companion too
    world.claim({"kind": "death", "person": p, "date": "1939"})
    assert world.population(prison, "1941")["possible"] == [
        {"id": c, "name": "Companion (not historical)", "claims": [claim]}]


def test_the_timeline_counts_companions(world: World) -> None:
    prison = world.place("Test Prison", "prison")
    p, c = world.person("Prisoner"), world.person("Companion")
    custody(world, prison, "1940-06", "1941-06", person=p, **{"with": [c]})
    items = world.api.get(f"/places/{prison}/population/timeline", step="year").json()["items"]
    assert [(i["period"], i["count_min"], i["count_max"]) for i in items] == [
        ("1940", 2, 2), ("1941", 2, 2)]
    months = world.api.get(f"/places/{prison}/population/timeline", step="month",
                           **{"from": "1940-05", "to": "1940-07"}).json()["items"]
    assert [(i["count_min"], i["count_max"]) for i in months] == [(0, 0), (2, 2), (2, 2)]


def test_a_merged_companion_shows_as_the_survivor(world: World) -> None:
    prison = world.place("Test Prison", "prison")
    p, c, twin = world.person("Prisoner"), world.person("Companion"), world.person("Companion Again")
    claim = custody(world, prison, "1940", "1942", person=p, **{"with": [twin]})
    r = world.api.post(f"/persons/{twin}/merge", {"into": c, "reason": "the same man (test)"}, "bob")
    assert r.status_code in (200, 201), r.text
    body = world.population(prison, "1941")
    assert held(body, "certain")[c]["claims"] == [claim] and twin not in held(body, "certain")
