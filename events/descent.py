"""Sources' descent (issue 22): which sources are one witness, as a pure rule.

Approved links between registered sources (`derivation` claims, and citations' `via` links)
form a graph: a source points to what it derives from. A claim's ancestry is its cited source,
the sources its citation's `via` names, and everything those derive from, followed at most
`DEPTH` links. Claims are independent witnesses when no two ancestries share a source: an
original memoir, its reprint and a translation of the reprint are one witness. The graph is
read when a question is asked (projections.descent), so approving a link changes no stored
document.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

DEPTH = 8  # links followed from a cited source: a chain longer than this is cut there

Parents = Mapping[str, Iterable[str]]


def closure(start: Iterable[str], step: Callable[[set[str]], Parents],
            depth: int = DEPTH) -> dict[str, int]:
    """Return every source reachable from `start` within `depth` links, with its distance
    (the start at 0). `step(frontier)` answers each frontier source's neighbours; it is asked
    once per level, so a graph held in a database is read level by level. Cycles end."""
    seen = {s: 0 for s in start}
    frontier = set(seen)
    for level in range(1, depth + 1):
        if not frontier:
            break
        found = step(frontier)
        frontier = {n for s in frontier for n in found.get(s, ()) if n not in seen}
        for n in frontier:
            seen[n] = level
    return seen


def ancestry(start: Iterable[str], parents: Parents, depth: int = DEPTH) -> set[str]:
    """The sources `start` derive from (within `depth` links), `start` included."""
    return set(closure(start, lambda frontier: parents, depth))


def independent(ancestries: Sequence[set[str]]) -> bool:
    """True when no two ancestries share a source: the claims are that many witnesses."""
    seen: set[str] = set()
    for mine in ancestries:
        if seen & mine:
            return False
        seen |= mine
    return True


def reached(start: str, step: Callable[[set[str]], Mapping[str, Iterable[tuple[str, str]]]],
            depth: int = DEPTH) -> dict[str, tuple[int, str, str]]:
    """Return every source reachable from `start` within `depth` links (itself excluded) with
    (distance, the nearer source whose link reached it, that link's relation); of several
    links at one distance, the first in (nearer source, relation) order. `step` as for
    `closure`, its neighbours paired with the link's relation."""
    out: dict[str, tuple[int, str, str]] = {}
    frontier = {start}
    for level in range(1, depth + 1):
        if not frontier:
            break
        found = step(frontier)
        nxt: set[str] = set()
        for near in sorted(frontier):
            for other, relation in sorted(found.get(near, ())):
                if other != start and other not in out:
                    out[other] = (level, near, relation)
                    nxt.add(other)
        frontier = nxt
    return out
