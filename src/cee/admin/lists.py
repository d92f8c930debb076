"""Contact lists of an account: create, list, find one, empty one."""

from __future__ import annotations

from cee.admin import audit
from cee.admin.contacts import write_context
from cee.domain.errors import NotFound
from cee.storage.base import ListRow, Store


async def create_list(store: Store, account_id: int, name: str) -> int:
    """The new list's id; Duplicate if the account has a list of that name."""
    listid = await store.create_list(account_id, name.strip())
    await audit.record(store, "list.create", account_id=account_id, target=name.strip())
    return listid


async def list_lists(store: Store, account_id: int) -> list[ListRow]:
    return await store.lists(account_id)


async def find_list(store: Store, account_id: int, listid: int) -> ListRow:
    """A list of this account; another account's list is NotFound, never a sign it exists."""
    for row in await store.lists(account_id):
        if row.id == listid:
            return row
    raise NotFound(f"listid: no list {listid} in this account")


async def empty_list(store: Store, account_id: int, listid: int) -> int:
    """Remove every member (the contacts stay); how many were removed."""
    found = await find_list(store, account_id, listid)
    removed = await store.empty_list(write_context(account_id, "emptylist"), listid)
    await audit.record(
        store, "list.empty", account_id=account_id, target=f"{found.name} ({removed} removed)"
    )
    return removed
