"""Who was held at a place in a span, and the same figures as a timeline (JSON or CSV): the
request mapped to the population read model's queries, run in a reader thread."""

from __future__ import annotations

import io
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, Response, get
from litestar.params import FromPath, FromQuery, HeaderParameter, Parameter, QueryParameter

from starosta.events.errors import Invalid
from starosta.events.kinds import CountRange, CountValue
from starosta.projections.spreadsheet import SafeWriter
from starosta.projections import population as model
from starosta.projections.population import Period, Population, Timeline, Span, population_at, timeline
from starosta.projections.rules import COUNTED
from starosta.service.api.biography import _matches
from starosta.service.api.common import archive_of, expensive, off_loop, review_statuses
from starosta.service.domain.edtf_dates import DateError, parse_date

AT = "An EDTF span: 1951 is 1951-01-01 to 1951-12-31"
INCLUDE = "reviewers: count pending and contested claims too"


def span(text: str, field: str) -> Span:
    """Parse a query parameter naming a span of days; Invalid when it is not EDTF or open."""
    try:
        value = parse_date(text, field=field)
    except DateError as exc:
        raise Invalid(field, text, exc.problem, where="query", detail=str(exc)) from None
    if value.earliest is None or value.latest is None:
        raise Invalid(field, text, "open span", where="query",
                      detail=f"{field}={text!r}: a span needs a known start and end")
    return Span(text, value.earliest, value.latest)


class PopulationController(Controller):
    path = "/places"
    tags = ["populations"]

    @get("/{place_id:str}/population", summary="Who was held at a place in a span",
         opt={"conditional": True})
    async def population(
        self, request: Request, place_id: FromPath[str],
        at: Annotated[str, Parameter(max_length=64, description=AT)],
        include_children: FromQuery[bool] = False,
        include: Annotated[Literal["pending"] | None, Parameter(description=INCLUDE)] = None,
        if_none_match: Annotated[str | None, HeaderParameter(
            name="If-None-Match", max_length=1000, description=(
                "ETags (weak or strong, a list, or *): 304 when the document still has one of "
                "them (a year or a month, without include or include_children)"))] = None,
    ) -> Response[Population]:
        """At a year (1938) or a month (1938-05), the public figures of the place alone are a
        stored document, with its ETag (304 on If-None-Match); any other span, include=pending
        and include_children are computed on each request."""
        statuses = review_statuses(request, include, "populations")
        when = span(at, "at")
        if statuses != COUNTED or include_children or not model.PERIOD_TEXT.fullmatch(at):
            # computed over every episode of the place (and its subtree): the expensive lane
            return Response(await expensive(request, population_at, place_id, when, statuses,
                                            include_children))
        found = await off_loop(request, model.stored_period, place_id, at)
        body: str | bytes
        if found is None:  # computed once, then stored until a write may change it
            computed, etag, position = await expensive(request, model.period_document, place_id,
                                                       when, population_at)
            body = computed
            store = archive_of(request).store

            def keep(_: object) -> bool:
                with store.write_transaction() as conn:
                    return model.store_period(conn, place_id, at, computed, etag, position)

            await archive_of(request).run_primary(keep)
        else:
            body, etag = found
        headers = {"ETag": etag}
        if _matches(if_none_match, etag):
            return Response(b"", status_code=304, headers=headers)  # type: ignore[arg-type]
        return Response(body.encode() if isinstance(body, str) else bytes(body),  # type: ignore[arg-type]
                        media_type="application/json", headers=headers)

    @get("/{place_id:str}/population/timeline", summary="Population figures per year or month (JSON or CSV)",
         opt={"csv": True})
    async def timeline(
        self, request: Request, place_id: FromPath[str],
        step: FromQuery[Literal["year", "month"]] = "year",
        from_: Annotated[str | None, QueryParameter(name="from", max_length=64, description="EDTF; default: the earliest dated episode")] = None,
        to: Annotated[str | None, Parameter(max_length=64, description="EDTF; default: the latest dated episode")] = None,
        include_children: FromQuery[bool] = False,
        include: Annotated[Literal["pending"] | None, Parameter(description=INCLUDE)] = None,
        format: Annotated[Literal["json", "csv"] | None, Parameter(description="csv, or send Accept: text/csv")] = None,
    ) -> Response[Timeline]:
        """A series of periods with the same figures as /population; at most 1200 periods."""
        statuses = review_statuses(request, include, "populations")
        first = span(from_, "from") if from_ else None
        last = span(to, "to") if to else None
        answer = await expensive(request, timeline, place_id, step, first, last, statuses,
                                 include_children)
        if format == "csv" or (format is None and "text/csv" in request.headers.get("accept", "")):
            return Response[Any](timeline_csv(answer.items), media_type="text/csv; charset=utf-8",
                            headers={"Content-Disposition": f'attachment; filename="{place_id}-population.csv"'})
        return Response[Any](msgspec.json.encode(answer), media_type="application/json")


def timeline_csv(items: list[Period]) -> str:
    """period, earliest, latest, count_min, count_max, reported (qualifier count group; ...,
    a range as min-max)."""
    out = io.StringIO()
    writer = SafeWriter(out)  # formula-injection safe (projections.spreadsheet)
    writer.writerow(["period", "earliest", "latest", "count_min", "count_max", "reported"])
    for p in items:
        writer.writerow([p.period, p.earliest, p.latest, p.count_min, p.count_max,
                         "; ".join(f"{r.qualifier} {_count(r.count)} {r.group}" for r in p.reported)])
    return out.getvalue()


def _count(count: CountValue) -> str:
    """A count as the CSV writes it: 40, or a range as 4-20."""
    return f"{count.min}-{count.max}" if isinstance(count, CountRange) else str(count)
