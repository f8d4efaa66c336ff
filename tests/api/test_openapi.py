"""The OpenAPI schema the service serves documents the API the README and ../shared/API.md
describe: every path, example request bodies, and the claim body as a union on `kind`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import msgspec
import pytest
from litestar.testing import TestClient

from starosta.events.kinds import KIND_NAMES, KINDS, AnyClaim
from starosta.service.api.entities import PersonIn, PlaceIn, SourceIn
from starosta.service.app import create_app
from starosta.service.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
API_MD = ROOT.parent / "shared" / "API.md"
ENDPOINT = re.compile(r"`(GET|POST|PUT|PATCH|DELETE) (/[^`\s?]*)[^`]*`")


def normal(path: str) -> str:
    """'/claims/{claim_id:str}' and '/claims/{id}' are one path: '/claims/{}'."""
    path = re.sub(r"\{[^}]*\}", "{}", path)
    return path.rstrip("/") or "/"


def endpoints_in_tables(text: str) -> set[tuple[str, str]]:
    """(method, normal path) of every endpoint named in the first cell of a markdown table row."""
    found = set()
    for line in text.splitlines():
        if not line.startswith("| `"):
            continue
        first_cell = line.split("|")[1]
        for method, path in ENDPOINT.findall(first_cell):
            found.add((method.lower(), normal(path)))
    return found


def endpoints_anywhere(text: str) -> set[tuple[str, str]]:
    """(method, normal path) of every endpoint named in backticks, in tables or in prose."""
    return {(method.lower(), normal(path)) for method, path in ENDPOINT.findall(text)}


def readme_api_section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("## The HTTP API")
    end = text.index("\n## ", start + 1)
    return text[start:end]


@pytest.fixture(scope="module")
def schema(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    db = str(tmp_path_factory.mktemp("openapi") / "archive.db")
    with TestClient(create_app(Settings(db=db))) as client:
        r = client.get("/schema/openapi.json")
        assert r.status_code == 200, r.text
        assert client.get("/schema").status_code == 200
        return r.json()


def documented(schema: dict[str, Any]) -> set[tuple[str, str]]:
    return {(method, normal(path)) for path, item in schema["paths"].items() for method in item
            if method in ("get", "post", "put", "patch", "delete")}


def served() -> set[tuple[str, str]]:
    app = create_app(Settings(db=":memory:"))
    return {(method.lower(), normal(route.path)) for route in app.routes
            for method in getattr(route, "methods", ()) if method not in ("OPTIONS", "HEAD")}


def resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def test_the_readme_table_is_parsed() -> None:
    """Guard the parser: the README's table names the endpoints we know are there."""
    named = endpoints_in_tables(readme_api_section())
    assert {("get", "/health"), ("post", "/claims"), ("get", "/claims/{}"),
            ("post", "/persons/{}/merge"), ("get", "/places/{}"), ("get", "/funds/{}"),
            ("post", "/claims/approve")} <= named
    assert len(named) >= 25


def test_every_endpoint_of_the_readme_is_documented(schema: dict[str, Any]) -> None:
    missing = endpoints_anywhere(readme_api_section()) - documented(schema)
    assert not missing, f"README endpoints missing from /schema/openapi.json: {sorted(missing)}"


@pytest.mark.skipif(not API_MD.exists(), reason="../shared/API.md is not beside the project")
def test_every_served_endpoint_of_the_shared_api_is_documented(schema: dict[str, Any]) -> None:
    named = endpoints_anywhere(API_MD.read_text(encoding="utf-8"))
    assert {("post", "/claims"), ("get", "/events/head"), ("get", "/places/{}/population")} <= named
    existing = named & served()
    assert existing >= {("post", "/claims"), ("post", "/sources"), ("get", "/persons")}
    missing = existing - documented(schema)
    assert not missing, f"API.md endpoints served but undocumented: {sorted(missing)}"


def test_every_served_endpoint_is_documented(schema: dict[str, Any]) -> None:
    ours = {(m, p) for m, p in served() if not p.startswith("/schema")}
    assert ours - documented(schema) == set()


def examples_of(schema: dict[str, Any], path: str) -> list[Any]:
    body = schema["paths"][path]["post"]["requestBody"]
    media = body["content"]["application/json"]
    found = [e.get("value", e) for e in (media.get("examples") or {}).values()] \
        if isinstance(media.get("examples"), dict) else list(media.get("examples") or [])
    if "example" in media:
        found.append(media["example"])
    node = media.get("schema", {})
    found += list(node.get("examples") or [])
    if "example" in node:
        found.append(node["example"])
    return found


@pytest.mark.parametrize("path, body_type", [("/claims", AnyClaim), ("/sources", SourceIn),
                                             ("/persons", PersonIn), ("/places", PlaceIn)])
def test_request_bodies_have_examples_that_decode(schema: dict[str, Any], path: str, body_type) -> None:
    examples = examples_of(schema, path)
    assert examples, f"POST {path} has no example body"
    for example in examples:
        msgspec.convert(example, body_type)  # raises when the documented example is not valid


def test_claim_examples_come_from_the_domain(schema: dict[str, Any]) -> None:
    kinds = {e["kind"] for e in examples_of(schema, "/claims")}
    assert {"custody", "death", "disbursement", "aggregate"} <= kinds


def test_the_claim_body_is_a_union_on_kind_listing_every_kind(schema: dict[str, Any]) -> None:
    body = schema["paths"]["/claims"]["post"]["requestBody"]
    assert body.get("required") is True
    node = resolve(schema, body["content"]["application/json"]["schema"])
    members = node.get("oneOf") or node.get("anyOf")
    assert members, node
    tags = []
    for member in members:
        member = resolve(schema, member)
        kind = member["properties"]["kind"]
        tag = kind.get("const", (kind.get("enum") or [None])[0])
        assert tag is not None and (kind.get("enum") in (None, [tag])), kind
        assert "kind" in member.get("required", []), member.get("title")
        assert "citation" in member.get("required", []), member.get("title")
        tags.append(tag)
    assert len(tags) == len(set(tags)) == len(KINDS)
    assert set(tags) == set(KIND_NAMES)
    assert set(tags) >= {
        "name", "birth", "death", "affiliation", "occupation", "arrest", "accusation", "sentence",
        "custody", "transfer", "escape", "protest", "release", "execution", "role", "membership",
        "letter", "relation", "presence", "labour", "allowance", "donation", "disbursement",
        "in_kind", "committee_transfer", "aggregate", "no_record"}


def test_amounts_are_documented_as_decimal_strings(schema: dict[str, Any]) -> None:
    for name in ("DonationClaim", "DisbursementClaim", "AllowanceClaim", "CommitteeTransferClaim"):
        amount = schema["components"]["schemas"][name]["properties"]["amount"]
        types = {amount.get("type")} | {o.get("type") for o in amount.get("oneOf", [])}
        assert "string" in types and not types & {"number", "integer"}, (name, amount)
        assert amount.get("pattern"), (name, amount)


def test_the_claim_union_declares_its_discriminator(schema: dict[str, Any]) -> None:
    body = schema["paths"]["/claims"]["post"]["requestBody"]
    node = resolve(schema, body["content"]["application/json"]["schema"])
    assert node["discriminator"]["propertyName"] == "kind"
    mapping = node["discriminator"].get("mapping", {})
    assert set(mapping) == set(KIND_NAMES)
