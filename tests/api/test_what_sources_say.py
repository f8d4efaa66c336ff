"""Companions, ranges, durations and transmission as biographies show them (issue 10, items 3,
4, 5 and 8). All data here is synthetic (not historical)."""

from __future__ import annotations

from tests.api.conftest import Api, assert_problem


def approve(api: Api, *claims: str) -> None:
    for claim in claims:
        r = api.post(f"/claims/{claim}/approve", {"reason": "checked"}, "bob")
        assert r.status_code == 200, r.text


def bio(api: Api, person: str) -> dict:
    r = api.get(f"/persons/{person}/biography")
    assert r.status_code == 200, r.text
    return r.json()


def test_an_escape_s_companions_see_it_in_their_biographies(api: Api) -> None:
    s = api.source("Synthetic memoir (test, not historical)")
    leader, a, b = (api.person(f"Test Escaper {n} (synthetic)", s) for n in "XYZ")
    camp = api.place("Test Camp (synthetic)", s, kind="camp")
    claim = api.claim({"kind": "escape", "person": leader, "with": [a, b], "outcome": "recaptured",
                       "date": "1940-09/1941-09", "place": camp, "citation": {"source": s}})
    approve(api, claim)
    (mine,) = [e for e in bio(api, leader)["timeline"] if e["claim"] == claim]
    assert "through" not in mine and "roles" not in mine
    # `with` is stored as participants in role companion (issue 20)
    assert [(r["ref"]["id"], r["role"]) for r in mine["fields"]["participants"]] == \
        [(a, "companion"), (b, "companion")]
    assert "with" not in mine["fields"]
    assert mine["fields"]["participants"][0]["ref"]["label"] == "Test Escaper Y (synthetic)"
    for companion in (a, b):
        (theirs,) = [e for e in bio(api, companion)["timeline"] if e["claim"] == claim]
        assert theirs["through"] == "participant" and theirs["roles"] == ["companion"]
        assert theirs["fields"]["person"]["id"] == leader
    refs = api.get(f"/claims/{claim}").json()["refs"]
    assert refs["participants[0].ref"]["id"] == a and refs["participants[1].ref"]["id"] == b
    for bad, field in (([a, a], "with"), ([leader], "with"), (["P-ZZZZZZZZ"], "with")):
        body = {"kind": "escape", "person": leader, "with": bad, "outcome": "escaped",
                "citation": {"source": s}}
        problem = assert_problem(api.post("/claims", body), 404 if bad[0] == "P-ZZZZZZZZ" else 422)
        assert problem["errors"][0]["field"] == field


def test_a_group_claim_names_exactly_one_of_person_and_group(api: Api) -> None:
    s = api.source()
    person = api.person("Test Person (synthetic)", s)
    group = api.post("/organizations", {"name": "Test Group (synthetic)", "kind": "group",
                                        "citation": {"source": s}})
    assert group.status_code == 201, group.text
    union = api.post("/organizations", {"name": "Test Union (synthetic)", "kind": "union",
                                        "citation": {"source": s}}).json()["id"]
    base = {"kind": "transfer", "date": "1941", "citation": {"source": s}}
    cases = [({"person": person, "group": group.json()["id"]}, "group"),
             ({}, "person"),
             ({"group": union}, "group"),
             ({"person": person, "count": 4}, "count"),
             ({"group": group.json()["id"], "count": {"min": 20, "max": 4}}, "count")]
    for extra, field in cases:
        problem = assert_problem(api.post("/claims", {**base, **extra}), 422, field)
        assert problem["errors"][0]["field"] == field, (extra, problem)
    assert api.post("/claims", {**base, "group": group.json()["id"],
                                "count": {"min": 4, "max": 20}}).status_code == 201


def test_ranges_of_counts_and_allowances(api: Api) -> None:
    s = api.source()
    place = api.place("Test Colony (synthetic)", s, kind="exile")
    person = api.person("Test Exile (synthetic)", s)
    allowance = api.claim({"kind": "allowance", "person": person, "amount": {"min": "10", "max": "12"},
                           "currency": "SUR", "period": "month", "start": "1926",
                           "citation": {"source": s}})
    assert api.get(f"/claims/{allowance}", "alice").json()["claim"]["amount"] == {"min": "10", "max": "12"}
    for amount in ({"min": "12", "max": "10"}, {"min": 10, "max": 12}, {"min": "10"}):
        body = {"kind": "allowance", "person": person, "amount": amount, "currency": "SUR",
                "period": "month", "citation": {"source": s}}
        assert_problem(api.post("/claims", body), 422, "amount")
    aggregate = api.claim({"kind": "aggregate", "place": place, "group": "comrades",
                           "count": {"min": 4, "max": 20}, "date": "1926",
                           "of_whom": [{"count": {"min": 1, "max": 2}, "what": "ill"}],
                           "citation": {"source": s}})
    assert api.get(f"/claims/{aggregate}", "alice").json()["claim"]["count"] == {"min": 4, "max": 20}
    body = {"kind": "aggregate", "place": place, "group": "comrades", "count": {"min": 5, "max": 4},
            "citation": {"source": s}}
    assert_problem(api.post("/claims", body), 422, "count")


def test_a_duration_narrows_the_dates_and_bounds_the_total(api: Api) -> None:
    s = api.source()
    person = api.person("Test Prisoner (synthetic)", s)
    prison = api.place("Test Prison (synthetic)", s)
    claim = api.claim({"kind": "custody", "person": person, "place": prison, "custody": "prison",
                       "start": "1938", "duration": "P6M", "citation": {"source": s}})
    out = api.get(f"/claims/{claim}", "alice").json()
    # six months from some day of 1938: from 1938-01-01 to 1938-06-30 at the earliest, from
    # 1938-12-31 to 1939-06-29 at the latest (31 December plus six months is cut to 30 June)
    assert out["dates"]["end"]["earliest"] == "1938-06-30"
    assert out["dates"]["end"]["latest"] == "1939-06-29"
    assert out["dates"]["end"]["edtf"] == "[1938-06-30..1939-06-29]"
    assert out["length"] == {"duration": "P6M", "min_days": 181, "max_days": 184,
                             "narrowed": ["end"]}
    approve(api, claim)
    confinement = bio(api, person)["custody"]["confinement"]
    assert confinement["min_days"] >= 181 and confinement["open_episodes"] == []
    # a duration alone (no dates) still bounds the total from below
    other = api.person("Test Prisoner 2 (synthetic)", s)
    approve(api, api.claim({"kind": "custody", "person": other, "place": prison, "custody": "prison",
                            "duration": "P6M", "citation": {"source": s}}))
    assert bio(api, other)["custody"]["confinement"]["min_days"] == 181
    # contradictions and malformed durations are refused, naming the field
    for extra in ({"start": "1938-01-01", "end": "1938-02-01", "duration": "P6M"},
                  {"duration": "P0D"}, {"duration": "6 months"}, {"duration": "P1.5Y"}):
        body = {"kind": "custody", "person": person, "place": prison, "custody": "prison",
                "citation": {"source": s}, **extra}
        problem = assert_problem(api.post("/claims", body), 422, "duration")
        assert problem["errors"][0]["field"] == "duration"


def test_sources_that_share_an_ancestor_are_not_independent(api: Api) -> None:
    original = api.source("Synthetic memoir (test, not historical)")
    translation = api.source("Synthetic memoir, English translation (test)")
    other = api.source("Synthetic bulletin (test)")
    person = api.person("Test Person (synthetic)", original)
    a = api.claim({"kind": "birth", "person": person, "date": "1900",
                   "citation": {"source": original, "locator": "p. 1"}})
    b = api.claim({"kind": "birth", "person": person, "date": "1900",
                   "citation": {"source": translation, "locator": "p. 2",
                                "via": [{"source": original, "relation": "translation_of"}]}})
    c = api.claim({"kind": "birth", "person": person, "date": "1901",
                   "citation": {"source": other}})
    approve(api, a, b, c)
    body = bio(api, person)
    (agreement,) = body["agreements"]
    assert agreement["claims"] == [a, b] and agreement["independent"] is False
    (conflict,) = body["conflicts"]
    assert conflict["claims"] == [a, b, c] and conflict["independent"] is False
    (entry,) = [e for e in body["births"] if e["claim"] == b]
    assert entry["citation"]["via"] == [{"source": {"id": original, "label":
                                         "Synthetic memoir (test, not historical)"},
                                         "relation": "translation_of"}]
    # a via link to an unknown source, or to the cited source itself, is refused
    for link, status in (({"source": "S-ZZZZZZZZ", "relation": "reprint_of"}, 404),
                         ({"source": translation, "relation": "reprint_of"}, 422),
                         ({"source": original, "relation": "copy_of"}, 422)):
        body = {"kind": "birth", "person": person, "date": "1900",
                "citation": {"source": translation, "via": [link]}}
        assert_problem(api.post("/claims", body), status)


def test_a_source_shows_what_it_derives_from_and_what_derives_from_it(api: Api) -> None:
    original = api.source("Synthetic memoir (test, not historical)")
    translation = api.source("Synthetic translation (test)")
    person = api.person("Test Person (synthetic)", original)
    claim = api.claim({"kind": "birth", "person": person, "date": "1900",
                       "citation": {"source": translation, "via": [
                           {"source": original, "relation": "translation_of"}, "as retold"]}})
    assert api.get(f"/sources/{translation}").json()["derives_from"] == []  # pending: not yet
    approve(api, claim)
    mine = api.get(f"/sources/{translation}").json()
    assert mine["derives_from"] == [{"source": {"id": original, "label":
                                                "Synthetic memoir (test, not historical)"},
                                     "relation": "translation_of", "claims": [claim]}]
    assert mine["derived"] == []
    theirs = api.get(f"/sources/{original}").json()
    assert [(d["source"]["id"], d["relation"]) for d in theirs["derived"]] == \
        [(translation, "translation_of")]
