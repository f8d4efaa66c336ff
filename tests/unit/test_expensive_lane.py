"""The expensive-read lane's counter (service/lane.py: PerClient) and the review-history fold
an as_of document is computed with (events/claim_rules.py: review_state), as pure functions."""

from __future__ import annotations

import pytest

from starosta.events.claim_rules import review_state
from starosta.service.lane import CHEAP_PAGE, ClientBusy, LaneFull, PerClient, is_expensive_page


def test_a_client_past_its_share_is_refused_while_another_is_admitted() -> None:
    lane = PerClient(per_client=2, threads=2, queue=4)
    lane.take("203.0.113.7")
    lane.take("203.0.113.7")
    with pytest.raises(ClientBusy) as refused:
        lane.take("203.0.113.7")
    assert refused.value.limit == 2 and refused.value.retry_after >= 1
    assert "STAROSTA_EXPENSIVE_PER_CLIENT=2" in str(refused.value)
    lane.take("198.51.100.1")  # another client still gets in
    assert lane.held("203.0.113.7") == 2 and lane.held("198.51.100.1") == 1 and lane.admitted == 3
    lane.give("203.0.113.7")
    lane.take("203.0.113.7")  # a share given back is taken again


def test_the_lane_full_is_server_capacity_not_the_clients() -> None:
    lane = PerClient(per_client=2, threads=1, queue=2)
    for client in ("a", "b", "c"):
        lane.take(client)
    with pytest.raises(LaneFull) as full:
        lane.take("d")  # d holds nothing: the lane, not its share, is full
    assert "STAROSTA_EXPENSIVE_QUEUE" in str(full.value)
    lane.give("b")
    lane.take("d")
    tight = PerClient(per_client=1, threads=1, queue=0)
    tight.take("x")
    with pytest.raises(ClientBusy):  # past its share and the lane full: its share is named
        tight.take("x")


def test_memory_is_bounded_by_what_is_admitted() -> None:
    lane = PerClient(per_client=2, threads=2, queue=3)
    for n in range(1000):  # a thousand clients, one read each, each finished before the next
        lane.take(f"10.0.{n // 256}.{n % 256}")
        lane.give(f"10.0.{n // 256}.{n % 256}")
    assert len(lane) == 0 and lane.admitted == 0
    for n in range(5):
        lane.take(f"c{n}")
    with pytest.raises(LaneFull):
        lane.take("c5")
    assert len(lane) == 5 == lane.capacity  # never more keys than reads admitted
    lane.give("never-admitted")  # a stray give changes nothing
    assert lane.admitted == 5


def test_pages_over_a_hundred_rows_are_expensive() -> None:
    assert CHEAP_PAGE == 100
    assert not is_expensive_page(100) and is_expensive_page(101) and is_expensive_page(1000)


@pytest.mark.parametrize("actions, expected", [
    ([], ("", "normal", 0)),
    (["submit"], ("pending", "normal", 1)),
    (["submit", "approve"], ("approved", "normal", 2)),
    (["submit", "contest"], ("contested", "normal", 2)),  # on a pending claim: private
    (["submit", "approve", "contest"], ("disputed", "normal", 3)),  # on an approved one: public
    (["submit", "approve", "rank:preferred", "contest"], ("disputed", "preferred", 4)),
    (["submit", "approve", "contest", "approve"], ("approved", "normal", 4)),  # dismissed
    (["submit", "approve", "contest", "reject"], ("rejected", "normal", 4)),  # upheld
    (["submit", "retract"], ("retracted", "normal", 2)),
    (["submit", "approve", "rank:deprecated", "rank:normal"], ("approved", "normal", 4)),
])
def test_review_state_folds_the_history_as_the_events_fold(actions, expected) -> None:
    assert review_state(actions) == expected
