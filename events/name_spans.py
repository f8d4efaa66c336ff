"""Which name a place bore at a date (issue 22, item 6): a place is shown under the name it
had at the date of the statement, from the place's approved name claims with a span.

A pure rule over bounds already computed (nothing here parses a date)."""

from __future__ import annotations

from datetime import date as Day

import msgspec


class NameSpan(msgspec.Struct, frozen=True, kw_only=True):
    """A name and the span it was borne: from its start's earliest day to its end's latest
    (None: open on that side)."""

    name: str
    earliest: Day | None
    latest: Day | None


def name_at(spans: list[NameSpan], earliest: Day | None, latest: Day | None) -> str | None:
    """Return the name whose span holds a statement dated `earliest`..`latest` whole (an
    open side of a span holds everything on that side), the narrowest when several do, the
    first given among equals; None for an undated statement or when no span holds it (the
    place's current label then stands)."""
    if earliest is None or latest is None:
        return None
    holding = [s for s in spans
               if (s.earliest is None or s.earliest <= earliest)
               and (s.latest is None or latest <= s.latest)]
    if not holding:
        return None

    def width(s: NameSpan) -> int:
        lo = (s.earliest or Day.min).toordinal()
        hi = (s.latest or Day.max).toordinal()
        return hi - lo
    return min(holding, key=width).name
