"""The event store contract: what every `EventStore` implementation must do, written once.

The way pyeventsourcing ships its recorder test cases (`eventsourcing/tests/persistence.py`,
run by `test_sqlite.py`, `test_postgres.py`, `test_popo.py`): `EventStoreContract` holds the
tests and is not collected itself; each implementation subclasses it in its own
`test_<backend>_store.py` and provides one fixture, `backend`, returning a `Backend` (below).
The tests speak only the interface of `starosta.events.store` and the portable SQL an
`after` hook runs through its transaction handle (no parameters, so no placeholder style).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from collections.abc import Callable, Iterator
from typing import Protocol

import msgspec
import pytest

from starosta.events.chain import GENESIS, HASHED_COLUMNS, STORED_COLUMNS, chain_hash, row_digest
from starosta.events.registry import PersonRegistered, PlaceRegistered
from starosta.events.store import (
    AppendRequest,
    ConcurrencyError,
    DuplicateKey,
    EventStore,
    GroupCommitter,
    Head,
    IdempotencyConflict,
    Job,
    LogNotEmpty,
    Metadata,
    NewEvent,
    StoreError,
    StoredRow,
)

TIMEOUT = 60  # seconds: the bound on every wait in this suite


class Backend(Protocol):
    """What an implementation gives the suite."""

    def new_store(self) -> EventStore:
        """Return a store over a fresh, empty database (the suite closes it)."""

    def second_handle(self, store: EventStore) -> EventStore:
        """Return another store over the same database as `store`, with its own
        connections, as a second process would open it (the suite closes it)."""

    def tamper(self, store: EventStore, position: int, column: str, value: object) -> None:
        """Change one stored column of one row behind the store's back, as an attacker with
        write access to the database would (bypassing its append-only guards)."""

    def forbidden_writes(self, store: EventStore) -> dict[str, Callable[[], object]]:
        """Return ways an ordinary client of the database might rewrite the log (update a
        row, delete rows, replace a row by inserting over it), each to be refused with an
        error saying the log is append-only."""


def person(n: int, label: str = "Vicente Monclús Guallar") -> PersonRegistered:
    return PersonRegistered(person_id=f"P{n}", label=label)


def place(n: int, label: str = "Butyrka") -> PlaceRegistered:
    return PlaceRegistered(place_id=f"PL{n}", label=label, kind="prison")


def request(stream: str, *events, expected: int | None = None) -> AppendRequest:
    return AppendRequest(stream, [e if isinstance(e, NewEvent) else NewEvent(e) for e in events],
                         expected)


def rows(store: EventStore) -> list[StoredRow]:
    return list(store.read_rows())


def later(stamp: str, microseconds: int) -> str:
    """Return `stamp` moved by `microseconds`, in the stored form."""
    moment = dt.datetime.fromisoformat(stamp) + dt.timedelta(microseconds=microseconds)
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


class EventStoreContract:
    """The contract suite. Subclass it with a `backend` fixture to run it."""

    @pytest.fixture
    def backend(self) -> Backend:
        raise NotImplementedError("an implementation's test class provides the `backend` fixture")

    @pytest.fixture
    def stores(self, backend: Backend) -> Iterator[Callable[[], EventStore]]:
        """A factory of fresh stores, all closed at the end of the test."""
        opened: list[EventStore] = []

        def make() -> EventStore:
            opened.append(backend.new_store())
            return opened[-1]

        yield make
        for s in reversed(opened):
            s.close()

    @pytest.fixture
    def store(self, stores: Callable[[], EventStore]) -> EventStore:
        return stores()

    @pytest.fixture
    def handles(self, backend: Backend) -> Iterator[Callable[[EventStore], EventStore]]:
        """A factory of second handles on a store's database, closed at the end of the test."""
        opened: list[EventStore] = []

        def make(store: EventStore) -> EventStore:
            opened.append(backend.second_handle(store))
            return opened[-1]

        yield make
        for s in opened:
            s.close()

    # -- the interface and the empty log -------------------------------------------------

    def test_implements_the_interface(self, store: EventStore) -> None:
        assert isinstance(store, EventStore)

    def test_empty_log_has_the_genesis_head(self, store: EventStore) -> None:
        assert store.head() == Head(0, GENESIS, None)
        assert list(store.read_log()) == [] and list(store.read_rows()) == []
        assert store.read_stream("P-1") == [] and store.stream_version("P-1") == 0
        verdict = store.verify()
        assert verdict.ok and verdict.count == 0 and verdict.head_hash == GENESIS
        assert store.position_at("2999-01-01T00:00:00Z") == (0, None)
        assert store.recorded_at(1) is None

    # -- positions and versions ----------------------------------------------------------

    def test_positions_are_gap_free_in_commit_order(self, store: EventStore) -> None:
        assert store.append("P-1", [person(1)], expected_version=0) == [1]
        assert store.append("P-2", [person(2), person(2, "Mollie Steimer")], 0) == [2, 3]
        with pytest.raises(ConcurrencyError):  # a refused append leaves no gap
            store.append("P-1", [person(1, "x")], expected_version=0)
        assert store.append("P-1", [person(1, "Monclús")], expected_version=1) == [4]
        log = list(store.read_log())
        assert [e.position for e in log] == [1, 2, 3, 4]
        assert [(e.stream_id, e.version) for e in log] == [
            ("P-1", 1), ("P-2", 1), ("P-2", 2), ("P-1", 2)]
        assert store.stream_version("P-1") == 2 and store.stream_version("P-2") == 2

    def test_concurrent_appends_to_one_stream_get_unique_versions(
            self, store: EventStore, handles: Callable[[EventStore], EventStore]) -> None:
        writers = [store, handles(store), handles(store)]
        errors: list[BaseException] = []

        def append(w: EventStore, n: int) -> None:
            try:
                for i in range(20):
                    w.append("P-1", [person(1, f"writer {n} name {i}")])  # no expected version
            except BaseException as exc:  # surfaced below
                errors.append(exc)

        threads = [threading.Thread(target=append, args=(writers[n % 3], n)) for n in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(TIMEOUT)
        assert not errors, errors
        stream = store.read_stream("P-1")
        assert [e.version for e in stream] == list(range(1, 121))
        assert [e.position for e in stream] == list(range(1, 121))
        assert store.verify().ok

    # -- optimistic concurrency ----------------------------------------------------------

    def test_wrong_expected_version_writes_nothing(self, store: EventStore) -> None:
        store.append("P-1", [person(1)], 0)
        with pytest.raises(ConcurrencyError) as info:
            store.append("P-1", [person(1, "x"), person(1, "y")], expected_version=0)
        assert (info.value.stream_id, info.value.expected, info.value.actual) == ("P-1", 0, 1)
        with pytest.raises(ConcurrencyError):
            store.append("P-1", [person(1, "z")], expected_version=2)
        assert store.head().position == 1
        assert [e.event.label for e in store.read_stream("P-1")] == ["Vicente Monclús Guallar"]

    def test_of_writers_racing_for_one_version_exactly_one_wins(
            self, store: EventStore, handles: Callable[[EventStore], EventStore]) -> None:
        store.append("P-1", [person(1)], 0)
        writers = [store, handles(store), handles(store), handles(store)]
        barrier = threading.Barrier(len(writers) * 3)
        outcomes: list[object] = []

        def race(w: EventStore, n: int) -> None:
            barrier.wait(TIMEOUT)
            try:
                outcomes.append(w.append("P-1", [person(1, f"contender {n}")], expected_version=1))
            except ConcurrencyError as exc:
                outcomes.append(exc)

        threads = [threading.Thread(target=race, args=(writers[n % len(writers)], n))
                   for n in range(len(writers) * 3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(TIMEOUT)
        assert len(outcomes) == len(threads)
        assert [o for o in outcomes if not isinstance(o, ConcurrencyError)] == [[2]]
        assert store.head().position == 2 and store.stream_version("P-1") == 2
        assert store.verify().ok

    def test_an_atomic_append_across_streams_is_all_or_nothing(self, store: EventStore) -> None:
        store.append("PL-1", [place(1)], 0)
        assert store.append_atomic([request("P-1", person(1), expected=0),
                                    request("PL-1", place(1, "Butyrki"), expected=1)]) == [[2], [3]]
        with pytest.raises(ConcurrencyError):
            store.append_atomic([
                request("P-2", person(2), expected=0),  # fine alone
                request("PL-1", place(1, "Lubyanka"), expected=1),  # stale
            ])
        assert store.head().position == 3
        assert store.stream_version("P-2") == 0 and store.stream_version("PL-1") == 2

    # -- expected versions of streams a job reads but does not write -----------------------

    def test_a_job_expecting_a_stream_it_does_not_write_fails_when_that_stream_moved(
            self, store: EventStore) -> None:
        store.append("P-1", [person(1)], 0)
        store.append("P-2", [person(2)], 0)
        assert store.append_atomic([request("P-1", person(1, "merged"), expected=1)],
                                   expects={"P-2": 1, "P-3": 0}) == [[3]]
        with pytest.raises(ConcurrencyError) as info:  # P-2 moved since it was read at 0
            store.append_atomic([request("P-1", person(1, "again"), expected=2)],
                                expects={"P-2": 0, "P-3": 0})
        assert (info.value.stream_id, info.value.expected, info.value.actual) == ("P-2", 0, 1)
        with pytest.raises(ConcurrencyError):  # a stream that does not exist is at version 0
            store.append_atomic([request("P-1", person(1, "again"), expected=2)],
                                expects={"P-3": 1})
        # checked against the log before the job: a stream it writes and expects alike
        assert store.append_atomic([request("P-2", person(2, "x"), expected=1)],
                                   expects={"P-2": 1}) == [[4]]
        assert store.head().position == 4 and store.stream_version("P-3") == 0
        assert store.verify().ok

    def test_a_retry_answers_whatever_the_streams_it_expected(self, store: EventStore) -> None:
        store.append("P-2", [person(2)], 0)
        judged = NewEvent(person(1, "judged"))
        assert store.append_atomic([request("P-1", judged, expected=0)], expects={"P-2": 1}) == [[2]]
        store.append("P-2", [person(2, "moved")], 1)
        # the same events again: the stored positions, though P-2 has moved since
        assert store.append_atomic([request("P-1", judged, expected=0)], expects={"P-2": 1}) == [[2]]
        assert store.head().position == 3

    def test_group_committed_jobs_see_what_earlier_jobs_of_the_batch_wrote(
            self, store: EventStore) -> None:
        """Two jobs in one transaction, each writing one stream and expecting the other's
        version (two opposite judgements): the first commits, the second is refused."""
        results = store.commit_jobs([
            Job([request("A", person(1), expected=0)], expects={"B": 0}),
            Job([request("B", person(2), expected=0)], expects={"A": 0}),
            Job([request("C", person(3), expected=0)], expects={"D": 0}),
        ])
        assert results[0] == [[1]] and results[2] == [[2]]
        assert isinstance(results[1], ConcurrencyError) and results[1].stream_id == "A"
        assert store.stream_version("B") == 0 and store.verify().ok

    def test_of_jobs_racing_over_streams_they_all_read_exactly_one_wins(
            self, store: EventStore, handles: Callable[[EventStore], EventStore]) -> None:
        """Writers each append to a stream of their own while expecting every other one at
        version 0 (write skew: no two write the same stream), through group commit on several
        handles (as several servers): exactly one commits, every time."""
        streams = [f"R-{n}" for n in range(8)]
        for round_ in range(5):
            names = [f"{s}-{round_}" for s in streams]
            writers = [GroupCommitter(h) for h in (store, handles(store), handles(store))]
            barrier = threading.Barrier(len(names))
            outcomes: list[object] = []

            def race(n: int) -> None:
                job = Job([request(names[n], person(n), expected=0)],
                          expects={s: 0 for s in names if s != names[n]})
                barrier.wait(TIMEOUT)
                try:
                    outcomes.append(writers[n % len(writers)].submit(job).result(TIMEOUT))
                except ConcurrencyError as exc:
                    outcomes.append(exc)

            threads = [threading.Thread(target=race, args=(n,)) for n in range(len(names))]
            try:
                for t in threads:
                    t.start()
                for t in threads:
                    t.join(TIMEOUT)
            finally:
                for w in writers:
                    w.close()
            assert len(outcomes) == len(names)
            assert len([o for o in outcomes if not isinstance(o, ConcurrencyError)]) == 1, outcomes
            assert sum(store.stream_version(s) for s in names) == 1
        assert store.verify().ok

    # -- idempotent event ids ------------------------------------------------------------

    def test_a_full_retry_returns_the_stored_positions(self, store: EventStore) -> None:
        first = NewEvent(person(1))
        assert store.append("P-1", [first], 0) == [1]
        store.append("P-2", [person(2)], 0)
        # The retry repeats the stale expected version too: it must still answer, not conflict.
        assert store.append("P-1", [first], 0) == [1]
        both = [request("P-3", NewEvent(person(3)), expected=0),
                request("PL-1", NewEvent(place(1)), NewEvent(place(1, "Butyrki")), expected=0)]
        assert store.append_atomic(both) == [[3], [4, 5]]
        assert store.append_atomic(both) == [[3], [4, 5]]
        assert store.head().position == 5

    def test_a_partial_retry_or_an_id_reused_elsewhere_is_refused(self, store: EventStore) -> None:
        a, b = NewEvent(person(1)), NewEvent(person(1, "b"))
        store.append("P-1", [a], 0)
        with pytest.raises(IdempotencyConflict):
            store.append("P-1", [a, b], 1)  # only some ids stored
        with pytest.raises(IdempotencyConflict):
            store.append("P-9", [a], 0)  # the id is stored in another stream
        with pytest.raises(IdempotencyConflict):
            store.append("P-2", [b, b], 0)  # one id twice in one append
        with pytest.raises(IdempotencyConflict):
            store.append_atomic([request("P-3", b), request("P-4", b)])
        assert store.head().position == 1 and [r.event_id for r in rows(store)] == [a.event_id]

    # -- reading -------------------------------------------------------------------------

    def test_metadata_and_record_time_are_stored(self, store: EventStore) -> None:
        event = NewEvent(person(1), event_id="e" * 32)
        store.append("P-1", [event], 0,
                     Metadata(actor="reviewer-1", request_id="req-7", causation_id="cmd-3"))
        store.append("P-1", [person(1)], 1)
        first, second = store.read_log()
        assert (first.event_id, first.event, first.type) == (event.event_id, event.event,
                                                             "person.registered")
        assert (first.actor, first.request_id, first.causation_id) == ("reviewer-1", "req-7", "cmd-3")
        assert (second.actor, second.request_id, second.causation_id) == (None, None, None)
        assert first.recorded_at.endswith("Z") and second.recorded_at >= first.recorded_at

    def test_read_stream_from_a_version_and_up_to_a_position(self, store: EventStore) -> None:
        for n in range(5):
            store.append("P-1", [person(1, f"name {n}")])
        store.append("P-2", [person(2)])
        store.append("P-1", [person(1, "name 5")])
        stream = store.read_stream("P-1")
        assert [(e.version, e.position) for e in stream] == [(1, 1), (2, 2), (3, 3), (4, 4), (5, 5), (6, 7)]
        assert [e.event.label for e in stream] == [f"name {n}" for n in range(6)]
        assert [e.version for e in store.read_stream("P-1", from_version=3)] == [3, 4, 5, 6]
        assert [e.version for e in store.read_stream("P-1", up_to_position=2)] == [1, 2]
        assert [e.version for e in store.read_stream("P-1", 2, up_to_position=6)] == [2, 3, 4, 5]
        assert store.read_stream("P-1", up_to_position=0) == []
        assert store.read_stream("nobody") == []

    def test_read_log_and_read_rows_page_in_log_order(self, store: EventStore) -> None:
        store.append_atomic([request(f"P-{n}", person(n), expected=0) for n in range(2500)])
        assert [e.position for e in store.read_log(after=2490)] == list(range(2491, 2501))
        assert [e.position for e in store.read_log(after=10, limit=3)] == [11, 12, 13]
        assert [r.position for r in store.read_rows(after=999, limit=3)] == [1000, 1001, 1002]
        assert list(store.read_log(after=2500)) == [] and list(store.read_log(limit=0)) == []
        assert [e.position for e in store.read_log()] == list(range(1, 2501))
        assert [r.event_id for r in store.read_rows()] == [e.event_id for e in store.read_log()]

    def test_head_is_the_last_event(self, store: EventStore) -> None:
        store.append("P-1", [person(1)], 0)
        store.append("P-2", [person(2), person(2, "x")], 0)
        last = list(store.read_log())[-1]
        assert store.head() == Head(3, last.hash, last.recorded_at)

    # -- the hash chain ------------------------------------------------------------------

    def test_each_row_is_chained_to_the_previous(self, store: EventStore) -> None:
        for n in range(10):
            store.append(f"P-{n}", [person(n)], 0, Metadata(actor=f"archivist-{n % 3}"))
        previous = GENESIS
        for row in rows(store):
            previous = chain_hash(previous, row.digest())
            assert row.hash == previous
        verdict = store.verify()
        assert verdict.ok and verdict.count == 10
        assert (verdict.head_position, verdict.head_hash) == (10, store.head().hash)
        assert [e.hash for e in store.read_log()] == [r.hash for r in rows(store)]

    @pytest.mark.parametrize("column, value", [
        ("data", '{"type":"person.registered","person_id":"P6","label":"the forger"}'),
        ("actor", "the-forger"),
        ("recorded_at", "2001-01-01T00:00:00.000000Z"),
        ("stream_id", "P-elsewhere"),
        ("nonce", "0" * 32),
        ("nonce", None),
    ])
    def test_verify_names_the_first_broken_position(self, store: EventStore, backend: Backend,
                                                    column: str, value: object) -> None:
        assert column in STORED_COLUMNS
        for n in range(12):
            store.append(f"P-{n}", [person(n)], 0)
        published = store.head().hash
        backend.tamper(store, 7, column, value)
        verdict = store.verify()
        assert not verdict.ok and verdict.broken_at == 7 and verdict.count == 6
        assert "7" in (verdict.reason or "")
        assert not store.verify(expect_head=published).ok

    def test_each_new_row_has_its_own_nonce_in_its_digest(self, store: EventStore) -> None:
        """16 random bytes (hex) per row, hashed after the other columns (issue 18): a redacted
        row's digest cannot be matched against guessed content without the nonce."""
        for n in range(5):
            store.append(f"P-{n}", [person(n), person(n, "again")], 0)
        stored = rows(store)
        nonces = [r.nonce for r in stored]
        assert len(set(nonces)) == 10
        assert all(n is not None and len(n) == 32 and int(n, 16) >= 0 for n in nonces)
        for r in stored:
            hashed = tuple(getattr(r, c) for c in HASHED_COLUMNS)
            assert r.digest() == row_digest(hashed, r.nonce) != row_digest(hashed)

    def test_rows_without_a_nonce_keep_their_old_bytes(self, store: EventStore,
                                                        stores: Callable[[], EventStore]) -> None:
        """A log written before nonces (rows with none, hashed as they always were) loads,
        verifies, and grows with rows that carry one."""
        for n in range(3):
            store.append(f"P-{n}", [person(n)], 0)
        previous, old = GENESIS, []
        for r in rows(store):
            hashed = tuple(getattr(r, c) for c in HASHED_COLUMNS)
            previous = chain_hash(previous, row_digest(hashed))
            old.append(msgspec.structs.replace(r, hash=previous, nonce=None))
        copy = stores()
        assert copy.load_rows(iter(old)) == 3
        assert [r.nonce for r in rows(copy)] == [None] * 3
        copy.append("P-new", [person(9)], 0)
        assert rows(copy)[-1].nonce is not None
        verdict = copy.verify(expect_head=previous)
        assert verdict.ok and verdict.count == 4, verdict

    def test_verify_checks_a_published_head(self, store: EventStore) -> None:
        for n in range(5):
            store.append(f"P-{n}", [person(n)], 0)
        earlier = list(store.read_rows())[2].hash
        assert store.verify(expect_head=store.head().hash).ok
        assert store.verify(expect_head=earlier).ok
        unknown = store.verify(expect_head="ab" * 32)
        assert not unknown.ok and "not in the log" in (unknown.reason or "")

    # -- record time ---------------------------------------------------------------------

    def test_record_time_never_decreases(self, store: EventStore) -> None:
        writer = GroupCommitter(store)
        try:
            futures = [writer.submit(Job([request(f"P-{n}", person(n), expected=0)]))
                       for n in range(200)]
            for n in range(200, 220):
                store.append(f"P-{n}", [person(n)], 0)
            for f in futures:
                f.result(TIMEOUT)
        finally:
            writer.close()
        stamps = [e.recorded_at for e in store.read_log()]
        assert len(stamps) == 220 and stamps == sorted(stamps)
        for stamp in stamps:  # RFC 3339, UTC, microseconds: stamps compare as strings
            assert stamp.endswith("Z") and len(stamp) == len("2026-03-01T00:00:00.000000Z")
            assert dt.datetime.fromisoformat(stamp).utcoffset() == dt.timedelta(0)
        # the events of one append share their record time
        store.append("P-x", [person(1), person(2), person(3)])
        assert len({e.recorded_at for e in store.read_log(after=220)}) == 1

    def test_position_at_a_time_and_the_time_of_a_position(self, store: EventStore) -> None:
        for n in range(6):
            store.append(f"P-{n}", [person(n), person(n, "again")] if n % 2 else [person(n)])
        log = list(store.read_log())
        for e in log:
            expected = max(x.position for x in log if x.recorded_at <= e.recorded_at)
            assert store.position_at(e.recorded_at) == (expected, e.recorded_at)
            assert store.recorded_at(e.position) == e.recorded_at
        first, last = log[0], log[-1]
        assert store.position_at(later(first.recorded_at, -1)) == (0, None)
        assert store.position_at("1918-01-01T00:00:00Z") == (0, None)
        assert store.position_at("2999-01-01T00:00:00Z") == (last.position, last.recorded_at)
        # between two appends: the earlier one
        second = next(e for e in log if e.recorded_at > first.recorded_at)
        if later(first.recorded_at, 1) < second.recorded_at:
            before_second = max(x.position for x in log if x.recorded_at < second.recorded_at)
            assert store.position_at(later(first.recorded_at, 1))[0] == before_second
        # any offset and precision, compared in UTC to the microsecond
        moment = dt.datetime.fromisoformat(last.recorded_at)
        in_paris = moment.astimezone(dt.timezone(dt.timedelta(hours=1))).isoformat()
        assert store.position_at(in_paris) == (last.position, last.recorded_at)
        whole_second = moment.replace(microsecond=0)
        expected = max((x.position for x in log
                        if dt.datetime.fromisoformat(x.recorded_at) <= whole_second), default=0)
        assert store.position_at(whole_second.isoformat().replace("+00:00", "Z"))[0] == expected
        assert store.recorded_at(0) is None
        assert store.recorded_at(last.position + 100) == last.recorded_at
        for bad in ("yesterday", "2026-03-01T00:00:00", ""):
            with pytest.raises(ValueError):
                store.position_at(bad)

    # -- group commit ----------------------------------------------------------------------

    def test_group_commit_batches_jobs_and_isolates_a_failing_one(self, store: EventStore) -> None:
        store.append("P-0", [person(0)], 0)
        writer = GroupCommitter(store)
        try:
            futures = [writer.submit(Job([request(f"P-{n}", person(n), expected=0)]))
                       for n in range(1, 300)]
            stale = writer.submit(Job([request("P-0", person(0), expected=0)]))
            positions = sorted(f.result(TIMEOUT)[0][0] for f in futures)
            with pytest.raises(ConcurrencyError):
                stale.result(TIMEOUT)
        finally:
            writer.close()
        assert positions == list(range(2, 301))
        assert writer.batches < writer.jobs  # several jobs shared a transaction
        assert store.verify().ok

    def test_many_concurrent_submitters_each_get_their_own_positions(self, store: EventStore) -> None:
        store.append("P-taken", [person(0)], 0)
        taken = NewEvent(person(0, "stored already"))
        store.append("P-ids", [taken], 0)
        writer = GroupCommitter(store, max_batch=64)
        submitted: dict[str, list[NewEvent]] = {}
        outcomes: dict[str, object] = {}
        lock = threading.Lock()

        def broken(tx, envelopes) -> None:
            raise RuntimeError("projection bug")

        def submitter(t: int) -> None:
            for i in range(25):
                stream = f"P-{t}-{i}"
                events = [NewEvent(person(t, f"{t}/{i}/{k}")) for k in range(1 + i % 3)]
                match i % 10:  # every tenth job fails, each in its own way
                    case 3:
                        job = Job([request(stream, *events, expected=0),
                                   request("P-taken", person(0), expected=0)])  # stale version
                    case 6:
                        job = Job([request(stream, *events, expected=0)], after=broken)
                    case 9:
                        job = Job([request(stream, *events, taken, expected=0)])  # reused id
                    case _:
                        job = Job([request(stream, *events, expected=0)],
                                  Metadata(actor=f"submitter-{t}"))
                try:
                    result: object = writer.submit(job).result(TIMEOUT)
                except Exception as exc:
                    result = exc
                with lock:
                    submitted[stream], outcomes[stream] = events, result

        threads = [threading.Thread(target=submitter, args=(t,)) for t in range(12)]
        try:
            for t in threads:
                t.start()
            for t in threads:
                t.join(TIMEOUT)
        finally:
            writer.close()
        assert len(outcomes) == 12 * 25
        by_position = {e.position: e for e in store.read_log()}
        assert sorted(by_position) == list(range(1, len(by_position) + 1))  # gap-free
        mine: list[int] = []
        for stream, outcome in outcomes.items():
            i = int(stream.rsplit("-", 1)[1])
            if i % 10 == 3:
                assert isinstance(outcome, ConcurrencyError), outcome
            elif i % 10 == 6:
                assert isinstance(outcome, RuntimeError), outcome
            elif i % 10 == 9:
                assert isinstance(outcome, IdempotencyConflict), outcome
            else:
                assert isinstance(outcome, list), outcome
                (positions,) = outcome
                assert [by_position[p].event_id for p in positions] == [
                    e.event_id for e in submitted[stream]]
                assert {by_position[p].stream_id for p in positions} == {stream}
                mine.extend(positions)
                continue
            assert store.stream_version(stream) == 0  # the failed job wrote nothing
        assert sorted(mine) == list(range(3, len(by_position) + 1))
        assert len(set(mine)) == len(mine)
        assert store.verify().ok

    def test_submitters_on_the_event_loop(self, store: EventStore) -> None:
        writer = GroupCommitter(store)

        async def main() -> list:
            return await asyncio.gather(
                *(writer.append(Job([request(f"P-{n}", person(n), expected=0)])) for n in range(100)),
                writer.append(Job([request("P-1", person(1), expected=5)])),
                return_exceptions=True)

        try:
            results = asyncio.run(main())
        finally:
            writer.close()
        assert isinstance(results[-1], ConcurrencyError)
        assert sorted(r[0][0] for r in results[:-1]) == list(range(1, 101))

    def test_commit_jobs_answers_each_job_in_its_slot(self, store: EventStore) -> None:
        store.append("P-1", [person(1)], 0)
        results = store.commit_jobs([
            Job([request("P-2", person(2), expected=0)]),
            Job([request("P-1", person(1), expected=0)]),  # stale
            Job([request("P-3", person(3), person(3, "x"), expected=0)]),
        ])
        assert results[0] == [[2]] and results[2] == [[3, 4]]
        assert isinstance(results[1], ConcurrencyError)
        assert store.commit_jobs([]) == []

    # -- the hook inside the append's transaction --------------------------------------------

    def test_after_runs_in_the_append_s_transaction(self, store: EventStore) -> None:
        with store.write_transaction() as tx:  # a projection's table beside the log
            tx.execute("CREATE TABLE contract_seen (position INTEGER NOT NULL)")
        calls: list[list[int]] = []

        def project(tx, envelopes) -> None:
            calls.append([e.position for e in envelopes])
            for e in envelopes:
                tx.execute(f"INSERT INTO contract_seen (position) VALUES ({int(e.position)})")

        def broken(tx, envelopes) -> None:
            project(tx, envelopes)
            raise RuntimeError("projection bug")

        retried = request("P-1", NewEvent(person(1)), expected=0)
        assert store.append_atomic([retried], after=project) == [[1]]
        with pytest.raises(RuntimeError, match="projection bug"):
            store.append_atomic([request("P-2", person(2), expected=0)], after=broken)
        assert store.append_atomic([retried], after=project) == [[1]]  # a retry: no hook
        # in a group commit, the failing job's events and writes go; its neighbours' stay
        results = store.commit_jobs([
            Job([request("P-3", person(3), expected=0)], after=project),
            Job([request("P-4", person(4), expected=0)], after=broken),
            Job([request("P-5", person(5), expected=0)], after=project),
        ])
        assert results[0] == [[2]] and results[2] == [[3]] and isinstance(results[1], RuntimeError)
        with store.write_transaction() as tx:
            seen = [r[0] for r in tx.execute("SELECT position FROM contract_seen ORDER BY position")
                    .fetchall()]
        assert seen == [1, 2, 3]
        assert calls == [[1], [2], [2], [3], [3]]
        assert store.head().position == 3 and store.stream_version("P-2") == 0
        assert store.verify().ok

    def test_a_unique_key_clash_in_a_hook_is_a_duplicate_key(self, store: EventStore) -> None:
        with store.write_transaction() as tx:
            tx.execute("CREATE TABLE contract_keys (key TEXT PRIMARY KEY)")

        def remember(tx, envelopes) -> None:
            tx.execute("INSERT INTO contract_keys (key) VALUES ('idempotency-key-1')")

        store.append_atomic([request("P-1", person(1), expected=0)], after=remember)
        with pytest.raises(DuplicateKey):
            store.append_atomic([request("P-2", person(2), expected=0)], after=remember)
        assert store.head().position == 1

    def test_a_failed_write_transaction_keeps_nothing(self, store: EventStore) -> None:
        with store.write_transaction() as tx:
            tx.execute("CREATE TABLE contract_notes (note TEXT)")
        with pytest.raises(RuntimeError):
            with store.write_transaction() as tx:
                tx.execute("INSERT INTO contract_notes (note) VALUES ('kept?')")
                raise RuntimeError("rebuild failed")
        with store.write_transaction() as tx:
            assert tx.execute("SELECT count(*) FROM contract_notes").fetchone()[0] == 0

    # -- append-only ---------------------------------------------------------------------

    def test_stored_events_cannot_be_updated_deleted_or_replaced(
            self, store: EventStore, backend: Backend) -> None:
        for n in range(5):
            store.append(f"P-{n}", [person(n)], 0)
        before = rows(store)
        attempts = backend.forbidden_writes(store)
        assert attempts, "an implementation shows how its guards refuse a rewrite"
        for name, attempt in attempts.items():
            with pytest.raises(Exception, match="append-only"):
                attempt()
            assert rows(store) == before, name
        assert store.verify().ok
        assert store.append("P-5", [person(5)], 0) == [6]  # the log goes on

    # -- loading an export -----------------------------------------------------------------

    def test_load_rows_copies_a_log_exactly(self, store: EventStore,
                                            stores: Callable[[], EventStore]) -> None:
        for n in range(30):
            store.append(f"P-{n % 4}", [person(n)], meta=Metadata(actor=f"a{n % 2}"))
        copy = stores()
        assert copy.load_rows(store.read_rows()) == 30
        assert rows(copy) == rows(store) and copy.head() == store.head()
        assert copy.verify().ok and copy.stream_version("P-1") == store.stream_version("P-1")
        assert copy.append("P-1", [person(1)], store.stream_version("P-1")) == [31]
        assert copy.verify().ok
        with pytest.raises(IdempotencyConflict):  # the loaded ids are known to the copy
            copy.append("P-9", [NewEvent(person(9), event_id=rows(store)[0].event_id)])

    def test_load_rows_refuses_a_log_that_is_not_empty_or_rows_out_of_order(
            self, store: EventStore, stores: Callable[[], EventStore]) -> None:
        for n in range(5):
            store.append(f"P-{n}", [person(n)], 0)
        exported = rows(store)
        with pytest.raises(LogNotEmpty):
            store.load_rows(exported)
        assert rows(store) == exported
        copy = stores()
        with pytest.raises(StoreError):
            copy.load_rows(exported[:2] + exported[3:])  # position 3 missing
        assert copy.head() == Head(0, GENESIS, None)
