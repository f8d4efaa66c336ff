"""The OpenAPI document, completed so that it tells the truth about the server.

Litestar documents each operation's success and, for handlers with parameters, a 400 in its
own error shape that this server never sends. Here, in one place, every operation gets the
statuses it can answer, each as application/problem+json with the Problem schema and an
example; the bearer scheme where a token is required (and as an option where a token changes
what a read shows); the request headers the server reads in its hooks (Idempotency-Key,
If-Match, X-Request-Id) and the response headers it sends (ETag, Idempotent-Replayed,
X-Request-Id); closed request schemas (`additionalProperties: false`) for every struct that
refuses unknown fields; the
text/csv alternative of the reads that have one; the claim union's discriminator; and
examples of the main reads.

Which statuses an operation answers follows from how the app is built, so it is derived here
from the route handlers rather than written beside each of them:

- every operation: 401 (a token that is not valid is refused even on public reads), 429 (a
  per-client limit: past STAROSTA_AUTH_FAILURES_MAX failed authentications from the client,
  a failure answers 429 with Retry-After) and 503 (the store cannot answer: a full disk, an
  I/O error);
- with a body: 400 (not JSON, not UTF-8, nested too deeply), 413 (over the body limit), 422,
  404 (an id it refers to names nothing: the API's rule is "unknown ids 404");
- with query or path parameters, and every GET (its `min_position`): 422; with a path
  parameter: 404;
- POST: 409 (a conflicting review, a stale If-Match, an Idempotency-Key reused for another
  body) and the Idempotency-Key header;
- a role guard (service.api.auth.requires): 403 and the bearer scheme required;
- handler `opt` flags: `conditional` (304, ETag; the handler takes If-None-Match as a
  parameter), `if_match` (If-Match, ETag),
  `etag` (ETag), `csv` (a text/csv alternative), `duplicates` (a registration: its 409 may be
  `/problems/possible-duplicate` with `candidates`).
"""

from __future__ import annotations

import copy
import json
import re
from importlib import resources
from typing import Any

import msgspec
from litestar import Litestar, Request, get
from litestar.params import FromPath
from litestar.datastructures import CacheControlHeader
from litestar.exceptions import NotFoundException
from litestar.handlers import HTTPRouteHandler
from litestar.response import File
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin
from litestar.routes import HTTPRoute

from starosta.events.kinds import KINDS
from starosta.service.api.errors import PROBLEM, Problem, clipped
from starosta.service.api import fields
from starosta.service.feed import MAX_POSITION

BEARER = "bearer"
REF = "#/components/schemas/{name}"
METHODS = ("get", "post", "put", "patch", "delete")
# Parameters Litestar fills from the request, not from the client
INJECTED = {"request", "store", "data", "state", "scope", "socket", "headers", "cookies"}

# What each status means, as the response's description
MEANING = {
    304: "Not modified: the document still has the ETag named in If-None-Match.",
    400: "Malformed request: the body is not JSON, not UTF-8, or nested too deeply.",
    401: "Unauthorized: no bearer token where one is needed, or a token that is not valid "
         "(refused on every operation, public reads included).",
    403: "Forbidden: the token's role is below the one this operation needs, or the rule of "
         "the archive forbids it (nobody reviews their own claim).",
    404: "Not found: nothing with that id (in the path or the body) is visible to the caller.",
    409: "Conflict: the state moved (another review landed first, a stale If-Match), the "
         "request contradicts the archive, or its Idempotency-Key was used for another body.",
    428: "Precondition required: this change is made only against the version the caller "
         "read: send its ETag in If-Match.",
    413: "Request body too large: over the configured limit (STAROSTA_MAX_BODY_BYTES).",
    422: "Invalid request: each invalid field is named in `errors` with its value.",
    # i23-limits
    429: "Too many requests: this client (its address, an IPv6 client's /64) is past a "
         "per-client limit, which the detail names with its setting; retry after the "
         "Retry-After seconds. On every operation: past STAROSTA_AUTH_FAILURES_MAX (20) failed "
         "authentications in STAROSTA_AUTH_FAILURE_WINDOW (60) seconds, a token that is not "
         "valid answers 429 instead of 401 (a valid token is always served). On an expensive "
         "read (an `as_of` or `include=pending` biography, a page over 100 rows, a "
         "population over a span): past STAROSTA_EXPENSIVE_PER_CLIENT (2) such reads of this "
         "client running or queued at once.",
    503: "Service unavailable: the store cannot write or read now (a full disk, an I/O "
         "error), or a GET's `min_position` was not reached within 2 s (a read replica "
         "behind); nothing was half done. Retry after the Retry-After seconds.",
}

EXAMPLES: dict[int, dict[str, Any]] = {
    400: {"title": "Malformed request", "status": 400, "type": "about:blank",
          "detail": "the JSON body is nested too deeply: no body of this API nests more than a "
                    "few levels", "instance": "/claims"},
    401: {"title": "Unauthorized", "status": 401, "type": "about:blank",
          "detail": "this needs a bearer token with the contributor role", "instance": "/claims"},
    403: {"title": "Forbidden", "status": 403, "type": "about:blank",
          "detail": "this needs the reviewer role; ada is a contributor",
          "instance": "/claims/C-00000001/approve"},
    404: {"title": "Not found", "status": 404, "type": "about:blank",
          "detail": "person_id='P-00000009': no person with that id",
          "instance": "/persons/P-00000009",
          "errors": [{"field": "person_id", "in": "path", "message": "no person with that id",
                      "value": "P-00000009"}]},
    409: {"title": "Conflict", "status": 409, "type": "about:blank",
          "detail": "claim C-00000001 is approved: only a pending or contested claim can be "
                    "approved", "instance": "/claims/C-00000001/approve"},
    413: {"title": "Request body too large", "status": 413, "type": "about:blank",
          "detail": "the request body is over the configured limit (Request Entity Too Large)",
          "instance": "/claims"},
    428: {"title": "Precondition required", "status": 428, "type": "about:blank",
          "detail": "ranking C-00000001 needs If-Match: the claim's ETag as you read it (it is "
                    "at version 2)", "instance": "/claims/C-00000001/rank"},
    422: {"title": "Invalid request", "status": 422, "type": "about:blank",
          "detail": "start=\"1940-13\": not an EDTF date", "instance": "/claims",
          "errors": [{"field": "start", "in": "body", "message": "not an EDTF date",
                      "value": "1940-13"}]},
    429: {"title": "Too many requests", "status": 429, "type": "about:blank",
          "detail": "the bearer token is unknown or revoked; and this client has failed 20 "
                    "authentications in 60 seconds, the most answered (STAROSTA_AUTH_FAILURES_MAX, "
                    "STAROSTA_AUTH_FAILURE_WINDOW): retry after 37 seconds", "instance": "/claims"},
    503: {"title": "Service unavailable", "status": 503, "type": "about:blank",
          "detail": "the archive cannot write now: database or disk is full",
          "instance": "/claims"},
}

DUPLICATE_MEANING = (" A registration whose name (or alias) looks like an existing record's "
                     "label or public name (the same Unicode TR39 skeleton of its case-folded "
                     "form) answers 409 with type `/problems/possible-duplicate` and "
                     "`candidates` [{id, label, matched}], unless its `not_same_as` names every "
                     "candidate.")
DUPLICATE_EXAMPLE = {
    "title": "Possible duplicate", "status": 409, "type": "/problems/possible-duplicate",
    "detail": "name=\"Mария Спиридонова\": looks like the name of P-0000000A (\"Мария "
              "Спиридонова\"): if it is another person, send the request again with "
              "\"not_same_as\": [\"P-0000000A\"]",
    "instance": "/persons",
    "errors": [{"field": "not_same_as", "in": "body", "value": ["P-0000000A"],
                "message": "name each candidate here if it is another record"}],
    "candidates": [{"id": "P-0000000A", "label": "Мария Спиридонова",
                    "matched": "Мария Спиридонова"}]}

HEADERS_OUT = {
    "ETag": {"description": "The version of this document or claim (for If-None-Match and "
                            "If-Match)", "schema": {"type": "string"}},
    "Idempotent-Replayed": {"description": "`true` when this is the stored answer to an earlier "
                                           "request with the same Idempotency-Key",
                            "schema": {"type": "string", "enum": ["true"]}},
    "Retry-After": {"description": "Seconds to wait before retrying",
                    "schema": {"type": "string", "pattern": "^[0-9]+$"}},
    "X-Request-Id": {"description": "The request id stored with the write's events (sent with "
                                    "X-Request-Id only): the one sent, or the server's own when "
                                    "the one sent was no short token",
                     "schema": {"type": "string", "pattern": "^[A-Za-z0-9._:-]{1,64}$"}},
}

HEADERS_IN = {
    "Idempotency-Key": {
        "name": "Idempotency-Key", "in": "header", "required": False,
        "description": "Any string of 1-200 characters. A retry with the same key and body "
                       "answers the stored answer (Idempotent-Replayed: true) and commits "
                       "nothing again; the same key with another body is 422. Keys are scoped "
                       "to the token's name and the path.",
        "schema": {"type": "string", "minLength": 1, "maxLength": 200}},
    "X-Request-Id": {
        "name": "X-Request-Id", "in": "header", "required": False,
        "description": "A request id to store with the write's events (as proxies make them: "
                       "1-64 of A-Z a-z 0-9 . _ : -); any other value is replaced by one the "
                       "server makes, sent back in the answer's X-Request-Id.",
        "schema": {"type": "string"}},
    "If-Match": {
        "name": "If-Match", "in": "header", "required": False,
        "description": "The claim's ETag as read: the review is refused (409) if the claim "
                       "changed since.",
        "schema": {"type": "string", "maxLength": 40}},
}


def response_examples() -> dict[str, Any]:
    """Examples of the main reads, keyed "method path" (examples.json: see its `_note`)."""
    text = (resources.files(__package__) / "examples.json").read_text(encoding="utf-8")
    return {key: value for key, value in json.loads(text).items() if not key.startswith("_")}


def install(app: Litestar) -> None:
    """Complete the app's OpenAPI document once, when the app is built (a rule that cannot be
    applied fails then, not on a reader's request); the render plugins below serve it.

    Building it takes most of an app's construction (about 1 s), and every app create_app
    builds has the same handlers, so it is built once per process for a given set of
    handlers and configuration (`_fingerprint`); each app gets its own copy."""
    key = _fingerprint(app)
    document = _DOCUMENTS.get(key)
    if document is None:
        document = app.openapi_schema.to_schema()
        complete(document, app, response_examples())
        _DOCUMENTS[key] = document
    app.state.openapi_document = copy.deepcopy(document)
    app.state.query_names = query_names(document)


def query_names(document: dict[str, Any]) -> dict[tuple[str, str], frozenset[str]]:
    """(path, METHOD) -> the query parameters the document gives that operation: the only
    ones it takes (common.unknown_query refuses any other with 422 naming it)."""
    return {(path, method.upper()): frozenset(
                p["name"] for p in operation.get("parameters", ()) if p.get("in") == "query")
            for path, item in document.get("paths", {}).items()
            for method, operation in item.items() if method in METHODS}


_DOCUMENTS: dict[tuple, dict[str, Any]] = {}


def _fingerprint(app: Litestar) -> tuple:
    """What an app's OpenAPI document is made from: its OpenAPI configuration and, per route,
    its path, methods and handler functions (the same objects for every app create_app
    builds, and different for an app with other handlers; kept in the key, so never reused),
    leaving out those the document leaves out (OPTIONS, made anew for each app)."""
    config = app.openapi_config
    assert config is not None  # create_app always configures OpenAPI
    routes = tuple(
        (route.path, tuple(sorted(getattr(route, "methods", ()))),
         frozenset(getattr(handler.fn, "__func__", handler.fn)  # a controller's: its function
               for handler in getattr(route, "route_handlers", ())
               if handler.resolve_include_in_schema()))
        for route in app.routes)
    return (config.title, config.version, config.description, config.path,
            routes)


def document_of(app: Litestar) -> dict[str, Any]:
    """The completed document of an app built by create_app."""
    return app.state.openapi_document


class JsonDocument(JsonRenderPlugin):
    """/schema/openapi.json: the completed document."""

    def render(self, request: Request, openapi_schema: dict[str, Any]) -> bytes:
        return self.render_json(request, document_of(request.app))


class SwaggerPage(SwaggerRenderPlugin):
    """/schema: Swagger UI on the completed document, its files served by the app itself."""

    @staticmethod
    def render_json(request: Request, openapi_schema: dict[str, Any]) -> bytes:
        return SwaggerRenderPlugin.render_json(request, document_of(request.app))


def complete(document: dict[str, Any], app: Litestar, response_examples: dict[str, Any]) -> None:
    examples = dict(response_examples)
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    _, problem_schemas = msgspec.json.schema_components([Problem], ref_template=REF)
    schemas.update(problem_schemas)
    components.setdefault("securitySchemes", {})[BEARER] = {
        "type": "http", "scheme": "bearer",
        "description": "A token from `starosta token create` (the demo's tokens: see the README)."}
    for path, method, handler in operations(app):
        operation = document["paths"][path][method]
        _answers(operation, path, method, handler)
        _headers(operation, method, handler)
        _security(operation, handler)
        _alternatives(operation, handler)
        _event_stream(operation, handler)
        data = handler.parsed_fn_signature.parameters.get("data")
        if data is not None and data.has_default:  # a body the operation can do without
            operation["requestBody"]["required"] = False
        example = examples.pop(f"{method} {path}", None)
        if example is not None:
            _success(operation)["content"]["application/json"]["examples"] = {
                "demo": {"summary": "from the demo archive", "value": example}}
    if examples:  # an example for no operation: a path renamed under it
        raise LookupError(f"response examples for no operation: {sorted(examples)}")
    _close_request_schemas(document, app)
    _constrain_unions(document, app)
    _discriminate_claims(document)
    fields.describe(document)  # every property described (issue 22)


def operations(app: Litestar):
    """(OpenAPI path, method, handler) of every documented operation."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            if not handler.resolve_include_in_schema():
                continue
            path = _openapi_path(route.path)
            for method in sorted(handler.http_methods):
                if method.lower() in METHODS:
                    yield path, method.lower(), handler


def _openapi_path(path: str) -> str:
    """'/claims/{claim_id:str}' as the document names it: '/claims/{claim_id}'."""
    return re.sub(r"\{([^}:]+):[^}]+\}", r"{\1}", path)


def role_of(handler: HTTPRouteHandler) -> str | None:
    """The role a handler's guards require (service.api.auth.requires), or None for public."""
    roles = [getattr(guard, "role", None) for guard in handler.resolve_guards()]
    return next((role for role in roles if role), None)


def statuses(path: str, method: str, handler: HTTPRouteHandler) -> set[int]:
    """The error statuses an operation can answer (see the module's docstring)."""
    params = handler.parsed_fn_signature.parameters
    has_body = "data" in params
    has_input = any(name not in INJECTED for name in params) or has_body
    found = {401, 429, 503}
    if has_body or method == "post":
        found |= {400, 413, 422}
    if has_input or method == "get":  # every GET takes min_position
        found.add(422)
    if "{" in path or has_body:  # an id in the path, or one a body refers to
        found.add(404)
    if method == "post":
        found.add(409)
    if role_of(handler):
        found.add(403)
    if handler.opt.get("conditional"):
        found.add(304)
    if handler.opt.get("if_match") == "required":
        found.add(428)
    return found


def _success(operation: dict[str, Any]) -> dict[str, Any]:
    return next(v for k, v in operation["responses"].items() if k.startswith("2"))


def _answers(operation: dict[str, Any], path: str, method: str, handler: HTTPRouteHandler) -> None:
    responses = operation["responses"]
    for code in [c for c in responses if not c.startswith("2")]:
        del responses[code]  # Litestar's own error shape, which this server never sends
    for status in sorted(statuses(path, method, handler)):
        if status == 304:
            responses["304"] = {"description": MEANING[304],
                                "headers": {"ETag": HEADERS_OUT["ETag"]}}
            continue
        example = dict(EXAMPLES[status], instance=path)
        answer: dict[str, Any] = {"description": MEANING[status], "content": {PROBLEM: {
            "schema": {"$ref": REF.format(name="Problem")},
            "examples": {str(status): {"summary": EXAMPLES[status]["title"], "value": example}}}}}
        if status in (429, 503):
            answer["headers"] = {"Retry-After": HEADERS_OUT["Retry-After"]}
        if status == 409 and handler.opt.get("duplicates"):
            answer["description"] += DUPLICATE_MEANING
            answer["content"][PROBLEM]["examples"]["possible-duplicate"] = {
                "summary": "Possible duplicate", "value": dict(DUPLICATE_EXAMPLE, instance=path)}
        responses[str(status)] = answer


MIN_POSITION = {
    "name": "min_position", "in": "query", "required": False,
    "description": "Answer only once the read models have applied this log position (the "
                   "`position` a write answered): read-your-writes across servers and read "
                   "replicas (STAROSTA_READ_DB). Waits up to 2 s, then 503 with Retry-After; "
                   "a position past the log's head is 422.",
    "schema": {"type": "integer", "minimum": 0, "maximum": MAX_POSITION},
}


def _headers(operation: dict[str, Any], method: str, handler: HTTPRouteHandler) -> None:
    wanted = []
    if method == "get":
        operation.setdefault("parameters", []).append(copy.deepcopy(MIN_POSITION))
    if method == "post":
        wanted += ["Idempotency-Key", "X-Request-Id"]
    if handler.opt.get("if_match"):
        wanted.append("If-Match")
    parameters = operation.setdefault("parameters", [])
    parameters += [copy.deepcopy(HEADERS_IN[name]) for name in wanted]
    if handler.opt.get("if_match") == "required":
        next(p for p in parameters if p["name"] == "If-Match")["required"] = True
    if not parameters:
        del operation["parameters"]
    headers = _success(operation).setdefault("headers", {})
    if method == "post":
        headers["Idempotent-Replayed"] = HEADERS_OUT["Idempotent-Replayed"]
        headers["X-Request-Id"] = HEADERS_OUT["X-Request-Id"]
    if handler.opt.get("conditional") or handler.opt.get("if_match") or handler.opt.get("etag"):
        headers["ETag"] = HEADERS_OUT["ETag"]


def _security(operation: dict[str, Any], handler: HTTPRouteHandler) -> None:
    # a token is required by a role guard; elsewhere it is optional (it can show more)
    operation["security"] = [{BEARER: []}] if role_of(handler) else [{}, {BEARER: []}]


def _alternatives(operation: dict[str, Any], handler: HTTPRouteHandler) -> None:
    if handler.opt.get("csv"):
        _success(operation)["content"]["text/csv"] = {"schema": {
            "type": "string",
            "description": "with format=csv or Accept: text/csv; cells that could start a "
                           "spreadsheet formula are neutralised (OWASP)"}}


# One Server-Sent Event of the live feed as schemathesis and other SSE readers parse it
SERVER_SENT_EVENT = {
    "type": "object", "required": ["id", "event", "data"],
    "description": "One event of the stream: `id` is the position (send it back as Last-Event-ID), "
                   "`event` the event type (`redacted` for a redacted row), `data` the item GET "
                   "/events gives the caller, as JSON. Comment lines (`: keep-alive`) keep an idle stream open; the stream "
                   "closes after `timeout` seconds.",
    "properties": {
        "id": {"type": "string", "pattern": "^[0-9]+$"},
        "event": {"type": "string", "examples": ["claim.submitted", "redacted"]},
        "data": {"type": "string", "contentMediaType": "application/json",
                 "contentSchema": {"$ref": REF.format(name="LogEvent")}},
        "retry": {"type": "integer", "minimum": 0}}}


def _event_stream(operation: dict[str, Any], handler: HTTPRouteHandler) -> None:
    """A live feed (handler opt `event_stream`): its 200 is text/event-stream, one event per
    position (before OpenAPI 3.2, a stream's `schema` describes each event); its 503 also
    says that every stream the server allows is open."""
    if not handler.opt.get("event_stream"):
        return
    success = _success(operation)
    success["description"] = "A stream of Server-Sent Events, closed after `timeout` seconds"
    success["content"] = {"text/event-stream": {"schema": SERVER_SENT_EVENT}}
    unavailable = operation["responses"]["503"]
    unavailable["description"] = (MEANING[503] + " Also when STAROSTA_MAX_STREAMS live feeds "
                                  "are open already.")
    operation["responses"]["429"]["description"] = (
        MEANING[429] + " Also when the client address holds STAROSTA_MAX_STREAMS_PER_CLIENT (4) "
        "live feeds already, or the token STAROSTA_MAX_STREAMS_PER_TOKEN (4).")


def _structs(tp: Any, seen: dict[str, type[msgspec.Struct]]) -> None:
    """Collect every Struct reachable from a type (by msgspec's own type inspection)."""
    info = msgspec.inspect.type_info(tp)
    stack = [info]
    while stack:
        node = stack.pop()
        if isinstance(node, msgspec.inspect.StructType):
            if node.cls.__name__ in seen:
                continue
            seen[node.cls.__name__] = node.cls
            stack += [f.type for f in node.fields]
        elif isinstance(node, msgspec.inspect.UnionType):
            stack += list(node.types)
        elif isinstance(node, (msgspec.inspect.ListType, msgspec.inspect.SetType,
                               msgspec.inspect.FrozenSetType, msgspec.inspect.VarTupleType)):
            stack.append(node.item_type)
        elif isinstance(node, msgspec.inspect.DictType):
            stack.append(node.value_type)
        elif isinstance(node, msgspec.inspect.TupleType):
            stack += list(node.item_types)


def request_structs(app: Litestar) -> dict[str, type[msgspec.Struct]]:
    """Every Struct a request body can hold, by name."""
    found: dict[str, type[msgspec.Struct]] = {}
    for _, _, handler in operations(app):
        data = handler.parsed_fn_signature.parameters.get("data")
        if data is not None:
            _structs(data.annotation, found)
    return found


def _close_request_schemas(document: dict[str, Any], app: Litestar) -> None:
    """`additionalProperties: false` where the server refuses unknown fields (all of ours)."""
    schemas = document["components"]["schemas"]
    for name, cls in request_structs(app).items():
        if not cls.__struct_config__.forbid_unknown_fields:
            continue
        if name not in schemas:  # a rename by Litestar would leave a request schema open
            raise LookupError(f"no component schema named {name} for the request struct {cls}")
        schemas[name]["additionalProperties"] = False


def _constrain_unions(document: dict[str, Any], app: Litestar) -> None:
    """A request field whose type is a union of a constrained value and a struct (a count or
    {"min", "max"}, a via item) loses its constraints in Litestar's schema: take that field's
    schema from msgspec's own, which keeps them."""
    schemas = document["components"]["schemas"]
    structs = request_structs(app)
    _, generated = msgspec.json.schema_components(list(structs.values()), ref_template=REF)
    for name, cls in structs.items():
        mine, theirs = schemas.get(name, {}).get("properties", {}), generated[name]["properties"]
        for field, schema in theirs.items():
            if field in mine and _has_union(schema):
                mine[field] = schema
    for name, schema in generated.items():
        schemas.setdefault(name, schema)


def _has_union(schema: Any) -> bool:
    """A union of two or more types besides null, anywhere in the schema."""
    if isinstance(schema, dict):
        branches = [b for b in schema.get("anyOf", schema.get("oneOf")) or [] if b != {"type": "null"}]
        return len(branches) > 1 or any(_has_union(v) for v in schema.values())
    if isinstance(schema, list):
        return any(_has_union(v) for v in schema)
    return False


def _discriminate_claims(document: dict[str, Any]) -> None:
    """Mark the claim union as discriminated by `kind` (Litestar emits a bare oneOf), so that
    client generators see it."""
    body = document["paths"]["/claims"]["post"]["requestBody"]["content"]["application/json"]
    refs = {ref["$ref"].rsplit("/", 1)[-1]: ref["$ref"] for ref in body["schema"]["oneOf"]}
    mapping = {k.__struct_config__.tag: refs[k.__name__] for k in KINDS if k.__name__ in refs}
    body["schema"]["discriminator"] = {"propertyName": "kind", "mapping": mapping}


# -- the API documentation UI, with no network --------------------------------------------------

ASSETS = "/schema/assets"


def swagger_assets():
    """The Swagger UI 5 files shipped by the swagger-ui-py package, served by the app itself
    (Litestar's default pages load them from a CDN, blank on a machine without internet).

    Only the files listed when the app is built are served, looked up by name: any other
    name, a NUL byte or 300 characters included, is a 404 and never reaches the file system
    (a static-files router stats the name it is sent, and the OS's errors were 500s)."""
    directory = resources.files("swagger_ui") / "static"
    files = {entry.name: str(entry) for entry in directory.iterdir() if entry.is_file()}

    @get(f"{ASSETS}/{{name:str}}", include_in_schema=False, name="swagger-assets",
         sync_to_thread=False, cache_control=CacheControlHeader(max_age=3600))
    def asset(name: FromPath[str]) -> File:
        path = files.get(name)
        if path is None:
            raise NotFoundException(f"{ASSETS}/{clipped(name)!r}: no such file of the API's "
                                    "documentation page")
        return File(path, filename=name, content_disposition_type="inline")

    return asset


def render_plugins() -> list[JsonRenderPlugin | SwaggerRenderPlugin]:
    return [JsonDocument(), SwaggerPage(
        path="/", js_url=f"{ASSETS}/swagger-ui-bundle.js", css_url=f"{ASSETS}/swagger-ui.css",
        standalone_preset_js_url=f"{ASSETS}/swagger-ui-standalone-preset.js",
        favicon=f"<link rel='icon' type='image/png' href='{ASSETS}/favicon-32x32.png'>")]
