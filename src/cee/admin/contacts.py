"""Contacts as an operator sees them: find, edit, leave a list, blacklist, erase.

Edits go through the same validation as the API's (`normalise_contact` against the account's
schema) and the same store writes, so a value the API refuses is refused here with the same
words. History entries made here carry `panel:<user>` where the API's carry a key prefix.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from cee.admin import audit
from cee.domain.attributes import Attribute
from cee.domain.contacts import ContactRecord, Schema, normalise_contact, primary_key_value
from cee.domain.errors import NotFound
from cee.domain.writes import ContactOp, WriteContext, absent_contact
from cee.storage.base import ContactView, HistoryEntry, Store


def write_context(account_id: int, activity: str) -> WriteContext:
    """Who writes: a fresh requestid, and the acting user where the API has a key prefix."""
    return WriteContext(account_id, uuid.uuid4().hex, f"panel:{audit.current_actor()}", activity)


@dataclass(frozen=True, slots=True)
class Contact:
    match_key: str
    view: ContactView
    attributes: list[Attribute]  # the account's, to edit against
    primary_key: str


async def schema(store: Store, account_id: int) -> tuple[Schema, list[Attribute]]:
    attributes = await store.attributes(account_id)
    account = next((a for a in await store.accounts() if a.id == account_id), None)
    if account is None:
        raise NotFound("account: no such account")
    found = Schema(
        {a.name: a.datatype for a in attributes}, account.primary_key, account.phone_region
    )
    return found, attributes


async def find_contact(store: Store, account_id: int, value: str) -> Contact:
    """The contact whose primary key is `value` (as the API's `view` reads it)."""
    found_schema, attributes = await schema(store, account_id)
    key, display = primary_key_value(value, found_schema)
    view = await store.get_contact(account_id, key)
    if view is None:
        raise absent_contact(display)
    return Contact(key, view, attributes, found_schema.primary_key)


async def history(store: Store, account_id: int, match_key: str) -> list[HistoryEntry]:
    return await store.history(account_id, match_key)


async def edit_contact(
    store: Store, account_id: int, value: str, changes: dict[str, str]
) -> Contact:
    """Merge `changes` (attribute -> value; "" clears) into the contact, validated as the API's
    `update` validates; InvalidContact names the attribute."""
    contact = await find_contact(store, account_id, value)
    found_schema, _ = await schema(store, account_id)
    record = normalise_contact(
        {**changes, contact.primary_key: contact.view.primary_key}, found_schema
    )
    [outcome] = await store.write_contacts(
        write_context(account_id, "update"), ContactOp.UPDATE, [record], None
    )
    if outcome is not None:
        raise outcome
    return await find_contact(store, account_id, value)


async def remove_from_list(store: Store, account_id: int, value: str, listid: int) -> None:
    contact = await find_contact(store, account_id, value)
    await store.remove_from_list(write_context(account_id, "delete"), contact.match_key, listid)


async def set_blacklisted(store: Store, account_id: int, value: str, on: bool) -> None:
    contact = await find_contact(store, account_id, value)
    record = ContactRecord(
        contact.match_key,
        contact.view.primary_key,
        {contact.primary_key: contact.view.primary_key},
    )
    activity = "blacklist" if on else "unblacklist"
    await store.set_blacklisted(write_context(account_id, activity), record, on)


async def erase_contact(store: Store, account_id: int, value: str) -> None:
    """Delete the contact, its memberships and its history; the audit keeps no trace of who
    the contact was (erasure means that), only that one was erased."""
    contact = await find_contact(store, account_id, value)
    await store.erase_contact(write_context(account_id, "erase"), contact.match_key)
    await audit.record(store, "contact.erase", account_id=account_id, target="one contact")
