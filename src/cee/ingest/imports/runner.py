"""The worker's bulk side: claim import jobs and run up to `bulk_concurrency` of them at once.

Every worker runs one (in `cee serve`, `cee worker`, or the worker process of `--processes`),
so on PostgreSQL every node of a cluster takes jobs. A job's claim is a lease renewed by every
chunk and by a heartbeat between chunks (a slow download); when its worker dies the lease runs
out, or is released at once by a worker on the same host, and another worker resumes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from cee.engine import Engine
from cee.ingest.imports.fetch import Limits
from cee.ingest.imports.guard import AllowList
from cee.ingest.imports.job import ClaimLost, Importer
from cee.ingest.imports.notify import deliver_callback, deliver_mail, summary
from cee.storage.bulk import BulkJob

log = logging.getLogger(__name__)

POLL_SECONDS = 0.5
RELEASE_CHECK_SECONDS = 2.0
# A job claimed this many times without finishing (it crashed its worker, or the database
# refused it, every time) is finished as Failed instead of being retried forever.
MAX_ATTEMPTS = 5


def limits_of(engine: Engine) -> Limits:
    s = engine.settings
    return Limits(max_bytes=int(s.bulk_max_bytes), seconds=float(s.bulk_fetch_seconds))


class BulkRunner:
    def __init__(self, engine: Engine, worker_id: str) -> None:
        self.engine = engine
        self.worker_id = worker_id
        self.allow = AllowList.parse(engine.settings.bulk_allow_hosts)
        self.lease = float(engine.settings.claim_seconds)
        self.running: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        """Claim and run jobs until cancelled; running jobs are cancelled with it."""
        from cee.ingest.worker import is_dead_local_worker  # the worker imports this module

        loop = asyncio.get_running_loop()
        next_release = 0.0
        try:
            while True:
                try:
                    if loop.time() >= next_release:
                        next_release = loop.time() + RELEASE_CHECK_SECONDS
                        for claimer in await self.engine.store.bulk_claimers():
                            if is_dead_local_worker(claimer):
                                await self.engine.store.bulk_release(claimer)
                                log.warning("released bulk jobs of dead worker %s", claimer)
                    await self.claim()
                except Exception:
                    log.exception("bulk runner %s: claim failed", self.worker_id)
                await asyncio.sleep(POLL_SECONDS)
        finally:
            for task in self.running:
                task.cancel()
            for task in list(self.running):
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    async def claim(self) -> int:
        free = int(self.engine.settings.bulk_concurrency) - len(self.running)
        if free <= 0:
            return 0
        jobs = await self.engine.store.bulk_claim(self.worker_id, free, self.lease)
        for job in jobs:
            task = asyncio.create_task(self.run_job(job), name=f"bulk-{job.requestid}")
            self.running.add(task)
            task.add_done_callback(self.running.discard)
        return len(jobs)

    async def run_job(self, job: BulkJob) -> None:
        heartbeat = asyncio.create_task(self._heartbeat(job, asyncio.current_task()))
        try:
            await self._run(job)
        except ClaimLost:
            log.warning("bulk job %s was taken over by another worker", job.requestid)
        except asyncio.CancelledError:
            raise
        except Exception:
            # The claim stays: its lease runs out and the job is tried again (attempts grow).
            log.exception("bulk job %s failed; retried once its claim expires", job.requestid)
        finally:
            heartbeat.cancel()

    async def _heartbeat(self, job: BulkJob, task: asyncio.Task[Any] | None) -> None:
        while True:
            await asyncio.sleep(self.lease / 3)
            if not await self.engine.store.bulk_renew(job.id, self.worker_id, self.lease):
                if task is not None:
                    task.cancel()  # another worker has it now: this one must stop writing
                return

    async def _run(self, job: BulkJob) -> None:
        engine, store = self.engine, self.engine.store
        log.info("bulk job %s: %s (attempt %d)", job.requestid, job.state, job.attempts)
        if job.state == "running" and job.attempts > MAX_ATTEMPTS:
            gave_up = (
                f"not finished in {MAX_ATTEMPTS} attempts; the operator's log names "
                f"requestid {job.requestid}"
            )
            log.error("bulk job %s: %s", job.requestid, gave_up)
            if not await store.bulk_finish(job.id, self.worker_id, "Failed", gave_up):
                raise ClaimLost(job.requestid)
        elif job.state == "running":
            await engine.catalog.ensure_fresh()
            try:
                schema = engine.catalog.schema(job.account_id)
            except KeyError:
                await engine.catalog.refresh()
                schema = engine.catalog.schema(job.account_id)
            chunk_rows = max(int(engine.settings.bulk_chunk_rows), 1)
            importer = Importer(store, job, self.worker_id, schema, self.lease, chunk_rows)
            allow = str(engine.settings.bulk_allow_hosts)
            result, reason = await importer.run(allow, limits_of(engine))
            if not await store.bulk_finish(job.id, self.worker_id, result, reason):
                raise ClaimLost(job.requestid)
            log.info("bulk job %s: %s %s", job.requestid, result, reason or "")
        finished = await store.bulk_job(job.account_id, job.requestid)
        assert finished is not None
        await self._notify(finished)

    async def _notify(self, job: BulkJob) -> None:
        store, settings = self.engine.store, self.engine.settings
        notes = dict(job.notes)

        async def save(current: dict[str, Any]) -> None:
            if not await store.bulk_note(job.id, self.worker_id, current, done=False):
                raise ClaimLost(job.requestid)

        if job.callback:
            secret = await store.webhook_secret(job.account_id)
            await deliver_callback(
                job.callback,
                summary(job),
                secret,
                self.allow,
                notes,
                save,
                attempts=int(settings.bulk_callback_attempts),
                backoff=float(settings.bulk_callback_backoff),
            )
        if job.notifyemail:
            await deliver_mail(
                job.notifyemail, summary(job), settings.smtp_url, settings.smtp_from, notes, save
            )
        if not await store.bulk_note(job.id, self.worker_id, notes, done=True):
            raise ClaimLost(job.requestid)
