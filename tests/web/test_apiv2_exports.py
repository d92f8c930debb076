"""type=export_data: get_user_activity_data and get_user_channel_activity_data over real HTTP.

Sent as Netcore's own curl example sends them (a `data=...` form body labelled
`application/json`), answered in Netcore's shape, limited to seven days.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest

from tests.conftest import Server, unique_email
from tests.ingest.util import call
from tests.web.util import HEX32, addsync, assert_error, assert_success

NOW = datetime.now(UTC)
# A range around now, so a test that runs across midnight UTC still finds today's changes.
YESTERDAY = (NOW - timedelta(days=1)).strftime("%d%m%Y")
TOMORROW = (NOW + timedelta(days=1)).strftime("%d%m%Y")
ACTIVITY_KEYS = {
    "activity_data",
    "total_count",
    "primary_key",
    "from_date",
    "to_date",
    "batch_size",
    "batch_number",
}


def export(server: Server, activity: str, data: Any) -> httpx.Response:
    """POST as Netcore's curl does: `--header 'Content-Type: application/json'` and
    `--data 'data={...}'`, the JSON unescaped in a form body."""
    text = data if isinstance(data, str) else orjson.dumps(data).decode()
    return httpx.post(
        server.base + "/apiv2",
        params={"type": "export_data", "activity": activity, "apikey": server.api_key},
        content=b"data=" + text.encode(),
        headers={"Content-Type": "application/json"},
        timeout=30,
    )


def contact(server: Server, activity: str, data: Any) -> None:
    body = {"data": data if isinstance(data, str) else orjson.dumps(data).decode()}
    assert_success(call(server, {"type": "contact", "activity": activity}, body))


@pytest.fixture(scope="module")
def active(shared_server: Server) -> str:
    """A contact with six changes: created, updated three times, blacklisted, unblacklisted."""
    email = unique_email("exp")
    assert_success(addsync(shared_server, {"EMAIL": email, "NAME": "n0"}))
    for i in range(1, 4):
        contact(shared_server, "updatesync", {"EMAIL": email, "NAME": f"n{i}"})
    contact(shared_server, "blacklist", email)
    contact(shared_server, "unblacklist", email)
    return email


def fetched(resp: httpx.Response) -> dict[str, Any]:
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    assert set(body) == {"status", "result", "details", "requestid"}
    assert body["status"] == "success" and body["details"] == "Data fetched successfully."
    assert HEX32.fullmatch(body["requestid"])
    return body["result"]  # type: ignore[no-any-return]


def test_activity_data_in_netcores_shape(shared_server: Server, active: str) -> None:
    data = {"primary_key": active, "from_date": YESTERDAY, "to_date": TOMORROW}
    result = fetched(export(shared_server, "get_user_activity_data", data))
    assert set(result) == ACTIVITY_KEYS
    assert result["total_count"] == 6
    assert (result["primary_key"], result["from_date"], result["to_date"]) == (
        active,
        YESTERDAY,
        TOMORROW,
    )
    assert (result["batch_size"], result["batch_number"]) == (100, 1)
    entries = result["activity_data"]
    assert [e["event_type"] for e in entries] == [
        "addsync",
        "updatesync",
        "updatesync",
        "updatesync",
        "blacklist",
        "unblacklist",
    ]
    assert entries[0]["changes"] == {"EMAIL": [None, active], "NAME": [None, "n0"]}
    assert entries[2]["changes"] == {"NAME": ["n1", "n2"]}
    for entry in entries:
        assert set(entry) == {
            "event_type",
            "activity_date_time",
            "requestid",
            "key_prefix",
            "changes",
        }
        assert datetime.fromisoformat(entry["activity_date_time"]) <= datetime.now(UTC)
    times = [e["activity_date_time"] for e in entries]
    assert times == sorted(times)


def test_activity_data_in_batches_and_by_activity(shared_server: Server, active: str) -> None:
    days = {"primary_key": active, "from_date": YESTERDAY, "to_date": TOMORROW}
    second = fetched(
        export(shared_server, "get_user_activity_data", {**days, "batchsize": 2, "batch_number": 2})
    )
    assert second["total_count"] == 6 and (second["batch_size"], second["batch_number"]) == (2, 2)
    assert [e["changes"]["NAME"][1] for e in second["activity_data"]] == ["n2", "n3"]
    # Netcore's v1 spellings (batch_size, activity_id), numbers as strings.
    past = fetched(
        export(
            shared_server,
            "get_user_activity_data",
            {**days, "batch_size": "4", "batch_number": "3"},
        )
    )
    assert past["activity_data"] == [] and past["total_count"] == 6
    only = fetched(
        export(shared_server, "get_user_activity_data", {**days, "activity_id": "updatesync"})
    )
    assert only["total_count"] == 3
    assert {e["event_type"] for e in only["activity_data"]} == {"updatesync"}


def test_no_activity_in_the_range_is_an_empty_list(shared_server: Server, active: str) -> None:
    later = NOW + timedelta(days=2)
    data = {
        "primary_key": active,
        "from_date": later.strftime("%d%m%Y"),
        "to_date": (later + timedelta(days=7)).strftime("%d%m%Y"),  # 7 days apart: allowed
    }
    result = fetched(export(shared_server, "get_user_activity_data", data))
    assert result["activity_data"] == [] and result["total_count"] == 0
    channel = fetched(
        export(shared_server, "get_user_channel_activity_data", {**data, "channel": "email"})
    )
    assert channel["channel_activity"] == []


def test_channel_activity_reports_that_channels_blacklist_changes(
    shared_server: Server, active: str
) -> None:
    data = {"primary_key": active, "channel": "email", "from_date": YESTERDAY, "to_date": TOMORROW}
    result = fetched(export(shared_server, "get_user_channel_activity_data", data))
    assert set(result) == {"channel_activity", "from_date", "to_date", "channel"}
    assert (result["channel"], result["from_date"], result["to_date"]) == (
        "email",
        YESTERDAY,
        TOMORROW,
    )
    entries = result["channel_activity"]
    assert [(e["activity"], e["event_type"]) for e in entries] == [
        ("blacklisted", "blacklist"),
        ("unblacklisted", "unblacklist"),
    ]
    assert all(
        set(e) == {"activity", "activity_date", "event_type", "requestid", "key_prefix"}
        for e in entries
    )
    # CEE keeps no SMS blacklist: nothing to report for that channel.
    sms = fetched(
        export(shared_server, "get_user_channel_activity_data", {**data, "channel": "SMS"})
    )
    assert sms["channel"] == "sms" and sms["channel_activity"] == []


BAD = [
    ("{broken", 400, "data"),
    ({"from_date": YESTERDAY, "to_date": TOMORROW}, 400, "primary_key"),
    ({"primary_key": "x@example.com", "to_date": TOMORROW}, 400, "from_date"),
    ({"primary_key": "x@example.com", "from_date": YESTERDAY}, 400, "to_date"),
    (
        {"primary_key": "x@example.com", "from_date": "2024-01-01", "to_date": "02012024"},
        400,
        "from_date",
    ),
    (
        {"primary_key": "x@example.com", "from_date": "01012024", "to_date": "32012024"},
        400,
        "to_date",
    ),
    (
        {"primary_key": "x@example.com", "from_date": "09012024", "to_date": "01012024"},
        400,
        "to_date",
    ),
    (
        {"primary_key": "x@example.com", "from_date": "01012024", "to_date": "09012024"},
        400,
        "7 days",
    ),
    (
        {"primary_key": "nobody-here@example.com", "from_date": YESTERDAY, "to_date": TOMORROW},
        404,
        "nobody-here@example.com",
    ),
    ({"primary_key": "not-an-email", "from_date": YESTERDAY, "to_date": TOMORROW}, 422, "EMAIL"),
]


@pytest.mark.parametrize(("data", "code", "word"), BAD)
def test_activity_data_errors(shared_server: Server, data: Any, code: int, word: str) -> None:
    assert_error(export(shared_server, "get_user_activity_data", data), code, word)


@pytest.mark.parametrize(
    ("extra", "word"),
    [
        ({"batchsize": 0}, "batchsize"),
        ({"batchsize": "ten"}, "batchsize"),
        ({"batchsize": 1001}, "batchsize"),
        ({"batch_number": 0}, "batch_number"),
    ],
)
def test_activity_data_batch_errors(
    shared_server: Server, active: str, extra: Any, word: str
) -> None:
    data = {"primary_key": active, "from_date": YESTERDAY, "to_date": TOMORROW, **extra}
    assert_error(export(shared_server, "get_user_activity_data", data), 400, word)


@pytest.mark.parametrize(("data", "code", "word"), BAD)
def test_channel_activity_errors(shared_server: Server, data: Any, code: int, word: str) -> None:
    if isinstance(data, dict):
        data = {**data, "channel": "email"}
    assert_error(export(shared_server, "get_user_channel_activity_data", data), code, word)


@pytest.mark.parametrize("channel", [None, "", "fax"])
def test_channel_must_be_email_or_sms(shared_server: Server, active: str, channel: Any) -> None:
    data = {"primary_key": active, "from_date": YESTERDAY, "to_date": TOMORROW, "channel": channel}
    assert_error(export(shared_server, "get_user_channel_activity_data", data), 400, "channel")
