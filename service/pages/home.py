"""The home page, `/`: the archive's search box, figures and head; for a program, the same as
JSON (links to the API's documents)."""

from __future__ import annotations

from litestar import Request, Response, get

from starosta.service.api.common import archive_of, off_loop
from starosta.service.pages.render import render, wants_html


@get("/", include_in_schema=False, opt={"page": True})
async def home(request: Request) -> Response:
    """The home page for a browser; for a program, where the API and its documentation are."""
    archive = archive_of(request)
    head = await off_loop(request, lambda _: archive.reading_store.head())
    if not wants_html(request):
        return Response({"name": "starosta", "openapi": "/schema/openapi.json",
                         "documentation": "/schema", "head": {"position": head.position,
                                                              "hash": head.hash}},
                        headers={"Vary": "Accept"})
    return render(request, "home.html", {"head": head, "q": request.query_params.get("q")},
                  version=f"{head.position}:{head.hash}")
