"""Who is asking: the session cookie, the CSRF check on every form, roles.

Every panel handler is wrapped by `handler(...)`, which loads the session from the store (so a
logout or a disabled user ends it at once everywhere), refuses a POST whose form lacks the
session's CSRF token (403), keeps account admins' pages from sub-admins, and turns a domain
error into a page with the same words the CLI prints.
"""

from __future__ import annotations

import functools
import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from cee.admin import audit, logins
from cee.domain.errors import CeeError, RateLimited
from cee.engine import Engine
from cee.storage.base import Store
from cee.storage.panel import SessionRow
from cee.web.errors import page_status
from cee.web.panel import render

log = logging.getLogger(__name__)

SESSION_COOKIE = "cee_session"
# The login form has no session yet, so its CSRF token is a double-submit cookie: a page of
# another site can neither read this cookie nor set the matching form field.
LOGIN_CSRF_COOKIE = "cee_login_csrf"
CSRF_FIELD = "csrf_token"

# The statuses a refused panel action answers with, by domain error (the API's table is
# Netcore's envelope; the panel's is plain HTTP).


@dataclass
class Ctx:
    """One panel request: who asks, from where, and the form they sent (CSRF-checked)."""

    request: Request
    engine: Engine
    session: SessionRow
    form: FormData | None

    @property
    def store(self) -> Store:
        return self.engine.store

    @property
    def address(self) -> str:
        return client_address(self.request)

    @property
    def token(self) -> str:
        return self.request.cookies.get(SESSION_COOKIE, "")

    def field(self, name: str) -> str:
        value = self.form.get(name, "") if self.form is not None else ""
        return value if isinstance(value, str) else ""

    def page(self, template: str, *, status: int = 200, **context: Any) -> Response:
        return render.page(self.request, template, status=status, session=self.session, **context)

    def not_found(self, what: str = "page") -> Response:
        return render.not_found(self.request, self.session, what)


Handler = Callable[[Ctx], Awaitable[Response]]


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def engine_of(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def secure_cookies(request: Request) -> bool:
    return bool(engine_of(request).settings.panel_secure_cookies) or request.url.scheme == "https"


def set_session_cookie(response: Response, request: Request, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request),
        path="/",
    )


def clear_session_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(
        SESSION_COOKIE, httponly=True, samesite="lax", secure=secure_cookies(request), path="/"
    )


def prepare_login_csrf(request: Request) -> bool:
    """Give the request a login CSRF token (the cookie's, or a new one); True if new."""
    token = request.cookies.get(LOGIN_CSRF_COOKIE)
    request.state.login_csrf = token or secrets.token_urlsafe(32)
    return token is None


def finish_login_csrf(request: Request, response: Response, new: bool) -> Response:
    if new:
        response.set_cookie(
            LOGIN_CSRF_COOKIE,
            request.state.login_csrf,
            httponly=True,
            samesite="strict",
            secure=secure_cookies(request),
            path="/",
        )
    return response


def csrf_ok(form: FormData, expected: str) -> bool:
    given = form.get(CSRF_FIELD)
    return isinstance(given, str) and bool(given) and hmac.compare_digest(given, expected)


def refused_csrf(request: Request, session: SessionRow | None) -> Response:
    log.warning(
        "panel: %s %s refused: missing or wrong CSRF token (from %s)",
        request.method,
        request.url.path,
        client_address(request),
    )
    return render.page(
        request,
        "message.html",
        status=403,
        session=session,
        title="Refused",
        message="This form has expired or did not come from this panel. Go back, reload the "
        "page and try again.",
    )


def error_page(request: Request, session: SessionRow | None, exc: CeeError) -> Response:
    status = page_status(exc)  # the one error table (web/errors.py), as /apiv2 answers
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
    return render.page(
        request,
        "message.html",
        status=status,
        session=session,
        headers=headers,
        title="Not found" if status == 404 else "Not done",
        message=exc.details,
    )


Endpoint = Callable[[Request], Awaitable[Response]]


def handler(*, admin: bool = False) -> Callable[[Handler], Endpoint]:
    """Wrap a page: a live session (else the login page), CSRF on POST, `admin` pages guarded."""

    def wrap(fn: Handler) -> Endpoint:
        @functools.wraps(fn)
        async def endpoint(request: Request) -> Response:
            new_csrf = prepare_login_csrf(request)
            engine = engine_of(request)
            idle = float(engine.settings.panel_idle_minutes) * 60
            session = await logins.session(engine.store, request.cookies.get(SESSION_COOKIE), idle)
            if session is None:
                if request.method == "POST":
                    # A form from a session that ended: log in again, then redo it.
                    return finish_login_csrf(
                        request, RedirectResponse("/", status_code=303), new_csrf
                    )
                return finish_login_csrf(request, login_page(request), new_csrf)
            form = None
            if request.method == "POST":
                form = await request.form()
                if not csrf_ok(form, session.csrf_token):
                    return refused_csrf(request, session)
            if admin and not session.is_admin:
                return render.page(
                    request,
                    "message.html",
                    status=403,
                    session=session,
                    title="Account admins only",
                    message="This page is for the account's admins.",
                )
            try:
                with audit.acting_as(session.username, client_address(request)):
                    return await fn(Ctx(request, engine, session, form))
            except CeeError as exc:
                return error_page(request, session, exc)

        return endpoint

    return wrap


def login_page(
    request: Request, *, status: int = 200, error: str | None = None, username: str = ""
) -> Response:
    return render.page(
        request, "login.html", status=status, error=error, username=username, title="Log in"
    )
