"""Review over HTTP: the claim lifecycle, its rules, roles, races, If-Match, Idempotency-Key,
the review queue, bulk approval and supersession (the real app, a real SQLite file)."""

from __future__ import annotations

import re

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable

import httpx
import pytest

from starosta.service.domain.ids import ACCOUNT_ID
from tests.api.conftest import Api, assert_problem

PROBLEM = "application/problem+json"
BAD_TOKEN = {"Authorization": "Bearer sta_not-a-token-of-this-archive"}


# -- helpers -------------------------------------------------------------------------------



def error_fields(body: dict) -> set[str]:
    return {e["field"] for e in body.get("errors") or []}


def head(api: Api) -> int:
    return api.get("/events/head").json()["position"]


def when(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass
class World:
    """A source, two persons and two places registered by root (their name claims are root's)."""

    api: Api
    source: str
    other_source: str
    person: str
    other_person: str
    place: str
    other_place: str
    name_claims: dict[str, str]

    @classmethod
    def make(cls, api: Api) -> World:
        s0 = api.source("Registry source")
        names: dict[str, str] = {}

        def register(path: str, body: dict) -> str:
            r = api.post(path, {**body, "citation": {"source": s0}}, "root")
            assert r.status_code == 201, r.text
            names[r.json()["id"]] = r.json()["name_claim"]
            return r.json()["id"]

        return cls(api=api,
                   source=api.source("10 Años en la URSS"),
                   other_source=api.source("The Guillotine at Work"),
                   person=register("/persons", {"name": "Francisco Ascaso"}),
                   other_person=register("/persons", {"name": "Mollie Steimer"}),
                   place=register("/places", {"name": "Butyrka", "kind": "prison"}),
                   other_place=register("/places", {"name": "Solovki", "kind": "camp"}),
                   name_claims=names)

    def custody(self, person: str | None = None, place: str | None = None,
                source: str | None = None, start: str = "1940-01-25", **extra: Any) -> dict:
        return {"kind": "custody", "person": person or self.person, "place": place or self.place,
                "custody": "prison", "start": start, "end": "1940-09",
                "citation": {"source": source or self.source, "locator": "para. 4"}, **extra}

    def death(self, person: str | None = None, place: str | None = None,
              source: str | None = None) -> dict:
        return {"kind": "death", "person": person or self.person, "date": "1925-04",
                "place": place or self.other_place, "citation": {"source": source or self.source}}

    def birth(self, person: str | None = None, source: str | None = None) -> dict:
        return {"kind": "birth", "person": person or self.person, "date": "1897",
                "citation": {"source": source or self.source}}


@pytest.fixture
def world(api: Api) -> World:
    return World.make(api)


def decide(api: Api, claim: str, action: str, who: str, reason: str | None = "checked",
           **headers: str) -> httpx.Response:
    body: dict[str, Any] = {} if reason is None else {"reason": reason}
    return api.post(f"/claims/{claim}/{action}", body, who, **headers)


def claim_of(api: Api, claim: str, who: str | None = "bob") -> dict:
    r = api.get(f"/claims/{claim}", who)
    assert r.status_code == 200, r.text
    return r.json()


# -- 1. the lifecycle --------------------------------------------------------------------------

def test_submit_approve_contest_and_uphold_the_contest(api: Api, world: World) -> None:
    r = api.post("/claims", world.custody(said="on 25-1-1940"), "alice")
    assert r.status_code == 201, r.text
    submitted = r.json()
    claim = submitted["id"]
    assert submitted["status"] == "pending" and claim.startswith("C-")
    assert isinstance(submitted["position"], int) and submitted["position"] == head(api)

    # pending: hidden from anonymous readers and other contributors, seen by its contributor
    # and by reviewers
    assert_problem(api.get(f"/claims/{claim}"), 404, claim)
    assert_problem(api.get(f"/claims/{claim}", "dave"), 404, claim)
    for who in ("alice", "bob", "carol", "root"):
        r = api.get(f"/claims/{claim}", who)
        assert r.status_code == 200, (who, r.text)
        body = r.json()
        assert body["status"] == "pending" and body["version"] == 1 and r.headers["etag"] == '"1"'
        # reviewers see the contributor's name; the contributor herself, her account id
        shown = body["contributor"]
        assert (shown == "alice") if who != "alice" else re.fullmatch(ACCOUNT_ID, shown), shown
        assert body["position"] == submitted["position"]
        assert body["claim"]["said"] == "on 25-1-1940" and body["claim"]["person"] == world.person
        assert [h["action"] for h in body["history"]] == ["submit"]

    # bob approves
    r = decide(api, claim, "approve", "bob", reason=None)
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == '"2"'
    approved = r.json()
    assert approved["id"] == claim and approved["status"] == "approved" and approved["version"] == 2
    submit, approve = approved["history"]
    assert (submit["action"], submit["actor"], submit["version"]) == ("submit", "alice", 1)
    assert (approve["action"], approve["actor"], approve["version"]) == ("approve", "bob", 2)
    assert not approve.get("resolves_contest", False)  # omitted when false
    assert when(submit["recorded_at"]) <= when(approve["recorded_at"])
    assert approve["position"] == head(api) > submit["position"]

    # now public, with the same content and ETag
    r = api.get(f"/claims/{claim}")
    assert r.status_code == 200 and r.headers["etag"] == '"2"'
    public = r.json()  # the same, but who acted is shown to readers by account id only
    accounts = [public["contributor"], *(h["actor"] for h in public["history"])]
    assert all(re.fullmatch(ACCOUNT_ID, a) for a in accounts) and accounts[0] != accounts[2]
    assert accounts[0] == accounts[1]  # alice's one account
    assert {**public, "contributor": "alice", "history": approved["history"]} == approved

    # carol contests with a counter-citation from a registered source
    counter = api.source("Memorial: Victims of Political Terror")
    r = api.post(f"/claims/{claim}/contest",
                 {"reason": "the camp register gives 1941",
                  "citation": {"source": counter, "locator": "p. 12", "quote": "1941"}}, "carol")
    assert r.status_code == 200, r.text
    contested = r.json()
    assert contested["status"] == "disputed" and contested["version"] == 3  # contested once public
    assert contested["contested_by"] == "carol" and r.headers["etag"] == '"3"'
    last = contested["history"][-1]
    assert (last["action"], last["actor"], last["reason"]) == ("contest", "carol",
                                                               "the camp register gives 1941")
    assert last["citation"]["source"] == counter and last["citation"]["locator"] == "p. 12"
    assert contested["dispute"] == last
    # still public, marked disputed, with the contest: readers learn it is disputed and why
    r = api.get(f"/claims/{claim}")
    assert r.status_code == 200
    seen = r.json()  # the same claim, every account shown by its id to a reader
    assert seen["dispute"] == seen["history"][-1] == {**last, "actor": seen["contested_by"]}
    assert re.fullmatch(ACCOUNT_ID, seen["contested_by"]) and seen["contested_by"] not in accounts
    assert {**seen, "contributor": "alice", "contested_by": "carol", "dispute": last,
            "history": contested["history"]} == contested

    # the reviewer who contested may not resolve the contest, either way
    assert_problem(decide(api, claim, "approve", "carol"), 403, "carol")
    assert_problem(decide(api, claim, "reject", "carol"), 403, "carol")
    assert claim_of(api, claim)["version"] == 3

    # bob upholds the contest
    r = decide(api, claim, "reject", "bob", reason="contest upheld: the register is better")
    assert r.status_code == 200, r.text
    rejected = r.json()
    assert rejected["status"] == "rejected" and rejected["version"] == 4
    assert rejected["contested_by"] is None
    last = rejected["history"][-1]
    assert (last["action"], last["actor"], last["resolves_contest"]) == ("reject", "bob", True)
    assert last["reason"] == "contest upheld: the register is better"
    assert [h["action"] for h in rejected["history"]] == ["submit", "approve", "contest", "reject"]
    assert_problem(api.get(f"/claims/{claim}"), 404)
    assert claim_of(api, claim, "alice")["status"] == "rejected"


def test_a_contest_dismissed_by_approval(api: Api, world: World) -> None:
    # approved, contested, approved again: the contest is dismissed
    first = api.claim(world.custody())
    assert decide(api, first, "approve", "bob").status_code == 200
    assert decide(api, first, "contest", "carol", reason="doubtful").status_code == 200
    r = decide(api, first, "approve", "root", reason="the contest does not hold")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "approved" and body["version"] == 4 and body["contested_by"] is None
    assert [(h["action"], h["actor"], h.get("resolves_contest", False))
            for h in body["history"]] == [
        ("submit", "alice", False), ("approve", "bob", False), ("contest", "carol", False),
        ("approve", "root", True)]
    assert api.get(f"/claims/{first}").status_code == 200  # public again

    # contested while pending, then approved: also a dismissed contest
    second = api.claim(world.death())
    assert decide(api, second, "contest", "carol", reason="no such record").status_code == 200
    r = decide(api, second, "approve", "bob")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "approved" and r.json()["history"][-1]["resolves_contest"] is True


def test_contest_with_an_unregistered_counter_source_is_404(api: Api, world: World) -> None:
    claim = api.claim(world.custody())
    body = assert_problem(api.post(f"/claims/{claim}/contest",
                                   {"reason": "x", "citation": {"source": "S-ZZZZZZZZ"}}, "bob"),
                          404, "citation.source", "S-ZZZZZZZZ")
    assert "citation.source" in error_fields(body)
    assert claim_of(api, claim)["status"] == "pending"


# -- 2. the rules --------------------------------------------------------------------------------

def test_nobody_reviews_their_own_claim(api: Api, world: World) -> None:
    own = api.claim(world.custody(), who="bob")
    for action in ("approve", "reject", "contest"):
        assert_problem(decide(api, own, action, "bob"), 403, own)
    assert claim_of(api, own)["version"] == 1
    r = decide(api, own, "approve", "carol")  # another reviewer may
    assert r.status_code == 200 and r.json()["status"] == "approved"
    admins = api.claim(world.death(), who="root")
    assert_problem(decide(api, admins, "approve", "root"), 403)


@pytest.mark.parametrize("action", ["reject", "contest", "retract"])
@pytest.mark.parametrize("body", [{}, {"reason": ""}], ids=["missing", "empty"])
def test_reject_contest_and_retract_need_a_reason(api: Api, world: World, action, body) -> None:
    claim = api.claim(world.custody())
    who = "alice" if action == "retract" else "bob"
    problem = assert_problem(api.post(f"/claims/{claim}/{action}", body, who), 422, "reason")
    assert problem["errors"]
    assert claim_of(api, claim)["status"] == "pending"


@pytest.mark.parametrize("action", ["reject", "contest", "retract"])
def test_a_decision_without_any_body_names_reason(api: Api, world: World, action) -> None:
    claim = api.claim(world.custody())
    who = "alice" if action == "retract" else "bob"
    r = api.client.post(f"/claims/{claim}/{action}", headers=api.auth(who))
    assert_problem(r, 422, "reason")


def test_retract_by_its_contributor_while_pending(api: Api, world: World) -> None:
    claim = api.claim(world.custody())
    r = decide(api, claim, "retract", "alice", reason="I misread the page")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "retracted" and body["version"] == 2
    last = body["history"][-1]
    assert (last["action"], last["actor"], last["reason"]) == ("retract", "alice", "I misread the page")
    assert_problem(api.get(f"/claims/{claim}"), 404)
    # a retracted claim is final
    assert_problem(decide(api, claim, "approve", "bob"), 409, "retracted")
    assert_problem(decide(api, claim, "retract", "alice"), 409)


def test_retract_by_someone_else(api: Api, world: World) -> None:
    claim = api.claim(world.custody())
    # another contributor cannot even see alice's pending claim: 404, as for a GET
    assert_problem(decide(api, claim, "retract", "dave"), 404, claim)
    # a reviewer sees it but is not its contributor: 403
    assert_problem(decide(api, claim, "retract", "bob"), 403, claim)
    body = claim_of(api, claim)
    assert body["status"] == "pending" and body["version"] == 1


def test_retract_after_approval_is_409(api: Api, world: World) -> None:
    claim = api.claim(world.custody())
    assert decide(api, claim, "approve", "bob").status_code == 200
    assert_problem(decide(api, claim, "retract", "alice"), 409, "approved")
    assert claim_of(api, claim)["status"] == "approved"


def test_approve_twice_is_409_the_second_time(api: Api, world: World) -> None:
    claim = api.claim(world.custody())
    assert decide(api, claim, "approve", "bob").status_code == 200
    before = head(api)
    assert_problem(decide(api, claim, "approve", "carol"), 409, "approved")
    assert_problem(decide(api, claim, "approve", "bob"), 409)
    assert_problem(decide(api, claim, "reject", "carol"), 409)
    assert head(api) == before
    assert [h["action"] for h in claim_of(api, claim)["history"]] == ["submit", "approve"]


@pytest.mark.parametrize("method, suffix, who", [
    ("GET", "", None), ("GET", "", "bob"), ("POST", "/approve", "bob"), ("POST", "/reject", "bob"),
    ("POST", "/contest", "bob"), ("POST", "/retract", "alice"),
])
def test_unknown_claim_is_404_problem(api: Api, method, suffix, who) -> None:
    path = f"/claims/C-ZZZZZZZZ{suffix}"
    r = api.get(path, who) if method == "GET" else api.post(path, {"reason": "x"}, who)
    assert_problem(r, 404, "C-ZZZZZZZZ")


def test_a_registered_entity_id_is_not_a_claim(api: Api, world: World) -> None:
    assert_problem(decide(api, world.person, "approve", "bob"), 404, world.person)
    assert_problem(api.get(f"/claims/{world.person}", "bob"), 404)


# -- 3. roles x endpoints ------------------------------------------------------------------------

ROLES = {"none": None, "bad": "bad", "contributor": "alice", "reviewer": "bob", "admin": "root"}
Request = tuple[str, str, Any]  # method, path, body


def _person(api: Api, source: str, name: str) -> str:
    return api.person(name, source)


def _pending(api: Api, who: str = "alice") -> tuple[str, str]:
    source = api.source()
    person = api.person("Gregori Maximoff", source)
    return api.claim({"kind": "birth", "person": person, "date": "1893",
                      "citation": {"source": source}}, who=who), source


def setup_registry(path: str, body: Callable[[str], dict]) -> Callable[[Api, str | None], Request]:
    def setup(api: Api, actor: str | None) -> Request:
        return "POST", path, body(api.source())
    return setup


def setup_claim(api: Api, actor: str | None) -> Request:
    source = api.source()
    person = api.person("Olga Taratuta", source)
    return "POST", "/claims", {"kind": "death", "person": person, "date": "1938-02-08",
                               "manner": "shot", "citation": {"source": source}}


def setup_decision(action: str, body: dict) -> Callable[[Api, str | None], Request]:
    def setup(api: Api, actor: str | None) -> Request:
        claim, _ = _pending(api)
        return "POST", f"/claims/{claim}/{action}", body
    return setup


def setup_retract(api: Api, actor: str | None) -> Request:
    # each role retracts its own claim; anonymous and bad-token callers try alice's
    claim, _ = _pending(api, actor if actor in ("alice", "bob", "root") else "alice")
    return "POST", f"/claims/{claim}/retract", {"reason": "a duplicate"}


def setup_bulk(api: Api, actor: str | None) -> Request:
    claim, _ = _pending(api)
    return "POST", "/claims/approve", {"ids": [claim]}


def setup_merge(api: Api, actor: str | None) -> Request:
    source = api.source()
    a, b = _person(api, source, "A. Baron"), _person(api, source, "Aron Baron")
    return "POST", f"/persons/{a}/merge", {"into": b, "reason": "same man", "citation": {"source": source}}


def setup_unmerge(api: Api, actor: str | None) -> Request:
    source = api.source()
    a, b = _person(api, source, "A. Baron"), _person(api, source, "Aron Baron")
    r = api.post(f"/persons/{a}/merge", {"into": b, "reason": "same man"}, "carol")
    assert r.status_code == 200, r.text
    return "POST", f"/persons/{a}/unmerge", {"reason": "two men after all"}


def setup_distinct(api: Api, actor: str | None) -> Request:
    source = api.source()
    a, b = _person(api, source, "Fanya Baron"), _person(api, source, "Fanya Avrutskaya")
    return "POST", f"/persons/{a}/distinct", {"from": b, "reason": "different birth years"}


def setup_get(path: str) -> Callable[[Api, str | None], Request]:
    def setup(api: Api, actor: str | None) -> Request:
        return "GET", path, None
    return setup


def setup_get_claim(api: Api, actor: str | None) -> Request:
    claim, _ = _pending(api)
    assert decide(api, claim, "approve", "carol").status_code == 200
    return "GET", f"/claims/{claim}", None


def setup_queue(api: Api, actor: str | None) -> Request:
    _pending(api)
    return "GET", "/claims?status=pending", None


# endpoint -> (setup, lowest role, success status, may anonymous call it)
ENDPOINTS: dict[str, tuple[Callable[[Api, str | None], Request], str, int, bool]] = {
    "POST /sources": (setup_registry("/sources", lambda s: {"csl": {"type": "book", "title": "Letters"},
                                                             "note": "from Amsterdam"}),
                      "contributor", 201, False),
    "POST /persons": (setup_registry("/persons", lambda s: {"name": "Nikolai Rogdaev",
                                                             "citation": {"source": s}}),
                      "contributor", 201, False),
    "POST /places": (setup_registry("/places", lambda s: {"name": "Suzdal", "kind": "isolator",
                                                           "aliases": ["Suzdal politisolator"],
                                                           "citation": {"source": s}}),
                     "contributor", 201, False),
    "POST /organizations": (setup_registry("/organizations", lambda s: {
        "name": "Joint Committee", "kind": "committee", "citation": {"source": s}}),
        "contributor", 201, False),
    "POST /funds": (setup_registry("/funds", lambda s: {"name": "Relief Fund of the IWMA",
                                                         "citation": {"source": s}}),
                    "contributor", 201, False),
    "POST /claims": (setup_claim, "contributor", 201, False),
    "POST /claims/{id}/approve": (setup_decision("approve", {}), "reviewer", 200, False),
    "POST /claims/{id}/reject": (setup_decision("reject", {"reason": "no such page"}),
                                 "reviewer", 200, False),
    "POST /claims/{id}/contest": (setup_decision("contest", {"reason": "doubtful"}),
                                  "reviewer", 200, False),
    "POST /claims/{id}/retract": (setup_retract, "contributor", 200, False),
    "POST /claims/approve": (setup_bulk, "reviewer", 200, False),
    "POST /persons/{id}/merge": (setup_merge, "reviewer", 200, False),
    "POST /persons/{id}/unmerge": (setup_unmerge, "reviewer", 200, False),
    "POST /persons/{id}/distinct": (setup_distinct, "reviewer", 200, False),
    "GET /claims?status=pending": (setup_queue, "contributor", 200, False),
    "GET /claims/{id}": (setup_get_claim, "contributor", 200, True),
    "GET /persons": (setup_get("/persons"), "contributor", 200, True),
    "GET /events": (setup_get("/events"), "contributor", 200, True),
}
RANK = {"contributor": 1, "reviewer": 2, "admin": 3}


# The matrix tests the wiring (each endpoint's guard, its 401/403 and that a refused write
# appends nothing), which no database changes: it runs on SQLite only. Token look-ups on
# PostgreSQL are exercised by every other PostgreSQL API test, and the role order itself is
# tested as a pure function (tests/unit/test_account_rules.py, test_principal_roles_rank_in_order).
@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize("role", list(ROLES))
@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_role_matrix(api: Api, endpoint: str, role: str) -> None:
    setup, lowest, success, public = ENDPOINTS[endpoint]
    actor = ROLES[role]
    method, path, body = setup(api, actor)
    headers = BAD_TOKEN if actor == "bad" else api.auth(actor)
    before = head(api)
    r = api.client.request(method, path, json=body, headers=headers)
    if role == "bad":
        assert_problem(r, 401)
    elif role == "none":
        if public:
            assert r.status_code == 200, r.text
        else:
            assert_problem(r, 401)
    elif RANK[role] < RANK[lowest]:
        assert_problem(r, 403, lowest)
    else:
        assert r.status_code == success, r.text
        assert r.headers["content-type"].startswith("application/json")
        out = r.json()
        if endpoint == "POST /claims/approve":
            assert [item["status"] for item in out["items"]] == [200]
        elif method == "POST":
            assert out["id"]
        else:
            assert "items" in out or out["status"] == "approved"
    if method == "POST" and r.status_code >= 400:
        assert head(api) == before  # a refused write appends nothing


# -- 4. races and If-Match --------------------------------------------------------------------------

def race(api: Api, calls: list[tuple[str, dict, str]]) -> list[httpx.Response]:
    """POST every (path, body, who) from its own thread, released together by a barrier."""
    barrier = threading.Barrier(len(calls), timeout=10)

    def run(call: tuple[str, dict, str]) -> httpx.Response:
        path, body, who = call
        barrier.wait()
        return api.post(path, body, who)

    with ThreadPoolExecutor(len(calls)) as pool:
        futures = [pool.submit(run, c) for c in calls]
        return [f.result(timeout=30) for f in futures]


# Pairs where neither decision is allowed after the other, so whichever order they land in,
# exactly one may win (contest then reject would both be fine in sequence).
@pytest.mark.parametrize("first, second", [("approve", "approve"), ("approve", "reject"),
                                           ("reject", "reject")])
def test_two_reviewers_deciding_at_once_one_wins(api: Api, world: World, first, second) -> None:
    for _ in range(10):
        claim = api.claim(world.custody())
        results = race(api, [(f"/claims/{claim}/{first}", {"reason": "bob's view"}, "bob"),
                             (f"/claims/{claim}/{second}", {"reason": "carol's view"}, "carol")])
        codes = sorted(r.status_code for r in results)
        assert codes == [200, 409], [r.text for r in results]
        winner = next(r for r in results if r.status_code == 200).json()
        loser = next(r for r in results if r.status_code == 409)
        assert_problem(loser, 409, claim)
        body = claim_of(api, claim)
        decisions = [h for h in body["history"] if h["action"] != "submit"]
        assert len(decisions) == 1 and body["version"] == 2
        assert decisions[0]["actor"] == winner["history"][-1]["actor"]
        assert body["status"] == winner["status"]


def test_if_match(api: Api, world: World) -> None:
    claim = api.claim(world.custody())
    etag = api.get(f"/claims/{claim}", "bob").headers["etag"]
    assert etag == '"1"'
    # a wrong version while pending is 409 and changes nothing
    assert_problem(decide(api, claim, "approve", "bob", **{"If-Match": '"7"'}), 409, claim)
    # malformed: 422 naming If-Match
    for bad in ("abc", '"v1"', "1.0"):
        problem = assert_problem(decide(api, claim, "approve", "bob", **{"If-Match": bad}),
                                 422, "If-Match")
        assert "If-Match" in error_fields(problem)
    assert claim_of(api, claim)["version"] == 1
    # the right one
    r = decide(api, claim, "approve", "bob", **{"If-Match": etag})
    assert r.status_code == 200 and r.headers["etag"] == '"2"'
    # stale after approval
    assert_problem(decide(api, claim, "contest", "carol", **{"If-Match": '"1"'}), 409, claim)
    assert claim_of(api, claim)["status"] == "approved"
    r = decide(api, claim, "contest", "carol", **{"If-Match": r.headers["etag"]})
    assert r.status_code == 200 and r.json()["status"] == "disputed"
    assert r.headers["etag"] == '"3"'


# -- 5. Idempotency-Key --------------------------------------------------------------------------------

def test_idempotent_submission_is_replayed(api: Api, world: World) -> None:
    body = world.custody()
    key = {"Idempotency-Key": "submit-ascaso-1"}
    first = api.post("/claims", body, "alice", **key)
    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    position = head(api)
    pending = len(api.get("/claims", "alice", status="pending").json()["items"])

    again = api.post("/claims", body, "alice", **key)
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert head(api) == position
    assert len(api.get("/claims", "alice", status="pending").json()["items"]) == pending

    # the same key with another body
    problem = assert_problem(api.post("/claims", world.death(), "alice", **key), 422,
                             "Idempotency-Key")
    assert "Idempotency-Key" in error_fields(problem)
    assert head(api) == position

    # scoped to the token: dave's request with the same key and body is his own
    theirs = api.post("/claims", body, "dave", **key)
    assert theirs.status_code == 201 and "idempotent-replayed" not in theirs.headers
    assert theirs.json()["id"] != first.json()["id"] and theirs.json()["position"] == position + 1
    assert claim_of(api, theirs.json()["id"])["contributor"] == "dave"

    # scoped to the path: the same key on /sources is a new request
    source = api.post("/sources", {"csl": {"type": "book", "title": "Bulletin"}}, "alice", **key)
    assert source.status_code == 201 and "idempotent-replayed" not in source.headers
    assert head(api) == position + 2


def test_a_refused_request_is_not_remembered(api: Api, world: World) -> None:
    key = {"Idempotency-Key": "k-refused"}
    wrong = world.custody(source="S-ZZZZZZZZ")
    assert_problem(api.post("/claims", wrong, "alice", **key), 404, "citation.source")
    assert_problem(api.post("/claims", wrong, "alice", **key), 404, "citation.source")
    r = api.post("/claims", world.custody(), "alice", **key)  # another body: not a 422
    assert r.status_code == 201, r.text


def test_a_replayed_approval_answers_before_any_state_check(api: Api, world: World) -> None:
    claim = api.claim(world.custody())
    key = {"Idempotency-Key": "approve-once"}
    first = api.post(f"/claims/{claim}/approve", {}, "bob", **key)
    assert first.status_code == 200 and first.json()["status"] == "approved"
    position = head(api)

    again = api.post(f"/claims/{claim}/approve", {}, "bob", **key)
    assert again.status_code == 200, again.text
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert head(api) == position
    # without the key the same request meets the state check
    assert_problem(api.post(f"/claims/{claim}/approve", {}, "bob"), 409)
    # the key is bob's: carol's request with it is checked afresh
    assert_problem(api.post(f"/claims/{claim}/approve", {}, "carol", **key), 409)
    assert len(claim_of(api, claim)["history"]) == 2


def test_the_same_key_sent_twice_at_once_appends_once(api: Api, world: World) -> None:
    for i in range(10):
        body, key = world.custody(), {"Idempotency-Key": f"at-once-{i}"}
        before = head(api)
        barrier = threading.Barrier(2, timeout=10)

        def send(_: int) -> httpx.Response:
            barrier.wait()
            return api.post("/claims", body, "alice", **key)

        with ThreadPoolExecutor(2) as pool:
            results = [f.result(timeout=30) for f in [pool.submit(send, k) for k in range(2)]]
        assert [r.status_code for r in results] == [201, 201], [r.text for r in results]
        assert results[0].json() == results[1].json()
        assert sorted(r.headers.get("idempotent-replayed", "") for r in results) == ["", "true"]
        assert head(api) == before + 1


def test_a_replayed_approval_carries_the_first_answers_etag(api: Api, world: World) -> None:
    claim = api.claim(world.custody())
    key = {"Idempotency-Key": "approve-etag"}
    first = api.post(f"/claims/{claim}/approve", {}, "bob", **key)
    assert first.headers["etag"] == '"2"'
    again = api.post(f"/claims/{claim}/approve", {}, "bob", **key)
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers.get("etag") == '"2"'


# -- 6. the review queue ----------------------------------------------------------------------------------

def ids(page: dict) -> list[str]:
    return [item["id"] for item in page["items"]]


def queue(api: Api, who: str | None = "bob", **filters) -> list[str]:
    r = api.get("/claims", who, status="pending", **filters)
    assert r.status_code == 200, r.text
    page = r.json()
    assert page["next"] is None
    positions = [item["position"] for item in page["items"]]
    assert positions == sorted(positions)  # oldest first
    assert all(item["status"] == "pending" for item in page["items"])
    return ids(page)


def test_review_queue(api: Api, world: World) -> None:
    w = world
    a1 = api.claim(w.custody(), "alice")
    a2 = api.claim(w.death(source=w.other_source), "alice")
    d1 = api.claim(w.custody(person=w.other_person), "dave")
    d2 = api.claim(w.birth(person=w.other_person), "dave")
    b1 = api.claim(w.custody(place=w.other_place, source=w.other_source), "bob")
    done = api.claim(w.custody(person=w.other_person, source=w.other_source), "alice")
    assert decide(api, done, "approve", "carol").status_code == 200
    n = w.name_claims  # the registrations' pending name claims (root's)
    everything = [n[w.person], n[w.other_person], n[w.place], n[w.other_place], a1, a2, d1, d2, b1]

    assert queue(api, "bob") == everything
    assert queue(api, "carol") == everything
    assert queue(api, "root") == everything
    assert queue(api, "bob", person=w.person) == [n[w.person], a1, a2, b1]
    assert queue(api, "bob", place=w.place) == [n[w.place], a1, d1]
    assert queue(api, "bob", source=w.source) == [a1, d1, d2]
    assert queue(api, "bob", contributor="dave") == [d1, d2]
    assert queue(api, "bob", kind="custody") == [a1, d1, b1]
    assert queue(api, "bob", kind="name") == everything[:4]
    # filters combine (AND)
    assert queue(api, "bob", person=w.person, kind="custody") == [a1, b1]
    assert queue(api, "bob", person=w.person, place=w.other_place) == [a2, b1]
    assert queue(api, "bob", contributor="alice", source=w.other_source) == [a2]
    assert queue(api, "bob", kind="custody", place=w.place, contributor="dave") == [d1]
    assert queue(api, "bob", kind="custody", contributor="root") == []

    # contributors see only their own pending claims
    assert queue(api, "alice") == [a1, a2]
    assert queue(api, "dave") == [d1, d2]
    # below reviewer, a contributor is named by account id only (names are not to be probed)
    assert_problem(api.get("/claims", "dave", status="pending", contributor="alice"), 422,
                   "contributor", "alice")
    alices = api.get(f"/claims/{a1}", "alice").json()["contributor"]
    assert re.fullmatch(ACCOUNT_ID, alices)
    assert queue(api, "dave", contributor=alices) == []
    assert queue(api, "alice", contributor=alices) == [a1, a2]
    assert queue(api, "bob", contributor=alices) == queue(api, "bob", contributor="alice")

    # cursor pagination walks every item once
    seen, after, pages = [], None, 0
    while True:
        params = {"status": "pending", "limit": 2, **({"after": after} if after else {})}
        page = api.get("/claims", "bob", **params).json()
        pages += 1
        assert len(page["items"]) <= 2
        seen += ids(page)
        after = page["next"]
        if after is None:
            break
        assert pages < 20
    assert seen == everything and pages == 5
    # with a filter too
    first = api.get("/claims", "bob", status="pending", kind="custody", limit=2).json()
    assert ids(first) == [a1, d1] and first["next"] is not None
    rest = api.get("/claims", "bob", status="pending", kind="custody", limit=2,
                   after=first["next"]).json()
    assert ids(rest) == [b1] and rest["next"] is None

    # anonymous readers may not ask for the queue; an unknown kind is 422
    assert_problem(api.get("/claims", None, status="pending"), 401, "pending")
    problem = assert_problem(api.get("/claims", "bob", status="pending", kind="rumour"), 422,
                             "kind", "rumour")
    assert "kind" in error_fields(problem)
    # anonymous readers list approved claims only
    assert ids(api.get("/claims").json()) == [done]


# -- 7. bulk approval ------------------------------------------------------------------------------------

def test_bulk_approve_reports_each_item(api: Api, world: World) -> None:
    ok = api.claim(world.custody())
    done = api.claim(world.death())
    assert decide(api, done, "approve", "carol").status_code == 200
    own = api.claim(world.birth(), who="bob")
    unknown = "C-ZZZZZZZZ"
    before = head(api)

    r = api.post("/claims/approve", {"ids": [ok, done, unknown, own], "reason": "checked"}, "bob")
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [(i["id"], i["status"]) for i in items] == [(ok, 200), (done, 409), (unknown, 404),
                                                      (own, 403)]
    assert items[0]["claim"]["status"] == "approved" and items[0]["claim"]["version"] == 2
    for item in items[1:]:
        assert item["id"] in item["detail"] and "claim" not in item
    assert head(api) == before + 1  # only the valid one appended

    assert claim_of(api, ok)["status"] == "approved"
    assert claim_of(api, ok)["history"][-1]["actor"] == "bob"
    assert claim_of(api, done)["version"] == 2 and claim_of(api, done)["history"][-1]["actor"] == "carol"
    assert claim_of(api, own)["status"] == "pending" and claim_of(api, own)["version"] == 1


def test_bulk_approve_is_replayed_with_its_key(api: Api, world: World) -> None:
    claim = api.claim(world.custody())
    key = {"Idempotency-Key": "bulk-1"}
    first = api.post("/claims/approve", {"ids": [claim]}, "bob", **key)
    assert [i["status"] for i in first.json()["items"]] == [200]
    position = head(api)
    again = api.post("/claims/approve", {"ids": [claim]}, "bob", **key)
    assert again.status_code == 200 and again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true" and head(api) == position
    fresh = api.post("/claims/approve", {"ids": [claim]}, "bob")  # no key: checked afresh
    assert [i["status"] for i in fresh.json()["items"]] == [409]


def test_bulk_approve_needs_ids(api: Api) -> None:
    assert_problem(api.post("/claims/approve", {"ids": []}, "bob"), 422, "ids")


# -- 8. supersession -------------------------------------------------------------------------------------

def test_supersession(api: Api, world: World) -> None:
    a = api.claim(world.custody(start="1940-01-25"))
    b = api.claim(world.custody(start="1940-02-01", supersedes=a, note="corrected date"))
    assert claim_of(api, b)["supersedes"] == a
    assert decide(api, a, "approve", "bob").status_code == 200
    assert claim_of(api, a, None)["superseded_by"] is None  # successor still pending

    assert decide(api, b, "approve", "carol").status_code == 200
    old = claim_of(api, a, None)  # still public, flagged
    assert old["superseded_by"] == b and old["status"] == "approved"
    new = claim_of(api, b, None)
    assert new["supersedes"] == a and new["superseded_by"] is None

    # only while the successor is approved
    assert decide(api, b, "contest", "bob", reason="the date is still wrong").status_code == 200
    assert claim_of(api, a, None)["superseded_by"] is None


def test_superseding_an_unknown_claim_is_404(api: Api, world: World) -> None:
    before = head(api)
    problem = assert_problem(api.post("/claims", world.custody(supersedes="C-ZZZZZZZZ"), "alice"),
                             404, "supersedes", "C-ZZZZZZZZ")
    assert "supersedes" in error_fields(problem)
    assert head(api) == before


def test_superseding_a_claim_you_cannot_see_is_404(api: Api, world: World) -> None:
    hidden = api.claim(world.custody(), "alice")
    assert_problem(api.get(f"/claims/{hidden}", "dave"), 404)
    assert_problem(api.post("/claims", world.custody(supersedes=hidden), "dave"), 404, "supersedes")
