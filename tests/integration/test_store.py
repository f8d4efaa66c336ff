"""The event store on a real SQLite file: appends, concurrency, idempotency, reads."""

from __future__ import annotations

import sqlite3

import pytest

from starosta.events.chain import GENESIS, verify_connection
from starosta.events.registry import PersonRegistered, PlaceRegistered
from starosta.events.store import (
    AppendRequest,
    ConcurrencyError,
    GroupCommitter,
    IdempotencyConflict,
    Job,
    Metadata,
    NewEvent,
    SQLiteEventStore,
)


def person(n: int, label: str = "Vicente Monclús Guallar") -> PersonRegistered:
    return PersonRegistered(person_id=f"P{n}", label=label)


def test_empty_log_has_genesis_head(store: SQLiteEventStore) -> None:
    assert store.head().position == 0
    assert store.head().hash == GENESIS
    assert list(store.read_log()) == []


def test_append_assigns_gap_free_positions_and_versions(store: SQLiteEventStore) -> None:
    assert store.append("person-1", [person(1)], expected_version=0) == [1]
    assert store.append("person-2", [person(2), person(2, "Mollie Steimer")], 0) == [2, 3]
    assert store.append("person-1", [person(1, "Monclús")], expected_version=1) == [4]
    log = list(store.read_log())
    assert [e.position for e in log] == [1, 2, 3, 4]
    assert [(e.stream_id, e.version) for e in log] == [
        ("person-1", 1), ("person-2", 1), ("person-2", 2), ("person-1", 2)]
    assert store.stream_version("person-1") == 2


def test_wrong_expected_version_writes_nothing(store: SQLiteEventStore) -> None:
    store.append("person-1", [person(1)], 0)
    with pytest.raises(ConcurrencyError) as info:
        store.append("person-1", [person(1, "x"), person(1, "y")], expected_version=0)
    assert info.value.actual == 1 and info.value.expected == 0
    assert store.head().position == 1
    assert [e.event.label for e in store.read_stream("person-1")] == ["Vicente Monclús Guallar"]


def test_atomic_append_across_streams_is_all_or_nothing(store: SQLiteEventStore) -> None:
    store.append("place-1", [PlaceRegistered(place_id="PL1", label="Butyrka", kind="prison")], 0)
    ok = store.append_atomic([
        AppendRequest("person-1", [NewEvent(person(1))], 0),
        AppendRequest("place-1", [NewEvent(PlaceRegistered(place_id="PL1", label="Butyrki",
                                                           kind="prison"))], 1),
    ])
    assert ok == [[2], [3]]
    with pytest.raises(ConcurrencyError):
        store.append_atomic([
            AppendRequest("person-2", [NewEvent(person(2))], 0),  # fine alone
            AppendRequest("place-1", [NewEvent(PlaceRegistered(place_id="PL1", label="Lubyanka",
                                                               kind="prison"))], 1),  # stale
        ])
    assert store.head().position == 3
    assert store.stream_version("person-2") == 0


def test_idempotent_retry_returns_the_original_position(store: SQLiteEventStore) -> None:
    first = NewEvent(person(1))
    assert store.append("person-1", [first], 0) == [1]
    store.append("person-2", [person(2)], 0)
    # The retry repeats the stale expected version too: it must still answer, not conflict.
    assert store.append("person-1", [first], 0) == [1]
    assert store.head().position == 2


def test_partial_retry_is_refused(store: SQLiteEventStore) -> None:
    a, b = NewEvent(person(1)), NewEvent(person(1, "b"))
    store.append("person-1", [a], 0)
    with pytest.raises(IdempotencyConflict):
        store.append("person-1", [a, b], 1)
    with pytest.raises(IdempotencyConflict):
        store.append("person-9", [a], 0)
    assert store.head().position == 1


def test_metadata_and_record_time_are_stored(store: SQLiteEventStore) -> None:
    store.append("person-1", [person(1)], 0, Metadata(actor="reviewer-1", request_id="req-7"))
    store.append("person-1", [person(1)], 1)
    first, second = store.read_log()
    assert (first.actor, first.request_id) == ("reviewer-1", "req-7")
    assert first.recorded_at.endswith("Z")
    assert second.recorded_at >= first.recorded_at


def test_read_stream_from_version_and_up_to_position(store: SQLiteEventStore) -> None:
    for n in range(5):
        store.append("person-1", [person(1, f"name {n}")])
    store.append("person-2", [person(2)])
    assert [e.version for e in store.read_stream("person-1", from_version=3)] == [3, 4, 5]
    assert [e.version for e in store.read_stream("person-1", up_to_position=2)] == [1, 2]
    assert store.read_stream("nobody") == []


def test_read_log_pages_without_loading_the_whole_log(store: SQLiteEventStore) -> None:
    store.append_atomic([AppendRequest(f"person-{n}", [NewEvent(person(n))], 0)
                         for n in range(2500)])
    assert [e.position for e in store.read_log(after=2490)] == list(range(2491, 2501))
    assert [e.position for e in store.read_log(after=10, limit=3)] == [11, 12, 13]
    assert sum(1 for _ in store.read_log()) == 2500


def test_group_commit_batches_jobs_and_isolates_a_failing_one(store: SQLiteEventStore) -> None:
    store.append("person-0", [person(0)], 0)
    writer = GroupCommitter(store)
    try:
        futures = [writer.submit(Job([AppendRequest(f"person-{n}", [NewEvent(person(n))], 0)]))
                   for n in range(1, 300)]
        stale = writer.submit(Job([AppendRequest("person-0", [NewEvent(person(0))], 0)]))
        positions = sorted(f.result(timeout=30)[0][0] for f in futures)
        with pytest.raises(ConcurrencyError):
            stale.result(timeout=30)
    finally:
        writer.close()
    assert positions == list(range(2, 301))
    assert writer.batches < writer.jobs  # several jobs shared a transaction
    assert verify_connection(store.reader()).ok


def test_after_hook_runs_in_the_same_transaction(store: SQLiteEventStore, db_path: str) -> None:
    conn = store.reader()
    store._writer.execute("CREATE TABLE seen (position INTEGER)")  # a projection's table

    def project(c: sqlite3.Connection, envelopes) -> None:
        c.executemany("INSERT INTO seen VALUES (?)", [(e.position,) for e in envelopes])

    def broken(c: sqlite3.Connection, envelopes) -> None:
        project(c, envelopes)
        raise RuntimeError("projection bug")

    store.append_atomic([AppendRequest("person-1", [NewEvent(person(1))], 0)], after=project)
    with pytest.raises(RuntimeError):
        store.append_atomic([AppendRequest("person-2", [NewEvent(person(2))], 0)], after=broken)
    assert conn.execute("SELECT position FROM seen").fetchall() == [(1,)]
    assert store.head().position == 1  # the event whose projection failed was not kept


def test_chain_links_each_row_to_the_previous(store: SQLiteEventStore) -> None:
    for n in range(10):
        store.append(f"person-{n}", [person(n)], 0)
    verdict = verify_connection(store.reader())
    assert verdict.ok and verdict.count == 10
    assert verdict.head_hash == store.head().hash
