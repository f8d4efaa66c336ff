"""Every current event type survives encode -> store form -> decode unchanged (hypothesis)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from starosta.events.catalog import CATALOG
from tests.strategies import of


def _round_trip_test(cls):
    @settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    @given(event=of(cls))
    def test(event) -> None:
        tag, version, stored = CATALOG.encode(event)
        assert tag == cls.__struct_config__.tag
        assert CATALOG.decode(tag, version, stored) == event
        assert CATALOG.decode(tag, version, stored.decode("utf-8")) == event

    test.__name__ = f"test_{cls.__struct_config__.tag.replace('.', '_')}_round_trips"
    return test


for _cls in CATALOG.types():
    _test = _round_trip_test(_cls)
    globals()[_test.__name__] = _test
