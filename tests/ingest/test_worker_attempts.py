"""A request that can never be applied is finished as Failed, not re-delivered forever."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

from cee import runtime
from cee.admin import accounts
from cee.domain.journal import JournalEntry
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

        engine = runtime.worker_engine(Settings.load(data_dir=str(tmp_path), database=url))
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


def _run_one(url: str, tmp_path: Path, activity: str, payload: dict[str, object]) -> Any:
    """Journal one entry, let a worker take it once; its status and the attempts it took."""

    async def main() -> Any:
        async with opened(url) as store:
            creds = await accounts.initialise(store)
            assert creds is not None
            account = creds.account_id
            rid = uuid.uuid4().hex
            entry = JournalEntry(0, rid, account, 1, "cee_test", activity, payload)
            await store.journal_append(entry)
        engine = runtime.worker_engine(Settings.load(data_dir=str(tmp_path), database=url))
        await engine.start()
        try:
            assert await Worker(engine, "w-once").run_once() == 1
            # Nothing left to claim: the entry was finished at its first attempt.
            assert await engine.store.journal_claim("w-next", 10, 0) == []
            return await engine.store.journal_status(account, rid)
        finally:
            await engine.stop()

    return asyncio.run(main())


def test_an_add_with_a_giant_listid_is_failed_at_its_first_attempt(
    url: str, tmp_path: Path
) -> None:
    # 5,000 digits: past int()'s limit, it once raised on every attempt and again when giving
    # up, so the entry stayed `running` and was retried every 30 s for ever.
    payload = {"data": '[{"EMAIL": "g1@example.com"}, {"EMAIL": "g2@example.com"}]'}
    status = _run_one(url, tmp_path, "add", {**payload, "listid": "7" * 5000})
    assert (status.state, status.result) == ("done", "Failed")
    wire = [wire_record(r) for r in status.records]
    assert [(r["index"], r["error_code"]) for r in wire] == [(0, 404), (1, 404)]
    assert all(r["details"].startswith("listid: ") and len(r["details"]) < 200 for r in wire)


def test_an_emptylist_entry_that_cannot_be_read_is_failed_at_once(url: str, tmp_path: Path) -> None:
    # A journal row this version cannot read (no listid at all): a fault, never a retry loop.
    status = _run_one(url, tmp_path, "emptylist", {"listname": "gone"})
    assert (status.state, status.result) == ("done", "Failed")
    [record] = [wire_record(r) for r in status.records]
    assert record["error_code"] == 400 and "listid" in record["details"]


def test_giving_up_does_not_judge_the_records_again(url: str, tmp_path: Path) -> None:
    # A poison `add` past its attempts: the give-up report has one Failed record per input
    # record, read from the array alone, whatever its values and listid are.
    data = '[{"EMAIL": "x@example.com", "AGE": "1e999999999"}, {"EMAIL": 5}, 7]'

    async def main() -> Any:
        async with opened(url) as store:
            creds = await accounts.initialise(store)
            assert creds is not None
            rid = uuid.uuid4().hex
            payload = {"data": data, "listid": "9" * 5000}
            entry = JournalEntry(0, rid, creds.account_id, 1, "cee_test", "add", payload)
            await store.journal_append(entry)
            for n in range(MAX_ATTEMPTS):
                await store.journal_claim(f"dead-{n}", 10, 0)
        engine = runtime.worker_engine(Settings.load(data_dir=str(tmp_path), database=url))
        await engine.start()
        try:
            assert await Worker(engine, "w-last").run_once() == 1
            assert await engine.store.journal_claim("w-next", 10, 0) == []
            return await engine.store.journal_status(creds.account_id, rid)
        finally:
            await engine.stop()

    status = asyncio.run(main())
    assert (status.state, status.result) == ("done", "Failed")
    wire = [wire_record(r) for r in status.records]
    assert [(r["index"], r["error_code"]) for r in wire] == [(0, 500), (1, 500), (2, 500)]
