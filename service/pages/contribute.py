"""The contributor's form: `GET /claims/new` (a kind chosen first, then the form generated from
its struct: service.pages.claim_form), suggestions as you type for entity fields
(`GET /claims/new/suggest`, an HTML fragment of <option>s over the same search GET /persons?q=
uses), the contributor's own pending claims, and the form posted to `POST /claims` itself (the
API's URL: a form post is answered here with HTML, through the same command as the JSON)."""

from __future__ import annotations

import re
from typing import Any

import msgspec
from litestar import Request, Response, get

from starosta.events.errors import DomainError
from starosta.events.store import Connection
from starosta.projections import name_keys, search
from starosta.service.api.common import commit, decided, off_loop, viewer, who
from starosta.service.api.common import _control_character  # the API's own check of texts
from starosta.service.domain import accounts, commands
from starosta.service.pages import claim_form
from starosta.service.pages.posts import form
from starosta.service.pages.render import render, wants_html

__all__ = ["new_claim", "suggest"]

SUGGESTED = {"person": ("person",), "place": ("place",), "organization": ("organization",),
             "fund": ("fund",), "source": ("source",), "entity": ("person", "place", "organization")}


def _sign_in_first(request: Request) -> Response:
    return Response(content=b"", status_code=303,
                    headers={"Location": f"/sign-in?next={request.url.path}", "Vary": "Accept, Cookie"})


def _mine(conn: Connection, request: Request) -> list:
    """The caller's own pending claims, oldest first (the same listing as GET /claims)."""
    me = who(request)
    return accounts.claim_page(conn, viewer(request), status="pending", contributor=me.account,
                               limit=100).items


async def _form_page(request: Request, kind: str | None, fields: list | None = None,
                     general: list[str] | None = None, status: int = 200,
                     submitted: str | None = None) -> Response:
    mine = await off_loop(request, _mine, request)
    sources = await off_loop(request, search.find, "source", None, 0, 200)
    fields = fields if fields is not None else (claim_form.fields_of(kind) if kind else [])
    return render(request, "claim_new.html", {
        "kinds": claim_form.KIND_HELP, "kind": kind, "fields": fields, "more_names": claim_form.MORE,
        "has_errors": any(f.error for f in claim_form.flat(fields)),
        "general": general or [], "mine": mine, "submitted": submitted, "sources": sources.items,
        "csrf": request.scope.get("state", {}).get("_csrf_token")}, status=status)


@get("/claims/new", include_in_schema=False, opt={"page": True})
async def new_claim(request: Request) -> Response:
    """The claim form for a signed-in contributor (a kind chosen first: `?kind=`); for a
    program, where claims are posted and which kinds there are."""
    if not wants_html(request):
        return Response({"post_to": "/claims", "kinds": claim_form.KIND_HELP,
                         "schema": "/schema/openapi.json"}, headers={"Vary": "Accept"})
    if not who(request).has("contributor"):
        return _sign_in_first(request)
    kind = request.query_params.get("kind")
    if kind not in claim_form.BY_KIND:
        kind = None
    submitted = request.query_params.get("submitted")
    return await _form_page(request, kind, submitted=submitted if submitted and len(submitted) < 65 else None)


@get("/claims/new/suggest", include_in_schema=False, opt={"page": True})
async def suggest(request: Request) -> Response:
    """<option>s for an entity field's <datalist> (htmx, as the contributor types): the
    field's value (query parameter named as the field) searched as GET /persons?q= does."""
    kinds = SUGGESTED.get(request.query_params.get("entity") or "", ())
    q = (request.query_params.get(request.query_params.get("field") or "q") or "").strip()[:200]
    options: list[tuple[str, str]] = []
    if q:
        for kind in kinds:
            found = await off_loop(request, search.find, kind, q, 0, 8)
            options.extend((hit.id, hit.label) for hit in found.items)
    return render(request, "_suggest.html", {"options": options})


ID_SHAPE = re.compile(r"^[A-Z]{1,2}-[0-9A-Z]{8}$")  # an id, as service/tools/submit.py knows one


def resolve_labels(conn: Connection, kind: str, body: dict[str, Any]) -> dict[str, str]:
    """Entity fields written as labels become ids, as `starosta submit` resolves them: the one
    record of the field's kinds with that label (case, accents and spaces folded: name_keys.
    label_key) found by the same search as GET /persons?q=; else the field's error, naming the
    records it may mean ("did you mean"). Returns the errors."""
    errors: dict[str, str] = {}
    for f in claim_form.fields_of(kind):
        kinds = SUGGESTED.get(f.entity or "", ()) if f.entity != "source" else ()
        value = body.get(f.name)
        if not kinds or value is None:
            continue
        values = value if isinstance(value, list) else [value]
        resolved = []
        for one in values:
            if not isinstance(one, str) or ID_SHAPE.match(one):
                resolved.append(one)
                continue
            wanted = name_keys.label_key(one)
            same: list[tuple[str, str]] = []
            near: list[tuple[str, str]] = []
            for entity_kind in kinds:
                for hit in search.find(conn, entity_kind, one, 0, 20).items:
                    keys = {name_keys.label_key(hit.label)} | (
                        {name_keys.label_key(hit.matched)} if hit.matched else set())
                    (same if wanted in keys else near).append((hit.id, hit.label))
            same = list(dict.fromkeys(same))
            if len(same) == 1:
                resolved.append(same[0][0])
                continue
            shown = ", ".join(f"{label} ({id_})" for id_, label in (same or near)[:5])
            what = " or ".join(kinds)
            errors[f.name] = (f"{len(same)} records ({what}) have the label {one!r}: did you mean "
                              f"{shown}? Write or pick the id" if same else
                              f"no {what} has the label {one!r}" +
                              (f": did you mean {shown}?" if shown else " (register it, or write its id)"))
            resolved.append(one)
        body[f.name] = resolved if isinstance(value, list) else resolved[0]
    return errors


@form("/claims")
async def post_claim(request: Request) -> Response:
    """A claim form posted to POST /claims: the claim through the same command as the JSON
    (service.domain.commands.submit), then the form page again saying it is pending; or the
    form with each error beside its field (422)."""
    posted = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    kind = posted.get("kind") or ""
    if kind not in claim_form.BY_KIND:
        return await _form_page(request, None, general=["Choose the kind of claim first."],
                                status=422)
    parsed, errors = claim_form.parsed(kind, posted)
    body: Any = name_keys.nfc_all(parsed)  # as before_write makes every JSON body's texts NFC
    general: list[str] = []
    if not errors:
        errors = await off_loop(request, resolve_labels, kind, body)
    if not errors:
        try:
            bad = _control_character(body)
            if bad is not None:
                errors[bad[0]] = "holds a control character (only tab and newline are allowed)"
            else:
                claim = claim_form.decode(body)
                answer = await commit(request, await decided(request, commands.submit, claim,
                                                             who(request)), keyed=False)
                claim_id = msgspec.json.decode(answer.content)["id"]
                return Response(content=b"", status_code=303, headers={
                    "Location": f"/claims/new?kind={kind}&submitted={claim_id}"})
        except msgspec.ValidationError as exc:
            name, message = claim_form.error_field(str(exc))
            (errors.__setitem__(name, message) if name else general.append(message))
        except DomainError as exc:
            for item in exc.errors or []:
                if item.get("field"):
                    errors[str(item["field"])] = str(item.get("message") or exc.detail)
            if not exc.errors:
                general.append(exc.detail)
    known = {f.name for f in claim_form.flat(claim_form.fields_of(kind))}
    general += [f"{name}: {message}" for name, message in errors.items() if name not in known]
    fields = claim_form.with_values(claim_form.fields_of(kind), posted, errors)
    return await _form_page(request, kind, fields, general, status=422)
