"""What the privacy exports ask for: a contact, a range of days, and (for the activity exports) a
batch and a filter. Pure: no HTTP, no SQL.

Netcore documents `get_user_summary_data`, `get_user_activity_data` and
`get_user_channel_activity_data` with `data` a JSON object of `primary_key`, `from_date` and
`to_date` as DDMMYYYY (UTC days, both included). The two activity exports are limited to seven
days, as Netcore limits them, and page through the activity with `batchsize` and `batch_number`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cee.domain.errors import BadParameter
from cee.domain.parameters import json_value

# Netcore's limit on the activity exports' range: to_date at most this many days after from_date.
MAX_RANGE_DAYS = 7
DEFAULT_BATCH_SIZE = 100
MAX_BATCH_SIZE = 1000
# The channels Netcore names, and the key under which CEE's history records a blacklist change
# of each. CEE keeps no SMS blacklist, so an SMS export has nothing to report (an empty list).
CHANNEL_CHANGES: dict[str, str | None] = {"email": "_blacklisted", "sms": None}

# Netcore's own pages spell some names two ways (v1 `activity_id`, `batch_size`; v2 `activityid`,
# `batchsize`; `fromdate`, `todate`): clients copy either, and both mean the same.
_ALIASES = {
    "from_date": ("from_date", "fromdate"),
    "to_date": ("to_date", "todate"),
    "activityid": ("activityid", "activity_id"),
    "batchsize": ("batchsize", "batch_size"),
    "batch_number": ("batch_number", "batchnumber"),
}


def export_data(params: dict[str, Any]) -> dict[str, Any]:
    """`data` of an export: a JSON object (a string in a form, structured in a JSON body)."""
    data = json_value("data", params.get("data"))
    if not isinstance(data, dict):
        raise BadParameter('data: expected a JSON object {"primary_key": ..., "from_date": ...}')
    return data


def given(data: dict[str, Any], name: str) -> Any:
    """The value of `name` in `data` under any of its spellings; None when absent or empty."""
    for spelling in _ALIASES.get(name, (name,)):
        value = data.get(spelling)
        if value is not None and value != "":
            return value
    return None


def parse_day(data: dict[str, Any], name: str) -> datetime | None:
    """`from_date`/`to_date` as the start of that UTC day; None when absent."""
    value = given(data, name)
    if value is None:
        return None
    try:
        return datetime.strptime(str(value).strip(), "%d%m%Y").replace(tzinfo=UTC)
    except ValueError:
        raise BadParameter(f"data: {name} '{str(value)[:32]}' is not a date as DDMMYYYY") from None


def stamp(moment: datetime | None) -> str | None:
    """A bound as the stores compare it: ISO-8601 UTC text, which sorts as time does."""
    return None if moment is None else moment.isoformat(timespec="microseconds")


@dataclass(frozen=True, slots=True)
class DayRange:
    """The days an activity export covers, as given and as the stores' bounds [since, until)."""

    from_date: str
    to_date: str
    since: str
    until: str


def seven_days(data: dict[str, Any]) -> DayRange:
    """Both dates required, to_date not before from_date and at most seven days after it."""
    since, until = parse_day(data, "from_date"), parse_day(data, "to_date")
    if since is None:
        raise BadParameter("data: from_date missing (DDMMYYYY)")
    if until is None:
        raise BadParameter("data: to_date missing (DDMMYYYY)")
    if until < since:
        raise BadParameter("data: to_date is before from_date")
    if until - since > timedelta(days=MAX_RANGE_DAYS):
        raise BadParameter(
            f"data: to_date is more than {MAX_RANGE_DAYS} days after from_date "
            f"(the activity exports cover at most {MAX_RANGE_DAYS} days)"
        )
    return DayRange(
        from_date=str(given(data, "from_date")).strip(),
        to_date=str(given(data, "to_date")).strip(),
        since=since.isoformat(timespec="microseconds"),
        until=(until + timedelta(days=1)).isoformat(timespec="microseconds"),
    )


def _count(data: dict[str, Any], name: str, default: int, limit: int) -> int:
    value = given(data, name)
    if value is None:
        return default
    text = str(value).strip()
    if isinstance(value, bool) or not text.isascii() or not text.isdigit():
        raise BadParameter(f"data: {name} '{text[:32]}' is not a whole number")
    if len(text.lstrip("0")) > len(str(limit)):
        # Out of range by its length alone: int() would raise past 4,300 digits (a 500).
        shown = text if len(text) <= 32 else text[:32] + "…"
        raise BadParameter(f"data: {name} {shown} is not between 1 and {limit}")
    number = int(text)
    if not 1 <= number <= limit:
        raise BadParameter(f"data: {name} {number} is not between 1 and {limit}")
    return number


@dataclass(frozen=True, slots=True)
class ActivityQuery:
    """One batch of a contact's activity in a range, optionally of one kind of activity."""

    primary_key: Any
    days: DayRange
    activity: str | None  # `activityid`: a CEE activity name (addsync, update, ...)
    batch_size: int
    batch_number: int  # from 1

    @property
    def offset(self) -> int:
        return (self.batch_number - 1) * self.batch_size


def primary_key_given(data: dict[str, Any]) -> Any:
    value = data.get("primary_key")
    if value is None or value == "":
        raise BadParameter("data: primary_key missing")
    return value


def batch(data: dict[str, Any], default_size: int) -> tuple[int, int]:
    """(batch size, batch number from 1) of `batchsize` and `batch_number`."""
    size = _count(data, "batchsize", default_size, MAX_BATCH_SIZE)
    # No bound of its own beyond 32 bits: a batch past the end is simply empty.
    return size, _count(data, "batch_number", 1, 2**31)


def activity_query(data: dict[str, Any]) -> ActivityQuery:
    """`get_user_activity_data`'s `data`, checked; BadParameter names the field at fault."""
    key = primary_key_given(data)
    days = seven_days(data)
    activity = given(data, "activityid")
    size, number = batch(data, DEFAULT_BATCH_SIZE)
    return ActivityQuery(
        primary_key=key,
        days=days,
        activity=None if activity is None else str(activity).strip().lower(),
        batch_size=size,
        batch_number=number,
    )


def channel_of(data: dict[str, Any]) -> str:
    """`get_user_channel_activity_data`'s `channel`: email or sms (any case)."""
    value = data.get("channel")
    names = ", ".join(CHANNEL_CHANGES)
    if value is None or value == "":
        raise BadParameter(f"data: channel missing (one of {names})")
    channel = str(value).strip().lower()
    if channel not in CHANNEL_CHANGES:
        raise BadParameter(f"data: channel '{str(value)[:32]}' is not one of {names}")
    return channel
