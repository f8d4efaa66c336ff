"""The participants' rules as pure functions (events/participants.py): the legacy fields mapped
to roles, claims normalised at submission, stored version-1 claims upcast at decode, and the
roles read back. No HTTP, no database."""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings

from starosta.events import participants as rules
from starosta.events.catalog import CATALOG
from starosta.events.kinds import (
    Citation,
    DisbursementClaim,
    EscapeClaim,
    InKindClaim,
    LetterClaim,
    OccupationClaim,
    Participant,
)
from starosta.events.review import ClaimSubmitted
from tests.strategies import claims
from tests.unit.test_samples import load

CITED = Citation(source="S-1")


def test_the_seeded_roles_are_the_issue_s_and_valid_keys() -> None:
    assert list(rules.SEEDED) == ["companion", "witness", "informant", "author", "recipient",
                                  "correspondent", "judge", "interrogator", "co_accused",
                                  "encountered", "other"]
    for key in rules.SEEDED:  # every seeded key decodes as a RoleKey
        assert msgspec.convert({"ref": "P-1", "role": key}, Participant).role == key
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"ref": "P-1", "role": "Co-accused"}, Participant)


def test_companions_recipients_and_correspondents_become_participants() -> None:
    escape = EscapeClaim(citation=CITED, person="P-1", outcome="escaped", with_=("P-2", "P-3"),
                         participants=(Participant(ref="P-4", role="witness"),))
    assert rules.named(escape) == [
        ("participants[0]", Participant(ref="P-4", role="witness")),
        ("with", Participant(ref="P-2", role="companion")),
        ("with", Participant(ref="P-3", role="companion"))]
    moved = rules.normalised(escape)
    assert moved.with_ == () and [(p.ref, p.role) for p in moved.participants] == [
        ("P-4", "witness"), ("P-2", "companion"), ("P-3", "companion")]
    assert rules.refs_in_role(moved, "companion") == ["P-2", "P-3"]
    sent = DisbursementClaim(citation=CITED, fund="F-1", recipient="P-1", via="P-2",
                             via_said="through N.")
    moved_sent = rules.normalised(sent)
    assert (moved_sent.recipient, moved_sent.via, moved_sent.via_said) == (None, None, None)
    assert moved_sent.participants == (Participant(ref="P-1", role="recipient"),
                                       Participant(ref="P-2", role="correspondent", said="through N."))
    assert rules.first_in_role(moved_sent, "recipient") == "P-1"
    assert rules.first_in_role(moved_sent, "correspondent") == "P-2"
    letter = rules.normalised(LetterClaim(citation=CITED, person="P-1", recipient="O-1",
                                          recipient_said="the Committee"))
    assert letter.participants == (Participant(ref="O-1", role="recipient", said="the Committee"),)
    assert letter.recipient_said is None
    # a `said` naming nobody registered stays where it was
    unnamed = rules.normalised(LetterClaim(citation=CITED, person="P-1", recipient_said="N."))
    assert unnamed.recipient_said == "N." and unnamed.participants == ()
    kind = rules.normalised(InKindClaim(citation=CITED, fund="F-1", items="books", via="P-9"))
    assert kind.participants == (Participant(ref="P-9", role="correspondent"),)
    # a claim without legacy fields is returned as it is
    plain = OccupationClaim(citation=CITED, person="P-1", occupation="shepherd")
    assert rules.normalised(plain) is plain


def test_stored_version_1_claims_are_upcast_to_participants() -> None:
    samples = {s["data"]["claim_id"]: s for s in load() if s["type"] == "claim.submitted"}
    decoded = {cid: CATALOG.decode("claim.submitted", s["schema_version"],
                                   msgspec.json.encode(s["data"])) for cid, s in samples.items()}
    assert all(isinstance(e, ClaimSubmitted) for e in decoded.values())
    sent = decoded["C20"].claim  # type: ignore[attr-defined]
    assert sent.recipient is None and sent.via is None and sent.participants == (
        Participant(ref="P1", role="recipient"),
        Participant(ref="P2", role="correspondent", said="through comrade N."))
    letter = decoded["C21"].claim  # type: ignore[attr-defined]
    assert letter.participants == (Participant(ref="O1", role="recipient", said="the Joint Committee"),)
    escape = decoded["C22"].claim  # type: ignore[attr-defined]
    assert escape.with_ == () and rules.refs_in_role(escape, "companion") == ["P2", "P3"]
    grouped = decoded["C9"].claim  # type: ignore[attr-defined]
    assert rules.refs_in_role(grouped, "companion") == ["P2"] and grouped.group == "O1"
    current = decoded["C23"].claim  # type: ignore[attr-defined]
    assert [p.said for p in current.participants] == ["Molina", "Blasco Cobo"]
    # everything else of an upcast claim is as stored
    assert sent.amount == "25.00" and sent.citation.locator == "Bulletin 12"
    assert decoded["C20"].dates["date"].edtf == "1926-05"  # type: ignore[attr-defined]


def test_new_submissions_encode_at_version_2_and_read_back_the_same() -> None:
    event = ClaimSubmitted(claim_id="C-1", contributor="A-1", claim=rules.normalised(
        EscapeClaim(citation=CITED, person="P-1", outcome="escaped", with_=("P-2",))))
    tag, version, data = CATALOG.encode(event)
    assert (tag, version) == ("claim.submitted", 2)
    assert b'"with"' not in data and b'"participants"' in data
    assert CATALOG.decode(tag, version, data) == event


def test_stored_claims_keep_their_roles_in_json() -> None:
    stored = {"kind": "presence", "participants": [{"ref": "P-1", "role": "encountered"},
                                                   {"ref": "P-2", "role": "informant"}]}
    assert rules.refs_in_role(stored, "encountered") == ["P-1"]
    assert rules.first_in_role(stored, "judge") is None


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(claim=claims())
def test_submission_and_the_upcaster_store_the_same_participants(claim) -> None:
    """For any claim: normalising leaves no legacy field that names an id, keeps every
    participant (those sent, then the legacy ones), is idempotent, and a version-1 event
    holding the claim as sent is upcast to exactly what a submission stores now."""
    stored = rules.normalised(claim)
    assert rules.legacy(stored) == []
    assert list(stored.participants) == [p for _, p in rules.named(claim)]
    assert rules.normalised(stored) == stored
    raw = {"claim_id": "C-1", "contributor": "A-1", "claim": msgspec.to_builtins(claim)}
    upcast = CATALOG.decode("claim.submitted", 1, msgspec.json.encode(raw))
    assert upcast.claim == stored  # type: ignore[attr-defined]


def test_the_participant_rule_as_a_pure_function() -> None:
    from starosta.events.claim_rules import participant_refusal

    subjects = {"P-1": "person"}
    assert participant_refusal([], subjects) is None
    fine = [("participants[0]", "P-2", "witness"), ("participants[1]", "P-2", "informant"),
            ("with", "P-3", "companion")]
    assert participant_refusal(fine, subjects) is None  # one person, two roles
    twice = fine + [("participants[3]", "P-2", "witness")]
    field, value, message = participant_refusal(twice, subjects)  # type: ignore[misc]
    assert (field, value) == ("participants[3]", "P-2") and "participants[0]" in message
    field, value, message = participant_refusal(  # type: ignore[misc]
        [("with", "P-3", "companion"), ("participants[0]", "P-3", "companion")], {})
    assert field == "participants[0]" and "companion is named twice" in message
    field, value, message = participant_refusal([("with", "P-1", "companion")], subjects)  # type: ignore[misc]
    assert (field, value) == ("with", "P-1") and "the claim's person" in message
    assert participant_refusal([("participants[0]", "O-1", "other")], {"O-1": "group"})[2] == \
        "O-1 is the claim's group, not a participant"  # type: ignore[index]
