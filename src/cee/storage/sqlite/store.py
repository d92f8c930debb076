"""The embedded SQLite store: WAL, synchronous=FULL, one group-commit writer, reads on threads.

This module is the store's front: connections, the configuration stamp, and the reads. Every
write is a named job of the closed table in `jobs.py` (its SQL in `accounts.py`, `contacts.py`,
`journal.py`, as the queries are in `sql/sqlite/<resource>.sql`), run by this process's writer
or, with `cee serve --processes`, sent by name to the writer process (`remote.py`).
"""

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

from cee.domain.attributes import Attribute, Datatype
from cee.domain.contacts import ContactRecord
from cee.domain.errors import CeeError
from cee.domain.journal import JournalEntry
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
from cee.storage.sqlite import contacts
from cee.storage.sqlite.bulk import SqliteBulk
from cee.storage.sqlite.connection import Q, connect, dump, utcnow
from cee.storage.sqlite.jobs import JOBS, Job
from cee.storage.sqlite.jobs import is_journal_append as is_journal_append
from cee.storage.sqlite.ops import SqliteOps
from cee.storage.sqlite.panel import SqlitePanel
from cee.storage.sqlite.remote import JOURNAL_NOTICE, RemoteWriter
from cee.storage.sqlite.writer import Writer

T = TypeVar("T")
log = logging.getLogger(__name__)
# How often the WAL is copied into the database file in the background. Often, so that each copy
# is small: at 1 s under addsync load a copy grew to tens of MB, whose writes and fsync slowed the
# commits beside it (make bench: addsync p99 24 ms at 1 s, 12-13 ms at 0.1 s).
CHECKPOINT_SECONDS = 0.1
STAMP_RECHECK_SECONDS = 0.001


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
        # Reads running on their threads. A task awaiting a read can be cancelled (the
        # background checkpoint is, at close) while its thread goes on using the connection;
        # closing that connection under it crashed the process (SIGSEGV), so close waits.
        self._reads_running = 0
        self._reads_done = threading.Condition(self._readers_lock)

    # -- connections ----------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        return connect(self.path)

    def _reader(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
            with self._readers_lock:
                self._readers.append(conn)
        return conn

    def _run_read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        with self._readers_lock:
            self._reads_running += 1
        try:
            return fn(self._reader())
        finally:
            with self._readers_lock:
                self._reads_running -= 1
                self._reads_done.notify_all()

    async def _read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        return await asyncio.to_thread(self._run_read, fn)

    def _close_readers(self) -> None:
        with self._readers_lock:
            self._reads_done.wait_for(lambda: self._reads_running == 0, timeout=30)
            for conn in self._readers:
                conn.close()
            self._readers.clear()

    async def _write(self, name: str, *args: Any, weight: int = 1) -> Any:
        """Run the write job `name` (of `jobs.JOBS`) with `args` in the next group commit.

        A `many` job takes one item, merged with the other waiting items of that job.
        """
        job: Job = JOBS[name]
        writer = self._writer
        if isinstance(writer, Writer):
            if job.many:
                value = await writer.submit_many(job.fn, args[0], weight)
                if isinstance(value, Exception):
                    raise value
            elif job.background:
                value = await writer.run_in_steps(job.fn, *args)
            else:
                value = await writer.run(job.fn, *args, weight=weight, quiet=job.quiet)
        else:
            assert writer is not None, "store is not open"
            value = await writer.call(job, args, weight)
        if job.config:
            self._bump_config()
        return value

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
        await asyncio.to_thread(self._close_readers)

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
        return bytes.fromhex(await self._write("get_or_make_secret"))

    # -- accounts, users, keys ------------------------------------------------------------

    async def create_account(self, name: str, primary_key: str) -> int:
        return await self._write("insert_account", name, primary_key)

    async def accounts(self) -> list[AccountRow]:
        rows = await self._read(lambda c: c.execute(Q.select_accounts).fetchall())
        return [AccountRow(r[0], r[1], bool(r[2]), r[3], r[4]) for r in rows]

    async def set_api_mode(self, account_id: int, on: bool) -> None:
        await self._write("update_api_mode", account_id, on)

    async def set_primary_key(self, account_id: int, attribute: str) -> None:
        await self._write("update_primary_key", account_id, attribute)

    async def create_user(
        self, account_id: int, username: str, password_hash: str, is_admin: bool
    ) -> int:
        return await self._write("insert_user", account_id, username, password_hash, is_admin)

    async def users(self, account_id: int | None = None) -> list[UserRow]:
        rows = await self._read(
            lambda c: c.execute(Q.select_users, (account_id, account_id)).fetchall()
        )
        return [UserRow(r[0], r[1], r[2], bool(r[3]), bool(r[4]), r[5], r[6], r[7]) for r in rows]

    async def set_user_active(self, user_id: int, active: bool) -> None:
        await self._write("update_user_active", user_id, active)

    async def replace_key(self, user_id: int, key_hash: str, prefix: str) -> None:
        await self._write("replace_key", user_id, key_hash, prefix)

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
        await self._write("insert_attribute", account_id, name, datatype.value)

    async def create_list(self, account_id: int, name: str) -> int:
        return await self._write("insert_list", account_id, name)

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
        outcomes: list[Outcome]
        if op is ContactOp.CREATE:
            # addsync: concurrent creates merge into one set of statements per transaction.
            outcomes = await self._write(
                "create_contacts", (ctx, records, listid), weight=len(records)
            )
        else:
            outcomes = await self._write(
                "write_contacts", ctx, op, records, listid, weight=len(records)
            )
        return outcomes

    async def get_contact(self, account_id: int, match_key: str) -> ContactView | None:
        return await self._read(lambda c: contacts.read_contact(c, account_id, match_key))

    async def export_page(
        self, account_id: int, listid: int | None, after: int, limit: int
    ) -> list[tuple[int, ContactView]]:
        return await self._read(lambda c: contacts.read_page(c, account_id, listid, after, limit))

    async def remove_from_list(self, ctx: WriteContext, match_key: str, listid: int) -> None:
        await self._write("remove_from_list", ctx, match_key, listid)

    async def set_blacklisted(
        self, ctx: WriteContext, record: ContactRecord, blacklisted: bool
    ) -> None:
        await self._write("set_blacklisted", ctx, record, blacklisted)

    async def empty_list(self, ctx: WriteContext, listid: int) -> int:
        return await self._write("empty_list", ctx, listid)

    async def erase_contact(self, ctx: WriteContext, match_key: str) -> bool:
        return await self._write("erase_contact", ctx, match_key)

    async def history(
        self, account_id: int, match_key: str, since: str | None = None, until: str | None = None
    ) -> list[HistoryEntry]:
        return await self._read(
            lambda c: contacts.read_history(c, account_id, match_key, since, until)
        )

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
        return await self._read(lambda c: contacts.read_history_page(c, where, offset, limit))

    # -- the async journal ----------------------------------------------------------------

    async def journal_append(self, entry: JournalEntry) -> None:
        params = (
            entry.requestid,
            entry.account_id,
            entry.user_id,
            entry.key_prefix,
            entry.activity,
            dump(entry.payload),
            utcnow(),
        )
        # Merged: every append waiting at one commit goes in with one executemany.
        await self._write("append_journal", params)

    async def journal_claim(
        self, worker_id: str, limit: int, lease_seconds: float
    ) -> list[JournalEntry]:
        return await self._write("claim_journal", worker_id, limit, lease_seconds)

    async def journal_apply(
        self,
        entry: JournalEntry,
        worker_id: str,
        op: ContactOp,
        records: list[ContactRecord | CeeError],
        listid: int | None,
    ) -> bool:
        # Merged: a worker's batch, handed in together, is applied as one job (journal.py).
        applied: bool = await self._write(
            "journal_apply", (entry, worker_id, op, records, listid), weight=len(records)
        )
        return applied

    async def journal_empty_list(self, entry: JournalEntry, worker_id: str, listid: int) -> bool:
        return await self._write("journal_empty_list", entry, worker_id, listid)

    async def journal_defer_if_waiting(self, entry: JournalEntry, worker_id: str) -> bool:
        return await self._write("defer_journal_if_waiting", entry.id, entry.account_id, worker_id)

    async def journal_claimers(self) -> list[str]:
        rows = await self._read(lambda c: c.execute(Q.select_journal_claimers).fetchall())
        return [r[0] for r in rows]

    async def journal_release(self, worker_id: str) -> int:
        return await self._write("release_journal_claims", worker_id)

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
