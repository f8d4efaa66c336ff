"""The lean path (issue 25): GET /health, GET /persons/{id}/biography and GET
/places/{id}/population?at=<a year or a month> answered from bytes already encoded, in front of Litestar's per-request machinery (routing, the guard, the
before_request hooks, signature parsing, response building), for exactly the requests where
that machinery could not change the answer:

- GET, no query string (no `as_of`, `include`, `format`, `min_position`, nor an unknown
  parameter to refuse), but a population's, which is exactly `at=` a year (1938) or a month
  (1938-05);
- no Authorization header (a token is checked by the app's guard: 401, 429) and no Cookie
  header (a session's principal, its `Cache-Control: private`);
- an Accept header that does not name text/html (a browser's page, service.pages);
- at most one If-None-Match, of at most 1,000 characters (the handler's bound);
- /health fresh, the biography of a survivor with its stored document, and a population
  document stored (projections.population.stored_period).

Every other request, and any of these the lean path cannot answer (an unknown or merged id, a
stale /health, an error), goes to Litestar as before, which answers it in full: the lean path
only ever answers 200 or 304 with the same headers and bytes Litestar would
(tests/api/test_lean_path.py compares them)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from starosta.projections import biographies, population
from starosta.service.api.biography import _matches
from starosta.service.feed import HealthOut
from starosta.service.pages import person
from starosta.service.pages.render import HEADERS

_BIOGRAPHY = re.compile(r"/persons/([^/]+)/biography")
_POPULATION = re.compile(r"/places/([^/]+)/population")
_AT = re.compile(rb"at=(\d{4}(?:-(?:0[1-9]|1[0-2]))?)")  # population.PERIOD_TEXT
_PAGE = re.compile(r"/persons/([^/]+)")
_HEALTH_ENCODE = msgspec.json.Encoder().encode
MAX_IF_NONE_MATCH = 1000  # the biography handler's HeaderParameter(max_length=1000)

Send = Callable[[dict[str, Any]], Awaitable[None]]


def _plain(scope: dict[str, Any], query: bool = False, page: bool = False) -> str | None:
    """Return the If-None-Match of an anonymous GET the lean path may answer ("" without
    one), None when Litestar must answer it (a query string too, unless `query`: the caller
    checks it). `page`: a browser's page is asked for (an Accept naming text/html is
    required, and checked by the page itself), else such an Accept is refused."""
    if scope.get("method") != "GET" or (scope.get("query_string") and not query):
        return None
    if_none_match: str | None = None
    html = False
    for name, value in scope.get("headers", ()):
        if name == b"authorization" or name == b"cookie":
            return None
        if name == b"accept":
            if b"text/html" in value.lower():
                if not page:
                    return None
                html = True
        elif name == b"if-none-match":
            if if_none_match is not None or len(value) > MAX_IF_NONE_MATCH:
                return None  # two of them, or one the handler refuses
            try:
                if_none_match = value.decode("latin-1")
            except UnicodeDecodeError:
                return None
    if page and not html:
        return None
    return if_none_match or ""


def _accept(scope: dict[str, Any]) -> str:
    """The request's Accept header (the first one), "" without one."""
    for name, value in scope.get("headers", ()):
        if name == b"accept":
            return value.decode("latin-1")
    return ""


async def answer(app: Any, scope: dict[str, Any], send: Send) -> bool:
    """Answer `scope` on the lean path and return True, or return False (nothing sent):
    Litestar answers it."""
    path = scope.get("path")
    if path == "/health":
        if_none_match = _plain(scope)
        if if_none_match is None or if_none_match:
            return False
        archive = app.state.get("archive")
        if archive is None:
            return False
        pulse = archive.health.pulse()
        if not pulse.fresh or pulse.head is None:
            return False  # 503 with its problem document and Retry-After: Litestar's
        await _send(send, 200, _HEALTH_ENCODE(HealthOut("ok", pulse.head)), None)
        return True
    if path and path.startswith("/places/"):
        return await _population(app, scope, send, path)
    if not path or not path.startswith("/persons/"):
        return False
    found = _BIOGRAPHY.fullmatch(path)
    if found is None:
        page = _PAGE.fullmatch(path)
        return page is not None and await _person_page(app, scope, send, page.group(1))
    if_none_match = _plain(scope)
    if if_none_match is None:
        return False
    archive = app.state.get("archive")
    if archive is None:
        return False
    person_id = found.group(1)
    try:
        document = await archive.run_read(biographies.stored, person_id)
    except Exception:  # noqa: BLE001 - Litestar asks again and answers the error in full
        return False
    if document is None:
        return False  # unknown or merged: the handler's longer way, and its 404
    if if_none_match and _matches(if_none_match, document.etag):
        await _send(send, 304, b"", document.etag)
    else:
        body = document.body  # a PostgreSQL text column's str: encoded as Litestar would
        await _send(send, 200, body.encode() if isinstance(body, str) else bytes(body),
                    document.etag)
    return True


async def _population(app: Any, scope: dict[str, Any], send: Send, path: str) -> bool:
    """Answer a stored population document (a year or a month, public, the place alone), or
    return False: Litestar computes it (and stores it)."""
    found = _POPULATION.fullmatch(path)
    at = _AT.fullmatch(scope.get("query_string") or b"")
    if found is None or at is None:
        return False
    if_none_match = _plain(scope, query=True)
    archive = app.state.get("archive")
    if if_none_match is None or archive is None:
        return False
    try:
        stored = await archive.run_read(population.stored_period, found.group(1),
                                        at.group(1).decode())
    except Exception:  # noqa: BLE001 - Litestar asks again and answers the error in full
        return False
    if stored is None:
        return False
    body, etag = stored
    if if_none_match and _matches(if_none_match, etag):
        await _send(send, 304, b"", etag)
    else:
        await _send(send, 200, body.encode() if isinstance(body, str) else bytes(body), etag)
    return True


async def _person_page(app: Any, scope: dict[str, Any], send: Send, person_id: str) -> bool:
    """An anonymous browser's person page, from the bytes `person_page` kept (service.pages)."""
    if_none_match = _plain(scope, page=True)
    archive = app.state.get("archive")
    if if_none_match is None or archive is None:
        return False
    try:
        shown = await person.lean_page(archive, scope, person_id, _accept(scope), if_none_match)
    except Exception:  # noqa: BLE001 - Litestar asks again and answers the error in full
        return False
    if shown is None:
        return False
    status, etag, body = shown
    headers = [*_PAGE_HEADERS, (b"etag", etag.encode("latin-1"))]
    if status == 200:
        headers += [(b"content-type", b"text/html; charset=utf-8"),
                    (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
    return True


_PAGE_HEADERS = [(k.lower().encode(), v.encode()) for k, v in {**HEADERS, "Vary": "Accept, Cookie"}.items()]
_JSON = (b"content-type", b"application/json")


async def _send(send: Send, status: int, body: bytes, etag: str | None) -> None:
    """Send the answer with Litestar's headers for it: a 200's content-type and length, the
    ETag; a 304 has no content-type and no body."""
    if status == 304:
        headers = [(b"etag", etag.encode("latin-1"))]  # type: ignore[union-attr]
    else:
        headers = [_JSON, (b"content-length", str(len(body)).encode())]
        if etag is not None:
            headers.append((b"etag", etag.encode("latin-1")))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
