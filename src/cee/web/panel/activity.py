"""Requests (the account's async requests) and Audit (who changed what), newest first."""

from __future__ import annotations

from starlette.responses import Response

from cee.admin import audit, requests
from cee.web.panel.auth import Ctx, handler
from cee.web.panel.paging import PAGE_SIZE, from_fetched, offset, page_number


@handler()
async def recent_requests(ctx: Ctx) -> Response:
    page = page_number(ctx.request)
    rows = await requests.recent_requests(
        ctx.store, ctx.session.account_id, PAGE_SIZE + 1, offset(page)
    )
    return ctx.page(
        "requests.html", title="Requests", section="requests", paged=from_fetched(rows, page)
    )


@handler(admin=True)
async def audit_trail(ctx: Ctx) -> Response:
    page = page_number(ctx.request)
    rows = await audit.entries(ctx.store, ctx.session.account_id, PAGE_SIZE + 1, offset(page))
    return ctx.page("audit.html", title="Audit", section="audit", paged=from_fetched(rows, page))
