"""Names in parts as pure rules (issue 20, item 4): which parts a name claim may carry
(`claim_rules.parts_refusal`), which surname a person is listed by
(`claim_rules.chosen_surname`), and how the listing sorts (`name_keys.sort_key`,
`search.surname_key`). No HTTP, no database."""

from __future__ import annotations

import msgspec
import pytest

from starosta.events.claim_rules import SurnameCandidate, chosen_surname, parts_refusal
from starosta.events.kinds import NameClaim, NameParts
from starosta.projections.name_keys import sort_key
from starosta.projections.search import surname_key


def candidate(surname: str, position: int, **state) -> SurnameCandidate:
    return SurnameCandidate(surname=surname, position=position, **{"status": "approved", **state})


def test_the_preferred_surname_wins_else_the_earliest_approved() -> None:
    assert chosen_surname([]) is None
    assert chosen_surname([candidate("Later", 9), candidate("Earlier", 3)]) == "Earlier"
    assert chosen_surname([candidate("Earlier", 3), candidate("Later", 9, rank="preferred")]) == "Later"
    # of several preferred, the earliest
    assert chosen_surname([candidate("B", 9, rank="preferred"), candidate("A", 7, rank="preferred"),
                           candidate("C", 1)]) == "A"


@pytest.mark.parametrize("state", [{"status": "pending"}, {"status": "disputed"}, {"status": "rejected"},
                                   {"status": "contested"}, {"superseded_by": "C-00000009"},
                                   {"rank": "deprecated"}, {"suppressed": True}],
                         ids=["pending", "disputed", "rejected", "contested", "superseded",
                              "deprecated", "suppressed"])
def test_a_surname_that_does_not_count_is_never_chosen(state: dict) -> None:
    assert chosen_surname([candidate("Gone", 1, **state)]) is None
    assert chosen_surname([candidate("Gone", 1, **{**state, "rank": state.get("rank", "preferred")}),
                           candidate("Kept", 5)]) == "Kept"


def test_parts_go_with_a_person_and_name_at_least_one_part() -> None:
    assert parts_refusal(None, "place") is None
    assert parts_refusal(NameParts(surname="Zeta"), "person") is None
    assert parts_refusal(NameParts(particle="de"), "person") is None
    field, message = parts_refusal(NameParts(), "person") or ("", "")
    assert field == "parts" and "at least one" in message
    for subject in ("place", "organization", "fund"):
        field, message = parts_refusal(NameParts(surname="Zeta"), subject) or ("", "")
        assert field == "parts" and "person" in message


def test_parts_decode_strictly_and_encode_only_what_was_given() -> None:
    claim = msgspec.json.decode(b'{"kind": "name", "person": "P-1", "name": "A Zeta", '
                                b'"citation": {"source": "S-1"}, "parts": {"surname": "Zeta"}}',
                                type=NameClaim)
    assert claim.parts == NameParts(surname="Zeta")
    assert msgspec.json.decode(msgspec.json.encode(claim))["parts"] == {"surname": "Zeta"}
    plain = msgspec.json.decode(b'{"kind": "name", "person": "P-1", "name": "A", "citation": {"source": "S-1"}}',
                                type=NameClaim)
    assert "parts" not in msgspec.json.decode(msgspec.json.encode(plain))  # old claims unchanged
    with pytest.raises(msgspec.ValidationError, match="nickname"):
        msgspec.convert({"nickname": "X"}, NameParts)
    with pytest.raises(msgspec.ValidationError, match="surname"):
        msgspec.convert({"surname": "x" * 201}, NameParts)


def test_names_sort_by_their_search_form_then_case_folded_then_as_written() -> None:
    names = ["zeta", "Zeta", "Ávila", "Avila", "avila", "Борисова", "Borisova", "Çelik", "Celik", "Dávila"]
    assert sorted(names, key=sort_key) == ["Avila", "avila", "Ávila", "Borisova", "Борисова",
                                           "Celik", "Çelik", "Dávila", "Zeta", "zeta"]
    assert sort_key("  Monclús\u00a0Guallar ") == sort_key("Monclús Guallar")


def test_persons_with_a_surname_come_first_then_the_rest_by_label() -> None:
    people = [("P-3", "Aaron Bare", None), ("P-1", "Anna Zeta", "Zeta"), ("P-2", "Test Ávila", "Ávila"),
              ("P-5", "Aaron Bare", None), ("P-4", "Bob Zeta", "Zeta")]
    people.sort(key=lambda p: surname_key(*p))
    assert [p[0] for p in people] == ["P-2", "P-1", "P-4", "P-3", "P-5"]
