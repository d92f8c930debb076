"""Lists: create, member counts, empty one."""

from __future__ import annotations

from starlette.responses import RedirectResponse, Response

from cee.admin import lists
from cee.web.panel.auth import Ctx, handler
from cee.web.panel.paging import page_number, slice_all


@handler()
async def table(ctx: Ctx) -> Response:
    rows = await lists.list_lists(ctx.store, ctx.session.account_id)
    paged = slice_all(rows, page_number(ctx.request))
    return ctx.page("lists.html", title="Lists", section="lists", paged=paged)


@handler()
async def create(ctx: Ctx) -> Response:
    listid = await lists.create_list(ctx.store, ctx.session.account_id, ctx.field("name"))
    return RedirectResponse(f"/lists/{listid}?notice=created", status_code=303)


@handler()
async def show(ctx: Ctx) -> Response:
    found = await lists.find_list(
        ctx.store, ctx.session.account_id, ctx.request.path_params["list_id"]
    )
    return ctx.page("list.html", title=f"List {found.name}", section="lists", item=found)


@handler()
async def empty(ctx: Ctx) -> Response:
    listid = ctx.request.path_params["list_id"]
    await lists.empty_list(ctx.store, ctx.session.account_id, listid)
    return RedirectResponse(f"/lists/{listid}?notice=emptied", status_code=303)
