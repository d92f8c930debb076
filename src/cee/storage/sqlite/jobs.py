"""The closed table of SQLite write jobs, by name.

Every write the store makes is one of these: a function of the write connection, run by the
writer in a group commit. In one process the store hands the function to its writer directly;
with `cee serve --processes` it sends the job's *name* and its arguments as plain values
(`wire.py`) to the writer process, which looks the name up here. A name not in this table is
refused there, so a peer can ask for these writes and nothing else.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cee.storage.sqlite import accounts, bulk, contacts, journal, ops, panel
from cee.storage.sqlite.connection import Q
from cee.storage.sqlite.wire import (
    BULK_JOB,
    BULK_JOBS,
    CHUNK,
    CONTEXT,
    ENTRIES,
    ENTRY,
    JUDGED,
    KEPT,
    LISTID,
    OP,
    OUTCOMES,
    PLAIN,
    PLAIN_ARGS,
    RECORD,
    RECORDS,
    Codec,
    arguments,
)


@dataclass(frozen=True, slots=True)
class Job:
    name: str
    fn: Callable[..., Any]
    # Merged with every other waiting item of the same job into one call (Writer.run_many):
    # `fn(conn, items)` returns one result per item.
    many: bool = False
    args: Codec = PLAIN_ARGS  # for a `many` job: its one item
    result: Codec = PLAIN
    # Changes what the catalog caches (keys, users, accounts, attributes, lists).
    config: bool = False
    # Run a step at a time between the requests' commits (Writer.run_in_steps): `fn` takes
    # (start, budget) after its arguments and returns a writer.Step.
    background: bool = False
    # The workers' own polling (claims, lease renewals): not request traffic, which is what
    # keeps background steps short (Writer.run).
    quiet: bool = False


def _statement(
    query: str, *, result: str = "none", config: bool = False, quiet: bool = False
) -> Job:
    """A job that runs one named query with its parameters: its rows' count ("count"), whether
    it returned a row ("row"), or nothing. The query is fixed here: a peer names the job, and
    only gives the values bound to its placeholders."""
    sql = getattr(Q, query)

    def run(conn: sqlite3.Connection, *params: Any) -> Any:
        cursor = conn.execute(sql, params)
        if result == "count":
            return len(cursor.fetchall())
        if result == "row":
            return cursor.fetchone() is not None
        return None

    return Job(query, run, config=config, quiet=quiet)


_TABLE = (
    Job("get_or_make_secret", accounts.get_or_make_secret),
    Job("insert_account", accounts.insert_account, config=True),
    Job("update_api_mode", accounts.update_api_mode, config=True),
    Job("update_primary_key", accounts.update_primary_key, config=True),
    Job("insert_user", accounts.insert_user, config=True),
    Job("update_user_active", accounts.update_user_active, config=True),
    Job("replace_key", accounts.replace_key, config=True),
    Job("insert_attribute", accounts.insert_attribute, config=True),
    Job("insert_list", accounts.insert_list, config=True),
    Job(
        "create_contacts",
        contacts.create_contacts,
        many=True,
        args=arguments(CONTEXT, RECORDS, LISTID),
        result=OUTCOMES,
    ),
    Job(
        "write_contacts",
        contacts.write_contacts,
        args=arguments(CONTEXT, OP, RECORDS, LISTID),
        result=OUTCOMES,
    ),
    Job("remove_from_list", contacts.remove_from_list, args=arguments(CONTEXT, PLAIN, LISTID)),
    Job("set_blacklisted", contacts.set_blacklisted, args=arguments(CONTEXT, RECORD, PLAIN)),
    Job("empty_list", contacts.empty_list, args=arguments(CONTEXT, LISTID)),
    Job("erase_contact", contacts.erase_contact, args=arguments(CONTEXT, PLAIN)),
    Job("append_journal", journal.append_journal, many=True),
    Job("claim_journal", journal.claim_journal, result=ENTRIES, quiet=True),
    Job(
        "journal_apply",
        journal.journal_apply,
        many=True,
        args=arguments(ENTRY, PLAIN, OP, JUDGED, LISTID),
    ),
    Job(
        "journal_empty_list",
        journal.journal_empty_list,
        args=arguments(ENTRY, PLAIN, LISTID),
    ),
    Job("defer_journal_if_waiting", journal.defer_journal_if_waiting),
    Job("release_journal_claims", journal.release_journal_claims),
    # The panel's (storage/sqlite/panel.py).
    Job("insert_session", panel.insert_session),
    Job("touch_session", panel.touch_session),
    Job("replace_sealed_key", panel.replace_sealed_key, config=True),
    _statement("delete_session"),
    _statement("delete_user_sessions"),
    _statement("delete_idle_sessions"),
    _statement("insert_login_failure"),
    _statement("delete_login_failures"),
    _statement("insert_audit"),
    _statement("update_user_password"),
    _statement("update_user_admin", config=True),
    _statement("update_phone_region", config=True),
    # Bulk imports' (storage/sqlite/bulk.py).
    _statement("insert_bulk_job"),
    Job("claim_bulk_jobs", bulk.claim_bulk_jobs, result=BULK_JOBS, quiet=True),
    _statement("renew_bulk_job", result="row", quiet=True),
    Job(
        "bulk_chunk",
        bulk.bulk_chunk,
        args=arguments(BULK_JOB, PLAIN, CHUNK, PLAIN),
        background=True,
    ),
    _statement("finish_bulk_job", result="row"),
    _statement("note_bulk_job", result="row"),
    _statement("release_bulk_claims", result="count"),
    _statement("delete_bulk_rejects_of", result="count"),
    Job("webhook_secret", bulk.webhook_secret),
    # Rate limits and Idempotency-Key answers (storage/sqlite/ops.py).
    Job("set_rate_limit", ops.set_rate_limit, config=True),
    Job("take_rate_tokens", ops.take_rate_tokens),
    Job("idempotency_claim", ops.idempotency_claim, result=KEPT),
    _statement("finish_idempotency"),
    _statement("release_idempotency"),
    Job("purge_idempotency", ops.purge_idempotency),
)
JOBS: dict[str, Job] = {job.name: job for job in _TABLE}
# The job whose commits the writer process announces (JOURNAL_NOTICE): the worker wakes on it.
JOURNAL_APPEND = JOBS["append_journal"]


def is_journal_append(name: str) -> bool:
    """Whether the job of this name appends to the async journal."""
    return name == JOURNAL_APPEND.name
