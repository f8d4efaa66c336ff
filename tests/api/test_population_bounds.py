"""Open ends in populations, bounded in the read model and kept current over HTTP: a death or a
custody elsewhere approved after the episode, contested, superseded; a death under a merged
record, and after an unmerge; and the incremental tables equal to rebuilt ones afterwards."""

from __future__ import annotations

import pytest

from starosta.projections.runner import content_hash
from tests.api.conftest import Api, rebuild
from tests.api.test_population import World, who_is


@pytest.fixture
def world(api: Api) -> World:
    return World(api, api.source("10 Años en la URSS"))


def review(world: World, claim: str, action: str, who: str = "bob", **body) -> None:
    r = world.api.post(f"/claims/{claim}/{action}", {"reason": "r", **body} if action != "approve" else {}, who)
    assert r.status_code == 200, r.text


def open_in(world: World, place: str, at: str) -> list[str]:
    """The claims of `place` left open in `at` (possible, nothing bounds their end)."""
    return world.population(place, at)["open"]


def test_a_death_approved_after_the_episode_bounds_it_until_it_is_contested(world: World) -> None:
    p = world.person("Nikolai Rogdaev")
    x = world.place("Tashkent", "exile")
    episode = world.custody(p, x, "1940", custody="exile")
    death = world.claim({"kind": "death", "person": p, "date": "1950-05"}, approved=False)
    assert who_is(world.population(x, "1960")) == ([], [p]) and open_in(world, x, "1960") == [episode]
    review(world, death, "approve")
    assert who_is(world.population(x, "1950-05")) == ([], [p])
    assert open_in(world, x, "1950-05") == []
    assert who_is(world.population(x, "1950-06")) == ([], [])
    review(world, death, "contest", "carol")  # no longer approved: the end is open again
    assert open_in(world, x, "1960") == [episode]
    review(world, death, "approve", "bob")  # the contest dismissed
    assert who_is(world.population(x, "1960")) == ([], [])
    # the earliest of two deaths bounds it; an undated death bounds nothing
    world.claim({"kind": "death", "person": p, "date": "1945"})
    world.claim({"kind": "death", "person": p})
    assert who_is(world.population(x, "1946")) == ([], [])
    assert who_is(world.population(x, "1945")) == ([], [p])


def test_a_custody_elsewhere_approved_later_bounds_the_open_end(world: World) -> None:
    p = world.person("Efim Yarchuk")
    x, y = world.place("Butyrka"), world.place("Suzdal isolator", "isolator")
    episode = world.custody(p, x, "1940")
    elsewhere = world.custody(p, y, "1945-06", "1946", custody="isolator", approved=False)
    earlier = world.custody(p, y, "1939", "1939", custody="isolator")  # before it began: no bound
    assert open_in(world, x, "1960") == [episode]
    review(world, elsewhere, "approve")
    assert who_is(world.population(x, "1945-06-30")) == ([], [p])
    assert who_is(world.population(x, "1945-07")) == ([], [])
    # a later custody at the same place bounds nothing; one elsewhere sooner wins
    world.custody(p, x, "1942", "1943")
    assert who_is(world.population(x, "1945-06")) == ([], [p])
    sooner = world.custody(p, y, "1944", "1944", custody="isolator")
    assert who_is(world.population(x, "1945")) == ([], [])
    review(world, sooner, "contest", "carol")
    assert who_is(world.population(x, "1945")) == ([], [p])
    assert earlier  # kept for clarity: it never bounded the episode


def test_a_custody_at_an_unknown_place_is_elsewhere(world: World) -> None:
    p = world.person("Olga Taratuta")
    x = world.place("Butyrka")
    world.custody(p, x, "1940")
    world.custody(p, None, "1941", "1942", custody="camp")
    world.custody(p, world.place("Vorkuta", "camp"), "1941", "1943", custody="camp")
    assert who_is(world.population(x, "1941")) == ([], [p])
    assert who_is(world.population(x, "1942")) == ([], [])


def test_a_death_under_a_merged_record_bounds_the_survivor_until_unmerged(world: World) -> None:
    survivor, merged = world.person("Vicente Monclús Guallar"), world.person("V. Monclús (a list)")
    x = world.place("Butyrka")
    episode = world.custody(survivor, x, "1951-01-02")
    world.claim({"kind": "death", "person": merged, "date": "1960"})
    assert open_in(world, x, "1970") == [episode]
    r = world.api.post(f"/persons/{merged}/merge", {"into": survivor, "reason": "the same man"}, "bob")
    assert r.status_code == 200, r.text
    assert who_is(world.population(x, "1960")) == ([], [survivor])
    assert who_is(world.population(x, "1970")) == ([], [])
    r = world.api.post(f"/persons/{merged}/unmerge", {"reason": "two men after all"}, "carol")
    assert r.status_code == 200, r.text
    assert who_is(world.population(x, "1970")) == ([], [survivor])
    assert open_in(world, x, "1970") == [episode]


def test_a_death_two_merges_away_bounds_the_episode(world: World) -> None:
    a, b, c = (world.person(n) for n in ("A list", "A memoir", "The record"))
    x, y = world.place("Butyrka"), world.place("Vorkuta", "camp")
    episode = world.custody(a, x, "1930")
    world.claim({"kind": "execution", "person": c, "date": "1938-03"})
    world.custody(b, y, "1936", "1937", custody="camp")
    for record, into in ((a, b), (b, c)):
        r = world.api.post(f"/persons/{record}/merge", {"into": into, "reason": "same"}, "bob")
        assert r.status_code == 200, r.text
    body = world.population(x, "1936")
    assert who_is(body) == ([], [c]) and body["possible"][0]["claims"] == [episode]
    assert body["possible"][0]["name"] == "The record"
    assert who_is(world.population(x, "1937")) == ([], [])  # the camp from 1936 bounds it
    r = world.api.post(f"/persons/{b}/unmerge", {"reason": "no"}, "carol")  # a and b leave c
    assert r.status_code == 200, r.text
    assert who_is(world.population(x, "1937")) == ([], [])  # b's camp still bounds a's stay
    assert who_is(world.population(x, "1936")) == ([], [b])
    r = world.api.post(f"/persons/{a}/unmerge", {"reason": "no"}, "carol")
    assert r.status_code == 200, r.text
    assert who_is(world.population(x, "1990")) == ([], [a])


def test_a_superseded_death_no_longer_bounds(world: World) -> None:
    p = world.person("Aron Baron")
    x = world.place("Kharkov prison")
    world.custody(p, x, "1930")
    old = world.claim({"kind": "death", "person": p, "date": "1937"})
    assert who_is(world.population(x, "1938")) == ([], [])
    new = world.claim({"kind": "death", "person": p, "date": "1940", "supersedes": old}, who="dave")
    assert who_is(world.population(x, "1938")) == ([], [p])
    assert who_is(world.population(x, "1941")) == ([], [])
    review(world, new, "contest", "carol")  # the successor no longer approved: the old one counts
    assert who_is(world.population(x, "1938")) == ([], [])


def test_incremental_tables_equal_rebuilt_ones_after_merges_and_reviews(world: World) -> None:
    test_a_death_two_merges_away_bounds_the_episode(world)
    test_a_superseded_death_no_longer_bounds(world)
    archive = world.api.client.app.state.archive
    tables = list(archive.runner.get("population").ddl)
    live = content_hash(archive.read(), tables)
    bounds = archive.read().execute(
        "SELECT count(*) FROM custody_episodes WHERE open_bound IS NOT NULL").fetchone()[0]
    assert bounds >= 1
    assert rebuild(archive, "population") == live


def test_open_lists_only_the_claims_of_possible_persons(world: World) -> None:
    p, q = world.person("Certain anyway"), world.person("Only possible")
    x = world.place("Butyrka")
    world.custody(p, x, "1940", "1948")
    world.custody(p, x, "1941")  # open, but p is certain in 1944: nothing to flag
    open_claim = world.custody(q, x, "1941")
    body = world.population(x, "1944")
    assert who_is(body) == ([p], [q]) and body["open"] == [open_claim]
    assert body["possible"][0]["open_end"] is True
