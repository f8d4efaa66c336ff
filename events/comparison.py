"""When two sources' values for one fact can both be true (issue 22, item 1): the one pure rule
the biographies use for conflicts and agreements (births, deaths, executions, statements of a
single-valued property, and claims linked as the same event by `same_event`). No database, no
HTTP.

Two values **conflict** only when they cannot both be true. A date is compared by its bounds
(its earliest and latest possible day, as stored, margins included): bounds that share no day
conflict; equal bounds are the same; bounds inside the other's refine it (the narrower makes
the wider precise: "born 1899" and "born 2 May 1899" agree, with a precision note); bounds that
overlap otherwise are compatible (neither conflict nor agreement). A reference (a place, an
organ, an authority) is the same when it names the same id and conflicts otherwise. A value
that one of the claims leaves out is not compared.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import combinations
from typing import Literal

import msgspec
from starosta.events.dates import Day

Verdict = Literal["same", "refines", "compatible", "conflict"]
Bounds = tuple[Day | None, Day | None]  # earliest, latest (None: open at that end)

# The fields compared per kind: dates (by bounds) and references (by id). A kind not named
# here compares its DATES and the references of SAME_EVENT_REFS it has.
SAME_EVENT_REFS: tuple[str, ...] = ("place", "organ", "authority", "destination")


class Fact(msgspec.Struct, frozen=True, kw_only=True):
    """One claim's values for the fields compared: a claim id, its dates' bounds (field ->
    bounds) and its references (field -> id); a field left out is not compared."""

    claim: str
    dates: Mapping[str, Bounds] = {}
    refs: Mapping[str, str] = {}


class Outcome(msgspec.Struct, frozen=True, kw_only=True):
    """What a set of facts says together: `conflicts` (field -> the pairs of claims whose values
    cannot both be true), `notes` (precision notes: "C2 makes C1's date precise"), and whether
    the claims agree (`agree`: no conflict, and every pair gives at least one field alike: the
    same or refined; a pair that compares nothing, or only overlapping dates, does not agree)."""

    conflicts: dict[str, list[tuple[str, str]]]
    notes: list[str]
    agree: bool


def compare_bounds(a: Bounds, b: Bounds) -> Verdict:
    """Compare two dates by their bounds: "conflict" when they share no day, "same" when equal,
    "refines" when one lies inside the other, else "compatible" (they overlap)."""
    (alo, ahi), (blo, bhi) = a, b
    if (ahi is not None and blo is not None and ahi < blo) or \
            (bhi is not None and alo is not None and bhi < alo):
        return "conflict"
    if a == b:
        return "same"
    if _inside(a, b) or _inside(b, a):
        return "refines"
    return "compatible"


def _inside(inner: Bounds, outer: Bounds) -> bool:
    """True when every day `inner` allows is allowed by `outer`."""
    lo_ok = outer[0] is None or (inner[0] is not None and inner[0] >= outer[0])
    hi_ok = outer[1] is None or (inner[1] is not None and inner[1] <= outer[1])
    return lo_ok and hi_ok


def narrower(a: Bounds, b: Bounds) -> int:
    """Return 0 when `a` lies inside `b` (a refines b), 1 when b lies inside a (call only when
    compare_bounds gave "refines")."""
    return 0 if _inside(a, b) else 1


def compare_refs(a: str, b: str) -> Verdict:
    """Compare two references: the same id is the same, another id conflicts."""
    return "same" if a == b else "conflict"


def compare(facts: Sequence[Fact]) -> Outcome:
    """Compare every pair of facts on every field both give (module docstring)."""
    conflicts: dict[str, list[tuple[str, str]]] = {}
    notes: list[str] = []
    agree = True
    for x, y in combinations(facts, 2):
        said_same = False
        compared = False
        for field in sorted(set(x.dates) & set(y.dates)):
            compared = True
            verdict = compare_bounds(x.dates[field], y.dates[field])
            if verdict == "conflict":
                conflicts.setdefault(field, []).append((x.claim, y.claim))
            elif verdict == "refines":
                said_same = True
                fine, wide = (x, y) if narrower(x.dates[field], y.dates[field]) == 0 else (y, x)
                notes.append(f"{fine.claim} makes {wide.claim}'s {field} precise")
            elif verdict == "same":
                said_same = True
            else:
                notes.append(f"{x.claim} and {y.claim} give overlapping {field}s: compatible")
        for field in sorted(set(x.refs) & set(y.refs)):
            compared = True
            if compare_refs(x.refs[field], y.refs[field]) == "conflict":
                conflicts.setdefault(field, []).append((x.claim, y.claim))
            else:
                said_same = True
        if not (compared and said_same):
            agree = False
    return Outcome(conflicts=conflicts, notes=notes, agree=agree and not conflicts)


def same_event_problem(own_kind: str, other_kind: str, other_id: str, supersedes: str | None,
                       denies: str | None) -> str | None:
    """Return why a claim may not say it is about the same event as `other_id` (a claim of
    `other_kind`), or None: the two are claims of one kind, and a claim does not both tell the
    same event as a claim and correct or deny it."""
    if own_kind != other_kind:
        return (f"same_event links claims of one kind: this claim is a {own_kind}, "
                f"{other_id} a {other_kind}")
    if other_id in (supersedes, denies):
        return ("a claim that supersedes or denies another does not also tell the same event "
                "as it")
    return None


def events_of(links: Mapping[str, str], ids: Sequence[str]) -> list[list[str]]:
    """Group claims into events: `links` claim -> the claim it names as `same_event`; `ids` the
    claims present, in order. Returns the groups of more than one claim (linked directly or
    through others, among the claims present), each in the order of `ids`."""
    present = set(ids)
    parent = {i: i for i in ids}

    def root(i: str) -> str:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for claim, other in links.items():
        if claim in present and other in present:
            parent[root(claim)] = root(other)
    groups: dict[str, list[str]] = {}
    for i in ids:
        groups.setdefault(root(i), []).append(i)
    return [g for g in groups.values() if len(g) > 1]
