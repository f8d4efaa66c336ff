"""Conflicts and agreements for every fact with one value and for claims told as one event
(issue 22, item 1), over HTTP on SQLite and PostgreSQL: births, deaths and executions are
compared by their dates' bounds and their places and authorities; arrests (any kind) are
compared once a claim says `same_event`; the narrower date refines the wider (an agreement
with a precision note), only values that cannot both be true conflict."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import Api, assert_problem


def cite(source: str, locator: str = "p. 1") -> dict[str, str]:
    return {"source": source, "locator": locator}


def submit(api: Api, body: dict, who: str = "alice") -> str:
    r = api.post("/claims", body, who)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def approve(api: Api, *claims: str) -> None:
    for claim in claims:
        r = api.post(f"/claims/{claim}/approve", {}, "bob")
        assert r.status_code == 200, r.text


def bio(api: Api, person: str) -> dict[str, Any]:
    r = api.get(f"/persons/{person}/biography")
    assert r.status_code == 200, r.text
    return r.json()


def org(api: Api, name: str, source: str) -> str:
    r = api.post("/organizations", {"name": name, "kind": "organ", "citation": {"source": source}})
    assert r.status_code == 201, r.text
    return r.json()["id"]


@pytest.fixture
def world(api: Api) -> dict[str, str]:
    memoir = api.source("10 Años en la URSS")
    memorial = api.source("Memorial: Victims of Political Terror")
    return {"memoir": memoir, "memorial": memorial,
            "person": api.person("Vicente Monclús Guallar", memoir),
            "butyrka": api.place("Butyrka", memoir), "lubyanka": api.place("Lubyanka", memoir),
            "nkvd": org(api, "NKVD", memoir), "troika": org(api, "Troika of the NKVD", memoir)}


def test_born_1899_and_born_2_may_1899_agree_with_a_precision_note(api: Api, world: dict) -> None:
    w = world
    wide = submit(api, {"kind": "birth", "person": w["person"], "date": "1899",
                        "citation": cite(w["memoir"])})
    exact = submit(api, {"kind": "birth", "person": w["person"], "date": "1899-05-02",
                         "citation": cite(w["memorial"])})
    approve(api, wide, exact)
    body = bio(api, w["person"])
    assert [c for c in body["conflicts"] if c["kind"] == "birth"] == []
    [agreement] = [a for a in body["agreements"] if a["kind"] == "birth"]
    assert agreement["claims"] == [wide, exact]
    assert agreement["sources"] == [w["memoir"], w["memorial"]]
    assert agreement["independent"] is True and agreement["same_event"] is False
    assert agreement["notes"] == [f"{exact} makes {wide}'s date precise"]
    # a third, another year: cannot be true with either; it conflicts, the two still agree
    other = submit(api, {"kind": "birth", "person": w["person"], "date": "1900",
                         "citation": cite(w["memoir"], "p. 3")})
    approve(api, other)
    body = bio(api, w["person"])
    [conflict] = [c for c in body["conflicts"] if c["kind"] == "birth"]
    assert conflict["claims"] == [wide, exact, other] and conflict["fields"] == ["date"]
    assert conflict["sources"] == [w["memoir"], w["memorial"]]
    assert conflict["independent"] is False  # two of them cite the memoir
    assert [a["claims"] for a in body["agreements"] if a["kind"] == "birth"] == [[wide, exact]]


def test_two_executions_at_different_places_conflict(api: Api, world: dict) -> None:
    w = world
    shot = submit(api, {"kind": "execution", "person": w["person"], "date": "1938",
                        "place": w["butyrka"], "citation": cite(w["memoir"])})
    again = submit(api, {"kind": "execution", "person": w["person"], "date": "1938-03",
                         "place": w["lubyanka"], "citation": cite(w["memorial"])})
    approve(api, shot, again)
    [conflict] = [c for c in bio(api, w["person"])["conflicts"] if c["kind"] == "execution"]
    assert conflict["claims"] == [shot, again] and conflict["fields"] == ["place"]
    assert conflict["independent"] is True
    assert "place" in conflict["detail"]


def test_arrests_told_as_one_event_are_compared(api: Api, world: dict) -> None:
    w = world
    first = submit(api, {"kind": "arrest", "person": w["person"], "date": "1937-07",
                         "place": w["butyrka"], "organ": w["nkvd"], "citation": cite(w["memoir"])})
    # a second arrest, not linked: two arrests, nothing compared
    unlinked = submit(api, {"kind": "arrest", "person": w["person"], "date": "1939",
                            "citation": cite(w["memorial"])})
    agreeing = submit(api, {"kind": "arrest", "person": w["person"], "date": "1937-07-25",
                            "organ": w["nkvd"], "same_event": first,
                            "citation": cite(w["memorial"])})
    approve(api, first, unlinked, agreeing)
    body = bio(api, w["person"])
    assert [c for c in body["conflicts"] if c["kind"] == "arrest"] == []
    [agreement] = [a for a in body["agreements"] if a["kind"] == "arrest"]
    assert agreement["claims"] == [first, agreeing] and agreement["same_event"] is True
    assert agreement["notes"] == [f"{agreeing} makes {first}'s date precise"]
    # a third source tells the same arrest a year later, by another organ: a conflict
    later = submit(api, {"kind": "arrest", "person": w["person"], "date": "1938",
                         "organ": w["troika"], "same_event": agreeing,
                         "citation": cite(w["memorial"], "p. 7")})
    approve(api, later)
    [conflict] = [c for c in bio(api, w["person"])["conflicts"] if c["kind"] == "arrest"]
    assert conflict["claims"] == [first, agreeing, later] and conflict["same_event"] is True
    assert conflict["fields"] == ["date", "organ"]
    assert unlinked not in conflict["claims"]


def test_same_event_names_a_visible_claim_of_the_same_kind(api: Api, world: dict) -> None:
    w = world
    arrest = submit(api, {"kind": "arrest", "person": w["person"], "date": "1937",
                          "citation": cite(w["memoir"])})
    body = {"kind": "arrest", "person": w["person"], "date": "1937",
            "citation": cite(w["memorial"])}
    # pending and dave's to see: one 404 text for a hidden claim and for an unknown id
    hidden = api.post("/claims", {**body, "same_event": arrest}, "dave")
    unknown = api.post("/claims", {**body, "same_event": "C-ZZZZZZZZ"}, "dave")
    for r, value in ((hidden, arrest), (unknown, "C-ZZZZZZZZ")):
        problem = assert_problem(r, 404, "same_event")
        assert value in problem["detail"]
    assert hidden.json()["detail"].replace(arrest, "X") == \
        unknown.json()["detail"].replace("C-ZZZZZZZZ", "X")
    sentence = {"kind": "sentence", "person": w["person"], "sentence": "camp", "date": "1937",
                "same_event": arrest, "citation": cite(w["memorial"])}
    problem = assert_problem(api.post("/claims", sentence), 422, "same_event")
    assert "one kind" in problem["detail"]
    linked = submit(api, {**body, "same_event": arrest})
    r = api.get(f"/claims/{linked}", "alice")
    assert r.status_code == 200 and r.json()["claim"]["same_event"] == arrest


def test_a_single_date_property_compares_bounds_and_one_value_key_agrees(api: Api, world: dict) -> None:
    w = world
    r = api.post("/properties", {"key": "rehabilitated_on", "label": "rehabilitated on",
                                 "datatype": "date", "single": True, "applies_to": ["person"]},
                 "root")
    assert r.status_code == 201, r.text

    def told(value: str, source: str, locator: str = "p. 1") -> str:
        return submit(api, {"kind": "statement", "subject": w["person"],
                            "property": "rehabilitated_on", "value": value,
                            "citation": cite(source, locator)})

    year, day = told("1989", w["memoir"]), told("1989-01-16", w["memorial"])
    approve(api, year, day)
    body = bio(api, w["person"])
    assert body["conflicts"] == []
    [agreement] = [a for a in body["agreements"] if a["kind"] == "statement"]
    assert agreement["claims"] == [year, day]
    assert agreement["notes"] == [f"{day} makes {year}'s value precise"]
    other = told("1991", w["memorial"], "p. 2")
    approve(api, other)
    [conflict] = bio(api, w["person"])["conflicts"]
    assert conflict["kind"] == "statement" and conflict["fields"] == ["value"]
    assert conflict["claims"] == [year, day, other]
    assert "rehabilitated_on" in conflict["detail"]



def test_around_1925_does_not_conflict_with_1924(api: Api, world: dict) -> None:
    """One rule of date margins (D5) for conflicts too: "around 1925" may be 1924, so births
    of 1924 and 1925~ are no conflict; 1922 cannot be around 1925."""
    w = world
    b1924 = submit(api, {"kind": "birth", "person": w["person"], "date": "1924", "citation": cite(w["memoir"])})
    about = submit(api, {"kind": "birth", "person": w["person"], "date": "1925~",
                         "citation": cite(w["memorial"])})
    approve(api, b1924, about)
    assert not [c for c in bio(api, w["person"])["conflicts"] if c["kind"] == "birth"]
    b1922 = submit(api, {"kind": "birth", "person": w["person"], "date": "1922", "citation": cite(w["memoir"], "p. 2")})
    approve(api, b1922)
    [conflict] = [c for c in bio(api, w["person"])["conflicts"] if c["kind"] == "birth"]
    assert {about, b1922} <= set(conflict["claims"]) and conflict["fields"] == ["date"]
