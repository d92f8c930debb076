"""The bulk runner on a real store: a job that keeps failing is finished, not retried forever."""

from __future__ import annotations

import asyncio

from cee.engine import Engine
from cee.ingest.imports.runner import MAX_ATTEMPTS, BulkRunner
from cee.settings import Settings
from cee.storage.bulk import BulkJob
from tests.conftest import opened


def test_a_job_claimed_too_often_is_finished_failed(url: str) -> None:
    async def scenario() -> None:
        async with opened(url) as store:
            account = await store.create_account("a", "EMAIL")
            await store.bulk_create(BulkJob(0, "f" * 32, account, 1, "k", "http://8.8.8.8/x"))
            # Each claim with no lease left stands for a worker that died holding it.
            for attempt in range(1, MAX_ATTEMPTS + 2):
                await asyncio.sleep(0.01)
                [job] = await store.bulk_claim(f"w{attempt}", 1, 0)
                assert job.attempts == attempt
            engine = Engine(Settings.load(database=url), store)
            runner = BulkRunner(engine, f"w{MAX_ATTEMPTS + 1}")
            await runner.run_job(job)
            done = await store.bulk_job(account, "f" * 32)
            assert done is not None and done.state == "done" and done.result == "Failed"
            assert done.reason is not None and done.reason.startswith(
                f"not finished in {MAX_ATTEMPTS} attempts"
            )
            assert await store.bulk_claim("later", 1, 30) == []

    asyncio.run(scenario())
