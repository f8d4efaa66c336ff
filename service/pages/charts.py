"""Charts drawn on the server: the geometry of a place's population over the years and of a
fund's money in and out per year, as numbers the SVG templates place (the templates write
every text, escaped by Jinja; nothing here makes markup). Each chart's figures are also the
rows of the table the page prints after it.

Population (`population_chart`): per period, the persons surely held there (certain) as a solid
bar and those possibly held there (possible, up to count_max) as a faded bar on top; the
people in the groups held there as a band behind them (up to the most the groups may hold,
dashed to the chart's top when a group gives no count; a line at the least); counts the
sources report as marked points (a range as a line between its bounds) at their period.
Money (`money_chart`): per year, money in and out of one currency as two bars side by side.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal

__all__ = [
    "Axis",
    "Band",
    "Bar",
    "MoneyChart",
    "MoneyYear",
    "PeriodFigures",
    "Point",
    "PopulationChart",
    "Reported",
    "money_chart",
    "nice_ticks",
    "population_chart",
]

WIDTH = 640.0
HEIGHT = 260.0
LEFT, RIGHT, TOP, BOTTOM = 48.0, 12.0, 14.0, 36.0  # the plot's margins (axis labels)


def nice_ticks(top: float, most: int = 6) -> list[float]:
    """Ticks from 0 to at least `top` at a round step (1, 2 or 5 times a power of ten), at
    most `most` + 1 of them; [0, 1] for nothing to show."""
    if top <= 0:
        return [0, 1]
    raw = top / most
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    if step < 1 and float(top).is_integer() and top >= 1:
        step = 1
    n = math.ceil(top / step - 1e-9)
    return [round(i * step, 10) for i in range(n + 1)]


@dataclass(frozen=True)
class Axis:
    """The y axis: ticks as (value, y) and the labels of the x axis as (text, x)."""

    y_ticks: list[tuple[str, float]]
    x_labels: list[tuple[str, float]]


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: str  # what the bar stands for, in words (its <title>)


@dataclass(frozen=True)
class Band:
    """The people in the groups held there: from 0 up to the most the groups may hold (the
    chart's top when a group gives no count), and where the least differs, a line at the
    least (the certain groups' own counts)."""

    points: str  # an SVG polygon's points
    open_top: bool
    floor: str = ""  # an SVG polyline's points: the least, where it is not the most


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    y_low: float  # == y for a single count; a range's lower end
    text: str  # the count and what it counts, as written (escaped by the template)
    source: str


@dataclass(frozen=True)
class Reported:
    """A count a source gives, at a period: its bounds, what it counts, the source's label."""

    low: int
    high: int
    text: str
    source: str


@dataclass(frozen=True)
class PeriodFigures:
    """One period's figures: the persons surely and possibly held there, the groups' bounds
    (group_max None: a group without a count), the counts sources report."""

    label: str
    certain: int
    possible: int  # count_max: the certain and the possible together
    group_min: int = 0
    group_max: int | None = 0
    reported: list[Reported] = field(default_factory=list)
    groups: list[tuple[str, str]] = field(default_factory=list)  # (id, name) of groups there


@dataclass(frozen=True)
class PopulationChart:
    width: float
    height: float
    axis: Axis
    certain: list[Bar]
    possible: list[Bar]
    band: Band | None
    points: list[Point]
    first: str
    last: str

    @property
    def view_box(self) -> str:
        return f"0 0 {self.width:g} {self.height:g}"


def _x_labels(labels: list[str], x_of, most: int = 14) -> list[tuple[str, float]]:
    """Every period's label when few, else every n-th (the first and the last always)."""
    n = len(labels)
    every = max(1, math.ceil(n / most))
    shown = [i for i in range(n) if i % every == 0]
    if n and shown[-1] != n - 1:
        if n - 1 - shown[-1] < every / 2 and len(shown) > 1:
            shown.pop()
        shown.append(n - 1)
    return [(labels[i], round(x_of(i), 1)) for i in shown]


def population_chart(periods: list[PeriodFigures]) -> PopulationChart | None:
    """The chart of `periods` (in order); None without a period."""
    if not periods:
        return None
    top = max([1, *(p.possible for p in periods), *(p.group_min for p in periods),
               *(p.group_max or 0 for p in periods),
               *(r.high for p in periods for r in p.reported)])
    ticks = nice_ticks(top)
    y_max = ticks[-1]
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    slot = plot_w / len(periods)

    def x_mid(i: int) -> float:
        return LEFT + slot * (i + 0.5)

    def y_of(v: float) -> float:
        return round(TOP + plot_h * (1 - v / y_max), 1)

    bar_w = round(min(48.0, max(1.0, slot * 0.6)), 1)
    certain, possible, points = [], [], []
    for i, p in enumerate(periods):
        x = round(x_mid(i) - bar_w / 2, 1)
        if p.certain:
            certain.append(Bar(x, y_of(p.certain), bar_w, round(y_of(0) - y_of(p.certain), 1),
                               f"{p.label}: {p.certain} surely held"))
        if p.possible > p.certain:
            possible.append(Bar(x, y_of(p.possible), bar_w,
                                round(y_of(p.certain) - y_of(p.possible), 1),
                                f"{p.label}: up to {p.possible} possibly held"))
        for r in p.reported:
            points.append(Point(round(x_mid(i), 1), y_of(r.high), y_of(r.low), r.text, r.source))
    band = None
    if any(p.group_min or p.group_max != 0 for p in periods):
        # a step band: each period's bounds across its whole slot (a year's figure holds for
        # the year), the open top (a group without a count) drawn to the chart's top
        upper, lower, floor = [], [], []
        for i, p in enumerate(periods):
            left, right = LEFT + slot * i, LEFT + slot * (i + 1)
            top_y = y_of(y_max if p.group_max is None else p.group_max)
            upper += [(left, top_y), (right, top_y)]
            lower += [(left, y_of(0)), (right, y_of(0))]
            if p.group_max != p.group_min:
                floor += [(left, y_of(p.group_min)), (right, y_of(p.group_min))]
        band = Band(" ".join(f"{x:.1f},{y:g}" for x, y in [*upper, *reversed(lower)]),
                    any(p.group_max is None for p in periods),
                    " ".join(f"{x:.1f},{y:g}" for x, y in floor))
    axis = Axis([(f"{t:g}", y_of(t)) for t in ticks], _x_labels([p.label for p in periods], x_mid))
    return PopulationChart(WIDTH, HEIGHT, axis, certain, possible, band, points,
                           periods[0].label, periods[-1].label)


@dataclass(frozen=True)
class MoneyYear:
    """One year's money of one currency (exact decimals)."""

    year: str
    received: Decimal
    disbursed: Decimal


@dataclass(frozen=True)
class MoneyChart:
    width: float
    height: float
    currency: str
    axis: Axis
    received: list[Bar]
    disbursed: list[Bar]
    first: str
    last: str

    @property
    def view_box(self) -> str:
        return f"0 0 {self.width:g} {self.height:g}"


def money_chart(currency: str, years: list[MoneyYear]) -> MoneyChart | None:
    """Money in and out per year in `currency` (years in order); None without a year."""
    if not years:
        return None
    top = float(max([Decimal(0), *(y.received for y in years), *(y.disbursed for y in years)]))
    ticks = nice_ticks(top)
    y_max = ticks[-1]
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    slot = plot_w / len(years)

    def y_of(v: float) -> float:
        return round(TOP + plot_h * (1 - v / y_max), 1)

    bar_w = round(min(32.0, max(1.0, slot * 0.35)), 1)
    received: list[Bar] = []
    disbursed: list[Bar] = []
    for i, y in enumerate(years):
        mid = LEFT + slot * (i + 0.5)
        for amount, bars, x, word in ((y.received, received, mid - bar_w, "in"),
                                      (y.disbursed, disbursed, mid, "out")):
            if amount:
                bars.append(Bar(round(x, 1), y_of(float(amount)), bar_w,
                                round(y_of(0) - y_of(float(amount)), 1),
                                f"{y.year}: {amount} {currency} {word}"))
    axis = Axis([(f"{t:g}", y_of(t)) for t in ticks],
                _x_labels([y.year for y in years], lambda i: LEFT + slot * (i + 0.5)))
    return MoneyChart(WIDTH, HEIGHT, currency, axis, received, disbursed,
                      years[0].year, years[-1].year)
