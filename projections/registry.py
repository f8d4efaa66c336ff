"""The registry read model: sources, persons (with merges and distinctions), places,
organisations and funds, as registered."""

from __future__ import annotations

import sqlite3

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
from starosta.events.store import Envelope
from starosta.projections.runner import Tables

_encode = msgspec.json.Encoder().encode


def _entity_table(extra: str = "") -> list[str]:
    return [f"""CREATE TABLE {{name}} (
        id TEXT PRIMARY KEY, label TEXT NOT NULL, {extra}
        data TEXT NOT NULL, position INTEGER NOT NULL)"""]


class RegistryProjection:
    """Entities by id, each with its registration event as JSON."""

    name = "registry"
    version = 1
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
    }

    def apply(self, conn: sqlite3.Connection, envelope: Envelope, t: Tables) -> None:
        e, pos = envelope.event, envelope.position
        match e:
            case SourceRegistered():
                label = str(e.csl.get("title") or e.source_id)
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

    @staticmethod
    def _judge(conn, t, person, other, judgement, reason, reviewer, citation, pos) -> None:
        conn.execute(f"INSERT INTO {t['person_judgements']} VALUES (?, ?, ?, ?, ?, ?, ?)",
                     (person, other, judgement, reason, reviewer,
                      _encode(citation) if citation else None, pos))
