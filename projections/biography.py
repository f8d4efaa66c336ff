"""Biographies assembled from a person's claims: names, birth and death, affiliations, a
timeline sorted by earliest possible day, conflicts shown side by side, and custody totals
with their uncertainty beside the totals the sources state. Pure: no database, no parsing."""

from __future__ import annotations

import datetime as dt
from itertools import combinations
from typing import Any

import msgspec

from starosta.events.dates import DateValue, sort_key, surely_covered
from starosta.projections.figures import Total, custody_total


class ClaimView(msgspec.Struct, kw_only=True):
    """A claim as a reader sees it at some point of the log."""

    id: str
    kind: str
    status: str
    contributor: str
    version: int
    position: int
    claim: dict[str, Any]
    dates: dict[str, DateValue]
    superseded_by: str | None = None


class Entry(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One claim in a biography, with its sources and its review state."""

    claim: str
    kind: str
    status: str
    earliest: dt.date | None
    latest: dt.date | None
    dates: dict[str, DateValue]
    fields: dict[str, Any]
    citation: dict[str, Any]
    source_label: str | None = None
    flags: list[str] = []


class Conflict(msgspec.Struct, kw_only=True):
    """Approved claims that disagree, listed side by side; the archive does not choose."""

    kind: str
    detail: str
    claims: list[str]


class Stated(msgspec.Struct, kw_only=True, omit_defaults=True):
    claim: str
    total: str
    days: int | None = None
    qualifier: str
    scope: str


class CustodyFigures(msgspec.Struct, kw_only=True):
    """Computed totals (union of intervals, days, both ends counted) beside the sources' own."""

    confinement: Total
    exile: Total
    stated: list[Stated]


class Biography(msgspec.Struct, kw_only=True):
    id: str
    label: str
    partial: bool = False
    requested: str | None = None
    merged_from: list[str] = []
    as_of: dict[str, Any] | None = None
    names: list[Entry] = []
    births: list[Entry] = []
    deaths: list[Entry] = []
    affiliations: list[Entry] = []
    timeline: list[Entry] = []
    conflicts: list[Conflict] = []
    custody: CustodyFigures


_SUMMARY = {"birth": "births", "death": "deaths", "affiliation": "affiliations", "name": "names"}
_SKIP = {"kind", "citation", "said", "note", "supersedes", "calendar"}


def entry(view: ClaimView, sources: dict[str, str]) -> Entry:
    """Return a claim's biography entry (its bounds are the widest of its dates)."""
    values = sorted(view.dates.values(), key=sort_key)
    earliest = values[0].earliest if values else None
    latests = [v.latest for v in view.dates.values() if v.latest is not None]
    flags = [view.status] if view.status != "approved" else []
    fields = {k: v for k, v in view.claim.items() if k not in _SKIP}
    for extra in ("said", "note", "calendar"):
        if extra in view.claim:
            fields[extra] = view.claim[extra]
    return Entry(claim=view.id, kind=view.kind, status=view.status, earliest=earliest,
                 latest=max(latests) if latests else None, dates=view.dates, fields=fields,
                 citation=view.claim["citation"], source_label=sources.get(view.claim["citation"]["source"]),
                 flags=flags)


def timeline_key(e: Entry) -> tuple:
    return (e.earliest is None, e.earliest or dt.date.min, e.latest is None,
            e.latest or dt.date.max, e.claim)


def conflicts(views: list[ClaimView]) -> list[Conflict]:
    """Approved claims that disagree: births or deaths with another date or place; custody
    surely in two places on one day."""
    out = []
    approved = [v for v in views if v.status == "approved"]
    for kind in ("birth", "death"):
        mine = [v for v in approved if v.kind == kind]
        if len({(v.claim.get("date"), v.claim.get("place")) for v in mine}) > 1:
            out.append(Conflict(kind=kind, detail=f"{len(mine)} {kind} claims disagree on date or place",
                                claims=[v.id for v in mine]))
    custody = [v for v in approved if v.kind == "custody" and v.claim.get("place")]
    for a, b in combinations(custody, 2):
        if a.claim["place"] == b.claim["place"]:
            continue
        sa, sb = _sure(a), _sure(b)
        if sa and sb and sa[0] <= sb[1] and sb[0] <= sa[1]:
            lo, hi = max(sa[0], sb[0]), min(sa[1], sb[1])
            if lo == hi and (sa[1] == sb[0] or sb[1] == sa[0]):
                continue  # one ends the day the other begins: a transfer day, not a conflict
            out.append(Conflict(kind="custody_overlap",
                                detail=f"held surely at two places from {lo} to {hi}",
                                claims=[a.id, b.id]))
    return out


def _sure(v: ClaimView) -> tuple[dt.date, dt.date] | None:
    return surely_covered(v.dates.get("start"), v.dates.get("end"))


def custody_figures(views: list[ClaimView]) -> CustodyFigures:
    """Totals of approved custody episodes, confinement apart from exile, beside stated totals."""
    approved = [v for v in views if v.status == "approved"]
    episodes = {"confinement": [], "exile": []}
    for v in approved:
        if v.kind == "custody":
            group = "exile" if v.claim["custody"] == "exile" else "confinement"
            episodes[group].append((v.id, v.dates.get("start"), v.dates.get("end")))
    stated = [Stated(claim=v.id, total=v.claim["total"], days=v.claim.get("days"),
                     qualifier=v.claim.get("qualifier", "about"), scope=v.claim.get("scope", "all"))
              for v in approved if v.kind == "custody_total"]
    return CustodyFigures(confinement=custody_total(episodes["confinement"]),
                          exile=custody_total(episodes["exile"]), stated=stated)


def assemble(person: dict[str, Any], views: list[ClaimView], sources: dict[str, str],
             merged_from: list[str], requested: str | None,
             as_of: dict[str, Any] | None) -> Biography:
    """Return the biography of `person` (its registration data) from the claims given.

    `views` must already hold only what the reader may see, without superseded claims.
    """
    bio = Biography(id=person["person_id"], label=person["label"], partial=person.get("partial", False),
                    requested=requested, merged_from=merged_from, as_of=as_of,
                    custody=custody_figures(views), conflicts=conflicts(views))
    for view in views:
        e = entry(view, sources)
        section = _SUMMARY.get(view.kind)
        if section:
            getattr(bio, section).append(e)
        if view.kind != "name":
            bio.timeline.append(e)
    bio.timeline.sort(key=timeline_key)
    for section in ("births", "deaths", "affiliations"):
        getattr(bio, section).sort(key=timeline_key)
    return bio

