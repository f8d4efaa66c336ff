"""Doubtful identities (issue 20, item 3), through the real HTTP API on both backends:
"possibly the same as" between persons, places and organisations (identify, unidentify), shown
on both records and in search answers, refused where it contradicts the identity judgements
before it; places and organisations merged, unmerged and judged distinct with the persons'
rules; every refusal a problem document naming what is at fault."""

from __future__ import annotations

import pytest

from tests.api.conftest import Api, assert_problem


@pytest.fixture
def source(api: Api) -> str:
    return api.source()


def org(api: Api, name: str, source: str, kind: str = "group") -> str:
    return api.register("/organizations", {"name": name, "kind": kind, "citation": {"source": source}})


def identify(api: Api, path: str, other: str, certainty: str = "probable", who: str = "bob", **extra):
    return api.post(f"{path}/identify", {"with": other, "certainty": certainty,
                                         "reason": "same prison, same months", **extra}, who)


def test_a_person_identified_with_another_shows_it_on_both_records_and_in_search(
        api: Api, source: str) -> None:
    sk = api.person("S.– K.–", source)
    x = api.person("Sergei Kaplun", source)
    r = identify(api, f"/persons/{sk}", x, citation={"source": source, "locator": "p. 12"})
    assert r.status_code == 200, r.text
    assert r.json()["judgement"] == "identified" and r.json()["other"] == x and r.json()["position"] > 0
    mine = api.get(f"/persons/{sk}").json()
    assert mine["id"] == sk and "merged_from" not in mine  # not merged: each keeps its record
    [seen] = mine["identified_with"]
    assert seen == {"id": x, "label": "Sergei Kaplun", "certainty": "probable",
                    "reason": "same prison, same months",
                    "citation": {"source": source, "locator": "p. 12"}, "position": seen["position"]}
    assert [i["id"] for i in api.get(f"/persons/{x}").json()["identified_with"]] == [sk]
    hits = {h["id"]: h for h in api.get("/persons", q="Kaplun").json()["items"]}
    assert hits[x]["identified_with"] == [{"id": sk, "label": "S.– K.–", "certainty": "probable"}]
    listed = {h["id"]: h for h in api.get("/persons", limit=100).json()["items"]}
    assert listed[sk]["identified_with"][0]["id"] == x
    by_surname = {h["id"]: h for h in api.get("/persons", order="surname", limit=100).json()["items"]}
    assert by_surname[sk]["identified_with"][0]["id"] == x  # the listing by surname shows it too
    assert {h["id"]: h for h in api.get("/persons", q="Kaplun").json()["items"]}[x]


def test_an_identification_is_undone_from_either_record_and_judged_once(api: Api, source: str) -> None:
    a, b = api.person("Lazarevitch", source), api.person("Nikolai Lazarevich", source)
    assert identify(api, f"/persons/{a}", b, "possible").status_code == 200
    assert_problem(identify(api, f"/persons/{b}", a), 409, "identified with", "already")
    r = api.post(f"/persons/{b}/unidentify", {"with": a, "reason": "two men"}, "carol")
    assert r.status_code == 200, r.text
    assert r.json()["judgement"] == "unidentified"
    assert "identified_with" not in api.get(f"/persons/{a}").json()
    assert_problem(api.post(f"/persons/{a}/unidentify", {"with": b, "reason": "again"}, "bob"),
                   409, f"{a} is not identified with {b}")
    assert identify(api, f"/persons/{a}", b, "probable").status_code == 200  # judged again


def test_identifications_contradicting_merges_and_distinctions_are_refused(api: Api, source: str) -> None:
    a, b, c = (api.person(n, source) for n in ("Monclús", "Monclus", "Vicente M."))
    assert api.post(f"/persons/{a}/distinct", {"from": b, "reason": "brothers"}, "bob").status_code == 200
    assert_problem(identify(api, f"/persons/{a}", b), 409, "distinct", "may not be identified")
    assert identify(api, f"/persons/{a}", c).status_code == 200
    assert_problem(api.post(f"/persons/{c}/distinct", {"from": a, "reason": "x"}, "bob"), 409,
                   "unidentify")
    assert api.post(f"/persons/{c}/merge", {"into": a, "reason": "the same"}, "bob").status_code == 200
    record = api.get(f"/persons/{a}").json()
    assert record["merged_from"] == [c] and "identified_with" not in record  # one record now
    assert_problem(identify(api, f"/persons/{c}", a), 409, "one record now")


def test_bad_identifications_are_422_or_404_naming_the_field(api: Api, source: str) -> None:
    a, b = api.person("Ivanov", source), api.person("Ivanoff", source)
    body = assert_problem(identify(api, f"/persons/{a}", b, "certain"), 422)
    assert "certainty" in body["detail"]
    assert_problem(identify(api, f"/persons/{a}", a), 422, "with", "itself")
    assert_problem(identify(api, f"/persons/{a}", "P-NOBODY00"), 404, "P-NOBODY00")
    assert_problem(identify(api, f"/persons/P-NOBODY00", a), 404, "P-NOBODY00")
    assert_problem(identify(api, f"/persons/{a}", b, citation={"source": "S-NOTHING0"}), 404,
                   "S-NOTHING0")
    place = api.place("Butyrki", source)
    assert_problem(identify(api, f"/persons/{a}", place), 404, place)  # another kind of record
    assert identify(api, f"/persons/{a}", b, who="alice").status_code == 403  # reviewers only
    assert identify(api, f"/persons/{a}", b, who=None).status_code == 401


def test_places_merge_unmerge_and_distinct_as_persons_do(api: Api, source: str) -> None:
    a, b = api.place("Butyrki", source), api.place("Butyrka prison", source)
    c = api.place("Taganka", source)
    r = api.post(f"/places/{a}/merge", {"into": b, "reason": "one prison"}, "bob")
    assert r.status_code == 200, r.text
    merged = api.get(f"/places/{a}", "bob").json()  # names pending: a reviewer sees them
    assert merged["id"] == b and merged["requested"] == a and merged["merged_from"] == [a]
    assert {n["name"] for n in merged["names"]} >= {"Butyrki", "Butyrka prison"}
    listed = [h["id"] for h in api.get("/places", limit=100).json()["items"]]
    assert b in listed and a not in listed
    assert [h["id"] for h in api.get("/places", q="Butyrki").json()["items"]] == [b]
    assert_problem(api.post(f"/places/{b}/merge", {"into": a, "reason": "back"}, "bob"), 409, "cycle")
    assert_problem(api.post(f"/places/{b}/distinct", {"from": a, "reason": "no"}, "bob"), 409,
                   "one record now")
    assert api.post(f"/places/{c}/distinct", {"from": a, "reason": "two prisons"}, "carol").status_code == 200
    assert api.get(f"/places/{b}").json()["distinct_from"] == [c]
    assert_problem(api.post(f"/places/{c}/merge", {"into": b, "reason": "same"}, "bob"), 409,
                   "distinct places")
    assert api.post(f"/places/{a}/unmerge", {"reason": "two prisons after all"}, "bob").status_code == 200
    assert api.get(f"/places/{a}").json()["id"] == a
    assert_problem(api.post(f"/places/{a}/unmerge", {"reason": "again"}, "bob"), 409, "not merged")
    assert api.post(f"/places/{a}/merge", {"into": b, "reason": "x"}, "alice").status_code == 403
    assert_problem(api.post(f"/places/{a}/merge", {"into": "PL-NOWHERE0", "reason": "x"}, "bob"),
                   404, "PL-NOWHERE0")


def test_a_merged_place_counts_its_records_held_there(api: Api, source: str) -> None:
    """Population at a place stands for its merge group: a custody at the merged record counts
    at the survivor."""
    a, b = api.place("Butyrki", source), api.place("Butyrka prison", source)
    person = api.person("Lazarevitch", source)
    claim = api.claim({"kind": "custody", "person": person, "place": a, "custody": "prison", "start": "1924-01",
                       "end": "1924-12", "citation": {"source": source}})
    assert api.post(f"/claims/{claim}/approve", {}, "bob").status_code == 200
    assert api.post(f"/places/{a}/merge", {"into": b, "reason": "one prison"}, "bob").status_code == 200
    for asked in (a, b):  # the merged record's population is its survivor's
        held = api.get(f"/places/{asked}/population", at="1924-05-15").json()
        assert [p["id"] for p in held["certain"]] == [person], held


def test_organisations_merge_and_identify_as_persons_do(api: Api, source: str) -> None:
    wild = org(api, "Wildcat anarchists", source)
    seen = org(api, "an anarchist group seen at Verkhne-Uralsk", source)
    r = identify(api, f"/organizations/{seen}", wild, "possible",
                 reason="possibly a sighting of the 'Wildcat' anarchists")
    assert r.status_code == 200, r.text
    [shown] = api.get(f"/organizations/{seen}").json()["identified_with"]
    assert (shown["id"], shown["certainty"]) == (wild, "possible")
    assert shown["reason"] == "possibly a sighting of the 'Wildcat' anarchists"
    assert [h["identified_with"] for h in api.get("/organizations", q="Wildcat").json()["items"]] == [
        [{"id": seen, "label": "an anarchist group seen at Verkhne-Uralsk", "certainty": "possible"}]]
    assert api.post(f"/organizations/{seen}/unidentify", {"with": wild, "reason": "x"}, "bob").status_code == 200
    r = api.post(f"/organizations/{seen}/merge", {"into": wild, "reason": "the same group"}, "bob")
    assert r.status_code == 200, r.text
    merged = api.get(f"/organizations/{seen}").json()
    assert merged["id"] == wild and merged["merged_from"] == [seen]
    assert api.post(f"/organizations/{seen}/unmerge", {"reason": "no"}, "carol").status_code == 200
    assert api.post(f"/organizations/{seen}/distinct", {"from": wild, "reason": "no"}, "carol").status_code == 200
    assert_problem(identify(api, f"/organizations/{wild}", seen), 409, "distinct organisations")


def test_biographies_show_identifications_in_force_as_survivors(api: Api, source: str) -> None:
    sk, x, y = (api.person(n, source) for n in ("S.– K.–", "Sergei Kaplun", "S. Kaplun"))
    assert identify(api, f"/persons/{sk}", x).status_code == 200
    bio = api.get(f"/persons/{sk}/biography").json()
    assert [(i["id"], i["label"], i["certainty"]) for i in bio["identified_with"]] == [
        (x, "Sergei Kaplun", "probable")]
    assert [i["id"] for i in api.get(f"/persons/{x}/biography").json()["identified_with"]] == [sk]
    # the other record merged into a third: the biography names the survivor
    assert api.post(f"/persons/{x}/merge", {"into": y, "reason": "same"}, "bob").status_code == 200
    assert [i["id"] for i in api.get(f"/persons/{sk}/biography").json()["identified_with"]] == [y]
    assert [i["id"] for i in api.get(f"/persons/{y}/biography").json()["identified_with"]] == [sk]
    assert api.post(f"/persons/{sk}/unidentify", {"with": x, "reason": "no"}, "bob").status_code == 200
    assert api.get(f"/persons/{sk}/biography").json()["identified_with"] == []
    assert api.get(f"/persons/{y}/biography").json()["identified_with"] == []


def test_the_cli_lists_the_identifications_in_force(backend: str, archive_db: str) -> None:
    """`starosta identity identifications` in a subprocess, on both backends."""
    from litestar.testing import TestClient

    from starosta.service.api.app import create_app
    from starosta.service.settings import Settings
    from tests.api.conftest import make_tokens
    from tests.conftest import run_cli

    tokens = make_tokens(archive_db)
    with TestClient(create_app(Settings(db=archive_db))) as client:
        api = Api(client, tokens)
        source = api.source()
        a, b = api.person("S.– K.–", source), api.person("Sergei Kaplun", source)
        p, q = api.place("Kizobabad", source), api.place("Kirovabad", source)
        assert identify(api, f"/persons/{a}", b).status_code == 200
        assert identify(api, f"/places/{p}", q, "possible", reason="presumably\nKirovabad").status_code == 200
    listed = run_cli("identity", "identifications", "--db", archive_db, timeout=120)
    assert listed.returncode == 0, listed.stderr
    lines = [line.split("\t") for line in listed.stdout.splitlines()]
    assert [line[1:] for line in lines] == [["person", a, b, "probable", "same prison, same months"],
                                           ["place", p, q, "possible", "presumably Kirovabad"]]
    assert int(lines[0][0]) < int(lines[1][0]) and "2 identifications in force" in listed.stderr
    only = run_cli("identity", "identifications", "--kind", "place", "--db", archive_db, timeout=120)
    assert [line.split("\t")[2] for line in only.stdout.splitlines()] == [p]


def test_a_merged_groups_record_holds_the_members_and_timeline_of_every_record(
        api: Api, source: str) -> None:
    """Two records of one group of exiles merged: the survivor's record lists the members and
    the custody of both (a member of both once)."""
    first, second = org(api, "Wildcat anarchists", source), org(api, "The Wildcats", source)
    place = api.place("Verkhne-Uralsk isolator", source, "isolator")
    a, b = api.person("Anarchist A", source), api.person("Anarchist B", source)
    cite = {"source": source}
    claims = [api.claim({"kind": "membership", "person": a, "organization": first, "citation": cite}),
              api.claim({"kind": "membership", "person": a, "organization": second, "citation": cite}),
              api.claim({"kind": "membership", "person": b, "organization": second, "citation": cite}),
              api.claim({"kind": "custody", "group": second, "place": place, "custody": "isolator",
                         "start": "1931", "citation": cite}),
              api.claim({"kind": "custody", "group": first, "place": place, "custody": "isolator",
                         "start": "1932", "citation": cite})]
    for claim in claims:
        assert api.post(f"/claims/{claim}/approve", {}, "bob").status_code == 200
    assert api.post(f"/organizations/{second}/merge", {"into": first, "reason": "one group"},
                    "bob").status_code == 200
    record = api.get(f"/organizations/{second}").json()
    assert record["id"] == first and record["merged_from"] == [second]
    assert {m["id"]: sorted(m["claims"]) for m in record["members"]} == {
        a: sorted(claims[:2]), b: [claims[2]]}
    assert [s["claim"] for s in record["timeline"]] == [claims[3], claims[4]]
    assert api.post(f"/organizations/{second}/unmerge", {"reason": "two groups"}, "bob").status_code == 200
    assert [s["claim"] for s in api.get(f"/organizations/{first}").json()["timeline"]] == [claims[4]]
