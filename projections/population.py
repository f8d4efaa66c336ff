"""The population read model: custody episodes by place, each with the bound of its unknown end
kept current; the deaths and merges that bound them; the counts sources report about unnamed
groups at a place; and every query on them: who was held at a place in a span
(`population_at`), and the same figures per year or month (`timeline`).

An episode with no known end is never closed by a guess. For `possible` it is bounded, as
API.md says, by the person's next dated custody elsewhere (its latest possible start) or death
or execution (its latest possible day), over the whole merge group and counting only approved,
unsuperseded claims. That bound is stored with the episode (`open_bound`) and recomputed once
per batch of events, in `finish`, for every merge group the batch touched. Everything it needs
(deaths, merges) is kept in this read model's own tables, so it rebuilds alone from the log.
"""

from __future__ import annotations

import bisect
import datetime as dt
import sqlite3
from collections.abc import Iterable, Sequence

import msgspec

from starosta.events.dates import may_meet, sure_meet_bounds, surely_meets
from starosta.events.errors import Invalid, NotFound
from starosta.events.kinds import AggregateClaim, Citation, CustodyClaim, DeathClaim, ExecutionClaim, Subset
from starosta.events.registry import PersonMerged, PersonUnmerged
from starosta.events.review import ClaimSubmitted
from starosta.events.store import Envelope
from starosta.projections import registry
from starosta.projections.claim_index import STATUS, ClaimIndex
from starosta.projections.rules import Supersession
from starosta.projections.registry import Ref
from starosta.projections.runner import Tables

Day = dt.date
MAX_PERIODS = 1200
_CHUNK = 500  # ids per IN (...) list, well under SQLite's variable limit


def _iso(d: Day | None) -> str | None:
    return d.isoformat() if d is not None else None


def _day(text: str | None) -> Day | None:
    return Day.fromisoformat(text) if text else None


def _chunks(ids: Iterable[str]) -> Iterable[list[str]]:
    wanted = sorted(set(ids))
    for start in range(0, len(wanted), _CHUNK):
        yield wanted[start:start + _CHUNK]


# -- the writer ------------------------------------------------------------------------------

class PopulationProjection(ClaimIndex):
    """Custody episodes and place aggregates by place; deaths and merges to bound open ends."""

    name = "population"
    version = 5  # 5: only counts of people held, dead, shot or arrived are reported
    indexed = ("custody_episodes", "place_aggregates", "population_deaths")
    ddl = {
        "custody_episodes": ["""CREATE TABLE {name} (
            claim_id TEXT PRIMARY KEY, status TEXT NOT NULL, superseded_by TEXT,
            person_id TEXT NOT NULL, place_id TEXT, custody TEXT NOT NULL,
            start_earliest TEXT, start_latest TEXT, end_earliest TEXT, end_latest TEXT,
            open_bound TEXT, position INTEGER NOT NULL)""",
            "CREATE INDEX {name}_place ON {name} (place_id, start_earliest)",
            "CREATE INDEX {name}_person ON {name} (person_id)"],
        "place_aggregates": ["""CREATE TABLE {name} (
            claim_id TEXT PRIMARY KEY, status TEXT NOT NULL, superseded_by TEXT,
            place_id TEXT NOT NULL, earliest TEXT, latest TEXT, count INTEGER NOT NULL,
            qualifier TEXT NOT NULL, group_name TEXT NOT NULL, date TEXT, of_whom TEXT NOT NULL,
            citation TEXT NOT NULL, position INTEGER NOT NULL)""",
            "CREATE INDEX {name}_place ON {name} (place_id, earliest)"],
        # death and execution claims: the latest possible day of each (NULL when undated)
        "population_deaths": ["""CREATE TABLE {name} (
            claim_id TEXT PRIMARY KEY, status TEXT NOT NULL, superseded_by TEXT,
            person_id TEXT NOT NULL, latest TEXT, position INTEGER NOT NULL)""",
            "CREATE INDEX {name}_person ON {name} (person_id)"],
        # merged records only, as registry.survivor and merged_records read a persons table
        "population_merges": ["CREATE TABLE {name} (id TEXT PRIMARY KEY, merged_into TEXT NOT NULL)",
                              "CREATE INDEX {name}_merged_into ON {name} (merged_into)"],
        "population_supersession": Supersession.ddl(),
    }

    def apply(self, conn: sqlite3.Connection, envelope: Envelope, t: Tables) -> None:
        e = envelope.event
        if isinstance(e, PersonMerged):
            conn.execute(f"INSERT OR REPLACE INTO {t['population_merges']} VALUES (?, ?)",
                         (e.person_id, e.into))
        elif isinstance(e, PersonUnmerged):
            conn.execute(f"DELETE FROM {t['population_merges']} WHERE id = ?", (e.person_id,))
        else:
            super().apply(conn, envelope, t)

    def rows(self, e: ClaimSubmitted, envelope: Envelope) -> dict[str, list[tuple]]:
        claim, pos = e.claim, envelope.position
        if isinstance(claim, CustodyClaim) and claim.person is not None:
            start, end = e.dates.get("start"), e.dates.get("end")
            return {"custody_episodes": [(
                e.claim_id, "pending", None, claim.person, claim.place, claim.custody,
                _iso(start.earliest) if start else None, _iso(start.latest) if start else None,
                _iso(end.earliest) if end else None, _iso(end.latest) if end else None,
                None, pos)]}
        if isinstance(claim, (DeathClaim, ExecutionClaim)):
            d = e.dates.get("date")
            return {"population_deaths": [(e.claim_id, "pending", None, claim.person,
                                           _iso(d.latest) if d else None, pos)]}
        if isinstance(claim, AggregateClaim) and claim.place and claim.status in REPORTED:
            d = e.dates.get("date")
            return {"place_aggregates": [(
                e.claim_id, "pending", None, claim.place, _iso(d.earliest) if d else None,
                _iso(d.latest) if d else None, claim.count, claim.qualifier, claim.group,
                claim.date, _encode(claim.of_whom), _encode(claim.citation), pos)]}
        return {}

    def finish(self, conn: sqlite3.Connection, t: Tables, envelopes: Sequence[Envelope], *,
               rebuilding: bool = False) -> None:
        """Recompute the open-end bounds of every merge group the batch touched (in rebuilds
        too: a batch's groups are few next to its events, so nothing is deferred)."""
        touched = _touched_records(conn, t, envelopes)
        if touched:
            refresh_open_bounds(conn, t, touched)


_encode = msgspec.json.Encoder().encode


def _touched_records(conn: sqlite3.Connection, t: Tables,
                     envelopes: Sequence[Envelope]) -> set[str]:
    """Return the person records whose group's bounds the batch may have changed: the person of
    a new custody claim; the persons of a reviewed custody, death or execution claim and of the
    claim it supersedes; both records of a merge or unmerge (a group that changed membership
    holds one of them when the batch ends)."""
    records: set[str] = set()
    reviewed: list[str] = []
    for envelope in envelopes:
        e = envelope.event
        if isinstance(e, ClaimSubmitted):
            if isinstance(e.claim, CustodyClaim) and e.claim.person:  # a new episode's own bound
                records.add(e.claim.person)
        elif isinstance(e, PersonMerged):
            records.update((e.person_id, e.into))
        elif isinstance(e, PersonUnmerged):
            records.update((e.person_id, e.from_person))
        elif type(e) in STATUS:
            reviewed.append(e.claim_id)  # type: ignore[attr-defined]
    if reviewed:
        claims = set(reviewed)
        for chunk in _chunks(reviewed):
            marks = ",".join("?" * len(chunk))
            claims.update(r[0] for r in conn.execute(
                f"SELECT supersedes FROM {t['population_supersession']} WHERE claim_id IN ({marks})",
                chunk))
        for chunk in _chunks(claims):
            marks = ",".join("?" * len(chunk))
            records.update(r[0] for r in conn.execute(
                f"SELECT person_id FROM {t['custody_episodes']} WHERE claim_id IN ({marks}) UNION "
                f"SELECT person_id FROM {t['population_deaths']} WHERE claim_id IN ({marks})",
                (*chunk, *chunk)))
    return records


def refresh_open_bounds(conn: sqlite3.Connection, t: Tables, records: Iterable[str]) -> int:
    """Recompute `open_bound` for every episode of the merge groups of `records`; write the
    ones that changed and return how many did."""
    merges = t["population_merges"]
    alive_of = registry.survivors(conn, records, merges)
    groups: dict[str, list[str]] = {}
    for alive in sorted({alive_of.get(r, r) for r in records}):
        groups[alive] = [alive, *registry.merged_records(conn, alive, merges)]
    group_of = {record: alive for alive, members in groups.items() for record in members}
    episodes: dict[str, list[tuple]] = {alive: [] for alive in groups}
    deaths: dict[str, str] = {}
    for chunk in _chunks(group_of):
        marks = ",".join("?" * len(chunk))
        for row in conn.execute(
                f"SELECT claim_id, status = 'approved' AND superseded_by IS NULL, person_id, place_id, "
                f"start_earliest, start_latest, end_latest, open_bound FROM {t['custody_episodes']} "
                f"WHERE person_id IN ({marks})", chunk):
            episodes[group_of[row[2]]].append(row)
        for person, latest in conn.execute(
                f"SELECT person_id, min(latest) FROM {t['population_deaths']} WHERE person_id IN "
                f"({marks}) AND status = 'approved' AND superseded_by IS NULL AND latest IS NOT NULL "
                f"GROUP BY person_id", chunk):
            alive = group_of[person]
            deaths[alive] = min(latest, deaths.get(alive, latest))
    changed = []
    for alive, rows in episodes.items():
        for claim_id, bound, old in open_bounds(rows, deaths.get(alive)):
            if bound != old:
                changed.append((bound, claim_id))
    conn.executemany(f"UPDATE {t['custody_episodes']} SET open_bound = ? WHERE claim_id = ?", changed)
    return len(changed)


def open_bounds(rows: list[tuple], death: str | None) -> Iterable[tuple[str, str | None, str | None]]:
    """Yield (claim id, bound, stored bound) for one merge group's episodes, given as rows
    (claim_id, counts, person, place, start_earliest, start_latest, end_latest, open_bound),
    `counts` true for approved unsuperseded ones, and the group's earliest latest death day.

    The bound of an episode with no known end: the least of that death day and the latest
    possible start of any counted episode at another place that surely starts after this one
    began (its earliest start after this one's earliest start). None when nothing bounds it;
    always None for an episode whose end is known. ISO days compare as strings."""
    later = sorted(((r[4], r[5], r[3]) for r in rows if r[1] and r[4] and r[5]),
                   key=lambda x: x[:2])  # places may be None
    keys = [start for start, _, _ in later]
    # suffix minima: the least latest start from index i on, and the least at another place
    best: list[tuple[str | None, str | None, str | None]] = [(None, None, None)] * (len(later) + 1)
    low, low_place, other = None, None, None
    for i in range(len(later) - 1, -1, -1):
        _, latest, place = later[i]
        if low is None:
            low, low_place = latest, place
        elif place == low_place:
            low = min(low, latest)
        elif latest < low:
            other, low, low_place = low, latest, place
        elif other is None or latest < other:
            other = latest
        best[i] = (low, low_place, other)
    for claim_id, _, _, place, start, _, end_latest, stored in rows:
        if end_latest is not None:
            yield claim_id, None, stored
            continue
        low, low_place, other = best[bisect.bisect_right(keys, start or "")]
        elsewhere = low if low_place != place else other
        bounds = [b for b in (elsewhere, death) if b is not None]
        yield claim_id, min(bounds) if bounds else None, stored


# -- the documents -----------------------------------------------------------------------------

class Span(msgspec.Struct, frozen=True):
    """A span of days as asked for: the EDTF text and its first and last day."""

    edtf: str
    earliest: Day
    latest: Day


class Held(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A person held at the place (a merged record shows as its survivor), with the custody
    claims that put them there; `open_end` when one of them has an end nothing bounds."""

    id: str
    name: str
    claims: list[str]
    open_end: bool = False


class SourceCitation(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A citation whose source is named: {"id", "label"}, with the locator and quoted words."""

    source: Ref
    locator: str | None = None
    quote: str | None = None
    via: tuple[str, ...] = ()


class Reported(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A count a source reports about an unnamed group at the place (never added to counts)."""

    claim: str
    count: int
    qualifier: str
    group: str
    date: str | None = None
    of_whom: tuple[Subset, ...] = ()
    citation: SourceCitation


class Population(msgspec.Struct, kw_only=True):
    """`certain`: surely held there on a day of the span; `possible`: could have been, not
    surely; disjoint. count_min = len(certain), count_max = count_min + len(possible).
    `open`: custody claims of possible persons whose end stays unknown even after bounding it
    by the person's next dated custody elsewhere or death."""

    place: Ref
    places: list[Ref]
    at: Span
    certain: list[Held]
    possible: list[Held]
    count_min: int
    count_max: int
    reported: list[Reported]
    open: list[str]


class Period(msgspec.Struct, kw_only=True):
    """One year or month of a timeline, with the figures /population gives for it."""

    period: str
    earliest: Day
    latest: Day
    count_min: int
    count_max: int
    reported: list[Reported]


class Timeline(msgspec.Struct, kw_only=True):
    """A place's population figures per period, in order."""

    place: Ref
    step: str
    items: list[Period]


# -- the queries -------------------------------------------------------------------------------

class _Episode(msgspec.Struct, frozen=True, gc=False):
    """A custody episode as queries evaluate it: dates as days, the open end's stored bound."""

    claim_id: str
    person: str
    start_earliest: Day | None
    start_latest: Day | None
    end_earliest: Day | None
    end_latest: Day | None
    bound: Day | None

    def sure(self) -> tuple[Day, Day] | None:
        """The stay's latest possible start and earliest possible end (events.dates.
        sure_meet_bounds; in either order), or None: it surely meets a span [a, b] iff the
        first is <= b and the second >= a (events.dates.surely_meets)."""
        return sure_meet_bounds(self.start_earliest, self.start_latest, self.end_earliest,
                                self.end_latest)

    def possible(self) -> tuple[Day | None, Day | None] | None:
        """The days possibly inside it (None = unbounded), or None when it has no date at all:
        then it is evidence of presence in no span."""
        hi = self.end_latest if self.end_latest is not None else self.bound
        return None if self.start_earliest is None and hi is None else (self.start_earliest, hi)


def _statuses_sql(statuses: Sequence[str]) -> str:
    return ",".join("?" * len(statuses))


def _episodes(conn: sqlite3.Connection, places: list[str], statuses: Sequence[str],
              span: Span | None = None) -> list[_Episode]:
    """Return the counted episodes at `places` by earliest start (unknown first), then in
    submission order; with `span`, at least those that may meet it (a superset: the rule is
    applied in Python)."""
    marks = ",".join("?" * len(places))
    where, args = "", []
    if span is not None:
        where = (" AND (start_earliest IS NULL OR start_earliest <= ?)"
                 " AND (end_latest IS NULL OR end_latest >= ?)")
        args = [span.latest.isoformat(), span.earliest.isoformat()]
    rows = conn.execute(
        f"SELECT claim_id, person_id, start_earliest, start_latest, end_earliest, end_latest, "
        f"open_bound FROM custody_episodes WHERE place_id IN ({marks}) AND superseded_by IS NULL "
        f"AND status IN ({_statuses_sql(statuses)}){where} ORDER BY start_earliest, position",
        (*places, *statuses, *args))
    return [_Episode(c, p, _day(a), _day(b), _day(d), _day(e), _day(f))
            for c, p, a, b, d, e, f in rows]


# The aggregates a population reports: counts of people held at the place, or who died, were
# shot or arrived there; the others (members of a union, workers discharged...) stay readable
# through GET /claims?place=.
REPORTED = ("held", "died", "shot", "arrived")


def _aggregates(conn: sqlite3.Connection, places: list[str],
                statuses: Sequence[str]) -> list[tuple]:
    """Return the dated counted aggregates at `places` as (earliest, latest, row), by date,
    then in submission order (an undated count belongs to no span)."""
    marks = ",".join("?" * len(places))
    rows = conn.execute(
        f"SELECT earliest, latest, claim_id, count, qualifier, group_name, date, of_whom, citation "
        f"FROM place_aggregates WHERE place_id IN ({marks}) AND superseded_by IS NULL "
        f"AND status IN ({_statuses_sql(statuses)}) AND (earliest IS NOT NULL OR latest IS NOT NULL) "
        f"ORDER BY earliest, position", (*places, *statuses))
    return [(_day(r[0]), _day(r[1]), r[2:]) for r in rows]


_subsets = msgspec.json.Decoder(tuple[Subset, ...])
_citation = msgspec.json.Decoder(Citation)


def _reported(rows: list[tuple], labels: dict[str, str]) -> list[Reported]:
    out = []
    for claim_id, count, qualifier, group, date, of_whom, citation in rows:
        c = _citation.decode(citation)
        source = Ref(c.source, labels.get(c.source, c.source))
        out.append(Reported(claim=claim_id, count=count, qualifier=qualifier, group=group, date=date,
                            of_whom=_subsets.decode(of_whom), citation=SourceCitation(
                                source=source, locator=c.locator, quote=c.quote, via=c.via)))
    return out


def _sources(rows: list[tuple]) -> set[str]:
    return {_citation.decode(r[-1]).source for r in rows}


def _place(conn: sqlite3.Connection, place_id: str, include_children: bool) -> list[str]:
    """Return the place and (when asked) the places under it; NotFound for an unknown place."""
    if not registry.exists(conn, "place", place_id):
        raise NotFound("place_id", place_id, "place")
    return registry.places_under(conn, place_id, include_children)


def population_at(conn: sqlite3.Connection, place_id: str, span: Span, statuses: Sequence[str],
                  include_children: bool = False) -> Population:
    """Return who was held at the place (and, with `include_children`, the places under it) in
    `span`, counting claims in `statuses`. Raises NotFound for an unknown place."""
    places = _place(conn, place_id, include_children)
    window = (span.earliest, span.latest)
    certain: dict[str, list[str]] = {}
    possible: dict[str, list[str]] = {}
    open_: set[str] = set()
    episodes = _episodes(conn, places, statuses, span)
    alive = registry.survivors(conn, {e.person for e in episodes})
    for e in episodes:
        person = alive.get(e.person, e.person)
        if surely_meets(e.sure(), *window):
            certain.setdefault(person, []).append(e.claim_id)
            continue
        days = e.possible()
        if days is not None and may_meet(days[0], days[1], *window):
            possible.setdefault(person, []).append(e.claim_id)
            if days[1] is None:
                open_.add(e.claim_id)
    aggregates = [r for lo, hi, r in _aggregates(conn, places, statuses) if may_meet(lo, hi, *window)]
    labels = registry.labels(conn, {*certain, *possible, *places, *_sources(aggregates)})
    held = [Held(id=p, name=labels.get(p, p), claims=c) for p, c in sorted(certain.items())]
    maybe = [Held(id=p, name=labels.get(p, p), claims=c, open_end=any(x in open_ for x in c))
             for p, c in sorted(possible.items()) if p not in certain]
    still_open = sorted(c for h in maybe for c in h.claims if c in open_)
    return Population(place=Ref(place_id, labels.get(place_id, place_id)),
                      places=[Ref(p, labels.get(p, p)) for p in places], at=span,
                      certain=held, possible=maybe, count_min=len(held),
                      count_max=len(held) + len(maybe), reported=_reported(aggregates, labels),
                      open=still_open)


def periods(step: str, first: Day, last: Day) -> list[tuple[str, Day, Day]]:
    """Return the years or months from `first` to `last` as (label, first day, last day)."""
    if step == "year":
        return [(str(y), Day(y, 1, 1), Day(y, 12, 31)) for y in range(first.year, last.year + 1)]
    out = []
    y, m = first.year, first.month
    while (y, m) <= (last.year, last.month):
        # December ends on the 31st: no first day of a next year (there is none after 9999)
        end = Day(y, 12, 31) if m == 12 else Day(y, m + 1, 1) - dt.timedelta(days=1)
        out.append((f"{y:04d}-{m:02d}", Day(y, m, 1), end))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _count_periods(step: str, first: Day, last: Day) -> int:
    years = last.year - first.year
    return years + 1 if step == "year" else years * 12 + last.month - first.month + 1


def timeline(conn: sqlite3.Connection, place_id: str, step: str, first: Span | None,
             last: Span | None, statuses: Sequence[str], include_children: bool = False) -> Timeline:
    """Return the place's figures per `step` ('year' or 'month') from `first` to `last` (by
    default from the earliest to the latest dated episode or count): each period's count_min,
    count_max and reported, as `population_at` gives them.

    The place's episodes are fetched once and every period is evaluated in Python: each
    episode meets a run of consecutive periods, found by bisection. Raises NotFound for an
    unknown place and Invalid for a reversed span or more than MAX_PERIODS periods."""
    places = _place(conn, place_id, include_children)
    if first is not None and last is not None and first.earliest > last.latest:
        raise Invalid("from", first.edtf, "after `to`", where="query",
                      detail=f"from={first.edtf!r} is after to={last.edtf!r}: the span is reversed")
    episodes = _episodes(conn, places, statuses)
    aggregates = _aggregates(conn, places, statuses)
    days = [d for e in episodes for d in (e.start_earliest, e.start_latest, e.end_earliest,
                                          e.end_latest) if d] + [d for a in aggregates for d in a[:2] if d]
    lo = first.earliest if first else (min(days) if days else None)
    hi = last.latest if last else (max(days) if days else None)
    spans = []
    if lo is not None and hi is not None and lo <= hi:
        n = _count_periods(step, lo, hi)
        if n > MAX_PERIODS:
            raise Invalid("step", step, "too many periods", where="query",
                          detail=f"step={step}: {n} periods; at most {MAX_PERIODS}: narrow it "
                                 f"with from= and to=")
        spans = periods(step, lo, hi)
    count_min, count_max, reported = _figures(conn, spans, episodes, aggregates)
    labels = registry.labels(conn, {place_id, *_sources([a[2] for a in aggregates])})
    rows = {a[2][0]: item for a, item in zip(aggregates, _reported([a[2] for a in aggregates], labels))}
    items = [Period(period=label, earliest=a, latest=b, count_min=count_min[i],
                    count_max=count_max[i], reported=[rows[c] for c in reported[i]])
             for i, (label, a, b) in enumerate(spans)]
    return Timeline(place=Ref(place_id, labels.get(place_id, place_id)), step=step, items=items)


def _figures(conn: sqlite3.Connection, spans: list[tuple[str, Day, Day]], episodes: list[_Episode],
             aggregates: list[tuple]) -> tuple[list[int], list[int], list[list[str]]]:
    """Return count_min, count_max and the reported aggregate claim ids of each span.

    A person counts in count_min for the periods one of their episodes surely meets
    (events.dates.surely_meets), and in count_max for those one surely or possibly meets: per
    person, the runs of periods are merged, then added up with a difference array."""
    n = len(spans)
    if not n:
        return [], [], []
    starts = [a for _, a, _ in spans]
    ends = [b for _, _, b in spans]

    def run(lo: Day | None, hi: Day | None) -> tuple[int, int] | None:
        """The periods [a, b] with b >= lo and a <= hi (half-open index range), or None. For a
        sure pair (latest start, earliest end), in either order, exactly those it surely meets:
        with lo > hi, the one period holding both days, if any."""
        i = bisect.bisect_left(ends, lo) if lo is not None else 0
        j = bisect.bisect_right(starts, hi) if hi is not None else n
        return (i, j) if i < j else None

    alive = registry.survivors(conn, {e.person for e in episodes})
    sure: dict[str, list[tuple[int, int]]] = {}
    any_: dict[str, list[tuple[int, int]]] = {}
    for e in episodes:
        person = alive.get(e.person, e.person)
        s = e.sure()
        if s is not None and (r := run(*s)):
            sure.setdefault(person, []).append(r)
            any_.setdefault(person, []).append(r)
        p = e.possible()
        if p is not None and (r := run(*p)):
            any_.setdefault(person, []).append(r)
    reported: list[list[str]] = [[] for _ in range(n)]
    for lo, hi, row in aggregates:
        if r := run(lo, hi):
            for i in range(*r):
                reported[i].append(row[0])
    return _tally(sure.values(), n), _tally(any_.values(), n), reported


def _tally(runs_per_person: Iterable[list[tuple[int, int]]], n: int) -> list[int]:
    """Return, per period, how many persons have a run covering it (runs: half-open ranges)."""
    diff = [0] * (n + 1)
    for runs in runs_per_person:
        runs.sort()
        lo, hi = runs[0]
        for a, b in runs[1:]:
            if a > hi:
                diff[lo] += 1
                diff[hi] -= 1
                lo, hi = a, b
            else:
                hi = max(hi, b)
        diff[lo] += 1
        diff[hi] -= 1
    out, total = [], 0
    for i in range(n):
        total += diff[i]
        out.append(total)
    return out
