"""A row stored by an older version of an event type is read back as the current type."""

from __future__ import annotations

import pytest

from starosta.events.base import Event, EventTypes, UnknownEventType
from starosta.events.sqlite_store import SQLiteEventStore
from starosta.service.db import migrate


class LetterWrittenV1(Event, frozen=True, tag="letter.written"):
    """Version 1: the place was free text."""

    person_id: str
    place: str


class LetterWritten(Event, frozen=True, tag="letter.written"):
    """Version 2: the place is an id, and the source's words are kept beside it."""

    person_id: str
    place_id: str | None
    place_said: str


def old_catalog() -> EventTypes:
    types = EventTypes()
    types.add(LetterWrittenV1, schema_version=1)
    return types


def new_catalog() -> EventTypes:
    types = EventTypes()
    types.add(LetterWritten, schema_version=2)

    @types.upcaster("letter.written", from_version=1)
    def place_to_said(old: dict) -> dict:
        return {"person_id": old["person_id"], "place_id": None, "place_said": old["place"]}

    return types


def test_old_rows_are_upcast_on_read(db_path: str) -> None:
    migrate(db_path)
    old = SQLiteEventStore(db_path, old_catalog())
    old.append("person-1", [LetterWrittenV1(person_id="P1", place="Berlin")], 0)
    old.close()

    new = SQLiteEventStore(db_path, new_catalog())
    new.append("person-1", [LetterWritten(person_id="P1", place_id="PL9", place_said="Berlin")], 1)
    first, second = new.read_stream("person-1")
    assert first.schema_version == 1 and second.schema_version == 2
    assert first.event == LetterWritten(person_id="P1", place_id=None, place_said="Berlin")
    assert isinstance(second.event, LetterWritten)
    new.close()


def test_rows_newer_than_the_code_are_refused_clearly(db_path: str) -> None:
    migrate(db_path)
    new = SQLiteEventStore(db_path, new_catalog())
    new.append("person-1", [LetterWritten(person_id="P1", place_id=None, place_said="x")])
    new.close()
    old = SQLiteEventStore(db_path, old_catalog())
    with pytest.raises(UnknownEventType, match="newer than this code"):
        old.read_stream("person-1")
    old.close()


def test_a_missing_upcaster_is_named() -> None:
    types = EventTypes()
    types.add(LetterWritten, schema_version=3)
    with pytest.raises(UnknownEventType, match="no upcaster for 'letter.written' from schema version 1"):
        types.decode("letter.written", 1, b'{"person_id":"P1","place":"Berlin"}')


def test_tags_must_be_explicit_and_unique() -> None:
    class Untagged(Event, frozen=True, tag=True):
        x: int

    types = EventTypes()
    with pytest.raises(ValueError, match="explicit string tag"):
        types.add(Untagged)
    types.add(LetterWritten)
    with pytest.raises(ValueError, match="added twice"):
        types.add(LetterWrittenV1)
