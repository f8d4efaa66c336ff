"""docs/semantics.md describes every answer field (issue 22, item 7): every property name of
every schema of the OpenAPI document appears in it as `name`."""

from __future__ import annotations

from starosta.service.api.app import create_app
from starosta.service.settings import Settings
from tests.conftest import ROOT


def _names(schema: object, found: set[str]) -> None:
    if not isinstance(schema, dict):
        return
    for field, prop in (schema.get("properties") or {}).items():
        found.add(field)
        _names(prop, found)
    for key in ("items", "additionalProperties"):
        _names(schema.get(key), found)
    for key in ("anyOf", "oneOf", "allOf"):
        for sub in schema.get(key, ()):
            _names(sub, found)


def test_every_field_of_the_openapi_document_is_described_in_semantics(tmp_path) -> None:
    document = create_app(Settings(db=str(tmp_path / "a.db"))).state.openapi_document
    found: set[str] = set()
    for schema in document["components"]["schemas"].values():
        _names(schema, found)
    assert len(found) > 200
    text = (ROOT / "docs" / "semantics.md").read_text(encoding="utf-8")
    assert sorted(n for n in found if f"`{n}`" not in text) == []
