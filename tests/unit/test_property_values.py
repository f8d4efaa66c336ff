"""The one rule that checks a property value by its datatype (events.properties.check_value),
the key values are compared by (value_key), and a new property's definition (check_definition),
as pure functions."""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from starosta.events.kinds import AnyClaim, StatementClaim
from starosta.events.properties import (
    SEEDED,
    SEEDED_BY_KEY,
    PropertyDef,
    ValueObject,
    ValueRefused,
    check_definition,
    check_value,
    url_of,
    value_key,
)
from tests import strategies

P = SEEDED_BY_KEY


def obj(**fields) -> ValueObject:
    return ValueObject(**fields)


def refused(prop: str | PropertyDef, value, field: str = "value") -> str:
    prop = P[prop] if isinstance(prop, str) else prop
    with pytest.raises(ValueRefused) as caught:
        check_value(prop, value, field)
    assert caught.value.field == field
    return caught.value.message


def test_the_seeded_vocabulary_is_the_resolutions_list_with_fixed_ids() -> None:
    assert {p.key: p.datatype for p in SEEDED} == {
        "nationality": "string", "citizenship": "entity", "education": "string",
        "religion": "string", "social_origin": "string", "residence": "entity",
        "article": "string", "place": "entity", "authority": "entity", "stated_age": "quantity",
        "equivalent": "money", "share": "quantity", "conditions": "text",
        "memorial_id": "external_id", "wikidata_id": "external_id"}
    assert [p.id for p in SEEDED][:3] == ["PR-00000001", "PR-00000002", "PR-00000003"]
    assert len({p.id for p in SEEDED}) == len(SEEDED)
    assert P["citizenship"].or_string and P["citizenship"].entity_kinds == ("place",)
    assert P["residence"].entity_kinds == ("place",) and P["authority"].entity_kinds == ("organization",)
    assert P["stated_age"].unit == "years"
    assert P["wikidata_id"].url_pattern == "https://www.wikidata.org/wiki/$1"
    for p in SEEDED:  # each definition is one an admin could register (but for the key)
        check_definition(msgspec.structs.replace(p, key="x_" + p.key))


def test_strings_and_external_ids() -> None:
    assert check_value(P["nationality"], "Spanish", "value").key == "spanish"
    assert "spaces" in refused("nationality", " Spanish")
    assert check_value(P["memorial_id"], "4711", "value").key == "4711"
    assert "one word" in refused("memorial_id", "47 11")
    assert check_value(P["wikidata_id"], "Q42", "value").key == "q42"
    assert "Q[1-9]" in refused("wikidata_id", "42", "qualifiers[3].value")
    assert url_of(P["wikidata_id"], "Q42") == "https://www.wikidata.org/wiki/Q42"
    assert url_of(P["memorial_id"], "4711") is None
    assert "not an object" in refused("article", obj(text="58-10", language="ru"))


def test_entities_name_the_kinds_the_property_allows() -> None:
    checked = check_value(P["residence"], "PL-4G7K2M9Q", "value")
    assert checked.entity_kinds == ("place",) and not checked.date
    assert "place" in refused("residence", "P-4G7K2M9Q")  # a person is no place
    assert check_value(P["residence"], "PL2", "value").entity_kinds == ("place",)  # looked up
    # citizenship: a place, or the source's words when the country is not registered
    assert check_value(P["citizenship"], "PL-4G7K2M9Q", "value").entity_kinds == ("place",)
    words = check_value(P["citizenship"], "Soviet", "value")
    assert words.entity_kinds == () and words.key == "soviet"


def test_quantities_money_and_text_are_objects_of_their_shape() -> None:
    age = check_value(P["stated_age"], obj(amount="86", unit="years"), "value")
    assert age.key == "86" and age.entity_kinds == () and not age.date
    assert "takes an object" in refused("stated_age", "86")
    assert "needs amount" in refused("stated_age", obj(unit="years"))
    assert "takes no currency" in refused("stated_age", obj(amount="86", currency="USD"))
    assert "min is above" in refused("stated_age", obj(amount="86", min="87"))
    assert "max is below" in refused("stated_age", obj(amount="86", max="85"))
    less = check_value(P["equivalent"], obj(amount="3.25", currency="USD", at_most=True), "value")
    assert less.key == "3.25"
    assert "needs currency" in refused("equivalent", obj(amount="3.25"))
    assert "not both" in refused("equivalent", obj(amount="3", currency="USD", at_most=True, at_least=True))
    assert "no min or max" in refused("equivalent", obj(amount="3", currency="USD", at_most=True, max="4"))
    assert check_value(P["conditions"], obj(text="Lazarevitch relates", language="en"), "value").key \
        == "lazarevitch relates"
    assert "needs language" in refused("conditions", obj(text="words"))
    # share: a fraction, or the source's words
    assert check_value(P["share"], obj(amount="0.5", about=True), "value").key == "0.5"
    assert check_value(P["share"], "about half", "value").key == "about half"


def test_dates_are_left_to_parse() -> None:
    prop = PropertyDef(id="PR-4G7K2M9Q", key="rehabilitated_on", label="rehabilitated",
                       datatype="date")
    checked = check_value(prop, "1989-01-16", "qualifiers[0].value")
    assert checked.date and checked.key == "1989-01-16"


@pytest.mark.parametrize("a, b", [("86", "86.0"), ("086", "86"), ("0.50", "0.5"),
                                  ("Spanish", "  SPANISH "), ("Ёлка", "ёлка")])
def test_value_keys_compare_decimals_exactly_and_text_folded(a: str, b: str) -> None:
    assert value_key(a) == value_key(b)
    assert value_key(obj(amount="86")) == value_key("86.00")
    assert value_key({"text": "Butyrki", "language": "en"}) == value_key("butyrki")
    assert value_key("86") != value_key("86.1")


def test_definitions_fit_their_datatype() -> None:
    def bad(field: str, **extra) -> None:
        fields = {"id": "PR-4G7K2M9Q", "key": "k_new", "label": "new", "datatype": "string", **extra}
        with pytest.raises(ValueRefused) as caught:
            check_definition(PropertyDef(**fields))
        assert caught.value.field == field

    bad("key", key="nationality")
    bad("entity_kinds", datatype="entity")
    bad("entity_kinds", entity_kinds=("place",))
    bad("url_pattern", url_pattern="https://x.org/$1")
    bad("pattern", datatype="external_id", pattern="([")
    bad("unit", unit="years")
    bad("or_string", or_string=True)


def test_a_statement_decodes_and_encodes_as_submitted() -> None:
    body = {"kind": "statement", "subject": "P-4G7K2M9Q", "property": "stated_age",
            "value": {"amount": "86", "unit": "years"}, "citation": {"source": "S-4G7K2M9Q"},
            "qualifiers": [{"property": "article", "value": "58-10"}]}
    claim = msgspec.convert(body, AnyClaim)
    assert isinstance(claim, StatementClaim) and isinstance(claim.value, ValueObject)
    assert msgspec.json.decode(msgspec.json.encode(claim)) == body
    with pytest.raises(msgspec.ValidationError, match="value"):
        msgspec.convert({**body, "value": 86}, AnyClaim)  # no floats, no numbers: strings
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({**body, "qualifiers": [{"property": "article", "value": "x"}] * 51}, AnyClaim)


@settings(max_examples=300, deadline=None)
@given(prop=st.sampled_from(SEEDED), value=st.one_of(strategies.of(ValueObject), st.text(min_size=1, max_size=20)))
def test_every_value_is_refused_naming_its_field_or_keyed_as_compared(prop: PropertyDef, value) -> None:
    """Generated values against every seeded property: the rule either refuses one, naming the
    field, or accepts it with the key GET /claims compares it by; an accepted object has the
    fields its datatype needs and no other."""
    try:
        checked = check_value(prop, value, "qualifiers[7].value")
    except ValueRefused as exc:
        assert exc.field == "qualifiers[7].value" and exc.message
        return
    assert checked.key == (value if checked.date else value_key(value))
    assert value_key(checked.key) == checked.key or checked.date  # a key is its own key
    if isinstance(value, ValueObject):
        assert prop.datatype in ("text", "quantity", "money")
        assert (value.text is not None) == (prop.datatype == "text")
        assert (value.currency is not None) == (prop.datatype == "money")
    else:
        assert value == value.strip()
