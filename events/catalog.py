"""The one catalogue of every current event type, used by the store to encode and decode."""

from __future__ import annotations

from events.base import EventTypes
from events.registry import FundRegistered, PersonRegistered, PlaceRegistered, SourceRegistered

CATALOG = EventTypes()
for _cls in (SourceRegistered, PersonRegistered, PlaceRegistered, FundRegistered):
    CATALOG.register(_cls)
