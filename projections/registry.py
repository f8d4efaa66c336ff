"""The registry read model: sources, persons (with merges and distinctions), places,
organisations and funds, as registered; and the suppressions in force (claims and entities an
admin took down from readers), which every read model's queries consult."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgspec
from starosta.events.participants import SEEDED as SEEDED_ROLES
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
    RecordIdentified,
    RecordMerged,
    RecordsDistinct,
    RecordUnidentified,
    RecordUnmerged,
    SourceRegistered,
)
from starosta.events.kinds import Citation
from starosta.events.properties import SEEDED as SEEDED_PROPERTIES, SEEDED_BY_ID, SEEDED_BY_KEY, PropertyDef, PropertyRegistered
from starosta.events.review import ContentSuppressed, ContentUnsuppressed
from starosta.events.store import Connection, Envelope
from starosta.projections.rules import Viewer, sees_suppressed
from starosta.projections.runner import Projection, Tables

_encode = msgspec.json.Encoder().encode


def _judgement_table() -> list[str]:
    """A kind's identity judgements (merged, unmerged, distinct), as person_judgements."""
    return ["""CREATE TABLE {name} (
        record_id TEXT NOT NULL, other TEXT NOT NULL, judgement TEXT NOT NULL,
        reason TEXT NOT NULL, reviewer TEXT NOT NULL, citation TEXT, position INTEGER NOT NULL,
        PRIMARY KEY (record_id, other, position))""", "CREATE INDEX {name}_other ON {name} (other)"]


def _entity_table(extra: str = "") -> list[str]:
    return [f"""CREATE TABLE {{name}} (
        id TEXT PRIMARY KEY, label TEXT NOT NULL, {extra}
        data TEXT NOT NULL, position INTEGER NOT NULL)"""]


def source_label(csl: dict[str, Any], source_id: str) -> str:
    """A source's label: its CSL title; else its container, its archive reference and its
    authors, joined by "; ", with the year issued (an untitled archive file: "GARF, f. 1,
    op. 2 (1926)"); else its type and year; else its id."""
    title = csl.get("title")
    if isinstance(title, str) and title.strip():
        return title.strip()
    parts: list[str] = []
    container = csl.get("container-title")
    if isinstance(container, str) and container.strip():
        parts.append(container.strip())
    archive = ", ".join(str(csl[k]).strip() for k in ("archive", "archive_location")
                        if isinstance(csl.get(k), (str, int)) and str(csl[k]).strip())
    if archive:
        parts.append(archive)
    names = [_name(n) for n in csl.get("author") or [] if isinstance(n, dict)]
    if any(names):
        parts.append("; ".join(n for n in names if n))
    year = _year(csl.get("issued"))
    if not parts and isinstance(csl.get("type"), str):
        parts.append(csl["type"])
    if not parts:
        return source_id
    return f"{'; '.join(parts)} ({year})" if year else "; ".join(parts)


def _name(name: dict[str, Any]) -> str:
    if isinstance(name.get("literal"), str):
        return name["literal"].strip()
    return ", ".join(str(name[k]).strip() for k in ("family", "given")
                     if isinstance(name.get(k), str) and name[k].strip())


def _year(issued: Any) -> str | None:
    """The first year of a CSL date (date-parts, raw or literal), as written."""
    if not isinstance(issued, dict):
        return None
    parts = issued.get("date-parts")
    if isinstance(parts, list) and parts and isinstance(parts[0], list) and parts[0]:
        return str(parts[0][0])
    for key in ("raw", "literal"):
        if isinstance(issued.get(key), str) and issued[key].strip():
            return issued[key].strip()[:40]
    return None


class RegistryProjection(Projection):
    """Entities by id, each with its registration event as JSON; the identity judgements
    that stand, and those the log holds but the rule refuses (`judgement_conflicts`)."""

    name = "registry"
    version = 6  # 2: suppressions; 3: judgements contradicting earlier ones are ignored and flagged;
    # 4: participant roles added by admins; 5: places and organisations merged (merged_into,
    # their judgements), identifications; 6: properties (admin-registered; the seeded ones are
    # in code: events.properties.SEEDED). place.located (issue 24) needs no new version: no
    # log written before it holds one, so every table built before is built alike
    ddl = {
        "sources": _entity_table("source_type TEXT NOT NULL,"),
        "persons": _entity_table("partial INTEGER NOT NULL, merged_into TEXT,") + [
            "CREATE INDEX {name}_merged_into ON {name} (merged_into)"],
        "places": _entity_table("kind TEXT NOT NULL, parent TEXT, merged_into TEXT,") + [
            "CREATE INDEX {name}_parent ON {name} (parent)",
            "CREATE INDEX {name}_merged_into ON {name} (merged_into)"],
        "organizations": _entity_table("kind TEXT NOT NULL, merged_into TEXT,") + [
            "CREATE INDEX {name}_merged_into ON {name} (merged_into)"],
        "funds": _entity_table(),
        "person_judgements": ["""CREATE TABLE {name} (
            person_id TEXT NOT NULL, other TEXT NOT NULL, judgement TEXT NOT NULL,
            reason TEXT NOT NULL, reviewer TEXT NOT NULL, citation TEXT, position INTEGER NOT NULL,
            PRIMARY KEY (person_id, other, position))""",
            "CREATE INDEX {name}_other ON {name} (other)"],
        # places' and organisations' merges, unmerges and distinctions, as person_judgements
        "place_judgements": _judgement_table(),
        "organization_judgements": _judgement_table(),
        # the identifications in force ("possibly the same as", not merged), any kind of record:
        # one row per pair as judged (record_id the record it was sent on)
        "identifications": ["""CREATE TABLE {name} (
            kind TEXT NOT NULL, record_id TEXT NOT NULL, other TEXT NOT NULL,
            certainty TEXT NOT NULL, reason TEXT NOT NULL, reviewer TEXT NOT NULL, citation TEXT,
            position INTEGER NOT NULL, PRIMARY KEY (record_id, other))""",
            "CREATE INDEX {name}_other ON {name} (other)"],
        # the properties admins registered (the seeded ones are code: properties.SEEDED)
        "properties": ["""CREATE TABLE {name} (
            id TEXT PRIMARY KEY, key TEXT NOT NULL UNIQUE, datatype TEXT NOT NULL,
            data TEXT NOT NULL, position INTEGER NOT NULL)"""],
        # the suppressions in force now: one row per claim or entity taken down from readers
        "suppressions": ["""CREATE TABLE {name} (
            target TEXT PRIMARY KEY, target_kind TEXT NOT NULL, reason TEXT NOT NULL,
            recorded_at TEXT NOT NULL, position INTEGER NOT NULL)"""],
        # judgements the log holds that contradict the ones before them (a cycle of merges, a
        # merge of records judged distinct, "distinct" within one record): ignored, for review
        "judgement_conflicts": ["""CREATE TABLE {name} (
            position INTEGER PRIMARY KEY, person_id TEXT NOT NULL, other TEXT NOT NULL,
            judgement TEXT NOT NULL, reviewer TEXT NOT NULL, refusal TEXT NOT NULL)"""],
        # the participant roles admins added (the seeded ones are events.participants.SEEDED)
        "participant_roles": ["""CREATE TABLE {name} (
            key TEXT PRIMARY KEY, label TEXT NOT NULL, description TEXT NOT NULL,
            position INTEGER NOT NULL)"""],
    }

    def apply(self, conn: Connection, envelope: Envelope, t: Tables) -> None:
        e, pos = envelope.event, envelope.position
        match e:
            case SourceRegistered():
                label = source_label(e.csl, e.source_id)
                conn.execute(f"INSERT INTO {t['sources']} VALUES (?, ?, ?, ?, ?)",
                             (e.source_id, label, e.source_type, _encode(e), pos))
            case PersonRegistered():
                conn.execute(f"INSERT INTO {t['persons']} VALUES (?, ?, ?, NULL, ?, ?)",
                             (e.person_id, e.label, int(e.partial), _encode(e), pos))
            case PlaceRegistered():
                conn.execute(f"INSERT INTO {t['places']} VALUES (?, ?, ?, ?, NULL, ?, ?)",
                             (e.place_id, e.label, e.kind, e.parent, _encode(e), pos))
            case PlaceLocated():  # coordinates set after registration: the record shows them
                row = conn.execute(f"SELECT data FROM {t['places']} WHERE id = ?",
                                   (e.place_id,)).fetchone()
                if row is not None:
                    data = {**msgspec.json.decode(row[0]), "latitude": e.latitude,
                            "longitude": e.longitude, "coordinates_source": e.coordinates_source}
                    conn.execute(f"UPDATE {t['places']} SET data = ? WHERE id = ?",
                                 (_encode(data), e.place_id))
            case OrganizationRegistered():
                conn.execute(f"INSERT INTO {t['organizations']} VALUES (?, ?, ?, NULL, ?, ?)",
                             (e.organization_id, e.label, e.kind, _encode(e), pos))
            case FundRegistered():
                conn.execute(f"INSERT INTO {t['funds']} VALUES (?, ?, ?, ?)",
                             (e.fund_id, e.label, _encode(e), pos))
            case (PersonMerged() | PersonUnmerged() | PersonsDistinct() | RecordMerged()
                  | RecordUnmerged() | RecordsDistinct() | RecordIdentified()
                  | RecordUnidentified()) if self._refused(conn, envelope, t):
                pass  # contradicts the judgements before it in the log: ignored, and flagged
            case PersonMerged():
                conn.execute(f"UPDATE {t['persons']} SET merged_into = ? WHERE id = ?",
                             (e.into, e.person_id))
                self._judge(conn, t, e.person_id, e.into, "merged", e.reason, e.reviewer,
                            e.citation, pos)
            case PersonUnmerged():
                conn.execute(f"UPDATE {t['persons']} SET merged_into = NULL WHERE id = ?",
                             (e.person_id,))
                self._judge(conn, t, e.person_id, e.from_person, "unmerged", e.reason,
                            e.reviewer, None, pos)
            case PersonsDistinct():
                self._judge(conn, t, e.person_id, e.other, "distinct", e.reason, e.reviewer,
                            e.citation, pos)
            case RecordMerged():
                conn.execute(f"UPDATE {t[ENTITY_TABLES[e.kind]]} SET merged_into = ? WHERE id = ?",
                             (e.into, e.record_id))
                self._judge(conn, t, e.record_id, e.into, "merged", e.reason, e.reviewer,
                            e.citation, pos, e.kind)
            case RecordUnmerged():
                conn.execute(f"UPDATE {t[ENTITY_TABLES[e.kind]]} SET merged_into = NULL WHERE id = ?",
                             (e.record_id,))
                self._judge(conn, t, e.record_id, e.from_record, "unmerged", e.reason,
                            e.reviewer, None, pos, e.kind)
            case RecordsDistinct():
                self._judge(conn, t, e.record_id, e.other, "distinct", e.reason, e.reviewer,
                            e.citation, pos, e.kind)
            case RecordIdentified():
                conn.execute(f"INSERT INTO {t['identifications']} VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                             (e.kind, e.record_id, e.with_, e.certainty, e.reason, e.reviewer,
                              _encode(e.citation).decode() if e.citation else None, pos))
            case RecordUnidentified():
                conn.execute(f"DELETE FROM {t['identifications']} WHERE (record_id = ? AND other = ?) "
                             "OR (record_id = ? AND other = ?)",
                             (e.record_id, e.with_, e.with_, e.record_id))
            case ContentSuppressed():
                conn.execute(f"INSERT INTO {t['suppressions']} VALUES (?, ?, ?, ?, ?) ON CONFLICT "
                             "(target) DO UPDATE SET reason = excluded.reason, recorded_at = "
                             "excluded.recorded_at, position = excluded.position",
                             (e.target, e.target_kind, e.reason, envelope.recorded_at, pos))
            case ContentUnsuppressed():
                conn.execute(f"DELETE FROM {t['suppressions']} WHERE target = ?", (e.target,))
            case ParticipantRoleAdded():
                conn.execute(f"INSERT INTO {t['participant_roles']} VALUES (?, ?, ?, ?) "
                             "ON CONFLICT (key) DO NOTHING", (e.key, e.label, e.description, pos))
            case PropertyRegistered():
                p = e.property
                conn.execute(f"INSERT INTO {t['properties']} VALUES (?, ?, ?, ?, ?)",
                             (p.id, p.key, p.datatype, _encode(p), pos))

    @staticmethod
    def _refused(conn: Connection, envelope: Envelope, t: Tables) -> bool:
        """Flag and return True when a judgement of the log is refused by the rule against
        the judgements before it (a log written before the rule held, by a race)."""
        e = envelope.event
        assert isinstance(e, IDENTITY_EVENTS)  # apply() matched it
        refusal = judgement_refusal(conn, e, t)
        if refusal is None:
            return False
        judged = judgement_of(e)
        conn.execute(f"INSERT INTO {t['judgement_conflicts']} VALUES (?, ?, ?, ?, ?, ?)",
                     (envelope.position, judged.record, judged.other, judged.judgement,
                      e.reviewer, refusal))
        return True

    @staticmethod
    def _judge(conn, t, person, other, judgement, reason, reviewer, citation, pos,
               kind: str = "person") -> None:
        conn.execute(f"INSERT INTO {t[f'{kind}_judgements']} VALUES (?, ?, ?, ?, ?, ?, ?)",
                     (person, other, judgement, reason, reviewer,
                      _encode(citation) if citation else None, pos))


# -- queries: everything that reads the registry's tables ---------------------------------------

ENTITY_TABLES = {"person": "persons", "place": "places", "organization": "organizations",
                 "fund": "funds", "source": "sources"}


class Ref(msgspec.Struct, frozen=True):
    """A reference to an entity as documents show it: its id and its current label."""

    id: str
    label: str


def exists(conn: Connection, kind: str, entity_id: str) -> bool:
    """Return True when an entity of `kind` ('any' = person or organisation; 'entity' = any
    registered entity) is registered."""
    kinds = (("person", "organization") if kind == "any"
             else tuple(ENTITY_TABLES) if kind == "entity" else (kind,))
    return any(conn.execute(f"SELECT 1 FROM {ENTITY_TABLES[k]} WHERE id = ?",  # table from code
                            (entity_id,)).fetchone() for k in kinds)


def entity(conn: Connection, kind: str, entity_id: str,
           table: str | None = None) -> tuple[str, str, dict, int] | None:
    """Return (id, label, registration data, position) of an entity, or None (`table`: the
    physical table when it is not the live one, during rebuilds)."""
    row = conn.execute(f"SELECT id, label, data, position FROM {table or ENTITY_TABLES[kind]} "
                       "WHERE id = ?", (entity_id,)).fetchone()
    return (row[0], row[1], msgspec.json.decode(row[2]), row[3]) if row else None


GROUP_KINDS = ("group", "colony")  # organisations that are groups of people


def is_group(conn: Connection, organization_id: str) -> bool:
    """Return True when the organisation is a group of people (kind group or colony)."""
    row = conn.execute("SELECT kind FROM organizations WHERE id = ?", (organization_id,)).fetchone()
    return row is not None and row[0] in GROUP_KINDS


SUPPRESSED_LABEL = "[suppressed]"  # the label every document shows for a suppressed entity


class Suppression(msgspec.Struct, frozen=True, kw_only=True):
    """A take-down in force: when (`at`, the log's time; `position`) and why. Readers see it in
    place of the content; reviewers and admins see it beside the content."""

    reason: str
    at: str
    position: int


def suppressions(conn: Connection, ids: set[str] | list[str],
                 tables: Tables | None = None) -> dict[str, Suppression]:
    """Return target id -> its suppression in force, for the claims and entities among `ids`
    that are suppressed now (500 ids per query)."""
    table = tables["suppressions"] if tables else "suppressions"
    wanted = sorted(set(ids))
    out: dict[str, Suppression] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        marks = ",".join("?" * len(chunk))
        for target, reason, at, position in conn.execute(
                f"SELECT target, reason, recorded_at, position FROM {table} WHERE target IN ({marks})",
                chunk):
            out[target] = Suppression(reason=reason, at=at, position=position)
    return out


def hidden_records(conn: Connection, ids: set[str], viewer: Viewer) -> set[str]:
    """Return the entities among `ids` whose events `viewer` may not read in full: suppressed
    ones, for readers who may not read suppressed content (rules.sees_suppressed)."""
    if not ids or sees_suppressed(viewer):
        return set()
    return set(suppressions(conn, ids))


def suppression_of(conn: Connection, target: str) -> Suppression | None:
    """Return the suppression in force of one claim or entity, or None."""
    return suppressions(conn, [target]).get(target)


def suppressed_entities(conn: Connection, kind: str) -> dict[str, Suppression]:
    """Return entity id -> suppression for every suppressed entity of `kind` (for exports)."""
    return {target: Suppression(reason=reason, at=at, position=position)
            for target, reason, at, position in conn.execute(
                "SELECT target, reason, recorded_at, position FROM suppressions "
                "WHERE target_kind = ? ORDER BY target", (kind,))}


def labels(conn: Connection, ids: set[str] | list[str],
           tables: Tables | None = None) -> dict[str, str]:
    """Return id -> current label for every registered entity among `ids` (others are left
    out); a suppressed entity's label is SUPPRESSED_LABEL for everyone. A merged person keeps
    its own registration label here; documents show survivors."""
    wanted = sorted(set(ids))
    out: dict[str, str] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        marks = ",".join("?" * len(chunk))
        for table in ENTITY_TABLES.values():
            name = tables[table] if tables else table
            out.update(conn.execute(f"SELECT id, label FROM {name} WHERE id IN ({marks})", chunk))
    for target in suppressions(conn, wanted, tables):
        if target in out:
            out[target] = SUPPRESSED_LABEL
    return out


def merge_target(conn: Connection, person_id: str, persons: str = "persons") -> str | None:
    """Return the record `person_id` is merged into directly, or None."""
    row = conn.execute(f"SELECT merged_into FROM {persons} WHERE id = ?", (person_id,)).fetchone()
    return row[0] if row else None


def survivor(conn: Connection, person_id: str, persons: str = "persons") -> str:
    """Follow merges from `person_id` to the record that survives (the one place this rule is
    written; cycles are refused at merge time, and a cycle in old data stops the walk)."""
    seen = {person_id}
    while (target := merge_target(conn, person_id, persons)) is not None and target not in seen:
        person_id = target
        seen.add(person_id)
    return person_id


def merged_records(conn: Connection, person_id: str, persons: str = "persons") -> list[str]:
    """Return every record merged, directly or not, into `person_id` (sorted by id per level)."""
    found, frontier = [], [person_id]
    while frontier:
        marks = ",".join("?" * len(frontier))
        rows = conn.execute(f"SELECT id FROM {persons} WHERE merged_into IN ({marks}) ORDER BY id",
                            frontier).fetchall()
        frontier = [r[0] for r in rows if r[0] not in found and r[0] != person_id]
        found += frontier
    return found


def merge_group(conn: Connection, person_id: str, persons: str = "persons") -> list[str]:
    """Return [survivor, *records merged into it] for the group `person_id` belongs to."""
    alive = survivor(conn, person_id, persons)
    return [alive, *merged_records(conn, alive, persons)]


def judgement_column(kind: str) -> str:
    """The record column of a kind's judgements table: persons' is `person_id`, other kinds'
    `record_id`."""
    return "person_id" if kind == "person" else "record_id"


def distinct_from(conn: Connection, group: list[str],
                  judgements: str = "person_judgements", kind: str = "person") -> list[str]:
    """Return the records judged 'not the same' as any record of `group` (`judgements`: the
    kind's judgements table, person_judgements, place_judgements, organization_judgements)."""
    marks = ",".join("?" * len(group))
    col = judgement_column(kind)
    return sorted(r[0] for r in conn.execute(
        f"SELECT other FROM {judgements} WHERE {col} IN ({marks}) AND judgement = 'distinct' "
        f"UNION SELECT {col} FROM {judgements} WHERE other IN ({marks}) "
        f"AND judgement = 'distinct'", (*group, *group)))


def distinct_pair(conn: Connection, a: list[str], b: list[str],
                  judgements: str = "person_judgements",
                  kind: str = "person") -> tuple[str, str] | None:
    """Return a pair judged distinct between two groups of records, if any."""
    col = judgement_column(kind)
    for x in a:
        for y in b:
            if conn.execute(f"SELECT 1 FROM {judgements} WHERE judgement = 'distinct' AND "
                            f"(({col} = ? AND other = ?) OR ({col} = ? AND other = ?))",
                            (x, y, y, x)).fetchone():
                return x, y
    return None


def identified_pair(conn: Connection, a: list[str], b: list[str],
                    identifications: str = "identifications") -> tuple[str, str] | None:
    """Return a pair with an identification in force between two groups of records, if any."""
    for x in a:
        for y in b:
            if conn.execute(f"SELECT 1 FROM {identifications} WHERE "
                            "(record_id = ? AND other = ?) OR (record_id = ? AND other = ?)",
                            (x, y, y, x)).fetchone():
                return x, y
    return None


# -- identity judgements: the one rule of what may be judged, and what a judgement reads --------

JUDGEMENTS = {PersonMerged: "merged", PersonUnmerged: "unmerged", PersonsDistinct: "distinct",
              RecordMerged: "merged", RecordUnmerged: "unmerged", RecordsDistinct: "distinct",
              RecordIdentified: "identified", RecordUnidentified: "unidentified"}
IDENTITY_EVENTS = tuple(JUDGEMENTS)
IdentityEvent = (PersonMerged | PersonUnmerged | PersonsDistinct | RecordMerged | RecordUnmerged
                 | RecordsDistinct | RecordIdentified | RecordUnidentified)
KIND_WORDS = {"person": ("person", "persons"), "place": ("place", "places"),
              "organization": ("organisation", "organisations")}


class Judgement(msgspec.Struct, frozen=True):
    """An identity judgement as the rule reads it, whatever its event: the kind of record, the
    record whose stream it is written in, the other record, and what was judged."""

    kind: str
    record: str
    other: str
    judgement: str


def judgement_of(event: IdentityEvent) -> Judgement:
    """Return the judgement an identity event records."""
    match event:
        case PersonMerged(person_id=record, into=other) | PersonUnmerged(
                person_id=record, from_person=other) | PersonsDistinct(person_id=record, other=other):
            return Judgement("person", record, other, JUDGEMENTS[type(event)])
        case RecordMerged(kind=kind, record_id=record, into=other) | RecordUnmerged(
                kind=kind, record_id=record, from_record=other) | RecordsDistinct(
                kind=kind, record_id=record, other=other) | RecordIdentified(
                kind=kind, record_id=record, with_=other) | RecordUnidentified(
                kind=kind, record_id=record, with_=other):
            return Judgement(kind, record, other, JUDGEMENTS[type(event)])
    raise TypeError(f"not an identity judgement: {type(event).__name__}")


def identity_tables(kind: str, tables: Tables | None = None) -> tuple[str, str, str]:
    """Return the (records, judgements, identifications) tables of a kind of record (the
    physical ones when `tables` is given, during rebuilds)."""
    names = (ENTITY_TABLES[kind], f"{kind}_judgements", "identifications")
    if tables is None:
        return names
    return (tables[names[0]], tables[names[1]], tables.get(names[2], names[2]))


def judgement_refusal(conn: Connection, event: IdentityEvent,
                      tables: Tables | None = None) -> str | None:
    """Return why an identity judgement cannot stand against the judgements the registry
    holds (None when it can). The one rule, for persons, places and organisations alike: the
    command refuses by it (409), and the read model ignores and flags by it a judgement the
    log holds that contradicts those before it (two judgements that raced before the store
    checked what each read), so that a log replays to a registry with no cycle of merges, no
    merge of records judged distinct, no record distinct from its own group, no
    identification of records judged distinct or of one record with itself, and no
    identification withdrawn that was not in force. `tables`: the physical tables during a
    rebuild."""
    judged = judgement_of(event)
    records, judgements, identifications = identity_tables(judged.kind, tables)
    word, words = KIND_WORDS[judged.kind]
    record, other = judged.record, judged.other
    match judged.judgement:
        case "merged":
            if other == record:
                return f"{record} cannot be merged into itself"
            if merge_target(conn, record, records) is not None:
                return f"{record} is merged already: unmerge it first"
            if survivor(conn, other, records) == record:
                return f"{other} is merged into {record}: merging back would make a cycle"
            pair = distinct_pair(conn, merge_group(conn, record, records),
                                 merge_group(conn, other, records), judgements, judged.kind)
            if pair:
                return (f"{pair[0]} and {pair[1]} were recorded as distinct {words}: they may "
                        "not be merged")
        case "unmerged":
            if merge_target(conn, record, records) != other:
                return f"{record} is not merged into {other}"
        case "distinct":
            if other == record or survivor(conn, record, records) == survivor(conn, other, records):
                return (f"{record} and {other} are one record now: unmerge them before "
                        "recording them as distinct")
        case "identified":
            if other == record or survivor(conn, record, records) == survivor(conn, other, records):
                return (f"{record} and {other} are one record now: an identification joins two "
                        "records")
            pair = distinct_pair(conn, merge_group(conn, record, records),
                                 merge_group(conn, other, records), judgements, judged.kind)
            if pair:
                return (f"{pair[0]} and {pair[1]} were recorded as distinct {words}: they may "
                        "not be identified")
            if identified_pair(conn, [record], [other], identifications):
                return (f"{record} is identified with {other} already: unidentify it first to "
                        "judge it again")
        case "unidentified":
            if not identified_pair(conn, [record], [other], identifications):
                return f"{record} is not identified with {other}"
    return None


def judgement_streams(conn: Connection, records: list[str], kind: str = "person") -> list[str]:
    """Return the streams an identity judgement on `records` (of `kind`) reads, whose versions
    it expects when it is appended (sorted): every record of their merge groups (the survivor
    chain included), and every record of the groups of records judged distinct from one of
    them. Two judgements that could contradict each other each read a stream the other writes
    (a judgement is written in the stream of one of its records), so the second to commit is
    refused. Every identity judgement (merge, unmerge, distinct, identify, unidentify, of
    every kind of record) computes its streams here."""
    table, judgements, _ = identity_tables(kind)
    streams = {m for r in records for m in merge_group(conn, r, table)}
    for other in distinct_from(conn, sorted(streams), judgements, kind):
        streams.update(merge_group(conn, other, table))
    return sorted(streams)


class Identified(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """An identification in force: the record is possibly the same as `id` (its survivor, when
    that record was merged since), judged `certainty` (probable or possible), with the
    reviewer's reason and citation, recorded at log `position`. Never a merge: each record
    keeps its own content."""

    id: str
    label: str
    certainty: str
    reason: str
    citation: Citation | None = None
    position: int


def identifications_of(conn: Connection, kind: str, group: list[str],
                       tables: Tables | None = None) -> list[Identified]:
    """Return the identifications in force of a record's merge group ([survivor, *merged]),
    in log order: the other side of each, as its survivor, once per survivor (the earliest),
    left out when it is in the group itself (merged since)."""
    records, _, identifications = identity_tables(kind, tables)
    own = set(group)
    marks = ",".join("?" * len(group))
    rows = conn.execute(
        f"SELECT record_id, other, certainty, reason, citation, position FROM {identifications} "
        f"WHERE kind = ? AND (record_id IN ({marks}) OR other IN ({marks})) ORDER BY position",
        (kind, *group, *group)).fetchall()
    found: dict[str, tuple] = {}
    for record, other, certainty, reason, citation, position in rows:
        far = survivor(conn, other if record in own else record, records)
        if far not in own:
            found.setdefault(far, (certainty, reason, citation, position))
    names = labels(conn, list(found), tables)
    return [Identified(id=far, label=names.get(far, far), certainty=certainty, reason=reason,
                       citation=_citation(citation) if citation else None, position=position)
            for far, (certainty, reason, citation, position) in found.items()]


_citation = msgspec.json.Decoder(Citation).decode


def identified_records(conn: Connection, ids: list[str], tables: Tables | None = None) -> set[str]:
    """Return the records with an identification in force with one of `ids` (whose documents
    show those records' labels and survivors)."""
    if not ids:
        return set()
    table = tables.get("identifications", "identifications") if tables else "identifications"
    marks = ",".join("?" * len(ids))
    return {r[0] for r in conn.execute(
        f"SELECT other FROM {table} WHERE record_id IN ({marks}) UNION "
        f"SELECT record_id FROM {table} WHERE other IN ({marks})", (*ids, *ids))}


class IdentifiedAs(msgspec.Struct, frozen=True, kw_only=True):
    """A search hit's identification in force: possibly the same as `id`, `certainty`."""

    id: str
    label: str
    certainty: str


def identified_with(conn: Connection, kind: str, ids: list[str]) -> dict[str, list[IdentifiedAs]]:
    """Return, for the records among `ids` (survivors) that have identifications in force, the
    records they are possibly the same as (search answers show them)."""
    out: dict[str, list[IdentifiedAs]] = {}
    if not ids:
        return out
    if not conn.execute("SELECT 1 FROM identifications WHERE kind = ? LIMIT 1", (kind,)).fetchone():
        return out  # the common case: no identification of this kind at all
    for record in ids:
        found = identifications_of(conn, kind, merge_group(conn, record, ENTITY_TABLES[kind]))
        if found:
            out[record] = [IdentifiedAs(id=i.id, label=i.label, certainty=i.certainty) for i in found]
    return out


def identifications(conn: Connection) -> list[tuple[str, str, str, str, str, str | None, int]]:
    """Return every identification in force (kind, record, other, certainty, reason, citation
    JSON, position), in log order (for exports)."""
    return [tuple(r) for r in conn.execute(
        "SELECT kind, record_id, other, certainty, reason, citation, position FROM identifications "
        "ORDER BY position")]


class JudgementConflict(msgspec.Struct, frozen=True):
    """A judgement the log holds that the registry ignores: it contradicted those before it."""

    position: int
    person_id: str
    other: str
    judgement: str
    reviewer: str
    refusal: str


def judgement_conflicts(conn: Connection) -> list[JudgementConflict]:
    """Return the ignored judgements, in log order, for a reviewer to settle."""
    return [JudgementConflict(*row) for row in conn.execute(
        "SELECT position, person_id, other, judgement, reviewer, refusal FROM judgement_conflicts "
        "ORDER BY position")]


def group_as_of(conn: Connection, person_id: str, position: int) -> tuple[str, list[str]]:
    """Return (survivor, merged records) as they stood after log `position`."""
    def target(pid: str) -> str | None:
        row = conn.execute("SELECT judgement, other FROM person_judgements WHERE person_id = ? AND "
                           "judgement IN ('merged', 'unmerged') AND position <= ? "
                           "ORDER BY position DESC LIMIT 1", (pid, position)).fetchone()
        return row[1] if row and row[0] == "merged" else None

    alive, seen = person_id, {person_id}
    while (into := target(alive)) and into not in seen:
        alive = into
        seen.add(alive)
    merged: list[str] = []
    frontier = [alive]
    while frontier:
        candidates = dict.fromkeys(r[0] for f in frontier for r in conn.execute(
            "SELECT DISTINCT person_id FROM person_judgements WHERE other = ? AND judgement = 'merged' "
            "AND position <= ? ORDER BY person_id", (f, position)))  # once, even if merged twice
        frontier = [c for c in candidates if c not in merged and c != alive
                    and target(c) in (alive, *merged)]
        merged += frontier
    return alive, sorted(merged)


def places_under(conn: Connection, place_id: str, include_children: bool) -> list[str]:
    """Return the place and, when asked, every place under it (parent links, any depth): level
    by level, each level in registration order. A place merged with others stands for its
    whole merge group (the survivor first, then the records merged into it)."""
    found = merge_group(conn, place_id, "places")
    if include_children:
        frontier = list(found)
        while frontier:
            marks = ",".join("?" * len(frontier))
            frontier = list(dict.fromkeys(
                r[0] for r in conn.execute(f"SELECT id FROM places WHERE parent IN ({marks}) "
                                           "ORDER BY position", frontier) if r[0] not in found))
            found += frontier
    return found


def place_children(conn: Connection, place_ids: list[str]) -> list[tuple[str, str]]:
    """Return (id, label) of the places whose parent is one of `place_ids` (a place and the
    records merged into it), not merged themselves, in registration order (a place's page)."""
    if not place_ids:
        return []
    marks = ",".join("?" * len(place_ids))
    return [(r[0], r[1]) for r in conn.execute(
        f"SELECT id, label FROM places WHERE parent IN ({marks}) AND merged_into IS NULL "
        "ORDER BY position", place_ids)]


def place_coordinates(conn: Connection, place_ids: Iterable[str]) -> dict[str, tuple[str, float, float]]:
    """Return place id -> (label, latitude, longitude) for the places among `place_ids` whose
    registration gives coordinates (maps: a person's itinerary)."""
    ids = list(dict.fromkeys(place_ids))
    found: dict[str, tuple[str, float, float]] = {}
    for chunk in range(0, len(ids), 500):
        part = ids[chunk:chunk + 500]
        marks = ",".join("?" * len(part))
        for pid, label, data in conn.execute(
                f"SELECT id, label, data FROM places WHERE id IN ({marks})", part):
            shown = msgspec.json.decode(data)
            if shown.get("latitude") is not None and shown.get("longitude") is not None:
                found[pid] = (label, float(shown["latitude"]), float(shown["longitude"]))
    return found


def list_page(conn: Connection, kind: str, limit: int, offset: int) -> list[str]:
    """Return ids of entities of `kind` in registration order (merged persons, places and
    organisations left out)."""
    unmerged = " WHERE merged_into IS NULL" if kind in MERGED_KINDS else ""
    return [r[0] for r in conn.execute(
        f"SELECT id FROM {ENTITY_TABLES[kind]}{unmerged} ORDER BY position LIMIT ? OFFSET ?",
        (limit, offset))]


MERGED_KINDS = ("person", "place", "organization")  # the kinds of record that can be merged


def survivors(conn: Connection, ids: Iterable[str],
              persons: str = "persons") -> dict[str, str]:
    """Return merged record -> its survivor for every merged person among `ids` (ids that are
    not merged persons are left out): one query per 500 ids, then `survivor` for the few
    merged ones."""
    wanted = sorted(set(ids))
    out: dict[str, str] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        marks = ",".join("?" * len(chunk))
        for (merged,) in conn.execute(f"SELECT id FROM {persons} WHERE id IN ({marks}) "
                                      "AND merged_into IS NOT NULL", chunk).fetchall():
            out[merged] = survivor(conn, merged, persons)
    return out


# -- participant roles --------------------------------------------------------------------------

class ParticipantRole(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A role of the vocabulary of participant roles: seeded in code, or added by an admin
    (`position`: where the log added it)."""

    key: str
    label: str
    description: str
    seeded: bool = False
    position: int | None = None


class ParticipantRoles(msgspec.Struct):
    """The answer of GET /participant-roles."""

    items: list[ParticipantRole]


def participant_roles(conn: Connection) -> list[ParticipantRole]:
    """Return every participant role: the seeded ones in their order, then the added ones in
    the order they were added."""
    out = [ParticipantRole(key=k, label=label, description=d, seeded=True)
           for k, (label, d) in SEEDED_ROLES.items()]
    out += [ParticipantRole(key=k, label=label, description=d, position=p) for k, label, d, p in
            conn.execute("SELECT key, label, description, position FROM participant_roles "
                         "ORDER BY position")]
    return out


def participant_role_exists(conn: Connection, key: str) -> bool:
    """Return True when `key` is a participant role (seeded or added)."""
    return key in SEEDED_ROLES or conn.execute("SELECT 1 FROM participant_roles WHERE key = ?",
                                         (key,)).fetchone() is not None


# -- properties: the seeded vocabulary (code) and those admins registered (the table) ----------

_property = msgspec.json.Decoder(PropertyDef)


def property_of(conn: Connection, ref: str, tables: Tables | None = None) -> PropertyDef | None:
    """Return the property an id (PR-...) or a key names, seeded or registered, or None."""
    seeded = SEEDED_BY_ID.get(ref) or SEEDED_BY_KEY.get(ref)
    if seeded is not None:
        return seeded
    table = tables["properties"] if tables else "properties"
    row = conn.execute(f"SELECT data FROM {table} WHERE id = ? OR key = ?", (ref, ref)).fetchone()
    return _property.decode(row[0]) if row else None


def properties(conn: Connection, tables: Tables | None = None) -> list[PropertyDef]:
    """Return every property: the seeded ones, then those registered, in registration order."""
    table = tables["properties"] if tables else "properties"
    rows = conn.execute(f"SELECT data FROM {table} ORDER BY position").fetchall()
    return [*SEEDED_PROPERTIES, *(_property.decode(r[0]) for r in rows)]


class PropertyOut(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A property as GET /properties answers it (events.properties.PropertySpec's fields and its
    id); `seeded`: defined in code (the archive's vocabulary), not registered by an admin."""

    id: str
    key: str
    label: str
    datatype: str
    description: str = ""
    single: bool = False
    applies_to: list[str] = []
    entity_kinds: list[str] = []
    or_string: bool = False
    unit: str | None = None
    url_pattern: str | None = None
    pattern: str | None = None
    seeded: bool = False


class PropertyList(msgspec.Struct):
    items: list[PropertyOut]


def property_out(prop: PropertyDef) -> PropertyOut:
    return msgspec.convert({**msgspec.to_builtins(prop), "seeded": prop.id in SEEDED_BY_ID}, PropertyOut)


def external_id_properties(conn: Connection) -> list[str]:
    """Return the ids and keys of every property whose datatype is external_id (a claim names
    a property by either)."""
    return [n for p in SEEDED_PROPERTIES if p.datatype == "external_id" for n in (p.id, p.key)] + [
        n for r in conn.execute("SELECT id, key FROM properties WHERE datatype = 'external_id' "
                                "ORDER BY position") for n in r]


# -- the pages' reads (issue 24): the home page's figures and source search, a page's sources --

def count(conn: Connection, kind: str) -> int:
    """Return how many entities of `kind` are registered (merged records left out: a person
    merged into another is counted once, as the survivor)."""
    unmerged = " WHERE merged_into IS NULL" if kind in MERGED_KINDS else ""
    return conn.execute(f"SELECT COUNT(*) FROM {ENTITY_TABLES[kind]}{unmerged}").fetchone()[0]


def _like(q: str) -> str:
    """`q` as a LIKE pattern matching it anywhere (its own %, _ and \\ taken literally)."""
    return "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def find_sources(conn: Connection, q: str, limit: int) -> list[tuple[str, str]]:
    """Return (id, label) of up to `limit` sources whose label holds `q` (case folded as the
    database folds it), oldest registration first; suppressed sources left out (their labels
    are not searchable)."""
    rows = conn.execute("SELECT id, label FROM sources WHERE LOWER(label) LIKE LOWER(?) ESCAPE '\\' "
                        "ORDER BY position LIMIT ?", (_like(q.strip()), limit + 50)).fetchall()
    taken = suppressions(conn, [r[0] for r in rows])
    return [(r[0], r[1]) for r in rows if r[0] not in taken][:limit]


def csl_of(conn: Connection, source_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Return source id -> its CSL record as registered, for the sources among `source_ids`
    that are registered and not suppressed."""
    wanted = sorted(set(source_ids))
    out: dict[str, dict[str, Any]] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        marks = ",".join("?" * len(chunk))
        for source_id, data in conn.execute(f"SELECT id, data FROM sources WHERE id IN ({marks})",
                                            chunk):
            out[source_id] = msgspec.json.decode(data).get("csl", {})
    for target in suppressions(conn, wanted):
        out.pop(target, None)
    return out


def last_judgement(conn: Connection, kind: str, group: list[str]) -> int:
    """Return the log position of the last merge, unmerge, distinction or identification in
    force that names a record of `group` (0: none)."""
    _, judgements, identifications = identity_tables(kind)
    column = judgement_column(kind)
    marks = ",".join("?" * len(group))
    found = [conn.execute(f"SELECT MAX(position) FROM {judgements} WHERE {column} IN ({marks}) "
                          f"OR other IN ({marks})", (*group, *group)).fetchone()[0],
             conn.execute(f"SELECT MAX(position) FROM {identifications} WHERE kind = ? AND "
                          f"(record_id IN ({marks}) OR other IN ({marks}))",
                          (kind, *group, *group)).fetchone()[0]]
    return max((f for f in found if f is not None), default=0)
