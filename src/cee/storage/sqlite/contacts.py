"""Contact writes on SQLite: the plans of `domain/writes.py` carried out in SQL.

Write jobs: functions of the write connection, run by the writer in a group commit and named in
the job table (`jobs.py`). The rules (what an existing key means, which record creates a
contact, what each history entry says, the messages) are the domain's; this module only reads
what a plan depends on and writes what it says.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import orjson

from cee.domain.contacts import ContactRecord, creation_changes
from cee.domain.errors import NotFound
from cee.domain.outcomes import Outcome
from cee.domain.writes import (
    Change,
    ContactOp,
    CreateJob,
    Stored,
    WriteContext,
    absent_contact,
    blacklist_change,
    list_left,
    missing_list,
    not_a_member,
    owns_list,
    plan_creates,
    plan_merge,
)
from cee.storage.base import ContactView, HistoryEntry
from cee.storage.bulk import PIECE_ROWS, Chunk
from cee.storage.sqlite import creations
from cee.storage.sqlite.connection import Q, dump, utcnow


def list_owners(conn: sqlite3.Connection, wanted: set[tuple[int, int]]) -> dict[int, int]:
    """Of the (account, list id) pairs asked for, list id -> account for those that exist."""
    return {
        listid: account_id
        for account_id, listid in wanted
        if conn.execute(Q.list_exists, (listid, account_id)).fetchone() is not None
    }


def require_list(conn: sqlite3.Connection, account_id: int, listid: int) -> None:
    if not owns_list(list_owners(conn, {(account_id, listid)}), account_id, listid):
        raise missing_list(listid)


def remove_from_list(
    conn: sqlite3.Connection, ctx: WriteContext, match_key: str, listid: int
) -> None:
    require_list(conn, ctx.account_id, listid)
    row = conn.execute(Q.select_contact_for_update, (ctx.account_id, match_key)).fetchone()
    if row is None:
        raise absent_contact(match_key)
    if conn.execute(Q.delete_member, (listid, row[0])).fetchone() is None:
        raise not_a_member(match_key, listid)
    creations.move_to_history(conn, [row[0]])
    add_history(conn, ctx, [(match_key, list_left(listid))], utcnow())


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
        add_history(conn, ctx, [(record.key, creation_changes(attributes))], now)
        before = False
    else:
        before = bool(row[2])
    if before != blacklisted:
        creations.move_to_history(conn, [row[0]])
        conn.execute(Q.update_contact_blacklist, (int(blacklisted), now, row[0]))
        add_history(conn, ctx, [(record.key, blacklist_change(before, blacklisted))], now)


def erase_contact(conn: sqlite3.Connection, ctx: WriteContext, match_key: str) -> bool:
    row = conn.execute(Q.select_contact_for_update, (ctx.account_id, match_key)).fetchone()
    conn.execute(Q.delete_history, (ctx.account_id, match_key))
    if row is None:
        return False
    conn.execute(Q.delete_contact_members, (row[0],))
    conn.execute(Q.delete_contact, (row[0],))
    return True


def empty_list(conn: sqlite3.Connection, ctx: WriteContext, listid: int) -> int:
    require_list(conn, ctx.account_id, listid)
    keys = [r[0] for r in conn.execute(Q.select_member_keys, (listid,))]
    creations.move_list_to_history(conn, listid)
    add_history(conn, ctx, [(key, list_left(listid)) for key in keys], utcnow())
    conn.execute(Q.delete_all_members, (listid,))
    return len(keys)


def add_history(
    conn: sqlite3.Connection, ctx: WriteContext, entries: list[Change], now: str
) -> None:
    """One request's history entries, in order. The contact's id, the last parameter, is left
    to the statement to look up."""
    who = (ctx.requestid, ctx.key_prefix, ctx.activity)
    conn.executemany(
        Q.insert_history,
        [(ctx.account_id, key, *who, dump(changes), now, None) for key, changes in entries],
    )


def create_contacts(
    conn: sqlite3.Connection, jobs: list[CreateJob]
) -> list[list[Outcome] | NotFound]:
    """Create the records of many addsync requests at once (the writer merges them).

    Per job, the outcomes of `plan_creates`: Duplicate for a key that exists (or came earlier
    in the same batch), NotFound for the whole job if its list is not the account's. A handful
    of statements per transaction rather than a few per record: each statement re-takes the
    GIL from the event loop, which is what bounded the hot path.
    """
    now = utcnow()
    wanted = {(ctx.account_id, lid) for ctx, _, lid in jobs if lid is not None}
    plan = plan_creates(jobs, list_owners(conn, wanted) if wanted else {})
    new = plan.new
    # New rows get ids above the current maximum (INTEGER PRIMARY KEY without AUTOINCREMENT),
    # so one query after the insert says which keys were created, without RETURNING a row
    # per record.
    (last,) = conn.execute(Q.max_contact_id).fetchone()
    # Each row keeps its creation entry (creations.py): no contact_history row.
    conn.executemany(
        Q.insert_new_contacts,
        [
            (
                c.ctx.account_id,
                c.record.key,
                c.record.key_display,
                dump(c.attributes),
                now,
                now,
                c.ctx.requestid,
                c.ctx.key_prefix,
                c.ctx.activity,
                c.listid,
            )
            for c in new
        ],
    )
    (created_json,) = conn.execute(Q.select_contacts_created_after, (last,)).fetchone()
    created = {(account, key): cid for cid, account, key in orjson.loads(created_json)}
    members = [
        (c.listid, contact_id, now)
        for c in new
        if c.listid is not None
        and (contact_id := created.get((c.ctx.account_id, c.record.key))) is not None
    ]
    if members:
        conn.executemany(Q.insert_member, members)
    return plan.settle(created)


def write_contacts(
    conn: sqlite3.Connection,
    ctx: WriteContext,
    op: ContactOp,
    records: list[ContactRecord],
    listid: int | None,
) -> list[Outcome]:
    """Write one caller's records (an add, an update, a bulk chunk of thousands); NotFound,
    writing nothing, if `listid` is not the account's.

    Set-based whatever the number of records: one read of the stored contacts (and of which
    are members of the list), then one executemany each for inserts, updates, memberships and
    history. Per-record statements were ~30 s of a million-row import; this is a few.
    """
    if op is ContactOp.CREATE:
        [result] = create_contacts(conn, [(ctx, records, listid)])
        if isinstance(result, NotFound):
            raise result
        return result
    account_id = ctx.account_id
    if listid is not None:
        require_list(conn, account_id, listid)
    unique = list(dict.fromkeys(r.key for r in records))
    stored = {
        key: Stored(cid, orjson.loads(attributes))
        for cid, key, attributes in conn.execute(
            Q.select_contacts_by_keys, (account_id, dump(unique))
        )
    }
    now = utcnow()
    if op is ContactOp.UPSERT and not stored and len(unique) == len(records):
        rows = orjson.dumps([(r.key, r.key_display, r.attributes) for r in records])
        insert_new(conn, ctx, rows, listid, now)
        return [None] * len(records)
    plan = plan_merge(ctx, op, records, listid, stored)
    # A stored contact of the plan may get a history entry: its row's kept creation entry goes
    # to contact_history first, before any attribute changes.
    creations.move_to_history(conn, [s.id for s in stored.values()])
    if plan.new:
        # The plan's history has their creation entries (a key given twice is created, then
        # changed, in one plan): the rows keep none.
        (last,) = conn.execute(Q.max_contact_id).fetchone()
        conn.executemany(
            Q.insert_new_contacts,
            [
                (
                    account_id,
                    c.record.key,
                    c.record.key_display,
                    dump(c.attributes),
                    now,
                    now,
                    None,
                    None,
                    None,
                    None,
                )
                for c in plan.new
            ],
        )
        if listid is not None:
            (made,) = conn.execute(Q.select_contacts_created_after, (last,)).fetchone()
            conn.executemany(
                Q.insert_member, [(listid, cid, now) for cid, _, _ in orjson.loads(made)]
            )
    if plan.updated:
        conn.executemany(
            Q.update_contact_attributes,
            [(dump(attributes), now, contact_id) for contact_id, attributes in plan.updated],
        )
    joined: set[int] = set()
    if plan.members:
        ids = dump(plan.members)
        already = {row[0] for row in conn.execute(Q.select_members_among, (listid, ids))}
        joined = {cid for cid in plan.members if cid not in already}
        conn.executemany(Q.insert_member, [(listid, cid, now) for cid in joined])
    add_history(conn, ctx, plan.history(joined), now)
    return plan.outcomes


def upsert_pieces(
    conn: sqlite3.Connection,
    ctx: WriteContext,
    chunk: Chunk,
    first: int,
    last: int,
    listid: int | None,
) -> None:
    """`write_contacts` (an upsert) of a bulk chunk's pieces [first, last).

    When the chunk gives no key twice (an import's usual case), each piece is inserted in one
    statement over its JSON array, SQLite skipping the keys that exist; only those (if any)
    then go through the plan, to be merged. Whatever the order, that is what the plan would
    have made of the piece: its records are of distinct contacts. Otherwise, all through the
    plan.
    """
    if listid is not None:
        require_list(conn, ctx.account_id, listid)
    if not chunk.distinct:
        write_contacts(conn, ctx, ContactOp.UPSERT, chunk.records(first, last), listid)
        return
    now = utcnow()
    total = len(chunk.indexes)
    for p in range(first, last):
        inserted, before = insert_new(conn, ctx, chunk.pieces[p], listid, now)
        if inserted < min(PIECE_ROWS, total - p * PIECE_ROWS):
            created = {key for (key,) in conn.execute(Q.select_keys_created_after, (before,))}
            stored = [r for r in chunk.records(p, p + 1) if r.key not in created]
            write_contacts(conn, ctx, ContactOp.UPSERT, stored, listid)


def insert_new(
    conn: sqlite3.Connection,
    ctx: WriteContext,
    rows: bytes,
    listid: int | None,
    now: str,
) -> tuple[int, int]:
    """Create the contacts of `rows` (a JSON array of [match key, key as given, attributes],
    no key twice) whose keys are not stored, as `plan_merge` would (each joins the list, and
    keeps its creation entry on its row), in one or two statements; how many it created, and
    the greatest contact id before them (those it created have greater ones).

    SQLite runs the statements without the GIL, where the plan's per-record Python and
    parameter tuples held it: a million-row import's writer went from ~13 s of CPU to ~8.
    """
    params = (ctx.account_id, rows, now, ctx.requestid, ctx.key_prefix, ctx.activity, listid)
    (before,) = conn.execute(Q.max_contact_id).fetchone()
    inserted = int(conn.execute(Q.insert_contacts_from_json, params).rowcount)
    if listid is not None:
        conn.execute(Q.insert_members_after, (listid, before, now))
    return inserted, int(before)


# -- reads: functions of a reader connection (SqliteStore._read runs them on its threads) ----------


def read_contact(conn: sqlite3.Connection, account_id: int, match_key: str) -> ContactView | None:
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


def read_page(
    conn: sqlite3.Connection, account_id: int, listid: int | None, after: int, limit: int
) -> list[tuple[int, ContactView]]:
    """One keyset page of an export: (id, contact) after id `after`, of a list or all."""
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


def read_history(
    conn: sqlite3.Connection,
    account_id: int,
    match_key: str,
    since: str | None,
    until: str | None,
) -> list[HistoryEntry]:
    """A contact's entries in [since, until), oldest first (a kept creation entry first)."""
    # One read transaction: a concurrent first change moves the kept entry into the table.
    conn.execute("BEGIN")
    try:
        kept = creations.kept_entry(conn, account_id, match_key)
        rows = conn.execute(
            Q.select_history, (account_id, match_key, since, since, until, until)
        ).fetchall()
    finally:
        conn.execute("COMMIT")
    entries = [HistoryEntry(r[0], r[1], r[2], r[3], orjson.loads(r[4])) for r in rows]
    if kept is not None and (since or "") <= kept.at and (until is None or kept.at < until):
        entries.insert(0, kept)
    return entries


def read_history_page(
    conn: sqlite3.Connection, where: tuple[Any, ...], offset: int, limit: int | None
) -> tuple[int, list[HistoryEntry]]:
    """One page of the activity exports' entries, and how many there are in all; a kept
    creation entry that the filters keep counts as the first."""
    account_id, match_key, since, until, activity, change = where
    # One connection, one read transaction: the count and the page agree.
    conn.execute("BEGIN")
    try:
        kept = creations.kept_entry(conn, account_id, match_key)
        if kept is not None and not creations.matches(kept, since, until, activity, change):
            kept = None
        (total,) = conn.execute(Q.count_history_page, where).fetchone()
        first: list[HistoryEntry] = []
        if kept is not None and offset == 0 and limit != 0:
            first, limit = [kept], None if limit is None else limit - 1
        elif kept is not None and offset > 0:
            offset -= 1
        page = -1 if limit is None else limit  # SQLite's "no limit"
        rows = [] if page == 0 else conn.execute(Q.select_history_page, (*where, page, offset))
        entries = first + [HistoryEntry(r[0], r[1], r[2], r[3], orjson.loads(r[4])) for r in rows]
    finally:
        conn.execute("COMMIT")
    return int(total) + (kept is not None), entries
