"""The rules that compare actors compare accounts (issue 18, finding 3): an account is denoted
in the log by its id (new rows) or by its name (rows written before accounts), and every rule
takes all of a caller's aliases, in one place (events.review.check, projections.rules)."""

from __future__ import annotations

import pytest
from starosta.events.errors import Forbidden
from starosta.events.review import ClaimState, check
from starosta.projections.rules import Viewer, may_see
from starosta.service.domain.accounts import Directory, is_account_id, pseudonymised_data

BOB = ("A-7K2M9Q4G", "bob")  # bob's account id and his name
OLGA = ("A-4G7K2M9Q", "olga")


@pytest.mark.parametrize("contributor", BOB)
def test_nobody_reviews_their_own_claim_under_either_alias(contributor: str) -> None:
    state = ClaimState(claim_id="C-1", status="pending", contributor=contributor)
    with pytest.raises(Forbidden, match="own claim"):
        check(state, "approve", BOB, True)
    check(state, "approve", OLGA, True)  # another account may


@pytest.mark.parametrize("contester", BOB)
def test_the_contester_may_not_resolve_under_either_alias(contester: str) -> None:
    state = ClaimState(claim_id="C-1", status="contested", contributor="A-0000000X",
                       contested_by=contester)
    with pytest.raises(Forbidden, match="contested"):
        check(state, "reject", BOB, True)
    check(state, "reject", OLGA, True)


@pytest.mark.parametrize("contributor", BOB)
def test_only_the_contributor_retracts_and_sees_a_pending_claim(contributor: str) -> None:
    state = ClaimState(claim_id="C-1", status="pending", contributor=contributor)
    check(state, "retract", BOB, False)
    with pytest.raises(Forbidden):
        check(state, "retract", OLGA, False)
    assert may_see(Viewer(name="bob", account="A-7K2M9Q4G"), "pending", contributor)
    assert not may_see(Viewer(name="olga", account="A-4G7K2M9Q"), "pending", contributor)
    assert not may_see(Viewer(), "pending", contributor)


def test_readers_see_account_ids_reviewers_names() -> None:
    people = Directory(names={"A-7K2M9Q4G": "bob"}, ids={"bob": "A-7K2M9Q4G"})
    reader, reviewer = Viewer(), Viewer(name="olga", reviewer=True)
    for value in BOB:
        assert people.shown(value, reader) == "A-7K2M9Q4G"
        assert people.shown(value, reviewer) == "bob"
    assert people.shown("nobody-known", reader) is None  # never the name itself
    data, changed = pseudonymised_data({"contributor": "bob", "claim": {}}, people)
    assert data == {"contributor": "A-7K2M9Q4G", "claim": {}} and changed
    assert pseudonymised_data({"reviewer": "A-7K2M9Q4G"}, people) == ({"reviewer": "A-7K2M9Q4G"}, False)
    assert is_account_id("A-7K2M9Q4G") and not is_account_id("A-7K2M9Q4I") and not is_account_id("bob")


def test_principal_roles_rank_in_order() -> None:
    """Given a principal of each role, when asked whether it holds a role, then it holds its own
    and every lower one (contributor < reviewer < admin), and an anonymous principal none."""
    from starosta.service.domain.access import ANONYMOUS, RANKS, Principal

    order = ["contributor", "reviewer", "admin"]
    assert sorted(RANKS, key=RANKS.__getitem__) == order
    for i, role in enumerate(order):
        who = Principal(token_id="T-1", name="x", role=role)
        assert [who.has(r) for r in order] == [j <= i for j in range(len(order))]
    assert not any(ANONYMOUS.has(r) for r in order)
