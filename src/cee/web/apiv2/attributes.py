"""type=attributes activities over /apiv2 (ext: Netcore defines attributes only in its panel)."""

from __future__ import annotations

from cee.domain.attributes import normalise_name, parse_datatype
from cee.web.apiv2.call import Answer, ApiCall


async def create(call: ApiCall) -> Answer:
    name = normalise_name(call.text("name", limit=64))
    datatype = parse_datatype(call.text("datatype", limit=32))
    await call.engine.store.create_attribute(call.account_id, name, datatype)
    return 200, {
        "status": "success",
        "details": f"Attribute {name} created",
        "result": {"name": name, "datatype": datatype.value},
        "requestid": call.requestid,
    }


async def getall(call: ApiCall) -> Answer:
    rows = await call.engine.store.attributes(call.account_id)
    return 200, {
        "status": "success",
        "details": f"{len(rows)} attributes",
        "result": [
            {"name": a.name, "datatype": a.datatype.value, "builtin": a.builtin} for a in rows
        ],
        "requestid": call.requestid,
    }
