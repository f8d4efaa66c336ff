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


def surely_covered(start: DateValue | None, end: DateValue | None) -> tuple[Day, Day] | None:
    """Return the days surely inside a start..end stretch (latest start to earliest end).

    Returns None when no day is sure: a start or end missing or with an unknown bound, or the
    latest possible start after the earliest possible end.
    """
    if start is None or end is None or start.latest is None or end.earliest is None:
        return None
    if start.latest > end.earliest:
        return None
    return start.latest, end.earliest


def possibly_covered(start: DateValue | None, end: DateValue | None) -> tuple[Day | None, Day | None]:
    """Return the days possibly in a start..end stretch (earliest start to latest end; None = open)."""
    return (start.earliest if start else None, end.latest if end else None)
