"""Store.journal_empty_list, on both backends: the async emptylist empties once, atomically."""

from __future__ import annotations

import asyncio
import time

from cee.admin import accounts
from cee.domain.attributes import BUILTIN_ATTRIBUTES
from cee.domain.contacts import Schema, normalise_contact
from cee.domain.journal import JournalEntry
from cee.domain.writes import ContactOp, WriteContext
from cee.storage import open_store

SCHEMA = Schema(BUILTIN_ATTRIBUTES, "EMAIL")


def test_journal_empty_list_applies_once_and_reports(url: str) -> None:
    async def main() -> None:
        store = open_store(url)
        await store.open(migrate=True)
        try:
            creds = await accounts.initialise(store)
            assert creds is not None
            account = creds.account_id
            listid = await store.create_list(account, "L")
            ctx = WriteContext(account, "a" * 32, "cee_test", "addsync")
            records = [normalise_contact({"EMAIL": f"e{i}@example.com"}, SCHEMA) for i in range(3)]
            await store.write_contacts(ctx, ContactOp.CREATE, records, listid)

            def entry(rid: str, target: int) -> JournalEntry:
                return JournalEntry(0, rid, account, 1, "cee_test", "emptylist", {"listid": target})

            await store.journal_append(entry("b" * 32, listid))
            await store.journal_append(entry("c" * 32, 987654))
            claimed = await store.journal_claim("w1", 10, 0.2)
            assert [e.requestid for e in claimed] == ["b" * 32, "c" * 32]
            time.sleep(0.3)  # the lease runs out: w2 takes the entries over
            again = await store.journal_claim("w2", 10, 30)
            assert [e.requestid for e in again] == ["b" * 32, "c" * 32]
            # The first worker lost its claim: it changes nothing.
            assert await store.journal_empty_list(claimed[0], "w1", listid) is False
            assert (await store.find_list(account, "L")).members == 3  # type: ignore[union-attr]
            assert await store.journal_empty_list(again[0], "w2", listid) is True
            assert (await store.find_list(account, "L")).members == 0  # type: ignore[union-attr]
            done = await store.journal_status(account, "b" * 32)
            assert done is not None
            assert (done.state, done.result, done.records) == ("done", "Success", [{"index": 0}])
            history = await store.history(account, "e0@example.com")
            assert history[-1].changes == {"_list_left": listid}
            assert history[-1].requestid == "b" * 32
            # A list that is gone is reported, not lost.
            assert await store.journal_empty_list(again[1], "w2", 987654) is True
            missing = await store.journal_status(account, "c" * 32)
            assert missing is not None and missing.result == "Failed"
            assert missing.records is not None and missing.records[0]["error"] == "not_found"
            assert await store.journal_depth() == (0, 0.0)
        finally:
            await store.close()

    asyncio.run(main())
