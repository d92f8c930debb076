"""Accounts: the first start, creating one with its admin, API Mode and the primary key."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import phonenumbers

from cee.admin import audit
from cee.admin.users import create_user
from cee.domain.attributes import PRIMARY_KEY_CHOICES
from cee.domain.errors import BadParameter, Conflict, Duplicate, NotFound
from cee.storage.base import AccountRow, Store


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


def _primary_key(attribute: str) -> str:
    upper = attribute.upper()
    if upper not in PRIMARY_KEY_CHOICES:
        raise BadParameter(f"primary key: '{upper}' is not one of {', '.join(PRIMARY_KEY_CHOICES)}")
    return upper


async def create_account(
    store: Store, name: str, primary_key: str = "EMAIL", admin_user: str | None = None
) -> Credentials:
    """An account with API Mode on, the built-in attributes, an admin user and their key."""
    primary_key = _primary_key(primary_key)
    account_id = await store.create_account(name, primary_key)
    username = admin_user or ("admin" if account_id == 1 else f"admin-{account_id}")
    made = await create_user(store, account_id, username, is_admin=True)
    await audit.record(store, "account.create", account_id=account_id, target=name)
    return Credentials(account_id, name, primary_key, username, made.password, made.api_key)


async def initialise(store: Store, primary_key: str = "EMAIL") -> Credentials | None:
    """Bootstrap a new database; None (and nothing changed) if it already was."""
    if await store.is_initialised():
        return None
    try:
        return await create_account(store, "default", primary_key)
    except Duplicate:
        # Another process (a second node starting at the same moment) bootstrapped first.
        return None


async def list_accounts(store: Store) -> list[AccountRow]:
    return await store.accounts()


async def count_contacts(store: Store, account: AccountRow) -> int:
    return await store.count_contacts(account.id)


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


async def set_api_mode(store: Store, account: AccountRow, on: bool) -> None:
    """With API Mode off every key of the account is refused (403) at once."""
    await store.set_api_mode(account.id, on)
    await audit.record(
        store, "account.api_mode", account_id=account.id, target="on" if on else "off"
    )


async def set_primary_key(store: Store, account: AccountRow, attribute: str) -> str:
    """Choose the primary-key attribute; only while the account has no contacts.

    Existing contacts are unique by the old key only, so changing it then would leave
    duplicates under the new one.
    """
    upper = _primary_key(attribute)
    if await count_contacts(store, account):
        raise Conflict(
            "primary key: the account has contacts; its primary key can no longer change"
        )
    await store.set_primary_key(account.id, upper)
    await audit.record(store, "account.primary_key", account_id=account.id, target=upper)
    return upper


async def webhook_secret(store: Store, account: AccountRow, *, rotate: bool = False) -> str:
    """The secret that signs the account's callbacks (X-CEE-Signature), made on first use."""
    secret = await store.webhook_secret(account.id, rotate=rotate)
    if rotate:
        await audit.record(store, "account.webhook_secret", account_id=account.id, target="rotated")
    return secret


async def get_account(store: Store, account_id: int) -> AccountRow:
    for row in await store.accounts():
        if row.id == account_id:
            return row
    raise NotFound(f"account: no account {account_id}")


async def find_webhook_secret(store: Store, account: AccountRow) -> str | None:
    """The callback-signing secret if the account has one (the panel shows it; makes none)."""
    return await store.find_webhook_secret(account.id)


async def set_phone_region(store: Store, account: AccountRow, region: str) -> str | None:
    """Read the account's mobile numbers without a country code in `region` (an ISO 3166
    code); "" or "default": the deployment's phone_region setting. Returns what is stored."""
    text = region.strip().upper()
    chosen = None if text in ("", "DEFAULT") else text
    if chosen is not None and chosen not in phonenumbers.SUPPORTED_REGIONS:
        raise BadParameter(f"phone region: '{region.strip()[:8]}' is not an ISO 3166 region code")
    if chosen != account.phone_region:
        await store.set_phone_region(account.id, chosen)
        await audit.record(
            store, "account.phone_region", account_id=account.id, target=chosen or "default"
        )
    return chosen
