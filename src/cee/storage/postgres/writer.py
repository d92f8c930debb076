"""The PostgreSQL group-commit writer: batching coroutines over pool connections.

Callers hand it a job and await the result. Whenever a writer is free it takes every job
of one kind that is waiting, runs them in one transaction and commits once
(synchronous_commit=on, so a result is durable when it is delivered), then wakes every caller.
Jobs of the hot path are *merged*: all waiting addsync records go into one multi-row
`INSERT ... ON CONFLICT DO NOTHING RETURNING`, all waiting journal entries into one
`INSERT ... unnest`; one statement, one round trip, no BEGIN. Other jobs (functions of the
connection: upserts, worker applies, admin changes) run one after another in one transaction,
each under a savepoint, so a failure undoes only its own work. If the transaction itself fails
(a deadlock with another node's batch, a serialisation failure) every job is retried alone.

The SQLite writer is a thread because sqlite3 blocks; here everything is a coroutine on the
event loop, and several writers (one pool connection each) overlap one batch's commit with the
next batch's statements. Function batches run one at a time, in order; a long one (a worker
applying 64 requests) never holds up the hot path, which another writer serves meanwhile.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import asyncpg

from cee import metrics

T = TypeVar("T")
log = logging.getLogger(__name__)

# A bound on one transaction, so a flood of array requests still commits regularly.
MAX_JOBS_PER_COMMIT = 512
# How often a job is retried after a deadlock or a lost race before its error is returned.
MAX_ATTEMPTS = 6

Connection = Any  # asyncpg.Connection (asyncpg ships no type information)
JobFn = Callable[[Connection], Awaitable[Any]]
# A merge handler runs many callers' payloads in one go and returns one result per payload:
# a value, or an exception meant for that caller alone. It makes at most one write statement
# (reads before it are fine), so that a batch of one kind alone needs no BEGIN/COMMIT: the
# statement is its own transaction, and the hot path costs one round trip per batch.
MergeFn = Callable[[Connection, list[Any]], Awaitable[list[Any]]]

_RETRYABLE = (
    asyncpg.exceptions.DeadlockDetectedError,
    asyncpg.exceptions.SerializationError,
)


class RetryJob(Exception):
    """Raised by a job that lost a race (a key created by a concurrent transaction): run again.

    The transaction it raced with has committed by then, so the next attempt sees its rows.
    """


@dataclass(slots=True)
class _Job:
    kind: str | None  # None: a function of the connection; else the name of a merge handler
    payload: Any
    future: asyncio.Future[Any] = field(repr=False)


class _Failed:
    """A job's exception, carried as a result so that delivery can tell it from a value."""

    __slots__ = ("exc",)

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


class _RetryAlone(Exception):
    """The shared transaction cannot go on: roll it back and run each job alone."""


class Writer:
    def __init__(self, pool: Any, merges: dict[str, MergeFn], writers: int = 2) -> None:
        self._pool = pool
        self._merges = merges
        self._writers = writers
        # One queue per merge kind, and one (None) for functions of the connection.
        self._queues: dict[str | None, collections.deque[_Job]] = {
            kind: collections.deque() for kind in [*merges, None]
        }
        # Functions run one batch at a time, so that a process's writes land in the order it
        # made them (the worker relies on it); merged kinds go to whichever writer is free.
        self._functions_busy = False
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._closing = False

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._run(), name=f"cee-pg-writer-{i}")
            for i in range(self._writers)
        ]

    async def stop(self) -> None:
        """Finish every job already handed in, then stop."""
        self._closing = True
        self._wake.set()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    async def run(self, fn: Callable[[Connection], Awaitable[T]]) -> T:
        """Run `fn(connection)` in the next group transaction; return once it is committed."""
        result: T = await self._submit(None, fn)
        return result

    async def merge(self, kind: str, payload: Any) -> Any:
        """Hand `payload` to the merge handler `kind` with everything else waiting."""
        return await self._submit(kind, payload)

    async def _submit(self, kind: str | None, payload: Any) -> Any:
        if self._closing or not self._tasks:
            raise RuntimeError("the store is not open")
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queues[kind].append(_Job(kind, payload, future))
        self._wake.set()
        return await future

    async def _run(self) -> None:
        while True:
            batch = self._take()
            if not batch:
                if self._closing and not any(self._queues.values()):
                    return
                self._wake.clear()
                await self._wake.wait()
                continue
            started = time.perf_counter()
            try:
                results = await self._commit(batch)
                metrics.WRITER_BATCH_SIZE.observe(len(batch))
                metrics.WRITER_COMMIT_SECONDS.observe(time.perf_counter() - started)
            except Exception as exc:  # the connection or the server failed: tell every caller
                log.exception("write transaction failed")
                results = [_Failed(exc)] * len(batch)
            finally:
                if batch[0].kind is None:
                    self._functions_busy = False
                    self._wake.set()  # another writer may be waiting for the functions
            for job, result in zip(batch, results, strict=True):
                if job.future.done():  # the caller went away; its write stands
                    continue
                if isinstance(result, _Failed):
                    job.future.set_exception(result.exc)
                else:
                    job.future.set_result(result)

    def _take(self) -> list[_Job]:
        """The next batch: every waiting job of one kind (a hot-path kind first)."""
        for kind, queue in self._queues.items():
            if not queue or (kind is None and self._functions_busy):
                continue
            if kind is None:
                self._functions_busy = True
            return [queue.popleft() for _ in range(min(len(queue), MAX_JOBS_PER_COMMIT))]
        return []

    async def _commit(self, batch: list[_Job]) -> list[Any]:
        async with self._pool.acquire() as conn:
            kind = batch[0].kind
            if kind is not None and all(job.kind == kind for job in batch):
                try:
                    values = await self._merges[kind](conn, [job.payload for job in batch])
                except Exception:  # a deadlock, or one payload broke the statement
                    pass  # nothing was written: retry each job alone, below
                else:
                    return [_Failed(v) if isinstance(v, BaseException) else v for v in values]
            elif len(batch) > 1:
                try:
                    return await self._together(conn, batch)
                except _RetryAlone:
                    pass
            return [await self._alone(conn, job) for job in batch]

    async def _together(self, conn: Connection, batch: list[_Job]) -> list[Any]:
        results: dict[int, Any] = {}
        groups: dict[str, list[int]] = {}
        singles: list[int] = []
        for i, job in enumerate(batch):
            if job.kind is None:
                singles.append(i)
            else:
                groups.setdefault(job.kind, []).append(i)
        try:
            async with conn.transaction():
                for kind, members in groups.items():
                    await self._merged(conn, kind, [batch[i] for i in members], members, results)
                for i in singles:
                    results[i] = await self._savepointed(conn, batch[i])
        except _RETRYABLE as exc:
            raise _RetryAlone() from exc
        return [results[i] for i in range(len(batch))]

    async def _merged(
        self,
        conn: Connection,
        kind: str,
        jobs: Sequence[_Job],
        positions: list[int],
        results: dict[int, Any],
    ) -> None:
        handler = self._merges[kind]
        try:
            async with conn.transaction():
                values = await handler(conn, [job.payload for job in jobs])
        except _RETRYABLE:
            raise
        except Exception:
            # One payload broke the shared statement (bad bytes, say): find it by running each
            # caller's payload under its own savepoint.
            for job, pos in zip(jobs, positions, strict=True):
                results[pos] = await self._savepointed(conn, job)
            return
        for pos, value in zip(positions, values, strict=True):
            results[pos] = _Failed(value) if isinstance(value, BaseException) else value

    async def _savepointed(self, conn: Connection, job: _Job) -> Any:
        for _ in range(MAX_ATTEMPTS):
            try:
                async with conn.transaction():  # nested: a savepoint
                    return await self._call(conn, job)
            except RetryJob:
                continue
            except _RETRYABLE:
                raise
            except Exception as exc:
                return _Failed(exc)
        return _Failed(RuntimeError("a write kept losing races with other writers"))

    async def _alone(self, conn: Connection, job: _Job) -> Any:
        for attempt in range(MAX_ATTEMPTS):
            try:
                async with conn.transaction():
                    return await self._call(conn, job)
            except (RetryJob, *_RETRYABLE):
                # Back off a little so the transaction we collided with can finish first.
                await asyncio.sleep(random.uniform(0, 0.01 * (attempt + 1)))
            except Exception as exc:
                return _Failed(exc)
        return _Failed(RuntimeError("a write kept losing races with other writers"))

    async def _call(self, conn: Connection, job: _Job) -> Any:
        if job.kind is None:
            return await job.payload(conn)
        [value] = await self._merges[job.kind](conn, [job.payload])
        if isinstance(value, BaseException):
            # Raised so that the savepoint (or transaction) undoes the job's partial work.
            raise value
        return value
