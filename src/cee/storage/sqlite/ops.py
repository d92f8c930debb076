"""The SQLite side of `OpsStore`: shared rate-limit buckets and Idempotency-Key answers.

A mixin of `SqliteStore`: reads on its reader threads, writes as named jobs of the closed table
in `jobs.py` (with `--processes` they run in the writer process, so every HTTP process takes
from the same bucket and sees the same claims).
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
        async def _write(self, name: str, *args: Any, weight: int = 1) -> Any: ...

    async def bulk_job_counts(self) -> dict[str, int]:
        rows = await self._read(lambda c: c.execute(Q.count_bulk_jobs).fetchall())
        return {state: int(count) for state, count in rows}

    async def set_rate_limit(self, user_id: int, per_minute: int) -> None:
        await self._write("set_rate_limit", user_id, per_minute)

    async def take_rate_tokens(self, user_id: int, per_minute: int, want: int) -> tuple[int, float]:
        granted, left = await self._write("take_rate_tokens", user_id, per_minute, want)
        return granted, left

    async def idempotency_claim(
        self,
        account_id: int,
        key: str,
        fingerprint: str,
        requestid: str,
        keep_seconds: float,
        abandon_seconds: float,
    ) -> KeptAnswer | None:
        kept: KeptAnswer | None = await self._write(
            "idempotency_claim",
            account_id,
            key,
            fingerprint,
            requestid,
            keep_seconds,
            abandon_seconds,
        )
        return kept

    async def idempotency_get(self, account_id: int, key: str) -> KeptAnswer | None:
        row = await self._read(
            lambda c: c.execute(Q.select_idempotency, (account_id, key)).fetchone()
        )
        return None if row is None else KeptAnswer(*row)

    async def idempotency_finish(
        self, account_id: int, key: str, requestid: str, status: int, answer: str
    ) -> None:
        await self._write("finish_idempotency", status, answer, account_id, key, requestid)

    async def idempotency_release(self, account_id: int, key: str, requestid: str) -> None:
        await self._write("release_idempotency", account_id, key, requestid)

    async def idempotency_purge(self, keep_seconds: float) -> int:
        return await self._write("purge_idempotency", time.time() - keep_seconds)


# -- write jobs: functions of the write connection, named in jobs.py ---------------------------


def set_rate_limit(conn: sqlite3.Connection, user_id: int, per_minute: int) -> None:
    conn.execute(Q.update_user_rate_limit, (per_minute, user_id))
    conn.execute(Q.delete_rate_bucket, (user_id,))


def take_rate_tokens(
    conn: sqlite3.Connection, user_id: int, per_minute: int, want: int
) -> tuple[int, float]:
    granted, left = conn.execute(
        Q.take_rate_tokens, (user_id, per_minute, want, time.time())
    ).fetchone()
    return int(granted), float(left)


def idempotency_claim(
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


def purge_idempotency(conn: sqlite3.Connection, before: float) -> int:
    return conn.execute(Q.purge_idempotency, (before,)).rowcount
