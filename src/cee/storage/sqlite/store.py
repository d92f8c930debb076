"""The embedded SQLite store: WAL, synchronous=FULL, one group-commit writer, reads on threads."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import orjson

from cee.domain.attributes import BUILTIN_ATTRIBUTES, Attribute, Datatype
from cee.domain.contacts import ContactRecord, creation_changes, merge_attributes
from cee.domain.errors import CeeError, Duplicate, NotFound
from cee.domain.journal import JournalEntry
from cee.domain.keys import new_secret
from cee.domain.outcomes import result_word, stored_report
from cee.domain.writes import ContactOp, WriteContext
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
from cee.storage.queries import Queries
from cee.storage.sqlite.bulk import SqliteBulk
from cee.storage.sqlite.ops import SqliteOps
from cee.storage.sqlite.panel import SqlitePanel
from cee.storage.sqlite.remote import JOURNAL_NOTICE, RemoteWriter
from cee.storage.sqlite.writer import Writer

T = TypeVar("T")
Q = Queries("sqlite")
log = logging.getLogger(__name__)
# How often the WAL is copied into the database file in the background. Often, so that each copy
# is small: at 1 s under addsync load a copy grew to tens of MB, whose writes and fsync slowed the
# commits beside it (make bench: addsync p99 24 ms at 1 s, 12-13 ms at 0.1 s).
CHECKPOINT_SECONDS = 0.1
STAMP_RECHECK_SECONDS = 0.001


def utcnow() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


class SqliteStore(SqliteBulk, SqlitePanel, SqliteOps, Store):
    dialect = "sqlite"

    def __init__(self, path: str, writer_address: str | None = None) -> None:
        """`writer_address`: the Unix socket of a writer process to send every write to
        (`cee serve --processes`); without one, this process writes itself."""
        self.path = os.path.abspath(path)
        self.writer_address = writer_address
        # Another process (the CLI) tells this one that keys or settings changed by replacing
        # this file: one stat() per request notices, with no database round trip.
        self._stamp = self.path + ".config"
        self._stamp_seen: tuple[int, int] | None = None
        self._stamp_checked = 0.0
        self._writer: Writer | RemoteWriter | None = None
        self._checkpointer: asyncio.Task[None] | None = None
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()

    # -- connections ----------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout = 10000")
        conn.execute("PRAGMA journal_mode = WAL")
        # FULL: a Success is on disk even if the machine loses power right after the answer.
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA cache_size = -65536")
        # Checkpoint every ~40 MB of WAL rather than 4 MB: random keys rewrite the same index
        # pages commit after commit, and a rarer checkpoint copies each one to the database
        # once instead of many times (measured ~+35% rows/s for 1,000-contact transactions).
        # Durability is unchanged: every commit still syncs the WAL. Normally the background
        # checkpointer (below) gets there first; this bounds the WAL if it ever falls behind.
        conn.execute("PRAGMA wal_autocheckpoint = 10000")
        return conn

    def _reader(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
            with self._readers_lock:
                self._readers.append(conn)
        return conn

    async def _read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        return await asyncio.to_thread(lambda: fn(self._reader()))

    async def _write(self, fn: Callable[..., T], *args: Any, weight: int = 1) -> T:
        """Run `fn(connection, *args)` in the writer's next group commit.

        `fn` is a module-level function, never a closure: with `--processes` it runs in the
        writer process, and pickle carries it there by name.
        """
        assert self._writer is not None, "store is not open"
        result: T = await self._writer.run(fn, *args, weight=weight)
        return result

    async def open(self, *, migrate: bool = False) -> None:
        if migrate:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            await asyncio.to_thread(apply_migrations, f"sqlite:///{self.path}", "sqlite")
        elif not os.path.exists(self.path):
            raise FileNotFoundError(f"no CEE database at {self.path} (run `cee init` first)")
        if self.writer_address:
            # The writer process checkpoints; this one only sends it jobs.
            self._writer = RemoteWriter(self.writer_address)
            await self._writer.start()
        else:
            self._writer = Writer(self._connect)
            await self._writer.start()
            self._checkpointer = asyncio.create_task(
                self._checkpoint_often(), name="cee-checkpoint"
            )
        self.config_changed()

    def on_journal_append(self, callback: Callable[[], None]) -> None:
        """Call `callback` whenever the writer process reports appends to the async journal
        (however many a commit held), so that a worker elsewhere need not poll for them."""
        assert isinstance(self._writer, RemoteWriter), "only a store with a writer process"
        self._writer.on_notice = lambda notice: callback() if notice == JOURNAL_NOTICE else None

    @property
    def local_writer(self) -> Writer:
        """The writer this process owns (the writer process serves it to the others)."""
        assert isinstance(self._writer, Writer), "this store sends its writes elsewhere"
        return self._writer

    async def _checkpoint_often(self) -> None:
        """Copy the WAL into the database in the background, on a reader's thread.

        A PASSIVE checkpoint never blocks the writer. Left to the commit that crosses
        wal_autocheckpoint, the copy (tens of MB) would hold up that commit and every caller
        waiting on it: the tail of addsync's latency.
        """
        while True:
            await asyncio.sleep(CHECKPOINT_SECONDS)
            try:
                await self._read(lambda c: c.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone())
            except sqlite3.Error as exc:  # busy or locked now: the next round tries again
                log.debug("background checkpoint skipped: %s", exc)

    async def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._checkpointer
            self._checkpointer = None
        if self._writer is not None:
            await self._writer.stop()
            self._writer = None
        with self._readers_lock:
            for conn in self._readers:
                conn.close()
            self._readers.clear()

    # -- change signalling ----------------------------------------------------------------

    def config_changed(self) -> bool:
        # At most one stat() a millisecond: on the hot path each one releases the GIL, and a
        # thread that takes it (the commit helper) then holds up the event loop (profiled: ~7%
        # of the loop's time at a stat per request). Another process's change is seen in 1 ms;
        # this process's own changes reset the clock (_bump_config), so are seen at once.
        now = time.monotonic()
        if now - self._stamp_checked < STAMP_RECHECK_SECONDS:
            return False
        self._stamp_checked = now
        try:
            st = os.stat(self._stamp)
            seen = (st.st_ino, st.st_mtime_ns)
        except FileNotFoundError:
            seen = (0, 0)
        if seen == self._stamp_seen:
            return False
        self._stamp_seen = seen
        return True

    def _bump_config(self) -> None:
        self._stamp_checked = 0.0
        # A fresh file (new inode) each time: visible to stat() even within one clock tick.
        tmp = f"{self._stamp}.{os.getpid()}.{threading.get_ident()}"
        with open(tmp, "w") as f:
            f.write(str(time.time_ns()))
        os.replace(tmp, self._stamp)

    async def _admin_write(self, fn: Callable[..., T], *args: Any) -> T:
        result = await self._write(fn, *args)
        self._bump_config()
        return result

    async def is_initialised(self) -> bool:
        return bool(await self._read(lambda c: c.execute(Q.count_accounts).fetchone()[0]))

    async def applied_migrations(self) -> set[str]:
        # An open connection keeps reading a deleted file: only a look at the path tells that
        # the database is gone (an unmounted volume, a mistaken rm).
        if not os.path.exists(self.path):
            raise FileNotFoundError(f"the database file {self.path} is gone")
        rows = await self._read(lambda c: c.execute(Q.select_applied_migrations).fetchall())
        return {r[0] for r in rows}

    async def secret(self) -> bytes:
        return bytes.fromhex(await self._write(_get_or_make_secret))

    # -- accounts, users, keys ------------------------------------------------------------

    async def create_account(self, name: str, primary_key: str) -> int:
        return await self._admin_write(_insert_account, name, primary_key)

    async def accounts(self) -> list[AccountRow]:
        rows = await self._read(lambda c: c.execute(Q.select_accounts).fetchall())
        return [AccountRow(r[0], r[1], bool(r[2]), r[3], r[4]) for r in rows]

    async def set_api_mode(self, account_id: int, on: bool) -> None:
        await self._admin_write(_execute, Q.update_api_mode, (int(on), account_id))

    async def set_primary_key(self, account_id: int, attribute: str) -> None:
        await self._admin_write(_execute, Q.update_primary_key, (attribute, account_id))

    async def create_user(
        self, account_id: int, username: str, password_hash: str, is_admin: bool
    ) -> int:
        return await self._admin_write(_insert_user, account_id, username, password_hash, is_admin)

    async def users(self, account_id: int | None = None) -> list[UserRow]:
        rows = await self._read(
            lambda c: c.execute(Q.select_users, (account_id, account_id)).fetchall()
        )
        return [UserRow(r[0], r[1], r[2], bool(r[3]), bool(r[4]), r[5], r[6], r[7]) for r in rows]

    async def set_user_active(self, user_id: int, active: bool) -> None:
        await self._admin_write(_execute, Q.update_user_active, (int(active), user_id))

    async def replace_key(self, user_id: int, key_hash: str, prefix: str) -> None:
        await self._admin_write(_replace_key, user_id, key_hash, prefix)

    async def active_keys(self) -> list[KeyRow]:
        rows = await self._read(lambda c: c.execute(Q.select_active_keys).fetchall())
        return [KeyRow(r[0], r[1], r[2], r[3], bool(r[4]), bool(r[5]), r[6]) for r in rows]

    async def count_contacts(self, account_id: int) -> int:
        return int(
            await self._read(lambda c: c.execute(Q.count_contacts, (account_id,)).fetchone()[0])
        )

    # -- attributes and lists -------------------------------------------------------------

    async def attributes(self, account_id: int) -> list[Attribute]:
        rows = await self._read(lambda c: c.execute(Q.select_attributes, (account_id,)).fetchall())
        return [Attribute(r[0], Datatype(r[1]), bool(r[2])) for r in rows]

    async def all_attributes(self) -> dict[int, dict[str, Datatype]]:
        rows = await self._read(lambda c: c.execute(Q.select_all_attributes).fetchall())
        result: dict[int, dict[str, Datatype]] = {}
        for account_id, name, datatype in rows:
            result.setdefault(account_id, {})[name] = Datatype(datatype)
        return result

    async def create_attribute(self, account_id: int, name: str, datatype: Datatype) -> None:
        await self._admin_write(_insert_attribute, account_id, name, datatype.value)

    async def create_list(self, account_id: int, name: str) -> int:
        return await self._admin_write(_insert_list, account_id, name)

    async def lists(self, account_id: int) -> list[ListRow]:
        rows = await self._read(lambda c: c.execute(Q.select_lists, (account_id,)).fetchall())
        return [ListRow(*r) for r in rows]

    async def find_list(self, account_id: int, name: str) -> ListRow | None:
        row = await self._read(
            lambda c: c.execute(Q.select_list_by_name, (account_id, name)).fetchone()
        )
        return ListRow(*row) if row else None

    # -- contacts -------------------------------------------------------------------------

    async def write_contacts(
        self,
        ctx: WriteContext,
        op: ContactOp,
        records: list[ContactRecord],
        listid: int | None,
    ) -> list[Outcome]:
        if op is ContactOp.CREATE:
            # addsync: concurrent creates merge into one set of statements per transaction.
            assert self._writer is not None, "store is not open"
            outcomes: list[Outcome] = await self._writer.run_many(
                _create_contacts, (ctx, records, listid), len(records)
            )
            return outcomes
        return await self._write(_write_contacts, ctx, op, records, listid, weight=len(records))

    async def get_contact(self, account_id: int, match_key: str) -> ContactView | None:
        def read(conn: sqlite3.Connection) -> ContactView | None:
            row = conn.execute(Q.select_contact, (account_id, match_key)).fetchone()
            if row is None:
                return None
            lists = [r[0] for r in conn.execute(Q.select_contact_lists, (row[0],))]
            return ContactView(
                primary_key=row[1],
                attributes=orjson.loads(row[2]),
                lists=lists,
                email_blacklisted=bool(row[3]),
                created_at=row[4],
                updated_at=row[5],
            )

        return await self._read(read)

    async def export_page(
        self, account_id: int, listid: int | None, after: int, limit: int
    ) -> list[tuple[int, ContactView]]:
        def read(conn: sqlite3.Connection) -> list[tuple[int, ContactView]]:
            if listid is None:
                rows = conn.execute(Q.export_contacts_page, (account_id, after, limit))
            else:
                rows = conn.execute(Q.export_list_page, (account_id, listid, after, limit))
            return [
                (
                    row[0],
                    ContactView(
                        primary_key=row[1],
                        attributes=orjson.loads(row[2]),
                        lists=sorted(orjson.loads(row[6])),
                        email_blacklisted=bool(row[3]),
                        created_at=row[4],
                        updated_at=row[5],
                    ),
                )
                for row in rows
            ]

        return await self._read(read)

    async def remove_from_list(self, ctx: WriteContext, match_key: str, listid: int) -> None:
        await self._write(_remove_from_list, ctx, match_key, listid)

    async def set_blacklisted(
        self, ctx: WriteContext, record: ContactRecord, blacklisted: bool
    ) -> None:
        await self._write(_set_blacklisted, ctx, record, blacklisted)

    async def empty_list(self, ctx: WriteContext, listid: int) -> int:
        return await self._write(_empty_list, ctx, listid)

    async def erase_contact(self, ctx: WriteContext, match_key: str) -> bool:
        return await self._write(_erase_contact, ctx, match_key)

    async def history(
        self, account_id: int, match_key: str, since: str | None = None, until: str | None = None
    ) -> list[HistoryEntry]:
        rows = await self._read(
            lambda c: c.execute(
                Q.select_history, (account_id, match_key, since, since, until, until)
            ).fetchall()
        )
        return [HistoryEntry(r[0], r[1], r[2], r[3], orjson.loads(r[4])) for r in rows]

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
        where = (account_id, match_key, since, until, activity, change)

        def read(conn: sqlite3.Connection) -> tuple[int, list[Any]]:
            # One connection, one read transaction: the count and the page agree.
            conn.execute("BEGIN")
            try:
                (total,) = conn.execute(Q.count_history_page, where).fetchone()
                page = -1 if limit is None else limit  # SQLite's "no limit"
                rows = conn.execute(Q.select_history_page, (*where, page, offset)).fetchall()
            finally:
                conn.execute("COMMIT")
            return int(total), rows

        total, rows = await self._read(read)
        return total, [HistoryEntry(r[0], r[1], r[2], r[3], orjson.loads(r[4])) for r in rows]

    # -- the async journal ----------------------------------------------------------------

    async def journal_append(self, entry: JournalEntry) -> None:
        params = (
            entry.requestid,
            entry.account_id,
            entry.user_id,
            entry.key_prefix,
            entry.activity,
            _json(entry.payload),
            utcnow(),
        )
        assert self._writer is not None, "store is not open"
        # Merged: every append waiting at one commit goes in with one executemany.
        await self._writer.run_many(_append_journal, params)

    async def journal_claim(
        self, worker_id: str, limit: int, lease_seconds: float
    ) -> list[JournalEntry]:
        return await self._write(_claim_journal, worker_id, limit, lease_seconds)

    async def journal_apply(
        self,
        entry: JournalEntry,
        worker_id: str,
        op: ContactOp,
        records: list[ContactRecord | CeeError],
        listid: int | None,
    ) -> bool:
        return await self._write(
            _journal_apply, entry, worker_id, op, records, listid, weight=len(records)
        )

    async def journal_empty_list(self, entry: JournalEntry, worker_id: str, listid: int) -> bool:
        return await self._write(_journal_empty_list, entry, worker_id, listid)

    async def journal_defer_if_waiting(self, entry: JournalEntry, worker_id: str) -> bool:
        return await self._write(_defer_journal_if_waiting, entry.id, entry.account_id, worker_id)

    async def journal_claimers(self) -> list[str]:
        rows = await self._read(lambda c: c.execute(Q.select_journal_claimers).fetchall())
        return [r[0] for r in rows]

    async def journal_release(self, worker_id: str) -> int:
        return await self._write(_release_journal_claims, worker_id)

    async def journal_status(self, account_id: int, requestid: str) -> JournalStatus | None:
        row = await self._read(
            lambda c: c.execute(Q.select_journal_status, (account_id, requestid)).fetchone()
        )
        if row is None:
            return None
        return JournalStatus(row[0], row[1], row[2], orjson.loads(row[3]) if row[3] else None)

    async def journal_depth(self) -> tuple[int, float]:
        count, oldest = await self._read(lambda c: c.execute(Q.journal_depth).fetchone())
        if not count:
            return 0, 0.0
        age = datetime.now(UTC) - datetime.fromisoformat(oldest)
        return int(count), max(age / timedelta(seconds=1), 0.0)


# -- write jobs: module-level functions of the write connection (see SqliteStore._write) ----------


def _execute(conn: sqlite3.Connection, sql: str, params: tuple[Any, ...]) -> None:
    conn.execute(sql, params)


def _get_or_make_secret(conn: sqlite3.Connection) -> str:
    row = conn.execute(Q.get_meta, ("key_secret",)).fetchone()
    if row is not None:
        return str(row[0])
    value = new_secret()
    conn.execute(Q.put_meta, ("key_secret", value))
    return value


def _insert_account(conn: sqlite3.Connection, name: str, primary_key: str) -> int:
    now = utcnow()
    try:
        account_id = int(conn.execute(Q.insert_account, (name, primary_key, now)).fetchone()[0])
    except sqlite3.IntegrityError:
        raise Duplicate.entry(name, "account") from None
    for attr, datatype in BUILTIN_ATTRIBUTES.items():
        conn.execute(Q.insert_attribute, (account_id, attr, datatype.value, 1, now))
    return account_id


def _insert_user(
    conn: sqlite3.Connection, account_id: int, username: str, password_hash: str, is_admin: bool
) -> int:
    try:
        row = conn.execute(
            Q.insert_user, (account_id, username, password_hash, int(is_admin), utcnow())
        ).fetchone()
    except sqlite3.IntegrityError:
        raise Duplicate.entry(username, "username") from None
    return int(row[0])


def _replace_key(conn: sqlite3.Connection, user_id: int, key_hash: str, prefix: str) -> None:
    now = utcnow()
    conn.execute(Q.revoke_user_keys, (now, user_id))
    conn.execute(Q.insert_key, (user_id, key_hash, prefix, now))


def _insert_attribute(conn: sqlite3.Connection, account_id: int, name: str, datatype: str) -> None:
    row = conn.execute(Q.insert_attribute, (account_id, name, datatype, 0, utcnow())).fetchone()
    if row is None:
        raise Duplicate.entry(name, "attribute")


def _insert_list(conn: sqlite3.Connection, account_id: int, name: str) -> int:
    row = conn.execute(Q.insert_list, (account_id, name, utcnow())).fetchone()
    if row is None:
        raise Duplicate.entry(name, "listname")
    return int(row[0])


def _remove_from_list(
    conn: sqlite3.Connection, ctx: WriteContext, match_key: str, listid: int
) -> None:
    _require_list(conn, ctx.account_id, listid)
    row = conn.execute(Q.select_contact_for_update, (ctx.account_id, match_key)).fetchone()
    if row is None:
        raise NotFound(f"data: no contact '{match_key}' in this account")
    if conn.execute(Q.delete_member, (listid, row[0])).fetchone() is None:
        raise NotFound(f"data: contact '{match_key}' is not in list {listid}")
    _history(conn, ctx, match_key, {"_list_left": listid}, utcnow())


def _set_blacklisted(
    conn: sqlite3.Connection, ctx: WriteContext, record: ContactRecord, blacklisted: bool
) -> None:
    now = utcnow()
    row = conn.execute(Q.select_contact_for_update, (ctx.account_id, record.key)).fetchone()
    if row is None:
        attributes = record.stored_attributes()
        row = conn.execute(
            Q.insert_contact,
            (ctx.account_id, record.key, record.key_display, _json(attributes), now, now),
        ).fetchone()
        _history(conn, ctx, record.key, creation_changes(attributes), now)
        before = False
    else:
        before = bool(row[2])
    if before != blacklisted:
        conn.execute(Q.update_contact_blacklist, (int(blacklisted), now, row[0]))
        _history(conn, ctx, record.key, {"_blacklisted": [before, blacklisted]}, now)


def _erase_contact(conn: sqlite3.Connection, ctx: WriteContext, match_key: str) -> bool:
    row = conn.execute(Q.select_contact_for_update, (ctx.account_id, match_key)).fetchone()
    conn.execute(Q.delete_history, (ctx.account_id, match_key))
    if row is None:
        return False
    conn.execute(Q.delete_contact_members, (row[0],))
    conn.execute(Q.delete_contact, (row[0],))
    return True


def _claim_journal(
    conn: sqlite3.Connection, worker_id: str, limit: int, lease_seconds: float
) -> list[JournalEntry]:
    now = time.time()
    rows = conn.execute(Q.claim_journal, (worker_id, now + lease_seconds, now, limit)).fetchall()
    return sorted(
        (JournalEntry(r[0], r[1], r[2], r[3], r[4], r[5], orjson.loads(r[6]), r[7]) for r in rows),
        key=lambda e: e.id,
    )


def _journal_apply(
    conn: sqlite3.Connection,
    entry: JournalEntry,
    worker_id: str,
    op: ContactOp,
    records: list[ContactRecord | CeeError],
    listid: int | None,
) -> bool:
    if conn.execute(Q.check_claim, (entry.id, worker_id)).fetchone() is None:
        return False
    ctx = WriteContext(entry.account_id, entry.requestid, entry.key_prefix, entry.activity)
    valid = [r for r in records if isinstance(r, ContactRecord)]
    written: list[Outcome]
    try:
        written = _write_contacts(conn, ctx, op, valid, listid) if valid else []
    except NotFound as missing_list:
        written = [missing_list for _ in valid]
    outcomes = iter(written)
    merged = [r if isinstance(r, CeeError) else next(outcomes) for r in records]
    conn.execute(
        Q.finish_journal,
        (result_word(merged), _json(stored_report(merged)), utcnow(), entry.id),
    )
    return True


def _journal_empty_list(
    conn: sqlite3.Connection, entry: JournalEntry, worker_id: str, listid: int
) -> bool:
    if conn.execute(Q.check_claim, (entry.id, worker_id)).fetchone() is None:
        return False
    ctx = WriteContext(entry.account_id, entry.requestid, entry.key_prefix, entry.activity)
    outcome: Outcome = None
    try:
        _empty_list(conn, ctx, listid)
    except NotFound as missing_list:
        outcome = missing_list
    conn.execute(
        Q.finish_journal,
        (result_word([outcome]), _json(stored_report([outcome])), utcnow(), entry.id),
    )
    return True


def _defer_journal_if_waiting(
    conn: sqlite3.Connection, entry_id: int, account_id: int, worker_id: str
) -> bool:
    # One write job: the check and the deferral see the same journal (the writer is alone).
    if conn.execute(Q.journal_waits, (entry_id, account_id, worker_id)).fetchone() is None:
        return False
    conn.execute(Q.defer_journal, (entry_id, worker_id))
    return True


def _release_journal_claims(conn: sqlite3.Connection, worker_id: str) -> int:
    return len(conn.execute(Q.release_journal_claims, (worker_id,)).fetchall())


def is_journal_append(fn: Any) -> bool:
    """Whether a write job appends to the async journal (the writer process then wakes its
    worker at once rather than at its next poll)."""
    return fn is _append_journal


def _append_journal(conn: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> list[None]:
    conn.executemany(Q.insert_journal, rows)
    return [None for _ in rows]


def _require_list(conn: sqlite3.Connection, account_id: int, listid: int) -> None:
    if conn.execute(Q.list_exists, (listid, account_id)).fetchone() is None:
        raise NotFound(f"listid: list {listid} does not exist in this account")


def _empty_list(conn: sqlite3.Connection, ctx: WriteContext, listid: int) -> int:
    _require_list(conn, ctx.account_id, listid)
    now = utcnow()
    keys = [r[0] for r in conn.execute(Q.select_member_keys, (listid,))]
    for key in keys:
        _history(conn, ctx, key, {"_list_left": listid}, now)
    conn.execute(Q.delete_all_members, (listid,))
    return len(keys)


def _history(
    conn: sqlite3.Connection, ctx: WriteContext, key: str, changes: dict[str, Any], now: str
) -> None:
    who = (ctx.requestid, ctx.key_prefix, ctx.activity)
    # The contact's id, the last parameter, is left to the statement to look up.
    conn.execute(Q.insert_history, (ctx.account_id, key, *who, _json(changes), now, None))


_CreateJob = tuple[WriteContext, list[ContactRecord], int | None]


def _create_contacts(
    conn: sqlite3.Connection, jobs: list[_CreateJob]
) -> list[list[Outcome] | NotFound]:
    """Create the records of many addsync requests at once (the writer merges them).

    Per job, the same outcomes as `_write_contacts` with CREATE: Duplicate for a key that exists
    (or came earlier in the same batch), NotFound for the whole job if its list does not exist.
    A handful of statements per transaction rather than a few per record: each statement
    re-takes the GIL from the event loop, which is what bounded the hot path.
    """
    now = utcnow()
    missing: dict[tuple[int, int], NotFound] = {}
    for owner, wanted in {(ctx.account_id, lid) for ctx, _, lid in jobs if lid is not None}:
        try:
            _require_list(conn, owner, wanted)
        except NotFound as exc:
            missing[owner, wanted] = exc
    rows: list[tuple[Any, ...]] = []
    for ctx, records, listid in jobs:
        if listid is None or (ctx.account_id, listid) not in missing:
            for record in records:
                attributes = record.stored_attributes()
                rows.append((ctx.account_id, record.key, record.key_display, attributes, now, now))
    # New rows get ids above the current maximum (INTEGER PRIMARY KEY without AUTOINCREMENT),
    # so one query after the insert says which keys were created, without RETURNING a row
    # per record.
    (last,) = conn.execute(Q.max_contact_id).fetchone()
    conn.executemany(Q.insert_contact, [(*r[:3], _json(r[3]), *r[4:]) for r in rows])
    (created_json,) = conn.execute(Q.select_contacts_created_after, (last,)).fetchone()
    created = {(account, key): cid for cid, account, key in orjson.loads(created_json)}
    results: list[list[Outcome] | NotFound] = []
    members: list[tuple[int, int, str]] = []
    history: list[tuple[Any, ...]] = []
    at = iter(rows)
    for ctx, records, listid in jobs:
        if listid is not None and (ctx.account_id, listid) in missing:
            results.append(missing[ctx.account_id, listid])
            continue
        outcomes: list[Outcome] = []
        for record in records:
            attributes = next(at)[3]
            contact_id = created.pop((ctx.account_id, record.key), None)
            if contact_id is None:  # it existed, or an earlier record of the batch made it
                outcomes.append(Duplicate.entry(record.key_display, "uniqid"))
                continue
            changes: dict[str, Any] = creation_changes(attributes)
            if listid is not None:
                members.append((listid, contact_id, now))
                changes["_list_joined"] = listid
            who = (ctx.requestid, ctx.key_prefix, ctx.activity)
            history.append((ctx.account_id, record.key, *who, _json(changes), now, contact_id))
            outcomes.append(None)
        results.append(outcomes)
    if members:
        conn.executemany(Q.insert_member, members)
    conn.executemany(Q.insert_history, history)
    return results


def _write_contacts(
    conn: sqlite3.Connection,
    ctx: WriteContext,
    op: ContactOp,
    records: list[ContactRecord],
    listid: int | None,
) -> list[Outcome]:
    if listid is not None:
        _require_list(conn, ctx.account_id, listid)
    now = utcnow()
    account_id = ctx.account_id
    outcomes: list[Outcome] = []
    for record in records:
        changes: dict[str, Any] | None
        if op is ContactOp.CREATE:
            attributes = record.stored_attributes()
            row = conn.execute(
                Q.insert_contact,
                (account_id, record.key, record.key_display, _json(attributes), now, now),
            ).fetchone()
            if row is None:
                outcomes.append(Duplicate.entry(record.key_display, "uniqid"))
                continue
            contact_id, changes = row[0], creation_changes(attributes)
        else:
            found = conn.execute(Q.select_contact_for_update, (account_id, record.key)).fetchone()
            if found is None and op is ContactOp.UPDATE:
                outcomes.append(NotFound(f"data: no contact '{record.key_display}' to update"))
                continue
            if found is None:
                attributes = record.stored_attributes()
                contact_id = conn.execute(
                    Q.insert_contact,
                    (account_id, record.key, record.key_display, _json(attributes), now, now),
                ).fetchone()[0]
                changes = creation_changes(attributes)
            else:
                contact_id = found[0]
                merged, changes = merge_attributes(orjson.loads(found[1]), record.attributes)
                if changes:
                    conn.execute(Q.update_contact_attributes, (_json(merged), now, contact_id))
        if (
            listid is not None
            and conn.execute(Q.insert_member, (listid, contact_id, now)).fetchone()
        ):
            changes = {**changes, "_list_joined": listid}
        if changes:
            _history(conn, ctx, record.key, changes, now)
        outcomes.append(None)
    return outcomes
