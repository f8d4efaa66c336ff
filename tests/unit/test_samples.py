"""Every stored version of every event type still decodes into a current type."""

from __future__ import annotations

from pathlib import Path

import msgspec

from starosta.events.catalog import CATALOG

SAMPLES = Path(__file__).resolve().parent.parent / "samples" / "events.jsonl"


def load() -> list[dict]:
    return [msgspec.json.decode(line) for line in SAMPLES.read_text("utf-8").splitlines() if line]


def test_every_sample_replays_into_a_current_type() -> None:
    for sample in load():
        data = msgspec.json.encode(sample["data"])
        event = CATALOG.decode(sample["type"], sample["schema_version"], data)
        assert CATALOG.tag_of(event) == sample["type"]


def test_every_current_event_version_has_a_stored_sample() -> None:
    sampled = {(s["type"], s["schema_version"]) for s in load()}
    for cls in CATALOG.types():
        tag = cls.__struct_config__.tag
        assert (tag, CATALOG.schema_version(tag)) in sampled, f"add a sample of {tag}"
