"""A source's page, `/sources/{id}` (the JSON's URL): its CSL record formatted, its
transmission (via), its descent (ancestors and descendants), the claims citing it; and an
organisation's page, `/organizations/{id}`: its names, members and affiliates, and a group's
own timeline. Read through the same functions as GET /sources/{id} and GET
/organizations/{id}.

`formatted` is a plain "author, title, date" rendering of a CSL item (text: the template
escapes it). The person's page formats citations with citeproc-py (the pages' `cite` module,
i24-person); the lead swaps `formatted` for cite.formatted there, which escapes every CSL
string before citeproc formats it."""

from __future__ import annotations

import json
import re
from typing import Any

from litestar import Request, Response

from starosta.events.errors import NotFound
from starosta.events.store import Connection
from starosta.projections import registry
from starosta.projections.rules import Viewer
from starosta.service.api.common import archive_of, number, off_loop, viewer
from starosta.service.api.entities import (
    OrganizationOut,
    read_organization,
    read_source,
)
from starosta.service.pages.places import missing
from starosta.service.pages.render import page, render

LANG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")  # a BCP 47 tag, roughly


def _names(people: Any) -> str:
    """CSL names as written: "Family, Given", or a literal; joined by "; "."""
    out = []
    for person in people if isinstance(people, list) else []:
        if not isinstance(person, dict):
            continue
        if person.get("literal"):
            out.append(str(person["literal"]))
        elif person.get("family") or person.get("given"):
            out.append(", ".join(str(p) for p in (person.get("family"), person.get("given")) if p))
    return "; ".join(out)


def _date(issued: Any) -> str | None:
    """A CSL date as written: its date-parts (1923-11), its literal or raw form."""
    if not isinstance(issued, dict):
        return None
    parts = issued.get("date-parts")
    if isinstance(parts, list) and parts and isinstance(parts[0], list) and parts[0]:
        return "-".join(f"{int(p):02d}" if i else str(p) for i, p in enumerate(parts[0])
                        if str(p).lstrip("-").isdigit())
    return str(issued.get("literal") or issued.get("raw") or "") or None


def formatted(csl: dict[str, Any]) -> str:
    """A CSL item as "Author. Title. Container. Place: Publisher, Date." (what it has of
    these), plain text for the template to escape; an untitled item by its type (a letter to
    its recipient), its title never twice."""
    parts = []
    authors = _names(csl.get("author")) or _names(csl.get("editor"))
    if authors:
        parts.append(authors)
    title = str(csl.get("title") or "").strip()
    if title:
        parts.append(title)
    else:
        what = str(csl.get("genre") or csl.get("type") or "item").replace("_", " ")
        recipients = _names(csl.get("recipient"))
        parts.append(f"{what} to {recipients}" if recipients else what)
    container = str(csl.get("container-title") or "").strip()
    if container and container != title:
        parts.append(container)
    place = str(csl.get("publisher-place") or "").strip()
    publisher = str(csl.get("publisher") or "").strip()
    date = _date(csl.get("issued"))
    tail = ", ".join(p for p in (": ".join(p for p in (place, publisher) if p), date) if p)
    if tail:
        parts.append(tail)
    return ". ".join(p.rstrip(".") for p in parts) + "."


@page("/sources/{source_id}")  # the path template as Litestar scopes give it (no :str)
async def source_page(request: Request) -> Response:
    """The source's page (HTML); a program at the same URL gets GET /sources/{id}'s JSON."""
    source_id = request.path_params["source_id"]
    archive = archive_of(request)
    head = await off_loop(request, lambda _: archive.reading_store.head())
    try:
        source = await off_loop(request, read_source, source_id, viewer(request))
    except NotFound:
        return missing(request, "source", source_id)
    csl = source.data.get("csl") or {}
    language = csl.get("language")
    return render(request, "source.html", {
        "source": source, "csl": csl, "citation": formatted(csl) if csl else source.label,
        "lang": language if isinstance(language, str) and LANG.match(language) else None,
        "csl_json": json.dumps(csl, ensure_ascii=False, indent=2),
    }, version=f"{head.position}:{head.hash}")


def organization_view(conn: Connection, organization_id: str, reader: Viewer,
                      after: int) -> tuple[OrganizationOut, str | None]:
    """The organisation as GET /organizations/{id} reads it (100 people a page) and its
    parent's label."""
    found = read_organization(conn, organization_id, reader, after, 100)
    parent = found.data.get("parent")
    return found, registry.labels(conn, {parent}).get(parent) if parent else None


@page("/organizations/{organization_id}")
async def organization_page(request: Request) -> Response:
    """The organisation's page (HTML); a program at the same URL gets its JSON. Its people a
    page at a time (`?people_after=`, as the JSON's)."""
    organization_id = request.path_params["organization_id"]
    after_text = (request.query_params.get("people_after") or "")[:18]
    after = number(after_text, "people_after", "query") if after_text else 0
    archive = archive_of(request)
    head = await off_loop(request, lambda _: archive.reading_store.head())
    try:
        organization, parent = await off_loop(request, organization_view, organization_id,
                                              viewer(request), after)
    except NotFound:
        return missing(request, "organisation", organization_id)
    return render(request, "organization.html", {"org": organization, "parent": parent},
                  version=f"{head.position}:{head.hash}:{request.url.query}")
