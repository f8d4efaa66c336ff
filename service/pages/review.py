"""The reviewer's queue, `GET /review` (page-only): every claim waiting for a decision (pending,
contested and disputed alike, superseded or not), oldest first, filterable by kind, person,
place, source and contributor; each beside its source's quote, the claims it conflicts or
agrees with, and the person's biography as it stands (a link and a short summary).

Each control posts to that claim's own API URL (`/claims/{id}/approve`, `reject`, `contest`,
`rank`; bulk approval to `/claims/approve`) with the session cookie and the CSRF token. A form
posted there by a browser is answered here (service.pages.posts.form): to htmx with the
updated row, to a plain form post with a page holding the updated row; programs posting JSON
to the same URLs get today's JSON from the API. Decisions go through the same command as the
JSON (service.domain.commands.review)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

import msgspec
from litestar import Request, Response, get

from starosta.events.claim_rules import PUBLIC, WITH_PENDING
from starosta.events.errors import Conflict, DomainError
from starosta.events.kinds import KIND_NAMES, Citation
from starosta.events.store import ConcurrencyError, Connection
from starosta.projections import biographies, registry
from starosta.projections.rules import Viewer
from starosta.service.api.claims import BulkApproveIn, bulk_approval
from starosta.service.api.common import (archive_of, commit, decide_and_commit, decided, off_loop,
                                        viewer, who)
from starosta.service.api.errors import http_status
from starosta.service.domain import accounts, commands
from starosta.service.pages.posts import form
from starosta.service.pages.render import page, render, wants_html

__all__ = ["claim_page", "queue"]

WAITING = ("pending", "contested", "disputed")  # every state waiting for a reviewer's decision
PER_STATUS = 200  # claims of each waiting state one queue page reads
SHOWN = 50  # the oldest claims a queue page shows with their context (filters narrow it)
FILTERS = ("kind", "person", "place", "source", "contributor")
ACTIONS = ("approve", "reject", "contest", "rank")
LANGUAGE = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}")  # a BCP 47 tag, as CSL gives it


@dataclass
class Item:
    """One claim of the queue with what a reviewer decides it beside."""

    claim: Any  # ClaimOut as reviewers read it
    mine: bool = False
    persons: list[dict[str, Any]] = field(default_factory=list)  # {id, label, summary}
    conflicts: list[dict[str, Any]] = field(default_factory=list)  # {kind, detail, others}
    agreements: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    done: str | None = None
    quote_lang: str | None = None  # the cited source's language (its CSL `language`), when given


def _summary(document: dict[str, Any]) -> str:
    """A biography's state in a line: what it holds now."""
    timeline, names = document.get("timeline") or [], document.get("names") or []
    custody = (document.get("custody") or {}).get("confinement") or {}
    parts = [f"{len(names)} name{'s' * (len(names) != 1)}",
             f"{len(timeline)} dated entr{'ies' if len(timeline) != 1 else 'y'}",
             f"{len(document.get('conflicts') or [])} conflict(s)",
             f"{len(document.get('agreements') or [])} agreement(s)"]
    if custody.get("episodes"):
        parts.append(f"{custody['episodes']} custody episode(s)")
    return ", ".join(parts)


def _persons_of(claim: Any) -> list[str]:
    """The persons a claim is about (its refs in person fields), in field order, each once."""
    out: list[str] = []
    for name, ref in (claim.refs or {}).items():
        if ref.id.startswith("P-") and not name.startswith("citation") and ref.id not in out:
            out.append(ref.id)
    return out


def _context(conn: Connection, reader: Viewer, items: list[Item],
             statuses: tuple[str, ...] = WITH_PENDING) -> None:
    """Fill each item's persons (public biography summary) and the conflicts and agreements its
    claim takes part in (the biography as a reviewer reads it, pending claims included)."""
    public: dict[str, dict[str, Any] | None] = {}
    pending: dict[str, dict[str, Any] | None] = {}
    languages: dict[str, str | None] = {}
    for item in items:
        source_id = ((item.claim.claim or {}).get("citation") or {}).get("source")
        if isinstance(source_id, str):
            if source_id not in languages:
                found = registry.entity(conn, "source", source_id)
                language = ((found[2].get("csl") or {}).get("language") if found else None)
                languages[source_id] = language if isinstance(language, str) \
                    and LANGUAGE.fullmatch(language) else None
            item.quote_lang = languages[source_id]
        for person_id in _persons_of(item.claim)[:3]:
            if person_id not in public:
                stored = biographies.stored(conn, person_id)
                public[person_id] = msgspec.json.decode(stored.body) if stored else None
                assembled = biographies.read(conn, person_id, reader, statuses)
                pending[person_id] = msgspec.json.decode(assembled.body) if assembled else None
            document = public[person_id]
            item.persons.append({"id": person_id, "label": _label(item.claim, person_id),
                                 "summary": _summary(document) if document else "no public biography yet"})
            wide: dict[str, Any] = pending[person_id] or {}
            for key, into in (("conflicts", item.conflicts), ("agreements", item.agreements)):
                for entry in wide.get(key) or []:
                    if item.claim.id in entry.get("claims", []):
                        others = [c for c in entry["claims"] if c != item.claim.id]
                        into.append({"kind": entry.get("kind"), "detail": entry.get("detail")
                                     or "; ".join(entry.get("notes") or []), "others": others})


def _label(claim: Any, entity_id: str) -> str:
    return next((ref.label for ref in (claim.refs or {}).values() if ref.id == entity_id), entity_id)


@dataclass
class Queue:
    """The queue's page: the oldest claims waiting for this reviewer (`items`, at most SHOWN),
    how many wait in all (`waiting`), and the reviewer's own claims waiting (`own`)."""

    items: list[Item]
    waiting: int
    own: list[Item]


def _queue(conn: Connection, reader: Viewer, me: tuple[str, ...], filters: dict[str, str]) -> Queue:
    """The waiting claims matching `filters`, oldest first, the first SHOWN with their context."""
    entities = [filters[k] for k in ("person", "place") if filters.get(k)]
    found: dict[str, Any] = {}
    for status in WAITING:
        page = accounts.claim_page(conn, reader, status=status, limit=PER_STATUS,
                                   kind=filters.get("kind") or None,
                                   source=filters.get("source") or None,
                                   contributor=filters.get("contributor") or None,
                                   entities=entities)
        for claim in page.items:
            found[claim.id] = claim
    items = [Item(claim=c, mine=c.contributor in me)
             for c in sorted(found.values(), key=lambda c: c.position)]
    others = [i for i in items if not i.mine]
    shown, own = others[:SHOWN], [i for i in items if i.mine][:SHOWN]
    _context(conn, reader, shown + own)
    return Queue(shown, len(others), own)


def _filters(request: Request) -> dict[str, str]:
    out = {}
    for name in FILTERS:
        value = (request.query_params.get(name) or "").strip()[:200]
        if value:
            out[name] = value
    if out.get("kind") not in (None, *KIND_NAMES):
        out.pop("kind")
    return out


def _csrf(request: Request) -> str | None:
    return request.scope.get("state", {}).get("_csrf_token")


@get("/review", include_in_schema=False, opt={"page": True})
async def queue(request: Request) -> Response:
    """The review queue for a signed-in reviewer; for a program, where the same claims are
    listed (GET /claims?status=pending and ?status=contested)."""
    if not wants_html(request):
        return Response({"pending": "/claims?status=pending", "contested": "/claims?status=contested",
                         "disputed": "/claims?status=disputed"}, headers={"Vary": "Accept"})
    me = who(request)
    if me.role is None:
        return Response(content=b"", status_code=303,
                        headers={"Location": "/sign-in?next=/review", "Vary": "Accept, Cookie"})
    if not me.has("reviewer"):
        return render(request, "review.html", {"forbidden": True, "items": [], "filters": {},
                                               "kinds": KIND_NAMES, "csrf": _csrf(request)},
                      status=403)
    filters = _filters(request)
    error = None
    try:
        found = await off_loop(request, _queue, viewer(request), me.aliases, filters)
    except DomainError as exc:
        found, error = Queue([], 0, []), exc.detail
    return render(request, "review.html", {
        "items": found.items, "own": found.own, "waiting": found.waiting,
        "filters": filters, "kinds": KIND_NAMES, "csrf": _csrf(request), "error": error,
        "notice": None, "forbidden": False})


# -- decisions posted from the queue ------------------------------------------------------------

def _text(posted: dict[str, str], name: str) -> str | None:
    value = (posted.get(name) or "").strip()
    return value or None


async def _row(request: Request, claim_id: str, error: str | None = None,
               done: str | None = None, status: int = 200) -> Response:
    """The claim's queue row as it stands now: for htmx the fragment, else a page holding it."""
    reader = viewer(request)

    def read(conn: Connection) -> Item | None:
        claim = accounts.read_claim(conn, claim_id, reader)
        if claim is None:
            return None
        item = Item(claim=claim, mine=claim.contributor in who(request).aliases, error=error, done=done)
        _context(conn, reader, [item])
        return item

    item = await off_loop(request, read)
    context = {"item": item, "csrf": _csrf(request), "claim_id": claim_id}
    if request.headers.get("hx-request") == "true":
        return render(request, "_queue_item.html", context)  # htmx swaps only 2xx answers
    return render(request, "review_done.html", context, status=status)


async def _decide(request: Request, action: str) -> Response:
    claim_id = request.path_params.get("claim_id", "")
    posted = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    reason = _text(posted, "reason")
    version = _text(posted, "version")
    expected = int(version) if version and version.isdigit() and len(version) < 12 else None
    citation = None
    source = _text(posted, "citation.source")
    rank: Any = _text(posted, "rank") if action == "rank" else None  # checked below
    try:
        if source:
            citation = Citation(source=source, locator=_text(posted, "citation.locator"))
        if action in ("reject", "contest") and reason is None:
            raise commands.invalid("reason", None, f"{action} needs a reason")
        if action == "rank" and rank not in ("preferred", "normal", "deprecated"):
            raise commands.invalid("rank", rank, "choose preferred, normal or deprecated")
        store = archive_of(request).store
        await decide_and_commit(request, lambda: commands.review(
            store, claim_id, action, who(request), reason, citation, expected, rank), keyed=False)
    except ConcurrencyError:
        return await _row(request, claim_id, error=f"claim {claim_id} changed while you decided "
                          "(another review landed first): read it again and decide", status=409)
    except DomainError as exc:
        return await _row(request, claim_id, error=exc.detail, status=http_status(exc))
    done = {"approve": "approved this claim", "reject": "rejected this claim",
            "contest": "contested this claim", "rank": f"ranked this claim {rank}"}[action]
    return await _row(request, claim_id, done=f"You {done}.")


@form("/claims/{claim_id:str}/approve")
async def approve_form(request: Request) -> Response:
    return await _decide(request, "approve")


@form("/claims/{claim_id:str}/reject")
async def reject_form(request: Request) -> Response:
    return await _decide(request, "reject")


@form("/claims/{claim_id:str}/contest")
async def contest_form(request: Request) -> Response:
    return await _decide(request, "contest")


@form("/claims/{claim_id:str}/rank")
async def rank_form(request: Request) -> Response:
    return await _decide(request, "rank")


@form("/claims/approve")
async def bulk_form(request: Request) -> Response:
    """Bulk approval from the queue's check boxes: each claim decided on its own, the queue
    page again with what became of each."""
    data = await request.form()
    ids: list[str] = [v for v in data.getall("ids") if isinstance(v, str)][:500]
    reason = _text({k: v for k, v in data.items() if isinstance(v, str)}, "reason")
    notice: list[str] = []
    if not ids:
        notice.append("Tick the claims to approve first.")
    else:
        try:
            answer = await commit(request, await decided(
                request, lambda _: bulk_approval(request, BulkApproveIn(ids=ids, reason=reason))),
                keyed=False)
            for item in msgspec.json.decode(answer.content)["items"]:
                notice.append(f"{item['id']}: approved" if item["status"] == 200
                              else f"{item['id']}: not approved: {item.get('detail')}")
        except (ConcurrencyError, Conflict):
            notice.append("The claims changed while they were being decided: try again.")
        except DomainError as exc:
            notice.append(exc.detail)
    me = who(request)
    found = await off_loop(request, _queue, viewer(request), me.aliases, {})
    return render(request, "review.html", {
        "items": found.items, "own": found.own, "waiting": found.waiting,
        "filters": {}, "kinds": KIND_NAMES, "csrf": _csrf(request), "error": None,
        "notice": notice, "forbidden": False})


# -- a claim's own page -------------------------------------------------------------------------

@page("/claims/{claim_id}")
async def claim_page(request: Request) -> Response:
    """`/claims/{id}` in a browser: the claim as the caller may see it (the same read as the
    JSON), its citation, review history and `disputed` mark; a reviewer also gets the queue's
    controls while it waits for a decision. Cached by the shown claim itself."""
    claim_id = request.path_params.get("claim_id", "")
    reader = viewer(request)
    reviewer = who(request).has("reviewer")

    def read(conn: Connection) -> Item | None:
        claim = accounts.read_claim(conn, claim_id, reader)
        if claim is None:
            return None
        item = Item(claim=claim, mine=claim.contributor in who(request).aliases)
        _context(conn, reader, [item], WITH_PENDING if reviewer else PUBLIC)
        return item

    item = await off_loop(request, read)
    if item is None:
        raise commands.unseen_claim("claim_id", claim_id, "path")
    shown = msgspec.json.encode(item.claim)
    return render(request, "claim.html", {"item": item, "csrf": _csrf(request),
                                          "claim_id": claim_id},
                  version=hashlib.sha256(shown).hexdigest())
