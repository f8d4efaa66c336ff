"""Aid ledgers: a fund's cited entries in date order with exact per-currency totals, and what
reached a person directly, through their colony, or passed through them as correspondent."""

from __future__ import annotations

import csv
import datetime as dt
import io
import sqlite3
from decimal import Decimal
from typing import Annotated, Literal

import msgspec
from litestar import Controller, Request, Response, get
from litestar.params import FromPath, Parameter

from starosta.service.api.common import archive_of, review_statuses
from starosta.projections.registry import merged_records as merged_into, survivor
from starosta.service.errors import ApiError

_COLUMNS = ("claim_id, status, fund_id, kind, direction, amount, currency, counterparty, via, details, "
            "earliest, latest, edtf, locator, position, source_id")


class LedgerEntry(msgspec.Struct, kw_only=True, omit_defaults=True):
    claim: str
    status: str
    fund: str
    kind: str
    direction: str  # in | out | in_kind
    amount: str | None = None
    currency: str | None = None
    counterparty: str | None = None
    counterparty_label: str | None = None
    via: str | None = None
    details: str | None = None
    date: str | None = None
    earliest: dt.date | None = None
    latest: dt.date | None = None
    locator: str | None = None
    source: str | None = None
    source_label: str | None = None
    reached: str | None = None


class CurrencyTotals(msgspec.Struct):
    """Exact decimal strings: balance = received - disbursed."""

    received: str
    disbursed: str
    balance: str


class Ledger(msgspec.Struct, kw_only=True):
    fund: dict[str, object]
    entries: list[LedgerEntry]
    totals: dict[str, CurrencyTotals]
    per_recipient: dict[str, dict[str, str]]
    per_period: dict[str, dict[str, CurrencyTotals]]
    per_report: dict[str, dict[str, CurrencyTotals]]
    undated: int


def _entry(conn: sqlite3.Connection, r: tuple, reached: str | None = None) -> LedgerEntry:
    label = None
    if r[7]:
        for table in ("persons", "organizations"):
            row = conn.execute(f"SELECT label FROM {table} WHERE id = ?", (r[7],)).fetchone()
            if row:
                label = row[0]
                break
    return LedgerEntry(claim=r[0], status=r[1], fund=r[2], kind=r[3], direction=r[4], amount=r[5],
                       currency=r[6], counterparty=r[7], counterparty_label=label, via=r[8],
                       details=r[9], earliest=dt.date.fromisoformat(r[10]) if r[10] else None,
                       latest=dt.date.fromisoformat(r[11]) if r[11] else None, date=r[12],
                       locator=r[13], source=r[15], reached=reached,
                       source_label=(conn.execute("SELECT label FROM sources WHERE id = ?", (r[15],)).fetchone() or [None])[0])


def _order(e: LedgerEntry) -> tuple:
    return (e.earliest is None, e.earliest or dt.date.min, e.claim)


def totals(entries: list[LedgerEntry]) -> dict[str, CurrencyTotals]:
    """Per currency: received (in), disbursed (out) and their difference, as exact decimals."""
    sums: dict[str, list[Decimal]] = {}
    for e in entries:
        if e.amount is None or e.currency is None or e.direction == "in_kind":
            continue
        pair = sums.setdefault(e.currency, [Decimal(0), Decimal(0)])
        pair[0 if e.direction == "in" else 1] += Decimal(e.amount)
    return {c: CurrencyTotals(str(r), str(d), str(r - d)) for c, (r, d) in sorted(sums.items())}


def ledger_csv(entries: list[LedgerEntry]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    fields = ["claim", "date", "earliest", "latest", "kind", "direction", "amount", "currency",
              "counterparty", "counterparty_label", "via", "details", "locator", "status"]
    writer.writerow(fields)
    for e in entries:
        writer.writerow(["" if getattr(e, f) is None else getattr(e, f) for f in fields])
    return out.getvalue()


class LedgerController(Controller):
    path = "/funds"
    tags = ["ledgers"]

    @get("/{fund_id:str}/ledger", summary="A fund's ledger: entries and per-currency totals")
    async def ledger(
        self, request: Request, fund_id: FromPath[str],
        include: Annotated[Literal["pending"] | None, Parameter(description="reviewers: pending and contested entries too")] = None,
        format: Annotated[Literal["json", "csv"] | None, Parameter(description="csv, or send Accept: text/csv")] = None,
    ) -> Response:
        """Entries in date order (undated last) with citations; per currency received,
        disbursed and balance; per recipient; per year; per report (the citation's locator,
        e.g. the bulletin). Amounts are never converted between currencies."""
        conn = archive_of(request).read()
        fund = conn.execute("SELECT id, label, data FROM funds WHERE id = ?", (fund_id,)).fetchone()
        if fund is None:
            raise ApiError(404, "Not found", f"fund_id={fund_id!r}: no fund with that id")
        statuses = review_statuses(request, include, "ledgers")
        rows = conn.execute(f"SELECT {_COLUMNS} FROM ledger_entries WHERE fund_id = ? AND "
                            "superseded_by IS NULL", (fund_id,)).fetchall()
        entries = sorted((_entry(conn, r) for r in rows if r[1] in statuses), key=_order)
        if format == "csv" or (format is None and "text/csv" in request.headers.get("accept", "")):
            return Response(ledger_csv(entries), media_type="text/csv; charset=utf-8",
                            headers={"Content-Disposition": f'attachment; filename="{fund_id}-ledger.csv"'})
        per_recipient: dict[str, dict[str, Decimal]] = {}
        for e in entries:
            if e.direction == "out" and e.amount and e.currency and e.counterparty:
                mine = per_recipient.setdefault(e.counterparty, {})
                mine[e.currency] = mine.get(e.currency, Decimal(0)) + Decimal(e.amount)
        by_period: dict[str, list[LedgerEntry]] = {}
        by_report: dict[str, list[LedgerEntry]] = {}
        for e in entries:
            by_period.setdefault(str(e.earliest.year) if e.earliest else "undated", []).append(e)
            by_report.setdefault(e.locator or "unlocated", []).append(e)
        data = msgspec.json.decode(fund[2])
        out = Ledger(fund={"id": fund[0], "label": fund[1], "synthetic": data.get("synthetic", False)},
                     entries=entries, totals=totals(entries),
                     per_recipient={k: {c: str(v) for c, v in sorted(m.items())} for k, m in sorted(per_recipient.items())},
                     per_period={k: totals(v) for k, v in sorted(by_period.items())},
                     per_report={k: totals(v) for k, v in sorted(by_report.items())},
                     undated=sum(1 for e in entries if e.earliest is None))
        return Response(msgspec.json.encode(out), media_type="application/json")


class AidController(Controller):
    path = "/persons"
    tags = ["ledgers"]

    @get("/{person_id:str}/aid", summary="What aid reached a person")
    async def aid(self, request: Request, person_id: FromPath[str]) -> dict[str, list[LedgerEntry]]:
        """Approved entries whose recipient is the person (`reached`: direct), one of the
        colonies or groups the person was a member of (through_colony), or that passed
        through the person as correspondent (as_correspondent)."""
        conn = archive_of(request).read()
        if conn.execute("SELECT 1 FROM persons WHERE id = ?", (person_id,)).fetchone() is None:
            raise ApiError(404, "Not found", f"person_id={person_id!r}: no person with that id")
        alive = survivor(conn, person_id)
        group = [alive, *merged_into(conn, alive)]
        marks = ",".join("?" * len(group))
        colonies = [r[0] for r in conn.execute(
            f"SELECT DISTINCT r.entity_id FROM claims c JOIN claim_refs r ON r.claim_id = c.id "
            f"WHERE c.kind = 'membership' AND c.status = 'approved' AND c.superseded_by IS NULL "
            f"AND r.field = 'organization' AND c.id IN (SELECT claim_id FROM claim_refs WHERE "
            f"entity_id IN ({marks}) AND field = 'person')", group)]
        found: dict[str, LedgerEntry] = {}
        for reached, column, ids in (("direct", "counterparty", group),
                                     ("through_colony", "counterparty", colonies),
                                     ("as_correspondent", "via", group)):
            if not ids:
                continue
            m = ",".join("?" * len(ids))
            for r in conn.execute(f"SELECT {_COLUMNS} FROM ledger_entries WHERE {column} IN ({m}) AND "
                                  "status = 'approved' AND superseded_by IS NULL", ids):
                found.setdefault(r[0], _entry(conn, r, reached))
        return {"items": sorted(found.values(), key=_order)}
