"""create_app(settings): builds the Litestar app; nothing happens at import time."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.routes import HTTPRoute
from litestar.types import ASGIApp
from litestar.openapi.spec import Contact

from starosta.events.store import EventStore
from starosta.service.api.biography import BiographyController
from starosta.service.api.claims import ClaimController
from starosta.service.api.common import PEER, authenticate, before_request, private_when_signed_in
from starosta.service.api.ledger import AidController, LedgerController
from starosta.service.api.log import LogController, health
from starosta.service.api import lean, openapi
from starosta.service.api.merges import (MergeController, OrganizationJudgementController,
                                        PlaceJudgementController)
from starosta.service.api.participant_roles import ParticipantRoleController
from starosta.service.api.population import PopulationController
from starosta.service.api.properties import PropertyController
from starosta.service.api.entities import (
    FundController,
    OrganizationController,
    PersonController,
    PlaceController,
    SourceController,
)
from starosta.service.db import open_archive
from starosta.service.api.errors import EXCEPTION_HANDLERS, install_safe_log
from starosta.service.settings import Settings, proxy_list
from starosta.service.pages import routes as pages

DESCRIPTION = """\
Records of the anarchists and other socialists imprisoned, exiled and shot in Soviet
Russia, and of the aid funds that kept them alive. Every claim is an append-only,
hash-chained event with its citation. Errors are application/problem+json (RFC 9457).
"""


class App(Litestar):
    """The Litestar app with the lean path in front (service.api.lean): GET /health and an
    anonymous GET of a stored biography answered from their bytes; everything else, and
    anything the lean path cannot answer, by Litestar."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and await lean.answer(self, scope, send):
            return
        await super().__call__(scope, receive, send)


def create_app(settings: Settings | None = None) -> Litestar:
    """Build the app for `settings` (from the environment when omitted)."""
    settings = settings or Settings.from_env()
    install_safe_log()  # every line of the service's log escaped, whoever logs it

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        archive = open_archive(settings.db, synchronous=settings.synchronous, writer=True,
                               group_commit_max=settings.group_commit_max,
                               reader_threads=settings.reader_threads,
                               read_db=settings.read_db,
                               expensive=(settings.expensive_threads, settings.expensive_per_client,
                                          settings.expensive_queue))
        app.state.archive = archive
        archive.start()  # the /health ping
        try:
            yield
        finally:
            archive.close()

    def provide_store(state: State) -> EventStore:
        return state.archive.reading_store  # GETs of the log only

    app = App(
        route_handlers=[health, LogController, SourceController, PersonController,
                        PlaceController, OrganizationController, FundController, ClaimController,
                        MergeController, PlaceJudgementController,
                        OrganizationJudgementController, BiographyController, PopulationController,
                        LedgerController, AidController, ParticipantRoleController, PropertyController,
                        openapi.swagger_assets(), *pages.ROUTES],
        lifespan=[lifespan],
        guards=[authenticate],
        before_request=before_request,
        before_send=[private_when_signed_in],  # a session cookie's answers: private (issue 24)
        dependencies={"store": Provide(provide_store, sync_to_thread=False)},
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        request_max_body_size=settings.max_body_bytes,
        template_config=pages.template_config(),
        openapi_config=OpenAPIConfig(
            title="starosta", version="0.1.0", description=DESCRIPTION, path="/schema",
            contact=Contact(name="starosta developers"), render_plugins=openapi.render_plugins(),
        ),
        state=State({"settings": settings}),
        debug=False,
    )
    openapi.install(app)
    app.state.allow = {route.path_format: ", ".join(sorted(route.methods)) for route in app.routes
                       if isinstance(route, HTTPRoute)}
    return app


SWITCH_INTERVAL = 0.001  # seconds: sys.setswitchinterval in the serving process (app_from_env)


def app_from_env() -> ASGIApp:
    """The ASGI factory `starosta serve` hands to the server (settings from the environment):
    the app, behind STAROSTA_TRUSTED_PROXIES when set (trusting_proxies)."""
    settings = Settings.from_env()
    # The event loop shares the GIL with the reader, decider and expensive-lane threads: a
    # thread that wants the GIL waits up to the switch interval for a busy one to let go, and
    # the loop needs it several times per request. 1 ms (CPython's default is 5 ms) keeps
    # cheap requests from queueing behind expensive reads (bench/load.py measures it).
    sys.setswitchinterval(SWITCH_INTERVAL)
    return trusting_proxies(create_app(settings), settings.trusted_proxies)


def trusting_proxies(app: ASGIApp, trusted: str) -> ASGIApp:
    """Return `app` seeing as its client (scope["client"], Request.client) the address the
    trusted proxies (`trusted`, STAROSTA_TRUSTED_PROXIES) name in X-Forwarded-For, and
    their X-Forwarded-Proto as its scheme: granian's wrap_asgi_with_proxy_headers, which
    takes the right-most address no trusted proxy added. A request from any other peer keeps
    its own address, whatever it sends. The peer's own address stays in the scope (PEER), for
    client_key when a proxy forwards something that is no address. `app` itself without
    proxies."""
    proxies = proxy_list(trusted)
    if not proxies:
        return app
    from granian.utils.proxies import wrap_asgi_with_proxy_headers

    wrapped = wrap_asgi_with_proxy_headers(app, proxies)

    async def behind_proxies(scope, receive, send) -> None:
        client = scope.get("client")
        if client:
            scope[PEER] = client[0]
        await wrapped(scope, receive, send)

    return behind_proxies
