"""Registry events: sources, persons, places, organisations and funds entering the archive,
and the reviewers' judgements that two person records are, or are not, one person.

Registering an entity creates it at once, public, with the given name as its label;
the service also submits that name as a reviewable `name` claim.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta
from starosta.events.base import Event
from starosta.events.kinds import Citation

ExternalIds = Annotated[dict[Annotated[str, Meta(pattern=r"^[a-z][a-z0-9_]{0,31}$", max_length=32)],
                             Annotated[str, Meta(min_length=1, max_length=200)]],
                        Meta(max_length=50)]

SourceType = Literal["archival_file", "bulletin", "memoir", "emigre_press", "secondary_work",
                     "letter", "book", "article", "web", "other"]


class ArchiveRef(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """Where an archival file is: archive, fond, opis, delo and list (folio)."""

    archive: Annotated[str, Meta(min_length=1, max_length=300)]
    fond: Annotated[str, Meta(max_length=50)] | None = None
    opis: Annotated[str, Meta(max_length=50)] | None = None
    delo: Annotated[str, Meta(max_length=50)] | None = None
    folio: Annotated[str, Meta(max_length=50)] | None = None


class SourceRegistered(Event, frozen=True, tag="source.registered", omit_defaults=True):
    """A source (a CSL-JSON item, as Zotero exports it) entered the archive."""

    source_id: str
    csl: dict[str, Any]
    note: str | None = None
    source_type: SourceType = "other"
    archive: ArchiveRef | None = None
    via: tuple[str, ...] = ()
    synthetic: bool = False


class PersonRegistered(Event, frozen=True, tag="person.registered", omit_defaults=True):
    """A person record was opened under a label; `partial` marks one known only in part."""

    person_id: str
    label: str
    partial: bool = False
    external_ids: ExternalIds = {}
    synthetic: bool = False


PlaceKind = Literal["prison", "camp", "isolator", "exile", "transit", "other", "region",
                    "settlement", "country"]


class Identification(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """How a source's spelling was identified: 'Kizobabad [presumably Kirovabad]'."""

    said: Annotated[str, Meta(min_length=1, max_length=300)]
    certainty: Literal["certain", "probable", "presumed", "uncertain"] = "presumed"
    note: Annotated[str, Meta(max_length=2000)] | None = None


class PlaceRegistered(Event, frozen=True, tag="place.registered", omit_defaults=True):
    """A place record was opened: a prison, camp, isolator, place of exile, transit prison."""

    place_id: str
    label: str
    kind: str
    aliases: tuple[str, ...] = ()
    parent: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    coordinates_source: str | None = None  # where the coordinates come from (geography)
    identification: Identification | None = None
    external_ids: ExternalIds = {}
    synthetic: bool = False


class PlaceLocated(Event, frozen=True, tag="place.located", omit_defaults=True):
    """A reviewer set (or corrected) a place's coordinates after its registration, with where
    they come from: geography (a gazetteer, a map), not a claim about the past, so not
    reviewed as one. The place's record shows the latest; its stream keeps every one."""

    place_id: str
    latitude: float
    longitude: float
    coordinates_source: str
    reviewer: str


OrganizationKind = Literal["aid_fund", "committee", "colony", "group", "movement", "union",
                           "party", "organ", "tribunal", "other"]


class OrganizationRegistered(Event, frozen=True, tag="organization.registered", omit_defaults=True):
    """An organisation: an aid body, a movement or union, a repressive organ, a colony of exiles."""

    organization_id: str
    label: str
    kind: str
    parent: str | None = None
    external_ids: ExternalIds = {}
    synthetic: bool = False


class FundRegistered(Event, frozen=True, tag="fund.registered", omit_defaults=True):
    """An aid fund whose money is tracked as a ledger was opened."""

    fund_id: str
    label: str
    organization: str | None = None
    synthetic: bool = False


class PersonMerged(Event, frozen=True, tag="person.merged", omit_defaults=True):
    """A reviewer judged this person record to be the same person as `into` (the survivor)."""

    person_id: str
    into: str
    reason: str
    reviewer: str
    citation: Citation | None = None


class PersonUnmerged(Event, frozen=True, tag="person.unmerged", omit_defaults=True):
    """A reviewer undid this record's merge into `from_person`: it stands alone again."""

    person_id: str
    from_person: str
    reason: str
    reviewer: str


class PersonsDistinct(Event, frozen=True, tag="person.distinct", omit_defaults=True):
    """A reviewer judged this person and `other` to be different persons (never to be merged)."""

    person_id: str
    other: str
    reason: str
    reviewer: str
    citation: Citation | None = None


class ParticipantRoleAdded(Event, frozen=True, tag="participant_role.added", omit_defaults=True):
    """An admin added a role to the vocabulary of participant roles (beside the seeded ones of
    events/participants.py), on the stream `participant-role-<key>`: a key is added once."""

    key: str
    label: str
    description: str
    admin: str
# -- identity judgements on places and organisations, and identifications of any record ---------
# Persons keep their own merge events above (every read model that folds merged persons reads
# them); places and organisations, which had none, take these, with the persons' rules
# (projections/registry.py: judgement_refusal).

RecordKind = Literal["place", "organization"]  # kinds merged with the events below
IdentifiedKind = Literal["person", "place", "organization"]  # kinds that take identifications
IdentificationCertainty = Literal["probable", "possible"]


class RecordMerged(Event, frozen=True, tag="record.merged", omit_defaults=True):
    """A reviewer judged this place or organisation record to be the same as `into` (the
    survivor): the persons' merge, for the other kinds of record."""

    kind: RecordKind
    record_id: str
    into: str
    reason: str
    reviewer: str
    citation: Citation | None = None


class RecordUnmerged(Event, frozen=True, tag="record.unmerged", omit_defaults=True):
    """A reviewer undid this place or organisation record's merge into `from_record`."""

    kind: RecordKind
    record_id: str
    from_record: str
    reason: str
    reviewer: str


class RecordsDistinct(Event, frozen=True, tag="record.distinct", omit_defaults=True):
    """A reviewer judged this place or organisation and `other` to be different (never to be
    merged)."""

    kind: RecordKind
    record_id: str
    other: str
    reason: str
    reviewer: str
    citation: Citation | None = None


class RecordIdentified(Event, frozen=True, tag="record.identified", omit_defaults=True,
                       rename={"with_": "with"}):
    """A reviewer judged this record possibly the same as `with` (Wikidata's "said to be the
    same as", P460), without merging: `certainty` probable or possible."""

    kind: IdentifiedKind
    record_id: str
    with_: str
    certainty: IdentificationCertainty
    reason: str
    reviewer: str
    citation: Citation | None = None


class RecordUnidentified(Event, frozen=True, tag="record.unidentified", omit_defaults=True,
                         rename={"with_": "with"}):
    """A reviewer withdrew the identification of this record with `with`."""

    kind: IdentifiedKind
    record_id: str
    with_: str
    reason: str
    reviewer: str
