"""Lists in answers come in the order their queries state, the same on SQLite and PostgreSQL and
whatever the physical order of the read models' rows.

SQLite returns rows without ORDER BY in rowid (insertion) order and sorts NULL first;
PostgreSQL returns them in heap order (which updates, HOT chains and VACUUM change) and sorts
NULL last. So every order that reaches an answer is written out in the query: the places under
a place by registration order, and stays, episodes and reported counts with an unknown start
or date first (as SQLite always gave them), then by date, then in submission order.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from starosta.events.kinds import AggregateClaim, Citation, CustodyClaim
from starosta.events.registry import OrganizationRegistered, PlaceRegistered
from starosta.events.review import ClaimApproved
from starosta.events.store import Metadata
from starosta.projections import population, registry
from starosta.projections.rules import COUNTED as PUBLIC  # what figures count
from starosta.service.domain.access import Principal
from starosta.service.domain.commands import submission

from tests.integration.test_projection_determinism import World, _postgres_world

CITE = Citation(source="S1", locator="p. 1")
IN_1930 = population.Span("1930", dt.date(1930, 1, 1), dt.date(1930, 12, 31))


@pytest.fixture(params=["sqlite", "postgres"])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    """A fresh archive (see the determinism tests' World) on each backend."""
    if request.param == "sqlite":
        w = World(str(tmp_path / "archive.db"))
    else:
        w = _postgres_world(request.getfixturevalue("postgres_cluster"))
    try:
        yield w
    finally:
        w.archive.store.close()


def approved(world: World, claim) -> str:
    """Submit `claim` as alice and approve it as bob; return its id."""
    claim_id = world.new("C")
    request = submission(world.archive.read(), claim_id, claim, Principal("T1", "alice", "contributor"))
    world.archive.commit_sync([request], Metadata(actor="alice"))
    world.append(claim_id, ClaimApproved(claim_id=claim_id, reviewer="bob"), 1, "bob")
    return claim_id


def test_unknown_starts_and_dates_come_first_on_both_backends(world: World) -> None:
    """PostgreSQL sorts NULL last: without `IS NOT NULL` first in the ORDER BY, its answers
    listed an unknown start (or an open-start date) after the dated ones, SQLite's before."""
    person, place = world.persons[0], world.places[0]
    group = "G1"
    world.append(group, OrganizationRegistered(organization_id=group, label="A group", kind="group"))
    # each dated one submitted first, so that submission order cannot give the answer
    dated = approved(world, CustodyClaim(person=person, place=place, custody="prison",
                                         start="1925-04", citation=CITE))
    undated = approved(world, CustodyClaim(person=person, place=place, custody="prison",
                                           end="1940", citation=CITE))
    group_dated = approved(world, CustodyClaim(group=group, place=place, custody="prison",
                                               start="1925-04", citation=CITE))
    group_undated = approved(world, CustodyClaim(group=group, place=place, custody="prison",
                                                 end="1940", citation=CITE))
    count_dated = approved(world, AggregateClaim(place=place, count=5, group="exiles",
                                                 date="1930", citation=CITE))
    count_open = approved(world, AggregateClaim(place=place, count=7, group="exiles",
                                                date="../1930", citation=CITE))

    answer = population.population_at(world.archive.read(), place, IN_1930, PUBLIC)

    assert [(h.id, h.claims) for h in answer.possible] == [(person, [undated, dated])]
    assert [(g.id, g.claims) for g in answer.groups] == [(group, [group_undated, group_dated])]
    assert [r.claim for r in answer.reported] == [count_open, count_dated]
    years = population.timeline(world.archive.read(), place, "year", IN_1930, IN_1930, PUBLIC)
    assert [[r.claim for r in p.reported] for p in years.items] == [[count_open, count_dated]]


def test_places_under_a_place_come_in_registration_order_whatever_the_rows_order(
        world: World) -> None:
    """The places table rewritten in id order (on SQLite new rowids, on PostgreSQL a new heap
    order): without its ORDER BY, the places under a place came in that physical order."""
    region = world.places[0]
    children = ["PL-z", "PL-m", "PL-a"]  # registered in reverse id order
    for child in children:
        world.append(child, PlaceRegistered(place_id=child, label=f"Camp {child}", kind="camp",
                                            parent=region))
    grandchild = "PL-0"
    world.append(grandchild, PlaceRegistered(place_id=grandchild, label="Barrack", kind="camp",
                                             parent="PL-m"))
    with world.archive.store.write_transaction() as conn:
        rows = conn.execute("SELECT * FROM places ORDER BY id").fetchall()
        conn.execute("DELETE FROM places")
        conn.executemany(f"INSERT INTO places VALUES ({', '.join('?' * len(rows[0]))})", rows)

    conn = world.archive.read()
    assert registry.places_under(conn, region, True) == [region, *children, grandchild]
    answer = population.population_at(conn, region, IN_1930, PUBLIC, include_children=True)
    assert [p.id for p in answer.places] == [region, *children, grandchild]
