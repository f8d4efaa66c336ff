"""A checked date as events carry it: the EDTF string as given, with its earliest and latest days."""

from __future__ import annotations

import bisect
import calendar
import datetime
import re
from typing import Literal

import msgspec

Day = datetime.date


class DateValue(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """An EDTF date or interval with its strict bounds (Gregorian days, None = unknown/open).

    Built by `service.domain.edtf_dates` when a command is checked, so nothing that reads events parses.
    A julian value keeps the Old Style text in `edtf`; its bounds are already Gregorian.
    """

    edtf: str
    earliest: Day | None
    latest: Day | None
    uncertain: bool = False
    approximate: bool = False
    calendar: Literal["gregorian", "julian"] = "gregorian"

    def __post_init__(self) -> None:
        """Refuse bounds in the wrong order (raises ValueError; msgspec.ValidationError on decode)."""
        if self.earliest is not None and self.latest is not None and self.earliest > self.latest:
            raise ValueError(f"date {self.edtf!r}: earliest {self.earliest} after latest {self.latest}")

    @property
    def exact_day(self) -> Day | None:
        """Return the one day this value names when it is a certain single day, else None."""
        if self.earliest is not None and self.earliest == self.latest and not self.fuzzy:
            return self.earliest
        return None

    @property
    def fuzzy(self) -> bool:
        """Return True when the source marks the date uncertain (?) or approximate (~)."""
        return self.uncertain or self.approximate


def sort_key(d: DateValue) -> tuple[bool, Day, bool, Day]:
    """Return a key ordering dates by their bounds: by earliest day, or by the latest when only
    that is known ("before 1923", ``../1922``, sorts by 1922-12-31, not with the undated), then
    by latest day; a date with no bound at all last."""
    return bounds_key(d.earliest, d.latest)


def bounds_key(earliest: Day | None, latest: Day | None) -> tuple[bool, Day, bool, Day]:
    """`sort_key` on bare bounds (None = unknown): the one order of timelines."""
    first = earliest if earliest is not None else latest
    return (first is None, first or Day.min, latest is None, latest or Day.max)


# -- margins of approximate dates (Resolutions, D5) ----------------------------------------------

#: How far an approximate (``~``) date reaches beyond its strict bounds, by the precision of
#: each end: a year by one year, a month by one month, a day by seven days. ``%`` (approximate
#: and uncertain) doubles the margin; ``?`` alone is not widened (its certainty is shown).
#: python-edtf's own margins are not used.
MARGINS = {"year": (1, 0, 0), "month": (0, 1, 0), "day": (0, 0, 7)}

_END = re.compile(r"^\[?([0-9X]{4})(?:-([0-9X]{2})(?:-([0-9X]{2}))?)?")


def precision(end_text: str) -> str | None:
    """Return "year", "month" or "day": how precisely one end of an EDTF date is written (a
    month or day of X counts as not given; a season is a month's precision), or None for an
    open or unknown end. A cheap look at the stored text: no EDTF parsing."""
    m = _END.match(end_text.strip())
    if m is None:
        return None
    if m[3] is not None and "X" not in m[3]:
        return "day"
    if m[2] is not None and "X" not in m[2]:
        return "month"
    return "year"


def _shift(day: Day, parts: tuple[int, int, int], sign: int) -> Day:
    """`day` moved by `parts` (years, months, days); a month's day cut to the month's length;
    moving later keeps a month's last day its last (1925-04-30 + 1 month = 1925-05-31)."""
    y, m, d = parts
    months = day.year * 12 + day.month - 1 + sign * (y * 12 + m)
    year, month = divmod(months, 12)
    month += 1
    if not 1 <= year <= 9999:
        return Day.min if sign < 0 else Day.max
    length = calendar.monthrange(year, month)[1]
    last = day.day == calendar.monthrange(day.year, day.month)[1]
    out = Day(year, month, length if (last and sign > 0) else min(day.day, length))
    try:
        return out + datetime.timedelta(days=sign * d)
    except OverflowError:
        return Day.min if sign < 0 else Day.max


def margin_bounds(d: DateValue) -> tuple[Day | None, Day | None]:
    """Return the days an approximate date may stand for: its strict bounds widened by the
    archive's margins (`MARGINS`, doubled for ``%``) by the precision of each end; the strict
    bounds themselves for a date that is not approximate (``?`` alone included). The one rule
    of vague dates, for timelines, populations, conflicts and totals; it reads only what the
    stored value holds (its text's shape, its bounds and flags), so stored events are widened
    when read, without parsing."""
    if not d.approximate:
        return d.earliest, d.latest
    factor = 2 if d.uncertain else 1
    text = d.edtf
    if "/" in text:
        low_text, high_text = text.split("/", 1)
    else:
        low_text = high_text = text
    lo, hi = d.earliest, d.latest
    lo_p, hi_p = precision(low_text), precision(high_text)
    if lo is not None and lo_p is not None:
        y, m, dd = MARGINS[lo_p]
        lo = _shift(lo, (y * factor, m * factor, dd * factor), -1)
    if hi is not None and hi_p is not None:
        y, m, dd = MARGINS[hi_p]
        hi = _shift(hi, (y * factor, m * factor, dd * factor), 1)
    return lo, hi


def widened(d: DateValue | None) -> DateValue | None:
    """Return `d` with its bounds widened as `margin_bounds` says (the same value when it is
    not approximate), None for None."""
    if d is None or not d.approximate:
        return d
    lo, hi = margin_bounds(d)
    return msgspec.structs.replace(d, earliest=lo, latest=hi)


def may_meet(lo: Day | None, hi: Day | None, span_lo: Day | None, span_hi: Day | None) -> bool:
    """Return True when days lo..hi and span_lo..span_hi can share a day (None = unbounded)."""
    if lo is not None and span_hi is not None and lo > span_hi:
        return False
    if hi is not None and span_lo is not None and hi < span_lo:
        return False
    return True


def sure_meet_bounds(start_earliest: Day | None, start_latest: Day | None, end_earliest: Day | None,
                     end_latest: Day | None) -> tuple[Day, Day] | None:
    """Return (latest possible start, earliest possible end) of a stay given its bounds (None =
    unknown), or None when either is unbounded: the stay then surely meets no span.

    A stay never ends before it starts, so each pair of bounds narrows the other: an unknown end
    is at least the start (its earliest possible end is the earliest possible start), an unknown
    start at most the end (its latest possible start is the latest possible end). The pair may
    be in either order: it is no stretch of days, only the two tests of `surely_meets`.
    """
    latest_start = min((d for d in (start_latest, end_latest) if d is not None), default=None)
    earliest_end = max((d for d in (end_earliest, start_earliest) if d is not None), default=None)
    if latest_start is None or earliest_end is None:
        return None
    return latest_start, earliest_end


def surely_meets(bounds: tuple[Day, Day] | None, span_lo: Day, span_hi: Day) -> bool:
    """Return True when a stay whose `sure_meet_bounds` are `bounds` is surely held on at least
    one day of span_lo..span_hi, whatever its true dates within their bounds.

    With start in [s1, s2] and end in [e1, e2], every reading s..e meets the span [a, b] iff
    s2 <= b and e1 >= a (the bounds narrowed as `sure_meet_bounds` says): then s <= b, a <= e,
    and s <= e, a <= b, so max(s, a) <= min(e, b). Conversely, when a test fails, the reading
    that starts at s2 or the one that ends at e1 misses the span (if the bounds admit any
    reading at all). The one rule of `certain` in populations and their timelines; custody
    totals count the surely covered days instead (`sure_days`).
    """
    return bounds is not None and bounds[0] <= span_hi and bounds[1] >= span_lo


def sure_days(start_earliest: Day | None, start_latest: Day | None, end_earliest: Day | None,
              end_latest: Day | None) -> tuple[Day, Day] | None:
    """Return the days surely inside a stretch given its bounds (None = unknown), or None.

    For custody totals and two-place conflicts, not populations (see `surely_meets`): a stay
    known only to the month surely meets that month but surely covers none of its days.

    Surely covered: from the latest possible start to the earliest possible end. An unknown
    end is never guessed: the stretch lasted at least until it began, so its earliest possible
    end is its earliest possible start, and only an exactly known start day is sure (and
    likewise an exactly known end day when the start is unknown).
    """
    lo = start_latest if start_latest is not None else end_latest
    hi = end_earliest if end_earliest is not None else start_earliest
    if lo is None or hi is None or lo > hi:
        return None
    return lo, hi


def surely_covered(start: DateValue | None, end: DateValue | None) -> tuple[Day, Day] | None:
    """Return the days surely inside a start..end stretch (see `sure_days`), or None."""
    return sure_days(start.earliest if start else None, start.latest if start else None,
                     end.earliest if end else None, end.latest if end else None)


def possibly_covered(start: DateValue | None, end: DateValue | None) -> tuple[Day | None, Day | None]:
    """Return the days possibly in a start..end stretch (earliest start to latest end; None = open)."""
    return (start.earliest if start else None, end.latest if end else None)


# -- durations -------------------------------------------------------------------------------

class Length(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A stay's length as its claim's ISO 8601 `duration` gives it, computed at submission:
    the fewest and most days it can last (both ends counted) over every start its bounds
    allow, and which of its dates the duration narrowed (`narrowed`)."""

    duration: str
    min_days: int
    max_days: int
    narrowed: tuple[str, ...] = ()


_DURATION = re.compile(r"^P(?=\d)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?$")
# Starts scanned for a duration's extreme lengths when its start is not known closely: sixteen
# years around 1900, so the non-leap century year is among them (no archive duration reaches
# a second one: years are at most two digits)
_GENERIC = (Day(1896, 1, 1), Day(1911, 12, 31))
_SCAN = 6000  # at most this many candidate start days are scanned


def duration_parts(text: str) -> tuple[int, int, int] | None:
    """Return (years, months, days) of an ISO 8601 duration in Y, M, W and D (weeks as 7
    days), or None when it is not one."""
    m = _DURATION.match(text)
    if m is None:
        return None
    y, mo, w, d = (int(g) if g else 0 for g in m.groups())
    return y, mo, 7 * w + d


def stay_end(start: Day, parts: tuple[int, int, int]) -> Day:
    """Return the last day of a stay that begins on `start` and lasts `parts` (years, months,
    days): the calendar sum less one day, a month's day cut to the month's length (31 January
    plus one month is 28 or 29 February). Monotone in `start`."""
    y, m, d = parts
    months = start.year * 12 + start.month - 1 + y * 12 + m
    year, month = divmod(months, 12)
    month += 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return Day(year, month, day) + datetime.timedelta(days=d - 1)


_STARTS = range(Day(1600, 1, 1).toordinal(), Day(2300, 12, 31).toordinal() + 1)


def _first_start(parts: tuple[int, int, int], end_at_least: Day) -> Day:
    """The earliest start whose stay ends on or after `end_at_least` (`stay_end` is monotone)."""
    i = bisect.bisect_left(_STARTS, end_at_least, key=lambda o: stay_end(Day.fromordinal(o), parts))
    return Day.fromordinal(_STARTS[min(i, len(_STARTS) - 1)])


def _last_start(parts: tuple[int, int, int], end_at_most: Day) -> Day:
    """The latest start whose stay ends on or before `end_at_most`."""
    i = bisect.bisect_right(_STARTS, end_at_most, key=lambda o: stay_end(Day.fromordinal(o), parts))
    return Day.fromordinal(_STARTS[max(i - 1, 0)])


def lengths(parts: tuple[int, int, int], first: Day | None, last: Day | None) -> tuple[int, int]:
    """Return the fewest and most days (both ends counted) a stay of `parts` lasts when it
    starts between `first` and `last` (None = unknown: a sixteen-year scan around 1900)."""
    if first is None or last is None or (last - first).days > _SCAN:
        first, last = _GENERIC
    few, most = None, None
    day = first
    one = datetime.timedelta(days=1)
    while day <= last:
        n = (stay_end(day, parts) - day).days + 1
        few = n if few is None or n < few else few
        most = n if most is None or n > most else most
        day += one
    assert few is not None and most is not None
    return few, most


class DurationContradiction(ValueError):
    """A duration that no reading of the stay's dates allows."""


def narrow(parts: tuple[int, int, int], start: tuple[Day | None, Day | None],
           end: tuple[Day | None, Day | None]) -> tuple[tuple[Day | None, Day | None],
                                                        tuple[Day | None, Day | None]]:
    """Return the (earliest, latest) bounds of a stay's start and end narrowed by its length:
    the end lies between the ends of the stays that start at the start's bounds, and the start
    between the starts of the stays that end at the end's bounds. One round is a fixed point
    (the end of a stay is monotone in its start). Raises DurationContradiction when no start
    and end within the bounds are the length apart."""
    s1, s2 = start
    e1, e2 = end
    if e1 is not None:
        t = _first_start(parts, e1)
        s1 = t if s1 is None or t > s1 else s1
    if e2 is not None:
        t = _last_start(parts, e2)
        s2 = t if s2 is None or t < s2 else s2
    if s1 is not None and s2 is not None and s1 > s2:
        raise DurationContradiction("no start within the dates gives a stay of this length")
    if s1 is not None:
        t = stay_end(s1, parts)
        e1 = t if e1 is None or t > e1 else e1
    if s2 is not None:
        t = stay_end(s2, parts)
        e2 = t if e2 is None or t < e2 else e2
    if e1 is not None and e2 is not None and e1 > e2:
        raise DurationContradiction("no end within the dates gives a stay of this length")
    return (s1, s2), (e1, e2)
