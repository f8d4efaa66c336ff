"""EDTF dates: strict bounds, unknown ends never guessed, Julian days, clear refusals, one parse each."""

from __future__ import annotations

import datetime

import msgspec
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import starosta.service.domain.edtf_dates as dates_mod
from starosta.events.dates import DateValue, may_meet, possibly_covered, sort_key, surely_covered
from starosta.service.domain.edtf_dates import (
    ACCEPTED_SEASONS,
    MAX_LENGTH,
    DateError,
    fast_bounds,
    julian_to_gregorian,
    library_bounds,
    parse_date,
    parse_interval,
)

D = datetime.date


def bounds(text: str, calendar: str = "gregorian") -> tuple[D | None, D | None]:
    v = parse_date(text, field="date", calendar=calendar)
    return v.earliest, v.latest


# --- the examples of DOMAIN.md -------------------------------------------------------------

@pytest.mark.parametrize(("text", "earliest", "latest", "uncertain", "approximate"), [
    ("1948-01-29", D(1948, 1, 29), D(1948, 1, 29), False, False),
    ("1925-04", D(1925, 4, 1), D(1925, 4, 30), False, False),
    ("1940-02", D(1940, 2, 1), D(1940, 2, 29), False, False),
    ("1940", D(1940, 1, 1), D(1940, 12, 31), False, False),
    ("1923/1931", D(1923, 1, 1), D(1931, 12, 31), False, False),
    ("1933~/1936~", D(1933, 1, 1), D(1936, 12, 31), False, True),
    ("1942?", D(1942, 1, 1), D(1942, 12, 31), True, False),
    ("1933~", D(1933, 1, 1), D(1933, 12, 31), False, True),
    ("1940%", D(1940, 1, 1), D(1940, 12, 31), True, True),
    ("1940-01-25/1940-09", D(1940, 1, 25), D(1940, 9, 30), False, False),
    ("1940/..", D(1940, 1, 1), None, False, False),
    ("../1931", None, D(1931, 12, 31), False, False),
    ("/1931", None, D(1931, 12, 31), False, False),
    ("1940/", D(1940, 1, 1), None, False, False),
    ("..", None, None, False, False),
    ("194X", D(1940, 1, 1), D(1949, 12, 31), False, False),
    ("19XX", D(1900, 1, 1), D(1999, 12, 31), False, False),
    ("1940-XX", D(1940, 1, 1), D(1940, 12, 31), False, False),
    ("1940-02-XX", D(1940, 2, 1), D(1940, 2, 29), False, False),
    ("2004-06~-11", D(2004, 6, 11), D(2004, 6, 11), False, True),
    ("1940-21", D(1940, 3, 1), D(1940, 5, 31), False, False),  # spring
    ("1940-33", D(1940, 1, 1), D(1940, 3, 31), False, False),  # first quarter
    ("  1942?  ", D(1942, 1, 1), D(1942, 12, 31), True, False),
])
def test_accepted_dates_have_strict_bounds_and_flags(text, earliest, latest, uncertain, approximate):
    v = parse_date(text, field="date")
    assert (v.earliest, v.latest) == (earliest, latest)
    assert (v.uncertain, v.approximate) == (uncertain, approximate)
    assert v.edtf == text.strip()
    assert v.calendar == "gregorian"


def test_unknown_end_is_never_the_libraries_ten_year_guess():
    # the library says /1931 begins 1921-12-31 and 1940/ ends 1950-01-01 (DELTA_IF_UNKNOWN)
    from edtf import parse_edtf
    assert parse_edtf("/1931").lower_strict()[:3] == (1921, 12, 31)
    assert parse_edtf("1940/").upper_strict()[:3] == (1950, 1, 1)
    assert bounds("/1931") == (None, D(1931, 12, 31))
    assert bounds("1940/") == (D(1940, 1, 1), None)
    assert bounds("1940~/") == (D(1940, 1, 1), None)


def test_approximate_bounds_are_strict_not_fuzzy():
    assert bounds("1979-08~") == (D(1979, 8, 1), D(1979, 8, 31))  # the library's fuzzy: 07-01..09-30
    v = parse_date("1933~/1936~", field="start")
    assert v.approximate and not v.uncertain


# --- refusals ------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "says"), [
    ("1948/1940", "reversed interval"),
    ("1940-13", "months run 01-12"),
    ("1940-00", "months run 01-12"),
    ("1940-02-30", "run 01-29"),
    ("1900-02-29", "1900-02 has 28 days"),  # grammar allows 02-29 in any year; 1900 is not leap
    ("2001-02-29", "2001-02 has 28 days"),
    ("abc", "is not an EDTF date"),
    ("", "is empty"),
    ("   ", "is empty"),
    ("x" * 200, f"longer than {MAX_LENGTH}"),
    ("1" * (MAX_LENGTH + 1), f"longer than {MAX_LENGTH}"),
    ("29-1-1948", "year first"),
    ("1940 / 1942", "no spaces"),
    ("[1940,1942]", "set of dates"),
    ("{1940,1942}", "set of dates"),
    ("1940-01-25T10:00/1941", "not times"),  # a time inside an interval is not EDTF
    ("Y170000002", "outside the archive's years 1700-2100"),
    ("1950S2", "significant digits"),
    ("-0100", "1700-2100"),
    ("0000", "1700-2100"),
    ("XXXX", "'..'"),
    ("194x", "capital X"),
    ("1940-1X", "whole month or day"),
    ("1940-30", "southern"),
    ("1940-21^x", "season qualifiers"),
    ("1940..1942", "slash"),
    ("1940-02-30/1941", "is not an EDTF date"),
    ("/", "is not an EDTF date"),
    ("1940//1942", "is not an EDTF date"),
    ("1940\x00", "is not an EDTF date"),
    ("١٩٤٠", "is not an EDTF date"),  # Arabic-Indic digits: \d would have matched them
])
def test_refused_dates_name_field_and_value(text, says):
    with pytest.raises(DateError) as caught:
        parse_date(text, field="start")
    err = caught.value
    assert isinstance(err, ValueError)
    assert err.field == "start" and err.value == text
    message = str(err)
    assert message.startswith("start '") and says in message
    assert len(message) < 400


def test_error_message_gives_examples():
    with pytest.raises(DateError) as caught:
        parse_date("1940-13", field="start")
    assert str(caught.value).startswith("start '1940-13' is not an EDTF date: months run 01-12")
    assert "1923/1931" in str(caught.value) and "1942?" in str(caught.value)


def test_non_strings_and_unknown_calendars_are_date_errors():
    with pytest.raises(DateError):
        parse_date(1940, field="date")  # type: ignore[arg-type]
    with pytest.raises(DateError) as caught:
        parse_date("1940", field="date", calendar="revolutionary")
    assert caught.value.field == "calendar"


def test_library_exceptions_of_any_type_become_date_errors(monkeypatch):
    def explode(text, *args, **kwargs):
        raise RecursionError("deep")
    monkeypatch.setattr(dates_mod, "parse_edtf", explode)
    library_bounds.cache_clear()
    for text in ["1940~/1942~", "1811?/1812?"]:
        with pytest.raises(DateError):
            parse_date(text, field="date")
    library_bounds.cache_clear()  # forget the refusals the broken parser caused


# --- intervals given as two fields ---------------------------------------------------------

def test_parse_interval_keeps_missing_ends_unknown():
    start, end = parse_interval("1940-01-25", None, field_start="start", field_end="end")
    assert start is not None and start.earliest == D(1940, 1, 25) and end is None
    assert parse_interval(None, None, field_start="start", field_end="end") == (None, None)
    start, end = parse_interval("1940", "..", field_start="start", field_end="end")
    assert end is not None and end.earliest is None and end.latest is None


def test_parse_interval_refuses_start_after_end():
    with pytest.raises(DateError) as caught:
        parse_interval("1948", "1940", field_start="start", field_end="end")
    assert caught.value.field == "start" and caught.value.value == "1948"
    assert "'1940'" in str(caught.value) and "1948-01-01" in str(caught.value)


def test_parse_interval_allows_overlapping_imprecise_ends():
    # same year, or an end that could be later: not provably reversed
    start, end = parse_interval("1940", "1940-03", field_start="start", field_end="end")
    assert start and end and start.earliest == D(1940, 1, 1) and end.latest == D(1940, 3, 31)
    parse_interval("1940/..", "1930/1950", field_start="start", field_end="end")


def test_parse_interval_names_the_bad_field():
    with pytest.raises(DateError) as caught:
        parse_interval("1940", "1940-13", field_start="start", field_end="end")
    assert caught.value.field == "end"


# --- Julian (Old Style) ----------------------------------------------------------------------

@pytest.mark.parametrize(("julian", "gregorian"), [
    ((1917, 10, 25), D(1917, 11, 7)),   # the October Revolution
    ((1900, 2, 29), D(1900, 3, 13)),    # a day only the Julian calendar has
    ((1582, 10, 5), D(1582, 10, 15)),   # the first day of the Gregorian reform
    ((1582, 10, 4), D(1582, 10, 14)),
    ((1918, 1, 31), D(1918, 2, 13)),    # Russia's last Julian day
    ((1700, 2, 29), D(1700, 3, 11)),
    ((1, 1, 3), D(1, 1, 1)),
])
def test_julian_to_gregorian_known_pairs(julian, gregorian):
    assert julian_to_gregorian(*julian) == gregorian


def test_julian_to_gregorian_refuses_days_that_do_not_exist():
    for ymd in [(1917, 2, 29), (1917, 13, 1), (1917, 4, 31)]:
        with pytest.raises(ValueError):
            julian_to_gregorian(*ymd)


def test_julian_dates_keep_the_source_text_and_get_gregorian_bounds():
    v = parse_date("1917-10-25", field="date", calendar="julian")
    assert (v.edtf, v.calendar) == ("1917-10-25", "julian")
    assert (v.earliest, v.latest) == (D(1917, 11, 7), D(1917, 11, 7))
    assert bounds("1900-02-29", "julian") == (D(1900, 3, 13), D(1900, 3, 13))
    assert bounds("1917-02", "julian") == (D(1917, 2, 14), D(1917, 3, 13))  # Julian 02-01..02-28
    assert bounds("1900-02", "julian") == (D(1900, 2, 13), D(1900, 3, 13))  # Julian 1900 is leap
    assert bounds("1900-02-XX", "julian") == (D(1900, 2, 13), D(1900, 3, 13))
    assert bounds("1900-02-28", "julian") == (D(1900, 3, 12), D(1900, 3, 12))  # an explicit 28th stays
    assert bounds("1917", "julian") == (D(1917, 1, 14), D(1918, 1, 13))
    assert bounds("../1917-03", "julian") == (None, D(1917, 4, 13))
    assert bounds("1918-01", "julian") == (D(1918, 1, 14), D(1918, 2, 13))


@pytest.mark.parametrize("text", ["1918-02", "1918", "1925-04", "1917/..", "1917/", "..", "1917/1919"])
def test_julian_refused_unless_surely_before_february_1918(text):
    with pytest.raises(DateError) as caught:
        parse_date(text, field="date", calendar="julian")
    assert "14 February 1918" in str(caught.value)


def test_julian_refuses_days_the_julian_calendar_lacks():
    with pytest.raises(DateError, match="Julian calendar"):
        parse_date("1917-02-29", field="date", calendar="julian")


def test_julian_interval_order_is_checked_after_conversion():
    start, end = parse_interval("1917-10-25", "1917-11-07", field_start="start", field_end="end",
                                calendar="julian")
    assert start and end and start.earliest == D(1917, 11, 7) and end.latest == D(1917, 11, 20)


# --- one parse per string --------------------------------------------------------------------

def test_a_second_parse_of_the_same_string_does_not_call_the_library(monkeypatch):
    calls: list[str] = []
    real = dates_mod.parse_edtf

    def counting(text, *args, **kwargs):
        calls.append(text)
        return real(text, *args, **kwargs)

    monkeypatch.setattr(dates_mod, "parse_edtf", counting)
    text = "1937-08~/1938-03?"
    library_bounds.cache_clear()
    first = parse_date(text, field="date")
    info = library_bounds.cache_info()
    assert (info.misses, info.hits) == (1, 0)
    second = parse_date(text, field="start")
    info = library_bounds.cache_info()
    assert (info.misses, info.hits) == (1, 1)
    assert first == second and calls == [text]
    assert info.maxsize == dates_mod.CACHE_SIZE


def test_refusals_are_cached_too(monkeypatch):
    calls: list[str] = []
    real = dates_mod.parse_edtf
    monkeypatch.setattr(dates_mod, "parse_edtf", lambda t, *a, **k: calls.append(t) or real(t, *a, **k))
    library_bounds.cache_clear()
    for _ in range(3):
        with pytest.raises(DateError):
            parse_date("1936-99/1937", field="date")
    assert len(calls) == 1


def test_plain_iso_dates_skip_the_library(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("the library was called")
    monkeypatch.setattr(dates_mod, "parse_edtf", fail)
    library_bounds.cache_clear()
    assert bounds("1948-01-29") == (D(1948, 1, 29), D(1948, 1, 29))
    assert bounds("1925-04") == (D(1925, 4, 1), D(1925, 4, 30))
    assert bounds("1925") == (D(1925, 1, 1), D(1925, 12, 31))
    assert library_bounds.cache_info().currsize == 0


# --- the fast path agrees with the library -----------------------------------------------------

iso_like = st.builds(
    lambda y, m, d, parts: "-".join([f"{y:04d}", f"{m:02d}", f"{d:02d}"][:parts]),
    st.integers(0, 9999), st.integers(0, 99), st.integers(0, 39), st.integers(1, 3))


@settings(deadline=None, max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(iso_like)
@example("1900-02-29")
@example("2000-02-29")
@example("2000-02-30")
@example("1940-04-31")
@example("1940-13")
@example("1940-00")
@example("1940-01-00")
@example("0000")
@example("0001-01-01")
@example("9999-12-31")
def test_fast_path_agrees_with_the_library(text):
    fast = fast_bounds(text)
    library = library_bounds.__wrapped__(text)  # the library itself, not the cache
    if fast is not None:
        assert library == fast  # same bounds, same flags
        if 1700 <= int(text[:4]) <= 2100:
            assert parse_date(text, field="date").earliest is not None
        else:  # a date wholly outside the archive's years is refused, naming the range
            with pytest.raises(DateError, match="1700-2100"):
                parse_date(text, field="date")
    elif len(text) == 7 and int(text[5:]) in ACCEPTED_SEASONS:
        assert not isinstance(library, str)  # a season: redirected to the library, which takes it
    else:
        with pytest.raises(DateError):  # everything else the fast path declines is refused
            parse_date(text, field="date")


# --- events.dates: the struct and its pure helpers ---------------------------------------------

def test_date_value_round_trips_through_msgspec():
    v = parse_date("1933~/1936~", field="start")
    raw = msgspec.json.encode(v)
    assert msgspec.json.decode(raw, type=DateValue) == v
    open_end = parse_date("1940/..", field="start")
    assert msgspec.json.decode(msgspec.json.encode(open_end), type=DateValue).latest is None


def test_date_value_refuses_bounds_in_the_wrong_order():
    with pytest.raises(ValueError):
        DateValue(edtf="x", earliest=D(1941, 1, 1), latest=D(1940, 1, 1))
    bad = b'{"edtf":"x","earliest":"1941-01-01","latest":"1940-01-01"}'
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(bad, type=DateValue)


def test_exact_day_only_for_certain_single_days():
    assert parse_date("1948-01-29", field="d").exact_day == D(1948, 1, 29)
    assert parse_date("1948-01-29?", field="d").exact_day is None
    assert parse_date("1948-01", field="d").exact_day is None


def test_sort_key_orders_by_earliest_then_latest_unknown_last():
    # "before 1932" (../1931) sorts by its latest day, 1931-12-31, not with the undated
    texts = ["1940/..", "../1931", "1940", "1940-03", "1939-12-31", ".."]
    ordered = sorted((parse_date(t, field="d") for t in texts), key=sort_key)
    assert [v.edtf for v in ordered] == ["../1931", "1939-12-31", "1940", "1940/..", "1940-03", ".."]


def test_may_meet_treats_none_as_unbounded():
    assert may_meet(D(1940, 1, 1), D(1940, 12, 31), D(1940, 12, 31), D(1941, 1, 1))
    assert not may_meet(D(1940, 1, 1), D(1940, 12, 31), D(1941, 1, 1), None)
    assert not may_meet(D(1942, 1, 1), None, None, D(1941, 12, 31))
    assert may_meet(None, None, D(1941, 1, 1), D(1941, 1, 1))


def test_surely_and_possibly_covered():
    start, end = parse_interval("1940-01", "1940-09", field_start="start", field_end="end")
    assert surely_covered(start, end) == (D(1940, 1, 31), D(1940, 9, 1))
    assert possibly_covered(start, end) == (D(1940, 1, 1), D(1940, 9, 30))
    start, end = parse_interval("1940", "1940", field_start="start", field_end="end")
    assert surely_covered(start, end) is None  # could have been one day in March
    start, end = parse_interval("1940", "1940/..", field_start="start", field_end="end")
    assert surely_covered(start, end) is None  # an open end surely covers nothing past its start
    assert surely_covered(start, None) is None and possibly_covered(start, None) == (D(1940, 1, 1), None)


@settings(deadline=None, max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text("0123456789X-/.~?%", max_size=24), st.text(max_size=80)),
       st.sampled_from(["gregorian", "julian"]))
def test_any_string_gives_a_date_value_or_a_date_error(text, calendar):
    try:
        v = parse_date(text, field="date", calendar=calendar)
    except DateError as err:
        assert err.field == "date" and str(err).startswith("date ")
    else:
        assert v.edtf == text.strip() and v.calendar == calendar
        if v.earliest is not None and v.latest is not None:
            assert v.earliest <= v.latest
