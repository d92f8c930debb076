"""type=contact activities over /apiv2."""

from __future__ import annotations

from typing import Any

from cee.domain.contacts import ContactRecord, normalise_contact, primary_key_value
from cee.domain.journal import JournalEntry
from cee.domain.outcomes import merge_outcomes, result_word
from cee.domain.parameters import parse_data, parse_key_data, validate_all
from cee.domain.writes import ContactOp, absent_contact
from cee.web.apiv2.call import Answer, ApiCall
from cee.web.errors import record_entry


async def write(call: ApiCall, op: ContactOp) -> Answer:
    """Validate and write `data` now: the sync activities (addsync, updatesync)."""
    raw, single = parse_data(call.params, call.engine.settings.max_records)
    listid = call.listid()
    store = call.engine.store
    schema = call.engine.catalog.schema(call.account_id)
    if single:
        record = normalise_contact(raw[0], schema)
        [outcome] = await store.write_contacts(call.context(), op, [record], listid)
        if outcome is not None:
            raise outcome
        return 200, {"requestid": call.requestid, "result": "Success"}
    checked = validate_all(raw, schema)
    valid = [r for r in checked if isinstance(r, ContactRecord)]
    written = await store.write_contacts(call.context(), op, valid, listid) if valid else []
    outcomes = merge_outcomes(checked, written)
    return 200, {
        "requestid": call.requestid,
        "result": result_word(outcomes),
        "records": [record_entry(i, o) for i, o in enumerate(outcomes)],
    }


async def addsync(call: ApiCall) -> Answer:
    return await write(call, ContactOp.CREATE)


# Parameters the journal keeps of an async `add` or `update`: only those the worker reads.
# Anything else a client sends is dropped, so a key sent under another name (`APIKEY=`,
# `api_key=`) or any other secret never reaches the database or its WAL.
JOURNALED = ("data", "listid")


def journal_payload(params: dict[str, Any]) -> dict[str, Any]:
    return {name: params[name] for name in JOURNALED if name in params}


async def journaled(call: ApiCall) -> Answer:
    """Journal the request durably and answer; the worker applies it later, in arrival order.

    `add` (upsert) and `update` (merge into an existing contact): only the key and API Mode are
    judged now; what becomes of each record is told by `type=request&activity=status`.
    """
    gate = call.engine.journal
    gate.admit()
    payload = journal_payload(call.params)
    await call.engine.store.journal_append(journal_entry(call, call.activity, payload))
    gate.appended()
    return 200, {"requestid": call.requestid, "result": "Success"}


def journal_entry(call: ApiCall, activity: str, payload: dict[str, Any]) -> JournalEntry:
    p = call.principal
    return JournalEntry(0, call.requestid, p.account_id, p.user_id, p.key_prefix, activity, payload)


async def updatesync(call: ApiCall) -> Answer:
    """(ext) The merge of `update`, applied before the answer: 404 if the contact is absent.

    Not ordered with the account's queued async work: an `add` still in the journal is not
    seen, which is why `update` itself is journaled.
    """
    return await write(call, ContactOp.UPDATE)


def contact_key(call: ApiCall) -> tuple[str, str]:
    """(match key, value as given) of the contact `data` names, bare or as a JSON object."""
    schema = call.engine.catalog.schema(call.account_id)
    return primary_key_value(parse_key_data(call.params), schema)


async def delete(call: ApiCall) -> Answer:
    """Remove the contact from list `listid`; the contact itself stays."""
    listid = call.listid(required=True)
    assert listid is not None
    key, _ = contact_key(call)
    await call.engine.store.remove_from_list(call.context(), key, listid)
    return 200, {"requestid": call.requestid, "result": "Success"}


async def view(call: ApiCall) -> Answer:
    key, display = contact_key(call)
    found = await call.engine.store.get_contact(call.account_id, key)
    if found is None:
        raise absent_contact(display)
    return 200, {
        "status": "success",
        "result": {
            "primary_key": found.primary_key,
            "attributes": found.attributes,
            "lists": found.lists,
            "blacklisted": {"email": found.email_blacklisted},
            "created_at": found.created_at,
            "updated_at": found.updated_at,
        },
        "requestid": call.requestid,
    }


async def blacklist(call: ApiCall) -> Answer:
    """Block the email channel; an unknown contact is created with just its primary key."""
    key, display = contact_key(call)
    pk = call.engine.catalog.schema(call.account_id).primary_key
    record = ContactRecord(key=key, key_display=display, attributes={pk: display})
    await call.engine.store.set_blacklisted(call.context(), record, True)
    return 200, {"requestid": call.requestid, "result": "Success"}


async def unblacklist(call: ApiCall) -> Answer:
    """Unblock the email channel; an unknown contact is a 404 (nothing to unblock)."""
    key, display = contact_key(call)
    store = call.engine.store
    if await store.get_contact(call.account_id, key) is None:
        raise absent_contact(display)
    pk = call.engine.catalog.schema(call.account_id).primary_key
    record = ContactRecord(key=key, key_display=display, attributes={pk: display})
    await store.set_blacklisted(call.context(), record, False)
    return 200, {"requestid": call.requestid, "result": "Success"}
