"""Groups as the subject of any kind that takes a person (issue 20, item 2) over HTTP, on both
backends: sentence, accusation, occupation, affiliation, death, execution, labour, letter and
relation take `group` and `count` as custody does; the group's record shows them as its own
timeline; `GET /claims?group=` lists them; a member's biography shows them (and the group's own
custody) "through" the group with the membership's certainty, recomputed when the group's
claims or the memberships change; what such a claim cannot say answers 422. All names here are
invented ("not historical")."""

from __future__ import annotations

from typing import Any

import pytest

from starosta.projections.runner import content_hash
from starosta.service.db import open_archive
from tests.api.conftest import Api, assert_problem, rebuild
from tests.api.test_groups import World


@pytest.fixture
def world(api: Api) -> World:
    return World(api, api.source("A test memoir (not historical)"))


def biography(world: World, person: str, who: str | None = None, **params: Any) -> dict:
    r = world.api.get(f"/persons/{person}/biography", who, **params)
    assert r.status_code == 200, r.text
    return r.json()


def through(bio: dict) -> dict[str, dict]:
    """claim id -> entry, of the entries a biography shows through a group."""
    return {e["claim"]: e for e in bio["timeline"] if e.get("through") == "group"}


# One body per kind that now takes a group, each with the fields its kind needs
BODIES: dict[str, dict[str, Any]] = {
    "sentence": {"sentence": "penal_servitude", "term": "8 years' penal servitude",
                 "term_iso": "P8Y", "date": "1940"},
    "accusation": {"accusation": "being Trotskyists", "date": "1940"},
    "occupation": {"occupation": "shepherds"},
    "affiliation": {"affiliation": "anarchist", "start": "1930"},
    "death": {"date": "1942", "manner": "died_in_camp"},
    "execution": {"date": "1938"},
    "labour": {"labour": "felling trees", "start": "1941", "end": "1943"},
    "letter": {"date": "1926-05"},
    "relation": {"relation": "comrade"},
}


def test_each_of_the_nine_kinds_takes_a_group_and_the_group_record_shows_it(world: World) -> None:
    group = world.organization("Test Pilots")
    other = world.person("Test Comrade")
    court = world.organization("Test Court", "tribunal")
    made = {}
    for kind, fields in BODIES.items():
        body = {"kind": kind, "group": group, **fields}
        if kind == "relation":
            body["other"] = other
        if kind == "sentence":
            body.update(count=8, authority=court)
        made[kind] = world.claim(body)
    r = world.api.get(f"/organizations/{group}")
    assert r.status_code == 200, r.text
    steps = {s["claim"]: s for s in r.json()["timeline"]}
    assert set(steps) == set(made.values())
    sentence = steps[made["sentence"]]
    assert sentence["kind"] == "sentence" and sentence["count"] == 8
    assert sentence["dates"] == {"date": "1940"} and sentence["earliest"] == "1940-01-01"
    assert sentence["fields"] == {"sentence": "penal_servitude", "term": "8 years' penal servitude",
                                  "term_iso": "P8Y",
                                  "authority": {"id": court, "label": "Test Court (not historical)"}}
    assert steps[made["accusation"]]["fields"] == {"accusation": "being Trotskyists"}
    assert steps[made["occupation"]]["fields"] == {"occupation": "shepherds"}
    assert steps[made["death"]]["fields"] == {"manner": "died_in_camp"}
    assert steps[made["relation"]]["fields"]["other"] == {
        "id": other, "label": "Test Comrade (not historical)"}
    assert steps[made["labour"]]["latest"] == "1943-12-31"
    # undated ones come last, in submission order
    assert [s["claim"] for s in r.json()["timeline"]][-2:] == [made["occupation"], made["relation"]]


def test_the_claims_of_a_group_are_listed_by_group(world: World) -> None:
    group, elsewhere = world.organization("Test Group"), world.organization("Other Group")
    member = world.person("Test Member")
    membership = world.member(member, group)
    sentence = world.claim({"kind": "sentence", "group": group, "sentence": "camp"})
    stay = world.stay(group, world.place("Test Camp"), "1941")
    world.claim({"kind": "sentence", "group": elsewhere, "sentence": "exile"})
    pending = world.claim({"kind": "accusation", "group": group, "accusation": "sabotage"},
                          approved=False)
    r = world.api.get("/claims", group=group)
    assert r.status_code == 200, r.text
    assert [c["id"] for c in r.json()["items"]] == [sentence, stay]  # not the membership
    assert r.json()["items"][0]["refs"]["group"]["id"] == group
    r = world.api.get("/claims", "bob", group=group, status="pending")
    assert [c["id"] for c in r.json()["items"]] == [pending]
    r = world.api.get("/claims", group=group, kind="sentence")
    assert [c["id"] for c in r.json()["items"]] == [sentence]
    assert membership not in {c["id"] for c in world.api.get("/claims", group=group).json()["items"]}
    assert world.api.get("/claims", group="O-NOSUCH").json()["items"] == []


@pytest.mark.parametrize("body, field, words", [
    ({"person": "{person}", "group": "{group}"}, "group", "exactly one of person and group"),
    ({}, "person", "exactly one of person and group"),
    ({"person": "{person}", "count": 3}, "count", "a count goes with a group"),
    ({"group": "{union}"}, "group", "not a group"),
])
def test_what_a_group_subject_cannot_say_is_422(world: World, body: dict, field: str,
                                                words: str) -> None:
    ids = {"{person}": world.person("Test Person"), "{group}": world.organization("Test Group"),
           "{union}": world.organization("Test Union", "union")}
    full = {"kind": "sentence", "sentence": "camp", "citation": {"source": world.source},
            **{k: ids.get(v, v) if isinstance(v, str) else v for k, v in body.items()}}
    assert_problem(world.api.post("/claims", full), 422, words, f"{field}=")


def test_an_unknown_group_is_404_and_a_typo_in_count_422(world: World) -> None:
    r = world.api.post("/claims", {"kind": "death", "group": "O-NOSUCHID", "citation": {"source": world.source}})
    assert_problem(r, 404, "O-NOSUCHID")
    group = world.organization("Test Group")
    r = world.api.post("/claims", {"kind": "death", "group": group, "count": -1,
                                   "citation": {"source": world.source}})
    assert_problem(r, 422, "count")
    r = world.api.post("/claims", {"kind": "death", "group": group, "count": {"min": 5, "max": 2},
                                   "citation": {"source": world.source}})
    assert_problem(r, 422, "count", "min is above its max")


def test_a_member_reads_the_group_statements_through_the_group(world: World) -> None:
    group = world.organization("Test Pilots")
    camp = world.place("Test Camp")
    sure, doubtful = world.person("Sure Member"), world.person("Doubtful Member")
    outsider = world.person("Not A Member")
    m_sure = world.member(sure, group)
    m_doubt = world.claim({"kind": "membership", "person": doubtful, "organization": group,
                           "certainty": "possible"})
    sentence = world.claim({"kind": "sentence", "group": group, "count": 8, "sentence": "penal_servitude",
                            "term": "8 years", "date": "1940"})
    accusation = world.claim({"kind": "accusation", "group": group, "accusation": "Trotskyists",
                              "date": "1940"})
    death = world.claim({"kind": "death", "group": group, "date": "1942"})
    stay = world.stay(group, camp, "1941", "1943")  # the group's own custody (issue 10)
    own = world.claim({"kind": "custody", "person": sure, "custody": "prison", "place": camp,
                       "start": "1939", "end": "1940"})
    bio = biography(world, doubtful)
    entries = through(bio)
    assert set(entries) == {sentence, accusation, death, stay}
    assert entries[sentence]["member_of"] == {
        "group": {"id": group, "label": "Test Pilots (not historical)"},
        "memberships": [{"claim": m_doubt, "certainty": "possible"}]}
    assert entries[sentence]["fields"]["group"]["id"] == group
    assert entries[sentence]["fields"]["count"] == 8
    assert [e["claim"] for e in bio["deaths"]] == [death]
    # the group's custody is shown, never counted in the member's own figures
    assert bio["custody"]["confinement"]["episodes"] == 0
    assert bio["conflicts"] == []
    mine = biography(world, sure)
    assert own in {e["claim"] for e in mine["timeline"]} and own not in through(mine)
    assert through(mine)[stay]["member_of"]["memberships"] == [{"claim": m_sure}]
    # the timeline keeps its date order across the person's own claims and the group's
    order = [e["claim"] for e in mine["timeline"]]  # same dates: by claim id
    assert order == [own, *sorted([sentence, accusation]), stay, death, m_sure]
    assert through(biography(world, outsider)) == {}


def test_a_membership_reaches_only_the_statements_its_days_may_meet(world: World) -> None:
    group = world.organization("Test Group")
    early, late = world.person("Early Member"), world.person("Late Member")
    world.member(early, group, "1930", "1932")
    world.member(late, group, "1939")
    before = world.claim({"kind": "occupation", "group": group, "occupation": "farmers",
                          "start": "1931", "end": "1931"})
    after = world.claim({"kind": "sentence", "group": group, "sentence": "camp", "date": "1940"})
    undated = world.claim({"kind": "occupation", "group": group, "occupation": "shearers"})
    assert set(through(biography(world, early))) == {before, undated}
    assert set(through(biography(world, late))) == {after, undated}


def test_the_member_documents_follow_the_claims_and_the_memberships(world: World) -> None:
    group = world.organization("Test Group")
    member = world.person("Test Member")
    sentence = world.claim({"kind": "sentence", "group": group, "sentence": "camp"}, approved=False)
    membership = world.claim({"kind": "membership", "person": member, "organization": group,
                              "certainty": "probable"})
    assert through(biography(world, member)) == {}  # pending: no public document shows it
    assert set(through(biography(world, member, "bob", include="pending"))) == {sentence}
    r = world.api.post(f"/claims/{sentence}/approve", {}, "bob")
    assert r.status_code == 200, r.text
    entry = through(biography(world, member))[sentence]
    assert entry["member_of"]["memberships"] == [{"claim": membership, "certainty": "probable"}]
    # a correction of the group's claim replaces it in the member's document
    fixed = world.claim({"kind": "sentence", "group": group, "sentence": "exile", "supersedes": sentence})
    assert set(through(biography(world, member))) == {fixed}
    # the membership contested (disputed, still shown) and then rejected: the group's claims go
    r = world.api.post(f"/claims/{membership}/contest", {"reason": "another man of that name"}, "carol")
    assert r.status_code == 200, r.text
    assert set(through(biography(world, member))) == {fixed}
    r = world.api.post(f"/claims/{membership}/reject", {"reason": "another man"}, "bob")
    assert r.status_code == 200, r.text
    assert through(biography(world, member)) == {}
    # a new membership brings them back
    world.member(member, group)
    assert set(through(biography(world, member))) == {fixed}
    # the group's claim suppressed: readers no longer read it through the group
    r = world.api.post(f"/claims/{fixed}/suppress", {"reason": "privacy request"}, "root")
    assert r.status_code == 200, r.text
    assert through(biography(world, member)) == {}
    assert set(through(biography(world, member, "bob", include="pending"))) == {fixed}


def test_an_as_of_biography_shows_the_group_statements_as_they_stood(world: World) -> None:
    group = world.organization("Test Group")
    member = world.person("Test Member")
    membership = world.claim({"kind": "membership", "person": member, "organization": group},
                             approved=False)
    sentence = world.claim({"kind": "sentence", "group": group, "sentence": "camp", "date": "1940"})
    before = world.api.post(f"/claims/{membership}/approve", {}, "bob").json()["history"][-1]["position"]
    death = world.claim({"kind": "death", "group": group, "date": "1942"}, approved=False)
    approved = world.api.post(f"/claims/{death}/approve", {}, "bob").json()["history"][-1]["position"]
    fixed = world.claim({"kind": "sentence", "group": group, "sentence": "exile", "date": "1940",
                         "supersedes": sentence})
    assert set(through(biography(world, member, as_of=before - 1))) == set()  # not yet a member
    assert set(through(biography(world, member, as_of=before))) == {sentence}
    assert set(through(biography(world, member, as_of=approved))) == {sentence, death}
    now = biography(world, member)
    assert set(through(now)) == {fixed, death}
    assert set(through(biography(world, member, as_of=10**9))) == set(through(now))


def test_a_relation_of_a_group_turns_round_in_the_other_biography(world: World) -> None:
    group = world.organization("Test Group")
    other = world.person("Test Relative")
    relation = world.claim({"kind": "relation", "group": group, "count": 3, "other": other,
                            "relation": "parent"})
    bio = biography(world, other)
    entry = next(e for e in bio["timeline"] if e["claim"] == relation)
    assert entry["fields"]["person"]["id"] == other and entry["fields"]["other"]["id"] == group
    assert entry["fields"]["relation"] == "child" and "group" not in entry["fields"]
    assert entry["fields"]["as_stated"]["group"]["id"] == group
    assert entry["fields"]["as_stated"]["count"] == 3


def test_the_read_models_rebuilt_from_the_log_equal_the_live_ones(world: World, db_path: str) -> None:
    group = world.organization("Test Group")
    member = world.person("Test Member")
    world.member(member, group)
    world.claim({"kind": "sentence", "group": group, "sentence": "camp", "count": {"min": 4, "max": 5}})
    world.claim({"kind": "death", "group": group, "date": "1942"})
    world.stay(group, world.place("Test Camp"), "1941")
    before = biography(world, member)
    archive = open_archive(db_path)
    try:
        for name in ("population", "biographies"):
            projection = next(p for p in archive.runner.projections if p.name == name)
            live = content_hash(archive.store.reader(), list(projection.ddl))
            assert rebuild(archive, name) == live, name
    finally:
        archive.store.close()
    assert biography(world, member) == before
