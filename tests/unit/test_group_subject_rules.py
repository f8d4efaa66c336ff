"""The rules of groups as subjects (issue 20, item 2) as pure functions: what a claim's subject
may be; which kinds take a group; which of a member's memberships reach a statement about the
group (their days may meet); a group's relation turned round; what a group's timeline shows
of a claim."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
import pytest

from starosta.events.claim_rules import subject_problem
from starosta.events.dates import DateValue
from starosta.events.kinds import (
    GROUP_SUBJECT,
    GROUP_SUBJECTS,
    GROUPED,
    KINDS,
    AccusationClaim,
    Citation,
    CountRange,
    SentenceClaim,
)
from starosta.projections.biographies import days_of, memberships_of, through_group, turned_round
from starosta.projections.claims import ClaimView
from starosta.projections.groups import stated

D = dt.date


@pytest.mark.parametrize("person, group, count, wanted", [
    ("P-1", None, None, None),
    (None, "O-1", None, None),
    (None, "O-1", 8, None),
    (None, "O-1", {"min": 4, "max": 5}, None),
    ("P-1", "O-1", None, ("group", "O-1", "a claim names exactly one of person and group")),
    (None, None, None, ("person", None, "a claim names exactly one of person and group")),
    (None, None, 3, ("person", None, "a claim names exactly one of person and group")),
    ("P-1", None, 3, ("count", 3, "a count goes with a group")),
])
def test_a_subject_is_one_person_or_one_group_and_a_count_goes_with_a_group(
        person: str | None, group: str | None, count: Any, wanted: tuple | None) -> None:
    assert subject_problem(person, group, count) == wanted


def test_every_kind_that_takes_a_person_as_its_subject_takes_a_group() -> None:
    assert set(GROUP_SUBJECT) == {"sentence", "accusation", "occupation", "affiliation", "death",
                                  "execution", "labour", "letter", "relation"}
    assert not set(GROUP_SUBJECT) & set(GROUPED)
    for kind in KINDS:
        tag = kind.__struct_config__.tag
        fields = set(kind.__struct_fields__)
        if tag in GROUP_SUBJECTS:
            assert {"person", "group", "count"} <= fields, tag
            assert kind.REFS["group"] == "organization", tag
        if tag in GROUP_SUBJECT:
            assert "with_" not in fields, tag  # participants name who else took part
    # a claim stored before issue 20 (a person, no group) decodes unchanged
    old = b'{"kind":"sentence","person":"P-1","sentence":"camp","citation":{"source":"S-1"}}'
    claim = msgspec.json.decode(old, type=SentenceClaim)
    assert (claim.person, claim.group, claim.count) == ("P-1", None, None)
    assert msgspec.json.decode(msgspec.json.encode(claim)) == msgspec.json.decode(old)  # nothing added


def day(edtf: str, lo: D, hi: D) -> DateValue:
    return DateValue(edtf=edtf, earliest=lo, latest=hi)


def view(claim_id: str, kind: str, claim: dict[str, Any], dates: dict[str, DateValue],
         **extra: Any) -> ClaimView:
    return ClaimView(id=claim_id, kind=kind, status="approved", contributor="A-1", version=2,
                     position=1, claim={"kind": kind, **claim}, dates=dates, **extra)


Y1930 = day("1930", D(1930, 1, 1), D(1930, 12, 31))
Y1932 = day("1932", D(1932, 1, 1), D(1932, 12, 31))
Y1940 = day("1940", D(1940, 1, 1), D(1940, 12, 31))


def test_the_days_of_a_claim_run_from_its_first_date_to_its_last() -> None:
    assert days_of(view("C1", "sentence", {}, {"date": Y1940})) == (D(1940, 1, 1), D(1940, 12, 31))
    assert days_of(view("C2", "membership", {}, {"start": Y1930})) == (D(1930, 1, 1), None)
    assert days_of(view("C3", "membership", {}, {"end": Y1932})) == (None, D(1932, 12, 31))
    assert days_of(view("C4", "relation", {}, {})) == (None, None)
    assert days_of(view("C5", "occupation", {}, {})) == (None, None)


def test_a_membership_reaches_the_statements_its_days_may_meet() -> None:
    own = {"P-1", "P-2"}  # a survivor and a record merged into it
    early = view("M1", "membership", {"person": "P-1", "organization": "O-1"},
                 {"start": Y1930, "end": Y1932})
    open_ended = view("M2", "membership", {"person": "P-2", "organization": "O-1",
                                           "certainty": "possible"}, {"start": Y1932})
    undated = view("M3", "membership", {"person": "P-1", "organization": "O-2"}, {})
    someone_else = view("M4", "membership", {"person": "P-9", "organization": "O-1"}, {})
    corrected = view("M5", "membership", {"person": "P-1", "organization": "O-3"}, {},
                     superseded_by="M6")
    found = memberships_of([early, open_ended, undated, someone_else, corrected], own)
    assert {g: [m.id for m in ms] for g, ms in found.items()} == {"O-1": ["M1", "M2"], "O-2": ["M3"]}
    sentence = view("C1", "sentence", {"group": "O-1"}, {"date": Y1940})
    assert [m.id for m in through_group(sentence, found)] == ["M2"]  # 1930-1932 cannot meet 1940
    before = view("C2", "occupation", {"group": "O-1"}, {"start": Y1930, "end": Y1930})
    assert [m.id for m in through_group(before, found)] == ["M1"]
    undated_claim = view("C3", "occupation", {"group": "O-1"}, {})
    assert [m.id for m in through_group(undated_claim, found)] == ["M1", "M2"]
    assert [m.id for m in through_group(view("C4", "death", {"group": "O-2"}, {"date": Y1940}),
                                        found)] == ["M3"]
    assert through_group(view("C5", "death", {"group": "O-9"}, {}), found) == []
    assert through_group(view("C6", "death", {"person": "P-1"}, {}), found) == []


def test_a_group_relation_turns_round_with_the_group_as_the_other() -> None:
    group, person = {"id": "O-1", "label": "G"}, {"id": "P-1", "label": "P"}
    turned = turned_round({"group": group, "count": 3, "other": person, "relation": "parent"})
    assert turned == {"person": person, "other": group, "relation": "child",
                      "as_stated": {"group": group, "relation": "parent", "other": person,
                                    "count": 3}}
    plain = turned_round({"person": group, "other": person, "relation": "brother"})
    assert plain["relation"] == "sibling" and "group" not in plain


def test_a_group_timeline_shows_what_the_claim_states_besides_its_subject() -> None:
    cite = Citation(source="S-1")
    sentence = SentenceClaim(group="O-1", count=CountRange(min=4, max=5), sentence="penal_servitude",
                             term="8 years", date="1940", authority="O-2", said="they were",
                             note="n", certainty="probable", citation=cite)
    assert stated(sentence) == ({"sentence": "penal_servitude", "term": "8 years",
                                 "authority": "O-2", "certainty": "probable"}, ("authority",))
    assert stated(AccusationClaim(group="O-1", accusation="sabotage", citation=cite)) == (
        {"accusation": "sabotage"}, ())
