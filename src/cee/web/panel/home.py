"""The home page and the Admin menu."""

from __future__ import annotations

from starlette.responses import Response

from cee.admin import accounts
from cee.web.panel.auth import Ctx, handler


@handler()
async def home(ctx: Ctx) -> Response:
    account = await accounts.get_account(ctx.store, ctx.session.account_id)
    return ctx.page("home.html", title="Home", account=account)


@handler(admin=True)
async def admin_menu(ctx: Ctx) -> Response:
    return ctx.page("admin.html", title="Admin", section="admin")
