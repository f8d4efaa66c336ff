"""The /health rule (service.health.HeadPing) as a pure function of its answers and a clock:
fresh while the database answered within `stale_after` seconds, stale after, with the error's
type (never its text) remembered; the writer's commits count as answers."""

from __future__ import annotations

import pytest

from starosta.service.health import HeadPing, Pulse


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_fresh_within_the_bound_and_stale_after() -> None:
    # given a database at head 7, pinged once
    clock, heads = Clock(), iter([7, 9])
    ping = HeadPing(lambda: next(heads), stale_after=5.0, clock=clock)
    ping.ping()
    # when up to 5 seconds pass, then more
    clock.now += 5.0
    assert ping.pulse() == Pulse(True, 7, 5.0)
    clock.now += 0.5
    assert ping.pulse() == Pulse(False, 7, 5.5)
    # then a new answer makes it fresh again, with the new head
    ping.ping()
    assert ping.pulse() == Pulse(True, 9, 0.0)


def test_never_answered_is_not_fresh() -> None:
    assert HeadPing(lambda: 1, clock=Clock()).pulse() == Pulse(False, None, None)


def test_a_failing_ping_keeps_the_last_answer_aging_and_names_only_the_error_type() -> None:
    clock, answers = Clock(), [3]

    def head() -> int:
        if not answers:
            raise OSError("connection to postgresql://app:SECRET@db failed")
        return answers.pop()

    ping = HeadPing(head, stale_after=2.0, clock=clock)
    ping.ping()
    clock.now += 3.0
    ping.ping()  # fails
    pulse = ping.pulse()
    assert (pulse.fresh, pulse.head, pulse.error) == (False, 3, "OSError")
    assert "SECRET" not in repr(pulse)


def test_the_writers_commit_counts_as_an_answer_and_never_lowers_the_head() -> None:
    clock = Clock()
    ping = HeadPing(lambda: 10, stale_after=1.0, clock=clock)
    ping.ping()
    clock.now += 30.0
    ping.saw(12)
    assert ping.pulse() == Pulse(True, 12, 0.0)
    ping.saw(11)  # a commit answered after a later one
    assert ping.pulse().head == 12


@pytest.mark.parametrize("every", [0.01])
def test_the_thread_pings_until_closed(every: float) -> None:
    import threading

    pinged = threading.Semaphore(0)

    def head() -> int:
        pinged.release()
        return 1

    ping = HeadPing(head, every=every)
    ping.start()
    for _ in range(3):  # the first on start, then the thread's
        assert pinged.acquire(timeout=5)
    ping.close()
    assert ping._thread is None
