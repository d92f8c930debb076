"""Operator tasks shared by the CLI (and later the panel): first start, accounts, users, keys."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from cee.domain.attributes import PRIMARY_KEY_CHOICES
from cee.domain.errors import BadParameter, Duplicate, NotFound
from cee.domain.keys import hash_key, hash_password, key_prefix, new_api_key, new_password
from cee.storage.base import AccountRow, Store, UserRow


@dataclass(frozen=True)
class Credentials:
    """What is shown once: a new account's or user's password and API key."""

    account_id: int
    account_name: str
    primary_key: str
    admin_user: str
    admin_password: str
    api_key: str

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


async def issue_key(store: Store, user_id: int) -> str:
    """A new key for the user; every older key of theirs stops working in the same commit."""
    key = new_api_key()
    await store.replace_key(user_id, hash_key(await store.secret(), key), key_prefix(key))
    return key


async def create_account(
    store: Store, name: str, primary_key: str = "EMAIL", admin_user: str | None = None
) -> Credentials:
    """An account with API Mode on, the built-in attributes, an admin user and their key."""
    primary_key = primary_key.upper()
    if primary_key not in PRIMARY_KEY_CHOICES:
        raise BadParameter(
            f"primary key: '{primary_key}' is not one of {', '.join(PRIMARY_KEY_CHOICES)}"
        )
    account_id = await store.create_account(name, primary_key)
    username = admin_user or ("admin" if account_id == 1 else f"admin-{account_id}")
    password = new_password()
    user_id = await store.create_user(account_id, username, hash_password(password), True)
    key = await issue_key(store, user_id)
    return Credentials(account_id, name, primary_key, username, password, key)


async def initialise(store: Store, primary_key: str = "EMAIL") -> Credentials | None:
    """Bootstrap a new database; None (and nothing changed) if it already was."""
    if await store.is_initialised():
        return None
    try:
        return await create_account(store, "default", primary_key)
    except Duplicate:
        # Another process (a second node starting at the same moment) bootstrapped first.
        return None


async def find_account(store: Store, account: str | None) -> AccountRow:
    """An account by id or name; the first one when none is named (a single-account box)."""
    rows = await store.accounts()
    if not rows:
        raise NotFound("no account: run `cee init` first")
    if account is None:
        return rows[0]
    for row in rows:
        if str(row.id) == account or row.name == account:
            return row
    raise NotFound(f"account: no account '{account}'")


async def find_user(store: Store, username: str) -> UserRow:
    for row in await store.users():
        if row.username == username:
            return row
    raise NotFound(f"user: no user '{username}'")
