"""type=request over /apiv2 (ext): what became of an async request and each of its records."""

from __future__ import annotations

from cee.domain.errors import NotFound
from cee.web.apiv2 import bulk
from cee.web.apiv2.call import Answer, ApiCall
from cee.web.errors import wire_record


async def status(call: ApiCall) -> Answer:
    """State of an async request of the caller's account; `result` and `records` once done."""
    wanted = call.text("requestid", limit=64).lower()
    found = await call.engine.store.journal_status(call.account_id, wanted)
    if found is None:
        job = await call.engine.store.bulk_job(call.account_id, wanted)
        if job is not None:
            return await bulk.status_of(call, job)
        # Another account's requestid is as unknown as one never issued: no existence leak.
        raise NotFound(f"requestid: no async request '{wanted}' in this account")
    records = None if found.records is None else [wire_record(r) for r in found.records]
    return 200, {
        "status": "success",
        "result": {
            "requestid": found.requestid,
            "state": found.state,
            "result": found.result,
            "records": records,
        },
        "requestid": call.requestid,
    }
