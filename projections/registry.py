"""The registry read model: sources, persons (with merges and distinctions), places,
organisations and funds, as registered; and the suppressions in force (claims and entities an
admin took down from readers), which every read model's queries consult."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgspec
from starosta.events.registry import (
    FundRegistered,
    OrganizationRegistered,
    PersonMerged,
    PersonRegistered,
    PersonsDistinct,
    PersonUnmerged,
    PlaceRegistered,
    SourceRegistered,
)
from starosta.events.properties import SEEDED, SEEDED_BY_ID, SEEDED_BY_KEY, PropertyDef, PropertyRegistered
from starosta.events.review import ContentSuppressed, ContentUnsuppressed
from starosta.events.store import Connection, Envelope
from starosta.projections.rules import Viewer, sees_suppressed
from starosta.projections.runner import Projection, Tables

_encode = msgspec.json.Encoder().encode


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
    version = 4  # 2: suppressions; 3: judgements contradicting earlier ones are ignored and flagged;
    # 4: properties (admin-registered; the seeded ones are in code: events.properties.SEEDED)
    ddl = {
        "sources": _entity_table("source_type TEXT NOT NULL,"),
        "persons": _entity_table("partial INTEGER NOT NULL, merged_into TEXT,") + [
            "CREATE INDEX {name}_merged_into ON {name} (merged_into)"],
        "places": _entity_table("kind TEXT NOT NULL, parent TEXT,") + [
            "CREATE INDEX {name}_parent ON {name} (parent)"],
        "organizations": _entity_table("kind TEXT NOT NULL,"),
        "funds": _entity_table(),
        "person_judgements": ["""CREATE TABLE {name} (
            person_id TEXT NOT NULL, other TEXT NOT NULL, judgement TEXT NOT NULL,
            reason TEXT NOT NULL, reviewer TEXT NOT NULL, citation TEXT, position INTEGER NOT NULL,
            PRIMARY KEY (person_id, other, position))""",
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
                conn.execute(f"INSERT INTO {t['places']} VALUES (?, ?, ?, ?, ?, ?)",
                             (e.place_id, e.label, e.kind, e.parent, _encode(e), pos))
            case OrganizationRegistered():
                conn.execute(f"INSERT INTO {t['organizations']} VALUES (?, ?, ?, ?, ?)",
                             (e.organization_id, e.label, e.kind, _encode(e), pos))
            case FundRegistered():
                conn.execute(f"INSERT INTO {t['funds']} VALUES (?, ?, ?, ?)",
                             (e.fund_id, e.label, _encode(e), pos))
            case PersonMerged() | PersonUnmerged() | PersonsDistinct() if self._refused(
                    conn, envelope, t):
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
            case ContentSuppressed():
                conn.execute(f"INSERT INTO {t['suppressions']} VALUES (?, ?, ?, ?, ?) ON CONFLICT "
                             "(target) DO UPDATE SET reason = excluded.reason, recorded_at = "
                             "excluded.recorded_at, position = excluded.position",
                             (e.target, e.target_kind, e.reason, envelope.recorded_at, pos))
            case ContentUnsuppressed():
                conn.execute(f"DELETE FROM {t['suppressions']} WHERE target = ?", (e.target,))
            case PropertyRegistered():
                p = e.property
                conn.execute(f"INSERT INTO {t['properties']} VALUES (?, ?, ?, ?, ?)",
                             (p.id, p.key, p.datatype, _encode(p), pos))

    @staticmethod
    def _refused(conn: Connection, envelope: Envelope, t: Tables) -> bool:
        """Flag and return True when a judgement of the log is refused by the rule against
        the judgements before it (a log written before the rule held, by a race)."""
        e = envelope.event
        assert isinstance(e, (PersonMerged, PersonUnmerged, PersonsDistinct))  # apply() matched it
        refusal = judgement_refusal(conn, e, t)
        if refusal is None:
            return False
        other = e.into if isinstance(e, PersonMerged) else (
            e.from_person if isinstance(e, PersonUnmerged) else e.other)
        conn.execute(f"INSERT INTO {t['judgement_conflicts']} VALUES (?, ?, ?, ?, ?, ?)",
                     (envelope.position, e.person_id, other, JUDGEMENTS[type(e)], e.reviewer,
                      refusal))
        return True

    @staticmethod
    def _judge(conn, t, person, other, judgement, reason, reviewer, citation, pos) -> None:
        conn.execute(f"INSERT INTO {t['person_judgements']} VALUES (?, ?, ?, ?, ?, ?, ?)",
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


def distinct_from(conn: Connection, group: list[str],
                  judgements: str = "person_judgements") -> list[str]:
    """Return the records judged 'not the same person' as any record of `group`."""
    marks = ",".join("?" * len(group))
    return sorted(r[0] for r in conn.execute(
        f"SELECT other FROM {judgements} WHERE person_id IN ({marks}) AND judgement = 'distinct' "
        f"UNION SELECT person_id FROM {judgements} WHERE other IN ({marks}) "
        f"AND judgement = 'distinct'", (*group, *group)))


def distinct_pair(conn: Connection, a: list[str], b: list[str],
                  judgements: str = "person_judgements") -> tuple[str, str] | None:
    """Return a pair judged distinct between two groups of records, if any."""
    for x in a:
        for y in b:
            if conn.execute(f"SELECT 1 FROM {judgements} WHERE judgement = 'distinct' AND "
                            "((person_id = ? AND other = ?) OR (person_id = ? AND other = ?))",
                            (x, y, y, x)).fetchone():
                return x, y
    return None


# -- identity judgements: the one rule of what may be judged, and what a judgement reads --------

JUDGEMENTS = {PersonMerged: "merged", PersonUnmerged: "unmerged", PersonsDistinct: "distinct"}


def judgement_refusal(conn: Connection, event: PersonMerged | PersonUnmerged | PersonsDistinct,
                      tables: Tables | None = None) -> str | None:
    """Return why an identity judgement cannot stand against the judgements the registry
    holds (None when it can). The one rule: the command refuses by it (409), and the read
    model ignores and flags by it a judgement the log holds that contradicts those before it
    (two judgements that raced before the store checked what each read), so that a log
    replays to a registry with no cycle of merges, no merge of records judged distinct, and
    no record distinct from its own group. `tables`: the physical tables during a rebuild."""
    persons = tables["persons"] if tables else "persons"
    judgements = tables["person_judgements"] if tables else "person_judgements"
    match event:
        case PersonMerged(person_id=person, into=into):
            if into == person:
                return f"{person} cannot be merged into itself"
            if merge_target(conn, person, persons) is not None:
                return f"{person} is merged already: unmerge it first"
            if survivor(conn, into, persons) == person:
                return f"{into} is merged into {person}: merging back would make a cycle"
            pair = distinct_pair(conn, merge_group(conn, person, persons),
                                 merge_group(conn, into, persons), judgements)
            if pair:
                return (f"{pair[0]} and {pair[1]} were recorded as distinct persons: they may "
                        "not be merged")
        case PersonUnmerged(person_id=person, from_person=into):
            if merge_target(conn, person, persons) != into:
                return f"{person} is not merged into {into}"
        case PersonsDistinct(person_id=person, other=other):
            if other == person or survivor(conn, person, persons) == survivor(conn, other, persons):
                return (f"{person} and {other} are one record now: unmerge them before "
                        "recording them as distinct")
    return None


def judgement_streams(conn: Connection, records: list[str]) -> list[str]:
    """Return the streams an identity judgement on `records` reads, whose versions it expects
    when it is appended (sorted): every record of their merge groups (the survivor chain
    included), and every record of the groups of records judged distinct from one of them.
    Two judgements that could contradict each other each read a stream the other writes (a
    judgement is written in the stream of one of its records), so the second to commit is
    refused. Every identity judgement (merge, unmerge, distinct, identifications) computes
    its streams here."""
    streams = {m for r in records for m in merge_group(conn, r)}
    for other in distinct_from(conn, sorted(streams)):
        streams.update(merge_group(conn, other))
    return sorted(streams)


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
    by level, each level in registration order."""
    found = [place_id]
    if include_children:
        frontier = [place_id]
        while frontier:
            marks = ",".join("?" * len(frontier))
            frontier = [r[0] for r in conn.execute(f"SELECT id FROM places WHERE parent IN ({marks}) "
                                                   "ORDER BY position", frontier) if r[0] not in found]
            found += frontier
    return found


def list_page(conn: Connection, kind: str, limit: int, offset: int) -> list[str]:
    """Return ids of entities of `kind` in registration order (merged persons left out)."""
    unmerged = " WHERE merged_into IS NULL" if kind == "person" else ""
    return [r[0] for r in conn.execute(
        f"SELECT id FROM {ENTITY_TABLES[kind]}{unmerged} ORDER BY position LIMIT ? OFFSET ?",
        (limit, offset))]


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
    return [*SEEDED, *(_property.decode(r[0]) for r in rows)]


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
    return [n for p in SEEDED if p.datatype == "external_id" for n in (p.id, p.key)] + [
        n for r in conn.execute("SELECT id, key FROM properties WHERE datatype = 'external_id' "
                                "ORDER BY position") for n in r]
