"""Panel users ("Sub Admins"): create with a password and a key, find, disable, enable."""

from __future__ import annotations

from dataclasses import dataclass

from cee.admin import audit
from cee.admin.keys import create_key
from cee.domain.errors import NotFound
from cee.domain.keys import hash_password, new_password
from cee.storage.base import Store, UserRow


@dataclass(frozen=True)
class NewUser:
    """A made user and the secrets shown once: their password and API key."""

    user_id: int
    username: str
    password: str
    api_key: str


async def create_user(
    store: Store, account_id: int, username: str, *, is_admin: bool = False
) -> NewUser:
    """A user with a fresh password and API key; Duplicate if the username is taken."""
    password = new_password()
    user_id = await store.create_user(account_id, username, hash_password(password), is_admin)
    key = await create_key(store, user_id)
    await audit.record(store, "user.create", account_id=account_id, target=username)
    return NewUser(user_id, username, password, key)


async def list_users(store: Store, account_id: int) -> list[UserRow]:
    return await store.users(account_id)


async def find_user(store: Store, username: str) -> UserRow:
    for row in await store.users():
        if row.username == username:
            return row
    raise NotFound(f"user: no user '{username}'")


async def disable_user(store: Store, user: UserRow) -> None:
    """Their key is refused at once (the key caches drop on the change signal)."""
    await store.set_user_active(user.id, False)
    await audit.record(store, "user.disable", account_id=user.account_id, target=user.username)


async def enable_user(store: Store, user: UserRow) -> None:
    await store.set_user_active(user.id, True)
    await audit.record(store, "user.enable", account_id=user.account_id, target=user.username)
