"""The async worker: claims journaled requests, applies them, records per-record outcomes.

Runs inside `cee serve` (woken at once by `add` through the engine's journal gate) or as
`cee worker` (polling). A claim is a lease: a worker that dies mid-batch simply stops renewing
it, and once it expires another worker claims the same entries again. Applying an entry and
marking it done is one transaction (`Store.journal_apply`), and a worker whose lease was taken
over applies nothing, so each request's effect lands exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import signal
import socket
from typing import Any

from cee.domain.contacts import ContactRecord
from cee.domain.errors import BadParameter, CeeError, Internal, NotFound
from cee.domain.journal import JournalEntry
from cee.domain.parameters import parse_data, parse_listid, validate_all
from cee.domain.writes import ContactOp
from cee.engine import Engine
from cee.ingest import summaries
from cee.ingest.imports.runner import BulkRunner

log = logging.getLogger(__name__)

CLAIM_BATCH = 64
POLL_SECONDS = 0.2
# After an unexpected failure (database unreachable, disk full), wait before claiming again.
FAILURE_PAUSE_SECONDS = 1.0


# A request claimed this many times without being finished (it crashed its worker, or the
# database refused it every time) is finished as Failed rather than re-delivered forever.
MAX_ATTEMPTS = 5
# After deferring an `update` that waits for another worker's older batch: a pause before the
# next claim, so that waiting costs a few claims, not a busy loop of them.
DEFER_PAUSE_SECONDS = 0.05
# How often a worker looks for claims held by dead workers on its own host.
RELEASE_CHECK_SECONDS = 2.0
# A worker inside `cee serve` shares the event loop with the API. While `add`s keep arriving it
# takes about this share of the loop's time (after a batch, it pauses for what the batch took,
# times (1 - share) / share) and the journal absorbs the burst, as the niced worker process of
# `--processes` does; when they stop, it drains at full speed. Applying an `add` costs the loop
# several times what accepting it does (bench/costs.py --add), so a worker at full speed held
# acceptance to about the rate it could apply: make bench's `add` 3.7-4.1k req/s, against
# 7.5k with no worker at all.
LOOP_SHARE_UNDER_LOAD = 0.25
# However long a batch took (an array of thousands), the pause after it stays short.
MAX_GIVE_WAY_SECONDS = 0.5


def new_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def is_dead_local_worker(worker_id: str) -> bool:
    """True for a worker of this host whose process is gone (a crash, a SIGKILL).

    Its claims need not wait for their lease to run out: released at once, they are claimed
    again before newer entries, so requests for one contact keep their order of arrival.
    Workers on other hosts cannot be checked from here; their leases expire instead.
    """
    host, _, rest = worker_id.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, owned by another user
        return False
    return False


def give_way_seconds(batch_seconds: float) -> float:
    """How long a worker sharing the loop with arriving requests pauses after a batch."""
    share = LOOP_SHARE_UNDER_LOAD
    return min(batch_seconds * (1 - share) / share, MAX_GIVE_WAY_SECONDS)


# The journaled contact writes and how each treats an existing contact: `add` upserts,
# `update` merges into a contact that must exist by the time it is applied (absent: a per-record
# 404). Both go through the one journal, so an `update` sent after an `add` sees its contact.
CONTACT_OPS = {"add": ContactOp.UPSERT, "update": ContactOp.UPDATE}


def prepare_add(
    engine: Engine, entry: JournalEntry
) -> tuple[list[ContactRecord | CeeError], int | None]:
    """Judge an `add` or `update` exactly as `addsync` would: each record, then the listid.

    A problem of the whole request (data not JSON, too many records, a bad listid) fails
    every record with that error; it is still reported under the requestid, never dropped.
    """
    try:
        raw, _ = parse_data(entry.payload, engine.settings.max_records)
    except CeeError as exc:
        return [exc], None
    try:
        schema = engine.catalog.schema(entry.account_id)
    except KeyError:
        missing = NotFound(f"account {entry.account_id} no longer exists")
        return [missing for _ in raw], None
    records = validate_all(raw, schema)
    try:
        listid = parse_listid(entry.payload.get("listid"))
    except CeeError as exc:
        return [exc for _ in records], None
    return records, listid


def unreadable(entry: JournalEntry) -> Internal:
    """The per-record reason of a request the worker could not judge (a fault, not the input's)."""
    return Internal(
        f"the request could not be read; the operator's log names requestid {entry.requestid}"
    )


def record_count(engine: Engine, entry: JournalEntry) -> int:
    """How many records an entry holds, for the shape of a give-up report; 1 if not known.

    Only the JSON array is counted (orjson, bounded by the body limit); no record is judged
    again, and nothing here can raise: the request it reports on may be the one that fails.
    """
    if entry.activity not in CONTACT_OPS:
        return 1
    try:
        return max(len(parse_data(entry.payload, engine.settings.max_records)[0]), 1)
    except Exception:
        return 1


class Worker:
    def __init__(
        self,
        engine: Engine,
        worker_id: str | None = None,
        *,
        batch: int = CLAIM_BATCH,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        self.engine = engine
        self.worker_id = worker_id or new_worker_id()
        self.batch = batch
        self.poll_seconds = poll_seconds
        self.deferred = 0  # entries of the current batch put back to wait for older work

    async def run(self) -> None:
        """Drain the journal, and run bulk imports beside it; returns only when cancelled."""
        bulk = asyncio.create_task(BulkRunner(self.engine, self.worker_id).run(), name="cee-bulk")
        try:
            await self._drain()
        finally:
            bulk.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await bulk

    async def _drain(self) -> None:
        log.info("async worker %s started", self.worker_id)
        gate = self.engine.journal
        arrived = gate.arrived
        loop = asyncio.get_running_loop()
        next_release = 0.0
        while True:
            if loop.time() >= next_release:
                next_release = loop.time() + RELEASE_CHECK_SECONDS
                try:
                    await self.release_dead_claims()
                except Exception:
                    log.exception("async worker %s: could not release dead claims", self.worker_id)
            # Cleared before claiming: an append that lands after the claim sets it again,
            # so the wait below returns at once instead of missing it.
            arrived.clear()
            accepted, started = gate.accepted, loop.time()
            try:
                done = await self.run_once()
            except Exception:
                log.exception("async worker %s: claim or apply failed", self.worker_id)
                await asyncio.sleep(FAILURE_PAUSE_SECONDS)
                continue
            if done:
                if gate.accepted != accepted:  # requests arrived on this loop meanwhile
                    await asyncio.sleep(give_way_seconds(loop.time() - started))
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(arrived.wait(), self.poll_seconds)

    async def release_dead_claims(self) -> int:
        released = 0
        for claimer in await self.engine.store.journal_claimers():
            if is_dead_local_worker(claimer):
                count = await self.engine.store.journal_release(claimer)
                log.warning("released %d entries claimed by dead worker %s", count, claimer)
                released += count
        return released

    async def run_once(self) -> int:
        """Claim one batch and apply it; how many entries were claimed."""
        engine = self.engine
        await engine.catalog.ensure_fresh()
        entries = await engine.store.journal_claim(
            self.worker_id, self.batch, engine.settings.claim_seconds
        )
        if not entries:
            return 0
        for entry in entries:
            try:
                engine.catalog.schema(entry.account_id)
            except KeyError:
                await engine.catalog.refresh()  # an account made since the last look
                break
        # Handed to the store together, in journal order: the SQLite writer commits them as one
        # group (one fsync) and in that order, so the last request for a contact wins.
        self.deferred = 0
        results = await asyncio.gather(
            *(self.apply(entry) for entry in entries), return_exceptions=True
        )
        for entry, result in zip(entries, results, strict=True):
            if isinstance(result, BaseException):
                log.error(
                    "async worker %s: request %s not applied (retried once its claim expires)",
                    self.worker_id,
                    entry.requestid,
                    exc_info=result,
                )
        applied = len(entries) - self.deferred
        engine.journal.finished(applied)
        if self.deferred:
            await asyncio.sleep(DEFER_PAUSE_SECONDS)
        return applied

    async def apply(self, entry: JournalEntry) -> bool:
        store = self.engine.store
        if entry.attempts > MAX_ATTEMPTS:
            return await self.give_up(entry)
        contact_op = CONTACT_OPS.get(entry.activity)
        if contact_op is ContactOp.UPDATE and await store.journal_defer_if_waiting(
            entry, self.worker_id
        ):
            # An older request of the account (the `add` of this contact, perhaps) is
            # still with another worker: applied now, the update could miss its contact.
            self.deferred += 1
            return False
        op = contact_op or ContactOp.UPSERT
        # Only judging the request is guarded here; a store error below is retried.
        try:
            if contact_op is not None:
                records, listid = prepare_add(self.engine, entry)
            elif entry.activity == "emptylist":
                listid = parse_listid(entry.payload.get("listid"), required=True)
                assert listid is not None
                records = []
            else:
                records = [BadParameter(f"activity: '{entry.activity}' cannot run asynchronously")]
                listid = None
        except CeeError as exc:
            records, listid = [exc], None
        except Exception:
            # Judging a request is pure: what failed once fails on every attempt, so it is
            # finished as Failed now rather than retried until the attempts run out.
            log.exception(
                "async worker %s: request %s could not be read; finished as Failed",
                self.worker_id,
                entry.requestid,
            )
            records, listid = [unreadable(entry)], None
        if entry.activity == "emptylist" and not records:
            assert listid is not None
            return await store.journal_empty_list(entry, self.worker_id, listid)
        applied = await store.journal_apply(entry, self.worker_id, op, records, listid)
        if applied:
            summaries.send_later(self.engine, entry)  # v3 batchadd's callback / notifyemail
        return applied

    async def give_up(self, entry: JournalEntry) -> bool:
        """Finish a request that failed every attempt: each record Failed, never dropped.

        Nothing of the request is judged again: whatever made every attempt fail must not make
        giving up fail too, or the entry would stay claimed and be retried for ever.
        """
        log.error(
            "async worker %s: request %s failed %d attempts; finished as Failed",
            self.worker_id,
            entry.requestid,
            entry.attempts - 1,
        )
        fault = Internal(
            f"not applied after {entry.attempts - 1} attempts; the operator's log names "
            f"requestid {entry.requestid}"
        )
        count = record_count(self.engine, entry)
        return await self.engine.store.journal_apply(
            entry, self.worker_id, ContactOp.UPSERT, [fault for _ in range(count)], None
        )


async def worker_job(engine: Engine) -> Any:
    """The background job `cee serve` runs when the `worker` setting is on."""
    await Worker(engine).run()


async def run_standalone(engine: Engine) -> None:
    """`cee worker`: drain the journal until SIGTERM or SIGINT, then stop cleanly."""
    await engine.start()
    task = asyncio.create_task(Worker(engine).run())
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, task.cancel)
    try:
        await task
    except asyncio.CancelledError:
        pass
    finally:
        await engine.stop()
