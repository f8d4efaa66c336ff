"""The one catalogue of every current event type, used by the store to encode and decode."""

from __future__ import annotations

from starosta.events.base import EventTypes
from starosta.events.participants import upcast_submitted
from starosta.events.properties import PropertyRegistered
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
    CATALOG.add(_cls, 2 if _cls is ClaimSubmitted else 1)
CATALOG.add(ParticipantRoleAdded)
# claim.submitted 2: the legacy `with`, `recipient` and `via` stored as participants
CATALOG.upcaster("claim.submitted", 1)(upcast_submitted)
for _judgement in (RecordMerged, RecordUnmerged, RecordsDistinct, RecordIdentified,  # issue 20
                   RecordUnidentified):
    CATALOG.add(_judgement)
CATALOG.add(PlaceLocated)  # issue 24: coordinates set after registration
