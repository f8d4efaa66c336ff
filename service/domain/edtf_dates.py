"""The one place that parses EDTF: a submitted date string becomes a `DateValue` with strict bounds."""

from __future__ import annotations

import calendar as _calendar
import datetime
import functools
import re
from typing import Any, NamedTuple

from edtf import Date, Interval, Season, UncertainOrApproximate, UnspecifiedIntervalSection, parse_edtf

from starosta.events.dates import DateValue

MAX_LENGTH = 64  # the longest sensible EDTF here is an interval of two qualified days (~25 chars)
CACHE_SIZE = 65536
EXAMPLES = "examples: 1940-01-25, 1925-04, 1923/1931, 1942?, 1933~, 1940/.."
# Soviet Russia went from Julian 31 January 1918 straight to Gregorian 14 February 1918.
LAST_JULIAN_DAY = datetime.date(1918, 2, 13)
CALENDARS = ("gregorian", "julian")
ACCEPTED_SEASONS = {21, 22, 23, 24, 25, 26, 27, 28, *range(33, 42)}
WINTERS = {24, 28}  # winter YYYY: from YYYY-01-01 to the end of February YYYY+1 (every reading)

Ymd = tuple[int, int, int]


class DateError(ValueError):
    """A submitted date that cannot be accepted; `field` and `value` name it, the message says why."""

    def __init__(self, field: str, value: object, problem: str) -> None:
        shown = value if not isinstance(value, str) or len(value) <= 40 else value[:40] + "..."
        super().__init__(f"{field} {shown!r} {problem}")
        self.field, self.value, self.problem = field, value, problem


class Raw(NamedTuple):
    """Strict bounds as (year, month, day) in the source's calendar, before any conversion."""

    lower: Ymd | None
    upper: Ymd | None
    upper_day_given: bool  # False when the upper day is a month's end the library computed
    uncertain: bool = False
    approximate: bool = False


_ISO = re.compile(r"([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?", re.ASCII)
_EDTF_CHARS = re.compile(r"[0-9X/.~?%-]+", re.ASCII)
_DAY_FIRST = re.compile(r"[0-9]{1,2}[-./][0-9]{1,2}[-./][0-9]{4}")
_YMD = re.compile(r"(?<![0-9])([0-9]{4})-([0-9]{2})(?:-([0-9]{2}))?(?![0-9])")
# EDTF level 0 date and time: the archive keeps the day (a time of day is cut to its day)
_DATE_TIME = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})T[0-9]{2}:[0-9]{2}:[0-9]{2}"
                        r"(?:Z|[+-][0-9]{2}(?::[0-9]{2})?)?", re.ASCII)


def fast_bounds(text: str) -> Raw | None:
    """Return the bounds of a valid plain YYYY, YYYY-MM or YYYY-MM-DD, or None to ask the library."""
    m = _ISO.fullmatch(text)
    if m is None or int(m[1]) < 1:
        return None
    y = int(m[1])
    try:
        if m[3] is not None:
            day = datetime.date(y, int(m[2]), int(m[3]))
            return Raw((y, day.month, day.day), (y, day.month, day.day), True)
        if m[2] is not None:
            mo = int(m[2])
            last = _calendar.monthrange(y, mo)[1]  # raises ValueError (calendar.IllegalMonthError)
            return Raw((y, mo, 1), (y, mo, last), False)
    except ValueError:
        return None
    return Raw((y, 1, 1), (y, 12, 31), False)


@functools.lru_cache(maxsize=CACHE_SIZE)
def library_bounds(text: str) -> Raw | str:
    """Return the strict bounds the edtf library gives `text`, or the reason (maybe "") it is refused.

    Cached on the string, failures too: a parse costs milliseconds. Never raises.
    """
    try:
        obj = parse_edtf(text)
    except Exception:  # the parser raises ParseException, AttributeError, TypeError...
        return ""
    try:
        return _bounds_of(obj)
    except _Refused as refused:
        return str(refused)
    except Exception:
        return ""


class _Refused(Exception):
    """A parsed form that the archive does not accept; the text says what to write instead."""


def _bounds_of(obj: object) -> Raw:
    """Return strict bounds of a parsed EDTF object, without the library's guesses for unknown ends."""
    if isinstance(obj, Interval):
        low_part, high_part = obj.lower, obj.upper
    elif isinstance(obj, Date | UncertainOrApproximate):
        low_part = high_part = obj
    else:
        raise _Refused(f"is a form of EDTF the archive does not take ({EXAMPLES})")
    lower = upper = None
    if not isinstance(low_part, UnspecifiedIntervalSection):
        leaf = _checked_leaf(low_part)
        lower = _winter(leaf)[0] if _is_winter(leaf) else tuple(leaf.lower_strict()[:3])
    day_given = False
    if not isinstance(high_part, UnspecifiedIntervalSection):
        leaf = _checked_leaf(high_part)
        upper = _winter(leaf)[1] if _is_winter(leaf) else tuple(high_part.upper_strict()[:3])
        day_given = getattr(leaf, "day", None) not in (None, "XX")
    if lower is not None and upper is not None and lower > upper:
        raise _Refused("is a reversed interval (its start is after its end): put the earlier first")
    both = bool(getattr(obj, "is_uncertain_and_approximate", False))
    return Raw(lower, upper, day_given, bool(obj.is_uncertain) or both, bool(obj.is_approximate) or both)


def _checked_leaf(part: Any) -> Any:  # edtf ships no types
    """Return the date inside an interval end or qualified date; raise _Refused for refused seasons."""
    leaf = part.date if isinstance(part, UncertainOrApproximate) else part
    if isinstance(leaf, Season) and int(leaf.season) not in ACCEPTED_SEASONS:
        raise _Refused("is a southern-hemisphere season: write the months (1940-09/1940-11)")
    return leaf


def _is_winter(leaf: object) -> bool:
    return isinstance(leaf, Season) and int(leaf.season) in WINTERS


def _winter(leaf: Any) -> tuple[Ymd, Ymd]:
    """Winter YYYY straddles two years and readings differ (December YYYY to February YYYY+1, or
    January to March YYYY): its bounds hold every reading, YYYY-01-01 to the end of February
    YYYY+1 (the library gives December YYYY alone)."""
    year = int(leaf.year)
    return (year, 1, 1), (year + 1, 2, _calendar.monthrange(year + 1, 2)[1])


def julian_to_gregorian(year: int, month: int, day: int) -> datetime.date:
    """Return the Gregorian day of a proleptic Julian date; raise ValueError if it is not a Julian day."""
    if not 1 <= month <= 12 or not 1 <= day <= julian_month_length(year, month):
        raise ValueError(f"{year:04d}-{month:02d}-{day:02d} is not a day of the Julian calendar")
    a = (14 - month) // 12
    y, m = year + 4800 - a, month + 12 * a - 3
    jdn = day + (153 * m + 2) // 5 + 365 * y + y // 4 - 32083  # Julian day number
    return datetime.date.fromordinal(jdn - 1721425)  # 0001-01-01 (Gregorian) is JDN 1721426


def julian_month_length(year: int, month: int) -> int:
    """Return the number of days of `month` in the Julian calendar (every fourth year is leap)."""
    if month == 2:
        return 29 if year % 4 == 0 else 28
    return _calendar.monthrange(2001, month)[1]


def _to_day(ymd: Ymd, calendar: str, fix_february: bool) -> datetime.date:
    """Return the Gregorian day of a bound; raise _Refused when the day does not exist."""
    y, m, d = ymd
    if y < 1:
        raise _Refused(f"lies wholly outside the archive's years {_YEARS} (for a date with no "
                       "known bound, give '..')")
    if calendar == "julian":
        if fix_february and m == 2 and d == 28 and y % 4 == 0:
            d = 29  # the library ends February by the Gregorian rule; 1900 is leap in Julian
        if d > julian_month_length(y, m):
            days = julian_month_length(y, m)
            raise _Refused(f"is not a day: {y:04d}-{m:02d} has {days} days in the Julian calendar")
        try:
            return julian_to_gregorian(y, m, d)
        except ValueError:  # before Gregorian 0001-01-01
            raise _Refused(f"lies wholly outside the archive's years {_YEARS}") from None
    try:
        return datetime.date(y, m, d)
    except ValueError:
        days = _calendar.monthrange(y, m)[1]
        raise _Refused(f"is not a day: {y:04d}-{m:02d} has {days} days") from None


def _value_from_raw(text: str, raw: Raw, calendar: str) -> DateValue:
    """Return the DateValue of checked bounds; raise _Refused for missing days or late Julian dates."""
    earliest = None if raw.lower is None else _to_day(raw.lower, calendar, False)
    latest = None if raw.upper is None else _to_day(raw.upper, calendar, not raw.upper_day_given)
    if calendar == "julian" and (latest is None or latest > LAST_JULIAN_DAY):
        raise _Refused("cannot be Julian: Russia left the Julian calendar on 31 January 1918 (Old "
                       "Style), so a Julian date must surely end before 14 February 1918; give it "
                       "in the Gregorian calendar")
    return DateValue(edtf=text, earliest=earliest, latest=latest, uncertain=raw.uncertain,
                     approximate=raw.approximate, calendar=calendar)  # type: ignore[arg-type]


def parse_date(text: str, *, field: str, calendar: str = "gregorian") -> DateValue:
    """Return the DateValue of one EDTF date or interval (surrounding spaces dropped).

    Accepted: EDTF levels 0-2 dates and intervals of years 0001-9999 (1948-01-29, 1925-04, 1942?,
    1933~, 1940%, 194X, 1940-XX-15, 2004-06~-11, seasons 21-28 and 33-41 (winter: see _winter),
    1923/1931, 1940/.., ../1931, /1931, 1940/), a date and time (1985-04-12T23:20:30, cut to its
    day) and ".." alone (no known bound). Bounds are the strict ones; an unknown or open
    end is None, never the library's ten-year guess; ~ % ? become flags. Raises DateError (a
    ValueError naming `field` and `text`, saying what to write instead) for anything else: sets
    ([1940,1942]), times inside intervals, long or negative years, significant digits, southern seasons,
    reversed intervals, over MAX_LENGTH characters, a julian date not surely before 1918-02-14,
    a date wholly outside ARCHIVE_YEARS.
    """
    if calendar not in CALENDARS:
        raise DateError("calendar", calendar, "is not a calendar here: give 'gregorian' or 'julian'")
    if not isinstance(text, str):
        raise DateError(field, text, f"is not a string: dates are EDTF strings ({EXAMPLES})")
    s = text.strip()
    if not s:
        raise DateError(field, text, "is empty: leave the field out, or give '..' (no known bound)")
    if len(s) > MAX_LENGTH:
        raise DateError(field, text, f"is longer than {MAX_LENGTH} characters: give one EDTF date "
                        f"({EXAMPLES})")
    day_of = _DATE_TIME.fullmatch(s)
    if s == "..":
        raw: Raw | str = Raw(None, None, False)
    elif day_of is not None:  # a date and time: its day
        raw = fast_bounds(day_of[1]) or library_bounds(day_of[1])
    elif not _EDTF_CHARS.fullmatch(s):
        raise DateError(field, text, _diagnose(s))
    else:
        raw = fast_bounds(s) or library_bounds(s)
    if isinstance(raw, str):
        raise DateError(field, text, raw or _diagnose(s))
    try:
        value = _value_from_raw(s, raw, calendar)
    except _Refused as refused:
        raise DateError(field, text, str(refused)) from None
    if (value.latest is not None and value.latest < ARCHIVE_YEARS[0]) or \
            (value.earliest is not None and value.earliest > ARCHIVE_YEARS[1]):
        raise DateError(field, text, f"lies wholly outside the archive's years {_YEARS}: check "
                        "the year")
    return value


# The years this archive's dates may touch: a date wholly outside them is a typing error (a
# value overlapping them, like 1XXX, is kept with its bounds).
ARCHIVE_YEARS = (datetime.date(1700, 1, 1), datetime.date(2100, 12, 31))
_YEARS = f"{ARCHIVE_YEARS[0].year}-{ARCHIVE_YEARS[1].year}"


def parse_interval(start: str | None, end: str | None, *, field_start: str = "start",
                   field_end: str = "end", calendar: str = "gregorian",
                   ) -> tuple[DateValue | None, DateValue | None]:
    """Return (start, end) as DateValues, None where a date is missing (unknown, never guessed).

    Raises DateError for either date as parse_date does, and on `field_start` when the start's
    earliest possible day is after the end's latest possible day.
    """
    first = None if start is None else parse_date(start, field=field_start, calendar=calendar)
    last = None if end is None else parse_date(end, field=field_end, calendar=calendar)
    if first and last and first.earliest and last.latest and first.earliest > last.latest:
        raise DateError(field_start, start, f"is after {field_end} {end!r}: its earliest day "
                        f"{first.earliest} is after the latest day of {field_end}, {last.latest}; "
                        "swap them or correct one")
    return first, last


def _diagnose(s: str) -> str:
    """Return why `s` is not an accepted EDTF date and what to write instead."""
    if any(c.isspace() for c in s):
        why = "EDTF has no spaces (write 1923/1931, not 1923 / 1931)"
    elif _DAY_FIRST.fullmatch(s):
        why = "write the year first, as year-month-day (29-1-1948 is 1948-01-29)"
    elif any(c in s for c in "[]{},"):
        why = "a set of dates is not one date: one claim per date, or an interval (1940/1942)"
    elif ":" in s or re.search(r"[0-9]T[0-9]", s):
        why = "the archive records days, not times: give the day (1940-01-25), the time in 'said'"
    elif s.startswith(("Y", "-")) or "/-" in s or "/Y" in s:  # long or negative years
        return f"lies wholly outside the archive's years {_YEARS}: check the year"
    elif re.search(r"[0-9][ES][0-9]", s):
        why = "no exponents or significant digits (use 19XX or 1900/1999)"
    elif "^" in s:
        why = "season qualifiers (^) are not taken: put the words in 'said'"
    elif "x" in s or "u" in s:
        why = "an unspecified digit is a capital X (194X, 1940-XX)"
    elif not _EDTF_CHARS.fullmatch(s):
        why = "EDTF uses digits, X, '-', '/', '..', '~', '?' and '%' only"
    elif re.search(r"[0-9]\.\.[0-9]", s):
        why = "an interval is written with a slash (1940/1942)"
    elif "/" in s and re.search(r"[0-9]{4}-XX(?![-0-9X])", s):  # the edtf library fails on these
        why = "a year-month with X cannot be an interval's end here: write the year (1940/1942-05)"
    elif re.search(r"-(?:[0-9]X|X[0-9])", s):
        why = "X stands for a whole month or day (1940-XX, 1940-05-XX)"
    else:
        why = _diagnose_numbers(s)
    return f"is not an EDTF date: {why} ({EXAMPLES})"


def _diagnose_numbers(s: str) -> str:
    """Return a specific complaint about a month or day in `s`, or a general one."""
    for m in _YMD.finditer(s):
        y, mo, d = int(m[1]), int(m[2]), m[3]
        if not 1 <= mo <= 12 and mo not in ACCEPTED_SEASONS:
            return "months run 01-12 (21-23 are spring, summer and autumn)"
        if d is not None and 1 <= mo <= 12 and not 1 <= int(d) <= _calendar.monthrange(max(y, 1), mo)[1]:
            return f"the days of {m[1]}-{m[2]} run 01-{_calendar.monthrange(max(y, 1), mo)[1]}"
    return "the form is year, year-month or year-month-day, each optionally followed by ~ ? or %"
