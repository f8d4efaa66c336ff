"""Issue 20's identity judgements as facts, through the registry's own writer on an in-memory
database (no server, no store): identifications ("possibly the same as") of persons, places and
organisations, and places' and organisations' merges, refused by the one rule
(registry.judgement_refusal) the command answers 409 with and the replay ignores and flags by."""

from __future__ import annotations

import sqlite3

from starosta.events.registry import (
    OrganizationRegistered,
    PersonMerged,
    PersonRegistered,
    PersonsDistinct,
    PlaceRegistered,
    RecordIdentified,
    RecordMerged,
    RecordsDistinct,
    RecordUnidentified,
    RecordUnmerged,
)
from starosta.events.store import Envelope
from starosta.projections import registry

PROJECTION = registry.RegistryProjection()
TABLES = {t: t for t in PROJECTION.ddl}


def given(*events) -> sqlite3.Connection:
    """A registry holding persons A..F, places PA..PF, organisations OA..OF, then `events`."""
    conn = sqlite3.connect(":memory:")
    for table, statements in PROJECTION.ddl.items():
        for statement in statements:
            conn.execute(statement.format(name=table))
    records = [*(PersonRegistered(person_id=p, label=p) for p in "ABCDEF"),
               *(PlaceRegistered(place_id=f"P{p}", label=f"P{p}", kind="prison") for p in "ABCDEF"),
               *(OrganizationRegistered(organization_id=f"O{p}", label=f"O{p}", kind="group")
                 for p in "ABCDEF")]
    for position, event in enumerate([*records, *events], start=1):
        stream = getattr(event, "person_id", None) or getattr(event, "record_id", None) or "x"
        PROJECTION.apply(conn, Envelope(
            position=position, event_id=f"e{position}", stream_id=stream, version=1, type="",
            schema_version=1, recorded_at="", actor=None, request_id=None, causation_id=None,
            hash="", event=event), TABLES)
    return conn


def ident(a: str, b: str, kind: str = "person") -> RecordIdentified:
    return RecordIdentified(kind=kind, record_id=a, with_=b, certainty="probable", reason="maybe",
                            reviewer="bob")


def unident(a: str, b: str, kind: str = "person") -> RecordUnidentified:
    return RecordUnidentified(kind=kind, record_id=a, with_=b, reason="no", reviewer="bob")


def merged(a: str, b: str, kind: str = "place") -> RecordMerged:
    return RecordMerged(kind=kind, record_id=a, into=b, reason="same", reviewer="bob")


def apart(a: str, b: str, kind: str = "place") -> RecordsDistinct:
    return RecordsDistinct(kind=kind, record_id=a, other=b, reason="not", reviewer="carol")


def refusal(conn, event) -> str | None:
    return registry.judgement_refusal(conn, event)


def test_an_identification_stands_once_between_two_records_not_one_nor_distinct() -> None:
    conn = given(ident("A", "B"), PersonsDistinct(person_id="C", other="D", reason="x", reviewer="c"),
                 PersonMerged(person_id="E", into="D", reason="x", reviewer="b"))
    assert refusal(conn, ident("B", "A")) == "B is identified with A already: unidentify it first to judge it again"
    assert refusal(conn, ident("A", "A")) == "A and A are one record now: an identification joins two records"
    assert "one record now" in refusal(conn, ident("E", "D"))
    assert refusal(conn, ident("C", "E")) == (
        "C and D were recorded as distinct persons: they may not be identified")
    assert refusal(conn, ident("A", "C")) is None
    assert refusal(conn, unident("B", "A")) is None  # withdrawn from either record
    assert refusal(conn, unident("A", "C")) == "A is not identified with C"


def test_identifications_are_shown_from_both_records_as_survivors_and_withdrawn() -> None:
    conn = given(ident("A", "B"), ident("C", "B"), unident("B", "C"),
                 PersonMerged(person_id="B", into="F", reason="x", reviewer="b"))
    assert [(i.id, i.certainty) for i in registry.identifications_of(conn, "person", ["A"])] == [("F", "probable")]
    assert [i.id for i in registry.identifications_of(conn, "person", registry.merge_group(conn, "F"))] == ["A"]
    assert registry.identifications_of(conn, "person", ["C"]) == []
    assert registry.identified_records(conn, ["B"]) == {"A"}


def test_places_and_organisations_merge_by_the_persons_rule_each_kind_apart() -> None:
    conn = given(merged("PA", "PB"), merged("PB", "PC"), apart("PD", "PC"),
                 merged("OA", "OB", "organization"))
    assert registry.survivor(conn, "PA", "places") == "PC"
    assert refusal(conn, merged("PC", "PA")) == "PA is merged into PC: merging back would make a cycle"
    assert refusal(conn, merged("PA", "PD")) == "PA is merged already: unmerge it first"
    assert refusal(conn, merged("PD", "PA")) == (
        "PD and PC were recorded as distinct places: they may not be merged")
    assert "one record now" in refusal(conn, apart("PA", "PC"))
    assert refusal(conn, RecordUnmerged(kind="place", record_id="PA", from_record="PC", reason="x",
                                        reviewer="b")) == "PA is not merged into PC"
    assert refusal(conn, merged("OB", "OA", "organization")) == (
        "OA is merged into OB: merging back would make a cycle")
    assert refusal(conn, merged("OC", "OA", "organization")) is None
    assert registry.survivor(conn, "A") == "A"  # persons untouched
    assert registry.judgement_streams(conn, ["PD", "PE"], "place") == ["PA", "PB", "PC", "PD", "PE"]
    assert registry.places_under(conn, "PA", False) == ["PC", "PB", "PA"]


def test_contradicting_judgements_of_the_log_are_ignored_and_flagged_whatever_the_kind() -> None:
    conn = given(merged("PA", "PB"), merged("PB", "PA"), ident("A", "B"), ident("B", "A"),
                 apart("OA", "OB", "organization"), merged("OA", "OB", "organization"),
                 unident("C", "D"))
    flagged = [(c.judgement, c.person_id, c.other) for c in registry.judgement_conflicts(conn)]
    assert flagged == [("merged", "PB", "PA"), ("identified", "B", "A"), ("merged", "OA", "OB"),
                       ("unidentified", "C", "D")]
    assert registry.merge_target(conn, "PB", "places") is None
    assert registry.merge_target(conn, "OA", "organizations") is None
    assert [i.id for i in registry.identifications_of(conn, "person", ["A"])] == ["B"]
