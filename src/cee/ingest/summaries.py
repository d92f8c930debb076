"""The summary of an applied async request whose caller asked for one (v3 batchadd's `callback`
or `callbackurl`, and `notifyemail`): the same signed POST and mail as a bulk upload's.

Sent from a task of its own once the request is applied, so the worker's next claim does not
wait on a slow receiver. The journal keeps no notification state, so delivery is at most once
across a crash of the worker in between (bulkupload, which keeps it, is at least once); each
attempt is logged.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from cee.domain.journal import JournalEntry
from cee.engine import Engine
from cee.ingest.imports.guard import AllowList
from cee.ingest.imports.notify import deliver_callback, deliver_mail

log = logging.getLogger(__name__)

# Strong references to the running sends: the event loop keeps only weak ones.
_sending: set[asyncio.Task[None]] = set()


def wants_summary(entry: JournalEntry) -> bool:
    return bool(entry.payload.get("callback") or entry.payload.get("notifyemail"))


def send_later(engine: Engine, entry: JournalEntry) -> None:
    """Start sending the summary of `entry` (already applied) if its caller asked for one."""
    if not wants_summary(entry):
        return
    task = asyncio.create_task(_send(engine, entry), name=f"summary-{entry.requestid}")
    _sending.add(task)
    task.add_done_callback(_sending.discard)


async def _send(engine: Engine, entry: JournalEntry) -> None:
    store, settings = engine.store, engine.settings
    try:
        status = await store.journal_status(entry.account_id, entry.requestid)
        if status is None or status.records is None:
            return
        failed = sum(1 for r in status.records if "error" in r)
        body = {
            "requestid": entry.requestid,
            "result": status.result,
            "total": len(status.records),
            "succeeded": len(status.records) - failed,
            "failed": failed,
        }
        notes: dict[str, Any] = {}

        async def save(current: dict[str, Any]) -> None:
            log.info("request %s: summary %s", entry.requestid, current)

        callback = entry.payload.get("callback")
        if callback:
            await deliver_callback(
                str(callback),
                body,
                await store.webhook_secret(entry.account_id),
                AllowList.parse(settings.bulk_allow_hosts),
                notes,
                save,
                attempts=int(settings.bulk_callback_attempts),
                backoff=float(settings.bulk_callback_backoff),
            )
        to = entry.payload.get("notifyemail")
        if to:
            await deliver_mail(str(to), body, settings.smtp_url, settings.smtp_from, notes, save)
    except Exception:
        log.exception("request %s: its summary could not be sent", entry.requestid)
