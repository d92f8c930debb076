"""Contact lists of an account: create, list."""

from __future__ import annotations

from cee.admin import audit
from cee.storage.base import ListRow, Store


async def create_list(store: Store, account_id: int, name: str) -> int:
    """The new list's id; Duplicate if the account has a list of that name."""
    listid = await store.create_list(account_id, name.strip())
    await audit.record(store, "list.create", account_id=account_id, target=name.strip())
    return listid


async def list_lists(store: Store, account_id: int) -> list[ListRow]:
    return await store.lists(account_id)
