"""Statements about statements (issue 21, item 4), through the real HTTP API on both backends:
a deprecated rank citing the retracting source (kept in the claim's history, shown in the
biography), a claim attributed to a person, organisation or source (`attributed_to`), and a
claim denying another (`denies`), shown beside it in both directions; `GET /claims?denies=`
and `?attributed_to=`. All data here is synthetic (not historical)."""

from __future__ import annotations

from typing import Any

from starosta.projections.runner import content_hash
from tests.api.conftest import Api, assert_problem, rebuild


def approve(api: Api, *claims: str) -> None:
    for claim in claims:
        r = api.post(f"/claims/{claim}/approve", {"reason": "checked"}, "bob")
        assert r.status_code == 200, r.text


def rank(api: Api, claim: str, body: dict, who: str = "bob"):
    match = api.get(f"/claims/{claim}", "bob").headers["etag"]
    return api.post(f"/claims/{claim}/rank", body, who, **{"If-Match": match})


def bio(api: Api, person: str, who: str | None = None, **params) -> dict:
    r = api.get(f"/persons/{person}/biography", who, **params)
    assert r.status_code == 200, r.text
    return r.json()


def entries(document: dict, claim: str) -> list[dict]:
    """Every entry of `claim` in a biography's sections (timeline, deprecated, births, ...)."""
    return [e for section in ("timeline", "deprecated", "births", "deaths", "affiliations", "names")
            for e in document[section] if e["claim"] == claim]


def organization(api: Api, name: str, source: str) -> str:
    return api.register("/organizations", {"name": name, "kind": "other",
                                           "citation": {"source": source}})


def setting(api: Api) -> dict[str, Any]:
    s = api.source("Synthetic letter (test, not historical)")
    press = organization(api, "Synthetic press (test)", s)
    person = api.person("Synthetic Letter-Writer", s)
    place = api.place("Synthetic Country", s, kind="country")
    return {"source": s, "press": press, "person": person, "place": place}


def presence(w: dict, purpose: str, **extra) -> dict:
    return {"kind": "presence", "person": w["person"], "place": w["place"], "purpose": purpose,
            "citation": {"source": w["source"], "locator": "p. 1"}, **extra}


# -- a retraction's citation ------------------------------------------------------------------

def test_a_deprecated_rank_cites_the_retracting_source_kept_in_history(api: Api) -> None:
    w = setting(api)
    later = api.source("Synthetic later letter (test)")
    claim = api.claim(presence(w, "study"))
    approve(api, claim)
    retraction = {"source": later, "locator": "p. 2", "quote": "I was wrong about that"}
    # only a deprecated rank cites; its source must be registered
    assert_problem(rank(api, claim, {"rank": "preferred", "reason": "x", "citation": retraction}),
                   422, "citation", "deprecated")
    assert_problem(rank(api, claim, {"rank": "deprecated", "reason": "x",
                                     "citation": {"source": "S-NOSUCH00"}}), 404, "citation.source")
    r = rank(api, claim, {"rank": "deprecated", "reason": "the author retracts it",
                          "citation": retraction})
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["history"][-1]["action"] == "rank:deprecated"
    assert out["history"][-1]["citation"] == retraction
    assert out["rank_citation"] == retraction
    read = api.get(f"/claims/{claim}").json()  # anyone reads it
    assert read["rank_citation"] == retraction and read["history"][-1]["citation"] == retraction
    (entry,) = entries(bio(api, w["person"]), claim)
    assert entry["rank"] == "deprecated" and entry["reason"] == "the author retracts it"
    assert entry["retracted_by"]["source"] == {"id": later, "label": entry["retracted_by"]["source"]["label"]}
    assert "Synthetic later letter" in entry["retracted_by"]["source"]["label"]
    assert entry["retracted_by"]["quote"] == "I was wrong about that"
    # ranked normal again: no longer retracted, the history keeps both
    r = rank(api, claim, {"rank": "normal", "reason": "reinstated"})
    assert r.status_code == 200, r.text
    assert r.json()["rank_citation"] is None
    assert [h.get("citation") for h in r.json()["history"][-2:]] == [retraction, None]
    (entry,) = entries(bio(api, w["person"]), claim)
    assert "retracted_by" not in entry and entry["rank"] == "normal"


# -- attributed_to ----------------------------------------------------------------------------

def test_an_attributed_claim_is_shown_as_such_and_found_by_attribution(api: Api) -> None:
    w = setting(api)
    body = presence(w, "exile, preferred", attributed_to=w["press"], said="very happy to leave")
    assert_problem(api.post("/claims", {**body, "attributed_to": "O-NOSUCH00"}), 404, "attributed_to")
    assert_problem(api.post("/claims", {**body, "attributed_to": w["place"]}), 404, "attributed_to")
    claim = api.claim(body)
    by_person = api.claim(presence(w, "visit", attributed_to=w["person"]))
    by_source = api.claim(presence(w, "study", attributed_to=w["source"]))
    plain = api.claim(presence(w, "work"))
    approve(api, claim, by_person, by_source, plain)
    read = api.get(f"/claims/{claim}").json()
    assert read["claim"]["attributed_to"] == w["press"]
    assert read["refs"]["attributed_to"] == {"id": w["press"], "label": "Synthetic press (test)"}
    listed = api.get("/claims", attributed_to=w["press"]).json()["items"]
    assert [c["id"] for c in listed] == [claim]
    assert [c["id"] for c in api.get("/claims", attributed_to=w["person"]).json()["items"]] == [by_person]
    document = bio(api, w["person"])
    (entry,) = entries(document, claim)
    assert entry["attributed_to"] == {"id": w["press"], "label": "Synthetic press (test)"}
    assert "attributed" in entry["flags"] and "attributed_to" not in entry["fields"]
    assert entry["fields"]["said"] == "very happy to leave"
    (own,) = entries(document, plain)
    assert "attributed_to" not in own and "attributed" not in own.get("flags", [])
    (sourced,) = entries(document, by_source)
    assert sourced["attributed_to"]["id"] == w["source"]


# -- denies -----------------------------------------------------------------------------------

def test_denies_names_a_claim_the_contributor_may_see(api: Api) -> None:
    w = setting(api)
    hidden = api.claim(presence(w, "hidden"), who="dave")  # pending: dave's and reviewers' only
    unknown = api.post("/claims", presence(w, "x", denies="C-NOSUCH00"))
    unseen = api.post("/claims", presence(w, "x", denies=hidden))
    a, b = assert_problem(unknown, 404, "denies"), assert_problem(unseen, 404, "denies")
    assert a["detail"].replace("C-NOSUCH00", "ID") == b["detail"].replace(hidden, "ID")
    # a reviewer sees it, and may deny it; a claim does not supersede and deny one claim
    assert api.post("/claims", presence(w, "x", denies=hidden), "carol").status_code == 201
    approve(api, hidden)
    assert_problem(api.post("/claims", presence(w, "x", denies=hidden, supersedes=hidden)),
                   422, "denies", "supersedes")
    assert api.post("/claims", presence(w, "x", denies=hidden)).status_code == 201
    assert_problem(api.post("/claims", presence(w, "x", denies="not an id!")), 422, "denies")


def test_a_denial_is_shown_beside_the_claim_it_denies_both_ways(api: Api) -> None:
    w = setting(api)
    attributed = api.claim(presence(w, "exile, preferred", attributed_to=w["press"],
                                    said="very happy to leave"))
    approve(api, attributed)
    denial = api.claim(presence(w, "exile, forced", denies=attributed, said="a deliberate lie"),
                       who="dave")
    # pending: the public sees no denial yet; a reviewer does
    assert api.get(f"/claims/{attributed}").json()["denied_by"] == []
    assert api.get(f"/claims/{attributed}", "bob").json()["denied_by"] == [denial]
    assert api.get("/claims", denies=attributed).json()["items"] == []
    assert [c["id"] for c in api.get("/claims", "bob", denies=attributed).json()["items"]] == [denial]
    assert "denied_by" not in entries(bio(api, w["person"]), attributed)[0]
    pending = bio(api, w["person"], "bob", include="pending")
    assert [d["claim"] for d in entries(pending, attributed)[0]["denied_by"]] == [denial]

    approve(api, denial)
    assert api.get(f"/claims/{attributed}").json()["denied_by"] == [denial]
    assert [c["id"] for c in api.get("/claims", denies=attributed).json()["items"]] == [denial]
    document = bio(api, w["person"])
    (denied,) = entries(document, attributed)
    (denying,) = entries(document, denial)
    assert "denied" in denied["flags"] and "denial" in denying["flags"]
    (beside,) = denied["denied_by"]
    assert beside["claim"] == denial and beside["kind"] == "presence" and beside["status"] == "approved"
    assert beside["said"] == "a deliberate lie" and beside["citation"]["source"]["id"] == w["source"]
    assert denying["denies"]["claim"] == attributed and denying["denies"]["said"] == "very happy to leave"
    assert denying["denies"]["attributed_to"] == {"id": w["press"], "label": "Synthetic press (test)"}
    assert "denies" not in denying["fields"]

    # as of a position before the denial's approval: the denial was pending then
    before = api.get(f"/claims/{denial}").json()["history"][-1]["position"] - 1
    old = bio(api, w["person"], as_of=str(before))
    assert "denied_by" not in entries(old, attributed)[0]
    head = api.get("/events/head").json()["position"]
    now = bio(api, w["person"], as_of=str(head))
    assert entries(now, attributed)[0]["denied_by"] == denied["denied_by"]
    assert entries(now, denial)[0]["denies"] == denying["denies"]

    # the denial rejected after a contest: gone from beside the claim
    assert api.post(f"/claims/{denial}/contest", {"reason": "misread"}, "carol").status_code == 200
    assert api.post(f"/claims/{denial}/reject", {"reason": "misread"}, "bob").status_code == 200
    assert "denied_by" not in entries(bio(api, w["person"]), attributed)[0]
    assert api.get(f"/claims/{attributed}").json()["denied_by"] == []


def test_a_denial_about_another_person_updates_the_denied_claims_biography(api: Api) -> None:
    w = setting(api)
    other = api.person("Synthetic Correspondent", w["source"])
    claim = api.claim(presence(w, "exile, preferred"))
    approve(api, claim)
    denial = api.claim({**presence(w, "never there", denies=claim), "person": other})
    approve(api, denial)
    (denied,) = entries(bio(api, w["person"]), claim)
    assert [d["claim"] for d in denied["denied_by"]] == [denial]
    (denying,) = entries(bio(api, other), denial)
    assert denying["denies"]["claim"] == claim
    # the denied claim rejected: the denial's document shows the id alone
    assert api.post(f"/claims/{claim}/contest", {"reason": "?"}, "carol").status_code == 200
    assert api.post(f"/claims/{claim}/reject", {"reason": "?"}, "bob").status_code == 200
    (denying,) = entries(bio(api, other), denial)
    assert denying["denies"] == {"claim": claim}


def test_statement_links_survive_a_rebuild(api: Api) -> None:
    w = setting(api)
    later = api.source("Synthetic retraction (test)")
    attributed = api.claim(presence(w, "exile, preferred", attributed_to=w["press"]))
    approve(api, attributed)
    denial = api.claim(presence(w, "exile, forced", denies=attributed))
    approve(api, denial)
    assert rank(api, denial, {"rank": "deprecated", "reason": "withdrawn",
                              "citation": {"source": later}}).status_code == 200
    document = bio(api, w["person"])
    claims_before = api.get(f"/claims/{attributed}").json()
    archive = api.client.app.state.archive
    for name in ("claims", "biographies"):
        projection = next(p for p in archive.runner.projections if p.name == name)
        live = content_hash(archive.store.reader(), list(projection.ddl))
        assert rebuild(archive, name) == live
    assert bio(api, w["person"]) == document
    assert api.get(f"/claims/{attributed}").json() == claims_before
    (entry,) = entries(document, denial)
    assert entry["retracted_by"]["source"]["id"] == later and entry["rank"] == "deprecated"


def test_whom_a_claim_is_attributed_to_is_labelled_as_it_stands_now(api: Api) -> None:
    w = setting(api)
    attributed = api.claim(presence(w, "exile, preferred", attributed_to=w["press"]))
    approve(api, attributed)
    other = api.person("Synthetic Reader", w["source"])
    denial = api.claim({**presence(w, "forced", denies=attributed), "person": other})
    approve(api, denial)
    r = api.post(f"/organizations/{w['press']}/suppress", {"reason": "test take-down"}, "root")
    assert r.status_code == 200, r.text
    (entry,) = entries(bio(api, w["person"]), attributed)
    assert entry["attributed_to"] == {"id": w["press"], "label": "[suppressed]"}
    (denying,) = entries(bio(api, other), denial)
    assert denying["denies"]["attributed_to"]["label"] == "[suppressed]"
    r = api.post(f"/organizations/{w['press']}/unsuppress", {"reason": "given back"}, "root")
    assert r.status_code == 200, r.text
    (entry,) = entries(bio(api, w["person"]), attributed)
    assert entry["attributed_to"]["label"] == "Synthetic press (test)"
    (denying,) = entries(bio(api, other), denial)
    assert denying["denies"]["attributed_to"]["label"] == "Synthetic press (test)"
