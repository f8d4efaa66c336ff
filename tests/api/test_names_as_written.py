"""The person as the source names them (issue 10, item 7): every claim that names a person takes
`person_said` (and `other_said`, `via_said` for its other person fields), shown in the
biography beside the identified person; kinds that name no person refuse it."""

from __future__ import annotations

from starosta.events.kinds import KINDS
from tests.api.conftest import Api, assert_problem


def approve(api: Api, claim: str) -> None:
    r = api.post(f"/claims/{claim}/approve", {"reason": "checked"}, "bob")
    assert r.status_code == 200, r.text


def test_every_kind_that_names_a_person_takes_the_words_for_them() -> None:
    for kind in KINDS:
        persons = [f for f, ref in getattr(kind, "REFS", {}).items() if ref == "person"]
        if kind.__name__ == "NameClaim":  # a name claim is the wording itself
            continue
        for field in persons:
            assert f"{field}_said" in kind.__struct_fields__, (kind.__name__, field)


def test_the_words_are_shown_beside_the_person(api: Api) -> None:
    s = api.source()
    n = api.person("N. (identified, not historical)", s)
    place = api.place("Test Colony (not historical)", s, kind="exile")
    claim = api.claim({"kind": "custody", "person": n, "place": place, "custody": "exile",
                       "start": "1926", "person_said": "N. (Central Russia)",
                       "citation": {"source": s}})
    approve(api, claim)
    (entry,) = [e for e in api.get(f"/persons/{n}/biography").json()["timeline"]
                if e["kind"] == "custody"]
    assert entry["fields"]["person"]["id"] == n
    assert entry["fields"]["person_said"] == "N. (Central Russia)"
    assert api.get(f"/claims/{claim}").json()["claim"]["person_said"] == "N. (Central Russia)"


def test_a_relation_s_words_follow_their_person_when_turned_round(api: Api) -> None:
    s = api.source()
    ramon = api.person("Ramón (test, not historical)", s)
    manuel = api.person("Manuel (test, not historical)", s)
    approve(api, api.claim({"kind": "relation", "person": ramon, "other": manuel,
                            "relation": "brother", "other_said": "his brother Manuel",
                            "citation": {"source": s}}))
    (entry,) = [e for e in api.get(f"/persons/{manuel}/biography").json()["timeline"]
                if e["kind"] == "relation"]
    assert entry["fields"]["person_said"] == "his brother Manuel"
    assert "other_said" not in entry["fields"]


def test_a_kind_naming_no_person_refuses_person_said(api: Api) -> None:
    s = api.source()
    place = api.place("Test Camp (not historical)", s, kind="camp")
    body = {"kind": "aggregate", "place": place, "count": 4, "date": "1926",
            "person_said": "N.", "citation": {"source": s}}
    problem = assert_problem(api.post("/claims", body), 422, "person_said")
    assert problem["errors"][0]["field"] == "person_said"
