"""The name a place bore at a statement's date (events.name_spans.name_at), as a pure rule."""

from __future__ import annotations

from datetime import date

from starosta.events.name_spans import NameSpan, name_at

OLD = NameSpan(name="Ekaterinburg", earliest=None, latest=date(1924, 12, 31))
NEW = NameSpan(name="Sverdlovsk", earliest=date(1924, 1, 1), latest=date(1991, 12, 31))
ERA = NameSpan(name="Narrow", earliest=date(1930, 1, 1), latest=date(1930, 12, 31))


def test_the_span_holding_the_statement_gives_the_name() -> None:
    assert name_at([OLD, NEW], date(1899, 5, 2), date(1899, 5, 2)) == "Ekaterinburg"
    assert name_at([OLD, NEW], date(1930, 1, 1), date(1930, 12, 31)) == "Sverdlovsk"


def test_a_statement_a_span_does_not_hold_whole_gets_no_name() -> None:
    assert name_at([NEW], date(1923, 1, 1), date(1925, 12, 31)) is None
    assert name_at([NEW], date(1995, 1, 1), date(1995, 1, 1)) is None
    assert name_at([], date(1930, 1, 1), date(1930, 1, 1)) is None


def test_undated_statements_get_no_name() -> None:
    assert name_at([OLD], None, date(1899, 1, 1)) is None
    assert name_at([OLD], date(1899, 1, 1), None) is None


def test_the_narrowest_holding_span_wins_and_overlaps_resolve_by_width() -> None:
    assert name_at([NEW, ERA], date(1930, 6, 1), date(1930, 6, 1)) == "Narrow"
    # 1924 is in both OLD and NEW: NEW is narrower than the open-ended OLD
    assert name_at([OLD, NEW], date(1924, 6, 1), date(1924, 6, 1)) == "Sverdlovsk"
