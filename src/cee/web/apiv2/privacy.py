"""The privacy activities Netcore documents: erase a contact, export what is kept about one.

`type=erasure_user_data&activity=request_erasure_data` and
`type=export_data&activity=get_user_summary_data` (CONTRACT.md section 5). The export's
`activity_data` is the contact's change history: what changed, when, by which key and request.
"""

from __future__ import annotations

from datetime import timedelta

from cee.domain.contacts import primary_key_value
from cee.domain.errors import BadParameter
from cee.domain.exports import export_data, parse_day, primary_key_given, stamp
from cee.domain.writes import absent_contact
from cee.web.apiv2.call import Answer, ApiCall


async def request_erasure_data(call: ApiCall) -> Answer:
    """Erase the contact, its memberships, its history and its rejected bulk-upload rows.

    Idempotent: erasing a contact that is not (or no longer) there also answers Success, so a
    client that retries after a lost answer is not told its erasure failed.
    """
    schema = call.engine.catalog.schema(call.account_id)
    key, _ = primary_key_value(call.text("primary_key"), schema)
    await call.engine.store.erase_contact(call.context(), key)
    # Rows of bulk uploads that were rejected keep their fields for the reject file: the
    # contact's among them go too.
    await call.engine.store.bulk_forget(call.account_id, key)
    return 200, {"requestid": call.requestid, "result": "Success"}


async def get_user_summary_data(call: ApiCall) -> Answer:
    """The contact's attributes and its history between from_date and to_date (inclusive)."""
    data = export_data(call.params)
    given = primary_key_given(data)
    since, until = parse_day(data, "from_date"), parse_day(data, "to_date")
    if since and until and until < since:
        raise BadParameter("data: to_date is before from_date")
    schema = call.engine.catalog.schema(call.account_id)
    key, display = primary_key_value(given, schema)
    store = call.engine.store
    found = await store.get_contact(call.account_id, key)
    if found is None:
        raise absent_contact(display, "primary_key")
    history = await store.history(
        call.account_id,
        key,
        since=stamp(since),
        until=stamp(until + timedelta(days=1) if until else None),
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
