"""Custody totals computed from date bounds, never parsed: unions of intervals.

A custody episode covers, surely, the days from its latest possible start to its earliest
possible end, and possibly the days from its earliest possible start to its latest possible
end. Totals are unions (overlaps count once), counted in whole days, both ends included.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import msgspec

from starosta.events.dates import DateValue, possibly_covered, surely_covered

Day = dt.date


def union_days(intervals: Iterable[tuple[Day, Day]]) -> int:
    """Return how many days the union of closed intervals covers (overlaps once)."""
    total, current = 0, None
    for lo, hi in sorted(intervals):
        if current is None or lo > current[1] + dt.timedelta(days=1):
            if current is not None:
                total += (current[1] - current[0]).days + 1
            current = [lo, hi]
        elif hi > current[1]:
            current[1] = hi
    if current is not None:
        total += (current[1] - current[0]).days + 1
    return total


class Total(msgspec.Struct, kw_only=True):
    """Days in custody of one kind: at least `min_days`; at most `max_days` (null = unbounded:
    an unknown start or end leaves the maximum open)."""

    min_days: int
    max_days: int | None
    episodes: int
    open_episodes: list[str]


def custody_total(episodes: list[tuple[str, DateValue | None, DateValue | None, int | None]]) -> Total:
    """Return the total of episodes given as (claim id, start, end, fewest days its duration
    allows or None). `min_days` is at least the union of the surely covered days and at least
    the longest single stay's fewest days by its duration; a duration never adds to other
    stays (it may be the same stay told twice)."""
    sure, possible, open_ = [], [], []
    longest = 0
    for claim_id, start, end, fewest in episodes:
        longest = max(longest, fewest or 0)
        s = surely_covered(start, end)
        if s is not None:
            sure.append(s)
        lo, hi = possibly_covered(start, end)
        if lo is None or hi is None:
            open_.append(claim_id)
        else:
            possible.append((lo, hi))
    return Total(min_days=max(union_days(sure), longest),
                 max_days=None if open_ else union_days(possible),
                 episodes=len(episodes), open_episodes=open_)
