"""Every page route the app serves, and the app's template configuration. Importing a page
module registers its pages of API URLs (service.pages.render.page)."""

from __future__ import annotations

from litestar import Router
from litestar.handlers import HTTPRouteHandler
from litestar.static_files import create_static_files_router

from starosta.service.pages.home import home
from starosta.service.pages import person  # noqa: F401  (registers /persons/{id}'s page)
from starosta.service.pages import funds, places, sources  # noqa: F401  (i24-places: their @page handlers)
from starosta.service.pages.render import STATIC, template_config
from starosta.service.pages.session import sign_in, sign_in_form, sign_out
from starosta.service.pages.contribute import new_claim, suggest
from starosta.service.pages.review import queue

__all__ = ["ROUTES", "template_config"]

# the pages' own files (style sheet, htmx): served by the app itself, never from a CDN
static = create_static_files_router(path="/static", directories=[STATIC], include_in_schema=False,
                                    cache_control=None)

ROUTES: list[HTTPRouteHandler | Router] = [home, static]
ROUTES += [sign_in_form, sign_in, sign_out, new_claim, suggest, queue]  # i24-review
