"""The async journal on SQLite: append, claim, apply, release.

Write jobs: functions of the write connection, run by the writer in a group commit and named in
the job table (`jobs.py`). What an applied entry reports is the domain's (`domain/journal.py`);
here are its three steps in the one transaction: the claim still held, the write, the report.
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any

import orjson

from cee.domain.contacts import ContactRecord
from cee.domain.errors import CeeError, NotFound
from cee.domain.journal import JournalEntry, Report, applied, emptied, to_write
from cee.domain.outcomes import Outcome
from cee.domain.writes import ContactOp
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


def _claimed(conn: sqlite3.Connection, entry: JournalEntry, worker_id: str) -> bool:
    return conn.execute(Q.check_claim, (entry.id, worker_id)).fetchone() is not None


def _finish(conn: sqlite3.Connection, entry: JournalEntry, report: Report) -> None:
    result, records = report
    conn.execute(Q.finish_journal, (result, dump(records), utcnow(), entry.id))


# One applied add or update: the entry, the claiming worker, the write, the judged records and
# the listid.
Apply = tuple[JournalEntry, str, ContactOp, list[ContactRecord | CeeError], int | None]


def journal_apply(conn: sqlite3.Connection, applies: list[Apply]) -> list[bool]:
    """Apply a worker's batch of entries in journal order; whether each was still claimed.

    A merged job (the writer hands it every apply waiting at one commit): the entries' contact
    writes run one after the other, each seeing the ones before it, and their reports are stored
    with one executemany. Each entry its own job, as before, cost a savepoint, a timestamp and a
    report statement apiece: the worker's applies then took the loop ~100 µs an `add`
    (bench/costs.py --add).
    """
    now = utcnow()
    reports: list[tuple[str, str, str, int]] = []
    held: list[bool] = []
    for entry, worker_id, op, records, listid in applies:
        if not _claimed(conn, entry, worker_id):
            held.append(False)
            continue
        valid = to_write(records)
        written: list[Outcome] | NotFound = []
        try:
            if valid:
                written = write_contacts(conn, entry.context(), op, valid, listid)
        except NotFound as gone:  # the list: nothing was written
            written = gone
        result, report = applied(records, written)
        reports.append((result, dump(report), now, entry.id))
        held.append(True)
    conn.executemany(Q.finish_journal, reports)
    return held


def journal_empty_list(
    conn: sqlite3.Connection, entry: JournalEntry, worker_id: str, listid: int
) -> bool:
    if not _claimed(conn, entry, worker_id):
        return False
    outcome: Outcome = None
    try:
        empty_list(conn, entry.context(), listid)
    except NotFound as gone:
        outcome = gone
    _finish(conn, entry, emptied(outcome))
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
