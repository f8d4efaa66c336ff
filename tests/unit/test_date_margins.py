"""Date margins (Resolutions, D5): an approximate date reaches a year, a month or seven days
beyond its strict bounds by its precision, `%` twice as far, `?` not at all; one rule."""

from __future__ import annotations

import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from starosta.events.dates import (
    DateValue,
    bounds_key,
    margin_bounds,
    may_meet,
    precision,
    sort_key,
    widened,
)
from starosta.service.domain.edtf_dates import parse_date

D = datetime.date


def margins(text: str) -> tuple[D | None, D | None]:
    return margin_bounds(parse_date(text, field="date"))


@pytest.mark.parametrize("text, earliest, latest", [
    ("1925~", D(1924, 1, 1), D(1926, 12, 31)),            # a year: one year either side
    ("1925-04~", D(1925, 3, 1), D(1925, 5, 31)),          # a month: one month either side
    ("1925-01~", D(1924, 12, 1), D(1925, 2, 28)),
    ("1925-04-10~", D(1925, 4, 3), D(1925, 4, 17)),       # a day: seven days either side
    ("1925%", D(1923, 1, 1), D(1927, 12, 31)),            # % doubles
    ("1925-04%", D(1925, 2, 1), D(1925, 6, 30)),
    ("1925-04-10%", D(1925, 3, 27), D(1925, 4, 24)),
    ("1925?", D(1925, 1, 1), D(1925, 12, 31)),            # ? is not widened
    ("1925", D(1925, 1, 1), D(1925, 12, 31)),
    ("1925-04-10", D(1925, 4, 10), D(1925, 4, 10)),
    ("1923~/1925-06", D(1922, 1, 1), D(1925, 7, 31)),     # each end by its own precision
    ("../1922~", None, D(1923, 12, 31)),                  # an open end stays open
    ("1940~/..", D(1939, 1, 1), None),
    ("1925-XX~", D(1924, 1, 1), D(1926, 12, 31)),         # X: not given, a year's precision
])
def test_margins_by_precision(text, earliest, latest):
    assert margins(text) == (earliest, latest)


def test_around_1925_is_possible_in_1924_but_1925_is_not():
    around, exact = parse_date("1925~", field="d"), parse_date("1925", field="d")
    in_1924 = (D(1924, 1, 1), D(1924, 12, 31))
    assert may_meet(*margin_bounds(around), *in_1924)
    assert not may_meet(*margin_bounds(exact), *in_1924)
    assert not may_meet(*margin_bounds(parse_date("1925?", field="d")), *in_1924)


def test_widened_keeps_text_and_flags_and_is_identity_when_not_approximate():
    v = parse_date("1925-04~", field="d")
    w = widened(v)
    assert w is not None and (w.edtf, w.approximate, w.uncertain) == ("1925-04~", True, False)
    assert (w.earliest, w.latest) == (D(1925, 3, 1), D(1925, 5, 31))
    exact = parse_date("1925-04", field="d")
    assert widened(exact) is exact and widened(None) is None


def test_stored_values_are_widened_without_parsing():
    # a value as an old stored event decodes it: the function reads its text and bounds only
    v = DateValue(edtf="1931-02-28~", earliest=D(1931, 2, 28), latest=D(1931, 2, 28), approximate=True)
    assert margin_bounds(v) == (D(1931, 2, 21), D(1931, 3, 7))


def test_julian_values_widen_their_gregorian_bounds():
    v = parse_date("1917-03~", field="d", calendar="julian")
    lo, hi = margin_bounds(v)
    assert lo is not None and hi is not None and v.earliest is not None and v.latest is not None
    assert lo < v.earliest and hi > v.latest and (v.latest - v.earliest).days < (hi - lo).days


@pytest.mark.parametrize("text, expected", [
    ("1925", "year"), ("1925-04", "month"), ("1925-04-10", "day"), ("1925-XX", "year"),
    ("1925-04-XX", "month"), ("..", None), ("", None), ("192X", "year"), ("1925-04-10~", "day"),
])
def test_precision_reads_the_texts_shape(text, expected):
    assert precision(text) == expected


def test_before_sorts_by_its_latest_day_and_undated_last():
    texts = ["1925", "../1922", "..", "1921-05", "1923~"]
    ordered = sorted((parse_date(t, field="d") for t in texts), key=sort_key)
    assert [v.edtf for v in ordered] == ["1921-05", "../1922", "1923~", "1925", ".."]
    assert bounds_key(None, None) > bounds_key(None, D(2100, 1, 1))


days = st.dates(min_value=D(1750, 1, 1), max_value=D(2050, 12, 31))


@given(days, st.sampled_from(["", "-%m", "-%m-%d"]), st.sampled_from(["~", "%", "?"]))
def test_margins_contain_the_strict_bounds_and_percent_contains_tilde(day, shape, mark):
    text = day.strftime("%Y" + shape) + mark
    v = parse_date(text, field="d")
    lo, hi = margin_bounds(v)
    assert lo is not None and hi is not None and v.earliest is not None and v.latest is not None
    assert lo <= v.earliest and v.latest <= hi
    if mark == "?":
        assert (lo, hi) == (v.earliest, v.latest)
    else:
        assert lo < v.earliest and v.latest < hi
    if mark == "%":
        t_lo, t_hi = margin_bounds(parse_date(text[:-1] + "~", field="d"))
        assert lo < t_lo and t_hi < hi
