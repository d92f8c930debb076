"""Admin → Account Configuration: API Mode, the primary key and the phone region, under
"Advance details"."""

from __future__ import annotations

from starlette.responses import RedirectResponse, Response

from cee.admin import accounts
from cee.domain.attributes import PRIMARY_KEY_CHOICES
from cee.web.panel.auth import Ctx, handler


async def _page(ctx: Ctx, *, status: int = 200, error: str | None = None) -> Response:
    account = await accounts.get_account(ctx.store, ctx.session.account_id)
    return ctx.page(
        "account.html",
        status=status,
        title="Account Configuration",
        section="admin",
        account=account,
        choices=PRIMARY_KEY_CHOICES,
        default_region=str(ctx.engine.settings.phone_region).upper(),
        webhook_secret=await accounts.find_webhook_secret(ctx.store, account),
        error=error,
    )


@handler(admin=True)
async def show(ctx: Ctx) -> Response:
    return await _page(ctx)


@handler(admin=True)
async def save(ctx: Ctx) -> Response:
    """Apply what changed; each change reaches /apiv2 at once (the store's change signal)."""
    account = await accounts.get_account(ctx.store, ctx.session.account_id)
    api_mode = ctx.field("api_mode") == "on"
    if api_mode != account.api_mode:
        await accounts.set_api_mode(ctx.store, account, api_mode)
    primary_key = ctx.field("primary_key").upper() or account.primary_key
    if primary_key != account.primary_key:
        await accounts.set_primary_key(ctx.store, account, primary_key)
    await accounts.set_phone_region(ctx.store, account, ctx.field("phone_region"))
    return RedirectResponse("/admin/account-configuration?notice=saved", status_code=303)
