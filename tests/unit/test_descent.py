"""The descent rule as pure functions (events.descent): ancestries within a bounded depth,
cycles ending, independence as no shared ancestor, and the nearest link reaching a source."""

from __future__ import annotations

from starosta.events.descent import DEPTH, ancestry, closure, independent, reached

# translation T of reprint R of memoir M; an excerpt X quotes T; B stands alone
PARENTS = {"T": {"R"}, "R": {"M"}, "X": {"T"}}


def test_ancestry_follows_links_transitively() -> None:
    assert ancestry({"T"}, PARENTS) == {"T", "R", "M"}
    assert ancestry({"X"}, PARENTS) == {"X", "T", "R", "M"}
    assert ancestry({"B"}, PARENTS) == {"B"}
    assert ancestry({"X"}, PARENTS, depth=1) == {"X", "T"}


def test_independence_is_no_shared_ancestor() -> None:
    assert not independent([ancestry({"M"}, PARENTS), ancestry({"T"}, PARENTS)])
    assert not independent([ancestry({"X"}, PARENTS), ancestry({"R"}, PARENTS)])
    assert independent([ancestry({"M"}, PARENTS), ancestry({"B"}, PARENTS)])
    assert independent([])


def test_the_depth_is_bounded_and_cycles_end() -> None:
    chain = {f"S{i}": {f"S{i + 1}"} for i in range(20)}
    found = closure({"S0"}, lambda frontier: chain)
    assert max(found.values()) == DEPTH == 8 and set(found) == {f"S{i}" for i in range(DEPTH + 1)}
    # a chain longer than DEPTH is cut: S0 and S12 are counted as two witnesses
    assert independent([ancestry({"S0"}, chain), ancestry({"S12"}, chain)])
    assert not independent([ancestry({"S0"}, chain), ancestry({"S8"}, chain)])
    cycle = {"A": {"B"}, "B": {"A"}}
    assert closure({"A"}, lambda frontier: cycle) == {"A": 0, "B": 1}


def test_closure_asks_once_per_level() -> None:
    asked: list[set[str]] = []

    def step(frontier: set[str]) -> dict[str, set[str]]:
        asked.append(set(frontier))
        return PARENTS

    closure({"X", "B"}, step)
    assert asked == [{"X", "B"}, {"T"}, {"R"}, {"M"}]


def test_reached_names_the_nearest_link() -> None:
    links = {"X": {("T", "excerpt_of"), ("M", "quoted_from")}, "T": {("R", "translation_of")},
             "R": {("M", "reprint_of")}}
    found = reached("X", lambda frontier: links)
    assert found == {"M": (1, "X", "quoted_from"), "T": (1, "X", "excerpt_of"),
                     "R": (2, "T", "translation_of")}
    assert reached("M", lambda frontier: links) == {}
