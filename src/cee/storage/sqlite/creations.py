"""Creation entries kept on the contact row until the contact first changes (SQLite).

A create used to write its history entry as a row of contact_history: a second copy of every
attribute, and an index entry, for a row most contacts never get another of. Creates now keep
the entry's who and when on the contact row (migration 0006); its changes are what
`creation_changes` makes of the row's attributes, which is exact for as long as they have not
changed. So every write that gives a contact a history entry first *moves* the kept creation
entry into contact_history (`move_to_history`), in the same transaction and before the change;
reads put the kept entry first (`kept_entry`), where its row would have been.

What a user sees is the same either way: `history`, the activity exports and the panel show
the same entries in the same order.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import orjson

from cee.domain.contacts import creation_changes
from cee.domain.writes import list_joined
from cee.storage.base import HistoryEntry
from cee.storage.sqlite.connection import Q, dump


def entry_of(
    at: str, requestid: str, key_prefix: str, activity: str, listid: int | None, attributes: str
) -> HistoryEntry:
    """The creation entry a create would have written: every attribute from nothing to its
    value, and the list it joined."""
    changes: dict[str, Any] = creation_changes(orjson.loads(attributes))
    if listid is not None:
        changes = list_joined(changes, listid)
    return HistoryEntry(at, requestid, key_prefix, activity, changes)


def kept_entry(conn: sqlite3.Connection, account_id: int, match_key: str) -> HistoryEntry | None:
    """The contact's creation entry if its row still keeps it."""
    row = conn.execute(Q.select_kept_creation, (account_id, match_key)).fetchone()
    return None if row is None else entry_of(*row)


def move_to_history(conn: sqlite3.Connection, ids: list[int]) -> None:
    """Before any of these contacts gets a history entry (or its attributes change): the
    creation entries their rows keep go to contact_history, as the create would have written
    them."""
    if ids:
        _move(conn, conn.execute(Q.select_kept_creations_of, (dump(ids),)).fetchall())


def move_list_to_history(conn: sqlite3.Connection, listid: int) -> None:
    """`move_to_history` for every member of the list."""
    _move(conn, conn.execute(Q.select_kept_creations_in_list, (listid,)).fetchall())


def _move(conn: sqlite3.Connection, rows: list[Any]) -> None:
    if not rows:
        return
    history = []
    for cid, account_id, match_key, at, requestid, key_prefix, activity, listid, attrs in rows:
        entry = entry_of(at, requestid, key_prefix, activity, listid, attrs)
        history.append(
            (account_id, match_key, requestid, key_prefix, activity, dump(entry.changes), at, cid)
        )
    conn.executemany(Q.insert_history, history)
    conn.executemany(Q.forget_kept_creation, [(row[0],) for row in rows])


def matches(
    entry: HistoryEntry, since: str, until: str, activity: str | None, change: str | None
) -> bool:
    """Whether the activity exports' filters (select-history-page's) keep this entry."""
    if not since <= entry.at < until:
        return False
    if activity is not None and entry.activity != activity:
        return False
    return change is None or entry.changes.get(change) is not None
