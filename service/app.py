"""create_app(settings): builds the Litestar app; nothing happens at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.config.app import AppConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Contact

from events.store import GroupCommitter, SQLiteEventStore
from service.api.log import LogController, health
from service.db import open_store
from service.errors import EXCEPTION_HANDLERS
from service.settings import Settings

DESCRIPTION = """\
Records of the anarchists and other socialists imprisoned, exiled and shot in Soviet
Russia, and of the aid funds that kept them alive. Every claim is an append-only,
hash-chained event with its citation. Errors are application/problem+json (RFC 9457).
"""


def create_app(settings: Settings | None = None) -> Litestar:
    """Build the app for `settings` (from the environment when omitted)."""
    settings = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        store = open_store(settings.db, synchronous=settings.synchronous)
        writer = GroupCommitter(store, max_batch=settings.group_commit_max)
        app.state.store, app.state.writer = store, writer
        try:
            yield
        finally:
            writer.close()
            store.close()

    def provide_store(state: State) -> SQLiteEventStore:
        return state.store

    def provide_writer(state: State) -> GroupCommitter:
        return state.writer

    return Litestar(
        route_handlers=[health, LogController],
        lifespan=[lifespan],
        dependencies={
            "store": Provide(provide_store, sync_to_thread=False),
            "writer": Provide(provide_writer, sync_to_thread=False),
        },
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        request_max_body_size=settings.max_body_bytes,
        openapi_config=OpenAPIConfig(
            title="starosta", version="0.1.0", description=DESCRIPTION, path="/schema",
            contact=Contact(name="starosta developers"),
        ),
        state=State({"settings": settings}),
        debug=False,
    )


def app_from_env() -> Litestar:
    """The ASGI factory `starosta serve` hands to the server (settings from the environment)."""
    return create_app(Settings.from_env())
