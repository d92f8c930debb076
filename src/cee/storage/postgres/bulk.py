"""Bulk imports on PostgreSQL: the `BulkStore` methods of `PostgresStore`.

A chunk runs as one writer job: the claim check (which locks the job's row), the upsert
`add` uses (`write_records`), the rejects and the progress, in one transaction. A chunk that
races another transaction for a new key raises RetryJob inside `write_records`, and the writer
runs the whole job again, claim check included.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, Protocol, TypeVar

import orjson

from cee.domain.keys import new_secret
from cee.storage.base import ContactOp, WriteContext
from cee.storage.bulk import BulkJob, Chunk, StoredReject
from cee.storage.postgres.contacts import dump, write_records
from cee.storage.postgres.writer import Connection
from cee.storage.queries import Queries

T = TypeVar("T")
Q = Queries("postgres")
# Pieces of a chunk (PIECE_ROWS records each) written per COPY: 2,000 records.
GROUP_PIECES = 20


class _Connections(Protocol):
    async def _write(self, fn: Callable[[Connection], Awaitable[T]]) -> T: ...

    async def _fetch(self, sql: str, *args: Any) -> list[Any]: ...

    async def _fetchrow(self, sql: str, *args: Any) -> Any: ...


def _text_time(value: datetime | None) -> str | None:
    from cee.storage.postgres.store import iso

    return None if value is None else iso(value)


def _job(row: Any) -> BulkJob:
    values = list(row)
    values[18] = orjson.loads(values[18]) if isinstance(values[18], str) else values[18]
    values[19] = _text_time(values[19])
    values[20] = _text_time(values[20])
    return BulkJob(*values)


class PostgresBulk:
    """Mixed into PostgresStore: the bulk-import methods of the store interface."""

    async def bulk_create(self: _Connections, job: BulkJob) -> None:
        async def insert(conn: Connection) -> None:
            await conn.execute(
                Q.insert_bulk_job,
                job.requestid,
                job.account_id,
                job.user_id,
                job.key_prefix,
                job.path,
                job.listid,
                job.callback,
                job.notifyemail,
            )

        await self._write(insert)

    async def bulk_claim(
        self: _Connections, worker_id: str, limit: int, lease_seconds: float
    ) -> list[BulkJob]:
        rows = await self._fetch(Q.claim_bulk_jobs, worker_id, float(lease_seconds), limit)
        return sorted((_job(r) for r in rows), key=lambda j: j.id)

    async def bulk_renew(
        self: _Connections, job_id: int, worker_id: str, lease_seconds: float
    ) -> bool:
        row = await self._fetchrow(Q.renew_bulk_job, float(lease_seconds), job_id, worker_id)
        return row is not None

    async def bulk_chunk(
        self: _Connections, job: BulkJob, worker_id: str, chunk: Chunk, lease_seconds: float
    ) -> bool:
        async def apply(conn: Connection) -> bool:
            claimed = await conn.fetchval(
                Q.advance_bulk_job,
                chunk.rows_done,
                chunk.bytes_done,
                chunk.bytes_total,
                len(chunk.indexes),
                len(chunk.rejects),
                float(lease_seconds),
                job.id,
                worker_id,
            )
            if claimed is None:
                return False
            if chunk.indexes:
                # NotFound if the list was deleted since the job was accepted: raised, the
                # transaction rolls back and the import fails naming the list.
                ctx = WriteContext(job.account_id, job.requestid, job.key_prefix, "bulkupload")
                # Distinct keys: a group of pieces at a time (each its own COPY), so that making
                # a 10,000-row chunk's records and COPY rows never holds the event loop for long.
                step = GROUP_PIECES if chunk.distinct else len(chunk.pieces)
                for first in range(0, len(chunk.pieces), step):
                    records = chunk.records(first, first + step)
                    await write_records(conn, ctx, ContactOp.UPSERT, records, job.listid)
                    await asyncio.sleep(0)
            if chunk.rejects:
                rejects = chunk.rejects
                await conn.execute(
                    Q.insert_bulk_reject,
                    job.id,
                    [r.index for r in rejects],
                    [r.line for r in rejects],
                    [r.error.name for r in rejects],
                    [r.error.details for r in rejects],
                    [dump(r.fields) for r in rejects],
                )
            return True

        return await self._write(apply)

    async def bulk_finish(
        self: _Connections, job_id: int, worker_id: str, result: str, reason: str | None
    ) -> bool:
        row = await self._fetchrow(Q.finish_bulk_job, result, reason, job_id, worker_id)
        return row is not None

    async def bulk_note(
        self: _Connections, job_id: int, worker_id: str, notes: dict[str, Any], *, done: bool
    ) -> bool:
        row = await self._fetchrow(Q.note_bulk_job, dump(notes), done, job_id, worker_id)
        return row is not None

    async def bulk_job(self: _Connections, account_id: int, requestid: str) -> BulkJob | None:
        row = await self._fetchrow(Q.select_bulk_job, account_id, requestid)
        return None if row is None else _job(row)

    async def bulk_rejects(
        self: _Connections, job_id: int, offset: int, limit: int
    ) -> list[StoredReject]:
        rows = await self._fetch(Q.select_bulk_rejects, job_id, limit, offset)
        return [StoredReject(r[0], r[1], r[2], r[3], orjson.loads(r[4])) for r in rows]

    async def bulk_forget(self: _Connections, account_id: int, match_key: str) -> int:
        return len(await self._fetch(Q.delete_bulk_rejects_of, account_id, match_key))

    async def bulk_claimers(self: _Connections) -> list[str]:
        return [r[0] for r in await self._fetch(Q.select_bulk_claimers)]

    async def bulk_release(self: _Connections, worker_id: str) -> int:
        return len(await self._fetch(Q.release_bulk_claims, worker_id))

    async def find_webhook_secret(self: _Connections, account_id: int) -> str | None:
        row = await self._fetchrow(Q.select_webhook_secret, account_id)
        return None if row is None else str(row[0])

    async def webhook_secret(self: _Connections, account_id: int, *, rotate: bool = False) -> str:
        async def get(conn: Connection) -> str:
            sql = Q.put_webhook_secret if rotate else Q.make_webhook_secret
            await conn.execute(sql, account_id, new_secret())
            return str(await conn.fetchval(Q.select_webhook_secret, account_id))

        return await self._write(get)
