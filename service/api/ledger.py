"""Aid ledgers over HTTP: a fund's totals and a page of its cited entries (JSON) or every entry
(CSV), and what aid reached a person. The ledger read model (projections.ledger) answers."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, get
from litestar.params import FromPath, Parameter

from starosta.projections import ledger as ledgers
from starosta.service.api.common import expensive, off_loop, review_statuses
from starosta.service.lane import is_expensive_page

Include = Annotated[Literal["pending"] | None, Parameter(
    description="reviewers: pending and contested entries too (totals then summed on demand)")]
Format = Annotated[Literal["json", "csv"] | None, Parameter(
    description="csv (every entry, not paged), or send Accept: text/csv")]
PageSize = Annotated[int, Parameter(ge=1, le=ledgers.MAX_PAGE,
                                    description=f"Entries per page (1-{ledgers.MAX_PAGE})")]
After = Annotated[str | None, Parameter(
    max_length=80,
    description="The `next` of the previous page: DAY/CLAIM_ID (the last entry's earliest "
                "possible day, or `undated`, and its claim id), e.g. 1926-05-01/C-4G7K2M9Q")]


class LedgerController(Controller):
    path = "/funds"
    tags = ["ledgers"]

    @get("/{fund_id:str}/ledger", summary="A fund's ledger: per-currency totals and a page of entries",
         opt={"csv": True})
    async def ledger(self, request: Request, fund_id: FromPath[str], include: Include = None,
                     format: Format = None, limit: PageSize = ledgers.DEFAULT_PAGE,
                     after: After = None) -> Response[ledgers.Ledger]:
        """Per currency, `received`, `disbursed` and `balance` (exact decimal strings, never
        converted between currencies), the same on every page; `per_recipient` (a list of
        `{"recipient": {"id", "label"}, "sent": {currency: amount}}`), `per_period` (by year
        of the earliest possible day, or `undated`), `per_report` (by the citation's locator,
        e.g. the bulletin, or `unlocated`); `count` entries in all, `undated` of them without
        a date. Then `limit` entries (default 100, at most 1000) in date order, undated last,
        ties by claim id; `next` is a cursor for the following page (null on the last): pass
        it back as `after`. It is the last entry's sort key, `DAY/CLAIM_ID`, so a page never
        repeats or skips an entry even while entries are added.

        Entries name what they reference as `{"id", "label"}`: `fund`, `via`,
        `citation.source` (with `citation.locator`) and `counterparty`; a counterparty the
        source names without a registered entity (a donor "Chicago group") is
        `{"id": null, "label": "Chicago group"}`. A merged person shows as the survivor.
        With include=pending, the totals are summed from the entries on each request.

        Both sides (issue 22): `per_donor` (`{"donor": {"id", "label"}, "given": {currency:
        amount}}`); a committee transfer to an organisation with a fund is credited `in` that
        fund (its counterparty the sending fund); amounts given as a range or `about` stay out
        of the totals and are reported in `inexact` per currency as `{"min", "max"}` bounds."""
        statuses = review_statuses(request, include, "ledgers")
        if format == "csv" or (format is None and "text/csv" in request.headers.get("accept", "")):
            text = await expensive(request, ledgers.entries_csv, fund_id, statuses)  # every entry
            return Response[Any](text, media_type="text/csv; charset=utf-8", headers={
                "Content-Disposition": f'attachment; filename="{fund_id}-ledger.csv"'})
        # the expensive lane for a page over 100 entries or totals summed per request (pending)
        run = expensive if is_expensive_page(limit) or include == "pending" else off_loop
        return Response(await run(request, ledgers.ledger, fund_id, statuses, after, limit))


class AidController(Controller):
    path = "/persons"
    tags = ["ledgers"]

    @get("/{person_id:str}/aid", summary="What aid reached a person")
    async def aid(self, request: Request, person_id: FromPath[str]) -> ledgers.Aid:
        """Approved entries in date order whose recipient is the person (`reached`: direct),
        one of the colonies or groups the person was an approved member of (through_colony),
        or that passed through the person as correspondent (as_correspondent); a merged
        record's aid is its survivor's. Entries have the ledger's shape, with labels. Through a
        colony, only while a membership may cover the entry's date: `reach` is `certain` (it
        surely does) or `possible` (their bounds overlap). Aid in kind without a fund carries
        `sender_said`."""
        return await off_loop(request, ledgers.aid_for_person, person_id)
