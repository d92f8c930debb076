"""API keys: issue a user's key, rotate it (the old one stops working in the same commit)."""

from __future__ import annotations

from cee.admin import audit
from cee.domain.keys import hash_key, key_prefix, new_api_key
from cee.storage.base import Store, UserRow


async def create_key(store: Store, user_id: int) -> str:
    """A new key for the user; every older key of theirs stops working in the same commit.

    Only its keyed hash and prefix are stored: the key itself is returned to be shown once.
    """
    key = new_api_key()
    await store.replace_key(user_id, hash_key(await store.secret(), key), key_prefix(key))
    return key


async def rotate_key(store: Store, user: UserRow) -> str:
    key = await create_key(store, user.id)
    await audit.record(store, "key.rotate", account_id=user.account_id, target=user.username)
    return key
