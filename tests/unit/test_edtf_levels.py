"""Every EDTF level 0 and level 1 form is parsed (issue 10): the examples of the EDTF
specification (Library of Congress, 2019), as the `edtf` package's own tests list them, are
accepted with the package's strict bounds or wider (an unknown end is None: wider than the
package's ten-year guess), unless they lie wholly outside the archive's years, which is 422
naming the range. Times are cut to their day; winter holds every reading of it."""

from __future__ import annotations

import datetime

import pytest
from edtf import parse_edtf

from starosta.service.domain.edtf_dates import ARCHIVE_YEARS, DateError, parse_date

LEVEL_0 = ["2001-02-03", "2008-12", "2008", "-0999", "0000", "2001-02-03T09:30:01",
           "2004-01-01T10:10:10Z", "2004-01-01T10:10:10+05:00", "1985-04-12T23:20:30",
           "1964/2008", "2004-06/2006-08", "2004-02-01/2005-02-08", "2004-02-01/2005-02",
           "2004-02-01/2005", "2005/2006-02", "-2005/-1999-02"]
LEVEL_1 = ["1984?", "2004-06-11?", "2004-06?", "1984~", "1984%", "199X", "19XX", "1999-XX",
           "1999-01-XX", "1999-XX-XX", "-01XX", "-0275~", "-0001~", "0000~", "16XX~", "16XX%",
           "1XXX", "1XXX~", "156X~", "-01XX~", "/2006", "2004-06-01/", "../2006", "2004-01-01/..",
           "1984~/2004-06", "1984/2004-06~", "1984?/2004%", "1984~/2004~", "1984-06?/2004-08?",
           "1984-06-02?/2004-08-08~", "1984-06-02?/", "Y170000002", "Y-170000002", "2001-21",
           "2003-22", "2000-23", "2010-24"]


def _day(struct: object) -> datetime.date | None:
    """A bound of the package as a day; None for an open end (it gives +-inf) or a year Python's
    dates cannot hold."""
    try:
        return datetime.date(*tuple(struct)[:3])  # type: ignore[arg-type]
    except (ValueError, TypeError, OverflowError):
        return None


def package_bounds(text: str) -> tuple[datetime.date | None, datetime.date | None]:
    """The package's strict bounds as days; None for an open end or an unknown one (where the
    package guesses ten years, the archive keeps no bound)."""
    parsed = parse_edtf(text)
    lower = None if text.startswith(("../", "/")) else _day(parsed.lower_strict())
    upper = None if text.endswith(("/..", "/")) else _day(parsed.upper_strict())
    return lower, upper


def wholly_outside(text: str) -> bool:
    parsed = parse_edtf(text)
    low, high = parsed.lower_strict(), parsed.upper_strict()
    low = (float("-inf"),) if isinstance(low, float) else tuple(low)[:3]
    high = (float("inf"),) if isinstance(high, float) else tuple(high)[:3]
    return high < (ARCHIVE_YEARS[0].year, 1, 1) or low > (ARCHIVE_YEARS[1].year, 12, 31)


@pytest.mark.parametrize("text", LEVEL_0 + LEVEL_1)
def test_every_level_0_and_1_example_is_taken_with_the_package_s_bounds_or_wider(text: str) -> None:
    if wholly_outside(text):
        with pytest.raises(DateError) as refused:
            parse_date(text, field="date")
        assert "outside the archive's years 1700-2100" in refused.value.problem, refused.value.problem
        return
    value = parse_date(text, field="date")
    lower, upper = package_bounds(text)
    if lower is not None:
        assert value.earliest is None or value.earliest <= lower, (text, value.earliest, lower)
    if upper is not None:
        assert value.latest is None or value.latest >= upper, (text, value.latest, upper)


def test_the_forms_of_both_levels_are_all_here() -> None:
    """Guard the lists: dates, times, intervals, qualifiers, X, open and unknown ends, long
    years, and every northern season are each there."""
    both = LEVEL_0 + LEVEL_1
    assert any("T" in t for t in both) and any("/.." in t for t in both)
    assert any(t.endswith("/") for t in both) and any(t.startswith("/") for t in both)
    assert {"2001-21", "2003-22", "2000-23", "2010-24"} <= set(both)
    assert sum(not wholly_outside(t) for t in both) >= 40


@pytest.mark.parametrize("text, earliest, latest", [
    ("2010-24", "2010-01-01", "2011-02-28"),  # winter 2010: January 2010 to February 2011
    ("1939-24", "1939-01-01", "1940-02-29"),  # ... a leap February
    ("1940-24?/1941-06", "1940-01-01", "1941-06-30"),
    ("1940-12/1941-24", "1940-12-01", "1942-02-28"),
    ("1940-21", "1940-03-01", "1940-05-31"),
    ("1940-23", "1940-09-01", "1940-11-30"),
    ("1985-04-12T23:20:30", "1985-04-12", "1985-04-12"),
    ("1941-06-22T04:00:00+03:00", "1941-06-22", "1941-06-22"),
])
def test_winters_hold_every_reading_and_times_keep_their_day(text, earliest, latest) -> None:
    value = parse_date(text, field="date")
    assert (str(value.earliest), str(value.latest)) == (earliest, latest)
    assert value.edtf == text  # kept as sent


def test_a_date_wholly_outside_the_archive_s_years_names_the_range() -> None:
    with pytest.raises(DateError) as refused:
        parse_date("1600-24", field="start")
    assert "1700-2100" in refused.value.problem
