"""Names in parts (issue 20, item 4), through the real HTTP API on both backends: a name claim
(and a person's registration) takes `parts` (surname, given, patronymic, particle), kept as
the source gives them in their display form, shown on the record and in the biography;
`GET /persons?order=surname` lists persons by the surname of their preferred, else earliest,
approved name claim with parts, persons without one after, by label. Bad parts are 422 naming
the field. All names here are synthetic (not historical)."""

from __future__ import annotations

from tests.api.conftest import Api, assert_problem


def approve(api: Api, claim: str) -> None:
    r = api.post(f"/claims/{claim}/approve", {"reason": "checked"}, "bob")
    assert r.status_code == 200, r.text


def named(api: Api, person: str, source: str, name: str, parts: dict | None, **extra) -> str:
    body = {"kind": "name", "person": person, "name": name, "citation": {"source": source}, **extra}
    if parts is not None:
        body["parts"] = parts
    return api.claim(body)


def listed(api: Api, **params) -> list[tuple[str, str | None]]:
    """Every person of GET /persons?order=surname, page after page: (id, surname)."""
    out, after = [], None
    while True:
        query = {"order": "surname", "limit": 2, **params}
        if after is not None:
            query["after"] = after
        r = api.get("/persons", **query)
        assert r.status_code == 200, r.text
        body = r.json()
        out += [(hit["id"], hit["surname"]) for hit in body["items"]]
        after = body["next"]
        if after is None:
            return out


def test_a_name_claim_in_parts_is_kept_shown_on_the_record_and_in_the_biography(api: Api) -> None:
    s = api.source("Synthetic record cards (test, not historical)")
    person = api.person("Test Ivanovich Kartochkin (synthetic)", s)
    claim = named(api, person, s, "Kartochkin, Test Ivanovich",
                  {"surname": " Kartochkin\u00a0", "given": "Test", "patronymic": "Ivanovich"},
                  name_kind="birth")
    stored = api.get(f"/claims/{claim}", "alice").json()
    # each part in its display form: spaces collapsed and trimmed, as a name is
    assert stored["claim"]["parts"] == {"surname": "Kartochkin", "given": "Test", "patronymic": "Ivanovich"}
    record = api.get(f"/persons/{person}", "alice").json()
    (mine,) = [n for n in record.get("names", []) if n.get("claim") == claim]
    assert mine["parts"] == {"surname": "Kartochkin", "given": "Test", "patronymic": "Ivanovich"}
    assert mine["status"] == "pending"
    assert not any(n.get("claim") == claim for n in api.get(f"/persons/{person}").json().get("names", []))
    approve(api, claim)
    (public,) = [n for n in api.get(f"/persons/{person}").json().get("names", []) if n.get("claim") == claim]
    assert public["parts"]["patronymic"] == "Ivanovich" and "particle" not in public["parts"]
    bio = api.get(f"/persons/{person}/biography").json()
    (entry,) = [e for e in bio["names"] if e["claim"] == claim]
    assert entry["fields"]["parts"] == {"surname": "Kartochkin", "given": "Test", "patronymic": "Ivanovich"}
    # a name without parts has none
    plain = named(api, person, s, "T. I. Kartochkin", None, name_kind="initials")
    (other,) = [n for n in api.get(f"/persons/{person}", "alice").json().get("names", []) if n.get("claim") == plain]
    assert "parts" not in other


def test_a_registration_takes_the_name_in_parts(api: Api) -> None:
    s = api.source("Synthetic register (test, not historical)")
    r = api.post("/persons", {"name": "Test de Registro (synthetic)", "citation": {"source": s},
                              "parts": {"given": "Test", "particle": "de", "surname": "Registro"}})
    assert r.status_code == 201, r.text
    person, claim = r.json()["id"], r.json()["name_claim"]
    assert api.get(f"/claims/{claim}", "alice").json()["claim"]["parts"] == {
        "given": "Test", "particle": "de", "surname": "Registro"}
    approve(api, claim)
    assert (person, "Registro") in listed(api)
    r = api.post("/persons", {"name": "Test Empty Parts (synthetic)", "citation": {"source": s},
                              "parts": {}})
    assert_problem(r, 422, "parts")


def test_bad_parts_are_422_naming_the_field(api: Api) -> None:
    s = api.source("Synthetic cards (test, not historical)")
    person = api.person("Test Refused Parts (synthetic)", s)
    place = api.place("Test Prison of Parts (synthetic)", s)
    base = {"kind": "name", "person": person, "name": "Test Refused Parts", "citation": {"source": s}}
    assert_problem(api.post("/claims", {**base, "parts": {}}), 422, "parts", "at least one part")
    assert_problem(api.post("/claims", {**base, "parts": {"surname": None}}), 422, "parts")
    assert_problem(api.post("/claims", {**base, "parts": {"nickname": "X"}}), 422, "nickname")
    assert_problem(api.post("/claims", {**base, "parts": {"surname": ""}}), 422, "surname")
    assert_problem(api.post("/claims", {**base, "parts": {"surname": "x" * 201}}), 422, "surname")
    assert_problem(api.post("/claims", {**base, "parts": {"surname": "\u202eTest"}}), 422,
                   "parts.surname", "<U+202E>")
    assert_problem(api.post("/claims", {**base, "parts": {"given": "\u200b"}}), 422, "parts.given")
    at_place = {"kind": "name", "place": place, "name": "Test Prison", "citation": {"source": s},
                "parts": {"surname": "Prison"}}
    assert_problem(api.post("/claims", at_place), 422, "parts", "person")
    assert_problem(api.get("/persons", order="name"), 422, "order")


def test_persons_are_listed_by_surname_preferred_then_earliest_approved(api: Api) -> None:
    s = api.source("Synthetic roll (test, not historical)")
    zeta = api.person("Anna Zeta (synthetic)", s)
    avila = api.person("Test Ávila (synthetic)", s)
    cyr = api.person("Тест Борисова (synthetic)", s)
    bare = api.person("Aaron Without Parts (synthetic)", s)
    waiting = api.person("Aardvark Pending (synthetic)", s)
    approve(api, named(api, zeta, s, "Anna Zeta", {"surname": "Zeta", "given": "Anna"}))
    approve(api, named(api, avila, s, "Test Ávila", {"surname": "Ávila"}))
    approve(api, named(api, cyr, s, "Тест Борисова", {"surname": "Борисова", "given": "Тест"}))
    named(api, waiting, s, "Aardvark Pending", {"surname": "Aardvark"})  # pending: not listed by it

    order = listed(api)
    mine = [(i, sn) for i, sn in order if i in {zeta, avila, cyr, bare, waiting}]
    # Ávila among the a's, Борисова as "borisova", persons without an approved surname after, by label
    assert mine == [(avila, "Ávila"), (cyr, "Борисова"), (zeta, "Zeta"), (waiting, None), (bare, None)]
    assert [sn for _, sn in order].index(None) == sum(1 for _, sn in order if sn is not None)

    # a later name claim with a surname: the earliest still wins; ranked preferred, it wins
    later = named(api, zeta, s, "Anna Alpha", {"surname": "Alpha"})
    approve(api, later)
    assert dict(listed(api))[zeta] == "Zeta"
    r = api.get(f"/claims/{later}", "bob")
    r = api.post(f"/claims/{later}/rank", {"rank": "preferred"}, "bob", **{"If-Match": r.headers["etag"]})
    assert r.status_code == 200, r.text
    assert [i for i, _ in listed(api)][0] == zeta and dict(listed(api))[zeta] == "Alpha"

    # a correction approved replaces the surname it supersedes
    first = api.get(f"/persons/{avila}").json().get("names", [])
    (claim,) = [n["claim"] for n in first if n.get("parts")]
    fixed = named(api, avila, s, "Test Dávila", {"surname": "Dávila"}, supersedes=claim)
    approve(api, fixed)
    assert dict(listed(api))[avila] == "Dávila"

    # a suppressed name claim gives no surname
    assert api.post(f"/claims/{fixed}/suppress", {"reason": "test take-down"}, "root").status_code == 200
    assert dict(listed(api))[avila] is None

    # q: what the search finds, by surname
    found = listed(api, q="synthetic")
    assert [i for i, _ in found if i in {zeta, cyr, bare}] == [zeta, cyr, bare]


def test_a_merged_record_lends_its_surname_to_its_survivor_and_is_not_listed(api: Api) -> None:
    s = api.source("Synthetic files (test, not historical)")
    kept = api.person("Test Survivor (synthetic)", s)
    gone = api.person("Test Merged Card (synthetic)", s)
    approve(api, named(api, gone, s, "Merged Card", {"surname": "Cardholder"}))
    r = api.post(f"/persons/{gone}/merge", {"into": kept, "reason": "one man, two cards"}, "bob")
    assert r.status_code == 200, r.text
    order = dict(listed(api))
    assert gone not in order and order[kept] == "Cardholder"
    r = api.post(f"/persons/{gone}/unmerge", {"reason": "two men after all"}, "bob")
    assert r.status_code == 200, r.text
    order = dict(listed(api))
    assert order[gone] == "Cardholder" and order[kept] is None
