"""A place's page, `/places/{id}` (the JSON's URL): its names with their spans, kind, parent
and children, its coordinates on a locator map, its population over the years (a chart and the
table of its figures: service/pages/charts.py) and who was held there at a chosen date
(`?at=YYYY[-MM[-DD]]`, any EDTF span). Read through the same functions as GET /places/{id},
GET /places/{id}/population and .../population/timeline."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from litestar import Request, Response

from starosta.events.errors import Invalid, NotFound
from starosta.events.kinds import CountRange
from starosta.projections import registry
from starosta.projections.population import (
    Population,
    Span,
    Timeline,
    population_at,
    timeline,
)
from starosta.projections.rules import Viewer
from starosta.service.api.common import archive_of, off_loop, review_statuses, viewer
from starosta.service.api.entities import EntityOut, read_person
from starosta.service.api.population import span
from starosta.service.pages import charts, maps
from starosta.service.pages.render import page, render


def missing(request: Request, kind: str, record_id: str) -> Response:
    """A browser's 404: a page saying no such record is public (a program gets the problem)."""
    return render(request, "missing.html", {"kind": kind, "record_id": record_id}, status=404)
from starosta.events.store import Connection

BAND_PERIODS = 60  # the groups' band is drawn for timelines of at most this many years


@dataclass
class PlaceView:
    """Everything the place's page shows, read in one reader thread."""

    place: EntityOut
    parent: tuple[str, str] | None
    children: list[tuple[str, str]]
    timeline: Timeline
    figures: list[charts.PeriodFigures]
    population: Population | None = None
    notes: list[str] = field(default_factory=list)


def count_text(count: Any) -> str:
    """A reported count as written: 8, or 4-20 for a range."""
    return f"{count.min}–{count.max}" if isinstance(count, CountRange) else str(count)


def _bounds(count: Any) -> tuple[int, int]:
    return (count.min, count.max) if isinstance(count, CountRange) else (count, count)


def place_view(conn: Connection, place_id: str, reader: Viewer, statuses: tuple[str, ...],
               at: Span | None, within: bool = False) -> PlaceView:
    """Read the place (read_person: a merged id answers with the survivor), its parent's label,
    its children, its population per year (timeline), the groups held there per year (one
    population_at per year, for the band; at most BAND_PERIODS years) and, with `at`, who was
    held there then; `within`: the places within it (any depth) counted with it, as the
    JSON's include_children."""
    place = read_person(conn, place_id, reader, "place")
    parent_id = place.data.get("parent")
    parent = None
    if parent_id:
        parent = (parent_id, registry.labels(conn, {parent_id}).get(parent_id, parent_id))
    children = registry.place_children(conn, [place.id, *place.merged_from])
    years = timeline(conn, place.id, "year", None, None, statuses, within)
    figures = []
    band = len(years.items) <= BAND_PERIODS
    for period in years.items:
        group_min: int = 0
        group_max: int | None = 0
        held: list[tuple[str, str]] = []
        if band:
            there = population_at(conn, place.id, Span(period.period, period.earliest, period.latest),
                                  statuses, within)
            group_min, group_max = there.groups_count_min, there.groups_count_max
            held = [(g.id, g.name) for g in there.groups]
        figures.append(charts.PeriodFigures(
            period.period, period.count_min, period.count_max, group_min, group_max,
            [charts.Reported(*_bounds(r.count), f"{r.qualifier} {count_text(r.count)}: {r.group}",
                             r.citation.source.label) for r in period.reported], held))
    view = PlaceView(place, parent, children, years, figures)
    if not band:
        view.notes.append(f"The groups' band is drawn for at most {BAND_PERIODS} years.")
    if at is not None:
        view.population = population_at(conn, place.id, at, statuses, within)
    return view


@page("/places/{place_id}")  # the path template as Litestar scopes give it (no :str)
async def place_page(request: Request) -> Response:
    """The place's page (HTML); a program at the same URL gets GET /places/{id}'s JSON."""
    place_id = request.path_params["place_id"]
    at_text = (request.query_params.get("at") or "").strip()
    at, at_error = None, None
    if at_text:
        try:
            at = span(at_text[:64], "at")
        except Invalid as exc:
            at_error = exc.detail if hasattr(exc, "detail") else str(exc)
    within = request.query_params.get("within") == "1"
    archive = archive_of(request)
    head = await off_loop(request, lambda _: archive.reading_store.head())
    try:
        view = await off_loop(request, place_view, place_id, viewer(request),
                              review_statuses(request, None, "populations"), at, within)
    except NotFound:
        return missing(request, "place", place_id)
    data = view.place.data
    locator = None
    if data.get("latitude") is not None and data.get("longitude") is not None:
        locator = maps.locator(view.place.label, data["latitude"], data["longitude"])
    return render(request, "place.html", {
        "view": view, "place": view.place, "data": data, "locator": locator,
        "chart": charts.population_chart(view.figures), "at": at_text, "at_error": at_error,
        "within": within,
        "degrees": maps.degrees, "count_text": count_text,
        "group_names": {g.id: g.name for g in view.population.groups} if view.population else {},
    }, version=f"{head.position}:{head.hash}:{request.url.query}",
        status=200 if at_error is None else 422)
