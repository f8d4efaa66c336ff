"""Properties, statements and qualifiers through the real HTTP API, on both backends: the
vocabulary (seeded and admin-registered, usable at once, surviving a rebuild), values checked
by datatype (422 naming the field), `GET /claims?property=&value=`, biographies (statements
grouped by property, qualifiers beside their claim, a single-valued property's conflict) and
the search by an external identifier."""

from __future__ import annotations

import pytest

from starosta.projections import claims as claims_model
from starosta.projections import registry, search
from starosta.projections.runner import content_hash
from tests.api.conftest import Api, assert_problem, rebuild


@pytest.fixture
def source(api: Api) -> str:
    return api.source("Memorial record cards")


def approve(api: Api, claim_id: str) -> None:
    r = api.post(f"/claims/{claim_id}/approve", {}, "bob")
    assert r.status_code == 200, r.text


def statement(api: Api, subject: str, prop: str, value, source: str, **extra) -> str:
    return api.claim({"kind": "statement", "subject": subject, "property": prop, "value": value,
                      "citation": {"source": source}, **extra})


def test_the_vocabulary_is_listed_and_read_by_id_or_key(api: Api) -> None:
    items = api.get("/properties").json()["items"]
    keys = [p["key"] for p in items]
    assert keys[:3] == ["nationality", "citizenship", "education"] and "wikidata_id" in keys
    assert all(p["seeded"] for p in items)
    by_key = api.get("/properties/stated_age").json()
    assert by_key == api.get(f"/properties/{by_key['id']}").json()
    assert by_key["datatype"] == "quantity" and by_key["unit"] == "years"
    assert_problem(api.get("/properties/no_such_thing"), 404, "no_such_thing")


def test_a_property_registered_at_run_time_is_usable_at_once_and_survives_a_rebuild(
        api: Api, source: str) -> None:
    body = {"key": "gulag_museum_id", "label": "Gulag History Museum record",
            "datatype": "external_id", "single": True, "applies_to": ["person"],
            "url_pattern": "https://example.org/person/$1", "pattern": "[0-9]+"}
    assert_problem(api.post("/properties", body, "alice"), 403)  # admins only
    r = api.post("/properties", body, "root")
    assert r.status_code == 201, r.text
    prop = r.json()["id"]
    assert prop.startswith("PR-") and len(prop) == 11
    assert_problem(api.post("/properties", body, "root"), 409, "gulag_museum_id")
    assert_problem(api.post("/properties", {**body, "key": "nationality"}, "root"), 422, "key")
    assert_problem(api.post("/properties", {**body, "key": "other_id", "datatype": "string"},
                            "root"), 422, "url_pattern")
    person = api.person("Mollie Steimer", source)
    claim = statement(api, person, "gulag_museum_id", "1234", source)
    assert_problem(api.post("/claims", {"kind": "statement", "subject": person,
                                        "property": prop, "value": "12a",
                                        "citation": {"source": source}}), 422, "value", "[0-9]+")
    approve(api, claim)
    assert api.get(f"/claims/{claim}").json()["claim"]["property"] == "gulag_museum_id"  # as sent
    bio = api.get(f"/persons/{person}/biography").json()
    (group,) = bio["statements"]
    assert group["property"]["key"] == "gulag_museum_id" and group["single"] is True
    assert group["claims"][0]["fields"]["url"] == "https://example.org/person/1234"
    archive = api.client.app.state.archive
    live = content_hash(archive.store.reader(), list(registry.RegistryProjection.ddl))
    assert rebuild(archive, "registry") == live
    for name, model in (("search", search.SearchProjection), ("claims", claims_model.ClaimsProjection)):
        live = content_hash(archive.store.reader(), list(model.ddl))
        assert rebuild(archive, name) == live
    assert api.get("/properties/gulag_museum_id").json()["id"] == prop
    assert [p["key"] for p in api.get("/properties").json()["items"]][-1] == "gulag_museum_id"
    assert api.get("/persons", q="1234").json()["items"][0]["id"] == person
    again = statement(api, person, prop, "99", source)  # still usable after the rebuild, by id
    approve(api, again)
    by_key = api.get("/claims", property="gulag_museum_id", value="99").json()["items"]
    assert [c["id"] for c in by_key] == [again]  # named by id, found by key
    (group,) = api.get(f"/persons/{person}/biography").json()["statements"]
    assert [e["claim"] for e in group["claims"]] == [claim, again]  # one group: id and key
    assert api.get(f"/persons/{person}/biography").json()["conflicts"][0]["kind"] == "statement"


def test_values_are_checked_by_datatype_naming_the_field(api: Api, source: str) -> None:
    person = api.person("Santiago Guallar", source)
    death = {"kind": "death", "person": person, "date": "1990", "citation": {"source": source}}
    body = assert_problem(api.post("/claims", {**death, "qualifiers": [
        {"property": "article", "value": "58-10"},
        {"property": "stated_age", "value": "86"}]}), 422, "qualifiers[1].value", "86")
    assert body["errors"][0]["field"] == "qualifiers[1].value"
    assert_problem(api.post("/claims", {**death, "qualifiers": [
        {"property": "stated_agee", "value": "86"}]}), 422, "qualifiers[0].property", "stated_agee")
    assert_problem(api.post("/claims", {**death, "qualifiers": [
        {"property": "stated_age", "value": 86}]}), 422, "value")  # a number is refused: strings
    assert_problem(api.post("/claims", {"kind": "statement", "subject": person,
                                        "property": "residence", "value": "PL-00000000",
                                        "citation": {"source": source}}), 404, "value", "PL-00000000")
    assert_problem(api.post("/claims", {"kind": "statement", "subject": source,
                                        "property": "nationality", "value": "Spanish",
                                        "citation": {"source": source}}), 422, "subject", "person")
    assert_problem(api.post("/claims", {"kind": "statement", "subject": "P-00000000",
                                        "property": "nationality", "value": "Spanish",
                                        "citation": {"source": source}}), 404, "subject")
    assert_problem(api.post("/claims", {"kind": "statement", "subject": person,
                                        "property": "equivalent",
                                        "value": {"amount": "3.25", "currency": "USD",
                                                  "at_most": True, "at_least": True},
                                        "citation": {"source": source}}), 422, "value", "not both")


def test_statements_and_qualifiers_are_read_where_a_historian_looks(api: Api, source: str) -> None:
    person = api.person("Santiago Guallar", source)
    place = api.place("Karaganda", source, kind="exile")
    death = api.claim({"kind": "death", "person": person, "date": "1990",
                       "citation": {"source": source, "quote": "died in 1990 ... at the age of 86"},
                       "qualifiers": [{"property": "stated_age", "value": {"amount": "86", "unit": "years"}}]})
    nationality = statement(api, person, "nationality", "Spanish", source)
    residence = statement(api, person, "residence", place, source, start="1948", end="1950")
    memorial = statement(api, person, "memorial_id", "4711", source)
    pending = statement(api, person, "nationality", "French", source)
    for claim in (death, nationality, residence, memorial):
        approve(api, claim)
    # GET /claims?property=&value=: by id or key, the value by its key (86 = 86.0)
    found = api.get("/claims", property="stated_age", value="86.0").json()["items"]
    assert [c["id"] for c in found] == [death]
    prop = api.get("/properties/nationality").json()["id"]
    assert [c["id"] for c in api.get("/claims", property=prop, value="SPANISH").json()["items"]] == [nationality]
    assert [c["id"] for c in api.get("/claims", property="nationality").json()["items"]] == [nationality]
    assert {c["id"] for c in api.get("/claims", "bob", property="nationality").json()["items"]} == {nationality, pending}
    assert api.get("/claims", property="stated_age", value="85").json()["items"] == []
    assert_problem(api.get("/claims", property="no_such"), 422, "property")
    assert_problem(api.get("/claims", value="86"), 422, "value")
    # the biography: statements grouped by property, qualifiers beside their claim
    bio = api.get(f"/persons/{person}/biography").json()
    groups = {g["property"]["key"]: g for g in bio["statements"]}
    assert list(groups) == ["memorial_id", "nationality", "residence"]
    assert [e["claim"] for e in groups["nationality"]["claims"]] == [nationality]
    assert groups["residence"]["claims"][0]["fields"]["value"] == {"id": place, "label": "Karaganda"}
    assert groups["memorial_id"]["claims"][0]["fields"]["value"] == "4711"
    (dead,) = bio["deaths"]
    assert dead["qualifiers"] == [{"property": {"id": "PR-0000000A", "key": "stated_age",
                                                "label": "age as stated", "datatype": "quantity"},
                                   "value": {"amount": "86", "unit": "years"}}]
    timeline = [e["claim"] for e in bio["timeline"]]
    assert residence in timeline and nationality not in timeline  # undated: grouped only
    assert bio["conflicts"] == []
    # a single-valued property's second value is a conflict once approved
    approve(api, pending)
    bio = api.get(f"/persons/{person}/biography").json()
    (conflict,) = bio["conflicts"]
    assert conflict["kind"] == "statement" and set(conflict["claims"]) == {nationality, pending}
    # search by an external identifier finds the person, first
    hits = api.get("/persons", q="4711").json()["items"]
    assert [h["id"] for h in hits] == [person] and hits[0]["matched"] == "4711"
    assert api.get("/places", q="4711").json()["items"] == []


def test_a_date_value_is_parsed_once_and_its_bounds_stored(api: Api, source: str) -> None:
    r = api.post("/properties", {"key": "rehabilitated_on", "label": "rehabilitated on",
                                 "datatype": "date"}, "root")
    assert r.status_code == 201, r.text
    person = api.person("Aron Baron", source)
    release = api.claim({"kind": "release", "person": person, "release": "rehabilitation",
                         "citation": {"source": source},
                         "qualifiers": [{"property": "rehabilitated_on", "value": "1989-01~"}]})
    dates = api.get(f"/claims/{release}", "alice").json()["dates"]
    assert dates["qualifiers[0].value"]["earliest"] == "1989-01-01"
    assert dates["qualifiers[0].value"]["approximate"] is True
    assert_problem(api.post("/claims", {"kind": "release", "person": person, "release": "release",
                                        "citation": {"source": source}, "qualifiers": [
                                            {"property": "rehabilitated_on", "value": "16.1.1989"}]}),
                   422, "qualifiers[0].value")


def test_a_suppressed_claim_s_value_finds_nothing_for_readers(api: Api, source: str) -> None:
    person = api.person("Grigori Maximov", source)
    claim = statement(api, person, "memorial_id", "777", source)
    approve(api, claim)
    assert api.post(f"/claims/{claim}/suppress", {"reason": "the wrong card"}, "root").status_code == 200
    assert api.get("/claims", property="memorial_id", value="777").json()["items"] == []
    assert [c["id"] for c in api.get("/claims", "bob", property="memorial_id", value="777").json()["items"]] == [claim]
    assert api.get("/persons", q="777").json()["items"] == []


def test_any_entity_is_a_subject_and_an_old_biography_shows_statements_as_they_stood(
        api: Api, source: str) -> None:
    place = api.place("Butyrka", source)
    conditions = statement(api, place, "conditions",
                           {"text": "the regime of the prison", "language": "en"}, source)
    approve(api, conditions)
    assert [c["id"] for c in api.get("/claims", place=place).json()["items"]] == [conditions]
    assert api.get(f"/claims/{conditions}").json()["refs"]["subject"] == {"id": place, "label": "Butyrka"}
    person = api.person("Santiago Guallar", source)
    first = statement(api, person, "religion", "Catholic", source)
    approve(api, first)
    head = api.get("/events/head").json()["position"]
    later = statement(api, person, "education", "the air force training school", source)
    approve(api, later)
    then = api.get(f"/persons/{person}/biography", as_of=str(head)).json()
    assert [g["property"]["key"] for g in then["statements"]] == ["religion"]
    now = api.get(f"/persons/{person}/biography").json()
    assert [g["property"]["key"] for g in now["statements"]] == ["education", "religion"]


def test_a_merged_record_s_external_id_finds_its_survivor(api: Api, source: str) -> None:
    kept = api.person("Aron Baron", source)
    merged = api.person("Aron Baron (card)", source)
    approve(api, statement(api, merged, "wikidata_id", "Q123", source))
    r = api.post(f"/persons/{merged}/merge", {"into": kept, "reason": "the same man"}, "bob")
    assert r.status_code == 200, r.text
    assert [h["id"] for h in api.get("/persons", q="q123").json()["items"]] == [kept]
    groups = api.get(f"/persons/{kept}/biography").json()["statements"]
    assert groups[0]["claims"][0]["fields"]["url"] == "https://www.wikidata.org/wiki/Q123"


def test_an_entity_named_as_a_value_finds_the_claim(api: Api, source: str) -> None:
    """The place of exile a sentence names (a `place` qualifier) and a residence are found by
    GET /claims?place=; a person named only as a value sees the claim `through: "value"`."""
    exile = api.place("Samarkand", source, kind="exile")
    person = api.person("Vicente Monclús Guallar", source)
    sentence = api.claim({"kind": "sentence", "person": person, "sentence": "exile",
                          "citation": {"source": source},
                          "qualifiers": [{"property": "place", "value": exile}]})
    residence = statement(api, person, "residence", exile, source)
    for claim in (sentence, residence):
        approve(api, claim)
    assert [c["id"] for c in api.get("/claims", place=exile).json()["items"]] == [sentence, residence]
    r = api.post("/properties", {"key": "informant", "label": "informant", "datatype": "entity",
                                 "entity_kinds": ["person"]}, "root")
    assert r.status_code == 201, r.text
    other = api.person("Mollie Steimer", source)
    told = statement(api, person, "informant", other, source)
    approve(api, told)
    bio = api.get(f"/persons/{other}/biography").json()
    assert bio["statements"] == []  # not a statement about her
    (entry,) = [e for e in bio["timeline"] if e["claim"] == told]
    assert entry["through"] == "value" and entry["fields"]["value"] == {"id": other, "label": "Mollie Steimer"}
    mine = api.get(f"/persons/{person}/biography").json()
    assert {g["property"]["key"] for g in mine["statements"]} == {"informant", "residence"}
