"""Certainty and ranks (issue 10, item 6): a reviewer ranks an approved claim preferred, normal
or deprecated (with a reason) through POST /claims/{id}/rank with If-Match; a deprecated claim
stays listed under `deprecated` in the biography but leaves the timeline, totals, conflicts,
populations and ledgers; a superseded claim is shown there with its successor; in a conflict
the preferred reading is marked. All data here is synthetic (not historical)."""

from __future__ import annotations

from tests.api.conftest import Api, assert_problem


def approve(api: Api, claim: str) -> None:
    r = api.post(f"/claims/{claim}/approve", {"reason": "checked"}, "bob")
    assert r.status_code == 200, r.text


def etag(api: Api, claim: str) -> str:
    r = api.get(f"/claims/{claim}", "bob")
    assert r.status_code == 200, r.text
    return r.headers["etag"]


def rank(api: Api, claim: str, body: dict, who: str = "bob", match: str | None = None):
    headers = {"If-Match": match if match is not None else etag(api, claim)}
    return api.post(f"/claims/{claim}/rank", body, who, **headers)


def bio(api: Api, person: str, who: str | None = None, **params) -> dict:
    r = api.get(f"/persons/{person}/biography", who, **params)
    assert r.status_code == 200, r.text
    return r.json()


def setting(api: Api) -> tuple[str, str, str]:
    s = api.source("Synthetic memoir (test, not historical)")
    person = api.person("Test Prisoner (synthetic)", s)
    place = api.place("Test Isolator (synthetic)", s, kind="isolator")
    return s, person, place


def test_rank_needs_if_match_a_reviewer_not_the_contributor_and_an_approved_claim(api: Api) -> None:
    s, person, place = setting(api)
    claim = api.claim({"kind": "custody", "person": person, "place": place, "custody": "prison",
                       "start": "1930-01-01", "end": "1930-12-31", "citation": {"source": s}})
    assert_problem(rank(api, claim, {"rank": "preferred"}), 409, "approved")  # pending
    approve(api, claim)
    r = api.post(f"/claims/{claim}/rank", {"rank": "preferred"}, "bob")
    assert_problem(r, 428, "If-Match")
    assert_problem(rank(api, claim, {"rank": "preferred"}, match='"1"'), 409, "version")
    assert_problem(rank(api, claim, {"rank": "deprecated"}), 422, "reason")
    assert_problem(rank(api, claim, {"rank": "preferred"}, who="alice"), 403)
    assert_problem(rank(api, claim, {"rank": "best"}), 422)
    # a reviewer who submitted the claim may not rank it
    own = api.claim({"kind": "custody", "person": person, "place": place, "custody": "prison",
                     "start": "1931", "citation": {"source": s}}, who="carol")
    approve(api, own)
    assert_problem(rank(api, own, {"rank": "preferred"}, who="carol"), 403, "own")
    r = rank(api, claim, {"rank": "preferred", "reason": "the eyewitness"})
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["rank"] == "preferred" and out["rank_reason"] == "the eyewitness"
    assert out["history"][-1]["action"] == "rank:preferred"
    assert api.get(f"/claims/{claim}").json()["rank"] == "preferred"


def test_a_deprecated_claim_is_listed_but_leaves_timeline_totals_and_population(api: Api) -> None:
    s, person, place = setting(api)
    claim = api.claim({"kind": "custody", "person": person, "place": place, "custody": "prison",
                       "start": "1930-01-01", "end": "1930-12-31", "certainty": "probable",
                       "citation": {"source": s, "locator": "p. 3"}})
    approve(api, claim)
    before = bio(api, person)
    (entry,) = [e for e in before["timeline"] if e["claim"] == claim]
    assert entry["rank"] == "normal" and entry["fields"]["certainty"] == "probable"
    assert before["custody"]["confinement"]["min_days"] == 365
    population = api.get(f"/places/{place}/population", at="1930-06").json()
    assert [h["id"] for h in population["certain"]] == [person]

    r = rank(api, claim, {"rank": "deprecated", "reason": "misread: the memoir says 1931"})
    assert r.status_code == 200, r.text
    after = bio(api, person)
    assert claim not in {e["claim"] for e in after["timeline"]}
    (gone,) = after["deprecated"]
    assert gone["claim"] == claim and gone["rank"] == "deprecated"
    assert gone["reason"] == "misread: the memoir says 1931"
    assert after["custody"]["confinement"]["min_days"] == 0
    population = api.get(f"/places/{place}/population", at="1930-06").json()
    assert population["certain"] == [] and population["count_max"] == 0
    # the rank is lifted: back everywhere
    assert rank(api, claim, {"rank": "normal"}).status_code == 200
    assert claim in {e["claim"] for e in bio(api, person)["timeline"]}
    assert api.get(f"/places/{place}/population", at="1930-06").json()["count_min"] == 1


def test_a_rank_outlives_a_dismissed_contest(api: Api) -> None:
    s, person, place = setting(api)
    claim = api.claim({"kind": "custody", "person": person, "place": place, "custody": "prison",
                       "start": "1930-01-01", "end": "1930-12-31", "citation": {"source": s}})
    approve(api, claim)
    assert rank(api, claim, {"rank": "deprecated", "reason": "a later copy"}).status_code == 200
    r = api.post(f"/claims/{claim}/contest", {"reason": "check again"}, "carol")
    assert r.status_code == 200, r.text
    approve(api, claim)  # bob dismisses carol's contest
    body = bio(api, person)
    assert [e["claim"] for e in body["deprecated"]] == [claim]
    assert api.get(f"/places/{place}/population", at="1930-06").json()["count_max"] == 0


def test_a_superseded_claim_is_shown_deprecated_with_its_successor(api: Api) -> None:
    s, person, place = setting(api)
    old = api.claim({"kind": "custody", "person": person, "place": place, "custody": "prison",
                     "start": "1930", "citation": {"source": s}})
    approve(api, old)
    new = api.claim({"kind": "custody", "person": person, "place": place, "custody": "prison",
                     "start": "1931", "supersedes": old, "citation": {"source": s}})
    approve(api, new)
    body = bio(api, person)
    assert [e["claim"] for e in body["timeline"]] == [new]
    (gone,) = body["deprecated"]
    assert gone["claim"] == old and gone["superseded_by"] == new and gone["rank"] == "deprecated"
    assert api.get(f"/claims/{old}").json()["rank"] == "deprecated"
    # as the archive stood before the successor was approved: the old claim in the timeline
    position = api.get(f"/claims/{new}").json()["position"]
    then = bio(api, person, as_of=str(position))
    assert [e["claim"] for e in then["timeline"]] == [old] and then["deprecated"] == []
    now = bio(api, person, as_of=str(api.get("/events/head").json()["position"]))
    assert [e["claim"] for e in now["deprecated"]] == [old]


def test_the_preferred_reading_is_marked_in_a_conflict(api: Api) -> None:
    s, person, place = setting(api)
    a = api.claim({"kind": "death", "person": person, "date": "1937", "manner": "shot",
                   "citation": {"source": s}})
    b = api.claim({"kind": "death", "person": person, "date": "1942", "manner": "died_in_camp",
                   "citation": {"source": s, "locator": "p. 9"}})
    approve(api, a)
    approve(api, b)
    assert rank(api, a, {"rank": "preferred", "reason": "the case file"}).status_code == 200
    conflicts = {c["kind"]: c for c in bio(api, person)["conflicts"]}
    assert conflicts["death"]["claims"] == [a, b]
    assert conflicts["death"]["preferred"] == [a]
    assert conflicts["death_manner"]["preferred"] == [a]
    # deprecating one reading ends the conflict
    assert rank(api, b, {"rank": "deprecated", "reason": "a rumour"}).status_code == 200
    assert bio(api, person)["conflicts"] == []


def test_a_deprecated_disbursement_leaves_the_ledger(api: Api) -> None:
    s = api.source("Synthetic bulletin (test, not historical)")
    person = api.person("Test Exile (synthetic)", s)
    fund = api.post("/funds", {"name": "Test Fund (synthetic)", "citation": {"source": s}})
    assert fund.status_code == 201, fund.text
    fund_id = fund.json()["id"]
    claim = api.claim({"kind": "disbursement", "fund": fund_id, "recipient": person,
                       "amount": "25.00", "currency": "USD", "date": "1926-05",
                       "citation": {"source": s}})
    approve(api, claim)
    assert api.get(f"/funds/{fund_id}/ledger").json()["totals"]["USD"]["disbursed"] == "25.00"
    assert rank(api, claim, {"rank": "deprecated", "reason": "counted twice"}).status_code == 200
    ledger = api.get(f"/funds/{fund_id}/ledger").json()
    assert "USD" not in ledger["totals"] and ledger["entries"] == []
    assert rank(api, claim, {"rank": "normal"}).status_code == 200
    assert api.get(f"/funds/{fund_id}/ledger").json()["totals"]["USD"]["disbursed"] == "25.00"


def test_certainty_is_one_of_four_words(api: Api) -> None:
    s, person, place = setting(api)
    body = {"kind": "birth", "person": person, "date": "1900", "certainty": "likely",
            "citation": {"source": s}}
    problem = assert_problem(api.post("/claims", body), 422, "certainty")
    assert problem["errors"][0]["field"] == "certainty"
