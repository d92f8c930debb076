"""On PostgreSQL, a chunk of new contacts copied in (copyin.py, the bulk import's fast path)
leaves exactly what the planned write (`plan_merge`'s inserts) leaves: the same contacts in the
same id order, the same memberships, the same history rows with the same text, in the same
order. Chunks that cannot take it (a key given twice, a key already stored) still equal the
same records applied one at a time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import asyncpg
import pytest

from cee.domain.contacts import ContactRecord
from cee.domain.writes import ContactOp, WriteContext
from cee.storage.migrate import apply_migrations
from cee.storage.postgres import contacts
from cee.storage.postgres.contacts import write_planned, write_records
from tests.conftest import drop_pg_database, need_postgres, new_pg_database

SEED = WriteContext(1, "0" * 32, "seed", "add")
BULK = WriteContext(1, "1" * 32, "bulk", "bulkupload")


def record(email: str, **attributes: object) -> ContactRecord:
    return ContactRecord(email.lower(), email, {"EMAIL": email, **attributes})


NEW = [
    record("zed@example.com", NAME="Zed", CITY="Pune", AGE=30),
    record("Amy@Example.com", NAME="Amy", CITY=None),  # a clear of nothing: not stored
    record("moe@example.com", AGE=41),
    record("bob@example.com", CITY="Goa", NAME="Bob"),  # attributes in another order
]


@pytest.fixture
def pg() -> Iterator[Callable[[], Awaitable[asyncpg.Connection]]]:
    """Fresh migrated databases, each with account 1, its list 1 and two stored contacts
    (one of them in the list)."""
    need_postgres()
    urls: list[str] = []

    async def make() -> asyncpg.Connection:
        url = new_pg_database()
        urls.append(url)
        await asyncio.to_thread(apply_migrations, url, "postgres")
        conn = await asyncpg.connect(url)
        await conn.execute("INSERT INTO accounts (name, primary_key) VALUES ('a', 'EMAIL')")
        await conn.execute("INSERT INTO lists (account_id, name) VALUES (1, 'l')")
        seed = [record("old@example.com", NAME="Old", CITY="Agra"), record("member@example.com")]
        await write_planned(conn, SEED, ContactOp.UPSERT, seed, None, [])
        await conn.execute(
            "INSERT INTO list_members (list_id, contact_id) "
            "SELECT 1, id FROM contacts WHERE match_key = 'member@example.com'"
        )
        return conn

    yield make
    for url in urls:
        drop_pg_database(url)


async def snapshot(
    conn: asyncpg.Connection, order: str = "id"
) -> tuple[list[tuple[Any, ...]], ...]:
    """Contacts (by id, or by key where id orders differ by design), memberships, history."""
    people = await conn.fetch(
        "SELECT match_key, key_display, attributes::text, email_blacklisted FROM contacts "
        f"ORDER BY {order}"
    )
    members = await conn.fetch(
        "SELECT m.list_id, c.match_key FROM list_members m JOIN contacts c ON c.id = m.contact_id "
        "ORDER BY 1, 2"
    )
    history = await conn.fetch(
        "SELECT h.match_key, h.requestid, h.key_prefix, h.activity, h.changes::text, c.match_key "
        "FROM contact_history h LEFT JOIN contacts c ON c.id = h.contact_id ORDER BY h.id"
    )
    return [tuple(r) for r in people], [tuple(r) for r in members], [tuple(r) for r in history]


def copies(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many records each copy-in call wrote."""
    calls: list[int] = []
    real = contacts.copy_new_contacts

    async def counted(conn: Any, ctx: Any, records: list[Any], listid: Any) -> Any:
        calls.append(len(records))
        return await real(conn, ctx, records, listid)

    monkeypatch.setattr(contacts, "copy_new_contacts", counted)
    return calls


@pytest.mark.parametrize("listid", [1, None])
def test_new_contacts_copied_in_equal_the_planned_write(
    pg: Callable[[], Awaitable[asyncpg.Connection]],
    monkeypatch: pytest.MonkeyPatch,
    listid: int | None,
) -> None:
    calls = copies(monkeypatch)

    async def main() -> None:
        planned, copied = await pg(), await pg()
        async with planned.transaction():
            await write_planned(planned, BULK, ContactOp.UPSERT, NEW, listid, [])
        async with copied.transaction():
            assert await write_records(copied, BULK, ContactOp.UPSERT, NEW, listid) == [None] * 4
        expected, got = await snapshot(planned), await snapshot(copied)
        assert calls == [len(NEW)]
        assert got == expected
        people, members, history = got
        # Ids in key order (as insert-contact hands them out), history in record order.
        assert [p[0] for p in people[2:]] == sorted(r.key for r in NEW)
        assert [h[0] for h in history[2:]] == [r.key for r in NEW]
        joined = ',"_list_joined":1' if listid else ""
        assert (
            history[3][4] == '{"EMAIL":[null,"Amy@Example.com"],"NAME":[null,"Amy"]' + joined + "}"
        )
        if listid:
            assert len(members) == 1 + len(NEW)
        await planned.close()
        await copied.close()

    asyncio.run(main())


def test_chunks_with_stored_or_repeated_keys_equal_one_record_at_a_time(
    pg: Callable[[], Awaitable[asyncpg.Connection]], monkeypatch: pytest.MonkeyPatch
) -> None:
    chunks = [
        [*NEW[:2], record("old@example.com", NAME="Renamed")],  # one key stored already
        [record("new@example.com", CITY="Kochi"), record("NEW@example.com", CITY=None)],  # twice
        [record("member@example.com"), *NEW[2:]],  # a stored member: no entry, no new join
    ]
    calls = copies(monkeypatch)

    async def main() -> None:
        one_by_one, chunked = await pg(), await pg()
        for chunk in chunks:
            for r in chunk:
                async with one_by_one.transaction():
                    await write_records(one_by_one, BULK, ContactOp.UPSERT, [r], 1)
        singles = len(calls)
        for chunk in chunks:
            async with chunked.transaction():
                await write_records(chunked, BULK, ContactOp.UPSERT, chunk, 1)
        assert len(calls) == singles, "no chunk here may be copied in"
        # A chunk's new contacts get ids in key order, one at a time in record order.
        assert await snapshot(chunked, "match_key") == await snapshot(one_by_one, "match_key")
        await one_by_one.close()
        await chunked.close()

    asyncio.run(main())


def test_a_key_created_meanwhile_makes_the_copy_retry(
    pg: Callable[[], Awaitable[asyncpg.Connection]],
) -> None:
    """The copy finds a key another transaction created after the keys were read: RetryJob,
    having written nothing (the writer then runs the chunk again, which takes the plan)."""
    from cee.storage.postgres.copyin import copy_new_contacts
    from cee.storage.postgres.writer import RetryJob

    async def main() -> None:
        conn = await pg()
        await write_planned(conn, SEED, ContactOp.UPSERT, [NEW[1]], None, [])
        before = await snapshot(conn)
        with pytest.raises(RetryJob):
            async with conn.transaction():
                await copy_new_contacts(conn, BULK, NEW, 1)
        assert await snapshot(conn) == before
        async with conn.transaction():
            await write_records(conn, BULK, ContactOp.UPSERT, NEW, 1)
        history = (await snapshot(conn))[2]
        assert [h[0] for h in history if h[1] == BULK.requestid] == [r.key for r in NEW]
        await conn.close()

    asyncio.run(main())
