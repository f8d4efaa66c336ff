"""The log itself: paged reading, the live feed (Server-Sent Events), its head, and the
service's health. The rows, their redaction and the feed's bound live in service.feed."""

from __future__ import annotations

import asyncio
import signal
import threading
import weakref
from collections.abc import AsyncIterator, Callable
from typing import Annotated

import msgspec
from litestar import Controller, Request, get
from litestar.exceptions import TooManyRequestsException
from litestar.params import HeaderParameter, Parameter
from litestar.response import ServerSentEvent, ServerSentEventMessage

from starosta.events.store import EventStore, StoreError
from starosta.projections.rules import Viewer
from starosta.service.domain.access import token_live
from starosta.service.limits import Shares
from starosta.service.api import common
from starosta.service.api.common import StoreDependency, archive_of, off_loop, paged, viewer, who
from starosta.service.api.errors import problem
from starosta.service.feed import (
    MAX_POSITION,
    HeadOut,
    HealthOut,
    LogEvent,
    LogPage,
    StreamSlots,
    log_page,
)

__all__ = ["LogController", "LogEvent", "LogPage", "HeadOut", "HealthOut", "health", "log_page"]

STREAM_TIMEOUT = 30  # seconds a live feed stays open by default ...
STREAM_TIMEOUT_MAX = 300  # ... and at most: then it closes, and the client reconnects
HEARTBEAT_SECONDS = 15  # a comment line after this long without an event keeps proxies from closing
POLL_SECONDS = 0.25  # how often an idle feed looks for new events (one indexed read of the log)
STREAM_BATCH = 100  # events read and sent per look
RETRY_MS = 1000  # the reconnection delay the feed suggests to EventSource clients
BUSY_RETRY_AFTER = 5  # Retry-After (seconds) of the 503 past STAROSTA_MAX_STREAMS
SHARE_RETRY_AFTER = 5  # Retry-After (seconds) of the 429 past a client's or a token's share of them
# A feed opened with a token asks again whether the token is live at least this often, and
# before sending every page of events: a revoked token's feed ends within this many seconds
# and never sends an event after the revocation is seen.
TOKEN_RECHECK_SECONDS = 2
REDACTED = "redacted"  # the SSE `event` of a redacted row (which tells no type)

Position = Annotated[int, Parameter(ge=0, le=MAX_POSITION, description="Return events after this position")]


class LogController(Controller):
    """GET /events, /events/stream, /events/head."""

    path = "/events"
    tags = ["log"]

    @get("/", summary="Read the log in order, paged")
    async def read(
        self,
        request: Request,
        store: StoreDependency,
        after: Position = 0,
        limit: Annotated[int, Parameter(ge=1, le=1000, description=(
            "Page size (1-1000). More than 100 is an expensive read (the expensive-read lane: at "
            "most STAROSTA_EXPENSIVE_PER_CLIENT, default 2, at once per client, past it 429 "
            "with Retry-After)"))] = 100,
    ) -> LogPage:
        """Every position in order; `next` is the position to pass as `after` for more.
        Events of claims the caller may not see are redacted (admins see everything)."""
        return await paged(request, limit, log_page, store, after, limit, viewer(request))

    @get("/stream", summary="Follow the log live (Server-Sent Events)", opt={"event_stream": True})
    async def stream(
        self,
        request: Request,
        store: StoreDependency,
        after: Position = 0,
        timeout: Annotated[int, Parameter(
            ge=1, le=STREAM_TIMEOUT_MAX,
            description=f"Close the stream after this many seconds (1-{STREAM_TIMEOUT_MAX}, "
                        f"default {STREAM_TIMEOUT}); reconnect with Last-Event-ID. Without a "
                        "token it is cut to STAROSTA_ANONYMOUS_STREAM_TIMEOUT (60 s)")] = STREAM_TIMEOUT,
        last_event_id: Annotated[str | None, HeaderParameter(
            name="Last-Event-ID", pattern=r"^[0-9]{1,18}$", max_length=18,
            description="The `id` of the last event received (a position): the stream resumes "
                        "after it. It wins over `after` (EventSource resends it on reconnecting, "
                        "with the first URL)")] = None,
    ) -> ServerSentEvent:
        """Every event after `after` (or after Last-Event-ID), in order, then each new one as
        it is appended, as Server-Sent Events: `id` is the position, `event` the event type,
        `data` the same JSON item GET /events gives the caller, with the same redaction (a
        redacted row's `event` is `redacted`).
        Comment lines keep an idle stream alive; the stream closes after `timeout` seconds.
        At most STAROSTA_MAX_STREAMS streams are open at once: past it, 503 with Retry-After.
        One client address (an IPv6 client's /64) holds at most STAROSTA_MAX_STREAMS_PER_CLIENT
        (4) of them and one token at most STAROSTA_MAX_STREAMS_PER_TOKEN (4): past its share,
        429 with Retry-After. An anonymous stream's `timeout` is cut to
        STAROSTA_ANONYMOUS_STREAM_TIMEOUT (60 s; its first comment line says the timeout it
        got): send a token to hold a stream up to 300 s."""
        start = after if last_event_id is None else common.number(last_event_id,
                                                                   "Last-Event-ID", "header")
        caller = who(request)
        if caller.token_id is None:
            timeout = min(timeout, request.app.state["settings"].anonymous_stream_timeout)
        try:
            release = stream_share(request, caller.token_id)  # raises 429 past a share
        except TooManyRequestsException:
            await common.refused_later(request)
            raise
        slots = stream_slots(request)
        release_slot = slots.take()
        if release_slot is None:
            release()
            return problem(  # type: ignore[return-value]
                request, 503, "Service unavailable",
                f"{slots.limit} live feeds are open, the most this server serves at once "
                f"(STAROSTA_MAX_STREAMS): retry after {BUSY_RETRY_AFTER} seconds",
                headers={"Retry-After": str(BUSY_RETRY_AFTER)})
        release = _both(release, release_slot)
        events = live_feed(request, store, start, timeout, viewer(request), release,
                           caller.token_id)
        weakref.finalize(events, release)  # a stream never started still gives its slot back
        return ServerSentEvent(events)

    @get("/head", summary="The last position and its hash")
    async def head(self, request: Request, store: StoreDependency) -> HeadOut:
        """Publish this hash; `starosta verify --expect-head HASH` checks a copy against it."""
        h = await off_loop(request, lambda _: store.head())
        return HeadOut(h.position, h.hash, h.recorded_at)


HEALTH_RETRY_AFTER = 5  # Retry-After (seconds) of /health's 503


@get("/health", tags=["operations"], summary="200 when the database answers")
async def health(request: Request) -> HealthOut:
    """Answers 200 with the log's head position when the database answered the service's
    background ping (every second, on a connection of its own; the server's own commits count
    as answers) within the last 5 seconds, with the head as of that answer; else 503 with
    Retry-After. Reads nothing itself: it answers even while every reader thread is busy."""
    pulse = archive_of(request).health.pulse()
    if not pulse.fresh or pulse.head is None:
        since = "has not answered yet" if pulse.age is None else \
            f"last answered {pulse.age:.0f} s ago"
        return problem(  # type: ignore[return-value]
            request, 503, "Service unavailable",
            f"the database {since}" + (f" ({pulse.error})" if pulse.error else "")
            + f": retry after {HEALTH_RETRY_AFTER} seconds",
            headers={"Retry-After": str(HEALTH_RETRY_AFTER)})
    return HealthOut("ok", pulse.head)


def stream_slots(request: Request) -> StreamSlots:
    """The app's bound on open live feeds (created on first use, from its settings)."""
    state = request.app.state
    slots = state.get("stream_slots")
    if slots is None:
        slots = state["stream_slots"] = StreamSlots(state["settings"].max_streams)
        watch_stop_signals()
    return slots


# -- i23-limits: each client's and each token's share of the live feeds (service/limits.py) ----

def stream_share(request: Request, token_id: str | None) -> Callable[[], None]:
    """Take one of the caller's live-feed shares, of its client address (client_key) and of
    its token (if any); return the function giving them back. Raises 429 with Retry-After when
    either is held whole (STAROSTA_MAX_STREAMS_PER_CLIENT, STAROSTA_MAX_STREAMS_PER_TOKEN)."""
    state = request.app.state
    shares = state.get("stream_shares")
    if shares is None:
        settings = state["settings"]
        shares = state["stream_shares"] = (Shares(settings.max_streams_per_client),
                                           Shares(settings.max_streams_per_token))
    per_client, per_token = shares
    release_client = per_client.take(common.client_key(request))
    if release_client is None:
        raise common.too_many(
            f"this client address already holds {per_client.share} live feeds, its share "
            f"(STAROSTA_MAX_STREAMS_PER_CLIENT): close one, or retry after {SHARE_RETRY_AFTER} "
            "seconds", SHARE_RETRY_AFTER)
    if token_id is None:
        return release_client
    release_token = per_token.take(token_id)
    if release_token is None:
        release_client()
        raise common.too_many(
            f"this token already holds {per_token.share} live feeds, its share "
            f"(STAROSTA_MAX_STREAMS_PER_TOKEN): close one, or retry after {SHARE_RETRY_AFTER} "
            "seconds", SHARE_RETRY_AFTER)
    return _both(release_client, release_token)


def _both(first: Callable[[], None], second: Callable[[], None]) -> Callable[[], None]:
    def release() -> None:  # each part is safe to call twice
        first()
        second()
    return release


STOPPING = threading.Event()  # set when this serving process is told to stop


def watch_stop_signals() -> None:
    """End open feeds when the process is told to stop (SIGTERM, SIGINT).

    granian's graceful stop waits for every open response, and a feed would hold it for up
    to its timeout. granian hears the signal through the event loop's wakeup fd, which the
    interpreter writes whatever Python-level handler is set: chaining one here takes nothing
    from it. Only the main thread may set handlers (the test client's app runs elsewhere,
    and needs none)."""
    if threading.current_thread() is not threading.main_thread():
        return
    for number in (signal.SIGTERM, signal.SIGINT):
        previous = signal.getsignal(number)
        # chained only to a Python handler (the loop's): never in place of the default action
        if not callable(previous) or getattr(previous, "starosta_feeds", False):
            continue

        def stop(signum, frame, previous=previous) -> None:
            STOPPING.set()
            previous(signum, frame)
        stop.starosta_feeds = True  # type: ignore[attr-defined]
        signal.signal(number, stop)


def _comment(text: str, retry: int | None = None) -> ServerSentEventMessage:
    return ServerSentEventMessage(data=None, comment=text, retry=retry)


async def _token_revoked(request: Request, token_id: str | None) -> bool:
    """Return whether the feed's token (None: an anonymous feed) is no longer live, asking the
    primary (tokens are never read from a replica)."""
    if token_id is None:
        return False
    return not await archive_of(request).run_primary(token_live, token_id)


async def live_feed(request: Request, store: EventStore, after: int, timeout: int,
                    reader: Viewer, release: Callable[[], None],
                    token_id: str | None = None) -> AsyncIterator[ServerSentEventMessage]:
    """Yield the log after `after` as SSE messages, then poll for new events until `timeout`
    seconds have passed; give the stream's slot back however the stream ends (its end, the
    client gone, the server stopping, the feed's token revoked: checked every
    TOKEN_RECHECK_SECONDS and before each page is sent)."""
    loop = asyncio.get_running_loop()
    try:
        deadline = loop.time() + timeout
        yield _comment(f"events after {after}; this stream closes in {timeout} s", RETRY_MS)
        quiet_since = checked = loop.time()
        while True:
            try:
                page = await off_loop(request, log_page, store, after, STREAM_BATCH, reader)
                if page.items or loop.time() - checked >= TOKEN_RECHECK_SECONDS:
                    if await _token_revoked(request, token_id):
                        yield _comment("the token of this feed was revoked: the stream ends")
                        return
                    checked = loop.time()
            except StoreError as exc:  # a failing disk: end the stream, the client reconnects
                yield _comment(f"the archive cannot be read now ({exc}): reconnect with "
                               f"Last-Event-ID: {after}")
                return
            for item in page.items:
                yield ServerSentEventMessage(data=msgspec.json.encode(item).decode(),
                                             event=REDACTED if item.redacted else item.type,
                                             id=item.position)
                after = item.position
            now = loop.time()
            if page.items:
                quiet_since = now
            if now >= deadline or STOPPING.is_set():
                break
            if page.next is not None:
                continue
            if now - quiet_since >= HEARTBEAT_SECONDS:
                yield _comment("keep-alive")
                quiet_since = now
            await asyncio.sleep(min(POLL_SECONDS, deadline - now))
        why = "the server is stopping" if STOPPING.is_set() else "timeout"
        yield _comment(f"{why}: reconnect with Last-Event-ID: {after}")
    finally:
        release()
