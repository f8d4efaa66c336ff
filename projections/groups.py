"""Groups in the population read model: the claims that name a group (an organisation of kind
group or colony) in place of a person, the memberships of organisations, and the counts
aggregates give of a registered group; with every query on those tables: a group's stays at
places, its members, a member's presence through the group's stay, an organisation's members
and own timeline, and the counts of one group that disagree.

`projections.population.PopulationProjection` writes these tables beside its own (so the
population read model rebuilds alone from the log); this module holds their DDL, their rows
and all their SQL. Review status and supersession come from `ClaimIndex` like every indexed
table: queries count rows whose `status` is among those asked for, `superseded_by IS NULL` and
`rank` not 'deprecated' (projections.rules.counts_sql).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from itertools import combinations
from typing import Any

import msgspec

from starosta.events.store import Connection
from starosta.events.claim_rules import presence
from starosta.events.dates import DateValue, bounds_key, may_meet, sure_meet_bounds, widened
from starosta.events.kinds import (
    AggregateClaim,
    Citation,
    CountRange,
    CountValue,
    CustodyClaim,
    GroupedClaim,
    GroupSubjectClaim,
    MembershipClaim,
    ViaLink,
    kind_of,
)
from starosta.events.review import ClaimSubmitted
from starosta.projections import descent, registry
from starosta.projections.registry import Ref
from starosta.projections.rules import COUNTS_APPROVED, counts_sql
from starosta.projections.sql import chunks, marks

Day = dt.date


def iso_day(d: Day | None) -> str | None:
    """A day as stored (ISO 8601), or None."""
    return d.isoformat() if d is not None else None


def day_of(text: str | None) -> Day | None:
    """A stored day (ISO 8601) as a date, or None."""
    return Day.fromisoformat(text) if text else None


def count_bounds(count: CountValue | None) -> tuple[int | None, int | None]:
    """A count's (min, max): an integer is both, a range its two ends, no count (None, None)."""
    if count is None:
        return None, None
    if isinstance(count, CountRange):
        return count.min, count.max
    return count, count


def count_value(low: int, high: int, ranged: bool) -> CountValue:
    """The count as its claim gave it, from its stored (min, max) and whether it was a range."""
    return CountRange(min=low, max=high) if ranged else low


# -- the tables ------------------------------------------------------------------------------

# The tables indexed by ClaimIndex (claim_id, status, superseded_by, rank first); `sources`
# columns hold a claim's cited source and the sources its citation's `via` links name, as JSON.
INDEXED = ("group_claims", "group_members", "group_aggregates")
DDL: dict[str, list[str]] = {
    # claims naming a group as their subject: custody, presence, transfer, arrest, release,
    # escape and protest, and (issue 20) sentence, accusation, occupation, affiliation, death,
    # execution, labour, letter and relation:
    # the span of their dates (start..end; a dated kind's date is both; an escape's date and
    # recapture), the place (a transfer's from_place) and the other place (a transfer's
    # to_place, a release's destination), the count as (min, max), `open_bound` for custody
    # stays with no end (as for persons), and what the timeline shows as JSON (Detail)
    "group_claims": ["""CREATE TABLE {name} (
        claim_id TEXT PRIMARY KEY, status TEXT NOT NULL, superseded_by TEXT,
        rank TEXT NOT NULL,
        group_id TEXT NOT NULL, kind TEXT NOT NULL, place_id TEXT, other_place TEXT,
        start_earliest TEXT, start_latest TEXT, end_earliest TEXT, end_latest TEXT,
        open_bound TEXT, count_min INTEGER, count_max INTEGER, detail TEXT NOT NULL,
        sources TEXT NOT NULL, position INTEGER NOT NULL)""",
        "CREATE INDEX {name}_place ON {name} (place_id, start_earliest)",
        "CREATE INDEX {name}_group ON {name} (group_id, position)"],
    # membership claims (of any organisation: few, and only groups' are read)
    "group_members": ["""CREATE TABLE {name} (
        claim_id TEXT PRIMARY KEY, status TEXT NOT NULL, superseded_by TEXT,
        rank TEXT NOT NULL,
        person_id TEXT NOT NULL, group_id TEXT NOT NULL,
        start_earliest TEXT, start_latest TEXT, end_earliest TEXT, end_latest TEXT,
        position INTEGER NOT NULL)""",
        "CREATE INDEX {name}_group ON {name} (group_id)",
        "CREATE INDEX {name}_person ON {name} (person_id)"],
    # aggregates naming their group (`group_id`), at any place or none, whatever they count
    "group_aggregates": ["""CREATE TABLE {name} (
        claim_id TEXT PRIMARY KEY, status TEXT NOT NULL, superseded_by TEXT,
        rank TEXT NOT NULL,
        group_id TEXT NOT NULL, counted TEXT NOT NULL, qualifier TEXT NOT NULL,
        count_min INTEGER NOT NULL, count_max INTEGER NOT NULL, earliest TEXT, latest TEXT,
        sources TEXT NOT NULL, position INTEGER NOT NULL)""",
        "CREATE INDEX {name}_group ON {name} (group_id)"],
    # the claims ranked preferred (claim.ranked), to mark them in conflicts
    "group_preferred": ["CREATE TABLE {name} (claim_id TEXT PRIMARY KEY)"],
}


class Detail(msgspec.Struct, frozen=True, omit_defaults=True):
    """What a group's timeline shows of a claim, as the claim gave it: its dates, places and
    count, and (`fields`) what else it says (`stated`), entity fields among them (`refs`)."""

    dates: dict[str, str] = {}
    places: dict[str, str] = {}
    count: CountValue | None = None
    fields: dict[str, Any] = {}
    refs: tuple[str, ...] = ()


# The fields a group's timeline shows apart, or never (the subject, and what every claim has)
_NOT_STATED = {"kind", "citation", "said", "note", "supersedes", "calendar", "group", "count",
               "person", "person_said", "with"}


def stated(claim: Any) -> tuple[dict[str, Any], tuple[str, ...]]:
    """What a claim naming a group says besides its dates, places and count (a sentence's kind
    and term, an accusation, an occupation, a death's manner, its certainty...), as
    submitted; and which of those fields name entities (an authority, a relation's other)."""
    skip = _NOT_STATED | set(claim.DATES) | set(_PLACES)
    fields = {k: v for k, v in msgspec.to_builtins(claim).items() if k not in skip}
    return fields, tuple(sorted(f for f in fields if f in claim.REFS))


_encode = msgspec.json.Encoder().encode
_detail = msgspec.json.Decoder(Detail)
_names = msgspec.json.Decoder(list[str])
_PLACES = ("place", "from_place", "to_place", "destination")


def _span(claim, dates: dict[str, DateValue]) -> tuple[DateValue | None, DateValue | None]:
    """A grouped claim's (start, end): its interval's two dates, or its one date twice."""
    if claim.INTERVAL is not None:
        return dates.get(claim.INTERVAL[0]), dates.get(claim.INTERVAL[1])
    d = dates.get(claim.DATES[0]) if claim.DATES else None
    return d, d


def _sources(citation: Citation) -> bytes:
    """A citation's ancestors: its source and the sources its `via` links name (JSON)."""
    return _encode(sorted({citation.source, *(link.source for link in citation.via
                                              if isinstance(link, ViaLink))}))


def rows(e: ClaimSubmitted, position: int) -> dict[str, list[tuple]]:
    """The rows a submitted claim adds to the group tables (pending until reviewed)."""
    claim = e.claim
    kind = kind_of(claim)
    if isinstance(claim, GroupedClaim | GroupSubjectClaim) and claim.group is not None:
        start, end = _span(claim, e.dates)
        start, end = widened(start), widened(end)  # the date margins (D5)
        places = {f: getattr(claim, f) for f in _PLACES if getattr(claim, f, None) is not None}
        place = places.get("place") or places.get("from_place")
        other = places.get("to_place") or places.get("destination")
        low, high = count_bounds(claim.count)
        fields, refs = stated(claim)
        detail = Detail(dates={f: getattr(claim, f) for f in claim.DATES if getattr(claim, f, None)},
                        places=places, count=claim.count, fields=fields, refs=refs)
        return {"group_claims": [(
            e.claim_id, "pending", None, "normal", claim.group, kind, place, other,
            iso_day(start.earliest) if start else None, iso_day(start.latest) if start else None,
            iso_day(end.earliest) if end else None, iso_day(end.latest) if end else None,
            None, low, high, _encode(detail), _sources(claim.citation), position)]}
    if isinstance(claim, MembershipClaim):
        start, end = widened(e.dates.get("start")), widened(e.dates.get("end"))
        return {"group_members": [(
            e.claim_id, "pending", None, "normal", claim.person, claim.organization,
            iso_day(start.earliest) if start else None, iso_day(start.latest) if start else None,
            iso_day(end.earliest) if end else None, iso_day(end.latest) if end else None, position)]}
    if isinstance(claim, AggregateClaim) and claim.group_id is not None:
        d = widened(e.dates.get("date"))
        low, high = count_bounds(claim.count)
        return {"group_aggregates": [(
            e.claim_id, "pending", None, "normal", claim.group_id, claim.status, claim.qualifier,
            low, high, iso_day(d.earliest) if d else None, iso_day(d.latest) if d else None,
            _sources(claim.citation), position)]}
    return {}


def ranked(conn: Connection, table: str, claim_id: str, rank: str) -> None:
    """Record a claim's rank in `table` (the physical group_preferred table)."""
    if rank == "preferred":
        conn.execute(f"INSERT INTO {table} VALUES (?) ON CONFLICT DO NOTHING", (claim_id,))
    else:
        conn.execute(f"DELETE FROM {table} WHERE claim_id = ?", (claim_id,))


def touched_groups(e: ClaimSubmitted) -> str | None:
    """The group whose custody stays' open-end bounds a new claim may change, or None."""
    claim = e.claim
    return claim.group if isinstance(claim, CustodyClaim) else None


def groups_of_claims(conn: Connection, table: str, claims: Iterable[str]) -> set[str]:
    """The groups of those of `claims` that are custody stays of a group (`table`: the
    physical group_claims table)."""
    found: set[str] = set()
    for chunk in chunks(claims):
        found.update(r[0] for r in conn.execute(
            f"SELECT group_id FROM {table} WHERE kind = 'custody' AND claim_id IN ({marks(chunk)})",
            chunk))
    return found


def refresh_group_bounds(conn: Connection, table: str, groups: Iterable[str],
                         open_bounds) -> int:
    """Recompute `open_bound` for every custody stay of `groups` by the persons' rule
    (`open_bounds`: the group's next dated custody stay elsewhere; a group has no death); write
    the ones that changed and return how many did."""
    changed = []
    for group in sorted(set(groups)):
        stays = conn.execute(
            f"SELECT claim_id, {COUNTS_APPROVED}, group_id, place_id, "
            f"start_earliest, start_latest, end_latest, open_bound FROM {table} "
            f"WHERE group_id = ? AND kind = 'custody' ORDER BY claim_id", (group,)).fetchall()
        for claim_id, bound, old in open_bounds(stays, None):
            if bound != old:
                changed.append((bound, claim_id))
    conn.executemany(f"UPDATE {table} SET open_bound = ? WHERE claim_id = ?", changed)
    return len(changed)


# -- stays and memberships as queries evaluate them --------------------------------------------

class Stay(msgspec.Struct, frozen=True, gc=False):
    """A custody stay (of a person or a group: `subject`) as queries evaluate it: dates as
    days, the open end's stored bound; a group's count as (min, max), None when uncounted."""

    claim_id: str
    subject: str
    start_earliest: Day | None
    start_latest: Day | None
    end_earliest: Day | None
    end_latest: Day | None
    bound: Day | None
    count_min: int | None = None
    count_max: int | None = None

    @property
    def person(self) -> str:
        """The person of a person's custody episode (its `subject`)."""
        return self.subject

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


class Membership(msgspec.Struct, frozen=True, gc=False):
    """A person's membership of a group, with its dates' bounds (None = unknown)."""

    claim_id: str
    person: str
    group: str
    start_earliest: Day | None
    start_latest: Day | None
    end_earliest: Day | None
    end_latest: Day | None

    def through(self, stay: Stay) -> tuple[tuple[Day, Day] | None, tuple[Day | None, Day | None] | None]:
        """Return how the member is at the place of the group's `stay`: (sure, possible).

        `sure`: a pair for events.dates.surely_meets, or None: the member is surely there on
        a day of [a, b] iff every reading of both the membership and the stay shares a day of
        it: with (latest start, earliest end) of each as sure_meet_bounds gives them, iff each
        latest start is <= the other's earliest end (they surely overlap) and the later latest
        start <= b and the earlier earliest end >= a. An undated membership is never sure.
        `possible`: the days where both may hold (None = unbounded; an undated membership may
        hold any day), or None when they cannot meet or the stay has no date at all."""
        mine = sure_meet_bounds(self.start_earliest, self.start_latest, self.end_earliest,
                                self.end_latest)
        theirs = stay.sure()
        sure = None
        if mine is not None and theirs is not None and mine[0] <= theirs[1] and theirs[0] <= mine[1]:
            sure = (max(mine[0], theirs[0]), min(mine[1], theirs[1]))
        days = stay.possible()
        if days is None:
            return sure, None
        lows = [d for d in (self.start_earliest, days[0]) if d is not None]
        highs = [d for d in (self.end_latest, days[1]) if d is not None]
        lo, hi = max(lows, default=None), min(highs, default=None)
        if lo is not None and hi is not None and lo > hi:
            return sure, None
        return sure, (lo, hi)


def stays_at(conn: Connection, places: list[str], statuses: Sequence[str],
             span: tuple[Day, Day] | None = None) -> list[Stay]:
    """Return the counted custody stays of groups at `places` by earliest start (unknown
    first), then in submission order; with `span`, at least those that may meet it."""
    counting, counting_args = counts_sql(statuses)
    where, args = "", []
    if span is not None:
        where = (" AND (start_earliest IS NULL OR start_earliest <= ?)"
                 " AND (end_latest IS NULL OR end_latest >= ?)")
        args = [span[1].isoformat(), span[0].isoformat()]
    rows = conn.execute(
        f"SELECT claim_id, group_id, start_earliest, start_latest, end_earliest, end_latest, "
        f"open_bound, count_min, count_max FROM group_claims WHERE kind = 'custody' "
        f"AND place_id IN ({marks(places)}) AND {counting}{where} "
        f"ORDER BY start_earliest IS NOT NULL, start_earliest, position",
        (*places, *counting_args, *args))
    return [Stay(c, g, day_of(a), day_of(b), day_of(d), day_of(e), day_of(f), lo, hi)
            for c, g, a, b, d, e, f, lo, hi in rows]


def memberships(conn: Connection, groups: Iterable[str],
                statuses: Sequence[str]) -> list[Membership]:
    """Return the counted membership claims of `groups`, in submission order."""
    counting, counting_args = counts_sql(statuses)
    out = []
    for chunk in chunks(groups):
        out += [(pos, Membership(c, p, g, day_of(a), day_of(b), day_of(d), day_of(e)))
                for c, p, g, a, b, d, e, pos in conn.execute(
                    f"SELECT claim_id, person_id, group_id, start_earliest, start_latest, "
                    f"end_earliest, end_latest, position FROM group_members "
                    f"WHERE group_id IN ({marks(chunk)}) AND {counting}", (*chunk, *counting_args))]
    return [m for _, m in sorted(out, key=lambda x: x[0])]


# -- counts of one group that disagree --------------------------------------------------------

class CountConflict(msgspec.Struct, kw_only=True):
    """Claims that disagree, side by side; the archive does not choose.

    `kind` "group_count": two counts of one group that cannot both be true (their ranges share
    no number) where their dates may overlap or either is undated, whatever their places. The
    counts compared: a group's custody and presence counts (its size there) and aggregates
    naming the group (`group_id`) with status held; aggregates of another status (died,
    shot...) only with those of the same status. An aggregate's qualifier widens its count:
    at_least n is n or more, at_most n is 0 to n, exact and about n are n.

    As in biographies: `preferred`, the claims a reviewer ranked preferred among them;
    `independent`, true when their sources share no ancestor through their citations' `via`
    links (a memoir and its translation are one witness)."""

    kind: str
    detail: str
    claims: list[str]
    preferred: list[str] = []
    independent: bool = True


class _Count(msgspec.Struct, frozen=True, gc=False):
    claim_id: str
    group: str
    counted: str
    low: int
    high: int | None  # None: no upper limit (at_least)
    text: str
    earliest: Day | None  # the days the count may be about (None = unbounded or undated)
    latest: Day | None
    sources: frozenset[str]


def _counts(conn: Connection, groups: Iterable[str], statuses: Sequence[str]) -> list[_Count]:
    counting, counting_args = counts_sql(statuses)
    out = []
    for chunk in chunks(groups):
        for c, g, lo, hi, se, el, bound, sources in conn.execute(
                f"SELECT claim_id, group_id, count_min, count_max, start_earliest, "
                f"end_latest, open_bound, sources FROM group_claims WHERE group_id IN ({marks(chunk)}) "
                f"AND kind IN ('custody', 'presence') AND count_min IS NOT NULL "
                f"AND {counting}", (*chunk, *counting_args)):
            out.append(_Count(c, g, "held", lo, hi, _figure(lo, hi, "exact"), day_of(se),
                              day_of(el or bound), frozenset(_names.decode(sources))))
        for c, g, counted, qualifier, lo, hi, a, b, sources in conn.execute(
                f"SELECT claim_id, group_id, counted, qualifier, count_min, count_max, earliest, "
                f"latest, sources FROM group_aggregates WHERE group_id IN ({marks(chunk)}) "
                f"AND {counting}", (*chunk, *counting_args)):
            low = 0 if qualifier == "at_most" else lo
            high = None if qualifier == "at_least" else hi
            out.append(_Count(c, g, counted, low, high, _figure(lo, hi, qualifier), day_of(a), day_of(b),
                              frozenset(_names.decode(sources))))
    return sorted(out, key=lambda x: x.claim_id)


def _figure(low: int, high: int, qualifier: str) -> str:
    number = str(low) if low == high else f"{low}-{high}"
    return {"exact": number, "about": f"about {number}", "at_least": f"at least {number}",
            "at_most": f"at most {number}"}[qualifier]


def _disagree(a: _Count, b: _Count) -> bool:
    return (a.high is not None and a.high < b.low) or (b.high is not None and b.high < a.low)


def count_conflicts(conn: Connection, groups: Iterable[str], listed: set[str],
                    statuses: Sequence[str]) -> list[CountConflict]:
    """Return the pairs of counts of `groups` that disagree (see `CountConflict`) where at least
    one of the two claims is in `listed`, ordered by their claim ids."""
    counts = _counts(conn, groups, statuses)
    labels = registry.labels(conn, {c.group for c in counts})
    preferred: set[str] = set()
    for chunk in chunks(c.claim_id for c in counts):
        preferred.update(r[0] for r in conn.execute(
            f"SELECT claim_id FROM group_preferred WHERE claim_id IN ({marks(chunk)})", chunk))
    out = []
    for a, b in combinations(counts, 2):
        if (a.group, a.counted) != (b.group, b.counted) or not ({a.claim_id, b.claim_id} & listed):
            continue
        if not _disagree(a, b):
            continue
        if not may_meet(a.earliest, a.latest, b.earliest, b.latest):  # undated: (None, None)
            continue
        what = "" if a.counted == "held" else f" ({a.counted})"
        out.append(CountConflict(
            kind="group_count", claims=[a.claim_id, b.claim_id],
            preferred=[c for c in (a.claim_id, b.claim_id) if c in preferred],
            independent=not (a.sources & b.sources), detail=(
                f"counts of {labels.get(a.group, a.group)}{what} disagree: {a.text} ({a.claim_id}) "
                f"against {b.text} ({b.claim_id})")))
    descent.reassess(conn, out)  # approved derivation links too, read now (issue 22)
    return out


# -- an organisation's members and own timeline ------------------------------------------------

class Member(msgspec.Struct, kw_only=True):
    """A person with approved membership claims of the group (a merged record shows as its
    survivor), and those claims."""

    id: str
    label: str
    claims: list[str]


class GroupStep(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One approved claim naming the group as its `group`: its kind, its places where it names
    them ({"id", "label"}: `place`, a transfer's `from_place` and `to_place`, a release's
    `destination`), its dates as written (`dates`: field -> EDTF) with the earliest and
    latest day they allow (null when unknown), and its count as given (an integer,
    {"min", "max"}, or null); and what else it says as submitted (`fields`: a sentence's
    `sentence` and `term`, an accusation's `accusation`, an occupation, a death's `manner`, its
    `certainty`...; entity fields such as `authority` or a relation's `other` as {"id",
    "label"})."""

    claim: str
    kind: str
    dates: dict[str, str]
    earliest: Day | None
    latest: Day | None
    count: CountValue | None
    fields: dict[str, Any] = {}
    place: Ref | None = None
    from_place: Ref | None = None
    to_place: Ref | None = None
    destination: Ref | None = None


def members_of(conn: Connection, group: str,
               statuses: Sequence[str] = ("approved",)) -> list[Member]:
    """Return the persons with counted membership claims of `group`, by label then id."""
    found = memberships(conn, [group], statuses)
    alive = registry.survivors(conn, {m.person for m in found})
    claims: dict[str, list[str]] = {}
    for m in found:
        claims.setdefault(alive.get(m.person, m.person), []).append(m.claim_id)
    labels = registry.labels(conn, set(claims))
    return sorted((Member(id=p, label=labels.get(p, p), claims=c) for p, c in claims.items()),
                  key=lambda m: (m.label, m.id))


def timeline_of(conn: Connection, group: str,
                statuses: Sequence[str] = ("approved",)) -> list[GroupStep]:
    """Return the counted claims naming `group` as their group, in date order: by bounds
    (events.dates.bounds_key: by earliest day, or the latest when only that is known; undated
    last; days widened by the date margins), then latest day, then submission order."""
    counting, counting_args = counts_sql(statuses)
    rows = conn.execute(
        f"SELECT claim_id, kind, start_earliest, end_earliest, start_latest, end_latest, detail, "
        f"position FROM group_claims WHERE group_id = ? AND {counting}",
        (group, *counting_args)).fetchall()
    details = {r[0]: _detail.decode(r[6]) for r in rows}
    labels = registry.labels(conn, {p for d in details.values() for p in d.places.values()}
                             | {d.fields[f] for d in details.values() for f in d.refs})
    steps = []
    for claim_id, kind, se, ee, sl, el, _, position in rows:
        d = details[claim_id]
        earliest, latest = day_of(se or ee), day_of(el or sl)
        refs = {f: Ref(p, labels.get(p, p)) for f, p in d.places.items()}
        fields = {f: Ref(v, labels.get(v, v)) if f in d.refs else v for f, v in d.fields.items()}
        steps.append(((*bounds_key(earliest, latest), position), GroupStep(claim=claim_id, kind=kind, dates=d.dates,
                                            earliest=earliest, latest=latest, count=d.count,
                                            fields=fields, **refs)))
    return [step for _, step in sorted(steps, key=lambda x: x[0])]


def group_answer(conn: Connection, organization_id: str) -> tuple[list[Member], list[GroupStep]] | None:
    """Return (members, timeline) of a group or colony from approved, unsuperseded claims;
    None for an organisation of another kind."""
    if not registry.is_group(conn, organization_id):
        return None
    return members_of(conn, organization_id), timeline_of(conn, organization_id)


def held_through(stay: Stay, member: Membership, window: tuple[Day, Day]) -> str | None:
    """Return "certain" or "possible" when `member` is at the place of the group's `stay` on a
    day of `window` through it (Membership.through), else None."""
    return presence(*member.through(stay), window)
