"""GET /events hides the data of claims a reader may not see, and the chain stays verifiable."""

from __future__ import annotations

import msgspec

from starosta.events.chain import GENESIS, chain_hash, row_digest
from tests.api.conftest import Api


def events_of(api: Api, who: str | None) -> list[dict]:
    return api.get("/events", who, limit=1000).json()["items"]


def test_pending_claims_are_redacted_for_anonymous_readers(api: Api) -> None:
    source = api.source()
    person = api.person("Mollie Steimer", source)
    claim = api.claim({"kind": "birth", "person": person, "date": "1897",
                       "citation": {"source": source}})
    anonymous = {e["stream_id"]: e for e in events_of(api, None) if e["stream_id"] == claim}
    event = anonymous[claim]
    assert event["redacted"] is True
    assert event["data"] is None and event["actor"] is None
    assert event["type"] == "claim.submitted" and event["hash"] and event["digest"]
    # its contributor, reviewers and admins read it whole
    for who in ("alice", "bob", "root"):
        mine = next(e for e in events_of(api, who) if e["stream_id"] == claim)
        assert mine["redacted"] is False and mine["data"]["claim"]["date"] == "1897"
    other = next(e for e in events_of(api, "dave") if e["stream_id"] == claim)
    assert other["redacted"] is True
    # once approved, the claim's events are public
    assert api.post(f"/claims/{claim}/approve", {}, "bob").status_code == 200
    public = [e for e in events_of(api, None) if e["stream_id"] == claim]
    assert len(public) == 2 and not any(e["redacted"] for e in public)


def test_the_chain_verifies_through_redacted_rows(api: Api) -> None:
    source = api.source()
    api.person("N. (Central Russia)", source, partial=True, name_kind="initials")
    previous = GENESIS
    rows = events_of(api, None)
    assert any(e["redacted"] for e in rows)
    for e in rows:
        previous = chain_hash(previous, e["digest"])
        assert previous == e["hash"]
        if not e["redacted"]:  # where the data is shown, the digest can be checked too
            data = msgspec.json.encode(e["data"]).decode()
            row = (e["position"], e["event_id"], e["stream_id"], e["version"], e["type"],
                   e["schema_version"], data, e["actor"], e["request_id"], e["causation_id"],
                   e["recorded_at"])
            assert row_digest(row) == e["digest"]
    assert api.get("/events/head").json()["hash"] == previous
