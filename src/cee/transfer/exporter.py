"""`cee export`: every contact of an account (or of one list), streamed page by page.

CSV has one column per attribute of the account (the primary key first), so `cee import` reads
the file straight back; NDJSON has one object a line, the contact's attributes as `data` takes
them. Pages come from `Store.export_page` (keyset paging), so memory stays one page whatever
the account's size.
"""

from __future__ import annotations

import csv
from collections.abc import AsyncIterator, Callable
from typing import Any, TextIO

import orjson

from cee.storage import Store
from cee.storage.base import ContactView

PAGE = 2000


async def contacts(store: Store, account_id: int, listid: int | None) -> AsyncIterator[ContactView]:
    after = 0
    while page := await store.export_page(account_id, listid, after, PAGE):
        for _, contact in page:
            yield contact
        after = page[-1][0]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)


async def export(
    store: Store,
    account_id: int,
    primary_key: str,
    listid: int | None,
    fmt: str,
    out: TextIO,
    progress: Callable[[int], None],
) -> int:
    """Write the contacts to `out`; how many."""
    count = 0
    if fmt == "ndjson":
        async for contact in contacts(store, account_id, listid):
            out.write(orjson.dumps(contact.attributes).decode())
            out.write("\n")
            count += 1
            progress(1)
        return count
    names = [a.name for a in await store.attributes(account_id)]
    columns = [primary_key, *(n for n in names if n != primary_key)]
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    async for contact in contacts(store, account_id, listid):
        writer.writerow([_cell(contact.attributes.get(c)) for c in columns])
        count += 1
        progress(1)
    return count
