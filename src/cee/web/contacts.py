"""type=contact activities over /apiv2."""

from __future__ import annotations

from typing import Any

import orjson

from cee.domain.contacts import ContactRecord, normalise_contact
from cee.domain.errors import BadParameter, CeeError, InvalidContact, TooLarge
from cee.domain.outcomes import Outcome, result_word
from cee.storage.base import ContactOp
from cee.web.call import Answer, ApiCall
from cee.web.errors import record_entry


def parse_data(params: dict[str, Any], max_records: int) -> tuple[list[Any], bool]:
    """`data` as a list of raw contacts, and whether it was a single object."""
    raw = params.get("data")
    if raw is None:
        raise BadParameter("data: missing (a JSON object of contact attributes)")
    value: Any = raw
    if isinstance(raw, str):
        if not raw.strip():
            raise BadParameter("data: empty (a JSON object of contact attributes)")
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise BadParameter(f"data: not valid JSON ({exc})") from None
    if isinstance(value, dict):
        return [value], True
    if isinstance(value, list):
        if not value:
            raise BadParameter("data: an empty array holds no contact")
        if len(value) > max_records:
            raise TooLarge(
                f"data: {len(value)} contacts in one request; the limit is {max_records}"
            )
        return value, False
    kind = "a string" if isinstance(value, str) else f"{orjson.dumps(value).decode()[:32]}"
    raise BadParameter(f"data: expected a JSON object or an array of objects, got {kind}")


def validate_all(raw: list[Any], call: ApiCall) -> list[ContactRecord | CeeError]:
    schema = call.engine.catalog.schema(call.account_id)
    checked: list[ContactRecord | CeeError] = []
    for item in raw:
        try:
            checked.append(normalise_contact(item, schema))
        except InvalidContact as exc:
            checked.append(exc)
    return checked


async def write(call: ApiCall, op: ContactOp) -> Answer:
    """Validate and write `data` now: the sync activities (addsync, update)."""
    raw, single = parse_data(call.params, call.engine.settings.max_records)
    listid = call.listid()
    store = call.engine.store
    if single:
        record = normalise_contact(raw[0], call.engine.catalog.schema(call.account_id))
        [outcome] = await store.write_contacts(call.context(), op, [record], listid)
        if outcome is not None:
            raise outcome
        return 200, {"requestid": call.requestid, "result": "Success"}
    checked = validate_all(raw, call)
    valid = [r for r in checked if isinstance(r, ContactRecord)]
    written = iter(await store.write_contacts(call.context(), op, valid, listid) if valid else [])
    outcomes: list[Outcome] = [r if isinstance(r, CeeError) else next(written) for r in checked]
    return 200, {
        "requestid": call.requestid,
        "result": result_word(outcomes),
        "records": [record_entry(i, o) for i, o in enumerate(outcomes)],
    }


async def addsync(call: ApiCall) -> Answer:
    return await write(call, ContactOp.CREATE)
