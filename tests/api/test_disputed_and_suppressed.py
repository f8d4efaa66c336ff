"""Disputed claims and take-downs (issue 18, findings 11 and 5), through the real HTTP API on
both backends.

Disputed: an approved claim that a reviewer contests stays public, marked `disputed` with its
contest, and leaves every computed figure until the contest is resolved; a contest on a pending
claim stays private. Suppressed: an admin takes a claim's content, or an entity's label and
names, down from readers; every read shows the take-down in place of the content (as_of, the
log and the feed included); reviewers still read it, marked; unsuppress gives it back.
"""

from __future__ import annotations

import msgspec
import pytest
from starosta.projections.rules import COUNTED, PUBLIC, Viewer, may_see, sees_suppressed

from tests.api.conftest import Api, assert_problem

SECRET = "Zarnitsyn-the-informer"  # words of a claim that gets taken down: no seed holds them


class World:
    """A source, a person held at a place, and a fund, registered through the API."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.source = api.source("The camp register")
        self.counter = api.source("The prisoners' letters")
        self.person = api.person("Olga Taratuta", self.source)
        self.place = api.place("Butyrka", self.source)
        r = api.post("/funds", {"name": "Relief Fund", "citation": {"source": self.source}})
        assert r.status_code == 201, r.text
        self.fund = r.json()["id"]

    def approved(self, body: dict, who: str = "alice") -> str:
        claim = self.api.claim({**body, "citation": {"source": self.source, **body.get("citation", {})}}, who)
        r = self.api.post(f"/claims/{claim}/approve", None, "bob")
        assert r.status_code == 200, r.text
        return claim

    def custody(self, **extra) -> str:
        return self.approved({"kind": "custody", "person": self.person, "place": self.place,
                              "custody": "prison", "start": "1940-01-25", "end": "1940-09", **extra})

    def disbursement(self, amount: str = "25.00") -> str:
        return self.approved({"kind": "disbursement", "fund": self.fund, "recipient": self.person,
                              "amount": amount, "currency": "USD", "date": "1926-05"})

    def bio(self, who: str | None = None, **params) -> dict:
        r = self.api.get(f"/persons/{self.person}/biography", who, **params)
        assert r.status_code == 200, r.text
        return r.json()

    def held(self) -> set[str]:
        r = self.api.get(f"/places/{self.place}/population", None, at="1940")
        assert r.status_code == 200, r.text
        body = r.json()
        return {p["id"] for p in body["certain"] + body["possible"]}

    def totals(self) -> dict:
        r = self.api.get(f"/funds/{self.fund}/ledger")
        assert r.status_code == 200, r.text
        return r.json()["totals"]

    def head(self) -> int:
        return self.api.get("/events/head").json()["position"]

    def rows(self, who: str | None = None) -> list[dict]:
        r = self.api.get("/events", who, limit=1000)
        assert r.status_code == 200, r.text
        return r.json()["items"]


@pytest.fixture
def world(api: Api) -> World:
    return World(api)


def entries(bio: dict) -> dict[str, dict]:
    return {e["claim"]: e for e in bio["timeline"]}


# -- the rules, as functions ----------------------------------------------------------------------

def test_the_visibility_rules() -> None:
    anyone, reviewer = Viewer(), Viewer(name="bob", reviewer=True)
    assert may_see(anyone, "disputed", "alice") and may_see(anyone, "approved", "alice")
    assert not may_see(anyone, "contested", "alice") and not may_see(anyone, "pending", "alice")
    assert may_see(Viewer(name="alice"), "contested", "alice") and may_see(reviewer, "contested", "x")
    assert "disputed" in PUBLIC and COUNTED == ("approved",)  # shown, never counted
    assert not sees_suppressed(anyone) and not sees_suppressed(Viewer(name="alice"))
    assert sees_suppressed(reviewer)


# -- 11. disputed claims ----------------------------------------------------------------------------

def test_a_disputed_claim_is_public_marked_and_out_of_every_figure(api: Api, world: World) -> None:
    stay = world.custody()
    money = world.disbursement()
    assert world.held() == {world.person}
    assert world.totals()["USD"]["disbursed"] == "25.00"
    before = world.head()

    r = api.post(f"/claims/{stay}/contest", {"reason": "the register gives 1941", "citation": {
        "source": world.counter, "locator": "letter 4"}}, "carol")
    assert r.status_code == 200 and r.json()["status"] == "disputed", r.text
    assert api.post(f"/claims/{money}/contest", {"reason": "paid to another Olga"}, "carol").status_code == 200

    # anyone reads it, marked, with the contest: reason, counter-citation, who
    claim = api.get(f"/claims/{stay}")
    assert claim.status_code == 200, claim.text
    body = claim.json()
    assert body["status"] == "disputed"
    assert body["dispute"]["reason"] == "the register gives 1941"
    assert body["dispute"]["citation"]["source"] == world.counter
    assert body["dispute"]["actor"] == body["history"][-1]["actor"]  # one field for the contester
    assert body["dispute"]["actor"].startswith("A-")  # readers see the contester's account id
    named = api.get(f"/claims/{stay}", "root").json()["dispute"]["actor"]
    assert not named.startswith("A-") and named  # reviewers and admins see the name
    listed = api.get("/claims", None, status="disputed").json()["items"]
    assert {c["id"] for c in listed} == {stay, money}

    # the biography lists it, flagged, with the contest; the totals leave it out
    bio = world.bio()
    entry = entries(bio)[stay]
    assert entry["flags"] == ["disputed"] and entry["dispute"]["reason"] == "the register gives 1941"
    assert entry["dispute"]["citation"]["source"] == world.counter
    assert bio["custody"]["confinement"]["episodes"] == 0
    # populations and ledgers too
    assert world.held() == set()
    assert "USD" not in world.totals()
    # the log shows its rows to readers (it is public)
    assert not any(row["redacted"] for row in world.rows() if row["stream_id"] == stay)

    # as_of: the claim as it stood then (approved), and now (disputed)
    then = entries(world.bio(as_of=str(before)))[stay]
    assert then["status"] == "approved" and "dispute" not in then
    assert entries(world.bio(as_of=str(world.head())))[stay]["flags"] == ["disputed"]

    # dismissed: back in every figure
    assert api.post(f"/claims/{stay}/approve", {"reason": "the letters are later"}, "bob").status_code == 200
    assert world.held() == {world.person} and world.bio()["custody"]["confinement"]["episodes"] == 1
    assert entries(world.bio())[stay]["status"] == "approved"
    # upheld: rejected, gone for readers
    r = api.post(f"/claims/{money}/reject", {"reason": "another Olga"}, "bob")
    assert r.status_code == 200 and r.json()["status"] == "rejected", r.text
    assert_problem(api.get(f"/claims/{money}"), 404, money)
    assert "USD" not in world.totals()


def test_a_contest_on_a_pending_claim_stays_private(api: Api, world: World) -> None:
    pending = api.claim({"kind": "custody", "person": world.person, "place": world.place,
                         "custody": "prison", "start": "1941", "citation": {"source": world.source}})
    r = api.post(f"/claims/{pending}/contest", {"reason": "no such record"}, "carol")
    assert r.status_code == 200 and r.json()["status"] == "contested", r.text
    assert_problem(api.get(f"/claims/{pending}"), 404, pending)
    assert_problem(api.get(f"/claims/{pending}", "dave"), 404, pending)
    assert api.get(f"/claims/{pending}", "alice").json()["status"] == "contested"  # its contributor
    assert pending not in entries(world.bio())
    assert all(row["redacted"] for row in world.rows() if row["stream_id"] == pending)


# -- 5. suppression of a claim -------------------------------------------------------------------

def test_suppress_needs_an_admin_a_reason_and_a_known_claim(api: Api, world: World) -> None:
    stay = world.custody()
    for who, status in ((None, 401), ("alice", 403), ("bob", 403)):
        assert_problem(api.post(f"/claims/{stay}/suppress", {"reason": "x"}, who), status)
    assert_problem(api.post(f"/claims/{stay}/suppress", None, "root"), 422, "reason")
    assert_problem(api.post(f"/claims/{stay}/suppress", {"reason": ""}, "root"), 422, "reason")
    assert_problem(api.post("/claims/C-NOSUCH00/suppress", {"reason": "x"}, "root"), 404, "C-NOSUCH00")
    assert_problem(api.post(f"/claims/{stay}/unsuppress", {"reason": "x"}, "root"), 409, "not suppressed")
    r = api.post(f"/claims/{stay}/suppress", {"reason": "defamatory"}, "root")
    assert r.status_code == 200, r.text
    assert r.json() == {"id": stay, "kind": "claim", "suppressed": True, "reason": "defamatory",
                        "position": world.head()}
    assert_problem(api.post(f"/claims/{stay}/suppress", {"reason": "again"}, "root"), 409, "already")
    assert_problem(api.post(f"/claims/{stay}/unsuppress", None, "root"), 422, "reason")


def test_a_suppressed_claim_shows_no_content_to_readers_in_any_read(api: Api, world: World) -> None:
    stay = world.custody(said=SECRET, citation={"quote": SECRET})
    money = world.disbursement("40.00")
    before = world.head()
    for claim in (stay, money):
        r = api.post(f"/claims/{claim}/suppress", {"reason": "wrong person: a take-down"}, "root")
        assert r.status_code == 200, r.text
    at = world.head()

    def no_secret(r) -> dict | list:
        assert r.status_code == 200, r.text
        assert SECRET not in r.text
        return r.json()

    for who in (None, "alice", "dave"):  # the claim's own contributor is a reader here too
        claim = no_secret(api.get(f"/claims/{stay}", who))
        assert claim["suppressed"]["reason"] == "wrong person: a take-down"
        assert claim["suppressed"]["position"] == at - 1
        assert claim["claim"] == {} and claim["history"] == [] and claim["contributor"] == ""
        no_secret(api.get("/claims", who, person=world.person))
        for as_of in (None, str(before), str(at)):  # as_of applies the take-downs in force now
            bio = no_secret(api.get(f"/persons/{world.person}/biography", who,
                                    **({"as_of": as_of} if as_of else {})))
            assert stay not in entries(bio)
            assert {t["claim"]: t["suppressed"]["reason"] for t in bio["suppressed"]} == {
                stay: "wrong person: a take-down", money: "wrong person: a take-down"}
            assert bio["custody"]["confinement"]["episodes"] == 0
    assert world.held() == set()
    assert "USD" not in world.totals()
    csv = api.get(f"/funds/{world.fund}/ledger", None, format="csv")
    assert csv.status_code == 200 and "40.00" not in csv.text
    no_secret(api.get(f"/sources/{world.source}"))

    # the log: the claim's rows redacted for readers, the take-down itself public
    rows = world.rows()
    assert all(row["redacted"] and row["data"] is None for row in rows if row["stream_id"] == stay)
    taken = [row for row in rows if row["type"] == "content.suppressed"]
    assert [(r["data"]["target"], r["data"]["reason"], r["redacted"]) for r in taken] == [
        (stay, "wrong person: a take-down", False), (money, "wrong person: a take-down", False)]
    assert SECRET not in msgspec.json.encode(rows).decode()
    feed = api.client.get("/events/stream", params={"timeout": 1})
    assert feed.status_code == 200 and SECRET not in feed.text and "content.suppressed" in feed.text

    # reviewers and admins still read the content, marked
    for who in ("bob", "root"):
        claim = api.get(f"/claims/{stay}", who).json()
        assert claim["claim"]["said"] == SECRET and claim["suppressed"]["reason"]
        shown = entries(world.bio(who, include="pending"))[stay]
        assert "suppressed" in shown["flags"] and shown["fields"]["said"] == SECRET
    assert SECRET in msgspec.json.encode(world.rows("root")).decode()

    # unsuppress: back for readers, everywhere
    for claim in (stay, money):
        r = api.post(f"/claims/{claim}/unsuppress", {"reason": "the request was withdrawn"}, "root")
        assert r.status_code == 200 and r.json()["suppressed"] is False, r.text
    assert api.get(f"/claims/{stay}").json()["claim"]["said"] == SECRET
    assert entries(world.bio())[stay]["fields"]["said"] == SECRET and world.bio()["suppressed"] == []
    assert world.held() == {world.person} and world.totals()["USD"]["disbursed"] == "40.00"
    assert not any(row["redacted"] for row in world.rows() if row["stream_id"] == stay)


# -- 5. suppression of an entity: its label and names ------------------------------------------------

def test_a_suppressed_entity_keeps_its_id_and_loses_its_label_and_names(api: Api, world: World) -> None:
    r = api.post("/persons", {"name": SECRET, "citation": {"source": world.source}})
    assert r.status_code == 201, r.text
    person, name_claim = r.json()["id"], r.json()["name_claim"]
    assert api.post(f"/claims/{name_claim}/approve", None, "bob").status_code == 200
    stay = world.approved({"kind": "custody", "person": person, "place": world.place,
                           "custody": "prison", "start": "1940", "end": "1940-12"})
    assert api.get("/persons", None, q=SECRET).json()["items"]
    for who, status in ((None, 401), ("bob", 403)):
        assert_problem(api.post(f"/persons/{person}/suppress", {"reason": "x"}, who), status)
    assert_problem(api.post("/places/PL-NOSUCH0/suppress", {"reason": "x"}, "root"), 404, "PL-NOSUCH0")
    r = api.post(f"/persons/{person}/suppress", {"reason": "a living relative asked"}, "root")
    assert r.status_code == 200 and r.json()["kind"] == "person", r.text

    record = api.get(f"/persons/{person}")
    assert record.status_code == 200 and SECRET not in record.text
    body = record.json()
    assert (body["label"], body.get("data"), body.get("names", [])) == ("[suppressed]", {}, [])
    assert body["suppressed"]["reason"] == "a living relative asked"
    bio = api.get(f"/persons/{person}/biography")
    assert bio.status_code == 200 and SECRET not in bio.text
    assert bio.json()["label"] == "[suppressed]" and bio.json()["suppression"]["reason"]
    assert stay in entries(bio.json())  # the claims about the record stay, the names go
    population = api.get(f"/places/{world.place}/population", None, at="1940")
    assert SECRET not in population.text
    assert {p["id"]: p["name"] for p in population.json()["certain"]}[person] == "[suppressed]"
    claim = api.get(f"/claims/{stay}")
    assert SECRET not in claim.text and claim.json()["refs"]["person"]["label"] == "[suppressed]"
    assert api.get("/persons", None, q=SECRET).json()["items"] == []
    assert SECRET not in api.get("/persons").text
    as_of = api.get(f"/persons/{person}/biography", None, as_of=str(world.head() - 1))
    assert as_of.status_code == 200 and SECRET not in as_of.text
    rows = world.rows()
    assert all(row["redacted"] for row in rows if row["stream_id"] in (person, name_claim))
    assert SECRET not in msgspec.json.encode(rows).decode()

    # reviewers read the record, marked
    seen = api.get(f"/persons/{person}", "bob").json()
    assert seen["label"] == SECRET and seen["suppressed"] and seen["names"][0]["suppressed"]

    r = api.post(f"/persons/{person}/unsuppress", {"reason": "withdrawn"}, "root")
    assert r.status_code == 200, r.text
    assert api.get(f"/persons/{person}").json()["label"] == SECRET
    assert api.get(f"/persons/{person}/biography").json()["label"] == SECRET
    assert api.get("/persons", None, q=SECRET).json()["items"][0]["id"] == person


@pytest.mark.parametrize("collection", ["places", "organizations", "funds", "sources"])
def test_every_kind_of_entity_can_be_suppressed(api: Api, world: World, collection: str) -> None:
    if collection == "organizations":
        r = api.post("/organizations", {"name": SECRET, "kind": "committee",
                                        "citation": {"source": world.source}})
        assert r.status_code == 201, r.text
        target = r.json()["id"]
    else:
        target = {"places": world.place, "funds": world.fund, "sources": world.source}[collection]
    r = api.post(f"/{collection}/{target}/suppress", {"reason": "take-down"}, "root")
    assert r.status_code == 200, r.text
    shown = api.get(f"/{collection}/{target}").json()
    assert shown["label"] == "[suppressed]" and shown["data"] == {} and shown["suppressed"]
    assert api.post(f"/{collection}/{target}/unsuppress", {"reason": "back"}, "root").status_code == 200
    assert api.get(f"/{collection}/{target}").json()["label"] != "[suppressed]"
