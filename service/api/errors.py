"""Every error as application/problem+json (RFC 9457), naming the field and the value at fault.

Domain exceptions are mapped to HTTP here, once. Litestar answers validation failures
with 400 and plain JSON; we keep 400 for malformed JSON and answer invalid fields 422.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any, Literal, cast

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.utils.empty import value_or_default

from starosta.events.errors import (
    Conflict,
    DomainError,
    Forbidden,
    Invalid,
    NotFound,
    PreconditionRequired,
    Unauthenticated,
)
from starosta.events.store import ConcurrencyError, IdempotencyConflict, StoreUnavailable
from starosta.service.lane import ClientBusy, LaneFull

PROBLEM = "application/problem+json"
log = logging.getLogger("starosta")

# Every control character (all of C0, tab and newline too; DEL; C1) and Unicode's own line and paragraph
# separators: any of them could end a log line or forge one
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def log_safe(text: object) -> str:
    """Return `text` (str() of anything) fit for one log line: each control character as its
    Python escape (a newline as \\n, NUL as \\x00), a PostgreSQL URL's secrets as ***
    (service.backends.scrubbed). The one escape of every log line that carries request-derived text
    (SafeLog applies it to every record of the service's logger)."""
    from starosta.service.backends import scrubbed

    text = scrubbed(str(text))
    return _UNSAFE.sub(lambda m: repr(m.group())[1:-1], text)


def safe_traceback(exc: BaseException) -> str:
    """Return the traceback of `exc` (and of its causes) with every exception's message
    escaped by log_safe; the frames themselves are the code's own text."""
    lines: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    chain: list[BaseException] = []
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append(current)
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    for position, item in enumerate(reversed(chain)):
        if position:
            lines.append("The above exception led to the next one:\n")
        lines.append("Traceback (most recent call last):\n")
        lines.extend(traceback.format_tb(item.__traceback__))
        lines.append(f"{type(item).__qualname__}: {log_safe(item)}")
        lines.append("\n")
    return "".join(lines).rstrip("\n")


class LogBudget:
    """At most `lines` log lines of one kind in each window of `seconds`: a flood of bad
    requests (wrong tokens, sent as fast as a client can) must neither flood the service's log
    nor stall a server whose output is read slowly. Lines past the budget are counted, and the
    first line of the next window says how many were left out."""

    def __init__(self, lines: int = 20, seconds: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.lines, self.seconds, self.clock = lines, seconds, clock
        self._lock = threading.Lock()
        self._start = clock()
        self._used = 0
        self._skipped = 0

    def take(self) -> tuple[bool, int]:
        """Return (whether this line may be logged, how many lines were left out before it:
        non-zero only on the first line of a new window)."""
        with self._lock:
            now = self.clock()
            if now - self._start >= self.seconds:
                self._start, self._used = now, 0
            if self._used >= self.lines:
                self._skipped += 1
                return False, 0
            self._used += 1
            skipped, self._skipped = self._skipped, 0
            return True, skipped


class SafeLog(logging.Filter):
    """A filter on the service's logger: each record's message, with its arguments, made one
    escaped line (log_safe), and its traceback escaped (safe_traceback), whatever the call
    site passed. Installed once by create_app (install_safe_log)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a call site's wrong arguments: log them, never raise
            message = f"{record.msg} {record.args!r}"
        record.msg, record.args = log_safe(message), None
        if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
            record.exc_text = safe_traceback(record.exc_info[1])
        return True


def install_safe_log() -> None:
    """Put SafeLog on the service's logger (once, however many apps are built)."""
    if not any(isinstance(f, SafeLog) for f in log.filters):
        log.addFilter(SafeLog())


class FieldError(msgspec.Struct, kw_only=True, omit_defaults=True, rename={"in_": "in"}):
    """One field at fault: its dotted path (`citation.source`, `items.0`), where it was sent,
    what is wrong, and the value sent (absent when it cannot be shown)."""

    field: str
    in_: Literal["body", "query", "path", "header", "cookie"] | None = None
    message: str
    value: Any = msgspec.UNSET


class Candidate(msgspec.Struct, kw_only=True):
    """An existing record a new one may duplicate: its id, its label, and its public name
    that looks like the new name."""

    id: str
    label: str
    matched: str


class Problem(msgspec.Struct, kw_only=True, omit_defaults=True):
    """An RFC 9457 problem document; `errors` lists each invalid field with its value;
    `candidates` (type `/problems/possible-duplicate`, 409) the records a new one may duplicate."""

    title: str
    status: int
    detail: str
    type: str
    instance: str | None = None
    errors: list[FieldError] | None = None
    candidates: list[Candidate] | None = None


def problem(request: Request, status: int, title: str, detail: str,
            errors: list[dict[str, Any]] | None = None,
            headers: dict[str, str] | None = None, type: str = "about:blank",
            candidates: list[dict[str, str]] | None = None) -> Response:
    """Return a problem+json response for `request`."""
    body = Problem(title=title, status=status, detail=detail, type=type,
                   instance=request.url.path,
                   # the same fields as FieldError's (a domain error's `errors()`), encoded alike
                   errors=cast(list[FieldError] | None, errors),
                   candidates=[Candidate(**c) for c in candidates] if candidates is not None else None)
    return Response(msgspec.json.encode(body), status_code=status, media_type=PROBLEM,
                    headers=headers)


_MISSING = object()


def clipped(value: str, limit: int = 64) -> str:
    """Return a sent value as a problem document shows it: whole up to `limit` characters,
    else its start and its length (a 5,000-digit header is not echoed back whole)."""
    return value if len(value) <= limit else f"{value[:limit]}… ({len(value)} characters)"


def _lookup(container: Any, key: str) -> Any:
    """Follow a dotted key ('citation.source', 'items.0') into decoded JSON."""
    node = container
    for part in key.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return _MISSING
    return node


# Header parameters as Litestar names them (their Python names) -> as clients send them
HEADER_NAMES = {"last_event_id": "Last-Event-ID", "if_none_match": "If-None-Match",
                "if_match": "If-Match", "idempotency_key": "Idempotency-Key"}


def _offending_value(request: Request, source: str | None, key: str) -> Any:
    if source == "header":
        return request.headers.get(key, _MISSING)
    if source == "query":
        return request.query_params.get(key, _MISSING)
    if source == "path":
        return request.path_params.get(key, _MISSING)
    if source == "body":
        raw = value_or_default(getattr(request._connection_state, "body", None), None)
        if not raw:
            return _MISSING
        try:
            decoded = msgspec.json.decode(raw)
        except msgspec.DecodeError:
            return _MISSING
        return decoded if key == "data" else _lookup(decoded, key)
    return _MISSING


_AT = re.compile(r"^(?P<message>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.S)
_NAMED = re.compile(r"(?:missing required field|contains unknown field) `(?P<field>[^`]+)`")


def _field_path(path: str, message: str) -> str:
    """Turn msgspec's `$.a[0].b` and a message naming a field into 'a.0.b.field'."""
    parts = [p for p in re.split(r"[.\[\]]+", path) if p]
    named = _NAMED.search(message)
    if named:
        parts.append(named["field"])
    return ".".join(parts) or "body"


def strict_problem(request: Request, exc: Exception, body: bytes) -> Response:
    """422 for a body that does not decode strictly into its type, naming the field and value."""
    match = _AT.match(str(exc))
    message = match["message"] if match else str(exc)
    field = _field_path(match["path"] or "" if match else "", message)
    try:
        value = _lookup(msgspec.json.decode(body), field)
    except msgspec.DecodeError:
        value = _MISSING
    if field.split(".")[-1] == "amount" and isinstance(value, (int, float)):
        message = (f"amounts are exact decimal strings such as \"{value}\", never JSON numbers "
                   "(floats lose money)")
    if value is _MISSING:  # a missing field: its value is absent, reported as null
        value = None
    entry: dict[str, Any] = {"field": field, "in": "body", "message": message, "value": value}
    detail = f"{field}={msgspec.json.encode(value).decode()[:200]}: {message}"
    return problem(request, 422, "Invalid request", detail, [entry])


_MISSING_PARAMETER = re.compile(r"^Missing required (?P<where>query|header|path|cookie) parameter "
                                r"'(?P<key>[^']+)'")


def validation_problem(request: Request, exc: ValidationException) -> Response:
    """422 naming each invalid field and its value (400 when the JSON itself is malformed)."""
    extra = exc.extra if isinstance(exc.extra, list) else []
    missing = _MISSING_PARAMETER.match(str(exc.detail))
    if not extra and missing:  # Litestar says so in prose, with no field: name it, 422
        where, key = missing["where"], missing["key"]
        return problem(request, 422, "Invalid request", f"{key}: a required {where} parameter "
                       "is missing", [{"field": key, "in": where, "message": "required",
                                       "value": None}])
    if not extra:
        return problem(request, 400, "Malformed request", str(exc.detail))
    errors, parts = [], []
    for item in extra:
        key = str(item.get("key", "?"))
        source = item.get("source")
        message = str(item.get("message", "invalid"))
        if source == "body":
            key = _field_path("" if key == "data" else key, message)
        elif source == "header":
            key = HEADER_NAMES.get(key, key.replace("_", "-"))
        value = _offending_value(request, source, key)
        if source != "body" and isinstance(value, str):
            value = clipped(value)
        if key.split(".")[-1] == "amount" and isinstance(value, (int, float)):
            message = (f"amounts are exact decimal strings such as \"{value}\", never JSON "
                       "numbers (floats lose money)")
        entry: dict[str, Any] = {"field": key, "in": source, "message": message}
        if value is not _MISSING:
            entry["value"] = value
            parts.append(f"{key}={msgspec.json.encode(value).decode()[:200]}: {message}")
        else:
            parts.append(f"{key}: {message}")
        errors.append(entry)
    return problem(request, 422, "Invalid request", "; ".join(parts), errors)


def http_problem(request: Request, exc: HTTPException) -> Response:
    """Litestar's HTTP exceptions (404 route, 405, 413 ...) as problem documents."""
    if isinstance(exc, ValidationException):
        return validation_problem(request, exc)
    status = exc.status_code
    titles = {400: "Malformed request", 401: "Unauthorized", 403: "Forbidden",
              404: "Not found", 405: "Method not allowed", 413: "Request body too large",
              429: "Too many requests"}
    detail = str(exc.detail)
    if status == 413:
        detail = f"the request body is over the configured limit ({detail})"
    headers = getattr(exc, "headers", None)
    return problem(request, status, titles.get(status, "Error"), detail, headers=headers)


DOMAIN_STATUS: dict[type[DomainError], int] = {
    Invalid: 422, NotFound: 404, Unauthenticated: 401, Forbidden: 403, Conflict: 409,
    PreconditionRequired: 428}


def http_status(exc: DomainError) -> int:
    """The HTTP status of an error: the one place a domain error's class becomes a code."""
    return next((code for cls, code in DOMAIN_STATUS.items() if isinstance(exc, cls)), 400)


def domain_problem(request: Request, exc: DomainError) -> Response:
    """A domain error as problem+json (a PossibleDuplicate with its type and candidates)."""
    return problem(request, http_status(exc), exc.title, exc.detail, exc.errors,
                   type=getattr(exc, "problem_type", "about:blank"),
                   candidates=getattr(exc, "candidates", None))


def concurrency_problem(request: Request, exc: ConcurrencyError) -> Response:
    return problem(request, 409, "Conflict", str(exc))


def idempotency_problem(request: Request, exc: IdempotencyConflict) -> Response:
    return problem(request, 409, "Conflict", str(exc))


def unavailable_problem(request: Request, exc: StoreUnavailable) -> Response:
    log.error("store unavailable: %s", exc)
    from starosta.service.backends import scrubbed

    return problem(request, 503, "Service unavailable", scrubbed(str(exc)),
                   headers={"Retry-After": "1"})


def client_busy_problem(request: Request, exc: ClientBusy) -> Response:
    """i23-lane: one client's share of the expensive-read lane is taken: 429, Retry-After."""
    return problem(request, 429, "Too many requests", str(exc),
                   headers={"Retry-After": str(exc.retry_after)})


def lane_full_problem(request: Request, exc: LaneFull) -> Response:
    """i23-lane: the expensive-read lane's threads and queue are all taken: 503, Retry-After."""
    return problem(request, 503, "Service unavailable", str(exc),
                   headers={"Retry-After": str(exc.retry_after)})


def internal_problem(request: Request, exc: Exception) -> Response:
    """The last resort: log the bug (escaped: SafeLog), answer 500 without leaking internals."""
    from starosta.service.api.common import client_key

    log.error("unhandled error on %s %s from %s", request.method, request.url.path,
              client_key(request), exc_info=exc)
    return problem(request, 500, "Internal error",
                   "the server failed to answer this request; it was logged")


EXCEPTION_HANDLERS = {
    HTTPException: http_problem,
    DomainError: domain_problem,
    ConcurrencyError: concurrency_problem,
    IdempotencyConflict: idempotency_problem,
    StoreUnavailable: unavailable_problem,
    ClientBusy: client_busy_problem,  # i23-lane
    LaneFull: lane_full_problem,  # i23-lane
    Exception: internal_problem,
}
