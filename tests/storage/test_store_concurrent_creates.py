"""Concurrent addsync writes, which the writers merge into one transaction, keep their answers.

The SQLite writer runs every create waiting at one moment as one set of statements; each caller
must still get exactly what it would have got alone: Success, a 302 duplicate (also when the
same new key comes twice in one batch), or a 404 for its own missing list, never a neighbour's.
"""

from __future__ import annotations

import asyncio
from typing import Any

from cee.domain.errors import Duplicate, NotFound
from cee.domain.writes import ContactOp, WriteContext
from cee.storage import Store
from tests.storage.test_store import record, run


def ctx(account_id: int, n: int) -> WriteContext:
    return WriteContext(account_id, f"{n:032x}", "cee_test", "addsync")


async def create(store: Store, account_id: int, n: int, email: str, listid: int | None) -> Any:
    try:
        return await store.write_contacts(
            ctx(account_id, n), ContactOp.CREATE, [record(email)], listid
        )
    except NotFound as exc:
        return exc


def test_many_concurrent_creates_all_land_with_their_lists(url: str) -> None:
    async def test(store: Store, account_id: int) -> None:
        listid = await store.create_list(account_id, "L")
        emails = [f"user{i}@example.com" for i in range(200)]
        results = await asyncio.gather(
            *(create(store, account_id, i, e, listid) for i, e in enumerate(emails))
        )
        assert results == [[None]] * len(emails)
        assert await store.count_contacts(account_id) == len(emails)
        [members] = [row.members for row in await store.lists(account_id)]
        assert members == len(emails)
        seen = await store.get_contact(account_id, "user7@example.com")
        assert seen is not None and seen.lists == [listid]
        history = await store.history(account_id, "user7@example.com")
        assert [h.requestid for h in history] == [f"{7:032x}"]
        assert history[0].changes["_list_joined"] == listid

    run(url, test)


def test_the_same_new_key_twice_at_once_is_one_success_and_one_duplicate(url: str) -> None:
    async def test(store: Store, account_id: int) -> None:
        results = await asyncio.gather(
            *(create(store, account_id, i, "Mike@Example.com", None) for i in range(2)),
            *(create(store, account_id, 10 + i, f"other{i}@example.com", None) for i in range(5)),
        )
        first, second = results[0][0], results[1][0]
        assert sorted([first is None, second is None]) == [False, True]
        dup = first if first is not None else second
        assert isinstance(dup, Duplicate)
        assert dup.details == "Duplicate entry 'Mike@Example.com' for key 'uniqid'"
        assert results[2:] == [[None]] * 5
        assert await store.count_contacts(account_id) == 6
        history = await store.history(account_id, "mike@example.com")
        assert len(history) == 1  # the loser left no trace

    run(url, test)


def test_a_missing_list_fails_only_its_own_request(url: str) -> None:
    async def test(store: Store, account_id: int) -> None:
        listid = await store.create_list(account_id, "L")
        results = await asyncio.gather(
            create(store, account_id, 1, "a@example.com", listid),
            create(store, account_id, 2, "b@example.com", 999_999),
            create(store, account_id, 3, "c@example.com", None),
        )
        assert results[0] == [None]
        assert isinstance(results[1], NotFound)
        assert results[2] == [None]
        assert await store.get_contact(account_id, "b@example.com") is None
        assert await store.count_contacts(account_id) == 2

    run(url, test)


def test_an_array_with_a_key_twice_creates_it_once(url: str) -> None:
    async def test(store: Store, account_id: int) -> None:
        records = [record("x@example.com"), record("y@example.com"), record("X@example.com ")]
        alone = store.write_contacts(ctx(account_id, 1), ContactOp.CREATE, records, None)
        beside = create(store, account_id, 2, "y@example.com", None)
        outcomes, other = await asyncio.gather(alone, beside)
        assert outcomes[0] is None
        assert isinstance(outcomes[2], Duplicate)
        # y@ came in two requests at once: exactly one of them made it.
        assert sorted([outcomes[1] is None, other[0] is None]) == [False, True]
        assert await store.count_contacts(account_id) == 2

    run(url, test)
