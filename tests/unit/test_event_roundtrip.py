"""Every current event type survives encode -> store form -> decode unchanged (hypothesis)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from events.catalog import CATALOG

json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**53), 2**53), st.text(max_size=20))
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
st.register_type_strategy(dict, st.dictionaries(st.text(max_size=10), json_values, max_size=4))


@pytest.mark.parametrize("cls", CATALOG.types(), ids=lambda c: c.__struct_config__.tag)
@settings(max_examples=60)
@given(data=st.data())
def test_event_round_trips(cls, data) -> None:
    event = data.draw(st.builds(cls))
    tag, version, stored = CATALOG.encode(event)
    assert tag == cls.__struct_config__.tag
    assert CATALOG.decode(tag, version, stored) == event
    assert CATALOG.decode(tag, version, stored.decode("utf-8")) == event
