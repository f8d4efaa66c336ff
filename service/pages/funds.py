"""A fund's page, `/funds/{id}` (the JSON's URL): its ledger per currency with totals, what each
donor gave and each recipient was sent, a chart of money in and out per year (one per
currency, never converted) followed by the table of its figures, and the entries, a page at a
time (`?after=` the ledger's cursor). Read through the same functions as GET /funds/{id} and
GET /funds/{id}/ledger."""

from __future__ import annotations

from decimal import Decimal

from litestar import Request, Response

from starosta.events.errors import NotFound
from starosta.events.store import Connection
from starosta.projections import ledger as ledgers
from starosta.projections import registry
from starosta.projections.rules import Viewer
from starosta.service.api.common import archive_of, off_loop, review_statuses, viewer
from starosta.service.api.entities import EntityOut, read_entity
from starosta.service.pages import charts
from starosta.service.pages.places import missing
from starosta.service.pages.render import page, render


def fund_view(conn: Connection, fund_id: str, reader: Viewer, statuses: tuple[str, ...],
              after: str | None) -> tuple[EntityOut, ledgers.Ledger, str | None]:
    """The fund as GET /funds/{id} reads it, its ledger as GET /funds/{id}/ledger does, and the
    label of the organisation running it."""
    fund = read_entity(conn, "fund", fund_id, reader)
    org = fund.data.get("organization")
    return (fund, ledgers.ledger(conn, fund_id, statuses, after, ledgers.DEFAULT_PAGE),
            registry.labels(conn, {org}).get(org) if org else None)


def money_charts(ledger: ledgers.Ledger) -> list[charts.MoneyChart]:
    """One chart per currency of money in and out per year (dated entries; every year from the
    first to the last, a year without money drawn empty)."""
    years = sorted(int(y) for y in ledger.per_period if y.isdigit())
    if not years:
        return []
    out = []
    for currency in sorted(ledger.totals):
        shown = []
        for year in range(years[0], years[-1] + 1):
            figures = ledger.per_period.get(str(year), {}).get(currency)
            shown.append(charts.MoneyYear(str(year), Decimal(figures.received if figures else 0),
                                          Decimal(figures.disbursed if figures else 0)))
        if any(y.received or y.disbursed for y in shown):
            chart = charts.money_chart(currency, shown)
            if chart is not None:
                out.append(chart)
    return out


@page("/funds/{fund_id}")  # the path template as Litestar scopes give it (no :str)
async def fund_page(request: Request) -> Response:
    """The fund's page (HTML); a program at the same URL gets GET /funds/{id}'s JSON."""
    fund_id = request.path_params["fund_id"]
    after = (request.query_params.get("after") or "")[:80] or None
    archive = archive_of(request)
    head = await off_loop(request, lambda _: archive.reading_store.head())
    try:
        fund, ledger, organization = await off_loop(
            request, fund_view, fund_id, viewer(request), review_statuses(request, None, "ledgers"),
            after)
    except NotFound:
        return missing(request, "fund", fund_id)
    return render(request, "fund.html", {
        "fund": fund, "ledger": ledger, "charts": money_charts(ledger), "after": after,
        "organization": organization,
    }, version=f"{head.position}:{head.hash}:{request.url.query}")
