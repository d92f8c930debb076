"""type=lists activities over /apiv2 (Netcore spells the type in the plural)."""

from __future__ import annotations

from cee.domain.errors import NotFound
from cee.domain.parameters import parse_flag
from cee.web.apiv2.call import Answer, ApiCall
from cee.web.apiv2.contacts import journal_entry


async def create(call: ApiCall) -> Answer:
    name = call.text("listname")
    listid = await call.engine.store.create_list(call.account_id, name)
    return 200, {
        "status": "success",
        "details": f"List {name} created",
        "result": {"listid": listid, "listname": name},
        "requestid": call.requestid,
    }


async def getalllist(call: ApiCall) -> Answer:
    rows = await call.engine.store.lists(call.account_id)
    return 200, {
        "status": "success",
        "details": f"{len(rows)} lists",
        "result": [{"listid": r.id, "listname": r.name, "count": r.members} for r in rows],
        "requestid": call.requestid,
    }


async def emptylist(call: ApiCall) -> Answer:
    """Remove every member of `listname`; with `async=1` answer at once, work via the journal."""
    name = call.text("listname")
    store = call.engine.store
    found = await store.find_list(call.account_id, name)
    if found is None:
        raise NotFound(f"listname: no list '{name}' in this account")
    if parse_flag(call.params.get("async")):
        # Journaled, not a bare task: accepted work must survive a crash right after the answer.
        call.engine.journal.admit()
        payload = {"listid": found.id, "listname": name}
        await store.journal_append(journal_entry(call, "emptylist", payload))
        call.engine.journal.appended()
        # Not "emptied": nothing is done yet. Netcore's own words for accepted async work.
        details = "Your request was accepted successfully"
    else:
        await store.empty_list(call.context(), found.id)
        details = f"List name {name} emptied successfully"
    return 200, {"status": "success", "details": details, "requestid": call.requestid}
