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


def sure_days(start_earliest: Day | None, start_latest: Day | None, end_earliest: Day | None,
              end_latest: Day | None) -> tuple[Day, Day] | None:
    """Return the days surely inside a stretch given its bounds (None = unknown), or None.

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
