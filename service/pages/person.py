"""A person's page, `/persons/{id}` in a browser (a program at that URL still gets the person
record's JSON): the stored biography document, read as GET /persons/{id}/biography reads it
(`?as_of=N`: the archive as it stood after log position N), drawn as a page: names, the
timeline chart (service.pages.timeline) and its table, the claims with their citations and
review state, conflicts and agreements, custody totals, and "cite this page"
(service.pages.cite).

The version cited is the document's last change (projections.claims.last_change: never
earlier than it, so the document as of that position is the document shown) and the chain
hash at that position; an `as_of` page cites its own position.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, cast

import msgspec
from litestar import Request, Response
from litestar.datastructures import URL
from litestar.datastructures.headers import Accept
from markupsafe import Markup

from starosta.events.store import Connection
from starosta.projections import biographies, registry
from starosta.projections import claims as claims_model
from starosta.projections.rules import PUBLIC, document_statuses, sees_suppressed
from starosta.service.api.biography import as_of_position
from starosta.service.api.common import archive_of, expensive, off_loop, viewer
from starosta.service.domain.access import ANONYMOUS
from starosta.service.pages import cite, maps, timeline
from starosta.service.pages.render import page, render

if TYPE_CHECKING:
    from litestar.types import HTTPScope

SECTIONS = ("names", "births", "deaths", "affiliations", "timeline", "deprecated")
CITE_STYLES = ("chicago-author-date", "apa")  # "cite this page" in these two styles
BIBLIOGRAPHY_STYLE = "chicago-author-date"


PREFIXES = (("PL-", "places"), ("P-", "persons"), ("O-", "organizations"), ("S-", "sources"),
            ("F-", "funds"), ("C-", "claims"))


def href(entity_id: str) -> str:
    """The page of an entity (or a claim) by its id's prefix."""
    for prefix, collection in PREFIXES:
        if entity_id.startswith(prefix):
            return f"/{collection}/{entity_id}"
    return f"#{entity_id}"


def entries(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Every claim entry a biography document holds: its sections' and its statements'."""
    return [*(e for s in SECTIONS for e in document.get(s, [])),
            *(e for g in document.get("statements", []) for e in g["claims"])]


def claim_ids(document: dict[str, Any]) -> list[str]:
    """Every claim a biography document shows (its entries and its take-downs)."""
    return [e["claim"] for e in entries(document)] + [
        t["claim"] for t in document.get("suppressed", [])]


def entries_by_claim(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["claim"]: e for e in entries(document)}


QUIET = ("person", "said", "note", "participants")  # fields a side-by-side view leaves out


def differing(sides: list[dict[str, Any] | None]) -> list[str]:
    """The fields whose values differ between claims shown side by side (a conflict's or an
    agreement's), in the first claim's order: what a reader compares."""
    shown = [e["fields"] for e in sides if e]
    keys = list(dict.fromkeys(k for f in shown for k in f if k not in QUIET))
    return [k for k in keys if len({repr(f.get(k)) for f in shown}) > 1]


def source_ids(document: dict[str, Any]) -> list[str]:
    """The sources the document's citations name (and their `via` chains' registered
    sources), in order of first appearance."""
    seen: dict[str, None] = {}
    for e in entries(document):
        for c in (e.get("citation") or {}, (e.get("dispute") or {}).get("citation") or {}):
            if isinstance(c.get("source"), dict):
                seen.setdefault(c["source"]["id"])
            for v in c.get("via", []):
                if isinstance(v, dict) and isinstance(v.get("source"), dict):
                    seen.setdefault(v["source"]["id"])
    return list(seen)


class _Cache:
    """A small thread-safe LRU map (the reader threads and the loop share it)."""

    def __init__(self, size: int) -> None:
        self.size, self.items, self.lock = size, OrderedDict[Any, Any](), threading.Lock()

    def get(self, key: Any) -> Any:
        with self.lock:
            found = self.items.get(key)
            if found is not None:
                self.items.move_to_end(key)
            return found

    def put(self, key: Any, value: Any) -> None:
        with self.lock:
            self.items[key] = value
            self.items.move_to_end(key)
            while len(self.items) > self.size:
                self.items.popitem(last=False)


# a document's claim ids by its ETag (its content); a page's rendered content by its version
_CLAIMS = _Cache(1024)
_CONTENT = _Cache(256)
_LATEST = _Cache(1024)  # a person id -> (the head it was read at, what _read found then)
_ANONYMOUS_PAGES = _Cache(256)  # an anonymous reader's whole page of now: its ETag and bytes


def _read(conn, store, reading, person_id: str, reader, statuses, position: int | None,
          stamp: str | None) -> dict[str, Any] | None:
    """The document, the position it is cited at, its chain hash and time, and its sources'
    CSL records: one reader-thread hop. The document is decoded only the first time its ETag
    is seen (its claim ids are kept by ETag). A reader's page of now is kept with the log's
    head it was read at: while the head has not moved, nothing it shows has changed."""
    if position is None and statuses == PUBLIC and not sees_suppressed(reader):
        head = reading.head().position  # the store the read models are read from
        kept = _LATEST.get(person_id)
        if kept is not None and kept[0] == head:
            return kept[1]
        found = _found(conn, store, person_id, reader, statuses, None, None)
        _LATEST.put(person_id, (head, found))
        return found
    return _found(conn, store, person_id, reader, statuses, position, stamp)


def _found(conn, store, person_id: str, reader, statuses, position: int | None,
           stamp: str | None) -> dict[str, Any] | None:
    if position is None and statuses == PUBLIC:
        document = biographies.stored(conn, person_id) or biographies.read(
            conn, person_id, reader, statuses)
    elif position is None:
        document = biographies.read(conn, person_id, reader, statuses)
    else:
        document = biographies.read_as_of(conn, person_id, position, stamp, reader, statuses)
    if document is None:
        return None
    known = _CLAIMS.get(document.etag)
    if known is None:
        bio = msgspec.json.decode(document.body)
        known = ([bio["id"], *[m["id"] for m in bio.get("merged_from", [])]], claim_ids(bio),
                 source_ids(bio))
        _CLAIMS.put(document.etag, known)
    group, ids, sources = known
    if position is None:
        registered = max(registry.entity(conn, "person", p)[3] for p in group)  # type: ignore[index]
        position = max(registered, claims_model.last_change(conn, group, ids),
                       registry.last_judgement(conn, "person", group))
    row = next(iter(store.read_rows(after=position - 1, limit=1)), None) if position else None
    return {"document": document, "position": position,
            "hash": row.hash if row else "0" * 64, "recorded_at": row.recorded_at if row else None,
            "csl": registry.csl_of(conn, sources)}


def _cited(bio: dict[str, Any], found: dict[str, Any], base: str) -> dict[str, Any]:
    """The cite box and the page's bibliography: citeproc-py's formatting (CPU work, run in
    a reader thread, never on the event loop)."""
    permanent = f"{base}/persons/{bio['id']}?as_of={found['position']}"
    item = cite.page_item(title=f"{bio['label']}: biography", url=permanent,
                          position=found["position"], chain_hash=found["hash"],
                          recorded_at=found["recorded_at"],
                          container=f"starosta, log position {found['position']}")
    sources = [dict(found["csl"][s], id=s) for s in source_ids(bio) if s in found["csl"]]
    return {
        "permanent": permanent,
        "citations": [(cite.STYLES[s], cite.formatted([item], s)[0]) for s in CITE_STYLES],
        "page_csl": msgspec.json.format(msgspec.json.encode(item), indent=2).decode(),
        "sources": list(zip(sources, cite.formatted(sources, BIBLIOGRAPHY_STYLE))),
        "bibliography_style": cite.STYLES[BIBLIOGRAPHY_STYLE],
        "sources_csl": msgspec.json.format(msgspec.json.encode(sources), indent=2).decode(),
    }


@page("/persons/{person_id}")
async def person_page(request: Request) -> Response:
    """The person's page; an unknown id answers 404 with a page saying so."""
    person_id = request.path_params["person_id"]
    reader = viewer(request)
    statuses = document_statuses(reader, None)
    as_of = request.query_params.get("as_of")
    store = archive_of(request).store
    position = stamp = None
    if as_of is not None:
        position, stamp = await off_loop(request, lambda _, v: as_of_position(store, v), as_of)
    # an as_of or pending page is assembled per request: the expensive-read lane (issue 23)
    lane = off_loop if position is None and statuses == PUBLIC else expensive
    found = await lane(request, _read, store, archive_of(request).reading_store, person_id,
                       reader, statuses, position, stamp)
    if found is None:
        return render(request, "missing.html", {
            "what": "person", "id": person_id, "position": position}, status=404)
    base = str(request.base_url).rstrip("/")
    key = (found["document"].etag, found["position"], as_of, base,
           msgspec.json.encode(found["csl"]))
    content = _CONTENT.get(key)
    if content is None:
        content = await off_loop(request, lambda conn: _content(request, found, as_of, base, conn))
        _CONTENT.put(key, content)
    title, main = content
    shown = render(request, "person.html", {"title": title, "main": main},
                   version=f"{found['document'].etag}:{found['position']}:{as_of or ''}")
    if as_of is None and reader == ANONYMOUS.viewer() and shown.status_code == 200:
        # the lean path (lean_page) answers the next anonymous request for it from these bytes
        _ANONYMOUS_PAGES.put(key, (shown.headers["ETag"], shown.content))
    return shown


def _base(scope: dict[str, Any]) -> str:
    """The request's base URL as `request.base_url` gives it (the key the page is kept by)."""
    base = {**scope, "path": "/", "query_string": b"", "root_path": (
        scope.get("app_root_path") or scope.get("root_path", ""))}
    return str(URL.from_scope(cast("HTTPScope", base))).rstrip("/")


async def lean_page(archive: Any, scope: dict[str, Any], person_id: str, accept: str,
                    if_none_match: str) -> tuple[int, str, bytes] | None:
    """The lean path's answer (service.api.lean) to an anonymous browser's GET of a person's
    page with no query string: (status, ETag, body) when the page of the document now stored
    was rendered before (by `person_page`, which keeps it), None when Litestar must answer
    (a program's Accept, an unknown id, a page not rendered yet). The same reads as
    `person_page` decide it, so it answers what that handler would answer."""
    if Accept(accept or "*/*").best_match(["application/json", "text/html"],
                                          default="application/json") != "text/html":
        return None
    found = await archive.run_read(_read, archive.store, archive.reading_store, person_id,
                                   ANONYMOUS.viewer(), PUBLIC, None, None)
    if found is None:
        return None
    key = (found["document"].etag, found["position"], None, _base(scope),
           msgspec.json.encode(found["csl"]))
    kept = _ANONYMOUS_PAGES.get(key)
    if kept is None:
        return None
    etag, body = kept
    if etag in if_none_match:  # render()'s own test
        return 304, etag, b""
    return 200, etag, body


def _content(request: Request, found: dict[str, Any], as_of: str | None,
             base: str, conn: Connection) -> tuple[str, Markup]:
    """The page's title and content (templates/_person_main.html, autoescaped), rendered in a
    reader thread: the document decoded, the chart drawn, the citations formatted."""
    bio = msgspec.json.decode(found["document"].body)
    csl = found["csl"]
    by_claim = entries_by_claim(bio)
    context = {
        "bio": bio, "chart": timeline.chart(bio), "entries": by_claim,
        "position": found["position"], "chain_hash": found["hash"],
        "recorded_at": found["recorded_at"], "as_of": as_of, **_cited(bio, found, base),
        "href": href, "differing": lambda ids: differing([by_claim.get(i) for i in ids]),
        "csl_lang": lambda ref: (csl.get(ref.get("id"), {}).get("language")
                                                if isinstance(ref, dict) else None),
        # the places of the timeline that have coordinates, on a map (service/pages/maps.py)
        "itinerary": maps.person_itinerary(conn, bio.get("timeline") or []),
    }
    engine = request.app.template_engine
    assert engine is not None
    # the rendered template's own output (every text in it escaped by autoescape): markup
    return bio["label"], Markup(engine.get_template("_person_main.html").render(**context))
