"""The SQLite group-commit writer: one thread owns the write connection.

Callers hand it a function of the connection and await the result. Whatever is waiting when the
thread is free runs in one transaction with one fsync (synchronous=FULL), each function under
its own savepoint so one failure undoes only its own work. Waiting for a fixed window instead
was measured slower: under load the queue fills while the previous commit syncs, and when idle
a lone request should not wait at all.

Jobs of one kind can also be *merged* (`run_many`): the hot path's many small contact creates
become one set of statements per transaction instead of a savepoint and a few statements each.
That matters twice over in a thread: every statement releases and re-takes the GIL, and taking
it back while the event loop runs Python can wait for the interpreter's switch interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import queue
import sqlite3
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
ItemT = TypeVar("ItemT")
log = logging.getLogger(__name__)

# A bound on one transaction, so a flood of array requests still commits regularly.
MAX_JOBS_PER_COMMIT = 512

# Runs many items in one go: one result per item, in order; an Exception instance as a result
# is that item's own failure. Raising fails them all (then each is retried alone).
Many = Callable[[sqlite3.Connection, list[ItemT]], list[Any]]
_Job = tuple[Callable[[sqlite3.Connection], Any], asyncio.Future[Any]]
_ManyJob = tuple["Many[Any]", Any, asyncio.Future[Any]]
_Result = tuple[asyncio.Future[Any], Any, BaseException | None]
_STOP = object()


class Writer:
    def __init__(self, connect: Callable[[], sqlite3.Connection]) -> None:
        self._connect = connect
        self._jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="cee-sqlite-writer", daemon=True)
        self._ready = threading.Event()
        self._failure: BaseException | None = None

    def start(self) -> None:
        self._thread.start()
        self._ready.wait()
        if self._failure is not None:
            raise self._failure

    def stop(self) -> None:
        if self._thread.is_alive():
            self._jobs.put(_STOP)
            self._thread.join()

    async def run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn(connection)` in the next group transaction; return once it is durable."""
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._jobs.put((fn, future))
        return await future

    async def run_many(self, many: Many[ItemT], item: ItemT) -> Any:
        """Run `item` through `many`, merged with every other waiting item of the same `many`."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._jobs.put((many, item, future))
        result = await future
        if isinstance(result, Exception):
            raise result
        return result

    def _run(self) -> None:
        try:
            conn = self._connect()
        except BaseException as exc:  # surfaced to start()'s caller
            self._failure = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            while True:
                first = self._jobs.get()
                if first is _STOP:
                    return
                batch: list[_Job | _ManyJob] = [first]
                stop = False
                while len(batch) < MAX_JOBS_PER_COMMIT:
                    try:
                        job = self._jobs.get_nowait()
                    except queue.Empty:
                        break
                    if job is _STOP:
                        stop = True
                        break
                    batch.append(job)
                self._commit(conn, batch)
                if stop:
                    return
        finally:
            conn.close()

    def _commit(self, conn: sqlite3.Connection, batch: list[_Job | _ManyJob]) -> None:
        # Merge the `run_many` jobs of one kind into one unit, where the first of them stood.
        units: list[_Job | tuple[Many[Any], list[Any], list[asyncio.Future[Any]]]] = []
        merged: dict[Any, tuple[Many[Any], list[Any], list[asyncio.Future[Any]]]] = {}
        for job in batch:
            if len(job) == 2:
                units.append(job)
                continue
            many, item, future = job
            if len(batch) == 1:  # alone: a plain job, no savepoint
                units.append((functools.partial(_only, many, item), future))
                continue
            group = merged.get(many)
            if group is None:
                group = merged[many] = (many, [], [])
                units.append(group)
            group[1].append(item)
            group[2].append(future)
        results: list[_Result] = []
        # Alone in its transaction a job needs no savepoint: the transaction is one.
        savepoints = len(batch) > 1
        try:
            conn.execute("BEGIN IMMEDIATE")
            for unit in units:
                if len(unit) == 3:
                    results.extend(self._run_merged(conn, *unit))
                    continue
                fn, future = unit
                if savepoints:
                    conn.execute("SAVEPOINT job")
                try:
                    value = fn(conn)
                except Exception as exc:
                    if not savepoints:
                        conn.execute("ROLLBACK")
                        self._deliver([(future, None, exc)])
                        return
                    conn.execute("ROLLBACK TO job")
                    results.append((future, None, exc))
                else:
                    results.append((future, value, None))
                if savepoints:
                    conn.execute("RELEASE job")
            conn.execute("COMMIT")
        except Exception as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if savepoints and not isinstance(exc, sqlite3.OperationalError):
                # Something broke the transaction itself: retry each job alone so that one
                # bad job cannot fail its neighbours.
                for job in batch:
                    self._commit(conn, [job])
                return
            log.exception("write transaction failed")
            results = [(job[-1], None, exc) for job in batch]
        self._deliver(results)

    @staticmethod
    def _run_merged(
        conn: sqlite3.Connection,
        many: Many[Any],
        items: list[Any],
        futures: list[asyncio.Future[Any]],
    ) -> list[_Result]:
        """Run merged items together; if that fails, each alone so one cannot fail the rest."""
        conn.execute("SAVEPOINT merged")
        try:
            values = many(conn, items)
        except Exception as exc:
            conn.execute("ROLLBACK TO merged")
            conn.execute("RELEASE merged")
            if len(items) == 1:
                return [(futures[0], None, exc)]
        else:
            conn.execute("RELEASE merged")
            return [(f, v, None) for f, v in zip(futures, values, strict=True)]
        out: list[_Result] = []
        for item, future in zip(items, futures, strict=True):
            conn.execute("SAVEPOINT job")
            try:
                out.append((future, many(conn, [item])[0], None))
            except Exception as exc:
                conn.execute("ROLLBACK TO job")
                out.append((future, None, exc))
            conn.execute("RELEASE job")
        return out

    @staticmethod
    def _deliver(results: list[_Result]) -> None:
        by_loop: dict[asyncio.AbstractEventLoop, list[Any]] = {}
        for item in results:
            by_loop.setdefault(item[0].get_loop(), []).append(item)
        for loop, items in by_loop.items():
            # One wake-up per event loop per commit, not one per caller.
            # RuntimeError: the loop closed while we committed, so nobody is waiting.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_settle, items)


def _only(many: Many[ItemT], item: ItemT, conn: sqlite3.Connection) -> Any:
    return many(conn, [item])[0]


def _settle(items: list[_Result]) -> None:
    for future, value, exc in items:
        if future.done():
            continue
        if exc is None:
            future.set_result(value)
        else:
            future.set_exception(exc)
