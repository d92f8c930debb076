"""The activity exports Netcore documents for GDPR access requests, in Netcore's answer shape.

`type=export_data&activity=get_user_activity_data` pages through the contact's activity, which in
CEE is its change history (every write path keeps it: what changed, when, by which key and
request); `get_user_channel_activity_data` reports the blacklist changes of one channel. Both
cover at most seven days (CONTRACT.md section 5); the summary export is in `privacy`.
"""

from __future__ import annotations

from typing import Any

from cee.domain.contacts import primary_key_value
from cee.domain.exports import (
    CHANNEL_CHANGES,
    MAX_BATCH_SIZE,
    activity_query,
    batch,
    channel_of,
    export_data,
    primary_key_given,
    seven_days,
)
from cee.domain.writes import absent_contact
from cee.storage.base import HistoryEntry
from cee.web.apiv2.call import Answer, ApiCall

FETCHED = "Data fetched successfully."


async def _contact_key(call: ApiCall, given: Any) -> tuple[str, str]:
    """(match key, primary key as stored) of an existing contact; NotFound names the value."""
    schema = call.engine.catalog.schema(call.account_id)
    key, display = primary_key_value(given, schema)
    found = await call.engine.store.get_contact(call.account_id, key)
    if found is None:
        raise absent_contact(display, "primary_key")
    return key, found.primary_key


def activity_entry(h: HistoryEntry) -> dict[str, Any]:
    """One change, under Netcore's names where they mean the same (`event_type`,
    `activity_date_time`) and CEE's own where Netcore has none."""
    return {
        "event_type": h.activity,
        "activity_date_time": h.at,
        "requestid": h.requestid,
        "key_prefix": h.key_prefix,
        "changes": h.changes,
    }


async def get_user_activity_data(call: ApiCall) -> Answer:
    query = activity_query(export_data(call.params))
    key, primary_key = await _contact_key(call, query.primary_key)
    total, page = await call.engine.store.history_page(
        call.account_id,
        key,
        query.days.since,
        query.days.until,
        activity=query.activity,
        offset=query.offset,
        limit=query.batch_size,
    )
    return 200, {
        "status": "success",
        "result": {
            "activity_data": [activity_entry(h) for h in page],
            "total_count": total,
            "primary_key": primary_key,
            "from_date": query.days.from_date,
            "to_date": query.days.to_date,
            "batch_size": query.batch_size,
            "batch_number": query.batch_number,
        },
        "details": FETCHED,
        "requestid": call.requestid,
    }


def channel_entry(h: HistoryEntry, change: str) -> dict[str, Any]:
    """A blacklist change as Netcore words channel activity: `activity` and `activity_date`."""
    after = bool(h.changes[change][1])
    return {
        "activity": "blacklisted" if after else "unblacklisted",
        "activity_date": h.at,
        "event_type": h.activity,
        "requestid": h.requestid,
        "key_prefix": h.key_prefix,
    }


async def get_user_channel_activity_data(call: ApiCall) -> Answer:
    data = export_data(call.params)
    given = primary_key_given(data)
    channel = channel_of(data)
    days = seven_days(data)
    # Netcore's channel export has no batches; a Netcore client gets every change (up to the
    # largest batch) at once, and `batchsize`/`batch_number` (ext) page through more.
    size, number = batch(data, MAX_BATCH_SIZE)
    key, _ = await _contact_key(call, given)
    change = CHANNEL_CHANGES[channel]
    entries: list[dict[str, Any]] = []
    if change is not None:
        _, page = await call.engine.store.history_page(
            call.account_id,
            key,
            days.since,
            days.until,
            change=change,
            offset=(number - 1) * size,
            limit=size,
        )
        entries = [channel_entry(h, change) for h in page]
    return 200, {
        "status": "success",
        "result": {
            "channel_activity": entries,
            "from_date": days.from_date,
            "to_date": days.to_date,
            "channel": channel,
        },
        "details": FETCHED,
        "requestid": call.requestid,
    }
