"""The JSON v3 endpoints against a real server: batchadd (journaled like add) and blacklist,
with every error row of the contract in the same envelope as /apiv2."""

from __future__ import annotations

import time
from typing import Any

import httpx

from tests.conftest import Server


def post(server: Server, path: str, body: Any, **headers: str) -> httpx.Response:
    content = body if isinstance(body, bytes) else httpx.Request("POST", "/", json=body).content
    return httpx.post(
        server.base + path,
        content=content,
        headers={"api-key": server.api_key, "content-type": "application/json", **headers},
        timeout=30,
    )


def request_status(server: Server, requestid: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        answer = server.api(query={"type": "request", "activity": "status", "requestid": requestid})
        found: dict[str, Any] = answer.json()["result"]
        if found["state"] == "done" or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def assert_error(answer: httpx.Response, code: int, starts: str) -> None:
    assert answer.status_code == code, answer.text
    body = answer.json()
    assert body["status"] == "error" and body["error_code"] == code
    assert body["details"].startswith(starts), body
    assert answer.headers["x-request-id"] == body["requestid"]


def test_batchadd_is_applied_like_add_and_reports_every_error_row(server: Server) -> None:
    listid = server.api(query={"type": "lists", "activity": "create", "listname": "v3"}).json()[
        "result"
    ]["listid"]
    answer = post(
        server,
        "/v3/contact/batchadd",
        {
            "listid": listid,
            "primarykey": "email",
            "data": [
                {"EMAIL": "v3a@example.com", "NAME": "A"},
                {"email": "v3b@example.com", "city": "Pune"},
                {"EMAIL": "broken"},
            ],
        },
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["result"] == "Success" and len(body["requestid"]) == 32
    done = request_status(server, body["requestid"])
    assert done["result"] == "Partial"
    assert [r.get("result") or r["error_code"] for r in done["records"]] == [
        "Success",
        "Success",
        422,
    ]
    seen = server.api(query={"type": "contact", "activity": "view", "data": "v3b@example.com"})
    assert seen.json()["result"]["lists"] == [listid]

    too_many = [{"EMAIL": f"m{i}@example.com"} for i in range(1001)]
    wide = {f"A{i}": "x" for i in range(20)} | {"EMAIL": "wide@example.com"}
    assert_error(post(server, "/v3/contact/batchadd", {"data": []}, **{"api-key": "nope"}), 401, "")
    assert_error(post(server, "/v3/contact/batchadd", b"{not json"), 400, "body: not valid JSON")
    assert_error(post(server, "/v3/contact/batchadd", b"[1]"), 400, "body: expected a JSON object")
    assert_error(post(server, "/v3/contact/batchadd", {}), 400, "data: missing")
    assert_error(post(server, "/v3/contact/batchadd", {"data": {}}), 400, "data: expected")
    assert_error(post(server, "/v3/contact/batchadd", {"data": too_many}), 413, "data: 1001")
    assert_error(post(server, "/v3/contact/batchadd", {"data": [wide]}), 422, "data[0]: 21")
    assert_error(
        post(server, "/v3/contact/batchadd", {"primarykey": "mobile", "data": [{}]}),
        400,
        "primarykey: this account's primary key is EMAIL",
    )
    assert_error(
        post(server, "/v3/contact/batchadd", {"listid": "x", "data": [{}]}), 400, "listid:"
    )
    assert_error(
        post(
            server,
            "/v3/contact/batchadd",
            {"callbackurl": "http://169.254.169.254/", "data": [{"EMAIL": "c@example.com"}]},
        ),
        400,
        "callback: 169.254.169.254 is a cloud metadata address",
    )
    got = httpx.get(server.base + "/v3/contact/batchadd", timeout=10)
    assert_error(got, 405, "method: GET is not allowed on /v3/contact/batchadd")
    assert got.headers["allow"] == "POST"


def test_blacklist_blocks_the_email_channel_creating_unknown_contacts(server: Server) -> None:
    made = server.api(
        query={"type": "contact", "activity": "addsync", "data": '{"EMAIL":"known@example.com"}'}
    )
    assert made.status_code == 200
    answer = post(
        server,
        "/v3/contact/blacklist",
        {"data": ["known@example.com", "New@Example.com", "not-an-email"]},
        primarykey="EMAIL",
        channel="email",
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["result"] == "Partial"
    assert body["records"][2]["error_code"] == 422
    for key in ("known@example.com", "new@example.com"):
        seen = server.api(query={"type": "contact", "activity": "view", "data": key})
        assert seen.json()["result"]["blacklisted"] == {"email": True}, key

    assert_error(
        post(server, "/v3/contact/blacklist", {"data": ["a@example.com"]}, **{"api-key": ""}),
        401,
        "Invalid API key",
    )
    assert_error(post(server, "/v3/contact/blacklist", b"nope"), 400, "body: not valid JSON")
    assert_error(
        post(server, "/v3/contact/blacklist", {"data": ["a@example.com"]}, channel="sms"),
        400,
        "channel: 'sms'",
    )
    assert_error(
        post(server, "/v3/contact/blacklist", {"data": ["a@example.com"]}, primarykey="MOBILE"),
        400,
        "primarykey:",
    )
    assert_error(
        post(server, "/v3/contact/blacklist", {"data": [f"b{i}@x.com" for i in range(1001)]}),
        413,
        "data: 1001",
    )
