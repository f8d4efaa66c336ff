"""Issue 25, item 1: stored biographies assembled outside the writer equal those assembled in
it. In the serving archive the group-committing writer applies each job's events
(`Runner.apply_events`), does every read model's `finish` once per committed batch
(`Job.finish`: `Runner.finish_batch`, the failed jobs left out) and only marks the documents
it changed stale (`biographies.mark_stale`); a settler assembles them from a read snapshot
(`biographies.settle_stale`). After every step of fixed scenarios (supersessions, merges and
unmerges, contests, retractions, suppressions, identifications, statements), with a job
in each batch that fails after applying its events, the settled documents are exactly those
assembled afresh, no mark is left, and the live tables equal a rebuild's (which assembles
every document one event at a time, in the writer's transaction)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from starosta.events.registry import PersonRegistered
from starosta.events.store import AppendRequest, Job, Metadata, NewEvent
from starosta.projections import biographies, registry
from starosta.projections.rules import PUBLIC, Viewer
from starosta.projections.runner import content_hash
from tests.integration.test_population_bounds import ACROSS_A_MERGE, REVIEWED_BOUNDS
from tests.integration.test_projection_determinism import SCRIPTED, SUPERSEDING, World


class Failed(Exception):
    """The failing job's hook: raised after its events were applied to every read model."""


class DeferredWorld(World):
    """A World whose appends go as the service's do: through `commit_jobs` with the batch-end
    hook, the biographies only marked stale, each batch beside a job that fails after applying
    its events (a new person's registration: a leaked mark would name a person who does not
    exist); the settler's work done after each step."""

    def __init__(self, path: str) -> None:
        self.failed = 0
        super().__init__(path)

    def start(self) -> None:
        self.bio = self.archive.runner.get("biographies")
        self.bio.deferred = True

    def commit(self, requests, meta) -> None:
        runner, store = self.archive.runner, self.archive.store
        if not getattr(getattr(self, "bio", None), "deferred", False):
            self.start()

        def after(conn, written) -> None:
            runner.apply_events(conn, written)

        def failing(conn, written) -> None:
            runner.apply_events(conn, written)
            raise Failed

        self.failed += 1
        ghost = AppendRequest(f"PX{self.failed}", [NewEvent(PersonRegistered(
            person_id=f"PX{self.failed}", label="never registered"))], 0)
        jobs = [Job([ghost], meta, failing, finish=runner.finish_batch),
                Job(requests, meta, after, finish=runner.finish_batch)]
        if self.failed % 2:  # the failing job first or last in its batch
            jobs.reverse()
        results = store.commit_jobs(jobs)
        assert sum(isinstance(r, Failed) for r in results) == 1, results
        for r in results:
            if isinstance(r, BaseException) and not isinstance(r, Failed):
                raise r
        self.settle_and_check()

    def settle_and_check(self) -> None:
        store = self.archive.store
        conn = self.archive.read()
        tables = self.archive.runner.tables(conn, self.bio)
        while biographies.settle_stale(store, tables, limit=2):  # several passes
            pass
        assert conn.execute("SELECT count(*) FROM stale_biographies").fetchone()[0] == 0
        assert self.bio._marks == {}  # nothing left from the failed jobs
        stored = dict(conn.execute("SELECT person_id, document FROM biographies").fetchall())
        alive = [r[0] for r in conn.execute("SELECT id FROM persons WHERE merged_into IS NULL "
                                            "ORDER BY id")]
        assert sorted(stored) == alive  # one document per survivor, none for a merged record
        for person in alive:
            group = [person, *registry.merged_records(conn, person)]
            fresh = biographies._document(
                biographies.compute(conn, group, PUBLIC, Viewer(), tables))
            body = biographies.inflated(stored[person])  # compressed bytes, or PostgreSQL's text
            assert (body.encode() if isinstance(body, str) else bytes(body)) == fresh.body, person


def _run(world: DeferredWorld, commands) -> None:
    world.archive.commit_sync = world.commit  # type: ignore[method-assign]
    for op in commands:
        world.run(op)
    store, runner = world.archive.store, world.archive.runner
    live = content_hash(store.reader(), ["biographies"])
    world.bio.deferred = False  # a rebuild assembles every document in the writer
    assert runner.rebuild(store, "biographies") == content_hash(store.reader(), list(world.bio.ddl))
    assert content_hash(store.reader(), ["biographies"]) == live


SCENARIOS = [SCRIPTED, SUPERSEDING, REVIEWED_BOUNDS, ACROSS_A_MERGE]


@pytest.mark.parametrize("commands", SCENARIOS, ids=["scripted", "superseding", "bounds", "merge"])
def test_settled_documents_equal_those_assembled_afresh(commands) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        world = DeferredWorld(str(Path(tmp) / "archive.db"))
        try:
            _run(world, commands)
        finally:
            world.archive.store.close()


def test_settled_documents_equal_those_assembled_afresh_on_postgres(postgres_cluster) -> None:
    from tests.postgres import new_archive

    for commands in (SCRIPTED, SUPERSEDING):
        _, owner = new_archive(postgres_cluster)
        world = DeferredWorld(owner)
        try:
            _run(world, commands)
        finally:
            world.archive.store.close()


def test_a_settle_from_an_older_snapshot_never_overwrites_a_newer_document(tmp_path) -> None:
    """Compare-and-set: a settler whose snapshot predates a newer settle stores nothing."""
    world = DeferredWorld(str(tmp_path / "archive.db"))
    try:
        world.archive.commit_sync = world.commit  # type: ignore[method-assign]
        world.run(("claim", 2, 0, 0, 0, 0, False))
        store = world.archive.store
        conn = store.reader()
        person = world.persons[0]
        before = conn.execute("SELECT document FROM biographies WHERE person_id = ?",
                              (person,)).fetchone()[0]
        # a mark at position 1 (older than any settle since): a snapshot now is newer; a
        # stale settler's write is refused when its mark moved past its snapshot
        with store.write_transaction() as w:
            w.execute("INSERT INTO stale_biographies VALUES (?, ?, ?)",
                      (person, 10**9, 10**9))  # marked after any snapshot of now
        tables = world.archive.runner.tables(conn, world.bio)
        assert biographies.settle_stale(store, tables) == 1
        row = conn.execute("SELECT since, upto FROM stale_biographies").fetchone()
        assert row == (10**9, 10**9)  # left for a settle at or after its position
        assert conn.execute("SELECT document FROM biographies WHERE person_id = ?",
                            (person,)).fetchone()[0] == before
        assert biographies.unsettled(conn, [person], 10**9)
        assert not biographies.unsettled(conn, [person], 10**9 - 1)
    finally:
        world.archive.store.close()


def test_marks_a_stopped_server_left_are_settled_when_the_archive_is_next_opened(tmp_path) -> None:
    from starosta.service.db import open_archive

    path = str(tmp_path / "archive.db")
    world = DeferredWorld(path)
    try:
        world.start()
        runner, store = world.archive.runner, world.archive.store
        world.run(("claim", 2, 0, 0, 0, 0, False))  # through the batches, settled after
        claim = world.claims[-1]
        from starosta.events.review import ClaimApproved

        job = Job([AppendRequest(claim, [NewEvent(ClaimApproved(claim_id=claim, reviewer="bob"))], 1)],
                  Metadata(actor="bob"), runner.apply_events, finish=runner.finish_batch)
        assert not isinstance(store.commit_jobs([job])[0], BaseException)
        conn = store.reader()
        assert conn.execute("SELECT count(*) FROM stale_biographies").fetchone()[0] == 1
        stale = conn.execute("SELECT document FROM biographies WHERE person_id = ?",
                             (world.persons[0],)).fetchone()[0]
    finally:
        world.archive.store.close()  # stopped before its settler got there
    archive = open_archive(path)
    try:
        conn = archive.read()
        assert conn.execute("SELECT count(*) FROM stale_biographies").fetchone()[0] == 0
        body = conn.execute("SELECT document FROM biographies WHERE person_id = ?",
                            (world.persons[0],)).fetchone()[0]
        assert body != stale and claim.encode() in bytes(biographies.inflated(body))
    finally:
        archive.store.close()
