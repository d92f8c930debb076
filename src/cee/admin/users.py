"""Panel users ("Sub Admins"): create with a password and a key, find, disable, enable."""

from __future__ import annotations

from dataclasses import dataclass

from cee.admin import audit
from cee.admin.keys import create_key
from cee.domain.errors import BadParameter, NotFound
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


async def find_account_user(store: Store, account_id: int, user_id: int) -> UserRow:
    """A user of this account; another account's user is NotFound, never a sign it exists."""
    for row in await store.users(account_id):
        if row.id == user_id:
            return row
    raise NotFound(f"user: no user {user_id} in this account")


def _not_self(acting_user_id: int | None, user: UserRow, change: str) -> None:
    # An admin who disables or demotes themselves may leave the account with no admin at all.
    if acting_user_id == user.id:
        raise BadParameter(f"{change}: you cannot change your own; ask another account admin")


async def disable_user(store: Store, user: UserRow, *, acting_user_id: int | None = None) -> None:
    """Their key is refused and their panel sessions end, at once."""
    _not_self(acting_user_id, user, "status")
    await store.set_user_active(user.id, False)
    await store.delete_user_sessions(user.id)
    await audit.record(store, "user.disable", account_id=user.account_id, target=user.username)


async def enable_user(store: Store, user: UserRow) -> None:
    await store.set_user_active(user.id, True)
    await audit.record(store, "user.enable", account_id=user.account_id, target=user.username)


async def set_role(
    store: Store, user: UserRow, is_admin: bool, *, acting_user_id: int | None = None
) -> None:
    """Make the user an account admin or a sub-admin."""
    if user.is_admin == is_admin:
        return
    _not_self(acting_user_id, user, "role")
    await store.set_user_admin(user.id, is_admin)
    await audit.record(
        store,
        "user.role",
        account_id=user.account_id,
        target=f"{user.username}: {'admin' if is_admin else 'sub admin'}",
    )


async def reset_password(store: Store, user: UserRow) -> str:
    """A new random password (returned, to be shown once); the user's panel sessions end."""
    password = new_password()
    await store.set_password_hash(user.id, hash_password(password))
    await store.delete_user_sessions(user.id)
    await audit.record(
        store, "user.password_reset", account_id=user.account_id, target=user.username
    )
    return password
