"""The store's parts of issue 12 on both backends: a page of a contact's history (the activity
exports) and an `update` put back while older work of its account is with another worker."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from cee.domain.journal import JournalEntry
from cee.domain.writes import ContactOp
from cee.storage import Store
from tests.storage.test_store import ctx, record, run


def day(offset: int) -> str:
    start = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return (start + timedelta(days=offset)).isoformat(timespec="microseconds")


def test_history_page_counts_filters_and_pages(url: str) -> None:
    async def test(store: Store, account: int) -> None:
        key = "page@example.com"
        await store.write_contacts(ctx(account), ContactOp.CREATE, [record(key)], None)
        for i in range(4):
            await store.write_contacts(
                ctx(account, "updatesync"), ContactOp.UPDATE, [record(key, AGE=i)], None
            )
        await store.set_blacklisted(ctx(account, "blacklist"), record(key), True)
        await store.set_blacklisted(ctx(account, "unblacklist"), record(key), False)
        since, until = day(-1), day(2)

        total, every = await store.history_page(account, key, since, until)
        assert total == 7 and [h.activity for h in every][:2] == ["addsync", "updatesync"]
        total, page = await store.history_page(account, key, since, until, offset=2, limit=2)
        assert total == 7 and [h.changes["AGE"][1] for h in page] == [1, 2]
        total, updates = await store.history_page(account, key, since, until, activity="updatesync")
        assert total == 4 and {h.activity for h in updates} == {"updatesync"}
        total, channel = await store.history_page(account, key, since, until, change="_blacklisted")
        assert total == 2 and [h.changes["_blacklisted"] for h in channel] == [
            [False, True],
            [True, False],
        ]
        # Outside the range, for another contact or another account: nothing.
        assert await store.history_page(account, key, day(1), day(2)) == (0, [])
        assert await store.history_page(account, "nobody@example.com", since, until) == (0, [])
        assert await store.history_page(account + 1, key, since, until) == (0, [])

    run(url, test)


def journaled(account: int, activity: str, email: str) -> JournalEntry:
    payload = {"data": f'{{"EMAIL": "{email}"}}'}
    return JournalEntry(0, uuid.uuid4().hex, account, 1, "cee_test", activity, payload)


def test_an_update_waits_for_older_work_of_its_account_held_elsewhere(url: str) -> None:
    async def test(store: Store, account: int) -> None:
        await store.journal_append(journaled(account, "add", "w@example.com"))
        await store.journal_append(journaled(account, "update", "w@example.com"))
        [add] = await store.journal_claim("w1", 1, 30)
        [update] = await store.journal_claim("w2", 1, 30)
        assert (add.activity, update.activity) == ("add", "update")

        # w1 still holds the add: w2 puts the update back, and the deferral is no attempt.
        assert await store.journal_defer_if_waiting(update, "w2") is True
        status = await store.journal_status(account, update.requestid)
        assert status is not None and status.state == "queued"
        [again] = await store.journal_claim("w2", 10, 30)
        assert again.id == update.id and again.attempts == update.attempts
        assert await store.journal_defer_if_waiting(again, "w2") is True

        # Once the add is done the update goes ahead; older work of this worker never holds it.
        assert await store.journal_apply(
            add, "w1", ContactOp.UPSERT, [record("w@example.com")], None
        )
        [later] = await store.journal_claim("w2", 10, 30)
        assert await store.journal_defer_if_waiting(later, "w2") is False
        assert await store.journal_apply(
            later, "w2", ContactOp.UPDATE, [record("w@example.com", AGE=1)], None
        )
        await store.journal_append(journaled(account, "add", "x@example.com"))
        await store.journal_append(journaled(account, "update", "x@example.com"))
        mine = await store.journal_claim("w3", 10, 30)
        assert [e.activity for e in mine] == ["add", "update"]
        assert await store.journal_defer_if_waiting(mine[1], "w3") is False

    run(url, test)
