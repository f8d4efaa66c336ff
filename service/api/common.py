"""What every controller shares: the caller, the archive, paging, and the write path's hooks."""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import math
import re
import uuid
import weakref
from collections.abc import Callable
from typing import Annotated, Any, TypeVar, cast

import msgspec
from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.datastructures import MutableScopeHeaders
from litestar.handlers.base import BaseRouteHandler
from litestar.di import NamedDependency
from litestar.exceptions import TooManyRequestsException
from litestar.params import Parameter, ParameterKwarg, SkipValidation

from starosta.projections import name_keys
from starosta.projections.rules import Viewer, counted_statuses
from starosta.service.archive import Archive
from starosta.events.errors import Conflict, Invalid, Unauthenticated
from starosta.events.store import ConcurrencyError, EventStore
from starosta.service.domain import sessions
from starosta.service.domain.access import (ANONYMOUS, IdempotencyKey, KeyReused, Principal,
                                            bearer_token, resolve)
from starosta.service.archive import Committed
from starosta.service.api.auth import drain, principal_of
from starosta.service.api.errors import LogBudget, clipped, log, problem, strict_problem
from starosta.service.feed import MAX_POSITION
from starosta.service.lane import ClientBusy, is_expensive_page
from starosta.service.limits import FailureWindow
from starosta.service.domain.replies import Decision
from starosta.service.pages import posts, render as pages

# The archive's event store, injected as is: SQLite's or PostgreSQL's (both the EventStore
# protocol, which no validator can check an instance against).
StoreDependency = NamedDependency[SkipValidation[EventStore]]

T = TypeVar("T")

Limit = Annotated[int, Parameter(ge=1, le=1000, description=(
    "Page size (1-1000). More than 100 is an expensive read (the expensive-read lane: at most "
    "STAROSTA_EXPENSIVE_PER_CLIENT, default 2, at once per client, past it 429 with Retry-After)"))]
Cursor = Annotated[str | None, Parameter(description="The `next` of the previous page",
                                         max_length=100, pattern=r"^[0-9]{1,18}$")]


def archive_of(connection: ASGIConnection) -> Archive:
    return connection.app.state.archive


def refusals_logged(connection: ASGIConnection) -> LogBudget:
    """The app's budget of log lines for refused tokens: at most 20 a minute, the rest counted
    (errors.LogBudget)."""
    state = connection.app.state
    budget = state.get("refusals_logged")
    if budget is None:
        budget = state["refusals_logged"] = LogBudget(lines=20, seconds=60.0)
    return budget


async def authenticate(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """App-wide guard: the caller of the request's Authorization header (signed_in: 401 for
    a wrong one, also on public reads; 429 past the client's failed authentications).

    Without an Authorization header, a browser's session cookie (session_principal), else
    anonymous. Async on purpose: Litestar runs sync guards in its own thread pool, a hop for
    every request, anonymous ones too."""
    authorization = connection.headers.get("authorization")
    if authorization is None:  # a browser's session cookie, else anonymous
        connection.scope.setdefault("state", {})["principal"] = await session_principal(connection)
        return
    principal = await signed_in(connection, authorization)
    connection.scope.setdefault("state", {})["principal"] = principal


# -- i23-limits: failed authentications throttled per client (service/limits.py) ------------------

def auth_failures(connection: ASGIConnection) -> FailureWindow:
    """The app's count of failed authentications per client (created on first use, from
    STAROSTA_AUTH_FAILURES_MAX and STAROSTA_AUTH_FAILURE_WINDOW)."""
    state = connection.app.state
    window = state.get("auth_failures")
    if window is None:
        settings = state["settings"]
        window = state["auth_failures"] = FailureWindow(settings.auth_failures_max,
                                                        settings.auth_failure_window)
    return window


def too_many(detail: str, seconds: float) -> TooManyRequestsException:
    """A per-client refusal: 429 with Retry-After (whole seconds, at least 1) and `detail`,
    which names the limit, its setting and when to retry."""
    return TooManyRequestsException(detail=detail,
                                    headers={"Retry-After": str(max(1, math.ceil(seconds)))})


async def refused_later(connection: ASGIConnection) -> None:
    """Wait STAROSTA_REFUSAL_DELAY seconds before a per-client refusal (429) is answered: a
    client that ignores Retry-After and asks again at once (every connection of a flood does)
    then sends at most one request per connection per delay, instead of as many as the event
    loop can refuse, and other clients' requests do not queue behind its refusals. A waiting
    refusal costs a suspended coroutine, no thread and no query."""
    delay = connection.app.state["settings"].refusal_delay
    if delay > 0:
        await asyncio.sleep(delay)


async def signed_in(connection: ASGIConnection, authorization: str | None) -> Principal:
    """Return the caller a credential names: `authorization` is an Authorization header's
    value ("Bearer <token>"; a sign-in form passes the token it was given so); None is
    anonymous, at once, on the loop. The one check of a credential (the app-wide guard and the
    sign-in form call it).

    A token is looked up in a decider thread, on the primary (a token just created is valid at
    once, a revoked one refused at once: tokens are written by `starosta token`, in another
    process, so no in-process cache could be kept current). A valid token is always served,
    whoever sends it. A failure (an unknown or revoked token, a malformed header) raises 401,
    or 429 with Retry-After once the client (client_key) has failed STAROSTA_AUTH_FAILURES_MAX
    times in STAROSTA_AUTH_FAILURE_WINDOW seconds: the seconds until the window lets one more
    failure through. The operator's log line (the client, never the token) stays rate-limited
    (refusals_logged)."""
    if authorization is None:
        return ANONYMOUS
    try:
        bearer_token(authorization)  # a malformed header fails on the loop: no thread, no query
        return await archive_of(connection).run_primary(resolve, authorization)
    except Unauthenticated as exc:
        client = client_key(connection)
        wait = auth_failures(connection).failed(client)
        logged, skipped = refusals_logged(connection).take()
        if logged:
            log.warning("refused the Authorization header of %s %s from %s: %s%s%s",
                        connection.scope.get("method"), connection.url.path, client, exc.detail,
                        " (429: too many failures from this client)" if wait else "",
                        f" ({skipped} more refused before this one, not logged)" if skipped else "")
        await drain(connection)
        if wait:
            settings = connection.app.state["settings"]
            await refused_later(connection)
            raise too_many(
                f"{exc.detail}; and this client has failed {settings.auth_failures_max} "
                f"authentications in {settings.auth_failure_window:g} seconds, the most answered "
                f"(STAROSTA_AUTH_FAILURES_MAX, STAROSTA_AUTH_FAILURE_WINDOW): retry after "
                f"{max(1, math.ceil(wait))} seconds", wait) from None
        raise  # 401


SESSION_COOKIE = "starosta_session"  # HttpOnly, SameSite=Strict, Path=/ (service.pages.session)
SESSION = "session"  # the scope state's key of the session id a request was signed in by
CSRF_FIELD, CSRF_HEADER = "_csrf_token", "x-csrftoken"


async def session_principal(connection: ASGIConnection) -> Principal:
    """The principal of a request's session cookie (sessions.principal_of_session: the token
    checked again on every request), ANONYMOUS without one; a malformed, unknown, expired or
    revoked token's cookie is anonymous too, never an error. Records the session id in the
    scope's state (SESSION): the request's writes need its CSRF token (check_csrf)."""
    session_id = connection.cookies.get(SESSION_COOKIE)
    if session_id is None or not sessions.well_formed(session_id):
        return ANONYMOUS
    archive = archive_of(connection)
    found = await archive.run_primary(sessions.principal_of_session, session_id)
    if found is None:
        return ANONYMOUS
    principal, due = found
    if due:  # when it was last seen, written at most every few minutes
        def touch(_: Any) -> None:
            with archive.store.write_transaction() as tx:
                sessions.touch(tx, session_id)
        await archive.run_primary(touch)
    state = connection.scope.setdefault("state", {})
    state[SESSION], state[CSRF_FIELD] = session_id, sessions.csrf_token(session_id)
    return principal


async def private_when_signed_in(message: Any, scope: Any) -> None:
    """The app's before_send: every answer to a request signed in by the session cookie (a
    page, or the JSON of a program using the cookie) is `Cache-Control: private, no-store`
    and varies on the cookie, so that no shared cache keeps what a signed-in person sees."""
    if message.get("type") != "http.response.start" or not scope.get("state", {}).get(SESSION):
        return
    headers = MutableScopeHeaders.from_message(message)
    headers["Cache-Control"] = "private, no-store"
    vary = headers.get("Vary")
    if not vary:
        headers["Vary"] = "Cookie"
    elif "cookie" not in vary.lower():
        headers["Vary"] = f"{vary}, Cookie"


def session_of(connection: ASGIConnection) -> str | None:
    """The session id this request was signed in by (None: a bearer token, or nobody)."""
    return connection.scope.get("state", {}).get(SESSION)


async def check_csrf(request: Request) -> Response | None:
    """Every write signed by the session cookie carries the session's CSRF token (form field
    `_csrf_token` or header `x-csrftoken`); else 403, as a page for a browser and as a problem
    for a program. Writes with a bearer token, and anonymous ones, are not concerned."""
    session_id = session_of(request)
    if session_id is None or request.method in ("GET", "HEAD", "OPTIONS"):
        return None
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and is_form(request):
        sent = (await request.form()).get(CSRF_FIELD)
    if sessions.csrf_ok(session_id, sent if isinstance(sent, str) else None):
        return None
    await drain(request)
    detail = ("this form was not sent by a page of this archive (its CSRF token is missing or "
              "wrong): reload the page and send it again")
    if pages.wants_html(request) or is_form(request):
        return pages.render(request, "refused.html", {"detail": detail}, status=403)
    return problem(request, 403, "Forbidden", detail)


def from_a_browser(request: Request) -> bool:
    """Whether a form post comes from a page: signed in by the cookie, sent by htmx, or asking
    for HTML. A program posting a form with its bearer token gets the API's answer, as before."""
    return session_of(request) is not None or request.headers.get("hx-request") == "true" \
        or pages.wants_html(request)


def is_form(request: Request) -> bool:
    """Whether a request's body is an HTML form's (urlencoded or multipart)."""
    kind = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    return kind in ("application/x-www-form-urlencoded", "multipart/form-data")


async def off_loop(connection: ASGIConnection, read: Callable[..., T], *args: Any) -> T:
    """Run `read(conn, *args)` in one of the archive's reader threads (Archive.run_read)."""
    return await archive_of(connection).run_read(read, *args)


async def expensive(connection: ASGIConnection, read: Callable[..., T], *args: Any) -> T:
    """Run an expensive read, `read(conn, *args)`, in the archive's expensive-read lane
    (Archive.run_expensive, service/lane.py), counted against this client (`client_key`):
    429 past its share, 503 when the lane is full."""
    try:
        return await archive_of(connection).run_expensive(client_key(connection), read, *args)
    except ClientBusy:
        await refused_later(connection)
        raise


async def paged(connection: ASGIConnection, limit: int, read: Callable[..., T], *args: Any) -> T:
    """Run a page's read: in the expensive lane when it asks for more than lane.CHEAP_PAGE
    rows (`expensive`), else in a reader thread (`off_loop`)."""
    if is_expensive_page(limit):
        # a page of up to 1,000 rows is encoded in the lane's thread too, not on the event loop
        # (a 1 MB page takes milliseconds to encode): the handler answers the bytes as they are
        encoded = await expensive(connection, lambda conn: msgspec.json.encode(read(conn, *args)))
        return cast(T, Response(encoded, media_type="application/json"))
    return await off_loop(connection, read, *args)


async def decided(connection: ASGIConnection, decide: Callable[..., Decision], *args: Any) -> Decision:
    """Run a command, `decide(conn, *args)`, in one of the archive's decider threads on the
    primary (Archive.run_primary): its checks read the read models, never on the loop."""
    return await archive_of(connection).run_primary(decide, *args)


def viewer(request: Request) -> Viewer:
    """The caller as the read models' visibility rule sees them."""
    return who(request).viewer()


def who(request: Request) -> Principal:
    """Return the caller (ANONYMOUS without a token)."""
    return principal_of(request) or ANONYMOUS


async def before_request(request: Request) -> Response | None:
    """The app's before_request: OPTIONS answered with every method of the path (Litestar's
    own OPTIONS handler lists only the methods of the first handler registered on a path),
    then every integer query parameter checked by `number`, then the read path's
    (before_read) or the write path's checks (before_write)."""
    if request.method == "OPTIONS":
        allow = request.app.state.allow.get(request.scope.get("path_template"))
        if allow is not None:
            return Response(None, status_code=204, headers={"Allow": allow})
        return None
    if request.method == "GET" and (shown := await pages.dispatch(request)) is not None:
        return shown  # a browser's page of this URL (service.pages)
    if (refused := await check_csrf(request)) is not None:
        return refused  # a cookie-signed write without its CSRF token
    if request.method == "POST" and is_form(request) and from_a_browser(request) \
            and (answered := await posts.dispatch_form(request)) is not None:
        return answered  # a browser's form posted to this URL (service.pages)
    unknown_query(request)
    for name, low, high in _integer_parameters(request.route_handler):
        raw = request.query_params.get(name)
        if raw is not None:
            number(raw, name, "query", low, high)
    if request.method == "GET":
        return await before_read(request)
    return await before_write(request)


def unknown_query(request: Request) -> None:
    """Refuse (Invalid, 422) a query parameter the operation does not take, naming it and its
    value: the one check of every endpoint, against the names the OpenAPI document gives
    each operation (openapi.query_names). Routes outside the document (its own pages) are
    not checked."""
    names = getattr(request.app.state, "query_names", {}).get(
        (request.scope.get("path_template"), request.method))
    if names is None:
        return
    for name, value in request.query_params.items():
        if name not in names and not (name == pages.FORMAT and value in pages.FORMATS):
            known = ", ".join(sorted(names)) or "none"
            raise Invalid(clipped(name), clipped(value),
                          f"not a query parameter of this endpoint (it takes: {known})", "query")


MIN_POSITION = "min_position"


async def before_read(request: Request) -> Response | None:
    """before_request on every GET: with `min_position=N`, answer only once the read models
    it reads (a read replica's, with STAROSTA_READ_DB) have applied log position N, waiting up
    to STAROSTA_MIN_POSITION_WAIT seconds (2), else 503 with Retry-After. A writer passes the
    `position` its write answered to read its own writes from any server or replica."""
    raw = request.query_params.get(MIN_POSITION)
    if raw is None:
        return None
    position = number(raw, MIN_POSITION, "query", what="a log position")
    archive = archive_of(request)
    await archive.wait_for(position, request.app.state.settings.min_position_wait)
    return None


# -- numbers a request carries outside its body -------------------------------------------------

# ASCII digits only ('²'.isdigit() and '٣'.isdigit() are true, and int() refuses the first),
# at most 19 (past them int() slows, and past 4,300 it raises): 2**62 has 19
_DIGITS = re.compile(r"[0-9]{1,19}")


def number(value: str, name: str, where: str, low: int = 0, high: int = MAX_POSITION,
           what: str = "a whole number", sent: str | None = None) -> int:
    """Return the integer that `value` (from a query parameter or a header: `where`) writes in
    ASCII decimal digits, between `low` and `high`. Raises Invalid (422) naming `name` and
    the value sent (`sent`, the whole header, when `value` was cut from it), cut short and
    escaped, otherwise. The one parser of every number a request carries outside its body:
    the integer query parameters of every handler (checked in before_request), min_position,
    as_of, If-Match, Last-Event-ID and the claims' cursor."""
    if _DIGITS.fullmatch(value) is None or not low <= int(value) <= high:
        shown = clipped(value if sent is None else sent)
        raise Invalid(name, shown, f"must be {what}: ASCII digits, {low} to {high}", where)
    return int(value)


_INTEGERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _integer_parameters(handler: BaseRouteHandler) -> list[tuple[str, int, int]]:
    """Return (query name, lowest, highest) of each integer query parameter of a handler,
    found once per handler in its signature (its Parameter's ge and le)."""
    try:
        return _INTEGERS[handler]
    except KeyError:
        found = []
        for name, field in handler.parsed_fn_signature.parameters.items():
            kwarg = field.kwarg_definition
            if field.annotation is int and isinstance(kwarg, ParameterKwarg) \
                    and kwarg.header is None and kwarg.cookie is None:
                low = int(kwarg.ge) if kwarg.ge is not None else 0
                high = int(kwarg.le) if kwarg.le is not None else MAX_POSITION
                found.append((kwarg.query or name, low, high))
        _INTEGERS[handler] = found
        return found


# -- who and which request ----------------------------------------------------------------------

def client_key(request: ASGIConnection) -> str:
    """Return the key a per-client count goes by: the client's address as the server sees it
    (the real client's behind STAROSTA_TRUSTED_PROXIES, app.trusting_proxies), an IPv6
    address collapsed to its /64 (one host holds a whole /64), an IPv4-mapped one to its IPv4.
    A client address that is no IP address (a trusted proxy forwarding garbage) counts as
    the proxy's own address; one the server gave as no address at all as itself, cut short."""
    client = request.scope.get("client")
    for host in (client[0] if client else None, request.scope.get(PEER)):
        try:
            address = ipaddress.ip_address(host if isinstance(host, str) else "")
        except ValueError:
            continue
        if isinstance(address, ipaddress.IPv6Address):
            if address.ipv4_mapped is not None:
                return str(address.ipv4_mapped)
            return str(ipaddress.IPv6Network((address, 64), strict=False))
        return str(address)
    return clipped(str(client[0]) if client else "unknown", 64)


PEER = "starosta.peer"  # the scope key of the address the connection came from (app.trusting_proxies)
REQUEST_ID = "X-Request-Id"
# What a request id stored in the log may be: a short token, as proxies make them (nginx's
# $request_id: 32 hex digits; UUIDs; "host:pid-n")
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def request_id(request: Request) -> str | None:
    """Return the request id to store with the request's events (stored_request_id of its
    X-Request-Id)."""
    return stored_request_id(request.headers.get(REQUEST_ID))


def stored_request_id(sent: str | None) -> str | None:
    """Return the request id to store for an X-Request-Id header: the header when it is a
    short token (1-64 of A-Z a-z 0-9 . _ : -), else one the server makes (32 hex digits,
    answered in the response's X-Request-Id, so the client can still find its events);
    None without the header. Nothing else from a header is stored in an event."""
    if sent is None or _REQUEST_ID.fullmatch(sent):
        return sent
    return uuid.uuid4().hex


async def before_write(request: Request) -> Response | None:
    """before_request on every POST: every text of the body in NFC (nfc_body); answer a
    replayed Idempotency-Key before any parsing or state check; then decode the body strictly
    against the handler's `data` type.

    Litestar converts bodies leniently (the string "66" becomes the integer 66); the archive
    stores what was sent, so a value of the wrong JSON type is a 422 here, named by its path.
    """
    if request.method != "POST":
        return None
    body = await request.body()
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return problem(request, 400, "Malformed request", f"the body is not valid UTF-8: byte "
                       f"{exc.start} ({body[exc.start:exc.start + 1]!r}) cannot start or continue "
                       "a character; send UTF-8 JSON")
    try:
        body = await walked(request, body, nfc_body, request, body)
    except RecursionError:
        return _too_deep(request)
    key = await idempotency_key(request)
    if key is not None:
        try:
            replay = await archive_of(request).replay(key)
        except KeyReused:
            raise _reused(request) from None
        if replay is not None:
            return render(replay)
    decoder = _strict_decoder(request.route_handler)
    if decoder is not None and body.strip():
        try:
            await walked(request, body, _strictly, decoder, body,
                         request.route_handler.opt.get(BODY_CHECK))
        except msgspec.ValidationError as exc:  # the wrong shape, or malformed past it
            try:
                msgspec.json.decode(body)
            except msgspec.DecodeError:
                return None
            except RecursionError:
                return _too_deep(request)
            return strict_problem(request, exc, body)
        except msgspec.DecodeError:
            return None  # malformed JSON: Litestar answers 400 with its own message
        except RecursionError:
            return _too_deep(request)
        if _CONTROL_HINT.search(body):  # rare: only then walk the strings to name the field
            try:
                found = await walked(request, body, lambda: _control_character(msgspec.json.decode(body)))
            except RecursionError:
                return _too_deep(request)
            if found is not None:
                field, value = found
                raise Invalid(field, value, "holds a control character (only tab and newline "
                              "are allowed in text)", "body")
    return None


# A handler's cheap bound on its decoded body (opt={BODY_CHECK: check}): check(data) raises
# Invalid at the first excess. It runs right after the strict decode, in the same thread, so a
# body past its bounds (a CSL item of 520,000 authors) is refused before Litestar decodes it a
# second time for the handler on the event loop.
BODY_CHECK = "body_check"


def _strictly(decoder: msgspec.json.Decoder, body: bytes,
              check: Callable[[Any], None] | None) -> None:
    """Decode `body` strictly into the handler's `data` type, then apply its BODY_CHECK."""
    data = decoder.decode(body)
    if check is not None:
        check(data)


# i23-bounds: a POST body over this many bytes is walked (its texts put in NFC, searched for
# a control character) in a decider thread, not on the event loop. Walking 8 KB of short texts
# takes under a millisecond; 1 MB, 50-250 ms (measured: 200,000 strings).
WALK_ON_LOOP_BYTES = 8_192


async def walked(request: Request, body: bytes, walk: Callable[..., T], *args: Any) -> T:
    """Return `walk(*args)`, a walk over the decoded `body`: on the loop for a body of at most
    WALK_ON_LOOP_BYTES, else in a decider thread (Archive.run_primary), so that no body
    holds the event loop for more than about a millisecond. A body nested too deeply for the
    walk raises RecursionError, which the caller answers 400."""
    if len(body) <= WALK_ON_LOOP_BYTES:
        return walk(*args)
    return await archive_of(request).run_primary(lambda _conn: walk(*args))


def nfc_body(request: Request, body: bytes) -> bytes:
    """The one place a request's texts become NFC: a JSON body holding a string that is not
    in NFC is replaced, before anything reads it (its Idempotency-Key hash, the strict decoder,
    the handler's `data`), by the same JSON with every string in NFC. A body that is not JSON
    is left to the parsers that refuse it."""
    if body.isascii() and b"\\u" not in body:  # no text outside ASCII: NFC already
        return body
    try:
        decoded = msgspec.json.decode(body)
    except (msgspec.DecodeError, RecursionError):
        return body
    normal = name_keys.nfc_all(decoded)
    if normal is decoded:
        return body
    body = msgspec.json.encode(normal)
    request._body = request._connection_state.body = body  # what Litestar decodes `data` from
    return body


# C0 controls but tab and newline, DEL and C1 controls: as JSON escapes, or C1 as raw UTF-8
_CONTROL_HINT = re.compile(rb"\\u00(?:0[0-8bcefBCEF]|1[0-9a-fA-F]|7[fF]|[89][0-9a-fA-F])"
                           rb"|\\[bfr]|\xc2[\x80-\x9f]")
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _control_character(value: object, path: str = "") -> tuple[str, str] | None:
    """Return (field path, value) of the first string holding a control character."""
    if isinstance(value, str):
        return (path or "body", value) if _CONTROL.search(value) else None
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        if isinstance(key, str) and _CONTROL.search(key):
            return (f"{path}.{key}".lstrip("."), key)
        found = _control_character(item, f"{path}.{key}".lstrip("."))
        if found is not None:
            return found
    return None


def _too_deep(request: Request) -> Response:
    return problem(request, 400, "Malformed request", "the JSON body is nested too deeply: no "
                   "body of this API nests more than a few levels")


_DECODERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _strict_decoder(handler: BaseRouteHandler) -> msgspec.json.Decoder | None:
    """Return the strict decoder of a handler's `data` type, built once per handler (looking
    the type up hashes annotated types: too slow for every request)."""
    try:
        return _DECODERS[handler]
    except KeyError:
        data = handler.parsed_fn_signature.parameters.get("data")
        decoder = _DECODERS[handler] = msgspec.json.Decoder(data.raw) if data is not None else None
        return decoder


IDEMPOTENCY_HEADER = "Idempotency-Key"
# The HTTP status of each kind of reply (legacy kinds: answers stored by a past version).
STATUS = {"created": 201, "submitted": 201, "judged": 200, "claim": 200, "bulk": 200, "suppression": 200,
          "legacy-200": 200, "legacy-201": 201}


async def idempotency_key(request: Request) -> IdempotencyKey | None:
    """Return the request's Idempotency-Key in its scope (the token's name, prefixed so that it
    never meets the token ids a past version stored there, and the path), or
    None without the header or a token. Raises Invalid for a key of the wrong length."""
    key = request.headers.get(IDEMPOTENCY_HEADER)
    principal = who(request)
    if key is None or principal.name is None:
        return None
    if not 1 <= len(key) <= 200:
        raise Invalid(IDEMPOTENCY_HEADER, key[:200], "1-200 characters", "header",
                      f"{IDEMPOTENCY_HEADER} must be 1-200 characters")
    return IdempotencyKey(f"name:{principal.name}", request.url.path, key,
                          hashlib.sha256(await request.body()).hexdigest())


def render(committed: Committed) -> Response:
    """The HTTP answer of a committed (or replayed) decision."""
    headers = {"ETag": committed.etag} if committed.etag else {}
    if committed.replayed:
        headers["Idempotent-Replayed"] = "true"
    return Response(committed.body, status_code=STATUS[committed.kind],
                    media_type="application/json", headers=headers)


async def commit(request: Request, decision: Decision, keyed: bool = True) -> Response:
    """Commit a decision for the caller (its answer stored under the request's
    Idempotency-Key unless `keyed` is false) and answer with its reply."""
    key = await idempotency_key(request) if keyed else None
    stored_id = request_id(request)
    try:
        committed = await archive_of(request).commit(decision, who(request).actor, key,
                                                     stored_id)
    except KeyReused:
        raise _reused(request) from None
    response = render(committed)
    if stored_id is not None and not committed.replayed:
        response.headers[REQUEST_ID] = stored_id
    return response


async def decide_and_commit(request: Request, decide: Callable[[], Decision],
                            keyed: bool = True) -> Response:
    """Decide (a command that checks the current state, run in a decider thread: `decided`)
    and commit. A refusal because the state moved (Conflict, ConcurrencyError) answers the
    stored first answer instead when an identical request with the same Idempotency-Key
    committed meanwhile."""
    try:
        return await commit(request, await decided(request, lambda _: decide()), keyed)
    except (Conflict, ConcurrencyError):
        replay = await replayed_after_conflict(request) if keyed else None
        if replay is None:
            raise
        return replay


async def replayed_after_conflict(request: Request) -> Response | None:
    """After a refusal (a state that changed, a stream that moved): the first answer stored
    under the request's Idempotency-Key, when the refusal came from that request's own twin
    committed meanwhile (two identical retries in flight); else None."""
    key = await idempotency_key(request)
    if key is None:
        return None
    try:
        replay = await archive_of(request).replay(key)
    except KeyReused:
        raise _reused(request) from None
    return render(replay) if replay is not None else None


def _reused(request: Request) -> Invalid:
    key = request.headers.get(IDEMPOTENCY_HEADER, "")
    return Invalid(IDEMPOTENCY_HEADER, key, "reused with another body", "header",
                   f"{IDEMPOTENCY_HEADER} {key!r} was first used on {request.url.path} with "
                   "another body: use a new key for a new request")


def review_statuses(request: Request, include: str | None, what: str) -> tuple[str, ...]:
    """Return the claim statuses a read counts (rules.counted_statuses for the caller)."""
    return counted_statuses(viewer(request), include, what)


def cursor(value: str | None) -> int:
    """Return the position a page's `after` cursor names (0 without one)."""
    return number(value, "after", "query") if value else 0
