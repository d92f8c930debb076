"""Logging in and out, and changing one's own password."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from cee.admin import logins
from cee.domain.errors import CeeError, Forbidden, RateLimited
from cee.web.panel import render
from cee.web.panel.auth import (
    Ctx,
    clear_session_cookie,
    client_address,
    csrf_ok,
    engine_of,
    finish_login_csrf,
    handler,
    login_page,
    prepare_login_csrf,
    refused_csrf,
    set_session_cookie,
)


async def to_home(request: Request) -> Response:
    """`GET /login` (a bookmark, a reload after a failed login): the login form is at `/`."""
    return RedirectResponse("/", status_code=303)


async def log_in(request: Request) -> Response:
    new_csrf = prepare_login_csrf(request)
    form = await request.form()
    if new_csrf or not csrf_ok(form, request.state.login_csrf):
        return finish_login_csrf(request, refused_csrf(request, None), new_csrf)
    username = str(form.get("username", ""))
    try:
        login = await logins.log_in(
            engine_of(request).store,
            username,
            str(form.get("password", "")),
            client_address(request),
        )
    except RateLimited as exc:
        return render.page(
            request,
            "message.html",
            status=429,
            headers={"Retry-After": str(exc.retry_after)},
            title="Too many attempts",
            message=exc.details,
        )
    except Forbidden as exc:
        return login_page(request, status=401, error=exc.details, username=username)
    response = RedirectResponse("/", status_code=303)
    set_session_cookie(response, request, login.token)
    return response


@handler()
async def log_out(ctx: Ctx) -> Response:
    await logins.log_out(ctx.store, ctx.token)
    response = RedirectResponse("/", status_code=303)
    clear_session_cookie(response, ctx.request)
    return response


@handler()
async def password_form(ctx: Ctx) -> Response:
    return ctx.page("password.html", title="Change password", section="password")


@handler()
async def change_password(ctx: Ctx) -> Response:
    new = ctx.field("new_password")
    if new != ctx.field("repeat_password"):
        return ctx.page(
            "password.html",
            status=400,
            title="Change password",
            error="New password: the two entries differ",
        )
    try:
        logins.check_new_password(new)
        login = await logins.change_own_password(
            ctx.store, ctx.session, ctx.field("current_password"), new, ctx.address
        )
    except Forbidden:
        return ctx.page(
            "password.html",
            status=403,
            title="Change password",
            error="Current password: wrong",
        )
    except CeeError as exc:  # too short, or the throttle: said on the form
        return ctx.page("password.html", status=400, title="Change password", error=exc.details)
    response = RedirectResponse("/?notice=password", status_code=303)
    set_session_cookie(response, ctx.request, login.token)
    return response
