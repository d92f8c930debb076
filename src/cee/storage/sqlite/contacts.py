"""Contact writes on SQLite: create, merge, list membership, blacklist, erasure.

Write jobs: functions of the write connection, run by the writer in a group commit and named in
the job table (`jobs.py`).
"""

from __future__ import annotations

import sqlite3
from typing import Any

import orjson

from cee.domain.contacts import ContactRecord, creation_changes, merge_attributes
from cee.domain.errors import Duplicate, NotFound
from cee.domain.outcomes import Outcome
from cee.domain.writes import ContactOp, WriteContext
from cee.storage.sqlite.connection import Q, dump, utcnow


def remove_from_list(
    conn: sqlite3.Connection, ctx: WriteContext, match_key: str, listid: int
) -> None:
    require_list(conn, ctx.account_id, listid)
    row = conn.execute(Q.select_contact_for_update, (ctx.account_id, match_key)).fetchone()
    if row is None:
        raise NotFound(f"data: no contact '{match_key}' in this account")
    if conn.execute(Q.delete_member, (listid, row[0])).fetchone() is None:
        raise NotFound(f"data: contact '{match_key}' is not in list {listid}")
    add_history(conn, ctx, match_key, {"_list_left": listid}, utcnow())


def set_blacklisted(
    conn: sqlite3.Connection, ctx: WriteContext, record: ContactRecord, blacklisted: bool
) -> None:
    now = utcnow()
    row = conn.execute(Q.select_contact_for_update, (ctx.account_id, record.key)).fetchone()
    if row is None:
        attributes = record.stored_attributes()
        row = conn.execute(
            Q.insert_contact,
            (ctx.account_id, record.key, record.key_display, dump(attributes), now, now),
        ).fetchone()
        add_history(conn, ctx, record.key, creation_changes(attributes), now)
        before = False
    else:
        before = bool(row[2])
    if before != blacklisted:
        conn.execute(Q.update_contact_blacklist, (int(blacklisted), now, row[0]))
        add_history(conn, ctx, record.key, {"_blacklisted": [before, blacklisted]}, now)


def erase_contact(conn: sqlite3.Connection, ctx: WriteContext, match_key: str) -> bool:
    row = conn.execute(Q.select_contact_for_update, (ctx.account_id, match_key)).fetchone()
    conn.execute(Q.delete_history, (ctx.account_id, match_key))
    if row is None:
        return False
    conn.execute(Q.delete_contact_members, (row[0],))
    conn.execute(Q.delete_contact, (row[0],))
    return True


def require_list(conn: sqlite3.Connection, account_id: int, listid: int) -> None:
    if conn.execute(Q.list_exists, (listid, account_id)).fetchone() is None:
        raise NotFound(f"listid: list {listid} does not exist in this account")


def empty_list(conn: sqlite3.Connection, ctx: WriteContext, listid: int) -> int:
    require_list(conn, ctx.account_id, listid)
    now = utcnow()
    keys = [r[0] for r in conn.execute(Q.select_member_keys, (listid,))]
    for key in keys:
        add_history(conn, ctx, key, {"_list_left": listid}, now)
    conn.execute(Q.delete_all_members, (listid,))
    return len(keys)


def add_history(
    conn: sqlite3.Connection, ctx: WriteContext, key: str, changes: dict[str, Any], now: str
) -> None:
    who = (ctx.requestid, ctx.key_prefix, ctx.activity)
    # The contact's id, the last parameter, is left to the statement to look up.
    conn.execute(Q.insert_history, (ctx.account_id, key, *who, dump(changes), now, None))


CreateJob = tuple[WriteContext, list[ContactRecord], int | None]


def create_contacts(
    conn: sqlite3.Connection, jobs: list[CreateJob]
) -> list[list[Outcome] | NotFound]:
    """Create the records of many addsync requests at once (the writer merges them).

    Per job, the same outcomes as `write_contacts` with CREATE: Duplicate for a key that exists
    (or came earlier in the same batch), NotFound for the whole job if its list does not exist.
    A handful of statements per transaction rather than a few per record: each statement
    re-takes the GIL from the event loop, which is what bounded the hot path.
    """
    now = utcnow()
    missing: dict[tuple[int, int], NotFound] = {}
    for owner, wanted in {(ctx.account_id, lid) for ctx, _, lid in jobs if lid is not None}:
        try:
            require_list(conn, owner, wanted)
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
    conn.executemany(Q.insert_contact, [(*r[:3], dump(r[3]), *r[4:]) for r in rows])
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
            history.append((ctx.account_id, record.key, *who, dump(changes), now, contact_id))
            outcomes.append(None)
        results.append(outcomes)
    if members:
        conn.executemany(Q.insert_member, members)
    conn.executemany(Q.insert_history, history)
    return results


def write_contacts(
    conn: sqlite3.Connection,
    ctx: WriteContext,
    op: ContactOp,
    records: list[ContactRecord],
    listid: int | None,
) -> list[Outcome]:
    if listid is not None:
        require_list(conn, ctx.account_id, listid)
    now = utcnow()
    account_id = ctx.account_id
    outcomes: list[Outcome] = []
    for record in records:
        changes: dict[str, Any] | None
        if op is ContactOp.CREATE:
            attributes = record.stored_attributes()
            row = conn.execute(
                Q.insert_contact,
                (account_id, record.key, record.key_display, dump(attributes), now, now),
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
                    (account_id, record.key, record.key_display, dump(attributes), now, now),
                ).fetchone()[0]
                changes = creation_changes(attributes)
            else:
                contact_id = found[0]
                merged, changes = merge_attributes(orjson.loads(found[1]), record.attributes)
                if changes:
                    conn.execute(Q.update_contact_attributes, (dump(merged), now, contact_id))
        if (
            listid is not None
            and conn.execute(Q.insert_member, (listid, contact_id, now)).fetchone()
        ):
            changes = {**changes, "_list_joined": listid}
        if changes:
            add_history(conn, ctx, record.key, changes, now)
        outcomes.append(None)
    return outcomes
