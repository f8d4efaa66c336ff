"""Who was held at a place at a date: certain and possible persons, counts, reported aggregates;
and the same figures as a timeline (JSON or CSV)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import sqlite3
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, Response, get
from litestar.params import FromPath, FromQuery, Parameter, QueryParameter

from starosta.events.dates import sure_days
from starosta.projections.figures import meets
from starosta.service.api.common import archive_of, review_statuses
from starosta.projections.registry import merged_records as merged_into, survivor
from starosta.service.dates import DateError, parse_date
from starosta.service.errors import ApiError

Day = dt.date
_EPISODE = ("SELECT claim_id, status, person_id, place_id, start_earliest, start_latest, end_earliest, "
            "end_latest FROM custody_episodes WHERE superseded_by IS NULL AND place_id IN ({})")


class Span(msgspec.Struct):
    edtf: str
    earliest: Day
    latest: Day


class Held(msgspec.Struct, kw_only=True, omit_defaults=True):
    id: str
    name: str
    claims: list[str]
    open_end: bool = False


class Reported(msgspec.Struct, kw_only=True, omit_defaults=True):
    claim: str
    count: int
    qualifier: str
    group: str
    date: str | None = None
    of_whom: list[dict[str, Any]] = []
    citation: dict[str, Any]


class Population(msgspec.Struct, kw_only=True):
    """`certain`: surely held there on a day of the span; `possible`: could have been, not
    surely; disjoint. count_min = len(certain), count_max = count_min + len(possible).
    `open`: custody claims whose end stays unknown even after bounding it by the person's
    next dated claim elsewhere or death."""

    place: dict[str, str]
    places: list[str]
    at: Span
    certain: list[Held]
    possible: list[Held]
    count_min: int
    count_max: int
    reported: list[Reported]
    open: list[str]


class Period(msgspec.Struct, kw_only=True):
    period: str
    earliest: Day
    latest: Day
    count_min: int
    count_max: int
    reported: list[Reported]


class Timeline(msgspec.Struct, kw_only=True):
    place: dict[str, str]
    step: str
    items: list[Period]


def _day(text: str | None) -> Day | None:
    return Day.fromisoformat(text) if text else None


def places_under(conn: sqlite3.Connection, place_id: str, include_children: bool) -> list[str]:
    """Return the place and, when asked, every place under it (parent links, any depth)."""
    found = [place_id]
    if include_children:
        frontier = [place_id]
        while frontier:
            marks = ",".join("?" * len(frontier))
            frontier = [r[0] for r in conn.execute(f"SELECT id FROM places WHERE parent IN ({marks})", frontier)
                        if r[0] not in found]
            found += frontier
    return found


class Figures:
    """The episodes and aggregates of some places, fetched once, evaluated for many spans."""

    def __init__(self, conn: sqlite3.Connection, places: list[str], statuses: tuple[str, ...]) -> None:
        self.conn = conn
        marks = ",".join("?" * len(places))
        self.episodes = [r for r in conn.execute(_EPISODE.format(marks), places) if r[1] in statuses]
        self.aggregates = [r for r in conn.execute(
            f"SELECT claim_id, status, earliest, latest FROM place_aggregates WHERE superseded_by IS NULL "
            f"AND place_id IN ({marks})", places) if r[1] in statuses]
        self._bounds: dict[str, Day | None] = {}
        self._names: dict[str, str] = {}

    def open_bound(self, claim_id: str, person: str, place: str | None, start: Day | None) -> Day | None:
        """The latest day an episode with no known end can have lasted: the person's next dated
        custody elsewhere (its latest possible start) or death (its latest possible day)."""
        if claim_id in self._bounds:
            return self._bounds[claim_id]
        bounds = []
        alive = survivor(self.conn, person)
        group = [alive, *merged_into(self.conn, alive)]  # the person's claims under every record
        marks = ",".join("?" * len(group))
        row = self.conn.execute(
            f"SELECT min(start_latest) FROM custody_episodes WHERE person_id IN ({marks}) "
            f"AND status = 'approved' AND superseded_by IS NULL AND place_id IS NOT ? "
            f"AND start_earliest > ?", (*group, place, start.isoformat() if start else "")).fetchone()
        if row and row[0]:
            bounds.append(_day(row[0]))
        for (data,) in self.conn.execute(
                f"SELECT data FROM claims WHERE kind IN ('death', 'execution') AND status = 'approved' "
                f"AND superseded_by IS NULL AND id IN (SELECT claim_id FROM claim_refs WHERE entity_id "
                f"IN ({marks}))", group):
            latest = msgspec.json.decode(data)["dates"].get("date", {}).get("latest")
            if latest:
                bounds.append(_day(latest))
        self._bounds[claim_id] = min(bounds) if bounds else None
        return self._bounds[claim_id]

    def name(self, person: str) -> str:
        if person not in self._names:
            row = self.conn.execute("SELECT label FROM persons WHERE id = ?", (person,)).fetchone()
            self._names[person] = row[0] if row else person
        return self._names[person]

    def at(self, span: tuple[Day, Day]) -> tuple[list[Held], list[Held], list[str], list[str]]:
        """Return (certain, possible, open claim ids, reported aggregate claim ids) for a span."""
        certain: dict[str, list[str]] = {}
        possible: dict[str, list[str]] = {}
        open_: dict[str, bool] = {}
        for claim_id, _, person, place, s_lo, s_hi, e_lo, e_hi in self.episodes:
            s_lo, s_hi, e_lo, e_hi = map(_day, (s_lo, s_hi, e_lo, e_hi))
            record, person = person, survivor(self.conn, person)
            sure = sure_days(s_lo, s_hi, e_lo, e_hi)
            if sure and meets(sure[0], sure[1], span):
                certain.setdefault(person, []).append(claim_id)
                continue
            hi = e_hi if e_hi is not None else self.open_bound(claim_id, record, place, s_lo)
            if s_lo is None and hi is None:
                continue  # no date at all: not evidence of presence in any span
            if meets(s_lo, hi, span):
                possible.setdefault(person, []).append(claim_id)
                if hi is None:
                    open_[claim_id] = True
        held = [Held(id=p, name=self.name(p), claims=c) for p, c in sorted(certain.items())]
        maybe = [Held(id=p, name=self.name(p), claims=c, open_end=any(x in open_ for x in c))
                 for p, c in sorted(possible.items()) if p not in certain]
        reported = [a[0] for a in self.aggregates  # an undated count belongs to no span
                    if (a[2] or a[3]) and meets(_day(a[2]), _day(a[3]), span)]
        return held, maybe, sorted(open_), reported

    def reported(self, claim_ids: list[str]) -> list[Reported]:
        out = []
        for claim_id in claim_ids:
            data = msgspec.json.decode(self.conn.execute("SELECT data FROM claims WHERE id = ?",
                                                         (claim_id,)).fetchone()[0])
            c = data["claim"]
            out.append(Reported(claim=claim_id, count=c["count"], qualifier=c.get("qualifier", "exact"),
                                group=c["group"], date=c.get("date"), of_whom=c.get("of_whom", []),
                                citation=c["citation"]))
        return out


def _place(conn: sqlite3.Connection, place_id: str) -> dict[str, str]:
    row = conn.execute("SELECT id, label FROM places WHERE id = ?", (place_id,)).fetchone()
    if row is None:
        raise ApiError(404, "Not found", f"place_id={place_id!r}: no place with that id")
    return {"id": row[0], "label": row[1]}


def _span(text: str, field: str) -> Span:
    try:
        value = parse_date(text, field=field)
    except DateError as exc:
        raise ApiError(422, "Invalid request", str(exc),
                       [{"field": field, "in": "query", "value": text, "message": exc.problem}]) from None
    if value.earliest is None or value.latest is None:
        raise ApiError(422, "Invalid request", f"{field}={text!r}: a span needs a known start and end",
                       [{"field": field, "in": "query", "value": text, "message": "open span"}])
    return Span(text, value.earliest, value.latest)


def _periods(step: str, first: Day, last: Day) -> list[tuple[str, Day, Day]]:
    out = []
    if step == "year":
        for y in range(first.year, last.year + 1):
            out.append((str(y), Day(y, 1, 1), Day(y, 12, 31)))
    else:
        y, m = first.year, first.month
        while (y, m) <= (last.year, last.month):
            nxt = Day(y + (m == 12), m % 12 + 1, 1)
            out.append((f"{y:04d}-{m:02d}", Day(y, m, 1), nxt - dt.timedelta(days=1)))
            y, m = nxt.year, nxt.month
    return out


MAX_PERIODS = 1200


class PopulationController(Controller):
    path = "/places"
    tags = ["populations"]

    @get("/{place_id:str}/population", summary="Who was held at a place in a span")
    async def population(
        self, request: Request, place_id: FromPath[str],
        at: Annotated[str, Parameter(max_length=64, description="An EDTF span: 1951 is 1951-01-01 to 1951-12-31")],
        include_children: FromQuery[bool] = False,
        include: Annotated[Literal["pending"] | None, Parameter(description="reviewers: count pending and contested claims too")] = None,
    ) -> Population:
        conn = archive_of(request).read()
        place = _place(conn, place_id)
        span = _span(at, "at")
        places = places_under(conn, place_id, include_children)
        figures = Figures(conn, places, review_statuses(request, include, "populations"))
        certain, possible, open_, reported = figures.at((span.earliest, span.latest))
        return Population(place=place, places=places, at=span, certain=certain, possible=possible,
                          count_min=len(certain), count_max=len(certain) + len(possible),
                          reported=figures.reported(reported), open=open_)

    @get("/{place_id:str}/population/timeline", summary="Population figures per year or month (JSON or CSV)")
    async def timeline(
        self, request: Request, place_id: FromPath[str],
        step: FromQuery[Literal["year", "month"]] = "year",
        from_: Annotated[str | None, QueryParameter(name="from", max_length=64, description="EDTF; default: the earliest dated episode")] = None,
        to: Annotated[str | None, Parameter(max_length=64, description="EDTF; default: the latest dated episode")] = None,
        include_children: FromQuery[bool] = False,
        include: Annotated[Literal["pending"] | None, Parameter()] = None,
        format: Annotated[Literal["json", "csv"] | None, Parameter(description="csv, or send Accept: text/csv")] = None,
    ) -> Response:
        """A series of periods with the same figures as /population; at most 1200 periods."""
        conn = archive_of(request).read()
        place = _place(conn, place_id)
        figures = Figures(conn, places_under(conn, place_id, include_children), review_statuses(request, include, "populations"))
        days = [_day(d) for r in figures.episodes for d in r[4:8] if d] + \
               [_day(d) for a in figures.aggregates for d in a[2:4] if d]
        first = _span(from_, "from").earliest if from_ else (min(days) if days else None)
        last = _span(to, "to").latest if to else (max(days) if days else None)
        if from_ and to and first > last:
            raise ApiError(422, "Invalid request", f"from={from_!r} is after to={to!r}: the span is reversed",
                           [{"field": "from", "in": "query", "value": from_, "message": "after `to`"}])
        periods = _periods(step, first, last) if first and last and first <= last else []
        if len(periods) > MAX_PERIODS:
            raise ApiError(422, "Invalid request", f"step={step}: {len(periods)} periods; at most "
                           f"{MAX_PERIODS}: narrow it with from= and to=",
                           [{"field": "step", "in": "query", "value": step, "message": "too many periods"}])
        items = []
        for label, lo, hi in periods:
            certain, possible, _, reported = figures.at((lo, hi))
            items.append(Period(period=label, earliest=lo, latest=hi, count_min=len(certain),
                                count_max=len(certain) + len(possible), reported=figures.reported(reported)))
        wants_csv = format == "csv" or (format is None and "text/csv" in request.headers.get("accept", ""))
        if wants_csv:
            return Response(timeline_csv(items), media_type="text/csv; charset=utf-8",
                            headers={"Content-Disposition": f'attachment; filename="{place_id}-population.csv"'})
        return Response(msgspec.json.encode(Timeline(place=place, step=step, items=items)),
                        media_type="application/json")


def timeline_csv(items: list[Period]) -> str:
    """period, earliest, latest, count_min, count_max, reported (count qualifier group; ...)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["period", "earliest", "latest", "count_min", "count_max", "reported"])
    for p in items:
        writer.writerow([p.period, p.earliest, p.latest, p.count_min, p.count_max,
                         "; ".join(f"{r.qualifier} {r.count} {r.group}" for r in p.reported)])
    return out.getvalue()
