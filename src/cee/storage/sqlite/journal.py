"""The async journal on SQLite: append, claim, apply, release.

Write jobs: functions of the write connection, run by the writer in a group commit and named in
the job table (`jobs.py`).
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any

import orjson

from cee.domain.contacts import ContactRecord
from cee.domain.errors import CeeError, NotFound
from cee.domain.journal import JournalEntry
from cee.domain.outcomes import Outcome, result_word, stored_report
from cee.domain.writes import ContactOp, WriteContext
from cee.storage.sqlite.connection import Q, dump, utcnow
from cee.storage.sqlite.contacts import empty_list, write_contacts


def claim_journal(
    conn: sqlite3.Connection, worker_id: str, limit: int, lease_seconds: float
) -> list[JournalEntry]:
    now = time.time()
    rows = conn.execute(Q.claim_journal, (worker_id, now + lease_seconds, now, limit)).fetchall()
    return sorted(
        (JournalEntry(r[0], r[1], r[2], r[3], r[4], r[5], orjson.loads(r[6]), r[7]) for r in rows),
        key=lambda e: e.id,
    )


def journal_apply(
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
        written = write_contacts(conn, ctx, op, valid, listid) if valid else []
    except NotFound as missing_list:
        written = [missing_list for _ in valid]
    outcomes = iter(written)
    merged = [r if isinstance(r, CeeError) else next(outcomes) for r in records]
    conn.execute(
        Q.finish_journal,
        (result_word(merged), dump(stored_report(merged)), utcnow(), entry.id),
    )
    return True


def journal_empty_list(
    conn: sqlite3.Connection, entry: JournalEntry, worker_id: str, listid: int
) -> bool:
    if conn.execute(Q.check_claim, (entry.id, worker_id)).fetchone() is None:
        return False
    ctx = WriteContext(entry.account_id, entry.requestid, entry.key_prefix, entry.activity)
    outcome: Outcome = None
    try:
        empty_list(conn, ctx, listid)
    except NotFound as missing_list:
        outcome = missing_list
    conn.execute(
        Q.finish_journal,
        (result_word([outcome]), dump(stored_report([outcome])), utcnow(), entry.id),
    )
    return True


def defer_journal_if_waiting(
    conn: sqlite3.Connection, entry_id: int, account_id: int, worker_id: str
) -> bool:
    # One write job: the check and the deferral see the same journal (the writer is alone).
    if conn.execute(Q.journal_waits, (entry_id, account_id, worker_id)).fetchone() is None:
        return False
    conn.execute(Q.defer_journal, (entry_id, worker_id))
    return True


def release_journal_claims(conn: sqlite3.Connection, worker_id: str) -> int:
    return len(conn.execute(Q.release_journal_claims, (worker_id,)).fetchall())


def append_journal(conn: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> list[None]:
    conn.executemany(Q.insert_journal, rows)
    return [None for _ in rows]
