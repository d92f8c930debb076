"""A request that can never be applied is finished as Failed, not re-delivered forever."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

from cee.admin import accounts
from cee.domain.journal import JournalEntry
from cee.engine import Engine
from cee.ingest.worker import MAX_ATTEMPTS, Worker
from cee.settings import Settings
from cee.web.errors import wire_record
from tests.conftest import opened


def test_a_request_failing_every_attempt_is_reported_failed(url: str, tmp_path: Path) -> None:
    async def main() -> None:
        async with opened(url) as store:
            creds = await accounts.initialise(store)
            assert creds is not None
            account = creds.account_id
            payload = {"data": '[{"EMAIL": "p1@example.com"}, {"EMAIL": "p2@example.com"}]'}
            rid = uuid.uuid4().hex
            await store.journal_append(JournalEntry(0, rid, account, 1, "cee_test", "add", payload))
            # Workers that died holding it: every claim counts as an attempt.
            for n in range(MAX_ATTEMPTS):
                [claimed] = await store.journal_claim(f"dead-{n}", 10, 0)
                assert claimed.attempts == n + 1

        engine = Engine(Settings.load(data_dir=str(tmp_path), database=url))
        await engine.start()
        try:
            assert await Worker(engine, "w-last").run_once() == 1
            status = await engine.store.journal_status(account, rid)
        finally:
            await engine.stop()
        assert status is not None
        assert (status.state, status.result) == ("done", "Failed")
        assert status.records is not None
        wire = [wire_record(r) for r in status.records]
        assert [r["index"] for r in wire] == [0, 1]
        assert {r["error_code"] for r in wire} == {500}
        assert all(rid in r["details"] and "attempts" in r["details"] for r in wire)

    asyncio.run(main())
