"""The supersession rule is written once (projections.rules) and every read model follows it:
two bugs of the first build, reproduced through the HTTP API."""

from __future__ import annotations

from starosta.events.sqlite_store import connect
from tests.api.conftest import Api


def _decide(api: Api, claim: str, action: str, who: str = "bob") -> None:
    body = None if action == "approve" else {"reason": "checked"}
    r = api.post(f"/claims/{claim}/{action}", body, who)
    assert r.status_code == 200, r.text


def _names(api: Api, person: str) -> dict[str, str]:
    return {n["name"]: n["status"] for n in api.get(f"/persons/{person}").json()["names"]}


def _found(api: Api, q: str) -> list[str]:
    return [hit["id"] for hit in api.get("/persons", q=q).json()["items"]]


def test_a_name_comes_back_in_search_when_its_successor_is_contested(api: Api) -> None:
    source = api.source()  # two readings no spelling of the other finds (issue 22's variant keys)
    person = api.person("Anonymous exile", source)
    old = api.claim({"kind": "name", "person": person, "name": "Kantorovich", "citation": {"source": source}})
    _decide(api, old, "approve")
    assert _found(api, "kantorovich") == [person]
    new = api.claim({"kind": "name", "person": person, "name": "Berkowicz", "supersedes": old,
                     "citation": {"source": source}})
    _decide(api, new, "approve")
    assert _found(api, "kantorovich") == [] and _found(api, "berkowicz") == [person]
    assert "Kantorovich" not in _names(api, person)
    _decide(api, new, "contest", "carol")
    # the successor lost its approval: the old reading is in force again, everywhere
    assert _names(api, person)["Kantorovich"] == "approved"
    assert _found(api, "kantorovich") == [person]
    assert _found(api, "berkowicz") == []
    _decide(api, new, "approve", "bob")  # the contest dismissed: the new reading again
    assert _found(api, "kantorovich") == [] and _found(api, "berkowicz") == [person]


def test_the_last_submitted_of_two_approved_successors_wins_in_every_read_model(
        api: Api, db_path: str) -> None:
    source = api.source()
    person = api.person("Vicente Monclús Guallar", source)
    place = api.place("Butyrka", source)
    body = {"kind": "custody", "person": person, "place": place, "custody": "prison",
            "citation": {"source": source}}
    x = api.claim({**body, "start": "1940-01-25"})
    _decide(api, x, "approve")
    a = api.claim({**body, "start": "1940-01-26", "supersedes": x})
    b = api.claim({**body, "start": "1940-01-27", "supersedes": x})
    _decide(api, b, "approve")
    _decide(api, a, "approve")  # approved last, but submitted first: b wins
    conn = connect(db_path)
    try:
        claims = conn.execute("SELECT superseded_by FROM claims WHERE id = ?", (x,)).fetchone()[0]
        episodes = conn.execute("SELECT superseded_by FROM custody_episodes WHERE claim_id = ?",
                                (x,)).fetchone()[0]
    finally:
        conn.close()
    assert claims == episodes == b
    assert api.get(f"/claims/{x}").json()["superseded_by"] == b
    _decide(api, b, "contest", "carol")  # b loses its approval: a supersedes x now
    assert api.get(f"/claims/{x}", "bob").json()["superseded_by"] == a
