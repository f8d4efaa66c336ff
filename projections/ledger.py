"""The ledger read model: each fund's cited entries (what it received, sent and passed on), its
totals kept current as entries enter and leave the counted set, and every query on them.

An entry *counts* while it is approved and not superseded. Its money (an amount with a
currency, in or out) is added to its fund's totals when it starts to count and taken out when
it stops (contested, or superseded by an approved correction; a contested correction brings it
back): per currency for the fund, per recipient, per period (the year of its earliest possible
day) and per report (its citation's locator). Money is exact: amounts are the decimal strings
given, summed with `Decimal`, stored as TEXT, never floats. A sum shows as many decimals as
its most precise amount ("25.00" + "10" is "35.00"; a sum of no amounts is "0"), so beside
each sum its row counts the entries per number of decimals: "35.00" less "25.00" is "10".
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterable, Sequence
from decimal import Context, Decimal
from typing import Annotated, NamedTuple

import msgspec
from msgspec import Meta

from starosta.events.claim_rules import survivor_label
from starosta.events.errors import Invalid, NotFound
from starosta.events.money import amount_parts, membership_reach
from starosta.events.registry import FundRegistered
from starosta.events.kinds import (
    CommitteeTransferClaim,
    DisbursementClaim,
    DonationClaim,
    InKindClaim,
    MembershipClaim,
    kind_of,
)
from starosta.events.participants import CORRESPONDENT, RECIPIENT, first_in_role
from starosta.events.review import ClaimSubmitted
from starosta.events.store import Connection, Envelope
from starosta.projections import registry, sql
from starosta.projections.claim_index import ClaimIndex, changed_claim
from starosta.projections.rules import (
    COUNTED,
    COUNTS_APPROVED,
    Supersession,
    counts_sql,
)
from starosta.projections.runner import Tables
from starosta.projections.spreadsheet import SafeWriter

UNDATED, UNLOCATED = "undated", "unlocated"
DEFAULT_PAGE, MAX_PAGE = 100, 1000
_MONEY = Context(prec=60)  # amounts have at most 19 digits: sums stay exact far past any ledger
_ZERO = Decimal(0)


class LedgerProjection(ClaimIndex):
    name = "ledger"
    # 5: deprecated claims leave the ledger (ledger_ranks); 6: disputed, suppressed; 7: the rank
    # in a `rank` column, no longer folded into `status` (no ledger_ranks); 8 (issue 22): totals
    # per donor, transfers credited in the receiving fund, inexact amounts, membership dates,
    # aid in kind without a fund
    version = 8
    indexed = ("ledger_entries", "ledger_memberships")
    ddl = {
        "ledger_entries": ["""CREATE TABLE {name} (
            claim_id TEXT NOT NULL, status TEXT NOT NULL, superseded_by TEXT,
            rank TEXT NOT NULL,
            fund_id TEXT, kind TEXT NOT NULL, direction TEXT NOT NULL,
            amount TEXT, currency TEXT, counterparty TEXT, via TEXT, details TEXT,
            earliest TEXT, latest TEXT, edtf TEXT, source_id TEXT NOT NULL, locator TEXT,
            position INTEGER NOT NULL, sort_day TEXT NOT NULL,
            amount_min TEXT, amount_max TEXT, about INTEGER NOT NULL, sender TEXT,
            PRIMARY KEY (claim_id, direction))""",
            # sort_day: the earliest possible day, or 'undated' (sorts after every date);
            # amount: exact only (in the totals); amount_min/max: a range's or an "about"
            # figure's bounds (beside the totals); fund_id null: aid in kind from a sender the
            # source names only (`sender`). A committee transfer to an organisation with a
            # fund has two rows: `out` in the sending fund, `in` in the receiving one
            # (its counterparty the sending fund)
            "CREATE INDEX {name}_fund ON {name} (fund_id, sort_day, claim_id)",
            "CREATE INDEX {name}_counterparty ON {name} (counterparty)",
            "CREATE INDEX {name}_via ON {name} (via)"],
        # membership claims, so that aid to a colony reaches its members
        "ledger_memberships": ["""CREATE TABLE {name} (
            claim_id TEXT PRIMARY KEY, status TEXT NOT NULL, superseded_by TEXT,
            rank TEXT NOT NULL,
            person_id TEXT NOT NULL, organization_id TEXT NOT NULL,
            start_earliest TEXT, start_latest TEXT, end_earliest TEXT, end_latest TEXT)""",
            "CREATE INDEX {name}_person ON {name} (person_id)"],
        # the funds organisations hold (the first registered is credited with transfers to it)
        "ledger_funds": ["""CREATE TABLE {name} (
            fund_id TEXT PRIMARY KEY, organization_id TEXT NOT NULL, position INTEGER NOT NULL)""",
            "CREATE INDEX {name}_organization ON {name} (organization_id, position)"],
        # breakdown: fund (key ''), recipient, donor (key: the recorded id or name), period,
        # report;
        # *_scales: how many entries are summed, per number of decimals (0-4): "0,0,3,0,0"
        "ledger_totals": ["""CREATE TABLE {name} (
            fund_id TEXT NOT NULL, breakdown TEXT NOT NULL, key TEXT NOT NULL,
            currency TEXT NOT NULL, received TEXT NOT NULL, disbursed TEXT NOT NULL,
            balance TEXT NOT NULL, received_scales TEXT NOT NULL, disbursed_scales TEXT NOT NULL,
            PRIMARY KEY (fund_id, breakdown, key, currency))"""],
        "ledger_counts": ["""CREATE TABLE {name} (
            fund_id TEXT PRIMARY KEY, entries INTEGER NOT NULL, undated INTEGER NOT NULL)"""],
        "ledger_supersession": Supersession.ddl(),
    }

    def rows(self, e: ClaimSubmitted, envelope: Envelope) -> dict[str, list[tuple]]:
        c = e.claim
        counterparty: str | None
        via: str | None
        details: str | None
        match c:
            case DonationClaim():
                direction, counterparty, via, details = "in", c.donor, None, None
            case DisbursementClaim():  # recipient and correspondent: participants in those roles
                direction, counterparty, via, details = ("out", first_in_role(c, RECIPIENT),
                                                         first_in_role(c, CORRESPONDENT), None)
            case CommitteeTransferClaim():
                direction, counterparty, via, details = "out", c.to or c.to_said, None, c.purpose
            case InKindClaim():
                direction, counterparty, via, details = ("in_kind", first_in_role(c, RECIPIENT),
                                                         first_in_role(c, CORRESPONDENT), c.items)
            case MembershipClaim():
                return {"ledger_memberships": [(e.claim_id, "pending", None, "normal", c.person,
                                                c.organization, *_days(e, "start"),
                                                *_days(e, "end"))]}
            case _:
                return {}
        d = e.dates.get("date")
        earliest = d.earliest.isoformat() if d and d.earliest else None
        exact, low, high = amount_parts(getattr(c, "amount", None), getattr(c, "about", False))
        return {"ledger_entries": [(
            e.claim_id, "pending", None, "normal", c.fund, kind_of(c),
            direction, exact, getattr(c, "currency", None), counterparty, via,
            details, earliest, d.latest.isoformat() if d and d.latest else None,
            d.edtf if d else None, c.citation.source, c.citation.locator, envelope.position,
            earliest or UNDATED, low, high, int(getattr(c, "about", False)),
            getattr(c, "sender_said", None))]}

    def apply(self, conn: Connection, envelope: Envelope, t: Tables) -> None:
        """Fold one event in; when a review makes an entry start or stop counting (the claim
        reviewed, or the one it supersedes), add its money to the totals or take it out."""
        e = envelope.event
        if isinstance(e, FundRegistered):
            _fund_registered(conn, t, e, envelope.position)
            return
        claim_id = changed_claim(e)
        if claim_id is None:
            super().apply(conn, envelope, t)
            if isinstance(e, ClaimSubmitted) and isinstance(e.claim, CommitteeTransferClaim) \
                    and e.claim.to is not None:
                _credit(conn, t, e.claim_id, e.claim.to)
            return
        row = conn.execute(f"SELECT supersedes FROM {t['ledger_supersession']} WHERE claim_id = ?",
                           (claim_id,)).fetchone()
        touched = [claim_id, row[0]] if row else [claim_id]
        before = _counting(conn, t, touched)
        super().apply(conn, envelope, t)
        if before:
            after = _counting(conn, t, touched)
            for entry, counted in before.items():
                if after[entry] != counted:
                    _count(conn, t, entry, 1 if after[entry] else -1)


def _days(e: ClaimSubmitted, field: str) -> tuple[str | None, str | None]:
    """Return a date field's (earliest, latest) days as ISO strings (None where unknown)."""
    d = e.dates.get(field)
    return (d.earliest.isoformat() if d and d.earliest else None,
            d.latest.isoformat() if d and d.latest else None)


_ENTRY_FIELDS = ("claim_id, status, superseded_by, rank, fund_id, kind, direction, amount, "
                 "currency, counterparty, via, details, earliest, latest, edtf, source_id, "
                 "locator, position, sort_day, amount_min, amount_max, about, sender")


def _credit(conn: Connection, t: Tables, claim_id: str, organization: str) -> None:
    """Credit a committee transfer to `organization` in the organisation's first registered
    fund, as an `in` row beside the sending fund's `out` row (its counterparty the sending
    fund), with the same status, rank and supersession; counted at once if the transfer
    counts already. Nothing when the organisation has no fund or the transfer is credited."""
    fund = conn.execute(f"SELECT fund_id FROM {t['ledger_funds']} WHERE organization_id = ? "
                        "ORDER BY position LIMIT 1", (organization,)).fetchone()
    entries = t["ledger_entries"]
    if fund is None or conn.execute(f"SELECT 1 FROM {entries} WHERE claim_id = ? AND "
                                    "direction = 'in'", (claim_id,)).fetchone():
        return
    conn.execute(f"INSERT INTO {entries} ({_ENTRY_FIELDS}) SELECT claim_id, status, superseded_by, "
                 "rank, ?, kind, 'in', amount, currency, fund_id, via, details, earliest, latest, "
                 "edtf, source_id, locator, position, sort_day, amount_min, amount_max, about, "
                 f"sender FROM {entries} WHERE claim_id = ? AND direction = 'out'",
                 (fund[0], claim_id))
    if _counting(conn, t, [claim_id]).get(claim_id):
        _count(conn, t, claim_id, 1, "in")


def _fund_registered(conn: Connection, t: Tables, e: FundRegistered, position: int) -> None:
    """Record which organisation a fund belongs to; the organisation's first fund is credited
    with every transfer made to it before it was registered."""
    if e.organization is None:
        return
    conn.execute(f"INSERT INTO {t['ledger_funds']} VALUES (?, ?, ?)",
                 (e.fund_id, e.organization, position))
    for (claim_id,) in conn.execute(
            f"SELECT claim_id FROM {t['ledger_entries']} WHERE kind = 'committee_transfer' AND "
            "direction = 'out' AND counterparty = ? ORDER BY claim_id", (e.organization,)).fetchall():
        _credit(conn, t, claim_id, e.organization)


def _counting(conn: Connection, t: Tables, claim_ids: list[str]) -> dict[str, bool]:
    """Return claim id -> whether it counts, for the ledger entries among `claim_ids`."""
    marks = ",".join("?" * len(claim_ids))
    return {r[0]: bool(r[1]) for r in conn.execute(
        f"SELECT claim_id, {COUNTS_APPROVED} FROM {t['ledger_entries']} "
        f"WHERE claim_id IN ({marks})", claim_ids)}


_MONEY_COLUMNS = "direction, amount, currency, counterparty, earliest, locator"


def _count(conn: Connection, t: Tables, claim_id: str, sign: int, only: str | None = None) -> None:
    """Add a claim's entries (each fund's row; `only` the row of that direction) to their funds'
    counts and totals (sign 1), or take them out (sign -1). Aid in kind without a fund is in
    no fund's counts."""
    for row in conn.execute(
            f"SELECT fund_id, {_MONEY_COLUMNS} FROM {t['ledger_entries']} WHERE claim_id = ? "
            "AND fund_id IS NOT NULL ORDER BY direction", (claim_id,)).fetchall():
        if only is None or row[1] == only:
            _count_row(conn, t, row, sign)


def _count_row(conn: Connection, t: Tables, row: tuple, sign: int) -> None:
    fund, direction, amount, currency, counterparty, earliest, locator = row
    undated = int(earliest is None)
    counts = t["ledger_counts"]
    conn.execute(f"INSERT INTO {counts} VALUES (?, ?, ?) ON CONFLICT (fund_id) DO UPDATE SET "
                 f"entries = {counts}.entries + excluded.entries, "
                 f"undated = {counts}.undated + excluded.undated",
                 (fund, sign, sign * undated))
    for breakdown, key in _breakdowns(direction, amount, currency, counterparty, earliest, locator):
        _add(conn, t["ledger_totals"], (fund, breakdown, key, currency), direction, amount, sign)


def _breakdowns(direction: str, amount: str | None, currency: str | None, counterparty: str | None,
                earliest: str | None, locator: str | None) -> list[tuple[str, str]]:
    """Return the (breakdown, key) totals an entry's money goes into (none without money)."""
    if amount is None or currency is None or direction not in ("in", "out"):
        return []
    out = [("fund", ""), ("period", earliest[:4] if earliest else UNDATED),
           ("report", locator or UNLOCATED)]
    if direction == "out" and counterparty:
        out.append(("recipient", counterparty))
    if direction == "in" and counterparty:
        out.append(("donor", counterparty))
    return out


def _add(conn: Connection, table: str, cell: tuple, direction: str, amount: str,
         sign: int) -> None:
    """Add `amount` to one stored total (sign 1) or take it out (sign -1), keeping the sum at
    the decimals of its most precise amount left; delete the row when no entry is left in it."""
    row = conn.execute(f"SELECT received, disbursed, received_scales, disbursed_scales FROM {table} "
                       "WHERE fund_id = ? AND breakdown = ? AND key = ? AND currency = ?",
                       cell).fetchone()
    sums = [Decimal(row[0]), Decimal(row[1])] if row else [_ZERO, _ZERO]
    scales = [[int(n) for n in row[2].split(",")], [int(n) for n in row[3].split(",")]] if row \
        else [[0] * 5, [0] * 5]
    i = 0 if direction == "in" else 1
    places = len(amount) - amount.index(".") - 1 if "." in amount else 0
    scales[i][places] += sign
    if any(scales[i]):
        total = (_MONEY.add if sign > 0 else _MONEY.subtract)(sums[i], Decimal(amount))
        top = max(k for k, n in enumerate(scales[i]) if n)
        sums[i] = total.quantize(Decimal(1).scaleb(-top), context=_MONEY)
    else:
        sums[i] = _ZERO
    if not any(scales[0]) and not any(scales[1]):
        conn.execute(f"DELETE FROM {table} WHERE fund_id = ? AND breakdown = ? AND key = ? AND "
                     "currency = ?", cell)
    else:
        conn.execute(f"INSERT INTO {table} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                     "ON CONFLICT (fund_id, breakdown, key, currency) DO UPDATE SET "
                     "received = excluded.received, disbursed = excluded.disbursed, "
                     "balance = excluded.balance, received_scales = excluded.received_scales, "
                     "disbursed_scales = excluded.disbursed_scales",
                     (*cell, str(sums[0]), str(sums[1]), str(_MONEY.subtract(sums[0], sums[1])),
                      ",".join(map(str, scales[0])), ",".join(map(str, scales[1]))))


# -- the documents --------------------------------------------------------------------------------

class Named(msgspec.Struct, frozen=True):
    """An entity as documents show it, `{"id", "label"}`. A counterparty the source names
    without a registered entity (a donor "Chicago group") has `id` null and its words as label."""

    id: str | None
    label: str


class Cited(msgspec.Struct, frozen=True, omit_defaults=True):
    """Where an entry was read: its source (with label) and the locator (the bulletin, page)."""

    source: Named
    locator: str | None = None


class Bounds(msgspec.Struct, frozen=True):
    """Exact decimal strings: the least and the most an amount or a sum may be."""

    min: Annotated[str, Meta(description="The least, an exact decimal string", examples=["10"])]
    max: Annotated[str, Meta(description="The most, an exact decimal string", examples=["12"])]


class LedgerEntry(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One cited entry. direction: in (a donation, or a committee transfer received from
    another fund), out (a disbursement, a transfer to a committee) or in_kind (books,
    clothes: never in the totals). `amount` is the figure given (exact, or approximate with
    `about`); a range has `amount_range` instead; neither is in the exact totals. `fund` is
    null for aid in kind from a sender known only as the source gives it (`sender_said`).
    `reached`, in a person's aid only: direct, through_colony or as_correspondent; through a
    colony, `reach` is `certain` (the membership surely covers the date) or `possible`."""

    claim: str
    status: str
    kind: str
    direction: str
    amount: str | None = None
    currency: str | None = None
    counterparty: Named | None = None
    via: Named | None = None
    details: str | None = None
    date: str | None = None
    earliest: dt.date | None = None
    latest: dt.date | None = None
    fund: Named | None = None
    citation: Cited
    reached: str | None = None
    reach: Annotated[str | None, Meta(description="Through a colony: certain (a membership surely "
                                      "covers the date) or possible (their bounds overlap)")] = None
    amount_range: Annotated[Bounds | None, Meta(description="An amount the source gives as a range "
                                                "(not in the exact totals)")] = None
    about: Annotated[bool, Meta(description="The amount is approximate (\"about 100 francs\"): "
                                "not in the exact totals")] = False
    sender_said: Annotated[str | None, Meta(description="Aid in kind: the sender as the source "
                                            "gives it, when no fund is known")] = None


class CurrencyTotals(msgspec.Struct):
    """Exact decimal strings: balance = received - disbursed."""

    received: str
    disbursed: str
    balance: str


class RecipientTotals(msgspec.Struct):
    """What a fund sent one recipient (a person, a colony, a committee), per currency."""

    recipient: Named
    sent: dict[str, str]


class DonorTotals(msgspec.Struct):
    """What one donor gave a fund (a person, a group the source names, another fund whose
    committee transfer the fund received), per currency."""

    donor: Annotated[Named, Meta(description="The donor: a record, a fund, or the source's words (id null)")]
    given: Annotated[dict[str, str], Meta(description="Per currency, the exact sum given")]


class InexactTotals(msgspec.Struct):
    """A currency's amounts given as ranges or "about", kept out of the exact totals: their
    sums as bounds (`received`, `disbursed`), `entries` of them, `about` of those approximate;
    `bounds`: the exact totals with these added, the least and the most in all."""

    received: Annotated[Bounds, Meta(description="The inexact amounts received, summed as bounds")]
    disbursed: Annotated[Bounds, Meta(description="The inexact amounts disbursed, summed as bounds")]
    entries: Annotated[int, Meta(description="How many entries have an inexact amount")]
    about: Annotated[int, Meta(description="How many of them are approximate (`about`)")]
    bounds: Annotated[dict[str, Bounds], Meta(description="received, disbursed and balance: the "
                                              "exact totals with the inexact amounts added")]


class Fund(msgspec.Struct):
    id: str
    label: str
    synthetic: bool


class Ledger(msgspec.Struct, kw_only=True):
    """A fund's figures, the same on every page, and one page of its entries. Per currency:
    `totals` for the fund, `per_recipient` (what each recipient was sent, recipients in label
    order), `per_period` (by year of the earliest possible day, or 'undated') and `per_report`
    (by citation locator, or 'unlocated'); `count` entries in all, `undated` of them without
    a date. `next`: the cursor of the following page, null on the last. `per_donor`: what each
    donor gave (donors in label order; a fund's transfer received shows under that fund);
    `inexact`: per currency, the ranges and "about" amounts left out of `totals`, as bounds."""

    fund: Fund
    totals: dict[str, CurrencyTotals]
    per_recipient: list[RecipientTotals]
    per_period: dict[str, dict[str, CurrencyTotals]]
    per_report: dict[str, dict[str, CurrencyTotals]]
    count: int
    per_donor: Annotated[list[DonorTotals], Meta(description="What each donor gave, per currency "
                                                 "(exact amounts only)")] = []
    inexact: Annotated[dict[str, InexactTotals], Meta(description="Per currency, the ranges and "
                                                      "\"about\" amounts kept out of `totals`")] = {}
    undated: int
    entries: list[LedgerEntry]
    next: str | None


class Aid(msgspec.Struct):
    """Every entry that reached a person (one page: `next` is always null)."""

    items: list[LedgerEntry]
    next: None = None


# -- queries: everything that reads the ledger's tables -------------------------------------------

class _Row(NamedTuple):
    """A row of ledger_entries as the queries read it."""

    claim_id: str
    status: str
    kind: str
    direction: str
    amount: str | None
    currency: str | None
    counterparty: str | None
    via: str | None
    details: str | None
    edtf: str | None
    earliest: str | None
    latest: str | None
    fund_id: str | None
    source_id: str
    locator: str | None
    sort_day: str
    amount_min: str | None
    amount_max: str | None
    about: int
    sender: str | None


_COLUMNS = ", ".join(_Row._fields)


def _rows(cursor: Iterable[tuple]) -> list[_Row]:
    return [_Row._make(r) for r in cursor]


_CURSOR = re.compile(r"^(\d{4}-\d{2}-\d{2}|undated)/([A-Za-z0-9][A-Za-z0-9_.:-]{0,63})$")


def ledger(conn: Connection, fund_id: str, statuses: Sequence[str] = COUNTED,
           after: str | None = None, limit: int = DEFAULT_PAGE) -> Ledger:
    """Return a fund's ledger: totals of the entries in `statuses` (not superseded) and the page
    of entries after the cursor `after` (a previous page's `next`), `limit` of them.

    With COUNTED statuses the totals are the stored ones; with any other (reviewers'
    include=pending) they are computed from the fund's entries, one pass over them.
    Raises NotFound for an unknown fund, Invalid for a malformed cursor or limit.
    """
    start = parse_cursor(after)
    if not 1 <= limit <= MAX_PAGE:
        raise Invalid("limit", limit, f"a page holds 1 to {MAX_PAGE} entries", "query")
    with sql.snapshot(conn):
        synthetic = _fund(conn, fund_id)
        if tuple(statuses) == COUNTED:
            figures, count, undated = _stored(conn, fund_id)
        else:
            figures, count, undated = _computed(conn, fund_id, statuses)
        counting, counting_args = counts_sql(statuses)
        rows = _rows(conn.execute(
            f"SELECT {_COLUMNS} FROM ledger_entries WHERE fund_id = ? AND (sort_day, claim_id) > (?, ?) "
            f"AND {counting} ORDER BY sort_day, claim_id "
            "LIMIT ?", (fund_id, *start, *counting_args, limit + 1)))
        page, more = rows[:limit], len(rows) > limit
        recipients, donors = figures.get("recipient", {}), figures.get("donor", {})
        named = _Names(conn, page, parties=set(recipients) | set(donors), entities={fund_id})
        inexact = _inexact(conn, fund_id, statuses, figures.get("fund", {}).get("", {}))
    per_recipient = _per_party(named, recipients, "disbursed")
    per_donor = _per_party(named, donors, "received")
    return Ledger(
        fund=Fund(fund_id, named.labels[fund_id], synthetic),
        totals=figures.get("fund", {}).get("", {}),
        per_recipient=[RecipientTotals(r, dict(sorted(sent.items()))) for r, sent in
                       sorted(per_recipient.items(), key=lambda i: (i[0].label, i[0].id or ""))],
        per_period=dict(sorted(figures.get("period", {}).items())),
        per_report=dict(sorted(figures.get("report", {}).items())),
        count=count, undated=undated, entries=[named.entry(r) for r in page],
        next=f"{page[-1].sort_day}/{page[-1].claim_id}" if more else None,
        per_donor=[DonorTotals(d, dict(sorted(given.items()))) for d, given in
                   sorted(per_donor.items(), key=lambda i: (i[0].label, i[0].id or ""))],
        inexact=inexact)


def _per_party(named: _Names, figures: dict[str, dict[str, CurrencyTotals]],
               side: str) -> dict[Named, dict[str, str]]:
    """Fold one breakdown (recipient or donor keys) into {party: {currency: amount}}, merged
    records into their survivor."""
    out: dict[Named, dict[str, str]] = {}
    for key, by_currency in figures.items():
        mine = out.setdefault(named.party(key), {})
        for currency, t in by_currency.items():
            amount = getattr(t, side)
            mine[currency] = amount if currency not in mine else \
                str(_MONEY.add(Decimal(mine[currency]), Decimal(amount)))
    return out


def _inexact(conn: Connection, fund_id: str, statuses: Sequence[str],
             totals: dict[str, CurrencyTotals]) -> dict[str, InexactTotals]:
    """Sum a fund's counted ranges and "about" amounts, per currency, as bounds (one pass over
    its inexact entries); beside them the exact totals with them added."""
    counting, counting_args = counts_sql(statuses)
    sums: dict[str, list] = {}
    for direction, low, high, about, currency in conn.execute(
            "SELECT direction, amount_min, amount_max, about, currency FROM ledger_entries "
            f"WHERE fund_id = ? AND amount_min IS NOT NULL AND currency IS NOT NULL AND {counting} "
            "ORDER BY claim_id, direction", (fund_id, *counting_args)):
        if direction not in ("in", "out"):
            continue
        cell = sums.setdefault(currency, [_ZERO, _ZERO, _ZERO, _ZERO, 0, 0])
        i = 0 if direction == "in" else 2
        cell[i] = _MONEY.add(cell[i], Decimal(low))
        cell[i + 1] = _MONEY.add(cell[i + 1], Decimal(high))
        cell[4] += 1
        cell[5] += int(about)
    out: dict[str, InexactTotals] = {}
    for currency, (r_lo, r_hi, d_lo, d_hi, n, about_n) in sorted(sums.items()):
        exact = totals.get(currency)
        received = Decimal(exact.received) if exact else _ZERO
        disbursed = Decimal(exact.disbursed) if exact else _ZERO
        out[currency] = InexactTotals(
            received=Bounds(str(r_lo), str(r_hi)), disbursed=Bounds(str(d_lo), str(d_hi)),
            entries=n, about=about_n, bounds={
                "received": Bounds(str(_MONEY.add(received, r_lo)), str(_MONEY.add(received, r_hi))),
                "disbursed": Bounds(str(_MONEY.add(disbursed, d_lo)),
                                    str(_MONEY.add(disbursed, d_hi))),
                "balance": Bounds(str(_MONEY.subtract(_MONEY.add(received, r_lo),
                                                      _MONEY.add(disbursed, d_hi))),
                                  str(_MONEY.subtract(_MONEY.add(received, r_hi),
                                                      _MONEY.add(disbursed, d_lo))))})
    return out


def parse_cursor(after: str | None) -> tuple[str, str]:
    """Return (sort day, claim id) after which a page starts; Invalid when malformed."""
    if after is None:
        return ("", "")
    m = _CURSOR.match(after)
    if m is None:
        raise Invalid("after", after, "not a ledger cursor: pass the `next` of the previous page "
                      "(DAY/CLAIM_ID, e.g. 1926-05-01/C-4G7K2M9Q, or undated/C-4G7K2M9Q)", "query")
    return m.group(1), m.group(2)


def entries_csv(conn: Connection, fund_id: str, statuses: Sequence[str] = COUNTED) -> str:
    """Return every entry of a fund in `statuses` (not superseded), in ledger order, as CSV:
    ids and labels side by side. Raises NotFound for an unknown fund."""
    with sql.snapshot(conn):
        _fund(conn, fund_id)
        counting, counting_args = counts_sql(statuses)
        rows = _rows(conn.execute(
            f"SELECT {_COLUMNS} FROM ledger_entries WHERE fund_id = ? AND {counting} "
            f"ORDER BY sort_day, claim_id", (fund_id, *counting_args)))
        named = _Names(conn, rows)
    out = io.StringIO()
    writer = SafeWriter(out)  # formula-injection safe (projections.spreadsheet)
    writer.writerow(["claim", "date", "earliest", "latest", "kind", "direction", "amount", "currency",
                     "counterparty", "counterparty_label", "via", "via_label", "details", "source",
                     "source_label", "locator", "status", "amount_min", "amount_max", "about",
                     "sender_said"])
    for r in rows:
        party = named.party(r.counterparty) if r.counterparty else None
        via = named.party(r.via) if r.via else None
        writer.writerow([r.claim_id, r.edtf, r.earliest, r.latest, r.kind, r.direction,
                         r.amount if r.amount is not None or not r.about else r.amount_min,
                         r.currency, (party.id or party.label) if party else None,
                         party.label if party else None, via.id if via else None,
                         via.label if via else None, r.details, r.source_id,
                         named.labels.get(r.source_id), r.locator, r.status, r.amount_min,
                         r.amount_max, "true" if r.about else None, r.sender])
    return out.getvalue()


def aid_for_person(conn: Connection, person_id: str) -> Aid:
    """Return the approved entries (not superseded) that reached a person's merge group:
    whose recipient is one of its records (direct), a colony or group one of them is an
    approved member of (through_colony), or that passed through one of them as correspondent
    (as_correspondent); each entry once, the first of those that applies. Raises NotFound."""
    with sql.snapshot(conn):
        if not registry.exists(conn, "person", person_id):
            raise NotFound("person_id", person_id, "person")
        group = registry.merge_group(conn, person_id)
        marks = ",".join("?" * len(group))
        spans: dict[str, list[tuple]] = {}
        for org, *days in conn.execute(
                "SELECT organization_id, start_earliest, start_latest, end_earliest, end_latest "
                f"FROM ledger_memberships WHERE person_id IN ({marks}) AND {COUNTS_APPROVED} "
                "ORDER BY organization_id, claim_id", group):
            spans.setdefault(org, []).append(tuple(_day(d) for d in days))
        colonies = sorted(spans)
        found: dict[str, tuple[_Row, str, str | None]] = {}
        for reached, column, ids in (("direct", "counterparty", group),
                                     ("through_colony", "counterparty", colonies),
                                     ("as_correspondent", "via", group)):
            if ids:
                m = ",".join("?" * len(ids))
                for r in _rows(conn.execute(
                        f"SELECT {_COLUMNS} FROM ledger_entries WHERE {column} IN ({m}) "
                        f"AND direction <> 'in' AND {COUNTS_APPROVED}", ids)):
                    reach = None
                    if reached == "through_colony":
                        reach = _best_reach(spans[r.counterparty or ""], r)
                        if reach is None:
                            continue  # no membership of the person's covers its date
                    found.setdefault(r.claim_id, (r, reached, reach))
        rows = sorted(found.values(), key=lambda f: (f[0].sort_day, f[0].claim_id))
        named = _Names(conn, [r for r, _, _ in rows])
    return Aid([named.entry(r, reached, reach) for r, reached, reach in rows])


def _day(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _best_reach(spans: list[tuple], r: _Row) -> str | None:
    """The surest reach of an entry sent to a colony over a person's memberships of it."""
    reaches = {membership_reach((s_e, s_l), (e_e, e_l), (_day(r.earliest), _day(r.latest)))
               for s_e, s_l, e_e, e_l in spans}
    return "certain" if "certain" in reaches else "possible" if "possible" in reaches else None


def _fund(conn: Connection, fund_id: str) -> bool:
    """Return whether the fund is marked synthetic; NotFound when there is no such fund."""
    fund = registry.entity(conn, "fund", fund_id)
    if fund is None:
        raise NotFound("fund_id", fund_id, "fund")
    return bool(fund[2].get("synthetic", False))


Figures = dict[str, dict[str, dict[str, CurrencyTotals]]]  # breakdown -> key -> currency -> totals


def _stored(conn: Connection, fund_id: str) -> tuple[Figures, int, int]:
    """Return the stored totals of a fund's counted entries, their number, how many undated."""
    figures: Figures = {}
    for breakdown, key, currency, received, disbursed, balance in conn.execute(
            "SELECT breakdown, key, currency, received, disbursed, balance FROM ledger_totals "
            "WHERE fund_id = ? ORDER BY breakdown, key, currency", (fund_id,)):
        figures.setdefault(breakdown, {}).setdefault(key, {})[currency] = CurrencyTotals(
            received, disbursed, balance)
    row = conn.execute("SELECT entries, undated FROM ledger_counts WHERE fund_id = ?",
                       (fund_id,)).fetchone()
    return figures, *(row or (0, 0))


def _computed(conn: Connection, fund_id: str,
              statuses: Sequence[str]) -> tuple[Figures, int, int]:
    """Return the totals of a fund's entries in `statuses` (not superseded), summed now, their
    number, how many undated."""
    counting, counting_args = counts_sql(statuses)
    sums: dict[tuple[str, str, str], list[Decimal]] = {}
    count = undated = 0
    for direction, amount, currency, counterparty, earliest, locator in conn.execute(
            f"SELECT {_MONEY_COLUMNS} FROM ledger_entries WHERE fund_id = ? AND {counting}",
            (fund_id, *counting_args)):
        count += 1
        undated += earliest is None
        for breakdown, key in _breakdowns(direction, amount, currency, counterparty, earliest, locator):
            pair = sums.setdefault((breakdown, key, currency), [_ZERO, _ZERO])
            i = 0 if direction == "in" else 1
            pair[i] = _MONEY.add(pair[i], Decimal(amount))
    figures: Figures = {}
    for (breakdown, key, currency), (received, disbursed) in sorted(sums.items()):
        figures.setdefault(breakdown, {}).setdefault(key, {})[currency] = CurrencyTotals(
            str(received), str(disbursed), str(_MONEY.subtract(received, disbursed)))
    return figures, count, undated


class _Names:
    """Labels for one answer: merged persons resolved to their survivors, then one
    `registry.labels` call for everything the answer names (its entries' fund, source,
    counterparty and correspondent; more `parties` and `entities` beside them)."""

    def __init__(self, conn: Connection, rows: list[_Row], parties: Iterable[str] = (),
                 entities: Iterable[str] = ()) -> None:
        named = {v for r in rows for v in (r.counterparty, r.via) if v} | set(parties)
        self.survivors = registry.survivors(conn, named)
        self.labels = registry.labels(conn, {self.survivors.get(p, p) for p in named} | set(entities)
                                      | {v for r in rows for v in (r.fund_id, r.source_id) if v})

    def party(self, value: str) -> Named:
        """A counterparty or correspondent: the survivor's id and label, or, for a name as the
        source gives it, `id` null and the name."""
        alive, label = survivor_label(value, self.survivors, self.labels)
        return Named(alive, label) if label is not None else Named(None, value)

    def entity(self, entity_id: str) -> Named:
        return Named(entity_id, self.labels.get(entity_id, entity_id))

    def entry(self, r: _Row, reached: str | None = None, reach: str | None = None) -> LedgerEntry:
        ranged = r.amount_min is not None and not r.about
        return LedgerEntry(
            claim=r.claim_id, status=r.status, kind=r.kind, direction=r.direction,
            amount=r.amount if r.amount is not None or ranged else r.amount_min,
            currency=r.currency, counterparty=self.party(r.counterparty) if r.counterparty else None,
            via=self.party(r.via) if r.via else None, details=r.details, date=r.edtf,
            earliest=dt.date.fromisoformat(r.earliest) if r.earliest else None,
            latest=dt.date.fromisoformat(r.latest) if r.latest else None,
            fund=self.entity(r.fund_id) if r.fund_id else None,
            citation=Cited(self.entity(r.source_id), r.locator), reached=reached, reach=reach,
            amount_range=Bounds(r.amount_min, r.amount_max or r.amount_min)
            if ranged and r.amount_min else None,
            about=bool(r.about), sender_said=r.sender)
