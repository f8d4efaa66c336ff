"""A checked date as events carry it: the EDTF string as given, with its earliest and latest days."""

from __future__ import annotations

import datetime
from typing import Literal

import msgspec

Day = datetime.date


class DateValue(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """An EDTF date or interval with its strict bounds (Gregorian days, None = unknown/open).

    Built by `service.dates` when a command is checked, so nothing that reads events parses.
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
    """Return a key ordering dates by earliest day, then latest day, unknown bounds last."""
    return (d.earliest is None, d.earliest or Day.min, d.latest is None, d.latest or Day.max)


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
