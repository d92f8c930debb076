"""Contacts: find by primary key; see attributes, lists, blacklist and history; change them.

The contact is named by its primary key in the query (`?key=`) or a form field, never by an id
another account could guess: a key this account does not hold is a 404.
"""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.responses import RedirectResponse, Response

from cee.admin import contacts, lists
from cee.domain.errors import BadParameter
from cee.domain.parameters import parse_listid
from cee.web.panel.auth import Ctx, handler
from cee.web.panel.paging import page_number, slice_all


def _back(key: str, notice: str) -> Response:
    return RedirectResponse(
        "/contacts/view?" + urlencode({"key": key, "notice": notice}), status_code=303
    )


@handler()
async def find(ctx: Ctx) -> Response:
    key = ctx.request.query_params.get("key", "").strip()
    if key:
        return RedirectResponse("/contacts/view?" + urlencode({"key": key}), status_code=303)
    account_lists = await lists.list_lists(ctx.store, ctx.session.account_id)
    _, attributes = await contacts.schema(ctx.store, ctx.session.account_id)
    return ctx.page(
        "contacts.html",
        title="Contacts",
        section="contacts",
        lists=account_lists,
        attributes=attributes,
    )


@handler()
async def view(ctx: Ctx) -> Response:
    key = ctx.request.query_params.get("key", "").strip()
    if not key:
        return RedirectResponse("/contacts", status_code=303)
    contact = await contacts.find_contact(ctx.store, ctx.session.account_id, key)
    entries = await contacts.history(ctx.store, ctx.session.account_id, contact.match_key)
    names = {row.id: row.name for row in await lists.list_lists(ctx.store, ctx.session.account_id)}
    return ctx.page(
        "contact.html",
        title=f"Contact {contact.view.primary_key}",
        section="contacts",
        key=key,
        contact=contact,
        list_names=names,
        history=slice_all(list(reversed(entries)), page_number(ctx.request)),
    )


@handler()
async def edit(ctx: Ctx) -> Response:
    key = ctx.field("key")
    contact = await contacts.find_contact(ctx.store, ctx.session.account_id, key)
    changes = {}
    for attribute in contact.attributes:
        if attribute.name == contact.primary_key:
            continue
        field = f"attr:{attribute.name}"
        if ctx.form is not None and field in ctx.form:
            given = ctx.field(field)
            before = contact.view.attributes.get(attribute.name)
            # Only what the user changed: an untouched field must not rewrite a stored value
            # in its displayed form (a date or a decimal shown as text).
            if given != ("" if before is None else str(before)):
                changes[attribute.name] = given
    if changes:
        await contacts.edit_contact(ctx.store, ctx.session.account_id, key, changes)
    return _back(key, "saved")


@handler()
async def leave_list(ctx: Ctx) -> Response:
    key = ctx.field("key")
    listid = parse_listid(ctx.field("listid"), required=True)
    if listid is None:  # parse_listid raised already; this keeps the type checker informed
        raise BadParameter("listid: missing")
    await contacts.remove_from_list(ctx.store, ctx.session.account_id, key, listid)
    return _back(key, "removed")


@handler()
async def blacklist(ctx: Ctx) -> Response:
    key = ctx.field("key")
    on = ctx.field("blacklisted") == "on"
    await contacts.set_blacklisted(ctx.store, ctx.session.account_id, key, on)
    return _back(key, "blacklisted" if on else "unblacklisted")


@handler()
async def erase(ctx: Ctx) -> Response:
    await contacts.erase_contact(ctx.store, ctx.session.account_id, ctx.field("key"))
    return RedirectResponse("/contacts?notice=erased", status_code=303)
