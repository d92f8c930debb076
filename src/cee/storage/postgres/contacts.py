"""Contact writes on PostgreSQL: a few set-based statements per batch, not one per record.

`create_batch` is the addsync hot path for a whole group commit (every caller waiting at once);
`write_records` is upsert/update for one caller; both keep the semantics of the SQLite store
(`cee.storage.sqlite.store._write_contacts`): per-record outcomes in order, a history entry per
record that changed something, `_list_joined` on the entry of the record that joined the list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from cee.domain.contacts import ContactRecord, creation_changes, merge_attributes
from cee.domain.errors import Duplicate, NotFound
from cee.domain.writes import ContactOp, WriteContext
from cee.storage.base import Outcome
from cee.storage.postgres.writer import Connection, RetryJob
from cee.storage.queries import Queries

Q = Queries("postgres")


def dump(value: Any) -> str:
    return orjson.dumps(value).decode()


@dataclass(frozen=True, slots=True)
class CreateJob:
    """One addsync caller's records, waiting to be merged into the next group commit."""

    ctx: WriteContext
    records: list[ContactRecord]
    listid: int | None


def missing_list(listid: int) -> NotFound:
    return NotFound(f"listid: list {listid} does not exist in this account")


async def list_owners(conn: Connection, listids: set[int]) -> dict[int, int]:
    if not listids:
        return {}
    return {r[0]: r[1] for r in await conn.fetch(Q.list_exists, list(listids))}


class _NewContacts:
    """The rows of the insert-contact statement, one object per new contact."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def add(
        self,
        ctx: WriteContext,
        record: ContactRecord,
        attributes: dict[str, Any],
        listid: int | None,
        changes: dict[str, Any] | None,
    ) -> None:
        self.rows.append(
            {
                "account_id": ctx.account_id,
                "match_key": record.key,
                "key_display": record.key_display,
                "attributes": attributes,
                "list_id": listid,
                "changes": changes,
                "requestid": ctx.requestid,
                "key_prefix": ctx.key_prefix,
                "activity": ctx.activity,
            }
        )

    def __len__(self) -> int:
        return len(self.rows)

    async def insert(self, conn: Connection) -> list[Any]:
        """Insert; the rows (id, account_id, match_key) of the contacts actually created."""
        return list(await conn.fetch(Q.insert_contact, dump(self.rows)))


async def create_batch(conn: Connection, jobs: list[CreateJob]) -> list[list[Outcome] | NotFound]:
    """Every waiting addsync caller in one statement; per caller its outcomes (or NotFound)."""
    owners = await list_owners(conn, {j.listid for j in jobs if j.listid is not None})
    results: list[list[Outcome] | NotFound] = []
    first: dict[tuple[int, str], tuple[int, int]] = {}  # (account, key) -> (job, record)
    new = _NewContacts()
    for j, job in enumerate(jobs):
        account_id = job.ctx.account_id
        if job.listid is not None and owners.get(job.listid) != account_id:
            results.append(missing_list(job.listid))
            continue
        outcomes: list[Outcome] = [None] * len(job.records)
        for r, record in enumerate(job.records):
            if (account_id, record.key) in first:
                # The same key twice in one commit: the first one given creates it.
                outcomes[r] = Duplicate.entry(record.key_display, "uniqid")
                continue
            first[(account_id, record.key)] = (j, r)
            attributes = record.stored_attributes()
            changes: dict[str, Any] = creation_changes(attributes)
            if job.listid is not None:
                changes["_list_joined"] = job.listid
            new.add(job.ctx, record, attributes, job.listid, changes)
        results.append(outcomes)
    if not len(new):
        return results
    created = {(row[1], row[2]) for row in await new.insert(conn)}
    for pair, (j, r) in first.items():
        if pair not in created:
            losers = results[j]
            assert isinstance(losers, list)
            losers[r] = Duplicate.entry(jobs[j].records[r].key_display, "uniqid")
    return results


@dataclass(slots=True)
class _Contact:
    id: int | None  # None until inserted
    attributes: dict[str, Any]
    record: ContactRecord | None = None  # the record that creates it, for a new contact
    dirty: bool = False
    history: list[int] = field(default_factory=list)  # its entries' positions


async def write_records(
    conn: Connection,
    ctx: WriteContext,
    op: ContactOp,
    records: list[ContactRecord],
    listid: int | None,
) -> list[Outcome]:
    """Upsert (add) or update one caller's records with set-based statements.

    Raises NotFound, writing nothing, if `listid` is not a list of the account; RetryJob if a
    concurrent transaction created one of the keys meanwhile.
    """
    if op is ContactOp.CREATE:
        [result] = await create_batch(conn, [CreateJob(ctx, records, listid)])
        if isinstance(result, NotFound):
            raise result
        return result
    if listid is not None and (await list_owners(conn, {listid})).get(listid) != ctx.account_id:
        raise missing_list(listid)
    keys = sorted({r.key for r in records})
    found = await conn.fetch(Q.select_contact_for_update, ctx.account_id, keys)
    contacts = {row[1]: _Contact(row[0], orjson.loads(row[2])) for row in found}
    outcomes: list[Outcome] = []
    entries: list[tuple[str, dict[str, Any]]] = []
    for record in records:
        contact = contacts.get(record.key)
        changes: dict[str, Any]
        if contact is None:
            if op is ContactOp.UPDATE:
                outcomes.append(NotFound(f"data: no contact '{record.key_display}' to update"))
                continue
            attributes = record.stored_attributes()
            contact = contacts[record.key] = _Contact(None, attributes, record)
            changes = creation_changes(attributes)
        else:
            merged, changes = merge_attributes(contact.attributes, record.attributes)
            if changes:
                contact.attributes = merged
                contact.dirty = contact.id is not None
        contact.history.append(len(entries))
        entries.append((record.key, changes))
        outcomes.append(None)

    created = [c for c in contacts.values() if c.id is None]
    if created:
        new = _NewContacts()
        for contact in created:
            assert contact.record is not None
            new.add(ctx, contact.record, contact.attributes, listid, None)
        rows = await new.insert(conn)
        if len(rows) != len(created):
            raise RetryJob()
        ids = {row[2]: row[0] for row in rows}
        for contact in created:
            assert contact.record is not None
            contact.id = ids[contact.record.key]
    dirty = [c for c in contacts.values() if c.dirty]
    if dirty:
        await conn.execute(
            Q.update_contact_attributes,
            [c.id for c in dirty],
            [dump(c.attributes) for c in dirty],
        )
    if listid is not None:
        # New contacts joined in the insert; existing ones join here unless already members.
        existing = [c.id for c in contacts.values() if c.record is None and c.history]
        joined_ids = {r[0] for r in await conn.fetch(Q.insert_member, listid, existing)}
        for contact in contacts.values():
            if contact.history and (contact.record is not None or contact.id in joined_ids):
                key, changes = entries[contact.history[0]]
                entries[contact.history[0]] = (key, {**changes, "_list_joined": listid})
    await insert_history(conn, ctx, [(key, changes) for key, changes in entries if changes])
    return outcomes


async def insert_history(
    conn: Connection, ctx: WriteContext, entries: list[tuple[str, dict[str, Any]]]
) -> None:
    """One request's history entries (match key, changes), in order, in one statement."""
    if not entries:
        return
    await conn.execute(
        Q.insert_history,
        ctx.account_id,
        ctx.requestid,
        ctx.key_prefix,
        ctx.activity,
        [key for key, _ in entries],
        [dump(changes) for _, changes in entries],
    )
