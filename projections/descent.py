"""Sources' descent read from the claims read model at question time (issue 22).

The links are the `source_links` rows of approved, unsuppressed claims (derivation claims and
citations' `via` links: projections.claims.parents/children). Independence is computed here
when a biography is read (`reassess`), never stored: approving a derivation claim recomputes
no document. The rule itself is events.descent.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Protocol

import msgspec
from msgspec import Meta

from starosta.events.descent import DEPTH, ancestry, closure, reached
from starosta.events.descent import independent as no_shared_ancestor
from starosta.events.store import Connection
from starosta.projections import claims as claims_model
from starosta.projections import registry
from starosta.projections.registry import Ref


def ancestries(conn: Connection, claim_ids: Sequence[str], depth: int = DEPTH) -> dict[str, set[str]]:
    """Return each claim's ancestry: its cited source, its `via` sources and what they derive
    from through approved links, within `depth` links."""
    cited = claims_model.cited_sources(conn, claim_ids)
    graph: dict[str, set[str]] = {}

    def step(frontier: set[str]) -> dict[str, set[str]]:
        found = claims_model.parents(conn, sorted(frontier - graph.keys()))
        for source in frontier - graph.keys():
            graph[source] = {p for p, _ in found.get(source, ())}
        return graph

    closure({s for sources in cited.values() for s in sources}, step, depth)
    return {c: ancestry(sources, graph, depth) for c, sources in cited.items()}


def independent(conn: Connection, claim_ids: Sequence[str]) -> bool:
    """True when no two of the claims' ancestries share a source (`ancestries`): the one
    function biographies call to say whether claims are more than one witness."""
    lines = ancestries(conn, claim_ids)
    return no_shared_ancestor([lines.get(c, {c}) for c in claim_ids])


class Witnesses(Protocol):
    """A conflict or an agreement: the claims it names and whether they are independent."""

    claims: list[str]
    independent: bool


def reassess(conn: Connection, groups: Sequence[Witnesses]) -> None:
    """Set `independent` on each conflict or agreement from the links approved now."""
    lines = ancestries(conn, sorted({c for g in groups for c in g.claims}))
    for g in groups:
        g.independent = no_shared_ancestor([lines.get(c, {c}) for c in g.claims])


class Kin(msgspec.Struct, kw_only=True):
    """A source one of whose ancestors or descendants this is: `depth` links away, reached by
    the link `relation` from or to `through` (the nearer source on the way)."""

    source: Annotated[Ref, Meta(description="The ancestor or descendant source")]
    depth: Annotated[int, Meta(description="How many links away it is (1: a direct link)")]
    relation: Annotated[str, Meta(description=(
        "The relation of the link that reached it: translation_of, quoted_from, reprint_of, "
        "excerpt_of or edition_of (the descendant is the translation, reprint ... of the other)"))]
    through: Annotated[Ref, Meta(description=(
        "The nearer source on the way, the other end of that link (the source itself at depth 1)"))]


class Descent(msgspec.Struct, kw_only=True):
    """A source's ancestors (what it derives from, transitively) and descendants (what derives
    from it), within `depth` links of approved links."""

    ancestors: list[Kin]
    descendants: list[Kin]
    depth: int


def descent(conn: Connection, source_id: str, depth: int = DEPTH) -> Descent:
    """Return a source's ancestors and descendants through approved links."""
    up = reached(source_id, lambda f: claims_model.parents(conn, sorted(f)), depth)
    down = reached(source_id, lambda f: claims_model.children(conn, sorted(f)), depth)
    labels = registry.labels(conn, {source_id, *up, *down, *(v[1] for v in up.values()),
                                    *(v[1] for v in down.values())})

    def ref(i: str) -> Ref:
        return Ref(i, labels.get(i, i))

    def kin(found: dict[str, tuple[int, str, str]]) -> list[Kin]:
        return [Kin(source=ref(s), depth=d, relation=r, through=ref(near))
                for s, (d, near, r) in sorted(found.items(), key=lambda x: (x[1][0], x[0]))]

    return Descent(ancestors=kin(up), descendants=kin(down), depth=depth)
