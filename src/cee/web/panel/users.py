"""Sub Admin: the account's users, a user's page (status, role, API key), new users.

An admin sees and manages every user of the account; a sub-admin sees only their own row and
page. Any other user id, including another account's, is a 404.
"""

from __future__ import annotations

from starlette.responses import RedirectResponse, Response

from cee.admin import keys, logins, users
from cee.domain.errors import BadParameter, Forbidden
from cee.storage.base import UserRow
from cee.web.panel.auth import Ctx, handler
from cee.web.panel.paging import page_number, slice_all


async def _user(ctx: Ctx) -> UserRow | None:
    """The user the URL names, if the session may see them (an admin, or themselves)."""
    raw = ctx.request.path_params["user_id"]
    user = await users.find_account_user(ctx.store, ctx.session.account_id, raw)
    if not ctx.session.is_admin and user.id != ctx.session.user_id:
        return None
    return user


async def _user_page(
    ctx: Ctx,
    user: UserRow,
    *,
    status: int = 200,
    shown_key: str | None = None,
    new_password: str | None = None,
    notice: str | None = None,
) -> Response:
    return ctx.page(
        "user.html",
        status=status,
        title=f"User {user.username}",
        section="users",
        user=user,
        can_show=await keys.can_show(ctx.store, user),
        shown_key=shown_key,
        new_password=new_password,
        notice=notice,
        rotate_to_view=keys.ROTATE_TO_VIEW,
    )


@handler()
async def table(ctx: Ctx) -> Response:
    rows = await users.list_users(ctx.store, ctx.session.account_id)
    if not ctx.session.is_admin:
        rows = [r for r in rows if r.id == ctx.session.user_id]
    return ctx.page(
        "users.html",
        title="Sub Admin",
        section="users",
        paged=slice_all(rows, page_number(ctx.request)),
    )


@handler(admin=True)
async def create(ctx: Ctx) -> Response:
    made = await users.create_user(
        ctx.store,
        ctx.session.account_id,
        ctx.field("username").strip(),
        is_admin=ctx.field("is_admin") == "on",
    )
    user = await users.find_account_user(ctx.store, ctx.session.account_id, made.user_id)
    return await _user_page(
        ctx,
        user,
        shown_key=made.api_key,
        new_password=made.password,
        notice=f"User {made.username} created. Give them the password below; it is shown once.",
    )


@handler()
async def edit(ctx: Ctx) -> Response:
    user = await _user(ctx)
    if user is None:
        return ctx.not_found("user")
    return await _user_page(ctx, user)


@handler(admin=True)
async def set_status(ctx: Ctx) -> Response:
    user = await _user(ctx)
    if user is None:
        return ctx.not_found("user")
    active = ctx.field("status") == "active"
    if active and not user.active:
        await users.enable_user(ctx.store, user)
    elif not active and user.active:
        await users.disable_user(ctx.store, user, acting_user_id=ctx.session.user_id)
    return RedirectResponse(f"/sub-admin/{user.id}?notice=saved", status_code=303)


@handler(admin=True)
async def set_role(ctx: Ctx) -> Response:
    user = await _user(ctx)
    if user is None:
        return ctx.not_found("user")
    is_admin = ctx.field("role") == "admin"
    await users.set_role(ctx.store, user, is_admin, acting_user_id=ctx.session.user_id)
    return RedirectResponse(f"/sub-admin/{user.id}?notice=saved", status_code=303)


@handler(admin=True)
async def reset_password(ctx: Ctx) -> Response:
    user = await _user(ctx)
    if user is None:
        return ctx.not_found("user")
    if user.id == ctx.session.user_id:
        raise Forbidden("password: change your own under your name at the top of the page")
    password = await users.reset_password(ctx.store, user)
    return await _user_page(
        ctx, user, new_password=password, notice="New password set; it is shown once."
    )


@handler()
async def show_key(ctx: Ctx) -> Response:
    """Reveal the key to its owner or an admin, in a session whose password is fresh."""
    user = await _user(ctx)
    if user is None:
        return ctx.not_found("user")
    password = ctx.field("password")
    if password:
        try:
            await logins.confirm_password(ctx.store, ctx.token, ctx.session, password, ctx.address)
        except Forbidden:
            return ctx.page(
                "confirm.html",
                status=403,
                title="Confirm your password",
                section="users",
                user=user,
                error="Password: wrong",
            )
    elif not logins.is_fresh(ctx.session):
        return ctx.page("confirm.html", title="Confirm your password", section="users", user=user)
    return await _user_page(ctx, user, shown_key=await keys.show_key(ctx.store, user))


@handler()
async def rotate_key(ctx: Ctx) -> Response:
    user = await _user(ctx)
    if user is None:
        return ctx.not_found("user")
    key = await keys.rotate_key(ctx.store, user)
    return await _user_page(
        ctx,
        user,
        shown_key=key,
        notice="New API key made; the old one no longer works.",
    )


@handler(admin=True)
async def set_rate_limit(ctx: Ctx) -> Response:
    """The key's requests a minute (0: none), as `cee key limit` sets it."""
    user = await _user(ctx)
    if user is None:
        return ctx.not_found("user")
    raw = ctx.field("per_minute").strip() or "0"
    if not raw.isdigit():
        raise BadParameter("per_minute: a whole number, 0 or more")
    await keys.set_rate_limit(ctx.store, user, int(raw))
    return RedirectResponse(f"/sub-admin/{user.id}?notice=saved", status_code=303)
