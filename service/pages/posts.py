"""Forms a browser posts to the URL of the thing it changes (`/claims/{id}/approve`): a page
handler registered with `@form(path_template)` answers a form post (urlencoded or multipart)
to that API route with HTML (the updated row, or the page with its errors), from the app's
before_request (`dispatch_form`), after the CSRF check; a program posting JSON to the same URL
gets today's JSON from the API's handler."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from litestar import Request, Response

__all__ = ["FORMS", "dispatch_form", "form"]

FormHandler = Callable[[Request], Awaitable[Response]]
FORMS: dict[str, FormHandler] = {}  # path template -> the handler of a form posted there


def form(path_template: str) -> Callable[[FormHandler], FormHandler]:
    """Register `handler` as the answer to a browser's form posted to `path_template` (as a
    route declares it, "/claims/{claim_id:str}/approve", or as the request's scope holds it,
    Litestar's path_format: "/claims/{claim_id}/approve")."""

    def register(handler: FormHandler) -> FormHandler:
        FORMS[re.sub(r"\{(\w+):\w+\}", r"{\1}", path_template)] = handler
        return handler

    return register


async def dispatch_form(request: Request) -> Response | None:
    """The form handler of this POST's route, or None (the API's handler answers)."""
    handler = FORMS.get(request.scope.get("path_template", ""))
    return None if handler is None else await handler(request)
