"""The home page, `/`: the archive's search box (`/?q=`: persons, places, organisations and
sources, found as GET /persons?q= etc. find them), its figures, its head (position and the
full chain hash), links to the API documentation and the snapshot; for a program, the same
as JSON (links to the API's documents)."""

from __future__ import annotations

from litestar import Request, Response, get

from starosta.projections import claims as claims_model
from starosta.projections import registry, search
from starosta.service.api.common import archive_of, off_loop
from starosta.service.pages.render import render, wants_html

SEARCHED = (("person", "Persons", "persons"), ("place", "Places", "places"),
            ("organization", "Organisations", "organizations"))
PER_KIND = 20  # hits shown per kind
PENDING = ("pending", "contested")  # claims waiting for a reviewer's decision


def figures(conn) -> dict[str, int]:
    """The archive's figures: persons (merged records once), sources, public claims
    (approved or disputed), claims waiting for review (pending or contested)."""
    statuses = claims_model.status_counts(conn)
    return {"persons": registry.count(conn, "person"), "sources": registry.count(conn, "source"),
            "claims": statuses.get("approved", 0) + statuses.get("disputed", 0),
            "pending": sum(statuses.get(s, 0) for s in PENDING)}


def found(conn, q: str) -> list[dict]:
    """What `q` finds, by kind: persons, places and organisations by any name variant (the
    search of GET /persons?q=), sources by their titles."""
    out = []
    for kind, title, collection in SEARCHED:
        hits = search.find(conn, kind, q, 0, PER_KIND).items
        out.append({"kind": kind, "title": title, "collection": collection,
                    "hits": [{"id": h.id, "label": h.label,
                              "matched": h.matched if h.matched != h.label else None}
                             for h in hits]})
    out.append({"kind": "source", "title": "Sources", "collection": "sources",
                "hits": [{"id": i, "label": label, "matched": None}
                         for i, label in registry.find_sources(conn, q, PER_KIND)]})
    return out


@get("/", include_in_schema=False, opt={"page": True})
async def home(request: Request) -> Response:
    """The home page for a browser; for a program, where the API and its documentation are."""
    archive = archive_of(request)
    head = await off_loop(request, lambda _: archive.reading_store.head())
    q = (request.query_params.get("q") or "").strip()[:200]
    shown = await off_loop(request, figures)
    results = await off_loop(request, found, q) if q else None
    if not wants_html(request):  # the same figures and results, with the API's addresses
        return Response({"name": "starosta", "openapi": "/schema/openapi.json",
                         "documentation": "/schema", "head": {"position": head.position,
                                                              "hash": head.hash},
                         "figures": shown, **({"q": q, "found": results} if q else {})},
                        headers={"Vary": "Accept"})
    return render(request, "home.html", {"head": head, "q": q, "figures": shown,
                                         "results": results},
                  version=f"{head.position}:{head.hash}:{q}")
