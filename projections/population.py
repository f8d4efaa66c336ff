"""The population read model: custody episodes by place (one per person a claim names: its
person and its companions, the participants in role companion), each with the bound of its unknown end kept current; the
deaths and merges that bound them; the counts sources report about unnamed groups at a place;
groups' stays, memberships and counts (projections.groups); and every query on them: who was
held at a place in a span (`population_at`), and the same figures per year or month
(`timeline`).

An episode with no known end is never closed by a guess. For `possible` it is bounded
by the person's next dated custody elsewhere (its latest possible start) or death
or execution (its latest possible day), over the whole merge group and counting only approved,
unsuperseded claims. That bound is stored with the episode (`open_bound`) and recomputed once
per batch of events, in `finish`, for every merge group the batch touched. A companion's
episode is that person's own: bounded by the companion's next custody elsewhere or death, not
the claim's person's. A group's stay with no end is bounded by the group's next dated custody
stay elsewhere (a group has no death). Everything it needs (deaths, merges, memberships) is
kept in this read model's own tables, so it rebuilds alone from the log.
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Annotated

import msgspec
from msgspec import Meta

from starosta.events.claim_rules import presence
from starosta.events.dates import may_meet, widened
from starosta.events.errors import Invalid, NotFound
from starosta.events.kinds import (
    AggregateClaim,
    Citation,
    CountValue,
    CustodyClaim,
    DeathClaim,
    DerivationClaim,
    ExecutionClaim,
    Subset,
    ViaItem,
)
from starosta.events.participants import COMPANION, refs_in_role
from starosta.events.registry import (
    FundRegistered,
    OrganizationRegistered,
    ParticipantRoleAdded,
    PersonMerged,
    PersonRegistered,
    PersonsDistinct,
    PersonUnmerged,
    PlaceLocated,
    PlaceRegistered,
    SourceRegistered,
)
from starosta.events.properties import PropertyRegistered
from starosta.events.review import ClaimRanked, ClaimSubmitted
from starosta.events.store import Connection, Envelope
from starosta.projections import groups, registry
from starosta.projections.claim_index import ClaimIndex, changed_claim
from starosta.projections.groups import (
    CountConflict,
    Membership,
    Stay,
    count_bounds,
    count_value,
    day_of,
    iso_day,
)
from starosta.projections.registry import Ref
from starosta.projections.rules import COUNTED, COUNTS_APPROVED, Supersession, counts_sql
from starosta.projections.runner import CACHE_TABLES, Tables
from starosta.projections.sql import chunks

Day = dt.date
MAX_PERIODS = 1200
CACHE_TABLES.update(("population_periods", "population_stale"))




# -- the writer ------------------------------------------------------------------------------

class PopulationProjection(ClaimIndex):
    """Custody episodes and place aggregates by place; deaths and merges to bound open ends."""

    name = "population"
    # 5: only counts of people held, dead, shot or arrived are reported; 6: groups, companions,
    # counts as ranges; 7: disputed; 8: judgements contradicting earlier ones are ignored (the
    # registry's rule); 9: the rank in a `rank` column, no longer folded into `status`; 10: the
    # nine kinds that take a group as subject in group_claims, with what each claim states;
    # 11: every stored day widened by the date margins (D5: "1925~" may be 1924); 12: episodes
    # indexed by (person, earliest start), for bounds kept incrementally (issue 25); 13: the
    # documents of a year or a month stored, and invalidated by what each batch changes; 14:
    # open episodes indexed by (person, open bound), so a counted day lowers only the bounds
    # above it, not every open episode of the person begun before it
    version = 14
    indexed = ("custody_episodes", "place_aggregates", "population_deaths", *groups.INDEXED)
    ddl = {
        # one row per person a custody claim puts there: its person (role 'person') and each
        # companion (a participant in role companion; stored as role 'with'), all with the claim's dates; a group's stays are group_claims
        "custody_episodes": ["""CREATE TABLE {name} (
            claim_id TEXT NOT NULL, status TEXT NOT NULL, superseded_by TEXT,
            rank TEXT NOT NULL,
            person_id TEXT NOT NULL, place_id TEXT, custody TEXT NOT NULL,
            start_earliest TEXT, start_latest TEXT, end_earliest TEXT, end_latest TEXT,
            open_bound TEXT, role TEXT NOT NULL, position INTEGER NOT NULL,
            PRIMARY KEY (claim_id, person_id))""",
            "CREATE INDEX {name}_place ON {name} (place_id, start_earliest)",
            "CREATE INDEX {name}_person ON {name} (person_id, start_earliest)",
            "CREATE INDEX {name}_open ON {name} (person_id, open_bound) WHERE end_latest IS NULL",
            # where a person's open episodes are, from the index alone (stale_periods)
            "CREATE INDEX {name}_open_places ON {name} (person_id, place_id, start_earliest) "
            "WHERE end_latest IS NULL"],
        # a count as (min, max), `ranged` when the claim gave {"min", "max"}
        "place_aggregates": ["""CREATE TABLE {name} (
            claim_id TEXT PRIMARY KEY, status TEXT NOT NULL, superseded_by TEXT,
            rank TEXT NOT NULL,
            place_id TEXT NOT NULL, earliest TEXT, latest TEXT, count_min INTEGER NOT NULL,
            count_max INTEGER NOT NULL, ranged INTEGER NOT NULL, qualifier TEXT NOT NULL,
            group_name TEXT NOT NULL, group_id TEXT, date TEXT, of_whom TEXT NOT NULL,
            citation TEXT NOT NULL, position INTEGER NOT NULL)""",
            "CREATE INDEX {name}_place ON {name} (place_id, earliest)"],
        # death and execution claims: the latest possible day of each (NULL when undated)
        "population_deaths": ["""CREATE TABLE {name} (
            claim_id TEXT PRIMARY KEY, status TEXT NOT NULL, superseded_by TEXT,
            rank TEXT NOT NULL,
            person_id TEXT NOT NULL, latest TEXT, position INTEGER NOT NULL)""",
            "CREATE INDEX {name}_person ON {name} (person_id)"],
        # merged records only, as registry.survivor and merged_records read a persons table
        "population_merges": ["CREATE TABLE {name} (id TEXT PRIMARY KEY, merged_into TEXT NOT NULL)",
                              "CREATE INDEX {name}_merged_into ON {name} (merged_into)"],
        # the 'distinct' judgements that stand: with population_merges, what the registry's
        # rule (registry.judgement_refusal) reads to decide which judgements stand
        "population_distinct": ["""CREATE TABLE {name} (person_id TEXT NOT NULL, other TEXT NOT NULL,
            judgement TEXT NOT NULL, PRIMARY KEY (person_id, other))""",
            "CREATE INDEX {name}_other ON {name} (other)"],
        "population_supersession": Supersession.ddl(),
        **groups.DDL,
        # the public document (COUNTED statuses, the place alone) of a year or a month, filled
        # on read (store_period) and deleted in the append's transaction by what may change it
        # (stale_periods): a cache, left out of content hashes (runner.CACHE_TABLES)
        "population_periods": ["""CREATE TABLE {name} (
            place_id TEXT NOT NULL, year INTEGER NOT NULL, period TEXT NOT NULL,
            document TEXT NOT NULL, etag TEXT NOT NULL, PRIMARY KEY (place_id, year, period))"""],
        # per place ('*': every place), the last position that deleted documents there: a
        # document computed from an older state is refused (store_period)
        "population_stale": ["CREATE TABLE {name} (place_id TEXT PRIMARY KEY, "
                             "position INTEGER NOT NULL)"],
        # derivation claims: a review of one may change whether two counts of a conflict are
        # independent (descent.reassess), in any stored document
        "population_derivations": ["CREATE TABLE {name} (claim_id TEXT PRIMARY KEY)"],
    }

    def apply(self, conn: Connection, envelope: Envelope, t: Tables) -> None:
        e = envelope.event
        if isinstance(e, (PersonMerged, PersonUnmerged, PersonsDistinct)) and \
                registry.judgement_refusal(conn, e, {"persons": t["population_merges"],
                                                     "person_judgements": t["population_distinct"]}):
            return  # contradicts the judgements before it: ignored, as the registry ignores it
        if isinstance(e, PersonsDistinct):
            conn.execute(f"INSERT INTO {t['population_distinct']} VALUES (?, ?, 'distinct') "
                         "ON CONFLICT (person_id, other) DO NOTHING", (e.person_id, e.other))
        elif isinstance(e, PersonMerged):
            conn.execute(f"INSERT INTO {t['population_merges']} VALUES (?, ?) ON CONFLICT (id) "
                         "DO UPDATE SET merged_into = excluded.merged_into",
                         (e.person_id, e.into))
        elif isinstance(e, PersonUnmerged):
            conn.execute(f"DELETE FROM {t['population_merges']} WHERE id = ?", (e.person_id,))
        else:
            if isinstance(e, ClaimRanked):
                groups.ranked(conn, t["group_preferred"], e.claim_id, e.rank)
            super().apply(conn, envelope, t)

    def apply_batch(self, conn: Connection, envelopes: Sequence[Envelope], t: Tables) -> None:
        """Apply a batch of events (a rebuild's): each run of submissions inserted at once, one
        `executemany` per table (a submission's rows depend on nothing stored), every other
        event applied alone, in log order: the rows `apply` gives one event at a time (tests
        compare content hashes)."""
        rows: dict[str, list[tuple]] = {}
        supersessions: list[tuple] = []

        def flush() -> None:
            if supersessions:
                conn.executemany(f"INSERT INTO {t['population_supersession']} VALUES (?, ?, 0, ?)",
                                 supersessions)
                supersessions.clear()
            for table, found in rows.items():
                if found:
                    marks = ",".join("?" * len(found[0]))
                    conn.executemany(f"INSERT INTO {t[table]} VALUES ({marks})", found)
            rows.clear()

        for envelope in envelopes:
            e = envelope.event
            if isinstance(e, ClaimSubmitted):
                if e.claim.supersedes:  # as Supersession.submitted
                    supersessions.append((e.claim_id, e.claim.supersedes, envelope.position))
                for table, found in self.rows(e, envelope).items():
                    rows.setdefault(table, []).extend(found)
            else:
                flush()
                self.apply(conn, envelope, t)
        flush()

    def rows(self, e: ClaimSubmitted, envelope: Envelope) -> dict[str, list[tuple]]:
        claim, pos = e.claim, envelope.position
        out = groups.rows(e, pos)
        if isinstance(claim, CustodyClaim):
            start, end = widened(e.dates.get("start")), widened(e.dates.get("end"))  # D5 margins
            bounds = (iso_day(start.earliest) if start else None, iso_day(start.latest) if start else None,
                      iso_day(end.earliest) if end else None, iso_day(end.latest) if end else None)
            named = [(claim.person, "person")] if claim.person is not None else []
            named += [(companion, "with") for companion in refs_in_role(claim, COMPANION)]
            out["custody_episodes"] = [
                (e.claim_id, "pending", None, "normal", person, claim.place, claim.custody, *bounds,
                 None, role, pos) for person, role in named]
            return out
        if isinstance(claim, DerivationClaim):
            out["population_derivations"] = [(e.claim_id,)]
            return out
        if isinstance(claim, (DeathClaim, ExecutionClaim)) and claim.person is not None:
            d = widened(e.dates.get("date"))
            return {"population_deaths": [(e.claim_id, "pending", None, "normal", claim.person,
                                           iso_day(d.latest) if d else None, pos)]}
        if isinstance(claim, AggregateClaim) and claim.place and claim.status in REPORTED:
            d = widened(e.dates.get("date"))
            low, high = count_bounds(claim.count)
            out["place_aggregates"] = [(
                e.claim_id, "pending", None, "normal", claim.place,
                iso_day(d.earliest) if d else None, iso_day(d.latest) if d else None, low, high,
                int(not isinstance(claim.count, int)),
                claim.qualifier, claim.group, claim.group_id, claim.date, _encode(claim.of_whom),
                _encode(claim.citation), pos)]
        return out

    def finish(self, conn: Connection, t: Tables, envelopes: Sequence[Envelope], *,
               rebuilding: bool = False) -> None:
        """Recompute the open-end bounds of every merge group and group of people the batch
        touched (in rebuilds too: a batch's groups are few next to its events, so nothing is
        deferred)."""
        if rebuilding or any(isinstance(envelope.event, (PersonMerged, PersonUnmerged))
                             for envelope in envelopes):  # groups changed: recompute them whole
            touched, reviewed = _touched_records(conn, t, envelopes)
            if touched:
                refresh_open_bounds(conn, t, touched)
        else:  # only the episodes a new or reviewed claim can change, found by index
            reviewed = update_open_bounds(conn, t, envelopes)
        stays = {g for envelope in envelopes if isinstance(envelope.event, ClaimSubmitted)
                 and (g := groups.touched_groups(envelope.event)) is not None}
        stays |= groups.groups_of_claims(conn, t["group_claims"], reviewed)
        if stays:
            groups.refresh_group_bounds(conn, t["group_claims"], stays, open_bounds)
        if not rebuilding:  # a rebuild's stored documents start empty
            stale_periods(conn, t, envelopes)


_encode = msgspec.json.Encoder().encode


# -- the stored documents of a year or a month (issue 25) ---------------------------------------
#
# GET /places/{id}/population?at=1938 (or 1938-05), public statuses, the place alone: the
# document `population_at` gives, encoded, stored in population_periods the first time it is
# asked for (store_period), and deleted in the append's transaction by every batch that may
# change it (stale_periods). Which documents a batch may change, by index:
#
# - a submission changes none (a pending claim counts in no public figure, nor in any bound);
# - a review, rank or (un)suppression of a claim, and of the claim it supersedes: for a custody
#   claim, its places' years its episodes may meet (from the earliest start to the latest end;
#   an open end: every year after its start); for a counted day of a custody or death claim,
#   the open episodes of the merge group of its persons, at every place, from their earliest
#   start on (their bounds may move); for a count at a place, the years its date may meet
#   (undated: all of the place's), and every place when it names a group;
# - a claim about a group (its stays, memberships and counts), a derivation link (a conflict's
#   independence), a merge, an unmerge, a
#   judgement, a suppressed entity, and any event this list does not name: every document.
#
# Labels never change but by a suppression (registry), and a claim names only registered
# entities: a registration changes no stored document (a person's: those of the places
# naming them, if any). A document computed from a state older than a deletion at its place
# is refused (population_stale), so a document stored is never older than the log it claims.

_HARMLESS = (ClaimSubmitted, PlaceLocated, SourceRegistered, OrganizationRegistered,
             FundRegistered, PropertyRegistered, ParticipantRoleAdded)
PERIOD_TEXT = re.compile(r"(\d{4})(-(0[1-9]|1[0-2]))?")
EVERY = "*"  # population_stale's row for every place


def stored_period(conn: Connection, place_id: str, period: str) -> tuple[str | bytes, str] | None:
    """Return the stored public document of `place_id` at `period` (a year or a month, as
    PERIOD_TEXT) and its ETag, or None when not stored (yet, or no longer)."""
    row = conn.execute("SELECT document, etag FROM population_periods WHERE place_id = ? AND "
                       "year = ? AND period = ?", (place_id, int(period[:4]), period)).fetchone()
    return (row[0], row[1]) if row else None


def applied_position(conn: Connection) -> int:
    """The log position this read model has applied (what a document computed now reflects
    at least: read it before computing)."""
    row = conn.execute("SELECT position FROM projection_checkpoints WHERE name = 'population'"
                       ).fetchone()
    return row[0] if row else 0


def store_period(conn: Connection, place_id: str, period: str, document: bytes, etag: str,
                 position: int) -> bool:
    """Store the public document of `place_id` at `period`, computed from a state at log
    position `position` or later, unless a batch after `position` deleted documents at that
    place (it may have changed this one): then store nothing and return False. Run in the
    store's write transaction (which appends wait for)."""
    row = conn.execute("SELECT max(position) FROM population_stale WHERE place_id IN (?, ?)",
                       (place_id, EVERY)).fetchone()
    if row and row[0] is not None and row[0] > position:
        return False
    conn.execute("INSERT INTO population_periods VALUES (?, ?, ?, ?, ?) "
                 "ON CONFLICT (place_id, year, period) DO UPDATE SET "
                 "document = excluded.document, etag = excluded.etag",
                 (place_id, int(period[:4]), period, document.decode(), etag))
    return True


def period_document(conn: Connection, place_id: str, span: Span,
                    compute: Callable[..., Population] | None = None) -> tuple[bytes, str, int]:
    """Return the public document of the place alone in `span` (`compute`: population_at),
    encoded, its ETag, and the position it reflects at least (for store_period). Raises
    NotFound for an unknown place."""
    position = applied_position(conn)
    body = _encode((compute or population_at)(conn, place_id, span, COUNTED))
    return body, etag_of(body), position


def etag_of(document: bytes) -> str:
    """A strong ETag for encoded document bytes (as biographies.etag_of)."""
    return '"' + hashlib.blake2b(document, digest_size=12).hexdigest() + '"'


def stale_periods(conn: Connection, t: Tables, envelopes: Sequence[Envelope]) -> None:
    """Delete the stored documents the batch may have changed (the rule above)."""
    if not envelopes:
        return
    position = max(envelope.position for envelope in envelopes)
    claims: set[str] = set()
    persons: set[str] = set()
    for envelope in envelopes:
        e = envelope.event
        if isinstance(e, _HARMLESS):
            continue
        if isinstance(e, PersonRegistered):
            persons.add(e.person_id)
        elif isinstance(e, PlaceRegistered):
            _stale(conn, t, e.place_id, None, None, position)
        elif (changed := changed_claim(e)) is not None:
            claims.add(changed)
        else:  # merges, judgements, suppressed entities, anything else: every document
            conn.execute(f"DELETE FROM {t['population_periods']}")
            _mark(conn, t, EVERY, position)
            return
    places: dict[str, tuple[int | None, int | None]] = {}

    def add(place: str | None, first: int | None, last: int | None) -> None:
        if place is None:
            return
        if place in places:
            a, b = places[place]
            first = None if a is None or first is None else min(a, first)
            last = None if b is None or last is None else max(b, last)
        places[place] = (first, last)

    episodes, deaths = t["custody_episodes"], t["population_deaths"]
    for chunk in chunks(sorted(persons)):
        marks = ",".join("?" * len(chunk))
        for (place,) in conn.execute(f"SELECT DISTINCT place_id FROM {episodes} "
                                     f"WHERE person_id IN ({marks})", chunk):
            add(place, None, None)
    if claims:
        for chunk in chunks(sorted(claims)):
            marks = ",".join("?" * len(chunk))
            claims.update(r[0] for r in conn.execute(
                f"SELECT supersedes FROM {t['population_supersession']} "
                f"WHERE claim_id IN ({marks})", chunk))
        bounding: set[str] = set()  # persons whose group's open bounds may have moved
        for chunk in chunks(sorted(claims)):
            marks = ",".join("?" * len(chunk))
            if conn.execute(f"SELECT 1 FROM {t['group_claims']} WHERE claim_id IN ({marks}) "
                            "LIMIT 1", chunk).fetchone() or conn.execute(
                    f"SELECT 1 FROM {t['population_derivations']} WHERE claim_id IN ({marks}) "
                    "LIMIT 1", chunk).fetchone() or conn.execute(
                    f"SELECT 1 FROM {t['place_aggregates']} WHERE claim_id IN ({marks}) "
                    "AND group_id IS NOT NULL LIMIT 1", chunk).fetchone():
                conn.execute(f"DELETE FROM {t['population_periods']}")
                _mark(conn, t, EVERY, position)
                return
            for person, place, start, start_latest, end in conn.execute(
                    f"SELECT person_id, place_id, start_earliest, start_latest, end_latest "
                    f"FROM {episodes} WHERE claim_id IN ({marks})", chunk):
                add(place, _year(start), _year(end) if end else None)
                if start is not None and start_latest is not None:
                    bounding.add(person)
            bounding.update(r[0] for r in conn.execute(
                f"SELECT person_id FROM {deaths} WHERE claim_id IN ({marks}) "
                "AND latest IS NOT NULL", chunk))
            for place, earliest, latest in conn.execute(
                    f"SELECT place_id, earliest, latest FROM {t['place_aggregates']} "
                    f"WHERE claim_id IN ({marks})", chunk):
                add(place, _year(earliest), _year(latest))
        members: set[str] = set()
        for person in sorted(bounding):
            if person not in members:
                members.update(registry.merge_group(conn, person, t["population_merges"]))
        for chunk in chunks(sorted(members)):
            marks = ",".join("?" * len(chunk))
            for place, start in conn.execute(
                    f"SELECT place_id, min(COALESCE(start_earliest, '')) FROM {episodes} "
                    f"WHERE person_id IN ({marks}) AND end_latest IS NULL GROUP BY place_id", chunk):
                add(place, _year(start or None), None)
    for place, (first, last) in sorted(places.items()):
        _stale(conn, t, place, first, last, position)


def _year(day: str | None) -> int | None:
    return int(day[:4]) if day else None


def _stale(conn: Connection, t: Tables, place: str, first: int | None, last: int | None,
           position: int) -> None:
    """Delete the stored documents of `place` from year `first` to year `last` (None: no
    limit on that side), and mark the place stale at `position`."""
    table, where = t["population_periods"], "place_id = ?"
    args: list[str | int] = [place]
    if first is not None:
        where, args = where + " AND year >= ?", [*args, first]
    if last is not None:
        where, args = where + " AND year <= ?", [*args, last]
    conn.execute(f"DELETE FROM {table} WHERE {where}", args)
    _mark(conn, t, place, position)


def _mark(conn: Connection, t: Tables, place: str, position: int) -> None:
    conn.execute(f"INSERT INTO {t['population_stale']} VALUES (?, ?) ON CONFLICT (place_id) "
                 "DO UPDATE SET position = excluded.position", (place, position))


def _touched_records(conn: Connection, t: Tables,
                     envelopes: Sequence[Envelope]) -> tuple[set[str], set[str]]:
    """Return the person records whose group's bounds the batch may have changed: the persons
    (and companions) of a new custody claim; the persons of a reviewed (or ranked) custody,
    death or execution claim and of the claim it supersedes; both records of a merge or
    unmerge (a group that changed membership holds one of them when the batch ends). Return
    also the reviewed claims and the claims they supersede."""
    records: set[str] = set()
    reviewed: list[str] = []
    claims: set[str] = set()
    for envelope in envelopes:
        e = envelope.event
        if isinstance(e, ClaimSubmitted):
            if isinstance(e.claim, CustodyClaim):  # a new episode's own bound
                records.update(p for p in (e.claim.person, *refs_in_role(e.claim, COMPANION)) if p)
        elif isinstance(e, PersonMerged):
            records.update((e.person_id, e.into))
        elif isinstance(e, PersonUnmerged):
            records.update((e.person_id, e.from_person))
        elif (changed := changed_claim(e)) is not None:  # reviewed, ranked, (un)suppressed:
            reviewed.append(changed)  # it may count, or no longer
    if reviewed:
        claims = set(reviewed)
        for chunk in chunks(reviewed):
            marks = ",".join("?" * len(chunk))
            claims.update(r[0] for r in conn.execute(
                f"SELECT supersedes FROM {t['population_supersession']} WHERE claim_id IN ({marks})",
                chunk))
        for chunk in chunks(claims):
            marks = ",".join("?" * len(chunk))
            records.update(r[0] for r in conn.execute(
                f"SELECT person_id FROM {t['custody_episodes']} WHERE claim_id IN ({marks}) UNION "
                f"SELECT person_id FROM {t['population_deaths']} WHERE claim_id IN ({marks})",
                (*chunk, *chunk)))
    return records, claims


def update_open_bounds(conn: Connection, t: Tables, envelopes: Sequence[Envelope]) -> set[str]:
    """Keep `open_bound` current after a batch with no merge or unmerge, touching only what the
    batch can change (the full rule is `open_bounds`; the result is the same, as tests prove):

    - the open episodes of a new custody claim get their bound computed (a pending claim
      counts nowhere, so no other episode's bound moves);
    - a reviewed (ranked, (un)suppressed) claim and the claim it supersedes: a counted custody
      claim lowers the bounds of the group's open episodes that began before it elsewhere, a
      counted death lowers every open episode's; one that no longer counts sends the episodes
      whose bound it was (its day, equal) to be recomputed whole.

    Return the reviewed claims and the claims they supersede (what `finish` passes on)."""
    new_claims: list[str] = []
    reviewed: list[str] = []
    for envelope in envelopes:
        e = envelope.event
        if isinstance(e, ClaimSubmitted):
            if isinstance(e.claim, CustodyClaim):
                new_claims.append(e.claim_id)
        elif (changed := changed_claim(e)) is not None:
            reviewed.append(changed)
    claims: set[str] = set(reviewed)
    for chunk in chunks(reviewed):
        marks = ",".join("?" * len(chunk))
        claims.update(r[0] for r in conn.execute(
            f"SELECT supersedes FROM {t['population_supersession']} WHERE claim_id IN ({marks})",
            chunk))
    if not new_claims and not claims:
        return claims
    episodes, deaths = t["custody_episodes"], t["population_deaths"]
    groups_of: dict[str, list[str]] = {}

    def group(person: str) -> list[str]:
        if person not in groups_of:
            for member in (found := registry.merge_group(conn, person, t["population_merges"])):
                groups_of[member] = found
        return groups_of[person]

    recompute: set[tuple[str, str]] = set()  # (claim, person) rows to compute whole
    lower: list[tuple[list[str], str | None, str | None, str]] = []  # (group, start, place, day)
    for chunk in chunks(new_claims):
        marks = ",".join("?" * len(chunk))
        recompute.update(conn.execute(
            f"SELECT claim_id, person_id FROM {episodes} WHERE claim_id IN ({marks}) "
            "AND end_latest IS NULL", chunk).fetchall())
    for chunk in chunks(sorted(claims)):
        marks = ",".join("?" * len(chunk))
        for counts, person, place, start, latest in conn.execute(
                f"SELECT {COUNTS_APPROVED}, person_id, place_id, start_earliest, start_latest "
                f"FROM {episodes} WHERE claim_id IN ({marks}) AND start_earliest IS NOT NULL "
                "AND start_latest IS NOT NULL", chunk).fetchall():
            members = group(person)
            marks_g = ",".join("?" * len(members))
            if counts:
                lower.append((members, start, place, latest))
            else:  # the open episodes elsewhere, begun before it, whose bound was its day
                recompute.update(conn.execute(
                    f"SELECT claim_id, person_id FROM {episodes} WHERE person_id IN ({marks_g}) "
                    "AND start_earliest < ? AND end_latest IS NULL AND open_bound = ? "
                    "AND COALESCE(place_id, '') <> ?",
                    (*members, start, latest, place or "")).fetchall())
        for counts, person, latest in conn.execute(
                f"SELECT {COUNTS_APPROVED}, person_id, latest FROM {deaths} "
                f"WHERE claim_id IN ({marks}) AND latest IS NOT NULL", chunk).fetchall():
            members = group(person)
            marks_g = ",".join("?" * len(members))
            if counts:
                lower.append((members, None, None, latest))
            else:
                recompute.update(conn.execute(
                    f"SELECT claim_id, person_id FROM {episodes} WHERE person_id IN ({marks_g}) "
                    "AND end_latest IS NULL AND open_bound = ?", (*members, latest)).fetchall())
    for claim_id, person in sorted(recompute):
        members = group(person)
        marks_g = ",".join("?" * len(members))
        place, start, old = conn.execute(
            f"SELECT place_id, start_earliest, open_bound FROM {episodes} "
            "WHERE claim_id = ? AND person_id = ?", (claim_id, person)).fetchone()
        bounds = [conn.execute(f"SELECT min(latest) FROM {deaths} WHERE person_id IN ({marks_g}) "
                               f"AND {COUNTS_APPROVED} AND latest IS NOT NULL", members).fetchone()[0]]
        if start is not None:
            bounds.append(conn.execute(
                f"SELECT min(start_latest) FROM {episodes} WHERE person_id IN ({marks_g}) "
                f"AND start_earliest > ? AND {COUNTS_APPROVED} AND start_latest IS NOT NULL "
                "AND COALESCE(place_id, '') <> ?", (*members, start, place or "")).fetchone()[0])
        bound = min((b for b in bounds if b is not None), default=None)
        if bound != old:
            conn.execute(f"UPDATE {episodes} SET open_bound = ? WHERE claim_id = ? AND person_id = ?",
                         (bound, claim_id, person))
    for members, start, place, day in lower:  # a counted day lowers the bounds it may lower
        marks_g = ",".join("?" * len(members))
        # two statements, no OR, so that each is a range of the `_open` index (person, bound):
        # the open episodes with no bound yet, and those whose bound lies after the day
        for above, args in (("open_bound IS NULL", ()), ("open_bound > ?", (day,))):
            if start is None:  # a death: every open episode of the group
                conn.execute(f"UPDATE {episodes} SET open_bound = ? WHERE person_id IN ({marks_g}) "
                             f"AND end_latest IS NULL AND {above}", (day, *members, *args))
            else:
                # `(... < ?) IS TRUE`: the same rows as `start_earliest < ?`, written so that
                # the planner does not read every earlier episode through `_person` instead
                conn.execute(f"UPDATE {episodes} SET open_bound = ? WHERE person_id IN ({marks_g}) "
                             f"AND end_latest IS NULL AND {above} AND (start_earliest < ?) IS TRUE "
                             "AND COALESCE(place_id, '') <> ?",
                             (day, *members, *args, start, place or ""))
    return claims


def refresh_open_bounds(conn: Connection, t: Tables, records: Iterable[str]) -> int:
    """Recompute `open_bound` for every episode of the merge groups of `records`; write the
    ones that changed and return how many did."""
    merges = t["population_merges"]
    alive_of = registry.survivors(conn, records, merges)
    merged: dict[str, list[str]] = {}
    for alive in sorted({alive_of.get(r, r) for r in records}):
        merged[alive] = [alive, *registry.merged_records(conn, alive, merges)]
    group_of = {record: alive for alive, members in merged.items() for record in members}
    episodes: dict[str, list[tuple]] = {alive: [] for alive in merged}
    deaths: dict[str, str] = {}
    for chunk in chunks(group_of):
        marks = ",".join("?" * len(chunk))
        for row in conn.execute(
                f"SELECT claim_id, {COUNTS_APPROVED}, person_id, place_id, "
                f"start_earliest, start_latest, end_latest, open_bound FROM {t['custody_episodes']} "
                f"WHERE person_id IN ({marks}) ORDER BY claim_id, person_id", chunk):
            episodes[group_of[row[2]]].append(row)
        for person, latest in conn.execute(
                f"SELECT person_id, min(latest) FROM {t['population_deaths']} WHERE person_id IN "
                f"({marks}) AND {COUNTS_APPROVED} AND latest IS NOT NULL "
                f"GROUP BY person_id", chunk):
            alive = group_of[person]
            deaths[alive] = min(latest, deaths.get(alive, latest))
    changed = []
    for alive, rows in episodes.items():  # one row per (claim, person): a claim's companions too
        for row, (claim_id, bound, old) in zip(rows, open_bounds(rows, deaths.get(alive))):
            if bound != old:
                changed.append((bound, claim_id, row[2]))
    conn.executemany(f"UPDATE {t['custody_episodes']} SET open_bound = ? "
                     f"WHERE claim_id = ? AND person_id = ?", changed)
    return len(changed)


def open_bounds(rows: list[tuple], death: str | None) -> Iterable[tuple[str, str | None, str | None]]:
    """Yield (claim id, bound, stored bound) for one merge group's episodes, one per row in
    order, given as rows
    (claim_id, counts, person, place, start_earliest, start_latest, end_latest, open_bound),
    `counts` true for approved unsuperseded ones, and the group's earliest latest death day.

    The bound of an episode with no known end: the least of that death day and the latest
    possible start of any counted episode at another place that surely starts after this one
    began (its earliest start after this one's earliest start); for an episode with no known
    start, the death day alone (nothing is surely after it: a duration without dates narrows
    nothing). None when nothing bounds it; always None for an episode whose end is known.
    ISO days compare as strings."""
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
        if start is None:  # no known start: no stay is surely after it (its duration alone
            elsewhere = None  # narrows nothing), only a death bounds it
        else:
            low, low_place, other = best[bisect.bisect_right(keys, start)]
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
    """A person held at the place (a merged record shows as its survivor), with the claims that
    put them there: custody claims naming them as `person` or as a companion (`with`), and,
    when they are there as a member of a group (`through`: the group's id), the group's custody
    claims and their membership claims; `open_end` when one of those stays has an end nothing
    bounds."""

    id: str
    name: str
    claims: list[str]
    open_end: bool = False
    through: str | None = None


class GroupHeld(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A group (an organisation of kind group or colony) held at the place: the custody claims
    naming it as `group` whose stay surely or possibly meets the span (`certain`: one of them
    surely meets it, by the rule persons follow). `count_min`/`count_max`: the widest figure
    those claims give, the least of their minimums and the greatest of their maximums (a
    count n is n to n), claims without a count aside; null when none gives a count. A group's
    count is never added to the population's count_min/count_max. `open_end` when one of its
    stays has an end nothing bounds (the group's next dated custody elsewhere)."""

    id: str
    name: str
    certain: bool
    count_min: int | None
    count_max: int | None
    claims: list[str]
    open_end: bool = False


class SourceCitation(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A citation whose source is named: {"id", "label"}, with the locator and quoted words."""

    source: Ref
    locator: str | None = None
    quote: str | None = None
    via: tuple[ViaItem, ...] = ()


class Reported(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A count a source reports about an unnamed group at the place (never added to counts),
    as the claim gave it: an integer or {"min", "max"}; `group_id` when the aggregate names a
    registered group."""

    claim: str
    count: CountValue
    qualifier: str
    group: str
    group_id: str | None = None
    date: str | None = None
    of_whom: tuple[Subset, ...] = ()
    citation: SourceCitation


class Population(msgspec.Struct, kw_only=True):
    """`certain`: surely held there on a day of the span; `possible`: could have been, not
    surely; disjoint. Named persons only: a claim's person and its companions (`with`), and
    the members of a group held there (by their membership claims), listed with `through`:
    certain when their membership and the group's stay surely share a day of the span,
    possible when they may; a person certain on their own claims stays as they are.
    count_min = len(certain), count_max = count_min + len(possible): each person once, group
    counts never added in. `groups`: the groups held there (GroupHeld), counted apart:
    `groups_count_min`/`groups_count_max` (groups_count) bound the people in them by the
    groups' own counts. `reported`: counts
    sources give about people held, dead, shot or arrived there. `conflicts`: counts of one
    group that disagree (CountConflict, kind "group_count") where one of the two claims is in this
    answer (a group's custody claim or a reported count), whatever the other's place.
    `open`: custody claims of possible persons whose end stays unknown even after bounding it
    by the person's (or group's) next dated custody elsewhere or death. `undated`: counts
    sources give about the place with no date at all (they belong to no span, so they are in
    no figure), whatever the span asked for."""

    place: Ref
    places: list[Ref]
    at: Span
    certain: list[Held]
    possible: list[Held]
    count_min: int
    count_max: int
    groups: list[GroupHeld]
    groups_count_min: Annotated[int, Meta(description="At least this many people in the groups held there, by the certain groups' own counts; counted apart, never added to count_min")]
    groups_count_max: Annotated[int | None, Meta(description="At most this many people in the groups held there (certain or possible), by their counts; null when a group gives no count; never added to count_max")]
    reported: list[Reported]
    conflicts: list[CountConflict]
    open: list[str]
    undated: list[Reported] = msgspec.field(default_factory=list)


class Period(msgspec.Struct, kw_only=True):
    """One year or month of a timeline, with the figures /population gives for it."""

    period: str
    earliest: Day
    latest: Day
    count_min: int
    count_max: int
    reported: list[Reported]


class Timeline(msgspec.Struct, kw_only=True):
    """A place's population figures per period, in order; `undated`: the counts about the
    place with no date (in no period), as `Population.undated`."""

    place: Ref
    step: str
    items: list[Period]
    undated: list[Reported] = msgspec.field(default_factory=list)


# -- the queries -------------------------------------------------------------------------------

_Episode = Stay  # a person's custody episode: `subject` is the person

def _episodes(conn: Connection, places: list[str], statuses: Sequence[str],
              span: Span | None = None) -> list[Stay]:
    """Return the counted episodes at `places` (one per person a claim names) by earliest
    start (unknown first), then in submission order; with `span`, at least those that may
    meet it (a superset: the rule is applied in Python)."""
    counting, counting_args = counts_sql(statuses)
    marks = ",".join("?" * len(places))
    where, args = "", []
    if span is not None:
        where = (" AND (start_earliest IS NULL OR start_earliest <= ?)"
                 " AND (end_latest IS NULL OR end_latest >= ?)")
        args = [span.latest.isoformat(), span.earliest.isoformat()]
    rows = conn.execute(
        f"SELECT claim_id, person_id, start_earliest, start_latest, end_earliest, end_latest, "
        f"open_bound FROM custody_episodes WHERE place_id IN ({marks}) AND {counting}{where} "
        f"ORDER BY start_earliest IS NOT NULL, start_earliest, position, person_id",
        (*places, *counting_args, *args))
    return [Stay(c, p, day_of(a), day_of(b), day_of(d), day_of(e), day_of(f))
            for c, p, a, b, d, e, f in rows]


# The aggregates a population reports: counts of people held at the place, or who died, were
# shot or arrived there; the others (members of a union, workers discharged...) stay readable
# through GET /claims?place=.
REPORTED = ("held", "died", "shot", "arrived")


def _aggregates(conn: Connection, places: list[str],
                statuses: Sequence[str], dated: bool = True) -> list[tuple]:
    """Return the dated counted aggregates at `places` as (earliest, latest, row), by date,
    then in submission order (an undated count belongs to no span); with `dated` false, the
    undated ones instead (no bound at all), in submission order."""
    counting, counting_args = counts_sql(statuses)
    marks = ",".join("?" * len(places))
    which = ("AND (earliest IS NOT NULL OR latest IS NOT NULL) " if dated else
             "AND earliest IS NULL AND latest IS NULL ")
    rows = conn.execute(
        f"SELECT earliest, latest, claim_id, count_min, count_max, ranged, qualifier, group_name, "
        f"group_id, date, of_whom, citation FROM place_aggregates WHERE place_id IN ({marks}) "
        f"AND {counting} "
        f"{which}"
        f"ORDER BY earliest IS NOT NULL, earliest, position",
        (*places, *counting_args))
    return [(day_of(r[0]), day_of(r[1]), r[2:]) for r in rows]


def _undated(conn: Connection, places: list[str], statuses: Sequence[str],
             labels: dict[str, str]) -> list[Reported]:
    """The counted aggregates about `places` with no date, as reported (each with its source
    labelled: `labels` completed here)."""
    rows = [r for _, _, r in _aggregates(conn, places, statuses, dated=False)]
    missing = _sources(rows) - labels.keys()
    if missing:
        labels = {**labels, **registry.labels(conn, missing)}
    return _reported(rows, labels)


_subsets = msgspec.json.Decoder(tuple[Subset, ...])
_citation = msgspec.json.Decoder(Citation)


def _reported(rows: list[tuple], labels: dict[str, str]) -> list[Reported]:
    out = []
    for claim_id, low, high, ranged, qualifier, group, group_id, date, of_whom, citation in rows:
        c = _citation.decode(citation)
        source = Ref(c.source, labels.get(c.source, c.source))
        out.append(Reported(claim=claim_id, count=count_value(low, high, bool(ranged)),
                            qualifier=qualifier, group=group, group_id=group_id, date=date,
                            of_whom=_subsets.decode(of_whom), citation=SourceCitation(
                                source=source, locator=c.locator, quote=c.quote, via=c.via)))
    return out


def _sources(rows: list[tuple]) -> set[str]:
    return {_citation.decode(r[-1]).source for r in rows}


def _place(conn: Connection, place_id: str, include_children: bool) -> list[str]:
    """Return the place and (when asked) the places under it; NotFound for an unknown place."""
    if not registry.exists(conn, "place", place_id):
        raise NotFound("place_id", place_id, "place")
    return registry.places_under(conn, place_id, include_children)


def _extend(claims: list[str], more: Iterable[str]) -> list[str]:
    """Add claim ids to `claims`, each once, in order; return `claims`."""
    claims.extend(c for c in more if c not in claims)
    return claims


Open = set[tuple[str, str]]  # (claim, person or group) whose possible end nothing bounds


class _Through(msgspec.Struct):
    """A person's presence through groups: group -> claims (the stays and memberships)."""

    sure: dict[str, list[str]] = {}
    maybe: dict[str, list[str]] = {}


def _persons_there(conn: Connection, places: list[str], statuses: Sequence[str],
                   span: Span, open_: Open) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Return the persons (merged records as survivors) surely and possibly at `places` in
    `span` on their own custody claims (as person or companion), each with those claims."""
    window = (span.earliest, span.latest)
    certain: dict[str, list[str]] = {}
    possible: dict[str, list[str]] = {}
    episodes = _episodes(conn, places, statuses, span)
    alive = registry.survivors(conn, {e.subject for e in episodes})
    for e in episodes:
        person = alive.get(e.subject, e.subject)
        days = e.possible()
        found = presence(e.sure(), days, window)
        if found == "certain":
            _extend(certain.setdefault(person, []), [e.claim_id])
        elif found == "possible":
            _extend(possible.setdefault(person, []), [e.claim_id])
            if days is not None and days[1] is None:
                open_.add((e.claim_id, person))
    return certain, possible


def _groups_there(conn: Connection, places: list[str], statuses: Sequence[str],
                  window: tuple[Day, Day], open_: Open) -> tuple[dict[str, list[Stay]], set[str]]:
    """Return the groups' stays at `places` that surely or possibly meet `window`, by group,
    and the groups one of whose stays surely meets it."""
    stays: dict[str, list[Stay]] = {}
    sure: set[str] = set()
    for s in groups.stays_at(conn, places, statuses, window):
        days = s.possible()
        found = presence(s.sure(), days, window)
        if found is not None:
            stays.setdefault(s.subject, []).append(s)
        if found == "certain":
            sure.add(s.subject)
        elif found == "possible" and days is not None and days[1] is None:
            open_.add((s.claim_id, s.subject))
    return stays, sure


def _members_there(conn: Connection, stays: dict[str, list[Stay]], statuses: Sequence[str],
                   window: tuple[Day, Day]) -> dict[str, _Through]:
    """Return, per person (merged records as survivors), the groups through which they are
    surely or possibly at the place in `window`, given the groups' `stays` that meet it."""
    members = groups.memberships(conn, stays, statuses)
    alive = registry.survivors(conn, {m.person for m in members})
    out: dict[str, _Through] = {}
    for m in members:
        for stay in stays[m.group]:
            how = groups.held_through(stay, m, window)
            if how is not None:
                through = out.setdefault(alive.get(m.person, m.person), _Through({}, {}))
                found = through.sure if how == "certain" else through.maybe
                _extend(found.setdefault(m.group, []), [stay.claim_id, m.claim_id])
    return out


def _listed(certain: dict[str, list[str]], possible: dict[str, list[str]],
            through: dict[str, _Through], open_: Open,
            labels: dict[str, str]) -> tuple[list[Held], list[Held], list[str]]:
    """Return the certain and possible persons, and the claims still open among the possible.

    Certain on their own claims: as they are. Else certain through a group: their possible
    claims, then the sure stays and memberships, `through` the first such group by id. Else
    possible: their own and the group's claims, `through` the first group by id, if any."""
    held, maybe, still_open = [], [], set()
    for p in sorted({*certain, *possible, *through}):
        name, mine = labels.get(p, p), through.get(p, _Through({}, {}))
        if p in certain:
            held.append(Held(id=p, name=name, claims=certain[p]))
            continue
        claims = list(possible.get(p, []))
        if mine.sure:
            for g in sorted(mine.sure):
                _extend(claims, mine.sure[g])
            held.append(Held(id=p, name=name, claims=claims, through=min(mine.sure)))
            continue
        unbounded = {c for c in claims if (c, p) in open_}
        for g in sorted(mine.maybe):
            _extend(claims, mine.maybe[g])
            unbounded.update(c for c in mine.maybe[g] if (c, g) in open_)
        still_open |= unbounded
        maybe.append(Held(id=p, name=name, claims=claims, through=min(mine.maybe, default=None),
                          open_end=bool(unbounded)))
    return held, maybe, sorted(still_open)


def _group_items(stays: dict[str, list[Stay]], sure: set[str], open_: Open,
                 labels: dict[str, str]) -> list[GroupHeld]:
    """The groups held there, by id, with the widest count their claims give (GroupHeld)."""
    out = []
    for g, found in sorted(stays.items()):
        lows = [s.count_min for s in found if s.count_min is not None]
        highs = [s.count_max for s in found if s.count_max is not None]
        out.append(GroupHeld(
            id=g, name=labels.get(g, g), certain=g in sure, count_min=min(lows, default=None),
            count_max=max(highs, default=None), claims=[s.claim_id for s in found],
            open_end=any((s.claim_id, g) in open_ for s in found)))
    return out


def groups_count(items: Sequence[GroupHeld]) -> tuple[int, int | None]:
    """The people the groups held at a place number, by the groups' own counts, never added to
    the named persons' count_min/count_max (a group's members may be among them): at least
    the sum of the certain groups' count_min (a group without a count: 0), at most the sum of
    every group's count_max (certain or possible), null (unknown) when a group gives none."""
    low = sum(g.count_min or 0 for g in items if g.certain)
    highs = [g.count_max for g in items]
    return low, None if None in highs else sum(h for h in highs if h is not None)


def population_at(conn: Connection, place_id: str, span: Span, statuses: Sequence[str],
                  include_children: bool = False) -> Population:
    """Return who was held at the place (and, with `include_children`, the places under it) in
    `span`, counting claims in `statuses`: named persons (a claim's person, its companions, the
    members of a group held there), the groups themselves, the counts reported, and the
    counts of one group that disagree. Raises NotFound for an unknown place."""
    places = _place(conn, place_id, include_children)
    window = (span.earliest, span.latest)
    open_: Open = set()
    certain, possible = _persons_there(conn, places, statuses, span, open_)
    stays, sure_groups = _groups_there(conn, places, statuses, window, open_)
    through = _members_there(conn, stays, statuses, window)
    aggregates = [r for lo, hi, r in _aggregates(conn, places, statuses) if may_meet(lo, hi, *window)]
    labels = registry.labels(conn, {*certain, *possible, *through, *stays, *places,
                                    *_sources(aggregates)})
    held, maybe, still_open = _listed(certain, possible, through, open_, labels)
    listed = {s.claim_id for found in stays.values() for s in found} | {r[0] for r in aggregates}
    conflicts = groups.count_conflicts(conn, {*stays, *(r[6] for r in aggregates if r[6])}, listed,
                                       statuses)
    held_groups = _group_items(stays, sure_groups, open_, labels)
    low, high = groups_count(held_groups)
    return Population(place=Ref(place_id, labels.get(place_id, place_id)),
                      places=[Ref(p, labels.get(p, p)) for p in places], at=span,
                      certain=held, possible=maybe, count_min=len(held),
                      count_max=len(held) + len(maybe),
                      groups=held_groups, groups_count_min=low, groups_count_max=high,
                      reported=_reported(aggregates, labels), conflicts=conflicts, open=still_open,
                      undated=_undated(conn, places, statuses, labels))


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


def timeline(conn: Connection, place_id: str, step: str, first: Span | None,
             last: Span | None, statuses: Sequence[str], include_children: bool = False) -> Timeline:
    """Return the place's figures per `step` ('year' or 'month') from `first` to `last` (by
    default from the earliest to the latest dated episode or count): each period's count_min,
    count_max and reported, as `population_at` gives them (members held through a group
    counted as there).

    The place's episodes, groups' stays and those groups' memberships are fetched once and
    every period is evaluated in Python: each episode meets a run of consecutive periods,
    found by bisection. Raises NotFound for an
    unknown place and Invalid for a reversed span or more than MAX_PERIODS periods."""
    places = _place(conn, place_id, include_children)
    if first is not None and last is not None and first.earliest > last.latest:
        raise Invalid("from", first.edtf, "after `to`", where="query",
                      detail=f"from={first.edtf!r} is after to={last.edtf!r}: the span is reversed")
    episodes = _episodes(conn, places, statuses)
    stays = groups.stays_at(conn, places, statuses)
    members = groups.memberships(conn, {s.subject for s in stays}, statuses)
    aggregates = _aggregates(conn, places, statuses)
    days = [d for e in (*episodes, *stays) for d in (e.start_earliest, e.start_latest,
                                                     e.end_earliest, e.end_latest) if d]
    days += [d for a in aggregates for d in a[:2] if d]
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
    count_min, count_max, reported = _figures(conn, spans, episodes, aggregates, stays, members)
    labels = registry.labels(conn, {place_id, *_sources([a[2] for a in aggregates])})
    rows = {a[2][0]: item for a, item in zip(aggregates, _reported([a[2] for a in aggregates], labels))}
    items = [Period(period=label, earliest=a, latest=b, count_min=count_min[i],
                    count_max=count_max[i], reported=[rows[c] for c in reported[i]])
             for i, (label, a, b) in enumerate(spans)]
    return Timeline(place=Ref(place_id, labels.get(place_id, place_id)), step=step, items=items,
                    undated=_undated(conn, places, statuses, labels))


def _figures(conn: Connection, spans: list[tuple[str, Day, Day]], episodes: list[Stay],
             aggregates: list[tuple], stays: Sequence[Stay] = (),
             members: Sequence[Membership] = ()) -> tuple[list[int], list[int], list[list[str]]]:
    """Return count_min, count_max and the reported aggregate claim ids of each span.

    A person counts in count_min for the periods one of their episodes surely meets
    (events.dates.surely_meets), or one of their memberships and a stay of that group surely
    share a day of (groups.Membership.through), and in count_max for those one surely or
    possibly meets: per person, the runs of periods are merged, then added up with a
    difference array."""
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

    alive = registry.survivors(conn, {e.subject for e in episodes} | {m.person for m in members})
    sure: dict[str, list[tuple[int, int]]] = {}
    any_: dict[str, list[tuple[int, int]]] = {}

    def count(person: str, s: tuple[Day, Day] | None, p: tuple[Day | None, Day | None] | None) -> None:
        if s is not None and (r := run(*s)):
            sure.setdefault(person, []).append(r)
            any_.setdefault(person, []).append(r)
        if p is not None and (r := run(*p)):
            any_.setdefault(person, []).append(r)

    for e in episodes:
        count(alive.get(e.subject, e.subject), e.sure(), e.possible())
    by_group: dict[str, list[Stay]] = {}
    for stay in stays:
        by_group.setdefault(stay.subject, []).append(stay)
    for m in members:
        for stay in by_group.get(m.group, ()):
            count(alive.get(m.person, m.person), *m.through(stay))
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
