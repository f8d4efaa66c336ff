"""GET /events hides the data of claims a reader may not see, and the chain stays verifiable.

A redacted row shows only what the chain needs (position, digest, hash, recorded_at) and
`redacted: true`: not its type, stream, version or event id, which told readers every hidden
claim's id and story (issue 18, finding 4); and its digest covers a per-row nonce shown only
with the row, so it cannot be matched offline against guessed content."""

from __future__ import annotations

import msgspec

from starosta.events.chain import GENESIS, chain_hash, row_digest
from tests.api.conftest import Api

CHAIN_ONLY = {"position", "digest", "hash", "recorded_at", "redacted"}


def row_of(e: dict) -> tuple:
    """The hashed columns of a row shown in full (data re-encoded as stored)."""
    data = msgspec.json.encode(e["data"]).decode()
    return (e["position"], e["event_id"], e["stream_id"], e["version"], e["type"],
            e["schema_version"], data, e["actor"], e["request_id"], e["causation_id"],
            e["recorded_at"])


def events_of(api: Api, who: str | None) -> list[dict]:
    return api.get("/events", who, limit=1000).json()["items"]


def test_pending_claims_are_redacted_for_anonymous_readers(api: Api) -> None:
    source = api.source()
    person = api.person("Mollie Steimer", source)
    claim = api.claim({"kind": "birth", "person": person, "date": "1897",
                       "citation": {"source": source}})
    positions = {e["position"] for e in events_of(api, "alice") if e["stream_id"] == claim}
    anonymous = [e for e in events_of(api, None) if e["position"] in positions]
    assert len(anonymous) == 1
    event = anonymous[0]
    assert event["redacted"] is True and event["hash"] and event["digest"]
    # only what the chain needs: no type, stream, version, event id, data, actor or nonce
    assert {k for k, v in event.items() if v is not None} == CHAIN_ONLY, event
    assert claim not in msgspec.json.encode(events_of(api, None)).decode()
    # its contributor, reviewers and admins read it whole
    for who in ("alice", "bob", "root"):
        mine = next(e for e in events_of(api, who) if e["stream_id"] == claim)
        assert mine["redacted"] is False and mine["data"]["claim"]["date"] == "1897"
    other = next(e for e in events_of(api, "dave") if e["position"] in positions)
    assert other["redacted"] is True and other["stream_id"] is None
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
            assert row_digest(row_of(e), e["nonce"]) == e["digest"]
        else:
            assert {k for k, v in e.items() if v is not None} == CHAIN_ONLY
    assert api.get("/events/head").json()["hash"] == previous


def test_a_redacted_digest_cannot_be_confirmed_by_guessing_its_content(api: Api) -> None:
    """Even a reader who guesses every hashed field of a hidden row exactly (here: taken from
    the contributor's own view) cannot confirm the guess against the digest readers see,
    because the row's nonce is shown only with the row."""
    source = api.source()
    person = api.person("Aron Baron", source)
    claim = api.claim({"kind": "death", "person": person, "date": "1937",
                       "citation": {"source": source}})
    full = next(e for e in events_of(api, "alice") if e["stream_id"] == claim)
    assert full["nonce"] is not None and len(full["nonce"]) == 32
    hidden = next(e for e in events_of(api, None) if e["position"] == full["position"])
    assert hidden["redacted"] and hidden["nonce"] is None
    assert row_digest(row_of(full)) != hidden["digest"]  # the perfect guess, without the nonce
    assert row_digest(row_of(full), full["nonce"]) == hidden["digest"]  # with it, it checks
