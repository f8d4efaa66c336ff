"""The ledger's rules as pure functions (events/money.py): which amounts are exact, and whether
colony aid reached a member at its date."""

from __future__ import annotations

import datetime as dt

import pytest

from starosta.events.kinds import AmountRange
from starosta.events.money import amount_parts, membership_reach


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def year(y: int) -> tuple[dt.date, dt.date]:
    return dt.date(y, 1, 1), dt.date(y, 12, 31)


def test_amount_parts() -> None:
    assert amount_parts("25.00", False) == ("25.00", None, None)
    assert amount_parts("100", True) == (None, "100", "100")  # "about": bounds as stated
    assert amount_parts(AmountRange(min="10", max="12"), False) == (None, "10", "12")
    assert amount_parts(AmountRange(min="10", max="12"), True) == (None, "10", "12")
    assert amount_parts(None, True) == (None, None, None)


@pytest.mark.parametrize("start, end, date, expected", [
    (year(1920), year(1935), year(1927), "certain"),          # covers the whole year
    (year(1930), None, year(1927), None),                     # joined after it was sent
    (year(1920), year(1925), year(1927), None),               # left before
    (year(1927), year(1935), (d("1927-06-01"), d("1927-06-01")), "possible"),  # joined that year
    (year(1920), None, year(1927), "possible"),               # no end known: perhaps left
    (None, None, year(1927), "possible"),                     # no dates at all
    (year(1920), year(1935), None, "possible"),               # undated remittance
    (year(1920), year(1935), (None, d("1925-12-31")), "possible"),  # "before 1926"
    ((d("1926-01-01"), d("1926-12-31")), (d("1926-01-01"), d("1926-12-31")),
     (d("1926-06-01"), d("1926-06-01")), "possible"),         # a one-year membership, inside
])
def test_membership_reach(start, end, date, expected) -> None:
    assert membership_reach(start, end, date) == expected


def test_certain_needs_both_ends_inside() -> None:
    joined, left = (d("1926-03-01"), d("1926-03-01")), (d("1926-09-30"), d("1926-09-30"))
    assert membership_reach(joined, left, (d("1926-03-01"), d("1926-09-30"))) == "certain"
    assert membership_reach(joined, left, (d("1926-02-28"), d("1926-09-30"))) == "possible"
    assert membership_reach(joined, left, (d("1926-10-01"), d("1926-10-01"))) is None
