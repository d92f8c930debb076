"""Async requests of an account (the journal), newest first, for the panel's Requests page."""

from __future__ import annotations

from cee.storage.base import Store
from cee.storage.panel import RequestRow


async def recent_requests(
    store: Store, account_id: int, limit: int, offset: int = 0
) -> list[RequestRow]:
    return await store.recent_requests(account_id, limit, offset)
