"""The OpenAPI document the service serves tells the truth: every path the README names (and,
where STAROSTA_API_MD names the brief the API follows, every path of it that is served), every
status each operation can answer as problem+json with an example, the bearer scheme, closed
request bodies, enums where values are fixed, bounded text, examples of the main reads; it
validates, and the docs UI needs no network. (A client generated from it: test_generated_client;
the fuzz test: test_fuzz.)"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import msgspec
import pytest
from litestar.testing import TestClient

from starosta.events.kinds import KIND_NAMES, KINDS, AnyClaim
from starosta.service.api.entities import PersonIn, PlaceIn, SourceIn
from starosta.service.api.app import create_app
from starosta.service.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
API_MD = Path(os.environ["STAROSTA_API_MD"]) if os.environ.get("STAROSTA_API_MD") else None
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


def test_every_served_endpoint_of_the_shared_api_is_documented(schema: dict[str, Any]) -> None:
    """The brief the API follows lives outside the repository (.ci/run sets STAROSTA_API_MD to
    ../shared/API.md); the repository documents its own API in the README and the document."""
    if API_MD is None:
        pytest.skip("STAROSTA_API_MD is not set: it names the API brief (API.md) kept outside "
                    "the repository, e.g. STAROSTA_API_MD=../shared/API.md")
    assert API_MD.is_file(), f"STAROSTA_API_MD={API_MD} is not a file"
    named = endpoints_anywhere(API_MD.read_text(encoding="utf-8"))
    assert {("post", "/claims"), ("get", "/events/head"), ("get", "/places/{}/population")} <= named
    existing = named & served()
    assert existing >= {("post", "/claims"), ("post", "/sources"), ("get", "/persons")}
    missing = existing - documented(schema)
    assert not missing, f"API.md endpoints served but undocumented: {sorted(missing)}"


def pages_only() -> set[tuple[str, str]]:
    """The routes that serve only pages for browsers (service.pages: `opt={"page": True}`) and
    their static files: outside the API's document by design."""
    app = create_app(Settings(db=":memory:"))
    return {(method.lower(), normal(route.path)) for route in app.routes
            for handler in getattr(route, "route_handlers", ())
            if handler.opt.get("page") or route.path.startswith("/static")
            for method in getattr(handler, "http_methods", ()) if method not in ("OPTIONS", "HEAD")}


def test_every_served_endpoint_is_documented(schema: dict[str, Any]) -> None:
    ours = {(m, p) for m, p in served() - pages_only() if not p.startswith("/schema")}
    assert ("get", "/") in pages_only()
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
        branches = [amount, *amount.get("oneOf", []), *amount.get("anyOf", [])]
        types = {o.get("type") for o in branches}
        assert "string" in types and not types & {"number", "integer"}, (name, amount)
        assert amount.get("pattern") or all(o.get("pattern") for o in branches
                                            if o.get("type") == "string"), (name, amount)
    ranged = schema["components"]["schemas"]["AllowanceClaim"]["properties"]["amount"]
    assert any(o.get("$ref", "").endswith("/AmountRange") for o in ranged["anyOf"]), ranged
    low = schema["components"]["schemas"]["AmountRange"]["properties"]["min"]
    assert low["type"] == "string" and low["pattern"], low


def test_the_claim_union_declares_its_discriminator(schema: dict[str, Any]) -> None:
    body = schema["paths"]["/claims"]["post"]["requestBody"]
    node = resolve(schema, body["content"]["application/json"]["schema"])
    assert node["discriminator"]["propertyName"] == "kind"
    mapping = node["discriminator"].get("mapping", {})
    assert set(mapping) == set(KIND_NAMES)


# -- the document tells the truth (issue 9) -----------------------------------------------------

from openapi_spec_validator import validate as validate_spec  # noqa: E402

from starosta.service.api import openapi  # noqa: E402
from starosta.service.api.errors import Problem  # noqa: E402

PROBLEM = "application/problem+json"


def operations(schema: dict[str, Any]):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                yield path, method, operation


def test_the_document_validates(schema: dict[str, Any]) -> None:
    validate_spec(schema)  # raises on any violation of OpenAPI 3.1
    assert schema["openapi"].startswith("3.1")


def test_every_error_is_problem_json_with_an_example(schema: dict[str, Any]) -> None:
    count = 0
    for path, method, operation in operations(schema):
        answers = operation["responses"]
        assert {"401", "503"} <= set(answers), (method, path, sorted(answers))
        for status, answer in answers.items():
            if status.startswith("2") or status == "304":
                continue
            content = answer["content"]
            assert list(content) == [PROBLEM], (method, path, status)
            assert content[PROBLEM]["schema"] == {"$ref": "#/components/schemas/Problem"}
            for example in content[PROBLEM]["examples"].values():
                decoded = msgspec.convert(example["value"], Problem)
                assert decoded.status == int(status), (method, path, status)
                count += 1
    assert count >= 33 * 3
    problem = schema["components"]["schemas"]["Problem"]
    assert {"title", "status", "detail", "type"} <= set(problem["required"])


def test_no_error_in_litestar_s_own_shape_is_left(schema: dict[str, Any]) -> None:
    """openapi-python-client could not parse Litestar's default 400 (an array with
    additionalProperties inside a type union); the server never sends it."""
    text = msgspec.json.encode(schema).decode()
    assert '"status_code"' not in text and '"extra"' not in text


def status_set(schema: dict[str, Any], method: str, path: str) -> set[int]:
    return {int(s) for s in schema["paths"][path][method]["responses"]}


def test_the_statuses_the_server_answers_are_documented(tmp_path, schema: dict[str, Any]) -> None:
    """Provoke each documented error on a real archive; the document lists what came back."""
    from starosta.service.domain.access import create_tokens

    db = str(tmp_path / "archive.db")
    with TestClient(create_app(Settings(db=db))):
        pass  # migrates the new file
    tokens = {role: create_tokens(db, [(f"t-{role}", role, None)])[0][1]
              for role in ("contributor", "reviewer")}
    with TestClient(create_app(Settings(db=db, max_body_bytes=4096))) as client:
        c = {"Authorization": f"Bearer {tokens['contributor']}"}
        r = {"Authorization": f"Bearer {tokens['reviewer']}"}
        seen: list[tuple[str, str, int]] = []

        def call(method: str, path: str, template: str, **kw: Any):
            answer = client.request(method, path, **kw)
            seen.append((method.lower(), template, answer.status_code))
            if answer.status_code >= 400:
                assert answer.headers["content-type"].startswith(PROBLEM), answer.text
            return answer

        source = call("POST", "/sources", "/sources", headers=c, json={
            "csl": {"type": "document", "title": "Test notes (not historical)"}}).json()["id"]
        person = call("POST", "/persons", "/persons", headers=c, json={
            "name": "Test Person (not historical)", "citation": {"source": source}}).json()["id"]
        claim = call("POST", "/claims", "/claims", headers=c, json={
            "kind": "occupation", "person": person, "occupation": "test (not historical)",
            "citation": {"source": source}}).json()["id"]
        call("GET", "/persons", "/persons", headers={"Authorization": "Bearer wrong"})  # 401
        call("POST", f"/claims/{claim}/approve", "/claims/{claim_id}/approve", headers=c)  # 403
        call("GET", "/persons/P-NOBODY", "/persons/{person_id}")  # 404
        call("POST", "/claims", "/claims", headers=c, json={  # 404: an unknown source
            "kind": "occupation", "person": person, "occupation": "x",
            "citation": {"source": "S-NOWHERE"}})
        call("POST", f"/claims/{claim}/approve", "/claims/{claim_id}/approve", headers=r)
        call("POST", f"/claims/{claim}/approve", "/claims/{claim_id}/approve", headers=r)  # 409
        call("POST", "/claims", "/claims", headers={**c, "Content-Type": "application/json"},
             content=b"{not json")  # 400
        call("POST", "/claims", "/claims", headers={**c, "Content-Type": "application/json"},
             content=b'{"reason": "' + b"x" * 5000 + b'"}')  # 413
        call("POST", "/persons", "/persons", headers=c, json={  # 422: a field the body refuses
            "name": "x", "citation": {"source": source}, "extra": 1})
        call("GET", "/places/PL-X/population", "/places/{place_id}/population")  # 422: `at`
        call("GET", "/claims", "/claims", params={"kind": "nope"})  # 422: not a kind
        etag = call("GET", f"/persons/{person}/biography", "/persons/{person_id}/biography").headers["ETag"]
        call("GET", f"/persons/{person}/biography", "/persons/{person_id}/biography",
             headers={"If-None-Match": etag})  # 304
    statuses = {status for _, _, status in seen}
    assert {200, 201, 304, 400, 401, 403, 404, 409, 413, 422} <= statuses, seen
    for method, template, status in seen:
        assert status in status_set(schema, method, template), (method, template, status)


def test_the_bearer_scheme_is_declared_where_tokens_are_read(schema: dict[str, Any]) -> None:
    assert schema["components"]["securitySchemes"]["bearer"] == {
        "type": "http", "scheme": "bearer", "description": schema["components"][
            "securitySchemes"]["bearer"]["description"]}
    app = create_app(Settings(db=":memory:"))
    guarded = {(m, p) for p, m, h in openapi.operations(app) if openapi.role_of(h)}
    assert ("post", "/claims") in guarded and ("post", "/claims/{claim_id}/approve") in guarded
    assert ("get", "/persons/{person_id}/biography") not in guarded
    for path, method, operation in operations(schema):
        if (method, path) in guarded:
            assert operation["security"] == [{"bearer": []}], (method, path)
            assert "403" in operation["responses"], (method, path)
        else:  # optional: a token shows the caller's own pending claims
            assert operation["security"] == [{}, {"bearer": []}], (method, path)


def test_request_bodies_are_closed_as_the_server_is(schema: dict[str, Any], client: TestClient,
                                                   db_path: str) -> None:
    app = create_app(Settings(db=":memory:"))
    structs = openapi.request_structs(app)
    assert {"CustodyClaim", "Citation", "PersonIn", "SourceIn", "MergeIn", "ApproveIn"} <= set(structs)
    for name in structs:
        assert schema["components"]["schemas"][name].get("additionalProperties") is False, name
    # and the server does refuse an extra property, naming it
    answer = client.post("/claims/approve", json={"ids": ["C-1"], "extra": True},
                         headers={"Authorization": "Bearer nobody"})
    assert answer.status_code == 401  # the token first; with one, the field:
    from starosta.service.domain.access import create_tokens

    token = create_tokens(db_path, [("closed-check", "reviewer", None)])[0][1]
    answer = client.post("/claims/approve", json={"ids": ["C-1"], "extra": True},
                         headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "extra"


def test_fixed_values_are_enums(schema: dict[str, Any]) -> None:
    kind = next(p for p in schema["paths"]["/claims"]["get"]["parameters"] if p["name"] == "kind")
    assert set(kind["schema"]["enum"]) - {None} == set(KIND_NAMES)
    status = next(p for p in schema["paths"]["/claims"]["get"]["parameters"] if p["name"] == "status")
    assert set(status["schema"]["enum"]) - {None} == {"pending", "approved", "rejected",
                                                      "contested", "disputed", "retracted"}
    custody = schema["components"]["schemas"]["CustodyClaim"]["properties"]["custody"]
    assert custody["enum"], custody


def test_every_text_a_request_holds_is_bounded() -> None:
    """The input policy: every string has a length limit, every list and map a count limit
    (bodies are also bounded in bytes and depth); so is the free CSL map's every key."""
    from msgspec import inspect as mi

    def unbounded(node: Any, path: str) -> list[str]:
        if isinstance(node, mi.StrType):
            return [] if node.max_length is not None else [path]
        if isinstance(node, mi.UnionType):
            return [u for member in node.types for u in unbounded(member, path)]
        if isinstance(node, (mi.ListType, mi.VarTupleType, mi.SetType, mi.FrozenSetType)):
            return ([] if node.max_length is not None else [f"{path} (count)"]) + unbounded(
                node.item_type, f"{path}[]")
        if isinstance(node, mi.DictType):
            return ([] if node.max_length is not None else [f"{path} (count)"]) + unbounded(
                node.key_type, f"{path} key")
        return []

    app = create_app(Settings(db=":memory:"))
    found = []
    for name, cls in openapi.request_structs(app).items():
        for field in mi.type_info(cls).fields:
            found += unbounded(field.type, f"{name}.{field.encode_name}")
    assert not found, f"unbounded request fields: {found}"


def test_the_docs_page_needs_no_network(client: TestClient) -> None:
    page = client.get("/schema")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    urls = re.findall(r"""(?:src|href)=["']([^"']+)""", page.text)
    assert len(urls) >= 3 and all(u.startswith("/schema/assets/") for u in urls), urls
    assert "cdn." not in page.text and "fonts.googleapis" not in page.text
    for url in urls:
        asset = client.get(url)
        assert asset.status_code == 200 and len(asset.content) > 1000, url
    bundle = client.get("/schema/assets/swagger-ui-bundle.js").text
    assert "SwaggerUIBundle" in bundle
    # the page embeds the completed document, not Litestar's raw one
    assert '"application/problem+json"' in page.text and '"bearer"' in page.text


def test_options_lists_every_method_of_a_path(client: TestClient) -> None:
    answer = client.options("/claims")
    assert answer.status_code == 204
    assert set(answer.headers["allow"].replace(" ", "").split(",")) == {"GET", "POST", "OPTIONS"}


def test_the_main_reads_have_examples_that_decode(schema: dict[str, Any]) -> None:
    from starosta.projections.biographies import Biography
    from starosta.projections.claims import ClaimOut
    from starosta.projections.ledger import Ledger
    from starosta.projections.population import Population
    from starosta.projections.search import SearchPage

    types = {"/persons/{person_id}/biography": Biography, "/claims/{claim_id}": ClaimOut,
             "/funds/{fund_id}/ledger": Ledger, "/places/{place_id}/population": Population,
             "/persons": SearchPage}
    for path, type_ in types.items():
        media = schema["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
        (example,) = media["examples"].values()
        msgspec.convert(example["value"], type_)  # raises when the example is not an answer


def test_every_app_serves_its_own_copy_of_the_document_built_once(tmp_path: Path) -> None:
    """create_app builds the document once per process (openapi.install): a second app gets a
    copy equal to a document built afresh for it, not the first app's object; an app with
    other handlers gets its own document."""
    from litestar import Litestar, get

    from starosta.service.api import openapi

    first = create_app(Settings(db=str(tmp_path / "a.db")))
    second = create_app(Settings(db=str(tmp_path / "b.db")))
    document = openapi.document_of(second)
    assert document is not openapi.document_of(first)
    fresh = second.openapi_schema.to_schema()
    openapi.complete(fresh, second, openapi.response_examples())
    assert document == fresh

    @get("/only-here", sync_to_thread=False)
    def only_here() -> str:
        return "x"

    other = Litestar(route_handlers=[only_here], openapi_config=first.openapi_config)
    assert openapi._fingerprint(other) != openapi._fingerprint(first)
