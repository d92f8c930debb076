"""Bulk imports on SQLite: the `BulkStore` methods of `SqliteStore`, and their write jobs.

Every write is a named job of the closed table in `jobs.py`, run in the writer's next group
commit (sent by name to a writer process under `--processes`); a chunk is a background job,
written a step at a time between the requests' commits (`Writer.run_in_steps`). Its contacts
are upserted exactly as `add` upserts them (`contacts.upsert_pieces`), in the same
transaction as the job's progress.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

import orjson

from cee.domain.keys import new_secret
from cee.domain.writes import WriteContext
from cee.storage.bulk import PIECE_ROWS, BulkJob, Chunk, StoredReject
from cee.storage.sqlite.connection import Q, utcnow
from cee.storage.sqlite.contacts import upsert_pieces
from cee.storage.sqlite.writer import Step

T = TypeVar("T")


class _Connections(Protocol):
    async def _write(self, name: str, *args: Any, weight: int = 1) -> Any: ...

    async def _read(self, fn: Callable[[sqlite3.Connection], T]) -> T: ...


def _job(row: Any) -> BulkJob:
    values = list(row)
    values[18] = orjson.loads(values[18])  # notes
    return BulkJob(*values)


class SqliteBulk:
    """Mixed into SqliteStore: the bulk-import methods of the store interface."""

    async def bulk_create(self: _Connections, job: BulkJob) -> None:
        params = (
            job.requestid,
            job.account_id,
            job.user_id,
            job.key_prefix,
            job.path,
            job.listid,
            job.callback,
            job.notifyemail,
            utcnow(),
        )
        await self._write("insert_bulk_job", *params)

    async def bulk_claim(
        self: _Connections, worker_id: str, limit: int, lease_seconds: float
    ) -> list[BulkJob]:
        return await self._write("claim_bulk_jobs", worker_id, limit, lease_seconds)

    async def bulk_renew(
        self: _Connections, job_id: int, worker_id: str, lease_seconds: float
    ) -> bool:
        params = (time.time() + lease_seconds, job_id, worker_id)
        return await self._write("renew_bulk_job", *params)

    async def bulk_chunk(
        self: _Connections, job: BulkJob, worker_id: str, chunk: Chunk, lease_seconds: float
    ) -> bool:
        return await self._write("bulk_chunk", job, worker_id, chunk, lease_seconds)

    async def bulk_finish(
        self: _Connections, job_id: int, worker_id: str, result: str, reason: str | None
    ) -> bool:
        params = (result, reason, utcnow(), job_id, worker_id)
        return await self._write("finish_bulk_job", *params)

    async def bulk_note(
        self: _Connections, job_id: int, worker_id: str, notes: dict[str, Any], *, done: bool
    ) -> bool:
        params = (orjson.dumps(notes).decode(), done, done, job_id, worker_id)
        return await self._write("note_bulk_job", *params)

    async def bulk_job(self: _Connections, account_id: int, requestid: str) -> BulkJob | None:
        row = await self._read(
            lambda c: c.execute(Q.select_bulk_job, (account_id, requestid)).fetchone()
        )
        return None if row is None else _job(row)

    async def bulk_rejects(
        self: _Connections, job_id: int, offset: int, limit: int
    ) -> list[StoredReject]:
        rows = await self._read(
            lambda c: c.execute(Q.select_bulk_rejects, (job_id, limit, offset)).fetchall()
        )
        return [StoredReject(r[0], r[1], r[2], r[3], orjson.loads(r[4])) for r in rows]

    async def bulk_forget(self: _Connections, account_id: int, match_key: str) -> int:
        return await self._write("delete_bulk_rejects_of", account_id, match_key)

    async def bulk_claimers(self: _Connections) -> list[str]:
        rows = await self._read(lambda c: c.execute(Q.select_bulk_claimers).fetchall())
        return [r[0] for r in rows]

    async def bulk_release(self: _Connections, worker_id: str) -> int:
        return await self._write("release_bulk_claims", worker_id)

    async def find_webhook_secret(self: _Connections, account_id: int) -> str | None:
        row = await self._read(
            lambda c: c.execute(Q.select_webhook_secret, (account_id,)).fetchone()
        )
        return None if row is None else str(row[0])

    async def webhook_secret(self: _Connections, account_id: int, *, rotate: bool = False) -> str:
        return await self._write("webhook_secret", account_id, rotate)


# -- write jobs ----------------------------------------------------------------------------------


def claim_bulk_jobs(
    conn: sqlite3.Connection, worker_id: str, limit: int, lease_seconds: float
) -> list[BulkJob]:
    now = time.time()
    rows = conn.execute(Q.claim_bulk_jobs, (worker_id, now + lease_seconds, now, limit)).fetchall()
    return sorted((_job(r) for r in rows), key=lambda j: j.id)


def bulk_chunk(
    conn: sqlite3.Connection,
    job: BulkJob,
    worker_id: str,
    chunk: Chunk,
    lease_seconds: float,
    start: int,
    budget: int | None,
) -> Step:
    """A background job (Writer.run_in_steps): the chunk's pieces from `start`, at most
    `budget` records' worth of them, with the rejected rows among them and the progress up to
    there, in this step's transaction. Its value: whether the claim was still held."""
    n = len(chunk.pieces)
    end = n if budget is None else min(n, start + max(budget // PIECE_ROWS, 1))
    rejects, rows_done, count = chunk.part(start, end)
    progress = (
        rows_done,
        chunk.bytes_done,
        chunk.bytes_total,
        count,
        len(rejects),
        time.time() + lease_seconds,
        job.id,
        worker_id,
    )
    if conn.execute(Q.advance_bulk_job, progress).fetchone() is None:
        return Step(False)
    if count:
        # NotFound if the list was deleted since the job was accepted: raised, this job's
        # transaction (progress included) rolls back and the import fails naming the list.
        ctx = WriteContext(job.account_id, job.requestid, job.key_prefix, "bulkupload")
        upsert_pieces(conn, ctx, chunk, start, end, job.listid)
    conn.executemany(
        Q.insert_bulk_reject,
        [
            (
                job.id,
                r.index,
                r.line,
                r.error.name,
                r.error.details,
                orjson.dumps(r.fields).decode(),
            )
            for r in rejects
        ],
    )
    return Step(True, end if end < n else None)


def webhook_secret(conn: sqlite3.Connection, account_id: int, rotate: bool) -> str:
    if rotate:
        conn.execute(Q.put_webhook_secret, (account_id, new_secret(), utcnow()))
    else:
        conn.execute(Q.make_webhook_secret, (account_id, new_secret(), utcnow()))
    return str(conn.execute(Q.select_webhook_secret, (account_id,)).fetchone()[0])
