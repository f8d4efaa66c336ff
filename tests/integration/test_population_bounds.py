"""The population read model against the rule it stores, for random valid histories: every
stored open-end bound equals the one the API.md rule gives when computed afresh from the other
read models (claims, registry), the deaths it keeps agree with the claims table on status and
successor, and every period of a timeline has the figures `population_at` gives for it."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import msgspec
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from starosta.events.dates import DateValue, margin_bounds
from starosta.projections import registry
from starosta.projections.population import Span, population_at, timeline
from starosta.projections.rules import COUNTED as PUBLIC  # what figures count
from starosta.projections.rules import WITH_PENDING
from tests.integration.test_projection_determinism import DATES, SCRIPTED, World

# Histories dense in what bounds open ends: custody (kind 0; kind 6 has no end), death (1) and
# aggregate (3) claims, mostly approved at once, some superseding the claim before; reviews
# that undo approvals; merges and unmerges among a few persons and places.
_claim = st.tuples(st.just("claim"), st.sampled_from([0, 0, 1, 1, 6, 6, 3]), st.integers(0, 9),
                   st.integers(0, 9), st.integers(0, len(DATES) - 1), st.integers(0, len(DATES) - 1),
                   st.sampled_from([False, False, False, True]))
_other = st.one_of(
    st.tuples(st.just("person"), st.just(0)), st.tuples(st.just("place"), st.just(0)),
    st.tuples(st.just("review"), st.integers(0, 30), st.sampled_from(["contest", "reject", "approve"]),
              st.sampled_from(["bob", "carol"])),
    st.tuples(st.just("merge"), st.integers(0, 9), st.integers(0, 9)),
    st.tuples(st.just("unmerge"), st.integers(0, 9)))
histories = st.lists(st.one_of(_claim.map(lambda c: [c, ("review", -1, "approve", "bob")]),
                               _claim.map(lambda c: [c, ("review", -1, "approve", "bob")]),
                               _claim.map(lambda c: [c]), _other.map(lambda o: [o])),
                     min_size=1, max_size=40).map(lambda groups: [op for g in groups for op in g])


def expected_bound(conn, person: str, place: str | None, start: str | None) -> str | None:
    """The bound of an open end as API.md defines it, from the claims and registry tables:
    the group's next approved custody elsewhere (its latest possible start) or death, every
    day widened by the date margins (D5); an episode with no known start only by a death."""
    group = set(registry.merge_group(conn, person))
    bounds = []

    def days(d):
        if not d:
            return None, None
        lo, hi = margin_bounds(msgspec.convert(d, DateValue))
        return (lo.isoformat() if lo else None), (hi.isoformat() if hi else None)

    for kind, data in conn.execute("SELECT kind, data FROM claims WHERE status = 'approved' AND "
                                   "superseded_by IS NULL AND kind IN ('custody', 'death', 'execution')"):
        event = msgspec.json.decode(data)
        claim, dates = event["claim"], event.get("dates", {})
        if claim["person"] not in group:
            continue
        if kind == "custody":
            s_lo, s_hi = days(dates.get("start"))
            if (start is not None and claim.get("place") != place and s_lo and s_hi
                    and s_lo > start):
                bounds.append(s_hi)
        elif days(dates.get("date"))[1]:
            bounds.append(days(dates.get("date"))[1])
    return min(bounds) if bounds else None


def check_bounds(conn) -> None:
    claims = {r[0]: (r[1], r[2]) for r in conn.execute("SELECT id, status, superseded_by FROM claims")}
    for claim_id, status, successor in conn.execute(
            "SELECT claim_id, status, superseded_by FROM population_deaths"):
        assert claims[claim_id] == (status, successor), claim_id
    for claim_id, person, place, start, end, bound in conn.execute(
            "SELECT claim_id, person_id, place_id, start_earliest, end_latest, open_bound "
            "FROM custody_episodes"):
        wanted = expected_bound(conn, person, place, start) if end is None else None
        assert bound == wanted, (claim_id, bound, wanted)


MONTHS = (Span("1939-11", dt.date(1939, 11, 1), dt.date(1939, 11, 30)),
          Span("1941-02", dt.date(1941, 2, 1), dt.date(1941, 2, 28)))


def check_timelines(conn, places: list[str]) -> None:
    for place in places:
        for statuses in (PUBLIC, WITH_PENDING):
            for step, first, last in (("year", None, None), ("month", *MONTHS)):
                for item in timeline(conn, place, step, first, last, statuses).items:
                    at = population_at(conn, place, Span(item.period, item.earliest, item.latest),
                                       statuses)
                    assert (item.count_min, item.count_max) == (at.count_min, at.count_max), item
                    assert item.reported == at.reported


APPROVE = ("review", -1, "approve", "bob")
# a death approved after the open episode; a death under a record merged in, then unmerged;
# one person's stays in 1940 and 1942 (a year between them)
BOUNDED_LATER = [("claim", 6, 0, 0, 1, 0, False), APPROVE, ("claim", 1, 0, 0, 3, 0, False), APPROVE]
ACROSS_A_MERGE = [("person", 0), ("claim", 6, 0, 0, 1, 0, False), APPROVE,
                  ("claim", 1, 1, 0, 3, 0, False), APPROVE, ("merge", 1, 0), ("unmerge", 1)]
A_GAP = [("claim", 0, 0, 0, 1, 1, False), APPROVE, ("claim", 0, 0, 0, 4, 4, False), APPROVE]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@example(SCRIPTED)
@example(BOUNDED_LATER)
@example(ACROSS_A_MERGE)
@example(A_GAP)
@given(histories)
def test_stored_bounds_follow_the_rule_and_timelines_agree_with_population_at(commands) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        world = World(str(Path(tmp) / "archive.db"))
        for op in commands:
            world.run(op)
        conn = world.archive.read()
        check_bounds(conn)
        check_timelines(conn, world.places)
        world.archive.store.close()


# -- issue 25: bounds kept incrementally (only the episodes a new or reviewed claim can change)
# equal the full rule's, and a rebuild's (which recomputes every touched group whole)

def incremental_equals_full(world) -> None:
    from starosta.projections.population import refresh_open_bounds
    from starosta.projections.runner import content_hash

    store, runner = world.archive.store, world.archive.runner
    population = runner.get("population")
    live = content_hash(store.reader(), list(population.ddl))
    assert runner.rebuild(store, "population") == live, "live population differs from a rebuild"
    with store.write_transaction() as conn:  # the full rule over every group changes nothing
        persons = [r[0] for r in conn.execute("SELECT DISTINCT person_id FROM custody_episodes")]
        assert refresh_open_bounds(conn, runner.tables(conn, population), persons) == 0


# open episodes bounded by a later stay elsewhere, then that stay rejected, superseded and its
# successor approved; a death approved, contested, approved again; merges around them
REVIEWED_BOUNDS = [
    ("person", 0), ("place", 0), ("claim", 6, 0, 0, 1, 0, False), APPROVE,
    ("claim", 6, 1, 0, 0, 0, False), APPROVE, ("claim", 0, 0, 1, 2, 3, False), APPROVE,
    ("claim", 0, 0, 1, 3, 3, True), ("review", 5, "reject", "bob"), ("review", -1, "approve", "carol"),
    ("claim", 1, 0, 0, 3, 0, False), APPROVE, ("review", -1, "contest", "carol"),
    ("review", -1, "approve", "bob"), ("merge", 1, 0), ("claim", 0, 1, 1, 4, 4, False), APPROVE,
    ("unmerge", 1), ("claim", 1, 1, 0, 6, 0, False), ("review", -1, "reject", "bob")]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@example(SCRIPTED)
@example(BOUNDED_LATER)
@example(ACROSS_A_MERGE)
@example(REVIEWED_BOUNDS)
@given(histories)
def test_incremental_bounds_equal_a_full_rebuild(commands) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        world = World(str(Path(tmp) / "archive.db"))
        try:
            for op in commands:
                world.run(op)
            check_bounds(world.archive.read())
            incremental_equals_full(world)
        finally:
            world.archive.store.close()


def test_incremental_bounds_equal_a_full_rebuild_on_postgres(postgres_cluster) -> None:
    from tests.integration.test_projection_determinism import _postgres_world

    for commands in (REVIEWED_BOUNDS, BOUNDED_LATER, ACROSS_A_MERGE, SCRIPTED):
        world = _postgres_world(postgres_cluster)
        try:
            for op in commands:
                world.run(op)
            incremental_equals_full(world)
        finally:
            world.archive.store.close()
