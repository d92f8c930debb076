"""What a running CEE process holds: settings, the store, the catalog, background tasks."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from cee.catalog import Catalog
from cee.domain import attributes
from cee.ingest.journal import JournalGate
from cee.ratelimit import RateLimiter
from cee.settings import Settings
from cee.storage import Store

log = logging.getLogger(__name__)

# Background jobs (the async worker, listeners) register here so that `cee serve` runs them
# alongside the API and stops them cleanly.
BackgroundJob = Callable[["Engine"], Coroutine[Any, Any, Any]]


class Engine:
    """Built by `cee.runtime` for each process role, which picks the store."""

    def __init__(self, settings: Settings, store: Store, *, shared_limits: bool = True) -> None:
        """`shared_limits`: other processes or nodes may serve the same keys, so the rate
        limits' buckets live in the database; runtime says False only for `cee serve` as the
        one process on an embedded database, whose buckets can stay in memory."""
        self.settings = settings
        self.store = store
        self.catalog = Catalog(self.store)
        self.journal = JournalGate(settings.journal_max_depth)
        self.limits = RateLimiter(self.store, shared=shared_limits)
        self._tasks: list[asyncio.Task[Any]] = []

    async def start(self, background: list[BackgroundJob] | None = None) -> None:
        attributes.set_phone_region(self.settings.phone_region)
        await self.store.open()
        if not await self.store.is_initialised():
            raise RuntimeError("the database is not initialised: run `cee init` first")
        await self.catalog.refresh()
        for job in background or []:
            self._tasks.append(asyncio.create_task(job(self)))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        await self.store.close()
