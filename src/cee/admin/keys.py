"""API keys: issue a user's key, rotate it (the old one stops working in the same commit), show it.

A key is stored twice: its keyed hash, which is how a request's key is looked up, and a sealed
(AES-GCM) copy that only `show_key` opens, for the panel's `Show`.
"""

from __future__ import annotations

from cee.admin import audit
from cee.domain.errors import BadParameter, NotFound
from cee.domain.key_vault import open_key, seal_key
from cee.domain.keys import hash_key, key_prefix, new_api_key
from cee.storage.base import Store, UserRow

ROTATE_TO_VIEW = (
    "API key: made before keys were kept encrypted, so it cannot be shown; rotate to view"
)


async def create_key(store: Store, user_id: int) -> str:
    """A new key for the user; every older key of theirs stops working in the same commit.

    Returned to be shown once; stored as its keyed hash and a sealed copy, never in clear.
    """
    key = new_api_key()
    secret = await store.secret()
    await store.replace_sealed_key(
        user_id, hash_key(secret, key), key_prefix(key), seal_key(secret, user_id, key)
    )
    return key


async def rotate_key(store: Store, user: UserRow) -> str:
    key = await create_key(store, user.id)
    await audit.record(store, "key.rotate", account_id=user.account_id, target=user.username)
    return key


async def can_show(store: Store, user: UserRow) -> bool:
    """Whether the user's live key has a sealed copy (keys made before sealing have none)."""
    current = await store.current_key(user.id)
    return current is not None and current[1] is not None


async def show_key(store: Store, user: UserRow) -> str:
    """The user's live key in clear, with an audit entry; NotFound if none can be shown.

    Who may ask (the owner or an account admin, freshly logged in) is the caller's rule.
    """
    current = await store.current_key(user.id)
    if current is None:
        raise NotFound(f"API key: user '{user.username}' has no live key")
    if current[1] is None:
        raise NotFound(ROTATE_TO_VIEW)
    key = open_key(await store.secret(), user.id, current[1])
    await audit.record(store, "key.show", account_id=user.account_id, target=user.username)
    return key


async def set_rate_limit(store: Store, user: UserRow, per_minute: int) -> None:
    """Limit the user's key to `per_minute` requests a minute (a burst of as many); 0: none.

    The limit belongs to the user, so a rotated key keeps it.
    """
    if per_minute < 0:
        raise BadParameter("per-minute: must be 0 (no limit) or more")
    await store.set_rate_limit(user.id, per_minute)
    target = f"{user.username}={per_minute}/min" if per_minute else f"{user.username}=none"
    await audit.record(store, "key.limit", account_id=user.account_id, target=target)
