"""The one rule of conflicts and agreements (events.comparison, issue 22 item 1), as pure
functions: two values conflict only when they cannot both be true."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st
from starosta.events.comparison import (Fact, compare, compare_bounds, compare_refs, events_of,
                                        same_event_problem)

D = dt.date
YEAR_1899 = (D(1899, 1, 1), D(1899, 12, 31))
MAY_2_1899 = (D(1899, 5, 2), D(1899, 5, 2))


def test_disjoint_bounds_conflict_and_equal_ones_are_the_same() -> None:
    assert compare_bounds(YEAR_1899, (D(1900, 1, 1), D(1900, 12, 31))) == "conflict"
    assert compare_bounds(YEAR_1899, YEAR_1899) == "same"


def test_the_narrower_refines_the_wider_either_way_round() -> None:
    assert compare_bounds(YEAR_1899, MAY_2_1899) == "refines"
    assert compare_bounds(MAY_2_1899, YEAR_1899) == "refines"


def test_overlapping_bounds_are_compatible_not_a_conflict() -> None:
    assert compare_bounds((D(1924, 7, 1), D(1925, 6, 30)), YEAR_1899) == "conflict"
    assert compare_bounds((D(1924, 7, 1), D(1925, 6, 30)), (D(1925, 1, 1), D(1925, 12, 31))) \
        == "compatible"


def test_open_bounds_before_and_after() -> None:
    before_1923 = (None, D(1922, 12, 31))
    assert compare_bounds(before_1923, YEAR_1899) == "refines"
    assert compare_bounds(before_1923, (D(1923, 1, 1), D(1923, 12, 31))) == "conflict"
    assert compare_bounds((D(1930, 1, 1), None), before_1923) == "conflict"


def test_references_conflict_when_they_differ() -> None:
    assert compare_refs("PL1", "PL1") == "same"
    assert compare_refs("PL1", "PL2") == "conflict"


def test_born_1899_against_born_2_may_1899_agrees_with_a_precision_note() -> None:
    out = compare([Fact(claim="C1", dates={"date": YEAR_1899}, refs={"place": "PL1"}),
                   Fact(claim="C2", dates={"date": MAY_2_1899})])
    assert out.agree and out.conflicts == {}
    assert out.notes == ["C2 makes C1's date precise"]


def test_another_place_or_authority_is_a_conflict_naming_the_field() -> None:
    out = compare([Fact(claim="C1", dates={"date": MAY_2_1899}, refs={"authority": "O1"}),
                   Fact(claim="C2", dates={"date": YEAR_1899}, refs={"authority": "O2"})])
    assert not out.agree
    assert out.conflicts == {"authority": [("C1", "C2")]}


def test_values_left_out_are_not_compared_and_nothing_compared_is_no_agreement() -> None:
    out = compare([Fact(claim="C1", dates={"date": YEAR_1899}), Fact(claim="C2", refs={"place": "PL1"})])
    assert out.conflicts == {} and not out.agree


def test_overlap_alone_is_compatible_but_no_agreement() -> None:
    out = compare([Fact(claim="C1", dates={"date": (D(1924, 7, 1), D(1925, 6, 30))}),
                   Fact(claim="C2", dates={"date": (D(1925, 1, 1), D(1925, 12, 31))})])
    assert out.conflicts == {} and not out.agree
    assert "compatible" in out.notes[0]


def test_same_event_links_claims_of_one_kind_only() -> None:
    assert same_event_problem("arrest", "arrest", "C1", None, None) is None
    assert "one kind" in (same_event_problem("arrest", "sentence", "C1", None, None) or "")
    assert same_event_problem("arrest", "arrest", "C1", "C1", None) is not None
    assert same_event_problem("arrest", "arrest", "C1", None, "C1") is not None


def test_events_group_linked_claims_transitively_among_those_present() -> None:
    assert events_of({"C2": "C1", "C3": "C2", "C5": "C9"}, ["C1", "C2", "C3", "C4", "C5"]) \
        == [["C1", "C2", "C3"]]


days = st.dates(min_value=D(1850, 1, 1), max_value=D(1990, 12, 31))
bounds = st.tuples(st.one_of(st.none(), days), st.one_of(st.none(), days)).filter(
    lambda b: b[0] is None or b[1] is None or b[0] <= b[1])


@given(bounds, bounds)
def test_conflict_exactly_when_no_day_is_possible_under_both(a, b) -> None:
    lo = max((d for d in (a[0], b[0]) if d is not None), default=None)
    hi = min((d for d in (a[1], b[1]) if d is not None), default=None)
    shared = lo is None or hi is None or lo <= hi
    assert (compare_bounds(a, b) == "conflict") == (not shared)
    assert compare_bounds(a, b) == compare_bounds(b, a)
