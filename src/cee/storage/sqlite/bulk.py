"""Bulk imports on SQLite: the `BulkStore` methods of `SqliteStore`, and their write jobs.

Every write is a named job of the closed table in `jobs.py`, run in the writer's next group
commit (sent by name to a writer process under `--processes`). A chunk's contacts are
upserted exactly as `add` upserts them, in set-based statements (`upsert_chunk`), in the same
transaction as the job's progress.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import orjson

from cee.domain.contacts import ContactRecord, creation_changes, merge_attributes
from cee.domain.keys import new_secret
from cee.domain.writes import WriteContext
from cee.storage.bulk import BulkJob, Chunk, StoredReject
from cee.storage.sqlite.connection import Q, utcnow
from cee.storage.sqlite.contacts import require_list

T = TypeVar("T")


class _Connections(Protocol):
    async def _write(self, name: str, *args: Any, weight: int = 1) -> Any: ...

    async def _read(self, fn: Callable[[sqlite3.Connection], T]) -> T: ...


def _job(row: Any) -> BulkJob:
    values = list(row)
    values[18] = orjson.loads(values[18])  # notes
    return BulkJob(*values)


class SqliteBulk:
    """Mixed into SqliteStore: the bulk-import methods of the store interface."""

    async def bulk_create(self: _Connections, job: BulkJob) -> None:
        params = (
            job.requestid,
            job.account_id,
            job.user_id,
            job.key_prefix,
            job.path,
            job.listid,
            job.callback,
            job.notifyemail,
            utcnow(),
        )
        await self._write("insert_bulk_job", *params)

    async def bulk_claim(
        self: _Connections, worker_id: str, limit: int, lease_seconds: float
    ) -> list[BulkJob]:
        return await self._write("claim_bulk_jobs", worker_id, limit, lease_seconds)

    async def bulk_renew(
        self: _Connections, job_id: int, worker_id: str, lease_seconds: float
    ) -> bool:
        params = (time.time() + lease_seconds, job_id, worker_id)
        return await self._write("renew_bulk_job", *params)

    async def bulk_chunk(
        self: _Connections, job: BulkJob, worker_id: str, chunk: Chunk, lease_seconds: float
    ) -> bool:
        weight = max(len(chunk.records), 1)
        return await self._write("bulk_chunk", job, worker_id, chunk, lease_seconds, weight=weight)

    async def bulk_finish(
        self: _Connections, job_id: int, worker_id: str, result: str, reason: str | None
    ) -> bool:
        params = (result, reason, utcnow(), job_id, worker_id)
        return await self._write("finish_bulk_job", *params)

    async def bulk_note(
        self: _Connections, job_id: int, worker_id: str, notes: dict[str, Any], *, done: bool
    ) -> bool:
        params = (orjson.dumps(notes).decode(), done, done, job_id, worker_id)
        return await self._write("note_bulk_job", *params)

    async def bulk_job(self: _Connections, account_id: int, requestid: str) -> BulkJob | None:
        row = await self._read(
            lambda c: c.execute(Q.select_bulk_job, (account_id, requestid)).fetchone()
        )
        return None if row is None else _job(row)

    async def bulk_rejects(
        self: _Connections, job_id: int, offset: int, limit: int
    ) -> list[StoredReject]:
        rows = await self._read(
            lambda c: c.execute(Q.select_bulk_rejects, (job_id, limit, offset)).fetchall()
        )
        return [StoredReject(r[0], r[1], r[2], r[3], orjson.loads(r[4])) for r in rows]

    async def bulk_forget(self: _Connections, account_id: int, match_key: str) -> int:
        return await self._write("delete_bulk_rejects_of", account_id, match_key)

    async def bulk_claimers(self: _Connections) -> list[str]:
        rows = await self._read(lambda c: c.execute(Q.select_bulk_claimers).fetchall())
        return [r[0] for r in rows]

    async def bulk_release(self: _Connections, worker_id: str) -> int:
        return await self._write("release_bulk_claims", worker_id)

    async def find_webhook_secret(self: _Connections, account_id: int) -> str | None:
        row = await self._read(
            lambda c: c.execute(Q.select_webhook_secret, (account_id,)).fetchone()
        )
        return None if row is None else str(row[0])

    async def webhook_secret(self: _Connections, account_id: int, *, rotate: bool = False) -> str:
        return await self._write("webhook_secret", account_id, rotate)


# -- write jobs ----------------------------------------------------------------------------------


def claim_bulk_jobs(
    conn: sqlite3.Connection, worker_id: str, limit: int, lease_seconds: float
) -> list[BulkJob]:
    now = time.time()
    rows = conn.execute(Q.claim_bulk_jobs, (worker_id, now + lease_seconds, now, limit)).fetchall()
    return sorted((_job(r) for r in rows), key=lambda j: j.id)


def bulk_chunk(
    conn: sqlite3.Connection, job: BulkJob, worker_id: str, chunk: Chunk, lease_seconds: float
) -> bool:
    progress = (
        chunk.rows_done,
        chunk.bytes_done,
        chunk.bytes_total,
        len(chunk.records),
        len(chunk.rejects),
        time.time() + lease_seconds,
        job.id,
        worker_id,
    )
    if conn.execute(Q.advance_bulk_job, progress).fetchone() is None:
        return False
    if chunk.records:
        # NotFound if the list was deleted since the job was accepted: raised, this job's
        # transaction (progress included) rolls back and the import fails naming the list.
        ctx = WriteContext(job.account_id, job.requestid, job.key_prefix, "bulkupload")
        upsert_chunk(conn, ctx, chunk.records, job.listid)
    conn.executemany(
        Q.insert_bulk_reject,
        [
            (
                job.id,
                r.index,
                r.line,
                r.error.name,
                r.error.details,
                orjson.dumps(r.fields).decode(),
            )
            for r in chunk.rejects
        ],
    )
    return True


@dataclass(slots=True)
class _Contact:
    """A chunk's view of one contact while its records are applied in order."""

    id: int | None  # None for a contact this chunk creates, until it is inserted
    attributes: dict[str, Any]
    member: bool = False  # of the chunk's list
    record: ContactRecord | None = None  # the record that creates it
    dirty: bool = False  # an existing contact whose attributes changed
    joined: bool = False  # joins the list in this chunk


def upsert_chunk(
    conn: sqlite3.Connection, ctx: WriteContext, records: list[ContactRecord], listid: int | None
) -> None:
    """The upsert of `add` (`_write_contacts` with UPSERT) for thousands of records at once.

    The same outcome, row for row and history entry for history entry, as applying the records
    one after another (a key given twice merges into what the first made), but in a handful of
    statements instead of three or four per record: one read of the existing contacts (and
    their membership), then one executemany each for inserts, updates, memberships and history.
    Per-record statements were ~30 s of a million-row import; this is a few.
    """
    account_id = ctx.account_id
    if listid is not None:
        require_list(conn, account_id, listid)
    now = utcnow()
    keys = list(dict.fromkeys(r.key for r in records))
    contacts: dict[str, _Contact] = {
        key: _Contact(cid, orjson.loads(attributes))
        for cid, key, attributes in conn.execute(
            Q.select_contacts_by_keys, (account_id, orjson.dumps(keys).decode())
        )
    }
    if listid is not None and contacts:
        ids = orjson.dumps([c.id for c in contacts.values()]).decode()
        members = {row[0] for row in conn.execute(Q.select_members_among, (listid, ids))}
        for contact in contacts.values():
            contact.member = contact.id in members
    history: list[tuple[str, dict[str, Any], _Contact]] = []
    for record in records:
        found = contacts.get(record.key)
        changes: dict[str, Any]
        if found is None:
            attributes = record.stored_attributes()
            contact = contacts[record.key] = _Contact(None, attributes, record=record)
            changes = creation_changes(attributes)
        else:
            contact = found
            merged, changes = merge_attributes(contact.attributes, record.attributes)
            if changes:
                contact.attributes = merged
                contact.dirty = contact.id is not None
        if listid is not None and not contact.member:
            contact.member = contact.joined = True
            changes = {**changes, "_list_joined": listid}
        if changes:
            history.append((record.key, changes, contact))
    created = [c for c in contacts.values() if c.record is not None]
    if created:
        (last,) = conn.execute(Q.max_contact_id).fetchone()
        conn.executemany(
            Q.insert_contact,
            [
                (account_id, c.record.key, c.record.key_display, _dumps(c.attributes), now, now)
                for c in created
                if c.record is not None
            ],
        )
        (made_json,) = conn.execute(Q.select_contacts_created_after, (last,)).fetchone()
        made = {key: cid for cid, owner, key in orjson.loads(made_json) if owner == account_id}
        for contact in created:
            assert contact.record is not None
            contact.id = made[contact.record.key]
    conn.executemany(
        Q.update_contact_attributes,
        [(_dumps(c.attributes), now, c.id) for c in contacts.values() if c.dirty],
    )
    if listid is not None:
        conn.executemany(
            Q.insert_member, [(listid, c.id, now) for c in contacts.values() if c.joined]
        )
    who = (ctx.requestid, ctx.key_prefix, ctx.activity)
    conn.executemany(
        Q.insert_history,
        [(account_id, key, *who, _dumps(changes), now, c.id) for key, changes, c in history],
    )


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def webhook_secret(conn: sqlite3.Connection, account_id: int, rotate: bool) -> str:
    if rotate:
        conn.execute(Q.put_webhook_secret, (account_id, new_secret(), utcnow()))
    else:
        conn.execute(Q.make_webhook_secret, (account_id, new_secret(), utcnow()))
    return str(conn.execute(Q.select_webhook_secret, (account_id,)).fetchone()[0])
