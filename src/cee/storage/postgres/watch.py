"""Learning that configuration changed on another node: LISTEN, with a poll as a fallback.

Every write to the tables the catalog is built from fires a trigger (migration 0001) that bumps
`meta.config_version` and NOTIFYs `cee_config` in the writer's transaction. A watcher holds one
dedicated connection that LISTENs, and reads the version every `poll_seconds` on the same
connection: that catches a notification lost while the connection was down, and notices the
connection dying. Either way it only sets a flag; `Store.config_changed()` reads that flag.

The bound: a change committed on any node reaches this node's flag at once through NOTIFY, and
at the latest `poll_seconds` plus one poll round trip later; the next request then rebuilds
the catalog before it authenticates.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

import asyncpg

from cee.storage.queries import Queries

CHANNEL = "cee_config"
Q = Queries("postgres")
log = logging.getLogger(__name__)


class ConfigWatch:
    def __init__(self, url: str, poll_seconds: float, on_change: Callable[[], None]) -> None:
        self._url = url
        self._poll_seconds = poll_seconds
        self._on_change = on_change
        self._task: asyncio.Task[None] | None = None
        self._conn: Any = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="cee-pg-config-watch")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._disconnect()

    def _notified(self, *_: Any) -> None:
        self._on_change()

    async def _disconnect(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), timeout=2)

    async def _run(self) -> None:
        version: str | None = None
        while True:
            try:
                if self._conn is None or self._conn.is_closed():
                    self._conn = await asyncpg.connect(self._url, timeout=10)
                    await self._conn.add_listener(CHANNEL, self._notified)
                    # Anything may have changed while nobody listened.
                    self._on_change()
                current = await asyncio.wait_for(
                    self._conn.fetchval(Q.get_meta, "config_version"),
                    timeout=max(self._poll_seconds, 1.0),
                )
                if version is not None and current != version:
                    self._on_change()
                version = current
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("config watch lost its connection (%s); reconnecting", exc)
                await self._disconnect()
                self._on_change()
            await asyncio.sleep(self._poll_seconds)
