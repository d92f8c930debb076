"""The Store interface itself, on both backends: what every layer above relies on."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from cee.admin import accounts, keys
from cee.domain.attributes import BUILTIN_ATTRIBUTES
from cee.domain.contacts import ContactRecord, Schema, normalise_contact
from cee.domain.errors import Duplicate, InvalidContact, NotFound
from cee.domain.journal import JournalEntry
from cee.domain.writes import ContactOp, WriteContext
from cee.storage import Store
from tests.conftest import opened

SCHEMA = Schema(BUILTIN_ATTRIBUTES, "EMAIL")


def run(url: str, test: Callable[[Store, int], Awaitable[None]]) -> None:
    """Run `test(store, account_id)` against a bootstrapped store of `url`."""

    async def main() -> None:
        async with opened(url) as store:
            creds = await accounts.initialise(store)
            assert creds is not None
            await test(store, creds.account_id)

    asyncio.run(main())


def record(email: str, **attributes: Any) -> ContactRecord:
    return normalise_contact({"EMAIL": email, **attributes}, SCHEMA)


def ctx(account_id: int, activity: str = "addsync") -> WriteContext:
    return WriteContext(account_id, uuid.uuid4().hex, "cee_test", activity)


def test_create_then_duplicate(url: str) -> None:
    async def test(store: Store, account: int) -> None:
        listid = await store.create_list(account, "news")
        first = await store.write_contacts(
            ctx(account), ContactOp.CREATE, [record("Mike@Example.com", CITY="Pune")], listid
        )
        assert first == [None]
        [again] = await store.write_contacts(
            ctx(account), ContactOp.CREATE, [record(" mike@example.com")], None
        )
        assert isinstance(again, Duplicate)
        assert again.details == "Duplicate entry 'mike@example.com' for key 'uniqid'"
        view = await store.get_contact(account, "mike@example.com")
        assert view is not None
        assert view.primary_key == "Mike@Example.com"
        assert view.attributes == {"EMAIL": "Mike@Example.com", "CITY": "Pune"}
        assert view.lists == [listid]
        assert view.created_at == view.updated_at
        assert view.created_at.endswith("+00:00") and "T" in view.created_at
        [entry] = await store.history(account, "mike@example.com")
        assert entry.changes == {
            "EMAIL": [None, "Mike@Example.com"],
            "CITY": [None, "Pune"],
            "_list_joined": listid,
        }
        assert await store.count_contacts(account) == 1

    run(url, test)


def test_array_keeps_good_records_and_first_of_a_repeated_key(url: str) -> None:
    async def test(store: Store, account: int) -> None:
        records = [record("a@example.com"), record("A@example.com"), record("b@example.com")]
        outcomes = await store.write_contacts(ctx(account), ContactOp.CREATE, records, None)
        assert outcomes[0] is None and outcomes[2] is None
        assert isinstance(outcomes[1], Duplicate)
        assert (await store.get_contact(account, "a@example.com")).primary_key == "a@example.com"  # type: ignore[union-attr]
        assert await store.count_contacts(account) == 2

    run(url, test)


def test_missing_list_writes_nothing(url: str) -> None:
    async def test(store: Store, account: int) -> None:
        for op in ContactOp:
            with pytest.raises(NotFound):
                await store.write_contacts(ctx(account), op, [record("x@example.com")], 9999)
        assert await store.get_contact(account, "x@example.com") is None
        assert await store.history(account, "x@example.com") == []

    run(url, test)


def test_concurrent_callers_are_isolated(url: str) -> None:
    """Many callers in one group commit: each gets its own outcome; one failure stays its own."""

    async def test(store: Store, account: int) -> None:
        listid = await store.create_list(account, "l")

        async def create(email: str, lst: int | None) -> Any:
            try:
                return await store.write_contacts(
                    ctx(account), ContactOp.CREATE, [record(email)], lst
                )
            except NotFound as exc:
                return exc

        calls = [create(f"u{i}@example.com", listid) for i in range(40)]
        calls += [create("same@example.com", None) for _ in range(20)]
        calls.append(create("lost@example.com", 424242))
        results = await asyncio.gather(*calls)
        assert results[:40] == [[None]] * 40
        same = results[40:60]
        assert same.count([None]) == 1
        assert all(isinstance(r[0], Duplicate) for r in same if r != [None])
        assert isinstance(results[60], NotFound)
        assert await store.count_contacts(account) == 41
        [members] = [lst.members for lst in await store.lists(account)]
        assert members == 40
        assert len(await store.history(account, "same@example.com")) == 1

    run(url, test)


def test_upsert_merges_and_update_needs_a_contact(url: str) -> None:
    async def test(store: Store, account: int) -> None:
        listid = await store.create_list(account, "l")
        [missing] = await store.write_contacts(
            ctx(account, "update"), ContactOp.UPDATE, [record("m@example.com", CITY="X")], None
        )
        assert isinstance(missing, NotFound)
        outcomes = await store.write_contacts(
            ctx(account, "add"),
            ContactOp.UPSERT,
            [
                record("m@example.com", CITY="Pune", NAME="Mike"),
                record("M@example.com", CITY="Delhi"),
            ],
            listid,
        )
        assert outcomes == [None, None]
        view = await store.get_contact(account, "m@example.com")
        assert view is not None
        # The primary key's attribute is merged like any other; the key as first given stays.
        assert view.primary_key == "m@example.com"
        assert view.attributes == {"EMAIL": "M@example.com", "CITY": "Delhi", "NAME": "Mike"}
        assert view.lists == [listid]
        # "" clears an attribute; an unchanged value is no change; joining again is no change.
        await store.write_contacts(
            ctx(account, "update"),
            ContactOp.UPDATE,
            [record("M@example.com", NAME="", CITY="Delhi", AGE=40)],
            listid,
        )
        view = await store.get_contact(account, "m@example.com")
        assert view is not None
        assert view.attributes == {"EMAIL": "M@example.com", "CITY": "Delhi", "AGE": 40}
        assert view.updated_at >= view.created_at
        changes = [h.changes for h in await store.history(account, "m@example.com")]
        assert changes == [
            {
                "EMAIL": [None, "m@example.com"],
                "CITY": [None, "Pune"],
                "NAME": [None, "Mike"],
                "_list_joined": listid,
            },
            {"EMAIL": ["m@example.com", "M@example.com"], "CITY": ["Pune", "Delhi"]},
            {"NAME": ["Mike", None], "AGE": [None, 40]},
        ]
        # Upserting the same thing twice is upserting it once.
        before = await store.history(account, "m@example.com")
        again = record("M@example.com", CITY="Delhi", AGE=40)
        await store.write_contacts(ctx(account, "add"), ContactOp.UPSERT, [again], listid)
        assert await store.history(account, "m@example.com") == before

    run(url, test)


def test_two_stores_writing_the_same_emails_keep_each_once(url: str) -> None:
    """Two processes' stores (here two instances) racing on the same keys: one contact each."""

    async def test(store: Store, account: int) -> None:
        async with opened(url) as other:
            emails = [f"r{i}@example.com" for i in range(30)]

            async def write(s: Store, op: ContactOp, email: str) -> Any:
                return await s.write_contacts(ctx(account), op, [record(email, CITY="C")], None)

            calls = []
            for email in emails:
                calls += [
                    write(store, ContactOp.CREATE, email),
                    write(other, ContactOp.CREATE, email),
                ]
                calls += [
                    write(store, ContactOp.UPSERT, email),
                    write(other, ContactOp.UPSERT, email),
                ]
            results = await asyncio.gather(*calls)
            for i in range(len(emails)):
                creates = results[4 * i : 4 * i + 2]
                upserts = results[4 * i + 2 : 4 * i + 4]
                assert upserts == [[None], [None]]
                # A create may follow an upsert of the same key, so at most one Success.
                assert sum(r == [None] for r in creates) <= 1
            assert await store.count_contacts(account) == len(emails)

    run(url, test)


def test_blacklist_creates_and_erase_forgets(url: str) -> None:
    async def test(store: Store, account: int) -> None:
        c = ctx(account, "blacklist")
        await store.set_blacklisted(c, record("b@example.com"), True)
        await store.set_blacklisted(c, record("b@example.com"), True)
        view = await store.get_contact(account, "b@example.com")
        assert view is not None and view.email_blacklisted
        changes = [h.changes for h in await store.history(account, "b@example.com")]
        assert changes == [{"EMAIL": [None, "b@example.com"]}, {"_blacklisted": [False, True]}]
        listid = await store.create_list(account, "l")
        await store.write_contacts(
            ctx(account, "add"), ContactOp.UPSERT, [record("b@example.com")], listid
        )
        await store.remove_from_list(ctx(account, "delete"), "b@example.com", listid)
        with pytest.raises(NotFound):
            await store.remove_from_list(ctx(account, "delete"), "b@example.com", listid)
        assert await store.erase_contact(ctx(account, "erase"), "b@example.com")
        assert await store.get_contact(account, "b@example.com") is None
        assert await store.history(account, "b@example.com") == []
        assert not await store.erase_contact(ctx(account, "erase"), "b@example.com")

    run(url, test)


def entry(account: int, n: int) -> JournalEntry:
    payload = {"data": f'{{"EMAIL": "j{n}@example.com"}}'}
    return JournalEntry(0, uuid.uuid4().hex, account, 1, "cee_test", "add", payload)


def test_journal_claim_lease_and_apply_once(url: str) -> None:
    async def test(store: Store, account: int) -> None:
        entries = [entry(account, n) for n in range(3)]
        await asyncio.gather(*(store.journal_append(e) for e in entries))
        assert (await store.journal_depth())[0] == 3
        first = await store.journal_claim("w1", 2, 0.5)
        second = await store.journal_claim("w2", 10, 30)
        assert len(first) == 2 and len(second) == 1
        assert {e.requestid for e in first + second} == {e.requestid for e in entries}
        assert await store.journal_claim("w3", 10, 30) == []
        status = await store.journal_status(account, first[0].requestid)
        assert status is not None and status.state == "running"

        # w1 dies; once its lease runs out another worker gets the same entries.
        deadline = time.monotonic() + 10
        retaken: list[JournalEntry] = []
        while not retaken:
            assert time.monotonic() < deadline, "an expired lease was never re-claimable"
            await asyncio.sleep(0.1)
            retaken = await store.journal_claim("w3", 10, 30)
        assert [e.id for e in retaken] == [e.id for e in first]
        assert retaken[0].payload == first[0].payload

        late = await store.journal_apply(
            first[0], "w1", ContactOp.UPSERT, [record("j0@example.com", CITY="late")], None
        )
        assert late is False
        assert await store.get_contact(account, "j0@example.com") is None

        bad = InvalidContact("NOPE: attribute is not defined for this account")
        applied = await store.journal_apply(
            retaken[0], "w3", ContactOp.UPSERT, [record("j0@example.com"), bad], None
        )
        assert applied is True
        assert not await store.journal_apply(
            retaken[0], "w3", ContactOp.UPSERT, [record("j0@example.com")], None
        )
        status = await store.journal_status(account, retaken[0].requestid)
        assert status is not None
        assert (status.state, status.result) == ("done", "Partial")
        assert status.records is not None and len(status.records) == 2
        assert len(await store.history(account, "j0@example.com")) == 1
        assert await store.journal_status(account + 1, retaken[0].requestid) is None
        assert (await store.journal_depth())[0] == 2

    run(url, test)


def test_config_change_from_another_store_is_noticed(url: str) -> None:
    """A key rotated through one process's store is seen by another's within the bound."""

    async def test(store: Store, account: int) -> None:
        assert store.config_changed() is True  # the first look always rebuilds
        await asyncio.sleep(0.2)
        store.config_changed()
        assert store.config_changed() is False
        async with opened(url) as other:
            [admin] = await other.users(account)
            await keys.create_key(other, admin.id)
            deadline = time.monotonic() + 3  # the documented bound is about one second
            while not store.config_changed():
                assert time.monotonic() < deadline, "config change not noticed"
                await asyncio.sleep(0.02)
            await other.set_api_mode(account, False)
            while not store.config_changed():
                assert time.monotonic() < deadline + 3, "API Mode change not noticed"
                await asyncio.sleep(0.02)
        assert [a.api_mode for a in await store.accounts()] == [False]

    run(url, test)


def test_secret_is_one_per_database(url: str) -> None:
    async def main() -> None:
        async with opened(url) as a, opened(url) as b:
            secrets = await asyncio.gather(a.secret(), b.secret(), a.secret())
            assert len(set(secrets)) == 1

    asyncio.run(main())


def test_nodes_starting_together_bootstrap_once(url: str) -> None:
    async def main() -> None:
        async with opened(url) as a, opened(url) as b, opened(url) as c:
            made = await asyncio.gather(*(accounts.initialise(s) for s in (a, b, c)))
            assert sum(m is not None for m in made) == 1
            assert len(await a.accounts()) == 1
            assert len(await b.users()) == 1

    asyncio.run(main())


def test_an_applied_request_keeps_its_outcome_not_its_data(url: str) -> None:
    async def test(store: Store, account: int) -> None:
        sent = entry(account, 7)
        await store.journal_append(sent)
        [claimed] = await store.journal_claim("w1", 10, 30)
        assert claimed.payload == sent.payload and claimed.attempts == 1
        assert await store.journal_apply(
            claimed, "w1", ContactOp.UPSERT, [record("j7@example.com")], None
        )
        status = await store.journal_status(account, sent.requestid)
        assert status is not None and status.result == "Success"
        # Nothing can claim it again, and the contact data it carried is gone with it.
        assert await store.journal_claim("w2", 10, 0) == []
        assert "j7@example.com" not in repr(await raw_journal_payloads(store))

    run(url, test)


async def raw_journal_payloads(store: Store) -> list[object]:
    """Every journal payload as stored, read straight from the database."""
    if store.dialect == "sqlite":
        import sqlite3

        conn = sqlite3.connect(store.path)  # type: ignore[attr-defined]
        try:
            return [r[0] for r in conn.execute("SELECT payload FROM journal")]
        finally:
            conn.close()
    import asyncpg

    conn = await asyncpg.connect(store.url)  # type: ignore[attr-defined]
    try:
        return [r[0] for r in await conn.fetch("SELECT payload::text FROM journal")]
    finally:
        await conn.close()
