"""Every field described (issue 22, item 7): every property of every schema of the OpenAPI
document the server serves has a description, its own where the code declares one, else the
glossary's (service.api.fields)."""

from __future__ import annotations

from starosta.service.api.fields import BY_NAME, describe, undescribed
from tests.api.conftest import Api


def test_every_schema_property_of_the_served_document_has_a_description(api: Api) -> None:
    r = api.get("/schema/openapi.json")
    assert r.status_code == 200
    document = r.json()
    properties = sum(len(s.get("properties", {})) for s in document["components"]["schemas"].values())
    assert properties > 700
    assert undescribed(document) == []
    schemas = document["components"]["schemas"]
    # a field's own description is kept; the glossary fills the rest
    assert schemas["OrganizationPerson"]["properties"]["certainty"]["description"].startswith('"certain"')
    assert schemas["Population"]["properties"]["groups_count_min"]["description"].startswith("At least")
    assert schemas["Population"]["properties"]["count_min"]["description"] == BY_NAME["count_min"]


def test_describe_fills_only_what_is_missing_and_reaches_nested_objects() -> None:
    document = {"components": {"schemas": {
        "A": {"properties": {"id": {"type": "string"}, "label": {"type": "string", "description": "mine"},
                             "nested": {"type": "array", "items": {"properties": {"earliest": {}}}},
                             "zz_unknown_field": {"type": "string"}}},
    }}}
    assert undescribed(document) == ["A.id", "A.nested", "A.earliest", "A.zz_unknown_field"]
    describe(document)
    props = document["components"]["schemas"]["A"]["properties"]
    assert props["id"]["description"] == BY_NAME["id"]
    assert props["label"]["description"] == "mine"
    assert props["nested"]["items"]["properties"]["earliest"]["description"] == BY_NAME["earliest"]
    assert undescribed(document) == ["A.nested", "A.zz_unknown_field"]
