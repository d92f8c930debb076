"""The request parameters every contact write path reads: `data` and `listid`.

Shared by the sync activities (which read them while the caller waits) and the async worker
(which reads them from the journal later), so that `add` judges a record exactly as `addsync`
does. Pure: no HTTP, no SQL.
"""

from __future__ import annotations

from typing import Any

import orjson

from cee.domain.contacts import ContactRecord, Schema, normalise_contact
from cee.domain.errors import BadParameter, CeeError, InvalidContact, TooLarge
from cee.domain.writes import missing_list


def json_value(name: str, raw: Any) -> Any:
    """A parameter that holds JSON: parsed when given as a string (form bodies, the query),
    as is when a JSON body already gave it structured."""
    if not isinstance(raw, str):
        return raw
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadParameter(f"{name}: not valid JSON ({exc})") from None


def parse_data(params: dict[str, Any], max_records: int) -> tuple[list[Any], bool]:
    """`data` as a list of raw contacts, and whether it was a single object."""
    raw = params.get("data")
    if raw is None:
        raise BadParameter("data: missing (a JSON object of contact attributes)")
    if isinstance(raw, str) and not raw.strip():
        raise BadParameter("data: empty (a JSON object of contact attributes)")
    value = json_value("data", raw)
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


def validate_all(raw: list[Any], schema: Schema) -> list[ContactRecord | CeeError]:
    """Each raw contact as a record, or the InvalidContact that says why it is not one."""
    checked: list[ContactRecord | CeeError] = []
    for item in raw:
        try:
            checked.append(normalise_contact(item, schema))
        except InvalidContact as exc:
            checked.append(exc)
    return checked


def parse_listid(value: Any, *, required: bool = False) -> int | None:
    """`listid` as an integer; absent or empty is None (or BadParameter if required)."""
    if value is None or value == "":
        if required:
            raise BadParameter("listid: missing (the list to act on)")
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise BadParameter("listid: expected an integer")
    text = str(value).strip()
    negative = text.startswith("-")
    digits = text[1:] if negative else text
    if not digits.isascii() or not digits.isdigit():
        raise BadParameter(f"listid: expected an integer, got '{_clip(text)}'")
    # Every list id is below 2**63 (19 digits): a longer one names no list, and is refused by
    # its length before int(), which raises past 4,300 digits and is slow well before that.
    significant = digits.lstrip("0") or "0"
    if len(significant) > _LISTID_DIGITS_MAX:
        raise missing_list(_clip(text))
    number = -int(significant) if negative else int(significant)
    if not 0 < number < 2**63:
        raise missing_list(number)
    return number


_LISTID_DIGITS_MAX = 19


def _clip(text: str, limit: int = 32) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def parse_key_data(params: dict[str, Any]) -> Any:
    """`data` naming one contact: a bare primary-key value or a JSON object holding it.

    Netcore's pages show both (`data=mike@example.com` and `data={"EMAIL": "..."}`). Text that
    opens with `{` must be a JSON object; a JSON string is unquoted; anything else is the bare
    value as sent, so `00000132` keeps its zeros. `cee.domain.contacts.primary_key_value`
    then reads the key from what this returns.
    """
    raw = params.get("data")
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise BadParameter("data: missing (the primary-key value of a contact)")
    if not isinstance(raw, str):
        return raw
    text = raw.strip()
    if text.startswith(("{", '"')):
        try:
            value = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            raise BadParameter(f"data: not valid JSON ({exc})") from None
        if not isinstance(value, (dict, str)):
            raise BadParameter("data: expected a primary-key value or a JSON object holding it")
        return value
    return text


def parse_flag(value: Any) -> bool:
    """A yes/no parameter such as `async`: 1, true, yes or on (any case) mean yes."""
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    return str(value).strip().lower() in ("1", "true", "yes", "on")
