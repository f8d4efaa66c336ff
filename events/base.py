"""The base of every stored event, and the catalogue that decodes stored rows into current types.

Events are frozen, tagged msgspec structs with explicit, stable tags. The stream id,
version, position and times live in the envelope, never in the event. An additive
change is a new field with a default; a breaking change bumps the type's schema
version and adds an upcaster that turns the stored older form into the current
one, so readers and projections only ever see current types.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec


class Event(msgspec.Struct, frozen=True, kw_only=True, tag_field="type", gc=False):
    """Base of every event; subclasses set `tag=` to a stable, past-tense name."""


Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


class UnknownEventType(Exception):
    """A stored row names an event type this code does not know."""


class EventTypes:
    """The catalogue of event types with their current schema versions and upcasters."""

    def __init__(self) -> None:
        self._types: dict[str, tuple[type[Event], int]] = {}
        self._upcasters: dict[tuple[str, int], Upcaster] = {}
        self._encoder = msgspec.json.Encoder()
        self._decoders: dict[str, msgspec.json.Decoder] = {}

    def add(self, cls: type[Event], schema_version: int = 1) -> type[Event]:
        """Add `cls` at its current schema version; return it (usable as a decorator)."""
        tag = cls.__struct_config__.tag
        if not isinstance(tag, str) or tag == cls.__name__:
            raise ValueError(f"{cls.__name__} needs an explicit string tag")
        if tag in self._types:
            raise ValueError(f"event tag {tag!r} is added twice")
        self._types[tag] = (cls, schema_version)
        self._decoders[tag] = msgspec.json.Decoder(cls)
        return cls

    def upcaster(self, tag: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
        """Add a function turning version `from_version` of `tag` into `from_version + 1`."""

        def inner(fn: Upcaster) -> Upcaster:
            self._upcasters[(tag, from_version)] = fn
            return fn

        return inner

    def tag_of(self, event: Event) -> str:
        """Return the stable tag of an event instance."""
        return type(event).__struct_config__.tag  # type: ignore[return-value]

    def schema_version(self, tag: str) -> int:
        """Return the current schema version of `tag`."""
        return self._lookup(tag)[1]

    def types(self) -> list[type[Event]]:
        """Return every event type in the catalogue."""
        return [cls for cls, _ in self._types.values()]

    def encode(self, event: Event) -> tuple[str, int, bytes]:
        """Return (tag, schema_version, JSON bytes) for storing `event`."""
        tag = self.tag_of(event)
        _, version = self._lookup(tag)
        return tag, version, self._encoder.encode(event)

    def decode(self, tag: str, schema_version: int, data: bytes | str) -> Event:
        """Decode a stored row into the current type, upcasting older versions on the way."""
        cls, current = self._lookup(tag)
        if schema_version == current:
            return self._decoders[tag].decode(data)
        if schema_version > current:
            raise UnknownEventType(
                f"event {tag!r} is stored at schema version {schema_version}, "
                f"newer than this code's {current}: upgrade starosta"
            )
        raw: dict[str, Any] = msgspec.json.decode(data)
        for version in range(schema_version, current):
            step = self._upcasters.get((tag, version))
            if step is None:
                raise UnknownEventType(f"no upcaster for {tag!r} from schema version {version}")
            raw = step(raw)
        raw["type"] = tag
        return msgspec.convert(raw, cls)

    def _lookup(self, tag: str) -> tuple[type[Event], int]:
        try:
            return self._types[tag]
        except KeyError:
            raise UnknownEventType(f"unknown event type {tag!r}") from None
