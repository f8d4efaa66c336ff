"""The identity judgements' rule as facts (issue 18, finding 1): given these judgements, when
this one, then it stands or is refused, and why. The registry's own writer folds the events
into an in-memory database (no server, no store): the rule the command refuses by is the one
the replay ignores and flags by, so a log holding contradictions replays to a registry without
cycles, in log order, the same every time."""

from __future__ import annotations

import sqlite3

from starosta.events.registry import (
    PersonMerged,
    PersonRegistered,
    PersonsDistinct,
    PersonUnmerged,
)
from starosta.events.store import Envelope
from starosta.projections import registry

PROJECTION = registry.RegistryProjection()
TABLES = {t: t for t in PROJECTION.ddl}


def given(*events) -> sqlite3.Connection:
    """A registry holding persons A..F and then `events`, folded in log order."""
    conn = sqlite3.connect(":memory:")
    for table, statements in PROJECTION.ddl.items():
        for statement in statements:
            conn.execute(statement.format(name=table))
    people = [PersonRegistered(person_id=p, label=p) for p in "ABCDEF"]
    for position, event in enumerate([*people, *events], start=1):
        PROJECTION.apply(conn, _envelope(position, event), TABLES)
    return conn


def _envelope(position: int, event) -> Envelope:
    return Envelope(position=position, event_id=f"e{position}", stream_id=event.person_id,
                    version=1, type="", schema_version=1, recorded_at="", actor=None,
                    request_id=None, causation_id=None, hash="", event=event)


def merged(a: str, b: str) -> PersonMerged:
    return PersonMerged(person_id=a, into=b, reason="same", reviewer="bob")


def unmerged(a: str, b: str) -> PersonUnmerged:
    return PersonUnmerged(person_id=a, from_person=b, reason="no", reviewer="bob")


def apart(a: str, b: str) -> PersonsDistinct:
    return PersonsDistinct(person_id=a, other=b, reason="not", reviewer="carol")


def test_a_merge_stands_unless_it_closes_a_cycle() -> None:
    conn = given(merged("A", "B"), merged("B", "C"))
    assert registry.judgement_refusal(conn, merged("C", "A")) == (
        "A is merged into C: merging back would make a cycle")
    assert registry.judgement_refusal(conn, merged("A", "D")) == (
        "A is merged already: unmerge it first")
    assert registry.judgement_refusal(conn, merged("C", "D")) is None
    assert registry.judgement_refusal(conn, merged("C", "C")) == "C cannot be merged into itself"


def test_a_merge_of_groups_holding_records_judged_distinct_is_refused() -> None:
    conn = given(apart("A", "D"), merged("B", "A"))
    assert "D and A were recorded as distinct" in registry.judgement_refusal(conn, merged("D", "B"))
    assert registry.judgement_refusal(conn, merged("D", "C")) is None


def test_distinct_within_one_group_and_unmerge_of_a_record_not_merged_are_refused() -> None:
    conn = given(merged("A", "B"), merged("C", "A"))
    assert "one record now" in registry.judgement_refusal(conn, apart("C", "B"))
    assert "one record now" in registry.judgement_refusal(conn, apart("D", "D"))
    assert registry.judgement_refusal(conn, apart("D", "B")) is None
    assert registry.judgement_refusal(conn, unmerged("B", "A")) == "B is not merged into A"
    assert registry.judgement_refusal(conn, unmerged("C", "A")) is None


def test_the_later_of_two_contradicting_judgements_is_ignored_and_flagged() -> None:
    conn = given(merged("A", "B"), merged("B", "A"),               # opposite merges
                 merged("C", "D"), merged("D", "E"), merged("E", "C"),  # a three-record cycle
                 merged("F", "B"), apart("F", "A"))                # distinct within one group
    assert {r: registry.survivor(conn, r) for r in "ABCDEF"} == {
        "A": "B", "B": "B", "C": "E", "D": "E", "E": "E", "F": "B"}
    assert registry.distinct_from(conn, registry.merge_group(conn, "A")) == []
    flagged = [(c.position, c.judgement, c.person_id, c.other)
               for c in registry.judgement_conflicts(conn)]
    assert flagged == [(8, "merged", "B", "A"), (11, "merged", "E", "C"),
                       (13, "distinct", "F", "A")]
    # the judgements that stand are the history; the ignored ones are not in it
    assert registry.group_as_of(conn, "A", 100) == ("B", ["A", "F"])


def test_a_judgement_reads_the_groups_of_its_records_and_of_those_judged_distinct() -> None:
    conn = given(merged("A", "B"), apart("C", "D"), merged("E", "D"))
    assert registry.judgement_streams(conn, ["A", "F"]) == ["A", "B", "F"]
    # C is distinct from D, whose group holds E: a merge of C reads that group too
    assert registry.judgement_streams(conn, ["C", "B"]) == ["A", "B", "C", "D", "E"]


def test_the_population_read_model_keeps_the_judgements_the_registry_keeps() -> None:
    """The population read model folds merges into tables of its own (it is rebuilt without
    the registry) by the same rule: it ignores the same judgements."""
    from starosta.projections.population import PopulationProjection

    events = [merged("A", "B"), merged("B", "A"), merged("C", "D"), merged("D", "E"),
              merged("E", "C"), apart("F", "A"), merged("F", "B"), merged("C", "F"),
              unmerged("D", "E"), merged("E", "D")]
    conn = given(*events)
    population = PopulationProjection()
    tables = {t: t for t in population.ddl}
    for table, statements in population.ddl.items():
        for statement in statements:
            conn.execute(statement.format(name=table))
    for position, event in enumerate(events, start=7):
        population.apply(conn, _envelope(position, event), tables)
    kept = dict(conn.execute("SELECT id, merged_into FROM population_merges"))
    assert kept == dict(conn.execute("SELECT id, merged_into FROM persons "
                                     "WHERE merged_into IS NOT NULL"))
    assert kept == {"A": "B", "C": "D", "E": "D"}
