"""The rules of statements about statements (issue 21) as pure functions: which rank may cite a
retracting source, which denial is refused, and how (denying, denied) pairs are read; the
fields every claim kind takes, decoded and encoded without a database."""

from __future__ import annotations

import msgspec
import pytest

from starosta.events.claim_rules import (
    ATTRIBUTABLE,
    RANKS,
    denial_problem,
    denials,
    rank_citation_problem,
)
from starosta.events.kinds import KINDS, AnyClaim, Citation
from starosta.events.review import ClaimRanked


@pytest.mark.parametrize("rank", RANKS)
def test_only_a_deprecated_rank_cites_a_retracting_source(rank: str) -> None:
    assert rank_citation_problem(rank, cited=False) is None
    problem = rank_citation_problem(rank, cited=True)
    if rank == "deprecated":
        assert problem is None
    else:
        assert problem is not None and "deprecated" in problem and rank in problem


def test_a_claim_does_not_supersede_and_deny_the_same_claim() -> None:
    assert denial_problem(None, None) is None
    assert denial_problem("C-1", None) is None
    assert denial_problem("C-1", "C-2") is None
    assert denial_problem(None, "C-1") is None
    problem = denial_problem("C-1", "C-1")
    assert problem is not None and "supersedes" in problem


def test_denials_group_the_denying_claims_by_the_claim_denied() -> None:
    pairs = [("C-3", "C-1"), ("C-2", "C-1"), ("C-3", "C-1"), ("C-4", "C-2")]
    assert denials(pairs) == {"C-1": ["C-2", "C-3"], "C-2": ["C-4"]}
    assert denials([]) == {}


def test_a_claim_is_attributed_to_a_person_an_organisation_or_a_source() -> None:
    assert ATTRIBUTABLE == ("person", "organization", "source")


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_takes_attributed_to_and_denies_and_omits_them_when_absent(kind) -> None:
    tag = kind.__struct_config__.tag
    assert "attributed_to" in kind.__struct_fields__ and "denies" in kind.__struct_fields__
    claim = _minimal(kind)
    # a claim without them encodes as before (old events decode and re-encode unchanged)
    encoded = msgspec.json.decode(msgspec.json.encode(claim))
    assert encoded["kind"] == tag and "attributed_to" not in encoded and "denies" not in encoded
    linked = msgspec.structs.replace(claim, attributed_to="O-1", denies="C-1")
    back = msgspec.json.decode(msgspec.json.encode(linked), type=AnyClaim)
    assert (back.attributed_to, back.denies) == ("O-1", "C-1")


def _minimal(kind):
    """A claim of `kind` with its required fields filled."""
    values = {"person": "P-1", "fund": "F-1", "organization": "O-1", "recipient": "P-2",
              "other": "P-3", "name": "N", "affiliation": "a", "occupation": "o",
              "accusation": "a", "sentence": "other", "custody": "other", "outcome": "escaped",
              "protest": "other", "release": "release", "role": "r", "relation": "other",
              "labour": "l", "amount": "1", "currency": "USD", "period": "month", "donor": "d",
              "items": "i", "count": 1, "group": "g", "of": "release", "total": "t",
              "subject": "P-1", "property": "nationality", "value": "Spanish",
              "source": "S-2", "derives_from": "S-1"}
    if kind.__struct_config__.tag == "derivation":  # its relation is a source's (issue 22)
        values["relation"] = "reprint_of"
    required = {f: values[f] for f in kind.__struct_fields__
                if f in values and f not in ("citation",)}
    return msgspec.convert({"kind": kind.__struct_config__.tag, "citation": {"source": "S-1"},
                            **required}, AnyClaim)


def test_a_ranked_event_without_a_citation_encodes_as_before() -> None:
    old = b'{"type":"claim.ranked","claim_id":"C-1","reviewer":"A-1","rank":"deprecated","reason":"r"}'
    event = msgspec.json.decode(old, type=ClaimRanked)
    assert event.citation is None
    assert msgspec.json.encode(event) == old
    cited = msgspec.structs.replace(event, citation=Citation(source="S-2", locator="p. 2"))
    assert msgspec.json.decode(msgspec.json.encode(cited), type=ClaimRanked).citation == cited.citation
