"""Signing in and out in a browser: `GET /sign-in` (the form), `POST /sign-in` (form field
`token`: the token exchanged for a session cookie), `POST /sign-out` (with the CSRF token).

The cookie (`starosta_session`) is HttpOnly, SameSite=Strict, Path=/, and Secure when the
request came over https as the trusted proxies say (app.trusting_proxies sets the scheme). A
new session id at every sign-in; the old one is closed. Sessions are rows of the `sessions`
table (service.domain.sessions), shared by every server of the archive."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from litestar import Request, Response, get, post
from litestar.exceptions import TooManyRequestsException

from starosta.events.errors import Unauthenticated
from starosta.service.api.common import (CSRF_FIELD, SESSION_COOKIE, archive_of, session_of,
                                        signed_in)
from starosta.service.api.errors import log
from starosta.service.domain import sessions
from starosta.service.domain.access import Principal
from starosta.service.pages.render import render, wants_html

__all__ = ["sign_in_form", "sign_in", "sign_out", "csrf_of"]


def csrf_of(request: Request) -> str | None:
    """The CSRF token a signed-in page puts in its forms (None when nobody signed in by cookie)."""
    return request.scope.get("state", {}).get(CSRF_FIELD)


def _next(value: Any) -> str:
    """Where to go after signing in: a path of this site only (never another site's URL)."""
    if isinstance(value, str) and value.startswith("/") and not value.startswith("//") \
            and "\\" not in value and len(value) <= 2000 and value.isprintable() \
            and not any(c.isspace() for c in value) and not urlsplit(value).netloc:
        return value  # browsers drop tabs and newlines: "/\t/evil.example" would be "//evil..."
    return "/"


def _form(request: Request, **context: Any) -> dict[str, Any]:
    return {"csrf": csrf_of(request), "next": "/", "error": None, **context}


@get("/sign-in", include_in_schema=False, opt={"page": True})
async def sign_in_form(request: Request) -> Response:
    """The sign-in form: a token, exchanged once for a session cookie. A program is told to
    send its token in the Authorization header instead."""
    if not wants_html(request):
        return Response({"detail": "browsers sign in here (POST /sign-in, form field token) for a "
                         "session cookie; programs send Authorization: Bearer <token>",
                         "documentation": "/schema"}, headers={"Vary": "Accept"})
    return render(request, "sign_in.html",
                  _form(request, next=_next(request.query_params.get("next"))))


def _same_origin(request: Request) -> bool:
    """A sign-in posted from this site (or by a client sending no Origin): another site's page
    may not sign a visitor in under its own token."""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.headers.get("host", "")


@post("/sign-in", include_in_schema=False, opt={"page": True}, status_code=303)
async def sign_in(request: Request) -> Response:
    """Exchange the form's token for a session: 303 to `next` with the cookie, or the form
    again (401) saying the token was not accepted."""
    form = await request.form()
    token, goto = form.get("token"), _next(form.get("next"))
    archive = archive_of(request)
    principal: Principal | None = None
    if _same_origin(request):
        # the one check of a credential (common.signed_in): a failed sign-in is a failed
        # authentication, counted per client; past STAROSTA_AUTH_FAILURES_MAX, 429
        typed = token.strip() if isinstance(token, str) else ""
        try:
            principal = await signed_in(request, f"Bearer {typed}")
        except Unauthenticated:
            principal = None
        except TooManyRequestsException as refused:
            retry = (refused.headers or {}).get("Retry-After", "60")
            return render(request, "sign_in.html", _form(
                request, next=goto, error="Too many tokens were refused from this address: "
                f"wait {retry} seconds before signing in again."),
                status=429, headers={"Retry-After": retry})
    if principal is None:
        return render(request, "sign_in.html", _form(
            request, next=goto, error="That token was not accepted: it is unknown or revoked. "
            "Ask the archive's administrator for a token (starosta token create)."), status=401)
    old = request.cookies.get(SESSION_COOKIE)

    def open_(_: Any) -> str:
        with archive.store.write_transaction() as tx:
            return sessions.open_session(tx, principal, replaces=old)

    session_id = await archive.run_primary(open_)
    response = Response(content=b"", status_code=303, headers={"Location": goto})
    response.set_cookie(SESSION_COOKIE, session_id, path="/", httponly=True, samesite="strict",
                        secure=request.url.scheme == "https",
                        max_age=int(sessions.LIFETIME.total_seconds()))
    return response


@post("/sign-out", include_in_schema=False, opt={"page": True}, status_code=303)
async def sign_out(request: Request) -> Response:
    """Close the session (the CSRF token was checked by before_request) and forget the cookie."""
    session_id = session_of(request) or request.cookies.get(SESSION_COOKIE)
    archive = archive_of(request)
    if sessions.well_formed(session_id):
        def close(_: Any) -> None:
            with archive.store.write_transaction() as tx:
                sessions.close_session(tx, session_id)
        await archive.run_primary(close)
    response = Response(content=b"", status_code=303, headers={"Location": "/"})
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response

