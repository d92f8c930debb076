"""The PostgreSQL store: asyncpg with a pool, group-committed writes, LISTEN for config changes.

Any number of `cee serve` and `cee worker` processes on any number of hosts share one database:
uniqueness is the database's (ON CONFLICT), workers claim with FOR UPDATE SKIP LOCKED, and a
configuration change made anywhere reaches every process through NOTIFY (see watch.py).
Timestamps are the database's clock and are handed back as ISO-8601 text, as SQLite's are.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import asyncpg
import orjson

from cee.domain.attributes import BUILTIN_ATTRIBUTES, Attribute, Datatype
from cee.domain.contacts import ContactRecord
from cee.domain.errors import CeeError, Duplicate, NotFound
from cee.domain.journal import JournalEntry, Report, applied, emptied, to_write
from cee.domain.keys import new_secret
from cee.domain.writes import (
    ContactOp,
    WriteContext,
    absent_contact,
    blacklist_change,
    list_left,
    not_a_member,
)
from cee.storage.base import (
    AccountRow,
    ContactView,
    HistoryEntry,
    JournalStatus,
    KeyRow,
    ListRow,
    Outcome,
    Store,
    UserRow,
)
from cee.storage.migrate import apply_migrations
from cee.storage.postgres.bulk import PostgresBulk
from cee.storage.postgres.contacts import (
    create_batch,
    dump,
    insert_history,
    require_list,
    write_records,
)
from cee.storage.postgres.ops import PostgresOps
from cee.storage.postgres.panel import PostgresPanel
from cee.storage.postgres.watch import ConfigWatch
from cee.storage.postgres.writer import Connection, RetryJob, Writer
from cee.storage.queries import Queries

T = TypeVar("T")
Q = Queries("postgres")

DEFAULT_POOL_SIZE = 10
DEFAULT_POLL_SECONDS = 1.0
# Two writers: one batch's commit (the WAL flush) overlaps the next batch's statements.
WRITERS = 2
# Serialises the making of the key-hashing secret between processes starting together.
_SECRET_LOCK = 0x6CEE0002


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _moment(text: str | None) -> datetime | None:
    if text is None:
        return None
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def _insert_journal(conn: Connection, entries: list[JournalEntry]) -> list[None]:
    await conn.execute(
        Q.insert_journal,
        [e.requestid for e in entries],
        [e.account_id for e in entries],
        [e.user_id for e in entries],
        [e.key_prefix for e in entries],
        [e.activity for e in entries],
        [dump(e.payload) for e in entries],
    )
    return [None] * len(entries)


async def _keep_session(conn: asyncpg.Connection) -> None:
    """What the pool does to a released connection, beyond ending its transaction: nothing.

    CEE sets no session state on pooled connections (its advisory locks are transaction-scoped
    and LISTEN has a connection of its own), and asyncpg's default (UNLISTEN *, RESET ALL, ...)
    is one more round trip per release (py-spy: ~4 % of the server's time on 1,000-contact
    arrays).
    """


class PostgresStore(PostgresBulk, PostgresPanel, PostgresOps, Store):
    dialect = "postgres"

    def __init__(
        self,
        url: str,
        *,
        pool_size: int | None = None,
        config_poll_seconds: float | None = None,
    ) -> None:
        self.url = "postgresql://" + url.split("://", 1)[1]
        self.pool_size = max(pool_size or DEFAULT_POOL_SIZE, WRITERS + 1)
        self.config_poll_seconds = config_poll_seconds or DEFAULT_POLL_SECONDS
        self._pool: Any = None
        self._writer: Writer | None = None
        self._changed = True
        self._watch = ConfigWatch(self.url, self.config_poll_seconds, self._mark_changed)

    # -- connections ----------------------------------------------------------------------

    async def open(self, *, migrate: bool = False) -> None:
        if migrate:
            await asyncio.to_thread(apply_migrations, self.url, "postgres")
        self._pool = await asyncpg.create_pool(
            self.url,
            min_size=1,
            max_size=self.pool_size,
            # `on` is PostgreSQL's default; set here so that no role or database setting can
            # turn a Success into a write that a crash may lose.
            server_settings={"synchronous_commit": "on", "application_name": "cee"},
            reset=_keep_session,
        )
        if not await self._pool.fetchval("SELECT to_regclass('meta') IS NOT NULL"):
            await self._pool.close()
            self._pool = None
            raise FileNotFoundError(f"no CEE database at {self.url} (run `cee init` first)")
        self._writer = Writer(
            self._pool,
            {"create": create_batch, "journal": _insert_journal},
            writers=WRITERS,
        )
        self._writer.start()

    async def close(self) -> None:
        await self._watch.stop()
        if self._writer is not None:
            await self._writer.stop()
            self._writer = None
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def _write(self, fn: Callable[[Connection], Awaitable[T]]) -> T:
        assert self._writer is not None, "store is not open"
        return await self._writer.run(fn)

    async def _admin_write(self, fn: Callable[[Connection], Awaitable[T]]) -> T:
        # Other processes learn of the change from the trigger's NOTIFY; this one at once.
        result = await self._write(fn)
        self._changed = True
        return result

    async def _fetch(self, sql: str, *args: Any) -> list[Any]:
        return list(await self._pool.fetch(sql, *args))

    async def _fetchrow(self, sql: str, *args: Any) -> Any:
        return await self._pool.fetchrow(sql, *args)

    # -- change signalling ----------------------------------------------------------------

    def _mark_changed(self) -> None:
        self._changed = True

    def config_changed(self) -> bool:
        # The first call (from a serving process) starts the watcher: CLI commands that never
        # ask hold no listening connection.
        self._watch.start()
        changed, self._changed = self._changed, False
        return changed

    async def is_initialised(self) -> bool:
        try:
            return bool(await self._pool.fetchval(Q.count_accounts))
        except asyncpg.exceptions.UndefinedTableError:
            return False

    async def applied_migrations(self) -> set[str]:
        rows = await self._pool.fetch(Q.select_applied_migrations)
        return {r[0] for r in rows}

    async def secret(self) -> bytes:
        async def get_or_make(conn: Connection) -> str:
            value = await conn.fetchval(Q.get_meta, "key_secret")
            if value is None:
                await conn.execute("SELECT pg_advisory_xact_lock($1)", _SECRET_LOCK)
                value = await conn.fetchval(Q.get_meta, "key_secret")
            if value is None:
                value = new_secret()
                await conn.execute(Q.put_meta, "key_secret", value)
            return str(value)

        return bytes.fromhex(await self._write(get_or_make))

    # -- accounts, users, keys ------------------------------------------------------------

    async def create_account(self, name: str, primary_key: str) -> int:
        async def insert(conn: Connection) -> int:
            account_id = await conn.fetchval(Q.insert_account, name, primary_key)
            if account_id is None:
                raise Duplicate.entry(name, "account")
            await conn.execute(
                Q.insert_attribute,
                account_id,
                list(BUILTIN_ATTRIBUTES),
                [d.value for d in BUILTIN_ATTRIBUTES.values()],
                True,
            )
            return int(account_id)

        return await self._admin_write(insert)

    async def accounts(self) -> list[AccountRow]:
        rows = await self._fetch(Q.select_accounts)
        return [AccountRow(r[0], r[1], r[2], r[3], r[4]) for r in rows]

    async def set_api_mode(self, account_id: int, on: bool) -> None:
        await self._admin_write(lambda c: c.execute(Q.update_api_mode, on, account_id))

    async def set_primary_key(self, account_id: int, attribute: str) -> None:
        await self._admin_write(lambda c: c.execute(Q.update_primary_key, attribute, account_id))

    async def create_user(
        self, account_id: int, username: str, password_hash: str, is_admin: bool
    ) -> int:
        async def insert(conn: Connection) -> int:
            user_id = await conn.fetchval(
                Q.insert_user, account_id, username, password_hash, is_admin
            )
            if user_id is None:
                raise Duplicate.entry(username, "username")
            return int(user_id)

        return await self._admin_write(insert)

    async def users(self, account_id: int | None = None) -> list[UserRow]:
        rows = await self._fetch(Q.select_users, account_id)
        return [UserRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]) for r in rows]

    async def set_user_active(self, user_id: int, active: bool) -> None:
        await self._admin_write(lambda c: c.execute(Q.update_user_active, active, user_id))

    async def replace_key(self, user_id: int, key_hash: str, prefix: str) -> None:
        async def rotate(conn: Connection) -> None:
            await conn.execute(Q.revoke_user_keys, user_id)
            await conn.execute(Q.insert_key, user_id, key_hash, prefix)

        await self._admin_write(rotate)

    async def active_keys(self) -> list[KeyRow]:
        rows = await self._fetch(Q.select_active_keys)
        return [KeyRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6]) for r in rows]

    async def count_contacts(self, account_id: int) -> int:
        return int(await self._pool.fetchval(Q.count_contacts, account_id))

    # -- attributes and lists -------------------------------------------------------------

    async def attributes(self, account_id: int) -> list[Attribute]:
        rows = await self._fetch(Q.select_attributes, account_id)
        return [Attribute(r[0], Datatype(r[1]), r[2]) for r in rows]

    async def all_attributes(self) -> dict[int, dict[str, Datatype]]:
        result: dict[int, dict[str, Datatype]] = {}
        for account_id, name, datatype in await self._fetch(Q.select_all_attributes):
            result.setdefault(account_id, {})[name] = Datatype(datatype)
        return result

    async def create_attribute(self, account_id: int, name: str, datatype: Datatype) -> None:
        async def insert(conn: Connection) -> None:
            created = await conn.fetch(
                Q.insert_attribute, account_id, [name], [datatype.value], False
            )
            if not created:
                raise Duplicate.entry(name, "attribute")

        await self._admin_write(insert)

    async def create_list(self, account_id: int, name: str) -> int:
        async def insert(conn: Connection) -> int:
            list_id = await conn.fetchval(Q.insert_list, account_id, name)
            if list_id is None:
                raise Duplicate.entry(name, "listname")
            return int(list_id)

        return await self._admin_write(insert)

    async def lists(self, account_id: int) -> list[ListRow]:
        return [ListRow(r[0], r[1], r[2]) for r in await self._fetch(Q.select_lists, account_id)]

    async def find_list(self, account_id: int, name: str) -> ListRow | None:
        row = await self._fetchrow(Q.select_list_by_name, account_id, name)
        return ListRow(row[0], row[1], row[2]) if row else None

    # -- contacts -------------------------------------------------------------------------

    async def write_contacts(
        self,
        ctx: WriteContext,
        op: ContactOp,
        records: list[ContactRecord],
        listid: int | None,
    ) -> list[Outcome]:
        if op is ContactOp.CREATE:
            assert self._writer is not None, "store is not open"
            outcomes: list[Outcome] = await self._writer.merge("create", (ctx, records, listid))
            return outcomes
        return await self._write(lambda c: write_records(c, ctx, op, records, listid))

    async def get_contact(self, account_id: int, match_key: str) -> ContactView | None:
        async with self._pool.acquire() as conn:
            row = await conn.fetchrow(Q.select_contact, account_id, match_key)
            if row is None:
                return None
            lists = [r[0] for r in await conn.fetch(Q.select_contact_lists, row[0])]
        return ContactView(
            primary_key=row[1],
            attributes=orjson.loads(row[2]),
            lists=lists,
            email_blacklisted=row[3],
            created_at=iso(row[4]),
            updated_at=iso(row[5]),
        )

    async def export_page(
        self, account_id: int, listid: int | None, after: int, limit: int
    ) -> list[tuple[int, ContactView]]:
        async with self._pool.acquire() as conn:
            if listid is None:
                rows = await conn.fetch(Q.export_contacts_page, account_id, after, limit)
            else:
                rows = await conn.fetch(Q.export_list_page, account_id, listid, after, limit)
        return [
            (
                row[0],
                ContactView(
                    primary_key=row[1],
                    attributes=orjson.loads(row[2]),
                    lists=orjson.loads(row[6]),
                    email_blacklisted=row[3],
                    created_at=iso(row[4]),
                    updated_at=iso(row[5]),
                ),
            )
            for row in rows
        ]

    async def remove_from_list(self, ctx: WriteContext, match_key: str, listid: int) -> None:
        async def remove(conn: Connection) -> None:
            await require_list(conn, ctx.account_id, listid)
            found = await conn.fetch(Q.select_contact_for_update, ctx.account_id, [match_key])
            if not found:
                raise absent_contact(match_key)
            if await conn.fetchval(Q.delete_member, listid, found[0][0]) is None:
                raise not_a_member(match_key, listid)
            await insert_history(conn, ctx, [(match_key, list_left(listid))])

        await self._write(remove)

    async def set_blacklisted(
        self, ctx: WriteContext, record: ContactRecord, blacklisted: bool
    ) -> None:
        async def apply(conn: Connection) -> None:
            found = await conn.fetch(Q.select_contact_for_update, ctx.account_id, [record.key])
            if found:
                contact_id, before = found[0][0], bool(found[0][3])
            else:
                [result] = await create_batch(conn, [(ctx, [record], None)])
                if result != [None]:  # created meanwhile by another transaction
                    raise RetryJob()
                found = await conn.fetch(Q.select_contact_for_update, ctx.account_id, [record.key])
                contact_id, before = found[0][0], False
            if before != blacklisted:
                await conn.execute(Q.update_contact_blacklist, blacklisted, contact_id)
                change = blacklist_change(before, blacklisted)
                await insert_history(conn, ctx, [(record.key, change)])

        await self._write(apply)

    async def empty_list(self, ctx: WriteContext, listid: int) -> int:
        return await self._write(lambda c: _empty_list(c, ctx, listid))

    async def erase_contact(self, ctx: WriteContext, match_key: str) -> bool:
        async def erase(conn: Connection) -> bool:
            found = await conn.fetch(Q.select_contact_for_update, ctx.account_id, [match_key])
            await conn.execute(Q.delete_history, ctx.account_id, match_key)
            if not found:
                return False
            await conn.execute(Q.delete_contact_members, found[0][0])
            await conn.execute(Q.delete_contact, found[0][0])
            return True

        return await self._write(erase)

    async def history(
        self, account_id: int, match_key: str, since: str | None = None, until: str | None = None
    ) -> list[HistoryEntry]:
        rows = await self._fetch(
            Q.select_history, account_id, match_key, _moment(since), _moment(until)
        )
        return [HistoryEntry(iso(r[0]), r[1], r[2], r[3], orjson.loads(r[4])) for r in rows]

    async def history_page(
        self,
        account_id: int,
        match_key: str,
        since: str,
        until: str,
        *,
        activity: str | None = None,
        change: str | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> tuple[int, list[HistoryEntry]]:
        where = (account_id, match_key, _moment(since), _moment(until), activity, change)
        assert self._pool is not None, "store is not open"
        async with (
            self._pool.acquire() as conn,
            conn.transaction(readonly=True, isolation="repeatable_read"),
        ):
            # One snapshot: the count and the page agree.
            total = await conn.fetchval(Q.count_history_page, *where)
            rows = await conn.fetch(Q.select_history_page, *where, limit, offset)
        return int(total), [
            HistoryEntry(iso(r[0]), r[1], r[2], r[3], orjson.loads(r[4])) for r in rows
        ]

    # -- the async journal ----------------------------------------------------------------

    async def journal_append(self, entry: JournalEntry) -> None:
        assert self._writer is not None, "store is not open"
        await self._writer.merge("journal", entry)

    async def journal_claim(
        self, worker_id: str, limit: int, lease_seconds: float
    ) -> list[JournalEntry]:
        rows = await self._fetch(Q.claim_journal, worker_id, float(lease_seconds), limit)
        return sorted(
            (
                JournalEntry(r[0], r[1], r[2], r[3], r[4], r[5], orjson.loads(r[6]), r[7])
                for r in rows
            ),
            key=lambda e: e.id,
        )

    async def journal_apply(
        self,
        entry: JournalEntry,
        worker_id: str,
        op: ContactOp,
        records: list[ContactRecord | CeeError],
        listid: int | None,
    ) -> bool:
        async def apply(conn: Connection) -> bool:
            if not await _claimed(conn, entry, worker_id):
                return False
            valid = to_write(records)
            written: list[Outcome] | NotFound = []
            try:
                if valid:
                    written = await write_records(conn, entry.context(), op, valid, listid)
            except NotFound as gone:  # the list: nothing was written
                written = gone
            await _finish(conn, entry, applied(records, written))
            return True

        return await self._write(apply)

    async def journal_empty_list(self, entry: JournalEntry, worker_id: str, listid: int) -> bool:
        async def apply(conn: Connection) -> bool:
            if not await _claimed(conn, entry, worker_id):
                return False
            outcome: Outcome = None
            try:
                await _empty_list(conn, entry.context(), listid)
            except NotFound as gone:
                outcome = gone
            await _finish(conn, entry, emptied(outcome))
            return True

        return await self._write(apply)

    async def journal_defer_if_waiting(self, entry: JournalEntry, worker_id: str) -> bool:
        async def defer(conn: Connection) -> bool:
            if await conn.fetchval(Q.journal_waits, entry.id, entry.account_id, worker_id) is None:
                return False
            await conn.execute(Q.defer_journal, entry.id, worker_id)
            return True

        return await self._write(defer)

    async def journal_claimers(self) -> list[str]:
        return [r[0] for r in await self._fetch(Q.select_journal_claimers)]

    async def journal_release(self, worker_id: str) -> int:
        return len(await self._fetch(Q.release_journal_claims, worker_id))

    async def journal_status(self, account_id: int, requestid: str) -> JournalStatus | None:
        row = await self._fetchrow(Q.select_journal_status, account_id, requestid)
        if row is None:
            return None
        return JournalStatus(row[0], row[1], row[2], orjson.loads(row[3]) if row[3] else None)

    async def journal_depth(self) -> tuple[int, float]:
        count, age = await self._fetchrow(Q.journal_depth)
        return (int(count), max(float(age), 0.0)) if count else (0, 0.0)


async def _empty_list(conn: Connection, ctx: WriteContext, listid: int) -> int:
    await require_list(conn, ctx.account_id, listid)
    keys = [r[0] for r in await conn.fetch(Q.select_member_keys, listid)]
    await insert_history(conn, ctx, [(key, list_left(listid)) for key in keys])
    await conn.execute(Q.delete_all_members, listid)
    return len(keys)


async def _claimed(conn: Connection, entry: JournalEntry, worker_id: str) -> bool:
    return await conn.fetchval(Q.check_claim, entry.id, worker_id) is not None


async def _finish(conn: Connection, entry: JournalEntry, report: Report) -> None:
    result, records = report
    await conn.execute(Q.finish_journal, result, dump(records), entry.id)
