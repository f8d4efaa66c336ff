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

from typing import Any

import msgspec
from litestar import Request, Response

from starosta.projections import biographies, registry
from starosta.projections import claims as claims_model
from starosta.projections.rules import PUBLIC, document_statuses
from starosta.service.api.biography import as_of_position
from starosta.service.api.common import archive_of, off_loop, viewer
from starosta.service.pages import cite, timeline
from starosta.service.pages.render import page, render

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


def claim_ids(document: dict[str, Any]) -> list[str]:
    """Every claim a biography document shows (its sections, statements, take-downs)."""
    ids = [e["claim"] for s in SECTIONS for e in document.get(s, [])]
    ids += [e["claim"] for g in document.get("statements", []) for e in g["claims"]]
    ids += [t["claim"] for t in document.get("suppressed", [])]
    return ids


def entries_by_claim(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["claim"]: e for s in SECTIONS for e in document.get(s, [])}


def source_ids(document: dict[str, Any]) -> list[str]:
    """The sources the document's citations name (and their `via` chains' registered
    sources), in order of first appearance."""
    seen: dict[str, None] = {}
    for s in SECTIONS:
        for e in document.get(s, []):
            c = e.get("citation") or {}
            if isinstance(c.get("source"), dict):
                seen.setdefault(c["source"]["id"])
            for v in c.get("via", []):
                if isinstance(v, dict) and isinstance(v.get("source"), dict):
                    seen.setdefault(v["source"]["id"])
    return list(seen)


def _read(conn, store, person_id: str, reader, statuses, position: int | None,
          stamp: str | None) -> dict[str, Any] | None:
    """The document (decoded), the position it is cited at, its chain hash and time, and its
    sources' CSL records: one reader-thread hop."""
    if position is None and statuses == PUBLIC:
        document = biographies.stored(conn, person_id) or biographies.read(
            conn, person_id, reader, statuses)
    elif position is None:
        document = biographies.read(conn, person_id, reader, statuses)
    else:
        document = biographies.read_as_of(conn, store, person_id, position, stamp, reader,
                                          statuses)
    if document is None:
        return None
    bio = msgspec.json.decode(document.body)
    group = [bio["id"], *[m["id"] for m in bio.get("merged_from", [])]]
    if position is None:
        registered = max(registry.entity(conn, "person", p)[3] for p in group)  # type: ignore[index]
        position = max(registered, claims_model.last_change(conn, group, claim_ids(bio)),
                       registry.last_judgement(conn, "person", group))
    row = next(iter(store.read_rows(after=position - 1, limit=1)), None) if position else None
    return {"bio": bio, "etag": document.etag, "position": position,
            "hash": row.hash if row else "0" * 64, "recorded_at": row.recorded_at if row else None,
            "csl": registry.csl_of(conn, source_ids(bio))}


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
    found = await off_loop(request, _read, store, person_id, reader, statuses, position, stamp)
    if found is None:
        return render(request, "missing.html", {
            "what": "person", "id": person_id, "position": position}, status=404)
    bio = found["bio"]
    base = str(request.base_url).rstrip("/")
    cited = await off_loop(request, lambda _: _cited(bio, found, base))
    context = {
        "bio": bio, "chart": timeline.chart(bio), "entries": entries_by_claim(bio),
        "position": found["position"], "chain_hash": found["hash"],
        "recorded_at": found["recorded_at"], "as_of": as_of, **cited,
        "href": href, "csl_lang": lambda ref: (found["csl"].get(ref.get("id"), {}).get("language")
                                                if isinstance(ref, dict) else None),
        "itinerary": None,  # i24-places' itinerary map (its maps module): the lead wires it
    }
    return render(request, "person.html", context,
                  version=f"{found['etag']}:{found['position']}:{as_of or ''}")
