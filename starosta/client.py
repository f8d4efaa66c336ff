"""A Python client of the starosta HTTP API, sync (`Client`) and async (`AsyncClient`), on httpx.

Typed with the server's own structs, never copies of them: claims are the claim kinds of
`starosta.events.kinds` (`CustodyClaim(person=..., citation=Citation(source=...))`), answers
are decoded into the read models' documents (`Biography`, `Population`, `Ledger`, `ClaimOut`,
`SearchHit`, `LogEvent`, ...) and the write path's replies (`Created`, `Submitted`, `Judged`).
Registered entities and sources read back as plain dicts (their answer structs belong to the
HTTP layer). No Litestar is imported: `pip install starosta` and `import starosta.client`.

    from starosta.client import Client
    from starosta.events.kinds import Citation, DeathClaim

    with Client("http://127.0.0.1:8000", token="demo-contributor-token") as api:
        source = api.register_source({"type": "book", "title": "The Guillotine at Work"}).id
        person = api.register_person("Aron Baron", Citation(source=source)).id
        claim = api.submit(DeathClaim(person=person, date="1937", citation=Citation(source=source)))
        for hit in api.search("persons", "baron"):
            print(hit.id, hit.label)

The log (`events`, `follow`) yields `LogEvent`s. On a redacted row
(`redacted` true: a claim the caller may not see) only `position`, `digest`, `hash` and
`recorded_at` are set; `type`, `stream_id`, `version`, `event_id` and the rest are None.
Actors are account ids (`A-...`) for callers below reviewer; a row written before accounts
and shown so has `pseudonymised` true.

Writes: every POST carries an `Idempotency-Key`, generated once per call (or given with
`idempotency_key=`) and sent again, unchanged with the same body, on each retry: the server
answers a retry with its first answer and appends nothing, so a retried claim is never a
duplicate.

Retries (`Retry`, the bounds are its defaults): a request is retried on a connection error,
a timeout, a dropped connection, and on 502, 503 and 504; at most 5 attempts in all, waiting
0.5 s, 1 s, 2 s, 4 s (doubling, at most 8 s, with up to 20% jitter off) or the seconds the
answer's `Retry-After` names, and never starting an attempt 30 s or more after the first. Past
the bounds, `Unavailable` is raised. Other errors are never retried.

Errors: every problem+json answer is raised as a `StarostaError` subclass by status (`Invalid`
for 400, 413 and 422, `Unauthorized` 401, `Forbidden` 403, `NotFound` 404, `Conflict` 409 and
428, `TooManyRequests` 429, `Unavailable` 502-504 and connection failures), carrying `status`, `title`, `detail` and
`errors`: the fields at fault (`FieldError(field, message, value, where)`).

The token comes from the `token` argument, else the environment variable STAROSTA_TOKEN; the
server from `base_url`, else STAROSTA_SERVER, else http://127.0.0.1:8000.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import functools
import os
import random
import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Generic, Literal, ParamSpec, TypeVar, overload

import httpx
import msgspec

from starosta.events.kinds import AnyClaim, Citation, Claim
from starosta.projections.biographies import Biography
from starosta.projections.claims import ClaimOut, ClaimPage
from starosta.projections.ledger import Aid, Ledger, LedgerEntry
from starosta.projections.population import Population, Timeline
from starosta.projections.registry import ParticipantRoles, PropertyList, PropertyOut
from starosta.projections.search import SearchHit, SearchPage
from starosta.service.feed import HeadOut, HealthOut, LogEvent, LogPage
from starosta.service.domain.replies import Created, Judged, Submitted, SuppressionSet

__all__ = [
    "AsyncClient", "Client", "Conflict", "FieldError", "Forbidden", "Invalid", "NotFound", "Operations",
    "PossibleDuplicate", "Retry", "StarostaError", "TooManyRequests", "Unauthorized", "Unavailable",
    "DEFAULT_SERVER",
]

T = TypeVar("T")
P = ParamSpec("P")
DEFAULT_SERVER = "http://127.0.0.1:8000"
IDEMPOTENCY_HEADER = "Idempotency-Key"
RETRY_STATUSES = frozenset({502, 503, 504})
# A live feed sends a comment at least every 15 s: this much silence means the connection died
FEED_SILENCE = 45.0
EntityKind = Literal["persons", "places", "organizations", "funds"]
JudgedKind = Literal["persons", "places", "organizations"]  # records that take identity judgements
# What an admin may take down: a claim, or an entity (its label and names)
Suppressible = Literal["claims", "persons", "places", "organizations", "funds", "sources"]
Rank = Literal["preferred", "normal", "deprecated"]


# -- errors ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FieldError:
    """A field at fault, as the server's problem document names it: its dotted path
    (`citation.source`, `start`), the message, the value sent, and where it was sent."""

    field: str
    message: str
    value: Any = None
    where: str | None = None


class StarostaError(Exception):
    """An error answer of the API (application/problem+json, RFC 9457), or no answer at all
    (`status` None: the server could not be reached within the retry bounds)."""

    def __init__(self, status: int | None, title: str, detail: str,
                 errors: Iterable[FieldError] = (), *, instance: str | None = None,
                 retry_after: float | None = None) -> None:
        super().__init__(f"{status or 'no answer'} {title}: {detail}")
        self.status, self.title, self.detail = status, title, detail
        self.errors = list(errors)
        self.instance, self.retry_after = instance, retry_after

    @property
    def fields(self) -> list[str]:
        """The dotted names of the fields at fault."""
        return [e.field for e in self.errors]


class Invalid(StarostaError):
    """400 (malformed), 413 (too large) or 422 (invalid fields, each named in `errors`)."""


class Unauthorized(StarostaError):
    """401: no token where one is needed, or a token the server does not accept."""


class Forbidden(StarostaError):
    """403: the token's role is too low, or the archive's rules forbid it."""


class NotFound(StarostaError):
    """404: an id (in the path or the body) names nothing the caller may see."""


class Conflict(StarostaError):
    """409 (the state moved, a stale If-Match) or 428 (If-Match required)."""


class PossibleDuplicate(Conflict):
    """409 `/problems/possible-duplicate`: a new record's name looks like existing records';
    `candidates` lists them ({"id", "label", "matched"}). Register again with
    `not_same_as=[their ids]` if it is another record."""

    def __init__(self, *args: Any, candidates: list[dict[str, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.candidates = candidates or []


DUPLICATE = "/problems/possible-duplicate"


class TooManyRequests(StarostaError):
    """429: this client is past a per-client limit the detail names (failed authentications,
    the live feeds one address or token holds); `retry_after` says when to try again. Not
    retried: the caller decides (a wrong token stays wrong)."""


class Unavailable(StarostaError):
    """502-504 after the retries, or the server unreachable (`status` None)."""


_CLASSES: dict[int, type[StarostaError]] = {
    400: Invalid, 413: Invalid, 422: Invalid, 401: Unauthorized, 403: Forbidden,
    404: NotFound, 409: Conflict, 428: Conflict, 429: TooManyRequests, 502: Unavailable, 503: Unavailable,
    504: Unavailable}


def error_of(response: httpx.Response) -> StarostaError:
    """Return the typed exception of an error answer (problem+json, or any other body)."""
    status = response.status_code
    try:
        body = msgspec.json.decode(response.content)
    except msgspec.DecodeError:
        body = None
    if not isinstance(body, dict):
        body = {"title": response.reason_phrase or "Error", "detail": response.text[:500]}
    errors = [FieldError(str(e.get("field", "")), str(e.get("message", "")), e.get("value"),
                         e.get("in")) for e in body.get("errors") or [] if isinstance(e, dict)]
    cls = _CLASSES.get(status, StarostaError)
    if status == 409 and body.get("type") == DUPLICATE:
        candidates = [c for c in body.get("candidates") or [] if isinstance(c, dict)]
        return PossibleDuplicate(status, str(body.get("title", "Error")), str(body.get("detail", "")),
                                 errors, instance=body.get("instance"), candidates=candidates)
    return cls(status, str(body.get("title", "Error")), str(body.get("detail", "")), errors,
               instance=body.get("instance"), retry_after=retry_after(response))


def retry_after(response: httpx.Response) -> float | None:
    """The seconds an answer's Retry-After asks for (a number or an HTTP date), or None."""
    value = response.headers.get("retry-after")
    if value is None:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - dt.datetime.now(dt.timezone.utc)).total_seconds())


# -- retries ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Retry:
    """How long a request is retried: `attempts` in all (the first included), waiting
    `backoff` seconds before the second and doubling up to `max_backoff` (or the answer's
    Retry-After), no attempt starting `budget` seconds or more after the first."""

    attempts: int = 5
    backoff: float = 0.5
    max_backoff: float = 8.0
    budget: float = 30.0

    def wait(self, attempt: int, started: float, asked: float | None) -> float | None:
        """Seconds to wait before attempt `attempt + 1`, or None when the bounds are spent."""
        if attempt >= self.attempts:
            return None
        if asked is not None:
            delay = asked
        else:
            delay = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
            delay *= random.uniform(0.8, 1.0)  # a crowd of clients does not retry in step
        if time.monotonic() - started + delay >= self.budget:
            return None
        return delay


# Errors after which a request may not have reached the server or its answer was lost
_TRANSIENT = (httpx.NetworkError, httpx.TimeoutException, httpx.RemoteProtocolError)


def _follow_wait(policy: Any, failures: int, started: float, exc: Exception) -> float:
    """How long follow() waits before reconnecting after `failures` failures in a row (the
    server's Retry-After when it gave one); raise when the retry policy gives up."""
    wait = policy.wait(failures, started, exc.error.retry_after if isinstance(exc, _Again) else None)
    if wait is None:
        if isinstance(exc, _Again):
            raise exc.error from None
        raise _unreachable(exc, failures) from exc
    return wait


def _unreachable(exc: Exception, attempts: int) -> Unavailable:
    return Unavailable(None, "Server unreachable", f"{type(exc).__name__}: {exc} (after "
                       f"{attempts} attempt{'s' if attempts > 1 else ''})")


# -- requests and operations, described once for both clients -------------------------------------------------------

@dataclass(frozen=True)
class Call(Generic[T]):
    """One API call: what to send and the type its answer decodes into (None: a dict)."""

    method: str
    path: str
    type: Any = None
    params: Mapping[str, Any] = field(default_factory=dict)
    body: bytes | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    key: str | None = None

    def prepared(self) -> tuple[dict[str, str], dict[str, Any]]:
        """The headers (with an Idempotency-Key on a POST, made once here and reused on every
        retry) and the query parameters (None values left out)."""
        headers = dict(self.headers)
        if self.body is not None:
            headers["Content-Type"] = "application/json"
        if self.method == "POST":
            headers[IDEMPOTENCY_HEADER] = self.key or f"starosta-client-{uuid.uuid4().hex}"
        params = {k: v for k, v in self.params.items() if v is not None}
        return headers, params

    def answer(self, response: httpx.Response) -> T:
        """Decode a 2xx answer into `type`; raise the typed error of any other."""
        if not 200 <= response.status_code < 300:
            raise error_of(response)
        if self.type is None:
            return msgspec.json.decode(response.content)
        return msgspec.json.decode(response.content, type=self.type)


def _json(value: Any) -> bytes:
    """Encode a body: structs as the server reads them, None fields of a dict left out."""
    if isinstance(value, dict):
        value = {k: v for k, v in value.items() if v is not None}
    return msgspec.json.encode(value)


_AT = re.compile(r"^(?P<message>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.S)
_NAMED = re.compile(r"(?:missing required field|contains unknown field) `(?P<field>[^`]+)`")


def field_of(exc: msgspec.ValidationError) -> tuple[str, str]:
    """(dotted field, message) of msgspec's "Expected `int`, got `str` - at `$.count.max`"."""
    match = _AT.match(str(exc))
    message = match["message"] if match else str(exc)
    parts = [p for p in re.split(r"[.\[\]]+", (match["path"] or "") if match else "") if p]
    named = _NAMED.search(message)
    if named:
        parts.append(named["field"])
    return ".".join(parts) or "body", message


def as_claim(claim: Claim | Mapping[str, Any]) -> Claim:
    """Return a claim struct; a dict is checked against its kind here, before anything is
    sent: Invalid (status None) names the field at fault."""
    if isinstance(claim, Claim):
        return claim
    try:
        return msgspec.convert(dict(claim), AnyClaim)
    except msgspec.ValidationError as exc:
        name, message = field_of(exc)
        raise Invalid(None, "Invalid claim", f"{name}: {message} (checked before sending)",
                      [FieldError(name, message, None, "body")]) from None


def _named(name: str, citation: Citation | Mapping[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "citation": citation, **extra}


def _reason(reason: str | None, **more: Any) -> dict[str, Any] | None:
    body = {k: v for k, v in {"reason": reason, **more}.items() if v is not None}
    return body or None


def _review(claim_id: str, action: str, body: dict[str, Any] | None, version: int | None,
            key: str | None) -> Call[ClaimOut]:
    headers = {"If-Match": f'"{version}"'} if version is not None else {}
    return Call("POST", f"/claims/{claim_id}/{action}", ClaimOut,
                body=_json(body) if body else None, headers=headers, key=key)


def _include(pending: bool) -> str | None:
    return "pending" if pending else None


@dataclass(frozen=True)
class Pages(Generic[T]):
    """A paged list: the call of its first page, and the field of each page that holds the
    items (of type `T`); the clients follow each page's `next` to the end."""

    call: Call[Any]
    items: str = "items"


class operation(Generic[P, T]):  # noqa: N801 - used as a decorator, like property
    """One operation of the API, described once: a function from the method's arguments to the
    `Call` it sends. On a `Client` it is a method answering `T`; on an `AsyncClient` a coroutine
    method answering `T`; on the class (`Operations.submit(claim)`), the description: the Call."""

    def __init__(self, describe: Callable[P, Call[T]]) -> None:
        self.describe = describe
        functools.update_wrapper(self, describe)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> Call[T]:
        return self.describe(*args, **kwargs)

    @overload
    def __get__(self, client: None, owner: type) -> operation[P, T]: ...
    @overload
    def __get__(self, client: Client, owner: type) -> Callable[P, T]: ...
    @overload
    def __get__(self, client: AsyncClient, owner: type) -> Callable[P, Awaitable[T]]: ...

    def __get__(self, client: Any, owner: type) -> Any:
        return self if client is None else client._method(self.describe)


class paged(Generic[P, T]):  # noqa: N801 - used as a decorator, like property
    """A paged list of the API, described once: a function from the method's arguments to its
    `Pages`. On a `Client` it is a method returning an iterator of every item, on an
    `AsyncClient` an async iterator; on the class, the description."""

    def __init__(self, describe: Callable[P, Pages[T]]) -> None:
        self.describe = describe
        functools.update_wrapper(self, describe)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> Pages[T]:
        return self.describe(*args, **kwargs)

    @overload
    def __get__(self, client: None, owner: type) -> paged[P, T]: ...
    @overload
    def __get__(self, client: Client, owner: type) -> Callable[P, Iterator[T]]: ...
    @overload
    def __get__(self, client: AsyncClient, owner: type) -> Callable[P, AsyncIterator[T]]: ...

    def __get__(self, client: Any, owner: type) -> Any:
        return self if client is None else client._iterator(self.describe)


class Operations:
    """Every operation of the API, described once for both clients (`Client` sends each call
    and returns its answer, `AsyncClient` awaits it): adding an endpoint adds one function here.
    Each takes the method's arguments (never `self`) and returns the Call to send, or the Pages
    to iterate."""

    # registry --------------------------------------------------------------------------------------
    @operation
    def register_source(csl: Mapping[str, Any], *, note: str | None = None,
                        source_type: str | None = None, archive: Mapping[str, Any] | None = None,
                        via: Iterable[str] = (), synthetic: bool | None = None,
                        idempotency_key: str | None = None) -> Call[Created]:
        """Register a source (a CSL-JSON item): its id."""
        body = {"csl": dict(csl), "note": note, "source_type": source_type, "archive": archive,
                "via": list(via) or None, "synthetic": synthetic}
        return Call("POST", "/sources", Created, body=_json(body), key=idempotency_key)

    @operation
    def register_person(name: str, citation: Citation | Mapping[str, Any], *,
                        idempotency_key: str | None = None, **extra: Any) -> Call[Created]:
        """Register a person under a name (extra: name_kind, script, parts, partial, external_ids,
        said, note, not_same_as). PossibleDuplicate when the name looks like existing persons'."""
        return Call("POST", "/persons", Created, body=_json(_named(name, citation, extra)),
                    key=idempotency_key)

    @operation
    def register_place(name: str, kind: str, citation: Citation | Mapping[str, Any], *,
                       idempotency_key: str | None = None, **extra: Any) -> Call[Created]:
        """Register a place of a kind (prison, camp, isolator, exile, transit, other; extra:
        aliases, parent, latitude, longitude, identification, external_ids)."""
        return Call("POST", "/places", Created,
                    body=_json(_named(name, citation, {"kind": kind, **extra})), key=idempotency_key)

    @operation
    def locate_place(place_id: str, latitude: float, longitude: float, coordinates_source: str, *,
                     idempotency_key: str | None = None) -> Call[Created]:
        """Reviewer: set a place's coordinates (WGS 84) with where they come from (geography,
        not a claim); a merged record's go to its survivor (the answer's `id`)."""
        return Call("POST", f"/places/{place_id}/location", Created, key=idempotency_key,
                    body=_json({"latitude": latitude, "longitude": longitude,
                                "coordinates_source": coordinates_source}))

    @operation
    def register_organization(name: str, kind: str, citation: Citation | Mapping[str, Any], *,
                              idempotency_key: str | None = None, **extra: Any) -> Call[Created]:
        """Register an organisation (aid_fund, committee, colony, group, movement, union, ...)."""
        return Call("POST", "/organizations", Created,
                    body=_json(_named(name, citation, {"kind": kind, **extra})), key=idempotency_key)

    @operation
    def register_fund(name: str, citation: Citation | Mapping[str, Any], *,
                      idempotency_key: str | None = None, **extra: Any) -> Call[Created]:
        """Register an aid fund (extra: organization)."""
        return Call("POST", "/funds", Created, body=_json(_named(name, citation, extra)),
                    key=idempotency_key)

    @operation
    def register_property(key: str, label: str, datatype: str, *,
                          idempotency_key: str | None = None, **extra: Any) -> Call[Created]:
        """Admin: register a property (extra: description, single, applies_to, entity_kinds,
        or_string, unit, url_pattern, pattern), usable at once by statements and qualifiers."""
        return Call("POST", "/properties", Created, key=idempotency_key,
                    body=_json({"key": key, "label": label, "datatype": datatype, **extra}))

    @operation
    def properties() -> Call[PropertyList]:
        """Every property: the seeded vocabulary, then those admins registered."""
        return Call("GET", "/properties", PropertyList)

    @operation
    def property_of(ref: str) -> Call[PropertyOut]:
        """A property by id (PR-...) or key."""
        return Call("GET", f"/properties/{ref}", PropertyOut)

    @operation
    def source(source_id: str) -> Call[dict[str, Any]]:
        """A source and the claims citing it (a dict: the answer of GET /sources/{id})."""
        return Call("GET", f"/sources/{source_id}")

    @operation
    def entity(kind: EntityKind, entity_id: str) -> Call[dict[str, Any]]:
        """A person, place, organisation or fund record with its names (a dict)."""
        return Call("GET", f"/{kind}/{entity_id}")

    @paged
    def search(kind: EntityKind, q: str | None = None, *, page_size: int = 100) -> Pages[SearchHit]:
        """Every match of `q` among persons, places, organisations or funds, best first (all
        of them, in registration order, without `q`)."""
        return Pages(Call("GET", f"/{kind}", SearchPage, params={"q": q, "limit": page_size}))

    @paged
    def persons_by_surname(q: str | None = None, *, page_size: int = 100) -> Pages[SearchHit]:
        """Every person (or every match of `q`) by surname (GET /persons?order=surname): by
        the surname of their preferred, else earliest, approved name claim with parts (each
        hit's `surname`), persons without one after, by label."""
        return Pages(Call("GET", "/persons", SearchPage,
                          params={"q": q, "order": "surname", "limit": page_size}))

    @operation
    def merge(person_id: str, into: str, reason: str, citation: Citation | None = None, *,
              idempotency_key: str | None = None, kind: JudgedKind = "persons") -> Call[Judged]:
        """Reviewer: judge a person (place, organisation: `kind`) record the same as `into`
        (merged into it)."""
        return Call("POST", f"/{kind}/{person_id}/merge", Judged, key=idempotency_key,
                    body=_json({"into": into, "reason": reason, "citation": citation}))

    @operation
    def unmerge(person_id: str, reason: str, *, idempotency_key: str | None = None,
                kind: JudgedKind = "persons") -> Call[Judged]:
        """Reviewer: undo a merge of this person (place, organisation: `kind`) record."""
        return Call("POST", f"/{kind}/{person_id}/unmerge", Judged, key=idempotency_key,
                    body=_json({"reason": reason}))

    @operation
    def distinct(person_id: str, other: str, reason: str, citation: Citation | None = None, *,
                 idempotency_key: str | None = None, kind: JudgedKind = "persons") -> Call[Judged]:
        """Reviewer: judge two person (place, organisation: `kind`) records different."""
        return Call("POST", f"/{kind}/{person_id}/distinct", Judged, key=idempotency_key,
                    body=_json({"from": other, "reason": reason, "citation": citation}))

    @operation
    def identify(record_id: str, other: str, certainty: Literal["probable", "possible"],
                 reason: str, citation: Citation | None = None, *,
                 idempotency_key: str | None = None, kind: JudgedKind = "persons") -> Call[Judged]:
        """Reviewer: judge a person (place, organisation: `kind`) record possibly the same as
        `other` ("probable" or "possible"), without merging them."""
        return Call("POST", f"/{kind}/{record_id}/identify", Judged, key=idempotency_key,
                    body=_json({"with": other, "certainty": certainty, "reason": reason,
                                "citation": citation}))

    @operation
    def unidentify(record_id: str, other: str, reason: str, *, idempotency_key: str | None = None,
                   kind: JudgedKind = "persons") -> Call[Judged]:
        """Reviewer: withdraw the identification between this record and `other`."""
        return Call("POST", f"/{kind}/{record_id}/unidentify", Judged, key=idempotency_key,
                    body=_json({"with": other, "reason": reason}))

    @operation
    def suppress(kind: Suppressible, target_id: str, reason: str, *,
                 idempotency_key: str | None = None) -> Call[SuppressionSet]:
        """Admin: take a claim's content, or an entity's label and names, down from readers."""
        return Call("POST", f"/{kind}/{target_id}/suppress", SuppressionSet,
                    body=_json({"reason": reason}), key=idempotency_key)

    @operation
    def unsuppress(kind: Suppressible, target_id: str, reason: str, *,
                   idempotency_key: str | None = None) -> Call[SuppressionSet]:
        """Admin: undo a take-down."""
        return Call("POST", f"/{kind}/{target_id}/unsuppress", SuppressionSet,
                    body=_json({"reason": reason}), key=idempotency_key)

    # claims ----------------------------------------------------------------------------------------
    @operation
    def submit(claim: Claim | Mapping[str, Any], *,
               idempotency_key: str | None = None) -> Call[Submitted]:
        """Submit a claim (a claim struct, or a dict checked against its kind first): pending."""
        return Call("POST", "/claims", Submitted, body=_json(as_claim(claim)), key=idempotency_key)

    @operation
    def claim(claim_id: str) -> Call[ClaimOut]:
        """A claim with its state, version (for `version=` below) and review history."""
        return Call("GET", f"/claims/{claim_id}", ClaimOut)

    @paged
    def claims(*, status: str | None = None, person: str | None = None,
               place: str | None = None, source: str | None = None,
               contributor: str | None = None, kind: str | None = None,
               participant: str | None = None, role: str | None = None,
               page_size: int = 100, group: str | None = None, property: str | None = None,
               value: str | None = None, denies: str | None = None,
               attributed_to: str | None = None,
               organization: str | None = None) -> Pages[ClaimOut]:
        """Every claim the caller may see that matches the filters, oldest first
        (`participant`, `role`: a participant of the claim, in that role; `group`: the claims
        whose subject is that group; `property=` (id or key) and `value=`: the claims holding
        that property's value, a statement's or a qualifier's, the value compared by its
        normalised key; `denies`: the claims denying that claim; `attributed_to`: the claims
        attributed to that person, organisation or source; `organization`: the claims naming
        that organisation in any field)."""
        return Pages(Call("GET", "/claims", ClaimPage, params={
            "status": status, "person": person, "place": place, "source": source,
            "contributor": contributor, "kind": kind, "participant": participant, "role": role,
            "limit": page_size, "group": group, "property": property, "value": value,
            "denies": denies, "attributed_to": attributed_to, "organization": organization}))

    @operation
    def participant_roles() -> Call[ParticipantRoles]:
        """The vocabulary of participant roles: the seeded ones, then those admins added."""
        return Call("GET", "/participant-roles", ParticipantRoles)

    @operation
    def add_participant_role(key: str, label: str, description: str, *,
                             idempotency_key: str | None = None) -> Call[Created]:
        """Admin: add a participant role (its key is the answer's `id`)."""
        return Call("POST", "/participant-roles", Created, key=idempotency_key,
                    body=_json({"key": key, "label": label, "description": description}))

    @operation
    def approve(claim_id: str, reason: str | None = None, *, version: int | None = None,
                idempotency_key: str | None = None) -> Call[ClaimOut]:
        """Approve (a contested claim: dismiss the contest). `version`: its If-Match."""
        return _review(claim_id, "approve", _reason(reason), version, idempotency_key)

    @operation
    def reject(claim_id: str, reason: str, *, version: int | None = None,
               idempotency_key: str | None = None) -> Call[ClaimOut]:
        """Reject a claim. `version`: its If-Match."""
        return _review(claim_id, "reject", _reason(reason), version, idempotency_key)

    @operation
    def contest(claim_id: str, reason: str, citation: Citation | None = None, *,
                version: int | None = None, idempotency_key: str | None = None) -> Call[ClaimOut]:
        """Contest a claim (with a citation that says otherwise). `version`: its If-Match."""
        return _review(claim_id, "contest", _reason(reason, citation=citation), version,
                       idempotency_key)

    @operation
    def retract(claim_id: str, reason: str, *, version: int | None = None,
                idempotency_key: str | None = None) -> Call[ClaimOut]:
        """Retract a claim. `version`: its If-Match."""
        return _review(claim_id, "retract", _reason(reason), version, idempotency_key)

    @operation
    def rank(claim_id: str, rank: Rank, reason: str | None = None, *, version: int,
             citation: Citation | Mapping[str, Any] | None = None,
             idempotency_key: str | None = None) -> Call[ClaimOut]:
        """Rank an approved claim, against the version read (required: If-Match); a deprecated
        rank may cite the source that retracts the claim (`citation`)."""
        body: dict[str, Any] = {"rank": rank, **(_reason(reason) or {})}
        if citation is not None:
            body["citation"] = citation
        return _review(claim_id, "rank", body, version, idempotency_key)

    # read models -----------------------------------------------------------------------------------
    @operation
    def biography(person_id: str, *, as_of: int | str | None = None,
                  include_pending: bool = False) -> Call[Biography]:
        """A person's biography (as of a log position or a time, with `as_of`)."""
        return Call("GET", f"/persons/{person_id}/biography", Biography,
                    params={"as_of": as_of, "include": _include(include_pending)})

    @operation
    def aid(person_id: str) -> Call[Aid]:
        """The aid a person received, with its totals."""
        return Call("GET", f"/persons/{person_id}/aid", Aid)

    @operation
    def population(place_id: str, at: str, *, include_children: bool = False,
                   include_pending: bool = False) -> Call[Population]:
        """Who was held at a place on a date."""
        return Call("GET", f"/places/{place_id}/population", Population, params={
            "at": at, "include_children": "true" if include_children else None,
            "include": _include(include_pending)})

    @operation
    def population_timeline(place_id: str, *, step: Literal["year", "month"] = "year",
                            start: str | None = None, end: str | None = None,
                            include_children: bool = False,
                            include_pending: bool = False) -> Call[Timeline]:
        """A place's population per year or month."""
        return Call("GET", f"/places/{place_id}/population/timeline", Timeline, params={
            "step": step, "from": start, "to": end,
            "include_children": "true" if include_children else None,
            "include": _include(include_pending)})

    @operation
    def ledger(fund_id: str, *, include_pending: bool = False, page_size: int = 100,
               after: str | None = None) -> Call[Ledger]:
        """A fund's totals and one page of its entries (`ledger_entries` iterates them all)."""
        return Call("GET", f"/funds/{fund_id}/ledger", Ledger, params={
            "include": _include(include_pending), "limit": page_size, "after": after})

    @paged
    def ledger_entries(fund_id: str, *, include_pending: bool = False,
                       page_size: int = 1000) -> Pages[LedgerEntry]:
        """Every entry of a fund's ledger."""
        return Pages(Call("GET", f"/funds/{fund_id}/ledger", Ledger, params={
            "include": _include(include_pending), "limit": page_size}), "entries")

    # the log ---------------------------------------------------------------------------------------
    @paged
    def events(after: int = 0, *, page_size: int = 1000) -> Pages[LogEvent]:
        """The log after `after`, in order, to its current head (redacted as GET /events)."""
        return Pages(Call("GET", "/events", LogPage, params={"after": after, "limit": page_size}))

    @operation
    def head() -> Call[HeadOut]:
        """The log's last position and its chain hash."""
        return Call("GET", "/events/head", HeadOut)

    @operation
    def health() -> Call[HealthOut]:
        """The service's status and the log position it has reached."""
        return Call("GET", "/health", HealthOut)


class _Feed:
    """Server-Sent Events read line by line (the WHATWG rules this server's feed needs):
    returns a LogEvent at each event's blank line, skips comments."""

    def __init__(self) -> None:
        self.data: list[str] = []

    def line(self, text: str) -> LogEvent | None:
        if text == "":
            data, self.data = self.data, []
            return msgspec.json.decode("\n".join(data), type=LogEvent) if data else None
        name, _, value = text.partition(":")
        if name == "data":
            self.data.append(value[1:] if value.startswith(" ") else value)
        return None  # comments (":..."), id, event and retry: the data carries the position


def _feed_call(position: int, timeout: int | None) -> tuple[dict[str, Any], dict[str, str]]:
    params = {"after": position, **({"timeout": timeout} if timeout is not None else {})}
    return params, {"Last-Event-ID": str(position), "Accept": "text/event-stream"}


def _client_args(base_url: str | None, token: str | None, timeout: float | httpx.Timeout,
                 headers: Mapping[str, str] | None) -> dict[str, Any]:
    token = token if token is not None else os.environ.get("STAROSTA_TOKEN") or None
    base = (base_url or os.environ.get("STAROSTA_SERVER") or DEFAULT_SERVER).rstrip("/")
    sent = {"User-Agent": "starosta-client/0.1", **(headers or {})}
    if token:
        sent["Authorization"] = f"Bearer {token}"
    return {"base_url": base, "headers": sent,
            "timeout": timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout, connect=5.0)}


# -- the sync client ---------------------------------------------------------------------------------

class Client(Operations):
    """The API, synchronously: every method of `Operations`, answering at once. A context
    manager; `close()` releases its connections.

    `last_response` is the last HTTP answer received (its headers: `Idempotent-Replayed`,
    `ETag`)."""

    def __init__(self, base_url: str | None = None, *, token: str | None = None,
                 retry: Retry = Retry(), timeout: float | httpx.Timeout = 10.0,
                 headers: Mapping[str, str] | None = None,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.retry = retry
        self._http = httpx.Client(**_client_args(base_url, token, timeout, headers), transport=transport)
        self.base_url = str(self._http.base_url)
        self.last_response: httpx.Response | None = None

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def send(self, call: Call[T], retry: Retry | None = None) -> T:
        """Send a call, retrying within the bounds (module docstring); return its decoded answer."""
        policy = retry or self.retry
        headers, params = call.prepared()
        started, attempt = time.monotonic(), 0
        while True:
            attempt += 1
            try:
                response = self._http.request(call.method, call.path, params=params,
                                              content=call.body, headers=headers)
            except _TRANSIENT as exc:
                wait = policy.wait(attempt, started, None)
                if wait is None:
                    raise _unreachable(exc, attempt) from exc
                time.sleep(wait)
                continue
            if response.status_code in RETRY_STATUSES:
                wait = policy.wait(attempt, started, retry_after(response))
                if wait is not None:
                    time.sleep(wait)
                    continue
            self.last_response = response
            return call.answer(response)

    def _method(self, describe: Callable[..., Call[T]]) -> Callable[..., T]:
        """An operation as this client's method: send the call it describes (Operations)."""
        @functools.wraps(describe)
        def method(*args: Any, **kwargs: Any) -> T:
            return self.send(describe(*args, **kwargs))
        return method

    def _iterator(self, describe: Callable[..., Pages[T]]) -> Callable[..., Iterator[T]]:
        """A paged list as this client's method: iterate every item of every page."""
        @functools.wraps(describe)
        def method(*args: Any, **kwargs: Any) -> Iterator[T]:
            return self._each(describe(*args, **kwargs))
        return method

    def _each(self, pages: Pages[T]) -> Iterator[T]:
        call, after = pages.call, pages.call.params.get("after")
        while True:
            page = self.send(replace(call, params={**call.params, "after": after}))
            yield from getattr(page, pages.items)
            if page.next is None:
                return
            after = page.next

    # the live feed ---------------------------------------------------------------------------------
    def follow(self, after: int = 0, *, timeout: int | None = None,
               retry: Retry | None = None) -> Iterator[LogEvent]:
        """Every event after `after`, then each new one as it is appended, forever (break out
        of the loop to stop). Reads GET /events/stream; when the server closes it (after its
        `timeout`, or stopping) or the connection drops, reconnects with Last-Event-ID:
        no event is skipped or given twice. Raises Unavailable when reconnecting fails past
        the retry bounds (counted from the first failure since the last connection)."""
        policy, position = retry or self.retry, after
        failures, started = 0, 0.0
        while True:
            params, headers = _feed_call(position, timeout)
            try:
                with self._http.stream("GET", "/events/stream", params=params, headers=headers,
                                       timeout=self._feed_timeout()) as response:
                    if response.status_code != 200:
                        response.read()
                        error = error_of(response)
                        if response.status_code not in RETRY_STATUSES:
                            raise error
                        raise _Again(error)
                    failures, opened, before = 0, time.monotonic(), position
                    feed = _Feed()
                    for line in response.iter_lines():
                        event = feed.line(line)
                        if event is not None and event.position > position:
                            position = event.position
                            yield event
                _closed(opened, before, position)  # closed by the server: reconnect at once
                continue
            except (_Again, *_TRANSIENT) as exc:
                failures += 1
                started = time.monotonic() if failures == 1 else started
                time.sleep(_follow_wait(policy, failures, started, exc))

    def _feed_timeout(self) -> httpx.Timeout:
        return httpx.Timeout(self._http.timeout.connect, read=FEED_SILENCE,
                             write=self._http.timeout.write, pool=self._http.timeout.pool)


class _Again(Exception):
    """A feed answer to retry (503 past the server's open streams, 502, 504), or a feed the
    server closed at once (a failing disk): reconnecting waits, within the retry bounds."""

    def __init__(self, error: StarostaError) -> None:
        super().__init__(str(error))
        self.error = error


def _closed(opened: float, before: int, position: int) -> None:
    """After the server closed a feed: raise _Again when it closed at once with nothing sent
    (the server's own timeout is at least a second), so that reconnecting backs off."""
    if position == before and time.monotonic() - opened < 0.5:
        raise _Again(Unavailable(None, "Feed closed", "the server closed the live feed at once"))


# -- the async client --------------------------------------------------------------------------------

class AsyncClient(Operations):
    """The API for asyncio: every method of `Operations` (the same as `Client`), awaited;
    iterators are async (`async for event in api.follow(after=0)`)."""

    def __init__(self, base_url: str | None = None, *, token: str | None = None,
                 retry: Retry = Retry(), timeout: float | httpx.Timeout = 10.0,
                 headers: Mapping[str, str] | None = None,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.retry = retry
        self._http = httpx.AsyncClient(**_client_args(base_url, token, timeout, headers),
                                       transport=transport)
        self.base_url = str(self._http.base_url)
        self.last_response: httpx.Response | None = None

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def send(self, call: Call[T], retry: Retry | None = None) -> T:
        """Send a call, retrying within the bounds; return its decoded answer."""
        policy = retry or self.retry
        headers, params = call.prepared()
        started, attempt = time.monotonic(), 0
        while True:
            attempt += 1
            try:
                response = await self._http.request(call.method, call.path, params=params,
                                                    content=call.body, headers=headers)
            except _TRANSIENT as exc:
                wait = policy.wait(attempt, started, None)
                if wait is None:
                    raise _unreachable(exc, attempt) from exc
                await asyncio.sleep(wait)
                continue
            if response.status_code in RETRY_STATUSES:
                wait = policy.wait(attempt, started, retry_after(response))
                if wait is not None:
                    await asyncio.sleep(wait)
                    continue
            self.last_response = response
            return call.answer(response)

    def _method(self, describe: Callable[..., Call[T]]) -> Callable[..., Awaitable[T]]:
        """An operation as this client's coroutine method: send the call it describes."""
        @functools.wraps(describe)
        async def method(*args: Any, **kwargs: Any) -> T:
            return await self.send(describe(*args, **kwargs))
        return method

    def _iterator(self, describe: Callable[..., Pages[T]]) -> Callable[..., AsyncIterator[T]]:
        """A paged list as this client's method: an async iterator of every item."""
        @functools.wraps(describe)
        def method(*args: Any, **kwargs: Any) -> AsyncIterator[T]:
            return self._each(describe(*args, **kwargs))
        return method

    async def _each(self, pages: Pages[T]) -> AsyncIterator[T]:
        call, after = pages.call, pages.call.params.get("after")
        while True:
            page = await self.send(replace(call, params={**call.params, "after": after}))
            for item in getattr(page, pages.items):
                yield item
            if page.next is None:
                return
            after = page.next

    # the live feed ---------------------------------------------------------------------------------
    async def follow(self, after: int = 0, *, timeout: int | None = None,
                     retry: Retry | None = None) -> AsyncIterator[LogEvent]:
        """As `Client.follow`, asynchronously."""
        policy, position = retry or self.retry, after
        failures, started = 0, 0.0
        timeouts = httpx.Timeout(self._http.timeout.connect, read=FEED_SILENCE,
                                 write=self._http.timeout.write, pool=self._http.timeout.pool)
        while True:
            params, headers = _feed_call(position, timeout)
            try:
                async with self._http.stream("GET", "/events/stream", params=params,
                                             headers=headers, timeout=timeouts) as response:
                    if response.status_code != 200:
                        await response.aread()
                        error = error_of(response)
                        if response.status_code not in RETRY_STATUSES:
                            raise error
                        raise _Again(error)
                    failures, opened, before = 0, time.monotonic(), position
                    feed = _Feed()
                    async for line in response.aiter_lines():
                        event = feed.line(line)
                        if event is not None and event.position > position:
                            position = event.position
                            yield event
                _closed(opened, before, position)
                continue
            except (_Again, *_TRANSIENT) as exc:
                failures += 1
                started = time.monotonic() if failures == 1 else started
                await asyncio.sleep(_follow_wait(policy, failures, started, exc))
