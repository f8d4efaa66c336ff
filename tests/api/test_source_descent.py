"""Sources' descent (issue 22, item 2): `derivation` claims link registered sources, reviewed
as every claim; independence is read at question time over the approved links (transitively,
within events.descent.DEPTH links), and GET /sources/{id} shows ancestors and descendants.
All data here is synthetic (not historical)."""

from __future__ import annotations

import sqlite3

from tests.api.conftest import Api, assert_problem


def approve(api: Api, *claims: str) -> None:
    for claim in claims:
        r = api.post(f"/claims/{claim}/approve", {"reason": "checked"}, "bob")
        assert r.status_code == 200, r.text


def bio(api: Api, person: str) -> dict:
    r = api.get(f"/persons/{person}/biography")
    assert r.status_code == 200, r.text
    return r.json()


def derive(api: Api, source: str, derives_from: str, relation: str) -> str:
    return api.claim({"kind": "derivation", "source": source, "derives_from": derives_from,
                      "relation": relation, "citation": {"source": source, "locator": "title page"}})


def family(api: Api) -> tuple[str, str, str]:
    """An original memoir, its reprint, and a translation of the reprint (all synthetic)."""
    memoir = api.source("Synthetic memoir (test, not historical)")
    reprint = api.source("Synthetic memoir, reprint (test)")
    translation = api.source("Synthetic memoir, translation of the reprint (test)")
    return memoir, reprint, translation


def stored_etag(db: str, person: str) -> str:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return conn.execute("SELECT etag FROM biographies WHERE person_id = ?", (person,)).fetchone()[0]


def test_memoir_reprint_and_translation_of_the_reprint_are_one_witness(api: Api, backend: str,
                                                                       tmp_path) -> None:
    memoir, reprint, translation = family(api)
    other = api.source("Synthetic bulletin (test)")
    person = api.person("Test Memoirist (synthetic)", memoir)
    a = api.claim({"kind": "birth", "person": person, "date": "1900",
                   "citation": {"source": memoir, "locator": "p. 1"}})
    b = api.claim({"kind": "birth", "person": person, "date": "1900",  # the translation alone
                   "citation": {"source": translation, "locator": "p. 3"}})
    c = api.claim({"kind": "birth", "person": person, "date": "1901", "citation": {"source": other}})
    approve(api, a, b, c)
    body = bio(api, person)
    (agreement,) = body["agreements"]
    assert agreement["claims"] == [a, b] and agreement["independent"] is True  # nothing links them yet
    (conflict,) = body["conflicts"]
    assert conflict["claims"] == [a, b, c] and conflict["independent"] is True
    if backend == "sqlite":
        before = stored_etag(str(tmp_path / "archive.db"), person)

    up = derive(api, reprint, memoir, "reprint_of")
    down = derive(api, translation, reprint, "translation_of")
    assert bio(api, person)["agreements"][0]["independent"] is True  # pending links say nothing
    approve(api, up)
    assert bio(api, person)["agreements"][0]["independent"] is True  # half the chain
    approve(api, down)
    body = bio(api, person)
    assert body["agreements"][0]["independent"] is False  # the translation descends from the memoir
    assert body["conflicts"][0]["independent"] is False
    if backend == "sqlite":  # no write fanned out to the biography: its stored row is as it was
        assert stored_etag(str(tmp_path / "archive.db"), person) == before
    # the answer's ETag follows what it says
    r = api.get(f"/persons/{person}/biography")
    assert api.client.get(f"/persons/{person}/biography",
                          headers={"If-None-Match": r.headers["ETag"]}).status_code == 304

    # a rejected link counts for nothing: the unrelated bulletin stays a witness of its own
    rejected = derive(api, other, memoir, "quoted_from")
    r = api.post(f"/claims/{rejected}/reject", {"reason": "not so"}, "bob")
    assert r.status_code == 200, r.text
    (conflict,) = bio(api, person)["conflicts"]
    assert conflict["independent"] is False  # a and b still share the memoir
    assert api.get(f"/sources/{other}").json()["ancestors"] == []


def test_two_witnesses_stay_independent_beside_a_derived_one(api: Api) -> None:
    memoir, reprint, _ = family(api)
    other = api.source("Synthetic bulletin (test)")
    person = api.person("Test Prisoner (synthetic)", memoir)
    a = api.claim({"kind": "death", "person": person, "date": "1938",
                   "citation": {"source": reprint, "locator": "p. 5"}})
    b = api.claim({"kind": "death", "person": person, "date": "1938",
                   "citation": {"source": other}})
    approve(api, a, b, derive(api, reprint, memoir, "reprint_of"))
    (agreement,) = bio(api, person)["agreements"]
    assert agreement["claims"] == [a, b] and agreement["independent"] is True


def test_sources_show_ancestors_and_descendants(api: Api) -> None:
    memoir, reprint, translation = family(api)
    excerpt = api.source("Synthetic anthology excerpt (test)")
    up = derive(api, reprint, memoir, "reprint_of")
    down = derive(api, translation, reprint, "translation_of")
    approve(api, up, down)
    # a citation's own `via` link is a link too, once its claim is approved
    person = api.person("Test Reader (synthetic)", memoir)
    via = api.claim({"kind": "birth", "person": person, "date": "1900",
                     "citation": {"source": excerpt, "via": [{"source": translation,
                                                              "relation": "excerpt_of"}]}})
    approve(api, via)
    lonely = derive(api, excerpt, memoir, "quoted_from")  # pending: not shown

    r = api.get(f"/sources/{translation}")
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["descent_depth"] == 8
    assert [(k["source"]["id"], k["depth"], k["relation"], k["through"]["id"])
            for k in out["ancestors"]] == [(reprint, 1, "translation_of", translation),
                                           (memoir, 2, "reprint_of", reprint)]
    assert out["ancestors"][1]["source"]["label"] == "Synthetic memoir (test, not historical)"
    assert [(k["source"]["id"], k["depth"], k["relation"]) for k in out["descendants"]] == \
        [(excerpt, 1, "excerpt_of")]
    assert [link["source"]["id"] for link in out["derives_from"]] == [reprint]

    out = api.get(f"/sources/{memoir}").json()
    assert out["ancestors"] == []
    assert [(k["source"]["id"], k["depth"], k["relation"], k["through"]["id"])
            for k in out["descendants"]] == [(reprint, 1, "reprint_of", memoir),
                                             (translation, 2, "translation_of", reprint),
                                             (excerpt, 3, "excerpt_of", translation)]
    approve(api, lonely)  # now the excerpt also quotes the memoir directly: depth 1 wins
    out = api.get(f"/sources/{memoir}").json()
    assert [(k["source"]["id"], k["depth"]) for k in out["descendants"]] == \
        sorted([(excerpt, 1), (reprint, 1), (translation, 2)], key=lambda k: (k[1], k[0]))


def test_a_derivation_claim_is_checked_like_every_claim(api: Api) -> None:
    memoir, reprint, _ = family(api)
    body = {"kind": "derivation", "source": reprint, "derives_from": memoir,
            "relation": "edition_of", "citation": {"source": reprint}}
    claim = api.claim(body)
    out = api.get(f"/claims/{claim}", "alice").json()
    assert out["status"] == "pending" and out["claim"]["relation"] == "edition_of"
    problem = assert_problem(api.post("/claims", {**body, "derives_from": reprint}), 422, "derives_from")
    assert reprint in problem["detail"] or reprint in str(problem["errors"])
    assert_problem(api.post("/claims", {**body, "relation": "copy_of"}), 422, "relation")
    assert_problem(api.post("/claims", {**body, "derives_from": "S-09999999"}), 404, "derives_from")
    assert_problem(api.post("/claims", {**body, "source": "S-09999999"}), 404, "source")
