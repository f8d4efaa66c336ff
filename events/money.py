"""Ledger rules as pure functions (issue 22, item 3): how an amount enters the totals, and
whether aid sent to a colony or group reached a member at its date.

Money is exact: an amount the source gives exactly ("25.00") goes into the exact totals; one
given as a range ({"min": "10", "max": "12"}) or as approximate (`about`: "about 100 francs")
stays out of them and is reported beside them as bounds. An "about" amount's bounds are the
figure stated, both ways: no margin is invented, the entry is counted as `about`.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from starosta.events.kinds import AmountRange

Reach = Literal["certain", "possible"]


def amount_parts(amount: str | AmountRange | None,
                 about: bool) -> tuple[str | None, str | None, str | None]:
    """Return (exact, min, max) of a ledger amount: `exact` is the amount that goes into the
    exact totals (None for a range, an "about" figure or no amount); min and max the bounds of
    an inexact amount (None for an exact one or none)."""
    if amount is None:
        return None, None, None
    if isinstance(amount, AmountRange):
        return None, amount.min, amount.max
    if about:
        return None, amount, amount
    return amount, None, None


def membership_reach(start: tuple[dt.date | None, dt.date | None] | None,
                     end: tuple[dt.date | None, dt.date | None] | None,
                     date: tuple[dt.date | None, dt.date | None] | None) -> Reach | None:
    """Whether aid dated `date` (earliest, latest) sent to a colony reached a member whose
    membership runs from `start` to `end` (each (earliest, latest); None, or None inside, where
    unknown): `certain` when the membership surely covers every day the remittance may have
    been sent (its start's latest day on or before the remittance's earliest, its end's
    earliest on or after the remittance's latest; both known), `possible` when their bounds
    overlap, None when the membership surely began after or ended before it ("sent in 1927"
    does not reach a member who joined in 1930)."""
    s_early, s_late = start or (None, None)
    e_early, e_late = end or (None, None)
    d_early, d_late = date or (None, None)
    if s_early is not None and d_late is not None and s_early > d_late:
        return None  # joined surely after the remittance
    if e_late is not None and d_early is not None and e_late < d_early:
        return None  # left surely before it
    if (s_late is not None and e_early is not None and d_early is not None and d_late is not None
            and s_late <= d_early and e_early >= d_late):
        return "certain"
    return "possible"
