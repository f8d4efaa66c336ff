"""Issue 25, item 4: the stored public population documents of a year or a month. After every
step of a history (approvals, contests, rejections, retractions, supersessions, ranks, merges
and unmerges, suppressions, places merged, groups and their members, companions), every
document still stored is byte for byte the one the query path computes now: a write deletes
every document it may change, in its own transaction, and a document computed before a write
that deleted documents at its place is refused. On SQLite and PostgreSQL; random histories on
SQLite."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from starosta.projections import population as model
from starosta.projections.population import Span
from tests.integration.test_population_bounds import REVIEWED_BOUNDS
from tests.integration.test_projection_determinism import SCRIPTED, World, ops

YEARS = (1924, 1925, 1932, 1933, 1939, 1940, 1941, 1942, 1943, 1947, 1948, 1951, 1955, 1956)
MONTHS = ((1925, 4), (1940, 1), (1942, 6), (1948, 12))


def span_of(period: str) -> Span:
    if len(period) == 4:
        year = int(period)
        return Span(period, dt.date(year, 1, 1), dt.date(year, 12, 31))
    year, month = int(period[:4]), int(period[5:])
    end = dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)
    return Span(period, dt.date(year, month, 1), end)


PERIODS = [str(y) for y in YEARS] + [f"{y:04d}-{m:02d}" for y, m in MONTHS]


def fill(world: World) -> None:
    """Store the document of every place at every period (as a first GET does)."""
    archive = world.archive
    conn = archive.read()
    for place in world.places:
        for period in PERIODS:
            body, etag, position = model.period_document(conn, place, span_of(period))
            with archive.store.write_transaction() as w:
                assert model.store_period(w, place, period, body, etag, position)
            assert model.stored_period(archive.read(), place, period) == (body.decode(), etag)


def check(world: World) -> int:
    """Every stored document equals the one computed now; return how many are stored."""
    conn = world.archive.read()
    rows = conn.execute("SELECT place_id, period, document, etag FROM population_periods").fetchall()
    for place, period, document, etag in rows:
        body, tag, _ = model.period_document(conn, place, span_of(period))
        assert (document, etag) == (body.decode(), tag), (place, period)
    return len(rows)


def run(world: World, commands: list[tuple]) -> list[int]:
    kept = []
    for op in commands:
        fill(world)
        world.run(op)
        kept.append(check(world))
    return kept


# reviews of claims at a place, a death, a group's stay and a membership, ranks: documents of
# other places and years stay stored
LOCAL = [("place", 1), ("person", 1), ("claim", 0, 0, 0, 1, 3, False), ("review", -1, "approve", "bob"),
         ("claim", 0, 1, 1, 2, 2, False), ("review", -1, "approve", "bob"),
         ("claim", 6, 1, 0, 5, 0, False), ("review", -1, "approve", "bob"),
         ("claim", 1, 1, 0, 3, 0, False), ("review", -1, "approve", "bob"),
         ("review", -1, "contest", "carol"), ("claim", 3, 2, 1, 0, 0, False),
         ("review", -1, "approve", "bob"), ("claim", 0, 0, 1, 4, 4, True),
         ("review", -1, "approve", "carol"), ("review", -1, "retract", "alice")]


@pytest.mark.timeout(600)
@pytest.mark.parametrize("commands", [SCRIPTED, REVIEWED_BOUNDS, LOCAL],
                         ids=["scripted", "reviewed-bounds", "local"])
def test_stored_documents_equal_the_query_path_after_every_step(archive_db: str, commands) -> None:
    world = World(archive_db)
    try:
        kept = run(world, commands)
    finally:
        world.archive.store.close()
    assert any(kept), "no document survived any step: the invalidation deletes everything"


def test_a_document_computed_before_a_write_at_its_place_is_refused(archive_db: str) -> None:
    world = World(archive_db)
    try:
        place = world.places[0]
        body, etag, position = model.period_document(world.archive.read(), place, span_of("1940"))
        world.run(("claim", 0, 0, 0, 1, 3, False))
        world.run(("review", -1, "approve", "bob"))  # an episode at the place in 1940
        with world.archive.store.write_transaction() as w:
            assert not model.store_period(w, place, "1940", body, etag, position)
        assert model.stored_period(world.archive.read(), place, "1940") is None
        fill(world)
        assert check(world) == len(world.places) * len(PERIODS)
    finally:
        world.archive.store.close()


@pytest.mark.timeout(600)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@example(SCRIPTED[:40])
@given(st.lists(ops, min_size=1, max_size=30))
def test_random_histories_keep_stored_documents_exact(commands) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        world = World(str(Path(tmp) / "archive.db"))
        try:
            run(world, commands)
        finally:
            world.archive.store.close()


# -- the HTTP answers: stored, conditional, and the lean path's bytes are Litestar's -----------

def test_a_year_or_a_month_is_stored_with_an_etag_and_the_lean_path_serves_it(
        api, monkeypatch: pytest.MonkeyPatch) -> None:
    from starosta.service.api import lean

    said: list[bool] = []
    real = lean.answer

    async def spy(app, scope, send) -> bool:
        said.append(await real(app, scope, send))
        return said[-1]

    monkeypatch.setattr(lean, "answer", spy)
    source = api.source()
    p, x = api.person("Francisco Ascaso", source), api.place("Vorkuta", source, "camp")
    claim = api.claim({"kind": "custody", "person": p, "place": x, "custody": "camp",
                       "start": "1940", "end": "1948", "citation": {"source": source}})
    assert api.post(f"/claims/{claim}/approve", {}, "bob").status_code == 200
    path = f"/places/{x}/population"
    computed = api.client.get(path, params={"at": "1944", "include_children": "true"})
    first = api.client.get(path, params={"at": "1944"})  # computed, then stored
    assert said[-1] is False and first.status_code == 200 and "etag" in first.headers
    assert first.content == computed.content  # the stored bytes are the query path's
    again = api.client.get(path, params={"at": "1944"})
    assert said[-1] is True and (again.content, again.headers["etag"]) == (first.content, first.headers["etag"])
    etag = first.headers["etag"]
    asked = [({"at": "1944"}, {}), ({"at": "1944"}, {"If-None-Match": etag}),
             ({"at": "1944"}, {"If-None-Match": '"other"'}), ({"at": "1944"}, {"If-None-Match": "*"})]
    lean_answers = [api.client.get(path, params=q, headers=h) for q, h in asked]
    assert said[-len(asked):] == [True] * len(asked)
    assert [r.status_code for r in lean_answers] == [200, 304, 200, 304]

    async def never(app, scope, send) -> bool:
        return False

    monkeypatch.setattr(lean, "answer", never)
    litestar = [api.client.get(path, params=q, headers=h) for q, h in asked]
    assert [(r.status_code, sorted(r.headers.multi_items()), r.content) for r in litestar] == \
        [(r.status_code, sorted(r.headers.multi_items()), r.content) for r in lean_answers]
    # a write that changes the year: the stored document goes, the next answer is the new one
    monkeypatch.setattr(lean, "answer", spy)
    assert api.post(f"/claims/{claim}/contest", {"reason": "doubt"}, "carol").status_code == 200
    after = api.client.get(path, params={"at": "1944"})
    assert said[-1] is False and after.json()["count_max"] == 0 and after.headers["etag"] != etag
    # the month is stored too; other spans and include=pending are computed each time
    month = api.client.get(path, params={"at": "1944-05"})
    assert month.status_code == 200 and api.client.get(path, params={"at": "1944-05"}).headers["etag"] == month.headers["etag"]
    assert said[-1] is True
    assert "etag" not in api.client.get(path, params={"at": "1944/1945"}).headers
    assert said[-1] is False


# -- apply_batch: a rebuild applying whole batches gives the rows of one event at a time -------

@pytest.mark.timeout(600)
def test_apply_batch_rebuilds_the_rows_apply_gives(archive_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from starosta.projections.runner import content_hash
    from tests.api.conftest import rebuild

    world = World(archive_db)
    try:
        for op in SCRIPTED + REVIEWED_BOUNDS + LOCAL:
            world.run(op)
        store, runner = world.archive.store, world.archive.runner
        population = runner.get("population")
        tables = list(population.ddl)
        live = content_hash(store.reader(), tables)
        assert rebuild(world.archive, "population") == live
        held: list = []
        batch_apply, finish = population.apply_batch, population.finish

        def apply(conn, envelope, t) -> None:  # the runner's loop: held until the batch ends
            held.append(envelope)

        def finished(conn, t, envelopes, *, rebuilding=False) -> None:
            del population.apply  # apply_batch applies the other events with the real one
            try:
                batch_apply(conn, list(held), t)
            finally:
                population.apply = apply
            held.clear()
            finish(conn, t, envelopes, rebuilding=rebuilding)

        monkeypatch.setattr(population, "apply", apply)
        monkeypatch.setattr(population, "finish", finished)
        assert rebuild(world.archive, "population") == live
    finally:
        world.archive.store.close()
