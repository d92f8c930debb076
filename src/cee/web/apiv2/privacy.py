"""The privacy activities Netcore documents: erase a contact, export what is kept about one.

`type=erasure_user_data&activity=request_erasure_data` and
`type=export_data&activity=get_user_summary_data` (CONTRACT.md section 5). The export's
`activity_data` is the contact's change history: what changed, when, by which key and request.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from cee.domain.contacts import primary_key_value
from cee.domain.errors import BadParameter, NotFound
from cee.domain.parameters import json_value
from cee.web.apiv2.call import Answer, ApiCall


async def request_erasure_data(call: ApiCall) -> Answer:
    """Erase the contact, its memberships and its history.

    Idempotent: erasing a contact that is not (or no longer) there also answers Success, so a
    client that retries after a lost answer is not told its erasure failed.
    """
    schema = call.engine.catalog.schema(call.account_id)
    key, _ = primary_key_value(call.text("primary_key"), schema)
    await call.engine.store.erase_contact(call.context(), key)
    return 200, {"requestid": call.requestid, "result": "Success"}


def _day(data: dict[str, Any], name: str) -> datetime | None:
    value = data.get(name)
    if value is None or value == "":
        return None
    try:
        return datetime.strptime(str(value).strip(), "%d%m%Y").replace(tzinfo=UTC)
    except ValueError:
        raise BadParameter(f"data: {name} '{str(value)[:32]}' is not a date as DDMMYYYY") from None


def _stamp(moment: datetime | None) -> str | None:
    # The store keeps ISO-8601 UTC text, which sorts as time does.
    return None if moment is None else moment.isoformat(timespec="microseconds")


async def get_user_summary_data(call: ApiCall) -> Answer:
    """The contact's attributes and its history between from_date and to_date (inclusive)."""
    data = json_value("data", call.params.get("data"))
    if not isinstance(data, dict):
        raise BadParameter('data: expected a JSON object {"primary_key": ..., "from_date": ...}')
    given = data.get("primary_key")
    if given is None or given == "":
        raise BadParameter("data: primary_key missing")
    since, until = _day(data, "from_date"), _day(data, "to_date")
    if since and until and until < since:
        raise BadParameter("data: to_date is before from_date")
    schema = call.engine.catalog.schema(call.account_id)
    key, display = primary_key_value(given, schema)
    store = call.engine.store
    found = await store.get_contact(call.account_id, key)
    if found is None:
        raise NotFound(f"primary_key: no contact '{display}' in this account")
    history = await store.history(
        call.account_id,
        key,
        since=_stamp(since),
        until=_stamp(until + timedelta(days=1) if until else None),
    )
    return 200, {
        "status": "success",
        "primary_key": found.primary_key,
        "result": {
            "user_data": {
                "attribute_data": found.attributes,
                "activity_data": [
                    {
                        "at": h.at,
                        "activity": h.activity,
                        "requestid": h.requestid,
                        "key_prefix": h.key_prefix,
                        "changes": h.changes,
                    }
                    for h in history
                ],
            }
        },
        "requestid": call.requestid,
    }
