"""Attributes: the built-ins and the account's own; define a new one."""

from __future__ import annotations

from starlette.responses import RedirectResponse, Response

from cee.admin import attributes
from cee.domain.attributes import Datatype
from cee.web.panel.auth import Ctx, handler
from cee.web.panel.paging import page_number, slice_all


@handler()
async def table(ctx: Ctx) -> Response:
    rows = await attributes.list_attributes(ctx.store, ctx.session.account_id)
    return ctx.page(
        "attributes.html",
        title="Attributes",
        section="attributes",
        paged=slice_all(rows, page_number(ctx.request)),
        datatypes=[d.value for d in Datatype],
    )


@handler()
async def create(ctx: Ctx) -> Response:
    await attributes.create_attribute(
        ctx.store, ctx.session.account_id, ctx.field("name"), ctx.field("datatype")
    )
    return RedirectResponse("/attributes?notice=created", status_code=303)
