"""Accounts and pseudonyms (issue 18, finding 3): readers below reviewer never see who entered
or checked a record by name, only by an opaque, stable account id (`A-` and 8 characters);
reviewers and admins see names. Rows written before accounts (names in the log) are shown to
readers pseudonymised; the rules that compare actors ("nobody reviews their own claim", "the
contester may not resolve", "only its contributor retracts") compare accounts, so an old row's
name and a new row's account id are one actor. On SQLite and PostgreSQL."""

from __future__ import annotations

import re

import msgspec
from starosta.events.chain import GENESIS, chain_hash, row_digest
from starosta.events.kinds import Citation, DeathClaim
from starosta.events.review import ClaimContested, ClaimSubmitted
from starosta.events.store import AppendRequest, Metadata, NewEvent
from starosta.service.domain.ids import ACCOUNT_ID

from tests.api.conftest import PEOPLE, Api, assert_problem

NAMES = tuple(PEOPLE)  # alice, dave, bob, carol, root


def submit(api: Api, who: str = "alice") -> tuple[str, str]:
    source = api.source()
    person = api.person("Aron Baron", source)
    claim = api.claim({"kind": "death", "person": person, "date": "1937",
                       "citation": {"source": source}}, who)
    return claim, source


def leaks(text: str) -> list[str]:
    """The account names found in an answer's text (as whole JSON strings)."""
    return [name for name in NAMES if f'"{name}"' in text]


def account_of(api: Api, who: str, claim: str) -> str:
    """`who`'s account id, as they see it on their own claim."""
    shown = api.get(f"/claims/{claim}", who).json()["contributor"]
    assert re.fullmatch(ACCOUNT_ID, shown), shown
    return shown


def test_readers_see_account_ids_reviewers_see_names(api: Api) -> None:
    claim, _ = submit(api)
    assert api.post(f"/claims/{claim}/approve", {}, "bob").status_code == 200
    assert api.post(f"/claims/{claim}/contest", {"reason": "wrong year"}, "carol").status_code == 200
    alice = account_of(api, "alice", claim)
    for who in (None, "alice", "dave"):  # anonymous and contributors: ids, never a name
        public = api.get(f"/claims/{claim}", who)
        if public.status_code == 200:  # (a contested claim is hidden from some of them)
            body = public.json()
            assert body["contributor"] == alice and not leaks(public.text)
            assert all(re.fullmatch(ACCOUNT_ID, h["actor"]) for h in body["history"])
            assert body["contested_by"] is None or re.fullmatch(ACCOUNT_ID, body["contested_by"])
        log = api.get("/events", who, limit=1000)
        assert not leaks(log.text), who
        actors = {e["actor"] for e in log.json()["items"] if not e["redacted"]}
        assert actors and all(re.fullmatch(ACCOUNT_ID, a) for a in actors)
        listed = api.get("/claims", who)
        assert not leaks(listed.text)
    # the contributor's account id is stable, hers alone, and the same on every claim
    second, _ = submit(api)
    assert account_of(api, "alice", second) == alice != account_of(api, "dave", submit(api, "dave")[0])
    # reviewers and admins see names
    for who in ("bob", "root"):
        body = api.get(f"/claims/{claim}", who).json()
        assert body["contributor"] == "alice" and body["contested_by"] == "carol"
        assert [h["actor"] for h in body["history"]] == ["alice", "bob", "carol"]


def test_contributor_filter_takes_the_account_id(api: Api) -> None:
    claim, _ = submit(api)
    assert api.post(f"/claims/{claim}/approve", {}, "bob").status_code == 200
    alice = account_of(api, "alice", claim)
    found = api.get("/claims", None, contributor=alice).json()["items"]
    assert [c["id"] for c in found] == [claim]
    assert_problem(api.get("/claims", None, contributor="alice"), 422, "contributor", "alice")
    assert [c["id"] for c in api.get("/claims", "bob", contributor="alice",
                                     status="approved").json()["items"]] == [claim]
    assert api.get("/claims", None, contributor="A-00000000").json()["items"] == []


def test_new_rows_carry_account_ids_and_still_verify(api: Api) -> None:
    claim, _ = submit(api)
    assert api.post(f"/claims/{claim}/approve", {}, "bob").status_code == 200
    rows = api.get("/events", "root", limit=1000).json()["items"]  # as stored
    assert not leaks(msgspec.json.encode(rows).decode())
    mine = [e for e in rows if e["stream_id"] == claim]
    assert mine[0]["data"]["contributor"] == mine[0]["actor"]
    assert mine[1]["data"]["reviewer"] == mine[1]["actor"] != mine[0]["actor"]
    previous = GENESIS
    for e in rows:
        row = (e["position"], e["event_id"], e["stream_id"], e["version"], e["type"],
               e["schema_version"], msgspec.json.encode(e["data"]).decode(), e["actor"],
               e["request_id"], e["causation_id"], e["recorded_at"])
        assert row_digest(row, e["nonce"]) == e["digest"] and e["pseudonymised"] is False
        previous = chain_hash(previous, e["digest"])
        assert previous == e["hash"]


def _old_claim(api: Api, name: str, source: str, person: str) -> str:
    """A claim submitted as the code before accounts wrote it: the name in `actor` and in
    `contributor`."""
    from starosta.service.domain.ids import new_id

    claim_id = new_id("claim")
    event = ClaimSubmitted(claim_id=claim_id, contributor=name, claim=DeathClaim(
        person=person, date="1938", citation=Citation(source=source)))
    archive = api.client.app.state.archive
    archive.commit_sync([AppendRequest(claim_id, [NewEvent(event)], 0)], Metadata(actor=name))
    return claim_id


def test_rows_written_under_names_are_pseudonymised_for_readers(api: Api) -> None:
    source = api.source()
    person = api.person("Mollie Steimer", source)
    old = _old_claim(api, "alice", source, person)
    assert api.post(f"/claims/{old}/approve", {}, "bob").status_code == 200
    new, _ = submit(api)
    alice = account_of(api, "alice", new)
    anonymous = api.get("/events", None, limit=1000)
    assert not leaks(anonymous.text)
    row = next(e for e in anonymous.json()["items"] if e["stream_id"] == old)
    assert row["actor"] == row["data"]["contributor"] == alice and row["pseudonymised"] is True
    # the chain still verifies link by link through it
    previous = GENESIS
    for e in anonymous.json()["items"]:
        previous = chain_hash(previous, e["digest"])
        assert previous == e["hash"]
    # reviewers read it as stored, and its digest checks
    stored = next(e for e in api.get("/events", "bob", limit=1000).json()["items"]
                  if e["stream_id"] == old)
    assert stored["actor"] == "alice" and stored["pseudonymised"] is False
    assert stored["digest"] == row["digest"]
    # claims show the old and the new claim under one account
    body = api.get(f"/claims/{old}").json()
    assert body["contributor"] == alice and not leaks(api.get(f"/claims/{old}").text)
    assert {c["id"] for c in api.get("/claims", None, contributor=alice).json()["items"]} == {old}
    assert {c["id"] for c in api.get("/claims", "alice", contributor=alice,
                                     kind="death").json()["items"]} == {old, new}


def test_rules_compare_accounts_across_old_names_and_new_ids(api: Api) -> None:
    source = api.source()
    person = api.person("Vicente Monclús", source)
    # bob's own claim, written under his name before accounts: he may not approve it now
    bobs = _old_claim(api, "bob", source, person)
    assert_problem(api.post(f"/claims/{bobs}/approve", {}, "bob"), 403, "own claim")
    # alice's old pending claim is hers: she sees it and may retract it
    alices = _old_claim(api, "alice", source, person)
    assert api.get(f"/claims/{alices}", "alice").status_code == 200
    assert api.get(f"/claims/{alices}", "dave").status_code == 404
    assert api.post(f"/claims/{alices}/retract", {"reason": "mine"}, "alice").status_code == 200
    # carol contested under her name: she may not resolve the contest under her account
    contested = _old_claim(api, "dave", source, person)
    assert api.post(f"/claims/{contested}/approve", {}, "bob").status_code == 200
    archive = api.client.app.state.archive
    archive.commit_sync([AppendRequest(contested, [NewEvent(ClaimContested(
        claim_id=contested, reviewer="carol", reason="doubtful"))], 2)], Metadata(actor="carol"))
    assert_problem(api.post(f"/claims/{contested}/reject", {"reason": "x"}, "carol"), 403, "contested")
    assert api.post(f"/claims/{contested}/reject", {"reason": "upheld"}, "root").status_code == 200
