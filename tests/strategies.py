"""Hypothesis strategies derived from msgspec's own type information (patterns, bounds, tags),
so generated structs are exactly those msgspec would accept."""

from __future__ import annotations

import datetime

import msgspec
import msgspec.inspect as mi
from hypothesis import strategies as st

_json_scalar = st.one_of(st.none(), st.booleans(), st.integers(-(2**53), 2**53), st.text(max_size=12))
_json = st.recursive(_json_scalar, lambda inner: st.lists(inner, max_size=3)
                     | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=6)


def _text(t: mi.StrType) -> st.SearchStrategy[str]:
    if t.pattern:
        s = st.from_regex(t.pattern, fullmatch=True)
        lo, hi = t.min_length or 0, t.max_length
        return s.filter(lambda x: len(x) >= lo and (hi is None or len(x) <= hi))
    return st.text(min_size=t.min_length or 0, max_size=min(t.max_length or 30, 30))


def strategy(t: mi.Type) -> st.SearchStrategy:
    """Return a strategy for values of msgspec type `t`."""
    match t:
        case mi.Metadata():
            return strategy(t.type)
        case mi.StrType():
            return _text(t)
        case mi.IntType():
            return st.integers(t.ge if t.ge is not None else -(2**31), t.le if t.le is not None else 2**31)
        case mi.FloatType():
            return st.floats(t.ge if t.ge is not None else -1e6, t.le if t.le is not None else 1e6,
                             allow_nan=False)
        case mi.BoolType():
            return st.booleans()
        case mi.NoneType():
            return st.none()
        case mi.DateType():
            return st.dates(datetime.date(1, 1, 1), datetime.date(9999, 12, 31))
        case mi.LiteralType():
            return st.sampled_from(t.values)
        case mi.UnionType():
            return st.one_of([strategy(x) for x in t.types])
        case mi.VarTupleType() | mi.ListType():
            return st.lists(strategy(t.item_type), max_size=3).map(
                tuple if isinstance(t, mi.VarTupleType) else list)
        case mi.DictType():
            return st.dictionaries(strategy(t.key_type), strategy(t.value_type), max_size=3)
        case mi.AnyType():
            return _json
        case mi.StructType():
            return struct(t)
    raise TypeError(f"no strategy for {t!r}")


def struct(t: mi.StructType) -> st.SearchStrategy:
    kwargs = st.fixed_dictionaries({f.name: strategy(f.type) for f in t.fields})
    return kwargs.map(lambda kw: _build(t.cls, kw)).filter(lambda v: v is not None)


def _build(cls: type, kwargs: dict) -> msgspec.Struct | None:
    """Build and re-validate through msgspec; None when a __post_init__ check refuses it."""
    try:
        value = cls(**kwargs)
        msgspec.convert(msgspec.to_builtins(value), cls)
        return value
    except (msgspec.ValidationError, ValueError):
        return None


def of(cls: type) -> st.SearchStrategy:
    """Return a strategy for instances of the msgspec Struct `cls`."""
    return strategy(mi.type_info(cls))


def claims() -> st.SearchStrategy:
    """Any claim of any kind, participants and legacy fields (`with`, `recipient`, `via`)
    included, as msgspec would accept it (issue 20's property tests)."""
    from starosta.events.kinds import KINDS

    return st.one_of([of(kind) for kind in KINDS])
