"""Ledgers over HTTP, paged: every entry once across pages, in order, with the same totals on
every page; stored totals that follow approvals, contests and corrections; labels on every
reference, merged persons shown as their survivors; cursors and page sizes checked."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import Api, assert_problem
from tests.api.test_ledger import Books, approve_all, totals


@pytest.fixture
def books(api: Api) -> Books:
    return Books(api, api.source("Bulletin of the Relief Fund", source_type="bulletin"))


def pages(books: Books, fund: str, who: str | None = None, **params: Any) -> list[dict]:
    """Every page of a fund's ledger, following `next`."""
    out: list[dict] = []
    after = None
    while True:
        body = books.ledger(fund, who, **params, **({"after": after} if after else {}))
        out.append(body)
        after = body["next"]
        if after is None:
            return out
        assert len(out) < 100, "paging does not end"


def figures(body: dict) -> dict:
    return {k: body[k] for k in ("fund", "totals", "per_recipient", "per_period", "per_report",
                                 "count", "undated")}


def test_pages_hold_every_entry_once_in_order_with_the_same_totals(api: Api, books: Books) -> None:
    fund = books.fund()
    people = [api.person(f"Exile {i}", books.source) for i in range(3)]
    claims = []
    dates = ["1926-05", None, "1925", "1926-05-01", "1927-12-31", None, "1926", "1925-03"]
    for i in range(23):
        fields: dict[str, Any] = {"amount": f"{i + 1}.{i % 10}", "currency": ("USD", "FRF")[i % 2]}
        if dates[i % len(dates)]:
            fields["date"] = dates[i % len(dates)]
        if i % 3:
            claims.append(books.entry("disbursement", fund, f"Bulletin {i % 4}", approved=False,
                                      recipient=people[i % 3], **fields))
        else:
            claims.append(books.entry("donation", fund, f"Bulletin {i % 4}", approved=False,
                                      donor=f"Group {i}", **fields))
    approve_all(api, claims)

    whole = books.ledger(fund, limit=1000)
    assert whole["next"] is None and whole["count"] == len(whole["entries"]) == 23
    for size in (1, 5, 7, 23):
        got = pages(books, fund, limit=size)
        assert len(got) == -(-23 // size)
        assert all(len(p["entries"]) <= size for p in got)
        assert [e["claim"] for p in got for e in p["entries"]] == [e["claim"] for e in whole["entries"]]
        assert all(figures(p) == figures(whole) for p in got)
    order = [(e.get("earliest") is None, e.get("earliest") or "", e["claim"]) for e in whole["entries"]]
    assert order == sorted(order) and sorted(e["claim"] for e in whole["entries"]) == sorted(claims)
    assert whole["undated"] == sum(1 for e in whole["entries"] if "earliest" not in e) == 6

    # reviewers' pages (totals summed on demand) page the same way
    assert [e["claim"] for p in pages(books, fund, "bob", include="pending", limit=4)
            for e in p["entries"]] == [e["claim"] for e in whole["entries"]]
    # the first page is the default: 100 entries
    assert books.ledger(fund)["entries"] == whole["entries"]


def test_a_cursor_keeps_its_place_while_entries_are_added(api: Api, books: Books) -> None:
    fund = books.fund()
    first = [books.entry("donation", fund, "B", donor="g", amount="1", currency="USD", date=d)
             for d in ("1925", "1926", "1927")]
    page = books.ledger(fund, limit=2)
    assert [e["claim"] for e in page["entries"]] == first[:2]
    earlier = books.entry("donation", fund, "B", donor="g", amount="2", currency="USD", date="1924")
    later = books.entry("donation", fund, "B", donor="g", amount="3", currency="USD", date="1928")
    rest = books.ledger(fund, limit=2, after=page["next"])
    assert [e["claim"] for e in rest["entries"]] == [first[2], later]
    assert earlier not in {e["claim"] for e in rest["entries"]}
    assert rest["totals"]["USD"]["received"] == "8" and rest["count"] == 5


@pytest.mark.parametrize("params", [{"after": "garbage"}, {"after": "1926-05-01"},
                                    {"limit": 0}, {"limit": 1001}, {"limit": "ten"}])
def test_bad_cursors_and_page_sizes_are_refused(api: Api, books: Books, params: dict) -> None:
    fund = books.fund()
    body = assert_problem(api.get(f"/funds/{fund}/ledger", **params), 422, next(iter(params)))
    if "after" in params:
        assert "`next` of the previous page" in body["detail"]


def test_stored_totals_follow_reviews_and_corrections(api: Api, books: Books) -> None:
    fund = books.fund()
    p = api.person("Recipient", books.source)
    books.entry("donation", fund, "Bulletin 1", donor="group", amount="100", currency="USD", date="1926")

    def figures_now() -> tuple[dict, list, dict, dict, int]:
        body = books.ledger(fund)
        return (body["totals"], body["per_recipient"], body["per_period"], body["per_report"],
                body["count"])

    # a pending entry counts nowhere; approved, it counts everywhere
    old = books.entry("disbursement", fund, "Bulletin 2", approved=False, recipient=p,
                      amount="25.00", currency="USD", date="1927-05")
    assert figures_now()[0] == {"USD": totals("100", "0", "100")}
    approve_all(api, [old])
    assert figures_now() == (
        {"USD": totals("100", "25.00", "75.00")},
        [{"recipient": {"id": p, "label": "Recipient"}, "sent": {"USD": "25.00"}}],
        {"1926": {"USD": totals("100", "0", "100")}, "1927": {"USD": totals("0", "25.00", "-25.00")}},
        {"Bulletin 1": {"USD": totals("100", "0", "100")},
         "Bulletin 2": {"USD": totals("0", "25.00", "-25.00")}}, 2)
    with_old = figures_now()

    # contested: out of the totals (nothing left at "0.00": the row is gone); approved again: back
    assert api.post(f"/claims/{old}/contest", {"reason": "which bulletin?"}, "carol").status_code == 200
    assert figures_now() == ({"USD": totals("100", "0", "100")}, [],
                             {"1926": {"USD": totals("100", "0", "100")}},
                             {"Bulletin 1": {"USD": totals("100", "0", "100")}}, 1)
    assert api.post(f"/claims/{old}/approve", {"reason": "checked"}, "bob").status_code == 200
    assert figures_now() == with_old

    # superseded by an approved correction: the correction counts instead
    correction = books.entry("disbursement", fund, "Bulletin 3", approved=False, who="dave",
                             recipient=p, amount="52.5", currency="USD", date="1928",
                             supersedes=old)
    assert figures_now() == with_old
    approve_all(api, [correction])
    assert figures_now() == (
        {"USD": totals("100", "52.5", "47.5")},
        [{"recipient": {"id": p, "label": "Recipient"}, "sent": {"USD": "52.5"}}],
        {"1926": {"USD": totals("100", "0", "100")}, "1928": {"USD": totals("0", "52.5", "-52.5")}},
        {"Bulletin 1": {"USD": totals("100", "0", "100")},
         "Bulletin 3": {"USD": totals("0", "52.5", "-52.5")}}, 2)

    # the correction contested: the old entry counts again, exactly as before
    assert api.post(f"/claims/{correction}/contest", {"reason": "misread"}, "carol").status_code == 200
    assert figures_now() == with_old
    # rejected for good: still the old entry
    assert api.post(f"/claims/{correction}/reject", {"reason": "misread"}, "bob").status_code == 200
    assert figures_now() == with_old
    # the stored totals are what summing the entries gives (a reviewer's include=pending,
    # with nothing pending, sums them on demand)
    public, reviewed = books.ledger(fund), books.ledger(fund, "bob", include="pending")
    assert figures(public) == figures(reviewed)


def test_decimals_are_kept_as_the_most_precise_amount_gives_them(api: Api, books: Books) -> None:
    fund = books.fund()
    a = books.entry("donation", fund, "B", donor="g", amount="10", currency="SUR")
    b = books.entry("donation", fund, "B", donor="g", amount="6.25", currency="SUR")
    c = books.entry("donation", fund, "B", donor="g", amount="0.1250", currency="SUR")
    assert books.ledger(fund)["totals"]["SUR"] == totals("16.3750", "0", "16.3750")
    assert api.post(f"/claims/{c}/contest", {"reason": "?"}, "carol").status_code == 200
    assert books.ledger(fund)["totals"]["SUR"] == totals("16.25", "0", "16.25")
    assert api.post(f"/claims/{b}/contest", {"reason": "?"}, "carol").status_code == 200
    assert books.ledger(fund)["totals"]["SUR"] == totals("10", "0", "10")
    assert api.post(f"/claims/{a}/contest", {"reason": "?"}, "carol").status_code == 200
    body = books.ledger(fund)
    assert (body["totals"], body["per_period"], body["count"]) == ({}, {}, 0)


def test_every_reference_is_labelled_and_merged_persons_show_their_survivor(api: Api, books: Books) -> None:
    fund = books.fund("Alexander Berkman Fund of Chicago")
    survivor = api.person("Klichevsky", books.source)
    merged = api.person("Klichevskii", books.source)
    correspondent = api.person("N. (Central Russia)", books.source, partial=True)
    donor = api.person("Mollie Steimer", books.source)
    books.entry("disbursement", fund, "Bulletin 1", recipient=survivor, amount="5", currency="USD",
                date="1926")
    books.entry("disbursement", fund, "Bulletin 2", recipient=merged, via=correspondent,
                amount="7.50", currency="USD", date="1927")
    books.entry("donation", fund, "Bulletin 2", donor=donor, amount="20", currency="USD", date="1925")
    before = books.ledger(fund)
    assert [r["recipient"]["label"] for r in before["per_recipient"]] == ["Klichevskii", "Klichevsky"]
    assert before["entries"][0]["counterparty"] == {"id": donor, "label": "Mollie Steimer"}

    assert api.post(f"/persons/{merged}/merge", {"into": survivor, "reason": "same man"},
                    "bob").status_code == 200
    body = books.ledger(fund)
    assert body["per_recipient"] == [{"recipient": {"id": survivor, "label": "Klichevsky"},
                                      "sent": {"USD": "12.50"}}]
    for e in body["entries"]:
        assert e["fund"] == {"id": fund, "label": "Alexander Berkman Fund of Chicago"}
        assert e["citation"]["source"] == {"id": books.source, "label": "Bulletin of the Relief Fund"}
        assert e["counterparty"]["label"] and e["counterparty"]["id"]
    assert [e["counterparty"]["id"] for e in body["entries"]] == [donor, survivor, survivor]
    assert body["entries"][2]["via"] == {"id": correspondent, "label": "N. (Central Russia)"}
    assert body["totals"] == before["totals"]

    aid = api.get(f"/persons/{merged}/aid").json()
    assert aid["next"] is None
    assert [i["counterparty"] for i in aid["items"]] == [{"id": survivor, "label": "Klichevsky"}] * 2
    assert {i["reached"] for i in aid["items"]} == {"direct"}

    rows = api.get(f"/funds/{fund}/ledger", format="csv").text.splitlines()
    assert rows[0].split(",")[8:12] == ["counterparty", "counterparty_label", "via", "via_label"]
    assert f"{survivor},Klichevsky,{correspondent},N. (Central Russia)" in rows[3]
    assert rows[1].split(",")[13:16] == [books.source, "Bulletin of the Relief Fund", "Bulletin 2"]
