"""The person page's timeline chart: custody, exile, labour and presence episodes along the
years, computed here as plain geometry (numbers and words) and drawn by the template
`_timeline.html` (Jinja, autoescaped: every label a contributor wrote is escaped there).

How an episode is drawn (one row each, in the biography's timeline order):

- the days it surely covers (from its start's latest day to its end's earliest day) as a solid
  bar; the days its uncertain bounds may add (a start known only as "1938/1939-06", "about
  April 1950", "1942?") as faded ends, from the earliest to the latest possible day of each;
- an open end (no end date, or an open interval "1956-01-06/..") as an arrow after the last
  day known; an unknown start as an arrow before the first;
- an episode with a duration but no date ("five years, dates unknown") in the rows below the
  dated ones, marked as such: a dashed outline as long as its duration, from the axis' start,
  and the words "no dates" (its place on the axis means nothing).

The axis carries its years as text (ticks every 1, 2, 5 or 10 years by the span shown).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

# the episodes the chart draws: kind -> the words of its legend (custody by its own kind)
EPISODE_KINDS = ("custody", "labour", "presence")
CUSTODY_WORDS = {"prison": "prison", "camp": "camp", "exile": "exile", "other": "custody"}
COLOURS = {  # fill per series (SVG presentation attributes: CSP does not govern them)
    "prison": "#8a1c0b", "camp": "#5b2a86", "exile": "#b35c00", "custody": "#6b4e16",
    "labour": "#1f6b52", "presence": "#3b5b8a",
}

WIDTH = 720  # the viewBox's width; the SVG scales to its container
LEFT, RIGHT = 8, 8  # margins
ROW = 30  # a row: its label above, its bar below
BAR = 12
AXIS = 30  # the axis' band at the bottom
ARROW = 14  # an open end's arrow (px)


@dataclass
class Span:
    x: float
    width: float


@dataclass
class Row:
    claim: str
    series: str  # a key of COLOURS
    label: str  # the episode's words (kind and place, as the document shows them)
    y: float  # the top of the row
    solid: Span | None = None
    faded: list[Span] = field(default_factory=list)
    arrow_left: float | None = None  # x of an open start's arrow tip
    arrow_right: float | None = None  # x of an open end's arrow base
    undated: bool = False  # a duration without dates: `solid` is its dashed outline
    start: str | None = None  # the bounds as written (EDTF)
    end: str | None = None
    duration: str | None = None
    disputed: bool = False

    @property
    def colour(self) -> str:
        return COLOURS[self.series]

    @property
    def bar_y(self) -> float:
        return self.y + ROW - BAR - 3


@dataclass
class Tick:
    x: float
    year: int


@dataclass
class Chart:
    rows: list[Row]
    ticks: list[Tick]
    first: int  # the first and last years shown
    last: int
    width: int = WIDTH
    height: float = 0
    axis_y: float = 0

    @property
    def years(self) -> str:
        return f"{self.first}–{self.last}" if self.first != self.last else str(self.first)

    @property
    def series(self) -> list[tuple[str, str]]:
        """The legend: (series, colour) of the series drawn, in COLOURS' order."""
        shown = {r.series for r in self.rows}
        return [(s, c) for s, c in COLOURS.items() if s in shown]


def _day(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(value) if isinstance(value, str) else None


def series_of(entry: dict[str, Any]) -> str:
    """The series an episode is drawn in: custody by its kind (prison, camp, exile, custody),
    else its claim kind."""
    if entry["kind"] == "custody":
        return CUSTODY_WORDS.get(entry["fields"].get("custody", "other"), "custody")
    return entry["kind"]


def _ref_label(value: Any) -> str | None:
    if isinstance(value, dict):
        return value.get("label")
    return value if isinstance(value, str) else None


def label_of(entry: dict[str, Any]) -> str:
    """An episode's words: its series and where (the place as the document names it, else as
    the source said it), and what (labour's work, presence's purpose)."""
    f = entry["fields"]
    where = _ref_label(f.get("place")) or f.get("place_said")
    what = {"labour": f.get("labour"), "presence": f.get("purpose")}.get(entry["kind"])
    words = series_of(entry)
    words += f": {where}" if where else ""
    words += f" ({what})" if what and entry["kind"] == "labour" else ""
    if f.get("group"):
        words += " (with the group)"
    return words


def _bounds(entry: dict[str, Any]) -> tuple[tuple[dt.date | None, dt.date | None],
                                           tuple[dt.date | None, dt.date | None]]:
    """((earliest, latest) of the start, (earliest, latest) of the end), None when unknown;
    the entry's own bounds (widened by the archive's margins for approximate dates) where
    they are wider."""
    dates = entry.get("dates", {})
    start, end = dates.get("start"), dates.get("end")
    s = (_day(start.get("earliest")), _day(start.get("latest"))) if start else (None, None)
    e = (_day(end.get("earliest")), _day(end.get("latest"))) if end else (None, None)
    lo, hi = _day(entry.get("earliest")), _day(entry.get("latest"))
    if s[0] is not None and lo is not None and lo < s[0]:
        s = (lo, s[1])
    if e[1] is not None and hi is not None and hi > e[1]:
        e = (e[0], hi)
    return s, e


def episodes(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The timeline entries the chart draws: custody, labour and presence claims with a date
    or a duration."""
    return [e for e in document.get("timeline", [])
            if e["kind"] in EPISODE_KINDS and (e.get("dates") or e.get("length"))]


def chart(document: dict[str, Any]) -> Chart | None:
    """The chart of a biography document (as JSON decodes it); None when it has no episode."""
    chosen = episodes(document)
    if not chosen:
        return None
    dated: list[dict[str, Any]] = []
    undated: list[dict[str, Any]] = []
    for entry in chosen:
        (dated if entry.get("dates") else undated).append(entry)
    days = [d for entry in dated for pair in _bounds(entry) for d in pair if d is not None]
    first = min(d.year for d in days) if days else dt.date.today().year
    last = max(d.year for d in days) if days else first
    longest = max((e["length"].get("max_days") or 0 for e in undated), default=0)
    last = max(last, first + (longest // 365))
    start_day, end_day = dt.date(first, 1, 1), dt.date(last + 1, 1, 1)
    inner = WIDTH - LEFT - RIGHT - ARROW * 2
    per_day = inner / (end_day - start_day).days

    def x(day: dt.date) -> float:
        return round(LEFT + ARROW + (day - start_day).days * per_day, 1)

    rows: list[Row] = []
    for n, entry in enumerate([*dated, *undated]):
        row = Row(claim=entry["claim"], series=series_of(entry), label=label_of(entry),
                  y=n * ROW, disputed="disputed" in entry.get("flags", []),
                  start=entry["fields"].get("start"), end=entry["fields"].get("end"),
                  duration=(entry.get("length") or {}).get("duration") or entry["fields"].get("duration"))
        if entry.get("dates"):
            (s_lo, s_hi), (e_lo, e_hi) = _bounds(entry)
            # an open end: an end written open ("1956-01-06/.."), or none at all for an episode
            # that goes on (custody, labour); a presence without an end is its start's days
            open_end = (e_lo is not None and e_hi is None) or (
                e_lo is None and e_hi is None and entry["kind"] != "presence") or (
                s_lo is not None and s_hi is None)  # a start written open: "1956-01-06/.."
            if e_lo is None and e_hi is None and not open_end:
                e_lo, e_hi = s_lo, s_hi
            sure_from = s_hi or s_lo
            sure_to = e_lo or (None if open_end else s_lo)
            if s_lo is None:  # an unknown start: an arrow before the first day known
                sure_from = e_lo
                if e_lo or e_hi:
                    row.arrow_left = x(e_lo or e_hi)  # type: ignore[arg-type]
            if s_lo is not None and s_hi is not None and s_hi > s_lo:
                row.faded.append(Span(x(s_lo), round(x(s_hi) - x(s_lo), 1)))
            if e_lo is not None and e_hi is not None and e_hi > e_lo:
                row.faded.append(Span(x(e_lo), round(x(e_hi) - x(e_lo), 1)))
            if sure_from is not None and sure_to is not None and sure_to >= sure_from:
                row.solid = Span(x(sure_from), max(2.0, round(x(sure_to) - x(sure_from), 1)))
            elif sure_from is not None and not open_end:
                row.solid = Span(x(sure_from), 2.0)
            if open_end:
                known = max(d for d in (s_hi, s_lo, e_lo) if d is not None)
                row.arrow_right = x(known) + (2.0 if row.solid is None else 0)
                if row.solid is None:
                    row.solid = Span(x(known), 2.0)
        else:
            row.undated = True
            length = entry["length"].get("max_days") or entry["length"].get("min_days") or 0
            row.solid = Span(LEFT + ARROW, round(max(2.0, length * per_day), 1))
        rows.append(row)
    step = next(s for s in (1, 2, 5, 10, 20, 50) if (last - first + 1) / s <= 12)
    ticks = [Tick(x(dt.date(year, 1, 1)), year)
             for year in range(first - first % step if first % step else first, last + 2, step)
             if start_day <= dt.date(year, 1, 1) <= end_day]
    height = len(rows) * ROW
    return Chart(rows=rows, ticks=ticks, first=first, last=last, height=height + AXIS,
                 axis_y=height)
