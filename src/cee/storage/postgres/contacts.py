"""Contact writes on PostgreSQL: the plans of `domain/writes.py` in a few set-based statements.

`create_batch` is the addsync hot path for a whole group commit (every caller waiting at once:
one insert statement writes the contacts, their memberships and their history); `write_records`
is upsert/update for one caller (records that only create contacts, as an import's chunks do, are
copied in by copyin.py). The rules are the domain's, shared with the SQLite store; this
module reads what a plan depends on and writes what it says.
"""

from __future__ import annotations

from typing import Any

import orjson

from cee.domain.contacts import ContactRecord
from cee.domain.errors import NotFound
from cee.domain.outcomes import Outcome
from cee.domain.writes import (
    Change,
    ContactOp,
    CreateJob,
    NewContact,
    Stored,
    WriteContext,
    missing_list,
    owns_list,
    plan_creates,
    plan_merge,
)
from cee.storage.postgres.copyin import copy_new_contacts
from cee.storage.postgres.writer import Connection, RetryJob
from cee.storage.queries import Queries

Q = Queries("postgres")


def dump(value: Any) -> str:
    return orjson.dumps(value).decode()


async def list_owners(conn: Connection, listids: set[int]) -> dict[int, int]:
    if not listids:
        return {}
    return {r[0]: r[1] for r in await conn.fetch(Q.list_exists, list(listids))}


async def require_list(conn: Connection, account_id: int, listid: int) -> None:
    if not owns_list(await list_owners(conn, {listid}), account_id, listid):
        raise missing_list(listid)


async def insert_contacts(
    conn: Connection, new: list[NewContact], *, with_history: bool
) -> list[Any]:
    """Insert; the rows (id, account_id, match_key) of the contacts actually created. Each
    joins its list in the same statement, and with `with_history` gets its first entry too."""
    rows = [
        {
            "account_id": c.ctx.account_id,
            "match_key": c.record.key,
            "key_display": c.record.key_display,
            "attributes": c.attributes,
            "list_id": c.listid,
            "changes": c.creation() if with_history else None,
            "requestid": c.ctx.requestid,
            "key_prefix": c.ctx.key_prefix,
            "activity": c.ctx.activity,
        }
        for c in new
    ]
    return list(await conn.fetch(Q.insert_contact, dump(rows)))


async def create_batch(conn: Connection, jobs: list[CreateJob]) -> list[list[Outcome] | NotFound]:
    """Every waiting addsync caller in one statement; per caller its outcomes (or NotFound)."""
    owners = await list_owners(conn, {lid for _, _, lid in jobs if lid is not None})
    plan = plan_creates(jobs, owners)
    if not plan.new:
        return plan.results
    created = {(row[1], row[2]) for row in await insert_contacts(conn, plan.new, with_history=True)}
    return plan.settle(created)


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
        [result] = await create_batch(conn, [(ctx, records, listid)])
        if isinstance(result, NotFound):
            raise result
        return result
    if listid is not None:
        await require_list(conn, ctx.account_id, listid)
    keys = sorted({r.key for r in records})
    found = await conn.fetch(Q.select_contact_for_update, ctx.account_id, keys)
    if op is ContactOp.UPSERT and not found and len(keys) == len(records):
        # The usual bulk chunk: only new contacts, each once.
        return await copy_new_contacts(conn, ctx, records, listid)
    return await write_planned(conn, ctx, op, records, listid, found)


async def write_planned(
    conn: Connection,
    ctx: WriteContext,
    op: ContactOp,
    records: list[ContactRecord],
    listid: int | None,
    found: list[Any],
) -> list[Outcome]:
    """`write_records` through `plan_merge`, given the stored contacts of the records' keys
    (locked, as select-contact-for-update reads them)."""
    stored = {row[1]: Stored(row[0], orjson.loads(row[2])) for row in found}
    plan = plan_merge(ctx, op, records, listid, stored)
    if plan.new:
        # Their history goes with the others' below, in record order.
        created = await insert_contacts(conn, plan.new, with_history=False)
        if len(created) != len(plan.new):
            raise RetryJob()
    if plan.updated:
        await conn.execute(
            Q.update_contact_attributes,
            [contact_id for contact_id, _ in plan.updated],
            [dump(attributes) for _, attributes in plan.updated],
        )
    joined: set[int] = set()
    if plan.members:
        # New contacts joined in the insert; stored ones join here unless already members.
        joined = {r[0] for r in await conn.fetch(Q.insert_member, listid, plan.members)}
    await insert_history(conn, ctx, plan.history(joined))
    return plan.outcomes


async def insert_history(conn: Connection, ctx: WriteContext, entries: list[Change]) -> None:
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
