"""Contact attributes of an account: define one (name and datatype), list them."""

from __future__ import annotations

from cee.admin import audit
from cee.domain.attributes import Attribute, Datatype, normalise_name, parse_datatype
from cee.storage.base import Store


async def create_attribute(
    store: Store, account_id: int, name: str, datatype: str
) -> tuple[str, Datatype]:
    """Define an attribute (name upper-cased as the API sends it); Duplicate if it exists."""
    upper, kind = normalise_name(name), parse_datatype(datatype)
    await store.create_attribute(account_id, upper, kind)
    await audit.record(store, "attribute.create", account_id=account_id, target=upper)
    return upper, kind


async def list_attributes(store: Store, account_id: int) -> list[Attribute]:
    return await store.attributes(account_id)
