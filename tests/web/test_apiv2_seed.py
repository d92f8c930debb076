"""The seed page's own request, end to end against a real server."""

from __future__ import annotations

import re
from urllib.parse import quote

import orjson

from tests.conftest import Server


def seed_query(key: str, email: str, listid: int) -> str:
    data = {"FIRST_NAME": "Mike", "EMAIL": email, "MOBILE": 9999999999, "CUSTOMER_ID": "00000132"}
    encoded = quote(orjson.dumps(data).decode(), safe="")
    return f"type=contact&activity=addsync&apikey={key}&data={encoded}&listid={listid}"


def test_seed_request_then_duplicate(server: Server) -> None:
    listid = server.api(query={"type": "lists", "activity": "create", "listname": "Seed"}).json()[
        "result"
    ]["listid"]
    url = f"{server.base}/apiv2?{seed_query(server.api_key, 'mike@google.com', listid)}"
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    import httpx

    first = httpx.post(url, headers=headers, content=b"")
    assert first.status_code == 200
    body = first.json()
    assert set(body) == {"requestid", "result"}
    assert body["result"] == "Success"
    assert re.fullmatch(r"[0-9a-f]{32}", body["requestid"])
    assert first.headers["x-request-id"] == body["requestid"]

    again = httpx.post(url, headers=headers, content=b"", follow_redirects=False)
    assert again.status_code == 302
    assert "location" not in again.headers
    dup = again.json()
    assert dup["status"] == "error"
    assert dup["error_code"] == 302
    assert dup["details"] == "Duplicate entry 'mike@google.com' for key 'uniqid'"

    # The same contact in another case is the same contact.
    upper = f"{server.base}/apiv2?{seed_query(server.api_key, 'MIKE@google.com', listid)}"
    assert httpx.post(upper, headers=headers, content=b"").status_code == 302

    lists = server.api(query={"type": "lists", "activity": "getalllist"}).json()["result"]
    assert lists == [{"listid": listid, "listname": "Seed", "count": 1}]
