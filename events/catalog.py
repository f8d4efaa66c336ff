"""The one catalogue of every current event type, used by the store to encode and decode."""

from __future__ import annotations

from starosta.events.base import EventTypes
from starosta.events.properties import PropertyRegistered
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
from starosta.events.review import (
    ClaimApproved,
    ClaimContested,
    ClaimRanked,
    ClaimRejected,
    ClaimRetracted,
    ClaimSubmitted,
    ContentSuppressed,
    ContentUnsuppressed,
)

CATALOG = EventTypes()
for _cls in (SourceRegistered, PersonRegistered, PlaceRegistered, OrganizationRegistered,
             FundRegistered, PersonMerged, PersonUnmerged, PersonsDistinct, ClaimSubmitted,
             ClaimApproved, ClaimRejected, ClaimContested, ClaimRetracted, ClaimRanked,
             ContentSuppressed, ContentUnsuppressed, PropertyRegistered):
    CATALOG.add(_cls)
