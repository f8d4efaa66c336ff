"""Names in parts as pure rules (issue 20, item 4): which parts a name claim may carry
(`claim_rules.parts_refusal`), which surname a person is listed by
(`claim_rules.chosen_surname`), and how the listing sorts (`name_keys.sort_key`,
`name_keys.sort_string`). No HTTP, no database."""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from starosta.events.claim_rules import SurnameCandidate, chosen_surname, parts_refusal
from starosta.events.kinds import NameClaim, NameParts
from starosta.projections.name_keys import sort_key, sort_string


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


@given(st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                        max_size=12), max_size=8))
def test_the_stored_sort_string_sorts_as_the_key(texts: list[str]) -> None:
    """What the database sorts by (sort_string, compared bytewise in UTF-8, as Python compares
    str) puts names in the order of sort_key's tuples."""
    by_key = sorted(texts, key=lambda t: (sort_key(t), t))
    by_string = sorted(texts, key=lambda t: (sort_string(t).encode("utf-8"), t))
    assert [sort_key(t) for t in by_key] == [sort_key(t) for t in by_string]


# -- the listing's SQL form agrees with the pure rule --------------------------------------------

_state = st.tuples(st.sampled_from(["approved", "approved", "pending", "disputed", "rejected"]),
                   st.sampled_from([None, None, "C-SUCCESSOR"]),
                   st.sampled_from(["normal", "normal", "preferred", "deprecated"]),
                   st.booleans())  # status, an approved successor, rank, suppressed


@given(merged=st.lists(st.integers(-1, 5), min_size=6, max_size=6),
       claims=st.lists(st.tuples(st.integers(0, 5), st.sampled_from(["Zeta", "ávila", "Avila", "Борисова"]),
                                 _state), max_size=10),
       taken=st.sets(st.integers(0, 5), max_size=2))
def test_the_sql_listing_picks_and_sorts_as_the_rules_say(merged, claims, taken) -> None:
    import sqlite3

    from starosta.events.claim_rules import SurnameCandidate, chosen_surname
    from starosta.projections.search import _BY_SURNAME

    # persons P0..P5; P{i} merged into an earlier record when merged[i] < i (a forest)
    into = {i: m for i, m in enumerate(merged) if 0 <= m < i}
    db = sqlite3.connect(":memory:")  # the listing's SQL text, evaluated; no archive involved
    db.execute("CREATE TABLE persons (id TEXT, label TEXT, merged_into TEXT)")
    db.execute("CREATE TABLE person_sort_keys (entity_id TEXT, sort_key TEXT)")
    db.execute("CREATE TABLE claims (id TEXT, status TEXT, superseded_by TEXT, rank TEXT)")
    db.execute("CREATE TABLE name_surnames (claim_id TEXT, entity_id TEXT, surname TEXT, sort_key TEXT, "
               "position INTEGER)")
    db.execute("CREATE TABLE suppressions (target TEXT)")
    labels = {f"P{i}": ["Bob", "alice", "Alice", "Ана", "Émile", "bob"][i] for i in range(6)}
    for i in range(6):
        db.execute("INSERT INTO persons VALUES (?, ?, ?)", (f"P{i}", labels[f"P{i}"],
                                                            f"P{into[i]}" if i in into else None))
        db.execute("INSERT INTO person_sort_keys VALUES (?, ?)", (f"P{i}", sort_string(labels[f"P{i}"])))
    root = {}
    for i in range(6):
        j = i
        while j in into:
            j = into[j]
        root[f"P{i}"] = f"P{j}"
    grouped: dict[str, list[SurnameCandidate]] = {}
    for n, (person, surname, (status, superseded_by, rank, suppressed)) in enumerate(claims):
        cid = f"C{n}"
        db.execute("INSERT INTO claims VALUES (?, ?, ?, ?)", (cid, status, superseded_by, rank))
        db.execute("INSERT INTO name_surnames VALUES (?, ?, ?, ?, ?)",
                   (cid, f"P{person}", surname, sort_string(surname), 100 + n))
        if suppressed:
            db.execute("INSERT INTO suppressions VALUES (?)", (cid,))
        grouped.setdefault(root[f"P{person}"], []).append(SurnameCandidate(
            surname=surname, status=status, superseded_by=superseded_by, rank=rank,
            suppressed=suppressed or person in taken, position=100 + n))
    for i in taken:
        db.execute("INSERT INTO suppressions VALUES (?)", (f"P{i}",))

    rows = db.execute(_BY_SURNAME.format(only="", join="CROSS JOIN"), (sort_string("[suppressed]"), 100, 0)).fetchall()

    survivors = sorted({r for r in root.values()})
    expected = {p: (None if int(p[1:]) in taken else chosen_surname(grouped.get(p, []))) for p in survivors}
    shown = {p: "[suppressed]" if int(p[1:]) in taken else labels[p] for p in survivors}
    order = sorted(survivors, key=lambda p: (
        expected[p] is None, sort_key(expected[p]) if expected[p] is not None else (),
        sort_key(shown[p]), p))
    assert rows == [(p, expected[p]) for p in order]
