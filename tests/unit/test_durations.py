"""Durations (issue 10, item 5): `narrow` against brute force over every reading, and the
lengths of months and years across leap days."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from starosta.events.dates import DurationContradiction, duration_parts, lengths, narrow, stay_end

D = dt.date


def test_parts_of_iso_durations() -> None:
    assert duration_parts("P5Y") == (5, 0, 0)
    assert duration_parts("P1Y2M3W4D") == (1, 2, 25)
    assert duration_parts("P") is None and duration_parts("5Y") is None
    assert duration_parts("P1.5Y") is None and duration_parts("PT5H") is None


def test_a_stay_s_last_day() -> None:
    assert stay_end(D(1940, 1, 1), (0, 6, 0)) == D(1940, 6, 30)
    assert stay_end(D(1940, 1, 31), (0, 1, 0)) == D(1940, 2, 28)  # 29 Feb cut, less a day
    assert stay_end(D(1940, 3, 1), (0, 0, 1)) == D(1940, 3, 1)  # one day: that day


def test_lengths_of_months_and_years() -> None:
    assert lengths((0, 6, 0), None, None) == (181, 184)
    assert lengths((1, 0, 0), None, None) == (365, 366)
    assert lengths((5, 0, 0), None, None)[0] == 1825  # five years across 1900, no leap day


@pytest.mark.parametrize("seed", range(30))
def test_narrow_is_exactly_the_readings_that_fit(seed: int) -> None:
    rng = random.Random(seed)
    parts = (rng.choice([0, 0, 1]), rng.randint(0, 7), rng.randint(0, 40))
    if parts == (0, 0, 0):
        parts = (0, 0, 1)
    base = D(1939, 1, 1) + dt.timedelta(days=rng.randint(0, 700))

    def window() -> tuple[D | None, D | None]:
        lo = base + dt.timedelta(days=rng.randint(-60, 400))
        hi = lo + dt.timedelta(days=rng.randint(0, 120))
        return (lo if rng.random() > 0.2 else None, hi if rng.random() > 0.2 else None)

    start, end = window(), window()
    lo, hi = D(1936, 1, 1), D(1944, 12, 31)
    fits = [(s, stay_end(s, parts)) for s in (lo + dt.timedelta(days=i) for i in range((hi - lo).days))
            if (start[0] is None or s >= start[0]) and (start[1] is None or s <= start[1])]
    fits = [(s, e) for s, e in fits
            if (end[0] is None or e >= end[0]) and (end[1] is None or e <= end[1])]
    if not fits:
        with pytest.raises(DurationContradiction):
            narrow(parts, start, end)
        return
    (s1, s2), (e1, e2) = narrow(parts, start, end)
    starts, ends = [s for s, _ in fits], [e for _, e in fits]
    # bounds given by either side are exact; an open side stays open
    if start[0] is not None or end[0] is not None:
        assert s1 == min(starts)
        assert e1 == min(ends)
    if start[1] is not None or end[1] is not None:
        assert s2 == max(starts)
        assert e2 == max(ends)
