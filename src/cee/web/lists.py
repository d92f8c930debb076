"""type=lists activities over /apiv2 (Netcore spells the type in the plural)."""

from __future__ import annotations

from cee.web.call import Answer, ApiCall


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
