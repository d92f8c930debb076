"""The SQLite group-commit writer: the event loop's own task owns the write connection.

Callers hand it a function of the connection and await the result. Whatever is waiting when the
writer is free runs in one transaction with one fsync (synchronous=FULL), each function under
its own savepoint so one failure undoes only its own work. Waiting for a fixed window instead
was measured slower: under load the queue fills while the previous commit syncs, and when idle
a lone request should not wait at all.

Why the statements run on the event loop's thread: a writer *thread* was measured at 12 % of
the HTTP ceiling. Every SQLite statement releases the GIL and must take it back from the busy
event loop, so the two threads spent their time handing the interpreter to each other. The
statements themselves are short and CPU-bound (the pages are cached), so they run inline; only
the two calls that can block on the disk or on another process leave the loop: COMMIT (the
fsync) goes to a single helper thread, and BEGIN IMMEDIATE never waits on the loop (it is
retried with a short sleep when another process holds the write lock). While one batch commits,
the loop keeps parsing and validating the next.

Jobs of one kind can also be *merged* (`run_many`): the hot path's many small contact creates
become one set of statements per transaction instead of a savepoint and a few statements each.

*Background* jobs (`run_in_steps`: a bulk import's chunks) are long, and one writer means a
request's commit waits for whatever transaction is running. So they run a step at a time, each
step its own transaction, one step after each group commit of the requests' jobs; and while
requests are writing, a step is kept short (`STEP_RECORDS_BUSY`), so that a request waits for
at most a few milliseconds of import, not a whole chunk.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from cee import metrics

T = TypeVar("T")
ItemT = TypeVar("ItemT")
log = logging.getLogger(__name__)

# A bound on one transaction, so a flood of array requests still commits regularly.
MAX_JOBS_PER_COMMIT = 512
# How long BEGIN waits for another process (the CLI, a `cee worker`) to release the write lock.
LOCK_TIMEOUT_SECONDS = 10.0
# A batch writing at least this many records runs in the helper thread instead: its long
# stretches inside SQLite then overlap with the loop parsing the next request, which for
# 1,000-contact arrays measured twice the rate of running them on the loop.
HEAVY_RECORDS = 256

# A background step while requests are writing (one was submitted in the last
# TRAFFIC_SECONDS): ~2 ms of a bulk chunk's inserts and ~2 ms of commit on the 2-core machine,
# against a 10,000-row chunk's ~100 ms once a million contacts are stored. Otherwise a step is
# the whole job, for the fewest commits: each dirties a page of the random key index a record.
STEP_RECORDS_BUSY = 100
TRAFFIC_SECONDS = 0.25


@dataclass(frozen=True, slots=True)
class Step:
    """What one step of a background job did: `next` is where the following step starts (a
    position the job understands), None once the job is done; `value` is then its result."""

    value: Any
    next: int | None = None


# A background job: fn(connection, *args, start, budget) -> Step, `budget` the most records the
# step may write (None: no limit).
Stepped = Callable[..., Step]
_Background = tuple[Stepped, tuple[Any, ...], int, asyncio.Future[Any]]

# Runs many items in one go: one result per item, in order; an Exception instance as a result
# is that item's own failure. Raising fails them all (then each is retried alone).
Many = Callable[[sqlite3.Connection, list[ItemT]], list[Any]]
_Job = tuple[Callable[[sqlite3.Connection], Any], asyncio.Future[Any]]
_ManyJob = tuple["Many[Any]", Any, asyncio.Future[Any]]
_Unit = _Job | tuple["Many[Any]", list[Any], list[asyncio.Future[Any]]]
_Result = tuple[asyncio.Future[Any], Any, BaseException | None]


class Writer:
    def __init__(self, connect: Callable[[], sqlite3.Connection]) -> None:
        self._connect = connect
        # Set by the writer process, whose loop serves no HTTP: there a COMMIT on the loop
        # beats the hand-off to the helper thread and back (measured 0.65 against 1.2 ms a
        # cycle), while in a serving process the loop has requests to parse meanwhile.
        self.commit_on_loop = False
        self._pending: list[_Job | _ManyJob] = []
        self._weights: list[int] = []
        self._background: list[_Background] = []
        self._traffic_at = 0.0  # when a request's job (not a quiet one) was last submitted
        self._io = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cee-sqlite-commit")
        self._conn: sqlite3.Connection | None = None
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._closing = False

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._conn = await loop.run_in_executor(self._io, self._connect)
        # BEGIN must never block the loop: a locked database answers at once and we retry.
        self._conn.execute("PRAGMA busy_timeout = 0")
        self._wake = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name="cee-sqlite-writer")

    async def stop(self) -> None:
        """Finish what was handed in, then close the connection."""
        if self._task is not None and self._wake is not None:
            self._closing = True
            self._wake.set()
            await self._task
            self._task = None
        if self._conn is not None:
            await asyncio.get_running_loop().run_in_executor(self._io, self._conn.close)
            self._conn = None
        self._io.shutdown(wait=True)

    async def run(
        self, fn: Callable[..., T], *args: Any, weight: int = 1, quiet: bool = False
    ) -> T:
        """Run `fn(connection, *args)` in the next group transaction; return once durable.

        `weight` is about how many records the job writes (see HEAVY_RECORDS). `quiet`: the
        job is the workers' own polling, not a request's, so background steps stay whole.
        """
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._submit((_bind(fn, args) if args else fn, future), weight, quiet)
        return await future

    async def run_many(self, many: Many[ItemT], item: ItemT, weight: int = 1) -> Any:
        """Run `item` through `many`, merged with every other waiting item of the same `many`."""
        result = await self.submit_many(many, item, weight)
        if isinstance(result, Exception):
            raise result
        return result

    async def run_many_raw(self, many: Many[ItemT], item: ItemT, weight: int = 1) -> Any:
        """As `run_many`, but an item's own failure is returned rather than raised."""
        return await self.submit_many(many, item, weight)

    def submit_many(self, many: Many[ItemT], item: ItemT, weight: int = 1) -> asyncio.Future[Any]:
        """`run_many_raw` as a bare future: the hot path awaits it with no coroutine between."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._submit((many, item, future), weight)
        return future

    async def run_in_steps(self, fn: Stepped, *args: Any) -> Any:
        """Run the background job `fn(connection, *args, start, budget)` a step at a time from
        start 0, each step durable in its own transaction, between the requests' commits;
        return the last step's value."""
        if self._wake is None or self._closing:
            raise RuntimeError("the SQLite writer is not running")
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._background.append((fn, args, 0, future))
        self._wake.set()
        return await future

    def _submit(self, job: _Job | _ManyJob, weight: int, quiet: bool = False) -> None:
        if self._wake is None or self._closing:
            raise RuntimeError("the SQLite writer is not running")
        self._pending.append(job)
        self._weights.append(weight)
        if not quiet:
            self._traffic_at = time.monotonic()
        self._wake.set()

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending or self._background:
                if self._pending:
                    await self._commit_pending()
                if self._background:
                    await self._step()
            if self._closing:
                return

    async def _step(self) -> None:
        """One step of the first background job, in a transaction of its own."""
        assert self._conn is not None
        conn = self._conn
        fn, args, start, future = self._background.pop(0)
        busy = time.monotonic() - self._traffic_at < TRAFFIC_SECONDS
        budget = STEP_RECORDS_BUSY if busy else None
        try:
            await self._begin(conn)
            step = await asyncio.get_running_loop().run_in_executor(
                self._io, _step_and_commit, conn, fn, args, start, budget
            )
        except Exception as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if not future.done():
                future.set_exception(exc)
            return
        except BaseException as exc:  # cancelled: the step may still commit on its thread
            if not future.done():
                future.set_exception(exc)
            raise
        if future.done():  # its caller gave up (cancelled): each step committed on its own
            return
        if step.next is None:
            future.set_result(step.value)
        else:  # its next step goes first among the background jobs: they finish in order
            self._background.insert(0, (fn, args, step.next, future))

    async def _commit_pending(self) -> None:
        """One group commit of the requests' jobs waiting (up to MAX_JOBS_PER_COMMIT)."""
        batch = self._pending[:MAX_JOBS_PER_COMMIT]
        heavy = sum(self._weights[:MAX_JOBS_PER_COMMIT]) >= HEAVY_RECORDS
        del self._pending[:MAX_JOBS_PER_COMMIT]
        del self._weights[:MAX_JOBS_PER_COMMIT]
        started = time.perf_counter()
        try:
            await self._commit(batch, heavy)
        except BaseException as exc:  # cancelled mid-commit: nobody is left hanging
            _settle([(job[-1], None, exc) for job in batch])
            raise
        metrics.WRITER_BATCH_SIZE.observe(len(batch))
        metrics.WRITER_COMMIT_SECONDS.observe(time.perf_counter() - started)

    async def _begin(self, conn: sqlite3.Connection) -> None:
        deadline = time.monotonic() + LOCK_TIMEOUT_SECONDS
        pause = 0.0005
        while True:
            try:
                conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                if time.monotonic() > deadline:
                    raise
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.05)

    async def _commit(self, batch: list[_Job | _ManyJob], heavy: bool = False) -> None:
        assert self._conn is not None
        conn = self._conn
        units = _units(batch)
        # Alone in its transaction a unit needs no savepoint: the transaction is one.
        savepoints = len(units) > 1
        loop = asyncio.get_running_loop()
        try:
            await self._begin(conn)
            if heavy:
                results = await loop.run_in_executor(
                    self._io, _execute_and_commit, conn, units, savepoints
                )
            else:
                results = _execute(conn, units, savepoints)
                if conn.in_transaction and self.commit_on_loop:
                    conn.execute("COMMIT")
                elif conn.in_transaction:
                    # The fsync: off the loop, which meanwhile serves the next requests.
                    await loop.run_in_executor(self._io, conn.execute, "COMMIT")
        except Exception as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if len(batch) > 1 and not isinstance(exc, sqlite3.OperationalError):
                # Something broke the transaction itself: retry each job alone so that one
                # bad job cannot fail its neighbours.
                for job in batch:
                    await self._commit([job], heavy)
                return
            log.exception("write transaction failed")
            results = [(job[-1], None, exc) for job in batch]
        _settle(results)


def _execute(conn: sqlite3.Connection, units: list[_Unit], savepoints: bool) -> list[_Result]:
    """Run the units inside the open transaction; each caller's result or own failure.

    A lone job that fails rolls the transaction back itself (nothing is left to commit).
    Savepoints only where units share the transaction: a savepoint makes SQLite copy every page
    it is about to change into a sub-journal first, which for a 1,000-contact array measured
    slower than the inserts themselves.
    """
    results: list[_Result] = []
    for unit in units:
        if len(unit) == 3:
            if len(units) > 1:
                results.extend(_run_merged(conn, *unit))
                continue
            many, items, futures = unit
            # Alone: a failure rolls back the whole transaction, and the writer then retries
            # each job alone, so one bad job still cannot fail the others.
            values = many(conn, items)
            results.extend((f, v, None) for f, v in zip(futures, values, strict=True))
            continue
        fn, future = unit
        if savepoints:
            conn.execute("SAVEPOINT job")
        try:
            value = fn(conn)
        except Exception as exc:
            if not savepoints:
                conn.execute("ROLLBACK")
                return [(future, None, exc)]
            conn.execute("ROLLBACK TO job")
            results.append((future, None, exc))
        else:
            results.append((future, value, None))
        if savepoints:
            conn.execute("RELEASE job")
    return results


def _execute_and_commit(
    conn: sqlite3.Connection, units: list[_Unit], savepoints: bool
) -> list[_Result]:
    results = _execute(conn, units, savepoints)
    if conn.in_transaction:
        conn.execute("COMMIT")
    return results


def _step_and_commit(
    conn: sqlite3.Connection,
    fn: Stepped,
    args: tuple[Any, ...],
    start: int,
    budget: int | None,
) -> Step:
    step = fn(conn, *args, start, budget)
    if conn.in_transaction:
        conn.execute("COMMIT")
    return step


def _units(batch: list[_Job | _ManyJob]) -> list[_Unit]:
    """Merge the `run_many` jobs of one kind into one unit, where the first of them stood."""
    units: list[_Unit] = []
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
    return units


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


def _bind(fn: Callable[..., T], args: tuple[Any, ...]) -> Callable[[sqlite3.Connection], T]:
    return lambda conn: fn(conn, *args)


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
