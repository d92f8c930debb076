"""The SQLite side of `OpsStore`: shared rate-limit buckets and Idempotency-Key answers.

A mixin of `SqliteStore`: reads on its reader threads, writes as module-level jobs of its one
writer (with `--processes` they run in the writer process, so every HTTP process takes from
the same bucket and sees the same claims).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from cee.storage.ops import KeptAnswer, OpsStore
from cee.storage.queries import Queries

T = TypeVar("T")
Q = Queries("sqlite")


class SqliteOps(OpsStore):
    if TYPE_CHECKING:

        async def _read(self, fn: Callable[[sqlite3.Connection], T]) -> T: ...
        async def _write(self, fn: Callable[..., T], *args: Any, weight: int = 1) -> T: ...
        async def _admin_write(self, fn: Callable[..., T], *args: Any) -> T: ...

    async def set_rate_limit(self, user_id: int, per_minute: int) -> None:
        await self._admin_write(_set_rate_limit, user_id, per_minute)

    async def take_rate_tokens(self, user_id: int, per_minute: int, want: int) -> tuple[int, float]:
        return await self._write(_take_tokens, user_id, per_minute, want)

    async def idempotency_claim(
        self,
        account_id: int,
        key: str,
        fingerprint: str,
        requestid: str,
        keep_seconds: float,
        abandon_seconds: float,
    ) -> KeptAnswer | None:
        return await self._write(
            _claim, account_id, key, fingerprint, requestid, keep_seconds, abandon_seconds
        )

    async def idempotency_get(self, account_id: int, key: str) -> KeptAnswer | None:
        row = await self._read(
            lambda c: c.execute(Q.select_idempotency, (account_id, key)).fetchone()
        )
        return None if row is None else KeptAnswer(*row)

    async def idempotency_finish(
        self, account_id: int, key: str, requestid: str, status: int, answer: str
    ) -> None:
        await self._write(
            _execute, Q.finish_idempotency, (status, answer, account_id, key, requestid)
        )

    async def idempotency_release(self, account_id: int, key: str, requestid: str) -> None:
        await self._write(_execute, Q.release_idempotency, (account_id, key, requestid))

    async def idempotency_purge(self, keep_seconds: float) -> int:
        return await self._write(_purge, time.time() - keep_seconds)


# -- write jobs: module-level functions of the write connection --------------------------------


def _execute(conn: sqlite3.Connection, sql: str, params: tuple[Any, ...]) -> None:
    conn.execute(sql, params)


def _set_rate_limit(conn: sqlite3.Connection, user_id: int, per_minute: int) -> None:
    conn.execute(Q.update_user_rate_limit, (per_minute, user_id))
    conn.execute(Q.delete_rate_bucket, (user_id,))


def _take_tokens(
    conn: sqlite3.Connection, user_id: int, per_minute: int, want: int
) -> tuple[int, float]:
    granted, left = conn.execute(
        Q.take_rate_tokens, (user_id, per_minute, want, time.time())
    ).fetchone()
    return int(granted), float(left)


def _claim(
    conn: sqlite3.Connection,
    account_id: int,
    key: str,
    fingerprint: str,
    requestid: str,
    keep_seconds: float,
    abandon_seconds: float,
) -> KeptAnswer | None:
    now = time.time()
    conn.execute(Q.delete_stale_idempotency, (account_id, key, keep_seconds, abandon_seconds, now))
    if conn.execute(
        Q.insert_idempotency, (account_id, key, fingerprint, requestid, now)
    ).fetchone():
        return None
    row = conn.execute(Q.select_idempotency, (account_id, key)).fetchone()
    return KeptAnswer(*row)


def _purge(conn: sqlite3.Connection, before: float) -> int:
    return conn.execute(Q.purge_idempotency, (before,)).rowcount
