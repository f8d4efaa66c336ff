"""Properties: the archive's typed vocabulary for facts nobody foresaw (nationality, an article of
the criminal code, an age as stated, a stated equivalent), as Wikibase has them.

A property is a registered entity (`PR-` and 8 characters) with a fixed `key` slug, a label, a
description and a `datatype`; `single` says one value is expected per subject; `applies_to`
the entity kinds a statement's subject may be (empty: any). The seeded vocabulary (`SEEDED`) is
defined here, with fixed ids, and held by the registry read model from its first version; an
admin adds more (`property.registered` events), usable at once.

A property value is one string (an entity id, a string, an external id, an EDTF date) or one
object (`ValueObject`: monolingual text, a quantity, an amount of money). `check_value` is the
one rule that validates a value by its property's datatype, a pure function: what it cannot
check alone (that an entity exists, that a date parses) it returns for the command to check.
`value_key` is the normalised key values are compared by (`GET /claims?property=&value=`).
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation
from typing import Annotated, Literal, NamedTuple

import msgspec
from msgspec import Meta

from starosta.events.base import Event

Datatype = Literal["entity", "string", "text", "date", "quantity", "money", "external_id"]
DATATYPES: tuple[str, ...] = ("entity", "string", "text", "date", "quantity", "money", "external_id")
EntityKind = Literal["person", "place", "organization", "fund", "source"]
ENTITY_PREFIXES = {"person": "P", "place": "PL", "organization": "O", "fund": "F", "source": "S"}

PropertyId = Annotated[str, Meta(pattern=r"^PR-[0-9A-HJKMNP-TV-Z]{8}$", max_length=11,
                                 description="A property's id: PR- and 8 Crockford characters",
                                 examples=["PR-00000001"])]
PropertyKey = Annotated[str, Meta(pattern=r"^[a-z][a-z0-9_]{1,40}$", max_length=41,
                                  description="A property's fixed key slug", examples=["nationality"])]
PropertyRef = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$",
                                  description="A property by id (PR-...) or key (nationality); "
                                  "stored as its id", examples=["stated_age"])]
Decimal_ = Annotated[str, Meta(pattern=r"^-?(0|[1-9][0-9]{0,14})(\.[0-9]{1,6})?$", max_length=23,
                               description="An exact decimal as a string, never a number: '6.25'",
                               examples=["86"])]
Language = Annotated[str, Meta(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$", max_length=35,
                               description="A BCP 47 language tag", examples=["en"])]
Unit = Annotated[str, Meta(min_length=1, max_length=50, examples=["years"])]
Currency = Annotated[str, Meta(pattern=r"^[A-Z]{3}$", max_length=3,
                               description="ISO 4217 code or a historical one (SUR, RUR)",
                               examples=["USD"])]


class ValueObject(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True,
                  omit_defaults=True):
    """A property value that is an object; which fields it takes depends on the datatype:

    - text: {"text", "language"} (monolingual text);
    - quantity: {"amount"} and optional "min", "max" (bounds), "unit", "about";
    - money: {"amount", "currency"} and optional "min", "max", "about", and "at_most" or
      "at_least" (the amount is a bound: "less than $3.25" is {"amount": "3.25",
      "currency": "USD", "at_most": true}).
    """

    text: Annotated[str, Meta(min_length=1, max_length=20000)] | None = None
    language: Language | None = None
    amount: Decimal_ | None = None
    min: Decimal_ | None = None
    max: Decimal_ | None = None
    unit: Unit | None = None
    currency: Currency | None = None
    about: bool = False
    at_most: bool = False
    at_least: bool = False


Value = Annotated[str, Meta(min_length=1, max_length=2000, description=(
    "An entity id, a string, an external id or an EDTF date, by the property's datatype"))] | ValueObject

_OBJECT_FIELDS: dict[str, tuple[set[str], set[str]]] = {  # datatype -> (required, allowed)
    "text": ({"text", "language"}, {"text", "language"}),
    "quantity": ({"amount"}, {"amount", "min", "max", "unit", "about"}),
    "money": ({"amount", "currency"}, {"amount", "currency", "min", "max", "about", "at_most", "at_least"}),
}


class PropertySpec(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True,
                   omit_defaults=True):
    """A property as an admin registers it (POST /properties): a fixed `key`, a label, a
    description and a datatype; `single`: one value expected per subject (two approved values
    that differ are a conflict); `applies_to`: the entity kinds a statement's subject may be
    (empty: any); `entity_kinds`: an entity property's value kinds; `or_string`: the source's
    words accepted in place of the typed value; `unit`: a quantity's unit; an external id's
    `url_pattern` (`$1` is the id) and `pattern` (a regular expression the id matches)."""

    key: PropertyKey
    label: Annotated[str, Meta(min_length=1, max_length=200)]
    datatype: Datatype
    description: Annotated[str, Meta(max_length=2000)] = ""
    single: bool = False
    applies_to: Annotated[tuple[EntityKind, ...], Meta(max_length=5)] = ()
    entity_kinds: Annotated[tuple[EntityKind, ...], Meta(max_length=5)] = ()
    or_string: bool = False
    unit: Unit | None = None
    url_pattern: Annotated[str, Meta(max_length=500, pattern=r"^https?://[^\s]*\$1")] | None = None
    pattern: Annotated[str, Meta(max_length=200)] | None = None


class PropertyDef(PropertySpec, frozen=True, kw_only=True, omit_defaults=True):
    """A property: what a statement's or a qualifier's `property` names."""

    id: PropertyId


class PropertyRegistered(Event, frozen=True, tag="property.registered", omit_defaults=True):
    """An admin registered a property; usable at once."""

    property: PropertyDef


def _seed(n: int, key: str, label: str, datatype: str, description: str, **extra: object) -> PropertyDef:
    return PropertyDef(id=f"PR-{n:08X}", key=key, label=label, datatype=datatype,  # type: ignore[arg-type]
                       description=description, **extra)  # type: ignore[arg-type]


# The seeded vocabulary (../shared/API.md, "Resolutions (issues 13-20)", "Properties"): fixed ids,
# never renumbered; a new seed takes the next number (and the registry read model's next version)
SEEDED: tuple[PropertyDef, ...] = (
    _seed(1, "nationality", "nationality", "string", "A nationality as the source gives it",
          single=True, applies_to=("person",)),
    _seed(2, "citizenship", "citizenship", "entity", "A citizenship: a country (a place) or, "
          "when it is not registered, the words of the source", entity_kinds=("place",),
          or_string=True, applies_to=("person",)),
    _seed(3, "education", "education", "string", "Schooling or training as the source gives it",
          applies_to=("person",)),
    _seed(4, "religion", "religion", "string", "A religion or confession", applies_to=("person",)),
    _seed(5, "social_origin", "social origin", "string", "Social origin (worker, peasant, "
          "of noble birth ...)", single=True, applies_to=("person",)),
    _seed(6, "residence", "residence", "entity", "A place of residence", entity_kinds=("place",),
          applies_to=("person", "organization")),
    _seed(7, "article", "article", "string", "An article of the criminal code (58-10)"),
    _seed(8, "place", "place", "entity", "The place a claim names (the place of exile a sentence "
          "names)", entity_kinds=("place",)),
    _seed(9, "authority", "authority", "entity", "A body that decided (a rehabilitating or "
          "sentencing body)", entity_kinds=("organization",)),
    _seed(10, "stated_age", "age as stated", "quantity", "An age as the source states it",
          unit="years"),
    _seed(11, "equivalent", "stated equivalent", "money", "An amount the source gives as the "
          "equivalent of another (\"less than $3.25\")"),
    _seed(12, "share", "share", "quantity", "A share of a group, as a fraction (\"about half\" is "
          "0.5 about) or in the source's words", or_string=True, unit="fraction"),
    _seed(13, "conditions", "conditions", "text", "Conditions of detention as the source relates "
          "them", applies_to=("person", "place")),
    _seed(14, "memorial_id", "Memorial record", "external_id", "A record of Memorial's database "
          "of victims", single=True, applies_to=("person",)),
    _seed(15, "wikidata_id", "Wikidata item", "external_id", "A Wikidata item",
          url_pattern="https://www.wikidata.org/wiki/$1", pattern=r"Q[1-9][0-9]*", single=True),
)
SEEDED_BY_ID = {p.id: p for p in SEEDED}
SEEDED_BY_KEY = {p.key: p for p in SEEDED}


class ValueRefused(ValueError):
    """A value its property's datatype refuses; `field` names it (value, qualifiers[i].value)."""

    def __init__(self, field: str, value: object, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.value, self.message = field, value, message


class Checked(NamedTuple):
    """What `check_value` leaves to the caller: the entity kinds the value must name (an entity
    id to look up; empty when none), whether it is an EDTF date to parse, and its key."""

    entity_kinds: tuple[str, ...]
    date: bool
    key: str


_ID_SHAPE = re.compile(r"^[A-Z]{1,2}-[0-9A-HJKMNP-TV-Z]{8}$")
_DECIMAL = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")


def looks_like_id(text: str) -> bool:
    """Return True when `text` has the shape of a registered entity's id (P-4G7K2M9Q)."""
    return _ID_SHAPE.fullmatch(text) is not None


def names_entity(prop: PropertyDef, value: object) -> bool:
    """True when `value` names a registered entity: a string value of an entity property (of
    one that also takes the source's words, `or_string`, only a string shaped as an id)."""
    return (prop.datatype == "entity" and isinstance(value, str)
            and (not prop.or_string or looks_like_id(value)))


def decimal_key(text: str) -> str:
    """An exact decimal in its shortest form: '86', '86.0' and '086' are '86'; '0.50' is '0.5'."""
    d = Decimal(text).normalize()
    return format(d, "f") if d != 0 else "0"


def value_key(value: str | ValueObject | dict) -> str:
    """The normalised key a value is compared by: a decimal (a string of digits, or an object's
    `amount`) in its shortest exact form; text (a string, or an object's `text`) in Unicode NFC,
    case-folded, its spaces collapsed. The datatype is not needed: `GET /claims?value=86` finds
    a stated age of {"amount": "86"} and a string "86" alike."""
    if isinstance(value, ValueObject):
        value = msgspec.to_builtins(value)
    if isinstance(value, dict):
        if value.get("amount") is not None:
            return decimal_key(value["amount"])
        value = str(value.get("text", ""))
    assert isinstance(value, str)
    text = " ".join(unicodedata.normalize("NFC", value).split())
    if _DECIMAL.fullmatch(text):
        try:
            return decimal_key(text)
        except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
            pass
    return text.casefold()


def check_value(prop: PropertyDef, value: str | ValueObject, field: str) -> Checked:
    """Check `value` against `prop`'s datatype; raise ValueRefused naming `field`. Returns what is
    left to check against the archive (an entity to look up, a date to parse) and the key."""
    kind = prop.datatype
    if isinstance(value, ValueObject):
        if kind not in _OBJECT_FIELDS:
            raise ValueRefused(field, msgspec.to_builtins(value),
                               f"property {prop.key} ({kind}) takes a string, not an object")
        return Checked((), False, _check_object(prop, value, field))
    text = value
    if text != text.strip() or not text:
        raise ValueRefused(field, text, "no spaces at either end")
    if kind in _OBJECT_FIELDS:
        if prop.or_string:  # "about half": the source's words in place of the typed value
            return Checked((), False, value_key(text))
        raise ValueRefused(field, text, f"property {prop.key} ({kind}) takes an object: "
                           + _shape(kind))
    if kind == "entity":
        if names_entity(prop, text):
            kinds: tuple[str, ...] = prop.entity_kinds or tuple(ENTITY_PREFIXES)
            if looks_like_id(text) and not any(text.startswith(ENTITY_PREFIXES[k] + "-") for k in kinds):
                raise ValueRefused(field, text, f"property {prop.key} takes the id of a "
                                   f"{' or '.join(kinds)}")
            return Checked(tuple(kinds), False, value_key(text))
        return Checked((), False, value_key(text))  # the source's words (or_string)
    if kind == "date":
        return Checked((), True, text)
    if kind == "external_id":
        if len(text) > 200 or any(c.isspace() for c in text):
            raise ValueRefused(field, text, "an external id is one word of at most 200 characters")
        if prop.pattern is not None and re.fullmatch(prop.pattern, text) is None:
            raise ValueRefused(field, text, f"property {prop.key} takes ids matching {prop.pattern}")
    return Checked((), False, value_key(text))


def _shape(kind: str) -> str:
    required, allowed = _OBJECT_FIELDS[kind]
    return (f"{{{', '.join(sorted(required))}}}"
            + (f", optional {', '.join(sorted(allowed - required))}" if allowed - required else ""))


def _check_object(prop: PropertyDef, value: ValueObject, field: str) -> str:
    required, allowed = _OBJECT_FIELDS[prop.datatype]
    given = {k for k, v in msgspec.structs.asdict(value).items()
             if v is not None and v is not False}
    shown = msgspec.to_builtins(value)
    if missing := required - given:
        raise ValueRefused(field, shown, f"property {prop.key} ({prop.datatype}) needs "
                           f"{', '.join(sorted(missing))}: {_shape(prop.datatype)}")
    if extra := given - allowed:
        raise ValueRefused(field, shown, f"property {prop.key} ({prop.datatype}) takes no "
                           f"{', '.join(sorted(extra))}: {_shape(prop.datatype)}")
    if value.amount is not None:
        amount = Decimal(value.amount)
        if value.min is not None and Decimal(value.min) > amount:
            raise ValueRefused(field, shown, "min is above the amount")
        if value.max is not None and Decimal(value.max) < amount:
            raise ValueRefused(field, shown, "max is below the amount")
    if value.at_most and value.at_least:
        raise ValueRefused(field, shown, "an amount is at most or at least, not both")
    if (value.at_most or value.at_least) and (value.min is not None or value.max is not None):
        raise ValueRefused(field, shown, "a bound (at_most, at_least) takes no min or max")
    return value_key(value)


def url_of(prop: PropertyDef, value: str) -> str | None:
    """Return an external id's URL (the property's `url_pattern` with `$1` replaced), or None."""
    if prop.datatype != "external_id" or prop.url_pattern is None:
        return None
    return prop.url_pattern.replace("$1", value)


def check_definition(prop: PropertyDef) -> None:
    """Check a new property's definition alone; raise ValueRefused naming the field."""
    if prop.key in SEEDED_BY_KEY:
        raise ValueRefused("key", prop.key, "a seeded property has that key")
    if prop.entity_kinds and prop.datatype != "entity":
        raise ValueRefused("entity_kinds", list(prop.entity_kinds), "only an entity property names "
                           "the kinds of its values")
    if prop.datatype == "entity" and not prop.entity_kinds:
        raise ValueRefused("entity_kinds", [], "an entity property names the kinds of its values")
    if prop.url_pattern is not None and prop.datatype != "external_id":
        raise ValueRefused("url_pattern", prop.url_pattern, "only an external id has a URL pattern")
    if prop.pattern is not None:
        if prop.datatype != "external_id":
            raise ValueRefused("pattern", prop.pattern, "only an external id has a pattern")
        try:
            re.compile(prop.pattern)
        except re.error as exc:
            raise ValueRefused("pattern", prop.pattern, f"not a regular expression: {exc}") from None
    if prop.unit is not None and prop.datatype != "quantity":
        raise ValueRefused("unit", prop.unit, "only a quantity has a unit")
    if prop.or_string and prop.datatype not in ("entity", "quantity", "money", "text"):
        raise ValueRefused("or_string", True, "a string property takes strings already")
