"""The PostgreSQL side of `OpsStore`: shared rate-limit buckets and Idempotency-Key answers.

A mixin of `PostgresStore`. Each operation is one short statement (the claim: three in one
transaction) straight on the pool rather than through the group-commit writer: a limited key's
request waits one round trip, not for the next commit. Times are the database's clock, so
every node reads the same bucket and the same 24 hours.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from cee.storage.ops import KeptAnswer, OpsStore
from cee.storage.queries import Queries

T = TypeVar("T")
Q = Queries("postgres")
CLAIM_ATTEMPTS = 5


class PostgresOps(OpsStore):
    _pool: Any

    if TYPE_CHECKING:

        async def _admin_write(self, fn: Callable[[Any], Awaitable[T]]) -> T: ...

    async def bulk_job_counts(self) -> dict[str, int]:
        rows = await self._pool.fetch(Q.count_bulk_jobs)
        return {r[0]: int(r[1]) for r in rows}

    async def set_rate_limit(self, user_id: int, per_minute: int) -> None:
        async def update(conn: Any) -> None:
            await conn.execute(Q.update_user_rate_limit, per_minute, user_id)
            await conn.execute(Q.delete_rate_bucket, user_id)

        await self._admin_write(update)

    async def take_rate_tokens(self, user_id: int, per_minute: int, want: int) -> tuple[int, float]:
        row = await self._pool.fetchrow(Q.take_rate_tokens, user_id, per_minute, want)
        return int(row[0]), float(row[1])

    async def idempotency_claim(
        self,
        account_id: int,
        key: str,
        fingerprint: str,
        requestid: str,
        keep_seconds: float,
        abandon_seconds: float,
    ) -> KeptAnswer | None:
        # A claim another request gives up between our insert and our select leaves nothing
        # to read: then the insert is tried again (a bounded number of times).
        for _ in range(CLAIM_ATTEMPTS):
            async with self._pool.acquire() as conn, conn.transaction():
                await conn.execute(
                    Q.delete_stale_idempotency, account_id, key, keep_seconds, abandon_seconds
                )
                args = (account_id, key, fingerprint, requestid)
                if await conn.fetchval(Q.insert_idempotency, *args):
                    return None
                row = await conn.fetchrow(Q.select_idempotency, account_id, key)
            if row is not None:
                return KeptAnswer(*row)
        raise RuntimeError(f"Idempotency-Key {key!r}: could not claim it or read its claim")

    async def idempotency_get(self, account_id: int, key: str) -> KeptAnswer | None:
        row = await self._pool.fetchrow(Q.select_idempotency, account_id, key)
        return None if row is None else KeptAnswer(*row)

    async def idempotency_finish(
        self, account_id: int, key: str, requestid: str, status: int, answer: str
    ) -> None:
        await self._pool.execute(Q.finish_idempotency, status, answer, account_id, key, requestid)

    async def idempotency_release(self, account_id: int, key: str, requestid: str) -> None:
        await self._pool.execute(Q.release_idempotency, account_id, key, requestid)

    async def idempotency_purge(self, keep_seconds: float) -> int:
        done = await self._pool.execute(Q.purge_idempotency, keep_seconds)
        return int(done.split()[-1])
