"""Ledgers over HTTP (the real app, a real SQLite file): cited entries in date order, exact
per-currency totals, breakdowns per recipient, period and report, money to a colony through a
correspondent, what reached a person, supersession, the synthetic flag, CSV; and a property:
money is conserved, exactly, in every currency."""

from __future__ import annotations

import csv
import io
import os
import re
import tempfile
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.testing import TestClient

from starosta.service.api.app import create_app
from starosta.service.settings import Settings
from tests.api.conftest import Api, make_tokens, assert_problem

PROBLEM = "application/problem+json"
DECIMAL = re.compile(r"^-?(0|[1-9][0-9]*)(\.[0-9]+)?$")


# -- helpers ---------------------------------------------------------------------------------



def approve_all(api: Api, ids: list[str], who: str = "bob") -> None:
    if not ids:
        return
    r = api.post("/claims/approve", {"ids": ids, "reason": "read against the bulletin"}, who)
    assert r.status_code == 200, r.text
    assert all(i["status"] == 200 for i in r.json()["items"]), r.text


@dataclass
class Books:
    api: Api
    source: str

    def fund(self, name: str = "Relief Fund of the IWMA", **extra: Any) -> str:
        r = self.api.post("/funds", {"name": name, "citation": {"source": self.source}, **extra})
        assert r.status_code == 201, r.text
        return r.json()["id"]

    def organization(self, name: str, kind: str) -> str:
        r = self.api.post("/organizations", {"name": name, "kind": kind,
                                             "citation": {"source": self.source}})
        assert r.status_code == 201, r.text
        return r.json()["id"]

    def entry(self, kind: str, fund: str, locator: str | None = None, approved: bool = True,
              who: str = "alice", **fields: Any) -> str:
        citation: dict[str, Any] = {"source": self.source}
        if locator is not None:
            citation["locator"] = locator
        claim = self.api.claim({"kind": kind, "fund": fund, "citation": citation, **fields}, who)
        if approved:
            approve_all(self.api, [claim])
        return claim

    def ledger(self, fund: str, who: str | None = None, **params: Any) -> dict:
        r = self.api.get(f"/funds/{fund}/ledger", who, **params)
        assert r.status_code == 200, r.text
        return r.json()


@pytest.fixture
def books(api: Api) -> Books:
    return Books(api, api.source("Bulletin of the Relief Fund", source_type="bulletin"))


def totals(received: str, disbursed: str, balance: str) -> dict[str, str]:
    return {"received": received, "disbursed": disbursed, "balance": balance}


# -- 1. entries, totals and breakdowns ---------------------------------------------------------

def test_entries_totals_and_breakdowns(api: Api, books: Books) -> None:
    fund = books.fund()
    klichevsky = api.person("Klichevsky", books.source)
    correspondent = api.person("N. (Central Russia)", books.source, partial=True)
    colony = books.organization("Anarchist exiles of Tashkent", "colony")
    bulgarians = books.organization("Committee for exiled Bulgarians", "committee")

    ids = {
        "d1": books.entry("donation", fund, "Bulletin 12", donor="Chicago group", amount="100.50",
                          currency="USD", date="1926-03"),
        "d2": books.entry("donation", fund, "Bulletin 12", donor="A. Berkman", amount="0.25",
                          currency="USD", date="1926-04-02"),
        "d3": books.entry("donation", fund, "Bulletin 13", donor="Paris group", amount="300",
                          currency="FRF", date="1927"),
        "d4": books.entry("donation", fund, None, donor="anonymous", amount="5", currency="USD"),
        "o1": books.entry("disbursement", fund, "Bulletin 12", recipient=klichevsky, amount="25.00",
                          currency="USD", date="1926-05"),
        "o2": books.entry("disbursement", fund, "Bulletin 13", recipient=colony, via=correspondent,
                          amount="40", currency="FRF", date="1927-02"),
        "o3": books.entry("disbursement", fund, "Bulletin 13", recipient=klichevsky,
                          amount="10.10", currency="USD", date="1927-01-15"),
        "t1": books.entry("committee_transfer", fund, "Bulletin 14", to=bulgarians, amount="12.5",
                          currency="FRF", date="1928", purpose="for exiled Bulgarians"),
        "t2": books.entry("committee_transfer", fund, "Bulletin 14", to_said="Italian prisoner committees",
                          date="1928-06"),
        "k1": books.entry("in_kind", fund, "Bulletin 12", items="books and newspapers",
                          recipient=klichevsky, via=correspondent, date="1926"),
    }
    pending = books.entry("donation", fund, "Bulletin 15", approved=False, donor="x",
                          amount="1000", currency="USD", date="1929")
    rejected = books.entry("disbursement", fund, "Bulletin 15", approved=False,
                           recipient=klichevsky, amount="7", currency="USD", date="1929")
    assert api.post(f"/claims/{rejected}/reject", {"reason": "misread"}, "bob").status_code == 200

    body = books.ledger(fund)
    assert body["fund"] == {"id": fund, "label": "Relief Fund of the IWMA", "synthetic": False}
    entries = body["entries"]
    by_id = {e["claim"]: e for e in entries}
    assert set(by_id) == set(ids.values())  # approved only
    assert pending not in by_id and rejected not in by_id

    # in date order, undated last
    assert [e["claim"] for e in entries] == [ids[k] for k in (
        "k1", "d1", "d2", "o1", "d3", "o3", "o2", "t1", "t2", "d4")]
    dated = [e["earliest"] for e in entries if e.get("earliest")]
    assert dated == sorted(dated) and entries[-1]["claim"] == ids["d4"]
    assert entries[-1].get("earliest") is None and body["undated"] == 1

    # each with its locator, directions, amounts exactly as given
    d1 = by_id[ids["d1"]]
    # (a donor named as the source gives it, not a registered entity: id null, its words as label)
    assert (d1["direction"], d1["amount"], d1["currency"], d1["counterparty"], d1["citation"],
            d1["date"], d1["earliest"], d1["latest"]) == (
        "in", "100.50", "USD", {"id": None, "label": "Chicago group"},
        {"source": {"id": books.source, "label": "Bulletin of the Relief Fund"}, "locator": "Bulletin 12"},
        "1926-03", "1926-03-01", "1926-03-31")
    assert by_id[ids["o1"]]["direction"] == "out" and by_id[ids["o1"]]["amount"] == "25.00"
    assert by_id[ids["o1"]]["counterparty"] == {"id": klichevsky, "label": "Klichevsky"}
    assert by_id[ids["k1"]]["direction"] == "in_kind" and by_id[ids["k1"]]["details"] == "books and newspapers"
    assert by_id[ids["t1"]]["counterparty"] == {"id": bulgarians, "label": "Committee for exiled Bulgarians"}
    assert by_id[ids["t1"]]["direction"] == "out"
    assert by_id[ids["t2"]]["counterparty"] == {"id": None, "label": "Italian prisoner committees"}
    assert "amount" not in by_id[ids["t2"]]
    assert "locator" not in by_id[ids["d4"]]["citation"]
    for e in entries:
        assert e["status"] == "approved" and e["fund"] == {"id": fund, "label": "Relief Fund of the IWMA"}

    # money to a colony through a correspondent: the colony is the counterparty, via recorded
    o2 = by_id[ids["o2"]]
    assert (o2["counterparty"], o2["via"]) == (
        {"id": colony, "label": "Anarchist exiles of Tashkent"},
        {"id": correspondent, "label": "N. (Central Russia)"})

    # totals per currency, exact decimal strings, never converted
    assert body["totals"] == {"FRF": totals("300", "52.5", "247.5"),
                              "USD": totals("105.75", "35.10", "70.65")}
    # per recipient: money out, per currency, each recipient named (in label order)
    assert body["per_recipient"] == [
        {"recipient": {"id": colony, "label": "Anarchist exiles of Tashkent"}, "sent": {"FRF": "40"}},
        {"recipient": {"id": bulgarians, "label": "Committee for exiled Bulgarians"}, "sent": {"FRF": "12.5"}},
        {"recipient": {"id": klichevsky, "label": "Klichevsky"}, "sent": {"USD": "35.10"}}]
    assert (body["count"], body["next"]) == (10, None)
    # per year of the earliest possible day, or undated
    assert body["per_period"] == {
        "1926": {"USD": totals("100.75", "25.00", "75.75")},
        "1927": {"FRF": totals("300", "40", "260"), "USD": totals("0", "10.10", "-10.10")},
        "1928": {"FRF": totals("0", "12.5", "-12.5")},
        "undated": {"USD": totals("5", "0", "5")},
    }
    # per report: the citation's locator (the bulletin)
    assert body["per_report"] == {
        "Bulletin 12": {"USD": totals("100.75", "25.00", "75.75")},
        "Bulletin 13": {"FRF": totals("300", "40", "260"), "USD": totals("0", "10.10", "-10.10")},
        "Bulletin 14": {"FRF": totals("0", "12.5", "-12.5")},
        "unlocated": {"USD": totals("5", "0", "5")},
    }

    # reviewers may ask for pending entries too (flagged by status); contributors may not
    with_pending = {e["claim"]: e for e in books.ledger(fund, "bob", include="pending")["entries"]}
    assert with_pending[pending]["status"] == "pending" and rejected not in with_pending
    assert books.ledger(fund, "bob", include="pending")["totals"]["USD"]["received"] == "1105.75"
    assert_problem(api.get(f"/funds/{fund}/ledger", "alice", include="pending"), 403)
    assert_problem(api.get("/funds/F-ZZZZZZZZ/ledger"), 404, "F-ZZZZZZZZ")


def test_each_ledger_entry_names_its_source(books: Books) -> None:
    fund = books.fund()
    books.entry("donation", fund, "Bulletin 12", donor="Chicago group", amount="1", currency="USD")
    (entry,) = books.ledger(fund)["entries"]
    assert entry["citation"] == {"source": {"id": books.source, "label": "Bulletin of the Relief Fund"},
                                 "locator": "Bulletin 12"}


def test_include_pending_without_a_token_is_401(api: Api, books: Books) -> None:
    fund = books.fund()
    assert_problem(api.get(f"/funds/{fund}/ledger", None, include="pending"), 401)


def test_aid_reaching_a_person(api: Api, books: Books) -> None:
    fund = books.fund()
    other_fund = books.fund("Alexander Berkman Fund of Chicago")
    klichevsky = api.person("Klichevsky", books.source)
    correspondent = api.person("S.– K.– (North of Siberia)", books.source, partial=True)
    stranger = api.person("Someone else", books.source)
    colony = books.organization("Anarchist exiles of Tashkent", "colony")
    other_colony = books.organization("Exiles of Tobolsk", "colony")

    direct = books.entry("disbursement", fund, "Bulletin 3", recipient=klichevsky, amount="20",
                         currency="USD", date="1925")
    in_kind = books.entry("in_kind", other_fund, "Bulletin 4", items="clothes", recipient=klichevsky,
                          date="1926")
    to_colony = books.entry("disbursement", fund, "Bulletin 5", recipient=colony, via=correspondent,
                            amount="60", currency="USD", date="1927")
    books.entry("disbursement", fund, "Bulletin 5", recipient=other_colony, amount="30",
                currency="USD", date="1927")
    books.entry("disbursement", fund, "Bulletin 6", recipient=stranger, amount="5", currency="USD")
    books.entry("disbursement", fund, "Bulletin 6", approved=False, recipient=klichevsky,
                amount="99", currency="USD", date="1928")

    def aid(person: str) -> dict[str, str]:
        r = api.get(f"/persons/{person}/aid")
        assert r.status_code == 200, r.text
        items = r.json()["items"]
        earliest = [i["earliest"] for i in items if i.get("earliest")]
        assert earliest == sorted(earliest)
        return {i["claim"]: i["reached"] for i in items}

    assert aid(klichevsky) == {direct: "direct", in_kind: "direct"}
    assert aid(correspondent) == {to_colony: "as_correspondent"}

    # a pending membership changes nothing; approved, the colony's money reached him
    membership = api.claim({"kind": "membership", "person": klichevsky, "organization": colony,
                            "start": "1926", "citation": {"source": books.source}})
    assert aid(klichevsky) == {direct: "direct", in_kind: "direct"}
    approve_all(api, [membership])
    assert aid(klichevsky) == {direct: "direct", in_kind: "direct", to_colony: "through_colony"}
    items = api.get(f"/persons/{klichevsky}/aid").json()["items"]
    assert [i["claim"] for i in items] == [direct, in_kind, to_colony]
    through = items[-1]
    assert (through["counterparty"], through["via"], through["amount"], through["fund"]) == (
        {"id": colony, "label": "Anarchist exiles of Tashkent"},
        {"id": correspondent, "label": "S.– K.– (North of Siberia)"}, "60",
        {"id": fund, "label": "Relief Fund of the IWMA"})
    assert aid(stranger) != {} and aid(correspondent) == {to_colony: "as_correspondent"}

    # a merged record's aid is its survivor's, and the survivor's includes the merged record's
    assert api.post(f"/persons/{stranger}/merge", {"into": klichevsky, "reason": "same man"},
                    "bob").status_code == 200
    assert aid(stranger) == aid(klichevsky)
    assert len(aid(klichevsky)) == 4
    assert_problem(api.get("/persons/P-ZZZZZZZZ/aid"), 404, "P-ZZZZZZZZ")


# -- 2. supersession, synthetic, CSV ------------------------------------------------------------

def test_superseded_entries_drop_out(api: Api, books: Books) -> None:
    fund = books.fund()
    p = api.person("Recipient", books.source)
    books.entry("donation", fund, "Bulletin 1", donor="group", amount="100", currency="USD", date="1926")
    old = books.entry("disbursement", fund, "Bulletin 2", recipient=p, amount="25.00",
                      currency="USD", date="1926-05")
    correction = books.entry("disbursement", fund, "Bulletin 2", approved=False, who="dave",
                             recipient=p, amount="52.00", currency="USD", date="1926-05",
                             supersedes=old)
    body = books.ledger(fund)
    assert old in {e["claim"] for e in body["entries"]}
    assert body["totals"]["USD"] == totals("100", "25.00", "75.00")

    approve_all(api, [correction])
    body = books.ledger(fund)
    claims = {e["claim"] for e in body["entries"]}
    assert correction in claims and old not in claims
    assert body["totals"]["USD"] == totals("100", "52.00", "48.00")
    assert body["per_recipient"] == [{"recipient": {"id": p, "label": "Recipient"}, "sent": {"USD": "52.00"}}]
    assert {i["claim"] for i in api.get(f"/persons/{p}/aid").json()["items"]} == {correction}

    # the correction contested: the old entry comes back
    assert api.post(f"/claims/{correction}/contest", {"reason": "which bulletin?"}, "carol").status_code == 200
    body = books.ledger(fund)
    assert old in {e["claim"] for e in body["entries"]}
    assert correction not in {e["claim"] for e in body["entries"]}
    assert body["totals"]["USD"] == totals("100", "25.00", "75.00")


def test_synthetic_fund_is_labelled(api: Api, books: Books) -> None:
    synthetic = books.fund("Demo fund with invented sums", synthetic=True)
    real = books.fund("Joint Committee")
    assert books.ledger(synthetic)["fund"]["synthetic"] is True
    assert books.ledger(real)["fund"]["synthetic"] is False


def test_csv_export(api: Api, books: Books) -> None:
    fund = books.fund()
    p = api.person("Klichevsky", books.source)
    colony = books.organization("Colony", "colony")
    a = books.entry("donation", fund, "Bulletin 12", donor="Chicago, group", amount="100.50",
                    currency="USD", date="1926-03")
    b = books.entry("disbursement", fund, "Bulletin 13", recipient=colony, via=p, amount="6.25",
                    currency="SUR", date="1927")
    c = books.entry("in_kind", fund, None, items="books", recipient=p)
    as_json = books.ledger(fund)["entries"]
    for r in (api.get(f"/funds/{fund}/ledger", format="csv"),
              api.client.get(f"/funds/{fund}/ledger", headers={"Accept": "text/csv"})):
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(r.text)))
        assert [row["claim"] for row in rows] == [a, b, c] == [e["claim"] for e in as_json]
        assert rows[0]["amount"] == "100.50" and rows[0]["currency"] == "USD"
        assert rows[0]["counterparty"] == "Chicago, group" and rows[0]["locator"] == "Bulletin 12"
        assert rows[0]["direction"] == "in" and rows[0]["date"] == "1926-03"
        assert (rows[1]["counterparty"], rows[1]["via"], rows[1]["amount"]) == (colony, p, "6.25")
        assert rows[1]["counterparty_label"] == "Colony" and rows[1]["status"] == "approved"
        assert (rows[2]["direction"], rows[2]["amount"], rows[2]["details"], rows[2]["date"]) == (
            "in_kind", "", "books", "")
        assert {"claim", "date", "earliest", "latest", "kind", "direction", "amount", "currency",
                "counterparty", "via", "locator", "status"} <= set(rows[0])


# -- 3. conservation, as a property ---------------------------------------------------------------

CURRENCY_SETS = [("USD", "FRF"), ("USD", "FRF", "SUR"), ("DEM", "ESP")]


def amounts() -> st.SearchStrategy[str]:
    """Decimal strings with 0, 1 or 2 decimals, as a bulletin prints them."""
    return st.tuples(st.integers(0, 10**9), st.sampled_from([0, 1, 2]), st.integers(0, 99)).map(
        lambda t: str(t[0]) if t[1] == 0 else f"{t[0]}.{t[2] % 10}" if t[1] == 1 else f"{t[0]}.{t[2]:02d}")


@st.composite
def ledgers(draw: st.DrawFn) -> tuple[tuple[str, ...], list[tuple[str, str, str, bool, str | None]]]:
    currencies = draw(st.sampled_from(CURRENCY_SETS))
    entries = draw(st.lists(st.tuples(
        st.sampled_from(["donation", "disbursement"]), amounts(), st.sampled_from(currencies),
        st.booleans().map(lambda pending: not pending) | st.just(True),  # approved, mostly
        st.sampled_from([None, "1923", "1926-05", "1931-12-31"])), min_size=1, max_size=12))
    return currencies, entries


def ledger_numbers(text: str) -> Decimal:
    assert DECIMAL.match(text), text
    return Decimal(text)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ledgers())
def test_money_is_conserved(example) -> None:
    currencies, entries = example
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "archive.db")
        tokens = make_tokens(db)
        with TestClient(create_app(Settings(db=db))) as client:
            api = Api(client, tokens)
            books = Books(api, api.source("Bulletin"))
            fund = books.fund()
            recipient = api.person("Recipient", books.source)
            approved: list[str] = []
            expected: dict[str, list[Decimal]] = {}
            for kind, amount, currency, is_approved, date in entries:
                fields: dict[str, Any] = {"amount": amount, "currency": currency}
                if date is not None:
                    fields["date"] = date
                if kind == "donation":
                    fields["donor"] = "a group"
                else:
                    fields["recipient"] = recipient
                claim = books.entry(kind, fund, f"Bulletin {len(approved) % 3}", approved=False, **fields)
                if is_approved:
                    approved.append(claim)
                    pair = expected.setdefault(currency, [Decimal(0), Decimal(0)])
                    pair[0 if kind == "donation" else 1] += Decimal(amount)
            approve_all(api, approved)
            body = books.ledger(fund)

            assert sorted(body["totals"]) == sorted(expected)
            for currency, t in body["totals"].items():
                received, disbursed, balance = (ledger_numbers(t[k]) for k in ("received", "disbursed", "balance"))
                assert received - disbursed == balance
                assert (received, disbursed) == tuple(expected[currency])
                # the breakdowns partition the same money
                for breakdown in ("per_period", "per_report"):
                    parts = [g[currency] for g in body[breakdown].values() if currency in g]
                    assert sum(ledger_numbers(p["received"]) for p in parts) == received
                    assert sum(ledger_numbers(p["disbursed"]) for p in parts) == disbursed
                    assert sum(ledger_numbers(p["balance"]) for p in parts) == balance
                sent = {r["recipient"]["id"]: r["sent"] for r in body["per_recipient"]}
                paid = sent.get(recipient, {}).get(currency)
                assert ledger_numbers(paid) == disbursed if paid is not None else disbursed == 0
            assert len(body["entries"]) == len(approved)


def test_csv_cells_cannot_run_as_formulas(api: Api, books: Books) -> None:
    """OWASP's CSV-injection advice: a cell starting with =, +, -, @, tab or CR gets a quote."""
    fund = books.fund()
    hostile = ["=HYPERLINK(\"http://example.invalid\")", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)"]
    for n, donor in enumerate(hostile):
        books.entry("donation", fund, f"Bulletin {n}", donor=donor, amount="1.00", currency="USD",
                    date="1926")
    r = api.get(f"/funds/{fund}/ledger", format="csv")
    assert r.status_code == 200, r.text
    cells = [row["counterparty"] for row in csv.DictReader(io.StringIO(r.text))]
    assert sorted(cells) == sorted("'" + d for d in hostile)
    # the JSON keeps the donor's name exactly as the source gives it
    assert sorted(e["counterparty"]["label"] for e in books.ledger(fund)["entries"]) == sorted(hostile)
