"""Async requests (the journal): an account's newest first for the panel, the backlog for status."""

from __future__ import annotations

from dataclasses import dataclass

from cee.storage.base import Store
from cee.storage.panel import RequestRow


async def recent_requests(
    store: Store, account_id: int, limit: int, offset: int = 0
) -> list[RequestRow]:
    return await store.recent_requests(account_id, limit, offset)


@dataclass(frozen=True, slots=True)
class Backlog:
    """Accepted async requests of every account not yet applied."""

    depth: int
    oldest_age_seconds: float  # 0 when there are none


async def backlog(store: Store) -> Backlog:
    depth, age = await store.journal_depth()
    return Backlog(depth, age)
