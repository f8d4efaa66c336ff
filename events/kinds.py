"""Claim kinds: what a source says, structured; one tagged struct per kind, discriminated by `kind`.

The same structs are the API's request bodies and live inside `ClaimSubmitted`, exactly as
submitted: dates are EDTF strings as the contributor wrote them, and their checked bounds
travel beside the claim in the event (`ClaimSubmitted.dates`), computed once at submission.

Each kind declares, as class variables, which fields are dates (`DATES`), which pair is an
interval (`INTERVAL`) and which fields refer to registered entities (`REFS`: field -> entity
kind), so validation, indexing and projections need no per-kind code to find them.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal, get_args

import msgspec
from msgspec import Meta

from starosta.events.properties import PropertyRef, Value

Id = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$",
                         description="An id of a registered entity or claim", examples=["P-4G7K2M9Q"])]
Text = Annotated[str, Meta(min_length=1, max_length=2000)]
Said = Annotated[str, Meta(min_length=1, max_length=300, description=(
    "The person as the source names them (\"N. (Central Russia)\", \"his brother Manuel\"), "
    "kept beside the identified person"))]
LongText = Annotated[str, Meta(min_length=1, max_length=20000)]
EDTF = Annotated[str, Meta(min_length=1, max_length=64,
                           description="An EDTF date or interval (1948-01-29, 1925-04, 1923/1931, 1942?, 1933~, 1940/..)",
                           examples=["1940-01-25"])]
Amount = Annotated[str, Meta(pattern=r"^(0|[1-9][0-9]{0,14})(\.[0-9]{1,4})?$",
                             description="An exact decimal as a string, never a number: '6.25'",
                             examples=["25.00"])]
Currency = Annotated[str, Meta(pattern=r"^[A-Z]{3}$",
                               description="ISO 4217 code or a historical one (SUR, FRF, DEM, ESP, RUR)",
                               examples=["USD"])]
Count = Annotated[int, Meta(ge=0, le=100_000_000)]
Duration = Annotated[str, Meta(
    min_length=2, max_length=32, pattern=r"^P(?=\d)(\d{1,3}Y)?(\d{1,4}M)?(\d{1,4}W)?(\d{1,5}D)?$",
    description="An ISO 8601 duration in years, months, weeks and days (P5Y, P6M, P2Y, P3W, P51D): "
                "the stay's length as the source gives it", examples=["P6M"])]
Certainty = Literal["certain", "probable", "possible", "doubtful"]
Relation = Literal["translation_of", "quoted_from", "reprint_of", "excerpt_of", "edition_of"]


class CountRange(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A count the source gives as a range: "4 or 5 or even 20" is {"min": 4, "max": 20}."""

    min: Count
    max: Count


class AmountRange(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An amount the source gives as a range: "10-12 roubles" is {"min": "10", "max": "12"}."""

    min: Amount
    max: Amount


CountValue = Count | CountRange


class ViaLink(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A registered source the cited one derives from: a translation of it, a quotation from
    it, a reprint or an excerpt of it."""

    source: Id
    relation: Relation


ViaItem = Annotated[str, Meta(min_length=1, max_length=500)] | ViaLink
Qualifier = Literal["exact", "at_least", "at_most", "about"]
# What an aggregate counts: people held there (the default), who died, were shot, released,
# arrived, deported or arrested there, or members, employees, or others (populations report only
# held, died, shot and arrived: projections.population)
AggregateStatus = Literal["held", "died", "shot", "released", "arrived", "deported", "arrested",
                          "members", "employed", "other"]


class Citation(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """A source plus a locator, optionally the quoted words and the chain it came through."""

    source: Id
    locator: Annotated[str, Meta(max_length=500)] | None = None
    quote: LongText | None = None
    via: Annotated[tuple[ViaItem, ...], Meta(max_length=50, description=(
        "The chain the words came through, nearest first, written in full: free text, or "
        "{\"source\", \"relation\"} naming a registered source the cited one derives from"))] = ()


class Subset(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """Part of an aggregate's group: 'of whom 11 died'."""

    count: CountValue
    qualifier: Qualifier = "exact"
    what: Text


# The fields the seven grouped kinds (GroupedClaim) share, each defined once: a `group` in place
# of a `person` (exactly one of them), its `count`, and companions (`with`, a list of persons).
# Type aliases rather than a base class: a base's fields would come first in every encoded
# claim, changing the wire order of the seven kinds.
GroupId = Annotated[Id, Meta(description="A group (an organisation of kind group or colony) in place of a person")]
Companions = Annotated[tuple[Id, ...], Meta(max_length=200, description="Companions: persons in the same event")]
COMPANIONS: dict[str, str] = {"with": "person"}  # the grouped kinds' MANY: `with` names persons


# -- participants: persons and organisations taking part in a claim, each in a role ------------
RoleKey = Annotated[str, Meta(pattern=r"^[a-z][a-z0-9_]{1,40}$", description=(
    "A participant role: a key of the vocabulary `GET /participant-roles` lists (companion, "
    "witness, informant, author, recipient, correspondent, judge, interrogator, co_accused, "
    "encountered, other, and those admins add)"), examples=["witness"])]


class Participant(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """A registered person or organisation (a group, a colony) taking part in what a claim says,
    in a role: a companion, a witness, the informant who relates it, a letter's recipient, an aid
    correspondent, a judge, a person encountered. `said`: how the source names them;
    `certainty`: how sure the source (or the contributor) is of their part."""

    ref: Annotated[Id, Meta(description="A registered person or organisation")]
    role: RoleKey
    said: Said | None = None
    certainty: Certainty | None = None


Participants = Annotated[tuple[Participant, ...], Meta(max_length=200, description=(
    "Persons and organisations taking part in the claim, each in a role (each (ref, role) once; "
    "never the claim's own person or group). The legacy fields `with`, `recipient`, `via` are "
    "accepted and stored as participants (companion, recipient, correspondent)"))]


class PropertyValue(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A qualifier: a property (id or key, stored as its id) and a value its datatype accepts
    (events.properties.check_value): the article on an accusation, an age as stated on a death."""

    property: PropertyRef
    value: Value


Qualifiers = Annotated[tuple[PropertyValue, ...], Meta(max_length=50, description=(
    "Qualifiers of the claim: [{\"property\", \"value\"}], each value checked by its property's "
    "datatype (GET /properties)"))]


class Claim(msgspec.Struct, frozen=True, kw_only=True, tag_field="kind", forbid_unknown_fields=True,
            omit_defaults=True):
    """Fields every claim has."""

    citation: Citation
    said: LongText | None = None
    note: LongText | None = None
    supersedes: Id | None = None
    calendar: Literal["gregorian", "julian"] = "gregorian"
    certainty: Certainty | None = None
    participants: Participants = ()
    qualifiers: Qualifiers = ()
    # Statements about statements (issue 21): whom the cited source says said it, and the claim
    # this one denies (events.claim_rules: attribution_kinds, denial_problem)
    attributed_to: Annotated[Id, Meta(description=(
        "Attributed: the cited source says that this person, organisation or source said it "
        "(reported speech, not the source's own assertion)"), examples=["O-00000007"])] | None = None
    denies: Annotated[Id, Meta(description=(
        "The claim this one denies: both stand, shown side by side"),
        examples=["C-00000001"])] | None = None
    # issue 22: the claim (of the same kind) this one tells the same event as: their dates,
    # places and authorities are compared (events.comparison)
    same_event: Annotated[Id, Meta(description=(
        "A claim of the same kind about the same event (one arrest told by two sources): the "
        "biography compares their dates, places and authorities (conflict or agreement)"),
        examples=["C-00000002"])] | None = None

    DATES: ClassVar[tuple[str, ...]] = ()
    INTERVAL: ClassVar[tuple[str, str] | None] = None
    REFS: ClassVar[dict[str, str]] = {}
    MANY: ClassVar[dict[str, str]] = {}  # list fields of entity ids: wire name -> entity kind


class _Dated(Claim, frozen=True):
    DATES: ClassVar[tuple[str, ...]] = ("date",)


class _Spanned(Claim, frozen=True):
    DATES: ClassVar[tuple[str, ...]] = ("start", "end")
    INTERVAL: ClassVar[tuple[str, str] | None] = ("start", "end")


PartText = Annotated[str, Meta(min_length=1, max_length=200)]


class NameParts(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """A person's name in parts, kept as the source gives them (Memorial's cards: surname,
    given name, patronymic apart); a particle is "de", "von", "van der". At least one part
    (service.domain.commands); each part's display form as a name's (projections.name_keys).
    `GET /persons?order=surname` lists persons by `surname`."""

    surname: Annotated[PartText, Meta(examples=["Monclús Guallar"])] | None = None
    given: Annotated[PartText, Meta(examples=["Vicente"])] | None = None
    patronymic: Annotated[PartText, Meta(examples=["Aleksandrovich"])] | None = None
    particle: Annotated[PartText, Meta(examples=["de"])] | None = None


NAME_PARTS: tuple[str, ...] = ("surname", "given", "patronymic", "particle")


NameKind = Literal["birth", "pseudonym", "transliteration", "initials", "married", "nickname",
                   "patronymic", "variant", "religious", "official", "other"]


class NameClaim(Claim, frozen=True, tag="name"):
    """A name of a person (or a place, organisation or fund), with its script and kind."""

    name: Annotated[str, Meta(min_length=1, max_length=300)]
    person: Id | None = None
    place: Id | None = None
    organization: Id | None = None
    fund: Id | None = None
    script: Annotated[str, Meta(pattern=r"^[A-Z][a-z]{3}$", description="ISO 15924; guessed when omitted")] | None = None
    name_kind: NameKind = "variant"
    start: EDTF | None = None
    end: EDTF | None = None
    parts: Annotated[NameParts, Meta(description=(
        "A person's name in parts as the source gives them (surname, given, patronymic, "
        "particle; at least one); only with `person`"))] | None = None
    REFS: ClassVar[dict[str, str]] = {"person": "person", "place": "place",
                                      "organization": "organization", "fund": "fund"}
    DATES: ClassVar[tuple[str, ...]] = ("start", "end")
    INTERVAL: ClassVar[tuple[str, str] | None] = ("start", "end")


class BirthClaim(_Dated, frozen=True, tag="birth"):
    """Born on a date, at a place."""

    person: Id
    date: EDTF | None = None
    place: Id | None = None
    person_said: Said | None = None
    REFS: ClassVar[dict[str, str]] = {"person": "person", "place": "place"}


DeathManner = Literal["shot", "died_in_camp", "died_in_custody", "died_in_exile", "suicide",
                      "killed", "natural", "unknown", "other"]


class DeathClaim(_Dated, frozen=True, kw_only=True, tag="death"):
    """Died, when and where known, and how ('died in custody, date unknown' has no date)."""

    person: Id | None = None
    date: EDTF | None = None
    place: Id | None = None
    manner: DeathManner | None = None
    person_said: Said | None = None
    group: GroupId | None = None
    count: CountValue | None = None
    REFS: ClassVar[dict[str, str]] = {"group": "organization", "person": "person", "place": "place"}


class AffiliationClaim(_Spanned, frozen=True, kw_only=True, tag="affiliation"):
    """Belonged to a current: anarchist, anarcho-syndicalist, Left SR, CNT..."""

    person: Id | None = None
    affiliation: Annotated[str, Meta(min_length=1, max_length=200)]
    organization: Id | None = None
    start: EDTF | None = None
    end: EDTF | None = None
    person_said: Said | None = None
    group: GroupId | None = None
    count: CountValue | None = None
    REFS: ClassVar[dict[str, str]] = {"group": "organization", "person": "person", "organization": "organization"}


class OccupationClaim(_Spanned, frozen=True, kw_only=True, tag="occupation"):
    """Worked as something."""

    person: Id | None = None
    occupation: Annotated[str, Meta(min_length=1, max_length=200)]
    start: EDTF | None = None
    end: EDTF | None = None
    person_said: Said | None = None
    group: GroupId | None = None
    count: CountValue | None = None
    REFS: ClassVar[dict[str, str]] = {"group": "organization", "person": "person"}


class ArrestClaim(_Dated, frozen=True, kw_only=True, tag="arrest"):
    """Arrested on a date, at a place, by an organ (Cheka, GPU, NKVD)."""

    person: Id | None = None
    date: EDTF | None = None
    place: Id | None = None
    organ: Id | None = None
    person_said: Said | None = None
    group: GroupId | None = None
    count: CountValue | None = None
    with_: Companions = msgspec.field(default=(), name="with")
    MANY: ClassVar[dict[str, str]] = COMPANIONS
    REFS: ClassVar[dict[str, str]] = {"group": "organization", "person": "person", "place": "place", "organ": "organization"}


class AccusationClaim(_Dated, frozen=True, kw_only=True, tag="accusation"):
    """Accused of something: 'Trotskyists and fifth columnists', 'insulting a policeman'."""

    person: Id | None = None
    accusation: Text
    date: EDTF | None = None
    authority: Id | None = None
    person_said: Said | None = None
    group: GroupId | None = None
    count: CountValue | None = None
    REFS: ClassVar[dict[str, str]] = {"group": "organization", "person": "person", "authority": "organization"}


SentenceKind = Literal["penal_servitude", "camp", "exile", "isolator", "prison", "death",
                       "banishment", "other"]


class SentenceClaim(_Dated, frozen=True, kw_only=True, tag="sentence"):
    """Sentenced: a term (as the source gives it, and as an ISO 8601 duration) of some kind."""

    person: Id | None = None
    sentence: SentenceKind
    date: EDTF | None = None
    term: Annotated[str, Meta(min_length=1, max_length=200)] | None = None
    term_iso: Annotated[str, Meta(pattern=r"^P(\d+Y)?(\d+M)?(\d+D)?$", examples=["P8Y"])] | None = None
    authority: Id | None = None
    authority_said: Annotated[str, Meta(max_length=300)] | None = None
    person_said: Said | None = None
    duration: Duration | None = None
    group: GroupId | None = None
    count: CountValue | None = None
    REFS: ClassVar[dict[str, str]] = {"group": "organization", "person": "person", "authority": "organization"}


CustodyKind = Literal["prison", "camp", "isolator", "exile", "transit", "other"]


class CustodyClaim(_Spanned, frozen=True, kw_only=True, tag="custody"):
    """Held at a place from a start to an end; an end left out is unknown, never guessed."""

    person: Id | None = None
    custody: CustodyKind
    place: Id | None = None
    place_said: Annotated[str, Meta(max_length=300)] | None = None
    start: EDTF | None = None
    end: EDTF | None = None
    person_said: Said | None = None
    duration: Duration | None = None
    group: GroupId | None = None
    count: CountValue | None = None
    with_: Companions = msgspec.field(default=(), name="with")
    MANY: ClassVar[dict[str, str]] = COMPANIONS
    REFS: ClassVar[dict[str, str]] = {"group": "organization", "person": "person", "place": "place"}


class TransferClaim(_Dated, frozen=True, kw_only=True, tag="transfer"):
    """Moved under guard from one place to another."""

    person: Id | None = None
    date: EDTF | None = None
    from_place: Id | None = None
    to_place: Id | None = None
    person_said: Said | None = None
    group: GroupId | None = None
    count: CountValue | None = None
    with_: Companions = msgspec.field(default=(), name="with")
    MANY: ClassVar[dict[str, str]] = COMPANIONS
    REFS: ClassVar[dict[str, str]] = {"group": "organization", "person": "person", "from_place": "place", "to_place": "place"}


class EscapeClaim(Claim, frozen=True, kw_only=True, tag="escape"):
    """Escaped (or tried to), and perhaps was recaptured."""

    person: Id | None = None
    outcome: Literal["escaped", "recaptured", "failed"]
    date: EDTF | None = None
    recaptured: EDTF | None = None
    place: Id | None = None
    destination_said: Annotated[str, Meta(max_length=300)] | None = None
    person_said: Said | None = None
    DATES: ClassVar[tuple[str, ...]] = ("date", "recaptured")
    INTERVAL: ClassVar[tuple[str, str] | None] = ("date", "recaptured")
    group: GroupId | None = None
    count: CountValue | None = None
    with_: Companions = msgspec.field(default=(), name="with")
    MANY: ClassVar[dict[str, str]] = COMPANIONS
    REFS: ClassVar[dict[str, str]] = {"group": "organization", "person": "person", "place": "place"}


class ProtestClaim(_Spanned, frozen=True, tag="protest"):
    """A hunger strike or work stoppage, by a person or at a place."""

    protest: Literal["hunger_strike", "work_stoppage", "strike", "other"]
    person: Id | None = None
    place: Id | None = None
    start: EDTF | None = None
    end: EDTF | None = None
    person_said: Said | None = None
    group: GroupId | None = None
    count: CountValue | None = None
    with_: Companions = msgspec.field(default=(), name="with")
    MANY: ClassVar[dict[str, str]] = COMPANIONS
    REFS: ClassVar[dict[str, str]] = {"group": "organization", "person": "person", "place": "place"}


ReleaseKind = Literal["release", "pardon", "banishment", "rehabilitation", "deportation_abroad",
                      "sentence_overturned", "amnesty"]


class ReleaseClaim(_Dated, frozen=True, kw_only=True, tag="release"):
    """Released, pardoned, banished, rehabilitated, deported abroad, sentence overturned."""

    person: Id | None = None
    release: ReleaseKind
    date: EDTF | None = None
    place: Id | None = None
    destination: Id | None = None
    person_said: Said | None = None
    group: GroupId | None = None
    count: CountValue | None = None
    with_: Companions = msgspec.field(default=(), name="with")
    MANY: ClassVar[dict[str, str]] = COMPANIONS
    REFS: ClassVar[dict[str, str]] = {"group": "organization", "person": "person", "place": "place", "destination": "place"}


class ExecutionClaim(_Dated, frozen=True, kw_only=True, tag="execution"):
    """Shot (executed) on a date, at a place, by an authority."""

    person: Id | None = None
    date: EDTF | None = None
    place: Id | None = None
    authority: Id | None = None
    person_said: Said | None = None
    group: GroupId | None = None
    count: CountValue | None = None
    REFS: ClassVar[dict[str, str]] = {"group": "organization", "person": "person", "place": "place", "authority": "organization"}


class RoleClaim(_Spanned, frozen=True, tag="role"):
    """Held a role in a community: starosta of the Tashkent exiles."""

    person: Id
    role: Annotated[str, Meta(min_length=1, max_length=200)]
    place: Id | None = None
    organization: Id | None = None
    start: EDTF | None = None
    end: EDTF | None = None
    person_said: Said | None = None
    REFS: ClassVar[dict[str, str]] = {"person": "person", "place": "place", "organization": "organization"}


class MembershipClaim(_Spanned, frozen=True, tag="membership"):
    """Member of a colony of exiles or a group."""

    person: Id
    organization: Id
    start: EDTF | None = None
    end: EDTF | None = None
    person_said: Said | None = None
    REFS: ClassVar[dict[str, str]] = {"person": "person", "organization": "organization"}


class LetterClaim(_Dated, frozen=True, kw_only=True, tag="letter"):
    """A letter written from a place on a date (its author may be known only by initials)."""

    person: Id | None = None
    date: EDTF | None = None
    place: Id | None = None
    recipient: Id | None = None
    recipient_said: Annotated[str, Meta(max_length=300)] | None = None
    person_said: Said | None = None
    group: GroupId | None = None
    count: CountValue | None = None
    REFS: ClassVar[dict[str, str]] = {"group": "organization", "person": "person", "place": "place", "recipient": "any"}


class RelationClaim(Claim, frozen=True, kw_only=True, tag="relation"):
    """A relation between persons: 'his brother Manuel'."""

    person: Id | None = None
    other: Id
    relation: Literal["sibling", "brother", "sister", "spouse", "parent", "child", "comrade",
                      "relative", "other"]
    person_said: Said | None = None
    other_said: Said | None = None
    group: GroupId | None = None
    count: CountValue | None = None
    REFS: ClassVar[dict[str, str]] = {"group": "organization", "person": "person", "other": "person"}


class PresenceClaim(_Spanned, frozen=True, kw_only=True, tag="presence"):
    """At a place without custody: training at La Ribera, shipped via Leningrad."""

    person: Id | None = None
    place: Id | None = None
    place_said: Annotated[str, Meta(max_length=300)] | None = None
    purpose: Annotated[str, Meta(max_length=300)] | None = None
    start: EDTF | None = None
    end: EDTF | None = None
    person_said: Said | None = None
    duration: Duration | None = None
    group: GroupId | None = None
    count: CountValue | None = None
    with_: Companions = msgspec.field(default=(), name="with")
    MANY: ClassVar[dict[str, str]] = COMPANIONS
    REFS: ClassVar[dict[str, str]] = {"group": "organization", "person": "person", "place": "place"}


class LabourClaim(_Spanned, frozen=True, kw_only=True, tag="labour"):
    """Forced labour: felling trees, coal mines, a vulcanisation plant."""

    person: Id | None = None
    labour: Text
    place: Id | None = None
    start: EDTF | None = None
    end: EDTF | None = None
    person_said: Said | None = None
    duration: Duration | None = None
    group: GroupId | None = None
    count: CountValue | None = None
    REFS: ClassVar[dict[str, str]] = {"group": "organization", "person": "person", "place": "place"}


class AllowanceClaim(_Spanned, frozen=True, tag="allowance"):
    """A periodic allowance: the state's 6 roubles 25 kopeks a month to an exile; a
    subsistence minimum of 10-12 roubles is {"min": "10", "max": "12"}."""

    amount: Amount | AmountRange
    currency: Currency
    period: Literal["day", "week", "month", "year"]
    person: Id | None = None
    place: Id | None = None
    payer_said: Annotated[str, Meta(max_length=300)] | None = None
    start: EDTF | None = None
    end: EDTF | None = None
    person_said: Said | None = None
    REFS: ClassVar[dict[str, str]] = {"person": "person", "place": "place"}


class DonationClaim(_Dated, frozen=True, tag="donation"):
    """Money a fund received: donor (an id, or the name as the source gives it), amount, date."""

    fund: Id
    donor: Annotated[str, Meta(min_length=1, max_length=300)]
    amount: Amount | AmountRange | None = None
    currency: Currency | None = None
    date: EDTF | None = None
    about: Annotated[bool, Meta(description="The source gives the amount as approximate (\"about 100 francs\"): "
                                "kept out of the exact totals, reported beside them as bounds")] = False
    REFS: ClassVar[dict[str, str]] = {"fund": "fund"}


class DisbursementClaim(_Dated, frozen=True, tag="disbursement"):
    """Money a fund sent to a person or a colony, perhaps through a correspondent (`via`)."""

    fund: Id
    recipient: Annotated[Id, Meta(description="Stored as a participant in role recipient: give it "
                                  "here or there (one of them)")] | None = None
    via: Id | None = None
    amount: Amount | AmountRange | None = None
    currency: Currency | None = None
    date: EDTF | None = None
    via_said: Said | None = None
    about: Annotated[bool, Meta(description="The source gives the amount as approximate (\"about 100 francs\"): "
                                "kept out of the exact totals, reported beside them as bounds")] = False
    REFS: ClassVar[dict[str, str]] = {"fund": "fund", "recipient": "any", "via": "person"}


class InKindClaim(_Dated, frozen=True, kw_only=True, tag="in_kind"):
    """Aid in kind: books, newspapers, clothes; from a fund, or from a sender the source names
    only in its words (`sender_said`: "from Chicago ... wonder who sent them"), or both."""

    fund: Id | None = None
    items: Text
    recipient: Id | None = None
    via: Id | None = None
    date: EDTF | None = None
    via_said: Said | None = None
    sender_said: Annotated[str, Meta(min_length=1, max_length=300, description=(
        "The sender as the source gives it, when no fund is known: \"from Chicago\""))] | None = None
    REFS: ClassVar[dict[str, str]] = {"fund": "fund", "recipient": "any", "via": "person"}


class CommitteeTransferClaim(_Dated, frozen=True, tag="committee_transfer"):
    """Money a fund passed to another committee (for exiled Bulgarians, Italian prisoners)."""

    fund: Id
    to: Id | None = None
    to_said: Annotated[str, Meta(max_length=300)] | None = None
    purpose: Annotated[str, Meta(max_length=500)] | None = None
    amount: Amount | AmountRange | None = None
    currency: Currency | None = None
    date: EDTF | None = None
    about: Annotated[bool, Meta(description="The source gives the amount as approximate (\"about 100 francs\"): "
                                "kept out of the exact totals, reported beside them as bounds")] = False
    REFS: ClassVar[dict[str, str]] = {"fund": "fund", "to": "organization"}


class AggregateClaim(_Dated, frozen=True, tag="aggregate"):
    """A count about an unnamed group: 'out of 66 ... on 1 January 1943, 11 died'."""

    count: CountValue
    group: Text
    qualifier: Qualifier = "exact"
    group_id: Annotated[Id, Meta(description="The group counted, when registered (an organisation of kind group or colony)")] | None = None
    place: Id | None = None
    date: EDTF | None = None
    of_whom: Annotated[tuple[Subset, ...], Meta(max_length=200)] = ()
    status: AggregateStatus = "held"
    REFS: ClassVar[dict[str, str]] = {"place": "place", "group_id": "organization"}


class NoRecordClaim(Claim, frozen=True, tag="no_record"):
    """A negative claim: the source says there is no record of something ('no record of release')."""

    person: Id
    of: Annotated[str, Meta(min_length=1, max_length=100, examples=["release"])]
    person_said: Said | None = None
    REFS: ClassVar[dict[str, str]] = {"person": "person"}


class CustodyTotalClaim(Claim, frozen=True, tag="custody_total"):
    """The source's own sum of a person's custody: '16 years and 51 days as a prisoner'."""

    person: Id
    total: Annotated[str, Meta(min_length=1, max_length=300, examples=["16 years and 51 days"])]
    days: Count | None = None
    qualifier: Qualifier = "about"
    scope: Literal["confinement", "exile", "all"] = "all"
    person_said: Said | None = None
    REFS: ClassVar[dict[str, str]] = {"person": "person"}


class StatementClaim(_Spanned, frozen=True, tag="statement"):
    """A property's value for a registered entity: a nationality, an education, a residence, the
    conditions of detention, a Memorial record id (GET /properties lists the properties)."""

    subject: Annotated[Id, Meta(description="Any registered entity: a person, place, organisation, "
                                "fund or source")]
    property: PropertyRef
    value: Value
    start: EDTF | None = None
    end: EDTF | None = None
    REFS: ClassVar[dict[str, str]] = {"subject": "entity"}


class DerivationClaim(Claim, frozen=True, tag="derivation"):
    """Source descent (issue 22): the registered `source` derives from the registered
    `derives_from` (a translation, quotation, reprint, excerpt or edition of it), as the cited
    source says; reviewed as every claim. Approved links decide at read time which sources
    are one witness (projections.descent)."""

    source: Annotated[Id, Meta(description="The registered source that derives from the other",
                               examples=["S-00000003"])]
    derives_from: Annotated[Id, Meta(description="The registered source it derives from",
                                     examples=["S-00000002"])]
    relation: Annotated[Relation, Meta(description=(
        "How `source` derives from `derives_from`: translation_of, quoted_from, reprint_of, "
        "excerpt_of or edition_of"), examples=["translation_of"])]
    REFS: ClassVar[dict[str, str]] = {"source": "source", "derives_from": "source"}


# Every claim kind, listed once: the union msgspec decodes and mypy reads; KINDS derives from it
AnyClaim = (NameClaim | BirthClaim | DeathClaim | AffiliationClaim | OccupationClaim | ArrestClaim
            | AccusationClaim | SentenceClaim | CustodyClaim | TransferClaim | EscapeClaim
            | ProtestClaim | ReleaseClaim | ExecutionClaim | RoleClaim | MembershipClaim
            | LetterClaim | RelationClaim | PresenceClaim | LabourClaim | AllowanceClaim
            | DonationClaim | DisbursementClaim | InKindClaim | CommitteeTransferClaim
            | AggregateClaim | NoRecordClaim | CustodyTotalClaim | StatementClaim
            | DerivationClaim)
KINDS: tuple[type[Claim], ...] = get_args(AnyClaim)

# The kinds that take a `group` in place of a `person`, a `count` and companions (`with`): an
# isinstance check on this union narrows a claim to them (their shared fields)
GroupedClaim = (ArrestClaim | CustodyClaim | TransferClaim | EscapeClaim | ProtestClaim
                | ReleaseClaim | PresenceClaim)

KIND_NAMES = tuple(k.__struct_config__.tag for k in KINDS)


def kind_of(claim: Claim) -> str:
    """Return a claim's kind (its tag)."""
    return type(claim).__struct_config__.tag  # type: ignore[return-value]


GROUPED: tuple[str, ...] = tuple(k.__struct_config__.tag for k in get_args(GroupedClaim))

# The kinds that take a `group` (and its `count`) in place of a `person` but no companions
# (issue 20; participants name who else took part): with GroupedClaim, every kind whose
# subject may be a group. A member's biography shows these statements through the group.
GroupSubjectClaim = (SentenceClaim | AccusationClaim | OccupationClaim | AffiliationClaim
                     | DeathClaim | ExecutionClaim | LabourClaim | LetterClaim | RelationClaim)
GROUP_SUBJECT: tuple[str, ...] = tuple(k.__struct_config__.tag for k in get_args(GroupSubjectClaim))
# Every kind that may name a group as its subject (`group`)
GROUP_SUBJECTS: tuple[str, ...] = GROUPED + GROUP_SUBJECT


def many(claim: Claim, field: str) -> tuple[str, ...]:
    """Return the ids of a list field by its wire name (`with` is `with_` in Python)."""
    return getattr(claim, field + "_" if field == "with" else field, ())


def refs_of(claim: Claim) -> list[tuple[str, str, str]]:
    """Return (field, entity kind, id) for every entity the claim refers to; list fields once
    per id, under their wire name ("with"); participants once per participant, under
    "participants" (entity kind "any": a person or an organisation)."""
    out = []
    for field, entity in claim.REFS.items():
        value = getattr(claim, field, None)
        if value is not None:
            out.append((field, entity, value))
    for field, entity in claim.MANY.items():
        for value in many(claim, field):
            out.append((field, entity, value))
    for participant in claim.participants:
        out.append(("participants", "any", participant.ref))
    return out
