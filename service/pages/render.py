"""Pages for people in a browser: one URL per thing, HTML for browsers, JSON for programs.

A page lives at the URL of the thing it shows (`/persons/{id}` is the person's page in a
browser and the person's JSON for a program). `wants_html` decides: `?format=html` or
`?format=json` first, else the Accept header (a browser's `text/html` beats its `*/*`; curl's
`*/*` alone gets JSON). Pages for URLs the API already answers are registered with `@page`
by the route's path template and answered from the app's before_request hook (`dispatch`),
before the JSON handler's parameters are read; pages with no JSON twin (the home page,
sign-in, the review queue) are ordinary Litestar handlers, left out of the OpenAPI document.

Rendering (`render`): Jinja through Litestar's template engine (autoescape on; nothing a
contributor wrote is ever marked safe), then the headers of every page (HEADERS; a signed-in
page is also `private, no-store`), an ETag made of the document's own version (never the
log's head), the templates' version and the viewer, and 304 for a matching If-None-Match.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from litestar import Request, Response
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig

from starosta.service.api.auth import principal_of

__all__ = ["FORMAT", "FORMATS", "PAGES", "HEADERS", "TEMPLATES", "STATIC", "dispatch", "page", "render",
           "template_config", "wants_html"]

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"

# Every page's headers (../shared/API.md, Resolutions 13-20, "Pages")
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
FORMAT = "format"  # ?format=html or ?format=json chooses, over the Accept header
FORMATS = ("html", "json")

PageHandler = Callable[[Request], Awaitable[Response]]
PAGES: dict[str, PageHandler] = {}  # path template -> the page of that route


def page(path_template: str) -> Callable[[PageHandler], PageHandler]:
    """Register `handler` as the HTML page of the API route `path_template` (as Litestar
    writes it, e.g. "/persons/{person_id:str}")."""

    def register(handler: PageHandler) -> PageHandler:
        # the scope's path_template is the route's path_format ("/persons/{person_id}"): a
        # template written with its parameter's type is registered without it (i24-review)
        PAGES[re.sub(r"\{(\w+):\w+\}", r"{\1}", path_template)] = handler
        return handler

    return register


def wants_html(request: Request) -> bool:
    """Return True when the caller asks for HTML: `?format=html`, or an Accept header that
    prefers text/html to JSON (browsers); `?format=json` and everything else get JSON."""
    chosen = request.query_params.get(FORMAT)
    if chosen is not None:
        return chosen == "html"
    accept = request.headers.get("accept")
    if not accept or "text/html" not in accept:
        return False
    return request.accept.best_match(["application/json", "text/html"],
                                     default="application/json") == "text/html"


async def dispatch(request: Request) -> Response | None:
    """The page of this GET's route when the caller wants HTML and the route has one (called
    by the app's before_request); None: the JSON handler answers."""
    if request.method != "GET":
        return None
    handler = PAGES.get(request.scope.get("path_template", ""))
    if handler is None or not wants_html(request):
        return None
    return await handler(request)


def template_config() -> TemplateConfig:
    """The app's template configuration: Jinja over service/pages/templates (autoescape on:
    Litestar's JinjaTemplateEngine builds its Environment with autoescape=True)."""
    return TemplateConfig(directory=TEMPLATES, engine=JinjaTemplateEngine)


def _templates_version() -> str:
    """A digest of every template and static file: part of every page's ETag, so a new
    release never answers 304 with an old page."""
    digest = hashlib.sha256()
    for path in sorted([*TEMPLATES.rglob("*"), *STATIC.rglob("*")]):
        if path.is_file():
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


_VERSION: list[str] = []


def templates_version() -> str:
    if not _VERSION:
        _VERSION.append(_templates_version())
    return _VERSION[0]


def render(request: Request, template: str, context: dict[str, Any], *,
           version: str | None = None, status: int = 200,
           headers: dict[str, str] | None = None) -> Response:
    """Return `template` rendered with `context` as an HTML response with the page headers.

    `version` is the shown document's own version (its ETag, or its last-change position):
    with it the page carries an ETag (that version, the templates', the viewer's) and answers
    304 to a matching If-None-Match. A signed-in viewer's page is `private, no-store`."""
    who = principal_of(request)
    signed_in = who.role is not None
    out = {**HEADERS, "Vary": "Accept, Cookie", **(headers or {})}
    if signed_in:
        out["Cache-Control"] = "private, no-store"
    etag = None
    if version is not None and status == 200:
        viewer = hashlib.sha256(f"{who.role}:{who.token_id}".encode()).hexdigest()[:8] \
            if signed_in else "anon"
        etag = f'W/"page-{hashlib.sha256(version.encode()).hexdigest()[:16]}-' \
               f'{templates_version()}-{viewer}"'
        out["ETag"] = etag
        if etag in (request.headers.get("if-none-match") or ""):
            return Response(content=b"", status_code=304, headers=out)
    engine = request.app.template_engine
    assert engine is not None, "the app is built with template_config()"
    body = engine.get_template(template).render(
        request=request, who=who, signed_in=signed_in, **context)
    return Response(content=body.encode(), status_code=status, headers=out,
                    media_type="text/html")
