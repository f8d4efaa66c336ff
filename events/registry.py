"""Registry events: sources, persons, places, organisations and funds coming into the archive.

Registering an entity creates it at once, public, with the given name as its label
(API.md); the name is also submitted as a reviewable claim by the service.
"""

from __future__ import annotations

from typing import Any

from events.base import Event


class SourceRegistered(Event, frozen=True, tag="source.registered"):
    """A source (a CSL-JSON item, as Zotero exports it) entered the archive."""

    source_id: str
    csl: dict[str, Any]
    note: str | None = None


class PersonRegistered(Event, frozen=True, tag="person.registered"):
    """A person record was opened under a label (a name as a source gives it)."""

    person_id: str
    label: str


class PlaceRegistered(Event, frozen=True, tag="place.registered"):
    """A place record was opened: a prison, camp, isolator, place of exile, transit prison."""

    place_id: str
    label: str
    kind: str
    aliases: tuple[str, ...] = ()


class FundRegistered(Event, frozen=True, tag="fund.registered"):
    """An aid fund whose money is tracked as a ledger was opened."""

    fund_id: str
    label: str
