"""`type=contact&activity=bulkupload`, and what `type=request` shows of a bulk job.

bulkupload checks what it can while the caller waits (the key, `listid`, and `path` and
`callback` against the request-forgery guard) and stores the job; a worker imports it. The
request status of a bulk job reports progress and, once done, the counts and the rejected rows,
a page at a time; `activity=rejects` (ext) gives the rejected rows as a CSV file.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from cee.domain.attributes import Datatype, ValueRejected, convert
from cee.domain.errors import BadParameter, NotFound
from cee.domain.writes import missing_list
from cee.ingest.imports.guard import AllowList, Refused, check_url
from cee.storage.bulk import BulkJob, StoredReject
from cee.web.apiv2.call import Answer, ApiCall, RawBody
from cee.web.errors import ERROR_CODES, INTERNAL

URL_LIMIT = 2048
RECORDS_PER_PAGE = 500
REJECTS_PER_FILE = 100_000
# What a caller sees of the job's life: `notifying` (the outcome is fixed, the callback and
# mail are on their way) is already `done`.
WIRE_STATE = {"queued": "queued", "running": "running", "notifying": "done", "done": "done"}


async def _checked_url(call: ApiCall, name: str, allow: AllowList, *, required: bool) -> str:
    url = call.text(name, required=required, limit=URL_LIMIT)
    if url:
        try:
            await check_url(url, allow)
        except Refused as exc:
            raise BadParameter(f"{name}: {exc}") from None
    return url


async def bulkupload(call: ApiCall) -> Answer:
    engine = call.engine
    listid = call.listid()
    if listid is not None:
        owned = {row.id for row in await engine.store.lists(call.account_id)}
        if listid not in owned:
            raise missing_list(listid)
    allow = AllowList.parse(engine.settings.bulk_allow_hosts)
    path = await _checked_url(call, "path", allow, required=True)
    callback = await _checked_url(call, "callback", allow, required=False)
    notifyemail = call.text("notifyemail", required=False)
    if notifyemail:
        try:
            convert(Datatype.EMAIL, notifyemail)
        except ValueRejected as exc:
            raise BadParameter(f"notifyemail: {exc}") from None
    p = call.principal
    job = BulkJob(
        0,
        call.requestid,
        p.account_id,
        p.user_id,
        p.key_prefix,
        path,
        listid,
        callback or None,
        notifyemail or None,
    )
    await engine.store.bulk_create(job)
    return 200, {"requestid": call.requestid, "result": "Success"}


def _wire_reject(reject: StoredReject) -> dict[str, Any]:
    return {
        "index": reject.index,
        "line": reject.line,
        "status": "error",
        "error_code": ERROR_CODES.get(reject.error, INTERNAL),
        "details": reject.details,
    }


def _page(call: ApiCall) -> int:
    text = call.text("page", required=False, limit=12) or "1"
    if not text.isdigit() or int(text) < 1:
        raise BadParameter(f"page: expected a whole number from 1, got '{text}'")
    return int(text)


async def status_of(call: ApiCall, job: BulkJob) -> Answer:
    """The request status of a bulk job (type=request&activity=status)."""
    state = WIRE_STATE[job.state]
    total = job.succeeded + job.failed
    body: dict[str, Any] = {
        "requestid": job.requestid,
        "activity": "bulkupload",
        "state": state,
        "rows_done": job.rows_done,
        "bytes_done": job.bytes_done,
        "bytes_total": job.bytes_total,
        "result": None,
        "records": None,
    }
    if state == "done":
        page = _page(call)
        pages = max((job.failed + RECORDS_PER_PAGE - 1) // RECORDS_PER_PAGE, 1)
        offset = (page - 1) * RECORDS_PER_PAGE
        rejects = await call.engine.store.bulk_rejects(job.id, offset, RECORDS_PER_PAGE)
        body.update(
            result=job.result,
            total=total,
            succeeded=job.succeeded,
            failed=job.failed,
            records=[_wire_reject(r) for r in rejects],
            page=page,
            pages=pages,
        )
        if job.reason:
            body["reason"] = job.reason
    if job.callback:
        body["callback"] = job.notes.get("callback", {"url": job.callback, "attempts": []})
    if job.notifyemail:
        body["mail"] = job.notes.get("mail", {"to": job.notifyemail, "sent": False})
    return 200, {"status": "success", "result": body, "requestid": call.requestid}


async def rejects(call: ApiCall) -> Answer:
    """(ext) The rejected rows of a finished bulk job as CSV: index, line, error_code, details,
    then the row's fields as they were in the file. `page` for more than 100,000 of them."""
    wanted = call.text("requestid", limit=64).lower()
    job = await call.engine.store.bulk_job(call.account_id, wanted)
    if job is None:
        raise NotFound(f"requestid: no bulk upload '{wanted}' in this account")
    if WIRE_STATE[job.state] != "done":
        raise BadParameter(f"requestid: bulk upload '{wanted}' is still {job.state}")
    page = _page(call)
    found = await call.engine.store.bulk_rejects(
        job.id, (page - 1) * REJECTS_PER_FILE, REJECTS_PER_FILE
    )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["index", "line", "error_code", "details", "fields"])
    for r in found:
        writer.writerow([r.index, r.line, ERROR_CODES.get(r.error, INTERNAL), r.details, *r.fields])
    name = f"rejects-{job.requestid}-{page}.csv"
    return 200, RawBody(out.getvalue().encode(), "text/csv; charset=utf-8", name)
